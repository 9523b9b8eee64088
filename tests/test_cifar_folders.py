"""cifar10 read from image folders (train/<class>/*, test/<class>/*, optional val/<class>/*)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from adwp.checkpoint import load_checkpoint
from adwp.cli import main
from adwp.data import _cifar_folders as folders, get_dataset
from adwp.errors import DataError

CLASSES = list(folders.CIFAR10_CLASSES)
# Channel 0 of every image is constant and encodes (class, index): label = value // _STEP. The
# margin keeps the code readable through JPEG's small rounding errors.
_STEP = 24


def _code(label: int, k: int) -> int:
    return label * _STEP + 4 + k


def _write_split(
    folder: Path, per_class: int, suffix: str, brightness: int = 0, seed: int = 0
) -> None:
    """Write per_class 32x32 images per class; class folders created in reverse CIFAR order."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for label in reversed(range(len(CLASSES))):
        (folder / CLASSES[label]).mkdir(parents=True)
        for k in range(per_class):
            pixels = np.empty((32, 32, 3), dtype=np.uint8)
            pixels[..., 0] = _code(label, k)
            pixels[..., 1] = min(255, brightness + int(rng.integers(0, 100)))
            pixels[..., 2] = min(255, brightness + 20 * k)
            Image.fromarray(pixels).save(folder / CLASSES[label] / f"{k:04d}{suffix}")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """PNG training images (6 per class) and JPEG test images (2 per class), no val folder."""
    root = tmp_path / "cifar"
    _write_split(root / "train", 6, ".png")
    _write_split(root / "test", 2, ".jpg", brightness=120, seed=1)
    return root


def _labels_from_pixels(images: np.ndarray) -> np.ndarray:
    return images[:, 0, 0, 0].astype(np.int64) // _STEP


