"""``photos reanalyse``: stored photos of an older engine re-measured by the current one.

The photos are phantom close-ups of one scalp, stored with the conftest's dark-pixel
stand-in (an "older engine" with its own version string and figures); the command then
measures them with the real engine, in worker processes or in this one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from db import read_session
from models import AuditAction, AuditEvent, HairCondition, PhotoView
from tests.conftest import (
    QUICK_ALGORITHM_VERSION,
    ClinicStaff,
    dark_pixel_measure,
    make_clinic,
    same_spot_stand_in,
)
from tracker.analysis import ALGORITHM_VERSION, analyze_image
from tracker.cli import main
from tracker.measurement import Measurement, Quality, QualityIssue
from tracker.phantoms import TrichoscopyConditions, make_trichoscopy_scene, render_trichoscopy
from tracker.photostore import default_store
from tracker.services import exports, patients, photos, progress, reanalysis, visits
from tracker.services.access import AccessDenied
from tracker.services.records import CourseInput, PatientInput, PhotoRecord, PhotoUpload, VisitInput

PX_PER_MM = 80.0
FRAME_PX = 640
FIELD_MM = FRAME_PX / PX_PER_MM + 3.0


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def photographed_by_an_older_engine(
    staff: ClinicStaff, *, seed: int, planned_sessions: int = 4
) -> int:
    """A patient (consenting to outcome statistics) with two baseline photos and one
    follow-up photo of the same spot, all measured by the stand-in engine; returns the
    patient's id."""
    scene = make_trichoscopy_scene(seed=seed, density_per_cm2=160.0, field_mm=(FIELD_MM, FIELD_MM))

    def shot(**pose: object) -> PhotoUpload:
        rgb, _truth = render_trichoscopy(
            scene,
            px_per_mm=PX_PER_MM,
            size_px=(FRAME_PX, FRAME_PX),
            conditions=TrichoscopyConditions(**pose),
        )
        return PhotoUpload(_png(rgb), PhotoView.TRICHOSCOPY, "vertex", px_per_mm=PX_PER_MM)

    patient = patients.register_patient(
        staff.clinician,
        PatientInput(
            f"P{seed}",
            "Name",
            "male",
            HairCondition.ANDROGENETIC_ALOPECIA,
            consent_photography=True,
            consent_outcome_statistics=True,
        ),
    )
    course = visits.start_course(
        staff.clinician, patient.id, CourseInput(planned_sessions, 7, date(2026, 1, 5))
    )
    baseline, follow_up = (
        visits.record_visit(staff.clinician, course.id, VisitInput(n, date(2026, 1, 5 + 7 * n)))
        for n in range(2)
    )
    with pytest.MonkeyPatch.context() as older_engine:
        older_engine.setattr(photos, "measure", dark_pixel_measure)
        older_engine.setattr(photos, "locate_on_baseline", same_spot_stand_in)
        added = photos.add_photos(
            staff.clinician, baseline.id, [shot(), shot(shift_mm=(0.1, 0.0), exposure=1.1)]
        )
        added += photos.add_photos(
            staff.clinician, follow_up.id, [shot(shift_mm=(0.4, -0.3), rotation_deg=3.0)]
        )
    assert [result.status for result in added] == ["added"] * 3
    return patient.id


def stored_photos(staff: ClinicStaff, patient_id: int) -> list[PhotoRecord]:
    """The patient's photos, baseline first."""
    (course,) = patients.patient_file(staff.clinician, patient_id).courses
    return [photo for visit in course.visits for photo in visit.photos]


def reanalysis_events() -> list[AuditEvent]:
    with read_session() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity.in_(["measurement", "photo"]))
                .where(AuditEvent.action != AuditAction.VIEW)
                .where(AuditEvent.actor_role == "operator")
                .order_by(AuditEvent.id)
            )
        )


