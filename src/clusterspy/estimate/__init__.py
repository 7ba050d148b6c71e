"""Estimating the number of clusters: metrics that scale to real maps.

:func:`estimate_number_of_clusters` clusters the same features as
:func:`clusterspy.cluster_analysis` (same source, masks, preprocessing and
algorithm) for every ``k`` in ``[min_clusters, max_clusters]``, scores each
clustering with one metric and picks ``k`` with that metric's rule. The whole
curve is stored with the signal (``signal.learning_results.clusterspy_metric``)
and read back with :func:`get_cluster_metric` and :func:`plot_cluster_metric`.

Every metric costs O(N k) in time and memory for N samples; none builds an
N x N distance matrix. The silhouette, the one metric that needs pairwise
distances, is computed on a random sample of ``sample_size`` points.

The metric functions also work on a plain feature matrix
(:func:`gap_statistic`, :func:`metric_curve`, :func:`choose_n_clusters`,
:func:`knee_point`), so that they can be used and tested without a signal.

The modules, one job each, from the bottom up: ``metrics`` (the within-cluster
dispersion, the knee, the scores and the rules that pick ``k``), ``gap`` (the
gap statistic and its reference sets), ``curve`` (one metric for every ``k``
on a feature matrix, the fits side by side in threads), ``result`` (the
:class:`ClusterMetric` stored with a signal), ``search`` (the search over
``k`` on a signal) and ``plots`` (its figure); ``_fitting`` holds the seeds,
input checks and estimator factories they share. Every public name is
imported from here.

References
----------
.. [1] R. Tibshirani, G. Walther and T. Hastie, "Estimating the number of
   clusters in a data set via the gap statistic", J. R. Statist. Soc. B 63,
   411-423 (2001).
.. [2] V. Satopaa, J. Albrecht, D. Irwin and B. Raghavan, "Finding a
   'Kneedle' in a haystack: detecting knee points in system behavior",
   31st ICDCS Workshops, 166-171 (2011).
"""

from __future__ import annotations

from . import gap as _gap
from . import metrics as _metrics

# Names outside __all__ (noqa) are read from here by the command line (the
# algorithm checks) and the tests (the seeds): no importer has to change.
from ._fitting import _default_estimator_factory, _int_seed  # noqa: F401
from .curve import DEFAULT_SAMPLE_SIZE, metric_curve  # noqa: F401
from .gap import GapStatistic, gap_statistic
from .metrics import choose_n_clusters, knee_point, within_cluster_dispersion
from .plots import plot_cluster_metric
from .result import ClusterMetric, get_cluster_metric
from .search import (  # noqa: F401
    DEFAULT_FIT_SAMPLE_SIZE,
    _estimator_factory,
    _metric_ks,
    estimate_number_of_clusters,
)

# Bound here with their comments: the API reference documents them as
# clusterspy.estimate's and reads their description from this file.
#: Metric names accepted by :func:`estimate_number_of_clusters`.
METRICS = _metrics.METRICS
#: Reference distributions of the gap statistic.
REFERENCES = _gap.REFERENCES

__all__ = [
    "METRICS",
    "REFERENCES",
    "ClusterMetric",
    "GapStatistic",
    "choose_n_clusters",
    "estimate_number_of_clusters",
    "gap_statistic",
    "get_cluster_metric",
    "knee_point",
    "metric_curve",
    "plot_cluster_metric",
    "within_cluster_dispersion",
]
