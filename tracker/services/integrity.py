"""Rows against files: what ``python -m tracker db check`` reports."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from db import read_session
from models import Measurement, Photo
from tracker.photostore import OVERLAY_EXTENSION, PhotoStore, default_store

# An orphan younger than this may belong to an upload whose row is about to commit.
ORPHAN_GRACE_SECONDS = 600


@dataclass(frozen=True)
class StoreCheck:
    rows_checked: int
    files_checked: int
    rows_without_files: tuple[str, ...]
    files_without_rows: tuple[Path, ...]

    @property
    def consistent(self) -> bool:
        return not self.rows_without_files and not self.files_without_rows


def check_store(store: PhotoStore | None = None) -> StoreCheck:
    """Compare every photo and overlay row with the files in the store."""
    store = store or default_store()
    with read_session() as session:
        photo_rows = session.execute(select(Photo.id, Photo.sha256, Photo.extension)).all()
        overlay_rows = session.execute(
            select(Measurement.id, Measurement.overlay_sha256).where(
                Measurement.overlay_sha256.is_not(None)
            )
        ).all()
    expected = {(sha, ext): f"photo {photo_id}" for photo_id, sha, ext in photo_rows}
    for measurement_id, sha in overlay_rows:
        expected.setdefault((sha, OVERLAY_EXTENSION), f"overlay of measurement {measurement_id}")
    files = {(stored.sha256, stored.extension): stored.path for stored in store.files()}
    return StoreCheck(
        rows_checked=len(photo_rows) + len(overlay_rows),
        files_checked=len(files),
        rows_without_files=tuple(
            f"{label}: missing {sha}.{ext}"
            for (sha, ext), label in sorted(expected.items())
            if (sha, ext) not in files
        ),
        files_without_rows=tuple(
            path for key, path in sorted(files.items()) if key not in expected
        ),
    )


def remove_orphan_files(
    store: PhotoStore | None = None, *, grace_seconds: float = ORPHAN_GRACE_SECONDS
) -> list[Path]:
    """Delete files no row refers to, except recent ones (uploads about to commit)."""
    cutoff = time.time() - grace_seconds
    removed = []
    for path in check_store(store).files_without_rows:
        if path.stat().st_mtime <= cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