def upgrade_judging_too_dark(monkeypatch: pytest.MonkeyPatch, too_dark: PhotoRecord) -> None:
    """Stand in for an engine upgrade (version "new") that judges one stored photo too dark
    and passes every other."""
    pixels = np.asarray(Image.open(io.BytesIO(default_store().read(too_dark.sha256, "png"))))

    def stricter_engine(rgb: np.ndarray, upload: PhotoUpload, threshold: float) -> Measurement:
        measured = replace(dark_pixel_measure(rgb, upload, threshold), algorithm_version="new")
        if not np.array_equal(rgb, pixels):
            return measured
        issue = QualityIssue("underexposed", "The photo is too dark.", 0.1)
        return replace(measured, quality=Quality((issue,)))

    monkeypatch.setattr(photos, "measure", stricter_engine)
    monkeypatch.setattr(photos, "locate_on_baseline", same_spot_stand_in)
    monkeypatch.setattr(reanalysis, "ALGORITHM_VERSION", "new")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    return status, capsys.readouterr().out


def test_reanalyse_remeasures_an_older_engines_photos_once(
    clinic: ClinicStaff, records: str, capsys: pytest.CaptureFixture[str]
) -> None:
    patient_id = photographed_by_an_older_engine(clinic, seed=5)
    before = stored_photos(clinic, patient_id)
    assert {photo.latest_measurement.algorithm_version for photo in before} == {
        QUICK_ALGORITHM_VERSION
    }
    # The baseline visit's photos first, replicate by replicate, then the follow-up.
    plan = reanalysis.plan_reanalysis(clinic.operator)
    assert [[photo.photo_id for photo in wave] for wave in plan.waves] == [
        [before[0].id],
        [before[1].id],
        [before[2].id],
    ]

    status, output = run(capsys, "photos", "reanalyse", "--db", records, "--workers", "2")

    assert status == 0, output
    assert output.splitlines() == [
        f"Clinic A: 3 re-measured, 0 unchanged, 0 failed; 0 already measured by "
        f"{ALGORITHM_VERSION}, left alone",
        f"  re-measured 3: {QUICK_ALGORITHM_VERSION} -> {ALGORITHM_VERSION}",
    ]
    after = stored_photos(clinic, patient_id)
    baseline_id = after[0].id
    store = default_store()
    for old, new in zip(before, after, strict=True):
        # The older figures are kept; the latest are the current engine's on the stored file.
        assert [m.algorithm_version for m in new.measurements] == [
            QUICK_ALGORITHM_VERSION,
            ALGORITHM_VERSION,
        ]
        rgb = np.asarray(Image.open(io.BytesIO(store.read(new.sha256, new.extension))))
        expected = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM)
        assert new.latest_measurement.figures == expected.figures
        assert new.latest_measurement.figures != old.latest_measurement.figures
        # Registered for real this time, to the site's baseline photo.
        assert new.registered_to_id == baseline_id and new.different_spot is False
        assert new.latest_measurement.region_figures is not None
    events = reanalysis_events()
    assert [(e.action, e.entity, e.detail) for e in events] == [
        (AuditAction.CREATE, "measurement", f"re-analysis with {ALGORITHM_VERSION}")
    ] * 3
    assert events[-1].entity_id == after[-1].latest_measurement.id

    status, output = run(capsys, "photos", "reanalyse", "--db", records, "--workers", "2")

    assert status == 0
    assert output.splitlines() == [
        f"Clinic A: 0 re-measured, 0 unchanged, 0 failed; 3 already measured by "
        f"{ALGORITHM_VERSION}, left alone"
    ]
    assert stored_photos(clinic, patient_id) == after
    assert [e.id for e in reanalysis_events()] == [e.id for e in events]


