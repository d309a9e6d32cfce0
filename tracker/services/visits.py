"""Treatment courses and their visits (session 0 is the baseline before any injection)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    COURSES_OLDEST_FIRST,
    AuditAction,
    CourseStatus,
    SideEffect,
    TreatmentCourse,
    Visit,
)
from tracker.services.access import (
    Actor,
    course_for,
    patient_for,
    reading_session,
    record_audit,
    require_staff,
    writing_session,
)
from tracker.services.convert import course_record, visit_record
from tracker.services.errors import DuplicateSession, InvalidInput
from tracker.services.records import CourseInput, CourseRecord, VisitInput, VisitRecord


def start_course(actor: Actor, patient_id: int, course: CourseInput) -> CourseRecord:
    require_staff(actor, doing="start treatment courses")
    if course.planned_sessions < 1 or course.interval_days < 1:
        raise InvalidInput("A course needs at least one session and an interval of a day or more.")
    with writing_session() as session:
        patient = patient_for(session, actor, patient_id, doing="start a course for")
        courses = session.scalars(
            select(TreatmentCourse)
            .where(TreatmentCourse.patient_id == patient.id)
            .order_by(*COURSES_OLDEST_FIRST)
        ).all()
        latest = courses[-1] if courses else None
        if latest is not None and not latest.status.ended:
            raise InvalidInput(
                f"{patient.code}'s course is still {latest.status.value}: mark it completed "
                "or stopped before starting the next. Nothing was saved."
            )
        if latest is not None and course.start_date < latest.start_date:
            raise InvalidInput(
                f"The next course must start on or after {latest.start_date}, when "
                f"{patient.code}'s last course started. Nothing was saved."
            )
        row = TreatmentCourse(
            patient_id=patient.id,
            treatment=course.treatment.strip() or "mesotherapy",
            product=course.product.strip(),
            planned_sessions=course.planned_sessions,
            interval_days=course.interval_days,
            start_date=course.start_date,
            status=course.status,
        )
        session.add(row)
        session.flush()
        record_audit(session, actor, AuditAction.CREATE, "course", row.id, patient_id=patient.id)
        return course_record(row)


def list_courses(actor: Actor, patient_id: int) -> list[CourseRecord]:
    """The patient's courses, oldest first."""
    with reading_session() as session:
        patient = patient_for(session, actor, patient_id, doing="view")
        courses = session.scalars(
            select(TreatmentCourse)
            .where(TreatmentCourse.patient_id == patient.id)
            .order_by(*COURSES_OLDEST_FIRST)
        )
        record_audit(session, actor, AuditAction.VIEW, "courses", patient_id=patient.id)
        return [course_record(course) for course in courses]


def find_visit(actor: Actor, course_id: int, session_number: int) -> VisitRecord | None:
    with reading_session() as session:
        course = course_for(session, actor, course_id, doing="view")
        visit = session.scalar(
            select(Visit).where(
                Visit.course_id == course.id, Visit.session_number == session_number
            )
        )
        if visit is None:
            return None
        record_audit(
            session, actor, AuditAction.VIEW, "visit", visit.id, patient_id=course.patient_id
        )
        return visit_record(visit)


def set_course_status(actor: Actor, course_id: int, status: CourseStatus) -> CourseRecord:
    require_staff(actor, doing="change treatment courses")
    with writing_session() as session:
        course = course_for(session, actor, course_id, doing="change a course of")
        course.status = status
        record_audit(
            session,
            actor,
            AuditAction.CHANGE,
            "course",
            course.id,
            patient_id=course.patient_id,
            detail=f"status {status.value}",
        )
        return course_record(course)


def session_number_concern(number: int, *, recorded: Sequence[int], planned: int) -> str | None:
    """Why session ``number`` may be a slip, for the clinician to confirm, or None: it skips
    sessions after the ``recorded`` ones, or lies beyond the ``planned`` sessions."""
    following = max(recorded, default=-1) + 1
    if number > following:
        skipped = (
            f"session {following}"
            if number == following + 1
            else f"sessions {following}–{number - 1}"
        )
        return f"session {number} skips {skipped}"
    if number > planned:
        return f"session {number} is beyond the {planned} planned sessions"
    return None


def record_visit(actor: Actor, course_id: int, visit: VisitInput) -> VisitRecord:
    """Record one session; a session number already used in the course saves nothing."""
    require_staff(actor, doing="record visits")
    if visit.session_number < 0:
        raise InvalidInput("Session numbers start at 0 (the baseline visit).")
    # A day's grace: the clinic's calendar may already be on the server's tomorrow.
    if visit.visit_date > date.today() + timedelta(days=1):
        raise InvalidInput(
            f"The visit date {visit.visit_date.isoformat()} is in the future; nothing was saved."
        )
    if visit.injections_given is not None and visit.injections_given < 0:
        raise InvalidInput("The number of injections cannot be negative.")
    kinds = [entry.kind for entry in visit.side_effects]
    if len(kinds) != len(set(kinds)):
        raise InvalidInput("Each side effect can be recorded once per visit.")
    try:
        with writing_session() as session:
            course = course_for(session, actor, course_id, doing="record a visit for")
            _check_session_free(session, course, visit.session_number)
            row = Visit(
                course_id=course.id,
                session_number=visit.session_number,
                visit_date=visit.visit_date,
                injections_given=visit.injections_given,
                notes=visit.notes,
                clinician_id=actor.user_id,
                side_effects=[
                    SideEffect(kind=entry.kind, severity=entry.severity)
                    for entry in visit.side_effects
                ],
            )
            session.add(row)
            session.flush()
            record_audit(
                session,
                actor,
                AuditAction.CREATE,
                "visit",
                row.id,
                patient_id=course.patient_id,
                detail=f"session {visit.session_number}",
            )
            return visit_record(row)
    except IntegrityError as error:
        # Lost a race with a concurrent save of the same session number.
        raise _duplicate(visit.session_number) from error


def _check_session_free(session: Session, course: TreatmentCourse, session_number: int) -> None:
    taken = session.scalar(
        select(Visit.id).where(Visit.course_id == course.id, Visit.session_number == session_number)
    )
    if taken is not None:
        raise _duplicate(session_number)


def _duplicate(session_number: int) -> DuplicateSession:
    return DuplicateSession(
        f"Session {session_number} is already recorded in this course; nothing was saved. "
        "Open that visit to add photos, or choose another session number."
    )
