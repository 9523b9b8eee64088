"""Every ``bash`` block of the README runs, at toy size, and writes what it says it writes.

The blocks are read from README.md itself, so an edited block stays tested. Each ``adwp``
command runs through :func:`adwp.cli.main` with its flags kept and only its sizes made small
(a few training steps of a small hypernetwork, a few sampled architectures, few images); data
folders and truth tables are tiny fixtures in place of CIFAR-10 and NAS-Bench-201's table.
Environment setup (venv, pip) and the test suite's own command are not run here.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from adwp.checkpoint import load_checkpoint
from adwp.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Commands of a block that set up the environment or run this test suite: not run here.
SETUP = (("python3", "-m", "venv"), (".",), ("pip", "install"), ("python", "-m", "pytest"))
# Toy sizes per command: flag -> value, replacing the README's value or added.
TOY = {
    "train": {
        "--steps": "2",
        "--meta-batch": "3",
        "--batch-size": "8",
        "--embed-dim": "16",
        "--num-bases": "2",
        "--snapshot-every": "1",
        "--snapshots": "2",
    },
    "rank": {"--sample": "4", "--top": "3"},
}
# Flags whose value is a file the command writes.
WRITES = ("--out", "--output", "--plot")


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)


def commands(block: str) -> list[list[str]]:
    """The block's commands: continuation lines joined, split at newlines and ``&&``."""
    text = block.replace("\\\n", " ")
    return [shlex.split(part) for line in text.splitlines() for part in line.split("&&") if part]


def _set(argv: list[str], flag: str, value: str) -> list[str]:
    if flag in argv:
        argv = list(argv)
        argv[argv.index(flag) + 1] = value
        return argv
    return [*argv, flag, value]


def _value(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


@pytest.fixture(scope="module")
def folders(
    tmp_path_factory: pytest.TempPathFactory, cifar_folder_with_val: Path
) -> dict[str, Path]:
    """Tiny data folders: CIFAR-10's layout, and an image folder of 2 classes."""
    from PIL import Image

    images = tmp_path_factory.mktemp("imagefolder")
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("val", 4)):
        for name in ("cat", "dog"):
            (images / split / name).mkdir(parents=True)
            for k in range(count):
                pixels = rng.integers(0, 256, size=(20, 24, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(images / split / name / f"{k}.png")
    return {"cifar10": cifar_folder_with_val, "imagefolder": images}


def _truth_from(argv: list[str], path: Path) -> None:
    """A truth table of the scored architectures, with the block's key and metric columns."""
    scores = json.loads(Path(_value(argv, "--scores") or "").read_text())
    key, metric = _value(argv, "--key") or "arch", _value(argv, "--metric") or "val_acc"
    rng = np.random.default_rng(0)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([key, metric])
        for arch in scores["archs"]:
            writer.writerow([arch, f"{rng.uniform(80, 95):.3f}"])


def toy(argv: list[str], folders: dict[str, Path], tmp: Path) -> list[str]:
    """The README command at toy size; the flags it was given are kept."""
    command, rest = argv[1], argv[2:]
    for flag, value in TOY.get(command, {}).items():
        rest = _set(rest, flag, value)
    dataset = _value(rest, "--dataset")
    if "--data-root" in rest:
        rest = _set(rest, "--data-root", str(folders[dataset or "cifar10"]))
    if dataset == "imagefolder":
        rest = _set(rest, "--image-size", "16")
    if command == "rank" and "--max-images" in rest:
        rest = _set(rest, "--max-images", "16")
    if command == "correlate":
        shipped = ROOT / (_value(rest, "--truth") or "")
        if shipped.is_file():  # a table of the repository, which holds the toy sample too
            rest = _set(rest, "--truth", str(shipped))
        else:
            truth = tmp / "truth.csv"
            _truth_from(rest, truth)
            rest = _set(rest, "--truth", str(truth))
    if command in ("train", "rank", "groundtruth", "search"):
        rest = [*rest, "--quiet"]
    return [command, *rest]


CHECKS: dict[str, Callable[[list[str]], None]] = {
    "train": lambda argv: load_checkpoint(_value(argv, "--out") or ""),
    "rank": lambda argv: (
        None
        if "--output" not in argv
        else _check_ranking(Path(_value(argv, "--output") or ""), int(_value(argv, "--sample")))
    ),
    "correlate": lambda argv: _check_report(Path(_value(argv, "--output") or "")),
}


def _check_ranking(path: Path, sample: int) -> None:
    out = json.loads(path.read_text())
    assert len(out["archs"]) == len(out["scores"]) == sample


def _check_report(path: Path) -> None:
    report = json.loads(path.read_text())
    assert report["n"] == 4 and report["unmatched"] == []
    assert -1 <= report["kendall_tau"] <= 1


def test_the_readme_has_the_blocks_this_test_covers() -> None:
    blocks = bash_blocks()
    assert len(blocks) >= 4
    runs = [argv for block in blocks for argv in commands(block)]
    assert {argv[1] for argv in runs if argv[0] == "adwp"} >= {"train", "rank", "correlate"}
    unknown = [
        argv
        for argv in runs
        if argv[0] != "adwp" and not any(tuple(argv[: len(s)]) == s for s in SETUP)
    ]
    assert unknown == [], "a README block runs a command this test does not know how to run"


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(bash_blocks())))
def test_readme_block_runs_at_toy_size(
    number: int,
    folders: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the blocks write to runs/ in the working folder
    block = bash_blocks()[number]
    runs = [argv for argv in commands(block) if argv[0] == "adwp"]
    if not runs:
        pytest.skip("environment setup only")
    for argv in runs:
        argv = toy(argv, folders, tmp_path)
        status = main(argv)
        err = capsys.readouterr().err
        assert status == 0, f"adwp {' '.join(argv)} exited {status}: {err}"
        for flag in WRITES:
            if flag in argv:
                assert Path(_value(argv, flag) or "").is_file(), f"{flag} not written: {argv}"
        CHECKS.get(argv[0], lambda argv: None)(argv)