def test_a_photo_that_cannot_be_read_fails_alone_and_other_clinics_can_be_left_out(
    clinic: ClinicStaff, records: str, capsys: pytest.CaptureFixture[str]
) -> None:
    patient_id = photographed_by_an_older_engine(clinic, seed=5)
    other = make_clinic("Clinic B")
    other_patient = photographed_by_an_older_engine(other, seed=6)
    lost = stored_photos(clinic, patient_id)[1]
    assert default_store().delete(lost.sha256, lost.extension)
    command = ("photos", "reanalyse", "--db", records, "--clinic", "Clinic A", "--workers", "1")

    status, output = run(capsys, *command)

    assert status == 2
    assert output.splitlines() == [
        f"Clinic A: 2 re-measured, 0 unchanged, 1 failed; 0 already measured by "
        f"{ALGORITHM_VERSION}, left alone",
        f"  re-measured 2: {QUICK_ALGORITHM_VERSION} -> {ALGORITHM_VERSION}",
        f"  photo {lost.id} failed: cannot read the stored photo: No such file or directory",
    ]
    versions = [p.latest_measurement.algorithm_version for p in stored_photos(clinic, patient_id)]
    assert versions == [ALGORITHM_VERSION, QUICK_ALGORITHM_VERSION, ALGORITHM_VERSION]
    assert {
        photo.latest_measurement.algorithm_version for photo in stored_photos(other, other_patient)
    } == {QUICK_ALGORITHM_VERSION}

    # --all takes the up-to-date photos too: nothing to add, registered again.
    status, output = run(capsys, *command, "--all")

    assert status == 2
    assert output.splitlines()[0] == (
        f"Clinic A: 0 re-measured, 2 unchanged, 1 failed; 0 already measured by "
        f"{ALGORITHM_VERSION}, left alone"
    )
    assert [len(p.measurements) for p in stored_photos(clinic, patient_id)] == [2, 1, 2]
    assert [e.detail for e in reanalysis_events() if e.action is AuditAction.CHANGE] == [
        "registered again to baseline photo " + str(stored_photos(clinic, patient_id)[0].id)
    ] * 2


