"""Patients: registration, lists and search, the full record, consent, deletion."""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models import (
    COURSES_OLDEST_FIRST,
    AuditAction,
    ContraindicationKind,
    Measurement,
    Patient,
    Photo,
    Role,
    TreatmentCourse,
    Visit,
)
from tracker.photostore import OVERLAY_EXTENSION, default_store
from tracker.services.access import (
    Actor,
    deny,
    patient_by_code_for,
    patient_for,
    reading_session,
    record_audit,
    require_role,
    require_staff,
    writing_session,
)
from tracker.services.convert import (
    contraindication_column,
    course_record,
    patient_record,
    photo_record,
    visit_record,
)
from tracker.services.errors import InvalidInput
from tracker.services.records import (
    CourseFile,
    DeletionReport,
    PatientFile,
    PatientInput,
    PatientRecord,
    PatientSummary,
    VisitFile,
)

SEXES = ("female", "male", "other")


def register_patient(actor: Actor, patient: PatientInput) -> PatientRecord:
    """A new patient of the actor's clinic; positive contraindication screens are kept."""
    require_staff(actor, doing="register patients")
    _validate(patient)
    try:
        with writing_session() as session:
            row = Patient(
                clinic_id=actor.clinic_id,
                code=patient.code.strip(),
                name=patient.name.strip(),
                sex=patient.sex,
                birth_year=patient.birth_year,
                condition=patient.condition,
                stage_scale=patient.stage_scale,
                stage=patient.stage,
                consent_photography=patient.consent_photography,
                consent_outcome_statistics=patient.consent_outcome_statistics,
                **{
                    contraindication_column(kind): kind in patient.contraindications
                    for kind in ContraindicationKind
                },
            )
            session.add(row)
            session.flush()
            record = patient_record(row)
            record_audit(
                session,
                actor,
                AuditAction.CREATE,
                "patient",
                row.id,
                patient_id=row.id,
                detail="; ".join(record.contraindication_warnings),
            )
            return record
    except IntegrityError as error:
        raise InvalidInput(
            f"Your clinic already has a patient with code {patient.code!r}."
        ) from error


def update_consent(
    actor: Actor, patient_id: int, *, photography: bool, outcome_statistics: bool
) -> PatientRecord:
    with writing_session() as session:
        patient = patient_for(session, actor, patient_id, doing="change consent of")
        if actor.role is Role.PATIENT and (photography or outcome_statistics):
            # A patient may withdraw consent on their own; giving it is done with the clinic.
            photography = photography and patient.consent_photography
            outcome_statistics = outcome_statistics and patient.consent_outcome_statistics
        patient.consent_photography = photography
        patient.consent_outcome_statistics = outcome_statistics
        record_audit(
            session,
            actor,
            AuditAction.CHANGE,
            "patient",
            patient.id,
            patient_id=patient.id,
            detail=f"consent photography={photography} statistics={outcome_statistics}",
        )
        return patient_record(patient)


def list_patients(actor: Actor, search: str | None = None) -> list[PatientSummary]:
    """The clinic's patients, optionally those whose code or name contains ``search``."""
    require_staff(actor, doing="list patients")
    visit_stats = (
        select(
            TreatmentCourse.patient_id,
            func.count(func.distinct(TreatmentCourse.id)).label("courses"),
            func.count(Visit.id).label("visits"),
            func.max(Visit.visit_date).label("last_visit"),
        )
        .outerjoin(Visit, Visit.course_id == TreatmentCourse.id)
        .group_by(TreatmentCourse.patient_id)
        .subquery()
    )
    query = (
        select(Patient, visit_stats.c.courses, visit_stats.c.visits, visit_stats.c.last_visit)
        .outerjoin(visit_stats, visit_stats.c.patient_id == Patient.id)
        .where(Patient.clinic_id == actor.clinic_id)
        .order_by(Patient.code)
    )
    if search and search.strip():
        pattern = f"%{_escape_like(search.strip().lower())}%"
        query = query.where(
            or_(
                func.lower(Patient.code).like(pattern, escape="\\"),
                func.lower(Patient.name).like(pattern, escape="\\"),
            )
        )
    with reading_session() as session:
        rows = session.execute(query).all()
        record_audit(session, actor, AuditAction.VIEW, "patient_list", detail=search or "")
        return [
            PatientSummary(
                patient=patient_record(patient),
                course_count=courses or 0,
                visit_count=visits or 0,
                last_visit_date=_as_date(last_visit),
            )
            for patient, courses, visits, last_visit in rows
        ]


def get_patient(actor: Actor, patient_id: int) -> PatientRecord:
    with reading_session() as session:
        patient = patient_for(session, actor, patient_id, doing="view")
        record_audit(session, actor, AuditAction.VIEW, "patient", patient.id, patient_id=patient.id)
        return patient_record(patient)


