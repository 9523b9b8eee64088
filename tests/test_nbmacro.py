"""The ``nbmacro`` space: NAS-Bench-Macro's network, its table's numbers and its weights.

``tests/data/nbmacro_rows.csv`` holds 32 rows of NAS-Bench-Macro's CIFAR-10 table (Su et al.,
CVPR 2021; Apache License 2.0, copyright 2021 Xiu Su). The whole table is checked too when
``../shared/data/nasbench-macro`` is beside the checkout.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from adwp.errors import AdwpError, ArchitectureError
from adwp.functional import FunctionalNetwork
from adwp.hypernet import HyperNetwork
from adwp.spaces import get_space, list_spaces
from adwp.spaces.nbmacro import NBMacroArchitecture, NBMacroSpace
from adwp.supernet import SuperNet
from adwp.testing import check_space
from encoders import OneHotEncoder

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "data" / "nbmacro_rows.csv"
WHOLE_TABLE = HERE.parents[1] / "shared" / "data" / "nasbench-macro" / "nasbench_macro_cifar10.csv"
# A skeleton narrow enough for tests that run networks.
NARROW = {"stem_channels": 4, "channels": [8, 8, 16], "head_channels": 16}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def space() -> NBMacroSpace:
    return get_space("nbmacro")


def _check_rows(space: NBMacroSpace, rows: list[dict[str, str]]) -> None:
    for row in rows:
        arch = space.validate(row["Arch"])
        assert space.params(arch) == int(row["Params"]), row["Arch"]
        assert space.flops(arch) == int(row["FLOPs"]), row["Arch"]
        assert space.canonical(arch).to_string() == row["CanonicalArch"], row["Arch"]


def test_params_flops_and_canonical_form_equal_the_tables_rows(space):
    rows = _rows(FIXTURE)
    assert len(rows) == 32
    _check_rows(space, rows)


@pytest.mark.skipif(not WHOLE_TABLE.exists(), reason="NAS-Bench-Macro's table is not beside us")
def test_params_flops_and_canonical_form_equal_every_row_of_the_whole_table(space):
    rows = _rows(WHOLE_TABLE)
    assert len(rows) == space.size() == 6561
    _check_rows(space, rows)
    assert len({row["CanonicalArch"] for row in rows}) == len(space.distinct())


def test_the_built_network_has_the_counted_parameters_and_depthwise_kernels(space):
    for text in ("00000000", "22212220", "22222222"):
        net = space.build(text)
        assert sum(p.numel() for p in net.parameters()) == space.params(text)
    net = space.build("12000000")
    assert net.layers[0].depthwise.conv.groups == 32 * 3
    assert net.layers[0].depthwise.conv.weight.shape == (96, 1, 3, 3)
    assert net.layers[1].depthwise.conv.weight.shape == (64 * 6, 1, 5, 5)
    assert type(net.layers[2]).__name__ == "ProjectingIdentity"  # stride 2, 64 -> 128
    assert isinstance(net.layers[3], torch.nn.Identity)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_equivalent_strings_share_a_canonical_form_and_there_are_3969(space):
    # Stages are layers 0-1, 2-4 and 5-7.
    assert space.canonical("20202020").to_string() == "20220020"
    assert space.canonical("02020202").to_string() == "02020220"
    # A stage's first layer never moves: its identity is a strided projection.
    assert space.canonical("02000000").to_string() == "02000000"
    assert space.isomorphism_key("00102000") == "00120000"
    distinct = space.distinct()
    assert len(distinct) == 3969 and len(set(distinct)) == 3969
    assert all(space.canonical(a) == a for a in distinct)
    assert space.params("20202020") == space.params("20220020")


def test_sampling_is_seeded_canonical_and_uniform_over_distinct_networks(space):
    first = space.sample_many(50, np.random.default_rng(3))
    assert first == space.sample_many(50, np.random.default_rng(3))
    assert len(set(first)) == 50
    rng = np.random.default_rng(0)
    draws = [space.sample(rng) for _ in range(20_000)]
    assert all(space.canonical(a) == a for a in draws)
    # Uniform over the 3,969 networks: stage 1's tails (the canonical 2-layer tails of stages
    # 2 and 3) come up in proportion to how many networks hold them, 1/7 each.
    tails = Counter(a.to_string()[3:5] for a in draws)
    assert sorted(tails) == ["00", "10", "11", "12", "20", "21", "22"]
    assert all(abs(n / len(draws) - 1 / 7) < 0.02 for n in tails.values())
    with pytest.raises(ArchitectureError, match="cannot draw 3970 distinct"):
        space.sample_many(3970, np.random.default_rng(0))


def test_strings_round_trip_and_bad_strings_name_what_is_allowed(space):
    arch = space.validate("01200000")
    assert arch.to_string() == "01200000"  # the leading zero stays
    assert space.from_genotype(space.genotype(arch)) == arch
    assert NBMacroArchitecture.from_json(arch.to_json()) == arch
    assert space.choices()["layer1"] == ["identity", "mbconv_t3_k3", "mbconv_t6_k5"]
    for bad in ("0120000", "01200003", "0120000x", ""):
        with pytest.raises(ArchitectureError, match="8 digits of 0, 1, 2"):
            space.validate(bad)
    with pytest.raises(ArchitectureError, match=r"layer 2: code 5 not in 0\.\.2"):
        space.from_genotype([0, 0, 5, 0, 0, 0, 0, 0])
    with pytest.raises(AdwpError, match="not of this nbmacro space"):
        space.validate("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")


def test_registered_with_skeleton_options_and_conforms_to_the_space_contract():
    assert "nbmacro" in list_spaces()
    narrow = get_space("nbmacro", image_size=16, **NARROW)
    assert narrow.config()["channels"] == [8, 8, 16]
    assert narrow.largest().to_string() == "22222222"
    assert narrow.params("22222222") == sum(
        p.numel() for p in narrow.build("22222222").parameters()
    )
    check_space(narrow)
    with pytest.raises(ArchitectureError, match="channels must be a list of 3 stage widths"):
        get_space("nbmacro", channels=[8, 16])
    with pytest.raises(ArchitectureError, match="image_size must be a multiple of 8"):
        get_space("nbmacro", image_size=20)


@pytest.mark.parametrize("model", [HyperNetwork, SuperNet])
def test_generators_emit_every_block_in_its_exact_shape(model, small_hypernet):
    torch.manual_seed(0)
    space = get_space("nbmacro", image_size=16, **NARROW)
    archs = [space.smallest(), space.largest(), space.validate("10211201")]
    generator = model(space, small_hypernet)
    weights = generator(OneHotEncoder(space).encode(archs), archs)
    x = torch.randn(4, 3, 16, 16)
    for arch, w in zip(archs, weights, strict=True):
        FunctionalNetwork(space, arch).check(w)
        module = space.build(arch)
        module.load_state_dict({n: t.detach() for n, t in w.items()}, strict=False)
        with torch.no_grad():
            torch.testing.assert_close(
                FunctionalNetwork(space, arch)(w, x, train=True), module.train()(x)
            )
    largest = dict(zip(archs, weights, strict=True))[space.largest()]
    assert largest["layers.7.depthwise.conv.weight"].shape == (16 * 6, 1, 5, 5)
    assert largest["layers.2.expand.conv.weight"].shape == (8 * 6, 8, 1, 1)
    smallest = dict(zip(archs, weights, strict=True))[space.smallest()]
    assert smallest["layers.5.conv.weight"].shape == (16, 8, 1, 1)  # strided identity
    assert "layers.6.conv.weight" not in smallest  # a plain identity has no weights


def test_gradients_reach_the_hypernetwork_through_every_block(small_hypernet):
    space = get_space("nbmacro", image_size=16, **NARROW)
    hypernet = HyperNetwork(space, small_hypernet)
    arch = space.validate("21212121")
    (weights,) = hypernet(OneHotEncoder(space).encode([arch]), [arch])
    logits = FunctionalNetwork(space, arch)(weights, torch.randn(4, 3, 16, 16))
    torch.nn.functional.cross_entropy(logits, torch.randint(0, 10, (4,))).backward()
    # Slots that read a token are the hypernetwork's ``slots.{i}``, in weight_slots order.
    tokened = [slot.name for slot in space.weight_slots() if slot.token is not None]
    index = {name: i for i, name in enumerate(tokened)}
    used = {cut.slot for cut in space.weight_plan(arch).values()} & set(tokened)
    assert "layer7_depthwise" in used and "layer2_identity" not in used
    for slot in used:
        bases = dict(hypernet.named_parameters())[f"slots.{index[slot]}.bases"]
        assert bases.grad is not None and bases.grad.abs().sum() > 0, slot
