"""The automatic choices through the public API and the command line (issue 15).

``number_of_components="auto"``, ``min_counts``, ``n_clusters="auto"`` and
``metric="auto"`` in ``cluster_analysis`` and ``estimate_number_of_clusters``,
and ``clusterspy run FILE`` with no options.
"""

import contextlib
import io
import warnings

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy.cli import main
from clusterspy.estimate import get_cluster_metric
from clusterspy.exceptions import DoubtfulEstimateWarning


def phase_map(counts=100.0, shape=(40, 30), n_phases=3, seed=0, decompose=True):
    s, truth = clusterspy.datasets.spectrum_image(
        shape=shape, n_channels=128, n_phases=n_phases, counts=counts,
        return_truth=True, random_state=seed,
    )
    if decompose:
        s.decomposition(normalize_poissonian_noise=True, print_info=False)
    return s, truth.ravel()


def uniform_map(shape=(40, 30), counts=100.0, seed=0):
    import hyperspy.api as hs

    rng = np.random.default_rng(seed)
    spectrum = rng.random(128) + 0.2
    mean = counts * spectrum / spectrum.sum()
    data = rng.poisson(mean, size=shape[::-1] + (128,)).astype("float32")
    s = hs.signals.Signal1D(data)
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    return s


def doubts(record):
    return [str(w.message) for w in record if w.category is DoubtfulEstimateWarning]


# -- number_of_components="auto" ---------------------------------------------------------


def test_auto_components_give_the_rank_and_are_recorded():
    s, truth = phase_map(counts=200.0)
    s.clusterspy.cluster_analysis(
        "decomposition", number_of_components="auto", n_clusters=3, random_state=0
    )
    parameters = s.clusterspy.result.parameters
    assert parameters["number_of_components"] == 3
    choice = parameters["number_of_components_choice"]
    assert choice["n_components"] == 3 and choice["method"] == "poisson-null"
    assert choice["threshold"] > 0
    assert adjusted_rand_score(truth, s.clusterspy.result.labels) == 1.0
    k = s.clusterspy.estimate_number_of_clusters(
        "decomposition", number_of_components="auto", max_clusters=5,
        metric="elbow", random_state=0, show_progressbar=False,
    )
    stored = get_cluster_metric(s).parameters
    assert stored["number_of_components"] == 3 and k >= 1
    assert stored["number_of_components_choice"]["n_components"] == 3


@pytest.mark.parametrize("function", ["cluster_analysis", "estimate_number_of_clusters"])
def test_auto_components_without_decomposition_error_first(function):
    s, _ = phase_map(shape=(8, 6), decompose=False)
    call = getattr(s.clusterspy, function)
    with pytest.raises(ValueError, match="number_of_components='auto' needs a decomp"):
        call("decomposition", number_of_components="auto", n_clusters=2)
    with pytest.raises(ValueError, match="needs cluster_source='decomposition' or 'bss'"):
        call("signal", number_of_components="auto", n_clusters=2)
    assert getattr(s.learning_results, "clusterspy", None) is None


def test_more_components_than_significant_warn():
    s, _ = phase_map(counts=200.0)
    with pytest.warns(DoubtfulEstimateWarning, match="only 3 components are sig"):
        s.clusterspy.cluster_analysis(
            "decomposition", number_of_components=8, n_clusters=3, random_state=0
        )


# -- min_counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, np.nan])
@pytest.mark.parametrize("function", ["cluster_analysis", "estimate_number_of_clusters"])
def test_min_counts_bad_input(function, bad):
    s, _ = phase_map(shape=(8, 6), decompose=False)
    with pytest.raises(ValueError, match="`min_counts` must be None or a non-negative"):
        getattr(s.clusterspy, function)("signal", n_clusters=2, min_counts=bad)


def test_mostly_empty_map_warns_and_masks():
    s, truth = phase_map(counts=200.0, decompose=False)
    rng = np.random.default_rng(1)
    flat = s.data.reshape(-1, s.data.shape[-1])
    empty = rng.random(flat.shape[0]) < 0.9
    flat[empty] = 0
    before = s.data.copy()
    with pytest.warns(DoubtfulEstimateWarning, match=r"have no count; they are masked"):
        s.clusterspy.cluster_analysis(
            "signal", preprocessing="norm", n_clusters=3, min_counts=1, random_state=0
        )
    labels = s.clusterspy.result.labels
    np.testing.assert_array_equal(labels == -2, empty)
    assert adjusted_rand_score(truth[~empty], labels[~empty]) == 1.0
    assert s.clusterspy.result.parameters["min_counts"] == 1
    np.testing.assert_array_equal(s.data, before)  # never modified


