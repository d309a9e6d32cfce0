"""Engines for SQLite (WAL, busy timeout, foreign keys) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Set on a session's connection to start its SQLite transaction with BEGIN IMMEDIATE.
WRITE_OPTION = "tracker_write"


def create_engine_for(url: str, *, for_migrations: bool = False) -> Engine:
    """An engine for ``url``.

    ``for_migrations`` turns SQLite's foreign keys off: batch migrations drop and re-create
    tables, which with foreign keys on would cascade deletes into the referring rows.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, foreign_keys=not for_migrations)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str, *, foreign_keys: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is switched off so that _on_begin decides how
        # each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _use_write_ahead_log(cursor)
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes cannot wait for a concurrent
        # writer (SQLITE_BUSY at once, whatever the timeout); writers therefore take the
        # write lock up front and queue on the busy timeout instead.
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def _use_write_ahead_log(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode (it stays so, in the file) unless it is already.

    Switching needs the database to itself, and SQLite reports another connection's lock
    at once instead of waiting on the busy timeout: the app and the CLI starting together
    on a new file would fail. The switch is retried until the timeout instead.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
