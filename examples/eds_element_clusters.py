"""
Element-labelled cluster spectra and a per-cluster table (EDS)
==============================================================

A microscopist reads cluster spectra by their element lines. For an exspy
EDS (or EELS) signal, clusterspy marks the lines named in
``metadata.Sample`` at exspy's line energies, names the lines whose
intensity differs most between the clusters, draws the members' spread as
a band that stays physical for counts (16–84 % quantiles, never below
zero), and by default shows only the energies where the data have counts.
:func:`clusterspy.get_cluster_table` gives the numbers behind the picture:
area fractions with their standard error, counts per pixel and the line
intensities of each cluster's summed spectrum (exspy's
``get_lines_intensity``).

The script uses the real 30 × 30 Bruker map (``eds_sem_30x30.bcf``, with
its electron image) when it is found, and a generated three-phase EDS map
otherwise. Figures are saved as PNG into the folder given as the first
argument (default ``examples/output/``), with the table as CSV and HTML::

    python examples/eds_element_clusters.py [OUTPUT_FOLDER]

Interactively, ``s.clusterspy.plot_cluster_explorer()`` (or HyperSpy's own
``s.plot(navigator=s.clusterspy.get_cluster_labels(merged=True))``) shows
each pixel's spectrum over its cluster's mean.
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

import clusterspy
from clusterspy.plotting import (
    plot_cluster_results,
    plot_cluster_signals,
    plot_reference_image,
)

# the gallery runs examples without __file__ (and offers them as notebooks)
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
# Set while the documentation is built: figures are left open for the gallery.
IN_DOCS_BUILD = bool(os.environ.get("CLUSTERSPY_DOCS"))


def save(fig, name, output_dir):
    path = Path(output_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")
    if not IN_DOCS_BUILD:
        plt.close(fig)
    return path


# %%
# The map
# -------
# ``clusterspy.datasets.eds_sem_map`` loads the real Bruker map that ships
# with clusterspy (an ``EDSSEMSpectrum``; ``metadata.Sample`` names the
# elements and lines) and its electron image. ``generated_map`` makes a map
# with known phases (each rich in one of Si, Fe and Cu, Poisson counts) to
# check the element table against.


def generated_map(shape=(30, 30), random_state=0):
    import exspy

    rng = np.random.default_rng(random_state)
    energy = np.arange(2048) * 0.01
    lines = {"Si_Ka": 1.7397, "Fe_Ka": 6.4039, "Cu_Ka": 8.0478}
    phases = np.zeros((3, energy.size))
    for p in range(3):
        for q, e in enumerate(lines.values()):
            height = 30.0 if p == q else 3.0
            phases[p] += height * np.exp(-0.5 * ((energy - e) / 0.06) ** 2)
        phases[p] += 0.4 * np.exp(-energy / 4) * (energy < 15)
    yy, xx = np.mgrid[: shape[1], : shape[0]]
    # left and right halves, and a round grain in the left half
    grain = (yy - 8) ** 2 + (xx - 8) ** 2 < 36
    truth = np.where(grain, 2, (xx >= shape[0] // 2).astype(int))
    s = exspy.signals.EDSSEMSpectrum(rng.poisson(phases[truth]).astype(np.uint16))
    axis = s.axes_manager.signal_axes[0]
    axis.scale, axis.units, axis.name = 0.01, "keV", "Energy"
    s.metadata.General.title = "Generated EDS map"
    s.set_microscope_parameters(beam_energy=15.0, energy_resolution_MnKa=130.0)
    s.add_lines(list(lines))
    image = hs.signals.Signal2D(s.data.sum(axis=-1).astype(float))
    image.metadata.General.title = "Total counts"
    return s, image


def load_map():
    """The real 30 x 30 Bruker map shipped with clusterspy, and its electron image."""
    s, image = clusterspy.datasets.eds_sem_map(return_image=True)
    return s, image, "eds_sem_30x30.bcf"


# %%
# Clustering
# ----------
# PCA with Poisson weighting, then k-means on the first components; the
# cluster signals are the measured spectra (mean over members). The
# signal is converted to float32 first, as ``decomposition`` requires.


def analyse(s, n_clusters=3, n_components=4):
    # HyperSpy decomposes floating-point data only; the counts stay counts
    # (an EDS signal's bands are drawn as count data whatever its dtype).
    s.change_dtype("float32")
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition",
        number_of_components=n_components,
        n_clusters=n_clusters,
        random_state=0,
    )
    return s.clusterspy.result


# %%
# Figures
# -------
# The overview (labels, element-labelled spectra, sizes), the spectra on a
# log scale, and the electron image of the same file beside the labels.


def labelled_lines(fig_axes):
    return [t.get_gid().split(":", 1)[1] for t in fig_axes.texts if t.get_gid()]


# %%
# Run
# ---


def main(output_dir=HERE / "output", small=False, docs=False):
    """Run the example; return its numbers (``small`` and ``docs`` are
    accepted for the example tests' common call)."""
    output_dir = Path(output_dir)
    s, image, source = load_map()
    print(f"{source}: {s}")
    result = analyse(s)
    fig = plot_cluster_results(s)
    named = labelled_lines(fig.axes[1])
    save(fig, "eds_elements_overview", output_dir)
    save(
        plot_cluster_signals(s, "mean", log_scale=True, label_lines=6),
        "eds_elements_log",
        output_dir,
    )
    save(plot_reference_image(s, image), "eds_elements_reference", output_dir)
    table = s.clusterspy.get_cluster_table()
    print(table)
    table.to_csv(output_dir / "eds_cluster_table.csv")
    (output_dir / "eds_cluster_table.html").write_text(
        table.to_html(caption=f"Clusters of {source}"), encoding="utf-8"
    )
    return {
        "source": source,
        "n_clusters": result.n_clusters,
        "labelled_lines": named,
        "table": table.to_dict(),
    }


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--docs"]
    main(args[0] if args else HERE / "output")
