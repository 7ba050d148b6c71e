"""Tests of clusterspy.plotting and clusterspy.export: figure content, not
only that plotting ran."""

import matplotlib

matplotlib.use("Agg")

import hyperspy.api as hs  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import clusterspy  # noqa: E402
from clusterspy import MASKED, NOISE  # noqa: E402
from clusterspy.export import export_cluster_results  # noqa: E402
from clusterspy.plotting import (  # noqa: E402
    MASKED_COLOR,
    NOISE_COLOR,
    cluster_colors,
    membership_uncertainty,
    plot_cluster_distances,
    plot_cluster_labels,
    plot_cluster_membership,
    plot_cluster_results,
    plot_cluster_signals,
)

K = 3


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def si():
    """A 32 x 24 spectrum image, k-means, six masked pixels."""
    s = clusterspy.datasets.spectrum_image(
        shape=(32, 24), n_channels=128, n_phases=K, random_state=0
    )
    mask = np.zeros((32, 24), dtype=bool)  # HyperSpy navigation shape
    mask[:3, :2] = True
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        n_clusters=K,
        navigation_mask=mask,
        random_state=0,
    )
    return s


@pytest.fixture(scope="module")
def noisy():
    """DBSCAN with four outlier pixels labelled noise."""
    s = clusterspy.datasets.spectrum_image(
        shape=(32, 24), n_channels=128, n_phases=K, random_state=0
    )
    s.data[0, :4] = 0
    s.data[0, :4, 100] = 1000
    s.decomposition(print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition",
        number_of_components=4,
        preprocessing="norm",
        algorithm="dbscan",
        eps=0.3,
        min_samples=10,
    )
    return s


@pytest.fixture(scope="module")
def gmm():
    s = clusterspy.datasets.spectrum_image(
        shape=(16, 12), n_channels=64, n_phases=K, random_state=1
    )
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="gaussian_mixture",
        n_clusters=K,
        covariance_type="diag",
        random_state=0,
    )
    return s


@pytest.fixture(scope="module")
def line():
    s = clusterspy.datasets.spectrum_image(
        shape=(50,), n_channels=64, n_phases=K, random_state=0
    )
    s.clusterspy.cluster_analysis(
        "signal", preprocessing="norm", n_clusters=K, random_state=0
    )
    return s


@pytest.fixture(scope="module")
def stack():
    """A 5 x 4 navigation grid of 8 x 6 images built from three patterns."""
    rng = np.random.default_rng(0)
    patterns = rng.random((K, 6, 8)) * 10
    which = rng.integers(0, K, size=(4, 5))
    data = patterns[which] + rng.normal(0, 0.1, size=(4, 5, 6, 8))
    s = hs.signals.Signal2D(data)
    for axis, name in zip(s.axes_manager.signal_axes, ("kx", "ky"), strict=True):
        axis.name, axis.units, axis.scale = name, "1/nm", 0.5
    s.clusterspy.cluster_analysis("signal", n_clusters=K, random_state=0)
    return s


@pytest.fixture(scope="module")
def nav3():
    rng = np.random.default_rng(0)
    s = hs.signals.Signal1D(rng.random((3, 10, 12, 32)))
    for axis, name in zip(s.axes_manager.navigation_axes, "xyz", strict=True):
        axis.name, axis.units = name, "um"
    s.clusterspy.cluster_analysis("signal", n_clusters=K, random_state=0)
    return s


def map_image(fig, index=0):
    return fig.axes[index].images[0]


def color_of(image, label):
    """The colour an image draws for a value, from its own cmap and norm."""
    return np.asarray(image.cmap(image.norm(label)))


def panels(fig):
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


