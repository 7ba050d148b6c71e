"""The search over ``k`` on a signal: :func:`estimate_number_of_clusters`.

It clusters the same features as :func:`clusterspy.cluster_analysis` (same
source, masks, preprocessing and algorithm), on a random fit sample, for
every ``k``; scores the curve with :func:`.curve.metric_curve`; picks ``k``
with :func:`.metrics.choose_n_clusters`; and stores a
:class:`.result.ClusterMetric` with the signal.
"""

from __future__ import annotations

import datetime
import numbers
from dataclasses import dataclass

import numpy as np

from .._threads import check_n_jobs
from .._utils.provenance import describe, versions
from ..algorithms import _NO_N_CLUSTERS, canonical_name, make_estimator
from ..counts import check_min_counts
from ..features import apply_min_counts, plan_features
from ..preprocessing import _clone
from ..validation import (
    ParameterError,
    check_bool,
    check_choice,
    check_int,
    check_max_clusters,
    check_random_state_seed,
    check_signal,
    reads_data,
)
from ._fitting import _N_INIT, _seed_sequence
from .auto import (
    auto_metric,
    check_auto_components,
    choice_record,
    choose_components,
    choose_n_clusters_auto,
    decomposed_auto,
)
from .curve import DEFAULT_SAMPLE_SIZE, metric_curve
from .gap import REFERENCES
from .metrics import _MIXTURE, _NEED_TWO, METRICS, choose_n_clusters
from .result import ClusterMetric

__all__ = ["DEFAULT_FIT_SAMPLE_SIZE", "estimate_number_of_clusters"]

#: Default number of samples the algorithm is fitted on.
DEFAULT_FIT_SAMPLE_SIZE = 20_000
# scikit-learn's agglomerative and spectral clustering need memory that grows
# as N**2 (a condensed distance matrix, an affinity matrix): smaller samples.
_QUADRATIC_FIT_SAMPLE_SIZE = 5000
_QUADRATIC = {
    "agglomerative",
    "spectral",
    "AgglomerativeClustering",
    "SpectralClustering",
}


def _metric_ks(metric, min_clusters, max_clusters):
    start = min_clusters
    if metric in _NEED_TWO:
        if max_clusters < 2:
            raise ValueError(
                f"`max_clusters` must be >= 2 for metric={metric!r}, which is "
                f"undefined for a single cluster; got {max_clusters}."
            )
        start = max(2, min_clusters)
    if max_clusters < 2:
        # HyperSpy's rule and wording (its notebooks catch it): k = 1 alone
        # leaves nothing to choose. k = 1 stays a candidate from 2 on.
        raise ValueError(
            "The max number of clusters, max_clusters, must be specified and be "
            f">= 2 (a search over `max_clusters`={max_clusters} has nothing to "
            "choose)."
        )
    return np.arange(start, max_clusters + 1, dtype=np.int64)


def _check_algorithm(name, kwargs):
    """Refuse algorithms and keyword arguments that fix the number of clusters."""
    if name in _NO_N_CLUSTERS:
        raise ValueError(
            f"algorithm={name!r} finds the number of clusters itself and cannot "
            "be run for a given k; estimate_number_of_clusters needs an algorithm "
            "that takes `n_clusters`: 'kmeans', 'minibatchkmeans', "
            "'agglomerative', 'spectral', 'gaussian_mixture', 'birch', or an "
            "estimator object with an `n_clusters` or `n_components` parameter."
        )
    for key in ("n_clusters", "n_components"):
        if key in kwargs:
            raise ValueError(
                f"`{key}` must not be given: estimate_number_of_clusters sets it "
                "to every k from `min_clusters` to `max_clusters`."
            )
    if name == "agglomerative" and kwargs.get("distance_threshold") is not None:
        raise ValueError(
            "`distance_threshold` must not be given: with it, agglomerative "
            "clustering chooses the number of clusters itself."
        )


