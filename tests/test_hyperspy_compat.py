"""HyperSpy's own tests of its built-in cluster analysis, run on ``s.clusterspy``.

Ported from HyperSpy's ``hyperspy/tests/learn/test_cluster.py``
(Copyright 2007-2026 The HyperSpy developers, GPL-3.0-or-later; see
https://github.com/hyperspy/hyperspy). The data, parameters and assertions
are HyperSpy's; the calls are rewritten mechanically:

* ``s.cluster_analysis(...)`` -> ``s.clusterspy.cluster_analysis(...)``, and
  the same for ``estimate_number_of_clusters`` and the ``get_cluster_*``
  methods;
* ``s.learning_results.<cluster name>`` -> ``lr(s).<cluster name>``, the one
  adapter: :attr:`clusterspy.ClusterspyAccessor.learning_results`, which gives
  clusterspy's stored results in HyperSpy's layouts and names
  (:mod:`clusterspy.compat`). clusterspy never writes HyperSpy's own
  attributes, so that both analyses of one signal can coexist.

A test that still differs is a strict ``xfail`` whose reason says why the
difference is deliberate; each has a row in the porting table of the user
guide ("HyperSpy compatibility"). At the end, tests compare HyperSpy's own
results with clusterspy's on the same data and seeds.
"""

import warnings

import numpy as np
import pytest
import sklearn
from hyperspy import signals

import clusterspy  # noqa: F401  (registers s.clusterspy)
from clusterspy.compat import HyperSpyLearningResults
from clusterspy.validation import ParameterError

# HyperSpy's fixture runs FastICA on uniform noise, which does not converge
# (HyperSpy's own run warns the same); the warning says nothing here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:FastICA did not converge:sklearn.exceptions.ConvergenceWarning"
)


def lr(s):
    """HyperSpy's ``s.learning_results``, for clusterspy's results."""
    return s.clusterspy.learning_results


def xfail(reason, raises=None):
    return pytest.mark.xfail(strict=True, reason=reason, raises=raises)


# A message-only difference fails in `pytest.raises(match=...)` with an
# AssertionError: the exception type is HyperSpy's.
own_wording = pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="deliberate: the same exception type, with clusterspy's own message, "
    "which names the parameter and the expected value",
)


@pytest.fixture
def signal1d():
    rng1 = np.random.default_rng(123)
    s = signals.Signal1D(rng1.uniform(size=(7, 5, 7)))
    s.decomposition()
    s.blind_source_separation(number_of_components=3, max_iter=500)
    return s


# HyperSpy's TestSklearnNotInstalled is skipped where scikit-learn is
# installed, and clusterspy requires scikit-learn: not ported.


class TestCluster1D:
    def setup_method(self):
        self.navigation_mask = np.zeros((7, 5), dtype=bool)
        self.navigation_mask[4:6, 1:4] = True
        self.signal_mask = np.zeros((7,), dtype=bool)
        self.signal_mask[2:6] = True

    @pytest.mark.filterwarnings("ignore:`signal_mask` is ignored")
    @pytest.mark.parametrize("algorithm", (None, "agglomerative", "spectralclustering"))
    @pytest.mark.parametrize("cluster_source", ("signal", "bss", "decomposition"))
    @pytest.mark.parametrize(
        "source_for_centers", (None, "signal", "bss", "decomposition")
    )
    @pytest.mark.parametrize("preprocessing", (None, "standard", "norm", "minmax"))
    @pytest.mark.parametrize("use_masks", (True, False))
    def test_combinations(
        self,
        signal1d,
        algorithm,
        cluster_source,
        preprocessing,
        source_for_centers,
        use_masks,
    ):
        if use_masks:
            # port rule: HyperSpy's cluster_analysis reads a NumPy mask in
            # data order; clusterspy (as HyperSpy's decomposition) in
            # navigation_shape order (x first): `.T` (test_data_order_mask)
            navigation_mask = self.navigation_mask.T
            signal_mask = self.signal_mask
        else:
            navigation_mask = None
            signal_mask = None
        signal1d.clusterspy.cluster_analysis(
            cluster_source,
            n_clusters=3,
            source_for_centers=source_for_centers,
            preprocessing=preprocessing,
            navigation_mask=navigation_mask,
            signal_mask=signal_mask,
            algorithm=algorithm,
        )
        np.testing.assert_array_equal(lr(signal1d).cluster_labels.shape, (3, 35))
        np.testing.assert_array_equal(
            lr(signal1d).cluster_centroid_signals.shape, (3, 7)
        )
        np.testing.assert_array_equal(lr(signal1d).cluster_sum_signals.shape, (3, 7))
        signal1d.clusterspy.get_cluster_labels()
        signal1d.clusterspy.get_cluster_signals()

    def test_custom_algorithm(self, signal1d):
        signal1d.clusterspy.cluster_analysis(
            "signal",
            n_clusters=3,
            preprocessing="norm",
        )
        np.testing.assert_array_equal(lr(signal1d).cluster_labels.shape, (3, 35))
        np.testing.assert_array_equal(
            lr(signal1d).cluster_centroid_signals.shape, (3, 7)
        )
        np.testing.assert_array_equal(lr(signal1d).cluster_sum_signals.shape, (3, 7))

    def test_custom_preprocessing(self, signal1d):
        custom_method = sklearn.preprocessing.Normalizer()
        signal1d.clusterspy.cluster_analysis(
            "signal", n_clusters=3, preprocessing=custom_method, algorithm="kmeans"
        )
        np.testing.assert_array_equal(lr(signal1d).cluster_labels.shape, (3, 35))
        np.testing.assert_array_equal(
            lr(signal1d).cluster_centroid_signals.shape, (3, 7)
        )
        np.testing.assert_array_equal(lr(signal1d).cluster_sum_signals.shape, (3, 7))


