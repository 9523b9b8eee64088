"""The use cases called from Python (:mod:`adwp.usecases`): the same results as the commands
write, and one-line errors; and the file formats of :mod:`adwp.io` they read."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adwp.cli import main
from adwp.errors import AdwpError
from adwp.io import check_writable, parse_archs, read_archs, read_flops, read_scores
from adwp.spaces import get_space
from adwp.usecases import (
    CorrelationResult,
    RankResult,
    SearchRun,
    correlate,
    describe_space,
    groundtruth,
    rank,
    search,
)

TRAIN = ["train", "--dataset", "digits", "--steps", "6", "--seed", "0", "--quiet"]


def _one_line(exc: pytest.ExceptionInfo[AdwpError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("usecases") / "h.pt"
    assert main([*TRAIN, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def nb201_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every NB201 architecture with a score that grows with its #params."""
    space = get_space("nb201")
    path = tmp_path_factory.mktemp("table") / "gt.jsonl"
    rows = [{"arch": a.to_string(), "val_acc": space.params(a) / 1e6} for a in space.enumerate()]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_the_use_cases_live_in_adwp_usecases_not_under_names_of_adwp_modules() -> None:
    # adwp.search and adwp.groundtruth are modules: a top-level function of the same name would
    # be one or the other depending on what was imported first.
    import adwp.groundtruth
    import adwp.search

    assert isinstance(adwp.search, types.ModuleType)
    assert isinstance(adwp.groundtruth, types.ModuleType)
    assert callable(rank) and callable(search) and callable(groundtruth) and callable(correlate)
    assert not hasattr(adwp, "rank") and not hasattr(adwp, "correlate")


def test_describe_space_is_what_adwp_space_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["space", "--space", "nb201", "--json", "--seed", "3"]) == 0
    assert json.loads(capsys.readouterr().out) == describe_space("nb201", seed=3)


