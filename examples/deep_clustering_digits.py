"""
Deep clustering of handwritten digits: autoencoder features, then k-means
=========================================================================

Deep clustering (DEC, n2d) trains an autoencoder to compress each image into
a few numbers, then clusters those latent codes instead of the pixels.
``s.clusterspy.learn_features`` does the first step on any HyperSpy signal
(each navigation position is one sample) and returns the codes as a signal
with the same navigation axes, ready to be the ``cluster_source``.

On scikit-learn's bundled digits (1797 images of 8 x 8 pixels, ten classes)
we compare, by normalised mutual information (NMI) and adjusted Rand index
(ARI) against the true digits:

* k-means on the raw pixels (NMI about 0.74);
* k-means on the autoencoder's codes (0.74 to 0.77 by seed: no better on
  these tiny images);
* k-means on the codes after a manifold step, as n2d does with UMAP: the
  spectral embedding of the codes over a graph of 10 nearest neighbours
  (about 0.83).

The manifold step does most of the work here: a spectral embedding of the
raw pixels does better still on the digits (NMI about 0.90), so try both on
your data. This example needs PyTorch (``pip install "clusterspy[deep]"``);
without it, it says so and stops.

Run it as a script; figures are saved as PNG into the folder given as the
first argument (default ``examples/output/``), and also into
``docs/images/examples/`` with ``--docs``::

    python examples/deep_clustering_digits.py [OUTPUT_FOLDER] [--docs]
"""

# %%
# Setup
# -----
import importlib.util
import os
import sys
import time
from pathlib import Path

import hyperspy.api as hs
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

import clusterspy  # noqa: F401  (adds s.clusterspy to every signal)
from clusterspy.plotting import plot_cluster_signals

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DOCS_IMAGES = HERE.parent / "docs" / "images" / "examples"
IN_DOCS_BUILD = bool(os.environ.get("CLUSTERSPY_DOCS"))
HAS_TORCH = importlib.util.find_spec("torch") is not None


def save(fig, name, output_dir, docs=False):
    """Save a figure as PNG into ``output_dir`` (and the docs images)."""
    paths = [Path(output_dir) / f"{name}.png"]
    if docs:
        paths.append(DOCS_IMAGES / f"{name}.png")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100, bbox_inches="tight")
        print(f"wrote {path}")
    if not IN_DOCS_BUILD:
        plt.close(fig)
    return paths[0]


def score(name, labels, digits, seconds, out):
    nmi = normalized_mutual_info_score(digits, labels)
    ari = adjusted_rand_score(digits, labels)
    print(f"{name:<32} NMI {nmi:.3f}  ARI {ari:.3f}  ({seconds:.1f} s)")
    out[name] = {"nmi": nmi, "ari": ari, "seconds": seconds}


def main(output_dir=HERE / "output", small=False, docs=False):
    """Run the example; return its scores (``{}`` without PyTorch).

    ``small`` is accepted as by every example; this one is small already
    (about 20 s on a CPU)."""
    if not HAS_TORCH:
        print('This example needs PyTorch: pip install "clusterspy[deep]"')
        return {}
    output_dir = Path(output_dir)
    digits = load_digits()
    images = hs.signals.Signal2D(digits.images)
    images.metadata.General.title = "Handwritten digits"
    images.axes_manager.navigation_axes[0].name = "Image"
    y = digits.target
    out = {}

    # %%
    # K-means on the raw pixels
    # -------------------------
    start = time.perf_counter()
    images.clusterspy.cluster_analysis(
        "signal", n_clusters=10, n_init=10, random_state=0
    )
    seconds = time.perf_counter() - start
    score("k-means, raw pixels", images.clusterspy.result.labels, y, seconds, out)
    fig = plot_cluster_signals(images, "centroid", per_row=5)
    fig.suptitle("k-means on the raw pixels: centroid images")
    save(fig, "deep_digits_raw_centroids", output_dir, docs)

    # %%
    # Autoencoder codes
    # -----------------
    # The digits as 64-pixel spectra train a dense autoencoder in seconds on
    # a CPU (an image stack would get a convolutional one, slower and no
    # better on 8 x 8 images). Ten latent components, seeded.
    spectra = hs.signals.Signal1D(digits.data)
    epochs = 30
    start = time.perf_counter()
    codes = spectra.clusterspy.learn_features(
        n_components=10, random_state=0, epochs=epochs, batch_size=128
    )
    trained = time.perf_counter() - start
    images.clusterspy.cluster_analysis(codes, n_clusters=10, n_init=10, random_state=0)
    score(
        "k-means, autoencoder codes", images.clusterspy.result.labels, y, trained, out
    )

    # %%
    # The manifold step
    # -----------------
    # The same training (same seed), then the codes' spectral embedding.
    start = time.perf_counter()
    embedded = spectra.clusterspy.learn_features(
        n_components=10,
        random_state=0,
        epochs=epochs,
        batch_size=128,
        manifold="spectral",
    )
    trained = time.perf_counter() - start
    images.clusterspy.cluster_analysis(
        embedded, n_clusters=10, n_init=10, random_state=0
    )
    score("k-means, codes + spectral", images.clusterspy.result.labels, y, trained, out)

    # %%
    # The clusters are found in the embedding, but the cluster signals come
    # from the images (``source_for_centers`` defaults to the signal itself):
    # the centroid of each cluster is a real digit.
    fig = plot_cluster_signals(images, "centroid", per_row=5)
    fig.suptitle("k-means on autoencoder codes + spectral embedding: centroids")
    save(fig, "deep_digits_centroids", output_dir, docs)

    # %%
    # Scores side by side
    # -------------------
    fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    names = list(out)
    ax.barh(names, [out[n]["nmi"] for n in names], label="NMI")
    ax.barh(names, [out[n]["ari"] for n in names], height=0.4, label="ARI")
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    ax.set_title("Digits: agreement with the true classes")
    save(fig, "deep_digits_scores", output_dir, docs)
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--docs"]
    main(
        args[0] if args else HERE / "output",
        small=IN_DOCS_BUILD,
        docs="--docs" in sys.argv[1:],
    )
