"""What a new user meets first: silent wrong results refused, messages that name the real cause,
labels that say what a number is, ``--threads``, status lines and the help text."""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from adwp.checkpoint import load_checkpoint
from adwp.cli import build_parser, main
from adwp.errors import ArchitectureError, CheckpointError
from adwp.pretrained import get_pretrained
from adwp.spaces import get_space

DATA = Path(__file__).resolve().parent / "data"
# A finished digits hypernetwork of format 2, written before checkpoints were checked for damage.
CHECKPOINT = DATA / "macro_hypernet_checkpoint.pt"
NB201_CELL = (
    "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"
)


def one_line_error(status: int, err: str) -> str:
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("adwp: error: "), err
    return lines[0].removeprefix("adwp: error: ")


# --------------------------------------------------------------------------------------------
# correlate: a truth table that lacks part of the scored architectures
# --------------------------------------------------------------------------------------------


def _write_scores_and_truth(tmp_path: Path, n: int, kept: int) -> tuple[Path, Path]:
    """Scores of ``n`` NB201 cells and a NATS-Bench-like CSV holding the first ``kept`` of them,
    cut at a row boundary as a truncated copy would be."""
    space = get_space("nb201")
    archs = [a.to_string() for a in space.enumerate()][:n]
    rng = random.Random(0)
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"archs": archs, "scores": [rng.random() for _ in archs]}))
    truth = tmp_path / "truth.csv"
    with truth.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ArchitectureString", "CIFAR10TestAccuracy200Epochs"])
        writer.writerows([a, f"{rng.uniform(80, 94):.2f}"] for a in archs[:kept])
    return scores, truth


def _correlate(scores: Path, truth: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "correlate",
            "--truth",
            str(truth),
            "--key",
            "ArchitectureString",
            "--metric",
            "CIFAR10TestAccuracy200Epochs",
            "--scores",
            str(scores),
            "--output",
            str(out),
            *extra,
        ]
    )


def test_correlate_refuses_a_truncated_truth_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores, truth = _write_scores_and_truth(tmp_path, n=200, kept=120)
    out = tmp_path / "report.json"
    message = one_line_error(_correlate(scores, truth, out), capsys.readouterr().err)
    assert "80 of 200 scored architectures" in message and "40.0%" in message
    assert "|" in message and "truth.csv" in message  # an example key, and the table
    assert not out.exists()


def test_correlate_accepts_a_share_of_missing_architectures_up_to_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores, truth = _write_scores_and_truth(tmp_path, n=200, kept=198)  # 1% missing
    out = tmp_path / "report.json"
    assert _correlate(scores, truth, out) == 0
    assert json.loads(out.read_text())["n"] == 198
    scores, truth = _write_scores_and_truth(tmp_path, n=200, kept=120)
    assert _correlate(scores, truth, out, "--max-unmatched", "0.5") == 0
    assert json.loads(out.read_text())["n"] == 120
    capsys.readouterr()
    with pytest.raises(SystemExit):
        _correlate(scores, truth, out, "--max-unmatched", "1.5")
    assert "expected a share in [0, 1]" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Damaged checkpoints
# --------------------------------------------------------------------------------------------


def _tensor_data_offset(path: Path) -> tuple[int, int]:
    """Where the bytes of the largest tensor of a checkpoint start, and how many there are."""
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
    with path.open("rb") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(handle.read(2), "little") for _ in range(2))
    return info.header_offset + 30 + name_length + extra_length, info.file_size


def _damaged_copy(source: Path, tmp_path: Path, payload: bytes) -> Path:
    damaged = tmp_path / "damaged.pt"
    shutil.copy(source, damaged)
    start, size = _tensor_data_offset(damaged)
    assert size >= len(payload)  # inside one tensor: torch.load itself sees nothing wrong
    with damaged.open("r+b") as handle:
        handle.seek(start)
        handle.write(payload)
    return damaged


