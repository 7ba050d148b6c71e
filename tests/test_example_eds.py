"""The EDS element example runs on the shipped real map, and its generated map's
table names each phase's element."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("exspy")

EXAMPLE = (
    Path(__file__).resolve().parent.parent / "examples" / "eds_element_clusters.py"
)


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("clusterspy_example_eds", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_runs(example, tmp_path):
    numbers = example.main(tmp_path, small=True)
    assert numbers["n_clusters"] == 3
    assert sum(numbers["table"]["pixels"]) == 900
    assert numbers["labelled_lines"]
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "eds_elements_overview.png",
        "eds_elements_log.png",
        "eds_elements_reference.png",
    }
    csv = (tmp_path / "eds_cluster_table.csv").read_text().splitlines()
    assert csv[0].startswith("cluster,pixels,area_fraction") and len(csv) == 4
    assert "<table" in (tmp_path / "eds_cluster_table.html").read_text()


def test_generated_map_table(example):
    from sklearn.metrics import adjusted_rand_score

    s, image = example.generated_map()
    result = example.analyse(s)
    table = s.clusterspy.get_cluster_table()
    assert table.line_names == ["Cu_Ka", "Fe_Ka", "Si_Ka"]
    # each cluster is richest in its own element
    own = np.argmax(np.stack([table[n] for n in table.line_names]), axis=0)
    assert sorted(own.tolist()) == [0, 1, 2]
    assert result.n_clusters == 3
    truth = np.argmax(s.data.reshape(900, -1)[:, [173, 640, 804]], axis=1)
    assert adjusted_rand_score(truth, result.labels) > 0.9
