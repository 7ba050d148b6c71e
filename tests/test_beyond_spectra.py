"""Image stacks, colour images, spatial and soft clustering."""

import hyperspy.api as hs
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy import MASKED, UNASSIGNED
from clusterspy.estimators import FuzzyCMeans, SphericalKMeans

# -- image stacks -------------------------------------------------------------------------


def _heat_maps(n=60, seed=0):
    """Stack of 24x5 'heat maps' drawn from 3 patterns at random intensities."""
    rng = np.random.default_rng(seed)
    patterns = rng.random((3, 5, 24)) ** 3
    truth = rng.integers(0, 3, n)
    scale = rng.uniform(0.2, 5.0, n)  # intensity varies wildly between images
    data = patterns[truth] * scale[:, None, None] + 0.01 * rng.random((n, 5, 24))
    return hs.signals.Signal2D(data), truth


def test_image_stack_cosine_similarity():
    s, truth = _heat_maps()
    # Euclidean k-means on raw images groups by intensity, not by pattern...
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    euclid = adjusted_rand_score(truth, s.clusterspy.result.labels)
    # ...cosine similarity (spherical k-means, or "norm" + k-means) by pattern
    s.clusterspy.cluster_analysis(
        "signal", algorithm="spherical_kmeans", n_clusters=3, random_state=0
    )
    assert adjusted_rand_score(truth, s.clusterspy.result.labels) == 1.0
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=0
    )
    assert adjusted_rand_score(truth, s.clusterspy.result.labels) == 1.0
    assert euclid < 0.9
    centroids = s.clusterspy.get_cluster_signals("centroid")
    assert isinstance(centroids, hs.signals.Signal2D)
    assert centroids.data.shape == (3, 5, 24)
    r = s.clusterspy.result
    for j in range(3):  # the centroid image is one of the stack's images
        np.testing.assert_array_equal(centroids.data[j], s.data[r.centroid_index[j]])


def test_spherical_kmeans_estimator():
    rng = np.random.default_rng(1)
    directions = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    truth = np.repeat(np.arange(3), 40)
    X = directions[truth] * rng.uniform(0.1, 10, (120, 1)) + 0.05 * rng.random((120, 3))
    est = SphericalKMeans(n_clusters=3, random_state=0).fit(X)
    assert adjusted_rand_score(truth, est.labels_) == 1.0
    np.testing.assert_allclose(np.linalg.norm(est.cluster_centers_, axis=1), 1.0)
    np.testing.assert_array_equal(est.predict(X * 7.0), est.labels_)  # scale-invariant


# -- colour images ------------------------------------------------------------------------


def _rgb_image(seed=0):
    rng = np.random.default_rng(seed)
    colours = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40]])
    truth = clusterspy.datasets.phase_map((40, 30), n_phases=4, random_state=seed)
    pixels = colours[truth] + rng.integers(-10, 11, truth.shape + (3,))
    s = hs.signals.Signal1D(np.clip(pixels, 0, 255).astype(np.uint8))
    s.change_dtype("rgb8")
    return s, truth, colours


def test_rgb_quantisation_from_cluster_means():
    s, truth, colours = _rgb_image()
    assert s.axes_manager.navigation_dimension == 0  # pixels are signal axes
    s.clusterspy.cluster_analysis("signal", n_clusters=4, random_state=0)
    r = s.clusterspy.result
    assert r.label_map.shape == (30, 40)
    assert adjusted_rand_score(truth.ravel(), r.labels) == 1.0
    pixels = np.stack([s.data[c] for c in "RGB"], axis=-1).reshape(-1, 3).astype(float)
    for j in range(4):
        np.testing.assert_allclose(
            r.signal_mean[j], pixels[r.labels == j].mean(0), rtol=1e-12
        )
    rec = s.clusterspy.get_cluster_reconstruction()
    assert rec.data.shape == (30, 40, 3)
    np.testing.assert_allclose(rec.data.reshape(-1, 3), r.signal_mean[r.labels])
    # the quantised image is within the noise of the true colours
    assert np.abs(rec.data.reshape(-1, 3) - colours[truth.ravel()]).max() < 3
    assert s.data.dtype.names == ("R", "G", "B")  # the signal is untouched
    assert hasattr(s.learning_results, "clusterspy")  # results stored with it
    # another colour image is assigned to the same clusters, pixel by pixel
    other, other_truth, _ = _rgb_image(seed=5)
    predicted = s.clusterspy.predict(other)
    assert predicted.data.shape == (30, 40)
    assert adjusted_rand_score(other_truth.ravel(), predicted.data.ravel()) == 1.0


