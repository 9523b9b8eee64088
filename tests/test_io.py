"""The one atomic writer and the JSONL reader and appender."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adwp.errors import DataError
from adwp.io import append_jsonl, atomic_write, read_jsonl, write_json, write_jsonl


def test_an_interrupted_write_keeps_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    path = write_json(tmp_path / "out" / "result.json", {"score": 1})
    assert json.loads(path.read_text()) == {"score": 1}
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as handle:
        handle.write('{"score": ')
        raise KeyboardInterrupt
    assert json.loads(path.read_text()) == {"score": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.json"]


def test_binary_writes_replace_the_file(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "blob.bin", "wb", durable=False) as handle:
        handle.write(b"\x00\x01")
    assert (tmp_path / "blob.bin").read_bytes() == b"\x00\x01"
    with (
        pytest.raises(ValueError, match="mode must be 'w' or 'wb', got 'a'"),
        atomic_write(tmp_path / "blob.bin", "a"),
    ):
        pass


def test_jsonl_round_trip_and_a_cut_last_row(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", [{"a": 1}, {"a": 2}])
    append_jsonl(path, [{"a": 3}])
    assert [row for _, row in read_jsonl(path)] == [{"a": 1}, {"a": 2}, {"a": 3}]
    whole = path.read_text()
    path.write_text(whole + '{"a": 4')  # a write cut off by a kill
    with pytest.raises(DataError, match="last line is incomplete"):
        list(read_jsonl(path))
    assert [n for n, _ in read_jsonl(path, repair_tail=True)] == [1, 2, 3]
    assert path.read_text() == whole
    path.write_text(whole + "not json\n")
    with pytest.raises(DataError, match=r"t.jsonl:4: corrupt row \(not JSON\)"):
        list(read_jsonl(path))
    with pytest.raises(DataError, match=r"^score cache not found: "):
        list(read_jsonl(tmp_path / "missing.jsonl", what="score cache"))