@pytest.mark.parametrize(
    ("source", "payload"),
    [
        (get_pretrained("nb201-cifar10").path, bytes(65536)),
        (CHECKPOINT, random.Random(0).randbytes(4096)),
    ],
    ids=["zeroed-64KB", "random-4KB"],
)
def test_a_damaged_checkpoint_is_named_as_damaged(
    source: Path, payload: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = _damaged_copy(source, tmp_path, payload)
    with pytest.raises(CheckpointError, match=r"damaged\.pt is damaged"):
        load_checkpoint(damaged)
    status = main(["rank", "--checkpoint", str(damaged), "--sample", "3", "--quiet"])
    message = one_line_error(status, capsys.readouterr().err)
    assert "is damaged" in message and "CRC" in message and "diverge" not in message


def test_checkpoints_written_before_the_check_still_load() -> None:
    from adwp.checkpoint import check_intact

    # Their zip records carried the CRC-32s all along, so old files are checked too.
    for path in (CHECKPOINT, DATA / "macro_generators.pt", get_pretrained("nb201-cifar10").path):
        check_intact(path)
    assert load_checkpoint(CHECKPOINT)["step"] == 3


def test_a_damaged_search_checkpoint_is_named_as_damaged(tmp_path: Path) -> None:
    from adwp.search._common import read_search_checkpoint

    path = tmp_path / "search.pt"
    torch.save({"kind": "darts", "weights": torch.arange(40000.0)}, path)
    start, _ = _tensor_data_offset(path)
    with path.open("r+b") as handle:
        handle.seek(start + 1000)
        handle.write(bytes(4096))
    with pytest.raises(CheckpointError, match=r"search checkpoint .* is damaged"):
        read_search_checkpoint(path, "darts", {}, dict, torch.device("cpu"))


# --------------------------------------------------------------------------------------------
# Messages that name the real cause
# --------------------------------------------------------------------------------------------


def test_an_architecture_of_another_space_is_named_as_such(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ArchitectureError, match="of the nb201 space, not of this macro space"):
        get_space("macro").validate(NB201_CELL)
    with pytest.raises(ArchitectureError, match="of the layer-assignment or macro space"):
        get_space("nb201").validate("k3w100s1,k5w50s0|k3w75s1|k7w100s0")
    # A string of no space keeps its parser's own message.
    with pytest.raises(ArchitectureError, match="malformed layer"):
        get_space("macro").validate("k3w100s1|zz|k3w100s1")
    status = main(["rank", "--checkpoint", str(CHECKPOINT), "--arch", NB201_CELL])
    message = one_line_error(status, capsys.readouterr().err)
    assert "nb201 space" in message and "empty stage" not in message


def test_a_bad_line_of_an_archs_file_is_named_by_its_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "archs.txt"
    file.write_text("k3w100s1|k3w100s1|k3w100s1\n# a comment\n\nk3w100s1|k9w100s1|k3w100s1\n")
    status = main(["rank", "--checkpoint", str(CHECKPOINT), "--archs", str(file)])
    message = one_line_error(status, capsys.readouterr().err)
    assert message.startswith(f"{file}:4: ") and "kernel 9" in message
    file.write_text(json.dumps(["k3w100s1|k3w100s1|k3w100s1", "k3w100s1"]))
    status = main(["rank", "--checkpoint", str(CHECKPOINT), "--archs", str(file)])
    assert one_line_error(status, capsys.readouterr().err).startswith(f"{file}: item 2: ")


def test_a_missing_data_folder_suggests_download_only_where_the_flag_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = tmp_path / "nowhere"
    rank = ["rank", "--pretrained", "nb201-cifar10", "--sample", "2", "--quiet"]
    message = one_line_error(main([*rank, "--data-root", str(nowhere)]), capsys.readouterr().err)
    assert str(nowhere) in message and "does not exist" in message and "download" not in message
    train = ["train", "--dataset", "cifar10", "--out", str(tmp_path / "h.pt"), "--quiet"]
    message = one_line_error(main([*train, "--data-root", str(nowhere)]), capsys.readouterr().err)
    assert "does not exist" in message and "--download" in message


def test_a_closed_pipe_ends_the_command_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone, as after `| head -3`
    with open(write, "w", buffering=1) as closed:
        monkeypatch.setattr("sys.stdout", closed)
        status = main(["space", "--space", "nb201"])
        monkeypatch.undo()
    assert status == 141
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------------------------
# Labels: what a score is, which truth, which ceiling
# --------------------------------------------------------------------------------------------


def test_rank_names_its_score_column_by_the_metric(capsys: pytest.CaptureFixture[str]) -> None:
    arch = "k3w100s1|k3w100s1|k3w100s1"
    base = ["rank", "--checkpoint", str(CHECKPOINT), "--arch", arch, "--quiet"]
    assert main([*base, "--score-metric", "neg_log_loss"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["rank", "neg_log_loss", "params", "MFLOPs", "architecture"]
    assert float(row.split()[1]) < 0
    assert main(base) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[1] == "accuracy"


def test_rank_says_what_it_does_before_the_silent_steps_unless_quiet(
    cifar_folder_with_val: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["rank", "--pretrained", "nb201-cifar10", "--data-root", str(cifar_folder_with_val)]
    base += ["--sample", "2", "--max-images", "8"]
    assert main(base) == 0
    err = capsys.readouterr().err
    assert f"reading cifar10 images from {cifar_folder_with_val}" in err
    assert "scoring 2 architectures on 8 images" in err and "BatchNorm" in err
    assert main([*base, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    # An embedded data set is read at once: no line before the scoring one.
    assert main(["rank", "--checkpoint", str(CHECKPOINT), "--sample", "2"]) == 0
    assert capsys.readouterr().err.startswith("scoring 2 architectures")


def test_the_truth_axis_counts_seeds_only_where_the_table_has_them() -> None:
    from adwp.plots.correlation import _truth_label

    one_row_each = {"metric": "CIFAR10TestAccuracy200Epochs", "seeds": [1, 1, 1]}
    assert "seed" not in _truth_label(one_row_each, seeded=False)
    assert "(1 seed)" in _truth_label(one_row_each, seeded=True)
    assert "over 16 seeds" in _truth_label({"metric": "val_acc", "seeds": [16, 16]})


def test_the_correlation_plot_shows_the_split_half_ceiling_when_there_is_one() -> None:
    from adwp.plots.correlation import _ceiling_text

    report: dict[str, Any] = {
        "noise_ceiling": {"kendall_tau": 0.598},
        "noise_ceiling_split_half": {"kendall_tau": 0.809, "seeds_per_half": 8},
    }
    text = _ceiling_text(report)
    assert "noise ceiling 0.809 (split-half: mean of 8 seeds vs 8 others)" in text
    assert text.index("0.809") < text.index("0.598")
    assert "0.598 (one seed vs another)" in _ceiling_text({"noise_ceiling": {"kendall_tau": 0.598}})


def test_the_search_figure_is_readable_and_does_not_magnify_small_differences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    import adwp.plots as plots
    import adwp.plots._figures as figures

    drawn: list[Any] = []
    save = figures.save
    monkeypatch.setattr(
        figures, "save", lambda plt, fig, path: (drawn.append(fig), save(plt, fig, path))
    )
    weights = [[[0.2] * 5 for _ in range(6)]]
    history = [{"epoch": e, "weights": weights[0], "truth": t} for e, t in ((1, 93.62), (2, 93.76))]
    result = {"method": "hypernet-gradient", "arch": NB201_CELL, "history": history}
    path = tmp_path / "search.png"
    plots.plot_differentiable_search(result, path)
    width, height = Image.open(path).size
    assert width / height < 2.5
    low, high = drawn[0].axes[0].get_ylim()
    assert high - low >= 0.9  # 0.14 points do not fill the axis
    reference = {"table's best": 94.37, "table's median": 90.75}
    plots.plot_differentiable_search(result, path, reference=reference)
    low, high = drawn[1].axes[0].get_ylim()
    assert low < 90.75 and high > 94.37


# --------------------------------------------------------------------------------------------
# --threads and the help text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "rank", "search", "groundtruth"])
def test_threads_must_be_a_positive_count(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--threads", bad])
        assert exit_info.value.code == 2
        assert "expected a positive integer" in capsys.readouterr().err


def test_threads_sets_torchs_thread_count(capsys: pytest.CaptureFixture[str]) -> None:
    before = torch.get_num_threads()
    try:
        status = main(["rank", "--checkpoint", str(CHECKPOINT), "--arch", "zz", "--threads", "1"])
        assert status == 2  # the architecture is refused, after the threads were set
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    capsys.readouterr()


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_flag_has_help() -> None:
    missing = [
        f"{name} {action.option_strings or action.dest}"
        for name, sub in _subcommands().items()
        for action in sub._actions
        if not action.help
    ]
    assert missing == []


def test_flags_required_by_some_search_methods_say_which() -> None:
    search = _subcommands()["search"]
    helps = {o: a.help or "" for a in search._actions for o in a.option_strings}
    for flag, method in (
        ("--budget", "random and evolution"),
        ("--coefficients", "importance-sampling"),
        ("--iterations", "importance-sampling"),
        ("--min-depth", "layer-assignment"),
        ("--generator", "hypernet-gradient"),
    ):
        assert helps[flag].startswith(f"required by {method}"), flag