# -- colours ---------------------------------------------------------------------
def test_cluster_colors_defaults():
    np.testing.assert_allclose(
        cluster_colors(3), matplotlib.colormaps["tab10"](np.arange(3))
    )
    np.testing.assert_allclose(
        cluster_colors(15), matplotlib.colormaps["tab20"](np.arange(15))
    )
    many = cluster_colors(25)
    assert many.shape == (25, 4)
    assert len({tuple(c) for c in many}) == 25
    assert cluster_colors(0).shape == (0, 4)


def test_cluster_colors_user_choices():
    viridis = matplotlib.colormaps["viridis"]
    sampled = cluster_colors(5, "viridis")
    np.testing.assert_allclose(sampled[[0, -1]], [viridis(0.0), viridis(1.0)])
    np.testing.assert_allclose(cluster_colors(3, viridis), cluster_colors(3, "viridis"))
    assert cluster_colors(2, ["red", "#0000ff"]).tolist() == [
        [1.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0, 1.0],
    ]
    with pytest.raises(ValueError, match="2 colours for 3 clusters"):
        cluster_colors(3, ["red", "blue"])
    with pytest.raises(ValueError, match="not a matplotlib colormap"):
        cluster_colors(3, "no_such_map")
    with pytest.warns(UserWarning, match="colours repeat"):
        repeated = cluster_colors(12, "Set1")
    np.testing.assert_allclose(repeated[9], repeated[0])


# -- label maps ----------------------------------------------------------------------
def test_label_map_content(si):
    result = clusterspy.get_cluster_result(si)
    fig = plot_cluster_labels(si)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    image = map_image(fig)
    np.testing.assert_array_equal(image.get_array(), result.label_map)
    assert (image.get_array() == MASKED).sum() == 6
    colors = cluster_colors(K)
    for i in range(K):
        np.testing.assert_allclose(color_of(image, i), colors[i])
    np.testing.assert_allclose(color_of(image, MASKED), MASKED_COLOR)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == [f"Cluster {i} (n={result.counts[i]})" for i in range(K)] + [
        "Masked (n=6)"
    ]
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x (nm)"
    assert ax.get_ylabel() == "y (nm)"
    # Pixel edges in calibrated units: 32 x 24 pixels of 2 nm, y downwards.
    np.testing.assert_allclose(image.get_extent(), (-1, 63, 47, -1))


def test_label_map_noise(noisy):
    fig = plot_cluster_labels(noisy)
    image = map_image(fig)
    assert (image.get_array() == NOISE).sum() == 4
    np.testing.assert_allclose(color_of(image, NOISE), NOISE_COLOR)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts[-1] == "Noise (n=4)"
    assert not any(t.startswith("Masked") for t in texts)


def test_binary_label_maps(si):
    result = clusterspy.get_cluster_result(si)
    colors = cluster_colors(K)
    fig = plot_cluster_labels(si, binary=True)
    assert len(fig.axes) == 1 + K
    for i in range(K):
        ax = fig.axes[1 + i]
        member = ax.images[0].get_array()
        np.testing.assert_array_equal(member == 1, result.label_map == i)
        np.testing.assert_array_equal(member == -1, result.label_map == MASKED)
        np.testing.assert_allclose(color_of(ax.images[0], 1), colors[i])
        assert to_rgba(ax.title.get_color()) == tuple(colors[i])
    fig = plot_cluster_labels(si, binary=True, cluster_ids=[2])
    assert len(fig.axes) == 2
    assert fig.axes[1].get_title() == f"Cluster 2 (n={result.counts[2]})"


def test_label_map_into_given_axes(si):
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_cluster_labels(si, ax=right) is fig
    assert len(right.images) == 1 and not left.images
    with pytest.raises(ValueError, match="binary=False"):
        plot_cluster_labels(si, binary=True, ax=left)


def test_cluster_ids_checked(si):
    with pytest.raises(ValueError, match="cluster_ids"):
        plot_cluster_labels(si, binary=True, cluster_ids=[0, 5])
    fig = plot_cluster_labels(si, binary=True, cluster_ids=2)  # HyperSpy: first 2
    assert len(fig.axes) == 3


