"""The command line: `clusterspy demo`."""

import subprocess
import sys

import hyperspy.api as hs
import numpy as np
import pytest

from clusterspy.cli import main


def test_demo_writes_outputs_and_reports_ari(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(
        ["demo", "-o", str(out), "--shape", "32", "24", "--channels", "128", "-q"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    line = next(x for x in printed.splitlines() if x.startswith("Adjusted Rand index"))
    assert float(line.rsplit(" ", 1)[1]) >= 0.99
    for name in ("cluster_labels.png", "cluster_results.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = hs.load(out / "demo_result.hspy")
    labels = loaded.clusterspy.get_cluster_labels(merged=True)
    assert labels.data.shape == (24, 32)
    assert set(np.unique(labels.data)) == {0, 1, 2}


def test_demo_console_script_full_size(tmp_path):
    # The README's command, as installed: the 64x64x512 acceptance case.
    exe = [sys.executable, "-m", "clusterspy.cli"]
    run = subprocess.run(
        exe + ["demo", "-o", str(tmp_path / "out")], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    ari = float(
        run.stdout.split("Adjusted Rand index against the true phases:")[1].split()[0]
    )
    assert ari >= 0.99


def test_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("clusterspy ")
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--shape", "0", "4"], "expected a positive integer, got 0"),
        (["demo", "--channels", "x"], "expected a positive integer, got 'x'"),
        (["demo", "--nope"], "unrecognized arguments: --nope"),
    ],
)
def test_bad_options_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["demo", "-o", str(blocker / "sub"), "-q"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "clusterspy: error: cannot create the output folder"
    )
