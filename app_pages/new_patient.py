"""Register a patient with the contraindication screen, and start their treatment course."""

from datetime import date

import streamlit as st

from app_pages import browser_session, views
from models import ContraindicationKind, HairCondition, Role, StageScale
from tracker.services import patients, visits
from tracker.services.errors import ServiceError
from tracker.services.records import CourseInput, PatientInput

PENDING_KEY = "new_patient_pending"
SAVED_KEY = "new_patient_saved"
FORM_ROUND_KEY = "new_patient_round"
SCREEN_QUESTIONS: dict[ContraindicationKind, str] = {
    ContraindicationKind.PREGNANCY: "Pregnant, possibly pregnant or breastfeeding",
    ContraindicationKind.DIABETES: "Diabetes",
    ContraindicationKind.CANCER: "Cancer (current or under treatment)",
    ContraindicationKind.CLOTTING_DISORDER: "Blood-clotting disorder or anticoagulants",
    ContraindicationKind.PARALYSIS_HISTORY: "History of paralysis",
}
STAGES: dict[StageScale, list[str]] = {
    StageScale.NORWOOD_HAMILTON: ["I", "II", "IIa", "III", "III vertex", "IV", "V", "VI", "VII"],
    StageScale.LUDWIG: ["I", "II", "III"],
}


def register(patient: PatientInput, course: CourseInput) -> None:
    """Save the patient and their course, then start a fresh form showing what was saved."""
    try:
        record = patients.register_patient(actor, patient)
    except ServiceError as error:
        st.error(str(error))
        return
    visits.start_course(actor, record.id, course)
    st.session_state.pop(PENDING_KEY, None)
    st.session_state[FORM_ROUND_KEY] = st.session_state.get(FORM_ROUND_KEY, 0) + 1
    st.session_state[SAVED_KEY] = record
    st.rerun()


actor = browser_session.require_page(Role.CLINICIAN, Role.ADMIN, doing="register patients")
st.title("New patient")
saved = st.session_state.pop(SAVED_KEY, None)
if saved is not None:
    st.success(f"Registered {saved.name} ({saved.code}) and started the course.")
    for warning in saved.contraindication_warnings:
        st.warning(warning)
    st.page_link(
        "app_pages/visit.py", label="Record the baseline visit", query_params={"patient": saved.id}
    )

with st.form(f"new_patient_{st.session_state.get(FORM_ROUND_KEY, 0)}"):
    left, right = st.columns(2)
    code = left.text_input("Patient code", placeholder="e.g. P-013")
    name = right.text_input("Full name")
    sex = left.selectbox("Sex", patients.SEXES)
    birth_year = right.number_input(
        "Year of birth",
        min_value=date.today().year - 120,
        max_value=date.today().year,
        value=None,
        step=1,
    )
    condition = left.selectbox(
        "Condition", list(HairCondition), format_func=lambda c: c.value.replace("_", " ").title()
    )
    stage_text = right.selectbox(
        "Stage",
        [None] + [f"{scale.value}:{stage}" for scale, stages in STAGES.items() for stage in stages],
        format_func=lambda s: "not staged" if s is None else s.replace("_", "–").replace(":", " "),
    )
    st.markdown("**Contraindication screen** — does the patient have any of these?")
    answers = {kind: st.checkbox(question) for kind, question in SCREEN_QUESTIONS.items()}
    st.markdown("**Consent**")
    consent_photography = st.checkbox("Consents to scalp photography", value=True)
    consent_statistics = st.checkbox("Consents to anonymous use in clinic outcome statistics")
    st.markdown("**Treatment course**")
    course = views.course_inputs(key=f"new-course-{st.session_state.get(FORM_ROUND_KEY, 0)}")
    submitted = st.form_submit_button("Register patient", type="primary")

if submitted:
    scale, stage = (None, None) if stage_text is None else stage_text.split(":", 1)
    patient = PatientInput(
        code=code,
        name=name,
        sex=sex,
        condition=condition,
        birth_year=int(birth_year) if birth_year is not None else None,
        stage_scale=StageScale(scale) if scale else None,
        stage=stage,
        consent_photography=consent_photography,
        consent_outcome_statistics=consent_statistics,
        contraindications=frozenset(kind for kind, yes in answers.items() if yes),
    )
    if not code.strip() or not name.strip():
        st.error("Enter the patient's code and name; nothing was saved.")
    elif patient.contraindications:
        st.session_state[PENDING_KEY] = (patient, course)
    else:
        register(patient, course)

pending = st.session_state.get(PENDING_KEY)
if pending is not None:
    patient, course = pending
    positives = ", ".join(SCREEN_QUESTIONS[kind].lower() for kind in patient.contraindications)
    st.warning(
        f"Positive contraindication screen: {positives}. Mesotherapy is usually not given in "
        "this case. Confirm that you have assessed it before registering."
    )
    confirm, cancel = st.columns(2)
    if confirm.button("I have assessed the contraindication — register", type="primary"):
        register(patient, course)
    if cancel.button("Cancel"):
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()
