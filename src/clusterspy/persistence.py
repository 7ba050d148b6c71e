"""Store a fitted model as data (arrays and JSON), never as code.

A cluster result keeps the fitted ``(preprocessor, estimator)`` pair so that
``predict`` works after a save and load. Pickles would run code named in the
file when read, and result files are shared; so the pair is stored as

* a JSON *spec*: for each object, the name of its class (which must be on
  the explicit allow-list :data:`ALLOWED_CLASSES`), its constructor
  parameters and its fitted attributes, as JSON values or references to
  arrays;
* the arrays it refers to.

Both go in one ``.npz`` archive held in a ``uint8`` array (HDF5 and zarr
store it like any other array), read back with
``numpy.load(..., allow_pickle=False)``, which refuses object arrays.

Loading only ever builds allow-listed classes with JSON values and numeric
arrays, then sets their fitted attributes: nothing from the file is called
or imported. An object that cannot be described this way (a class not on
the list, an attribute holding something else than numbers, strings or
arrays) is not stored; ``predict`` then assigns samples to the nearest
cluster centre (which the result always holds).

Examples
--------
>>> import numpy as np
>>> from sklearn.cluster import KMeans
>>> from clusterspy.persistence import dump_model, load_model
>>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
>>> km = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
>>> stored = dump_model(None, km)  # a uint8 array, storable in .hspy/.zspy
>>> _, again = load_model(stored)
>>> bool((again.predict(X) == km.predict(X)).all())
True
"""

from __future__ import annotations

import io
import json

import numpy as np

__all__ = [
    "ALLOWED_CLASSES",
    "dump_model",
    "load_model",
    "missing_parts",
    "UnsafeModelError",
]

_SPEC_VERSION = 1

#: Classes a stored model may contain: stored name -> (module, class name).
#: Nothing else is ever built on load.
ALLOWED_CLASSES = {
    "KMeans": ("sklearn.cluster", "KMeans"),
    "MiniBatchKMeans": ("sklearn.cluster", "MiniBatchKMeans"),
    "Birch": ("sklearn.cluster", "Birch"),
    "MeanShift": ("sklearn.cluster", "MeanShift"),
    "AffinityPropagation": ("sklearn.cluster", "AffinityPropagation"),
    "GaussianMixture": ("sklearn.mixture", "GaussianMixture"),
    "BayesianGaussianMixture": ("sklearn.mixture", "BayesianGaussianMixture"),
    "Normalizer": ("sklearn.preprocessing", "Normalizer"),
    "StandardScaler": ("sklearn.preprocessing", "StandardScaler"),
    "MinMaxScaler": ("sklearn.preprocessing", "MinMaxScaler"),
    "MaxAbsScaler": ("sklearn.preprocessing", "MaxAbsScaler"),
    "RobustScaler": ("sklearn.preprocessing", "RobustScaler"),
    "PCA": ("sklearn.decomposition", "PCA"),
    "Pipeline": ("sklearn.pipeline", "Pipeline"),
    "SphericalKMeans": ("clusterspy.estimators", "SphericalKMeans"),
    "FuzzyCMeans": ("clusterspy.estimators", "FuzzyCMeans"),
    "VarianceStabilizer": ("clusterspy.preprocessing", "VarianceStabilizer"),
    "WithCoordinates": ("clusterspy.preprocessing", "WithCoordinates"),
    "BlockwiseKMeans": ("clusterspy.engines.kmeans", "BlockwiseKMeans"),
    # no ``predict``: known, but nothing of them is stored (``predict`` uses
    # the nearest cluster centre, and their fitted state is per-sample)
    "DBSCAN": ("sklearn.cluster", "DBSCAN"),
    "HDBSCAN": ("sklearn.cluster", "HDBSCAN"),
    "OPTICS": ("sklearn.cluster", "OPTICS"),
    "AgglomerativeClustering": ("sklearn.cluster", "AgglomerativeClustering"),
    "SpectralClustering": ("sklearn.cluster", "SpectralClustering"),
}

# Fitted attributes left out: per-sample state (the result holds the labels),
# and Birch's CF-tree (objects; ``predict`` only needs the subcluster arrays).
_SKIP = {
    "labels_",
    "root_",
    "dummy_leaf_",
    "feature_names_in_",
    "_random_state",  # MiniBatchKMeans: a RandomState, only needed to fit
}

