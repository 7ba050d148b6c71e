"""Clustering algorithms: names to estimators, and fitted-model helpers.

``algorithm`` is a name from :data:`ALGORITHM_NAMES` or any object following
scikit-learn's clustering API: ``fit`` and ``labels_``, or ``fit_predict``.
Estimators with ``predict_proba`` (Gaussian mixtures, fuzzy c-means) give
soft memberships. ``"spherical_kmeans"`` and ``"fuzzy_cmeans"`` are
clusterspy's own (:mod:`clusterspy.estimators`); the rest are scikit-learn's.
"""

from __future__ import annotations

import numpy as np

from .preprocessing import _clone, _validate_params
from .validation import ParameterError, check_int

__all__ = [
    "ALGORITHM_NAMES",
    "make_estimator",
    "fit_labels",
    "check_estimator_inputs",
]

#: Algorithm names, with the scikit-learn class each one builds.
ALGORITHM_NAMES = {
    "kmeans": "KMeans",
    "minibatchkmeans": "MiniBatchKMeans",
    "agglomerative": "AgglomerativeClustering",
    "spectral": "SpectralClustering",
    "gaussian_mixture": "GaussianMixture",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
    "birch": "Birch",
    "spherical_kmeans": "SphericalKMeans",
    "fuzzy_cmeans": "FuzzyCMeans",
}

# HyperSpy's names, kept so that notebooks port unchanged.
_ALIASES = {
    "spectralclustering": "spectral",
    "gaussianmixture": "gaussian_mixture",
    "gmm": "gaussian_mixture",
    "mini_batch_kmeans": "minibatchkmeans",
    "fuzzy_c_means": "fuzzy_cmeans",
    "fcm": "fuzzy_cmeans",
}

# Algorithms for which the number of clusters must be given (scikit-learn's
# silent default of 8 clusters is never what a microscopist wants).
_NEEDS_N_CLUSTERS = {
    "kmeans",
    "minibatchkmeans",
    "agglomerative",
    "spectral",
    "gaussian_mixture",
    "birch",
    "spherical_kmeans",
    "fuzzy_cmeans",
}
# Algorithms that find the number of clusters themselves.
_NO_N_CLUSTERS = {"dbscan", "hdbscan"}


def _estimator_class(name):
    import sklearn.cluster
    import sklearn.mixture

    from . import estimators

    if name == "gaussian_mixture":
        return sklearn.mixture.GaussianMixture
    if name in ("spherical_kmeans", "fuzzy_cmeans"):
        return getattr(estimators, ALGORITHM_NAMES[name])
    return getattr(sklearn.cluster, ALGORITHM_NAMES[name])


def canonical_name(algorithm):
    """Return the canonical algorithm name, or ``None`` for an object."""
    if algorithm is None:
        return "kmeans"
    if isinstance(algorithm, str):
        key = algorithm.lower()
        key = _ALIASES.get(key, key)
        if key not in ALGORITHM_NAMES:
            listed = ", ".join(repr(n) for n in ALGORITHM_NAMES)
            raise ValueError(
                f"`algorithm` must be one of {listed}, or a scikit-learn-compatible "
                f"clustering object; got {algorithm!r}."
            )
        return key
    return None


def make_estimator(algorithm, kwargs, random_state):
    """Build an unfitted estimator from a name or an object.

    Parameters
    ----------
    algorithm : str, object or None
        ``None`` means ``"kmeans"``.
    kwargs : dict
        Keyword arguments for a named algorithm's constructor, ``n_clusters``
        included (translated to ``n_components`` for Gaussian mixtures).
    random_state : int or numpy.random.RandomState
        Passed to estimators that take one.

    Returns
    -------
    estimator : object
        A new estimator; objects are cloned so that the user's one is never
        fitted in place.
    name : str
        The canonical name, or the object's class name.

    Examples
    --------
    >>> from clusterspy.algorithms import make_estimator
    >>> est, name = make_estimator("kmeans", {"n_clusters": 3}, 0)
    >>> est.n_clusters, est.random_state, name
    (3, 0, 'kmeans')
    """
    kwargs = dict(kwargs)
    name = canonical_name(algorithm)
    if name is None:
        if not (hasattr(algorithm, "fit") or hasattr(algorithm, "fit_predict")):
            raise ParameterError(
                "`algorithm` must be a name or an object with a fit (and labels_) "
                f"or fit_predict method; got {type(algorithm).__name__}."
            )
        if kwargs:
            raise ParameterError(
                "Keyword arguments "
                f"({', '.join(sorted(kwargs))}) only apply to a named `algorithm`; "
                "set them on the estimator object instead."
            )
        estimator = _clone(algorithm)
        if (
            hasattr(estimator, "get_params")
            and "random_state" in estimator.get_params()
        ):
            if estimator.get_params()["random_state"] is None:
                estimator.set_params(random_state=random_state)
        return estimator, type(algorithm).__name__

    cls = _estimator_class(name)
    n_clusters = kwargs.pop("n_clusters", None)
    if name in _NO_N_CLUSTERS:
        if n_clusters is not None:
            raise ValueError(
                f"`n_clusters` is not used by algorithm={name!r}, which finds the "
                "number of clusters itself; tune `eps`/`min_samples` "
                "(dbscan) or `min_cluster_size` (hdbscan) instead."
            )
    elif n_clusters is None:
        if name == "agglomerative" and kwargs.get("distance_threshold") is not None:
            # scikit-learn wants n_clusters=None explicitly (its default is 2)
            kwargs["n_clusters"] = None
        else:
            raise ValueError(
                f"`n_clusters` must be given for algorithm={name!r} (for "
                "example n_clusters=3); use `estimate_number_of_clusters` to "
                "choose it."
            )
    else:
        n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
        if name == "agglomerative" and kwargs.get("distance_threshold") is not None:
            raise ValueError(
                "Give either `n_clusters` or `distance_threshold` for "
                "algorithm='agglomerative', not both (pass n_clusters=None)."
            )
        if name == "gaussian_mixture":
            kwargs["n_components"] = n_clusters
        else:
            kwargs["n_clusters"] = n_clusters
    if name == "kmeans":
        kwargs.setdefault("n_init", "auto")
    params = cls().get_params()
    if "random_state" in params:
        kwargs.setdefault("random_state", random_state)
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ParameterError(
            f"Unknown keyword argument(s) {', '.join(unknown)} for "
            f"algorithm={name!r} ({cls.__name__}); valid ones are: "
            f"{', '.join(sorted(params))}."
        )
    estimator = cls(**kwargs)
    _validate_params(estimator, "keyword arguments for algorithm=" + repr(name))
    return estimator, name