def test_min_counts_merges_with_the_navigation_mask():
    s, _ = phase_map(shape=(10, 8), counts=50.0, decompose=False)
    s.data[0, :3] = 0  # three empty positions, data order (y, x)
    mask = np.zeros((10, 8), dtype=bool)  # HyperSpy order (x, y)
    mask[9, 7] = True
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=2, min_counts=1, navigation_mask=mask, random_state=0
    )
    label_map = s.clusterspy.result.label_map
    assert (label_map[0, :3] == -2).all() and label_map[7, 9] == -2
    assert (label_map == -2).sum() == 4


# -- n_clusters="auto", metric="auto" ------------------------------------------------------


def test_auto_k_finds_three_phases_at_100_counts():
    s, truth = phase_map(counts=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DoubtfulEstimateWarning)
        s.clusterspy.cluster_analysis(
            "decomposition", number_of_components="auto", n_clusters="auto",
            random_state=0,
        )
    result = s.clusterspy.result
    assert result.n_clusters == 3
    assert result.parameters["n_clusters_choice"]["rule"] == "poisson-split"
    # the final clustering is of every position with the chosen k
    assert adjusted_rand_score(truth, result.labels) == 1.0
    metric = get_cluster_metric(s)
    assert metric.metric == "auto" and metric.n_clusters == 3
    assert {"worst_p", "log_w", "silhouette", "gap", "gap_s"} <= set(metric.curves)
    assert len(metric.curves["gap"]) == len(metric.ks)


def test_metric_auto_on_uniform_noise_answers_one():
    s = uniform_map()
    k = s.clusterspy.estimate_number_of_clusters(
        "decomposition", number_of_components="auto", metric="auto",
        random_state=0, show_progressbar=False,
    )
    assert k == 1
    metric = get_cluster_metric(s)
    assert metric.rule == "poisson-split" and metric.n_clusters == 1


def test_doubtful_k_warns_and_is_stored():
    s, _ = phase_map(counts=100.0)
    with pytest.warns(DoubtfulEstimateWarning, match="every k up to max_clusters=2"):
        k = s.clusterspy.estimate_number_of_clusters(
            "decomposition", number_of_components="auto", metric="auto",
            max_clusters=2, random_state=0, show_progressbar=False,
        )
    assert k == 2
    metric = get_cluster_metric(s)
    assert any("max_clusters=2" in d for d in metric.doubts)
    # stored and read back
    again = clusterspy.estimate.ClusterMetric.from_dict(metric.to_dict())
    assert again.doubts == metric.doubts
    np.testing.assert_array_equal(again.curves["gap"], metric.curves["gap"])


def test_metric_auto_on_features_uses_the_metrics_majority():
    import hyperspy.api as hs

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.3, (60, 2)) for c in (0, 4, 8)])
    s = hs.signals.Signal1D(X)
    k = s.clusterspy.estimate_number_of_clusters(
        "signal", metric="auto", max_clusters=6, random_state=0,
        show_progressbar=False,
    )
    assert k == 3
    assert get_cluster_metric(s).rule.startswith("metrics-majority")


# -- the command line with no options --------------------------------------------------------


def test_run_without_options_on_a_sparse_count_map(tmp_path):
    s, truth = phase_map(shape=(30, 24), counts=200.0, decompose=False)
    flat = s.data.reshape(-1, s.data.shape[-1])
    empty = np.zeros(flat.shape[0], dtype=bool)
    empty[::3] = True  # a third of the positions empty
    flat[empty] = 0
    s.save(tmp_path / "m.hspy")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(tmp_path / "m.hspy"), "-q", "-o", str(tmp_path / "o")])
    text = out.getvalue()
    assert code == 0
    assert "33.3 % of the 720 positions have no count" in text
    assert "Significant components: 3 (poisson-null)" in text
    assert "Number of clusters: 3, estimated with auto (poisson-split)" in text
    assert "warning: 240 of 720 positions (33.3 %) have no count" in text
    import hyperspy.api as hs

    result = hs.load(tmp_path / "o" / "result.hspy").clusterspy.result
    np.testing.assert_array_equal(result.labels == -2, empty)
    assert adjusted_rand_score(truth[~empty], result.labels[~empty]) == 1.0


