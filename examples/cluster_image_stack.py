"""
Clustering the images of a stack: intensity or pattern?
========================================================

Every image of a stack is one sample: a stack of heat maps, diffraction
patterns or EBSD patterns is a :class:`~hyperspy.api.signals.Signal2D` whose
navigation axis runs over the images, and ``cluster_analysis("signal")``
clusters whole images.

What "similar" means decides the answer. Here 90 heat maps (5 days x 24
hours of activity) are drawn from three daily patterns, each at a random
overall intensity (a factor of 25 between the quietest and the busiest).
Euclidean k-means on the raw images groups them largely by *intensity*;
cosine similarity (spherical k-means) and k-means on images scaled to unit
length or unit sum group them by *pattern*, whatever the intensity.

Run it as a script; figures are saved as PNG into the folder given as the
first argument (default ``examples/output/``), and also into
``docs/images/examples/`` with ``--docs``::

    python examples/cluster_image_stack.py [OUTPUT_FOLDER] [--docs]
"""

# %%
# Setup
# -----
import os
import sys
from pathlib import Path

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import adjusted_rand_score

import clusterspy  # noqa: F401  (adds s.clusterspy to every signal)
from clusterspy.plotting import plot_cluster_signals

# the gallery runs examples without __file__ (and offers them as notebooks)
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DOCS_IMAGES = HERE.parent / "docs" / "images" / "examples"
# Set while the documentation is built: the gallery runs on the small
# data and shows the figures, so they are left open.
IN_DOCS_BUILD = bool(os.environ.get("CLUSTERSPY_DOCS"))
PATTERNS = ("morning peak", "evening peak", "night shift")


# sphinx_gallery_start_ignore
def save(fig, name, output_dir, docs=False):
    """Save a figure as PNG into ``output_dir`` (and the docs images)."""
    paths = [Path(output_dir) / f"{name}.png"]
    if docs:
        paths.append(DOCS_IMAGES / f"{name}.png")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100, bbox_inches="tight")
        print(f"wrote {path.name}")
    if not IN_DOCS_BUILD:
        plt.close(fig)
    return paths[0]
# sphinx_gallery_end_ignore


# %%
# A stack of heat maps
# --------------------
# Three daily patterns (5 weekdays x 24 hours), each normalised to the same
# total, so that they differ only in *when* there is activity. Every image
# takes one pattern, a random intensity between 0.2 and 5, and noise.
def make_heat_maps(n_images=90, random_state=0):
    """Return the stack (Signal2D), the true pattern of each image and its
    intensity factor."""
    rng = np.random.default_rng(random_state)
    hour = np.arange(24)
    day = np.arange(5)[:, None]
    profiles = [
        np.exp(-0.5 * ((hour - 8) / 1.5) ** 2) + 0.3 * np.exp(-((hour - 13) ** 2) / 8),
        np.exp(-0.5 * ((hour - 18.5) / 2.0) ** 2),
        ((hour >= 22) | (hour <= 5)).astype(float) + 0.2,
    ]
    weekly = [1.0 - 0.1 * day, 0.7 + 0.15 * day, np.ones((5, 1))]
    patterns = np.stack([w * p for w, p in zip(weekly, profiles, strict=True)])
    patterns /= patterns.sum(axis=(1, 2), keepdims=True) / 100.0
    truth = rng.permutation(np.arange(n_images) % 3)
    intensity = np.exp(rng.uniform(np.log(0.2), np.log(5.0), n_images))
    clean = patterns[truth] * intensity[:, None, None]
    data = clean * rng.normal(1.0, 0.1, clean.shape) + rng.uniform(0, 0.05, clean.shape)
    s = hs.signals.Signal2D(data)
    s.metadata.General.title = "Activity heat maps"
    nav = s.axes_manager.navigation_axes[0]
    nav.name = "Image"
    sx, sy = s.axes_manager.signal_axes
    sx.name, sx.units = "Hour", "h"
    sy.name, sy.units = "Day", ""
    return s, truth, intensity


# %%
# Euclidean distance or cosine similarity
# ---------------------------------------
# * ``"kmeans"`` on the raw images: Euclidean distance, which is dominated by
#   how bright an image is.
# * ``algorithm="spherical_kmeans"``: cosine similarity, the angle between
#   two images seen as vectors; a factor on the intensity changes nothing.
# * ``preprocessing="norm"`` (unit length) or ``"l1"`` (unit sum: each pixel
#   becomes its share of the image's total) before ordinary k-means: the
#   same intensity invariance with any algorithm.
#
# The adjusted Rand index (ARI) compares the clusters with the true
# patterns: 1 is perfect agreement, 0 what random labels give.
VARIANTS = {
    "euclidean": {},
    "cosine": {"algorithm": "spherical_kmeans"},
    "norm": {"preprocessing": "norm"},
    "l1": {"preprocessing": "l1"},
}


