"""Element lines on cluster spectra: X-ray lines (EDS) and ionisation edges
(EELS) from exspy's element database, the lines that differ most between
clusters, the drawn energy range and the spread band of count data.

Used by :func:`~clusterspy.plotting.plot_cluster_signals` and
:func:`~clusterspy.plotting.plot_cluster_results`; :func:`signal_lines` and
:func:`line_contrast` are public for the report and for users.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["signal_lines", "line_contrast", "spread_band", "counts_range", "plural"]

#: Probability of the central interval a quantile or Poisson band covers:
#: that of mean ± one standard deviation of a normal distribution.
BAND_PROBABILITY = 0.6827

# Marker style of element lines; labelled lines are drawn darker.
_LINE_STYLE = {"color": "0.55", "linestyle": ":", "linewidth": 0.8, "zorder": 0.5}
_LABELLED_STYLE = {"color": "0.25", "linestyle": "--", "linewidth": 0.9, "zorder": 0.5}


def _text(value):
    return value if isinstance(value, str) and value else ""


def _unit_factor(units):
    """Axis units per keV (1 for keV, 1000 for eV), or None if not an energy."""
    return {"kev": 1.0, "ev": 1000.0}.get(_text(units).strip().lower())


def _signal_type(metadata):
    return _text(metadata.get_item("Signal.signal_type", "")).upper()


def _sample_list(metadata, key):
    value = metadata.get_item(f"Sample.{key}", None)
    if value is None or isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def _xray_line_energy(line):
    """Energy (keV) of an X-ray line such as ``"Fe_Ka"``, from exspy."""
    import exspy

    element, name = line.split("_", 1)
    return float(
        exspy.material.elements[element].Atomic_properties.Xray_lines[name][
            "energy (keV)"
        ]
    )


def _element_xray_lines(element, beam_energy):
    """The strongest line of each family (Ka, La, Ma) of ``element`` that the
    beam can excite (below half the beam energy when known, as exspy's
    ``add_elements`` picks lines)."""
    import exspy

    lines = exspy.material.elements[element].Atomic_properties.Xray_lines
    out = []
    for family in ("Ka", "La", "Ma"):
        if family in lines:
            energy = float(lines[family]["energy (keV)"])
            if beam_energy is None or energy < beam_energy:
                out.append((f"{element}_{family}", energy))
    return out


def _eels_edges(element):
    """Major ionisation edges of ``element``: (``"Fe_L3"``, onset in eV)."""
    import exspy

    edges = exspy.material.elements[element].Atomic_properties.Binding_energies
    return [
        (f"{element}_{name}", float(edge["onset_energy (eV)"]) / 1000.0)
        for name, edge in edges
        if _text(edge.get_item("relevance", "")) == "Major"
    ]


def signal_lines(signal):
    """The element lines of ``signal``'s energy axis, as ``{name: energy}``.

    X-ray lines for EDS (``metadata.Sample.xray_lines``, or the main line
    of each family of ``metadata.Sample.elements`` that the beam excites),
    major ionisation edges for EELS (``metadata.Sample.elements``), in the
    units of the signal axis (keV or eV). Energies come from exspy's
    element database (:data:`exspy.material.elements`).

    Parameters
    ----------
    signal : BaseSignal
        A spectrum (signal dimension 1), usually an exspy ``EDSSEMSpectrum``,
        ``EDSTEMSpectrum`` or ``EELSSpectrum``.

    Returns
    -------
    dict
        Line name to energy, sorted by energy; empty when the signal names
        no elements, its axis is not in eV/keV, or exspy is not installed.

    Examples
    --------
    >>> import exspy, numpy as np
    >>> from clusterspy.plotting.elements import signal_lines
    >>> s = exspy.signals.EDSSEMSpectrum(np.ones(1024))
    >>> s.axes_manager[-1].scale = 0.01
    >>> s.axes_manager[-1].units = "keV"
    >>> s.add_lines(["Fe_Ka", "Cu_Ka"])
    >>> signal_lines(s)
    {'Fe_Ka': 6.4039, 'Cu_Ka': 8.0478}
    """
    if signal.axes_manager.signal_dimension != 1:
        return {}
    factor = _unit_factor(signal.axes_manager.signal_axes[0].units)
    metadata = signal.metadata
    elements = _sample_list(metadata, "elements")
    xray_lines = _sample_list(metadata, "xray_lines")
    if factor is None or not (elements or xray_lines):
        return {}
    try:
        import exspy  # noqa: F401
    except ImportError:
        return {}
    kind = _signal_type(metadata)
    found = []
    if kind.startswith("EELS"):
        for element in elements:
            found += _eels_edges(element)
    elif xray_lines:
        found = [(line, _xray_line_energy(line)) for line in xray_lines]
    else:
        beam = None
        for microscope in ("SEM", "TEM"):
            beam = metadata.get_item(
                f"Acquisition_instrument.{microscope}.beam_energy", beam
            )
        for element in elements:
            found += _element_xray_lines(element, beam)
    found.sort(key=lambda item: item[1])
    return {name: round(energy * factor, 6) for name, energy in found}


def _line_width(signal, energy, factor, step):
    """Half-width of the window that integrates a line: the detector's FWHM
    at ``energy`` for EDS (exspy's formula from the Mn Ka resolution), else
    three channels."""
    resolution = None
    for microscope in ("SEM", "TEM"):
        resolution = signal.metadata.get_item(
            f"Acquisition_instrument.{microscope}.Detector.EDS.energy_resolution_MnKa",
            resolution,
        )
    if resolution is None or not _signal_type(signal.metadata).startswith("EDS"):
        return 3 * abs(step)
    kev = energy / factor
    fwhm_ev = math.sqrt(max(2.5 * (kev - 5.9) * 1000 + float(resolution) ** 2, 1.0))
    return max(fwhm_ev / 1000 * factor, abs(step))


def line_contrast(signal, x, spectra, lines):
    """How much each line differs between clusters.

    Each cluster spectrum is integrated over a window of one FWHM (the
    detector's, for EDS) around each line; a line's contrast is the largest
    difference of these integrals between two clusters, in the units of the
    spectra times the axis.

    Parameters
    ----------
    signal : BaseSignal
        The signal whose metadata give the detector resolution.
    x : numpy.ndarray
        Energies of the channels.
    spectra : numpy.ndarray, shape (n_clusters, n_channels)
        Cluster spectra (means).
    lines : dict
        ``{name: energy}``, see :func:`signal_lines`.

    Returns
    -------
    dict
        Line name to contrast, largest first.
    """
    if not lines or spectra.shape[0] == 0:
        return {}
    factor = _unit_factor(signal.axes_manager.signal_axes[0].units) or 1.0
    step = float(np.median(np.diff(x))) if x.size > 1 else 1.0
    out = {}
    for name, energy in lines.items():
        half = _line_width(signal, energy, factor, step) / 2
        window = (x >= energy - half) & (x <= energy + half)
        if not window.any():
            continue
        totals = np.nansum(spectra[:, window], axis=1) * abs(step)
        out[name] = float(np.nanmax(totals) - np.nanmin(totals))
    return dict(sorted(out.items(), key=lambda item: -item[1]))


def draw_lines(ax, lines, contrast, label_lines, x_range):
    """Mark ``lines`` inside ``x_range`` with vertical lines; name the
    ``label_lines`` of largest contrast. Each marker's gid is
    ``"element-line:<name>"`` so that tests and users can find it."""
    low, high = x_range
    shown = {n: e for n, e in lines.items() if low <= e <= high}
    ranked = [n for n in contrast if n in shown][:label_lines]
    transform = ax.get_xaxis_transform()
    # Names of lines closer than 3 % of the range step down so that they
    # do not overlap (Al Ka and Si Ka, say).
    close = 0.03 * (high - low)
    previous, level = None, 0
    for name, energy in shown.items():
        labelled = name in ranked
        marker = ax.axvline(energy, **(_LABELLED_STYLE if labelled else _LINE_STYLE))
        marker.set_gid(f"element-line:{name}")
        if labelled:
            near = previous is not None and energy - previous < close
            level = (level + 1) % 3 if near else 0
            previous = energy
            ax.text(
                energy,
                0.98 - 0.16 * level,
                name.replace("_", " "),
                transform=transform,
                rotation=90,
                ha="right",
                va="top",
                fontsize="small",
                color="0.15",
                gid=f"element-label:{name}",
            )
    return ranked


def counts_range(x, total, units=None, lines=None):
    """The part of the axis where non-negative data have their counts.

    From the channel where the cumulative total passes 0.01 % to where it
    passes 99 % (a spectrum's long, faint tail, such as the bremsstrahlung
    up to an EDS beam energy, is left out), extended to the highest of
    ``lines`` (energies) so that every marked line stays in view, and padded
    by 2 %. The zero-energy noise peak of EDS detectors (below 0.1 keV) is
    left out when the axis is in eV or keV. Returns None when the data
    have no counts or negative values.
    """
    total = np.nan_to_num(np.asarray(total, dtype=float))
    if total.size < 2 or (total < 0).any() or total.sum() <= 0:
        return None
    cumulative = np.cumsum(total) / total.sum()
    first = int(np.searchsorted(cumulative, 1e-4))
    last = min(int(np.searchsorted(cumulative, 0.99)), x.size - 1)
    low, high = float(x[first]), float(x[last])
    inside = [e for e in (lines or ()) if low <= e <= float(x[-1])]
    if inside:
        high = max(high, max(inside))
    pad = 0.02 * (high - low)
    low, high = max(low - pad, float(x[0])), min(high + pad, float(x[-1]))
    factor = _unit_factor(units)
    if factor is not None and high > 0.1 * factor:
        low = max(low, 0.1 * factor)
    return (low, high) if high > low else None


def spread_band(kind, mean, std=None, members=None, probability=BAND_PROBABILITY):
    """Lower and upper edges of a cluster's spread band, per channel.

    Parameters
    ----------
    kind : {"std", "quantile", "poisson"}
        ``"std"``: mean ± one standard deviation (clipped at zero when
        ``members`` are given and non-negative); ``"quantile"``: the central
        quantiles of the members' values (needs ``members``); ``"poisson"``:
        the central interval of a Poisson distribution of the mean (count
        data), never below zero.
    mean, std : numpy.ndarray
        The cluster's mean (and standard deviation) per channel.
    members : numpy.ndarray or None, shape (n_members, n_channels)
    probability : float
        Probability of the central interval (quantile and Poisson bands).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
    """
    tail = (1 - probability) / 2
    if kind == "quantile":
        low, high = np.nanquantile(members, [tail, 1 - tail], axis=0)
        return low, high
    if kind == "poisson":
        from scipy.stats import poisson

        lam = np.clip(np.nan_to_num(mean), 0, None)
        low = poisson.ppf(tail, lam)
        high = poisson.ppf(1 - tail, lam)
        # ppf of a zero mean is -1 (the empty support's edge): clip.
        return np.clip(low, 0, None), np.clip(high, 0, None)
    low, high = mean - std, mean + std
    if members is not None and np.nanmin(members) >= 0:
        low = np.clip(low, 0, None)
    return low, high


def plural(n, word, plural_word=None):
    """``"1 cluster"``, ``"3 clusters"``: a count with its noun.

    Examples
    --------
    >>> from clusterspy.plotting.elements import plural
    >>> plural(1, "cluster"), plural(0, "cluster"), plural(2, "pixel")
    ('1 cluster', '0 clusters', '2 pixels')
    """
    n = int(n)
    return f"{n} {word if n == 1 else (plural_word or word + 's')}"
