"""Write the figures and result signals of a cluster analysis to a folder."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import (
    OutputError,
    StagedFolder,
    check_output_folder,
    naming,
    reason,
    save_signal,
)
from ._fallback import require_zspy
from .results import CLUSTER_SIGNAL_KINDS, get_cluster_result
from .validation import check_bool, check_choice

__all__ = ["export_cluster_results"]

_SIGNAL_FORMATS = ("hspy", "zspy")
#: The per-cluster table (``ClusterTable.to_csv``).
TABLE_NAME = "cluster_table.csv"


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
    table=True,
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
    and ``cluster_membership.<ext>`` (soft clustering only); and, with
    ``table``, ``cluster_table.csv``: the per-cluster table (positions, area
    fraction and its standard error, counts per pixel and, for EDS, the
    X-ray line intensities of each cluster's summed spectrum; see
    :func:`clusterspy.tables.get_cluster_table`).

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
        Resolution of raster figures, a positive number.
    overwrite : bool
        If False (default), raise ``FileExistsError`` before writing
        anything when one of the files exists. Other files in ``folder``
        are always kept.
    table : bool
        Write ``cluster_table.csv``.

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Raises
    ------
    TypeError, ValueError, NotADirectoryError
        Before any work, for a bad argument (``folder`` not a path, or a
        path to an existing file; ``dpi`` not a positive number; ...).
    FileExistsError
        Before any work, when a file exists and ``overwrite`` is False.
    OSError
        ``clusterspy._atomic.OutputError``, an ``OSError`` (full disk,
        missing permission, ...) while writing; its message names the
        folder, the file and the cause.

    Notes
    -----
    The files are written into a temporary folder next to ``folder`` and
    moved into ``folder`` only when all of them are complete: an error or
    an interrupt leaves ``folder`` as it was, without partial files and
    without the temporary folder.

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
    spec = _check_export(
        signal,
        folder,
        formats,
        signal_kinds,
        signal_format,
        navigation_index,
        cmap,
        dpi,
        overwrite,
        table,
    )
    staged = StagedFolder(spec.folder)
    try:
        with staged:
            written = _write_exports(spec, staged.path)
    except OSError as err:
        where = getattr(err, "filename", None)
        where = staged.final(where) if where else spec.folder
        raise OutputError(
            f"cannot write the cluster results into {str(spec.folder)!r} "
            f"({where}): {reason(err)}; nothing was written",
            errno=err.errno,
            path=where,
        ) from err
    return [spec.folder / path.name for path in written]


@dataclass
class _ExportSpec:
    """The checked arguments of one export: what to draw and save, and where."""

    signal: object
    folder: Path
    formats: list
    figures: list
    signals: list
    signal_format: str | None
    dpi: float
    table: bool = False


def _check_export(
    signal,
    folder,
    formats,
    signal_kinds,
    signal_format,
    navigation_index,
    cmap,
    dpi,
    overwrite,
    table=False,
):
    """Check every argument before any work; return an :class:`_ExportSpec`."""
    overwrite = check_bool(overwrite, "overwrite")
    table = check_bool(table, "table")
    folder = check_output_folder(folder, "folder")
    dpi = _check_dpi(dpi)
    result = get_cluster_result(signal)
    formats = [formats] if isinstance(formats, str) else list(formats)
    kinds = [signal_kinds] if isinstance(signal_kinds, str) else list(signal_kinds)
    for kind in kinds:
        check_choice(kind, "signal_kinds", CLUSTER_SIGNAL_KINDS)
    if signal_format is not None:
        check_choice(signal_format, "signal_format", _SIGNAL_FORMATS)
        if signal_format == "zspy":
            require_zspy("Writing .zspy files")
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
    figures = _figure_makers(signal, kinds, navigation_index, cmap, soft)
    signals = [] if signal_format is None else _signal_makers(signal, kinds, soft)
    targets = [folder / f"{name}.{fmt}" for name, _ in figures for fmt in formats]
    targets += [folder / f"{name}.{signal_format}" for name, _ in signals]
    if table:
        targets.append(folder / TABLE_NAME)
    if not overwrite:
        existing = [str(path) for path in targets if path.exists()]
        if existing:
            raise FileExistsError(
                "These files exist (pass overwrite=True to replace them): "
                + ", ".join(existing)
            )
    return _ExportSpec(
        signal,
        folder,
        formats,
        figures if formats else [],
        signals,
        signal_format,
        dpi,
        table,
    )


def _check_dpi(dpi):
    if (
        isinstance(dpi, (bool, np.bool_))
        or not isinstance(dpi, (numbers.Real, np.number))
        or not np.isfinite(dpi)
        or dpi <= 0
    ):
        raise ValueError(f"`dpi` must be a positive number, not {dpi!r}.")
    return float(dpi)


def _figure_makers(signal, kinds, navigation_index, cmap, soft):
    """``(file stem, function making the figure)`` of every figure."""
    from . import plotting

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
    return figures


def _signal_makers(signal, kinds, soft):
    """``(file stem, function making the signal)`` of every result signal."""
    from .getters import (
        get_cluster_distances,
        get_cluster_labels,
        get_cluster_membership,
        get_cluster_signals,
    )

    signals = [("cluster_labels", lambda: get_cluster_labels(signal, True))]
    for kind in kinds:
        signals.append(
            (
                f"cluster_signals_{kind}",
                lambda kind=kind: get_cluster_signals(signal, kind),
            )
        )
    signals.append(("cluster_distances", lambda: get_cluster_distances(signal)))
    if soft:
        signals.append(("cluster_membership", lambda: get_cluster_membership(signal)))
    return signals


def _write_exports(spec, folder, show_progressbar=None):
    """Draw and save every file of ``spec`` into the existing ``folder``."""
    import matplotlib.pyplot as plt

    folder = Path(folder)
    written = []
    for name, make in spec.figures:
        fig = make()
        try:
            for fmt in spec.formats:
                path = folder / f"{name}.{fmt}"
                with naming(path):
                    fig.savefig(path, dpi=spec.dpi, format=fmt)
                written.append(path)
        finally:
            # Exports run in loops and scripts: open figures would pile up.
            plt.close(fig)
    for name, make in spec.signals:
        path = folder / f"{name}.{spec.signal_format}"
        save_signal(make(), path, show_progressbar=show_progressbar)
        written.append(path)
    if spec.table:
        written.append(write_table(spec.signal, folder / TABLE_NAME)[0])
    return written


def write_table(signal, path, table=None):
    """Write the per-cluster table as CSV; return ``(path, table)``.

    ``table`` (a :class:`~clusterspy.tables.ClusterTable`) is computed
    with :func:`~clusterspy.tables.get_cluster_table` when None.
    """
    from .tables import get_cluster_table

    if table is None:
        table = get_cluster_table(signal)
    path = Path(path)
    with naming(path):
        table.to_csv(path)
    return path, table


def _overview(signal, kinds, navigation_index, cmap):
    from .plotting import plot_cluster_results

    # The overview shows one kind of spectrum; "count" is its bar chart.
    shown = next((k for k in kinds if k != "count"), "mean")
    return plot_cluster_results(
        signal, shown, navigation_index=navigation_index, cmap=cmap
    )
