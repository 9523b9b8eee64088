"""Import structure: the stage packages form layers that import only downwards, no module is in an
import cycle (not even through an import inside a function), and every module imports on its
own."""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adwp", "encoders")
# The stages, lowest first, each by the modules and packages it holds. A module imports modules of
# its own layer and of the layers below it, never of one above.
LAYERS = (
    (
        "base",
        (
            "adwp._augment",
            "adwp._checks",
            "adwp._distributed",
            "adwp.device",
            "adwp.errors",
            "adwp.io",
            "adwp.registry",
        ),
    ),
    ("spaces and data", ("adwp.spaces", "adwp.data")),
    ("weight generators", ("adwp.generators", "adwp.pretrained", "encoders")),
    # Ranking backends read truth tables (table:) and train architectures (short training).
    ("truth", ("adwp.truth",)),
    ("ranking", ("adwp.ranking", "adwp.testing")),
    ("search", ("adwp.search",)),
    ("plots", ("adwp.plots",)),
    ("use cases", ("adwp.usecases", "adwp.benchmarking", "adwp.sampled_benchmark")),
    ("command line", ("adwp.cli", "adwp.__main__")),
)
# ``import adwp`` names the public API lazily; it stands above every layer.
FACADES = ("adwp",)


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


@functools.cache
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


_SHIM_STATEMENTS = (ast.Import, ast.ImportFrom, ast.Expr, ast.Assign, ast.AnnAssign)


def _is_shim(tree: ast.Module) -> bool:
    """Whether a module only re-exports others: imports, a docstring, ``__all__`` and at most
    ``sys.modules[__name__] = target`` (an old module path kept as an alias of the new one)."""
    for node in tree.body:
        if not isinstance(node, _SHIM_STATEMENTS):
            return False
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            return False
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                alias = isinstance(target, ast.Subscript) and ast.unparse(target) in (
                    "sys.modules[__name__]"
                )
                if not (alias or (isinstance(target, ast.Name) and target.id == "__all__")):
                    return False
    return True


SHIMS = frozenset(
    name for name, path in MODULES.items() if _is_shim(ast.parse(path.read_text(), str(path)))
)


@functools.cache
def _resolved_graph() -> dict[str, set[str]]:
    """The import graph of the modules with code, an import of a re-export module counting as
    an import of the modules it re-exports."""
    graph = _import_graph()

    def resolve(module: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if module not in SHIMS or module in seen:
            return {module}
        return set().union(*(resolve(m, seen | {module}) for m in graph[module]), set())

    return {
        name: set().union(*(resolve(m) for m in edges), set()) - {name}
        for name, edges in graph.items()
        if name not in SHIMS
    }


def _layer(module: str) -> int | None:
    for rank, (_, members) in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members):
            return rank
    return None


def test_the_import_graph_sees_imports_at_every_level():
    graph = _import_graph()
    assert "adwp.training" in graph["adwp.cli.train"]  # imported inside a function
    assert "adwp.generators.training" in graph["adwp.ranking.selection"]  # under TYPE_CHECKING
    assert "adwp.spaces.macro.network" in graph["adwp.spaces"]  # importlib.import_module
    assert "encoders._probabilities" in graph["encoders.onehot"]


def test_re_export_modules_resolve_to_the_modules_they_name():
    assert {"adwp.evaluator", "adwp.metrics", "adwp.baselines.proxies"} <= SHIMS
    assert not {"adwp.ranking.evaluator", "adwp.spaces", "adwp.registry"} & SHIMS
    graph = _resolved_graph()
    assert "adwp.ranking.backend" in graph["adwp.search._common"]  # through adwp.backend
    assert "adwp.backend" not in graph["adwp.search._common"]


def test_every_module_belongs_to_a_layer():
    unplaced = sorted(
        m for m in MODULES if m not in SHIMS and m not in FACADES and _layer(m) is None
    )
    assert unplaced == [], f"place these modules in a layer of LAYERS: {unplaced}"


@pytest.mark.parametrize("module", sorted(set(MODULES) - SHIMS - set(FACADES)))
def test_no_module_imports_a_higher_layer(module):
    graph = _resolved_graph()
    rank = _layer(module)
    upward = sorted(
        f"{m} ({LAYERS[_layer(m)][0]})"
        for m in graph[module]
        if m not in FACADES and rank is not None and (_layer(m) or 0) > rank
    )
    assert upward == [], f"{module} ({LAYERS[rank][0]}) imports a higher layer: {upward}"


@functools.cache
def _cycles() -> dict[str, set[str]]:
    """Every module in an import cycle, with the modules it shares cycles with."""
    graph = _resolved_graph()
    reach = {module: _reachable(graph, module) for module in graph}
    return {
        module: {other for other in reach[module] if module in reach[other]}
        for module in graph
        if module in reach[module]
    }


@pytest.mark.parametrize("module", sorted(set(MODULES) - SHIMS))
def test_no_module_is_in_an_import_cycle(module):
    cycle = sorted(_cycles().get(module, ()))
    assert cycle == [], f"{module} is in an import cycle with {cycle}"


def test_training_and_scoring_import_neither_each_other_nor_selection():
    graph = _resolved_graph()
    training, scoring = "adwp.generators.training", "adwp.ranking.evaluator"
    assert not {scoring, "adwp.ranking.selection"} & _reachable(graph, training)
    assert not {training, "adwp.ranking.selection"} & _reachable(graph, scoring)


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
