"""Account management for administrators: create, reset passwords, deactivate."""

import pandas as pd
import streamlit as st

from app_pages import browser_session
from models import Role
from tracker.services import patients, users
from tracker.services.errors import ServiceError

FLASH_KEY = "users_flash"

actor = browser_session.require_page(Role.ADMIN, doing="manage accounts")
st.title("Accounts")
flash = st.session_state.pop(FLASH_KEY, "")
if flash:
    st.success(flash)

accounts = users.list_users(actor)
st.dataframe(
    pd.DataFrame(
        {
            "Email": [account.email for account in accounts],
            "Name": [account.display_name for account in accounts],
            "Role": [account.role.value for account in accounts],
            "Active": [account.is_active for account in accounts],
            "Locked until": [account.locked_until for account in accounts],
        }
    ),
    hide_index=True,
)

st.subheader("Create an account")
patient_choices = patients.list_patients(actor)
with st.form("create_account"):
    left, right = st.columns(2)
    role = left.selectbox("Role", [Role.CLINICIAN, Role.PATIENT, Role.ADMIN], format_func=str)
    email = right.text_input("Email")
    display_name = left.text_input("Name shown in the app")
    password = right.text_input("First password (at least 10 characters)", type="password")
    linked = st.selectbox(
        "Patient record (patient accounts only)",
        [None, *patient_choices],
        format_func=lambda s: "—" if s is None else f"{s.patient.code} — {s.patient.name}",
    )
    if st.form_submit_button("Create account", type="primary"):
        try:
            created = users.create_user(
                actor,
                role=role,
                email=email,
                password=password,
                display_name=display_name.strip(),
                patient_id=linked.patient.id if linked is not None else None,
            )
        except ServiceError as error:
            st.error(str(error))
        else:
            st.session_state[FLASH_KEY] = (
                f"Created the {created.role.value} account {created.email}."
            )
            st.rerun()

st.subheader("Reset a password or deactivate")
accounts_by_id = {account.id: account for account in accounts}
# Chosen by id, so that the account shown is the one just read from the database.
account = accounts_by_id[
    st.selectbox(
        "Account",
        list(accounts_by_id),
        format_func=lambda account_id: (
            f"{accounts_by_id[account_id].email} ({accounts_by_id[account_id].role.value}"
            f"{'' if accounts_by_id[account_id].is_active else ', inactive'})"
        ),
    )
]
with st.form("reset_password", clear_on_submit=True):
    new_password = st.text_input("New password (at least 10 characters)", type="password")
    if st.form_submit_button("Reset password"):
        try:
            users.reset_password(actor, account.id, new_password)
        except ServiceError as error:
            st.error(str(error))
        else:
            st.session_state[FLASH_KEY] = f"New password set for {account.email}; lock-out lifted."
            st.rerun()
if account.is_active and account.id != actor.user_id and st.button(f"Deactivate {account.email}"):
    try:
        users.deactivate_user(actor, account.id)
    except ServiceError as error:
        st.error(str(error))
    else:
        st.session_state[FLASH_KEY] = f"Deactivated {account.email}."
        st.rerun()