@xfail(
    "deliberate: a NumPy navigation mask has the shape navigation_shape (x "
    "first), as in HyperSpy's decomposition; HyperSpy's cluster_analysis "
    "ravels it in data order. An array in data order is refused with a hint "
    "to pass `mask.T` (for a square map the two readings cannot be told apart)"
)
def test_data_order_mask(signal1d):
    navigation_mask = np.zeros((7, 5), dtype=bool)  # HyperSpy's test: data order
    navigation_mask[4:6, 1:4] = True
    signal1d.clusterspy.cluster_analysis(
        "signal", n_clusters=3, navigation_mask=navigation_mask
    )


class TestClusterSignalSources:
    def setup_method(self):
        rng2 = np.random.default_rng(123)
        s = signals.Signal2D(rng2.uniform(size=(7, 5, 7)))
        s.decomposition()
        self.signal = s
        self.navigation_mask = np.zeros((7,), dtype=bool)
        self.navigation_mask[4:6] = True
        self.signal_mask = np.zeros((5, 7), dtype=bool)
        self.signal_mask[1:4, 2:6] = True
        # port rule: HyperSpy's data-order mask, as signal_shape (x first)
        self.signal_mask = self.signal_mask.T

    @pytest.mark.parametrize("use_masks", (True, False))
    def test_cluster_source(self, use_masks):
        if use_masks:
            navigation_mask = self.navigation_mask
            signal_mask = self.signal_mask
        else:
            navigation_mask = None
            signal_mask = None
        signal_copy = self.signal.deepcopy()
        self.signal.clusterspy.cluster_analysis(
            signal_copy,
            n_clusters=3,
            source_for_centers="signal",
            preprocessing="norm",
            navigation_mask=navigation_mask,
            signal_mask=signal_mask,
            algorithm="kmeans",
        )
        np.testing.assert_array_equal(lr(self.signal).cluster_labels.shape, (3, 7))
        np.testing.assert_array_equal(
            lr(self.signal).cluster_centroid_signals.shape, (3, 35)
        )
        np.testing.assert_array_equal(
            lr(self.signal).cluster_sum_signals.shape, (3, 35)
        )

    @pytest.mark.parametrize("use_masks", (True, False))
    def test_source_center(self, use_masks):
        if use_masks:
            navigation_mask = self.navigation_mask
            signal_mask = self.signal_mask
        else:
            navigation_mask = None
            signal_mask = None
        signal_copy = self.signal.deepcopy()
        self.signal.clusterspy.cluster_analysis(
            "signal",
            n_clusters=3,
            source_for_centers=signal_copy,
            preprocessing="norm",
            navigation_mask=navigation_mask,
            signal_mask=signal_mask,
            algorithm="kmeans",
        )
        np.testing.assert_array_equal(lr(self.signal).cluster_labels.shape, (3, 7))
        np.testing.assert_array_equal(
            lr(self.signal).cluster_centroid_signals.shape, (3, 35)
        )
        np.testing.assert_array_equal(
            lr(self.signal).cluster_sum_signals.shape, (3, 35)
        )


