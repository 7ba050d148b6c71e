"""Plots of cluster results, in the colours of one qualitative colormap.

Every function takes the analysed signal first, reads the stored
:class:`~clusterspy.ClusterResult` and returns a matplotlib
:class:`~matplotlib.figure.Figure`; none calls ``plt.show()``. Figures are
created through ``pyplot`` so that they open in a window (or inline in a
notebook) as HyperSpy's own plots do; close them with ``plt.close(fig)``
when making many.

Colour convention
-----------------
Cluster ``i`` is drawn in ``cluster_colors(n_clusters, cmap)[i]`` in every
plot (label map, spectra, images, bars, titles), so a colour means the same
cluster everywhere. Positions outside every cluster have fixed colours:
:data:`NOISE_COLOR` (black) for :data:`~clusterspy.NOISE`,
:data:`UNASSIGNED_COLOR` (white) for :data:`~clusterspy.UNASSIGNED`, and
:data:`MASKED_COLOR` (light grey) for :data:`~clusterspy.MASKED` positions
and for NaN in distance and membership maps.

Navigation dimensions
---------------------
Maps are drawn in calibrated navigation coordinates (HyperSpy's image
orientation: the first navigation axis to the right, the second downwards).
A line scan (navigation dimension 1) gives a one-row strip or curves along
the scan; with three or more navigation dimensions, ``navigation_index``
chooses the 2-D slice shown.

Modules
-------
One figure family each: ``labels`` (:func:`plot_cluster_labels`),
``signals`` (:func:`plot_cluster_signals`), ``distances``
(:func:`plot_cluster_distances`), ``membership``
(:func:`plot_cluster_membership`, :func:`membership_uncertainty`) and
``overview`` (:func:`plot_cluster_results`), ``reference``
(:func:`plot_reference_image`, :func:`find_reference_image`,
:func:`plot_scree`) and ``elements`` (element lines of EDS/EELS spectra,
count bands and ranges), on ``colors``
(:func:`cluster_colors` and the fixed colours) and the shared helpers of
``_common`` (figures, panels, axis labels) and ``_navigation`` (the map of
the navigation space). Every public name is imported from here.
"""

from __future__ import annotations

from . import colors as _colors
from .colors import cluster_colors
from .distances import plot_cluster_distances
from .labels import plot_cluster_labels
from .membership import membership_uncertainty, plot_cluster_membership
from .overview import plot_cluster_results
from .reference import find_reference_image, plot_reference_image, plot_scree
from .signals import plot_cluster_signals

# Bound here with their comments: the API reference documents them as
# clusterspy.plotting's and reads their description from this file.
#: Colour of noise positions (label :data:`~clusterspy.NOISE`).
NOISE_COLOR = _colors.NOISE_COLOR
#: Colour of masked positions (label :data:`~clusterspy.MASKED`) and of NaN.
MASKED_COLOR = _colors.MASKED_COLOR
#: Colour of unassigned positions (label :data:`~clusterspy.UNASSIGNED`).
UNASSIGNED_COLOR = _colors.UNASSIGNED_COLOR

__all__ = [
    "MASKED_COLOR",
    "NOISE_COLOR",
    "UNASSIGNED_COLOR",
    "cluster_colors",
    "plot_cluster_labels",
    "plot_cluster_signals",
    "plot_cluster_distances",
    "plot_cluster_membership",
    "plot_cluster_results",
    "membership_uncertainty",
    "find_reference_image",
    "plot_reference_image",
    "plot_scree",
]
