"""Cluster analysis of a HyperSpy signal: the pipeline and its getters.

``signal -> source -> preprocessing -> algorithm -> ClusterResult``; see
``docs/design.md``. Every function here is also a method of the
``s.clusterspy`` namespace, with the signal as ``self``.
"""

from __future__ import annotations

import contextlib
import datetime
import warnings
from dataclasses import dataclass

import numpy as np

from . import _compute
from .algorithms import (
    canonical_name,
    check_estimator_inputs,
    fit_labels,
    make_estimator,
    requested_n_clusters,
)
from .engines import ENGINES
from .preprocessing import make_preprocessor
from .results import MASKED, NOISE, UNASSIGNED, ClusterResult, json_safe, pickle_model
from .sources import (
    _as_numpy,
    _is_dask,
    _is_signal,
    navigation_mask_to_flat,
    resolve_source,
)
from .validation import (
    as_working_float,
    check_bool,
    check_choice,
    check_predict_features,
    check_predict_signal,
    check_random_state_seed,
    check_show_progressbar,
    check_signal,
    plan_feature_count,
    reads_data,
)

__all__ = [
    "FeaturePlan",
    "plan_features",
    "cluster_analysis",
    "get_cluster_result",
    "predict",
]

_NAN_POLICIES = ("raise", "mask")


def _progress(show_progressbar):
    """A dask progress bar if progress is wanted, else a null context.

    Passes shorter than a second print nothing, as HyperSpy's own bars.
    """
    if show_progressbar is None:
        from hyperspy.defaults_parser import preferences

        show_progressbar = preferences.General.show_progressbar
    if show_progressbar:
        from dask.diagnostics import ProgressBar

        return ProgressBar(minimum=1.0)
    return contextlib.nullcontext()


def _versions():
    import dask
    import hyperspy
    import sklearn

    from . import __version__

    return {
        "clusterspy": __version__,
        "hyperspy": hyperspy.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "dask": dask.__version__,
    }


def _describe(obj):
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if _is_signal(obj):
        title = obj.metadata.General.title
        return f"<{type(obj).__name__} {title!r}>"
    return repr(obj)


