"""Build the compiled loops; everything else is in pyproject.toml."""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# errno is never read: without it, square roots vectorise (gcc and clang).
FLAGS = [] if sys.platform == "win32" else ["-fno-math-errno"]

setup(
    ext_modules=cythonize(
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
)
