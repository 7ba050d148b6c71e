"""Plots of cluster results, in the colours of one qualitative colormap.

Every function takes the analysed signal first, reads the stored
:class:`~clusterspy.ClusterResult` and returns a matplotlib
:class:`~matplotlib.figure.Figure`; none calls ``plt.show()``. Figures are
created through ``pyplot`` so that they open in a window (or inline in a
notebook) as HyperSpy's own plots do; close them with ``plt.close(fig)``
when making many.

Colour convention
-----------------
Cluster ``i`` is drawn in ``cluster_colors(n_clusters, cmap)[i]`` in every
plot (label map, spectra, images, bars, titles), so a colour means the same
cluster everywhere. Positions outside every cluster have fixed colours:
:data:`NOISE_COLOR` (black) for :data:`~clusterspy.NOISE`,
:data:`UNASSIGNED_COLOR` (white) for :data:`~clusterspy.UNASSIGNED`, and
:data:`MASKED_COLOR` (light grey) for :data:`~clusterspy.MASKED` positions
and for NaN in distance and membership maps.

Navigation dimensions
---------------------
Maps are drawn in calibrated navigation coordinates (HyperSpy's image
orientation: the first navigation axis to the right, the second downwards).
A line scan (navigation dimension 1) gives a one-row strip or curves along
the scan; with three or more navigation dimensions, ``navigation_index``
chooses the 2-D slice shown.
"""

from __future__ import annotations

import math
import numbers
import warnings

import matplotlib
import numpy as np
from matplotlib import colors as mcolors

from .results import MASKED, NOISE, UNASSIGNED, get_cluster_result
from .validation import check_bool, check_choice, check_int

__all__ = [
    "MASKED_COLOR",
    "NOISE_COLOR",
    "UNASSIGNED_COLOR",
    "cluster_colors",
    "plot_cluster_labels",
    "plot_cluster_signals",
    "plot_cluster_distances",
    "plot_cluster_membership",
    "plot_cluster_results",
    "membership_uncertainty",
]

#: Colour of noise positions (label :data:`~clusterspy.NOISE`).
NOISE_COLOR = (0.0, 0.0, 0.0, 1.0)
#: Colour of masked positions (label :data:`~clusterspy.MASKED`) and of NaN.
MASKED_COLOR = mcolors.to_rgba("#d9d9d9")
#: Colour of unassigned positions (label :data:`~clusterspy.UNASSIGNED`).
UNASSIGNED_COLOR = mcolors.to_rgba("white")

# Listed colormaps with fewer entries than this are qualitative palettes
# (tab10, Set1, ...), whose colours are used in order; longer ones (viridis
# is a 256-entry ListedColormap) are continuous and are sampled evenly.
_QUALITATIVE_MAX = 64

_SIGNAL_KINDS = ("mean", "sum", "centroid", "std", "count")
_UNCERTAINTIES = ("entropy", "max_probability")


