"""End-to-end tests of the ``adwp`` command line: ``space``, ``train`` and ``rank``.

Most commands run in-process through :func:`adwp.cli.main`; the properties that only a real
process can show (no traceback on stderr, determinism across processes, resuming after SIGKILL)
run ``python -m adwp`` in a subprocess.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from adwp.cli import main
from adwp.spaces import Architecture, get_space
from adwp.training import metrics_path

REPO = Path(__file__).resolve().parents[1]
FIXED_LAYER = "k3w100s1"  # the only layer of the layer-assignment space
TRAIN_ARGS = ["train", "--dataset", "digits", "--steps", "20", "--seed", "0", "--quiet"]
slow = pytest.mark.slow


# --------------------------------------------------------------------------------------------
# Helpers and fixtures
# --------------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def _command(*args: Any) -> list[str]:
    return [sys.executable, "-m", "adwp", *map(str, args)]


def run_adwp(*args: Any, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m adwp ARGS`` in a fresh process."""
    return subprocess.run(
        _command(*args),
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(status: int, err: str) -> str:
    """Checks the CLI's user-error contract and returns the message after the prefix."""
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got:\n{err}"
    assert lines[0].startswith("adwp: error: "), lines[0]
    return lines[0].removeprefix("adwp: error: ")


def table_rows(out: str) -> list[list[str]]:
    """Splits the printed ranking table into rows of ``[rank, score, params, MFLOPs, arch]``
    (the score column is named by the metric, by default accuracy)."""
    lines = out.strip().splitlines()
    assert lines[0].split() == ["rank", "accuracy", "params", "MFLOPs", "architecture"]
    rows = [line.split() for line in lines[1:]]
    assert all(len(row) == 5 for row in rows), out
    return rows


def best_first(scores: list[float]) -> list[int]:
    """Indices sorted by score, best first, ties in input order (like the CLI)."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hypernetwork trained once per module: digits, 20 steps, seed 0."""
    out = tmp_path_factory.mktemp("hypernet") / "h.pt"
    assert main([*TRAIN_ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def sampled(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Output JSON of ``adwp rank --sample 16 --seed 0`` on the module's checkpoint."""
    out = tmp_path_factory.mktemp("rank") / "r.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--sample", "16", "--seed", "0"]
    assert main([*args, "--output", str(out)]) == 0
    return json.loads(out.read_text())


# --------------------------------------------------------------------------------------------
# adwp space
# --------------------------------------------------------------------------------------------


def test_space_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["space"]) == 0
    out = capsys.readouterr().out
    fields = dict(line.strip().split(": ", 1) for line in out.strip().splitlines())
    assert fields["space"] == "macro"
    assert fields["size"] == str(get_space("macro").size())
    assert get_space("macro").contains(fields["example"])
    assert set(fields) >= {"choices", "options", "largest", "smallest", "example_params"}


def test_space_json(capsys: pytest.CaptureFixture[str]) -> None:
    space = get_space("macro")
    assert main(["space", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["space"] == "macro"
    assert info["size"] == space.size()
    assert info["choices"] == space.choices()
    assert info["choices"]["kernel"] == [3, 5, 7]
    example = Architecture.from_string(info["example"])
    assert example.to_string() == info["example"]
    assert space.contains(example)
    assert info["example_params"] == space.params(example)
    assert info["example_flops"] == space.flops(example)
    assert info["largest"] == space.largest().to_string()
    assert info["smallest"] == space.smallest().to_string()


def test_space_example_follows_seed(capsys: pytest.CaptureFixture[str]) -> None:
    examples = []
    for seed in ("3", "3", "4"):
        assert main(["space", "--json", "--seed", seed]) == 0
        examples.append(json.loads(capsys.readouterr().out)["example"])
    assert examples[0] == examples[1]
    assert examples[0] != examples[2]


def test_space_layer_assignment(capsys: pytest.CaptureFixture[str]) -> None:
    space = get_space("layer-assignment")
    assert main(["space", "--space", "layer-assignment", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["space"] == "layer-assignment"
    assert info["size"] == space.size() == 4**3
    assert info["choices"] == space.choices()
    example = Architecture.from_string(info["example"])
    assert space.contains(example)
    assert {layer.to_string() for layer in example.layers} == {FIXED_LAYER}


def test_space_unknown_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["space", "--space", "no-such-space"])
    captured = capsys.readouterr()
    message = assert_one_line_error(status, captured.err)
    assert "no-such-space" in message
    assert "macro" in message and "layer-assignment" in message
    assert captured.out == ""


# --------------------------------------------------------------------------------------------
# adwp train + adwp rank: the acceptance scenario
# --------------------------------------------------------------------------------------------


@slow
def test_train_writes_checkpoint_and_metrics(checkpoint: Path) -> None:
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert state["step"] == 20
    assert state["complete"] is True
    assert state["dataset"]["name"] == "digits"
    rows = [json.loads(line) for line in metrics_path(checkpoint).read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 21))
    assert all(math.isfinite(row["loss"]) for row in rows)


def test_train_snapshots_and_rank_averages_over_them(tmp_path: Path) -> None:
    out = tmp_path / "h.pt"
    args = ["train", "--dataset", "digits", "--steps", "4", "--quiet", "--out", str(out)]
    assert main([*args, "--snapshot-every", "1", "--snapshots", "3", "--lr-cycles", "2"]) == 0
    state = torch.load(out, map_location="cpu", weights_only=True)
    assert state["snapshots"]["steps"] == [2, 3, 4]
    assert state["train_config"]["lr_cycles"] == 2
    rank = ["rank", "--checkpoint", str(out), "--sample", "3"]
    assert main([*rank, "--output", str(tmp_path / "all.json")]) == 0
    assert main([*rank, "--final-weights-only", "--output", str(tmp_path / "last.json")]) == 0
    both = [json.loads((tmp_path / f"{n}.json").read_text()) for n in ("all", "last")]
    assert [b["snapshots"] for b in both] == [3, 1]
    assert both[0]["archs"] == both[1]["archs"]
    assert main([*rank, "--max-images", "50", "--output", str(tmp_path / "few.json")]) == 0
    assert json.loads((tmp_path / "few.json").read_text())["images"] == 50
    assert main([*rank, "--max-images", "0"]) == 2


def test_train_shares_norm_and_classifier_by_default_and_can_predict_them(tmp_path: Path) -> None:
    args = ["train", "--dataset", "digits", "--steps", "2", "--quiet", "--snapshot-every", "0"]
    assert main([*args, "--out", str(tmp_path / "shared.pt")]) == 0
    state = torch.load(tmp_path / "shared.pt", map_location="cpu", weights_only=True)
    config = state["train_config"]["hypernet"]
    assert (config["predict_norm"], config["predict_classifier"]) == (False, False)
    assert "shared_classifier" in state["model"]
    assert not any(name.startswith("classifier.") for name in state["model"])
    assert state["train_config"]["sampler"] == "sandwich"

    predicted = tmp_path / "predicted.pt"
    assert main([*args, "--no-shared-norm", "--no-shared-classifier", "--out", str(predicted)]) == 0
    state = torch.load(predicted, map_location="cpu", weights_only=True)
    config = state["train_config"]["hypernet"]
    assert (config["predict_norm"], config["predict_classifier"]) == (True, True)
    assert "shared_classifier" not in state["model"]
    rank = ["rank", "--checkpoint", str(predicted), "--sample", "3"]
    assert main([*rank, "--output", str(tmp_path / "r.json")]) == 0
    assert len(json.loads((tmp_path / "r.json").read_text())["scores"]) == 3


def test_rank_with_several_checkpoints_averages_their_scores(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from adwp.backend import EnsembleBackend, load_backend
    from adwp.evaluator import Evaluator

    second = tmp_path / "second.pt"
    assert main([*TRAIN_ARGS, "--steps", "4", "--seed", "1", "--out", str(second)]) == 0
    rank = ["rank", "--sample", "4", "--quiet"]
    outputs = []
    for name, paths in [("a", [checkpoint]), ("b", [second]), ("ab", [checkpoint, second])]:
        given = [arg for path in paths for arg in ("--checkpoint", str(path))]
        assert main([*rank, *given, "--output", str(tmp_path / f"{name}.json")]) == 0
        outputs.append(json.loads((tmp_path / f"{name}.json").read_text()))
    one, two, both = outputs
    assert one["archs"] == two["archs"] == both["archs"]
    assert one["scores"] != two["scores"]
    assert both["scores"] == pytest.approx(
        [(x + y) / 2 for x, y in zip(one["scores"], two["scores"])], abs=1e-12
    )
    assert both["checkpoints"] == [
        {"path": str(checkpoint), "snapshots": one["snapshots"]},
        {"path": str(second), "snapshots": two["snapshots"]},
    ]
    assert "checkpoint" not in both and "snapshots" not in both
    assert one["checkpoint"] == str(checkpoint)

    # The backend spec of the searchers gives the same ensemble; one path stays an Evaluator.
    ensemble = load_backend(f"hypernet:{checkpoint},{second}")
    assert isinstance(ensemble, EnsembleBackend)
    assert ensemble.score(both["archs"]).tolist() == pytest.approx(both["scores"], abs=1e-12)
    assert isinstance(load_backend(f"hypernet:{checkpoint}"), Evaluator)

    # A run on another split of the data may have trained on the images the others score.
    other_split = tmp_path / "other_split.pt"
    args = [*TRAIN_ARGS, "--steps", "2", "--data-seed", "1", "--out", str(other_split)]
    assert main(args) == 0
    state = torch.load(other_split, map_location="cpu", weights_only=True)
    assert state["dataset"]["seed"] == state["train_config"]["data_seed"] == 1
    capsys.readouterr()
    out = tmp_path / "refused.json"
    given = ["--checkpoint", str(checkpoint), "--checkpoint", str(other_split)]
    assert main([*rank, *given, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "with split seed 1" in err and "must share the data set and its split" in err
    assert not out.exists()


def test_rank_shows_progress_unless_quiet(
    checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["rank", "--checkpoint", str(checkpoint), "--sample", "3"]
    assert main(args) == 0
    assert "score: 100%" in capsys.readouterr().err
    assert main([*args, "--quiet"]) == 0
    assert "score" not in capsys.readouterr().err


def test_train_meta_batch_too_small_for_the_default_sampler_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "--dataset", "digits", "--steps", "2", "--quiet", "--meta-batch", "2"]
    assert main([*args, "--out", str(tmp_path / "h.pt")]) == 2
    assert "sampler 'sandwich' needs meta_batch >= 3" in capsys.readouterr().err
    assert not (tmp_path / "h.pt").exists()
    assert main([*args, "--sampler", "uniform", "--out", str(tmp_path / "h.pt")]) == 0


@slow
def test_rank_sample_gives_valid_scores(sampled: dict[str, Any]) -> None:
    archs, scores = sampled["archs"], sampled["scores"]
    assert len(archs) == len(scores) == 16
    assert len(set(archs)) == 16  # --sample draws distinct architectures
    assert all(isinstance(s, float) and math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    assert len(set(scores)) > 1, "a trained hypernetwork should not give every candidate one score"
    space = get_space("macro")
    for text in archs:
        assert Architecture.from_string(text).to_string() == text  # canonical
        assert space.contains(text)
    assert sampled["params"] == [space.params(Architecture.from_string(a)) for a in archs]
    assert sampled["seed"] == 0 and sampled["split"] == "val"


@slow
def test_rank_again_in_process_is_identical(
    checkpoint: Path, sampled: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "again.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--sample", "16", "--seed", "0"]
    assert main([*args, "--output", str(out)]) == 0
    again = json.loads(out.read_text())
    assert again["archs"] == sampled["archs"]
    assert again["scores"] == sampled["scores"]
    # The default table shows the best 10, best first, consistent with the JSON.
    rows = table_rows(capsys.readouterr().out)
    order = best_first(sampled["scores"])[:10]
    assert [row[0] for row in rows] == [str(i) for i in range(1, 11)]
    assert [row[4] for row in rows] == [sampled["archs"][i] for i in order]
    assert [row[1] for row in rows] == [f"{sampled['scores'][i]:6.4f}".strip() for i in order]


@slow
def test_rank_in_fresh_process_is_identical(
    checkpoint: Path, sampled: dict[str, Any], tmp_path: Path
) -> None:
    result = run_adwp(
        "rank",
        "--checkpoint",
        checkpoint,
        "--sample",
        "16",
        "--seed",
        "0",
        "--output",
        "r.json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    fresh = json.loads((tmp_path / "r.json").read_text())
    assert fresh["archs"] == sampled["archs"]
    assert fresh["scores"] == sampled["scores"]


# --------------------------------------------------------------------------------------------
# adwp rank: explicit architectures, files, --top, --space
# --------------------------------------------------------------------------------------------


def _low_high(sampled: dict[str, Any]) -> tuple[str, str]:
    """The worst and the best sampled architecture, whose scores clearly differ."""
    order = best_first(sampled["scores"])
    high, low = order[0], order[-1]
    assert sampled["scores"][high] - sampled["scores"][low] > 0.02
    return sampled["archs"][low], sampled["archs"][high]


@slow
def test_rank_arch_keeps_input_order(
    checkpoint: Path, sampled: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    low, high = _low_high(sampled)
    out = tmp_path / "two.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--arch", low, "--arch", high]
    assert main([*args, "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["archs"] == [low, high]  # input order, not score order
    expected = [sampled["scores"][sampled["archs"].index(a)] for a in (low, high)]
    assert result["scores"] == pytest.approx(expected, abs=0.01)
    assert result["scores"][0] < result["scores"][1]
    # ... while the printed table is best first.
    assert [row[4] for row in table_rows(capsys.readouterr().out)] == [high, low]


@slow
@pytest.mark.parametrize("kind", ["text", "json-list", "json-object", "json-dicts"])
def test_rank_archs_file(
    kind: str, checkpoint: Path, sampled: dict[str, Any], tmp_path: Path
) -> None:
    low, high = _low_high(sampled)
    file = tmp_path / "archs.txt"
    if kind == "text":
        file.write_text(f"# candidates\n{high}\n\n{low}\n")
    elif kind == "json-list":
        file.write_text(json.dumps([high, low]))
    elif kind == "json-object":
        file.write_text(json.dumps({"archs": [high, low]}))
    else:
        file.write_text(json.dumps([Architecture.from_string(a).to_dict() for a in (high, low)]))
    out = tmp_path / "out.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--archs", str(file), "--output", str(out)]
    assert main(args) == 0
    result = json.loads(out.read_text())
    assert result["archs"] == [high, low]
    assert len(result["scores"]) == 2


@slow
def test_rank_archs_from_a_pipe(checkpoint: Path, sampled: dict[str, Any], tmp_path: Path) -> None:
    # What bash's `--archs <(...)` hands over: a named pipe, not a regular file.
    low, high = _low_high(sampled)
    fifo = tmp_path / "archs.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(f"{high}\n{low}\n"))
    writer.start()
    out = tmp_path / "out.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--archs", str(fifo), "--output", str(out)]
    assert main(args) == 0
    writer.join()
    assert json.loads(out.read_text())["archs"] == [high, low]


@slow
def test_rank_top_limits_table_rows(
    checkpoint: Path, sampled: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["rank", "--checkpoint", str(checkpoint), "--sample", "16", "--seed", "0"]
    assert main([*args, "--top", "3"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert len(rows) == 3
    top = best_first(sampled["scores"])[:3]
    assert [row[4] for row in rows] == [sampled["archs"][i] for i in top]
    printed = [float(row[1]) for row in rows]
    assert printed == sorted(printed, reverse=True)


@slow
def test_rank_sample_layer_assignment(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "la.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--space", "layer-assignment"]
    assert main([*args, "--sample", "5", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert len(result["archs"]) == len(set(result["archs"])) == 5
    space = get_space("layer-assignment")
    for text in result["archs"]:
        arch = Architecture.from_string(text)
        assert space.contains(arch)
        assert {layer.to_string() for layer in arch.layers} == {FIXED_LAYER}
    assert all(0.0 <= s <= 1.0 for s in result["scores"])


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, one line on stderr, no traceback
# --------------------------------------------------------------------------------------------


@slow
@pytest.mark.parametrize(
    ("arch", "needles"),
    [
        ("k4w100s1|zz", ["malformed", "'zz'"]),
        ("|".join([FIXED_LAYER] * 5), ["stages", "got 5", "3"]),
        ("k9w100s1|k3w100s1|k3w100s1", ["kernel 9", "(3, 5, 7)"]),
        ("k3w60s1|k3w100s1|k3w100s1", ["width 0.6", "(0.5, 0.75, 1.0)"]),
        (",".join([FIXED_LAYER] * 5) + "|k3w100s1|k3w100s1", ["depth", "got 5", "[1, 2, 3, 4]"]),
    ],
    ids=["malformed", "five-stages", "kernel-9", "width-60", "depth-5"],
)
def test_rank_bad_arch(
    arch: str,
    needles: list[str],
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "never.json"
    status = main(["rank", "--checkpoint", str(checkpoint), "--arch", arch, "--output", str(out)])
    message = assert_one_line_error(status, capsys.readouterr().err)
    for needle in needles:
        assert needle in message
    assert not out.exists()


@slow
def test_rank_malformed_arch_real_process(checkpoint: Path, tmp_path: Path) -> None:
    result = run_adwp("rank", "--checkpoint", checkpoint, "--arch", "k4w100s1|zz", cwd=tmp_path)
    message = assert_one_line_error(result.returncode, result.stderr)
    assert "malformed" in message and "zz" in message
    assert result.stdout == ""


def test_corrupt_checkpoint_random_bytes_real_process(tmp_path: Path) -> None:
    bad = tmp_path / "random.pt"
    bad.write_bytes(random.Random(0).randbytes(4096))
    result = run_adwp("rank", "--checkpoint", bad, "--sample", "2", cwd=tmp_path)
    message = assert_one_line_error(result.returncode, result.stderr)
    assert "cannot read checkpoint" in message and "random.pt" in message


@slow
def test_truncated_checkpoint_real_process(checkpoint: Path, tmp_path: Path) -> None:
    data = checkpoint.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    result = run_adwp("rank", "--checkpoint", cut, "--sample", "2", cwd=tmp_path)
    message = assert_one_line_error(result.returncode, result.stderr)
    assert "cut.pt" in message


@slow
@pytest.mark.parametrize("keep", [0.0, 0.001, 0.9, 0.9999])
def test_truncated_checkpoint(
    keep: float, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = checkpoint.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: int(len(data) * keep)])
    status = main(["rank", "--checkpoint", str(cut), "--sample", "2"])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert "cut.pt" in message


@pytest.mark.parametrize("payload", [b".", b"R", b"h\x00"], ids=["stop", "reduce", "binget"])
def test_tiny_corrupt_checkpoint(
    payload: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "tiny.pt"
    bad.write_bytes(payload)
    status = main(["rank", "--checkpoint", str(bad), "--sample", "2"])
    assert_one_line_error(status, capsys.readouterr().err)


def test_corrupt_checkpoint_with_pickle_header_real_process(tmp_path: Path) -> None:
    bad = tmp_path / "proto.pt"
    bad.write_bytes(b"\x80\x05\xff" + random.Random(1).randbytes(64))
    result = run_adwp("rank", "--checkpoint", bad, "--sample", "2", cwd=tmp_path)
    assert_one_line_error(result.returncode, result.stderr)


def test_missing_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rank", "--checkpoint", str(tmp_path / "nowhere.pt"), "--sample", "2"])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert "not found" in message and "nowhere.pt" in message


@slow
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "not found"),
        ("", "no architectures"),
        ("[1, 2", "invalid JSON"),
        ('{"other": []}', "expected a JSON list"),
    ],
    ids=["missing", "empty", "bad-json", "wrong-object"],
)
def test_rank_bad_archs_file(
    content: str | None,
    needle: str,
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "archs.txt"
    if content is not None:
        file.write_text(content)
    status = main(["rank", "--checkpoint", str(checkpoint), "--archs", str(file)])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert needle in message


def test_train_refuses_existing_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "h.pt"
    log = metrics_path(out)
    out.write_bytes(b"precious checkpoint bytes\x00\x01")
    log.write_bytes(b'{"step": 1}\n')
    status = main(["train", "--dataset", "digits", "--steps", "2", "--out", str(out), "--quiet"])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert "exists" in message and "--resume" in message
    assert out.read_bytes() == b"precious checkpoint bytes\x00\x01"
    assert log.read_bytes() == b'{"step": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, log.name])


@slow
def test_resume_tolerates_torn_metrics_line(checkpoint: Path, tmp_path: Path) -> None:
    # A SIGKILL in the middle of writing a row can leave half a row at the end of the file.
    out = tmp_path / "h.pt"
    shutil.copyfile(checkpoint, out)
    log = metrics_path(out)
    log.write_text(metrics_path(checkpoint).read_text() + '{"step": 21, "lo')
    assert main([*TRAIN_ARGS, "--out", str(out), "--resume"]) == 0
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 21))


# --------------------------------------------------------------------------------------------
# Resume after a real SIGKILL gives the uninterrupted run's weights
# --------------------------------------------------------------------------------------------


@slow
def test_resume_after_sigkill_matches_uninterrupted(tmp_path: Path) -> None:
    args = ["train", "--dataset", "digits", "--steps", "30", "--checkpoint-every", "5"]
    args += ["--seed", "1", "--quiet"]
    killed = tmp_path / "k.pt"
    proc = subprocess.Popen(
        _command(*args, "--out", "k.pt"),
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600
        while not killed.exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint appeared within 600 s"
            time.sleep(0.02)
    finally:
        proc.kill()  # SIGKILL; does nothing if the run already finished (the race is fine)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, -signal.SIGKILL), err
    assert killed.exists(), err
    step_at_kill = torch.load(killed, map_location="cpu", weights_only=True)["step"]
    assert step_at_kill in range(5, 31, 5)

    resumed = run_adwp(*args, "--out", "k.pt", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    straight = run_adwp(*args, "--out", "u.pt", cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr

    a = torch.load(killed, map_location="cpu", weights_only=True)
    b = torch.load(tmp_path / "u.pt", map_location="cpu", weights_only=True)
    assert a["step"] == b["step"] == 30
    assert a["model"].keys() == b["model"].keys()
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    # Complete runs keep no optimiser state: nothing can resume them.
    assert "optimizer" not in a and "optimizer" not in b

    rows = [json.loads(line) for line in metrics_path(killed).read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 31))
    reference = [
        json.loads(line) for line in metrics_path(tmp_path / "u.pt").read_text().splitlines()
    ]
    assert [r["loss"] for r in rows] == [r["loss"] for r in reference]


# --------------------------------------------------------------------------------------------
# Bad input that used to end in a traceback
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--device", "gpu7"], ["'gpu7'", "'auto', 'cpu', 'cuda'"]),
        (["--lr", "-1"], ["lr must be non-negative", "-1"]),
        (["--model", "supernet", "--num-bases", "4"], ["--num-bases", "supernet"]),
        (["--model", "supernet", "--no-shared-norm"], ["--[no-]shared-norm", "supernet"]),
    ],
    ids=["unknown-device", "negative-lr", "supernet-bases", "supernet-norm"],
)
def test_train_bad_setting_is_one_line_error_and_writes_nothing(
    argv: list[str], needles: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main([*TRAIN_ARGS, "--out", str(tmp_path / "h.pt"), *argv])
    message = assert_one_line_error(status, capsys.readouterr().err)
    for needle in needles:
        assert needle in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message on a machine without CUDA"
)
def test_cuda_without_a_gpu_is_one_line_error(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["rank", "--checkpoint", str(checkpoint), "--sample", "2", "--device", "cuda"])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert "no CUDA device" in message and "'cpu'" in message


@pytest.mark.parametrize("command", ["train", "rank", "groundtruth", "search"])
def test_negative_seed_is_refused_by_the_parser(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--seed", "-1"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "non-negative integer" in err and "Traceback" not in err


def test_rank_output_that_is_a_folder_fails_before_scoring(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    args = ["rank", "--checkpoint", str(checkpoint), "--sample", "2", "--output", str(folder)]
    message = assert_one_line_error(main(args), capsys.readouterr().err)
    assert str(folder) in message and "is a folder" in message
    assert "score" not in capsys.readouterr().out  # no ranking table: nothing was scored


def test_search_output_that_is_a_folder_leaves_no_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    args = ["search", "random", "--backend", "proxy:synflow", "--dataset", "digits"]
    status = main([*args, "--budget", "2", "--output", str(folder), "--quiet"])
    assert "is a folder" in assert_one_line_error(status, capsys.readouterr().err)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_non_utf8_archs_file_is_one_line_error(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archs = tmp_path / "archs.txt"
    archs.write_bytes(b"\xff\xfe\x00k3w100s1")
    status = main(["rank", "--checkpoint", str(checkpoint), "--archs", str(archs)])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert "archs.txt" in message and "UTF-8" in message


def test_text_file_as_checkpoint_says_what_it_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint\n")
    status = main(["rank", "--checkpoint", str(text), "--sample", "2"])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert "notes.pt" in message and "not a torch zip archive" in message


def test_checkpoint_with_a_wrong_shape_names_the_tensor(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    name = next(iter(state["model"]))
    state["model"][name] = torch.zeros(3, 1, 2)
    bad = tmp_path / "bad.pt"
    torch.save(state, bad)
    status = main(["rank", "--checkpoint", str(bad), "--sample", "2"])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert "bad.pt" in message and "inconsistent" in message and name in message


def test_train_out_under_a_file_fails_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("a file where a folder should be")
    status = main([*TRAIN_ARGS, "--out", str(blocker / "deeper" / "h.pt")])
    message = assert_one_line_error(status, capsys.readouterr().err)
    assert str(blocker) in message and "is not a folder" in message
    assert blocker.read_text() == "a file where a folder should be"
