"""
Colour quantisation and pixel clustering of an RGB image
========================================================

A colour photograph as a HyperSpy signal: ``change_dtype("rgb8")`` makes an
RGB image whose pixels hold a colour each. ``s.clusterspy`` takes such a
signal as it is: every pixel is a sample and its (R, G, B) values are the
features.

Clustering the pixels' colours into k clusters and painting every pixel in
its cluster's mean colour quantises the image to k colours
(``get_cluster_reconstruction``). With k = 64 the quantised photograph is
hard to tell from the original; with k = 6 the clusters are a coarse
segmentation by colour (sky, haze, foliage, roofs...).

The photograph (427 x 640 = 273 280 pixels) is scikit-learn's bundled
``china.jpg``. K-means is fitted on a random sample of 10 000 pixels and
then every pixel is assigned to its nearest centre, which is much faster
than fitting on all of them and as good for this purpose.

Run it as a script; figures are saved as PNG into the folder given as the
first argument (default ``examples/output/``), and also into
``docs/images/examples/`` with ``--docs``::

    python examples/quantize_rgb_image.py [OUTPUT_FOLDER] [--docs]
"""

# %%
# Setup
# -----
import os
import sys
import time
import warnings
from pathlib import Path

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_sample_image

import clusterspy  # noqa: F401  (adds s.clusterspy to every signal)

# the gallery runs examples without __file__ (and offers them as notebooks)
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DOCS_IMAGES = HERE.parent / "docs" / "images" / "examples"
# Set while the documentation is built: the gallery runs on the small
# data and shows the figures, so they are left open.
IN_DOCS_BUILD = bool(os.environ.get("CLUSTERSPY_DOCS"))


# sphinx_gallery_start_ignore
def save(fig, name, output_dir, docs=False, dpi=100):
    """Save a figure as PNG into ``output_dir`` (and the docs images)."""
    paths = [Path(output_dir) / f"{name}.png"]
    if docs:
        paths.append(DOCS_IMAGES / f"{name}.png")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        print(f"wrote {path.name}")
    if not IN_DOCS_BUILD:
        plt.close(fig)
    return paths[0]
# sphinx_gallery_end_ignore


# %%
# The image as an RGB signal
# --------------------------
# ``Signal1D`` of a (height, width, 3) uint8 array, converted to ``rgb8``:
# a 2-D signal of colours, exactly what ``hs.load`` gives for a colour
# image file.
def load_image(step=1):
    """china.jpg as an rgb8 signal, every ``step``-th pixel in x and y."""
    pixels = np.ascontiguousarray(load_sample_image("china.jpg")[::step, ::step])
    s = hs.signals.Signal1D(pixels)
    s.change_dtype("rgb8")
    s.metadata.General.title = "china.jpg"
    return s, pixels


def as_array(reconstruction):
    """The reconstruction (float RGB values per pixel) as a uint8 image."""
    return np.clip(np.round(reconstruction.data), 0, 255).astype(np.uint8)


# %%
# Fit on a sample, assign every pixel
# -----------------------------------
# ``engine="blockwise"`` fits algorithms that cannot stream on a seeded
# random sample of ``fit_sample_size`` positions, then assigns every
# position in blocks. A scikit-learn ``KMeans`` object is fitted that way
# (the named ``"kmeans"`` runs exact Lloyd passes over all the pixels
# instead, much slower). The engine warns that it samples; that is what we
# want here.
def quantise(s, k, sample_size=10_000, random_state=0):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fitted on a random sample.*")
        s.clusterspy.cluster_analysis(
            "signal",
            algorithm=KMeans(n_clusters=k, n_init=1),
            engine="blockwise",
            engine_kwargs={"fit_sample_size": sample_size},
            show_progressbar=False,
            random_state=random_state,
        )
    seconds = time.perf_counter() - start
    return s.clusterspy.get_cluster_reconstruction(), seconds


