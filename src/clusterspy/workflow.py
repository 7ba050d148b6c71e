"""The workflow of the command line: load, decompose, estimate, cluster, write.

:func:`run_workflow` is what ``clusterspy run FILE`` does, and
:func:`run_demo` what ``clusterspy demo`` does, as plain functions that the
command line, scripts and tests share: every option is checked first
(:func:`plan_workflow`), then the file is loaded (:func:`load_signal`),
optionally decomposed, the number of clusters estimated or taken, the
navigation positions clustered, and every output file written
(:func:`clusterspy.outputs.write_outputs`) into a staging folder that
becomes the output folder only once it is complete.

Errors in the input are raised as :class:`UserError`, one line phrased with
the command-line option names (``--max-clusters``, ...), which the command
prints as ``clusterspy: error: ...``. Progress messages go to ``say``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "UserError",
    "WorkflowPlan",
    "WorkflowResult",
    "doubt_lines",
    "estimate_line",
    "load_signal",
    "plan_workflow",
    "run_demo",
    "run_workflow",
]


class UserError(Exception):
    """An error in the user's input: reported in one line, without traceback."""


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
    "source": "--source",
    "format": "--format",
    "min_counts": "--min-counts",
    "shape": "--shape",
    "channels": "--channels",
    "phases": "--phases",
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
    except (TypeError, ValueError, ImportError) as err:
        raise UserError(_translate(err)) from None


@dataclass(frozen=True)
class WorkflowPlan:
    """The checked options of one workflow run (see :func:`plan_workflow`)."""

    source: str | None
    decomposition: int | str | None
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
    min_counts: int | str | None = "default"


def plan_workflow(
    *,
    decomposition="default",
    source=None,
    n_clusters="auto",
    metric="auto",
    min_clusters=1,
    max_clusters=10,
    preprocessing="default",
    algorithm=None,
    seed=0,
    format="hspy",
    quiet=False,
    min_counts="default",
):
    """Check the workflow's options with the library's own checks; no work.

    The options are those of ``clusterspy run`` (see :func:`run_workflow`).
    ``decomposition``: an int (that many components), ``"auto"`` (the
    significant components of a Poisson-normalised SVD), ``"none"``/None
    (cluster the data), or ``"default"``: ``"auto"`` for count data and
    data with more than 30 channels, none otherwise (decided once the data
    are loaded). ``min_counts``: an int,
    None, or ``"default"`` (1 for count data: empty positions masked).
    ``preprocessing``: a name, None, or ``"default"`` (none for count data
    clustered on their Poisson-normalised components, ``"norm"`` otherwise).

    Returns
    -------
    WorkflowPlan

    Raises
    ------
    UserError
        A bad option, in one line that names the command-line option.

    Examples
    --------
    >>> from clusterspy.workflow import plan_workflow
    >>> plan = plan_workflow(decomposition=3, n_clusters=4)
    >>> plan.source, plan.n_clusters, plan.estimate
    ('decomposition', 4, False)
    """
    from ._fallback import require_zspy
    from .algorithms import _NO_N_CLUSTERS, canonical_name, make_estimator
    from .counts import check_min_counts
    from .estimate import METRICS, _estimator_factory, _metric_ks
    from .preprocessing import make_preprocessor
    from .validation import check_choice, check_int, check_random_state_seed

    with _library_errors():
        if format not in ("hspy", "zspy"):
            raise ValueError(f"`format` must be 'hspy' or 'zspy', not {format!r}.")
        if format == "zspy":
            require_zspy("--format zspy")
        seed = check_random_state_seed(seed)
        metric = check_choice(metric, "metric", METRICS + ("auto",))
        if isinstance(preprocessing, str) and preprocessing.lower() == "none":
            preprocessing = None
        if preprocessing != "default":
            make_preprocessor(preprocessing)
        decomposition = _check_decomposition(decomposition)
        if min_counts != "default":
            min_counts = check_min_counts(min_counts)
        if source is not None:
            source = check_choice(source, "source", ("signal", "decomposition"))
        if source is None and decomposition != "default":
            source = "signal" if decomposition is None else "decomposition"
        requested_algorithm = algorithm
        algorithm = canonical_name(algorithm)
        auto = isinstance(n_clusters, str) and n_clusters == "auto"
        given = n_clusters
        n_clusters = None
        estimate = auto and algorithm not in _NO_N_CLUSTERS
        min_clusters = check_int(min_clusters, "min_clusters", minimum=1)
        max_clusters = check_int(max_clusters, "max_clusters", minimum=1)
        if estimate:
            if max_clusters < min_clusters:
                raise ValueError(
                    f"`max_clusters` must be >= `min_clusters` ({min_clusters}), "
                    f"not {max_clusters}."
                )
            if requested_algorithm is None and metric in ("bic", "aic"):
                algorithm = "gaussian_mixture"
            if metric == "auto" and algorithm not in (None, "kmeans"):
                raise ValueError(
                    "`metric`='auto' chooses k with k-means; pass another "
                    f"`metric` with `algorithm`={requested_algorithm!r}."
                )
            _metric_ks(metric, min_clusters, max_clusters)
            _estimator_factory(algorithm, {}, seed, metric, 2)
        elif not auto:
            n_clusters = check_int(given, "n_clusters", minimum=1)
            make_estimator(algorithm, {"n_clusters": n_clusters}, seed)
    return WorkflowPlan(
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
        format=format,
        show_progressbar=False if quiet else None,
        min_counts=min_counts,
    )


