"""How many components of a decomposition are significant.

For counting data decomposed with HyperSpy's
``decomposition(normalize_poissonian_noise=True)`` (SVD, ``centre=None``)
the scaled data are ``D_ij / sqrt(a_i b_j)`` with ``a_i`` the counts of
position ``i`` and ``b_j`` those of channel ``j``, and HyperSpy stores
``explained_variance = S**2 / N`` (``N`` the decomposed positions). Under
Poisson noise ``Var(D_ij) = E[D_ij] ~ a_i b_j / T`` (``T`` the total
counts), so every scaled element has noise variance ``1 / T`` and pure
noise would give explained variances up to the Marchenko-Pastur edge
``(sqrt(N) + sqrt(M))**2 / (N T)``; a component is significant when its
explained variance lies above the noise.

Low-dose maps are far from the Gaussian regime Marchenko-Pastur describes:
a channel with one count in a position with one count makes an isolated
singular value of 1 (explained variance ``1/N``), far above the edge. So
the threshold used by default is the *simulated* noise edge: the largest
non-mean explained variance of data drawn from the no-structure
(independence) Poisson model with the map's own counts per position and
per channel, scaled and decomposed exactly as HyperSpy does. This is a
parametric bootstrap of the null hypothesis "no component beyond the mean";
it reproduces the sparse artefacts and the heteroscedasticity, and reduces
to the Marchenko-Pastur edge at high counts (``marchenko_pastur_edge``).

Data that are not Poisson-normalised fall back to HyperSpy's scree elbow
(``estimate_elbow_position``).
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from .exceptions import DoubtfulEstimateWarning

__all__ = [
    "ComponentChoice",
    "marchenko_pastur_edge",
    "poisson_noise_threshold",
    "significant_components",
    "significant_components_of",
    "warn_too_many_components",
]

# Tracy-Widom (beta = 1) 99 % quantile: the largest noise eigenvalue of a
# Gaussian matrix exceeds edge + 2.02 * its fluctuation scale in 1 % of draws.
_TW1_Q99 = 2.02

# Up to this smaller side the null's spectrum is computed whole (exact, and
# cheap); above it only its top values (see _top_eigenvalues).
_DENSE_GRAM_MAX = 512


class ComponentChoice(NamedTuple):
    """The number of significant components and the evidence for it.

    Attributes
    ----------
    n_components : int
        Significant components (at least 1: the mean spectrum).
    method : str
        ``"poisson-null"`` (simulated noise edge), ``"marchenko-pastur"``,
        ``"threshold"`` (given) or ``"elbow"`` (HyperSpy's scree elbow).
    threshold : float or None
        Explained-variance threshold (same units as HyperSpy's
        ``explained_variance``); ``None`` for the elbow.
    explained_variance : numpy.ndarray
        The curve the choice was made on.
    at_least : bool
        Every available component was above the threshold: the
        decomposition was truncated and there may be more.
    """

    n_components: int
    method: str
    threshold: float | None
    explained_variance: np.ndarray
    at_least: bool = False


def marchenko_pastur_edge(n_samples, n_features, noise_variance=1.0, quantile=True):
    """Upper edge of the noise spectrum, in HyperSpy's explained-variance units.

    The largest eigenvalue of ``E.T @ E / n_samples`` for an
    ``n_samples x n_features`` matrix of independent noise of variance
    ``noise_variance`` is ``noise_variance * (1 + sqrt(M/N))**2`` (the
    Marchenko-Pastur edge); with ``quantile=True`` the Tracy-Widom 99 %
    fluctuation ``2.02 * noise_variance * (sqrt(N)+sqrt(M)) *
    (1/sqrt(N)+1/sqrt(M))**(1/3) / N`` is added.

    Examples
    --------
    >>> from clusterspy.components import marchenko_pastur_edge
    >>> round(marchenko_pastur_edge(400, 100, quantile=False), 3)
    2.25
    """
    n, m = float(n_samples), float(n_features)
    root = np.sqrt(n) + np.sqrt(m)
    edge = noise_variance * root**2 / n
    if quantile:
        scale = root * (1 / np.sqrt(n) + 1 / np.sqrt(m)) ** (1 / 3)
        edge += _TW1_Q99 * noise_variance * scale / n
    return float(edge)


def _null_second_eigenvalue(row_sums, col_sums, rng):
    """Second explained variance of one draw of the independence model."""
    from scipy import sparse

    n, m = row_sums.size, col_sums.size
    total = int(round(row_sums.sum()))
    if total > n * m:
        # Dense: independent Poisson cells with means a_i b_j / T.
        d = rng.poisson(np.outer(row_sums, col_sums / total)).astype(np.float64)
        a = d.sum(axis=1)
        b = d.sum(axis=0)
        a[a == 0] = 1
        b[b == 0] = 1
        d /= np.sqrt(a)[:, None]
        d /= np.sqrt(b)[None, :]
        return _top_eigenvalues(d, 2, rng)[1] / n
    # Sparse: conditional on the total, the independent Poisson cells are
    # multinomial; draw each count's row and column.
    rows = rng.choice(n, size=total, p=row_sums / row_sums.sum())
    cols = rng.choice(m, size=total, p=col_sums / col_sums.sum())
    d = sparse.coo_matrix((np.ones(total), (rows, cols)), shape=(n, m)).tocsr()
    d.sum_duplicates()
    a = np.asarray(d.sum(axis=1)).ravel()
    b = np.asarray(d.sum(axis=0)).ravel()
    a[a == 0] = 1  # as HyperSpy's _keenan_kotula_scale
    b[b == 0] = 1
    scaled = sparse.diags(1 / np.sqrt(a)) @ d @ sparse.diags(1 / np.sqrt(b))
    return _top_eigenvalues(scaled, 2, rng)[1] / n


def _top_eigenvalues(d, n_top=None, rng=None):
    """The largest squared singular values of ``d``, largest first.

    Through the Gram matrix of the smaller side (dense or sparse ``d``).
    Every eigenvalue by a dense eigensolver when ``n_top`` is None or the
    Gram matrix is small; otherwise only the ``n_top`` largest, by
    Lanczos on the Gram matrix (``eigsh``, converged to ``1e-8``): a
    2048-channel map then costs the Gram product and a fraction of a
    second, not the full eigendecomposition (seconds per draw).
    """
    from scipy.sparse.linalg import eigsh

    gram = d.T @ d if d.shape[0] >= d.shape[1] else d @ d.T
    if hasattr(gram, "toarray"):
        gram = gram.toarray()
    gram = np.asarray(gram, dtype=np.float64)
    if n_top is None or gram.shape[0] <= _DENSE_GRAM_MAX:
        return np.linalg.eigvalsh(gram)[::-1]
    # A fixed start vector: the same draws give the same threshold.
    start = np.random.default_rng(0 if rng is None else rng.integers(2**31)).random(
        gram.shape[0]
    )
    values = eigsh(gram, k=n_top, which="LA", tol=1e-8, v0=start,
                   return_eigenvectors=False)
    return np.sort(values)[::-1]


def poisson_noise_threshold(row_sums, col_sums, n_draws=5, random_state=0):
    """Noise edge of a Poisson-normalised SVD, by simulation of the null.

    Draws ``n_draws`` maps from the independence Poisson model (no
    structure beyond the mean spectrum and the counts per position) with
    the given counts per position and per channel, scales them as HyperSpy's
    ``normalize_poissonian_noise`` does, and returns the largest non-mean
    explained variance (``S**2 / N``) seen, plus three standard deviations
    of it over the draws: a component of the real map above this is not
    noise.

    Parameters
    ----------
    row_sums : array-like, shape (N,)
        Counts per decomposed position (the rows HyperSpy decomposed, empty
        ones included).
    col_sums : array-like, shape (M,)
        Counts per channel.
    n_draws : int
    random_state : int or None

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.components import poisson_noise_threshold
    >>> rng = np.random.default_rng(0)
    >>> x = rng.poisson(50.0, size=(400, 100))
    >>> t = poisson_noise_threshold(x.sum(1), x.sum(0))
    >>> bool(1.0 < t * x.sum() < 3.0)    # about (1 + sqrt(M/N))**2 = 2.25
    True
    """
    row_sums = np.asarray(row_sums, dtype=np.float64).ravel()
    col_sums = np.asarray(col_sums, dtype=np.float64).ravel()
    if row_sums.sum() <= 0:
        raise ValueError("The data have no counts: no noise threshold.")
    rng = np.random.default_rng(random_state)
    values = np.array(
        [_null_second_eigenvalue(row_sums, col_sums, rng) for _ in range(n_draws)]
    )
    return float(values.max() + 3 * values.std())


def _elbow(explained_variance):
    from hyperspy.signal import BaseSignal

    ratio = np.asarray(explained_variance, dtype=np.float64)
    ratio = ratio / ratio.sum()
    # estimate_elbow_position only uses `self.data` as the array type.
    dummy = SimpleNamespace(data=np.empty(0))
    return int(BaseSignal.estimate_elbow_position(dummy, ratio)) + 1


def significant_components(
    explained_variance,
    threshold=None,
    n_samples=None,
    n_features=None,
    noise_variance=None,
    method="auto",
):
    """Number of significant components on an explained-variance curve.

    Parameters
    ----------
    explained_variance : array-like
        As HyperSpy stores it (``learning_results.explained_variance``),
        largest first.
    threshold : float or None
        Noise edge in the same units (:func:`poisson_noise_threshold`).
    n_samples, n_features, noise_variance : int, int, float or None
        For the Marchenko-Pastur edge (:func:`marchenko_pastur_edge`);
        for Poisson-normalised data ``noise_variance = 1 / total_counts``.
    method : {"auto", "threshold", "marchenko-pastur", "elbow"}
        ``"auto"``: the given threshold, else Marchenko-Pastur when the
        shape and noise variance are given, else the scree elbow.

    Returns
    -------
    ComponentChoice

    Examples
    --------
    >>> from clusterspy.components import significant_components
    >>> significant_components([9.0, 4.0, 1.1, 1.0, 0.9], threshold=2.0)[:2]
    (2, 'threshold')
    """
    ev = np.asarray(explained_variance, dtype=np.float64).ravel()
    if ev.size == 0:
        raise ValueError("`explained_variance` is empty: decompose the signal first.")
    methods = ("auto", "threshold", "marchenko-pastur", "elbow")
    if method not in methods:
        raise ValueError(f"`method` must be one of {methods}, not {method!r}.")
    if method == "auto":
        if threshold is not None:
            method = "threshold"
        elif None not in (n_samples, n_features, noise_variance):
            method = "marchenko-pastur"
        else:
            method = "elbow"
    if method == "elbow":
        if ev.size < 3:
            return ComponentChoice(ev.size, "elbow", None, ev, True)
        return ComponentChoice(_elbow(ev), "elbow", None, ev)
    if method == "marchenko-pastur":
        if None in (n_samples, n_features, noise_variance):
            raise ValueError(
                "method='marchenko-pastur' needs `n_samples`, `n_features` and "
                "`noise_variance`."
            )
        threshold = marchenko_pastur_edge(n_samples, n_features, noise_variance)
    elif threshold is None:
        raise ValueError("method='threshold' needs `threshold`.")
    above = ev > threshold * (1 + 1e-9)
    # The first component of an uncentred SVD is the mean spectrum: always
    # kept. The rest count up to the first one below the noise edge.
    n = 1 + int(np.argmin(above[1:])) if not above[1:].all() else ev.size
    return ComponentChoice(max(n, 1), method, float(threshold), ev, bool(above.all()))


def _decomposition_counts(signal, navigation_mask=None, signal_mask=None):
    """Counts per decomposed position and per channel, as HyperSpy sums them."""
    from .masks import navigation_mask_to_flat, signal_mask_to_flat

    data = signal._data_aligned_with_axes
    n_nav = signal.axes_manager.navigation_dimension
    n = int(np.prod(data.shape[:n_nav]))
    flat = data.reshape((n, -1))
    nav = navigation_mask_to_flat(signal, navigation_mask)
    sig = signal_mask_to_flat(signal, signal_mask)
    if nav is not None:
        flat = flat[~nav]
    if sig is not None:
        flat = flat[:, ~sig]
    rows = flat.sum(axis=1, dtype=np.float64)
    cols = flat.sum(axis=0, dtype=np.float64)
    if hasattr(rows, "compute"):
        import dask

        rows, cols = dask.compute(rows, cols)
    return np.asarray(rows), np.asarray(cols)


def decomposition_masks(signal):
    """The masks the signal's decomposition was given, in HyperSpy's layout
    (HyperSpy stores them in data order), or None each."""
    lr = signal.learning_results
    nav = getattr(lr, "navigation_mask", None)
    sig = getattr(lr, "signal_mask", None)
    am = signal.axes_manager
    nav = nav.reshape(am._navigation_shape_in_array).T if isinstance(nav, np.ndarray) else None
    sig = sig.reshape(am._signal_shape_in_array).T if isinstance(sig, np.ndarray) else None
    return nav, sig


def poisson_channel_counts(signal):
    """Counts per channel (all channels, 0 where masked) of a decomposition
    made with ``normalize_poissonian_noise=True``, or None for another.

    Its factors are ``V * sqrt(counts)`` with ``V`` orthonormal, so new data
    are projected on them by least squares weighted by ``1 / counts``
    (:func:`clusterspy.prediction.features_of`): the loadings HyperSpy would
    give. The sums are HyperSpy's (over the decomposed positions), taken
    again from the data: one more pass for a lazy signal.
    """
    from .masks import signal_mask_to_flat

    lr = signal.learning_results
    if not getattr(lr, "poissonian_noise_normalized", False):
        return None
    nav, sig = decomposition_masks(signal)
    _, cols = _decomposition_counts(signal, nav, sig)
    flat_sig = signal_mask_to_flat(signal, sig)
    if flat_sig is None:
        return cols
    full = np.zeros(flat_sig.size)
    full[~flat_sig] = cols
    return full


def _low_rank_null_eigenvalue(model, rank, n_draws, rng):
    """Largest explained variance beyond ``rank`` of Poisson draws of a model."""
    values = []
    n = model.shape[0]
    for _ in range(n_draws):
        d = rng.poisson(model).astype(np.float64)
        a = d.sum(axis=1)
        b = d.sum(axis=0)
        a[a == 0] = 1
        b[b == 0] = 1
        d /= np.sqrt(a)[:, None]
        d /= np.sqrt(b)[None, :]
        values.append(_top_eigenvalues(d, rank + 1, rng)[rank] / n)
    values = np.array(values)
    return float(values.max() + 3 * values.std())


def _confirm_with_low_rank_null(
    signal, choice, navigation_mask, signal_mask, n_draws, random_state
):
    """Test the last accepted component against a rank-(r-1) Poisson null.

    The independence null has the noise of a flat map; a map with phases
    has more variance in the channels of its strong lines
    (heteroscedastic noise), which lifts the noise edge a little. So the
    r-th component is tested again against maps drawn from the rank-(r-1)
    model of the data itself (the decomposition's reconstruction, clipped
    at zero), and dropped when it is not above their noise edge.
    """
    from .masks import navigation_mask_to_flat, signal_mask_to_flat

    lr = signal.learning_results
    loadings, factors = lr.loadings, lr.factors
    if loadings is None or factors is None:
        return choice
    loadings = np.asarray(loadings)
    factors = np.asarray(factors)
    nav = navigation_mask_to_flat(signal, navigation_mask)
    sig = signal_mask_to_flat(signal, signal_mask)
    if nav is not None:
        loadings = loadings[~nav]
    if sig is not None:
        factors = factors[~sig]
    rng = np.random.default_rng(random_state)
    ev = choice.explained_variance
    r = choice.n_components
    # One step only: the independence null is exact for the first
    # components, and the heteroscedastic excess is a small lift of the
    # edge that only a component at the edge can fall under.
    model = np.clip(loadings[:, : r - 1] @ factors[:, : r - 1].T, 0, None)
    threshold = _low_rank_null_eigenvalue(model, r - 1, n_draws, rng)
    if ev[r - 1] > threshold:
        return choice
    return choice._replace(n_components=r - 1, threshold=threshold)


def significant_components_of(
    signal, navigation_mask=None, signal_mask=None, n_draws=5, random_state=0
):
    """Significant components of a signal's decomposition.

    Uses the simulated Poisson noise edge when the decomposition was an
    SVD with ``normalize_poissonian_noise=True`` (pass the masks given to
    ``decomposition``), HyperSpy's scree elbow otherwise.

    Parameters
    ----------
    signal : hyperspy signal
        Decomposed (``signal.decomposition(...)`` was called).
    navigation_mask, signal_mask
        The masks given to ``decomposition``, in HyperSpy's layout.
    n_draws : int
        Draws of the null model.
    random_state : int or None

    Returns
    -------
    ComponentChoice

    Examples
    --------
    >>> from clusterspy.datasets import spectrum_image
    >>> from clusterspy.components import significant_components_of
    >>> s = spectrum_image((24, 24), n_channels=128, n_phases=3, counts=200,
    ...                    random_state=0)
    >>> s.decomposition(normalize_poissonian_noise=True, print_info=False)
    >>> significant_components_of(s).n_components
    3
    """
    lr = signal.learning_results
    ev = getattr(lr, "explained_variance", None)
    if ev is None:
        raise ValueError(
            "number_of_components='auto' needs a decomposition with an explained "
            "variance: call `signal.decomposition(normalize_poissonian_noise=True)` "
            "first."
        )
    if hasattr(ev, "compute"):
        ev = ev.compute()
    poisson = bool(getattr(lr, "poissonian_noise_normalized", False))
    svd = getattr(lr, "decomposition_algorithm", "SVD") in ("SVD", "svd")
    if poisson and svd:
        rows, cols = _decomposition_counts(signal, navigation_mask, signal_mask)
        threshold = poisson_noise_threshold(rows, cols, n_draws, random_state)
        choice = significant_components(ev, threshold=threshold)
        choice = choice._replace(method="poisson-null")
        if choice.n_components > 1 and not choice.at_least:
            choice = _confirm_with_low_rank_null(
                signal, choice, navigation_mask, signal_mask, n_draws, random_state
            )
        return choice
    return significant_components(ev, method="elbow")


def warn_too_many_components(requested, choice, stacklevel=2):
    """Warn when more components are asked for than are significant.

    Returns
    -------
    bool
        Whether it warned.

    Examples
    --------
    >>> import warnings
    >>> from clusterspy.components import significant_components
    >>> from clusterspy.components import warn_too_many_components
    >>> choice = significant_components([9.0, 4.0, 1.0, 0.9], threshold=2.0)
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     warn_too_many_components(5, choice)
    True
    """
    if choice.at_least or requested <= choice.n_components:
        return False
    warnings.warn(
        f"number_of_components={requested} but only {choice.n_components} "
        f"components are significant ({choice.method}, threshold "
        f"{choice.threshold}): the others are noise, and their loadings can "
        "change the clustering and the estimated number of clusters. Use "
        "number_of_components='auto'.",
        DoubtfulEstimateWarning,
        stacklevel=stacklevel + 1,
    )
    return True
