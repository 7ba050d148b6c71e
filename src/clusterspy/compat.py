"""HyperSpy-layout views of clusterspy's results, under HyperSpy's names.

HyperSpy's built-in cluster analysis stores its results as attributes of
``signal.learning_results`` in its own layouts: one-hot labels ``(k, N)``,
distances ``(k, N)``, cluster signals flattened to ``(k, n_signal)``.
clusterspy keeps its results in :class:`~clusterspy.ClusterResult` (labels
``(N,)``, distances ``(N, k)``, cluster signals in the signal's shape) and
never writes HyperSpy's attributes, so that the two analyses of one signal do
not overwrite each other.

:class:`HyperSpyLearningResults` gives the same numbers under HyperSpy's
names and layouts, computed on access from the stored result (and the stored
number-of-clusters estimate), so that a notebook ports by replacing
``s.learning_results.cluster_labels`` with
``s.clusterspy.learning_results.cluster_labels``. The arrays are new arrays:
writing into them changes nothing stored.

=================================  =======================================
HyperSpy ``learning_results.``     clusterspy
=================================  =======================================
``cluster_labels`` (k, N) bool     ``result.labels == i`` for each cluster
``cluster_distances`` (k, N)       ``result.distances.T``
``cluster_membership`` (k, N)      ``result.membership.T``
``cluster_sum_signals``            ``result.signal_sum.reshape(k, -1)``
``cluster_centroid_signals``       ``result.signal_centroid.reshape(k, -1)``
``cluster_centroids``              ``result.centers`` (preprocessed space)
``number_of_clusters``             ``result.n_clusters``
``cluster_algorithm``              ``result.parameters["algorithm"]``
``cluster_metric``                 ``metric.cluster_metric``
``cluster_metric_index``           ``metric.cluster_metric_index``
``cluster_metric_data``            ``metric.cluster_metric_data``
``estimated_number_of_clusters``   ``metric.n_clusters``
=================================  =======================================

Examples
--------
>>> import clusterspy
>>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
>>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
>>> lr = s.clusterspy.learning_results
>>> lr.cluster_labels.shape, lr.cluster_distances.shape
((3, 64), (3, 64))
>>> lr.cluster_sum_signals.shape
(3, 32)
"""

from __future__ import annotations

import numpy as np

__all__ = ["HyperSpyLearningResults", "hyperspy_view"]

# HyperSpy's names of the cluster analysis, and of the estimate.
_RESULT_NAMES = (
    "cluster_labels",
    "cluster_distances",
    "cluster_membership",
    "cluster_sum_signals",
    "cluster_centroid_signals",
    "cluster_centroids",
    "cluster_centers",
    "number_of_clusters",
    "cluster_algorithm",
)
_METRIC_NAMES = (
    "cluster_metric",
    "cluster_metric_index",
    "cluster_metric_data",
    "estimated_number_of_clusters",
)


def one_hot_labels(labels, n_clusters):
    """HyperSpy's ``(k, N)`` boolean labels from a ``(N,)`` label vector.

    Noise, masked and unassigned samples (negative labels) are ``False`` in
    every row, as HyperSpy's masked samples are.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.compat import one_hot_labels
    >>> one_hot_labels(np.array([1, 0, -2, 1]), 2).astype(int).tolist()
    [[0, 1, 0, 0], [1, 0, 0, 1]]
    """
    labels = np.asarray(labels)
    return labels[np.newaxis, :] == np.arange(int(n_clusters))[:, np.newaxis]


class HyperSpyLearningResults:
    """The results stored by clusterspy, as HyperSpy's ``learning_results``.

    Built by :func:`hyperspy_view` (``signal.clusterspy.learning_results``).
    An attribute whose analysis was not run is ``None``, as in HyperSpy.
    See the module docstring for the table of names.

    Parameters
    ----------
    result : ClusterResult or None
    metric : ClusterMetric or None
    """

    def __init__(self, result=None, metric=None):
        self._result = result
        self._metric = metric

    def __repr__(self):
        present = [
            n for n in _RESULT_NAMES + _METRIC_NAMES if getattr(self, n) is not None
        ]
        return f"<HyperSpy-layout clusterspy results: {', '.join(present) or 'none'}>"

    # -- cluster analysis -----------------------------------------------------------
    @property
    def cluster_labels(self):
        """One-hot labels, ``(k, N)`` bool (N in data order)."""
        r = self._result
        return None if r is None else one_hot_labels(r.labels, r.n_clusters)

    @property
    def cluster_distances(self):
        """Distances to every cluster centre, ``(k, N)``; NaN where masked."""
        r = self._result
        return None if r is None else np.array(r.distances, dtype=np.float64).T

    @property
    def cluster_membership(self):
        """Soft memberships ``(k, N)`` (algorithms with ``predict_proba``)."""
        r = self._result
        if r is None or r.membership is None:
            return None
        return np.array(r.membership).T

    def _flat_signal(self, kind):
        r = self._result
        if r is None:
            return None
        values = np.array(r.cluster_signal(kind))
        return values.reshape(r.n_clusters, -1)

    @property
    def cluster_sum_signals(self):
        """Sum of each cluster's signals, ``(k, n_signal)`` (flattened)."""
        return self._flat_signal("sum")

    @property
    def cluster_centroid_signals(self):
        """Each cluster's centroid member's signal, ``(k, n_signal)``."""
        return self._flat_signal("centroid")

    @property
    def cluster_centroids(self):
        """Cluster centres in the preprocessed feature space, ``(k, n_features)``."""
        r = self._result
        return None if r is None else np.array(r.centers)

    #: HyperSpy declares ``cluster_centers`` too (and fills ``cluster_centroids``).
    cluster_centers = cluster_centroids

    @property
    def number_of_clusters(self):
        r = self._result
        return None if r is None else int(r.n_clusters)

    @property
    def cluster_algorithm(self):
        """The algorithm's name (HyperSpy stores the ``algorithm`` argument)."""
        r = self._result
        return None if r is None else r.parameters.get("algorithm")

    # -- number-of-clusters estimate ---------------------------------------------------
    @property
    def cluster_metric(self):
        m = self._metric
        return None if m is None else m.cluster_metric

    @property
    def cluster_metric_index(self):
        m = self._metric
        return None if m is None else m.cluster_metric_index

    @property
    def cluster_metric_data(self):
        m = self._metric
        return None if m is None else m.cluster_metric_data

    @property
    def estimated_number_of_clusters(self):
        m = self._metric
        return None if m is None else m.estimated_number_of_clusters


def hyperspy_view(signal):
    """Return :class:`HyperSpyLearningResults` of what is stored with ``signal``.

    Examples
    --------
    >>> import clusterspy
    >>> from clusterspy.compat import hyperspy_view
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> hyperspy_view(s).cluster_labels is None
    True
    """
    from .estimate.result import _STORE_NAME, ClusterMetric
    from .results import get_cluster_result

    lr = signal.learning_results
    result = get_cluster_result(signal) if getattr(lr, "clusterspy", None) else None
    stored = getattr(lr, _STORE_NAME, None)
    metric = ClusterMetric.from_dict(stored) if stored else None
    return HyperSpyLearningResults(result, metric)
