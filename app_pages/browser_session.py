"""Who is signed in, for how long, and the checks every page makes before it shows anything.

Not a page: the page scripts and ``app.py`` import it. The signed-in :class:`Actor` lives in
``st.session_state``; each page asks the services again whether that actor may see what the
page shows, so a page opened by URL or left open is checked like any other request, and
every script run checks that the account is still active.

Single sign-on is Streamlit's OIDC (``st.login``), offered when ``.streamlit/secrets.toml``
has an ``[auth]`` section. After the identity provider's redirect, ``st.user`` holds the ID
token's claims; :func:`sign_in_with_identity` turns them into the same signed-in actor as a
password log-in, through the services.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

import db
from models import Role
from tracker import settings
from tracker.services import auth
from tracker.services.access import (
    AccessDenied,
    AccountInactive,
    Actor,
    require_active_account,
    require_role,
)
from tracker.services.errors import ServiceError

ACTOR_KEY = "actor"
LAST_ACTIVITY_KEY = "last_activity"
NOTICE_KEY = "login_notice"
# Set once this browser session has tried the identity in st.user: an identity signs in at
# most once a session, so signing out (or being signed out) does not sign straight back in.
IDENTITY_TRIED_KEY = "identity_tried"
DEFAULT_TIMEOUT_MINUTES = 30.0
# Keys of a provider's own section in [auth] that are not further providers.
_PROVIDER_SETTINGS = {"client_kwargs"}


@dataclass(frozen=True)
class IdentityProvider:
    """A single sign-on button: ``name`` for ``st.login`` (``None``: the unnamed default)."""

    name: str | None
    label: str


@st.cache_resource(show_spinner=False)
def _database(url: str) -> sessionmaker[Session]:
    db.migrate_to_head(url)
    return db.configure(url)


def connect_database() -> None:
    """Point the services at ``DATABASE_URL`` once per server process (migrating it first)."""
    url = settings.database_url()
    _database(url)
    if db.configured_url() != url:
        # Another database was configured in this process since (tests run several apps).
        db.configure(url)


def timeout_seconds() -> float:
    return 60.0 * float(os.environ.get("TRACKER_SESSION_TIMEOUT_MINUTES", DEFAULT_TIMEOUT_MINUTES))


def sign_in(actor: Actor) -> None:
    st.session_state[ACTOR_KEY] = actor
    st.session_state[LAST_ACTIVITY_KEY] = time.time()


def sign_out(notice: str = "") -> None:
    """Forget everything this browser session held but the notice for the log-in page."""
    identity_tried = st.session_state.get(IDENTITY_TRIED_KEY, False)
    st.session_state.clear()
    st.session_state[IDENTITY_TRIED_KEY] = identity_tried
    if notice:
        st.session_state[NOTICE_KEY] = notice


def log_out() -> NoReturn:
    """Sign out at the user's request, and out of the identity provider's cookie too."""
    sign_out("You are logged out.")
    if st.user.get("is_logged_in"):
        # The browser follows the redirect into a new session, so the notice above is not
        # shown then. Stopping, not rerunning: a rerun drops the queued redirect.
        st.logout()
        st.stop()
    st.rerun()


def signed_in_actor() -> Actor | None:
    """The actor of this browser session, or ``None`` once signed out, idle too long, or
    deactivated (or changed) by an administrator since signing in."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        return None
    idle = time.time() - float(st.session_state.get(LAST_ACTIVITY_KEY, 0.0))
    if idle > timeout_seconds():
        sign_out("You were signed out after a period of inactivity. Please log in again.")
        return None
    try:
        require_active_account(actor)
    except AccountInactive as refusal:
        sign_out(f"You have been signed out. {refusal}")
        return None
    st.session_state[LAST_ACTIVITY_KEY] = time.time()
    return actor


def identity_providers() -> list[IdentityProvider]:
    """The single sign-on providers configured in ``[auth]`` of the secrets (often none).

    The unnamed default provider (``client_id`` directly in ``[auth]``) is labelled by the
    optional ``[auth] provider_label``; a named one (``[auth.okta]``) by its name.
    """
    if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
        return []
    section: Mapping[str, Any] = st.secrets["auth"]
    providers = []
    if "client_id" in section:
        label = str(section.get("provider_label", "your organisation's account"))
        providers.append(IdentityProvider(None, label))
    providers.extend(
        IdentityProvider(name, name.replace("-", " ").title())
        for name, value in section.items()
        if isinstance(value, Mapping) and name not in _PROVIDER_SETTINGS and "client_id" in value
    )
    return providers


def sign_in_with_identity() -> bool:
    """Sign in the account of the identity provider's verified identity in ``st.user``.

    True once signed in; False when there is no identity to try: none, one this browser
    session has tried already, or one issued longer ago than the idle timeout (the identity
    cookie lives for 30 days, and a fresh log-in at the provider must not be skipped that
    long). Raises :class:`AuthenticationFailed` with the services' reason for a refusal.
    """
    claims = st.user.to_dict()
    if not claims.get("is_logged_in") or st.session_state.get(IDENTITY_TRIED_KEY):
        return False
    st.session_state[IDENTITY_TRIED_KEY] = True
    issued_at = claims.get("iat")
    if not isinstance(issued_at, int | float) or time.time() - issued_at > timeout_seconds():
        return False
    actor = auth.authenticate_identity(
        issuer=str(claims.get("iss", "")),
        subject=str(claims.get("sub", "")),
        email=str(claims.get("email", "")),
        # Some providers send the claim as a string.
        email_verified=claims.get("email_verified") in (True, "true"),
    )
    sign_in(actor)
    return True


def require_page(*roles: Role, doing: str) -> Actor:
    """The signed-in actor, if the services allow one of ``roles`` to ``doing``; else stop."""
    actor = signed_in_actor()
    if actor is None:
        st.warning("Please log in.")
        st.stop()
    try:
        require_role(actor, *roles, doing=doing)
    except AccessDenied as denial:
        st.error(str(denial))
        st.stop()
    return actor


def stop_on_refusal(error: ServiceError) -> NoReturn:
    """Show why the services refused (or found nothing) and show nothing else."""
    st.error(str(error))
    st.stop()


def query_int(name: str) -> int | None:
    """An integer query parameter (e.g. ``?patient=12``); ``None`` when absent or malformed."""
    raw = st.query_params.get(name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
