"""The package's layout: no import cycle, and nothing imports "up".

The import graph is read from the source with :mod:`ast` (every ``import``,
also inside functions), so these tests need no import of the package.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "clusterspy"

# The orchestration and everything built on it: the engines, the features and
# the stored result sit below all of them.
ABOVE_ENGINES = (
    "clusterspy.accessor",
    "clusterspy.analysis",
    "clusterspy.cli",
    "clusterspy.cluster_stats",
    "clusterspy.estimate",
    "clusterspy.export",
    "clusterspy.features",
    "clusterspy.getters",
    "clusterspy.plotting",
    "clusterspy.prediction",
    "clusterspy.report",
    "clusterspy.signals",
)
ABOVE_RESULTS = tuple(
    m
    for m in ABOVE_ENGINES + ("clusterspy.engines",)
    if m not in ("clusterspy.features",)
)


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name, path, known):
    """Package modules that ``name`` imports (absolute names)."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # `from pkg import name`: the submodule pkg.name if there is one,
            # else pkg itself (its __init__ runs and defines name)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in known)
    found.discard(name)
    return found


def _graph():
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_under(module, names):
    return any(module == n or module.startswith(n + ".") for n in names)


def test_the_graph_reader_sees_the_known_imports():
    graph = _graph()
    # a module-level relative import, a function-level one, a parent package
    assert "clusterspy.engines.rowblocks" in graph["clusterspy.engines.kmeans"]
    assert "clusterspy.analysis" in graph["clusterspy.accessor"]
    assert "clusterspy.engines" in graph["clusterspy.analysis"]
    assert "clusterspy.prediction" in graph["clusterspy"]


def test_no_import_cycle_among_package_modules():
    cycles = _cycles(_graph())
    assert not cycles, f"import cycles: {cycles}"


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    "module",
    sorted(m for m in _modules() if _is_under(m, ("clusterspy.engines",))),
)
def test_engines_import_nothing_above_them(module):
    graph = _graph()
    above = sorted(
        m for m in graph[module] if _is_under(m, ABOVE_ENGINES) or m == "clusterspy"
    )
    assert not above, f"{module} imports {above}"
    assert "clusterspy.analysis" not in graph[module]


def test_results_import_nothing_above_them():
    imported = _graph()["clusterspy.results"]
    above = sorted(m for m in imported if _is_under(m, ABOVE_RESULTS))
    assert not above, f"clusterspy.results imports {above}"
    assert "clusterspy" not in imported
