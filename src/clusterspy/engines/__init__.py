"""Engines: how a cluster analysis touches the data.

``"memory"``
    The features are one NumPy array and scikit-learn's estimators run on it
    as they are. Used for eager signals, and for lazy signals whose features
    are small (decomposition loadings).
``"blockwise"``
    The out-of-core engine (:mod:`clusterspy.engines.blockwise`): every pass
    over the data is one dask map-reduce over row blocks, so a lazy signal
    larger than memory is never loaded. K-means runs exact Lloyd passes
    (:class:`BlockwiseKMeans`); mini-batch k-means streams ``partial_fit``
    over the blocks; algorithms that cannot stream are fitted on a seeded
    sample and every position is then assigned blockwise. Runs unchanged on a
    ``dask.distributed`` cluster.
``"auto"`` (the default)
    ``"blockwise"`` when the features are a dask array (a lazy signal with
    the ``"signal"`` source or a lazy user signal), ``"memory"`` otherwise.
"""

from .blockwise import RowBlocks
from .kmeans import BlockwiseKMeans

__all__ = ["ENGINES", "BlockwiseKMeans", "RowBlocks"]

ENGINES = ("auto", "memory", "blockwise")
