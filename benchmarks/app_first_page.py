"""How long the first page after log-in takes to render with 1,000 patients in the database.

Builds a scratch clinic of ``--patients`` patients (default 1,000), each with a course of
``--sessions`` measured visits and two measured photos a visit, then logs in through the
log-in form of ``app.py`` (Streamlit's AppTest, in this process) as each role and times the
script run from pressing "Log in" to the rendered first page: password check, session
set-up, the page's service calls and rendering. Browser paint and network are not included.

    python benchmarks/app_first_page.py [--patients 1000] [--repeats 5]

The rows are written straight through the ORM (measuring 12,000 photos with the engine
would take hours); one stored phantom photo stands in for every photo file.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSWORD = "benchmark-password"
LIMIT_S = 2.0


def build_clinic(patient_count: int, sessions: int) -> dict[str, str]:
    """A clinic with ``patient_count`` measured patients; returns the log-in email per role."""
    import db
    from models import (
        Clinic,
        CourseStatus,
        HairCondition,
        Measurement,
        Patient,
        Photo,
        PhotoView,
        Role,
        TreatmentCourse,
        User,
        Visit,
    )
    from tracker.analysis import ALGORITHM_VERSION
    from tracker.photostore import default_store
    from tracker.services.auth import hash_password

    rng = np.random.default_rng(1000)
    # A visit holds each file once, so the two replicates need two different files.
    replicate_files = []
    for _replicate in range(2):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (640, 800, 3), dtype=np.uint8)).save(buffer, "JPEG")
        replicate_files.append((default_store().put(buffer.getvalue(), "jpg").sha256, buffer))
    password_hash = hash_password(PASSWORD)
    start = date.today() - timedelta(days=7 * sessions)
    with db.write_session() as session:
        clinic = Clinic(name="Benchmark clinic")
        session.add(clinic)
        session.flush()
        patients = []
        for number in range(patient_count):
            baseline = float(rng.uniform(110, 190))
            gain = float(rng.uniform(-0.05, 0.3))
            visits = []
            for session_number in range(sessions + 1):
                photos = []
                for replicate in range(2):
                    density = baseline * (1 + gain * session_number / sessions)
                    density *= float(rng.normal(1.0, 0.05))
                    photos.append(
                        Photo(
                            view=PhotoView.TRICHOSCOPY,
                            site="vertex target",
                            replicate_index=replicate,
                            sha256=replicate_files[replicate][0],
                            extension="jpg",
                            byte_size=len(replicate_files[replicate][1].getvalue()),
                            width_px=800,
                            height_px=640,
                            px_per_mm=64.0,
                            px_per_mm_source="device",
                            quality_ok=True,
                            measurements=[
                                Measurement(
                                    algorithm_version=ALGORITHM_VERSION,
                                    px_per_mm=64.0,
                                    px_per_mm_source="device",
                                    vellus_threshold_um=30.0,
                                    quality_ok=True,
                                    area_cm2=1.25,
                                    hair_count=round(density * 1.25),
                                    density_per_cm2=density,
                                    terminal_count=round(density * 1.25 * 0.85),
                                    vellus_count=round(density * 1.25 * 0.15),
                                    vellus_fraction=0.15,
                                    mean_width_um=float(rng.normal(60, 3)),
                                    follicular_units=round(density * 1.25 / 2),
                                    hairs_per_unit=2.0,
                                )
                            ],
                        )
                    )
                visits.append(
                    Visit(
                        session_number=session_number,
                        visit_date=start + timedelta(days=7 * session_number),
                        photos=photos,
                    )
                )
            patient = Patient(
                clinic_id=clinic.id,
                code=f"B-{number:04d}",
                name=f"Benchmark Patient {number}",
                sex="female",
                condition=HairCondition.ANDROGENETIC_ALOPECIA,
                consent_photography=True,
                consent_outcome_statistics=True,
                courses=[
                    TreatmentCourse(
                        planned_sessions=sessions,
                        interval_days=7,
                        start_date=start,
                        status=CourseStatus.ACTIVE,
                        visits=visits,
                    )
                ],
            )
            patients.append(patient)
        session.add_all(patients)
        session.flush()
        emails = {}
        for role in Role:
            email = f"{role.value}@benchmark.test"
            session.add(
                User(
                    clinic_id=clinic.id,
                    email=email,
                    role=role,
                    password_hash=password_hash,
                    patient_id=patients[0].id if role is Role.PATIENT else None,
                )
            )
            emails[role.value] = email
    return emails


def time_first_page(email: str, repeats: int) -> list[float]:
    """Seconds from pressing "Log in" to the rendered first page, one per fresh session."""
    from streamlit.testing.v1 import AppTest

    timings = []
    for _ in range(repeats):
        app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
        app.text_input[0].input(email)
        app.text_input[1].input(PASSWORD)
        started = time.perf_counter()
        app.button[0].click().run()
        timings.append(time.perf_counter() - started)
        if app.exception or not app.sidebar.button:
            raise RuntimeError(f"log-in as {email} did not reach a page: {app.exception}")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["TRACKER_DATA_DIR"] = scratch
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/tracker.db"
        import db

        db.migrate_to_head(os.environ["DATABASE_URL"])
        db.configure(os.environ["DATABASE_URL"])
        built = time.perf_counter()
        emails = build_clinic(args.patients, args.sessions)
        print(
            f"database: {args.patients} patients × {args.sessions + 1} visits × 2 photos "
            f"(built in {time.perf_counter() - built:.1f} s); {os.cpu_count()} CPUs"
        )
        time_first_page(emails["clinician"], 1)  # imports and caches, not counted
        slowest = 0.0
        for role, email in emails.items():
            timings = time_first_page(email, args.repeats)
            slowest = max(slowest, statistics.median(timings))
            print(
                f"{role:<10} first page after log-in: median {statistics.median(timings):.2f} s, "
                f"max {max(timings):.2f} s over {len(timings)} log-ins"
            )
        db.dispose()
    verdict = "within" if slowest < LIMIT_S else "OVER"
    print(f"slowest role median {slowest:.2f} s: {verdict} the {LIMIT_S:.0f} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
