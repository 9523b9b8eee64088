"""Differentiable search: the relaxed NB201 network, DARTS, derivation, resume and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from adwp.data import DataSplits, get_dataset
from adwp.errors import AdwpError, CheckpointError
from adwp.search import Pick, SearchOutcome
from adwp.search.differentiable import (
    DartsParameters,
    DifferentiableConfig,
    DifferentiableResult,
    DifferentiableSearch,
    list_searchers,
)
from adwp.search.entrannas import EntrannasParameters
from adwp.search.itnas import ItnasParameters, predecessors
from adwp.spaces import NB201Space, get_space
from adwp.spaces._nb201_mixed import MixedEdge
from adwp.spaces.nb201 import OPERATIONS

TINY = DifferentiableConfig(epochs=2, steps_per_epoch=2, batch_size=8)
# What a TINY search on digits found when recorded: each epoch's architecture, the last epoch's
# weights of edge 0->1 (the first cell's, for entrannas) and the mean validation losses.
PINNED = {
    "darts": (
        ["|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"]
        * 2,
        [0.19966618716716766, 0.20023158192634583, 0.19980722665786743, 0.19998687505722046,
         0.20030808448791504],
        [2.4109545946121216, 2.136147379875183],
    ),
    "itnas": (
        ["|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|",
         "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|"],
        [0.1998780518770218, 0.2001965045928955, 0.1997491717338562, 0.20021142065525055,
         0.19996485114097595],
        [2.4106074571609497, 2.138866901397705],
    ),
    "entrannas": (
        ["|skip_connect~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|"]
        * 2,
        [0.0, 0.12507493793964386, 0.124837726354599, 0.12490403652191162, 0.12504218518733978],
        [2.408536911010742, 2.219820022583008],
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def digits() -> DataSplits:
    return get_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def space(digits: DataSplits) -> NB201Space:
    shape = {name: getattr(digits, name) for name in ("in_channels", "num_classes", "image_size")}
    return get_space("nb201", channels=4, cells_per_stage=1, **shape)


def test_a_mixed_edge_with_one_hot_weights_is_that_operation() -> None:
    torch.manual_seed(0)
    edge = MixedEdge(4).eval()
    x = torch.randn(2, 4, 6, 6)
    for k in range(len(OPERATIONS)):
        one_hot = torch.zeros(len(OPERATIONS))
        one_hot[k] = 1.0
        torch.testing.assert_close(edge(x, one_hot), edge.ops[k](x))
    # Every weight exactly zero prunes the edge: zeros, and no operation runs.
    calls = []
    for op in edge.ops:
        op.register_forward_hook(lambda *_: calls.append(1))
    assert torch.count_nonzero(edge(x, torch.zeros(len(OPERATIONS)))) == 0 and not calls


def test_gradients_reach_the_architecture_parameters(space: NB201Space, digits: DataSplits) -> None:
    search = DifferentiableSearch(space, digits, "darts", TINY)
    x = torch.randn(4, digits.in_channels, digits.image_size, digits.image_size)
    logits = search.network(x, search.parameters.weights())
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3])).backward()
    grad = search.parameters.logits.grad
    assert grad is not None and grad.shape == (6, 5)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    # Per-cell weights are accepted; a wrong shape is refused in one line.
    per_cell = search.parameters.weights().detach().expand(search.network.num_cells, 6, 5)
    assert search.network(x, per_cell).shape == (4, digits.num_classes)
    with pytest.raises(ValueError, match=r"weights must be \[6, 5\]"):
        search.network(x, torch.zeros(5, 6))


def test_darts_derives_each_edges_heaviest_operation(space: NB201Space, digits: DataSplits) -> None:
    params = DartsParameters((6, 5), torch.Generator().manual_seed(0))
    with torch.no_grad():
        params.logits.zero_()
        for edge, op in enumerate([3, 0, 1, 2, 4, 3]):
            params.logits[edge, op] = 1.0
    assert params.derive() == [3, 0, 1, 2, 4, 3]
    torch.testing.assert_close(params.weights().sum(dim=1), torch.ones(6))
    search = DifferentiableSearch(space, digits, "darts", TINY)
    search.parameters.load_state_dict(params.state_dict())
    assert search.derived() == space.from_genotype([3, 0, 1, 2, 4, 3]).to_string()


def test_same_seed_same_search_and_a_table_is_recorded(
    space: NB201Space, digits: DataSplits
) -> None:
    first = DifferentiableSearch(space, digits, "darts", TINY).run()
    truth = {first.arch: 93.5}
    second = DifferentiableSearch(space, digits, "darts", TINY).run(truth=truth)
    assert [h["weights"] for h in first.history] == [h["weights"] for h in second.history]
    assert second.arch == first.arch and second.to_dict()["truth"] == 93.5
    assert [h["epoch"] for h in second.history] == [1, 2]
    # Every searcher's result type: ``best`` is the final derived architecture, scored by the
    # table; without a table nothing scored it.
    assert isinstance(second, SearchOutcome) and isinstance(second.best, Pick)
    assert second.best.arch == space.validate(second.arch) and second.best.score == 93.5
    assert second.best.params == space.params(second.arch)
    derived = list(dict.fromkeys(h["arch"] for h in second.history))
    assert [p.arch.to_string() for p in second.evaluated] == derived
    out = second.to_dict()
    assert out["best"] == second.best.to_dict() and out["evaluations"] == len(derived)
    assert first.to_dict()["best"]["score"] is None and first == DifferentiableResult(
        first.method, first.arch, first.history, first.config
    )
    other = DifferentiableSearch(space, digits, "darts", DifferentiableConfig(**{
        **TINY.__dict__, "seed": 1}))  # fmt: skip
    assert other.run().history[0]["weights"] != first.history[0]["weights"]


@pytest.mark.parametrize("method", ["darts", "itnas", "entrannas"])
def test_a_killed_search_resumes_to_the_same_architecture(
    method: str,
    space,
    digits,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uninterrupted = DifferentiableSearch(space, digits, method, TINY).run()
    path = tmp_path / "search.pt"
    original = DifferentiableSearch._save

    def save_then_die(self: DifferentiableSearch, target: Path) -> None:
        original(self, target)
        raise KeyboardInterrupt  # killed right after the first epoch's checkpoint

    monkeypatch.setattr(DifferentiableSearch, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        DifferentiableSearch(space, digits, method, TINY).run(checkpoint=path)
    monkeypatch.setattr(DifferentiableSearch, "_save", original)
    resumed = DifferentiableSearch(space, digits, method, TINY).run(checkpoint=path)
    assert resumed.arch == uninterrupted.arch
    assert [h["weights"] for h in resumed.history] == [h["weights"] for h in uninterrupted.history]
    # A checkpoint of other settings is refused, and the file is left as it was.
    before = path.read_bytes()
    longer = DifferentiableConfig(epochs=3, steps_per_epoch=2, batch_size=8)
    with pytest.raises(CheckpointError, match="holds a search with another config"):
        DifferentiableSearch(space, digits, method, longer).run(checkpoint=path)
    assert path.read_bytes() == before


def test_bad_input_is_refused_in_one_line(space: NB201Space, digits: DataSplits) -> None:
    assert "darts" in list_searchers()
    with pytest.raises(
        AdwpError,
        match="unknown differentiable searcher 'dart'; available: darts, entrannas, itnas",
    ):
        DifferentiableSearch(space, digits, "dart", TINY)
    with pytest.raises(AdwpError, match="'macro' has no relaxation"):
        DifferentiableSearch(get_space("macro"), digits, "darts", TINY)
    with pytest.raises(AdwpError, match="steps_per_epoch must be a positive integer, got 0"):
        DifferentiableConfig(steps_per_epoch=0)
    with pytest.raises(AdwpError, match=r"^DifferentiableConfig.arch_lr must be positive, got 0$"):
        DifferentiableConfig(arch_lr=0)
    with pytest.raises(AdwpError, match="seed must be a non-negative integer, got True"):
        DifferentiableConfig(seed=True)
    cifar_space = get_space("nb201", channels=4, cells_per_stage=1)
    with pytest.raises(AdwpError, match="space expects 3 channels and 10 classes"):
        DifferentiableSearch(cifar_space, digits, "darts", TINY)


@pytest.mark.parametrize("method", ["darts", "itnas", "entrannas"])
def test_every_searcher_trains_its_parameters_reproducibly(
    method: str, space: NB201Space, digits: DataSplits
) -> None:
    search = DifferentiableSearch(space, digits, method, TINY)
    x = torch.randn(4, digits.in_channels, digits.image_size, digits.image_size)
    loss = torch.nn.functional.cross_entropy(
        search.network(x, search.parameters.weights()), torch.tensor([0, 1, 2, 3])
    )
    loss.backward()
    for name, param in search.parameters.named_parameters():
        if name != "thresholds":  # zero at the start: their gradient is the logits' in sign
            assert param.grad is not None and param.grad.abs().sum() > 0, (method, name)
    first = search.run()
    again = DifferentiableSearch(space, digits, method, TINY).run()
    assert first.arch == again.arch and first.history == [
        {**h, "seconds": f["seconds"]} for h, f in zip(again.history, first.history)
    ]
    space.validate(first.arch)
    # The same search as when it was recorded (bit for bit there, to rounding elsewhere).
    archs, weights, losses = PINNED[method]
    last = torch.tensor(first.history[-1]["weights"])
    assert [h["arch"] for h in first.history] == archs
    assert last.reshape(-1, 6, 5)[0, 0].tolist() == pytest.approx(weights, rel=1e-5)
    assert [h["val_loss"] for h in first.history] == pytest.approx(losses, rel=1e-5)


def test_itnas_identity_transition_copies_the_predecessor() -> None:
    params = ItnasParameters((6, 5), torch.Generator().manual_seed(0))
    assert predecessors() == [[], [], [0], [], [0], [1, 2]]
    assert params.outer == [0, 1, 3]
    with torch.no_grad():
        params.transitions.copy_(1e4 * torch.eye(5).expand_as(params.transitions))
    weights = params.weights()
    torch.testing.assert_close(params.transition(2, 0), torch.eye(5))
    # Edges 1->2 and 1->3 have the single predecessor 0->1: plain copies of its distribution.
    torch.testing.assert_close(weights[2], weights[0])
    torch.testing.assert_close(weights[4], weights[0])
    # Edge 2->3 mixes its two predecessors (0->2 and 1->2) with equal attention at first.
    torch.testing.assert_close(weights[5], 0.5 * weights[1] + 0.5 * weights[2])
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(6))


def test_entrannas_threshold_above_every_weight_prunes_the_edge() -> None:
    params = EntrannasParameters((6, 5), torch.Generator().manual_seed(0), cells=3)
    with torch.no_grad():
        params.logits.zero_()
        params.logits[5, 0] = 3.0  # node 3: edge 2->3 prefers skip_connect
        params.logits[0, 2] = 2.0  # node 1: edge 0->1 prefers nor_conv_3x3
        params.thresholds[2] = 20.0  # node 3: above every probability of edges 0->3 and 1->3
    sparse = params.sparse()
    assert torch.count_nonzero(sparse[3]) == 0 and torch.count_nonzero(sparse[4]) == 0
    assert torch.count_nonzero(sparse[:, 0]) == 0  # none is never a connection
    # Node 2's threshold sits at half its uniform share 1/8 (8 connections): nothing uniform is
    # pruned, and each of its 2 edges mixes 2 x 4 x (1/8 - 1/16) = 0.5.
    assert torch.count_nonzero(sparse[1]) == 4
    torch.testing.assert_close(sparse[[1, 2]].sum(dim=1), torch.full((2,), 0.5))
    derived = params.derive()
    assert derived[0] == 3 and derived[5] == 1 and derived[3] == derived[4] == 0  # pruned: none
    weights = params.weights()
    assert weights.shape == (3, 6, 5)
    # The engine cell mixes the sparse weights; the transit cells run the derived sub-graph only.
    torch.testing.assert_close(weights[0], sparse)
    assert torch.equal(weights[1], weights[2])
    assert weights[1][3].sum() == 0 and weights[1][0, 3] == 1 and weights[1].sum() == 4


def test_entrannas_keeps_every_node_connected() -> None:
    """A threshold can prune edges but never all inputs of a node, so the cell stays connected."""
    for seed in range(20):
        generator = torch.Generator().manual_seed(seed)
        params = EntrannasParameters((6, 5), generator, cells=2)
        with torch.no_grad():
            params.logits.copy_(3 * torch.randn(6, 4, generator=generator))
            params.logits[[0, 1, 3]] -= 10  # every edge leaving the input is the weakest
            params.thresholds.fill_(1e3)
        derived = params.derive()
        for incoming in params.incoming:
            assert any(derived[e] != 0 for e in incoming), (seed, derived)
        assert derived[0] != 0  # node 1's only input survives, so node 0 reaches every node
        loss = params.weights()[0].pow(2).sum()
        loss.backward()
        assert params.logits.grad is not None and params.logits.grad.abs().sum() > 0


def test_entrannas_rejects_a_space_that_is_not_nb201() -> None:
    with pytest.raises(ValueError, match="EnTranNAS reads NB201's 6 edges"):
        EntrannasParameters((5, 5), torch.Generator().manual_seed(0))


def test_transit_cells_run_only_the_derived_operations(
    space: NB201Space, digits: DataSplits
) -> None:
    search = DifferentiableSearch(space, digits, "entrannas", TINY)
    calls: list[str] = []
    for name, module in search.network.named_modules():
        if name.count(".") == 5 and ".ops." in name:  # cells.{i}.edges.{e}.ops.{k}
            module.register_forward_hook(lambda *_, n=name: calls.append(n))
    x = torch.randn(2, digits.in_channels, digits.image_size, digits.image_size)
    search.network(x, search.parameters.weights())
    engine = [c for c in calls if c.startswith("cells.0.")]
    transit = [c for c in calls if not c.startswith("cells.0.")]
    derived = [op for op in search.parameters.derive() if op != 0]
    assert len(engine) == 6 * 4  # every operation but none, of every edge of the engine cell
    assert len(transit) == 2 * len(derived)  # two transit cells, one operation per kept edge


def test_cli_searches_writes_json_and_plot_and_resumes(tmp_path: Path) -> None:
    from adwp.cli import main

    space = get_space("nb201")
    table = tmp_path / "nb201.csv"
    rows = [f"{a.to_string()},{space.params(a) / 1e4:.4f}" for a in space.enumerate()]
    table.write_text("arch,acc\n" + "\n".join(rows) + "\n")
    output, plot = tmp_path / "darts.json", tmp_path / "darts.png"
    args = ["search", "itnas", "--space", "nb201", "--dataset", "digits", "--quiet"]
    args += ["--space-option", "channels=4", "--space-option", "cells_per_stage=1"]
    args += ["--epochs", "2", "--steps-per-epoch", "2", "--batch-size", "8", "--seed", "3"]
    args += ["--truth", str(table), "--key", "arch", "--metric", "acc"]
    args += ["--checkpoint", str(tmp_path / "search.pt"), "--output", str(output)]
    assert main([*args, "--plot", str(plot)]) == 0
    out = json.loads(output.read_text())
    assert out["method"] == "itnas" and out["seed"] == 3 and len(out["history"]) == 2
    assert out["operations"] == list(OPERATIONS)
    assert out["truth"] == pytest.approx(space.params(out["arch"]) / 1e4, abs=1e-4)
    assert plot.stat().st_size > 0
    # Re-run with the finished checkpoint: nothing to train, the same result.
    assert main(args) == 0
    assert json.loads(output.read_text())["history"] == out["history"]
    assert main(["search", "darts", "--backend", "proxy:synflow", "--output", str(output)]) == 2
    assert main(["search", "random", "--budget", "3", "--output", str(output)]) == 2


def test_second_order_gradient_matches_the_unrolled_objective(
    space: NB201Space, digits: DataSplits, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torch.func import functional_call

    import adwp.search.differentiable as module

    # In float64 a small radius makes the finite differences exact to ~1e-7, so what is left
    # to compare is the formula (the default radius is sized for float32).
    monkeypatch.setattr(module, "_DIFFERENCE_RADIUS", 1e-4)

    config = DifferentiableConfig(**{**TINY.__dict__, "second_order": True})
    search = DifferentiableSearch(space, digits, "darts", config)
    search.network.double()
    search.parameters.double()
    generator = torch.Generator().manual_seed(0)
    shape = (8, digits.in_channels, digits.image_size, digits.image_size)
    xv, xt = (torch.randn(shape, generator=generator, dtype=torch.float64) for _ in range(2))
    yv, yt = (torch.randint(10, (8,), generator=generator) for _ in range(2))
    lr = 0.1
    search._second_order_gradient(xv, yv, xt, yt, lr)
    approximate = search.parameters.logits.grad.clone()
    # The same objective differentiated exactly, through the virtual step.
    names = [n for n, _ in search.network.named_parameters()]
    weights = [p.detach() for p in search.network.parameters()]
    logits = search.parameters.logits

    def loss(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        state = dict(zip(names, params, strict=True))
        out = functional_call(search.network, state, (x, torch.softmax(logits, dim=-1)))
        return torch.nn.functional.cross_entropy(out, y)

    weights = [w.clone().requires_grad_() for w in weights]
    grads = torch.autograd.grad(loss(weights, xt, yt), weights, create_graph=True)
    decay = config.weight_decay
    stepped = [w.detach() - lr * (g + decay * w.detach()) for w, g in zip(weights, grads)]
    (exact,) = torch.autograd.grad(loss(stepped, xv, yv), [logits])
    first_order = torch.autograd.grad(loss(weights, xv, yv), [logits])[0]
    torch.testing.assert_close(approximate, exact, rtol=1e-3, atol=1e-6)
    assert not torch.allclose(exact, first_order, rtol=1e-3, atol=1e-6)
    # And a second-order search runs and derives an architecture.
    monkeypatch.undo()
    space.validate(DifferentiableSearch(space, digits, "darts", config).run().arch)
