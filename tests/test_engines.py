"""The out-of-core (blockwise) engine on lazy signals."""

import logging

import dask.array as da
import numpy as np
import pytest
from dask.callbacks import Callback
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy import MASKED
from clusterspy.engines import BlockwiseKMeans


@pytest.fixture(autouse=True)
def _out_of_core(monkeypatch):
    """This module tests the out-of-core engine on small lazy signals.

    engine="auto" would compute features this small and cluster them in
    memory (see test_memory_kmeans.py); a one-byte default budget keeps them
    out of core, as a map larger than memory would be.
    """
    monkeypatch.setattr(clusterspy.engines, "default_memory_budget", lambda: 1)


def _lazy(signal, chunks=(5, 7, -1)):
    lazy = signal.as_lazy()
    lazy.data = lazy.data.rechunk(chunks)
    return lazy


class LargestResult(Callback):
    """Records the largest array any dask task produced."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        if isinstance(result, np.ndarray):
            self.largest = max(self.largest, result.nbytes)


def _same_result(a, b, exact=True):
    np.testing.assert_array_equal(a.labels, b.labels)
    check = (
        np.testing.assert_array_equal
        if exact
        else (lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12))
    )
    for name in ("signal_mean", "signal_sum", "signal_std", "signal_centroid"):
        np.testing.assert_allclose(
            getattr(a, name), getattr(b, name), rtol=1e-10, err_msg=name
        )
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.centroid_index, b.centroid_index)
    check(a.distances, b.distances)


@pytest.mark.parametrize(
    "preprocessing", [None, "norm", "l1", "standard", "minmax", "sqrt"]
)
def test_lazy_kmeans_labels_equal_eager(small, preprocessing):
    s, truth = small
    lazy = _lazy(s)
    kwargs = dict(preprocessing=preprocessing, n_clusters=3, random_state=4)
    s.clusterspy.cluster_analysis("signal", **kwargs)
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    eager, out = s.clusterspy.result, lazy.clusterspy.result
    assert out.parameters["engine"] == "blockwise"
    assert eager.parameters["engine"] == "memory"
    np.testing.assert_array_equal(out.labels, eager.labels)
    np.testing.assert_allclose(out.signal_mean, eager.signal_mean, rtol=1e-10)
    np.testing.assert_allclose(out.signal_std, eager.signal_std, rtol=1e-9)
    np.testing.assert_allclose(out.centers, eager.centers, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(out.centroid_index, eager.centroid_index)
    np.testing.assert_allclose(out.distances, eager.distances, rtol=1e-4, atol=1e-6)
    # means against NumPy
    X = s.data.reshape(-1, 64).astype(np.float64)
    for j in range(3):
        np.testing.assert_allclose(
            out.signal_mean[j], X[out.labels == j].mean(0), rtol=1e-10
        )
    assert lazy._lazy


def test_blockwise_engine_on_eager_equals_lazy(small):
    s, _ = small
    lazy = _lazy(s, chunks=(4, 20, -1))
    kwargs = dict(
        preprocessing="norm", n_clusters=3, random_state=1, engine="blockwise"
    )
    s.clusterspy.cluster_analysis("signal", **kwargs)
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    _same_result(s.clusterspy.result, lazy.clusterspy.result, exact=False)


def test_lazy_masks_and_nan(small):
    s, _ = small
    s.data[3, 4, 5] = np.nan
    mask = np.zeros(s.axes_manager.navigation_shape, dtype=bool)
    mask[:3, :] = True
    lazy = _lazy(s)
    with pytest.raises(ValueError, match=r"1 navigation position\(s\) have NaN"):
        lazy.clusterspy.cluster_analysis("signal", navigation_mask=mask, n_clusters=3)
    kwargs = dict(
        navigation_mask=mask,
        nan_policy="mask",
        preprocessing="standard",
        n_clusters=3,
        random_state=0,
    )
    s.clusterspy.cluster_analysis("signal", **kwargs)
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    eager, out = s.clusterspy.result, lazy.clusterspy.result
    np.testing.assert_array_equal(out.labels, eager.labels)
    assert out.label_map[3, 4] == MASKED and (out.label_map[:, :3] == MASKED).all()
    np.testing.assert_allclose(out.signal_mean, eager.signal_mean, rtol=1e-10)


def test_standard_scaler_statistics_equal_a_full_fit(small):
    from sklearn.preprocessing import StandardScaler

    s, _ = small
    lazy = _lazy(s)
    lazy.clusterspy.cluster_analysis(
        "signal", preprocessing="standard", n_clusters=3, random_state=0
    )
    fitted, _ = lazy.clusterspy.result.model
    full = StandardScaler().fit(s.data.reshape(-1, 64))
    np.testing.assert_allclose(fitted.mean_, full.mean_, rtol=1e-6)
    np.testing.assert_allclose(fitted.scale_, full.scale_, rtol=1e-6)
    assert fitted.n_samples_seen_ == 300


def test_never_materialises_the_data(small):
    s, _ = small
    big = clusterspy.datasets.spectrum_image(
        shape=(60, 50), n_channels=256, random_state=0, lazy=True, chunks=(10, 10, -1)
    )
    tile_bytes = 10 * 10 * 256 * 4  # one 10 x 10 navigation tile, float32
    data_bytes = 60 * 50 * 256 * 4
    with LargestResult() as watch:
        big.clusterspy.cluster_analysis(
            "signal", preprocessing="norm", n_clusters=3, random_state=0
        )
    # no task ever makes more than one tile: blocks are the data's own tiles,
    # never rows of the map merged by a reshape
    assert 0 < watch.largest <= tile_bytes < data_bytes / 20
    # the memory engine does load everything: the watch sees it
    with LargestResult() as watch:
        big.clusterspy.cluster_analysis(
            "signal",
            preprocessing="norm",
            n_clusters=3,
            random_state=0,
            engine="memory",
        )
    assert watch.largest >= data_bytes


def test_minibatch_streams_and_agrees(small):
    s, truth = small
    lazy = _lazy(s)
    lazy.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="minibatchkmeans",
        n_clusters=3,
        random_state=0,
        batch_size=64,
        engine_kwargs={"passes": 2},
    )
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=0
    )
    ari = adjusted_rand_score(s.clusterspy.result.labels, lazy.clusterspy.result.labels)
    assert ari >= 0.99


@pytest.mark.parametrize(
    "algorithm, kwargs",
    [
        ("agglomerative", {"n_clusters": 3}),
        ("gaussian_mixture", {"n_clusters": 3, "covariance_type": "diag"}),
        ("dbscan", {"eps": 0.25, "min_samples": 5}),
    ],
)
def test_non_streaming_algorithms_fit_on_a_sample(small, algorithm, kwargs):
    s, truth = small
    lazy = _lazy(s)
    with pytest.warns(
        UserWarning,
        match=rf"{algorithm} cannot stream over the data.s blocks: it is fitted on a random sample of 100 navigation positions",
    ):
        lazy.clusterspy.cluster_analysis(
            "signal",
            preprocessing="norm",
            algorithm=algorithm,
            random_state=0,
            engine_kwargs={"fit_sample_size": 100},
            **kwargs,
        )
    r = lazy.clusterspy.result
    assert (r.labels >= 0).all()  # every position assigned
    assert adjusted_rand_score(truth.ravel(), r.labels) > 0.95
    if algorithm == "gaussian_mixture":
        np.testing.assert_allclose(r.membership.sum(1), 1.0)


def test_decomposition_source_of_lazy_signal_runs_in_memory(small):
    s, truth = small
    lazy = _lazy(s)
    lazy.decomposition(output_dimension=5, print_info=False)
    lazy.clusterspy.cluster_analysis(
        "decomposition", number_of_components=3, n_clusters=3, random_state=0
    )
    r = lazy.clusterspy.result
    assert r.parameters["engine"] == "memory"
    assert adjusted_rand_score(truth.ravel(), r.labels) > 0.99
    X = s.data.reshape(-1, 64).astype(float)
    np.testing.assert_allclose(r.signal_mean[0], X[r.labels == 0].mean(0), rtol=1e-10)


def test_progress_is_logged_per_pass(small, caplog):
    s, _ = small
    lazy = _lazy(s)
    with caplog.at_level(logging.INFO, logger="clusterspy"):
        lazy.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "clusterspy: feature statistics (pass 1 over the data)"
    assert any("k-means, iteration 1 (pass 2" in m for m in messages)
    assert messages[-1].startswith("clusterspy: distances and cluster signals (pass")


def test_engine_arguments_are_checked(small):
    s, _ = small
    with pytest.raises(
        ValueError,
        match=r"`engine` must be one of 'auto', 'memory', 'blockwise', 'torch'; got 'gpu'",
    ):
        s.clusterspy.cluster_analysis("signal", n_clusters=3, engine="gpu")
    with pytest.raises(ValueError, match=r"Unknown `engine_kwargs` key\(s\) chunk"):
        s.clusterspy.cluster_analysis(
            "signal", n_clusters=3, engine_kwargs={"chunk": 3}
        )
    with pytest.raises(
        ValueError, match=r"`engine_kwargs\['passes'\]` must be >= 1, not 0"
    ):
        s.clusterspy.cluster_analysis(
            "signal", n_clusters=3, engine_kwargs={"passes": 0}
        )


def test_blockwise_kmeans_estimator_matches_sklearn():
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.3, (200, 4)) for c in (0, 3, 6)]).astype(
        np.float32
    )
    ours = BlockwiseKMeans(n_clusters=3, random_state=2, show_progressbar=False).fit(
        da.from_array(X, chunks=(70, 4))
    )
    theirs = KMeans(n_clusters=3, random_state=2).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(
        ours.cluster_centers_, theirs.cluster_centers_, atol=1e-5
    )  # float32
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-4)
    np.testing.assert_array_equal(ours.predict(X), theirs.labels_)


def test_distributed_local_cluster_gives_the_same_answer(small):
    distributed = pytest.importorskip("distributed")
    s, _ = small
    lazy = _lazy(s)
    kwargs = dict(preprocessing="norm", n_clusters=3, random_state=3)
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    local = lazy.clusterspy.result
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        lazy.clusterspy.cluster_analysis("signal", **kwargs)
    remote = lazy.clusterspy.result
    np.testing.assert_array_equal(remote.labels, local.labels)
    np.testing.assert_allclose(remote.signal_mean, local.signal_mean, rtol=1e-12)
    np.testing.assert_array_equal(remote.centroid_index, local.centroid_index)


def test_blockwise_n_init_compares_starts_on_the_sample():
    # Seed 0 puts two k-means++ centres in one blob: one start ends in a local
    # optimum; three starts compared on the sample find the four blobs.
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [0, 10], [10, 0], [10, 10]], dtype=float)
    truth = np.repeat(np.arange(4), [600, 300, 200, 100])
    X = centres[truth] + rng.normal(0, 0.5, (1200, 2))
    X = da.from_array(X, chunks=(100, 2))
    scores = {}
    for n_init in (1, 3):
        found = [
            adjusted_rand_score(
                truth,
                BlockwiseKMeans(
                    n_clusters=4,
                    n_init=n_init,
                    random_state=seed,
                    show_progressbar=False,
                )
                .fit(X)
                .labels_,
            )
            for seed in range(10)
        ]
        scores[n_init] = np.mean(np.isclose(found, 1.0))
    assert scores[3] == 1.0
    assert scores[3] >= scores[1]


def test_n_init_runs_one_lloyd_over_the_data(small, caplog):
    s, truth = small
    lazy = _lazy(s)
    with caplog.at_level(logging.INFO, logger="clusterspy"):
        lazy.clusterspy.cluster_analysis(
            "signal", n_clusters=3, n_init=4, random_state=0
        )
    first_iterations = [
        r
        for r in caplog.records
        if r.getMessage().startswith("clusterspy: k-means, iteration 1 ")
    ]
    assert len(first_iterations) == 1
    assert adjusted_rand_score(truth.ravel(), lazy.clusterspy.result.labels) == 1.0


def test_default_sample_size_bounds():
    from clusterspy.engines.kmeans import default_sample_size

    assert default_sample_size(2048) == 2048  # 32 MiB of float64
    assert default_sample_size(1024) == 4096
    # algorithms fitted on a sample keep the larger one: the fit is the model
    from clusterspy.engines.kmeans import FIT_SAMPLE_BYTES

    assert default_sample_size(2048, sample_bytes=FIT_SAMPLE_BYTES) == 8192
    assert default_sample_size(2) == 100_000
    assert default_sample_size(10**6) == 1000
    assert default_sample_size(10**6, n_clusters=64) == 3200


@pytest.mark.parametrize("preprocessing", ["norm", "standard"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_blockwise_masks_non_finite_rows_before_preprocessing(preprocessing, bad):
    # scikit-learn's scalers refuse NaN/inf anywhere in a block, even in rows
    # that nan_policy="mask" excludes: lazy must equal eager.
    s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=32, random_state=0)
    s.change_dtype("float64")
    s.data[5, 6, 2] = bad
    kwargs = dict(
        n_clusters=3, preprocessing=preprocessing, nan_policy="mask", random_state=0
    )
    s.clusterspy.cluster_analysis("signal", engine="memory", **kwargs)
    eager = s.clusterspy.result.labels
    lazy = s.as_lazy()
    lazy.clusterspy.cluster_analysis("signal", engine="blockwise", **kwargs)
    np.testing.assert_array_equal(lazy.clusterspy.result.labels, eager)
    assert eager[5 * 16 + 6] == clusterspy.MASKED
