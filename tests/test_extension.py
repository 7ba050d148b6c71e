"""The package as HyperSpy sees it: entry point, manifest, accessor."""

import copy
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import hyperspy.api as hs
import numpy as np
import pytest
import yaml

import clusterspy
from clusterspy.accessor import ClusterspyAccessor, register_accessor

REPO = Path(__file__).resolve().parents[1]


def test_entry_point_is_registered():
    eps = importlib.metadata.entry_points(group="hyperspy.extensions")
    ours = [ep for ep in eps if ep.name == "clusterspy"]
    assert len(ours) == 1
    assert ours[0].value == "clusterspy"


def test_manifest_next_to_package_is_the_repository_one():
    installed = Path(clusterspy.__file__).parent / "hyperspy_extension.yaml"
    assert installed.is_file()
    manifest = yaml.safe_load(installed.read_text())
    assert isinstance(manifest, dict) and "signals" in manifest
    root = REPO / "hyperspy_extension.yaml"
    if root.exists():  # running from a checkout: one source of truth
        assert installed.read_text() == root.read_text()


def test_import_hyperspy_api_with_extension_installed():
    # A fresh interpreter: HyperSpy reads every manifest at import time.
    code = (
        "import hyperspy.api as hs, hyperspy.extensions as e, clusterspy;"
        "print(clusterspy.__version__);"
        "print(hasattr(hs.signals.Signal1D([1, 2]), 'clusterspy'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    lines = out.stdout.split()
    assert lines[-1] == "True"
    assert lines[-2] == clusterspy.__version__


def test_accessor_refuses_to_replace_foreign_attribute():
    class Other:
        clusterspy = "someone else's"

    with pytest.raises(AttributeError, match="already has an attribute 'clusterspy'"):
        register_accessor(Other)
    assert Other.clusterspy == "someone else's"


def test_register_is_idempotent():
    from hyperspy.signal import BaseSignal

    before = BaseSignal.__dict__["clusterspy"]
    register_accessor()
    assert BaseSignal.__dict__["clusterspy"] is before
    assert BaseSignal.clusterspy is ClusterspyAccessor


def test_accessor_method_signature_drops_signal():
    import inspect

    params = list(inspect.signature(ClusterspyAccessor.cluster_analysis).parameters)
    assert params[:3] == ["self", "cluster_source", "source_for_centers"]
    assert ClusterspyAccessor.cluster_analysis.__doc__.startswith("Cluster the")


def _signals():
    rng = np.random.default_rng(0)
    spectra = rng.poisson(5, size=(6, 5, 16)).astype(float)
    images = rng.random((12, 4, 4))
    out = {
        "Signal1D": hs.signals.Signal1D(spectra),
        "Signal2D": hs.signals.Signal2D(images),
        "BaseSignal": hs.signals.BaseSignal(spectra).transpose(signal_axes=1),
        "LazySignal1D": hs.signals.Signal1D(spectra).as_lazy(),
        "LazySignal2D": hs.signals.Signal2D(images).as_lazy(),
    }
    return out


@pytest.mark.parametrize("name", list(_signals()))
def test_accessor_on_every_signal_class(name):
    s = _signals()[name]
    assert isinstance(s.clusterspy, ClusterspyAccessor)
    s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    labels = s.clusterspy.get_cluster_labels(merged=True)
    assert labels.data.shape == s.axes_manager.navigation_shape[::-1]
    assert set(np.unique(labels.data)) <= {0, 1}


@pytest.mark.parametrize(
    "signal_type, cls_name",
    [
        ("EDS_SEM", "EDSSEMSpectrum"),
        ("EELS", "EELSSpectrum"),
        ("EDS_TEM", "EDSTEMSpectrum"),
    ],
)
@pytest.mark.parametrize("lazy", [False, True])
def test_extension_classes_keep_their_class(signal_type, cls_name, lazy):
    pytest.importorskip("exspy")
    s = clusterspy.datasets.spectrum_image(
        shape=(8, 6), n_channels=32, signal_type=signal_type, random_state=0, lazy=lazy
    )
    assert type(s).__name__ == ("Lazy" if lazy else "") + cls_name
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    for kind in ("mean", "sum", "centroid", "std"):
        cs = s.clusterspy.get_cluster_signals(kind)
        assert type(cs).__name__ == cls_name  # eager cluster signals
        assert cs.axes_manager.signal_axes[0].units == "keV"
        assert cs.metadata.Signal.signal_type == s.metadata.Signal.signal_type


def test_accessor_after_deepcopy_inav_transpose(small):
    s, _ = small
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    labels = s.clusterspy.result.labels

    d = copy.deepcopy(s)
    np.testing.assert_array_equal(d.clusterspy.result.labels, labels)

    cropped = s.inav[:10]
    with pytest.raises(RuntimeError, match="No clusterspy results"):
        _ = cropped.clusterspy.result
    cropped.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    assert cropped.clusterspy.result.labels.shape == (10 * 15,)

    t = s.T  # navigation is now the energy axis: old results must not be used
    with pytest.raises(RuntimeError, match="navigation shape"):
        t.clusterspy.get_cluster_labels()
    t.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    assert t.clusterspy.result.labels.shape == (64,)


def test_accessor_after_save_load(small, tmp_path):
    s, _ = small
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    s.save(tmp_path / "s.hspy")
    loaded = hs.load(tmp_path / "s.hspy")
    np.testing.assert_array_equal(
        loaded.clusterspy.get_cluster_labels(merged=True).data,
        s.clusterspy.get_cluster_labels(merged=True).data,
    )


def test_functions_equal_methods(small):
    s, _ = small
    clusterspy.cluster_analysis(s, "signal", n_clusters=3, random_state=0)
    np.testing.assert_array_equal(
        clusterspy.get_cluster_labels(s, merged=True).data,
        s.clusterspy.get_cluster_labels(merged=True).data,
    )
    np.testing.assert_array_equal(
        clusterspy.get_cluster_signals(s, "sum").data,
        s.clusterspy.get_cluster_signals(signal="sum").data,
    )
