"""K-means for data that do not fit in memory: seeded k-means++ and exact Lloyd passes."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import check_random_state

from .._compute import block_moments
from ._tolerance import lean_kmeans_tolerance
from .rowblocks import RowBlocks, lloyd_kmeans

__all__ = [
    "BlockwiseKMeans",
    "default_sample_size",
    "initial_centers",
    "sample_rows_for",
]

# k-means++ only has to start Lloyd in the right basin (every row is in the
# Lloyd passes): 32 MiB of float64 rows (4096 rows of 1024 features) seed
# as well as 128 MiB did on the benchmark maps, for a quarter of the time
# (on 256 x 256 x 1024 the seeding was a third of the whole call).
_SAMPLE_BYTES = 32 * 2**20
FIT_SAMPLE_BYTES = 128 * 2**20


def default_sample_size(n_features, n_clusters=1, sample_bytes=_SAMPLE_BYTES):
    """Rows of an in-memory sample: about ``sample_bytes`` of float64.

    At least 1000 rows and 50 per cluster (k-means++ and the comparison of
    starts need a few per cluster), at most 100 000. The k-means++ sample
    takes 32 MiB; algorithms fitted on a sample of a lazy signal take
    ``FIT_SAMPLE_BYTES`` (128 MiB): the fit is the model, not its start.

    Examples
    --------
    >>> from clusterspy.engines.kmeans import default_sample_size
    >>> default_sample_size(2048), default_sample_size(3)
    (2048, 100000)
    """
    size = sample_bytes // (8 * max(1, n_features))
    return int(min(100_000, max(size, 1000, 50 * n_clusters)))


def sample_rows_for(n_kept, n_features, n_clusters, size, random_state):
    """Which of ``n_kept`` rows seed k-means: sorted positions, or None for all.

    ``size`` rows (None: :func:`default_sample_size`) drawn without
    replacement, with a seed taken from ``random_state`` (a RandomState,
    advanced by one draw) only when there are more rows than that. Both
    engines draw their sample here, so that they seed k-means on the same rows.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.kmeans import sample_rows_for
    >>> sample_rows_for(10, 3, 2, None, np.random.RandomState(0)) is None
    True
    >>> sample_rows_for(10, 3, 2, 4, np.random.RandomState(0)).size
    4
    """
    if size is None:
        size = default_sample_size(n_features, n_clusters)
    if n_kept <= size:
        return None
    seed = random_state.randint(2**31)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_kept, size=size, replace=False))


def initial_centers(sample, n_clusters, init, n_init, max_iter, tol, random_state):
    """Initial centres from a sample, and scikit-learn's tolerance from it.

    k-means++ (scikit-learn's :func:`~sklearn.cluster.kmeans_plusplus`) or
    random rows of the sample, or the given array; with ``n_init > 1`` every
    start is refined by k-means on the sample and the one with the lowest
    inertia there is returned. The tolerance is ``tol`` times the sample's
    mean feature variance.

    Returns
    -------
    centers : numpy.ndarray of float64, shape (n_clusters, n_features)
    tol : float
        The absolute tolerance on the centres' squared shift.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines.kmeans import initial_centers
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2))]
    >>> c, tol = initial_centers(X, 2, "k-means++", "auto", 300, 1e-4,
    ...                          np.random.RandomState(0))
    >>> c.shape, round(tol, 6)
    ((2, 2), 2.5e-05)
    """
    from sklearn.cluster import KMeans, kmeans_plusplus

    rs = random_state
    # scikit-learn's tolerance, from the sample's feature variances
    _, _, m2 = block_moments(sample, np.zeros(sample.shape[0], dtype=np.int64), 1)
    tol = tol * float(np.mean(m2[0] / sample.shape[0]))
    if n_init == "auto":
        n_init = 1 if isinstance(init, str) and init == "k-means++" else 10
    if not isinstance(init, str):
        n_init = 1
    best = None
    # scikit-learn's k-means++ on float32 computes its distances in float64
    # by small upcast batches, slower than on a float64 copy of the sample
    # (16 384 x 1024 rows, one BLAS thread: 0.14 s against 0.12 s), which
    # the sample size already budgets for. The centres are rows of the sample
    # either way (both engines seed here, so they still agree).
    plusplus = isinstance(init, str) and init == "k-means++"
    plusplus_sample = (
        np.asarray(sample, dtype=np.float64)
        if plusplus and sample.dtype == np.float32
        else sample
    )
    for _ in range(n_init):
        if isinstance(init, str) and init == "k-means++":
            centers, _ = kmeans_plusplus(plusplus_sample, n_clusters, random_state=rs)
        elif isinstance(init, str) and init == "random":
            centers = sample[rs.choice(sample.shape[0], n_clusters, replace=False)]
        else:
            centers = np.asarray(init)
        if n_init > 1:
            # Compare the starts in memory on the sample: running each over
            # the data would cost n_init times the reading.
            with lean_kmeans_tolerance():
                refined = KMeans(
                    n_clusters,
                    init=centers,
                    n_init=1,
                    max_iter=max_iter,
                    tol=tol,
                ).fit(sample)
            if best is None or refined.inertia_ < best.inertia_:
                best = refined
    if best is not None:
        centers = best.cluster_centers_
    return np.asarray(centers, dtype=np.float64), tol


class BlockwiseKMeans(ClusterMixin, BaseEstimator):
    """K-means whose every iteration is one pass over row blocks of the data.

    The initial centres come from k-means++ (scikit-learn's
    :func:`~sklearn.cluster.kmeans_plusplus`) on a seeded sample of
    ``init_sample_size`` rows, or on every row when there are fewer; then exact
    Lloyd iterations run over the whole data, each one blockwise reduction of
    per-cluster sums and counts. With all rows in the sample, the
    initialisation is the one :class:`~sklearn.cluster.KMeans` makes for the
    same ``random_state``, so both converge to the same partition.

    Parameters
    ----------
    n_clusters : int
    init : {"k-means++", "random"} or ndarray of shape (n_clusters, n_features)
    n_init : int or "auto"
        Initialisations to compare; "auto" is 1 for k-means++ and 10 for
        random, as in scikit-learn. They are compared on the sample, not on
        the whole data: each one is refined by k-means on the sample, and
        only the one with the lowest inertia there runs over the data. With
        one initialisation, the sample is not fitted first.
    max_iter : int
        Maximum Lloyd passes per initialisation.
    tol : float
        Relative tolerance on the centres' shift, scaled by the mean feature
        variance of the initialisation sample (scikit-learn scales by the
        variance of the whole data).
    random_state : int, RandomState or None
    init_sample_size : int or None
        Rows drawn for the initialisation; None: as many as take about
        32 MiB in float64 (:func:`default_sample_size`), so that the sample
        stays small next to the data whatever the number of features.
    show_progressbar : bool or None
        dask's progress bar for each pass.

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_iter_
        As in :class:`~sklearn.cluster.KMeans`; ``labels_`` is -2 for rows
        that were not used.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.engines import BlockwiseKMeans
    >>> X = np.r_[np.zeros((5, 2)), np.ones((3, 2))]
    >>> BlockwiseKMeans(n_clusters=2, random_state=0).fit(X).labels_.tolist()
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
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.init_sample_size = init_sample_size
        self.show_progressbar = show_progressbar

    @classmethod
    def from_kmeans(cls, kmeans, **kwargs):
        """The blockwise counterpart of a configured scikit-learn ``KMeans``."""
        params = kmeans.get_params()
        return cls(
            n_clusters=params["n_clusters"],
            init=params["init"],
            n_init=params["n_init"],
            max_iter=params["max_iter"],
            tol=params["tol"],
            random_state=params["random_state"],
            **kwargs,
        )

    def fit(self, X, y=None):
        """Fit on a NumPy array, a dask array or :class:`RowBlocks`."""
        blocks = (
            X
            if isinstance(X, RowBlocks)
            else RowBlocks(
                X, np.ones(X.shape[0], dtype=bool), None, self.show_progressbar
            )
        )
        rs = check_random_state(self.random_state)
        n_kept = int(blocks.keep.sum())
        sample_rows = sample_rows_for(
            n_kept, blocks.n_features, self.n_clusters, self.init_sample_size, rs
        )
        if sample_rows is None:
            sample, _ = blocks.sample(n_kept, None)
        else:
            sample = blocks.take(np.flatnonzero(blocks.keep)[sample_rows])
        centers, tol = initial_centers(
            sample,
            self.n_clusters,
            self.init,
            self.n_init,
            self.max_iter,
            self.tol,
            rs,
        )
        run = self._lloyd(blocks, np.asarray(centers, dtype=np.float64), tol)
        centers, labels, means, counts, inertia, n_iter = run
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.member_means_ = means
        self.member_counts_ = counts
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = centers.shape[1]
        return self

    def _lloyd(self, blocks, centers, tol):
        # the Lloyd passes; the torch engine runs them on its device
        return lloyd_kmeans(blocks, centers, self.max_iter, tol)

    def predict(self, X):
        """Index of the nearest centre for each row of ``X`` (NumPy)."""
        X = np.asarray(X)
        c = self.cluster_centers_
        d2 = np.einsum("ij,ij->i", c, c)[None, :] - 2.0 * (X @ c.T)
        return np.argmin(d2, axis=1)
