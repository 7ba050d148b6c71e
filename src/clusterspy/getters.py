"""Getters: the stored cluster results as HyperSpy signals."""

from __future__ import annotations

import numpy as np

from .results import get_cluster_result
from .signals import cluster_signals, navigation_map, navigation_maps
from .validation import check_bool

__all__ = [
    "get_cluster_labels",
    "get_cluster_signals",
    "get_cluster_distances",
    "get_cluster_membership",
    "get_cluster_regions",
    "get_cluster_reconstruction",
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


def get_cluster_regions(signal, min_size=1, connectivity=1):
    """Split every cluster into spatially connected regions.

    Two positions of the same cluster belong to one region when a path of
    neighbouring positions of that cluster joins them.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    min_size : int
        Regions with fewer positions are dropped: their positions get the
        label :data:`clusterspy.UNASSIGNED` (-3).
    connectivity : int
        Which neighbours touch, as in :func:`scipy.ndimage.generate_binary_structure`:
        1 for edges only (4-connected in 2-D), up to the navigation dimension
        for edges and corners (8-connected in 2-D).

    Returns
    -------
    BaseSignal
        A map of region indices, ``0 .. n_regions - 1`` by region size
        (largest first), with noise (-1), masked (-2) and dropped (-3)
        positions marked. ``metadata.Clusterspy.region_cluster`` gives the
        cluster of each region and ``metadata.Clusterspy.region_size`` its
        size.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs, clusterspy
    >>> data = np.zeros((4, 6, 1))
    >>> data[:, 3:] = 1.0
    >>> data[0, 0] = 1.0  # a one-pixel island
    >>> s = hs.signals.Signal1D(data)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    >>> regions = s.clusterspy.get_cluster_regions(min_size=2)
    >>> regions.data[0].tolist()
    [-3, 1, 1, 0, 0, 0]
    >>> regions.metadata.Clusterspy.region_size.tolist()
    [12, 11]
    """
    from scipy import ndimage

    from .results import UNASSIGNED
    from .validation import check_int

    result = get_cluster_result(signal)
    label_map = result.label_map
    min_size = check_int(min_size, "min_size", minimum=1)
    connectivity = check_int(
        connectivity, "connectivity", minimum=1, maximum=label_map.ndim
    )
    structure = ndimage.generate_binary_structure(label_map.ndim, connectivity)
    regions = np.where(label_map < 0, label_map, UNASSIGNED).astype(np.int64)
    found = []  # (size, cluster, mask)
    for j in range(result.n_clusters):
        labelled, n = ndimage.label(label_map == j, structure=structure)
        if n == 0:
            continue
        sizes = np.bincount(labelled.ravel(), minlength=n + 1)[1:]
        for r in np.flatnonzero(sizes >= min_size):
            found.append((int(sizes[r]), j, labelled == r + 1))
    found.sort(key=lambda item: -item[0])
    for index, (_, _, mask) in enumerate(found):
        regions[mask] = index
    out = navigation_map(signal, regions)
    out.metadata.General.title = f"Cluster regions of {signal.metadata.General.title}"
    out.metadata.set_item(
        "Clusterspy.region_cluster", np.array([c for _, c, _ in found], dtype=np.int64)
    )
    out.metadata.set_item(
        "Clusterspy.region_size", np.array([n for n, _, _ in found], dtype=np.int64)
    )
    return out


def get_cluster_reconstruction(signal, signal_kind="mean"):
    """Replace every position's signal with its cluster's signal.

    The result has the shape of the analysed signal: a spectrum image whose
    spectra are the cluster means (a denoised, segmented map), or a colour
    image whose pixels take their cluster's mean colour (colour
    quantisation). Positions in no cluster (noise, masked, unassigned) are
    NaN.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run, with the default
        ``source_for_centers`` (the cluster signals must have the signal's
        own shape).
    signal_kind : {"mean", "centroid", "sum", "std"}
        Which cluster signal to use. The accessor method calls this
        parameter ``signal``.

    Returns
    -------
    BaseSignal
        Same class and axes as ``signal`` (eager), float64 data; for a
        colour image, the ``Signal1D`` of its pixels' colours (see
        :func:`clusterspy.as_feature_signal`), shape ``(height, width,
        channels)``.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> rec = s.clusterspy.get_cluster_reconstruction()
    >>> rec.data.shape == s.data.shape
    True
    """
    from .validation import check_choice

    check_choice(signal_kind, "signal", ("mean", "centroid", "sum", "std"))
    result = get_cluster_result(signal)
    values = np.asarray(result.cluster_signal(signal_kind), dtype=np.float64)
    sig_shape = tuple(signal.axes_manager.signal_shape[::-1])
    if values.shape[1:] != sig_shape:
        raise ValueError(
            "The cluster signals have shape "
            f"{values.shape[1:]}, not the signal's {sig_shape}: "
            "get_cluster_reconstruction needs the default source_for_centers."
        )
    flat = np.full((result.labels.size,) + sig_shape, np.nan)
    assigned = result.labels >= 0
    flat[assigned] = values[result.labels[assigned]]
    data = flat.reshape(result.label_map.shape + sig_shape)
    from hyperspy.signal import BaseSignal

    metadata = signal.metadata.deepcopy().as_dictionary()
    metadata.pop("_HyperSpy", None)
    out = BaseSignal(
        np.moveaxis(data, range(data.ndim), _data_axis_order(signal)),
        axes=signal.axes_manager._get_axes_dicts(),
        metadata=metadata,
    )
    out._assign_subclass()
    out.metadata.General.title = (
        f"Cluster {signal_kind} reconstruction of {signal.metadata.General.title}"
    )
    return out


def _data_axis_order(signal):
    """Where each axis of the aligned (navigation, signal) array goes in ``data``."""
    am = signal.axes_manager
    return [ax.index_in_array for ax in am.navigation_axes[::-1]] + [
        ax.index_in_array for ax in am.signal_axes[::-1]
    ]
