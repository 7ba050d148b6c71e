"""Checks of user input, shared by every public entry point.

Each check raises before any work starts, with a message that names the
parameter and says what was expected, in the style of scikit-learn.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "ParameterError",
    "check_signal",
    "check_int",
    "check_bool",
    "check_choice",
    "check_random_state_seed",
    "check_stored_array",
    "as_working_float",
    "check_predict_features",
    "check_predict_signal",
    "check_show_progressbar",
    "check_max_clusters",
    "reads_data",
]


class ParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value.

    Both a ``ValueError`` and a ``TypeError``, as scikit-learn's
    ``InvalidParameterError``: HyperSpy's built-in raises ``ValueError`` for
    a preprocessing or algorithm object it cannot use, where clusterspy's
    checks raised ``TypeError``, so ``except ValueError`` (HyperSpy code) and
    ``except TypeError`` (clusterspy code) both catch it.

    Examples
    --------
    >>> from clusterspy.validation import ParameterError, check_int
    >>> try:
    ...     check_int(2.5, "n_clusters")
    ... except ValueError as err:
    ...     print(err)
    `n_clusters` must be an int, not 2.5.
    """


def check_signal(signal, name="signal"):
    """Raise :class:`ParameterError` (a ``TypeError``) unless ``signal`` is a
    HyperSpy signal.

    Returns the signal, so that it can be used inline.
    """
    from hyperspy.signal import BaseSignal

    if not isinstance(signal, BaseSignal):
        raise ParameterError(
            f"`{name}` must be a HyperSpy signal (hyperspy.api.signals.BaseSignal "
            f"or a subclass), not {type(signal).__name__}."
        )
    return signal


def check_int(value, name, minimum=None, maximum=None, allow_none=False):
    """Return ``value`` as ``int`` after checking its type and range."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "an int" + (" or None" if allow_none else "")
        raise ParameterError(f"`{name}` must be {expected}, not {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"`{name}` must be {bound}, not {value}.")
    if maximum is not None and value > maximum:
        bound = f"<= {maximum}" if minimum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"`{name}` must be {bound}, not {value}.")
    return value


def check_bool(value, name):
    """Return ``value`` after checking that it is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"`{name}` must be True or False, not {value!r}.")
    return bool(value)


def check_choice(value, name, choices):
    """Return ``value`` after checking that it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}.")
    return value


def check_random_state_seed(random_state, draw=False):
    """Return an ``int`` seed or a ``numpy.random.RandomState``.

    ``None`` draws a fresh seed from the operating system's entropy, so that
    the seed actually used can be recorded with the results and the analysis
    repeated exactly. With ``draw=True`` a ``RandomState`` gives an int seed
    drawn from it too (advancing it, as scikit-learn's estimators do): the
    run uses that seed and records it, so passing it as ``random_state``
    repeats the run exactly (a RandomState's own state would not be stored).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.validation import check_random_state_seed
    >>> check_random_state_seed(np.random.RandomState(0), draw=True)
    2357136044
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        if draw:
            return int(random_state.randint(0, 2**32, dtype=np.uint64))
        return random_state
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ParameterError(
            "`random_state` must be None, an int or a numpy.random.RandomState, "
            f"not {random_state!r}."
        )
    if not 0 <= int(random_state) < 2**32:
        raise ValueError(
            f"`random_state` must be in [0, 2**32 - 1], not {random_state}."
        )
    return int(random_state)


def check_stored_array(array, name):
    """Return a stored result's array after checking it holds plain numbers.

    Object arrays (where a pickle could hide) and strings are refused, so that
    a crafted result file cannot smuggle Python objects into a result.
    """
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"The stored clusterspy result field {name!r} has dtype {array.dtype}; "
            "expected numbers (the file is damaged or was not written by "
            "clusterspy)."
        )
    return array


def as_working_float(X, name="signal"):
    """Return features in a dtype that sums of squares cannot overflow.

    Integers and booleans become float64 (as scikit-learn would make them);
    float16 becomes float32, because sums over a row or a cluster exceed
    float16's largest value (65504) for ordinary spectra; float32 and float64
    are returned as they are (no copy). NumPy or dask arrays.

    Raises
    ------
    TypeError
        For complex features, which clustering cannot order.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.validation import as_working_float
    >>> as_working_float(np.ones(2, np.float16)).dtype, as_working_float(np.ones(2, int)).dtype
    (dtype('float32'), dtype('float64'))
    """
    dtype = np.dtype(X.dtype)
    if dtype.kind == "c":
        raise TypeError(
            f"`{name}` has complex data ({dtype}), which cannot be clustered: pass "
            "its `.real`, `.imag`, `.amplitude` or `.phase`."
        )
    if dtype.kind in "biu":
        return X.astype(np.float64)
    if dtype.kind != "f":
        raise TypeError(f"`{name}` must hold numbers, not {dtype} data.")
    if dtype.itemsize < 4:
        return X.astype(np.float32)
    return X


def check_predict_features(X, nan_policy="raise", name="signal"):
    """Check the features ``predict`` is given; return ``(X, finite)``.

    ``X`` comes back in a working float dtype (:func:`as_working_float`);
    ``finite`` marks the rows without NaN or infinity. Non-finite rows follow
    the result's ``nan_policy``: ``"raise"`` raises here, ``"mask"`` lets
    ``predict`` label them ``MASKED`` (their values are replaced by zeros in
    the returned copy, so that no estimator sees them).

    Raises
    ------
    TypeError
        For complex data.
    ValueError
        For non-finite rows under ``nan_policy="raise"``.
    """
    X = as_working_float(np.asarray(X), name)
    finite = np.isfinite(X).all(axis=1)
    if finite.all():
        return X, finite
    if nan_policy != "mask":
        first = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"`{name}` has {int((~finite).sum())} navigation position(s) with NaN or "
            f"infinite values (the first at flat index {first}), and the result was "
            "fitted with nan_policy='raise'; remove them first (for example with "
            "numpy.nan_to_num), or fit with nan_policy='mask' to have them labelled "
            "as masked."
        )
    X = np.where(finite[:, None], X, 0).astype(X.dtype, copy=False)
    return X, finite


