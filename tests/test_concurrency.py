"""Eight writers at once on one database lose nothing and duplicate nothing."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from db import read_session
from models import HairCondition, Photo, PhotoView, Visit
from tests.conftest import ClinicStaff, scalp_png
from tracker.services import integrity, patients, photos, visits
from tracker.services.errors import DuplicateSession
from tracker.services.records import CourseInput, PatientInput, PhotoUpload, VisitInput

WRITERS = 8
SESSIONS = 6
OWN_PHOTOS = 2
SHARED_SEED = 1


@pytest.mark.usefixtures("quick_measure")
def test_concurrent_visits_and_photos(clinic: ClinicStaff) -> None:
    patient = patients.register_patient(
        clinic.clinician,
        PatientInput("P001", "Name", "female", HairCondition.OTHER, consent_photography=True),
    )
    start = date(2026, 1, 5)
    course = visits.start_course(clinic.clinician, patient.id, CourseInput(SESSIONS, 7, start))
    baseline = visits.record_visit(clinic.clinician, course.id, VisitInput(0, start))
    uploads = {
        writer: [
            PhotoUpload(scalp_png(10 + writer * OWN_PHOTOS + k), PhotoView.TRICHOSCOPY, "vertex")
            for k in range(OWN_PHOTOS)
        ]
        + [PhotoUpload(scalp_png(SHARED_SEED), PhotoView.TRICHOSCOPY, "vertex")]
        for writer in range(WRITERS)
    }
    barrier = threading.Barrier(WRITERS)

    def write(writer: int) -> tuple[list[int], int, list[str]]:
        barrier.wait()
        won, refused = [], 0
        # Every writer races every other for the same session numbers.
        for number in range(1, SESSIONS + 1):
            try:
                visits.record_visit(
                    clinic.clinician,
                    course.id,
                    VisitInput(number, start + timedelta(days=7 * number)),
                )
                won.append(number)
            except DuplicateSession:
                refused += 1
        results = photos.add_photos(clinic.clinician, baseline.id, uploads[writer])
        return won, refused, [result.status for result in results]

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(write, range(WRITERS)))

    won = sorted(number for numbers, _, _ in outcomes for number in numbers)
    assert won == list(range(1, SESSIONS + 1))
    assert sum(refused for _, refused, _ in outcomes) == WRITERS * SESSIONS - SESSIONS
    statuses = Counter(status for _, _, batch in outcomes for status in batch)
    assert statuses == {"added": WRITERS * OWN_PHOTOS + 1, "duplicate": WRITERS - 1}

    with read_session() as session:
        numbers = session.scalars(
            select(Visit.session_number).where(Visit.course_id == course.id)
        ).all()
        stored = session.execute(
            select(Photo.sha256, Photo.replicate_index).where(Photo.visit_id == baseline.id)
        ).all()
    assert sorted(numbers) == list(range(SESSIONS + 1))
    assert len({sha for sha, _ in stored}) == len(stored) == WRITERS * OWN_PHOTOS + 1
    assert sorted(index for _, index in stored) == list(range(len(stored)))
    assert integrity.check_store().consistent
