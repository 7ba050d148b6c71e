"""Faults while writing: a full disk, a read-only folder, a file in the way.

The command line and `export_cluster_results` write into a staging folder
and move the files into place at the end: every fault must give one clear
line naming the path and the cause, and leave nothing partial behind (no
staging folder, no truncated file, an existing output folder unchanged).
"""

import errno
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import hyperspy.api as hs
import matplotlib.figure
import numpy as np
import pytest

import clusterspy
from clusterspy import _atomic, report
from clusterspy._atomic import OutputError, StagedFolder, save_signal
from clusterspy.export import export_cluster_results
from test_cli import run_main

ENV = dict(os.environ, OMP_WAIT_POLICY="passive", MPLBACKEND="Agg")
FULL = os.strerror(errno.ENOSPC)  # "No space left on device"


@pytest.fixture(scope="module")
def small_map(tmp_path_factory):
    s = clusterspy.datasets.spectrum_image(
        shape=(16, 12), n_channels=32, random_state=0
    )
    path = tmp_path_factory.mktemp("data") / "small.hspy"
    s.save(path)
    return path


@pytest.fixture(scope="module")
def analysed():
    s = clusterspy.datasets.spectrum_image(
        shape=(16, 12), n_channels=32, random_state=0
    )
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    return s


def snapshot(folder):
    """Every file under ``folder`` with its bytes (``{}`` if absent)."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def full_disk_after(path, data=b"partial"):
    """Write the start of ``path``, then fail as a full disk does."""
    with open(path, "wb") as f:
        f.write(data)
    raise OSError(errno.ENOSPC, FULL)


# Where the disk fills up: the file that fails, and how to make it fail.
def _fail_result_file(monkeypatch):
    def save(signal, path, show_progressbar):
        full_disk_after(path)

    monkeypatch.setattr(_atomic, "_save", save)
    return "result.hspy"


def _fail_third_figure(monkeypatch):
    calls = []
    original = matplotlib.figure.Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        calls.append(fname)
        if len(calls) == 3:
            full_disk_after(fname, b"\x89PNG")
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return "cluster_signals_mean.png"


def _fail_report(monkeypatch):
    # A writer that is not atomic itself: the staging folder must still hide
    # the truncated page.
    monkeypatch.setattr(report, "_write_atomically", full_disk_after)
    return "report.html"


FAULTS = {
    "result file": _fail_result_file,
    "a figure": _fail_third_figure,
    "the report": _fail_report,
}


@pytest.mark.parametrize("where", FAULTS)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_run_disk_full_leaves_nothing_partial(
    where, existing, small_map, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        (out / "report.html").write_text("the previous report")
    before = snapshot(tmp_path)
    name = FAULTS[where](monkeypatch)
    code, _, stderr = run_main(["run", small_map, "-o", out, "--n-clusters", "3", "-q"])
    assert code == 2
    assert stderr == (
        f"clusterspy: error: cannot write the results into {str(out)!r} "
        f"({out / name}): {FULL}\n"
    )
    assert snapshot(tmp_path) == before  # no staging folder, nothing changed
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out"] if existing else [])


def test_run_interrupted_while_writing(small_map, tmp_path, monkeypatch):
    def interrupted(signal, path, show_progressbar):
        Path(path).write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(_atomic, "_save", interrupted)
    code, _, stderr = run_main(["run", small_map, "-o", tmp_path / "out", "-q"])
    assert code == 130 and stderr == "clusterspy: interrupted\n"
    assert list(tmp_path.iterdir()) == []


def test_run_into_an_existing_folder_replaces_and_keeps(small_map, tmp_path):
    out = tmp_path / "out"
    (out / "result.zspy").mkdir(parents=True)  # a folder where a file goes
    (out / "result.zspy" / "junk").write_text("old")
    (out / "notes.txt").write_text("mine")
    (out / "report.html").write_text("the previous report")
    code, _, stderr = run_main(
        ["run", small_map, "-o", out, "--n-clusters", "3", "--format", "zspy", "-q"]
    )
    assert code == 0, stderr
    assert (out / "notes.txt").read_text() == "mine"  # other files are kept
    assert "the previous report" not in (out / "report.html").read_text()
    assert not (out / "result.zspy" / "junk").exists()
    assert hs.load(out / "result.zspy").clusterspy.result.n_clusters == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_move_into_place_puts_the_old_files_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (out / name).write_text(f"old {name}")
    before = snapshot(tmp_path)
    renames = []
    original = os.rename

    def rename(src, dst):
        renames.append(dst)
        if len(renames) == 4:  # a.txt aside, a.txt in, b.txt aside, b.txt in
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        return original(src, dst)

    staged = StagedFolder(out)
    with pytest.raises(OSError, match="Input/output error"):
        with staged:
            for name in ("a.txt", "b.txt", "c.txt"):
                (staged.path / name).write_text(f"new {name}")
            monkeypatch.setattr(os, "rename", rename)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("where", ["a figure", "result file"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_export_disk_full_leaves_nothing_partial(
    where, existing, analysed, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        (out / "cluster_labels.png").write_bytes(b"old")
    before = snapshot(tmp_path)
    name = {"a figure": "cluster_signals_mean.png", "result file": None}[where]
    if name is None:
        _fail_result_file(monkeypatch)
        name = "cluster_labels.hspy"
    else:
        _fail_third_figure(monkeypatch)
    with pytest.raises(OutputError) as info:
        export_cluster_results(analysed, out, dpi=30, overwrite=True)
    err = info.value
    assert str(err) == (
        f"cannot write the cluster results into {str(out)!r} ({out / name}): "
        f"{FULL}; nothing was written"
    )
    assert err.errno == errno.ENOSPC and err.path == out / name
    assert isinstance(err, OSError)
    assert snapshot(tmp_path) == before


def test_export_bad_folder_and_dpi_raise_before_any_work(analysed, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(TypeError, match=r"`folder` must be a folder path .*NoneType"):
        analysed.clusterspy.export_cluster_results(None)
    with pytest.raises(TypeError, match="`folder` must be a folder path"):
        export_cluster_results(analysed, 3)
    with pytest.raises(
        NotADirectoryError,
        match=f"`folder` must be a folder: {str(blocker)!r} is an existing file.",
    ):
        export_cluster_results(analysed, blocker)
    with pytest.raises(NotADirectoryError, match="is inside .*which is an existing"):
        export_cluster_results(analysed, blocker / "sub")
    for dpi in (-1, 0, float("nan"), float("inf"), "100", True, None):
        with pytest.raises(ValueError, match="`dpi` must be a positive number, not"):
            export_cluster_results(analysed, tmp_path / "out", dpi=dpi)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
    assert blocker.read_text() == "x"


def test_run_output_path_is_a_file(small_map, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, _, stderr = run_main(["run", small_map, "-o", blocker, "-q"])
    assert code == 2
    assert stderr == (
        f"clusterspy: error: cannot create the output folder {str(blocker)!r}: "
        "Not a directory\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_hspy_built_in_memory_equals_hyperspy_s_file(analysed, tmp_path):
    ours = save_signal(analysed, tmp_path / "ours.hspy")
    analysed.save(tmp_path / "theirs.hspy")
    a, b = hs.load(ours), hs.load(tmp_path / "theirs.hspy")
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(
        a.clusterspy.result.labels, b.clusterspy.result.labels
    )
    ma, mb = a.metadata.as_dictionary(), b.metadata.as_dictionary()
    for m in (ma, mb):
        del m["General"]["FileIO"]  # timestamps of the two saves
    assert ma == mb


def test_hspy_too_large_for_memory_checks_the_free_space(
    analysed, tmp_path, monkeypatch
):
    monkeypatch.setattr(_atomic, "IN_MEMORY_LIMIT", 0)
    usage = shutil.disk_usage(tmp_path)._replace(free=10)
    monkeypatch.setattr(_atomic.shutil, "disk_usage", lambda path: usage)
    with pytest.raises(OSError, match=FULL) as info:
        save_signal(analysed, tmp_path / "big.hspy")
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(tmp_path / "big.hspy")
    assert list(tmp_path.iterdir()) == []


# -- real faults: a small tmpfs, a read-only folder --------------------------------------


def _mount(where, options):
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    where.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {run.stderr.strip()}")


def _umount(where):
    subprocess.run(["umount", str(where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 200 KiB tmpfs (root only; skipped where mounting is not permitted)."""
    where = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    _mount(where, "size=200k")
    yield where
    _umount(where)


