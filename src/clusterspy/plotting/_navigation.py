"""Maps of the navigation space: the 1-D or 2-D slice shown
(:class:`_NavigationView`), drawn in calibrated axes, and line-scan curves."""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_int
from ._common import _axis_label, _cluster_name, _edges, _new_figure, _per_row, _text


class _NavigationView:
    """The 1-D or 2-D part of the navigation space that a map shows.

    With three or more navigation dimensions, ``navigation_index`` gives the
    indices of the navigation axes beyond the first two (HyperSpy order);
    ``None`` takes their current indices (the navigator's position).
    """

    def __init__(self, signal, navigation_index=None):
        axes = signal.axes_manager.navigation_axes
        self.x = axes[0]
        self.y = axes[1] if len(axes) > 1 else None
        extra = axes[2:]
        self.index = ()
        self.description = ""
        if not extra:
            if navigation_index is not None:
                raise ValueError(
                    "`navigation_index` selects a 2-D slice of a signal with 3 or "
                    f"more navigation dimensions; this one has {len(axes)}."
                )
            return
        if navigation_index is None:
            index = [axis.index for axis in extra]
        else:
            index = list(np.atleast_1d(navigation_index).tolist())
        if len(index) != len(extra):
            raise ValueError(
                f"`navigation_index` must give {len(extra)} index(es), one for each "
                "navigation axis beyond the first two (HyperSpy order); got "
                f"{navigation_index!r}."
            )
        for n, (i, axis) in enumerate(zip(index, extra, strict=True)):
            i = check_int(
                i, "navigation_index", minimum=-axis.size, maximum=axis.size - 1
            )
            index[n] = i % axis.size
        self.index = tuple(index)
        self.description = ", ".join(
            f"{_text(axis.name) or f'axis {n + 2}'} = {axis.axis[i]:.4g}"
            + (f" {_text(axis.units)}" if _text(axis.units) else "")
            for n, (i, axis) in enumerate(zip(self.index, extra, strict=True))
        )

    @property
    def is_line(self):
        return self.y is None

    def __call__(self, data):
        """The shown slice of ``data``, shaped ``(..., navigation shape)``
        in data order (extra axes lead, in reverse HyperSpy order)."""
        data = np.asarray(data)
        if not self.index:
            return data
        return data[(Ellipsis,) + self.index[::-1] + (slice(None), slice(None))]

    def title(self, text):
        return f"{text}\n{self.description}" if self.description else text

    def panel_size(self, width=3.6):
        """(width, height) in inches of one map panel, following its aspect."""
        if self.is_line:
            return width * 2, 1.0
        x0, x1 = _edges(self.x)
        y0, y1 = _edges(self.y)
        ratio = abs(y1 - y0) / abs(x1 - x0) if self._same_units() else 1.0
        ratio = float(np.clip(ratio, 0.3, 2.5))
        return width, width * ratio

    def _same_units(self):
        return _text(self.x.units) == _text(self.y.units)


def _show_map(ax, view, data, **imshow_kwargs):
    """Draw one navigation map (or line-scan strip) in calibrated axes."""
    imshow_kwargs.setdefault("interpolation", "nearest")
    x0, x1 = _edges(view.x)
    if view.is_line:
        # A one-row image: a line scan's labels read as a coloured strip.
        image = ax.imshow(
            np.asarray(data)[None, :],
            extent=(x0, x1, 0, 1),
            aspect="auto",
            origin="lower",
            **imshow_kwargs,
        )
        ax.set_yticks([])
    else:
        y0, y1 = _edges(view.y)
        # origin="upper" with the first row at y0: HyperSpy's orientation.
        image = ax.imshow(
            data,
            extent=(x0, x1, y1, y0),
            origin="upper",
            aspect="equal" if view._same_units() else "auto",
            **imshow_kwargs,
        )
        ax.set_ylabel(_axis_label(view.y, "y"))
    ax.set_xlabel(_axis_label(view.x, "x"))
    return image


def _map_figure(view, n_panels, per_row, colorbars=1):
    # Strips of a line scan stack best one above the other.
    per_row = 1 if view.is_line else _per_row(per_row, n_panels)
    ncols = min(n_panels, per_row)
    nrows = math.ceil(n_panels / ncols)
    width, height = view.panel_size(3.2)
    return _new_figure(
        (ncols * (width + 0.5) + 1.2 * colorbars, nrows * (height + 0.9))
    ), per_row


def _draw_curves(ax, view, maps, result, colors, ids):
    """One curve per cluster along a line scan."""
    x = np.asarray(view.x.axis, dtype=float)
    for i in ids:
        ax.plot(x, maps[i], color=colors[i], label=_cluster_name(result, i))
    ax.set_xlim(x.min(), x.max())
    ax.set_xlabel(_axis_label(view.x, "x"))
    ax.legend(fontsize="small", frameon=False, loc="best")
