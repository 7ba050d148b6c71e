# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Rows of the Euclidean distance matrix, in C, for few features.

NumPy computes a block of ``sqrt(|x|^2 + |y|^2 - 2 x.y)`` in six passes over
the block (a matrix product with an inner dimension of a few features, then
five element-wise operations), each through memory. Here each row of the
block is computed in the L1 cache, with the same formula (so the same values
as scikit-learn's ``euclidean_distances``, up to rounding), and without the
GIL.
"""

from libc.math cimport sqrt


def distance_rows(
    const double[:, ::1] Xt,
    const double[::1] squared,
    Py_ssize_t start,
    double[:, ::1] out,
):
    """Distances from rows ``start:start + len(out)`` to every row.

    Parameters
    ----------
    Xt : ndarray of float64, shape (n_features, n_samples)
        The samples, feature-major.
    squared : ndarray of float64, shape (n_samples,)
        Squared norms of the samples.
    start : int
        First row of the block.
    out : ndarray of float64, shape (n_rows, n_samples)
        Filled with the distances; a sample's distance to itself is 0.
    """
    cdef Py_ssize_t d = Xt.shape[0], n = Xt.shape[1], rows = out.shape[0]
    cdef Py_ssize_t r, i, j, f
    cdef double xf, si, v
    cdef double* row
    cdef const double* col
    if d < 1:
        raise ValueError("`Xt` must have at least one feature")
    if squared.shape[0] != n or out.shape[1] != n:
        raise ValueError("`squared` and `out` must have one value per sample")
    if start < 0 or start + rows > n:
        raise ValueError("the block must lie within the samples")
    with nogil:
        for r in range(rows):
            i = start + r
            row = &out[r, 0]
            col = &Xt[0, 0]
            xf = Xt[0, i]
            for j in range(n):
                row[j] = xf * col[j]
            for f in range(1, d):
                col = &Xt[f, 0]
                xf = Xt[f, i]
                for j in range(n):
                    row[j] += xf * col[j]
            si = squared[i]
            for j in range(n):
                v = -2.0 * row[j] + si + squared[j]
                v = v if v > 0.0 else 0.0
                row[j] = sqrt(v)
            row[i] = 0.0
