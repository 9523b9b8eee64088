"""The examples of docs/extending.md run as written: each module passes its own test, and the
searcher, proxy, space and data set they register are offered by the command line and run
through it together."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adwp.registry import DATASETS, PROXIES, SEARCHERS, SPACES, Registry

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "extending.md"
# What the examples register, and where.
ENTRIES: dict[str, tuple[Registry, str]] = {
    "widths_space": (SPACES, "widths"),
    "hill_climbing": (SEARCHERS, "hill-climbing"),
    "logit_spread": (PROXIES, "logit_spread"),
    "stripes": (DATASETS, "stripes"),
}
LAUNCHER = "my_adwp"


def _files() -> dict[str, str]:
    """``{file name: code}`` of the document's Python blocks, each named by its first line."""
    blocks = re.findall(r"```python\n# (\w+\.py)\n(.*?)```", DOC.read_text(), re.S)
    return dict(blocks)


def _command() -> list[str]:
    """The document's ``python my_adwp.py search ...`` command, as arguments."""
    block = re.search(r"```bash\n(python my_adwp\.py .*?)```", DOC.read_text(), re.S)
    assert block is not None, "docs/extending.md shows no my_adwp.py command"
    return block.group(1).replace("\\\n", " ").split()[2:]


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The examples written to a folder, imported (so their entries are registered), and
    unregistered again afterwards."""
    folder = tmp_path_factory.mktemp("extending")
    for name, code in _files().items():
        (folder / name).write_text(code)
    sys.path.insert(0, str(folder))
    try:
        for module in ENTRIES:
            importlib.import_module(module)
        yield folder
    finally:
        sys.path.remove(str(folder))
        for module, (registry, name) in ENTRIES.items():
            sys.modules.pop(module, None)
            if name in registry:
                registry.unregister(name)
        for name in _files():
            sys.modules.pop(name.removesuffix(".py"), None)


def test_every_example_is_one_module_and_its_test() -> None:
    names = set(_files())
    modules = {name for name in names if not name.startswith("test_")} - {f"{LAUNCHER}.py"}
    assert modules == {f"{module}.py" for module in ENTRIES}
    assert names == modules | {f"test_{m}" for m in modules} | {f"{LAUNCHER}.py"}


@pytest.mark.parametrize("module", list(ENTRIES))
def test_each_example_passes_its_own_test(examples: Path, module: str) -> None:
    tests = importlib.import_module(f"test_{module}")
    functions = [f for name, f in vars(tests).items() if name.startswith("test_")]
    assert functions
    for function in functions:
        function()


def _help(command: str) -> str:
    from adwp.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return " ".join(action.choices[command].format_help().split())


def _offers(text: str, name: str) -> bool:
    """Whether ``name`` stands in ``text`` as a word of its own (not inside ``base_widths``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def test_the_command_line_offers_what_the_examples_register(examples: Path) -> None:
    search, rank = _help("search"), _help("rank")
    assert _offers(search, "hill-climbing") and _offers(search, "logit_spread")
    assert _offers(rank, "logit_spread")
    assert _offers(_help("space"), "widths") and _offers(_help("train"), "stripes")


def test_the_examples_run_together_through_the_command_line(examples: Path, tmp_path: Path) -> None:
    from adwp.cli import main

    args = _command()
    output = tmp_path / "hill.json"
    args[args.index("--output") + 1] = str(output)
    assert main([*args, "--quiet"]) == 0
    out = json.loads(output.read_text())
    assert out["method"] == "hill-climbing" and out["backend"] == "proxy:logit_spread"
    assert len(out["history"]) == 6
    assert all(set(r["arch"].split("-")) <= {"4", "8", "16"} for r in out["evaluated"])


def test_the_launcher_is_the_adwp_command_with_the_examples(examples: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(examples), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, str(examples / f"{LAUNCHER}.py"), "search", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "hill-climbing" in result.stdout and "logit_spread" in result.stdout
