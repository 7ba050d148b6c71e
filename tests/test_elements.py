"""Element-aware cluster spectra: line markers, labels, bands, ranges."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

import clusterspy  # noqa: E402
from clusterspy.plotting import plot_cluster_results, plot_cluster_signals  # noqa: E402
from clusterspy.plotting.elements import (  # noqa: E402
    counts_range,
    plural,
    signal_lines,
    spread_band,
)

exspy = pytest.importorskip("exspy")

# Line energies (keV) of exspy's database, written out: the test checks that
# the markers are drawn where the database puts them.
ENERGIES = {"Si_Ka": 1.7397, "Fe_Ka": 6.4039, "Cu_Ka": 8.0478}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def eds_map(shape=(12, 10), lazy=False):
    """A 3-phase EDS map: phase p has a strong line of one element (Si, Fe,
    Cu) on a weak common background, Poisson counts, energies in keV."""
    rng = np.random.default_rng(0)
    n_channels = 2048
    energy = np.arange(n_channels) * 0.01
    lines = list(ENERGIES.values())
    phases = np.zeros((3, n_channels))
    for p in range(len(lines)):
        for q, e2 in enumerate(lines):
            height = 40.0 if p == q else 4.0
            phases[p] += height * np.exp(-0.5 * ((energy - e2) / 0.06) ** 2)
        # bremsstrahlung up to the 15 keV beam energy, none above
        phases[p] += 0.5 * np.exp(-energy / 4) * (energy < 15.0)
    labels = np.repeat(np.arange(3), -(-shape[0] * shape[1] // 3))[
        : shape[0] * shape[1]
    ]
    data = rng.poisson(phases[labels]).reshape(shape[1], shape[0], n_channels)
    s = exspy.signals.EDSSEMSpectrum(data.astype(np.uint16))
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units, ax.name = 0.01, 0.0, "keV", "Energy"
    s.set_microscope_parameters(beam_energy=15.0, energy_resolution_MnKa=130.0)
    s.add_elements(["Si", "Fe", "Cu"])
    s.add_lines(list(ENERGIES))
    if lazy:
        s = s.as_lazy()
    return s, labels


@pytest.fixture(scope="module")
def eds():
    s, truth = eds_map()
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    return s


def markers(ax):
    return {
        line.get_gid().split(":", 1)[1]: line.get_xdata()[0]
        for line in ax.lines
        if (line.get_gid() or "").startswith("element-line:")
    }


def test_signal_lines_from_exspy():
    s, _ = eds_map((3, 2))
    assert signal_lines(s) == pytest.approx(ENERGIES)
    s.axes_manager.signal_axes[0].units = "eV"
    assert signal_lines(s) == pytest.approx({k: v * 1000 for k, v in ENERGIES.items()})
    del s.metadata.Sample.xray_lines
    # elements only: the main line of each family the 15 keV beam excites
    lines = signal_lines(s)
    assert lines["Fe_Ka"] == pytest.approx(6403.9)
    assert "Fe_La" in lines and "Cu_La" in lines
    s.metadata.Signal.signal_type = ""
    assert signal_lines(clusterspy.datasets.spectrum_image((3, 2), 16, random_state=0)) == {}


def test_eels_edges():
    s = exspy.signals.EELSSpectrum(np.ones((2, 800)))
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units = 1.0, 200.0, "eV"
    s.add_elements(["Fe", "O"])
    lines = signal_lines(s)
    assert lines["Fe_L3"] == pytest.approx(708.0)
    assert lines["O_K"] == pytest.approx(532.0)


def test_line_markers_at_exspy_energies(eds):
    ax = plot_cluster_signals(eds, "mean").axes[0]
    assert markers(ax) == pytest.approx(ENERGIES)
    # the three lines are the ones differing between the clusters: all named
    labels = {t.get_gid() for t in ax.texts}
    assert labels == {f"element-label:{name}" for name in ENERGIES}
    ax = plot_cluster_signals(eds, "mean", label_lines=1).axes[0]
    assert len(ax.texts) == 1
    ax = plot_cluster_signals(eds, "mean", element_lines=False).axes[0]
    assert markers(ax) == {}
    fig = plot_cluster_results(eds)
    assert markers(fig.axes[1]) == pytest.approx(ENERGIES)


def test_count_band_never_below_zero(eds):
    for spread in ("auto", "quantile", "poisson", "std"):
        ax = plot_cluster_signals(eds, "mean", spread=spread).axes[0]
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 3
        for band in bands:
            assert band.get_paths()[0].vertices[:, 1].min() >= 0
    assert "16–84 %" in plot_cluster_signals(eds).axes[0].get_title()
    lazy, _ = eds_map(lazy=True)
    lazy.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    ax = plot_cluster_signals(lazy, "mean").axes[0]
    assert "Poisson" in ax.get_title()
    for band in [c for c in ax.collections if isinstance(c, PolyCollection)]:
        assert band.get_paths()[0].vertices[:, 1].min() >= 0
    with pytest.raises(ValueError, match="in memory"):
        plot_cluster_signals(lazy, "mean", spread="quantile")


def test_quantile_band_values(eds):
    result = clusterspy.get_cluster_result(eds)
    ax = plot_cluster_signals(eds, "mean", signal_range=(0, 20.47)).axes[0]
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
    members = eds.data.reshape(-1, 2048)[result.labels == 0].astype(float)
    low, high = np.quantile(members, [0.15865, 0.84135], axis=0)
    y = band.get_paths()[0].vertices[:, 1]
    assert y.min() == pytest.approx(low.min())
    assert y.max() == pytest.approx(high.max())


def test_spread_band_poisson():
    low, high = spread_band("poisson", np.array([0.0, 1.0, 100.0]))
    np.testing.assert_array_equal(low, [0, 0, 90])
    np.testing.assert_array_equal(high, [0, 2, 110])


def test_counts_range_and_log_scale(eds):
    ax = plot_cluster_signals(eds, "mean").axes[0]
    low, high = ax.get_xlim()
    # 99 % of the counts and every line: the faint tail up to the beam
    # energy and the empty channels above are cut, and so is the zero-energy
    # peak region below 0.1 keV
    assert 0.1 <= low < 1.7 and ENERGIES["Cu_Ka"] < high < 12.0
    ax = plot_cluster_signals(eds, "mean", log_scale=True).axes[0]
    assert ax.get_yscale() == "log"
    x = np.linspace(0, 10, 11)
    assert counts_range(x, -np.ones(11)) is None
    with pytest.raises(ValueError, match="spread"):
        plot_cluster_signals(eds, spread="sigma")


def test_plural():
    assert plural(1, "cluster") == "1 cluster"
    assert plural(3, "cluster") == "3 clusters"


def test_quantile_band_in_channel_blocks(eds, monkeypatch):
    """Members are read in blocks of channels: the same band."""
    from matplotlib.collections import PolyCollection as Poly

    import clusterspy.plotting.signals as signals_module

    def band_paths():
        ax = plot_cluster_signals(eds, "mean").axes[0]
        return [
            c.get_paths()[0].vertices for c in ax.collections if isinstance(c, Poly)
        ]

    whole = band_paths()
    monkeypatch.setattr(signals_module, "_BLOCK_VALUES", 1000)
    for a, b in zip(whole, band_paths(), strict=True):
        np.testing.assert_array_equal(a, b)
