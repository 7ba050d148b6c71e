"""The in-memory engine: the features as one NumPy array.

Named k-means (``algorithm="kmeans"``) runs clusterspy's own k-means
(:mod:`clusterspy.engines.gemm`: k-means++ on a seeded sample, then exact
Lloyd passes by matrix products, in the features' dtype), the algorithm of
the blockwise engine; ``engine_kwargs={"exact_sklearn": True}``, or a
``KMeans`` object as ``algorithm``, fits scikit-learn's ``KMeans`` itself.
Every other algorithm is scikit-learn's (or the user's) estimator as it is.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import _compute
from ..algorithms import fit_labels
from ..results import MASKED, NOISE
from ._tolerance import lean_kmeans_tolerance
from .base import Fit, n_clusters_found

__all__ = ["fit"]


def fit(plan, estimator, request):
    """Fit ``estimator`` on the plan's features, read whole into memory.

    See :mod:`clusterspy.engines.base` for the interface.
    """
    raw = _lazy_raw_data(plan, request.centers, request.show_progressbar)
    X_kept, keep, owned = plan.kept_features(
        request.show_progressbar, request.k_requested, raw
    )
    options = request.options or {}
    fast = request.algorithm == "kmeans" and _fast_kmeans_applies(
        estimator, X_kept, options
    )
    start = None
    if fast and _row_wise(plan.preprocessor):
        # Seed on the sample before the preprocessed copy exists: the peak
        # memory is then that copy, not the copy and the sample.
        start = _seed_kmeans(estimator, X_kept, plan.preprocessor, options, keep)
    Xp = plan.preprocess(X_kept, owned, raw)
    del X_kept
    if request.grid:
        _set_grid_connectivity(estimator, plan, keep)
    kept_distances = None
    from_partition = False
    if request.algorithm == "kmeans" and _fast_kmeans_applies(estimator, Xp, options):
        if start is None:
            start = _seed_kmeans(estimator, Xp, None, options, keep)
        *start, from_partition = start
        run = _fit_fast_kmeans(estimator, Xp, start, plan.row_squared_norms)
        raw_labels, raw_membership = run.labels, None
        k = estimator.n_clusters
        counts, means, kept_distances = (
            run.counts.astype(np.int64),
            run.means,
            run.distances,
        )
    elif request.algorithm == "kmeans":
        raw_labels, raw_membership = _fit_kmeans(estimator, Xp, plan.features_owned)
    else:
        raw_labels, raw_membership = fit_labels(estimator, Xp)
    if kept_distances is None:
        k = n_clusters_found(raw_labels, request.k_requested)
        counts, means, _ = _compute.grouped_moments(Xp, raw_labels, k, with_m2=False)
        kept_distances = _compute.pairwise_distances_to(Xp, means)
    n = keep.size
    labels = np.full(n, MASKED, dtype=np.int64)
    labels[keep] = np.where(raw_labels >= 0, raw_labels, NOISE)
    distances = np.full((n, k), np.nan)
    distances[keep] = kept_distances
    centroid_index = _compute.nearest_members(labels, distances, k)
    raw_moments = None
    if raw is not None:
        # the cluster signals' moments from the data already in memory, not
        # from a second read of the lazy file
        raw_moments = _compute.grouped_moments(raw, labels, k)
    membership = None
    if raw_membership is not None and raw_membership.shape == (Xp.shape[0], k):
        membership = np.full((n, k), np.nan)
        membership[keep] = raw_membership
    return Fit(
        k,
        labels,
        membership,
        means,
        counts,
        distances,
        centroid_index,
        estimator,
        Xp.dtype,
        raw_moments,
        from_partition,
    )


def _lazy_raw_data(plan, centers, show_progressbar):
    """The lazy signal's data computed once, when they are also the cluster signals'.

    A lazy signal whose features fit in memory (``engine="auto"``, see
    :func:`clusterspy.engines.choose_engine`) would otherwise be read twice:
    for the features and for the cluster signals. Returns None when the
    features are not the signal's own lazy data, whole.
    """
    source = plan.source
    if (
        source.kind != "signal"
        or source.signal_mask is not None
        or plan.spatial_weight is not None
        or centers is None
        or centers.kind != "signal"
        or centers.signal is not source.signal
    ):
        return None
    X = plan.features()
    if not type(X).__module__.startswith("dask"):
        return None
    return plan.raw_features(show_progressbar)


def _fast_kmeans_applies(estimator, Xp, options):
    """Whether named k-means runs :mod:`clusterspy.engines.gemm`'s fit."""
    from sklearn.cluster import KMeans

    if options.get("exact_sklearn", False):
        return False
    return (
        type(estimator) is KMeans
        and estimator.algorithm == "lloyd"
        and not estimator.verbose
        and isinstance(Xp, np.ndarray)
        and Xp.ndim == 2
        and Xp.dtype in (np.float32, np.float64)
    )


def _row_wise(preprocessor):
    """Whether the preprocessing scales each row alone (or there is none)."""
    from sklearn.preprocessing import Normalizer

    return preprocessor is None or type(preprocessor) is Normalizer


