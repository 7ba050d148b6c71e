"""A number of clusters that holds on counting data.

The rule (``"poisson-split"``)
------------------------------
A cluster is a *phase* when its spectrum cannot be explained by the
others: its summed counts are not, under Poisson noise, a non-negative
combination of the other clusters' summed spectra. So ``k`` clusters are
accepted when every one of them passes that test, and the answer is the
largest ``k`` reached by accepting ``k = 2, 3, ...`` in turn (the first
rejected ``k`` stops the search). A split of one phase into two (a
thickness gradient, noise) gives two clusters of the same spectral shape;
a cluster of mixed or ambiguous positions (graded interfaces, noisy
pixels between two phases) gives a mixture of the others: neither is a
new phase.

Two things keep the test honest:

* **Count splitting** (Neufeld et al. 2024, "Data thinning for
  convolution-closed distributions"; Leiner et al. 2023, "Data fission"):
  each count is assigned to one of two halves with probability 1/2, which
  makes two *independent* Poisson maps with half the means. The clustering
  (its features and k-means) is done on the first half, the test on the
  second. Testing on the data that made the partition would find any
  partition significant: k-means splits pure noise along the direction
  where the noise differs most.
* **Intersection-union**: ``k`` is accepted only if *every* cluster's
  test rejects its null at level ``alpha``. The null "some cluster is not a
  new phase" is a union, so no multiplicity correction is needed (Berger
  1982): the chance of accepting a wrong ``k`` is at most ``alpha``.

A significant difference is not enough at high counts, where every real
but tiny difference (absorption, a slight drift of composition) is
significant: the cluster must also be *separable pixel by pixel*, its
positions' counts giving on average at least ``min_separation`` nats of
log-likelihood ratio between its spectrum and the best mixture of the
others (``counts per pixel x KL divergence``).

At high counts a *mixture* is never exact either: a beam straddling two
phases, or a fine intergrowth, gives nearly but not exactly the linear mix
of their spectra (absorption and fluorescence differ between the matrices),
and the likelihood-ratio test then calls the mixed positions a new phase.
So a new phase must also show, in at least one energy window, an intensity
the best mixture of the others misses by more than ``tolerance`` of its
intensity (5 % by default: the order of the relative accuracy of
standards-based EDS quantification, Newbury & Ritchie 2013, *Scanning* 35,
141; a line that a mixture reproduces to within it is no evidence of a
different composition). The mixture is the others' own summed spectra
with the fitted weights; windows of 1, 2, 4, ... pooled bins (at every
half width) are scanned and the largest excess
``(|y - mix| - tolerance * mix) / sqrt(mix + var(mix))`` is compared with
the normal quantile at ``alpha`` divided by the number of windows
(Bonferroni): a new phase differs somewhere, clearly, not by a diffuse
drift of the whole spectrum.

Each test is a likelihood-ratio (G) test of the cluster's summed counts
against the best non-negative combination of the other clusters' sums
(the noise of both in the Poisson model), over channels pooled so that every bin expects at
least ``min_expected`` counts in the cluster: a cluster with too few
counts cannot be told apart and does not pass.

The existing metrics (elbow, silhouette, gap) are computed on the same
k-means fits and returned side by side; they do not choose ``k`` for
counting data but a disagreement is reported. Data that are not counts but
have counting noise scaled by a gain are given to the rule as count
equivalents (:mod:`clusterspy.noise`); for other data,
:func:`estimate_k_features` combines the metrics by majority.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from .exceptions import DoubtfulEstimateWarning

__all__ = [
    "AutoK",
    "cluster_is_new_phase",
    "estimate_k_counts",
    "estimate_k_features",
    "split_counts",
]


class AutoK(NamedTuple):
    """An automatic number of clusters and its evidence.

    Attributes
    ----------
    n_clusters : int
    rule : str
        ``"poisson-split"`` or ``"metrics-majority"``, with
        ``" (fall-back)"`` appended when the rule could not decide.
    ks : numpy.ndarray
        The ``k`` tried.
    curves : dict of str to numpy.ndarray
        Every metric's curve over ``ks``: ``"log_w"`` (elbow),
        ``"silhouette"`` (NaN at k = 1), ``"gap"`` and ``"gap_s"``, and for
        the split rule ``"worst_p"`` (largest p-value among the clusters
        of each ``k``: ``k`` is accepted when it is below ``alpha``).
    metric_choices : dict of str to int
        What elbow, silhouette and gap alone would answer.
    tests : list of dict
        Per ``k``: ``k``, ``accepted``, ``p_values`` (per cluster),
        ``chi2``, ``dof``, ``separation`` (nats per position),
        ``relative_difference`` (the clearest window's ``(y - mu) / mu``
        against the best mixture of the others), ``cluster_counts``.
    doubts : list of str
        Why the answer is doubtful (empty when it is not); each was also
        emitted as a :class:`~clusterspy.exceptions.DoubtfulEstimateWarning`.
    labels : numpy.ndarray or None
        The k-means labels of the chosen ``k`` on the features it was
        chosen on.
    positions : numpy.ndarray or None
        The navigation positions (flat indices) ``labels`` belong to, when
        the caller knows them (``cluster_analysis(n_clusters="auto")`` sets
        them, and starts its k-means from this partition).
    gain : clusterspy.noise.GainEstimate or None
        For data that are not counts but whose noise is counting noise
        scaled by a gain: the photon-transfer fit that turned them into the
        count equivalents the rule was applied to (the rule is then
        ``"poisson-split on count equivalents"``).
    """

    n_clusters: int
    rule: str
    ks: np.ndarray
    curves: dict
    metric_choices: dict
    tests: list
    doubts: list
    labels: np.ndarray | None = None
    positions: np.ndarray | None = None
    gain: object = None

    def summary(self):
        """Lines of text: the answer, each metric's answer and the doubts."""
        lines = [f"k = {self.n_clusters} ({self.rule})"]
        lines.append(
            "metrics alone: "
            + ", ".join(f"{m} {k}" for m, k in self.metric_choices.items())
        )
        lines += [f"doubtful: {d}" for d in self.doubts]
        return lines


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"`{name}` must be an integer >= {minimum}, not {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, not {value!r}.")
    return int(value)


