"""One registry shape for every seam, entries added from outside the package, and the command
line offering what user code registered."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adwp.cli import build_parser, main
from adwp.errors import AdwpError, DataError, RegistryError
from adwp.registry import (
    PROXIES,
    REGISTRIES,
    SCORE_METRICS,
    SEARCHERS,
    Registry,
)
from adwp.spaces import get_space

ROOT = Path(__file__).resolve().parents[1]


def test_register_as_a_decorator_and_as_a_call() -> None:
    colours: Registry[Any] = Registry("colour")

    @colours.register("red", description="warm")
    def red() -> str:
        return "red"

    assert colours.register("blue", "BLUE", wavelength=470) == "BLUE"
    assert colours.get("red") is red
    assert colours["blue"] == "BLUE"
    assert colours.list() == ["blue", "red"]
    assert colours.info("red").description == "warm"
    assert colours.info("blue").options == {"wavelength": 470}
    assert "red" in colours and "green" not in colours


def test_description_defaults_to_the_first_docstring_line() -> None:
    colours: Registry[Any] = Registry("colour")

    @colours.register("red")
    def red() -> None:
        """A warm colour.

        More words.
        """

    assert colours.info("red").description == "A warm colour."


def test_unknown_names_are_refused_in_one_line_naming_the_allowed() -> None:
    colours: Registry[Any] = Registry("colour", error=DataError)
    colours.register("red", 1)
    colours.register("blue", 2)
    with pytest.raises(DataError, match=r"^unknown colour 'green'; available: blue, red$"):
        colours.get("green")
    with pytest.raises(DataError, match=r"^unknown colour 'green'; available: blue, red$"):
        colours.check("green")
    with pytest.raises(AdwpError, match=r"^unknown colour 'x'; available: none$"):
        Registry("colour").get("x")


def test_duplicates_and_malformed_names_are_refused() -> None:
    colours: Registry[Any] = Registry("colour")
    colours.register("red", 1)
    with pytest.raises(RegistryError, match=r"^colour 'red' is already registered$"):
        colours.register("red", 2)
    with pytest.raises(RegistryError, match="already registered"):
        colours.register("red")(lambda: None)
    assert colours.get("red") == 1
    for bad in ("", "a:b", "a,b", "a b", 3):
        with pytest.raises(RegistryError, match="name must be a non-empty string without"):
            colours.register(bad, 0)  # type: ignore[arg-type]
    # Registration errors are bad input (AdwpError) and, as before, ValueErrors.
    assert issubclass(RegistryError, AdwpError) and issubclass(RegistryError, ValueError)


def test_unregister_removes_an_entry() -> None:
    colours: Registry[Any] = Registry("colour")
    colours.register("red", 1)
    colours.unregister("red")
    assert colours.list() == []
    with pytest.raises(AdwpError, match="unknown colour 'red'"):
        colours.unregister("red")


@pytest.mark.parametrize("seam", sorted(REGISTRIES))
def test_every_built_in_is_registered_by_the_module_declared_for_it(seam: str) -> None:
    registry = REGISTRIES[seam]
    assert registry.list(), seam
    for name in registry.list():
        entry = registry.info(name)
        assert entry.name == name
        assert entry.description, f"{seam} {name} has no description"


def _python(code: str) -> str:
    """Runs ``code`` in a fresh interpreter (nothing imported yet) and returns its output."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return result.stdout


