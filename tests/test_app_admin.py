"""The administrator's pages: clinic outcomes with audited exports, and account management."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import browser_session
from models import Role
from tests.test_app_helpers import (
    APP,
    DemoClinic,
    app_signed_in_as,
    button,
    open_page,
    sqlite_only,
    texts,
)
from tracker.services import audit, auth, clinics, progress, users
from tracker.services.errors import AuthenticationFailed

pytestmark = sqlite_only


def export_events(demo_clinic: DemoClinic) -> list[str]:
    return [
        event.detail
        for event in audit.list_audit_events(demo_clinic.staff.admin)
        if event.action == "export"
    ]


def test_outcomes_show_the_clinic_cohort(demo_clinic: DemoClinic):
    app = app_signed_in_as(demo_clinic.staff.admin)
    assert not app.exception
    cohort = progress.clinic_summary(demo_clinic.staff.admin).cohort
    page = texts(app)
    assert f"{cohort.consenting_patients} patients consented" in page
    assert [metric.label for metric in app.metric] == [
        "Improving by session 3",
        "Improving by session 5",
        "Improving end of course",
    ]
    reached_session_3 = cohort.overall.checkpoints[0].improving
    assert f"{reached_session_3.successes} of {reached_session_3.total}" in page
    assert f"stopped early: 0 of {cohort.adherence.patients} (0 %" in page
    assert len(app.dataframe) == 3, "by condition, by treatment, side effects"


@pytest.mark.parametrize(
    ("prepare", "download", "detail"),
    [
        ("Prepare CSV", "Download outcome CSV", "csv, 11 photos"),
        ("Prepare FHIR bundle", "Download FHIR bundle (JSON)", "fhir, 11 photos"),
        ("Prepare PDF", "Download outcome PDF", "clinic outcome pdf"),
    ],
)
def test_each_export_is_offered_and_audited(
    demo_clinic: DemoClinic, prepare: str, download: str, detail: str
):
    app = app_signed_in_as(demo_clinic.staff.admin)
    assert export_events(demo_clinic) == []
    button(app, prepare).click().run()
    assert not app.exception
    assert [element.proto.label for element in app.get("download_button")] == [download]
    assert export_events(demo_clinic) == [detail]


def test_an_admin_creates_resets_and_deactivates_accounts(demo_clinic: DemoClinic):
    app = open_page(app_signed_in_as(demo_clinic.staff.admin), "app_pages/users.py")
    assert not app.exception
    form = {widget.label: widget for widget in app.text_input}
    form["Email"].input("new.clinician@clinic-a.test")
    form["Name shown in the app"].input("Dr New")
    form["First password (at least 10 characters)"].input("a long first password")
    button(app, "Create account").click().run()
    assert "Created the clinician account new.clinician@clinic-a.test." in texts(app)
    assert auth.authenticate("new.clinician@clinic-a.test", "a long first password").role is (
        Role.CLINICIAN
    )

    (account_choice,) = [box for box in app.selectbox if box.label == "Account"]
    (created,) = [
        a for a in users.list_users(demo_clinic.staff.admin) if a.email.startswith("new.")
    ]
    account_choice.select(created.id).run()
    (new_password,) = [w for w in app.text_input if w.label.startswith("New password")]
    new_password.input("another long password")
    button(app, "Reset password").click().run()
    assert "New password set for new.clinician@clinic-a.test" in texts(app)
    auth.authenticate("new.clinician@clinic-a.test", "another long password")

    button(app, "Deactivate new.clinician@clinic-a.test").click().run()
    assert "Deactivated new.clinician@clinic-a.test." in texts(app)
    (account_choice,) = [box for box in app.selectbox if box.label == "Account"]
    account_choice.select(created.id).run()
    assert "new.clinician@clinic-a.test (clinician, inactive)" in account_choice.options
    assert not [b for b in app.button if b.label == "Deactivate new.clinician@clinic-a.test"]
    with pytest.raises(AuthenticationFailed):
        auth.authenticate("new.clinician@clinic-a.test", "another long password")


def test_a_patient_account_without_a_patient_record_is_refused(demo_clinic: DemoClinic):
    app = open_page(app_signed_in_as(demo_clinic.staff.admin), "app_pages/users.py")
    (role,) = [box for box in app.selectbox if box.label == "Role"]
    role.select(Role.PATIENT)
    form = {widget.label: widget for widget in app.text_input}
    form["Email"].input("someone@clinic-a.test")
    form["First password (at least 10 characters)"].input("a long first password")
    button(app, "Create account").click().run()
    assert "A patient account needs a patient record" in texts(app)
    emails = [a.email for a in users.list_users(demo_clinic.staff.admin)]
    assert "someone@clinic-a.test" not in emails


def test_the_clinics_settings_are_set_by_its_admin_and_shown_with_the_outcomes(
    demo_clinic: DemoClinic,
):
    app = open_page(app_signed_in_as(demo_clinic.staff.admin), "app_pages/clinic.py")
    assert not app.exception
    advertised, px_per_mm = app.number_input
    advertised.set_value(90.0)
    px_per_mm.set_value(0.08)
    button(app, "Save").click().run()
    assert "0.08 is not a plausible setting" in texts(app)
    assert clinics.get_clinic(demo_clinic.staff.admin).advertised_success_rate_pct is None

    advertised, px_per_mm = app.number_input
    px_per_mm.set_value(64.0)
    button(app, "Save").click().run()
    assert "Saved." in texts(app)
    saved = clinics.get_clinic(demo_clinic.staff.admin)
    assert (saved.advertised_success_rate_pct, saved.dermatoscope_px_per_mm) == (90.0, 64.0)
    outcomes = app_signed_in_as(demo_clinic.staff.admin)
    assert "The clinic advertises 90 % success" in texts(outcomes)


def test_a_clinician_running_the_clinics_settings_is_refused(demo_clinic: DemoClinic):
    # Navigation offers the page to admins only (test_app_login); run directly, as from a
    # forged link, the page asks the services and is refused.
    direct = AppTest.from_file(APP.parent / "app_pages" / "clinic.py", default_timeout=60)
    direct.session_state[browser_session.ACTOR_KEY] = demo_clinic.staff.clinician
    direct.session_state[browser_session.LAST_ACTIVITY_KEY] = time.time()
    direct.run()
    assert direct.error[0].value.startswith("Only admin accounts may change the clinic")
    assert not direct.number_input
