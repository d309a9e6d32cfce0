"""Login: argon2 password check with lock-out after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from db import write_session
from models import AuditAction, AuditEvent, User
from models.base import utc_now
from tracker.services.access import Actor
from tracker.services.errors import AccountLocked, AuthenticationFailed, InvalidInput

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> Actor:
    """The actor for these credentials.

    Raises :class:`AuthenticationFailed` (one message for unknown email, wrong password and
    inactive account) or :class:`AccountLocked` after ``MAX_FAILED_LOGINS`` failures in a
    row, for ``LOCKOUT``. A correct password under an outdated hash setting is rehashed.
    """
    with write_session() as session:
        user = session.scalar(
            select(User).where(User.email == normalize_email(email)).with_for_update()
        )
        if user is None:
            # As slow as a wrong password, so timing does not tell which emails exist.
            _verify(_dummy_hash(), password)
            raise AuthenticationFailed("Wrong email or password.")
        now = utc_now()
        if user.locked_until is not None and user.locked_until > now:
            raise AccountLocked(
                f"Too many failed logins; try again after {user.locked_until:%H:%M} UTC.",
                user.locked_until,
            )
        if not _verify(user.password_hash, password) or not user.is_active:
            user.failed_login_count += 1
            if user.failed_login_count >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_login_count = 0
            session.add(_login_event(user, AuditAction.LOGIN_FAILED))
            # Committed on purpose: the failure count must survive the refusal.
            session.commit()
            raise AuthenticationFailed("Wrong email or password.")
        user.failed_login_count = 0
        user.locked_until = None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        session.add(_login_event(user, AuditAction.LOGIN))
        return Actor(
            user_id=user.id,
            role=user.role,
            clinic_id=user.clinic_id,
            patient_id=user.patient_id,
            email=user.email,
        )


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not the password of anyone")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _login_event(user: User, action: AuditAction) -> AuditEvent:
    return AuditEvent(
        actor_user_id=user.id,
        actor_role=user.role.value,
        action=action,
        entity="user",
        entity_id=user.id,
        clinic_id=user.clinic_id,
        patient_id=user.patient_id,
    )
