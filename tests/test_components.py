"""Significant components of a decomposition."""

import numpy as np
import pytest

from clusterspy.components import (
    marchenko_pastur_edge,
    poisson_noise_threshold,
    significant_components,
    significant_components_of,
    warn_too_many_components,
)
from clusterspy.datasets import spectrum_image
from clusterspy.exceptions import DoubtfulEstimateWarning


@pytest.mark.parametrize("n_phases", [2, 3, 4, 5])
def test_rank_of_generated_poisson_maps(n_phases):
    for seed in range(2):
        s = spectrum_image((32, 32), n_channels=256, n_phases=n_phases, counts=200,
                           random_state=seed)
        s.decomposition(normalize_poissonian_noise=True, print_info=False)
        choice = significant_components_of(s, n_draws=3)
        assert choice.method == "poisson-null"
        assert choice.n_components == n_phases


def test_uniform_noise_has_one_component():
    s = spectrum_image((32, 32), n_channels=256, n_phases=1, counts=50, random_state=0)
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    assert significant_components_of(s, n_draws=3).n_components == 1


def test_sparse_map_is_not_over_counted():
    # 3 counts per pixel: isolated counts make large singular values that
    # the Marchenko-Pastur edge calls significant; the simulated null does not.
    s = spectrum_image((32, 32), n_channels=256, n_phases=3, counts=3, random_state=0)
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    ev = s.learning_results.explained_variance
    n, m = 32 * 32, 256
    total = s.data.sum()
    mp = significant_components(ev, n_samples=n, n_features=m,
                                noise_variance=1 / total)
    assert mp.method == "marchenko-pastur" and mp.n_components > 3
    assert significant_components_of(s, n_draws=3).n_components <= 3


def test_poisson_threshold_matches_marchenko_pastur_at_high_counts():
    rng = np.random.default_rng(0)
    x = rng.poisson(200.0, size=(400, 100))
    t = poisson_noise_threshold(x.sum(1), x.sum(0), n_draws=3) * x.sum()
    edge = marchenko_pastur_edge(400, 100, quantile=False)
    assert edge == pytest.approx(2.25)
    assert t == pytest.approx(edge, rel=0.1)


def test_elbow_fallback_without_poisson_normalisation():
    s = spectrum_image((24, 24), n_channels=128, n_phases=3, counts=500, random_state=0)
    s.decomposition(print_info=False)
    choice = significant_components_of(s)
    assert choice.method == "elbow" and choice.threshold is None
    assert choice.n_components == s.estimate_elbow_position() + 1


def test_threshold_counting_and_truncation():
    choice = significant_components([9.0, 4.0, 1.1, 1.0], threshold=2.0)
    assert (choice.n_components, choice.at_least) == (2, False)
    choice = significant_components([9.0, 4.0, 3.0], threshold=2.0)
    assert (choice.n_components, choice.at_least) == (3, True)


def test_more_components_than_significant_warns():
    s = spectrum_image((24, 24), n_channels=128, n_phases=2, counts=200, random_state=0)
    s.decomposition(normalize_poissonian_noise=True, print_info=False)
    choice = significant_components_of(s, n_draws=3)
    assert choice.n_components == 2
    with pytest.warns(DoubtfulEstimateWarning, match="number_of_components=5 but only 2"):
        assert warn_too_many_components(5, choice)
    assert not warn_too_many_components(2, choice)


def test_bad_input():
    s = spectrum_image((8, 8), n_channels=32, random_state=0)
    with pytest.raises(ValueError, match="number_of_components='auto' needs a decomposition"):
        significant_components_of(s)
    with pytest.raises(ValueError, match="`explained_variance` is empty"):
        significant_components([])
    with pytest.raises(ValueError, match="`method` must be one of"):
        significant_components([1.0, 0.5], method="scree")
    with pytest.raises(ValueError, match="needs `n_samples`"):
        significant_components([1.0, 0.5], method="marchenko-pastur")
