"""Learned features: an autoencoder's latent codes of every navigation position.

:func:`learn_features` trains a small autoencoder on the signal's navigation
positions (each position's signal is one sample) and returns the latent
codes as a signal with the same navigation shape, one short spectrum of
``n_components`` values per position, ready to be clustered
(``cluster_source=codes``). This is deep clustering as DEC and n2d begin
it: the encoder maps images that differ in detail (the stroke of a digit,
the exact intensities of a diffraction pattern) to nearby codes, and
k-means then separates the codes far better than the raw pixels.

* Image stacks (two signal axes) get a convolutional autoencoder; any other
  signal (spectra, or more signal axes, flattened) a dense one.
* Training is seeded: the weights and the batches come from
  ``random_state``, and on the CPU PyTorch's deterministic algorithms are
  used, so that the same call gives the same codes on the same machine.
* Lazy signals are streamed: each epoch reads the data block by block (the
  data's own navigation tiles), so a signal larger than memory is never
  loaded whole.
* The trained model is kept with the codes in a safe form (no pickle): its
  weights as NumPy arrays and its architecture as a JSON-able dict, in the
  codes' ``metadata.clusterspy.learned_features``; :class:`AutoencoderModel`
  reads it back and encodes other signals.

PyTorch is the optional extra ``clusterspy[deep]``.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ._torch import require_torch, resolve_device
from .validation import check_int, check_signal

__all__ = ["AutoencoderModel", "MANIFOLDS", "METHODS", "learn_features"]

#: The accepted values of ``method``.
METHODS = ("autoencoder",)

#: The accepted values of ``manifold`` (besides None).
MANIFOLDS = ("spectral", "isomap")

#: Where the model is kept in the codes' metadata.
METADATA_NODE = "clusterspy.learned_features"

_DENSE_HIDDEN = (256, 128)
_CONV_CHANNELS = (16, 32, 64)


def learn_features(
    signal,
    method="autoencoder",
    n_components=10,
    *,
    random_state=None,
    epochs=60,
    batch_size=64,
    learning_rate=1e-3,
    manifold=None,
    n_neighbors=10,
    device=None,
    show_progressbar=None,
):
    """Train an autoencoder on the navigation positions; return the latent codes.

    Parameters
    ----------
    signal : BaseSignal
        Each navigation position is one sample: an image (two signal axes:
        convolutional autoencoder) or a spectrum (dense autoencoder; more
        signal axes are flattened). Lazy signals are read block by block at
        every epoch. Not modified.
    method : {"autoencoder"}
        The model to train.
    n_components : int
        Size of the latent code, from 1 to the number of values per position.
    random_state : int or None
        Seed of the initial weights and of the order of the batches. With an
        int, the same call gives the same codes (on the CPU, on the same
        machine); None draws a seed, recorded with the model.
    epochs : int
        Passes over the data.
    batch_size : int
        Positions per gradient step.
    learning_rate : float
        Adam's step size.
    manifold : {None, "spectral", "isomap"}
        A manifold step on the latent codes, as n2d does with UMAP: the
        codes returned are then the ``n_components``-dimensional spectral
        embedding (Laplacian eigenmaps, scikit-learn's
        :class:`~sklearn.manifold.SpectralEmbedding`) or
        :class:`~sklearn.manifold.Isomap` embedding of the autoencoder's codes
        over a graph of ``n_neighbors`` nearest neighbours. It follows the
        clusters' shapes rather than their distances (on the digits, k-means
        NMI 0.83 instead of 0.77). It needs every code in memory (the
        navigation positions times ``n_components``) and is not applied by
        :meth:`AutoencoderModel.encode`, which gives the autoencoder's codes.
    n_neighbors : int
        Neighbours of each position in the manifold step's graph.
    device : str or None
        A torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``); None: CUDA when
        available, else the CPU.
    show_progressbar : bool or None
        A progress bar over the epochs; None follows HyperSpy's preference.

    Returns
    -------
    Signal1D
        The codes: the signal's navigation axes and one signal axis
        ``"Latent component"`` of ``n_components``. The model is in its
        ``metadata.clusterspy.learned_features`` (see
        :class:`AutoencoderModel`), with the loss of every epoch.

    Raises
    ------
    ImportError
        Without PyTorch: ``pip install "clusterspy[deep]"``.
    ValueError, TypeError
        On bad input, before any training.

    Examples
    --------
    >>> import clusterspy
    >>> s, truth = clusterspy.datasets.spectrum_image(
    ...     shape=(8, 8), n_channels=32, return_truth=True, random_state=0)
    >>> codes = s.clusterspy.learn_features(
    ...     n_components=2, random_state=0, epochs=2, show_progressbar=False)
    >>> codes.data.shape
    (8, 8, 2)
    >>> s.clusterspy.cluster_analysis(codes, n_clusters=3, random_state=0)
    """
    check_signal(signal)
    if not isinstance(method, str) or method not in METHODS:
        listed = ", ".join(repr(m) for m in METHODS)
        raise ValueError(f"`method` must be one of {listed}; got {method!r}.")
    nav_shape = tuple(signal.axes_manager.navigation_shape)
    if len(nav_shape) == 0:
        raise ValueError(
            "learn_features needs navigation positions to learn from: the signal "
            "has no navigation axis (a 0-D navigation). Transpose it first, e.g. "
            "`signal.T`, so that its samples are on the navigation axes."
        )
    n_samples = int(np.prod(nav_shape))
    if n_samples < 2:
        raise ValueError(
            f"learn_features needs at least 2 navigation positions, not {n_samples}."
        )
    input_shape = _input_shape(signal)
    n_values = int(np.prod(input_shape))
    n_components = check_int(n_components, "n_components", minimum=1, maximum=n_values)
    epochs = check_int(epochs, "epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise ValueError(
            f"`learning_rate` must be a positive number, not {learning_rate!r}."
        )
    if manifold is not None and manifold not in MANIFOLDS:
        listed = ", ".join(repr(m) for m in (None, *MANIFOLDS))
        raise ValueError(f"`manifold` must be one of {listed}; got {manifold!r}.")
    if manifold is not None:
        n_neighbors = check_int(
            n_neighbors, "n_neighbors", minimum=1, maximum=n_samples - 1
        )
    seed = _seed(random_state)
    torch = require_torch("learn_features")
    device = resolve_device(device)

    data = _aligned_data(signal)
    offset, scale = _offset_and_scale(data)
    config = {
        "method": method,
        "kind": "conv" if len(input_shape) == 2 else "dense",
        "input_shape": list(input_shape),
        "n_components": n_components,
        "hidden": list(_CONV_CHANNELS if len(input_shape) == 2 else _DENSE_HIDDEN),
        "offset": offset,
        "scale": scale,
        "random_state": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": float(learning_rate),
        # without the local part ("+cu130"): HDF5 files refuse that string
        "torch": str(torch.__version__).split("+")[0],
        "device": str(device),
        "manifold": manifold,
        "n_neighbors": n_neighbors if manifold is not None else None,
    }
    rows = _Rows(data, input_shape, offset, scale, show_progressbar)
    with _seeded(torch, seed, device):
        net = _build(torch, config).to(device)
        losses = _train(torch, net, rows, config, device, show_progressbar)
        codes = _encode(torch, net, rows, n_components, device)
    config["loss"] = losses
    if manifold is not None:
        codes = _manifold(codes, manifold, n_components, n_neighbors, seed)
    model = AutoencoderModel(config, _state_to_numpy(net))
    return model._codes_signal(signal, codes)


class AutoencoderModel:
    """A trained autoencoder, kept as NumPy arrays and a JSON-able dict (no pickle).

    Parameters
    ----------
    config : dict
        The architecture and training parameters (JSON-able): ``kind``
        (``"conv"`` or ``"dense"``), ``input_shape``, ``n_components``,
        ``hidden``, the input ``offset`` and ``scale``, and how it was
        trained (``random_state``, ``epochs``, ``loss``, ...).
    parameters : dict of str to numpy.ndarray
        The network's ``state_dict``, as NumPy arrays.

    Examples
    --------
    >>> import clusterspy
    >>> from clusterspy.deep import AutoencoderModel
    >>> s = clusterspy.datasets.spectrum_image(shape=(6, 6), n_channels=16)
    >>> codes = s.clusterspy.learn_features(
    ...     n_components=3, random_state=0, epochs=1, show_progressbar=False)
    >>> model = AutoencoderModel.from_signal(codes)
    >>> model.encode(s).data.shape
    (6, 6, 3)
    """

    def __init__(self, config, parameters):
        self.config = dict(config)
        self.parameters = {k: np.asarray(v) for k, v in parameters.items()}

    def __repr__(self):
        c = self.config
        return (
            f"<AutoencoderModel {c['kind']}, input {tuple(c['input_shape'])} -> "
            f"{c['n_components']} components>"
        )

    def to_dict(self):
        """``{"config": dict, "parameters": {name: array}}``; names use ``__``."""
        return {
            "config": dict(self.config),
            "parameters": {
                name.replace(".", "__"): array
                for name, array in self.parameters.items()
            },
        }

    @classmethod
    def from_dict(cls, dictionary):
        """The model of :meth:`to_dict`'s dict."""
        params = dictionary["parameters"]
        return cls(
            dict(dictionary["config"]),
            {name.replace("__", "."): np.asarray(a) for name, a in params.items()},
        )

    @classmethod
    def from_signal(cls, codes):
        """The model kept in the metadata of codes from :func:`learn_features`."""
        check_signal(codes, "codes")
        if not codes.metadata.has_item(METADATA_NODE):
            raise ValueError(
                "`codes` holds no learned model: pass the signal returned by "
                "learn_features."
            )
        return cls.from_dict(codes.metadata.get_item(METADATA_NODE).as_dictionary())

    def encode(self, signal, device=None, show_progressbar=None):
        """The latent codes of another signal's navigation positions.

        ``signal`` must have the training signal's signal shape; lazy
        signals are read block by block.
        """
        check_signal(signal)
        torch = require_torch("AutoencoderModel.encode")
        input_shape = _input_shape(signal)
        if list(input_shape) != list(self.config["input_shape"]):
            raise ValueError(
                f"`signal` has signal shape {input_shape}; the model was trained on "
                f"{tuple(self.config['input_shape'])}."
            )
        if signal.axes_manager.navigation_dimension == 0:
            raise ValueError("`signal` has no navigation axis (a 0-D navigation).")
        device = resolve_device(device)
        net = _build(torch, self.config)
        net.load_state_dict({k: torch.as_tensor(v) for k, v in self.parameters.items()})
        net = net.to(device)
        rows = _Rows(
            _aligned_data(signal),
            input_shape,
            self.config["offset"],
            self.config["scale"],
            show_progressbar,
        )
        codes = _encode(torch, net, rows, self.config["n_components"], device)
        return self._codes_signal(signal, codes)

    def _codes_signal(self, signal, codes):
        from hyperspy.signal import BaseSignal

        nav_axes = signal.axes_manager._get_navigation_axes_dicts()
        latent = {
            "name": "Latent component",
            "size": codes.shape[1],
            "navigate": False,
            "units": "",
        }
        nav_shape = tuple(a["size"] for a in nav_axes)
        out = BaseSignal(
            codes.reshape(nav_shape + (codes.shape[1],)), axes=nav_axes + [latent]
        )
        out._assign_subclass()
        out.metadata.General.title = (
            f"Autoencoder features of {signal.metadata.General.title}"
        )
        out.metadata.set_item(METADATA_NODE, self.to_dict())
        return out


