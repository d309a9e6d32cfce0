"""``python -m tracker summary``: every patient's verdicts and the clinic's outcomes."""

from __future__ import annotations

import argparse
import json
import sys

from tracker.commands.db import add_database_option, open_database
from tracker.outcomes import cohort_json
from tracker.progress import HEADLINE_MEASURE, MEASURES_BY_VIEW
from tracker.services import clinics
from tracker.services.access import Actor
from tracker.services.errors import ServiceError
from tracker.services.progress import ClinicSummary, clinic_summary


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "summary",
        help="per-patient progress verdicts and clinic outcomes",
        description="Per-patient change with its noise band and verdict, and clinic outcomes.",
    )
    add_database_option(parser)
    parser.add_argument("--clinic", metavar="NAME", help="clinic name (default: the only one)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def summary_json(summary: ClinicSummary) -> dict[str, object]:
    """``{"patients": [...], "cohort": {...}}``: one patient object per view and site."""
    patients: list[dict[str, object]] = []
    for progress in summary.patients:
        if not progress.sites:
            patients.append({"code": progress.patient.code, "sessions": 0, "view": None})
        for site in progress.sites:
            patients.append(
                {
                    "code": progress.patient.code,
                    "sessions": site.measured_sessions,
                    "view": site.view,
                    "site": site.site,
                    "algorithm_version": site.version,
                    **{name: site.measures[name].to_json() for name in MEASURES_BY_VIEW[site.view]},
                    "explanation": site.headline.explanation,
                }
            )
    return {"patients": patients, "cohort": cohort_json(summary.cohort)}


def _text(summary: ClinicSummary) -> str:
    lines = [f"Clinic {summary.clinic.name}: {len(summary.patients)} patients"]
    for progress in summary.patients:
        for site in progress.sites:
            headline = site.measures[HEADLINE_MEASURE[site.view]]
            lines.append(f"  {progress.patient.code} {site.view}/{site.site}: {headline.verdict}")
            lines.append(f"    {headline.explanation}")
    measured = summary.cohort.measured_success
    advertised = summary.cohort.advertised_success_pct
    left_out = summary.cohort.overall.checkpoints[-1].not_comparable
    lines.append(
        f"Improving at end of course: {measured.successes}/{measured.total} consenting patients"
        + ("" if advertised is None else f" (advertised success rate {advertised:.0f} %)")
        + (
            f"; {left_out} not comparable (measured by another engine version: "
            "re-measure with `photos reanalyse`)"
            if left_out
            else ""
        )
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    open_database(args.db)
    try:
        summary = clinic_summary(Actor.operator(clinics.clinic_named_or_only(args.clinic).id))
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary_json(summary), indent=2))
    else:
        print(_text(summary))
    return 0
