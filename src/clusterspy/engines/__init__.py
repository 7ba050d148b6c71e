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
    ``"blockwise"`` when the features are a dask array (a lazy signal with
    the ``"signal"`` source or a lazy user signal), ``"memory"`` otherwise.

:mod:`clusterspy.engines.lloyd` (compiled k-means for few features) serves
the estimation of the number of clusters.
"""

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
]

#: The fit function of each engine, by name (a new engine adds one line).
ENGINE_FITS = {"memory": memory.fit, "blockwise": blockwise.fit, "torch": torch.fit}

#: The accepted values of ``engine``.
ENGINES = ("auto", *ENGINE_FITS)


def choose_engine(engine, features_are_lazy):
    """The engine that ``engine`` names; ``"auto"`` by the features' laziness.

    Examples
    --------
    >>> from clusterspy.engines import choose_engine
    >>> choose_engine("auto", True), choose_engine("memory", True)
    ('blockwise', 'memory')
    """
    if engine == "auto":
        return "blockwise" if features_are_lazy else "memory"
    return engine
