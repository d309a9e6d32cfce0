"""One patient's record for clinic staff: charts with noise bands, photo comparisons, visits."""

import streamlit as st

from app_pages import browser_session, views
from models import Role
from tracker.services.errors import ServiceError

actor = browser_session.require_page(Role.CLINICIAN, Role.ADMIN, doing="open patient records")
patient_id = browser_session.query_int("patient")
if patient_id is None:
    st.info("Choose a patient from the list.")
    st.page_link("app_pages/patients.py", label="Patients")
    st.stop()
try:
    record, heading = views.progress_of_chosen_course(actor, patient_id)
except ServiceError as refusal:
    browser_session.stop_on_refusal(refusal)

patient, course = record.patient, record.course
heading.title(f"{patient.code} — {patient.name}")
heading.caption(
    f"{patient.condition.value.replace('_', ' ')}"
    + (f" · {patient.stage_scale.value.replace('_', '–')} {patient.stage}" if patient.stage else "")
    + (
        f" · {course.treatment} {course.product}, {course.planned_sessions} sessions, "
        f"{course.status.value}"
        if course
        else ""
    )
)
for warning in patient.contraindication_warnings:
    st.warning(warning)
if actor.role is Role.CLINICIAN:
    st.page_link("app_pages/visit.py", label="Record a visit", query_params={"patient": patient.id})

progress_tab, photos_tab, visits_tab = st.tabs(["Progress", "Photos", "Visits"])
with progress_tab:
    if not record.sites:
        st.info("No measured photos yet.")
    for site in record.sites:
        views.site_progress_section(site)
with photos_tab:
    views.before_after(actor, record, key=f"staff-{patient.id}")
with visits_tab:
    views.visit_table(record.visits)
