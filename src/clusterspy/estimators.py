"""Clustering estimators that scikit-learn does not have, with its API.

* :class:`SphericalKMeans`: k-means on the unit sphere, clustering by the
  cosine similarity of samples (spectral *shape*, whatever the intensity).
* :class:`FuzzyCMeans`: Bezdek's fuzzy c-means, soft memberships for every
  sample (``predict_proba``).

Both are plain NumPy, O(n_samples * n_clusters * n_features) per iteration,
and usable anywhere scikit-learn estimators are.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = ["SphericalKMeans", "FuzzyCMeans"]


def _unit_rows(X):
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def _check_common(n_clusters, max_iter, tol, n_samples):
    from .validation import check_int

    check_int(n_clusters, "n_clusters", minimum=1, maximum=n_samples)
    check_int(max_iter, "max_iter", minimum=1)
    if not tol >= 0:
        raise ValueError(f"`tol` must be >= 0, not {tol!r}.")


class SphericalKMeans(ClusterMixin, BaseEstimator):
    """K-means with cosine similarity: samples and centres on the unit sphere.

    Each sample is scaled to unit length; a sample joins the centre with the
    largest cosine similarity, and each centre is the normalised sum of its
    members (Dhillon and Modha, 2001). Two spectra that differ only by a
    factor (thickness, beam current) are identical to it.

    Parameters
    ----------
    n_clusters : int
    n_init : int
        Runs from different k-means++ initialisations (on the sphere); the
        one with the highest total similarity is kept.
    max_iter : int
    tol : float
        Stop when no centre moves by more than ``tol`` (Euclidean).
    random_state : int, RandomState or None

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), unit rows
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum over samples of ``1 - cos(sample, its centre)``.
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.estimators import SphericalKMeans
    >>> X = np.array([[1.0, 0.1], [5.0, 0.4], [0.1, 1.0], [0.3, 4.0]])
    >>> SphericalKMeans(n_clusters=2, random_state=0).fit(X).labels_.tolist()
    [1, 1, 0, 0]
    """

    def __init__(
        self, n_clusters=8, *, n_init=3, max_iter=300, tol=1e-6, random_state=None
    ):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.cluster import kmeans_plusplus

        U = _unit_rows(X)
        _check_common(self.n_clusters, self.max_iter, self.tol, U.shape[0])
        rs = check_random_state(self.random_state)
        best = None
        for _ in range(self.n_init):
            centers, _ = kmeans_plusplus(U, self.n_clusters, random_state=rs)
            centers = _unit_rows(centers)
            for n_iter in range(1, self.max_iter + 1):  # noqa: B007 (kept after)
                similarity = U @ centers.T
                labels = np.argmax(similarity, axis=1)
                sums = np.zeros_like(centers)
                np.add.at(sums, labels, U)
                empty = ~np.any(sums, axis=1)
                # an empty cluster restarts at the sample least like its centre
                if empty.any():
                    worst = np.argsort(similarity[np.arange(U.shape[0]), labels])
                    sums[empty] = U[worst[: int(empty.sum())]]
                new = _unit_rows(sums)
                shift = np.linalg.norm(new - centers, axis=1).max()
                centers = new
                if shift <= self.tol:
                    break
            similarity = U @ centers.T
            labels = np.argmax(similarity, axis=1)
            inertia = float((1.0 - similarity[np.arange(U.shape[0]), labels]).sum())
            if best is None or inertia < best[2]:
                best = (centers, labels, inertia, n_iter)
        self.cluster_centers_, self.labels_, self.inertia_, self.n_iter_ = best
        self.n_features_in_ = U.shape[1]
        return self

    def predict(self, X):
        """Index of the most similar centre (cosine)."""
        check_is_fitted(self, "cluster_centers_")
        return np.argmax(_unit_rows(X) @ self.cluster_centers_.T, axis=1)


class FuzzyCMeans(ClusterMixin, BaseEstimator):
    """Fuzzy c-means (Bezdek, 1981): every sample belongs to every cluster.

    Memberships ``u_ij`` minimise ``sum_ij u_ij**m * ||x_i - c_j||**2`` with
    ``sum_j u_ij = 1``; ``m > 1`` sets the fuzziness (``m -> 1`` approaches
    k-means, large ``m`` makes memberships uniform). Hard labels are the
    largest membership.

    Parameters
    ----------
    n_clusters : int
    m : float
        Fuzzifier, > 1 (2 is the usual choice).
    max_iter : int
    tol : float
        Stop when memberships change by at most ``tol`` (max absolute).
    random_state : int, RandomState or None
        Seeds the k-means++ initialisation of the centres.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    membership_ : ndarray of shape (n_samples, n_clusters)
    labels_ : ndarray of shape (n_samples,)
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.estimators import FuzzyCMeans
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1], [0.55]])
    >>> fcm = FuzzyCMeans(n_clusters=2, random_state=0).fit(X)
    >>> fcm.predict_proba(X).round(2)[-1].tolist()  # midway: shared equally
    [0.5, 0.5]
    """

    def __init__(
        self, n_clusters=8, *, m=2.0, max_iter=300, tol=1e-5, random_state=None
    ):
        self.n_clusters = n_clusters
        self.m = m
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _memberships(self, X, centers):
        d2 = (
            np.einsum("ij,ij->i", X, X)[:, None]
            - 2.0 * X @ centers.T
            + np.einsum("ij,ij->i", centers, centers)[None, :]
        )
        d2 = np.maximum(d2, 0.0)
        # u_ij = 1 / sum_l (d_ij / d_il) ** (2 / (m - 1)), written with squared
        # distances; a sample on a centre belongs to it alone.
        zero = d2 <= 1e-300
        with np.errstate(divide="ignore"):
            inv = np.where(zero, 0.0, d2 ** (-1.0 / (self.m - 1.0)))
        u = inv / inv.sum(axis=1, keepdims=True)
        hit = zero.any(axis=1)
        if hit.any():
            u[hit] = zero[hit] / zero[hit].sum(axis=1, keepdims=True)
        return u

    def fit(self, X, y=None):
        from sklearn.cluster import kmeans_plusplus

        X = np.asarray(X, dtype=np.float64)
        _check_common(self.n_clusters, self.max_iter, self.tol, X.shape[0])
        if not self.m > 1:
            raise ValueError(f"`m` must be > 1, not {self.m!r}.")
        rs = check_random_state(self.random_state)
        centers, _ = kmeans_plusplus(X, self.n_clusters, random_state=rs)
        u = self._memberships(X, centers)
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 (kept after)
            w = u**self.m
            centers = (w.T @ X) / w.sum(axis=0)[:, None]
            new = self._memberships(X, centers)
            change = np.abs(new - u).max()
            u = new
            if change <= self.tol:
                break
        self.cluster_centers_ = centers
        self.membership_ = u
        self.labels_ = np.argmax(u, axis=1)
        self.n_iter_ = n_iter
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        """Memberships of new samples to the fitted centres (rows sum to 1)."""
        check_is_fitted(self, "cluster_centers_")
        return self._memberships(np.asarray(X, dtype=np.float64), self.cluster_centers_)

    def predict(self, X):
        """Cluster of largest membership."""
        return np.argmax(self.predict_proba(X), axis=1)
