"""
Position-aware clustering: coordinates, contiguity and connected regions
========================================================================

Clustering the pixels of a map by their spectra or colours ignores where the
pixels are: two grains of the same phase, or two trees of the same green,
land in one cluster. Three tools bring position in:

* ``spatial_weight``: the (scaled) navigation coordinates become extra
  features, as in the classic segmentation of an image with a Gaussian
  mixture on [x, y, R, G, B]. Same colour, different place: different
  clusters.
* ``algorithm="agglomerative", connectivity="grid"``: Ward clustering that
  may only merge neighbouring pixels, so that every cluster is one
  spatially contiguous region.
* ``get_cluster_regions(min_size=...)``: after any clustering, split every
  cluster into its connected regions and drop those smaller than
  ``min_size`` pixels (label ``UNASSIGNED``, -3): specks, dust, isolated
  noisy pixels.

A generated colour image with known regions shows each effect in numbers;
a part of scikit-learn's ``china.jpg`` shows them on a photograph.

Run it as a script; figures are saved as PNG into the folder given as the
first argument (default ``examples/output/``), and also into
``docs/images/examples/`` with ``--docs``::

    python examples/spatial_clustering.py [OUTPUT_FOLDER] [--docs]
"""

# %%
# Setup
# -----
import os
import sys
import time
from pathlib import Path

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from sklearn.datasets import load_sample_image
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy import UNASSIGNED

# the gallery runs examples without __file__ (and offers them as notebooks)
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DOCS_IMAGES = HERE.parent / "docs" / "images" / "examples"
# Set while the documentation is built: the gallery runs on the small
# data and shows the figures, so they are left open.
IN_DOCS_BUILD = bool(os.environ.get("CLUSTERSPY_DOCS"))


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


def rgb_signal(pixels, title):
    """An rgb8 signal from a (height, width, 3) uint8 array."""
    s = hs.signals.Signal1D(np.ascontiguousarray(pixels))
    s.change_dtype("rgb8")
    s.metadata.General.title = title
    return s


# %%
# A generated image with known regions
# ------------------------------------
# A beige background, two red discs of the *same* red (left and right), a
# blue rectangle, and six 2 x 2 red specks scattered over the background,
# with noise. ``truth`` numbers the four objects (specks count as
# background); ``specks`` marks the speck pixels.
def make_image(n_specks=6, random_state=0, shape=(48, 72)):
    rng = np.random.default_rng(random_state)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    truth = np.zeros(shape, dtype=int)
    truth[(xx - 16) ** 2 + (yy - 26) ** 2 < 11**2] = 1
    truth[(xx - 56) ** 2 + (yy - 26) ** 2 < 11**2] = 2
    truth[(np.abs(xx - 36) < 5) & (np.abs(yy - 10) < 6)] = 3
    colours = np.array([[225, 215, 190], [200, 40, 40], [200, 40, 40], [40, 70, 190]])
    image = colours[truth] + rng.normal(0, 12, shape + (3,))
    specks = np.zeros(shape, dtype=bool)
    while int(specks.sum()) < 4 * n_specks:
        y, x = rng.integers(1, h - 3), rng.integers(1, w - 3)
        # 2 x 2 speck with a one-pixel margin of background all round
        if (
            truth[y - 1 : y + 3, x - 1 : x + 3].any()
            or specks[y - 1 : y + 3, x - 1 : x + 3].any()
        ):
            continue
        specks[y : y + 2, x : x + 2] = True
    image[specks] = colours[1] + rng.normal(0, 12, (int(specks.sum()), 3))
    pixels = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return rgb_signal(pixels, "Generated image"), pixels, truth, specks


