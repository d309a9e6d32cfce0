"""``python -m tracker import ARCHIVE``: import ``ARCHIVE/<patient>/<session>/<photos>``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models import PhotoView
from tracker.archive_import import import_archive
from tracker.commands.db import add_database_option, open_database
from tracker.services import clinics
from tracker.services.access import Actor
from tracker.services.errors import ServiceError

DEFAULT_CLINIC = "Clinic"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import a photo archive laid out as ARCHIVE/<patient code>/<session>/<photos>",
    )
    parser.add_argument("archive", type=Path, metavar="ARCHIVE")
    add_database_option(parser)
    parser.add_argument("--view", required=True, choices=[view.value for view in PhotoView])
    parser.add_argument("--px-per-mm", type=float, help="pixel size of the device, if known")
    parser.add_argument(
        "--clinic",
        default=DEFAULT_CLINIC,
        metavar="NAME",
        help=f"clinic to import into, created if missing (default: {DEFAULT_CLINIC!r})",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if args.px_per_mm is not None and args.px_per_mm <= 0:
        print("error: --px-per-mm must be positive", file=sys.stderr)
        return 2
    open_database(args.db)
    try:
        clinic = clinics.ensure_clinic(args.clinic)
        report = import_archive(
            Actor.operator(clinic.id),
            args.archive,
            view=PhotoView(args.view),
            px_per_mm=args.px_per_mm,
        )
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}")
    print(
        f"imported into {clinic.name}: {report.patients_created} new patients, "
        f"{report.visits_created} new visits, {report.photos_added} photos added, "
        f"{report.photos_already_present} already present, {len(report.skipped)} skipped"
    )
    return 0
