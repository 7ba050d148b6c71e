"""Numerical kernels: grouped moments and distances against NumPy."""

import os

import dask.array as da
import numpy as np
import pytest

from clusterspy import _compute

# The compiled kernels must have been built (CI fails if they silently were
# not); only a check of an install made without a compiler sets
# CLUSTERSPY_EXPECT_COMPILED=0 to skip the tests that need them.
compiled_only = pytest.mark.skipif(
    os.environ.get("CLUSTERSPY_EXPECT_COMPILED", "1") == "0"
    and _compute._shifted_sums is None,
    reason="built without a compiler (CLUSTERSPY_EXPECT_COMPILED=0)",
)


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_grouped_moments_match_numpy_even_with_a_large_offset(offset):
    rng = np.random.default_rng(0)
    X = offset + rng.standard_normal((5000, 7))
    labels = rng.integers(-2, 4, 5000)  # negative labels are skipped
    count, mean, m2 = _compute.grouped_moments(X, labels, 5, rows=333)
    for j in range(5):
        members = X[labels == j]
        assert count[j] == len(members)
        if len(members):
            np.testing.assert_allclose(mean[j], members.mean(0), rtol=1e-13)
            # the variance is 1 on top of the offset: no cancellation
            np.testing.assert_allclose(
                m2[j], ((members - members.mean(0)) ** 2).sum(0), rtol=1e-9
            )
    assert count[4] == 0 and np.isnan(mean[4]).all() and np.isnan(m2[4]).all()


@compiled_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_moments_compiled_and_numpy_paths_agree(dtype, monkeypatch):
    from clusterspy import _moments

    assert _compute._shifted_sums is not None  # the extension was built
    rng = np.random.default_rng(6)
    X = (100 + 10 * rng.standard_normal((3000, 40))).astype(dtype)
    labels = rng.integers(-1, 6, 3000)
    compiled = _compute.grouped_moments(X, labels, 7, rows=500)
    monkeypatch.setattr(_compute, "_shifted_sums", None)
    numpy_only = _compute.grouped_moments(X, labels, 7, rows=500)
    for a, b in zip(compiled, numpy_only, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
    # and the kernel's own checks
    s1 = np.zeros((2, 40))
    with pytest.raises(ValueError, match="label 5 is not below n_clusters = 2"):
        _moments.shifted_sums(
            X[:3].astype(np.float64),
            np.array([0, 5, 1]),
            X[0].astype(float),
            s1,
            s1,
            True,
        )


def test_grouped_moments_of_dask_equal_numpy():
    rng = np.random.default_rng(1)
    X = rng.poisson(4, (1000, 3, 5)).astype(np.float32)
    labels = rng.integers(0, 3, 1000)
    a = _compute.grouped_moments(X, labels, 3)
    b = _compute.grouped_moments(da.from_array(X, chunks=(77, 3, 5)), labels, 3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_pairwise_distances_and_finite_rows():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 4)).astype(np.float32)
    C = rng.standard_normal((3, 4))
    expected = np.linalg.norm(X[:, None, :].astype(float) - C[None], axis=2)
    np.testing.assert_allclose(
        _compute.pairwise_distances_to(X, C, rows=64), expected, rtol=1e-6, atol=1e-6
    )
    X[5, 2] = np.inf
    X[7, 0] = np.nan
    finite = _compute.rows_all_finite(X, rows=4)
    assert np.flatnonzero(~finite).tolist() == [5, 7]


def test_lean_kmeans_tolerance_equals_sklearn_and_is_restored():
    from sklearn.cluster import _kmeans

    from clusterspy.engines._tolerance import (
        lean_kmeans_tolerance as _lean_kmeans_tolerance,
    )
    from clusterspy.engines._tolerance import lean_tolerance as _lean_tolerance

    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 6)) * [1, 2, 3, 4, 5, 6] + 100
    original = _kmeans._tolerance
    expected = original(X, 1e-4)
    with _lean_kmeans_tolerance():
        assert _kmeans._tolerance is _lean_tolerance
        assert _kmeans._tolerance(X, 1e-4) == pytest.approx(expected, rel=1e-10)
        assert _kmeans._tolerance(X, 0) == 0
    assert _kmeans._tolerance is original