# -- colours --------------------------------------------------------------------
def cluster_colors(n_clusters, cmap=None):
    """Return the colour of every cluster, as used by all clusterspy plots.

    Parameters
    ----------
    n_clusters : int
        Number of clusters.
    cmap : None, str, matplotlib.colors.Colormap or list of colours
        ``None`` (default): ``"tab10"`` for up to 10 clusters, ``"tab20"``
        for up to 20, and ``"turbo"`` sampled evenly beyond. A qualitative
        colormap (a ``ListedColormap`` with few entries, such as ``"Set1"``)
        gives its colours in order, repeated with a warning if it has fewer
        than ``n_clusters``; a continuous one is sampled evenly. A list of
        matplotlib colours is used as it is and must be long enough.

    Returns
    -------
    numpy.ndarray, shape (n_clusters, 4)
        RGBA colours; row ``i`` is the colour of cluster ``i``.

    Examples
    --------
    >>> from clusterspy.plotting import cluster_colors
    >>> cluster_colors(3).shape
    (3, 4)
    >>> cluster_colors(2, cmap=["red", "blue"])[1].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    n = check_int(n_clusters, "n_clusters", minimum=0)
    if cmap is None:
        cmap = "tab10" if n <= 10 else "tab20" if n <= 20 else "turbo"
    if isinstance(cmap, str):
        try:
            cmap = matplotlib.colormaps[cmap]
        except KeyError:
            raise ValueError(
                f"`cmap` {cmap!r} is not a matplotlib colormap name; pass a "
                "colormap name, a Colormap or a list of colours."
            ) from None
    if isinstance(cmap, mcolors.Colormap):
        if isinstance(cmap, mcolors.ListedColormap) and cmap.N < _QUALITATIVE_MAX:
            if n > cmap.N:
                warnings.warn(
                    f"The colormap {cmap.name!r} has {cmap.N} colours for "
                    f"{n} clusters: colours repeat. Pass a longer colormap.",
                    UserWarning,
                    stacklevel=2,
                )
            return np.asarray(cmap(np.arange(n) % cmap.N), dtype=float).reshape(n, 4)
        return np.asarray(cmap(np.linspace(0.0, 1.0, n)), dtype=float).reshape(n, 4)
    try:
        rgba = np.array([mcolors.to_rgba(c) for c in cmap], dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "`cmap` must be None, a colormap name, a Colormap or a list of "
            f"matplotlib colours; got {cmap!r}."
        ) from error
    if len(rgba) < n:
        raise ValueError(
            f"`cmap` gives {len(rgba)} colours for {n} clusters; pass at least {n}."
        )
    return rgba[:n].reshape(n, 4)


def _label_cmap_norm(colors):
    """A colormap and norm that map label values to their colours exactly.

    Label ``i`` (``MASKED``, ``NOISE``, ``0 .. k-1``) falls in the bin
    ``[i - 0.5, i + 0.5)``, so ``cmap(norm(i))`` is the colour of label
    ``i`` and the image keeps the label values as its data.
    """
    # Consecutive label values from UNASSIGNED (-3), MASKED (-2) and NOISE (-1)
    # up to k - 1.
    special = sorted(
        [(UNASSIGNED, UNASSIGNED_COLOR), (MASKED, MASKED_COLOR), (NOISE, NOISE_COLOR)]
    )
    listed = mcolors.ListedColormap(
        np.vstack([c for _, c in special] + [np.reshape(colors, (-1, 4))]),
        name="clusterspy_labels",
    )
    boundaries = np.arange(special[0][0] - 0.5, len(colors), 1.0)
    return listed, mcolors.BoundaryNorm(boundaries, listed.N)


# -- small helpers ------------------------------------------------------------------
def _new_figure(figsize):
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize, layout="constrained")


def _text(value):
    """``value`` if it is a non-empty string (HyperSpy uses t.Undefined)."""
    return value if isinstance(value, str) and value else ""


def _axis_label(axis, default="Position"):
    """``"name (units)"`` of a HyperSpy axis."""
    name = _text(axis.name) or default
    units = _text(axis.units)
    return f"{name} ({units})" if units else name


def _edges(axis):
    """Outer edges of the first and last pixel of a HyperSpy axis.

    A non-uniform axis is drawn as if evenly spaced between its first and
    last values: ``imshow`` needs a regular grid.
    """
    values = np.asarray(axis.axis, dtype=float)
    if values.size > 1:
        step = (values[-1] - values[0]) / (values.size - 1)
    else:
        step = float(getattr(axis, "scale", 1.0) or 1.0)
    return values[0] - step / 2, values[-1] + step / 2


def _check_cluster_ids(cluster_ids, n_clusters):
    """Cluster ids to show, as HyperSpy reads them: None (all), int n (the
    first n) or a list of ids."""
    if cluster_ids is None:
        return list(range(n_clusters))
    if isinstance(cluster_ids, numbers.Integral) and not isinstance(cluster_ids, bool):
        n = check_int(cluster_ids, "cluster_ids", minimum=1, maximum=n_clusters)
        return list(range(n))
    ids = [check_int(i, "cluster_ids[...]") for i in cluster_ids]
    bad = [i for i in ids if not 0 <= i < n_clusters]
    if bad or not ids:
        raise ValueError(
            f"`cluster_ids` must be ids in [0, {n_clusters - 1}]; got {cluster_ids!r}."
        )
    return ids


def _cluster_name(result, i):
    return f"Cluster {i} (n={int(result.counts[i])})"


def _legend_handles(result, colors, ids):
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=colors[i], edgecolor="none", label=_cluster_name(result, i))
        for i in ids
    ]
    # Only present kinds: an entry for something absent from the map misleads.
    if result.noise_count:
        handles.append(
            Patch(facecolor=NOISE_COLOR, label=f"Noise (n={result.noise_count})")
        )
    if result.masked_count:
        handles.append(
            Patch(
                facecolor=MASKED_COLOR,
                edgecolor="0.4",
                label=f"Masked (n={result.masked_count})",
            )
        )
    if result.unassigned_count:
        handles.append(
            Patch(
                facecolor=UNASSIGNED_COLOR,
                edgecolor="0.4",
                label=f"Unassigned (n={result.unassigned_count})",
            )
        )
    return handles


class _NavigationView:
    """The 1-D or 2-D part of the navigation space that a map shows.

    With three or more navigation dimensions, ``navigation_index`` gives the
    indices of the navigation axes beyond the first two (HyperSpy order);
    ``None`` takes their current indices (the navigator's position).
    """

    def __init__(self, signal, navigation_index=None):
        axes = signal.axes_manager.navigation_axes
        self.x = axes[0]
        self.y = axes[1] if len(axes) > 1 else None
        extra = axes[2:]
        self.index = ()
        self.description = ""
        if not extra:
            if navigation_index is not None:
                raise ValueError(
                    "`navigation_index` selects a 2-D slice of a signal with 3 or "
                    f"more navigation dimensions; this one has {len(axes)}."
                )
            return
        if navigation_index is None:
            index = [axis.index for axis in extra]
        else:
            index = list(np.atleast_1d(navigation_index).tolist())
        if len(index) != len(extra):
            raise ValueError(
                f"`navigation_index` must give {len(extra)} index(es), one for each "
                "navigation axis beyond the first two (HyperSpy order); got "
                f"{navigation_index!r}."
            )
        for n, (i, axis) in enumerate(zip(index, extra, strict=True)):
            i = check_int(
                i, "navigation_index", minimum=-axis.size, maximum=axis.size - 1
            )
            index[n] = i % axis.size
        self.index = tuple(index)
        self.description = ", ".join(
            f"{_text(axis.name) or f'axis {n + 2}'} = {axis.axis[i]:.4g}"
            + (f" {_text(axis.units)}" if _text(axis.units) else "")
            for n, (i, axis) in enumerate(zip(self.index, extra, strict=True))
        )

    @property
    def is_line(self):
        return self.y is None

    def __call__(self, data):
        """The shown slice of ``data``, shaped ``(..., navigation shape)``
        in data order (extra axes lead, in reverse HyperSpy order)."""
        data = np.asarray(data)
        if not self.index:
            return data
        return data[(Ellipsis,) + self.index[::-1] + (slice(None), slice(None))]

    def title(self, text):
        return f"{text}\n{self.description}" if self.description else text

    def panel_size(self, width=3.6):
        """(width, height) in inches of one map panel, following its aspect."""
        if self.is_line:
            return width * 2, 1.0
        x0, x1 = _edges(self.x)
        y0, y1 = _edges(self.y)
        ratio = abs(y1 - y0) / abs(x1 - x0) if self._same_units() else 1.0
        ratio = float(np.clip(ratio, 0.3, 2.5))
        return width, width * ratio

    def _same_units(self):
        return _text(self.x.units) == _text(self.y.units)


def _show_map(ax, view, data, **imshow_kwargs):
    """Draw one navigation map (or line-scan strip) in calibrated axes."""
    imshow_kwargs.setdefault("interpolation", "nearest")
    x0, x1 = _edges(view.x)
    if view.is_line:
        # A one-row image: a line scan's labels read as a coloured strip.
        image = ax.imshow(
            np.asarray(data)[None, :],
            extent=(x0, x1, 0, 1),
            aspect="auto",
            origin="lower",
            **imshow_kwargs,
        )
        ax.set_yticks([])
    else:
        y0, y1 = _edges(view.y)
        # origin="upper" with the first row at y0: HyperSpy's orientation.
        image = ax.imshow(
            data,
            extent=(x0, x1, y1, y0),
            origin="upper",
            aspect="equal" if view._same_units() else "auto",
            **imshow_kwargs,
        )
        ax.set_ylabel(_axis_label(view.y, "y"))
    ax.set_xlabel(_axis_label(view.x, "x"))
    return image


def _per_row(per_row, n_panels):
    """Panels per row: ``per_row``, or by default one row of up to 5 panels,
    else rows of at most 4 filled evenly (7 panels: 4 + 3, not 4 + 1 + ...)."""
    if per_row is None:
        if n_panels <= 5:
            return max(1, n_panels)
        return math.ceil(n_panels / math.ceil(n_panels / 4))
    return check_int(per_row, "per_row", minimum=1)


def _panel_grid(fig, n, per_row):
    """``n`` axes in rows of ``per_row``; unused grid cells are removed so
    that ``fig.axes`` holds exactly the panels."""
    per_row = _per_row(per_row, n)
    ncols = min(n, per_row)
    nrows = math.ceil(n / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.remove()
    return list(axes[:n])


def _frame(ax, color):
    """Colour an image's frame: ties a panel to its cluster."""
    for spine in ax.spines.values():
        spine.set_edgecolor(color)
        spine.set_linewidth(2.5)


def _continuous_cmap(image_cmap):
    """A copy of ``image_cmap`` drawing NaN (masked positions) light grey."""
    cmap = (
        matplotlib.colormaps[image_cmap] if isinstance(image_cmap, str) else image_cmap
    )
    return cmap.with_extremes(bad=MASKED_COLOR)


def _start(signal, cmap, cluster_ids):
    result = get_cluster_result(signal)
    colors = cluster_colors(result.n_clusters, cmap)
    return result, colors, _check_cluster_ids(cluster_ids, result.n_clusters)


# -- drawing into given axes ----------------------------------------------------------
def _draw_label_map(ax, view, result, colors, ids, legend="all"):
    """Draw the merged label map; ``legend`` is "all", "special" (noise and
    masked entries only, when the clusters are named elsewhere) or None."""
    listed, norm = _label_cmap_norm(colors)
    image = _show_map(ax, view, view(result.label_map), cmap=listed, norm=norm)
    ax.set_title(view.title("Cluster labels"))
    handles = _legend_handles(result, colors, ids if legend == "all" else [])
    if not legend or not handles:
        return image
    if legend == "special" and not view.is_line:
        # Under the map, where the overview has room.
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),
            ncol=len(handles),
            frameon=False,
            fontsize="small",
        )
    else:
        ax.legend(
            handles=handles,
            loc="center left" if view.is_line else "upper left",
            bbox_to_anchor=(1.02, 0.5 if view.is_line else 1.0),
            borderaxespad=0.0,
            # A strip is short: spread its entries over columns.
            ncol=math.ceil(len(handles) / 4) if view.is_line else 1,
            frameon=False,
            fontsize="small",
        )
    return image


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


