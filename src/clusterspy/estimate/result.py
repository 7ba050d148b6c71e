"""The estimate stored with a signal: :class:`ClusterMetric` and
:func:`get_cluster_metric`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..results import json_safe
from ..validation import check_signal

__all__ = ["ClusterMetric", "get_cluster_metric"]

_FORMAT_VERSION = 1
_STORE_NAME = "clusterspy_metric"
_CURVE_PREFIX = "curve_"


@dataclass(eq=False)
class ClusterMetric:
    """A number-of-clusters estimate: the metric curve and the chosen ``k``.

    Attributes
    ----------
    metric : str
    ks : numpy.ndarray of int
    values : numpy.ndarray
        The curve: ``Gap(k)``, ``log W_k`` (elbow), or the score.
    errors : numpy.ndarray or None
        ``s_k`` for the gap statistic.
    n_clusters : int
        The chosen number of clusters.
    rule : str
        The rule that chose it.
    details : dict
        Other curves: ``log_w`` (gap, elbow), ``log_w_reference`` and ``sd``
        (gap).
    parameters, versions : dict
        Provenance.
    curves : dict of str to numpy.ndarray
        With ``metric="auto"``: every metric's curve over ``ks`` (``log_w``,
        ``silhouette``, ``gap``, ``gap_s``, and the split rule's
        ``worst_p``), to be shown side by side; empty otherwise.
    metric_choices : dict of str to int
        With ``metric="auto"``: what each metric alone would answer.
    doubts : list of str
        Why the answer is doubtful (each was emitted as a
        :class:`~clusterspy.exceptions.DoubtfulEstimateWarning`); empty
        when it is not.
    """

    metric: str
    ks: np.ndarray
    values: np.ndarray
    errors: np.ndarray | None
    n_clusters: int
    rule: str
    details: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    metric_choices: dict = field(default_factory=dict)
    doubts: list = field(default_factory=list)

    def __repr__(self):
        return (
            f"<ClusterMetric {self.metric}: k = {self.n_clusters} "
            f"({self.rule}), k tried {int(self.ks[0])}..{int(self.ks[-1])}>"
        )

    # -- HyperSpy's names (``learning_results.cluster_metric_*``) -------------------
    # Read-only views: clusterspy does not write HyperSpy's attributes into
    # ``signal.learning_results`` (they belong to HyperSpy's built-in).
    @property
    def cluster_metric(self):
        """HyperSpy's name of ``metric``."""
        return self.metric

    @property
    def cluster_metric_index(self):
        """HyperSpy's name of ``ks``, as a list of int."""
        return [int(k) for k in self.ks]

    @property
    def cluster_metric_data(self):
        """HyperSpy's name of ``values``.

        For the elbow, clusterspy's ``values`` are ``log W_k`` as HyperSpy's;
        for the gap, ``Gap(k)``; for the silhouette, the mean score.
        """
        return np.array(self.values)

    @property
    def estimated_number_of_clusters(self):
        """HyperSpy's name of ``n_clusters``."""
        return int(self.n_clusters)

    def to_dict(self):
        """Plain dictionary of arrays, numbers and strings, for storage."""
        out = {
            "format_version": _FORMAT_VERSION,
            "metric": self.metric,
            "ks": np.asarray(self.ks, dtype=np.int64),
            "values": np.asarray(self.values, dtype=np.float64),
            "errors": None
            if self.errors is None
            else np.asarray(self.errors, dtype=np.float64),
            "n_clusters": int(self.n_clusters),
            "rule": self.rule,
            "parameters": json.dumps(json_safe(self.parameters), sort_keys=True),
            "versions": json.dumps(json_safe(self.versions), sort_keys=True),
        }
        for key, value in self.details.items():
            out[key] = np.asarray(value, dtype=np.float64)
        # Optional keys (absent from estimates stored before them).
        for key, value in self.curves.items():
            out[_CURVE_PREFIX + key] = np.asarray(value, dtype=np.float64)
        if self.metric_choices:
            out["metric_choices"] = json.dumps(json_safe(self.metric_choices))
        if self.doubts:
            out["doubts"] = json.dumps([str(d) for d in self.doubts])
        return out

    @classmethod
    def from_dict(cls, stored):
        """Rebuild from :meth:`to_dict` (arrays may come back lazy)."""
        from ..sources import _as_numpy

        version = int(stored.get("format_version", 0))
        if version != _FORMAT_VERSION:
            raise ValueError(
                f"Stored clusterspy metric has format version {version}; this "
                f"clusterspy reads version {_FORMAT_VERSION}."
            )
        errors = stored.get("errors")
        details = {
            key: _as_numpy(stored[key])
            for key in ("log_w", "log_w_reference", "sd")
            if stored.get(key) is not None
        }
        return cls(
            metric=str(stored["metric"]),
            ks=_as_numpy(stored["ks"]).astype(np.int64),
            values=_as_numpy(stored["values"]).astype(np.float64),
            errors=None if errors is None else _as_numpy(errors).astype(np.float64),
            n_clusters=int(stored["n_clusters"]),
            rule=str(stored["rule"]),
            details=details,
            parameters=json.loads(stored["parameters"]),
            versions=json.loads(stored["versions"]),
            curves={
                key[len(_CURVE_PREFIX):]: _as_numpy(stored[key]).astype(np.float64)
                for key in list(stored.keys())
                if key.startswith(_CURVE_PREFIX) and stored[key] is not None
            },
            metric_choices=json.loads(stored.get("metric_choices") or "{}"),
            doubts=json.loads(stored.get("doubts") or "[]"),
        )


# -- the signal-level function -----------------------------------------------------------


def get_cluster_metric(signal):
    """Return the :class:`ClusterMetric` stored by the last estimate.

    Raises
    ------
    RuntimeError
        If ``estimate_number_of_clusters`` was not run on this signal.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> from clusterspy.estimate import (
    ...     estimate_number_of_clusters, get_cluster_metric, plot_cluster_metric)
    >>> rng = np.random.default_rng(0)
    >>> s = hs.signals.Signal1D(rng.normal(size=(100, 2)))
    >>> k = estimate_number_of_clusters(s, "signal", max_clusters=3,
    ...                                 metric="elbow", random_state=0)
    >>> get_cluster_metric(s).metric
    'elbow'
    """
    check_signal(signal)
    stored = getattr(signal.learning_results, _STORE_NAME, None)
    if not stored:
        raise RuntimeError(
            "No number-of-clusters estimate on this signal: run "
            "`signal.clusterspy.estimate_number_of_clusters(...)` first."
        )
    return ClusterMetric.from_dict(stored)
