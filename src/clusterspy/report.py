"""A self-contained HTML report of a cluster analysis.

:func:`write_report` writes one HTML file that holds everything a colleague
needs to read the result: the figures (embedded as base64 PNG ``data:``
URIs), the cluster sizes in the clusters' colours, the number-of-clusters
curve when one was estimated, every parameter and the package versions.
It has no script and loads nothing, so it opens in any browser, offline,
without Python::

    import clusterspy
    from clusterspy.report import write_report

    s.clusterspy.cluster_analysis("signal", preprocessing="norm", n_clusters=4)
    write_report(s, "report.html")
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import html
import io
import json
import platform
import struct
from pathlib import Path

from ._atomic import naming
from .results import MASKED, NOISE, get_cluster_result

__all__ = ["render_report", "write_report", "standard_figures", "figure_to_png"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Figures the report places itself, with their captions; any other key goes
#: to the "Figures" section with the key as caption.
_CAPTIONS = {
    "overview": "Overview: the label map, the mean signal of each cluster and the "
    "cluster sizes, in the clusters' colours.",
    "metric": "Number-of-clusters metric against k; the dashed line marks the "
    "chosen k.",
    "labels": "Label map, and the members of each cluster.",
    "signals": "Mean signal of each cluster (shaded: \u00b1 one standard deviation).",
    "distances": "Distance of every position to each cluster centre, in the "
    "clustered feature space.",
    "membership": "Soft membership of every position in each cluster.",
}
_SECTION_ORDER = ("labels", "signals", "distances", "membership")

# Parameters of a cluster analysis, shown first and in this order; the rest
# follow alphabetically.
_PARAMETER_ORDER = (
    "cluster_source",
    "number_of_components",
    "preprocessing",
    "preprocessing_kwargs",
    "algorithm",
    "estimator",
    "kwargs",
    "random_state",
    "n_features",
    "source_for_centers",
    "navigation_mask",
    "signal_mask",
    "nan_policy",
    "engine",
)
_METRIC_PARAMETER_ORDER = (
    "metric",
    "min_clusters",
    "max_clusters",
    "algorithm",
    "random_state",
    "n_references",
    "reference",
    "sample_size",
    "fit_sample_size",
    "n_samples",
    "n_fit_samples",
)
_METRIC_NAMES = {
    "gap": "the gap statistic",
    "elbow": "the elbow of the within-cluster dispersion",
    "silhouette": "the silhouette coefficient",
    "calinski_harabasz": "the Calinski-Harabasz index",
    "davies_bouldin": "the Davies-Bouldin index",
    "bic": "the Bayesian information criterion",
    "aic": "the Akaike information criterion",
}

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2430;line-height:1.45;
 font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#1f3a5f;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:24px;font-weight:600}
header p{margin:4px 0 0;color:#dbe4f0}
main{max-width:1180px;margin:0 auto;padding:6px 16px 24px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;
 margin:12px 0;min-width:0}
h2{font-size:17px;margin:0 0 8px;color:#1f3a5f}
h3{font-size:14px;margin:12px 0 4px;color:#444}
.row{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px}
.row>section{margin:0}
.row{margin:12px 0}
figure{margin:0 0 10px}
img{display:block;max-width:100%;height:auto;margin:0 auto}
figcaption{font-size:13px;color:#59606b;margin-top:2px;text-align:center}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #e6e8eb;vertical-align:top}
th{background:#f6f7f9;font-weight:600}
th[scope=row]{width:42%}
.row{align-items:start}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.chosen td{background:#fff3c4;font-weight:600}
tr.total td{border-top:2px solid #c9ced6;font-weight:600}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px;
 border:1px solid rgba(0,0,0,.25);vertical-align:-2px;margin-right:6px}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
 overflow-wrap:anywhere;white-space:pre-wrap}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:6px 10px;margin:8px 0;
 font-size:14px}
p.lead{margin:0 0 8px}
ul.files{margin:0;padding-left:18px;font-size:13.5px}
footer{color:#6b7280;font-size:12.5px;text-align:center;padding:8px 16px 24px}
@media (max-width:820px){.row{grid-template-columns:1fr}}
@media print{body{background:#fff}section{border:0;break-inside:avoid}}
"""


# -- figures -------------------------------------------------------------------------


