"""nb201 end to end through the command line: both weight generators train on an image folder
and rank sampled NAS-Bench-201 cells."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adwp.checkpoint import read_checkpoint_header
from adwp.cli import main
from adwp.spaces import get_space

# A proxy skeleton: the genotype and its string are NAS-Bench-201's at any size.
SKELETON = [
    "--space",
    "nb201",
    "--space-option",
    "channels=4",
    "--space-option",
    "cells_per_stage=1",
]
DATA = ["--dataset", "cifar10", "--val-size", "20"]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["hypernet", "supernet"])
def test_train_and_rank_nb201_on_an_image_folder(
    model: str, cifar_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / f"{model}.pt"
    capacity = ["--num-bases", "2", "--embed-dim", "16"] if model == "hypernet" else []
    train = ["train", *SKELETON, *DATA, "--data-root", str(cifar_folder), "--model", model]
    train += ["--steps", "3", "--meta-batch", "3", "--batch-size", "8", "--snapshot-every", "0"]
    assert main([*train, *capacity, "--out", str(checkpoint), "--quiet"]) == 0

    header = read_checkpoint_header(checkpoint)
    assert header["space"] == {
        "name": "nb201",
        "options": {
            "in_channels": 3,
            "num_classes": 10,
            "image_size": 32,
            "channels": 4,
            "cells_per_stage": 1,
        },
    }
    assert header["train_config"]["space_options"] == {"channels": 4, "cells_per_stage": 1}

    # rank takes the data root and the skeleton from the checkpoint.
    ranking = tmp_path / "ranking.json"
    rank = ["rank", "--checkpoint", str(checkpoint), "--sample", "8", "--seed", "0", "--quiet"]
    assert main([*rank, "--output", str(ranking)]) == 0
    out = json.loads(ranking.read_text())
    space = get_space("nb201", channels=4, cells_per_stage=1)
    expected = space.sample_many(8, np.random.default_rng(0))
    assert out["archs"] == [a.to_string() for a in expected]
    assert out["archs"][0].startswith("|") and len(set(out["archs"])) == 8
    assert out["params"] == [space.params(a) for a in expected]
    scores = np.array(out["scores"])
    assert scores.shape == (8,) and np.all((scores >= 0) & (scores <= 1))
    assert "|" in capsys.readouterr().out

    # One architecture given by its NAS-Bench-201 string scores as it did in the sample.
    one = tmp_path / "one.json"
    given = ["rank", "--checkpoint", str(checkpoint), "--arch", out["archs"][3], "--quiet"]
    assert main([*given, "--output", str(one)]) == 0
    assert json.loads(one.read_text())["scores"] == [out["scores"][3]]

    # The searchers take the checkpoint's space too.
    found = tmp_path / "search.json"
    search = ["search", "random", "--backend", f"{model}:{checkpoint}", "--budget", "6", "--quiet"]
    assert main([*search, "--seed", "0", "--output", str(found)]) == 0
    result = json.loads(found.read_text())
    assert result["evaluations"] == 6 and space.contains(result["best"]["arch"])
