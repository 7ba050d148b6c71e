"""Intersphinx inventories written from the installed packages, for offline builds.

Intersphinx normally downloads each project's ``objects.inv``. The machines
that build these docs reach no documentation site, so this module writes the
inventories itself, from the objects the installed packages really have, with
the URL patterns of those projects' published documentation:

* NumPy:        ``reference/generated/numpy.<name>.html`` (functions, ufuncs,
  ``ndarray`` and its methods), plus the random-number classes, constants,
  the glossary term ``array_like`` and the scalars page;
* scikit-learn: ``modules/generated/<module>.<name>.html`` for every public
  class and function of every public module (methods are anchors on the
  class page), ``api/<module>.html`` for the modules;
* HyperSpy:     ``reference/api.signals/<Class>.html`` for the signal classes
  of ``hyperspy.api.signals`` (``BaseSignal``'s page documents every
  inherited method), ``reference/api.html`` for ``hyperspy.api`` functions;
* dask:         ``generated/dask.array.<name>.html`` (``dask.array``
  functions, ``dask.array.Array`` and its methods), and
  ``distributed.Client``/``LocalCluster`` on distributed's API page;
* Matplotlib, SciPy: the few objects the docstrings name;
* Python:       the built-in types, constants, exceptions and glossary terms
  that numpydoc's type links use.

Links therefore point at the real documentation of the latest release
(``stable``/``current``) and resolve without network access. Run this file
to (re)write the inventories by hand: ``python docs/_ext/offline_inventories.py``.
"""

from __future__ import annotations

import importlib
import inspect
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Where the inventories are written (ignored by git, rewritten every build).
OUTPUT = HERE.parent / "_inventories"

#: name -> (documentation root, project title)
PROJECTS = {
    "python": ("https://docs.python.org/3/", "Python"),
    "numpy": ("https://numpy.org/doc/stable/", "NumPy"),
    "sklearn": ("https://scikit-learn.org/stable/", "scikit-learn"),
    "hyperspy": ("https://hyperspy.org/hyperspy-doc/current/", "HyperSpy"),
    "dask": ("https://docs.dask.org/en/stable/", "Dask"),
    "distributed": ("https://distributed.dask.org/en/stable/", "Dask.distributed"),
    "matplotlib": ("https://matplotlib.org/stable/", "Matplotlib"),
    "scipy": ("https://docs.scipy.org/doc/scipy/", "SciPy"),
}


def _public(names):
    return sorted({n for n in names if not n.startswith("_")})


def _get(namespace, name):
    """``getattr`` that treats any error (deprecations, experimental gates) as absent."""
    try:
        return getattr(namespace, name)
    except Exception:
        return None


def _version(module_name):
    try:
        return importlib.import_module(module_name).__version__
    except Exception:  # pragma: no cover - a missing package gives an empty version
        return ""


# -- one function per project: a list of (name, domain:role, uri, display) ---------------


