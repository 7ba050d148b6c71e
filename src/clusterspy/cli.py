"""The ``clusterspy`` command line.

``clusterspy run FILE`` loads any file HyperSpy can read, optionally
decomposes it, estimates or takes the number of clusters, clusters the
navigation positions and writes an output folder: the result file, the
figures (PNG), the label map and cluster signals as data files (HyperSpy and
CSV) and a self-contained ``report.html``.

``clusterspy demo`` runs the same pipeline on a generated spectrum image with
known phases and reports how well the phases were recovered.

Errors in the input (a missing or unreadable file, bad options, an output
folder that cannot be created) are reported in one line,
``clusterspy: error: ...``, with exit code 2 and no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import re
import shlex
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = ["main"]

#: Names of the output files (``{fmt}`` is the result format).
RESULT_NAME = "result.{fmt}"
REPORT_NAME = "report.html"


class UserError(Exception):
    """An error in the user's input: reported in one line, without traceback."""


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


# Library parameter names, as the command line spells them: the library's
# validation messages are reused, with the option names the user typed.
_OPTION_NAMES = {
    "n_clusters": "--n-clusters",
    "max_clusters": "--max-clusters",
    "min_clusters": "--min-clusters",
    "metric": "--metric",
    "algorithm": "--algorithm",
    "preprocessing": "--preprocessing",
    "random_state": "--seed",
    "output_dimension": "--decomposition",
    "number_of_components": "--decomposition",
}


def _translate(message):
    def option(match):
        return _OPTION_NAMES.get(match.group(1), match.group(0))

    text = re.sub(r"`(\w+)`", option, str(message))
    return " ".join(text.split())  # one line