# -- cluster signals ---------------------------------------------------------------------
def test_spectra_colours_match_label_map(si):
    result = clusterspy.get_cluster_result(si)
    image = map_image(plot_cluster_labels(si))
    fig = plot_cluster_signals(si, "mean")
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert len(ax.lines) == K
    energy = si.axes_manager.signal_axes[0].axis
    for i, line in enumerate(ax.lines):
        np.testing.assert_allclose(to_rgba(line.get_color()), color_of(image, i))
        np.testing.assert_allclose(line.get_xdata(), energy)
        np.testing.assert_allclose(line.get_ydata(), result.signal_mean[i])
        assert line.get_label() == f"Cluster {i} (n={result.counts[i]})"
    assert ax.get_xlabel() == "Energy (keV)"
    assert ax.get_ylabel() == "Mean intensity"


def test_std_band(si):
    result = clusterspy.get_cluster_result(si)
    ax = plot_cluster_signals(si, "mean").axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == K
    colors = cluster_colors(K)
    for i, band in enumerate(bands):
        y = band.get_paths()[0].vertices[:, 1]
        mean, std = result.signal_mean[i], result.signal_std[i]
        assert y.min() == pytest.approx((mean - std).min())
        assert y.max() == pytest.approx((mean + std).max())
        np.testing.assert_allclose(band.get_facecolor()[0][:3], colors[i][:3])
    ax = plot_cluster_signals(si, "mean", show_std=False).axes[0]
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    ax = plot_cluster_signals(si, "centroid").axes[0]
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert ax.get_ylabel() == "Centroid intensity"


def test_signal_range(si):
    result = clusterspy.get_cluster_result(si)
    energy = si.axes_manager.signal_axes[0].axis
    ax = plot_cluster_signals(si, "mean", signal_range=(5.0, 2.0)).axes[0]
    keep = (energy >= 2.0) & (energy <= 5.0)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), energy[keep])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.signal_mean[0][keep])
    assert ax.get_xlim() == (energy[keep][0], energy[keep][-1])
    with pytest.raises(ValueError, match="holds no channel"):
        plot_cluster_signals(si, signal_range=(50, 60))
    with pytest.raises(ValueError, match="signal_range"):
        plot_cluster_results(si, signal_range=(1, 2, 3))


def test_count_bars(noisy):
    result = clusterspy.get_cluster_result(noisy)
    ax = plot_cluster_signals(noisy, "count").axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == result.counts.tolist() + [4]
    colors = cluster_colors(K)
    for i in range(K):
        np.testing.assert_allclose(ax.patches[i].get_facecolor(), colors[i])
    np.testing.assert_allclose(ax.patches[-1].get_facecolor(), NOISE_COLOR)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "noise"]


def test_image_grid_for_signal_dimension_2(stack):
    result = clusterspy.get_cluster_result(stack)
    colors = cluster_colors(K)
    fig = plot_cluster_signals(stack, "mean")
    assert len(fig.axes) == K
    for i, ax in enumerate(fig.axes):
        np.testing.assert_allclose(ax.images[0].get_array(), result.signal_mean[i])
        assert to_rgba(ax.title.get_color()) == tuple(colors[i])
        assert to_rgba(ax.spines["top"].get_edgecolor()) == tuple(colors[i])
        assert ax.get_xlabel() == "kx (1/nm)"
    np.testing.assert_allclose(
        fig.axes[0].images[0].get_extent(), (-0.25, 3.75, 2.75, -0.25)
    )
    assert len(plot_cluster_signals(stack, per_row=1).axes) == K
    with pytest.raises(ValueError, match="grid"):
        plot_cluster_signals(stack, ax=plt.figure().add_subplot())


