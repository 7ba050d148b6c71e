"""Principal-component scores computed by clusterspy, in memory or out of core.

The ``"pca"`` feature source (``cluster_analysis(s, "pca", number_of_components=5)``)
decomposes the signal's own data and clusters the scores; the cluster signals are still
computed from the raw data. It exists because HyperSpy's lazy ``decomposition()`` runs
``dask.array.linalg.svd_compressed`` without power iterations or a seed, whose loadings
can be far from the exact ones on noisy maps.

Conventions (those of HyperSpy's ``decomposition(normalize_poissonian_noise=True)``):

- Poisson normalisation (Keenan and Kotula, 2004): the data are divided by
  ``sqrt(aG[i]) * sqrt(bH[j])``, where ``aG`` is each navigation position's total over
  the channels and ``bH`` each channel's total over the navigation positions. HyperSpy
  uses *sums*, not means: the two differ by one global factor ``sqrt(n_samples *
  n_features)``, so the subspace is the same; sums are kept so that the scores equal
  HyperSpy's loadings. Zero totals are replaced by 1, negative values are refused.
- No centring by default (HyperSpy's ``centre=None``, the only choice it allows with
  the Poisson normalisation); ``centre="navigation"`` subtracts the mean (normalised)
  spectrum, as a textbook PCA does.
- Scores are HyperSpy's loadings: ``U * S`` of the normalised data, multiplied back by
  ``sqrt(aG)``; signs follow HyperSpy's ``svd_flip_signs`` (the largest entry of each
  column of ``U`` is positive). ``explained_variance`` is ``S**2 / n_samples``.

Eager data are decomposed exactly (LAPACK's SVD of the normalised copy). Lazy data are
decomposed by a randomized subspace iteration over the data's own navigation tiles
(:class:`~clusterspy.engines.rowblocks.RowBlocks`): with ``l = n_components +
oversampling`` columns, each pass is one map-reduce that, for a ``(features, l)``
orthonormal basis ``Q``, returns ``Y.T @ (Y @ Q)`` (``(features, l)``, summed over the
tiles) and the tile's rows of ``Y @ Q``. The first pass also gathers the totals for the
normalisation and starts from a seeded Gaussian matrix; the last one's ``Y @ Q`` gives
the scores by a Rayleigh-Ritz step on the small ``(l, l)`` matrix. ``n_iter`` power
iterations cost ``n_iter + 1`` passes (default 3, so 4 passes); nothing larger than
``n_samples x l`` (the scores) or ``features x l`` is ever held, besides the tiles
being read. float32 tiles are multiplied in float32 (sums in float64). The result is
reproducible for a given ``random_state`` (default 0): the tiles' partial sums are
added in a fixed order.

Options: ``cluster_source="pca"`` is ``cluster_source=clusterspy.PCA()``; pass
``clusterspy.PCA(normalize_poissonian_noise=False, centre="navigation", random_state=1,
n_iter=5)`` (see :class:`PCA`) to change them; ``number_of_components`` is
``cluster_analysis``'s own parameter. The fitted model (components, singular values,
explained variance, normalisation vectors, mean: plain arrays) is stored in the result's
``parameters["pca"]["model"]``, and ``predict`` projects a new map with it.

When to use ``"pca"`` and when HyperSpy's own decomposition: ``"pca"`` is the route for
lazy maps (accurate scores in a few passes and bounded memory, which HyperSpy's lazy SVD
does not give) and for clustering a plain SVD/PCA of the data in one call, eager or lazy;
``predict`` projects a new map with the stored components. Use HyperSpy's
``decomposition()`` then ``cluster_source="decomposition"`` (or ``"bss"``) for anything
else: NMF, MLPCA, robust PCA, blind source separation, inspecting or reversing
components before clustering, or a navigation/signal mask already used there.

``number_of_components="auto"`` computes ``min(AUTO_MAX_COMPONENTS, channels)``
components and keeps those :func:`significant_components` finds: for
Poisson-normalised data the components above the simulated Poisson noise edge of
the fitted counts (:func:`clusterspy.components.poisson_noise_threshold`, the rule
used for HyperSpy's decompositions), otherwise the scree elbow. The counts per
position and per channel come from the fit itself (for lazy data, its first
pass). The choice is stored in the model (``choice``) and only the chosen
components are kept, so ``predict`` projects with them.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "PCA",
    "PCAModel",
    "fit_pca",
    "significant_components",
]

# Largest number of components computed before ``"auto"`` chooses among them.
AUTO_MAX_COMPONENTS = 50


def significant_components(
    explained_variance,
    n_samples,
    n_features,
    poisson_normalised,
    row_sums=None,
    col_sums=None,
    random_state=0,
):
    """Choose the number of components for ``number_of_components="auto"``.

    The project's rule (:mod:`clusterspy.components`), applied to the
    components computed (``min(AUTO_MAX_COMPONENTS, n_features)`` of them,
    largest first): for Poisson-normalised data, the components above the
    simulated noise edge of the no-structure Poisson model with the fit's own
    counts per position and per channel
    (:func:`~clusterspy.components.poisson_noise_threshold`, method
    ``"poisson-null"``); otherwise HyperSpy's scree elbow (``"elbow"``).

    Parameters
    ----------
    explained_variance : array-like
        ``S**2 / n_samples``, largest first (HyperSpy's convention).
    n_samples, n_features : int
        Positions and channels the decomposition saw.
    poisson_normalised : bool
        Whether the Poisson normalisation was applied.
    row_sums, col_sums : array-like or None
        Counts per fitted position and per used channel; needed when
        ``poisson_normalised``.
    random_state : int or None
        Seed of the null model's draws.

    Returns
    -------
    clusterspy.components.ComponentChoice
        ``n_components`` is in ``[1, len(explained_variance)]``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.pca import fit_pca, significant_components
    >>> X = np.random.default_rng(0).poisson(20.0, (200, 32)).astype(float)
    >>> model = fit_pca(X, 10)
    >>> significant_components(model.explained_variance, 200, 32, True,
    ...                        X.sum(axis=1), X.sum(axis=0)).n_components
    1
    """
    from . import components

    if poisson_normalised:
        if row_sums is None or col_sums is None:
            raise ValueError(
                "poisson_normalised=True needs `row_sums` and `col_sums` (the "
                "counts per position and per channel of the fit)."
            )
        threshold = components.poisson_noise_threshold(
            row_sums, col_sums, random_state=random_state
        )
        choice = components.significant_components(
            explained_variance, threshold=threshold
        )
        return choice._replace(method="poisson-null")
    return components.significant_components(explained_variance, method="elbow")


def _seed(random_state):
    """An int seed (or None) for the null model's draws from a PCA ``random_state``."""
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    return random_state


def _is_dask(array):
    return type(array).__module__.startswith("dask")


@dataclass(frozen=True)
class PCA:
    """Options of the ``"pca"`` feature source.

    ``cluster_source="pca"`` is ``PCA()``; pass ``PCA(...)`` as
    ``cluster_source`` to change an option. The number of components is
    ``cluster_analysis``'s ``number_of_components``.

    Parameters
    ----------
    normalize_poissonian_noise : bool
        Scale the counts as HyperSpy's ``decomposition(normalize_poissonian_noise=True)``
        does (default True). Use False for data that are not counts.
    centre : {None, "navigation"}
        Subtract the mean spectrum before the SVD (``"navigation"``) or not
        (None, default, as HyperSpy's ``decomposition``). HyperSpy refuses to
        centre Poisson-normalised data; so does this.
    random_state : int, numpy.random.RandomState or None
        Seed of the randomized (lazy) decomposition; default 0, so that the
        same data always give the same scores.
    n_iter : int
        Power iterations of the randomized decomposition, at least 1: ``n_iter
        + 1`` passes over the data (the first also gathers the totals). Default 3.
    oversampling : int
        Extra columns of the randomized range finder. Default 10.
    solver : {"auto", "full", "randomized"}
        ``"auto"``: exact (``"full"``) for eager data, ``"randomized"`` for
        lazy data, which cannot use ``"full"``.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 16), n_channels=64, random_state=0)
    >>> s.clusterspy.cluster_analysis(
    ...     clusterspy.PCA(random_state=1), number_of_components=3, n_clusters=3,
    ...     random_state=0)
    >>> s.clusterspy.result.parameters["cluster_source_kind"]
    'pca'
    """

    normalize_poissonian_noise: bool = True
    centre: str | None = None
    random_state: object = 0
    n_iter: int = 3
    oversampling: int = 10
    solver: str = "auto"

    def __post_init__(self):
        from .validation import check_bool, check_choice, check_int

        check_bool(self.normalize_poissonian_noise, "normalize_poissonian_noise")
        if self.centre is not None:
            check_choice(self.centre, "centre", ("navigation",))
            if self.normalize_poissonian_noise:
                raise ValueError(
                    "normalize_poissonian_noise=True is only compatible with "
                    f"`centre=None` (as in HyperSpy), not centre={self.centre!r}."
                )
        check_int(self.n_iter, "n_iter", minimum=1)
        check_int(self.oversampling, "oversampling", minimum=0)
        check_choice(self.solver, "solver", ("auto", "full", "randomized"))
        rs = self.random_state
        if not (
            rs is None
            or isinstance(rs, np.random.RandomState)
            or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool))
        ):
            raise TypeError(
                "`random_state` must be an int, a numpy.random.RandomState or "
                f"None, not {rs!r}."
            )

    def describe(self):
        return (
            f"pca(normalize_poissonian_noise={self.normalize_poissonian_noise}, "
            f"centre={self.centre!r}, random_state={self.random_state!r}, "
            f"n_iter={self.n_iter}, oversampling={self.oversampling}, "
            f"solver={self.solver!r})"
        )

    def fit(
        self, data, n_components, keep=None, signal_mask=None, show_progressbar=None
    ):
        """Decompose ``data``; see :func:`fit_pca`."""
        return fit_pca(
            data,
            n_components,
            normalize_poissonian_noise=self.normalize_poissonian_noise,
            centre=self.centre,
            random_state=self.random_state,
            n_iter=self.n_iter,
            oversampling=self.oversampling,
            solver=self.solver,
            keep=keep,
            signal_mask=signal_mask,
            show_progressbar=show_progressbar,
        )


