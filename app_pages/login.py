"""Log-in with email and password (argon2 and lock-out live in the services), and single
sign-on through an identity provider when ``[auth]`` is configured in the secrets."""

import streamlit as st

from app_pages import browser_session
from tracker.services import auth
from tracker.services.errors import AccountLocked, AuthenticationFailed

st.title("Hair progress tracker")
notice = st.session_state.pop(browser_session.NOTICE_KEY, "")
if notice:
    st.info(notice)

try:
    if browser_session.sign_in_with_identity():
        st.rerun()
except AuthenticationFailed as refusal:
    st.error(str(refusal))

providers = browser_session.identity_providers()
password_column, sso_column = st.columns(2) if providers else (st.container(), None)

with password_column, st.form("login"):
    email = st.text_input("Email", autocomplete="username")
    password = st.text_input("Password", type="password", autocomplete="current-password")
    submitted = st.form_submit_button("Log in", type="primary")

if sso_column is not None:
    with sso_column:
        st.caption("Or, without a password here:")
        for provider in providers:
            if st.button(f"Sign in with {provider.label}", key=f"sso-{provider.name}"):
                st.login(provider.name)

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
