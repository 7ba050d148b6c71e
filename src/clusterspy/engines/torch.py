"""The torch engine: Lloyd k-means on a PyTorch device (CUDA when there is one).

The same k-means as the other engines, with the Lloyd iterations (the
distances of every row to every centre, the members' sums) on a torch
device in float32:

* the start is :class:`~clusterspy.engines.kmeans.BlockwiseKMeans`'s:
  k-means++ (scikit-learn's :func:`~sklearn.cluster.kmeans_plusplus`) on a
  seeded sample, or on every row when there are fewer, so that the start is
  the in-memory engine's for the same ``random_state``;
* the stopping rules are ``engines._loop.lloyd_loop``'s:
  no label change, or the centres' squared shift at most ``tol`` (scaled
  as scikit-learn does), or ``max_iter``; then one final labelling;
* eager features are copied to the device once (when they take at most
  half its free memory; otherwise streamed from the host in chunks at each
  iteration); lazy features are read block by block at each iteration, as
  the blockwise engine does, and never loaded whole.

Distances to the final centres, centroids and cluster signals are then
computed on the CPU as by the other engines. Only k-means
(``algorithm="kmeans"``) runs here. The device, its name and memory are
recorded in the result's parameters (``engine_device``).

PyTorch is the optional extra ``clusterspy[deep]``; it is imported only when
this engine runs.
"""

from __future__ import annotations

import numpy as np

from .. import _compute
from .._torch import describe_device, require_torch, resolve_device
from ..results import MASKED, NOISE
from . import rowblocks
from ._loop import lloyd_loop
from .base import Fit
from .blockwise import _open_blocks, _same_data_as_features
from .kmeans import BlockwiseKMeans

__all__ = ["TorchKMeans", "fit"]

# Rows per chunk on the device: the chunk and its (rows, k) distances within
# about this many bytes of float32.
_CHUNK_BYTES = 256 * 2**20


def fit(plan, estimator, request):
    """Fit k-means with its Lloyd iterations on a torch device.

    See :mod:`clusterspy.engines.base` for the interface.
    """
    if request.algorithm != "kmeans":
        raise ValueError(
            "engine='torch' runs k-means only (algorithm='kmeans'), not "
            f"{request.algorithm!r}: use engine='memory' or 'blockwise'."
        )
    require_torch("engine='torch'")
    if _features_are_lazy(plan):
        return _fit_lazy(plan, estimator, request)
    return _fit_eager(plan, estimator, request)


def _features_are_lazy(plan):
    import dask.array as da

    return isinstance(plan.source.features(), da.Array)


def _fit_eager(plan, estimator, request):
    """The features in memory; Lloyd on the device; the rest as the memory engine."""
    Xp, keep = plan.compute(request.show_progressbar, request.k_requested)
    model = TorchKMeans.from_kmeans(
        estimator, init_sample_size=request.options.get("init_sample_size")
    )
    model.fit(Xp)
    raw_labels, k = model.labels_, model.n_clusters
    n = keep.size
    counts, means, _ = _compute.grouped_moments(Xp, raw_labels, k, with_m2=False)
    kept_distances = _compute.pairwise_distances_to(Xp, means)
    labels = np.full(n, MASKED, dtype=np.int64)
    labels[keep] = np.where(raw_labels >= 0, raw_labels, NOISE)
    distances = np.full((n, k), np.nan)
    distances[keep] = kept_distances
    centroid_index = _compute.nearest_members(labels, distances, k)
    return Fit(
        k, labels, None, means, counts, distances, centroid_index, model, Xp.dtype
    )


def _fit_lazy(plan, estimator, request):
    """The features as row blocks, read at each iteration; the rest as blockwise."""
    blocks, feature_dtype = _open_blocks(plan, request)
    model = TorchKMeans.from_kmeans(
        estimator,
        init_sample_size=request.options.get("init_sample_size"),
        show_progressbar=request.show_progressbar,
    )
    model.fit(blocks)
    k = model.n_clusters
    raw = _same_data_as_features(plan, request.centers, blocks)
    distances, centroid_index, moments = rowblocks.final_pass(
        blocks, model.labels_, model.member_means_, k, raw=raw
    )
    return Fit(
        k,
        model.labels_,
        None,
        model.member_means_,
        model.member_counts_.astype(np.int64),
        distances,
        centroid_index,
        model,
        feature_dtype,
        moments,
    )