_ARRAYS = (
    "components",
    "singular_values",
    "explained_variance",
    "explained_variance_ratio",
    "channel_scale",
    "mean",
    "signal_mask",
    "row_scale",
    "scores",
)


@dataclass
class PCAModel:
    """A fitted decomposition: what is needed to project a new map the same way.

    Attributes
    ----------
    components : numpy.ndarray, shape (n_components, n_features)
        Orthonormal components in the normalised channel space (HyperSpy's
        factors, before the channel normalisation is folded back in).
    singular_values, explained_variance, explained_variance_ratio : numpy.ndarray
        Per component; ``explained_variance = singular_values**2 / n_samples``
        and the ratio is to the total variance (uncentred: the mean square).
    channel_scale : numpy.ndarray, shape (n_features,)
        ``sqrt(bH)``: each channel's divisor (ones without the normalisation).
    mean : numpy.ndarray, shape (n_features,)
        The mean normalised spectrum subtracted (zeros when ``centre`` is None).
    signal_mask : numpy.ndarray or None
        Channels excluded (True), over the data's flattened signal axes.
    row_scale : numpy.ndarray or None
        ``sqrt(aG)`` of the fitted positions (navigation-sized).
    scores : numpy.ndarray or None
        The fitted positions' scores, ``(n_samples_total, n_components)``
        (NaN where a row is not finite).
    choice : dict or None
        How ``number_of_components="auto"`` chose (None for an int):
        ``n_components``, ``method`` (``"poisson-null"`` or ``"elbow"``),
        ``threshold`` (explained-variance units, None for the elbow),
        ``at_least`` (every computed component was above it) and
        ``computed`` (components computed before choosing).
    """

    components: np.ndarray
    singular_values: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    channel_scale: np.ndarray
    mean: np.ndarray
    normalize_poissonian_noise: bool
    centre: str | None
    n_samples: int
    solver: str
    passes: int = 0
    signal_mask: np.ndarray | None = None
    row_scale: np.ndarray | None = field(default=None, repr=False)
    scores: np.ndarray | None = field(default=None, repr=False)
    choice: dict | None = None

    @property
    def n_components(self):
        return int(self.components.shape[0])

    @property
    def n_features(self):
        return int(self.components.shape[1])

    def transform(self, data, show_progressbar=None):
        """Scores of new data, projected as the fitted data were.

        Parameters
        ----------
        data : numpy or dask array, shape (n_samples, n_channels) or navigation + signal
            A dask array is read tile by tile (one pass); for a lazy array
            with navigation axes, pass it shaped ``navigation + (channels,)``
            so that its tiles are kept.

        Returns
        -------
        numpy.ndarray, shape (n_samples, n_components)

        Examples
        --------
        >>> import numpy as np
        >>> from clusterspy.pca import fit_pca
        >>> X = np.random.default_rng(0).poisson(5.0, (50, 8)).astype(float)
        >>> model = fit_pca(X, 2)
        >>> np.allclose(model.transform(X), model.scores)
        True
        """
        n_channels = data.shape[-1]
        expected = (
            self.n_features if self.signal_mask is None else self.signal_mask.size
        )
        if n_channels != expected:
            raise ValueError(
                f"`data` has {n_channels} channels; the decomposition was fitted "
                f"on {expected}."
            )
        if _is_dask(data):
            from .engines.rowblocks import RowBlocks

            n = int(np.prod(data.shape[:-1], dtype=np.int64))
            blocks = RowBlocks(data, np.ones(n, dtype=bool), None, show_progressbar)
            parts = blocks.map(
                _transform_block,
                self.components.T,
                self.channel_scale,
                self.mean,
                self.normalize_poissonian_noise,
                self.signal_mask,
                description="principal-component scores",
            )
            return blocks.scatter(parts, np.nan, np.float64)
        X = np.asarray(data).reshape(-1, n_channels)
        keep = np.ones(X.shape[0], dtype=bool)
        return _transform_block(
            X,
            keep,
            self.components.T,
            self.channel_scale,
            self.mean,
            self.normalize_poissonian_noise,
            self.signal_mask,
        )

    def to_dict(self, scores=False):
        """Plain arrays and numbers (no pickle), for ``learning_results``.

        ``scores=True`` keeps the navigation-sized ``scores`` and ``row_scale``.
        """
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in ("scores", "row_scale") and not scores:
                continue
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, d):
        """Rebuild a model stored with :meth:`to_dict`."""
        kwargs = dict(d)
        for name in _ARRAYS:
            if kwargs.get(name) is not None:
                kwargs[name] = np.asarray(kwargs[name])
        for name in ("n_samples", "passes"):
            if name in kwargs:
                kwargs[name] = int(kwargs[name])
        kwargs["normalize_poissonian_noise"] = bool(
            kwargs["normalize_poissonian_noise"]
        )
        return cls(**kwargs)


