"""The compiled k-means loops against scikit-learn's KMeans, which they copy."""

import os
import threading
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

if os.environ.get("CLUSTERSPY_EXPECT_COMPILED", "1") == "0":
    # Only for a check of an install made without a compiler: there the loops
    # are absent by design. Everywhere else (CI) a missing module fails below.
    pytest.importorskip("clusterspy.engines._lloyd", reason="built without a compiler")

from clusterspy.engines import _lloyd, lloyd  # noqa: E402
from clusterspy.engines.lloyd import fit_kmeans, kmeans_params  # noqa: E402


def _uniform(n=2000, d=3, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, d))


def _blobs(n_per=500, d=3, centres=4, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    return (
        np.concatenate([rng.normal(3.0 * c, 0.5, (n_per, d)) for c in range(centres)])
        + offset
    )


def _assert_same_fit(X, k, **params):
    """fit_kmeans gives KMeans's labels, centres, inertia and iterations."""
    km = KMeans(k, **params).fit(X)
    labels, centres, inertia, n_iter = fit_kmeans(X, k, **params)
    np.testing.assert_array_equal(labels, km.labels_)
    np.testing.assert_allclose(centres, km.cluster_centers_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(inertia, km.inertia_, rtol=1e-9)
    assert n_iter == km.n_iter_


def test_extension_is_built():
    # CI installs from source: the compiled loops must be there, or every
    # estimate silently falls back to scikit-learn (setup.py carries on without
    # them when the build fails). CLUSTERSPY_EXPECT_COMPILED=0 skips this file.
    assert lloyd.AVAILABLE


@pytest.mark.parametrize("k", [1, 2, 3, 5, 10])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_as_kmeans_on_uniform_data(k, seed):
    # Uniform data converge slowly (tens of iterations): many bound checks.
    _assert_same_fit(_uniform(seed=seed), k, n_init=3, random_state=seed)


@pytest.mark.parametrize("k", [2, 4, 7])
def test_same_as_kmeans_on_blobs_far_from_the_origin(k):
    X = _blobs(seed=k, offset=1e4)
    _assert_same_fit(X, k, n_init=3, random_state=0)


@pytest.mark.parametrize("d", [1, 2, 5, 16, 32])
def test_same_as_kmeans_for_other_feature_counts(d):
    _assert_same_fit(_blobs(n_per=300, d=d, seed=d), 6, n_init=2, random_state=3)


def test_same_as_kmeans_when_stopped_early_and_with_zero_tol():
    X = _uniform(seed=4)
    # max_iter=2: not converged, so a final E-step matches labels to centres.
    _assert_same_fit(X, 8, n_init=1, max_iter=2, random_state=0)
    _assert_same_fit(X, 8, n_init=1, tol=0.0, random_state=0)
    _assert_same_fit(X, 8, n_init=1, tol=1e-2, random_state=0)


def test_same_as_kmeans_on_fortran_input_and_float32_clustered_in_float64():
    X = np.asfortranarray(_blobs(seed=5))
    _assert_same_fit(X, 4, n_init=2, random_state=1)
    X32 = _blobs(seed=6).astype(np.float32)
    km = KMeans(4, n_init=2, random_state=1).fit(X32.astype(np.float64))
    np.testing.assert_array_equal(fit_kmeans(X32, 4, 2, random_state=1)[0], km.labels_)


def test_same_as_kmeans_with_a_random_state_object():
    X = _uniform(seed=7)
    km = KMeans(5, n_init=2, random_state=np.random.RandomState(11)).fit(X)
    labels = fit_kmeans(X, 5, 2, random_state=np.random.RandomState(11))[0]
    np.testing.assert_array_equal(labels, km.labels_)


def test_empty_clusters_are_relocated_as_in_kmeans():
    # k-means++ never picks a centre twice on distinct points; draws of exactly
    # 0 do (the first row again), so every centre but one starts empty and is
    # moved to one of the rows farthest from their centre. KMeans started from
    # the same centres must find the same partition (up to the order in which
    # the farthest rows fill the empty clusters).
    X = _blobs(n_per=200, d=2, centres=5, seed=9)
    for k in (3, 5, 8):
        labels, _, inertia, _ = _lloyd.kmeans(
            X, k, np.array([0]), np.zeros((1, 4 * (k - 1))), 4, 300, 1e-4
        )
        km = KMeans(k, init=np.repeat(X[:1], k, axis=0), n_init=1).fit(X)
        assert adjusted_rand_score(labels, km.labels_) == 1.0
        np.testing.assert_allclose(inertia, km.inertia_, rtol=1e-9)
        assert np.unique(labels).size == k


def test_duplicate_points_as_in_kmeans():
    # Fewer distinct points than clusters: k-means++ runs out of points and
    # repeats one; the extra clusters stay empty, as in KMeans.
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), 10, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in (4, 6):
            for seed in range(4):
                # nothing to relocate (every row on its centre): the empty
                # clusters take the largest cluster's centre, as in KMeans
                km = KMeans(k, n_init=2, random_state=seed).fit(X)
                labels, centres, inertia, _ = fit_kmeans(X, k, 2, random_state=seed)
                np.testing.assert_array_equal(labels, km.labels_)
                np.testing.assert_allclose(
                    centres, km.cluster_centers_, rtol=1e-12, atol=1e-12
                )
                assert inertia == km.inertia_ == 0.0


def test_fewer_distinct_points_than_clusters_warns_as_kmeans():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), 10, axis=0)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(3\)"):
        labels = fit_kmeans(X, 4, random_state=0)[0]
    assert np.unique(labels).size == 3


