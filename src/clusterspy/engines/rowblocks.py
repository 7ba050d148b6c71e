"""Row blocks: every pass of the out-of-core engine is one dask map-reduce.

A lazy signal's features are a dask array shaped ``navigation + (features,)``
whose blocks are the data's own navigation tiles (a 64 x 64 tile of a map is
one block: flattening the navigation first would make dask merge tiles into
whole rows of the map, hundreds of MiB each). Each block knows the flat
navigation indices of its rows. Each pass (statistics for preprocessing, one Lloyd iteration of
k-means, the final labelling, the cluster signals) maps a small function over
the row blocks with :func:`dask.delayed` and reduces the per-block results
(sums, counts, labels of that block) on the client. Only navigation-sized
arrays (labels, distances) and cluster-sized ones (centres, sums) ever live in
memory; the data are read block by block, as many at a time as the scheduler
runs in parallel.

Blocks are sized by bytes, not only by the file's chunks: a chunk larger
than ``SUB_BLOCK_BYTES`` is worked on in sub-blocks of rows inside its
task; chunks much smaller (a few rows of a map each) are grouped, several to
a task, up to about that size, so that the work per task outweighs the
scheduling of it. The number of tasks run side by side on dask's threaded
scheduler is bounded so that the chunks they hold stay within
``block_budget`` bytes (``BLOCK_BUDGET`` by default;
``engine_kwargs={"block_budget": bytes}`` in ``cluster_analysis``).

It is plain dask: the same code runs on the threaded scheduler and, unchanged,
on a ``dask.distributed`` cluster when a ``Client`` is active. The functions
mapped over blocks are module-level so that they pickle to remote workers.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np

from .._compute import (
    block_moments,
    finish_moments,
    merge_moments,
    nearest_members,
)
from .._utils.progress import progress as _progress
from ..preprocessing import normalize_rows
from ..validation import as_working_float
from ._loop import lloyd_loop

__all__ = ["RowBlocks", "as_row_blocks"]

_logger = logging.getLogger("clusterspy")

# Row blocks of eager arrays wrapped for the engine are about this size.
_EAGER_BLOCK_BYTES = 64 * 2**20

# Inside a task, a block (the file's chunk, whatever its size) is preprocessed
# and reduced in sub-blocks of rows of about this many bytes as float64, so
# that a task holds its chunk as read plus bounded temporaries: with 256 MiB
# chunks, a float64 preprocessed copy of the chunk and the products on it
# would otherwise triple the memory of each of the tasks run side by side.
# Small enough that a sub-block's preprocessed copy stays in cache between
# the steps of a pass over it, and that its memory is reused rather than
# mapped afresh (measured on one 32 MiB chunk of 2048 float32 channels: a
# Lloyd pass 19 ms with 8 MiB sub-blocks, 27 ms with 32 MiB, against 53 ms
# to decompress the chunk). Chunks of a few rows are grouped up to this
# size into one task (RowBlocks.groups).
SUB_BLOCK_BYTES = 8 * 2**20

# Bytes of the file's chunks that the tasks run side by side on the threaded
# scheduler may hold at once, each counted twice (see threads_within): 256 MiB
# chunks run one at a time, 32 MiB ones on up to 8 threads.
BLOCK_BUDGET = 512 * 2**20


def check_block_budget(value):
    """``block_budget`` checked: None (``BLOCK_BUDGET``) or bytes >= 1.

    Examples
    --------
    >>> from clusterspy.engines.rowblocks import check_block_budget
    >>> check_block_budget(None) == 512 * 2**20, check_block_budget(2**30)
    (True, 1073741824)
    >>> check_block_budget(0)
    Traceback (most recent call last):
    ...
    ValueError: `block_budget` must be a number of bytes >= 1 (or None for 536870912), not 0.
    """
    import numbers

    if value is None:
        return BLOCK_BUDGET
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            "`block_budget` must be a number of bytes >= 1 (or None for "
            f"{BLOCK_BUDGET}), not {value!r}."
        )
    return int(value)


class _AsRead:
    """In ``others`` of :meth:`RowBlocks.map`: the features' own block, as read.

    When the cluster signals come from the very data the features are read
    from, each task passes its block both ways instead of reading it twice.
    """


AS_READ = _AsRead()


def _is_as_read(other):
    return isinstance(other, _AsRead)


def as_row_blocks(array):
    """A dask array with navigation tiles as blocks and the last axis whole.

    ``array`` has shape ``navigation + (features,)``; a NumPy array (2-D) is
    wrapped in row blocks of about 64 MiB.
    """
    import dask.array as da

    if not isinstance(array, da.Array):
        rows = max(1, _EAGER_BLOCK_BYTES // max(1, array.shape[-1] * array.itemsize))
        chunks = ((rows,) if array.ndim == 2 else ("auto",) * (array.ndim - 1)) + (-1,)
        return da.from_array(array, chunks=chunks)
    if len(array.chunks[-1]) > 1:
        array = array.rechunk({array.ndim - 1: -1})
    return array


def nav_tiles(array):
    """The flat navigation indices (data order) of the rows of every block."""
    nav_shape = array.shape[:-1]
    offsets = [np.cumsum((0,) + c) for c in array.chunks[:-1]]
    out = []
    for block in np.ndindex(*array.numblocks[:-1]):
        ranges = [
            np.arange(o[b], o[b + 1]) for o, b in zip(offsets, block, strict=True)
        ]
        grids = np.meshgrid(*ranges, indexing="ij")
        out.append(np.ravel_multi_index([g.ravel() for g in grids], nav_shape))
    return out


class RowBlocks:
    """Blocks of a feature array, with the rows to use and a transform.

    Parameters
    ----------
    features : dask or NumPy array, shape navigation + (n_features,)
        Features before preprocessing; a 2-D ``(n_samples, n_features)``
        array is one navigation axis.
    keep : numpy.ndarray of bool, shape (n_samples,)
        Rows to use (False for masked rows), flat in data order.
    transform : object or None
        A fitted preprocessing step, applied to each block as it is read.
    show_progressbar : bool or None
        dask's progress bar for each pass.
    block_budget : int or None
        Bytes of the data's chunks that tasks run side by side may hold at
        once on dask's threaded scheduler (fewer threads for larger chunks);
        None: ``BLOCK_BUDGET``. A ``dask.distributed`` cluster sizes its
        workers itself.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from clusterspy.engines.rowblocks import RowBlocks
    >>> X = da.ones((8, 8, 3), chunks=(2, 2, 3))  # 16 tiles of 4 rows
    >>> blocks = RowBlocks(X, np.ones(64, dtype=bool))
    >>> len(blocks.index), len(blocks.groups())  # tiny tiles: one task
    (16, 1)
    """

    def __init__(
        self, features, keep, transform=None, show_progressbar=None, block_budget=None
    ):
        self.features = as_row_blocks(features)
        self.keep = keep
        self.transform = transform
        self.show_progressbar = show_progressbar
        self.block_budget = check_block_budget(block_budget)
        self.index = nav_tiles(self.features)
        self.n_samples = int(np.prod(self.features.shape[:-1], dtype=np.int64))
        self.n_features = int(self.features.shape[-1])
        self.passes = 0
        #: Bytes (as float64) of the sub-blocks a task works on, and the size
        #: up to which tiny chunks are grouped into one task; None: every
        #: block whole, one task each.
        self.sub_block_bytes = SUB_BLOCK_BYTES
        self._groups = None
        # raw rows read by a scan for a take that follows (see scan)
        self._prefetched = None
        # squared norms of the preprocessed kept rows, for that transform
        self._norms = None

    def _delayed_blocks(self, array):
        return array.to_delayed().reshape(-1)

    def groups(self):
        """The tasks of a pass: ``(block numbers, flat row indices)`` each.

        Consecutive blocks (in dask's block order) are grouped while their
        rows, as float64, fit :attr:`sub_block_bytes`: a map stored in
        chunks of a few rows then makes tasks of about one sub-block each,
        not thousands of tasks whose scheduling outweighs their work. A
        block as large or larger is a task of its own, and when the largest
        block holds half a sub-block or more nothing is grouped: a map of
        big chunks with small edge chunks keeps one task per chunk, whose
        read dask fuses into the task (:meth:`map` takes that path only
        when no task groups blocks).
        """
        key = self.sub_block_bytes
        if self._groups is not None and self._groups[0] == key:
            return self._groups[1]
        out, members, size = [], [], 0
        row_bytes = 8 * max(1, self.n_features)
        largest = max((idx.size for idx in self.index), default=0) * row_bytes
        if key is not None and 2 * largest >= key:
            key = None  # big chunks: one task each
        for b, idx in enumerate(self.index):
            nbytes = idx.size * row_bytes
            if members and (key is None or size + nbytes > key):
                out.append(members)
                members, size = [], 0
            members.append(b)
            size += nbytes
        if members:
            out.append(members)
        groups = [
            (
                m,
                self.index[m[0]]
                if len(m) == 1
                else np.concatenate([self.index[b] for b in m]),
            )
            for m in out
        ]
        self._groups = (self.sub_block_bytes, groups)
        return groups

    def map(self, func, *args, rows=(), others=(), description="pass"):
        """Apply ``func(X, keep, *args, *row_parts, *other_blocks)`` to every task.

        ``X`` is the preprocessed features (2-D) of one task's rows (one
        block, or a group of small blocks, see :meth:`groups`) and ``keep``
        its part of the kept-rows mask. ``rows`` are NumPy arrays over all
        samples (labels) of which each task gets its own rows, so that no
        task carries a navigation-sized array. ``others`` are dask arrays
        with the same navigation blocks whose rows are passed last (raw data
        for the cluster signals). Returns the per-task results, computed in
        one ``dask.compute`` call, in the order of :meth:`groups`.
        """

        groups = self.groups()
        if all(len(members) == 1 for members, _ in groups) and all(
            np.ndim(r) == 1 for r in rows
        ):
            tasks = self._tile_tasks(func, args, rows, others)
        else:
            tasks = self._group_tasks(func, args, rows, others, groups)
        self.passes += 1
        _logger.info("clusterspy: %s (pass %d over the data)", description, self.passes)
        start = time.perf_counter()
        threads = self.threads()
        out = self._compute(tasks, threads)
        _logger.debug(
            "clusterspy: pass %d over the data took %.3f s (%d tasks, %s threads)",
            self.passes,
            time.perf_counter() - start,
            len(groups),
            "the scheduler's" if threads is None else threads,
        )
        return out

    def _tile_tasks(self, func, args, rows, others):
        """One task per block, made with the read of the block.

        A ``dask.array.blockwise`` over the features, the kept-rows mask and
        the row arrays (as dask arrays in the same navigation blocks): dask
        fuses the reading of a chunk (``from_zarr``, HyperSpy's lazy files)
        into the task that works on it, so that a chunk is read only when a
        thread is free to work on it, and the chunks in memory are those of
        the tasks running (separate reading tasks would run ahead of the
        work and hold one more chunk each).
        """
        import dask.array as da

        nav = self.features.ndim - 1
        shape, chunks = self.features.shape[:nav], self.features.chunks[:nav]
        ind = tuple(range(nav))
        pairs = [self.features, ind + (nav,)]
        for r in (self.keep, *rows):
            pairs += [da.from_array(np.asarray(r).reshape(shape), chunks=chunks), ind]
        for j, o in enumerate(others):
            if not _is_as_read(o):
                pairs += [o, ind + (nav + 1 + j,)]
        # The output keeps the features' last axis (one block): a contracted
        # axis would keep dask from fusing the read into the task.
        out = da.blockwise(
            _run_tile,
            ind + (nav,),
            *pairs,
            concatenate=True,
            dtype=object,
            meta=np.empty((0,) * (nav + 1), dtype=object),
            adjust_chunks={nav: 1},
            as_read=[_is_as_read(o) for o in others],
            transform=self.transform,
            work=func,
            work_args=args,
            n_rows=len(rows),
            sub_bytes=self.sub_block_bytes,
        )
        # the array computed whole, not its blocks one by one (to_delayed):
        # dask fuses the reads into the tasks only when it optimises an array
        return out

    def _group_tasks(self, func, args, rows, others, groups):
        """One task per group of blocks, each block read by a task of its own."""
        import dask

        blocks = self._delayed_blocks(self.features)
        other_blocks = [
            o if _is_as_read(o) else self._delayed_blocks(o) for o in others
        ]
        tasks = []
        for members, idx in groups:
            parts = [r[idx] for r in rows]
            tasks.append(
                dask.delayed(_run_group, pure=False)(
                    [blocks[b] for b in members],
                    self.keep[idx],
                    self.transform,
                    func,
                    (*args, *parts),
                    len(parts),
                    self.sub_block_bytes,
                    [
                        ob if _is_as_read(ob) else [ob[b] for b in members]
                        for ob in other_blocks
                    ],
                )
            )
        return tasks

    def _compute(self, tasks, workers=None):
        """``dask.compute(*tasks)`` on ``workers`` threads, one BLAS thread each."""
        import dask
        from threadpoolctl import threadpool_limits

        kwargs = {}
        if workers is not None:
            kwargs["num_workers"] = workers
        if not isinstance(tasks, list):  # the array of _tile_tasks
            with _progress(self.show_progressbar), threadpool_limits(1, "blas"):
                return list(tasks.compute(**kwargs).ravel())
        # Tasks run side by side, one per core: a product of a block with a
        # few centres is bound by memory, and BLAS teams in every task would
        # only contend for the same cores.
        with _progress(self.show_progressbar), threadpool_limits(1, user_api="blas"):
            return list(dask.compute(*tasks, **kwargs))

    def threads(self):
        """Threads for a pass on dask's threaded scheduler; None: its default.

        See ``threads_within``: each task counts twice the bytes of its
        chunks (the largest task's).
        """
        itemsize = np.dtype(self.features.dtype).itemsize
        largest = max(idx.size for _, idx in self.groups()) * self.n_features * itemsize
        return threads_within(largest, self.block_budget)

    def scatter(self, parts, fill, dtype=None):
        """Per-task row arrays (from :meth:`map`) back into one array over all samples."""
        first = np.asarray(parts[0])
        out = np.full(
            (self.n_samples,) + first.shape[1:], fill, dtype=dtype or first.dtype
        )
        for (_, idx), part in zip(self.groups(), parts, strict=True):
            out[idx] = part
        return out

    def aligned(self, other):
        """Whether ``other`` (a dask array) has the same navigation blocks."""
        import dask.array as da

        n = self.features.ndim - 1
        return (
            isinstance(other, da.Array)
            and other.ndim == n + 1
            and other.chunks[:n] == self.features.chunks[:n]
        )

    def sample(self, n, random_state):
        """Preprocessed features of ``n`` kept rows drawn without replacement.

        Rows are drawn with ``random_state`` and returned in data order; all
        kept rows when there are at most ``n``. Only the blocks holding drawn
        rows are read.
        """
        kept = sample_positions(self.keep, n, random_state)
        return self.take(kept), kept

    def take(self, rows):
        """Preprocessed features of the given rows (flat indices, sorted).

        Rows that a ``scan`` read ahead (``prefetch``) are not read
        again.
        """
        import dask

        rows = np.asarray(rows)
        if self._prefetched is not None:
            ahead, raw = self._prefetched
            self._prefetched = None  # once: the memory is the sample's
            if np.array_equal(ahead, rows):
                return _block_features(raw, self.transform)
        chosen = np.zeros(self.n_samples, dtype=bool)
        chosen[rows] = True
        blocks = self._delayed_blocks(self.features)
        tasks, flat = [], []
        for i, idx in enumerate(self.index):
            local = np.flatnonzero(chosen[idx])
            if local.size:
                tasks.append(
                    dask.delayed(_take_rows, pure=False)(
                        blocks[i], local, self.transform
                    )
                )
                flat.append(idx[local])
        with _progress(self.show_progressbar):
            parts = dask.compute(*tasks)
        order = np.argsort(np.concatenate(flat), kind="stable")
        return np.concatenate(parts, axis=0)[order]

    def norms(self):
        """Squared norms (float64) of the preprocessed kept rows, if known.

        The first Lloyd pass computes them; they hold as long as the rows
        kept and the transform are the same objects.
        """
        if self._norms is None:
            return None
        transform, keep, x2 = self._norms
        return x2 if transform is self.transform and keep is self.keep else None


def threads_within(task_bytes, block_budget=None):
    """Threads of dask's threaded scheduler whose tasks fit ``block_budget``.

    A task reading a chunk of ``task_bytes`` holds up to twice that while it
    reads: zarr decodes a chunk into a buffer of its own, then copies it
    into the array it returns. So ``block_budget // (2 * task_bytes)``
    threads, at least one (measured: 256 MiB chunks of a 3 GiB zarr map
    peak at 0.93 GiB on one thread, at 1.2 GiB on two). None (the
    scheduler's own number) when that is not fewer, or when another
    scheduler runs delayed tasks (a ``dask.distributed`` Client sizes its
    workers itself; a configured pool).

    Examples
    --------
    >>> import dask
    >>> from clusterspy.engines.rowblocks import threads_within
    >>> with dask.config.set(scheduler="threads", num_workers=4):
    ...     threads_within(256 * 2**20), threads_within(64 * 2**20, 2**30)
    (1, None)
    """
    import dask
    import dask.threaded
    from dask.base import get_scheduler

    block_budget = check_block_budget(block_budget)
    if dask.config.get("pool", None) is not None:
        return None
    # the scheduler that computes delayed tasks now: the threaded one by
    # default, a distributed Client's when one is active
    if get_scheduler(collections=[dask.delayed(0)]) is not dask.threaded.get:
        return None
    default = dask.config.get("num_workers", None) or dask.threaded.CPU_COUNT
    fit = max(1, block_budget // max(1, 2 * int(task_bytes)))
    return fit if fit < default else None


def compute_within(collection, chunks_of, block_budget=None):
    """``collection.compute()`` with the threads that ``chunks_of``'s chunks allow.

    For a computation that reads whole chunks of the dask array
    ``chunks_of`` (the centroid spectra: one chunk read for each), the
    threads are bounded by ``threads_within`` of its largest chunk.

    Examples
    --------
    >>> import dask.array as da
    >>> from clusterspy.engines.rowblocks import compute_within
    >>> x = da.ones((4, 3), chunks=(2, 3))
    >>> compute_within(x.vindex[[0, 3]], x).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    chunk = int(np.prod([max(c) for c in chunks_of.chunks], dtype=np.int64))
    workers = threads_within(chunk * chunks_of.dtype.itemsize, block_budget)
    kwargs = {} if workers is None else {"num_workers": workers}
    return collection.compute(**kwargs)


def sample_positions(keep, n, random_state):
    """Flat indices (sorted) of ``n`` kept rows drawn without replacement.

    All kept rows when there are at most ``n``; the draw of
    :meth:`RowBlocks.sample`.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.rowblocks import sample_positions
    >>> sample_positions(np.array([True, False, True]), 5, 0).tolist()
    [0, 2]
    """
    kept = np.flatnonzero(keep)
    if kept.size > n:
        rng = np.random.default_rng(random_state)
        kept = np.sort(rng.choice(kept, size=n, replace=False))
    return kept


def _block_features(block, transform, keep=None, scratch=None):
    """A block's rows as working floats, preprocessed by ``transform``.

    ``scratch`` (a list, or None) lends the memory of the preprocessed rows
    of the previous sub-block to this one, where the transform allows it:
    the caller must not keep the rows returned beyond the next call.
    """
    X = np.asarray(block)
    X = X.reshape(-1, X.shape[-1])
    X = as_working_float(X)  # float64 for integers, float32 for float16
    if transform is not None:
        if keep is not None and not keep.all():
            # Excluded rows (masked, or NaN under nan_policy="mask") are never
            # used, but scikit-learn's scalers refuse NaN and inf anywhere.
            X = np.where(keep[:, None], X, 0).astype(X.dtype, copy=False)
        X = _transform(transform, X, scratch)
    return X


def _transform(transform, X, scratch=None):
    """``transform.transform(X)``, without re-checking rows known finite.

    Every row a task transforms is finite (the kept rows) or zeroed, so
    scikit-learn's finiteness checks, a pass over the block each, are
    skipped. ``Normalizer`` (the ``"norm"``/``"l1"`` preprocessing) is
    computed here exactly as scikit-learn computes it (the same operations,
    so the same values to the last bit), without its validation copy.
    """
    import sklearn
    from sklearn.preprocessing import Normalizer

    if (
        type(transform) is Normalizer
        and transform.norm in ("l1", "l2", "max")
        and isinstance(X, np.ndarray)
        and X.dtype in (np.float32, np.float64)
    ):
        out = None
        if scratch:
            out = (
                scratch[0][: X.shape[0]] if scratch[0].shape[0] >= X.shape[0] else None
            )
            out = out if out is not None and out.dtype == X.dtype else None
        out = normalize_rows(X, transform.norm, out)
        if scratch is not None and not scratch:
            scratch.append(out)
        return out
    with sklearn.config_context(assume_finite=True):
        return transform.transform(X)


def _flat_rows(blocks):
    """The rows of one block, or of a group of blocks in order, as one 2-D array."""
    if len(blocks) == 1:
        block = np.asarray(blocks[0])
        return block.reshape(-1, block.shape[-1])
    return np.concatenate(
        [np.asarray(b).reshape(-1, np.shape(b)[-1]) for b in blocks], axis=0
    )


def _run_tile(
    block, keep, *rest, as_read, transform, work, work_args, n_rows, sub_bytes
):
    """:func:`_run_block` (``work``) on one block, with its rows' arrays.

    ``rest`` is the row arrays' blocks (navigation-shaped), then the other
    arrays' blocks. Returns ``work``'s result in an object array of one
    element per navigation axis: the pass computes the array of them.
    """
    rows = [np.asarray(r).ravel() for r in rest[:n_rows]]
    given = iter(rest[n_rows:])
    others = [AS_READ if flag else next(given) for flag in as_read]
    result = _run_block(
        block,
        np.asarray(keep).ravel(),
        transform,
        work,
        (*work_args, *rows),
        n_rows,
        sub_bytes,
        *others,
    )
    out = np.empty((1,) * np.ndim(block), dtype=object)
    out[(0,) * np.ndim(block)] = result
    return out


def _run_group(blocks, keep, transform, func, args, n_row_args, sub_bytes, others):
    """:func:`_run_block` on the rows of a group of blocks (one or more)."""
    return _run_block(
        _flat_rows(blocks),
        keep,
        transform,
        func,
        args,
        n_row_args,
        sub_bytes,
        *[o if _is_as_read(o) else _flat_rows(o) for o in others],
    )


def _run_block(block, keep, transform, func, args, n_row_args, sub_bytes, *others):
    """``func`` on a block, in sub-blocks of rows when the block is large.

    The last ``n_row_args`` of ``args``, and ``others``, have one row per
    row of the block and are cut with it into sub-blocks of about
    ``sub_bytes`` (as float64; None: the whole block). The
    sub-blocks' results are combined as ``func.combine`` says (one entry
    per returned value: ``"rows"`` concatenated, ``"sum"`` added,
    ``"moments"`` merged, ``"min"``/``"max"``, ``"best_d"``/``"best_i"`` the
    nearest candidates); a function without ``combine`` gets the whole
    block.
    """
    split = len(args) - n_row_args
    args, row_args = args[:split], args[split:]
    block = np.asarray(block)
    flat = block.reshape(-1, block.shape[-1])
    n = flat.shape[0]
    others = [flat if _is_as_read(o) else np.asarray(o).reshape(n, -1) for o in others]
    combine = getattr(func, "combine", None)
    rows = n if sub_bytes is None else max(1, sub_bytes // (8 * max(1, flat.shape[1])))
    if combine is None or n <= rows:
        X = _block_features(flat, transform, keep)
        return func(X, keep, *args, *row_args, *others)
    results = []
    # functions that keep no row of X lend its memory to the next sub-block
    scratch = [] if getattr(func, "borrows_rows", False) else None
    for start in range(0, n, rows):
        sl = slice(start, start + rows)
        X = _block_features(flat[sl], transform, keep[sl], scratch)
        results.append(
            func(
                X,
                keep[sl],
                *args,
                *[r[sl] for r in row_args],
                *[o[sl] for o in others],
            )
        )
    return _combine(combine, results)


def _combine(spec, results):
    """Combine the results of a function over consecutive sub-blocks of rows."""
    if spec == "moments":
        total = results[0]
        for r in results[1:]:
            total = merge_moments(total, r)
        return total
    out = []
    for j, how in enumerate(spec):
        values = [r[j] for r in results]
        if how == "rows":
            out.append(None if values[0] is None else np.concatenate(values, axis=0))
        elif how == "sum":
            total = values[0]
            for v in values[1:]:
                total = total + v
            out.append(total)
        elif how == "moments":
            if values[0] is None:
                out.append(None)
                continue
            total = values[0]
            for v in values[1:]:
                total = merge_moments(total, v)
            out.append(total)
        elif how == "min":
            out.append(np.min(values, axis=0))
        elif how == "max":
            out.append(np.max(values, axis=0))
        elif how == "best_d":
            best_d, best_i = values[0].copy(), results[0][j + 1].copy()
            for r in results[1:]:
                better = r[j] < best_d  # ties keep the earlier row
                best_d[better] = r[j][better]
                best_i[better] = r[j + 1][better]
            out.extend([best_d, best_i])
        elif how == "best_i":
            continue  # taken with best_d
        else:  # pragma: no cover - a programming error
            raise ValueError(f"unknown combination {how!r}")
    return tuple(out)


def _take_rows(block, rows, transform):
    block = np.asarray(block)
    return _block_features(block.reshape(-1, block.shape[-1])[rows], transform)


# -- statistics for preprocessing ------------------------------------------------------


def _scan_block(X, keep, *wanted):
    finite = np.isfinite(X).all(axis=1)
    use = keep & finite
    values = X[use] if not use.all() else X
    stats = block_moments(values, np.zeros(values.shape[0], dtype=np.int64), 1)
    if values.shape[0]:
        low, high = values.min(axis=0), values.max(axis=0)
    else:
        low = np.full(X.shape[1], np.inf)
        high = np.full(X.shape[1], -np.inf)
    # rows read ahead for a sample (see scan), as read
    ahead = X[wanted[0]] if wanted else None
    return finite, stats, low, high, ahead


_scan_block.combine = ("rows", "moments", "min", "max", "rows")


def scan(blocks, prefetch=None):
    """One pass: finite rows, and per-feature count, mean, variance, min, max.

    Statistics are over the kept, finite rows of the raw features.
    ``prefetch`` (flat row indices, sorted, or None) are rows to read in the
    same pass: the next :meth:`RowBlocks.take` of exactly those rows (the
    k-means sample, drawn before the scan as it will be drawn after it)
    returns them, preprocessed, without reading the data again.
    """
    rows = ()
    if prefetch is not None:
        wanted = np.zeros(blocks.n_samples, dtype=bool)
        wanted[prefetch] = True
        rows = (wanted,)
    results = blocks.map(_scan_block, rows=rows, description="feature statistics")
    finite = blocks.scatter([r[0] for r in results], True)
    if prefetch is not None:
        # each task's rows in the task's order, then in data order
        order = np.argsort(
            np.concatenate([idx[wanted[idx]] for _, idx in blocks.groups()]),
            kind="stable",
        )
        ahead = np.concatenate([r[4] for r in results], axis=0)[order]
        blocks._prefetched = (np.asarray(prefetch), ahead)
    total = (
        np.zeros(1),
        np.zeros((1, blocks.n_features)),
        np.zeros((1, blocks.n_features)),
    )
    for r in results:
        total = merge_moments(total, r[1])
    count, mean, m2 = total
    low = np.min([r[2] for r in results], axis=0)
    high = np.max([r[3] for r in results], axis=0)
    var = m2[0] / max(count[0], 1)
    return finite, {
        "count": int(count[0]),
        "mean": mean[0],
        "var": var,
        "min": low,
        "max": high,
    }


def fit_preprocessor(preprocessor, blocks, stats, sample_size, random_state):
    """Fit ``preprocessor`` from the scan's statistics, without reading the data.

    Row-wise transforms (``Normalizer``, square roots) have nothing to learn;
    ``StandardScaler`` and ``MinMaxScaler`` get exactly the statistics a fit on
    all kept rows would give. Any other object is fitted on a seeded sample of
    ``sample_size`` kept rows, with a warning.
    """
    from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler

    from ..preprocessing import VarianceStabilizer, WithCoordinates

    if isinstance(preprocessor, WithCoordinates):
        # the coordinates need no fitting: fit the inner step on the features
        nc = preprocessor.n_coordinates
        inner_stats = {
            key: (v[:-nc] if isinstance(v, np.ndarray) else v)
            for key, v in stats.items()
        }
        if preprocessor.preprocessor is not None:
            inner = _FirstColumns(blocks, nc)
            fit_preprocessor(
                preprocessor.preprocessor, inner, inner_stats, sample_size, random_state
            )
        preprocessor.n_features_in_ = blocks.n_features
        return preprocessor
    n_features = blocks.n_features
    probe = np.zeros((1, n_features))
    if isinstance(preprocessor, (Normalizer, VarianceStabilizer)):
        return preprocessor.fit(probe)
    if isinstance(preprocessor, MinMaxScaler):
        preprocessor.partial_fit(np.vstack([stats["min"], stats["max"]]))
        preprocessor.n_samples_seen_ = stats["count"]
        return preprocessor
    if isinstance(preprocessor, StandardScaler):
        preprocessor.fit(probe)
        var = stats["var"]
        preprocessor.n_samples_seen_ = stats["count"]
        preprocessor.mean_ = stats["mean"] if preprocessor.with_mean else None
        if preprocessor.with_std:
            preprocessor.var_ = var
            scale = np.sqrt(var)
            # as scikit-learn does: constant features are left unscaled
            scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
            preprocessor.scale_ = scale
        else:
            preprocessor.var_ = preprocessor.scale_ = None
        return preprocessor
    warnings.warn(
        f"The preprocessing {type(preprocessor).__name__} is fitted on a random sample "
        f"of {sample_size} navigation positions (lazy data are not loaded whole), then "
        "applied to every block.",
        UserWarning,
        stacklevel=4,
    )
    raw = RowBlocks(blocks.features, blocks.keep, None, blocks.show_progressbar)
    sample, _ = raw.sample(sample_size, random_state)
    preprocessor.fit(sample)
    return preprocessor


class _FirstColumns(RowBlocks):
    """The row blocks without their last ``n`` columns (the coordinates)."""

    def __init__(self, blocks, n):
        super().__init__(
            blocks.features[..., :-n], blocks.keep, None, blocks.show_progressbar
        )


# -- k-means by exact Lloyd passes --------------------------------------------------------


def _lloyd_block(X, keep, centers, c2, with_norms, *x2):
    """Labels, members' sums and counts, and inertia of a block's kept rows.

    The cross products with the centres are one matrix product in the
    features' dtype (float32 stays float32: the pass is bound by memory);
    the labels need only ``|c|^2 - 2 x.c``. The rows' squared norms (for the
    inertia) are given (``x2``, from an earlier pass) or computed here in
    float64 and returned (``with_norms``).
    """
    labels = np.full(X.shape[0], -2, dtype=np.int64)
    all_kept = keep.all()
    Xk = X if all_kept else X[keep]
    k = centers.shape[0]
    norms = None
    if with_norms:
        norms = np.full(X.shape[0], np.nan)
    if Xk.shape[0] == 0:
        return labels, np.zeros((k, X.shape[1])), np.zeros(k), 0.0, norms
    cross = Xk @ centers.T.astype(Xk.dtype, copy=False)
    d2 = c2[None, :] - 2.0 * cross
    lab = np.argmin(d2, axis=1)
    if x2:
        x2k = x2[0] if all_kept else x2[0][keep]
    else:
        x2k = np.einsum("ij,ij->i", Xk, Xk, dtype=np.float64)
        norms[keep] = x2k
    best = np.maximum(d2[np.arange(lab.size), lab] + x2k, 0.0)
    count, mean, _ = block_moments(Xk, lab, k, with_m2=False)
    labels[keep] = lab
    return labels, mean * count[:, None], count, float(best.sum()), norms


_lloyd_block.combine = ("rows", "sum", "sum", "sum", "rows")
_lloyd_block.borrows_rows = True  # X is not kept: its memory is reused


def _lloyd_pass(blocks, centers, description):
    """Assign every kept row to its nearest centre; members' means and counts."""
    c2 = np.einsum("ij,ij->i", centers, centers)
    x2 = blocks.norms()
    if x2 is None:
        parts = blocks.map(_lloyd_block, centers, c2, True, description=description)
        blocks._norms = (
            blocks.transform,
            blocks.keep,
            blocks.scatter([p[4] for p in parts], np.nan),
        )
    else:
        parts = blocks.map(
            _lloyd_block, centers, c2, False, rows=(x2,), description=description
        )
    labels = blocks.scatter([p[0] for p in parts], -2)
    sums = np.sum([p[1] for p in parts], axis=0)
    counts = np.sum([p[2] for p in parts], axis=0)
    inertia = float(sum(p[3] for p in parts))
    present = counts > 0
    means = np.full_like(centers, np.nan)
    means[present] = sums[present] / counts[present, None]
    return labels, means, counts, inertia


def lloyd_kmeans(blocks, centers, max_iter, tol, description="k-means"):
    """Exact Lloyd iterations, one pass over the data each.

    Stops when no label changes (strict convergence) or when the centres
    move by at most ``tol`` (squared, summed, as in scikit-learn), or after
    ``max_iter`` passes. An empty cluster keeps its previous centre.

    Returns ``(centers, labels, means, counts, inertia, n_iter)``: the final
    centres; the labels of the last pass (-2 for rows not kept), given with
    those centres; the mean of each cluster's members (NaN if empty) and
    their counts; their sum of squared distances to the centres.
    """

    def step(centers, n_iter):
        what = "final labels" if n_iter is None else f"iteration {n_iter}"
        return _lloyd_pass(blocks, centers, f"{description}, {what}")

    centers, out, n_iter, _ = lloyd_loop(step, centers, max_iter, tol)
    labels, means, counts, inertia = out
    return centers, labels, means, counts, inertia, n_iter


# -- final passes -----------------------------------------------------------------------


def _label_block(X, keep, estimator, k, membership):
    labels = np.full(X.shape[0], -2, dtype=np.int64)
    proba = np.full((X.shape[0], k), np.nan) if membership else None
    Xk = X if keep.all() else X[keep]
    moments = (np.zeros(k), np.zeros((k, X.shape[1])), None)
    if Xk.shape[0]:
        lab = np.asarray(estimator.predict(Xk))
        labels[keep] = lab
        moments = block_moments(Xk, lab, k, with_m2=False)
        if membership:
            proba[keep] = estimator.predict_proba(Xk)
    return labels, proba, moments


_label_block.combine = ("rows", "rows", "moments")


def predict_labels(blocks, estimator, k):
    """One pass: labels (and memberships) of every kept row by ``predict``.

    Returns ``(labels, membership, means, counts)``, the last two over each
    cluster's members in feature space.
    """
    membership = hasattr(estimator, "predict_proba")
    parts = blocks.map(_label_block, estimator, k, membership, description="labels")
    labels = blocks.scatter([p[0] for p in parts], -2)
    proba = blocks.scatter([p[1] for p in parts], np.nan) if membership else None
    total = (np.zeros(k), np.zeros((k, blocks.n_features)), None)
    for p in parts:
        total = merge_moments(total, p[2])
    counts, means, _ = finish_moments(total)
    return labels, proba, means, counts


def _final_block(X, keep, centers, k, with_norms, lab, index, *rest):
    """Distances, centroid candidates (and raw moments) of a block.

    ``rest`` is the rows' squared norms when ``with_norms``, then the raw
    data's rows when the cluster signals' moments are wanted.
    """
    n = X.shape[0]
    x2 = rest[0] if with_norms else None
    raw = rest[1:] if with_norms else rest
    distances = np.full((n, k), np.nan)
    all_kept = keep.all()
    Xk = X if all_kept else X[keep]
    if Xk.shape[0]:
        x2k = None if x2 is None else (x2 if all_kept else x2[keep])
        distances[keep] = _distances64(Xk, centers, x2k)
    # centroid candidates: the member of each cluster nearest its centre
    local = nearest_members(lab, distances, k)
    found = local >= 0
    best_d = np.full(k, np.inf)
    best_i = np.full(k, -1, dtype=np.int64)
    best_d[found] = distances[local[found], np.flatnonzero(found)]
    best_i[found] = index[local[found]]
    raw_moments = None
    if raw:
        values = raw[0].reshape(n, -1)
        raw_moments = block_moments(values, lab, k)
    return distances, best_d, best_i, raw_moments


_final_block.combine = ("rows", "best_d", "best_i", "moments")
_final_block.borrows_rows = True


def _distances64(X, centers, x2=None):
    """Euclidean distances of rows to centres, computed in float64.

    As :func:`clusterspy._compute.pairwise_distances_to`, with the rows'
    squared norms given when an earlier pass computed them. Products in
    float64 whatever the features' dtype: float32 products leave ~1e-5
    relative error on a row's distance to its own centre.
    """
    centers = np.asarray(centers, dtype=np.float64)
    c2 = np.einsum("ij,ij->i", centers, centers)
    X = X.astype(np.float64, copy=False)
    if x2 is None:
        x2 = np.einsum("ij,ij->i", X, X)
    d2 = X @ centers.T
    d2 *= -2.0
    d2 += c2[None, :]
    d2 += x2[:, None]
    np.maximum(d2, 0.0, out=d2)
    return np.sqrt(d2, out=d2)


def final_pass(blocks, labels, centers, k, raw=None):
    """One pass: distances to the centres, centroids, and raw-data moments.

    ``raw`` (a dask array with the same row blocks, or None) gives the cluster
    signals' moments in the same pass, when they come from the data that the
    features were computed from.
    """
    others = ()
    if raw is not None:
        # the features' own blocks, as read, when they are those data: each
        # block is read once for both
        same = getattr(raw, "name", None) == blocks.features.name
        others = (AS_READ,) if same else (raw,)
    index = np.arange(blocks.n_samples)
    x2 = blocks.norms()
    parts = blocks.map(
        _final_block,
        centers,
        k,
        x2 is not None,
        rows=(labels, index) if x2 is None else (labels, index, x2),
        others=others,
        description="distances and cluster signals" if raw is not None else "distances",
    )
    distances = blocks.scatter([p[0] for p in parts], np.nan)
    best_d = np.stack([p[1] for p in parts])
    best_i = np.stack([p[2] for p in parts])
    choice = np.argmin(best_d, axis=0)
    centroid_index = best_i[choice, np.arange(k)]
    centroid_index[~np.isfinite(best_d.min(axis=0))] = -1
    moments = None
    if raw is not None:
        n_features = int(raw.shape[-1])
        total = (np.zeros(k), np.zeros((k, n_features)), np.zeros((k, n_features)))
        for p in parts:
            total = merge_moments(total, p[3])
        moments = finish_moments(total)
    return distances, centroid_index, moments


def _moments_block(X, keep, k, lab):
    return block_moments(X.reshape(X.shape[0], -1), lab, k)


_moments_block.combine = "moments"  # one (count, mean, m2) triple


def raw_moments(raw, labels, k, show_progressbar=None):
    """One pass over ``raw`` (dask, ``navigation + (features,)``): count, mean, m2."""
    blocks = RowBlocks(raw, np.ones(labels.size, dtype=bool), None, show_progressbar)
    parts = blocks.map(_moments_block, k, rows=(labels,), description="cluster signals")
    n_features = blocks.n_features
    total = (np.zeros(k), np.zeros((k, n_features)), np.zeros((k, n_features)))
    for p in parts:
        total = merge_moments(total, p)
    return finish_moments(total)
