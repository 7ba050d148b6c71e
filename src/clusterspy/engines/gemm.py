"""K-means in memory at the speed of the matrix product.

The in-memory engine's k-means for named ``algorithm="kmeans"``: the same
algorithm as the out-of-core :class:`~clusterspy.engines.kmeans.BlockwiseKMeans`
(k-means++ on a seeded sample of rows, then exact Lloyd iterations over every
row), run on a NumPy array in cache-sized row blocks:

- each Lloyd iteration is one pass: per block, the cross products with the
  centres are one matrix product (``X @ C.T``) in the features' own dtype
  (float32 stays float32), the squared norms of the rows are computed once,
  and each cluster's sum is accumulated in float64 by the compiled
  ``clusterspy._compute.block_moments``, while the block is in cache;
- blocks run side by side on every core, with BLAS on one thread each (the
  product with a few centres is bound by memory, not arithmetic);
- the distances of every row to every centre come from the last pass for
  float64 features; float32 features get one more pass that computes them
  in float64 (the float32 products leave ~1e-5 relative error on a row's
  distance to its own centre).

scikit-learn's ``KMeans`` seeds k-means++ on every row, which costs more than
all the Lloyd iterations on a large map; seeding on a sample of
:func:`~clusterspy.engines.kmeans.default_sample_size` rows gives a start as
good for the partition, and the same one as the blockwise engine, so that a
lazy signal gets the eager signal's labels.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .._compute import block_moments, block_rows
from .._threads import available_cores
from ._loop import lloyd_loop

__all__ = [
    "KMeansRun",
    "assign_in_memory",
    "distances_in_float64",
    "lloyd_in_memory",
    "squared_norms",
]


@dataclass
class KMeansRun:
    """The outcome of :func:`lloyd_in_memory`.

    ``labels`` are those of the last pass, given with ``centers``;
    ``means``/``counts`` are over each cluster's members (NaN means for empty
    clusters); ``distances`` (float64, ``(n, k)``) are from every row to
    ``means``.
    """

    centers: np.ndarray
    labels: np.ndarray
    means: np.ndarray
    counts: np.ndarray
    inertia: float
    n_iter: int
    distances: np.ndarray


def _n_threads():
    return min(available_cores(), 8)


def _blocks(n, n_features, itemsize):
    # float32 rows of 1024 features: 2048 rows (8 MiB) per block
    rows = block_rows(n_features, itemsize)
    return [slice(s, min(n, s + rows)) for s in range(0, n, rows)]


def _map_blocks(func, slices):
    """``[func(sl) for sl in slices]``, in threads when it pays, in order."""
    if len(slices) == 1 or threading.current_thread() is not threading.main_thread():
        return [func(sl) for sl in slices]
    from threadpoolctl import threadpool_limits

    # k centres make a thin product bound by memory: one BLAS thread per
    # block, blocks side by side, rather than a BLAS team on each block.
    with threadpool_limits(limits=1, user_api="blas"):
        with ThreadPoolExecutor(_n_threads()) as pool:
            return list(pool.map(func, slices))


def _pass(X, x2, centers, with_sums=True):
    """One pass: labels, per-cluster sums and counts, inertia, distances."""
    k = centers.shape[0]
    c = centers.astype(X.dtype, copy=False)
    c2 = np.einsum("ij,ij->i", centers, centers)
    n = X.shape[0]
    labels = np.empty(n, dtype=np.int64)
    distances = np.empty((n, k))

    def block(sl):
        Xb = X[sl]
        d2 = Xb @ c.T  # in the features' dtype: float32 stays float32
        d2 = c2[None, :] - 2.0 * d2
        d2 += x2[sl, None]
        lab = np.argmin(d2, axis=1) if k else np.zeros(Xb.shape[0], np.int64)
        labels[sl] = lab
        np.maximum(d2, 0.0, out=d2)
        inertia = float(d2[np.arange(lab.size), lab].sum())
        np.sqrt(d2, out=d2)
        distances[sl] = d2
        if not with_sums:
            return None, None, inertia
        count, mean, _ = block_moments(Xb, lab, k, with_m2=False)
        return mean * count[:, None], count, inertia

    parts = _map_blocks(block, _blocks(n, X.shape[1], X.itemsize))
    inertia = float(sum(p[2] for p in parts))
    if not with_sums:
        return labels, None, None, inertia, distances
    # merged in block order, so that the result does not depend on timing
    sums = np.sum([p[0] for p in parts], axis=0)
    counts = np.sum([p[1] for p in parts], axis=0)
    means = np.full(centers.shape, np.nan)
    present = counts > 0
    means[present] = sums[present] / counts[present, None]
    return labels, means, counts, inertia, distances


def squared_norms(X):
    """Squared Euclidean norm of every row, in float64, blockwise."""
    out = np.empty(X.shape[0])

    def block(sl):
        out[sl] = np.einsum("ij,ij->i", X[sl], X[sl], dtype=np.float64)

    _map_blocks(block, _blocks(X.shape[0], X.shape[1], X.itemsize))
    return out


def assign_in_memory(X, centers, x2=None):
    """Nearest centre and distances to every centre of each row of ``X``.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, n_features)
        float32 or float64; products are computed in its dtype.
    centers : numpy.ndarray, shape (k, n_features)
    x2 : numpy.ndarray or None
        The rows' squared norms, if already known.

    Returns
    -------
    labels : numpy.ndarray of int64, shape (n,)
    distances : numpy.ndarray of float64, shape (n, k)

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.gemm import assign_in_memory
    >>> labels, d = assign_in_memory(np.array([[0.0, 0.0], [3.0, 4.0]]),
    ...                              np.array([[0.0, 0.0]]))
    >>> labels.tolist(), d.ravel().tolist()
    ([0, 0], [0.0, 5.0])
    """
    if x2 is None:
        x2 = squared_norms(X)
    labels, _, _, _, distances = _pass(
        X, x2, np.asarray(centers, dtype=np.float64), with_sums=False
    )
    return labels, distances


def distances_in_float64(X, centers, x2=None):
    """Distances of every row of ``X`` to every centre, to float64 precision.

    ``|x|^2 - 2 x.c + |c|^2`` loses to cancellation what the cross products
    lose to rounding: float32 products leave about 1e-5 relative error on
    the distance of a row to its own centre. Here each cache-sized block is
    converted to float64 before its product, so the distances are those of a
    float64 computation (to ~1e-12), for one more pass over the data. For
    float64 data this is :func:`assign_in_memory`'s computation.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.gemm import distances_in_float64
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> distances_in_float64(X, np.array([[1.0, 0.0]])).ravel().round(6).tolist()
    [0.0, 1.414214]
    """
    if x2 is None:
        x2 = squared_norms(X)
    centers = np.asarray(centers, dtype=np.float64)
    c2 = np.einsum("ij,ij->i", centers, centers)
    out = np.empty((X.shape[0], centers.shape[0]))
    # float64 sub-blocks of about 2 MiB stay in cache while converted
    rows = block_rows(X.shape[1], 8) // 4 or 1

    def block(sl):
        for start in range(sl.start, sl.stop, rows):
            part = slice(start, min(sl.stop, start + rows))
            d2 = X[part].astype(np.float64) @ centers.T
            d2 *= -2.0
            d2 += c2[None, :]
            d2 += x2[part, None]
            np.maximum(d2, 0.0, out=d2)
            out[part] = np.sqrt(d2)

    _map_blocks(block, _blocks(X.shape[0], X.shape[1], X.itemsize))
    return out


def lloyd_in_memory(X, centers, max_iter, tol, x2=None):
    """Exact Lloyd iterations over every row of ``X``, one pass each.

    The same iterations as ``clusterspy.engines.rowblocks.lloyd_kmeans``
    (the out-of-core engine's): stops when no label changes (strict
    convergence) or when the centres move by at most ``tol`` (squared,
    summed, as in scikit-learn), or after ``max_iter`` passes; an empty
    cluster keeps its previous centre; after a stop on ``tol``, one more
    labelling pass makes the labels those of the final centres.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, n_features)
        float32 or float64, C-contiguous rows; never modified nor copied.
    centers : numpy.ndarray, shape (k, n_features)
        The initial centres.
    max_iter : int
    tol : float
        Absolute tolerance on the squared shift of the centres.
    x2 : numpy.ndarray or None
        The rows' float64 squared norms, if already known (else one pass
        computes them).

    Returns
    -------
    KMeansRun

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.gemm import lloyd_in_memory
    >>> X = np.array([[0.0], [0.2], [5.0], [5.2]], dtype=np.float32)
    >>> run = lloyd_in_memory(X, np.array([[0.0], [5.0]]), 100, 0.0)
    >>> run.labels.tolist(), run.means.ravel().round(2).tolist()
    ([0, 0, 1, 1], [0.1, 5.1])
    """
    X = np.ascontiguousarray(X)
    centers = np.asarray(centers, dtype=np.float64)
    if x2 is None:
        x2 = squared_norms(X)
    centers, out, n_iter, strict = lloyd_loop(
        lambda c, _: _pass(X, x2, c), centers, max_iter, tol
    )
    labels, means, counts, inertia, distances = out
    # Distances are to the members' means. After strict convergence those are
    # the centres the last pass used; otherwise they may have moved.
    if X.dtype != np.float64:
        distances = distances_in_float64(X, means, x2)
    elif not strict and not np.array_equal(means[counts > 0], centers[counts > 0]):
        _, distances = assign_in_memory(X, means, x2)
    return KMeansRun(centers, labels, means, counts, inertia, n_iter, distances)