def measure(s, pixels, reconstruction, seconds, name):
    """Mean absolute error (0..255 scale), colours used, pixels assigned."""
    rec = reconstruction.data
    labels = s.clusterspy.result.labels
    numbers = {
        "seconds": seconds,
        "mae": float(np.abs(rec - pixels.astype(float)).mean()),
        "n_colours": len(np.unique(rec.reshape(-1, 3), axis=0)),
        "all_assigned": bool((labels >= 0).all() and np.isfinite(rec).all()),
        "n_pixels": int(labels.size),
        "n_clusters": int(s.clusterspy.result.n_clusters),
    }
    print(
        f"{name}: {numbers['seconds']:.2f} s, mean absolute error "
        f"{numbers['mae']:.2f} / 255, {numbers['n_colours']} colours, "
        f"{numbers['n_pixels']} pixels all assigned: {numbers['all_assigned']}"
    )
    return numbers


# %%
# For comparison: mini-batch k-means sees every pixel in small batches;
# plain k-means on all pixels is the reference.
def on_all_pixels(s, pixels, k, algorithm):
    start = time.perf_counter()
    s.clusterspy.cluster_analysis(
        "signal", algorithm=algorithm, n_clusters=k, random_state=0
    )
    seconds = time.perf_counter() - start
    rec = s.clusterspy.get_cluster_reconstruction()
    return measure(s, pixels, rec, seconds, f"{algorithm} on all pixels, k={k}")


def palette_axes(ax, s, title):
    """The clusters' mean colours, largest cluster first, as swatches."""
    result = s.clusterspy.result
    colours = result.signal_mean / 255.0
    ax.imshow(colours[None, :, :], aspect="auto", interpolation="nearest")
    ax.set_yticks([])
    ax.set_xlabel("Cluster (largest first)")
    ax.set_title(title, fontsize=10)


def main(output_dir=HERE / "output", small=False, docs=False):
    """Run the example; return its numbers. ``small`` uses every third
    pixel in x and y and skips the slow full k-means reference."""
    output_dir = Path(output_dir)
    s, pixels = load_image(step=3 if small else 1)
    print(f"{pixels.shape[1]} x {pixels.shape[0]} pixels")
    out = {"shape": pixels.shape}

    # %%
    # k = 6: pixel clustering, a segmentation by colour (sky, haze and water,
    # dark foliage...). The label map is drawn by ``plot_cluster_labels`` in
    # the cluster colours (not the image's colours); the label map is kept
    # for the figure below.
    rec6, seconds = quantise(s, 6)
    out["k6"] = measure(s, pixels, rec6, seconds, "KMeans on a sample, k=6")
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    s.clusterspy.plot_cluster_labels(ax=ax)
    ax.set_title("6 clusters: label map")
    save(fig, "rgb_labels_6", output_dir, docs)

    # %%
    # k = 64: colour quantisation. The clusters' mean colours are the
    # palette of the quantised image.
    rec64, seconds = quantise(s, 64)
    out["k64"] = measure(s, pixels, rec64, seconds, "KMeans on a sample, k=64")
    fig, palette64 = plt.subplots(figsize=(9, 0.9), layout="constrained")
    palette_axes(palette64, s, "The 64 colours (cluster means)")
    save(fig, "rgb_palette_64", output_dir, docs)

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.9), layout="constrained")
    panels = [
        (pixels, "Original"),
        (as_array(rec64), f"64 colours (mean abs. error {out['k64']['mae']:.1f})"),
        (as_array(rec6), f"6 colours (mean abs. error {out['k6']['mae']:.1f})"),
    ]
    for ax, (image, title) in zip(axes, panels, strict=True):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
    save(fig, "rgb_quantisation", output_dir, docs, dpi=72)

    # %%
    # Timing: the same k = 64 with every pixel in the fit. Mini-batch
    # k-means updates the centres from small random batches; plain k-means
    # is the reference. The errors barely differ.
    out["minibatch"] = on_all_pixels(s, pixels, 64, "minibatchkmeans")
    if not small:
        out["kmeans_all"] = on_all_pixels(s, pixels, 64, "kmeans")
    return out


# sphinx_gallery_start_ignore
if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--docs"]
    main(
        args[0] if args else HERE / "output",
        small=IN_DOCS_BUILD,
        docs="--docs" in sys.argv[1:],
    )
# sphinx_gallery_end_ignore
