"""The ``nb201`` space: NAS-Bench-201 strings, enumeration, genotypes, validation, and params/FLOPs
against the built network and NAS-Bench-201's published numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from adwp.errors import AdwpError, ArchitectureError
from adwp.spaces import CellArchitecture, NB201Space, get_space, list_spaces
from adwp.spaces.nb201 import EDGES, OPERATIONS

# Published by NAS-Bench-201 at 0.858M parameters and 121.82 MFLOPs on CIFAR-10 (C=16, N=5).
PUBLISHED_ARCH = (
    "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|"
    "+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|"
)
EXAMPLE = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|"


@pytest.fixture(scope="module")
def space() -> NB201Space:
    return get_space("nb201")


@pytest.fixture(scope="module")
def every(space: NB201Space) -> list[CellArchitecture]:
    return list(space.enumerate())


def _hook_macs(model: nn.Module, image_size: int, in_channels: int = 3) -> int:
    """Multiply-accumulates of every conv and linear layer, counted by forward hooks as
    NAS-Bench-201 counts them (the linear layer's bias adds one per output)."""
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        per_pixel = kh * kw * module.in_channels * module.out_channels // module.groups
        total += per_pixel * output.shape[2] * output.shape[3]

    def linear_hook(module: nn.Linear, _inputs: tuple, _output: torch.Tensor) -> None:
        nonlocal total
        total += module.in_features * module.out_features + module.out_features

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(conv_hook)
        elif isinstance(module, nn.Linear):
            module.register_forward_hook(linear_hook)
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, in_channels, image_size, image_size))
    return total


def test_registered_and_options(space: NB201Space) -> None:
    assert "nb201" in list_spaces()
    assert isinstance(space, NB201Space)
    assert space.config() == {
        "in_channels": 3,
        "num_classes": 10,
        "image_size": 32,
        "channels": 16,
        "cells_per_stage": 5,
    }
    assert NB201Space(**space.config()).config() == space.config()
    choices = space.choices()
    assert list(choices) == ["0->1", "0->2", "1->2", "0->3", "1->3", "2->3"]
    assert all(ops == list(OPERATIONS) for ops in choices.values())
    with pytest.raises(AdwpError, match="image_size must be a multiple of 4"):
        get_space("nb201", image_size=30)
    with pytest.raises(AdwpError, match="channels must be a positive integer"):
        get_space("nb201", channels=0)


def test_canonical_string_is_nb201s(space: NB201Space) -> None:
    arch = space.validate(EXAMPLE)
    assert arch.ops == (
        "nor_conv_3x3",
        "none",
        "skip_connect",
        "skip_connect",
        "nor_conv_1x1",
        "avg_pool_3x3",
    )
    assert arch.to_string() == EXAMPLE == str(arch)
    assert CellArchitecture.from_dict(json.loads(json.dumps(arch.to_dict()))) == arch
    assert CellArchitecture.from_json(arch.to_json()) == arch
    with pytest.raises(AttributeError):
        arch.ops = ()  # type: ignore[misc]


def test_enumerate_all_distinct_and_strings_round_trip(
    space: NB201Space, every: list[CellArchitecture]
) -> None:
    assert space.size() == 15_625 == len(every) == len(set(every))
    strings = [arch.to_string() for arch in every]
    assert len(set(strings)) == 15_625
    assert all(CellArchitecture.from_string(text) == arch for text, arch in zip(strings, every))
    assert every == list(space.enumerate())  # fixed order
    assert every[0] == space.smallest()


def test_genotype_round_trip(space: NB201Space, every: list[CellArchitecture]) -> None:
    genotypes = [space.genotype(arch) for arch in every]
    assert len(set(genotypes)) == 15_625
    assert all(space.from_genotype(g) == arch for g, arch in zip(genotypes, every))
    assert space.genotype(EXAMPLE) == (3, 0, 1, 1, 2, 4)
    with pytest.raises(ArchitectureError, match=r"edge 1->2: code 5 not in 0\.\.4"):
        space.from_genotype([0, 0, 5, 0, 0, 0])
    with pytest.raises(ArchitectureError, match="genotype has 5 codes"):
        space.from_genotype([0] * 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (EXAMPLE.replace("avg_pool_3x3~2", "max_pool_3x3~2"), r"edge 2->3: op 'max_pool_3x3'.*"),
        ("|nor_conv_3x3~0|+|none~0|skip_connect~1|", "2 '\\+'-separated nodes, expected 3"),
        (EXAMPLE.replace("skip_connect~1", "skip_connect~0"), "node 2 edge token.*'<op>~1'"),
        (EXAMPLE.replace("|+|none~0|", "+none~0|"), "node 1 part.*'\\|'-delimited"),
        (
            EXAMPLE.replace("|none~0|skip_connect~1|", "|none~0|"),
            "node 2 part.*1 edges, expected 2",
        ),
        ("", "empty"),
    ],
)
def test_validate_names_the_bad_part(space: NB201Space, text: str, message: str) -> None:
    with pytest.raises(ArchitectureError, match=message) as caught:
        space.validate(text)
    assert "\n" not in str(caught.value)
    assert not space.contains(text)


