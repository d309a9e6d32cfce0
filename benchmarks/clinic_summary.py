"""How long ``clinic_summary`` (the CLI summary, clinic CSV and FHIR exports) takes at scale.

    python benchmarks/clinic_summary.py [--patients 1000] [--sessions 10] [--replicates 3]
        [--backends sqlite,postgresql] [--repeats 3]

Fills a scratch database per backend with the rows of ``benchmarks/records_scale.py``
(PATIENTS patients, a baseline and SESSIONS visits of REPLICATES measured trichoscopy
photos each), then times ``progress.clinic_summary`` as the clinic's admin: the wall-clock
and CPU seconds of this process (the machine may be shared), first call and median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records_scale import fill, scratch_database, timed

import db
from db.migrate import migrate_to_head
from models import Role
from tracker.services import progress
from tracker.services.access import Actor


def run(backend: str, *, patients: int, sessions: int, replicates: int, repeats: int) -> None:
    with scratch_database(backend) as url:
        migrate_to_head(url)
        db.configure(url)
        clinic_id = fill(url, patients, sessions, replicates)
        admin = Actor(user_id=None, role=Role.ADMIN, clinic_id=clinic_id)
        times = [timed(lambda: progress.clinic_summary(admin)) for _ in range(repeats)]
        db.dispose()
    summary = times[-1][2]
    improving = sum(
        p.headline_site is not None and p.headline_site.headline.verdict == "improving"
        for p in summary.patients
    )
    print(
        f"{backend:10s} clinic_summary of {len(summary.patients)} patients × {sessions + 1} "
        f"visits × {replicates} photos ({improving} improving): first {times[0][0]:.2f} s wall / "
        f"{times[0][1]:.2f} s cpu; median of {repeats} "
        f"{statistics.median(t[0] for t in times):.2f} s wall / "
        f"{statistics.median(t[1] for t in times):.2f} s cpu; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run(
            backend,
            patients=args.patients,
            sessions=args.sessions,
            replicates=args.replicates,
            repeats=args.repeats,
        )


if __name__ == "__main__":
    main()
