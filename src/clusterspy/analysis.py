"""Cluster analysis of a HyperSpy signal: the pipeline, and nothing else.

:func:`cluster_analysis` runs named steps, each a short function here or a
call into the module that does the work::

    validate, plan  every parameter before any work;   (_validate, which calls
                    the features to read and scale      features.plan_features)
    fit             labels, means, distances           (engines: ENGINE_FITS[engine])
    order           clusters by size, largest first    (_order_by_size)
    build           cluster signals and provenance     (cluster_stats, _build_result)
    store           with the signal, only on success   (results.store_result)

See ``docs/design.md``. Every public function is also a method of the
``s.clusterspy`` namespace, with the signal as ``self``.
"""

from __future__ import annotations

import dataclasses
import datetime
import warnings
from dataclasses import dataclass

import numpy as np

from . import _compute
from ._utils.provenance import describe as _describe
from ._utils.provenance import versions as _versions
from .algorithms import (
    canonical_name,
    check_estimator_inputs,
    make_estimator,
    requested_n_clusters,
)
from .cluster_stats import compute_cluster_signals
from .engines import ENGINE_FITS, ENGINES, FitRequest, choose_engine
from .features import FeaturePlan, plan_feature_count, plan_features
from .prediction import predict
from .results import (
    UNASSIGNED,
    ClusterResult,
    get_cluster_result,
    json_safe,
    store_model,
    store_result,
)
from .sources import _as_numpy, resolve_source
from .validation import (
    check_bool,
    check_choice,
    check_int,
    check_max_clusters,
    check_random_state_seed,
    check_show_progressbar,
    reads_data,
)

# FeaturePlan, plan_features, get_cluster_result and predict live in their own
# modules; they stay importable from here, where they used to be.
__all__ = [
    "FeaturePlan",
    "plan_features",
    "cluster_analysis",
    "get_cluster_result",
    "predict",
]

_ENGINE_KWARGS = (
    "init_sample_size",
    "fit_sample_size",
    "passes",
    "memory_budget",
    "exact_sklearn",
    "block_budget",
)


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
    min_counts=None,
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
    number_of_components : int, "auto" or None
        Components used by the ``"decomposition"``/``"bss"`` sources; ``None``
        takes the number of significant components the decomposition
        estimated (decomposition) or all components (BSS). ``"auto"``: the
        components above the noise
        (:func:`clusterspy.components.significant_components_of`: a simulated
        Poisson noise edge for a Poisson-normalised SVD, the scree elbow
        otherwise), recorded in ``parameters["number_of_components_choice"]``.
        An int above the significant number of a Poisson-normalised
        decomposition warns (:class:`~clusterspy.exceptions.DoubtfulEstimateWarning`).
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
    engine : {"auto", "memory", "blockwise", "torch"}
        How the data are touched (see :mod:`clusterspy.engines`): ``"auto"``
        uses the out-of-core ``"blockwise"`` engine when the features are
        lazy (the ``"signal"`` source of a lazy signal) and ``"memory"``
        otherwise. ``"torch"`` runs k-means on a PyTorch device (CUDA when
        available; :mod:`clusterspy.engines.torch`, ``clusterspy[deep]``).
    engine_kwargs : dict or None
        Options of the blockwise engine: ``init_sample_size`` (rows for the
        k-means++ initialisation, by default as many as take about 32 MiB in
        float64: 2048 rows of 2048 channels) and ``fit_sample_size`` (rows on
        which algorithms that cannot stream are fitted, by default about
        128 MiB: 8192 rows of 2048 channels), both at least 1000 and at most
        100 000; ``passes`` (passes of mini-batch
        k-means over the data, default 2); ``memory_budget`` (bytes up to
        which ``engine="auto"`` computes lazy features and clusters them in
        memory; default a quarter of the available memory, see
        :func:`clusterspy.engines.default_memory_budget`); ``block_budget``
        (bytes of the data's chunks that the blockwise engine's tasks hold at
        once on dask's threaded scheduler, default 512 MiB: fewer threads
        run side by side when the chunks are larger, see
        :mod:`clusterspy.engines.rowblocks`);
        ``exact_sklearn`` (True: named k-means is scikit-learn's ``KMeans``
        fit itself, k-means++ on every row, rather than clusterspy's
        in-memory k-means, see :mod:`clusterspy.engines.gemm`).
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
    min_counts : int or None
        Positions with fewer counts (summed over the channels not in
        ``signal_mask``) are excluded like masked ones (label -2), with a
        :class:`~clusterspy.exceptions.DoubtfulEstimateWarning` giving their
        number and share when they are many; ``1`` masks the empty
        positions of a sparse map. Default None: none excluded.
    **kwargs
        Passed to a named algorithm's constructor, for example
        ``n_clusters=3`` (required by every algorithm but DBSCAN/HDBSCAN) or
        ``n_init=10``. ``n_clusters="auto"`` chooses it
        (:func:`clusterspy.estimate_number_of_clusters` with ``metric="auto"``,
        stored the same way in ``learning_results.clusterspy_metric``, up
        to ``max_clusters``, default 10), then clusters every kept position
        with that ``k``. With ``algorithm="agglomerative"``,
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
    call = _validate(
        signal,
        cluster_source,
        source_for_centers,
        preprocessing,
        preprocessing_kwargs,
        number_of_components,
        navigation_mask,
        signal_mask,
        algorithm,
        return_info,
        random_state,
        nan_policy,
        show_progressbar,
        engine,
        engine_kwargs,
        spatial_weight,
        membership_threshold,
        min_counts,
        kwargs,
    )
    _choose(signal, call)
    fit = ENGINE_FITS[call.engine](call.plan, call.estimator, call.request)
    _check_clusters_found(fit, call.request.algorithm)
    if "n_clusters_choice" in call.provenance:
        call.provenance["n_clusters_choice"]["start"] = (
            "the partition the rule checked" if fit.from_partition else "k-means++"
        )
    if membership_threshold is not None:
        _apply_membership_threshold(fit, membership_threshold)
    ordered = _order_by_size(fit)
    signals = compute_cluster_signals(
        call.centers,
        ordered.labels,
        fit.k,
        ordered.centroid_index,
        ordered.moments,
        show_progressbar,
    )
    result = _build_result(signal, call, fit, ordered, signals)
    # Stored only now, after everything succeeded: a failed call leaves the
    # signal exactly as it was.
    store_result(signal, result)
    if call.auto.get("metric") is not None:
        signal.learning_results.clusterspy_metric = call.auto["metric"]
    return fit.estimator if call.return_info else None


