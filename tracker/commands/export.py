"""``python -m tracker export``: measurements as CSV or FHIR, progress reports as PDF."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from tracker.commands.db import add_database_option, open_database
from tracker.services import clinics, patients
from tracker.services.access import Actor
from tracker.services.errors import ServiceError
from tracker.services.exports import export_clinic_pdf, export_csv, export_fhir, export_patient_pdf


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export measurements (CSV, FHIR R4) or a PDF report",
        description=(
            "Export one patient (--patient) or the whole clinic. The PDF of a patient is "
            "their progress report; without --patient it is the clinic outcome summary."
        ),
    )
    add_database_option(parser)
    parser.add_argument("--clinic", metavar="NAME", help="clinic name (default: the only one)")
    parser.add_argument("--format", required=True, choices=("csv", "pdf", "fhir"))
    parser.add_argument("--patient", metavar="CODE", help="patient code (default: everyone)")
    parser.add_argument("--out", required=True, type=Path, metavar="PATH")
    parser.set_defaults(handler=run)


def _export(args: argparse.Namespace) -> bytes:
    actor = Actor.operator(clinics.clinic_named_or_only(args.clinic).id)
    patient_id = patients.find_patient_by_code(actor, args.patient).id if args.patient else None
    today = date.today()
    if args.format == "csv":
        return export_csv(actor, patient_id=patient_id).encode()
    if args.format == "fhir":
        return json.dumps(export_fhir(actor, patient_id=patient_id), indent=2).encode()
    if patient_id is None:
        return export_clinic_pdf(actor, today=today)
    return export_patient_pdf(actor, patient_id, today=today)


def run(args: argparse.Namespace) -> int:
    open_database(args.db)
    try:
        data = _export(args)
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes)")
    return 0
