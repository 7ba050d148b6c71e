"""Estimating the number of clusters: metrics that scale to real maps.

:func:`estimate_number_of_clusters` clusters the same features as
:func:`clusterspy.cluster_analysis` (same source, masks, preprocessing and
algorithm) for every ``k`` in ``[min_clusters, max_clusters]``, scores each
clustering with one metric and picks ``k`` with that metric's rule. The whole
curve is stored with the signal (``signal.learning_results.clusterspy_metric``)
and read back with :func:`get_cluster_metric` and :func:`plot_cluster_metric`.

Every metric costs O(N k) in time and memory for N samples; none builds an
N x N distance matrix. The silhouette, the one metric that needs pairwise
distances, is computed on a random sample of ``sample_size`` points.

The metric functions also work on a plain feature matrix
(:func:`gap_statistic`, :func:`metric_curve`, :func:`choose_n_clusters`,
:func:`knee_point`), so that they can be used and tested without a signal.

References
----------
.. [1] R. Tibshirani, G. Walther and T. Hastie, "Estimating the number of
   clusters in a data set via the gap statistic", J. R. Statist. Soc. B 63,
   411-423 (2001).
.. [2] V. Satopaa, J. Albrecht, D. Irwin and B. Raghavan, "Finding a
   'Kneedle' in a haystack: detecting knee points in system behavior",
   31st ICDCS Workshops, 166-171 (2011).
"""

from __future__ import annotations

import copy
import datetime
import json
import numbers
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import _compute
from . import analysis as _analysis
from ._threads import check_n_jobs, locked, thread_map
from .algorithms import _NO_N_CLUSTERS, canonical_name, fit_labels, make_estimator
from .engines import lloyd
from .preprocessing import _clone
from .results import json_safe
from .validation import (
    check_bool,
    check_choice,
    check_int,
    check_max_clusters,
    check_random_state_seed,
    check_signal,
    reads_data,
)

__all__ = [
    "METRICS",
    "REFERENCES",
    "ClusterMetric",
    "GapStatistic",
    "choose_n_clusters",
    "estimate_number_of_clusters",
    "gap_statistic",
    "get_cluster_metric",
    "knee_point",
    "metric_curve",
    "plot_cluster_metric",
    "within_cluster_dispersion",
]

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
#: Reference distributions of the gap statistic.
REFERENCES = ("uniform", "pca")

# Metrics that are undefined for a single cluster; their curves start at k = 2.
_NEED_TWO = ("silhouette", "calinski_harabasz", "davies_bouldin")
# Metrics read from a fitted mixture model.
_MIXTURE = ("bic", "aic")

#: Default size of the random sample the silhouette is computed on.
DEFAULT_SAMPLE_SIZE = 5000
#: Default number of samples the algorithm is fitted on.
DEFAULT_FIT_SAMPLE_SIZE = 20_000
# scikit-learn's agglomerative and spectral clustering need memory that grows
# as N**2 (a condensed distance matrix, an affinity matrix): smaller samples.
_QUADRATIC_FIT_SAMPLE_SIZE = 5000
_QUADRATIC = {
    "agglomerative",
    "spectral",
    "AgglomerativeClustering",
    "SpectralClustering",
}
# Bound on the blocks of the silhouette's pairwise distances (MiB), so that
# its memory does not grow with sample_size squared. Small blocks are also
# faster (they stay in cache): for 5000 samples and 9 values of k, 0.18 s and
# 69 MiB extra with 64, 0.12 s and 12 MiB with 8.
_WORKING_MEMORY_MIB = 8

# k-means starts per k (see _estimator_factory).
_N_INIT = 3

_FORMAT_VERSION = 1
_STORE_NAME = "clusterspy_metric"

_LABELS = {
    "gap": "Gap(k)",
    "elbow": "log W(k), within-cluster dispersion",
    "silhouette": "Mean silhouette coefficient",
    "calinski_harabasz": "Calinski-Harabasz index",
    "davies_bouldin": "Davies-Bouldin index",
    "bic": "BIC",
    "aic": "AIC",
}


# -- metrics on a feature matrix ------------------------------------------------------


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


