"""Per-cluster tables."""

import numpy as np
import pytest

import clusterspy
from clusterspy.tables import ClusterTable, format_percent
from test_elements import ENERGIES, eds_map  # noqa: F401


@pytest.fixture(scope="module")
def masked():
    s = clusterspy.datasets.spectrum_image(
        shape=(20, 15), n_channels=64, random_state=3
    )
    mask = np.zeros((20, 15), dtype=bool)
    mask[:2, :3] = True
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=3, navigation_mask=mask, random_state=0
    )
    return s


def test_table_values(masked):
    r = masked.clusterspy.result
    table = masked.clusterspy.get_cluster_table()
    assert isinstance(table, ClusterTable) and len(table) == 3
    assert table.names == [
        "cluster",
        "pixels",
        "area_fraction",
        "area_fraction_se",
        "counts_per_pixel",
    ]
    n = 300 - 6
    p = r.counts / n
    np.testing.assert_array_equal(table["pixels"], r.counts)
    np.testing.assert_allclose(table["area_fraction"], p)
    np.testing.assert_allclose(table["area_fraction_se"], np.sqrt(p * (1 - p) / n))
    X = masked.data.reshape(300, -1).astype(float)
    expected = [X[r.labels == j].sum(axis=1).mean() for j in range(3)]
    np.testing.assert_allclose(table["counts_per_pixel"], expected)
    assert table.notes == {"noise": 0, "unassigned": 0, "masked": 6}
    assert table.footer() == "Not in any cluster: 6 positions masked."


def test_csv_and_html(masked, tmp_path):
    table = clusterspy.get_cluster_table(masked)
    text = table.to_csv()
    rows = [line.split(",") for line in text.splitlines()]
    assert rows[0] == table.names and len(rows) == 4
    np.testing.assert_allclose(
        [float(v) for v in np.array(rows[1:])[:, 2]], table["area_fraction"]
    )
    path = table.to_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == text and path == tmp_path / "t.csv"
    html = table.to_html(caption="Clusters")
    assert html.startswith(
        '<table class="clusterspy-table"><caption>Clusters</caption>'
    )
    assert html.count("<tr>") == 5 and "6 positions masked" in html  # head, 3, foot
    assert (
        format_percent(table["area_fraction"][0], table["area_fraction_se"][0]) in html
    )


def test_eds_line_intensities():
    s, _ = eds_map()
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    table = s.clusterspy.get_cluster_table()
    assert table.line_names == sorted(ENERGIES)
    sums = s.clusterspy.get_cluster_signals("sum")
    for name in ENERGIES:
        expected = sums.get_lines_intensity([name])[0].data
        np.testing.assert_allclose(table[name], expected)
    # each cluster is brightest in its own line
    own = np.argmax(np.stack([table[n] for n in ENERGIES]), axis=0)
    assert sorted(own.tolist()) == [0, 1, 2]
    only = s.clusterspy.get_cluster_table(xray_lines=["Fe_Ka"])
    assert only.line_names == ["Fe_Ka"]
    assert "Fe Ka" in only.to_html()


def test_format_percent():
    assert format_percent(0.0004) == "<0.1 %"
    assert format_percent(0.0) == "0 %"
    assert format_percent(1.0) == "100.0 %"
    assert format_percent(0.99996) == ">99.9 %"
    assert format_percent(0.25, 0.0001) == "25.0 % ± <0.1 %"
    assert format_percent(float("nan")) == "n/a"
    with pytest.raises(ValueError, match="xray_lines"):
        ClusterTable  # noqa: B018
        s = clusterspy.datasets.spectrum_image(shape=(4, 4), n_channels=16, random_state=0)
        s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
        s.clusterspy.get_cluster_table(xray_lines=["Fe_Ka"])