def _named_factory(algorithm, name, kwargs, seed):
    """``factory(k)`` for an algorithm given by its name."""
    if name in ("kmeans", "minibatchkmeans"):
        # A bad local minimum at a single k inflates W_k and misleads every
        # rule; one k-means++ start (scikit-learn's n_init="auto") is not
        # enough to avoid it reliably, three starts are (tests).
        kwargs = dict(kwargs)
        kwargs.setdefault("n_init", _N_INIT)

    def factory(k):
        return make_estimator(algorithm, dict(kwargs, n_clusters=k), seed)[0]

    # An int seed builds the same estimator every time; a RandomState is
    # shared by the estimators, which advance it (see _labeller).
    factory.same_every_call = not isinstance(seed, np.random.RandomState)
    return factory


def _object_factory(algorithm, kwargs, seed):
    """``(factory, display name)`` for an estimator object: ``factory(k)``
    clones it with ``k`` as its ``n_clusters`` or ``n_components``."""
    base, display = make_estimator(algorithm, kwargs, seed)
    params = base.get_params() if hasattr(base, "get_params") else {}
    key = next((p for p in ("n_clusters", "n_components") if p in params), None)
    if key is None or not hasattr(base, "set_params"):
        raise ValueError(
            f"`algorithm` ({display}) has no `n_clusters` or `n_components` "
            "parameter, so it cannot be run for a given number of clusters."
        )

    def factory(k):
        estimator = _clone(base)
        estimator.set_params(**{key: k})
        return estimator

    factory.same_every_call = True  # clones: the same estimator every time
    return factory, display


def _estimator_factory(algorithm, kwargs, seed, metric, k0):
    """Validate the algorithm and return ``(factory, name, example)``.

    ``factory(k)`` builds a new unfitted estimator with ``k`` clusters.
    """
    if metric in _MIXTURE and algorithm is None:
        algorithm = "gaussian_mixture"
    name = canonical_name(algorithm)
    _check_algorithm(name, kwargs)
    if name is not None:
        factory, display = _named_factory(algorithm, name, kwargs, seed), name
    else:
        factory, display = _object_factory(algorithm, kwargs, seed)
    example = factory(k0)  # validates the keyword arguments now
    if metric in _MIXTURE and not hasattr(example, metric):
        raise ValueError(
            f"metric={metric!r} needs a Gaussian mixture: pass "
            "algorithm='gaussian_mixture' (the default for this metric), or an "
            f"estimator with a `{metric}` method; got algorithm={display!r}."
        )
    return factory, display, example


def _check_fit_sample_size(fit_sample_size, max_clusters):
    if fit_sample_size is None:
        return None
    if fit_sample_size == "auto" and isinstance(fit_sample_size, str):
        return "auto"
    if isinstance(fit_sample_size, str) or not isinstance(
        fit_sample_size, numbers.Integral
    ):
        raise ParameterError(
            f"`fit_sample_size` must be 'auto', None or an int, not {fit_sample_size!r}."
        )
    return check_int(fit_sample_size, "fit_sample_size", minimum=max(2, max_clusters))


def _draw_rows(n, size, rng):
    """Sorted random row indices, or ``None`` for all rows."""
    if size is None or n <= size:
        return None
    return np.sort(rng.choice(n, size=size, replace=False))


def _fit_features(plan, fit_size, rng, show_progressbar, max_clusters):
    """The preprocessed features of the fit sample, and the number kept.

    Eager features: exactly ``cluster_analysis``'s features (preprocessing
    fitted on every kept row), then a random sample of rows. Lazy signal
    features with more kept rows than ``fit_size``: the sampled rows are
    read block by block, without holding the whole feature matrix, and the
    preprocessing is fitted on them.
    """
    from ..sources import _is_dask

    raw = plan.source.features()
    n_keep = int(plan.keep.sum())
    if _is_dask(raw) and fit_size is not None and n_keep > fit_size:
        return _lazy_fit_features(plan, fit_size, rng, show_progressbar, max_clusters)
    Xp, _ = plan.compute(show_progressbar)
    n_kept = Xp.shape[0]
    _check_n_samples(n_kept, max_clusters)
    rows = _draw_rows(n_kept, fit_size, rng)
    # A copy, also when every row is used: Xp may be a view of the user's
    # data, and estimators such as KMeans(copy_x=False) write into X.
    X = np.array(Xp if rows is None else Xp[rows], dtype=np.float64)
    return X, n_kept