def _draw_spectra(
    ax, signal, result, kind, colors, ids, show_std, signal_range=None, legend=True
):
    from .getters import get_cluster_signals

    cs = get_cluster_signals(signal, kind)
    axis = cs.axes_manager.signal_axes[0]
    x = np.asarray(axis.axis, dtype=float)
    # Only the drawn range is plotted, so that the y axis scales to it (an
    # EDS zero-energy peak would otherwise flatten everything else).
    keep = np.ones(x.shape, dtype=bool)
    if signal_range is not None:
        low, high = signal_range
        keep = (x >= low) & (x <= high)
        if not keep.any():
            raise ValueError(
                f"`signal_range` {signal_range} holds no channel of the signal "
                f"axis, which spans {x.min():g} to {x.max():g}."
            )
    x = x[keep]
    band = show_std and kind == "mean" and result.signal_std is not None
    for i in ids:
        y = np.asarray(cs.data[i], dtype=float)[keep]
        if band:
            std = np.asarray(result.signal_std[i], dtype=float)[keep]
            ax.fill_between(
                x, y - std, y + std, color=colors[i], alpha=0.2, linewidth=0
            )
        ax.plot(x, y, color=colors[i], linewidth=1.2, label=_cluster_name(result, i))
    ax.set_xlim(x.min(), x.max())
    ax.set_xlabel(_axis_label(axis, "Signal axis"))
    ax.set_ylabel(_quantity(cs, kind))
    title = f"Cluster {kind} signals"
    ax.set_title(title + (" (band: ± 1 std)" if band else ""))
    if legend:
        ax.legend(fontsize="small", frameon=False, loc="best")


