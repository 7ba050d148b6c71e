"""Every docstring example of the installed package runs and gives its output."""

import doctest
import importlib
import importlib.util
import os
import pkgutil

import pytest

import clusterspy

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(clusterspy.__path__, prefix="clusterspy.")
    if not name.endswith("__main__")
)

# examples that need the optional PyTorch (clusterspy[deep]), skipped without it
NEEDS_TORCH = ("clusterspy.deep", "clusterspy._torch", "engines.torch", "learn_features")
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name == "clusterspy.engines.lloyd" and (
        os.environ.get("CLUSTERSPY_EXPECT_COMPILED", "1") == "0"
    ):
        pytest.skip("built without a compiler (CLUSTERSPY_EXPECT_COMPILED=0)")
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    tests = finder.find(module, name)
    for test in tests:
        if not HAS_TORCH and any(part in test.name for part in NEEDS_TORCH):
            continue
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_every_public_function_has_an_example():
    missing = []
    for name in clusterspy.__all__:
        obj = getattr(clusterspy, name)
        if callable(obj) and not isinstance(obj, type):
            if ">>>" not in (obj.__doc__ or ""):
                missing.append(name)
    assert not missing, f"no runnable example in: {missing}"
