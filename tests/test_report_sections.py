"""The report's domain sections: the reference image, the scree plot, the
element table, several metric curves, counts per pixel, warnings, plurals and
percentages; and the per-cluster CSV of the exports."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

import clusterspy
from clusterspy.estimate import get_cluster_metric
from clusterspy.export import export_cluster_results
from clusterspy.outputs import write_outputs
from clusterspy.report import (
    counts_per_pixel,
    metric_figure,
    render_report,
    scree_figure,
)
from clusterspy.tables import get_cluster_table
from test_report import (
    CHROMIUM,
    needs_chromium,
    parse_report_text,
    probe_page,
)

exspy = pytest.importorskip("exspy")

LINES = {"Si": 1.7397, "Fe": 6.4039, "Cu": 8.0478}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def make_eds_map(shape=(12, 10)):
    """A 3-phase EDS map (one strong K line per phase, Poisson counts) whose
    elements are named with ``add_elements`` only."""
    rng = np.random.default_rng(1)
    energy = np.arange(1024) * 0.01
    phases = np.zeros((3, energy.size))
    for p in range(len(LINES)):
        for q, e2 in enumerate(LINES.values()):
            phases[p] += (30.0 if p == q else 3.0) * np.exp(
                -0.5 * ((energy - e2) / 0.06) ** 2
            )
        phases[p] += 0.5 * np.exp(-energy / 4)
    n = shape[0] * shape[1]
    truth = np.repeat(np.arange(3), -(-n // 3))[:n]
    data = rng.poisson(phases[truth]).reshape(shape[1], shape[0], -1)
    s = exspy.signals.EDSSEMSpectrum(data.astype(np.uint16))
    axis = s.axes_manager.signal_axes[0]
    axis.scale, axis.units, axis.name = 0.01, "keV", "Energy"
    s.set_microscope_parameters(beam_energy=15.0)
    s.add_elements(list(LINES))
    return s, truth


def electron_image(s):
    """A BSE-like image of the map's navigation shape, as a .bcf holds it."""
    import hyperspy.api as hs

    image = hs.signals.Signal2D(
        s.data.sum(axis=-1).astype(np.float32)[::-1].copy()  # not the label map
    )
    image.metadata.General.title = "BSE"
    return image


@pytest.fixture(scope="module")
def eds():
    s, truth = make_eds_map()
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    return s


def sections(text):
    return parse_report_text(text).ids


# -- the reference image -------------------------------------------------------------


def test_reference_image_of_a_bcf_like_load(tmp_path, monkeypatch):
    import hyperspy.api as hs

    s, _ = make_eds_map()
    image = electron_image(s)
    # The loader of a .bcf returns [image(s)..., EDS map]: simulate it.
    monkeypatch.setattr(hs, "load", lambda *args, **kwargs: [image, s.deepcopy()])
    path = tmp_path / "map.bcf"
    path.write_bytes(b"")
    done = clusterspy.workflow.run_workflow(
        path, output=tmp_path / "out", n_clusters=3, quiet=True
    )
    text = done.report.read_text(encoding="utf-8")
    report = parse_report_text(text)
    assert report.ids.index("overview") < report.ids.index("reference")
    alts = [img["alt"] for img in report.images]
    assert "Reference image (BSE) beside the cluster label map" in alts
    cells = report.cells
    assert cells[cells.index("reference image") + 1].startswith("Signal2D 'BSE'")
    # No reference image: no section.
    monkeypatch.setattr(hs, "load", lambda *args, **kwargs: s.deepcopy())
    done = clusterspy.workflow.run_workflow(
        path, output=tmp_path / "out2", n_clusters=3, quiet=True
    )
    assert "reference" not in sections(done.report.read_text(encoding="utf-8"))


def test_reference_image_given_to_render_report(eds):
    text = render_report(eds, figures={}, reference=electron_image(eds))
    report = parse_report_text(text)
    assert [img["alt"] for img in report.images] == [
        "Reference image (BSE) beside the cluster label map"
    ]


# -- the scree plot --------------------------------------------------------------------


@pytest.mark.parametrize("source", ["decomposition", "pca"])
def test_scree_plot_when_decomposed(source):
    s = clusterspy.datasets.spectrum_image(
        shape=(12, 10), n_channels=32, random_state=0
    )
    if source == "decomposition":
        s.decomposition(print_info=False)
    s.clusterspy.cluster_analysis(
        source, number_of_components=3, n_clusters=3, random_state=0
    )
    fig = scree_figure(s)
    ax = fig.axes[0]
    assert ax.get_title() == "Scree plot" and ax.get_yscale() == "log"
    if source == "pca":
        variance = s.clusterspy.result.parameters["pca"]["model"]["explained_variance"]
    else:
        variance = s.learning_results.explained_variance
    ratio = np.asarray(variance) / np.sum(variance)
    filled = ax.collections[-1].get_offsets()  # the clustered components
    np.testing.assert_allclose(filled[:, 1], ratio[:3], rtol=1e-5)
    text = render_report(s)
    report = parse_report_text(text)
    assert "scree" in report.ids
    assert any(img["alt"].startswith("Scree plot of the") for img in report.images)


