"""The in-memory engine's own k-means, float32 end to end, and lazy-but-small signals."""

import logging

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import Normalizer

import clusterspy
from clusterspy.engines import choose_engine
from clusterspy.engines.gemm import assign_in_memory, lloyd_in_memory
from clusterspy.engines.rowblocks import RowBlocks, lloyd_kmeans
from clusterspy.features import _transform_copy_by_blocks, plan_features


@pytest.fixture
def phases4():
    return clusterspy.datasets.spectrum_image(
        shape=(40, 30), n_channels=128, n_phases=4, return_truth=True, random_state=2
    )


def test_float32_stays_float32(phases4):
    s, truth = phases4
    assert s.data.dtype == np.float32
    before = s.data.copy()
    est = s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=4, random_state=0, return_info=True
    )
    r = s.clusterspy.result
    assert r.parameters["feature_dtype"] == "float32"
    assert est.cluster_centers_.dtype == np.float32
    np.testing.assert_array_equal(s.data, before)  # the user's data untouched
    assert adjusted_rand_score(truth.ravel(), r.labels) == 1.0
    # the features the engine sees: float32, scaled in our own copy
    plan = plan_features(s, "signal", "norm")
    Xp, _ = plan.compute()
    assert Xp.dtype == np.float32 and not np.may_share_memory(Xp, s.data)
    assert plan.features_owned


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", ["l2", "l1", "max"])
def test_norm_by_blocks_equals_normalizer(dtype, norm):
    # bit for bit: the l2 path repeats scikit-learn's operations itself
    X = np.random.default_rng(0).normal(size=(5000, 37)).astype(dtype)
    X[3] = 0.0  # a zero row stays zero, as with scikit-learn
    X[4] = 1e-20  # a row below 10 eps of norm is left unscaled, as there
    before = X.copy()
    ours = _transform_copy_by_blocks(Normalizer(norm=norm), X)
    np.testing.assert_array_equal(ours, Normalizer(norm=norm).fit_transform(X))
    assert ours.dtype == dtype
    np.testing.assert_array_equal(X, before)


def test_norm_gives_the_labels_of_scikit_learn_kmeans(phases4):
    s, truth = phases4
    kwargs = dict(preprocessing="norm", n_clusters=4, random_state=0)
    s.clusterspy.cluster_analysis("signal", **kwargs)
    fast = s.clusterspy.result
    s.clusterspy.cluster_analysis(
        "signal", engine_kwargs={"exact_sklearn": True}, **kwargs
    )
    exact = s.clusterspy.result
    assert "exact_sklearn" not in repr(fast.parameters["estimator"])
    np.testing.assert_array_equal(fast.labels, exact.labels)
    np.testing.assert_allclose(fast.centers, exact.centers, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fast.distances, exact.distances, rtol=1e-6, atol=1e-9)
    # exact_sklearn is scikit-learn's KMeans on the same features
    Xp = Normalizer().fit_transform(s.data.reshape(-1, 128))
    km = KMeans(4, n_init="auto", random_state=0).fit(Xp)
    assert adjusted_rand_score(km.labels_, exact.labels) == 1.0


def test_a_kmeans_object_is_fitted_by_scikit_learn(phases4):
    s, _ = phases4
    est = s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm=KMeans(4, n_init=1, random_state=5),
        return_info=True,
    )
    Xp = Normalizer().fit_transform(s.data.reshape(-1, 128))
    km = KMeans(4, n_init=1, random_state=5).fit(Xp)
    np.testing.assert_array_equal(est.labels_, km.labels_)


def test_sample_seeded_kmeans_recovers_the_phases(phases4):
    s, truth = phases4
    for seed in range(3):
        est = s.clusterspy.cluster_analysis(
            "signal",
            preprocessing="norm",
            n_clusters=4,
            random_state=seed,
            engine_kwargs={"init_sample_size": 300},  # 300 of 1200 rows seed it
            return_info=True,
        )
        r = s.clusterspy.result
        assert adjusted_rand_score(truth.ravel(), r.labels) == 1.0
        # the fitted estimator predicts its own labels
        Xp = Normalizer().fit_transform(s.data.reshape(-1, 128))
        np.testing.assert_array_equal(est.predict(Xp), est.labels_)


