"""
Soft clustering: memberships, uncertainty and unassigned pixels
===============================================================

Hard clustering gives every pixel one label, even where two phases meet and
the pixel holds some of each. Soft clustering gives every pixel a
*membership* in every cluster (summing to 1):

* a **Gaussian mixture** (``algorithm="gaussian_mixture"``) models each
  cluster as a Gaussian in feature space; a pixel's memberships are the
  posterior probabilities of the clusters. ``covariance_type`` sets the
  shape of the Gaussians: ``"full"`` (any ellipsoid per cluster),
  ``"tied"`` (one ellipsoid shared by all), ``"diag"`` (axis-aligned) and
  ``"spherical"`` (round).
* **fuzzy c-means** (``algorithm="fuzzy_cmeans"``) weighs every pixel by its
  relative distance to the cluster centres; the fuzzifier ``m`` (> 1) sets
  how soft (``m`` -> 1 approaches k-means).

The uncertainty of a pixel is the normalised entropy of its memberships
(0: certain, 1: all clusters equally likely), drawn by
``plot_cluster_membership``. With ``membership_threshold=0.8``, pixels whose
largest membership is below 0.8 get the label ``UNASSIGNED`` (-3) and are
left out of the cluster signals.

The data: a generated three-phase spectrum image
(:func:`clusterspy.datasets.spectrum_image` gives the phases' spectra and
map) in which the phase boundaries are blurred, so that boundary pixels are
true mixtures with known phase fractions.

Run it as a script; figures are saved as PNG into the folder given as the
first argument (default ``examples/output/``), and also into
``docs/images/examples/`` with ``--docs``::

    python examples/soft_clustering.py [OUTPUT_FOLDER] [--docs]
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
from scipy import ndimage
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy import UNASSIGNED
from clusterspy.plotting import membership_uncertainty

# the gallery runs examples without __file__ (and offers them as notebooks)
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DOCS_IMAGES = HERE.parent / "docs" / "images" / "examples"
# Set while the documentation is built: the gallery runs on the small
# data and shows the figures, so they are left open.
IN_DOCS_BUILD = bool(os.environ.get("CLUSTERSPY_DOCS"))
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


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
# A spectrum image with mixed pixels at the phase boundaries
# ----------------------------------------------------------
# The phase spectra are the mean spectra of each phase of a generated
# spectrum image. Each phase's indicator map is blurred by a Gaussian of
# ``sigma`` pixels: these are the true phase fractions, which sum to 1 in
# every pixel, are 1 (or nearly) inside the phases and are mixed within a
# couple of pixels of a boundary. Counts are drawn from a Poisson
# distribution around the mixture.
def make_blended(shape=(48, 40), n_channels=128, counts=400, sigma=2.0, seed=0):
    """Return the spectrum image and the true fractions, (3, y, x)."""
    base, phases = clusterspy.datasets.spectrum_image(
        shape,
        n_channels=n_channels,
        n_phases=3,
        counts=1000,
        return_truth=True,
        random_state=seed,
    )
    flat = base.data.reshape(-1, n_channels).astype(float)
    spectra = np.stack([flat[phases.ravel() == p].mean(axis=0) for p in range(3)])
    spectra /= spectra.sum(axis=1, keepdims=True)
    fractions = np.stack(
        [
            ndimage.gaussian_filter((phases == p).astype(float), sigma, mode="nearest")
            for p in range(3)
        ]
    )
    fractions /= fractions.sum(axis=0)
    rng = np.random.default_rng(seed)
    expected = counts * np.einsum("pyx,pc->yxc", fractions, spectra)
    s = hs.signals.Signal1D(rng.poisson(expected).astype("float32"))
    s.axes_manager.signal_axes[0].update_from(
        base.axes_manager.signal_axes[0], ("name", "units", "scale", "offset")
    )
    for axis, ref in zip(
        s.axes_manager.navigation_axes, base.axes_manager.navigation_axes, strict=True
    ):
        axis.update_from(ref, ("name", "units", "scale", "offset"))
    s.metadata.General.title = "Three phases with mixed boundaries"
    return s, fractions


# %%
# Features: a decomposition, then three loadings scaled to unit length
# --------------------------------------------------------------------
# PCA with Poisson noise normalisation; the clusters are found on the first
# three loadings with ``preprocessing="norm"``. Every model below uses the
# same features, so they differ only in the algorithm.
FEATURES = {
    "cluster_source": "decomposition",
    "number_of_components": 3,
    "preprocessing": "norm",
}


def run(s, fractions, name, **options):
    """Cluster; return memberships, uncertainty and scores against the truth."""
    start = time.perf_counter()
    s.clusterspy.cluster_analysis(
        **FEATURES,
        n_clusters=3,
        random_state=0,
        membership_threshold=0.8,
        **options,
    )
    seconds = time.perf_counter() - start
    result = s.clusterspy.result
    membership = s.clusterspy.get_cluster_membership().data  # (3, y, x)
    uncertainty = membership_uncertainty(membership)
    hard = membership.argmax(axis=0)  # the label before the threshold
    phase = fractions.argmax(axis=0)
    top = fractions.max(axis=0)
    pure, mixed = top > 0.98, top < 0.7
    unassigned = result.label_map == UNASSIGNED
    out = {
        "seconds": seconds,
        "membership_sum_error": float(np.abs(membership.sum(axis=0) - 1).max()),
        "ari_pure": adjusted_rand_score(phase[pure], hard[pure]),
        "ari": adjusted_rand_score(phase.ravel(), hard.ravel()),
        "uncertainty_pure": float(uncertainty[pure].mean()),
        "uncertainty_mixed": float(uncertainty[mixed].mean()),
        "n_unassigned": int(unassigned.sum()),
        "unassigned_max_fraction": float(top[unassigned].max())
        if unassigned.any()
        else float("nan"),
        "unassigned_in_pure": int((unassigned & pure).sum()),
        "mixed_unassigned_share": float(unassigned[mixed].mean()),
        "membership": membership,
        "uncertainty": uncertainty,
        "labels": result.label_map.copy(),
    }
    print(
        f"{name:>22}: ARI {out['ari']:.3f} (pure pixels {out['ari_pure']:.3f}); "
        f"mean uncertainty pure {out['uncertainty_pure']:.3f}, mixed "
        f"{out['uncertainty_mixed']:.3f}; {out['n_unassigned']} unassigned "
        f"({out['mixed_unassigned_share']:.0%} of the mixed pixels); "
        f"{seconds:.2f} s"
    )
    return out


# %%
# Plots
# -----
# Label maps with unassigned pixels in black. Cluster colours follow
# ``clusterspy.cluster_colors``; labels are ordered by cluster size, so
# the same phase tends to get the same colour in every model.
def show_labels(ax, labels, title):
    colours = [(0, 0, 0, 1)] + list(clusterspy.cluster_colors(3))
    cmap = mcolors.ListedColormap(colours)
    norm = mcolors.BoundaryNorm([-3.5, -0.5, 0.5, 1.5, 2.5], cmap.N)
    ax.imshow(labels, cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_covariances(fractions, runs):
    fig, axes = plt.subplots(1, 5, figsize=(16, 3.9), layout="constrained")
    axes[0].imshow(np.moveaxis(fractions, 0, -1), interpolation="nearest")
    axes[0].set_title("True phase fractions (as RGB)", fontsize=10)
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    for ax, (cov, r) in zip(axes[1:], runs.items(), strict=True):
        show_labels(
            ax,
            r["labels"],
            f"covariance_type='{cov}'\nARI {r['ari']:.3f}, "
            f"{r['n_unassigned']} unassigned",
        )
    fig.suptitle(
        "Gaussian mixtures, membership_threshold=0.8 (unassigned pixels in black)"
    )
    return fig


def phase_of_cluster(labels, fractions):
    """The phase matched to each cluster (Hungarian, on pixel overlap)."""
    from scipy.optimize import linear_sum_assignment

    phase = fractions.argmax(axis=0)
    overlap = np.array(
        [[np.sum((labels == j) & (phase == p)) for p in range(3)] for j in range(3)]
    )
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return dict(zip(rows.tolist(), cols.tolist(), strict=True))


def plot_profile(fractions, models, row):
    """True fractions and memberships along one row of the map, each
    cluster in the colour of its matched phase (as in the RGB truth)."""
    fig, axes = plt.subplots(
        1, 1 + len(models), figsize=(14, 3.4), sharey=True, layout="constrained"
    )
    x = np.arange(fractions.shape[2])
    phase_colours = ("red", "green", "blue")
    for p in range(3):
        axes[0].plot(x, fractions[p, row], color=phase_colours[p], lw=1.8)
    axes[0].set_title("True phase fractions", fontsize=10)
    for ax, (title, r) in zip(axes[1:], models.items(), strict=True):
        match = phase_of_cluster(np.argmax(r["membership"], axis=0), fractions)
        for j, p in match.items():
            ax.plot(x, r["membership"][j, row], color=phase_colours[p], lw=1.8)
        ax.set_title(f"{title}: memberships", fontsize=10)
    for ax in axes:
        ax.axhline(0.8, color="0.3", ls="--", lw=1)
        ax.set_xlabel("x (pixels)")
    axes[0].set_ylabel(f"Fraction or membership (row {row})")
    axes[0].text(0.5, 0.83, "membership_threshold", color="0.3", fontsize=8)
    return fig


def boundary_row(fractions):
    """The row crossing the most mixed pixels."""
    return int(np.argmax((fractions.max(axis=0) < 0.9).sum(axis=1)))


def main(output_dir=HERE / "output", small=False, docs=False):
    """Run the example; return its numbers. ``small`` changes nothing here
    (the map is small already)."""
    output_dir = Path(output_dir)
    s, fractions = make_blended()
    top = fractions.max(axis=0)
    print(
        f"{top.size} pixels: {(top > 0.98).sum()} pure (largest fraction > 0.98), "
        f"{(top < 0.7).sum()} mixed (< 0.7)"
    )
    s.decomposition(normalize_poissonian_noise=True, print_info=False)

    # %%
    # Gaussian mixtures of every covariance type. All recover the phases
    # (ARI 1 on the pure pixels); their memberships are *probabilities of
    # belonging to one Gaussian*, not phase fractions: they switch from 0
    # to 1 over a pixel or two, so only the pixels nearest a 50/50 mixture
    # are uncertain.
    gmm = {}
    for cov in COVARIANCE_TYPES:
        gmm[cov] = run(
            s,
            fractions,
            f"GMM {cov}",
            algorithm="gaussian_mixture",
            covariance_type=cov,
        )
    save(plot_covariances(fractions, gmm), "soft_covariance_types", output_dir, docs)

    # The stored result is the last one run; run "tied" again for its plots.
    run(s, fractions, "GMM tied", algorithm="gaussian_mixture", covariance_type="tied")
    fig = s.clusterspy.plot_cluster_membership()
    fig.suptitle("Gaussian mixture (tied covariance): memberships and uncertainty")
    save(fig, "soft_gmm_membership", output_dir, docs)

    # %%
    # Fuzzy c-means with m = 2: memberships change gradually across a
    # boundary, much like the true fractions, and the uncertain band is
    # wide: most mixed pixels fall below the threshold.
    fcm = run(s, fractions, "fuzzy c-means, m=2", algorithm="fuzzy_cmeans", m=2.0)
    fig = s.clusterspy.plot_cluster_membership()
    fig.suptitle("Fuzzy c-means (m=2): memberships and uncertainty")
    save(fig, "soft_fcm_membership", output_dir, docs)
    fcm_hard = run(
        s, fractions, "fuzzy c-means, m=1.5", algorithm="fuzzy_cmeans", m=1.5
    )

    # %%
    # Along one row: the true fractions, and the memberships of both models.
    row = boundary_row(fractions)
    models = {"Gaussian mixture (tied)": gmm["tied"], "Fuzzy c-means (m=2)": fcm}
    save(plot_profile(fractions, models, row), "soft_profile", output_dir, docs)
    return {"gmm": gmm, "fcm": fcm, "fcm_m1.5": fcm_hard, "fractions": fractions}


# sphinx_gallery_start_ignore
if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--docs"]
    main(
        args[0] if args else HERE / "output",
        small=IN_DOCS_BUILD,
        docs="--docs" in sys.argv[1:],
    )
# sphinx_gallery_end_ignore
