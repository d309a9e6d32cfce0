"""The SQLite engine: every connection ends in WAL mode, even while another one writes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from db.engine import create_engine_for


def test_connecting_while_another_connection_writes_waits_and_uses_wal(tmp_path: Path) -> None:
    # A new file is in rollback-journal mode; switching it to WAL while another connection
    # holds the write lock fails at once in SQLite unless the engine waits for it.
    path = tmp_path / "tracker.sqlite"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE note (text TEXT)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO note VALUES ('held')")
    release = threading.Timer(0.3, writer.execute, args=("COMMIT",))
    release.start()
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            rows = connection.exec_driver_sql("SELECT text FROM note").scalars().all()
    finally:
        engine.dispose()
        release.join()
        writer.close()
    assert mode == "wal"
    assert rows == ["held"]
