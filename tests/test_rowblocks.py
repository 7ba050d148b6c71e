"""Row blocks of the out-of-core engine: tiny chunks grouped, the block budget,
the sample read with the scan, the rows' norms kept between Lloyd passes."""

import dask
import dask.array as da
import dask.threaded
import numpy as np
import pytest
from dask.callbacks import Callback
from sklearn.preprocessing import Normalizer, StandardScaler

import clusterspy
from clusterspy.engines import rowblocks
from clusterspy.engines.rowblocks import RowBlocks, lloyd_kmeans


@pytest.fixture(autouse=True)
def _out_of_core(monkeypatch):
    # lazy features this small would otherwise be clustered in memory
    monkeypatch.setattr(clusterspy.engines, "default_memory_budget", lambda: 1)


class Tasks(Callback):
    """Counts the dask tasks run (only those working on blocks: ``work=True``)."""

    def __init__(self, work=False):
        super().__init__()
        self.n, self.work = 0, work

    def _posttask(self, key, result, dsk, state, worker_id):
        name = str(key[0] if isinstance(key, tuple) else key)
        if not self.work or "run_group" in name or "run_tile" in name:
            self.n += 1


def _blobs(dtype=np.float64, n=600, d=12, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (3, d))
    X = np.concatenate([rng.normal(c, 1.0, (n // 3, d)) for c in centres])
    return X[rng.permutation(X.shape[0])].astype(dtype)


def _numpy_lloyd(X, centers, max_iter=300):
    """Lloyd's algorithm in float64 NumPy, to strict convergence."""
    X = X.astype(np.float64)
    labels = None
    for _ in range(max_iter):
        d2 = ((X[:, None, :] - centers[None]) ** 2).sum(-1)
        new = d2.argmin(1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centers = np.array([X[labels == j].mean(0) for j in range(centers.shape[0])])
    inertia = float(((X - centers[labels]) ** 2).sum())
    return labels, centers, inertia


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lloyd_passes_equal_a_numpy_lloyd(dtype):
    X = _blobs(dtype)
    start = X[[0, 1, 2]].astype(np.float64)
    lazy = da.from_array(X.reshape(20, 30, -1), chunks=(3, 7, -1))  # tiny tiles
    blocks = RowBlocks(lazy, np.ones(600, dtype=bool))
    centers, labels, means, counts, inertia, _ = lloyd_kmeans(blocks, start, 300, 0.0)
    ref_labels, ref_centers, ref_inertia = _numpy_lloyd(X, start)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(means, ref_centers, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(counts, np.bincount(ref_labels, minlength=3))
    rtol = 1e-10 if dtype == np.float64 else 1e-5  # float32 products
    np.testing.assert_allclose(inertia, ref_inertia, rtol=rtol)
    # the rows' squared norms, computed by the first pass, are kept
    np.testing.assert_allclose(
        blocks.norms(), (X.astype(np.float64) ** 2).sum(1), rtol=1e-12
    )


def test_final_pass_distances_equal_numpy_with_kept_norms():
    X = _blobs(np.float32)
    lazy = da.from_array(X, chunks=(64, -1))
    blocks = RowBlocks(lazy, np.ones(600, dtype=bool))
    start = X[[0, 1, 2]].astype(np.float64)
    _, labels, means, _, _, _ = lloyd_kmeans(blocks, start, 300, 0.0)
    assert blocks.norms() is not None
    distances, centroid_index, _ = rowblocks.final_pass(blocks, labels, means, 3)
    expected = np.linalg.norm(X.astype(np.float64)[:, None] - means[None], axis=2)
    np.testing.assert_allclose(distances, expected, rtol=1e-9, atol=1e-9)
    for j in range(3):
        members = np.flatnonzero(labels == j)
        assert centroid_index[j] == members[np.argmin(expected[members, j])]


def test_tiny_chunks_are_grouped_into_tasks():
    X = np.arange(20 * 30 * 4, dtype=np.float64).reshape(20, 30, 4)
    lazy = da.from_array(X, chunks=(2, 3, -1))  # 100 tiles of 6 rows
    blocks = RowBlocks(lazy, np.ones(600, dtype=bool))
    groups = blocks.groups()
    assert len(blocks.index) == 100 and len(groups) == 1
    blocks.sub_block_bytes = 8 * 4 * 60  # 60 rows of float64: 10 tiles a task
    groups = blocks.groups()
    assert [len(m) for m, _ in groups] == [10] * 10
    # every row once, and scatter puts each task's rows back in place
    np.testing.assert_array_equal(
        np.sort(np.concatenate([idx for _, idx in groups])), np.arange(600)
    )
    parts = blocks.map(_first_feature)
    np.testing.assert_array_equal(blocks.scatter(parts, np.nan), X[..., 0].ravel())
    # a tile as large as a sub-block is a task of its own
    blocks.sub_block_bytes = 8 * 4 * 6
    assert len(blocks.groups()) == 100
    # None: every block whole, one task each
    blocks.sub_block_bytes = None
    assert len(blocks.groups()) == 100


def test_big_chunks_with_small_edges_are_not_grouped():
    # 16 x 16-position chunks of a 34 x 34 map leave 2-position-wide edge
    # tiles: grouping two of them would send every chunk down the unfused
    # path (reads outside the tasks); chunks of half a sub-block or more are
    # never grouped.
    X = np.random.default_rng(0).random((34, 34, 8))
    lazy = da.from_array(X, chunks=(16, 16, -1))
    blocks = RowBlocks(lazy, np.ones(34 * 34, dtype=bool))
    blocks.sub_block_bytes = 2 * 8 * 8 * 16 * 16  # two full tiles of float64
    assert all(len(m) == 1 for m, _ in blocks.groups())
    parts = blocks.map(_first_feature)
    np.testing.assert_array_equal(blocks.scatter(parts, np.nan), X[..., 0].ravel())


def _first_feature(X, keep):
    return X[:, 0]


def test_grouped_tiny_chunks_give_the_labels_of_one_task_per_chunk(small, monkeypatch):
    s, _ = small
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((2, 3, -1))  # 50 tiles of 6 rows
    kwargs = dict(preprocessing="norm", n_clusters=3, random_state=2)
    results = []
    for sub_bytes in (rowblocks.SUB_BLOCK_BYTES, 8 * 64):  # grouped; one row
        monkeypatch.setattr(rowblocks, "SUB_BLOCK_BYTES", sub_bytes)
        with Tasks(work=True) as tasks:
            lazy.clusterspy.cluster_analysis("signal", **kwargs)
        results.append((lazy.clusterspy.result, tasks.n))
    (grouped, n_grouped), (single, n_single) = results
    assert grouped.parameters["engine"] == "blockwise"
    np.testing.assert_array_equal(grouped.labels, single.labels)
    np.testing.assert_array_equal(grouped.centroid_index, single.centroid_index)
    np.testing.assert_allclose(grouped.centers, single.centers, rtol=1e-10)
    np.testing.assert_allclose(grouped.distances, single.distances, rtol=1e-9)
    np.testing.assert_allclose(grouped.signal_mean, single.signal_mean, rtol=1e-10)
    assert n_grouped < n_single / 10


def test_lazy_float32_norm_equals_eager(small):
    s, _ = small
    s.change_dtype("float32")
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((5, 4, -1))
    kwargs = dict(preprocessing="norm", n_clusters=3, random_state=0)
    s.clusterspy.cluster_analysis("signal", **kwargs)
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    eager, out = s.clusterspy.result, lazy.clusterspy.result
    assert (eager.parameters["engine"], out.parameters["engine"]) == (
        "memory",
        "blockwise",
    )
    np.testing.assert_array_equal(out.labels, eager.labels)
    np.testing.assert_allclose(out.centers, eager.centers, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out.distances, eager.distances, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(out.centroid_index, eager.centroid_index)


@pytest.mark.parametrize("norm", ["l2", "l1", "max"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalizer_of_a_block_is_scikit_learns_to_the_bit(norm, dtype):
    X = np.random.default_rng(0).normal(size=(50, 33)).astype(dtype)
    X[3] = 0.0  # a zero row stays zero
    X[7] = 1e-30
    expected = Normalizer(norm=norm).fit(X).transform(X)
    out = rowblocks._block_features(X, Normalizer(norm=norm).fit(X))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, expected)
    assert not np.shares_memory(out, X)


def test_scikit_learn_transforms_skip_the_finite_check_but_not_the_result():
    X = np.random.default_rng(0).normal(size=(20, 5))
    scaler = StandardScaler().fit(X)
    np.testing.assert_array_equal(
        rowblocks._block_features(X, scaler), scaler.transform(X)
    )


def test_the_scan_reads_the_sample_ahead():
    X = _blobs(np.float32)
    lazy = da.from_array(X, chunks=(50, -1))
    blocks = RowBlocks(lazy, np.ones(600, dtype=bool))
    rows = np.sort(np.random.default_rng(0).choice(600, 40, replace=False))
    rowblocks.scan(blocks, prefetch=rows)
    blocks.transform = Normalizer().fit(X)
    with Tasks() as tasks:
        sample = blocks.take(rows)
    assert tasks.n == 0  # no read
    np.testing.assert_array_equal(sample, blocks.transform.transform(X[rows]))
    # once only, and other rows are read as before
    with Tasks() as tasks:
        again = blocks.take(rows)
    assert tasks.n > 0
    np.testing.assert_array_equal(again, sample)


class _CountingArray:
    """An array whose reads (``__getitem__``) are counted, as a file's would be."""

    def __init__(self, data):
        self.data, self.reads = data, 0
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim

    def __getitem__(self, item):
        self.reads += 1
        return self.data[item]


@pytest.mark.parametrize("algorithm", ["kmeans", "gaussian_mixture"])
def test_the_sample_costs_no_read_of_its_own(small, caplog, algorithm):
    s, _ = small
    data = _CountingArray(s.data)
    lazy = s.as_lazy()
    lazy.data = da.from_array(data, chunks=(5, 5, -1), asarray=True)  # 12 tiles
    kwargs = dict(preprocessing="norm", n_clusters=3, random_state=0)
    with caplog.at_level("INFO", logger="clusterspy"):
        if algorithm == "kmeans":
            lazy.clusterspy.cluster_analysis("signal", **kwargs)
        else:
            with pytest.warns(UserWarning, match="fitted on a random sample"):
                lazy.clusterspy.cluster_analysis(
                    "signal", algorithm=algorithm, **kwargs
                )
    passes = sum("over the data" in r.getMessage() for r in caplog.records)
    assert passes >= 3
    # every tile once a pass, and the 3 centroid spectra at the end: no read
    # for the sample
    assert data.reads == 12 * passes + 3
    eager = s.deepcopy()
    if algorithm == "kmeans":
        eager.clusterspy.cluster_analysis("signal", **kwargs)
        np.testing.assert_array_equal(
            lazy.clusterspy.result.labels, eager.clusterspy.result.labels
        )


def test_a_sample_drawn_after_masking_nan_is_read_again(small):
    s, _ = small
    s.data[2, 3, :] = np.nan
    data = _CountingArray(s.data)
    lazy = s.as_lazy()
    lazy.data = da.from_array(data, chunks=(5, 5, -1), asarray=True)
    kwargs = dict(preprocessing="norm", n_clusters=3, random_state=0, nan_policy="mask")
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    s.clusterspy.cluster_analysis("signal", **kwargs)
    np.testing.assert_array_equal(
        lazy.clusterspy.result.labels, s.clusterspy.result.labels
    )


def test_block_budget_is_checked():
    X = da.zeros((10, 4), chunks=(5, 4))
    keep = np.ones(10, dtype=bool)
    with pytest.raises(
        ValueError,
        match=r"^`block_budget` must be a number of bytes >= 1 \(or None for "
        r"536870912\), not 0\.$",
    ):
        RowBlocks(X, keep, block_budget=0)
    with pytest.raises(ValueError, match=r"not 1\.5\.$"):
        RowBlocks(X, keep, block_budget=1.5)
    assert RowBlocks(X, keep).block_budget == rowblocks.BLOCK_BUDGET


def test_block_budget_in_engine_kwargs_is_checked(small):
    s, _ = small
    lazy = s.as_lazy()
    with pytest.raises(
        ValueError, match=r"^`engine_kwargs\['block_budget'\]` must be >= 1, not 0\.$"
    ):
        lazy.clusterspy.cluster_analysis(
            "signal", n_clusters=3, engine_kwargs={"block_budget": 0}
        )


def test_block_budget_bounds_the_threads(small):
    X = da.zeros((64, 100), dtype=np.float32, chunks=(16, 100))  # 6400-byte tasks
    keep = np.ones(64, dtype=bool)
    blocks = RowBlocks(X, keep, block_budget=2 * 6400)  # a task counts twice
    blocks.sub_block_bytes = None  # one chunk a task
    if dask.threaded.CPU_COUNT > 1:  # dask's defaults
        assert blocks.threads() == 1
    with dask.config.set(num_workers=4, scheduler="threads"):
        assert blocks.threads() == 1
        blocks.block_budget = 4 * 6400
        assert blocks.threads() == 2
        blocks.block_budget = 10**9
        assert blocks.threads() is None  # the scheduler's own
    with dask.config.set(scheduler="sync"):
        blocks.block_budget = 1
        assert blocks.threads() is None  # not the threaded scheduler
    # a lazy map through the engine with a one-byte budget: one thread, same labels
    s, _ = small
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((5, 5, -1))
    kwargs = dict(preprocessing="norm", n_clusters=3, random_state=0)
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    default = lazy.clusterspy.result.labels
    lazy.clusterspy.cluster_analysis(
        "signal", engine_kwargs={"block_budget": 1}, **kwargs
    )
    np.testing.assert_array_equal(lazy.clusterspy.result.labels, default)


def test_a_distributed_client_sizes_its_own_workers():
    distributed = pytest.importorskip("distributed")
    X = da.zeros((64, 100), dtype=np.float32, chunks=(16, 100))
    blocks = RowBlocks(X, np.ones(64, dtype=bool), block_budget=1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        assert blocks.threads() is None
        np.testing.assert_array_equal(
            blocks.scatter(blocks.map(_first_feature), np.nan), np.zeros(64)
        )


def _row_part(X, keep, part):
    return part


def test_tiles_and_groups_give_the_same_rows():
    X = np.random.default_rng(0).normal(size=(20, 30, 4))
    lazy = da.from_array(X, chunks=(10, 10, -1))
    blocks = RowBlocks(lazy, np.ones(600, dtype=bool))
    blocks.sub_block_bytes = 8 * 4 * 10  # a tile (100 rows) a task: fused reads
    tile = blocks.scatter(blocks.map(_first_feature), np.nan)
    np.testing.assert_array_equal(tile, X[..., 0].ravel())
    # row arrays of more than one dimension go through the grouped path
    labels = np.arange(1200).reshape(600, 2)
    out = blocks.scatter(blocks.map(_row_part, rows=(labels,)), -1)
    np.testing.assert_array_equal(out, labels)
    blocks.sub_block_bytes = rowblocks.SUB_BLOCK_BYTES  # one group
    np.testing.assert_array_equal(blocks.scatter(blocks.map(_first_feature), 0), tile)
