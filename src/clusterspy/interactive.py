"""Interactive exploration of a result, on HyperSpy's own plotting.

:func:`plot_cluster_explorer` is ``signal.plot(navigator=labels)`` — the
label map as the navigator, so the cursor moves over the clusters — plus a
line in HyperSpy's signal figure that follows the cursor: the mean (or
another cluster signal) of the cluster of the selected position, in its
colour, and a note of that position's cluster, distance and membership.
Everything updates on HyperSpy's ``axes_manager.events.indices_changed``,
so it works wherever ``signal.plot`` works (ipympl, qt, inline).

The navigator alone needs no clusterspy call::

    labels = s.clusterspy.get_cluster_labels(merged=True)
    s.plot(navigator=labels)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .results import CLUSTER_SIGNAL_KINDS, MASKED, NOISE, UNASSIGNED, get_cluster_result

__all__ = ["plot_cluster_explorer", "ClusterExplorer"]


@dataclass
class ClusterExplorer:
    """Handles of an explorer figure (see :func:`plot_cluster_explorer`).

    Attributes
    ----------
    signal_figure : hyperspy.drawing.signal1d.Signal1DFigure
        HyperSpy's figure of the signal.
    line : hyperspy.drawing.signal1d.Signal1DLine
        The cluster signal of the selected position's cluster.
    note : matplotlib.text.Text
        Cluster, distance and membership at the selected position.
    """

    signal_figure: object
    line: object
    note: object

    def cluster_at(self):
        """The label at the navigator's current position."""
        return self._label()


def _flat_index(axes_manager, nav_shape):
    return int(np.ravel_multi_index(tuple(axes_manager.indices)[::-1], nav_shape[::-1]))


def _navigator_colors(result, cmap):
    """A colormap and limits that draw label ``l`` in the clusters' colours
    (and the fixed colours of noise, masked and unassigned)."""
    from matplotlib.colors import ListedColormap

    from .plotting.colors import (
        MASKED_COLOR,
        NOISE_COLOR,
        UNASSIGNED_COLOR,
        cluster_colors,
    )

    colors = [UNASSIGNED_COLOR, MASKED_COLOR, NOISE_COLOR] + list(
        cluster_colors(result.n_clusters, cmap)
    )
    return ListedColormap(colors), -3.5, result.n_clusters - 0.5


def _describe(result, index):
    label = int(result.labels[index])
    names = {NOISE: "noise", MASKED: "masked", UNASSIGNED: "unassigned"}
    if label < 0:
        return f"Position in no cluster ({names.get(label, label)})"
    text = f"Cluster {label}: distance {result.distances[index, label]:.4g}"
    if result.membership is not None:
        text += f", membership {result.membership[index, label]:.2f}"
    return text


def plot_cluster_explorer(signal, signal_kind="mean", cmap=None, **plot_kwargs):
    """Explore a result interactively with HyperSpy's ``signal.plot``.

    The label map is the navigator (in the clusters' colours); the signal
    figure shows the selected position's spectrum, the cluster signal of
    its cluster in the cluster's colour, and its cluster, distance to the
    cluster centre and (for soft clustering) membership. Moving the
    navigator (with the mouse, the keyboard, or ``axes_manager.indices``)
    updates all of them.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run, with signal
        dimension 1 for the overlay (other signals get the navigator only).
    signal_kind : {"mean", "sum", "centroid", "std"}
        Cluster signal drawn over the selected spectrum. The accessor
        method calls this parameter ``signal``.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`clusterspy.cluster_colors`.
    **plot_kwargs
        Passed to ``signal.plot``.

    Returns
    -------
    ClusterExplorer or None
        The figure's handles (None without the overlay).

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> explorer = s.clusterspy.plot_cluster_explorer()
    >>> s.axes_manager.indices = (5, 2)
    >>> explorer.cluster_at() == int(s.clusterspy.result.label_map[2, 5])
    True
    >>> s._plot.close()
    """
    from hyperspy.drawing.signal1d import Signal1DLine

    from .getters import get_cluster_labels
    from .plotting.colors import cluster_colors
    from .validation import check_choice

    check_choice(signal_kind, "signal_kind", CLUSTER_SIGNAL_KINDS[:-1])
    result = get_cluster_result(signal)
    labels = get_cluster_labels(signal, merged=True)
    colormap, vmin, vmax = _navigator_colors(result, cmap)
    navigator_kwds = dict(plot_kwargs.pop("navigator_kwds", {}) or {})
    navigator_kwds.setdefault("cmap", colormap)
    navigator_kwds.setdefault("vmin", vmin)
    navigator_kwds.setdefault("vmax", vmax)
    if labels.axes_manager.signal_dimension != 2:
        navigator_kwds = {}
    signal.plot(navigator=labels, navigator_kwds=navigator_kwds, **plot_kwargs)
    if signal.axes_manager.signal_dimension != 1:
        return None

    figure = signal._plot.signal_plot
    spectra = np.asarray(result.cluster_signal(signal_kind), dtype=float)
    colors = cluster_colors(result.n_clusters, cmap)
    nav_shape = tuple(result.navigation_shape)
    blank = np.full(spectra.shape[1], np.nan)

    def label():
        return int(result.labels[_flat_index(signal.axes_manager, nav_shape)])

    def cluster_spectrum(axes_manager=None):
        current = label()
        return spectra[current] if current >= 0 else blank

    line = Signal1DLine()
    line.data_function = cluster_spectrum
    line.set_line_properties(color="black", type="line", linewidth=1.5)
    figure.add_line(line)
    line.plot()
    note = figure.ax.text(
        0.99, 0.98, "", transform=figure.ax.transAxes, ha="right", va="top"
    )

    def update(obj=None):
        current = label()
        color = colors[current] if current >= 0 else "black"
        line.line.set_color(color)
        note.set_text(_describe(result, _flat_index(signal.axes_manager, nav_shape)))
        note.set_color(color)

    update()
    signal.axes_manager.events.indices_changed.connect(update, [])
    figure.events.closed.connect(
        lambda: signal.axes_manager.events.indices_changed.disconnect(update), []
    )
    explorer = ClusterExplorer(figure, line, note)
    explorer._label = label
    return explorer
