"""``nbmacro-assignment``: NAS-Bench-Macro's layer assignments, and layer-assignment search on
them from a table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from adwp.backend import BackendContext, load_backend
from adwp.cli import main
from adwp.errors import ArchitectureError
from adwp.search.layer_assignment import LayerAssignmentSearch, children
from adwp.spaces import AssignmentSpace, get_space, layer_assignment_region
from adwp.testing import check_space


def test_the_region_of_nbmacro_is_its_canonical_assignments():
    full = get_space("nbmacro", stem_channels=8, channels=[8, 16, 32], head_channels=32)
    region = layer_assignment_region(full)
    assert region.name == "nbmacro-assignment" and isinstance(region, AssignmentSpace)
    assert region.network.config() == full.config()
    assert region.size() == 3 * 4 * 4
    for depths in region.assignments():
        arch = region.from_depths(depths)
        assert region.depths_of(arch) == depths
        assert full.canonical(arch) == arch  # one table row per assignment
        assert region.params(arch) == full.params(arch)
    assert str(region.from_depths((1, 2, 0))) == "20220000"
    assert region.assignments(8) == [(2, 3, 3)]
    limited = layer_assignment_region(full, 3, 5)
    assert {sum(d) for d in limited.assignments()} == {3, 4, 5}
    check_space(limited)
    check_space(get_space("nbmacro-assignment", block="mbconv_t3_k3"))


def test_bad_assignments_and_options_are_refused_in_one_line():
    region = get_space("nbmacro-assignment", min_total_depth=2)
    for bad, message in (
        ("20020000", "stage 1 is not mbconv_t6_k5 blocks"),
        ("21000000", "stage 0 is not mbconv_t6_k5 blocks"),
        ("20000000", "1 blocks, allowed 2..8"),
    ):
        with pytest.raises(ArchitectureError, match=message):
            region.validate(bad)
    with pytest.raises(ArchitectureError, match=r"block must be one of mbconv_t3_k3 \(1\)"):
        get_space("nbmacro-assignment", block="identity")
    with pytest.raises(ArchitectureError, match=r"must lie within \[0, 8\]"):
        get_space("nbmacro-assignment", max_total_depth=9)


def test_children_add_one_layer_within_each_stages_own_limit():
    assert children((2, 0, 3), ((0, 1, 2), (0, 1, 2, 3), (0, 1, 2, 3))) == [(2, 1, 3)]
    assert children((1, 4), (1, 2, 3, 4)) == [(2, 4)]


def _table(path: Path, region) -> dict[str, float]:
    # Accuracy rises with blocks, most in the last stage, with a seeded wobble.
    rng = np.random.default_rng(0)
    truth = {}
    for depths in region.assignments():
        arch = str(region.from_depths(depths))
        truth[arch] = 80 + depths[0] + 2 * depths[1] + 3 * depths[2] + rng.normal(0, 0.1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Arch", "MeanTestAccuracy"])
        writer.writerows(truth.items())
    return truth


def test_layer_assignment_search_walks_nbmacro_from_a_table(tmp_path: Path):
    region = get_space("nbmacro-assignment")
    table = tmp_path / "table.csv"
    truth = _table(table, region)
    context = BackendContext(table_key="Arch", table_metric="MeanTestAccuracy")
    backend = load_backend(f"table:{table}", context)
    scan = LayerAssignmentSearch(backend, region).architecture_dataset(2, 5)
    for level in scan.levels:
        best = max(region.assignments(level.depth), key=lambda d: truth[str(region.from_depths(d))])
        assert level.best == best
    assert [level.inherits for level in scan.levels] == [None, True, True, True]
    out = tmp_path / "search.json"
    args = ["search", "layer-assignment", "--space", "nbmacro", "--backend", f"table:{table}"]
    args += ["--key", "Arch", "--metric", "MeanTestAccuracy", "--min-depth", "2"]
    assert main([*args, "--max-depth", "5", "--output", str(out), "--quiet"]) == 0
    found = json.loads(out.read_text())
    assert found["best"]["arch"] == str(region.from_depths(scan.levels[-1].best))
