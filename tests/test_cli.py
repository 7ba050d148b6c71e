"""The command line: `clusterspy run` and `clusterspy demo`.

Every output file of a run is opened and compared with the result arrays.
"""

import base64
import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import hyperspy.api as hs
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
# The command in a fresh interpreter, as installed (the README's command).
EXE = [sys.executable, "-m", "clusterspy.cli"]
ENV = dict(os.environ, OMP_WAIT_POLICY="passive", MPLBACKEND="Agg")


def run_main(argv):
    """Run ``main`` in-process; return ``(exit code, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_png(path_or_bytes):
    """A PNG that matplotlib decodes into a non-empty image."""
    import matplotlib.image as mpimg

    data = (
        path_or_bytes
        if isinstance(path_or_bytes, bytes)
        else Path(path_or_bytes).read_bytes()
    )
    assert data[:8] == PNG
    image = mpimg.imread(io.BytesIO(data), format="png")
    assert image.ndim == 3 and image.shape[0] > 10 and image.shape[1] > 10
    return image


class ReportParser(HTMLParser):
    """Collects the images, table cells, ids and tags of a report."""

    def __init__(self):
        super().__init__()
        self.images, self.cells, self.ids, self.tags, self.links = [], [], [], [], []
        self.text = []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "img":
            self.images.append(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "a":
            self.links.append(attrs.get("href"))
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse_report(path):
    parser = ReportParser()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    parser.close()
    return parser


def embedded_pngs(parser):
    pngs = []
    for attrs in parser.images:
        src = attrs["src"]
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert_png(data)
        assert attrs.get("alt")
        pngs.append(data)
    return pngs


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    s = clusterspy.datasets.spectrum_image(
        shape=(24, 20), n_channels=64, random_state=0
    )
    path = folder / "map.hspy"
    s.save(path)
    return path


@pytest.fixture(scope="module")
def auto_run(map_file, tmp_path_factory):
    """`clusterspy run map.hspy -q`: k estimated (gap), signal features.

    The defaults for count data are now --decomposition auto --metric auto
    (issue 15, tests/test_auto_wiring.py); this runs the former default path.
    """
    out = tmp_path_factory.mktemp("auto") / "out"
    options = ["--decomposition", "none", "--metric", "gap"]
    code, stdout, stderr = run_main(["run", map_file, "-o", out, "-q", *options])
    return out, code, stdout, stderr


# -- clusterspy run: every output file ------------------------------------------------


EXPECTED_FILES = {
    "result.hspy",
    "report.html",
    "summary.json",
    "cluster_results.png",
    "cluster_labels.png",
    "cluster_signals_mean.png",
    "cluster_distances.png",
    "cluster_metric.png",
    "cluster_labels.hspy",
    "cluster_signals_mean.hspy",
    "cluster_distances.hspy",
    "cluster_labels.csv",
    "cluster_sizes.csv",
    "cluster_signals_mean.csv",
    "cluster_table.csv",
}


def test_run_auto_exit_code_printout_and_files(auto_run):
    out, code, stdout, stderr = auto_run
    assert code == 0, stderr
    assert stderr == ""
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    lines = stdout.splitlines()
    assert lines[0].startswith("Number of clusters: 3, estimated with gap")
    assert lines[1] == "Cluster sizes: 198, 151, 131"
    assert f"Report: {out / 'report.html'} (open it in any browser)" in lines
    assert f"All outputs (15 files): {out}" in lines


def test_run_result_file_carries_the_labels(auto_run, map_file):
    out, _, stdout, _ = auto_run
    loaded = hs.load(out / "result.hspy")
    result = loaded.clusterspy.result
    printed = stdout.split("Cluster sizes: ")[1].splitlines()[0]
    assert [int(c) for c in printed.split(", ")] == result.counts.tolist()
    grid = np.loadtxt(out / "cluster_labels.csv", delimiter=",", dtype=np.int64)
    np.testing.assert_array_equal(grid, result.label_map)
    assert grid.shape == (20, 24)
    # The data are the input file's, and the labels recover the phases.
    original = hs.load(map_file)
    np.testing.assert_array_equal(loaded.data, original.data)
    assert result.parameters["preprocessing"] == "norm"
    assert result.parameters["random_state"] == 0
    labels = loaded.clusterspy.get_cluster_labels(merged=True)
    np.testing.assert_array_equal(labels.data, grid)
    metric = loaded.clusterspy.get_cluster_metric()
    assert metric.metric == "gap" and metric.n_clusters == 3


def test_run_pngs_are_valid(auto_run):
    out = auto_run[0]
    for path in out.glob("*.png"):
        assert_png(path)


def test_run_data_files_equal_the_result(auto_run):
    out = auto_run[0]
    result = hs.load(out / "result.hspy").clusterspy.result
    labels = hs.load(out / "cluster_labels.hspy")
    np.testing.assert_array_equal(labels.data, result.label_map)
    means = hs.load(out / "cluster_signals_mean.hspy")
    np.testing.assert_allclose(means.data, result.signal_mean, rtol=1e-6)
    distances = hs.load(out / "cluster_distances.hspy")
    assert distances.data.size == result.distances.size


def test_run_csv_files_equal_the_result(auto_run):
    out = auto_run[0]
    loaded = hs.load(out / "result.hspy")
    result = loaded.clusterspy.result
    with (out / "cluster_sizes.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["label", "name", "count", "fraction"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    assert [r[1] for r in rows[1:]] == ["cluster 0", "cluster 1", "cluster 2"]
    assert [int(r[2]) for r in rows[1:]] == result.counts.tolist()
    np.testing.assert_array_equal(
        [float(r[3]) for r in rows[1:]], result.counts / result.labels.size
    )
    with (out / "cluster_signals_mean.csv").open() as f:
        header = next(csv.reader(f))
    assert header == ["Energy (keV)", "cluster 0", "cluster 1", "cluster 2"]
    table = np.loadtxt(out / "cluster_signals_mean.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, 0], loaded.axes_manager[-1].axis)
    np.testing.assert_array_equal(table[:, 1:], result.signal_mean.T)


def test_run_summary_json(auto_run):
    out = auto_run[0]
    summary = json.loads((out / "summary.json").read_text())
    result = hs.load(out / "result.hspy").clusterspy.result
    assert summary["n_clusters"] == 3
    assert summary["counts"] == result.counts.tolist()
    assert summary["estimate"]["metric"] == "gap"
    assert summary["estimate"]["ks"] == list(range(1, 11))
    assert set(summary["files"]) == EXPECTED_FILES
    assert summary["command"].startswith("clusterspy run ")
    assert summary["versions"]["clusterspy"] == clusterspy.__version__


def test_run_report_embeds_figures_parameters_and_sizes(auto_run, map_file):
    out = auto_run[0]
    report = parse_report(out / "report.html")
    pngs = embedded_pngs(report)
    # Every figure file is in the page, byte for byte, as a data URI.
    for path in out.glob("*.png"):
        assert path.read_bytes() in pngs, path.name
    assert len(pngs) == 5
    assert {"overview", "sizes", "n-clusters", "parameters", "versions"} <= set(
        report.ids
    )
    result = hs.load(out / "result.hspy").clusterspy.result
    cells = report.cells
    # The sizes table: a row per cluster, then the total.
    for i, count in enumerate(result.counts):
        j = cells.index(str(i))
        assert cells[j + 1] == str(count)
        assert cells[j + 2] == f"{100 * count / 480:.1f} %"
    assert cells[cells.index("all") + 1] == "480"
    # The parameters: data, cluster analysis and estimate, and versions.
    for key, value in [
        ("file", str(map_file)),
        ("preprocessing", "norm"),
        ("algorithm", "kmeans"),
        ("random_state", "0"),
        ("metric", "gap"),
        ("max_clusters", "10"),
        ("clusterspy", clusterspy.__version__),
    ]:
        assert cells[cells.index(key) + 1] == value, key
    text = "".join(report.text)
    assert "k = 3, estimated with the gap statistic for k = 1 to 10" in text
    assert "clusterspy run " in text  # the command line, in the footer
    # Self-contained: no script, no stylesheet or image from elsewhere.
    assert not [tag for tag, _ in report.tags if tag in ("script", "iframe")]
    for tag, attrs in report.tags:
        ref = attrs.get("src") or attrs.get("href") or ""
        assert not ref.startswith(("http:", "https:", "//")), (tag, ref)
        if tag in ("img", "link"):
            assert ref.startswith("data:"), (tag, ref)
    # Relative links to the files next to the report resolve.
    for href in report.links:
        assert (out / href).exists(), href


def test_run_fixed_k_decomposition_zspy(map_file, tmp_path):
    out = tmp_path / "fixed"
    code, stdout, stderr = run_main(
        [
            "run",
            map_file,
            "--decomposition",
            "3",
            "--n-clusters",
            "3",
            "--format",
            "zspy",
            "-o",
            out,
            "-q",
        ]
    )
    assert code == 0, stderr
    assert not stdout.startswith("Number of clusters")
    names = {p.name for p in out.iterdir()}
    assert "cluster_metric.png" not in names
    assert {"result.zspy", "cluster_labels.zspy", "cluster_signals_mean.zspy"} <= names
    loaded = hs.load(out / "result.zspy")
    result = loaded.clusterspy.result
    assert result.parameters["cluster_source_kind"] == "decomposition"
    assert result.parameters["number_of_components"] == 3
    assert loaded.learning_results.factors.shape[1] == 3
    grid = np.loadtxt(out / "cluster_labels.csv", delimiter=",", dtype=np.int64)
    np.testing.assert_array_equal(grid, result.label_map)
    report = parse_report(out / "report.html")
    assert len(embedded_pngs(report)) == 5  # with the scree plot of the decomposition
    text = "".join(report.text)
    assert "the number of clusters was given, not estimated" in text
    assert "normalize_poissonian_noise" in report.cells


def test_run_lazy_as_a_subprocess_gives_the_eager_labels(map_file, tmp_path, auto_run):
    # The installed command in a fresh interpreter, on lazily loaded data.
    out = tmp_path / "lazy"
    run = subprocess.run(
        EXE + ["run", str(map_file), "--lazy", "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "Cluster sizes: 198, 151, 131" in run.stdout
    lazy = np.loadtxt(out / "cluster_labels.csv", delimiter=",", dtype=np.int64)
    eager = np.loadtxt(auto_run[0] / "cluster_labels.csv", delimiter=",", dtype=int)
    np.testing.assert_array_equal(lazy, eager)
    result = hs.load(out / "result.hspy").clusterspy.result
    np.testing.assert_array_equal(result.label_map, eager)
    report = parse_report(out / "report.html")
    assert report.cells[report.cells.index("lazy") + 1] == "True"
    # count data are decomposed by default: with the scree plot
    assert len(embedded_pngs(report)) == 6


def test_run_lazy_decomposes_with_the_pca_source(map_file, tmp_path):
    # Lazy data are decomposed by clusterspy's PCA, not HyperSpy's lazy SVD
    # (issue 22); eager runs are unchanged. Same partition on this map.
    runs = {}
    for name, extra in (("eager", []), ("lazy", ["--lazy"])):
        out = tmp_path / name
        code, stdout, stderr = run_main(["run", map_file, "-o", out, *extra])
        assert code == 0, stderr
        runs[name] = stdout, hs.load(out / "result.hspy").clusterspy.result
    (eager_out, eager), (lazy_out, lazy) = runs["eager"], runs["lazy"]
    assert "Decomposition: SVD, the significant components of the first 30" in (
        eager_out
    )
    assert "Decomposition: lazy data, so clusterspy's PCA (cluster_source='pca'" in (
        lazy_out
    )
    assert "Significant components: 3 (poisson-null)" in lazy_out
    assert eager.parameters["cluster_source_kind"] == "decomposition"
    assert lazy.parameters["cluster_source_kind"] == "pca"
    assert lazy.parameters["number_of_components"] == 3
    assert lazy.parameters["pca"]["model"]["choice"]["method"] == "poisson-null"
    assert adjusted_rand_score(eager.labels, lazy.labels) == 1.0


def test_run_default_output_folder_and_progress(map_file, tmp_path, monkeypatch):
    # Not quiet: step messages; the default folder is <stem>-clusterspy in the
    # current directory.
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run_main(
        ["run", map_file, "--n-clusters", "2", "--decomposition", "none"]
    )
    assert code == 0, stderr
    assert (tmp_path / "map-clusterspy" / "report.html").is_file()
    assert stdout.startswith(
        f"Loading {map_file}...\n"
        "Signal: Signal1D 'Generated 3-phase spectrum image' (24, 20|64)\n"
    )
    assert "Cluster analysis: kmeans on the signal, preprocessing norm, k = 2" in stdout
    assert "Done in " in stdout


def test_run_picks_the_largest_signal_with_navigation_axes(map_file, monkeypatch):
    # A Bruker .bcf holds an image (no navigation axes) and the spectrum image.
    from clusterspy import cli

    s = hs.load(map_file)
    image = hs.signals.Signal2D(np.ones((5, 5)))
    small = s.inav[:4, :4]
    monkeypatch.setattr(hs, "load", lambda *a, **k: [image, small, s])
    chosen, info = cli._load(map_file, None, False)
    assert chosen is s
    assert info["signal index"] == "2 of 3"
    assert info["signal"] == "Signal1D 'Generated 3-phase spectrum image' (24, 20|64)"
    assert cli._load(map_file, 1, False)[0] is small
    assert cli._load(map_file, -2, False)[0] is small
    listing = (
        "[0] Signal2D '' (|5, 5); [1] Signal1D 'Generated 3-phase spectrum image' "
        "(4, 4|64); [2] Signal1D 'Generated 3-phase spectrum image' (24, 20|64)"
    )
    code, _, stderr = run_main(["run", map_file, "--signal-index", "0"])
    assert code == 2
    assert stderr == (
        f"clusterspy: error: signal 0 of {str(map_file)!r}, Signal2D '' (|5, 5), has "
        "no navigation axes to cluster; choose a spectrum image, line scan or image "
        f"stack: {listing}\n"
    )
    code, _, stderr = run_main(["run", map_file, "--signal-index", "5"])
    assert code == 2
    assert stderr == (
        f"clusterspy: error: --signal-index 5 is out of range: {str(map_file)!r} "
        f"holds 3 signal(s): {listing}\n"
    )


# -- errors: one line, exit code 2 ----------------------------------------------------------------

BAD_OPTIONS = [
    (
        ["--metric", "nope"],
        "--metric must be one of 'gap', 'elbow', 'silhouette', 'calinski_harabasz', "
        "'davies_bouldin', 'bic', 'aic', 'auto'; got 'nope'.",
    ),
    (["--algorithm", "nope"], "--algorithm must be one of 'kmeans', "),
    (
        ["--preprocessing", "nope"],
        "--preprocessing must be None, one of 'norm', 'l1', 'standard', 'minmax', "
        "'sqrt', 'anscombe', or an object with a fit_transform method; got 'nope'.",
    ),
    (
        ["--n-clusters", "x"],
        "argument --n-clusters: expected 'auto' or an integer, got 'x' "
        "(see 'clusterspy run --help')",
    ),
    (["--n-clusters", "0"], "--n-clusters must be >= 1, not 0."),
    (["--max-clusters", "0"], "--max-clusters must be >= 1, not 0."),
    (
        ["--max-clusters", "2.5"],
        "argument --max-clusters: expected an integer, got '2.5' "
        "(see 'clusterspy run --help')",
    ),
    (
        ["--min-clusters", "5", "--max-clusters", "3"],
        "--max-clusters must be >= --min-clusters (5), not 3.",
    ),
    (
        ["--metric", "silhouette", "--max-clusters", "1"],
        "--max-clusters must be >= 2 for metric='silhouette', which is undefined "
        "for a single cluster; got 1.",
    ),
    (["--decomposition", "0"], "--decomposition must be >= 1, not 0."),
    (["--seed", "-1"], "--seed must be in [0, 2**32 - 1], not -1."),
    (
        ["--algorithm", "dbscan", "--n-clusters", "3"],
        "--n-clusters is not used by algorithm='dbscan', which finds the number of "
        "clusters itself;",
    ),
    (
        ["--format", "tiff"],
        "argument --format: invalid choice: 'tiff' (choose from 'hspy', 'zspy') "
        "(see 'clusterspy run --help')",
    ),
    (["--nope"], "unrecognized arguments: --nope (see 'clusterspy --help')"),
]


@pytest.mark.parametrize("options, message", BAD_OPTIONS)
def test_bad_options_exit_2_with_one_line(options, message, map_file, tmp_path):
    out = tmp_path / "never"
    code, stdout, stderr = run_main(["run", map_file, "-o", out] + options)
    assert code == 2
    assert stderr.startswith(f"clusterspy: error: {message}")
    assert stderr.count("\n") == 1 and stderr.endswith("\n")
    assert "Traceback" not in stderr
    assert not out.exists()  # checked before anything was written


def test_errors_found_while_running_are_one_line(map_file, tmp_path):
    code, _, stderr = run_main(
        ["run", map_file, "--max-clusters", "1000", "-o", tmp_path / "a"]
    )
    assert code == 2
    assert stderr == (
        "clusterspy: error: --max-clusters=1000 is larger than the number of "
        "navigation positions to cluster (480).\n"
    )
    assert not (tmp_path / "a").exists()  # the empty folder is removed again
    code, _, stderr = run_main(
        [
            "run",
            map_file,
            "--source",
            "decomposition",
            "--decomposition",
            "none",
            "-o",
            tmp_path / "b",
        ]
    )
    assert code == 2
    assert stderr == (
        "clusterspy: error: --source decomposition needs --decomposition N (or a "
        "file that holds a decomposition)\n"
    )


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run_main(["run", tmp_path / "nope.hspy"])
    assert code == 2
    assert (
        stderr == f"clusterspy: error: no such file: {str(tmp_path / 'nope.hspy')!r}\n"
    )
    assert list(tmp_path.iterdir()) == []  # no output folder left behind


# HyperSpy hands unknown extensions to imageio, whose plugins warn on import.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    "name, reason",
    [
        ("junk.txt", "'.txt' is not a format HyperSpy can read"),
        ("junk.xyz", "'.xyz' is not a format HyperSpy can read"),
        ("junk", "files without an extension are not a format HyperSpy can read"),
        (
            "junk.hspy",
            "HyperSpy could not read it: Unable to synchronously open file "
            "(file signature not found)",
        ),
    ],
)
def test_unreadable_file(name, reason, tmp_path):
    path = tmp_path / name
    path.write_text("junk, not data\n1 2 3\n")
    out = tmp_path / "out"
    code, _, stderr = run_main(["run", path, "-o", out])
    assert code == 2
    assert stderr == f"clusterspy: error: cannot read {str(path)!r}: {reason}\n"
    assert not out.exists()


def test_unreadable_file_as_a_subprocess_prints_one_line(tmp_path):
    # HyperSpy logs its attempts to read a file: none of that may show.
    path = tmp_path / "junk.txt"
    path.write_text("junk")
    run = subprocess.run(
        EXE + ["run", str(path)], capture_output=True, text=True, env=ENV, cwd=tmp_path
    )
    assert run.returncode == 2
    assert run.stderr == (
        f"clusterspy: error: cannot read {str(path)!r}: '.txt' is not a format "
        "HyperSpy can read\n"
    )
    assert run.stdout == f"Loading {path}...\n"


def test_file_without_navigation_axes(tmp_path):
    path = tmp_path / "image.hspy"
    hs.signals.Signal2D(np.zeros((4, 5))).save(path)
    code, _, stderr = run_main(["run", path, "-o", tmp_path / "out"])
    assert code == 2
    assert stderr.startswith(
        f"clusterspy: error: {str(path)!r} holds no signal with navigation axes "
        "(a spectrum image, line scan or image stack) to cluster: [0] Signal2D"
    )


def test_unwritable_output_folder(tmp_path, map_file):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for command in (["demo"], ["run", map_file]):
        code, _, stderr = run_main(command + ["-o", blocker / "sub", "-q"])
        assert code == 2
        assert stderr == (
            "clusterspy: error: cannot create the output folder "
            f"{str(blocker / 'sub')!r}: Not a directory\n"
        )


# -- help -------------------------------------------------------------------------------------


def test_help_and_version():
    code, stdout, _ = run_main(["--version"])
    assert code == 0 and stdout == f"clusterspy {clusterspy.__version__}\n"
    code, stdout, _ = run_main([])
    assert code == 0
    assert "run" in stdout and "demo" in stdout and "examples:" in stdout
    code, stdout, _ = run_main(["--help"])
    assert code == 0 and stdout.startswith("usage: clusterspy [-h]")
    code, stdout, _ = run_main(["run", "--help"])
    assert code == 0
    for text in (
        "usage: clusterspy run",
        "any file HyperSpy can read",
        "--n-clusters K",
        "(default: auto)",
        "--metric METRIC",
        "--min-counts N",  # (default: auto) for --metric since issue 15
        "silhouette",
        "--signal-index I",
        "--lazy",
        "--decomposition N",
        "examples:\n  clusterspy run map.bcf\n",
        "report.html",
    ):
        assert text in stdout, text
    code, stdout, _ = run_main(["demo", "--help"])
    assert code == 0 and "default: the number of phases" in " ".join(stdout.split())


# -- clusterspy demo --------------------------------------------------------------------------------


def test_demo_console_script_full_size(tmp_path):
    # The README's command, as installed: the 64x64x512 acceptance case.
    out = tmp_path / "out"
    run = subprocess.run(
        EXE + ["demo", "-o", str(out)], capture_output=True, text=True, env=ENV
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "Adjusted Rand index against the true phases: 1.0000" in lines
    assert f"Report: {out / 'report.html'} (open it in any browser)" in lines
    # --metric auto by default since issue 15: the Poisson split rule
    assert "Number of clusters: 3, estimated with auto (poisson-split)" in run.stdout
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    loaded = hs.load(out / "result.hspy")
    labels = loaded.clusterspy.get_cluster_labels(merged=True)
    assert labels.data.shape == (64, 64)
    assert set(np.unique(labels.data)) == {0, 1, 2}
    grid = np.loadtxt(out / "cluster_labels.csv", delimiter=",", dtype=np.int64)
    np.testing.assert_array_equal(grid, labels.data)
    report = parse_report(out / "report.html")
    assert len(embedded_pngs(report)) == 6  # with the scree plot of the decomposition
    cells = report.cells
    assert cells[cells.index("adjusted Rand index vs truth") + 1] == "1.0000"
    assert cells[cells.index("output_dimension") + 1] == "3"


def test_demo_small_in_process(tmp_path):
    # The pipeline's options apply to the demo too.
    out = tmp_path / "demo"
    code, stdout, stderr = run_main(
        ["demo", "-o", out, "--shape", "16", "12", "--channels", "32", "-q"]
        + ["--n-clusters", "3", "--format", "zspy"]
    )
    assert code == 0, stderr
    assert "Adjusted Rand index against the true phases: " in stdout
    assert (out / "result.zspy").is_dir() and (out / "report.html").is_file()
    assert not (out / "cluster_metric.png").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--shape", "0", "4"], "expected a positive integer, got 0"),
        (["demo", "--channels", "x"], "expected a positive integer, got 'x'"),
        (["demo", "--nope"], "unrecognized arguments: --nope"),
    ],
)
def test_demo_bad_options_exit_2_with_one_line(argv, message):
    code, _, stderr = run_main(argv)
    assert code == 2
    assert message in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("clusterspy: error: ")