def test_an_interrupted_run_keeps_what_it_saved_and_the_next_run_does_the_rest(
    clinic: ClinicStaff,
    records: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient_id = photographed_by_an_older_engine(clinic, seed=5)
    measure_one = reanalysis.reanalyse_stored_photo
    calls: list[int] = []

    def interrupted_after_the_first(*args: object) -> reanalysis.ReanalysisOutcome:
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return measure_one(*args)  # type: ignore[arg-type]

    command = ("photos", "reanalyse", "--db", records, "--workers", "1")
    with monkeypatch.context() as interrupt:
        interrupt.setattr(reanalysis, "reanalyse_stored_photo", interrupted_after_the_first)
        status, output = run(capsys, *command)

    assert status == 130
    assert output.splitlines()[0] == (
        f"Clinic A: 1 re-measured, 0 unchanged, 0 failed, 2 not reached; 0 already measured "
        f"by {ALGORITHM_VERSION}, left alone"
    )
    versions = [p.latest_measurement.algorithm_version for p in stored_photos(clinic, patient_id)]
    assert versions == [ALGORITHM_VERSION, QUICK_ALGORITHM_VERSION, QUICK_ALGORITHM_VERSION]

    status, output = run(capsys, *command)

    assert status == 0
    assert output.splitlines()[0] == (
        f"Clinic A: 2 re-measured, 0 unchanged, 0 failed; 1 already measured by "
        f"{ALGORITHM_VERSION}, left alone"
    )
    assert [len(p.measurements) for p in stored_photos(clinic, patient_id)] == [2, 2, 2]


def test_the_summary_lists_the_photos_whose_quality_verdict_changed(
    clinic: ClinicStaff,
    records: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient_id = photographed_by_an_older_engine(clinic, seed=5)
    before = stored_photos(clinic, patient_id)
    assert all(photo.usable for photo in before)

    follow_up = before[2]
    # The upgrade judges the follow-up too dark; the baseline photos still pass.
    upgrade_judging_too_dark(monkeypatch, follow_up)

    status, output = run(capsys, "photos", "reanalyse", "--db", records, "--workers", "1")

    assert status == 0, output
    assert output.splitlines()[2:] == [
        "  quality verdict changed for 1, to review:",
        f"    photo {follow_up.id} now flagged: underexposed",
    ]
    assert [photo.usable for photo in stored_photos(clinic, patient_id)] == [True, True, False]
    assert [(e.entity, e.entity_id, e.detail) for e in reanalysis_events()][-1] == (
        "photo",
        follow_up.id,
        "now flagged: underexposed after re-analysis with new",
    )


def test_when_the_baseline_photo_is_flagged_on_re_analysis_its_replicate_takes_its_place(
    clinic: ClinicStaff,
    records: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient_id = photographed_by_an_older_engine(clinic, seed=7)
    first, second, follow_up = stored_photos(clinic, patient_id)
    assert [photo.registered_to_id for photo in (first, second, follow_up)] == [first.id] * 3
    upgrade_judging_too_dark(monkeypatch, first)
    # Replicate by replicate: the first photo is judged before its replicate is registered.
    plan = reanalysis.plan_reanalysis(clinic.admin)
    assert [[photo.photo_id for photo in wave] for wave in plan.waves] == [
        [first.id],
        [second.id],
        [follow_up.id],
    ]

    status, output = run(capsys, "photos", "reanalyse", "--db", records, "--workers", "1")

    assert status == 0, output
    after = stored_photos(clinic, patient_id)
    assert [photo.usable for photo in after] == [False, True, True]
    # Every photo of the site, the flagged one too, is registered to the new baseline.
    assert [photo.registered_to_id for photo in after] == [second.id] * 3


def test_only_a_clinics_admins_reanalyse_its_photos(clinic: ClinicStaff) -> None:
    with pytest.raises(AccessDenied, match="Only admin accounts may re-analyse"):
        reanalysis.plan_reanalysis(clinic.clinician)
    plan = reanalysis.plan_reanalysis(clinic.admin)
    with pytest.raises(AccessDenied):
        reanalysis.reanalyse_photos(clinic.clinician, plan)


def test_a_baseline_of_an_older_engine_gets_a_verdict_only_once_re_measured(
    clinic: ClinicStaff, records: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A one-session course, so that the cohort's end-of-course checkpoint is session 1.
    patient_id = photographed_by_an_older_engine(clinic, seed=6, planned_sessions=1)
    follow_up = stored_photos(clinic, patient_id)[2]
    # After an upgrade the follow-up is measured by the current engine, the baseline not yet.
    photos.reanalyse_photo(clinic.admin, follow_up.id)

    site = progress.get_patient_progress(clinic.clinician, patient_id).headline_site
    assert site is not None and site.version == ALGORITHM_VERSION
    assert site.headline.verdict == "not comparable"
    assert [(p.session, p.version, p.n_photos) for p in site.headline.left_out] == [
        (0, QUICK_ALGORITHM_VERSION, 2)
    ]
    assert "the baseline (session 0) was measured only by another version" in (
        site.headline.explanation
    )
    assert "photos reanalyse" in site.headline.explanation
    assert progress.latest_verdicts(clinic.clinician, [patient_id]) == {
        patient_id: "not comparable"
    }
    end = progress.clinic_cohort(clinic.admin).cohort.overall.checkpoints[-1]
    assert (end.improving.total, end.not_comparable) == (0, 1)
    status, output = run(capsys, "summary", "--db", records)
    assert status == 0 and "P6 trichoscopy/vertex: not comparable" in output
    assert "Improving at end of course: 0/0 consenting patients; 1 not comparable" in output
    # The exports carry no verdict: every counted photo's latest figures, with their engine.
    rows = list(csv.DictReader(io.StringIO(exports.export_csv(clinic.admin, patient_id=None))))
    assert {(row["session"], row["algorithm_version"]) for row in rows} == {
        ("0", QUICK_ALGORITHM_VERSION),
        ("1", ALGORITHM_VERSION),
    }
    assert (
        progress.clinic_summary(clinic.admin).cohort == progress.clinic_cohort(clinic.admin).cohort
    )

    status, output = run(capsys, "photos", "reanalyse", "--db", records, "--workers", "1")
    assert status == 0, output

    site = progress.get_patient_progress(clinic.clinician, patient_id).headline_site
    assert site is not None and not site.headline.left_out
    judged = {"improving", "worsening", "no measurable change"}
    assert site.headline.verdict in judged
    assert progress.latest_verdicts(clinic.clinician, [patient_id]) == {
        patient_id: site.headline.verdict
    }
    end = progress.clinic_cohort(clinic.admin).cohort.overall.checkpoints[-1]
    assert (end.improving.total, end.not_comparable) == (1, 0)
