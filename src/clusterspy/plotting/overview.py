"""The overview figure: label map, cluster signals and sizes side by side
(:func:`plot_cluster_results`)."""

from __future__ import annotations

import math

from ..validation import check_bool, check_choice
from ._common import _new_figure, _per_row, _start, _text
from ._navigation import _NavigationView
from .elements import plural as _plural
from .labels import _draw_label_map
from .signals import (
    _SIGNAL_KINDS,
    _check_range,
    _check_spectra_options,
    _draw_images,
    _draw_sizes,
    _draw_spectra,
    _draw_values,
    _signal_dimension,
)

__all__ = ["plot_cluster_results"]


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
    spread="auto",
    log_scale=False,
    element_lines=True,
    label_lines=5,
    interactive=False,
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
        units, for example ``(0.2, 10.0)`` keV; None draws all of it, or
        for count data (integers or EDS) the range holding 99 % of the
        counts and every element line (without the EDS zero-energy peak
        below 0.1 keV), see :func:`clusterspy.plotting.elements.counts_range`.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    image_cmap : str or Colormap
        Colormap of cluster images (signal dimension 2).
    per_row : int or None
        Cluster images per row (signal dimension 2); None (default): a
        square block.
    title : str or None
        Figure title; default from the signal's title.
    spread : {"auto", "std", "quantile", "poisson"}
        Band of mean spectra: mean ± one standard deviation, the
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

    interactive : bool
        True: HyperSpy's interactive plot instead, the label map as the
        navigator and the selected position's cluster signal over its
        spectrum (:func:`clusterspy.plot_cluster_explorer`, which takes
        ``signal_kind`` and ``cmap``; the other options are for the static
        figure).

    Returns
    -------
    matplotlib.figure.Figure or ClusterExplorer
        Axes in order: label map, cluster signal(s), sizes; with
        ``interactive=True``, the explorer's handles.

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
    if check_bool(interactive, "interactive"):
        from ..interactive import plot_cluster_explorer

        return plot_cluster_explorer(signal, signal_kind, cmap)
    show_std = check_bool(show_std, "show_std")
    signal_range = _check_range(signal_range)
    options = _check_spectra_options(spread, log_scale, element_lines, label_lines)
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
    fig, left, right = _overview_layout(view, result, colors, ids)
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
            True,
            *options,
        )
    else:
        _draw_images(
            left, signal, result, signal_kind, colors, ids, per_row, image_cmap
        )
    _draw_sizes(right.add_subplot(), result, colors, ids)
    if title is None:
        name = _text(signal.metadata.General.title)
        title = _plural(result.n_clusters, "cluster") + (f" of {name}" if name else "")
    fig.suptitle(title, fontweight="bold")
    return fig


def _overview_layout(view, result, colors, ids):
    """The figure with its label map drawn, and the subfigures left for the
    cluster signals and the sizes: beside the map, or below a line scan's
    strip."""
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
    return fig, left, right
