"""Baseline ranking backends: model size, short training and zero-cost proxies."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from adwp.backend import RankingBackend
from adwp.baselines import (
    FlopsBackend,
    ParamsBackend,
    ShortTrainingBackend,
    ZeroCostProxy,
    list_proxies,
)
from adwp.data import get_dataset
from adwp.errors import AdwpError, ArchitectureError
from adwp.groundtruth import Recipe, train_standalone
from adwp.spaces import get_space

PROXIES = ["grad_norm", "jacob_cov", "naswot", "snip", "synflow"]
OUTSIDE = ["k9w100s1|k3w100s0|k3w100s0", "k3w100s1|k3w100s0"]  # kernel 9; two stages


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # These networks are tiny: one thread is fastest, and intra-op threads competing with other
    # work on a busy machine made single tests take 15 s instead of 0.2 s.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    return get_dataset("digits")


@pytest.fixture(scope="module")
def space(data):
    return get_space(
        "macro",
        in_channels=data.in_channels,
        num_classes=data.num_classes,
        image_size=data.image_size,
    )


@pytest.fixture(scope="module")
def archs(space):
    return [space.smallest(), space.largest(), *space.sample_many(3, np.random.default_rng(0))]


def _tiny_split(data, n: int):
    """The digits splits with a training split of its first ``n`` images only."""
    x, y = data.train.tensors
    return dataclasses.replace(data, train=TensorDataset(x[:n].clone(), y[:n].clone()))


def _check_scores(scores: np.ndarray, n: int) -> None:
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64
    assert scores.shape == (n,) and np.all(np.isfinite(scores))


def test_list_proxies():
    assert list_proxies() == PROXIES


def test_params_and_flops_backends(space, archs):
    for backend, truth in (
        (ParamsBackend(space), space.params),
        (FlopsBackend(space), space.flops),
    ):
        assert isinstance(backend, RankingBackend)
        scores = backend.score(archs)
        _check_scores(scores, len(archs))
        assert scores.tolist() == [float(truth(a)) for a in archs]
        # Input order: reversing the input reverses the scores; strings are accepted too.
        assert backend.score([a.to_string() for a in archs[::-1]]).tolist() == scores[::-1].tolist()
        assert backend.compute_seconds > 0
        for bad in OUTSIDE:
            with pytest.raises(ArchitectureError):
                backend.score([archs[0], bad])


@pytest.mark.parametrize("name", PROXIES)
def test_proxy_backend_contract(name, space, data, archs):
    proxy = ZeroCostProxy(space, data, name, batch_size=32, seed=0)
    assert isinstance(proxy, RankingBackend)
    before = proxy.compute_seconds
    rng_state = torch.get_rng_state()
    scores = proxy.score(archs)
    assert torch.equal(torch.get_rng_state(), rng_state)  # the global RNG is untouched
    _check_scores(scores, len(archs))
    assert proxy.compute_seconds > before
    # Input order and repeats.
    assert proxy.score([archs[2], archs[0], archs[2]]).tolist() == [
        scores[2],
        scores[0],
        scores[2],
    ]
    # A fresh instance with the same seed gives identical scores; another seed other ones.
    again = ZeroCostProxy(space, data, name, batch_size=32, seed=0).score(archs[::-1])
    assert again.tolist() == scores[::-1].tolist()
    other = ZeroCostProxy(space, data, name, batch_size=32, seed=1).score(archs)
    assert not np.array_equal(other, scores)
    for bad in OUTSIDE:
        with pytest.raises(ArchitectureError):
            proxy.score([bad])


def test_unknown_proxy_lists_allowed_names(space, data):
    with pytest.raises(AdwpError) as info:
        ZeroCostProxy(space, data, "jacov")
    message = str(info.value)
    assert "jacov" in message and all(name in message for name in PROXIES)


def _direct_gradients(space, arch, x, y, seed):
    """Conv/linear weights of the seeded network and their loss gradients via ``.backward()``."""
    torch.manual_seed(seed)
    net = space.build(arch)
    net.train()
    F.cross_entropy(net(x), y).backward()
    return [
        (m.weight.detach(), m.weight.grad)
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]


def test_grad_norm_and_snip_match_direct_autograd(space, data):
    # A training split of exactly one batch: the proxy's batch is these 16 images (in some
    # order, which neither CE-mean nor batch statistics depend on).
    tiny = _tiny_split(data, 16)
    x, y = tiny.train.tensors
    arch = space.validate("k3w50s1|k5w100s0,k3w75s1|k7w50s1")
    seed = 3
    pairs = _direct_gradients(space, arch, x, y, seed)
    assert len(pairs) == 1 + 4 + 1  # stem, four layers, classifier
    expected_grad_norm = sum(float(torch.linalg.vector_norm(g)) for _, g in pairs)
    expected_snip = sum(float((w * g).abs().sum()) for w, g in pairs)
    grad_norm = ZeroCostProxy(space, tiny, "grad_norm", batch_size=16, seed=seed).score([arch])
    snip = ZeroCostProxy(space, tiny, "snip", batch_size=16, seed=seed).score([arch])
    assert grad_norm[0] == pytest.approx(expected_grad_norm, rel=1e-4)
    assert snip[0] == pytest.approx(expected_snip, rel=1e-4)


def test_jacob_cov_matches_the_reference_formula(space, data):
    # Abdelfattah et al.'s code: np.corrcoef of the flattened input Jacobians, np.linalg.eig,
    # -sum(log(v + k) + 1 / (v + k)) with k = 1e-5.
    tiny = _tiny_split(data, 16)
    x, _ = tiny.train.tensors
    arch = space.validate("k3w50s1|k5w100s0,k3w75s1|k7w50s1")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)
        net = space.build(arch)
    net.train()
    inputs = x.clone().requires_grad_(True)
    net(inputs).backward(torch.ones(16, 10))
    jacobians = inputs.grad.reshape(16, -1).double().numpy()
    eigenvalues = np.real(np.linalg.eig(np.corrcoef(jacobians))[0])
    expected = -np.sum(np.log(eigenvalues + 1e-5) + 1.0 / (eigenvalues + 1e-5))
    score = ZeroCostProxy(space, tiny, "jacob_cov", batch_size=16, seed=2).score([arch])
    assert score[0] == pytest.approx(expected, rel=1e-6)


def test_jacob_cov_of_a_network_that_ignores_its_input_is_the_lowest_score():
    data = get_dataset("digits")
    space = get_space("nb201", in_channels=1, image_size=8, channels=4, cells_per_stage=1)
    empty = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    scores = ZeroCostProxy(space, data, "jacob_cov", batch_size=16).score([empty, space.largest()])
    assert scores[0] == -np.inf and np.isfinite(scores[1])


def test_naswot_identical_images_score_lower(space, data, archs):
    # Identical images have identical activation codes, so K has equal rows and is singular.
    x, y = data.train.tensors
    same = dataclasses.replace(data, train=TensorDataset(x[:1].repeat(32, 1, 1, 1), y[:32]))
    distinct = ZeroCostProxy(space, data, "naswot", batch_size=32).score(archs)
    degenerate = ZeroCostProxy(space, same, "naswot", batch_size=32).score(archs)
    assert np.all(degenerate < distinct)


def test_synflow_positive_and_grows_with_width(space, data):
    wide = space.validate("k3w100s1|k5w100s0,k3w100s1|k3w100s0")
    narrow = space.validate("k3w50s1|k5w50s0,k3w50s1|k3w50s0")
    for seed in (0, 1):
        scores = ZeroCostProxy(space, data, "synflow", seed=seed).score([wide, narrow])
        assert np.all(scores > 0) and scores[0] > scores[1]


def test_short_training_matches_train_standalone(space, data):
    archs = [space.smallest(), space.validate("k3w50s1|k3w50s0|k5w50s1")]
    recipe = Recipe(batch_size=256)
    backend = ShortTrainingBackend(space, data, recipe=recipe, epochs=1, seed=2)
    assert isinstance(backend, RankingBackend)
    scores = backend.score(archs)
    _check_scores(scores, len(archs))
    one_epoch = dataclasses.replace(recipe, epochs=1)
    expected = [train_standalone(space, a, data, one_epoch, seed=2)["val_acc"] for a in archs]
    assert scores.tolist() == expected
    spent = backend.compute_seconds
    assert spent > 0
    # Cached: scoring again (reversed) trains nothing new and returns the same values.
    assert backend.score(archs[::-1]).tolist() == expected[::-1]
    assert backend.compute_seconds < 2 * spent
    with pytest.raises(ArchitectureError):
        backend.score([OUTSIDE[0]])
    with pytest.raises(AdwpError):
        ShortTrainingBackend(space, data, epochs=0)
