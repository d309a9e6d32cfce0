"""``python -m tracker photos reanalyse``: re-measure stored photos after an engine upgrade.

The operator at the server's shell acts as each clinic's admin (``Actor.operator``), as
``summary``, ``export`` and ``users`` do; the audit trail names the actor ``operator``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from tqdm import tqdm

from tracker.analysis import ALGORITHM_VERSION
from tracker.commands.analyze import EXIT_NOT_MEASURED, add_workers_option
from tracker.commands.db import add_database_option, open_database
from tracker.services import clinics
from tracker.services.access import Actor
from tracker.services.errors import ServiceError
from tracker.services.reanalysis import (
    ReanalysisOutcome,
    ReanalysisPlan,
    plan_reanalysis,
    reanalyse_photos,
)
from tracker.services.records import ClinicRecord

EXIT_INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("photos", help="maintain the stored photos' measurements")
    actions = parser.add_subparsers(dest="photos_command", required=True, metavar="ACTION")
    reanalyse = actions.add_parser(
        "reanalyse",
        help=f"re-measure stored photos with the current engine ({ALGORITHM_VERSION})",
        description=(
            "Re-measure every stored photo whose latest measurement is of another engine "
            "version, and register it again to its site's baseline; earlier measurements "
            "are kept. A photo's quality verdict follows its new measurement, and the photos "
            "whose verdict changed are listed for review. Each photo is saved on its own: an "
            "interrupted run can be run again."
        ),
    )
    add_database_option(reanalyse)
    reanalyse.add_argument(
        "--clinic", metavar="NAME", help="only this clinic (default: every clinic)"
    )
    reanalyse.add_argument(
        "--all",
        action="store_true",
        dest="every_photo",
        help="every photo, also those the current engine already measured",
    )
    add_workers_option(reanalyse)
    reanalyse.set_defaults(handler=_reanalyse)


def _reanalyse(args: argparse.Namespace) -> int:
    open_database(args.db)
    try:
        chosen = [clinics.find_clinic(args.clinic)] if args.clinic else clinics.list_clinics()
        plans = [
            (clinic, plan_reanalysis(Actor.operator(clinic.id), every_photo=args.every_photo))
            for clinic in chosen
        ]
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    outcomes: dict[int, list[ReanalysisOutcome]] = {clinic.id: [] for clinic in chosen}
    total = sum(plan.photo_count for _clinic, plan in plans)
    try:
        with tqdm(total=total, desc="Re-measuring", unit="photo", file=sys.stderr) as bar:
            for clinic, plan in plans:

                def done(outcome: ReanalysisOutcome, into: int = clinic.id) -> None:
                    outcomes[into].append(outcome)
                    bar.update()

                reanalyse_photos(
                    Actor.operator(clinic.id), plan, workers=max(1, args.workers), on_done=done
                )
    except KeyboardInterrupt:
        _print_summary(plans, outcomes)
        print("interrupted: run the command again to re-measure the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    _print_summary(plans, outcomes)
    failed = any(o.status == "failed" for done in outcomes.values() for o in done)
    return EXIT_NOT_MEASURED if failed else 0


def _print_summary(
    plans: list[tuple[ClinicRecord, ReanalysisPlan]],
    outcomes: dict[int, list[ReanalysisOutcome]],
) -> None:
    for clinic, plan in plans:
        done = sorted(outcomes[clinic.id], key=lambda outcome: outcome.photo_id)
        counts = Counter(outcome.status for outcome in done)
        not_reached = plan.photo_count - len(done)
        print(
            f"{clinic.name}: {counts['re-measured']} re-measured, {counts['unchanged']} "
            f"unchanged, {counts['failed']} failed"
            + (f", {not_reached} not reached" if not_reached else "")
            + f"; {plan.up_to_date} already measured by {ALGORITHM_VERSION}, left alone"
        )
        changes = Counter(o.detail for o in done if o.status == "re-measured")
        for change, count in sorted(changes.items()):
            print(f"  re-measured {count}: {change}")
        for outcome in done:
            if outcome.status == "failed":
                print(f"  photo {outcome.photo_id} failed: {outcome.detail}")
        changed = [outcome for outcome in done if outcome.verdict_change is not None]
        if changed:
            print(f"  quality verdict changed for {len(changed)}, to review:")
        for outcome in changed:
            print(f"    photo {outcome.photo_id} {outcome.verdict_change}")
