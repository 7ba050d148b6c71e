"""Editing a stored result: merge clusters, split one, pull one out.

:func:`merge_clusters` and :func:`split_cluster` rewrite the result stored
with the signal (``learning_results.clusterspy``) so that it stays what
``cluster_analysis`` would store: labels ordered by size, sizes, centres
(members' means in the preprocessed feature space), distances of every
position to every centre, cluster signals recomputed from the data of
``source_for_centers``, and the edit recorded in
``result.parameters["edits"]``. The result survives ``deepcopy`` and
save/load as any other. Every argument is checked before any work, and the
result is written back only once everything succeeded: bad input leaves it
untouched.

After an edit, ``predict`` assigns positions to the nearest new centre in
the stored preprocessing's feature space (the fitted estimator knows only
the old clusters and is dropped); soft memberships are summed by a merge
and dropped by a split (the algorithm gave none for the new parts).
:func:`get_cluster_members` returns one cluster's spectra or its mask.
"""

from __future__ import annotations

import datetime
import numbers

import numpy as np

from .cluster_stats import compute_cluster_signals
from .results import (
    MASKED,
    ClusterResult,
    get_cluster_result,
    json_safe,
    store_model,
    store_result,
)

__all__ = ["merge_clusters", "split_cluster", "get_cluster_members"]


def _check_id(value, name, n_clusters):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a cluster id (int); got {value!r}.")
    if not 0 <= int(value) < n_clusters:
        raise ValueError(
            f"`{name}` must be a cluster id in [0, {n_clusters - 1}]; got {value!r}."
        )
    return int(value)


def _check_editable(result):
    if result.centers_source == "user":
        raise NotImplementedError(
            "This result's cluster signals come from a user signal "
            "(`source_for_centers=<signal>`), which is not stored with it; "
            "run `cluster_analysis` again instead of editing it."
        )


def _centers_source(signal, result):
    from .sources import resolve_source

    return resolve_source(
        signal,
        result.centers_source,
        result.parameters.get("centers_number_of_components"),
        None,
        name="source_for_centers",
    )


def _features(signal, result):
    """The preprocessed features of every position, as the analysis saw
    them: the stored source read as ``predict`` reads it (the stored PCA
    model; the loadings' own values, provided the decomposition is the one
    that was clustered), then the stored, fitted preprocessing."""
    from .prediction import features_of
    from .sources import _as_numpy, navigation_coordinates, resolve_source

    kind = result.parameters["cluster_source_kind"]
    if kind == "user":
        raise NotImplementedError(
            "This result was clustered on a user signal, which is not stored "
            "with it: `split_cluster` cannot rebuild its features."
        )
    preprocessor = _stored_preprocessor(result, "split_cluster")
    if kind in ("decomposition", "bss"):
        source = resolve_source(
            signal, kind, result.parameters.get("number_of_components"), None
        )
        _, factors = source._loadings_and_factors()
        if not np.allclose(_as_numpy(factors), result.projection_factors):
            raise ValueError(
                f"The signal's {kind} results are not the ones this result was "
                f"clustered on (was `{kind}` run again since?): run "
                "`cluster_analysis` again instead of editing it."
            )
        X = _as_numpy(source.features()).astype(np.float64)
        finite = np.isfinite(X).all(axis=1)
        X = np.where(finite[:, None], X, 0)
        if result.parameters.get("spatial_weight") is not None:
            coords, _ = navigation_coordinates(signal)
            X = np.hstack([X, coords])
    else:
        X, finite = features_of(result, signal, nan_policy="mask")
    Xp = X if preprocessor is None else preprocessor.transform(X)
    # non-finite rows (zeros here) are masked (label -2): never members
    return np.asarray(Xp, dtype=np.float64)


def _stored_preprocessor(result, what):
    """The fitted preprocessing, or a clear error when it was not stored."""
    try:
        preprocessor, _ = result.model
    except RuntimeError as error:
        raise RuntimeError(
            f"`{what}` needs the fitted preprocessing, which this result could "
            f"not keep ({error}); run `cluster_analysis` again instead."
        ) from None
    return preprocessor


def _store(signal, result):
    """Write ``result`` back as ``cluster_analysis`` stores it."""
    store_result(signal, result)


