"""Correlation report: values against scipy and the textbook, errors, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from adwp.cli import main
from adwp.errors import AdwpError
from adwp.metrics import (
    correlation_report,
    partial_tau,
    rank_metrics,
    split_half_ceiling,
    tau_within_size_bins,
)

# A fixed fixture with ties in both arrays (tau-b differs from tau-a there).
SCORE = np.array([0.10, 0.40, 0.35, 0.80, 0.80, 0.20, 0.55, 0.90, 0.05, 0.60, 0.70, 0.30])
TRUTH = np.array([0.91, 0.93, 0.95, 0.97, 0.96, 0.92, 0.95, 0.98, 0.90, 0.94, 0.97, 0.93])
SIZE = np.array([1e3, 5e3, 4e3, 9e4, 8e4, 2e3, 3e4, 1e5, 9e2, 2e4, 6e4, 3e3])


def _rows(truth, size, seeds=(0,)):
    return [
        {"arch": f"a{i}", "seed": s, "val_acc": float(t), "test_acc": float(t), "params": float(z)}
        for i, (t, z) in enumerate(zip(truth, size))
        for s in seeds
    ]


def test_kendall_and_spearman_match_scipy_exactly():
    report = rank_metrics(SCORE, TRUTH, SIZE)
    assert report["kendall_tau"] == stats.kendalltau(SCORE, TRUTH).statistic
    assert report["spearman"] == stats.spearmanr(SCORE, TRUTH).statistic
    assert report["weighted_tau"] == stats.weightedtau(SCORE, TRUTH).statistic
    assert report["n"] == 12


def test_partial_tau_matches_the_textbook_formula():
    z = np.log(SIZE)

    def tau_b(a, b):  # concordant minus discordant over the tie-corrected pair count
        n = len(a)
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        c = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i, j in pairs)
        ta = sum(a[i] == a[j] for i, j in pairs)
        tb = sum(b[i] == b[j] for i, j in pairs)
        return c / math.sqrt((len(pairs) - ta) * (len(pairs) - tb))

    t_xy, t_xz, t_yz = tau_b(SCORE, TRUTH), tau_b(SCORE, z), tau_b(TRUTH, z)
    expected = (t_xy - t_xz * t_yz) / math.sqrt((1 - t_xz**2) * (1 - t_yz**2))
    assert partial_tau(SCORE, TRUTH, z) == pytest.approx(expected, abs=1e-12)
    assert rank_metrics(SCORE, TRUTH, SIZE)["partial_tau"] == pytest.approx(expected, abs=1e-12)


def test_a_score_that_is_size_itself_has_no_partial_information():
    truth = np.log(SIZE) + np.array(
        [0.3, -0.2, 0.1, 0.0, 0.2, -0.1, 0.3, -0.3, 0.1, 0.0, -0.2, 0.2]
    )
    report = rank_metrics(SIZE + np.arange(12) * 1e-6, truth, SIZE)
    assert report["kendall_tau"] > 0.5
    assert report["partial_tau"] == pytest.approx(0.0, abs=1e-6)


def test_size_bins_and_top_k_metrics():
    bins = tau_within_size_bins(SCORE, TRUTH, SIZE)
    order = np.argsort(SIZE)
    expected = np.mean(
        [stats.kendalltau(SCORE[q], TRUTH[q]).statistic for q in order.reshape(4, 3)]
    )
    assert bins == pytest.approx(expected)
    report = rank_metrics(SCORE, TRUTH)
    top5_score, top5_truth = set(np.argsort(-SCORE)[:5]), set(np.argsort(-TRUTH)[:5])
    assert report["precision_at_k"]["5"] == len(top5_score & top5_truth) / 5
    assert report["regret_at_k"]["1"] == TRUTH.max() - TRUTH[np.argmax(SCORE)]
    assert "20" not in report["precision_at_k"]  # k larger than n is left out
    perfect = rank_metrics(TRUTH + np.arange(12) * 1e-9, TRUTH)
    assert perfect["ndcg_at_k"]["5"] == pytest.approx(1.0)
    assert perfect["regret_at_k"]["1"] == 0


@pytest.mark.parametrize(
    ("score", "truth", "message"),
    [
        (np.ones(5), np.arange(5.0), "scores are constant"),
        (np.arange(5.0), np.ones(5), "ground truth is constant"),
        (np.arange(2.0), np.arange(2.0), "at least 3"),
        (np.array([1.0, np.nan, 2.0]), np.arange(3.0), "NaN"),
    ],
)
def test_bad_input_is_a_clear_error(score, truth, message):
    with pytest.raises(AdwpError, match=message):
        rank_metrics(score, truth)


def test_report_averages_seeds_and_gives_the_noise_ceiling():
    rows = _rows(TRUTH, SIZE, seeds=(0, 1))
    for row in rows:
        if row["seed"] == 1:  # a second seed that disagrees a little
            row["val_acc"] = round(row["val_acc"] + 0.01 * ((hash(row["arch"]) % 3) - 1), 4)
    scores = {f"a{i}": float(s) for i, s in enumerate(SCORE)}
    scores["unknown"] = 0.5
    report = correlation_report(rows, scores, n_resamples=200)
    means = [np.mean([r["val_acc"] for r in rows if r["arch"] == f"a{i}"]) for i in range(12)]
    assert report["truth"] == pytest.approx(means)
    assert report["kendall_tau"] == stats.kendalltau(SCORE, means).statistic
    assert report["unmatched"] == ["unknown"] and report["n"] == 12
    low, high = report["ci"]["kendall_tau"]
    assert low <= report["kendall_tau"] <= high
    ceiling = report["noise_ceiling"]
    seed0 = [r["val_acc"] for r in rows if r["seed"] == 0]
    seed1 = [r["val_acc"] for r in rows if r["seed"] == 1]
    assert ceiling["kendall_tau"] == pytest.approx(stats.kendalltau(seed0, seed1).statistic)
    assert ceiling["pairs"] == 1
    for key in ("partial_tau", "tau_within_size_bins", "precision_at_k", "regret_at_k"):
        assert key in report and key in ceiling
    assert correlation_report(_rows(TRUTH, SIZE), scores, n_resamples=50)["noise_ceiling"] is None


def test_split_half_ceiling_averages_every_split_into_halves():
    rng = np.random.default_rng(0)
    rows = _rows(TRUTH, SIZE, seeds=(0, 1, 2, 3))
    for row in rows:
        row["val_acc"] = float(row["val_acc"] + rng.normal(0, 0.01))
    extra = {"arch": "a0", "seed": 4, "val_acc": 0.5, "params": 1.0, "test_acc": 0.5}
    rows = [r for r in rows if not (r["arch"] == "a0" and r["seed"] == 3)] + [extra]
    scores = {f"a{i}": float(s) for i, s in enumerate(SCORE)}
    halves = correlation_report(rows, scores, n_resamples=20)["noise_ceiling_split_half"]

    def half_mean(arch, seeds):
        return np.mean([r["val_acc"] for r in rows if r["arch"] == arch and r["seed"] in seeds])

    archs = [f"a{i}" for i in range(1, 12)]  # a0 lacks seed 3; splits with seed 4 have 1 arch
    taus = [
        stats.kendalltau([half_mean(a, x) for a in archs], [half_mean(a, y) for a in archs])[0]
        for x, y in (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)))
    ]
    assert halves["n"] == 11 and halves["splits"] == 3 and halves["seeds_per_half"] == 2
    assert halves["kendall_tau"] == pytest.approx(np.mean(taus))
    assert halves["kendall_tau_range"] == pytest.approx([min(taus), max(taus)])
    assert "averaged over 3 splits" in halves["comparison"]
    two_seeds = correlation_report(_rows(TRUTH, SIZE, seeds=(0, 1)), scores, n_resamples=20)
    assert two_seeds["noise_ceiling_split_half"] is None
    assert split_half_ceiling({"a": {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}}) is None  # 1 arch


def test_split_half_ceiling_draws_seeded_splits_when_there_are_many():
    rng = np.random.default_rng(1)
    seed_values = {f"a{i}": {s: float(i + rng.normal(0, 3)) for s in range(12)} for i in range(30)}
    first = split_half_ceiling(seed_values, max_splits=20, seed=0)
    assert first["splits"] == 20 and first["seeds_per_half"] == 6
    assert first == split_half_ceiling(seed_values, max_splits=20, seed=0)
    assert (
        first["kendall_tau"]
        != split_half_ceiling(seed_values, max_splits=20, seed=1)["kendall_tau"]
    )
    low, high = first["kendall_tau_range"]
    assert low <= first["kendall_tau"] <= high and low < high
    # 462 distinct splits of 12 seeds into two halves of 6: all of them when allowed
    assert split_half_ceiling(seed_values, max_splits=1000)["splits"] == 462


def test_correlate_cli_writes_report_and_plot(tmp_path, capsys):
    truth = tmp_path / "gt.jsonl"
    truth.write_text("".join(json.dumps(r) + "\n" for r in _rows(TRUTH, SIZE, seeds=(0, 1))))
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"archs": [f"a{i}" for i in range(12)], "scores": SCORE.tolist()}))
    out, fig = tmp_path / "report.json", tmp_path / "fig.png"
    args = ["correlate", "--truth", str(truth), "--scores", str(scores), "--output", str(out)]
    assert main([*args, "--plot", str(fig), "--metric", "test_acc"]) == 0
    report = json.loads(out.read_text())
    assert report["kendall_tau"] == stats.kendalltau(SCORE, TRUTH).statistic
    assert report["params"] == pytest.approx(SIZE.tolist())  # taken from the truth rows
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "kendall_tau" in capsys.readouterr().out
    scores.write_text(json.dumps({"archs": ["a0", "a1", "a2"], "scores": [0.5, 0.5, 0.5]}))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "constant" in err


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"params": [None] * 12}, "params of 'a0' is not a positive number: None"),
        ({"params": [-5.0] * 12}, "is not a positive number: -5.0"),
        ({"params": [1.0] * 3}, "'params' must be a list as long as 'archs' (12)"),
    ],
    ids=["null", "negative", "short"],
)
def test_correlate_cli_checks_the_params_of_a_scores_file(tmp_path, capsys, change, needle):
    truth = tmp_path / "gt.jsonl"
    truth.write_text("".join(json.dumps(r) + "\n" for r in _rows(TRUTH, SIZE, seeds=(0, 1))))
    scores = tmp_path / "scores.json"
    body = {"archs": [f"a{i}" for i in range(12)], "scores": SCORE.tolist(), **change}
    scores.write_text(json.dumps(body))
    out = tmp_path / "report.json"
    args = ["correlate", "--truth", str(truth), "--scores", str(scores), "--output", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "scores.json" in err
    assert not out.exists()


def test_correlate_cli_names_the_table_lacking_the_metric(tmp_path, capsys):
    truth = tmp_path / "foreign.jsonl"
    truth.write_text(
        "".join(json.dumps({"arch": f"a{i}", "val_acc": 0.5}) + "\n" for i in range(3))
    )
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"archs": ["a0", "a1", "a2"], "scores": [0.1, 0.2, 0.3]}))
    args = ["correlate", "--truth", str(truth), "--scores", str(scores)]
    assert main([*args, "--output", str(tmp_path / "r.json"), "--metric", "test_acc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "foreign.jsonl" in err and "no metric column 'test_acc'" in err
    assert "its columns: 'arch', 'val_acc'" in err


def test_correlation_report_takes_architecture_keys_as_their_strings():
    from adwp.spaces import get_space

    archs = get_space("macro").sample_many(12, np.random.default_rng(0))
    rows = [
        {"arch": a.to_string(), "seed": s, "val_acc": float(t)}
        for a, t in zip(archs, TRUTH / 2)
        for s in (0, 1)
    ]
    by_string = correlation_report(rows, {a.to_string(): v for a, v in zip(archs, SCORE)})
    by_object = correlation_report(rows, dict(zip(archs, SCORE)))
    assert by_object["n"] == 12 and by_object["kendall_tau"] == by_string["kendall_tau"]


def test_noise_ceiling_leaves_out_a_seed_that_ranks_nothing():
    rows = _rows(TRUTH, SIZE, seeds=(0, 1))
    rows += [
        {**row, "seed": 2, "val_acc": 0.1, "test_acc": 0.1} for row in rows if row["seed"] == 0
    ]
    report = correlation_report(rows, dict(zip([f"a{i}" for i in range(12)], SCORE)))
    ceiling = report["noise_ceiling"]
    assert ceiling["pairs"] == 1 and ceiling["skipped_constant"] == 2  # (0, 2) and (1, 2)
    two_seeds = correlation_report(
        _rows(TRUTH, SIZE, seeds=(0, 1)), dict(zip([f"a{i}" for i in range(12)], SCORE))
    )
    assert ceiling["kendall_tau"] == two_seeds["noise_ceiling"]["kendall_tau"]
