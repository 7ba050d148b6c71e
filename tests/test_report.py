"""The self-contained HTML report: its content, and a real browser's view of it."""

import base64
import html as html_module
import json
import re
import shutil
import subprocess

import matplotlib.pyplot as plt
import numpy as np
import pytest

import clusterspy
from clusterspy.report import figure_to_png, render_report, write_report
from test_cli import ReportParser, assert_png, embedded_pngs, parse_report

CHROMIUM = shutil.which("chromium")


def parse_report_text(text):
    parser = ReportParser()
    parser.feed(text)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def analysed():
    """A small spectrum image with an estimate (elbow) and a 3-cluster result."""
    s = clusterspy.datasets.spectrum_image(
        shape=(20, 15), n_channels=64, n_phases=3, random_state=3
    )
    s.clusterspy.estimate_number_of_clusters(
        "signal",
        max_clusters=6,
        metric="elbow",
        preprocessing="norm",
        random_state=0,
        show_progressbar=False,
    )
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        n_clusters=3,
        random_state=0,
        show_progressbar=False,
    )
    return s


@pytest.fixture(scope="module")
def report_path(analysed, tmp_path_factory):
    """The report with its default figures, as a notebook would write it."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(
        analysed,
        path,
        info={"Data": {"file": "map <1>.hspy", "lazy": False}},
        files=[("result.hspy", "the result")],
        command="clusterspy run 'map <1>.hspy'",
    )
    return path


def test_report_sections_figures_and_tables(analysed, report_path):
    text = report_path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>\n")
    assert '<meta charset="utf-8">' in text
    report = parse_report(report_path)
    assert report.ids == [
        "overview",
        "sizes",
        "n-clusters",
        "mixtures",
        "counts",  # the generated map holds Poisson counts
        "parameters",
        "versions",
        "figures",
    ]
    pngs = embedded_pngs(report)
    # overview, metric curve, labels, signals, distances
    assert len(pngs) == 5
    alts = [img["alt"] for img in report.images]
    assert alts[0].startswith("Overview: the label map")
    assert alts[1].startswith("Number-of-clusters metric against k")
    result = analysed.clusterspy.result
    cells = report.cells
    assert cells[:3] == ["Cluster", "Positions", "Share"]
    for i, count in enumerate(result.counts):
        j = cells.index(str(i))
        assert cells[j + 1 : j + 3] == [str(count), f"{100 * count / 300:.1f} %"]
    assert cells[cells.index("all") + 1 : cells.index("all") + 3] == ["300", "100.0 %"]
    assert cells[cells.index("file") + 1] == "map <1>.hspy"  # escaped, then parsed
    assert cells[cells.index("preprocessing") + 1] == "norm"
    assert cells[cells.index("estimator") + 1].startswith("KMeans(")
    assert cells[cells.index("metric") + 1] == "elbow"
    assert cells[cells.index("numpy") + 1] == np.__version__
    metric = analysed.clusterspy.get_cluster_metric()
    # The curve's values, the chosen k marked.
    assert cells.count(f"{metric.values[0]:.4g}") == 1
    assert f'<tr class="chosen"><td class="num">{metric.n_clusters}</td>' in text
    assert report.links == ["result.hspy"]
    page = "".join(report.text)
    assert "clusterspy run 'map <1>.hspy'" in page
    assert f"k = {metric.n_clusters}, estimated with the elbow" in page


def test_report_is_self_contained(report_path):
    text = report_path.read_text(encoding="utf-8")
    report = parse_report(report_path)
    tags = {tag for tag, _ in report.tags}
    assert not tags & {"script", "iframe", "object", "embed"}
    assert not re.search(r"\bon\w+\s*=", text)  # no event handlers
    assert "@import" not in text and "url(" not in text
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    for tag, attrs in report.tags:
        if tag in ("img", "link"):
            assert (attrs.get("src") or attrs.get("href")).startswith("data:")


def test_figures_from_bytes_paths_and_figures(analysed, tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1])
    png = figure_to_png(fig, dpi=50)
    assert_png(png)
    path = tmp_path / "f.png"
    path.write_bytes(png)
    fig2, _ = plt.subplots(figsize=(2, 1))
    text = render_report(
        analysed,
        figures={"overview": png, "custom map": path, "extra": fig2},
        metric=False,
    )
    plt.close(fig2)
    report = parse_report_text(text)
    assert len(embedded_pngs(report)) == 3
    assert [img["alt"] for img in report.images][1:] == ["custom map", "extra"]
    assert "n-clusters" in report.ids and "given, not estimated" in text
    with pytest.raises(ValueError, match="not a PNG image"):
        render_report(analysed, figures={"overview": b"GIF89a"}, metric=False)
    with pytest.raises(TypeError, match="PNG bytes, the path of a PNG file"):
        render_report(analysed, figures={"overview": 3}, metric=False)


def test_noise_masked_rows_notes_and_escaping(tmp_path):
    s = clusterspy.datasets.spectrum_image(
        shape=(20, 15), n_channels=64, n_phases=3, random_state=3
    )
    s.metadata.General.title = "<script>alert(1)</script>"
    mask = np.zeros((20, 15), dtype=bool)
    mask[:3, :2] = True
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing="norm",
        algorithm="dbscan",
        eps=0.2,
        min_samples=5,
        navigation_mask=mask,
        show_progressbar=False,
    )
    result = s.clusterspy.result
    assert result.noise_count and result.masked_count
    text = render_report(s, figures={}, notes=["Check <this>."])
    report = parse_report_text(text)
    assert "script" not in {tag for tag, _ in report.tags}
    assert "Cluster analysis: <script>alert(1)</script>" in "".join(report.text)
    cells = report.cells
    assert cells[cells.index("-1 (noise)") + 1] == str(result.noise_count)
    assert cells[cells.index("-2 (masked)") + 1] == str(result.masked_count)
    assert "Check <this>." in "".join(report.text)
    assert report.images == []
    assert "found by the algorithm" in text
    with pytest.raises(RuntimeError, match="No number-of-clusters estimate"):
        render_report(s, figures={}, metric=True)


def test_note_when_k_is_the_largest_tried(analysed):
    s = analysed.deepcopy()
    s.clusterspy.estimate_number_of_clusters(
        "signal",
        max_clusters=3,
        metric="calinski_harabasz",
        preprocessing="norm",
        random_state=0,
        show_progressbar=False,
    )
    assert s.clusterspy.get_cluster_metric().n_clusters == 3
    text = render_report(s, figures={})
    assert "The estimate is the largest k tried" in text


# -- in a real browser -----------------------------------------------------------------------

# Test-only probe, added to a copy of the report: it records script errors and
# each image's natural size into the DOM, which --dump-dom prints. The
# shipped report has no script at all.
PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(String(e.message || (e.target && e.target.tagName) || e.type));
}, true);
window.addEventListener("load", function () {
  var out = {
    images: Array.prototype.map.call(document.images, function (i) {
      return [i.naturalWidth, i.naturalHeight];
    }),
    errors: window.__errors,
    resources: performance.getEntriesByType("resource").map(function (r) {
      return r.name;
    })
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium(tmp_path, url, *options):
    """Run headless Chromium, offline (an unreachable proxy), on a fresh profile."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--proxy-server=http://127.0.0.1:9",
            "--hide-scrollbars",
            *options,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def probe_page(tmp_path, html):
    """Load ``html`` with the probe; return the probe's record and the console."""
    page = tmp_path / "probed.html"
    page.write_text(html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    run = chromium(
        tmp_path,
        page.as_uri(),
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
    )
    assert run.returncode == 0, run.stderr
    match = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.DOTALL)
    assert match, run.stdout[-2000:]
    record = json.loads(html_module.unescape(match.group(1)))
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return record, console


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs a Chromium browser (apt-get install chromium)"
)


