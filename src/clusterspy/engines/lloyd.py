"""Scikit-learn's k-means, step for step, in compiled loops for few features.

Estimating the number of clusters fits k-means hundreds of times (the gap
statistic: ``(B + 1)`` data sets times every ``k`` times ``n_init``) on a few
features. :func:`fit_kmeans` runs those fits in C (the Cython module
``clusterspy.engines._lloyd``): the same algorithm as
:class:`sklearn.cluster.KMeans`, step for step, with the random numbers drawn
exactly as it draws them, so that it returns the partition that
``KMeans(...).fit(X)`` returns for the same parameters (tested label for
label; only a tie decided by the last bit of rounding could go the other
way), faster and without holding the GIL, so that fits run side by side in
threads. :func:`kmeans_params` tells where it applies.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..validation import check_int

try:
    from ._lloyd import kmeans as _kmeans
except ImportError:  # installed without a C compiler: scikit-learn, slower
    _kmeans = None

from .._fallback import report_missing_compiled

__all__ = ["AVAILABLE", "MAX_FEATURES", "fit_kmeans", "kmeans_params"]

#: Whether the compiled loops were built; without them :func:`kmeans_params`
#: returns None and callers use scikit-learn.
AVAILABLE = _kmeans is not None

#: Up to this many features the compiled loops are used. Measured on one
#: thread (10 000 rows, 10 clusters, 3 starts): 3-4x faster than
#: scikit-learn at 2-3 features, 1.8x at 16, 1.3x at 32, even at 48, slower
#: at 64, where BLAS distances win.
MAX_FEATURES = 32


def fit_kmeans(X, n_clusters, n_init=1, max_iter=300, tol=1e-4, random_state=None):
    """K-means with k-means++ seeding, as ``KMeans(...).fit(X)`` computes it.

    The data are clustered in float64 (float32 input included).

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    n_clusters : int
    n_init : int
        Runs from different seeds; the one with the lowest inertia is kept.
    max_iter : int
        Lloyd iterations per run at most.
    tol : float
        Relative tolerance on the centres' shift (scikit-learn's).
    random_state : int, RandomState or None
        Seeds the k-means++ draws, which are those of scikit-learn's
        ``KMeans`` with the same ``random_state``.

    Returns
    -------
    labels : ndarray of int64, shape (n_samples,)
    centres : ndarray, shape (n_clusters, n_features)
    inertia : float
    n_iter : int
        Iterations of the best run.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from clusterspy.engines.lloyd import fit_kmeans
    >>> X = np.random.default_rng(0).normal(size=(500, 3))
    >>> labels, centres, inertia, n_iter = fit_kmeans(X, 4, n_init=3, random_state=0)
    >>> km = KMeans(4, n_init=3, random_state=0).fit(X)
    >>> bool((labels == km.labels_).all()), bool(np.isclose(inertia, km.inertia_))
    (True, True)
    """
    if not AVAILABLE:
        raise ImportError(
            "clusterspy.engines._lloyd was not built: reinstall clusterspy "
            "(pip install .) with a C compiler available."
        )
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"`X` must be a non-empty 2-D array, not shape {X.shape}.")
    if not np.isfinite(X).all():
        raise ValueError("`X` contains NaN or infinite values.")
    n = X.shape[0]
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1, maximum=n)
    n_init = check_int(n_init, "n_init", minimum=1)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"`tol` must be a number >= 0, not {tol!r}.")
    rng = check_random_state(random_state)
    n_trials = 2 + int(np.log(n_clusters))
    # KMeans draws the first centre with RandomState.choice(n, p=weights):
    # one uniform number against the cumulative weights, here all equal.
    weights = np.ones(n) / n
    cdf = weights.cumsum()
    cdf /= cdf[-1]
    first = np.empty(n_init, dtype=np.intp)
    uniforms = np.empty((n_init, max(n_clusters - 1, 1) * n_trials))
    for run in range(n_init):
        first[run] = cdf.searchsorted(rng.random_sample(), side="right")
        uniforms[run, : (n_clusters - 1) * n_trials] = rng.random_sample(
            (n_clusters - 1) * n_trials
        )
    labels, centres, inertia, n_iter = _kmeans(
        X, n_clusters, first, uniforms, n_trials, max_iter, float(tol)
    )
    labels = labels.astype(np.int64)
    distinct = np.count_nonzero(np.bincount(labels, minlength=n_clusters))
    if distinct < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller "
            f"than n_clusters ({n_clusters}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return labels, centres, inertia, n_iter


def kmeans_params(estimator, X):
    """Keyword arguments of :func:`fit_kmeans` that give the partition of
    ``estimator.fit(X)``, or ``None`` where it does not apply.

    It applies to a plain :class:`~sklearn.cluster.KMeans` (not a subclass)
    with k-means++ seeding, Lloyd's algorithm and no ``verbose`` output, on
    a float64 array with at most :data:`MAX_FEATURES` features and at least
    ``n_clusters`` rows. Invalid parameters raise scikit-learn's error.
    The parameters are read as attributes (scikit-learn's convention), not
    through ``get_params``, which inspects the signature on every call.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from clusterspy.engines.lloyd import kmeans_params
    >>> kmeans_params(KMeans(3, random_state=0), np.zeros((10, 2)))
    {'n_clusters': 3, 'n_init': 1, 'max_iter': 300, 'tol': 0.0001, 'random_state': 0}
    >>> kmeans_params(KMeans(3, algorithm="elkan"), np.zeros((10, 2))) is None
    True
    """
    if not AVAILABLE:
        report_missing_compiled("clusterspy.engines._lloyd")
        return None
    if type(estimator) is not KMeans or not isinstance(X, np.ndarray):
        return None
    if X.ndim != 2 or not 1 <= X.shape[1] <= MAX_FEATURES or X.dtype != np.float64:
        return None  # scikit-learn fits float32 in float32; these loops in float64
    init, n_clusters, n_init = estimator.init, estimator.n_clusters, estimator.n_init
    if not (isinstance(init, str) and init == "k-means++"):
        return None
    if estimator.algorithm != "lloyd" or isinstance(n_clusters, bool):
        return None
    if estimator.verbose:
        return None  # scikit-learn prints its iterations
    if (
        not isinstance(n_clusters, numbers.Integral)
        or not 1 <= n_clusters <= X.shape[0]
    ):
        return None
    if isinstance(n_init, str):
        if n_init != "auto":
            return None
        n_init = 1  # "auto" is one run for k-means++
    elif not isinstance(n_init, numbers.Integral) or n_init < 1:
        return None
    max_iter, tol = estimator.max_iter, estimator.tol
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral):
        return None
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        return None
    if max_iter < 1 or not tol >= 0:
        return None  # scikit-learn raises its own error
    # Every other parameter as fit() checks it: a bad one raises scikit-learn's
    # error here rather than being ignored.
    validate = getattr(estimator, "_validate_params", None)
    if validate is not None:
        validate()
    return {
        "n_clusters": int(n_clusters),
        "n_init": int(n_init),
        "max_iter": int(max_iter),
        "tol": float(tol),
        "random_state": estimator.random_state,
    }
