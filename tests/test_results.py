"""ClusterResult: storage with the signal, deepcopy and file round trips."""

import copy

import hyperspy.api as hs
import numpy as np
import pytest

import clusterspy
from clusterspy.results import ClusterResult

ARRAYS = (
    "labels",
    "distances",
    "centers",
    "counts",
    "signal_sum",
    "signal_mean",
    "signal_std",
    "signal_centroid",
    "centroid_index",
    "label_order",
)


def assert_results_equal(a, b):
    assert a.n_clusters == b.n_clusters
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.membership is None:
        assert b.membership is None
    else:
        np.testing.assert_array_equal(a.membership, b.membership)
    assert a.parameters == b.parameters
    assert a.versions == b.versions
    assert a.navigation_shape == b.navigation_shape
    assert a.centers_axes == b.centers_axes


@pytest.fixture
def analysed(small):
    s, _ = small
    mask = np.zeros(s.axes_manager.navigation_shape, dtype=bool)
    mask[0, :] = True
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="gaussian_mixture",
        n_clusters=3,
        covariance_type="diag",
        navigation_mask=mask,
        random_state=0,
    )
    return s


def test_deepcopy(analysed):
    d = copy.deepcopy(analysed)
    assert_results_equal(d.clusterspy.result, analysed.clusterspy.result)
    # the copy's results are independent
    d.learning_results.clusterspy["labels"][0] = 99
    assert analysed.clusterspy.result.labels[0] != 99


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
@pytest.mark.parametrize("lazy", [False, True])
def test_save_load_round_trip(analysed, tmp_path, ext, lazy):
    path = tmp_path / f"result.{ext}"
    analysed.save(path)
    loaded = hs.load(path, lazy=lazy)
    assert_results_equal(loaded.clusterspy.result, analysed.clusterspy.result)
    np.testing.assert_array_equal(
        loaded.clusterspy.get_cluster_membership().data,
        analysed.clusterspy.get_cluster_membership().data,
    )
    # the fitted pipeline survives too
    np.testing.assert_array_equal(
        loaded.clusterspy.predict(analysed).data[:, 1:],
        analysed.clusterspy.result.label_map[:, 1:],
    )


def test_repr_and_counts(analysed):
    r = analysed.clusterspy.result
    text = repr(r)
    assert text.startswith(
        "<ClusterResult: 3 clusters by gaussian_mixture on signal, sizes ["
    )
    assert text.endswith(", 15 masked>")
    assert r.masked_count == 15 and r.noise_count == 0
    assert isinstance(r, ClusterResult)


def test_unknown_format_version(analysed):
    stored = dict(analysed.learning_results.clusterspy)
    stored["format_version"] = 99
    with pytest.raises(
        ValueError, match="format version 99; this clusterspy reads version 1"
    ):
        ClusterResult.from_dict(stored)


def test_model_version_warning(analysed):
    r = analysed.clusterspy.result
    r.versions["scikit-learn"] = "0.0.1"
    with pytest.warns(UserWarning, match="fitted with scikit-learn 0.0.1"):
        _ = r.model


def test_result_does_not_hold_per_sample_model_state(small):
    s, _ = small
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    _, est = s.clusterspy.result.model
    assert not hasattr(est, "labels_")
    assert est.cluster_centers_.shape == (3, 64)


def test_get_cluster_result_function(small):
    s, _ = small
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    assert clusterspy.get_cluster_result(s).n_clusters == 3
