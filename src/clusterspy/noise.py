"""Shot noise in data that are not counts: the photon-transfer gain.

A Raman or cathodoluminescence CCD, or an EELS spectrum corrected for the
detector's gain, records photons or electrons scaled by a gain and offset
by the read-out: the values are not whole numbers, but their noise is still
counting noise, its variance growing in proportion to the intensity. The
photon-transfer curve (Janesick, *Photon Transfer*, SPIE 2007) measures
that proportion: the variance of the noise against the mean signal is a
line ``variance = offset + gain * mean``. Dividing the data by ``gain``
(after adding ``offset / gain``, which turns the read-out variance into an
equivalent of counts) gives *count equivalents*, whose noise is Poisson's,
and the Poisson split rule of ``n_clusters="auto"``
(:func:`clusterspy.auto_k.estimate_k_counts`) applies to them.

The noise is measured where the data give it without a flat-field series:
the residual of the data beyond their significant components, on positions
held out from the fit of those components, whose variance in cells of
similar intensity draws the curve (corrected for the share of the noise
the components remove, see :func:`photon_transfer`). The estimate is *usable* when the
curve is a rising line (the fitted line explains most of the variance
across intensities) and shot noise dominates at the median intensity; data
whose noise does not grow with intensity (additive Gaussian noise, data
scaled to unit variance) are not counts in disguise, and keep the metrics'
majority.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["GainEstimate", "photon_transfer", "count_equivalents"]

#: Cells of similar reconstructed intensity the curve is drawn from.
_N_BINS = 20


class GainEstimate(NamedTuple):
    """A photon-transfer line ``variance = offset + gain * mean``.

    Attributes
    ----------
    gain : float
        Variance per unit of intensity: the data's unit per counted quantum.
    offset : float
        Variance at zero intensity (read-out noise, subtracted background).
    r_squared : float
        Share of the variance across intensity cells the line explains.
    shot_share : float
        ``gain * m / (offset + gain * m)`` at the intensity-weighted mean
        intensity ``m`` (where the counts are): the share of the noise that
        is counting noise there.
    usable : bool
        ``gain > 0``, ``r_squared >= 0.9`` and ``shot_share >= 0.5``.
    means, variances : numpy.ndarray
        The curve: mean reconstructed intensity and residual variance of
        each cell.
    """

    gain: float
    offset: float
    r_squared: float
    shot_share: float
    usable: bool
    means: np.ndarray
    variances: np.ndarray


def photon_transfer(data, n_components, max_rows=4000, random_state=0):
    """The photon-transfer line of ``data``'s noise beyond ``n_components``.

    The positions are split in two seeded halves: the significant subspace
    (rank ``n_components``, with the mean) is fitted on one, and the other's
    residual off that subspace is the noise. A projection removes part of
    the noise, more in the strong channels the subspace leans on; the fit
    accounts for it exactly: with ``Q = I - P`` (``P`` the projection), a
    residual's expected square is
    ``sum_l Q_jl**2 * (offset + gain * mean_il)``, so ``offset`` and
    ``gain`` are fitted on the columns ``sum_l Q_jl**2`` and
    ``mean @ (Q * Q)`` (averaged in cells of similar intensity), not on the
    residuals' raw variance, which a rank-r fit biases low where the
    intensity is high.

    Parameters
    ----------
    data : array-like, shape (n_positions, n_channels)
        The spectra, one row per position.
    n_components : int
        Significant components: the rank of the subspace whose residual is
        taken as the noise.
    max_rows : int
        Rows per half at most (a seeded sample beyond): the line needs
        cells, not every position.
    random_state : int

    Returns
    -------
    GainEstimate

    Examples
    --------
    Counts scaled by a gain of 0.2, with a little read-out noise:

    >>> import numpy as np
    >>> from clusterspy.noise import photon_transfer
    >>> rng = np.random.default_rng(0)
    >>> mean = np.outer(rng.uniform(0.5, 2, 400), rng.uniform(5, 200, 300))
    >>> data = 0.2 * rng.poisson(mean) + rng.normal(0, 0.3, mean.shape)
    >>> fit = photon_transfer(data, 1)
    >>> round(fit.gain, 2), fit.usable
    (0.2, True)
    """
    from sklearn.utils.extmath import randomized_svd

    X = np.asarray(data, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"`data` must be 2-D (n_positions, n_channels), not of shape {X.shape}."
        )
    n, m = X.shape
    r = int(n_components)
    if not 1 <= r < min(n // 2, m) - 1:
        raise ValueError(
            f"`n_components` must be in [1, {min(n // 2, m) - 2}] for data of shape "
            f"{X.shape}, not {n_components!r}."
        )
    rng = np.random.default_rng(random_state)
    order = rng.permutation(n)
    fit_rows = np.sort(order[: n // 2][:max_rows])
    test_rows = np.sort(order[n // 2 :][:max_rows])
    train, test = X[fit_rows], X[test_rows]
    mean = train.mean(axis=0)
    _, _, vt = randomized_svd(train - mean, r, n_oversamples=10, n_iter=7,
                              random_state=random_state)
    projection = vt.T @ vt
    q = np.eye(m) - projection
    q2 = q * q
    reconstruction = mean + (test - mean) @ projection
    squares = ((test - mean) @ q) ** 2
    offset_column = np.broadcast_to(q2.sum(axis=0), squares.shape)
    gain_column = np.clip(reconstruction, 0, None) @ q2
    edges = np.quantile(reconstruction, np.linspace(0, 1, _N_BINS + 1))
    cell = np.clip(np.searchsorted(edges, reconstruction, side="right") - 1, 0,
                   _N_BINS - 1).ravel()
    size = np.bincount(cell, minlength=_N_BINS)
    filled = size > 0

    def average(values):
        return np.bincount(cell, np.ravel(values), _N_BINS)[filled] / size[filled]

    means = average(reconstruction)
    variances = average(squares)
    design = np.column_stack([average(offset_column), average(gain_column)])
    (offset, gain), *_ = np.linalg.lstsq(design, variances, rcond=None)
    fitted = design @ (offset, gain)
    total = ((variances - variances.mean()) ** 2).sum()
    r_squared = float(1 - ((variances - fitted) ** 2).sum() / total) if total > 0 else 0.0
    # Where the counts are: the intensity-weighted mean intensity.
    positive = np.clip(reconstruction, 0, None)
    level = float((positive**2).sum() / max(positive.sum(), 1e-300))
    shot = gain * level
    noise = offset + shot
    shot_share = float(shot / noise) if noise > 0 and gain > 0 else 0.0
    usable = bool(gain > 0 and r_squared >= 0.9 and shot_share >= 0.5)
    return GainEstimate(float(gain), float(offset), r_squared, shot_share, usable,
                        means, variances)


def count_equivalents(data, estimate):
    """The data as whole count equivalents: ``rint((data + offset / gain) / gain)``.

    The offset's variance becomes ``offset / gain**2`` pseudo-counts, so the
    equivalents' variance equals their mean, as a Poisson count's does;
    negative values (noise around a subtracted background) are clipped at 0.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.noise import GainEstimate, count_equivalents
    >>> fit = GainEstimate(0.5, 0.0, 1.0, 1.0, True, None, None)
    >>> count_equivalents(np.array([[1.0, 2.6, -0.4]]), fit)
    array([[2., 5., 0.]])
    """
    shift = max(estimate.offset, 0.0) / estimate.gain
    out = (np.asarray(data, dtype=np.float64) + shift) / estimate.gain
    return np.rint(np.clip(out, 0, None))