def test_rgb_lazy_equals_eager():
    s, truth, _ = _rgb_image(1)
    lazy = s.as_lazy()
    s.clusterspy.cluster_analysis("signal", n_clusters=4, random_state=2)
    lazy.clusterspy.cluster_analysis("signal", n_clusters=4, random_state=2)
    np.testing.assert_array_equal(
        lazy.clusterspy.result.labels, s.clusterspy.result.labels
    )


# -- position-aware clustering --------------------------------------------------------------


def _two_blobs_same_spectrum():
    """Two separated square regions with the *same* spectrum on a background."""
    rng = np.random.default_rng(0)
    truth = np.zeros((30, 40), dtype=int)
    truth[5:15, 5:15] = 1
    truth[15:25, 25:35] = 2
    spectra = np.array([[10.0, 1.0, 1.0], [1.0, 10.0, 1.0], [1.0, 10.0, 1.0]])
    data = rng.poisson(spectra[truth] * 20).astype(float)
    s = hs.signals.Signal1D(data)
    s.axes_manager[0].scale = 0.5
    s.axes_manager[1].scale = 0.5
    return s, truth


def test_spatial_weight_separates_identical_spectra_by_position():
    s, truth = _two_blobs_same_spectrum()
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=3, random_state=0
    )
    assert adjusted_rand_score(truth.ravel(), s.clusterspy.result.labels) < 0.9
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="gaussian_mixture",
        n_clusters=3,
        spatial_weight=2.0,
        random_state=0,
    )
    r = s.clusterspy.result
    assert adjusted_rand_score(truth.ravel(), r.labels) > 0.95
    assert r.centers.shape == (3, 5)  # 3 channels + x, y
    assert r.parameters["spatial_weight"] == 2.0
    # predict on the same map reproduces the labels (coordinates appended)
    np.testing.assert_array_equal(s.clusterspy.predict(s).data, r.label_map)


def test_spatial_coordinates_are_calibrated_and_scaled():
    from clusterspy.sources import navigation_coordinates

    s, _ = _two_blobs_same_spectrum()
    coords, scale = navigation_coordinates(s)
    assert coords.shape == (1200, 2)
    np.testing.assert_array_equal(coords[:3], [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(coords[40], [0.0, 0.5])
    centred = coords - coords.mean(0)
    assert scale == pytest.approx(np.sqrt((centred**2).sum(1).mean()))


def test_spatial_weight_lazy_equals_eager():
    s, _ = _two_blobs_same_spectrum()
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((7, 40, 3))
    kwargs = dict(
        preprocessing="standard", spatial_weight=1.0, n_clusters=3, random_state=0
    )
    s.clusterspy.cluster_analysis("signal", **kwargs)
    lazy.clusterspy.cluster_analysis("signal", **kwargs)
    np.testing.assert_array_equal(
        lazy.clusterspy.result.labels, s.clusterspy.result.labels
    )


def test_grid_connected_ward_gives_contiguous_regions():
    s, truth = _two_blobs_same_spectrum()
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="agglomerative",
        n_clusters=3,
        connectivity="grid",
    )
    r = s.clusterspy.result
    assert adjusted_rand_score(truth.ravel(), r.labels) > 0.95
    regions = s.clusterspy.get_cluster_regions()
    # every cluster is one connected region
    assert regions.metadata.Clusterspy.region_size.size == 3
    with pytest.raises(
        ValueError,
        match=r"`connectivity` as a string must be 'grid', with algorithm='agglomerative'",
    ):
        s.clusterspy.cluster_analysis("signal", n_clusters=3, connectivity="grid")


def test_regions_split_and_drop_small_ones():
    s, truth = _two_blobs_same_spectrum()
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=2, random_state=0
    )
    regions = s.clusterspy.get_cluster_regions(min_size=50)
    sizes = regions.metadata.Clusterspy.region_size
    clusters = regions.metadata.Clusterspy.region_cluster
    # background + two blobs of the same cluster
    assert sizes.tolist() == [1000, 100, 100]
    assert clusters[1] == clusters[2] != clusters[0]
    blobs = s.clusterspy.get_cluster_regions(min_size=101)
    assert (blobs.data == UNASSIGNED).sum() == 200
    with pytest.raises(ValueError, match=r"`min_size` must be >= 1, not 0"):
        s.clusterspy.get_cluster_regions(min_size=0)