def _three_blobs(n_samples=(100, 100, 100)):
    rng = np.random.default_rng(123)
    stds = [0.05] * 3
    X = []
    centers = np.array(
        [[-1.0, -1.0, 1, 1], [1.0, -1.0, -1.0, -1], [-1.0, 1.0, 1.0, -1.0]]
    )
    for i, (n, std) in enumerate(zip(n_samples, stds, strict=True)):
        X.append(centers[i] + rng.normal(scale=std, size=(n, 4)))
    X = np.concatenate(X)
    rng.shuffle(X)
    return X


class TestClusterEstimate:
    def setup_method(self):
        self.signal = signals.Signal1D(_three_blobs())
        self.signal.decomposition()

    @pytest.mark.parametrize("metric", ("elbow", "silhouette", "gap"))
    def test_metric(self, metric):
        max_clusters = 6
        self.signal.clusterspy.estimate_number_of_clusters(
            "signal",
            max_clusters=max_clusters,
            preprocessing="norm",
            algorithm="kmeans",
            metric=metric,
        )
        k_range = lr(self.signal).cluster_metric_index
        best_k = lr(self.signal).estimated_number_of_clusters
        if isinstance(best_k, list):
            best_k = best_k[0]

        test_k_range = list(range(1, max_clusters + 1))
        if metric == "silhouette":
            test_k_range = list(range(2, max_clusters + 1))

        np.testing.assert_allclose(k_range, test_k_range)
        np.testing.assert_allclose(best_k, 3)

    @pytest.mark.parametrize(
        "algorithm",
        (
            "kmeans",
            pytest.param(
                "agglomerative",
                marks=xfail(
                    "deliberate: clusterspy's candidates start at min_clusters=1 "
                    "for every algorithm (W_1 does not depend on the algorithm, "
                    "and the gap statistic must be able to answer k = 1); pass "
                    "min_clusters=2 for HyperSpy's range"
                ),
            ),
        ),
    )
    def test_cluster_algorithm(self, algorithm):
        max_clusters = 6
        self.signal.clusterspy.estimate_number_of_clusters(
            "signal",
            max_clusters=max_clusters,
            preprocessing="norm",
            algorithm=algorithm,
            metric="elbow",
        )
        k_range = lr(self.signal).cluster_metric_index
        best_k = lr(self.signal).estimated_number_of_clusters
        if isinstance(best_k, list):
            best_k = best_k[0]

        test_k_range = list(range(1, max_clusters + 1))
        if algorithm == "agglomerative":
            test_k_range = list(range(2, max_clusters + 1))

        np.testing.assert_allclose(k_range, test_k_range)
        np.testing.assert_allclose(best_k, 3)


class DummyClusterAlgorithm:
    def __init__(self):
        self.test = None

    def fit(self, X):
        pass


class DummyScalingAlgorithm:
    def __init__(self):
        self.test = None

    def fit(self, X):
        pass


