"""Shot noise in data that are not counts (clusterspy.noise) and the
automatic k on their count equivalents."""

import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from clusterspy.datasets import spectrum_image
from clusterspy.exceptions import DoubtfulEstimateWarning
from clusterspy.noise import count_equivalents, photon_transfer


def _scaled(counts, gain=0.2, read=0.1, n_phases=3, seed=0, shape=(40, 40)):
    """A generated count map scaled by ``gain``, with Gaussian read-out noise."""
    s, truth = spectrum_image(shape, n_channels=256, n_phases=n_phases,
                              counts=counts, random_state=seed, return_truth=True)
    rng = np.random.default_rng(seed + 100)
    data = gain * s.data + rng.normal(0, read, s.data.shape)
    return hs.signals.Signal1D(data), truth


@pytest.mark.parametrize("gain, read", [(0.2, 0.0), (0.2, 0.3), (3.0, 1.0)])
def test_photon_transfer_recovers_the_gain_and_the_read_out_variance(gain, read):
    s, _ = _scaled(2000, gain=gain, read=read)
    fit = photon_transfer(s.data.reshape(-1, 256), 3)
    assert fit.gain == pytest.approx(gain, rel=0.04)
    # within a few tenths of a count's variance (gain**2 in data units)
    assert fit.offset == pytest.approx(read**2, abs=0.15 * gain**2 + 0.1 * read**2)
    assert fit.r_squared > 0.99 and fit.usable


def test_noise_that_does_not_grow_with_intensity_is_not_counts():
    # the phases of a 3-phase map, with additive Gaussian noise only
    s, truth = spectrum_image((40, 40), n_channels=256, n_phases=3, counts=200,
                              random_state=0, return_truth=True)
    flat, labels = s.data.reshape(-1, 256), truth.ravel()
    phases = np.array([flat[labels == p].mean(axis=0) for p in range(3)])
    rng = np.random.default_rng(0)
    data = phases[labels] + rng.normal(0, 0.5, flat.shape)
    fit = photon_transfer(data, 3)
    assert not fit.usable
    assert fit.offset == pytest.approx(0.25, rel=0.05)
    assert abs(fit.gain) * phases.max() < 0.1 * fit.offset


@pytest.mark.parametrize("pedestal, read", [(0.0, 0.3), (100.0, 0.3)])
def test_count_equivalents_have_the_variance_of_counts(pedestal, read):
    # One spectrum everywhere: each channel's spread over the positions is
    # its noise alone. A dark pedestal (a negative offset of the line) is
    # taken off, not turned into noiseless pseudo-counts.
    rng = np.random.default_rng(0)
    mean = rng.uniform(5, 200, 128)
    data = 0.2 * rng.poisson(mean, (3000, 128)) + pedestal + rng.normal(
        0, read, (3000, 128))
    fit = photon_transfer(data, 1)
    assert fit.usable
    counts = count_equivalents(data, fit)
    assert counts.min() >= 0 and np.array_equal(counts, np.rint(counts))
    dispersion = counts.var(axis=0) / counts.mean(axis=0)
    assert np.median(dispersion) == pytest.approx(1.0, abs=0.05)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"`data` must be 2-D \(n_positions, "
                       r"n_channels\), not of shape \(10,\)\."):
        photon_transfer(np.ones(10), 1)
    with pytest.raises(ValueError, match=r"`n_components` must be in \[1, 3\] for "
                       r"data of shape \(10, 50\), not 4\."):
        photon_transfer(np.ones((10, 50)), 4)


def _auto(signal):
    signal.decomposition(print_info=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DoubtfulEstimateWarning)
        signal.clusterspy.cluster_analysis(
            "decomposition", number_of_components="auto", n_clusters="auto",
            random_state=0)
    return signal.clusterspy.result, [
        str(w.message) for w in caught if w.category is DoubtfulEstimateWarning]


