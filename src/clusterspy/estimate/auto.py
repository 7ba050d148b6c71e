"""The automatic choices of a cluster analysis: components, empty positions, k.

Shared by :func:`clusterspy.cluster_analysis` and
:func:`clusterspy.estimate_number_of_clusters` so that both choose the same
way:

* ``number_of_components="auto"``: the significant components of the
  decomposition (:func:`clusterspy.components.significant_components_of`);
  an integer above them warns (:func:`~clusterspy.components.warn_too_many_components`).
* ``n_clusters="auto"`` / ``metric="auto"``: the Poisson split rule on the
  raw counts of the kept positions (:func:`clusterspy.auto_k.estimate_k_counts`)
  when the data are counts and the features are decomposition components,
  else the majority of elbow, silhouette and gap on the features
  (:func:`clusterspy.auto_k.estimate_k_features`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "AUTO_FIT_SAMPLE_SIZE",
    "auto_metric",
    "check_auto_components",
    "decomposed_auto",
    "choose_components",
    "gain_record",
    "choose_n_clusters_auto",
    "significant_components",
]

#: Positions the automatic k is chosen on at most (a seeded sample beyond).
AUTO_FIT_SAMPLE_SIZE = 20_000

_DECOMPOSED = ("decomposition", "bss")


def _is_auto(value):
    return isinstance(value, str) and value == "auto"


def decomposed_auto(cluster_source, number_of_components):
    """Whether ``"auto"`` is to be chosen here: for the decomposition and BSS
    sources (the ``"pca"`` source chooses its own, see :mod:`clusterspy.pca`)."""
    return (
        _is_auto(number_of_components)
        and isinstance(cluster_source, str)
        and cluster_source in _DECOMPOSED
    )


def _is_pca(cluster_source):
    from ..pca import PCA

    return isinstance(cluster_source, PCA) or (
        isinstance(cluster_source, str) and cluster_source == "pca"
    )


def check_auto_components(signal, cluster_source, number_of_components):
    """Raise before any work when ``"auto"`` has no decomposition to choose from.

    Examples
    --------
    >>> import clusterspy
    >>> from clusterspy.estimate.auto import check_auto_components
    >>> s = clusterspy.datasets.spectrum_image(shape=(4, 3), n_channels=8)
    >>> check_auto_components(s, "decomposition", "auto")
    Traceback (most recent call last):
    ...
    ValueError: number_of_components='auto' needs a decomposition ...
    """
    if not _is_auto(number_of_components) or _is_pca(cluster_source):
        return
    if not decomposed_auto(cluster_source, number_of_components):
        raise ValueError(
            "number_of_components='auto' needs cluster_source='decomposition' or "
            f"'bss' (a decomposition to choose the components of); got "
            f"cluster_source={cluster_source!r}: pass an int."
        )
    ev = getattr(signal.learning_results, "explained_variance", None)
    if ev is None:
        raise ValueError(
            "number_of_components='auto' needs a decomposition with an explained "
            "variance: call `signal.decomposition(normalize_poissonian_noise=True)` "
            "first."
        )


def choose_components(signal, cluster_source, number_of_components):
    """``(number_of_components, ComponentChoice or None)`` for the call.

    ``"auto"`` becomes the number of significant components (at most the
    BSS components available). A given integer for a Poisson-normalised
    decomposition is compared with the significant number and warns when
    above it (:class:`~clusterspy.exceptions.DoubtfulEstimateWarning`);
    other integers are passed through unchecked (no noise model to test
    them against).
    """
    from ..components import warn_too_many_components

    lr = signal.learning_results
    if decomposed_auto(cluster_source, number_of_components):
        choice = significant_components(signal)
        n = choice.n_components
        if cluster_source == "bss" and lr.bss_loadings is not None:
            n = min(n, int(lr.bss_loadings.shape[1]))
        return n, choice
    poisson = bool(getattr(lr, "poissonian_noise_normalized", False))
    if (
        isinstance(number_of_components, (int, np.integer))
        and cluster_source == "decomposition"
        and poisson
        and getattr(lr, "explained_variance", None) is not None
    ):
        choice = significant_components(signal)
        # user -> cluster_analysis -> _validate -> here -> warn
        warn_too_many_components(int(number_of_components), choice, stacklevel=4)
        return number_of_components, choice
    return number_of_components, None


# The last choices, by decomposition: the workflow's estimate and clustering
# (and an int checked against the noise) share one simulation of the null.
_CHOICES = {}


def _decomposition_key(lr):
    ev = lr.explained_variance
    return (id(ev), getattr(ev, "shape", None), id(lr.loadings), id(lr.factors))


def significant_components(signal):
    """:func:`clusterspy.components.significant_components_of`, remembered.

    The same decomposition (the same ``learning_results`` arrays) gives the
    same choice (the simulation is seeded), so it is computed once.

    Examples
    --------
    >>> from clusterspy.datasets import spectrum_image
    >>> from clusterspy.estimate.auto import significant_components
    >>> s = spectrum_image((24, 24), n_channels=128, n_phases=3, counts=200,
    ...                    random_state=0)
    >>> s.decomposition(normalize_poissonian_noise=True, print_info=False)
    >>> significant_components(s).n_components
    3
    """
    from ..components import decomposition_masks, significant_components_of

    lr = signal.learning_results
    key = _decomposition_key(lr)
    cached = _CHOICES.get(key)
    if cached is not None and cached[0] is lr.explained_variance:
        return cached[1]
    # The masks the decomposition was given: the null is simulated on the
    # positions it decomposed.
    nav, sig = decomposition_masks(signal)
    choice = significant_components_of(signal, navigation_mask=nav, signal_mask=sig)
    _CHOICES.clear()  # one entry: keeps no old decomposition alive
    _CHOICES[key] = (lr.explained_variance, choice)
    return choice


def choice_record(choice):
    """JSON-safe provenance of a :class:`~clusterspy.components.ComponentChoice`.

    Examples
    --------
    >>> from clusterspy.components import significant_components
    >>> from clusterspy.estimate.auto import choice_record
    >>> choice_record(significant_components([9.0, 4.0, 1.0], threshold=2.0))
    {'n_components': 2, 'method': 'threshold', 'threshold': 2.0, 'at_least': False}
    """
    if choice is None:
        return None
    return {
        "n_components": int(choice.n_components),
        "method": choice.method,
        "threshold": None if choice.threshold is None else float(choice.threshold),
        "at_least": bool(choice.at_least),
    }


def _data_rows(signal, keep, rng, size):
    """``(rows, data)``: the raw spectra of the kept positions (a seeded
    sample of ``size`` at most, float64) and their flat navigation indices."""
    rows = np.flatnonzero(keep)
    if rows.size > size:
        rows = np.sort(rng.choice(rows, size=size, replace=False))
    data = signal._data_aligned_with_axes
    flat = data.reshape((signal.axes_manager.navigation_size, -1))
    taken = flat[rows]
    if hasattr(taken, "compute"):
        taken = taken.compute()
    return rows, np.asarray(taken, dtype=np.float64)


def _counts_rows(signal, keep, rng, size):
    """``(rows, counts)``: raw counts of the kept positions (a seeded sample
    of ``size`` at most) and their flat navigation indices."""
    rows, taken = _data_rows(signal, keep, rng, size)
    # whole counts again after HyperSpy's in-place Poisson scaling round trip
    return rows, np.clip(np.rint(taken), 0, None)


def _shot_noise_gain(data, n_components):
    """The photon-transfer fit of non-count data, or None when it cannot be
    made (too few rows or channels for the rank, values not finite)."""
    from ..noise import check_rank, photon_transfer

    try:
        check_rank(n_components, data.shape)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(data).all():
        return None
    return photon_transfer(data, n_components)


def choose_n_clusters_auto(plan, max_clusters, seed, show_progressbar=None):
    """The automatic ``k`` of a feature plan: an :class:`~clusterspy.auto_k.AutoK`.

    Count data clustered on decomposition components: the Poisson split
    rule on the raw counts of the kept positions, with as many components
    as the clustering uses. Other spectra clustered on decomposition
    components whose noise is counting noise scaled by a gain (Raman, CL:
    :mod:`clusterspy.noise`): the same rule on their count equivalents.
    Anything else: the majority of the metrics on the preprocessed
    features. Doubts are emitted as
    :class:`~clusterspy.exceptions.DoubtfulEstimateWarning`. The result's
    ``positions`` are the navigation positions its ``labels`` belong to.
    """
    from ..auto_k import estimate_k_counts, estimate_k_features
    from ..counts import is_count_data

    signal, source = plan.signal, plan.source
    seed = seed if isinstance(seed, (int, np.integer)) else 0
    rng = np.random.default_rng(seed)
    max_clusters = min(int(max_clusters), int(plan.keep.sum()) - 1)
    if source.kind in _DECOMPOSED and is_count_data(signal):
        rows, counts = _counts_rows(signal, plan.keep, rng, AUTO_FIT_SAMPLE_SIZE)
        auto = estimate_k_counts(
            counts, source.number_of_components, max_clusters=max_clusters,
            random_state=seed,
        )
        return auto._replace(positions=rows)
    if source.kind in _DECOMPOSED and signal.axes_manager.signal_dimension == 1:
        # Spectra only: the rule's windows are runs of adjacent channels.
        from ..noise import count_equivalents

        rows, data = _data_rows(signal, plan.keep, rng, AUTO_FIT_SAMPLE_SIZE)
        gain = _shot_noise_gain(data, source.number_of_components)
        if gain is not None and gain.usable:
            auto = estimate_k_counts(
                count_equivalents(data, gain), source.number_of_components,
                max_clusters=max_clusters, random_state=seed,
            )
            return auto._replace(positions=rows, gain=gain,
                                 rule=auto.rule + " on count equivalents")
    X, keep = plan.compute(show_progressbar)
    rows = np.flatnonzero(keep)
    if X.shape[0] > AUTO_FIT_SAMPLE_SIZE:
        taken = np.sort(rng.choice(X.shape[0], AUTO_FIT_SAMPLE_SIZE, replace=False))
        X, rows = X[taken], rows[taken]
    auto = estimate_k_features(X, max_clusters=max_clusters, random_state=seed)
    return auto._replace(positions=rows)


def gain_record(gain):
    """JSON-safe record of the photon-transfer fit an automatic k used, or None."""
    if gain is None:
        return None
    return {"gain": float(gain.gain), "offset": float(gain.offset),
            "r_squared": float(gain.r_squared)}


def auto_metric(auto, parameters, versions):
    """The :class:`.result.ClusterMetric` of an automatic ``k`` (``metric="auto"``).

    ``values`` is the rule's own curve (the largest p-value of each ``k``
    for the Poisson split rule, the gap for the metrics' majority); every
    metric's curve is in ``curves``, what each metric alone would answer in
    ``metric_choices``, and the doubts in ``doubts``.
    """
    from .result import ClusterMetric

    curves = {key: np.asarray(v, dtype=np.float64) for key, v in auto.curves.items()}
    if auto.gain is not None:
        parameters = {**parameters, "gain": gain_record(auto.gain)}
    if "worst_p" in curves:
        values, errors = curves["worst_p"], None
    else:
        values, errors = curves["gap"], curves.get("gap_s")
    return ClusterMetric(
        metric="auto",
        ks=np.asarray(auto.ks, dtype=np.int64),
        values=values,
        errors=errors,
        n_clusters=int(auto.n_clusters),
        rule=auto.rule,
        details={"log_w": curves["log_w"]} if "log_w" in curves else {},
        parameters=parameters,
        versions=versions,
        curves=curves,
        metric_choices={k: int(v) for k, v in auto.metric_choices.items()},
        doubts=list(auto.doubts),
    )
