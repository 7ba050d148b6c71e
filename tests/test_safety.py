"""Bad input and faults: dtypes, aliasing, early errors, damaged files, interrupts."""

import glob
import os
import signal as signal_module
import threading
import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

import clusterspy
from clusterspy._threads import thread_map
from clusterspy.results import MASKED


@pytest.fixture
def tiny():
    return clusterspy.datasets.spectrum_image(
        shape=(8, 8), n_channels=64, n_phases=3, return_truth=True, random_state=0
    )


# -- numerics ------------------------------------------------------------------------------

DTYPES = [
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float16",
    "float32",
    "float64",
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("preprocessing", [None, "norm", "standard"])
def test_every_dtype_eager_equals_lazy_and_the_float64_reference(
    tiny, dtype, preprocessing
):
    s, truth = tiny
    # counts scaled so that a spectrum's sum of squares exceeds float16's 65504
    data = s.data * 300
    if np.dtype(dtype).kind in "iu":
        data = np.clip(data, 0, min(np.iinfo(dtype).max, 2**20))
    t = hs.signals.Signal1D(data.astype(dtype))
    reference = hs.signals.Signal1D(data.astype(dtype).astype(np.float64))
    labels, means = {}, {}
    for name, u in (("ref", reference), ("eager", t), ("lazy", t.as_lazy())):
        u.clusterspy.cluster_analysis(
            "signal", preprocessing=preprocessing, n_clusters=3, random_state=0
        )
        labels[name] = u.clusterspy.result.labels
        means[name] = u.clusterspy.result.signal_mean
    np.testing.assert_array_equal(labels["eager"], labels["lazy"])
    np.testing.assert_array_equal(labels["ref"], labels["eager"])
    # cluster means accumulated in float64 whatever the dtype
    np.testing.assert_allclose(means["eager"], means["ref"], rtol=1e-12)
    np.testing.assert_allclose(means["lazy"], means["ref"], rtol=1e-12)
    # and predict gives the fitted labels back, in the same dtype
    np.testing.assert_array_equal(t.clusterspy.predict(t).data.ravel(), labels["eager"])


@pytest.mark.parametrize("lazy", [False, True])
def test_complex_data_is_refused(lazy):
    s = hs.signals.ComplexSignal1D(np.ones((4, 5, 8), dtype=complex))
    s = s.as_lazy() if lazy else s
    with pytest.raises(TypeError, match="Complex data cannot be clustered"):
        s.clusterspy.cluster_analysis("signal", n_clusters=2)


def test_predict_refuses_complex_data(tiny):
    s, _ = tiny
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    other = hs.signals.ComplexSignal1D(s.data.astype(complex))
    with pytest.raises(TypeError, match="`signal` has complex data"):
        s.clusterspy.predict(other)


# -- copies at the boundary -------------------------------------------------------------


def test_stored_arrays_never_alias_the_callers_arrays(tiny):
    s, _ = tiny
    signal_mask = np.zeros(64, dtype=bool)
    signal_mask[:4] = True
    navigation_mask = np.zeros((8, 8), dtype=bool)
    navigation_mask[0, 0] = True
    s.clusterspy.cluster_analysis(
        "signal",
        n_clusters=3,
        signal_mask=signal_mask,
        navigation_mask=navigation_mask,
        random_state=0,
    )
    stored = s.learning_results.clusterspy
    for key, value in stored.items():
        if isinstance(value, np.ndarray):
            for theirs in (signal_mask, navigation_mask, s.data):
                assert not np.shares_memory(value, theirs), key
    before = s.clusterspy.result.labels.copy()
    signal_mask[:] = False  # editing the caller's mask afterwards changes nothing
    np.testing.assert_array_equal(s.clusterspy.result.signal_mask[:4], True)
    np.testing.assert_array_equal(s.clusterspy.predict(s).data.ravel()[1:], before[1:])


def test_decomposition_factors_are_copied(tiny):
    s, _ = tiny
    s.decomposition(print_info=False)
    s.clusterspy.cluster_analysis(
        "decomposition", number_of_components=3, n_clusters=3, random_state=0
    )
    stored = s.learning_results.clusterspy["projection_factors"]
    assert not np.shares_memory(stored, s.learning_results.factors)


# -- early, clear errors ----------------------------------------------------------------


BAD_CALLS = [
    (
        {"init": np.zeros((3, 5))},
        ValueError,
        r"`init` must be an array of shape \(n_clusters, n_features\) = \(3, 64\); "
        r"got shape \(3, 5\)",
    ),
    (
        {"engine": "blockwise", "engine_kwargs": {"init_sample_size": 2}},
        ValueError,
        r"`engine_kwargs\['init_sample_size'\]` must be >= n_clusters \(3\)",
    ),
    (
        {"show_progressbar": "yes"},
        TypeError,
        r"`show_progressbar` must be True or False, not 'yes'",
    ),
]


@pytest.mark.parametrize("kwargs,error,message", BAD_CALLS)
def test_bad_arguments_fail_early_with_a_clear_error(tiny, kwargs, error, message):
    s, _ = tiny
    with pytest.raises(error, match=message):
        s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0, **kwargs)
    assert not getattr(s.learning_results, "clusterspy", None)


