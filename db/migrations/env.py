"""Alembic environment: migrates the connection or URL handed over by db.migrate."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from db.engine import create_engine_for
from db.session import configured_url
from models import Base
from models.base import UtcDateTime

config = context.config


def _render_item(type_: str, item: Any, autogen_context: AutogenContext) -> str | bool:
    # Migrations stay free of model imports: a UTC timestamp is a plain zoned DateTime.
    if type_ == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # Alembic commits after each migration on SQLite (it assumes no transactional
        # DDL), and between two commits a process starting at the same time took the
        # write lock, read the half-way revision and ran the next migration first. The
        # engine issues BEGIN itself, so SQLite's DDL is transactional: one transaction
        # holds the whole upgrade.
        transactional_ddl=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or configured_url()
    engine = create_engine_for(url)
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