def test_mean_silhouettes_equal_sklearn_for_many_labelings_at_once():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(c, 1.0, (150, 3)) for c in (0, 4, 9)])
    labelings = [rng.integers(0, k, X.shape[0]) for k in (2, 5, 9)]
    labelings.append(np.repeat([0, 1, 2], 150))
    single = np.zeros(X.shape[0], dtype=int)
    single[7] = 1  # a one-sample cluster: its member scores 0
    labelings.append(single)
    sparse_values = np.repeat([10, 400, 7], 150)  # labels need not be 0..k-1
    labelings.append(sparse_values)
    expected = [silhouette_score(X, lab) for lab in labelings]
    # blocks of a few rows (working memory ~0.01 MiB) give the same values
    for working_memory in (64, 0.01):
        got = _compute.mean_silhouettes(X, labelings, working_memory)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@compiled_only
def test_compiled_distance_rows_are_built_and_match_numpy():
    from clusterspy import _pairwise

    assert _compute._distance_rows is not None  # the extension was built
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 4)) + 50.0
    Xt = np.ascontiguousarray(X.T)
    squared = np.einsum("ij,ij->i", X, X)
    out = np.empty((40, 300))
    _pairwise.distance_rows(Xt, squared, 100, out)
    exact = np.sqrt(((X[100:140, None, :] - X[None, :, :]) ** 2).sum(-1))
    # |x|^2 + |y|^2 - 2 x.y loses digits against 50^2: as scikit-learn's does
    np.testing.assert_allclose(out, exact, rtol=1e-6, atol=1e-5)
    assert (out[np.arange(40), np.arange(100, 140)] == 0).all()
    with pytest.raises(ValueError, match="within the samples"):
        _pairwise.distance_rows(Xt, squared, 280, out)
    with pytest.raises(ValueError, match="one value per sample"):
        _pairwise.distance_rows(Xt, squared[:-1], 0, out)
    with pytest.raises(ValueError, match="at least one feature"):
        _pairwise.distance_rows(np.empty((0, 300)), squared, 0, out)


@pytest.mark.parametrize("n_features", [3, 12])  # compiled rows, BLAS blocks
def test_mean_silhouettes_same_in_threads_and_without_the_extension(
    n_features, monkeypatch
):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(700, n_features))
    labelings = [rng.integers(0, k, 700) for k in (2, 4, 7)]
    one = _compute.mean_silhouettes(X, labelings, 0.5, n_jobs=1)
    two = _compute.mean_silhouettes(X, labelings, 0.5, n_jobs=2)
    # BLAS may sum in another order with one thread than with two
    np.testing.assert_allclose(two, one, rtol=1e-13)
    monkeypatch.setattr(_compute, "_distance_rows", None)
    numpy_only = _compute.mean_silhouettes(X, labelings, 0.5, n_jobs=2)
    np.testing.assert_allclose(numpy_only, one, rtol=1e-12)


def test_mean_silhouettes_leave_noise_out_and_mark_undefined_as_nan():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    labels = rng.integers(-1, 3, 60)  # -1: noise
    valid = labels >= 0
    got = _compute.mean_silhouettes(
        X, [labels, np.zeros(60, int), np.arange(60), np.full(60, -1)]
    )
    assert got[0] == pytest.approx(silhouette_score(X[valid], labels[valid]), 1e-12)
    # one cluster, as many clusters as samples, nothing but noise: undefined
    assert np.isnan(got[1:]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_all_finite_equals_isfinite(dtype):
    # The BLAS row sums decide most rows; NaN, +-inf, +inf with -inf, and
    # finite rows whose sum overflows must still be told right.
    from clusterspy._compute import rows_all_finite

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 37)).astype(dtype)
    big = np.finfo(dtype).max
    X[3, 5] = np.nan
    X[7, 0] = np.inf
    X[8, 36] = -np.inf
    X[9, 1], X[9, 2] = np.inf, -np.inf
    X[10] = big  # finite; the sum overflows
    X[11, :2] = big, -big
    np.testing.assert_array_equal(rows_all_finite(X), np.isfinite(X).all(axis=1))
    np.testing.assert_array_equal(rows_all_finite(X, rows=64),
                                  np.isfinite(X).all(axis=1))
    assert rows_all_finite(np.arange(12).reshape(4, 3)).all()
