"""Ground-truth tool: rows, resume after a real kill, sharding, merge, corrupt input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adwp.cli import main
from adwp.errors import AdwpError, DataError
from adwp.groundtruth import merge_tables, read_table, shard_from_environment

BASE = ["groundtruth", "--dataset", "digits", "--seeds", "1", "--epochs", "1", "--seed", "0"]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adwp", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_three_valid_rows(tmp_path, capsys):
    out = tmp_path / "gt.jsonl"
    assert main([*BASE, "--sample", "3", "--output", str(out), "--quiet"]) == 0
    rows = read_table(out)
    assert len(rows) == 3 and len({r["arch"] for r in rows}) == 3
    for row in rows:
        assert 0 <= row["val_acc"] <= 1 and 0 <= row["test_acc"] <= 1
        assert row["seed"] == 0 and row["params"] > 0 and row["flops"] > 0 and row["seconds"] > 0
        assert len(row["recipe"]) == 12 and row["recipe_config"]["epochs"] == 1
    # Running again trains nothing and keeps the file as it is.
    before = out.read_bytes()
    assert main([*BASE, "--sample", "3", "--output", str(out), "--quiet"]) == 0
    assert out.read_bytes() == before


def test_killed_run_resumes_without_duplicates_or_losses(tmp_path):
    args = [*BASE, "--sample", "6", "--epochs", "3", "--threads", "1", "--quiet"]
    full = _run(*args, "--output", "full.jsonl", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "adwp", *args, "--output", "killed.jsonl"], cwd=tmp_path
    )
    killed = tmp_path / "killed.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if killed.exists() and killed.read_text().count("\n") >= 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rows_at_kill = killed.read_text().count("\n")
    assert rows_at_kill >= 2
    again = _run(*args, "--output", "killed.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    resumed, reference = read_table(killed), read_table(tmp_path / "full.jsonl")
    keys = [(r["arch"], r["seed"]) for r in resumed]
    assert len(keys) == len(set(keys)) == 6
    # Same rows as the uninterrupted run, results included (training is deterministic).
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert sorted(map(json.dumps, map(strip, resumed))) == sorted(
        map(json.dumps, map(strip, reference))
    )


def test_a_line_cut_by_a_kill_is_dropped_but_corrupt_rows_are_errors(tmp_path):
    out = tmp_path / "gt.jsonl"
    assert main([*BASE, "--sample", "2", "--output", str(out), "--quiet"]) == 0
    good = out.read_text()
    out.write_text(good + '{"arch": "k3w1')
    assert main([*BASE, "--sample", "2", "--output", str(out), "--quiet"]) == 0
    assert out.read_text() == good
    lines = good.splitlines()
    out.write_text(lines[0] + "\nnot json\n" + lines[1] + "\n")
    with pytest.raises(DataError, match=r"gt.jsonl:2: corrupt row"):
        read_table(out)
    row = json.loads(lines[0])
    row["val_acc"] = 1.5
    out.write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError, match=r"gt.jsonl:1: val_acc 1.5 is not a fraction"):
        read_table(out)


def test_shards_partition_the_work_and_merge(tmp_path, capsys):
    for i in range(2):
        shard = ["--shard", f"{i}/2", "--output", str(tmp_path / f"s{i}.jsonl"), "--quiet"]
        assert main([*BASE, "--sample", "4", *shard]) == 0
    parts = [read_table(tmp_path / f"s{i}.jsonl") for i in range(2)]
    assert [len(p) for p in parts] == [2, 2]
    assert not {r["arch"] for r in parts[0]} & {r["arch"] for r in parts[1]}
    merged = tmp_path / "all.jsonl"
    assert main(["groundtruth", "merge", *(str(tmp_path / f"s{i}.jsonl") for i in range(2)),
                 "--output", str(merged)]) == 0  # fmt: skip
    assert len(read_table(merged)) == 4
    whole = tmp_path / "whole.jsonl"
    assert main([*BASE, "--sample", "4", "--output", str(whole), "--quiet"]) == 0
    assert {r["arch"] for r in read_table(whole)} == {r["arch"] for r in read_table(merged)}


def test_shard_auto_reads_the_schedulers_array_variables(tmp_path, capsys, monkeypatch):
    assert shard_from_environment({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}) == (
        3, 4)  # fmt: skip
    # --array=1-8 and --array=0-15:2 are renumbered from 0.
    slurm = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "1"}
    assert shard_from_environment(slurm) == (0, 8)
    stepped = {"SLURM_ARRAY_TASK_ID": "14", "SLURM_ARRAY_TASK_COUNT": "8",
               "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2"}  # fmt: skip
    assert shard_from_environment(stepped) == (7, 8)
    assert shard_from_environment({"ADWP_SHARD_INDEX": "0", "ADWP_SHARD_COUNT": "2"}) == (0, 2)
    with pytest.raises(AdwpError, match="needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT"):
        shard_from_environment({})
    with pytest.raises(AdwpError, match="task 2 of 2"):
        shard_from_environment({"ADWP_SHARD_INDEX": "2", "ADWP_SHARD_COUNT": "2"})
    with pytest.raises(AdwpError, match="do not name a task"):
        shard_from_environment({"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"})
    # Through the command line: the same rows as the explicit --shard 1/2.
    for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADWP_SHARD_INDEX", "1")
    monkeypatch.setenv("ADWP_SHARD_COUNT", "2")
    auto, explicit = tmp_path / "auto.jsonl", tmp_path / "explicit.jsonl"
    for shard, out in (("auto", auto), ("1/2", explicit)):
        args = ["--sample", "4", "--shard", shard, "--output", str(out), "--quiet"]
        assert main([*BASE, *args]) == 0
    assert [r["arch"] for r in read_table(auto)] == [r["arch"] for r in read_table(explicit)]
    monkeypatch.delenv("ADWP_SHARD_INDEX")
    assert main([*BASE, "--sample", "4", "--shard", "auto", "--output", str(auto)]) == 2
    assert "--shard auto needs" in capsys.readouterr().err


def test_merge_refuses_mixed_recipes(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main([*BASE, "--sample", "1", "--output", str(a), "--quiet"]) == 0
    assert main([*BASE, "--sample", "1", "--epochs", "2", "--output", str(b), "--quiet"]) == 0
    with pytest.raises(DataError, match="mixed recipes"):
        merge_tables([a, b], tmp_path / "m.jsonl")
    assert not (tmp_path / "m.jsonl").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--shard", "2/2"], "0 <= I < N"),
        (["--shard", "x"], "I/N"),
        (["--epochs", "0"], "at least 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, extra, message):
    args = [*BASE, "--sample", "1", "--output", str(tmp_path / "g.jsonl"), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_shard_without_work_leaves_an_empty_table_that_merges(tmp_path, capsys):
    for i in range(3):
        shard = ["--shard", f"{i}/3", "--output", str(tmp_path / f"s{i}.jsonl"), "--quiet"]
        assert main([*BASE, "--sample", "2", *shard]) == 0
    assert (tmp_path / "s2.jsonl").read_text() == ""  # 2 architectures, 3 shards
    merged = tmp_path / "all.jsonl"
    shards = [str(tmp_path / f"s{i}.jsonl") for i in range(3)]
    assert main(["groundtruth", "merge", *shards, "--output", str(merged)]) == 0
    assert len(read_table(merged)) == 2


def test_run_groundtruth_takes_canonical_strings(tmp_path):
    from adwp.data import get_dataset
    from adwp.groundtruth import Recipe, run_groundtruth
    from adwp.spaces import get_space

    data = get_dataset("digits")
    space = get_space("macro", in_channels=1, num_classes=10, image_size=8)
    out = tmp_path / "gt.jsonl"
    arch = space.smallest().to_string()
    rows = run_groundtruth(space, [arch], data, Recipe(epochs=1), [0], out, quiet=True)
    assert [row["arch"] for row in rows] == [arch]
    with pytest.raises(AdwpError, match="is a folder"):
        run_groundtruth(space, [arch], data, Recipe(epochs=1), [0], tmp_path, quiet=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"max_lr": 0.0}, "max_lr must be positive and finite"),
        ({"augment_shift": -2}, "augment_shift must be 0 or more"),
        ({"label_smoothing": 2.0}, r"label_smoothing must be in \[0, 1\)"),
    ],
)
def test_recipe_names_the_bad_setting(change, message):
    from adwp.groundtruth import Recipe

    with pytest.raises(AdwpError, match=message):
        Recipe(**change)
