"""A patient's own record: progress in plain language, before/after photos, visits, PDF."""

from datetime import date

import streamlit as st

from app_pages import browser_session, views
from models import Role
from tracker.services import exports
from tracker.services.errors import ServiceError

actor = browser_session.require_page(Role.PATIENT, doing="open their own progress")
if actor.patient_id is None:
    st.error("This account is not linked to a patient record; ask the clinic to link it.")
    st.stop()
try:
    record, heading = views.progress_of_chosen_course(actor, actor.patient_id)
except ServiceError as refusal:
    browser_session.stop_on_refusal(refusal)

heading.title(f"Your progress, {record.patient.name}")
course = record.course
if course is not None:
    done = sum(1 for visit in record.visits if visit.session >= 1)
    remaining = max(course.planned_sessions - done, 0)
    st.write(
        f"Treatment: {course.treatment} {course.product}. "
        f"{done} of {course.planned_sessions} sessions done; "
        + (
            f"the course was {course.status.value}."
            if course.status.ended
            else f"{remaining} to come."
        )
    )

if not record.sites:
    st.info("Your photos have not been measured yet.")
for site in record.sites:
    with st.container(border=True):
        st.subheader(views.site_title(site))
        views.verdict_badge(site.headline.verdict)
        st.write(views.plain_verdict(site))
        if site.headline.measured:
            st.altair_chart(views.progress_chart(site.headline), width="stretch")
            st.caption(
                "The grey band shows how much the measurement varies on its own: "
                "a change inside it cannot be told apart from noise."
            )
            if site.left_out_versions:
                st.caption(
                    "Hollow grey points: visits measured by an older version of the measuring "
                    "software. They are shown but not compared until the clinic re-measures them."
                )

st.header("Before and after")
views.before_after(actor, record, key="own")
st.header("Your visits")
views.visit_table(record.visits)

if st.button("Prepare my PDF report", icon=":material/picture_as_pdf:"):
    st.download_button(
        "Download my report (PDF)",
        exports.export_patient_pdf(
            actor,
            record.patient.id,
            today=date.today(),
            course_id=record.course.id if record.course else None,
        ),
        file_name=f"hair-progress-{record.patient.code}.pdf",
        mime="application/pdf",
        on_click="ignore",
    )