# -- data -------------------------------------------------------------------------------


def _input_shape(signal):
    """One sample's shape: (height, width) of an image, (values,) otherwise."""
    shape = tuple(signal.axes_manager.signal_shape[::-1])
    if len(shape) == 0:
        raise ValueError(
            "learn_features needs a signal axis (each navigation position's "
            "signal is one sample); the signal has none."
        )
    return shape if len(shape) == 2 else (int(np.prod(shape)),)


def _aligned_data(signal):
    """The data as ``(samples, values)`` (NumPy or dask), navigation first."""
    from .sources import flatten_signal_axes

    nav_ndim = signal.axes_manager.navigation_dimension
    data = flatten_signal_axes(signal._data_aligned_with_axes, nav_ndim)
    return data


def _offset_and_scale(data):
    """The data's mean and standard deviation (one pass for lazy data)."""
    import dask.array as da

    if isinstance(data, da.Array):
        mean, std = da.compute(data.mean(dtype=np.float64), data.std(dtype=np.float64))
    else:
        mean, std = data.mean(dtype=np.float64), data.std(dtype=np.float64)
    mean, std = float(mean), float(std)
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise ValueError(
            "learn_features needs finite data: the signal holds NaN or infinite values."
        )
    return mean, (std if std > 0 else 1.0)


