"""Encoders, hypernetwork, functional network, training resume and the evaluator."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from adwp.backend import RankingBackend
from adwp.checkpoint import compact_snapshot
from adwp.errors import AdwpError, ArchitectureError, CheckpointError
from adwp.evaluator import Evaluator, EvaluatorConfig
from adwp.functional import FunctionalNetwork
from adwp.hypernet import HyperNetConfig, HyperNetwork
from adwp.spaces import Architecture, get_space
from adwp.supernet import SuperNet
from adwp.training import Trainer, _step_generators
from encoders import (
    ContextEncoder,
    OneHotEncoder,
    StochasticEncoder,
    encode_probabilities,
    one_hot_probabilities,
)


@pytest.fixture(scope="module")
def space():
    return get_space("macro")


@pytest.fixture(scope="module")
def archs(space):
    return [space.smallest(), space.largest(), *space.sample_many(4, np.random.default_rng(0))]


def test_one_hot_encoding_layout(space):
    arch = space.validate("k5w75s1,k3w50s0|k7w100s1|k3w100s0,k3w100s1,k5w50s1")
    enc = OneHotEncoder(space).encode([arch])
    assert enc.shape == (1, 12, 1 + 3 + 3 + 2)
    active = enc[0, :, 0]
    assert active.tolist() == [1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0]
    assert enc[0, 0].tolist() == [1, 0, 1, 0, 0, 1, 0, 0, 1]  # k5, w0.75, skip on
    assert torch.all(enc[0, active == 0] == 0)  # unused slots encode as zeros
    # Every active slot has exactly one choice per decision.
    assert torch.all(enc[0, active == 1, 1:].sum(-1) == 3)


def test_stochastic_encoder_is_seeded_soft_and_valid(space, archs):
    enc = StochasticEncoder(space, max_mix=0.5, hard_fraction=0.0)
    a1, e1 = enc.sample(archs, torch.Generator().manual_seed(3))
    a2, e2 = enc.sample(archs, torch.Generator().manual_seed(3))
    assert a1 == a2 and torch.equal(e1, e2)
    assert all(space.contains(a) for a in a1)
    assert e1.shape == (len(archs), 12, 9)
    # Soft probabilities appear, and each decision group sums to P(active).
    assert ((e1 > 0.01) & (e1 < 0.99)).any()
    active = e1[..., :1]
    for lo, hi in ((1, 4), (4, 7), (7, 9)):
        torch.testing.assert_close(e1[..., lo:hi].sum(-1, keepdim=True), active)
    hard = StochasticEncoder(space, hard_fraction=1.0)
    a3, e3 = hard.sample(archs, torch.Generator().manual_seed(3))
    assert a3 == list(archs)
    torch.testing.assert_close(e3, OneHotEncoder(space).encode(archs))


def test_soft_encoding_is_differentiable(space, archs):
    probs = one_hot_probabilities(space, archs[:2])
    logits = torch.zeros_like(probs.depth, requires_grad=True)
    soft = type(probs)(torch.softmax(logits, -1), probs.kernel, probs.width, probs.skip)
    encode_probabilities(space, soft)[..., 0].sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_hypernet_emits_exact_shapes_for_smallest_and_largest(space, archs, small_hypernet):
    hypernet = HyperNetwork(space, small_hypernet)
    weights = hypernet(OneHotEncoder(space).encode(archs), archs)
    for arch, w in zip(archs, weights):
        expected = {n: p.shape for n, p in space.build(arch).named_parameters()}
        assert {n: t.shape for n, t in w.items()} == expected
        FunctionalNetwork(space, arch).check(w)
        assert all(torch.isfinite(t).all() for t in w.values())
    largest = dict(zip(map(str, archs), weights))[str(space.largest())]
    assert largest["blocks.11.conv.weight"].shape == (64, 64, 7, 7)


def _parameters_without_gradient(hypernet, arch, weights):
    """Names of hypernetwork parameters that a training loss on ``arch`` leaves without gradient."""
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    network = FunctionalNetwork(hypernet.space, arch)
    torch.nn.functional.cross_entropy(network(weights, x), y).backward()
    return [n for n, p in hypernet.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]


def test_context_free_slot_embeddings_see_only_their_own_slot(space):
    arch_a = space.validate("k3w50s0,k3w50s0|k3w50s0|k3w50s0")
    arch_b = space.validate("k3w50s0,k7w100s1|k3w50s0|k5w75s1")  # same first slot
    encoding = OneHotEncoder(space).encode([arch_a, arch_b])
    local = ContextEncoder(encoding.shape[-1], space.num_slots, 16, layers=0, heads=2)
    tokens, _ = local(encoding)
    assert torch.equal(tokens[0, 0], tokens[1, 0])
    assert not torch.equal(tokens[0, 1], tokens[1, 1])
    contextual = ContextEncoder(encoding.shape[-1], space.num_slots, 16, layers=1, heads=2)
    tokens, _ = contextual(encoding)
    assert not torch.allclose(tokens[0, 0], tokens[1, 0])


def test_shared_norm_hypernet_slices_one_affine_per_slot(space, archs, small_hypernet):
    hypernet = HyperNetwork(space, replace(small_hypernet, predict_norm=False))
    small, other = (
        space.validate("k3w50s0|k3w50s0|k3w50s0"),
        space.validate("k3w50s0|k7w100s1|k5w75s1"),
    )
    large = space.largest()
    archs3 = [small, other, large]
    w_small, w_other, w_large = hypernet(OneHotEncoder(space).encode(archs3), archs3)
    width = w_small["blocks.0.bn.weight"].shape[0]
    assert torch.equal(w_small["blocks.0.bn.weight"], w_large["blocks.0.bn.weight"][:width])
    assert torch.equal(w_small["stem.bn.bias"], w_large["stem.bn.bias"])
    # Kernels still depend on the whole architecture: same first layer, different context.
    assert w_small["blocks.0.conv.weight"].shape == w_other["blocks.0.conv.weight"].shape
    assert not torch.equal(w_small["blocks.0.conv.weight"], w_other["blocks.0.conv.weight"])
    # The shared affines (slots.*.gamma/beta) are trained, like every other parameter.
    assert _parameters_without_gradient(hypernet, large, w_large) == []


def test_shared_classifier_hypernet_slices_one_classifier(space, small_hypernet):
    hypernet = HyperNetwork(space, replace(small_hypernet, predict_classifier=False))
    small, large = space.validate("k3w50s0|k3w50s0|k3w50s0"), space.largest()
    w_small, w_large = hypernet(OneHotEncoder(space).encode([small, large]), [small, large])
    width = w_small["classifier.weight"].shape[1]
    assert width < w_large["classifier.weight"].shape[1]
    assert torch.equal(w_small["classifier.weight"], w_large["classifier.weight"][:, :width])
    assert torch.equal(w_small["classifier.bias"], w_large["classifier.bias"])
    assert _parameters_without_gradient(hypernet, large, w_large) == []


def test_renormalize_only_rescales_kernels_which_batchnorm_undoes(space, small_hypernet):
    scaled = HyperNetwork(space, small_hypernet)
    raw = HyperNetwork(space, replace(small_hypernet, renormalize=False))
    raw.load_state_dict(scaled.state_dict())
    arch = space.validate("k3w50s1,k5w75s0|k7w100s1|k3w75s0")
    encoding = OneHotEncoder(space).encode([arch])
    (w_scaled,), (w_raw,) = scaled(encoding, [arch]), raw(encoding, [arch])
    kernel = w_raw["blocks.1.conv.weight"]
    assert kernel.shape[-1] == 5
    ratio = w_scaled["blocks.1.conv.weight"] / kernel
    per_channel = ratio.flatten(1)
    assert torch.allclose(per_channel, per_channel[:, :1].expand_as(per_channel), rtol=1e-4)
    assert not torch.allclose(per_channel, torch.ones_like(per_channel))
    x = torch.randn(8, 1, 28, 28)
    net = FunctionalNetwork(space, arch)
    assert torch.allclose(net(w_scaled, x), net(w_raw, x), atol=1e-3)


def test_hypernet_without_per_architecture_outputs_computes_the_supernet(space, small_hypernet):
    # One basis, shared BatchNorm and classifier, no gains: the head only scales each kernel by a
    # per-architecture scalar, which the following BatchNorm undoes, so the emitted networks
    # must compute what the supernet's slices compute from the same shared tensors.
    reduced = replace(
        small_hypernet,
        num_bases=1,
        predict_norm=False,
        renormalize=False,
        predict_classifier=False,
        predict_gains=False,
        head_init_std=0.05,
    )
    hypernet, supernet = HyperNetwork(space, reduced), SuperNet(space)
    with torch.no_grad():
        for emitter, kernel, gamma, beta in zip(
            hypernet.slots, supernet.kernels, supernet.gammas, supernet.betas, strict=True
        ):
            emitter.bases[0].copy_(kernel)
            emitter.gamma.copy_(gamma.uniform_(0.5, 1.5))
            emitter.beta.copy_(beta.normal_())
        hypernet.stem.bases[0].copy_(supernet.stem)
        hypernet.shared_classifier.copy_(supernet.classifier)
        hypernet.shared_classifier_bias.copy_(supernet.classifier_bias.normal_())
    archs2 = [space.validate("k3w50s1,k5w75s0|k7w100s1|k3w75s0"), space.largest()]
    w_hyper = hypernet(OneHotEncoder(space).encode(archs2), archs2)
    w_super = supernet(None, archs2)
    assert not torch.allclose(
        w_hyper[0]["blocks.0.conv.weight"], w_super[0]["blocks.0.conv.weight"]
    )
    x = torch.randn(8, 1, 28, 28)
    for arch, wh, ws in zip(archs2, w_hyper, w_super, strict=True):
        net = FunctionalNetwork(space, arch)
        assert torch.allclose(net(wh, x), net(ws, x), atol=1e-4)
    head = hypernet.slots[0].head
    assert head.out_features == 1  # only the basis coefficient is left to predict


def test_zero_head_init_starts_every_architecture_from_shared_weights(space, small_hypernet):
    hypernet = HyperNetwork(space, replace(small_hypernet, head_init_std=0.0))
    archs2 = [space.validate("k3w50s0|k3w50s0|k3w50s0"), space.validate("k3w50s0|k7w100s1|k5w75s1")]
    w_a, w_b = hypernet(OneHotEncoder(space).encode(archs2), archs2)
    for name in ("stem.conv.weight", "stem.bn.weight", "blocks.0.conv.weight", "blocks.0.bn.bias"):
        assert torch.equal(w_a[name], w_b[name]), name
    # The head still learns: its gradient is the outer product of output gradient and embedding.
    loss = FunctionalNetwork(space, archs2[1])(w_b, torch.randn(4, 1, 28, 28)).logsumexp(1).sum()
    loss.backward()
    assert hypernet.slots[0].head.weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_bases": 0}, "num_bases must be at least 1, got 0"),
        ({"context_layers": -1}, "context_layers must be 0 or more, got -1"),
        ({"embed_dim": 30, "heads": 4}, "heads must divide embed_dim, got embed_dim=30, heads=4"),
        ({"head_init_std": -0.1}, "head_init_std must be 0 or more, got -0.1"),
    ],
)
def test_hypernet_config_names_the_bad_setting(change, message):
    with pytest.raises(AdwpError, match=message):
        HyperNetConfig(**change)


def test_hypernet_rejects_mismatched_batch(space, archs, small_hypernet):
    with pytest.raises(ValueError, match="encodings for"):
        HyperNetwork(space, small_hypernet)(OneHotEncoder(space).encode(archs[:2]), archs[:3])


def test_gradients_reach_every_part_of_the_hypernetwork(space, small_hypernet):
    hypernet = HyperNetwork(space, small_hypernet)
    arch = space.largest()
    encoding = OneHotEncoder(space).encode([arch])
    (weights,) = hypernet(encoding, [arch])
    assert _parameters_without_gradient(hypernet, arch, weights) == []


def test_functional_network_equals_built_module(space, archs, small_hypernet):
    torch.manual_seed(0)
    hypernet = HyperNetwork(space, small_hypernet)
    with torch.no_grad():
        weights = hypernet(OneHotEncoder(space).encode(archs), archs)
    x = torch.randn(6, 1, 28, 28)
    for arch, w in zip(archs, weights):
        module = space.build(arch)
        module.load_state_dict(w, strict=False)
        functional = FunctionalNetwork(space, arch)
        with torch.no_grad():
            torch.testing.assert_close(functional(w, x, train=True), module.train()(x))
            functional.recalibrate(w, [x[:3], x[3:]])
            # Exact BN statistics of the calibration images, for the built module too.
            for m in module.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.reset_running_stats()
                    m.momentum = None
            module.train()(x[:3])
            module(x[3:])
            torch.testing.assert_close(functional(w, x, train=False), module.eval()(x))


def test_bn_recalibration_ignores_evaluation_batching(space, small_hypernet):
    arch = space.largest()
    hypernet = HyperNetwork(space, small_hypernet)
    with torch.no_grad():
        (w,) = hypernet(OneHotEncoder(space).encode([arch]), [arch])
    net = FunctionalNetwork(space, arch)
    calib = [torch.randn(16, 1, 28, 28) for _ in range(2)]
    net.recalibrate(w, calib)
    x = torch.randn(12, 1, 28, 28)
    with torch.no_grad():
        whole = net(w, x, train=False)
        parts = torch.cat([net(w, x[:5], train=False), net(w, x[5:], train=False)])
    torch.testing.assert_close(whole, parts)


def test_resume_gives_the_same_final_weights(tmp_path, digits, digits_config):
    full = Trainer(digits_config(), data=digits).fit(tmp_path / "full.pt", quiet=True)
    # Simulate a kill after the first checkpoint: stop at 3 steps, then resume to 6.
    part = Trainer(digits_config(), data=digits)
    while part.step < 3:
        part.train_step()
    part.save(tmp_path / "part.pt")
    resumed = Trainer(digits_config(), data=digits).fit(
        tmp_path / "part.pt", resume=True, quiet=True
    )
    assert resumed.step == full.step == 6
    for (name, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_resume_refuses_a_different_configuration(tmp_path, digits, digits_config):
    Trainer(digits_config(steps=3, lr=2e-3), data=digits).fit(tmp_path / "h.pt", quiet=True)
    with pytest.raises(CheckpointError, match=r"lr=0\.002"):
        Trainer(digits_config(steps=3, lr=0.1), data=digits).fit(tmp_path / "h.pt", resume=True)


def test_training_reduces_the_loss(tmp_path, digits, digits_config):
    config = digits_config(steps=40, meta_batch=2, batch_size=64, lr=3e-3, checkpoint_every=40)
    trainer = Trainer(config, data=digits)
    losses = [trainer.train_step()["loss"] for _ in range(40)]
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 0.1


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory, digits, digits_config):
    path = tmp_path_factory.mktemp("ev") / "h.pt"
    Trainer(digits_config(steps=4), data=digits).fit(path, quiet=True)
    return Evaluator.from_checkpoint(path, config=EvaluatorConfig(calibration_batch_size=32))


def test_evaluator_scores_are_fractions_in_input_order_and_cached(evaluator):
    space = evaluator.space
    archs = space.sample_many(5, np.random.default_rng(2))
    scores = evaluator.score(archs)
    assert isinstance(evaluator, RankingBackend)
    assert scores.shape == (5,) and np.all((scores >= 0) & (scores <= 1))
    assert np.all(scores * evaluator.num_images == np.round(scores * evaluator.num_images))
    reversed_scores = evaluator.score(archs[::-1])
    np.testing.assert_array_equal(reversed_scores, scores[::-1])
    evaluator.clear_cache()
    np.testing.assert_array_equal(evaluator.score([str(a) for a in archs]), scores)
    ranked = evaluator.rank(archs, top_k=3)
    assert [s for _, s in ranked] == sorted(scores, reverse=True)[:3]


def test_evaluator_is_deterministic_across_instances(evaluator, tmp_path):
    archs = evaluator.space.sample_many(3, np.random.default_rng(4))
    fresh = Evaluator(evaluator.hypernet, evaluator.data, evaluator.config)
    np.testing.assert_array_equal(fresh.score(archs), evaluator.score(archs))


def test_evaluator_scores_layer_assignment_archs_and_rejects_outsiders(evaluator):
    sub = get_space("layer-assignment", in_channels=1, num_classes=10, image_size=8)
    archs = list(sub.enumerate())[:3]
    assert evaluator.score(archs).shape == (3,)
    with pytest.raises(ArchitectureError, match="kernel 9"):
        evaluator.score([Architecture.from_string("k9w100s1|k3w100s1|k3w100s1")])


def test_supernet_slices_shared_weights_and_scores_like_the_hypernet(
    tmp_path, digits, space, digits_config
):
    from adwp.supernet import SuperNet

    supernet = SuperNet(space)
    a = space.validate("k7w100s1|k3w50s0|k5w75s1")
    b = space.validate("k3w50s0|k3w100s1|k7w100s0")
    wa, wb = supernet(None, [a, b])
    for arch, w in ((a, wa), (b, wb)):
        FunctionalNetwork(space, arch).check(w)
    # k3 of b is the centre of the same shared 7x7 slot kernel a uses in full.
    torch.testing.assert_close(
        wb["blocks.0.conv.weight"], wa["blocks.0.conv.weight"][:8, :, 2:5, 2:5]
    )
    path = tmp_path / "s.pt"
    trainer = Trainer(digits_config(steps=3, model="supernet"), data=digits).fit(path, quiet=True)
    assert isinstance(trainer.model, SuperNet)
    evaluator = Evaluator.from_checkpoint(path)
    assert isinstance(evaluator.hypernet, SuperNet)
    scores = evaluator.score(space.sample_many(3, np.random.default_rng(0)))
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))


def test_evaluator_log_loss_metric_comes_from_the_same_pass(evaluator):
    archs = evaluator.space.sample_many(3, np.random.default_rng(6))
    accuracy = evaluator.score(archs)
    nll = evaluator.score(archs, metric="neg_log_loss")
    assert np.all(nll < 0) and np.all(np.isfinite(nll))
    np.testing.assert_array_equal(evaluator.score(archs, metric="accuracy"), accuracy)
    with pytest.raises(AdwpError, match="metric must be one of"):
        evaluator.score(archs, metric="f1")


def test_snapshots_keep_the_latest_copies_and_survive_a_resume(tmp_path, digits, digits_config):
    config = digits_config(steps=6, snapshot_every=2, snapshots=2)
    full = Trainer(config, data=digits).fit(tmp_path / "full.pt", quiet=True)
    assert [step for step, _ in full.snapshots] == [4, 6]
    final = full.model.state_dict()
    for name, tensor in full.snapshots[-1][1].items():
        assert torch.equal(tensor, compact_snapshot(final)[name]), name
    # A kill after the checkpoint at step 3 (snapshot 2 taken), resumed to the end.
    part = Trainer(config, data=digits)
    while part.step < 3:
        part.train_step()
    part.save(tmp_path / "part.pt")
    resumed = Trainer(config, data=digits).fit(tmp_path / "part.pt", resume=True, quiet=True)
    assert [step for step, _ in resumed.snapshots] == [4, 6]
    for (_, a), (_, b) in zip(full.snapshots, resumed.snapshots):
        for name in a:
            assert torch.equal(a[name], b[name]), name


def test_evaluator_averages_scores_over_snapshots(tmp_path, digits, digits_config):
    path = tmp_path / "h.pt"
    Trainer(digits_config(steps=6, snapshot_every=3), data=digits).fit(path, quiet=True)
    config = EvaluatorConfig(calibration_batch_size=32)
    ensemble = Evaluator.from_checkpoint(path, config=config)
    assert ensemble.num_snapshots == 2
    archs = ensemble.space.sample_many(4, np.random.default_rng(1))
    scores = ensemble.score(archs)
    nll = ensemble.score(archs, metric="neg_log_loss")
    # Each snapshot scored alone (the second is the final model, the first is step 3's).
    alone = [Evaluator(generator, digits, config) for generator in ensemble.generators]
    np.testing.assert_allclose(scores, np.mean([e.score(archs) for e in alone], axis=0))
    np.testing.assert_allclose(
        nll, np.mean([e.score(archs, metric="neg_log_loss") for e in alone], axis=0)
    )
    final_only = Evaluator.from_checkpoint(
        path, config=EvaluatorConfig(calibration_batch_size=32, snapshots=False)
    )
    assert final_only.num_snapshots == 1
    np.testing.assert_array_equal(final_only.score(archs), alone[1].score(archs))
    assert not np.array_equal(alone[0].score(archs), alone[1].score(archs))


def test_checkpoints_from_before_later_settings_existed_load_as_trained(
    tmp_path, digits, digits_config, small_hypernet
):
    # Written as by the first release: a predicted BatchNorm and classifier (the default then),
    # and none of the settings added since, so none of them stored.
    then = replace(small_hypernet, predict_norm=True, predict_classifier=True)
    path, old = tmp_path / "now.pt", tmp_path / "old.pt"
    Trainer(digits_config(hypernet=then), data=digits).fit(path, quiet=True)
    state = torch.load(path, map_location="cpu", weights_only=True)
    for name in ("lr_cycles", "snapshot_every", "snapshots", "model", "distill"):
        del state["train_config"][name]
    for name in ("predict_norm", "renormalize", "head_init_std", "predict_classifier"):
        del state["train_config"]["hypernet"][name]
    del state["train_config"]["hypernet"]["predict_gains"]
    del state["snapshots"]
    torch.save(state, old)

    config = EvaluatorConfig(calibration_batch_size=32)
    archs = Evaluator.from_checkpoint(path, config=config).space.sample_many(
        4, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(
        Evaluator.from_checkpoint(old, config=config).score(archs),
        Evaluator.from_checkpoint(path, config=config).score(archs),
    )
    # The same configuration resumes the old file (nothing is left to train: it is complete).
    resumed = Trainer(digits_config(hypernet=then), data=digits)
    resumed.fit(old, resume=True, quiet=True)
    assert resumed.step == 6

    state["train_config"]["hypernet"]["wings"] = 2
    torch.save(state, old)
    with pytest.raises(CheckpointError, match=r"unknown hypernetwork settings: \['wings'\]"):
        Evaluator.from_checkpoint(old)


def test_snapshot_settings_are_checked(digits_config):
    with pytest.raises(AdwpError, match="snapshot_every must be 0"):
        digits_config(snapshot_every=-1)
    with pytest.raises(AdwpError, match="snapshots must be at least 1"):
        digits_config(snapshots=0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr": -1.0}, "lr must be non-negative, got -1.0"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"lr": float("nan")}, "lr must be non-negative, got nan"),
        ({"weight_decay": -0.1}, "weight_decay must be non-negative"),
        ({"grad_clip": -1.0}, "grad_clip must be non-negative"),
        ({"max_mix": 1.5}, r"max_mix must be in \[0, 1\], got 1.5"),
        ({"hard_fraction": -0.1}, r"hard_fraction must be in \[0, 1\]"),
        ({"distill": 1.5}, r"distill must be in \[0, 1\], got 1.5"),
    ],
)
def test_optimisation_settings_are_checked(digits_config, change, message):
    with pytest.raises(AdwpError, match=message):
        digits_config(**change)


def test_inplace_distillation_teaches_the_others_with_the_largest_architecture(
    digits, digits_config
):
    # Exact one-hot encodings and no shifts, so step 0 can be replayed by hand.
    config = digits_config(
        distill=1.0, meta_batch=3, sampler="sandwich", augment=False, max_mix=0.0, hard_fraction=1.0
    )
    trainer = Trainer(config, data=digits)
    rng, gen = _step_generators(config.seed, 0)
    archs, encoding = trainer.encoder.sample(trainer.sampler.sample(3, rng), gen)
    take = torch.randperm(trainer.images.shape[0], generator=gen)[: 3 * 16].view(3, 16)
    trainer.model.train()
    with torch.no_grad():
        weights = trainer.model(encoding, archs)
    largest = max(range(3), key=lambda i: trainer.space.params(archs[i]))
    assert archs[largest] == trainer.space.largest()
    expected = 0.0
    for i, (arch, w, idx) in enumerate(zip(archs, weights, take)):
        x, y = trainer.images[idx], trainer.labels[idx]
        logits = FunctionalNetwork(trainer.space, arch)(w, x, train=True)
        if i == largest:
            expected += F.cross_entropy(logits, y).item()
        else:
            teacher = FunctionalNetwork(trainer.space, archs[largest])(
                weights[largest], x, train=True
            )
            target = F.softmax(teacher, 1)
            expected += (target * (target.log() - F.log_softmax(logits, 1))).sum(1).mean().item()
    assert trainer.train_step()["loss"] == pytest.approx(expected / 3, rel=1e-4)

    plain = Trainer(replace(config, distill=0.0), data=digits).train_step()["loss"]
    assert plain != pytest.approx(expected / 3, rel=1e-2)


def test_diverged_training_stops_before_writing_nan_weights(tmp_path, digits, digits_config):
    trainer = Trainer(digits_config(), data=digits)
    trainer.fit(tmp_path / "h.pt", quiet=True)
    first, *rest = trainer.model.parameters()
    before = [p.detach().clone() for p in rest]
    with torch.no_grad():
        first.fill_(float("inf"))
    with pytest.raises(AdwpError, match="training diverged: the loss of step 7 is nan"):
        trainer.train_step()
    # No optimiser step was taken: nothing else became NaN, and the step count stands.
    assert all(torch.equal(p, b) for p, b in zip(rest, before))
    assert trainer.step == 6


def test_evaluator_refuses_a_broken_weight_generator(tmp_path, digits, digits_config):
    path = tmp_path / "h.pt"
    Trainer(digits_config(), data=digits).fit(path, quiet=True)
    evaluator = Evaluator.from_checkpoint(path, config=EvaluatorConfig(calibration_batch_size=32))
    with torch.no_grad():
        for generator in evaluator.generators:
            for parameter in generator.parameters():
                parameter.fill_(float("nan"))
    arch = evaluator.space.largest()
    with pytest.raises(AdwpError, match="gives non-finite outputs"):
        evaluator.score([arch])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chunk": 0}, "chunk must be a positive integer, got 0"),
        ({"max_images": 0}, "max_images must be a positive integer"),
        ({"max_images": 2.5}, "max_images must be a positive integer, got 2.5"),
        ({"calibration_batches": -1}, "calibration_batches must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
    ],
)
def test_evaluator_config_names_the_bad_setting(change, message):
    with pytest.raises(AdwpError, match=message):
        EvaluatorConfig(**change)


def test_evaluator_wants_a_list_and_a_positive_top_k(tmp_path, digits, digits_config):
    path = tmp_path / "h.pt"
    Trainer(digits_config(steps=2), data=digits).fit(path, quiet=True)
    evaluator = Evaluator.from_checkpoint(path, config=EvaluatorConfig(calibration_batch_size=32))
    arch = evaluator.space.smallest()
    for lone in (arch, arch.to_string()):
        with pytest.raises(AdwpError, match="expected a list of architectures"):
            evaluator.score(lone)
    with pytest.raises(AdwpError, match="top_k must be None or a positive integer, got 0"):
        evaluator.rank([arch], top_k=0)
    assert evaluator.rank([arch.to_string()], top_k=np.int64(1))[0][0] == arch


def test_device_is_checked_when_the_trainer_is_built(digits, digits_config):
    with pytest.raises(AdwpError, match=r"unknown device 'tpu9'; use 'auto', 'cpu', 'cuda'"):
        Trainer(digits_config(), data=digits, device="tpu9")


def test_sandwich_sampler_needs_room_for_a_uniform_draw(digits_config):
    with pytest.raises(
        AdwpError,
        match=r"'sandwich' needs meta_batch >= 3 .* got meta_batch=2; sampler 'uniform' takes any",
    ):
        digits_config(sampler="sandwich", meta_batch=2)
    assert digits_config(sampler="sandwich", meta_batch=3).sampler == "sandwich"


def test_learning_rate_cycles_restart_at_equal_lengths(digits, digits_config):
    one = Trainer(digits_config(steps=30, warmup_steps=5, lr=1e-3), data=digits)
    three = Trainer(digits_config(steps=30, warmup_steps=5, lr=1e-3, lr_cycles=3), data=digits)
    # One cycle: warm-up, then a single cosine to zero, as before cycles existed.
    assert one.learning_rate(4) == pytest.approx(1e-3)
    assert one.learning_rate(5) == pytest.approx(1e-3)
    assert one.learning_rate(17.5) == pytest.approx(0.5e-3)
    # Three cycles of 10 steps: each restarts at the peak and ends near zero.
    for start in (10, 20):
        assert three.learning_rate(start) == pytest.approx(1e-3)
        assert three.learning_rate(start + 5) == pytest.approx(0.5e-3)
        assert three.learning_rate(start + 9) < 0.03e-3
    assert three.learning_rate(9) < 0.1e-3  # the first cycle is shortened by the warm-up
    with pytest.raises(AdwpError, match="lr_cycles must be at least 1"):
        digits_config(lr_cycles=0)


def test_package_exports_the_train_function_after_any_import_order():
    import adwp
    from adwp import TrainConfig, train  # TrainConfig first loads the module that defines train

    assert callable(train) and train.__name__ == "train"
    assert adwp.train is train and TrainConfig.__name__ == "TrainConfig"


def test_probabilities_that_do_not_fit_the_space_are_refused(space, archs):
    from encoders import check_probabilities, encode_probabilities, one_hot_probabilities

    good = one_hot_probabilities(space, archs)
    check_probabilities(space, good)
    other = get_space("macro", base_widths=(8, 16))  # 2 stages instead of 3
    with pytest.raises(ValueError, match=r"depth probabilities have shape .* needs \[B, 2, 4\]"):
        encode_probabilities(other, good)
    short = replace(good, kernel=good.kernel[:1])
    with pytest.raises(ValueError, match=r"kernel probabilities have shape .* the same B"):
        encode_probabilities(space, short)
    with pytest.raises(ValueError, match="width probabilities must be finite and non-negative"):
        encode_probabilities(space, replace(good, width=good.width * float("nan")))
    with pytest.raises(ValueError, match="depth probabilities must sum to 1"):
        encode_probabilities(space, replace(good, depth=good.depth * 0.5))
    with pytest.raises(ValueError, match="skip probabilities sum to more than 1"):
        StochasticEncoder(space).sample_architectures(
            replace(good, skip=good.skip * 2), torch.Generator().manual_seed(0)
        )
