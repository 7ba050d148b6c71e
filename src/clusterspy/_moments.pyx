# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""Per-cluster sums of a block of rows, in C, in one pass over the data.

The cluster signals (mean, standard deviation, ...) of a spectrum image come
from per-cluster sums over every spectrum. With NumPy they cost five passes
over each block (a float64 copy, the shift, a sparse product, the squares, a
second product); here each row of the data (float32 or float64) is read
once and added, shifted and squared in float64, into its cluster's sums,
without the GIL.
"""

ctypedef fused real:
    float
    double


def shifted_sums(
    const real[:, ::1] values,
    const Py_ssize_t[::1] labels,
    const double[::1] reference,
    double[:, ::1] s1,
    double[:, ::1] s2,
    bint with_squares,
):
    """Add ``x - reference`` (and its square) of every row to its cluster's
    sums.

    Parameters
    ----------
    values : ndarray of float32 or float64, shape (n, n_features), C order
    labels : ndarray of intp, shape (n,)
        Cluster of each row; rows with negative labels are skipped.
    reference : ndarray of float64, shape (n_features,)
        Subtracted from every row first: with a data point as reference, the
        sums of squares lose no precision to a large offset.
    s1, s2 : ndarray of float64, shape (n_clusters, n_features)
        Sums of ``x - reference`` and of its square, added to in place
        (``s2`` is left alone without ``with_squares``).
    with_squares : bool
    """
    cdef Py_ssize_t n = values.shape[0], m = values.shape[1], k = s1.shape[0]
    cdef Py_ssize_t i, f, label
    cdef double v
    cdef const real* row
    cdef double* a
    cdef double* b
    if labels.shape[0] != n or reference.shape[0] != m or s1.shape[1] != m:
        raise ValueError("`labels`, `reference` and `s1` must match `values`")
    if with_squares and (s2.shape[0] != k or s2.shape[1] != m):
        raise ValueError("`s2` must have the shape of `s1`")
    if n == 0 or m == 0:
        return
    for i in range(n):
        if labels[i] >= k:
            raise ValueError(f"label {labels[i]} is not below n_clusters = {k}")
    with nogil:
        for i in range(n):
            label = labels[i]
            if label < 0:
                continue
            row = &values[i, 0]
            a = &s1[label, 0]
            if with_squares:
                b = &s2[label, 0]
                for f in range(m):
                    v = <double>row[f] - reference[f]
                    a[f] += v
                    b[f] += v * v
            else:
                for f in range(m):
                    a[f] += <double>row[f] - reference[f]
