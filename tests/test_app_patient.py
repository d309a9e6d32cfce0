"""A patient account sees its own record only, in plain language, and can download its PDF."""

from __future__ import annotations

import time
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import browser_session
from app_pages.views import PLAIN_VERDICTS
from models import CourseStatus
from tests.test_app_helpers import (
    APP,
    RUN_TIMEOUT_S,
    DemoClinic,
    app_signed_in_as,
    sqlite_only,
    texts,
)
from tracker.services import audit, patients, progress, visits
from tracker.services.records import CourseInput

pytestmark = sqlite_only


def test_a_patient_sees_exactly_their_own_progress(demo_clinic: DemoClinic):
    app = app_signed_in_as(demo_clinic.patient)
    assert not app.exception
    assert app.title[0].value == "Your progress, Patient P-001"
    own = progress.get_patient_progress(demo_clinic.patient, demo_clinic.patient_id)
    page = texts(app)
    assert PLAIN_VERDICTS[own.headline_site.headline.verdict] in page
    assert "3 of 3 sessions done; 0 to come." in page
    assert "P-002" not in page
    assert len(app.get("vega_lite_chart")) == len(own.sites)
    captions = [caption for image in app.image for caption in image.captions]
    assert captions == ["Session 0", "Session 3, laid onto the baseline photo"]


def test_a_patient_with_a_new_course_can_look_back_at_the_last(demo_clinic: DemoClinic):
    clinician, patient_id = demo_clinic.staff.clinician, demo_clinic.patient_id
    (first,) = patients.patient_file(clinician, patient_id).courses
    visits.set_course_status(clinician, first.course.id, CourseStatus.COMPLETED)
    visits.start_course(clinician, patient_id, CourseInput(6, 7, date.today()))
    app = app_signed_in_as(demo_clinic.patient)
    assert not app.exception
    assert "0 of 6 sessions done; 6 to come." in texts(app)
    (course_choice,) = app.selectbox
    course_choice.select_index(1).run()
    assert not app.exception
    assert "3 of 3 sessions done; the course was completed." in texts(app)
    captions = [caption for image in app.image for caption in image.captions]
    assert captions == ["Session 0", "Session 3, laid onto the baseline photo"]


def test_a_patient_downloads_their_own_pdf(demo_clinic: DemoClinic):
    app = app_signed_in_as(demo_clinic.patient)
    (prepare,) = [b for b in app.button if b.label == "Prepare my PDF report"]
    prepare.click().run()
    assert not app.exception
    (download,) = app.get("download_button")
    assert download.proto.label == "Download my report (PDF)"
    exports = [
        event
        for event in audit.list_audit_events(
            demo_clinic.staff.admin, patient_id=demo_clinic.patient_id
        )
        if event.action == "export"
    ]
    assert [event.detail for event in exports] == ["patient pdf"]


@pytest.mark.parametrize("page", ["patient.py", "visit.py"])
def test_a_patient_cannot_open_another_patients_page(demo_clinic: DemoClinic, page: str):
    app = app_signed_in_as(demo_clinic.patient)
    # Navigation does not offer the staff pages to a patient account ...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(f"app_pages/{page}")
    # ... and the page itself, run for a patient account with another patient's id (a stale
    # or forged link), asks the services again and is refused.
    direct = AppTest.from_file(APP.parent / "app_pages" / page, default_timeout=RUN_TIMEOUT_S)
    direct.session_state[browser_session.ACTOR_KEY] = demo_clinic.patient
    direct.session_state[browser_session.LAST_ACTIVITY_KEY] = time.time()
    direct.query_params["patient"] = str(demo_clinic.other_patient_id)
    direct.run()
    assert direct.error[0].value.startswith("Only clinician or admin accounts may")
    assert "P-002" not in texts(direct)
    denials = [
        event
        for event in audit.list_audit_events(demo_clinic.staff.admin)
        if event.action == "denied" and event.actor_user_id == demo_clinic.patient.user_id
    ]
    assert len(denials) == 1
