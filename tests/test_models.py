"""Constraints the database itself enforces, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from db import read_session, write_session
from models import (
    Clinic,
    CourseStatus,
    HairCondition,
    Patient,
    Role,
    TreatmentCourse,
    User,
    Visit,
)


def _patient(clinic_id: int, code: str = "P1") -> Patient:
    return Patient(
        clinic_id=clinic_id, code=code, name="Name", sex="female", condition=HairCondition.OTHER
    )


def _clinic(name: str = "Clinic") -> int:
    with write_session() as session:
        clinic = Clinic(name=name)
        session.add(clinic)
        session.flush()
        return clinic.id


def test_patient_codes_are_unique_within_a_clinic_only(records: str) -> None:
    first, second = _clinic("First"), _clinic("Second")
    with write_session() as session:
        session.add_all([_patient(first), _patient(second)])
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(_patient(first))
    with read_session() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 2


def test_session_numbers_are_unique_per_course(records: str) -> None:
    clinic_id = _clinic()
    with write_session() as session:
        patient = _patient(clinic_id)
        course = TreatmentCourse(
            planned_sessions=4,
            interval_days=7,
            start_date=date(2026, 1, 5),
            status=CourseStatus.ACTIVE,
        )
        patient.courses.append(course)
        course.visits.append(Visit(session_number=0, visit_date=date(2026, 1, 5)))
        session.add(patient)
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(Visit(course_id=course.id, session_number=0, visit_date=date(2026, 1, 6)))


def test_only_patient_accounts_link_a_patient(records: str) -> None:
    clinic_id = _clinic()
    with pytest.raises(IntegrityError), write_session() as session:
        session.add(
            User(clinic_id=clinic_id, email="p@x.test", role=Role.PATIENT, password_hash="h")
        )


def test_deleting_a_patient_cascades_to_courses_visits_and_account(records: str) -> None:
    clinic_id = _clinic()
    with write_session() as session:
        patient = _patient(clinic_id)
        course = TreatmentCourse(
            planned_sessions=4,
            interval_days=7,
            start_date=date(2026, 1, 5),
            status=CourseStatus.ACTIVE,
        )
        course.visits.append(Visit(session_number=0, visit_date=date(2026, 1, 5)))
        patient.courses.append(course)
        session.add(patient)
        session.flush()
        session.add(
            User(
                clinic_id=clinic_id,
                email="p@x.test",
                role=Role.PATIENT,
                password_hash="h",
                patient_id=patient.id,
            )
        )
    with write_session() as session:
        session.execute(Patient.__table__.delete())
    with read_session() as session:
        for table in (TreatmentCourse, Visit, User):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_unknown_enum_values_are_refused(records: str) -> None:
    clinic_id = _clinic()
    with pytest.raises(StatementError), write_session() as session:
        patient = _patient(clinic_id)
        patient.condition = "baldness"  # type: ignore[assignment]
        session.add(patient)


def test_timestamps_come_back_in_utc(records: str) -> None:
    moment = datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    with write_session() as session:
        clinic = Clinic(name="Zoned", created_at=moment)
        session.add(clinic)
    with read_session() as session:
        stored = session.scalar(select(Clinic.created_at).where(Clinic.name == "Zoned"))
    assert stored == moment
    assert stored is not None and stored.tzinfo == UTC


def test_naive_timestamps_are_refused(records: str) -> None:
    with pytest.raises(StatementError), write_session() as session:
        session.add(Clinic(name="Naive", created_at=datetime(2026, 3, 1)))