def test_no_scree_plot_without_decomposition(eds):
    assert scree_figure(eds) is None
    assert "scree" not in sections(render_report(eds, figures={}))


# -- the element table ----------------------------------------------------------------


def test_element_table_of_an_eds_map(eds):
    text = render_report(eds, figures={})
    report = parse_report_text(text)
    assert report.ids.index("elements") > report.ids.index("sizes")
    table = get_cluster_table(eds)
    # exspy's choice for a 15 kV beam: Cu La, as Cu Ka is above half of it.
    assert set(table.line_names) == {"Si_Ka", "Fe_Ka", "Cu_La"}
    cells = report.cells
    for name in table.line_names:
        assert name.replace("_", " ") in cells
    assert table.to_html() in text
    # The values are exspy's line intensities of the cluster sums.
    sums = eds.clusterspy.get_cluster_signals("sum")
    np.testing.assert_allclose(
        table["Fe_Ka"], sums.get_lines_intensity(["Fe_Ka"])[0].data
    )
    # Not an EDS map: no element table.
    s = clusterspy.datasets.spectrum_image(shape=(8, 6), n_channels=16, random_state=0)
    s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    assert "elements" not in sections(render_report(s, figures={}))


def test_table_csv_in_exports_and_outputs(eds, tmp_path):
    paths = export_cluster_results(eds, tmp_path / "export", formats=(), dpi=30)
    csv = tmp_path / "export" / "cluster_table.csv"
    assert csv in paths
    assert csv.read_text() == get_cluster_table(eds).to_csv()
    with pytest.raises(FileExistsError, match="cluster_table.csv"):
        export_cluster_results(eds, tmp_path / "export", formats=())
    none = export_cluster_results(eds, tmp_path / "bare", formats=(), table=False)
    assert "cluster_table.csv" not in {p.name for p in none}
    with pytest.raises(TypeError, match="`table` must be True or False"):
        export_cluster_results(eds, tmp_path / "bad", table="yes")
    folder = tmp_path / "outputs"
    folder.mkdir()
    written, report, _ = write_outputs(eds, folder)
    assert folder / "cluster_table.csv" in written
    assert (folder / "cluster_table.csv").read_text() == csv.read_text()
    assert "cluster_table.csv" in report.read_text(encoding="utf-8")


# -- several metric curves --------------------------------------------------------------


@pytest.fixture(scope="module")
def estimated():
    s = clusterspy.datasets.spectrum_image(
        shape=(16, 12), n_channels=32, n_phases=3, random_state=2
    )
    metrics = {}
    for name in ("elbow", "silhouette", "calinski_harabasz"):
        s.clusterspy.estimate_number_of_clusters(
            "signal",
            max_clusters=5,
            metric=name,
            random_state=0,
            show_progressbar=False,
        )
        metrics[name] = get_cluster_metric(s)
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    return s, metrics


def test_several_metric_curves_side_by_side(estimated):
    s, metrics = estimated
    fig = metric_figure(s, metrics)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3
    for ax, (name, metric) in zip(axes, metrics.items(), strict=True):
        assert ax.get_title().startswith(name)
        x, y = ax.lines[0].get_data()
        np.testing.assert_array_equal(x, metric.ks)
        np.testing.assert_allclose(y, metric.values)
        # The clustered k (3) is the gold point.
        gold = [line for line in ax.lines if line.get_label() == "clustered: k = 3"]
        assert len(gold) == 1
        np.testing.assert_allclose(
            gold[0].get_ydata(), metric.values[list(metric.ks).index(3)]
        )
    text = render_report(s, figures={}, metrics=metrics)
    report = parse_report_text(text)
    page = "".join(report.text)
    assert "Number of clusters (3 metrics)" in page
    for name in ("the elbow", "the silhouette coefficient", "the Calinski-Harabasz"):
        assert f"estimated with {name}" in page
    assert len(report.images) == 1  # the metric figure, drawn on request
    header = report.cells[report.cells.index("k") : report.cells.index("k") + 4]
    assert header == ["k", "elbow", "silhouette", "calinski_harabasz"]
    assert '<tr class="chosen"><td class="num">3</td>' in text
    # A list works as well; names are the metrics'.
    listed = render_report(s, figures={}, metrics=list(metrics.values()))
    assert listed.count("(rule: ") == 3


def test_metrics_argument_is_checked(estimated):
    s, _ = estimated
    with pytest.raises(TypeError, match="`metrics` must be a dict of name"):
        render_report(s, figures={}, metrics="gap")
    with pytest.raises(TypeError, match="`metrics` must hold ClusterMetric objects"):
        render_report(s, figures={}, metrics={"gap": 3})