def requested_n_clusters(estimator):
    """Number of clusters the estimator was asked for, or ``None``."""
    if not hasattr(estimator, "get_params"):
        return None
    params = estimator.get_params()
    for key in ("n_clusters", "n_components"):
        value = params.get(key)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return int(value)
    return None


def fit_labels(estimator, X):
    """Fit ``estimator`` on ``X`` and return ``(labels, membership)``.

    ``membership`` is ``predict_proba(X)`` where the estimator has it, else
    ``None``. Labels follow scikit-learn: ``-1`` marks noise.
    """
    if hasattr(estimator, "fit_predict"):
        labels = estimator.fit_predict(X)
    else:
        estimator.fit(X)
        if hasattr(estimator, "labels_"):
            labels = estimator.labels_
        elif hasattr(estimator, "predict"):
            labels = estimator.predict(X)
        else:
            raise AttributeError(
                f"The fitted {type(estimator).__name__} has neither `labels_` nor "
                "`predict`; clustering objects must give labels."
            )
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{type(estimator).__name__} returned labels of shape {labels.shape} "
            f"and dtype {labels.dtype}; expected {X.shape[0]} integer labels."
        )
    membership = None
    if hasattr(estimator, "predict_proba"):
        membership = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    return labels, membership


def check_estimator_inputs(estimator, n_samples, n_features, engine_kwargs=None):
    """Estimator-specific checks that need the data's size, not the data.

    Run before any work, so that a bad combination is named here rather than
    deep inside scikit-learn after the data were read.

    Parameters
    ----------
    estimator : object
        The unfitted estimator.
    n_samples : int
        Navigation positions to cluster (not masked).
    n_features : int or None
        Features per position, as the estimator sees them (``None``: not
        known before the preprocessing runs; ``init`` is then not checked).
    engine_kwargs : dict or None
        The checked ``engine_kwargs`` of ``cluster_analysis``.

    Raises
    ------
    ValueError
        Naming the parameter and the value expected.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from clusterspy.algorithms import check_estimator_inputs
    >>> check_estimator_inputs(KMeans(2, init=np.zeros((2, 3))), 10, 4)
    Traceback (most recent call last):
    ...
    ValueError: `init` must be an array of shape (n_clusters, n_features) = (2, 4); got shape (2, 3).
    """
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    k = requested_n_clusters(estimator)
    init = params.get("init")
    if (
        k is not None
        and n_features is not None
        and init is not None
        and not isinstance(init, str)
    ):
        if not callable(init):
            shape = np.shape(init)
            if shape != (k, n_features):
                raise ValueError(
                    "`init` must be an array of shape (n_clusters, n_features) = "
                    f"({k}, {n_features}); got shape {shape}."
                )
    for key in ("init_sample_size", "fit_sample_size"):
        size = (engine_kwargs or {}).get(key)
        if size is not None and k is not None and size < k:
            raise ValueError(
                f"`engine_kwargs['{key}']` must be >= n_clusters ({k}), so that the "
                f"sample can hold every cluster; got {size}."
            )
    for key in ("min_cluster_size", "min_samples"):
        value = params.get(key)
        if (
            type(estimator).__name__ == "HDBSCAN"
            and isinstance(value, (int, np.integer))
            and value > n_samples
        ):
            raise ValueError(
                f"`{key}` must be <= the number of navigation positions clustered "
                f"({n_samples}); got {value}."
            )
