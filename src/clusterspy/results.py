"""The result of a cluster analysis, and how it is stored with a signal.

A :class:`ClusterResult` is the one object every later stage reads: getters,
plots, files and ``predict``. It is stored with the analysed signal in
``signal.learning_results.clusterspy`` as a plain dictionary of NumPy arrays,
numbers and strings, which is what HyperSpy deep-copies and what the ``.hspy``
and ``.zspy`` writers save; the object is rebuilt from it on access.

Label conventions
-----------------
Labels are integers ``0 .. n_clusters - 1`` ordered by cluster size, largest
first (ties keep the algorithm's order). Two negative values mark samples that
belong to no cluster:

* :data:`NOISE` (``-1``): the algorithm called the sample noise (DBSCAN,
  HDBSCAN), as in scikit-learn;
* :data:`MASKED` (``-2``): the sample was excluded by ``navigation_mask`` (or
  by ``nan_policy="mask"``) and never clustered;
* :data:`UNASSIGNED` (``-3``): soft clustering gave no cluster a membership
  of at least ``membership_threshold``, or (in region maps) the sample lies
  in a region smaller than ``min_size``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from .sources import _as_numpy
from .validation import check_choice, check_signal, check_stored_array

__all__ = [
    "ClusterResult",
    "NOISE",
    "MASKED",
    "UNASSIGNED",
    "CLUSTER_SIGNAL_KINDS",
    "get_cluster_result",
    "store_result",
]

NOISE = -1
MASKED = -2
UNASSIGNED = -3

#: Cluster signals computed for every result.
CLUSTER_SIGNAL_KINDS = ("mean", "sum", "centroid", "std", "count")

# Version 2 stores the fitted model as data (``model_data``, see
# :mod:`clusterspy.persistence`); version 1 (clusterspy 0.1.0) stored it
# pickled (``model``), which is read but never unpickled.
_FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)

# Keys of the stored dictionary holding arrays; everything else is a scalar
# or a string.
_ARRAY_KEYS = (
    "labels",
    "membership",
    "distances",
    "centers",
    "counts",
    "signal_sum",
    "signal_mean",
    "signal_std",
    "signal_centroid",
    "centroid_index",
    "label_order",
    "signal_mask",
    "navigation_shape",
    "projection_factors",
    "projection_mean",
    "projection_weights",
    "model_data",
)

# Arrays that may come from the caller or the signal rather than being
# computed by the analysis: copied when stored.
_FROM_OUTSIDE = ("signal_mask", "projection_factors", "projection_mean",
                 "projection_weights")


class ClusterResult:
    """Everything a cluster analysis produced, in arrays.

    Attributes
    ----------
    labels : numpy.ndarray of int, shape (n_samples,)
        Hard labels over all navigation positions, flattened in data order;
        :data:`NOISE` and :data:`MASKED` as described in the module docstring.
        :attr:`label_map` gives them in the navigation shape.
    n_clusters : int
    membership : numpy.ndarray or None, shape (n_samples, n_clusters)
        Soft memberships (probabilities) from algorithms with
        ``predict_proba``; NaN for masked samples.
    distances : numpy.ndarray, shape (n_samples, n_clusters)
        Euclidean distance of every sample to every cluster centre in the
        (preprocessed) feature space; NaN for masked samples.
    centers : numpy.ndarray, shape (n_clusters, n_features)
        Mean of each cluster's members in the preprocessed feature space.
    counts : numpy.ndarray of int, shape (n_clusters,)
        Members of each cluster (non-increasing).
    signal_sum, signal_mean, signal_std, signal_centroid : numpy.ndarray
        Cluster signals, shape ``(n_clusters,) + signal array shape`` of
        ``source_for_centers``; the centroid is the member whose features are
        nearest its own cluster's centre.
    centroid_index : numpy.ndarray of int, shape (n_clusters,)
        Flat navigation index of each centroid member (-1 for an empty cluster).
    navigation_shape : tuple
        Navigation shape (HyperSpy order) of the analysed signal.
    parameters : dict
        The call's parameters, as recorded for provenance.
    versions : dict
        Versions of the packages that produced the result.
    """

    def __init__(self, **fields):
        self._model = None
        self.model_data = None
        self._legacy_pickle = False
        for key, value in fields.items():
            setattr(self, key, value)

    # -- derived views -----------------------------------------------------------
    @property
    def label_map(self):
        """Labels in the navigation shape, as displayed (data order)."""
        return self.labels.reshape(tuple(self.navigation_shape)[::-1])

    def cluster_signal(self, kind="mean"):
        """Return one kind of cluster signal as an array.

        Parameters
        ----------
        kind : {"mean", "sum", "centroid", "std", "count"}
        """
        check_choice(kind, "signal", CLUSTER_SIGNAL_KINDS)
        if kind == "count":
            return self.counts
        return getattr(self, "signal_" + kind)

    @property
    def noise_count(self):
        return int(np.count_nonzero(self.labels == NOISE))

    @property
    def masked_count(self):
        return int(np.count_nonzero(self.labels == MASKED))

    @property
    def unassigned_count(self):
        return int(np.count_nonzero(self.labels == UNASSIGNED))

    def __repr__(self):
        algorithm = self.parameters.get("algorithm", "?")
        text = (
            f"<ClusterResult: {self.n_clusters} clusters by {algorithm} on "
            f"{self.parameters.get('cluster_source', '?')}, sizes "
            f"{self.counts.tolist()}"
        )
        if self.noise_count:
            text += f", {self.noise_count} noise"
        if self.masked_count:
            text += f", {self.masked_count} masked"
        if self.unassigned_count:
            text += f", {self.unassigned_count} unassigned"
        return text + ">"

    # -- the fitted model ------------------------------------------------------------
    @property
    def model(self):
        """The fitted ``(preprocessor, estimator)`` pair.

        Stored as data with the result (arrays and parameters of
        allow-listed classes, see :mod:`clusterspy.persistence`), so that
        ``predict`` works after a deep copy or a save/load round trip; reading
        a result file never runs code from it. The estimator is ``None`` where
        it could not be stored as data (``predict`` then uses the nearest
        cluster centre).

        Raises
        ------
        RuntimeError
            For results written by clusterspy 0.1.0, whose model was pickled:
            pickles are never loaded (they can run code); run the analysis
            again to store the model as data.
        """
        if self._model is not None:
            return self._model
        if self.model_data is None:
            if getattr(self, "_legacy_pickle", False):
                raise RuntimeError(
                    "This result was saved by clusterspy 0.1.0 with its fitted model "
                    "pickled; pickles are never loaded (unpickling a file can run "
                    "code), so the model is not restored and `predict` is not "
                    "available. Run `cluster_analysis` again to store the model as "
                    "data. Labels, centres and cluster signals are unaffected."
                )
            raise RuntimeError(
                "The fitted pipeline of this result was not stored, so `predict` "
                "is not available."
            )
        from .persistence import UnsafeModelError, load_model, missing_parts

        try:
            missing = missing_parts(self.model_data)
            pair = load_model(self.model_data)
        except UnsafeModelError as err:
            raise RuntimeError(
                f"The stored model of this result is not restored: {err}. Run "
                "`cluster_analysis` again."
            ) from None
        if "preprocessor" in missing:
            raise RuntimeError(
                f"The fitted preprocessing {missing['preprocessor']} could not be "
                "stored as data, so `predict` is not available for this result."
            )
        stored = self.versions.get("scikit-learn")
        import sklearn

        if stored and stored != sklearn.__version__:
            warnings.warn(
                f"The model was fitted with scikit-learn {stored} and is "
                f"loaded with {sklearn.__version__}; predictions may differ.",
                UserWarning,
                stacklevel=3,
            )
        self._model = pair
        return pair

    def predict(self, signal, cluster_source=None, show_progressbar=None):
        """Assign the navigation positions of another signal to these clusters.

        See :func:`clusterspy.predict`.
        """
        if self._predict_function is None:  # pragma: no cover - set on import
            raise RuntimeError("clusterspy.prediction was not imported.")
        return self._predict_function(self, signal, cluster_source, show_progressbar)

    # Set by :mod:`clusterspy.prediction` when it is imported (always, by
    # ``import clusterspy``): the prediction needs the signal builders above
    # this module, which must import nothing above it.
    _predict_function = None

    # -- storage ----------------------------------------------------------------
    def to_dict(self):
        """Return the storable dictionary (arrays, numbers, strings)."""
        out = {"format_version": _FORMAT_VERSION, "n_clusters": int(self.n_clusters)}
        for key in _ARRAY_KEYS:
            if key == "navigation_shape":
                out[key] = np.asarray(self.navigation_shape, dtype=np.int64)
            elif key in _FROM_OUTSIDE and getattr(self, key, None) is not None:
                # the caller's mask, the signal's decomposition: never aliased,
                # so that editing them later cannot change the stored result
                out[key] = np.array(getattr(self, key), copy=True)
            else:
                out[key] = getattr(self, key, None)
        out["parameters"] = json.dumps(self.parameters, sort_keys=True)
        out["versions"] = json.dumps(self.versions, sort_keys=True)
        out["centers_axes"] = json.dumps(self.centers_axes)
        out["centers_signal_type"] = self.centers_signal_type
        out["centers_source"] = self.centers_source
        return out

    @classmethod
    def from_dict(cls, stored):
        """Rebuild a result from :meth:`to_dict`'s dictionary.

        Arrays may come back lazy (from a lazily loaded file); they are small
        (navigation-sized at most) and are computed here.
        """
        version = stored.get("format_version", 0)
        version = int(version) if isinstance(version, (int, np.integer)) else version
        if version not in _READABLE_VERSIONS:
            raise ValueError(
                f"Stored clusterspy results have format version {version}; this "
                f"clusterspy reads version 1 or {_FORMAT_VERSION}."
            )
        fields = {}
        for key in _ARRAY_KEYS:
            value = stored.get(key)
            # never an object array: those are where pickles would hide
            fields[key] = None if value is None else check_stored_array(
                _as_numpy(value), key
            )
        # clusterspy 0.1.0's pickled model: noted, never read
        fields["_legacy_pickle"] = stored.get("model") is not None
        fields["navigation_shape"] = tuple(int(n) for n in fields["navigation_shape"])
        fields["n_clusters"] = int(stored["n_clusters"])
        fields["parameters"] = json.loads(stored["parameters"])
        fields["versions"] = json.loads(stored["versions"])
        fields["centers_axes"] = json.loads(stored["centers_axes"])
        fields["centers_signal_type"] = str(stored["centers_signal_type"])
        fields["centers_source"] = str(stored["centers_source"])
        return cls(**fields)


def store_model(preprocessor, estimator):
    """The fitted pair as data for :class:`ClusterResult` (``model_data``).

    See :func:`clusterspy.persistence.dump_model`: arrays and parameters of
    allow-listed classes, never a pickle. Per-sample attributes
    (``labels_``) are dropped. A part that cannot be stored as data is
    reported with a warning: without the estimator ``predict`` assigns
    samples to the nearest cluster centre; without the preprocessing
    ``predict`` is not available.
    """
    from .persistence import dump_model, missing_parts

    packed = dump_model(preprocessor, estimator)
    missing = missing_parts(packed)
    if "preprocessor" in missing:
        warnings.warn(
            f"The fitted preprocessing {missing['preprocessor']} cannot be stored "
            "as data; `predict` will not be available for this result.",
            UserWarning,
            stacklevel=3,
        )
    elif "estimator" in missing:
        warnings.warn(
            f"The fitted {missing['estimator']} cannot be stored as data; "
            "`predict` will assign samples to the nearest cluster centre.",
            UserWarning,
            stacklevel=3,
        )
    return packed



def json_safe(value):
    """Return ``value`` converted to something ``json.dumps`` accepts."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