@reads_data  # a damaged file is named
def cluster_analysis(
    signal,
    cluster_source,
    source_for_centers=None,
    preprocessing=None,
    preprocessing_kwargs=None,
    number_of_components=None,
    navigation_mask=None,
    signal_mask=None,
    algorithm=None,
    return_info=False,
    random_state=None,
    nan_policy="raise",
    show_progressbar=None,
    engine="auto",
    engine_kwargs=None,
    spatial_weight=None,
    membership_threshold=None,
    **kwargs,
):
    """Cluster the navigation positions of a signal.

    Each navigation position (pixel of a map, point of a line scan, image of
    a stack) is one sample; its features come from ``cluster_source``. The
    result is stored with the signal (``signal.learning_results.clusterspy``)
    and read back with the ``get_cluster_*`` getters and the plots.

    Parameters
    ----------
    signal : hyperspy.api.signals.BaseSignal
        Any signal with navigation dimension >= 1, eager or lazy.
    cluster_source : {"signal", "decomposition", "bss"} or BaseSignal
        Features: the signal's data; the first ``number_of_components``
        decomposition or BSS loadings; or another signal with the same
        navigation size (element maps, fitted parameters, any features; a
        stack of maps must be transposed with ``.T`` so that the maps' axes
        are navigation axes).
    source_for_centers : {"signal", "decomposition", "bss"}, BaseSignal or None
        Data from which the cluster signals (sum, mean, std, centroid) are
        computed. ``None`` (default) uses the signal's own data, so cluster
        signals are physical spectra or images. ``"decomposition"`` and
        ``"bss"`` use the reconstruction from the first
        ``number_of_components`` components with the decomposition mean
        added back.
    preprocessing : {None, "norm", "l1", "standard", "minmax", "sqrt", "anscombe"} or object
        Scaling of the features before clustering (see
        :mod:`clusterspy.preprocessing`), or any object with
        ``fit_transform``, such as a scikit-learn ``Pipeline``. Default None.
    preprocessing_kwargs : dict or None
        Keyword arguments for a named preprocessing.
    number_of_components : int or None
        Components used by the ``"decomposition"``/``"bss"`` sources; ``None``
        takes the number of significant components the decomposition
        estimated (decomposition) or all components (BSS).
    navigation_mask : numpy.ndarray, BaseSignal or None
        Boolean, ``True`` at navigation positions to exclude; an array has
        HyperSpy's ``navigation_shape`` (x first), as for ``decomposition``.
        Excluded positions get the label :data:`clusterspy.MASKED` (-2).
    signal_mask : numpy.ndarray, BaseSignal or None
        Boolean, ``True`` at channels to exclude from the features of
        ``"signal"`` and signal sources (shape ``signal_shape``).
    algorithm : str, object or None
        ``"kmeans"`` (default), ``"minibatchkmeans"``, ``"agglomerative"``,
        ``"spectral"``, ``"gaussian_mixture"``, ``"dbscan"``, ``"hdbscan"``,
        ``"birch"``, or any scikit-learn-compatible clustering object (it is
        cloned, not fitted in place). Algorithms with ``predict_proba`` give
        soft memberships.
    return_info : bool
        If True, return the fitted estimator.
    random_state : int, numpy.random.RandomState or None
        Seed for the algorithm. ``None`` draws a seed and records it in the
        result's parameters, so every result can be reproduced; a
        RandomState gives a seed drawn from it, recorded the same way.
    nan_policy : {"raise", "mask"}
        What to do with navigation positions whose features are NaN or
        infinite: raise an error (default) or exclude them like masked ones.
    show_progressbar : bool or None
        Show dask's progress bar for each pass over lazy data; ``None``
        follows HyperSpy's preferences.
    engine : {"auto", "memory", "blockwise"}
        How the data are touched (see :mod:`clusterspy.engines`): ``"auto"``
        uses the out-of-core ``"blockwise"`` engine when the features are
        lazy (the ``"signal"`` source of a lazy signal) and ``"memory"``
        otherwise.
    engine_kwargs : dict or None
        Options of the blockwise engine: ``init_sample_size`` (rows for the
        k-means++ initialisation) and ``fit_sample_size`` (rows on which
        algorithms that cannot stream are fitted), both by default as many
        as take about 128 MiB in float64 (at least 1000, at most 100 000:
        8192 rows of 2048 channels); ``passes`` (passes of mini-batch
        k-means over the data, default 2).
    spatial_weight : float or None
        Add the calibrated navigation coordinates as features, so that
        nearby positions tend to share a cluster (as in segmenting an image
        on [x, y, R, G, B]). The coordinates are divided by their spread
        (root-mean-square distance from the map's centre) and multiplied by
        ``spatial_weight``, after the preprocessing of the other features:
        with ``"norm"`` preprocessing, 0.1 to 1 is the useful range. The
        coordinate columns are part of the result's ``centers``.
    membership_threshold : float or None
        With an algorithm that gives memberships (``"gaussian_mixture"``,
        ``"fuzzy_cmeans"``), positions whose largest membership is below this
        value get the label :data:`clusterspy.UNASSIGNED` (-3) and are left out
        of the cluster signals.
    **kwargs
        Passed to a named algorithm's constructor, for example
        ``n_clusters=3`` (required by every algorithm but DBSCAN/HDBSCAN) or
        ``n_init=10``. With ``algorithm="agglomerative"``,
        ``connectivity="grid"`` joins only neighbouring navigation positions,
        so that every cluster is a spatially contiguous region (Ward
        clustering constrained by the pixel grid).

    Returns
    -------
    None or estimator
        The fitted estimator if ``return_info`` is True.

    Raises
    ------
    TypeError, ValueError
        For invalid parameters, before any work is done. The signal is never
        modified, whether the call succeeds or raises, except that results
        are stored in ``learning_results.clusterspy`` on success.

    Notes
    -----
    Labels are ordered by cluster size, largest first. Cluster means and
    standard deviations (population, ``ddof=0``) are accumulated in float64
    over blocks of rows.

    Lazy signals are never loaded whole by the blockwise engine: each pass
    reads the data block by block (one pass for the preprocessing
    statistics, one per k-means iteration, or one for the labels of
    algorithms fitted on a sample, and one for the distances and cluster
    signals). K-means gives the same labels as on the eager signal for the
    same ``random_state`` (k-means++ on the same rows, then exact Lloyd
    iterations) as long as all positions fit in the initialisation sample
    (``init_sample_size``); with ``n_init > 1`` the starts are compared on
    that sample and only the best runs over the data. Algorithms that cannot
    stream are fitted on a seeded sample, with a warning. Mini-batch k-means
    is the exception to "lazy equals eager": lazily it learns by
    ``partial_fit`` over the blocks in order (``engine_kwargs["passes"]``
    times), eagerly by ``MiniBatchKMeans.fit`` on random batches, so the two
    give different (comparably good) clusterings for the same
    ``random_state``; use ``"kmeans"`` where they must agree. Lazy features that
    are small (the decomposition loadings) are clustered in memory.

    Examples
    --------
    >>> import clusterspy
    >>> s, truth = clusterspy.datasets.spectrum_image(
    ...     shape=(16, 16), n_channels=64, return_truth=True, random_state=0)
    >>> s.clusterspy.cluster_analysis(
    ...     "signal", preprocessing="norm", n_clusters=3, random_state=0)
    >>> s.clusterspy.get_cluster_labels(merged=True).data.shape
    (16, 16)
    """
    # -- validate everything before any work -----------------------------------------
    plan = plan_features(
        signal,
        cluster_source,
        preprocessing,
        preprocessing_kwargs,
        number_of_components,
        navigation_mask,
        signal_mask,
        nan_policy,
        spatial_weight,
    )
    source = plan.source
    if source_for_centers is None:
        source_for_centers = "signal"
    centers_n = number_of_components
    if isinstance(source_for_centers, str) and source.kind == source_for_centers:
        centers_n = source.number_of_components
    centers = resolve_source(
        signal, source_for_centers, centers_n, None, name="source_for_centers"
    )
    if number_of_components is not None and not (
        source.kind in ("decomposition", "bss")
        or centers.kind in ("decomposition", "bss")
    ):
        raise ValueError(
            "`number_of_components` only applies when `cluster_source` or "
            "`source_for_centers` is 'decomposition' or 'bss'."
        )
    seed = check_random_state_seed(random_state, draw=True)  # recordable seed
    estimator_kwargs = dict(kwargs)
    grid = isinstance(kwargs.get("connectivity"), str)
    if grid:
        if (
            kwargs["connectivity"] != "grid"
            or canonical_name(algorithm) != "agglomerative"
        ):
            raise ValueError(
                "`connectivity` as a string must be 'grid', with "
                "algorithm='agglomerative'; got "
                f"connectivity={kwargs['connectivity']!r}, algorithm={algorithm!r}."
            )
        del estimator_kwargs["connectivity"]
    estimator, algorithm_name = make_estimator(algorithm, estimator_kwargs, seed)
    return_info = check_bool(return_info, "return_info")
    show_progressbar = check_show_progressbar(show_progressbar)
    k_requested = requested_n_clusters(estimator)
    plan.check_enough_samples(k_requested)
    if membership_threshold is not None:
        if (
            isinstance(membership_threshold, bool)
            or not isinstance(membership_threshold, (int, float, np.floating))
            or not 0 < membership_threshold <= 1
        ):
            raise ValueError(
                "`membership_threshold` must be a number in (0, 1] or None, not "
                f"{membership_threshold!r}."
            )
        if not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"`membership_threshold` needs soft memberships, which "
                f"algorithm={algorithm_name!r} does not give; use "
                "'gaussian_mixture' or 'fuzzy_cmeans'."
            )

    engine = check_choice(engine, "engine", ENGINES)
    engine_kwargs = _check_engine_kwargs(engine_kwargs)
    check_estimator_inputs(
        estimator, int(plan.keep.sum()), plan_feature_count(plan), engine_kwargs
    )
    if engine == "auto":
        engine = "blockwise" if _is_dask(source.features()) else "memory"
    if grid and engine != "memory":
        raise ValueError(
            "connectivity='grid' needs every position in memory: pass engine='memory'."
        )

    # -- fit: labels, members' means and distances in feature space -----------------
    if engine == "memory":
        fit = _fit_in_memory(
            plan, estimator, algorithm_name, k_requested, show_progressbar, grid
        )
    else:
        fit = _fit_blockwise(
            plan,
            estimator,
            algorithm_name,
            k_requested,
            seed,
            show_progressbar,
            engine_kwargs,
            centers,
        )
    k = fit.k
    if k == 0:
        raise ValueError(
            f"{algorithm_name} labelled every sample as noise; no cluster was found "
            "(for DBSCAN, increase `eps` or decrease `min_samples`)."
        )
    estimator = fit.estimator
    preprocessor = plan.preprocessor
    if membership_threshold is not None:
        _apply_membership_threshold(fit, membership_threshold)

    # -- order clusters by size, largest first -----------------------------------------------
    # new label i is the estimator's label order[i]
    order = np.argsort(-fit.counts, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    raw = fit.labels
    labels = np.where(raw >= 0, rank[np.maximum(raw, 0)], raw).astype(np.int64)
    membership = None if fit.membership is None else fit.membership[:, order]
    counts = fit.counts[order].astype(np.int64)
    feature_centers = fit.means[order]
    distances = fit.distances[:, order]
    centroid_index = fit.centroid_index[order]
    if (counts == 0).any():
        warnings.warn(
            f"{int((counts == 0).sum())} of the {k} clusters have no members; their "
            "cluster signals are NaN.",
            UserWarning,
            stacklevel=2,
        )

    # -- cluster signals from source_for_centers ---------------------------------------------
    if fit.raw_moments is not None:
        moments = tuple(None if m is None else m[order] for m in fit.raw_moments)
    else:
        moments = None
    signals = _cluster_signals(
        centers, labels, k, centroid_index, moments, show_progressbar
    )

    projection_factors = projection_mean = None
    decomposition_centre = None
    if source.kind in ("decomposition", "bss"):
        _, projection_factors = source._loadings_and_factors()
        decomposition_centre = signal.learning_results.centre
        if decomposition_centre == "navigation":
            projection_mean = _as_numpy(signal.learning_results.mean).reshape(-1)

    parameters = json_safe(
        {
            "cluster_source": source.description,
            "cluster_source_kind": source.kind,
            "source_for_centers": centers.description,
            "preprocessing": _describe(preprocessing),
            "preprocessing_kwargs": preprocessing_kwargs or {},
            "number_of_components": source.number_of_components,
            "centers_number_of_components": centers.number_of_components,
            "navigation_mask": plan.navigation_mask is not None,
            "signal_mask": source.signal_mask is not None,
            "algorithm": algorithm_name,
            "estimator": repr(estimator),
            "kwargs": {key: _describe(v) for key, v in kwargs.items()},
            "random_state": seed if isinstance(seed, int) else repr(random_state),
            "nan_policy": nan_policy,
            "n_features": int(feature_centers.shape[1]),
            "feature_dtype": str(fit.feature_dtype),
            "engine": engine,
            "spatial_weight": spatial_weight,
            "membership_threshold": membership_threshold,
            "decomposition_centre": decomposition_centre,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "signal_title": signal.metadata.General.title,
        }
    )
    result = ClusterResult(
        labels=labels,
        n_clusters=k,
        membership=membership,
        distances=distances,
        centers=feature_centers,
        counts=counts,
        centroid_index=centroid_index,
        label_order=order.astype(np.int64),
        signal_mask=source.signal_mask,
        navigation_shape=tuple(signal.axes_manager.navigation_shape),
        projection_factors=projection_factors,
        projection_mean=projection_mean,
        parameters=parameters,
        versions=_versions(),
        centers_axes=json_safe(centers.signal_axes_dicts()),
        centers_signal_type=centers.signal.metadata.Signal.signal_type or "",
        centers_source=centers.kind,
        model_data=pickle_model(preprocessor, estimator),
        **signals,
    )
    # Stored only now, after everything succeeded: a failed call leaves the
    # signal exactly as it was.
    signal.learning_results.clusterspy = result.to_dict()
    return estimator if return_info else None


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


def _lean_tolerance(X, tol):
    """scikit-learn's k-means tolerance, ``tol * mean(var(X, axis=0))``.

    Computed over cache-sized blocks: ``np.var`` would build a temporary the
    size of the data (``X - mean``) just to scale ``tol``.
    """
    if tol == 0:
        return 0
    import scipy.sparse

    if scipy.sparse.issparse(X):
        return _sklearn_tolerance(X, tol)
    count, _, m2 = _compute.grouped_moments(X, np.zeros(X.shape[0], dtype=np.int64), 1)
    return float(np.mean(m2[0] / count[0])) * tol


_sklearn_tolerance = None


@contextlib.contextmanager
def _lean_kmeans_tolerance():
    """Let scikit-learn's k-means compute its tolerance without a data-sized copy.

    Replaces the private ``sklearn.cluster._kmeans._tolerance`` for the
    duration of a fit with :func:`_lean_tolerance`, which computes the same
    quantity (so another thread fitting k-means meanwhile is unaffected). If
    a future scikit-learn renames it, nothing is replaced.
    """
    global _sklearn_tolerance
    from sklearn.cluster import _kmeans

    original = getattr(_kmeans, "_tolerance", None)
    if original is None or original is _lean_tolerance:
        yield
        return
    _sklearn_tolerance = original
    _kmeans._tolerance = _lean_tolerance
    try:
        yield
    finally:
        _kmeans._tolerance = original


@contextlib.contextmanager
def _in_place(estimator):
    """Let an estimator with a ``copy`` parameter work in place, then restore it.

    Pipelines are left alone: their steps may keep references to the input.
    """
    params = (
        estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    )
    if params.get("copy") is not True:
        yield
        return
    estimator.set_params(copy=False)
    try:
        yield
    finally:
        estimator.set_params(copy=True)


@dataclass
class _Fit:
    """What an engine returns, in the estimator's label order.

    ``labels`` cover every navigation position (-1 noise, -2 masked);
    ``means``/``counts`` are over each cluster's members in feature space;
    ``distances`` are to those means; ``raw_moments`` are the cluster
    signals' ``(count, mean, m2)`` when the engine computed them on its way.
    """

    k: int
    labels: np.ndarray
    membership: np.ndarray | None
    means: np.ndarray
    counts: np.ndarray
    distances: np.ndarray
    centroid_index: np.ndarray
    estimator: object
    feature_dtype: object
    raw_moments: tuple | None = None


def _n_clusters_found(raw_labels, k_requested):
    found = int(raw_labels.max()) + 1 if raw_labels.size else 0
    return max(k_requested or 0, found)


def _fit_in_memory(
    plan, estimator, algorithm_name, k_requested, show_progressbar, grid=False
):
    Xp, keep = plan.compute(show_progressbar, k_requested)
    if grid:
        from sklearn.feature_extraction.image import grid_to_graph

        nav = plan.signal.axes_manager.navigation_shape[::-1]
        estimator.set_params(
            connectivity=grid_to_graph(*nav, mask=keep.reshape(nav))
            if len(nav) <= 3
            else None
        )
    if algorithm_name == "kmeans":
        # k-means would otherwise copy our own features to centre them (they
        # can be centred in place: scikit-learn restores them after fitting),
        # and build a data-sized temporary to compute its tolerance. Its
        # k-means++ start makes many small matrix products, which threaded
        # BLAS slows down (measured 14.3 s -> 8.3 s for a 1 GiB map on 2
        # cores); its Lloyd iterations are parallel with OpenMP, not BLAS.
        from threadpoolctl import threadpool_limits

        with _lean_kmeans_tolerance(), threadpool_limits(limits=1, user_api="blas"):
            if plan.features_owned:
                with _no_copy_x(estimator):
                    raw_labels, raw_membership = fit_labels(estimator, Xp)
            else:
                raw_labels, raw_membership = fit_labels(estimator, Xp)
    else:
        raw_labels, raw_membership = fit_labels(estimator, Xp)
    k = _n_clusters_found(raw_labels, k_requested)
    n = keep.size
    counts, means, _ = _compute.grouped_moments(Xp, raw_labels, k, with_m2=False)
    kept_distances = _compute.pairwise_distances_to(Xp, means)
    labels = np.full(n, MASKED, dtype=np.int64)
    labels[keep] = np.where(raw_labels >= 0, raw_labels, NOISE)
    distances = np.full((n, k), np.nan)
    distances[keep] = kept_distances
    centroid_index = _compute.nearest_members(labels, distances, k)
    membership = None
    if raw_membership is not None and raw_membership.shape == (Xp.shape[0], k):
        membership = np.full((n, k), np.nan)
        membership[keep] = raw_membership
    return _Fit(
        k,
        labels,
        membership,
        means,
        counts,
        distances,
        centroid_index,
        estimator,
        Xp.dtype,
    )


def _apply_membership_threshold(fit, threshold):
    """Unassign positions whose largest membership is below ``threshold``.

    Cluster counts and centroids are then over the assigned members only;
    the engines' cluster-signal moments are dropped so that the cluster
    signals are recomputed from the remaining members.
    """
    best = np.nanmax(np.where(np.isnan(fit.membership), -1.0, fit.membership), axis=1)
    weak = (fit.labels >= 0) & (best < threshold)
    fit.labels = np.where(weak, UNASSIGNED, fit.labels)
    fit.counts = np.bincount(fit.labels[fit.labels >= 0], minlength=fit.k)
    fit.centroid_index = _compute.nearest_members(fit.labels, fit.distances, fit.k)
    fit.raw_moments = None


_ENGINE_KWARGS = ("init_sample_size", "fit_sample_size", "passes")


def _check_engine_kwargs(engine_kwargs):
    from .validation import check_int

    if engine_kwargs is None:
        return {}
    if not isinstance(engine_kwargs, dict):
        raise TypeError(
            f"`engine_kwargs` must be a dict or None, not {type(engine_kwargs).__name__}."
        )
    unknown = sorted(set(engine_kwargs) - set(_ENGINE_KWARGS))
    if unknown:
        raise ValueError(
            f"Unknown `engine_kwargs` key(s) {', '.join(unknown)}; valid ones are "
            f"{', '.join(_ENGINE_KWARGS)}."
        )
    return {
        key: check_int(value, f"engine_kwargs['{key}']", minimum=1)
        for key, value in engine_kwargs.items()
    }


class _NearestCenter:
    """``predict`` by the nearest of given centres, for estimators without one."""

    def __init__(self, centers):
        self.centers = centers

    def predict(self, X):
        d = _compute.pairwise_distances_to(X, self.centers)
        return np.nanargmin(d, axis=1)


def _fit_blockwise(
    plan,
    estimator,
    algorithm_name,
    k_requested,
    seed,
    show_progressbar,
    options,
    centers,
):

    from .engines import blockwise
    from .engines.kmeans import BlockwiseKMeans, default_sample_size

    source = plan.source
    X = plan.features(flat=False)
    blocks = blockwise.RowBlocks(X, plan.keep, None, show_progressbar)
    finite, stats = blockwise.scan(blocks)
    keep = plan.apply_nan_policy(plan.keep, finite, k_requested)
    blocks.keep = keep
    n_features = blocks.n_features
    fit_sample_size = options.get(
        "fit_sample_size", default_sample_size(n_features, k_requested or 1)
    )
    sample_seed = seed if isinstance(seed, int) else 0
    if plan.preprocessor is not None:
        if stats["count"] == 0:
            raise ValueError("No finite navigation position is left to cluster.")
        blockwise.fit_preprocessor(
            plan.preprocessor, blocks, stats, fit_sample_size, sample_seed
        )
        blocks.transform = plan.preprocessor
    probe = blockwise._block_features(
        np.zeros((1, n_features), X.dtype), plan.preprocessor
    )
    feature_dtype = probe.dtype

    membership = None
    if algorithm_name == "kmeans":
        model = BlockwiseKMeans.from_kmeans(
            estimator,
            init_sample_size=options.get("init_sample_size"),
            show_progressbar=show_progressbar,
        )
        model.fit(blocks)
        labels, means, counts = model.labels_, model.member_means_, model.member_counts_
        k = model.n_clusters
        fitted = model
    else:
        if algorithm_name == "minibatchkmeans":
            _stream_partial_fit(estimator, blocks, options.get("passes", 2))
            predictor = estimator
            k = estimator.n_clusters
        else:
            sample, _ = blocks.sample(fit_sample_size, sample_seed)
            warnings.warn(
                f"{algorithm_name} cannot stream over the data's blocks: it is fitted "
                f"on a random sample of {sample.shape[0]} navigation positions, and every "
                "position is then assigned blockwise "
                + (
                    "by its predict method."
                    if hasattr(estimator, "predict")
                    else "to the nearest cluster centre."
                ),
                UserWarning,
                stacklevel=3,
            )
            sample_labels, _ = fit_labels(estimator, sample)
            k = _n_clusters_found(sample_labels, k_requested)
            if hasattr(estimator, "predict"):
                predictor = estimator
            else:
                _, sample_means, _ = _compute.grouped_moments(
                    sample, sample_labels, k, with_m2=False
                )
                predictor = _NearestCenter(sample_means)
        labels, membership, means, counts = blockwise.predict_labels(
            blocks, predictor, k
        )
        fitted = estimator
    raw = None
    if centers.kind in ("signal", "user") and centers.signal is source.signal:
        raw = blockwise.flatten_signal_axes(
            centers.signal._data_aligned_with_axes,
            centers.signal.axes_manager.navigation_dimension,
        )
        if not blocks.aligned(raw):
            raw = None
    distances, centroid_index, moments = blockwise.final_pass(
        blocks, labels, means, k, raw=raw
    )
    return _Fit(
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


def _stream_partial_fit(estimator, blocks, passes):
    """Mini-batch k-means by ``partial_fit`` over the blocks, ``passes`` times.

    Blocks are read one at a time, in order, and cut into mini-batches of the
    estimator's ``batch_size``.
    """
    import dask

    from .engines.blockwise import _take_rows

    batch = estimator.get_params().get("batch_size", 1024)
    delayed_blocks = blocks.features.to_delayed().reshape(-1)
    for _ in range(passes):
        for i, idx in enumerate(blocks.index):
            local = np.flatnonzero(blocks.keep[idx])
            if not local.size:
                continue
            with _progress(blocks.show_progressbar):
                block = dask.compute(delayed_blocks[i])[0]
            X = _take_rows(block, local, blocks.transform)
            for b in range(0, X.shape[0], batch):
                estimator.partial_fit(X[b : b + batch])


def _check_enough_samples(n_kept, k):
    if n_kept < 2:
        raise ValueError(
            f"Only {n_kept} navigation position(s) are left to cluster after "
            "masking; at least 2 are needed."
        )
    if k is not None and k > n_kept:
        raise ValueError(
            f"`n_clusters`={k} is larger than the number of navigation positions "
            f"to cluster ({n_kept})."
        )


@dataclass
class FeaturePlan:
    """A validated request for features: what to read and how to scale it.

    Built by :func:`plan_features` before any work; :meth:`compute` then
    reads the data and returns the preprocessed feature matrix. Shared by
    ``cluster_analysis`` and ``estimate_number_of_clusters`` so that both see
    exactly the same samples and features.
    """

    signal: object
    source: object
    navigation_mask: np.ndarray | None
    preprocessor: object
    nan_policy: str
    spatial_weight: float | None = None
    features_owned: bool = False

    @property
    def keep(self):
        """Navigation positions not excluded by the navigation mask."""
        n = self.signal.axes_manager.navigation_size
        if self.navigation_mask is None:
            return np.ones(n, dtype=bool)
        return ~self.navigation_mask

    def check_enough_samples(self, k=None):
        _check_enough_samples(int(self.keep.sum()), k)

    def apply_nan_policy(self, keep, finite, k=None):
        """Return ``keep`` without non-finite rows, or raise (``nan_policy``)."""
        bad = keep & ~finite
        if not bad.any():
            return keep
        if self.nan_policy == "raise":
            nav_shape = self.signal.axes_manager.navigation_shape
            first = np.unravel_index(int(np.flatnonzero(bad)[0]), nav_shape[::-1])
            first = tuple(int(i) for i in first[::-1])
            raise ValueError(
                f"{int(bad.sum())} navigation position(s) have NaN or infinite "
                f"features (the first at navigation index {first}); exclude "
                "them with `navigation_mask`, or pass nan_policy='mask'."
            )
        keep = keep & finite
        _check_enough_samples(int(keep.sum()), k)
        return keep

    def features(self, flat=True):
        """Features before preprocessing (NumPy or dask), coordinates appended.

        ``flat=False`` keeps the navigation axes (see ``Source.features``).
        """
        X = self.source.features(flat)
        if self.spatial_weight is None:
            return X
        from .sources import navigation_coordinates

        coords, _ = navigation_coordinates(self.signal)
        coords = coords.astype(X.dtype).reshape(X.shape[:-1] + (coords.shape[1],))
        if _is_dask(X):
            import dask.array as da

            coords = da.from_array(coords, chunks=X.chunks[:-1] + (-1,))
            return da.concatenate([X, coords], axis=-1)
        return np.concatenate([X, coords], axis=-1)

    def raw_features(self, show_progressbar=None):
        """Features of every navigation position, as NumPy, before masking."""
        X = self.features()
        if _is_dask(X):
            with _progress(show_progressbar):
                X = np.asarray(X.compute())
        return as_working_float(X)  # no float16 sums of squares (overflow)

    def compute(self, show_progressbar=None, k=None):
        """Return ``(Xp, keep)``: preprocessed features of the kept positions.

        ``keep`` is the boolean vector of the positions used (navigation mask
        and, with ``nan_policy="mask"``, non-finite rows removed). The
        preprocessor is fitted here, on the kept rows only. Afterwards
        :attr:`features_owned` is True when ``Xp`` shares no memory with the
        signal (its data or learning results), so that later stages may work
        on it in place.
        """
        X = self.raw_features(show_progressbar)
        keep = self.apply_nan_policy(self.keep, _compute.rows_all_finite(X), k)
        X_kept = X if keep.all() else X[keep]
        owned = not self._shares_memory(X_kept)
        if self.preprocessor is None:
            self.features_owned = owned
            return X_kept, keep
        if owned:
            # Our own copy: scale it in place rather than making another one
            # the size of the data (the transformer is reset to copying
            # afterwards, so that `predict` never writes into user data).
            with _in_place(self.preprocessor):
                Xp = self.preprocessor.fit_transform(X_kept)
        else:
            Xp = self.preprocessor.fit_transform(X_kept)
        self.features_owned = not self._shares_memory(Xp)
        return Xp, keep

    def _shares_memory(self, array):
        if not isinstance(array, np.ndarray):
            return False
        lr = self.signal.learning_results
        owners = [self.source.signal.data, lr.loadings, lr.bss_loadings]
        return any(
            isinstance(o, np.ndarray) and np.may_share_memory(array, o) for o in owners
        )


def plan_features(
    signal,
    cluster_source,
    preprocessing=None,
    preprocessing_kwargs=None,
    number_of_components=None,
    navigation_mask=None,
    signal_mask=None,
    nan_policy="raise",
    spatial_weight=None,
):
    """Validate a feature request and return a :class:`FeaturePlan`.

    Does no work on the data: every parameter error is raised here.
    """
    check_signal(signal)
    if signal.axes_manager.navigation_dimension < 1:
        raise ValueError(
            "Cluster analysis needs a signal with navigation dimension >= 1 (one "
            "sample per navigation position); this signal has none. For an image "
            "whose pixels are samples, use `signal.T`."
        )
    source = resolve_source(signal, cluster_source, number_of_components, signal_mask)
    nav_mask = navigation_mask_to_flat(signal, navigation_mask)
    preprocessor = make_preprocessor(preprocessing, preprocessing_kwargs)
    check_choice(nan_policy, "nan_policy", _NAN_POLICIES)
    if spatial_weight is not None:
        if (
            isinstance(spatial_weight, bool)
            or not isinstance(spatial_weight, (int, float, np.floating))
            or not (np.isfinite(spatial_weight) and spatial_weight > 0)
        ):
            raise ValueError(
                f"`spatial_weight` must be a positive number or None, not {spatial_weight!r}."
            )
        from .preprocessing import WithCoordinates
        from .sources import navigation_coordinates

        _, scale = navigation_coordinates(signal)
        preprocessor = WithCoordinates(
            preprocessor,
            n_coordinates=signal.axes_manager.navigation_dimension,
            weight=float(spatial_weight),
            scale=scale,
        )
    plan = FeaturePlan(
        signal, source, nav_mask, preprocessor, nan_policy, spatial_weight
    )
    plan.check_enough_samples()
    return plan


def _cluster_signals(
    centers, labels, k, centroid_index, moments=None, show_progressbar=None
):
    """Sum, mean, std and centroid signals, in one pass over the data.

    ``moments`` are the ``(count, mean, m2)`` of the data when an engine
    already accumulated them.
    """
    shape = (k,) + tuple(centers.signal_array_shape)
    if centers.kind in ("signal", "user"):
        data = centers.signal._data_aligned_with_axes
        if _is_dask(data):
            from .engines.blockwise import flatten_signal_axes, raw_moments

            # keep the navigation tiles as blocks (see engines.blockwise)
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
            if _is_dask(data):
                # point-wise reads: only the tiles holding the centroids
                where = np.unravel_index(idx, data.shape[:-1])
                with _progress(show_progressbar):
                    rows = np.asarray(data.vindex[where].compute())
            else:
                rows = data[idx]
            centroid[present] = rows.astype(np.float64)
    else:
        A, G = centers.low_rank()
        A = A.astype(np.float64)
        G = G.astype(np.float64)
        counts, mean_a, m2_a = _compute.grouped_moments(A, labels, k, with_m2=False)
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
    total = mean * counts[:, None]
    total[counts == 0] = 0.0
    return {
        "signal_sum": total.reshape(shape),
        "signal_mean": mean.reshape(shape),
        "signal_std": std.reshape(shape),
        "signal_centroid": centroid.reshape(shape),
    }


# -- reading results back ------------------------------------------------------------


def get_cluster_result(signal):
    """Return the :class:`~clusterspy.ClusterResult` stored with ``signal``.

    Raises
    ------
    RuntimeError
        If no cluster analysis was run, or if the signal's navigation shape
        changed since (after ``.T``, ``inav`` or a crop).

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> clusterspy.get_cluster_result(s).n_clusters
    3
    """
    check_signal(signal)
    stored = getattr(signal.learning_results, "clusterspy", None)
    if not stored:
        raise RuntimeError(
            "No clusterspy results on this signal: run "
            "`signal.clusterspy.cluster_analysis(...)` first."
        )
    result = ClusterResult.from_dict(stored)
    nav_shape = tuple(signal.axes_manager.navigation_shape)
    if result.navigation_shape != nav_shape:
        raise RuntimeError(
            "The stored cluster results were computed for navigation shape "
            f"{result.navigation_shape}, but this signal's navigation shape is "
            f"{nav_shape} (after `.T`, `inav` or a crop?); run "
            "`cluster_analysis` again."
        )
    return result


@reads_data  # a damaged file is named
def predict(result, signal, cluster_source=None, show_progressbar=None):
    """Assign the navigation positions of a new signal to fitted clusters.

    The fitted pipeline is applied as it is: the same features (with the
    same signal mask), the fitted preprocessing, and the fitted estimator's
    ``predict`` (or, for algorithms without one, the nearest cluster centre
    in feature space). For the ``"decomposition"``/``"bss"`` sources, the new
    data are projected on the stored factors by least squares (after
    subtracting the decomposition mean, where one was used).

    Parameters
    ----------
    result : ClusterResult
        A fitted result, for example ``s.clusterspy.result``.
    signal : BaseSignal
        The new signal, with the same signal shape as the analysed one.
    cluster_source : BaseSignal or None
        For results clustered on a user signal, the matching feature signal
        of the new data (same navigation size as ``signal``).
    show_progressbar : bool or None
        Progress while lazy data are read.

    Returns
    -------
    BaseSignal
        Labels over the new signal's navigation space, in the result's
        label order.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32, random_state=0)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> labels = s.clusterspy.result.predict(s)
    >>> bool((labels.data == s.clusterspy.get_cluster_labels(merged=True).data).all())
    True
    """
    check_signal(signal)
    kind = result.parameters["cluster_source_kind"]
    if kind == "user":
        if cluster_source is None or not _is_signal(cluster_source):
            raise ValueError(
                "This result was clustered on a user signal: pass the new data's "
                "feature signal as `cluster_source`."
            )
        if (
            cluster_source.axes_manager.navigation_size
            != signal.axes_manager.navigation_size
        ):
            raise ValueError(
                "`cluster_source` must have the same navigation size as `signal`."
            )
        feature_signal = cluster_source
    else:
        if cluster_source is not None:
            raise ValueError(
                "`cluster_source` is only used for results clustered on a user signal."
            )
        feature_signal = signal
    if feature_signal.axes_manager.navigation_dimension < 1:
        raise ValueError("`signal` must have navigation dimension >= 1.")
    check_predict_signal(result, feature_signal)
    show_progressbar = check_show_progressbar(show_progressbar)
    data = feature_signal._data_aligned_with_axes
    n = feature_signal.axes_manager.navigation_size
    X = data.reshape((n, -1))
    if _is_dask(X):
        with _progress(show_progressbar):
            X = np.asarray(X.compute())
    X, finite = check_predict_features(X, result.parameters.get("nan_policy"))
    if kind in ("decomposition", "bss"):
        factors = result.projection_factors
        if X.shape[1] != factors.shape[0]:
            raise ValueError(
                f"`signal` has {X.shape[1]} channels; the decomposition used for "
                f"clustering has {factors.shape[0]}."
            )
        X = X.astype(np.float64)
        centre = result.parameters.get("decomposition_centre")
        if centre == "navigation":
            X = X - result.projection_mean[None, :]
        elif centre == "signal":
            X = X - X.mean(axis=1, keepdims=True)
        X = np.linalg.lstsq(factors, X.T, rcond=None)[0].T
    else:
        if result.signal_mask is not None:
            if X.shape[1] != result.signal_mask.size:
                raise ValueError(
                    f"`signal` has {X.shape[1]} channels; the clustered signal had "
                    f"{result.signal_mask.size}."
                )
            X = X[:, ~result.signal_mask]
        if result.parameters.get("spatial_weight") is not None:
            from .sources import navigation_coordinates

            coords, _ = navigation_coordinates(signal)
            X = np.hstack([X.astype(np.float64), coords])
        if X.shape[1] != result.centers.shape[1]:
            raise ValueError(
                f"The features of `signal` have {X.shape[1]} values per navigation "
                f"position; the clustered features had {result.centers.shape[1]}."
            )
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
    preprocessor, estimator = result.model
    Xp = X if preprocessor is None else preprocessor.transform(X)
    # Estimators fitted on float32 refuse float64 in predict (and vice versa).
    Xp = np.asarray(Xp).astype(result.parameters["feature_dtype"], copy=False)
    rank = np.empty(result.n_clusters, dtype=np.int64)
    rank[result.label_order] = np.arange(result.n_clusters)
    if estimator is not None and hasattr(estimator, "predict"):
        raw = np.asarray(estimator.predict(Xp))
        labels = np.where(raw >= 0, rank[np.maximum(raw, 0)], NOISE)
    else:
        distances = _compute.pairwise_distances_to(Xp, result.centers)
        labels = np.nanargmin(distances, axis=1)
    labels = np.where(finite, labels, MASKED)  # nan_policy="mask"
    from .signals import navigation_map

    out = navigation_map(
        signal, labels.reshape(signal.axes_manager.navigation_shape[::-1])
    )
    out.metadata.General.title = "Predicted cluster labels of " + (
        signal.metadata.General.title
    )
    return out
