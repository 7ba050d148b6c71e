"""How close each cluster is to a mixture of the others.

An interface between two phases, a thin grain over a matrix or a thickness
gradient gives a cluster whose spectrum lies *between* others: a mixture,
not a phase of its own. :func:`get_cluster_mixtures` fits each cluster's
summed spectrum as the best non-negative mix of the other clusters' summed
spectra and says how far it is from that mix, and where.

For count data (EDS, EELS and CL counts: the cluster sums are non-negative
whole numbers) the fit and the window test are those of the Poisson split
rule behind ``n_clusters="auto"`` (:mod:`clusterspy.auto_k`): the mix is
fitted by Poisson maximum likelihood, and a cluster is *distinct* when, in at
least one window of adjacent channels, it differs from the mix by more than
``tolerance`` of the intensity, beyond the counting noise (Bonferroni over
the windows at level ``alpha``). Otherwise it is *mixture-like*: not shown
to differ from a mix by more than ``tolerance`` anywhere, and a candidate for
:func:`~clusterspy.merge_clusters`. The verdict is taken on counts held out
from the clustering (``_held_out_sums``); the weights, the window and the
unexplained share describe the whole sums.

Shot-noise data whose ``n_clusters="auto"`` was chosen on count
equivalents (a Raman or CL map, :mod:`clusterspy.noise`) are judged the
same way, on the count equivalents of their sums (the recorded gain). For
other data (processed spectra, images) there is no noise model to judge
by: the mix is fitted by non-negative least squares and the table gives the
weights and the share of the intensity the mix leaves unexplained, with no
verdict.
"""

from __future__ import annotations

import html
import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from ._utils.text import format_percent
from .results import get_cluster_result
from .signals import cluster_signals

__all__ = ["ClusterMixtures", "get_cluster_mixtures"]

#: Share of the clustered positions the fitted clustering must assign as the
#: result did, for a verdict on held-out counts.
_MIN_AGREEMENT = 0.95