def test_same_seed_same_labels(phases4):
    s, _ = phases4
    kwargs = dict(
        preprocessing="norm",
        n_clusters=6,
        random_state=7,
        engine_kwargs={"init_sample_size": 100},
    )
    s.clusterspy.cluster_analysis("signal", **kwargs)
    first = s.clusterspy.result.labels.copy()
    s.clusterspy.cluster_analysis("signal", **kwargs)
    np.testing.assert_array_equal(s.clusterspy.result.labels, first)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lloyd_in_memory_equals_the_blockwise_passes(dtype):
    rng = np.random.default_rng(1)
    X = np.concatenate(
        [rng.normal(c, 1.0, size=(700, 9)) for c in (0.0, 2.5, 5.0)]
    ).astype(dtype)
    start = X[[0, 800, 1500]].astype(np.float64) + 0.3
    run = lloyd_in_memory(X, start, 300, 0.0)
    blocks = RowBlocks(X, np.ones(X.shape[0], dtype=bool))
    centers, labels, means, counts, inertia, n_iter = lloyd_kmeans(
        blocks, start, 300, 0.0
    )
    np.testing.assert_array_equal(run.labels, labels)
    np.testing.assert_allclose(run.means, means, rtol=1e-10)
    np.testing.assert_array_equal(run.counts, counts)
    assert run.n_iter == n_iter
    # distances to the members' means, against NumPy in float64
    expected = np.linalg.norm(
        X.astype(np.float64)[:, None, :] - run.means[None], axis=2
    )
    np.testing.assert_allclose(run.distances, expected, rtol=1e-9, atol=1e-9)
    lab, _ = assign_in_memory(X, run.means)
    np.testing.assert_array_equal(lab, run.labels)


def test_lazy_small_runs_in_memory_with_the_eager_labels(small, caplog):
    s, truth = small
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((5, 7, -1))
    kwargs = dict(preprocessing="norm", n_clusters=3, random_state=4)
    s.clusterspy.cluster_analysis("signal", **kwargs)
    with caplog.at_level(logging.INFO, logger="clusterspy"):
        lazy.clusterspy.cluster_analysis("signal", **kwargs)
    out = lazy.clusterspy.result
    assert out.parameters["engine"] == "memory"
    assert "fit the memory budget" in caplog.text
    assert "pass 1 over the data" not in caplog.text
    np.testing.assert_array_equal(out.labels, s.clusterspy.result.labels)
    np.testing.assert_allclose(
        out.signal_mean, s.clusterspy.result.signal_mean, rtol=1e-10
    )
    assert lazy._lazy
    # with a tiny budget it stays out of core
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="clusterspy"):
        lazy.clusterspy.cluster_analysis(
            "signal", engine_kwargs={"memory_budget": 1000}, **kwargs
        )
    assert lazy.clusterspy.result.parameters["engine"] == "blockwise"
    assert "exceed the memory budget" in caplog.text
    assert "pass 1 over the data" in caplog.text
    np.testing.assert_array_equal(
        lazy.clusterspy.result.labels, s.clusterspy.result.labels
    )


def test_choose_engine_by_budget():
    import dask.array as da

    lazy_int = da.zeros((10, 10), dtype="uint16")  # 800 bytes as float64
    assert choose_engine("auto", lazy_int, memory_budget=800) == "memory"
    assert choose_engine("auto", lazy_int, memory_budget=799) == "blockwise"
    assert choose_engine("blockwise", np.zeros((2, 2))) == "blockwise"
    assert choose_engine("auto", np.zeros((2, 2)), memory_budget=1) == "memory"