def check_predict_signal(result, feature_signal):
    """Raise unless ``feature_signal`` has the clustered signal's signal shape.

    Only checked where the result clustered the signal itself and knows its
    signal axes (``source_for_centers`` was the signal); other sources are
    checked by their number of features.
    """
    params = result.parameters
    if params.get("cluster_source_kind") != "signal" or (
        getattr(result, "centers_source", None) != "signal"
    ):
        return
    expected = tuple(int(a["size"]) for a in result.centers_axes)  # array order
    got = tuple(feature_signal.axes_manager.signal_shape[::-1])
    if got != expected:
        raise ValueError(
            f"`signal` has signal shape {got[::-1]}; the clustered signal had "
            f"{expected[::-1]} (HyperSpy order): `predict` needs the same channels."
        )


def check_show_progressbar(value, name="show_progressbar"):
    """Return ``value`` after checking that it is True, False or None."""
    if value is None:
        return None
    return check_bool(value, name)


def check_max_clusters(max_clusters, signal, name="max_clusters"):
    """Raise unless ``max_clusters`` is at most the signal's navigation size.

    Checked before anything is allocated for the ``k`` range (a huge value
    would otherwise allocate memory in proportion to it).
    """
    n = int(signal.axes_manager.navigation_size)
    if max_clusters > n:
        raise ValueError(
            f"`{name}`={max_clusters} is larger than the number of navigation "
            f"positions to cluster ({n})."
        )
    return max_clusters


# Modules whose errors mean the data could not be read from its file.
_STORAGE_MODULES = ("numcodecs", "zarr", "h5py", "blosc", "hdf5plugin", "rsciio")


def _from_storage(err):
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        tb = err.__traceback__
        while tb is not None:
            module = tb.tb_frame.f_globals.get("__name__", "") or ""
            if module.split(".")[0] in _STORAGE_MODULES:
                return True
            tb = tb.tb_next
        err = err.__cause__ or err.__context__
    return False


def _file_of(signal):
    import os

    tmp = signal.tmp_parameters
    folder = tmp.get_item("folder", "")
    name = tmp.get_item("filename", "")
    if not name:
        return "the signal's file"
    return repr(os.path.join(folder, name + tmp.get_item("extension", "")))


def reads_data(func):
    """Decorate a public function so that unreadable data name their file.

    A lazy signal reads its file while clusterspy computes; a damaged chunk
    then fails deep inside the storage library (a bare "error during blosc
    decompression"). Such errors are re-raised as ``OSError`` naming the
    file and what to do; every other error passes unchanged.
    """
    import functools

    from hyperspy.signal import BaseSignal

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as err:
            if not _from_storage(err):
                raise
            signals = [a for a in (*args, *kwargs.values()) if isinstance(a, BaseSignal)]
            where = _file_of(signals[0]) if signals else "the signal's file"
            raise OSError(
                f"Reading the data of {where} failed ({type(err).__name__}: {err}): "
                "part of the file is damaged or unreadable. Load it again, or copy "
                "it again from its source (`signal.compute()` on the lazy signal "
                "shows whether the whole file can be read)."
            ) from err

    return wrapper
