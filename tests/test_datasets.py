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