def _check_decomposition(decomposition):
    """An int, ``"auto"``, ``"default"`` or None (``"none"``)."""
    from .validation import check_int

    if isinstance(decomposition, str):
        text = decomposition.strip().lower()
        if text in ("auto", "default"):
            return text
        if text == "none":
            return None
        try:
            decomposition = int(text)
        except ValueError:
            raise ValueError(
                "`output_dimension` must be 'auto', 'none' or a positive integer, "
                f"not {decomposition!r}."
            ) from None
    if decomposition is None:
        return None
    return check_int(decomposition, "output_dimension", minimum=1)


@contextlib.contextmanager
def _hyperspy_log(level):
    logger = logging.getLogger("hyperspy")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


# -- loading ---------------------------------------------------------------------------


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


def load_signal(path, signal_index=None, lazy=False):
    """Load ``path`` and pick the signal to cluster; return ``(signal, info)``.

    Of a file holding several signals (a Bruker ``.bcf``: an image and the
    spectrum image), ``signal_index`` picks one as ``hs.load(path)[i]``;
    by default the largest with navigation axes. ``info`` describes the
    file and the signal for the report.

    Raises
    ------
    UserError
        A missing or unreadable file, or no signal to cluster.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import clusterspy
    >>> from clusterspy.workflow import load_signal
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 6), n_channels=16)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     s.save(pathlib.Path(folder) / "map.hspy")
    ...     loaded, info = load_signal(pathlib.Path(folder) / "map.hspy")
    >>> info["signal index"]
    '0 of 1'
    """
    signal, info, _ = _load(path, signal_index, lazy)
    return signal, info


def _load(path, signal_index=None, lazy=False):
    """:func:`load_signal`, and every signal of the file (for the report's
    reference image)."""
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
    return signal, info, signals


# -- the analysis --------------------------------------------------------------------------


# Components HyperSpy computes for --decomposition auto, at most: the choice
# is made among them. Fewer than 80 % of the smaller side, so that HyperSpy
# uses a randomized SVD: the full SVD of a 100 x 100 x 2048 map costs 45 s of
# CPU, the 30 leading components a few seconds.
AUTO_COMPONENTS = 30


def _decompose_by_default(signal, counts):
    """Whether ``--decomposition`` defaults to ``"auto"`` for this signal.

    Count data always (the Poisson split rule works on the significant
    components); other data when they have more channels than
    ``AUTO_COMPONENTS``: distances and the metrics over hundreds of noisy
    channels measure the noise (the gap statistic of a 20 x 20 x 1015 Raman
    map on its raw spectra rose to k = 10; on its significant components
    the metrics answer 1-5). RGB images and a few channels are clustered as
    they are.
    """
    import numpy as np

    if np.dtype(signal.data.dtype).names is not None:  # RGB(A)
        return False
    return counts or signal.axes_manager.signal_size > AUTO_COMPONENTS


