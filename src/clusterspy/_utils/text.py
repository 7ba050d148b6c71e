"""Numbers in text: percentages as people write them."""

from __future__ import annotations

import math

__all__ = ["format_percent"]


def format_percent(fraction, error=None, digits=1):
    """A fraction as a percentage for text: ``"12.3 %"``, ``"<0.1 %"``,
    ``"0 %"``, ``"12.3 % ± 0.4 %"``.

    Parameters
    ----------
    fraction : float
        Between 0 and 1.
    error : float or None
        Uncertainty of ``fraction`` (same units), shown after ``±``.
    digits : int
        Decimals of the percentage.

    Examples
    --------
    >>> from clusterspy._utils.text import format_percent
    >>> format_percent(0.1234), format_percent(0.0004), format_percent(0.0)
    ('12.3 %', '<0.1 %', '0 %')
    >>> format_percent(0.5, 0.012)
    '50.0 % ± 1.2 %'
    """
    if fraction is None or not math.isfinite(fraction):
        return "n/a"
    smallest = 10.0**-digits

    def one(value):
        percent = 100.0 * value
        if percent == 0:
            return "0 %"
        if 0 < percent < smallest:
            return f"<{smallest:.{digits}f} %"
        if 100 - smallest < percent < 100:
            return f">{100 - smallest:.{digits}f} %"
        return f"{percent:.{digits}f} %"

    text = one(fraction)
    if error is not None and math.isfinite(error):
        text += f" ± {one(error)}"
    return text
