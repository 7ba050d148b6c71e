"""Without the compiled loops: the same results, and one INFO line saying so."""

import logging

import numpy as np
from sklearn.cluster import KMeans

from clusterspy import _fallback
from clusterspy.engines import lloyd


def test_missing_loops_are_reported_once_at_info(monkeypatch, caplog):
    monkeypatch.setattr(_fallback, "_reported", False)
    monkeypatch.setattr(lloyd, "AVAILABLE", False)
    X = np.random.default_rng(0).normal(size=(50, 2))
    with caplog.at_level(logging.INFO, logger="clusterspy"):
        # without the loops, callers are told to use scikit-learn
        assert lloyd.kmeans_params(KMeans(3, random_state=0), X) is None
        assert lloyd.kmeans_params(KMeans(4, random_state=0), X) is None
    records = [r for r in caplog.records if r.name == "clusterspy"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert records[0].getMessage().startswith(
        "clusterspy's compiled loops are missing (clusterspy.engines._lloyd was "
        "not built, no C compiler at install?): using the NumPy/scikit-learn "
        "fallbacks, which give the same results more slowly."
    )
    assert _fallback.report_missing_compiled("clusterspy._moments") is False


def test_estimate_without_loops_equals_estimate_with_them(monkeypatch):
    import clusterspy
    from clusterspy.datasets import spectrum_image

    s = spectrum_image((16, 12), n_channels=32, n_phases=3, random_state=2)
    s.decomposition(output_dimension=2, print_info=False)
    kwargs = dict(
        number_of_components=2, max_clusters=4, n_references=3, random_state=0,
        show_progressbar=False,
    )
    with_loops = clusterspy.estimate_number_of_clusters(s, "decomposition", **kwargs)
    curve = s.clusterspy.get_cluster_metric().values.copy()
    monkeypatch.setattr(_fallback, "_reported", True)  # no log in this test
    monkeypatch.setattr(lloyd, "AVAILABLE", False)
    without = clusterspy.estimate_number_of_clusters(s, "decomposition", **kwargs)
    assert without == with_loops
    np.testing.assert_allclose(
        s.clusterspy.get_cluster_metric().values, curve, rtol=1e-9
    )


def test_missing_zarr_names_the_extra(monkeypatch):
    import sys

    import pytest

    monkeypatch.setitem(sys.modules, "zarr", None)  # import zarr raises ImportError
    with pytest.raises(
        ImportError,
        match=r'^Writing \.zspy files needs zarr, an optional dependency: install it '
        r'with `pip install "clusterspy\[zspy\]"` \(or `conda install zarr`\)\.$',
    ):
        _fallback.require_zspy()
