"""Shared fixtures.

OpenMP threads spin while waiting on this kind of machine, which makes
scikit-learn's k-means many times slower; tests run with a passive policy.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import copy  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import clusterspy  # noqa: E402, F401


@pytest.fixture(scope="session")
def phases_64():
    """The 64x64x512, 3-phase generated spectrum image of the foundation issue."""
    return clusterspy.datasets.spectrum_image(
        shape=(64, 64), n_channels=512, n_phases=3, return_truth=True, random_state=0
    )


@pytest.fixture
def small():
    """A small 3-phase spectrum image (x=20, y=15) and its truth; fresh per test."""
    return clusterspy.datasets.spectrum_image(
        shape=(20, 15), n_channels=64, n_phases=3, return_truth=True, random_state=3
    )


def snapshot(signal):
    """Everything a call could modify on a signal, deep-copied for comparison."""
    data = signal.data
    if not isinstance(data, np.ndarray):
        data = np.asarray(data.compute())
    return {
        "data": np.array(data, copy=True),
        "dtype": signal.data.dtype,
        "shape": signal.data.shape,
        "axes": signal.axes_manager._get_axes_dicts(),
        "metadata": copy.deepcopy(signal.metadata.as_dictionary()),
        "learning_results": sorted(signal.learning_results.__dict__),
        "class": type(signal),
    }


def assert_unchanged(signal, before):
    after = snapshot(signal)
    np.testing.assert_array_equal(after["data"], before["data"])
    assert after["dtype"] == before["dtype"]
    assert after["shape"] == before["shape"]
    assert after["axes"] == before["axes"]
    assert after["metadata"] == before["metadata"]
    assert after["learning_results"] == before["learning_results"]
    assert after["class"] is before["class"]
