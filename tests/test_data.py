"""Tests of adwp.data: registry, built-in loaders and mini-batch iteration."""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from adwp.data import (
    DataSplits,
    get_dataset,
    iterate_batches,
    list_datasets,
    register_dataset,
)
from adwp.errors import AdwpError, DataError
from adwp.registry import DATASETS

# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


def test_list_datasets_is_sorted_and_has_builtins() -> None:
    names = list_datasets()
    assert names == sorted(names)
    assert {"mnist5k", "digits", "cifar10", "cifar100", "imagefolder"} <= set(names)


def test_unknown_name_lists_available() -> None:
    with pytest.raises(DataError) as info:
        get_dataset("no-such-data")
    message = str(info.value)
    assert "no-such-data" in message
    for name in list_datasets():
        assert name in message
    assert isinstance(info.value, AdwpError)


def test_register_and_duplicate() -> None:
    tiny = TensorDataset(torch.zeros(2, 1, 4, 4), torch.zeros(2, dtype=torch.int64))

    @register_dataset("tiny-test")
    def _load(root: Path | None, *, download: bool = False, seed: int = 0) -> DataSplits:
        return DataSplits("tiny-test", tiny, tiny, tiny, 1, 2, 4)

    try:
        assert "tiny-test" in list_datasets()
        assert get_dataset("tiny-test").image_size == 4
        with pytest.raises(ValueError, match=r"^data set 'tiny-test' is already registered$"):
            register_dataset("tiny-test")(_load)
    finally:
        DATASETS.unregister("tiny-test")
    assert "tiny-test" not in list_datasets()


def test_unknown_option_is_data_error() -> None:
    with pytest.raises(DataError, match="image_size"):
        get_dataset("digits", image_size=32)


# --------------------------------------------------------------------------------------------
# Bundled data sets
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist() -> DataSplits:
    return get_dataset("mnist5k", seed=0)


def _labels(ds: TensorDataset) -> torch.Tensor:
    return ds.tensors[1]


def test_mnist5k_sizes_and_shapes(mnist: DataSplits) -> None:
    assert (len(mnist.train), len(mnist.val), len(mnist.test)) == (3000, 1000, 1000)
    assert (mnist.in_channels, mnist.num_classes, mnist.image_size) == (1, 10, 28)
    x, y = mnist.train[0]
    assert x.shape == (1, 28, 28)
    assert x.dtype == torch.float32
    assert y.dtype == torch.int64
    assert y.ndim == 0


def test_mnist5k_is_stratified(mnist: DataSplits) -> None:
    for split, per_class in ((mnist.train, 300), (mnist.val, 100), (mnist.test, 100)):
        assert torch.bincount(_labels(split), minlength=10).tolist() == [per_class] * 10


def test_mnist5k_is_normalized_with_train_stats(mnist: DataSplits) -> None:
    x = mnist.train.tensors[0]
    assert abs(x.mean().item()) < 1e-4
    assert abs(x.std().item() - 1.0) < 1e-3
    # The other splits use the train statistics, so they are only roughly standardized.
    assert abs(mnist.val.tensors[0].mean().item()) < 0.1


def test_mnist5k_split_depends_only_on_seed(mnist: DataSplits) -> None:
    again = get_dataset("mnist5k", seed=0)
    assert torch.equal(again.train.tensors[0], mnist.train.tensors[0])
    assert torch.equal(again.test.tensors[1], mnist.test.tensors[1])
    other = get_dataset("mnist5k", seed=1)
    assert not torch.equal(other.train.tensors[0], mnist.train.tensors[0])


def test_mnist5k_splits_are_disjoint(mnist: DataSplits) -> None:
    rows = [
        bytes(row.numpy().tobytes())
        for split in (mnist.train, mnist.val, mnist.test)
        for row in split.tensors[0].flatten(1)
    ]
    assert len(set(rows)) == 5000


def test_digits_shapes() -> None:
    data = get_dataset("digits", seed=3)
    sizes = (len(data.train), len(data.val), len(data.test))
    assert sum(sizes) == 1797
    assert sizes == (1079, 359, 359)
    assert (data.in_channels, data.num_classes, data.image_size) == (1, 10, 8)
    assert data.train.tensors[0].shape == (1079, 1, 8, 8)
    assert data.train.tensors[1].dtype == torch.int64
    assert abs(data.train.tensors[0].mean().item()) < 1e-4


