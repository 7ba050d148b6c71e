"""Build the compiled k-means loops; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "clusterspy.engines._lloyd",
                ["src/clusterspy/engines/_lloyd.pyx"],
            )
        ],
        compiler_directives={"language_level": 3},
    )
)