# -- soft clustering ----------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_mixture_every_covariance(small, covariance_type):
    s, truth = small
    # full covariance matrices want few features: cluster 3 loadings
    s.decomposition(print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition",
        number_of_components=3,
        preprocessing="standard",
        algorithm="gaussian_mixture",
        n_clusters=3,
        covariance_type=covariance_type,
        random_state=0,
    )
    r = s.clusterspy.result
    assert adjusted_rand_score(truth.ravel(), r.labels) > 0.95
    np.testing.assert_allclose(r.membership.sum(1), 1.0, rtol=1e-6)  # float32 loadings
    np.testing.assert_array_equal(r.membership.argmax(1), r.labels)
    _, gmm = r.model
    assert gmm.covariance_type == covariance_type


def test_fuzzy_cmeans_memberships_and_threshold():
    rng = np.random.default_rng(0)
    X = np.concatenate(
        [rng.normal(0, 0.2, (100, 2)), rng.normal(3, 0.2, (100, 2)), [[1.5, 1.5]]]
    )
    s = hs.signals.Signal1D(X)
    s.clusterspy.cluster_analysis(
        "signal", algorithm="fuzzy_cmeans", n_clusters=2, random_state=0
    )
    r = s.clusterspy.result
    np.testing.assert_allclose(r.membership.sum(1), 1.0)
    np.testing.assert_allclose(r.membership[-1], [0.5, 0.5], atol=0.05)  # midway
    assert r.membership[:200].max(1).min() > 0.9
    s.clusterspy.cluster_analysis(
        "signal",
        algorithm="fuzzy_cmeans",
        n_clusters=2,
        random_state=0,
        membership_threshold=0.8,
    )
    r = s.clusterspy.result
    assert r.labels[-1] == UNASSIGNED and r.unassigned_count == 1
    assert r.counts.sum() == 200
    np.testing.assert_allclose(r.signal_mean[0], X[r.labels == 0].mean(0))
    uncertainty = clusterspy.plotting.membership_uncertainty(r.membership.T)
    assert uncertainty[-1] == pytest.approx(1.0, abs=0.01)
    assert uncertainty[:200].max() < 0.5


def test_fuzzy_cmeans_estimator_limits():
    X = np.array([[0.0], [0.0], [1.0]])
    fcm = FuzzyCMeans(n_clusters=2, random_state=0).fit(X)
    np.testing.assert_allclose(fcm.predict_proba([[0.0], [1.0]]).max(1), 1.0)
    with pytest.raises(ValueError, match=r"`m` must be > 1, not 1.0"):
        FuzzyCMeans(n_clusters=2, m=1.0).fit(X)


def test_membership_threshold_needs_memberships(small):
    s, _ = small
    with pytest.raises(
        ValueError,
        match=r"`membership_threshold` needs soft memberships, which algorithm='kmeans' does not give",
    ):
        s.clusterspy.cluster_analysis("signal", n_clusters=3, membership_threshold=0.5)
    with pytest.raises(
        ValueError,
        match=r"`membership_threshold` must be a number in \(0, 1\] or None, not 1.5",
    ):
        s.clusterspy.cluster_analysis(
            "signal", algorithm="fuzzy_cmeans", n_clusters=3, membership_threshold=1.5
        )


def test_reconstruction_of_spectrum_image(small):
    s, _ = small
    mask = np.zeros(s.axes_manager.navigation_shape, dtype=bool)
    mask[0, 0] = True
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=3, navigation_mask=mask, random_state=0
    )
    rec = s.clusterspy.get_cluster_reconstruction(signal="centroid")
    r = s.clusterspy.result
    assert type(rec) is type(s) and rec.data.shape == s.data.shape
    assert np.isnan(rec.data[0, 0]).all() and r.label_map[0, 0] == MASKED
    np.testing.assert_array_equal(rec.data[1, 1], r.signal_centroid[r.label_map[1, 1]])