def _lazy_fit_features(plan, fit_size, rng, show_progressbar, max_clusters):
    """:func:`_fit_features` of lazy data: only the sampled rows are read."""
    from ..engines.rowblocks import RowBlocks, scan

    # the data's own tiles as blocks: one pass for the finite rows, one
    # read of the tiles that hold sampled rows
    blocks = RowBlocks(plan.features(flat=False), plan.keep, None, show_progressbar)
    finite, _ = scan(blocks)
    keep = plan.apply_nan_policy(plan.keep, finite)
    kept = np.flatnonzero(keep)
    _check_n_samples(kept.size, max_clusters)
    rows = _draw_rows(kept.size, fit_size, rng)
    if rows is not None:
        kept = kept[rows]
    X = blocks.take(kept)
    if plan.preprocessor is not None:
        X = plan.preprocessor.fit_transform(X)
    return np.asarray(X, dtype=np.float64), int(keep.sum())


def _check_n_samples(n_kept, max_clusters):
    if max_clusters > n_kept:
        raise ValueError(
            f"`max_clusters`={max_clusters} is larger than the number of navigation "
            f"positions to cluster ({n_kept})."
        )


@reads_data  # a damaged file is named
def estimate_number_of_clusters(
    signal,
    cluster_source,
    max_clusters=10,
    min_clusters=1,
    metric="gap",
    preprocessing=None,
    preprocessing_kwargs=None,
    number_of_components=None,
    navigation_mask=None,
    signal_mask=None,
    algorithm=None,
    random_state=None,
    show_progressbar=None,
    n_references=10,
    reference="uniform",
    sample_size=DEFAULT_SAMPLE_SIZE,
    fit_sample_size="auto",
    nan_policy="raise",
    n_jobs=None,
    min_counts=None,
    **kwargs,
):
    """Estimate the number of clusters in a signal's navigation positions.

    The features are exactly those :func:`clusterspy.cluster_analysis` would
    cluster with the same arguments. They are clustered for every ``k`` from
    ``min_clusters`` to ``max_clusters``, each clustering is scored, and the
    metric's rule picks ``k``. The curve is stored with the signal
    (``signal.learning_results.clusterspy_metric``); read it with
    :func:`get_cluster_metric` and plot it with :func:`plot_cluster_metric`.

    Parameters
    ----------
    signal : hyperspy.api.signals.BaseSignal
        Any signal with navigation dimension >= 1, eager or lazy.
    cluster_source : {"signal", "decomposition", "bss"} or BaseSignal
        Features, as for :func:`clusterspy.cluster_analysis`.
    max_clusters : int
        Largest ``k`` tried (default 10), at least 2 (as in HyperSpy).
    min_clusters : int
        Smallest ``k`` tried (default 1, for every algorithm: ``W_1`` does
        not depend on the algorithm, and the gap statistic must be able to
        answer ``k = 1``; HyperSpy starts agglomerative clustering at 2,
        pass ``min_clusters=2`` for its range). The silhouette,
        Calinski-Harabasz and Davies-Bouldin metrics are undefined for one
        cluster and start at ``k = 2``.
    metric : {"gap", "elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "bic", "aic", "auto"}
        * ``"auto"``: for counting data clustered on decomposition
          components, the Poisson split rule
          (:func:`clusterspy.auto_k.estimate_k_counts`: ``k`` clusters are
          accepted when every cluster's summed counts are, under Poisson
          noise, distinguishable from a mixture of the others and
          separable pixel by pixel); for other data, the majority of
          elbow, silhouette and gap (:func:`clusterspy.auto_k.estimate_k_features`).
          Always k-means, ``k`` from 1; every metric's curve, what each
          metric alone answers and the doubts are stored
          (:attr:`ClusterMetric.curves`, ``metric_choices``, ``doubts``), and
          each doubt is emitted as a
          :class:`~clusterspy.exceptions.DoubtfulEstimateWarning`.
        * ``"gap"`` (default): the gap statistic of Tibshirani, Walther and
          Hastie (2001), the only metric here that can answer ``k = 1`` (no
          cluster structure). Chosen ``k``: the smallest with
          ``Gap(k) >= Gap(k+1) - s_{k+1}``; if none satisfies it (the gap
          still rises at ``max_clusters``), the ``k`` of the largest gap.
        * ``"elbow"``: the knee of ``log W_k`` (within-cluster dispersion),
          the point farthest below the chord of the normalised curve
          (Kneedle, Satopaa et al. 2011). It cannot detect the absence of
          clusters; straight or concave curves give ``min_clusters``.
        * ``"silhouette"``: the maximum of the mean silhouette coefficient,
          computed on ``sample_size`` random samples.
        * ``"calinski_harabasz"``: the maximum of the variance ratio.
        * ``"davies_bouldin"``: the minimum of the Davies-Bouldin index.
        * ``"bic"``, ``"aic"``: the minimum of a Gaussian mixture's
          information criterion. ``algorithm=None`` then means
          ``"gaussian_mixture"``; any other algorithm without a
          ``bic``/``aic`` method is an error.
    preprocessing, preprocessing_kwargs, number_of_components, navigation_mask, signal_mask
        As for :func:`clusterspy.cluster_analysis` (``number_of_components``
        may be ``"auto"``).
    algorithm : str, object or None
        An algorithm taking a number of clusters: ``"kmeans"`` (default),
        ``"minibatchkmeans"``, ``"agglomerative"``, ``"spectral"``,
        ``"gaussian_mixture"``, ``"birch"``, or an estimator object with an
        ``n_clusters`` or ``n_components`` parameter (cloned and set for
        every ``k``). DBSCAN and HDBSCAN choose ``k`` themselves and are
        refused.
    random_state : int, numpy.random.RandomState or None
        Seeds the fit sample, the silhouette sample, the gap references and
        the algorithm. The same int gives the same curves and ``k``;
        ``None`` draws a seed and records it in the stored parameters; a
        RandomState gives a seed drawn from it, recorded the same way.
    show_progressbar : bool or None
        Show a progress bar over ``k`` (and dask's while lazy data are
        read); ``None`` follows HyperSpy's preferences.
    n_references : int
        Number ``B`` of reference data sets of the gap statistic (default
        10). HyperSpy's ``n_ref`` is accepted as an alias.
    reference : {"uniform", "pca"}
        Gap reference distribution: uniform over the features' bounding box
        (default), or over the box of their principal axes (rotate, draw,
        rotate back), which copes better with elongated clusters.
    sample_size : int or None
        Random samples the silhouette is computed on (default 5000): its
        cost is O(sample_size**2) time and bounded memory, whatever N.
        ``None`` uses every sample of the fit sample.
    fit_sample_size : "auto", int or None
        The algorithm is fitted, and every metric computed, on this many
        randomly chosen navigation positions, the same for every ``k``; gap
        references have the same size. ``"auto"`` (default) means 20000,
        or 5000 for agglomerative and spectral clustering, whose memory
        grows as the square of the number of samples. ``None`` uses every
        position.
    nan_policy : {"raise", "mask"}
        As for :func:`clusterspy.cluster_analysis`.
    n_jobs : int or None
        Fits run side by side in this many threads, each with one OpenMP
        and one BLAS thread (faster than one fit at a time with all cores
        at these sizes). ``None`` (default) or ``-1``: every available core;
        1: one fit at a time, with the libraries' own threads. The result
        does not depend on it.
    min_counts : int or None
        As for :func:`clusterspy.cluster_analysis`: positions with fewer
        counts are left out, with a warning giving their number and share.
    **kwargs
        Passed to a named algorithm's constructor (``n_init=10``, ...), but
        not ``n_clusters``, which is set for each ``k``.

    Returns
    -------
    int
        The estimated number of clusters.

    Raises
    ------
    TypeError, ValueError
        For invalid parameters, before any work is done. The signal is not
        modified, except that on success the curve is stored in
        ``learning_results.clusterspy_metric``.

    See Also
    --------
    get_cluster_metric, plot_cluster_metric, gap_statistic

    Notes
    -----
    Every metric costs O(N k) time and memory per ``k`` on the fit sample
    (the silhouette O(sample_size**2) time); no N x N distance matrix is
    built. The k-means algorithms default to ``n_init=3`` here (scikit-learn's
    ``"auto"`` runs one k-means++ start): a bad local minimum at a single
    ``k`` inflates ``W_k`` and misleads every rule. Pass ``n_init`` to
    change it. For lazy signals
    whose features come from the data, only the fit sample is read into
    memory and the preprocessing is fitted on it; for eager signals (and
    decomposition sources) the preprocessing is fitted on every kept
    position, as ``cluster_analysis`` does. Row-wise preprocessing (None,
    "norm", "l1", "sqrt", "anscombe") gives the same curves either way.

    References
    ----------
    R. Tibshirani, G. Walther and T. Hastie, J. R. Statist. Soc. B 63,
    411-423 (2001).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> from clusterspy.estimate import estimate_number_of_clusters
    >>> rng = np.random.default_rng(0)
    >>> centres = [(0, 0), (6, 0), (0, 6)]
    >>> X = np.concatenate([rng.normal(c, 0.5, (100, 2)) for c in centres])
    >>> s = hs.signals.Signal1D(X)  # 300 navigation positions, 2 features
    >>> estimate_number_of_clusters(s, "signal", max_clusters=6, random_state=0,
    ...                             show_progressbar=False)
    3
    >>> s.learning_results.clusterspy_metric["ks"]
    array([1, 2, 3, 4, 5, 6])
    """
    # Everything is validated before any work.
    check_signal(signal)
    min_counts = check_min_counts(min_counts)
    n_references = _n_ref_alias(n_references, kwargs)
    search = _check_search(
        signal,
        metric,
        min_clusters,
        max_clusters,
        n_references,
        reference,
        sample_size,
        fit_sample_size,
        show_progressbar,
        n_jobs,
    )
    check_auto_components(signal, cluster_source, number_of_components)
    auto_components = decomposed_auto(cluster_source, number_of_components)
    features = (
        cluster_source,
        preprocessing,
        preprocessing_kwargs,
        1 if auto_components else number_of_components,  # checked, chosen below
        navigation_mask,
        signal_mask,
        nan_policy,
    )
    plan = plan_features(signal, *features)
    seed = check_random_state_seed(random_state, draw=True)  # recordable seed
    ks = search.ks
    factory, algorithm_name, example = _estimator_factory(
        algorithm, kwargs, seed, search.metric, int(ks[0]) if ks[0] > 1 else 2
    )
    _check_n_samples(int(plan.keep.sum()), search.max_clusters)
    _resolve_defaults(search, algorithm_name)

    # The automatic choices: components, then low-count positions.
    n_components, choice = choose_components(
        signal, cluster_source, number_of_components
    )
    if auto_components:
        plan = plan_features(signal, *features[:3], n_components, *features[4:])
    counts = apply_min_counts(plan, min_counts, signal_mask)
    choices = {
        "number_of_components_choice": choice_record(choice),
        "min_counts": min_counts,
        "count_summary": None if counts is None else counts.message(),
    }
    if search.metric == "auto":
        return _estimate_auto(signal, search, plan, seed, choices)

    # Independent streams for the fit sample and the metric, derived from one
    # seed, so that one int reproduces everything.
    sample_seeds, metric_seeds = _seed_sequence(seed).spawn(2)
    X, n_kept = _fit_features(
        plan,
        search.fit_sample_size,
        np.random.default_rng(sample_seeds),
        search.show_progressbar,
        search.max_clusters,
    )
    curve = _curve(X, search, factory, metric_seeds)
    k, rule = choose_n_clusters(search.metric, ks, curve["values"], curve["errors"])
    parameters = _parameters(
        signal,
        search,
        plan,
        X,
        n_kept,
        preprocessing=preprocessing,
        preprocessing_kwargs=preprocessing_kwargs,
        nan_policy=nan_policy,
        algorithm_name=algorithm_name,
        example=example,
        kwargs=kwargs,
        seed=seed,
        random_state=random_state,
    )
    parameters.update(choices)
    result = _result(search, curve, k, rule, parameters)
    # Stored only now, after everything succeeded: a failed call leaves the
    # signal exactly as it was.
    signal.learning_results.clusterspy_metric = result.to_dict()
    return int(k)


