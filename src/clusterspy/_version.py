"""The installed version of clusterspy (one place, so that modules need not import the package)."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("clusterspy")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