def find_patient_by_code(actor: Actor, code: str) -> PatientRecord:
    with reading_session() as session:
        patient = patient_by_code_for(session, actor, code, doing="view")
        record_audit(session, actor, AuditAction.VIEW, "patient", patient.id, patient_id=patient.id)
        return patient_record(patient)


def patient_file(actor: Actor, patient_id: int) -> PatientFile:
    """Everything recorded about the patient, for a clinician or the patient themself."""
    with reading_session() as session:
        patient = patient_for(session, actor, patient_id, doing="view")
        courses = session.scalars(
            select(TreatmentCourse)
            .where(TreatmentCourse.patient_id == patient.id)
            .order_by(*COURSES_OLDEST_FIRST)
            .options(
                selectinload(TreatmentCourse.visits).selectinload(Visit.side_effects),
                selectinload(TreatmentCourse.visits)
                .selectinload(Visit.photos)
                .selectinload(Photo.measurements),
            )
        ).all()
        record_audit(
            session, actor, AuditAction.VIEW, "patient_file", patient.id, patient_id=patient.id
        )
        return PatientFile(
            patient=patient_record(patient),
            courses=tuple(
                CourseFile(
                    course=course_record(course),
                    visits=tuple(
                        VisitFile(
                            visit=visit_record(visit),
                            photos=tuple(
                                photo_record(photo)
                                for photo in sorted(
                                    visit.photos,
                                    key=lambda p: (p.view.value, p.site, p.replicate_index),
                                )
                            ),
                        )
                        for visit in course.visits
                    ),
                )
                for course in courses
            ),
        )


def own_patient_file(actor: Actor) -> PatientFile:
    """A patient account's own record."""
    require_role(actor, Role.PATIENT, doing="open their own record")
    if actor.patient_id is None:
        raise deny(actor, "This account is not linked to a patient record.", "patient")
    return patient_file(actor, actor.patient_id)


def delete_patient(actor: Actor, patient_id: int) -> DeletionReport:
    """Erase the patient, their account, visits, photos and measurements (their right).

    Rows go first; a file is then removed unless another row still refers to it (the same
    photo may have been uploaded for another patient). The audit trail keeps the event.
    """
    require_role(actor, Role.ADMIN, doing="delete patients")
    with writing_session() as session:
        patient = patient_for(session, actor, patient_id, doing="delete")
        photo_files = session.execute(
            select(Photo.sha256, Photo.extension)
            .join(Visit, Visit.id == Photo.visit_id)
            .join(TreatmentCourse, TreatmentCourse.id == Visit.course_id)
            .where(TreatmentCourse.patient_id == patient.id)
        ).all()
        overlay_hashes = session.scalars(
            select(Measurement.overlay_sha256)
            .join(Photo, Photo.id == Measurement.photo_id)
            .join(Visit, Visit.id == Photo.visit_id)
            .join(TreatmentCourse, TreatmentCourse.id == Visit.course_id)
            .where(
                TreatmentCourse.patient_id == patient.id, Measurement.overlay_sha256.is_not(None)
            )
        ).all()
        code = patient.code
        session.delete(patient)
        record_audit(
            session,
            actor,
            AuditAction.DELETE,
            "patient",
            patient_id,
            patient_id=patient_id,
            detail=f"patient {code}: {len(photo_files)} photos",
        )
    candidates = {(sha, ext) for sha, ext in photo_files} | {
        (sha, OVERLAY_EXTENSION) for sha in overlay_hashes if sha
    }
    files_removed = _remove_unreferenced_files(candidates)
    return DeletionReport(patient_id, code, len(photo_files), files_removed)


def _remove_unreferenced_files(candidates: set[tuple[str, str]]) -> int:
    """Delete those stored files that no photo or overlay row refers to any more."""
    store = default_store()
    removed = 0
    with reading_session() as session:
        for sha256, extension in sorted(candidates):
            if not _is_referenced(session, sha256) and store.delete(sha256, extension):
                removed += 1
    return removed


def _is_referenced(session: Session, sha256: str) -> bool:
    return bool(
        session.scalar(
            select(
                or_(
                    exists().where(Photo.sha256 == sha256),
                    exists().where(Measurement.overlay_sha256 == sha256),
                )
            )
        )
    )


def _validate(patient: PatientInput) -> None:
    if not patient.code.strip():
        raise InvalidInput("A patient needs a code.")
    if not patient.name.strip():
        raise InvalidInput("A patient needs a name.")
    if patient.sex not in SEXES:
        raise InvalidInput(f"Sex must be one of {', '.join(SEXES)}.")
    this_year = date.today().year
    if patient.birth_year is not None and not this_year - 120 <= patient.birth_year <= this_year:
        raise InvalidInput(f"{patient.birth_year} is not a plausible year of birth.")
    if (patient.stage is None) != (patient.stage_scale is None):
        raise InvalidInput("A stage needs its scale (Norwood–Hamilton or Ludwig), and vice versa.")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _as_date(value: object) -> date | None:
    # SQLite returns max() of a DATE column as text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
