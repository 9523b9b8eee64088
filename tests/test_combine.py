"""Rank combination: ``aggregate_ranks``, ``CombinedBackend`` and ``adwp rank --combine``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from adwp.baselines import CombinedBackend, ParamsBackend, ZeroCostProxy, aggregate_ranks
from adwp.cli import main
from adwp.data import DataSplits
from adwp.errors import AdwpError
from adwp.evaluator import Evaluator
from adwp.io import describe_scores
from adwp.spaces import get_space
from adwp.training import TrainConfig, train


@pytest.fixture(scope="module")
def checkpoint(
    tmp_path_factory: pytest.TempPathFactory, digits_config: Callable[..., TrainConfig]
) -> Path:
    """A hypernetwork of 2 steps on digits: its ranking is poor, but it is one."""
    out = tmp_path_factory.mktemp("combine") / "h.pt"
    train(digits_config(steps=2, checkpoint_every=2), out, quiet=True)
    return out


def test_aggregate_ranks_sums_log_rank_over_n():
    ranks = aggregate_ranks([[0.1, 0.5, 0.3], [9.0, 1.0, 5.0]])
    # ranks (1, 3, 2) and (3, 1, 2) of n = 3
    expected = [math.log(1 / 3) + 0, 0 + math.log(1 / 3), 2 * math.log(2 / 3)]
    assert ranks == pytest.approx(expected)
    # Ties share their mean rank; -inf (a proxy's "no signal") ranks last.
    tied = aggregate_ranks([[2.0, 2.0, 1.0, -math.inf]])
    assert tied == pytest.approx(np.log(np.array([3.5, 3.5, 2, 1]) / 4))
    assert aggregate_ranks([[1.0, 2.0]]).dtype == np.float64
    with pytest.raises(AdwpError, match="at least one member"):
        aggregate_ranks([])
    with pytest.raises(AdwpError, match="one non-zero length"):
        aggregate_ranks([[1.0, 2.0], [1.0]])
    with pytest.raises(AdwpError, match="NaN"):
        aggregate_ranks([[1.0, math.nan]])


def test_combined_scores_are_the_aggregate_of_the_members_scored_apart(checkpoint, digits):
    evaluator = Evaluator.from_checkpoint(checkpoint, data=digits)
    archs = evaluator.space.sample_many(10, np.random.default_rng(0))
    combined = CombinedBackend(
        evaluator, ["synflow", "naswot"], batch_size=16, seed=3, name="hypernet"
    )
    scores = combined.score(archs)
    assert list(combined.members) == ["hypernet", "synflow", "naswot"]
    # The proxies score the evaluator's kind of space at its defaults, shaped for its data.
    assert combined.proxy_space.config() == get_space("macro", image_size=8).config()
    separate = [Evaluator.from_checkpoint(checkpoint, data=digits).score(archs)]
    for name in ("synflow", "naswot"):
        proxy = ZeroCostProxy(combined.proxy_space, digits, name, batch_size=16, seed=3)
        separate.append(proxy.score([a.to_string() for a in archs]))
    assert scores == pytest.approx(aggregate_ranks(separate))
    members = combined.member_scores(archs)
    assert [members[m].tolist() for m in members] == [s.tolist() for s in separate]
    # Relative to the batch: the same architecture scores otherwise among others.
    some = combined.score(archs[:4])
    assert some == pytest.approx(aggregate_ranks([s[:4] for s in separate]))
    assert not np.allclose(some, scores[:4])
    assert combined.batch_relative is True
    with pytest.raises(AdwpError, match="score at least 2 together, got 1"):
        combined.score(archs[:1])


def test_the_nb201_proxies_score_the_published_network_whatever_the_skeleton():
    skeleton = get_space("nb201", channels=8, cells_per_stage=1)
    images = TensorDataset(torch.randn(8, 3, 32, 32), torch.arange(8) % 10)
    data = DataSplits("random", images, images, images, 3, 10, 32)
    combined = CombinedBackend(ParamsBackend(skeleton), ["synflow"], data, batch_size=4)
    assert combined.proxy_space.config() == get_space("nb201").config()
    assert combined.proxy_space.config()["channels"] == 16
    assert combined.proxy_space.config()["cells_per_stage"] == 5
    narrow = CombinedBackend(
        ParamsBackend(skeleton), ["synflow"], data, proxy_options={"cells_per_stage": 1}
    )
    assert narrow.proxy_space.config()["cells_per_stage"] == 1
    archs = skeleton.sample_many(3, np.random.default_rng(1))
    scores = narrow.score(archs)
    proxy = ZeroCostProxy(narrow.proxy_space, data, "synflow", batch_size=64)
    expected = aggregate_ranks(
        [[float(skeleton.params(a)) for a in archs], proxy.score([a.to_string() for a in archs])]
    )
    assert scores == pytest.approx(expected)


@pytest.mark.parametrize(
    ("proxies", "options", "message"),
    [
        (["synflow", "size"], {}, "unknown proxy 'size'; allowed: grad_norm, jacob_cov, naswot"),
        ([], {}, "name at least one proxy"),
        (["snip", "snip"], {}, "member 'snip' is named twice"),
        (["snip"], {"name": "snip"}, "member 'snip' is named twice"),
        (
            ["snip"],
            {"proxy_space": get_space("macro"), "proxy_options": {"depths": [1]}},
            "not both",
        ),
    ],
)
def test_bad_members_are_refused(digits, proxies, options, message):
    backend = ParamsBackend(get_space("macro", image_size=8))
    with pytest.raises(AdwpError, match=message):
        CombinedBackend(backend, proxies, digits, **options)


def test_rank_combine_writes_every_member_and_the_combination(checkpoint, tmp_path, capsys):
    out = tmp_path / "r.json"
    args = ["rank", "--checkpoint", str(checkpoint), "--sample", "8", "--quiet", "--top", "8"]
    combine = ["--combine", "synflow,jacob_cov", "--combine-batch", "16"]
    assert main([*args, *combine, "--output", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("combined: sum of log(rank / n) over hypernet (accuracy), ")
    assert "these n = 8 architectures" in printed[0]
    header = "rank combined hypernet synflow jacob_cov params MFLOPs architecture"
    assert printed[1].split() == header.split()
    data = json.loads(out.read_text())
    members = data["member_scores"]
    assert list(members) == ["hypernet", "synflow", "jacob_cov"]
    raw = [[-math.inf if v is None else v for v in members[m]] for m in members]
    assert data["scores"] == pytest.approx(aggregate_ranks(raw).tolist())
    plain = tmp_path / "plain.json"
    assert main([*args, "--output", str(plain)]) == 0
    assert members["hypernet"] == json.loads(plain.read_text())["scores"]
    combine = data["combine"]
    assert combine["members"] == list(members) and combine["proxy_batch"] == 16
    assert combine["proxy_space"]["name"] == "macro" and combine["proxy_seed"] == 0
    assert data["space"] == {"name": "macro", "options": get_space("macro", image_size=8).config()}
    # correlate labels such a file by what its scores are.
    assert describe_scores(data) == "rank combination of hypernet, synflow, jacob_cov"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--combine", "synflow,sizes"],
            "--combine: unknown proxy 'sizes'; allowed: grad_norm, "
            "jacob_cov, naswot, snip, synflow",
        ),
        (["--combine", ","], "--combine needs proxy names"),
        (["--combine", "snip,snip"], "--combine names 'snip' twice"),
        (["--combine", "snip", "--combine-batch", "0"], "--combine-batch must be at least 1"),
        (["--combine-batch", "8"], "go with --combine NAMES"),
        (["--combine", "snip", "--combine-space-option", "x"], "--combine-space-option must look"),
    ],
)
def test_rank_combine_refuses_bad_flags_in_one_line(tmp_path, capsys, flags, message):
    # The names are checked before the checkpoint is read: it need not exist.
    args = ["rank", "--checkpoint", str(tmp_path / "none.pt"), "--sample", "4", *flags]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("adwp: error: ") and message in err
