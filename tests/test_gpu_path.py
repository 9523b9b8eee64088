"""The GPU path of training and scoring: channels-last images, ``torch.compile``, CUDA with bf16.

The CUDA tests skip without a GPU; the CPU tests check that the options change speed, not
results.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from adwp.data import get_dataset
from adwp.evaluator import Evaluator
from adwp.training import TrainConfig, Trainer

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CONFIG = TrainConfig(dataset="digits", steps=2, meta_batch=4, batch_size=32, snapshot_every=0)


@pytest.fixture(scope="module")
def digits():
    return get_dataset("digits", seed=CONFIG.data_seed)


def _losses(trainer: Trainer, steps: int = 2) -> list[float]:
    return [trainer.train_step()["loss"] for _ in range(steps)]


def test_channels_last_trains_the_same(digits) -> None:
    # One step: channels-last convolutions are slow on CPU, the order that suits GPUs.
    plain = _losses(Trainer(CONFIG, data=digits, device="cpu"), steps=1)
    last = _losses(Trainer(CONFIG, data=digits, device="cpu", channels_last=True), steps=1)
    assert last == pytest.approx(plain, rel=1e-5)


@pytest.mark.slow
def test_compile_keeps_the_checkpoint_keys_and_the_losses(digits) -> None:
    plain = Trainer(CONFIG, data=digits, device="cpu")
    compiled = Trainer(CONFIG, data=digits, device="cpu", compile=True)
    assert compiled.model.state_dict().keys() == plain.model.state_dict().keys()
    assert _losses(compiled) == pytest.approx(_losses(plain), rel=1e-4)


def test_the_supernet_has_nothing_to_compile(digits) -> None:
    trainer = Trainer(replace(CONFIG, model="supernet"), data=digits, device="cpu", compile=True)
    assert trainer.model.compilable_parts() == []


@cuda
def test_cuda_training_in_bf16_follows_the_cpu(digits) -> None:
    on_cpu = _losses(Trainer(CONFIG, data=digits, device="cpu"))
    trainer = Trainer(CONFIG, data=digits, device="cuda", channels_last=True)
    assert trainer.use_amp and trainer.images.is_cuda
    on_gpu = _losses(trainer)
    # bf16 keeps 8 bits of mantissa: the losses agree to about a percent, not to float32.
    assert on_gpu == pytest.approx(on_cpu, rel=3e-2)
    state = trainer.state_dict()
    assert all(t.device.type == "cpu" for t in state["model"].values())


@cuda
def test_cuda_compiled_training_runs(digits) -> None:
    trainer = Trainer(CONFIG, data=digits, device="cuda", compile=True)
    losses = _losses(trainer)
    assert all(torch.isfinite(torch.tensor(losses)))


@cuda
def test_cuda_scores_follow_the_cpu(digits, tmp_path) -> None:
    trainer = Trainer(CONFIG, data=digits, device="cpu")
    _losses(trainer)
    path = tmp_path / "h.pt"
    trainer.save(path)
    rng = np.random.default_rng(0)
    archs = [trainer.space.sample(rng) for _ in range(4)]
    on_cpu = Evaluator.from_checkpoint(path, data=digits, device="cpu").score(archs)
    on_gpu = Evaluator.from_checkpoint(path, data=digits, device="cuda").score(archs)
    assert list(on_gpu) == pytest.approx(list(on_cpu), abs=2e-2)