class TestClusterExceptions:
    def setup_method(self):
        self.rng = np.random.default_rng(123)
        self.s = signals.Signal1D(self.rng.random(size=(20, 100)))

    @own_wording
    def test_cluster_source_error(self):
        with pytest.raises(
            ValueError,
            match="cluster source needs to be set "
            "to `decomposition` , `signal` , `bss` "
            "or a suitable Signal",
        ):
            self.s.clusterspy.cluster_analysis("randtest", n_clusters=2)

    @own_wording
    def test_cluster_source_size_error(self):
        x2 = self.rng.random(size=(10, 80))
        s2 = signals.Signal1D(x2)
        with pytest.raises(
            ValueError,
            match="cluster_source does not have the same "
            "navigation size as the this signal",
        ):
            self.s.clusterspy.cluster_analysis(s2, n_clusters=2)

    @own_wording
    def test_cluster_source_center_size_error(self):
        x2 = self.rng.random(size=(10, 80))
        s2 = signals.Signal1D(x2)
        with pytest.raises(
            ValueError,
            match="cluster_source does not have the same "
            "navigation size as the this signal",
        ):
            self.s.clusterspy.cluster_analysis(
                "signal", n_clusters=2, source_for_centers=s2
            )

    @own_wording
    def test_cluster_bss_error(self):
        with pytest.raises(
            ValueError,
            match="A cluster source has been set to bss "
            " but no blind source separation results found. "
            " Please run blind source separation method first",
        ):
            self.s.clusterspy.cluster_analysis("bss", n_clusters=2)

    @own_wording
    def test_cluster_decomposition_error(self):
        with pytest.raises(
            ValueError,
            match="A cluster source has been set to "
            "decomposition but no decomposition results found. "
            "Please run decomposition method first",
        ):
            self.s.clusterspy.cluster_analysis("decomposition", n_clusters=2)

    @own_wording
    def test_cluster_nav_mask_error(self):
        nav_mask = np.zeros((11,), dtype=bool)
        with pytest.raises(
            ValueError,
            match="Navigation mask size does not match signal navigation size",
        ):
            self.s.clusterspy.cluster_analysis(
                "signal", n_clusters=2, navigation_mask=nav_mask
            )

    @own_wording
    def test_cluster_sig_mask_error(self):
        sig_mask = np.zeros((11,), dtype=bool)
        with pytest.raises(
            ValueError,
            match="signal mask size does not match your cluster source signal size",
        ):
            self.s.clusterspy.cluster_analysis(
                "signal", n_clusters=2, signal_mask=sig_mask
            )

    @own_wording
    def test_cluster_basesig_mask_error(self):
        sig_mask = np.zeros((11,), dtype=bool)
        with pytest.raises(
            ValueError,
            match="signal mask size does not match your cluster source signal size",
        ):
            self.s.clusterspy.cluster_analysis(
                self.s.deepcopy(), n_clusters=2, signal_mask=sig_mask
            )

    def test_max_cluster_error(self):
        max_clusters = 1
        with pytest.raises(
            ValueError,
            match="The max number of clusters, max_clusters, "
            "must be specified and be >= 2.",
        ):
            self.s.clusterspy.estimate_number_of_clusters(
                "signal",
                max_clusters=max_clusters,
                preprocessing=None,
                algorithm="kmeans",
                metric="elbow",
            )

    @own_wording
    def test_cluster_preprocessing_object_error(self):
        preprocessing = object()
        with pytest.raises(
            ValueError, match=r"The cluster preprocessing method should be either \w*"
        ):
            self.s.clusterspy.cluster_analysis(
                "signal", n_clusters=2, preprocessing=preprocessing
            )

    @own_wording
    def test_clustering_object_error(self):
        empty_object = object()
        with pytest.raises(
            ValueError, match=r"The clustering method should be either \w*"
        ):
            self.s.clusterspy.cluster_analysis(
                "signal", n_clusters=2, algorithm=empty_object
            )

    @own_wording
    def test_estimate_alg_error(self):
        with pytest.raises(
            ValueError,
            match="Estimate number of clusters only works with "
            "supported clustering algorithms",
        ):
            self.s.clusterspy.estimate_number_of_clusters("signal", algorithm="orange")

    @own_wording
    def test_estimate_pre_error(self):
        with pytest.raises(
            ValueError,
            match="Estimate number of clusters only works with "
            "supported preprocessing algorithms",
        ):
            self.s.clusterspy.estimate_number_of_clusters(
                "signal", preprocessing="orange"
            )

    @own_wording
    def test_preprocess_alg_exception(self):
        sc = DummyScalingAlgorithm()
        with pytest.raises(
            ValueError, match=r"The cluster preprocessing method should be \w*"
        ):
            self.s.clusterspy.cluster_analysis("signal", n_clusters=2, preprocessing=sc)

    @xfail(
        "deliberate: keyword arguments (here n_clusters) with an estimator "
        "object are refused with a ParameterError (a ValueError and a "
        "TypeError), where HyperSpy ignores them and then fails on `labels_`",
        raises=ParameterError,
    )
    def test_cluster_alg_exception(self):
        sc = DummyClusterAlgorithm()
        with pytest.raises(AttributeError, match=r"Fited cluster estimator \w*"):
            self.s.clusterspy.cluster_analysis("signal", n_clusters=2, algorithm=sc)