def test_signal_dimension_0():
    """One value per position (a map transposed to navigation): bars."""
    rng = np.random.default_rng(0)
    s = hs.signals.BaseSignal(rng.random((8, 10))).T
    s.clusterspy.cluster_analysis("signal", n_clusters=K, random_state=0)
    result = clusterspy.get_cluster_result(s)
    ax = plot_cluster_signals(s).axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], result.signal_mean)
    colors = cluster_colors(K)
    for i in range(K):
        np.testing.assert_allclose(ax.patches[i].get_facecolor(), colors[i])
    assert len(plot_cluster_results(s).axes) == 3


def test_wrong_signal_kind(si):
    with pytest.raises(ValueError, match="signal_kind"):
        plot_cluster_signals(si, "median")


# -- navigation dimensions ---------------------------------------------------------------
def test_line_scan(line):
    result = clusterspy.get_cluster_result(line)
    fig = plot_cluster_labels(line)
    image = map_image(fig)
    np.testing.assert_array_equal(image.get_array(), result.label_map[None, :])
    assert fig.axes[0].get_xlabel() == "x (nm)"
    assert list(fig.axes[0].get_yticks()) == []
    np.testing.assert_allclose(image.get_extent()[:2], (-1, 99))
    assert len(plot_cluster_labels(line, binary=True).axes) == 1 + K
    fig = plot_cluster_results(line)
    assert len(fig.axes) == 3
    np.testing.assert_array_equal(map_image(fig).get_array(), result.label_map[None, :])
    fig = plot_cluster_distances(line)
    assert len(fig.axes) == 1
    assert len(fig.axes[0].lines) == K
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), result.distances[:, 1])


def test_three_navigation_dimensions(nav3):
    result = clusterspy.get_cluster_result(nav3)
    assert result.label_map.shape == (3, 10, 12)
    fig = plot_cluster_labels(nav3, navigation_index=1)
    np.testing.assert_array_equal(map_image(fig).get_array(), result.label_map[1])
    assert "z = 1 um" in fig.axes[0].get_title()
    fig = plot_cluster_results(nav3, navigation_index=-1)
    np.testing.assert_array_equal(map_image(fig).get_array(), result.label_map[2])
    fig = plot_cluster_distances(nav3, navigation_index=(2,))
    distances = clusterspy.get_cluster_distances(nav3).data
    np.testing.assert_allclose(map_image(fig, 1).get_array(), distances[1, 2])
    # Default: the navigator's current position.
    nav3.axes_manager.indices = (0, 0, 2)
    try:
        fig = plot_cluster_labels(nav3)
        np.testing.assert_array_equal(map_image(fig).get_array(), result.label_map[2])
    finally:
        nav3.axes_manager.indices = (0, 0, 0)
    with pytest.raises(ValueError, match="navigation_index"):
        plot_cluster_labels(nav3, navigation_index=3)
    with pytest.raises(ValueError, match="1 index"):
        plot_cluster_labels(nav3, navigation_index=(0, 0))


def test_navigation_index_needs_three_dimensions(si):
    with pytest.raises(ValueError, match="3 or more navigation dimensions"):
        plot_cluster_labels(si, navigation_index=0)


# -- distances and membership ---------------------------------------------------------------
def test_distance_maps(si):
    distances = clusterspy.get_cluster_distances(si).data
    colors = cluster_colors(K)
    fig = plot_cluster_distances(si)
    maps = panels(fig)
    assert len(maps) == K and len(fig.axes) == K + 1  # one shared colour bar
    climits = {ax.images[0].get_clim() for ax in maps}
    assert len(climits) == 1
    for i, ax in enumerate(maps):
        np.testing.assert_array_equal(
            ax.images[0].get_array().filled(np.nan), distances[i]
        )
        assert to_rgba(ax.title.get_color()) == tuple(colors[i])
    # Masked positions are NaN, drawn in the masked colour.
    np.testing.assert_allclose(maps[0].images[0].cmap.get_bad(), MASKED_COLOR)