def test_hdbscan_min_cluster_size_above_the_samples(tiny):
    s, _ = tiny
    with pytest.raises(
        ValueError,
        match=r"`min_cluster_size` must be <= the number of navigation positions "
        r"clustered \(64\); got 100",
    ):
        s.clusterspy.cluster_analysis(
            "signal", algorithm="hdbscan", min_cluster_size=100
        )


@pytest.mark.parametrize("lazy", [False, True])
def test_agglomerative_with_a_distance_threshold_works(tiny, lazy):
    s, truth = tiny
    s = s.as_lazy() if lazy else s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lazy: fitted on a sample
        s.clusterspy.cluster_analysis(
            "signal",
            preprocessing="norm",
            algorithm="agglomerative",
            n_clusters=None,
            distance_threshold=0.5,
            random_state=0,
        )
    r = s.clusterspy.result
    assert r.n_clusters == 3
    assert adjusted_rand_score(truth.ravel(), r.labels) == 1.0
    with pytest.raises(ValueError, match="either `n_clusters` or `distance_threshold`"):
        s.clusterspy.cluster_analysis(
            "signal", algorithm="agglomerative", n_clusters=3, distance_threshold=0.5
        )


def test_huge_max_clusters_fails_before_any_allocation(tiny):
    s, _ = tiny
    with pytest.raises(
        ValueError, match=r"`max_clusters`=10000000000 is larger than the number"
    ):
        clusterspy.estimate_number_of_clusters(s, "signal", max_clusters=10**10)


def test_random_state_object_is_recorded_as_a_reproducible_seed(tiny):
    s, _ = tiny
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=3, random_state=np.random.RandomState(7)
    )
    seed = s.clusterspy.result.parameters["random_state"]
    assert isinstance(seed, int)
    again = s.deepcopy()
    again.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=seed)
    np.testing.assert_array_equal(
        again.clusterspy.result.labels, s.clusterspy.result.labels
    )


def test_predict_nan_rows_follow_the_stored_nan_policy(tiny):
    s, _ = tiny
    s.data[0, 0, 0] = np.nan
    s.clusterspy.cluster_analysis(
        "signal", n_clusters=3, random_state=0, nan_policy="mask"
    )
    labels = s.clusterspy.predict(s).data
    np.testing.assert_array_equal(labels, s.clusterspy.result.label_map)
    assert labels[0, 0] == MASKED
    t, _ = clusterspy.datasets.spectrum_image(
        shape=(8, 8), n_channels=64, return_truth=True, random_state=0
    )
    t.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    with pytest.raises(ValueError, match=r"`signal` has 1 navigation position\(s\)"):
        t.clusterspy.predict(s)