def test_get_methods():
    rng = np.random.default_rng(123)
    signal = signals.Signal1D(rng.random(size=(11, 5, 7)))
    signal.decomposition()
    signal.clusterspy.cluster_analysis("signal", n_clusters=2)
    signal.unfold()
    cl = signal.clusterspy.get_cluster_labels(merged=True)
    np.testing.assert_array_equal(
        cl.data,
        (lr(signal).cluster_labels * np.arange(2)[:, np.newaxis]).sum(0),
    )

    cl = signal.clusterspy.get_cluster_labels(merged=False)
    np.testing.assert_array_equal(cl.data, lr(signal).cluster_labels)

    cl = signal.clusterspy.get_cluster_signals(signal="sum")
    np.testing.assert_array_equal(cl.data, lr(signal).cluster_sum_signals)

    cl = signal.clusterspy.get_cluster_signals(signal="centroid")
    np.testing.assert_array_equal(cl.data, lr(signal).cluster_centroid_signals)
    cl = signal.clusterspy.get_cluster_signals(signal="mean")
    # port rule: HyperSpy's mean is sum / count; clusterspy accumulates the
    # mean itself (with the standard deviation), equal to within rounding
    np.testing.assert_allclose(
        cl.data,
        lr(signal).cluster_sum_signals
        / lr(signal).cluster_labels.sum(1, keepdims=True),
        rtol=1e-14,
    )

    cl = signal.clusterspy.get_cluster_distances()
    np.testing.assert_array_equal(cl.data, lr(signal).cluster_distances)


# -- beyond the port: HyperSpy's results equal clusterspy's -------------------------


def _blob_map():
    """Three well-separated clusters of unequal sizes (the size order, hence
    the label order, is then the same for both), on a 15 x 20 map."""
    X = _three_blobs((150, 100, 50)) + 3.0  # positive, as spectra
    return signals.Signal1D(X.reshape(15, 20, 4))


@pytest.mark.parametrize(
    "source, extra",
    [
        ("signal", {}),
        ("decomposition", {"number_of_components": 3}),
    ],
)
def test_same_partition_and_values_as_hyperspy(source, extra):
    from sklearn.metrics import adjusted_rand_score

    s = _blob_map()
    s.decomposition()  # centre=None: no mean, the same reconstruction for both
    common = dict(
        n_clusters=3,
        source_for_centers=source,
        preprocessing="norm",
        algorithm="kmeans",
        random_state=0,
        n_init=10,
        **extra,
    )
    s.cluster_analysis(source, **common)
    theirs = s.learning_results
    s.clusterspy.cluster_analysis(source, **common)
    ours = lr(s)

    assert adjusted_rand_score(
        theirs.cluster_labels.argmax(0), ours.cluster_labels.argmax(0)
    ) == pytest.approx(1.0)
    # the same size order, so the same one-hot array
    np.testing.assert_array_equal(ours.cluster_labels, theirs.cluster_labels)
    sse_theirs = np.nansum(np.nanmin(theirs.cluster_distances, axis=0) ** 2)
    sse_ours = np.nansum(np.nanmin(ours.cluster_distances, axis=0) ** 2)
    assert sse_ours == pytest.approx(sse_theirs, rel=1e-10)
    np.testing.assert_allclose(ours.cluster_distances, theirs.cluster_distances)
    np.testing.assert_allclose(ours.cluster_centroids, theirs.cluster_centroids)
    np.testing.assert_allclose(ours.cluster_sum_signals, theirs.cluster_sum_signals)
    np.testing.assert_allclose(
        ours.cluster_centroid_signals, theirs.cluster_centroid_signals
    )
    assert ours.number_of_clusters == theirs.number_of_clusters == 3
    # both analyses live side by side: HyperSpy's attributes are untouched
    assert s.learning_results.cluster_labels is theirs.cluster_labels


def test_same_elbow_curve_as_hyperspy():
    """The elbow metric is log W_k in both; the estimate and k range agree."""
    s = signals.Signal1D(_three_blobs())
    kwargs = dict(max_clusters=5, preprocessing="norm", algorithm="kmeans")
    s.estimate_number_of_clusters("signal", metric="elbow", random_state=0, **kwargs)
    theirs = s.learning_results
    s.clusterspy.estimate_number_of_clusters(
        "signal", metric="elbow", random_state=0, **kwargs
    )
    ours = lr(s)
    assert ours.cluster_metric == theirs.cluster_metric == "elbow"
    assert ours.cluster_metric_index == list(theirs.cluster_metric_index)
    assert ours.estimated_number_of_clusters == theirs.estimated_number_of_clusters
    # k <= 3: one partition minimises W_k on three separated clusters, so the
    # values agree; beyond, k-means minima differ (clusterspy runs three
    # k-means++ starts per k, HyperSpy scikit-learn's one), ours being lower
    np.testing.assert_allclose(
        ours.cluster_metric_data[:3], theirs.cluster_metric_data[:3], rtol=1e-9
    )
    assert np.all(ours.cluster_metric_data[3:] <= theirs.cluster_metric_data[3:] + 1e-9)


