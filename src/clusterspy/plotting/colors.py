"""The colours of every clusterspy plot: one per cluster, fixed ones for the
positions outside every cluster (see the colour convention of
:mod:`clusterspy.plotting`)."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
from matplotlib import colors as mcolors

from ..results import MASKED, NOISE, UNASSIGNED
from ..validation import check_int

__all__ = ["MASKED_COLOR", "NOISE_COLOR", "UNASSIGNED_COLOR", "cluster_colors"]

#: Colour of noise positions (label :data:`~clusterspy.NOISE`).
NOISE_COLOR = (0.0, 0.0, 0.0, 1.0)
#: Colour of masked positions (label :data:`~clusterspy.MASKED`) and of NaN.
MASKED_COLOR = mcolors.to_rgba("#d9d9d9")
#: Colour of unassigned positions (label :data:`~clusterspy.UNASSIGNED`).
UNASSIGNED_COLOR = mcolors.to_rgba("white")

# Listed colormaps with fewer entries than this are qualitative palettes
# (tab10, Set1, ...), whose colours are used in order; longer ones (viridis
# is a 256-entry ListedColormap) are continuous and are sampled evenly.
_QUALITATIVE_MAX = 64


def cluster_colors(n_clusters, cmap=None):
    """Return the colour of every cluster, as used by all clusterspy plots.

    Parameters
    ----------
    n_clusters : int
        Number of clusters.
    cmap : None, str, matplotlib.colors.Colormap or list of colours
        ``None`` (default): ``"tab10"`` for up to 10 clusters, ``"tab20"``
        for up to 20, and ``"turbo"`` sampled evenly beyond. A qualitative
        colormap (a ``ListedColormap`` with few entries, such as ``"Set1"``)
        gives its colours in order, repeated with a warning if it has fewer
        than ``n_clusters``; a continuous one is sampled evenly. A list of
        matplotlib colours is used as it is and must be long enough.

    Returns
    -------
    numpy.ndarray, shape (n_clusters, 4)
        RGBA colours; row ``i`` is the colour of cluster ``i``.

    Examples
    --------
    >>> from clusterspy.plotting import cluster_colors
    >>> cluster_colors(3).shape
    (3, 4)
    >>> cluster_colors(2, cmap=["red", "blue"])[1].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    n = check_int(n_clusters, "n_clusters", minimum=0)
    if cmap is None:
        cmap = "tab10" if n <= 10 else "tab20" if n <= 20 else "turbo"
    if isinstance(cmap, str):
        try:
            cmap = matplotlib.colormaps[cmap]
        except KeyError:
            raise ValueError(
                f"`cmap` {cmap!r} is not a matplotlib colormap name; pass a "
                "colormap name, a Colormap or a list of colours."
            ) from None
    if isinstance(cmap, mcolors.Colormap):
        if isinstance(cmap, mcolors.ListedColormap) and cmap.N < _QUALITATIVE_MAX:
            if n > cmap.N:
                warnings.warn(
                    f"The colormap {cmap.name!r} has {cmap.N} colours for "
                    f"{n} clusters: colours repeat. Pass a longer colormap.",
                    UserWarning,
                    stacklevel=2,
                )
            return np.asarray(cmap(np.arange(n) % cmap.N), dtype=float).reshape(n, 4)
        return np.asarray(cmap(np.linspace(0.0, 1.0, n)), dtype=float).reshape(n, 4)
    try:
        rgba = np.array([mcolors.to_rgba(c) for c in cmap], dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "`cmap` must be None, a colormap name, a Colormap or a list of "
            f"matplotlib colours; got {cmap!r}."
        ) from error
    if len(rgba) < n:
        raise ValueError(
            f"`cmap` gives {len(rgba)} colours for {n} clusters; pass at least {n}."
        )
    return rgba[:n].reshape(n, 4)


def _label_cmap_norm(colors):
    """A colormap and norm that map label values to their colours exactly.

    Label ``i`` (``MASKED``, ``NOISE``, ``0 .. k-1``) falls in the bin
    ``[i - 0.5, i + 0.5)``, so ``cmap(norm(i))`` is the colour of label
    ``i`` and the image keeps the label values as its data.
    """
    # Consecutive label values from UNASSIGNED (-3), MASKED (-2) and NOISE (-1)
    # up to k - 1.
    special = sorted(
        [(UNASSIGNED, UNASSIGNED_COLOR), (MASKED, MASKED_COLOR), (NOISE, NOISE_COLOR)]
    )
    listed = mcolors.ListedColormap(
        np.vstack([c for _, c in special] + [np.reshape(colors, (-1, 4))]),
        name="clusterspy_labels",
    )
    boundaries = np.arange(special[0][0] - 0.5, len(colors), 1.0)
    return listed, mcolors.BoundaryNorm(boundaries, listed.N)


def _continuous_cmap(image_cmap):
    """A copy of ``image_cmap`` drawing NaN (masked positions) light grey."""
    cmap = (
        matplotlib.colormaps[image_cmap] if isinstance(image_cmap, str) else image_cmap
    )
    return cmap.with_extremes(bad=MASKED_COLOR)
