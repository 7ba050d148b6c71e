"""Counting data: detection, counts per position, low-count masks, summaries.

EDS, EELS and CL maps record counts: non-negative whole numbers whose noise
is Poisson. Low-dose maps have many positions with no count at all; such a
position carries no information about its phase and must not be clustered
(``min_counts`` masks it, label ``MASKED = -2``). Everything here works on
eager and lazy signals (one dask reduction) and never modifies the signal.
"""

from __future__ import annotations

import numbers
import warnings
from typing import NamedTuple

import numpy as np

from ._utils.text import format_percent
from .exceptions import DoubtfulEstimateWarning

__all__ = [
    "CountSummary",
    "check_min_counts",
    "count_summary",
    "counts_per_position",
    "is_count_data",
    "low_count_mask",
    "warn_low_counts",
]

# Below this median number of counts per position a spectrum is mostly
# zeros: a position's phase cannot be told from its own counts (two phases
# differing in one line need tens of counts to be told apart), and binning
# neighbouring positions is the physical remedy.
SPARSE_MEDIAN_COUNTS = 5

# Share of low-count positions above which the user is warned.
WARN_SHARE = 0.05


def _aligned(signal):
    """The data with navigation axes first (data order), never a copy."""
    data = getattr(signal, "_data_aligned_with_axes", None)
    if data is None:  # a plain array: navigation axes first already
        data = signal
    return data


def _n_nav(signal, data):
    am = getattr(signal, "axes_manager", None)
    if am is None:
        return data.ndim - 1
    return am.navigation_dimension


def is_count_data(signal, sample_size=100_000):
    """Whether a signal holds counts: non-negative whole numbers.

    Integer dtypes are counts when non-negative; float data are counts when
    every value (of a seeded sample of ``sample_size`` values, for speed on
    large or lazy data) is a non-negative whole number.

    Parameters
    ----------
    signal : hyperspy signal or array-like
    sample_size : int
        Values looked at (all of them when fewer).

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.counts import is_count_data
    >>> is_count_data(np.array([[0, 3], [2, 1]]))
    True
    >>> is_count_data(np.array([[0.5, 3.0]]))
    False
    """
    data = _aligned(signal)
    if np.iscomplexobj(data) or data.dtype.kind not in "biuf":
        return False
    flat = data.reshape(-1)
    if flat.shape[0] > sample_size:
        rng = np.random.default_rng(0)
        idx = np.sort(rng.choice(flat.shape[0], sample_size, replace=False))
        flat = flat[idx]
    if hasattr(flat, "compute"):
        flat = flat.compute()
    flat = np.asarray(flat)
    if flat.size == 0:
        return False
    if flat.dtype.kind in "biu":
        return bool(flat.min() >= 0)
    finite = np.isfinite(flat)
    if not finite.all():
        return False
    # Whole numbers up to float rounding: HyperSpy's
    # decomposition(normalize_poissonian_noise=True) scales the data in
    # place and back, which leaves errors of a few ulps.
    flat = flat.astype(np.float64)
    tolerance = 1e-4 * np.maximum(1.0, np.abs(flat))
    return bool(
        flat.min() >= -1e-4 and (np.abs(flat - np.round(flat)) <= tolerance).all()
    )


def counts_per_position(signal, signal_mask=None):
    """Total counts of every navigation position, in data order.

    Parameters
    ----------
    signal : hyperspy signal or array-like
        Eager or lazy; for an array, navigation axes first and one signal
        axis last.
    signal_mask : array of bool or None
        Channels to leave out (``True`` = excluded), shape of the signal.

    Returns
    -------
    numpy.ndarray of float64
        Shape ``navigation_shape[::-1]`` (data order).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.counts import counts_per_position
    >>> counts_per_position(np.array([[0, 3], [2, 1]])).tolist()
    [3.0, 3.0]
    """
    data = _aligned(signal)
    n_nav = _n_nav(signal, data)
    sig_axes = tuple(range(n_nav, data.ndim))
    if signal_mask is not None:
        keep = ~np.asarray(signal_mask, dtype=bool).reshape(data.shape[n_nav:])
        data = data * keep
    totals = data.sum(axis=sig_axes, dtype=np.float64)
    if hasattr(totals, "compute"):
        totals = totals.compute()
    return np.asarray(totals, dtype=np.float64)


def check_min_counts(min_counts):
    """Validate ``min_counts``: ``None`` or a non-negative whole number.

    Raises
    ------
    ValueError
        Naming ``min_counts`` and the expected value.

    Examples
    --------
    >>> from clusterspy.counts import check_min_counts
    >>> check_min_counts(3)
    3
    """
    if min_counts is None:
        return None
    ok = isinstance(min_counts, numbers.Real) and not isinstance(min_counts, bool)
    if ok:
        ok = np.isfinite(min_counts) and float(min_counts) == int(min_counts)
        ok = ok and min_counts >= 0
    if not ok:
        raise ValueError(
            "`min_counts` must be None or a non-negative integer (the fewest "
            f"counts a position needs to be clustered), not {min_counts!r}."
        )
    return int(min_counts)


