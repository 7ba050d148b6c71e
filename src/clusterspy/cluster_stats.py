"""Cluster signals: each cluster's sum, mean, std and centroid in signal space.

Computed from ``source_for_centers`` once the labels are known: the data
themselves (one pass, blockwise for lazy data, unless an engine already
accumulated the moments), or a decomposition's low-rank reconstruction
(from the loadings and factors alone, never forming the reconstruction).
"""

from __future__ import annotations

import numpy as np

from . import _compute
from ._utils.progress import progress
from .engines.rowblocks import compute_within, raw_moments
from .sources import _is_dask, flatten_signal_axes

__all__ = ["compute_cluster_signals"]


def compute_cluster_signals(
    centers, labels, k, centroid_index, moments=None, show_progressbar=None
):
    """Sum, mean, std and centroid signals, in one pass over the data.

    Parameters
    ----------
    centers : clusterspy.sources.Source
        The source of the cluster signals.
    labels : numpy.ndarray of int, shape (n_samples,)
        Final labels (negative: in no cluster).
    k : int
    centroid_index : numpy.ndarray of int, shape (k,)
        Flat navigation index of each cluster's centroid member, -1 if none.
    moments : tuple or None
        The data's per-cluster ``(count, mean, m2)`` when an engine already
        accumulated them.
    show_progressbar : bool or None

    Returns
    -------
    dict
        ``signal_sum``, ``signal_mean``, ``signal_std`` (population) and
        ``signal_centroid``, each of shape ``(k,) + signal array shape``.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> from clusterspy.cluster_stats import compute_cluster_signals
    >>> from clusterspy.sources import resolve_source
    >>> s = hs.signals.Signal1D(np.arange(8.0).reshape(4, 2))
    >>> out = compute_cluster_signals(
    ...     resolve_source(s, "signal"), np.array([0, 0, 1, 1]), 2, np.array([0, 2]))
    >>> out["signal_mean"].tolist()
    [[1.0, 2.0], [5.0, 6.0]]
    """
    shape = (k,) + tuple(centers.signal_array_shape)
    if centers.kind in ("signal", "user"):
        counts, mean, std, centroid = _from_data(
            centers, labels, k, centroid_index, moments, show_progressbar
        )
    else:
        counts, mean, std, centroid = _from_low_rank(centers, labels, k, centroid_index)
    total = mean * counts[:, None]
    total[counts == 0] = 0.0
    return {
        "signal_sum": total.reshape(shape),
        "signal_mean": mean.reshape(shape),
        "signal_std": std.reshape(shape),
        "signal_centroid": centroid.reshape(shape),
    }


def _from_data(centers, labels, k, centroid_index, moments, show_progressbar):
    """Counts, means, stds and centroids of the data, eager or lazy."""
    data = centers.signal._data_aligned_with_axes
    lazy = _is_dask(data)
    if lazy:
        # keep the navigation tiles as blocks (see engines.rowblocks)
        nav_ndim = centers.signal.axes_manager.navigation_dimension
        data = flatten_signal_axes(data, nav_ndim)
        if moments is None:
            moments = raw_moments(data, labels, k, show_progressbar)
    else:
        data = data.reshape((labels.shape[0], -1))
        if moments is None:
            moments = _compute.grouped_moments(data, labels, k)
    counts, mean, m2 = moments
    std = np.sqrt(m2 / np.maximum(counts, 1)[:, None])
    centroid = np.full(mean.shape, np.nan)
    present = centroid_index >= 0
    if present.any():
        idx = centroid_index[present]
        if lazy:
            # point-wise reads: only the tiles holding the centroids
            where = np.unravel_index(idx, data.shape[:-1])
            with progress(show_progressbar):
                rows = np.asarray(compute_within(data.vindex[where], data))
        else:
            rows = data[idx]
        centroid[present] = rows.astype(np.float64)
    return counts, mean, std, centroid


def _from_low_rank(centers, labels, k, centroid_index):
    """Counts, means, stds and centroids of a reconstruction ``A @ G.T``."""
    A, G = centers.low_rank()
    A = A.astype(np.float64)
    G = G.astype(np.float64)
    counts, mean_a, _ = _compute.grouped_moments(A, labels, k, with_m2=False)
    mean = mean_a @ G.T
    var = np.full(mean.shape, np.nan)
    for j in range(k):
        members = A[labels == j]
        if members.shape[0]:
            dev = members - members.mean(axis=0)
            cov = dev.T @ dev / members.shape[0]
            # diag(G cov G^T) without forming the channels x channels matrix
            var[j] = np.einsum("ci,ij,cj->c", G, cov, G)
    std = np.sqrt(np.maximum(var, 0.0))
    centroid = np.full(mean.shape, np.nan)
    present = centroid_index >= 0
    centroid[present] = A[centroid_index[present]] @ G.T
    return counts, mean, std, centroid
