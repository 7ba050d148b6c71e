"""The output files of the command line's workflow.

:func:`write_outputs` writes, into one folder, everything ``clusterspy run``
and ``clusterspy demo`` produce: the result file (the analysed signal with
its results), the figures and result signals (through
:func:`clusterspy.export_cluster_results`), the number-of-clusters curve,
the CSV tables (``cluster_table.csv``: the per-cluster table with, for EDS,
the X-ray line intensities), ``summary.json`` and the self-contained
``report.html`` (with the file's reference image beside the label map when
the workflow found one).
The folder is the staging folder of :class:`clusterspy._atomic.StagedFolder`
when the workflow runs; the files reach the output folder only when all of
them are complete.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ._atomic import naming

__all__ = ["RESULT_NAME", "REPORT_NAME", "write_outputs", "write_csvs", "summary"]

#: Names of the output files (``{fmt}`` is the result format).
RESULT_NAME = "result.{fmt}"
REPORT_NAME = "report.html"

_DESCRIPTIONS = {
    "cluster_results.png": "overview figure",
    "cluster_labels.png": "label map and the members of each cluster",
    "cluster_signals_mean.png": "mean signal of each cluster",
    "cluster_distances.png": "distance of every position to each cluster centre",
    "cluster_membership.png": "soft membership maps",
    "cluster_metric.png": "number-of-clusters metric curve",
    "cluster_labels.{fmt}": "label map (-1 noise, -2 masked)",
    "cluster_signals_mean.{fmt}": "mean signal of each cluster",
    "cluster_distances.{fmt}": "distance of every position to each cluster centre",
    "cluster_membership.{fmt}": "soft memberships",
    "cluster_labels.csv": "label map, one row per line of the map (y), one column per x",
    "cluster_sizes.csv": "members of each cluster",
    "cluster_signals_mean.csv": "mean signal of each cluster",
    "cluster_table.csv": "per cluster: positions, area fraction, counts per pixel "
    "and (EDS) X-ray line intensities",
    "summary.json": "parameters, versions and results, for scripts",
    "result.{fmt}": "the analysed signal with every result: "
    "hs.load(path).clusterspy.result",
}
_FIGURE_KEYS = {
    "cluster_results.png": "overview",
    "cluster_metric.png": "metric",
    "cluster_labels.png": "labels",
    "cluster_signals_mean.png": "signals",
    "cluster_distances.png": "distances",
    "cluster_membership.png": "membership",
}


def _number(value):
    return repr(float(value))


def _axis_header(axis):
    name = axis.name if isinstance(axis.name, str) and axis.name else "channel"
    units = axis.units if isinstance(axis.units, str) and axis.units else ""
    return f"{name} ({units})" if units else name


def write_csvs(signal, result, folder):
    """Label map, cluster sizes and mean signals as CSV; return the paths."""
    import numpy as np

    from .results import MASKED, NOISE

    paths = []
    path = folder / "cluster_labels.csv"
    nx = int(result.navigation_shape[0])
    with naming(path), path.open("w", newline="") as f:
        csv.writer(f).writerows(result.labels.reshape(-1, nx).tolist())
    paths.append(path)

    path = folder / "cluster_sizes.csv"
    total = result.labels.size
    with naming(path), path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "name", "count", "fraction"])
        for i, count in enumerate(result.counts):
            writer.writerow([i, f"cluster {i}", int(count), _number(count / total)])
        for label, name in ((NOISE, "noise"), (MASKED, "masked")):
            count = int(np.count_nonzero(result.labels == label))
            if count:
                writer.writerow([label, name, count, _number(count / total)])
    paths.append(path)

    path = folder / "cluster_signals_mean.csv"
    mean = np.asarray(result.signal_mean, dtype=float)
    k = result.n_clusters
    axes = signal.axes_manager.signal_axes
    with naming(path), path.open("w", newline="") as f:
        writer = csv.writer(f)
        if len(axes) == 1 and mean.ndim == 2:
            # One row per channel: the axis, then one column per cluster.
            writer.writerow(
                [_axis_header(axes[0])] + [f"cluster {i}" for i in range(k)]
            )
            for value, row in zip(axes[0].axis, mean.T, strict=True):
                writer.writerow([_number(value)] + [_number(v) for v in row])
        else:
            # One row per cluster: the signal's values in data order.
            flat = mean.reshape(k, -1)
            writer.writerow(["cluster"] + [f"value {j}" for j in range(flat.shape[1])])
            for i, row in enumerate(flat):
                writer.writerow([i] + [_number(v) for v in row])
    paths.append(path)
    return paths


def summary(result, metric, info, title, command):
    """The content of ``summary.json``, without its ``files`` list."""
    data = {
        "command": command,
        "title": title,
        "n_clusters": int(result.n_clusters),
        "counts": [int(c) for c in result.counts],
        "noise": result.noise_count,
        "masked": result.masked_count,
        "info": info,
        "parameters": result.parameters,
        "versions": result.versions,
    }
    if metric is not None:
        data["estimate"] = {
            "metric": metric.metric,
            "n_clusters": int(metric.n_clusters),
            "rule": metric.rule,
            "ks": [int(k) for k in metric.ks],
            "values": [float(v) for v in metric.values],
            "errors": None
            if metric.errors is None
            else [float(v) for v in metric.errors],
            "parameters": metric.parameters,
        }
    return data


def write_outputs(
    signal,
    folder,
    *,
    fmt="hspy",
    estimate=False,
    info=None,
    title=None,
    command=None,
    show_progressbar=None,
    reference=None,
    metrics=None,
    warnings=None,
    mixtures=True,
):
    """Write every output file of the workflow into the existing ``folder``.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    folder : pathlib.Path
        An existing folder (the workflow passes its staging folder).
    fmt : {"hspy", "zspy"}
        Format of the result file and of the result signals.
    estimate : bool
        Whether the number of clusters was estimated: adds the metric curve
        (``cluster_metric.png``) and the estimate to ``summary.json``.
    info : dict or None
        Parameter tables of the report and of ``summary.json``.
    title, command : str or None
        The report's title and the command line shown in its footer.
    show_progressbar : bool or None
        Passed to HyperSpy's writers; None keeps HyperSpy's default.
    reference : BaseSignal or None
        The reference image of the file, shown beside the label map in the
        report (:func:`clusterspy.plotting.reference.find_reference_image`).
    metrics : dict, list or None
        Several number-of-clusters estimates for the report
        (``{name: ClusterMetric}``); None: the stored one when ``estimate``.
    warnings : list of str or None
        Shown first in the report.
    mixtures : bool or ClusterMixtures
        The report's "Closest mixtures" section (see
        :func:`clusterspy.report.write_report`).

    Returns
    -------
    (list of pathlib.Path, pathlib.Path, pathlib.Path)
        Every file written (the report last), the report and the result
        file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import clusterspy
    >>> from clusterspy.outputs import write_outputs
    >>> s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written, report, result = write_outputs(s, pathlib.Path(folder))
    ...     report.name, result.name, len(written)
    ('report.html', 'result.hspy', 14)
    """
    from ._atomic import save_signal
    from .estimate import get_cluster_metric
    from .export import TABLE_NAME, _check_export, _write_exports, write_table
    from .report import figure_to_png, scree_figure, write_report
    from .results import get_cluster_result

    folder = Path(folder)
    result = get_cluster_result(signal)
    result_path = save_signal(
        signal, folder / RESULT_NAME.format(fmt=fmt), show_progressbar
    )
    written = [result_path]
    spec = _check_export(
        signal, folder, ("png",), ("mean",), fmt, None, None, 100, True
    )
    written += _write_exports(spec, folder, show_progressbar)
    metric = None
    if estimate or metrics:
        metric = get_cluster_metric(signal) if estimate else None
        written.append(
            _write_metric_figure(signal, folder / "cluster_metric.png", metrics)
        )
    written += write_csvs(signal, result, folder)
    path, table = write_table(signal, folder / TABLE_NAME)
    written.append(path)

    data = summary(result, metric, info, title, command)
    path = folder / "summary.json"
    data["files"] = [p.name for p in written] + [path.name, REPORT_NAME]
    with naming(path):
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    written.append(path)

    figures = {_FIGURE_KEYS[p.name]: p for p in written if p.name in _FIGURE_KEYS}
    scree = scree_figure(signal)
    if scree is not None:
        figures["scree"] = figure_to_png(scree)
    files = [
        (p.name, _DESCRIPTIONS.get(p.name.replace(f".{fmt}", ".{fmt}"), ""))
        for p in written
    ]
    report = write_report(
        signal,
        folder / REPORT_NAME,
        figures=figures,
        title=title,
        info=info,
        files=files,
        command=command,
        metric=estimate,
        reference=reference,
        metrics=metrics,
        warnings=warnings,
        table=table,
        mixtures=mixtures,
    )
    written.append(report)
    return written, report, result_path


def _write_metric_figure(signal, path, metrics=None):
    import matplotlib.pyplot as plt

    from .report import metric_figure

    fig = metric_figure(signal, metrics)
    try:
        with naming(path):
            fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