def low_count_mask(signal, min_counts=1, signal_mask=None, counts=None):
    """Navigation positions with fewer than ``min_counts`` counts.

    Parameters
    ----------
    signal : hyperspy signal or array-like
    min_counts : int
        Fewest counts a position needs; ``1`` masks the empty positions.
    signal_mask : array of bool or None
        Channels left out of the total.
    counts : numpy.ndarray or None
        Counts per position already computed (:func:`counts_per_position`),
        to save a pass over the data.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` where the position is excluded, shape
        ``navigation_shape[::-1]`` (data order, the layout of
        ``navigation_mask_to_flat`` before flattening). Pass it on as
        ``navigation_mask=mask.T`` (HyperSpy order) or flatten it with
        ``ravel()`` for the feature rows.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.counts import low_count_mask
    >>> low_count_mask(np.array([[0, 0], [2, 1], [0, 1]]), 1).tolist()
    [True, False, False]
    """
    min_counts = check_min_counts(min_counts)
    if counts is None:
        counts = counts_per_position(signal, signal_mask)
    return counts < (0 if min_counts is None else min_counts)


class CountSummary(NamedTuple):
    """Counts per position of a map.

    Attributes
    ----------
    n_positions : int
    median_counts : float
        Median total counts per position.
    mean_counts : float
    empty_share : float
        Share of positions with no count.
    n_low : int
        Positions with fewer than ``min_counts`` counts (the empty ones when
        ``min_counts`` is None or 1).
    low_share : float
    min_counts : int
    suggest_binning : bool
        The median is below ``SPARSE_MEDIAN_COUNTS``: positions are too
        sparse to be told apart one by one.
    binning_factor : int
        Smallest square binning ``b`` (``b x b`` positions summed) that
        brings the median to ``SPARSE_MEDIAN_COUNTS``, assuming the counts
        add up (1 when no binning is needed).
    """

    n_positions: int
    median_counts: float
    mean_counts: float
    empty_share: float
    n_low: int
    low_share: float
    min_counts: int
    suggest_binning: bool
    binning_factor: int

    def message(self):
        """One human sentence on the counts, for logs, CLI and reports."""
        text = (
            f"counts per position: median {self.median_counts:g}, mean "
            f"{self.mean_counts:.3g}; {format_percent(self.empty_share)} of the "
            f"{self.n_positions} positions have no count"
        )
        if self.min_counts > 1:
            text += (
                f", {self.n_low} ({format_percent(self.low_share)}) have fewer than "
                f"{self.min_counts}"
            )
        return text + "." + (" " + self.binning_advice() if self.suggest_binning else "")

    def binning_advice(self):
        """The binning sentence (empty when no binning is suggested)."""
        if not self.suggest_binning:
            return ""
        b = self.binning_factor
        return (
            f"The map is very sparse: consider binning {b} x {b} positions "
            f"(signal.rebin(scale=({b}, {b}, 1)))."
        )


def count_summary(signal, min_counts=None, signal_mask=None, counts=None):
    """Summary of the counts per position: median, empty share, binning hint.

    Parameters
    ----------
    signal : hyperspy signal or array-like
    min_counts : int or None
        Threshold for ``n_low``; ``None`` counts the empty positions.
    signal_mask : array of bool or None
    counts : numpy.ndarray or None
        Counts per position already computed.

    Returns
    -------
    CountSummary

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.counts import count_summary
    >>> data = np.zeros((10, 10, 4)); data[0, :, 0] = 3
    >>> summary = count_summary(data)
    >>> summary.empty_share, summary.suggest_binning
    (0.9, True)
    """
    min_counts = check_min_counts(min_counts)
    if counts is None:
        counts = counts_per_position(signal, signal_mask)
    counts = np.asarray(counts, dtype=np.float64).ravel()
    n = counts.size
    threshold = 1 if min_counts is None else max(min_counts, 1)
    median = float(np.median(counts)) if n else 0.0
    mean = float(counts.mean()) if n else 0.0
    n_low = int((counts < threshold).sum())
    suggest = median < SPARSE_MEDIAN_COUNTS
    factor = 1
    if suggest:
        # The median of b*b summed positions is about b*b times the mean
        # when counts are spread (Poisson); the mean is the safer scale
        # when most positions are empty and the median is 0.
        scale = max(mean, 1e-12)
        factor = int(np.ceil(np.sqrt(SPARSE_MEDIAN_COUNTS / scale)))
        factor = max(factor, 2)
    return CountSummary(
        n_positions=n,
        median_counts=median,
        mean_counts=mean,
        empty_share=float((counts == 0).mean()) if n else 0.0,
        n_low=n_low,
        low_share=n_low / n if n else 0.0,
        min_counts=threshold,
        suggest_binning=bool(suggest),
        binning_factor=factor,
    )


def warn_low_counts(summary, masked=False, stacklevel=2):
    """Warn (:class:`DoubtfulEstimateWarning`) about low-count positions.

    Warns when the share of positions below ``summary.min_counts`` exceeds
    ``WARN_SHARE`` (5 %) or binning is suggested; says how many there are,
    their share, and whether they are masked.

    Returns
    -------
    bool
        Whether it warned.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> from clusterspy.counts import count_summary, warn_low_counts
    >>> data = np.zeros((10, 10, 4)); data[0, :, 0] = 30
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_low_counts(count_summary(data))
    True
    """
    if summary.low_share <= WARN_SHARE and not summary.suggest_binning:
        return False
    what = "no count" if summary.min_counts <= 1 else (
        f"fewer than {summary.min_counts} counts"
    )
    text = (
        f"{summary.n_low} of {summary.n_positions} positions "
        f"({format_percent(summary.low_share)}) have {what}"
    )
    text += (
        "; they are masked (label -2)."
        if masked
        else "; pass `min_counts` to mask them (label -2)."
    )
    # The share is said once; the median and the binning advice complete it.
    text += f" Median counts per position: {summary.median_counts:g}."
    if summary.suggest_binning:
        text += " " + summary.binning_advice()
    warnings.warn(text, DoubtfulEstimateWarning, stacklevel=stacklevel + 1)
    return True
