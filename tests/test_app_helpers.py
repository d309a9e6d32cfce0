"""Shared set-up of the AppTest suites (``test_app_*.py``): a clinic on a scratch SQLite
database, with a patient measured over a few sessions, and apps signed in as anyone.

The photos are measured by the conftest's fast stand-in engine, which still measures the
uploaded pixels; the real engine is exercised by the browser tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import browser_session
from models import PhotoView, Role
from tests.conftest import TEST_PASSWORD, ClinicStaff, scalp_png
from tracker.services import patients, photos, users, visits
from tracker.services.access import Actor
from tracker.services.records import CourseInput, PatientInput, PhotoUpload, VisitInput

APP = Path(__file__).resolve().parents[1] / "app.py"
# The first run imports pandas, altair and the services; later runs are fast.
RUN_TIMEOUT_S = 60
PX_PER_MM = 100.0
# Run these suites on SQLite only: the services' own tests cover PostgreSQL.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@dataclass(frozen=True)
class DemoClinic:
    staff: ClinicStaff
    patient_id: int
    other_patient_id: int
    patient: Actor
    patient_email: str


def patient_with_visits(
    clinician: Actor,
    code: str,
    *,
    sessions: int,
    replicates: int,
    strokes_gained: int,
    planned_sessions: int | None = None,
) -> int:
    """A consenting patient whose photos gain ``strokes_gained`` hair strokes a session,
    photographed at sessions 0 to ``sessions`` of a course of ``planned_sessions`` (as
    many by default)."""
    record = patients.register_patient(
        clinician,
        PatientInput(
            code=code,
            name=f"Patient {code}",
            sex="female",
            condition="androgenetic_alopecia",
            consent_photography=True,
            consent_outcome_statistics=True,
        ),
    )
    course = visits.start_course(
        clinician,
        record.id,
        CourseInput(
            planned_sessions=planned_sessions or sessions,
            interval_days=7,
            start_date=date(2026, 1, 5),
        ),
    )
    for number in range(sessions + 1):
        visit = visits.record_visit(
            clinician,
            course.id,
            VisitInput(session_number=number, visit_date=date(2026, 1, 5) + timedelta(7 * number)),
        )
        photos.add_photos(
            clinician,
            visit.id,
            [
                PhotoUpload(
                    data=scalp_png(seed=100 * number + replicate + strokes_gained * number),
                    view=PhotoView.TRICHOSCOPY,
                    site="vertex target",
                    filename=f"{code}-{number}-{replicate}.png",
                    px_per_mm=PX_PER_MM,
                )
                for replicate in range(replicates)
            ],
        )
    return record.id


def build_demo_clinic(clinic: ClinicStaff) -> DemoClinic:
    """Two measured patients of ``clinic`` (photos measured by the ``quick_measure`` engine)."""
    patient_id = patient_with_visits(
        clinic.clinician, "P-001", sessions=3, replicates=2, strokes_gained=5
    )
    # Half-way through its course: the visit form's next session is within the plan.
    other_id = patient_with_visits(
        clinic.clinician, "P-002", sessions=2, replicates=1, strokes_gained=0, planned_sessions=4
    )
    email = "patient1@clinic-a.test"
    account = users.create_user(
        clinic.admin, role=Role.PATIENT, email=email, password=TEST_PASSWORD, patient_id=patient_id
    )
    patient = Actor(account.id, Role.PATIENT, clinic.clinic.id, patient_id=patient_id, email=email)
    return DemoClinic(clinic, patient_id, other_id, patient, email)


def button(app: AppTest, label: str):
    """The one button of ``app`` labelled ``label``."""
    (found,) = [b for b in app.button if b.label == label]
    return found


def app_signed_in_as(actor: Actor) -> AppTest:
    """The app after a successful log-in of ``actor`` (the log-in form has its own tests)."""
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    app.session_state[browser_session.ACTOR_KEY] = actor
    app.session_state[browser_session.LAST_ACTIVITY_KEY] = time.time()
    return app.run()


def open_page(app: AppTest, page: str, **query: int) -> AppTest:
    app.query_params.clear()
    app.query_params.update({name: str(value) for name, value in query.items()})
    return app.switch_page(page).run()


def texts(app: AppTest) -> str:
    """Everything the page says, to assert on."""
    parts = [element.value for element in app.markdown] + [element.value for element in app.title]
    for kind in (app.error, app.warning, app.info, app.success, app.caption, app.subheader):
        parts.extend(str(element.value) for element in kind)
    return "\n".join(str(part) for part in parts)