# -- validate ------------------------------------------------------------------------


@dataclass
class _Call:
    """A validated call: what to read, what to fit, and how to record it."""

    plan: FeaturePlan
    centers: object
    estimator: object
    request: FitRequest
    engine: str
    return_info: bool
    provenance: dict
    # the automatic choices, made by _choose after every check
    auto: dict


def _validate(
    signal,
    cluster_source,
    source_for_centers,
    preprocessing,
    preprocessing_kwargs,
    number_of_components,
    navigation_mask,
    signal_mask,
    algorithm,
    return_info,
    random_state,
    nan_policy,
    show_progressbar,
    engine,
    engine_kwargs,
    spatial_weight,
    membership_threshold,
    min_counts,
    kwargs,
):
    """Check every parameter, in the documented order, before any work."""
    auto = _check_auto(signal, cluster_source, number_of_components, min_counts, kwargs)
    plan = plan_features(
        signal,
        cluster_source,
        preprocessing,
        preprocessing_kwargs,
        auto["placeholder_components"],
        navigation_mask,
        signal_mask,
        nan_policy,
        spatial_weight,
    )
    centers = _resolve_centers(
        signal, plan.source, source_for_centers, auto["placeholder_components"]
    )
    seed = check_random_state_seed(random_state, draw=True)  # recordable seed
    estimator, algorithm_name, grid = _make_estimator(algorithm, kwargs, seed)
    return_info = check_bool(return_info, "return_info")
    show_progressbar = check_show_progressbar(show_progressbar)
    k_requested = requested_n_clusters(estimator)
    plan.check_enough_samples(k_requested)
    _check_membership_threshold(membership_threshold, estimator, algorithm_name)
    engine = check_choice(engine, "engine", ENGINES)
    options = _check_engine_kwargs(engine_kwargs)
    check_estimator_inputs(
        estimator, int(plan.keep.sum()), plan_feature_count(plan), options
    )
    engine = choose_engine(engine, plan.features(), options.get("memory_budget"))
    if grid and engine != "memory":
        raise ValueError(
            "connectivity='grid' needs every position in memory: pass engine='memory'."
        )
    request = FitRequest(
        algorithm=algorithm_name,
        k_requested=k_requested,
        seed=seed,
        show_progressbar=show_progressbar,
        options=options,
        centers=centers,
        grid=grid,
    )
    provenance = {
        "preprocessing": _describe(preprocessing),
        "preprocessing_kwargs": preprocessing_kwargs or {},
        "kwargs": {key: _describe(v) for key, v in kwargs.items()},
        "raw_kwargs": dict(kwargs),
        "random_state": seed if isinstance(seed, int) else repr(random_state),
        "nan_policy": nan_policy,
        "spatial_weight": spatial_weight,
        "membership_threshold": membership_threshold,
    }
    auto.update(
        arguments=(
            cluster_source,
            preprocessing,
            preprocessing_kwargs,
            number_of_components,
            navigation_mask,
            signal_mask,
            nan_policy,
            spatial_weight,
            source_for_centers,
            algorithm,
            seed,
        ),
    )
    return _Call(
        plan, centers, estimator, request, engine, return_info, provenance, auto
    )


