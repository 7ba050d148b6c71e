"""One metric over a range of ``k`` on a feature matrix: :func:`metric_curve`.

The fits of the different ``k`` run side by side in threads; the silhouette
of every ``k`` is computed at once on one sample.
"""

from __future__ import annotations

import numpy as np

from .. import _compute
from .._threads import check_n_jobs, locked, thread_map
from ..validation import check_choice, check_int
from ._fitting import (
    _as_features,
    _check_ks,
    _default_estimator_factory,
    _int_seed,
    _labeller,
    _seed_sequence,
)
from .gap import gap_statistic
from .metrics import _MIXTURE, _NEED_TWO, METRICS, _dispersion_for, _score

__all__ = ["DEFAULT_SAMPLE_SIZE", "metric_curve"]

#: Default size of the random sample the silhouette is computed on.
DEFAULT_SAMPLE_SIZE = 5000
#: Default number of samples the algorithm is fitted on.

# Bound on the blocks of the silhouette's pairwise distances (MiB), so that
# its memory does not grow with sample_size squared. Small blocks are also
# faster (they stay in cache): for 5000 samples and 9 values of k, 0.18 s and
# 69 MiB extra with 64, 0.12 s and 12 MiB with 8.
_WORKING_MEMORY_MIB = 8


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
        make_estimator = _default_factory(metric, estimator_seeds)
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
        log_w = _map_ks(
            lambda k: _dispersion_for(X, k, labels_of), ks, callback, n_jobs
        )
        log_w = np.array(log_w, dtype=np.float64)
        return {"values": log_w, "errors": None, "log_w": log_w.copy()}
    sample = None
    if metric == "silhouette":
        sample = _silhouette_sample(X.shape[0], sample_size, sample_seeds)
    results = _map_ks(
        lambda k: _fit_and_score(metric, X, k, make_estimator, sample, labels_of),
        ks,
        callback,
        n_jobs,
    )
    if metric == "silhouette":
        # Every k at once: one pass over the sample's pairwise distances.
        values = _compute.mean_silhouettes(
            X if sample is None else X[sample], results, _WORKING_MEMORY_MIB, n_jobs
        )
    else:
        values = np.array(results, dtype=np.float64)
    return {"values": values, "errors": None}


def _default_factory(metric, estimator_seeds):
    """k-means, or for ``"bic"`` and ``"aic"`` a Gaussian mixture, seeded."""
    if metric not in _MIXTURE:
        return _default_estimator_factory(estimator_seeds)
    from sklearn.mixture import GaussianMixture

    seed = _int_seed(estimator_seeds)

    def make_estimator(k):
        return GaussianMixture(n_components=k, random_state=seed)

    return make_estimator


def _map_ks(one, ks, callback, n_jobs):
    """``[one(k) for k in ks]``, side by side in threads, calling
    ``callback(k)`` after each."""

    def run(k):
        value = one(k)
        if callback is not None:
            callback(int(k))
        return value

    return thread_map(run, ks, n_jobs)


def _silhouette_sample(n, sample_size, sample_seeds):
    """Rows of the silhouette sample, or ``None`` for every row.

    One sample for every k, drawn as ``silhouette_score(sample_size=...,
    random_state=seed)`` draws it.
    """
    if sample_size is None or sample_size >= n:
        return None
    seed = _int_seed(sample_seeds) % (2**31 - 1)
    return np.random.RandomState(seed).permutation(n)[:sample_size]
