"""``adwp search`` end to end on a hypernetwork checkpoint trained on ``digits``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adwp.cli import main
from adwp.spaces import get_space

TRAIN = ["train", "--dataset", "digits", "--steps", "10", "--seed", "0", "--quiet"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search") / "h.pt"
    assert main([*TRAIN, "--out", str(out)]) == 0
    return out


def search(tmp_path: Path, name: str, *args: Any) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    assert main(["search", *map(str, args), "--output", str(out), "--quiet"]) == 0
    return json.loads(out.read_text())


def one_line_error(capsys: pytest.CaptureFixture[str], *args: Any) -> str:
    assert main(["search", *map(str, args)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("adwp: error: ")
    return err[0]


def test_layer_assignment_search(checkpoint: Path, tmp_path: Path) -> None:
    args = ["layer-assignment", "--backend", f"hypernet:{checkpoint}", "--min-depth", 3]
    args += ["--max-depth", 6, "--seed", 0]
    out = search(tmp_path, "la", *args, "--plot", tmp_path / "la.png")
    assert [d["depth"] for d in out["depths"]] == [3, 4, 5, 6]
    space = get_space("layer-assignment", image_size=8)
    for level in out["depths"]:
        assert set(level) >= {"depth", "best", "assignment", "evaluations"}
        assert sum(space.validate(level["best"]["arch"]).depths) == level["depth"]
        assert 0.0 <= level["best"]["score"] <= 1.0
    assert out["evaluations"] == sum(d["evaluations"] for d in out["depths"])
    assert (tmp_path / "la.png").stat().st_size > 0
    assert search(tmp_path, "la2", *args) == {**out}


def test_architecture_dataset_mode(checkpoint: Path, tmp_path: Path) -> None:
    out = search(
        tmp_path,
        "scan",
        "layer-assignment",
        "--backend",
        f"hypernet:{checkpoint}",
        "--min-depth",
        3,
        "--max-depth",
        5,
        "--exhaustive",
        "--plot",
        tmp_path / "scan.png",
    )
    assert out["mode"] == "dataset"
    assert [len(d["candidates"]) for d in out["depths"]] == [1, 3, 6]
    assert out["depths"][0]["inherits"] is None
    assert all(isinstance(d["inherits"], bool) for d in out["depths"][1:])
    assert (tmp_path / "scan.png").exists()


def test_importance_sampling_search(checkpoint: Path, tmp_path: Path) -> None:
    args = ["importance-sampling", "--backend", f"hypernet:{checkpoint}"]
    args += ["--coefficients", "0,0.5", "--iterations", 2, "--samples", 2, "--seed", 1]
    out = search(tmp_path, "is", *args, "--plot", tmp_path / "is.png")
    assert [r["coefficient"] for r in out["per_coefficient"]] == [0.0, 0.5]
    space = get_space("macro", image_size=8)
    for r in out["per_coefficient"]:
        for pick in (r["best"], r["mode"]):
            assert set(pick) >= {"arch", "score", "params", "flops", "objective"}
            assert pick["params"] == space.params(space.validate(pick["arch"]))
    assert 1 <= out["evaluations"] <= 2 * 2 * 2 + 2
    assert (tmp_path / "is.png").exists() and (tmp_path / "is_trajectory.png").exists()
    assert search(tmp_path, "is2", *args) == out


@pytest.mark.parametrize("method", ["random", "evolution"])
def test_budgeted_searches(checkpoint: Path, tmp_path: Path, method: str) -> None:
    args = [method, "--backend", f"hypernet:{checkpoint}", "--budget", 6, "--seed", 0]
    args += ["--population", 4, "--tournament", 2]
    out = search(tmp_path, method, *args, "--plot", tmp_path / f"{method}.png")
    assert set(out) >= {"best", "evaluations", "evaluated", "history"}
    assert set(out["best"]) == {"arch", "score", "params", "flops"}
    assert len(out["history"]) == 6
    assert out["best"]["score"] == max(h["score"] for h in out["history"])
    assert search(tmp_path, method + "2", *args) == out


def test_table_and_proxy_backends(tmp_path: Path) -> None:
    space = get_space("layer-assignment", image_size=8, min_total_depth=3, max_total_depth=5)
    rows = [
        {"arch": space.from_depths(d).to_string(), "seed": 0, "val_acc": 0.1 * sum(d) + 0.01 * d[2]}
        for d in space.assignments()
    ]
    table = tmp_path / "gt.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = search(
        tmp_path,
        "t",
        "layer-assignment",
        "--backend",
        f"table:{table}",
        "--dataset",
        "digits",
        "--min-depth",
        3,
        "--max-depth",
        5,
    )
    assert [d["best"]["arch"].count("|") for d in out["depths"]] == [2, 2, 2]
    assert out["depths"][-1]["best"]["arch"] == space.from_depths((1, 1, 3)).to_string()
    out = search(
        tmp_path,
        "p",
        "random",
        "--backend",
        "proxy:synflow",
        "--dataset",
        "digits",
        "--budget",
        3,
    )
    assert len(out["history"]) == 3


def test_supernet_backend(tmp_path: Path) -> None:
    ckpt = tmp_path / "s.pt"
    assert main([*TRAIN, "--steps", "3", "--model", "supernet", "--out", str(ckpt)]) == 0
    out = search(tmp_path, "s", "random", "--backend", f"supernet:{ckpt}", "--budget", 3)
    assert len(out["history"]) == 3


def test_search_errors(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--output", tmp_path / "x.json"]
    assert "must look like KIND:ARGUMENT" in one_line_error(
        capsys, "random", "--backend", str(checkpoint), "--budget", 3, *out
    )
    assert f"is a hypernet checkpoint; use the spec hypernet:{checkpoint}" in one_line_error(
        capsys, "random", "--backend", f"supernet:{checkpoint}", "--budget", 3, *out
    )
    assert "needs --min-depth and --max-depth" in one_line_error(
        capsys, "layer-assignment", "--backend", f"hypernet:{checkpoint}", *out
    )
    assert "--coefficients must be comma-separated numbers" in one_line_error(
        capsys,
        "importance-sampling",
        "--backend",
        f"hypernet:{checkpoint}",
        "--coefficients",
        "a,b",
        "--iterations",
        1,
        *out,
    )
    assert "must lie within the space's total depths 3..12" in one_line_error(
        capsys,
        "layer-assignment",
        "--backend",
        f"hypernet:{checkpoint}",
        "--min-depth",
        2,
        "--max-depth",
        5,
        *out,
    )
    assert not (tmp_path / "x.json").exists()


def test_search_resumes_after_a_real_kill(checkpoint: Path, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1"}
    args = ["evolution", "--backend", f"hypernet:{checkpoint}", "--budget", "150", "--seed", "3"]
    args += ["--population", "8", "--tournament", "3", "--quiet"]
    cache = tmp_path / "cache.jsonl"
    command = [sys.executable, "-m", "adwp", "search", *args, "--cache", str(cache)]
    process = subprocess.Popen([*command, "--output", str(tmp_path / "killed.json")], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if cache.exists() and len(cache.read_text().splitlines()) >= 12:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the search ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "killed.json").exists()
    done = len(cache.read_text().splitlines())
    assert done >= 12
    resumed = search(tmp_path, "resumed", *args[:-1], "--cache", cache)
    assert resumed == search(tmp_path, "fresh", *args[:-1])
    assert len(cache.read_text().splitlines()) == resumed["evaluations"] > done
