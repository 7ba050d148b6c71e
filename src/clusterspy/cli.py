"""The ``clusterspy`` command line: argument parsing on top of the workflow.

``clusterspy run FILE`` loads any file HyperSpy can read, optionally
decomposes it, estimates or takes the number of clusters, clusters the
navigation positions and writes an output folder: the result file, the
figures (PNG), the label map and cluster signals as data files (HyperSpy and
CSV) and a self-contained ``report.html``.

``clusterspy demo`` runs the same pipeline on a generated spectrum image with
known phases and reports how well the phases were recovered.

This module only parses and prints: the work is
:func:`clusterspy.workflow.run_workflow` and
:func:`clusterspy.workflow.run_demo`, the files are written by
:mod:`clusterspy.outputs`. The output folder is written all at once: the
files appear only when every one is complete.

Errors in the input (a missing or unreadable file, bad options, an output
folder that cannot be created or written) are reported in one line,
``clusterspy: error: ...``, with exit code 2 and no traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import warnings

# Names that lived here before the workflow moved out, kept importable.
from .outputs import REPORT_NAME, RESULT_NAME  # noqa: F401
from .workflow import UserError, _translate  # noqa: F401
from .workflow import load_signal as _load  # noqa: F401

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error."""

    def error(self, message):
        self.exit(2, f"clusterspy: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.HelpFormatter):
    """Wraps descriptions; keeps text with line breaks (the examples) as written."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30)

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


# -- option types ----------------------------------------------------------------------


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


def _channels(text):
    value = _positive_int(text)
    if value < 2:
        # The generated energy axis is calibrated from its first two channels.
        raise argparse.ArgumentTypeError(f"expected at least 2 channels, got {value}")
    return value


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _decomposition(text):
    text = text.strip().lower()
    if text in ("auto", "none"):
        return text
    return _integer(text)  # checked by the workflow, which names the option


def _min_counts(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {value}"
        )
    return value


def _n_clusters(text):
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or an integer, got {text!r}"
        ) from None


# -- the parser --------------------------------------------------------------------------

_RUN_EPILOG = """\
examples:
  clusterspy run map.bcf
      count data: mask the empty pixels, decompose (SVD, Poisson noise
      normalised), keep the significant components, choose k by the Poisson
      split rule, cluster with k-means; write map-clusterspy/
  clusterspy run map.bcf --decomposition 5 --metric gap
      5 components, k by the gap statistic
  clusterspy run map.hspy --n-clusters 4 -o phases
      cluster the (normalised) spectra into 4 clusters; write phases/
  clusterspy run stack.zspy --lazy --metric silhouette --max-clusters 6
      an image stack larger than memory; k from 2 to 6 by the silhouette

output folder:
  report.html                    self-contained report: open it in any browser
  result.hspy                    the signal with its results:
                                 hs.load(path).clusterspy.result
  cluster_*.png                  overview, label maps, mean signals,
                                 distances, metric curve (with auto)
  cluster_labels.hspy/.csv       the label map (-1 noise, -2 masked)
  cluster_signals_mean.hspy/.csv the mean signal of each cluster
  cluster_sizes.csv              members of each cluster
  cluster_distances.hspy         distance of each position to each centre
  summary.json                   parameters, versions and results
"""

_DEMO_EPILOG = """\
example:
  clusterspy demo --shape 128 128 --phases 4 -o demo4
"""


def _add_analysis_options(parser, demo):
    from .algorithms import ALGORITHM_NAMES
    from .estimate import METRICS
    from .preprocessing import PREPROCESSING_NAMES

    group = parser.add_argument_group("analysis")
    group.add_argument(
        "--decomposition",
        type=_integer if demo else _decomposition,
        metavar="N",
        help=(
            "decompose first (SVD; Poisson noise normalised when the data are "
            "non-negative) and keep N components"
            + (
                " (default: the number of phases)"
                if demo
                else "; 'auto' keeps the significant ones (above the simulated "
                "Poisson noise; the scree's elbow for other data), 'none' clusters the "
                "data themselves (default: auto for count data and data with "
                "more than 30 channels, none otherwise)"
            )
        ),
    )
    group.add_argument(
        "--source",
        choices=("signal", "decomposition"),
        help=(
            "features to cluster: the data, or the loadings of the first N "
            "decomposition components (default: decomposition with "
            "--decomposition, else signal)"
        ),
    )
    group.add_argument(
        "--n-clusters",
        type=_n_clusters,
        default="auto",
        metavar="K",
        help=(
            "number of clusters, or 'auto' to estimate it with --metric "
            "(default: %(default)s)"
        ),
    )
    group.add_argument(
        "--metric",
        default="auto",
        help=(
            "how --n-clusters auto chooses k: auto (count data: every cluster's "
            "summed counts must be distinguishable from the others' under "
            "Poisson noise; other data: the majority of elbow, silhouette and "
            "gap), " + ", ".join(METRICS) + " (default: %(default)s)"
        ),
    )
    group.add_argument(
        "--min-clusters",
        type=_integer,
        default=1,
        metavar="K",
        help="smallest k tried by --n-clusters auto (default: %(default)s)",
    )
    group.add_argument(
        "--max-clusters",
        type=_integer,
        default=10,
        metavar="K",
        help="largest k tried by --n-clusters auto (default: %(default)s)",
    )
    group.add_argument(
        "--min-counts",
        type=_min_counts,
        metavar="N",
        help=(
            "positions with fewer counts are not clustered (label -2) "
            "(default: 1 for count data, so empty positions are masked; "
            "none otherwise)"
        ),
    )
    group.add_argument(
        "--preprocessing",
        default="default",
        metavar="NAME",
        help=(
            "scaling of the features before clustering: none, "
            + ", ".join(PREPROCESSING_NAMES)
            + " (default: none for count data clustered on their Poisson-"
            "normalised components, which are on the noise's scale already; "
            "norm otherwise: each position's features to unit length, so that "
            "clusters differ by composition, not by intensity)"
        ),
    )
    group.add_argument(
        "--algorithm",
        metavar="NAME",
        help=(
            "clustering algorithm: "
            + ", ".join(ALGORITHM_NAMES)
            + " (default: kmeans; gaussian_mixture with --metric bic or aic)"
        ),
    )
    group.add_argument(
        "--seed",
        type=_integer,
        default=0,
        help=(
            "random seed"
            + (" of the data and the analysis" if demo else "")
            + " (default: %(default)s)"
        ),
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        default="clusterspy-demo" if demo else None,
        metavar="FOLDER",
        help=(
            "output folder, created if needed; files of the same names are "
            "replaced (default: "
            + ("%(default)s" if demo else "<file stem>-clusterspy")
            + ")"
        ),
    )
    out.add_argument(
        "--format",
        choices=("hspy", "zspy"),
        default="hspy",
        help="file format of the result and data files (default: %(default)s)",
    )
    out.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars or step messages: print only the results",
    )


def _build_parser():
    from . import __version__

    parser = _Parser(
        prog="clusterspy",
        formatter_class=_Formatter,
        description=(
            "Cluster analysis of spectrum images and image stacks, built on "
            "HyperSpy: cluster the navigation positions of any file HyperSpy "
            "reads and write the figures, the label map, the cluster signals "
            "and a self-contained HTML report."
        ),
        epilog=(
            "examples:\n"
            "  clusterspy demo\n"
            "  clusterspy run map.bcf --decomposition 5 --n-clusters auto\n"
            "  clusterspy run --help"
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"clusterspy {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        formatter_class=_Formatter,
        help="cluster a file (spectrum image, image stack, ...) and write a report",
        description=(
            "Load FILE with HyperSpy, optionally decompose it, estimate or take "
            "the number of clusters, cluster the navigation positions (pixels "
            "of a map, images of a stack) and write the results, figures and "
            "a self-contained report.html into the output folder."
        ),
        epilog=_RUN_EPILOG,
    )
    run.add_argument(
        "file",
        metavar="FILE",
        help="any file HyperSpy can read (.hspy, .zspy, .bcf, .emd, .dm4, ...)",
    )
    data = run.add_argument_group("data")
    data.add_argument(
        "--signal-index",
        type=_integer,
        metavar="I",
        help=(
            "which signal of a file holding several (Bruker .bcf: an image and "
            "the spectrum image), as in hs.load(FILE)[I] (default: the largest "
            "with navigation axes)"
        ),
    )
    data.add_argument(
        "--lazy",
        action="store_true",
        help="load lazily (dask): for data larger than memory",
    )
    _add_analysis_options(run, demo=False)

    demo = sub.add_parser(
        "demo",
        formatter_class=_Formatter,
        help="run the pipeline on a generated spectrum image with known phases",
        description=(
            "Generate a spectrum image with known phases and Poisson noise, "
            "decompose it, estimate the number of clusters, cluster the "
            "loadings, print the adjusted Rand index against the true phases, "
            "and write the same outputs as 'clusterspy run' (report.html "
            "included) into the output folder."
        ),
        epilog=_DEMO_EPILOG,
    )
    gen = demo.add_argument_group("generated data")
    gen.add_argument(
        "--shape",
        nargs=2,
        type=_positive_int,
        default=(64, 64),
        metavar=("X", "Y"),
        help="navigation shape (default: 64 64)",
    )
    gen.add_argument(
        "--channels",
        type=_channels,
        default=512,
        help="energy channels (default: %(default)s)",
    )
    gen.add_argument(
        "--phases",
        type=_positive_int,
        default=3,
        help="number of phases (default: %(default)s)",
    )
    _add_analysis_options(demo, demo=True)
    parser.demo_parser = demo  # for the demo's checks that span options
    return parser


# -- commands ------------------------------------------------------------------------------------


def _options(args):
    """The analysis options of ``args``, as keyword arguments of the workflow."""
    # None: not given, the data decide (see plan_workflow)
    return {
        "decomposition": "default" if args.decomposition is None else args.decomposition,
        "source": args.source,
        "n_clusters": args.n_clusters,
        "metric": args.metric,
        "min_clusters": args.min_clusters,
        "max_clusters": args.max_clusters,
        "preprocessing": args.preprocessing,
        "algorithm": args.algorithm,
        "seed": args.seed,
        "format": args.format,
        "quiet": args.quiet,
        "min_counts": "default" if args.min_counts is None else args.min_counts,
    }


def _print_results(done):
    """The results, then where the files are."""
    from .plotting.elements import plural
    from .workflow import doubt_lines, estimate_line

    if done.plan.estimate:
        print(estimate_line(done.signal))
    sizes = ", ".join(str(int(c)) for c in done.signal.clusterspy.result.counts)
    print(f"Cluster sizes: {sizes}")
    if done.counts is not None:
        print(f"Counts: {done.counts.message()}")
    if done.components is not None:
        print(
            f"Significant components: {done.components.n_components} "
            f"({done.components.method})"
        )
    for line in doubt_lines(done):
        print(line)
    if done.ari is not None:
        print(f"Adjusted Rand index against the true phases: {done.ari:.4f}")
    folder = done.folder
    print(f"Label map: {folder / 'cluster_labels.png'}")
    print(f"Overview: {folder / 'cluster_results.png'}")
    print(
        f"Result file: {done.result_file} (hs.load it, then s.clusterspy.result or "
        "s.clusterspy.get_cluster_labels())"
    )
    print(f"Report: {done.report} (open it in any browser)")
    print(f"All outputs ({plural(len(done.files), 'file')}): {folder}")


def _command_line(argv):
    return "clusterspy " + shlex.join(argv)


def _run(args, argv, parser):
    from .workflow import run_workflow

    say = _silent if args.quiet else _say
    done = run_workflow(
        args.file,
        output=args.output,
        signal_index=args.signal_index,
        lazy=args.lazy,
        command=_command_line(argv),
        say=say,
        **_options(args),
    )
    _print_results(done)
    say(f"Done in {done.seconds:.1f} s.")
    return 0


def _demo(args, argv, parser):
    import math

    from .workflow import check_demo, run_demo

    try:
        check_demo(args.shape, args.channels, args.phases)
    except UserError as err:
        parser.demo_parser.error(str(err))
    say = _silent if args.quiet else _say
    done = run_demo(
        output=args.output,
        shape=args.shape,
        channels=args.channels,
        phases=args.phases,
        command=_command_line(argv),
        say=say,
        **_options(args),
    )
    _print_results(done)
    say(f"Done in {done.seconds:.1f} s.")
    return 0 if math.isfinite(done.ari) else 1


def _say(*args):
    print(*args, flush=True)


def _silent(*args):
    pass


def main(argv=None):
    """Entry point of the ``clusterspy`` command; returns the exit code."""
    if argv is None:
        argv = sys.argv[1:]
    argv = [str(a) for a in argv]
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a one-line usage error
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 0
    # Headless: the command writes files, it never opens windows.
    import matplotlib

    matplotlib.use("Agg")
    from hyperspy.exceptions import VisibleDeprecationWarning

    command = _run if args.command == "run" else _demo
    try:
        with warnings.catch_warnings():
            # HyperSpy's deprecation notices address developers, not users.
            warnings.filterwarnings("ignore", category=VisibleDeprecationWarning)
            # So are the file readers' and writers' notices about their own
            # dependencies (zarr's deprecated stores, ...).
            warnings.filterwarnings("ignore", category=FutureWarning, module="rsciio")
            warnings.filterwarnings(
                "ignore", category=DeprecationWarning, module="rsciio"
            )
            return command(args, argv, parser)
    except SystemExit as exc:  # a usage error found after parsing
        return exc.code if isinstance(exc.code, int) else 2
    except UserError as err:
        sys.stdout.flush()
        print(f"clusterspy: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("clusterspy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