def _finish(signal, result, labels, centers, distances, membership, edit):
    """Order by size, recompute centroids and cluster signals, record the
    edit, and return the new :class:`ClusterResult` (not yet stored)."""
    k = centers.shape[0]
    counts = np.bincount(labels[labels >= 0], minlength=k).astype(np.int64)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    labels = np.where(labels >= 0, rank[np.maximum(labels, 0)], labels).astype(np.int64)
    counts, centers, distances = counts[order], centers[order], distances[:, order]
    if membership is not None:
        membership = membership[:, order]
    centroid_index = np.full(k, -1, dtype=np.int64)
    for j in range(k):
        members = np.flatnonzero(labels == j)
        if members.size:
            centroid_index[j] = members[np.nanargmin(distances[members, j])]
    signals = compute_cluster_signals(
        _centers_source(signal, result), labels, k, centroid_index
    )
    parameters = dict(result.parameters)
    edit["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    parameters["edits"] = list(parameters.get("edits", [])) + [edit]
    model = None
    if result.model_data is not None:
        # The estimator knows the old clusters: only the preprocessing is kept
        # (predict then assigns to the nearest new centre). A preprocessing
        # that could not be stored is simply not kept; editing needs no model.
        try:
            preprocessor, _ = result.model
        except RuntimeError:
            preprocessor = None
        else:
            model = store_model(preprocessor, None)
    return ClusterResult(
        labels=labels,
        n_clusters=k,
        membership=membership,
        distances=distances,
        centers=centers,
        counts=counts,
        centroid_index=centroid_index,
        label_order=np.arange(k, dtype=np.int64),
        signal_mask=result.signal_mask,
        navigation_shape=result.navigation_shape,
        projection_factors=result.projection_factors,
        projection_mean=result.projection_mean,
        projection_weights=getattr(result, "projection_weights", None),
        parameters=json_safe(parameters),
        versions=result.versions,
        centers_axes=result.centers_axes,
        centers_signal_type=result.centers_signal_type,
        centers_source=result.centers_source,
        model_data=model,
        **signals,
    )


def merge_clusters(signal, cluster_ids):
    """Merge clusters into one, keeping the stored result consistent.

    The merged centre is the members' mean (the size-weighted mean of the
    merged centres, ``c = Σ wᵢ cᵢ`` with ``wᵢ = nᵢ / n``); distances to it
    follow exactly from the stored ones, ``d² = Σ wᵢ dᵢ² - (Σ wᵢ |cᵢ|² -
    |c|²)``; cluster signals are recomputed from the data;
    labels are renumbered by size. See the module notes on ``predict``.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    cluster_ids : list of int
        Two or more distinct cluster ids.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> s.clusterspy.merge_clusters([1, 2])
    >>> s.clusterspy.result.n_clusters
    2
    """
    result = get_cluster_result(signal)
    k = result.n_clusters
    if isinstance(cluster_ids, (str, bytes)) or not hasattr(cluster_ids, "__iter__"):
        raise TypeError(
            f"`cluster_ids` must be a list of two or more cluster ids; got {cluster_ids!r}."
        )
    ids = [_check_id(i, "cluster_ids[...]", k) for i in cluster_ids]
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"`cluster_ids` must be distinct: cannot merge a cluster with itself "
            f"({cluster_ids!r})."
        )
    if len(ids) < 2:
        raise ValueError(
            f"`cluster_ids` must name two or more clusters to merge; got {cluster_ids!r}."
        )
    _check_editable(result)

    ids = sorted(ids)
    target, others = ids[0], ids[1:]
    n = result.counts[ids].astype(np.float64)
    w = n / n.sum() if n.sum() else np.full(len(ids), 1.0 / len(ids))
    c = np.asarray(result.centers, dtype=np.float64)
    merged_center = w @ c[ids]
    d2 = np.asarray(result.distances, dtype=np.float64)[:, ids] ** 2
    # |x - Σ wᵢcᵢ|² = Σ wᵢ|x - cᵢ|² - |Σ wᵢcᵢ|² + Σ wᵢ|cᵢ|², exact for weights summing to 1
    spread = w @ np.einsum("ij,ij->i", c[ids], c[ids]) - merged_center @ merged_center
    merged_d = np.sqrt(np.maximum(d2 @ w - spread, 0.0))
    keep = [j for j in range(k) if j not in others]
    new_id = {old: new for new, old in enumerate(keep)}
    mapping = np.array([new_id[target] if j in others else new_id[j] for j in range(k)])
    labels = np.where(
        result.labels >= 0, mapping[np.maximum(result.labels, 0)], result.labels
    )
    centers = c[keep].copy()
    centers[new_id[target]] = merged_center
    distances = np.asarray(result.distances, dtype=np.float64)[:, keep].copy()
    distances[:, new_id[target]] = merged_d
    membership = None
    if result.membership is not None:
        membership = np.asarray(result.membership, dtype=np.float64)[:, keep].copy()
        membership[:, new_id[target]] = np.asarray(result.membership)[:, ids].sum(
            axis=1
        )
    edit = {"operation": "merge_clusters", "cluster_ids": ids}
    _store(
        signal, _finish(signal, result, labels, centers, distances, membership, edit)
    )


