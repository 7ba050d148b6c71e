"""Getters: the stored cluster results as HyperSpy signals."""

from __future__ import annotations

import numpy as np

from .analysis import get_cluster_result
from .signals import cluster_signals, navigation_map, navigation_maps
from .validation import check_bool

__all__ = [
    "get_cluster_labels",
    "get_cluster_signals",
    "get_cluster_distances",
    "get_cluster_membership",
]


def get_cluster_labels(signal, merged=False):
    """Return the cluster labels as a signal.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    merged : bool
        If True, one map of integer labels: ``0 .. n_clusters - 1`` by cluster
        size (largest first), ``-1`` for noise and ``-2`` for masked
        positions. If False (default), one boolean map per cluster, the
        cluster index being the navigation axis (as HyperSpy's built-in).

    Returns
    -------
    BaseSignal
        Signal axes are the navigation axes of ``signal``, calibrated.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 6), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> s.clusterspy.get_cluster_labels(merged=True).data.shape
    (6, 8)
    >>> s.clusterspy.get_cluster_labels().data.shape
    (3, 6, 8)
    """
    merged = check_bool(merged, "merged")
    result = get_cluster_result(signal)
    title = signal.metadata.General.title
    label_map = result.label_map
    if merged:
        out = navigation_map(signal, label_map.copy())
        out.metadata.General.title = f"Cluster labels of {title}"
    else:
        binary = label_map[None, ...] == np.arange(result.n_clusters).reshape(
            (-1,) + (1,) * label_map.ndim
        )
        out = navigation_maps(signal, binary)
        out.metadata.General.title = f"Cluster labels of {title}"
    return out


def get_cluster_signals(signal, signal_kind="mean"):
    """Return the cluster signals: one spectrum (or image) per cluster.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    signal_kind : {"mean", "sum", "centroid", "std", "count"}
        ``"mean"``, ``"sum"`` and ``"std"`` (population standard deviation)
        over each cluster's members; ``"centroid"``: the member nearest its
        cluster's centre in feature space (a real, measured spectrum);
        ``"count"``: the number of members. The accessor method calls this
        parameter ``signal``, as HyperSpy does.

    Returns
    -------
    BaseSignal
        Of the class of ``source_for_centers`` (an ``EELSSpectrum`` gives
        ``EELSSpectrum`` cluster signals), with the cluster index as the
        navigation axis.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> s.clusterspy.get_cluster_signals("mean").data.shape
    (3, 32)
    """
    return cluster_signals(signal, get_cluster_result(signal), signal_kind)


def get_cluster_distances(signal):
    """Return the distance of every position to every cluster centre.

    Euclidean distances in the preprocessed feature space, one map per
    cluster (cluster index as navigation axis); NaN at masked positions.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> s.clusterspy.get_cluster_distances().data.shape
    (3, 8, 8)
    """
    result = get_cluster_result(signal)
    data = result.distances.T.reshape((result.n_clusters,) + result.label_map.shape)
    out = navigation_maps(signal, data)
    out.metadata.General.title = f"Cluster distances of {signal.metadata.General.title}"
    return out


def get_cluster_membership(signal):
    """Return soft memberships (probabilities), one map per cluster.

    Available for algorithms with ``predict_proba`` such as
    ``"gaussian_mixture"``; NaN at masked positions.

    Raises
    ------
    RuntimeError
        If the algorithm gave no soft memberships.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", preprocessing="norm",
    ...     algorithm="gaussian_mixture", n_clusters=3,
    ...     covariance_type="diag", random_state=0)
    >>> m = s.clusterspy.get_cluster_membership()
    >>> bool(abs(m.data.sum(axis=0) - 1).max() < 1e-9)
    True
    """
    result = get_cluster_result(signal)
    if result.membership is None:
        raise RuntimeError(
            f"The algorithm {result.parameters.get('algorithm')!r} gives no soft "
            "memberships; use one with predict_proba, such as "
            "algorithm='gaussian_mixture'."
        )
    data = result.membership.T.reshape((result.n_clusters,) + result.label_map.shape)
    out = navigation_maps(signal, data)
    out.metadata.General.title = (
        f"Cluster membership of {signal.metadata.General.title}"
    )
    return out
