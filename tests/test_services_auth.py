"""Login: argon2, lock-out after repeated failures, rehash, deactivation, single sign-on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from db import read_session, write_session
from models import AuditAction, AuditEvent, User
from models.base import utc_now
from tests.conftest import TEST_PASSWORD, ClinicStaff
from tracker.services import auth, users
from tracker.services.access import Actor
from tracker.services.auth import MAX_FAILED_LOGINS, authenticate, authenticate_identity
from tracker.services.errors import AccountLocked, AuthenticationFailed, InvalidInput


def test_correct_password_gives_the_actor(clinic: ClinicStaff) -> None:
    actor = authenticate("  Clinician@Clinic-A.test ", TEST_PASSWORD)
    assert actor == clinic.clinician


def test_wrong_password_and_unknown_email_get_the_same_answer(clinic: ClinicStaff) -> None:
    with pytest.raises(AuthenticationFailed, match="Wrong email or password") as wrong:
        authenticate("clinician@clinic-a.test", "not the password")
    with pytest.raises(AuthenticationFailed) as unknown:
        authenticate("nobody@clinic-a.test", TEST_PASSWORD)
    assert str(wrong.value) == str(unknown.value)


def test_five_failures_lock_the_account_for_fifteen_minutes(clinic: ClinicStaff) -> None:
    email = "clinician@clinic-a.test"
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            authenticate(email, "guess")
    before = utc_now()
    with pytest.raises(AccountLocked) as locked:
        authenticate(email, TEST_PASSWORD)  # even the right password is refused now
    assert timedelta(minutes=14) < locked.value.locked_until - before <= timedelta(minutes=15)

    # Once the lock-out has passed, the right password works again.
    with write_session() as session:
        session.execute(update(User).values(locked_until=utc_now() - timedelta(seconds=1)))
    assert authenticate(email, TEST_PASSWORD) == clinic.clinician


def test_success_resets_the_failure_count(clinic: ClinicStaff) -> None:
    email = "clinician@clinic-a.test"
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationFailed):
            authenticate(email, "guess")
    authenticate(email, TEST_PASSWORD)
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationFailed):
            authenticate(email, "guess")
    assert authenticate(email, TEST_PASSWORD) == clinic.clinician


def test_admin_reset_lifts_the_lock_out(clinic: ClinicStaff) -> None:
    email = "clinician@clinic-a.test"
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            authenticate(email, "guess")
    assert clinic.clinician.user_id is not None
    users.reset_password(clinic.admin, clinic.clinician.user_id, "a brand new password")
    assert authenticate(email, "a brand new password") == clinic.clinician


def test_deactivated_account_cannot_log_in(clinic: ClinicStaff) -> None:
    assert clinic.clinician.user_id is not None
    users.deactivate_user(clinic.admin, clinic.clinician.user_id)
    with pytest.raises(AuthenticationFailed):
        authenticate("clinician@clinic-a.test", TEST_PASSWORD)


def test_short_passwords_are_refused(clinic: ClinicStaff) -> None:
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        users.reset_password(clinic.admin, clinic.admin.user_id or 0, "short")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_outdated_hash_is_upgraded_on_login(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The accounts were hashed with the fixtures' cheap settings; the production hasher
    # sees them as outdated and rehashes on the next successful login.
    production = PasswordHasher()
    monkeypatch.setattr(auth, "_hasher", production)
    authenticate("admin@clinic-a.test", TEST_PASSWORD)
    with write_session() as session:
        stored = session.get(User, clinic.admin.user_id)
        assert stored is not None
        assert not production.check_needs_rehash(stored.password_hash)
        assert production.verify(stored.password_hash, TEST_PASSWORD)


ISSUER = "https://idp.clinic-a.test"


def _sso(email: str, *, verified: bool = True) -> Actor:
    return authenticate_identity(
        issuer=ISSUER, subject="subject-42", email=email, email_verified=verified
    )


def _login_events() -> list[tuple[str, int | None, str]]:
    with read_session() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_([AuditAction.LOGIN, AuditAction.LOGIN_FAILED]))
            .order_by(AuditEvent.id)
        )
        return [(event.action.value, event.actor_user_id, event.detail) for event in events]


def test_a_verified_identity_signs_in_to_the_account_with_its_email(clinic: ClinicStaff) -> None:
    assert _sso(" Clinician@Clinic-A.test") == clinic.clinician
    ((action, user_id, detail),) = _login_events()
    assert (action, user_id) == ("login", clinic.clinician.user_id)
    assert "subject-42" in detail and ISSUER in detail


def test_an_unverified_email_is_refused(clinic: ClinicStaff) -> None:
    with pytest.raises(AuthenticationFailed, match="has not verified the email address"):
        _sso("clinician@clinic-a.test", verified=False)
    assert [event[:2] for event in _login_events()] == [("login_failed", clinic.clinician.user_id)]


@pytest.mark.parametrize(
    ("email", "message"),
    [("nobody@clinic-a.test", "There is no account for"), ("", "did not send an email")],
)
def test_an_identity_without_an_account_is_refused_and_no_account_is_made(
    clinic: ClinicStaff, email: str, message: str
) -> None:
    with pytest.raises(AuthenticationFailed, match=message):
        _sso(email)
    assert [user.email for user in users.list_users(clinic.admin)] == [
        "admin@clinic-a.test",
        "clinician@clinic-a.test",
    ]
    assert [event[:2] for event in _login_events()] == [("login_failed", None)]


def test_a_deactivated_account_cannot_sign_in_with_its_identity(clinic: ClinicStaff) -> None:
    assert clinic.clinician.user_id is not None
    users.deactivate_user(clinic.admin, clinic.clinician.user_id)
    with pytest.raises(AuthenticationFailed, match="has been deactivated"):
        _sso("clinician@clinic-a.test")
    assert [event[:2] for event in _login_events()] == [("login_failed", clinic.clinician.user_id)]


def test_the_password_lock_out_does_not_block_a_verified_identity(clinic: ClinicStaff) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            authenticate("clinician@clinic-a.test", "guess")
    assert _sso("clinician@clinic-a.test") == clinic.clinician
    with pytest.raises(AccountLocked):
        authenticate("clinician@clinic-a.test", TEST_PASSWORD)
