"""A self-contained HTML report of a cluster analysis.

:func:`write_report` writes one HTML file that holds everything a colleague
needs to read the result: the figures (embedded as base64 PNG ``data:``
URIs), the reference (electron or survey) image of the file beside the label
map, the cluster sizes in the clusters' colours, the element table of EDS
maps, the counts per pixel of count data, the scree plot of the
decomposition that was clustered, every number-of-clusters curve that was
computed, every parameter and the package versions.
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
from .plotting.elements import plural
from .results import MASKED, NOISE, get_cluster_result
from .tables import format_percent
from .validation import check_bool

__all__ = [
    "render_report",
    "write_report",
    "standard_figures",
    "figure_to_png",
    "counts_per_pixel",
    "scree_figure",
    "metric_figure",
]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Figures the report places itself, with their captions; any other key goes
#: to the "Figures" section with the key as caption.
_CAPTIONS = {
    "overview": "Overview: the label map, the mean signal of each cluster and the "
    "cluster sizes, in the clusters' colours.",
    "metric": "Number-of-clusters metric against k; the dashed line marks the "
    "estimated k, the gold point the k that was clustered.",
    "reference": "The reference image of the same area (left) beside the label "
    "map (right).",
    "scree": "Scree plot of the decomposition: the explained variance of each "
    "component; filled points are the components that were clustered.",
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
section.warnings{background:#fdecea;border:1px solid #e0a0a0;border-left:6px solid #c62828}
section.warnings h2{color:#8e1b1b}
section.warnings ul{margin:0;padding-left:20px}
table.clusterspy-table td:not(:first-child),table.clusterspy-table th:not(:first-child){
 text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
table.clusterspy-table td,table.clusterspy-table th{white-space:nowrap;padding:3px 6px}
table.clusterspy-table tfoot td{color:#59606b;font-size:13px;text-align:left}
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


def standard_figures(signal, dpi=100, metric=None, reference=None, metrics=None):
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
    reference : BaseSignal or None
        The reference image of the same area (the electron image of a
        ``.bcf``, see :func:`clusterspy.plotting.reference.find_reference_image`),
        drawn beside the label map.
    metrics : dict, list or None
        Several number-of-clusters estimates (``ClusterMetric``), drawn
        side by side; None: the stored one (see ``metric``).

    Returns
    -------
    dict
        PNG bytes keyed ``"overview"``, ``"reference"`` (with a reference
        image), ``"labels"``, ``"signals"``, ``"distances"``,
        ``"membership"`` (soft clustering only), ``"scree"`` (when a
        decomposition was clustered) and ``"metric"``.
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
    pngs = {key: figure_to_png(fig, dpi) for key, fig in figures.items()}
    items = _metrics(signal, metric, metrics)
    pngs.update(_context_figures(signal, pngs, reference, items, dpi))
    return pngs


def _context_figures(signal, present, reference, metrics, dpi=100, scree=True):
    """The reference image, scree and metric figures not in ``present``."""
    out = {}
    if reference is not None and "reference" not in present:
        fig = reference_figure(signal, reference)
        if fig is not None:
            out["reference"] = figure_to_png(fig, dpi)
    if scree and "scree" not in present:
        fig = scree_figure(signal)
        if fig is not None:
            out["scree"] = figure_to_png(fig, dpi)
    if metrics and "metric" not in present:
        out["metric"] = figure_to_png(metric_figure(signal, dict(metrics)), dpi)
    return out


def reference_figure(signal, reference):
    """The reference image beside the label map, or None when the map is not
    2-D or ``reference`` is not an image."""
    from .plotting.reference import plot_reference_image

    if (
        signal.axes_manager.navigation_dimension != 2
        or reference.axes_manager.signal_dimension != 2
    ):
        return None
    fig = plot_reference_image(signal, reference)
    # Two images of the map's aspect side by side: no band of white above
    # and below a wide map.
    nx, ny = signal.axes_manager.navigation_shape[:2]
    height = min(max(0.9 + 2.9 * ny / max(nx, 1), 2.4), 5.0)
    fig.set_size_inches(9.0, height)
    return fig


def _explained_variance(signal):
    """``(explained variance, components clustered)`` of the decomposition
    the clustering used, or None (the signal itself was clustered)."""
    import numpy as np

    parameters = get_cluster_result(signal).parameters
    kind = parameters.get("cluster_source_kind")
    if kind == "pca":
        model = (parameters.get("pca") or {}).get("model") or {}
        variance = model.get("explained_variance")
        if variance is None:
            return None
        variance = np.asarray(variance, dtype=float)
        return variance, variance.size
    if kind in ("decomposition", "bss"):
        variance = getattr(signal.learning_results, "explained_variance", None)
        if variance is None:
            return None
        used = int(parameters.get("number_of_components") or 0)
        return np.asarray(variance, dtype=float), used
    return None


def scree_figure(signal):
    """The scree plot of the decomposition that was clustered, or None.

    HyperSpy's decomposition (``"decomposition"`` and ``"bss"`` sources)
    shows up to 30 components, the clustered ones filled; clusterspy's
    ``"pca"`` source stores the variance of the clustered components only
    (``result.parameters["pca"]["model"]``).

    Examples
    --------
    >>> import clusterspy
    >>> from clusterspy.report import scree_figure
    >>> s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=32)
    >>> s.clusterspy.cluster_analysis("pca", number_of_components=3,
    ...                               n_clusters=3, random_state=0)
    >>> scree_figure(s).axes[0].get_title()
    'Scree plot'
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    found = _explained_variance(signal)
    if found is None:
        return None
    variance, used = found
    fig, ax = plt.subplots(figsize=(5.6, 3.6), layout="constrained")
    kind = get_cluster_result(signal).parameters.get("cluster_source_kind")
    if kind == "decomposition":
        from .plotting.reference import plot_scree

        plot_scree(signal, ax=ax)
    else:
        _scree_pca(ax, variance, used)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _scree_pca(ax, variance, used):
    from .plotting.reference import draw_scree

    total = variance.sum()
    ratio = variance / total if total > 0 else variance
    draw_scree(ax, ratio[:30], used)


