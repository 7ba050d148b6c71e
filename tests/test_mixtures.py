"""Each cluster's closest mixture of the others (clusterspy.mixtures)."""

import numpy as np
import pytest
from hyperspy.signals import Signal1D
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy.report import render_report
from clusterspy.validation import ParameterError


def _band_map(counts=True, scale=40.0):
    """Two phases and, between them, a band of their 50/50 mix."""
    rng = np.random.default_rng(0)
    a = rng.uniform(1, 10, 64)
    b = rng.uniform(1, 10, 64)
    b[40:44] += 30  # a line of its own
    truth = np.repeat([0, 2, 1], [96, 64, 96])
    mean = np.where(
        truth[:, None] == 0, a, np.where(truth[:, None] == 1, b, (a + b) / 2)
    )
    data = rng.poisson(scale * mean).astype(float) if counts else scale * mean
    s = Signal1D(data.reshape(16, 16, 64))
    s.axes_manager.signal_axes[0].scale = 0.01
    s.axes_manager.signal_axes[0].units = "keV"
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    labels = s.clusterspy.result.labels.reshape(-1)
    assert adjusted_rand_score(truth, labels) == 1.0
    band = int(np.bincount(labels[truth == 2]).argmax())
    return s, labels, truth, band


def test_an_interface_band_is_mixture_like_and_the_phases_are_distinct():
    s, labels, truth, band = _band_map()
    m = s.clusterspy.get_cluster_mixtures()
    assert m.counts
    assert m.mixture_like == [band]
    assert [m.distinct[c] for c in range(3)] == [c != band for c in range(3)]
    # the band is half of each phase (shares of the mix's intensity)
    phases = [c for c in range(3) if c != band]
    a_total = s.data.reshape(-1, 64)[labels == phases[0]].mean(axis=0).sum()
    b_total = s.data.reshape(-1, 64)[labels == phases[1]].mean(axis=0).sum()
    expected = a_total / (a_total + b_total)
    np.testing.assert_allclose(m.weights[band, phases[0]], expected, atol=0.01)
    np.testing.assert_allclose(m.weights[band].sum(), 1.0)
    assert m.weights[band, band] == 0
    assert m.unexplained[band] < 0.03
    assert abs(m.largest_difference[band]) < m.tolerance
    # a phase is not a mix: it differs clearly, in a window of the axis
    low, high = m.window[phases[1]]
    assert 0 <= low < high <= 0.64
    assert abs(m.largest_difference[phases[1]]) > 0.2
    text = m.describe(band)
    assert text.startswith(f"cluster {band} \u2248 ")
    assert text.endswith("mixture-like (not distinct beyond 5%)")
    assert " keV" in text


def test_without_counts_the_weights_are_non_negative_least_squares():
    from scipy.optimize import nnls

    s, labels, _, band = _band_map(counts=False, scale=1.3)
    m = clusterspy.get_cluster_mixtures(s)
    assert not m.counts
    assert list(m.distinct) == [None, None, None]
    assert m.window == [None, None, None] and np.isnan(m.largest_difference).all()
    sums = s.data.reshape(-1, 64)
    sums = np.array([sums[labels == c].sum(axis=0) for c in range(3)])
    others = [c for c in range(3) if c != band]
    w, _ = nnls(sums[others].T, sums[band])
    shares = w * sums[others].sum(axis=1) / (w @ sums[others]).sum()
    np.testing.assert_allclose(m.weights[band, others], shares, rtol=1e-9)
    # noise-free: the band is exactly half of each phase's mean
    assert m.unexplained[band] < 1e-9
    assert "no verdict" in render_report(s, figures={}, counts=False)


def test_the_report_names_the_mixture_like_cluster():
    s, _, _, band = _band_map()
    html = render_report(s, figures={})
    assert '<section id="mixtures"><h2>Closest mixtures</h2>' in html
    assert f"Mixture-like here: cluster {band}.</strong>" in html
    assert html.count(">mixture-like</td>") == 1
    assert html.count(">distinct</td>") == 2
    assert '<section id="mixtures">' not in render_report(s, figures={}, mixtures=False)


