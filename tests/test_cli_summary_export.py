"""``summary`` and ``export`` on a small database, through the services and the CLI.

Photos are measured by the conftest's dark-pixel stand-in: each 10 × 30 px dark bar is
one "hair", so a photo's count is set exactly by how many bars it carries.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from models import HairCondition, PhotoView, Role, Severity, SideEffectKind
from tests.conftest import QUICK_ALGORITHM_VERSION, TEST_PASSWORD, ClinicStaff, make_clinic
from tracker.cli import main
from tracker.progress import MEASURES
from tracker.services import patients, photos, users, visits
from tracker.services.access import AccessDenied, Actor
from tracker.services.exports import export_csv, export_patient_pdf
from tracker.services.records import (
    CourseInput,
    PatientInput,
    PhotoUpload,
    SideEffectEntry,
    VisitInput,
)

PX_PER_MM = 100.0
FRAME_PX = 640
AREA_CM2 = (FRAME_PX / PX_PER_MM) ** 2 / 100  # 0.4096
START = date(2026, 1, 5)
# Replicate hair counts per session: P-GAIN gains 4 hairs a session, P-SAME does not.
REPLICATE_OFFSETS = (0, 1, -1)
GAIN_COUNTS = {s: [30 + 4 * s + d for d in REPLICATE_OFFSETS] for s in range(4)}
SAME_COUNTS = {s: [30 + d for d in REPLICATE_OFFSETS] for s in range(4)}


def bars_png(count: int, *, seed: int) -> bytes:
    """A skin-coloured frame with ``count`` dark 10 × 30 px bars (300 dark pixels each).

    Flat colours keep PNG encoding fast; the seed places the bars, so every photo differs.
    """
    rng = np.random.default_rng(seed)
    image = np.empty((FRAME_PX, FRAME_PX, 3), dtype=np.uint8)
    image[...] = (205, 160, 135)
    slots = [
        (row, col) for row in range(0, FRAME_PX - 30, 34) for col in range(0, FRAME_PX - 10, 14)
    ]
    for index in rng.choice(len(slots), count, replace=False):
        row, col = slots[index]
        image[row : row + 30, col : col + 10] = (45, 30, 25)
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def add_patient(
    staff: ClinicStaff, code: str, counts: dict[int, list[int]], *, consent: bool
) -> int:
    patient = patients.register_patient(
        staff.clinician,
        PatientInput(
            code=code,
            name=f"Name of {code}",
            sex="female",
            condition=HairCondition.ANDROGENETIC_ALOPECIA,
            consent_photography=True,
            consent_outcome_statistics=consent,
        ),
    )
    course = visits.start_course(
        staff.clinician,
        patient.id,
        CourseInput(planned_sessions=3, interval_days=7, start_date=START, product="dutasteride"),
    )
    for session, session_counts in counts.items():
        visit = visits.record_visit(
            staff.clinician,
            course.id,
            VisitInput(
                session_number=session,
                visit_date=START + timedelta(weeks=session),
                side_effects=(SideEffectEntry(SideEffectKind.PAIN, Severity.MILD),)
                if session == 1
                else (),
            ),
        )
        uploads = [
            PhotoUpload(
                data=bars_png(count, seed=1000 * session + replicate),
                view=PhotoView.TRICHOSCOPY,
                site="vertex",
                filename=f"{code}-{session}-{replicate}.png",
                px_per_mm=PX_PER_MM,
            )
            for replicate, count in enumerate(session_counts)
        ]
        results = photos.add_photos(staff.clinician, visit.id, uploads)
        assert [r.status for r in results] == ["added"] * len(uploads), results
    return patient.id


@pytest.fixture
def small_clinic(clinic: ClinicStaff, quick_measure: None) -> tuple[ClinicStaff, dict[str, int]]:
    ids = {
        "P-GAIN": add_patient(clinic, "P-GAIN", GAIN_COUNTS, consent=True),
        "P-SAME": add_patient(clinic, "P-SAME", SAME_COUNTS, consent=False),
    }
    return clinic, ids


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_summary_json_shape_and_verdicts(
    small_clinic: tuple[ClinicStaff, dict[str, int]],
    records: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = json.loads(run_cli(capsys, "summary", "--db", records, "--json"))
    assert set(summary) == {"patients", "cohort"}
    by_code = {p["code"]: p for p in summary["patients"]}
    assert set(by_code) == {"P-GAIN", "P-SAME"}
    gain, same = by_code["P-GAIN"], by_code["P-SAME"]
    assert (gain["sessions"], gain["view"]) == (4, "trichoscopy")
    density = gain["density_per_cm2"]
    assert set(density) == {
        "baseline",
        "latest",
        "change_pct",
        "mdc_pct",
        "verdict",
        "first_improving_session",
        "left_out_sessions",
    }
    # Every photo is of the (stand-in) current engine: nothing left out.
    assert (gain["algorithm_version"], density["left_out_sessions"]) == (
        QUICK_ALGORITHM_VERSION,
        [],
    )
    # Counts 30 → 42 hairs on 0.4096 cm²: +40 %. Photo variance in hairs² (rule 5):
    # replicate SD 1 over 8 df and the benchmark's photo CV of 30 hairs over 4 df; the
    # visit mean's variance adds the between-visit term (rule 8), unreduced by 3 photos;
    # the stand-in engine has no region figures, so it is the whole-frame term (rule 20).
    spec = MEASURES["density_per_cm2"].for_series(registered=False)
    variance = (8 + 4 * (spec.photo_cv * 30) ** 2) / 12
    sem_squared = variance / 3 + (spec.visit_cv * 30) ** 2
    assert density["baseline"] == pytest.approx(30 / AREA_CM2)
    assert density["latest"] == pytest.approx(42 / AREA_CM2)
    assert density["change_pct"] == pytest.approx(40.0)
    assert density["mdc_pct"] == pytest.approx(100 * 1.96 * math.sqrt(2 * sem_squared) / 30)
    assert density["verdict"] == "improving"
    assert density["first_improving_session"] == 1
    assert same["density_per_cm2"]["verdict"] == "no measurable change"
    cohort = summary["cohort"]
    assert cohort["consenting_patients"] == 1
    assert cohort["excluded_without_consent"] == 1
    assert cohort["checkpoints"]["3"]["improving"]["successes"] == 1
    assert cohort["measured_success"]["total"] == 1  # P-GAIN finished its 3 sessions
    assert cohort["side_effects"][0]["counts"] == {"pain": 1}

    text = run_cli(capsys, "summary", "--db", records, "--clinic", "Clinic A")
    assert "P-GAIN trichoscopy/vertex: improving" in text
    make_clinic("Clinic B")
    assert main(["summary", "--db", records, "--json"]) == 1
    assert "--clinic" in capsys.readouterr().err


def test_exports_carry_codes_not_names_and_pdfs_render(
    small_clinic: tuple[ClinicStaff, dict[str, int]],
    records: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "all.csv"
    run_cli(capsys, "export", "--db", records, "--format", "csv", "--out", str(out))
    text = out.read_text()
    assert "Name of" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["patient_code"] for row in rows} == {"P-GAIN", "P-SAME"}
    assert sum(row["measure"] == "density_per_cm2" for row in rows) == 24  # 2 × 4 × 3 photos
    fhir = tmp_path / "gain.json"
    run_cli(
        capsys, "export", "--db", records, "--format", "fhir", "--patient", "P-GAIN",
        "--out", str(fhir),
    )  # fmt: skip
    bundle = json.loads(fhir.read_text())
    assert bundle["resourceType"] == "Bundle"
    subjects = {e["resource"]["subject"]["reference"] for e in bundle["entry"]}
    assert subjects == {"Patient/P-GAIN"}
    assert "Name of" not in fhir.read_text()

    patient_pdf = tmp_path / "gain.pdf"
    run_cli(
        capsys, "export", "--db", records, "--format", "pdf", "--patient", "P-GAIN",
        "--out", str(patient_pdf),
    )  # fmt: skip
    text = "\n".join(p.extract_text() for p in PdfReader(patient_pdf).pages)
    assert "patient P-GAIN" in text
    assert "Name of" not in text
    assert "improving" in text
    assert "pain" in text
    assert "Before and after" in text
    clinic_pdf = tmp_path / "clinic.pdf"
    run_cli(capsys, "export", "--db", records, "--format", "pdf", "--out", str(clinic_pdf))
    clinic_text = "\n".join(p.extract_text() for p in PdfReader(clinic_pdf).pages)
    assert "Clinic outcome summary - Clinic A" in clinic_text
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm (poppler-utils) is required in CI")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(patient_pdf), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(patient_pdf).pages) >= 3
    assert all(np.asarray(Image.open(p)).std() > 0 for p in pages)


def test_patient_account_exports_their_own_data_with_their_name(
    small_clinic: tuple[ClinicStaff, dict[str, int]],
) -> None:
    staff, ids = small_clinic
    account = users.create_user(
        staff.admin,
        role=Role.PATIENT,
        email="gain@patients.test",
        password=TEST_PASSWORD,
        patient_id=ids["P-GAIN"],
    )
    patient = Actor(account.id, Role.PATIENT, staff.clinic.id, patient_id=ids["P-GAIN"])
    rows = list(csv.DictReader(io.StringIO(export_csv(patient, patient_id=ids["P-GAIN"]))))
    assert {row["patient_name"] for row in rows} == {"Name of P-GAIN"}
    with pytest.raises(AccessDenied):
        export_csv(patient, patient_id=ids["P-SAME"])
    with pytest.raises(AccessDenied):
        export_csv(patient, patient_id=None)  # the clinic-wide export is for staff
    pdf = export_patient_pdf(patient, ids["P-GAIN"], today=START)
    assert "Name of P-GAIN" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