def figure_to_png(fig, dpi=100, close=True):
    """Render a matplotlib figure to PNG bytes (and close it by default)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return buffer.getvalue()


def standard_figures(signal, dpi=100, metric=None):
    """Render the report's figures of a signal's cluster analysis.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    dpi : float
        Resolution of the PNGs.
    metric : bool or None
        Include the number-of-clusters curve; ``None`` includes it when an
        estimate is stored with the signal.

    Returns
    -------
    dict
        PNG bytes keyed ``"overview"``, ``"labels"``, ``"signals"``,
        ``"distances"``, ``"membership"`` (soft clustering only) and
        ``"metric"``.
    """
    from . import plotting

    result = get_cluster_result(signal)
    figures = {
        "overview": plotting.plot_cluster_results(signal),
        "labels": plotting.plot_cluster_labels(signal, binary=True),
        "signals": plotting.plot_cluster_signals(signal, "mean"),
        "distances": plotting.plot_cluster_distances(signal),
    }
    if result.membership is not None:
        figures["membership"] = plotting.plot_cluster_membership(signal)
    if _stored_metric(signal, metric) is not None:
        figures["metric"] = metric_figure(signal)
    return {key: figure_to_png(fig, dpi) for key, fig in figures.items()}


def metric_figure(signal):
    """The number-of-clusters curve, sized for the report."""
    import matplotlib.pyplot as plt

    from .estimate import plot_cluster_metric

    fig, ax = plt.subplots(figsize=(5.6, 3.6), layout="constrained")
    plot_cluster_metric(signal, ax=ax)
    return fig


def _png_bytes(value):
    """PNG bytes from bytes, a path or a matplotlib figure."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, (str, Path)):
        data = Path(value).read_bytes()
    elif hasattr(value, "savefig"):
        data = figure_to_png(value, close=False)
    else:
        raise TypeError(
            "A figure must be PNG bytes, the path of a PNG file or a matplotlib "
            f"figure, not {type(value).__name__}."
        )
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("A figure given to the report is not a PNG image.")
    return data


def _png_size(data):
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _img(data, alt):
    width, height = _png_size(data)
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<img src="{uri}" width="{width}" height="{height}" alt="{_e(alt)}">'


def _figure(data, caption):
    return (
        f"<figure>{_img(data, caption)}<figcaption>{_e(caption)}</figcaption></figure>"
    )


# -- helpers -----------------------------------------------------------------------


def _e(value):
    return html.escape(str(value), quote=True)


