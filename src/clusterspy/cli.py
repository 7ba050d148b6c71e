"""The ``clusterspy`` command line.

``clusterspy demo`` runs the whole pipeline on a generated spectrum image with
known phases and reports how well the phases were recovered.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


class UserError(Exception):
    """An error in the user's input: reported in one line, without traceback."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="clusterspy",
        description=(
            "Cluster analysis of spectrum images and image stacks, built on HyperSpy."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"clusterspy {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the pipeline on a generated spectrum image with known phases",
        description=(
            "Generate a spectrum image with known phases and Poisson noise, run a "
            "decomposition and a cluster analysis of its loadings, print the "
            "adjusted Rand index against the true phases, and write the label map "
            "and an overview figure (PNG) and the result file (.hspy) into the "
            "output folder."
        ),
    )
    demo.add_argument(
        "-o",
        "--output",
        default="clusterspy-demo",
        help="output folder (default: %(default)s)",
    )
    demo.add_argument(
        "--shape",
        nargs=2,
        type=_positive_int,
        default=(64, 64),
        metavar=("X", "Y"),
        help="navigation shape (default: 64 64)",
    )
    demo.add_argument(
        "--channels",
        type=_positive_int,
        default=512,
        help="energy channels (default: 512)",
    )
    demo.add_argument(
        "--phases", type=_positive_int, default=3, help="number of phases (default: 3)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument(
        "-q", "--quiet", action="store_true", help="print only the results"
    )
    return parser


def _demo(args):
    # Headless: the demo writes files, it never opens windows.
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from . import datasets

    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(
            f"cannot create the output folder {str(out)!r}: {err.strerror}"
        ) from None
    say = (lambda *a: None) if args.quiet else print

    nx, ny = args.shape
    say(
        f"Generating a {nx}x{ny}x{args.channels} spectrum image with {args.phases} phases..."
    )
    s, truth = datasets.spectrum_image(
        shape=(nx, ny),
        n_channels=args.channels,
        n_phases=args.phases,
        return_truth=True,
        random_state=args.seed,
    )
    say("Decomposition (SVD, Poisson noise normalised)...")
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    say(f"Cluster analysis: k-means on {args.phases} decomposition components...")
    s.clusterspy.cluster_analysis(
        "decomposition",
        number_of_components=args.phases,
        n_clusters=args.phases,
        random_state=args.seed,
        show_progressbar=False,
    )
    result = s.clusterspy.result
    ari = adjusted_rand_score(truth.ravel(), result.labels)

    png, overview = _save_figures(s, out)
    hspy = out / "demo_result.hspy"
    s.save(hspy, overwrite=True)

    print(f"Cluster sizes: {', '.join(str(int(c)) for c in result.counts)}")
    print(f"Adjusted Rand index against the true phases: {ari:.4f}")
    print(f"Label map: {png}")
    print(f"Overview: {overview}")
    print(f"Result file: {hspy} (hs.load it, then s.clusterspy.get_cluster_labels())")
    return 0 if np.isfinite(ari) else 1


def _save_figures(signal, folder):
    """Write the label map and the overview figure as PNGs; return their paths."""
    from .plotting import plot_cluster_labels, plot_cluster_results

    paths = []
    for name, plot in (
        ("cluster_labels", plot_cluster_labels),
        ("cluster_results", plot_cluster_results),
    ):
        fig = plot(signal)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=100)
        paths.append(path)
    return paths


def main(argv=None):
    """Entry point of the ``clusterspy`` command."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "demo":
            return _demo(args)
    except UserError as err:
        print(f"clusterspy: error: {err}", file=sys.stderr)
        return 2
    return 0  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