def _resolve_defaults(signal, plan):
    """The options that depend on the data: decompose (``"auto"``, for count
    data and data with many channels) and, for count data, mask the empty
    positions (``min_counts=1``)."""
    import dataclasses

    from .counts import is_count_data

    counts = is_count_data(signal)
    decomposition = plan.decomposition
    if decomposition == "default":
        decomposition = "auto" if _decompose_by_default(signal, counts) else None
    min_counts = plan.min_counts
    if min_counts == "default":
        min_counts = 1 if counts else None
    source = plan.source or ("signal" if decomposition is None else "decomposition")
    preprocessing = plan.preprocessing
    if preprocessing == "default":
        # Count data decomposed with the Poisson normalisation are already on
        # the noise's scale, and the automatic k (the Poisson split rule)
        # validates the partition k-means finds on those loadings as they
        # are: scaling each position to unit length again changes it (on the
        # 30 x 30 EDS map the 26-pixel apatite grain, 18 x the P Ka of any
        # other cluster, was merged into a silicate). Other data: "norm",
        # so that clusters differ by composition, not by intensity.
        poisson_loadings = counts and source == "decomposition"
        preprocessing = None if poisson_loadings else "norm"
    plan = dataclasses.replace(
        plan, decomposition=decomposition, min_counts=min_counts, source=source,
        preprocessing=preprocessing,
    )
    return plan, counts


def _decompose(signal, plan, say):
    import numpy as np

    from ._utils.progress import progress as _progress
    from .plotting.elements import plural

    n = plan.decomposition
    if n == "auto":
        am = signal.axes_manager
        n = min(AUTO_COMPONENTS, am.navigation_size, am.signal_size)
    if signal.data.dtype.kind in "biu":  # HyperSpy decomposes float data only
        signal.change_dtype("float32")
    with _progress(plan.show_progressbar):
        minimum = signal.data.min()
        if hasattr(minimum, "compute"):
            minimum = minimum.compute()
    poisson = bool(np.isfinite(minimum) and minimum >= 0)
    what = (
        f"the significant components of the first {n}"
        if plan.decomposition == "auto"
        else plural(n, "component")
    )
    say(
        f"Decomposition: SVD, {what}"
        + (
            ", Poisson noise normalised..."
            if poisson
            else " (data < 0: no Poisson normalisation)..."
        )
    )
    counts = poisson and plan.min_counts is not None
    mask = None
    if counts:
        from .counts import low_count_mask

        # The positions min_counts leaves out are not decomposed either: empty
        # pixels carry no phase information (and make most of a sparse map).
        low = low_count_mask(signal, plan.min_counts)
        mask = low.T if low.any() else None
    # HyperSpy's randomized SVD (a few leading components) is unseeded: the
    # loadings, the significant components and k then vary from run to run
    # (the 30 x 30 EDS map gave k = 8 once in a series of k = 7). --seed
    # seeds it; the full SVD ignores the argument.
    seeded = {} if signal._lazy else {"random_state": plan.seed}
    with _library_errors(), _progress(plan.show_progressbar):
        signal.decomposition(
            normalize_poissonian_noise=poisson,
            output_dimension=n,
            navigation_mask=mask,
            print_info=False,
            **seeded,
        )
        if counts and not signal._lazy:
            # HyperSpy scales the data in place and back for the Poisson
            # normalisation, which leaves errors of a few ulps: counts are
            # whole numbers again, as in the file.
            np.rint(signal.data, out=signal.data)
    return {
        "algorithm": "SVD",
        "output_dimension": n,
        "normalize_poissonian_noise": poisson,
        "dtype": str(signal.data.dtype),
    }


