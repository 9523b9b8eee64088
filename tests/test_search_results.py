"""One result type for every searcher, importance sampling's two picks per coefficient, table
backends that skip what they lack, and the search plots."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adwp.backend import TableBackend
from adwp.cli import main
from adwp.data import DataSplits
from adwp.errors import AdwpError, ArchitectureError
from adwp.search import (
    ImportanceSamplingSearch,
    LayerAssignmentSearch,
    Pick,
    RandomSearch,
    RegularizedEvolution,
    SearchOutcome,
)
from adwp.spaces import get_space
from adwp.training import TrainConfig, Trainer

# The layer-assignment space shaped like digits (8x8 images), total depth 3..6: 20 assignments.
SPACE = get_space("layer-assignment", image_size=8, min_total_depth=3, max_total_depth=6)
# The table holds the assignments whose first stage has at most 2 layers: 13 of the 20.
COVERED = [d for d in SPACE.assignments() if d[0] <= 2]


@pytest.fixture(scope="module")
def checkpoint(
    tmp_path_factory: pytest.TempPathFactory,
    digits_config: Callable[..., TrainConfig],
    digits: DataSplits,
) -> Path:
    """A hypernetwork trained for a few steps on digits: a real, if weak, ranking backend."""
    path = tmp_path_factory.mktemp("results") / "h.pt"
    Trainer(digits_config(steps=8), data=digits).fit(path, quiet=True)
    return path


@pytest.fixture(scope="module")
def partial_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ground-truth table covering only part of ``SPACE`` (two seeds per architecture)."""
    rows = [
        {"arch": SPACE.from_depths(d).to_string(), "seed": seed, "val_acc": score}
        for d in COVERED
        for seed, score in ((0, 0.1 * sum(d) + 0.01 * d[2]), (1, 0.1 * sum(d) + 0.03 * d[2]))
    ]
    path = tmp_path_factory.mktemp("table") / "gt.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_search(tmp_path: Path, name: str, *args: Any, quiet: bool = True) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    flags = ["--quiet"] if quiet else []
    assert main(["search", *map(str, args), "--output", str(out), *flags]) == 0
    return json.loads(out.read_text())


