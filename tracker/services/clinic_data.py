"""Clinic-wide anonymised data for outcome statistics (consenting patients only)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    AuditAction,
    Clinic,
    CourseStatus,
    HairCondition,
    Measurement,
    Patient,
    Photo,
    PhotoView,
    Severity,
    SideEffect,
    SideEffectKind,
    TreatmentCourse,
    Visit,
)
from tracker.measurement import GLOBAL_FIGURES, TRICHOSCOPY_FIGURES
from tracker.services.access import Actor, reading_session, record_audit, require_staff
from tracker.services.convert import ALL_FIGURES, clinic_record, enum_as_text
from tracker.services.errors import NotFound
from tracker.services.records import (
    ClinicOutcomeData,
    OutcomeMeasurementRow,
    OutcomeVisitRow,
    SideEffectEntry,
)


def clinic_outcome_data(actor: Actor) -> ClinicOutcomeData:
    """Every consenting patient's visits and newest measurement per photo, without names."""
    require_staff(actor, doing="view clinic outcomes")
    with reading_session() as session:
        clinic = session.get(Clinic, actor.clinic_id)
        if clinic is None:
            raise NotFound("Your clinic no longer exists.")
        consent_counts = dict(
            session.execute(
                select(Patient.consent_outcome_statistics, func.count())
                .where(Patient.clinic_id == clinic.id)
                .group_by(Patient.consent_outcome_statistics)
            ).all()
        )
        courses = _consenting_courses(session, clinic.id)
        measurements = _measurement_rows(session, clinic.id, courses)
        visits = _visit_rows(session, clinic.id, courses)
        record_audit(session, actor, AuditAction.VIEW, "clinic_outcomes", clinic.id)
        return ClinicOutcomeData(
            clinic=clinic_record(clinic),
            measurements=measurements,
            visits=visits,
            patients_included=consent_counts.get(True, 0),
            patients_without_consent=consent_counts.get(False, 0),
        )


@dataclass(frozen=True)
class _Course:
    patient_key: int
    condition: HairCondition
    sex: str
    birth_year: int | None
    status: CourseStatus
    planned_sessions: int
    interval_days: int
    start_date: date


def _consenting_courses(session: Session, clinic_id: int) -> dict[int, _Course]:
    """The courses of consenting patients, by id: looked up per row below rather than
    joined into every measurement row (the join made the query several times slower)."""
    conditions = {member.value: member for member in HairCondition}
    statuses = {member.value: member for member in CourseStatus}
    query = (
        select(
            TreatmentCourse.id,
            Patient.id,
            enum_as_text(Patient.condition),
            Patient.sex,
            Patient.birth_year,
            enum_as_text(TreatmentCourse.status),
            TreatmentCourse.planned_sessions,
            TreatmentCourse.interval_days,
            TreatmentCourse.start_date,
        )
        .join(Patient, Patient.id == TreatmentCourse.patient_id)
        .where(Patient.clinic_id == clinic_id, Patient.consent_outcome_statistics.is_(True))
        .order_by(Patient.id, TreatmentCourse.id)
    )
    return {
        course_id: _Course(
            patient_id,
            conditions[condition],
            sex,
            birth_year,
            statuses[status],
            planned,
            interval,
            start,
        )
        for (
            course_id,
            patient_id,
            condition,
            sex,
            birth_year,
            status,
            planned,
            interval,
            start,
        ) in session.execute(query).all()
    }


def _in_consenting_courses(query: Any, clinic_id: int) -> Any:
    return query.where(
        Visit.course_id.in_(
            select(TreatmentCourse.id)
            .join(Patient, Patient.id == TreatmentCourse.patient_id)
            .where(Patient.clinic_id == clinic_id, Patient.consent_outcome_statistics.is_(True))
        )
    )