def test_bad_values_raise_naming_the_edge_and_allowed_ops(space: NB201Space) -> None:
    with pytest.raises(ArchitectureError, match=r"edge 0->3: op 'conv'.*allowed ops none, skip"):
        CellArchitecture(("none", "none", "none", "conv", "none", "none"))
    with pytest.raises(ArchitectureError, match="5 edges, expected exactly 6"):
        CellArchitecture(("none",) * 5)
    with pytest.raises(ArchitectureError, match="expected a CellArchitecture"):
        space.validate(42)  # type: ignore[arg-type]
    with pytest.raises(ArchitectureError, match="must be an object"):
        CellArchitecture.from_dict({"stages": []})
    assert space.contains(EXAMPLE) and space.contains(space.largest())


def test_sampling_is_seeded_and_unique(space: NB201Space) -> None:
    first = space.sample_many(200, np.random.default_rng(3))
    assert first == space.sample_many(200, np.random.default_rng(3))
    assert len(set(first)) == 200
    assert all(space.contains(arch) for arch in first)
    with pytest.raises(ArchitectureError, match="cannot draw"):
        space.sample_many(15_626, np.random.default_rng(0))


@pytest.mark.parametrize(
    "text",
    [
        PUBLISHED_ARCH,
        EXAMPLE,
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        "nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
        "skip_connect~2|",
    ],
)
def test_params_and_flops_match_the_built_network(space: NB201Space, text: str) -> None:
    model = space.build(text)
    assert space.params(text) == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert space.flops(text) == _hook_macs(model, space.image_size)


def test_published_numbers(space: NB201Space, every: list[CellArchitecture]) -> None:
    assert round(space.params(PUBLISHED_ARCH) / 1e6, 3) == 0.858
    assert round(space.flops(PUBLISHED_ARCH) / 1e6, 2) == 121.82
    params = [space.params(arch) for arch in every]
    flops = [space.flops(arch) for arch in every]
    assert (round(min(params) / 1e6, 3), round(max(params) / 1e6, 3)) == (0.073, 1.532)
    assert (round(min(flops) / 1e6, 2), round(max(flops) / 1e6, 2)) == (7.78, 220.12)
    assert space.params(space.smallest()) == min(params)
    assert space.params(space.largest()) == max(params)
    assert space.flops(space.largest()) == max(flops)


def test_small_network_forward_and_options() -> None:
    small = NB201Space(channels=8, cells_per_stage=1, num_classes=7, image_size=16)
    arch = small.validate(EXAMPLE)
    model = small.build(arch)
    assert model(torch.randn(3, 3, 16, 16)).shape == (3, 7)
    assert small.params(arch) == sum(p.numel() for p in model.parameters())
    assert small.flops(arch) == _hook_macs(model, 16)
    assert len(model.cells) == 3 * 1 + 2
    default = NB201Space()
    assert small.params(PUBLISHED_ARCH) < default.params(PUBLISHED_ARCH)
    assert NB201Space(cells_per_stage=2).params(PUBLISHED_ARCH) < default.params(PUBLISHED_ARCH)
    assert small.validate(PUBLISHED_ARCH).to_string() == PUBLISHED_ARCH
    assert small.validate(EXAMPLE) == default.validate(EXAMPLE)


def test_none_edges_contribute_zeros() -> None:
    from adwp.spaces._nb201_network import NB201Cell

    torch.manual_seed(0)
    ops = ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "none", "none")
    cell = NB201Cell(ops, 4).eval()
    x = torch.randn(2, 4, 8, 8)
    # Node 3 sees only the 0->3 edge; nodes 1 and 2 are computed but reach it through `none`.
    assert torch.equal(cell(x), cell.edges[3](x))
    all_none = NB201Cell(("none",) * len(EDGES), 4)
    assert torch.equal(all_none(x), torch.zeros_like(x))
    pooled = NB201Cell(("none", "none", "none", "avg_pool_3x3", "none", "none"), 4)
    assert not torch.equal(pooled(x), torch.zeros_like(x))


