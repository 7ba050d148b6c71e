"""Metrics of one clustering and the rules that pick ``k`` from their curve.

The within-cluster dispersion ``W`` (gap statistic, elbow), the knee of a
curve, the Calinski-Harabasz and Davies-Bouldin scores, and
:func:`choose_n_clusters`, which applies each metric's rule. The gap
statistic itself is in :mod:`.gap`; the silhouette of every ``k`` at once in
:func:`clusterspy._compute.mean_silhouettes`; BIC and AIC are read from the
fitted mixture (:func:`.curve.metric_curve`).

References
----------
.. [1] V. Satopaa, J. Albrecht, D. Irwin and B. Raghavan, "Finding a
   'Kneedle' in a haystack: detecting knee points in system behavior",
   31st ICDCS Workshops, 166-171 (2011).
"""

from __future__ import annotations

import numpy as np

from .. import _compute
from ..validation import check_choice

__all__ = ["METRICS", "choose_n_clusters", "knee_point", "within_cluster_dispersion"]

#: Metric names accepted by :func:`estimate_number_of_clusters`.
METRICS = (
    "gap",
    "elbow",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "bic",
    "aic",
)

# Metrics that are undefined for a single cluster; their curves start at k = 2.
_NEED_TWO = ("silhouette", "calinski_harabasz", "davies_bouldin")
# Metrics read from a fitted mixture model.
_MIXTURE = ("bic", "aic")


# Up to this many features, W's cluster means come from one bincount per feature.
_FEW_FEATURES = 32


def within_cluster_dispersion(X, labels):
    """Pooled within-cluster sum of squares ``W``.

    ``W = sum_r sum_{i in C_r} ||x_i - mean_r||**2``, which equals
    ``sum_r D_r / (2 n_r)`` of Tibshirani et al. with ``D_r`` the sum of all
    pairwise squared distances in cluster ``r``, but costs O(N) instead of
    O(n_r**2). Samples with a negative label (noise) are left out.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    labels : array-like of int, shape (n_samples,)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [2.0], [10.0], [12.0]])
    >>> from clusterspy.estimate import within_cluster_dispersion
    >>> within_cluster_dispersion(X, [0, 0, 1, 1])
    4.0
    """
    X = np.asarray(X)
    labels = np.asarray(labels).reshape(-1)
    valid = labels >= 0
    if not valid.any():
        return 0.0
    if not valid.all():
        X, labels = X[valid], labels[valid]
    # float64 throughout: float32 sums of many samples lose digits
    X = X.reshape(X.shape[0], -1).astype(np.float64, copy=False)
    n = X.shape[0]
    if labels.max() >= n:  # sparse label values: make them 0..k-1
        labels = np.unique(labels, return_inverse=True)[1].reshape(-1)
    # Two passes (means, then squared deviations from them): no cancellation,
    # unlike sum ||x||^2 - n ||mean||^2, and cheap enough to run after each
    # of the hundreds of small fits of the gap statistic.
    counts = np.bincount(labels)
    if X.shape[1] <= _FEW_FEATURES:
        # One bincount per feature: no sparse matrix to build for each of the
        # hundreds of small fits of the gap statistic.
        means = np.column_stack(
            [np.bincount(labels, X[:, f], counts.size) for f in range(X.shape[1])]
        )
    else:
        means = _compute.one_hot(labels, counts.size) @ X
    means /= np.maximum(counts, 1)[:, None]
    total = 0.0
    rows = _compute.block_rows(X.shape[1])
    for start in range(0, n, rows):
        d = X[start : start + rows] - means[labels[start : start + rows]]
        total += float(np.einsum("ij,ij->", d, d))
    return total


def _log_dispersion(X, labels):
    # W = 0 happens when k reaches the number of distinct points; clip so that
    # the logarithm stays finite and equal curves still compare equal.
    return float(
        np.log(max(within_cluster_dispersion(X, labels), np.finfo(float).tiny))
    )


def _dispersion_for(X, k, labels_of):
    """``log W_k``; ``k = 1`` is the total sum of squares and needs no fit."""
    if k == 1:
        return _log_dispersion(X, np.zeros(X.shape[0], dtype=np.int64))
    return _log_dispersion(X, labels_of(X, k))


