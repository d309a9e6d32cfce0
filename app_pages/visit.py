"""Record a visit: session details, side effects and photos, each measured as it is added.

Everything typed stays in the form until the visit is saved: photos are checked before
anything is written, so a bad file or a taken session number saves nothing and loses
nothing. Photos of a saved visit can be accepted despite quality flags or retaken.
"""

from datetime import date, timedelta

import streamlit as st

from app_pages import browser_session, views
from models import GLOBAL_SITES, CourseStatus, PhotoView, Role, Severity, SideEffectKind
from tracker.imaging.intake import IntakeError, prepare_image
from tracker.services import clinics, patients, photos, visits
from tracker.services.errors import ServiceError
from tracker.services.records import (
    CloseUpSettings,
    PhotoUpload,
    SideEffectEntry,
    VisitFile,
    VisitInput,
)

PHOTO_TYPES = ["jpg", "jpeg", "png", "tif", "tiff", "heic", "heif", "webp"]
SAVED_VISIT_KEY = "visit_saved"
REJECTED_KEY = "visit_rejected"
# (course id, session number, why it may be a slip) of a save held back for confirmation.
SESSION_CONCERN_KEY = "visit_session_concern"
NO_EFFECT = "none"


def choose_patient() -> int:
    patient_id = browser_session.query_int("patient")
    if patient_id is not None:
        return patient_id
    summaries = patients.list_patients(actor)
    if not summaries:
        st.info("Register a patient first.")
        st.stop()
    chosen = st.selectbox(
        "Patient",
        summaries,
        format_func=lambda s: f"{s.patient.code} — {s.patient.name}",
        index=None,
        placeholder="Choose a patient",
    )
    if chosen is None:
        st.stop()
    return chosen.patient.id


def photo_uploads(
    files: list, view: PhotoView, site: str, px_per_mm: float | None, aruco_mm: float | None
) -> list[PhotoUpload]:
    return [
        PhotoUpload(
            data=file.getvalue(),
            view=view,
            site=site,
            filename=file.name,
            px_per_mm=px_per_mm,
            aruco_mm=aruco_mm,
        )
        for file in files
    ]


def unusable(uploads: list[PhotoUpload], *, photography_consent: bool) -> list[str]:
    """Why photos cannot be stored and measured, found before anything is saved."""
    if uploads and not photography_consent:
        return ["the patient has not consented to photography; record the consent first."]
    if uploads and (problem := photos.settings_problem(uploads[0])):
        return [problem]
    problems = []
    for upload in uploads:
        try:
            prepare_image(upload.data)
        except IntakeError as error:
            problems.append(f"{upload.filename}: {error}")
    return problems


def add_with_progress(visit_id: int, uploads: list[PhotoUpload]) -> None:
    """Measure and store the photos one by one, showing how far it has got."""
    bar = st.progress(0.0, text="Measuring photos…")
    rejected = []
    for number, upload in enumerate(uploads, start=1):
        bar.progress(
            (number - 1) / len(uploads), text=f"Measuring photo {number} of {len(uploads)}…"
        )
        (result,) = photos.add_photos(actor, visit_id, [upload])
        if result.status == "rejected":
            rejected.append(f"{result.filename}: {result.reason}")
        elif result.status == "duplicate":
            rejected.append(f"{result.filename}: {result.reason}.")
    bar.progress(1.0, text="All photos measured.")
    st.session_state[SAVED_VISIT_KEY] = visit_id
    st.session_state[REJECTED_KEY] = rejected


def visit_panel(visit_file: VisitFile) -> None:
    """A saved visit's photos with their measurements, to accept or retake."""
    visit = visit_file.visit
    st.subheader(f"Session {visit.session_number} ({visit.visit_date}): photos")
    for message in st.session_state.get(REJECTED_KEY, []):
        st.error(f"Not saved — {message}")
    if not visit_file.photos:
        st.info("No photos for this visit yet.")
    for photo in visit_file.photos:
        if views.photo_panel(actor, photo):
            photos.accept_photo(actor, photo.id)
            st.rerun()
    with st.form(f"more_photos_{visit.id}", clear_on_submit=True):
        st.markdown("**Add or retake photos for this visit**")
        view, site, px_per_mm, aruco_mm = photo_settings(f"more-{visit.id}", close_up=close_up)
        files = st.file_uploader(
            "Photos", type=PHOTO_TYPES, accept_multiple_files=True, key=f"more-files-{visit.id}"
        )
        if st.form_submit_button("Add photos") and files:
            uploads = photo_uploads(files, view, site, px_per_mm, aruco_mm)
            problems = unusable(uploads, photography_consent=patient.consent_photography)
            if problems:
                for problem in problems:
                    st.error(f"Nothing was saved — {problem}")
            else:
                add_with_progress(visit.id, uploads)
                st.rerun()