# -- per-block kernels (module level, so that they pickle to dask workers) ------------


def _row_totals(X):
    """Row totals as HyperSpy's normalisation takes them: zero becomes one."""
    a = X.sum(axis=1, dtype=np.float64)
    return np.where(a == 0, 1.0, a)


def _scaled_rows(X, poisson):
    """``X`` in float64, divided by ``sqrt(aG)`` per row when ``poisson``.

    Returns the scaled rows and ``sqrt(aG)`` (ones without normalisation).
    """
    X = np.asarray(X, dtype=np.float64)
    if not poisson:
        return X, np.ones(X.shape[0])
    root_a = np.sqrt(_row_totals(X))
    return X / root_a[:, None], root_a


def _transform_block(X, keep, V, channel_scale, mean, poisson, signal_mask):
    if signal_mask is not None:
        X = X[:, ~signal_mask]
    W, root_a = _scaled_rows(X, poisson)
    scores = (W @ (V / channel_scale[:, None])) - (mean @ V)
    if poisson:
        scores *= root_a[:, None]
    return scores


def _work_dtype(X):
    """float32 blocks are multiplied in float32 (half the memory traffic; the
    products feed a range finder and scores, well within float32's digits),
    everything else in float64. Sums over rows are always float64."""
    X = np.asarray(X)
    if X.dtype == np.float32:
        return X, np.float32
    return np.asarray(X, dtype=np.float64), np.float64


