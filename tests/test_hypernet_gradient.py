"""Gradient search through a trained hypernetwork: the relaxed network it emits, gradients,
estimators, derivation, resume, errors and the command line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from adwp.checkpoint import load_checkpoint
from adwp.data import DataSplits, as_tensors
from adwp.errors import AdwpError, CheckpointError
from adwp.functional import FunctionalNetwork
from adwp.generator import StoredGenerator, TrainConfig, generator_from_checkpoint
from adwp.search import SearchOutcome
from adwp.search.hypernet_gradient import (
    ESTIMATORS,
    HypernetGradientConfig,
    HypernetGradientSearch,
)
from adwp.spaces import get_space
from adwp.spaces.nb201 import OPERATIONS
from adwp.training import Trainer

TINY = HypernetGradientConfig(epochs=2, steps_per_epoch=3, batch_size=16)
SKELETON = {"channels": 4, "cells_per_stage": 1}


@pytest.fixture(scope="module")
def checkpoint(
    digits: DataSplits,
    digits_config: Callable[..., TrainConfig],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A tiny nb201 hypernetwork on digits, with two weight snapshots."""
    path = tmp_path_factory.mktemp("hypernet") / "nb201.pt"
    config = digits_config(
        space="nb201", space_options=SKELETON, steps=4, snapshot_every=2, snapshots=2
    )
    Trainer(config, data=digits).fit(path, quiet=True)
    return path


@pytest.fixture(scope="module")
def stored(checkpoint: Path) -> StoredGenerator:
    return generator_from_checkpoint(load_checkpoint(checkpoint), checkpoint)


def test_the_mixed_plan_names_every_parameter_of_the_relaxed_network() -> None:
    space = get_space("nb201", **SKELETON)
    plan = space.mixed_weight_plan()
    shapes = {name: tuple(p.shape) for name, p in space.build_mixed().named_parameters()}
    assert {name: cut.shape for name, cut in plan.items()} == shapes
    # Both convolutions of an edge read its one slot: the 1x1 is the 3x3's centre.
    conv1, conv3 = OPERATIONS.index("nor_conv_1x1"), OPERATIONS.index("nor_conv_3x3")
    one = plan[f"cells.0.edges.2.ops.{conv1}.conv.weight"]
    three = plan[f"cells.0.edges.2.ops.{conv3}.conv.weight"]
    assert one.slot == three.slot == "cell0_edge2" and one.shape[2:] == (1, 1)


def test_a_one_hot_draw_runs_the_network_the_evaluator_scores(
    stored: StoredGenerator, digits: DataSplits
) -> None:
    search = HypernetGradientSearch(stored, digits, TINY)
    space = stored.space
    arch = space.from_genotype([3, 1, 0, 2, 4, 3])
    weights = F.one_hot(torch.tensor(space.genotype(arch)), len(OPERATIONS)).float()
    x, y = (t[:16] for t in as_tensors(digits.val))
    loss = search.loss(weights, x, y)
    # The same architecture, emitted by the generator and run as a plain network.
    encoding = space.encode([weights[None]])
    plain = stored.snapshots[0](encoding, [arch])[0]
    logits = FunctionalNetwork(space, arch)(plain, x, train=True)
    torch.testing.assert_close(loss, F.cross_entropy(logits, y))


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_gradients_reach_the_logits_and_not_the_generator(
    estimator: str, stored: StoredGenerator, digits: DataSplits
) -> None:
    config = HypernetGradientConfig(**{**TINY.__dict__, "estimator": estimator})
    search = HypernetGradientSearch(stored, digits, config)
    weights = search.decision_weights(torch.Generator().manual_seed(0))
    if estimator == "straight-through":
        assert set(weights.detach().flatten().tolist()) <= {0.0, 1.0}
        assert weights.detach().sum(dim=1).tolist() == [1.0] * 6
    x, y = (t[:16] for t in as_tensors(digits.val))
    search.loss(weights, x, y).backward()
    grad = search.logits.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    # Every choice of every edge moves, even those the one-hot draw did not run.
    assert (grad.abs() > 0).all()
    assert all(p.grad is None for g in search.generators for p in g.parameters())