def test_bad_seed_is_data_error() -> None:
    with pytest.raises(DataError, match="seed"):
        get_dataset("digits", seed=-1)


# --------------------------------------------------------------------------------------------
# iterate_batches
# --------------------------------------------------------------------------------------------


def _toy_tensors(n: int = 10) -> TensorDataset:
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    return TensorDataset(x, torch.arange(n))


class _ListDataset(Dataset):
    """A non-tensor data set, to exercise the DataLoader path."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return torch.full((1, 2, 2), float(i)), i


@pytest.mark.parametrize("make", [_toy_tensors, _ListDataset])
def test_iterate_batches_shapes_and_coverage(make: Any) -> None:
    ds = make(10)
    batches = list(iterate_batches(ds, 4))
    assert [b[0].shape for b in batches] == [(4, 1, 2, 2), (4, 1, 2, 2), (2, 1, 2, 2)]
    assert all(x.dtype == torch.float32 and y.dtype == torch.int64 for x, y in batches)
    assert torch.cat([y for _, y in batches]).tolist() == list(range(10))
    assert len(list(iterate_batches(ds, 4, drop_last=True))) == 2

    gen = torch.Generator().manual_seed(0)
    seen = torch.cat([y for _, y in iterate_batches(ds, 3, shuffle=True, generator=gen)])
    assert sorted(seen.tolist()) == list(range(10))
    assert seen.tolist() != list(range(10))
    for x, y in iterate_batches(ds, 3, shuffle=True, generator=gen):
        # Images travel with their labels.
        assert torch.equal(x[:, 0, 0, 0].long(), y)


@pytest.mark.parametrize("make", [_toy_tensors, _ListDataset])
def test_iterate_batches_deterministic(make: Any) -> None:
    ds = make(10)

    def order(seed: int) -> list[int]:
        gen = torch.Generator().manual_seed(seed)
        return torch.cat(
            [y for _, y in iterate_batches(ds, 4, shuffle=True, generator=gen)]
        ).tolist()

    assert order(7) == order(7)
    assert order(7) != order(8)


def test_iterate_batches_leaves_global_rng_alone() -> None:
    state = torch.get_rng_state()
    list(iterate_batches(_ListDataset(5), 2))
    assert torch.equal(torch.get_rng_state(), state)


def test_iterate_batches_errors() -> None:
    with pytest.raises(ValueError, match="Generator"):
        iterate_batches(_toy_tensors(), 2, shuffle=True)
    with pytest.raises(ValueError, match="Generator"):
        iterate_batches(_ListDataset(3), 2, shuffle=True)
    with pytest.raises(ValueError, match="batch_size"):
        iterate_batches(_toy_tensors(), 0)


# --------------------------------------------------------------------------------------------
# CIFAR on tiny files in the real on-disk format
# --------------------------------------------------------------------------------------------


class _Py2Pickler(pickle._Pickler):  # type: ignore[misc]
    """Writes str and bytes as Python 2 byte strings, like the pickles CIFAR ships.

    Loaded with ``encoding="latin1"`` (torchvision) the keys are ``"data"``; loaded with
    ``encoding="bytes"`` (the CIFAR web page's recipe) they are ``b"data"``.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_string(self, obj: str | bytes) -> None:
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[str] = _save_py2_string
    dispatch[bytes] = _save_py2_string


def _write_py2_pickle(path: Path, obj: dict[str, Any]) -> str:
    with path.open("wb") as f:
        _Py2Pickler(f, protocol=2).dump(obj)
    return hashlib.md5(path.read_bytes()).hexdigest()


def _cifar_images(n: int, rng: np.random.Generator) -> np.ndarray:
    # CIFAR rows are 3072 bytes: the 1024 red, then green, then blue values, row-major.
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)


def _fake_cifar10(root: Path, per_batch: int = 20) -> dict[str, Any]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    md5: dict[str, str] = {}
    for i in range(1, 6):
        name = f"data_batch_{i}"
        entry = {
            "batch_label": f"training batch {i} of 5",
            "labels": [k % 10 for k in range(per_batch)],
            "data": _cifar_images(per_batch, rng),
            "filenames": [f"img_{i}_{k}.png" for k in range(per_batch)],
        }
        md5[name] = _write_py2_pickle(folder / name, entry)
    test = {
        "batch_label": "testing batch 1 of 1",
        "labels": [(3 * k) % 10 for k in range(per_batch)],
        "data": _cifar_images(per_batch, rng),
        "filenames": [f"test_{k}.png" for k in range(per_batch)],
    }
    md5["test_batch"] = _write_py2_pickle(folder / "test_batch", test)
    meta = {"num_cases_per_batch": per_batch, "label_names": [f"c{k}" for k in range(10)]}
    md5["batches.meta"] = _write_py2_pickle(folder / "batches.meta", meta)
    return {"md5": md5, "test": test}