@dataclass
class ClusterMixtures:
    """Each cluster's closest mixture of the other clusters.

    Attributes
    ----------
    weights : numpy.ndarray, shape (n_clusters, n_clusters)
        Row ``c``: the share of the mix's intensity that each other cluster
        gives (rows sum to 1; the diagonal is 0). NaN for a cluster that
        could not be fitted (empty, or no other cluster to mix).
    largest_difference : numpy.ndarray, shape (n_clusters,)
        Count data: ``(y - mix) / mix`` in the window where the cluster
        differs most clearly from its mix, signed (``+0.13``: 13 % more
        intensity than the mix there). Other data: NaN.
    window : list of tuple or None
        That window as ``(low, high)`` in the signal axis' units (channel
        edges), or None.
    unexplained : numpy.ndarray, shape (n_clusters,)
        ``sum |y - mix| / sum |y|``: the share of the cluster's intensity
        the mix leaves unexplained.
    distinct : numpy.ndarray of object, shape (n_clusters,)
        Count data: True when the cluster differs from every mix of the
        others by more than ``tolerance`` somewhere, beyond the noise;
        False when it is mixture-like. Other data: None.
    lines : list of list of str
        The element lines (EDS, EELS) inside each window.
    tolerance, alpha : float
        The verdict's settings.
    counts : bool
        Whether the cluster sums were judged as counts.
    units : str
        The signal axis' units.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image((16, 16), n_channels=64,
    ...                                        n_phases=3, counts=200,
    ...                                        random_state=0)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> mixtures = s.clusterspy.get_cluster_mixtures()
    >>> [bool(d) for d in mixtures.distinct]
    [True, True, True]
    """

    weights: np.ndarray
    largest_difference: np.ndarray
    window: list
    unexplained: np.ndarray
    distinct: np.ndarray
    lines: list
    tolerance: float
    alpha: float
    counts: bool
    units: str = ""

    def __len__(self):
        return self.weights.shape[0]

    @property
    def mixture_like(self):
        """The clusters judged mixture-like (count data), in order."""
        return [c for c in range(len(self)) if self.distinct[c] is False]

    def describe(self, cluster, min_share=0.05):
        """One line on ``cluster``: its closest mix and how it differs.

        Parameters
        ----------
        cluster : int
        min_share : float
            Clusters giving less than this share of the mix are left out of
            the text (they are in ``weights``).
        """
        w = self.weights[cluster]
        if not np.isfinite(w).all():
            return f"cluster {cluster}: no mixture fitted (empty, or nothing to mix)"
        parts = [
            f"{w[o]:.2f} \u00d7 #{o}"
            for o in np.argsort(-w)
            if o != cluster and w[o] >= min_share
        ]
        text = f"cluster {cluster} \u2248 " + " + ".join(parts or ["nothing"])
        if self.window[cluster] is not None:
            low, high = self.window[cluster]
            where = f"{low:.4g}\u2013{high:.4g} {self.units}".rstrip()
            if self.lines[cluster]:
                where += " (" + ", ".join(self.lines[cluster]) + ")"
            text += (
                f"; differs most clearly by "
                f"{_difference_text(self.largest_difference[cluster])} "
                f"at {where}"
            )
        text += f"; {self.unexplained[cluster]:.0%} of its intensity unexplained"
        if self.distinct[cluster] is True:
            text += f": distinct (beyond {self.tolerance:.0%})"
        elif self.distinct[cluster] is False:
            text += f": mixture-like (not distinct beyond {self.tolerance:.0%})"
        return text

    def __repr__(self):
        return "\n".join(self.describe(c) for c in range(len(self)))

    def to_html(self, colors=None):
        """The mixtures as an HTML ``<table>`` for reports and notebooks."""
        heads = ["Cluster", "Closest mix of the others", "Largest difference",
                 "Unexplained"]
        if self.counts:
            heads.append("Verdict")
        out = ['<table class="clusterspy-table"><thead><tr>']
        out += [f"<th>{html.escape(h)}</th>" for h in heads]
        out.append("</tr></thead><tbody>")
        for c in range(len(self)):
            swatch = ""
            if colors is not None:
                swatch = (
                    '<span class="swatch" style="display:inline-block;width:0.9em;'
                    f'height:0.9em;background:{colors[c]}"></span> '
                )
            w = self.weights[c]
            if np.isfinite(w).all():
                mix = " + ".join(
                    f"{w[o]:.2f}\u00a0\u00d7\u00a0#{o}"
                    for o in np.argsort(-w)
                    if o != c and w[o] >= 0.05
                ) or "\u2014"
            else:
                mix = "\u2014"
            difference = "\u2014"
            if self.window[c] is not None:
                low, high = self.window[c]
                difference = (
                    f"{_difference_text(self.largest_difference[c])} at "
                    f"{low:.4g}\u2013{high:.4g} "
                    f"{self.units}"
                ).rstrip()
                if self.lines[c]:
                    difference += " (" + ", ".join(self.lines[c]) + ")"
            unexplained = (
                format_percent(float(self.unexplained[c]))
                if np.isfinite(self.unexplained[c]) else "\u2014"
            )
            cells = [f"{swatch}{c}", mix, difference, unexplained]
            if self.counts:
                cells.append({True: "distinct", False: "mixture-like",
                              None: "\u2014"}[self.distinct[c]])
            out.append(
                "<tr>" + "".join(f"<td>{html.escape(x) if i else x}</td>"
                                 for i, x in enumerate(cells)) + "</tr>"
            )
        out.append("</tbody></table>")
        return "".join(out)


def _difference_text(relative):
    """``+13%``, or ``21x the mix`` where a line is many times the mix's."""
    if not np.isfinite(relative):
        return "a line the mix lacks"
    if relative >= 1:
        return f"{relative + 1:.3g}\u00d7 the mix"
    return f"{relative:+.0%}"


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number in (0, 1), not {value!r}.")
    if not 0 < value < 1:
        raise ValueError(f"`{name}` must be in (0, 1), not {value!r}.")
    return float(value)


