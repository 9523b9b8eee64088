"""Ground-truth tables of other benchmarks: CSV or JSONL, any key column and any metric column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from adwp.backend import BackendContext, TableBackend, load_backend
from adwp.checkpoint import best_path, load_checkpoint
from adwp.cli import main
from adwp.errors import ArchitectureError, DataError
from adwp.groundtruth import read_truth
from adwp.selection import CheckpointSelector
from adwp.spaces import get_space
from adwp.training import Trainer

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
KEY, METRIC = "ArchitectureString", "CIFAR10TestAccuracy200Epochs"


def nb201_string(rng: np.random.Generator) -> str:
    """A cell in NAS-Bench-201's ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` form."""
    nodes = ["|".join(f"{rng.choice(OPS)}~{j}" for j in range(i)) for i in (1, 2, 3)]
    return "+".join(f"|{node}|" for node in nodes)


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def nb201(tmp_path: Path) -> tuple[list[dict], dict[str, float]]:
    """Twelve distinct NAS-Bench-201-style architectures with percent accuracies, and scores."""
    rng = np.random.default_rng(0)
    keys: list[str] = []
    while len(keys) < 12:
        key = nb201_string(rng)
        if key not in keys:
            keys.append(key)
    accuracy = rng.uniform(10, 94, len(keys))
    rows = [
        {KEY: key, METRIC: float(acc), "CIFAR100TestAccuracy200Epochs": float(acc / 2 + 3)}
        for key, acc in zip(keys, accuracy)
    ]
    scores = {key: float(acc + rng.normal(0, 15)) for key, acc in zip(keys, accuracy)}
    return rows, scores


def correlate(tmp_path: Path, truth: Path, scores: dict[str, float], *flags: str) -> dict:
    scores_path = tmp_path / "S.json"
    scores_path.write_text(json.dumps({"archs": list(scores), "scores": list(scores.values())}))
    out = tmp_path / f"R-{truth.suffix[1:]}.json"
    args = ["correlate", "--truth", str(truth), "--scores", str(scores_path), "--output", str(out)]
    assert main([*args, *flags]) == 0
    return json.loads(out.read_text())


def test_correlate_on_csv_matches_scipy_and_the_same_table_in_jsonl(tmp_path, nb201):
    rows, scores = nb201
    columns = ["--key", KEY, "--metric", METRIC]
    from_csv = correlate(tmp_path, write_csv(tmp_path / "gt.csv", rows), scores, *columns)
    from_jsonl = correlate(tmp_path, write_jsonl(tmp_path / "gt.jsonl", rows), scores, *columns)

    truth = [row[METRIC] for row in rows]
    assert from_csv["n"] == 12 and from_csv["unmatched"] == []
    assert from_csv["metric"] == METRIC
    assert from_csv["truth"] == pytest.approx(truth)  # the percentages, as published
    assert from_csv["kendall_tau"] == pytest.approx(
        stats.kendalltau(list(scores.values()), truth).statistic
    )
    assert from_csv["spearman"] == pytest.approx(
        stats.spearmanr(list(scores.values()), truth).statistic
    )
    assert from_csv["kendall_tau"] < 1  # the noisy scores are no copy of the truth
    for name in ("kendall_tau", "spearman", "truth", "archs", "ci"):
        assert from_csv[name] == from_jsonl[name], name


def test_seed_and_params_columns_feed_the_noise_ceiling(tmp_path, nb201):
    rows, scores = nb201
    seeded = [
        {"seed": seed, KEY: row[KEY], METRIC: row[METRIC] + seed, "params": 1000 + 10 * i}
        for i, row in enumerate(rows)
        for seed in (0, 1)
    ]
    path = write_csv(tmp_path / "seeded.csv", seeded)
    table = read_truth(path, key=KEY, metric=METRIC)
    first = rows[0][KEY]
    assert table.seeded and table.per_seed()[first] == {0: rows[0][METRIC], 1: rows[0][METRIC] + 1}
    assert table.mean()[first] == pytest.approx(rows[0][METRIC] + 0.5)
    assert table.params[first] == 1000.0

    report = correlate(tmp_path, path, scores, "--key", KEY, "--metric", METRIC)
    assert report["seeds"] == [2] * 12
    assert report["noise_ceiling"]["pairs"] == 1
    assert report["params"] == [1000.0 + 10 * i for i in range(12)]


