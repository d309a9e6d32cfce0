"""The content-addressed photo store: one file per content, written atomically, never replaced."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tracker.photostore import PhotoStore


def test_put_names_the_file_by_its_hash_and_reads_back(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path / "photos")
    data = b"\x89PNG not really, but bytes"
    stored = store.put(data, "png")
    digest = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == digest
    assert stored.path == tmp_path / "photos" / digest[:2] / f"{digest}.png"
    assert store.read(digest, "png") == data
    assert store.exists(digest, "png")


def test_identical_content_is_stored_once_and_never_overwritten(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    first = store.put(b"same bytes", "jpg")
    inode = first.path.stat().st_ino
    second = store.put(b"same bytes", "jpg")
    assert second.path == first.path
    assert first.path.stat().st_ino == inode
    assert [f.path for f in store.files()] == [first.path]


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    for index in range(5):
        store.put(f"photo {index}".encode(), "png")
    leftovers = [path for path in tmp_path.rglob("*") if path.name.startswith(".tmp-")]
    assert leftovers == []
    assert len(list(store.files())) == 5


def test_interrupted_writes_are_not_listed_as_stored_files(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    kept = store.put(b"complete", "png")
    (kept.path.parent / ".tmp-abandoned").write_bytes(b"half")
    assert [f.sha256 for f in store.files()] == [kept.sha256]


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = PhotoStore(tmp_path)

    def failing_fsync(descriptor: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"never lands", "png")
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_delete_removes_only_the_named_file(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    gone = store.put(b"one", "png")
    kept = store.put(b"two", "png")
    assert store.delete(gone.sha256, "png")
    assert not store.delete(gone.sha256, "png")
    assert [f.sha256 for f in store.files()] == [kept.sha256]


@pytest.mark.parametrize(
    "name", [("../../etc/passwd", "png"), ("a" * 64, "p/ng"), ("A" * 64, "png")]
)
def test_names_that_are_not_hashes_are_refused(tmp_path: Path, name: tuple[str, str]) -> None:
    with pytest.raises(ValueError):
        PhotoStore(tmp_path).path_for(*name)
