"""The label map: :func:`plot_cluster_labels`."""

from __future__ import annotations

import math

import numpy as np
from matplotlib import colors as mcolors

from ..results import MASKED
from ..validation import check_bool
from ._common import _cluster_name, _frame, _new_figure, _panel_grid, _per_row, _start
from ._navigation import _NavigationView, _show_map
from .colors import MASKED_COLOR, NOISE_COLOR, UNASSIGNED_COLOR, _label_cmap_norm

__all__ = ["plot_cluster_labels"]


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
    if not binary:
        width, height = view.panel_size()
        fig = _new_figure((width + 2.2, height + 1.0 + 0.4 * view.is_line))
        _draw_label_map(fig.add_subplot(), view, result, colors, ids)
        return fig
    return _binary_figure(view, result, colors, ids, per_row)


def _binary_figure(view, result, colors, ids, per_row):
    """The merged map, then one map per cluster: its members in its colour."""
    width, height = view.panel_size()
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