def split_cluster(signal, cluster_id, n_clusters=2, random_state=0, n_init=10):
    """Split one cluster by k-means on its members' features.

    The members are re-clustered with scikit-learn's ``KMeans`` in the
    preprocessed feature space the analysis used (the stored, fitted
    preprocessing applied to the same source); every position gets its
    distances to the new centres; cluster signals are recomputed from the
    data; labels are renumbered by size. Soft memberships are dropped.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    cluster_id : int
        The cluster to split.
    n_clusters : int
        Parts to split it into (at least 2, at most its size).
    random_state : int
        Seed of the k-means (recorded with the edit).
    n_init : int
        K-means initialisations.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    >>> s.clusterspy.split_cluster(0, 2)
    >>> s.clusterspy.result.n_clusters
    3
    """
    from sklearn.cluster import KMeans

    from ._compute import pairwise_distances_to
    from .validation import check_int

    result = get_cluster_result(signal)
    k = result.n_clusters
    cluster_id = _check_id(cluster_id, "cluster_id", k)
    n_clusters = check_int(n_clusters, "n_clusters", minimum=2)
    random_state = check_int(random_state, "random_state", minimum=0)
    n_init = check_int(n_init, "n_init", minimum=1)
    size = int(result.counts[cluster_id])
    if n_clusters > size:
        raise ValueError(
            f"`n_clusters` must be at most the size of cluster {cluster_id} "
            f"({size}); got {n_clusters}."
        )
    _check_editable(result)
    X = _features(signal, result)

    members = np.flatnonzero(result.labels == cluster_id)
    fit = KMeans(n_clusters, random_state=random_state, n_init=n_init).fit(X[members])
    parts = fit.labels_
    sub_centers = np.stack(
        [X[members[parts == p]].mean(axis=0) for p in range(n_clusters)]
    )
    # old clusters keep their ids; the parts are cluster_id and k, k + 1, ...
    labels = result.labels.copy()
    part_ids = np.array([cluster_id] + list(range(k, k + n_clusters - 1)))
    labels[members] = part_ids[parts]
    centers = np.vstack([np.asarray(result.centers, dtype=np.float64), sub_centers[1:]])
    centers[cluster_id] = sub_centers[0]
    new_d = pairwise_distances_to(X, sub_centers)
    new_d[result.labels == MASKED] = np.nan
    distances = np.hstack(
        [np.asarray(result.distances, dtype=np.float64), new_d[:, 1:]]
    )
    distances[:, cluster_id] = new_d[:, 0]
    edit = {
        "operation": "split_cluster",
        "cluster_id": cluster_id,
        "n_clusters": n_clusters,
        "random_state": random_state,
        "n_init": n_init,
        "membership_dropped": result.membership is not None,
    }
    _store(signal, _finish(signal, result, labels, centers, distances, None, edit))


def get_cluster_members(signal, cluster_id, as_mask=False):
    """Return one cluster's members: their spectra, or a navigation mask.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run.
    cluster_id : int
        The cluster.
    as_mask : bool
        False: a signal of the members' data (one navigation axis,
        ``"Member"``, in data order; the signal axes, class and metadata of
        ``signal``). True: a boolean map over the navigation space, True at
        the members (pass ``~mask`` as a ``navigation_mask``, where True
        means excluded, to analyse only this cluster).

    Returns
    -------
    BaseSignal

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> members = s.clusterspy.get_cluster_members(0)
    >>> members.data.shape[0] == int(s.clusterspy.result.counts[0])
    True
    """
    from .signals import navigation_map
    from .validation import check_bool

    result = get_cluster_result(signal)
    cluster_id = _check_id(cluster_id, "cluster_id", result.n_clusters)
    as_mask = check_bool(as_mask, "as_mask")
    inside = result.labels == cluster_id
    if as_mask:
        out = navigation_map(signal, inside.reshape(result.label_map.shape))
        out.metadata.General.title = (
            f"Cluster {cluster_id} mask of {signal.metadata.General.title}"
        )
        return out
    n = result.labels.shape[0]
    data = signal._data_aligned_with_axes
    data = data.reshape(
        (n,) + tuple(data.shape[signal.axes_manager.navigation_dimension :])
    )
    data = data[np.flatnonzero(inside)]
    axes = [{"name": "Member", "size": int(inside.sum()), "navigate": True}]
    axes += [
        dict(axis.get_axis_dictionary(), navigate=False)
        for axis in signal.axes_manager.signal_axes[::-1]
    ]
    metadata = signal.metadata.deepcopy().as_dictionary()
    metadata.pop("_HyperSpy", None)
    metadata["General"]["title"] = (
        f"Cluster {cluster_id} members of {signal.metadata.General.title}"
    )
    return type(signal)(data, axes=axes, metadata=metadata)