def _measurement_rows(
    session: Session, clinic_id: int, courses: dict[int, _Course]
) -> tuple[OutcomeMeasurementRow, ...]:
    query = _in_consenting_courses(
        select(
            Photo.id,
            Visit.course_id,
            Visit.session_number,
            Visit.visit_date,
            enum_as_text(Photo.view),
            Photo.site,
            Photo.replicate_index,
            Photo.quality_ok,
            Photo.accepted_despite_flags,
            Measurement.algorithm_version,
            *(getattr(Measurement, name) for name in ALL_FIGURES),
        )
        .select_from(Measurement)
        .join(Photo, Photo.id == Measurement.photo_id)
        .join(Visit, Visit.id == Photo.visit_id),
        clinic_id,
    ).order_by(Visit.course_id, Visit.session_number, Photo.id, Measurement.id)
    views = {member.value: member for member in PhotoView}
    # The figure columns follow ALL_FIGURES: the trichoscopy figures, then the global ones.
    first = 10
    figure_columns = {
        PhotoView.TRICHOSCOPY: (TRICHOSCOPY_FIGURES, first, first + len(TRICHOSCOPY_FIGURES)),
        PhotoView.GLOBAL: (
            GLOBAL_FIGURES,
            first + len(TRICHOSCOPY_FIGURES),
            first + len(ALL_FIGURES),
        ),
    }
    newest: dict[int, OutcomeMeasurementRow] = {}
    # Plain Core rows fetched at once: the ORM result layer adds nothing here but time.
    for row in session.connection().execute(query).all():
        course = courses[row[1]]
        view = views[row[4]]
        names, start, end = figure_columns[view]
        # Rows come oldest measurement first: a re-analysis replaces the earlier figures.
        newest[row[0]] = OutcomeMeasurementRow(
            patient_key=course.patient_key,
            condition=course.condition,
            sex=course.sex,
            birth_year=course.birth_year,
            course_id=row[1],
            course_status=course.status,
            planned_sessions=course.planned_sessions,
            session_number=row[2],
            visit_date=row[3],
            view=view,
            site=row[5],
            replicate_index=row[6],
            usable=bool(row[7] or row[8]),
            algorithm_version=row[9],
            figures=dict(zip(names, row[start:end], strict=True)),
        )
    return tuple(newest.values())


def _visit_rows(
    session: Session, clinic_id: int, courses: dict[int, _Course]
) -> tuple[OutcomeVisitRow, ...]:
    effects: dict[int, list[SideEffectEntry]] = defaultdict(list)
    kinds = {member.value: member for member in SideEffectKind}
    severities = {member.value: member for member in Severity}
    effect_query = _in_consenting_courses(
        select(
            SideEffect.visit_id, enum_as_text(SideEffect.kind), enum_as_text(SideEffect.severity)
        ).join(Visit, Visit.id == SideEffect.visit_id),
        clinic_id,
    ).order_by(SideEffect.visit_id, SideEffect.kind)
    for visit_id, kind, severity in session.connection().execute(effect_query).all():
        effects[visit_id].append(SideEffectEntry(kinds[kind], severities[severity]))
    query = _in_consenting_courses(
        select(
            Visit.id,
            Visit.course_id,
            Visit.session_number,
            Visit.visit_date,
            Visit.injections_given,
        ),
        clinic_id,
    ).order_by(Visit.course_id, Visit.session_number)
    rows = []
    for visit_id, course_id, number, visit_date, injections in (
        session.connection().execute(query).all()
    ):
        course = courses[course_id]
        rows.append(
            OutcomeVisitRow(
                patient_key=course.patient_key,
                condition=course.condition,
                course_id=course_id,
                course_status=course.status,
                planned_sessions=course.planned_sessions,
                interval_days=course.interval_days,
                start_date=course.start_date,
                session_number=number,
                visit_date=visit_date,
                injections_given=injections,
                side_effects=tuple(effects.get(visit_id, ())),
            )
        )
    return tuple(rows)
