"""CSV, FHIR and PDF exports built from plain records."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from tracker.outcomes import Checkpoint, PatientCourse, cohort_outcome
from tracker.progress import PhotoFigures, site_progress
from tracker.reports.csv import write_measurements_csv
from tracker.reports.fhir import UCUM_SYSTEM, measurements_bundle
from tracker.reports.pdf import clinic_pdf, patient_pdf
from tracker.reports.records import MeasurementRecord, PatientReport, PhotoPair, VisitSummary

START = date(2026, 3, 2)
DENSITY_BY_SESSION = {0: (180.0, 184.0, 182.0), 1: (190.0, 188.0, 192.0), 2: (200.0, 203.0, 199.0)}


def records(*, name: str | None = None) -> list[MeasurementRecord]:
    return [
        MeasurementRecord(
            patient_code="P-007",
            patient_name=name,
            session=session,
            visit_date=START + timedelta(weeks=session),
            view="trichoscopy",
            site="vertex",
            replicate=replicate,
            photo_id=10 * session + replicate,
            algorithm_version="test-1",
            quality_ok=True,
            measures={"density_per_cm2": value, "mean_width_um": 61.5, "vellus_fraction": 0.2},
        )
        for session, values in DENSITY_BY_SESSION.items()
        for replicate, value in enumerate(values)
    ]


def test_clinic_csv_has_codes_and_no_names() -> None:
    out = io.StringIO()
    rows = write_measurements_csv(records(name="Ada Lovelace"), out, for_patient_themself=False)
    assert rows == 9 * 3
    assert "Ada" not in out.getvalue()
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert "patient_name" not in parsed[0]
    first = parsed[0]
    assert (first["patient_code"], first["measure"], first["unit"]) == (
        "P-007",
        "density_per_cm2",
        "/cm2",
    )
    assert float(first["value"]) == 180.0
    assert {row["measure"] for row in parsed} == {
        "density_per_cm2",
        "mean_width_um",
        "vellus_fraction",
    }


def test_patient_own_csv_carries_their_name() -> None:
    out = io.StringIO()
    write_measurements_csv(records(name="Ada Lovelace"), out, for_patient_themself=True)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {row["patient_name"] for row in parsed} == {"Ada Lovelace"}


def test_fhir_bundle_has_one_valid_observation_per_value() -> None:
    bundle = json.loads(json.dumps(measurements_bundle(records())))
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert len(bundle["entry"]) == 27
    units = set()
    for entry in bundle["entry"]:
        assert entry["fullUrl"].startswith("urn:uuid:")
        observation = entry["resource"]
        assert observation["resourceType"] == "Observation"
        assert observation["status"] == "final"
        assert observation["code"]["coding"][0]["code"]
        assert observation["subject"]["reference"] == "Patient/P-007"
        assert observation["subject"]["identifier"]["value"] == "P-007"
        quantity = observation["valueQuantity"]
        assert quantity["system"] == UCUM_SYSTEM
        assert quantity["code"] == quantity["unit"]
        assert isinstance(quantity["value"], float)
        units.add((observation["code"]["coding"][0]["code"], quantity["code"]))
    assert units == {("density_per_cm2", "/cm2"), ("mean_width_um", "um"), ("vellus_fraction", "1")}
    assert len({entry["fullUrl"] for entry in bundle["entry"]}) == 27


def test_exports_carry_the_reference_patch_figures_apart() -> None:
    placed = replace(
        records()[0], patch_measures={"density_per_cm2": 150.0, "hair_count": 30, "area_cm2": 0.2}
    )
    out = io.StringIO()
    write_measurements_csv([placed], out, for_patient_themself=False)
    parsed = [
        (row["counted_on"], row["measure"], float(row["value"]))
        for row in csv.DictReader(io.StringIO(out.getvalue()))
    ]
    assert parsed == [
        ("whole_photo", "density_per_cm2", 180.0),
        ("whole_photo", "mean_width_um", 61.5),
        ("whole_photo", "vellus_fraction", 0.2),
        ("reference_patch", "hair_count", 30.0),
        ("reference_patch", "density_per_cm2", 150.0),
    ]
    entries = measurements_bundle([placed])["entry"]
    assert len({entry["fullUrl"] for entry in entries}) == 5  # type: ignore[index]
    patch_density = entries[-1]["resource"]  # type: ignore[index]
    assert patch_density["valueQuantity"]["value"] == 150.0
    assert patch_density["bodySite"]["text"] == "scalp, vertex, reference patch"
    # The whole photo's Observations keep the names earlier exports gave them.
    unplaced = measurements_bundle([records()[0]])["entry"]
    assert [e["fullUrl"] for e in unplaced] == [e["fullUrl"] for e in entries[:3]]  # type: ignore[index]


def test_fhir_refers_to_unusual_codes_by_identifier_only() -> None:
    record = records()[0]
    odd = MeasurementRecord(**{**record.__dict__, "patient_code": "P 7/á"})
    subject = measurements_bundle([odd])["entry"][0]["resource"]["subject"]  # type: ignore[index]
    assert "reference" not in subject
    assert subject["identifier"]["value"] == "P 7/á"


def png_bytes(shade: int) -> bytes:
    rng = np.random.default_rng(shade)
    pixels = np.clip(rng.normal(shade, 30, (120, 160, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def patient_report(*, name: str | None = None, baseline_version: str = "test-1") -> PatientReport:
    photos = [
        PhotoFigures(
            r.session,
            "trichoscopy",
            "vertex",
            {"density_per_cm2": r.measures[m]},
            algorithm_version=baseline_version if r.session == 0 else r.algorithm_version,
        )
        for r in records()
        for m in ("density_per_cm2",)
    ] + [
        PhotoFigures(s, "global", "vertex", {"coverage_pct": 50.0 + s}, algorithm_version="test-1")
        for s in (0, 1, 2)
    ]
    return PatientReport(
        patient_code="P-007",
        patient_name=name,
        condition="androgenetic alopecia",
        treatment="mesotherapy (dutasteride)",
        planned_sessions=6,
        sites=site_progress(photos, version="test-1"),
        visits=(
            VisitSummary(0, START),
            VisitSummary(1, START + timedelta(weeks=1), ("bruising", "pain")),
            VisitSummary(2, START + timedelta(weeks=2)),
        ),
        photo_pairs=(
            PhotoPair("trichoscopy", "vertex", 0, png_bytes(90), 2, png_bytes(60), True, True),
        ),
    )


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def rendered_pages(pdf: bytes, tmp_path: Path) -> list[np.ndarray]:
    """Each page as a grey-level picture, via poppler's pdftoppm."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm (poppler-utils) is required in CI")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-png", str(source), str(tmp_path / "page")], check=True
    )
    return [np.asarray(Image.open(p)) for p in sorted(tmp_path.glob("page-*.png"))]


