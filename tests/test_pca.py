"""The "pca" feature source: clusterspy's own principal-component scores."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
import scipy.linalg
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy.pca import PCA, PCAModel, fit_pca
from conftest import assert_unchanged, snapshot


@pytest.fixture(scope="module")
def four_phases():
    """A 40x32 map, 96 channels, 4 phases: four clear singular values, then noise."""
    return clusterspy.datasets.spectrum_image(
        shape=(40, 32), n_channels=96, n_phases=4, return_truth=True, random_state=0
    )


def _lazy(s, tile=16):
    lazy = s.as_lazy()
    lazy.data = lazy.data.rechunk((tile, tile, -1))
    return lazy


def _angles(a, b):
    return np.degrees(scipy.linalg.subspace_angles(a, b)).max()


def test_eager_scores_are_hyperspy_loadings(four_phases):
    s, _ = four_phases
    model = fit_pca(s.data, 4)
    ref = s.deepcopy()
    ref.change_dtype("float64")
    ref.decomposition(normalize_poissonian_noise=True, print_info=False)
    lr = ref.learning_results
    np.testing.assert_allclose(model.scores, lr.loadings[:, :4], atol=1e-10)
    np.testing.assert_allclose(model.explained_variance, lr.explained_variance[:4])
    np.testing.assert_allclose(
        model.explained_variance_ratio, lr.explained_variance_ratio[:4]
    )
    # HyperSpy's factors are our components with the channel scale folded back in
    np.testing.assert_allclose(
        model.components.T * model.channel_scale[:, None],
        lr.factors[:, :4],
        atol=1e-10,
    )


def test_centred_scores_are_hyperspy_loadings(four_phases):
    s, _ = four_phases
    model = fit_pca(s.data, 3, normalize_poissonian_noise=False, centre="navigation")
    ref = s.deepcopy()
    ref.change_dtype("float64")
    ref.decomposition(centre="navigation", print_info=False)
    np.testing.assert_allclose(
        model.scores, ref.learning_results.loadings[:, :3], atol=1e-8
    )
    lazy = fit_pca(
        da.from_array(s.data, chunks=(16, 16, -1)),
        3,
        normalize_poissonian_noise=False,
        centre="navigation",
    )
    assert _angles(lazy.scores, model.scores) < 1.0


@pytest.mark.parametrize("poisson", [True, False])
def test_lazy_subspace_matches_exact_svd(four_phases, poisson):
    s, _ = four_phases
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    if poisson:
        a, b = X.sum(1), X.sum(0)
        Y = X / np.sqrt(np.outer(a, np.where(b == 0, 1.0, b)))
    else:
        Y = X
    U, S, _ = scipy.linalg.svd(Y, full_matrices=False)
    assert S[3] > 5 * S[4]  # a clear spectrum: four components, then noise
    exact = U[:, :4] * S[:4]
    if poisson:
        exact = exact * np.sqrt(X.sum(1))[:, None]
    model = fit_pca(
        da.from_array(s.data, chunks=(16, 16, -1)),
        4,
        normalize_poissonian_noise=poisson,
        random_state=1,
    )
    assert model.solver == "randomized"
    assert model.passes == 4  # n_iter=3 power iterations, the first with the totals
    assert _angles(model.scores, exact) < 1.0
    np.testing.assert_allclose(model.singular_values, S[:4], rtol=1e-6)
    # the randomized solver on eager data is the same computation
    eager = fit_pca(s.data, 4, normalize_poissonian_noise=poisson, solver="randomized")
    assert _angles(eager.scores, exact) < 1.0


def test_lazy_and_eager_give_the_same_partition(four_phases):
    s, truth = four_phases
    kwargs = dict(number_of_components=4, preprocessing="norm", n_clusters=4)
    lazy_s = _lazy(s)
    before = snapshot(lazy_s)
    s = s.deepcopy()
    s.clusterspy.cluster_analysis("pca", random_state=0, **kwargs)
    eager = s.clusterspy.result
    lazy_s.clusterspy.cluster_analysis("pca", random_state=0, **kwargs)
    lazy = lazy_s.clusterspy.result
    assert adjusted_rand_score(eager.labels, lazy.labels) >= 0.99
    assert adjusted_rand_score(truth.ravel(), lazy.labels) >= 0.99
    assert eager.parameters["pca"]["passes"] == 0
    assert lazy.parameters["pca"]["passes"] == 4
    # cluster signals are the raw spectra, not reconstructions
    X = s.data.reshape(-1, s.data.shape[-1]).astype(np.float64)
    np.testing.assert_allclose(
        lazy.signal_mean[0], X[lazy.labels == 0].mean(axis=0), rtol=1e-10
    )
    del lazy_s.learning_results.clusterspy
    assert_unchanged(lazy_s, before)


def test_reproducible_with_the_seed(four_phases):
    s, _ = four_phases
    data = da.from_array(s.data, chunks=(16, 16, -1))
    a = fit_pca(data, 5, random_state=3)
    b = fit_pca(data, 5, random_state=3)
    c = fit_pca(data, 5, random_state=4)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.components, b.components)
    assert not np.array_equal(a.scores, c.scores)
    # the signal components do not depend on the seed
    assert _angles(a.scores[:, :4], c.scores[:, :4]) < 1.0


def test_transform_and_predict(four_phases):
    s, _ = four_phases
    model = fit_pca(s.data, 4)
    np.testing.assert_allclose(model.transform(s.data), model.scores, atol=1e-10)
    lazy = fit_pca(da.from_array(s.data, chunks=(16, 16, -1)), 4)
    # float32 blocks are multiplied in float32 out of core: 1e-6 of the largest score
    np.testing.assert_allclose(
        lazy.transform(da.from_array(s.data, chunks=(8, 8, -1))),
        lazy.scores,
        atol=1e-6 * np.abs(lazy.scores).max(),
    )
    s = s.deepcopy()
    s.clusterspy.cluster_analysis(
        "pca",
        number_of_components=4,
        preprocessing="norm",
        n_clusters=4,
        random_state=0,
    )
    result = s.clusterspy.result
    predicted = result.predict(s)
    np.testing.assert_array_equal(predicted.data.ravel(), result.labels)
    np.testing.assert_array_equal(result.predict(_lazy(s)).data, predicted.data)


def test_stored_as_plain_arrays(four_phases):
    s, _ = four_phases
    model = fit_pca(s.data, 3)
    stored = model.to_dict()
    assert "scores" not in stored
    arrays = {k: v for k, v in stored.items() if isinstance(v, np.ndarray)}
    assert set(arrays) >= {"components", "singular_values", "channel_scale", "mean"}
    for value in stored.values():
        assert value is None or isinstance(value, (np.ndarray, bool, int, float, str))
    again = PCAModel.from_dict(
        {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in stored.items()}
    )
    np.testing.assert_allclose(again.transform(s.data), model.scores, atol=1e-10)


def test_navigation_mask_excludes_positions_from_the_fit(four_phases):
    s, _ = four_phases
    X = s.data.reshape(-1, s.data.shape[-1])
    keep = np.zeros(X.shape[0], dtype=bool)
    keep[: X.shape[0] // 2] = True
    masked = fit_pca(X, 4, keep=keep)
    subset = fit_pca(X[keep], 4)
    np.testing.assert_allclose(masked.scores[keep], subset.scores, atol=1e-10)
    lazy = fit_pca(da.from_array(s.data, chunks=(16, 16, -1)), 4, keep=keep)
    assert _angles(lazy.scores[keep], subset.scores) < 1.0


def test_signal_mask_as_hyperspy(four_phases):
    s, _ = four_phases
    mask = np.zeros(s.axes_manager.signal_shape, dtype=bool)
    mask[:10] = True
    model = fit_pca(s.data, 3, signal_mask=mask)
    ref = s.deepcopy()
    ref.change_dtype("float64")
    ref.decomposition(
        normalize_poissonian_noise=True, signal_mask=mask, print_info=False
    )
    np.testing.assert_allclose(
        model.scores, ref.learning_results.loadings[:, :3], atol=1e-10
    )


def test_data_never_modified():
    s = clusterspy.datasets.spectrum_image(
        shape=(16, 12), n_channels=32, dtype="uint16", random_state=1
    )
    before = snapshot(s)
    s.clusterspy.cluster_analysis(
        "pca", number_of_components=3, n_clusters=3, random_state=0
    )
    del s.learning_results.clusterspy
    assert_unchanged(s, before)


def test_bad_input():
    s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=16, random_state=0)
    before = snapshot(s)
    ca = s.clusterspy.cluster_analysis
    with pytest.raises(
        ValueError, match=r"`number_of_components` must be in \[1, 16\]"
    ):
        ca("pca", number_of_components=17, n_clusters=2)
    with pytest.raises(ValueError, match="`number_of_components` must be given"):
        ca("pca", n_clusters=2)
    with pytest.raises(TypeError, match="`number_of_components` must be an int"):
        ca("pca", number_of_components=2.5, n_clusters=2)
    with pytest.raises(
        ValueError, match="`number_of_components` must be an int or 'auto', not 'al'"
    ):
        ca("pca", number_of_components="al", n_clusters=2)
    with pytest.raises(ValueError, match="`source_for_centers` cannot be 'pca'"):
        ca("pca", source_for_centers="pca", number_of_components=2, n_clusters=2)
    complex_s = hs.signals.ComplexSignal1D(s.data + 1j * s.data)
    with pytest.raises(TypeError, match="does not decompose complex data"):
        complex_s.clusterspy.cluster_analysis(
            "pca", number_of_components=2, n_clusters=2
        )
    negative = hs.signals.Signal1D(s.data - 5.0)
    with pytest.raises(ValueError, match="needs counts, but the data have negative"):
        negative.clusterspy.cluster_analysis(
            "pca", number_of_components=2, n_clusters=2
        )
    negative.clusterspy.cluster_analysis(
        PCA(normalize_poissonian_noise=False), number_of_components=2, n_clusters=2
    )
    with pytest.raises(ValueError, match="only compatible with `centre=None`"):
        PCA(centre="navigation")
    with pytest.raises(ValueError, match="`n_iter` must be >= 1"):
        PCA(n_iter=0)
    with pytest.raises(ValueError, match="`solver` must be one of"):
        PCA(solver="arpack")
    with pytest.raises(ValueError, match="solver='full' needs the data in memory"):
        fit_pca(da.zeros((4, 4, 8), chunks=2), 2, solver="full")
    with pytest.raises(ValueError, match="`data` has 8 channels"):
        fit_pca(np.ones((10, 4)), 2).transform(np.ones((3, 8)))
    assert_unchanged(s, before)


def test_auto_asks_the_hook(four_phases, monkeypatch):
    from clusterspy import pca

    s, _ = four_phases
    seen = {}

    def choose(explained_variance, n_samples, n_features, poisson_normalised, **kw):
        seen.update(
            n=len(explained_variance),
            n_samples=n_samples,
            n_features=n_features,
            poisson=poisson_normalised,
        )
        # the fit's own counts per position and per channel
        np.testing.assert_allclose(kw["row_sums"], s.data.sum(axis=-1).ravel())
        np.testing.assert_allclose(kw["col_sums"], s.data.sum(axis=(0, 1)))
        return 4

    monkeypatch.setattr(pca, "significant_components", choose)
    model = fit_pca(s.data, "auto")
    assert model.n_components == 4 and model.scores.shape == (40 * 32, 4)
    assert seen == {"n": 50, "n_samples": 40 * 32, "n_features": 96, "poisson": True}
    np.testing.assert_allclose(model.scores, fit_pca(s.data, 4).scores, atol=1e-10)
    s = s.deepcopy()
    s.clusterspy.cluster_analysis(
        "pca", number_of_components="auto", n_clusters=4, random_state=0
    )
    assert s.clusterspy.result.parameters["number_of_components"] == 4


@pytest.fixture(scope="module")
def three_phases():
    return clusterspy.datasets.spectrum_image(
        shape=(24, 24), n_channels=128, n_phases=3, counts=200, return_truth=True,
        random_state=0,
    )


def test_auto_is_the_poisson_null_rule(three_phases):
    from clusterspy.components import significant_components_of

    s, truth = three_phases
    model = fit_pca(s.data, "auto")
    ref = s.deepcopy()
    ref.change_dtype("float64")
    ref.decomposition(normalize_poissonian_noise=True, print_info=False)
    expected = significant_components_of(ref)
    assert model.n_components == expected.n_components == 3
    assert model.scores.shape == (24 * 24, 3) and model.components.shape == (3, 128)
    # same counts and seed as the rule on HyperSpy's decomposition: same edge
    assert model.choice == {
        "n_components": 3,
        "method": "poisson-null",
        "threshold": pytest.approx(expected.threshold, rel=1e-12),
        "at_least": False,
        "computed": 50,
    }
    lazy_model = fit_pca(_lazy(s, tile=8).data, "auto")
    assert lazy_model.choice == model.choice
    assert _angles(lazy_model.components.T, model.components.T) < 1.0
    # recorded with the result; predict projects with the kept components
    c = s.deepcopy()
    c.clusterspy.cluster_analysis(
        "pca", number_of_components="auto", n_clusters=3, random_state=0
    )
    result = c.clusterspy.result
    assert result.parameters["number_of_components"] == 3
    stored = result.parameters["pca"]["model"]
    assert stored["choice"]["method"] == "poisson-null"
    assert np.asarray(stored["components"]).shape == (3, 128)
    labels = result.labels.reshape(-1)
    assert adjusted_rand_score(truth.reshape(-1), labels) == 1.0
    np.testing.assert_array_equal(c.clusterspy.predict(s).data.reshape(-1), labels)


def test_auto_without_poisson_is_the_elbow(three_phases):
    from clusterspy.components import significant_components

    s, _ = three_phases
    model = fit_pca(s.data, "auto", normalize_poissonian_noise=False)
    full = fit_pca(s.data, 50, normalize_poissonian_noise=False)
    expected = significant_components(full.explained_variance, method="elbow")
    assert model.n_components == expected.n_components
    assert model.choice["method"] == "elbow" and model.choice["threshold"] is None


def test_estimate_number_of_clusters_on_pca(four_phases):
    s, _ = four_phases
    s = s.deepcopy()
    k = s.clusterspy.estimate_number_of_clusters(
        "pca",
        number_of_components=4,
        preprocessing="norm",
        max_clusters=6,
        metric="elbow",
        random_state=0,
    )
    assert k == 4


@pytest.mark.parametrize("centre", [None, "navigation"])
def test_float64_data_are_not_modified_without_poisson_scaling(centre):
    # _fit_full once centred float64 data in place (the user's signal)
    s = clusterspy.datasets.spectrum_image(shape=(12, 10), n_channels=24, random_state=0)
    s.change_dtype("float64")
    before = s.data.copy()
    source = clusterspy.PCA(normalize_poissonian_noise=False, centre=centre)
    s.clusterspy.cluster_analysis(
        source, number_of_components=3, n_clusters=3, random_state=0
    )
    np.testing.assert_array_equal(s.data, before)
    model = clusterspy.pca.PCAModel.from_dict(
        s.clusterspy.result.parameters["pca"]["model"]
    )
    result = s.clusterspy.result
    scores = model.transform(s.data.reshape(120, -1))
    for j in range(result.n_clusters):
        np.testing.assert_allclose(
            scores[result.labels == j].mean(axis=0), result.centers[j], atol=1e-8
        )
