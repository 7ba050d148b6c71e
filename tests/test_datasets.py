"""Generated data: shapes, truth, reproducibility."""

import numpy as np

from clusterspy.datasets import phase_map, spectrum_image


def test_spectrum_image_shapes_and_truth():
    s, truth = spectrum_image(
        (12, 7), n_channels=50, n_phases=4, return_truth=True, random_state=1
    )
    assert s.data.shape == (7, 12, 50)
    assert truth.shape == (7, 12)
    assert set(np.unique(truth)) == {0, 1, 2, 3}
    assert s.data.dtype == np.float32
    assert np.all(s.data == np.round(s.data)) and s.data.min() >= 0  # counts
    axis = s.axes_manager.signal_axes[0]
    assert (axis.units, axis.name) == ("keV", "Energy")
    assert abs(s.data.sum(-1).mean() - 1000) < 100


def test_reproducible_and_seed_dependent():
    a = spectrum_image((8, 8), n_channels=16, random_state=5)
    b = spectrum_image((8, 8), n_channels=16, random_state=5)
    c = spectrum_image((8, 8), n_channels=16, random_state=6)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)


def test_line_scan_and_lazy():
    s = spectrum_image((30,), n_channels=16, lazy=True, random_state=0)
    assert s._lazy and s.data.shape == (30, 16)


def test_phase_map_has_every_phase_even_when_tiny():
    m = phase_map((2, 2), n_phases=4, random_state=0)
    assert set(np.unique(m)) == {0, 1, 2, 3}


def test_phases_differ_in_shape_not_only_intensity():
    s, truth = spectrum_image(
        (32, 32), n_channels=128, return_truth=True, random_state=0
    )
    X = s.data.reshape(-1, 128).astype(float)
    means = np.stack([X[truth.ravel() == p].mean(0) for p in range(3)])
    shapes = means / means.sum(1, keepdims=True)
    assert np.abs(shapes[:, None] - shapes[None]).sum(-1).max() > 0.3


def test_eds_sem_map_is_the_shipped_real_map():
    import hyperspy.api as hs

    from clusterspy.datasets import eds_sem_map

    s, image = eds_sem_map(return_image=True)
    assert s.data.shape == (30, 30, 2048) and s.data.dtype == np.uint16
    assert image.data.shape == (30, 30) and image.axes_manager.signal_dimension == 2
    energy = s.axes_manager.signal_axes[0]
    assert (energy.name, energy.units) == ("Energy", "keV")
    np.testing.assert_allclose([energy.offset, energy.scale], [-0.47225, 0.01], rtol=1e-3)
    nav = s.axes_manager.navigation_axes
    assert [a.units for a in nav] == ["µm", "µm"]
    assert s.metadata.General.original_filename == "eds_sem_30x30.bcf"
    assert s.data.sum() > 0
    try:
        import exspy  # noqa: F401
    except ImportError:
        assert type(s) is hs.signals.Signal1D
    else:
        assert type(s).__name__ == "EDSSEMSpectrum"
        assert "Fe_Ka" in s.metadata.Sample.xray_lines
    # a fresh object each call: the caller may modify it
    assert eds_sem_map() is not s


def test_eds_sem_map_lazy_equals_eager():
    from clusterspy.datasets import eds_sem_map

    eager = eds_sem_map()
    lazy = eds_sem_map(lazy=True)
    assert lazy._lazy and not eager._lazy
    np.testing.assert_array_equal(lazy.data.compute(), eager.data)


def test_eds_sem_map_refuses_non_bool():
    import pytest

    from clusterspy.datasets import eds_sem_map

    with pytest.raises(TypeError, match=r"`lazy` must be True or False, not 'yes'\."):
        eds_sem_map(lazy="yes")
    with pytest.raises(TypeError, match=r"`return_image` must be True or False, not 1\."):
        eds_sem_map(return_image=1)


def test_cluster_analysis_on_the_real_map():
    import clusterspy
    from clusterspy.datasets import eds_sem_map

    s = eds_sem_map()
    before = s.data.copy()
    s.change_dtype("float32")
    s.decomposition(normalize_poissonian_noise=True, output_dimension=5, print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition", number_of_components=5, n_clusters=4, preprocessing="norm",
        random_state=0, show_progressbar=False,
    )
    labels = s.clusterspy.get_cluster_labels(merged=True)
    assert labels.data.shape == (30, 30)
    assert set(np.unique(labels.data)) == {0, 1, 2, 3}
    means = s.clusterspy.get_cluster_signals("mean")
    # the mean spectra are the members' means of the raw counts
    flat_labels = labels.data.ravel()
    np.testing.assert_allclose(
        means.data[0], before.reshape(-1, 2048)[flat_labels == 0].mean(0), rtol=1e-6
    )
    assert clusterspy.get_cluster_result(s).n_clusters == 4
