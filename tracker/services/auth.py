"""Login: argon2 password check with lock-out after repeated failures, and single sign-on.

Single sign-on only maps an identity that the identity provider has verified to an account
an administrator created: it never creates accounts.
"""

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
        return _actor_of(user)


def authenticate_identity(*, issuer: str, subject: str, email: str, email_verified: bool) -> Actor:
    """The actor of the active account whose email the identity provider has verified.

    ``issuer`` and ``subject`` (the ID token's ``iss`` and ``sub``) name the identity in the
    audit trail. Raises :class:`AuthenticationFailed`, with a message saying what to do, for
    a missing or unverified email, an email without an account and a deactivated account;
    each refusal is audited as a failed login. The password lock-out does not apply: it
    guards the password against guessing, and a verified identity is not a guess.
    """
    email = normalize_email(email)
    who = f"single sign-on {email} ({subject} at {issuer})"
    with write_session() as session:
        # Read only: a verified identity changes nothing on the account, not even its
        # failed-password count.
        user = session.scalar(select(User).where(User.email == email)) if email else None
        refusal = _identity_refusal(user, email, email_verified=email_verified is True)
        if user is None or refusal:
            session.add(_login_event(user, AuditAction.LOGIN_FAILED, detail=f"{who}: {refusal}"))
            # Committed on purpose: the refusal is audited although the login fails.
            session.commit()
            raise AuthenticationFailed(refusal)
        session.add(_login_event(user, AuditAction.LOGIN, detail=who))
        return _actor_of(user)


def _actor_of(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        role=user.role,
        clinic_id=user.clinic_id,
        patient_id=user.patient_id,
        email=user.email,
    )


def _identity_refusal(user: User | None, email: str, *, email_verified: bool) -> str:
    """Why this identity may not sign in, for the person at the screen ("" if it may)."""
    if not email:
        return (
            "Your identity provider did not send an email address, so no account can be "
            "found. Log in with your email and password instead."
        )
    if not email_verified:
        return (
            f"Your identity provider has not verified the email address {email}. Verify it "
            "there, or log in with your email and password."
        )
    if user is None:
        return (
            f"There is no account for {email}. Accounts are created by your clinic's "
            "administrator; signing in with an identity provider never creates one."
        )
    if not user.is_active:
        return f"The account {email} has been deactivated. Ask your clinic's administrator."
    return ""


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not the password of anyone")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _login_event(user: User | None, action: AuditAction, *, detail: str = "") -> AuditEvent:
    """A login event; one that matches no account belongs to no clinic."""
    if user is None:
        return AuditEvent(
            actor_user_id=None, actor_role="anonymous", action=action, entity="user", detail=detail
        )
    return AuditEvent(
        actor_user_id=user.id,
        actor_role=user.role.value,
        action=action,
        entity="user",
        entity_id=user.id,
        clinic_id=user.clinic_id,
        patient_id=user.patient_id,
        detail=detail,
    )
