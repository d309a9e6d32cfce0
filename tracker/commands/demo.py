"""``python -m tracker demo seed [--if-empty]``: the demo clinic with phantom photos."""

from __future__ import annotations

import argparse
import os
import sys

from tracker import demo
from tracker.commands.db import add_database_option, open_database


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="seed a demo clinic to try the app with")
    actions = parser.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    seed = actions.add_parser(
        "seed",
        help="create the demo clinic, its accounts and patients with measured phantom photos",
    )
    add_database_option(seed)
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when the database already has accounts (what `make run` uses)",
    )
    seed.add_argument("--patients", type=int, default=12, help="number of patients (default 12)")
    seed.add_argument(
        "--sessions", type=int, default=10, help="treatment sessions after baseline (default 10)"
    )
    seed.add_argument(
        "--replicates",
        type=int,
        default=2,
        help="close-up photos at the baseline and every fifth visit (default 2)",
    )
    seed.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="processes measuring photos, one patient each at a time (default: all cores)",
    )
    seed.set_defaults(handler=_seed)


def _seed(args: argparse.Namespace) -> int:
    open_database(args.db)
    if not demo.database_is_empty():
        print(
            "The database already has accounts; the demo clinic was not seeded.",
            file=sys.stdout if args.if_empty else sys.stderr,
        )
        return 0 if args.if_empty else 1
    print(f"Seeding the demo clinic ({args.patients} patients, measuring every photo)…")
    logins = demo.seed_demo_clinic(
        patient_count=args.patients,
        sessions=args.sessions,
        replicates=args.replicates,
        workers=max(1, args.workers),
        report=lambda message: print(f"  {message}", flush=True),
    )
    print("Demo log-ins (change or deactivate them before real use):")
    for login in logins:
        print(f"  {login.who:<22} {login.email:<24} {login.password}")
    return 0
