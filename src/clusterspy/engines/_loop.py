"""The Lloyd iteration and its stopping rules, shared by every k-means engine.

The in-memory engine (``gemm``), the out-of-core passes (``rowblocks``) and
the torch engine differ only in how one pass labels the rows and sums them;
the loop around the pass, and so when k-means stops, is this one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lloyd_loop"]


def lloyd_loop(step, centers, max_iter, tol):
    """Lloyd iterations around ``step``, scikit-learn's stopping rules.

    ``step(centers, n_iter)`` labels every row with the nearest of
    ``centers`` and returns ``(labels, means, counts, inertia, *extra)``;
    ``n_iter`` is the iteration (1, 2, ...) or None for the final labelling.
    The loop stops when no label changes (strict convergence: the labels
    were given with these centres, which are their members' means), when
    the centres move by at most ``tol`` (squared, summed), or after
    ``max_iter`` passes; then one more pass labels the rows with the final
    centres, as scikit-learn does. An empty cluster keeps its centre.

    Returns
    -------
    centers : numpy.ndarray
        The final centres.
    out : tuple
        What the last ``step`` returned.
    n_iter : int
    strict : bool
        True when the loop ended by strict convergence.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines._loop import lloyd_loop
    >>> X = np.array([[0.0], [0.2], [5.0], [5.2]])
    >>> def step(centers, n_iter):
    ...     labels = np.abs(X - centers.T).argmin(axis=1)
    ...     means = np.array([X[labels == j].mean(axis=0) for j in range(2)])
    ...     return labels, means, np.bincount(labels, minlength=2), 0.0
    >>> centers, out, n_iter, strict = lloyd_loop(step, np.array([[0.0], [5.0]]), 10, 0.0)
    >>> centers.ravel().tolist(), n_iter, strict
    ([0.1, 5.1], 2, True)
    """
    labels = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        out = step(centers, n_iter)
        new_labels, means, counts = out[0], out[1], out[2]
        if labels is not None and np.array_equal(labels, new_labels):
            return centers, out, n_iter, True
        new_centers = np.where((counts > 0)[:, None], means, centers)
        shift = float(((new_centers - centers) ** 2).sum())
        labels, centers = new_labels, new_centers
        if shift <= tol:
            break
    return centers, step(centers, None), n_iter, False