def _partition_rows(partition, keep, n_clusters):
    """Rows of the kept features and labels of a given partition, or None.

    ``partition`` is ``(positions, labels)`` (flat navigation indices), as
    the automatic number of clusters leaves it; None when a cluster has no
    kept position.
    """
    if partition is None or keep is None:
        return None
    positions, labels = (np.asarray(a) for a in partition)
    kept = np.flatnonzero(keep)
    rows = np.searchsorted(kept, positions)
    found = (rows < kept.size) & (kept[np.minimum(rows, kept.size - 1)] == positions)
    rows, labels = rows[found], labels[found]
    if labels.size == 0 or labels.min() < 0 or labels.max() >= n_clusters:
        return None
    if np.bincount(labels, minlength=n_clusters).min() == 0:
        return None
    return rows, labels


def _seed_kmeans(estimator, X, preprocessor, options, keep=None):
    """k-means++ on a seeded sample of the rows of ``X``.

    Returns ``(centers, tol, from_partition)``: the initial centres, the
    absolute tolerance, and whether they came from ``init_partition``.

    The rows are drawn as the blockwise engine draws them
    (:func:`~clusterspy.engines.kmeans.sample_rows_for`), and scaled by
    ``preprocessor`` (row-wise, so that they equal the rows of the scaled
    data) when ``X`` is not scaled yet. With ``options["init_partition"]``
    (set by ``n_clusters="auto"``) the start is that partition's centres
    instead, on its own rows.
    """
    from sklearn.base import clone
    from sklearn.utils import check_random_state
    from threadpoolctl import threadpool_limits

    from .kmeans import initial_centers, sample_rows_for

    n_clusters = estimator.n_clusters
    rs = check_random_state(estimator.random_state)
    given = _partition_rows(options.get("init_partition"), keep, n_clusters)
    if given is not None:
        rows, labels = given
    else:
        rows = sample_rows_for(
            X.shape[0], X.shape[1], n_clusters, options.get("init_sample_size"), rs
        )
    sample = X if rows is None else X[rows]
    if preprocessor is not None:
        scaler = clone(preprocessor)
        if rows is not None:
            scaler.set_params(copy=False)  # the gathered rows are our own
        sample = scaler.fit_transform(sample)
    init = estimator.init
    if given is not None:
        init = np.array(
            [sample[labels == c].mean(axis=0) for c in range(n_clusters)],
            dtype=np.float64,
        )
    # k-means++ makes many small matrix products, which a BLAS team slows
    # down (see _fit_kmeans)
    with threadpool_limits(limits=1, user_api="blas"):
        centers, tol = initial_centers(
            sample,
            n_clusters,
            init,
            estimator.n_init,
            estimator.max_iter,
            estimator.tol,
            rs,
        )
    return centers, tol, given is not None


def _fit_fast_kmeans(estimator, Xp, start, x2=None):
    """Exact Lloyd passes over every row from ``start = (centers, tol)``.

    ``x2``: the rows' squared norms, when the preprocessing computed them.

    The estimator is given the fitted attributes of a scikit-learn
    ``KMeans`` (centres in the features' dtype), so that ``predict`` and
    ``return_info`` work as with scikit-learn's fit.
    """
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    from .gemm import lloyd_in_memory

    Xp = np.ascontiguousarray(Xp)
    n_clusters = estimator.n_clusters
    centers, tol = start
    run = lloyd_in_memory(Xp, centers, estimator.max_iter, tol, x2=x2)
    estimator.cluster_centers_ = run.centers.astype(Xp.dtype)
    estimator.labels_ = run.labels.astype(np.int32)
    estimator.inertia_ = run.inertia
    estimator.n_iter_ = run.n_iter
    estimator.n_features_in_ = Xp.shape[1]
    estimator._n_features_out = n_clusters
    estimator._n_threads = _openmp_effective_n_threads()
    return run


def _set_grid_connectivity(estimator, plan, keep):
    """``connectivity="grid"``: join only neighbouring kept navigation positions."""
    from sklearn.feature_extraction.image import grid_to_graph

    nav = plan.signal.axes_manager.navigation_shape[::-1]
    estimator.set_params(
        connectivity=grid_to_graph(*nav, mask=keep.reshape(nav))
        if len(nav) <= 3
        else None
    )


def _fit_kmeans(estimator, Xp, features_owned):
    """scikit-learn's ``KMeans``, without its data-sized temporaries.

    k-means would otherwise copy our own features to centre them (they can
    be centred in place: scikit-learn restores them after fitting), and build
    a data-sized temporary to compute its tolerance. Its k-means++ start
    makes many small matrix products, which threaded BLAS slows down
    (measured 14.3 s -> 8.3 s for a 1 GiB map on 2 cores); its Lloyd
    iterations are parallel with OpenMP, not BLAS.
    """
    from threadpoolctl import threadpool_limits

    with lean_kmeans_tolerance(), threadpool_limits(limits=1, user_api="blas"):
        if features_owned:
            with _no_copy_x(estimator):
                return fit_labels(estimator, Xp)
        return fit_labels(estimator, Xp)


@contextlib.contextmanager
def _no_copy_x(estimator):
    """Fit k-means without its defensive copy of the features, then restore."""
    if estimator.get_params().get("copy_x") is not True:
        yield
        return
    estimator.set_params(copy_x=False)
    try:
        yield
    finally:
        estimator.set_params(copy_x=True)
