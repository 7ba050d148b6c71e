"""The workflow of the command line as a function: `clusterspy.workflow`."""

import json

import hyperspy.api as hs
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy.cli import main
from clusterspy.workflow import (
    UserError,
    WorkflowResult,
    check_demo,
    plan_workflow,
    run_demo,
    run_workflow,
)
from test_cli import run_main


@pytest.fixture(scope="module")
def small_map(tmp_path_factory):
    s, truth = clusterspy.datasets.spectrum_image(
        shape=(16, 12), n_channels=32, return_truth=True, random_state=0
    )
    path = tmp_path_factory.mktemp("data") / "small.hspy"
    s.save(path)
    return path, truth


def test_run_workflow_on_a_file_equals_the_command_line(small_map, tmp_path):
    path, truth = small_map
    done = run_workflow(
        path, output=tmp_path / "api", n_clusters=3, decomposition=3, quiet=True
    )
    assert isinstance(done, WorkflowResult)
    code, _, stderr = run_main(
        ["run", path, "-o", tmp_path / "cli", "--n-clusters", "3"]
        + ["--decomposition", "3", "-q"]
    )
    assert code == 0, stderr
    cli = hs.load(tmp_path / "cli" / "result.hspy").clusterspy.result
    np.testing.assert_array_equal(done.signal.clusterspy.result.labels, cli.labels)
    assert adjusted_rand_score(truth.ravel(), cli.labels) == 1.0
    assert {p.name for p in (tmp_path / "api").iterdir()} == {
        p.name for p in (tmp_path / "cli").iterdir()
    }
    assert done.files == [tmp_path / "api" / p.name for p in done.files]
    assert done.files[-1] == done.report == tmp_path / "api" / "report.html"
    assert done.result_file == tmp_path / "api" / "result.hspy"
    summary = json.loads((tmp_path / "api" / "summary.json").read_text())
    assert summary["files"] == [p.name for p in done.files]
    assert done.info["Decomposition"]["output_dimension"] == 3


def test_run_workflow_on_a_signal_leaves_it_unchanged(tmp_path):
    s = clusterspy.datasets.spectrum_image(
        shape=(12, 10), n_channels=32, dtype="uint16", random_state=1
    )
    before = s.data.copy()
    messages = []
    done = run_workflow(
        s, output=tmp_path / "out", decomposition=3, n_clusters=3, say=messages.append
    )
    np.testing.assert_array_equal(s.data, before)
    assert s.data.dtype == np.uint16  # the copy was cast for the decomposition
    assert s.learning_results.factors is None
    assert "cluster_labels" not in str(s.learning_results.__dict__.keys())
    assert done.signal is not s
    assert done.signal.clusterspy.result.n_clusters == 3
    assert messages[0].startswith("Decomposition: SVD, 3 components")
    assert messages[-1] == f"Writing the results into {tmp_path / 'out'}/..."


def test_run_demo_scores_the_phases(tmp_path):
    done = run_demo(
        output=tmp_path / "demo", shape=(16, 12), channels=32, n_clusters=3, quiet=True
    )
    assert done.ari == 1.0
    assert done.plan.decomposition == 3  # the number of phases, by default
    assert done.info["Data"]["adjusted Rand index vs truth"] == "1.0000"


