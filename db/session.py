"""The process-wide sessionmaker and the two ways services open a session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import WRITE_OPTION, create_engine_for
from tracker import settings

_engine: Engine | None = None
_factory: sessionmaker[Session] | None = None
_url: str | None = None


def configure(url: str | None = None) -> sessionmaker[Session]:
    """Point this process at ``url`` (default ``DATABASE_URL``); replaces any earlier engine."""
    global _engine, _factory, _url
    if _engine is not None:
        _engine.dispose()
    _url = url or settings.database_url()
    _engine = create_engine_for(_url)
    _factory = sessionmaker(bind=_engine, expire_on_commit=False)
    return _factory


def dispose() -> None:
    """Close every pooled connection and forget the configuration."""
    global _engine, _factory, _url
    if _engine is not None:
        _engine.dispose()
    _engine = _factory = _url = None


def sessionmaker_() -> sessionmaker[Session]:
    """The configured sessionmaker, configured from the environment on first use."""
    return _factory if _factory is not None else configure()


def configured_url() -> str:
    if _url is None:
        configure()
    return _url or settings.database_url()


@contextmanager
def read_session() -> Iterator[Session]:
    """A session for queries; it is rolled back and closed on exit."""
    with sessionmaker_()() as session:
        yield session


@contextmanager
def write_session() -> Iterator[Session]:
    """A session committed on normal exit, rolled back on an exception."""
    with sessionmaker_()() as session:
        session.connection(execution_options={WRITE_OPTION: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
