"""The user documentation stays in step with the code it describes."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from adwp.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "cli.md"
HISTORY = re.compile(r"sessions? [0-9]|(until|before) session|ranking run [0-9]", re.I)


def _subcommands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    yield from action.choices.items()


@pytest.mark.parametrize(("name", "sub"), list(_subcommands()))
def test_every_flag_is_in_the_cli_reference(name: str, sub: argparse.ArgumentParser) -> None:
    doc = CLI_DOC.read_text()
    flags = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    missing = [flag for flag in flags if flag != "--help" and f"`{flag}`" not in doc]
    assert missing == [], f"docs/cli.md lacks {missing} of adwp {name}"


@pytest.mark.parametrize(("name", "sub"), list(_subcommands()))
def test_the_cli_reference_shows_the_current_usage(
    name: str, sub: argparse.ArgumentParser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # the width the reference was written at
    words = sub.format_usage().split()
    block = re.search(
        r"usage: adwp " + re.escape(name) + r" \[-h\](.*?)\n```", CLI_DOC.read_text(), re.S
    )
    assert block is not None, f"docs/cli.md has no usage block of adwp {name}"
    assert ["usage:", "adwp", name, "[-h]", *block.group(1).split()] == words


def test_user_documents_carry_no_project_history() -> None:
    # History belongs in docs/decisions.md and CHANGELOG.md only.
    documents = [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "benchmarks").rglob("*.md"),
    ]
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in documents
        if path.name != "decisions.md"
        for match in HISTORY.finditer(path.read_text())
    ]
    assert found == []