def test_auto_components_for_bss_are_the_significant_ones():
    s, truth = phase_map(counts=200.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FastICA's convergence notices
        s.blind_source_separation(3, print_info=False)
    s.clusterspy.cluster_analysis(
        "bss", number_of_components="auto", n_clusters=3, random_state=0
    )
    parameters = s.clusterspy.result.parameters
    assert parameters["number_of_components"] == 3
    assert parameters["number_of_components_choice"]["n_components"] == 3


def test_automatic_path_on_the_shipped_real_eds_map(tmp_path):
    # The real 30 x 30 SEM-EDS map (about 20 700 counts per pixel) through
    # `clusterspy run`'s default path: seven clusters, six of them minerals
    # told apart by their lines. The 26-pixel apatite grain (P Ka 17 x any
    # other cluster's), the chevkinite (Ti and Ce rich, the bright region of
    # the electron image: heavy rare earths) and a K-rich mica (K Ka about
    # 2.7 x) are each one cluster (a single k-means++ start merged one or
    # another; the 5 % line tolerance keeps interface mixtures within 5 % of
    # their neighbours' mix from being counted).
    from clusterspy.datasets import eds_sem_map
    from clusterspy.workflow import run_workflow

    s, image = eds_sem_map(return_image=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoubtfulEstimateWarning)
        done = run_workflow(s, output=tmp_path / "out", say=lambda m: None)
    result = done.signal.clusterspy.result
    k = result.n_clusters
    assert k == 7
    assert result.parameters["number_of_components"] in (9, 10)  # by the SVD solver
    labels = np.asarray(result.labels)
    data = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    axis = s.axes_manager.signal_axes[0]

    def line_share(energy):
        window = slice(axis.value2index(energy - 0.07), axis.value2index(energy + 0.07) + 1)
        return np.array([data[labels == i, window].sum() / data[labels == i].sum()
                         for i in range(k)])

    p_ka, ti_ka, ce_la, k_ka = (line_share(e) for e in (2.013, 4.511, 4.840, 3.314))
    apatite = int(np.argmax(p_ka))
    assert (labels == apatite).sum() == 26
    assert p_ka[apatite] > 10 * np.delete(p_ka, apatite).max()
    chevkinite = int(np.argmax(ti_ka))
    assert chevkinite == int(np.argmax(ce_la))
    bright = image.data.ravel() >= np.quantile(image.data, 0.9)
    assert bright[labels == chevkinite].mean() > 0.8
    mica = int(np.argmax(k_ka))
    assert k_ka[mica] > 2 * np.median(np.delete(k_ka, mica))
    assert len({apatite, chevkinite, mica}) == 3
    choice = result.parameters["n_clusters_choice"]
    assert choice["rule"] == "poisson-split"
    assert choice["start"] == "the partition the rule checked"
    # Every cluster the rule kept is more than 5 % off any mix of the others
    # somewhere; the apatite's clearest difference is its P Ka line.
    mixtures = done.signal.clusterspy.get_cluster_mixtures()
    assert mixtures.counts and mixtures.mixture_like == []
    assert "P_Ka" in mixtures.lines[apatite]
    assert mixtures.largest_difference[apatite] > 5


def test_auto_k_start_is_recorded_with_the_engine_that_used_it():
    s, truth = clusterspy.datasets.spectrum_image(
        (30, 20), n_channels=64, n_phases=3, counts=300, random_state=0,
        return_truth=True)
    for engine, start in (("memory", "the partition the rule checked"),
                          ("blockwise", "k-means++")):
        signal = s.as_lazy() if engine == "blockwise" else s
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DoubtfulEstimateWarning)
            signal.clusterspy.cluster_analysis("signal", n_clusters="auto",
                                               engine=engine, random_state=0)
        result = signal.clusterspy.result
        assert result.parameters["n_clusters_choice"]["start"] == start
        assert adjusted_rand_score(truth.ravel(), np.asarray(result.labels)) == 1.0


@pytest.mark.parametrize("kwargs", [{"engine_kwargs": {"exact_sklearn": True}},
                                    {"n_init": 3}])
def test_auto_k_start_is_k_means_plus_plus_where_the_partition_is_not_used(kwargs):
    # scikit-learn's own fit, or starts the user asked for: no partition start,
    # and the record says so.
    s = clusterspy.datasets.spectrum_image((30, 20), n_channels=64, n_phases=3,
                                           counts=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoubtfulEstimateWarning)
        s.clusterspy.cluster_analysis("signal", n_clusters="auto", random_state=0,
                                      **kwargs)
    assert s.clusterspy.result.parameters["n_clusters_choice"]["start"] == "k-means++"