# dtype kinds of arrays accepted in a stored model: bool, integers, floats.
_ARRAY_KINDS = "biuf"


class UnsafeModelError(ValueError):
    """A stored model names a class or value outside the allow-list."""


class _NotStorable(Exception):
    pass


def _class_of(name):
    import importlib

    if not isinstance(name, str) or name not in ALLOWED_CLASSES:
        raise UnsafeModelError(
            f"The stored model names class {name!r}, which is not on clusterspy's "
            "allow-list; it is not restored."
        )
    module, attr = ALLOWED_CLASSES[name]
    return getattr(importlib.import_module(module), attr)


def _stored_name(obj):
    cls = type(obj)
    for name, (module, attr) in ALLOWED_CLASSES.items():
        if cls.__name__ == attr and cls.__module__.startswith(module):
            if _class_of(name) is cls:
                return name
    raise _NotStorable(f"{cls.__name__} is not on the allow-list")


# -- encoding --------------------------------------------------------------------------


def _encode(value, arrays):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and not isinstance(value, np.generic):
        return {"float": repr(float(value))}  # exact, and NaN/inf survive strict JSON
    if isinstance(value, (np.generic, np.ndarray)):
        array = np.asarray(value)
        if array.dtype.kind not in _ARRAY_KINDS:
            raise _NotStorable(f"an array of dtype {array.dtype}")
        arrays.append(np.array(array, copy=True))
        return {"array": len(arrays) - 1, "scalar": isinstance(value, np.generic)}
    if isinstance(value, np.dtype):
        if value.kind not in _ARRAY_KINDS:
            raise _NotStorable(f"dtype {value}")
        return {"dtype": value.str}
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"dtype": np.dtype(value).str, "type": True}
    if isinstance(value, (list, tuple)):
        return {
            "list" if isinstance(value, list) else "tuple": [
                _encode(v, arrays) for v in value
            ]
        }
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _NotStorable("a dict with non-string keys")
        return {"dict": {k: _encode(v, arrays) for k, v in value.items()}}
    if hasattr(value, "get_params"):
        return {"object": _encode_object(value, arrays)}
    raise _NotStorable(f"a value of type {type(value).__name__}")


def _encode_object(obj, arrays):
    name = _stored_name(obj)
    params = obj.get_params(deep=False)
    spec_params = {}
    for key, value in params.items():
        if key == "random_state" and not (value is None or isinstance(value, int)):
            value = None  # a RandomState's state is not needed to predict
        spec_params[key] = _encode(value, arrays)
    fitted = {}
    for key, value in vars(obj).items():
        if key in params or key in _SKIP or key.startswith("__"):
            continue
        fitted[key] = _encode(value, arrays)
    return {"class": name, "params": spec_params, "fitted": fitted}


def _pack(spec, arrays):
    buffer = io.BytesIO()
    text = np.frombuffer(json.dumps(spec, sort_keys=True).encode("utf-8"), np.uint8)
    np.savez(buffer, *arrays, spec=text)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy()


def dump_model(preprocessor, estimator):
    """Store a fitted pair as data: one ``uint8`` array (an ``.npz`` archive).

    Parameters
    ----------
    preprocessor, estimator : object or None
        The fitted preprocessing and estimator.

    Returns
    -------
    numpy.ndarray of uint8
        The archive: the JSON spec (allow-listed class names, parameters,
        attributes) and the arrays it refers to.

    Notes
    -----
    A part that cannot be described (see the module docstring) is stored as
    ``None``, with the reason in the spec (:func:`missing_parts`);
    ``predict`` then falls back to the nearest cluster centre for the
    estimator. Per-sample attributes such as ``labels_`` are left out.
    """
    arrays = []
    spec = {"version": _SPEC_VERSION}
    for key, obj in (("preprocessor", preprocessor), ("estimator", estimator)):
        if obj is None:
            spec[key] = None
            continue
        mark = len(arrays)
        try:
            if key == "estimator" and not hasattr(obj, "predict"):
                _stored_name(obj)  # known: nothing of it is needed to predict
                spec[key] = None
                continue
            spec[key] = _encode_object(obj, arrays)
        except _NotStorable as err:
            del arrays[mark:]
            spec[key] = None
            spec[key + "_missing"] = f"{type(obj).__name__} ({err})"
    return _pack(spec, arrays)


