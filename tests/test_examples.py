"""The example scripts run, write their figures, and give the numbers their
prose claims.

Each script in ``examples/`` exposes ``main(output_dir, small=False,
docs=False)`` returning its numbers; here it runs once per module with
``small=True`` into a temporary folder.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"clusterspy_example_{name}", EXAMPLES / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(name, tmp_path_factory):
    output = tmp_path_factory.mktemp(name)
    numbers = _load(name).main(output, small=True)
    return numbers, output


def _pngs(output):
    return sorted(p.name for p in output.glob("*.png"))


# -- cluster_image_stack.py ------------------------------------------------------------


@pytest.fixture(scope="module")
def image_stack(tmp_path_factory):
    return _run("cluster_image_stack", tmp_path_factory)


def test_image_stack_cosine_groups_by_pattern(image_stack):
    numbers, _ = image_stack
    ari = numbers["ari"]
    # cosine similarity and unit-length / unit-sum scaling: the three patterns
    assert ari["cosine"] == 1.0
    assert ari["norm"] == 1.0
    assert ari["l1"] == 1.0
    assert numbers["counts"] == [30, 30, 30]
    # Euclidean distance mixes the patterns (measured: 0.15)
    assert ari["euclidean"] < 0.5


def test_image_stack_euclidean_groups_by_intensity(image_stack):
    numbers, _ = image_stack
    median = numbers["median_intensity"]["euclidean"]
    # one cluster of quiet images, the others busy (measured: 0.79 vs 3.6-3.9)
    assert max(median) / min(median) > 3.0
    cosine = numbers["median_intensity"]["cosine"]
    assert max(cosine) / min(cosine) < max(median) / min(median)


def test_image_stack_figures(image_stack):
    _, output = image_stack
    assert _pngs(output) == [
        "image_stack_cosine_centroids.png",
        "image_stack_cosine_means.png",
        "image_stack_euclidean_means.png",
        "image_stack_examples.png",
    ]


# -- cluster_digits.py -----------------------------------------------------------------


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return _run("cluster_digits", tmp_path_factory)


def test_digits_kmeans_scores(digits):
    numbers, _ = digits
    kmeans = numbers["kmeans"]
    assert kmeans["matrix"].sum() == 1797
    assert kmeans["n_nonempty"] == 10
    assert 0.75 <= kmeans["purity"] <= 0.83  # measured 0.792
    assert 0.60 <= kmeans["ari"] <= 0.72  # measured 0.666


def test_digits_documented_pipeline(digits):
    numbers, _ = digits
    ward = numbers["ward"]
    assert ward["purity"] >= 0.85  # measured 0.862
    assert ward["n_nonempty"] == 10
    assert ward["purity"] > numbers["kmeans"]["purity"]


def test_digits_score_inequalities(digits):
    numbers, _ = digits
    # A one-to-one matching counts, for each cluster, at most its majority
    # digit, and for each digit at most its best cluster.
    for name in ("kmeans", "ward"):
        score = numbers[name]
        assert 0.1 < score["hungarian"] <= score["purity"] + 1e-12
        assert score["hungarian"] <= score["per_digit_best"] + 1e-12
    # merging is rewarded by the per-digit score, not by the others
    one = numbers["one_cluster"]
    assert one["per_digit_best"] == 1.0
    assert one["purity"] == one["hungarian"] == pytest.approx(183 / 1797)


def test_digits_figures(digits):
    _, output = digits
    assert _pngs(output) == [
        "digits_confusion.png",
        "digits_kmeans_centroids.png",
        "digits_kmeans_means.png",
        "digits_ward_means.png",
    ]


# -- quantize_rgb_image.py -------------------------------------------------------------


@pytest.fixture(scope="module")
def rgb(tmp_path_factory):
    return _run("quantize_rgb_image", tmp_path_factory)


def test_rgb_quantisation(rgb):
    numbers, _ = rgb
    assert numbers["shape"] == (143, 214, 3)  # every third pixel of china.jpg
    k64 = numbers["k64"]
    assert k64["n_pixels"] == 143 * 214
    assert k64["all_assigned"]
    assert k64["n_clusters"] == 64
    assert k64["n_colours"] == 64
    assert k64["mae"] < 7.0  # measured 4.9 (4.5 on the full image), of 255
    k6 = numbers["k6"]
    assert k6["all_assigned"] and k6["n_colours"] == 6
    assert k64["mae"] < k6["mae"] < 20.0  # measured 12.6
    minibatch = numbers["minibatch"]
    assert minibatch["all_assigned"] and minibatch["n_colours"] == 64
    assert abs(minibatch["mae"] - k64["mae"]) < 1.0


def test_rgb_figures(rgb):
    _, output = rgb
    assert _pngs(output) == [
        "rgb_labels_6.png",
        "rgb_palette_64.png",
        "rgb_quantisation.png",
    ]


# -- spatial_clustering.py -------------------------------------------------------------


@pytest.fixture(scope="module")
def spatial(tmp_path_factory):
    return _run("spatial_clustering", tmp_path_factory)


def test_spatial_weight_separates_identical_regions(spatial):
    numbers, _ = spatial
    gmm = numbers["gmm"]
    # two discs of the same red: one colour, so colour alone cannot split them
    assert abs(gmm["colour"]["ari_discs"]) < 0.1
    assert gmm["colour+xy"]["ari_discs"] == 1.0
    assert gmm["colour+xy"]["ari"] == 1.0


def test_ward_grid_clusters_are_contiguous(spatial):
    numbers, _ = spatial
    ward = numbers["ward"]
    assert ward["n_clusters"] == 4
    assert ward["n_regions"] == ward["n_clusters"]
    assert ward["ari"] == 1.0


def test_regions_min_size_drops_specks(spatial):
    numbers, _ = spatial
    regions = numbers["regions"]
    n_specks = numbers["n_specks"]
    assert n_specks == 6
    # background, blue rectangle, two discs, and every speck on its own
    assert regions["n_regions"] == 4 + n_specks
    assert sorted(regions["region_size"])[:n_specks] == [4] * n_specks
    assert regions["n_regions_min_size"] == 4
    assert regions["dropped_pixels"] == numbers["speck_pixels"] == 4 * n_specks
    assert regions["dropped_are_specks"]
    assert (regions["regions_min_size"] == -3).sum() == 4 * n_specks


def test_spatial_figures(spatial):
    _, output = spatial
    assert _pngs(output) == ["spatial_china.png", "spatial_generated.png"]


# -- soft_clustering.py ----------------------------------------------------------------


@pytest.fixture(scope="module")
def soft(tmp_path_factory):
    return _run("soft_clustering", tmp_path_factory)


def _soft_models(numbers):
    models = {f"gmm {cov}": r for cov, r in numbers["gmm"].items()}
    models["fcm"] = numbers["fcm"]
    return models


def test_soft_memberships_sum_to_one(soft):
    numbers, _ = soft
    for name, r in _soft_models(numbers).items():
        # float32 features (a float32 signal's loadings) give float32 sums
        assert r["membership_sum_error"] < 1e-5, name
        assert np.all(r["membership"] >= 0), name


def test_every_covariance_type_recovers_the_phases(soft):
    numbers, _ = soft
    assert sorted(numbers["gmm"]) == ["diag", "full", "spherical", "tied"]
    for name, r in _soft_models(numbers).items():
        assert r["ari_pure"] == 1.0, name
        assert r["ari"] > 0.9, name  # measured 0.927 to 0.959


def test_uncertainty_high_at_boundaries(soft):
    numbers, _ = soft
    for name, r in _soft_models(numbers).items():
        assert r["uncertainty_mixed"] > 0.01, name
        assert r["uncertainty_mixed"] > 5 * r["uncertainty_pure"], name
    # fuzzy c-means: memberships follow the mixing (measured 0.76 vs 0.07)
    assert numbers["fcm"]["uncertainty_mixed"] > 0.5
    assert numbers["fcm"]["uncertainty_pure"] < 0.15


def test_unassigned_pixels_are_boundary_pixels(soft):
    numbers, _ = soft
    for name, r in _soft_models(numbers).items():
        assert r["unassigned_in_pure"] == 0, name
        if r["n_unassigned"]:
            # every unassigned pixel is a true mixture
            assert r["unassigned_max_fraction"] < 0.9, name
    for cov in ("tied", "diag", "spherical"):
        assert numbers["gmm"][cov]["n_unassigned"] > 0
    # fuzzy c-means leaves most of the mixed pixels unassigned
    assert numbers["fcm"]["mixed_unassigned_share"] > 0.7


def test_soft_figures(soft):
    _, output = soft
    assert _pngs(output) == [
        "soft_covariance_types.png",
        "soft_fcm_membership.png",
        "soft_gmm_membership.png",
        "soft_profile.png",
    ]
