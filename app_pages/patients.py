"""The clinic's patients: search, and each patient's latest verdict (staff only)."""

import math

import streamlit as st

from app_pages import browser_session, views
from models import Role
from tracker.services import patients, progress

PAGE_SIZE = 20

actor = browser_session.require_page(Role.CLINICIAN, Role.ADMIN, doing="list patients")
st.title("Patients")

search = st.text_input("Search by code or name", key="patient_search", placeholder="e.g. P-007")
summaries = patients.list_patients(actor, search=search)
if not summaries:
    st.info("No patient matches." if search.strip() else "No patients yet.")
    st.stop()

pages = math.ceil(len(summaries) / PAGE_SIZE)
page_number = 1
if pages > 1:
    page_number = int(
        st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1)
    )
shown = summaries[(page_number - 1) * PAGE_SIZE : page_number * PAGE_SIZE]
st.caption(f"{len(summaries)} patients; showing {len(shown)}.")

header = st.columns([2, 3, 3, 1, 2, 3, 2])
# The last column, of "Open" links, has no title ("****" would draw a rule).
for column, title in zip(
    header, ["Code", "Name", "Condition", "Visits", "Last visit", "Latest verdict"], strict=False
):
    column.markdown(f"**{title}**")
verdicts = progress.latest_verdicts(actor, [summary.patient.id for summary in shown])
for summary in shown:
    patient = summary.patient
    row = st.columns([2, 3, 3, 1, 2, 3, 2])
    row[0].write(patient.code)
    row[1].write(patient.name)
    row[2].write(patient.condition.value.replace("_", " "))
    row[3].write(str(summary.visit_count))
    row[4].write(str(summary.last_visit_date or "—"))
    with row[5]:
        views.verdict_badge(verdicts[patient.id])
    row[6].page_link("app_pages/patient.py", label="Open", query_params={"patient": patient.id})