def _held_out_sums(signal, result, gain, per_cluster=1000, random_state=0):
    """Per-cluster sums of one half of the counts, the positions assigned by
    the other half; None when the fitted clustering cannot assign new data.

    The verdict must not be taken on the data the partition was fitted on:
    k-means cuts even a single phase where its noise differs most, and its
    clusters' sums then differ by far more than their noise. So the counts
    (or count equivalents) of the clustered positions (at most ``per_cluster``
    of each cluster) are split into two
    independent Poisson halves (:func:`clusterspy.auto_k.split_counts`), the
    first half (doubled, in the data's units) is assigned by the fitted
    clustering (``result.predict``), and the second half is summed per
    assigned cluster. ``gain``: the :class:`~clusterspy.noise.GainEstimate`
    of shot-noise data (their count equivalents are split), or None.
    """
    from hyperspy.signals import Signal1D

    from .auto_k import split_counts
    from .noise import count_equivalents, from_count_equivalents

    labels = np.asarray(result.labels).reshape(-1)
    rng = np.random.default_rng(random_state)
    # At most ``per_cluster`` positions of each cluster (a seeded sample):
    # enough counts for the test, and a small cluster keeps all of its own.
    rows = []
    for c in range(result.n_clusters):
        members = np.flatnonzero(labels == c)
        if members.size > per_cluster:
            members = rng.choice(members, size=per_cluster, replace=False)
        rows.append(members)
    rows = np.sort(np.concatenate(rows))
    flat = signal._data_aligned_with_axes.reshape(
        (signal.axes_manager.navigation_size, -1))
    data = flat[rows]
    if hasattr(data, "compute"):
        data = data.compute()
    data = np.asarray(data, dtype=np.float64)
    if gain is not None:
        counts = count_equivalents(data, gain)
    else:
        counts = np.clip(np.rint(data), 0, None)
    first, second = split_counts(counts, random_state)

    def assign(values):
        if gain is not None:  # back to the data's units
            values = from_count_equivalents(values, gain)
        new = Signal1D(values.reshape(
            (rows.size,) + signal.axes_manager._signal_shape_in_array))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a model's version warning, once more
            return np.asarray(result.predict(new).data).reshape(-1)

    try:
        # The fitted clustering must reproduce the result's own partition on
        # the whole counts (it does not with spatial_weight, whose
        # coordinates a new signal lacks, nor exactly for every source);
        # otherwise the verdict would be about another partition.
        if (assign(counts) == labels[rows]).mean() < _MIN_AGREEMENT:
            return None
        assigned = assign(2.0 * first)
    except (ValueError, TypeError, NotImplementedError, KeyError, RuntimeError):
        return None  # the clustering cannot assign new data
    k = result.n_clusters
    onehot = np.zeros((k, rows.size))
    kept = assigned >= 0
    onehot[assigned[kept], np.flatnonzero(kept)] = 1
    return onehot @ second


def _distinct(held_out, c, others, alpha, tolerance):
    """The window test of cluster ``c``'s held-out sum against the others'."""
    from .auto_k import _phase_test

    if held_out[c].sum() <= 0 or held_out[others].sum() <= 0:
        return None
    test = _phase_test(held_out[c], held_out[others], alpha, 5.0, None, 0.0,
                       tolerance)
    if test["excess"] is None:
        return None
    return bool(test["excess"][0] > test["excess"][1])


def _nnls_mix(y, others):
    """Non-negative least-squares weights of ``others`` (rows) for ``y``."""
    from scipy.optimize import nnls

    # Scaled to unit rows: the fit is then well conditioned whatever the
    # clusters' intensities.
    scale = np.linalg.norm(others, axis=1)
    scale[scale == 0] = 1.0
    w, _ = nnls(others.T / scale, y)
    return w / scale


