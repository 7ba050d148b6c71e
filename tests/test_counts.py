"""Counting data: detection, counts per position, low-count masks."""

import warnings

import numpy as np
import pytest

from clusterspy.counts import (
    check_min_counts,
    count_summary,
    counts_per_position,
    is_count_data,
    low_count_mask,
    warn_low_counts,
)
from clusterspy.datasets import spectrum_image
from clusterspy.exceptions import DoubtfulEstimateWarning


def _sparse_map(seed=0):
    """A 20 x 20 map whose positions are 90 % empty."""
    s = spectrum_image((20, 20), n_channels=64, counts=30, random_state=seed)
    rng = np.random.default_rng(seed)
    empty = rng.permutation(400)[:360].reshape(-1)
    data = s.data.reshape(400, 64)
    data[empty] = 0
    return s, empty


def test_is_count_data():
    s = spectrum_image((8, 8), n_channels=32, random_state=0)
    assert is_count_data(s)
    assert is_count_data(s.as_lazy())
    assert not is_count_data(s.data + 0.5)
    assert not is_count_data(-s.data - 1)
    assert is_count_data(np.arange(6, dtype=np.uint16).reshape(2, 3))


def test_counts_per_position_eager_lazy_and_numpy():
    s = spectrum_image((7, 5), n_channels=32, random_state=1)
    expected = s.data.sum(axis=-1, dtype=np.float64)
    np.testing.assert_array_equal(counts_per_position(s), expected)
    np.testing.assert_array_equal(counts_per_position(s.as_lazy()), expected)
    mask = np.zeros(32, bool)
    mask[:10] = True
    np.testing.assert_array_equal(
        counts_per_position(s, signal_mask=mask), s.data[..., 10:].sum(-1)
    )
    # The signal is not modified.
    assert s.data.sum() == expected.sum()


def test_low_count_mask_and_summary_on_sparse_map():
    s, empty = _sparse_map()
    mask = low_count_mask(s, 1)
    assert mask.shape == (20, 20)
    assert mask.sum() == 360
    np.testing.assert_array_equal(np.flatnonzero(mask.ravel()), np.sort(empty))
    summary = count_summary(s)
    assert summary.empty_share == pytest.approx(0.9)
    assert summary.n_low == 360
    assert summary.median_counts == 0
    assert summary.suggest_binning
    assert summary.binning_factor >= 2
    with pytest.warns(DoubtfulEstimateWarning, match=r"360 of 400 positions \(90.0 %\)") as caught:
        assert warn_low_counts(summary, masked=True)
    # The share is said once (the CLI prints the summary beside the warning).
    text = str(caught[0].message)
    assert text.count("90.0 %") == 1 and text.count("consider binning") == 1
    assert "Median counts per position: 0." in text
    assert "binning" in summary.message()


def test_low_count_threshold():
    data = np.array([[0, 0], [2, 1], [0, 1], [5, 5]])
    np.testing.assert_array_equal(low_count_mask(data, 3), [True, False, True, False])
    np.testing.assert_array_equal(low_count_mask(data, 0), [False] * 4)
    summary = count_summary(data, min_counts=3)
    assert summary.n_low == 2 and summary.low_share == 0.5


def test_dense_map_does_not_warn():
    s = spectrum_image((10, 10), n_channels=32, counts=100, random_state=0)
    summary = count_summary(s)
    assert not summary.suggest_binning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_low_counts(summary)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, float("nan")])
def test_min_counts_validation(bad):
    with pytest.raises(ValueError, match="`min_counts` must be None or a non-negative"):
        check_min_counts(bad)
    with pytest.raises(ValueError, match="`min_counts`"):
        low_count_mask(np.ones((2, 2)), bad)


def test_min_counts_accepts_whole_numbers():
    assert check_min_counts(None) is None
    assert check_min_counts(0) == 0
    assert check_min_counts(np.int64(4)) == 4
    assert check_min_counts(3.0) == 3