def photo_settings(
    key: str, *, close_up: CloseUpSettings
) -> tuple[PhotoView, str, float | None, float | None]:
    """View, site and calibration of the photos about to be uploaded (inside a form), the
    close-up's filled in from ``close_up``: a typo in the site would start a new series,
    and one in the calibration would read as a change of density."""
    left, middle, right = st.columns(3)
    view = left.radio(
        "View",
        list(PhotoView),
        format_func=lambda v: v.value.title(),
        key=f"{key}-view",
        horizontal=True,
    )
    global_site = middle.selectbox("Global view", GLOBAL_SITES, key=f"{key}-global-site")
    target_site = right.text_input(
        "Close-up target site",
        value=close_up.site,
        key=f"{key}-target-site",
    )
    calibration, marker = st.columns(2)
    px_per_mm = calibration.number_input(
        "Dermatoscope pixels per mm (device setting)",
        min_value=0.0,
        value=close_up.px_per_mm,
        key=f"{key}-px-per-mm",
        help="Leave empty when a marker of known size is in the photo. Filled in from the "
        "patient's last close-up, or the clinic's dermatoscope profile for a first one: "
        "change it when another dermatoscope or lens is used.",
    )
    aruco_mm = marker.number_input(
        "Marker side in mm",
        min_value=0.0,
        value=close_up.aruco_mm,
        key=f"{key}-aruco",
        help="The printed ArUco sticker's side, when one is in a close-up.",
    )
    if view is PhotoView.GLOBAL:
        # Coverage is a share and needs no scale; a close-up's calibration left in the form
        # must not send a global photo looking for a marker.
        return view, global_site, None, None
    return view, target_site.strip(), px_per_mm or None, aruco_mm or None


actor = browser_session.require_page(Role.CLINICIAN, Role.ADMIN, doing="record visits")
st.title("Record a visit")

patient_id = choose_patient()
try:
    patient_file = patients.patient_file(actor, patient_id)
except ServiceError as refusal:
    browser_session.stop_on_refusal(refusal)
patient = patient_file.patient
close_up = patient_file.close_up_settings(
    clinic_px_per_mm=clinics.get_clinic(actor).dermatoscope_px_per_mm
)
st.markdown(f"**{patient.code} — {patient.name}**")
for warning in patient.contraindication_warnings:
    st.warning(warning)
latest = patient_file.courses[-1] if patient_file.courses else None
if latest is None or latest.course.status.ended:
    with st.form(f"next_course_{patient.id}_{len(patient_file.courses)}"):
        st.markdown(
            f"**Start the next treatment course** (the last one is {latest.course.status.value})"
            if latest
            else "**Start a treatment course** (this patient has none)"
        )
        next_course = views.course_inputs(key=f"next-course-{len(patient_file.courses)}")
        if st.form_submit_button("Start course"):
            try:
                visits.start_course(actor, patient.id, next_course)
            except ServiceError as error:
                st.error(str(error))
            else:
                st.rerun()
if latest is None:
    st.stop()
course = latest
recorded = [visit_file.visit.session_number for visit_file in course.visits]
suggested = max(recorded) + 1 if recorded else 0
st.caption(
    f"Course: {course.course.treatment} {course.course.product}, "
    f"{len(recorded)} of {course.course.planned_sessions + 1} sessions recorded "
    f"(session 0 is the baseline); {course.course.status.value}."
)
with (
    st.expander("Course status: completed, or stopped early"),
    st.form(f"course_status_{course.course.id}"),
):
    status = st.radio(
        "Course status",
        list(CourseStatus),
        index=list(CourseStatus).index(course.course.status),
        format_func=lambda s: s.value.capitalize(),
        horizontal=True,
    )
    if st.form_submit_button("Save course status") and status is not course.course.status:
        try:
            visits.set_course_status(actor, course.course.id, status)
        except ServiceError as error:
            st.error(str(error))
        else:
            st.rerun()