# -- decoding --------------------------------------------------------------------------


def _decode(value, arrays):
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, dict) and len(value) >= 1:
        if "float" in value:
            return float(str(value["float"]))
        if "array" in value:
            index = value["array"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise UnsafeModelError(f"array reference {index!r} out of range")
            array = arrays[index]
            return array[()] if value.get("scalar") else array
        if "dtype" in value:
            dtype = np.dtype(str(value["dtype"]))
            if dtype.kind not in _ARRAY_KINDS:
                raise UnsafeModelError(f"dtype {dtype} is not allowed")
            return dtype.type if value.get("type") else dtype
        if "list" in value:
            return [_decode(v, arrays) for v in value["list"]]
        if "tuple" in value:
            return tuple(_decode(v, arrays) for v in value["tuple"])
        if "dict" in value:
            return {str(k): _decode(v, arrays) for k, v in value["dict"].items()}
        if "object" in value:
            return _decode_object(value["object"], arrays)
    raise UnsafeModelError(f"unexpected stored value {value!r:.80}")


def _decode_object(spec, arrays):
    if not isinstance(spec, dict):
        raise UnsafeModelError("a stored object is not a mapping")
    cls = _class_of(spec.get("class"))
    params = {str(k): _decode(v, arrays) for k, v in spec.get("params", {}).items()}
    valid = set(cls._get_param_names())
    unknown = set(params) - set(valid)
    if unknown:
        raise UnsafeModelError(
            f"unknown parameter(s) {sorted(unknown)} for {spec.get('class')}"
        )
    obj = cls(**params)
    for key, value in spec.get("fitted", {}).items():
        key = str(key)
        if not key.isidentifier() or key.startswith("__") or key in valid:
            raise UnsafeModelError(f"attribute name {key!r} is not allowed")
        setattr(obj, key, _decode(value, arrays))
    return obj


def _unpack(packed):
    """Return ``(spec, arrays)`` from the archive; no pickle is ever read."""
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise UnsafeModelError(
            f"the stored model is a {packed.dtype} array of shape {packed.shape}, "
            "not an archive of bytes"
        )
    try:
        with np.load(io.BytesIO(packed.tobytes()), allow_pickle=False) as archive:
            names = set(archive.files)
            text = archive["spec"].tobytes().decode("utf-8")
            count = len(names - {"spec"})
            arrays = [archive[f"arr_{i}"] for i in range(count)]
    except Exception as err:  # damaged or foreign: say so, never run anything
        raise UnsafeModelError(
            f"the stored model cannot be read ({type(err).__name__}: {err})"
        ) from None
    try:
        spec = json.loads(text)
    except ValueError as err:
        raise UnsafeModelError(f"the stored model is not valid JSON ({err})") from None
    if not isinstance(spec, dict) or spec.get("version") != _SPEC_VERSION:
        raise UnsafeModelError("the stored model has an unknown layout")
    return spec, arrays


def load_model(packed):
    """Rebuild the pair stored by :func:`dump_model`; never runs stored code.

    Parameters
    ----------
    packed : numpy.ndarray of uint8
        The archive written by :func:`dump_model`.

    Returns
    -------
    (preprocessor, estimator)
        Either may be ``None`` (not stored; see :func:`dump_model`).

    Raises
    ------
    UnsafeModelError
        If the archive names a class or a value outside the allow-list, or is
        damaged.
    """
    spec, arrays = _unpack(packed)
    pair = []
    for key in ("preprocessor", "estimator"):
        value = spec.get(key)
        try:
            pair.append(None if value is None else _decode_object(value, arrays))
        except UnsafeModelError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as err:
            raise UnsafeModelError(f"the stored {key} is not valid ({err})") from None
    return tuple(pair)


def missing_parts(packed):
    """Parts :func:`dump_model` could not store: ``{part: reason}``."""
    spec, _ = _unpack(packed)
    return {
        key: str(spec[key + "_missing"])
        for key in ("preprocessor", "estimator")
        if spec.get(key + "_missing")
    }
