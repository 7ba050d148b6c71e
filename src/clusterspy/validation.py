"""Checks of user input, shared by every public entry point.

Each check raises before any work starts, with a message that names the
parameter and says what was expected, in the style of scikit-learn.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_signal",
    "check_int",
    "check_bool",
    "check_choice",
    "check_random_state_seed",
    "check_stored_array",
]


def check_signal(signal, name="signal"):
    """Raise ``TypeError`` unless ``signal`` is a HyperSpy signal.

    Returns the signal, so that it can be used inline.
    """
    from hyperspy.signal import BaseSignal

    if not isinstance(signal, BaseSignal):
        raise TypeError(
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
        raise TypeError(f"`{name}` must be {expected}, not {value!r}.")
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
        raise TypeError(f"`{name}` must be True or False, not {value!r}.")
    return bool(value)


def check_choice(value, name, choices):
    """Return ``value`` after checking that it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}.")
    return value


def check_random_state_seed(random_state):
    """Return an ``int`` seed or a ``numpy.random.RandomState``.

    ``None`` draws a fresh seed from the operating system's entropy, so that
    the seed actually used can be recorded with the results and the analysis
    repeated exactly.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
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
