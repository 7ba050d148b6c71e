"""Engines: how a cluster analysis touches the data.

Every engine is a module with one function, ``fit(plan, estimator, request)
-> Fit`` (:mod:`clusterspy.engines.base`); :data:`ENGINE_FITS` maps the
names to them. Nothing here imports the pipeline (:mod:`clusterspy.analysis`).

``"memory"`` (:mod:`clusterspy.engines.memory`)
    The features are one NumPy array and scikit-learn's estimators run on it
    as they are. Used for eager signals, and for lazy signals whose features
    are small (decomposition loadings).
``"blockwise"`` (:mod:`clusterspy.engines.blockwise`)
    The out-of-core engine: every pass over the data is one dask map-reduce
    over row blocks (:mod:`clusterspy.engines.rowblocks`), so a lazy signal
    larger than memory is never loaded. K-means runs exact Lloyd passes
    (:class:`BlockwiseKMeans`); mini-batch k-means streams ``partial_fit``
    over the blocks; algorithms that cannot stream are fitted on a seeded
    sample and every position is then assigned blockwise. Runs unchanged on a
    ``dask.distributed`` cluster.
``"torch"`` (:mod:`clusterspy.engines.torch`)
    K-means only: the Lloyd iterations on a PyTorch device (CUDA when there
    is one, else the CPU) in float32, with the blockwise engine's start and
    stopping rules; lazy data are streamed block by block. Needs the extra
    ``clusterspy[deep]``.
``"auto"`` (the default)
    ``"memory"`` for NumPy features, and for lazy features (a lazy signal
    with the ``"signal"`` source or a lazy user signal) whose size in memory
    fits the memory budget (``engine_kwargs={"memory_budget": bytes}``; by
    default a quarter of the memory available when the call starts, see
    :func:`default_memory_budget`): they are computed once and clustered in
    memory, with the eager signal's labels, which is much faster than
    reading a lazy file once per pass. ``"blockwise"`` for larger lazy
    features. Clustering lazy features in memory is logged at INFO level on
    the ``clusterspy`` logger; the choice is recorded as the result's ``parameters["engine"]``.

:mod:`clusterspy.engines.lloyd` (compiled k-means for few features) serves
the estimation of the number of clusters.
"""

import logging
import os

import numpy as np

from . import blockwise, memory, torch
from .base import Fit, FitRequest
from .kmeans import BlockwiseKMeans
from .rowblocks import RowBlocks

__all__ = [
    "ENGINES",
    "ENGINE_FITS",
    "BlockwiseKMeans",
    "Fit",
    "FitRequest",
    "RowBlocks",
    "choose_engine",
    "default_memory_budget",
]

# A child of the "clusterspy" logger (its handlers and level apply): the
# choice of engine, apart from the messages of the passes over the data.
_logger = logging.getLogger("clusterspy.engines")

#: The fit function of each engine, by name (a new engine adds one line).
ENGINE_FITS = {"memory": memory.fit, "blockwise": blockwise.fit, "torch": torch.fit}

#: The accepted values of ``engine``.
ENGINES = ("auto", *ENGINE_FITS)


def default_memory_budget():
    """Bytes of lazy features that ``engine="auto"`` clusters in memory.

    A quarter of the memory available now (``psutil`` where installed, else
    the free physical pages that ``os.sysconf`` reports), leaving room for
    the preprocessed copy, the cluster signals and everything else.

    Examples
    --------
    >>> from clusterspy.engines import default_memory_budget
    >>> default_memory_budget() > 0
    True
    """
    try:
        import psutil

        available = psutil.virtual_memory().available
    except ImportError:  # pragma: no cover - psutil is a dependency of dask's
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available = 2**30
    return max(1, int(available) // 4)


def features_nbytes(features):
    """Bytes of the features once in memory, as floats (integers as float64)."""
    dtype = np.dtype(features.dtype)
    itemsize = dtype.itemsize if dtype.kind == "f" else 8
    return int(np.prod(features.shape, dtype=np.int64)) * itemsize


def choose_engine(engine, features, memory_budget=None):
    """The engine that ``engine`` names; ``"auto"`` by the features' size.

    Parameters
    ----------
    engine : {"auto", "memory", "blockwise", "torch"}
    features : array or bool
        The features before preprocessing (NumPy or dask), or whether they
        are lazy (then a lazy one always goes to ``"blockwise"``).
    memory_budget : int or None
        Bytes up to which lazy features are computed and clustered in
        memory; None: :func:`default_memory_budget`.

    Examples
    --------
    >>> import dask.array as da
    >>> from clusterspy.engines import choose_engine
    >>> choose_engine("auto", True), choose_engine("memory", True)
    ('blockwise', 'memory')
    >>> lazy = da.zeros((100, 8), dtype="float32")  # 3200 bytes
    >>> choose_engine("auto", lazy), choose_engine("auto", lazy, memory_budget=1000)
    ('memory', 'blockwise')
    """
    if engine != "auto":
        return engine
    if isinstance(features, (bool, np.bool_)):
        return "blockwise" if features else "memory"
    if not type(features).__module__.startswith("dask"):
        return "memory"
    if memory_budget is None:
        memory_budget = default_memory_budget()
    size = features_nbytes(features)
    if size <= memory_budget:
        _logger.info(
            "clusterspy: the lazy features (%.1f MiB) fit the memory budget "
            "(%.1f MiB): computed once and clustered in memory (engine='memory')",
            size / 2**20,
            memory_budget / 2**20,
        )
        return "memory"
    # DEBUG: out of core is what a lazy signal always got; the passes over
    # the data are logged at INFO
    _logger.debug(
        "clusterspy: the lazy features (%.1f MiB) exceed the memory budget "
        "(%.1f MiB): clustered block by block (engine='blockwise')",
        size / 2**20,
        memory_budget / 2**20,
    )
    return "blockwise"
