"""Migrations build the schema the models describe, and take it down again, on both databases."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from threading import Barrier

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect

import db.migrate
from db.engine import create_engine_for
from db.migrate import current_revision, downgrade_to_base, head_revision, migrate_to_head
from models import Base


def _tables(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_to_head_and_back(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None
    migrate_to_head(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()
    assert set(Base.metadata.tables) <= _tables(empty_database_url)

    downgrade_to_base(empty_database_url)
    assert current_revision(empty_database_url) is None
    assert _tables(empty_database_url) <= {"alembic_version"}


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    migrate_to_head(database_url)
    assert current_revision(database_url) == head_revision()


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def _migrate_after(barrier: Barrier, url: str) -> None:
    barrier.wait()
    migrate_to_head(url)


def test_concurrent_starts_migrate_once(empty_database_url: str) -> None:
    """Processes starting together (the app and the CLI) both end at head, without errors."""
    context = get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(3, mp_context=context) as pool:
        barrier = manager.Barrier(3)
        started = [pool.submit(_migrate_after, barrier, empty_database_url) for _ in range(3)]
        for future in started:
            future.result()
    assert current_revision(empty_database_url) == head_revision()


def test_the_whole_upgrade_is_one_transaction(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between two commits another process starting at the same time can take the write
    # lock, read the half-way revision and run the next migration before this one does.
    commits = []

    def counting_engine(url: str, **options: object):
        engine = create_engine_for(url, **options)
        event.listen(engine, "commit", lambda connection: commits.append(connection))
        return engine

    monkeypatch.setattr(db.migrate, "create_engine_for", counting_engine)
    migrate_to_head(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()
    assert len(commits) == 1