def test_plan_workflow_checks_before_any_work(tmp_path):
    plan = plan_workflow(metric="bic")
    assert plan.algorithm == "gaussian_mixture" and plan.estimate
    assert plan_workflow(preprocessing="none").preprocessing is None
    with pytest.raises(UserError, match=r"^--n-clusters must be >= 1, not 0\.$"):
        run_workflow(tmp_path / "missing.hspy", output=tmp_path / "o", n_clusters=0)
    with pytest.raises(UserError, match="--source must be one of 'signal'"):
        plan_workflow(source="bss")
    with pytest.raises(UserError, match="--format must be 'hspy' or 'zspy'"):
        plan_workflow(format="tiff")
    with pytest.raises(UserError, match=r"^no such file: "):
        run_workflow(tmp_path / "missing.hspy", output=tmp_path / "o")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "shape, channels, phases, message",
    [
        ((1, 1), 16, 3, r"--shape 1 1 has 1 position\(s\), fewer than the 3 phases"),
        ((2, 1), 16, 3, r"\(--shape X Y with X \* Y >= 3\)"),
        ((4, 4), 1, 3, "--channels must be >= 2, not 1."),
        ((0, 4), 16, 3, "--shape must be >= 1, not 0."),
    ],
)
def test_demo_sizes_below_their_minimum(shape, channels, phases, message, tmp_path):
    with pytest.raises(UserError, match=message):
        check_demo(shape, channels, phases)
    with pytest.raises(UserError, match=message):
        run_demo(output=tmp_path / "d", shape=shape, channels=channels, phases=phases)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--channels", "1"],
            "argument --channels: expected at least 2 channels, got 1",
        ),
        (
            ["--shape", "1", "1"],
            "--shape 1 1 has 1 position(s), fewer than the 3 phases: the demo needs "
            "at least one position per phase (--shape X Y with X * Y >= 3)",
        ),
        (
            ["--shape", "2", "2", "--phases", "5"],
            "--shape 2 2 has 4 position(s), fewer than the 5 phases: the demo needs "
            "at least one position per phase (--shape X Y with X * Y >= 5)",
        ),
    ],
)
def test_demo_command_states_the_minimum(argv, message, tmp_path):
    out = tmp_path / "demo"
    code, stdout, stderr = run_main(["demo", "-o", out, "-q"] + argv)
    assert code == 2
    assert stdout == ""
    assert stderr == (f"clusterspy: error: {message} (see 'clusterspy demo --help')\n")
    assert list(tmp_path.iterdir()) == []


def test_main_returns_the_code_of_a_usage_error():
    # main() returns, never raises SystemExit, also for errors found after parsing.
    assert main(["demo", "--shape", "1", "1", "-q"]) == 2


def test_data_with_many_channels_are_decomposed_by_default(tmp_path):
    # Not counts (negative values, as a background-subtracted Raman map) but
    # 64 channels: the default works on the significant components; with 8
    # channels, or an RGB image, the data are clustered as they are.
    from clusterspy.workflow import _decompose_by_default

    s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=64,
                                           n_phases=3, counts=200, random_state=0)
    s.data = s.data.astype(np.float32) - 1.5
    messages = []
    done = run_workflow(s, output=tmp_path / "out", say=messages.append)
    assert done.plan.decomposition == "auto"
    assert done.signal.clusterspy.result.parameters["cluster_source"] == "decomposition"
    assert any(m.startswith("Decomposition: SVD, the significant components")
               for m in messages)
    assert done.signal.clusterspy.result.parameters["preprocessing"] == "norm"
    assert not _decompose_by_default(s.isig[:8], counts=False)
    assert _decompose_by_default(s.isig[:8], counts=True)
    rgb = hs.signals.Signal1D(np.zeros((4, 5, 3), dtype=np.uint8))
    rgb.change_dtype("rgb8")
    assert not _decompose_by_default(rgb, counts=False)


@pytest.mark.parametrize("preprocessing, expected", [("default", None), ("norm", "norm")])
def test_count_data_keep_their_poisson_normalised_loadings(preprocessing, expected,
                                                           tmp_path):
    # The automatic k of count data is checked on the Poisson-normalised
    # loadings as they are: by default they are clustered as they are too.
    s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=64,
                                           n_phases=3, counts=300, random_state=0)
    done = run_workflow(s, output=tmp_path / "out", preprocessing=preprocessing,
                        say=lambda m: None)
    assert done.plan.preprocessing == expected
    assert done.signal.clusterspy.result.parameters["preprocessing"] == expected


def test_the_default_decomposition_is_seeded(tmp_path):
    # HyperSpy's randomized SVD of the leading components is unseeded: two
    # runs gave different loadings (and on a real map once another k).
    s = clusterspy.datasets.spectrum_image(shape=(24, 24), n_channels=64,
                                           n_phases=3, counts=100, random_state=0)
    runs = [run_workflow(s, output=tmp_path / str(i), say=lambda m: None)
            for i in range(2)]
    first, second = (r.signal.learning_results for r in runs)
    assert runs[0].plan.decomposition == "auto"
    np.testing.assert_array_equal(first.explained_variance, second.explained_variance)
    np.testing.assert_array_equal(first.loadings, second.loadings)
