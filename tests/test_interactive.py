"""Interactive exploration on HyperSpy's plotting."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import clusterspy  # noqa: E402
from clusterspy.plotting import cluster_colors  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def analysed():
    s = clusterspy.datasets.spectrum_image(shape=(10, 8), n_channels=32, random_state=0)
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    return s


def test_lines_follow_the_navigator(analysed):
    s = analysed
    r = s.clusterspy.result
    explorer = s.clusterspy.plot_cluster_explorer()
    # HyperSpy's own figures: the label map is the navigator
    np.testing.assert_array_equal(s._plot.navigator_plot.data_function(), r.label_map)
    colors = cluster_colors(3)
    seen = set()
    for x, y in [(0, 0), (9, 7), (5, 3), (2, 6)]:
        s.axes_manager.indices = (x, y)
        label = r.label_map[y, x]
        seen.add(label)
        line = explorer.line.line
        np.testing.assert_allclose(line.get_ydata(), r.signal_mean[label])
        np.testing.assert_allclose(to_rgba(line.get_color()), colors[label])
        # the selected spectrum is HyperSpy's own line
        np.testing.assert_allclose(
            explorer.signal_figure.ax_lines[0].line.get_ydata(), s.data[y, x]
        )
        distance = r.distances[y * 10 + x, label]
        assert explorer.note.get_text() == f"Cluster {label}: distance {distance:.4g}"
    assert len(seen) >= 2
    s._plot.close()
    # after closing, moving the navigator no longer touches the explorer
    s.axes_manager.indices = (1, 1)


def test_results_interactive_and_centroid(analysed):
    s = analysed
    r = s.clusterspy.result
    explorer = s.clusterspy.plot_cluster_results(interactive=True, signal="centroid")
    s.axes_manager.indices = (3, 4)
    np.testing.assert_allclose(
        explorer.line.line.get_ydata(), r.signal_centroid[r.label_map[4, 3]]
    )
    s._plot.close()
    with pytest.raises(ValueError, match="signal"):
        clusterspy.plot_cluster_explorer(s, "count")