def test_same_seed_same_search_resume_and_derivation(
    stored: StoredGenerator,
    digits: DataSplits,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = HypernetGradientSearch(stored, digits, TINY).run(truth={})
    again = HypernetGradientSearch(stored, digits, TINY).run()
    strip = [{**h, "seconds": 0} for h in first.history]
    assert strip == [{**h, "seconds": 0, "truth": None} for h in again.history]
    assert first.arch == again.arch == first.history[-1]["arch"]
    assert isinstance(first, SearchOutcome) and first.best.arch.to_string() == first.arch
    other = HypernetGradientSearch(stored, digits, HypernetGradientConfig(
        **{**TINY.__dict__, "seed": 1})).run()  # fmt: skip
    assert other.history[0]["weights"] != first.history[0]["weights"]
    # Derivation: each edge's largest logit.
    search = HypernetGradientSearch(stored, digits, TINY)
    with torch.no_grad():
        search.logits.zero_()
        for edge, op in enumerate([4, 0, 3, 1, 2, 3]):
            search.logits[edge, op] = 1.0
    assert search.derived() == stored.space.from_genotype([4, 0, 3, 1, 2, 3]).to_string()

    # Killed right after the first epoch's checkpoint, resumed: the same search.
    path = tmp_path / "search.pt"
    original = HypernetGradientSearch._save

    def save_then_die(self: HypernetGradientSearch, target: Path) -> None:
        original(self, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(HypernetGradientSearch, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        HypernetGradientSearch(stored, digits, TINY).run(checkpoint=path)
    monkeypatch.setattr(HypernetGradientSearch, "_save", original)
    resumed = HypernetGradientSearch(stored, digits, TINY).run(checkpoint=path)
    assert [{**h, "seconds": 0} for h in resumed.history] == [
        {**h, "seconds": 0, "truth": None} for h in first.history
    ]
    before = path.read_bytes()
    longer = HypernetGradientConfig(**{**TINY.__dict__, "epochs": 3})
    with pytest.raises(CheckpointError, match="holds a search with another config"):
        HypernetGradientSearch(stored, digits, longer).run(checkpoint=path)
    assert path.read_bytes() == before


def test_a_stored_checkpoint_resumes(
    stored: StoredGenerator, digits: DataSplits, tmp_path: Path
) -> None:
    # A search checkpoint (format 1) of this config with the gumbel estimator, stopped after its
    # first epoch, as the first hypernet-gradient searches wrote it (on the ``checkpoint``
    # fixture's generator, trained the same way).
    config = HypernetGradientConfig(**{**TINY.__dict__, "estimator": "gumbel"})
    path = tmp_path / "search.pt"
    shutil.copyfile(Path(__file__).parent / "data" / "hypernet_gradient_search_epoch1.pt", path)
    resumed = HypernetGradientSearch(stored, digits, config).run(checkpoint=path)
    fresh = HypernetGradientSearch(stored, digits, config).run()
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert [h["arch"] for h in resumed.history] == [h["arch"] for h in fresh.history]
    # The stored file's first epoch ran on another CPU, whose float rounding differs in the last
    # digits; what must hold is the same path through the search, not the same bits.
    for ours, theirs in zip(resumed.history, fresh.history):
        torch.testing.assert_close(
            torch.tensor(ours["weights"]), torch.tensor(theirs["weights"]), atol=1e-4, rtol=1e-3
        )


def test_bad_input_is_refused_in_one_line(
    stored: StoredGenerator, digits: DataSplits, checkpoint: Path
) -> None:
    with pytest.raises(AdwpError, match="estimator must be one of gumbel, soft, straight-through"):
        HypernetGradientConfig(estimator="reinforce")
    with pytest.raises(AdwpError, match="lr must be positive"):
        HypernetGradientConfig(lr=0)
    with pytest.raises(AdwpError, match="steps_per_epoch must be a positive integer"):
        HypernetGradientConfig(steps_per_epoch=0)
    macro = StoredGenerator(stored.config, get_space("macro"), stored.model, [])
    with pytest.raises(AdwpError, match="'macro' has no relaxed network a weight generator"):
        HypernetGradientSearch(macro, digits, TINY)
    with pytest.raises(AdwpError, match="give their folder"):
        HypernetGradientSearch.pretrained("nb201-cifar10", TINY)
    # From the checkpoint file, the data set it records (digits) is loaded.
    search = HypernetGradientSearch.from_checkpoint(checkpoint, TINY)
    assert search.data.name == "digits" and len(search.generators) == 2
    final = HypernetGradientConfig(**{**TINY.__dict__, "snapshots": False})
    assert len(HypernetGradientSearch.from_checkpoint(checkpoint, final).generators) == 1


def test_cli_writes_json_and_plot_and_refuses_misuse(checkpoint: Path, tmp_path: Path) -> None:
    from adwp.cli import main

    space = get_space("nb201")
    table = tmp_path / "nb201.csv"
    rows = [f"{a.to_string()},{space.params(a) / 1e4:.4f}" for a in space.enumerate()]
    table.write_text("arch,acc\n" + "\n".join(rows) + "\n")
    output, plot = tmp_path / "found.json", tmp_path / "found.png"
    args = ["search", "hypernet-gradient", "--generator", str(checkpoint), "--quiet"]
    args += ["--epochs", "2", "--steps-per-epoch", "2", "--batch-size", "8", "--seed", "2"]
    args += ["--truth", str(table), "--key", "arch", "--metric", "acc", "--output", str(output)]
    assert main([*args, "--plot", str(plot), "--checkpoint", str(tmp_path / "s.pt")]) == 0
    out = json.loads(output.read_text())
    assert out["method"] == "hypernet-gradient" and out["seed"] == 2
    assert out["generator"] == str(checkpoint) and len(out["history"]) == 2
    assert out["operations"] == list(OPERATIONS) and out["config"]["batch_size"] == 8
    assert out["truth"] == pytest.approx(space.params(out["arch"]) / 1e4, abs=1e-4)
    assert plot.stat().st_size > 0
    assert main([*args, "--dataset", "cifar10"]) == 2
    assert main([*args, "--space-option", "channels=8"]) == 2
    assert main([*args, "--second-order"]) == 2
    assert main(["search", "hypernet-gradient", "--output", str(output)]) == 2
    assert main(["search", "darts", "--generator", str(checkpoint), "--output", str(output)]) == 2
