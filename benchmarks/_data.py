"""Benchmark data: generated spectrum images, cached on disk as ``.npy``.

The recipe is :func:`clusterspy.datasets.spectrum_image`'s, drawn in blocks
of rows so that large maps never need the float64/int64 temporaries of the
whole array. The random stream is consumed in the same order as in
``spectrum_image`` (NumPy's ``Generator.poisson`` draws element by element),
so the arrays are bit-identical; :func:`check_recipe` verifies this on a
small map at the start of every run, so that a change to ``datasets.py``
cannot silently make the benchmark measure different data.

Each dataset is written once to ``<cache>/<key>.npy`` (with the true phase
map in ``<key>.truth.npy``) and read back into memory by each case's
subprocess; generation is never timed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

N_PHASES = 4
SEED = 0
_RECIPE_VERSION = 1  # bump when the recipe below changes
_BLOCK_ELEMENTS = 16 * 2**20  # elements per generated block (~128 MiB float64)


def _spectra(rng, n_channels, n_phases, energy_range=(0.0, 10.0)):
    """The phase spectra, drawing from ``rng`` exactly as spectrum_image does."""
    from clusterspy.datasets import _LINES

    energy = np.linspace(*energy_range, n_channels, endpoint=False)
    width = 0.06 + 0.01 * energy
    background = np.exp(-energy / 3.0) * (energy > 0.2)
    spectra = np.empty((n_phases, n_channels))
    for p in range(n_phases):
        amplitudes = rng.uniform(0.0, 0.4, size=_LINES.size)
        amplitudes[rng.choice(_LINES.size, size=_LINES.size // 2, replace=False)] = 0
        amplitudes[(3 * p + 2) % _LINES.size] += 1.0
        peaks = amplitudes[:, None] * np.exp(
            -0.5 * ((energy[None, :] - _LINES[:, None]) / width[None, :]) ** 2
        )
        spectrum = 0.3 * background + peaks.sum(axis=0)
        spectra[p] = spectrum / spectrum.sum()
    return energy, spectra


def generate_into(out, shape, n_channels, n_phases=N_PHASES, counts=1000.0, seed=SEED):
    """Fill ``out`` (array of shape ``shape[::-1] + (n_channels,)``) block-wise.

    Returns the true phase map (data order) and the energy axis.
    """
    from clusterspy.datasets import phase_map

    rng = np.random.default_rng(seed)
    truth = phase_map(shape, n_phases, random_state=rng.integers(2**32))
    energy, spectra = _spectra(rng, n_channels, n_phases)
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in truth.shape], indexing="ij")
    thickness = 1.0 + 0.2 * grids[-1]
    flat_out = out.reshape(-1, n_channels)
    flat_truth = truth.reshape(-1)
    flat_thick = thickness.reshape(-1)
    rows = max(1, _BLOCK_ELEMENTS // n_channels)
    for start in range(0, flat_truth.size, rows):
        sl = slice(start, start + rows)
        expected = counts * flat_thick[sl, None] * spectra[flat_truth[sl]]
        flat_out[sl] = rng.poisson(expected)
    return truth, energy


def check_recipe():
    """Assert that the block-wise recipe reproduces ``spectrum_image`` exactly."""
    from clusterspy.datasets import spectrum_image

    shape, n_channels = (23, 17), 96
    s, truth = spectrum_image(
        shape=shape,
        n_channels=n_channels,
        n_phases=N_PHASES,
        dtype="float32",
        random_state=SEED,
        return_truth=True,
    )
    out = np.empty(shape[::-1] + (n_channels,), dtype="float32")
    _rows = globals()["_BLOCK_ELEMENTS"]
    try:
        globals()["_BLOCK_ELEMENTS"] = 5 * n_channels  # force several blocks
        my_truth, _ = generate_into(out, shape, n_channels)
    finally:
        globals()["_BLOCK_ELEMENTS"] = _rows
    if not (np.array_equal(my_truth, truth) and np.array_equal(out, s.data)):
        raise RuntimeError(
            "benchmarks/_data.py no longer reproduces "
            "clusterspy.datasets.spectrum_image: update its recipe."
        )


def dataset_key(shape, n_channels, dtype="float32"):
    dims = "x".join(str(n) for n in shape)
    return f"si_{dims}x{n_channels}_{dtype}_p{N_PHASES}_s{SEED}_v{_RECIPE_VERSION}"


def ensure_dataset(cache_dir, shape, n_channels, dtype="float32"):
    """Write the dataset to the cache if missing; return the ``.npy`` path."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = dataset_key(shape, n_channels, dtype)
    path = cache_dir / f"{key}.npy"
    truth_path = cache_dir / f"{key}.truth.npy"
    if path.exists() and truth_path.exists():
        return path
    tmp = cache_dir / f"{key}.partial.npy"
    out = np.lib.format.open_memmap(
        tmp, mode="w+", dtype=dtype, shape=tuple(shape)[::-1] + (n_channels,)
    )
    truth, energy = generate_into(out, shape, n_channels)
    out.flush()
    del out
    np.save(truth_path, truth)
    np.save(cache_dir / f"{key}.energy.npy", energy)
    os.replace(tmp, path)
    return path


def load_signal(path, mmap=False):
    """Read a cached dataset into memory as a Signal1D; return ``(s, truth)``."""
    import hyperspy.api as hs

    path = Path(path)
    stem = path.name[: -len(".npy")]
    data = np.load(path, mmap_mode="r" if mmap else None)
    truth = np.load(path.with_name(stem + ".truth.npy"))
    energy = np.load(path.with_name(stem + ".energy.npy"))
    s = hs.signals.Signal1D(data)
    _set_axes(s, energy)
    return s, truth


def _set_axes(s, energy):
    s.metadata.General.title = f"Generated {N_PHASES}-phase spectrum image"
    axis = s.axes_manager.signal_axes[0]
    axis.name, axis.units = "Energy", "keV"
    axis.offset, axis.scale = energy[0], energy[1] - energy[0]
    for ax, name in zip(s.axes_manager.navigation_axes, ("x", "y"), strict=False):
        ax.name, ax.units, ax.scale = name, "nm", 2.0


def ensure_zspy(cache_dir, shape, n_channels, dtype="float32"):
    """Write the dataset as a ``.zspy`` (zarr) store once; return its path.

    The array is streamed from the memory-mapped ``.npy`` through dask, so
    even maps larger than memory can be written.
    """
    import dask.array as da
    import hyperspy.api as hs

    npy = ensure_dataset(cache_dir, shape, n_channels, dtype)
    zspy = npy.with_name(npy.name[: -len(".npy")] + ".zspy")
    done = zspy / ".benchmark-complete"
    if done.exists():
        return zspy
    stem = npy.name[: -len(".npy")]
    data = np.load(npy, mmap_mode="r")
    energy = np.load(npy.with_name(stem + ".energy.npy"))
    # About 32 MiB chunks over whole spectra: the layout a lazy reader wants.
    rows = max(1, (32 * 2**20) // (n_channels * data.itemsize * data.shape[1]))
    darr = da.from_array(data, chunks=(rows, data.shape[1], n_channels))
    s = hs.signals.Signal1D(darr).as_lazy()
    _set_axes(s, energy)
    s.save(zspy, overwrite=True, chunks=darr.chunksize)
    done.touch()
    return zspy