def _fake_cifar100(root: Path) -> dict[str, Any]:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    md5: dict[str, str] = {}
    splits = {}
    for name, n in (("train", 40), ("test", 10)):
        fine = [(7 * k) % 10 for k in range(n)]
        splits[name] = {
            "batch_label": name,
            "fine_labels": fine,
            "coarse_labels": [f // 5 for f in fine],
            "data": _cifar_images(n, rng),
            "filenames": [f"{name}_{k}.png" for k in range(n)],
        }
        md5[name] = _write_py2_pickle(folder / name, splits[name])
    meta = {
        "fine_label_names": [f"f{k}" for k in range(100)],
        "coarse_label_names": [f"g{k}" for k in range(20)],
    }
    md5["meta"] = _write_py2_pickle(folder / "meta", meta)
    return {"md5": md5, "test": splits["test"]}


def _accept_files(monkeypatch: pytest.MonkeyPatch, cls: type, md5: dict[str, str]) -> None:
    """Point torchvision's expected md5 sums at the fake files; its real check still runs."""
    monkeypatch.setattr(cls, "train_list", [[n, md5[n]] for n, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[n, md5[n]] for n, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5[cls.meta["filename"]]})


def _check_test_split(x: torch.Tensor, y: torch.Tensor, raw: dict[str, Any], key: str) -> None:
    """Check that the test split keeps file order, labels and the channel-major layout."""
    assert y.tolist() == raw[key]
    data = raw["data"].reshape(-1, 3, 32, 32).astype(np.float64)
    for c in range(3):
        corr = np.corrcoef(x[:, c].numpy().ravel(), data[:, c].ravel())[0, 1]
        assert corr > 0.9999


def test_fake_cifar_file_matches_documented_format(tmp_path: Path) -> None:
    _fake_cifar10(tmp_path, per_batch=4)
    with (tmp_path / "cifar-10-batches-py" / "data_batch_1").open("rb") as f:
        entry = pickle.load(f, encoding="bytes")
    assert entry[b"data"].dtype == np.uint8
    assert entry[b"data"].shape == (4, 3072)
    assert entry[b"labels"] == [0, 1, 2, 3]


def test_cifar10_on_fake_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.datasets import CIFAR10

    fake = _fake_cifar10(tmp_path)
    _accept_files(monkeypatch, CIFAR10, fake["md5"])
    data = get_dataset("cifar10", root=tmp_path, seed=0, val_size=20)
    assert (len(data.train), len(data.val), len(data.test)) == (80, 20, 20)
    assert (data.in_channels, data.num_classes, data.image_size) == (3, 10, 32)
    x, y = data.train.tensors
    assert x.shape == (80, 3, 32, 32)
    assert x.dtype == torch.float32
    assert y.dtype == torch.int64
    assert torch.bincount(data.val.tensors[1], minlength=10).tolist() == [2] * 10
    channel_means = x.mean(dim=(0, 2, 3))
    channel_stds = x.std(dim=(0, 2, 3))
    assert torch.allclose(channel_means, torch.zeros(3), atol=1e-4)
    assert torch.allclose(channel_stds, torch.ones(3), atol=1e-3)
    _check_test_split(*data.test.tensors, fake["test"], "labels")

    again = get_dataset("cifar10", root=str(tmp_path), seed=0, val_size=20)
    assert torch.equal(again.val.tensors[0], data.val.tensors[0])
    other = get_dataset("cifar10", root=tmp_path, seed=1, val_size=20)
    assert not torch.equal(other.val.tensors[0], data.val.tensors[0])


def test_cifar100_on_fake_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.datasets import CIFAR100

    fake = _fake_cifar100(tmp_path)
    _accept_files(monkeypatch, CIFAR100, fake["md5"])
    data = get_dataset("cifar100", root=tmp_path, seed=0, val_size=10)
    assert (len(data.train), len(data.val), len(data.test)) == (30, 10, 10)
    assert (data.in_channels, data.num_classes, data.image_size) == (3, 100, 32)
    assert torch.bincount(data.val.tensors[1], minlength=10).tolist() == [1] * 10
    _check_test_split(*data.test.tensors, fake["test"], "fine_labels")


def test_cifar_files_failing_md5_are_rejected(tmp_path: Path) -> None:
    # Without the md5 patch torchvision's integrity check refuses the fake files.
    _fake_cifar10(tmp_path, per_batch=4)
    with pytest.raises(DataError, match="corrupted"):
        get_dataset("cifar10", root=tmp_path, val_size=10)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_missing_cifar_is_one_line_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError) as info:
        get_dataset(name, root=tmp_path / "nowhere")
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "nowhere") in message and "does not exist" in message
    # The library names no download flag: only train and groundtruth have --download.
    assert "download" not in message and "--data-root" in message
    with pytest.raises(DataError) as info:
        get_dataset(name)
    assert "\n" not in str(info.value)
    assert "download" not in str(info.value) and "--data-root" in str(info.value)