def _first_block(X, keep, omega, poisson):
    """Totals for the normalisation and ``W.T @ W @ omega`` over the used rows.

    ``W`` is the block with its rows divided by ``sqrt(aG)``; the row scale
    is applied to the small products, never to a copy of the block.
    """
    X, dtype = _work_dtype(X)
    finite = np.isfinite(X).all(axis=1)
    use = keep & finite
    Xu = X[use] if not use.all() else X
    low = float(Xu.min()) if Xu.size else np.inf
    if poisson:
        inv_a = 1.0 / _row_totals(Xu)
    else:
        inv_a = np.ones(Xu.shape[0])
    P = (Xu @ omega.astype(dtype)).astype(np.float64)
    P *= inv_a[:, None]  # W @ omega / sqrt(aG)
    return (
        finite,
        int(Xu.shape[0]),
        low,
        Xu.sum(axis=0, dtype=np.float64),
        np.sqrt(inv_a).astype(dtype) @ Xu,  # column sums of W
        inv_a.astype(dtype) @ (Xu * Xu),  # column sums of W**2
        (Xu.T @ P.astype(dtype)).astype(np.float64),
        X.sum(axis=1, dtype=np.float64) if poisson else None,  # for "auto"
    )


def _power_block(X, keep, Q_scaled, mQ, channel_scale, mean, poisson, last):
    """``Yc.T @ T`` and ``T.T @ T`` over the used rows, with ``T = Yc @ Q``.

    On the ``last`` pass, ``T`` and ``sqrt(aG)`` of every row are returned too
    (the scores); before it they are dropped, so that a pass holds only
    ``(features, l)`` partial sums.
    """
    X, dtype = _work_dtype(X)
    root_a = np.sqrt(_row_totals(X)) if poisson else np.ones(X.shape[0])
    T = (X @ Q_scaled.astype(dtype)).astype(np.float64)
    T /= root_a[:, None]
    T -= mQ
    finite = np.isfinite(T).all(axis=1)
    use = keep & finite
    if use.all():
        Tu, Xu, ru = T, X, root_a
    else:
        Tu, Xu, ru = T[use], X[use], root_a[use]
    # Yc.T @ T = D^-1 W.T T - mean (1.T T), with W.T T = X.T (T / sqrt(aG))
    YtT = (Xu.T @ (Tu / ru[:, None]).astype(dtype)).astype(np.float64)
    YtT /= channel_scale[:, None]
    YtT -= np.outer(mean, Tu.sum(axis=0))
    if not last:
        return None, None, YtT, Tu.T @ Tu
    return T, root_a, YtT, Tu.T @ Tu


