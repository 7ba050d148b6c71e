"""Features: what a cluster analysis (or an estimation of k) reads, and how it scales it.

:func:`plan_features` validates a feature request before any work and
returns a :class:`FeaturePlan`; the engines read the data through it. Shared
by :func:`clusterspy.cluster_analysis` and
:func:`clusterspy.estimate_number_of_clusters`, so that both see exactly the
same samples and features.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from . import _compute
from ._threads import thread_map
from ._utils.progress import progress as _progress
from .preprocessing import (
    VarianceStabilizer,
    WithCoordinates,
    make_preprocessor,
    normalize_rows,
)
from .sources import (
    _is_dask,
    navigation_coordinates,
    navigation_mask_to_flat,
    resolve_source,
)
from .validation import as_working_float, check_choice, check_signal

__all__ = ["FeaturePlan", "apply_min_counts", "plan_feature_count", "plan_features"]

_NAN_POLICIES = ("raise", "mask")


def _check_enough_samples(n_kept, k):
    if n_kept < 2:
        raise ValueError(
            f"Only {n_kept} navigation position(s) are left to cluster after "
            "masking; at least 2 are needed."
        )
    if k is not None and k > n_kept:
        raise ValueError(
            f"`n_clusters`={k} is larger than the number of navigation positions "
            f"to cluster ({n_kept})."
        )


@dataclass
class FeaturePlan:
    """A validated request for features: what to read and how to scale it.

    Built by :func:`plan_features` before any work; :meth:`compute` then
    reads the data and returns the preprocessed feature matrix. Shared by
    ``cluster_analysis`` and ``estimate_number_of_clusters`` so that both see
    exactly the same samples and features.
    """

    signal: object
    source: object
    navigation_mask: np.ndarray | None
    preprocessor: object
    nan_policy: str
    spatial_weight: float | None = None
    features_owned: bool = False
    # Squared norms of the preprocessed rows when the preprocessing computed
    # them on the way (the block-wise l2 normalisation); the in-memory k-means
    # then skips its own pass for them.
    row_squared_norms: np.ndarray | None = None

    @property
    def keep(self):
        """Navigation positions not excluded by the navigation mask."""
        n = self.signal.axes_manager.navigation_size
        if self.navigation_mask is None:
            return np.ones(n, dtype=bool)
        return ~self.navigation_mask

    def check_enough_samples(self, k=None):
        _check_enough_samples(int(self.keep.sum()), k)

    def apply_nan_policy(self, keep, finite, k=None):
        """Return ``keep`` without non-finite rows, or raise (``nan_policy``)."""
        bad = keep & ~finite
        if not bad.any():
            return keep
        if self.nan_policy == "raise":
            nav_shape = self.signal.axes_manager.navigation_shape
            first = np.unravel_index(int(np.flatnonzero(bad)[0]), nav_shape[::-1])
            first = tuple(int(i) for i in first[::-1])
            raise ValueError(
                f"{int(bad.sum())} navigation position(s) have NaN or infinite "
                f"features (the first at navigation index {first}); exclude "
                "them with `navigation_mask`, or pass nan_policy='mask'."
            )
        keep = keep & finite
        _check_enough_samples(int(keep.sum()), k)
        return keep

    def features(self, flat=True):
        """Features before preprocessing (NumPy or dask), coordinates appended.

        ``flat=False`` keeps the navigation axes (see ``Source.features``).
        """
        X = self.source.features(flat)
        if self.spatial_weight is None:
            return X
        coords, _ = navigation_coordinates(self.signal)
        coords = coords.astype(X.dtype).reshape(X.shape[:-1] + (coords.shape[1],))
        if _is_dask(X):
            import dask.array as da

            coords = da.from_array(coords, chunks=X.chunks[:-1] + (-1,))
            return da.concatenate([X, coords], axis=-1)
        return np.concatenate([X, coords], axis=-1)

    def raw_features(self, show_progressbar=None):
        """Features of every navigation position, as NumPy, before masking."""
        X = self.features()
        if _is_dask(X):
            with _progress(show_progressbar):
                X = np.asarray(X.compute())
        return as_working_float(X)  # no float16 sums of squares (overflow)

    def compute(self, show_progressbar=None, k=None, raw=None):
        """Return ``(Xp, keep)``: preprocessed features of the kept positions.

        ``keep`` is the boolean vector of the positions used (navigation mask
        and, with ``nan_policy="mask"``, non-finite rows removed). The
        preprocessor is fitted here, on the kept rows only. Afterwards
        ``features_owned`` is True when ``Xp`` shares no memory with the
        signal (its data or learning results), so that later stages may work
        on it in place.

        ``raw`` is :meth:`raw_features` when the caller has already computed
        them (and keeps them: they are then never scaled in place).
        """
        X_kept, keep, owned = self.kept_features(show_progressbar, k, raw)
        return self.preprocess(X_kept, owned, raw), keep

    def kept_features(self, show_progressbar=None, k=None, raw=None):
        """The first step of :meth:`compute`: ``(X_kept, keep, owned)``.

        The features of the kept positions before preprocessing, and whether
        they are our own array (not the signal's, not ``raw``).
        """
        X = self.raw_features(show_progressbar) if raw is None else raw
        keep = self.apply_nan_policy(self.keep, _compute.rows_all_finite(X), k)
        X_kept = X if keep.all() else X[keep]
        owned = raw is None and not self._shares_memory(X_kept)
        return X_kept, keep, owned

    def preprocess(self, X_kept, owned, raw=None):
        """The second step of :meth:`compute`: fit the preprocessing and apply it.

        Sets ``features_owned`` and ``row_squared_norms``.
        """
        self.row_squared_norms = None
        if self.preprocessor is None:
            self.features_owned = owned
            return X_kept
        if not owned and _copies_by_blocks(self.preprocessor, X_kept):
            # A row-wise scaling of the signal's own data: copy it block by
            # block and scale each block in place while it is in cache (one
            # pass, one array the size of the data, in the data's dtype).
            Xp, self.row_squared_norms = _transform_copy_by_blocks(
                self.preprocessor, X_kept, squared_norms=True
            )
        elif owned:
            # Our own copy: scale it in place rather than making another one
            # the size of the data (the transformer is reset to copying
            # afterwards, so that `predict` never writes into user data).
            with _in_place(self.preprocessor):
                Xp = self.preprocessor.fit_transform(X_kept)
        else:
            Xp = self.preprocessor.fit_transform(X_kept)
        self.features_owned = not self._shares_memory(Xp) and not (
            raw is not None and np.may_share_memory(Xp, raw)
        )
        return Xp

    def _shares_memory(self, array):
        if not isinstance(array, np.ndarray):
            return False
        lr = self.signal.learning_results
        owners = [self.source.signal.data, lr.loadings, lr.bss_loadings]
        return any(
            isinstance(o, np.ndarray) and np.may_share_memory(array, o) for o in owners
        )


def plan_features(
    signal,
    cluster_source,
    preprocessing=None,
    preprocessing_kwargs=None,
    number_of_components=None,
    navigation_mask=None,
    signal_mask=None,
    nan_policy="raise",
    spatial_weight=None,
):
    """Validate a feature request and return a :class:`FeaturePlan`.

    Does no work on the data: every parameter error is raised here.
    """
    check_signal(signal)
    if signal.axes_manager.navigation_dimension < 1:
        raise ValueError(
            "Cluster analysis needs a signal with navigation dimension >= 1 (one "
            "sample per navigation position); this signal has none. For an image "
            "whose pixels are samples, use `signal.T`."
        )
    source = resolve_source(signal, cluster_source, number_of_components, signal_mask)
    nav_mask = navigation_mask_to_flat(signal, navigation_mask)
    if source.kind == "pca":  # fitted on kept positions only, as HyperSpy does
        source.keep = None if nav_mask is None else ~nav_mask
    preprocessor = make_preprocessor(preprocessing, preprocessing_kwargs)
    check_choice(nan_policy, "nan_policy", _NAN_POLICIES)
    if spatial_weight is not None:
        if (
            isinstance(spatial_weight, bool)
            or not isinstance(spatial_weight, (int, float, np.floating))
            or not (np.isfinite(spatial_weight) and spatial_weight > 0)
        ):
            raise ValueError(
                f"`spatial_weight` must be a positive number or None, not {spatial_weight!r}."
            )
        _, scale = navigation_coordinates(signal)
        preprocessor = WithCoordinates(
            preprocessor,
            n_coordinates=signal.axes_manager.navigation_dimension,
            weight=float(spatial_weight),
            scale=scale,
        )
    plan = FeaturePlan(
        signal, source, nav_mask, preprocessor, nan_policy, spatial_weight
    )
    plan.check_enough_samples()
    return plan


def _copies_by_blocks(preprocessor, X):
    """Whether :func:`_transform_copy_by_blocks` applies: a ``Normalizer`` on floats."""
    from sklearn.preprocessing import Normalizer

    return (
        type(preprocessor) is Normalizer
        and preprocessor.copy is True
        and isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.dtype in (np.float32, np.float64)
        and X.shape[0] > 0
    )


def _transform_copy_by_blocks(preprocessor, X, squared_norms=False):
    """``preprocessor.fit_transform(X)`` for a row-wise scaling, as a new array.

    Rows are copied into the result one cache-sized block at a time and
    scaled there in place: no temporary the size of the data, and the dtype
    of ``X`` is kept (float32 stays float32). ``X`` is not modified. With
    ``squared_norms``, returns ``(out, x2)``: also the float64 squared norm of
    every scaled row, computed while its block is in cache (for an l2
    normalisation; None otherwise).
    """
    preprocessor.fit(X[:1])  # row-wise: nothing to learn from the data
    out = np.empty(X.shape, dtype=X.dtype)
    x2 = np.empty(X.shape[0]) if squared_norms and preprocessor.norm == "l2" else None
    rows = _compute.block_rows(X.shape[1], X.itemsize)

    def block(start):
        part = out[start : start + rows]
        part[...] = X[start : start + rows]
        # scikit-learn's normalize, operation for operation, without its
        # checks on every block: half the time of the copy
        normalize_rows(part, preprocessor.norm, out=part)
        if x2 is not None:
            x2[start : start + rows] = np.einsum("ij,ij->i", part, part,
                                                 dtype=np.float64)

    with _in_place(preprocessor):
        # NumPy releases the GIL: blocks on every core
        thread_map(block, range(0, X.shape[0], rows), _compute._n_threads())
    preprocessor.n_features_in_ = X.shape[1]
    return (out, x2) if squared_norms else out


@contextlib.contextmanager
def _in_place(estimator):
    """Let an estimator with a ``copy`` parameter work in place, then restore it.

    Pipelines are left alone: their steps may keep references to the input.
    """
    params = (
        estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    )
    if params.get("copy") is not True:
        yield
        return
    estimator.set_params(copy=False)
    try:
        yield
    finally:
        estimator.set_params(copy=True)


def plan_feature_count(plan):
    """Features per sample the estimator will see, or ``None`` if unknown.

    Known without reading the data when the preprocessing keeps the number
    of features (none, clusterspy's named ones, and scikit-learn's scalers);
    a user's pipeline may change it (PCA), and then it is not guessed.
    """
    from sklearn.preprocessing import (
        MaxAbsScaler,
        MinMaxScaler,
        Normalizer,
        RobustScaler,
        StandardScaler,
    )

    keeping = (
        MaxAbsScaler,
        MinMaxScaler,
        Normalizer,
        RobustScaler,
        StandardScaler,
        VarianceStabilizer,
    )
    pre = plan.preprocessor
    if isinstance(pre, WithCoordinates):
        pre = pre.preprocessor
    if pre is not None and not isinstance(pre, keeping):
        return None
    return int(plan.features().shape[-1])


# -- min_counts (issue 15): empty and low-count positions ---------------------------


def apply_min_counts(plan, min_counts, signal_mask=None, stacklevel=3):
    """Mask the positions of ``plan`` with fewer than ``min_counts`` counts.

    Merges them into ``plan.navigation_mask`` (label ``MASKED``, -2) and
    warns (:func:`clusterspy.counts.warn_low_counts`) with their number and
    share. ``min_counts`` was validated before (``check_min_counts``); one
    pass over the data.

    Returns
    -------
    CountSummary or None
        ``None`` when ``min_counts`` is None.
    """
    from .counts import count_summary, counts_per_position, warn_low_counts
    from .sources import signal_mask_to_flat

    if min_counts is None:
        return None
    channels = signal_mask_to_flat(plan.signal, signal_mask)
    counts = counts_per_position(plan.signal, channels)
    low = np.asarray(counts < min_counts).ravel()
    summary = count_summary(plan.signal, min_counts, counts=counts)
    warn_low_counts(summary, masked=True, stacklevel=stacklevel)
    if low.any():
        mask = low if plan.navigation_mask is None else plan.navigation_mask | low
        plan.navigation_mask = mask
        if plan.source.kind == "pca":
            plan.source.keep = ~mask
    plan.check_enough_samples()
    return summary
