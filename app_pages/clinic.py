"""The clinic's settings for administrators: the success rate it advertises (shown beside
what it measures) and its dermatoscope profile (offered for a patient's first close-ups)."""

import streamlit as st

from app_pages import browser_session
from models import Role
from tracker.services import clinics
from tracker.services.errors import ServiceError

FLASH_KEY = "clinic_flash"

actor = browser_session.require_page(Role.ADMIN, doing="change the clinic's details")
try:
    clinic = clinics.get_clinic(actor)
except ServiceError as refusal:
    browser_session.stop_on_refusal(refusal)
st.title(f"Clinic — {clinic.name}")
flash = st.session_state.pop(FLASH_KEY, "")
if flash:
    st.success(flash)

with st.form("clinic_settings"):
    advertised = st.number_input(
        "Success rate the clinic advertises (%)",
        min_value=0.0,
        max_value=100.0,
        value=clinic.advertised_success_rate_pct,
        help="Shown on the outcomes page beside the share measured as improving by the end "
        "of a course. Leave empty when the clinic advertises none.",
    )
    px_per_mm = st.number_input(
        "Dermatoscope pixels per mm",
        min_value=0.0,
        value=clinic.dermatoscope_px_per_mm,
        help="The clinic's dermatoscope profile: filled in for a patient's first close-ups "
        "(later ones take their own last close-up's). Leave empty to type it each time.",
    )
    if st.form_submit_button("Save", type="primary"):
        try:
            clinics.update_clinic(
                actor,
                advertised_success_rate_pct=advertised,
                dermatoscope_px_per_mm=px_per_mm or None,
            )
        except ServiceError as error:
            st.error(f"Nothing was saved — {error}")
        else:
            st.session_state[FLASH_KEY] = "Saved."
            st.rerun()
