"""The cluster signals: spectra, images, values and sizes
(:func:`plot_cluster_signals`)."""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_bool, check_choice, check_int
from ._common import (
    _axis_label,
    _cluster_name,
    _edges,
    _frame,
    _new_figure,
    _panel_grid,
    _per_row,
    _start,
    _text,
)
from .colors import NOISE_COLOR
from .elements import counts_range, draw_lines, line_contrast, signal_lines, spread_band

__all__ = ["plot_cluster_signals"]

_SIGNAL_KINDS = ("mean", "sum", "centroid", "std", "count")


def _draw_sizes(ax, result, colors, ids):
    """Bar chart of cluster sizes (noise as a black bar when present)."""
    names = [str(i) for i in ids]
    heights = [int(result.counts[i]) for i in ids]
    bar_colors = [colors[i] for i in ids]
    if result.noise_count:
        names.append("noise")
        heights.append(result.noise_count)
        bar_colors.append(NOISE_COLOR)
    bars = ax.bar(range(len(names)), heights, color=bar_colors)
    ax.set_xticks(range(len(names)), names)
    ax.bar_label(bars, fontsize="small", padding=2)
    ax.set_ylim(0, max(heights) * 1.15 if heights else 1)
    ax.set_xlabel("Cluster")
    ax.set_ylabel("Navigation positions")
    ax.set_title("Cluster sizes")
    return bars


def _quantity(cluster_signals, kind):
    """y label: the kind and the quantity named in the metadata."""
    quantity = _text(cluster_signals.metadata.get_item("Signal.quantity", ""))
    prefix = {"mean": "Mean", "sum": "Summed", "centroid": "Centroid", "std": "Std. of"}
    return f"{prefix[kind]} {quantity or 'intensity'}"


def _check_range(signal_range):
    if signal_range is None:
        return None
    try:
        low, high = sorted(float(v) for v in signal_range)
    except (TypeError, ValueError):
        raise ValueError(
            "`signal_range` must be None or (start, end) in the units of the "
            f"signal axis; got {signal_range!r}."
        ) from None
    return low, high


_SPREADS = ("auto", "std", "quantile", "poisson")

_BAND_TITLES = {
    "std": " (band: ± 1 std)",
    "quantile": " (band: 16–84 % of members)",
    "poisson": " (band: Poisson 68 % interval)",
}


def _check_spectra_options(spread, log_scale, element_lines, label_lines):
    check_choice(spread, "spread", _SPREADS)
    log_scale = check_bool(log_scale, "log_scale")
    element_lines = check_bool(element_lines, "element_lines")
    label_lines = check_int(label_lines, "label_lines", minimum=0)
    return spread, log_scale, element_lines, label_lines


def _is_count_data(signal):
    """Counts: integer data, or an EDS spectrum (whose counts may have been
    converted to float). Their bands must stay non-negative."""
    kind = _text(signal.metadata.get_item("Signal.signal_type", "")).upper()
    return np.issubdtype(signal.data.dtype, np.integer) or kind.startswith("EDS")


def _members(signal, result, n_channels):
    """Rows of the analysed data, flat (n_positions, n_channels), when they
    are in memory and match the cluster signals; else None."""
    data = signal._data_aligned_with_axes
    if not isinstance(data, np.ndarray):
        return None
    data = data.reshape((result.labels.shape[0], -1))
    return data if data.shape[1] == n_channels else None


def _resolve_spread(spread, signal, count_data, rows):
    if spread != "auto":
        return spread
    if not count_data:
        return "std"
    return "quantile" if rows is not None else "poisson"


def _spectra_range(signal_range, x, cs, count_data):
    """Channels drawn: ``signal_range``, or for count data where the data
    have counts (see :func:`~clusterspy.plotting.elements.counts_range`)."""
    if signal_range is None and count_data:
        total = np.nansum(np.asarray(cs.data, dtype=float), axis=0)
        units = cs.axes_manager.signal_axes[0].units
        lines = signal_lines(cs).values()
        signal_range = counts_range(x, total, units, lines)
    if signal_range is None:
        return np.ones(x.shape, dtype=bool)
    low, high = signal_range
    keep = (x >= low) & (x <= high)
    if not keep.any():
        raise ValueError(
            f"`signal_range` {signal_range} holds no channel of the signal "
            f"axis, which spans {x.min():g} to {x.max():g}."
        )
    return keep


#: Values per block of channels when the members' quantiles are computed
#: (float64: 128 MiB), so that a large map is never copied whole.
_BLOCK_VALUES = 2**24