# -- fitting -----------------------------------------------------------------------


def _check_n_components(n_components, n_features):
    from .validation import check_int

    if isinstance(n_components, str):
        if n_components != "auto":
            raise ValueError(
                "`number_of_components` must be an int or 'auto', not "
                f"{n_components!r}."
            )
        return n_components
    return check_int(
        n_components, "number_of_components", minimum=1, maximum=n_features
    )


def _validate_data(data):
    if np.iscomplexobj(data):
        raise TypeError(
            "cluster_source='pca' does not decompose complex data: pass "
            "`signal.real`, `signal.imag`, `signal.amplitude` or `signal.phase` "
            "as the signal."
        )
    if data.ndim < 2:
        raise ValueError("`data` must have at least 2 dimensions (samples, channels).")


def fit_pca(
    data,
    n_components,
    normalize_poissonian_noise=True,
    centre=None,
    random_state=0,
    n_iter=3,
    oversampling=10,
    solver="auto",
    keep=None,
    signal_mask=None,
    show_progressbar=None,
):
    """Principal components and scores of ``data``, eager or out of core.

    Parameters
    ----------
    data : numpy or dask array, shape navigation + (n_channels,)
        One row per navigation position, in data order. Never modified. A
        dask array is read tile by tile; keep its navigation axes (do not
        flatten them first) so that each block is one of its own tiles.
    n_components : int or "auto"
        Components kept, in ``[1, n_channels]``. ``"auto"`` computes up to
        ``AUTO_MAX_COMPONENTS`` and lets :func:`significant_components` choose.
    normalize_poissonian_noise, centre, random_state, n_iter, oversampling, solver
        See :class:`PCA`.
    keep : numpy.ndarray of bool or None
        Flat (data order) positions used for the fit (False: masked, as
        HyperSpy's ``navigation_mask`` inverted). Every position gets scores.
    signal_mask : numpy.ndarray of bool or None
        Flat channels excluded (True).
    show_progressbar : bool or None
        dask's progress bar for each pass over lazy data.

    Returns
    -------
    PCAModel
        With ``scores`` (``(n_samples, n_components)``, NumPy) and
        ``row_scale`` set.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.pca import fit_pca
    >>> X = np.random.default_rng(0).poisson(5.0, (100, 16)).astype(np.float32)
    >>> model = fit_pca(X, 3)
    >>> model.scores.shape, model.components.shape
    ((100, 3), (3, 16))
    """
    opts = PCA(
        normalize_poissonian_noise, centre, random_state, n_iter, oversampling, solver
    )
    _validate_data(data)
    lazy = _is_dask(data)
    n_channels = data.shape[-1]
    if signal_mask is not None:
        signal_mask = np.asarray(signal_mask, dtype=bool).reshape(-1)
        if signal_mask.size != n_channels:
            raise ValueError(
                f"`signal_mask` has {signal_mask.size} channels; `data` has {n_channels}."
            )
        if signal_mask.all():
            raise ValueError("`signal_mask` excludes every channel; nothing is left.")
    n_features = n_channels - (0 if signal_mask is None else int(signal_mask.sum()))
    n_components = _check_n_components(n_components, n_features)
    solver = opts.solver
    if solver == "auto":
        solver = "randomized" if lazy else "full"
    if lazy and solver == "full":
        raise ValueError(
            "solver='full' needs the data in memory; lazy data use "
            "solver='randomized' (or 'auto')."
        )
    n_samples = int(np.prod(data.shape[:-1], dtype=np.int64))
    if keep is None:
        keep = np.ones(n_samples, dtype=bool)
    keep = np.asarray(keep, dtype=bool).reshape(-1)
    if keep.size != n_samples:
        raise ValueError(f"`keep` has {keep.size} values; `data` has {n_samples} rows.")
    wanted = (
        min(AUTO_MAX_COMPONENTS, n_features) if n_components == "auto" else n_components
    )
    if solver == "full":
        model, sums = _fit_full(np.asarray(data), wanted, opts, keep, signal_mask)
    else:
        model, sums = _fit_randomized(
            data, wanted, opts, keep, signal_mask, show_progressbar
        )
    if n_components == "auto":
        # the sums are those of the fitted positions and channels, gathered
        # by the fit itself (for lazy data by its first pass: no extra pass)
        choice = significant_components(
            model.explained_variance,
            model.n_samples,
            n_features,
            opts.normalize_poissonian_noise,
            row_sums=sums[0],
            col_sums=sums[1],
            random_state=_seed(opts.random_state),
        )
        k = int(getattr(choice, "n_components", choice))
        if not 1 <= k <= model.n_components:
            raise ValueError(
                f"significant_components returned {k}; expected an int in "
                f"[1, {model.n_components}]."
            )
        _truncate(model, k)
        model.choice = {
            "n_components": k,
            "method": getattr(choice, "method", None),
            "threshold": _float_or_none(getattr(choice, "threshold", None)),
            "at_least": bool(getattr(choice, "at_least", False)),
            "computed": int(wanted),
        }
    return model


