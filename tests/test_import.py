"""Archive import: layout, visit.json, replicates, idempotency and bad files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from models import HairCondition, PhotoView
from tests.conftest import ClinicStaff, scalp_png
from tracker.archive_import import import_archive
from tracker.services import integrity, patients
from tracker.services.errors import NotFound
from tracker.services.records import PatientInput


def build_archive(root: Path) -> Path:
    """Two good patients, one with a damaged file, and folders that are not sessions."""
    files = {
        "P001/0/a.png": scalp_png(1),
        "P001/0/b.png": scalp_png(2),
        "P001/3/a.png": scalp_png(3),
        "P002/0/good.png": scalp_png(4),
        "P002/0/bad.jpg": b"\xff\xd8\xff this is not really a jpeg",
        "P002/0/empty.png": b"",
        "P003/first/a.png": scalp_png(5),
        "P004/1/a.png": scalp_png(6),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "P001/3/visit.json").write_text(json.dumps({"date": "2026-02-02", "px_per_mm": 120}))
    (root / "P004/1/visit.json").write_text("{not json")
    (root / "README.txt").write_text("clinic archive")
    return root


@pytest.mark.usefixtures("quick_measure")
def test_import_is_idempotent_and_reports_what_it_skipped(
    clinic: ClinicStaff, tmp_path: Path
) -> None:
    archive = build_archive(tmp_path / "archive")
    # P001 is already a patient of the clinic: the import adds to that record.
    existing = patients.register_patient(
        clinic.clinician,
        PatientInput(
            "P001",
            "Known Patient",
            "male",
            HairCondition.ANDROGENETIC_ALOPECIA,
            consent_photography=True,
        ),
    )

    first = import_archive(clinic.operator, archive, view=PhotoView.TRICHOSCOPY, px_per_mm=100.0)

    assert (first.patients_created, first.visits_created, first.photos_added) == (1, 3, 4)
    skipped = dict(first.skipped)
    assert set(skipped) == {
        "README.txt",
        "P002/0/bad.jpg",
        "P002/0/empty.png",
        "P003/first",
        "P004/1",
    }
    assert "not a photo" in skipped["P002/0/bad.jpg"]
    assert "not a session folder" in skipped["P003/first"]
    assert "visit.json" in skipped["P004/1"]

    record = patients.patient_file(clinic.clinician, existing.id)
    (course,) = record.courses
    assert [v.visit.session_number for v in course.visits] == [0, 3]
    baseline, third = course.visits
    assert [(p.replicate_index, p.px_per_mm, p.original_filename) for p in baseline.photos] == [
        (0, 100.0, "P001/0/a.png"),
        (1, 100.0, "P001/0/b.png"),
    ]
    assert third.visit.visit_date == date(2026, 2, 2)
    assert [p.px_per_mm for p in third.photos] == [120.0]

    again = import_archive(clinic.operator, archive, view=PhotoView.TRICHOSCOPY, px_per_mm=100.0)

    assert (again.patients_created, again.visits_created, again.photos_added) == (0, 0, 0)
    assert again.photos_already_present == 4
    assert sorted(again.skipped) == sorted(first.skipped)
    assert len(patients.list_patients(clinic.clinician)) == 2
    assert integrity.check_store().consistent


@pytest.mark.usefixtures("quick_measure")
def test_a_session_dated_in_the_future_is_skipped_and_the_others_imported(
    clinic: ClinicStaff, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    for number, day in ((0, "2026-01-05"), (1, "2099-01-12"), (2, "2026-01-19")):
        folder = archive / "P009" / str(number)
        folder.mkdir(parents=True)
        (folder / "a.png").write_bytes(scalp_png(10 + number))
        (folder / "visit.json").write_text(json.dumps({"date": day}))

    report = import_archive(clinic.operator, archive, view=PhotoView.TRICHOSCOPY, px_per_mm=100.0)

    assert (report.visits_created, report.photos_added) == (2, 2)
    (skipped,) = report.skipped
    assert skipped[0] == "P009/1" and "2099-01-12 is in the future" in skipped[1]
    (summary,) = patients.list_patients(clinic.clinician)
    (course,) = patients.patient_file(clinic.clinician, summary.patient.id).courses
    assert [visit.visit.session_number for visit in course.visits] == [0, 2]


@pytest.mark.usefixtures("quick_measure")
def test_new_patients_get_a_minimal_record_to_complete(clinic: ClinicStaff, tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "archive")
    import_archive(clinic.operator, archive, view=PhotoView.GLOBAL)
    created = patients.find_patient_by_code(clinic.clinician, "P002")
    assert (created.name, created.condition) == ("P002", HairCondition.OTHER)
    assert created.consent_photography and not created.consent_outcome_statistics
    (course,) = patients.patient_file(clinic.clinician, created.id).courses
    (visit,) = course.visits
    assert [(p.view, p.site) for p in visit.photos] == [(PhotoView.GLOBAL, "vertex")]


def test_a_missing_archive_is_a_clear_error(clinic: ClinicStaff, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="is not a directory"):
        import_archive(clinic.operator, tmp_path / "nowhere", view=PhotoView.TRICHOSCOPY)