def test_unseeded_repeats_of_a_key_are_averaged(tmp_path):
    rows = [{"id": "a", "acc": 60}, {"id": "b", "acc": 70}, {"id": "a", "acc": 80}]
    table = read_truth(write_csv(tmp_path / "t.csv", rows), key="id", metric="acc")
    assert not table.seeded and table.params is None
    assert table.mean() == {"a": 70.0, "b": 70.0}
    assert table.per_seed()["a"] == {0: 60.0, 1: 80.0}


BAD_CSV = {
    "missing key": ("arch,val_acc\nx,1\n", "has no key column 'name'; its columns: 'arch', "),
    "missing metric": ("name,acc\nx,1\n", "has no metric column 'val_acc'; its columns: 'name'"),
    "text metric": ("name,val_acc\nx,1\ny,n/a\n", r"t.csv:3: val_acc of 'y' is 'n/a', not a num"),
    "empty metric": ("name,val_acc\nx,\n", r"t.csv:2: val_acc of 'x' is '', not a number"),
    "nan metric": ("name,val_acc\nx,nan\n", r"t.csv:2: val_acc of 'x' is 'nan', not a finite"),
    "infinite metric": ("name,val_acc\nx,-inf\n", "is '-inf', not a finite number"),
    "short row": ("name,val_acc\nx\n", r"t.csv:2: 1 fields, the header has 2"),
    "twice": ("name,seed,val_acc\nx,0,1\nx,0,2\n", r"t.csv:3: 'x' with seed 0 appears twice"),
    "bad seed": ("name,seed,val_acc\nx,one,1\n", "seed of 'x' is 'one', not an integer"),
    "bad params": ("name,val_acc,params\nx,1,-5\n", "params of 'x' is '-5', not a positive"),
    "no rows": ("name,val_acc\n", "the table has no rows"),
    "empty file": ("", "empty CSV file"),
}


@pytest.mark.parametrize("text, message", BAD_CSV.values(), ids=BAD_CSV)
def test_bad_csv_tables_are_one_line_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as caught:
        read_truth(path, key="name")
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_bad_jsonl_tables_and_extensions(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"k": "a", "acc": 50}, {"k": "b", "top1": 60}])
    with pytest.raises(DataError, match=r"t.jsonl:2 has no metric column 'acc'; .*'k', 'top1'"):
        read_truth(path, key="k", metric="acc")
    path = write_jsonl(tmp_path / "t.jsonl", [{"k": "a", "acc": True}])
    with pytest.raises(DataError, match="acc of 'a' is True, not a number"):
        read_truth(path, key="k", metric="acc")
    # Rows stamped by adwp groundtruth keep its checks: fractions only.
    stamped = {"arch": "a", "seed": 0, "val_acc": 55.0, "test_acc": 0.5, "recipe": "r"}
    with pytest.raises(DataError, match=r"val_acc 55.0 is not a fraction"):
        read_truth(write_jsonl(tmp_path / "own.jsonl", [stamped]))
    # A .json file may hold a list of rows.
    listed = tmp_path / "t.json"
    listed.write_text(json.dumps([{"k": "a", "acc": 1}, {"k": "b", "acc": 2}]))
    assert read_truth(listed, key="k", metric="acc").mean() == {"a": 1.0, "b": 2.0}
    other = tmp_path / "t.tsv"
    other.write_text("k\tacc\n")
    with pytest.raises(DataError, match=r"t.tsv: unknown table format '.tsv'; .*.csv, .jsonl"):
        read_truth(other)


def test_correlate_cli_names_the_missing_column(tmp_path, nb201, capsys):
    rows, scores = nb201
    truth = write_csv(tmp_path / "gt.csv", rows)
    scores_path = tmp_path / "S.json"
    scores_path.write_text(json.dumps({"archs": list(scores), "scores": list(scores.values())}))
    args = ["correlate", "--truth", str(truth), "--scores", str(scores_path)]
    assert main([*args, "--output", str(tmp_path / "R.json"), "--key", KEY]) == 2
    assert f"has no metric column 'val_acc'; its columns: '{KEY}'" in capsys.readouterr().err
    assert not (tmp_path / "R.json").exists()


@pytest.fixture(scope="module")
def digits_space(digits, digits_config):
    return Trainer(digits_config(), data=digits).space


@pytest.fixture(scope="module")
def macro_csv(tmp_path_factory, digits_space) -> tuple[Path, list[str]]:
    """Eight architectures of the digits space, two seeds each, percent accuracy growing in size."""
    archs = [str(a) for a in digits_space.sample_many(8, np.random.default_rng(3))]
    archs.sort(key=lambda a: digits_space.params(digits_space.validate(a)))
    rows = [
        {"net": arch, "seed": seed, "top1_pct": 50.0 + 5 * rank + seed, "val_acc": 0.5}
        for rank, arch in enumerate(archs)
        for seed in (0, 1)
    ]
    return write_csv(tmp_path_factory.mktemp("gt") / "macro.csv", rows), archs