def test_a_built_in_name_is_taken_before_its_module_is_imported() -> None:
    # The built-in's module is loaded first, so the user's entry is the duplicate.
    code = (
        "import sys\n"
        "from adwp.registry import PROXIES\n"
        "assert 'adwp.baselines.proxies' not in sys.modules\n"
        "try:\n"
        "    PROXIES.register('synflow', lambda net, x, y: 0.0)\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    assert _python(code).strip() == "proxy 'synflow' is already registered"


def test_listing_names_imports_no_torch() -> None:
    code = (
        "import json, sys\n"
        "from adwp.registry import REGISTRIES\n"
        "names = {seam: r.list() for seam, r in REGISTRIES.items()}\n"
        "print(json.dumps('torch' in sys.modules))\n"
    )
    assert json.loads(_python(code)) is False


# -- entries from outside the package ----------------------------------------------------------


@pytest.fixture
def user_entries() -> Iterator[list[tuple[Registry[Any], str]]]:
    """Entries a test registers, removed again afterwards."""
    added: list[tuple[Registry[Any], str]] = []
    yield added
    for registry, name in added:
        registry.unregister(name)


def _help(command: str) -> str:
    """``adwp COMMAND --help``, its whitespace collapsed."""
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return " ".join(action.choices[command].format_help().split())


def test_a_proxy_registered_from_outside_is_scored_and_offered(
    user_entries: list[tuple[Registry[Any], str]], digits: Any
) -> None:
    from adwp.baselines import ZeroCostProxy, register_proxy

    @register_proxy("weight_count", description="number of weights")
    def weight_count(net: Any, images: Any, labels: Any) -> float:
        return float(sum(p.numel() for p in net.parameters()))

    user_entries.append((PROXIES, "weight_count"))
    space = get_space("macro", in_channels=1, num_classes=10, image_size=8)
    small, large = space.smallest(), space.largest()
    scores = ZeroCostProxy(space, digits, "weight_count").score([small, large])
    assert scores[0] < scores[1]
    assert "weight_count" in _help("rank")
    assert "weight_count" in _help("search")


def test_a_metric_registered_from_outside_is_a_score_metric_choice(
    user_entries: list[tuple[Registry[Any], str]],
) -> None:
    SCORE_METRICS.register("ones", lambda logits, labels: float(labels.numel()))
    user_entries.append((SCORE_METRICS, "ones"))
    assert "ones" in _help("rank")
    flags = ["rank", "--pretrained", "x", "--sample", "1", "--score-metric", "ones"]
    assert build_parser().parse_args(flags).score_metric == "ones"


class _EndsSearch:
    """Scores the space's two ends and keeps the better one."""

    def __init__(self, backend: Any, space: Any, *, seed: int, quiet: bool) -> None:
        self.backend, self.space = backend, space

    def run(self, budget: int) -> Any:
        archs = [self.space.smallest(), self.space.largest()][:budget]
        scores = [float(s) for s in self.backend.score(archs)]
        best = max(range(len(archs)), key=scores.__getitem__)
        picks = [
            {"arch": a.to_string(), "score": s, "params": self.space.params(a), "flops": 0}
            for a, s in zip(archs, scores)
        ]

        class Result:
            def to_dict(self) -> dict[str, Any]:
                return {"best": picks[best], "evaluations": len(picks), "evaluated": picks}

        return Result()


def test_a_searcher_registered_from_outside_runs_from_the_command_line(
    user_entries: list[tuple[Registry[Any], str]], tmp_path: Path
) -> None:
    SEARCHERS.register("ends", _EndsSearch, needs=("budget",))
    user_entries.append((SEARCHERS, "ends"))
    space = get_space("nb201")
    table = tmp_path / "gt.jsonl"
    rows = [(space.smallest(), 0.2), (space.largest(), 0.9)]
    lines = [json.dumps({"arch": a.to_string(), "val_acc": v}) for a, v in rows]
    table.write_text("\n".join(lines) + "\n")
    assert "ends" in _help("search")
    out = tmp_path / "ends.json"
    args = ["search", "ends", "--backend", f"table:{table}", "--space", "nb201"]
    assert main([*args, "--budget", "2", "--output", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["method"] == "ends"
    assert result["best"]["arch"] == space.largest().to_string()
    assert result["evaluations"] == 2


def test_a_registered_searcher_still_needs_its_flags(
    user_entries: list[tuple[Registry[Any], str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    SEARCHERS.register("ends", _EndsSearch, needs=("budget",))
    user_entries.append((SEARCHERS, "ends"))
    args = ["search", "ends", "--backend", "table:gt.jsonl", "--output", str(tmp_path / "o")]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == "adwp: error: ends search needs --budget"
