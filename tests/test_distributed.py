"""``adwp train`` under ``torchrun``: two CPU processes (gloo) train like one.

Each process trains its share of a step's architectures and the gradients are summed before the
optimiser step, so two processes must end where one does, up to the order of float sums. The
runs use SGD: AdamW divides each gradient by its own running size, so a gradient that is zero up
to rounding (per-architecture contributions that cancel) becomes a full step of either sign, and
the comparison would measure that noise instead of the summation.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import adwp._distributed as distributed
from adwp.data import get_dataset
from adwp.errors import AdwpError
from adwp.training import TrainConfig, Trainer, metrics_path

REPO = Path(__file__).resolve().parents[1]
STEPS = 3
slow = pytest.mark.slow


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"  # two processes on a 2-core runner
    return env


def _train_args(model: str) -> list[str]:
    args = ["train", "--dataset", "digits", "--model", model, "--steps", str(STEPS)]
    return [*args, "--meta-batch", "4", "--optimizer", "sgd", "--lr", "0.05", "--quiet"]


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(
        command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _one_process(args: list[str], cwd: Path) -> None:
    _run([sys.executable, "-m", "adwp", *args], cwd)


def _two_processes(args: list[str], cwd: Path) -> None:
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    _run([*torchrun, "--nproc-per-node", "2", "-m", "adwp", *args], cwd)


def _load(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)


def _initial_weights(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    config = TrainConfig.from_dict(state["train_config"])
    return Trainer(config, data=get_dataset("digits", seed=config.data_seed)).model.state_dict()


def _relative_difference(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Distance between two runs' final weights over the distance the first one moved."""
    start = _initial_weights(a)
    apart = sum(((a["model"][k] - b["model"][k]) ** 2).sum().item() for k in start)
    moved = sum(((a["model"][k] - start[k]) ** 2).sum().item() for k in start)
    assert moved > 0
    return math.sqrt(apart / moved)


def _losses(path: Path) -> list[float]:
    rows = [json.loads(line) for line in metrics_path(path).read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, STEPS + 1))
    return [row["loss"] for row in rows]


@slow
@pytest.mark.parametrize("model", ["hypernet", "supernet"])
def test_two_processes_end_where_one_does(model: str, tmp_path: Path) -> None:
    args = _train_args(model)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    _one_process([*args, "--out", "w.pt"], tmp_path / "one")
    _two_processes([*args, "--out", "w.pt"], tmp_path / "two")
    one, two = _load(tmp_path / "one" / "w.pt"), _load(tmp_path / "two" / "w.pt")

    assert two["step"] == one["step"] == STEPS
    assert two["train_config"] == one["train_config"]
    # Float sums in another order: 1e-4 of the distance moved after one step, growing with steps;
    # weights trained on half the gradient would be about as far apart as they moved.
    assert _relative_difference(one, two) < 1e-2
    assert _losses(tmp_path / "two" / "w.pt") == pytest.approx(
        _losses(tmp_path / "one" / "w.pt"), rel=1e-5
    )
    # One writer: one checkpoint and one log, each step logged once.
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(
        p.name for p in (tmp_path / "one").iterdir()
    )


@slow
def test_two_processes_resume_a_checkpoint_to_the_same_weights(tmp_path: Path) -> None:
    args = _train_args("hypernet")
    _one_process([*args, "--out", "straight.pt"], tmp_path)
    straight = _load(tmp_path / "straight.pt")

    # The checkpoint a killed run leaves behind after its first step.
    config = TrainConfig.from_dict(straight["train_config"])
    trainer = Trainer(config, data=get_dataset("digits", seed=config.data_seed))
    trainer.train_step()
    trainer.save(tmp_path / "resumed.pt")

    _two_processes([*args, "--out", "resumed.pt", "--resume"], tmp_path)
    resumed = _load(tmp_path / "resumed.pt")
    assert resumed["step"] == STEPS
    assert _relative_difference(straight, resumed) < 1e-2


def test_a_team_takes_every_architecture_once() -> None:
    teams = [distributed.Team(rank, 3) for rank in range(3)]
    shares = [team.mine(8) for team in teams]
    assert sorted(i for share in shares for i in share) == list(range(8))
    assert [team.main for team in teams] == [True, False, False]
    alone = distributed.team()
    assert (alone.rank, alone.size) == (0, 1)
    assert alone.mine(3) == [0, 1, 2]


def test_a_process_without_torchrun_stays_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.init_from_environment() == distributed.Team(0, 1)
    assert not torch.distributed.is_initialized()


def test_more_processes_than_architectures_per_step_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import adwp.training

    monkeypatch.setattr(adwp.training, "team", lambda: distributed.Team(0, 8))
    config = TrainConfig(dataset="digits", steps=1, meta_batch=4)
    with pytest.raises(AdwpError, match="meta_batch 4 is smaller than the 8"):
        Trainer(config, data=get_dataset("digits", seed=config.data_seed))
