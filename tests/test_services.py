"""Use cases end to end on both databases: records, photos, outcomes, deletion, audit."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import models
from db import read_session
from models import (
    AuditAction,
    AuditEvent,
    ContraindicationKind,
    CourseStatus,
    HairCondition,
    PhotoView,
    Role,
    Severity,
    SideEffectKind,
    StageScale,
    Visit,
)
from tests.conftest import (
    QUICK_ALGORITHM_VERSION,
    TEST_PASSWORD,
    ClinicStaff,
    dark_pixel_measure,
    scalp_png,
)
from tracker.measurement import Measurement, Quality, QualityIssue
from tracker.outcomes import END_OF_COURSE
from tracker.photostore import OVERLAY_EXTENSION, default_store
from tracker.registration import REGION_FIGURES, Registration, identity_registration
from tracker.services import (
    clinics,
    exports,
    integrity,
    patients,
    photos,
    progress,
    users,
    visits,
)
from tracker.services.auth import authenticate
from tracker.services.errors import (
    AuthenticationFailed,
    DuplicateSession,
    InvalidInput,
    NotFound,
)
from tracker.services.records import (
    CourseInput,
    PatientInput,
    PhotoRecord,
    PhotoUpload,
    SideEffectEntry,
    VisitInput,
)


def register(staff: ClinicStaff, code: str = "P001", **changes: object) -> int:
    values: dict[str, object] = {
        "code": code,
        "name": f"Patient {code}",
        "sex": "male",
        "condition": HairCondition.ANDROGENETIC_ALOPECIA,
        "birth_year": 1985,
        "stage_scale": StageScale.NORWOOD_HAMILTON,
        "stage": "III",
        "consent_photography": True,
        "consent_outcome_statistics": True,
    }
    values.update(changes)
    return patients.register_patient(staff.clinician, PatientInput(**values)).id  # type: ignore[arg-type]


def course_with_baseline(staff: ClinicStaff, patient_id: int) -> tuple[int, int]:
    course = visits.start_course(
        staff.clinician,
        patient_id,
        CourseInput(
            planned_sessions=6, interval_days=7, start_date=date(2026, 1, 5), product="dutasteride"
        ),
    )
    visit = visits.record_visit(staff.clinician, course.id, VisitInput(0, date(2026, 1, 5)))
    return course.id, visit.id


def upload(seed: int, site: str = "vertex tattoo", **changes: object) -> PhotoUpload:
    values: dict[str, object] = {
        "data": scalp_png(seed),
        "view": PhotoView.TRICHOSCOPY,
        "site": site,
        "filename": f"photo-{seed}.png",
        "px_per_mm": 100.0,
    }
    values.update(changes)
    return PhotoUpload(**values)  # type: ignore[arg-type]


def test_positive_contraindication_screens_are_kept_and_warned_about(clinic: ClinicStaff) -> None:
    patient_id = register(
        clinic, contraindications=frozenset({ContraindicationKind.CLOTTING_DISORDER})
    )
    record = patients.get_patient(clinic.clinician, patient_id)
    assert record.contraindications == (ContraindicationKind.CLOTTING_DISORDER,)
    assert record.contraindication_warnings == (
        "Positive contraindication screen: clotting disorder.",
    )


def test_duplicate_patient_code_is_a_clear_error(clinic: ClinicStaff) -> None:
    register(clinic, "P001")
    with pytest.raises(InvalidInput, match="already has a patient with code 'P001'"):
        register(clinic, "P001")


def test_duplicate_session_number_saves_nothing(clinic: ClinicStaff) -> None:
    course_id, _ = course_with_baseline(clinic, register(clinic))
    with pytest.raises(DuplicateSession, match="Session 0 is already recorded"):
        visits.record_visit(
            clinic.clinician,
            course_id,
            VisitInput(
                0,
                date(2026, 1, 6),
                side_effects=(SideEffectEntry(SideEffectKind.RASH, Severity.MILD),),
            ),
        )
    with read_session() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == 1


@pytest.mark.parametrize(
    ("number", "recorded", "concern"),
    [
        (3, [0, 1, 2], None),
        (1, [0, 2, 3], None),  # filling a gap
        (0, [], None),
        (4, [0, 1, 2], "session 4 skips session 3"),
        (12, [0, 1, 2], "session 12 skips sessions 3–11"),
        (2, [], "session 2 skips sessions 0–1"),
        (7, [0, 1, 2, 3, 4, 5, 6], "session 7 is beyond the 6 planned sessions"),
    ],
)
def test_a_session_number_that_may_be_a_slip_is_named(number, recorded, concern) -> None:
    assert visits.session_number_concern(number, recorded=recorded, planned=6) == concern


def test_a_visit_dated_in_the_future_saves_nothing(clinic: ClinicStaff) -> None:
    course_id, _ = course_with_baseline(clinic, register(clinic))
    in_two_days = date.today() + timedelta(days=2)
    with pytest.raises(InvalidInput, match=f"{in_two_days.isoformat()} is in the future"):
        visits.record_visit(clinic.clinician, course_id, VisitInput(1, in_two_days))
    # Tomorrow is allowed: the clinic's calendar may be ahead of the server's.
    visits.record_visit(clinic.clinician, course_id, VisitInput(1, date.today() + timedelta(1)))
    with read_session() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == 2


def test_a_course_is_completed_or_stopped_and_the_change_is_audited(clinic: ClinicStaff) -> None:
    patient_id = register(clinic)
    course_id, _ = course_with_baseline(clinic, patient_id)
    stopped = visits.set_course_status(clinic.clinician, course_id, CourseStatus.STOPPED)
    assert stopped.status is CourseStatus.STOPPED
    (course,) = patients.patient_file(clinic.clinician, patient_id).courses
    assert course.course.status is CourseStatus.STOPPED
    with read_session() as session:
        changed = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.CHANGE, AuditEvent.entity == "course"
            )
        ).one()
    assert (changed.entity_id, changed.patient_id, changed.detail) == (
        course_id,
        patient_id,
        "status stopped",
    )


def test_the_next_course_starts_only_after_the_last_has_ended(clinic: ClinicStaff) -> None:
    patient_id = register(clinic)
    course_id, _ = course_with_baseline(clinic, patient_id)
    next_course = CourseInput(planned_sessions=4, interval_days=14, start_date=date(2026, 3, 2))
    with pytest.raises(InvalidInput, match="still active: mark it completed or stopped"):
        visits.start_course(clinic.clinician, patient_id, next_course)
    visits.set_course_status(clinic.clinician, course_id, CourseStatus.COMPLETED)
    with pytest.raises(InvalidInput, match="must start on or after 2026-01-05"):
        visits.start_course(
            clinic.clinician, patient_id, replace(next_course, start_date=date(2026, 1, 4))
        )
    started = visits.start_course(clinic.clinician, patient_id, next_course)
    courses = patients.patient_file(clinic.clinician, patient_id).courses
    assert [course.course.id for course in courses] == [course_id, started.id]
    current = progress.get_patient_progress(clinic.clinician, patient_id)
    assert (current.course, current.visits) == (started, ())
    earlier = progress.get_patient_progress(clinic.clinician, patient_id, course_id=course_id)
    assert earlier.course is not None and earlier.course.status is CourseStatus.COMPLETED
    assert [visit.session for visit in earlier.visits] == [0]
    other_course, _ = course_with_baseline(clinic, register(clinic, "P002"))
    with pytest.raises(NotFound, match="has no course with id"):
        progress.get_patient_progress(clinic.clinician, patient_id, course_id=other_course)
    for shown, planned in ((None, 4), (course_id, 6)):
        pdf = exports.export_patient_pdf(
            clinic.clinician, patient_id, today=date(2026, 3, 3), course_id=shown
        )
        text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
        assert f"{planned} planned sessions" in text, text


def test_visit_keeps_side_effects_and_clinician(clinic: ClinicStaff) -> None:
    course_id, _ = course_with_baseline(clinic, register(clinic))
    effects = (
        SideEffectEntry(SideEffectKind.PAIN, Severity.MODERATE),
        SideEffectEntry(SideEffectKind.INJECTION_SITE_BUMPS, Severity.MILD),
    )
    visit = visits.record_visit(
        clinic.clinician, course_id, VisitInput(1, date(2026, 1, 12), 35, effects, "tolerated")
    )
    assert set(visit.side_effects) == set(effects)
    assert visit.injections_given == 35
    assert visit.clinician_id == clinic.clinician.user_id


@pytest.mark.usefixtures("quick_measure")
def test_exports_carry_the_figures_of_the_patch_progress_follows(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch = {name: None for name in REGION_FIGURES} | {"area_cm2": 0.25, "density_per_cm2": 164.0}
    monkeypatch.setattr(
        photos, "locate_on_baseline", lambda *_, **__: (identity_registration(), patch)
    )
    patient_id = register(clinic)
    _, visit_id = course_with_baseline(clinic, patient_id)
    (added,) = photos.add_photos(clinic.clinician, visit_id, [upload(1)])
    assert added.photo is not None
    rows = list(csv.DictReader(io.StringIO(exports.export_csv(clinic.clinician, patient_id=None))))
    by_region = {(row["counted_on"], row["measure"]): float(row["value"]) for row in rows}
    assert by_region[("reference_patch", "density_per_cm2")] == 164.0
    whole = added.photo.latest_measurement.figures["density_per_cm2"]  # type: ignore[union-attr]
    assert by_region[("whole_photo", "density_per_cm2")] == whole
    observations = exports.export_fhir(clinic.clinician, patient_id=patient_id)["entry"]
    patch_texts = [
        entry["resource"]["bodySite"]["text"]  # type: ignore[index]
        for entry in observations  # type: ignore[attr-defined]
        if entry["resource"]["valueQuantity"]["value"] == 164.0  # type: ignore[index]
    ]
    assert patch_texts == ["scalp, vertex tattoo, reference patch"]


@pytest.mark.usefixtures("quick_measure")
def test_photos_become_replicates_duplicates_are_skipped_bad_files_rejected(
    clinic: ClinicStaff,
) -> None:
    _, visit_id = course_with_baseline(clinic, register(clinic))
    results = photos.add_photos(
        clinic.clinician,
        visit_id,
        [
            upload(1),
            upload(2),
            upload(1),
            PhotoUpload(b"not an image", PhotoView.TRICHOSCOPY, "x", "x.png"),
            upload(3, site="temple"),
        ],
    )
    assert [r.status for r in results] == ["added", "added", "duplicate", "rejected", "added"]
    assert "not a photo" in results[3].reason
    (mistyped,) = photos.add_photos(clinic.clinician, visit_id, [upload(5, px_per_mm=0.064)])
    assert mistyped.status == "rejected" and mistyped.photo is None
    assert "0.064 is not a plausible setting" in mistyped.reason
    added = [r.photo for r in results if r.status == "added" and r.photo]
    assert [(p.site, p.replicate_index) for p in added] == [
        ("vertex tattoo", 0),
        ("vertex tattoo", 1),
        ("temple", 0),
    ]
    first = added[0]
    assert first.px_per_mm == 100.0 and first.px_per_mm_source == "device"
    assert first.measurements[0].algorithm_version == QUICK_ALGORITHM_VERSION
    assert first.measurements[0].figures["hair_count"] > 0
    stored_bytes, extension = photos.photo_file(clinic.clinician, first.id)
    assert extension == "png"
    assert default_store().read(first.sha256, "png") == stored_bytes
    assert photos.overlay_file(clinic.clinician, first.measurements[0].id).startswith(b"\x89PNG")
    more = photos.add_photos(clinic.clinician, visit_id, [upload(4)])
    assert more[0].photo is not None and more[0].photo.replicate_index == 2
    assert integrity.check_store().consistent


@pytest.mark.usefixtures("quick_measure")
def test_global_photo_needs_a_standard_view(clinic: ClinicStaff) -> None:
    _, visit_id = course_with_baseline(clinic, register(clinic))
    results = photos.add_photos(
        clinic.clinician,
        visit_id,
        [
            upload(1, view=PhotoView.GLOBAL, site="crown"),
            upload(2, view=PhotoView.GLOBAL, site="vertex"),
        ],
    )
    assert [r.status for r in results] == ["rejected", "added"]
    assert "vertex, frontal, midline, temporal" in results[0].reason
    assert results[1].photo is not None
    assert set(results[1].photo.measurements[0].figures) == {"coverage_pct"}


@pytest.mark.usefixtures("quick_measure")
def test_photos_need_consent_to_photography(clinic: ClinicStaff) -> None:
    _, visit_id = course_with_baseline(clinic, register(clinic, consent_photography=False))
    with pytest.raises(InvalidInput, match="not consented to photography"):
        photos.add_photos(clinic.clinician, visit_id, [upload(1)])
    assert list(default_store().files()) == []


@pytest.mark.usefixtures("quick_measure")
def test_flagged_photo_counts_only_once_accepted(clinic: ClinicStaff) -> None:
    _, visit_id = course_with_baseline(clinic, register(clinic))
    dark = np.full((640, 640, 3), 20, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(dark).save(buffer, format="PNG")
    (result,) = photos.add_photos(clinic.clinician, visit_id, [upload(0, data=buffer.getvalue())])
    assert result.photo is not None
    assert not result.photo.quality_ok and not result.photo.usable
    assert [issue.code for issue in result.photo.quality_issues] == ["underexposed"]
    accepted = photos.accept_photo(clinic.clinician, result.photo.id)
    assert accepted.accepted_despite_flags and accepted.usable
    good = photos.add_photos(clinic.clinician, visit_id, [upload(5)])[0].photo
    assert good is not None
    with pytest.raises(InvalidInput, match="nothing to accept"):
        photos.accept_photo(clinic.clinician, good.id)


@pytest.mark.usefixtures("quick_measure")
def test_reanalysis_with_a_new_version_adds_a_row_and_keeps_the_old(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id = register(clinic)
    _, visit_id = course_with_baseline(clinic, patient_id)
    photo = photos.add_photos(clinic.clinician, visit_id, [upload(1)])[0].photo
    assert photo is not None
    first = photo.measurements[0]
    assert photos.reanalyse_photo(clinic.clinician, photo.id).measurement.id == first.id

    def newer_engine(rgb: np.ndarray, upload: PhotoUpload, threshold: float) -> Measurement:
        return replace(dark_pixel_measure(rgb, upload, threshold), algorithm_version="newer")

    monkeypatch.setattr(photos, "measure", newer_engine)
    newer = photos.reanalyse_photo(clinic.clinician, photo.id).measurement
    assert newer.id != first.id
    assert newer.algorithm_version == "newer"
    # The stored file decodes to the pixels measured on upload, so the figures agree.
    assert newer.figures == first.figures
    record = patients.patient_file(clinic.clinician, patient_id)
    history = record.courses[0].visits[0].photos[0].measurements
    assert [m.algorithm_version for m in history] == [QUICK_ALGORITHM_VERSION, "newer"]


def a_baseline_photo(staff: ClinicStaff, **changes: object) -> tuple[int, PhotoRecord]:
    """A new patient's baseline photo, measured by the stand-in engine: the patient's id
    and the photo."""
    patient_id = register(staff)
    _, visit_id = course_with_baseline(staff, patient_id)
    (added,) = photos.add_photos(staff.clinician, visit_id, [upload(1, **changes)])
    assert added.photo is not None
    return patient_id, added.photo


def a_baseline_and_a_follow_up_photo(staff: ClinicStaff) -> tuple[int, PhotoRecord, PhotoRecord]:
    """A new patient's baseline photo and a follow-up photo registered to it, both measured
    by the stand-in engine: the patient's id and the two photos."""
    patient_id = register(staff)
    course_id, baseline_visit = course_with_baseline(staff, patient_id)
    follow_up = visits.record_visit(staff.clinician, course_id, VisitInput(1, date(2026, 1, 12)))
    (baseline,) = photos.add_photos(staff.clinician, baseline_visit, [upload(1)])
    (later,) = photos.add_photos(staff.clinician, follow_up.id, [upload(2)])
    assert baseline.photo is not None and later.photo is not None
    return patient_id, baseline.photo, later.photo