def metric_figure(signal, metrics=None):
    """The number-of-clusters curves side by side, sized for the report.

    Parameters
    ----------
    signal : BaseSignal
        The analysed signal (its cluster result, when there is one, gives the
        k that was clustered, marked on every curve).
    metrics : dict, list, ClusterMetric or None
        The estimates to draw; None: the one stored with the signal.

    Examples
    --------
    >>> import clusterspy
    >>> from clusterspy.report import metric_figure
    >>> s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=32)
    >>> k = s.clusterspy.estimate_number_of_clusters(
    ...     "signal", max_clusters=4, metric="elbow", random_state=0)
    >>> metric_figure(s).axes[0].get_xlabel()
    'Number of clusters k'
    """
    import math

    import matplotlib.pyplot as plt

    items = _metrics(signal, True if metrics is None else None, metrics)
    try:
        chosen = get_cluster_result(signal).n_clusters
    except RuntimeError:
        chosen = None
    ncols = min(len(items), 3)
    nrows = math.ceil(len(items) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(5.6 if ncols == 1 else 4.0 * ncols, 3.6 * nrows),
        layout="constrained",
        squeeze=False,
    )
    for ax, (name, metric) in zip(axes.ravel(), items, strict=False):
        _plot_metric(ax, name, metric, chosen)
    for ax in axes.ravel()[len(items) :]:
        ax.set_visible(False)
    return fig


def _plot_metric(ax, name, metric, chosen):
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    from .estimate.plots import _LABELS

    ks = np.asarray(metric.ks)
    values = np.asarray(metric.values, dtype=float)
    if metric.errors is not None:
        ax.errorbar(ks, values, yerr=metric.errors, fmt="o-", capsize=3)
    else:
        ax.plot(ks, values, "o-")
    ax.axvline(
        metric.n_clusters,
        color="0.3",
        linestyle="--",
        label=f"estimate: k = {metric.n_clusters}",
    )
    if chosen is not None and chosen in ks:
        i = int(np.flatnonzero(ks == chosen)[0])
        ax.plot(
            [chosen],
            [values[i]],
            "o",
            markersize=11,
            markerfacecolor="#f2c200",
            markeredgecolor="0.2",
            zorder=3,
            label=f"clustered: k = {chosen}",
        )
    ax.set_xlabel("Number of clusters k")
    ax.set_ylabel(_LABELS.get(metric.metric, metric.metric))
    title = name if name == metric.metric else f"{name} ({metric.metric})"
    ax.set_title(f"{title}: {metric.rule}", fontsize="small")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", fontsize="small")