def _float_or_none(value):
    return None if value is None else float(value)


def _truncate(model, k):
    model.components = model.components[:k]
    model.singular_values = model.singular_values[:k]
    model.explained_variance = model.explained_variance[:k]
    model.explained_variance_ratio = model.explained_variance_ratio[:k]
    if model.scores is not None:
        model.scores = np.ascontiguousarray(model.scores[:, :k])


def _check_counts(low, poisson):
    if poisson and low < 0:
        raise ValueError(
            "normalize_poissonian_noise=True needs counts, but the data have "
            "negative values; pass PCA(normalize_poissonian_noise=False) as "
            "`cluster_source`."
        )


def _flip_signs(unit_scores, used):
    """HyperSpy's ``svd_flip_signs(u_based_decision=True)`` on the fitted rows."""
    U = unit_scores[used]
    if U.shape[0] == 0:
        return np.ones(unit_scores.shape[1])
    idx = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[idx, np.arange(U.shape[1])])
    signs[signs == 0] = 1.0
    return signs


def _finish(
    scores,
    root_a,
    used,
    S,
    Vt,
    total_ss,
    n_used,
    channel_scale,
    mean,
    opts,
    signal_mask,
    solver,
    passes,
):
    """Signs, scaling back by ``sqrt(aG)``, explained variance; a :class:`PCAModel`."""
    signs = _flip_signs(scores, used)
    scores = scores * signs
    Vt = Vt * signs[:, None]
    if opts.normalize_poissonian_noise:
        scores *= root_a[:, None]
    ev = S**2 / max(n_used, 1)
    total = total_ss / max(n_used, 1)
    ratio = ev / total if total > 0 else np.full_like(ev, np.nan)
    return PCAModel(
        components=np.ascontiguousarray(Vt),
        singular_values=S,
        explained_variance=ev,
        explained_variance_ratio=ratio,
        channel_scale=channel_scale,
        mean=mean,
        normalize_poissonian_noise=opts.normalize_poissonian_noise,
        centre=opts.centre,
        n_samples=int(n_used),
        solver=solver,
        passes=passes,
        signal_mask=signal_mask,
        row_scale=root_a if opts.normalize_poissonian_noise else None,
        scores=np.ascontiguousarray(scores),
    )