def knee_point(ks, values):
    """Knee of a decreasing curve: the point farthest below its chord.

    The curve is normalised to the unit square (``k`` from 0 to 1, values
    from 1 to 0) and the knee is the point with the largest vertical
    distance below the chord joining its end points: the "Kneedle"
    difference curve of Satopaa et al. (2011), equivalently the largest
    perpendicular distance to the chord. If no point lies below the chord
    (a straight or concave curve: no elbow), the first ``k`` is returned.

    Parameters
    ----------
    ks : sequence of int
    values : sequence of float
        For the elbow metric, ``log W_k``.

    Returns
    -------
    int

    Examples
    --------
    >>> from clusterspy.estimate import knee_point
    >>> knee_point([1, 2, 3, 4, 5], [10.0, 6.0, 2.0, 1.9, 1.8])
    3
    """
    ks = np.asarray(ks)
    best = _knee_index(ks, values)
    return int(ks[0] if best is None else ks[best])


def _knee_index(ks, values):
    """Index of the knee, or ``None`` when the curve has none."""
    ks = np.asarray(ks, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if ks.size < 3 or values[0] == values[-1]:
        return None
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (values - values[-1]) / (values[0] - values[-1])
    below = 1.0 - x - y  # distance below the chord y = 1 - x, times sqrt(2)
    best = int(np.argmax(below))
    if below[best] <= 1e-9:  # on the chord, up to rounding: no knee
        return None
    return best


def _score(metric, X, labels):
    """Calinski-Harabasz or Davies-Bouldin of one clustering, NaN if undefined."""
    from sklearn import metrics

    valid = labels >= 0
    if not valid.all():
        X, labels = X[valid], labels[valid]
    n_labels = np.unique(labels).size
    if not 2 <= n_labels <= X.shape[0] - 1:
        return np.nan  # the algorithm found a single cluster: undefined
    if metric == "calinski_harabasz":
        return float(metrics.calinski_harabasz_score(X, labels))
    return float(metrics.davies_bouldin_score(X, labels))


def choose_n_clusters(metric, ks, values, errors=None):
    """Pick the number of clusters from a metric curve.

    Rules:

    * ``"gap"``: the smallest ``k`` with ``Gap(k) >= Gap(k+1) - s_{k+1}``
      (Tibshirani et al.); if no ``k`` satisfies it, the ``k`` of the
      largest gap.
    * ``"elbow"``: the knee of ``log W_k`` (:func:`knee_point`).
    * ``"silhouette"``, ``"calinski_harabasz"``: the maximum.
    * ``"davies_bouldin"``, ``"bic"``, ``"aic"``: the minimum.

    Ties go to the smallest ``k``; NaN values (undefined for that ``k``)
    are ignored.

    Parameters
    ----------
    metric : str
    ks, values : sequences of equal length
    errors : sequence or None
        ``s_k``, required for ``"gap"``.

    Returns
    -------
    k : int
    rule : str
        The rule that gave ``k``, in words.

    Examples
    --------
    >>> from clusterspy.estimate import choose_n_clusters
    >>> choose_n_clusters("gap", [1, 2, 3, 4], [0.1, 0.5, 0.9, 0.95],
    ...                   [0.1, 0.1, 0.1, 0.1])
    (3, 'smallest k with Gap(k) >= Gap(k+1) - s(k+1)')
    """
    check_choice(metric, "metric", METRICS)
    ks = np.asarray(ks)
    values = np.asarray(values, dtype=np.float64)
    if ks.shape != values.shape or ks.ndim != 1 or ks.size == 0:
        raise ValueError(
            "`ks` and `values` must be 1-D, non-empty and equal in length."
        )
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError(
            f"The {metric} metric is undefined for every k tried "
            f"({ks.min()}..{ks.max()}); every clustering gave a single cluster."
        )
    if ks.size == 1:
        return int(ks[0]), "the only k tried"
    if metric == "gap":
        if errors is None:
            raise ValueError("`errors` (s_k) are required for metric='gap'.")
        errors = np.asarray(errors, dtype=np.float64)
        satisfied = values[:-1] >= values[1:] - errors[1:]
        if satisfied.any():
            return (
                int(ks[int(np.argmax(satisfied))]),
                "smallest k with Gap(k) >= Gap(k+1) - s(k+1)",
            )
        return (
            int(ks[int(np.nanargmax(values))]),
            "largest Gap(k): no k satisfied Gap(k) >= Gap(k+1) - s(k+1)",
        )
    if metric == "elbow":
        best = _knee_index(ks[finite], values[finite])
        if best is None:
            return int(ks[finite][0]), "no knee in log W(k): the smallest k"
        return int(ks[finite][best]), "knee of log W(k)"
    if metric in ("silhouette", "calinski_harabasz"):
        return int(ks[int(np.nanargmax(values))]), "maximum"
    return int(ks[int(np.nanargmin(values))]), "minimum"