def _one_line(exc: pytest.ExceptionInfo[DataError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_decoded_arrays_follow_cifar_class_order(root: Path) -> None:
    read = folders.read_cifar10_folders(root, workers=2)
    assert set(read) == {"train", "test"}
    train, test = read["train"], read["test"]
    assert train.images.shape == (60, 3, 32, 32) and train.images.dtype == np.uint8
    assert test.images.shape == (20, 3, 32, 32) and train.labels.dtype == np.int64
    # Folders were created truck-first; labels still follow CIFAR-10's order, and each label
    # matches the class folder its pixels were written into (PNG and JPEG alike).
    for split in (train, test):
        np.testing.assert_array_equal(split.labels, _labels_from_pixels(split.images))
    # Round-robin over the classes: the first 10 items are one of each class.
    assert train.labels[:10].tolist() == list(range(10))
    assert train.images[0, 0, 0, 0] == _code(0, 0) and train.images[10, 0, 0, 0] == _code(0, 1)
    one_thread = folders.read_cifar10_folders(root, workers=1)
    np.testing.assert_array_equal(one_thread["train"].images, train.images)


def test_loader_splits_shapes_and_seeded_stratified_val(root: Path) -> None:
    data = get_dataset("cifar10", root=root, seed=0, val_size=10)
    assert (len(data.train), len(data.val), len(data.test)) == (50, 10, 20)
    assert (data.in_channels, data.num_classes, data.image_size) == (3, 10, 32)
    x, y = data.train.tensors
    assert x.shape == (50, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.bincount(data.val.tensors[1], minlength=10).tolist() == [1] * 10
    assert torch.bincount(y, minlength=10).tolist() == [5] * 10
    assert data.root == str(root.resolve()) and data.options == {"val_size": 10}

    again = get_dataset("cifar10", root=root, seed=0, val_size=10)
    assert torch.equal(again.val.tensors[0], data.val.tensors[0])
    assert torch.equal(again.train.tensors[0], data.train.tensors[0])
    other = get_dataset("cifar10", root=root, seed=1, val_size=10)
    assert not torch.equal(other.val.tensors[0], data.val.tensors[0])
    assert torch.bincount(other.val.tensors[1], minlength=10).tolist() == [1] * 10


def test_default_val_size_is_5000_held_out_of_train(root: Path) -> None:
    with pytest.raises(DataError, match="hold-out size") as info:
        get_dataset("cifar10", root=root)  # 5000 > 60 training images
    _one_line(info)


def test_subsets_are_stratified_and_recorded(root: Path) -> None:
    data = get_dataset("cifar10", root=root, seed=3, val_size=20, train_size=10)
    assert torch.bincount(data.train.tensors[1], minlength=10).tolist() == [1] * 10
    assert torch.bincount(data.val.tensors[1], minlength=10).tolist() == [2] * 10
    assert len(data.test) == 20
    assert data.options == {"val_size": 20, "train_size": 10}
    # The subset is drawn from the images left after the val hold-out.
    val_codes = set(data.val.tensors[0][:, 0, 0, 0].tolist())
    assert not val_codes & set(data.train.tensors[0][:, 0, 0, 0].tolist())
    with pytest.raises(DataError, match=r"train_size must be an int in \[1, 40\]") as info:
        get_dataset("cifar10", root=root, val_size=20, train_size=41)
    _one_line(info)


def test_val_folder_is_the_val_split_and_val_size_subsets_it(root: Path) -> None:
    _write_split(root / "val", 3, ".png", brightness=60, seed=2)
    data = get_dataset("cifar10", root=root)
    assert (len(data.train), len(data.val), len(data.test)) == (60, 30, 20)
    sub = get_dataset("cifar10", root=root, val_size=10, seed=4)
    assert torch.bincount(sub.val.tensors[1], minlength=10).tolist() == [1] * 10
    assert len(sub.train) == 60
    with pytest.raises(DataError, match=r"val_size must be an int in \[1, 30\]"):
        get_dataset("cifar10", root=root, val_size=31)


def test_normalized_with_the_training_split_statistics_only(root: Path) -> None:
    # val and test images are much brighter: statistics that included them would differ.
    _write_split(root / "val", 2, ".png", brightness=150, seed=2)
    raw = folders.read_cifar10_folders(root)
    data = get_dataset("cifar10", root=root)
    train = raw["train"].images.astype(np.float64) / 255.0
    mean = train.mean(axis=(0, 2, 3))
    std = train.std(axis=(0, 2, 3))
    x = data.train.tensors[0]
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float32), atol=1e-5)
    for split, name in ((data.val, "val"), (data.test, "test")):
        expected = (raw[name].images / 255.0 - mean[None, :, None, None]) / std[None, :, None, None]
        np.testing.assert_allclose(split.tensors[0].numpy(), expected, atol=1e-5)
        assert split.tensors[1].tolist() == raw[name].labels.tolist()
    assert data.val.tensors[0][:, 1].mean() > 1.0


def test_cache_round_trip_and_invalidation(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = get_dataset("cifar10", root=root, val_size=10, cache_dir=str(cache))
    written = list(cache.glob("*.npz"))
    assert len(written) == 1 and not list(cache.glob(".*tmp"))

    def refuse(path: Path) -> np.ndarray:
        raise AssertionError(f"decoded {path} although the cache holds it")

    with monkeypatch.context() as patch:
        patch.setattr(folders, "_decode_one", refuse)
        cached = get_dataset("cifar10", root=root, val_size=10, cache_dir=str(cache))
    for a, b in ((first.train, cached.train), (first.val, cached.val), (first.test, cached.test)):
        assert torch.equal(a.tensors[0], b.tensors[0]) and torch.equal(a.tensors[1], b.tensors[1])

    # Rewrite one test image with other pixels (same size on disk is possible, so move the
    # modification time too): the cache must not serve the old pixels.
    from PIL import Image

    changed = root / "test" / "cat" / "0000.jpg"
    Image.fromarray(np.full((32, 32, 3), _code(3, 0), dtype=np.uint8)).save(changed)
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    fresh = get_dataset("cifar10", root=root, val_size=10, cache_dir=str(cache))
    direct = get_dataset("cifar10", root=root, val_size=10)
    assert torch.equal(fresh.test.tensors[0], direct.test.tensors[0])
    assert not torch.equal(fresh.test.tensors[0], first.test.tensors[0])
    remaining = list(cache.glob("*.npz"))
    assert len(remaining) == 1 and remaining != written  # the stale file was replaced


def test_unreadable_cache_file_is_rebuilt_with_a_warning(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = get_dataset("cifar10", root=root, val_size=10, cache_dir=str(cache))
    (path,) = cache.glob("*.npz")
    path.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="ignoring unreadable cache file"):
        again = get_dataset("cifar10", root=root, val_size=10, cache_dir=str(cache))
    assert torch.equal(again.train.tensors[0], first.train.tensors[0])
    assert path.stat().st_size > 1000


def test_missing_class_folder_is_a_one_line_error(root: Path) -> None:
    shutil.rmtree(root / "test" / "dog")
    with pytest.raises(DataError) as info:
        get_dataset("cifar10", root=root, val_size=10)
    message = _one_line(info)
    assert "dog" in message and str(root / "test") in message


def test_unknown_class_folder_is_a_one_line_error(root: Path) -> None:
    (root / "train" / "cat").rename(root / "train" / "kitty")
    with pytest.raises(DataError) as info:
        get_dataset("cifar10", root=root, val_size=10)
    message = _one_line(info)
    assert "kitty" in message and "airplane, automobile" in message


def test_empty_class_folder_is_a_one_line_error(root: Path) -> None:
    for file in (root / "train" / "ship").iterdir():
        file.unlink()
    (root / "train" / "ship" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError) as info:
        get_dataset("cifar10", root=root, val_size=10)
    assert str(root / "train" / "ship") in _one_line(info)


def test_missing_test_folder_and_bad_images_are_one_line_errors(root: Path) -> None:
    from PIL import Image

    Image.new("RGB", (28, 30)).save(root / "train" / "frog" / "big.png")
    with pytest.raises(DataError, match="is 28x30") as info:
        get_dataset("cifar10", root=root, val_size=10)
    assert "big.png" in _one_line(info)
    (root / "train" / "frog" / "big.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match="cannot decode image") as info:
        get_dataset("cifar10", root=root, val_size=10)
    _one_line(info)
    (root / "train" / "frog" / "big.png").unlink()
    shutil.rmtree(root / "test")
    with pytest.raises(DataError, match="no test folder") as info:
        get_dataset("cifar10", root=root, val_size=10)
    _one_line(info)


def test_neither_layout_names_both(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        get_dataset("cifar10", root=tmp_path)
    message = _one_line(info)
    assert "cifar-10-batches-py" in message and "root/train/<class>/*" in message
    # The library names no command-line flag: only train and groundtruth have --download.
    assert str(tmp_path) in message and "download" not in message


@pytest.mark.slow
def test_cli_options_are_recorded_and_rank_reproduces_the_data(root: Path, tmp_path: Path) -> None:
    out, cache = tmp_path / "h.pt", tmp_path / "cache"
    train = ["train", "--dataset", "cifar10", "--data-root", str(root), "--quiet"]
    train += ["--train-size", "20", "--val-size", "10", "--data-cache", str(cache)]
    train += ["--num-bases", "2", "--embed-dim", "16", "--steps", "1", "--batch-size", "4"]
    assert main([*train, "--out", str(out)]) == 0
    options = load_checkpoint(out)["dataset"]["options"]
    assert options == {"train_size": 20, "val_size": 10, "cache_dir": str(cache.resolve())}
    assert len(list(cache.glob("*.npz"))) == 1
    rank = ["rank", "--checkpoint", str(out), "--sample", "1", "--quiet"]
    assert main([*rank, "--output", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["images"] == 10


def test_cli_data_flags_are_checked_and_listed(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ["groundtruth", "--dataset", "cifar10", "--data-root", str(root), "--sample", "1"]
    assert main([*bad, "--train-size", "0", "--output", str(tmp_path / "gt.jsonl")]) == 2
    assert "--train-size must be at least 1" in capsys.readouterr().err
    digits = ["train", "--dataset", "digits", "--val-size", "5", "--out", str(tmp_path / "x.pt")]
    assert main(digits) == 2
    assert "val_size" in capsys.readouterr().err
    for command in ("train", "groundtruth"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        shown = capsys.readouterr().out
        assert "--train-size N" in shown and "--val-size N" in shown and "--data-cache DIR" in shown
