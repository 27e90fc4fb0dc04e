"""The public contract of the ``kg`` library: every public function and method shows a runnable ``>>>`` example.

The library packages are ``kg.core``, ``kg.store``, ``kg.query``, ``kg.views``,
``kg.analysis`` and ``kg.dataplane`` (not the edge: ``kg.cli``, ``kg.endpoint``). Public
means: a function or class a module defines and exports (its ``__all__`` when it has one,
else every name without a leading ``_``), and the methods and properties such a class
defines. Modules whose name starts with ``_`` are private.

Every module's examples are run here as doctests (in an empty working folder, so that a
file an example writes lands nowhere in the repository), so CI runs them whatever paths
pytest collects. ``examples_backlog.txt`` lists the public functions still without an
example; the list may only shrink: a new function without an example, or a listed one
that now has an example, fails the test (a listed name that is gone is ignored).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

LIBRARY = ("kg.core", "kg.store", "kg.query", "kg.views", "kg.analysis", "kg.dataplane")
BACKLOG = Path(__file__).resolve().parent / "examples_backlog.txt"
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def library_modules() -> list[str]:
    names = []
    for package in LIBRARY:
        names.append(package)
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return sorted(names)


def public_objects(module: ModuleType) -> Iterator[tuple[str, object]]:
    """(qualified name, function) for each public function, class, method and property the module defines."""
    exported = getattr(module, "__all__", None)
    for name, obj in vars(module).items():
        if name.startswith("_") or (exported is not None and name not in exported):
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) or getattr(obj, "__module__", None) != module.__name__:
            continue
        yield f"{module.__name__}.{name}", obj
        if inspect.isclass(obj):
            for attribute, value in vars(obj).items():
                function = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                if not attribute.startswith("_") and inspect.isfunction(function):
                    yield f"{module.__name__}.{name}.{attribute}", function


def _without_example() -> set[str]:
    missing = set()
    for name in library_modules():
        for qualified, obj in public_objects(importlib.import_module(name)):
            if ">>>" not in (inspect.getdoc(obj) or ""):
                missing.add(qualified)
    return missing


def _backlog() -> set[str]:
    lines = BACKLOG.read_text(encoding="utf-8").splitlines() if BACKLOG.exists() else []
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_public_function_shows_an_example() -> None:
    missing, backlog = _without_example(), _backlog()
    new = sorted(missing - backlog)
    assert not new, f"public functions of kg without a '>>>' example in their docstring: {new}"
    done = sorted(name for name in backlog - missing if _exists(name))
    assert not done, f"these have an example now: remove them from {BACKLOG.name}: {done}"


def _exists(qualified: str) -> bool:
    """Whether a backlog entry still names something (a module being written may not be committed yet)."""
    parts = qualified.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute, None)
            if obj is None:
                return False
        return True
    return False


def test_the_walk_finds_the_library() -> None:
    modules = library_modules()
    assert {"kg.store.graph", "kg.core.errors", "kg.query.named", "kg.views.networkx"} <= set(modules)
    assert not [m for m in modules if m.startswith(("kg.cli", "kg.endpoint"))]
    found = dict(public_objects(importlib.import_module("kg.store.graph")))
    assert "kg.store.graph.KnowledgeGraph.load" in found and "kg.store.graph.KnowledgeGraph._commit" not in found


@pytest.mark.parametrize("name", library_modules())
def test_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)


@pytest.mark.parametrize("first", ["loaders", "kg", "kg.store", "kg.analysis", "queries"])
def test_each_package_imports_first_in_a_fresh_interpreter(first: str) -> None:
    """No import cycle shows when a package is the first one imported (as ``pytest --doctest-modules`` does)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", f"import {first}"], cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