@pytest.mark.parametrize("name", ["grad_norm", "naswot", "snip", "synflow"])
def test_every_zero_cost_proxy_scores_nb201(name: str, digits) -> None:
    from adwp.baselines import ZeroCostProxy

    space = get_space("nb201", in_channels=1, num_classes=10, image_size=8, channels=4,
                      cells_per_stage=1)  # fmt: skip
    archs = space.sample_many(4, np.random.default_rng(0))
    scores = ZeroCostProxy(space, digits, name, batch_size=16, seed=0).score(archs)
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    again = ZeroCostProxy(space, digits, name, batch_size=16, seed=0).score(archs[::-1])
    np.testing.assert_array_equal(again[::-1], scores)


def test_naswot_reads_every_relu_of_the_cell_network() -> None:
    space = get_space("nb201", channels=4, cells_per_stage=1)
    net = space.build(space.largest())
    # 6 edges per cell x 3 cells, 2 per reduction block x 2, and the head's.
    assert len(net.relu_code_sites()) == 6 * 3 + 2 * 2 + 1


def test_space_options_of_a_training_run_are_checked_and_normalised() -> None:
    from adwp.training import TrainConfig

    config = TrainConfig(space="nb201", space_options={"channels": 8, "cells_per_stage": 5})
    # Only what differs from the space's defaults is kept, so equal spaces compare equal.
    assert config.space_options == {"channels": 8}
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(AdwpError, match=r"search space 'nb201' has no option 'base_widths'; its "
                       r"options: channels, cells_per_stage$"):  # fmt: skip
        TrainConfig(space="nb201", space_options={"base_widths": [8, 16, 32]})
    with pytest.raises(AdwpError, match="'image_size' is set by the data set"):
        TrainConfig(space="nb201", space_options={"image_size": 16})


def test_checkpoints_from_before_space_options_read_base_widths() -> None:
    from adwp.training import TrainConfig

    old = {k: v for k, v in TrainConfig().to_dict().items() if k != "space_options"}
    assert TrainConfig.from_dict({**old, "base_widths": [16, 32, 64]}) == TrainConfig()
    narrow = TrainConfig.from_dict({**old, "base_widths": [4, 8, 8]})
    assert narrow.space_options == {"base_widths": [4, 8, 8]}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("channels", "--space-option must look like NAME=VALUE (e.g. channels=8), got 'channels'"),
        ("image_size=16", "--space-option image_size: set by the data set"),
        ("chanels=8", "search space 'nb201' has no option 'chanels'; its options: in_channels"),
        ("channels=0", "channels must be a positive integer, got 0"),
    ],
)
def test_cli_space_options_are_one_line_errors(
    option: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from adwp.cli import main

    assert main(["space", "--space", "nb201", "--space-option", option]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_cli_space_describes_the_sized_skeleton(capsys: pytest.CaptureFixture[str]) -> None:
    from adwp.cli import main

    args = ["space", "--space", "nb201", "--json", "--space-option", "cells_per_stage=1"]
    assert main([*args, "--space-option", "channels=8"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["options"]["channels"] == 8 and info["options"]["cells_per_stage"] == 1
    small = get_space("nb201", channels=8, cells_per_stage=1)
    assert info["example_params"] == small.params(info["example"]) and info["size"] == 15625


# Rows of NATS-Bench's topology table: ArchitectureString -> UniqueString.
UNIQUE_STRINGS = {
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
    "skip_connect~2|": "(0)@avg_pool_3x3+(0)@avg_pool_3x3+(0)@nor_conv_1x1+(0)@nor_conv_1x1",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "skip_connect~2|": "((0)@nor_conv_3x3)@avg_pool_3x3+(0)@nor_conv_3x3+"
    "((0)@nor_conv_3x3)@nor_conv_3x3+0",
    # A node of only zero inputs is "#+#", not "#": NB201 keys it as a computation of its own.
    "|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|": "#+#+(#+#)@nor_conv_3x3",
}


def test_isomorphism_key_is_nb201s_unique_string() -> None:
    space = get_space("nb201")
    for arch, key in UNIQUE_STRINGS.items():
        assert space.isomorphism_key(arch) == key
    # NAS-Bench-201's 15,625 cells are 6,466 distinct computations.
    assert len({space.isomorphism_key(a) for a in space.enumerate()}) == 6466
