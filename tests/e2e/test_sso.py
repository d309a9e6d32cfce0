"""End-to-end single sign-on: Streamlit's OIDC against a local identity provider.

The app is served with an ``[auth]`` section pointing at :mod:`tests.e2e.oidc_provider` on
127.0.0.1; the browser goes through the real redirects, code exchange and ID-token check.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningApp, free_port, running_app
from tests.e2e.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Identity,
    OidcProvider,
    serve_oidc_provider,
)
from tests.e2e.test_browser import expect_text, shot
from tracker.demo import DEMO_LOGINS

pytestmark = pytest.mark.browser

PROVIDER_LABEL = "Clinic ID"
CLINICIAN = next(login for login in DEMO_LOGINS if login.who == "clinician")


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[OidcProvider]:
    with serve_oidc_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def sso_app(
    chromium_executable: Path,
    tmp_path_factory: pytest.TempPathFactory,
    identity_provider: OidcProvider,
) -> Iterator[RunningApp]:
    data_dir = tmp_path_factory.mktemp("sso-app-data")
    # The redirect URI names the app's port, so the port is chosen first.
    port = free_port()
    secrets_file = data_dir / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a cookie secret for the browser tests only"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{identity_provider.metadata_url}"\n'
        f'provider_label = "{PROVIDER_LABEL}"\n'
    )
    with running_app(data_dir, port=port, secrets_file=secrets_file) as app:
        yield app


def sign_in_at_provider(page, app: RunningApp, provider: OidcProvider, who: Identity) -> None:
    provider.identity = who
    page.goto(app.url)
    page.get_by_role("button", name=f"Sign in with {PROVIDER_LABEL}").click()


def test_the_demo_clinician_signs_in_through_the_identity_provider(
    page, sso_app: RunningApp, identity_provider: OidcProvider
):
    clinician = Identity(subject="idp-user-17", email=CLINICIAN.email, name="Demo clinician")
    sign_in_at_provider(page, sso_app, identity_provider, clinician)
    expect_text(page, f"Signed in as {CLINICIAN.email}")
    expect_text(page, "patients; showing")
    expect_text(page, "D-001")
    expect_text(page, "D-002")
    shot(page, "sso-clinician-patient-list")

    # Log-out leaves through Streamlit's /auth/logout, which clears the identity cookie.
    with page.expect_response(lambda response: "/auth/logout" in response.url):
        page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name=f"Sign in with {PROVIDER_LABEL}").wait_for()
    # The identity cookie is gone too: a fresh page load does not sign straight back in.
    page.goto(sso_app.url)
    page.get_by_role("button", name=f"Sign in with {PROVIDER_LABEL}").wait_for()
    assert page.get_by_text("Signed in as").count() == 0


def test_an_identity_with_an_unknown_email_is_refused(
    page, sso_app: RunningApp, identity_provider: OidcProvider
):
    stranger = Identity(subject="idp-user-99", email="stranger@elsewhere.test")
    sign_in_at_provider(page, sso_app, identity_provider, stranger)
    expect_text(page, "There is no account for stranger@elsewhere.test")
    assert page.get_by_text("Signed in as").count() == 0
    page.get_by_label("Email", exact=True).wait_for()
    shot(page, "sso-unknown-email-refused")
