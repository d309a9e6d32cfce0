"""Who may do what, and the audit trail of what they did.

Every use case runs inside :func:`reading_session` or :func:`writing_session` and reaches
patient data only through the ``*_for`` loaders below, which check the :class:`Actor`:
admins and clinicians see their own clinic, a patient account sees its one patient record.
Both the role checks and the loaders first make sure the actor's account is still active
and unchanged since it signed in, so a deactivated account is refused on its next call.
A refusal raises :class:`AccessDenied`; the refusal is audited in its own transaction,
since the use case's transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from db import read_session, write_session
from models import (
    AuditAction,
    AuditEvent,
    Patient,
    Photo,
    Role,
    TreatmentCourse,
    User,
    Visit,
)
from tracker.services.errors import NotFound, ServiceError

_PENDING_AUDIT = "tracker_pending_audit"
# How many use-case sessions are open in this thread (or task): refusals raised inside one
# are audited after its transaction has been rolled back, never while it holds a lock.
_open_sessions: ContextVar[int] = ContextVar("tracker_open_sessions", default=0)


@dataclass(frozen=True)
class Actor:
    """The user a use case acts for.

    ``user_id`` is ``None`` for the operator at the server's shell (the CLI), who acts as
    an admin of ``clinic_id``. ``patient_id`` is set exactly for patient accounts.
    """

    user_id: int | None
    role: Role
    clinic_id: int
    patient_id: int | None = None
    email: str = ""

    def __post_init__(self) -> None:
        # Accept the role's string value too (e.g. restored from a web session).
        object.__setattr__(self, "role", Role(self.role))

    @classmethod
    def operator(cls, clinic_id: int) -> Actor:
        return cls(user_id=None, role=Role.ADMIN, clinic_id=clinic_id, email="operator")


class AccessDenied(ServiceError):
    """The actor may not do this; the refusal is written to the audit trail."""

    def __init__(self, message: str, event: dict[str, Any]) -> None:
        super().__init__(message)
        self.event = event
        self.audited = False


class AccountInactive(AccessDenied):
    """The actor's account was deactivated, removed or changed since it signed in."""


def record_audit(
    session: Session,
    actor: Actor,
    action: AuditAction,
    entity: str,
    entity_id: int | None = None,
    *,
    patient_id: int | None = None,
    detail: str = "",
) -> None:
    """Note an audit event; it is written when the use case's session ends successfully."""
    session.info.setdefault(_PENDING_AUDIT, []).append(
        _event(actor, action, entity, entity_id, patient_id=patient_id, detail=detail)
    )


def deny(
    actor: Actor,
    message: str,
    entity: str,
    entity_id: int | None = None,
    *,
    patient_id: int | None = None,
    kind: type[AccessDenied] = AccessDenied,
) -> AccessDenied:
    """The exception (of class ``kind``) to raise for a refused request.

    Inside a use-case session the refusal is audited when it leaves the session (whose own
    transaction is rolled back); outside one it is audited here and now.
    """
    event = _event(
        actor, AuditAction.DENIED, entity, entity_id, patient_id=patient_id, detail=message
    )
    denial = kind(message, event)
    if _open_sessions.get() == 0:
        _audit_denial(denial)
    return denial


def require_active_account(actor: Actor, session: Session | None = None) -> None:
    """Raise :class:`AccountInactive` unless the actor's account is as it was at sign-in.

    One primary-key lookup (in ``session`` when given, else in a short read of its own).
    The CLI operator has no account and is not checked.
    """
    if actor.user_id is None:
        return
    if session is not None:
        _check_account(session, actor)
        return
    with read_session() as own:
        _check_account(own, actor)


def _check_account(session: Session, actor: Actor) -> None:
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active:
        message = "Your account has been deactivated. Ask your clinic's administrator."
    elif (user.role, user.clinic_id, user.patient_id) != (
        actor.role,
        actor.clinic_id,
        actor.patient_id,
    ):
        message = "Your account was changed since you signed in. Please log in again."
    else:
        return
    raise deny(actor, message, "user", actor.user_id, kind=AccountInactive)