def _draw_images(fig, signal, result, kind, colors, ids, per_row, image_cmap):
    from .getters import get_cluster_signals

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
    from .getters import get_cluster_signals

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


# -- public plots -----------------------------------------------------------------
def plot_cluster_labels(
    signal,
    binary=False,
    cluster_ids=None,
    navigation_index=None,
    cmap=None,
    per_row=None,
    ax=None,
):
    """Plot the cluster labels as a map: one colour per cluster.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    binary : bool
        If True, add one map per cluster (its members in the cluster's
        colour) after the merged map, in rows of ``per_row``.
    cluster_ids : None, int or list of int
        Clusters listed in the legend and given a binary map: all (None),
        the first ``n`` (an int, as HyperSpy), or the listed ids. The merged
        map always shows every label.
    navigation_index : None, int or tuple of int
        With 3 or more navigation dimensions, the indices along the
        navigation axes beyond the first two (HyperSpy order) of the 2-D
        slice shown; None takes the axes' current indices.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    per_row : int or None
        Panels per row when ``binary``; None (default): up to 5 in
        one row, else rows of at most 4.
    ax : matplotlib.axes.Axes or None
        Axes to draw the merged map into (not with ``binary``).

    Returns
    -------
    matplotlib.figure.Figure
        The merged map is the first image of the first axes; its data are
        the labels (``-2`` masked, light grey; ``-1`` noise, black). A line
        scan is drawn as a one-row strip along the calibrated axis.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=64)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> fig = clusterspy.plotting.plot_cluster_labels(s, binary=True)
    >>> len(fig.axes)
    4
    """
    binary = check_bool(binary, "binary")
    result, colors, ids = _start(signal, cmap, cluster_ids)
    view = _NavigationView(signal, navigation_index)
    if ax is not None:
        if binary:
            raise ValueError("`ax` draws one map: use it with binary=False.")
        _draw_label_map(ax, view, result, colors, ids)
        return ax.figure
    width, height = view.panel_size()
    if not binary:
        fig = _new_figure((width + 2.2, height + 1.0 + 0.4 * view.is_line))
        _draw_label_map(fig.add_subplot(), view, result, colors, ids)
        return fig
    n_panels = 1 + len(ids)
    per_row = 1 if view.is_line else _per_row(per_row, n_panels)
    ncols = min(n_panels, per_row)
    nrows = math.ceil(n_panels / ncols)
    fig = _new_figure(
        (ncols * (width + 0.6) + 2.2, nrows * (height + 1.0 + 0.5 * view.is_line))
    )
    axes = _panel_grid(fig, n_panels, per_row)
    _draw_label_map(axes[0], view, result, colors, ids)
    label_map = view(result.label_map)
    for panel, i in zip(axes[1:], ids, strict=True):
        # 0 = other positions (white), 1 = members; masked stays grey.
        member = np.where(label_map == MASKED, -1, (label_map == i).astype(int))
        listed = mcolors.ListedColormap([MASKED_COLOR, "white", colors[i]])
        norm = mcolors.BoundaryNorm([-1.5, -0.5, 0.5, 1.5], listed.N)
        _show_map(panel, view, member, cmap=listed, norm=norm)
        panel.set_title(_cluster_name(result, i), color=colors[i], fontweight="bold")
        _frame(panel, colors[i])
    return fig


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
        units, for example ``(0.2, 10.0)`` keV; None draws all of it.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    image_cmap : str or Colormap
        Colormap of the cluster images (signal dimension 2).
    per_row : int or None
        Images per row (signal dimension 2); None (default): up to 5 in
        one row, else rows of at most 4.
    ax : matplotlib.axes.Axes or None
        Axes to draw spectra (or bars) into; not for images.

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
                ax, signal, result, signal_kind, colors, ids, show_std, signal_range
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