use_camera = st.toggle("Take photos with this device's camera (tablet)")
with st.form(f"visit_{course.course.id}_{len(recorded)}"):
    left, middle, right = st.columns(3)
    session_number = left.number_input("Session number", min_value=0, value=suggested, step=1)
    visit_date = middle.date_input(
        "Date", value=date.today(), max_value=date.today() + timedelta(days=1)
    )
    injections = right.number_input("Injections given", min_value=0, value=None, step=1)
    st.markdown("**Side effects since the last session**")
    effect_columns = st.columns(5)
    severities = {
        kind: effect_columns[index % 5].selectbox(
            kind.value.replace("_", " ").capitalize(),
            [NO_EFFECT, *Severity],
            key=f"effect-{len(recorded)}-{kind.value}",
        )
        for index, kind in enumerate(SideEffectKind)
    }
    notes = st.text_area("Notes")
    st.markdown("**Photos**")
    view, site, px_per_mm, aruco_mm = photo_settings("visit", close_up=close_up)
    files = st.file_uploader("Photos", type=PHOTO_TYPES, accept_multiple_files=True)
    camera_photo = st.camera_input("Camera") if use_camera else None
    # A visit after the course has ended is a follow-up of it, or belongs to a next course
    # not yet started: the clinician says which.
    follow_up = course.course.status.ended and st.checkbox(
        f"Record it as a follow-up visit of this {course.course.status.value} course"
    )
    held_back = st.session_state.get(SESSION_CONCERN_KEY)
    confirmed_number = None
    # Shown while the form still holds that number (a page left and reopened does not).
    if held_back is not None and held_back[:2] == (course.course.id, int(session_number)):
        st.warning(f"Nothing was saved — {held_back[2]}. Check the session number.")
        if st.checkbox(f"Session {held_back[1]} is right: record it as it is"):
            confirmed_number = held_back[1]
    submitted = st.form_submit_button("Save visit", type="primary")

if submitted:
    side_effects = tuple(
        SideEffectEntry(kind, severity)
        for kind, severity in severities.items()
        if severity != NO_EFFECT
    )
    uploads = photo_uploads(
        [*(files or []), *([camera_photo] if camera_photo else [])], view, site, px_per_mm, aruco_mm
    )
    problems = unusable(uploads, photography_consent=patient.consent_photography)
    # A number that skips sessions or passes the plan is more often a slip than not.
    concern = (
        None
        if follow_up or int(session_number) == confirmed_number
        else visits.session_number_concern(
            int(session_number), recorded=recorded, planned=course.course.planned_sessions
        )
    )
    if not uploads and not side_effects and injections is None and not notes.strip():
        st.error("The form is empty: add photos or the session's details. Nothing was saved.")
    elif course.course.status.ended and not follow_up:
        st.error(
            f"Nothing was saved — this course is {course.course.status.value}. Tick "
            "“Record it as a follow-up visit” to add the visit to it, or start the next "
            "course above."
        )
    elif problems:
        for problem in problems:
            st.error(f"Nothing was saved — {problem}")
    elif concern is not None:
        st.session_state[SESSION_CONCERN_KEY] = (course.course.id, int(session_number), concern)
        st.rerun()
    else:
        st.session_state.pop(SESSION_CONCERN_KEY, None)
        try:
            saved = visits.record_visit(
                actor,
                course.course.id,
                VisitInput(
                    session_number=int(session_number),
                    visit_date=visit_date,
                    injections_given=int(injections) if injections is not None else None,
                    side_effects=side_effects,
                    notes=notes.strip(),
                ),
            )
        except ServiceError as error:
            st.error(str(error))
        else:
            add_with_progress(saved.id, uploads)
            st.rerun()

if course.visits:
    # Chosen by id: the options are rebuilt from the database on every run.
    visits_by_id = {visit_file.visit.id: visit_file for visit_file in course.visits}
    saved_visit_id = st.session_state.get(SAVED_VISIT_KEY)
    shown_id = st.selectbox(
        "Photos of a recorded visit (to check, accept or retake)",
        list(visits_by_id),
        index=list(visits_by_id).index(saved_visit_id) if saved_visit_id in visits_by_id else None,
        format_func=lambda visit_id: (
            f"Session {visits_by_id[visit_id].visit.session_number} "
            f"({visits_by_id[visit_id].visit.visit_date})"
        ),
        placeholder="Choose a visit",
        key=f"shown-visit-{saved_visit_id}",
    )
    if shown_id is not None:
        if shown_id != saved_visit_id:
            st.session_state[REJECTED_KEY] = []
        visit_panel(visits_by_id[shown_id])
