"""Assign the navigation positions of a new signal to fitted clusters."""

from __future__ import annotations

import numpy as np

from . import _compute
from ._utils.progress import progress as _progress
from .pca import PCAModel
from .results import MASKED, NOISE, ClusterResult
from .signals import navigation_map
from .sources import _is_dask, _is_signal, navigation_coordinates
from .validation import (
    check_predict_features,
    check_predict_signal,
    check_show_progressbar,
    check_signal,
    reads_data,
)

__all__ = ["predict"]


@reads_data  # a damaged file is named
def predict(result, signal, cluster_source=None, show_progressbar=None):
    """Assign the navigation positions of a new signal to fitted clusters.

    The fitted pipeline is applied as it is: the same features (with the
    same signal mask), the fitted preprocessing, and the fitted estimator's
    ``predict`` (or, for algorithms without one, the nearest cluster centre
    in feature space). For the ``"decomposition"``/``"bss"`` sources, the new
    data are projected on the stored factors by least squares (after
    subtracting the decomposition mean, where one was used), weighted by
    one over the counts per channel for a Poisson-normalised decomposition
    (``result.projection_weights``): HyperSpy's own loadings.

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
    show_progressbar = check_show_progressbar(show_progressbar)
    X, finite = features_of(result, signal, cluster_source, show_progressbar)
    labels = _assign(result, X)
    labels = np.where(finite, labels, MASKED)  # nan_policy="mask"
    out = navigation_map(
        signal, labels.reshape(signal.axes_manager.navigation_shape[::-1])
    )
    out.metadata.General.title = "Predicted cluster labels of " + (
        signal.metadata.General.title
    )
    return out


def features_of(
    result, signal, cluster_source=None, show_progressbar=None, nan_policy=None
):
    """The features of ``signal``'s positions as ``result`` was fitted on,
    before preprocessing; returns ``(X, finite)``.

    The ``"pca"`` source is projected with the stored model, decomposition
    and BSS loadings by least squares on the stored factors, other sources
    read as stored (signal mask, coordinates). Non-finite rows follow
    ``nan_policy`` (default: the result's own), see
    :func:`clusterspy.validation.check_predict_features`. Used by
    :func:`predict` and by the editing of a result.
    """
    kind = result.parameters["cluster_source_kind"]
    feature_signal = _feature_signal(kind, signal, cluster_source)
    check_predict_signal(result, feature_signal)
    X = _read_rows(feature_signal, show_progressbar)
    if nan_policy is None:
        nan_policy = result.parameters.get("nan_policy")
    X, finite = check_predict_features(X, nan_policy)
    if kind == "pca":  # projected as the fitted data were (clusterspy.pca)
        X = PCAModel.from_dict(result.parameters["pca"]["model"]).transform(X)
    elif kind in ("decomposition", "bss"):
        X = _project(result, X)
    else:
        X = _features(result, X, signal)
    return X, finite


def _feature_signal(kind, signal, cluster_source):
    """The signal the features are read from: ``signal``, or the user's source."""
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
    return feature_signal


def _read_rows(feature_signal, show_progressbar):
    """One row per navigation position, as NumPy."""
    data = feature_signal._data_aligned_with_axes
    n = feature_signal.axes_manager.navigation_size
    X = data.reshape((n, -1))
    if _is_dask(X):
        with _progress(show_progressbar):
            X = np.asarray(X.compute())
    return X


def _project(result, X):
    """Loadings of new spectra on the stored factors, by least squares
    (weighted for a Poisson-normalised decomposition)."""
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
    counts = getattr(result, "projection_weights", None)
    if counts is not None:
        # A Poisson-normalised decomposition: its factors are V * sqrt(counts)
        # with V orthonormal, so least squares weighted by 1 / counts gives
        # HyperSpy's own loadings (plain least squares does not: up to a
        # quarter off, and other labels for some positions). Channels without
        # counts, or masked, carry no weight.
        counts = np.asarray(counts, dtype=np.float64)
        root = np.sqrt(np.divide(1.0, counts, out=np.zeros_like(counts),
                                 where=counts > 0))
        factors = np.nan_to_num(np.asarray(factors, dtype=np.float64)) * root[:, None]
        X = X * root[None, :]
    return np.linalg.lstsq(factors, X.T, rcond=None)[0].T


def _features(result, X, signal):
    """The clustered features of new rows: signal mask, then coordinates."""
    if result.signal_mask is not None:
        if X.shape[1] != result.signal_mask.size:
            raise ValueError(
                f"`signal` has {X.shape[1]} channels; the clustered signal had "
                f"{result.signal_mask.size}."
            )
        X = X[:, ~result.signal_mask]
    if result.parameters.get("spatial_weight") is not None:
        coords, _ = navigation_coordinates(signal)
        X = np.hstack([X.astype(np.float64), coords])
    if X.shape[1] != result.centers.shape[1]:
        raise ValueError(
            f"The features of `signal` have {X.shape[1]} values per navigation "
            f"position; the clustered features had {result.centers.shape[1]}."
        )
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    return X


def _assign(result, X):
    """Labels in the result's order: the fitted pipeline, or the nearest centre."""
    preprocessor, estimator = result.model
    Xp = X if preprocessor is None else preprocessor.transform(X)
    # Estimators fitted on float32 refuse float64 in predict (and vice versa).
    Xp = np.asarray(Xp).astype(result.parameters["feature_dtype"], copy=False)
    rank = np.empty(result.n_clusters, dtype=np.int64)
    rank[result.label_order] = np.arange(result.n_clusters)
    if estimator is not None and hasattr(estimator, "predict"):
        raw = np.asarray(estimator.predict(Xp))
        return np.where(raw >= 0, rank[np.maximum(raw, 0)], NOISE)
    distances = _compute.pairwise_distances_to(Xp, result.centers)
    return np.nanargmin(distances, axis=1)


# ``ClusterResult.predict`` delegates here; results.py sits below this module
# and must not import it, so the function is handed down.
ClusterResult._predict_function = staticmethod(predict)
