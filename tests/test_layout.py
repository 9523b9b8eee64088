"""Layout of the package: no module over 500 lines, and no run of six or more identical lines
written twice anywhere inside ``adwp/`` (code that is copied instead of shared)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "adwp"
MAX_LINES = 500
RUN = 6
FILES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def _params() -> list:
    params = []
    for path in FILES:
        params.append(pytest.param(path, id=_name(path)))
    return params


@pytest.mark.parametrize("path", _params())
def test_no_module_is_over_500_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{_name(path)} has {lines} lines; split it (at most {MAX_LINES})"


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, stripped text)`` of the non-blank lines, but for imports and signatures.

    As in pylint's duplicate-code check, import statements and function signatures are left
    out: two modules needing the same names, or a subclass repeating its parent's parameters,
    is no copied code.
    """
    text = path.read_text()
    skipped = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skipped.update(range(node.lineno, node.body[0].lineno))
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and number not in skipped
    ]


def repeated_runs(files: list[Path], run: int = RUN) -> dict[Path, list[str]]:
    """Every run of ``run`` identical lines that stands twice, by the files holding a copy.

    Returns ``{file: ["file:line also at other:line", ...]}``; a copy longer than ``run`` lines
    is reported once, at its first line.
    """
    lines = {path: _code_lines(path) for path in files}
    places: dict[tuple[str, ...], list[tuple[Path, int]]] = defaultdict(list)
    for path, numbered in lines.items():
        for i in range(len(numbered) - run + 1):
            places[tuple(text for _, text in numbered[i : i + run])].append((path, i))
    found: dict[Path, list[str]] = defaultdict(list)
    for spots in places.values():
        if len(spots) < 2:
            continue
        for path, i in spots:
            before = tuple(text for _, text in lines[path][i - 1 : i - 1 + run]) if i else ()
            if len(places.get(before, ())) > 1:
                continue  # the same copy, reported at its first line
            others = " and ".join(
                f"{_name(p)}:{lines[p][j][0]}" for p, j in spots if (p, j) != (path, i)
            )
            found[path].append(f"{_name(path)}:{lines[path][i][0]} also at {others}")
    return dict(found)


_REPEATS: dict[Path, list[str]] = {}


@pytest.mark.parametrize("path", _params())
def test_no_run_of_six_lines_stands_twice(path):
    if not _REPEATS:
        _REPEATS.update(repeated_runs(FILES) or {Path(): []})
    assert _REPEATS.get(path, []) == [], "copied code; share one copy:\n" + "\n".join(
        _REPEATS.get(path, [])
    )


def test_the_checker_finds_a_copied_run(tmp_path):
    body = "\n".join(f"    x{i} = f({i})" for i in range(RUN))
    one, two = tmp_path / "one.py", tmp_path / "two.py"
    one.write_text(f"import os\n\n\ndef a():\n{body}\n")
    two.write_text(f"import os\n\n\ndef b():\n{body}\n    return 1\n")
    found = repeated_runs([one, two])
    assert [len(found[one]), len(found[two])] == [1, 1]
    # One line fewer is no finding, and neither are shared imports and signatures.
    short = "\n".join(f"    x{i} = f({i})" for i in range(RUN - 1))
    signature = "".join(f"    a{i}: int = {i},\n" for i in range(RUN))
    one.write_text(f"import os\nimport sys\n\n\ndef a(\n{signature}):\n{short}\n")
    two.write_text(f"import os\nimport sys\n\n\ndef b(\n{signature}):\n{short}\n")
    assert repeated_runs([one, two]) == {}
