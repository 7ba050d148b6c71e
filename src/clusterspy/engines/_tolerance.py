"""scikit-learn's k-means tolerance without a data-sized temporary.

Used by both engines (the in-memory fit of ``KMeans`` and the comparison of
starts of :class:`~clusterspy.engines.kmeans.BlockwiseKMeans`).
"""

from __future__ import annotations

import contextlib

import numpy as np

from .._compute import grouped_moments

__all__ = ["lean_kmeans_tolerance", "lean_tolerance"]

_sklearn_tolerance = None


def lean_tolerance(X, tol):
    """scikit-learn's k-means tolerance, ``tol * mean(var(X, axis=0))``.

    Computed over cache-sized blocks: ``np.var`` would build a temporary the
    size of the data (``X - mean``) just to scale ``tol``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines._tolerance import lean_tolerance
    >>> X = np.array([[0.0, 0.0], [2.0, 4.0]])
    >>> lean_tolerance(X, 0.1)  # 0.1 * mean([1, 4])
    0.25
    """
    if tol == 0:
        return 0
    import scipy.sparse

    if scipy.sparse.issparse(X):
        return _sklearn_tolerance(X, tol)
    count, _, m2 = grouped_moments(X, np.zeros(X.shape[0], dtype=np.int64), 1)
    return float(np.mean(m2[0] / count[0])) * tol


@contextlib.contextmanager
def lean_kmeans_tolerance():
    """Let scikit-learn's k-means compute its tolerance without a data-sized copy.

    Replaces the private ``sklearn.cluster._kmeans._tolerance`` for the
    duration of a fit with :func:`lean_tolerance`, which computes the same
    quantity (so another thread fitting k-means meanwhile is unaffected). If
    a future scikit-learn renames it, nothing is replaced.
    """
    global _sklearn_tolerance
    from sklearn.cluster import _kmeans

    original = getattr(_kmeans, "_tolerance", None)
    if original is None or original is lean_tolerance:
        yield
        return
    _sklearn_tolerance = original
    _kmeans._tolerance = lean_tolerance
    try:
        yield
    finally:
        _kmeans._tolerance = original