def require_role(actor: Actor, *roles: Role, doing: str) -> None:
    require_active_account(actor)
    if actor.role not in roles:
        allowed = " or ".join(role.value for role in roles)
        raise deny(actor, f"Only {allowed} accounts may {doing}.", "role")


def require_staff(actor: Actor, *, doing: str) -> None:
    require_role(actor, Role.ADMIN, Role.CLINICIAN, doing=doing)


@contextmanager
def reading_session() -> Iterator[Session]:
    """A session for a use case that only reads; its audit events are written afterwards."""
    with _use_case(), read_session() as session:
        yield session
        pending = session.info.pop(_PENDING_AUDIT, [])
    # A read transaction on SQLite cannot turn into a write while others write, so the
    # trail of what was viewed gets a short write transaction of its own.
    _write_events(pending)


@contextmanager
def writing_session() -> Iterator[Session]:
    """A session committed with its audit events when the use case succeeds."""
    with _use_case(), write_session() as session:
        yield session
        session.add_all(AuditEvent(**event) for event in session.info.pop(_PENDING_AUDIT, []))


@contextmanager
def _use_case() -> Iterator[None]:
    token = _open_sessions.set(_open_sessions.get() + 1)
    try:
        try:
            yield
        finally:
            _open_sessions.reset(token)
    except AccessDenied as denial:
        if _open_sessions.get() == 0:
            _audit_denial(denial)
        raise


def patient_for(session: Session, actor: Actor, patient_id: int, *, doing: str) -> Patient:
    """The patient, if ``actor`` may see it; else :class:`AccessDenied` (or NotFound)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    check_patient(actor, patient, doing=doing)
    return patient


def patient_by_code_for(session: Session, actor: Actor, code: str, *, doing: str) -> Patient:
    patient = session.scalar(
        select(Patient).where(Patient.clinic_id == actor.clinic_id, Patient.code == code)
    )
    if patient is None:
        raise NotFound(f"There is no patient with code {code!r} in your clinic.")
    check_patient(actor, patient, doing=doing)
    return patient


def course_for(session: Session, actor: Actor, course_id: int, *, doing: str) -> TreatmentCourse:
    course = session.get(TreatmentCourse, course_id)
    if course is None:
        raise NotFound(f"There is no treatment course with id {course_id}.")
    check_patient(actor, course.patient, doing=doing)
    return course


def visit_for(session: Session, actor: Actor, visit_id: int, *, doing: str) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"There is no visit with id {visit_id}.")
    check_patient(actor, visit.course.patient, doing=doing)
    return visit


def photo_for(session: Session, actor: Actor, photo_id: int, *, doing: str) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"There is no photo with id {photo_id}.")
    check_patient(actor, photo.visit.course.patient, doing=doing)
    return photo


def check_patient(actor: Actor, patient: Patient, *, doing: str) -> None:
    """Raise :class:`AccessDenied` unless ``actor`` may ``doing`` this patient's data."""
    require_active_account(actor, object_session(patient))
    if actor.role is Role.PATIENT:
        allowed = actor.patient_id == patient.id
        reason = f"A patient account may only {doing} its own record."
    else:
        allowed = actor.clinic_id == patient.clinic_id
        reason = f"You may not {doing} a patient of another clinic."
    if not allowed:
        raise deny(actor, reason, "patient", patient.id, patient_id=patient.id)


def _event(
    actor: Actor,
    action: AuditAction,
    entity: str,
    entity_id: int | None,
    *,
    patient_id: int | None,
    detail: str,
) -> dict[str, Any]:
    return {
        "actor_user_id": actor.user_id,
        "actor_role": actor.role.value if actor.user_id is not None else "operator",
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "clinic_id": actor.clinic_id,
        "patient_id": patient_id,
        "detail": detail,
    }


def _audit_denial(denial: AccessDenied) -> None:
    if not denial.audited:
        _write_events([denial.event])
        denial.audited = True


def _write_events(events: list[dict[str, Any]]) -> None:
    if not events:
        return
    with write_session() as session:
        session.add_all(AuditEvent(**event) for event in events)
