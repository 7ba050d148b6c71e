"""Sphinx configuration of the clusterspy documentation.

Build with warnings as errors, as CI does::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

The build needs no network: the intersphinx inventories of Python, NumPy,
scikit-learn, HyperSpy and dask are written from the installed packages
(``_ext/offline_inventories.py``), and the theme ships its own assets.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

# Before anything imports NumPy, scikit-learn or matplotlib: OpenMP threads
# that spin while waiting make scikit-learn many times slower on small
# machines, and figures are drawn off screen.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("MPLBACKEND", "Agg")
# Examples read this to run on smaller data, so that the whole gallery
# builds in a few minutes (see examples/*.py).
os.environ["CLUSTERSPY_DOCS"] = "1"

import gallery_helpers  # noqa: E402
import offline_inventories  # noqa: E402

import clusterspy  # noqa: E402

# -- project ------------------------------------------------------------------------
project = "clusterspy"
author = "The clusterspy developers"
copyright = "the clusterspy developers, GPL-3.0-or-later"
release = clusterspy.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    "matplotlib.sphinxext.plot_directive",
    "clusterspy_docs",
]

# -- figures made at build time (``.. plot::`` in the guide pages) ----------------------
# Each runs on the shipped real map or on small generated data: seconds each.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 90)]
plot_rcparams = {"figure.max_open_warning": 0}

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_inventories",
    "_gallery_src",
    "images",
    "design.md",  # included by design.rst
    "gallery_header.rst",  # copied into the gallery by gallery_helpers
]
# Every cross-reference must resolve: a broken link fails the build.
nitpicky = True
nitpick_ignore_regex = [
    # numpydoc links every word of a parameter's type ("numpy.ndarray of int,
    # shape (n_samples,)"); plain words without a dot that name no object
    # ("shape", "n_samples", "colours") stay plain text. Dotted names and
    # every explicit role (:func:, :class:, ...) must resolve.
    ("py:obj", r"[^.]+"),
    # Projects without an inventory here: HyperSpy's drawing classes (not in
    # HyperSpy's API reference) and exspy's element database.
    ("py:.*", r"hyperspy\.drawing\..*"),
    ("py:.*", r"exspy\..*"),
]

suppress_warnings = [
    # numpydoc renames the citations of a References section; a docstring
    # that lists references without citing them in its text ("[1]_") is
    # still correct documentation.
    "ref.citation",
]

# -- API reference: autodoc, autosummary, numpydoc -----------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False  # module pages list the module's __all__
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters sections say it all
autodoc_member_order = "bysource"


def _toplevel_aliases():
    """For each module, the names of its ``__all__`` that ``clusterspy`` exports."""
    import importlib
    import pkgutil

    aliases: dict[str, list[str]] = {}
    modules = [
        m.name for m in pkgutil.walk_packages(clusterspy.__path__, prefix="clusterspy.")
    ]
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if name in clusterspy.__all__ and getattr(module, name) is getattr(
                clusterspy, name
            ):
                aliases.setdefault(module_name, []).append(name)
    return aliases


# Module pages link objects re-exported by ``clusterspy`` to their top-level
# page instead of documenting them twice.
autosummary_context = {"toplevel_aliases": _toplevel_aliases()}

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "BaseSignal": "hyperspy.api.signals.BaseSignal",
    "hyperspy.api.signals.BaseSignal": "hyperspy.api.signals.BaseSignal",
    "Signal1D": "hyperspy.api.signals.Signal1D",
    "Signal2D": "hyperspy.api.signals.Signal2D",
    "ClusterResult": "clusterspy.ClusterResult",
    "ClusterMetric": "clusterspy.estimate.ClusterMetric",
    "GapStatistic": "clusterspy.estimate.GapStatistic",
    "RandomState": "numpy.random.RandomState",
    "Generator": "numpy.random.Generator",
    "Figure": "matplotlib.figure.Figure",
    "matplotlib.figure.Figure": "matplotlib.figure.Figure",
    "Path": "pathlib.Path",
    "path-like": ":term:`path-like <python:path-like object>`",
    "estimator": ":term:`estimator <sklearn:estimator>`",
    "Pipeline": "sklearn.pipeline.Pipeline",
}
# Words of type descriptions that are plain words, not objects to link.
numpydoc_xref_ignore = {
    "of",
    "or",
    "and",
    "shape",
    "optional",
    "default",
    "object",
    "function",
    "int-like",
    "like",
    "sequences",
    "ints",
    "equal",
    "length",
    "unit",
    "rows",
    "the",
    "same",
    "as",
    # array dimensions in "shape (n_samples, n_clusters)"
    "n_samples",
    "n_clusters",
    "n_features",
    "n_components",
    "n_positions",
    "k",
    "...",
}
# No numpydoc validation: the docstrings follow the project's own checks
# (tests/test_docstrings.py), not numpydoc's full rule set.
numpydoc_validation_checks: set[str] = set()

# -- links to other projects' docs, offline --------------------------------------------
intersphinx_mapping = {
    name: (url, path)
    for name, (url, path) in offline_inventories.write_inventories().items()
}

# -- gallery ----------------------------------------------------------------------------
sphinx_gallery_conf = {
    # A mirror of examples/ (links to every examples/*.py) with the gallery
    # header from docs/: every example in examples/ appears, and examples/
    # needs no Sphinx-specific file.
    "examples_dirs": [str(gallery_helpers.mirror_examples(ROOT / "examples"))],
    "gallery_dirs": ["auto_examples"],
    # Run every script, not only plot_*.py.
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"(__init__|conftest)\.py$|/_[^/]*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    # Close figures and reset matplotlib's settings between examples, and
    # give each example its real ``__file__`` (sphinx-gallery runs examples
    # without one; scripts that locate data beside themselves need it).
    "reset_modules": ("matplotlib", "gallery_helpers.reset_example"),
    "reset_modules_order": "both",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
    "doc_module": ("clusterspy",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"clusterspy": None},
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
    "plot_gallery": "True",
}

# -- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"clusterspy {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "getting_started": [], "design": []}
# "cluster_analysis()" rather than "ClusterspyAccessor.cluster_analysis()"
# in the page contents
toc_object_entries_show_parents = "hide"
html_show_sourcelink = False
html_copy_source = False

myst_heading_anchors = 3
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
