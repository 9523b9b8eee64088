"""``adwp correlate`` on tables of any scale, with few pairs, and its figures."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import LogNorm
from scipy import stats

import adwp.plots._figures
from adwp.cli import main
from adwp.errors import AdwpError, DataError
from adwp.groundtruth import read_table
from adwp.metrics import correlation_report
from adwp.plots import plot_correlation, plot_curves, plot_methods

RNG = np.random.default_rng(7)
N = 14
TRUTH = RNG.uniform(70, 97, size=(N, 3))  # percent accuracies, three seeds each
SCORE = TRUTH.mean(1) + RNG.normal(0, 4, N)
SIZE = np.round(np.geomspace(2e4, 6e5, N)[RNG.permutation(N)])
ARCHS = [f"cell-{i}" for i in range(N)]


def _write_table(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _percent_rows(params: bool = True) -> list[dict[str, Any]]:
    return [
        {"arch": a, "seed": s, "test_acc": float(TRUTH[i, s])}
        | ({"params": float(SIZE[i])} if params else {})
        for i, a in enumerate(ARCHS)
        for s in range(3)
    ]


def _scores(path: Path, archs: list[str], values: Any, **extra: Any) -> Path:
    path.write_text(json.dumps({"archs": archs, "scores": list(map(float, values)), **extra}))
    return path


def _adwp_row(value: float) -> dict[str, Any]:
    return {
        "arch": "k3w50s0",
        "seed": 0,
        "val_acc": value,
        "test_acc": 0.9,
        "params": 1000,
        "recipe": "0123456789ab",
        "recipe_config": {"epochs": 3},
    }


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Figures the plot functions draw, caught just before they are saved."""
    figures: list[Any] = []
    save = adwp.plots._figures.save

    def keep(plt: Any, fig: Any, path: Any) -> None:
        fig.canvas.draw()  # tick labels exist only once drawn
        figures.append(fig)
        save(plt, fig, path)

    monkeypatch.setattr(adwp.plots._figures, "save", keep)
    return figures