# -- the automatic choices (number_of_components, min_counts, n_clusters="auto") ------


def _check_auto(signal, cluster_source, number_of_components, min_counts, kwargs):
    """Check the automatic options first; ``n_clusters="auto"`` leaves ``kwargs``.

    Returns what :func:`_choose` needs. Until then the plan is validated
    with one component and two clusters standing in for the choices.
    """
    from .counts import check_min_counts
    from .estimate.auto import check_auto_components, decomposed_auto

    min_counts = check_min_counts(min_counts)
    check_auto_components(signal, cluster_source, number_of_components)
    auto_k = isinstance(kwargs.get("n_clusters"), str) and kwargs["n_clusters"] == "auto"
    explicit = "max_clusters" in kwargs
    max_clusters = kwargs.pop("max_clusters", 10) if auto_k else None
    if auto_k:
        max_clusters = check_int(max_clusters, "max_clusters", minimum=2)
        if explicit:  # the default (10) is bounded by the positions quietly
            check_max_clusters(max_clusters, signal)
        kwargs["n_clusters"] = 2  # checked with a stand-in; chosen by _choose
    elif "max_clusters" in kwargs:
        raise ValueError("`max_clusters` only applies with n_clusters='auto'.")
    auto_components = decomposed_auto(cluster_source, number_of_components)
    return {
        "min_counts": min_counts,
        "auto_k": auto_k,
        "max_clusters": max_clusters,
        "auto_components": auto_components,
        "placeholder_components": 1 if auto_components else number_of_components,
    }


def _choose(signal, call):
    """Make the automatic choices of a validated call, in place: components,
    low-count positions, then ``k``."""
    from .estimate.auto import choice_record, choose_components
    from .features import apply_min_counts

    auto = call.auto
    (source, pre, pre_kwargs, n_requested, nav_mask, sig_mask, nan_policy,
     spatial_weight, source_for_centers, algorithm, seed) = auto["arguments"]
    n, choice = choose_components(signal, source, n_requested)
    if auto["auto_components"]:
        call.plan = plan_features(
            signal, source, pre, pre_kwargs, n, nav_mask, sig_mask, nan_policy,
            spatial_weight,
        )
        call.centers = _resolve_centers(signal, call.plan.source, source_for_centers, n)
        call.request = dataclasses.replace(call.request, centers=call.centers)
    counts = apply_min_counts(call.plan, auto["min_counts"], sig_mask, stacklevel=4)
    call.provenance.update(
        number_of_components_choice=choice_record(choice),
        min_counts=auto["min_counts"],
        count_summary=None if counts is None else counts.message(),
    )
    if auto["auto_k"]:
        _choose_k(signal, call, algorithm, seed)


