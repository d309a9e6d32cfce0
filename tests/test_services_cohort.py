"""The cohort and patient-list verdicts read from headline columns agree with the detailed
per-patient progress, on a small clinic written straight through the ORM with the awkward
cases: no consent, no course, an older course, no baseline, gaps, global-only patients,
uncalibrated trichoscopy, two sites, rejected and accepted photos, re-analyses, visits
measured only by an older engine version."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

import db
from models import (
    CourseStatus,
    HairCondition,
    Measurement,
    Patient,
    Photo,
    PhotoView,
    Severity,
    SideEffect,
    SideEffectKind,
    TreatmentCourse,
    Visit,
)
from tests.conftest import ClinicStaff, make_clinic
from tracker.analysis import ALGORITHM_VERSION
from tracker.services import audit, progress
from tracker.services.access import AccessDenied, Actor
from tracker.services.errors import NotFound

START = date(2026, 1, 5)
CONDITIONS = (HairCondition.ANDROGENETIC_ALOPECIA, HairCondition.TELOGEN_EFFLUVIUM)
SIDE_EFFECTS = (SideEffectKind.PAIN, SideEffectKind.REDNESS, SideEffectKind.ITCHING)
OLDER_ENGINE = "2000.1.0"


def measurement(
    view: PhotoView, value: float | None, *, version: str = ALGORITHM_VERSION
) -> Measurement:
    trichoscopy = view is PhotoView.TRICHOSCOPY
    return Measurement(
        algorithm_version=version,
        vellus_threshold_um=30.0,
        quality_ok=True,
        area_cm2=1.0 if trichoscopy and value is not None else None,
        hair_count=round(value) if trichoscopy and value is not None else None,
        density_per_cm2=value if trichoscopy else None,
        terminal_count=round(0.8 * value) if trichoscopy and value is not None else None,
        vellus_fraction=0.2 if trichoscopy else None,
        mean_width_um=60.0 if trichoscopy else None,
        coverage_pct=None if trichoscopy else value,
    )


def photos_of(
    rng: np.random.Generator,
    view: PhotoView,
    site: str,
    level: float,
    *,
    calibrated: bool,
    version: str = ALGORITHM_VERSION,
) -> list[Photo]:
    photos = []
    for replicate in range(int(rng.integers(1, 4))):
        value = float(level * rng.normal(1.0, 0.04)) if calibrated else None
        fate = rng.integers(0, 5)
        measurements = [measurement(view, value, version=version)]
        if fate == 0:  # re-analysed: the newest figure counts, not the first one
            measurements = [
                measurement(view, 3 * level, version="1999.0.0"),
                measurement(view, value, version=version),
            ]
        photos.append(
            Photo(
                view=view,
                site=site,
                replicate_index=replicate,
                sha256=f"{rng.integers(0, 2**62):064x}",
                extension="png",
                byte_size=1,
                width_px=10,
                height_px=10,
                # Rejected photos carry wild figures that would show if they were counted.
                quality_ok=fate != 1 and fate != 2,
                accepted_despite_flags=fate == 2,
                measurements=([measurement(view, 5 * level)] if fate == 1 else measurements),
            )
        )
    return photos


def course_of(
    rng: np.random.Generator,
    start: date,
    *,
    gain: float,
    older_session: int | None = None,
    status: CourseStatus = CourseStatus.ACTIVE,
) -> TreatmentCourse:
    first = int(rng.integers(0, 2))  # some courses have no baseline visit
    last = int(rng.integers(1, 8))
    visits = []
    for number in range(first, last + 1):
        if number == 3 and rng.random() < 0.3:
            continue
        level = 1 + gain * number / 6
        # A visit measured only by an older engine and never re-measured: its figures are
        # off by 10 %, which must not show as change.
        older = number == older_session
        version, bias = (OLDER_ENGINE, 1.1) if older else (ALGORITHM_VERSION, 1.0)
        photos = []
        if rng.random() < 0.8:
            calibrated = rng.random() < 0.85
            photos += photos_of(
                rng,
                PhotoView.TRICHOSCOPY,
                "vertex",
                150 * level * bias,
                calibrated=calibrated,
                version=version,
            )
        if rng.random() < 0.5:
            photos += photos_of(
                rng,
                PhotoView.TRICHOSCOPY,
                "crown",
                120 * level * bias,
                calibrated=True,
                version=version,
            )
        if rng.random() < 0.6:
            photos += photos_of(
                rng,
                PhotoView.GLOBAL,
                "frontal",
                40 * level * bias,
                calibrated=True,
                version=version,
            )
        effects = [
            SideEffect(kind=kind, severity=Severity.MILD)
            for kind in SIDE_EFFECTS
            if number >= 1 and rng.random() < 0.3
        ]
        visits.append(
            Visit(
                session_number=number,
                visit_date=start + timedelta(weeks=number),
                photos=photos,
                side_effects=effects,
            )
        )
    return TreatmentCourse(
        product=str(rng.choice(["", "dutasteride", "PRP"])),
        planned_sessions=int(rng.integers(3, 7)),
        interval_days=7,
        start_date=start,
        status=status,
        visits=visits,
    )


def write_clinic(clinic_id: int, *, patients: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    with db.write_session() as session:
        written = []
        for number in range(patients):
            courses = []
            if number % 9 != 4:  # every ninth patient has not started a course
                # Half the patients have their baseline, a quarter session 2, of an older engine.
                older = {0: 0, 1: 0, 2: 2}.get(number % 4)
                gain = float(rng.uniform(-0.2, 0.4))
                # Every sixth course was stopped early: it ends at its last session.
                stopped = CourseStatus.STOPPED if number % 6 == 5 else CourseStatus.ACTIVE
                courses.append(
                    course_of(rng, START, gain=gain, older_session=older, status=stopped)
                )
            if number % 5 == 1:  # an older course that must not count
                courses.append(course_of(rng, START - timedelta(days=400), gain=-0.5))
            patient = Patient(
                clinic_id=clinic_id,
                code=f"C-{number:03d}",
                name=f"Cohort Patient {number}",
                sex="female",
                condition=CONDITIONS[number % 2],
                consent_photography=True,
                consent_outcome_statistics=number % 7 != 3,
                courses=courses,
            )
            session.add(patient)
            written.append(patient)
        session.flush()
        return [patient.id for patient in written]


@pytest.fixture
def cohort_clinic(clinic: ClinicStaff) -> list[int]:
    return write_clinic(clinic.clinic.id, patients=40, seed=7)


def test_fast_cohort_equals_the_cohort_of_every_patients_full_progress(
    clinic: ClinicStaff, cohort_clinic: list[int]
):
    fast = progress.clinic_cohort(clinic.admin)
    detailed = progress.clinic_summary(clinic.admin)
    assert fast.clinic == detailed.clinic
    assert fast.cohort == detailed.cohort
    # The comparison is only worth something if the clinic has outcomes of every kind.
    end = fast.cohort.overall.checkpoints[-1]
    assert 0 < end.improving.successes < end.improving.total
    assert fast.cohort.excluded_without_consent > 0
    assert any(checkpoint.not_comparable for checkpoint in fast.cohort.overall.checkpoints)
    assert len(fast.cohort.by_treatment) > 2
    assert fast.cohort.side_effects


def test_latest_verdicts_are_each_patients_headline_verdict(
    clinic: ClinicStaff, cohort_clinic: list[int]
):
    verdicts = progress.latest_verdicts(clinic.clinician, cohort_clinic)
    (viewed,) = [
        event for event in audit.list_audit_events(clinic.admin) if event.entity == "progress"
    ]
    assert viewed.actor_user_id == clinic.clinician.user_id
    expected = {}
    for patient_id in cohort_clinic:
        site = progress.get_patient_progress(clinic.clinician, patient_id).headline_site
        expected[patient_id] = site.headline.verdict if site else "insufficient data"
    assert verdicts == expected
    assert {"improving", "insufficient data", "not comparable"} <= set(verdicts.values())


def test_latest_verdicts_only_for_the_staff_of_the_patients_clinic(
    clinic: ClinicStaff, cohort_clinic: list[int]
):
    other = make_clinic("Clinic B")
    (elsewhere,) = write_clinic(other.clinic.id, patients=1, seed=8)
    with pytest.raises(AccessDenied):
        progress.latest_verdicts(clinic.clinician, [cohort_clinic[0], elsewhere])
    patient = Actor(None, "patient", clinic.clinic.id, patient_id=cohort_clinic[0])
    with pytest.raises(AccessDenied):
        progress.latest_verdicts(patient, [cohort_clinic[0]])
    with pytest.raises(NotFound):
        progress.latest_verdicts(clinic.clinician, [max(cohort_clinic) + 1000])
