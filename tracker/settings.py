"""Where the tracker keeps its data: ``TRACKER_DATA_DIR`` and ``DATABASE_URL``."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The directory holding the SQLite file and the photo store (default ``./data``)."""
    return Path(os.environ.get("TRACKER_DATA_DIR", "data"))


def photo_dir() -> Path:
    return data_dir() / "photos"


def database_url() -> str:
    """``DATABASE_URL``, else a SQLite file in the data directory."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    return f"sqlite:///{(data_dir() / 'tracker.db').resolve()}"
