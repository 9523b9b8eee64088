"""What a score knows beyond a control, what its top picks are worth, and paired comparisons:
values against scipy and hand-computed numbers, the bootstrap's seeding, ``adwp correlate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from adwp.cli import main
from adwp.errors import AdwpError
from adwp.metrics import (
    bootstrap_verdict,
    compare_scores,
    correlation_report,
    kendall_tau,
    paired_bootstrap_difference,
    partial_tau,
    precision_at_top_percent,
    tau_within_bins,
    tau_within_size_bins,
    top_k_mean,
)

RNG = np.random.default_rng(3)
N = 40
TRUTH = RNG.normal(0, 1, N)
SIZE = np.exp(TRUTH + RNG.normal(0, 1, N)) * 1e4  # size knows part of the truth
GOOD = TRUTH + RNG.normal(0, 0.3, N)
POOR = TRUTH + RNG.normal(0, 3.0, N)
ARCHS = [f"a{i}" for i in range(N)]


def _rows(flops: bool = False) -> list[dict[str, Any]]:
    return [
        {"arch": a, "seed": 0, "val_acc": float(t), "params": float(z)}
        | ({"flops": float(2 * z)} if flops else {})
        for a, t, z in zip(ARCHS, TRUTH, SIZE)
    ]


def _write(path: Path, body: Any) -> str:
    if isinstance(body, list):
        path.write_text("".join(json.dumps(r) + "\n" for r in body))
    else:
        path.write_text(json.dumps(body))
    return str(path)


def _scores(path: Path, values: Any, **extra: Any) -> str:
    return _write(path, {"archs": ARCHS, "scores": [float(v) for v in values], **extra})


# ---------------------------------------------------------------------------------------------
# Library
# ---------------------------------------------------------------------------------------------


def test_top_k_mean_by_hand_and_with_ties():
    score, truth = [3.0, 1.0, 2.0, 5.0, 4.0], [50.0, 40.0, 30.0, 20.0, 10.0]
    assert top_k_mean(score, truth, 2) == 15.0  # scores 5 and 4: truths 20 and 10
    assert top_k_mean(truth, truth, 2) == 45.0  # the best possible
    assert top_k_mean(score, truth, 5) == 30.0
    # Three tied for two places: each is in with chance 2/3, so the mean is their mean truth.
    assert top_k_mean([1.0, 1.0, 1.0, 0.0], [3.0, 6.0, 9.0, 0.0], 2) == pytest.approx(6.0)
    assert top_k_mean([2.0, 1.0, 1.0, 0.0], [3.0, 6.0, 9.0, 0.0], 2) == pytest.approx(5.25)
    with pytest.raises(AdwpError, match=r"k must be an integer in \[1, 5\].*got 6"):
        top_k_mean(score, truth, 6)


def test_precision_at_top_percent_is_the_overlap_of_the_two_tops():
    n = 200
    score, truth = RNG.normal(size=n), RNG.normal(size=n)
    k = 10  # 5% of 200
    overlap = len(set(np.argsort(-score)[:k]) & set(np.argsort(-truth)[:k])) / k
    assert precision_at_top_percent(score, truth) == pytest.approx(overlap)
    assert precision_at_top_percent(truth, truth, 5) == 1.0
    assert precision_at_top_percent(score, truth, 100) == 1.0
    # 10% of 14 is 1.4: the top holds 2 architectures.
    assert precision_at_top_percent(np.arange(14.0), np.r_[np.arange(13.0), -1], 10) == 0.5
    # A constant score picks every architecture with the same chance: k/n of the true top.
    assert precision_at_top_percent(np.ones(n), truth, 5) == pytest.approx(k / n)
    for percent in (0, -5, 100.5):
        with pytest.raises(AdwpError, match=r"in \(0, 100\], got"):
            precision_at_top_percent(score, truth, percent)


def test_tau_within_bins_gives_every_bin_and_their_mean():
    result = tau_within_bins(GOOD, TRUTH, SIZE, bins=4)
    quarters = np.argsort(SIZE).reshape(4, N // 4)
    expected = [stats.kendalltau(GOOD[q], TRUTH[q]).statistic for q in quarters]
    assert result["tau"] == pytest.approx(expected)
    assert result["n"] == [10] * 4
    assert result["mean"] == pytest.approx(np.mean(expected))
    assert tau_within_size_bins(GOOD, TRUTH, np.log(SIZE)) == pytest.approx(result["mean"])
    # Only the order of the control matters: minus its log gives the same bins reversed.
    assert tau_within_bins(GOOD, TRUTH, -np.log(SIZE))["tau"] == pytest.approx(expected[::-1])
    tiny = tau_within_bins(GOOD[:8], TRUTH[:8], SIZE[:8], bins=4)
    assert tiny["tau"] == [None] * 4 and tiny["mean"] is None  # 2 per bin: no tau
    with pytest.raises(AdwpError, match="bins must be an integer of at least 2"):
        tau_within_bins(GOOD, TRUTH, SIZE, bins=1)


def test_partial_tau_takes_any_control_on_any_scale():
    log_size = np.log(SIZE)
    expected = partial_tau(GOOD, TRUTH, log_size)
    assert partial_tau(GOOD, TRUTH, SIZE) == pytest.approx(expected)
    assert partial_tau(GOOD, TRUTH, log_size - 100) == pytest.approx(expected)
    proxy = -np.exp(-POOR)  # negative, like the proxies' log-determinants
    t_xy, t_xz, t_yz = (
        stats.kendalltau(a, b).statistic for a, b in [(GOOD, TRUTH), (GOOD, proxy), (TRUTH, proxy)]
    )
    by_hand = (t_xy - t_xz * t_yz) / np.sqrt((1 - t_xz**2) * (1 - t_yz**2))
    assert partial_tau(GOOD, TRUTH, proxy) == pytest.approx(by_hand)


def test_the_report_controls_for_params_by_default_and_for_anything_given():
    scores = dict(zip(ARCHS, GOOD))
    report = correlation_report(_rows(), scores, n_resamples=50)
    section = report["control"]
    assert section["name"] == "params"
    assert section["partial_tau"] == pytest.approx(report["partial_tau"])
    assert section["partial_tau_ci"] == report["ci"]["partial_tau"]
    assert section["kendall_tau"] == pytest.approx(stats.kendalltau(SIZE, TRUTH).statistic)
    assert section["bins"]["mean"] == pytest.approx(report["tau_within_size_bins"])
    top = report["top_k_mean"]
    assert list(top) == ["10"]  # 50 and 100 exceed n = 40
    assert top["10"] == pytest.approx(
        {
            "score": TRUTH[np.argsort(-GOOD)[:10]].mean(),
            "control": TRUTH[np.argsort(-SIZE)[:10]].mean(),
            "best": np.sort(TRUTH)[-10:].mean(),
        }
    )
    p_top = report["precision_at_top_percent"]
    assert p_top["k"] == 2 and p_top["percent"] == 5.0
    assert p_top["score"] == precision_at_top_percent(GOOD, TRUTH, 5)
    assert p_top["control"] == precision_at_top_percent(SIZE, TRUTH, 5)

    proxy = dict(zip(ARCHS, -np.exp(-POOR)))
    other = correlation_report(
        _rows(),
        scores,
        n_resamples=50,
        control=proxy,
        control_name="proxy",
        bins=2,
        top_k=(5, 40, 41),
        top_percent=25,
    )
    section = other["control"]
    assert section["name"] == "proxy" and len(section["bins"]["tau"]) == 2
    assert section["partial_tau"] == pytest.approx(partial_tau(GOOD, TRUTH, list(proxy.values())))
    low, high = section["partial_tau_ci"]
    assert low < section["partial_tau"] < high
    assert other["partial_tau"] == report["partial_tau"]  # the size metrics stay on #params
    assert list(other["top_k_mean"]) == ["5", "40"]
    assert other["precision_at_top_percent"]["k"] == 10
    no_size = [{k: v for k, v in r.items() if k != "params"} for r in _rows()]
    bare = correlation_report(no_size, scores, n_resamples=20)
    assert bare["control"] is None and bare["top_k_mean"]["10"]["control"] is None
    with pytest.raises(AdwpError, match=r"proxy lacks 1 of the 40 matched architectures.*'a39'"):
        correlation_report(
            _rows(), scores, control={k: proxy[k] for k in ARCHS[:-1]}, control_name="proxy"
        )


def test_paired_bootstrap_is_seeded_and_resamples_both_scores_together():
    first = paired_bootstrap_difference(kendall_tau, GOOD, POOR, TRUTH, 300, seed=5)
    assert first == paired_bootstrap_difference(kendall_tau, GOOD, POOR, TRUTH, 300, seed=5)
    assert first != paired_bootstrap_difference(kendall_tau, GOOD, POOR, TRUTH, 300, seed=6)
    # The same draws, by hand: one index set per resample, used for both scores.
    draws = np.random.default_rng(5).integers(0, N, size=(300, N))
    diffs = [
        stats.kendalltau(GOOD[i], TRUTH[i]).statistic - stats.kendalltau(POOR[i], TRUTH[i])[0]
        for i in draws
    ]
    point, (low, high) = first
    assert point == pytest.approx(kendall_tau(GOOD, TRUTH) - kendall_tau(POOR, TRUTH))
    assert (low, high) == pytest.approx(tuple(np.percentile(diffs, [2.5, 97.5])))


def test_the_interval_excludes_zero_only_for_a_clearly_better_score():
    point, interval = paired_bootstrap_difference(kendall_tau, GOOD, POOR, TRUTH, 500, seed=0)
    assert point > 0.3 and interval[0] > 0 and bootstrap_verdict(interval) == "ahead"
    same = paired_bootstrap_difference(kendall_tau, GOOD, GOOD.copy(), TRUTH, 200, seed=0)
    assert same == (0.0, (0.0, 0.0)) and bootstrap_verdict(same[1]) == "level"
    # Two scores of the same quality, differing only by noise.
    twin = TRUTH + np.random.default_rng(11).normal(0, 0.3, N)
    point, interval = paired_bootstrap_difference(kendall_tau, GOOD, twin, TRUTH, 500, seed=0)
    assert interval[0] < 0 < interval[1] and bootstrap_verdict(interval) == "level"
    with_control = paired_bootstrap_difference(
        partial_tau, GOOD, POOR, TRUTH, 200, seed=0, control=SIZE
    )
    assert with_control[0] == pytest.approx(
        partial_tau(GOOD, TRUTH, SIZE) - partial_tau(POOR, TRUTH, SIZE)
    )
    assert with_control[1][0] > 0
    assert bootstrap_verdict((-0.2, -0.1)) == "ahead"
    with pytest.raises(AdwpError, match="differ in shape"):
        paired_bootstrap_difference(kendall_tau, GOOD, POOR[:-1], TRUTH)
    with pytest.raises(AdwpError, match="undefined on these architectures"):
        paired_bootstrap_difference(kendall_tau, np.ones(N), POOR, TRUTH)


def test_compare_scores_orders_each_pair_by_its_better_score():
    truth = dict(zip(ARCHS, TRUTH))
    scores = {"poor": dict(zip(ARCHS, POOR)), "good": dict(zip(ARCHS[1:], GOOD[1:]))}
    result = compare_scores(
        scores, truth, control=dict(zip(ARCHS, SIZE)), control_name="params", n_resamples=200
    )
    assert result["n"] == N - 1 and result["archs"] == ARCHS[1:] and result["control"] == "params"
    (tau, partial) = result["pairs"]
    assert (tau["statistic"], tau["first"], tau["second"]) == ("kendall_tau", "good", "poor")
    assert tau["difference"] == pytest.approx(
        kendall_tau(GOOD[1:], TRUTH[1:]) - kendall_tau(POOR[1:], TRUTH[1:])
    )
    assert tau["verdict"] == "ahead" and tau["ci"][0] > 0
    assert partial["statistic"] == "partial_tau" and partial["first"] == "good"
    assert result["values"]["poor"]["kendall_tau"] == kendall_tau(POOR[1:], TRUTH[1:])
    without = compare_scores(scores, truth, n_resamples=50)
    assert without["control"] is None and len(without["pairs"]) == 1
    with pytest.raises(AdwpError, match="at least two scores"):
        compare_scores({"good": scores["good"]}, truth)


# ---------------------------------------------------------------------------------------------
# adwp correlate
# ---------------------------------------------------------------------------------------------


def _one_line_error(status: int, err: str) -> str:
    assert status == 2 and err.count("\n") == 1 and err.startswith("adwp: error: "), err
    return err


def test_correlate_prints_and_writes_the_control_metrics(tmp_path, capsys):
    truth = _write(tmp_path / "gt.jsonl", _rows())
    scores = _scores(tmp_path / "hn.json", GOOD)
    out = tmp_path / "r.json"
    args = ["correlate", "--truth", truth, "--scores", scores, "--output", str(out)]
    assert main([*args, "--top-k", "5,10", "--bins", "2", "--resamples", "100"]) == 0
    report = json.loads(out.read_text())
    assert report["scores_file"] == scores and report["control"]["name"] == "params"
    assert list(report["top_k_mean"]) == ["5", "10"] and len(report["control"]["bins"]["n"]) == 2
    printed = capsys.readouterr().out
    assert "control: params (Kendall tau of params alone: " in printed
    line = next(x for x in printed.splitlines() if x.startswith("partial tau given it"))
    assert line.split()[4:7] == [f"{report['control']['partial_tau']:.3f}", "95%", "CI"]
    best = report["top_k_mean"]["10"]["best"]
    assert any(line.startswith("  k=10") and f"{best:.3f}" in line for line in printed.split("\n"))
    assert "P@top 5% (k=2)" in printed


def test_correlate_controls_for_flops_or_another_scores_file(tmp_path):
    truth = _write(tmp_path / "gt.jsonl", _rows(flops=True))
    scores = _scores(tmp_path / "hn.json", GOOD)
    proxy = _scores(tmp_path / "proxy.json", POOR)
    out = tmp_path / "r.json"
    args = ["correlate", "--truth", truth, "--scores", scores, "--output", str(out)]
    assert main([*args, "--control", "flops", "--resamples", "20"]) == 0  # the truth's column
    section = json.loads(out.read_text())["control"]
    assert section["name"] == "flops" and section["values"] == pytest.approx((2 * SIZE).tolist())
    assert main([*args, "--control", proxy, "--resamples", "20"]) == 0
    section = json.loads(out.read_text())["control"]
    assert section["name"] == "proxy.json"
    assert section["partial_tau"] == pytest.approx(partial_tau(GOOD, TRUTH, POOR))
    # FLOPs from the scores file's list, or from the space it names, when the truth has none.
    truth = _write(tmp_path / "plain.jsonl", _rows())
    listed = _scores(tmp_path / "listed.json", GOOD, flops=(3 * SIZE).tolist())
    args = ["correlate", "--truth", truth, "--output", str(out), "--resamples", "20"]
    assert main([*args, "--scores", listed, "--control", "flops"]) == 0
    assert json.loads(out.read_text())["control"]["values"] == pytest.approx((3 * SIZE).tolist())


def test_correlate_takes_flops_from_the_space_a_scores_file_names(tmp_path):
    from adwp.spaces import get_space

    space = get_space("macro")
    archs = [a.to_string() for a in space.sample_many(12, np.random.default_rng(0))]
    rows = [{"arch": a, "seed": 0, "val_acc": float(v)} for a, v in zip(archs, TRUTH[:12] / 9)]
    truth = _write(tmp_path / "gt.jsonl", rows)
    body = {"archs": archs, "scores": GOOD[:12].tolist(), "space": {"name": "macro"}}
    scores = _write(tmp_path / "s.json", body)
    out = tmp_path / "r.json"
    args = ["correlate", "--truth", truth, "--scores", scores, "--output", str(out)]
    assert main([*args, "--control", "flops", "--resamples", "20"]) == 0
    expected = [space.flops(space.validate(a)) for a in archs]
    assert json.loads(out.read_text())["control"]["values"] == pytest.approx(expected)


def test_correlate_compares_several_scores_files_with_a_paired_bootstrap(tmp_path, capsys):
    truth = _write(tmp_path / "gt.jsonl", _rows())
    good = _scores(tmp_path / "good.json", GOOD)
    poor = _scores(tmp_path / "poor.json", POOR)
    twin = _scores(tmp_path / "twin.json", TRUTH + np.random.default_rng(11).normal(0, 0.3, N))
    out = tmp_path / "r.json"
    args = ["correlate", "--truth", truth, "--output", str(out), "--resamples", "300"]
    assert main([*args, "--scores", poor, "--scores", good, "--scores", twin]) == 0
    body = json.loads(out.read_text())
    assert [r["scores_file"] for r in body["reports"]] == [poor, good, twin]
    comparison = body["comparison"]
    assert comparison["n"] == N and comparison["control"] == "params"
    assert comparison["files"] == {"poor.json": poor, "good.json": good, "twin.json": twin}
    verdicts = {
        (p["statistic"], p["first"], p["second"]): p["verdict"] for p in comparison["pairs"]
    }
    assert verdicts[("kendall_tau", "good.json", "poor.json")] == "ahead"
    assert verdicts[("kendall_tau", "twin.json", "poor.json")] == "ahead"
    assert {k[0] for k in verdicts} == {"kendall_tau", "partial_tau"} and len(verdicts) == 6
    pair = next(
        p for p in comparison["pairs"] if {p["first"], p["second"]} == {"good.json", "twin.json"}
    )
    assert pair["verdict"] == "level" and pair["ci"][0] < 0 < pair["ci"][1]
    expected = paired_bootstrap_difference(kendall_tau, GOOD, POOR, TRUTH, 300, seed=0)
    tau = comparison["pairs"][0]
    assert (tau["first"], tau["second"]) == ("good.json", "poor.json")
    assert [tau["difference"], *tau["ci"]] == pytest.approx([expected[0], *expected[1]])
    printed = capsys.readouterr().out
    assert "paired bootstrap on the 40 architectures" in printed and "300 resamples" in printed
    rows = [line.split() for line in printed.splitlines() if line.startswith("kendall_tau ")]
    assert rows[0][:3] == ["kendall_tau", "good.json", "poor.json"] and rows[0][-1] == "ahead"
    assert any(r[-1] == "level" for r in rows)


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--control", "size"], "--control 'size': not one of params, flops and no such"),
        (["--bins", "1"], "--bins must be at least 2 (4: quartiles), got 1"),
        (["--top-percent", "0"], "--top-percent must be in (0, 100], got 0"),
        (["--top-percent", "150"], "--top-percent must be in (0, 100], got 150"),
        (["--top-k", "10,x"], "--top-k must be comma-separated positive integers"),
        (["--top-k", "0"], "--top-k must be comma-separated positive integers"),
        (["--resamples", "0"], "--resamples must be at least 1"),
        (["--control", "flops"], "--control flops: no FLOPs in the scores files"),
        (["--control", "{partial}"], "partial.json lacks 20 of the 40 matched architectures"),
        (["--plot", "x.png", "--scores", "{scores}"], "--plot draws one scores file"),
    ],
)
def test_bad_correlate_flags_are_one_line_errors(tmp_path, capsys, flags, needle):
    truth = _write(tmp_path / "gt.jsonl", _rows())
    scores = _scores(tmp_path / "s.json", GOOD)
    other = _scores(tmp_path / "t.json", POOR)
    out = tmp_path / "r.json"
    partial = _write(tmp_path / "partial.json", {"archs": ARCHS[:20], "scores": POOR[:20].tolist()})
    flags = [f.replace("{scores}", other).replace("{partial}", partial) for f in flags]
    args = ["correlate", "--truth", truth, "--scores", scores, "--output", str(out), *flags]
    err = _one_line_error(main(args), capsys.readouterr().err)
    assert needle in err
    assert not out.exists()
