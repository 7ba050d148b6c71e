"""Preprocessing: scale the features before clustering.

Named methods map to scikit-learn transformers so that a fitted preprocessing
step can be stored with the results and applied again by ``predict``:

========== ===================================================================
name       what it does
========== ===================================================================
``None``   features as they are
"norm"     each sample scaled to unit Euclidean length (``Normalizer()``):
           clusters by spectral *shape*, insensitive to intensity
"l1"       each sample scaled to unit sum (area normalisation of spectra)
"standard" each feature to zero mean and unit variance (``StandardScaler``)
"minmax"   each feature to [0, 1] (``MinMaxScaler``)
"sqrt"     square root of counts: stabilises Poisson variance
"anscombe" ``2 * sqrt(x + 3/8)``: Anscombe's variance-stabilising transform
========== ===================================================================

Any object with ``fit_transform`` (a scikit-learn ``Pipeline`` included) is
accepted too; it is cloned, so the user's object is never fitted in place.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from .validation import ParameterError

__all__ = [
    "PREPROCESSING_NAMES",
    "VarianceStabilizer",
    "WithCoordinates",
    "make_preprocessor",
    "normalize_rows",
]


def normalize_rows(X, norm="l2", out=None):
    """``sklearn.preprocessing.normalize(X, norm)`` of dense float rows, fast.

    The same operations as scikit-learn (row norms, then its
    ``_handle_zeros_in_scale``: rows of norm below 10 eps are left as they
    are), so the same values to the last bit, without its validation and
    copies. Into ``out`` (an array of X's shape and dtype, which may be
    ``X`` itself) or a new array.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.preprocessing import normalize_rows
    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    if norm == "l2":
        norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    elif norm == "l1":
        norms = np.sum(np.abs(X), axis=1)
    else:
        norms = np.max(np.abs(X), axis=1)
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1.0
    return np.divide(X, norms[:, None], out=out)

PREPROCESSING_NAMES = ("norm", "l1", "standard", "minmax", "sqrt", "anscombe")


class VarianceStabilizer(TransformerMixin, BaseEstimator):
    """Square-root variance stabilisation of Poisson counts.

    ``method="sqrt"`` gives ``sqrt(x)``; ``method="anscombe"`` gives Anscombe's
    ``2 * sqrt(x + 3/8)``, whose variance is close to 1 for Poisson counts
    above a few counts. Negative features are rejected with an error, as
    they cannot be counts.

    Parameters
    ----------
    method : {"sqrt", "anscombe"}
        The transform.
    copy : bool
        If False, transform float input in place.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.preprocessing import VarianceStabilizer
    >>> VarianceStabilizer("sqrt").fit_transform(np.array([[0.0, 4.0]]))
    array([[0., 2.]])
    """

    def __init__(self, method="sqrt", copy=True):
        self.method = method
        self.copy = copy

    def fit(self, X, y=None):
        if self.method not in ("sqrt", "anscombe"):
            raise ValueError(
                f"`method` must be 'sqrt' or 'anscombe'; got {self.method!r}."
            )
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X):
        X = np.asarray(X)
        minimum = X.min() if X.size else 0
        if minimum < 0:
            raise ValueError(
                f"preprocessing={self.method!r} needs non-negative features "
                f"(counts); the smallest feature value is {minimum:g}."
            )
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        elif self.copy or not X.flags.writeable:
            X = X.copy()
        if self.method == "anscombe":
            X += 0.375
        np.sqrt(X, out=X)
        if self.method == "anscombe":
            X *= 2.0
        return X


