"""Shipped evaluators: slimming a checkpoint, loading one by name, and refusing wrong ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from adwp.checkpoint import load_checkpoint, read_checkpoint_header
from adwp.cli import main
from adwp.data import get_dataset
from adwp.errors import AdwpError, CheckpointError
from adwp.evaluator import Evaluator, EvaluatorConfig
from adwp.hypernet import HyperNetConfig
from adwp.pretrained import Pretrained, get_pretrained, list_pretrained, slim_checkpoint
from adwp.training import TrainConfig, train

SMALL = HyperNetConfig(embed_dim=16, context_layers=1, heads=2, hidden=32, num_bases=2)


@pytest.fixture(scope="module")
def trained(cifar_folder_with_val: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished nb201 hypernetwork checkpoint on a tiny CIFAR-10 folder (with a val/ split)."""
    config = TrainConfig(
        dataset="cifar10", space="nb201", space_options={"channels": 4, "cells_per_stage": 1},
        steps=4, meta_batch=3, batch_size=8, warmup_steps=1, checkpoint_every=2,
        snapshot_every=2, snapshots=2, hypernet=SMALL,
    )  # fmt: skip
    path = tmp_path_factory.mktemp("pretrained") / "run.pt"
    train(config, path, quiet=True, data_root=str(cifar_folder_with_val), device="cpu")
    return path


