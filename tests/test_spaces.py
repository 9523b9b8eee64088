"""Search spaces: architecture forms, validation, counting, params/FLOPs against real modules."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from adwp.errors import AdwpError, ArchitectureError
from adwp.spaces import (
    Architecture,
    Layer,
    LayerAssignmentSpace,
    get_space,
    list_spaces,
    space_options,
)


@pytest.fixture(scope="module")
def macro():
    return get_space("macro")


def test_registry_lists_builtin_spaces_and_rejects_unknown():
    assert {"macro", "layer-assignment"} <= set(list_spaces())
    with pytest.raises(AdwpError, match=r"unknown search space 'nope'.*macro"):
        get_space("nope")
    listed = "in_channels, num_classes, image_size, base_widths, depths, kernels, widths, skips$"
    with pytest.raises(AdwpError, match=f"search space 'macro' has no option 'colour'; .*{listed}"):
        get_space("macro", colour="red")
    assert space_options("nb201") == {
        "in_channels": 3, "num_classes": 10, "image_size": 32, "channels": 16, "cells_per_stage": 5
    }  # fmt: skip


def test_string_and_json_round_trip(macro):
    rng = np.random.default_rng(0)
    for arch in [*macro.sample_many(50, rng), macro.largest(), macro.smallest()]:
        text = arch.to_string()
        assert Architecture.from_string(text) == arch
        assert Architecture.from_json(arch.to_json()) == arch
        assert Architecture.from_dict(json.loads(json.dumps(arch.to_dict()))) == arch
        assert hash(Architecture.from_string(text)) == hash(arch)


def test_architecture_is_immutable_and_canonical():
    arch = Architecture.from_string("k3w100s1,k5w50s0|k3w75s1|k7w100s0")
    assert arch.to_string() == "k3w100s1,k5w50s0|k3w75s1|k7w100s0"
    assert arch.depths == (2, 1, 1)
    assert arch.stages[0][1] == Layer(5, 0.5, False)
    with pytest.raises(AttributeError):
        arch.stages = ()  # type: ignore[misc]
    assert len({arch, Architecture.from_string(str(arch))}) == 1


@pytest.mark.parametrize(
    "text",
    ["", "k3w100s1||k3w100s1", "k3w100s2|k3w100s1|k3w100s1", "conv3|k3w100s1|k3w100s1", "k3w1.0s1"],
)
def test_malformed_strings_raise(text):
    with pytest.raises(ArchitectureError):
        Architecture.from_string(text)


def test_malformed_json_raises():
    with pytest.raises(ArchitectureError, match="not valid JSON"):
        Architecture.from_json("{")
    with pytest.raises(ArchitectureError, match="kernel, width, skip"):
        Architecture.from_dict({"stages": [[{"kernel": 3}]]})
    with pytest.raises(ArchitectureError, match="kernel must be int"):
        Architecture.from_dict({"stages": [[{"kernel": "3", "width": 1.0, "skip": True}]]})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("k9w100s1|k3w100s1|k3w100s1", r"stage 0 layer 0: kernel 9 not in allowed \(3, 5, 7\)"),
        (
            "k3w100s1|k3w25s1|k3w100s1",
            r"stage 1 layer 0: width 0.25 not in allowed \(0.5, 0.75, 1.0\)",
        ),
        ("k3w100s1|k3w100s1", r"stages: got 2, the space has exactly 3"),
        (
            "k3w100s1|k3w100s1|k3w100s1,k3w100s1,k3w100s1,k3w100s1,k3w100s1",
            r"stage 2 depth: got 5, allowed \[1, 2, 3, 4\]",
        ),
    ],
)
def test_validate_names_field_and_allowed_values(macro, text, message):
    with pytest.raises(ArchitectureError, match=message):
        macro.validate(text)
    assert not macro.contains(text)


def test_layer_assignment_validate_messages():
    space = get_space("layer-assignment", min_total_depth=4, max_total_depth=6)
    with pytest.raises(ArchitectureError, match="kernel 5 not in allowed"):
        space.validate("k5w100s1|k3w100s1|k3w100s1,k3w100s1")
    with pytest.raises(ArchitectureError, match=r"total depth: got 3, allowed 4..6"):
        space.validate("k3w100s1|k3w100s1|k3w100s1")
    with pytest.raises(ArchitectureError, match="must lie within"):
        get_space("layer-assignment", min_total_depth=1)


def test_macro_size_is_exact(macro):
    per_stage = 18 + 18**2 + 18**3 + 18**4
    assert macro.size() == per_stage**3
    small = get_space("macro", depths=(1,), kernels=(3,), widths=(0.5, 1.0))
    archs = list(small.enumerate())
    assert len(archs) == small.size() == 4**3
    assert len(set(archs)) == len(archs)
    with pytest.raises(ArchitectureError, match="use sample"):
        next(macro.enumerate())


def test_layer_assignment_is_a_sub_space_of_macro(macro):
    space = LayerAssignmentSpace(min_total_depth=3, max_total_depth=7)
    archs = list(space.enumerate())
    assert len(archs) == space.size() == len(space.assignments())
    # Assignments of (1..4)^3 with total 3..7: 1 + 3 + 6 + 10 + 12.
    assert space.size() == 32
    assert all(macro.contains(a) for a in archs)
    assert space.from_depths((1, 2, 1)).depths == (1, 2, 1)
    assert len(space.assignments(total_depth=4)) == 3


def test_sampling_is_seeded_and_valid(macro):
    first = macro.sample_many(20, np.random.default_rng(7))
    again = macro.sample_many(20, np.random.default_rng(7))
    other = macro.sample_many(20, np.random.default_rng(8))
    assert first == again != other
    assert all(macro.contains(a) for a in first)
    assert len(set(first)) == 20


def _module_macs(module: nn.Module, x: torch.Tensor) -> int:
    total = 0

    def conv_hook(m: nn.Conv2d, _inp, out):
        nonlocal total
        total += out[0].numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m: nn.Linear, _inp, _out):
        nonlocal total
        total += m.in_features * m.out_features

    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(linear_hook)
    module(x)
    return total


@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 32), (1, 8)])
def test_params_and_flops_match_a_real_module(channels, size):
    space = get_space("macro", in_channels=channels, num_classes=7, image_size=size)
    archs = [space.largest(), space.smallest(), *space.sample_many(6, np.random.default_rng(1))]
    for arch in archs:
        net = space.build(arch).eval()
        assert space.params(arch) == sum(p.numel() for p in net.parameters())
        with torch.no_grad():
            x = torch.randn(1, channels, size, size)
            assert space.flops(arch) == _module_macs(net, x)
            assert net(x).shape == (1, 7)


def test_build_uses_stride_two_at_stage_starts(macro):
    arch = macro.validate("k3w50s1,k3w100s0|k5w75s1|k7w100s1,k3w50s1")
    plans = macro.plan(arch)
    assert [p.stride for p in plans] == [1, 1, 2, 2, 1]
    assert [p.out_ch for p in plans] == [8, 16, 24, 64, 32]
    assert [p.slot for p in plans] == [0, 1, 4, 8, 9]
    out = macro.build(arch)(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 10)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((3.0, 1.0, True), "kernel must be an int, got 3.0"),
        (("3", 1.0, True), "kernel must be an int, got '3'"),
        ((3, "1.0", True), "width must be a number, got '1.0'"),
        ((3, 1.0, 2), "skip must be a bool, got 2"),
    ],
)
def test_layer_fields_of_the_wrong_type_are_refused(fields, message):
    with pytest.raises(ArchitectureError, match=message):
        Layer(*fields)


def test_layer_from_numpy_choices_is_the_same_layer():
    layer = Layer(np.int64(5), np.float64(0.75), np.True_)
    assert layer == Layer(5, 0.75, True) and hash(layer) == hash(Layer(5, 0.75, True))
    assert type(layer.kernel) is int and type(layer.skip) is bool
    assert layer.to_string() == "k5w75s1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_widths": "16"}, "base_widths must be a non-empty list, got '16'"),
        ({"kernels": []}, "kernels must be a non-empty list"),
        ({"depths": [1, 1, 2]}, r"depths lists a choice twice: \[1, 1, 2\]"),
        ({"depths": [1.5, 2]}, "depths must be positive integers"),
        ({"kernels": [3.5]}, "kernels must be positive integers"),
        ({"widths": [0]}, "widths must be positive multipliers"),
        ({"num_classes": 0}, "num_classes must be a positive integer, got 0"),
    ],
)
def test_space_options_are_checked(options, message):
    with pytest.raises(ArchitectureError, match=message):
        get_space("macro", **options)


def test_width_multipliers_above_one_are_allowed():
    space = get_space("macro", widths=(0.5, 1.25))
    assert space.channels(0, 1.25) == 20  # 16 x 1.25
    assert space.validate(space.largest()) == space.largest()


def test_a_macro_space_limits_its_layer_assignment_region():
    from adwp.spaces import DepthLimitedSpace, get_space, layer_assignment_region

    macro = get_space("macro", base_widths=[4, 8, 16])
    region = layer_assignment_region(macro, 4, 6)
    assert (region.min_total_depth, region.max_total_depth) == (4, 6)
    assert list(region.base_widths) == [4, 8, 16]
    assert isinstance(region, DepthLimitedSpace)
    assert not isinstance(macro, DepthLimitedSpace)
    assert not isinstance(get_space("nb201"), DepthLimitedSpace)
    assert layer_assignment_region(region) is region
    wider = region.with_total_depth(None, 7)
    assert (wider.min_total_depth, wider.max_total_depth) == (4, 7)
    assert all(4 <= sum(a.depths) <= 7 for a in wider.sample_many(20, np.random.default_rng(0)))
    with pytest.raises(ArchitectureError, match=r"'nb201' has no layer-assignment region.*macro"):
        layer_assignment_region(get_space("nb201"))
    with pytest.raises(ArchitectureError, match="total depth range"):
        region.with_total_depth(1, 99)
