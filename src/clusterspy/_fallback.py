"""Say once, at INFO level, that the compiled loops are missing.

``pip install`` builds three Cython modules when a C compiler is available and
carries on without them otherwise (setup.py); clusterspy then computes the same
results with NumPy and scikit-learn, more slowly. Users are told once per
session, on the ``clusterspy`` logger, not at every call.
"""

from __future__ import annotations

import logging
import threading

_logger = logging.getLogger("clusterspy")
_lock = threading.Lock()
_reported = False


def report_missing_compiled(module):
    """Log, the first time only, that ``module`` was not built.

    Parameters
    ----------
    module : str
        Name of the missing compiled module.

    Returns
    -------
    bool
        True if this call logged the message.

    Examples
    --------
    >>> from clusterspy._fallback import report_missing_compiled
    >>> isinstance(report_missing_compiled("clusterspy._moments"), bool)
    True
    """
    global _reported
    with _lock:
        if _reported:
            return False
        _reported = True
    _logger.info(
        "clusterspy's compiled loops are missing (%s was not built, no C compiler "
        "at install?): using the NumPy/scikit-learn fallbacks, which give the same "
        "results more slowly. Install clusterspy from a wheel, or reinstall it with "
        "a C compiler, for the fast loops.",
        module,
    )
    return True


def require_zspy(what="Writing .zspy files"):
    """Raise a clear ImportError if the optional zarr support is missing.

    ``.zspy`` files are read and written by RosettaSciIO with zarr, which is
    not a core dependency of clusterspy: the ``zspy`` extra installs the zarr
    versions RosettaSciIO supports.

    Parameters
    ----------
    what : str
        What needs zarr, to start the message.

    Raises
    ------
    ImportError
        Naming the extra to install.

    Examples
    --------
    >>> from clusterspy._fallback import require_zspy
    >>> require_zspy()  # nothing happens where zarr is installed
    """
    try:
        import zarr  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"{what} needs zarr, an optional dependency: install it with "
            "`pip install \"clusterspy[zspy]\"` (or `conda install zarr`)."
        ) from error
