"""Context figures of a map: the reference (electron or survey) image beside
the label map (:func:`plot_reference_image`, picked from a file's signals by
:func:`find_reference_image`) and the scree plot of the decomposition that
was clustered (:func:`plot_scree`)."""

from __future__ import annotations

import numpy as np

from ._common import _axis_label, _edges, _new_figure, _start, _text

__all__ = ["find_reference_image", "plot_reference_image", "plot_scree"]


def find_reference_image(signals, signal):
    """The image of the same area among a file's signals, or None.

    A Bruker ``.bcf`` loads as ``[electron image(s)..., EDS map]``; other
    formats put a survey image beside the map. The reference is the first
    signal with signal dimension 2, no navigation, and the map's navigation
    shape (HyperSpy order); failing that, the first 2-D image of any size
    (a survey image is usually larger than the map).

    Parameters
    ----------
    signals : BaseSignal or list of BaseSignal
        What ``hs.load`` returned.
    signal : BaseSignal
        The analysed map.

    Returns
    -------
    BaseSignal or None

    Examples
    --------
    >>> import hyperspy.api as hs, numpy as np
    >>> from clusterspy.plotting.reference import find_reference_image
    >>> s = hs.signals.Signal1D(np.zeros((4, 6, 8)))
    >>> image = hs.signals.Signal2D(np.zeros((4, 6)))
    >>> find_reference_image([image, s], s) is image
    True
    """
    if not isinstance(signals, (list, tuple)):
        signals = [signals]
    nav_shape = tuple(signal.axes_manager.navigation_shape)
    images = [
        s
        for s in signals
        if s is not signal
        and s.axes_manager.signal_dimension == 2
        and s.axes_manager.navigation_dimension == 0
    ]
    for image in images:
        if tuple(image.axes_manager.signal_shape) == nav_shape:
            return image
    return images[0] if images else None


def plot_reference_image(signal, reference, cmap=None, image_cmap="gray"):
    """Plot the reference image beside the cluster label map.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run (2-D navigation).
    reference : BaseSignal
        The image (signal dimension 2), for example the electron image of a
        ``.bcf`` (:func:`find_reference_image`).
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`~clusterspy.cluster_colors`.
    image_cmap : str or Colormap
        Colormap of the reference image.

    Returns
    -------
    matplotlib.figure.Figure
        Axes: the reference image (titled with its title), the label map.

    Examples
    --------
    >>> import clusterspy, hyperspy.api as hs
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> image = hs.signals.Signal2D(s.data.sum(axis=-1))
    >>> image.metadata.General.title = "Total counts"
    >>> fig = clusterspy.plotting.plot_reference_image(s, image)
    >>> [ax.get_title() for ax in fig.axes]
    ['Total counts', 'Cluster labels']
    """
    from .labels import plot_cluster_labels

    if reference.axes_manager.signal_dimension != 2:
        raise ValueError(
            "`reference` must be an image (signal dimension 2); got signal "
            f"dimension {reference.axes_manager.signal_dimension}."
        )
    _start(signal, cmap, None)  # the stored result exists and fits
    fig = _new_figure((9.0, 4.2))
    left, right = fig.subplots(1, 2)
    sx, sy = reference.axes_manager.signal_axes
    x0, x1 = _edges(sx)
    y0, y1 = _edges(sy)
    data = reference.data
    if reference._lazy:
        data = data.compute()
    data = np.asarray(data)
    if data.dtype.names:
        # An RGB(A) image (HyperSpy's structured rgb8/rgba8 dtypes, e.g. the
        # optical image of a Renishaw map): matplotlib draws (y, x, 3 or 4).
        data = np.stack([data[name] for name in data.dtype.names], axis=-1)
        if data.dtype != np.uint8:  # rgb16: matplotlib takes floats in [0, 1]
            data = data / np.iinfo(data.dtype).max
    same_units = _text(sx.units) == _text(sy.units)
    left.imshow(
        data,
        extent=(x0, x1, y1, y0),
        cmap=image_cmap,
        aspect="equal" if same_units else "auto",
        interpolation="nearest",
    )
    left.set_title(_text(reference.metadata.General.title) or "Reference image")
    left.set_xlabel(_axis_label(sx, "x"))
    left.set_ylabel(_axis_label(sy, "y"))
    plot_cluster_labels(signal, cmap=cmap, ax=right)
    return fig


def plot_scree(signal, n_components=None, ax=None):
    """Plot the decomposition's explained variance ratio (scree plot).

    The components used by the clustering (``number_of_components`` of a
    ``"decomposition"`` result) are drawn filled, the others open.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``decomposition`` was run.
    n_components : int or None
        Components shown; None: up to 30.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=32)
    >>> s.decomposition(print_info=False)
    >>> s.clusterspy.cluster_analysis(
    ...     "decomposition", number_of_components=3, n_clusters=3, random_state=0)
    >>> fig = clusterspy.plotting.plot_scree(s)
    >>> fig.axes[0].get_yscale()
    'log'
    """
    from ..results import get_cluster_result

    variance = getattr(signal.learning_results, "explained_variance", None)
    if variance is None:
        raise ValueError(
            "`signal` has no decomposition: run `signal.decomposition()` first."
        )
    variance = np.asarray(variance, dtype=float)
    ratio = variance / variance.sum()
    n = min(ratio.size, 30 if n_components is None else int(n_components))
    used = 0
    try:
        result = get_cluster_result(signal)
    except RuntimeError:
        result = None
    if result is not None and result.parameters.get("cluster_source_kind") == (
        "decomposition"
    ):
        used = int(result.parameters.get("number_of_components") or 0)
    if ax is None:
        ax = _new_figure((5.5, 3.6)).add_subplot()
    draw_scree(ax, ratio[:n], used)
    return ax.figure


def draw_scree(ax, ratio, used):
    """Draw a scree of ``ratio`` (explained variance ratios, largest first)
    on ``ax``: the first ``used`` components filled, the others open.

    Shared by :func:`plot_scree` (HyperSpy decompositions) and the report
    (clusterspy's ``"pca"`` source, whose model keeps the clustered
    components only).
    """
    ratio = np.asarray(ratio, dtype=float)
    index = np.arange(ratio.size)
    used = min(int(used), ratio.size)
    ax.semilogy(index, ratio, color="0.6", linewidth=0.8, zorder=1)
    ax.scatter(index[used:], ratio[used:], facecolors="none", edgecolors="0.3")
    if used:
        ax.scatter(
            index[:used],
            ratio[:used],
            color="C3",
            label=f"used for clustering ({used})",
            zorder=2,
        )
        ax.legend(frameon=False, fontsize="small")
    ax.set_xlabel("Principal component index")
    ax.set_ylabel("Proportion of variance")
    ax.set_title("Scree plot")