def test_new_engine_kwargs_are_checked(small):
    s, _ = small
    with pytest.raises(
        TypeError, match=r"`engine_kwargs\['exact_sklearn'\]` must be True or False"
    ):
        s.clusterspy.cluster_analysis(
            "signal", n_clusters=3, engine_kwargs={"exact_sklearn": 1}
        )
    with pytest.raises(
        ValueError, match=r"`engine_kwargs\['memory_budget'\]` must be >= 1, not 0"
    ):
        s.clusterspy.cluster_analysis(
            "signal", n_clusters=3, engine_kwargs={"memory_budget": 0}
        )


@pytest.mark.parametrize("algorithm", ["kmeans", "gaussian_mixture"])
def test_sub_blocks_give_the_labels_of_whole_chunks(small, monkeypatch, algorithm):
    from clusterspy.engines import rowblocks

    s, truth = small
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((-1, -1, -1))  # one chunk: 300 rows
    kwargs = dict(
        preprocessing="standard",
        n_clusters=3,
        random_state=1,
        engine="blockwise",
        algorithm=algorithm,
    )
    results = []
    for sub_bytes in (None, 8 * 64 * 7):  # whole chunk; 7 rows at a time
        monkeypatch.setattr(rowblocks, "SUB_BLOCK_BYTES", sub_bytes)
        if algorithm == "gaussian_mixture":
            with pytest.warns(UserWarning, match="fitted on a random sample"):
                lazy.clusterspy.cluster_analysis("signal", **kwargs)
        else:
            lazy.clusterspy.cluster_analysis("signal", **kwargs)
        results.append(lazy.clusterspy.result)
    whole, split = results
    np.testing.assert_array_equal(split.labels, whole.labels)
    assert adjusted_rand_score(truth.ravel(), split.labels) == 1.0
    np.testing.assert_array_equal(split.counts, whole.counts)
    np.testing.assert_array_equal(split.centroid_index, whole.centroid_index)
    np.testing.assert_allclose(split.centers, whole.centers, rtol=1e-10)
    np.testing.assert_allclose(split.distances, whole.distances, rtol=1e-9)
    np.testing.assert_allclose(split.signal_mean, whole.signal_mean, rtol=1e-10)
    np.testing.assert_allclose(split.signal_std, whole.signal_std, rtol=1e-9)
    if algorithm == "gaussian_mixture":
        np.testing.assert_allclose(split.membership, whole.membership, rtol=1e-9)


def test_sample_seeded_memory_and_blockwise_give_the_same_labels(phases4):
    # both engines seed k-means++ on the same rows of the scaled features (the
    # memory engine scales its sample before the whole copy exists)
    s, truth = phases4
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((10, 15, -1))
    kwargs = dict(
        preprocessing="norm",
        n_clusters=4,
        random_state=3,
        engine_kwargs={"init_sample_size": 200},
    )
    s.clusterspy.cluster_analysis("signal", **kwargs)
    lazy.clusterspy.cluster_analysis("signal", engine="blockwise", **kwargs)
    eager, out = s.clusterspy.result, lazy.clusterspy.result
    assert eager.parameters["engine"] == "memory"
    assert out.parameters["engine"] == "blockwise"
    np.testing.assert_array_equal(out.labels, eager.labels)
    np.testing.assert_allclose(out.centers, eager.centers, rtol=1e-6, atol=1e-8)


def test_partition_rows_follow_the_kept_positions():
    # n_clusters="auto" hands the engine the rule's labels of some navigation
    # positions; the engine maps them to the rows of the kept features.
    from clusterspy.engines.memory import _partition_rows

    keep = np.array([True, False, True, True, False, True])
    positions = np.array([1, 2, 3, 5])  # position 1 is masked: dropped
    labels = np.array([0, 1, 0, 1])
    rows, kept_labels = _partition_rows((positions, labels), keep, 2)
    np.testing.assert_array_equal(rows, [1, 2, 3])  # rows of positions 2, 3, 5
    np.testing.assert_array_equal(kept_labels, [1, 0, 1])
    # a cluster left without a kept position: no partition start
    assert _partition_rows((np.array([1, 2]), np.array([0, 1])), keep, 2) is None
    assert _partition_rows(None, keep, 2) is None
