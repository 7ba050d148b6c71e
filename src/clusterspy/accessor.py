"""The ``s.clusterspy`` namespace on every HyperSpy signal.

HyperSpy 2.x defines ``cluster_analysis`` and friends on ``BaseSignal``
itself, and offers no hook to add methods to every signal class, so
``import clusterspy`` attaches one descriptor, ``BaseSignal.clusterspy``,
that returns a light accessor bound to the signal (the pattern of pandas and
xarray accessors). The accessor holds no state: results live in the signal's
``learning_results``, so they follow ``deepcopy`` and ``save``/``load``.
"""

from __future__ import annotations

import inspect

from . import analysis, deep, estimate, export, getters, plotting, prediction, results
from .editing import get_cluster_members, merge_clusters, split_cluster
from .interactive import plot_cluster_explorer
from .mixtures import get_cluster_mixtures
from .sources import as_feature_signal
from .tables import get_cluster_table
from .validation import check_signal

__all__ = ["ClusterspyAccessor", "register_accessor", "ACCESSOR_NAME"]

ACCESSOR_NAME = "clusterspy"


def _bind(func):
    """Turn ``func(signal, ...)`` into a method ``accessor.<name>(...)``.

    A function's ``signal_kind`` parameter is called ``signal`` in the method,
    as in HyperSpy's ``get_cluster_signals(signal="mean")`` (a function cannot
    name two parameters ``signal``).
    """
    signature = inspect.signature(func)
    params = list(signature.parameters.values())[1:]
    renamed = any(p.name == "signal_kind" for p in params)

    def method(self, *args, **kwargs):
        if renamed and "signal" in kwargs:
            kwargs["signal_kind"] = kwargs.pop("signal")
        return func(self._signal, *args, **kwargs)

    method.__name__ = func.__name__
    method.__qualname__ = f"ClusterspyAccessor.{func.__name__}"
    method.__doc__ = func.__doc__
    method.__signature__ = signature.replace(
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
        + [p.replace(name="signal") if p.name == "signal_kind" else p for p in params]
    )
    return method


class ClusterspyAccessor:
    """Cluster analysis of one signal: ``signal.clusterspy.<method>``.

    Every method is also a plain function of :mod:`clusterspy` taking the
    signal as its first argument. For colour (RGB) signals the methods work
    on :func:`clusterspy.sources.as_feature_signal`'s view, whose samples are
    the pixels; the plain functions take that view.

    Examples
    --------
    >>> import clusterspy
    >>> s = clusterspy.datasets.spectrum_image(shape=(8, 8), n_channels=32)
    >>> s.clusterspy.cluster_analysis("signal", n_clusters=3, random_state=0)
    >>> s.clusterspy.result.n_clusters
    3
    """

    def __init__(self, signal):
        # colour images: pixels become samples (see as_feature_signal)
        self._signal = as_feature_signal(signal)

    def __repr__(self):
        return f"<clusterspy accessor of {self._signal!r}>"

    cluster_analysis = _bind(analysis.cluster_analysis)
    get_cluster_labels = _bind(getters.get_cluster_labels)
    get_cluster_distances = _bind(getters.get_cluster_distances)
    get_cluster_membership = _bind(getters.get_cluster_membership)
    get_cluster_signals = _bind(getters.get_cluster_signals)
    get_cluster_regions = _bind(getters.get_cluster_regions)
    get_cluster_reconstruction = _bind(getters.get_cluster_reconstruction)

    estimate_number_of_clusters = _bind(estimate.estimate_number_of_clusters)
    get_cluster_metric = _bind(estimate.get_cluster_metric)
    plot_cluster_metric = _bind(estimate.plot_cluster_metric)

    plot_cluster_labels = _bind(plotting.plot_cluster_labels)
    plot_cluster_signals = _bind(plotting.plot_cluster_signals)
    plot_cluster_distances = _bind(plotting.plot_cluster_distances)
    plot_cluster_membership = _bind(plotting.plot_cluster_membership)
    plot_cluster_results = _bind(plotting.plot_cluster_results)
    export_cluster_results = _bind(export.export_cluster_results)
    get_cluster_table = _bind(get_cluster_table)
    get_cluster_mixtures = _bind(get_cluster_mixtures)
    plot_cluster_explorer = _bind(plot_cluster_explorer)
    merge_clusters = _bind(merge_clusters)
    split_cluster = _bind(split_cluster)
    get_cluster_members = _bind(get_cluster_members)
    learn_features = _bind(deep.learn_features)

    @property
    def result(self):
        """The stored :class:`~clusterspy.ClusterResult` (see
        :func:`clusterspy.get_cluster_result`)."""
        return results.get_cluster_result(self._signal)

    @property
    def learning_results(self):
        """The stored results in HyperSpy's layouts and names
        (``cluster_labels`` ``(k, N)``, ``cluster_distances``,
        ``cluster_metric_index``...); see :mod:`clusterspy.compat`."""
        from .compat import hyperspy_view

        return hyperspy_view(self._signal)

    def predict(self, signal, cluster_source=None, show_progressbar=None):
        """Assign another signal's navigation positions to this signal's
        clusters; see :func:`clusterspy.predict`."""
        check_signal(signal)  # before reading .data: a clear TypeError
        return prediction.predict(
            self.result, as_feature_signal(signal), cluster_source, show_progressbar
        )


class _AccessorDescriptor:
    """Builds a :class:`ClusterspyAccessor` on attribute access.

    Not cached on the instance: HyperSpy re-creates signals freely
    (``deepcopy``, ``inav``, ``.T``), and a cached accessor would keep a
    reference cycle alive for nothing.
    """

    _clusterspy_descriptor = True

    def __get__(self, obj, owner=None):
        if obj is None:
            return ClusterspyAccessor
        return ClusterspyAccessor(obj)


def register_accessor(cls=None):
    """Attach ``clusterspy`` to ``cls`` (default: HyperSpy's ``BaseSignal``).

    Idempotent. Refuses to replace an attribute of the same name that is not
    ours, so that clusterspy never silently shadows another package.
    """
    if cls is None:
        from hyperspy.signal import BaseSignal as cls
    existing = inspect.getattr_static(cls, ACCESSOR_NAME, None)
    if existing is not None:
        if getattr(existing, "_clusterspy_descriptor", False):
            return
        raise AttributeError(
            f"{cls.__name__} already has an attribute {ACCESSOR_NAME!r} "
            f"({existing!r}); clusterspy will not replace it."
        )
    setattr(cls, ACCESSOR_NAME, _AccessorDescriptor())
