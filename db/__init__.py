"""The database: one engine and one sessionmaker per process, and Alembic migrations.

Services open their sessions with :func:`read_session` or :func:`write_session`; the
process is pointed at a database by :func:`configure` (default: ``DATABASE_URL``).
"""

from db.engine import create_engine_for
from db.migrate import current_revision, head_revision, migrate_to_head
from db.session import (
    configure,
    configured_url,
    dispose,
    read_session,
    sessionmaker_,
    write_session,
)

__all__ = [
    "configure",
    "configured_url",
    "create_engine_for",
    "current_revision",
    "dispose",
    "head_revision",
    "migrate_to_head",
    "read_session",
    "sessionmaker_",
    "write_session",
]
