"""What every engine takes and returns.

An engine is a module with one function, ``fit(plan, estimator, request)``:

``plan``
    The validated :class:`~clusterspy.features.FeaturePlan` (what to read,
    which rows to keep, how to preprocess); the engine decides how the data
    are touched.
``estimator``
    The configured, unfitted scikit-learn-compatible estimator.
``request``
    A :class:`FitRequest`: the rest of what the call asked for.

It returns a :class:`Fit` in the estimator's own label order; the pipeline
(:mod:`clusterspy.analysis`) orders the clusters by size afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Fit", "FitRequest", "n_clusters_found"]


@dataclass(frozen=True)
class FitRequest:
    """What a fit needs beyond the features and the estimator.

    Attributes
    ----------
    algorithm : str
        The algorithm's canonical name (``"kmeans"``, ...; see
        ``clusterspy.algorithms.canonical_name``), which chooses the
        engine's fastest path.
    k_requested : int or None
        The estimator's ``n_clusters`` (None for DBSCAN/HDBSCAN).
    seed : int or numpy.random.RandomState
        The seed of the call, for the engine's own samples.
    show_progressbar : bool or None
        dask's progress bar for each pass over lazy data.
    options : dict
        The checked ``engine_kwargs``.
    centers : clusterspy.sources.Source
        The source of the cluster signals: an engine that reads the same
        data may accumulate their moments on its way.
    grid : bool
        ``connectivity="grid"``: the estimator gets the navigation grid's
        connectivity (the in-memory engine only).
    """

    algorithm: str
    k_requested: int | None = None
    seed: object = None
    show_progressbar: bool | None = None
    options: dict | None = None
    centers: object = None
    grid: bool = False


@dataclass
class Fit:
    """What an engine returns, in the estimator's label order.

    ``labels`` cover every navigation position (-1 noise, -2 masked);
    ``means``/``counts`` are over each cluster's members in feature space;
    ``distances`` are to those means; ``raw_moments`` are the cluster
    signals' ``(count, mean, m2)`` when the engine computed them on its way;
    ``from_partition`` whether k-means started from the request's
    ``options["init_partition"]`` (engines that do not use it leave False).
    """

    k: int
    labels: np.ndarray
    membership: np.ndarray | None
    means: np.ndarray
    counts: np.ndarray
    distances: np.ndarray
    centroid_index: np.ndarray
    estimator: object
    feature_dtype: object
    raw_moments: tuple | None = None
    from_partition: bool = False


def n_clusters_found(raw_labels, k_requested):
    """Clusters of a labelling: the requested number, or more if labels say so.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.base import n_clusters_found
    >>> n_clusters_found(np.array([0, 2, -1]), None), n_clusters_found(np.array([0]), 3)
    (3, 3)
    """
    found = int(raw_labels.max()) + 1 if raw_labels.size else 0
    return max(k_requested or 0, found)
