"""The fitted model is stored as data: round trips, and crafted files run nothing."""

import io
import os
import pickle
import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import clusterspy
from clusterspy.persistence import UnsafeModelError, dump_model, load_model
from clusterspy.results import ClusterResult

# -- round trips ------------------------------------------------------------------------

CASES = [
    ("kmeans", None, {}),
    ("kmeans", "standard", {"init": "random"}),
    ("minibatchkmeans", "minmax", {}),
    ("gaussian_mixture", "norm", {"covariance_type": "full"}),
    ("birch", "norm", {"threshold": 0.05}),
    ("spherical_kmeans", "sqrt", {}),
    ("fuzzy_cmeans", "anscombe", {}),
    ("agglomerative", None, {}),
    ("kmeans", make_pipeline(StandardScaler()), {}),
]


@pytest.mark.parametrize("algorithm,preprocessing,kwargs", CASES)
@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_predict_after_save_and_load_gives_the_same_labels(
    small, tmp_path, algorithm, preprocessing, kwargs, ext
):
    s, _ = small
    other = clusterspy.datasets.spectrum_image(
        shape=(9, 7), n_channels=64, n_phases=3, random_state=5
    )
    s.clusterspy.cluster_analysis(
        "signal",
        preprocessing=preprocessing,
        algorithm=algorithm,
        n_clusters=3,
        random_state=0,
        **kwargs,
    )
    before = s.clusterspy.predict(other).data
    s.save(tmp_path / f"r.{ext}")
    loaded = hs.load(tmp_path / f"r.{ext}")
    np.testing.assert_array_equal(loaded.clusterspy.predict(other).data, before)
    np.testing.assert_array_equal(
        loaded.clusterspy.predict(s).data, s.clusterspy.result.label_map
    )


@pytest.mark.parametrize("spatial_weight", [None, 0.5])
def test_lazy_fitted_model_round_trips(small, tmp_path, spatial_weight):
    s, _ = small
    lazy = s.as_lazy()
    lazy.clusterspy.cluster_analysis(
        "signal",
        preprocessing="standard",
        n_clusters=3,
        random_state=0,
        spatial_weight=spatial_weight,
        engine="blockwise",  # small lazy data would be clustered in memory
    )
    pre, est = lazy.clusterspy.result.model
    assert type(est).__name__ == "BlockwiseKMeans" and not hasattr(est, "labels_")
    lazy.save(tmp_path / "r.hspy")
    loaded = hs.load(tmp_path / "r.hspy")
    np.testing.assert_array_equal(
        loaded.clusterspy.predict(s).data, lazy.clusterspy.result.label_map
    )


def test_dump_load_keeps_every_fitted_array():
    from sklearn.mixture import GaussianMixture

    X = np.random.default_rng(0).normal(size=(60, 3))
    pre = StandardScaler().fit(X)
    gmm = GaussianMixture(2, random_state=0).fit(pre.transform(X))
    pre2, gmm2 = load_model(dump_model(pre, gmm))
    np.testing.assert_array_equal(pre2.mean_, pre.mean_)
    np.testing.assert_array_equal(gmm2.precisions_cholesky_, gmm.precisions_cholesky_)
    np.testing.assert_array_equal(
        gmm2.predict_proba(pre2.transform(X)), gmm.predict_proba(pre.transform(X))
    )


def test_an_unknown_estimator_class_is_not_stored_and_predict_uses_centres(small):
    from sklearn.cluster import KMeans

    class MyKMeans(KMeans):
        pass

    s, _ = small
    with pytest.warns(UserWarning, match="cannot be stored as data; `predict` will"):
        s.clusterspy.cluster_analysis(
            "signal", algorithm=MyKMeans(3, n_init=1, random_state=0)
        )
    assert s.clusterspy.result.model[1] is None
    np.testing.assert_array_equal(
        s.clusterspy.predict(s).data, s.clusterspy.result.label_map
    )


# -- crafted files ----------------------------------------------------------------------


