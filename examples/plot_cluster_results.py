"""
Plotting cluster results
========================

Cluster a spectrum image and look at the result the way a microscopist reads
it: a label map, the mean spectrum of every cluster (with its spread), the
cluster sizes, the distance of every pixel to each cluster centre and, for a
Gaussian mixture, the probability of each cluster with a map of where the
assignment is uncertain. Every plot uses the same colour for a cluster.

The script runs on a generated spectrum image with known phases, then on the
real EDS map that ships with clusterspy
(:func:`clusterspy.datasets.eds_sem_map`: Bruker EDS test file
``30x30_instructively_packed_16bit_compressed.bcf`` from RosettaSciIO's test
data, GPL-3.0). ``python examples/plot_cluster_results.py`` shows the figures;
the README figure ``docs/images/cluster_results.png`` is the first one.
"""

# %%
# Setup
# -----
# The plotting functions take the signal first and return a matplotlib
# figure; nothing is shown until ``plt.show()`` (or the notebook) does it.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy.datasets import eds_sem_map
from clusterspy.export import export_cluster_results
from clusterspy.plotting import (
    plot_cluster_distances,
    plot_cluster_labels,
    plot_cluster_membership,
    plot_cluster_results,
    plot_cluster_signals,
)

# %%
# A generated spectrum image
# --------------------------
# 64 x 64 pixels of 512-channel spectra from three phases, with Poisson
# noise and a thickness gradient. A decomposition with Poisson noise
# normalisation separates signal from noise; the clusters are found on the
# first three loadings, and the cluster spectra are averages of the measured
# data (``source_for_centers`` default), so they keep their physical units.
s, truth = clusterspy.datasets.spectrum_image(
    shape=(64, 64), n_channels=512, n_phases=3, random_state=0, return_truth=True
)
s.decomposition(normalize_poissonian_noise=True, print_info=False)
s.clusterspy.cluster_analysis(
    "decomposition",
    number_of_components=3,
    preprocessing="norm",
    n_clusters=3,
    random_state=0,
)
labels = clusterspy.get_cluster_result(s).labels
print(
    "Adjusted Rand index against the true phases:",
    round(adjusted_rand_score(truth.ravel(), labels), 3),
)

# %%
# The overview: label map, mean spectra with a band of one standard
# deviation, and the number of pixels in each cluster.
fig = plot_cluster_results(s)

# %%
# One binary map per cluster, beside the merged map.
fig = plot_cluster_labels(s, binary=True)

# %%
# Centroid spectra are single measured spectra (the member nearest each
# cluster centre): noisier than the means, but real.
fig = plot_cluster_signals(s, "centroid")

# %%
# Distances to each cluster centre in the feature space: pixels far from
# every centre are poorly described by all clusters.
fig = plot_cluster_distances(s)

# %%
# Soft clustering
# ---------------
# A Gaussian mixture gives every pixel a probability per cluster; the
# uncertainty map (normalised entropy of those probabilities) is bright
# where the assignment is doubtful, such as at phase boundaries.
s.clusterspy.cluster_analysis(
    "decomposition",
    number_of_components=3,
    preprocessing="norm",
    algorithm="gaussian_mixture",
    n_clusters=3,
    covariance_type="diag",
    random_state=0,
)
fig = plot_cluster_membership(s)

# %%
# Everything at once: figures and result signals (``.hspy``) in a folder
# (here a temporary one).
with tempfile.TemporaryDirectory() as folder:
    paths = export_cluster_results(s, Path(folder) / "generated", dpi=60)
    print("exported:", ", ".join(sorted(p.name for p in paths)))

# %%
# A real EDS map
# --------------
# A 30 x 30 pixel EDS spectrum image from a Bruker SEM (a chevkinite
# sample). Counts are integers: decomposition needs floats.
eds = eds_sem_map()
eds.change_dtype("float32")
eds.decomposition(normalize_poissonian_noise=True, print_info=False)
eds.clusterspy.cluster_analysis(
    "decomposition",
    number_of_components=4,
    preprocessing="norm",
    n_clusters=4,
    random_state=0,
)
print(clusterspy.get_cluster_result(eds))
# Above 10 keV there are no lines, and the zero-energy peak would set
# the y scale: draw 0.2 to 10 keV.
fig = plot_cluster_results(eds, signal_range=(0.2, 10.0))
fig = plot_cluster_signals(eds, "centroid", signal_range=(0.2, 10.0))
fig = plot_cluster_distances(eds)
# Real grains have mixed pixels at their boundaries: there the mixture
# is uncertain.
eds.clusterspy.cluster_analysis(
    "decomposition",
    number_of_components=4,
    preprocessing="norm",
    algorithm="gaussian_mixture",
    n_clusters=4,
    random_state=0,
)
fig = plot_cluster_membership(eds)

# %%
# In a script, show the figures at the end; in a notebook they display
# themselves.
if __name__ == "__main__" and plt.get_backend().lower() != "agg":
    plt.show()