def _check_tolerance(tolerance):
    if tolerance is not None and not (
        isinstance(tolerance, (float, int, np.floating, np.integer))
        and not isinstance(tolerance, bool) and 0 <= tolerance < 1
    ):
        raise ValueError(
            f"`tolerance` must be a number in [0, 1) or None, not {tolerance!r}."
        )


def split_counts(counts, random_state=None):
    """Split counts into two independent Poisson halves (count thinning).

    Each count goes to the first half with probability 1/2: if ``X`` is
    Poisson with mean ``m``, the halves are independent Poisson with mean
    ``m / 2`` each.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.auto_k import split_counts
    >>> a, b = split_counts(np.array([[4, 0], [1, 7]]), random_state=0)
    >>> (a + b).tolist()
    [[4, 0], [1, 7]]
    """
    counts = np.asarray(counts)
    rng = np.random.default_rng(random_state)
    whole = np.rint(counts).astype(np.int64)
    first = rng.binomial(whole, 0.5)
    return first, whole - first


def _poisson_features(counts, n_components, random_state):
    """Poisson-normalised SVD loadings (HyperSpy's scaling, no centring)."""
    from sklearn.utils.extmath import randomized_svd

    x = np.asarray(counts, dtype=np.float64)
    a = x.sum(axis=1)
    b = x.sum(axis=0)
    a[a == 0] = 1
    b[b == 0] = 1
    scaled = x / np.sqrt(a)[:, None] / np.sqrt(b)[None, :]
    n = min(n_components, min(scaled.shape))
    u, s, _ = randomized_svd(scaled, n, n_iter=5, random_state=random_state)
    return u * s


def _pool(expected, min_expected):
    """Bin index per channel: adjacent channels pooled to ``min_expected``."""
    cumulative = np.cumsum(expected)
    bins = np.floor(cumulative / min_expected).astype(np.int64)
    # The last bin may be short: merge it into the one before.
    if bins[-1] > 0 and cumulative[-1] - bins[-1] * min_expected < min_expected:
        bins[bins == bins[-1]] = max(bins[-1] - 1, 0)
    return np.unique(bins, return_inverse=True)[1]