def test_patient_pdf_text_has_verdicts_side_effects_and_no_name(tmp_path: Path) -> None:
    pdf = patient_pdf(patient_report(), generated_on=date(2026, 4, 1))
    text = pdf_text(pdf)
    assert "patient P-007" in text
    assert "improving" in text  # density rose 182 -> 200.7, far beyond its MDC
    assert "bruising, pain" in text
    assert "Before and after" in text
    assert "Baseline (session 0)" in text
    assert "Session 2, laid onto the baseline photo" in text
    assert "The box marks the patch of scalp counted at every visit." in text
    assert "baseline ± MDC95" in text


def test_patient_pdf_pages_render_with_charts_and_photos(tmp_path: Path) -> None:
    pages = rendered_pages(patient_pdf(patient_report(), generated_on=date(2026, 4, 1)), tmp_path)
    assert len(pages) >= 3
    chart_page = pages[1]
    # The noise band is a light grey area: many pixels neither white nor black.
    band = (chart_page > 200) & (chart_page < 240)
    assert band.mean() > 0.01
    photo_page = pages[2]
    assert (photo_page < 150).mean() > 0.05  # the dark photographs are drawn


def test_patient_pdf_says_a_baseline_of_another_engine_is_not_comparable(
    tmp_path: Path,
) -> None:
    report = patient_report(baseline_version="test-0")
    text = " ".join(pdf_text(patient_pdf(report, generated_on=date(2026, 4, 1))).split())
    assert "Density: not comparable" in text
    assert "measured by another version of the measuring engine (test-0)" in text
    assert "photos reanalyse" in text
    assert "A hollow circle is a visit measured by another version" in text
    # The global series, all of the current engine, is still judged.
    assert "global, vertex: Coverage rose" in text
    pages = rendered_pages(patient_pdf(report, generated_on=date(2026, 4, 1)), tmp_path)
    assert len(pages) >= 3


def test_patient_own_pdf_greets_them_by_name() -> None:
    text = pdf_text(patient_pdf(patient_report(name="Ada Lovelace"), generated_on=START))
    assert "Ada Lovelace" in text


def test_clinic_pdf_shows_claim_against_measurement(tmp_path: Path) -> None:
    courses = [
        PatientCourse(
            code=f"P{i}",
            condition="androgenetic alopecia",
            treatment="dutasteride",
            consented=True,
            planned_sessions=5,
            sessions_done=5,
            checkpoints={
                5: Checkpoint(5, "improving" if i < 3 else "no measurable change", 10.0 - i)
            },
            side_effects_by_session={1: ("pain",) if i % 2 else ()},
        )
        for i in range(6)
    ]
    cohort = cohort_outcome(courses, advertised_success_pct=90.0)
    pdf = clinic_pdf(cohort, clinic_name="Hairline Clinic", generated_on=START)
    text = pdf_text(pdf)
    assert "Hairline Clinic" in text
    assert "90 %" in text
    assert "3/6 = 50 %" in text
    assert "pain 3" in text
    assert rendered_pages(pdf, tmp_path)