def test_a_percent_table_correlates_like_scipy(tmp_path, capsys):
    truth = _write_table(tmp_path / "nb201.jsonl", _percent_rows(params=False))
    scores = _scores(tmp_path / "s.json", ARCHS, SCORE)
    out = tmp_path / "r.json"
    args = ["--truth", str(truth), "--scores", str(scores), "--output", str(out)]
    assert main(["correlate", *args, "--metric", "test_acc"]) == 0
    report = json.loads(out.read_text())
    mean = TRUTH.mean(1)
    assert report["truth"] == pytest.approx(mean.tolist())
    assert report["kendall_tau"] == pytest.approx(stats.kendalltau(SCORE, mean).statistic)
    assert report["spearman"] == pytest.approx(stats.spearmanr(SCORE, mean).statistic)
    assert report["seeds"] == [3] * N and report["warnings"] == []
    assert "warning" not in capsys.readouterr().err
    # The scale does not matter to a rank correlation: the same table as fractions agrees.
    fractions = [{**r, "test_acc": r["test_acc"] / 100} for r in _percent_rows(params=False)]
    same = correlation_report(fractions, dict(zip(ARCHS, SCORE)), metric="test_acc", n_resamples=9)
    assert same["kendall_tau"] == pytest.approx(report["kendall_tau"])


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_truth_value_is_a_one_line_error(tmp_path, capsys, value):
    lines = [json.dumps(r) for r in _percent_rows()]
    lines[4] = lines[4].replace(str(TRUTH[1, 1]), value)
    truth = tmp_path / "gt.jsonl"
    truth.write_text("\n".join(lines) + "\n")
    scores = _scores(tmp_path / "s.json", ARCHS, SCORE)
    args = ["correlate", "--truth", str(truth), "--scores", str(scores), "--metric", "test_acc"]
    assert main([*args, "--output", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "gt.jsonl:5: test_acc of 'cell-1'" in err and "not a finite number" in err


def test_a_non_finite_score_names_its_architecture(tmp_path, capsys):
    truth = _write_table(tmp_path / "gt.jsonl", _percent_rows())
    scores = tmp_path / "s.json"
    values = [*map(float, SCORE[:-1]), math.nan]
    scores.write_text(json.dumps({"archs": ARCHS, "scores": values}))
    args = ["correlate", "--truth", str(truth), "--scores", str(scores), "--metric", "test_acc"]
    assert main([*args, "--output", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"score of 'cell-{N - 1}' is not a finite number" in err
    with pytest.raises(AdwpError, match="score of cell-0 is inf, not a finite number"):
        correlation_report(_percent_rows(), {"cell-0": math.inf}, metric="test_acc")


def test_rows_written_by_adwp_still_hold_fractions(tmp_path, capsys):
    table = _write_table(tmp_path / "gt.jsonl", [_adwp_row(90.3)])
    for foreign in (False, True):
        with pytest.raises(DataError, match=r"gt.jsonl:1: val_acc 90.3 is not a fraction in"):
            read_table(table, foreign=foreign)
    assert read_table(_write_table(tmp_path / "ok.jsonl", [_adwp_row(0.903)]), foreign=True)
    scores = _scores(tmp_path / "s.json", ["k3w50s0"], [1.0])
    args = ["correlate", "--truth", str(table), "--scores", str(scores)]
    assert main([*args, "--output", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "val_acc 90.3 is not a fraction in [0, 1]" in err


def test_few_pairs_warn_and_fewer_than_three_fail(tmp_path, capsys):
    truth = _write_table(tmp_path / "gt.jsonl", _percent_rows())
    out = tmp_path / "r.json"
    base = ["correlate", "--truth", str(truth), "--metric", "test_acc", "--output", str(out)]
    scores = _scores(tmp_path / "s.json", ARCHS[:4], [1, 2, 4, 3])
    assert main([*base, "--scores", str(scores)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("warning: only 4 architectures in common; Kendall tau is unreliable")
    # Unrelated rankings of 4 items reach |tau| 1.96 * sqrt(2 * 13 / 108) by chance.
    assert f"|tau| {1.959964 * math.sqrt(26 / 108):.2f} by chance" in err
    report = json.loads(out.read_text())
    assert report["n"] == 4 and report["warnings"] == [err.removeprefix("warning: ").strip()]
    scores = _scores(tmp_path / "s.json", ARCHS[:2], [1, 2])
    assert main([*base, "--scores", str(scores)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "only 2 scored architectures" in err and "need 3" in err


def test_the_bootstrap_interval_matches_an_independent_resampling():
    truth = TRUTH.mean(1)
    report = correlation_report(
        _percent_rows(params=False), dict(zip(ARCHS, SCORE)), metric="test_acc", n_resamples=1500
    )
    rng = np.random.default_rng(123)
    taus, rhos = [], []
    while len(taus) < 1500:
        i = rng.integers(0, N, N)
        if np.ptp(SCORE[i]) > 0 and np.ptp(truth[i]) > 0:
            taus.append(stats.kendalltau(SCORE[i], truth[i]).statistic)
            rhos.append(stats.spearmanr(SCORE[i], truth[i]).statistic)
    # Two Monte Carlo estimates of the same percentiles: equal to within their own noise.
    assert report["ci"]["kendall_tau"] == pytest.approx(np.percentile(taus, [2.5, 97.5]), abs=0.04)
    assert report["ci"]["spearman"] == pytest.approx(np.percentile(rhos, [2.5, 97.5]), abs=0.04)


def test_the_scatter_names_its_quantities_and_shows_real_param_counts(tmp_path, captured):
    truth = _write_table(tmp_path / "gt.jsonl", _percent_rows())
    scores = _scores(tmp_path / "hn.json", ARCHS, SCORE, checkpoint="runs/hn.pt", split="val")
    args = ["--truth", str(truth), "--scores", str(scores), "--metric", "test_acc"]
    fig_path = tmp_path / "fig.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            main(
                ["correlate", *args, "--output", str(tmp_path / "r.json"), "--plot", str(fig_path)]
            )
            == 0
        )
    assert fig_path.read_bytes()[:4] == b"\x89PNG"
    (fig,) = captured
    ax, bar = fig.axes
    assert ax.get_xlabel() == "predicted score: hn.pt on the val split"
    assert ax.get_ylabel() == "ground truth: mean test_acc over 3 seeds"
    assert "hn.json vs gt.jsonl" in ax.get_title() and f"n = {N}" in ax.get_title()
    assert "Kendall tau" in ax.get_title() and "Spearman" in ax.get_title()
    assert isinstance(ax.collections[0].norm, LogNorm)
    assert bar.get_ylabel() == "#params (log scale)"
    labels = [t.get_text() for t in bar.get_yticklabels()]
    assert labels == ["20k", "50k", "100k", "200k", "500k"]


def test_the_scatter_without_params_has_no_colour_bar_and_no_warning(tmp_path, captured):
    report = correlation_report(
        _percent_rows(params=False), dict(zip(ARCHS, SCORE)), metric="test_acc", n_resamples=50
    )
    assert report["params"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_correlation(report, tmp_path / "fig.png")
    (fig,) = captured
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "predicted score"


def test_method_bars_and_curves_label_their_axes_without_warnings(tmp_path, captured):
    curves = {
        m: [
            {"step": s, "kendall_tau": 0.5 + s / 1000 * k, "partial_tau": None if s == 50 else 0.2}
            for s in (50, 100, 150)
        ]
        for k, m in enumerate(["hypernet", "supernet"])
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_methods(
            ["hypernet", "params"],
            {"Kendall tau": [0.7, 0.71], "partial tau": [0.43, None]},
            tmp_path / "bars.png",
            ceiling={"Kendall tau": 0.6, "partial tau": None},
        )
        plot_curves(curves, tmp_path / "curves.png", ceiling={"kendall_tau": 0.6})
    bars, lines = (fig.axes[0] for fig in captured)
    assert bars.get_ylabel() == "rank correlation with ground truth"
    assert "n/a" in [t.get_text() for t in bars.texts]
    assert lines.get_xlabel() == "training steps"
    assert [t.get_text() for t in lines.get_xticklabels()] == ["50", "100", "150"]
    legend_text = [
        t.get_text()
        for legend in lines.findobj(lambda a: hasattr(a, "get_texts"))
        for t in legend.get_texts()
    ]
    assert "hypernet" in legend_text and "Kendall tau" in legend_text
    assert "grey: seed-to-seed" in legend_text


def test_without_scores_a_table_ranks_by_its_own_size_columns(tmp_path, capsys):
    import csv

    table = Path(__file__).parent / "data" / "nbmacro_rows.csv"
    with table.open() as handle:
        rows = list(csv.DictReader(handle))
    truth = [float(r["MeanTestAccuracy"]) for r in rows]
    out = tmp_path / "r.json"
    args = ["--truth", str(table), "--key", "Arch", "--metric", "MeanTestAccuracy"]
    assert main(["correlate", *args, "--resamples", "50", "--output", str(out)]) == 0
    reports = json.loads(out.read_text())["reports"]
    assert [r["scores_file"] for r in reports] == ["Params (table)", "FLOPs (table)"]
    for report, column in zip(reports, ("Params", "FLOPs")):
        expected = stats.kendalltau([float(r[column]) for r in rows], truth).statistic
        assert report["kendall_tau"] == pytest.approx(expected)
    assert "FLOPs (table)" in capsys.readouterr().out
    # The architecture keys stay strings: leading zeros are part of NAS-Bench-Macro's codes.
    assert "00000000" in reports[0]["archs"]
    plain = _write_table(tmp_path / "plain.jsonl", _percent_rows(params=False))
    assert (
        main(["correlate", "--truth", str(plain), "--metric", "test_acc", "--output", str(out)])
        == 2
    )
    message = capsys.readouterr().err.strip()
    assert "give --scores" in message and "no params or flops column" in message