def _value(value):
    """A parameter value as HTML."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True)
    elif value is None:
        text = "None"
    else:
        text = str(value)
    return f"<code>{_e(text)}</code>"


def _table(rows, header=None):
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
    for key, value in rows:
        out.append(f'<tr><th scope="row">{_e(key)}</th><td>{value}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _ordered(parameters, order, skip=()):
    keys = [k for k in order if k in parameters]
    keys += sorted(k for k in parameters if k not in order)
    return [(k, parameters[k]) for k in keys if k not in skip]


def _stored_metric(signal, include):
    if include is False:
        return None
    from .estimate import get_cluster_metric

    try:
        return get_cluster_metric(signal)
    except RuntimeError:
        if include:
            raise
        return None


def _hex(color):
    from matplotlib.colors import to_hex

    return to_hex(color)


def _features_text(parameters):
    kind = parameters.get("cluster_source_kind")
    n = parameters.get("number_of_components")
    if kind in ("decomposition", "bss") and n:
        name = "decomposition" if kind == "decomposition" else "BSS"
        return f"{n} {name} components"
    if kind == "signal":
        return "the signal"
    return str(parameters.get("cluster_source", "?"))


# -- sections -------------------------------------------------------------------------


def _summary_rows(result, metric):
    parameters = result.parameters
    preprocessing = parameters.get("preprocessing")
    if metric is not None:
        how = f"estimated with {metric.metric} (k = {int(metric.ks[0])} to {int(metric.ks[-1])})"
    elif parameters.get("algorithm") in ("dbscan", "hdbscan"):
        how = "found by the algorithm"
    else:
        how = "given"
    rows = [
        ("features", _e(_features_text(parameters))),
        ("preprocessing", _e(preprocessing if preprocessing is not None else "none")),
        ("algorithm", _e(parameters.get("algorithm", "?"))),
        ("number of clusters", f"<b>{result.n_clusters}</b>, {_e(how)}"),
        ("random seed", _e(parameters.get("random_state", "?"))),
    ]
    return _table(rows)


def _sizes_section(result, metric=None):
    from .plotting import cluster_colors

    colors = cluster_colors(result.n_clusters)
    total = int(result.labels.size)
    rows = []
    for i, count in enumerate(result.counts):
        share = 100.0 * int(count) / total if total else 0.0
        rows.append(
            f'<tr><td><span class="swatch" style="background:{_hex(colors[i])}">'
            f'</span>{i}</td><td class="num">{int(count)}</td>'
            f'<td class="num">{share:.1f} %</td></tr>'
        )
    for label, name, count in (
        (NOISE, "noise", result.noise_count),
        (MASKED, "masked", result.masked_count),
    ):
        if count:
            rows.append(
                f'<tr><td>{label} ({name})</td><td class="num">{count}</td>'
                f'<td class="num">{100.0 * count / total:.1f} %</td></tr>'
            )
    rows.append(
        f'<tr class="total"><td>all</td><td class="num">{total}</td>'
        '<td class="num">100.0 %</td></tr>'
    )
    return (
        '<section id="sizes"><h2>Cluster sizes</h2>'
        '<p class="lead">Labels are ordered by size, largest first; the colours '
        "are those of every figure.</p>"
        '<table><tr><th>Cluster</th><th class="num">Positions</th>'
        '<th class="num">Share</th></tr>'
        + "".join(rows)
        + "</table><h3>Summary</h3>"
        + _summary_rows(result, metric)
        + "</section>"
    )


def _metric_section(metric, png):
    name = _METRIC_NAMES.get(metric.metric, metric.metric)
    ks = [int(k) for k in metric.ks]
    text = (
        f'<p class="lead">k = <b>{metric.n_clusters}</b>, estimated with {_e(name)} '
        f"for k = {ks[0]} to {ks[-1]} (rule: {_e(metric.rule)}).</p>"
    )
    if metric.n_clusters == ks[-1] and len(ks) > 1:
        text += (
            '<p class="note">The estimate is the largest k tried: the curve has '
            "no clear optimum in this range. Try a larger maximum or another "
            "metric, and judge the clusters by eye.</p>"
        )
    figure = _figure(png, _CAPTIONS["metric"]) if png is not None else ""
    header = ["k", metric.metric] + (
        ["\u00b1 s(k)"] if metric.errors is not None else []
    )
    rows = []
    for i, k in enumerate(ks):
        cells = [str(k), f"{metric.values[i]:.4g}"]
        if metric.errors is not None:
            cells.append(f"{metric.errors[i]:.3g}")
        chosen = ' class="chosen"' if k == metric.n_clusters else ""
        rows.append(
            f"<tr{chosen}>"
            + "".join(f'<td class="num">{_e(c)}</td>' for c in cells)
            + "</tr>"
        )
    table = (
        "<details><summary>Values</summary><table><tr>"
        + "".join(f'<th class="num">{_e(h)}</th>' for h in header)
        + "</tr>"
        + "".join(rows)
        + "</table></details>"
    )
    return (
        '<section id="n-clusters"><h2>Number of clusters</h2>'
        + text
        + figure
        + table
        + "</section>"
    )


def _fixed_k_section(result):
    return (
        '<section id="n-clusters"><h2>Number of clusters</h2>'
        f'<p class="lead">k = <b>{result.n_clusters}</b> '
        f"({_e(result.parameters.get('algorithm', '?'))}); the number of clusters "
        "was given, not estimated.</p></section>"
    )


def _parameters_section(result, metric, info):
    parts = ['<section id="parameters"><h2>Parameters</h2>']
    for title, entries in (info or {}).items():
        if entries:
            parts.append(f"<h3>{_e(title)}</h3>")
            parts.append(_table([(k, _value(v)) for k, v in entries.items()]))
    parts.append("<h3>Cluster analysis</h3>")
    parts.append(
        _table(
            [
                (k, _value(v))
                for k, v in _ordered(
                    result.parameters, _PARAMETER_ORDER, skip=("cluster_source_kind",)
                )
            ]
        )
    )
    if metric is not None:
        parts.append("<h3>Number-of-clusters estimate</h3>")
        parts.append(
            _table(
                [
                    (k, _value(v))
                    for k, v in _ordered(
                        metric.parameters,
                        _METRIC_PARAMETER_ORDER,
                        skip=(
                            "cluster_source",
                            "cluster_source_kind",
                            "preprocessing",
                            "preprocessing_kwargs",
                            "number_of_components",
                            "signal_title",
                            "date",
                        ),
                    )
                    if v is not None
                ]
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _versions_section(result, files):
    versions = dict(result.versions)
    versions.setdefault("python", platform.python_version())
    try:
        import matplotlib

        versions.setdefault("matplotlib", matplotlib.__version__)
    except ImportError:  # pragma: no cover - a dependency
        pass
    versions["platform"] = platform.platform(terse=True)
    parts = [
        '<section id="versions"><h2>Versions</h2>',
        _table([(k, _value(v)) for k, v in versions.items()]),
    ]
    if files:
        parts.append('<h3>Files</h3><ul class="files">')
        for name, description in files:
            parts.append(
                f'<li><a href="{_e(name)}"><code>{_e(name)}</code></a>'
                + (f": {_e(description)}" if description else "")
                + "</li>"
            )
        parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


# -- the page ---------------------------------------------------------------------------


def render_report(
    signal,
    figures=None,
    title=None,
    info=None,
    files=None,
    command=None,
    notes=None,
    metric=None,
):
    """Return the HTML text of the report (see :func:`write_report`)."""
    from . import __version__

    result = get_cluster_result(signal)
    metric_result = _stored_metric(signal, metric)
    if figures is None:
        figures = standard_figures(signal, metric=metric_result is not None)
    pngs = {key: _png_bytes(value) for key, value in dict(figures).items()}
    parameters = result.parameters
    if title is None:
        title = signal.metadata.General.title or "signal"
    when = (
        parameters.get("date")
        or datetime.datetime.now(datetime.timezone.utc).isoformat()
    )
    when = str(when)[:19].replace("T", " ") + " UTC"
    preprocessing = parameters.get("preprocessing")
    subtitle = (
        f"{result.n_clusters} clusters \u00b7 {parameters.get('algorithm', '?')} on "
        f"{_features_text(parameters)} \u00b7 preprocessing "
        f"{preprocessing if preprocessing is not None else 'none'} \u00b7 "
        f"{result.labels.size} positions \u00b7 {when}"
    )

    body = [
        f"<header><h1>Cluster analysis: {_e(title)}</h1><p>{_e(subtitle)}</p></header><main>"
    ]
    for note in notes or ():
        body.append(f'<p class="note">{_e(note)}</p>')
    if "overview" in pngs:
        body.append(
            '<section id="overview"><h2>Overview</h2>'
            + _figure(pngs["overview"], _CAPTIONS["overview"])
            + "</section>"
        )
    body.append('<div class="row">')
    body.append(_sizes_section(result, metric_result))
    if metric_result is not None:
        body.append(_metric_section(metric_result, pngs.get("metric")))
    else:
        body.append(_fixed_k_section(result))
    body.append("</div>")
    body.append('<div class="row">')
    body.append(_parameters_section(result, metric_result, info))
    body.append(_versions_section(result, files))
    body.append("</div>")
    others = [k for k in _SECTION_ORDER if k in pngs]
    others += [k for k in pngs if k not in _CAPTIONS]
    if others:
        body.append('<section id="figures"><h2>Figures</h2>')
        for key in others:
            body.append(_figure(pngs[key], _CAPTIONS.get(key, key)))
        body.append("</section>")
    body.append("</main><footer>")
    body.append(f"Written by clusterspy {_e(__version__)}")
    if command:
        body.append(f" with <code>{_e(command)}</code>")
    body.append(". This page is self-contained: it needs no network and no script.")
    body.append("</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="clusterspy ' + _e(__version__) + '">'
        '<link rel="icon" href="data:,">'
        f"<title>clusterspy report: {_e(title)}</title>"
        f"<style>{_CSS}</style></head>\n<body>" + "\n".join(body) + "</body></html>\n"
    )


def write_report(
    signal,
    path,
    figures=None,
    title=None,
    info=None,
    files=None,
    command=None,
    notes=None,
    metric=None,
):
    """Write a self-contained HTML report of a signal's cluster analysis.

    The page embeds its figures as base64 PNG ``data:`` URIs and its style
    inline; it has no script and references nothing outside itself, so it
    can be mailed and opened in any browser without Python or network.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run (and, optionally,
        ``estimate_number_of_clusters``).
    path : str or pathlib.Path
        The HTML file to write.
    figures : mapping or None
        PNG bytes, PNG file paths or matplotlib figures, keyed
        ``"overview"``, ``"metric"``, ``"labels"``, ``"signals"``,
        ``"distances"``, ``"membership"`` or any other name (shown with the
        name as caption). ``None`` renders :func:`standard_figures`.
    title : str or None
        Shown in the header; default the signal's title.
    info : mapping or None
        Extra parameter tables, ``{section title: {name: value}}``, shown
        before the cluster analysis parameters (the input file, the
        decomposition, ...).
    files : sequence of (str, str) or None
        Files to list with links, as ``(relative path, description)``.
    command : str or None
        The command line that produced the result, shown in the footer.
    notes : sequence of str or None
        Highlighted notes shown under the header.
    metric : bool or None
        Show the number-of-clusters estimate stored with the signal;
        ``None`` shows it when there is one.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import clusterspy
    >>> from clusterspy.report import write_report
    >>> s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_report(s, pathlib.Path(folder) / "report.html")
    ...     "data:image/png;base64," in path.read_text()
    True
    """
    text = render_report(
        signal,
        figures=figures,
        title=title,
        info=info,
        files=files,
        command=command,
        notes=notes,
        metric=metric,
    )
    path = Path(path)
    with naming(path):
        _write_atomically(path, text.encode("utf-8"))
    return path


def _write_atomically(path, data):
    """Write ``data`` to a temporary file next to ``path``, then rename it.

    A full disk or an interrupt leaves ``path`` as it was (absent, or the
    previous report), never a truncated page.
    """
    import os
    import tempfile

    fd, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask():
    """The process's umask, read without changing it (os.umask would, for a
    moment, in every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022
