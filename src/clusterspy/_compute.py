"""Numerical kernels shared by the analysis: grouped moments and distances.

They work on row blocks so that temporaries stay a bounded size whatever the
number of samples, and accumulate in float64 so that cluster means match a
NumPy group-by to ~1e-15 relative.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

# Rows per block are chosen so that a float64 block is about this many bytes.
_BLOCK_BYTES = 64 * 2**20


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


def _one_hot(labels, k):
    """Sparse ``(k, n)`` indicator matrix of the labels."""
    n = labels.shape[0]
    return scipy.sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))


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

    Notes
    -----
    Blocks are merged with Chan, Golub and LeVeque's pairwise update, which
    avoids the cancellation of the sum-of-squares formula.
    """
    n_features = int(np.prod(array.shape[1:], dtype=np.int64))
    count = np.zeros(k)
    mean = np.zeros((k, n_features))
    m2 = np.zeros((k, n_features)) if with_m2 else None
    for start, block in iter_row_blocks(array, rows):
        lab = labels[start : start + block.shape[0]]
        keep = lab >= 0
        if not keep.any():
            continue
        block = block.reshape(block.shape[0], -1)
        if keep.all():
            values = block.astype(np.float64, copy=False)
        else:
            values = block[keep].astype(np.float64, copy=False)
        lab = lab[keep]
        onehot = _one_hot(lab, k)
        n_b = np.bincount(lab, minlength=k).astype(np.float64)
        present = n_b > 0
        mean_b = np.zeros((k, n_features))
        mean_b[present] = (onehot @ values)[present] / n_b[present, None]
        total = count + n_b
        delta = mean_b - mean
        weight = np.divide(n_b, total, out=np.zeros(k), where=total > 0)
        if with_m2:
            dev = values - mean_b[lab]
            dev *= dev
            m2_b = onehot @ dev
            m2 += m2_b + delta**2 * (count * weight)[:, None]
        mean += delta * weight[:, None]
        count = total
    mean[count == 0] = np.nan
    if with_m2:
        m2[count == 0] = np.nan
    return count.astype(np.int64), mean, m2


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


def rows_all_finite(array, rows=None):
    """Boolean vector: True where every feature of the row is finite."""
    out = np.empty(array.shape[0], dtype=bool)
    for start, block in iter_row_blocks(array, rows):
        block = block.reshape(block.shape[0], -1)
        out[start : start + block.shape[0]] = np.isfinite(block).all(axis=1)
    return out
