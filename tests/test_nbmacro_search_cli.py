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
