"""The clinic app: log-in, then the pages the signed-in role may open (``streamlit run app.py``)."""

import streamlit as st

from app_pages import browser_session
from models import Role

st.set_page_config(
    page_title="Hair progress tracker", page_icon=":material/monitoring:", layout="wide"
)
browser_session.connect_database()

PATIENTS = st.Page("app_pages/patients.py", title="Patients", icon=":material/groups:")
PATIENT = st.Page(
    "app_pages/patient.py", title="Patient record", icon=":material/person:", visibility="hidden"
)
NEW_PATIENT = st.Page("app_pages/new_patient.py", title="New patient", icon=":material/person_add:")
RECORD_VISIT = st.Page("app_pages/visit.py", title="Record a visit", icon=":material/add_a_photo:")
MY_RECORD = st.Page("app_pages/my_record.py", title="My progress", icon=":material/monitoring:")
OUTCOMES = st.Page("app_pages/outcomes.py", title="Clinic outcomes", icon=":material/analytics:")
USERS = st.Page("app_pages/users.py", title="Accounts", icon=":material/manage_accounts:")
CLINIC = st.Page("app_pages/clinic.py", title="Clinic settings", icon=":material/settings:")
LOG_IN = "app_pages/login.py"
PAGES_BY_ROLE: dict[Role, list[st.Page]] = {
    Role.CLINICIAN: [PATIENTS, PATIENT, NEW_PATIENT, RECORD_VISIT],
    Role.ADMIN: [OUTCOMES, USERS, CLINIC, PATIENTS, PATIENT],
    Role.PATIENT: [MY_RECORD],
}

actor = browser_session.signed_in_actor()
if actor is None:
    # Every page's address shows the log-in form while signed out: a reload, a bookmark or
    # a sign-out after idling keeps the address (with its ?patient=), and the page it names
    # opens once signed in, instead of "page not found".
    addresses = sorted({page.url_path for pages in PAGES_BY_ROLE.values() for page in pages})
    current = st.navigation(
        [st.Page(LOG_IN, title="Log in", icon=":material/login:", default=True)]
        + [st.Page(LOG_IN, title="Log in", url_path=address) for address in addresses],
        position="hidden",
    )
else:
    current = st.navigation(PAGES_BY_ROLE[actor.role])
    with st.sidebar:
        st.caption(f"Signed in as {actor.email} ({actor.role.value})")
        if st.button("Log out", icon=":material/logout:"):
            browser_session.log_out()
current.run()