def python_objects():
    lib = "library/"
    entries = [
        ("None", "py:data", lib + "constants.html#None"),
        ("True", "py:data", lib + "constants.html#True"),
        ("False", "py:data", lib + "constants.html#False"),
        ("NotImplemented", "py:data", lib + "constants.html#NotImplemented"),
        ("Ellipsis", "py:data", lib + "constants.html#Ellipsis"),
    ]
    in_functions = (
        "bool", "bytearray", "bytes", "complex", "float", "frozenset", "int",
        "object", "range", "type", "memoryview", "slice",
    )  # fmt: skip
    in_stdtypes = ("dict", "list", "set", "str", "tuple")
    entries += [(n, "py:class", lib + f"functions.html#{n}") for n in in_functions]
    entries += [(n, "py:class", lib + f"stdtypes.html#{n}") for n in in_stdtypes]
    for name in ("callable", "isinstance", "len", "repr", "print", "open"):
        entries.append((name, "py:function", lib + f"functions.html#{name}"))
    import builtins

    for name in _public(dir(builtins)):
        obj = getattr(builtins, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            entries.append((name, "py:exception", lib + f"exceptions.html#{name}"))
    entries += [
        ("pathlib.Path", "py:class", lib + "pathlib.html#pathlib.Path"),
        ("os.PathLike", "py:class", lib + "os.html#os.PathLike"),
        ("typing.NamedTuple", "py:class", lib + "typing.html#typing.NamedTuple"),
        ("dataclasses.dataclass", "py:function", lib + "dataclasses.html#dataclasses.dataclass"),
        ("collections.namedtuple", "py:function", lib + "collections.html#collections.namedtuple"),
        ("contextlib.contextmanager", "py:function", lib + "contextlib.html#contextlib.contextmanager"),
        ("pickle", "py:module", lib + "pickle.html#module-pickle"),
        ("argparse", "py:module", lib + "argparse.html#module-argparse"),
    ]  # fmt: skip
    labels = [
        (
            "bltin-boolean-values",
            "stdtypes.html#bltin-boolean-values",
            "Boolean Type - bool",
        )
    ]
    entries += [(n, "std:label", lib + uri, title) for n, uri, title in labels]
    for term in ("iterable", "sequence", "generator", "mapping", "path-like object"):
        anchor = term.replace(" ", "-")
        entries.append((term, "std:term", f"glossary.html#term-{anchor}", term))
    return entries


def numpy_objects():
    import numpy as np

    gen = "reference/generated/"
    entries = [("numpy", "py:module", "reference/index.html#module-numpy")]
    for name in _public(getattr(np, "__all__", dir(np))):
        obj = _get(np, name)
        if (
            isinstance(obj, np.ufunc)
            or inspect.isfunction(obj)
            or inspect.isbuiltin(obj)
        ):
            entries.append((f"numpy.{name}", "py:function", gen + f"numpy.{name}.html"))
    for cls in ("ndarray", "dtype"):
        entries.append((f"numpy.{cls}", "py:class", gen + f"numpy.{cls}.html"))
    for name in _public(dir(np.ndarray)):
        role = "py:method" if callable(_get(np.ndarray, name)) else "py:attribute"
        entries.append(
            (f"numpy.ndarray.{name}", role, gen + f"numpy.ndarray.{name}.html")
        )
    rand = "reference/random/"
    entries += [
        ("numpy.random", "py:module", rand + "index.html#module-numpy.random"),
        ("numpy.random.RandomState", "py:class", rand + "legacy.html"),
        ("numpy.random.Generator", "py:class", rand + "generator.html"),
        ("numpy.random.default_rng", "py:function", rand + "generator.html"),
        (
            "numpy.random.SeedSequence",
            "py:class",
            rand + "bit_generators/generated/numpy.random.SeedSequence.html",
        ),
        ("numpy.typing.ArrayLike", "py:data", "reference/typing.html"),
        ("numpy.typing.NDArray", "py:data", "reference/typing.html"),
    ]
    for const in ("nan", "inf", "pi", "e", "newaxis"):
        entries.append((f"numpy.{const}", "py:data", "reference/constants.html"))
    entries += [
        ("array_like", "std:term", "glossary.html#term-array_like", "array_like"),
        ("arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars", "Scalars"),
    ]  # fmt: skip
    return entries


def _module_names(module):
    """Public names of a module: its ``__all__``, else what it defines itself."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n in dir(module)
            if getattr(_get(module, n), "__module__", "").startswith(module.__name__)
        ]
    return _public(names)


def _sklearn_modules():
    import sklearn

    skip = {"experimental", "externals", "calibration", "dummy", "isotonic",
            "kernel_ridge", "naive_bayes", "multiclass", "multioutput", "frozen"}  # fmt: skip
    names = ["sklearn"] + [
        f"sklearn.{n}"
        for n in sklearn.__all__
        if n not in skip and inspect.ismodule(_get(sklearn, n))
    ]
    names += [
        "sklearn.base",
        "sklearn.feature_extraction.image",
        "sklearn.feature_extraction.text",
        "sklearn.metrics.pairwise",
        "sklearn.metrics.cluster",
        "sklearn.utils.validation",
    ]
    return names


def sklearn_objects():
    gen = "modules/generated/"
    entries = []
    for module_name in _sklearn_modules():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if module_name != "sklearn":
            entries.append(
                (
                    module_name,
                    "py:module",
                    f"api/{module_name}.html#module-{module_name}",
                )
            )
        for name in _module_names(module):
            obj = _get(module, name)
            full = f"{module_name}.{name}"
            if inspect.isclass(obj):
                role = "py:exception" if issubclass(obj, BaseException) else "py:class"
                entries.append((full, role, gen + f"{full}.html"))
                # the class page documents every public method, inherited too
                for member in _public(dir(obj)):
                    value = inspect.getattr_static(obj, member, None)
                    if callable(value) or isinstance(
                        value, (staticmethod, classmethod)
                    ):
                        entries.append(
                            (f"{full}.{member}", "py:method", gen + f"{full}.html")
                        )
            elif callable(obj) and not inspect.ismodule(obj):
                entries.append((full, "py:function", gen + f"{full}.html"))
    for term in ("estimator", "random_state", "fit_predict", "predict_proba", "n_jobs"):
        entries.append((term, "std:term", f"glossary.html#term-{term}", term))
    return entries


def hyperspy_objects():
    import hyperspy.api as hs

    entries = [
        ("hyperspy.api", "py:module", "reference/api.html#module-hyperspy.api"),
        ("hyperspy.api.signals", "py:module", "reference/api.signals/index.html#module-hyperspy.api.signals"),
    ]  # fmt: skip
    for name in ("load", "stack", "transpose", "interactive", "set_log_level",
                 "print_known_signal_types", "get_configuration_directory_path"):  # fmt: skip
        if hasattr(hs, name):
            entries.append(
                (f"hyperspy.api.{name}", "py:function", "reference/api.html")
            )
    for name in _public(dir(hs.signals)):
        cls = getattr(hs.signals, name)
        if not inspect.isclass(cls):
            continue
        full = f"hyperspy.api.signals.{name}"
        page = f"reference/api.signals/{name}.html"
        entries.append((full, "py:class", page))
        # BaseSignal's page documents inherited members, the others their own.
        members = _public(dir(cls)) if name == "BaseSignal" else _public(vars(cls))
        for member in members:
            value = inspect.getattr_static(cls, member, None)
            if isinstance(value, property):
                entries.append((f"{full}.{member}", "py:property", page))
            elif callable(value) or isinstance(value, (staticmethod, classmethod)):
                entries.append((f"{full}.{member}", "py:method", page))
    return entries


def dask_objects():
    import dask.array as da

    gen = "generated/"
    entries = [
        ("dask.array", "py:module", "array-api.html#module-dask.array"),
        ("dask.delayed", "py:function", "delayed-api.html"),
        ("dask.compute", "py:function", "api.html"),
        ("dask.persist", "py:function", "api.html"),
        ("dask.visualize", "py:function", "api.html"),
    ]
    for name in _public(getattr(da, "__all__", dir(da))):
        obj = _get(da, name)
        if callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj):
            entries.append(
                (f"dask.array.{name}", "py:function", gen + f"dask.array.{name}.html")
            )
    entries.append(("dask.array.Array", "py:class", gen + "dask.array.Array.html"))
    for name in _public(vars(da.Array)):
        value = inspect.getattr_static(da.Array, name)
        # methods have their own pages; properties are not documented one by one
        if callable(value) and not isinstance(value, property):
            role = "py:method"
            entries.append(
                (
                    f"dask.array.Array.{name}",
                    role,
                    gen + f"dask.array.Array.{name}.html",
                )
            )
    return entries


def matplotlib_objects():
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    gen = "api/_as_gen/"
    entries = [
        ("matplotlib.pyplot", "py:module", "api/pyplot_summary.html#module-matplotlib.pyplot"),
        ("matplotlib.colors.Colormap", "py:class", gen + "matplotlib.colors.Colormap.html"),
        ("matplotlib.colors.ListedColormap", "py:class", gen + "matplotlib.colors.ListedColormap.html"),
        ("matplotlib.figure.Figure", "py:class", gen + "matplotlib.figure.Figure.html"),
        ("matplotlib.axes.Axes", "py:class", "api/axes_api.html"),
        ("matplotlib.text.Text", "py:class", "api/text_api.html#matplotlib.text.Text"),
    ]  # fmt: skip
    for name in _public(dir(plt)):
        obj = _get(plt, name)
        if inspect.isfunction(obj) and obj.__module__ == "matplotlib.pyplot":
            entries.append(
                (
                    f"matplotlib.pyplot.{name}",
                    "py:function",
                    gen + f"matplotlib.pyplot.{name}.html",
                )
            )
    for cls, full in (
        (Figure, "matplotlib.figure.Figure"),
        (Axes, "matplotlib.axes.Axes"),
    ):
        for name in _public(dir(cls)):
            if inspect.isfunction(_get(cls, name)):
                entries.append(
                    (f"{full}.{name}", "py:method", gen + f"{full}.{name}.html")
                )
    return entries


SCIPY_MODULES = ("cluster.hierarchy", "cluster.vq", "fft", "interpolate", "linalg",
                 "ndimage", "optimize", "signal", "sparse", "spatial",
                 "spatial.distance", "special", "stats")  # fmt: skip


def scipy_objects():
    gen = "reference/generated/"
    entries = []
    for short in SCIPY_MODULES:
        module_name = f"scipy.{short}"
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        entries.append(
            (module_name, "py:module", f"reference/{short}.html#module-{module_name}")
        )
        for name in _public(getattr(module, "__all__", ())):
            obj = _get(module, name)
            if inspect.isclass(obj):
                entries.append(
                    (
                        f"{module_name}.{name}",
                        "py:class",
                        gen + f"{module_name}.{name}.html",
                    )
                )
            elif callable(obj) and not inspect.ismodule(obj):
                entries.append(
                    (
                        f"{module_name}.{name}",
                        "py:function",
                        gen + f"{module_name}.{name}.html",
                    )
                )
    return entries


def distributed_objects():
    return [
        ("distributed.Client", "py:class", "api.html"),
        ("distributed.LocalCluster", "py:class", "api.html"),
        ("distributed", "py:module", "index.html#module-distributed"),
    ]


SOURCES = {
    "python": (python_objects, None),
    "numpy": (numpy_objects, "numpy"),
    "sklearn": (sklearn_objects, "sklearn"),
    "hyperspy": (hyperspy_objects, "hyperspy"),
    "dask": (dask_objects, "dask"),
    "distributed": (distributed_objects, "distributed"),
    "matplotlib": (matplotlib_objects, "matplotlib"),
    "scipy": (scipy_objects, "scipy"),
}


# -- writing -------------------------------------------------------------------------------


def _line(entry):
    name, role, uri, *display = entry
    if "#" not in uri:
        # objects are anchored at their full name; Sphinx's "$" stands for it
        anchor = name if not role.startswith("std:") else ""
        uri = f"{uri}#$" if anchor else uri
    display = display[0] if display and display[0] != name else "-"
    return f"{name} {role} 1 {uri} {display}"


def inventory_bytes(project, version, entries):
    """The bytes of an ``objects.inv`` (format version 2) holding ``entries``."""
    seen = set()
    lines = []
    for entry in entries:
        key = (entry[0], entry[1])
        if key not in seen:
            seen.add(key)
            lines.append(_line(entry))
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    return header + zlib.compress(("\n".join(sorted(lines)) + "\n").encode())


def write_inventories(output=OUTPUT):
    """Write one ``<name>.inv`` per project; return ``{name: (url, path)}``.

    Files are rewritten only when their content changes, so that Sphinx's
    incremental builds are not invalidated for nothing.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for name, (make_entries, package) in SOURCES.items():
        url, title = PROJECTS[name]
        version = _version(package) if package else ""
        data = inventory_bytes(title, version, make_entries())
        path = output / f"{name}.inv"
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        mapping[name] = (url, str(path))
    return mapping


if __name__ == "__main__":
    for name, (url, path) in write_inventories().items():
        print(f"{name:12s} {url:45s} {path}")