def _choose_k(signal, call, algorithm, seed):
    """``n_clusters="auto"``: choose ``k``, store its evidence, rebuild the estimator."""
    from ._utils.provenance import versions as _v
    from .estimate.auto import auto_metric, choose_n_clusters_auto, gain_record

    auto = choose_n_clusters_auto(
        call.plan, call.auto["max_clusters"], seed, call.request.show_progressbar
    )
    k = int(auto.n_clusters)
    kwargs = dict(call.provenance["raw_kwargs"], n_clusters=k)
    call.estimator, _, _ = _make_estimator(algorithm, kwargs, seed)
    options = dict(call.request.options or {})
    if (
        call.request.algorithm == "kmeans"
        # the user's own start wins
        and "init" not in kwargs
        and "n_init" not in kwargs
        and auto.positions is not None
        and k > 1
    ):
        # k-means from the partition the rule checked (its clusters' centres
        # in the clustering's features): k-means++ alone may land in another
        # optimum with other clusters (on the real 30 x 30 EDS map a single
        # start merged the chevkinite grain into the matrix). The engine
        # says whether it used it (Fit.from_partition: the memory engine's
        # own Lloyd fit does; the out-of-core ones and scikit-learn's fit
        # seed k-means++).
        options["init_partition"] = (np.asarray(auto.positions), np.asarray(auto.labels))
    call.request = dataclasses.replace(call.request, k_requested=k, options=options)
    call.provenance["kwargs"]["n_clusters"] = k
    call.provenance["n_clusters_choice"] = {
        "n_clusters": k,
        "rule": auto.rule,
        "metric_choices": dict(auto.metric_choices),
        "doubts": list(auto.doubts),
    }
    if auto.gain is not None:
        call.provenance["n_clusters_choice"]["gain"] = gain_record(auto.gain)
    parameters = {
        "metric": "auto",
        "rule": auto.rule,
        "max_clusters": call.auto["max_clusters"],
        "cluster_source": call.plan.source.description,
        "number_of_components": call.plan.source.number_of_components,
        "n_samples": int(call.plan.keep.sum()),
        "signal_title": signal.metadata.General.title,
    }
    # Stored with the clustering's result (same success-only rule): the
    # report shows the curves of the k it clustered with.
    call.auto["metric"] = auto_metric(auto, parameters, _v()).to_dict()


def _resolve_centers(signal, source, source_for_centers, number_of_components):
    """The source of the cluster signals (default: the signal's own data)."""
    if source_for_centers is None:
        source_for_centers = "signal"
    centers_n = number_of_components
    if isinstance(source_for_centers, str) and source.kind == source_for_centers:
        centers_n = source.number_of_components
    centers = resolve_source(
        signal, source_for_centers, centers_n, None, name="source_for_centers"
    )
    if number_of_components is not None and not (
        source.kind in ("decomposition", "bss", "pca")
        or centers.kind in ("decomposition", "bss")
    ):
        raise ValueError(
            "`number_of_components` only applies when `cluster_source` or "
            "`source_for_centers` is 'decomposition' or 'bss'."
        )
    return centers


def _make_estimator(algorithm, kwargs, seed):
    """The configured estimator, its canonical name, and ``connectivity="grid"``."""
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
    return estimator, algorithm_name, grid


def _check_membership_threshold(membership_threshold, estimator, algorithm_name):
    if membership_threshold is None:
        return
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


def _check_engine_kwargs(engine_kwargs):
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
        key: check_bool(value, f"engine_kwargs['{key}']")
        if key == "exact_sklearn"
        else check_int(value, f"engine_kwargs['{key}']", minimum=1)
        for key, value in engine_kwargs.items()
    }


# -- after the fit ---------------------------------------------------------------------