@needs_chromium
def test_report_in_a_headless_browser(report_path, tmp_path):
    html = report_path.read_text(encoding="utf-8")
    record, console = probe_page(tmp_path, html)
    assert console == []
    assert record["errors"] == []
    assert record["resources"] == []  # nothing fetched: no network, no files
    n_images = html.count("<img ")
    assert len(record["images"]) == n_images == 5
    for width, height in record["images"]:
        assert width > 0 and height > 0
    # And it renders: a screenshot with the header's colour at the top.
    shot = tmp_path / "shot.png"
    run = chromium(
        tmp_path, report_path.as_uri(), f"--screenshot={shot}", "--window-size=1200,900"
    )
    assert run.returncode == 0, run.stderr
    image = assert_png(shot.read_bytes())
    assert image.shape[:2] == (900, 1200)
    header = (np.asarray(image[20, 600, :3]) * 255).round()
    np.testing.assert_allclose(header, [0x1F, 0x3A, 0x5F], atol=2)


@needs_chromium
def test_the_browser_check_catches_broken_pages(tmp_path):
    # The probe is not vacuous: a broken image, a remote image and a script
    # error are all seen.
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode()
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f'<img src="data:image/png;base64,{png}" alt="">'
        '<img src="http://example.com/x.png" alt="">'
        "<script>undefinedFunction();</script></body></html>"
    )
    record, console = probe_page(tmp_path, html)
    assert any("undefinedFunction" in line for line in console)
    assert record["images"] == [[0, 0], [0, 0]]
    assert "http://example.com/x.png" in record["resources"]
    assert any("undefinedFunction" in e for e in record["errors"])
