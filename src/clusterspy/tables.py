"""Per-cluster tables: area fractions, counts per pixel and X-ray line
intensities, as a small pandas-free structure (:class:`ClusterTable`) that
writes CSV and HTML.

:func:`get_cluster_table` is the API (``s.clusterspy.get_cluster_table()``);
:meth:`~clusterspy.ClusterTable.to_html` and :func:`format_percent` are the building
blocks of the report, :meth:`~clusterspy.ClusterTable.to_csv` of the exported files.
"""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass, field

import numpy as np

from ._utils.text import format_percent
from .plotting.elements import plural
from .results import MASKED, NOISE, UNASSIGNED, get_cluster_result

__all__ = ["ClusterTable", "get_cluster_table", "format_percent", "plural"]


@dataclass
class ClusterTable:
    """Columns of per-cluster values, one row per cluster.

    Attributes
    ----------
    columns : dict
        Column name to a 1-D NumPy array, in display order. Always
        ``cluster``, ``pixels``, ``area_fraction``, ``area_fraction_se``
        and ``counts_per_pixel``; for EDS, one column per X-ray line (the
        line intensity of the cluster's summed spectrum, exspy's
        ``get_lines_intensity``).
    descriptions : dict
        Column name to a one-line description (with units).
    notes : dict
        Positions in no cluster: ``noise``, ``unassigned``, ``masked``.
    colors : list or None
        The clusters' colours (hex) for HTML swatches.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> table = s.clusterspy.get_cluster_table()
    >>> int(table["pixels"].sum())
    64
    >>> table.to_csv().splitlines()[0]
    'cluster,pixels,area_fraction,area_fraction_se,counts_per_pixel'
    """

    columns: dict
    descriptions: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    colors: list | None = None

    def __getitem__(self, name):
        return self.columns[name]

    def __len__(self):
        return len(self.columns["cluster"])

    @property
    def names(self):
        """Column names, in order."""
        return list(self.columns)

    @property
    def line_names(self):
        """The X-ray line columns (empty when there are none)."""
        fixed = {"cluster", "pixels", "area_fraction", "area_fraction_se"}
        return [n for n in self.columns if n not in fixed | {"counts_per_pixel"}]

    def rows(self):
        """The rows as dictionaries (column name to Python number)."""
        return [
            {name: values[r].item() for name, values in self.columns.items()}
            for r in range(len(self))
        ]

    def to_dict(self):
        """Column name to a list of Python numbers (JSON-ready)."""
        return {name: values.tolist() for name, values in self.columns.items()}

    def to_csv(self, path=None):
        """Write the table as CSV (full precision), or return it as text.

        Parameters
        ----------
        path : str, path-like or None
            File to write; None returns the CSV text.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.names)
        for row in self.rows():
            writer.writerow(
                repr(v) if isinstance(v, float) else v for v in row.values()
            )
        text = buffer.getvalue()
        if path is None:
            return text
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        return path

    def to_html(self, caption=None):
        """The table as an HTML ``<table>`` string for reports and notebooks.

        Area fractions as percentages with their standard error
        (:func:`format_percent`), counts per pixel and line intensities to
        four significant digits, a swatch of each cluster's colour, and a
        footer naming positions in no cluster.
        """
        heads = ["Cluster", "Pixels", "Area fraction", "Counts per pixel"]
        heads += [n.replace("_", " ") for n in self.line_names]
        titles = [
            self.descriptions.get(n, "")
            for n in ("cluster", "pixels", "area_fraction", "counts_per_pixel")
        ] + [self.descriptions.get(n, "") for n in self.line_names]
        out = ['<table class="clusterspy-table">']
        if caption:
            out.append(f"<caption>{html.escape(caption)}</caption>")
        out.append(
            "<thead><tr>"
            + "".join(
                f'<th title="{html.escape(t)}">{html.escape(h)}</th>'
                for h, t in zip(heads, titles, strict=True)
            )
            + "</tr></thead><tbody>"
        )
        for r in range(len(self)):
            cluster = int(self["cluster"][r])
            swatch = ""
            if self.colors is not None:
                swatch = (
                    '<span class="swatch" style="display:inline-block;width:0.9em;'
                    f'height:0.9em;background:{self.colors[cluster]}"></span> '
                )
            cells = [
                f"{swatch}{cluster}",
                f"{int(self['pixels'][r])}",
                format_percent(
                    float(self["area_fraction"][r]), float(self["area_fraction_se"][r])
                ),
                _number(self["counts_per_pixel"][r]),
            ] + [_number(self[n][r]) for n in self.line_names]
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append("</tbody>")
        footer = self.footer()
        if footer:
            out.append(
                f'<tfoot><tr><td colspan="{len(heads)}">{html.escape(footer)}'
                "</td></tr></tfoot>"
            )
        out.append("</table>")
        return "".join(out)

    def footer(self):
        """One sentence on the positions in no cluster, or ``""``."""
        parts = [
            f"{plural(n, 'position')} {what}" for what, n in self.notes.items() if n
        ]
        return ("Not in any cluster: " + ", ".join(parts) + ".") if parts else ""

    def __repr__(self):
        names = self.names
        widths = [max(len(n), 10) for n in names]
        lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True))]
        for row in self.rows():
            lines.append(
                "  ".join(
                    _number(v).rjust(w)
                    for v, w in zip(row.values(), widths, strict=True)
                )
            )
        return "\n".join(lines)


def _number(value):
    value = float(value)
    if not math.isfinite(value):
        return "n/a"
    if value.is_integer() and abs(value) < 1e7:
        return f"{int(value)}"
    return f"{value:.4g}"


def _line_intensities(signal, result, xray_lines, integration_windows):
    """Line intensities of each cluster's summed spectrum, with exspy; {}
    when the cluster signals are not EDS spectra with lines to measure."""
    from .signals import cluster_signals

    sums = cluster_signals(signal, result, "sum")
    if not hasattr(sums, "get_lines_intensity"):
        if xray_lines is not None:
            raise ValueError(
                "`xray_lines` needs EDS cluster signals (an exspy EDS spectrum); "
                f"these are {type(sums).__name__}."
            )
        return {}
    sample = sums.metadata.get_item("Sample", None)
    if xray_lines is None and (
        sample is None
        or not (sample.has_item("xray_lines") or sample.has_item("elements"))
    ):
        return {}
    maps = sums.get_lines_intensity(
        xray_lines=xray_lines, integration_windows=integration_windows
    )
    out = {}
    for image in maps:
        name = image.metadata.Sample.xray_lines[0]
        out[name] = np.asarray(image.data, dtype=float).reshape(-1)
    return out


def get_cluster_table(signal, xray_lines=None, integration_windows=2.0, cmap=None):
    """Return a per-cluster table of sizes, area fractions and intensities.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    xray_lines : None or list of str
        X-ray lines to measure in each cluster's summed spectrum (EDS);
        None: the signal's ``metadata.Sample.xray_lines`` (or the lines of
        its elements), no line columns when it names none.
    integration_windows : float
        Width of the integration windows in FWHM of the line (exspy's
        ``get_lines_intensity``).
    cmap : None, str, Colormap or list of colours
        Colours of the HTML swatches, see :func:`clusterspy.cluster_colors`.

    Returns
    -------
    ClusterTable
        ``area_fraction`` is the share of the analysed (not masked)
        positions; ``area_fraction_se`` its binomial standard error
        ``sqrt(p (1 - p) / n)``; ``counts_per_pixel`` the mean total
        intensity of a member (the cluster's summed signal over all
        channels divided by its size).

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    >>> table = clusterspy.get_cluster_table(s)
    >>> float(table["area_fraction"].sum())
    1.0
    """
    from .plotting.colors import cluster_colors

    result = get_cluster_result(signal)
    k = result.n_clusters
    counts = np.asarray(result.counts, dtype=np.int64)
    analysed = int(np.count_nonzero(result.labels != MASKED))
    fraction = counts / analysed if analysed else np.full(k, np.nan)
    se = np.sqrt(fraction * (1 - fraction) / analysed) if analysed else fraction
    total = np.asarray(result.signal_sum, dtype=float).reshape(k, -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_pixel = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    lines = _line_intensities(signal, result, xray_lines, integration_windows)
    columns = {
        "cluster": np.arange(k, dtype=np.int64),
        "pixels": counts,
        "area_fraction": fraction,
        "area_fraction_se": se,
        "counts_per_pixel": per_pixel,
    }
    columns.update(lines)
    descriptions = {
        "cluster": "Cluster id (largest first)",
        "pixels": "Navigation positions in the cluster",
        "area_fraction": "Share of the analysed positions",
        "area_fraction_se": "Binomial standard error of the area fraction",
        "counts_per_pixel": "Mean total intensity of a member (all channels)",
    }
    for name in lines:
        descriptions[name] = f"{name} line intensity of the cluster's summed spectrum"
    from matplotlib.colors import to_hex

    colors = [to_hex(c) for c in cluster_colors(k, cmap)]
    notes = {
        "noise": int(np.count_nonzero(result.labels == NOISE)),
        "unassigned": int(np.count_nonzero(result.labels == UNASSIGNED)),
        "masked": int(np.count_nonzero(result.labels == MASKED)),
    }
    return ClusterTable(columns, descriptions, notes, colors)