class _Payload:
    """Unpickling this creates the marker file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _pickle_bytes(marker):
    return np.frombuffer(pickle.dumps(_Payload(marker)), dtype=np.uint8).copy()


def _npz_with_object_array(marker):
    buffer = io.BytesIO()
    spec = np.frombuffer(b'{"version": 1, "estimator": null}', np.uint8)
    obj = np.empty(1, dtype=object)
    obj[0] = _Payload(marker)
    np.savez(buffer, obj, spec=spec)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy()


def _touch_everything(signal, other):
    """Every way a user reads a result; errors are fine, code must not run."""
    calls = [
        lambda: signal.clusterspy.result,
        lambda: signal.clusterspy.result.model,
        lambda: signal.clusterspy.predict(other),
        lambda: signal.clusterspy.get_cluster_labels(),
        lambda: signal.clusterspy.get_cluster_labels(merged=True),
        lambda: signal.clusterspy.get_cluster_signals(),
        lambda: signal.clusterspy.get_cluster_distances(),
        lambda: signal.clusterspy.get_cluster_membership(),
        lambda: signal.clusterspy.get_cluster_regions(),
        lambda: signal.clusterspy.get_cluster_reconstruction(),
        lambda: repr(signal.clusterspy.result),
    ]
    errors = 0
    for call in calls:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call()
        except Exception:  # noqa: BLE001 - any clean error is acceptable here
            errors += 1
    return errors


def _fields(stored):
    return [k for k in stored if k != "format_version"]


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_crafted_result_files_never_run_code(tmp_path, ext):
    s = clusterspy.datasets.spectrum_image(shape=(5, 4), n_channels=8, random_state=0)
    s.clusterspy.cluster_analysis("signal", n_clusters=2, random_state=0)
    good = dict(s.learning_results.clusterspy)
    marker = tmp_path / "marker"
    crafted = {"model": _pickle_bytes(marker)}  # a 0.1.0 file's pickled model
    for key in _fields(good):
        crafted[key] = _pickle_bytes(marker)
    crafted["model_data_object_array"] = _npz_with_object_array(marker)
    tried = 0
    for key, payload in crafted.items():
        # the payload as bytes, and as text where the field is text
        for as_text in (False, True) if isinstance(good.get(key), str) else (False,):
            stored = dict(good)
            if key == "model_data_object_array":
                stored["model_data"] = payload
            else:
                stored[key] = (
                    payload.tobytes().decode("latin-1") if as_text else payload
                )
            target = s.deepcopy()
            target.learning_results.clusterspy = stored
            path = tmp_path / f"c_{key}_{as_text}.{ext}"
            try:
                target.save(path)
            except Exception:  # noqa: BLE001 - HyperSpy may refuse odd text
                continue
            for lazy in (False, True) if ext == "zspy" else (False,):
                loaded = hs.load(path, lazy=lazy)
                _touch_everything(loaded, s)
                tried += 1
                assert not marker.exists(), f"code ran from field {key!r}"
    assert tried >= len(_fields(good))  # every field (zspy: eager and lazy)
    # the payload is live: unpickling it would have created the marker
    pickle.loads(_pickle_bytes(marker).tobytes())  # noqa: S301
    assert marker.exists()


def test_0_1_0_files_load_but_the_pickle_is_never_read(small, tmp_path):
    s, _ = small
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    stored = dict(s.learning_results.clusterspy)
    marker = tmp_path / "marker"
    stored.pop("model_data")
    stored["model"] = _pickle_bytes(marker)
    stored["format_version"] = 1
    s.learning_results.clusterspy = stored
    s.save(tmp_path / "old.hspy")
    loaded = hs.load(tmp_path / "old.hspy")
    result = loaded.clusterspy.result
    np.testing.assert_array_equal(result.labels, s.clusterspy.result.labels)
    loaded.clusterspy.get_cluster_signals()
    with pytest.raises(RuntimeError, match="saved by clusterspy 0.1.0.*never loaded"):
        _ = result.model
    with pytest.raises(RuntimeError, match="saved by clusterspy 0.1.0.*never loaded"):
        loaded.clusterspy.predict(s)
    assert not marker.exists()


def test_load_model_refuses_classes_off_the_allow_list():
    packed = dump_model(StandardScaler().fit(np.ones((3, 2))), None)
    spec = io.BytesIO()
    np.savez(
        spec,
        spec=np.frombuffer(
            b'{"version": 1, "preprocessor": {"class": "os.system", "params": {}}}',
            np.uint8,
        ),
    )
    with pytest.raises(UnsafeModelError, match="not on clusterspy's allow-list"):
        load_model(np.frombuffer(spec.getvalue(), np.uint8))
    assert load_model(packed)[1] is None


def test_stored_object_arrays_are_refused(small):
    s, _ = small
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    stored = dict(s.learning_results.clusterspy)
    stored["centers"] = np.array([object()], dtype=object)
    with pytest.raises(ValueError, match="field 'centers' has dtype object"):
        ClusterResult.from_dict(stored)


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_predict_gives_the_labels_of_a_poisson_normalised_decomposition(tmp_path, ext):
    # The factors of a Poisson-normalised SVD are V * sqrt(channel counts):
    # new data must be projected with weights 1 / counts to get HyperSpy's
    # loadings. Plain least squares gave other labels for 5 % of these
    # positions (15 counts per pixel). With HyperSpy's masks, and after a
    # save and load.
    s = clusterspy.datasets.spectrum_image((40, 30), n_channels=256, n_phases=3,
                                           counts=15, random_state=0)
    s.change_dtype("float64")
    nav = np.zeros((40, 30), dtype=bool)
    nav[:5] = True
    sig = np.zeros(256, dtype=bool)
    sig[:10] = True
    s.decomposition(normalize_poissonian_noise=True, print_info=False,
                    navigation_mask=nav, signal_mask=sig)
    s.clusterspy.cluster_analysis("decomposition", number_of_components=3,
                                  n_clusters=3, navigation_mask=nav,
                                  random_state=0)
    result = s.clusterspy.result
    data = s.data.reshape(-1, 256)[~nav.T.ravel()]
    np.testing.assert_array_equal(result.projection_weights[~sig],
                                  data.sum(axis=0)[~sig])
    assert (result.projection_weights[sig] == 0).all()
    labels = result.label_map
    kept = labels >= 0
    np.testing.assert_array_equal(s.clusterspy.predict(s).data[kept], labels[kept])
    s.save(tmp_path / f"r.{ext}")
    loaded = hs.load(tmp_path / f"r.{ext}")
    np.testing.assert_array_equal(loaded.clusterspy.result.projection_weights,
                                  result.projection_weights)
    np.testing.assert_array_equal(loaded.clusterspy.predict(s).data[kept],
                                  labels[kept])
