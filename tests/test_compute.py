"""Numerical kernels: grouped moments and distances against NumPy."""

import dask.array as da
import numpy as np
import pytest

from clusterspy import _compute


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

    from clusterspy.analysis import _lean_kmeans_tolerance, _lean_tolerance

    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 6)) * [1, 2, 3, 4, 5, 6] + 100
    original = _kmeans._tolerance
    expected = original(X, 1e-4)
    with _lean_kmeans_tolerance():
        assert _kmeans._tolerance is _lean_tolerance
        assert _kmeans._tolerance(X, 1e-4) == pytest.approx(expected, rel=1e-10)
        assert _kmeans._tolerance(X, 0) == 0
    assert _kmeans._tolerance is original
