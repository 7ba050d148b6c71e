"""The gap statistic of Tibshirani, Walther and Hastie (2001).

References
----------
.. [1] R. Tibshirani, G. Walther and T. Hastie, "Estimating the number of
   clusters in a data set via the gap statistic", J. R. Statist. Soc. B 63,
   411-423 (2001).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._threads import check_n_jobs, locked, thread_map
from ..validation import check_choice, check_int
from ._fitting import (
    _as_features,
    _check_ks,
    _default_estimator_factory,
    _labeller,
    _seed_sequence,
)
from .metrics import _dispersion_for

__all__ = ["REFERENCES", "GapStatistic", "gap_statistic"]

#: Reference distributions of the gap statistic.
REFERENCES = ("uniform", "pca")


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