# -- the compatibility helpers themselves ---------------------------------------------


def test_layout_views_before_and_after_analysis():
    s = signals.Signal2D(np.random.default_rng(0).uniform(size=(4, 6, 5, 7)))
    view = lr(s)
    assert view.cluster_labels is None and view.cluster_metric_index is None
    mask = np.zeros((6, 4), dtype=bool)  # navigation_shape, x first
    mask[0, 0] = True
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=2, navigation_mask=mask, random_state=0
    )
    result = s.clusterspy.result
    view = lr(s)
    assert view.cluster_labels.shape == (2, 24)
    assert view.cluster_labels.dtype == bool
    # the masked position (data order index 0) is in no cluster
    assert not view.cluster_labels[:, 0].any()
    np.testing.assert_array_equal(view.cluster_labels.argmax(0)[1:], result.labels[1:])
    np.testing.assert_array_equal(view.cluster_distances, result.distances.T)
    assert view.cluster_sum_signals.shape == (2, 35)  # flattened, data order
    np.testing.assert_array_equal(
        view.cluster_sum_signals, result.signal_sum.reshape(2, -1)
    )
    np.testing.assert_array_equal(view.cluster_centers, result.centers)
    assert view.cluster_algorithm == "kmeans"
    np.testing.assert_array_equal(
        HyperSpyLearningResults(result).cluster_labels, view.cluster_labels
    )
    # views are copies: writing into them changes nothing stored
    view.cluster_distances[:] = 0
    assert np.nanmax(lr(s).cluster_distances) > 0
    assert "cluster_labels" in repr(view)


def test_parameter_error_is_value_and_type_error():
    s = signals.Signal1D(np.zeros((10, 4)))
    for bad in (dict(preprocessing=object()), dict(algorithm=object())):
        with pytest.raises(ValueError, match="must be None, a name|must be a name"):
            s.clusterspy.cluster_analysis("signal", n_clusters=2, **bad)
        with pytest.raises(TypeError, match="must be None, a name|must be a name"):
            s.clusterspy.cluster_analysis("signal", n_clusters=2, **bad)
    assert issubclass(ParameterError, ValueError)
    assert issubclass(ParameterError, TypeError)


def test_signal_mask_ignored_with_loadings(signal1d):
    mask = np.zeros(7, dtype=bool)
    mask[2:6] = True
    for source in ("decomposition", "bss"):
        with pytest.warns(
            UserWarning,
            match=rf"`signal_mask` is ignored for cluster_source='{source}'",
        ):
            signal1d.clusterspy.cluster_analysis(
                source, n_clusters=3, signal_mask=mask, random_state=0
            )
        labels = signal1d.clusterspy.result.labels
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            signal1d.clusterspy.cluster_analysis(source, n_clusters=3, random_state=0)
        np.testing.assert_array_equal(signal1d.clusterspy.result.labels, labels)


def test_results_follow_unfold_and_fold():
    s = signals.Signal1D(np.random.default_rng(1).random((11, 5, 7)))
    s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    labels = s.clusterspy.result.labels.copy()
    s.unfold()
    assert s.clusterspy.result.navigation_shape == (55,)
    np.testing.assert_array_equal(s.clusterspy.result.labels, labels)
    assert s.clusterspy.get_cluster_labels(merged=True).data.shape == (55,)
    s.fold()
    assert s.clusterspy.result.navigation_shape == (5, 11)
    assert s.clusterspy.get_cluster_labels(merged=True).data.shape == (11, 5)
    # a signal analysed unfolded and folded afterwards is refused: its flat
    # 1-D shape cannot be told apart from `s.T` of another signal
    s.unfold()
    s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    s.fold()
    with pytest.raises(RuntimeError, match=r"navigation shape \(55,\)"):
        s.clusterspy.get_cluster_labels()


def test_estimate_names_on_the_metric():
    s = signals.Signal1D(_three_blobs())
    k = s.clusterspy.estimate_number_of_clusters(
        "signal", max_clusters=4, metric="silhouette", random_state=0
    )
    metric = s.clusterspy.get_cluster_metric()
    assert metric.cluster_metric == "silhouette"
    assert metric.cluster_metric_index == [2, 3, 4]
    assert metric.estimated_number_of_clusters == k == 3
    np.testing.assert_array_equal(metric.cluster_metric_data, metric.values)
    # HyperSpy's own attributes are left to HyperSpy
    assert s.learning_results.cluster_metric_index is None
