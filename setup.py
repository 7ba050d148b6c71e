"""Build the compiled loops; everything else is in pyproject.toml.

The three Cython modules are optional: on a machine without a working C
compiler (most Windows machines) the build warns and goes on, and clusterspy
runs the same analyses with its NumPy/scikit-learn fallbacks, more slowly
(it logs so once at INFO level). Released wheels are built with the modules
(cibuildwheel, ``.github/workflows/wheels.yml``). This follows RosettaSciIO's
setup.py.
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:  # setuptools >= 59 vendors distutils' errors here
    from setuptools.errors import (
        CCompilerError,
        CompileError,
        ExecError,
        LinkError,
        PlatformError,
    )
except ImportError:  # pragma: no cover - older setuptools
    from distutils.errors import CCompilerError, CompileError, LinkError
    from distutils.errors import DistutilsExecError as ExecError
    from distutils.errors import DistutilsPlatformError as PlatformError

# What a missing or broken compiler raises: no compiler found (Windows without
# MSVC: PlatformError), a compiler that fails (CompileError, ExecError), or a
# linker that fails; OSError and ValueError for a compiler that cannot be run.
BUILD_ERRORS = (
    CCompilerError,
    CompileError,
    ExecError,
    LinkError,
    PlatformError,
    OSError,
    ValueError,
)

# Set CLUSTERSPY_REQUIRE_COMPILED=1 to make a failed build an error (the
# release wheels do: a wheel without its loops must not be published).
REQUIRED = os.environ.get("CLUSTERSPY_REQUIRE_COMPILED", "0") == "1"


def _warn(what, error):
    message = (
        f"clusterspy: {what} failed ({error!r}); installing without the compiled "
        "loops. Every feature works through the NumPy/scikit-learn fallbacks, "
        "more slowly. Install a C compiler and reinstall for the fast loops."
    )
    print("WARNING: " + message, file=sys.stderr)


class OptionalBuildExt(build_ext):
    """``build_ext`` that carries on without the extensions when it cannot build."""

    def run(self):
        try:
            super().run()
        except BUILD_ERRORS as error:
            if REQUIRED:
                raise
            _warn("building the extensions", error)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as error:
            if REQUIRED:
                raise
            _warn(f"building {ext.name}", error)


# errno is never read: without it, square roots vectorise (gcc and clang).
FLAGS = [] if sys.platform == "win32" else ["-fno-math-errno"]

EXTENSIONS = cythonize(
    [
        Extension(
            "clusterspy.engines._lloyd",
            ["src/clusterspy/engines/_lloyd.pyx"],
            extra_compile_args=FLAGS,
        ),
        Extension(
            "clusterspy._pairwise",
            ["src/clusterspy/_pairwise.pyx"],
            extra_compile_args=FLAGS,
        ),
        Extension(
            "clusterspy._moments",
            ["src/clusterspy/_moments.pyx"],
            extra_compile_args=FLAGS,
        ),
    ],
    compiler_directives={"language_level": 3},
)
# Editable installs copy the built modules into the source tree; an optional
# extension that could not be built is skipped there instead of failing the
# install (set after cythonize, which makes new Extension objects).
for extension in EXTENSIONS:
    extension.optional = not REQUIRED

setup(ext_modules=EXTENSIONS, cmdclass={"build_ext": OptionalBuildExt})