def test_scaled_counts_get_the_poisson_split_rule_on_count_equivalents():
    s, truth = _scaled(200)
    result, doubts = _auto(s)
    choice = result.parameters["n_clusters_choice"]
    assert choice["rule"] == "poisson-split on count equivalents"
    assert choice["gain"]["gain"] == pytest.approx(0.2, rel=0.05)
    # and with the stored curve of the estimate
    metric = s.clusterspy.get_cluster_metric()
    assert metric.parameters["gain"] == choice["gain"]
    assert metric.rule == "poisson-split on count equivalents"
    assert result.n_clusters == 3
    assert adjusted_rand_score(truth.ravel(), result.labels.ravel()) > 0.99
    assert doubts == []
    # the mixtures are judged on the same count equivalents
    mixtures = s.clusterspy.get_cluster_mixtures()
    assert mixtures.counts and list(mixtures.distinct) == [True, True, True]
    # with a given k nothing was measured: no noise model, no verdict
    s.clusterspy.cluster_analysis("decomposition", number_of_components=3,
                                  n_clusters=3, random_state=0)
    mixtures = s.clusterspy.get_cluster_mixtures()
    assert not mixtures.counts and list(mixtures.distinct) == [None, None, None]


def test_a_thickness_gradient_of_one_phase_is_one_cluster():
    s = spectrum_image((40, 40), n_channels=256, n_phases=1, counts=200,
                       random_state=0)
    rng = np.random.default_rng(1)
    thickness = np.linspace(0.5, 1.5, 40)[None, :, None]
    data = 0.2 * rng.poisson(s.data * thickness) + rng.normal(0, 0.1, s.data.shape)
    result, _ = _auto(hs.signals.Signal1D(data))
    assert result.parameters["n_clusters_choice"]["rule"] == (
        "poisson-split on count equivalents")
    assert result.n_clusters == 1


def test_additive_noise_keeps_the_metrics_majority():
    # read-out noise far above the shot noise: not counts in disguise
    s, truth = _scaled(200, read=1.0)
    result, _ = _auto(s)
    choice = result.parameters["n_clusters_choice"]
    assert choice["rule"].startswith("metrics-majority")
    assert "gain" not in choice


def test_too_many_components_for_the_noise_fit_keep_the_metrics():
    # 16 positions: a rank-8 fit leaves no held-out residual to measure
    s, _ = _scaled(2000, shape=(4, 4))
    s.decomposition(print_info=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoubtfulEstimateWarning)
        s.clusterspy.cluster_analysis("decomposition", number_of_components=8,
                                      n_clusters="auto", random_state=0)
    rule = s.clusterspy.result.parameters["n_clusters_choice"]["rule"]
    assert rule.startswith("metrics-majority")


def test_image_stacks_keep_the_metrics():
    # the split rule's windows are runs of adjacent channels: spectra only
    s, _ = _scaled(2000, shape=(10, 10))
    stack = hs.signals.Signal2D(s.data.reshape(10, 10, 16, 16))
    result, _ = _auto(stack)
    assert result.parameters["n_clusters_choice"]["rule"].startswith("metrics-majority")


def test_count_equivalents_of_sums_count_the_offset_once_per_position():
    from clusterspy.noise import GainEstimate, from_count_equivalents

    fit = GainEstimate(0.2, 0.5, 1.0, 1.0, True, None, None)
    rng = np.random.default_rng(0)
    rows = 0.2 * rng.poisson(50.0, (6, 32)) + 1.03  # no ties for the rounding
    sums = np.array([rows[:2].sum(axis=0), rows[2:].sum(axis=0)])
    # without rounding, the equivalents of a sum are the sum of equivalents
    expected = np.array([((rows[:2] + 2.5) / 0.2).sum(axis=0),
                         ((rows[2:] + 2.5) / 0.2).sum(axis=0)])
    np.testing.assert_array_equal(count_equivalents(sums, fit, positions=[2, 4]),
                                  np.rint(expected))
    # and back to the data's units, one position at a time
    one = count_equivalents(rows, fit)
    np.testing.assert_allclose(from_count_equivalents(one, fit), rows, atol=0.2 / 2)