def test_rank_returns_what_rank_writes(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--sample", "5", "--seed", "2", "--quiet"]
    assert main([*args, "--output", str(out)]) == 0
    result = rank(checkpoints=[str(checkpoint)], sample=5, seed=2)
    assert isinstance(result, RankResult)
    assert result.to_dict() == json.loads(out.read_text())
    assert isinstance(result.scores, np.ndarray) and len(result.architectures) == 5
    best = result.order(1)[0]
    assert result.scores[best] == max(result.scores)
    # Given architectures are scored as they are given, strings or objects.
    again = rank(result.archs[:2], checkpoints=[str(checkpoint)], seed=2)
    assert again.archs == result.archs[:2]
    assert list(again.scores) == pytest.approx(list(result.scores[:2]))


def test_rank_errors_are_one_line(checkpoint: Path) -> None:
    with pytest.raises(AdwpError) as exc:
        rank(["k3w50s1|zz"], checkpoints=[str(checkpoint)])
    assert "--arch: " in _one_line(exc)
    with pytest.raises(AdwpError) as exc:
        rank(checkpoints=[str(checkpoint)])
    assert "one way" in _one_line(exc)
    with pytest.raises(AdwpError) as exc:
        rank(sample=2, checkpoints=[str(checkpoint)], combine=["nope"])
    assert "unknown proxy 'nope'" in _one_line(exc)


def test_search_returns_what_search_writes(nb201_table: Path, tmp_path: Path) -> None:
    out = tmp_path / "search.json"
    spec = f"table:{nb201_table}"
    args = ["search", "evolution", "--backend", spec, "--space", "nb201", "--budget", "40"]
    assert main([*args, "--seed", "1", "--quiet", "--output", str(out)]) == 0
    result = search("evolution", spec, space="nb201", budget=40, seed=1)
    assert isinstance(result, SearchRun)
    assert result.to_dict() == json.loads(out.read_text())
    assert result.arch == result.record["best"]["arch"]
    assert result.rows[0][0] == "best"
    assert result.outcome.evaluations == result.record["evaluations"]


def test_search_errors_are_one_line(nb201_table: Path) -> None:
    spec = f"table:{nb201_table}"
    with pytest.raises(AdwpError) as exc:
        search("random", spec, space="nb201")
    assert "needs --budget" in _one_line(exc)
    with pytest.raises(AdwpError) as exc:
        search("random", spec, space="nb201", budgett=3)
    assert "unknown search setting 'budgett'" in _one_line(exc)
    with pytest.raises(AdwpError) as exc:
        search("nope", spec)
    assert "unknown searcher 'nope'" in _one_line(exc)
    with pytest.raises(AdwpError) as exc:
        search("random", "proxy:synflow", missing="skip", budget=3)
    assert "--missing applies to table: backends only" in _one_line(exc)


def _scores_file(path: Path, archs: list[str], scores: list[float], **more: Any) -> Path:
    path.write_text(json.dumps({"archs": archs, "scores": scores, **more}))
    return path


def test_correlate_returns_what_correlate_writes(nb201_table: Path, tmp_path: Path) -> None:
    space = get_space("nb201")
    archs = [a.to_string() for a in space.sample_many(40, np.random.default_rng(0))]
    noise = np.random.default_rng(1).normal(size=40)
    truth = [space.params(space.validate(a)) / 1e6 for a in archs]
    first = _scores_file(tmp_path / "a.json", archs, list(truth + noise * 0.01))
    second = _scores_file(tmp_path / "b.json", archs, list(noise))
    for files in ([first], [first, second]):
        out = tmp_path / "report.json"
        given = [flag for path in files for flag in ("--scores", str(path))]
        args = ["correlate", "--truth", str(nb201_table), *given, "--resamples", "50"]
        assert main([*args, "--output", str(out)]) == 0
        result = correlate(nb201_table, files, resamples=50)
        assert isinstance(result, CorrelationResult)
        assert result.to_dict() == json.loads(out.read_text())
        assert (result.comparison is None) == (len(files) == 1)
    assert correlate(nb201_table, first, resamples=50).reports[0]["kendall_tau"] > 0.5


def test_correlate_errors_are_one_line(nb201_table: Path, tmp_path: Path) -> None:
    scores = _scores_file(tmp_path / "s.json", ["x"], [1.0])
    with pytest.raises(AdwpError) as exc:
        correlate(nb201_table, scores, bins=1)
    assert "--bins must be at least 2" in _one_line(exc)
    with pytest.raises(AdwpError) as exc:
        correlate(nb201_table, [scores, scores], plot=tmp_path / "p.png")
    assert "--plot draws one scores file" in _one_line(exc)


def test_groundtruth_refuses_two_ways_of_giving_architectures(tmp_path: Path) -> None:
    with pytest.raises(AdwpError) as exc:
        groundtruth(tmp_path / "gt.jsonl", ["x"], sample=3)
    assert "exactly one of --sample N or --archs FILE" in _one_line(exc)


# --------------------------------------------------------------------------------------------
# adwp.io: architecture lists and scores files
# --------------------------------------------------------------------------------------------


def test_architecture_lists_as_lines_or_json(tmp_path: Path) -> None:
    space = get_space("nb201")
    a, b = (x.to_string() for x in space.sample_many(2, np.random.default_rng(0)))
    lines = tmp_path / "archs.txt"
    lines.write_text(f"# two cells\n{a}\n\n{b}\n")
    assert read_archs(lines) == [(f"{lines}:2", a), (f"{lines}:4", b)]
    listed = tmp_path / "archs.json"
    listed.write_text(json.dumps({"archs": [a, b]}))
    assert [x.to_string() for x in parse_archs(read_archs(listed), space)] == [a, b]
    listed.write_text(json.dumps([a, "nope"]))
    with pytest.raises(AdwpError) as exc:
        parse_archs(read_archs(listed), space)
    assert _one_line(exc).startswith(f"{listed}: item 2: ")
    listed.write_text('{"archs": 3}')
    with pytest.raises(AdwpError) as exc:
        read_archs(listed)
    assert "expected a JSON list" in _one_line(exc)


def test_scores_files_are_checked_in_one_line(tmp_path: Path) -> None:
    path = _scores_file(tmp_path / "s.json", ["a", "b"], [0.5, 0.25], params=[10, 20])
    read = read_scores(path)
    assert read.scores == {"a": 0.5, "b": 0.25} and read.params == {"a": 10.0, "b": 20.0}
    assert read_flops(read) is None
    with_flops = read_scores(_scores_file(path, ["a"], [1.0], flops=[5], metric="accuracy"))
    assert read_flops(with_flops) == {"a": 5.0} and with_flops.description == "accuracy"
    for bad, needle in (
        ({"archs": ["a"], "scores": [float("nan")]}, "not a finite number"),
        ({"archs": ["a", "a"], "scores": [1, 2]}, "appears twice"),
        ({"archs": ["a"], "scores": [1], "params": [0]}, "params of 'a' is not a positive"),
        ({"scores": [1]}, "expected"),
    ):
        path.write_text(json.dumps(bad))
        with pytest.raises(AdwpError) as exc:
            read_scores(path)
        assert needle in _one_line(exc)


def test_check_writable_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(AdwpError) as exc:
        check_writable(tmp_path, "--output")
    assert "is a folder" in _one_line(exc)
    check_writable(tmp_path / "new" / "out.json", "--output")
