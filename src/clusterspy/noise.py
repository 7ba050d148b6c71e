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

import numbers
from typing import NamedTuple

import numpy as np

__all__ = [
    "GainEstimate",
    "check_rank",
    "photon_transfer",
    "count_equivalents",
    "from_count_equivalents",
    "gain_from_record",
]

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


def check_rank(n_components, shape):
    """``n_components`` as an int, checked against data of ``shape``: the
    rank must leave residual on both halves of the positions.

    Examples
    --------
    >>> from clusterspy.noise import check_rank
    >>> check_rank(3, (100, 64))
    3
    """
    n, m = shape
    largest = min(n // 2, m) - 2
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
        raise TypeError(f"`n_components` must be an int, not {n_components!r}.")
    if not 1 <= n_components <= largest:
        raise ValueError(
            f"`n_components` must be in [1, {largest}] for data of shape "
            f"{tuple(shape)}, not {n_components!r}."
        )
    return int(n_components)


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
    r = check_rank(n_components, X.shape)
    if isinstance(max_rows, bool) or not isinstance(max_rows, numbers.Integral) or (
        max_rows < 2
    ):
        raise ValueError(f"`max_rows` must be an int >= 2, not {max_rows!r}.")
    if not np.isfinite(X).all():
        raise ValueError("`data` must be finite: it holds NaN or infinite values.")
    n = X.shape[0]
    rng = np.random.default_rng(random_state)
    order = rng.permutation(n)
    fit_rows = np.sort(order[: n // 2][:max_rows])
    test_rows = np.sort(order[n // 2 :][:max_rows])
    train, test = X[fit_rows], X[test_rows]
    mean = train.mean(axis=0)
    _, _, v = randomized_svd(train - mean, r, n_oversamples=10, n_iter=7,
                             random_state=random_state)
    # With P = v.T @ v and Q = I - P, nothing of size channels x channels is
    # formed (an image stack has as many channels as pixels per frame):
    # the residual is t - (t @ v.T) @ v; sum_l Q_jl**2 = 1 - P_jj (P is a
    # projection); and mu @ (Q * Q) = mu * (1 - 2 P_jj) + mu @ (P * P),
    # where P * P = k.T @ k with k[(a, b), l] = v[a, l] * v[b, l].
    centred = test - mean
    coefficients = centred @ v.T
    reconstruction = mean + coefficients @ v
    squares = (centred - coefficients @ v) ** 2
    leverage = (v * v).sum(axis=0)
    k = (v[:, None, :] * v[None, :, :]).reshape(r * r, -1)
    positive = np.clip(reconstruction, 0, None)
    offset_column = np.broadcast_to(1 - leverage, squares.shape)
    gain_column = positive * (1 - 2 * leverage) + (positive @ k.T) @ k
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
    # Where the counts are: the intensity-weighted mean intensity. A negative
    # offset (a dark pedestal not subtracted) is allowed: the noise there is
    # still gain * (intensity - pedestal).
    level = float((positive**2).sum() / max(positive.sum(), 1e-300))
    shot = gain * level
    noise = offset + shot
    shot_share = float(min(shot / noise, 1.0)) if noise > 0 and gain > 0 else 0.0
    usable = bool(gain > 0 and r_squared >= 0.9 and shot_share >= 0.5)
    return GainEstimate(float(gain), float(offset), r_squared, shot_share, usable,
                        means, variances)


def count_equivalents(data, estimate, positions=None):
    """The data as whole count equivalents: ``rint((data + offset / gain) / gain)``.

    The offset's variance becomes ``offset / gain**2`` pseudo-counts (a
    negative offset, a dark pedestal, is subtracted), so the equivalents'
    variance equals their mean, as a Poisson count's does; values below
    zero (noise around a subtracted background) are clipped at 0.

    Parameters
    ----------
    data : array-like, shape (n_rows, n_channels)
    estimate : GainEstimate
    positions : array-like of int, shape (n_rows,), or None
        For rows that are sums over positions (cluster sums): how many
        positions each row sums, so that the offset counts once per
        position. None: every row is one position.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.noise import GainEstimate, count_equivalents
    >>> fit = GainEstimate(0.5, 0.0, 1.0, 1.0, True, None, None)
    >>> count_equivalents(np.array([[1.0, 2.6, -0.4]]), fit)
    array([[2., 5., 0.]])
    """
    if not estimate.gain > 0:
        raise ValueError(f"The estimate's gain must be > 0, not {estimate.gain!r}.")
    shift = estimate.offset / estimate.gain
    if positions is not None:
        shift = shift * np.asarray(positions, dtype=np.float64)[:, None]
    out = (np.asarray(data, dtype=np.float64) + shift) / estimate.gain
    return np.rint(np.clip(out, 0, None))


def from_count_equivalents(counts, estimate):
    """Count equivalents back in the data's units: ``gain * counts - offset / gain``
    (the inverse of :func:`count_equivalents` before its rounding).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.noise import GainEstimate, from_count_equivalents
    >>> fit = GainEstimate(0.5, 0.0, 1.0, 1.0, True, None, None)
    >>> from_count_equivalents(np.array([2.0, 5.0]), fit)
    array([1. , 2.5])
    """
    return np.asarray(counts, dtype=np.float64) * estimate.gain - (
        estimate.offset / estimate.gain)


def gain_from_record(record):
    """The :class:`GainEstimate` of a result's record
    (``parameters["n_clusters_choice"]["gain"]``): gain, offset and R²; the
    curve itself is not recorded."""
    return GainEstimate(float(record["gain"]), float(record["offset"]),
                        float(record.get("r_squared", np.nan)), np.nan, True,
                        None, None)
