"""Warning classes of clusterspy, which users can filter."""

from __future__ import annotations

__all__ = ["DoubtfulEstimateWarning"]


class DoubtfulEstimateWarning(UserWarning):
    """An automatic choice (number of components or clusters) is doubtful.

    Emitted when the answer deserves a look before it is trusted: ``k = 1``
    on a map with structure, a rule that fell back because no ``k`` met it,
    a splitting that was still accepted at ``max_clusters``, metrics that
    disagree, more components asked for than are significant, many
    positions with no counts.

    Examples
    --------
    >>> import warnings
    >>> from clusterspy.exceptions import DoubtfulEstimateWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DoubtfulEstimateWarning)
    ...     warnings.warn("k = 1 on a map with structure", DoubtfulEstimateWarning)
    """
