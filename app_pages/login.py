"""Log-in with email and password (argon2 and lock-out live in the services)."""

import streamlit as st

from app_pages import browser_session
from tracker.services import auth
from tracker.services.errors import AccountLocked, AuthenticationFailed

st.title("Hair progress tracker")
notice = st.session_state.pop(browser_session.NOTICE_KEY, "")
if notice:
    st.info(notice)

with st.form("login"):
    email = st.text_input("Email", autocomplete="username")
    password = st.text_input("Password", type="password", autocomplete="current-password")
    submitted = st.form_submit_button("Log in", type="primary")

if submitted:
    if not email.strip() or not password:
        st.error("Enter your email and your password.")
    else:
        try:
            actor = auth.authenticate(email, password)
        except (AuthenticationFailed, AccountLocked) as refusal:
            st.error(str(refusal))
        else:
            browser_session.sign_in(actor)
            st.rerun()