@pytest.fixture()
def shipped(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny checkpoint, slimmed and installed as the shipped nb201-cifar10."""
    path = tmp_path / "nb201-cifar10.pt"
    slim_checkpoint(trained, path)
    monkeypatch.setattr(Pretrained, "path", property(lambda self: path))
    return path


def test_slimmed_checkpoint_keeps_what_scoring_needs(
    trained: Path, shipped: Path, cifar_folder_with_val: Path
) -> None:
    state = load_checkpoint(shipped)
    assert "optimizer" not in state and state["dataset"]["root"] is None
    assert "cache_dir" not in state["dataset"]["options"]
    assert len(state["snapshots"]["steps"]) == 2
    data = get_dataset("cifar10", root=str(cifar_folder_with_val))
    config = EvaluatorConfig(max_images=20)
    original = Evaluator.from_checkpoint(trained, data=data, config=config)
    archs = original.space.sample_many(4, np.random.default_rng(0))
    slim = Evaluator.pretrained(
        "nb201-cifar10", data_root=str(cifar_folder_with_val), config=config
    )
    np.testing.assert_array_equal(slim.score(archs), original.score(archs))


def test_pretrained_needs_its_data_and_refuses_another_data_set(shipped: Path) -> None:
    with pytest.raises(AdwpError, match=r"pretrained nb201-cifar10 reads cifar10 images: give"):
        Evaluator.pretrained("nb201-cifar10")
    with pytest.raises(AdwpError, match="reads cifar10, got data set digits"):
        Evaluator.pretrained("nb201-cifar10", data=get_dataset("digits"))
    with pytest.raises(
        AdwpError,
        match="unknown pretrained evaluator 'nb201'; available: nb201-cifar10, nbmacro-cifar10",
    ):
        get_pretrained("nb201")


def test_a_checkpoint_of_another_space_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cifar_folder_with_val: Path
) -> None:
    macro = tmp_path / "macro.pt"
    config = TrainConfig(
        dataset="digits", steps=2, meta_batch=2, sampler="uniform", batch_size=8, warmup_steps=1,
        snapshot_every=0, hypernet=SMALL, space_options={"base_widths": [4, 8, 8]},
    )  # fmt: skip
    train(config, macro, quiet=True, device="cpu")
    monkeypatch.setattr(Pretrained, "path", property(lambda self: macro))
    message = (
        "pretrained nb201-cifar10 must be a nb201 checkpoint of cifar10; .* holds a macro "
        "checkpoint of digits"
    )
    with pytest.raises(CheckpointError, match=message):
        Evaluator.pretrained("nb201-cifar10", data_root=str(cifar_folder_with_val))


def test_cli_rank_with_the_pretrained_evaluator(
    shipped: Path, cifar_folder_with_val: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "ranking.json"
    args = ["rank", "--pretrained", "nb201-cifar10", "--space", "nb201", "--sample", "4"]
    args += ["--data-root", str(cifar_folder_with_val), "--max-images", "20", "--quiet"]
    assert main([*args, "--output", str(output)]) == 0
    out = json.loads(output.read_text())
    assert out["pretrained"] == "nb201-cifar10" and len(out["scores"]) == 4
    assert out["archs"][0].startswith("|")
    # Scored as its reported ranking was (minus the log loss) unless --score-metric says otherwise.
    assert out["metric"] == "neg_log_loss" and all(s < 0 for s in out["scores"])
    assert main([*args, "--output", str(output), "--score-metric", "accuracy"]) == 0
    out = json.loads(output.read_text())
    assert out["metric"] == "accuracy" and all(0 <= s <= 1 for s in out["scores"])
    capsys.readouterr()
    bad = {
        "--space macro": (["--space", "macro"], "scores nb201 architectures, not --space macro"),
        "no data": (["--data-root", None], "give their folder with --data-root"),
        "both": (["--checkpoint", str(shipped)], "give --checkpoint (repeatable) or --pretrained"),
    }
    for flags, message in bad.values():
        argv = ["rank", "--pretrained", "nb201-cifar10", "--sample", "2", "--quiet"]
        if flags[0] != "--data-root":
            argv += ["--data-root", str(cifar_folder_with_val), *flags]
        assert main(argv) == 2
        assert message in capsys.readouterr().err


def test_pretrained_scores_as_its_reported_ranking_unless_told_otherwise(
    shipped: Path, cifar_folder_with_val: Path
) -> None:
    item = get_pretrained("nb201-cifar10")
    default = Evaluator.pretrained("nb201-cifar10", data_root=str(cifar_folder_with_val))
    assert (default.config.metric, default.config.max_images) == (item.metric, item.max_images)
    config = EvaluatorConfig(metric="accuracy", max_images=5)
    given = Evaluator.pretrained(
        "nb201-cifar10", data_root=str(cifar_folder_with_val), config=config
    )
    assert given.config == config and given.num_images == 5


def test_every_shipped_evaluator_is_installed_and_what_it_claims() -> None:
    for name in list_pretrained():
        item = get_pretrained(name)
        header = read_checkpoint_header(item.path)
        assert (header["space"]["name"], header["dataset"]["name"]) == (item.space, item.dataset)
        assert header["dataset"]["root"] is None
        assert item.path.stat().st_size < 30 * 2**20
        assert "optimizer" not in torch.load(item.path, weights_only=True, mmap=True)


def test_the_shipped_nb201_evaluator_ranks_on_an_image_folder(
    cifar_folder_with_val: Path, tmp_path: Path
) -> None:
    output = tmp_path / "ranking.json"
    args = ["rank", "--pretrained", "nb201-cifar10", "--sample", "3", "--seed", "0", "--quiet"]
    args += ["--data-root", str(cifar_folder_with_val), "--max-images", "20"]
    assert main([*args, "--output", str(output)]) == 0
    out = json.loads(output.read_text())
    assert len(out["archs"]) == 3 and out["metric"] == get_pretrained("nb201-cifar10").metric
    assert all(np.isfinite(out["scores"]))
    assert (
        out["snapshots"]
        == load_checkpoint(get_pretrained("nb201-cifar10").path)["train_config"]["snapshots"]
    )


def test_the_shipped_nbmacro_evaluator_ranks_a_tiny_image_folder(
    cifar_folder_with_val: Path, tmp_path: Path
) -> None:
    output = tmp_path / "ranking.json"
    args = ["rank", "--pretrained", "nbmacro-cifar10", "--sample", "3", "--seed", "0"]
    args += ["--data-root", str(cifar_folder_with_val), "--max-images", "10", "--quiet"]
    assert main([*args, "--output", str(output)]) == 0
    out = json.loads(output.read_text())
    assert out["pretrained"] == "nbmacro-cifar10" and out["metric"] == "neg_log_loss"
    assert len(out["archs"]) == 3 and all(len(a) == 8 and a.isdigit() for a in out["archs"])
    assert all(np.isfinite(s) and s < 0 for s in out["scores"])
    # Scoring is deterministic: the same command gives the same scores.
    again = tmp_path / "again.json"
    assert main([*args, "--output", str(again)]) == 0
    assert json.loads(again.read_text())["scores"] == out["scores"]


def test_a_backend_naming_a_shipped_evaluator_scores_as_it_was_reported(
    shipped: Path, cifar_folder_with_val: Path
) -> None:
    from adwp.backend import BackendContext, load_backend

    context = BackendContext(data_root=str(cifar_folder_with_val), device="cpu")
    backend = load_backend("hypernet:nb201-cifar10", context)
    item = get_pretrained("nb201-cifar10")
    assert (backend.config.metric, backend.config.max_images) == (item.metric, item.max_images)
    told = BackendContext(data_root=str(cifar_folder_with_val), device="cpu", metric="accuracy")
    backend = load_backend("hypernet:nb201-cifar10", told)
    assert (backend.config.metric, backend.config.max_images) == ("accuracy", item.max_images)
    # A checkpoint named by its path keeps the evaluator's own defaults.
    by_path = load_backend(f"hypernet:{shipped}", context)
    assert by_path.config.metric == EvaluatorConfig().metric
