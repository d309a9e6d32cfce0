"""Content-addressed photo files: ``<root>/<sha[:2]>/<sha>.<ext>``, written once, atomically.

A file is complete on disk (temp file, fsync, link into place, fsync of the directory)
before the database row naming it commits, so a crash can leave a file without a row
(reported by ``python -m tracker db check``) but never a row without a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tracker import settings

# Overlays (pictures of what a measurement detected) are stored as PNG next to the photos.
OVERLAY_EXTENSION = "png"
_NAME = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{1,8})$")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    extension: str
    path: Path


class PhotoStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, extension: str) -> Path:
        if not _NAME.match(f"{sha256}.{extension}"):
            raise ValueError(f"not a stored file name: {sha256}.{extension}")
        return self.root / sha256[:2] / f"{sha256}.{extension}"

    def put(self, data: bytes, extension: str) -> StoredFile:
        """Store ``data`` under its SHA-256; an existing file with that hash is kept as is."""
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha256, extension)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_new(path, data)
        return StoredFile(sha256, extension, path)

    def read(self, sha256: str, extension: str) -> bytes:
        return self.path_for(sha256, extension).read_bytes()

    def exists(self, sha256: str, extension: str) -> bool:
        return self.path_for(sha256, extension).is_file()

    def delete(self, sha256: str, extension: str) -> bool:
        """Remove one file (the caller has checked no row refers to it)."""
        try:
            self.path_for(sha256, extension).unlink()
        except FileNotFoundError:
            return False
        return True

    def files(self) -> Iterator[StoredFile]:
        """Every stored file; temp files of interrupted writes are not listed."""
        if not self.root.is_dir():
            return
        for directory in sorted(self.root.iterdir()):
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                match = _NAME.match(path.name)
                if match:
                    yield StoredFile(match[1], match[2], path)

    @staticmethod
    def _write_new(path: Path, data: bytes) -> None:
        descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as temp_file:
                temp_file.write(data)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            # link() refuses to replace an existing name, so a file written by a
            # concurrent upload of the same content is never overwritten.
            with contextlib.suppress(FileExistsError):
                os.link(temp_name, path)
        finally:
            os.unlink(temp_name)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def default_store() -> PhotoStore:
    """The store under ``TRACKER_DATA_DIR``."""
    return PhotoStore(settings.photo_dir())
