"""Sphinx helpers of the clusterspy documentation.

* References written relative to the module that defines an object resolve
  where the object is documented. The API reference documents every object
  that ``clusterspy`` exports on one page, under its top-level name
  (``clusterspy.get_cluster_metric``), but its docstring was written in its
  own module (``clusterspy.estimate``) and may name neighbours as
  ``:class:`ClusterMetric``` or ``:func:`clusterspy.plotting.cluster_colors```.
  When Python's domain finds no target, the reference is looked up among the
  documented clusterspy objects with the same last name, and resolved if they
  all are one Python object.
* Every name of ``clusterspy.__all__`` and every method of the ``s.clusterspy``
  namespace must be documented: a missing one is a warning, so that a build
  with ``-W`` fails until the API reference lists it.
"""

from __future__ import annotations

import importlib

from sphinx.util import logging
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

PACKAGE = "clusterspy"


def _import(fullname):
    """The Python object named ``fullname``, or ``None``."""
    parts = fullname.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _same_object(names):
    objects = [_import(n) for n in names]
    first = objects[0]
    return first is not None and all(o is first for o in objects[1:])


def resolve_relative(app, env, node, contnode):
    """``missing-reference`` handler: see the module docstring."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").removesuffix("()")
    if not target:
        return None
    domain = env.get_domain("py")
    reftype = node.get("reftype")
    objtypes = domain.objtypes_for_role(reftype) or list(domain.object_types)
    last = target.rsplit(".", 1)[-1]
    candidates = [
        name
        for name, entry in domain.objects.items()
        if name.startswith(PACKAGE + ".")
        and (name == target or name.endswith("." + last))
        and entry.objtype in objtypes
        and not entry.aliased
    ]
    if not candidates:
        return None
    if len(candidates) > 1:
        # Prefer the object that the written name really is.
        wanted = _import(target) if "." in target else None
        if wanted is not None:
            candidates = [c for c in candidates if _import(c) is wanted]
        else:
            # a bare name: the class or module the docstring belongs to first
            context = ".".join(
                p for p in (node.get("py:module"), node.get("py:class")) if p
            )
            local = [c for c in candidates if c == f"{context}.{last}"]
            candidates = local or candidates
        if len(candidates) > 1 and _same_object(candidates):
            candidates = [min(candidates, key=len)]  # the top-level name
    if len(candidates) != 1:
        return None
    entry = domain.objects[candidates[0]]
    return make_refnode(
        app.builder,
        node["refdoc"],
        entry.docname,
        entry.node_id,
        contnode,
        candidates[0],
    )


def check_api_documented(app, env):
    """Warn for public names that the API reference does not document."""
    import clusterspy

    objects = env.get_domain("py").objects
    for name in clusterspy.__all__:
        if f"{PACKAGE}.{name}" not in objects:
            logger.warning(
                "clusterspy.%s is in clusterspy.__all__ but not documented: "
                "add it to docs/api/index.rst",
                name,
                type="clusterspy",
                subtype="api",
            )
    accessor = clusterspy.ClusterspyAccessor
    for name in dir(accessor):
        if name.startswith("_"):
            continue
        if f"{PACKAGE}.ClusterspyAccessor.{name}" not in objects:
            logger.warning(
                "ClusterspyAccessor.%s is not documented (see "
                "docs/_templates/autosummary/accessor.rst)",
                name,
                type="clusterspy",
                subtype="api",
            )


def setup(app):
    app.connect("missing-reference", resolve_relative)
    app.connect("env-check-consistency", check_api_documented)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