def test_k_equal_to_n_samples():
    X = _uniform(n=12, d=2)
    labels, _, inertia, _ = fit_kmeans(X, 12, random_state=0)
    assert np.unique(labels).size == 12
    assert inertia == pytest.approx(0.0, abs=1e-24)


def test_threads_give_the_same_fits_as_one_thread():
    X = _uniform(n=5000, seed=8)
    expected = [fit_kmeans(X, k, 2, random_state=k)[0] for k in range(2, 10)]
    results = {}

    def run(k):
        results[k] = fit_kmeans(X, k, 2, random_state=k)[0]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2, 10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, labels in zip(range(2, 10), expected, strict=True):
        np.testing.assert_array_equal(results[k], labels)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_clusters": 0}, "`n_clusters` must be in [1, 10], not 0."),
        ({"n_clusters": 11}, "`n_clusters` must be in [1, 10], not 11."),
        ({"n_init": 0}, "`n_init` must be >= 1, not 0."),
        ({"max_iter": 0}, "`max_iter` must be >= 1, not 0."),
        ({"tol": -1.0}, "`tol` must be a number >= 0, not -1.0."),
    ],
)
def test_bad_parameters(kwargs, message):
    kwargs = {"n_clusters": 2, **kwargs}
    with pytest.raises(ValueError) as err:
        fit_kmeans(np.zeros((10, 2)), **kwargs)
    assert str(err.value) == message


def test_bad_data():
    with pytest.raises(ValueError, match="must be a non-empty 2-D array"):
        fit_kmeans(np.zeros(10), 2)
    X = np.zeros((10, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_kmeans(X, 2)


def test_kmeans_params_raises_scikit_learns_error_for_bad_parameters():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="copy_x"):
        kmeans_params(KMeans(3, copy_x="yes"), np.zeros((20, 3)))


def test_kmeans_params():
    X = np.zeros((20, 3))
    assert kmeans_params(KMeans(4, n_init=3, random_state=5), X) == {
        "n_clusters": 4,
        "n_init": 3,
        "max_iter": 300,
        "tol": 1e-4,
        "random_state": 5,
    }
    assert kmeans_params(KMeans(4), X)["n_init"] == 1  # "auto" with k-means++


class _MyKMeans(KMeans):
    pass


@pytest.mark.parametrize(
    ("estimator", "X"),
    [
        (KMeans(3, algorithm="elkan"), np.zeros((20, 3))),
        (KMeans(3, init="random"), np.zeros((20, 3))),
        (KMeans(3, init=np.zeros((3, 3))), np.zeros((20, 3))),
        (KMeans(3, max_iter=0), np.zeros((20, 3))),
        (KMeans(3, verbose=1), np.zeros((20, 3))),
        (_MyKMeans(3), np.zeros((20, 3))),
        (MiniBatchKMeans(3), np.zeros((20, 3))),
        (KMeans(3), np.zeros((20, lloyd.MAX_FEATURES + 1))),
        (KMeans(30), np.zeros((20, 3))),
        (KMeans(3), np.zeros((20, 3), dtype=np.int64)),
        # scikit-learn clusters float32 in float32, these loops in float64
        (KMeans(3), np.zeros((20, 3), dtype=np.float32)),
    ],
)
def test_kmeans_params_leaves_other_cases_to_scikit_learn(estimator, X):
    assert kmeans_params(estimator, X) is None