def test_one_cluster_has_nothing_to_mix():
    s, *_ = _band_map()
    s.clusterspy.cluster_analysis("signal", n_clusters=1, random_state=0)
    m = s.clusterspy.get_cluster_mixtures()
    assert len(m) == 1 and np.isnan(m.weights).all() and m.mixture_like == []
    assert m.describe(0) == "cluster 0: no mixture fitted (empty, or nothing to mix)"
    assert '<section id="mixtures">' not in render_report(s, figures={})


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"tolerance": 0}, ValueError, r"`tolerance` must be in \(0, 1\), not 0\."),
        ({"tolerance": "5%"}, TypeError,
         r"`tolerance` must be a number in \(0, 1\), not '5%'\."),
        ({"alpha": 1.5}, ValueError, r"`alpha` must be in \(0, 1\), not 1\.5\."),
    ],
)
def test_bad_settings_are_refused(kwargs, error, message):
    s, *_ = _band_map()
    with pytest.raises(error, match=message):
        s.clusterspy.get_cluster_mixtures(**kwargs)


def test_report_refuses_a_non_bool_mixtures():
    s, *_ = _band_map()
    with pytest.raises(ParameterError, match=r"`mixtures` must be True or False, not 1\."):
        render_report(s, figures={}, mixtures=1)


def test_clusterspy_run_names_the_mixture_like_cluster(tmp_path):
    from clusterspy.workflow import run_workflow

    s, _, _, band = _band_map()
    said = []
    done = run_workflow(s, output=tmp_path / "out", say=said.append,
                        decomposition="none", n_clusters=3, preprocessing=None,
                        seed=0)
    lines = [line for line in said if line.startswith("Mixture-like:")]
    mixtures = done.signal.clusterspy.get_cluster_mixtures()
    assert mixtures.mixture_like == [band]
    assert lines == [f"Mixture-like: {mixtures.describe(band)}; consider merging it"]
    assert lines[0].endswith("mixture-like (not distinct beyond 5%); consider merging it")


@pytest.mark.parametrize("counts", [50, 200])
def test_one_phase_cut_in_two_is_not_called_distinct(counts):
    # k-means cuts a single phase where its noise differs most; judged on the
    # counts it was cut on, the two halves would differ by up to 50 % in a
    # line window. The verdict is taken on held-out counts.
    s = clusterspy.datasets.spectrum_image((30, 30), n_channels=128, n_phases=1,
                                           counts=counts, random_state=0)
    s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    m = s.clusterspy.get_cluster_mixtures()
    assert list(m.distinct) == [False, False]
    assert m.mixture_like == [0, 1]


def test_shares_stay_fractions_for_data_with_negative_values():
    # background-subtracted spectra: sums with negative channels
    s, _, _, band = _band_map(counts=False, scale=1.3)
    s.data -= 6.0
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    m = s.clusterspy.get_cluster_mixtures()
    finite = np.isfinite(m.weights).all(axis=1)
    assert finite.any()
    assert (m.weights[finite] >= 0).all() and (m.weights[finite] <= 1).all()
    np.testing.assert_allclose(m.weights[finite].sum(axis=1), 1.0)


def test_a_descending_axis_gives_an_ordered_window():
    s, _, _, band = _band_map()
    axis = s.axes_manager.signal_axes[0]
    axis.scale, axis.offset = -0.01, 0.63  # 0.63 .. 0.00 keV
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    m = s.clusterspy.get_cluster_mixtures()
    for window in m.window:
        low, high = window
        assert -0.005 <= low < high <= 0.635


def test_no_verdict_when_the_fitted_clustering_cannot_assign_new_data():
    # a clusterspy 0.1.0 result (pickled model: never read back)
    s, _, _, band = _band_map()
    stored = s.learning_results.clusterspy
    stored["model_data"] = None
    stored["model"] = np.zeros(3)
    m = s.clusterspy.get_cluster_mixtures()
    assert list(m.distinct) == [None, None, None]
    assert np.isfinite(m.weights[band]).all()  # the description stays
    assert '<section id="mixtures">' in render_report(s, figures={})


def test_no_verdict_when_the_fitted_clustering_does_not_give_the_result():
    # spatial_weight: a new signal lacks the positions' coordinates, so the
    # fitted clustering cannot reproduce the partition it would be judged on
    s, _, _, band = _band_map()
    s.clusterspy.cluster_analysis("signal", n_clusters=3, spatial_weight=0.5,
                                  random_state=0)
    m = s.clusterspy.get_cluster_mixtures()
    assert list(m.distinct) == [None, None, None]


def test_the_report_shows_a_given_mixtures_table_as_it_is():
    s, *_ = _band_map()
    given = s.clusterspy.get_cluster_mixtures(tolerance=0.5)
    html = render_report(s, figures={}, mixtures=given)
    assert "by more than 50% in any window" in html
    assert "by more than 5% in any window" in render_report(s, figures={})