class TorchKMeans(BlockwiseKMeans):
    """:class:`~clusterspy.engines.BlockwiseKMeans` with the Lloyd passes on torch.

    Same parameters, start and stopping rules; ``device`` is a torch device
    name (None: CUDA when available, else CPU). The iterations compute in
    float32. The fitted attributes are NumPy arrays, so that the model pickles
    without PyTorch; ``device_`` describes the device used.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.torch import TorchKMeans
    >>> X = np.r_[np.zeros((5, 2)), np.ones((3, 2))]
    >>> TorchKMeans(n_clusters=2, random_state=0, device="cpu").fit(X).labels_.tolist()
    [0, 0, 0, 0, 0, 1, 1, 1]
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        random_state=None,
        init_sample_size=None,
        show_progressbar=None,
        device=None,
    ):
        super().__init__(
            n_clusters,
            init=init,
            n_init=n_init,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
            init_sample_size=init_sample_size,
            show_progressbar=show_progressbar,
        )
        self.device = device

    def fit(self, X, y=None):
        """Fit on a NumPy array, a dask array or row blocks."""
        require_torch("engine='torch'")
        self._device = resolve_device(self.device)
        self._eager = np.asarray(X) if isinstance(X, np.ndarray) else None
        try:
            super().fit(X)
        finally:
            self._eager = None
        self.device_ = describe_device(self._device)
        if self._device.type == "cuda":
            torch = require_torch()
            self.device_["peak_memory_bytes"] = int(
                torch.cuda.max_memory_allocated(self._device)
            )
        del self._device
        return self

    def _lloyd(self, blocks, centers, tol):
        if self._eager is not None:
            step = _DeviceRows(self._eager, self._device)
        else:
            step = _StreamedBlocks(blocks, self._device)
        centers, out, n_iter, _ = lloyd_loop(
            lambda c, _: step(c), centers, self.max_iter, tol
        )
        return (centers, *out, n_iter)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_eager", None)
        state.pop("_device", None)
        return state


def _chunk_rows(n_features, k):
    return max(1, _CHUNK_BYTES // (4 * (n_features + k + 2)))


def _row_norms(torch, X):
    # squared norms without an (rows, features) temporary
    return torch.linalg.vector_norm(X, dim=1) ** 2


def _assign(torch, X, centers, c2, x2=None):
    """Labels, members' sums (float64), counts and inertia of one chunk on the device."""
    cross = X @ centers.T
    d2 = c2[None, :] - 2.0 * cross
    best, lab = torch.min(d2, dim=1)
    if x2 is None:
        x2 = _row_norms(torch, X)
    inertia = float(torch.clamp(best + x2, min=0).sum(dtype=torch.float64))
    # one-hot products, not index_add_: the same sums on every run on CUDA
    onehot = torch.nn.functional.one_hot(lab, centers.shape[0]).to(X.dtype)
    sums = (onehot.T @ X).double()
    counts = onehot.sum(dim=0, dtype=torch.float64)
    return lab, sums, counts, inertia


class _DeviceRows:
    """One Lloyd pass over eager rows: on the device, or streamed from the host."""

    def __init__(self, X, device):
        torch = require_torch()
        self.torch, self.device = torch, device
        self.n, self.d = X.shape
        nbytes = self.n * self.d * 4
        free = _free_bytes(torch, device)
        self.resident = free is None or nbytes <= free // 2
        self.X = X
        self._x2 = {}
        if self.resident:
            self.X = torch.as_tensor(X, dtype=torch.float32).to(device)

    def __call__(self, centers):
        torch = self.torch
        k = centers.shape[0]
        with torch.no_grad():
            C = torch.as_tensor(centers, dtype=torch.float32, device=self.device)
            c2 = (C * C).sum(dim=1)
            rows = _chunk_rows(self.d, k)
            labels = np.empty(self.n, dtype=np.int64)
            sums = torch.zeros((k, self.d), dtype=torch.float64, device=self.device)
            counts = torch.zeros(k, dtype=torch.float64, device=self.device)
            inertia = 0.0
            for start in range(0, self.n, rows):
                chunk = self.X[start : start + rows]
                if not self.resident:
                    chunk = torch.as_tensor(chunk, dtype=torch.float32).to(self.device)
                    x2 = None
                else:
                    # the rows' norms do not change between passes: once
                    if start not in self._x2:
                        self._x2[start] = _row_norms(torch, chunk)
                    x2 = self._x2[start]
                lab, s, c, i = _assign(torch, chunk, C, c2, x2)
                labels[start : start + rows] = lab.cpu().numpy()
                sums += s
                counts += c
                inertia += i
        return _finish(
            labels, sums.cpu().numpy(), counts.cpu().numpy(), inertia, centers
        )


class _StreamedBlocks:
    """One Lloyd pass over lazy row blocks, each block sent to the device."""

    def __init__(self, blocks, device):
        self.blocks, self.device = blocks, str(device)

    def __call__(self, centers):
        parts = self.blocks.map(
            _torch_lloyd_block,
            centers.astype(np.float32),
            self.device,
            description="k-means on torch",
        )
        labels = self.blocks.scatter([p[0] for p in parts], -2)
        sums = np.sum([p[1] for p in parts], axis=0)
        counts = np.sum([p[2] for p in parts], axis=0)
        inertia = float(sum(p[3] for p in parts))
        return _finish(labels, sums, counts, inertia, centers)


def _torch_lloyd_block(X, keep, centers, device):
    """A block's labels (-2 not kept), members' sums and counts, inertia."""
    torch = require_torch()
    k, d = centers.shape
    labels = np.full(X.shape[0], -2, dtype=np.int64)
    sums = np.zeros((k, d))
    counts = np.zeros(k)
    inertia = 0.0
    Xk = X if keep.all() else X[keep]
    if Xk.shape[0] == 0:
        return labels, sums, counts, inertia
    rows = _chunk_rows(d, k)
    lab_all = np.empty(Xk.shape[0], dtype=np.int64)
    with torch.no_grad():
        C = torch.as_tensor(centers, device=device)
        c2 = (C * C).sum(dim=1)
        for start in range(0, Xk.shape[0], rows):
            chunk = torch.as_tensor(
                np.ascontiguousarray(Xk[start : start + rows], dtype=np.float32)
            ).to(device)
            lab, s, c, i = _assign(torch, chunk, C, c2)
            lab_all[start : start + rows] = lab.cpu().numpy()
            sums += s.cpu().numpy()
            counts += c.cpu().numpy()
            inertia += i
    labels[keep] = lab_all
    return labels, sums, counts, inertia


def _finish(labels, sums, counts, inertia, centers):
    present = counts > 0
    means = np.full(centers.shape, np.nan)
    means[present] = sums[present] / counts[present, None]
    return labels, means, counts, inertia


def _free_bytes(torch, device):
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return None