def _metrics(signal, include, metrics):
    """``[(name, ClusterMetric), ...]``: ``metrics`` (a dict, a list or one
    estimate) or, when None, the stored estimate (see ``include``)."""
    from .estimate.result import ClusterMetric

    if metrics is None:
        stored = _stored_metric(signal, include)
        return [] if stored is None else [(stored.metric, stored)]
    if isinstance(metrics, ClusterMetric):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = [(str(k), v) for k, v in metrics.items()]
    elif isinstance(metrics, (list, tuple)):
        items = [(getattr(m, "metric", "?"), m) for m in metrics]
    else:
        raise TypeError(
            "`metrics` must be a dict of name to ClusterMetric, a list of "
            f"ClusterMetric or None, not {type(metrics).__name__}."
        )
    for name, m in items:
        if not isinstance(m, ClusterMetric):
            raise TypeError(
                f"`metrics` must hold ClusterMetric objects; {name!r} is "
                f"{type(m).__name__}."
            )
    return items


# -- counts per pixel ----------------------------------------------------------------

#: Below this median of counts per position a map is sparse and the report
#: suggests binning: a spectrum of fewer counts has only a few counts in its
#: strongest lines, and clusters then follow the noise.
SPARSE_MEDIAN = 100
#: Above this share of positions without a single count, likewise.
SPARSE_EMPTY = 0.05


#: Floats this close to a whole number count as counts: HyperSpy's
#: decomposition with Poisson normalisation scales the data in place and back,
#: which leaves float32 counts a few ulp (1e-4 at 1000) off.
_WHOLE_TOLERANCE = 1e-2


