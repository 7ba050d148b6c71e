"""Navigation and signal masks in HyperSpy's layout, as flat boolean arrays.

Moved out of :mod:`clusterspy.sources` (which still exports them) so that
modules below it, such as :mod:`clusterspy.components`, can read masks
without importing the feature sources (and, through them, :mod:`clusterspy.pca`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["navigation_mask_to_flat", "signal_mask_to_flat"]


def _is_signal(obj):
    from hyperspy.signal import BaseSignal

    return isinstance(obj, BaseSignal)


def _is_dask(array):
    return type(array).__module__.startswith("dask")


def _as_numpy(array):
    """Compute a dask array (or a lazy HyperSpy array) into NumPy."""
    if _is_dask(array):
        return np.asarray(array.compute())
    return np.asarray(array)


def _mask_data(mask, name):
    """Return the mask's values as a boolean NumPy array, with its origin."""
    if _is_signal(mask):
        data = _as_numpy(mask.data)
    elif _is_dask(mask):
        data = _as_numpy(mask)
    else:
        data = np.asarray(mask)
    if data.dtype != bool:
        from .validation import ParameterError

        raise ParameterError(
            f"`{name}` must be a boolean array or signal (True = excluded), not "
            f"of dtype {data.dtype}."
        )
    return data


def navigation_mask_to_flat(signal, navigation_mask):
    """Return a flat boolean navigation mask (True = excluded) or ``None``.

    Follows HyperSpy's ``decomposition``: a NumPy array has the shape
    ``axes_manager.navigation_shape`` (HyperSpy's axes order, x first) and is
    transposed to the data order; a signal is used as it is, either with
    ``signal_dimension == 0`` and the same navigation shape (HyperSpy's
    convention) or with ``navigation_dimension == 0`` and a signal shape equal
    to the navigation shape (what ``s.sum(-1) > threshold`` gives).
    """
    if navigation_mask is None:
        return None
    name = "navigation_mask"
    nav_shape = signal.axes_manager.navigation_shape
    if _is_signal(navigation_mask):
        am = navigation_mask.axes_manager
        ok = (am.signal_dimension == 0 and am.navigation_shape == nav_shape) or (
            am.navigation_dimension == 0 and am.signal_shape == nav_shape
        )
        if not ok:
            raise ValueError(
                f"`{name}` must be a boolean signal whose shape matches the "
                f"navigation shape {nav_shape}; got a signal of shape "
                f"{am.navigation_shape}|{am.signal_shape}."
            )
        return _mask_data(navigation_mask, name).ravel()
    data = _mask_data(navigation_mask, name)
    if data.shape != nav_shape:
        hint = ""
        if data.shape == nav_shape[::-1] and len(nav_shape) > 1:
            hint = " (this array is in data order: pass `mask.T`)"
        raise ValueError(
            f"`{name}` must be a boolean array of shape navigation_shape="
            f"{nav_shape} (HyperSpy's axes order, x first); got shape "
            f"{data.shape}{hint}."
        )
    return np.ascontiguousarray(data.T).ravel()


def signal_mask_to_flat(signal, signal_mask):
    """Return a flat boolean signal mask (True = excluded) or ``None``.

    A NumPy array has the shape ``axes_manager.signal_shape`` (x first) and is
    transposed to the data order; a signal must have ``navigation_dimension
    == 0`` and the same signal shape.
    """
    if signal_mask is None:
        return None
    name = "signal_mask"
    sig_shape = signal.axes_manager.signal_shape
    if _is_signal(signal_mask):
        am = signal_mask.axes_manager
        if am.navigation_dimension != 0 or am.signal_shape != sig_shape:
            raise ValueError(
                f"`{name}` must be a boolean signal with navigation dimension 0 "
                f"and signal shape {sig_shape}; got a signal of shape "
                f"{am.navigation_shape}|{am.signal_shape}."
            )
        return _mask_data(signal_mask, name).ravel()
    data = _mask_data(signal_mask, name)
    if data.shape != sig_shape:
        raise ValueError(
            f"`{name}` must be a boolean array of shape signal_shape={sig_shape} "
            f"(HyperSpy's axes order); got shape {data.shape}."
        )
    return np.ascontiguousarray(data.T).ravel()
