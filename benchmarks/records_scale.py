"""Records at clinic scale: bulk import of measured rows, then the clinic outcomes query.

    python benchmarks/records_scale.py [--patients 1000] [--sessions 10] [--replicates 3]
        [--backends sqlite,postgresql]

For each backend a scratch database (a temporary SQLite file; a uniquely named database on
TEST_POSTGRES_URL, dropped afterwards) is migrated, filled with PATIENTS patients, each with
a baseline and SESSIONS visits holding REPLICATES measured trichoscopy photos (rows only, no
image files), and then queried through the services as the clinic's admin: the outcomes
page's ``progress.clinic_cohort`` and the patient list. Prints seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import db
from db.migrate import migrate_to_head
from models import (
    Clinic,
    ContraindicationKind,
    CourseStatus,
    HairCondition,
    Measurement,
    Patient,
    Photo,
    PhotoView,
    Role,
    Severity,
    SideEffect,
    SideEffectKind,
    TreatmentCourse,
    Visit,
)
from tracker.analysis import ALGORITHM_VERSION
from tracker.services import patients, progress
from tracker.services.access import Actor
from tracker.services.convert import contraindication_column

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUERY_REPEATS = 3
T = TypeVar("T")


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    server = make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    libpq = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"tracker_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        db.dispose()
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(url: str, patient_count: int, sessions: int, replicates: int) -> int:
    """Insert the rows in bulk; returns the clinic id."""
    rng = np.random.default_rng(0)
    now = datetime.now(UTC)
    start = date(2026, 1, 5)
    conditions = list(HairCondition)
    patient_rows, course_rows, visit_rows, effect_rows, photo_rows, measure_rows = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for p in range(1, patient_count + 1):
        patient_rows.append(
            {
                "id": p,
                "clinic_id": 1,
                "code": f"P{p:05d}",
                "name": f"Patient {p}",
                "sex": ("female", "male")[p % 2],
                "birth_year": 1960 + p % 40,
                "condition": conditions[p % len(conditions)],
                "consent_photography": True,
                "consent_outcome_statistics": p % 10 != 0,
                "created_at": now,
                **{contraindication_column(kind): False for kind in ContraindicationKind},
            }
        )
        course_rows.append(
            {
                "id": p,
                "patient_id": p,
                "treatment": "mesotherapy",
                "product": "cocktail",
                "planned_sessions": sessions,
                "interval_days": 7,
                "start_date": start,
                "status": CourseStatus.ACTIVE,
                "created_at": now,
            }
        )
        baseline = rng.normal(160, 30)
        for s in range(sessions + 1):
            visit_id = len(visit_rows) + 1
            visit_rows.append(
                {
                    "id": visit_id,
                    "course_id": p,
                    "session_number": s,
                    "visit_date": start + timedelta(days=7 * s),
                    "injections_given": 35 if s else None,
                    "notes": "",
                    "created_at": now,
                }
            )
            if s and rng.random() < 0.3:
                effect_rows.append(
                    {
                        "id": len(effect_rows) + 1,
                        "visit_id": visit_id,
                        "kind": SideEffectKind.REDNESS,
                        "severity": Severity.MILD,
                    }
                )
            for r in range(replicates):
                photo_id = len(photo_rows) + 1
                density = float(baseline + 1.5 * s + rng.normal(0, 8))
                photo_rows.append(
                    {
                        "id": photo_id,
                        "visit_id": visit_id,
                        "view": PhotoView.TRICHOSCOPY,
                        "site": "vertex",
                        "replicate_index": r,
                        "sha256": hashlib.sha256(str(photo_id).encode()).hexdigest(),
                        "extension": "jpg",
                        "byte_size": 400_000,
                        "width_px": 1600,
                        "height_px": 1200,
                        "px_per_mm": 160.0,
                        "px_per_mm_source": "device",
                        "original_filename": "",
                        "quality_ok": True,
                        "quality_issues": [],
                        "accepted_despite_flags": False,
                        "created_at": now,
                    }
                )
                measure_rows.append(
                    {
                        "id": photo_id,
                        "photo_id": photo_id,
                        "algorithm_version": ALGORITHM_VERSION,
                        "px_per_mm": 160.0,
                        "px_per_mm_source": "device",
                        "vellus_threshold_um": 30.0,
                        "quality_ok": True,
                        "quality_issues": [],
                        "area_cm2": 0.75,
                        "hair_count": round(density * 0.75),
                        "density_per_cm2": density,
                        "terminal_count": round(density * 0.6),
                        "vellus_count": round(density * 0.15),
                        "vellus_fraction": 0.2,
                        "mean_width_um": 62.0,
                        "follicular_units": round(density * 0.4),
                        "hairs_per_unit": 1.9,
                        "coverage_pct": None,
                        "widths_um": [],
                        "overlay_sha256": None,
                        "created_at": now,
                    }
                )
    with db.write_session() as session:
        session.execute(insert(Clinic), [{"id": 1, "name": "Bench", "created_at": now}])
        for model, rows in (
            (Patient, patient_rows),
            (TreatmentCourse, course_rows),
            (Visit, visit_rows),
            (SideEffect, effect_rows),
            (Photo, photo_rows),
            (Measurement, measure_rows),
        ):
            session.execute(insert(model), rows)
        if session.get_bind().dialect.name == "postgresql":
            for table in (
                "clinics",
                "patients",
                "treatment_courses",
                "visits",
                "side_effects",
                "photos",
                "measurements",
            ):
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    with db.write_session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
    return 1


def timed(action: Callable[[], T]) -> tuple[float, float, T]:
    """Wall-clock and this process's CPU seconds (the machine may be shared), and result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run(backend: str, patient_count: int, sessions: int, replicates: int) -> None:
    with scratch_database(backend) as url:
        migrate_to_head(url)
        db.configure(url)
        fill_wall, fill_cpu, clinic_id = timed(
            lambda: fill(url, patient_count, sessions, replicates)
        )
        admin = Actor(user_id=None, role=Role.ADMIN, clinic_id=clinic_id)
        query_times = [timed(lambda: progress.clinic_cohort(admin)) for _ in range(QUERY_REPEATS)]
        list_wall, list_cpu, listed = timed(lambda: patients.list_patients(admin))
        search_wall, search_cpu, _ = timed(lambda: patients.list_patients(admin, "P0099"))
        db.dispose()
    cohort = query_times[-1][2].cohort
    visits = patient_count * (sessions + 1)
    print(
        f"{backend:10s} bulk insert {patient_count} patients × {sessions + 1} visits × "
        f"{replicates} photos ({visits * replicates} measured photos): "
        f"{fill_wall:.2f} s wall, {fill_cpu:.2f} s cpu"
    )
    print(
        f"{backend:10s} clinic_cohort ({cohort.consenting_patients} consenting patients, "
        f"{cohort.excluded_without_consent} left out): first {query_times[0][0]:.3f} s wall / "
        f"{query_times[0][1]:.3f} s cpu; median of {QUERY_REPEATS} "
        f"{statistics.median(t[0] for t in query_times):.3f} s wall / "
        f"{statistics.median(t[1] for t in query_times):.3f} s cpu"
    )
    print(
        f"{backend:10s} list_patients ({len(listed)} patients): {list_wall:.3f} s wall / "
        f"{list_cpu:.3f} s cpu; search {search_wall:.3f} s wall / {search_cpu:.3f} s cpu"
    )
    print(
        f"{backend:10s} load average during run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run(backend, args.patients, args.sessions, args.replicates)


if __name__ == "__main__":
    main()