def _member_band(spread, y, std, rows, members, keep):
    """The band from the members' rows, over blocks of channels."""
    channels = np.flatnonzero(keep)
    step = max(1, _BLOCK_VALUES // max(members.size, 1))
    low = np.empty(channels.size)
    high = np.empty(channels.size)
    for start in range(0, channels.size, step):
        part = slice(start, start + step)
        block = np.asarray(rows[np.ix_(members, channels[part])], dtype=float)
        low[part], high[part] = spread_band(spread, y[part], std[part], block)
    return low, high


def _draw_band(ax, kind, spread, result, i, y, keep, x, color, rows):
    std = np.asarray(result.signal_std[i], dtype=float)[keep]
    if spread == "quantile" and rows is None:
        raise ValueError(
            '`spread="quantile"` needs the analysed data in memory; use '
            '"poisson" or "std" for lazy signals.'
        )
    if rows is None or spread == "poisson":
        low, high = spread_band(spread, y, std)
    else:
        members = np.flatnonzero(result.labels == i)
        if members.size == 0:
            return
        low, high = _member_band(spread, y, std, rows, members, keep)
    ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)


def _draw_spectra(
    ax,
    signal,
    result,
    kind,
    colors,
    ids,
    show_std,
    signal_range=None,
    legend=True,
    spread="auto",
    log_scale=False,
    element_lines=True,
    label_lines=5,
):
    from ..getters import get_cluster_signals

    cs = get_cluster_signals(signal, kind)
    axis = cs.axes_manager.signal_axes[0]
    x = np.asarray(axis.axis, dtype=float)
    count_data = _is_count_data(signal)
    # Only the drawn range is plotted, so that the y axis scales to it (an
    # EDS zero-energy peak would otherwise flatten everything else).
    keep = _spectra_range(signal_range, x, cs, count_data)
    x = x[keep]
    band = show_std and kind == "mean" and result.signal_std is not None
    rows = _members(signal, result, keep.size) if band else None
    spread = _resolve_spread(spread, signal, count_data, rows)
    if spread != "quantile":
        rows = rows if count_data else None
    for i in ids:
        y = np.asarray(cs.data[i], dtype=float)[keep]
        if band:
            _draw_band(ax, kind, spread, result, i, y, keep, x, colors[i], rows)
        ax.plot(x, y, color=colors[i], linewidth=1.2, label=_cluster_name(result, i))
    ax.set_xlim(x.min(), x.max())
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel(_axis_label(axis, "Signal axis"))
    ax.set_ylabel(_quantity(cs, kind))
    if element_lines:
        lines = signal_lines(cs)
        spectra = np.asarray(cs.data, dtype=float)[ids][:, keep]
        contrast = line_contrast(cs, x, spectra, lines)
        draw_lines(ax, lines, contrast, label_lines, (x.min(), x.max()))
    title = f"Cluster {kind} signals"
    ax.set_title(title + (_BAND_TITLES[spread] if band else ""))
    if legend:
        ax.legend(fontsize="small", frameon=False, loc="best")


def _draw_images(fig, signal, result, kind, colors, ids, per_row, image_cmap):
    from ..getters import get_cluster_signals

    cs = get_cluster_signals(signal, kind)
    sx, sy = cs.axes_manager.signal_axes
    x0, x1 = _edges(sx)
    y0, y1 = _edges(sy)
    same_units = _text(sx.units) == _text(sy.units)
    axes = _panel_grid(fig, len(ids), per_row)
    for ax, i in zip(axes, ids, strict=True):
        ax.imshow(
            cs.data[i],
            extent=(x0, x1, y1, y0),
            origin="upper",
            aspect="equal" if same_units else "auto",
            cmap=image_cmap,
            interpolation="nearest",
        )
        ax.set_title(_cluster_name(result, i), color=colors[i], fontweight="bold")
        _frame(ax, colors[i])
        ax.set_xlabel(_axis_label(sx, "x"))
        ax.set_ylabel(_axis_label(sy, "y"))
    return axes


def _draw_values(ax, signal, result, kind, colors, ids, show_std):
    """Signal dimension 0 (one value per position): a bar per cluster, with
    mean ± one standard deviation as error bars."""
    from ..getters import get_cluster_signals

    cs = get_cluster_signals(signal, kind)
    values = np.asarray(cs.data, dtype=float).reshape(-1)
    band = show_std and kind == "mean" and result.signal_std is not None
    errors = (
        np.asarray(result.signal_std, dtype=float).reshape(-1)[ids] if band else None
    )
    ax.bar(
        range(len(ids)),
        values[ids],
        color=[colors[i] for i in ids],
        yerr=errors,
        capsize=4,
    )
    ax.set_xticks(range(len(ids)), [str(i) for i in ids])
    ax.set_xlabel("Cluster")
    ax.set_ylabel(_quantity(cs, kind))
    ax.set_title(f"Cluster {kind} values" + (" (± 1 std)" if band else ""))


