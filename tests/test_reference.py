"""Reference image beside the labels, and the scree plot."""

import matplotlib

matplotlib.use("Agg")

import hyperspy.api as hs  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import clusterspy  # noqa: E402
from clusterspy.plotting import (  # noqa: E402
    find_reference_image,
    plot_reference_image,
    plot_scree,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def analysed():
    s = clusterspy.datasets.spectrum_image(
        shape=(16, 12), n_channels=32, random_state=0
    )
    s.decomposition(print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition", number_of_components=3, n_clusters=3, random_state=0
    )
    return s


def test_find_reference_image(analysed):
    survey = hs.signals.Signal2D(np.zeros((40, 50)))
    image = hs.signals.Signal2D(np.zeros((12, 16)))
    assert find_reference_image([survey, image, analysed], analysed) is image
    assert find_reference_image([survey, analysed], analysed) is survey
    assert find_reference_image(analysed, analysed) is None


def test_reference_beside_labels(analysed):
    image = hs.signals.Signal2D(analysed.data.sum(axis=-1))
    image.metadata.General.title = "BSE"
    fig = plot_reference_image(analysed, image)
    left, right = fig.axes[:2]
    assert left.get_title() == "BSE" and right.get_title() == "Cluster labels"
    np.testing.assert_array_equal(left.images[0].get_array(), image.data)
    np.testing.assert_array_equal(
        right.images[0].get_array(), analysed.clusterspy.result.label_map
    )
    with pytest.raises(ValueError, match="signal dimension 2"):
        plot_reference_image(analysed, analysed)


def test_rgb_reference_image(analysed):
    # A Renishaw map's optical image is an RGB signal (structured rgb8 dtype):
    # it is drawn in colour, not refused by matplotlib.
    rgb = np.random.default_rng(0).integers(0, 255, (12, 16, 3), dtype=np.uint8)
    image = hs.signals.Signal1D(rgb)
    image.change_dtype("rgb8")
    fig = plot_reference_image(analysed, image)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), rgb)
    # 16-bit colour is scaled to [0, 1], not clipped at 255
    rgb16 = rgb.astype(np.uint16) * 257
    image16 = hs.signals.Signal1D(rgb16)
    image16.change_dtype("rgb16")
    fig = plot_reference_image(analysed, image16)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), rgb / 255)


def test_scree(analysed):
    ax = plot_scree(analysed).axes[0]
    ratio = analysed.learning_results.explained_variance
    ratio = ratio / ratio.sum()
    used, rest = ax.collections[1], ax.collections[0]
    np.testing.assert_allclose(used.get_offsets()[:, 1], ratio[:3])
    np.testing.assert_allclose(rest.get_offsets()[:, 1], ratio[3:30])
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="decomposition"):
        plot_scree(clusterspy.datasets.spectrum_image(shape=(4, 4), n_channels=8, random_state=0))
