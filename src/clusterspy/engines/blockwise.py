"""The out-of-core engine: every pass over the data is one dask map-reduce.

The features stay a dask array whose blocks are the data's own navigation
tiles (:class:`~clusterspy.engines.rowblocks.RowBlocks`); only
navigation-sized arrays (labels, distances) live in memory. Passes: feature
statistics and finite rows (which also fit ``standard``/``minmax`` exactly);
then, by algorithm, exact blockwise k-means
(:class:`~clusterspy.engines.kmeans.BlockwiseKMeans`), mini-batch k-means
streaming ``partial_fit`` over the blocks, or any other algorithm fitted on a
seeded sample and every position assigned blockwise; a final pass gives
distances, centroids and, when the cluster signals come from the same data,
their moments.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.utils import check_random_state

from .. import _compute
from .._utils.progress import progress
from ..algorithms import fit_labels
from ..sources import flatten_signal_axes
from . import rowblocks
from .base import Fit, n_clusters_found
from .kmeans import (
    FIT_SAMPLE_BYTES,
    BlockwiseKMeans,
    default_sample_size,
    sample_rows_for,
)

__all__ = ["fit"]


def fit(plan, estimator, request):
    """Fit ``estimator`` on the plan's features, block by block.

    See :mod:`clusterspy.engines.base` for the interface.
    """
    blocks, feature_dtype = _open_blocks(plan, request, estimator)
    membership = None
    if request.algorithm == "kmeans":
        fitted, labels, means, counts, k = _fit_kmeans(estimator, blocks, request)
    else:
        if request.algorithm == "minibatchkmeans":
            _stream_partial_fit(estimator, blocks, request.options.get("passes", 2))
            predictor, k = estimator, estimator.n_clusters
        else:
            predictor, k = _fit_on_sample(estimator, blocks, request)
        labels, membership, means, counts = rowblocks.predict_labels(
            blocks, predictor, k
        )
        fitted = estimator
    raw = _same_data_as_features(plan, request.centers, blocks)
    distances, centroid_index, moments = rowblocks.final_pass(
        blocks, labels, means, k, raw=raw
    )
    return Fit(
        k,
        labels,
        membership,
        means,
        counts.astype(np.int64),
        distances,
        centroid_index,
        fitted,
        feature_dtype,
        moments,
    )


def _sample_size(request, n_features):
    return request.options.get(
        "fit_sample_size",
        default_sample_size(n_features, request.k_requested or 1, FIT_SAMPLE_BYTES),
    )


def _sample_seed(request):
    return request.seed if isinstance(request.seed, int) else 0


def _open_blocks(plan, request, estimator=None):
    """Row blocks of the kept, finite positions, with the preprocessing fitted.

    One pass over the data (feature statistics and finite rows), which also
    reads the rows the fit will sample (:func:`_predicted_sample`). Returns
    the blocks and the dtype of the preprocessed features.
    """
    X = plan.features(flat=False)
    blocks = rowblocks.RowBlocks(
        X,
        plan.keep,
        None,
        request.show_progressbar,
        block_budget=(request.options or {}).get("block_budget"),
    )
    prefetch = _predicted_sample(estimator, request, plan.keep, blocks.n_features)
    finite, stats = rowblocks.scan(blocks, prefetch)
    blocks.keep = plan.apply_nan_policy(plan.keep, finite, request.k_requested)
    if plan.preprocessor is not None:
        if stats["count"] == 0:
            raise ValueError("No finite navigation position is left to cluster.")
        rowblocks.fit_preprocessor(
            plan.preprocessor,
            blocks,
            stats,
            _sample_size(request, blocks.n_features),
            _sample_seed(request),
        )
        blocks.transform = plan.preprocessor
    probe = rowblocks._block_features(
        np.zeros((1, blocks.n_features), X.dtype), plan.preprocessor
    )
    return blocks, probe.dtype


def _predicted_sample(estimator, request, keep, n_features):
    """The rows the fit will sample, drawn before the scan so that it reads them.

    They are drawn as the fit will draw them (:func:`sample_rows_for` with
    a copy of the estimator's random state for k-means, the seeded draw of
    :meth:`RowBlocks.sample` for the algorithms fitted on a sample), from
    the rows kept before the scan. When the scan drops no row (no NaN),
    they are the fit's sample, which then costs no read of its own;
    otherwise the fit reads its sample as before. None when nothing is
    sampled (mini-batch k-means streams) or the estimator is unknown.
    """
    if estimator is None or request.algorithm == "minibatchkmeans":
        return None
    if request.algorithm == "kmeans":
        params = estimator.get_params()
        kept = np.flatnonzero(keep)
        rows = sample_rows_for(
            kept.size,
            n_features,
            params["n_clusters"],
            (request.options or {}).get("init_sample_size"),
            copy.deepcopy(check_random_state(params["random_state"])),
        )
        return kept if rows is None else kept[rows]
    return rowblocks.sample_positions(
        keep, _sample_size(request, n_features), _sample_seed(request)
    )


def _fit_kmeans(estimator, blocks, request):
    """Exact k-means: k-means++ on a sample, then Lloyd passes over the blocks."""
    model = BlockwiseKMeans.from_kmeans(
        estimator,
        init_sample_size=request.options.get("init_sample_size"),
        show_progressbar=request.show_progressbar,
    )
    model.fit(blocks)
    return (
        model,
        model.labels_,
        model.member_means_,
        model.member_counts_,
        model.n_clusters,
    )


def _fit_on_sample(estimator, blocks, request):
    """Fit an algorithm that cannot stream on a seeded sample, with a warning.

    Returns what assigns every position afterwards (the estimator, or the
    nearest of the sample clusters' means) and the number of clusters.
    """
    sample, _ = blocks.sample(
        _sample_size(request, blocks.n_features), _sample_seed(request)
    )
    warnings.warn(
        f"{request.algorithm} cannot stream over the data's blocks: it is fitted "
        f"on a random sample of {sample.shape[0]} navigation positions, and every "
        "position is then assigned blockwise "
        + (
            "by its predict method."
            if hasattr(estimator, "predict")
            else "to the nearest cluster centre."
        ),
        UserWarning,
        # user -> cluster_analysis -> fit -> here
        stacklevel=4,
    )
    sample_labels, _ = fit_labels(estimator, sample)
    k = n_clusters_found(sample_labels, request.k_requested)
    if hasattr(estimator, "predict"):
        return estimator, k
    _, sample_means, _ = _compute.grouped_moments(
        sample, sample_labels, k, with_m2=False
    )
    return _NearestCenter(sample_means), k


def _same_data_as_features(plan, centers, blocks):
    """The cluster signals' data, when their moments can come in the final pass.

    That is when they are the very data the features are read from, in the
    same row blocks; otherwise None.
    """
    if centers is None or centers.kind not in ("signal", "user"):
        return None
    if centers.signal is not plan.source.signal:
        return None
    raw = flatten_signal_axes(
        centers.signal._data_aligned_with_axes,
        centers.signal.axes_manager.navigation_dimension,
    )
    return raw if blocks.aligned(raw) else None


class _NearestCenter:
    """``predict`` by the nearest of given centres, for estimators without one."""

    def __init__(self, centers):
        self.centers = centers

    def predict(self, X):
        d = _compute.pairwise_distances_to(X, self.centers)
        return np.nanargmin(d, axis=1)


def _stream_partial_fit(estimator, blocks, passes):
    """Mini-batch k-means by ``partial_fit`` over the blocks, ``passes`` times.

    Blocks are read one at a time, in order, and cut into mini-batches of the
    estimator's ``batch_size``.
    """
    import dask

    batch = estimator.get_params().get("batch_size", 1024)
    delayed_blocks = blocks.features.to_delayed().reshape(-1)
    for _ in range(passes):
        for i, idx in enumerate(blocks.index):
            local = np.flatnonzero(blocks.keep[idx])
            if not local.size:
                continue
            with progress(blocks.show_progressbar):
                block = dask.compute(delayed_blocks[i])[0]
            X = rowblocks._take_rows(block, local, blocks.transform)
            for b in range(0, X.shape[0], batch):
                estimator.partial_fit(X[b : b + batch])