def _lazy_pca(signal, plan, say):
    """The decomposition of lazy data: clusterspy's ``"pca"`` source.

    HyperSpy's lazy ``decomposition()`` runs a randomized SVD without power
    iterations or a seed (inaccurate loadings, memory beyond the map's size
    on large maps, issue 22); :class:`clusterspy.PCA` decomposes over the
    data's own tiles in a few passes. Same components (an int or ``"auto"``)
    and the same Poisson normalisation rule as :func:`_decompose`.
    """
    import numpy as np

    from ._utils.progress import progress as _progress
    from .pca import PCA

    with _progress(plan.show_progressbar):
        minimum = signal.data.min()
        if hasattr(minimum, "compute"):
            minimum = minimum.compute()
    poisson = bool(np.isfinite(minimum) and minimum >= 0)
    seed = plan.seed if isinstance(plan.seed, int) else 0
    source = PCA(normalize_poissonian_noise=poisson, random_state=seed)
    what = (
        "the significant components"
        if plan.decomposition == "auto"
        else f"{plan.decomposition} components"
    )
    say(
        f"Decomposition: lazy data, so clusterspy's PCA (cluster_source='pca', "
        f"randomized SVD over the data's tiles) instead of HyperSpy's lazy "
        f"decomposition, {what}"
        + (
            ", Poisson noise normalised..."
            if poisson
            else " (data < 0: no Poisson normalisation)..."
        )
    )
    info = {
        "algorithm": "PCA (clusterspy, cluster_source='pca', lazy)",
        "output_dimension": plan.decomposition,
        "normalize_poissonian_noise": poisson,
        "random_state": seed,
    }
    return source, info


def _pca_choice(signal):
    """The :class:`ComponentChoice` the ``"pca"`` source recorded for "auto"."""
    import numpy as np

    from .components import ComponentChoice

    model = (signal.clusterspy.result.parameters.get("pca") or {}).get("model") or {}
    choice = model.get("choice")
    if not choice:
        return None
    return ComponentChoice(
        int(choice["n_components"]),
        choice["method"],
        choice["threshold"],
        np.asarray(model["explained_variance"]),
        bool(choice["at_least"]),
    )


@dataclass
class _Choices:
    """What the automatic choices of a run found (see :class:`WorkflowResult`)."""

    components: object = None
    counts: object = None
    metric: object = None
    mixtures: object = None
    warnings: list = field(default_factory=list)


@contextlib.contextmanager
def _doubts(found):
    """Collect the library's doubtful warnings into ``found.warnings``.

    Printed by the command as ``warning: ...`` lines and passed to the
    report; other warnings are passed on unchanged.
    """
    import warnings

    from .exceptions import DoubtfulEstimateWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DoubtfulEstimateWarning)
        try:
            yield
        finally:
            others = []
            for w in caught:
                if issubclass(w.category, DoubtfulEstimateWarning):
                    text = str(w.message)
                    if text not in found.warnings:
                        found.warnings.append(text)
                else:
                    others.append(w)
    for w in others:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _report_evidence(found):
    """The report's extras from the automatic choices: the doubts, and every
    metric's curve side by side (from the automatic estimate's ``curves``)."""
    from dataclasses import replace

    out = {"warnings": list(found.warnings)} if found.warnings else {}
    if found.mixtures is not None:
        out["mixtures"] = found.mixtures
    metric = found.metric
    curves = getattr(metric, "curves", None) or {}
    if not curves:
        return out
    choices = metric.metric_choices or {}
    metrics = {"automatic rule": metric}
    # (name in the report, curve, error bars, rule)
    for name, key, errors, rule in (
        ("elbow", "log_w", None, "knee of log W(k)"),
        ("silhouette", "silhouette", None, "largest mean silhouette"),
        ("gap", "gap", "gap_s", "smallest k with Gap(k) >= Gap(k+1) - s(k+1)"),
    ):
        if key in curves:
            metrics[name] = replace(
                metric,
                metric=name,
                values=curves[key],
                errors=curves.get(errors) if errors else None,
                n_clusters=int(choices.get(name, metric.n_clusters)),
                rule=rule,
                details={},
                curves={},
                metric_choices={},
                doubts=[],
            )
    out["metrics"] = metrics
    return out


