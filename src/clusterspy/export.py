"""Write the figures and result signals of a cluster analysis to a folder."""

from __future__ import annotations

from pathlib import Path

from .results import CLUSTER_SIGNAL_KINDS, get_cluster_result
from .validation import check_bool, check_choice

__all__ = ["export_cluster_results"]

_SIGNAL_FORMATS = ("hspy", "zspy")


def export_cluster_results(
    signal,
    folder,
    formats=("png",),
    signal_kinds=("mean",),
    signal_format="hspy",
    navigation_index=None,
    cmap=None,
    dpi=150,
    overwrite=False,
):
    """Save the plots and the result signals of a cluster analysis.

    Written into ``folder`` (created if needed), for each figure format:

    * ``cluster_results.<fmt>``: the overview (:func:`plot_cluster_results`);
    * ``cluster_labels.<fmt>``: the merged and binary label maps;
    * ``cluster_signals_<kind>.<fmt>`` for each of ``signal_kinds``;
    * ``cluster_distances.<fmt>``;
    * ``cluster_membership.<fmt>`` when the algorithm gave soft memberships;

    and, unless ``signal_format`` is None, the signals returned by the
    getters: ``cluster_labels.<ext>`` (merged labels, ``-1`` noise, ``-2``
    masked), ``cluster_signals_<kind>.<ext>``, ``cluster_distances.<ext>``
    and ``cluster_membership.<ext>`` (soft clustering only).

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    folder : str or pathlib.Path
        Output folder.
    formats : sequence of str
        Figure formats matplotlib can write (``"png"``, ``"pdf"``,
        ``"svg"``, ...); empty for no figures.
    signal_kinds : sequence of str
        Cluster signals to plot and save, from ``"mean"``, ``"sum"``,
        ``"centroid"``, ``"std"``, ``"count"``.
    signal_format : {"hspy", "zspy"} or None
        File format of the result signals (written with ``signal.save``);
        None writes no signals.
    navigation_index : None, int or tuple of int
        The 2-D slice drawn with 3 or more navigation dimensions (saved
        signals always hold every position).
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`clusterspy.plotting.cluster_colors`.
    dpi : float
        Resolution of raster figures.
    overwrite : bool
        If False (default), raise ``FileExistsError`` before writing
        anything when one of the files exists.

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Examples
    --------
    >>> import tempfile
    >>> import clusterspy
    >>> from clusterspy.export import export_cluster_results
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=64)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = export_cluster_results(s, folder)
    >>> sorted(p.name for p in paths)[:2]
    ['cluster_distances.hspy', 'cluster_distances.png']
    """
    import matplotlib.pyplot as plt

    from . import plotting
    from .getters import (
        get_cluster_distances,
        get_cluster_labels,
        get_cluster_membership,
        get_cluster_signals,
    )

    overwrite = check_bool(overwrite, "overwrite")
    result = get_cluster_result(signal)
    formats = [formats] if isinstance(formats, str) else list(formats)
    kinds = [signal_kinds] if isinstance(signal_kinds, str) else list(signal_kinds)
    for kind in kinds:
        check_choice(kind, "signal_kinds", CLUSTER_SIGNAL_KINDS)
    if signal_format is not None:
        check_choice(signal_format, "signal_format", _SIGNAL_FORMATS)
    # Checked before any plot is made: a typo must not leave half a folder.
    from matplotlib.figure import Figure

    supported = Figure().canvas.get_supported_filetypes()
    for fmt in formats:
        if fmt not in supported:
            raise ValueError(
                f"`formats` has {fmt!r}, which matplotlib cannot write; use one "
                f"of {', '.join(sorted(supported))}."
            )
    soft = result.membership is not None

    figures = [
        ("cluster_results", lambda: _overview(signal, kinds, navigation_index, cmap)),
        (
            "cluster_labels",
            lambda: plotting.plot_cluster_labels(
                signal, binary=True, navigation_index=navigation_index, cmap=cmap
            ),
        ),
    ]
    for kind in kinds:
        figures.append(
            (
                f"cluster_signals_{kind}",
                lambda kind=kind: plotting.plot_cluster_signals(
                    signal, kind, cmap=cmap
                ),
            )
        )
    figures.append(
        (
            "cluster_distances",
            lambda: plotting.plot_cluster_distances(
                signal, navigation_index=navigation_index, cmap=cmap
            ),
        )
    )
    if soft:
        figures.append(
            (
                "cluster_membership",
                lambda: plotting.plot_cluster_membership(
                    signal, navigation_index=navigation_index, cmap=cmap
                ),
            )
        )
    signals = []
    if signal_format is not None:
        signals.append(("cluster_labels", lambda: get_cluster_labels(signal, True)))
        for kind in kinds:
            signals.append(
                (
                    f"cluster_signals_{kind}",
                    lambda kind=kind: get_cluster_signals(signal, kind),
                )
            )
        signals.append(("cluster_distances", lambda: get_cluster_distances(signal)))
        if soft:
            signals.append(
                ("cluster_membership", lambda: get_cluster_membership(signal))
            )

    folder = Path(folder)
    targets = [folder / f"{name}.{fmt}" for name, _ in figures for fmt in formats]
    targets += [folder / f"{name}.{signal_format}" for name, _ in signals]
    if not overwrite:
        existing = [str(path) for path in targets if path.exists()]
        if existing:
            raise FileExistsError(
                "These files exist (pass overwrite=True to replace them): "
                + ", ".join(existing)
            )
    folder.mkdir(parents=True, exist_ok=True)

    written = []
    if formats:
        for name, make in figures:
            fig = make()
            try:
                for fmt in formats:
                    path = folder / f"{name}.{fmt}"
                    fig.savefig(path, dpi=dpi, format=fmt)
                    written.append(path)
            finally:
                # Exports run in loops and scripts: open figures would pile up.
                plt.close(fig)
    for name, make in signals:
        path = folder / f"{name}.{signal_format}"
        make().save(path, overwrite=True)
        written.append(path)
    return written


def _overview(signal, kinds, navigation_index, cmap):
    from .plotting import plot_cluster_results

    # The overview shows one kind of spectrum; "count" is its bar chart.
    shown = next((k for k in kinds if k != "count"), "mean")
    return plot_cluster_results(
        signal, shown, navigation_index=navigation_index, cmap=cmap
    )