def _estimate_auto(signal, search, plan, seed, choices):
    """``metric="auto"``: the automatic ``k`` and its evidence, stored."""
    auto = choose_n_clusters_auto(
        plan, search.max_clusters, seed, search.show_progressbar
    )
    parameters = {
        "metric": "auto",
        "rule": auto.rule,
        "max_clusters": search.max_clusters,
        "cluster_source": plan.source.description,
        "cluster_source_kind": plan.source.kind,
        "number_of_components": plan.source.number_of_components,
        "navigation_mask": plan.navigation_mask is not None,
        "n_samples": int(plan.keep.sum()),
        "random_state": seed if isinstance(seed, int) else None,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "signal_title": signal.metadata.General.title,
        **choices,
    }
    result = auto_metric(auto, parameters, versions())
    signal.learning_results.clusterspy_metric = result.to_dict()
    return int(auto.n_clusters)


# -- the steps of estimate_number_of_clusters ------------------------------------------


@dataclass
class _Search:
    """The validated settings of one search over ``k``."""

    metric: str
    min_clusters: int
    max_clusters: int
    ks: np.ndarray
    n_references: int
    reference: str
    sample_size: int | None
    # "auto" and None (HyperSpy's preference) until _resolve_defaults
    fit_sample_size: int | str | None
    show_progressbar: bool | None
    n_jobs: int


