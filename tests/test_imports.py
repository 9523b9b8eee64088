"""Import structure: every module imports on its own, and scoring, training and selection form
no import cycle."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adwp", "encoders")
# Modules that must not be in an import cycle with any other module.
LAYERED = (
    "adwp.checkpoint",
    "adwp.device",
    "adwp.evaluator",
    "adwp.generator",
    "adwp.selection",
    "adwp.training",
)


def _module_files() -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its ``__init__``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _module_files()


def _lazy_exports(tree: ast.Module) -> dict[str, str]:
    """A package's ``_EXPORTS`` table (name -> defining module) of names imported on first use."""
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in targets):
                return {
                    k.value: v.value
                    for k, v in zip(node.value.keys, node.value.values)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
                }
    return {}


def _import_graph() -> dict[str, set[str]]:
    """Module -> modules of the packages it imports anywhere in its source.

    Counts imports at module level, in functions and under ``TYPE_CHECKING`` alike, and
    ``importlib.import_module("literal")`` calls; ``from package import name`` of a lazily
    exported name counts as importing the module that defines it.
    """
    trees = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}
    lazy = {name: _lazy_exports(tree) for name, tree in trees.items()}
    graph: dict[str, set[str]] = {}
    for name, tree in trees.items():
        is_package = MODULES[name].name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    if f"{base}.{alias.name}" in MODULES:
                        edges.add(f"{base}.{alias.name}")
                    elif alias.name in lazy.get(base, {}):
                        edges.add(lazy[base][alias.name])
                    else:
                        edges.add(base)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                edges.add(node.args[0].value)
        graph[name] = {edge for edge in edges if edge in MODULES and edge != name}
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_import_graph_sees_imports_at_every_level():
    graph = _import_graph()
    assert "adwp.training" in graph["adwp.cli.train"]  # imported inside a function
    assert "adwp.training" in graph["adwp.selection"]  # imported under TYPE_CHECKING
    assert "adwp.spaces._network" in graph["adwp.spaces"]  # importlib.import_module
    assert "encoders._probabilities" in graph["encoders.onehot"]


@pytest.mark.parametrize("module", LAYERED)
def test_scoring_training_and_selection_are_in_no_import_cycle(module):
    graph = _import_graph()
    cycle = sorted(m for m in _reachable(graph, module) if module in _reachable(graph, m))
    assert cycle == [], f"{module} is in an import cycle with {cycle}"


def test_training_and_scoring_import_neither_each_other_nor_selection():
    graph = _import_graph()
    assert not {"adwp.evaluator", "adwp.selection"} & _reachable(graph, "adwp.training")
    assert not {"adwp.training", "adwp.selection"} & _reachable(graph, "adwp.evaluator")


def _private_imports() -> set[str]:
    """Imports of a private name or module (``_x``) from outside the package that holds it."""
    wrong = set()
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                private = [i for i, part in enumerate(parts) if part[:1] == "_" != part[1:2]]
                if parts[0] not in PACKAGES or not private:
                    continue
                # A private part is for the modules of the package (and subpackages) holding it.
                owner = ".".join(parts[: private[0]])
                if name != owner and not name.startswith(owner + "."):
                    wrong.add(f"{name} imports {target}")
    return wrong


def test_no_private_name_is_imported_from_another_package():
    assert sorted(_private_imports()) == []


_IMPORT_EACH = """
import importlib, json, sys, traceback
failures = {}
for module in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("adwp", "encoders")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(module)
    except Exception:
        failures[module] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def test_every_module_imports_first_in_a_fresh_interpreter():
    # Each module is imported with no other module of the packages loaded before it (third-party
    # packages stay loaded, to keep this fast), which is how an import cycle shows up.
    result = subprocess.run(
        # adwp.__main__ runs the command line when imported.
        [sys.executable, "-c", _IMPORT_EACH, json.dumps(sorted(set(MODULES) - {"adwp.__main__"}))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(failures.values())


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        ("adwp", ("torch", "numpy", "scipy", "tqdm", "matplotlib", "optuna")),
        ("adwp.cli", ("torch", "numpy", "scipy", "tqdm", "matplotlib", "optuna")),
        ("adwp.spaces", ("torch", "scipy", "tqdm", "matplotlib", "optuna")),
    ],
)
def test_light_modules_stay_light(module, heavy):
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert sorted(set(heavy) & loaded) == []