def test_warnings_are_shown_first(estimated):
    s, _ = estimated
    text = render_report(
        s, figures={}, warnings=["Doubtful estimate: the curve is flat <here>."]
    )
    report = parse_report_text(text)
    assert report.ids[0] == "warnings"
    assert "Doubtful estimate: the curve is flat &lt;here&gt;." in text
    with pytest.raises(TypeError, match="`warnings` must be a list of strings"):
        render_report(s, figures={}, warnings="flat")


# -- counts per pixel --------------------------------------------------------------------


def test_counts_per_pixel_equal_numpy_eager_and_lazy(eds):
    totals = eds.data.sum(axis=-1, dtype=np.int64)
    counts = counts_per_pixel(eds)
    np.testing.assert_array_equal(counts["totals"], totals)
    assert counts["median"] == float(np.median(totals))
    assert counts["mean"] == pytest.approx(totals.mean())
    assert counts["empty"] == int(np.count_nonzero(totals == 0))
    lazy = counts_per_pixel(eds.as_lazy())
    np.testing.assert_array_equal(lazy["totals"], totals)
    assert {k: v for k, v in lazy.items() if k != "totals"} == {
        k: v for k, v in counts.items() if k != "totals"
    }
    report = parse_report_text(render_report(eds, figures={}))
    cells = report.cells
    median = np.median(totals)
    shown = f"{int(median)}" if median.is_integer() else f"{median:.1f}"
    assert cells[cells.index("median") + 1] == shown


def test_counts_of_decomposed_float_data_and_non_counts():
    s, _ = make_eds_map()
    expected = s.data.sum(axis=-1)
    s.change_dtype("float32")
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    # HyperSpy scaled the data in place and back: a few ulp off whole numbers.
    np.testing.assert_array_equal(counts_per_pixel(s)["totals"], expected)
    s.data[0, 0, 0] = 0.5
    assert counts_per_pixel(s) is None
    s.data[0, 0, 0] = -1.0
    assert counts_per_pixel(s) is None


def test_sparse_map_suggests_binning():
    import hyperspy.api as hs

    rng = np.random.default_rng(0)
    data = rng.poisson(0.02, size=(30, 40, 64)).astype(np.uint8)  # ~1.3 per pixel
    s = hs.signals.Signal1D(data)
    s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    totals = data.sum(axis=-1)
    counts = counts_per_pixel(s)
    filled = np.median(totals[totals > 0])
    assert counts["filled_median"] == filled
    f = next(f for f in range(2, 9) if f * f * filled >= 100 or f == 8)
    assert counts["sparse"] and counts["binning"] == f
    assert counts["empty_fraction"] == pytest.approx(np.mean(totals == 0))
    report = parse_report_text(render_report(s, figures={}))
    page = "".join(report.text)
    assert "This map is very sparse." in page
    assert f"s.rebin(scale=({f}, {f}, 1))" in page
    assert "of the pixels hold no count" in page  # ~28 % empty
    cells = report.cells
    share = cells[cells.index("empty pixels") + 1]
    assert share.startswith(clusterspy.tables.format_percent(np.mean(totals == 0)))


# -- plurals and percentages ---------------------------------------------------------------


def test_one_cluster_and_small_percentages():
    s = clusterspy.datasets.spectrum_image(shape=(50, 40), n_channels=16, random_state=0)
    mask = np.zeros((50, 40), dtype=bool)  # navigation order, x first
    mask[0, 0] = True  # 1 of 2000 positions: 0.05 %
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=1, navigation_mask=mask, random_state=0
    )
    text = render_report(s, figures={})
    report = parse_report_text(text)
    page = "".join(report.text)
    assert "1 cluster \u00b7" in page
    assert "1 clusters" not in text
    cells = report.cells
    masked_row = cells.index("-2 (masked)")
    assert cells[masked_row + 1 : masked_row + 3] == ["1", "<0.1 %"]
    assert cells[cells.index("0") + 1 : cells.index("0") + 3] == ["1999", ">99.9 %"]
    assert not re.search(r"(?<![0-9])0\.0 %", text)


def test_one_component_wording():
    s = clusterspy.datasets.spectrum_image(shape=(8, 6), n_channels=16, random_state=0)
    s.clusterspy.cluster_analysis(
        "pca", number_of_components=1, n_clusters=2, random_state=0
    )
    page = "".join(parse_report_text(render_report(s, figures={})).text)
    assert "2 clusters \u00b7 kmeans on 1 PCA component \u00b7" in page
    assert "48 positions" in page


@needs_chromium
def test_eds_report_in_a_headless_browser(eds, tmp_path):
    assert CHROMIUM
    s = eds.deepcopy()
    text = render_report(s, reference=electron_image(s))
    record, console = probe_page(tmp_path, text)
    assert console == [] and record["errors"] == []
    assert record["resources"] == []
    # overview, reference image, labels, signals, distances
    assert len(record["images"]) == text.count("<img ") == 5
    for width, height in record["images"]:
        assert width > 0 and height > 0
