"""Checkpoint selection on a ground-truth table during training (``adwp train --select-on``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from adwp.checkpoint import load_checkpoint
from adwp.cli import main
from adwp.errors import AdwpError, ArchitectureError
from adwp.evaluator import Evaluator
from adwp.metrics import kendall_tau
from adwp.selection import CheckpointSelector
from adwp.training import Trainer, best_path, metrics_path


@pytest.fixture(scope="module")
def config(digits_config):
    """The shared few-step digits configuration, with a checkpoint (and selection) every 2 steps."""
    return digits_config(checkpoint_every=2)


@pytest.fixture(scope="module")
def table(tmp_path_factory, digits, config):
    """Six architectures of the digits space, two seeds each, accuracy growing with size."""
    space = Trainer(config, data=digits).space
    archs = space.sample_many(6, np.random.default_rng(1))
    path = tmp_path_factory.mktemp("gt") / "select.jsonl"
    rows = []
    for arch in archs:
        acc = 0.5 + 0.4 * np.log(space.params(arch)) / 20
        for seed in (0, 1):
            acc_seed = float(acc + 0.001 * seed)
            rows.append(
                {"arch": str(arch), "seed": seed, "val_acc": acc_seed, "test_acc": acc_seed}
                | {"recipe": "test"}
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _selection_rows(out):
    rows = [json.loads(line) for line in metrics_path(out).read_text().splitlines()]
    return [r for r in rows if "selection_tau" in r]


def test_training_keeps_the_checkpoint_with_the_best_selection_tau(tmp_path, digits, table, config):
    trainer = Trainer(config, data=digits)
    selector = CheckpointSelector(table, trainer.space, digits)
    out = tmp_path / "h.pt"
    trainer.fit(out, quiet=True, callbacks=[selector])

    logged = _selection_rows(out)
    assert [r["step"] for r in logged] == [2, 4, 6]
    valid = [r for r in logged if r["selection_tau"] is not None]
    best = max(valid, key=lambda r: r["selection_tau"])  # max keeps the first of ties
    chosen = load_checkpoint(best_path(out))
    assert chosen["selection"] == {
        "table": str(table),
        "archs": 6,
        "tau": pytest.approx(best["selection_tau"]),
        "step": best["step"],
    }
    assert chosen["step"] == best["step"] == selector.best_step
    assert selector.best_tau == chosen["selection"]["tau"]
    # The stored checkpoint really is the one that scored that tau.
    evaluator = Evaluator.from_checkpoint(best_path(out), data=digits)
    tau = kendall_tau(evaluator.score(selector.archs), selector.truth)
    assert tau == pytest.approx(chosen["selection"]["tau"])


def test_a_resumed_run_selects_the_same_checkpoint(tmp_path, digits, table, monkeypatch, config):
    full = Trainer(config, data=digits)
    full.fit(
        tmp_path / "full.pt", quiet=True, callbacks=[CheckpointSelector(table, full.space, digits)]
    )

    # Die at step 5, after the checkpoints (and selections) of steps 2 and 4.
    killed = Trainer(config, data=digits)
    step = killed.train_step

    def dying_step():
        if killed.step == 4:
            raise KeyboardInterrupt
        return step()

    monkeypatch.setattr(killed, "train_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        killed.fit(
            tmp_path / "part.pt",
            quiet=True,
            callbacks=[CheckpointSelector(table, killed.space, digits)],
        )
    resumed = Trainer(config, data=digits)
    resumed_selector = CheckpointSelector(table, resumed.space, digits)
    resumed.fit(tmp_path / "part.pt", resume=True, quiet=True, callbacks=[resumed_selector])

    assert _selection_rows(tmp_path / "part.pt") == _selection_rows(tmp_path / "full.pt")
    other = tmp_path / "other.jsonl"
    other.write_text(table.read_text())
    with pytest.raises(AdwpError, match="was selected on"):
        Trainer(config, data=digits).fit(
            tmp_path / "part.pt",
            resume=True,
            quiet=True,
            callbacks=[CheckpointSelector(other, resumed.space, digits)],
        )
    a, b = (
        load_checkpoint(best_path(tmp_path / "full.pt")),
        load_checkpoint(best_path(tmp_path / "part.pt")),
    )
    assert a["selection"]["step"] == b["selection"]["step"] == resumed_selector.best_step
    assert a["selection"]["tau"] == b["selection"]["tau"]
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name


def test_bad_selection_tables_are_clear_errors(tmp_path, digits, table, config):
    space = Trainer(config, data=digits).space
    rows = [json.loads(line) for line in table.read_text().splitlines()]

    outside = tmp_path / "outside.jsonl"
    foreign = "k9w100s1|k3w100s1|k3w100s1"
    outside.write_text("".join(json.dumps(r) + "\n" for r in [*rows, {**rows[0], "arch": foreign}]))
    with pytest.raises(ArchitectureError, match="k9"):
        CheckpointSelector(outside, space, digits)

    few = tmp_path / "few.jsonl"
    few.write_text("".join(json.dumps(r) + "\n" for r in rows[:4]))  # two architectures
    with pytest.raises(AdwpError, match="at least 3 architectures, got 2"):
        CheckpointSelector(few, space, digits)

    flat = tmp_path / "flat.jsonl"
    flat.write_text("".join(json.dumps({**r, "val_acc": 0.9}) + "\n" for r in rows))
    with pytest.raises(AdwpError, match="same val_acc"):
        CheckpointSelector(flat, space, digits)


def test_train_cli_select_on_reports_the_selected_step(tmp_path, table, capsys):
    out = tmp_path / "h.pt"
    args = ["train", "--dataset", "digits", "--steps", "6", "--checkpoint-every", "3"]
    assert main([*args, "--out", str(out), "--select-on", str(table)]) == 0
    printed = capsys.readouterr().out
    assert f"-> {best_path(out)}" in printed and "selected step" in printed
    assert best_path(out).exists()