# %%
# Colour alone, then colour and position
# --------------------------------------
# A Gaussian mixture with full covariances on the colours scaled to 0..1
# (``preprocessing="minmax"``) finds beige, red and blue; asked for four
# clusters, it can only split the red by its noise, pixel by pixel: the
# adjusted Rand index (ARI) of the labels over the two discs is 0. With
# ``spatial_weight=2`` the coordinates (divided by their spread, then
# multiplied by 2) join the features: the two discs differ in x, and each
# gets its own cluster. K-means would do worse with coordinates: it cuts
# the large background into spatial tiles, where a full-covariance mixture
# models its extent.
def colour_and_position(s, truth, specks, weight=2.0):
    out = {}
    for name, sw in (("colour", None), ("colour+xy", weight)):
        s.clusterspy.cluster_analysis(
            "signal",
            preprocessing="minmax",
            algorithm="gaussian_mixture",
            covariance_type="full",
            n_clusters=4,
            spatial_weight=sw,
            random_state=0,
        )
        labels = s.clusterspy.result.label_map
        discs = (truth == 1) | (truth == 2)
        out[name] = {
            "ari": adjusted_rand_score(truth[~specks], labels[~specks]),
            # 1 when the two discs are two clusters, 0 when they are one
            "ari_discs": adjusted_rand_score(truth[discs], labels[discs]),
            "labels": labels.copy(),
        }
        print(
            f"GMM on {name:>9}: ARI {out[name]['ari']:.3f} (speck pixels left out), "
            f"ARI on the two discs {out[name]['ari_discs']:.3f}"
        )
    return out


# %%
# Contiguous clusters: Ward on the pixel grid
# -------------------------------------------
# ``connectivity="grid"`` lets Ward merge only neighbouring pixels (edges,
# not corners), so each cluster is one connected region:
# ``get_cluster_regions()`` finds exactly one region per cluster. The specks
# are merged into the background around them.
def ward_grid(s, truth, n_clusters=4):
    start = time.perf_counter()
    s.clusterspy.cluster_analysis(
        "signal", algorithm="agglomerative", connectivity="grid", n_clusters=n_clusters
    )
    seconds = time.perf_counter() - start
    regions = s.clusterspy.get_cluster_regions()
    out = {
        "ari": adjusted_rand_score(truth.ravel(), s.clusterspy.result.labels),
        "n_regions": int(regions.metadata.Clusterspy.region_size.size),
        "n_clusters": int(s.clusterspy.result.n_clusters),
        "seconds": seconds,
        "labels": s.clusterspy.result.label_map.copy(),
    }
    print(
        f"Ward + grid: ARI {out['ari']:.3f}, {out['n_regions']} connected regions "
        f"for {out['n_clusters']} clusters ({seconds:.2f} s)"
    )
    return out


# %%
# Connected regions, small ones dropped
# -------------------------------------
# K-means on colour with three clusters: the specks join the red cluster.
# ``get_cluster_regions`` splits the clusters into connected regions (two
# discs, six specks, the rectangle, the background); ``min_size=10`` drops
# the specks: their pixels become ``UNASSIGNED``.
def regions(s, specks, min_size=10):
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    every = s.clusterspy.get_cluster_regions()
    large = s.clusterspy.get_cluster_regions(min_size=min_size)
    dropped = large.data == UNASSIGNED
    out = {
        "n_regions": int(every.metadata.Clusterspy.region_size.size),
        "n_regions_min_size": int(large.metadata.Clusterspy.region_size.size),
        "region_size": every.metadata.Clusterspy.region_size.tolist(),
        "region_cluster": every.metadata.Clusterspy.region_cluster.tolist(),
        "dropped_pixels": int(dropped.sum()),
        "dropped_are_specks": bool(np.array_equal(dropped, specks)),
        "regions": every.data.copy(),
        "regions_min_size": large.data.copy(),
    }
    print(
        f"k-means, 3 clusters: {out['n_regions']} connected regions; with "
        f"min_size={min_size}: {out['n_regions_min_size']} regions, "
        f"{out['dropped_pixels']} pixels unassigned (the specks: "
        f"{out['dropped_are_specks']})"
    )
    return out


