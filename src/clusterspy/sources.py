"""Feature sources: turn a signal into a 2-D matrix ``(n_samples, n_features)``.

One sample is one navigation position. Navigation positions are flattened in
the order of the data array (C order over ``navigation_shape[::-1]``), which is
the order HyperSpy uses when it unfolds a signal, so that a vector of labels
reshapes to ``navigation_shape[::-1]`` to give the map as it is displayed.

Nothing here modifies the user's signal: no unfolding, no change of dtype.
Features are views or new arrays; the data is reshaped through
``BaseSignal._data_aligned_with_axes``, which also covers transposed signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .masks import (  # noqa: F401  (moved to .masks, kept importable here)
    _as_numpy,
    _is_dask,
    _is_signal,
    navigation_mask_to_flat,
    signal_mask_to_flat,
)
from .pca import PCA, _check_n_components

__all__ = [
    "as_feature_signal",
    "flatten_signal_axes",
    "navigation_coordinates",
    "SOURCE_NAMES",
    "Source",
    "resolve_source",
    "navigation_mask_to_flat",
    "signal_mask_to_flat",
]

SOURCE_NAMES = ("signal", "decomposition", "bss", "pca")


def flatten_signal_axes(data, nav_ndim):
    """``(navigation..., signal...)`` data as ``navigation + (signal size,)``.

    The signal axes are merged into one chunk first, so that the reshape
    stays inside every navigation tile (no rechunking of the navigation):
    the out-of-core engine keeps the data's own navigation tiles as blocks.
    """
    import dask.array as da

    if isinstance(data, da.Array) and data.ndim > nav_ndim:
        data = data.rechunk({i: -1 for i in range(nav_ndim, data.ndim)})
    return data.reshape(data.shape[:nav_ndim] + (-1,))


@dataclass
class Source:
    """A validated feature source, before any data is read.

    Attributes
    ----------
    kind : str
        ``"signal"``, ``"decomposition"``, ``"bss"`` or ``"user"``.
    signal : BaseSignal
        The signal whose data (``"signal"``, ``"user"``) or learning results
        (``"decomposition"``, ``"bss"``) give the features.
    number_of_components : int or None
        Components used for ``"decomposition"`` and ``"bss"``.
    signal_mask : numpy.ndarray or None
        Flat boolean mask over the source's signal space (array order),
        ``True`` where a channel is excluded. Only for ``"signal"``/``"user"``.
    """

    kind: str
    signal: object
    number_of_components: int | None = None
    signal_mask: np.ndarray | None = None

    @property
    def n_samples(self):
        return self.signal.axes_manager.navigation_size

    @property
    def description(self):
        """Short text for provenance records."""
        if self.kind == "user":
            title = self.signal.metadata.General.title
            return f"user signal {title!r}" if title else "user signal"
        return self.kind

    # -- features ---------------------------------------------------------------
    def features(self, flat=True):
        """Return the feature matrix ``(n_samples, n_features)``.

        NumPy for eager signals (a view of the data where possible: never
        write into it), dask for lazy ones. Integer data is converted to
        float64, as scikit-learn would. With ``flat=False`` the navigation
        axes are kept, ``navigation_shape[::-1] + (n_features,)``, so that a
        lazy signal's blocks stay its own navigation tiles.
        """
        if self.kind in ("signal", "user"):
            data = self.signal._data_aligned_with_axes
            if np.iscomplexobj(data):
                raise TypeError(
                    "Complex data cannot be clustered directly: pass "
                    "`signal.real`, `signal.imag`, `signal.amplitude` or "
                    "`signal.phase` as `cluster_source`."
                )
            if flat:
                X = data.reshape((self.n_samples, -1))
            else:
                X = flatten_signal_axes(
                    data, self.signal.axes_manager.navigation_dimension
                )
            if self.signal_mask is not None:
                X = X[..., ~self.signal_mask]
            if not np.issubdtype(X.dtype, np.floating):
                X = X.astype(np.float64)
            return X
        loadings, _ = self._loadings_and_factors()
        return loadings

    def _loadings_and_factors(self):
        lr = self.signal.learning_results
        if self.kind == "decomposition":
            loadings, factors = lr.loadings, lr.factors
        else:
            loadings, factors = lr.bss_loadings, lr.bss_factors
        n = self.number_of_components
        loadings = _as_numpy(loadings)[:, :n]
        factors = _as_numpy(factors)[:, :n]
        return loadings, factors

    # -- low-rank representation for cluster signals -------------------------------
    def low_rank(self):
        """Return ``(A, G)`` with the reconstructed data equal to ``A @ G.T``.

        Used to compute cluster signals from a decomposition without building
        the ``(n_samples, n_channels)`` reconstruction. The decomposition mean
        (HyperSpy's ``learning_results.mean``, present when ``centre`` was
        used) is folded in as one more column, so that the cluster signals
        are physical spectra, not centred ones.
        """
        loadings, factors = self._loadings_and_factors()
        mean = self.signal.learning_results.mean
        if mean is None:
            return loadings, factors
        mean = _as_numpy(mean)
        n_samples, n_channels = loadings.shape[0], factors.shape[0]
        if mean.shape == (n_samples, 1):
            # centre="signal": one offset per navigation position
            return (
                np.hstack([loadings, mean]),
                np.hstack([factors, np.ones((n_channels, 1))]),
            )
        # centre="navigation": one mean spectrum for every position
        mean = mean.reshape(-1)
        return (
            np.hstack([loadings, np.ones((n_samples, 1))]),
            np.hstack([factors, mean[:, None]]),
        )

    def signal_axes_dicts(self):
        """Axes dicts (array order) of the cluster signals this source gives."""
        return self.signal.axes_manager._get_signal_axes_dicts()

    @property
    def signal_array_shape(self):
        return self.signal.axes_manager.signal_shape[::-1]


def resolve_source(
    signal, source, number_of_components=None, signal_mask=None, name="cluster_source"
):
    """Validate a feature source and return a :class:`Source`.

    Parameters
    ----------
    signal : BaseSignal
        The signal being analysed.
    source : {"signal", "decomposition", "bss"} or BaseSignal
        Where the features come from. A signal must have the same navigation
        size as ``signal``.
    number_of_components : int or None
        Components for ``"decomposition"`` and ``"bss"``; ``None`` takes
        ``learning_results.number_significant_components`` (decomposition)
        or every BSS component.
    signal_mask : array-like, BaseSignal or None
        Channels to exclude (``True``), for ``"signal"`` and signal sources;
        ignored with a warning for ``"decomposition"`` and ``"bss"``, as
        HyperSpy does.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    Source
    """
    from .validation import check_int

    if _is_signal(source):
        if source is signal:
            kind, src_signal = "signal", signal
        else:
            kind, src_signal = "user", source
            n_nav = signal.axes_manager.navigation_size
            if source.axes_manager.navigation_size != n_nav:
                raise ValueError(
                    f"`{name}` must have the same navigation size as the signal "
                    f"({n_nav}, navigation shape "
                    f"{signal.axes_manager.navigation_shape}); the signal passed "
                    "has navigation shape "
                    f"{source.axes_manager.navigation_shape}. For a stack of maps "
                    "(one map per feature), pass `stack.T` so that the maps' "
                    "axes are navigation axes."
                )
        if np.dtype(src_signal.data.dtype).names is not None:
            raise TypeError(
                f"`{name}` has a structured (RGB) dtype; convert it first, for "
                "example with `s.change_dtype('uint8')` followed by `.T` where "
                "needed, so that the colour channels are the signal axis."
            )
        mask = signal_mask_to_flat(src_signal, signal_mask)
        if mask is not None and mask.all():
            raise ValueError("`signal_mask` excludes every channel; nothing is left.")
        return Source(kind, src_signal, signal_mask=mask)

    if isinstance(source, PCA) or (isinstance(source, str) and source == "pca"):
        return resolve_pca_source(
            signal, source, number_of_components, signal_mask, name
        )
    if not isinstance(source, str) or source not in SOURCE_NAMES:
        raise ValueError(
            f"`{name}` must be 'signal', 'decomposition', 'bss' or a HyperSpy "
            f"signal with the same navigation size; got {source!r}."
        )
    if source == "signal":
        return resolve_source(signal, signal, number_of_components, signal_mask, name)

    lr = signal.learning_results
    if source == "decomposition":
        loadings = lr.loadings
        if loadings is None:
            raise ValueError(
                f"`{name}='decomposition'` needs decomposition results: run "
                "`signal.decomposition()` first."
            )
        available = loadings.shape[1]
        if number_of_components is None:
            number_of_components = lr.number_significant_components
            if number_of_components is None:
                raise ValueError(
                    "`number_of_components` must be given: the decomposition did "
                    "not estimate a number of significant components."
                )
    else:
        loadings = lr.bss_loadings
        if loadings is None:
            raise ValueError(
                f"`{name}='bss'` needs blind source separation results: run "
                "`signal.blind_source_separation()` first."
            )
        available = loadings.shape[1]
        if number_of_components is None:
            number_of_components = available
    number_of_components = check_int(
        number_of_components, "number_of_components", minimum=1, maximum=available
    )
    if loadings.shape[0] != signal.axes_manager.navigation_size:
        raise ValueError(
            f"The {source} results do not match this signal's navigation size "
            f"({loadings.shape[0]} loadings rows, {signal.axes_manager.navigation_size}"
            " navigation positions); run the decomposition again."
        )
    if signal_mask is not None:
        # HyperSpy documents that it ignores `signal_mask` for these sources;
        # ignoring it with a warning keeps its notebooks running.
        import warnings

        warnings.warn(
            f"`signal_mask` is ignored for {name}={source!r}: it applies to the "
            "'signal' source and to signal sources (loadings have no signal "
            "channels).",
            UserWarning,
            stacklevel=4,
        )
    return Source(source, signal, number_of_components=number_of_components)


def as_feature_signal(signal):
    """The signal whose navigation positions are the samples to cluster.

    A colour (RGB/RGBA) signal stores each pixel's colour in a structured
    dtype, so its pixels are its *signal* axes. For clustering, its pixels
    (and any navigation axes) become navigation positions and the colour
    channels the signal: a ``Signal1D`` view of the same memory, sharing the
    original's ``learning_results`` so that results are stored with it.
    Any other signal is returned as it is.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> from clusterspy.sources import as_feature_signal
    >>> rgb = hs.signals.Signal1D(np.zeros((4, 5, 3), dtype=np.uint8))
    >>> rgb.change_dtype("rgb8")
    >>> as_feature_signal(rgb).axes_manager.shape
    (5, 4, 3)
    """
    if np.dtype(signal.data.dtype).names is None or not signal.is_rgbx:
        return signal
    import hyperspy.api as hs
    from rsciio.utils.rgb import rgbx2regular_array

    data = signal.data
    if _is_dask(data):
        # a blockwise view of each chunk as (..., channels), no compute
        n = len(data.dtype.names)
        channel_dtype = data.dtype.fields["B"][0]
        data = data.map_blocks(
            rgbx2regular_array,
            dtype=channel_dtype,
            new_axis=data.ndim,
            chunks=data.chunks + ((n,),),
        )
    else:
        data = rgbx2regular_array(data)
    axes = signal.axes_manager._get_axes_dicts()
    for axis in axes:
        axis["navigate"] = True
    channels = "RGBA"[: data.shape[-1]]
    axes.append(
        {"size": data.shape[-1], "navigate": False, "name": f"{channels} channel"}
    )
    view = hs.signals.Signal1D(data, axes=axes)
    if _is_dask(data):
        view = view.as_lazy()
    view.metadata.General.title = signal.metadata.General.title
    view.learning_results = signal.learning_results
    return view


def navigation_coordinates(signal):
    """Calibrated coordinates of every navigation position, and their spread.

    Returns
    -------
    coordinates : numpy.ndarray, shape (n_samples, navigation_dimension)
        One column per navigation axis in HyperSpy's order (x first), rows in
        data order, in the axes' calibrated units.
    scale : float
        The root-mean-square distance of the positions from their centroid
        (one number for every axis, so that a circle stays a circle).

    Examples
    --------
    >>> import hyperspy.api as hs, numpy as np
    >>> from clusterspy.sources import navigation_coordinates
    >>> s = hs.signals.Signal1D(np.zeros((2, 3, 4)))
    >>> coords, scale = navigation_coordinates(s)
    >>> coords.tolist()
    [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]
    """
    axes = signal.axes_manager.navigation_axes  # x first
    grids = np.meshgrid(
        *[np.asarray(a.axis, dtype=np.float64) for a in axes[::-1]], indexing="ij"
    )
    coordinates = np.stack([g.ravel() for g in grids[::-1]], axis=1)
    centred = coordinates - coordinates.mean(axis=0)
    scale = float(np.sqrt((centred**2).sum(axis=1).mean())) or 1.0
    return coordinates, scale


# -- the "pca" source: scores computed by clusterspy (clusterspy.pca) --------------------


def resolve_pca_source(
    signal, source, number_of_components, signal_mask, name="cluster_source"
):
    """Validate ``cluster_source="pca"`` (or a :class:`PCA`) before any work.

    Called by :func:`clusterspy.sources.resolve_source`. Returns a
    :class:`PCAFeatureSource`, whose features (the scores) are computed on
    first use and kept.
    """
    if name != "cluster_source":
        raise ValueError(
            f"`{name}` cannot be 'pca': the cluster signals come from the raw data "
            "(the default), from 'decomposition' or 'bss', or from a signal."
        )
    options = PCA() if isinstance(source, str) else source
    data = signal.data
    if np.dtype(data.dtype).names is not None:
        raise TypeError(
            "cluster_source='pca' needs numeric data, not a structured (RGB) dtype."
        )
    if np.iscomplexobj(data):
        raise TypeError(
            "cluster_source='pca' does not decompose complex data: pass "
            "`signal.real`, `signal.imag`, `signal.amplitude` or `signal.phase` "
            "as the signal."
        )
    mask = signal_mask_to_flat(signal, signal_mask)
    if mask is not None and mask.all():
        raise ValueError("`signal_mask` excludes every channel; nothing is left.")
    n_channels = signal.axes_manager.signal_size
    n_features = n_channels - (0 if mask is None else int(mask.sum()))
    if number_of_components is None:
        raise ValueError(
            "`number_of_components` must be given with cluster_source='pca' (an "
            f"int in [1, {n_features}], the number of channels used)."
        )
    n = _check_n_components(number_of_components, n_features)
    return PCAFeatureSource(
        "pca", signal, number_of_components=n, options=options, pca_signal_mask=mask
    )


class PCAFeatureSource(Source):
    """The ``"pca"`` source: scores of the signal's own data, computed once.

    ``signal_mask`` stays None (the channels are masked inside the
    decomposition, ``pca_signal_mask``), so that the cluster signals are
    whole spectra. ``keep`` (set by the feature plan from the navigation mask)
    selects the positions the decomposition is fitted on.
    """

    def __init__(
        self,
        kind,
        signal,
        number_of_components=None,
        options=None,
        pca_signal_mask=None,
    ):
        super().__init__(kind, signal, number_of_components=number_of_components)
        self.options = options
        self.pca_signal_mask = pca_signal_mask
        self.keep = None
        self.model = None

    @property
    def description(self):
        return "pca"

    def fit(self, show_progressbar=None):
        """Decompose the signal's data (once) and return the :class:`PCAModel`."""
        if self.model is None:
            data = self.signal._data_aligned_with_axes
            nav_ndim = self.signal.axes_manager.navigation_dimension
            if _is_dask(data):
                data = flatten_signal_axes(data, nav_ndim)  # keeps the tiles
            else:
                data = data.reshape((self.n_samples, -1))
            self.model = self.options.fit(
                data,
                self.number_of_components,
                keep=self.keep,
                signal_mask=self.pca_signal_mask,
                show_progressbar=show_progressbar,
            )
            self.number_of_components = self.model.n_components
        return self.model

    def features(self, flat=True):
        # a copy: the feature plan scales its features in place when it owns them
        scores = self.fit().scores.copy()
        if flat:
            return scores
        nav = self.signal.axes_manager.navigation_shape[::-1]
        return scores.reshape(tuple(nav) + (scores.shape[1],))

    def _loadings_and_factors(self):
        raise ValueError("The 'pca' source has no stored loadings.")

    def pca_parameters(self):
        """Options and fitted model, as plain values for the result's parameters."""
        model = self.fit()
        return {
            "options": self.options.describe(),
            "passes": model.passes,
            "model": model.to_dict(),
        }
