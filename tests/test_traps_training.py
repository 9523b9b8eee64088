"""Training, checkpoint and ranking behaviour that new users run into.

Checkpoints at snapshot steps, a resume that finds nothing, live metrics rows, per-architecture
scoring progress, early architecture checks in ``adwp rank``, a folder given as a checkpoint,
the compact checkpoint layout (and the older one still loading), and the image folder's size and
root recorded in the checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import adwp.checkpoint
import adwp.evaluator
import adwp.generator
from adwp.backend import BackendContext, load_backend
from adwp.checkpoint import (
    SNAPSHOT_DTYPE,
    VERSION,
    load_checkpoint,
    read_checkpoint_header,
    save_checkpoint,
)
from adwp.cli import main
from adwp.data import DataSplits, get_dataset
from adwp.errors import CheckpointError, DataError
from adwp.evaluator import Evaluator, EvaluatorConfig
from adwp.training import TrainConfig, Trainer, build_model, metrics_path

REPO = Path(__file__).resolve().parents[1]
slow = pytest.mark.slow
# A hypernetwork small enough for CLI runs of a few steps.
SMALL = ["--num-bases", "2", "--embed-dim", "16"]


def _one_line_error(status: int, err: str) -> str:
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("adwp: error: "), err
    return lines[0].removeprefix("adwp: error: ")


def _same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and torch.equal(a[name], b[name]), name


class _KilledError(Exception):
    """Stands for a kill: raised from inside ``fit`` after a chosen step."""


def _fit_until_killed(trainer: Trainer, out: Path, after_step: int) -> None:
    """Runs ``fit`` and interrupts it right after step ``after_step`` (before any later save)."""
    step = trainer.train_step

    def train_step() -> dict[str, float]:
        if trainer.step == after_step:
            raise _KilledError
        return step()

    trainer.train_step = train_step  # type: ignore[method-assign]
    with pytest.raises(_KilledError):
        trainer.fit(out, quiet=True)


# --------------------------------------------------------------------------------------------
# Checkpoints at snapshot steps, resume that finds nothing, live metrics rows
# --------------------------------------------------------------------------------------------


def test_a_checkpoint_is_written_at_every_snapshot_step_and_resumes_exactly(
    tmp_path: Path, digits: DataSplits, digits_config: Callable[..., TrainConfig]
) -> None:
    config = digits_config(steps=6, snapshot_every=2, snapshots=3, checkpoint_every=100)
    full = Trainer(config, data=digits).fit(tmp_path / "full.pt", quiet=True)
    # Killed after step 5: the checkpoint of the snapshot at step 4 is the latest.
    part = tmp_path / "part.pt"
    _fit_until_killed(Trainer(config, data=digits), part, after_step=5)
    assert load_checkpoint(part)["step"] == 4
    assert load_checkpoint(part)["snapshots"]["steps"] == [2, 4]
    resumed = Trainer(config, data=digits).fit(part, resume=True, quiet=True)
    _same_tensors(full.model.state_dict(), resumed.model.state_dict())
    assert [s for s, _ in resumed.snapshots] == [s for s, _ in full.snapshots] == [2, 4, 6]
    for (_, a), (_, b) in zip(full.snapshots, resumed.snapshots):
        _same_tensors(a, b)


def test_metrics_rows_are_readable_as_soon_as_each_step_ends(
    tmp_path: Path, digits: DataSplits, digits_config: Callable[..., TrainConfig]
) -> None:
    trainer = Trainer(digits_config(steps=4, checkpoint_every=100), data=digits)
    out = tmp_path / "h.pt"
    seen: list[int] = []
    step = trainer.train_step

    def train_step() -> dict[str, float]:
        # What someone tailing the file sees before the next step starts (no checkpoint yet).
        seen.append(len(metrics_path(out).read_text().splitlines()))
        assert not out.exists()
        return step()

    trainer.train_step = train_step  # type: ignore[method-assign]
    trainer.fit(out, quiet=True)
    assert seen == [0, 1, 2, 3]


@slow
def test_resume_after_a_kill_before_the_first_checkpoint_says_it_starts_fresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k.pt"
    args = ["train", "--dataset", "digits", "--seed", "0", "--quiet", *SMALL]
    args += ["--snapshot-every", "0", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "adwp", *args, "--steps", "100000", "--checkpoint-every", "100000"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = metrics_path(out)
    try:
        deadline = time.monotonic() + 120
        # Two whole rows on disk, far fewer than a write buffer holds: they were flushed.
        while not (log.exists() and log.read_text().count("\n") >= 2):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "no metrics row appeared within 120 s"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()

    short = ["--steps", "4", "--checkpoint-every", "2"]
    assert main([*args, *short, "--resume"]) == 0
    assert capsys.readouterr().err.strip() == f"no checkpoint at {out}, starting fresh"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    straight = tmp_path / "u.pt"
    assert main([*args[:-1], str(straight), *short]) == 0
    assert capsys.readouterr().err == ""
    _same_tensors(load_checkpoint(out)["model"], load_checkpoint(straight)["model"])


# --------------------------------------------------------------------------------------------
# Scoring progress
# --------------------------------------------------------------------------------------------


def test_score_progress_moves_once_per_architecture_and_chunking_keeps_scores(
    monkeypatch: pytest.MonkeyPatch,
    digits: DataSplits,
    digits_config: Callable[..., TrainConfig],
    tmp_path: Path,
) -> None:
    trainer = Trainer(digits_config(steps=4, snapshot_every=2, snapshots=2), data=digits)
    trainer.fit(tmp_path / "h.pt", quiet=True)
    evaluator = Evaluator.from_checkpoint(
        tmp_path / "h.pt", config=EvaluatorConfig(calibration_batch_size=32, chunk=4)
    )
    assert evaluator.num_snapshots == 2
    updates: list[int] = []
    bars: list[dict[str, Any]] = []

    class Bar:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            bars.append(kwargs)

        def update(self, n: int = 1) -> None:
            updates.append(n)

        def close(self) -> None:
            pass

    monkeypatch.setattr(adwp.evaluator, "tqdm", Bar)
    archs = evaluator.space.sample_many(7, np.random.default_rng(3))
    chunked = evaluator.score(archs, progress=True)
    assert updates == [1] * 7
    assert bars[0]["total"] == 7 and not bars[0]["disable"]
    one_by_one = Evaluator.from_checkpoint(
        tmp_path / "h.pt", config=EvaluatorConfig(calibration_batch_size=32, chunk=1)
    )
    np.testing.assert_array_equal(one_by_one.score(archs), chunked)
    # Log-loss sees the last bits of a batched hypernetwork call, which depend on the batch.
    np.testing.assert_allclose(
        one_by_one.score(archs, metric="neg_log_loss"),
        evaluator.score(archs, metric="neg_log_loss"),
        rtol=1e-6,
    )
    # Bit for bit what scoring snapshot by snapshot over each chunk of 4 gives.
    sums = np.zeros((len(archs), 2))
    for start in range(0, len(archs), 4):
        chunk = archs[start : start + 4]
        for snapshot in range(evaluator.num_snapshots):
            for i, weights in enumerate(evaluator.predict_weights(chunk, snapshot)):
                one = evaluator._score_one(chunk[i], weights)
                sums[start + i] += np.array([one["accuracy"], one["neg_log_loss"]]) / 2
    np.testing.assert_array_equal(chunked, sums[:, 0])
    np.testing.assert_array_equal(evaluator.score(archs, metric="neg_log_loss"), sums[:, 1])


# --------------------------------------------------------------------------------------------
# adwp rank: early architecture checks, a folder as checkpoint
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_checkpoint(
    tmp_path_factory: pytest.TempPathFactory,
    digits: DataSplits,
    digits_config: Callable[..., TrainConfig],
) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "h.pt"
    Trainer(digits_config(steps=4, snapshot_every=2, snapshots=2), data=digits).fit(
        path, quiet=True
    )
    return path


def test_rank_reports_an_outside_architecture_before_loading_weights_or_data(
    small_checkpoint: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the checkpoint's weights or the data set were loaded")

    monkeypatch.setattr(adwp.generator, "load_checkpoint", refuse)
    monkeypatch.setattr(adwp.generator, "get_dataset", refuse)
    reads: list[bool] = []
    real_read = adwp.checkpoint._read

    def read(path: Path, mmap: bool) -> dict[str, Any]:
        reads.append(mmap)
        return real_read(path, mmap)

    monkeypatch.setattr(adwp.checkpoint, "_read", read)
    rank = ["rank", "--checkpoint", str(small_checkpoint), "--quiet"]
    status = main([*rank, "--arch", "k3w50s1|k9w100s1|k3w50s1"])
    message = _one_line_error(status, capsys.readouterr().err)
    assert "kernel 9" in message and "(3, 5, 7)" in message
    # The only read was memory-mapped: no tensor data came off the disk.
    assert reads == [True]
    header = read_checkpoint_header(small_checkpoint)
    assert not any(isinstance(v, torch.Tensor) for v in header.values())
    assert header["space"]["name"] == "macro"


def test_a_folder_given_as_checkpoint_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    expected = (
        f"checkpoint path is a folder, not a file: {folder} (give the .pt file written by "
        "adwp train)"
    )
    assert main(["rank", "--checkpoint", str(folder), "--sample", "2"]) == 2
    assert _one_line_error(2, capsys.readouterr().err) == expected
    with pytest.raises(CheckpointError) as caught:
        load_backend(f"hypernet:{folder}", BackendContext())
    assert str(caught.value) == expected


# --------------------------------------------------------------------------------------------
# Checkpoint layout: size, format version, older layout
# --------------------------------------------------------------------------------------------


def _v1_layout(trainer: Trainer) -> dict[str, Any]:
    """The checkpoint dict as format version 1 wrote it: everything in full, in float32."""
    state = trainer.state_dict(resumable=True)
    models = [
        {
            name: tensor.float() if tensor.is_floating_point() else tensor
            for name, tensor in m.items()
        }
        for m in state["snapshots"]["models"]
    ]
    del state["dataset"]["root"], state["dataset"]["options"]
    return {**state, "version": 1, "snapshots": {**state["snapshots"], "models": models}}


def test_complete_checkpoints_keep_only_what_scoring_needs_and_score_as_in_memory(
    tmp_path: Path, digits: DataSplits, digits_config: Callable[..., TrainConfig]
) -> None:
    path = tmp_path / "h.pt"
    trainer = Trainer(digits_config(steps=6, snapshot_every=2, snapshots=3), data=digits)
    trainer.fit(path, quiet=True)
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["version"] == VERSION == 2 and raw["complete"] is True
    assert "optimizer" not in raw
    # The final snapshot is the model itself and is not stored twice.
    assert raw["snapshots"]["steps"] == [2, 4, 6] and len(raw["snapshots"]["models"]) == 2
    assert raw["snapshots"]["final_is_model"] is True
    assert raw["snapshots"]["dtype"] == str(SNAPSHOT_DTYPE).removeprefix("torch.")
    for model in raw["snapshots"]["models"]:
        assert {t.dtype for t in model.values() if t.is_floating_point()} == {SNAPSHOT_DTYPE}
    old = tmp_path / "v1.pt"
    torch.save(_v1_layout(trainer), old)
    # v1: model + AdamW's 2 moments + 3 snapshots; now: model + 2 snapshots.
    assert path.stat().st_size < 0.55 * old.stat().st_size

    config = EvaluatorConfig(calibration_batch_size=32)
    snapshots = []
    for _, state in trainer.snapshots:
        snapshots.append(build_model(trainer.space, trainer.config))
        snapshots[-1].load_state_dict(state)
    in_memory = Evaluator(trainer.model, digits, config, snapshots=snapshots)
    archs = trainer.space.sample_many(5, np.random.default_rng(0))
    expected = in_memory.score(archs)
    np.testing.assert_array_equal(
        Evaluator.from_checkpoint(path, config=config).score(archs), expected
    )
    np.testing.assert_array_equal(
        Evaluator.from_checkpoint(old, config=config).score(archs), expected
    )


def test_snapshots_in_a_compact_dtype_round_trip_exactly(
    tmp_path: Path,
    digits: DataSplits,
    digits_config: Callable[..., TrainConfig],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(adwp.checkpoint, "SNAPSHOT_DTYPE", torch.bfloat16)
    path = tmp_path / "h.pt"
    trainer = Trainer(digits_config(steps=4, snapshot_every=2, snapshots=2), data=digits)
    trainer.fit(path, quiet=True)
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["snapshots"]["dtype"] == "bfloat16" and len(raw["snapshots"]["models"]) == 1
    loaded = load_checkpoint(path)["snapshots"]["models"]
    assert len(loaded) == 2
    for (_, kept), stored in zip(trainer.snapshots, loaded):
        _same_tensors(kept, stored)
    assert {t.dtype for t in loaded[-1].values() if t.is_floating_point()} == {torch.bfloat16}


def test_incomplete_checkpoints_keep_the_optimiser_and_version_1_files_resume_exactly(
    tmp_path: Path, digits: DataSplits, digits_config: Callable[..., TrainConfig]
) -> None:
    config = digits_config(steps=6, snapshot_every=2, snapshots=3, checkpoint_every=100)
    full = Trainer(config, data=digits).fit(tmp_path / "full.pt", quiet=True)
    part = Trainer(config, data=digits)
    _fit_until_killed(part, tmp_path / "part.pt", after_step=4)
    raw = torch.load(tmp_path / "part.pt", map_location="cpu", weights_only=True)
    assert raw["complete"] is False and raw["optimizer"]["state"]
    # The same interrupted run, as a version-1 file.
    old = tmp_path / "old.pt"
    torch.save(_v1_layout(part), old)
    resumed = Trainer(config, data=digits).fit(old, resume=True, quiet=True)
    _same_tensors(full.model.state_dict(), resumed.model.state_dict())
    for (_, a), (_, b) in zip(full.snapshots, resumed.snapshots):
        _same_tensors(a, b)
    assert torch.load(old, map_location="cpu", weights_only=True)["version"] == VERSION


def test_a_checkpoint_of_a_future_version_is_refused_naming_it(
    tmp_path: Path, small_checkpoint: Path
) -> None:
    state = load_checkpoint(small_checkpoint)
    future = tmp_path / "future.pt"
    save_checkpoint(future, {**state, "version": 7})
    for read in (load_checkpoint, read_checkpoint_header):
        with pytest.raises(
            CheckpointError, match="format version 7; this adwp reads versions 1, 2"
        ):
            read(future)


def test_a_selected_checkpoint_cannot_be_resumed(
    tmp_path: Path, digits: DataSplits, digits_config: Callable[..., TrainConfig]
) -> None:
    trainer = Trainer(digits_config(steps=6), data=digits)
    for _ in range(3):
        trainer.train_step()
    save_checkpoint(tmp_path / "h.best.pt", trainer.state_dict(resumable=False))
    with pytest.raises(CheckpointError, match="holds no optimiser state"):
        Trainer(digits_config(steps=6), data=digits).fit(tmp_path / "h.best.pt", resume=True)


# --------------------------------------------------------------------------------------------
# imagefolder: image size, and the data root recorded in the checkpoint
# --------------------------------------------------------------------------------------------


@pytest.fixture
def image_root(tmp_path: Path) -> Path:
    """A tiny image folder: 2 classes, 6 train and 4 val 8x8 PNGs each."""
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for split, count in (("train", 6), ("val", 4)):
        for label in ("ant", "bee"):
            (root / split / label).mkdir(parents=True)
            for k in range(count):
                pixels = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / label / f"{k}.png")
    return root


def test_imagefolder_size_is_an_option_recorded_with_the_root(image_root: Path) -> None:
    data = get_dataset("imagefolder", root=image_root, image_size=6)
    assert data.image_size == 6 and data.train[0][0].shape == (3, 6, 6)
    assert data.options == {"image_size": 6} and data.root == str(image_root.resolve())
    default = get_dataset("imagefolder", root=image_root)
    assert default.image_size == 64 and default.options == {}
    assert get_dataset("digits").root is None


@slow
def test_rank_reads_the_image_folder_and_size_the_checkpoint_records(
    image_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "h.pt"
    train = ["train", "--dataset", "imagefolder", "--data-root", str(image_root), *SMALL]
    train += ["--image-size", "6", "--steps", "2", "--batch-size", "4", "--quiet"]
    assert main([*train, "--out", str(out)]) == 0
    dataset = load_checkpoint(out)["dataset"]
    assert dataset["root"] == str(image_root.resolve()) and dataset["options"] == {"image_size": 6}
    assert dataset["image_size"] == 6

    rank = ["rank", "--checkpoint", str(out), "--sample", "2", "--quiet"]
    assert main([*rank, "--output", str(tmp_path / "a.json")]) == 0
    first = json.loads((tmp_path / "a.json").read_text())
    assert first["images"] == 4  # half of the 8 val images; the other half is the test split
    backend = load_backend(f"hypernet:{out}", BackendContext())
    assert backend.data.root == str(image_root.resolve()) and backend.data.image_size == 6

    moved = tmp_path / "moved"
    shutil.move(image_root, moved)
    capsys.readouterr()
    message = _one_line_error(main(rank), capsys.readouterr().err)
    assert str(image_root.resolve()) in message and "no longer exists" in message
    assert "--data-root" in message
    assert main([*rank, "--data-root", str(moved), "--output", str(tmp_path / "b.json")]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["scores"] == first["scores"]


def test_image_size_on_groundtruth_and_refused_by_other_data_sets(
    image_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "gt.jsonl"
    truth = ["groundtruth", "--dataset", "imagefolder", "--data-root", str(image_root)]
    truth += ["--image-size", "6", "--sample", "1", "--seeds", "1", "--epochs", "1", "--quiet"]
    assert main([*truth, "--output", str(table)]) == 0
    row = json.loads(table.read_text().splitlines()[0])
    from adwp.spaces import get_space

    space = get_space("macro", in_channels=3, num_classes=2, image_size=6)
    assert row["flops"] == space.flops(space.validate(row["arch"]))
    bad = ["train", "--dataset", "digits", "--image-size", "6", "--out", str(tmp_path / "x.pt")]
    message = _one_line_error(main(bad), capsys.readouterr().err)
    assert "image_size" in message and "digits" in message
    for command in ("train", "groundtruth"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--image-size N" in capsys.readouterr().out


def test_a_recorded_root_that_is_gone_is_a_data_error_in_python(
    tmp_path: Path, digits: DataSplits, digits_config: Callable[..., TrainConfig]
) -> None:
    path = tmp_path / "h.pt"
    Trainer(digits_config(steps=2), data=digits).fit(path, quiet=True)
    state = load_checkpoint(path)
    state["dataset"]["root"] = str(tmp_path / "gone")
    save_checkpoint(path, state)
    with pytest.raises(DataError, match="no longer exists"):
        Evaluator.from_checkpoint(path)
    # Told where the data is, the recorded root is not needed.
    assert Evaluator.from_checkpoint(path, data_root=str(tmp_path)).data.name == "digits"