def _count_summary(signal, plan, say, found):
    from .counts import count_summary

    with _library_errors():
        found.counts = count_summary(signal, plan.min_counts)
    say(f"Counts: {found.counts.message()}")
    return {
        "counts per position": found.counts.message(),
        "min_counts": plan.min_counts,
    }


def _analyse(signal, plan, say, found):
    """Decompose, estimate k and cluster; return the report's parameter tables
    and the plan with the data-dependent defaults resolved."""
    from .algorithms import _NO_N_CLUSTERS
    from .plotting.elements import plural as _plural

    info = {}
    plan, counts = _resolve_defaults(signal, plan)
    cluster_source = plan.source
    lazy_pca = (
        signal._lazy
        and plan.decomposition is not None
        and plan.source == "decomposition"
    )
    if lazy_pca:
        cluster_source, info["Decomposition"] = _lazy_pca(signal, plan, say)
    elif plan.decomposition is not None:
        info["Decomposition"] = _decompose(signal, plan, say)
    if counts:
        info["Counts"] = _count_summary(signal, plan, say, found)
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
        "min_counts": plan.min_counts,
    }
    if n_components == "auto" and not lazy_pca:  # "pca" chooses its own
        from .estimate.auto import significant_components

        with _library_errors():
            found.components = significant_components(signal)
        info["Decomposition"]["significant components"] = (
            f"{found.components.n_components} ({found.components.method})"
        )
        say(
            f"Significant components: {found.components.n_components} "
            f"({found.components.method})"
        )
    k = plan.n_clusters
    # The automatic k inside cluster_analysis (n_clusters="auto"): the final
    # k-means then starts from the partition the rule checked, instead of
    # a new k-means++ start that may find other clusters.
    auto_inside = (
        plan.estimate
        and plan.metric == "auto"
        and plan.min_clusters == 1
        and plan.algorithm in (None, "kmeans")
        and not lazy_pca
    )
    if plan.estimate:
        from .estimate import get_cluster_metric

        say(
            f"Estimating the number of clusters: {plan.metric}, k = "
            f"{plan.min_clusters}..{plan.max_clusters}..."
        )
        with _library_errors():
            if auto_inside:
                signal.clusterspy.cluster_analysis(
                    cluster_source, n_clusters="auto",
                    max_clusters=plan.max_clusters, **common,
                )
                k = signal.clusterspy.result.n_clusters
            else:
                k = signal.clusterspy.estimate_number_of_clusters(
                    cluster_source,
                    max_clusters=plan.max_clusters,
                    min_clusters=plan.min_clusters,
                    metric=plan.metric,
                    **common,
                )
        found.metric = get_cluster_metric(signal)
    used = n_components
    if found.components is not None:
        used = found.components.n_components
    if lazy_pca:
        features = (
            "the significant principal components (clusterspy PCA)"
            if used == "auto"
            else _plural(used, "principal component") + " (clusterspy PCA)"
        )
    else:
        features = (
            (
                _plural(used, "decomposition component")
                if used
                else "the decomposition components"
            )
            if plan.source == "decomposition"
            else "the signal"
        )
    say(
        f"Cluster analysis: {plan.algorithm} on {features}, preprocessing "
        f"{plan.preprocessing or 'none'}"
        + (f", k = {k}" if k is not None else "")
        + (_started_from(signal) if auto_inside else "...")
    )
    kwargs = {} if plan.algorithm in _NO_N_CLUSTERS else {"n_clusters": k}
    if not auto_inside:
        with _library_errors():
            signal.clusterspy.cluster_analysis(cluster_source, **common, **kwargs)
    found.mixtures = _say_mixtures(signal, say)
    if lazy_pca and n_components == "auto":
        found.components = _pca_choice(signal)
        if found.components is not None:
            info["Decomposition"]["significant components"] = (
                f"{found.components.n_components} ({found.components.method})"
            )
            say(
                f"Significant components: {found.components.n_components} "
                f"({found.components.method})"
            )
    return info, plan


def _say_mixtures(signal, say):
    """Name the clusters within tolerance of a mix of the others (count data)."""
    from .mixtures import get_cluster_mixtures

    if signal.clusterspy.result.n_clusters < 2:
        return None
    mixtures = get_cluster_mixtures(signal)
    for c in mixtures.mixture_like:
        say(f"Mixture-like: {mixtures.describe(c)}; consider merging it")
    return mixtures  # the report shows the same table: computed once