def counts_per_pixel(signal):
    """Total counts of each navigation position of count data, with a summary.

    Parameters
    ----------
    signal : BaseSignal
        Eager or lazy. Count data are non-negative whole numbers (an
        integer dtype, or floats that all hold whole numbers to within
        0.01, as after ``change_dtype("float32")`` and a decomposition).

    Returns
    -------
    dict or None
        None when the data are not counts; otherwise ``totals`` (NumPy
        array, navigation shape in data order), ``median``, ``mean``,
        ``minimum``, ``maximum``, ``empty`` (positions without a count),
        ``empty_fraction``, ``filled_median`` (median of the positions with
        counts), ``positions``, ``sparse`` (bool: a median below
        ``SPARSE_MEDIAN`` counts or more than ``SPARSE_EMPTY`` empty
        positions) and ``binning`` (the navigation binning factor that
        brings the filled median to ``SPARSE_MEDIAN``, at most 8; 1 when
        none is needed).

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> from clusterspy.report import counts_per_pixel
    >>> s = hs.signals.Signal1D(np.array([[[0, 0], [1, 2]], [[3, 0], [0, 0]]]))
    >>> c = counts_per_pixel(s)
    >>> c["totals"].tolist(), c["median"], c["empty"]
    ([[0, 3], [3, 0]], 1.5, 2)
    """
    import numpy as np

    am = signal.axes_manager
    data = signal.data
    if am.navigation_dimension == 0 or data.dtype.kind not in "biuf":
        return None
    signal_axes = tuple(sorted(am.signal_indices_in_array))
    nav_axes = tuple(i for i in range(data.ndim) if i not in signal_axes)
    nav_shape = tuple(data.shape[i] for i in nav_axes)
    integer = data.dtype.kind in "biu"
    if signal._lazy:
        import dask
        import dask.array as da

        totals = data.sum(axis=signal_axes, dtype="float64")
        minimum = data.min()
        whole = (
            da.asarray(True)
            if integer
            else ~(abs(data - da.round(data)) > _WHOLE_TOLERANCE).any()
        )
        totals, minimum, whole = dask.compute(totals, minimum, whole)
    else:
        array = np.asarray(data)
        if signal_axes != tuple(range(len(nav_axes), data.ndim)):
            array = np.moveaxis(array, signal_axes, range(-len(signal_axes), 0))
        flat = array.reshape(int(np.prod(nav_shape)), -1)
        totals = np.empty(flat.shape[0], dtype="float64")
        minimum, whole = np.inf, True
        # Blocks of rows: no temporary the size of the map.
        step = max(1, 2**21 // max(flat.shape[1], 1))
        for start in range(0, flat.shape[0], step):
            block = flat[start : start + step]
            totals[start : start + step] = block.sum(axis=1, dtype="float64")
            if block.size:
                minimum = min(minimum, block.min())
                if not integer and whole:
                    whole = not np.any(
                        np.abs(block - np.round(block)) > _WHOLE_TOLERANCE
                    )
        totals = totals.reshape(nav_shape)
    if not (bool(whole) and np.isfinite(minimum) and minimum >= 0):
        return None
    totals = np.rint(np.asarray(totals)).astype(np.int64)
    median = float(np.median(totals))
    empty = int(np.count_nonzero(totals == 0))
    positions = int(totals.size)
    empty_fraction = empty / positions if positions else 0.0
    # Empty pixels are often outside the acquired area: the binning advice
    # is about the pixels that hold counts.
    filled = totals[totals > 0]
    filled_median = float(np.median(filled)) if filled.size else 0.0
    sparse = filled_median < SPARSE_MEDIAN or empty_fraction > SPARSE_EMPTY
    binning = 1
    if filled.size and filled_median < SPARSE_MEDIAN:
        # The smallest factor f whose f x f bins reach the threshold, at most 8.
        binning = 2
        while binning * binning * filled_median < SPARSE_MEDIAN and binning < 8:
            binning += 1
    return {
        "totals": totals,
        "median": median,
        "mean": float(totals.mean()),
        "minimum": int(totals.min()),
        "maximum": int(totals.max()),
        "empty": empty,
        "empty_fraction": empty_fraction,
        "filled_median": filled_median,
        "positions": positions,
        "sparse": bool(sparse),
        "binning": binning,
    }


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
        return plural(n, f"{name} component")
    if kind == "pca" and n:
        return plural(n, "PCA component")
    if kind == "signal":
        return "the signal"
    return str(parameters.get("cluster_source", "?"))


# -- sections -------------------------------------------------------------------------


def _summary_rows(result, metrics):
    parameters = result.parameters
    preprocessing = parameters.get("preprocessing")
    if metrics:
        names = ", ".join(m.metric for _, m in metrics)
        ks = [int(k) for _, m in metrics for k in (m.ks[0], m.ks[-1])]
        how = f"estimated with {names} (k = {min(ks)} to {max(ks)})"
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


def _sizes_section(result, metrics=()):
    from .plotting import cluster_colors

    colors = cluster_colors(result.n_clusters)
    total = int(result.labels.size)
    rows = []
    for i, count in enumerate(result.counts):
        share = int(count) / total if total else 0.0
        rows.append(
            f'<tr><td><span class="swatch" style="background:{_hex(colors[i])}">'
            f'</span>{i}</td><td class="num">{int(count)}</td>'
            f'<td class="num">{_e(format_percent(share))}</td></tr>'
        )
    for label, name, count in (
        (NOISE, "noise", result.noise_count),
        (MASKED, "masked", result.masked_count),
    ):
        if count:
            rows.append(
                f'<tr><td>{label} ({name})</td><td class="num">{count}</td>'
                f'<td class="num">{_e(format_percent(count / total))}</td></tr>'
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
        + _summary_rows(result, metrics)
        + "</section>"
    )


def _metric_section(metrics, png, chosen):
    texts = []
    for label, metric in metrics:
        name = _METRIC_NAMES.get(metric.metric, metric.metric)
        ks = [int(k) for k in metric.ks]
        several = len(metrics) > 1
        shown = f"{label}: " if several else ""
        texts.append(
            f'<p class="lead">{_e(shown)}k = <b>{metric.n_clusters}</b>, estimated '
            f"with {_e(name)} for k = {ks[0]} to {ks[-1]} (rule: "
            f"{_e(metric.rule)}).</p>"
        )
        if metric.n_clusters == ks[-1] and len(ks) > 1:
            which = f"{_e(metric.metric)} estimate" if several else "estimate"
            texts.append(
                f'<p class="note">The {which} is the largest k '
                "tried: the curve has no clear optimum in this range. Try a larger "
                "maximum or another metric, and judge the clusters by eye.</p>"
            )
    estimates = {int(m.n_clusters) for _, m in metrics}
    if len(estimates) > 1:
        texts.append(
            f'<p class="note">The metrics disagree (k = '
            f"{', '.join(str(k) for k in sorted(estimates))}); "
            f"{plural(chosen, 'cluster')} {'was' if chosen == 1 else 'were'} "
            "clustered.</p>"
        )
    figure = _figure(png, _CAPTIONS["metric"]) if png is not None else ""
    all_ks = sorted({int(k) for _, m in metrics for k in m.ks})
    header = ["k"]
    for label, metric in metrics:
        header.append(label)
        if metric.errors is not None:
            header.append("\u00b1 s(k)")
    rows = []
    for k in all_ks:
        cells = [str(k)]
        for _, metric in metrics:
            where = [i for i, v in enumerate(metric.ks) if int(v) == k]
            i = where[0] if where else None
            cells.append("" if i is None else f"{metric.values[i]:.4g}")
            if metric.errors is not None:
                cells.append("" if i is None else f"{metric.errors[i]:.3g}")
        row_class = ' class="chosen"' if k == chosen else ""
        rows.append(
            f"<tr{row_class}>"
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
    title = "Number of clusters" + (
        f" ({plural(len(metrics), 'metric')})" if len(metrics) > 1 else ""
    )
    return (
        f'<section id="n-clusters"><h2>{_e(title)}</h2>'
        + "".join(texts)
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


def _warnings_section(warnings):
    items = "".join(f"<li>{_e(w)}</li>" for w in warnings)
    title = "Warning" if len(warnings) == 1 else "Warnings"
    return (
        f'<section id="warnings" class="warnings" role="alert"><h2>{title}</h2>'
        f"<ul>{items}</ul></section>"
    )


def _reference_section(png, reference):
    name = reference.metadata.General.title if reference is not None else ""
    alt = f"Reference image{f' ({name})' if name else ''} beside the cluster label map"
    return (
        '<section id="reference"><h2>Reference image</h2>'
        f"<figure>{_img(png, alt)}<figcaption>{_e(_CAPTIONS['reference'])}"
        "</figcaption></figure></section>"
    )


def _elements_section(table):
    lines = ", ".join(n.replace("_", " ") for n in table.line_names)
    return (
        '<section id="elements"><h2>Element table</h2>'
        f'<p class="lead">Per cluster: positions, area fraction (\u00b1 its '
        "binomial standard error), mean counts per pixel and the intensity of "
        f"each X-ray line ({_e(lines)}) in the cluster's summed spectrum "
        "(exspy's <code>get_lines_intensity</code>). Also in "
        "<code>cluster_table.csv</code> when written by the command line.</p>"
        + '<div class="scroll">'
        + table.to_html()
        + "</div></section>"
    )


def _mixtures_section(mixtures, n_clusters):
    from matplotlib.colors import to_hex

    from .plotting.colors import cluster_colors

    colors = [to_hex(c) for c in cluster_colors(n_clusters)]
    if mixtures.counts:
        lead = (
            "Each cluster's summed spectrum against the best non-negative mix of "
            "the other clusters' (Poisson fit; shares of the mix's intensity), "
            "the window of channels where it differs most clearly, and the share "
            "of its intensity the mix leaves unexplained. <em>Mixture-like</em>: "
            f"not shown to differ from the mix by more than {mixtures.tolerance:.0%} "
            "in any window, on counts held out from the clustering, as an "
            "interface, a thin layer over a matrix or one phase cut in two would "
            "be; consider merging it (<code>merge_clusters</code>)."
        )
        like = mixtures.mixture_like
        if like:
            lead += (
                " <strong>Mixture-like here: "
                + ", ".join(f"cluster {c}" for c in like)
                + ".</strong>"
            )
    else:
        lead = (
            "Each cluster's summed signal against the best non-negative mix of the "
            "other clusters' (least squares; shares of the mix's intensity) and "
            "the share of its intensity the mix leaves unexplained. These data "
            "are not counts: there is no noise model to judge by, so no verdict."
        )
    return (
        '<section id="mixtures"><h2>Closest mixtures</h2>'
        f'<p class="lead">{lead}</p><div class="scroll">'
        + mixtures.to_html(colors)
        + "</div></section>"
    )


def _counts_section(counts):
    median = counts["median"]
    rows = [
        ("median", f"<b>{_e(_count_text(median))}</b>"),
        ("mean", _e(_count_text(counts["mean"]))),
        (
            "minimum \u2013 maximum",
            _e(f"{counts['minimum']} \u2013 {counts['maximum']}"),
        ),
        (
            "empty pixels",
            _e(
                f"{format_percent(counts['empty_fraction'])} "
                f"({counts['empty']} of {plural(counts['positions'], 'position')})"
            ),
        ),
    ]
    if counts["empty"]:
        rows.insert(
            1,
            (
                "median of the pixels with counts",
                _e(_count_text(counts["filled_median"])),
            ),
        )
    parts = [
        '<section id="counts"><h2>Counts per pixel</h2>',
        '<p class="lead">Total counts of each navigation position, summed over '
        "the channels.</p>",
        _table(rows),
    ]
    if counts["sparse"]:
        f = counts["binning"]
        advice = []
        if counts["empty_fraction"] > SPARSE_EMPTY:
            advice.append(
                f"{format_percent(counts['empty_fraction'])} of the pixels hold no "
                "count (outside the acquired area, or a very sparse map): they "
                "make a cluster of their own. Leave them out with a navigation "
                "mask (<code>navigation_mask</code>, True where a pixel is "
                "empty)."
            )
        if f > 1:
            filled = _count_text(counts["filled_median"])
            advice.append(
                f"The pixels with counts hold a median of {filled} counts: "
                "clusters of so few counts follow the noise more than the "
                f"composition. Consider binning {f}\u00d7{f} pixels before "
                f"clustering, e.g. <code>s.rebin(scale=({f}, {f}, 1))</code> "
                f"({f * f} times the counts per pixel), and a decomposition "
                "with Poisson normalisation (<code>--decomposition N</code>)."
            )
        parts.append(
            '<p class="note"><b>This map is very sparse.</b> '
            + " ".join(advice)
            + "</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _count_text(value):
    """A count for text: whole, or with one decimal (no exponent)."""
    value = float(value)
    return f"{int(value)}" if value.is_integer() else f"{value:.1f}"


def _scree_section(png):
    return (
        '<section id="scree"><h2>Decomposition</h2>'
        + _figure(png, _CAPTIONS["scree"])
        + "</section>"
    )


def _parameters_section(result, metrics, info):
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
    for label, metric in metrics:
        heading = "Number-of-clusters estimate" + (
            f": {label}" if len(metrics) > 1 else ""
        )
        parts.append(f"<h3>{_e(heading)}</h3>")
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
    *,
    reference=None,
    metrics=None,
    warnings=None,
    table=None,
    counts=True,
    mixtures=True,
):
    """Return the HTML text of the report (see :func:`write_report`)."""
    from . import __version__
    from .mixtures import ClusterMixtures, get_cluster_mixtures

    result = get_cluster_result(signal)
    if not isinstance(mixtures, ClusterMixtures):
        check_bool(mixtures, "mixtures")
    metric_items = _metrics(signal, metric, metrics)
    warnings = _check_warnings(warnings)
    if figures is None:
        pngs = standard_figures(
            signal,
            metric=bool(metric_items),
            reference=reference,
            metrics=dict(metric_items) if metric_items else None,
        )
    else:
        pngs = {key: _png_bytes(value) for key, value in dict(figures).items()}
        # Only what was asked for explicitly: a given mapping is the set
        # of figures the caller wants.
        pngs.update(
            _context_figures(
                signal,
                pngs,
                reference,
                metric_items if metrics is not None else None,
                scree=False,
            )
        )
    if table is None:
        table = _element_table(signal)
    elif table is False:
        table = None
    count_summary = counts_per_pixel(signal) if counts else None
    mixture_table = None
    if isinstance(mixtures, ClusterMixtures):
        mixture_table = mixtures
    elif mixtures and result.n_clusters > 1:
        mixture_table = get_cluster_mixtures(signal)
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
        f"{plural(result.n_clusters, 'cluster')} \u00b7 "
        f"{parameters.get('algorithm', '?')} on "
        f"{_features_text(parameters)} \u00b7 preprocessing "
        f"{preprocessing if preprocessing is not None else 'none'} \u00b7 "
        f"{plural(result.labels.size, 'position')} \u00b7 {when}"
    )

    body = [
        f"<header><h1>Cluster analysis: {_e(title)}</h1><p>{_e(subtitle)}</p></header><main>"
    ]
    if warnings:
        body.append(_warnings_section(warnings))
    for note in notes or ():
        body.append(f'<p class="note">{_e(note)}</p>')
    if "overview" in pngs:
        body.append(
            '<section id="overview"><h2>Overview</h2>'
            + _figure(pngs["overview"], _CAPTIONS["overview"])
            + "</section>"
        )
    if "reference" in pngs:
        body.append(_reference_section(pngs["reference"], reference))
    body.append('<div class="row">')
    body.append(_sizes_section(result, metric_items))
    if metric_items:
        body.append(
            _metric_section(metric_items, pngs.get("metric"), result.n_clusters)
        )
    else:
        body.append(_fixed_k_section(result))
    body.append("</div>")
    if table is not None and table.line_names:
        body.append(_elements_section(table))
    if mixture_table is not None:
        body.append(_mixtures_section(mixture_table, result.n_clusters))
    context = []
    if count_summary is not None:
        context.append(_counts_section(count_summary))
    if "scree" in pngs:
        context.append(_scree_section(pngs["scree"]))
    if context:
        body.append('<div class="row">' + "".join(context) + "</div>")
    body.append('<div class="row">')
    body.append(_parameters_section(result, metric_items, info))
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


def _check_warnings(warnings):
    if warnings is None:
        return []
    if isinstance(warnings, str) or not all(isinstance(w, str) for w in warnings):
        raise TypeError("`warnings` must be a list of strings or None.")
    return list(warnings)


def _element_table(signal):
    """The per-cluster table with X-ray line intensities of an EDS map, or
    None (not EDS, no lines named, or exspy cannot measure them)."""
    from .plotting.elements import signal_lines
    from .tables import get_cluster_table

    if not signal_lines(signal):  # not EDS/EELS, no elements named, no exspy
        return None
    return get_cluster_table(signal)


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
    *,
    reference=None,
    metrics=None,
    warnings=None,
    table=None,
    counts=True,
    mixtures=True,
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
        ``"overview"``, ``"reference"``, ``"metric"``, ``"scree"``,
        ``"labels"``, ``"signals"``, ``"distances"``, ``"membership"`` or
        any other name (shown with the name as caption). ``None`` renders
        :func:`standard_figures`; the reference, scree and metric figures
        missing from a given mapping are rendered.
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
        ``None`` shows it when there is one (ignored when ``metrics`` is
        given).
    reference : BaseSignal or None
        The image of the same area (the electron image of a ``.bcf``, see
        :func:`clusterspy.plotting.reference.find_reference_image`), shown
        beside the label map.
    metrics : dict, list or None
        Several number-of-clusters estimates (``{name: ClusterMetric}`` or
        a list), their curves side by side with the clustered k marked.
    warnings : list of str or None
        Shown first, in a red box (a doubtful estimate, a sparse map...).
    table : ClusterTable, False or None
        The element table; None computes it for EDS maps whose elements
        or lines are known (:func:`clusterspy.tables.get_cluster_table`);
        False shows none.
    counts : bool
        Show the counts per pixel of count data (:func:`counts_per_pixel`).
    mixtures : bool or ClusterMixtures
        Show each cluster's closest mixture of the others
        (:func:`clusterspy.get_cluster_mixtures`): which clusters look like
        interfaces or mixtures rather than phases. A
        :class:`~clusterspy.ClusterMixtures` already computed is shown as it
        is.

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
        reference=reference,
        metrics=metrics,
        warnings=warnings,
        table=table,
        counts=counts,
        mixtures=mixtures,
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