def _n_ref_alias(n_references, kwargs):
    """``n_references``, or HyperSpy's ``n_ref`` popped from ``kwargs``."""
    if "n_ref" in kwargs:  # HyperSpy's name, so that notebooks port unchanged
        n_ref = kwargs.pop("n_ref")
        if n_references not in (10, n_ref):
            raise ValueError("Give `n_references` or its alias `n_ref`, not both.")
        n_references = n_ref
    return n_references


def _check_search(
    signal,
    metric,
    min_clusters,
    max_clusters,
    n_references,
    reference,
    sample_size,
    fit_sample_size,
    show_progressbar,
    n_jobs,
):
    """Validate the settings of the search, in the order of the signature."""
    metric = check_choice(metric, "metric", METRICS + ("auto",))
    max_clusters = check_int(max_clusters, "max_clusters", minimum=1)
    check_max_clusters(max_clusters, signal)  # before arange(max_clusters)
    min_clusters = check_int(min_clusters, "min_clusters", minimum=1)
    if max_clusters < min_clusters:
        raise ValueError(
            f"`max_clusters` must be >= `min_clusters` ({min_clusters}), not "
            f"{max_clusters}."
        )
    ks = _metric_ks(metric, min_clusters, max_clusters)
    n_references = check_int(n_references, "n_references", minimum=1)
    reference = check_choice(reference, "reference", REFERENCES)
    sample_size = check_int(sample_size, "sample_size", minimum=2, allow_none=True)
    if sample_size is not None and sample_size <= max_clusters:
        raise ValueError(
            f"`sample_size` must be > `max_clusters` ({max_clusters}), so that the "
            f"silhouette sample can hold every cluster; got {sample_size}."
        )
    fit_sample_size = _check_fit_sample_size(fit_sample_size, max_clusters)
    if show_progressbar is not None:
        show_progressbar = check_bool(show_progressbar, "show_progressbar")
    n_jobs = check_n_jobs(n_jobs)
    return _Search(
        metric,
        min_clusters,
        max_clusters,
        ks,
        n_references,
        reference,
        sample_size,
        fit_sample_size,
        show_progressbar,
        n_jobs,
    )


