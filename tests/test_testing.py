"""The conformance kit: every registered space and backend passes, a space registered from outside
passes, and each rule broken on purpose fails with its one-line reason."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from torch import nn

from adwp.backend import BackendContext, list_backends, load_backend
from adwp.data import DataSplits
from adwp.registry import SPACES
from adwp.spaces import Decision, MacroSpace, NB201Space, get_space, list_spaces, register_space
from adwp.testing import BACKEND_RULES, SPACE_RULES, check_backend, check_space
from adwp.training import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
HYPERNET = ROOT / "tests" / "data" / "macro_hypernet_checkpoint.pt"
# The macro space shaped like digits (8x8 grey images, 10 classes), as the checkpoint is.
DIGITS_SHAPE = {"in_channels": 1, "num_classes": 10, "image_size": 8}


@pytest.mark.parametrize("name", list_spaces())
def test_every_registered_space_passes(name: str) -> None:
    check_space(get_space(name))


class NarrowMacro(MacroSpace):
    """A macro space of narrow stages, as a package outside adwp would register one."""

    name = "narrow-macro-test"

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 8,
        base_widths: Sequence[int] = (4, 8, 8),
        **options: Any,
    ) -> None:
        super().__init__(in_channels, num_classes, image_size, base_widths, **options)


@pytest.fixture
def narrow_macro() -> Iterator[str]:
    register_space("narrow-macro-test")(NarrowMacro)
    yield "narrow-macro-test"
    SPACES.unregister("narrow-macro-test")


def test_a_space_registered_from_outside_passes(narrow_macro: str) -> None:
    check_space(get_space(narrow_macro, base_widths=[4, 4, 8]))


# -- each space rule broken on purpose -----------------------------------------------------------

SMALL = {"channels": 4, "cells_per_stage": 1}


class NotASpace:
    name = "not-a-space"


class NoClasses(NB201Space):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.num_classes = 0


class NoDataShapeOptions(NB201Space):
    def __init__(self, channels: int = 4, cells_per_stage: int = 1) -> None:
        super().__init__(channels=channels, cells_per_stage=cells_per_stage)


class TupleChoices(NB201Space):
    def choices(self) -> dict[str, Any]:
        return {"operation": ("none",)}


class RepeatedDecisions(NB201Space):
    def decisions(self) -> tuple[Decision, ...]:
        return tuple(Decision("edge", d.choices) for d in super().decisions())


class ReversedGenotype(NB201Space):
    def genotype(self, arch: Any) -> tuple[int, ...]:
        return tuple(reversed(super().genotype(arch)))


class AcceptsAnything(NB201Space):
    def validate(self, arch: Any) -> Any:
        cell = isinstance(arch, str) and arch.startswith("|")
        return super().validate(arch if cell or not isinstance(arch, str) else self.largest())


class SameDraws(NB201Space):
    def sample_many(self, n: int, rng: np.random.Generator, unique: bool = True) -> list[Any]:
        return [self.largest()] * n


class NoParams(NB201Space):
    def params(self, arch: Any) -> int:
        return 0


class NoReluSites(NB201Space):
    def build(self, arch: Any) -> nn.Module:
        return nn.Sequential(super().build(arch))


class MixedChoices(NB201Space):
    def decisions(self) -> tuple[Decision, ...]:
        first, *rest = super().decisions()
        return (first, *(Decision(d.name, d.choices[::-1]) for d in rest))


BROKEN_SPACES: dict[str, tuple[Callable[[], Any], str]] = {
    "protocol": (NotASpace, "NotASpace lacks"),
    "data-shape": (lambda: NoClasses(**SMALL), "num_classes must be a positive integer, got 0"),
    "constructor": (NoDataShapeOptions, "takes no in_channels, num_classes, image_size"),
    "choices": (lambda: TupleChoices(**SMALL), "choices()['operation'] must be a non-empty list"),
    "decisions": (lambda: RepeatedDecisions(**SMALL), "decision names repeat: edge"),
    "round-trip": (lambda: ReversedGenotype(**SMALL), "from_genotype(genotype(a)) != a"),
    "refuses": (lambda: AcceptsAnything(**SMALL), "accepts it; raise ArchitectureError"),
    "sampling": (lambda: SameDraws(**SMALL), "must give 4 distinct architectures"),
    "sizes": (lambda: NoParams(**SMALL), ") = 0, not an integer > 0"),
    "networks": (lambda: NoReluSites(**SMALL), "has no relu_code_sites() listing modules"),
    "relaxation": (lambda: MixedChoices(**SMALL), "have other choices than the first"),
}


def test_every_space_rule_has_a_broken_space() -> None:
    assert sorted(BROKEN_SPACES) == sorted(SPACE_RULES)


@pytest.mark.parametrize("rule", list(BROKEN_SPACES))
def test_a_broken_space_fails_its_rule_in_one_line(rule: str) -> None:
    build, reason = BROKEN_SPACES[rule]
    with pytest.raises(AssertionError, match=f"^{rule}: .*{re.escape(reason)}") as info:
        check_space(build())
    assert "\n" not in str(info.value)


# -- backends ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def supernet(
    tmp_path_factory: pytest.TempPathFactory,
    digits_config: Callable[..., TrainConfig],
    digits: DataSplits,
) -> Path:
    path = tmp_path_factory.mktemp("supernet") / "s.pt"
    Trainer(digits_config(steps=2, model="supernet"), data=digits).fit(path, quiet=True)
    return path


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    space = get_space("macro", **DIGITS_SHAPE)
    archs = [space.smallest(), space.largest(), *space.sample_many(4, np.random.default_rng(0))]
    path = tmp_path_factory.mktemp("table") / "gt.jsonl"
    rows = [{"arch": a.to_string(), "val_acc": 0.1 * i} for i, a in enumerate(archs)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def specs(supernet: Path, table: Path) -> dict[str, str]:
    """A spec of every built-in backend kind."""
    return {
        "hypernet": f"hypernet:{HYPERNET}",
        "supernet": f"supernet:{supernet}",
        "table": f"table:{table}",
        "proxy": "proxy:synflow",
    }


def test_every_backend_kind_is_checked(specs: dict[str, str]) -> None:
    assert sorted(specs) == list_backends()


@pytest.mark.parametrize("kind", list_backends())
def test_every_registered_backend_passes(
    kind: str, specs: dict[str, str], table: Path, digits: DataSplits
) -> None:
    space = get_space("macro", **DIGITS_SHAPE)
    backend = load_backend(specs[kind], BackendContext(space=space, data=digits, device="cpu"))
    # The table's architectures, which every kind can score.
    archs = [json.loads(line)["arch"] for line in table.read_text().splitlines()]
    check_backend(backend, [space.validate(a) for a in archs])


class _Scores:
    def __init__(self, score: Callable[[Sequence[Any]], Any], space: Any = None) -> None:
        self.score, self.space = score, space


BROKEN_BACKENDS: dict[str, tuple[Any, str]] = {
    "protocol": (object(), "object has no score"),
    "scores": (_Scores(lambda archs: [0.5]), "returned (1,) scores for"),
    "repeatable": (
        _Scores(lambda archs: np.random.default_rng().random(len(archs))),
        "scoring the same architectures twice gives other scores",
    ),
    "order": (
        _Scores(lambda archs: np.arange(len(archs), dtype=float)),
        "scores are not in input order",
    ),
}


def test_every_backend_rule_has_a_broken_backend() -> None:
    assert sorted(BROKEN_BACKENDS) == sorted(BACKEND_RULES)


@pytest.mark.parametrize("rule", list(BROKEN_BACKENDS))
def test_a_broken_backend_fails_its_rule_in_one_line(rule: str) -> None:
    backend, reason = BROKEN_BACKENDS[rule]
    archs = get_space("nb201").sample_many(3, np.random.default_rng(0))
    with pytest.raises(AssertionError, match=f"^{rule}: .*{re.escape(reason)}") as info:
        check_backend(backend, archs)
    assert "\n" not in str(info.value)
