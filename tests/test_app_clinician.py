"""The clinician's pages: patient list, registration, recording a visit, the patient record."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app_pages.views import VERDICT_BADGES
from models import AuditAction, CourseStatus, HairCondition, PhotoView, Role
from tests.conftest import QUICK_ALGORITHM_VERSION, dark_pixel_measure, scalp_png
from tests.test_app_helpers import (
    PX_PER_MM,
    DemoClinic,
    app_signed_in_as,
    button,
    open_page,
    sqlite_only,
    texts,
)
from tracker.registration import REGION_FIGURES, Registration, identity_registration
from tracker.services import audit, clinics, patients, photos, progress, visits
from tracker.services.records import CourseInput, PatientInput, PhotoUpload, VisitInput

pytestmark = sqlite_only


def by_label(widgets, label: str):
    (widget,) = [widget for widget in widgets if widget.label == label]
    return widget


def visit_form(demo_clinic: DemoClinic, patient_id: int) -> AppTest:
    return open_page(
        app_signed_in_as(demo_clinic.staff.clinician), "app_pages/visit.py", patient=patient_id
    )


def progress_views(demo_clinic: DemoClinic, patient_id: int) -> int:
    events = audit.list_audit_events(demo_clinic.staff.admin, patient_id=patient_id)
    return sum(event.action == AuditAction.VIEW and event.entity == "progress" for event in events)


def saved_sessions(demo_clinic: DemoClinic, patient_id: int) -> list[int]:
    record = patients.patient_file(demo_clinic.staff.clinician, patient_id)
    return [visit.visit.session_number for visit in record.courses[-1].visits]


def test_patient_list_shows_search_results_with_latest_verdicts(demo_clinic: DemoClinic):
    app = app_signed_in_as(demo_clinic.staff.clinician)
    assert not app.exception
    page = texts(app)
    assert "P-001" in page and "P-002" in page
    headings = [element.value for element in app.markdown if element.value.startswith("**")]
    assert headings[:6] == ["**Code**", "**Name**", "**Condition**", "**Visits**",
                            "**Last visit**", "**Latest verdict**"]  # fmt: skip
    assert "****" not in headings, "an empty bold title renders as a rule"
    badges = [element.value for element in app.markdown if "-badge[" in element.value]
    expected = [
        progress.get_patient_progress(demo_clinic.staff.clinician, patient_id).headline_site
        for patient_id in (demo_clinic.patient_id, demo_clinic.other_patient_id)
    ]
    assert len(badges) == 2
    for badge, site in zip(badges, expected, strict=True):
        assert VERDICT_BADGES[site.headline.verdict][0] in badge
    app.text_input(key="patient_search").input("P-002").run()
    page = texts(app)
    assert "P-002" in page and "P-001" not in page


def test_registering_a_patient_with_a_positive_screen_needs_acknowledgement(
    demo_clinic: DemoClinic,
):
    app = open_page(app_signed_in_as(demo_clinic.staff.clinician), "app_pages/new_patient.py")
    by_label(app.text_input, "Patient code").input("P-100")
    by_label(app.text_input, "Full name").input("Ada Example")
    by_label(app.checkbox, "Diabetes").check()
    app.button(key="FormSubmitter:new_patient_0-Register patient").click().run()
    assert "Positive contraindication screen: diabetes" in texts(app)
    codes = [s.patient.code for s in patients.list_patients(demo_clinic.staff.clinician)]
    assert "P-100" not in codes, "nothing is saved before the warning is acknowledged"
    (confirm,) = [b for b in app.button if b.label.startswith("I have assessed")]
    confirm.click().run()
    assert not app.exception
    assert "Registered Ada Example (P-100)" in texts(app)
    saved = [s.patient for s in patients.list_patients(demo_clinic.staff.clinician, "P-100")]
    assert [p.contraindications for p in saved] == [("diabetes",)]


def test_an_empty_registration_is_refused_and_nothing_saved(demo_clinic: DemoClinic):
    app = open_page(app_signed_in_as(demo_clinic.staff.clinician), "app_pages/new_patient.py")
    before = len(patients.list_patients(demo_clinic.staff.clinician))
    app.button(key="FormSubmitter:new_patient_0-Register patient").click().run()
    assert "Enter the patient's code and name" in texts(app)
    assert len(patients.list_patients(demo_clinic.staff.clinician)) == before


def test_recording_a_visit_measures_the_uploaded_photos(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    assert by_label(app.number_input, "Session number").value == 3, "next session suggested"
    by_label(app.selectbox, "Redness").select("moderate")
    by_label(app.number_input, "Dermatoscope pixels per mm (device setting)").set_value(100.0)
    by_label(app.file_uploader, "Photos").set_value(
        [("a.png", scalp_png(seed=31), "image/png"), ("b.png", scalp_png(seed=32), "image/png")]
    )
    button(app, "Save visit").click().run()
    assert not app.exception
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2, 3]
    page = texts(app)
    assert "Session 3" in page and "a.png" in page and "b.png" in page
    # Each photo is shown with its overlay and its measured figures.
    captions = [caption for image in app.image for caption in image.captions]
    assert captions == ["Photo", "What was detected"] * 2
    assert len(app.table) == 2
    assert list(app.table[0].value.columns) == ["Figure", "Whole photo"], "not placed"


def test_a_photo_placed_on_its_baseline_shows_the_figures_of_the_counted_patch(
    demo_clinic: DemoClinic, monkeypatch: pytest.MonkeyPatch
):
    patch = {name: None for name in REGION_FIGURES} | {"area_cm2": 0.18, "density_per_cm2": 172.5}
    monkeypatch.setattr(
        photos, "locate_on_baseline", lambda *_, **__: (identity_registration(), patch)
    )
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    by_label(app.file_uploader, "Photos").set_value([("a.png", scalp_png(seed=33), "image/png")])
    button(app, "Save visit").click().run()
    assert not app.exception
    (table,) = [table.value.set_index("Figure") for table in app.table]
    assert list(table.columns) == ["Whole photo", "Patch counted at every visit"]
    assert table.loc["density per cm2", "Patch counted at every visit"] == "172.5"
    assert table.loc["vellus count", "Patch counted at every visit"] == ""
    assert "the charts follow it" in texts(app)


def test_a_non_image_file_saves_nothing_and_keeps_what_was_typed(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    by_label(app.text_area, "Notes").input("tolerated well")
    by_label(app.file_uploader, "Photos").set_value(
        ("scan.jpg", b"%PDF-1.4 a document renamed", "image/jpeg")
    )
    button(app, "Save visit").click().run()
    assert "Nothing was saved — scan.jpg" in texts(app)
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2]
    assert by_label(app.text_area, "Notes").value == "tolerated well"


def test_a_mistyped_dermatoscope_setting_saves_nothing(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    by_label(app.number_input, "Dermatoscope pixels per mm (device setting)").set_value(0.1)
    by_label(app.file_uploader, "Photos").set_value([("a.png", scalp_png(seed=31), "image/png")])
    button(app, "Save visit").click().run()
    assert "Nothing was saved — A dermatoscope's pixels per mm lie between 10 and 5000" in texts(
        app
    )
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2]


def test_a_taken_session_number_saves_nothing(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    by_label(app.number_input, "Session number").set_value(1)
    by_label(app.text_area, "Notes").input("second try")
    button(app, "Save visit").click().run()
    assert "Session 1 is already recorded in this course; nothing was saved." in texts(app)
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2]
    assert by_label(app.text_area, "Notes").value == "second try"


def test_a_session_number_that_skips_sessions_is_saved_only_once_confirmed(
    demo_clinic: DemoClinic,
):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    by_label(app.number_input, "Session number").set_value(7)
    by_label(app.text_area, "Notes").input("typed 7 for 3?")
    button(app, "Save visit").click().run()
    assert "Nothing was saved — session 7 skips sessions 3–6." in texts(app)
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2]
    assert by_label(app.text_area, "Notes").value == "typed 7 for 3?"

    by_label(app.checkbox, "Session 7 is right: record it as it is").check()
    button(app, "Save visit").click().run()
    assert not app.exception
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2, 7]
    assert "skips" not in texts(app), "saved: the warning is gone"


def test_an_empty_visit_form_is_refused(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    button(app, "Save visit").click().run()
    assert "The form is empty" in texts(app)
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2]


def test_a_course_stopped_early_is_followed_by_the_next(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    assert "(session 0 is the baseline); active." in texts(app)
    assert not [b for b in app.button if b.label == "Start course"]
    by_label(app.radio, "Course status").set_value(CourseStatus.STOPPED)
    button(app, "Save course status").click().run()
    assert not app.exception
    assert "(session 0 is the baseline); stopped." in texts(app)
    record = patients.patient_file(demo_clinic.staff.clinician, demo_clinic.other_patient_id)
    assert record.courses[-1].course.status is CourseStatus.STOPPED
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2]

    # A visit in the stopped course is saved only as a follow-up, once the clinician says so.
    by_label(app.text_area, "Notes").input("check-up after stopping")
    button(app, "Save visit").click().run()
    assert "Nothing was saved — this course is stopped." in texts(app)
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2]
    assert by_label(app.text_area, "Notes").value == "check-up after stopping"
    by_label(app.checkbox, "Record it as a follow-up visit of this stopped course").check()
    button(app, "Save visit").click().run()
    assert not app.exception
    assert saved_sessions(demo_clinic, demo_clinic.other_patient_id) == [0, 1, 2, 3]

    by_label(app.number_input, "Planned sessions").set_value(6)
    by_label(app.text_input, "Product / cocktail").input("maintenance")
    button(app, "Start course").click().run()
    assert not app.exception
    assert "0 of 7 sessions recorded (session 0 is the baseline); active." in texts(app)
    record = patients.patient_file(demo_clinic.staff.clinician, demo_clinic.other_patient_id)
    assert [(c.course.product, c.course.status) for c in record.courses] == [
        (record.courses[0].course.product, CourseStatus.STOPPED),
        ("maintenance", CourseStatus.ACTIVE),
    ]


def test_a_flagged_photo_can_be_accepted(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    dark = io.BytesIO()
    Image.fromarray(np.full((640, 640, 3), 20, dtype=np.uint8)).save(dark, format="PNG")
    by_label(app.number_input, "Dermatoscope pixels per mm (device setting)").set_value(100.0)
    by_label(app.file_uploader, "Photos").set_value(("dark.png", dark.getvalue(), "image/png"))
    button(app, "Save visit").click().run()
    assert "The photo is too dark." in texts(app)
    button(app, "Accept this photo anyway").click().run()
    assert "Accepted despite the flags above" in texts(app)
    record = patients.patient_file(demo_clinic.staff.clinician, demo_clinic.other_patient_id)
    (photo,) = record.courses[-1].visits[-1].photos
    assert photo.accepted_despite_flags


def test_patient_record_shows_charts_verdicts_photos_and_visits(demo_clinic: DemoClinic):
    app = open_page(
        app_signed_in_as(demo_clinic.staff.clinician),
        "app_pages/patient.py",
        patient=demo_clinic.patient_id,
    )
    assert not app.exception
    assert app.title[0].value == "P-001 — Patient P-001"
    expected = progress.get_patient_progress(demo_clinic.staff.clinician, demo_clinic.patient_id)
    page = texts(app)
    assert f"{expected.course.planned_sessions} sessions, active" in page
    for measure in expected.sites[0].measures.values():
        if measure.points:
            assert measure.explanation in page
    assert len(app.get("vega_lite_chart")) >= 1
    captions = [caption for image in app.image for caption in image.captions]
    assert captions == ["Session 0", "Session 3, laid onto the baseline photo"], (
        "baseline beside the chosen session"
    )
    assert "The box marks the patch of scalp counted at every visit." in texts(app)
    app.select_slider[0].set_value(1).run()
    captions = [caption for image in app.image for caption in image.captions]
    assert captions == ["Session 0", "Session 1, laid onto the baseline photo"]


def test_an_earlier_course_can_be_shown_on_the_record(demo_clinic: DemoClinic):
    clinician, patient_id = demo_clinic.staff.clinician, demo_clinic.other_patient_id
    (first,) = patients.patient_file(clinician, patient_id).courses
    visits.set_course_status(clinician, first.course.id, CourseStatus.STOPPED)
    visits.start_course(
        clinician, patient_id, CourseInput(4, 7, date.today(), product="maintenance")
    )
    app = open_page(app_signed_in_as(clinician), "app_pages/patient.py", patient=patient_id)
    assert not app.exception
    assert "maintenance, 4 sessions, active" in texts(app)
    course_choice = by_label(app.selectbox, "Course")
    assert len(course_choice.options) == 2
    views_before = progress_views(demo_clinic, patient_id)
    course_choice.select_index(1).run()
    assert not app.exception
    page = texts(app)
    assert f"{first.course.planned_sessions} sessions, stopped" in page
    assert "from baseline to session 2" in page
    # Only the chosen course was loaded, and viewed once.
    assert progress_views(demo_clinic, patient_id) == views_before + 1


def test_a_patient_of_another_clinic_is_refused(demo_clinic: DemoClinic):
    from tests.conftest import make_clinic

    other = make_clinic("Clinic B")
    app = open_page(
        app_signed_in_as(other.clinician), "app_pages/patient.py", patient=demo_clinic.patient_id
    )
    assert "You may not view the progress of a patient of another clinic." in texts(app)
    assert not app.get("vega_lite_chart")
    assert other.clinician.role is Role.CLINICIAN


def test_a_photo_taken_with_the_tablet_camera_is_measured(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    assert not app.camera_input, "the camera stays off until asked for"
    app.toggle[0].set_value(True).run()
    by_label(app.number_input, "Dermatoscope pixels per mm (device setting)").set_value(100.0)
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(scalp_png(seed=41))).convert("RGB").save(jpeg, format="JPEG")
    app.camera_input[0].upload("image.jpg", jpeg.getvalue())
    button(app, "Save visit").click().run()
    assert not app.exception
    record = patients.patient_file(demo_clinic.staff.clinician, demo_clinic.other_patient_id)
    (photo,) = record.courses[-1].visits[-1].photos
    assert photo.latest_measurement is not None
    assert "image.jpg" in texts(app)


def test_the_close_up_site_and_calibration_are_filled_in_from_the_last_close_up(
    demo_clinic: DemoClinic,
):
    clinician = demo_clinic.staff.clinician
    px_label = "Dermatoscope pixels per mm (device setting)"
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    assert by_label(app.number_input, px_label).value == PX_PER_MM
    assert by_label(app.text_input, "Close-up target site").value == "vertex target"

    course = patients.patient_file(clinician, demo_clinic.other_patient_id).courses[-1]
    visit = visits.record_visit(
        clinician,
        course.course.id,
        VisitInput(session_number=3, visit_date=date(2026, 1, 26)),
    )
    photos.add_photos(
        clinician,
        visit.id,
        [
            PhotoUpload(
                data=scalp_png(seed=43),
                view=PhotoView.TRICHOSCOPY,
                site="crown target",
                filename="marked.png",
                aruco_mm=5.0,
            )
        ],
    )
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    assert by_label(app.number_input, px_label).value is None, "the last one had no setting"
    assert by_label(app.number_input, "Marker side in mm").value == 5.0
    assert by_label(app.text_input, "Close-up target site").value == "crown target"


def test_a_patients_first_close_up_is_offered_the_clinics_dermatoscope_profile(
    demo_clinic: DemoClinic,
):
    clinician = demo_clinic.staff.clinician
    newcomer = patients.register_patient(
        clinician,
        PatientInput(
            "P-003",
            "New Patient",
            "female",
            HairCondition.ANDROGENETIC_ALOPECIA,
            consent_photography=True,
        ),
    )
    visits.start_course(clinician, newcomer.id, CourseInput(6, 7, date(2026, 2, 2)))
    px_label = "Dermatoscope pixels per mm (device setting)"
    assert by_label(visit_form(demo_clinic, newcomer.id).number_input, px_label).value is None
    clinics.update_clinic(
        demo_clinic.staff.admin, advertised_success_rate_pct=None, dermatoscope_px_per_mm=64.0
    )
    assert by_label(visit_form(demo_clinic, newcomer.id).number_input, px_label).value == 64.0
    # A patient with close-ups keeps the setting they were taken with.
    own = by_label(visit_form(demo_clinic, demo_clinic.other_patient_id).number_input, px_label)
    assert own.value == PX_PER_MM


def test_a_global_photo_takes_no_close_up_calibration_from_the_form(demo_clinic: DemoClinic):
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    px_label = "Dermatoscope pixels per mm (device setting)"
    assert by_label(app.number_input, px_label).value == PX_PER_MM, "filled in"
    by_label(app.number_input, "Marker side in mm").set_value(5.0)
    by_label(app.radio, "View").set_value(PhotoView.GLOBAL)
    by_label(app.file_uploader, "Photos").set_value([("head.png", scalp_png(seed=44), "image/png")])
    button(app, "Save visit").click().run()
    assert not app.exception
    record = patients.patient_file(demo_clinic.staff.clinician, demo_clinic.other_patient_id)
    (photo,) = record.courses[-1].visits[-1].photos
    assert (photo.view, photo.px_per_mm, photo.aruco_mm) == (PhotoView.GLOBAL, None, None)


def test_a_photo_of_a_different_spot_is_flagged_and_cannot_be_accepted(
    demo_clinic: DemoClinic, monkeypatch: pytest.MonkeyPatch
):
    def elsewhere(rgb, measurement, *, baseline_rgb):
        return Registration(None, 3, 0.0, "different spot: too few matching features"), None

    monkeypatch.setattr(photos, "locate_on_baseline", elsewhere)
    app = visit_form(demo_clinic, demo_clinic.other_patient_id)
    by_label(app.number_input, "Dermatoscope pixels per mm (device setting)").set_value(100.0)
    by_label(app.file_uploader, "Photos").set_value(("moved.png", scalp_png(seed=7), "image/png"))
    button(app, "Save visit").click().run()

    page = texts(app)
    assert "Different spot: too few matching features: use the same spot as the baseline." in page
    assert "it shows a different spot than the baseline" in page
    assert not [b for b in app.button if b.label == "Accept this photo anyway"]
    record = progress.get_patient_progress(
        demo_clinic.staff.clinician, demo_clinic.other_patient_id
    )
    assert max(photo.measurement.session for photo in record.photos) == 2


def test_after_an_engine_upgrade_the_record_says_not_comparable_and_marks_the_old_visits(
    demo_clinic: DemoClinic, monkeypatch: pytest.MonkeyPatch
):
    staff = demo_clinic.staff

    def newer_engine(rgb, upload, threshold):
        return replace(dark_pixel_measure(rgb, upload, threshold), algorithm_version="newer")

    # The upgrade: follow-ups re-measured by the new engine, the baseline not yet.
    monkeypatch.setattr(photos, "measure", newer_engine)
    monkeypatch.setattr(progress, "ALGORITHM_VERSION", "newer")
    (course,) = patients.patient_file(staff.clinician, demo_clinic.patient_id).courses
    for visit in course.visits[1:]:
        for photo in visit.photos:
            photos.reanalyse_photo(staff.clinician, photo.id)

    app = open_page(
        app_signed_in_as(staff.clinician), "app_pages/patient.py", patient=demo_clinic.patient_id
    )
    assert not app.exception
    page = texts(app)
    assert VERDICT_BADGES["not comparable"][0] in page
    assert f"Photos measured by {QUICK_ALGORITHM_VERSION} are left out" in page
    assert "photos reanalyse" in page
    charts = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    hollow = [
        layer
        for chart in charts
        for layer in chart["layer"]
        if isinstance(layer.get("mark"), dict) and layer["mark"].get("filled") is False
    ]
    assert hollow, "the baseline of the older engine is drawn apart"
