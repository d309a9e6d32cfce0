"""Accounts: admins create clinician and patient accounts, reset passwords, deactivate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import AuditAction, Patient, Role, User
from tracker.services.access import (
    Actor,
    check_patient,
    deny,
    reading_session,
    record_audit,
    require_active_account,
    require_role,
    writing_session,
)
from tracker.services.auth import hash_password, normalize_email
from tracker.services.convert import user_record
from tracker.services.errors import InvalidInput, NotFound
from tracker.services.records import UserRecord


def create_user(
    actor: Actor,
    *,
    role: Role,
    email: str,
    password: str,
    display_name: str = "",
    patient_id: int | None = None,
) -> UserRecord:
    """A new account in the actor's clinic; a patient account names its patient record."""
    require_role(actor, Role.ADMIN, doing="create accounts")
    email = normalize_email(email)
    if "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address.")
    if (role is Role.PATIENT) != (patient_id is not None):
        raise InvalidInput("A patient account needs a patient record, and only it has one.")
    password_hash = hash_password(password)
    try:
        with writing_session() as session:
            if patient_id is not None:
                patient = session.get(Patient, patient_id)
                if patient is None:
                    raise NotFound(f"There is no patient with id {patient_id}.")
                check_patient(actor, patient, doing="create an account for")
            user = User(
                clinic_id=actor.clinic_id,
                email=email,
                display_name=display_name,
                role=role,
                password_hash=password_hash,
                patient_id=patient_id,
                is_active=True,
                failed_login_count=0,
            )
            session.add(user)
            session.flush()
            record_audit(
                session,
                actor,
                AuditAction.CREATE,
                "user",
                user.id,
                patient_id=patient_id,
                detail=f"{role.value} account {email}",
            )
            return user_record(user)
    except IntegrityError as error:
        raise InvalidInput(
            f"{email} already has an account, or the patient already has one."
        ) from error


def list_users(actor: Actor) -> list[UserRecord]:
    require_role(actor, Role.ADMIN, doing="list accounts")
    with reading_session() as session:
        users = session.scalars(
            select(User).where(User.clinic_id == actor.clinic_id).order_by(User.email)
        )
        record_audit(session, actor, AuditAction.VIEW, "users")
        return [user_record(user) for user in users]


def user_by_email(actor: Actor, email: str) -> UserRecord:
    require_role(actor, Role.ADMIN, doing="look up accounts")
    with reading_session() as session:
        user = session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            raise NotFound(f"There is no account for {email}.")
        if user.clinic_id != actor.clinic_id:
            raise deny(actor, "You may not manage accounts of another clinic.", "user", user.id)
        record_audit(session, actor, AuditAction.VIEW, "user", user.id)
        return user_record(user)


def reset_password(actor: Actor, user_id: int, new_password: str) -> UserRecord:
    """Set a new password and lift any lock-out (admins, or the account holder)."""
    if actor.user_id != user_id:
        require_role(actor, Role.ADMIN, doing="reset another account's password")
    else:
        require_active_account(actor)
    password_hash = hash_password(new_password)
    with writing_session() as session:
        user = _user_in_clinic(session, actor, user_id)
        user.password_hash = password_hash
        user.failed_login_count = 0
        user.locked_until = None
        record_audit(session, actor, AuditAction.CHANGE, "user", user.id, detail="password reset")
        return user_record(user)


def deactivate_user(actor: Actor, user_id: int) -> UserRecord:
    require_role(actor, Role.ADMIN, doing="deactivate accounts")
    if actor.user_id == user_id:
        raise InvalidInput("You cannot deactivate your own account.")
    with writing_session() as session:
        user = _user_in_clinic(session, actor, user_id)
        user.is_active = False
        record_audit(session, actor, AuditAction.CHANGE, "user", user.id, detail="deactivated")
        return user_record(user)


def _user_in_clinic(session: Session, actor: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no account with id {user_id}.")
    if user.clinic_id != actor.clinic_id:
        raise deny(actor, "You may not manage accounts of another clinic.", "user", user_id)
    return user
