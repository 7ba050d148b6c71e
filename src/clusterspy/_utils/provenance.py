"""What a result records about how it was made: versions and parameters."""

from __future__ import annotations

import numpy as np

from .._version import __version__

__all__ = ["describe", "versions"]


def _installed_version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions():
    """Versions of the packages that produce a result.

    Examples
    --------
    >>> from clusterspy._utils.provenance import versions
    >>> sorted(versions())
    ['clusterspy', 'dask', 'hyperspy', 'numpy', 'scikit-learn']
    """
    import hyperspy
    import sklearn

    return {
        "clusterspy": __version__,
        "hyperspy": hyperspy.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        # read from the installed metadata: importing dask costs a fraction
        # of a second, for a version string
        "dask": _installed_version("dask"),
    }


def describe(obj):
    """A parameter as recorded: plain values as they are, a signal by its title.

    Examples
    --------
    >>> from clusterspy._utils.provenance import describe
    >>> describe(3), describe([1, 2])
    (3, '[1, 2]')
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    from hyperspy.signal import BaseSignal

    if isinstance(obj, BaseSignal):
        title = obj.metadata.General.title
        return f"<{type(obj).__name__} {title!r}>"
    return repr(obj)