class WithCoordinates(TransformerMixin, BaseEstimator):
    """Preprocess the features, and weight trailing navigation coordinates.

    The input has the features first and ``n_coordinates`` coordinate
    columns last. The features go through ``preprocessor`` (if any); the
    coordinates are multiplied by ``weight / scale``, so that with
    ``scale`` the spread of the coordinates (see
    :func:`clusterspy.sources.navigation_coordinates`) a ``weight`` of 1 makes
    the map's extent count about as much as a unit of feature distance.

    Parameters
    ----------
    preprocessor : object or None
        Applied to the feature columns.
    n_coordinates : int
    weight : float
        The spatial weight.
    scale : float
        Spread of the coordinates, in their calibrated units.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.preprocessing import WithCoordinates
    >>> X = np.array([[3.0, 4.0, 10.0], [6.0, 8.0, 20.0]])  # 2 features, 1 coordinate
    >>> WithCoordinates(None, 1, weight=0.5, scale=10.0).fit_transform(X)
    array([[3. , 4. , 0.5],
           [6. , 8. , 1. ]])
    """

    def __init__(self, preprocessor=None, n_coordinates=2, weight=1.0, scale=1.0):
        self.preprocessor = preprocessor
        self.n_coordinates = n_coordinates
        self.weight = weight
        self.scale = scale

    def _split(self, X):
        X = np.asarray(X)
        return X[:, : -self.n_coordinates], X[:, -self.n_coordinates :]

    def fit(self, X, y=None):
        features, _ = self._split(X)
        if self.preprocessor is not None:
            self.preprocessor.fit(features)
        self.n_features_in_ = np.shape(X)[1]
        return self

    def _join(self, features, coordinates):
        coordinates = coordinates.astype(np.float64) * (self.weight / self.scale)
        features = np.asarray(features)
        dtype = np.result_type(features.dtype, np.float32)
        return np.hstack(
            [features.astype(dtype, copy=False), coordinates.astype(dtype)]
        )

    def transform(self, X):
        features, coordinates = self._split(X)
        if self.preprocessor is not None:
            features = self.preprocessor.transform(features)
        return self._join(features, coordinates)

    def fit_transform(self, X, y=None):
        features, coordinates = self._split(X)
        if self.preprocessor is not None:
            features = self.preprocessor.fit_transform(features)
        self.n_features_in_ = np.shape(X)[1]
        return self._join(features, coordinates)


def _named_preprocessor(name, kwargs):
    from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler

    if name == "norm":
        return Normalizer(**kwargs)
    if name == "l1":
        return Normalizer(norm="l1", **kwargs)
    if name == "standard":
        return StandardScaler(**kwargs)
    if name == "minmax":
        return MinMaxScaler(**kwargs)
    return VarianceStabilizer(method=name, **kwargs)


def make_preprocessor(preprocessing, preprocessing_kwargs=None):
    """Return an unfitted transformer for ``preprocessing``, or ``None``.

    Parameters
    ----------
    preprocessing : None, str or object
        One of :data:`PREPROCESSING_NAMES`, ``None``, or an object with a
        ``fit_transform`` method.
    preprocessing_kwargs : dict or None
        Keyword arguments for the named transformer's constructor.

    Returns
    -------
    object or None
        A new transformer (a clone, for objects).

    Examples
    --------
    >>> from clusterspy.preprocessing import make_preprocessor
    >>> make_preprocessor("norm")
    Normalizer()
    """
    if preprocessing_kwargs is None:
        preprocessing_kwargs = {}
    elif not isinstance(preprocessing_kwargs, dict):
        raise ParameterError(
            "`preprocessing_kwargs` must be a dict or None, not "
            f"{type(preprocessing_kwargs).__name__}."
        )
    if preprocessing is None:
        if preprocessing_kwargs:
            raise ValueError(
                "`preprocessing_kwargs` were given but `preprocessing` is None."
            )
        return None
    if isinstance(preprocessing, str):
        if preprocessing not in PREPROCESSING_NAMES:
            listed = ", ".join(repr(n) for n in PREPROCESSING_NAMES)
            raise ValueError(
                f"`preprocessing` must be None, one of {listed}, or an object "
                f"with a fit_transform method; got {preprocessing!r}."
            )
        try:
            transformer = _named_preprocessor(preprocessing, preprocessing_kwargs)
        except TypeError as err:
            raise ParameterError(
                f"`preprocessing_kwargs` are not valid for preprocessing="
                f"{preprocessing!r}: {err}"
            ) from None
        _validate_params(transformer, "preprocessing_kwargs")
        return transformer
    if not hasattr(preprocessing, "fit_transform"):
        raise ParameterError(
            "`preprocessing` must be None, a name, or an object with a "
            f"fit_transform method; got {type(preprocessing).__name__}."
        )
    if preprocessing_kwargs:
        raise ValueError(
            "`preprocessing_kwargs` only apply to named preprocessing; set the "
            "parameters on the preprocessing object instead."
        )
    return _clone(preprocessing)


def _clone(estimator):
    """Clone a scikit-learn estimator; deep-copy anything else."""
    import copy

    try:
        return clone(estimator)
    except TypeError:
        return copy.deepcopy(estimator)


def _validate_params(estimator, name):
    """Run scikit-learn's parameter validation now, before any work."""
    validate = getattr(estimator, "_validate_params", None)
    # Only scikit-learn's own estimators declare their constraints.
    if validate is None or not hasattr(estimator, "_parameter_constraints"):
        return
    try:
        validate()
    except (TypeError, ValueError) as err:
        raise type(err)(f"Invalid `{name}`: {err}") from None
