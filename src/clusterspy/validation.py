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
        raise ParameterError(
            "`random_state` must be None, an int or a numpy.random.RandomState, "
            f"not {random_state!r}."
        )
    if not 0 <= int(random_state) < 2**32:
        raise ValueError(
            f"`random_state` must be in [0, 2**32 - 1], not {random_state}."
        )
    return int(random_state)
