"""Log-in, lock-out, single sign-on, log-out, session timeout, deactivation while signed in,
and the pages each role is offered."""

from __future__ import annotations

import time
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from app_pages import browser_session
from db import read_session
from models import AuditAction, AuditEvent
from tests.conftest import TEST_PASSWORD, ClinicStaff
from tests.test_app_helpers import APP, RUN_TIMEOUT_S, app_signed_in_as, sqlite_only, texts
from tracker.services import users
from tracker.services.auth import MAX_FAILED_LOGINS

pytestmark = sqlite_only


def log_in(app: AppTest, email: str, password: str) -> AppTest:
    app.text_input[0].input(email)
    app.text_input[1].input(password)
    return app.button[0].click().run()


@pytest.fixture
def login_app(clinic: ClinicStaff) -> AppTest:
    return AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S).run()


def test_a_clinician_logs_in_and_sees_the_patient_list(login_app: AppTest, clinic: ClinicStaff):
    assert [element.label for element in login_app.text_input] == ["Email", "Password"]
    app = log_in(login_app, clinic.clinician.email, TEST_PASSWORD)
    assert not app.exception
    assert app.session_state[browser_session.ACTOR_KEY].user_id == clinic.clinician.user_id
    assert app.title[0].value == "Patients"


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(
    login_app: AppTest, clinic: ClinicStaff
):
    app = login_app
    for _ in range(MAX_FAILED_LOGINS):
        app = log_in(app, clinic.clinician.email, "not the password")
        assert app.error[0].value == "Wrong email or password."
    app = log_in(app, clinic.clinician.email, TEST_PASSWORD)
    assert "Too many failed logins" in app.error[0].value
    assert browser_session.ACTOR_KEY not in app.session_state


def test_an_empty_login_form_asks_for_both_fields(login_app: AppTest):
    app = log_in(login_app, "", "")
    assert app.error[0].value == "Enter your email and your password."


def test_log_out_returns_to_the_login_page(clinic: ClinicStaff):
    app = app_signed_in_as(clinic.admin)
    app.sidebar.button[0].click().run()
    assert browser_session.ACTOR_KEY not in app.session_state
    assert "You are logged out." in texts(app)
    assert [element.label for element in app.text_input] == ["Email", "Password"]


def test_an_idle_session_times_out(clinic: ClinicStaff):
    app = app_signed_in_as(clinic.clinician)
    idle_for = browser_session.timeout_seconds() + 1
    app.session_state[browser_session.LAST_ACTIVITY_KEY] -= idle_for
    app.run()
    assert browser_session.ACTOR_KEY not in app.session_state
    assert "inactivity" in texts(app)


ALL_PAGES = {
    "app_pages/patients.py",
    "app_pages/patient.py",
    "app_pages/new_patient.py",
    "app_pages/visit.py",
    "app_pages/my_record.py",
    "app_pages/outcomes.py",
    "app_pages/users.py",
    "app_pages/clinic.py",
}
OFFERED = {
    "clinician": (
        "Patients",
        {
            "app_pages/patients.py",
            "app_pages/patient.py",
            "app_pages/new_patient.py",
            "app_pages/visit.py",
        },
    ),
    "admin": (
        "Outcomes — Clinic A",
        {
            "app_pages/outcomes.py",
            "app_pages/users.py",
            "app_pages/clinic.py",
            "app_pages/patients.py",
            "app_pages/patient.py",
        },
    ),
}


@pytest.mark.parametrize("role", sorted(OFFERED))
def test_each_role_is_offered_its_own_pages_only(clinic: ClinicStaff, role: str):
    main_title, offered = OFFERED[role]
    app = app_signed_in_as(getattr(clinic, role))
    assert not app.exception
    assert app.title[0].value == main_title
    for page in sorted(offered):
        app.switch_page(page)
    for page in sorted(ALL_PAGES - offered):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(page)


def test_a_signed_in_clinician_deactivated_meanwhile_is_signed_out_on_the_next_action(
    clinic: ClinicStaff,
):
    app = app_signed_in_as(clinic.clinician)
    assert app.title[0].value == "Patients"
    assert clinic.clinician.user_id is not None
    users.deactivate_user(clinic.admin, clinic.clinician.user_id)
    app.run()
    assert browser_session.ACTOR_KEY not in app.session_state
    assert "Your account has been deactivated" in texts(app)
    assert "You have been signed out." in texts(app)
    assert [element.label for element in app.text_input] == ["Email", "Password"]


AUTH_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a cookie secret for the tests only",
    "client_id": "tracker",
    "client_secret": "not a real secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    "provider_label": "Clinic ID",
}
ISSUER = "http://idp.clinic-a.test"