def _map_panels(fig, view, maps, result, colors, ids, per_row, image_cmap, vmin, vmax):
    axes = _panel_grid(fig, len(ids), per_row)
    image = None
    for ax, i in zip(axes, ids, strict=True):
        image = _show_map(
            ax, view, maps[i], cmap=_continuous_cmap(image_cmap), vmin=vmin, vmax=vmax
        )
        ax.set_title(_cluster_name(result, i), color=colors[i], fontweight="bold")
        _frame(ax, colors[i])
    return axes, image


def _map_figure(view, n_panels, per_row, colorbars=1):
    # Strips of a line scan stack best one above the other.
    per_row = 1 if view.is_line else _per_row(per_row, n_panels)
    ncols = min(n_panels, per_row)
    nrows = math.ceil(n_panels / ncols)
    width, height = view.panel_size(3.2)
    return _new_figure(
        (ncols * (width + 0.5) + 1.2 * colorbars, nrows * (height + 0.9))
    ), per_row


def plot_cluster_distances(
    signal,
    cluster_ids=None,
    navigation_index=None,
    cmap=None,
    image_cmap="viridis",
    per_row=None,
):
    """Plot the distance of every position to each cluster centre.

    Distances are Euclidean, in the preprocessed feature space the clusters
    were found in; small means typical of the cluster. One map per cluster
    on a shared colour scale (one colour bar), titled and framed in the
    cluster colour; masked positions (NaN) are light grey. A line scan gives
    one curve per cluster along the scan instead.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    cluster_ids : None, int or list of int
        All clusters (None), the first ``n`` or the listed ids.
    navigation_index : None, int or tuple of int
        The 2-D slice shown with 3 or more navigation dimensions, see
        :func:`plot_cluster_labels`.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    image_cmap : str or Colormap
        Colormap of the distance maps.
    per_row : int or None
        Maps per row; None (default): up to 5 in
        one row, else rows of at most 4.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=64)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> fig = clusterspy.plotting.plot_cluster_distances(s)
    >>> len(fig.axes)  # three maps and their colour bar
    4
    """
    from .getters import get_cluster_distances

    result, colors, ids = _start(signal, cmap, cluster_ids)
    view = _NavigationView(signal, navigation_index)
    maps = view(get_cluster_distances(signal).data)
    if view.is_line:
        fig = _new_figure((8.0, 3.5))
        ax = fig.add_subplot()
        _draw_curves(ax, view, maps, result, colors, ids)
        ax.set_ylabel("Distance to centre")
        ax.set_title("Distances to cluster centres")
        return fig
    fig, per_row = _map_figure(view, len(ids), per_row)
    shown = maps[ids]
    finite = shown[np.isfinite(shown)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    axes, image = _map_panels(
        fig, view, maps, result, colors, ids, per_row, image_cmap, vmin, vmax
    )
    fig.colorbar(image, ax=axes, label="Distance to centre", shrink=0.8)
    fig.suptitle(view.title("Distances to cluster centres"))
    return fig


def _draw_curves(ax, view, maps, result, colors, ids):
    """One curve per cluster along a line scan."""
    x = np.asarray(view.x.axis, dtype=float)
    for i in ids:
        ax.plot(x, maps[i], color=colors[i], label=_cluster_name(result, i))
    ax.set_xlim(x.min(), x.max())
    ax.set_xlabel(_axis_label(view.x, "x"))
    ax.legend(fontsize="small", frameon=False, loc="best")


def membership_uncertainty(membership, kind="entropy"):
    """Uncertainty of soft cluster assignments, between 0 and 1.

    Parameters
    ----------
    membership : numpy.ndarray, shape (n_clusters, ...)
        Membership probabilities, summing to 1 over the first axis.
    kind : {"entropy", "max_probability"}
        ``"entropy"``: Shannon entropy of the memberships divided by
        ``log(n_clusters)``: 0 when one cluster has probability 1, 1 when
        all are equally likely. ``"max_probability"``: ``1 -`` the largest
        membership: the chance that the hard label is wrong, if the
        probabilities are calibrated.

    Returns
    -------
    numpy.ndarray
        Shape ``membership.shape[1:]``; NaN where the memberships are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.plotting import membership_uncertainty
    >>> membership_uncertainty(np.array([[1.0, 0.5], [0.0, 0.5]])).tolist()
    [0.0, 1.0]
    """
    check_choice(kind, "uncertainty", _UNCERTAINTIES)
    p = np.asarray(membership, dtype=float)
    if kind == "max_probability":
        return 1.0 - p.max(axis=0)
    k = p.shape[0]
    if k < 2:
        return np.where(np.isnan(p[0]), np.nan, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 log 0 = 0; NaN memberships (masked positions) stay NaN.
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    # 0.0 - x rather than -x: no -0.0 for certain positions.
    entropy = (0.0 - terms.sum(axis=0)) / math.log(k)
    return np.where(np.isnan(p).any(axis=0), np.nan, np.clip(entropy, 0.0, 1.0))


def plot_cluster_membership(
    signal,
    cluster_ids=None,
    navigation_index=None,
    uncertainty="entropy",
    cmap=None,
    image_cmap="viridis",
    uncertainty_cmap="magma",
    per_row=None,
):
    """Plot soft memberships: one probability map per cluster and an
    uncertainty map.

    Memberships come from algorithms with ``predict_proba`` (such as
    ``algorithm="gaussian_mixture"``). Membership maps share the scale 0..1.
    The uncertainty map says where the assignment is doubtful, for example
    at phase boundaries; see :func:`membership_uncertainty`.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run with soft clustering.
    cluster_ids : None, int or list of int
        All clusters (None), the first ``n`` or the listed ids.
    navigation_index : None, int or tuple of int
        The 2-D slice shown with 3 or more navigation dimensions, see
        :func:`plot_cluster_labels`.
    uncertainty : {"entropy", "max_probability"} or None
        ``"entropy"`` (default): normalised entropy of the memberships;
        ``"max_probability"``: one minus the largest membership; None: no
        uncertainty map. Both are computed over all clusters.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    image_cmap, uncertainty_cmap : str or Colormap
        Colormaps of the membership and uncertainty maps.
    per_row : int or None
        Maps per row; None (default): up to 5 in
        one row, else rows of at most 4.

    Returns
    -------
    matplotlib.figure.Figure
        Membership maps, then the uncertainty map, then colour bars; a line
        scan gives membership curves and an uncertainty curve below them.

    Raises
    ------
    RuntimeError
        If the algorithm gave no soft memberships.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=64)
    >>> s.clusterspy.cluster_analysis("signal", preprocessing="norm",
    ...     algorithm="gaussian_mixture", n_clusters=3,
    ...     covariance_type="diag", random_state=0)
    >>> fig = clusterspy.plotting.plot_cluster_membership(s)
    >>> fig.axes[3].get_title()
    'Uncertainty (entropy)'
    """
    from .getters import get_cluster_membership

    if uncertainty is not None:
        check_choice(uncertainty, "uncertainty", _UNCERTAINTIES)
    result, colors, ids = _start(signal, cmap, cluster_ids)
    view = _NavigationView(signal, navigation_index)
    maps = view(get_cluster_membership(signal).data)
    name = {"entropy": "entropy", "max_probability": "1 - max. probability"}
    if view.is_line:
        fig = _new_figure((8.0, 5.0 if uncertainty else 3.5))
        axes = fig.subplots(2 if uncertainty else 1, 1, sharex=True, squeeze=False)
        _draw_curves(axes[0, 0], view, maps, result, colors, ids)
        axes[0, 0].set_ylim(-0.02, 1.02)
        axes[0, 0].set_ylabel("Membership")
        axes[0, 0].set_title("Cluster membership")
        if uncertainty:
            ax = axes[1, 0]
            ax.plot(view.x.axis, membership_uncertainty(maps, uncertainty), color="k")
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("Uncertainty")
            ax.set_xlabel(_axis_label(view.x, "x"))
            ax.set_title(f"Uncertainty ({name[uncertainty]})")
            axes[0, 0].set_xlabel("")
        return fig
    n_panels = len(ids) + bool(uncertainty)
    fig, per_row = _map_figure(view, n_panels, per_row, colorbars=2)
    axes = _panel_grid(fig, n_panels, per_row)
    image = None
    for ax, i in zip(axes, ids, strict=False):
        image = _show_map(
            ax, view, maps[i], cmap=_continuous_cmap(image_cmap), vmin=0.0, vmax=1.0
        )
        ax.set_title(_cluster_name(result, i), color=colors[i], fontweight="bold")
        _frame(ax, colors[i])
    fig.colorbar(image, ax=axes[: len(ids)], label="Membership", shrink=0.8)
    if uncertainty:
        ax = axes[-1]
        doubt = _show_map(
            ax,
            view,
            membership_uncertainty(maps, uncertainty),
            cmap=_continuous_cmap(uncertainty_cmap),
            vmin=0.0,
            vmax=1.0,
        )
        ax.set_title(f"Uncertainty ({name[uncertainty]})")
        fig.colorbar(doubt, ax=ax, label="Uncertainty", shrink=0.8)
    fig.suptitle(view.title("Cluster membership"))
    return fig


def plot_cluster_results(
    signal,
    signal_kind="mean",
    cluster_ids=None,
    navigation_index=None,
    show_std=True,
    signal_range=None,
    cmap=None,
    image_cmap="gray",
    per_row=None,
    title=None,
):
    """Plot an overview: label map, cluster signals and cluster sizes.

    All three panels use the same cluster colours, so a region of the map,
    its spectrum (or image) and its bar read together.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    signal_kind : {"mean", "sum", "centroid", "std"}
        Cluster signal shown, see :func:`plot_cluster_signals`. The accessor
        method calls this parameter ``signal``.
    cluster_ids : None, int or list of int
        Clusters whose signals and bars are shown (the map shows all).
    navigation_index : None, int or tuple of int
        The 2-D slice of the label map with 3 or more navigation dimensions,
        see :func:`plot_cluster_labels`.
    show_std : bool
        Shade mean ± one standard deviation around mean spectra.
    signal_range : None or (float, float)
        For spectra, the part of the signal axis drawn, in its calibrated
        units, for example ``(0.2, 10.0)`` keV; None draws all of it.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    image_cmap : str or Colormap
        Colormap of cluster images (signal dimension 2).
    per_row : int or None
        Cluster images per row (signal dimension 2); None (default): a
        square block.
    title : str or None
        Figure title; default from the signal's title.

    Returns
    -------
    matplotlib.figure.Figure
        Axes in order: label map, cluster signal(s), sizes.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=64)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> fig = clusterspy.plotting.plot_cluster_results(s)
    >>> [ax.get_title() for ax in fig.axes][2]
    'Cluster sizes'
    """
    check_choice(signal_kind, "signal_kind", _SIGNAL_KINDS[:-1])
    show_std = check_bool(show_std, "show_std")
    signal_range = _check_range(signal_range)
    result, colors, ids = _start(signal, cmap, cluster_ids)
    view = _NavigationView(signal, navigation_index)
    dim = _signal_dimension(result)
    if dim not in (0, 1, 2):
        raise NotImplementedError(
            "plot_cluster_results draws values, spectra and images (signal "
            f"dimension 0, 1, 2); these cluster signals have dimension {dim}."
        )
    if per_row is None:
        # A square-ish block of images beside the map.
        per_row = math.ceil(math.sqrt(len(ids)))
    per_row = _per_row(per_row, len(ids))
    width, height = view.panel_size(4.0)
    if view.is_line:
        fig = _new_figure((11.0, 5.5))
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 3.0])
        left, right = bottom.subfigures(1, 2, width_ratios=[2.6, 1.0])
        _draw_label_map(top.add_subplot(), view, result, colors, ids, "special")
    else:
        fig = _new_figure((width + 8.5, max(height + 1.6, 4.6)))
        maps, left, right = fig.subfigures(1, 3, width_ratios=[width + 0.8, 5.6, 2.6])
        # The clusters are named in the spectra's legend and the bars.
        _draw_label_map(maps.add_subplot(), view, result, colors, ids, "special")
    if dim == 0:
        _draw_values(
            left.add_subplot(), signal, result, signal_kind, colors, ids, show_std
        )
    elif dim == 1:
        _draw_spectra(
            left.add_subplot(),
            signal,
            result,
            signal_kind,
            colors,
            ids,
            show_std,
            signal_range,
        )
    else:
        _draw_images(
            left, signal, result, signal_kind, colors, ids, per_row, image_cmap
        )
    _draw_sizes(right.add_subplot(), result, colors, ids)
    if title is None:
        name = _text(signal.metadata.General.title)
        title = f"{result.n_clusters} clusters" + (f" of {name}" if name else "")
    fig.suptitle(title, fontweight="bold")
    return fig
