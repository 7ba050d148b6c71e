"""Soft memberships and their uncertainty: :func:`plot_cluster_membership`
and :func:`membership_uncertainty`."""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_choice
from ._common import (
    _axis_label,
    _cluster_name,
    _frame,
    _new_figure,
    _panel_grid,
    _start,
)
from ._navigation import _draw_curves, _map_figure, _NavigationView, _show_map
from .colors import _continuous_cmap

__all__ = ["membership_uncertainty", "plot_cluster_membership"]

_UNCERTAINTIES = ("entropy", "max_probability")
# How the uncertainty map is titled.
_UNCERTAINTY_NAMES = {"entropy": "entropy", "max_probability": "1 - max. probability"}


def membership_uncertainty(membership, kind="entropy"):
    """Uncertainty of soft cluster assignments, between 0 and 1.

    Parameters
    ----------
    membership : numpy.ndarray, shape (n_clusters, ...)
        Membership probabilities, summing to 1 over the first axis.
    kind : {"entropy", "max_probability"}
        ``"entropy"``: Shannon entropy of the memberships divided by
        ``log(n_clusters)``: 0 when one cluster has probability 1, 1 when
        all are equally likely. ``"max_probability"``: ``1 -`` the largest
        membership: the chance that the hard label is wrong, if the
        probabilities are calibrated.

    Returns
    -------
    numpy.ndarray
        Shape ``membership.shape[1:]``; NaN where the memberships are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterspy.plotting import membership_uncertainty
    >>> membership_uncertainty(np.array([[1.0, 0.5], [0.0, 0.5]])).tolist()
    [0.0, 1.0]
    """
    check_choice(kind, "uncertainty", _UNCERTAINTIES)
    p = np.asarray(membership, dtype=float)
    if kind == "max_probability":
        return 1.0 - p.max(axis=0)
    k = p.shape[0]
    if k < 2:
        return np.where(np.isnan(p[0]), np.nan, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 log 0 = 0; NaN memberships (masked positions) stay NaN.
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    # 0.0 - x rather than -x: no -0.0 for certain positions.
    entropy = (0.0 - terms.sum(axis=0)) / math.log(k)
    return np.where(np.isnan(p).any(axis=0), np.nan, np.clip(entropy, 0.0, 1.0))


def plot_cluster_membership(
    signal,
    cluster_ids=None,
    navigation_index=None,
    uncertainty="entropy",
    cmap=None,
    image_cmap="viridis",
    uncertainty_cmap="magma",
    per_row=None,
):
    """Plot soft memberships: one probability map per cluster and an
    uncertainty map.

    Memberships come from algorithms with ``predict_proba`` (such as
    ``algorithm="gaussian_mixture"``). Membership maps share the scale 0..1.
    The uncertainty map says where the assignment is doubtful, for example
    at phase boundaries; see :func:`membership_uncertainty`.

    Parameters
    ----------
    signal : BaseSignal
        A signal on which ``cluster_analysis`` was run with soft clustering.
    cluster_ids : None, int or list of int
        All clusters (None), the first ``n`` or the listed ids.
    navigation_index : None, int or tuple of int
        The 2-D slice shown with 3 or more navigation dimensions, see
        :func:`plot_cluster_labels`.
    uncertainty : {"entropy", "max_probability"} or None
        ``"entropy"`` (default): normalised entropy of the memberships;
        ``"max_probability"``: one minus the largest membership; None: no
        uncertainty map. Both are computed over all clusters.
    cmap : None, str, Colormap or list of colours
        Cluster colours, see :func:`cluster_colors`.
    image_cmap, uncertainty_cmap : str or Colormap
        Colormaps of the membership and uncertainty maps.
    per_row : int or None
        Maps per row; None (default): up to 5 in
        one row, else rows of at most 4.

    Returns
    -------
    matplotlib.figure.Figure
        Membership maps, then the uncertainty map, then colour bars; a line
        scan gives membership curves and an uncertainty curve below them.

    Raises
    ------
    RuntimeError
        If the algorithm gave no soft memberships.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(16, 12), n_channels=64)
    >>> s.clusterspy.cluster_analysis("signal", preprocessing="norm",
    ...     algorithm="gaussian_mixture", n_clusters=3,
    ...     covariance_type="diag", random_state=0)
    >>> fig = clusterspy.plotting.plot_cluster_membership(s)
    >>> fig.axes[3].get_title()
    'Uncertainty (entropy)'
    """
    from ..getters import get_cluster_membership

    if uncertainty is not None:
        check_choice(uncertainty, "uncertainty", _UNCERTAINTIES)
    result, colors, ids = _start(signal, cmap, cluster_ids)
    view = _NavigationView(signal, navigation_index)
    maps = view(get_cluster_membership(signal).data)
    if view.is_line:
        return _membership_curves(view, maps, result, colors, ids, uncertainty)
    return _membership_maps(
        view,
        maps,
        result,
        colors,
        ids,
        uncertainty,
        image_cmap,
        uncertainty_cmap,
        per_row,
    )


def _membership_curves(view, maps, result, colors, ids, uncertainty):
    """A line scan's membership curves, and its uncertainty curve below them."""
    fig = _new_figure((8.0, 5.0 if uncertainty else 3.5))
    axes = fig.subplots(2 if uncertainty else 1, 1, sharex=True, squeeze=False)
    _draw_curves(axes[0, 0], view, maps, result, colors, ids)
    axes[0, 0].set_ylim(-0.02, 1.02)
    axes[0, 0].set_ylabel("Membership")
    axes[0, 0].set_title("Cluster membership")
    if uncertainty:
        ax = axes[1, 0]
        ax.plot(view.x.axis, membership_uncertainty(maps, uncertainty), color="k")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("Uncertainty")
        ax.set_xlabel(_axis_label(view.x, "x"))
        ax.set_title(f"Uncertainty ({_UNCERTAINTY_NAMES[uncertainty]})")
        axes[0, 0].set_xlabel("")
    return fig


def _membership_maps(
    view, maps, result, colors, ids, uncertainty, image_cmap, uncertainty_cmap, per_row
):
    """One membership map per cluster, then the uncertainty map."""
    n_panels = len(ids) + bool(uncertainty)
    fig, per_row = _map_figure(view, n_panels, per_row, colorbars=2)
    axes = _panel_grid(fig, n_panels, per_row)
    image = None
    for ax, i in zip(axes, ids, strict=False):
        image = _show_map(
            ax, view, maps[i], cmap=_continuous_cmap(image_cmap), vmin=0.0, vmax=1.0
        )
        ax.set_title(_cluster_name(result, i), color=colors[i], fontweight="bold")
        _frame(ax, colors[i])
    fig.colorbar(image, ax=axes[: len(ids)], label="Membership", shrink=0.8)
    if uncertainty:
        ax = axes[-1]
        doubt = _show_map(
            ax,
            view,
            membership_uncertainty(maps, uncertainty),
            cmap=_continuous_cmap(uncertainty_cmap),
            vmin=0.0,
            vmax=1.0,
        )
        ax.set_title(f"Uncertainty ({_UNCERTAINTY_NAMES[uncertainty]})")
        fig.colorbar(doubt, ax=ax, label="Uncertainty", shrink=0.8)
    fig.suptitle(view.title("Cluster membership"))
    return fig
