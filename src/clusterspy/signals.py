"""Result arrays as HyperSpy signals, with the analysed signal's calibration."""

from __future__ import annotations

import copy

import numpy as np

from .results import CLUSTER_SIGNAL_KINDS

__all__ = [
    "navigation_map",
    "navigation_maps",
    "cluster_signals",
]

_CLUSTER_AXIS = {"size": None, "navigate": True, "name": "Cluster index", "units": ""}


def _nav_axes_as_signal_axes(signal):
    axes = signal.axes_manager._get_navigation_axes_dicts()
    for axis in axes:
        axis["navigate"] = False
    return axes


def _new_signal(data, axes, metadata=None):
    from hyperspy.signal import BaseSignal

    out = BaseSignal(data, axes=axes, metadata=metadata or {})
    # Picks Signal1D/Signal2D (or an extension's class from the signal type)
    # from the signal dimension, as HyperSpy does when it loads a file.
    out._assign_subclass()
    return out


def navigation_map(signal, data):
    """A signal holding one value per navigation position of ``signal``.

    ``data`` has the navigation shape in data order; the result's signal
    axes are ``signal``'s navigation axes (calibration and units kept), so a
    2-D map is a ``Signal2D`` that plots as an image.
    """
    return _new_signal(np.asarray(data), _nav_axes_as_signal_axes(signal))


def navigation_maps(signal, data, axis_name="Cluster index"):
    """A stack of navigation maps, one per cluster.

    ``data`` has shape ``(n_clusters,) + navigation shape (data order)``; the
    cluster index is the navigation axis.
    """
    data = np.asarray(data)
    cluster_axis = dict(_CLUSTER_AXIS, size=data.shape[0], name=axis_name)
    return _new_signal(data, [cluster_axis] + _nav_axes_as_signal_axes(signal))


def cluster_signals(signal, result, kind="mean"):
    """Cluster signals of ``result`` as a signal of the source's class.

    The cluster index is the navigation axis; the signal axes are those of
    ``source_for_centers``. When the cluster signals come from the analysed
    signal (its data or its decomposition), its metadata are carried over,
    so that an ``EDSSEMSpectrum`` gives ``EDSSEMSpectrum`` cluster signals
    with their beam energy, elements and so on.
    """
    from .validation import check_choice

    check_choice(kind, "signal", CLUSTER_SIGNAL_KINDS)
    title = signal.metadata.General.title
    if kind == "count":
        out = _new_signal(
            result.counts.copy(),
            [dict(_CLUSTER_AXIS, size=result.n_clusters, navigate=False)],
        )
        out.metadata.General.title = f"Cluster sizes of {title}"
        return out
    data = np.array(result.cluster_signal(kind), copy=True)
    axes = [dict(_CLUSTER_AXIS, size=result.n_clusters)] + copy.deepcopy(
        result.centers_axes
    )
    if result.centers_source == "user":
        metadata = {"Signal": {"signal_type": result.centers_signal_type}}
    else:
        metadata = signal.metadata.deepcopy().as_dictionary()
        # Lazy-only and folding bookkeeping must not follow the cluster signals.
        metadata.pop("_HyperSpy", None)
    metadata.setdefault("General", {})["title"] = f"Cluster {kind} signals of {title}"
    return _new_signal(data, axes, metadata)
