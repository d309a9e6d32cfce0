"""End-to-end: the three roles in a real headless Chromium against ``streamlit run app.py``.

The server holds a small demo clinic seeded by ``python -m tracker demo seed``; photos are
measured by the real engine. Each test saves screenshots to ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import ARTIFACTS, RunningApp
from tracker.demo import DEMO_LOGINS, FIELD_MM, FRAME_PX, PX_PER_MM
from tracker.phantoms import make_trichoscopy_scene, render_trichoscopy

pytestmark = pytest.mark.browser

# A script run that measures photos takes a few seconds on a loaded machine.
MEASURING_TIMEOUT_MS = 90_000
LOGINS = {login.who: login for login in DEMO_LOGINS}


def expect_text(page, text: str, *, timeout: int = 30_000) -> None:
    page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=timeout)


def log_in(page, app: RunningApp, who: str) -> None:
    login = LOGINS[who]
    page.goto(app.url)
    page.get_by_label("Email", exact=True).fill(login.email)
    page.get_by_label("Password", exact=True).fill(login.password)
    page.get_by_role("button", name="Log in").click()
    expect_text(page, f"Signed in as {login.email}")


def shot(page, name: str) -> None:
    """Save a screenshot once the script run has finished (no "Running…" indicator)."""
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def phantom_jpeg(seed: int) -> bytes:
    scene = make_trichoscopy_scene(seed=seed, density_per_cm2=160.0, field_mm=FIELD_MM)
    rgb, _truth = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=FRAME_PX)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def open_visit_form_of(page, code: str) -> None:
    page.get_by_role("link", name="Patients").first.click()
    expect_text(page, code)
    row = page.locator("[data-testid='stHorizontalBlock']").filter(has_text=code)
    row.get_by_role("link", name="Open").click()
    expect_text(page, f"{code} — ")
    page.get_by_test_id("stMain").get_by_role("link", name="Record a visit").click()
    page.get_by_role("button", name="Save visit").wait_for()


def upload(page, name: str, data: bytes, mime: str) -> None:
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    expect_text(page, name)


def save_visit(page) -> None:
    page.get_by_role("button", name="Save visit").click()


def test_clinician_creates_a_patient_and_records_a_measured_visit(page, app_server: RunningApp):
    log_in(page, app_server, "clinician")
    expect_text(page, "patients; showing")
    shot(page, "clinician-patient-list")
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("Patient code", exact=True).fill("E2E-1")
    page.get_by_label("Full name", exact=True).fill("Erin Browser")
    page.get_by_role("button", name="Register patient").click()
    expect_text(page, "Registered Erin Browser (E2E-1)")
    page.get_by_test_id("stMain").get_by_role("link", name="Record the baseline visit").click()
    page.get_by_label("Dermatoscope pixels per mm (device setting)", exact=True).fill(
        str(PX_PER_MM)
    )
    upload(page, "baseline.jpg", phantom_jpeg(seed=5), "image/jpeg")
    save_visit(page)
    expect_text(page, "What was detected", timeout=MEASURING_TIMEOUT_MS)
    expect_text(page, "Session 0")
    expect_text(page, "density per cm2")
    shot(page, "clinician-visit-measured")

    page.get_by_text("Course status: completed, or stopped early").click()
    page.get_by_text("Stopped", exact=True).click()
    page.get_by_role("button", name="Save course status").click()
    expect_text(page, "(session 0 is the baseline); stopped.")
    page.get_by_label("Product / cocktail", exact=True).fill("maintenance")
    page.get_by_role("button", name="Start course").click()
    expect_text(page, "0 of 11 sessions recorded (session 0 is the baseline); active.")
    shot(page, "clinician-next-course")


def test_a_link_opened_signed_out_opens_its_page_after_log_in(page, app_server: RunningApp):
    log_in(page, app_server, "clinician")
    page.get_by_role("link", name="Patients").first.click()
    row = page.locator("[data-testid='stHorizontalBlock']").filter(has_text="D-002")
    row.get_by_role("link", name="Open").click()
    expect_text(page, "D-002 — ")
    record_address = page.url
    assert "patient=" in record_address

    # A new browser session (a reload, a bookmark, a link in a message) starts signed out.
    fresh = page.context.new_page()
    fresh.goto(record_address)
    fresh.get_by_role("button", name="Log in").wait_for()
    assert fresh.get_by_text("Page not found").count() == 0
    login = LOGINS["clinician"]
    fresh.get_by_label("Email", exact=True).fill(login.email)
    fresh.get_by_label("Password", exact=True).fill(login.password)
    fresh.get_by_role("button", name="Log in").click()
    expect_text(fresh, "D-002 — ")
    assert fresh.url == record_address
    shot(fresh, "clinician-link-after-log-in")


def test_patient_sees_exactly_their_own_chart(page, app_server: RunningApp):
    log_in(page, app_server, "patient D-001")
    expect_text(page, "Your progress, Demo Patient 1")
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 1
    assert page.get_by_text("Demo Patient 2").count() == 0
    assert page.get_by_role("link", name="Patients").count() == 0
    shot(page, "patient-own-progress")


def test_admin_downloads_the_outcome_csv(page, app_server: RunningApp):
    log_in(page, app_server, "clinic administrator")
    expect_text(page, "Outcomes — Demo Hair Clinic")
    expect_text(page, "courses completed")
    shot(page, "admin-outcomes")
    page.get_by_role("button", name="Prepare CSV").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download outcome CSV").click()
    download = download_info.value
    rows = list(csv.DictReader(io.StringIO(download.path().read_text())))
    assert rows, "the CSV holds the measured photos"
    assert {row["patient_code"] for row in rows} >= {"D-001", "D-002"}
    assert not any("Demo Patient" in value for row in rows for value in row.values())


def test_bad_input_gets_a_clear_message_and_saves_nothing(page, app_server: RunningApp):
    log_in(page, app_server, "clinician")
    open_visit_form_of(page, "D-002")
    recorded = page.get_by_text("sessions recorded").first.inner_text()

    save_visit(page)
    expect_text(page, "The form is empty")

    page.get_by_label("Notes", exact=True).fill("typed before a failed upload")
    upload(page, "scan.jpg", b"%PDF-1.4 a scanned letter, not a photo", "image/jpeg")
    save_visit(page)
    expect_text(page, "Nothing was saved — scan.jpg")
    assert page.get_by_label("Notes", exact=True).input_value() == "typed before a failed upload"
    page.get_by_role("button", name="Remove scan.jpg").click()

    huge = io.BytesIO()
    Image.fromarray(np.full((7800, 7800, 3), 180, dtype=np.uint8)).save(huge, format="JPEG")
    upload(page, "huge.jpg", huge.getvalue(), "image/jpeg")
    save_visit(page)
    expect_text(page, "the limit is 50 megapixels", timeout=MEASURING_TIMEOUT_MS)
    page.get_by_role("button", name="Remove huge.jpg").click()

    page.get_by_label("Session number", exact=True).fill("1")
    save_visit(page)
    expect_text(page, "Session 1 is already recorded in this course; nothing was saved.")
    assert page.get_by_text("sessions recorded").first.inner_text() == recorded
    assert page.get_by_label("Notes", exact=True).input_value() == "typed before a failed upload"
    shot(page, "clinician-bad-input")