def identity(email: str, *, verified: bool = True, age_s: float = 5.0) -> dict[str, Any]:
    """``st.user`` after the identity provider's redirect: the ID token's claims."""
    return {
        "is_logged_in": True,
        "iss": ISSUER,
        "sub": f"subject-of-{email}",
        "email": email,
        "email_verified": verified,
        "iat": int(time.time() - age_s),
        "name": "Someone",
    }


def sso_app(user: dict[str, Any] | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    app.secrets["auth"] = dict(AUTH_SECRETS)
    if user is not None:
        app.user = user
    return app.run()


@pytest.fixture
def login_calls(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """``st.login`` replaced by a recorder: AppTest cannot follow a browser redirect."""
    calls: list[str | None] = []
    monkeypatch.setattr(st, "login", calls.append)
    return calls


def _logins(action: AuditAction) -> list[int | None]:
    with read_session() as session:
        return list(
            session.scalars(select(AuditEvent.actor_user_id).where(AuditEvent.action == action))
        )


def test_without_an_identity_provider_there_is_no_sign_in_button(clinic: ClinicStaff):
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    # Secrets without [auth], whatever a developer keeps in .streamlit/secrets.toml.
    app.secrets["unrelated"] = "no [auth] section"
    app.run()
    assert not app.exception
    assert [button.label for button in app.button] == ["Log in"]
    assert log_in(app, clinic.clinician.email, TEST_PASSWORD).title[0].value == "Patients"


def test_with_an_identity_provider_its_button_starts_the_sign_in(
    clinic: ClinicStaff, login_calls: list[str | None]
):
    app = sso_app()
    assert not app.exception
    assert [button.label for button in app.button] == ["Log in", "Sign in with Clinic ID"]
    app.button[1].click().run()
    assert login_calls == [None]
    # The password log-in still works beside it.
    app = log_in(app, clinic.clinician.email, TEST_PASSWORD)
    assert app.title[0].value == "Patients"


def test_a_named_identity_provider_gets_its_own_button(
    clinic: ClinicStaff, login_calls: list[str | None]
):
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    app.secrets["auth"] = {
        "redirect_uri": AUTH_SECRETS["redirect_uri"],
        "cookie_secret": AUTH_SECRETS["cookie_secret"],
        "okta": {key: AUTH_SECRETS[key] for key in ("client_id", "client_secret")}
        | {"server_metadata_url": AUTH_SECRETS["server_metadata_url"]},
    }
    app.run()
    assert [button.label for button in app.button] == ["Log in", "Sign in with Okta"]
    app.button[1].click().run()
    assert login_calls == ["okta"]


def test_after_the_redirect_a_verified_identity_is_signed_in_like_a_password_log_in(
    clinic: ClinicStaff,
):
    app = sso_app(identity("Clinician@Clinic-A.test"))
    assert not app.exception
    assert app.session_state[browser_session.ACTOR_KEY] == clinic.clinician
    assert app.title[0].value == "Patients"
    assert _logins(AuditAction.LOGIN) == [clinic.clinician.user_id]


def test_an_identity_without_an_account_is_refused_with_a_clear_message(clinic: ClinicStaff):
    app = sso_app(identity("stranger@elsewhere.test"))
    assert browser_session.ACTOR_KEY not in app.session_state
    assert "There is no account for stranger@elsewhere.test" in app.error[0].value
    # Tried once per browser session: the next run does not refuse (and audit) it again.
    app.run()
    assert not app.error
    assert _logins(AuditAction.LOGIN_FAILED) == [None]
    assert [element.label for element in app.text_input] == ["Email", "Password"]


def test_an_unverified_email_is_refused(clinic: ClinicStaff):
    app = sso_app(identity(clinic.clinician.email, verified=False))
    assert browser_session.ACTOR_KEY not in app.session_state
    assert "has not verified" in app.error[0].value


def test_an_identity_older_than_the_idle_timeout_needs_a_fresh_sign_in(clinic: ClinicStaff):
    stale = identity(clinic.clinician.email, age_s=browser_session.timeout_seconds() + 60)
    app = sso_app(stale)
    assert browser_session.ACTOR_KEY not in app.session_state
    assert not app.error
    assert _logins(AuditAction.LOGIN) == []


def test_log_out_of_a_single_sign_on_session_also_logs_out_of_streamlit_auth(
    clinic: ClinicStaff,
):
    app = sso_app(identity(clinic.admin.email))
    assert app.session_state[browser_session.ACTOR_KEY] == clinic.admin
    app.sidebar.button[0].click().run()
    assert app.user == {"is_logged_in": False}
    assert browser_session.ACTOR_KEY not in app.session_state
    # The browser now follows Streamlit's log-out redirect; the next run is the log-in page.
    app.run()
    assert [element.label for element in app.text_input] == ["Email", "Password"]