def _fit_full(data, k, opts, keep, signal_mask):
    """Exact: LAPACK's SVD of a normalised float64 copy of the used rows."""
    X = data.reshape(-1, data.shape[-1])
    if signal_mask is not None:
        X = X[:, ~signal_mask]
    poisson = opts.normalize_poissonian_noise
    finite = np.isfinite(X).all(axis=1)
    used = keep & finite
    if not used.any():
        raise ValueError("No finite navigation position is left to decompose.")
    Xu = X[used]
    _check_counts(float(Xu.min()), poisson)
    if poisson:
        bH = Xu.sum(axis=0, dtype=np.float64)
        channel_scale = np.sqrt(np.where(bH == 0, 1.0, bH))
    else:
        channel_scale = np.ones(X.shape[1])
    Y, root_a = _scaled_rows(X, poisson)
    # a new array, never the caller's: float64 data without the Poisson
    # scaling come back from _scaled_rows as they are
    Y = Y / channel_scale
    mean = Y[used].mean(axis=0) if opts.centre == "navigation" else np.zeros(X.shape[1])
    Y -= mean
    Yu = Y[used]
    total_ss = float(np.einsum("ij,ij->", Yu, Yu))
    _, S, Vt = np.linalg.svd(Yu, full_matrices=False)
    S, Vt = S[:k], Vt[:k]
    scores = Y @ Vt.T  # U * S on the used rows, projections elsewhere
    sums = (
        (Xu.sum(axis=1, dtype=np.float64), bH) if poisson else (None, None)
    )
    return _finish(
        scores,
        root_a,
        used,
        S,
        Vt,
        total_ss,
        int(used.sum()),
        channel_scale,
        mean,
        opts,
        signal_mask,
        "full",
        0,
    ), sums


