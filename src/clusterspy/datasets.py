"""Data for examples, tests and benchmarks: a real EDS map shipped with the
package, and generated data with known ground truth.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

__all__ = ["eds_sem_map", "spectrum_image", "phase_map"]

_EDS_SEM_FILE = "eds_sem_30x30.bcf"

# Characteristic line energies (keV) that the generated phases draw from;
# loosely an EDS spectrum of C, O, Al, Si, Ti, Fe, Cu, Zn, Mo and friends.
_LINES = np.array(
    [0.28, 0.52, 1.49, 1.74, 2.01, 2.62, 3.69, 4.51, 5.41, 6.40, 7.48, 8.04, 8.64, 9.44]
)


def phase_map(shape=(64, 64), n_phases=3, random_state=None):
    """A map of phase indices made of Voronoi cells, each phase present.

    Parameters
    ----------
    shape : tuple of int
        Navigation shape in HyperSpy order, ``(x, y)`` (or ``(x,)`` for a line).
    n_phases : int
        Number of phases; cells are assigned to phases in turn so that every
        phase appears.
    random_state : int or None
        Seed.

    Returns
    -------
    numpy.ndarray of int
        Phase index per position, in data order (``shape[::-1]``).

    Examples
    --------
    >>> from clusterspy.datasets import phase_map
    >>> m = phase_map((10, 5), n_phases=3, random_state=0)
    >>> m.shape, sorted(set(m.ravel().tolist()))
    ((5, 10), [0, 1, 2])
    """
    rng = np.random.default_rng(random_state)
    array_shape = tuple(shape)[::-1]
    n_cells = max(2 * n_phases, 4)
    grids = np.meshgrid(*[np.arange(n) for n in array_shape], indexing="ij")
    points = np.stack([g.ravel() for g in grids], axis=1).astype(float)
    seeds = rng.uniform(0, 1, size=(n_cells, len(array_shape))) * np.array(array_shape)
    cell = np.argmin(((points[:, None, :] - seeds[None]) ** 2).sum(-1), axis=1)
    phases = np.arange(n_cells) % n_phases
    out = phases[cell].reshape(array_shape)
    # Tiny maps may lose a phase to the tessellation: put it back.
    for p in range(n_phases):
        if not (out == p).any():
            out.flat[p] = p
    return out


def spectrum_image(
    shape=(64, 64),
    n_channels=512,
    n_phases=3,
    counts=1000.0,
    energy_range=(0.0, 10.0),
    dtype="float32",
    signal_type="",
    lazy=False,
    chunks="auto",
    return_truth=False,
    random_state=None,
):
    """A spectrum image of ``n_phases`` phases with Poisson noise.

    Each phase has its own spectrum: a smooth background and Gaussian peaks
    at a few characteristic energies with phase-specific intensities. Phases
    occupy Voronoi regions of the map; the number of counts per pixel varies
    by +-20 % across the map (a thickness gradient), so that intensity alone
    does not identify a phase.

    Parameters
    ----------
    shape : tuple of int
        Navigation shape in HyperSpy order, ``(x, y)``; ``(x,)`` gives a
        line scan.
    n_channels : int
        Channels of the energy axis.
    n_phases : int
        Number of phases (the true number of clusters).
    counts : float
        Mean total counts per pixel.
    energy_range : tuple of float
        Energy axis range in keV.
    dtype : str
        dtype of the data (counts are whole numbers whatever the dtype).
    signal_type : str
        HyperSpy signal type to set, for example ``"EDS_SEM"`` (needs exspy).
    lazy : bool
        Return a lazy (dask) signal.
    chunks : str or tuple
        Dask chunks when ``lazy``.
    return_truth : bool
        Also return the true phase map (data order).
    random_state : int or None
        Seed.

    Returns
    -------
    Signal1D or (Signal1D, numpy.ndarray)

    Examples
    --------
    >>> from clusterspy.datasets import spectrum_image
    >>> s, truth = spectrum_image((16, 8), n_channels=128, return_truth=True,
    ...                           random_state=0)
    >>> s.data.shape, truth.shape
    ((8, 16, 128), (8, 16))
    """
    import hyperspy.api as hs

    rng = np.random.default_rng(random_state)
    truth = phase_map(shape, n_phases, random_state=rng.integers(2**32))
    energy = np.linspace(*energy_range, n_channels, endpoint=False)
    width = 0.06 + 0.01 * energy  # detector resolution broadens with energy
    background = np.exp(-energy / 3.0) * (energy > 0.2)
    spectra = np.empty((n_phases, n_channels))
    for p in range(n_phases):
        # Every phase gets a dominant line of its own plus a few shared ones,
        # so phases differ in shape, not only in intensity.
        amplitudes = rng.uniform(0.0, 0.4, size=_LINES.size)
        amplitudes[rng.choice(_LINES.size, size=_LINES.size // 2, replace=False)] = 0
        amplitudes[(3 * p + 2) % _LINES.size] += 1.0
        peaks = amplitudes[:, None] * np.exp(
            -0.5 * ((energy[None, :] - _LINES[:, None]) / width[None, :]) ** 2
        )
        spectrum = 0.3 * background + peaks.sum(axis=0)
        spectra[p] = spectrum / spectrum.sum()
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in truth.shape], indexing="ij")
    thickness = 1.0 + 0.2 * grids[-1]
    expected = counts * thickness[..., None] * spectra[truth]
    data = rng.poisson(expected).astype(dtype)
    s = hs.signals.Signal1D(data)
    s.metadata.General.title = f"Generated {n_phases}-phase spectrum image"
    axis = s.axes_manager.signal_axes[0]
    axis.name, axis.units = "Energy", "keV"
    axis.offset, axis.scale = energy[0], energy[1] - energy[0]
    for ax, name in zip(s.axes_manager.navigation_axes, ("x", "y", "z"), strict=False):
        ax.name, ax.units, ax.scale = name, "nm", 2.0
    if signal_type:
        s.set_signal_type(signal_type)
    if lazy:
        s = s.as_lazy()
        s.data = s.data.rechunk(chunks)
    return (s, truth) if return_truth else s


def eds_sem_map(lazy=False, return_image=False):
    """A real EDS spectrum image: 30 x 30 pixels of a chevkinite sample, SEM.

    Bruker EDS on an SEM at 20 kV, 2048 channels of 10 eV (energy axis in keV,
    from -0.47 keV), 16-bit counts, with the 30 x 30 electron image acquired
    with it. The file (955 kB) ships with clusterspy, so the map is there
    offline, without any download.

    Credit: Bruker EDS test file
    ``30x30_instructively_packed_16bit_compressed.bcf`` from RosettaSciIO's test
    data (https://github.com/hyperspy/rosettasciio), GPL-3.0.

    Parameters
    ----------
    lazy : bool
        Return a lazy signal (dask-backed), as ``hs.load(..., lazy=True)``.
    return_image : bool
        Also return the electron image.

    Returns
    -------
    spectrum : EDSSEMSpectrum or Signal1D
        Navigation ``(30, 30)`` in micrometres, signal 2048 channels in keV,
        ``uint16`` counts. An ``EDSSEMSpectrum`` (with the elements and X-ray
        lines of the file's metadata) when exspy is installed, a plain
        ``Signal1D`` otherwise.
    image : Signal2D
        The 30 x 30 electron image (``uint16``), only if ``return_image``.

    Examples
    --------
    >>> from clusterspy.datasets import eds_sem_map
    >>> s, image = eds_sem_map(return_image=True)
    >>> s.data.shape, str(s.data.dtype), s.axes_manager.signal_axes[0].units
    ((30, 30, 2048), 'uint16', 'keV')
    >>> image.data.shape
    (30, 30)
    """
    import hyperspy.api as hs

    for name, value in (("lazy", lazy), ("return_image", return_image)):
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"`{name}` must be True or False, not {value!r}.")
    # A file next to the module (package data): lazy signals read it later.
    with warnings.catch_warnings():
        # HyperSpy 2.x warns about its own internal imports when it first
        # reads a Bruker file: nothing the caller can act on.
        warnings.filterwarnings(
            "ignore", message=r"Importing `\w+` from `hyperspy\._signals"
        )
        signals = hs.load(
            Path(__file__).parent / "data" / _EDS_SEM_FILE, lazy=bool(lazy)
        )
    image = next(s for s in signals if s.axes_manager.signal_dimension == 2)
    spectrum = signals[-1]
    return (spectrum, image) if return_image else spectrum
