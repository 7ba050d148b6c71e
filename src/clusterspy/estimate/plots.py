"""The plot of a stored estimate: :func:`plot_cluster_metric`."""

from __future__ import annotations

import numpy as np

from .result import get_cluster_metric

__all__ = ["plot_cluster_metric"]

_LABELS = {
    "gap": "Gap(k)",
    "elbow": "log W(k), within-cluster dispersion",
    "silhouette": "Mean silhouette coefficient",
    "calinski_harabasz": "Calinski-Harabasz index",
    "davies_bouldin": "Davies-Bouldin index",
    "bic": "BIC",
    "aic": "AIC",
}


def plot_cluster_metric(signal, ax=None):
    """Plot the stored metric curve against ``k``, with the chosen ``k``.

    The gap statistic is drawn with its error bars ``s_k``; a dashed
    vertical line marks the estimated number of clusters.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``estimate_number_of_clusters`` was run.
    ax : matplotlib.axes.Axes or None
        Axes to draw in; ``None`` makes a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    RuntimeError
        If no estimate is stored with the signal.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> from clusterspy.estimate import (
    ...     estimate_number_of_clusters, get_cluster_metric, plot_cluster_metric)
    >>> rng = np.random.default_rng(0)
    >>> s = hs.signals.Signal1D(rng.normal(size=(100, 2)))
    >>> k = estimate_number_of_clusters(s, "signal", max_clusters=3,
    ...                                 metric="elbow", random_state=0)
    >>> fig = plot_cluster_metric(s)
    >>> fig.axes[0].get_xlabel()
    'Number of clusters k'
    """
    result = get_cluster_metric(signal)
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    label = _label(result)
    values = result.values
    if "worst_p" in result.curves:
        # p-values span hundreds of decades, down to 0: plot -log10 p
        values = -np.log10(np.clip(result.curves["worst_p"], 1e-300, 1.0))
        ax.axhline(3.0, color="0.6", linestyle=":", label="rule: p < 0.001")
    if result.errors is not None:
        ax.errorbar(
            result.ks,
            values,
            yerr=result.errors,
            fmt="o-",
            capsize=3,
            label=label,
        )
    else:
        ax.plot(result.ks, values, "o-", label=label)
    ax.axvline(
        result.n_clusters,
        color="0.3",
        linestyle="--",
        label=f"estimated k = {result.n_clusters}",
    )
    ax.set_xlabel("Number of clusters k")
    ax.set_ylabel(label)
    ax.set_title(f"{result.metric}: {result.rule}", fontsize="small")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", fontsize="small")
    return fig


def _label(result):
    """The y label; ``metric="auto"`` plots its rule's own curve."""
    if result.metric != "auto":
        return _LABELS[result.metric]
    if "worst_p" in result.curves:
        return "-log10 largest p-value of the k clusters (Poisson split)"
    return _LABELS["gap"]
