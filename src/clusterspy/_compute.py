"""Numerical kernels shared by the analysis: grouped moments and distances.

They work on row blocks so that temporaries stay a bounded size whatever the
number of samples, and accumulate in float64 so that cluster means match a
NumPy group-by to ~1e-15 relative.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse

from ._threads import available_cores, thread_map

try:
    from ._moments import shifted_sums as _shifted_sums
    from ._pairwise import distance_rows as _distance_rows
except ImportError:  # installed without a C compiler: NumPy fallbacks, slower
    _shifted_sums = _distance_rows = None
    from ._fallback import report_missing_compiled

    report_missing_compiled("clusterspy._moments")

# Rows per block are chosen so that a float64 block is about this many bytes:
# small enough to stay in cache between the passes made over it (measured here:
# grouped moments of a 1 GiB array in 1.4 s with 8 MiB blocks, 3.5 s with 64 MiB).
_BLOCK_BYTES = 8 * 2**20


def block_rows(n_features, itemsize=8):
    """Rows per block for a ``(n, n_features)`` array of the given item size."""
    return max(1, _BLOCK_BYTES // max(1, n_features * itemsize))


def iter_row_blocks(array, rows=None):
    """Yield ``(start, numpy_block)`` over the rows of a NumPy or dask array.

    Dask blocks are computed one at a time, so the whole array is never in
    memory at once.
    """
    n = array.shape[0]
    if rows is None:
        rows = block_rows(int(np.prod(array.shape[1:], dtype=np.int64)))
    is_dask = type(array).__module__.startswith("dask")
    for start in range(0, n, rows):
        block = array[start : start + rows]
        if is_dask:
            block = block.compute()
        yield start, np.asarray(block)


def one_hot(labels, k):
    """Sparse ``(k, n)`` indicator matrix of the labels."""
    n = labels.shape[0]
    return scipy.sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))


def block_moments(values, labels, k, with_m2=True):
    """Per-cluster ``(count, mean, m2)`` of a block of rows.

    ``values`` is ``(n, n_features)``; rows with negative labels are skipped.
    Accumulated in float64, over cache-sized sub-blocks. ``m2`` is the sum of
    squared deviations from the cluster means (``None`` without ``with_m2``).
    """
    n_features = values.shape[1]
    keep = labels >= 0
    if not keep.all():
        values, labels = values[keep], labels[keep]
    total = (
        np.zeros(k),
        np.zeros((k, n_features)),
        np.zeros((k, n_features)) if with_m2 else None,
    )
    rows = block_rows(n_features)
    for start in range(0, labels.size, rows):
        part = _sub_block_moments(
            values[start : start + rows], labels[start : start + rows], k, with_m2
        )
        total = merge_moments(total, part)
    return total


def _sub_block_moments(values, labels, k, with_m2):
    count = np.bincount(labels, minlength=k).astype(np.float64)
    # Sums of squares about a reference row (any data point is near the data)
    # rather than about zero: the m2 = S2 - S1**2 / n step then loses no
    # precision to a large offset, and needs no gather of cluster means.
    reference = values[0].astype(np.float64)
    if _shifted_sums is not None and values.dtype in (np.float32, np.float64):
        # One pass over the rows as they are (float32 included), in C.
        s1 = np.zeros((k, values.shape[1]))
        s2 = np.zeros((k, values.shape[1])) if with_m2 else s1
        _shifted_sums(
            np.ascontiguousarray(values),
            np.ascontiguousarray(labels, dtype=np.intp),
            reference,
            s1,
            s2,
            with_m2,
        )
    else:
        values = values.astype(np.float64)  # our own copy: modified below
        onehot = one_hot(labels, k)
        values -= reference
        s1 = onehot @ values
        if with_m2:
            values *= values
            s2 = onehot @ values
    mean = s1 / np.maximum(count, 1.0)[:, None]
    m2 = None
    if with_m2:
        m2 = s2 - s1 * mean
        np.maximum(m2, 0.0, out=m2)
    mean += reference
    mean[count == 0] = 0.0
    return count, mean, m2


def merge_moments(a, b):
    """Merge two ``(count, mean, m2)`` triples (Chan, Golub and LeVeque).

    The pairwise update avoids the cancellation of the sum-of-squares formula.
    """
    count_a, mean_a, m2_a = a
    count_b, mean_b, m2_b = b
    total = count_a + count_b
    weight = np.divide(count_b, total, out=np.zeros_like(total), where=total > 0)
    delta = mean_b - mean_a
    mean = mean_a + delta * weight[:, None]
    m2 = None
    if m2_a is not None:
        m2 = m2_a + m2_b + delta**2 * (count_a * weight)[:, None]
    return total, mean, m2


def finish_moments(moments):
    """Counts as int, and NaN means (and m2) for empty clusters."""
    count, mean, m2 = moments
    empty = count == 0
    mean = mean.copy()
    mean[empty] = np.nan
    if m2 is not None:
        m2 = m2.copy()
        m2[empty] = np.nan
    return count.astype(np.int64), mean, m2


def grouped_moments(array, labels, k, with_m2=True, rows=None):
    """Per-cluster count, mean and sum of squared deviations, in one pass.

    Parameters
    ----------
    array : numpy or dask array, shape (n_samples, ...)
        Rows are samples; trailing axes are flattened.
    labels : numpy.ndarray of int, shape (n_samples,)
        Cluster of each row; negative labels (noise, masked) are skipped.
    k : int
        Number of clusters.
    with_m2 : bool
        Also accumulate the sum of squared deviations from the mean.

    Returns
    -------
    count : numpy.ndarray, shape (k,)
    mean : numpy.ndarray, shape (k, n_features)
        NaN for empty clusters.
    m2 : numpy.ndarray or None, shape (k, n_features)
        ``sum((x - mean)**2)``; the population variance is ``m2 / count``.
    """
    n_features = int(np.prod(array.shape[1:], dtype=np.int64))
    total = (
        np.zeros(k),
        np.zeros((k, n_features)),
        np.zeros((k, n_features)) if with_m2 else None,
    )
    if isinstance(array, np.ndarray):
        # NumPy releases the GIL in the heavy steps: blocks on every core,
        # merged in order so that the result does not depend on timing.
        flat = array.reshape(array.shape[0], -1)
        rows = rows or 8 * block_rows(n_features)
        slices = [slice(s, s + rows) for s in range(0, flat.shape[0], rows)]

        def part(sl):
            return block_moments(flat[sl], labels[sl], k, with_m2)

        if (
            len(slices) == 1
            or threading.current_thread() is not threading.main_thread()
        ):
            # One block, or already in a worker thread (fits run side by
            # side, see _threads): no pool of our own.
            for moments in map(part, slices):
                total = merge_moments(total, moments)
        else:
            with ThreadPoolExecutor(_n_threads()) as pool:
                for moments in pool.map(part, slices):
                    total = merge_moments(total, moments)
        return finish_moments(total)
    for start, block in iter_row_blocks(array, rows):
        lab = labels[start : start + block.shape[0]]
        if not (lab >= 0).any():
            continue
        block = block.reshape(block.shape[0], -1)
        total = merge_moments(total, block_moments(block, lab, k, with_m2))
    return finish_moments(total)


def _n_threads():
    """Threads for NumPy work: the cores this process may use, at most 8."""
    return min(available_cores(), 8)


def pairwise_distances_to(array, centers, rows=None):
    """Euclidean distances of every row to every centre, ``(n, k)`` float64.

    Rows containing NaN centres give NaN distances to those centres.
    """
    centers = np.asarray(centers, dtype=np.float64)
    c2 = np.einsum("ij,ij->i", centers, centers)
    out = np.empty((array.shape[0], centers.shape[0]))
    for start, block in iter_row_blocks(array, rows):
        block = block.reshape(block.shape[0], -1).astype(np.float64, copy=False)
        d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * (block @ centers.T)
        d2 += c2[None, :]
        np.maximum(d2, 0.0, out=d2)
        out[start : start + block.shape[0]] = np.sqrt(d2)
    return out


def nearest_members(labels, distances, k):
    """For each cluster, the row of its member nearest its centre, or -1.

    ``distances`` is ``(n, k)``: the distance of every row to every centre.
    This member is the cluster's "centroid" signal: a real, measured one.
    """
    out = np.full(k, -1, dtype=np.int64)
    for j in range(k):
        members = np.flatnonzero(labels == j)
        if members.size:
            out[j] = members[np.argmin(distances[members, j])]
    return out


def rows_all_finite(array, rows=None):
    """Boolean vector: True where every feature of the row is finite.

    Float32/64 rows are summed by BLAS first (a matrix-vector product, a
    quarter of the time of ``np.isfinite(block).all(axis=1)``): a NaN or an
    infinity makes the sum non-finite, so a finite sum proves the row finite,
    and only rows with a non-finite sum (or one that overflowed) are checked
    element by element.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy._compute import rows_all_finite
    >>> X = np.ones((3, 2), dtype=np.float32); X[1, 0] = np.nan
    >>> X[2] = np.finfo(np.float32).max  # finite, but its sum overflows
    >>> rows_all_finite(X).tolist()
    [True, False, True]
    """
    out = np.empty(array.shape[0], dtype=bool)
    for start, block in iter_row_blocks(array, rows):
        block = block.reshape(block.shape[0], -1)
        stop = start + block.shape[0]
        if block.dtype.kind in "biu":
            out[start:stop] = True
            continue
        if block.dtype in (np.float32, np.float64) and block.shape[1]:
            with np.errstate(over="ignore", invalid="ignore"):  # told apart below
                sums = block @ np.ones(block.shape[1], dtype=block.dtype)
            finite = np.isfinite(sums)
            doubtful = np.flatnonzero(~finite)
            if doubtful.size:
                finite[doubtful] = np.isfinite(block[doubtful]).all(axis=1)
            out[start:stop] = finite
        else:
            out[start:stop] = np.isfinite(block).all(axis=1)
    return out


def mean_silhouettes(X, labelings, working_memory=8, n_jobs=1):
    """Mean silhouette coefficient of several labelings of the same samples.

    Equals ``sklearn.metrics.silhouette_score(X, labels)`` for each labeling
    (Euclidean distances; a member of a one-sample cluster scores 0), but
    computes the pairwise distances once for all labelings: each block of
    rows of the distance matrix is multiplied by the concatenated one-hot
    matrices of every labeling, which gives every sample's summed distance
    to every cluster of every labeling in one pass. Time is
    O(n**2 (n_features + sum of k)); memory is bounded by
    ``working_memory``, whatever n.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, n_features)
    labelings : sequence of int arrays, each of shape (n,)
        Negative labels (noise) are left out of that labeling's score, as
        points and as neighbours.
    working_memory : float
        MiB for the blocks of the distance matrix.
    n_jobs : int
        Blocks computed side by side in threads (see
        :func:`clusterspy._threads.thread_map`); the values do not depend on
        it.

    Returns
    -------
    numpy.ndarray
        One mean per labeling; NaN where it is undefined (fewer than 2
        clusters, or as many clusters as samples).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy._compute import mean_silhouettes
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> mean_silhouettes(X, [np.array([0, 0, 1, 1])]).round(4)
    array([0.8997])
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    columns = []
    offset = 0
    for labels in labelings:
        labels = np.asarray(labels).reshape(-1)
        valid = labels >= 0
        names, compact = np.unique(labels[valid], return_inverse=True)
        full = np.full(n, -1, dtype=np.int64)
        full[valid] = compact.reshape(-1)
        columns.append((offset, names.size, full, np.bincount(full[valid])))
        offset += names.size
    # one-hot indicators of every labeling, side by side: (n, sum of k)
    indicators = np.zeros((n, max(offset, 1)))
    for start, _, full, _ in columns:
        valid = full >= 0
        indicators[np.flatnonzero(valid), start + full[valid]] = 1.0
    squared = np.einsum("ij,ij->i", X, X)
    n_jobs = max(1, min(int(n_jobs), n))
    # Each thread holds one block: the blocks share the working memory.
    rows = max(1, int(working_memory * 2**20) // (2 * 8 * max(n, 1) * n_jobs))
    sums = np.empty((n, indicators.shape[1]))
    # Few features: compiled rows (in the L1 cache, without the GIL); more
    # than 8: one matrix product per block, which BLAS does better (5000
    # samples, one thread: 51 ms against 93 ms at 3 features, 131 against
    # 107 at 16).
    compiled = _distance_rows is not None and 1 <= X.shape[1] <= 8
    Xt = np.ascontiguousarray(X.T) if compiled else None

    def block(start):
        stop = min(n, start + rows)
        if Xt is not None:
            d = np.empty((stop - start, n))
            _distance_rows(Xt, squared, start, d)
        else:
            d = X[start:stop] @ X.T
            d *= -2.0
            d += squared[start:stop, None]
            d += squared[None, :]
            np.maximum(d, 0.0, out=d)
            # a sample's distance to itself is exactly 0 (rounding aside)
            d[np.arange(stop - start), np.arange(start, stop)] = 0.0
            np.sqrt(d, out=d)
        sums[start:stop] = d @ indicators

    thread_map(block, range(0, n, rows), n_jobs)
    means = np.full(len(columns), np.nan)
    for i, (start, k, full, counts) in enumerate(columns):
        valid = np.flatnonzero(full >= 0)
        if not 2 <= k <= valid.size - 1:
            continue
        lab = full[valid]
        to_clusters = sums[valid, start : start + k]
        own = to_clusters[np.arange(valid.size), lab]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = own / (counts[lab] - 1)  # NaN for one-sample clusters
            others = to_clusters / counts
            others[np.arange(valid.size), lab] = np.inf
            b = others.min(axis=1)
            s = (b - a) / np.maximum(a, b)
        means[i] = float(np.mean(np.nan_to_num(s)))
    return means
