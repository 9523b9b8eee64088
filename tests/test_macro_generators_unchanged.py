"""The weight generators on the macro spaces compute what they computed before they read the
space protocol: same seeds, same encodings, weights, trained parameters and scores (bit for bit
on the machine that recorded them, to rounding elsewhere).

The generators are trained with SGD here: AdamW divides each gradient element by its own running
magnitude, so an element whose gradient is at rounding level takes a full learning-rate step of
either sign on another CPU's kernels, and three steps spread that to every later layer. Under SGD a
rounding difference in the gradient stays a rounding difference in the weights.

``tests/data/macro_generators.pt`` holds the reference values and a trained checkpoint; run
this module as a script to write them again (only when a change to these values is intended).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from adwp.evaluator import Evaluator, EvaluatorConfig
from adwp.hypernet import HyperNetConfig, HyperNetwork
from adwp.spaces import get_space
from adwp.supernet import SuperNet
from adwp.training import TrainConfig, train
from encoders import OneHotEncoder, StochasticEncoder

_DATA = Path(__file__).parent / "data"
_REFERENCE = _DATA / "macro_generators.pt"
_CHECKPOINT = _DATA / "macro_hypernet_checkpoint.pt"
_ARCHS = ("k3w50s1|k5w75s0,k7w100s1|k3w75s0", "k7w100s1|k3w50s0|k5w100s1,k3w75s0,k7w50s1")
_SMALL = HyperNetConfig(embed_dim=8, context_layers=1, heads=2, hidden=16, num_bases=2)


def _generated(model: torch.nn.Module, space: Any, archs: list[Any]) -> dict[str, torch.Tensor]:
    encoding = OneHotEncoder(space).encode(archs)
    out = {"encoding": encoding}
    with torch.no_grad():
        for b, weights in enumerate(model(encoding, archs)):
            out.update({f"{b}/{name}": w.clone() for name, w in weights.items()})
    return out


def _outputs(workdir: Path) -> dict[str, Any]:
    shape = {"in_channels": 1, "num_classes": 10, "image_size": 8}
    space = get_space("macro", **shape, base_widths=(4, 8, 8))
    archs = [space.validate(a) for a in _ARCHS] + [space.smallest(), space.largest()]
    out: dict[str, Any] = {}
    for name, config in (
        ("hypernet", _SMALL),
        (
            "hypernet_predicted",
            HyperNetConfig(
                **{**_SMALL.to_dict(), "predict_norm": True, "predict_classifier": True}
            ),
        ),
    ):
        torch.manual_seed(0)
        out[name] = _generated(HyperNetwork(space, config), space, archs)
    torch.manual_seed(0)
    out["supernet"] = _generated(SuperNet(space), space, archs)
    for space_name in ("macro", "layer-assignment"):
        other = get_space(space_name, **shape, base_widths=(4, 8, 8))
        drawn = [other.sample(__import__("numpy").random.default_rng(s)) for s in range(4)]
        ran, encoding = StochasticEncoder(other).sample(drawn, torch.Generator().manual_seed(5))
        out[f"stochastic/{space_name}"] = {
            "archs": [a.to_string() for a in ran],
            "encoding": encoding,
        }
    for model in ("hypernet", "supernet"):
        config = TrainConfig(
            dataset="digits", steps=3, meta_batch=3, sampler="sandwich", snapshot_every=0,
            batch_size=16, checkpoint_every=3, warmup_steps=1, hypernet=_SMALL, model=model,
            optimizer="sgd",
            space_options={"base_widths": (4, 8, 8)},
        )  # fmt: skip
        path = workdir / f"{model}.pt"
        trainer = train(config, path, quiet=True, device="cpu")
        out[f"trained/{model}"] = {
            k: v.detach().clone() for k, v in trainer.model.state_dict().items()
        }
        evaluator = Evaluator.from_checkpoint(
            path,
            config=EvaluatorConfig(calibration_batches=2, max_images=64, metric="neg_log_loss"),
            device="cpu",
        )
        out[f"scores/{model}"] = torch.as_tensor(evaluator.score(list(_ARCHS)))
        if model == "hypernet":
            out["checkpoint_scores"] = out[f"scores/{model}"]
            shutil.copy(path, workdir / "checkpoint.pt")
    return out


def _assert_same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, dict):
        assert list(got) == list(want), where
        for key in want:
            _assert_same(got[key], want[key], f"{where}/{key}")
    elif isinstance(want, torch.Tensor):
        # Bit-identical on the machine that recorded them; another CPU may pick other kernels
        # (another summation order), so only rounding-level differences are allowed. A change of
        # behaviour moves these values by far more.
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6, msg=where)
    else:
        assert got == want, where


def test_macro_generators_reproduce_the_recorded_values(tmp_path: Path) -> None:
    reference = torch.load(_REFERENCE, weights_only=True)
    _assert_same(_outputs(tmp_path), reference, "")


def test_a_recorded_hypernet_checkpoint_loads_and_scores_the_same() -> None:
    reference = torch.load(_REFERENCE, weights_only=True)
    evaluator = Evaluator.from_checkpoint(
        _CHECKPOINT,
        config=EvaluatorConfig(calibration_batches=2, max_images=64, metric="neg_log_loss"),
        device="cpu",
    )
    scores = torch.as_tensor(evaluator.score(list(_ARCHS)))
    torch.testing.assert_close(scores, reference["checkpoint_scores"], rtol=1e-4, atol=1e-6)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        values = _outputs(Path(tmp))
        torch.save(values, _REFERENCE)
        shutil.copy(Path(tmp) / "checkpoint.pt", _CHECKPOINT)
    print(f"wrote {_REFERENCE} and {_CHECKPOINT}", file=sys.stderr)