def compare(s, truth, intensity):
    """Cluster with every variant; return the ARIs and, per variant, the
    spread of intensities inside the clusters."""
    scores = {}
    for name, options in VARIANTS.items():
        s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0, **options)
        labels = s.clusterspy.result.labels
        ari = adjusted_rand_score(truth, labels)
        median = [float(np.median(intensity[labels == j])) for j in range(3)]
        scores[name] = {"ari": ari, "median_intensity": median}
        print(
            f"{name:>9}: ARI = {ari:.3f}; median intensity per cluster = "
            + ", ".join(f"{m:.2f}" for m in median)
        )
    return scores


# %%
# Cluster images on one colour scale
# ----------------------------------
# ``plot_cluster_signals`` draws a grid of images, one per cluster, titled
# and framed in the cluster colours. Each panel is scaled on its own, so to
# compare intensities we put all panels on one scale and add a colour bar.
def shared_scale(fig, label="Activity"):
    images = [im for ax in fig.axes for im in ax.images]
    vmax = max(float(np.nanmax(im.get_array())) for im in images)
    for im in images:
        im.set_clim(0.0, vmax)
    fig.colorbar(images[0], ax=fig.axes, label=label, shrink=0.8)
    return fig


def plot_examples(s, truth, intensity):
    """A few images of each pattern, quiet to busy, on one colour scale."""
    fig, axes = plt.subplots(
        3, 4, figsize=(11, 5.2), sharex=True, sharey=True, layout="constrained"
    )
    vmax = float(np.quantile(s.data, 0.995))
    for p, row in enumerate(axes):
        members = np.flatnonzero(truth == p)
        members = members[np.argsort(intensity[members])]
        picks = members[np.linspace(0, members.size - 1, 4).round().astype(int)]
        for ax, i in zip(row, picks, strict=True):
            im = ax.imshow(
                s.data[i],
                cmap="magma",
                vmin=0,
                vmax=vmax,
                aspect="auto",
                interpolation="nearest",
            )
            ax.set_title(f"{PATTERNS[p]}, x{intensity[i]:.1f}", fontsize=9)
        row[0].set_ylabel("Day")
    for ax in axes[-1]:
        ax.set_xlabel("Hour")
    fig.colorbar(im, ax=axes, label="Activity", shrink=0.8)
    fig.suptitle("Heat maps from three patterns at random intensities")
    return fig


def main(output_dir=HERE / "output", small=False, docs=False):
    """Run the example; return its numbers. ``small`` changes nothing here
    (the stack is small already)."""
    output_dir = Path(output_dir)
    s, truth, intensity = make_heat_maps()
    save(plot_examples(s, truth, intensity), "image_stack_examples", output_dir, docs)
    scores = compare(s, truth, intensity)

    # %%
    # Euclidean k-means: the mean images look alike in shape but differ in
    # brightness: the clusters are "quiet", "medium" and "busy" more than
    # three patterns.
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    fig = shared_scale(plot_cluster_signals(s, "mean", image_cmap="magma"))
    fig.suptitle(
        f"Euclidean k-means: cluster means (ARI {scores['euclidean']['ari']:.2f})"
    )
    save(fig, "image_stack_euclidean_means", output_dir, docs)

    # %%
    # Cosine similarity: one cluster per pattern. The centroid is the
    # measured image nearest its cluster's centre; the mean averages all
    # members (of every intensity).
    s.clusterspy.cluster_analysis(
        "signal", algorithm="spherical_kmeans", n_clusters=3, random_state=0
    )
    result = s.clusterspy.result
    fig = plot_cluster_signals(s, "centroid", image_cmap="magma")
    fig.suptitle(
        f"Spherical k-means (cosine): centroid images (ARI {scores['cosine']['ari']:.2f})"
    )
    save(fig, "image_stack_cosine_centroids", output_dir, docs)
    fig = shared_scale(plot_cluster_signals(s, "mean", image_cmap="magma"))
    fig.suptitle("Spherical k-means (cosine): cluster means")
    save(fig, "image_stack_cosine_means", output_dir, docs)

    return {
        "ari": {name: v["ari"] for name, v in scores.items()},
        "median_intensity": {name: v["median_intensity"] for name, v in scores.items()},
        "counts": result.counts.tolist(),
        "centroid_index": result.centroid_index.tolist(),
        "n_images": int(s.axes_manager.navigation_size),
    }


# sphinx_gallery_start_ignore
if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--docs"]
    main(
        args[0] if args else HERE / "output",
        small=IN_DOCS_BUILD,
        docs="--docs" in sys.argv[1:],
    )
# sphinx_gallery_end_ignore
