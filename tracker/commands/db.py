"""``python -m tracker db upgrade|check``: migrate the database, compare rows with files."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import make_url

import db
from db.migrate import migrate_to_head
from tracker import settings
from tracker.services import integrity


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: DATABASE_URL, else a SQLite file in TRACKER_DATA_DIR)",
    )


def open_database(url: str | None) -> str:
    """Migrate the database to the newest schema and point this process at it."""
    resolved = url or settings.database_url()
    migrate_to_head(resolved)
    db.configure(resolved)
    return resolved


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("db", help="migrate or check the database and photo store")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="migrate the database to the newest schema")
    add_database_option(upgrade)
    upgrade.set_defaults(handler=_upgrade)
    check = actions.add_parser(
        "check",
        help="report photo rows without files and files without rows (exit 1 if any)",
    )
    add_database_option(check)
    check.add_argument(
        "--remove-orphans",
        action="store_true",
        help=f"delete files no row refers to (older than {integrity.ORPHAN_GRACE_SECONDS} s)",
    )
    check.set_defaults(handler=_check)


def _upgrade(args: argparse.Namespace) -> int:
    url = open_database(args.db)
    print(f"database at {db.head_revision()} ({_redacted(url)})")
    return 0


def _check(args: argparse.Namespace) -> int:
    open_database(args.db)
    if args.remove_orphans:
        for path in integrity.remove_orphan_files():
            print(f"removed orphan file {path}")
    report = integrity.check_store()
    print(f"checked {report.rows_checked} rows and {report.files_checked} files")
    for problem in report.rows_without_files:
        print(f"row without file: {problem}")
    for path in report.files_without_rows:
        print(f"file without row: {path}")
    if report.consistent:
        print("consistent")
        return 0
    print(
        f"inconsistent: {len(report.rows_without_files)} rows without files, "
        f"{len(report.files_without_rows)} files without rows",
        file=sys.stderr,
    )
    return 1


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