def test_predict_checks_the_signal_shape(tiny):
    s, _ = tiny
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    other = hs.signals.Signal2D(np.ones((4, 8, 8)))
    with pytest.raises(ValueError, match=r"`signal` has signal shape \(8, 8\)"):
        s.clusterspy.predict(other)


# -- damaged files ------------------------------------------------------------------------


def test_a_damaged_zarr_chunk_names_the_file(tiny, tmp_path):
    s, _ = tiny
    path = tmp_path / "damaged.zspy"
    s.save(path, chunks=(4, 4, 64))
    chunks = [
        f
        for f in glob.glob(
            str(path / "Experiments" / "*" / "data" / "**"), recursive=True
        )
        if os.path.isfile(f) and not os.path.basename(f).startswith(".")
    ]
    with open(chunks[0], "wb") as f:
        f.write(b"not a compressed chunk")
    lazy = hs.load(path, lazy=True)
    with pytest.raises(OSError, match=r"Reading the data of '.*damaged\.zspy' failed"):
        lazy.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    with pytest.raises(OSError, match="damaged or unreadable"):
        clusterspy.estimate_number_of_clusters(
            lazy, "signal", max_clusters=3, metric="silhouette"
        )


# -- interrupts -----------------------------------------------------------------------------


def test_thread_map_returns_at_once_on_keyboard_interrupt():
    release = threading.Event()
    finished = []

    def work(i):
        if i == 0:
            raise KeyboardInterrupt
        release.wait(30)  # a long fit, still running when the interrupt comes
        finished.append(i)
        return i

    with pytest.raises(KeyboardInterrupt):
        thread_map(work, range(10), 2)
    assert finished == []  # it did not wait for the running call
    release.set()


class _SlowKMeans(KMeans):
    """Blocks its fit for k = 2 until released; Ctrl-C is sent meanwhile."""

    started = threading.Event()
    release = threading.Event()
    completed = threading.Event()

    def fit(self, X, y=None, sample_weight=None):
        if self.n_clusters == 2:
            type(self).started.set()
            # long enough that only a call that waited for this fit sees it
            # complete, even on a loaded machine
            type(self).release.wait(120)
            type(self).completed.set()
        return super().fit(X, y, sample_weight)


def test_sigint_stops_estimate_number_of_clusters_promptly(tiny):
    s, _ = tiny
    main = threading.main_thread().ident

    def interrupt():
        _SlowKMeans.started.wait(120)
        signal_module.pthread_kill(main, signal_module.SIGINT)

    timer = threading.Thread(target=interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            clusterspy.estimate_number_of_clusters(
                s,
                "signal",
                max_clusters=4,
                metric="silhouette",
                algorithm=_SlowKMeans(n_init=1),
                n_jobs=2,
                random_state=0,
            )
        # raised while the k = 2 fit is still blocked: nothing waited for it
        assert not _SlowKMeans.completed.is_set()
    finally:
        _SlowKMeans.release.set()
        timer.join()


def test_predict_refuses_a_non_signal(tiny):
    s, _ = tiny
    s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    with pytest.raises(TypeError, match="`signal` must be a HyperSpy signal"):
        s.clusterspy.predict(np.ones((4, 64)))


def test_estimate_records_a_random_state_object_as_a_seed(tiny):
    s, _ = tiny
    t = s.deepcopy()
    kwargs = {"max_clusters": 4, "metric": "silhouette", "n_jobs": 1}
    clusterspy.estimate_number_of_clusters(
        s, "signal", random_state=np.random.RandomState(3), **kwargs
    )
    first = clusterspy.get_cluster_metric(s)
    seed = first.parameters["random_state"]
    assert isinstance(seed, int)
    clusterspy.estimate_number_of_clusters(t, "signal", random_state=seed, **kwargs)
    np.testing.assert_array_equal(clusterspy.get_cluster_metric(t).values, first.values)