def _started_from(signal):
    """How the automatic k's clustering started, as the result recorded it."""
    choice = signal.clusterspy.result.parameters.get("n_clusters_choice") or {}
    start = choice.get("start")
    return f", started from {start}" if start else ""


def estimate_line(signal):
    """The printed line of a number-of-clusters estimate."""
    from .estimate import get_cluster_metric

    metric = get_cluster_metric(signal)
    first, last = int(metric.ks[0]), int(metric.ks[-1])
    text = (
        f"Number of clusters: {metric.n_clusters}, estimated with {metric.metric} "
        f"({metric.rule}) for k = {first}..{last}"
    )
    if metric.n_clusters == last and last > first and metric.metric != "auto":
        text += (
            f" (note: the largest k tried: the {metric.metric} curve has no clear "
            "optimum in this range; try another --metric or a larger "
            "--max-clusters, and judge the clusters by eye)"
        )
    return text


def doubt_lines(done):
    """The ``warning: ...`` lines of a run's doubtful answers."""
    lines = []
    metric = done.metric
    doubts = [] if metric is None else list(metric.doubts)
    for doubt in doubts:
        lines.append(f"warning: k = {metric.n_clusters} is doubtful: {doubt}")
    for text in done.warnings:
        if text not in doubts:
            lines.append(f"warning: {text}")
    return lines


# -- the whole run ---------------------------------------------------------------------


@dataclass
class WorkflowResult:
    """What a run of the workflow produced.

    Attributes
    ----------
    signal : BaseSignal
        The analysed signal, with its decomposition and cluster results.
    plan : WorkflowPlan
        The checked options.
    folder : pathlib.Path
        The output folder.
    files : list of pathlib.Path
        Every file written into ``folder``, the report last.
    report, result_file : pathlib.Path
        ``report.html`` and the result file (``result.hspy`` or ``.zspy``).
    info : dict
        The parameter tables of the report (data, decomposition).
    ari : float or None
        The demo's adjusted Rand index against the true phases.
    seconds : float
        Duration of the run.
    components : ComponentChoice or None
        The significant components (``--decomposition auto``): number,
        method, threshold, explained-variance curve.
    counts : CountSummary or None
        Counts per position of count data (``counts.message()`` is the
        printed line: median, share of empty positions, binning hint).
    metric : ClusterMetric or None
        The number-of-clusters estimate; with ``--metric auto`` its
        ``curves`` hold every metric's curve, ``metric_choices`` what each
        alone answers and ``doubts`` why the answer is doubtful.
    warnings : list of str
        Every :class:`~clusterspy.exceptions.DoubtfulEstimateWarning` of the
        run (low counts, too many components, doubtful k), for the report.
    """

    signal: object
    plan: WorkflowPlan
    folder: Path
    files: list = field(default_factory=list)
    report: Path | None = None
    result_file: Path | None = None
    info: dict = field(default_factory=dict)
    ari: float | None = None
    seconds: float = 0.0
    components: object = None
    counts: object = None
    metric: object = None
    warnings: list = field(default_factory=list)


def _silent(*args):
    pass


def _stage(output):
    """The staging folder of ``output``, created now, before any work."""
    from ._atomic import StagedFolder, reason

    staged = StagedFolder(output)
    try:
        staged.create()
    except OSError as err:
        raise UserError(
            f"cannot create the output folder {str(staged.folder)!r}: {reason(err)}"
        ) from None
    return staged


def _write_error(err, staged):
    from ._atomic import reason

    where = getattr(err, "filename", None)
    where = staged.final(where) if where else staged.folder
    return UserError(
        f"cannot write the results into {str(staged.folder)!r} ({where}): {reason(err)}"
    )