def _signal_dimension(result):
    return np.ndim(result.signal_mean) - 1


def plot_cluster_signals(
    signal,
    signal_kind="mean",
    cluster_ids=None,
    show_std=True,
    signal_range=None,
    cmap=None,
    image_cmap="gray",
    per_row=None,
    ax=None,
    spread="auto",
    log_scale=False,
    element_lines=True,
    label_lines=5,
):
    """Plot the cluster signals in the clusters' colours.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    signal_kind : {"mean", "sum", "centroid", "std", "count"}
        Which cluster signal (see :func:`clusterspy.get_cluster_signals`);
        ``"count"`` draws the cluster sizes as bars. The accessor method
        calls this parameter ``signal``, as HyperSpy does.
    cluster_ids : None, int or list of int
        All clusters (None), the first ``n`` or the listed ids.
    show_std : bool
        With ``"mean"`` spectra, shade mean ± one standard deviation of the
        members (a band made with ``fill_between``); ignored otherwise.
    signal_range : None or (float, float)
        For spectra, the part of the signal axis drawn, in its calibrated
        units, for example ``(0.2, 10.0)`` keV; None draws all of it, or
        for count data (integers or EDS) the range holding 99 % of the
        counts and every element line (without the EDS zero-energy peak
        below 0.1 keV), see :func:`clusterspy.plotting.elements.counts_range`.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    image_cmap : str or Colormap
        Colormap of the cluster images (signal dimension 2).
    per_row : int or None
        Images per row (signal dimension 2); None (default): up to 5 in
        one row, else rows of at most 4.
    ax : matplotlib.axes.Axes or None
        Axes to draw spectra (or bars) into; not for images.
    spread : {"auto", "std", "quantile", "poisson"}
        The band of ``show_std``: mean ± one standard deviation, the
        members' 16–84 % quantiles per channel, or the 68 % Poisson
        interval of the mean (counts per position). ``"auto"``: quantiles
        for count data in memory, Poisson intervals for lazy count data,
        the standard deviation otherwise. Bands of count data never go
        below zero.
    log_scale : bool
        Logarithmic intensity axis for spectra.
    element_lines : bool
        Mark the element lines of exspy EDS/EELS spectra (or any spectrum
        with ``metadata.Sample.xray_lines`` or ``elements``) with vertical
        lines at exspy's line energies, see
        :func:`clusterspy.plotting.elements.signal_lines`.
    label_lines : int
        Name this many lines: those whose intensity differs most between
        the clusters shown (:func:`~clusterspy.plotting.elements.line_contrast`).

    Returns
    -------
    matplotlib.figure.Figure
        Spectra (signal dimension 1) in one axes with a calibrated x axis,
        or a grid of images (signal dimension 2) titled and framed in the
        cluster colours; one bar per cluster for signal dimension 0 (a
        value per position).

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=64)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> fig = clusterspy.plotting.plot_cluster_signals(s, "mean")
    >>> fig.axes[0].get_xlabel()
    'Energy (keV)'
    """
    check_choice(signal_kind, "signal_kind", _SIGNAL_KINDS)
    show_std = check_bool(show_std, "show_std")
    signal_range = _check_range(signal_range)
    options = _check_spectra_options(spread, log_scale, element_lines, label_lines)
    result, colors, ids = _start(signal, cmap, cluster_ids)
    dim = _signal_dimension(result)
    if signal_kind == "count" or dim <= 1:
        if ax is None:
            ax = _new_figure((7.0, 4.0)).add_subplot()
        if signal_kind == "count":
            _draw_sizes(ax, result, colors, ids)
        elif dim == 0:
            _draw_values(ax, signal, result, signal_kind, colors, ids, show_std)
        else:
            _draw_spectra(
                ax,
                signal,
                result,
                signal_kind,
                colors,
                ids,
                show_std,
                signal_range,
                True,
                *options,
            )
        return ax.figure
    if dim != 2:
        raise NotImplementedError(
            "plot_cluster_signals draws values, spectra and images (signal "
            f"dimension 0, 1, 2); these cluster signals have dimension {dim}. "
            "Use get_cluster_signals to get them as a signal."
        )
    if ax is not None:
        raise ValueError("`ax` is for spectra; cluster images need a grid of axes.")
    per_row = _per_row(per_row, len(ids))
    ncols = min(len(ids), per_row)
    fig = _new_figure((3.2 * ncols, 3.2 * math.ceil(len(ids) / ncols)))
    _draw_images(fig, signal, result, signal_kind, colors, ids, per_row, image_cmap)
    fig.suptitle(f"Cluster {signal_kind} signals")
    return fig
