"""Write a folder of output files all at once, or not at all.

The command line and :func:`~clusterspy.export_cluster_results` write their
files into a temporary folder next to the output folder (a *staging*
folder) and move them into place only once every file is complete. A full
disk, a missing permission or an interrupt while writing leaves the output
folder as it was and no temporary folder behind.

HDF5 (``.hspy``) files get one more guard: the HDF5 library can crash the
process when the disk fills up while it writes, so the file is built in
memory and written to disk by Python, which reports a full disk as an
ordinary ``OSError`` (see :func:`save_signal`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import threading
from pathlib import Path

__all__ = [
    "OutputError",
    "StagedFolder",
    "check_output_folder",
    "naming",
    "save_signal",
]

#: ``.hspy`` files of signals up to this size are built in memory (see
#: :func:`save_signal`); larger ones are written by HDF5 after a check of
#: the free disk space.
IN_MEMORY_LIMIT = 2**31


# A parent folder we may not write into (the output folder itself may be).
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


class OutputError(OSError):
    """Output files could not be written; nothing partial was left behind.

    ``str(error)`` is one line naming the folder, the file and the cause;
    ``errno`` is the operating system's error number and ``path`` the file
    that failed, when known.
    """

    def __init__(self, message, errno=None, path=None):
        super().__init__(message)
        # Set after the call: OSError(message) alone keeps str() the message.
        self.errno = errno
        self.path = path


def reason(err):
    """The cause of an ``OSError`` in a few words ("No space left on device")."""
    return err.strerror or str(err) or type(err).__name__


@contextlib.contextmanager
def naming(path):
    """Name ``path`` in an ``OSError`` raised without a file name (a failed write)."""
    try:
        yield
    except OSError as err:
        if err.filename is None:
            err.filename = str(path)
        raise


def check_output_folder(folder, name="folder"):
    """Return ``folder`` as a Path; raise before any work if it cannot be one.

    Raises ``TypeError`` when ``folder`` is not a path and
    ``NotADirectoryError`` when it, or the nearest existing folder above it,
    is a file.

    Examples
    --------
    >>> from clusterspy._atomic import check_output_folder
    >>> check_output_folder(None)
    Traceback (most recent call last):
    ...
    TypeError: `folder` must be a folder path (str or os.PathLike), not NoneType.
    """
    if not isinstance(folder, (str, os.PathLike)) or isinstance(folder, bytes):
        raise TypeError(
            f"`{name}` must be a folder path (str or os.PathLike), not "
            f"{type(folder).__name__}."
        )
    folder = Path(folder)
    if str(folder) == "":
        raise ValueError(f"`{name}` must be a folder path, not an empty string.")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is" if existing == folder else f"is inside {str(existing)!r}, which is"
        raise NotADirectoryError(
            f"`{name}` must be a folder: {str(folder)!r} {where} an existing file."
        )
    return folder


class StagedFolder:
    """A staging folder whose files replace those of ``folder`` at the end.

    Use :meth:`create` (which may raise ``OSError``), then the object as a
    context manager: leaving it normally moves every file into ``folder``;
    an exception (or an interrupt) removes the staging folder and any parent
    folder that :meth:`create` made, and leaves ``folder`` untouched.

    When ``folder`` does not exist, the staging folder is renamed into
    place: one atomic step. When it exists, files of the same names are
    replaced and other files kept; every old file is first moved aside, and
    a failure moves them all back, so the folder holds either every new file
    or none.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from clusterspy._atomic import StagedFolder
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = pathlib.Path(tmp) / "out"
    ...     with StagedFolder(out) as staged:
    ...         _ = (staged.path / "a.txt").write_text("a")
    ...         out.exists()  # nothing there until the end
    ...     sorted(p.name for p in pathlib.Path(tmp).rglob("*"))
    False
    ['a.txt', 'out']
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = None
        self._created = []

    def create(self):
        """Make the staging folder (and the output folder's parents).

        On failure, removes what it made and raises the ``OSError``.
        """
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(
                errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)
            )
        try:
            self._make_parents()
            self.path = Path(self._make_staging())
        except BaseException:
            self.discard()
            raise
        return self.path

    def _make_parents(self):
        parent = self.folder.parent
        missing = []
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        for path in reversed(missing):
            path.mkdir()
            self._created.append(path)

    def _make_staging(self):
        """Stage next to the folder; inside it when it exists and its parent
        is read-only or on another file system (a mount point, a link to
        another disk), from where files could not be renamed into it."""
        folder, parent = self.folder, self.folder.parent
        if folder.is_dir() and os.stat(folder).st_dev != os.stat(parent).st_dev:
            return self._mkdtemp(folder)
        try:
            return self._mkdtemp(parent)
        except OSError as err:
            if err.errno not in _NOT_WRITABLE or not folder.is_dir():
                raise
            return self._mkdtemp(folder)

    def _mkdtemp(self, where):
        return tempfile.mkdtemp(
            prefix=f".{self.folder.name}.", suffix=".tmp", dir=where
        )

    def final(self, path):
        """The path in the output folder of a path in the staging folder."""
        path = Path(path)
        if self.path is not None:
            with contextlib.suppress(ValueError):
                return self.folder / path.relative_to(self.path)
        name = path.name
        if name.startswith(f".{self.folder.name}.") and name.endswith(".tmp"):
            return self.folder  # the staging folder that could not be made
        return path

    def __enter__(self):
        if self.path is None:
            self.create()
        return self

    def __exit__(self, kind, value, traceback):
        try:
            if kind is None:
                self.commit()
        finally:
            self.discard()
        return False

    def discard(self):
        """Remove the staging folder and the parents :meth:`create` made."""
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
        for path in reversed(self._created):
            with contextlib.suppress(OSError):
                path.rmdir()  # only when empty: the output is not there
        self._created = []

    def commit(self):
        """Move every staged file into the output folder (see the class)."""
        folder, staging = self.folder, self.path
        if not folder.exists():
            try:
                # One step; replaces an empty folder made meanwhile, too.
                os.rename(staging, folder)
                self.path = None
                self._created = []
                return
            except OSError as err:
                if (
                    err.errno not in (errno.ENOTEMPTY, errno.EEXIST)
                    or not folder.is_dir()
                ):
                    raise
        names = sorted(
            (p.name for p in staging.iterdir()),
            key=lambda name: (name == "report.html", name),  # the report last
        )
        backup = Path(tempfile.mkdtemp(prefix=".old.", dir=staging))
        done = []
        try:
            for name in names:
                target = folder / name
                moved_aside = target.exists() or target.is_symlink()
                if moved_aside:
                    os.rename(target, backup / name)
                done.append((name, moved_aside))
                os.rename(staging / name, target)
        except BaseException:
            for name, moved_aside in reversed(done):
                with contextlib.suppress(OSError):
                    if (folder / name).exists() and not (staging / name).exists():
                        os.rename(folder / name, staging / name)
                    if moved_aside:
                        os.rename(backup / name, folder / name)
            raise
        self._created = []


