"""Automatic number of clusters for counting data (the Poisson split rule)."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterspy.auto_k as auto_k
from clusterspy.auto_k import (
    cluster_is_new_phase,
    estimate_k_counts,
    estimate_k_features,
    split_counts,
)
from clusterspy.datasets import spectrum_image
from clusterspy.engines.lloyd import fit_kmeans
from clusterspy.exceptions import DoubtfulEstimateWarning

SHAPE, CHANNELS = (32, 32), 256


def _counts(n_phases, counts, seed):
    s, truth = spectrum_image(SHAPE, n_channels=CHANNELS, n_phases=n_phases,
                              counts=counts, random_state=seed, return_truth=True)
    return s.data.reshape(-1, CHANNELS), truth.ravel()


def _k(n_phases, counts, seed, **kwargs):
    X, truth = _counts(n_phases, counts, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoubtfulEstimateWarning)
        result = estimate_k_counts(X, max(n_phases, 2), max_clusters=6,
                                   metrics=False, random_state=seed, **kwargs)
    return result, truth


def test_right_k_where_phases_are_separable():
    # From 50 counts per pixel the phases of spectrum_image are told apart
    # pixel by pixel (k-means on all the counts at the true k: ARI > 0.9);
    # there k must be right in >= 90 % of the seeds.
    right, total = 0, 0
    for n_phases in (2, 3, 4, 5):
        for seed in range(3):
            result, truth = _k(n_phases, 50, seed)
            right += result.n_clusters == n_phases
            total += 1
            X, _ = _counts(n_phases, 50, seed)
            features = auto_k._poisson_features(X, n_phases, 0)
            labels = fit_kmeans(features, n_phases, n_init=3, random_state=0)[0]
            assert adjusted_rand_score(truth, labels) > 0.9
    assert right / total >= 0.9


@pytest.mark.parametrize("counts", [5, 10, 20])
def test_never_over_splits_at_low_counts(counts):
    for n_phases in (2, 3, 4, 5):
        result, _ = _k(n_phases, counts, 0)
        assert 1 <= result.n_clusters <= n_phases


def test_uniform_noise_answers_one():
    for seed in range(3):
        X, _ = _counts(1, 50, seed)
        with pytest.warns(DoubtfulEstimateWarning, match="k = 1 although the map has 2"):
            result = estimate_k_counts(X, 2, max_clusters=5, metrics=False,
                                       random_state=seed)
        assert result.n_clusters == 1
        assert result.tests[0]["k"] == 2 and not result.tests[0]["accepted"]


def test_still_splitting_at_max_clusters_warns():
    X, _ = _counts(5, 100, 0)
    with pytest.warns(DoubtfulEstimateWarning, match="still going on"):
        result = estimate_k_counts(X, 5, max_clusters=3, metrics=False)
    assert result.n_clusters == 3


def test_metrics_on_the_same_fits_and_disagreement_warns(monkeypatch):
    X, _ = _counts(3, 50, 0)
    result = estimate_k_counts(X, 3, max_clusters=5, n_references=3)
    assert result.n_clusters == 3
    assert set(result.curves) == {"worst_p", "log_w", "silhouette", "gap", "gap_s"}
    assert all(len(v) == 5 for v in result.curves.values())
    assert np.isnan(result.curves["silhouette"][0])
    # When the metrics answer otherwise, the answer is flagged.
    fake = ({"log_w": np.zeros(5)}, {"elbow": 2, "silhouette": 2, "gap": 5})
    monkeypatch.setattr(auto_k, "_metric_curves", lambda *a: fake)
    with pytest.warns(DoubtfulEstimateWarning, match="the metrics disagree with k = 3"):
        estimate_k_counts(X, 3, max_clusters=5)


def test_features_majority_and_fallback(monkeypatch):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.1, (100, 2)) for c in (0, 3, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DoubtfulEstimateWarning)
        result = estimate_k_features(X, max_clusters=6, n_references=3)
    assert (result.n_clusters, result.rule) == (3, "metrics-majority")
    fake = ({"log_w": np.zeros(6)}, {"elbow": 2, "silhouette": 4, "gap": 5})
    monkeypatch.setattr(auto_k, "_metric_curves", lambda *a: fake)
    with pytest.warns(DoubtfulEstimateWarning, match="no two metrics agree"):
        result = estimate_k_features(X, max_clusters=6)
    assert (result.n_clusters, result.rule) == (5, "metrics-majority (fall-back)")


def test_split_counts_are_independent_halves():
    x = np.random.default_rng(0).poisson(20.0, size=(2000, 2))
    a, b = split_counts(x, random_state=0)
    np.testing.assert_array_equal(a + b, x)
    assert abs(a.mean() - 10) < 0.3
    assert abs(np.corrcoef(a[:, 0], b[:, 0])[0, 1]) < 0.1


def test_mixture_and_identical_spectra_are_not_new_phases():
    rng = np.random.default_rng(1)
    shape_a = rng.uniform(1, 10, 64)
    shape_b = rng.uniform(1, 10, 64)
    a, b = rng.poisson(100 * shape_a), rng.poisson(100 * shape_b)
    assert not cluster_is_new_phase(rng.poisson(50 * shape_a), [a])[0]
    mix = rng.poisson(30 * shape_a + 70 * shape_b)
    assert not cluster_is_new_phase(mix, [a, b])[0]
    other = rng.uniform(1, 10, 64)
    assert cluster_is_new_phase(rng.poisson(30 * other), [a, b])[0]
    # Too few counts to tell: not a new phase.
    assert not cluster_is_new_phase(np.array([1, 0, 2, 0]), [a[:4]])[0]


def test_a_mixture_off_by_less_than_the_tolerance_is_not_a_new_phase():
    # At high counts an interface or intergrowth is nearly, not exactly, the
    # linear mix of its phases: the likelihood-ratio test alone calls it new.
    rng = np.random.default_rng(2)
    shape_a, shape_b = rng.uniform(1, 10, 128), rng.uniform(1, 10, 128)
    a, b = rng.poisson(2e5 * shape_a), rng.poisson(2e5 * shape_b)
    mean = 5e4 * (shape_a + shape_b)
    line = np.zeros(128)
    line[60:66] = 1
    near = rng.poisson(mean * (1 + 0.025 * line))  # one line 2.5 % off
    far = rng.poisson(mean * (1 + 0.25 * line))  # the same line 25 % off
    assert cluster_is_new_phase(near, [a, b], alpha=0.001)[0]  # significant
    assert not cluster_is_new_phase(near, [a, b], alpha=0.001, tolerance=0.05)[0]
    assert cluster_is_new_phase(far, [a, b], alpha=0.001, tolerance=0.05)[0]


def test_interface_mixture_region_is_not_counted_as_a_phase():
    # Two phases and a band of their 50/50 mixture with one line 4 % off, at
    # 20 000 counts per pixel (as the real 30 x 30 EDS map): significant and
    # separable pixel by pixel (about 1 nat), but within the tolerance: two
    # phases, and three when the tolerance is dropped.
    rng = np.random.default_rng(3)
    spectra = rng.uniform(1, 10, (2, 128))
    spectra /= spectra.sum(axis=1, keepdims=True)
    mixed = spectra.mean(axis=0)
    mixed[40:48] *= 1.04
    mixed /= mixed.sum()
    truth = np.repeat([0, 1, 2], [300, 300, 100])
    X = rng.poisson(20000 * np.vstack([spectra, mixed[None]])[truth])
    tolerant = estimate_k_counts(X, 3, max_clusters=5, metrics=False)
    assert tolerant.n_clusters == 2
    # The k = 3 test found the mixture's line: about 4 % off, not clearly
    # more than 5 %.
    assert 0.02 < min(abs(d) for d in tolerant.tests[1]["relative_difference"]) < 0.1
    strict = estimate_k_counts(X, 3, max_clusters=5, metrics=False, tolerance=None)
    assert strict.n_clusters == 3


def test_bad_input():
    X, _ = _counts(2, 20, 0)
    with pytest.raises(ValueError, match="`counts` must be 2-D"):
        estimate_k_counts(X.ravel(), 2)
    with pytest.raises(ValueError, match="`counts` must hold non-negative whole"):
        estimate_k_counts(X + 0.5, 2)
    with pytest.raises(ValueError, match="`n_components` must be an integer >= 1"):
        estimate_k_counts(X, 0)
    with pytest.raises(ValueError, match="`max_clusters` must be an integer >= 2"):
        estimate_k_counts(X, 2, max_clusters=1)
    with pytest.raises(ValueError, match=r"`alpha` must be in \(0, 1\)"):
        estimate_k_counts(X, 2, alpha=1.5)
    with pytest.raises(ValueError, match=r"`tolerance` must be a number in \[0, 1\)"):
        estimate_k_counts(X, 2, tolerance=-0.1)
    with pytest.raises(ValueError, match="`features` must be 2-D"):
        estimate_k_features(np.zeros(5))


def test_a_few_counts_where_the_others_counted_none_are_no_evidence():
    # A channel where the other clusters' sums happen to be 0 still has a
    # Poisson uncertainty: the cluster's 5 counts there must not make the
    # window test call it 50 000 standard deviations off its mix.
    rng = np.random.default_rng(0)
    a = rng.uniform(50, 500, 64)
    b = rng.uniform(50, 500, 64)
    a[10] = b[10] = 0.0
    y = np.rint((a + b) / 2)
    y[10] = 5
    test = auto_k._phase_test(y, np.array([a, b]), 0.001, 5.0, None, 0.0, 0.05)
    z, critical = test["excess"]
    assert z < critical
    assert not test["new"]