def test_cifar_val_size_out_of_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.datasets import CIFAR10

    fake = _fake_cifar10(tmp_path, per_batch=4)
    _accept_files(monkeypatch, CIFAR10, fake["md5"])
    with pytest.raises(DataError, match="hold-out size"):
        get_dataset("cifar10", root=tmp_path)  # default val_size 5000 > 20 images


# --------------------------------------------------------------------------------------------
# imagefolder
# --------------------------------------------------------------------------------------------


def _write_images(folder: Path, classes: list[str], per_class: int, seed: int = 0) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c in classes:
        (folder / c).mkdir(parents=True)
        for k in range(per_class):
            pixels = rng.integers(0, 256, size=(10, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / c / f"{k}.png")


def test_imagefolder_without_test_folder(tmp_path: Path) -> None:
    _write_images(tmp_path / "train", ["ant", "bee"], 3)
    _write_images(tmp_path / "val", ["ant", "bee"], 2)
    data = get_dataset("imagefolder", root=tmp_path, image_size=8, seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (6, 2, 2)
    assert (data.in_channels, data.num_classes, data.image_size) == (3, 2, 8)
    x, y = next(iterate_batches(data.train, 6))
    assert x.shape == (6, 3, 8, 8)
    assert x.dtype == torch.float32
    assert y.tolist() == [0, 0, 0, 1, 1, 1]
    again = get_dataset("imagefolder", root=tmp_path, image_size=8, seed=0)
    assert list(again.val.indices) == list(data.val.indices)


def test_imagefolder_with_test_folder_and_missing_val_class(tmp_path: Path) -> None:
    _write_images(tmp_path / "train", ["ant", "bee", "cat"], 1)
    _write_images(tmp_path / "val", ["cat"], 2)
    _write_images(tmp_path / "test", ["ant", "bee", "cat"], 1)
    data = get_dataset("imagefolder", root=tmp_path, image_size=4)
    assert (len(data.train), len(data.val), len(data.test)) == (3, 2, 3)
    # val/ lacks two classes, yet its labels follow the training numbering.
    _, y = next(iterate_batches(data.val, 2))
    assert y.tolist() == [2, 2]


def test_imagefolder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere") as info:
        get_dataset("imagefolder", root=tmp_path / "nowhere")
    assert "train/<class>" in str(info.value)
    with pytest.raises(DataError, match="train"):
        get_dataset("imagefolder", root=tmp_path)
    _write_images(tmp_path / "train", ["ant"], 1)
    (tmp_path / "val" / "images").mkdir(parents=True)
    (tmp_path / "val" / "val_annotations.txt").write_text("0.png\tant\n")
    with pytest.raises(DataError, match="val_annotations") as info:
        get_dataset("imagefolder", root=tmp_path)
    assert "\n" not in str(info.value)


def test_imagefolder_corrupt_image_names_the_file(tmp_path: Path) -> None:
    _write_images(tmp_path / "train", ["ant", "bee"], 2)
    _write_images(tmp_path / "val", ["ant", "bee"], 2)
    broken = tmp_path / "train" / "bee" / "1.png"
    broken.write_bytes(b"not a png")
    data = get_dataset("imagefolder", root=tmp_path, image_size=8)  # images are read lazily
    with pytest.raises(DataError, match="cannot read image") as info:
        list(iterate_batches(data.train, 4))
    assert str(broken) in str(info.value) and "\n" not in str(info.value)
