"""Progress bars for passes over lazy data."""

from __future__ import annotations

import contextlib

__all__ = ["progress"]


def progress(show_progressbar):
    """A dask progress bar if progress is wanted, else a null context.

    ``None`` follows HyperSpy's ``show_progressbar`` preference. Passes
    shorter than a second print nothing, as HyperSpy's own bars.

    Examples
    --------
    >>> from clusterspy._utils.progress import progress
    >>> with progress(False):
    ...     pass
    """
    if show_progressbar is None:
        from hyperspy.defaults_parser import preferences

        show_progressbar = preferences.General.show_progressbar
    if show_progressbar:
        from dask.diagnostics import ProgressBar

        return ProgressBar(minimum=1.0)
    return contextlib.nullcontext()