class _Rows:
    """The samples, block by block, scaled to float32 and shaped for the network.

    Eager data are one block; lazy data are the data's own navigation tiles.
    """

    def __init__(self, data, input_shape, offset, scale, show_progressbar):
        import dask.array as da

        self.input_shape = tuple(input_shape)
        self.offset, self.scale = offset, scale
        self.n = int(np.prod(data.shape[:-1]))
        if isinstance(data, da.Array):
            from .engines.rowblocks import RowBlocks

            blocks = RowBlocks(
                data, np.ones(self.n, dtype=bool), None, show_progressbar
            )
            self.index = blocks.index
            self._delayed = blocks.features.to_delayed().reshape(-1)
            self._eager = None
        else:
            self.index = [np.arange(self.n)]
            self._eager = np.asarray(data).reshape(self.n, -1)
        self._scaled = None

    def block(self, i):
        """Block ``i``'s samples, scaled, as float32 of shape (rows, *input)."""
        if self._eager is not None:
            # scaled once: every epoch reads the same eager block
            if self._scaled is None:
                self._scaled = self._scale(self._eager)
            return self._scaled
        else:
            import dask

            X = np.asarray(dask.compute(self._delayed[i], scheduler="threads")[0])
            X = X.reshape(-1, X.shape[-1])
            if not np.isfinite(X).all():
                raise ValueError(
                    "learn_features needs finite data: a block of the signal holds "
                    "NaN or infinite values."
                )
        return self._scale(X)

    def _scale(self, X):
        X = (X.astype(np.float32) - np.float32(self.offset)) / np.float32(self.scale)
        return X.reshape((X.shape[0],) + self._net_shape())

    def _net_shape(self):
        if len(self.input_shape) == 2:
            return (1,) + self.input_shape
        return self.input_shape