# -- storage with the signal ----------------------------------------------------------


def store_result(signal, result):
    """Store ``result`` with ``signal`` (``learning_results.clusterspy``).

    A plain dictionary, which HyperSpy deep-copies and its writers save.
    """
    signal.learning_results.clusterspy = result.to_dict()


def _unfolded_from(signal, stored_shape):
    """Whether ``signal`` is the signal of ``stored_shape``, unfolded.

    HyperSpy's ``unfold`` merges the navigation axes in data order, the
    order of the stored labels, so every position keeps its flat index; the
    folding record (``metadata._HyperSpy.Folding``) says which shape it came
    from. Only that record is trusted: a 1-D navigation of the same size can
    also be ``s.T`` of a map, whose positions are something else.
    """
    folding = signal.metadata.get_item("_HyperSpy.Folding")
    if folding is None or not folding.get_item("unfolded", False):
        return False
    original = folding.get_item("original_axes_manager")
    return (
        original is not None
        and tuple(original.navigation_shape) == tuple(stored_shape)
        and signal.axes_manager.navigation_size == int(np.prod(stored_shape))
    )


def get_cluster_result(signal):
    """Return the :class:`~clusterspy.ClusterResult` stored with ``signal``.

    After ``signal.unfold()`` the result is given in the unfolded navigation
    shape (unfolding keeps the positions' flat order), and after ``fold()``
    in the original one again.

    Raises
    ------
    RuntimeError
        If no cluster analysis was run, or if the signal's navigation shape
        changed since (after ``.T``, ``inav`` or a crop) other than by
        ``unfold()``.

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
    if result.navigation_shape != nav_shape and _unfolded_from(
        signal, result.navigation_shape
    ):
        # unfold(): the positions keep their flat (data) order, so the
        # results hold; they are given in the signal's present shape.
        result.navigation_shape = nav_shape
    if result.navigation_shape != nav_shape:
        raise RuntimeError(
            "The stored cluster results were computed for navigation shape "
            f"{result.navigation_shape}, but this signal's navigation shape is "
            f"{nav_shape} (after `.T`, `inav` or a crop?); run "
            "`cluster_analysis` again."
        )
    return result