def get_cluster_mixtures(signal, tolerance=0.05, alpha=0.001):
    """How close each cluster's summed spectrum is to a mix of the others.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    tolerance : float
        Count data: a cluster is *distinct* when it differs from its best
        mix by more than this fraction of the intensity in some window of
        channels (0.05, as the split rule of ``n_clusters="auto"``: about
        the relative accuracy of standards-based EDS quantification).
    alpha : float
        Level of that test, Bonferroni-corrected over the windows.

    Returns
    -------
    ClusterMixtures

    Notes
    -----
    See :mod:`clusterspy.mixtures`. The fits use the cluster *sum* signals
    (:func:`~clusterspy.get_cluster_signals` with ``"sum"``), so that count
    data keep their Poisson statistics; the weights are given as shares of
    the mix's intensity, which do not depend on the clusters' sizes.

    Examples
    --------
    A band where two phases meet is a mixture of them:

    >>> import numpy as np, hyperspy.api as hs, clusterspy
    >>> rng = np.random.default_rng(0)
    >>> a = rng.uniform(1, 10, 64); b = rng.uniform(1, 10, 64)
    >>> truth = np.repeat([0, 2, 1], [96, 64, 96])
    >>> mean = np.where(truth[:, None] == 0, a,
    ...                 np.where(truth[:, None] == 1, b, (a + b) / 2))
    >>> s = hs.signals.Signal1D(rng.poisson(40 * mean).reshape(16, 16, 64)
    ...                         .astype(float))
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> mixtures = s.clusterspy.get_cluster_mixtures()
    >>> band = int(np.argmin(mixtures.unexplained))
    >>> mixtures.distinct[band], mixtures.mixture_like == [band]
    (False, True)
    """
    from .auto_k import _phase_test
    from .counts import is_count_data
    from .noise import count_equivalents, gain_from_record
    from .plotting.elements import signal_lines

    tolerance = _check_fraction(tolerance, "tolerance")
    alpha = _check_fraction(alpha, "alpha")
    result = get_cluster_result(signal)
    sums = cluster_signals(signal, result, "sum")
    k = result.n_clusters
    y_all = np.asarray(sums.data, dtype=np.float64).reshape(k, -1)
    usable = (result.counts > 0) & np.isfinite(y_all).all(axis=1)
    one_d = sums.axes_manager.signal_dimension == 1
    counts = bool(one_d and usable.any() and is_count_data(y_all[usable]))
    record = (result.parameters.get("n_clusters_choice") or {}).get("gain")
    gain = None
    if record and not counts and one_d and result.centers_source != "user":
        # Shot-noise data whose automatic k was chosen on count equivalents
        # (clusterspy.noise): their sums are judged as those counts.
        gain = gain_from_record(record)
        y_all = count_equivalents(y_all, gain, positions=result.counts)
        counts = bool(usable.any())
    # The held-out counts are the analysed signal's: not for sums of another
    # (user) signal.
    held_out = (
        _held_out_sums(signal, result, gain)
        if counts and k > 1 and result.centers_source != "user" else None
    )
    units, edges, lines = "", None, {}
    if one_d:
        axis = sums.axes_manager.signal_axes[0]
        units = str(axis.units) if axis.units and str(axis.units) != "<undefined>" else ""
        x = np.asarray(axis.axis, dtype=np.float64)
        # channel edges halfway between channels (non-uniform axes too)
        middle = (x[1:] + x[:-1]) / 2
        first = x[0] - (middle[0] - x[0]) if x.size > 1 else x[0] - 0.5
        last = x[-1] + (x[-1] - middle[-1]) if x.size > 1 else x[0] + 0.5
        edges = np.concatenate([[first], middle, [last]])
        lines = signal_lines(sums)

    weights = np.full((k, k), np.nan)
    largest = np.full(k, np.nan)
    unexplained = np.full(k, np.nan)
    distinct = np.full(k, None, dtype=object)
    window, window_lines = [None] * k, [[] for _ in range(k)]
    for c in range(k):
        others = [o for o in range(k) if o != c and usable[o]]
        if not usable[c] or not others:
            continue
        y, o_sums = y_all[c], y_all[others]
        if counts:
            test = _phase_test(y, o_sums, alpha, 5.0, None, 0.0, tolerance)
            if test["weights"] is None:  # too few counts to test
                continue
            w = test["weights"]
            low, high = test["window"]
            largest[c] = test["relative_difference"]
            low, high = sorted((float(edges[low]), float(edges[high])))
            window[c] = (low, high)
            window_lines[c] = [
                name for name, energy in lines.items() if low <= energy <= high
            ]
            if held_out is not None:
                distinct[c] = _distinct(held_out, c, others, alpha, tolerance)
        else:
            w = _nnls_mix(y, o_sums)
        mix = w @ o_sums
        unexplained[c] = np.abs(y - mix).sum() / max(np.abs(y).sum(), 1e-300)
        # Shares of the mix's intensity; by absolute intensity, so that they
        # stay in [0, 1] for data with negative values.
        parts = w * np.abs(o_sums).sum(axis=1)
        if parts.sum() > 0:
            weights[c] = 0.0
            weights[c, others] = parts / parts.sum()
    return ClusterMixtures(weights, largest, window, unexplained, distinct,
                           window_lines, tolerance, alpha, counts, units)
