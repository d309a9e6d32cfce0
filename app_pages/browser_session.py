"""Who is signed in, for how long, and the checks every page makes before it shows anything.

Not a page: the page scripts and ``app.py`` import it. The signed-in :class:`Actor` lives in
``st.session_state``; each page asks the services again whether that actor may see what the
page shows, so a page opened by URL or left open is checked like any other request.
"""

from __future__ import annotations

import os
import time
from typing import NoReturn

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

import db
from models import Role
from tracker import settings
from tracker.services.access import AccessDenied, Actor, require_role
from tracker.services.errors import ServiceError

ACTOR_KEY = "actor"
LAST_ACTIVITY_KEY = "last_activity"
NOTICE_KEY = "login_notice"
DEFAULT_TIMEOUT_MINUTES = 30.0


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
    """Forget everything this browser session held, keeping only the notice for the log-in."""
    st.session_state.clear()
    if notice:
        st.session_state[NOTICE_KEY] = notice


def signed_in_actor() -> Actor | None:
    """The actor of this browser session, or ``None`` once signed out or idle too long."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        return None
    idle = time.time() - float(st.session_state.get(LAST_ACTIVITY_KEY, 0.0))
    if idle > timeout_seconds():
        sign_out("You were signed out after a period of inactivity. Please log in again.")
        return None
    st.session_state[LAST_ACTIVITY_KEY] = time.time()
    return actor


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