def test_membership_maps(gmm):
    membership = clusterspy.get_cluster_membership(gmm).data
    fig = plot_cluster_membership(gmm)
    maps = panels(fig)
    assert len(maps) == K + 1
    assert len(fig.axes) == K + 3  # membership and uncertainty colour bars
    for i in range(K):
        np.testing.assert_allclose(maps[i].images[0].get_array(), membership[i])
        assert maps[i].images[0].get_clim() == (0.0, 1.0)
    np.testing.assert_allclose(
        maps[K].images[0].get_array(), membership_uncertainty(membership)
    )
    assert maps[K].get_title() == "Uncertainty (entropy)"
    fig = plot_cluster_membership(gmm, uncertainty="max_probability")
    np.testing.assert_allclose(
        panels(fig)[K].images[0].get_array(), 1 - membership.max(axis=0)
    )
    assert len(panels(plot_cluster_membership(gmm, uncertainty=None))) == K


def test_membership_line_scan():
    s = clusterspy.datasets.spectrum_image(
        shape=(40,), n_channels=32, n_phases=K, random_state=0
    )
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="gaussian_mixture",
        n_clusters=K,
        covariance_type="diag",
        random_state=0,
    )
    membership = clusterspy.get_cluster_membership(s).data
    fig = plot_cluster_membership(s)
    curves, doubt = fig.axes
    assert len(curves.lines) == K
    np.testing.assert_allclose(curves.lines[2].get_ydata(), membership[2])
    np.testing.assert_allclose(
        doubt.lines[0].get_ydata(), membership_uncertainty(membership)
    )
    assert doubt.get_xlabel() == "x (nm)"


def test_membership_needs_soft_clustering(si):
    with pytest.raises(RuntimeError, match="gaussian_mixture"):
        plot_cluster_membership(si)


def test_membership_uncertainty_values():
    p = np.array(
        [[1.0, 0.5, 1 / 3, np.nan], [0.0, 0.5, 1 / 3, np.nan], [0, 0, 1 / 3, np.nan]]
    )
    entropy = membership_uncertainty(p)
    np.testing.assert_allclose(entropy[:3], [0.0, np.log(2) / np.log(3), 1.0])
    assert np.isnan(entropy[3])
    np.testing.assert_allclose(
        membership_uncertainty(p, "max_probability")[:3], [0.0, 0.5, 2 / 3]
    )
    with pytest.raises(ValueError, match="uncertainty"):
        membership_uncertainty(p, "variance")


# -- overview ----------------------------------------------------------------------
def test_overview(si):
    result = clusterspy.get_cluster_result(si)
    fig = plot_cluster_results(si)
    assert [ax.get_title() for ax in fig.axes] == [
        "Cluster labels",
        "Cluster mean signals (band: ± 1 std)",
        "Cluster sizes",
    ]
    image = map_image(fig)
    np.testing.assert_array_equal(image.get_array(), result.label_map)
    spectra, sizes = fig.axes[1], fig.axes[2]
    for i in range(K):
        colour = color_of(image, i)
        np.testing.assert_allclose(to_rgba(spectra.lines[i].get_color()), colour)
        np.testing.assert_allclose(sizes.patches[i].get_facecolor(), colour)
        assert sizes.patches[i].get_height() == result.counts[i]
    # The map legend names only what the other panels do not: masked pixels.
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["Masked (n=6)"]
    assert fig.get_suptitle() == "3 clusters of Generated 3-phase spectrum image"


def test_overview_user_colours_and_images(si, stack):
    fig = plot_cluster_results(si, cmap=["red", "green", "blue"])
    for i, name in enumerate(["red", "green", "blue"]):
        np.testing.assert_allclose(color_of(map_image(fig), i), to_rgba(name))
        np.testing.assert_allclose(
            to_rgba(fig.axes[1].lines[i].get_color()), to_rgba(name)
        )
    fig = plot_cluster_results(stack)
    assert len(fig.axes) == 1 + K + 1
    assert fig.axes[-1].get_title() == "Cluster sizes"