@pytest.mark.parametrize("fmt", ["hspy", "zspy"])
def test_run_on_a_full_tmpfs(fmt, small_map, small_disk):
    # A fresh interpreter: before the fix, HDF5 crashed it (SIGSEGV) and left
    # a truncated result.hspy.
    out = small_disk / "out"
    run = subprocess.run(
        [sys.executable, "-m", "clusterspy.cli", "run", str(small_map), "-o", str(out)]
        + ["--n-clusters", "3", "-q", "--format", fmt],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(
        f"clusterspy: error: cannot write the results into {str(out)!r} ("
    )
    assert run.stderr.endswith(f"): {FULL}\n") and run.stderr.count("\n") == 1
    assert list(small_disk.iterdir()) == []
    assert shutil.disk_usage(small_disk).used < 8192  # no hidden leftovers


def test_export_on_a_full_tmpfs(analysed, small_disk):
    # Room for some files but not all of them.
    (small_disk / "filler").write_bytes(b"\0" * 150_000)
    with pytest.raises(OutputError, match=f"{FULL}; nothing was written$") as info:
        export_cluster_results(analysed, small_disk / "out", dpi=60)
    assert info.value.errno == errno.ENOSPC
    assert [p.name for p in small_disk.iterdir()] == ["filler"]


def test_save_signal_on_a_full_tmpfs(small_disk):
    s = hs.signals.Signal1D(np.random.default_rng(0).random((50, 60, 20)))
    with pytest.raises(OSError, match=FULL):
        save_signal(s, small_disk / "big.hspy")
    assert list(small_disk.iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write into: chmod 0o500, or, as root (who ignores
    permission bits), a tmpfs remounted read-only."""
    where = tmp_path / "locked"
    if os.geteuid() != 0:
        where.mkdir()
        (where / "writable").mkdir()
        where.chmod(0o500)
        yield where
        where.chmod(0o700)
        return
    _mount(where, "size=64k")
    (where / "writable").mkdir()
    ro = subprocess.run(
        ["mount", "-o", "remount,ro", str(where)], capture_output=True, text=True
    )
    if ro.returncode != 0:
        _umount(where)
        pytest.skip(f"cannot remount read-only: {ro.stderr.strip()}")
    # A writable output folder inside the read-only one.
    _mount(where / "writable", "size=4m")
    yield where
    _umount(where / "writable")
    _umount(where)


def test_run_into_a_read_only_folder(small_map, read_only_folder):
    out = read_only_folder / "out"
    code, _, stderr = run_main(["run", small_map, "-o", out, "-q"])
    assert code == 2
    cause = "Permission denied" if os.geteuid() != 0 else "Read-only file system"
    assert stderr == (
        f"clusterspy: error: cannot create the output folder {str(out)!r}: {cause}\n"
    )
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["writable"]


def test_export_into_a_read_only_folder(analysed, read_only_folder):
    with pytest.raises(OSError) as info:
        export_cluster_results(analysed, read_only_folder / "out", dpi=30)
    assert info.value.errno in (errno.EACCES, errno.EROFS)
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["writable"]


def test_writable_folder_in_a_read_only_parent_is_staged_inside(
    analysed, read_only_folder
):
    out = read_only_folder / "writable"
    paths = export_cluster_results(analysed, out, dpi=30, formats=())
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert all(p.is_file() for p in paths)


def test_demo_disk_full_leaves_nothing_partial(tmp_path, monkeypatch):
    name = _fail_result_file(monkeypatch)
    out = tmp_path / "demo"
    code, _, stderr = run_main(
        ["demo", "-o", out, "--shape", "16", "12", "--channels", "32", "-q"]
        + ["--n-clusters", "3"]
    )
    assert code == 2
    assert stderr == (
        f"clusterspy: error: cannot write the results into {str(out)!r} "
        f"({out / name}): {FULL}\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_parents_made_for_the_output_are_removed_on_failure(
    small_map, tmp_path, monkeypatch
):
    def mkdtemp(*args, **kwargs):
        raise OSError(errno.ENOSPC, FULL)

    monkeypatch.setattr(_atomic.tempfile, "mkdtemp", mkdtemp)
    out = tmp_path / "a" / "b" / "out"
    code, _, stderr = run_main(["run", small_map, "-o", out, "-q"])
    assert code == 2
    assert stderr == (
        f"clusterspy: error: cannot create the output folder {str(out)!r}: {FULL}\n"
    )
    assert list(tmp_path.iterdir()) == []