def _check_clusters_found(fit, algorithm_name):
    if fit.k == 0:
        raise ValueError(
            f"{algorithm_name} labelled every sample as noise; no cluster was found "
            "(for DBSCAN, increase `eps` or decrease `min_samples`)."
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


@dataclass
class _Ordered:
    """A fit's per-cluster arrays with the clusters ordered by size."""

    order: np.ndarray
    labels: np.ndarray
    membership: np.ndarray | None
    counts: np.ndarray
    centers: np.ndarray
    distances: np.ndarray
    centroid_index: np.ndarray
    moments: tuple | None


def _order_by_size(fit):
    """Relabel the clusters by size, largest first (ties keep the fit's order)."""
    k = fit.k
    # new label i is the estimator's label order[i]
    order = np.argsort(-fit.counts, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    raw = fit.labels
    labels = np.where(raw >= 0, rank[np.maximum(raw, 0)], raw).astype(np.int64)
    counts = fit.counts[order].astype(np.int64)
    if (counts == 0).any():
        warnings.warn(
            f"{int((counts == 0).sum())} of the {k} clusters have no members; their "
            "cluster signals are NaN.",
            UserWarning,
            # user -> cluster_analysis -> here
            stacklevel=3,
        )
    moments = None
    if fit.raw_moments is not None:
        moments = tuple(None if m is None else m[order] for m in fit.raw_moments)
    return _Ordered(
        order=order,
        labels=labels,
        membership=None if fit.membership is None else fit.membership[:, order],
        counts=counts,
        centers=fit.means[order],
        distances=fit.distances[:, order],
        centroid_index=fit.centroid_index[order],
        moments=moments,
    )


# -- build the result ---------------------------------------------------------------


def _build_result(signal, call, fit, ordered, signals):
    """The :class:`ClusterResult`: arrays, cluster signals, the fitted model, provenance."""
    source, centers = call.plan.source, call.centers
    projection_factors, projection_mean, centre = _projection(signal, source)
    projection_weights = None
    if source.kind == "decomposition":
        from .components import poisson_channel_counts

        projection_weights = poisson_channel_counts(signal)
    return ClusterResult(
        labels=ordered.labels,
        n_clusters=fit.k,
        membership=ordered.membership,
        distances=ordered.distances,
        centers=ordered.centers,
        counts=ordered.counts,
        centroid_index=ordered.centroid_index,
        label_order=ordered.order.astype(np.int64),
        signal_mask=source.signal_mask,
        navigation_shape=tuple(signal.axes_manager.navigation_shape),
        projection_factors=projection_factors,
        projection_mean=projection_mean,
        projection_weights=projection_weights,
        parameters=_parameters(signal, call, fit, ordered, centre),
        versions=_versions(),
        centers_axes=json_safe(centers.signal_axes_dicts()),
        centers_signal_type=centers.signal.metadata.Signal.signal_type or "",
        centers_source=centers.kind,
        model_data=store_model(call.plan.preprocessor, fit.estimator),
        **signals,
    )


def _projection(signal, source):
    """What ``predict`` needs to project new data on a decomposition.

    Returns ``(factors, mean, centre)``: the clustering components' factors,
    the decomposition mean (when it was centred on the navigation) and how
    it was centred; all None for other sources.
    """
    if source.kind not in ("decomposition", "bss"):
        return None, None, None
    _, factors = source._loadings_and_factors()
    centre = signal.learning_results.centre
    mean = None
    if centre == "navigation":
        mean = _as_numpy(signal.learning_results.mean).reshape(-1)
    return factors, mean, centre


def _parameters(signal, call, fit, ordered, decomposition_centre):
    """The call's parameters as recorded for provenance (JSON-safe)."""
    source, centers, request = call.plan.source, call.centers, call.request
    provenance = call.provenance
    return json_safe(
        {
            "cluster_source": source.description,
            "cluster_source_kind": source.kind,
            "source_for_centers": centers.description,
            "preprocessing": provenance["preprocessing"],
            "preprocessing_kwargs": provenance["preprocessing_kwargs"],
            "number_of_components": source.number_of_components,
            "centers_number_of_components": centers.number_of_components,
            "navigation_mask": call.plan.navigation_mask is not None,
            "signal_mask": source.signal_mask is not None,
            "algorithm": request.algorithm,
            "estimator": repr(fit.estimator),
            "kwargs": provenance["kwargs"],
            "random_state": provenance["random_state"],
            "nan_policy": provenance["nan_policy"],
            "n_features": int(ordered.centers.shape[1]),
            "feature_dtype": str(fit.feature_dtype),
            "engine": call.engine,
            "engine_device": getattr(fit.estimator, "device_", None),
            "spatial_weight": provenance["spatial_weight"],
            "membership_threshold": provenance["membership_threshold"],
            "decomposition_centre": decomposition_centre,
            "pca": source.pca_parameters() if source.kind == "pca" else None,
            "number_of_components_choice": provenance.get(
                "number_of_components_choice"
            ),
            "min_counts": provenance.get("min_counts"),
            "count_summary": provenance.get("count_summary"),
            "n_clusters_choice": provenance.get("n_clusters_choice"),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "signal_title": signal.metadata.General.title,
        }
    )