def test_no_analysis_raises():
    s = clusterspy.datasets.spectrum_image(shape=(4, 4), n_channels=8, random_state=0)
    for plot in (
        plot_cluster_labels,
        plot_cluster_signals,
        plot_cluster_distances,
        plot_cluster_membership,
        plot_cluster_results,
    ):
        with pytest.raises(RuntimeError, match="cluster_analysis"):
            plot(s)
    with pytest.raises(RuntimeError, match="cluster_analysis"):
        export_cluster_results(s, "unused")
    assert plt.get_fignums() == []


# -- export ----------------------------------------------------------------------------
def test_export(si, tmp_path):
    before = plt.get_fignums()
    paths = export_cluster_results(si, tmp_path / "out", dpi=40)
    assert plt.get_fignums() == before  # figures closed after saving
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "cluster_results.png",
            "cluster_labels.png",
            "cluster_signals_mean.png",
            "cluster_distances.png",
            "cluster_labels.hspy",
            "cluster_signals_mean.hspy",
            "cluster_distances.hspy",
            "cluster_table.csv",
        ]
    )
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    with open(tmp_path / "out" / "cluster_results.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    labels = hs.load(tmp_path / "out" / "cluster_labels.hspy")
    np.testing.assert_array_equal(
        labels.data, clusterspy.get_cluster_labels(si, merged=True).data
    )
    assert labels.axes_manager.signal_axes[0].units == "nm"
    means = hs.load(tmp_path / "out" / "cluster_signals_mean.hspy")
    np.testing.assert_allclose(
        means.data, clusterspy.get_cluster_result(si).signal_mean
    )
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_cluster_results(si, tmp_path / "out", dpi=40)
    again = export_cluster_results(
        si,
        tmp_path / "out",
        formats=(),
        signal_kinds=("mean", "centroid"),
        overwrite=True,
    )
    assert sorted(p.name for p in again) == [
        "cluster_distances.hspy",
        "cluster_labels.hspy",
        "cluster_signals_centroid.hspy",
        "cluster_signals_mean.hspy",
        "cluster_table.csv",
    ]


def test_export_membership_and_checks(gmm, tmp_path):
    paths = export_cluster_results(
        gmm, tmp_path, formats=("png", "svg"), signal_format=None, dpi=40
    )
    names = {p.name for p in paths}
    assert {"cluster_membership.png", "cluster_membership.svg"} <= names
    assert not any(name.endswith(".hspy") for name in names)
    with pytest.raises(ValueError, match="formats"):
        export_cluster_results(gmm, tmp_path / "bad", formats=("png", "tiffany"))
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match="signal_kinds"):
        export_cluster_results(gmm, tmp_path / "bad", signal_kinds=("median",))


def test_unassigned_positions_have_their_own_colour_and_legend():
    import clusterspy
    from clusterspy.plotting import MASKED_COLOR, UNASSIGNED_COLOR

    s = clusterspy.datasets.spectrum_image((16, 12), n_channels=32, random_state=0)
    s.clusterspy.cluster_analysis(
        "signal",
        algorithm="fuzzy_cmeans",
        n_clusters=3,
        preprocessing="norm",
        membership_threshold=0.99,
        random_state=0,
    )
    r = s.clusterspy.result
    assert r.unassigned_count > 0
    fig = s.clusterspy.plot_cluster_labels()
    image = fig.axes[0].images[0]
    assert np.allclose(image.cmap(image.norm(-3)), UNASSIGNED_COLOR)
    assert not np.allclose(UNASSIGNED_COLOR, MASKED_COLOR)
    np.testing.assert_array_equal(np.asarray(image.get_array()), r.label_map)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"Unassigned (n={r.unassigned_count})" in texts
    plt.close(fig)