def _as_features(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (n_samples, n_features), not {X.ndim}-D.")
    if not np.isfinite(X).all():
        raise ValueError("`X` contains NaN or infinite values.")
    return X


def _check_ks(ks, n_samples, minimum=1):
    ks = np.asarray(ks)
    if ks.ndim != 1 or ks.size == 0 or not np.issubdtype(ks.dtype, np.integer):
        raise ValueError("`ks` must be a non-empty 1-D sequence of ints.")
    ks = ks.astype(np.int64)
    if (np.diff(ks) <= 0).any():
        raise ValueError("`ks` must be strictly increasing.")
    if ks[0] < minimum:
        raise ValueError(f"`ks` must be >= {minimum}, got {int(ks[0])}.")
    if ks[-1] > n_samples:
        raise ValueError(
            f"`ks` goes up to {int(ks[-1])} clusters but there are only "
            f"{n_samples} samples."
        )
    return ks


def _seed_sequence(random_state):
    """A ``SeedSequence`` from None, an int, a RandomState or a Generator."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(0, 2**31 - 1)))
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(0, 2**63 - 1)))
    return np.random.SeedSequence(random_state)


def _int_seed(seed_sequence):
    return int(seed_sequence.generate_state(1)[0])


def _default_estimator_factory(random_state):
    from sklearn.cluster import KMeans

    seed = _int_seed(_seed_sequence(random_state))

    def factory(k):
        return KMeans(n_clusters=k, n_init=_N_INIT, random_state=seed)

    factory.same_every_call = True  # see _labeller
    return factory


def _reference_sampler(X, reference):
    """Return ``draw(rng)``, which draws one reference data set like ``X``.

    ``"uniform"``: uniform over the bounding box of the features.
    ``"pca"``: uniform over the box aligned with the principal axes of the
    centred features, rotated back (Tibshirani et al.'s method b), which
    follows the shape of elongated data.
    """
    n, n_features = X.shape
    if reference == "uniform":
        low, high = X.min(axis=0), X.max(axis=0)

        def draw(rng):
            return rng.uniform(low, high, size=(n, n_features))

        return draw
    mean = X.mean(axis=0)
    centred = X - mean
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    del centred, rotated

    def draw(rng):
        return rng.uniform(low, high, size=(n, low.size)) @ vt + mean

    return draw


def _labeller(make_estimator, ks, X):
    """``labels(Z, k)``: labels of ``k`` clusters fitted on ``Z`` (shaped like
    ``X``) by the estimator that ``make_estimator(k)`` builds.

    Plain scikit-learn k-means runs in compiled loops that give the same
    partition without holding the GIL (:mod:`.engines.lloyd`). The factories
    built here (:func:`_estimator_factory`) give the same estimator on every
    call, so its parameters are read once per ``k``; any other factory is
    called for every fit, as before.
    """
    if not getattr(make_estimator, "same_every_call", False):

        def labels(Z, k):
            estimator = make_estimator(int(k))
            params = lloyd.kmeans_params(estimator, Z)
            if params is None:
                return fit_labels(estimator, Z)[0]
            return lloyd.fit_kmeans(Z, **params)[0]

        return labels
    fast = {}
    for k in ks:
        params = lloyd.kmeans_params(make_estimator(int(k)), X) if k > 1 else None
        if params is not None:
            fast[int(k)] = params

    def labels(Z, k):
        params = fast.get(int(k))
        if params is None:
            return fit_labels(make_estimator(int(k)), Z)[0]
        if isinstance(params["random_state"], np.random.RandomState):
            # Every fit starts from the generator's state as given, as it does
            # with a newly built (cloned) estimator, whatever the threads do.
            params = dict(params, random_state=copy.deepcopy(params["random_state"]))
        return lloyd.fit_kmeans(Z, **params)[0]

    return labels


def _dispersion_for(X, k, labels_of):
    """``log W_k``; ``k = 1`` is the total sum of squares and needs no fit."""
    if k == 1:
        return _log_dispersion(X, np.zeros(X.shape[0], dtype=np.int64))
    return _log_dispersion(X, labels_of(X, k))


class GapStatistic(NamedTuple):
    """The gap statistic of Tibshirani et al. (2001) over a range of ``k``.

    Attributes
    ----------
    ks : numpy.ndarray of int
    gap : numpy.ndarray
        ``Gap(k) = mean_b log W*_kb - log W_k``.
    s : numpy.ndarray
        Simulation error ``s_k = sd_k * sqrt(1 + 1/B)``.
    log_w : numpy.ndarray
        ``log W_k`` of the data.
    log_w_reference : numpy.ndarray
        ``mean_b log W*_kb`` over the ``B`` reference sets.
    sd : numpy.ndarray
        Standard deviation (``ddof=0``, as in the paper) of ``log W*_kb``.
    """

    ks: np.ndarray
    gap: np.ndarray
    s: np.ndarray
    log_w: np.ndarray
    log_w_reference: np.ndarray
    sd: np.ndarray


def gap_statistic(
    X,
    ks,
    make_estimator=None,
    n_references=10,
    reference="uniform",
    random_state=None,
    callback=None,
    n_jobs=None,
):
    """Gap statistic of a feature matrix, as Tibshirani et al. (2001) define it.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        Features (already preprocessed).
    ks : sequence of int
        Increasing numbers of clusters, each >= 1. ``k = 1`` needs no fit:
        ``W_1`` is the total sum of squares.
    make_estimator : callable or None
        ``make_estimator(k)`` returns a new unfitted clustering estimator
        with ``k`` clusters; ``None`` uses ``KMeans(n_clusters=k,
        n_init=3)`` seeded from ``random_state``.
    n_references : int
        Number ``B`` of reference data sets (default 10).
    reference : {"uniform", "pca"}
        Reference distribution: uniform over the bounding box of the
        features (default), or over the box of their principal axes
        (better for elongated clusters).
    random_state : int, numpy.random.Generator, RandomState or None
        Seed of the reference draws (and of the default estimator).
    callback : callable or None
        Called as ``callback(k)`` after each fit with ``k`` clusters (``B + 1``
        times per ``k``: the data and every reference set), for progress
        bars; calls may come from several threads, one at a time.
    n_jobs : int or None
        Data sets clustered side by side in threads, each fit with one
        OpenMP/BLAS thread; ``None`` or ``-1`` uses every available core, 1
        runs them one after another with the libraries' own threads. The
        results do not depend on it.

    Returns
    -------
    GapStatistic
        ``ks``, ``gap``, ``s``, ``log_w``, ``log_w_reference`` and ``sd``.

    Notes
    -----
    The ``B`` reference sets have as many samples as ``X`` and are drawn
    once (each from its own seed) and clustered for every ``k`` with the
    same algorithm as the data. ``W_k`` is computed from the labels, so any
    algorithm works. Time is ``(B + 1) * len(ks)`` fits; memory is O(N F),
    plus one reference set per thread.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(200, 2))
    >>> from clusterspy.estimate import choose_n_clusters, gap_statistic
    >>> result = gap_statistic(X, [1, 2, 3, 4], random_state=0)
    >>> choose_n_clusters("gap", result.ks, result.gap, result.s)[0]
    1
    """
    X = _as_features(X)
    ks = _check_ks(ks, X.shape[0])
    n_references = check_int(n_references, "n_references", minimum=1)
    check_choice(reference, "reference", REFERENCES)
    n_jobs = check_n_jobs(n_jobs)
    seeds = _seed_sequence(random_state)
    estimator_seeds, reference_seeds = seeds.spawn(2)
    if make_estimator is None:
        make_estimator = _default_estimator_factory(estimator_seeds)
    draw = _reference_sampler(X, reference)
    # One seed per reference set: the same B sets whatever the order in which
    # threads reach them. Each set is drawn in the thread that clusters it
    # for every k, so that one set per thread is held in memory.
    ref_seeds = reference_seeds.spawn(n_references)
    callback = locked(callback)
    labels_of = _labeller(make_estimator, ks, X)

    def log_w_curve(b):  # b = -1: the data; else reference set b
        Z = X if b < 0 else draw(np.random.default_rng(ref_seeds[b]))
        out = np.empty(ks.size)
        for i, k in enumerate(ks):
            out[i] = _dispersion_for(Z, k, labels_of)
            if callback is not None:
                callback(int(k))
        return out

    curves = thread_map(log_w_curve, range(-1, n_references), n_jobs)
    log_w = curves[0]
    log_w_ref = np.column_stack(curves[1:])
    mean_ref = log_w_ref.mean(axis=1)
    sd = log_w_ref.std(axis=1)  # ddof=0, as in the paper
    s = sd * np.sqrt(1.0 + 1.0 / n_references)
    return GapStatistic(ks, mean_ref - log_w, s, log_w, mean_ref, sd)


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


def _fit_and_score(metric, X, k, make_estimator, sample, labels_of):
    """Fit ``k`` clusters; return the metric value, or for the silhouette the
    labels of the sample rows (scored together afterwards)."""
    if metric in _MIXTURE:
        estimator = make_estimator(int(k))
        if not hasattr(estimator, metric):
            raise ValueError(
                f"metric={metric!r} needs an estimator with a `{metric}` "
                f"method (a Gaussian mixture); got {type(estimator).__name__}."
            )
        estimator.fit(X)
        return float(getattr(estimator, metric)(X))
    labels = labels_of(X, k)
    if metric == "silhouette":
        return labels if sample is None else labels[sample]
    return _score(metric, X, labels)


def metric_curve(
    X,
    ks,
    metric="gap",
    make_estimator=None,
    sample_size=DEFAULT_SAMPLE_SIZE,
    n_references=10,
    reference="uniform",
    random_state=None,
    callback=None,
    n_jobs=None,
):
    """Values of one metric for every ``k``, on a feature matrix.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        Features (already preprocessed).
    ks : sequence of int
        Increasing numbers of clusters (>= 2 for the silhouette,
        Calinski-Harabasz and Davies-Bouldin metrics).
    metric : str
        One of :data:`METRICS`; see :func:`estimate_number_of_clusters`.
    make_estimator : callable or None
        ``make_estimator(k)`` returns a new unfitted estimator with ``k``
        clusters; ``None`` uses k-means (a Gaussian mixture for ``"bic"``
        and ``"aic"``) seeded from ``random_state``.
    sample_size : int or None
        Size of the random sample the silhouette is computed on (the same
        sample for every ``k``, drawn as scikit-learn's ``silhouette_score``
        draws it, so that the values are equal); ``None`` uses every sample,
        which costs O(N**2) time.
    n_references, reference
        Gap statistic settings; see :func:`gap_statistic`.
    random_state : int, numpy.random.Generator, RandomState or None
    callback : callable or None
        Called as ``callback(k)`` after each fit with ``k`` clusters (for the
        gap, ``B + 1`` times per ``k``); calls may come from several
        threads, one at a time.
    n_jobs : int or None
        Fits run side by side in threads; see :func:`gap_statistic`.

    Returns
    -------
    dict
        ``"values"`` (the curve), ``"errors"`` (``s_k`` for the gap, else
        None) and, for ``"gap"`` and ``"elbow"``, ``"log_w"``; for the gap
        also ``"log_w_reference"`` and ``"sd"``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(c, 0.3, (50, 2)) for c in (0, 5)])
    >>> from clusterspy.estimate import choose_n_clusters, metric_curve
    >>> curve = metric_curve(X, [2, 3, 4], "silhouette", random_state=0)
    >>> choose_n_clusters("silhouette", [2, 3, 4], curve["values"])[0]
    2
    """
    check_choice(metric, "metric", METRICS)
    X = _as_features(X)
    ks = _check_ks(ks, X.shape[0], minimum=2 if metric in _NEED_TWO else 1)
    sample_size = check_int(sample_size, "sample_size", minimum=2, allow_none=True)
    n_jobs = check_n_jobs(n_jobs)
    seeds = _seed_sequence(random_state)
    estimator_seeds, sample_seeds, gap_seeds = seeds.spawn(3)
    if make_estimator is None:
        if metric in _MIXTURE:
            from sklearn.mixture import GaussianMixture

            seed = _int_seed(estimator_seeds)

            def make_estimator(k):
                return GaussianMixture(n_components=k, random_state=seed)

        else:
            make_estimator = _default_estimator_factory(estimator_seeds)
    if metric == "gap":
        gap = gap_statistic(
            X, ks, make_estimator, n_references, reference, gap_seeds, callback, n_jobs
        )
        return {
            "values": gap.gap,
            "errors": gap.s,
            "log_w": gap.log_w,
            "log_w_reference": gap.log_w_reference,
            "sd": gap.sd,
        }
    callback = locked(callback)
    labels_of = None if metric in _MIXTURE else _labeller(make_estimator, ks, X)
    if metric == "elbow":

        def one(k):
            value = _dispersion_for(X, k, labels_of)
            if callback is not None:
                callback(int(k))
            return value

        log_w = np.array(thread_map(one, ks, n_jobs), dtype=np.float64)
        return {"values": log_w, "errors": None, "log_w": log_w.copy()}

    sample = None
    if metric == "silhouette" and sample_size is not None and sample_size < X.shape[0]:
        # One sample for every k, drawn as silhouette_score(sample_size=...,
        # random_state=seed) draws it.
        seed = _int_seed(sample_seeds) % (2**31 - 1)
        sample = np.random.RandomState(seed).permutation(X.shape[0])[:sample_size]

    def one(k):
        value = _fit_and_score(metric, X, k, make_estimator, sample, labels_of)
        if callback is not None:
            callback(int(k))
        return value

    results = thread_map(one, ks, n_jobs)
    if metric == "silhouette":
        # Every k at once: one pass over the sample's pairwise distances.
        values = _compute.mean_silhouettes(
            X if sample is None else X[sample], results, _WORKING_MEMORY_MIB, n_jobs
        )
    else:
        values = np.array(results, dtype=np.float64)
    return {"values": values, "errors": None}


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


# -- the result stored with a signal -----------------------------------------------------


@dataclass(eq=False)
class ClusterMetric:
    """A number-of-clusters estimate: the metric curve and the chosen ``k``.

    Attributes
    ----------
    metric : str
    ks : numpy.ndarray of int
    values : numpy.ndarray
        The curve: ``Gap(k)``, ``log W_k`` (elbow), or the score.
    errors : numpy.ndarray or None
        ``s_k`` for the gap statistic.
    n_clusters : int
        The chosen number of clusters.
    rule : str
        The rule that chose it.
    details : dict
        Other curves: ``log_w`` (gap, elbow), ``log_w_reference`` and ``sd``
        (gap).
    parameters, versions : dict
        Provenance.
    """

    metric: str
    ks: np.ndarray
    values: np.ndarray
    errors: np.ndarray | None
    n_clusters: int
    rule: str
    details: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)

    def __repr__(self):
        return (
            f"<ClusterMetric {self.metric}: k = {self.n_clusters} "
            f"({self.rule}), k tried {int(self.ks[0])}..{int(self.ks[-1])}>"
        )

    def to_dict(self):
        """Plain dictionary of arrays, numbers and strings, for storage."""
        out = {
            "format_version": _FORMAT_VERSION,
            "metric": self.metric,
            "ks": np.asarray(self.ks, dtype=np.int64),
            "values": np.asarray(self.values, dtype=np.float64),
            "errors": None
            if self.errors is None
            else np.asarray(self.errors, dtype=np.float64),
            "n_clusters": int(self.n_clusters),
            "rule": self.rule,
            "parameters": json.dumps(json_safe(self.parameters), sort_keys=True),
            "versions": json.dumps(json_safe(self.versions), sort_keys=True),
        }
        for key, value in self.details.items():
            out[key] = np.asarray(value, dtype=np.float64)
        return out

    @classmethod
    def from_dict(cls, stored):
        """Rebuild from :meth:`to_dict` (arrays may come back lazy)."""
        from .sources import _as_numpy

        version = int(stored.get("format_version", 0))
        if version != _FORMAT_VERSION:
            raise ValueError(
                f"Stored clusterspy metric has format version {version}; this "
                f"clusterspy reads version {_FORMAT_VERSION}."
            )
        errors = stored.get("errors")
        details = {
            key: _as_numpy(stored[key])
            for key in ("log_w", "log_w_reference", "sd")
            if stored.get(key) is not None
        }
        return cls(
            metric=str(stored["metric"]),
            ks=_as_numpy(stored["ks"]).astype(np.int64),
            values=_as_numpy(stored["values"]).astype(np.float64),
            errors=None if errors is None else _as_numpy(errors).astype(np.float64),
            n_clusters=int(stored["n_clusters"]),
            rule=str(stored["rule"]),
            details=details,
            parameters=json.loads(stored["parameters"]),
            versions=json.loads(stored["versions"]),
        )


# -- the signal-level function -----------------------------------------------------------


def _metric_ks(metric, min_clusters, max_clusters):
    start = min_clusters
    if metric in _NEED_TWO:
        if max_clusters < 2:
            raise ValueError(
                f"`max_clusters` must be >= 2 for metric={metric!r}, which is "
                f"undefined for a single cluster; got {max_clusters}."
            )
        start = max(2, min_clusters)
    return np.arange(start, max_clusters + 1, dtype=np.int64)


def _estimator_factory(algorithm, kwargs, seed, metric, k0):
    """Validate the algorithm and return ``(factory, name, example)``.

    ``factory(k)`` builds a new unfitted estimator with ``k`` clusters.
    """
    if metric in _MIXTURE and algorithm is None:
        algorithm = "gaussian_mixture"
    name = canonical_name(algorithm)
    if name in _NO_N_CLUSTERS:
        raise ValueError(
            f"algorithm={name!r} finds the number of clusters itself and cannot "
            "be run for a given k; estimate_number_of_clusters needs an algorithm "
            "that takes `n_clusters`: 'kmeans', 'minibatchkmeans', "
            "'agglomerative', 'spectral', 'gaussian_mixture', 'birch', or an "
            "estimator object with an `n_clusters` or `n_components` parameter."
        )
    for key in ("n_clusters", "n_components"):
        if key in kwargs:
            raise ValueError(
                f"`{key}` must not be given: estimate_number_of_clusters sets it "
                "to every k from `min_clusters` to `max_clusters`."
            )
    if name == "agglomerative" and kwargs.get("distance_threshold") is not None:
        raise ValueError(
            "`distance_threshold` must not be given: with it, agglomerative "
            "clustering chooses the number of clusters itself."
        )
    if name in ("kmeans", "minibatchkmeans"):
        # A bad local minimum at a single k inflates W_k and misleads every
        # rule; one k-means++ start (scikit-learn's n_init="auto") is not
        # enough to avoid it reliably, three starts are (tests).
        kwargs = dict(kwargs)
        kwargs.setdefault("n_init", _N_INIT)
    if name is not None:

        def factory(k):
            return make_estimator(algorithm, dict(kwargs, n_clusters=k), seed)[0]

        # An int seed builds the same estimator every time; a RandomState is
        # shared by the estimators, which advance it (see _labeller).
        factory.same_every_call = not isinstance(seed, np.random.RandomState)
        display = name
    else:
        base, display = make_estimator(algorithm, kwargs, seed)
        params = base.get_params() if hasattr(base, "get_params") else {}
        key = next((p for p in ("n_clusters", "n_components") if p in params), None)
        if key is None or not hasattr(base, "set_params"):
            raise ValueError(
                f"`algorithm` ({display}) has no `n_clusters` or `n_components` "
                "parameter, so it cannot be run for a given number of clusters."
            )

        def factory(k):
            estimator = _clone(base)
            estimator.set_params(**{key: k})
            return estimator

        factory.same_every_call = True  # clones: the same estimator every time

    example = factory(k0)  # validates the keyword arguments now
    if metric in _MIXTURE and not hasattr(example, metric):
        raise ValueError(
            f"metric={metric!r} needs a Gaussian mixture: pass "
            "algorithm='gaussian_mixture' (the default for this metric), or an "
            f"estimator with a `{metric}` method; got algorithm={display!r}."
        )
    return factory, display, example


def _check_fit_sample_size(fit_sample_size, max_clusters):
    if fit_sample_size is None:
        return None
    if fit_sample_size == "auto" and isinstance(fit_sample_size, str):
        return "auto"
    if isinstance(fit_sample_size, str) or not isinstance(
        fit_sample_size, numbers.Integral
    ):
        raise TypeError(
            f"`fit_sample_size` must be 'auto', None or an int, not {fit_sample_size!r}."
        )
    return check_int(fit_sample_size, "fit_sample_size", minimum=max(2, max_clusters))


def _draw_rows(n, size, rng):
    """Sorted random row indices, or ``None`` for all rows."""
    if size is None or n <= size:
        return None
    return np.sort(rng.choice(n, size=size, replace=False))


def _fit_features(plan, fit_size, rng, show_progressbar, max_clusters):
    """The preprocessed features of the fit sample, and the number kept.

    Eager features: exactly ``cluster_analysis``'s features (preprocessing
    fitted on every kept row), then a random sample of rows. Lazy signal
    features with more kept rows than ``fit_size``: the sampled rows are
    read block by block, without holding the whole feature matrix, and the
    preprocessing is fitted on them.
    """
    from .sources import _is_dask

    _progress = _analysis._progress

    raw = plan.source.features()
    n_keep = int(plan.keep.sum())
    if _is_dask(raw) and fit_size is not None and n_keep > fit_size:
        from .engines.blockwise import RowBlocks, scan

        # the data's own tiles as blocks: one pass for the finite rows, one
        # read of the tiles that hold sampled rows
        blocks = RowBlocks(plan.features(flat=False), plan.keep, None, show_progressbar)
        finite, _ = scan(blocks)
        keep = plan.apply_nan_policy(plan.keep, finite)
        kept = np.flatnonzero(keep)
        _check_n_samples(kept.size, max_clusters)
        rows = _draw_rows(kept.size, fit_size, rng)
        if rows is not None:
            kept = kept[rows]
        X = blocks.take(kept)
        if plan.preprocessor is not None:
            X = plan.preprocessor.fit_transform(X)
        return np.asarray(X, dtype=np.float64), int(keep.sum())
    Xp, _ = plan.compute(show_progressbar)
    n_kept = Xp.shape[0]
    _check_n_samples(n_kept, max_clusters)
    rows = _draw_rows(n_kept, fit_size, rng)
    # A copy, also when every row is used: Xp may be a view of the user's
    # data, and estimators such as KMeans(copy_x=False) write into X.
    X = np.array(Xp if rows is None else Xp[rows], dtype=np.float64)
    return X, n_kept


def _check_n_samples(n_kept, max_clusters):
    if max_clusters > n_kept:
        raise ValueError(
            f"`max_clusters`={max_clusters} is larger than the number of navigation "
            f"positions to cluster ({n_kept})."
        )


@reads_data  # a damaged file is named
def estimate_number_of_clusters(
    signal,
    cluster_source,
    max_clusters=10,
    min_clusters=1,
    metric="gap",
    preprocessing=None,
    preprocessing_kwargs=None,
    number_of_components=None,
    navigation_mask=None,
    signal_mask=None,
    algorithm=None,
    random_state=None,
    show_progressbar=None,
    n_references=10,
    reference="uniform",
    sample_size=DEFAULT_SAMPLE_SIZE,
    fit_sample_size="auto",
    nan_policy="raise",
    n_jobs=None,
    **kwargs,
):
    """Estimate the number of clusters in a signal's navigation positions.

    The features are exactly those :func:`clusterspy.cluster_analysis` would
    cluster with the same arguments. They are clustered for every ``k`` from
    ``min_clusters`` to ``max_clusters``, each clustering is scored, and the
    metric's rule picks ``k``. The curve is stored with the signal
    (``signal.learning_results.clusterspy_metric``); read it with
    :func:`get_cluster_metric` and plot it with :func:`plot_cluster_metric`.

    Parameters
    ----------
    signal : hyperspy.api.signals.BaseSignal
        Any signal with navigation dimension >= 1, eager or lazy.
    cluster_source : {"signal", "decomposition", "bss"} or BaseSignal
        Features, as for :func:`clusterspy.cluster_analysis`.
    max_clusters : int
        Largest ``k`` tried (default 10).
    min_clusters : int
        Smallest ``k`` tried (default 1). The silhouette, Calinski-Harabasz
        and Davies-Bouldin metrics are undefined for one cluster and start
        at ``k = 2``.
    metric : {"gap", "elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "bic", "aic"}
        * ``"gap"`` (default): the gap statistic of Tibshirani, Walther and
          Hastie (2001), the only metric here that can answer ``k = 1`` (no
          cluster structure). Chosen ``k``: the smallest with
          ``Gap(k) >= Gap(k+1) - s_{k+1}``; if none satisfies it (the gap
          still rises at ``max_clusters``), the ``k`` of the largest gap.
        * ``"elbow"``: the knee of ``log W_k`` (within-cluster dispersion),
          the point farthest below the chord of the normalised curve
          (Kneedle, Satopaa et al. 2011). It cannot detect the absence of
          clusters; straight or concave curves give ``min_clusters``.
        * ``"silhouette"``: the maximum of the mean silhouette coefficient,
          computed on ``sample_size`` random samples.
        * ``"calinski_harabasz"``: the maximum of the variance ratio.
        * ``"davies_bouldin"``: the minimum of the Davies-Bouldin index.
        * ``"bic"``, ``"aic"``: the minimum of a Gaussian mixture's
          information criterion. ``algorithm=None`` then means
          ``"gaussian_mixture"``; any other algorithm without a
          ``bic``/``aic`` method is an error.
    preprocessing, preprocessing_kwargs, number_of_components, navigation_mask, signal_mask
        As for :func:`clusterspy.cluster_analysis`.
    algorithm : str, object or None
        An algorithm taking a number of clusters: ``"kmeans"`` (default),
        ``"minibatchkmeans"``, ``"agglomerative"``, ``"spectral"``,
        ``"gaussian_mixture"``, ``"birch"``, or an estimator object with an
        ``n_clusters`` or ``n_components`` parameter (cloned and set for
        every ``k``). DBSCAN and HDBSCAN choose ``k`` themselves and are
        refused.
    random_state : int, numpy.random.RandomState or None
        Seeds the fit sample, the silhouette sample, the gap references and
        the algorithm. The same int gives the same curves and ``k``;
        ``None`` draws a seed and records it in the stored parameters; a
        RandomState gives a seed drawn from it, recorded the same way.
    show_progressbar : bool or None
        Show a progress bar over ``k`` (and dask's while lazy data are
        read); ``None`` follows HyperSpy's preferences.
    n_references : int
        Number ``B`` of reference data sets of the gap statistic (default
        10). HyperSpy's ``n_ref`` is accepted as an alias.
    reference : {"uniform", "pca"}
        Gap reference distribution: uniform over the features' bounding box
        (default), or over the box of their principal axes (rotate, draw,
        rotate back), which copes better with elongated clusters.
    sample_size : int or None
        Random samples the silhouette is computed on (default 5000): its
        cost is O(sample_size**2) time and bounded memory, whatever N.
        ``None`` uses every sample of the fit sample.
    fit_sample_size : "auto", int or None
        The algorithm is fitted, and every metric computed, on this many
        randomly chosen navigation positions, the same for every ``k``; gap
        references have the same size. ``"auto"`` (default) means 20000,
        or 5000 for agglomerative and spectral clustering, whose memory
        grows as the square of the number of samples. ``None`` uses every
        position.
    nan_policy : {"raise", "mask"}
        As for :func:`clusterspy.cluster_analysis`.
    n_jobs : int or None
        Fits run side by side in this many threads, each with one OpenMP
        and one BLAS thread (faster than one fit at a time with all cores
        at these sizes). ``None`` (default) or ``-1``: every available core;
        1: one fit at a time, with the libraries' own threads. The result
        does not depend on it.
    **kwargs
        Passed to a named algorithm's constructor (``n_init=10``, ...), but
        not ``n_clusters``, which is set for each ``k``.

    Returns
    -------
    int
        The estimated number of clusters.

    Raises
    ------
    TypeError, ValueError
        For invalid parameters, before any work is done. The signal is not
        modified, except that on success the curve is stored in
        ``learning_results.clusterspy_metric``.

    See Also
    --------
    get_cluster_metric, plot_cluster_metric, gap_statistic

    Notes
    -----
    Every metric costs O(N k) time and memory per ``k`` on the fit sample
    (the silhouette O(sample_size**2) time); no N x N distance matrix is
    built. The k-means algorithms default to ``n_init=3`` here (scikit-learn's
    ``"auto"`` runs one k-means++ start): a bad local minimum at a single
    ``k`` inflates ``W_k`` and misleads every rule. Pass ``n_init`` to
    change it. For lazy signals
    whose features come from the data, only the fit sample is read into
    memory and the preprocessing is fitted on it; for eager signals (and
    decomposition sources) the preprocessing is fitted on every kept
    position, as ``cluster_analysis`` does. Row-wise preprocessing (None,
    "norm", "l1", "sqrt", "anscombe") gives the same curves either way.

    References
    ----------
    R. Tibshirani, G. Walther and T. Hastie, J. R. Statist. Soc. B 63,
    411-423 (2001).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> from clusterspy.estimate import estimate_number_of_clusters
    >>> rng = np.random.default_rng(0)
    >>> centres = [(0, 0), (6, 0), (0, 6)]
    >>> X = np.concatenate([rng.normal(c, 0.5, (100, 2)) for c in centres])
    >>> s = hs.signals.Signal1D(X)  # 300 navigation positions, 2 features
    >>> estimate_number_of_clusters(s, "signal", max_clusters=6, random_state=0,
    ...                             show_progressbar=False)
    3
    >>> s.learning_results.clusterspy_metric["ks"]
    array([1, 2, 3, 4, 5, 6])
    """
    # -- validate everything before any work ---------------------------------------------
    check_signal(signal)
    if "n_ref" in kwargs:  # HyperSpy's name, so that notebooks port unchanged
        n_ref = kwargs.pop("n_ref")
        if n_references not in (10, n_ref):
            raise ValueError("Give `n_references` or its alias `n_ref`, not both.")
        n_references = n_ref
    metric = check_choice(metric, "metric", METRICS)
    max_clusters = check_int(max_clusters, "max_clusters", minimum=1)
    check_max_clusters(max_clusters, signal)  # before arange(max_clusters)
    min_clusters = check_int(min_clusters, "min_clusters", minimum=1)
    if max_clusters < min_clusters:
        raise ValueError(
            f"`max_clusters` must be >= `min_clusters` ({min_clusters}), not "
            f"{max_clusters}."
        )
    ks = _metric_ks(metric, min_clusters, max_clusters)
    n_references = check_int(n_references, "n_references", minimum=1)
    reference = check_choice(reference, "reference", REFERENCES)
    sample_size = check_int(sample_size, "sample_size", minimum=2, allow_none=True)
    if sample_size is not None and sample_size <= max_clusters:
        raise ValueError(
            f"`sample_size` must be > `max_clusters` ({max_clusters}), so that the "
            f"silhouette sample can hold every cluster; got {sample_size}."
        )
    fit_sample_size = _check_fit_sample_size(fit_sample_size, max_clusters)
    if show_progressbar is not None:
        show_progressbar = check_bool(show_progressbar, "show_progressbar")
    n_jobs = check_n_jobs(n_jobs)
    plan = _analysis.plan_features(
        signal,
        cluster_source,
        preprocessing,
        preprocessing_kwargs,
        number_of_components,
        navigation_mask,
        signal_mask,
        nan_policy,
    )
    seed = check_random_state_seed(random_state, draw=True)  # recordable seed
    factory, algorithm_name, example = _estimator_factory(
        algorithm, kwargs, seed, metric, int(ks[0]) if ks[0] > 1 else 2
    )
    _check_n_samples(int(plan.keep.sum()), max_clusters)
    if fit_sample_size == "auto":
        fit_sample_size = (
            _QUADRATIC_FIT_SAMPLE_SIZE
            if algorithm_name in _QUADRATIC
            else DEFAULT_FIT_SAMPLE_SIZE
        )
    if show_progressbar is None:
        from hyperspy.defaults_parser import preferences

        show_progressbar = bool(preferences.General.show_progressbar)

    # -- features of the fit sample ---------------------------------------------------------
    # Independent streams for the fit sample and the metric, derived from one
    # seed, so that one int reproduces everything.
    sample_seeds, metric_seeds = _seed_sequence(seed).spawn(2)
    X, n_kept = _fit_features(
        plan,
        fit_sample_size,
        np.random.default_rng(sample_seeds),
        show_progressbar,
        max_clusters,
    )

    # -- the curve ------------------------------------------------------------------------
    from hyperspy.external.progressbar import progressbar

    # one step per fit: for the gap, the data and every reference set
    n_fits = ks.size * (n_references + 1 if metric == "gap" else 1)
    with progressbar(
        total=n_fits, disable=not show_progressbar, leave=True, desc=f"{metric} fits"
    ) as pbar:
        curve = metric_curve(
            X,
            ks,
            metric,
            factory,
            sample_size=sample_size,
            n_references=n_references,
            reference=reference,
            random_state=metric_seeds,
            callback=lambda k: pbar.update(1),
            n_jobs=n_jobs,
        )
    k, rule = choose_n_clusters(metric, ks, curve["values"], curve["errors"])

    _describe = _analysis._describe
    parameters = {
        "metric": metric,
        "min_clusters": min_clusters,
        "max_clusters": max_clusters,
        "cluster_source": plan.source.description,
        "cluster_source_kind": plan.source.kind,
        "preprocessing": _describe(preprocessing),
        "preprocessing_kwargs": preprocessing_kwargs or {},
        "number_of_components": plan.source.number_of_components,
        "navigation_mask": plan.navigation_mask is not None,
        "signal_mask": plan.source.signal_mask is not None,
        "algorithm": algorithm_name,
        "estimator": repr(example),
        "kwargs": {key: _describe(v) for key, v in kwargs.items()},
        "random_state": seed if isinstance(seed, int) else repr(random_state),
        "n_references": n_references if metric == "gap" else None,
        "reference": reference if metric == "gap" else None,
        "sample_size": sample_size if metric == "silhouette" else None,
        "fit_sample_size": fit_sample_size,
        "n_samples": n_kept,
        "n_fit_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "nan_policy": nan_policy,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "signal_title": signal.metadata.General.title,
    }
    result = ClusterMetric(
        metric=metric,
        ks=ks,
        values=curve["values"],
        errors=curve["errors"],
        n_clusters=k,
        rule=rule,
        details={
            key: curve[key]
            for key in ("log_w", "log_w_reference", "sd")
            if key in curve
        },
        parameters=parameters,
        versions=_analysis._versions(),
    )
    # Stored only now, after everything succeeded: a failed call leaves the
    # signal exactly as it was.
    signal.learning_results.clusterspy_metric = result.to_dict()
    return int(k)


def get_cluster_metric(signal):
    """Return the :class:`ClusterMetric` stored by the last estimate.

    Raises
    ------
    RuntimeError
        If ``estimate_number_of_clusters`` was not run on this signal.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> from clusterspy.estimate import (
    ...     estimate_number_of_clusters, get_cluster_metric, plot_cluster_metric)
    >>> rng = np.random.default_rng(0)
    >>> s = hs.signals.Signal1D(rng.normal(size=(100, 2)))
    >>> k = estimate_number_of_clusters(s, "signal", max_clusters=3,
    ...                                 metric="elbow", random_state=0)
    >>> get_cluster_metric(s).metric
    'elbow'
    """
    check_signal(signal)
    stored = getattr(signal.learning_results, _STORE_NAME, None)
    if not stored:
        raise RuntimeError(
            "No number-of-clusters estimate on this signal: run "
            "`signal.clusterspy.estimate_number_of_clusters(...)` first."
        )
    return ClusterMetric.from_dict(stored)


def plot_cluster_metric(signal, ax=None):
    """Plot the stored metric curve against ``k``, with the chosen ``k``.

    The gap statistic is drawn with its error bars ``s_k``; a dashed
    vertical line marks the estimated number of clusters.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``estimate_number_of_clusters`` was run.
    ax : matplotlib.axes.Axes or None
        Axes to draw in; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    RuntimeError
        If no estimate is stored with the signal.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> from clusterspy.estimate import (
    ...     estimate_number_of_clusters, get_cluster_metric, plot_cluster_metric)
    >>> rng = np.random.default_rng(0)
    >>> s = hs.signals.Signal1D(rng.normal(size=(100, 2)))
    >>> k = estimate_number_of_clusters(s, "signal", max_clusters=3,
    ...                                 metric="elbow", random_state=0)
    >>> fig = plot_cluster_metric(s)
    >>> fig.axes[0].get_xlabel()
    'Number of clusters k'
    """
    result = get_cluster_metric(signal)
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    if result.errors is not None:
        ax.errorbar(
            result.ks,
            result.values,
            yerr=result.errors,
            fmt="o-",
            capsize=3,
            label=_LABELS[result.metric],
        )
    else:
        ax.plot(result.ks, result.values, "o-", label=_LABELS[result.metric])
    ax.axvline(
        result.n_clusters,
        color="0.3",
        linestyle="--",
        label=f"estimated k = {result.n_clusters}",
    )
    ax.set_xlabel("Number of clusters k")
    ax.set_ylabel(_LABELS[result.metric])
    ax.set_title(f"{result.metric}: {result.rule}", fontsize="small")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", fontsize="small")
    return fig
