"""The backend searchers on ``nbmacro`` from the command line: on a table of every string and on
a hypernetwork checkpoint trained here for two steps."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from adwp.cli import main
from adwp.hypernet import HyperNetConfig
from adwp.spaces import get_space
from adwp.training import TrainConfig, Trainer

SKELETON = {"stem_channels": 4, "channels": [4, 4, 8], "head_channels": 8}
SEARCHES = {
    "random": ["--budget", "6"],
    "evolution": ["--budget", "8", "--population", "4", "--tournament", "2"],
    "importance-sampling": ["--coefficients", "0,1", "--samples", "3", "--iterations", "2",
                            "--complexity", "flops"],
    "layer-assignment": ["--min-depth", "7", "--max-depth", "8"],
}  # fmt: skip


@pytest.fixture(scope="module")
def every_string(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 6,561 strings; accuracy grows with FLOPs, so the table's optimum is known."""
    space = get_space("nbmacro")
    path = tmp_path_factory.mktemp("nbmacro_table") / "table.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Arch", "MeanTestAccuracy"])
        for arch in space.enumerate():
            writer.writerow([arch.to_string(), f"{space.flops(arch) / 1e6:.6f}"])
    return path


@pytest.fixture(scope="module")
def nbmacro_checkpoint(
    cifar_folder: Path, tmp_path_factory: pytest.TempPathFactory, small_hypernet: HyperNetConfig
) -> Path:
    from adwp.data import get_dataset

    data = get_dataset("cifar10", root=str(cifar_folder), seed=0, val_size=20)
    path = tmp_path_factory.mktemp("nbmacro_generator") / "hypernet.pt"
    config = TrainConfig(
        dataset="cifar10", space="nbmacro", space_options=SKELETON, steps=2, meta_batch=3,
        batch_size=4, snapshot_every=0, hypernet=small_hypernet,
    )  # fmt: skip
    Trainer(config, data=data).fit(path, quiet=True)
    return path


@pytest.mark.parametrize("searcher", sorted(SEARCHES))
def test_each_searcher_runs_on_nbmacro_from_a_table(
    searcher: str, every_string: Path, tmp_path: Path
) -> None:
    out = tmp_path / "search.json"
    args = ["search", searcher, "--space", "nbmacro", "--backend", f"table:{every_string}"]
    args += ["--key", "Arch", "--metric", "MeanTestAccuracy", "--seed", "0", "--quiet"]
    assert main([*args, *SEARCHES[searcher], "--output", str(out)]) == 0
    best = json.loads(out.read_text())["best"]["arch"]
    assert best in {a.to_string() for a in get_space("nbmacro").enumerate()}
    if searcher == "layer-assignment":
        # Depth 8 has one assignment, every layer the searched block: the most FLOPs there is.
        assert best == "22222222"


@pytest.mark.parametrize("searcher", sorted(SEARCHES))
def test_each_searcher_runs_on_nbmacro_through_a_trained_hypernetwork(
    searcher: str, nbmacro_checkpoint: Path, cifar_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "search.json"
    args = ["search", searcher, "--backend", f"hypernet:{nbmacro_checkpoint}", "--seed", "0"]
    args += ["--data-root", str(cifar_folder), "--val-size", "20", "--quiet"]
    assert main([*args, *SEARCHES[searcher], "--output", str(out)]) == 0
    first = json.loads(out.read_text())
    assert first["best"]["arch"] in {a.to_string() for a in get_space("nbmacro").enumerate()}
    # The same seed finds the same network.
    again = tmp_path / "again.json"
    assert main([*args, *SEARCHES[searcher], "--output", str(again)]) == 0
    assert json.loads(again.read_text())["best"] == first["best"]


def test_a_search_names_the_shipped_nbmacro_evaluator(
    cifar_folder_with_val: Path, tmp_path: Path
) -> None:
    out = tmp_path / "search.json"
    args = ["search", "random", "--backend", "hypernet:nbmacro-cifar10", "--seed", "0"]
    args += ["--data-root", str(cifar_folder_with_val), "--budget", "3", "--quiet"]
    assert main([*args, "--output", str(out)]) == 0
    found = json.loads(out.read_text())
    assert found["best"]["arch"] in {a.to_string() for a in get_space("nbmacro").enumerate()}
    assert len(found["history"]) == 3


def test_the_relaxed_network_has_a_cut_for_every_parameter() -> None:
    space = get_space("nbmacro", **SKELETON)
    plan = space.mixed_weight_plan()
    shapes = {name: tuple(p.shape) for name, p in space.build_mixed().named_parameters()}
    assert {name: cut.shape for name, cut in plan.items()} == shapes
    # Both blocks of a layer read its slots: the expansion-3, 3x3 block their first channels
    # and centre window.
    small = plan["layers.3.ops.1.depthwise.conv.weight"]
    large = plan["layers.3.ops.2.depthwise.conv.weight"]
    assert small.slot == large.slot == "layer3_depthwise"
    assert small.shape == (12, 1, 3, 3) and large.shape == (24, 1, 5, 5)
    # The identity of a stage's first layer projects; of a later layer it has no parameters.
    assert "layers.0.ops.0.conv.weight" in plan
    assert not any(name.startswith("layers.1.ops.0.") for name in plan)


def test_a_one_hot_relaxation_is_the_plain_network(
    nbmacro_checkpoint: Path, cifar_folder: Path
) -> None:
    import torch
    import torch.nn.functional as F

    from adwp.checkpoint import load_checkpoint
    from adwp.data import as_tensors, get_dataset
    from adwp.functional import FunctionalNetwork
    from adwp.generator import generator_from_checkpoint
    from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch

    stored = generator_from_checkpoint(load_checkpoint(nbmacro_checkpoint), nbmacro_checkpoint)
    data = get_dataset("cifar10", root=str(cifar_folder), seed=0, val_size=20)
    search = HypernetGradientSearch(stored, data, HypernetGradientConfig(batch_size=8))
    space = stored.space
    arch = space.from_genotype([2, 0, 1, 0, 1, 2, 1, 0])
    weights = F.one_hot(torch.tensor(space.genotype(arch)), 3).float()
    x, y = (t[:8] for t in as_tensors(data.val))
    loss = search.loss(weights, x, y)
    plain = stored.model(space.encode([weights[None]]), [arch])[0]
    logits = FunctionalNetwork(space, arch)(plain, x, train=True)
    torch.testing.assert_close(loss, F.cross_entropy(logits, y))
    # Soft weights reach every block of every layer.
    soft = torch.full((8, 3), 1 / 3, requires_grad=True)
    search.loss(soft, x, y).backward()
    assert soft.grad is not None and (soft.grad.abs() > 0).all()


def test_gradient_search_runs_on_nbmacro_from_the_command_line(
    nbmacro_checkpoint: Path, cifar_folder: Path, every_string: Path, tmp_path: Path
) -> None:
    out = tmp_path / "found.json"
    args = ["search", "hypernet-gradient", "--generator", str(nbmacro_checkpoint), "--quiet"]
    args += ["--data-root", str(cifar_folder), "--val-size", "20", "--epochs", "2"]
    args += ["--steps-per-epoch", "2", "--batch-size", "4", "--seed", "0"]
    args += ["--truth", str(every_string), "--key", "Arch", "--metric", "MeanTestAccuracy"]
    assert main([*args, "--output", str(out)]) == 0
    found = json.loads(out.read_text())
    space = get_space("nbmacro")
    assert found["arch"] in {a.to_string() for a in space.enumerate()}
    assert found["truth"] == pytest.approx(space.flops(found["arch"]) / 1e6, abs=1e-6)
