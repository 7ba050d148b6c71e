"""Helpers of the sphinx-gallery configuration (see ``docs/conf.py``).

sphinx-gallery reads its examples from a folder that must hold a gallery
header file. The examples live in the repository's ``examples/`` folder,
which is kept free of Sphinx files; the gallery is built from a mirror of it,
``docs/_gallery_src/``, made of links to every file of ``examples/`` plus the
header ``docs/gallery_header.rst``. The mirror is remade at every build, so
an example added to or removed from ``examples/`` appears in or leaves the
gallery with no change here.
"""

from __future__ import annotations

import builtins
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
MIRROR = DOCS / "_gallery_src"
HEADER = DOCS / "gallery_header.rst"

_examples_dir: Path | None = None


def mirror_examples(examples: Path) -> Path:
    """Make ``docs/_gallery_src`` mirror ``examples``; return its path."""
    global _examples_dir
    examples = Path(examples).resolve()
    _examples_dir = examples
    if MIRROR.exists():
        shutil.rmtree(MIRROR)
    MIRROR.mkdir(parents=True)
    shutil.copyfile(HEADER, MIRROR / "GALLERY_HEADER.rst")
    for path in sorted(examples.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        target = MIRROR / path.name
        try:
            target.symlink_to(path)
        except OSError:  # no symlinks (Windows without developer mode)
            shutil.copy2(path, target)
    return MIRROR


def reset_example(gallery_conf, fname, when):
    """Give the example its real ``__file__`` while it runs.

    sphinx-gallery deliberately runs examples without ``__file__`` (so that
    they also work as notebooks), but a script run with ``python`` has one,
    and examples may use it to find data beside the repository. The name is
    set in ``builtins`` before the example runs, so that a module-level
    ``__file__`` resolves to the file in ``examples/``, and removed after.
    """
    if fname is None:
        return
    if when == "before":
        examples = _examples_dir or (DOCS.parent / "examples")
        builtins.__file__ = str(examples / Path(fname).name)
    elif hasattr(builtins, "__file__"):
        del builtins.__file__