def one_line_error(capsys: pytest.CaptureFixture[str], *args: Any) -> str:
    assert main(["search", *map(str, args), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("adwp: error: ")
    return err[0]


# -- one result type ---------------------------------------------------------------------------


def assert_best_is_the_top_evaluated(result: SearchOutcome) -> None:
    assert isinstance(result.best, Pick)
    assert result.best.score == max(p.score for p in result.evaluated)
    assert result.evaluations == len(result.evaluated) == len({p.arch for p in result.evaluated})
    out = result.to_dict()
    assert set(out["best"]) == {"arch", "score", "params", "flops"}
    assert out["best"]["arch"] == result.best.arch.to_string()
    assert out["evaluations"] == len(out["evaluated"]) == result.evaluations


def test_every_searcher_reports_best_as_the_top_evaluated_pick(partial_table: Path) -> None:
    table = TableBackend(partial_table)
    truth = {SPACE.validate(k): v for k, v in table.truth.items()}
    space = get_space("layer-assignment", image_size=8, min_total_depth=3, max_total_depth=4)
    results = [
        RandomSearch(table, space, seed=0).run(3),
        RegularizedEvolution(table, space, population=2, tournament=1, seed=0).run(6),
        LayerAssignmentSearch(table, space).run(3, 4),
        ImportanceSamplingSearch(table, space, coefficients=[0.0, 1.0], samples=2).run(3),
    ]
    for result in results:
        assert_best_is_the_top_evaluated(result)
        assert all(p.score == truth[p.arch] for p in result.evaluated)
        assert result.best.params == space.params(result.best.arch)
    layer = results[2]
    assert sorted(layer.per_depth) == [3, 4]
    assert layer.per_depth[4].arch == space.from_depths((1, 1, 2))  # the table's best of depth 4
    assert layer.best == layer.per_depth[4]
    assert layer.to_dict()["depths"][1]["best"] == layer.per_depth[4].to_dict()


def test_gradient_searches_return_the_same_result_type() -> None:
    from adwp.search import DifferentiableResult

    space = get_space("nb201")
    small, large = (a.to_string() for a in (space.smallest(), space.largest()))
    history = [
        {"epoch": 1, "arch": small, "truth": None},
        {"epoch": 2, "arch": large, "truth": 0.9},
    ]
    picks = [Pick.of(space, space.smallest(), float("nan"), epoch=1)]
    picks.append(Pick.of(space, space.largest(), 0.9, epoch=2))
    result = DifferentiableResult("darts", large, history, {"epochs": 2}, picks)
    assert isinstance(result, SearchOutcome) and result.evaluations == 2
    assert result.best == picks[1] and result.pareto() == [picks[1]]
    out = result.to_dict()
    assert (out["method"], out["arch"], out["truth"]) == ("darts", large, 0.9)
    assert out["evaluated"][0]["score"] is None and out["evaluated"][1]["epoch"] == 2
    # Built as before, with keywords and no picks, it keeps its JSON of before.
    bare = DifferentiableResult(method="darts", arch=large, history=history, config={"epochs": 2})
    assert bare == result
    assert bare.to_dict() == {
        "method": "darts",
        "arch": large,
        "truth": 0.9,
        "history": history,
        "config": {"epochs": 2},
    }
    with pytest.raises(AdwpError, match="holds no pick of its architecture"):
        _ = bare.best


# -- importance sampling: best and mode per coefficient -----------------------------------------


def objectives(out: dict[str, Any], eps: float) -> dict[str, float]:
    """``f_k`` of every evaluated architecture, recomputed from the JSON alone."""
    low, high = out["complexity_range"]
    return {
        r["arch"]: r["score"] - eps * (r[out["complexity"]] - low) / max(high - low, 1e-12)
        for r in out["evaluated"]
    }


@pytest.mark.slow
def test_importance_sampling_best_picks_maximise_the_objective_on_a_real_backend(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["importance-sampling", "--backend", f"hypernet:{checkpoint}"]
    args += ["--coefficients", "0,0.5,2", "--iterations", 2, "--samples", 3, "--seed", 0]
    # The second run replays the first one's scores from the cache instead of scoring again.
    args += ["--cache", tmp_path / "scores.jsonl"]
    out = run_search(tmp_path, "best", *args, quiet=False)
    shown = capsys.readouterr().out
    assert out["pick"] == "best"
    assert [c["coefficient"] for c in out["per_coefficient"]] == [0.0, 0.5, 2.0]
    evaluated = {r["arch"] for r in out["evaluated"]}
    assert len(evaluated) == out["evaluations"]
    params = [c["best"]["params"] for c in out["per_coefficient"]]
    assert params == sorted(params, reverse=True), params
    for picks in out["per_coefficient"]:
        f = objectives(out, picks["coefficient"])
        best, mode = picks["best"], picks["mode"]
        assert best["objective"] == pytest.approx(max(f.values()), abs=1e-12)
        assert f[best["arch"]] == pytest.approx(best["objective"], abs=1e-12)
        assert mode["arch"] in evaluated  # the mode is scored and counted
        assert mode["objective"] == pytest.approx(f[mode["arch"]], abs=1e-12)
        assert mode["objective"] <= best["objective"] + 1e-12
        assert isinstance(mode["from_mode"], bool)
        assert best["arch"] in shown
    assert out["best"]["score"] == max(r["score"] for r in out["evaluated"])
    assert out["best"] == {k: out["per_coefficient"][0]["best"][k] for k in out["best"]}

    mode_out = run_search(tmp_path, "mode", *args, "--pick", "mode", quiet=False)
    shown = capsys.readouterr().out
    assert mode_out["pick"] == "mode"
    assert mode_out["per_coefficient"] == out["per_coefficient"]  # the JSON keeps both
    for picks in mode_out["per_coefficient"]:
        assert picks["mode"]["arch"] in shown
    assert shown.splitlines()[0].split()[0] == "mode"


# -- table backends that skip architectures they lack --------------------------------------------


def test_table_backend_missing_policy(partial_table: Path) -> None:
    absent = SPACE.from_depths((3, 2, 1))
    present = SPACE.from_depths(COVERED[0])
    with pytest.raises(ArchitectureError, match=f"architecture {absent.to_string()} is not in"):
        TableBackend(partial_table).score([present, absent])
    scores = TableBackend(partial_table, missing="skip").score([present, absent])
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    with pytest.raises(AdwpError, match="missing must be one of error, skip, got 'drop'"):
        TableBackend(partial_table, missing="drop")


def table_args(table: Path, method: str) -> list[Any]:
    shape = ["--dataset", "digits", "--space", "layer-assignment", "--min-depth", 3]
    return [method, "--backend", f"table:{table}", *shape, "--max-depth", 6]


@pytest.mark.parametrize(
    ("method", "extra", "scored"),
    [
        ("random", ["--budget", 8], 8),
        ("evolution", ["--budget", 12, "--population", 4, "--tournament", 2], None),
        ("importance-sampling", ["--coefficients", "0,1", "--iterations", 10], None),
        ("layer-assignment", ["--exhaustive"], None),
    ],
)
def test_searches_skip_architectures_the_table_lacks(
    partial_table: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    method: str,
    extra: list[Any],
    scored: int | None,
) -> None:
    args = [*table_args(partial_table, method), *extra, "--seed", 1]
    covered = {SPACE.from_depths(d).to_string() for d in COVERED}
    assert "is not in table" in one_line_error(capsys, *args, "--output", tmp_path / "x.json")
    cache = tmp_path / "cache.jsonl"
    out = run_search(tmp_path, method, *args, "--missing", "skip", "--cache", cache)
    assert {r["arch"] for r in out["evaluated"]} <= covered
    assert out["skipped"] > 0
    if scored is not None:
        assert out["evaluations"] == scored
    if "history" in out:  # every proposal of the budget was scored
        assert len(out["history"]) == extra[1]
    assert len(cache.read_text().splitlines()) == out["evaluations"]  # no NaN stored
    assert run_search(tmp_path, method + "2", *args, "--missing", "skip") == out


def test_random_search_scores_the_whole_covered_space_then_stops(
    partial_table: Path, tmp_path: Path
) -> None:
    args = [*table_args(partial_table, "random"), "--budget", 100, "--missing", "skip"]
    out = run_search(tmp_path, "all", *args)
    assert out["evaluations"] == len(COVERED) and out["skipped"] == 20 - len(COVERED)


def test_searches_give_up_when_the_table_covers_almost_nothing(
    partial_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # On the macro space (about 1e13 architectures) no draw is in a table of layer-assignment
    # architectures: every search must stop with an error instead of drawing forever.
    base = ["--backend", f"table:{partial_table}", "--dataset", "digits", "--missing", "skip"]
    out = ["--output", tmp_path / "x.json"]
    for method, extra in (
        ("random", ["--budget", 5]),
        ("evolution", ["--budget", 5, "--population", 2, "--tournament", 1]),
        ("importance-sampling", ["--coefficients", "0", "--iterations", 1, "--samples", 2]),
    ):
        message = one_line_error(capsys, method, *base, *extra, *out)
        assert "gave up after 1000 proposals in a row" in message, method
    assert "--missing applies to table: backends only" in one_line_error(
        capsys, "random", "--backend", "proxy:synflow", "--missing", "skip", "--budget", 2, *out
    )
    assert not (tmp_path / "x.json").exists()


# -- plots -------------------------------------------------------------------------------------


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Keeps every figure the plots save, to read their labels and data back."""
    import adwp.plots._figures

    saved: list[Any] = []
    real = adwp.plots._figures.save

    def keep(plt: Any, fig: Any, path: Any) -> None:
        saved.append(fig)
        fig.canvas.draw()  # lays the ticks out, as saving does
        real(plt, fig, path)

    monkeypatch.setattr(adwp.plots._figures, "save", keep)
    return saved


@pytest.mark.filterwarnings("error")
def test_importance_sampling_plot_shows_every_evaluated_point_and_the_front(
    partial_table: Path, tmp_path: Path, figures: list[Any]
) -> None:
    args = [*table_args(partial_table, "importance-sampling"), "--coefficients", "0,0.3,3"]
    args += ["--iterations", 4, "--samples", 3, "--missing", "skip"]
    out = run_search(tmp_path, "is", *args, "--plot", tmp_path / "is.png")
    assert (tmp_path / "is.png").stat().st_size > 0
    assert (tmp_path / "is_trajectory.png").stat().st_size > 0
    pareto, trajectory = figures
    ax = pareto.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    n, front = out["evaluations"], len(out["pareto"])
    assert f"evaluated ({n})" in labels and f"Pareto front of evaluated ({front})" in labels
    assert "best per eps" in labels
    dots = [c for c in ax.collections if c.get_label() == f"evaluated ({n})"]
    assert len(dots[0].get_offsets()) == n
    assert ax.get_xlabel() == "#parameters (log scale)"
    ticks = trajectory.axes[1].get_xticks()
    assert np.allclose(ticks, np.round(ticks)) and trajectory.axes[1].get_xlabel() == "iteration"


@pytest.mark.filterwarnings("error")
def test_search_history_and_layer_assignment_plots_are_labelled(
    partial_table: Path, tmp_path: Path, figures: list[Any]
) -> None:
    args = [*table_args(partial_table, "evolution"), "--budget", 9, "--missing", "skip"]
    args += ["--population", 3, "--tournament", 2]
    run_search(tmp_path, "ev", *args, "--plot", tmp_path / "ev.png")
    args = [*table_args(partial_table, "layer-assignment"), "--exhaustive", "--missing", "skip"]
    run_search(tmp_path, "la", *args, "--plot", tmp_path / "la.png")
    history, layers = figures
    ax = history.axes[0]
    ticks = ax.get_xticks()
    assert np.allclose(ticks, np.round(ticks)) and ax.get_xlabel() == "architectures proposed"
    assert ax.get_ylabel() == "ground truth from table (val_acc)"
    assert layers.get_supxlabel() == "assignment: layers per stage (stage 1-2-3)"
    assert [a.get_title().splitlines()[0] for a in layers.axes] == [
        f"total depth {d}" for d in range(3, 7)
    ]
