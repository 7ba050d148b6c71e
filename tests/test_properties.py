"""Property-based checks of ``cluster_analysis`` over arguments, dtypes and chunkings.

Every generated call either raises a clear error from clusterspy's own
validation (a ``ValueError``/``TypeError`` raised in clusterspy, naming the
parameter in backticks), the same for the eager and the lazy signal, or gives
the eager reference's labels lazily too; the signal is never modified, and the
stored result shares no memory with the caller's arrays.
"""

import traceback
import warnings

import hyperspy.api as hs
import numpy as np
import pytest

from conftest import snapshot

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

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

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples every run: no flaky CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _assert_unchanged(signal, before):
    """The data, axes and metadata as before (results may have been added)."""
    after = snapshot(signal)
    np.testing.assert_array_equal(after["data"], before["data"])
    for key in ("dtype", "shape", "axes", "metadata", "class"):
        assert after[key] == before[key], key


def _raised_by_clusterspy(err):
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and "clusterspy" in frames[-1].filename.replace("\\", "/")


def _mask(draw, shape, valid):
    kind = draw(
        st.sampled_from(["none"] * 4 + ["valid"] * 4 + ["wrong_shape", "all", "list"])
    )
    if kind == "none":
        return None
    if kind == "all":
        return np.ones(shape, dtype=bool)
    if kind == "wrong_shape":
        return np.zeros(tuple(n + 1 for n in shape), dtype=bool)
    # mostly False: a mask that leaves something to cluster
    mask = np.array(
        draw(
            st.lists(
                st.sampled_from([False, False, False, True]),
                min_size=valid,
                max_size=valid,
            )
        ),
        dtype=bool,
    ).reshape(shape)
    return mask.tolist() if kind == "list" else mask


@st.composite
def calls(draw):
    nx = draw(st.integers(1, 6))
    ny = draw(st.integers(1, 5))
    channels = draw(st.integers(2, 6))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    # well-separated groups, so that the clustering itself has no ties
    groups = rng.integers(0, 3, size=(ny, nx))
    data = 20.0 * groups[..., None] + rng.random((ny, nx, channels))
    if draw(st.booleans()):
        data[rng.integers(ny), rng.integers(nx), rng.integers(channels)] = np.nan
    if np.dtype(dtype).kind in "iu":
        data = np.nan_to_num(data) * 2
    data = data.astype(dtype)

    def pick(good, bad):
        # mostly valid values, so that most examples reach the clustering
        if draw(st.integers(0, 9)) < 8:
            return draw(good)
        return draw(bad)

    kwargs = {
        "n_clusters": pick(
            st.integers(1, 4), st.sampled_from([-1, 0, 50, None, 2.5, "3", True])
        ),
        "preprocessing": pick(
            st.sampled_from([None, "norm", "standard", "minmax", "sqrt"]),
            st.sampled_from(["bogus", 3, {"a": 1}]),
        ),
        "nan_policy": pick(st.just("mask"), st.sampled_from(["raise", "ignore"])),
        "navigation_mask": _mask(draw, (nx, ny), ny * nx),  # HyperSpy order
        "signal_mask": _mask(draw, (channels,), channels),
        "random_state": pick(
            st.integers(0, 2**32 - 1), st.sampled_from([-1, "seed", 1.5])
        ),
        "show_progressbar": pick(st.sampled_from([False, None]), st.just("yes")),
    }
    if draw(st.integers(0, 9)) == 0:
        kwargs["algorithm"] = draw(st.sampled_from(["bogus", 3]))
    chunks = (draw(st.integers(1, ny)), draw(st.integers(1, nx)), channels)
    return data, kwargs, chunks


def _run(signal, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            signal.clusterspy.cluster_analysis("signal", **kwargs)
        except (ValueError, TypeError) as err:
            assert _raised_by_clusterspy(err), "".join(traceback.format_exception(err))
            # a parameter named, or the data-dependent "too few positions"
            assert "`" in str(err) or "navigation position" in str(err), err
            return err
    return None


def _inertia(result):
    kept = result.labels >= 0
    own = result.distances[kept, result.labels[kept]]
    return float(np.sum(own.astype(np.float64) ** 2))


def _no_aliasing(signal, kwargs):
    stored = signal.learning_results.clusterspy
    theirs = [signal.data] + [v for v in kwargs.values() if isinstance(v, np.ndarray)]
    for key, value in stored.items():
        if isinstance(value, np.ndarray):
            for other in theirs:
                assert not np.shares_memory(value, other), key


@SETTINGS
@given(calls())
def test_clear_error_or_the_eager_result(call):
    data, kwargs, chunks = call
    eager = hs.signals.Signal1D(data.copy())
    lazy = hs.signals.Signal1D(data.copy()).as_lazy()
    lazy.data = lazy.data.rechunk(chunks)
    before_eager, before_lazy = snapshot(eager), snapshot(lazy)
    err_eager = _run(eager, kwargs)
    err_lazy = _run(lazy, kwargs)
    _assert_unchanged(eager, before_eager)
    _assert_unchanged(lazy, before_lazy)
    if err_eager is not None or err_lazy is not None:
        assert type(err_eager) is type(err_lazy), (err_eager, err_lazy)
        assert str(err_eager) == str(err_lazy)
        assert not getattr(eager.learning_results, "clusterspy", None)
        return
    a, b = eager.clusterspy.result, lazy.clusterspy.result
    if not np.array_equal(a.labels, b.labels):
        # only an exact tie may differ: equally good clusterings
        assert _inertia(a) == pytest.approx(_inertia(b), rel=1e-6, abs=1e-9)
    _no_aliasing(eager, kwargs)
    _no_aliasing(lazy, kwargs)
