"""Distances to the cluster centres: :func:`plot_cluster_distances`."""

from __future__ import annotations

import numpy as np

from ._common import _cluster_name, _frame, _new_figure, _panel_grid, _start
from ._navigation import _draw_curves, _map_figure, _NavigationView, _show_map
from .colors import _continuous_cmap

__all__ = ["plot_cluster_distances"]


def _map_panels(fig, view, maps, result, colors, ids, per_row, image_cmap, vmin, vmax):
    """One distance map per cluster on a shared scale; the axes and the last
    image (for the colour bar)."""
    axes = _panel_grid(fig, len(ids), per_row)
    image = None
    for ax, i in zip(axes, ids, strict=True):
        image = _show_map(
            ax, view, maps[i], cmap=_continuous_cmap(image_cmap), vmin=vmin, vmax=vmax
        )
        ax.set_title(_cluster_name(result, i), color=colors[i], fontweight="bold")
        _frame(ax, colors[i])
    return axes, image


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
    from ..getters import get_cluster_distances

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
