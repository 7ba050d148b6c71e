"""Helpers every figure family shares: figures, panel grids, axis labels, the
cluster ids shown, and :func:`_start` (the stored result and its colours)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..results import get_cluster_result
from ..validation import check_int
from .colors import cluster_colors


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


def _start(signal, cmap, cluster_ids):
    result = get_cluster_result(signal)
    colors = cluster_colors(result.n_clusters, cmap)
    return result, colors, _check_cluster_ids(cluster_ids, result.n_clusters)
