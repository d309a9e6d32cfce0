"""Log-in, lock-out, log-out, session timeout and the pages each role is offered."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import browser_session
from tests.conftest import TEST_PASSWORD, ClinicStaff
from tests.test_app_helpers import APP, RUN_TIMEOUT_S, app_signed_in_as, sqlite_only, texts
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