def _execute(plan, output, prepare, *, command, say, after=None):
    """Stage ``output``, prepare the signal, analyse it and write the outputs.

    ``prepare()`` returns ``(signal, info, title)`` or ``(signal, info, title,
    report)``, ``report`` being keyword arguments of the report's context
    (``reference``, ``metrics``, ``warnings``: see
    :func:`clusterspy.outputs.write_outputs`); ``after(signal, info)``,
    when given, runs between the analysis and the writing and returns the
    value stored as :attr:`WorkflowResult.ari`.
    """
    from .outputs import write_outputs

    start = time.perf_counter()
    staged = _stage(output)
    folder = staged.folder
    found = _Choices()
    try:
        signal, info, title, *context = prepare()
        report_context = dict(context[0]) if context else {}  # the report's extras
        with _doubts(found):
            tables, plan = _analyse(signal, plan, say, found)
        info.update(tables)
        report_context.update(_report_evidence(found))
        extra = after(signal, info) if after is not None else None
        say(f"Writing the results into {folder}/...")
        try:
            written, report, result_file = write_outputs(
                signal,
                staged.path,
                fmt=plan.format,
                estimate=plan.estimate,
                info=info,
                title=title,
                command=command,
                show_progressbar=plan.show_progressbar,
                **report_context,
            )
            staged.commit()
        except OSError as err:
            raise _write_error(err, staged) from None
    finally:
        staged.discard()  # after a commit: nothing left to remove
    return WorkflowResult(
        signal=signal,
        plan=plan,
        folder=folder,
        files=[folder / p.name for p in written],
        report=folder / report.name,
        result_file=folder / result_file.name,
        info=info,
        ari=extra,
        seconds=time.perf_counter() - start,
        components=found.components,
        counts=found.counts,
        metric=found.metric,
        warnings=found.warnings,
    )


def run_workflow(
    data,
    *,
    output=None,
    signal_index=None,
    lazy=False,
    command=None,
    say=None,
    **options,
):
    """Cluster a file or a signal and write the output folder of ``clusterspy run``.

    The steps: check every option (:func:`plan_workflow`), stage the output
    folder, load (:func:`load_signal`), decompose (SVD, Poisson noise
    normalised when the data are non-negative) when ``decomposition`` is
    given, estimate the number of clusters when ``n_clusters="auto"``,
    cluster, and write every output (:func:`clusterspy.outputs.write_outputs`).
    The files appear in ``output`` only when all are written: an error leaves
    ``output`` as it was.

    Parameters
    ----------
    data : str, pathlib.Path or BaseSignal
        A file HyperSpy can read, or a signal (analysed as a copy: the
        caller's signal is not modified).
    output : str or pathlib.Path or None
        Output folder; files of the same names are replaced, others kept.
        Default: ``<file stem>-clusterspy`` (``clusterspy-output`` for a
        signal).
    signal_index : int or None
        Which signal of a file holding several (see :func:`load_signal`).
    lazy : bool
        Load the file lazily.
    command : str or None
        The command line, recorded in the report and ``summary.json``.
    say : callable or None
        Called with each progress message; None is silent.
    **options
        ``decomposition``, ``source``, ``n_clusters`` (an int or
        ``"auto"``), ``metric``, ``min_clusters``, ``max_clusters``,
        ``preprocessing``, ``algorithm``, ``seed``, ``format`` and
        ``quiet``: the options of ``clusterspy run``, with the same defaults
        (see :func:`plan_workflow`).

    Returns
    -------
    WorkflowResult

    Raises
    ------
    UserError
        Bad options (before any work), an unreadable file, an output folder
        that cannot be created or written (nothing partial is left).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import clusterspy
    >>> from clusterspy.workflow import run_workflow
    >>> s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=32,
    ...                                        random_state=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     done = run_workflow(s, output=pathlib.Path(folder) / "out",
    ...                         n_clusters=3, quiet=True)
    ...     done.report.is_file()
    True
    >>> done.signal.clusterspy.result.n_clusters
    3
    """
    plan = plan_workflow(**options)
    say = say or _silent
    if isinstance(data, (str, Path)) or hasattr(data, "__fspath__"):
        path = Path(data)
        if output is None:
            output = f"{path.stem or 'data'}-clusterspy"

        def prepare():
            from .plotting.reference import find_reference_image

            say(f"Loading {path}...")
            signal, data_info, signals = _load(path, signal_index, lazy)
            say(f"Signal: {data_info['signal']}")
            # -- report: the file's electron/survey image beside the label map
            reference = find_reference_image(signals, signal)
            if reference is not None:
                data_info["reference image"] = _describe_signal(reference)
            return signal, {"Data": data_info}, path.name, {"reference": reference}

    else:
        from .validation import check_signal

        check_signal(data, "data")
        if output is None:
            output = "clusterspy-output"

        def prepare():
            signal = data.deepcopy()
            info = {
                "signal": _describe_signal(signal),
                "dtype": str(signal.data.dtype),
                "lazy": bool(signal._lazy),
            }
            return signal, {"Data": info}, signal.metadata.General.title or "signal"

    return _execute(plan, output, prepare, command=command, say=say)