# -- network ------------------------------------------------------------------------


def _build(torch, config):
    """The autoencoder described by ``config`` (``encoder`` and ``decoder``)."""
    nn = torch.nn
    k = config["n_components"]
    if config["kind"] == "dense":
        (d,) = config["input_shape"]
        widths = [d, *config["hidden"]]
        enc, dec = [], []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            enc += [nn.Linear(a, b), nn.ReLU()]
        enc.append(nn.Linear(widths[-1], k))
        rev = widths[::-1]
        dec += [nn.Linear(k, rev[0]), nn.ReLU()]
        for a, b in zip(rev[:-1], rev[1:], strict=True):
            dec.append(nn.Linear(a, b))
            if b != d:
                dec.append(nn.ReLU())
        return _Autoencoder(torch, nn.Sequential(*enc), nn.Sequential(*dec))
    h, w = config["input_shape"]
    c1, c2, c3 = config["hidden"]
    # two stride-2 convolutions: a quarter of the image per side, pooled
    # to at most 8 x 8 so that large patterns keep a small dense layer
    h4, w4 = math.ceil(math.ceil(h / 2) / 2), math.ceil(math.ceil(w / 2) / 2)
    ph, pw = min(h4, 8), min(w4, 8)
    enc = [
        nn.Conv2d(1, c1, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c1, c2, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(c2, c3, 3, stride=2, padding=1),
        nn.ReLU(),
    ]
    if (ph, pw) != (h4, w4):
        enc.append(nn.AdaptiveAvgPool2d((ph, pw)))
    enc += [nn.Flatten(), nn.Linear(c3 * ph * pw, k)]
    dec = [
        nn.Linear(k, c3 * ph * pw),
        nn.ReLU(),
        nn.Unflatten(1, (c3, ph, pw)),
        nn.Upsample(size=(math.ceil(h / 2), math.ceil(w / 2))),
        nn.Conv2d(c3, c2, 3, padding=1),
        nn.ReLU(),
        nn.Upsample(size=(h, w)),
        nn.Conv2d(c2, c1, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c1, 1, 3, padding=1),
    ]
    return _Autoencoder(torch, nn.Sequential(*enc), nn.Sequential(*dec))


def _Autoencoder(torch, encoder, decoder):
    """An ``nn.Module`` with ``encoder`` and ``decoder`` (built on demand)."""

    class Autoencoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.decoder = decoder

        def forward(self, x):
            return self.decoder(self.encoder(x))

    return Autoencoder()


def _state_to_numpy(net):
    return {
        name: tensor.detach().cpu().numpy().copy()
        for name, tensor in net.state_dict().items()
    }


def _manifold(codes, manifold, n_components, n_neighbors, seed):
    """The codes' spectral or Isomap embedding (float32)."""
    from sklearn.manifold import Isomap, SpectralEmbedding

    if manifold == "spectral":
        step = SpectralEmbedding(
            n_components=n_components,
            affinity="nearest_neighbors",
            n_neighbors=n_neighbors,
            random_state=seed,
        )
    else:
        step = Isomap(n_neighbors=n_neighbors, n_components=n_components)
    return step.fit_transform(codes.astype(np.float64)).astype(np.float32)


# -- training -------------------------------------------------------------------------


def _seed(random_state):
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] % 2**31)
    return check_int(random_state, "random_state", minimum=0, maximum=2**31 - 1)