def _resolve_defaults(search, algorithm_name):
    """Fill in the fit sample size of "auto" and HyperSpy's progress bar."""
    if search.fit_sample_size == "auto":
        search.fit_sample_size = (
            _QUADRATIC_FIT_SAMPLE_SIZE
            if algorithm_name in _QUADRATIC
            else DEFAULT_FIT_SAMPLE_SIZE
        )
    if search.show_progressbar is None:
        from hyperspy.defaults_parser import preferences

        search.show_progressbar = bool(preferences.General.show_progressbar)


def _curve(X, search, factory, metric_seeds):
    """:func:`.curve.metric_curve` of the fit sample, with a progress bar."""
    from hyperspy.external.progressbar import progressbar

    # one step per fit: for the gap, the data and every reference set
    per_k = search.n_references + 1 if search.metric == "gap" else 1
    with progressbar(
        total=search.ks.size * per_k,
        disable=not search.show_progressbar,
        leave=True,
        desc=f"{search.metric} fits",
    ) as pbar:
        return metric_curve(
            X,
            search.ks,
            search.metric,
            factory,
            sample_size=search.sample_size,
            n_references=search.n_references,
            reference=search.reference,
            random_state=metric_seeds,
            callback=lambda k: pbar.update(1),
            n_jobs=search.n_jobs,
        )