def _window_excess(yb, mix, mix_var, tolerance, alpha, y_var=None):
    """The largest excess over ``tolerance`` in windows of adjacent bins.

    Windows of 1, 2, 4, ... bins, at every half width (so that a line
    across a window's edge is whole in the next size). Returns
    ``(z, z_critical, relative, width, start)``: the largest
    ``(|y - mix| - tolerance * mix) / sqrt(y_var + mix_var)`` (``y_var``:
    the variance of ``y`` under the null, ``mix`` when not given;
    ``mix_var``: the variance of the mixture, from the other clusters' own
    counts), the normal quantile it must exceed (``alpha`` divided by the
    number of windows, Bonferroni), and that window's relative difference
    ``(y - mix) / mix``, width and first bin.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.auto_k import _window_excess
    >>> mix = np.full(16, 1000.0); y = mix.copy(); y[5:7] *= 1.5  # one line
    >>> z, critical, relative, width, start = _window_excess(y, mix, 0 * mix,
    ...                                                      0.05, 0.01)
    >>> bool(z > critical), round(relative, 2), width, start
    (True, 0.5, 2, 5)
    """
    from scipy.stats import norm

    cy = np.concatenate([[0.0], np.cumsum(yb)])
    cm = np.concatenate([[0.0], np.cumsum(mix)])
    cv = np.concatenate([[0.0], np.cumsum(mix_var)])
    cyv = cm if y_var is None else np.concatenate([[0.0], np.cumsum(y_var)])
    best = (-np.inf, 0.0, 1, 0)
    n_windows = 0
    width = 1
    while width == 1 or width <= yb.size // 2:
        starts = np.arange(0, yb.size - width + 1, max(width // 2, 1))
        ys = cy[starts + width] - cy[starts]
        ms = cm[starts + width] - cm[starts]
        vs = (cyv[starts + width] - cyv[starts]) + (cv[starts + width] - cv[starts])
        z = (np.abs(ys - ms) - tolerance * ms) / np.sqrt(np.maximum(vs, 1e-12))
        n_windows += starts.size
        j = int(np.argmax(z))
        if z[j] > best[0]:
            best = (float(z[j]), float((ys[j] - ms[j]) / max(ms[j], 1e-12)), width,
                    int(starts[j]))
        width *= 2
    return best[0], float(norm.isf(alpha / n_windows)), best[1], best[2], best[3]


def cluster_is_new_phase(spectrum, others, alpha=0.01, min_expected=5.0,
                         counts_per_pixel=None, min_separation=1.0,
                         tolerance=None):
    """Test whether a summed spectrum is a non-negative mix of others.

    Parameters
    ----------
    spectrum : array-like, shape (M,)
        Summed counts of one cluster (on data independent of the partition).
    others : array-like, shape (K, M)
        Summed counts of the other clusters.
    alpha : float
        Level of the test.
    min_expected : float
        Channels are pooled so that every bin expects this many counts.
    counts_per_pixel : float or None
        Mean counts of one of the cluster's positions (all the data, not
        the half tested). When given, the cluster must also be separable
        pixel by pixel: ``counts_per_pixel * KL(cluster || mixture)``, the
        expected log-likelihood ratio one position's counts give between
        the cluster's spectrum and the best mixture of the others, must be
        at least ``min_separation`` nats. At high counts every real but tiny
        difference is significant (absorption, a slight composition
        drift); a phase a microscopist maps must be told apart position by
        position.
    tolerance : float or None
        When given, the cluster must also differ from the best mixture by
        more than this fraction of the intensity in at least one window of
        adjacent bins, at level ``alpha`` (see the module notes); ``None``
        skips that requirement.
    min_separation : float
        Nats. The log-likelihood ratio of one position is roughly normal
        with mean ``D`` and variance ``2 D``, so a position is assigned to
        the right one of the two with probability about ``Phi(sqrt(D/2))``:
        0.69 at ``D = 0.5`` (the default of :func:`estimate_k_counts`),
        0.76 at ``D = 1``.

    Returns
    -------
    new : bool
        The mixture hypothesis is rejected at level ``alpha`` (and the
        cluster is separable pixel by pixel when ``counts_per_pixel`` is
        given).
    p_value, chi2, dof : float, float, int
    separation : float
        ``counts_per_pixel * KL`` in nats (NaN without ``counts_per_pixel``).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.auto_k import cluster_is_new_phase
    >>> rng = np.random.default_rng(0)
    >>> a = rng.poisson([500, 100, 10, 300]); b = rng.poisson([50, 400, 80, 30])
    >>> bool(cluster_is_new_phase(rng.poisson([275, 250, 45, 165]), [a, b])[0])
    False
    >>> bool(cluster_is_new_phase(rng.poisson([20, 20, 600, 20]), [a, b])[0])
    True
    """
    _check_tolerance(tolerance)
    test = _phase_test(spectrum, others, alpha, min_expected, counts_per_pixel,
                       min_separation, tolerance)
    return (test["new"], test["p_value"], test["chi2"], test["dof"],
            test["separation"])


def _phase_test(spectrum, others, alpha, min_expected, counts_per_pixel,
                min_separation, tolerance):
    """:func:`cluster_is_new_phase` with every piece of evidence, as a dict."""
    from scipy.stats import chi2 as chi2_dist

    fail = {"new": False, "p_value": 1.0, "chi2": 0.0, "dof": 0,
            "separation": 0.0, "relative_difference": 0.0, "weights": None,
            "window": None, "excess": None}
    y = np.asarray(spectrum, dtype=np.float64)
    others = np.atleast_2d(np.asarray(others, dtype=np.float64))
    total = y.sum()
    if total < 2 * min_expected:
        return fail
    shape = (y + others.sum(axis=0)) / (total + others.sum())
    bins = _pool(shape * total, min_expected)
    n_bins = bins.max() + 1
    yb = np.bincount(bins, y, n_bins)
    ob = np.array([np.bincount(bins, o, n_bins) for o in others])
    dof = n_bins - others.shape[0]
    if dof < 1:
        return fail
    # Likelihood ratio of the joint Poisson model: y_b ~ P(sum_o w_o nu_ob),
    # o_b ~ P(nu_ob) (w >= 0, nu free), against the saturated model, fitted
    # by EM (y's counts split among the others in proportion to w_o nu_ob).
    # Both the cluster's and the others' noise are in the model, so the
    # statistic is calibrated even when the others' sums are small.
    nu = np.maximum(ob, 1e-12)
    w = np.full(ob.shape[0], yb.sum() / max(ob.sum(), 1e-12) / ob.shape[0])
    for _ in range(300):
        share = w[:, None] * nu
        mu = share.sum(axis=0)
        z = yb[None, :] * share / np.maximum(mu, 1e-300)
        nu = (ob + z) / (1 + w[:, None])
        w = z.sum(axis=1) / np.maximum(nu.sum(axis=1), 1e-300)
    mu = (w[:, None] * nu).sum(axis=0)

    def deviance(obs, exp):
        exp = np.maximum(exp, 1e-300)
        term = np.where(obs > 0, obs * np.log(np.maximum(obs, 1e-300) / exp), 0.0)
        return 2 * float((term - (obs - exp)).sum())

    chi2 = deviance(yb, mu) + deviance(ob, nu)
    p = float(chi2_dist.sf(chi2, dof))
    new = p < alpha
    separation = float("nan")
    if counts_per_pixel is not None:
        pc = yb / yb.sum()
        qc = np.maximum(mu / mu.sum(), 1e-300)
        kl = float(np.where(pc > 0, pc * np.log(np.maximum(pc, 1e-300) / qc), 0).sum())
        # The plug-in KL of a multinomial sample is biased up by about
        # dof / (2 n) (Miller-Madow); remove it.
        kl = max(kl - dof / (2 * yb.sum()), 0.0)
        separation = counts_per_pixel * kl
        new = new and separation >= min_separation
    relative, window, excess = 0.0, None, None
    if tolerance is not None:
        # Against the others' own sums mixed with the fitted weights (the
        # joint fit's mu is pulled towards y and would shrink the difference
        # by 1 / (1 + w)). The variances are those of the null, from the
        # joint fit: y's mu, and the others' w_o**2 nu_ob (not their observed
        # counts: a channel where the others counted 0 still has a Poisson
        # uncertainty, and a cluster with a few counts there is no evidence).
        mix = (w[:, None] * ob).sum(axis=0)
        mix_var = (w[:, None] ** 2 * nu).sum(axis=0)
        z, critical, relative, width, start = _window_excess(
            yb, mix, mix_var, tolerance, alpha, y_var=mu)
        new = new and z > critical
        excess = (z, critical)
        # The window's channels: pooled bins are runs of adjacent channels.
        inside = np.flatnonzero((bins >= start) & (bins < start + width))
        window = (int(inside[0]), int(inside[-1]) + 1)
    return {"new": bool(new), "p_value": p, "chi2": chi2, "dof": int(dof),
            "separation": separation, "relative_difference": relative,
            "weights": w, "window": window, "excess": excess}


def _fits(features, ks, n_init, random_state):
    from .engines.lloyd import fit_kmeans

    labels = {}
    for k in ks:
        if k == 1:
            labels[k] = np.zeros(features.shape[0], dtype=np.int64)
        else:
            labels[k] = fit_kmeans(features, k, n_init=n_init,
                                   random_state=random_state)[0]
    return labels


def _metric_curves(features, ks, labels, n_references, random_state):
    """Elbow, silhouette and gap on the given fits, and their answers."""
    from sklearn.metrics import silhouette_score

    from .estimate.gap import gap_statistic
    from .estimate.metrics import choose_n_clusters, within_cluster_dispersion

    log_w = np.array(
        [np.log(max(within_cluster_dispersion(features, labels[k]), 1e-300))
         for k in ks]
    )
    sil = np.full(len(ks), np.nan)
    for i, k in enumerate(ks):
        if k >= 2 and len(np.unique(labels[k])) >= 2:
            try:
                sil[i] = silhouette_score(
                    features, labels[k], sample_size=min(2000, features.shape[0]),
                    random_state=0,
                )
            except ValueError:  # the sample drew a single cluster
                pass
    cache = labels

    class _Cached:
        # The data's own fits are reused; reference sets are fitted anew.
        def __init__(self, k):
            self.k = k

        def fit(self, X):
            from .engines.lloyd import fit_kmeans

            if X is features:
                self.labels_ = cache[self.k]
            else:
                self.labels_ = fit_kmeans(X, self.k, n_init=1, random_state=0)[0]
            return self

    gap = gap_statistic(features, ks, make_estimator=_Cached,
                        n_references=n_references, random_state=random_state)
    curves = {"log_w": log_w, "silhouette": sil, "gap": gap.gap, "gap_s": gap.s}
    choices = {"elbow": int(choose_n_clusters("elbow", ks, log_w)[0])}
    if np.isfinite(sil).any():
        choices["silhouette"] = int(choose_n_clusters("silhouette", ks, sil)[0])
    choices["gap"] = int(choose_n_clusters("gap", ks, gap.gap, gap.s)[0])
    return curves, choices


def _warn(doubts, stacklevel):
    for text in doubts:
        warnings.warn(text, DoubtfulEstimateWarning, stacklevel=stacklevel + 1)


def estimate_k_counts(
    counts,
    n_components,
    max_clusters=10,
    alpha=0.001,
    min_expected=5.0,
    min_separation=0.5,
    tolerance=0.05,
    n_init=3,
    metrics=True,
    n_references=5,
    random_state=0,
):
    """Number of phases of a counting map by the Poisson split rule.

    Parameters
    ----------
    counts : array-like, shape (n_positions, n_channels)
        Raw counts of the positions to cluster (masked and empty positions
        left out), one row per position.
    n_components : int
        Components of the Poisson-normalised SVD the clustering works on
        (:func:`clusterspy.components.significant_components_of`).
    max_clusters : int
    alpha : float
        Level of each cluster's test (see the module notes).
    min_expected : float
        Counts per pooled channel bin at least.
    min_separation : float
        Each cluster must be separable pixel by pixel by this many nats
        (:func:`cluster_is_new_phase`); 0 keeps significance alone.
    tolerance : float or None
        Each cluster must differ from the best mixture of the others by more
        than this fraction of the intensity in at least one energy window
        (0.05: see the module notes); ``None`` skips that requirement.
    n_init : int
        K-means starts per ``k``.
    metrics : bool
        Also compute elbow, silhouette and gap on the same fits.
    n_references : int
        Gap reference sets.
    random_state : int or None

    Returns
    -------
    AutoK

    Warns
    -----
    DoubtfulEstimateWarning
        ``k = 1`` when the map has more than one significant component;
        every ``k`` up to ``max_clusters`` accepted; metrics that disagree
        with the answer.

    Examples
    --------
    >>> from clusterspy.datasets import spectrum_image
    >>> from clusterspy.auto_k import estimate_k_counts
    >>> s = spectrum_image((24, 24), n_channels=128, n_phases=3, counts=50,
    ...                    random_state=0)
    >>> estimate_k_counts(s.data.reshape(-1, 128), 3, max_clusters=5,
    ...                   metrics=False).n_clusters
    3
    """
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError(
            "`counts` must be 2-D (n_positions, n_channels), not of shape "
            f"{counts.shape}."
        )
    if counts.size and (counts.min() < 0 or not np.array_equal(counts, np.rint(counts))):
        raise ValueError("`counts` must hold non-negative whole numbers (counts).")
    n_components = _check_int(n_components, "n_components", 1)
    max_clusters = _check_int(max_clusters, "max_clusters", 2)
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` must be in (0, 1), not {alpha!r}.")
    _check_tolerance(tolerance)
    max_clusters = min(max_clusters, counts.shape[0] - 1)
    ks = np.arange(1, max_clusters + 1)
    first, second = split_counts(counts, random_state)
    features = _poisson_features(first, n_components, random_state)
    labels = _fits(features, ks, n_init, random_state)

    tests, worst_p = [], np.full(len(ks), np.nan)
    chosen, stopped = 1, False
    for i, k in enumerate(ks[1:], start=1):
        onehot = np.zeros((k, counts.shape[0]))
        onehot[labels[k], np.arange(counts.shape[0])] = 1
        sums = onehot @ second
        # The tested half holds half the counts: a position of the whole
        # map has twice the half's mean.
        per_pixel = 2 * sums.sum(axis=1) / np.maximum(onehot.sum(axis=1), 1)
        results = [
            _phase_test(sums[c], np.delete(sums, c, axis=0), alpha, min_expected,
                        per_pixel[c], min_separation, tolerance)
            for c in range(k)
        ]
        accepted = all(r["new"] for r in results)
        worst_p[i] = max(r["p_value"] for r in results)
        tests.append({
            "k": int(k), "accepted": accepted,
            "p_values": [r["p_value"] for r in results],
            "chi2": [r["chi2"] for r in results],
            "dof": [r["dof"] for r in results],
            "separation": [r["separation"] for r in results],
            "relative_difference": [r["relative_difference"] for r in results],
            "cluster_counts": sums.sum(axis=1).tolist(),
        })
        if not stopped and accepted:
            chosen = int(k)
        elif not accepted:
            stopped = True
            if not metrics:
                break

    curves = {"worst_p": worst_p}
    choices = {}
    if metrics:
        extra, choices = _metric_curves(features, ks, labels, n_references,
                                        random_state)
        curves.update(extra)

    doubts = []
    if chosen == ks[-1]:
        doubts.append(
            f"every k up to max_clusters={ks[-1]} gave clusters with distinct "
            "spectra: the splitting was still going on; try a larger "
            "max_clusters"
        )
    if chosen == 1 and n_components > 1:
        doubts.append(
            f"k = 1 although the map has {n_components} significant components: "
            "its structure is not resolved into distinct phases at these counts "
            "(bin the map, or cluster with a given k)"
        )
    if choices and chosen not in choices.values():
        doubts.append(
            f"the metrics disagree with k = {chosen}: "
            + ", ".join(f"{m} {v}" for m, v in choices.items())
        )
    _warn(doubts, 2)
    return AutoK(chosen, "poisson-split", ks, curves, choices, tests, doubts,
                 labels[chosen])


def estimate_k_features(features, max_clusters=10, n_init=3, n_references=5,
                        random_state=0):
    """Number of clusters by majority of elbow, silhouette and gap.

    For data that are not counts. The three metrics are computed on the same
    k-means fits; ``k`` is the answer at least two of them give, else
    (fall-back, with a warning) the gap's.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.auto_k import estimate_k_features
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(c, 0.1, (100, 2)) for c in (0, 3, 6)])
    >>> estimate_k_features(X, max_clusters=6).n_clusters
    3
    """
    X = np.ascontiguousarray(features, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"`features` must be 2-D, not of shape {X.shape}.")
    max_clusters = _check_int(max_clusters, "max_clusters", 2)
    max_clusters = min(max_clusters, X.shape[0] - 1)
    ks = np.arange(1, max_clusters + 1)
    labels = _fits(X, ks, n_init, random_state)
    curves, choices = _metric_curves(X, ks, labels, n_references, random_state)
    votes = list(choices.values())
    counts = {k: votes.count(k) for k in set(votes)}
    best = max(counts, key=lambda k: (counts[k], -k))
    doubts, rule = [], "metrics-majority"
    if counts[best] < 2:
        best, rule = choices["gap"], "metrics-majority (fall-back)"
        doubts.append(
            "no two metrics agree ("
            + ", ".join(f"{m} {v}" for m, v in choices.items())
            + f"): fell back to the gap's k = {best}"
        )
    elif len(counts) > 1:
        doubts.append(
            "the metrics disagree: "
            + ", ".join(f"{m} {v}" for m, v in choices.items())
        )
    if best == ks[-1]:
        doubts.append(f"k = max_clusters = {ks[-1]}: the curve may still be rising")
    _warn(doubts, 2)
    return AutoK(int(best), rule, ks, curves, choices, [], doubts, labels[best])
