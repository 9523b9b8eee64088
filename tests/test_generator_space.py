"""The generator part of the space protocol: decision groups, encodings and weight plans."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adwp.errors import AdwpError
from adwp.functional import FunctionalNetwork
from adwp.hypernet import HyperNetConfig, HyperNetwork
from adwp.samplers import get_sampler
from adwp.spaces import GeneratorSpace, SearchSpace, get_space
from adwp.supernet import SuperNet
from encoders import OneHotEncoder, StochasticEncoder, encode_probabilities, one_hot_probabilities

SHAPE = {"in_channels": 1, "num_classes": 10, "image_size": 8}


@pytest.mark.parametrize("name", ["macro", "layer-assignment"])
def test_macro_spaces_are_generator_spaces_and_group_every_decision_once(name):
    space = get_space(name, **SHAPE)
    assert isinstance(space, GeneratorSpace)
    listed = [d for g in space.decision_groups() for d in g.decisions if d is not None]
    assert sorted(listed) == list(range(len(space.decisions())))
    for group in space.decision_groups():
        for d in group.decisions:
            expected = 1 if d is None else len(space.decisions()[d].choices)
            assert group.num_choices == expected


def test_nb201_tokens_are_its_edges_in_every_cell():
    space = get_space("nb201", **SHAPE, channels=4, cells_per_stage=2)
    assert isinstance(space, SearchSpace) and isinstance(space, GeneratorSpace)
    archs = space.sample_many(2, np.random.default_rng(0))
    encoding = OneHotEncoder(space).encode(archs)
    assert encoding.shape == (2, 6 * 6, 1 + 5)
    assert bool((encoding[..., 0] == 1).all())
    for arch, tokens in zip(archs, encoding, strict=True):
        ops = tokens[:, 1:].argmax(-1).view(6, 6)  # 6 cells x 6 edges
        assert all(space.from_genotype(row.tolist()) == arch for row in ops)


TINY = {
    "macro": {"base_widths": (4, 8, 8)},
    "layer-assignment": {"base_widths": (4, 8, 8)},
    "nb201": {"channels": 4, "cells_per_stage": 1},
}


@pytest.mark.parametrize("name", list(TINY))
def test_the_weight_plan_names_every_parameter_with_its_exact_shape(name):
    space = get_space(name, **SHAPE, **TINY[name])
    slots = {slot.name: slot for slot in space.weight_slots()}
    for arch in [*space.sample_many(5, np.random.default_rng(0)), space.largest()]:
        plan = space.weight_plan(arch)
        built = {n: tuple(p.shape) for n, p in space.build(arch).named_parameters()}
        assert {n: cut.shape for n, cut in plan.items()} == built
        for cut in plan.values():
            largest = slots[cut.slot].shape
            if cut.part in ("gamma", "beta", "bias"):
                largest = largest[:1]
            assert len(cut.shape) == len(largest)
            assert all(n <= m for n, m in zip(cut.shape, largest, strict=True))


def test_the_encoding_is_one_token_per_slot_and_follows_the_genotype():
    space = get_space("macro", **SHAPE)
    archs = space.sample_many(3, np.random.default_rng(1))
    encoding = OneHotEncoder(space).encode(archs)
    assert encoding.shape == (3, space.num_tokens(), space.token_features())
    probs = one_hot_probabilities(space, archs)
    # A plain sequence of group tensors encodes like the named macro container.
    torch.testing.assert_close(encode_probabilities(space, list(probs)), encoding)
    for arch, tokens in zip(archs, encoding, strict=True):
        assert tokens[:, 0].sum() == sum(len(stage) for stage in arch.stages)


def test_the_stochastic_encoder_only_proposes_architectures_of_the_space():
    space = get_space("layer-assignment", **SHAPE)
    encoder = StochasticEncoder(space, max_mix=1.0, hard_fraction=0.0)
    archs, _ = encoder.sample(space.sample_many(8, np.random.default_rng(0)), torch.Generator())
    assert all(space.contains(a) for a in archs)


def test_the_inherited_sampler_refuses_a_space_that_is_not_macro():
    with pytest.raises(AdwpError, match="inherited sampler needs a macro space"):
        get_sampler("inherited:3-7", get_space("nb201", **SHAPE))


@pytest.mark.parametrize("model", [HyperNetwork, SuperNet])
def test_a_generator_on_a_tiny_nb201_learns_a_batch(model):
    torch.manual_seed(0)
    space = get_space("nb201", **SHAPE, **TINY["nb201"])
    config = HyperNetConfig(embed_dim=8, context_layers=1, heads=2, hidden=16, num_bases=2)
    generator = model(space, config)
    encoder = StochasticEncoder(space)
    optimizer = torch.optim.Adam(generator.parameters(), lr=3e-3)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    gen, rng = torch.Generator().manual_seed(0), np.random.default_rng(0)
    losses = []
    for _ in range(10):
        archs, encoding = encoder.sample(space.sample_many(2, rng), gen)
        loss = sum(
            torch.nn.functional.cross_entropy(FunctionalNetwork(space, arch)(weights, x), y)
            for arch, weights in zip(archs, generator(encoding, archs), strict=True)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.1