def _fit_randomized(data, k, opts, keep, signal_mask, show_progressbar):
    """Randomized subspace iteration, one map-reduce over the tiles per pass."""
    from sklearn.utils import check_random_state

    from .engines.rowblocks import RowBlocks

    if signal_mask is not None:
        data = data[..., ~signal_mask]
    poisson = opts.normalize_poissonian_noise
    blocks = RowBlocks(data, keep, None, show_progressbar)
    p = blocks.n_features
    n_cols = min(p, k + opts.oversampling)
    omega = check_random_state(opts.random_state).standard_normal((p, n_cols))

    # pass 1: finite rows, totals, and the first product from a random start
    parts = blocks.map(
        _first_block, omega, poisson, description="PCA: totals and first product"
    )
    finite = blocks.scatter([r[0] for r in parts], True)
    used = keep & finite
    n_used = sum(r[1] for r in parts)
    if n_used == 0:
        raise ValueError("No finite navigation position is left to decompose.")
    _check_counts(min(r[2] for r in parts), poisson)
    bH = np.sum([r[3] for r in parts], axis=0)
    w_sum = np.sum([r[4] for r in parts], axis=0)
    w_sq = np.sum([r[5] for r in parts], axis=0)
    Z = np.sum([r[6] for r in parts], axis=0)
    # in data order, as the eager fit has them: the same null draws for a seed
    sums = (
        (blocks.scatter([r[7] for r in parts], 0.0, np.float64)[used], bH)
        if poisson
        else (None, None)
    )
    channel_scale = np.sqrt(np.where(bH == 0, 1.0, bH)) if poisson else np.ones(p)
    # Y = W / channel_scale; the start was channel_scale * omega, so
    # Y.T Y (channel_scale * omega) = Z / channel_scale
    Z = Z / channel_scale[:, None]
    if opts.centre == "navigation":
        mean = w_sum / channel_scale / n_used
        Z -= n_used * np.outer(mean, mean @ (channel_scale[:, None] * omega))
    else:
        mean = np.zeros(p)
    total_ss = float((w_sq / channel_scale**2).sum() - n_used * (mean @ mean))

    for i in range(opts.n_iter):
        Q, _ = np.linalg.qr(Z)
        parts = blocks.map(
            _power_block,
            Q / channel_scale[:, None],
            mean @ Q,
            channel_scale,
            mean,
            poisson,
            i == opts.n_iter - 1,
            description="PCA: power iteration",
        )
        Z = np.sum([r[2] for r in parts], axis=0)
    # Rayleigh-Ritz on the last pass: Yc ~ T Q.T with T = Yc Q; T.T T = W S^2 W.T
    T = blocks.scatter([r[0] for r in parts], np.nan, np.float64)
    root_a = blocks.scatter([r[1] for r in parts], 1.0, np.float64)
    gram = np.sum([r[3] for r in parts], axis=0)
    del parts  # the tiles' rows of T, now scattered
    evals, W = np.linalg.eigh(gram)
    order = np.argsort(evals)[::-1][:k]
    S = np.sqrt(np.maximum(evals[order], 0.0))
    W = W[:, order]
    scores = T @ W
    del T
    Vt = (Q @ W).T
    return _finish(
        scores,
        root_a,
        used,
        S,
        Vt,
        total_ss,
        n_used,
        channel_scale,
        mean,
        opts,
        signal_mask,
        "randomized",
        blocks.passes,
    ), sums


# -- the "pca" feature source ------------------------------------------------------