def check_demo(shape, channels, phases):
    """Check the generated data's sizes; return ``(x, y)``.

    The energy axis needs two channels, and every phase one position.

    Raises
    ------
    UserError
        A size below its minimum, naming the command-line option.
    """
    from .validation import check_int

    with _library_errors():
        nx, ny = (check_int(n, "shape", minimum=1) for n in shape)
        channels = check_int(channels, "channels", minimum=2)
        phases = check_int(phases, "phases", minimum=1)
    if nx * ny < phases:
        raise UserError(
            f"--shape {nx} {ny} has {nx * ny} position(s), fewer than the {phases} "
            f"phases: the demo needs at least one position per phase (--shape X Y "
            f"with X * Y >= {phases})"
        )
    return nx, ny


def run_demo(
    *,
    output="clusterspy-demo",
    shape=(64, 64),
    channels=512,
    phases=3,
    seed=0,
    command=None,
    say=None,
    **options,
):
    """Run the workflow on a generated spectrum image with known phases.

    What ``clusterspy demo`` does: generate a spectrum image with
    ``phases`` phases and Poisson noise
    (:func:`clusterspy.datasets.spectrum_image`), decompose it (by default
    into ``phases`` components), estimate the number of clusters, cluster,
    score the labels against the true phases (adjusted Rand index) and write
    the outputs of :func:`run_workflow` into ``output``.

    Parameters
    ----------
    output : str or pathlib.Path
        Output folder.
    shape : (int, int)
        Navigation shape ``(x, y)``; at least one position per phase.
    channels : int
        Energy channels, at least 2.
    phases : int
        Number of phases.
    seed : int
        Seed of the data and of the analysis.
    command, say, **options
        As for :func:`run_workflow`.

    Returns
    -------
    WorkflowResult
        With :attr:`~WorkflowResult.ari` set.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from clusterspy.workflow import run_demo
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     done = run_demo(output=pathlib.Path(folder) / "demo", shape=(16, 12),
    ...                     channels=32, n_clusters=3, quiet=True)
    >>> round(done.ari, 2)
    1.0
    """
    from . import datasets

    nx, ny = check_demo(shape, channels, phases)
    if options.get("decomposition", "default") in (None, "default"):
        options["decomposition"] = phases
    plan = plan_workflow(seed=seed, **options)
    say = say or _silent
    truth = {}

    def prepare():
        say(f"Generating a {nx}x{ny}x{channels} spectrum image with {phases} phases...")
        signal, truth["labels"] = datasets.spectrum_image(
            shape=(nx, ny),
            n_channels=channels,
            n_phases=phases,
            return_truth=True,
            random_state=seed,
        )
        info = {
            "Data": {
                "data": f"generated with clusterspy.datasets.spectrum_image, seed "
                f"{seed}",
                "signal": _describe_signal(signal),
                "true phases": phases,
            }
        }
        return signal, info, signal.metadata.General.title

    def score(signal, info):
        from sklearn.metrics import adjusted_rand_score

        ari = adjusted_rand_score(
            truth["labels"].ravel(), signal.clusterspy.result.labels
        )
        info["Data"]["adjusted Rand index vs truth"] = f"{ari:.4f}"
        return float(ari)

    return _execute(plan, output, prepare, command=command, say=say, after=score)
