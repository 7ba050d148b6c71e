"""clusterspy: cluster analysis of multidimensional signals, for HyperSpy.

``import clusterspy`` adds the ``clusterspy`` namespace to every HyperSpy
signal::

    import hyperspy.api as hs
    import clusterspy

    s = hs.load("map.bcf")[-1]
    s.clusterspy.cluster_analysis("signal", preprocessing="norm", n_clusters=4)
    labels = s.clusterspy.get_cluster_labels(merged=True)

Every method of the namespace is also a function here, taking the signal as
its first argument.
"""

from . import datasets
from ._version import __version__
from .accessor import ClusterspyAccessor, register_accessor
from .analysis import cluster_analysis
from .auto_k import AutoK, estimate_k_counts, estimate_k_features
from .components import (
    ComponentChoice,
    significant_components,
    significant_components_of,
)
from .counts import CountSummary, count_summary, counts_per_position, low_count_mask
from .deep import learn_features
from .editing import get_cluster_members, merge_clusters, split_cluster
from .estimate import (
    estimate_number_of_clusters,
    get_cluster_metric,
    plot_cluster_metric,
)
from .exceptions import DoubtfulEstimateWarning
from .export import export_cluster_results
from .getters import (
    get_cluster_distances,
    get_cluster_labels,
    get_cluster_membership,
    get_cluster_reconstruction,
    get_cluster_regions,
    get_cluster_signals,
)
from .interactive import plot_cluster_explorer
from .mixtures import ClusterMixtures, get_cluster_mixtures
from .pca import PCA
from .plotting import (
    cluster_colors,
    plot_cluster_distances,
    plot_cluster_labels,
    plot_cluster_membership,
    plot_cluster_results,
    plot_cluster_signals,
)
from .prediction import predict
from .results import MASKED, NOISE, UNASSIGNED, ClusterResult, get_cluster_result
from .sources import as_feature_signal
from .tables import ClusterTable, get_cluster_table

register_accessor()

__all__ = [
    "__version__",
    "AutoK",
    "ClusterResult",
    "ClusterspyAccessor",
    "ComponentChoice",
    "CountSummary",
    "DoubtfulEstimateWarning",
    "MASKED",
    "NOISE",
    "PCA",
    "UNASSIGNED",
    "as_feature_signal",
    "cluster_analysis",
    "cluster_colors",
    "count_summary",
    "counts_per_position",
    "datasets",
    "estimate_k_counts",
    "estimate_k_features",
    "estimate_number_of_clusters",
    "export_cluster_results",
    "get_cluster_distances",
    "get_cluster_labels",
    "get_cluster_metric",
    "get_cluster_reconstruction",
    "get_cluster_regions",
    "get_cluster_membership",
    "get_cluster_result",
    "get_cluster_signals",
    "ClusterTable",
    "get_cluster_table",
    "ClusterMixtures",
    "get_cluster_mixtures",
    "plot_cluster_explorer",
    "merge_clusters",
    "split_cluster",
    "get_cluster_members",
    "low_count_mask",
    "learn_features",
    "plot_cluster_distances",
    "plot_cluster_labels",
    "plot_cluster_membership",
    "plot_cluster_metric",
    "plot_cluster_results",
    "plot_cluster_signals",
    "predict",
    "significant_components",
    "significant_components_of",
]
