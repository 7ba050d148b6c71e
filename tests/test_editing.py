"""Editing a stored result: merge, split, members."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy import MASKED


def groupby(s, labels, k):
    """Cluster sums, means and population stds by a plain NumPy group-by."""
    X = s.data.reshape(labels.size, -1).astype(float)
    sums = np.stack([X[labels == j].sum(axis=0) for j in range(k)])
    means = np.stack([X[labels == j].mean(axis=0) for j in range(k)])
    stds = np.stack([X[labels == j].std(axis=0) for j in range(k)])
    return sums, means, stds


def check_consistent(s):
    r = s.clusterspy.result
    k = r.n_clusters
    assert r.counts.tolist() == sorted(r.counts.tolist(), reverse=True)
    np.testing.assert_array_equal(
        r.counts, np.bincount(r.labels[r.labels >= 0], minlength=k)
    )
    sums, means, stds = groupby(s, r.labels, k)
    np.testing.assert_allclose(r.signal_sum, sums, rtol=1e-9)
    np.testing.assert_allclose(r.signal_mean, means, rtol=1e-9)
    np.testing.assert_allclose(r.signal_std, stds, rtol=1e-7, atol=1e-9)
    X = s.data.reshape(r.labels.size, -1).astype(float)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)  # preprocessing="norm"
    ok = r.labels != MASKED
    for j in range(k):
        np.testing.assert_allclose(
            r.centers[j], Xn[r.labels == j].mean(axis=0), atol=1e-10
        )
        d = np.linalg.norm(Xn - r.centers[j], axis=1)
        np.testing.assert_allclose(r.distances[ok, j], d[ok], atol=1e-7)
        members = np.flatnonzero(r.labels == j)
        assert r.centroid_index[j] == members[np.argmin(d[members])]
    assert np.isnan(r.distances[~ok]).all()
    return r


@pytest.fixture
def analysed():
    s, truth = clusterspy.datasets.spectrum_image(
        shape=(20, 15), n_channels=64, n_phases=3, return_truth=True, random_state=3
    )
    mask = np.zeros((20, 15), dtype=bool)
    mask[:2, :2] = True
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        n_clusters=4,
        navigation_mask=mask,
        random_state=0,
    )
    return s, truth


def test_merge_keeps_result_consistent(analysed):
    s, truth = analysed
    before = s.clusterspy.result
    n = before.counts.sum()
    s.clusterspy.merge_clusters([2, 3])
    r = check_consistent(s)
    assert r.n_clusters == 3 and r.counts.sum() == n
    expected = np.where(np.isin(before.labels, [2, 3]), 2, before.labels)
    assert adjusted_rand_score(expected, r.labels) == 1.0
    assert r.parameters["edits"][-1]["operation"] == "merge_clusters"
    assert r.parameters["edits"][-1]["cluster_ids"] == [2, 3]
    # predict after an edit: the nearest new centre (documented)
    predicted = r.predict(s).data.reshape(-1)
    ok = r.labels >= 0
    np.testing.assert_array_equal(predicted[ok], np.argmin(r.distances[ok], axis=1))


def test_split_keeps_result_consistent(analysed):
    s, truth = analysed
    original = s.clusterspy.result
    s.clusterspy.merge_clusters([0, 1])
    merged = s.clusterspy.result
    s.clusterspy.split_cluster(0, 2, random_state=0)
    r = check_consistent(s)
    assert r.n_clusters == 4 and r.counts.sum() == merged.counts.sum()
    # k-means in the same feature space finds the two merged clusters again
    assert adjusted_rand_score(original.labels, r.labels) > 0.95
    assert [e["operation"] for e in r.parameters["edits"]] == [
        "merge_clusters",
        "split_cluster",
    ]
    # seeded: the same split of the same result gives the same labels
    t = s.deepcopy()
    t.learning_results.clusterspy = merged.to_dict()
    t.clusterspy.split_cluster(0, 2, random_state=0)
    np.testing.assert_array_equal(t.clusterspy.result.labels, r.labels)


def test_edits_survive_save_load(analysed, tmp_path):
    import hyperspy.api as hs

    s, _ = analysed
    s.clusterspy.merge_clusters([1, 3])
    s.save(tmp_path / "edited.hspy")
    loaded = hs.load(tmp_path / "edited.hspy")
    a, b = s.clusterspy.result, loaded.clusterspy.result
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.signal_mean, b.signal_mean)
    assert b.parameters["edits"] == a.parameters["edits"]


def test_bad_input_leaves_result_untouched(analysed):
    s, _ = analysed
    stored = s.learning_results.clusterspy
    labels = stored["labels"].copy()
    with pytest.raises(ValueError, match="cannot merge a cluster with itself"):
        s.clusterspy.merge_clusters([1, 1])
    with pytest.raises(ValueError, match="two or more"):
        s.clusterspy.merge_clusters([1])
    with pytest.raises(ValueError, match=r"cluster id in \[0, 3\]; got 7"):
        s.clusterspy.merge_clusters([0, 7])
    with pytest.raises(TypeError, match="list of two or more"):
        s.clusterspy.merge_clusters(1)
    with pytest.raises(ValueError, match="`n_clusters` must be >= 2"):
        s.clusterspy.split_cluster(0, 1)
    with pytest.raises(
        ValueError, match=r"`cluster_id` must be a cluster id in \[0, 3\]"
    ):
        s.clusterspy.split_cluster(-1, 2)
    with pytest.raises(ValueError, match="at most the size"):
        s.clusterspy.split_cluster(3, 10_000)
    with pytest.raises(ValueError, match="cluster_id"):
        s.clusterspy.get_cluster_members(4)
    assert s.learning_results.clusterspy is stored
    np.testing.assert_array_equal(s.learning_results.clusterspy["labels"], labels)


def test_get_cluster_members(analysed):
    s, _ = analysed
    r = s.clusterspy.result
    members = s.clusterspy.get_cluster_members(1)
    X = s.data.reshape(r.labels.size, -1)
    np.testing.assert_array_equal(members.data, X[r.labels == 1])
    assert members.axes_manager.signal_axes[0].units == s.axes_manager[-1].units
    mask = s.clusterspy.get_cluster_members(1, as_mask=True)
    np.testing.assert_array_equal(mask.data, r.label_map == 1)
    lazy = s.as_lazy()
    lazy.learning_results.clusterspy = s.learning_results.clusterspy
    np.testing.assert_array_equal(
        np.asarray(lazy.clusterspy.get_cluster_members(1).data), X[r.labels == 1]
    )


def test_merge_soft_memberships_and_decomposition():
    s = clusterspy.datasets.spectrum_image(
        shape=(12, 10), n_channels=32, random_state=1
    )
    s.decomposition()
    s.clusterspy.cluster_analysis(
        "decomposition",
        number_of_components=3,
        algorithm="gmm",
        n_clusters=3,
        random_state=0,
    )
    before = s.clusterspy.result
    s.clusterspy.merge_clusters([0, 2])
    r = s.clusterspy.result
    np.testing.assert_allclose(r.membership.sum(axis=1), 1.0)
    assert r.counts.sum() == before.counts.sum()
    s.clusterspy.split_cluster(0, 2)
    assert s.clusterspy.result.membership is None
    assert s.clusterspy.result.n_clusters == 3


def test_lazy_equals_eager(analysed):
    s, _ = analysed
    lazy = s.as_lazy()
    lazy.learning_results.clusterspy = dict(s.learning_results.clusterspy)
    for t in (s, lazy):
        t.clusterspy.merge_clusters([0, 3])
        t.clusterspy.split_cluster(1, 2, random_state=1)
    a, b = s.clusterspy.result, lazy.clusterspy.result
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.signal_mean, b.signal_mean, rtol=1e-9)
    np.testing.assert_allclose(a.signal_std, b.signal_std, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.signal_centroid, b.signal_centroid)
    np.testing.assert_allclose(a.distances, b.distances, rtol=1e-9)


def _members_mean_equals_centres(s):
    # the features split_cluster rebuilds are the ones the result was fitted on
    from clusterspy.editing import _features

    result = s.clusterspy.result
    X = _features(s, result)
    for j in range(result.n_clusters):
        np.testing.assert_allclose(
            X[result.labels == j].mean(axis=0), result.centers[j], atol=1e-6
        )


def test_split_rebuilds_the_fitted_pca_space():
    s = clusterspy.datasets.spectrum_image(shape=(16, 16), n_channels=32, random_state=0)
    s.change_dtype("float64")
    source = clusterspy.PCA(normalize_poissonian_noise=False, centre="navigation")
    s.clusterspy.cluster_analysis(
        source, number_of_components=3, n_clusters=3, random_state=0
    )
    _members_mean_equals_centres(s)
    clusterspy.split_cluster(s, 0, 2)
    assert s.clusterspy.result.n_clusters == 4


def test_split_refuses_a_decomposition_run_again():
    s = clusterspy.datasets.spectrum_image(shape=(16, 16), n_channels=32, random_state=0)
    s.change_dtype("float64")
    s.decomposition(print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition", number_of_components=3, n_clusters=3, random_state=0
    )
    _members_mean_equals_centres(s)
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    before = s.clusterspy.result.labels.copy()
    with pytest.raises(ValueError, match="not the ones this result was clustered on"):
        clusterspy.split_cluster(s, 0, 2)
    np.testing.assert_array_equal(s.clusterspy.result.labels, before)


def test_split_with_masked_non_finite_rows():
    s = clusterspy.datasets.spectrum_image(shape=(16, 16), n_channels=32, random_state=0)
    s.change_dtype("float64")
    s.data[3, 4, 5] = np.nan
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=3, preprocessing="norm", nan_policy="mask", random_state=0
    )
    clusterspy.split_cluster(s, 0, 2)
    result = s.clusterspy.result
    assert result.labels[3 * 16 + 4] == MASKED
    assert result.counts.sum() == 16 * 16 - 1


def test_merge_without_a_stored_preprocessing():
    from sklearn.preprocessing import QuantileTransformer

    s = clusterspy.datasets.spectrum_image(shape=(16, 16), n_channels=32, random_state=0)
    with pytest.warns(UserWarning):
        s.clusterspy.cluster_analysis(
            "signal",
            preprocessing=QuantileTransformer(n_quantiles=50),
            n_clusters=3,
            random_state=0,
        )
    clusterspy.merge_clusters(s, [1, 2])
    assert s.clusterspy.result.n_clusters == 2
    with pytest.raises(RuntimeError, match="needs the fitted preprocessing"):
        clusterspy.split_cluster(s, 0, 2)