# -- .hspy files without HDF5 touching a full disk -------------------------------------

_PATCH_LOCK = threading.Lock()


def save_signal(signal, path, show_progressbar=None):
    """Save ``signal`` to ``path`` (``.hspy`` or ``.zspy``), overwriting it.

    HDF5 can crash the process (a segmentation fault) when the disk fills up
    while it writes, and then leaves a truncated file. So ``.hspy`` files of
    signals up to :data:`IN_MEMORY_LIMIT` bytes are built by HDF5 in memory
    (its ``core`` driver, no backing store) and written by Python, where a
    full disk is an ``OSError``; larger ones are written by HDF5 after a
    check that the disk has room for the uncompressed data. Zarr (``.zspy``)
    reports a full disk as an ``OSError`` itself.

    Returns the path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import hyperspy.api as hs
    >>> import numpy as np
    >>> from clusterspy._atomic import save_signal
    >>> s = hs.signals.Signal1D(np.arange(24.0).reshape(2, 3, 4))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_signal(s, pathlib.Path(tmp) / "s.hspy")
    ...     float(hs.load(path).data.sum())
    276.0
    """
    path = Path(path)
    with naming(path):
        return _save(signal, path, show_progressbar)


def _save(signal, path, show_progressbar):
    kwargs = {} if show_progressbar is None else {"show_progressbar": show_progressbar}
    if path.suffix.lower() != ".hspy":
        signal.save(path, overwrite=True, **kwargs)
        return path
    nbytes = int(getattr(signal.data, "nbytes", 0))
    image = None
    if nbytes <= IN_MEMORY_LIMIT:
        image = _hspy_image(signal, path, kwargs)
    if image is None:
        free = shutil.disk_usage(path.parent).free
        if free < nbytes:
            raise OSError(
                errno.ENOSPC,
                f"{os.strerror(errno.ENOSPC)} (the data need up to {nbytes} bytes, "
                f"{free} are free)",
                str(path),
            )
        signal.save(path, overwrite=True, **kwargs)
        return path
    try:
        with open(path, "wb") as f:
            f.write(image)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path


def _hspy_image(signal, path, kwargs):
    """The bytes of ``signal`` saved as ``.hspy``, or None if that cannot be done."""
    try:
        import h5py
        from rsciio.hspy import _api
    except ImportError:  # pragma: no cover - dependencies of HyperSpy
        return None
    if getattr(_api, "h5py", None) is not h5py:  # pragma: no cover - another rsciio
        return None
    target = os.fspath(path.absolute())
    proxy = _InMemoryH5py(h5py, target)
    # The writer finds h5py as a module global; the proxy hands the in-memory
    # file to the call for `target` only, every other file (another thread's
    # save) passes through unchanged.
    with _PATCH_LOCK:
        _api.h5py = proxy
        try:
            signal.save(path, overwrite=True, **kwargs)
        finally:
            _api.h5py = h5py
    return proxy.image


class _InMemoryH5py:
    """Stands for the h5py module; ``File`` of one path opens in memory."""

    def __init__(self, h5py, target):
        self._h5py = h5py
        self._target = target
        self.image = None

    def __getattr__(self, name):
        return getattr(self._h5py, name)

    def File(self, name, mode="r", **kwargs):  # noqa: N802 - h5py's name
        h5py = self._h5py
        if mode not in ("w", "w-", "x") or os.fspath(Path(name).absolute()) != (
            self._target
        ):
            return h5py.File(name, mode, **kwargs)
        proxy = self

        class _ImageFile(h5py.File):
            def close(self):
                if self.id.valid:
                    self.flush()
                    proxy.image = self.id.get_file_image()
                super().close()

        return _ImageFile(name, mode, driver="core", backing_store=False, **kwargs)