def _parameters(
    signal,
    search,
    plan,
    X,
    n_kept,
    *,
    preprocessing,
    preprocessing_kwargs,
    nan_policy,
    algorithm_name,
    example,
    kwargs,
    seed,
    random_state,
):
    """The provenance stored with the curve."""
    _describe = describe
    metric = search.metric
    return {
        "metric": metric,
        "min_clusters": search.min_clusters,
        "max_clusters": search.max_clusters,
        "cluster_source": plan.source.description,
        "cluster_source_kind": plan.source.kind,
        "preprocessing": _describe(preprocessing),
        "preprocessing_kwargs": preprocessing_kwargs or {},
        "number_of_components": plan.source.number_of_components,
        "navigation_mask": plan.navigation_mask is not None,
        "signal_mask": plan.source.signal_mask is not None,
        "algorithm": algorithm_name,
        "estimator": repr(example),
        "kwargs": {key: _describe(v) for key, v in kwargs.items()},
        "random_state": seed if isinstance(seed, int) else repr(random_state),
        "n_references": search.n_references if metric == "gap" else None,
        "reference": search.reference if metric == "gap" else None,
        "sample_size": search.sample_size if metric == "silhouette" else None,
        "fit_sample_size": search.fit_sample_size,
        "n_samples": n_kept,
        "n_fit_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "nan_policy": nan_policy,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "signal_title": signal.metadata.General.title,
    }


def _result(search, curve, k, rule, parameters):
    """The :class:`.result.ClusterMetric` of the search."""
    return ClusterMetric(
        metric=search.metric,
        ks=search.ks,
        values=curve["values"],
        errors=curve["errors"],
        n_clusters=k,
        rule=rule,
        details={
            key: curve[key]
            for key in ("log_w", "log_w_reference", "sd")
            if key in curve
        },
        parameters=parameters,
        versions=versions(),
    )