# %%
# Plots
# -----
# Label maps from ``plot_cluster_labels`` need the result stored on the
# signal; here the saved label arrays are drawn directly, each cluster in
# the colour ``clusterspy.cluster_colors`` gives it.
def show_labels(ax, labels, title):
    n = int(labels.max()) + 1
    colours = [(0, 0, 0, 1)] + list(clusterspy.cluster_colors(max(n, 1)))
    cmap = mcolors.ListedColormap(colours)
    norm = mcolors.BoundaryNorm(np.arange(-1.5, n + 0.5), cmap.N)
    # -3 (unassigned) is drawn black like -1
    ax.imshow(np.maximum(labels, -1), cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_generated(pixels, gmm, ward, reg):
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.2), layout="constrained")
    axes = axes.ravel()
    axes[0].imshow(pixels, interpolation="nearest")
    axes[0].set_title("Image: two discs of the same red, six red specks")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    show_labels(
        axes[1],
        gmm["colour"]["labels"],
        f"GMM, colour only: ARI of the two discs {gmm['colour']['ari_discs']:.2f}",
    )
    show_labels(
        axes[2],
        gmm["colour+xy"]["labels"],
        "GMM, colour + xy (spatial_weight=2): ARI of the two discs "
        f"{gmm['colour+xy']['ari_discs']:.2f}",
    )
    show_labels(
        axes[3],
        ward["labels"],
        f"Ward, connectivity='grid': ARI {ward['ari']:.2f}, "
        f"{ward['n_regions']} regions",
    )
    show_labels(
        axes[4], reg["regions"], f"k-means (3): {reg['n_regions']} connected regions"
    )
    show_labels(
        axes[5],
        reg["regions_min_size"],
        f"min_size=10: {reg['n_regions_min_size']} regions, "
        f"{reg['dropped_pixels']} px unassigned (black)",
    )
    return fig


# %%
# A photograph
# ------------
# ``china.jpg`` at a quarter of its size (107 x 160 pixels), eight clusters.
# On colour alone, the trees left and right of the tower share clusters and
# the sky's clusters follow brightness; with the coordinates
# (``spatial_weight=0.5``) clusters become compact areas; Ward on the grid
# gives eight contiguous regions.
def photograph(step=4):
    pixels = load_sample_image("china.jpg")[::step, ::step]
    s = rgb_signal(pixels, "china.jpg")
    maps, seconds = {}, {}
    runs = {
        "GMM, colour only": {
            "preprocessing": "minmax",
            "algorithm": "gaussian_mixture",
            "covariance_type": "full",
            "random_state": 0,
        },
        "GMM, colour + xy (spatial_weight=0.5)": {
            "preprocessing": "minmax",
            "algorithm": "gaussian_mixture",
            "covariance_type": "full",
            "random_state": 0,
            "spatial_weight": 0.5,
        },
        "Ward, connectivity='grid'": {
            "algorithm": "agglomerative",
            "connectivity": "grid",
        },
    }
    for name, options in runs.items():
        start = time.perf_counter()
        s.clusterspy.cluster_analysis("signal", n_clusters=8, **options)
        seconds[name] = time.perf_counter() - start
        maps[name] = s.clusterspy.result.label_map.copy()
        print(f"china.jpg, {name}: {seconds[name]:.2f} s")
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6), layout="constrained")
    axes[0].imshow(pixels)
    axes[0].set_title(f"china.jpg ({pixels.shape[1]} x {pixels.shape[0]})")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    for ax, (name, labels) in zip(axes[1:], maps.items(), strict=True):
        show_labels(ax, labels, name)
    return fig, seconds


def main(output_dir=HERE / "output", small=False, docs=False):
    """Run the example; return its numbers. ``small`` uses the photograph
    at an eighth of its size."""
    output_dir = Path(output_dir)
    s, pixels, truth, specks = make_image()
    gmm = colour_and_position(s, truth, specks)
    ward = ward_grid(s, truth)
    reg = regions(s, specks)
    save(plot_generated(pixels, gmm, ward, reg), "spatial_generated", output_dir, docs)
    fig, seconds = photograph(step=8 if small else 4)
    save(fig, "spatial_china", output_dir, docs)
    return {
        "gmm": gmm,
        "ward": ward,
        "regions": reg,
        "n_specks": int(specks.sum()) // 4,
        "speck_pixels": int(specks.sum()),
        "photograph_seconds": seconds,
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
