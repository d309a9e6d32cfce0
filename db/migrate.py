"""Schema migrations: ``migrate_to_head(url)`` is what the app and the CLI run on start."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from db.engine import WRITE_OPTION, create_engine_for

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
MIGRATION_LOCK_KEY = 7_240_331  # any constant shared by every tracker process
_in_process = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.cmd_opts = None
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate_to_head(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (a no-op when it is there)."""
    _run_with_connection(url, lambda config: command.upgrade(config, "head"))


def downgrade_to_base(url: str) -> None:
    _run_with_connection(url, lambda config: command.downgrade(config, "base"))


def head_revision() -> str:
    head = ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(url: str) -> str | None:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _run_with_connection(url: str, action: Callable[[Config], None]) -> None:
    # Alembic keeps its migration context in module globals: one migration per process at
    # a time (web sessions are threads).
    with _in_process:
        _run_locked(url, action)


def _run_locked(url: str, action: Callable[[Config], None]) -> None:
    engine = create_engine_for(url, for_migrations=True)
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
            # Two processes starting at once (app and CLI) migrate one after the other;
            # on SQLite the write transaction's lock does the same.
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            config = alembic_config(url)
            config.attributes["connection"] = connection
            action(config)
            connection.commit()
    finally:
        engine.dispose()
