"""Validate the automatic choices on real maps and on realistic generated ones.

Runs the automatic pipeline that ``clusterspy run FILE`` is meant to use by
default (issue 15) on the real maps of ``../shared/data`` (each skipped
cleanly when absent) and on generated maps at 1-50 counts per pixel with
graded interfaces and a thickness gradient, and prints the evidence: counts
per pixel, the significant components and their threshold, the number of
clusters with the split tests and every metric's curve, and how the
clusters' mean spectra differ (the channels that differ most).

    python benchmarks/validate_real.py [--data DIR] [--quick] [--no-timing]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from clusterspy.auto_k import estimate_k_counts, estimate_k_features
from clusterspy.components import significant_components_of
from clusterspy.counts import count_summary, counts_per_position, is_count_data
from clusterspy.exceptions import DoubtfulEstimateWarning
from clusterspy.noise import count_equivalents, photon_transfer

# ../shared/data next to the repository (the main checkout's layout).
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MAX_CLUSTERS = 8


def graded_map(shape=(64, 64), n_channels=1024, n_phases=3, counts=10.0,
               interface_width=3.0, random_state=0):
    """Phases with graded (sigmoid) interfaces and a thickness gradient."""
    from clusterspy.datasets import spectrum_image

    rng = np.random.default_rng(random_state)
    # The phases' pure spectra (noise-free) from the package generator.
    pure = spectrum_image((n_phases, 1), n_channels=n_channels, n_phases=n_phases,
                          counts=1e9, random_state=random_state)
    spectra = pure.data.reshape(n_phases, n_channels).astype(np.float64)
    spectra /= spectra.sum(axis=1, keepdims=True)
    ny, nx = shape[1], shape[0]
    seeds = rng.uniform(0, 1, (n_phases * 2, 2)) * (ny, nx)
    yy, xx = np.mgrid[0:ny, 0:nx]
    d = np.sqrt((yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2)
    owner = np.arange(n_phases * 2) % n_phases
    # Soft Voronoi: weight exp(-d / w) per seed, summed per phase.
    w = np.exp(-(d - d.min(axis=-1, keepdims=True)) / interface_width)
    frac = np.stack([w[..., owner == p].sum(-1) for p in range(n_phases)], -1)
    frac /= frac.sum(-1, keepdims=True)
    thickness = 0.6 + 0.8 * (xx / max(nx - 1, 1))
    expected = counts * thickness[..., None] * (frac @ spectra)
    import hyperspy.api as hs

    s = hs.signals.Signal1D(rng.poisson(expected).astype(np.float32))
    s.axes_manager.signal_axes[0].scale = 10.0 / n_channels
    s.axes_manager.signal_axes[0].units = "keV"
    return s, frac.argmax(-1)


def auto_pipeline(s, max_clusters=MAX_CLUSTERS, random_state=0):
    """The automatic path: counts -> significant components -> k."""
    out = {}
    t0 = time.perf_counter()
    counts_data = is_count_data(s)
    out["count_data"] = counts_data
    if counts_data:
        totals = counts_per_position(s)
        out["summary"] = count_summary(s, counts=totals)
        mask = totals < 1  # empty positions carry no phase information
        s = s.deepcopy()
        s.change_dtype("float64")
        raw = s.data.reshape(-1, s.data.shape[-1]).copy()
        nav_mask = mask.T if mask.any() else None
        s.decomposition(normalize_poissonian_noise=True, navigation_mask=nav_mask,
                        output_dimension=40,
                        svd_solver="randomized", random_state=random_state,
                        print_info=False)
        choice = significant_components_of(s, navigation_mask=nav_mask, n_draws=3,
                                           random_state=random_state)
        out["components"] = choice
        rows = raw[~mask.ravel()]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DoubtfulEstimateWarning)
            result = estimate_k_counts(rows, choice.n_components,
                                       max_clusters=max_clusters,
                                       random_state=random_state)
        out["warnings"] = [str(w.message) for w in caught]
        out["k"] = result
        labels = np.full(mask.size, -2)
        labels[~mask.ravel()] = result.labels
        out["labels"] = labels
        out["rows"] = raw
    else:
        s = s.deepcopy()
        s.decomposition(print_info=False)
        choice = significant_components_of(s)
        out["components"] = choice
        features = np.asarray(s.learning_results.loadings)[:, : choice.n_components]
        raw = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
        # shot noise scaled by a gain (Raman, CL): the split rule on count
        # equivalents, as cluster_analysis(n_clusters="auto") does
        gain = photon_transfer(raw, choice.n_components, random_state=random_state)
        out["gain"] = gain
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DoubtfulEstimateWarning)
            if gain.usable:
                result = estimate_k_counts(count_equivalents(raw, gain),
                                           choice.n_components,
                                           max_clusters=max_clusters,
                                           random_state=random_state)
            else:
                result = estimate_k_features(features, max_clusters=max_clusters,
                                             random_state=random_state)
        out["warnings"] = [str(w.message) for w in caught]
        out["k"] = result
        out["labels"] = result.labels
        out["rows"] = s.data.reshape(-1, s.data.shape[-1])
    out["seconds"] = time.perf_counter() - t0
    out["axis"] = s.axes_manager.signal_axes[0].axis
    return out


def _report(name, out, truth=None):
    print(f"\n=== {name} ===")
    if out["count_data"]:
        print("  " + out["summary"].message())
    c = out["components"]
    ev = c.explained_variance
    print(f"  components: {c.n_components} ({c.method}, threshold "
          f"{c.threshold if c.threshold is None else f'{c.threshold:.4g}'}); "
          f"explained variance / threshold: "
          + " ".join(f"{v / (c.threshold or ev[0]):.3g}" for v in ev[:8]))
    if "gain" in out:
        g = out["gain"]
        print(f"  photon transfer: gain {g.gain:.4g}, offset {g.offset:.4g}, "
              f"R^2 {g.r_squared:.3f}, shot share {g.shot_share:.2f}: "
              + ("count equivalents" if g.usable else "not shot noise"))
    r = out["k"]
    rule = r.rule + (" on count equivalents" if out.get("gain") is not None
                     and out["gain"].usable else "")
    print(f"  k = {r.n_clusters} by {rule}; metrics alone: {r.metric_choices}")
    for name_, curve in r.curves.items():
        print(f"    {name_:>10}: " + " ".join(f"{v:.3g}" for v in curve))
    for t in r.tests:
        print(f"    split k={t['k']}: accepted={t['accepted']} worst p="
              f"{max(t['p_values']):.2g} least separation (nats/pixel)="
              f"{min(t['separation']):.3g} smallest line difference from a "
              f"mixture={min(abs(d) for d in t['relative_difference']):.2f} "
              f"cluster counts="
              f"{[int(x) for x in t['cluster_counts']]}")
    for w in out["warnings"]:
        print(f"  DOUBTFUL: {w}")
    labels, rows, axis = out["labels"], out["rows"], out["axis"]
    kept = labels >= 0
    if truth is not None:
        from sklearn.metrics import adjusted_rand_score

        print(f"  ARI of the selection's labels (half counts) vs majority phase: "
              f"{adjusted_rand_score(truth.ravel()[kept], labels[kept]):.3f}")
    ids = [i for i in np.unique(labels) if i >= 0]
    means = np.array([rows[labels == i].mean(axis=0) for i in ids])
    sizes = [int((labels == i).sum()) for i in ids]
    print(f"  clusters: sizes {sizes}, mean counts/pixel "
          f"{[round(float(m.sum()), 1) for m in means]}")
    if len(ids) > 1:
        shapes = means / np.maximum(means.sum(axis=1, keepdims=True), 1e-12)
        ref = shapes[int(np.argmax(sizes))]
        for i, sh in zip(ids, shapes, strict=False):
            if i == ids[int(np.argmax(sizes))]:
                continue
            diff = sh - ref
            top = np.argsort(-np.abs(diff))[:4]
            print(f"    cluster {i} vs largest: "
                  + ", ".join(f"{axis[j]:.3g} ({diff[j] * 100:+.2f}% of counts)"
                              for j in top))
    print(f"  time: {out['seconds']:.1f} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--levels", type=float, nargs="*")
    args = parser.parse_args()
    warnings.simplefilter("ignore", FutureWarning)
    import hyperspy.api as hs

    data = Path(args.data)
    real = () if args.no_real else (("eds_sem_30x30.bcf", -1), ("eds_sem_320x240_sparse.bcf", -1),
                        ("raman_map_20x20.wdf", 0))
    for fname, pick in real:
        path = data / fname
        if not path.exists():
            print(f"\n=== {fname}: absent, skipped ===")
            continue
        loaded = hs.load(path)
        s = loaded[pick] if isinstance(loaded, list) else loaded
        _report(f"{fname} {s.data.shape}", auto_pipeline(s))
        if fname.startswith("eds_sem_320x240"):
            binned = s.rebin(scale=(4, 4, 1))
            _report(f"{fname} binned 4 x 4 {binned.data.shape}", auto_pipeline(binned))

    levels = (2, 10) if args.quick else (1, 2, 5, 10, 20, 50)
    if args.levels is not None:
        levels = args.levels
    for counts in levels:
        for n_phases in (3,) if args.quick else (2, 4):
            s, truth = graded_map(counts=counts, n_phases=n_phases, random_state=1)
            _report(f"graded {n_phases} phases, {counts} counts/pixel, 64 x 64 x 1024",
                    auto_pipeline(s), truth)

    if not args.no_timing:
        from clusterspy.datasets import spectrum_image

        s = spectrum_image((100, 100), n_channels=2048, n_phases=4, counts=50,
                           random_state=0)
        out = auto_pipeline(s)
        _report("timing: spectrum_image 100 x 100 x 2048, 4 phases, 50 counts/pixel",
                out)


if __name__ == "__main__":
    main()