@contextlib.contextmanager
def _library_errors():
    """Report the library's parameter validation errors as user errors."""
    try:
        yield
    except (TypeError, ValueError) as err:
        raise UserError(_translate(err)) from None


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


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


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
  clusterspy run map.bcf --decomposition 5
      decompose (SVD, Poisson noise normalised), estimate the number of
      clusters with the gap statistic, cluster the 5 loadings with k-means;
      write map-clusterspy/
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
        type=_integer,
        metavar="N",
        help=(
            "decompose first (SVD; Poisson noise normalised when the data are "
            "non-negative) and keep N components (default: "
            + ("the number of phases" if demo else "no decomposition")
            + ")"
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
        default="gap",
        help=(
            "how --n-clusters auto chooses k: " + ", ".join(METRICS) + " "
            "(default: %(default)s)"
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
        "--preprocessing",
        default="norm",
        metavar="NAME",
        help=(
            "scaling of the features before clustering: none, "
            + ", ".join(PREPROCESSING_NAMES)
            + " (default: %(default)s: each position's features to unit length, "
            "so that clusters differ by composition, not by intensity)"
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
        type=_positive_int,
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
    return parser


# -- the options, checked before any work ------------------------------------------------


@dataclass
class _Plan:
    """The checked options of one analysis."""

    source: str
    decomposition: int | None
    estimate: bool
    n_clusters: int | None
    metric: str
    min_clusters: int
    max_clusters: int
    preprocessing: str | None
    algorithm: str
    seed: int
    format: str
    show_progressbar: bool | None


def _check_options(args):
    """Validate every option with the library's own checks; return a plan."""
    from .algorithms import _NO_N_CLUSTERS, canonical_name, make_estimator
    from .estimate import METRICS, _estimator_factory, _metric_ks
    from .preprocessing import make_preprocessor
    from .validation import check_choice, check_int, check_random_state_seed

    with _library_errors():
        seed = check_random_state_seed(args.seed)
        metric = check_choice(args.metric, "metric", METRICS)
        preprocessing = args.preprocessing
        if preprocessing.lower() == "none":
            preprocessing = None
        make_preprocessor(preprocessing)
        decomposition = args.decomposition
        if decomposition is not None:
            decomposition = check_int(decomposition, "output_dimension", minimum=1)
        source = args.source or ("signal" if decomposition is None else "decomposition")
        algorithm = canonical_name(args.algorithm)
        auto = args.n_clusters == "auto"
        n_clusters = None
        estimate = auto and algorithm not in _NO_N_CLUSTERS
        min_clusters = check_int(args.min_clusters, "min_clusters", minimum=1)
        max_clusters = check_int(args.max_clusters, "max_clusters", minimum=1)
        if estimate:
            if max_clusters < min_clusters:
                raise ValueError(
                    f"`max_clusters` must be >= `min_clusters` ({min_clusters}), "
                    f"not {max_clusters}."
                )
            if args.algorithm is None and metric in ("bic", "aic"):
                algorithm = "gaussian_mixture"
            _metric_ks(metric, min_clusters, max_clusters)
            _estimator_factory(algorithm, {}, seed, metric, 2)
        elif not auto:
            n_clusters = check_int(args.n_clusters, "n_clusters", minimum=1)
            make_estimator(algorithm, {"n_clusters": n_clusters}, seed)
    return _Plan(
        source=source,
        decomposition=decomposition,
        estimate=estimate,
        n_clusters=n_clusters,
        metric=metric,
        min_clusters=min_clusters,
        max_clusters=max_clusters,
        preprocessing=preprocessing,
        algorithm=algorithm,
        seed=seed,
        format=args.format,
        show_progressbar=False if args.quiet else None,
    )


@contextlib.contextmanager
def _output_folder(path):
    """Create the output folder; remove it again if it stays empty on error."""
    path = Path(path)
    existed = path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        reason = err.strerror or str(err)
        raise UserError(
            f"cannot create the output folder {str(path)!r}: {reason}"
        ) from None
    try:
        yield path
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                path.rmdir()  # only if still empty
        raise


@contextlib.contextmanager
def _hyperspy_log(level):
    logger = logging.getLogger("hyperspy")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


# -- loading -------------------------------------------------------------------------------


def _describe_signal(s):
    am = s.axes_manager
    nav = ", ".join(str(n) for n in am.navigation_shape)
    sig = ", ".join(str(n) for n in am.signal_shape)
    title = s.metadata.General.title
    return f"{type(s).__name__} {title!r} ({nav}|{sig})"


def _known_extensions():
    try:
        from rsciio import IO_PLUGINS
    except ImportError:  # pragma: no cover - a dependency of HyperSpy
        return set()
    return {e.lower() for p in IO_PLUGINS for e in p.get("file_extensions", ())}


def _load(path, signal_index, lazy):
    """Load ``path`` and pick the signal to cluster; return ``(signal, info)``."""
    import hyperspy.api as hs

    path = Path(path)
    if not path.exists():
        raise UserError(f"no such file: {str(path)!r}")
    # HyperSpy logs its attempts (and Numba's absence) while loading; a file
    # it cannot read is reported below, in one line.
    with _hyperspy_log(logging.CRITICAL + 1):
        try:
            loaded = hs.load(path, lazy=lazy)
        except Exception as err:  # any reader's error: the file is unreadable
            extension = path.suffix.lower().lstrip(".")
            if path.is_file() and extension not in _known_extensions():
                reason = (
                    f"'.{extension}' is not"
                    if extension
                    else "files without an extension are not"
                ) + " a format HyperSpy can read"
            else:
                reason = f"HyperSpy could not read it: {_translate(err)}"
            raise UserError(f"cannot read {str(path)!r}: {reason}") from None
    signals = loaded if isinstance(loaded, list) else [loaded]
    if not signals:
        raise UserError(f"{str(path)!r} holds no signal")
    listing = "; ".join(f"[{i}] {_describe_signal(s)}" for i, s in enumerate(signals))
    if signal_index is not None:
        n = len(signals)
        if not -n <= signal_index < n:
            raise UserError(
                f"--signal-index {signal_index} is out of range: {str(path)!r} "
                f"holds {n} signal(s): {listing}"
            )
        index = signal_index % n
        if signals[index].axes_manager.navigation_dimension < 1:
            raise UserError(
                f"signal {index} of {str(path)!r}, {_describe_signal(signals[index])}, "
                "has no navigation axes to cluster; choose a spectrum image, line "
                f"scan or image stack: {listing}"
            )
    else:
        candidates = [
            i for i, s in enumerate(signals) if s.axes_manager.navigation_dimension >= 1
        ]
        if not candidates:
            raise UserError(
                f"{str(path)!r} holds no signal with navigation axes (a spectrum "
                f"image, line scan or image stack) to cluster: {listing}"
            )

        def size(i):
            am = signals[i].axes_manager
            return am.navigation_size * max(am.signal_size, 1)

        index = max(candidates, key=size)  # the first of the largest
    signal = signals[index]
    info = {
        "file": str(path),
        "signal": _describe_signal(signal),
        "signal index": f"{index} of {len(signals)}",
        "dtype": str(signal.data.dtype),
        "lazy": bool(lazy),
    }
    return signal, info


# -- the pipeline ------------------------------------------------------------------------------


def _decompose(signal, plan, say):
    import numpy as np

    from ._utils.progress import progress as _progress

    n = plan.decomposition
    if signal.data.dtype.kind in "biu":  # HyperSpy decomposes float data only
        signal.change_dtype("float32")
    with _progress(plan.show_progressbar):
        minimum = signal.data.min()
        if hasattr(minimum, "compute"):
            minimum = minimum.compute()
    poisson = bool(np.isfinite(minimum) and minimum >= 0)
    say(
        f"Decomposition: SVD, {n} components"
        + (
            ", Poisson noise normalised..."
            if poisson
            else " (data < 0: no Poisson normalisation)..."
        )
    )
    with _library_errors(), _progress(plan.show_progressbar):
        signal.decomposition(
            normalize_poissonian_noise=poisson, output_dimension=n, print_info=False
        )
    return {
        "algorithm": "SVD",
        "output_dimension": n,
        "normalize_poissonian_noise": poisson,
        "dtype": str(signal.data.dtype),
    }


def _analyse(signal, plan, say):
    """Decompose, estimate k and cluster; return the report's parameter tables."""
    from .algorithms import _NO_N_CLUSTERS

    info = {}
    if plan.decomposition is not None:
        info["Decomposition"] = _decompose(signal, plan, say)
    n_components = None
    if plan.source == "decomposition":
        n_components = plan.decomposition
        if (
            n_components is None
            and getattr(signal.learning_results, "factors", None) is None
        ):
            raise UserError(
                "--source decomposition needs --decomposition N (or a file that "
                "holds a decomposition)"
            )
    common = {
        "number_of_components": n_components,
        "preprocessing": plan.preprocessing,
        "algorithm": plan.algorithm,
        "random_state": plan.seed,
        "show_progressbar": plan.show_progressbar,
    }
    k = plan.n_clusters
    if plan.estimate:
        say(
            f"Estimating the number of clusters: {plan.metric}, k = "
            f"{plan.min_clusters}..{plan.max_clusters}..."
        )
        with _library_errors():
            k = signal.clusterspy.estimate_number_of_clusters(
                plan.source,
                max_clusters=plan.max_clusters,
                min_clusters=plan.min_clusters,
                metric=plan.metric,
                **common,
            )
    features = (
        f"{n_components or 'the'} decomposition components"
        if plan.source == "decomposition"
        else "the signal"
    )
    say(
        f"Cluster analysis: {plan.algorithm} on {features}, preprocessing "
        f"{plan.preprocessing or 'none'}"
        + (f", k = {k}" if k is not None else "")
        + "..."
    )
    kwargs = {} if plan.algorithm in _NO_N_CLUSTERS else {"n_clusters": k}
    with _library_errors():
        signal.clusterspy.cluster_analysis(plan.source, **common, **kwargs)
    return info


# -- outputs -----------------------------------------------------------------------------------

_DESCRIPTIONS = {
    "cluster_results.png": "overview figure",
    "cluster_labels.png": "label map and the members of each cluster",
    "cluster_signals_mean.png": "mean signal of each cluster",
    "cluster_distances.png": "distance of every position to each cluster centre",
    "cluster_membership.png": "soft membership maps",
    "cluster_metric.png": "number-of-clusters metric curve",
    "cluster_labels.{fmt}": "label map (-1 noise, -2 masked)",
    "cluster_signals_mean.{fmt}": "mean signal of each cluster",
    "cluster_distances.{fmt}": "distance of every position to each cluster centre",
    "cluster_membership.{fmt}": "soft memberships",
    "cluster_labels.csv": "label map, one row per line of the map (y), one column per x",
    "cluster_sizes.csv": "members of each cluster",
    "cluster_signals_mean.csv": "mean signal of each cluster",
    "summary.json": "parameters, versions and results, for scripts",
    "result.{fmt}": "the analysed signal with every result: "
    "hs.load(path).clusterspy.result",
}
_FIGURE_KEYS = {
    "cluster_results.png": "overview",
    "cluster_metric.png": "metric",
    "cluster_labels.png": "labels",
    "cluster_signals_mean.png": "signals",
    "cluster_distances.png": "distances",
    "cluster_membership.png": "membership",
}


def _number(value):
    return repr(float(value))


def _axis_header(axis):
    name = axis.name if isinstance(axis.name, str) and axis.name else "channel"
    units = axis.units if isinstance(axis.units, str) and axis.units else ""
    return f"{name} ({units})" if units else name


def _write_csvs(signal, result, folder):
    """Label map, cluster sizes and mean signals as CSV; return the paths."""
    import numpy as np

    from .results import MASKED, NOISE

    paths = []
    path = folder / "cluster_labels.csv"
    nx = int(result.navigation_shape[0])
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(result.labels.reshape(-1, nx).tolist())
    paths.append(path)

    path = folder / "cluster_sizes.csv"
    total = result.labels.size
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "name", "count", "fraction"])
        for i, count in enumerate(result.counts):
            writer.writerow([i, f"cluster {i}", int(count), _number(count / total)])
        for label, name in ((NOISE, "noise"), (MASKED, "masked")):
            count = int(np.count_nonzero(result.labels == label))
            if count:
                writer.writerow([label, name, count, _number(count / total)])
    paths.append(path)

    path = folder / "cluster_signals_mean.csv"
    mean = np.asarray(result.signal_mean, dtype=float)
    k = result.n_clusters
    axes = signal.axes_manager.signal_axes
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        if len(axes) == 1 and mean.ndim == 2:
            # One row per channel: the axis, then one column per cluster.
            writer.writerow(
                [_axis_header(axes[0])] + [f"cluster {i}" for i in range(k)]
            )
            for value, row in zip(axes[0].axis, mean.T, strict=True):
                writer.writerow([_number(value)] + [_number(v) for v in row])
        else:
            # One row per cluster: the signal's values in data order.
            flat = mean.reshape(k, -1)
            writer.writerow(["cluster"] + [f"value {j}" for j in range(flat.shape[1])])
            for i, row in enumerate(flat):
                writer.writerow([i] + [_number(v) for v in row])
    paths.append(path)
    return paths


def _write_outputs(signal, plan, folder, info, title, command, say):
    """Write every output file; return ``(paths, report path, result path)``."""
    import matplotlib.pyplot as plt

    from .estimate import get_cluster_metric
    from .export import export_cluster_results
    from .report import metric_figure, write_report
    from .results import get_cluster_result

    fmt = plan.format
    say(f"Writing the results into {folder}/...")
    result = get_cluster_result(signal)
    written = []
    try:
        result_path = folder / RESULT_NAME.format(fmt=fmt)
        quiet = {} if plan.show_progressbar is None else {"show_progressbar": False}
        signal.save(result_path, overwrite=True, **quiet)
        written.append(result_path)
        written += export_cluster_results(
            signal,
            folder,
            formats=("png",),
            signal_kinds=("mean",),
            signal_format=fmt,
            dpi=100,
            overwrite=True,
        )
        metric = None
        if plan.estimate:
            metric = get_cluster_metric(signal)
            fig = metric_figure(signal)
            path = folder / "cluster_metric.png"
            try:
                fig.savefig(path, dpi=100)
            finally:
                plt.close(fig)
            written.append(path)
        written += _write_csvs(signal, result, folder)

        summary = {
            "command": command,
            "title": title,
            "n_clusters": int(result.n_clusters),
            "counts": [int(c) for c in result.counts],
            "noise": result.noise_count,
            "masked": result.masked_count,
            "info": info,
            "parameters": result.parameters,
            "versions": result.versions,
        }
        if metric is not None:
            summary["estimate"] = {
                "metric": metric.metric,
                "n_clusters": int(metric.n_clusters),
                "rule": metric.rule,
                "ks": [int(k) for k in metric.ks],
                "values": [float(v) for v in metric.values],
                "errors": None
                if metric.errors is None
                else [float(v) for v in metric.errors],
                "parameters": metric.parameters,
            }
        path = folder / "summary.json"
        summary["files"] = [p.name for p in written] + [path.name, REPORT_NAME]
        path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
        written.append(path)

        figures = {_FIGURE_KEYS[p.name]: p for p in written if p.name in _FIGURE_KEYS}
        files = [
            (p.name, _DESCRIPTIONS.get(p.name.replace(f".{fmt}", ".{fmt}"), ""))
            for p in written
        ]
        report = write_report(
            signal,
            folder / REPORT_NAME,
            figures=figures,
            title=title,
            info=info,
            files=files,
            command=command,
            metric=plan.estimate,
        )
        written.append(report)
    except OSError as err:
        where = getattr(err, "filename", None) or folder
        raise UserError(
            f"cannot write the results into {str(folder)!r} ({where}): "
            f"{err.strerror or err}"
        ) from None
    return written, report, result_path


def _estimate_line(signal):
    """The printed line of a number-of-clusters estimate."""
    from .estimate import get_cluster_metric

    metric = get_cluster_metric(signal)
    first, last = int(metric.ks[0]), int(metric.ks[-1])
    text = (
        f"Number of clusters: {metric.n_clusters}, estimated with {metric.metric} "
        f"({metric.rule}) for k = {first}..{last}"
    )
    if metric.n_clusters == last and last > first:
        text += (
            f" (note: the largest k tried: the {metric.metric} curve has no clear "
            "optimum in this range; try another --metric or a larger "
            "--max-clusters, and judge the clusters by eye)"
        )
    return text


def _finish(signal, plan, folder, info, title, command, say):
    """Write the outputs and print the results."""
    written, report, result_path = _write_outputs(
        signal, plan, folder, info, title, command, say
    )
    if plan.estimate:
        print(_estimate_line(signal))
    sizes = ", ".join(str(int(c)) for c in signal.clusterspy.result.counts)
    print(f"Cluster sizes: {sizes}")
    return written, report, result_path


def _print_paths(folder, written, report, result_path):
    print(f"Label map: {folder / 'cluster_labels.png'}")
    print(f"Overview: {folder / 'cluster_results.png'}")
    print(
        f"Result file: {result_path} (hs.load it, then s.clusterspy.result or "
        "s.clusterspy.get_cluster_labels())"
    )
    print(f"Report: {report} (open it in any browser)")
    print(f"All outputs ({len(written)} files): {folder}")


def _command_line(argv):
    return "clusterspy " + shlex.join(argv)


# -- commands ------------------------------------------------------------------------------------


def _run(args, argv):
    start = time.perf_counter()
    plan = _check_options(args)
    say = (lambda *a: None) if args.quiet else _say
    path = Path(args.file)
    output = args.output or f"{path.stem or 'data'}-clusterspy"
    with _output_folder(output) as folder:
        say(f"Loading {path}...")
        signal, data_info = _load(path, args.signal_index, args.lazy)
        say(f"Signal: {data_info['signal']}")
        info = {"Data": data_info}
        info.update(_analyse(signal, plan, say))
        written, report, result_path = _finish(
            signal,
            plan,
            folder,
            info,
            title=path.name,
            command=_command_line(argv),
            say=say,
        )
    _print_paths(folder, written, report, result_path)
    say(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0


def _demo(args, argv):
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from . import datasets

    start = time.perf_counter()
    if args.decomposition is None:
        args.decomposition = args.phases
    plan = _check_options(args)
    say = (lambda *a: None) if args.quiet else _say
    with _output_folder(args.output) as folder:
        nx, ny = args.shape
        say(
            f"Generating a {nx}x{ny}x{args.channels} spectrum image with "
            f"{args.phases} phases..."
        )
        signal, truth = datasets.spectrum_image(
            shape=(nx, ny),
            n_channels=args.channels,
            n_phases=args.phases,
            return_truth=True,
            random_state=args.seed,
        )
        info = {
            "Data": {
                "data": f"generated with clusterspy.datasets.spectrum_image, seed "
                f"{args.seed}",
                "signal": _describe_signal(signal),
                "true phases": args.phases,
            }
        }
        info.update(_analyse(signal, plan, say))
        ari = adjusted_rand_score(truth.ravel(), signal.clusterspy.result.labels)
        info["Data"]["adjusted Rand index vs truth"] = f"{ari:.4f}"
        written, report, result_path = _finish(
            signal,
            plan,
            folder,
            info,
            title=signal.metadata.General.title,
            command=_command_line(argv),
            say=say,
        )
    print(f"Adjusted Rand index against the true phases: {ari:.4f}")
    _print_paths(folder, written, report, result_path)
    say(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0 if np.isfinite(ari) else 1


def _say(*args):
    print(*args, flush=True)


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
            return command(args, argv)
    except UserError as err:
        sys.stdout.flush()
        print(f"clusterspy: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("clusterspy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
