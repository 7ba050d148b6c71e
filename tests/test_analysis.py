"""cluster_analysis: recovered phases, cluster signals, eager/lazy, parity."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy import MASKED, NOISE


def _groupby_mean(X, labels, k):
    return np.stack([X[labels == j].astype(np.float64).mean(axis=0) for j in range(k)])


# -- the foundation issue's acceptance figures ---------------------------------------------


def test_signal_source_recovers_phases(phases_64):
    s, truth = phases_64
    s = s.deepcopy()
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=0
    )
    labels = s.clusterspy.get_cluster_labels(merged=True).data
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) >= 0.99


def test_decomposition_source_recovers_phases(phases_64):
    s, truth = phases_64
    s = s.deepcopy()
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition", number_of_components=3, n_clusters=3, random_state=0
    )
    labels = s.clusterspy.result.label_map
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) >= 0.99
    # cluster signals come from the raw data by default: physical spectra
    means = s.clusterspy.get_cluster_signals("mean").data
    assert means.min() >= 0
    X = s.data.reshape(-1, 512)
    np.testing.assert_allclose(
        means, _groupby_mean(X, labels.ravel(), 3), rtol=1e-6, atol=0
    )


def test_cluster_signals_match_numpy(small):
    s, _ = small
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=1
    )
    r = s.clusterspy.result
    X = s.data.reshape(-1, 64).astype(np.float64)
    labels = r.labels
    for j in range(3):
        members = X[labels == j]
        np.testing.assert_allclose(r.signal_mean[j], members.mean(0), rtol=1e-6)
        np.testing.assert_allclose(r.signal_sum[j], members.sum(0), rtol=1e-6)
        np.testing.assert_allclose(
            r.signal_std[j], members.std(0), rtol=1e-6, atol=1e-9
        )
        assert r.counts[j] == len(members)
    # sizes non-increasing with the label index
    assert np.all(np.diff(r.counts) <= 0)
    assert r.counts.sum() == labels.size
    # the centroid is one of its own members: the one nearest its centre
    Xp = X / np.linalg.norm(X, axis=1, keepdims=True)
    for j in range(3):
        idx = r.centroid_index[j]
        assert labels[idx] == j
        np.testing.assert_array_equal(r.signal_centroid[j], X[idx])
        members = np.flatnonzero(labels == j)
        d = np.linalg.norm(Xp[members] - Xp[members].mean(0), axis=1)
        assert idx == members[np.argmin(d)]
    # distances are Euclidean distances to the member means in feature space
    centers = _groupby_mean(Xp, labels, 3)
    np.testing.assert_allclose(r.centers, centers, rtol=1e-6)  # float32 features
    expected = np.linalg.norm(Xp[:, None, :] - centers[None], axis=2)
    np.testing.assert_allclose(r.distances, expected, rtol=1e-6, atol=1e-9)


def test_getters_shapes_and_calibration(small):
    s, _ = small
    s.axes_manager["x"].offset = 5.0
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    merged = s.clusterspy.get_cluster_labels(merged=True)
    assert merged.data.shape == (15, 20)
    assert merged.axes_manager.signal_shape == (20, 15)
    x = merged.axes_manager.signal_axes[0]
    assert (x.name, x.units, x.scale, x.offset) == ("x", "nm", 2.0, 5.0)
    binary = s.clusterspy.get_cluster_labels()
    assert binary.data.shape == (3, 15, 20)
    np.testing.assert_array_equal(binary.data.argmax(0), merged.data)
    assert binary.data.sum(0).max() == 1
    assert binary.axes_manager.navigation_axes[0].name == "Cluster index"
    dist = s.clusterspy.get_cluster_distances()
    assert dist.data.shape == (3, 15, 20)
    np.testing.assert_array_equal(dist.data.argmin(0), merged.data)  # k-means
    count = s.clusterspy.get_cluster_signals("count")
    np.testing.assert_array_equal(count.data, np.bincount(merged.data.ravel()))
    with pytest.raises(RuntimeError, match="gives no soft memberships"):
        s.clusterspy.get_cluster_membership()
    with pytest.raises(ValueError, match="`signal` must be one of 'mean'"):
        s.clusterspy.get_cluster_signals("median")


def test_eager_and_lazy_identical(small):
    s, _ = small
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((5, 7, 64))
    for target in (s, lazy):
        target.clusterspy.cluster_analysis(
            "signal", preprocessing="standard", n_clusters=3, random_state=7
        )
    e, la = s.clusterspy.result, lazy.clusterspy.result
    np.testing.assert_array_equal(e.labels, la.labels)
    np.testing.assert_allclose(e.signal_mean, la.signal_mean, rtol=1e-12)
    np.testing.assert_allclose(e.signal_std, la.signal_std, rtol=1e-12)
    np.testing.assert_array_equal(e.signal_centroid, la.signal_centroid)
    assert lazy._lazy  # the signal is still lazy


def test_same_partition_as_hyperspy_builtin(phases_64):
    s, _ = phases_64
    s = s.deepcopy()
    s.cluster_analysis("signal", preprocessing="norm", n_clusters=3, random_state=0)
    theirs = s.get_cluster_labels(merged=True).data
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=0
    )
    ours = s.clusterspy.get_cluster_labels(merged=True).data
    assert adjusted_rand_score(theirs.ravel(), ours.ravel()) == 1.0


def test_labels_ordered_by_size_where_hyperspy_is_not():
    # Cluster sizes 10, 40, 20, 30 in the estimator's order: HyperSpy 2.x applies
    # the inverse of the size permutation, so its label 0 is not the largest.
    rng = np.random.default_rng(0)
    sizes = [10, 40, 20, 30]
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    X = np.concatenate(
        [
            c + 0.1 * rng.standard_normal((n, 2))
            for c, n in zip(centres, sizes, strict=True)
        ]
    )
    import hyperspy.api as hs

    s = hs.signals.Signal1D(X)

    class Fixed:  # an estimator that returns the labels in the given order
        def fit(self, X):
            self.labels_ = np.repeat(np.arange(4), sizes)
            return self

    with pytest.warns(UserWarning, match="cannot be stored"):  # a local class
        s.clusterspy.cluster_analysis("signal", algorithm=Fixed())
    r = s.clusterspy.result
    np.testing.assert_array_equal(r.counts, [40, 30, 20, 10])
    np.testing.assert_array_equal(r.label_order, [1, 3, 2, 0])
    assert (r.labels[:10] == 3).all() and (r.labels[10:50] == 0).all()


# -- sources ---------------------------------------------------------------------------


def test_decomposition_centers_add_the_mean_back(small):
    s, _ = small
    s.decomposition(centre="navigation", print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition",
        source_for_centers="decomposition",
        number_of_components=4,
        n_clusters=3,
        random_state=0,
    )
    r = s.clusterspy.result
    lr = s.learning_results
    rec = lr.loadings[:, :4] @ lr.factors[:, :4].T + lr.mean
    for j in range(3):
        members = rec[r.labels == j]
        # float32 decomposition results: compare at float32 precision
        np.testing.assert_allclose(
            r.signal_mean[j], members.mean(0), rtol=1e-5, atol=1e-5
        )
        np.testing.assert_allclose(
            r.signal_sum[j], members.sum(0), rtol=1e-5, atol=1e-3
        )
        np.testing.assert_allclose(
            r.signal_std[j], members.std(0), rtol=1e-4, atol=1e-5
        )
        np.testing.assert_allclose(
            r.signal_centroid[j], rec[r.centroid_index[j]], rtol=1e-5, atol=1e-5
        )
    # the mean of the reconstruction is close to the raw data's mean
    X = s.data.reshape(-1, 64)
    raw = _groupby_mean(X, r.labels, 3)
    assert np.abs(r.signal_mean - raw).max() < 0.1 * raw.max()


def test_decomposition_per_pixel_centre(small):
    s, _ = small
    s.decomposition(centre="signal", print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition",
        source_for_centers="decomposition",
        number_of_components=3,
        n_clusters=3,
        random_state=0,
    )
    r = s.clusterspy.result
    lr = s.learning_results
    rec = lr.loadings[:, :3] @ lr.factors[:, :3].T + lr.mean
    np.testing.assert_allclose(
        r.signal_mean[0], rec[r.labels == 0].mean(0), rtol=1e-5, atol=1e-5
    )


def test_bss_source(small):
    s, truth = small
    s.decomposition(print_info=False)
    s.blind_source_separation(3, print_info=False)
    s.clusterspy.cluster_analysis(
        "bss", preprocessing="norm", n_clusters=3, random_state=0
    )
    r = s.clusterspy.result
    assert r.parameters["number_of_components"] == 3
    assert adjusted_rand_score(truth.ravel(), r.labels) >= 0.95


def test_user_signal_source(small):
    s, truth = small
    import hyperspy.api as hs

    # "element maps": the summed counts in three energy windows, as images
    # (what EDS `get_lines_intensity` gives), stacked, then transposed so that
    # the maps' axes are navigation axes.
    windows = [s.isig[a:b].sum(-1).T for a, b in ((0, 20), (20, 40), (40, 64))]
    stack = hs.stack(windows)
    with pytest.raises(ValueError, match="pass `stack.T`"):
        s.clusterspy.cluster_analysis(stack, n_clusters=3)
    s.clusterspy.cluster_analysis(
        stack.T, preprocessing="norm", n_clusters=3, random_state=0
    )
    r = s.clusterspy.result
    assert r.parameters["cluster_source_kind"] == "user"
    assert r.centers.shape == (3, 3)
    assert r.signal_mean.shape == (3, 64)  # cluster signals still from the data
    assert adjusted_rand_score(truth.ravel(), r.labels) > 0.9
    # cluster signals from the user signal itself
    s.clusterspy.cluster_analysis(
        stack.T, source_for_centers=stack.T, n_clusters=3, random_state=0
    )
    assert s.clusterspy.get_cluster_signals().data.shape == (3, 3)


def test_signal_mask_excludes_channels(small):
    s, _ = small
    mask = np.zeros(64, dtype=bool)
    mask[:32] = True
    s.clusterspy.cluster_analysis(
        "signal", signal_mask=mask, n_clusters=3, random_state=0
    )
    r = s.clusterspy.result
    assert r.centers.shape == (3, 32)
    X = s.data.reshape(-1, 64)[:, 32:].astype(float)
    np.testing.assert_allclose(r.centers, _groupby_mean(X, r.labels, 3), rtol=1e-9)
    assert r.signal_mean.shape == (3, 64)  # cluster signals over every channel


def test_navigation_mask_hyperspy_convention(small):
    s, _ = small
    nav_shape = s.axes_manager.navigation_shape  # (20, 15), x first
    mask = np.zeros(nav_shape, dtype=bool)
    mask[:5, :] = True  # x < 5
    s.clusterspy.cluster_analysis(
        "signal", navigation_mask=mask, n_clusters=3, random_state=0
    )
    label_map = s.clusterspy.result.label_map  # data order (y, x)
    assert (label_map[:, :5] == MASKED).all()
    assert (label_map[:, 5:] >= 0).all()
    r = s.clusterspy.result
    assert r.masked_count == 75 and r.counts.sum() == 300 - 75
    assert np.isnan(r.distances[r.labels == MASKED]).all()
    # the same mask as a signal (data order), as `s.sum(-1) > x` would give
    import hyperspy.api as hs

    as_signal = hs.signals.Signal2D(np.ascontiguousarray(mask.T))
    s.clusterspy.cluster_analysis(
        "signal", navigation_mask=as_signal, n_clusters=3, random_state=0
    )
    np.testing.assert_array_equal(s.clusterspy.result.label_map, label_map)
    with pytest.raises(ValueError, match=r"in data order: pass `mask.T`"):
        s.clusterspy.cluster_analysis("signal", navigation_mask=mask.T, n_clusters=3)


def test_nan_policy(small):
    s, _ = small
    s.data[2, 3, 10] = np.nan
    with pytest.raises(
        ValueError,
        match=r"1 navigation position\(s\) have NaN or infinite features \(the first at navigation index \(3, 2\)\)",
    ):
        s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=3, random_state=0, nan_policy="mask"
    )
    assert s.clusterspy.result.label_map[2, 3] == MASKED
    assert s.clusterspy.result.masked_count == 1


# -- algorithms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "algorithm, kwargs",
    [
        ("kmeans", {"n_clusters": 3}),
        ("minibatchkmeans", {"n_clusters": 3, "n_init": 3}),
        ("agglomerative", {"n_clusters": 3}),
        ("spectral", {"n_clusters": 3, "affinity": "nearest_neighbors"}),
        ("spectralclustering", {"n_clusters": 3, "affinity": "nearest_neighbors"}),
        ("gaussian_mixture", {"n_clusters": 3, "covariance_type": "diag"}),
        ("birch", {"n_clusters": 3, "threshold": 0.05}),
        ("dbscan", {"eps": 0.25, "min_samples": 5}),
        ("hdbscan", {"min_cluster_size": 20}),
    ],
)
def test_every_named_algorithm_recovers_phases(small, algorithm, kwargs):
    s, truth = small
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", algorithm=algorithm, random_state=0, **kwargs
    )
    r = s.clusterspy.result
    clustered = r.labels >= 0
    assert clustered.mean() > 0.9
    assert adjusted_rand_score(truth.ravel()[clustered], r.labels[clustered]) > 0.95
    assert np.all(np.diff(r.counts) <= 0)


def test_gaussian_mixture_memberships(small):
    s, truth = small
    est = s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="gaussian_mixture",
        n_clusters=3,
        covariance_type="diag",
        random_state=0,
        return_info=True,
    )
    r = s.clusterspy.result
    np.testing.assert_allclose(r.membership.sum(1), 1.0)
    np.testing.assert_array_equal(r.membership.argmax(1), r.labels)
    # reordered consistently with the estimator's own components
    X = s.data.reshape(-1, 64).astype(float)
    proba = est.predict_proba(X / np.linalg.norm(X, axis=1, keepdims=True))
    np.testing.assert_allclose(r.membership, proba[:, r.label_order], atol=1e-12)
    m = s.clusterspy.get_cluster_membership()
    assert m.data.shape == (3, 15, 20)


def test_dbscan_noise_label():
    import hyperspy.api as hs

    rng = np.random.default_rng(0)
    X = np.concatenate(
        [rng.normal(0, 0.05, (50, 2)), rng.normal(5, 0.05, (30, 2)), [[20.0, 20.0]]]
    )
    s = hs.signals.Signal1D(X)
    s.clusterspy.cluster_analysis("signal", algorithm="dbscan", eps=0.5, min_samples=3)
    r = s.clusterspy.result
    assert r.labels[-1] == NOISE and r.noise_count == 1
    np.testing.assert_array_equal(r.counts, [50, 30])
    merged = s.clusterspy.get_cluster_labels(merged=True).data
    assert merged[-1] == -1


def test_user_estimator_is_cloned_and_returned(small):
    from sklearn.cluster import KMeans

    s, truth = small
    mine = KMeans(n_clusters=3, n_init=2)
    fitted = s.clusterspy.cluster_analysis(
        "signal", algorithm=mine, random_state=5, return_info=True
    )
    assert not hasattr(mine, "labels_")  # not fitted in place
    assert fitted is not mine and fitted.random_state == 5
    assert adjusted_rand_score(truth.ravel(), s.clusterspy.result.labels) > 0.95


def test_sklearn_pipeline_preprocessing(small):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    s, truth = small
    pipe = make_pipeline(Normalizer(), PCA(n_components=3, random_state=0))
    s.clusterspy.cluster_analysis(
        "signal", preprocessing=pipe, n_clusters=3, random_state=0
    )
    r = s.clusterspy.result
    assert r.centers.shape == (3, 3)
    assert not hasattr(pipe[-1], "components_")
    assert adjusted_rand_score(truth.ravel(), r.labels) > 0.95


def test_random_state_none_is_recorded_and_reproducible(small):
    s, _ = small
    s.clusterspy.cluster_analysis(
        "signal", algorithm="minibatchkmeans", n_clusters=3, n_init=1
    )
    first = s.clusterspy.result
    seed = first.parameters["random_state"]
    assert isinstance(seed, int)
    s.clusterspy.cluster_analysis(
        "signal", algorithm="minibatchkmeans", n_clusters=3, n_init=1, random_state=seed
    )
    np.testing.assert_array_equal(s.clusterspy.result.labels, first.labels)


def test_provenance(small):
    s, _ = small
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=0, n_init=4
    )
    r = s.clusterspy.result
    assert r.parameters["preprocessing"] == "norm"
    assert r.parameters["algorithm"] == "kmeans"
    assert r.parameters["kwargs"] == {"n_clusters": 3, "n_init": 4}
    assert r.parameters["random_state"] == 0
    assert set(r.versions) == {
        "clusterspy",
        "hyperspy",
        "scikit-learn",
        "numpy",
        "dask",
    }
    assert "n_init=4" in r.parameters["estimator"]


# -- predict -----------------------------------------------------------------------------


def test_predict_on_next_map():
    s, truth = clusterspy.datasets.spectrum_image(
        shape=(20, 15), n_channels=64, return_truth=True, random_state=3
    )
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=0
    )
    own = s.clusterspy.predict(s)
    np.testing.assert_array_equal(own.data, s.clusterspy.result.label_map)
    # a new noisy map of the same phases (same generator seed -> same spectra)
    other, other_truth = clusterspy.datasets.spectrum_image(
        shape=(20, 15), n_channels=64, return_truth=True, random_state=3
    )
    rng = np.random.default_rng(1)
    other.data = rng.poisson(other.data + 1.0).astype("float32")
    predicted = s.clusterspy.predict(other)
    assert predicted.data.shape == (15, 20)
    assert adjusted_rand_score(other_truth.ravel(), predicted.data.ravel()) > 0.95


def test_predict_decomposition_and_no_predict_algorithms(small):
    s, _ = small
    s.decomposition(print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition", number_of_components=3, n_clusters=3, random_state=0
    )
    np.testing.assert_array_equal(
        s.clusterspy.predict(s).data, s.clusterspy.result.label_map
    )
    s.clusterspy.cluster_analysis("signal", algorithm="agglomerative", n_clusters=3)
    pred = s.clusterspy.predict(s).data  # nearest centre: agrees with most labels
    assert (pred == s.clusterspy.result.label_map).mean() > 0.95