@contextlib.contextmanager
def _seeded(torch, seed, device):
    """PyTorch's random state seeded, and deterministic algorithms on the CPU.

    Both are restored afterwards: the caller's own PyTorch state is untouched.
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(deterministic)


def _progress(iterable, show_progressbar, desc):
    if show_progressbar is None:
        from hyperspy.defaults_parser import preferences

        show_progressbar = preferences.General.show_progressbar
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, disable=not show_progressbar, leave=False)


def _train(torch, net, rows, config, device, show_progressbar):
    """Adam on the mean squared reconstruction error; the loss of every epoch."""
    rng = np.random.RandomState(config["random_state"])
    optimizer = torch.optim.Adam(net.parameters(), lr=config["learning_rate"])
    loss_fn = torch.nn.MSELoss()
    batch = config["batch_size"]
    losses = []
    net.train()
    for _ in _progress(range(config["epochs"]), show_progressbar, "learn_features"):
        total, seen = 0.0, 0
        for i in rng.permutation(len(rows.index)):
            X = rows.block(i)
            order = rng.permutation(X.shape[0])
            for start in range(0, X.shape[0], batch):
                xb = torch.as_tensor(X[order[start : start + batch]]).to(device)
                optimizer.zero_grad()
                loss = loss_fn(net(xb), xb)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * xb.shape[0]
                seen += xb.shape[0]
        losses.append(total / seen)
    return losses


def _encode(torch, net, rows, n_components, device, batch=1024):
    """The codes of every sample, in flat navigation order (float32)."""
    codes = np.empty((rows.n, n_components), dtype=np.float32)
    net.eval()
    with torch.no_grad():
        for i, idx in enumerate(rows.index):
            X = rows.block(i)
            out = np.empty((X.shape[0], n_components), dtype=np.float32)
            for start in range(0, X.shape[0], batch):
                xb = torch.as_tensor(X[start : start + batch]).to(device)
                out[start : start + batch] = net.encoder(xb).cpu().numpy()
            codes[idx] = out
    return codes
