"""Clinic-wide anonymised data for outcome statistics (consenting patients only)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import String, func, select, type_coerce
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
from tracker.services.convert import ALL_FIGURES, clinic_record
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
        measurements = _measurement_rows(session, clinic.id)
        visits = _visit_rows(session, clinic.id)
        record_audit(session, actor, AuditAction.VIEW, "clinic_outcomes", clinic.id)
        return ClinicOutcomeData(
            clinic=clinic_record(clinic),
            measurements=measurements,
            visits=visits,
            patients_included=consent_counts.get(True, 0),
            patients_without_consent=consent_counts.get(False, 0),
        )


def _consenting(query: Any, clinic_id: int) -> Any:
    return (
        query.join(TreatmentCourse, TreatmentCourse.id == Visit.course_id)
        .join(Patient, Patient.id == TreatmentCourse.patient_id)
        .where(Patient.clinic_id == clinic_id, Patient.consent_outcome_statistics.is_(True))
    )


def _raw(column: Any) -> Any:
    # Enum columns are read as plain strings and mapped with a dict below: SQLAlchemy's
    # per-value enum processing dominated this query at clinic scale.
    return type_coerce(column, String)


def _measurement_rows(session: Session, clinic_id: int) -> tuple[OutcomeMeasurementRow, ...]:
    query = _consenting(
        select(
            Photo.id,
            Patient.id,
            _raw(Patient.condition),
            Patient.sex,
            Patient.birth_year,
            TreatmentCourse.id,
            _raw(TreatmentCourse.status),
            TreatmentCourse.planned_sessions,
            Visit.session_number,
            Visit.visit_date,
            _raw(Photo.view),
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
    ).order_by(Patient.id, TreatmentCourse.id, Visit.session_number, Photo.id, Measurement.id)
    conditions = {member.value: member for member in HairCondition}
    statuses = {member.value: member for member in CourseStatus}
    views = {member.value: member for member in PhotoView}
    names_by_view = {
        PhotoView.TRICHOSCOPY: tuple(
            (name, ALL_FIGURES.index(name)) for name in TRICHOSCOPY_FIGURES
        ),
        PhotoView.GLOBAL: tuple((name, ALL_FIGURES.index(name)) for name in GLOBAL_FIGURES),
    }
    newest: dict[int, OutcomeMeasurementRow] = {}
    # Plain Core rows: the ORM result layer adds nothing here but time.
    for row in session.connection().execute(query):
        view = views[row[10]]
        values = row[16:]
        # Rows come oldest measurement first: a re-analysis replaces the earlier figures.
        newest[row[0]] = OutcomeMeasurementRow(
            patient_key=row[1],
            condition=conditions[row[2]],
            sex=row[3],
            birth_year=row[4],
            course_id=row[5],
            course_status=statuses[row[6]],
            planned_sessions=row[7],
            session_number=row[8],
            visit_date=row[9],
            view=view,
            site=row[11],
            replicate_index=row[12],
            usable=bool(row[13] or row[14]),
            algorithm_version=row[15],
            figures={name: values[index] for name, index in names_by_view[view]},
        )
    return tuple(newest.values())


def _visit_rows(session: Session, clinic_id: int) -> tuple[OutcomeVisitRow, ...]:
    effects: dict[int, list[SideEffectEntry]] = defaultdict(list)
    kinds = {member.value: member for member in SideEffectKind}
    severities = {member.value: member for member in Severity}
    effect_query = _consenting(
        select(SideEffect.visit_id, _raw(SideEffect.kind), _raw(SideEffect.severity)).join(
            Visit, Visit.id == SideEffect.visit_id
        ),
        clinic_id,
    ).order_by(SideEffect.visit_id, SideEffect.kind)
    for visit_id, kind, severity in session.connection().execute(effect_query):
        effects[visit_id].append(SideEffectEntry(kinds[kind], severities[severity]))
    query = _consenting(
        select(
            Visit.id,
            Patient.id,
            _raw(Patient.condition),
            TreatmentCourse.id,
            _raw(TreatmentCourse.status),
            TreatmentCourse.planned_sessions,
            TreatmentCourse.interval_days,
            TreatmentCourse.start_date,
            Visit.session_number,
            Visit.visit_date,
            Visit.injections_given,
        ),
        clinic_id,
    ).order_by(Patient.id, TreatmentCourse.id, Visit.session_number)
    conditions = {member.value: member for member in HairCondition}
    statuses = {member.value: member for member in CourseStatus}
    return tuple(
        OutcomeVisitRow(
            patient_key=patient_id,
            condition=conditions[condition],
            course_id=course_id,
            course_status=statuses[status],
            planned_sessions=planned,
            interval_days=interval,
            start_date=start,
            session_number=number,
            visit_date=visit_date,
            injections_given=injections,
            side_effects=tuple(effects.get(visit_id, ())),
        )
        for (
            visit_id,
            patient_id,
            condition,
            course_id,
            status,
            planned,
            interval,
            start,
            number,
            visit_date,
            injections,
        ) in session.connection().execute(query)
    )