def test_table_backend_reads_csv_with_any_key_and_metric(macro_csv, digits_space):
    path, archs = macro_csv
    backend = TableBackend(path, metric="top1_pct", key="net")
    assert backend.score(archs[:3]).tolist() == [50.5, 55.5, 60.5]
    same = load_backend(f"table:{path}", BackendContext(table_key="net", table_metric="top1_pct"))
    assert same.truth == backend.truth
    backend.check_space(digits_space)  # its keys are architectures of the space

    absent = "k3w100s1|k3w100s1|k3w100s1"
    with pytest.raises(ArchitectureError, match=f"{absent} is not in table .*'net'.*--space"):
        backend.score([absent])
    assert np.isnan(TableBackend(path, "top1_pct", "skip", key="net").score([absent])[0])


def test_a_table_of_another_space_is_refused_at_once(tmp_path, nb201, digits_space, capsys):
    rows, _ = nb201
    path = write_csv(tmp_path / "nb201.csv", rows)
    backend = TableBackend(path, metric=METRIC, key=KEY)
    with pytest.raises(ArchitectureError, match=r"holds no architecture of the macro space"):
        backend.check_space(digits_space)

    args = ["search", "random", "--backend", f"table:{path}", "--key", KEY, "--metric", METRIC]
    out = tmp_path / "out.json"
    status = main([*args, "--dataset", "digits", "--budget", "3", "--output", str(out)])
    assert status == 2 and not out.exists()
    assert "holds no architecture of the macro space" in capsys.readouterr().err


def test_search_on_a_csv_table_finds_its_best_architecture(tmp_path):
    space = get_space("layer-assignment", image_size=8, min_total_depth=3, max_total_depth=5)
    truth = {space.from_depths(d).to_string(): 10.0 * sum(d) + d[2] for d in space.assignments()}
    path = write_csv(tmp_path / "la.csv", [{"net": k, "top1_pct": v} for k, v in truth.items()])
    out = tmp_path / "out.json"
    args = ["search", "random", "--backend", f"table:{path}", "--key", "net"]
    args += ["--metric", "top1_pct", "--space", "layer-assignment", "--dataset", "digits"]
    args += ["--min-depth", "3", "--max-depth", "5", "--budget", "6", "--quiet"]
    assert main([*args, "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    evaluated = {pick["arch"]: pick["score"] for pick in result["history"]}
    assert len(evaluated) == 6
    assert all(truth[arch] == score for arch, score in evaluated.items())
    assert result["best"]["score"] == max(evaluated.values())


def test_key_and_metric_flags_need_a_table(tmp_path, capsys):
    out = tmp_path / "out.json"
    args = ["search", "random", "--backend", "proxy:synflow", "--metric", "top1_pct"]
    assert main([*args, "--budget", "2", "--dataset", "digits", "--output", str(out)]) == 2
    assert "--metric names a column of table: backends" in capsys.readouterr().err


def test_checkpoint_selector_reads_a_csv_table(macro_csv, digits, digits_space):
    path, archs = macro_csv
    selector = CheckpointSelector(path, digits_space, digits, metric="top1_pct", key="net")
    assert [str(a) for a in selector.archs] == archs
    assert selector.truth.tolist() == [50.5 + 5 * rank for rank in range(8)]


@pytest.mark.slow
def test_train_selects_on_a_csv_table(tmp_path, macro_csv, capsys):
    path, _ = macro_csv
    out = tmp_path / "h.pt"
    args = ["train", "--dataset", "digits", "--steps", "6", "--checkpoint-every", "3"]
    # A small hypernetwork and few images per step keep the run to seconds.
    args += ["--meta-batch", "2", "--sampler", "uniform", "--batch-size", "16"]
    args += ["--embed-dim", "16", "--snapshot-every", "0"]
    args += ["--select-on", str(path), "--select-key", "net", "--select-metric", "top1_pct"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"8 architectures of {path}) -> {best_path(out)}" in printed
    assert load_checkpoint(best_path(out))["selection"]["table"] == str(path)

    lone = ["--out", str(tmp_path / "lone.pt"), "--select-key", "net"]
    assert main(["train", "--dataset", "digits", *lone]) == 2
    assert "name columns of the --select-on table" in capsys.readouterr().err