def engine_flagging(version: str, *codes: str) -> Callable[..., Measurement]:
    """A stand-in for an engine upgrade (version ``version``) whose quality gate raises
    ``codes`` on every photo, whatever the upload's verdict was."""

    def measure(rgb: np.ndarray, upload: PhotoUpload, threshold: float) -> Measurement:
        issues = tuple(QualityIssue(code, f"{code} by {version}", 1.0) for code in codes)
        measured = dark_pixel_measure(rgb, upload, threshold)
        return replace(measured, algorithm_version=version, quality=Quality(issues))

    return measure


def photo_now(staff: ClinicStaff, patient_id: int) -> PhotoRecord:
    (course,) = patients.patient_file(staff.clinician, patient_id).courses
    return course.visits[0].photos[0]


def photo_changes(photo_id: int) -> list[str | None]:
    with read_session() as session:
        return list(
            session.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.action == AuditAction.CHANGE)
                .where(AuditEvent.entity == "photo", AuditEvent.entity_id == photo_id)
                .order_by(AuditEvent.id)
            )
        )


@pytest.mark.usefixtures("quick_measure")
def test_reanalysis_gives_the_photo_its_new_measurements_quality_verdict(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id, photo = a_baseline_photo(clinic)
    assert photo.usable

    monkeypatch.setattr(photos, "measure", engine_flagging("dimmer", "underexposed"))
    flagged = photos.reanalyse_photo(clinic.clinician, photo.id)

    assert flagged.verdict_change == "now flagged: underexposed"
    photo = photo_now(clinic, patient_id)
    assert [issue.code for issue in photo.quality_issues] == ["underexposed"]
    assert not photo.quality_ok and not photo.usable
    # Counting stops with the verdict: the site has no baseline photo any more.
    assert progress.get_patient_progress(clinic.clinician, patient_id).sites == ()
    # The same engine again changes nothing.
    assert photos.reanalyse_photo(clinic.clinician, photo.id).verdict_change is None

    monkeypatch.setattr(photos, "measure", engine_flagging("fixed"))
    assert photos.reanalyse_photo(clinic.clinician, photo.id).verdict_change == "now passes"

    photo = photo_now(clinic, patient_id)
    assert photo.quality_ok and photo.usable and photo.quality_issues == ()
    assert [m.algorithm_version for m in photo.measurements] == [
        QUICK_ALGORITHM_VERSION,
        "dimmer",
        "fixed",
    ]
    assert photo_changes(photo.id) == [
        "now flagged: underexposed after re-analysis with dimmer",
        "now passes after re-analysis with fixed",
    ]


@pytest.mark.usefixtures("quick_measure")
def test_an_acceptance_covers_the_issues_accepted_and_is_withdrawn_for_new_ones(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    dark = io.BytesIO()
    Image.fromarray(np.full((640, 640, 3), 20, dtype=np.uint8)).save(dark, format="PNG")
    patient_id, flagged = a_baseline_photo(clinic, data=dark.getvalue())
    photo_id = photos.accept_photo(clinic.clinician, flagged.id).id

    # Re-measured, still underexposed: what the clinician accepted, so it still counts.
    monkeypatch.setattr(photos, "measure", engine_flagging("same flags", "underexposed"))
    assert photos.reanalyse_photo(clinic.clinician, photo_id).verdict_change is None
    photo = photo_now(clinic, patient_id)
    assert photo.accepted_despite_flags and photo.usable

    # A flag nobody has looked at: back to review.
    monkeypatch.setattr(photos, "measure", engine_flagging("stricter", "underexposed", "blurry"))
    again = photos.reanalyse_photo(clinic.clinician, photo_id)

    assert again.verdict_change == (
        "now flagged: underexposed, blurry (was: underexposed), acceptance withdrawn"
    )
    photo = photo_now(clinic, patient_id)
    assert not photo.accepted_despite_flags and not photo.usable
    with read_session() as session:
        assert session.get(models.Photo, photo_id).accepted_by_id is None  # type: ignore[union-attr]
    assert photo_changes(photo_id) == [
        "accepted despite quality flags: underexposed",
        f"{again.verdict_change} after re-analysis with stricter",
    ]
    # Accepted again, then fewer flags: still covered.
    photos.accept_photo(clinic.clinician, photo_id)
    monkeypatch.setattr(photos, "measure", engine_flagging("milder", "blurry"))
    milder = photos.reanalyse_photo(clinic.clinician, photo_id)
    assert milder.verdict_change == "now flagged: blurry (was: underexposed, blurry)"
    assert photo_now(clinic, patient_id).usable


@pytest.mark.usefixtures("quick_measure")
def test_reanalysis_keeps_the_different_spot_issue_beside_the_engines(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id, _baseline, later = a_baseline_and_a_follow_up_photo(clinic)
    elsewhere = Registration(matrix=None, inliers=3, reference_coverage=0.1, reason="no match")
    monkeypatch.setattr(photos, "measure", engine_flagging("dimmer", "underexposed"))
    monkeypatch.setattr(photos, "locate_on_baseline", lambda *_a, **_k: (elsewhere, None))

    changed = photos.reanalyse_photo(clinic.clinician, later.id)

    assert changed.verdict_change == "now flagged: underexposed, different_spot"
    (course,) = patients.patient_file(clinic.clinician, patient_id).courses
    photo = course.visits[1].photos[0]
    assert photo.different_spot and not photo.usable
    assert [issue.code for issue in photo.quality_issues] == ["underexposed", "different_spot"]


@pytest.mark.usefixtures("quick_measure")
def test_a_sole_baseline_photo_flagged_on_re_analysis_is_no_baseline_to_itself(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id, photo = a_baseline_photo(clinic)

    def locate(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("a photo that no longer counts is registered to no baseline")

    monkeypatch.setattr(photos, "measure", engine_flagging("dimmer", "underexposed"))
    monkeypatch.setattr(photos, "locate_on_baseline", locate)

    changed = photos.reanalyse_photo(clinic.clinician, photo.id)

    assert changed.verdict_change == "now flagged: underexposed"
    assert not photo_now(clinic, patient_id).usable


@pytest.mark.usefixtures("quick_measure")
def test_a_reanalysis_that_cannot_read_the_baseline_stores_nothing(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id, baseline, later = a_baseline_and_a_follow_up_photo(clinic)
    store = default_store()
    assert store.delete(baseline.sha256, baseline.extension)
    files = set(store.files())

    def newer_engine(rgb: np.ndarray, upload: PhotoUpload, threshold: float) -> Measurement:
        measured = engine_flagging("newer")(rgb, upload, threshold)
        # An overlay of its own, not the file the upload's measurement stored.
        return replace(measured, overlay_rgb=255 - measured.overlay_rgb)

    monkeypatch.setattr(photos, "measure", newer_engine)

    with pytest.raises(FileNotFoundError):
        photos.reanalyse_photo(clinic.clinician, later.id)

    # No measurement, and no overlay file without a row.
    assert set(store.files()) == files
    (course,) = patients.patient_file(clinic.clinician, patient_id).courses
    assert len(course.visits[1].photos[0].measurements) == 1


@pytest.mark.usefixtures("quick_measure")
def test_an_overlay_removed_by_a_concurrent_deletion_before_the_commit_is_put_back(
    clinic: ClinicStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patient_id, photo = a_baseline_photo(clinic)
    monkeypatch.setattr(photos, "measure", engine_flagging("newer"))
    store = default_store()
    audit = photos.record_audit

    def deleting_the_new_overlay(
        session: Session, actor: object, action: object, entity: str, entity_id: int, **kw: object
    ) -> None:
        # Inside the transaction that adds the row: another patient's deletion, which found
        # that overlay unreferenced, removes its file now.
        if entity == "measurement":
            row = session.get(models.Measurement, entity_id)
            assert row is not None and row.overlay_sha256 is not None
            assert store.delete(row.overlay_sha256, OVERLAY_EXTENSION)
        audit(session, actor, action, entity, entity_id, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(photos, "record_audit", deleting_the_new_overlay)
    record = photos.reanalyse_photo(clinic.clinician, photo.id).measurement

    assert record.overlay_sha256 is not None
    assert store.exists(record.overlay_sha256, OVERLAY_EXTENSION)


def test_the_operator_names_a_clinic_unless_the_server_holds_only_one(
    clinic: ClinicStaff,
) -> None:
    assert clinics.clinic_named_or_only(None) == clinic.clinic
    other = clinics.ensure_clinic("Clinic B")
    assert clinics.clinic_named_or_only("Clinic B") == other
    with pytest.raises(InvalidInput, match=r"\(clinics: Clinic A, Clinic B\)"):
        clinics.clinic_named_or_only(None)
    with pytest.raises(NotFound):
        clinics.clinic_named_or_only("Clinic C")


def test_list_patients_searches_code_and_name(clinic: ClinicStaff) -> None:
    register(clinic, "P001", name="Anna Kowalska")
    register(clinic, "P002", name="Ben Ortiz")
    register(clinic, "X_100", name="Carla Anders")

    def codes(search: str | None) -> list[str]:
        return [s.patient.code for s in patients.list_patients(clinic.clinician, search)]

    assert codes(None) == ["P001", "P002", "X_100"]
    assert codes("and") == ["X_100"]
    assert codes("ann") == ["P001"]
    assert codes("p00") == ["P001", "P002"]
    assert codes("_") == ["X_100"]  # a literal underscore, not a wildcard


def test_patient_list_counts_courses_and_visits(clinic: ClinicStaff) -> None:
    course_id, _ = course_with_baseline(clinic, register(clinic))
    visits.record_visit(clinic.clinician, course_id, VisitInput(1, date(2026, 1, 12)))
    (summary,) = patients.list_patients(clinic.clinician)
    assert (summary.course_count, summary.visit_count) == (1, 2)
    assert summary.last_visit_date == date(2026, 1, 12)


@pytest.mark.usefixtures("quick_measure")
def test_clinic_outcomes_count_consenting_patients_only_and_carry_no_names(
    clinic: ClinicStaff,
) -> None:
    def treated(code: str, effect: SideEffectKind, *, consent: bool) -> int:
        course_id, visit_id = course_with_baseline(
            clinic, register(clinic, code, consent_outcome_statistics=consent)
        )
        photos.add_photos(clinic.clinician, visit_id, [upload(1), upload(2)])
        later = visits.record_visit(
            clinic.clinician,
            course_id,
            VisitInput(
                1, date(2026, 1, 12), side_effects=(SideEffectEntry(effect, Severity.MILD),)
            ),
        )
        photos.add_photos(clinic.clinician, later.id, [upload(3)])
        return course_id

    consenting_course = treated("P001", SideEffectKind.REDNESS, consent=True)
    treated("P002", SideEffectKind.PAIN, consent=False)

    cohort = progress.clinic_cohort(clinic.admin).cohort
    assert (cohort.consenting_patients, cohort.excluded_without_consent) == (1, 1)
    (effects,) = cohort.side_effects
    assert (effects.session, effects.counts) == (1, {"redness": 1})
    assert (cohort.adherence.sessions_done, cohort.adherence.sessions_planned) == (1, 6)
    assert "Patient P00" not in repr(cohort)
    # The exports' path gives the same cohort, and its measurement rows carry codes only.
    summary = progress.clinic_summary(clinic.admin)
    assert summary.cohort == cohort
    rows = [photo.measurement for patient in summary.patients for photo in patient.photos]
    assert {(row.patient_code, row.patient_name) for row in rows} == {
        ("P001", None),
        ("P002", None),
    }
    # After 1 of 6 sessions the course is not over; stopped there, it ends at session 1.
    assert cohort.overall.checkpoints[-1].improving.total == 0
    visits.set_course_status(clinic.clinician, consenting_course, CourseStatus.STOPPED)
    ended = progress.clinic_cohort(clinic.admin).cohort.overall.checkpoints[-1]
    assert (ended.label, ended.improving.total) == (END_OF_COURSE, 1)


@pytest.mark.usefixtures("quick_measure")
def test_deleting_a_patient_removes_rows_and_unshared_files_and_is_audited(
    clinic: ClinicStaff,
) -> None:
    leaving = register(clinic, "P001")
    staying = register(clinic, "P002")
    _, leaving_visit = course_with_baseline(clinic, leaving)
    _, staying_visit = course_with_baseline(clinic, staying)
    photos.add_photos(clinic.clinician, leaving_visit, [upload(1), upload(2)])
    # The same picture uploaded for the other patient keeps its file alive.
    photos.add_photos(clinic.clinician, staying_visit, [upload(2)])
    users.create_user(
        clinic.admin,
        role=Role.PATIENT,
        email="leaving@mail.test",
        password=TEST_PASSWORD,
        patient_id=leaving,
    )
    files_before = len(list(default_store().files()))

    report = patients.delete_patient(clinic.admin, leaving)

    assert report.photos_deleted == 2
    # Photo 1 and its overlay go; photo 2 and its overlay are still used by P002.
    assert report.files_removed == 2
    assert len(list(default_store().files())) == files_before - 2
    assert [s.patient.code for s in patients.list_patients(clinic.clinician)] == ["P002"]
    assert integrity.check_store().consistent
    with read_session() as session:
        deletion = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.DELETE, AuditEvent.patient_id == leaving
            )
        ).one()
    assert deletion.actor_user_id == clinic.admin.user_id
    with pytest.raises(AuthenticationFailed):
        authenticate("leaving@mail.test", TEST_PASSWORD)
