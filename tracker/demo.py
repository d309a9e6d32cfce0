"""The demo clinic ``make run`` seeds on first run.

A dozen patients photographed over a course of weekly sessions with phantom trichoscopy
close-ups (:mod:`tracker.phantoms`): half of them gain hair (responders), half do not.
Every photo goes through the same services as a clinician's upload, so the demo shows
real measurements, noise bands and verdicts, not made-up figures. Measuring the photos is
nearly all the work; it can run on a process pool, one patient a task, and gives the same
data whatever the number of workers (only the photo and measurement row ids interleave).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from PIL import Image
from sqlalchemy import select

import db
from db import read_session
from models import (
    ContraindicationKind,
    HairCondition,
    PhotoView,
    Role,
    Severity,
    SideEffectKind,
    User,
)
from tracker.batch import map_in_waves
from tracker.phantoms import (
    TrichoscopyConditions,
    make_trichoscopy_scene,
    random_conditions,
    render_trichoscopy,
)
from tracker.services import clinics, patients, photos, users, visits
from tracker.services.access import Actor
from tracker.services.records import (
    CourseInput,
    PatientInput,
    PhotoUpload,
    SideEffectEntry,
    VisitInput,
)

DEMO_CLINIC = "Demo Hair Clinic"
PX_PER_MM = 64.0
# A claim of the kind clinics make, for the outcomes page to set against what it measures.
DEMO_ADVERTISED_SUCCESS_PCT = 90.0
# The intake wants at least 640 px on the short side; the scene fills the whole frame.
FRAME_PX = (800, 640)
FIELD_MM = (FRAME_PX[0] / PX_PER_MM, FRAME_PX[1] / PX_PER_MM)
TARGET_SITE = "vertex target"
CONDITIONS = (
    HairCondition.ANDROGENETIC_ALOPECIA,
    HairCondition.ANDROGENETIC_ALOPECIA,
    HairCondition.TELOGEN_EFFLUVIUM,
    HairCondition.ALOPECIA_AREATA,
)
PRODUCTS = ("dutasteride 0.01 %", "vitamin and amino-acid cocktail")
# Responders alternate with each patient number; condition and product change every second
# patient, so that every condition and product has responders and non-responders.
# Photo conditions of a careful clinic: small pose, light and focus differences only.
PHOTO_SEVERITY = 0.15
# Replicate photos at the baseline and every fifth session give the patient's own noise
# estimate (MDC95) while keeping the first `make run` short: every photo is measured.
REPLICATE_EVERY = 5


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    password: str
    who: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(Role.ADMIN, "admin@demo.clinic", "demo-admin-2026", "clinic administrator"),
    DemoLogin(Role.CLINICIAN, "clinician@demo.clinic", "demo-clinician-2026", "clinician"),
    DemoLogin(Role.PATIENT, "patient1@demo.clinic", "demo-patient-2026", "patient D-001"),
    DemoLogin(Role.PATIENT, "patient2@demo.clinic", "demo-patient-2026", "patient D-002"),
)


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient: who they are and how much hair their course adds by its end."""

    number: int
    final_gain: float
    baseline_density: float

    @property
    def code(self) -> str:
        return f"D-{self.number:03d}"


def demo_patients(count: int) -> list[DemoPatient]:
    """Alternating responders (+15 to +35 % hair by the end) and non-responders (−4 to 0 %)."""
    rng = np.random.default_rng(2026)
    return [
        DemoPatient(
            number=number,
            final_gain=float(
                rng.uniform(0.15, 0.35) if number % 2 == 1 else rng.uniform(-0.04, 0.0)
            ),
            baseline_density=float(rng.uniform(110.0, 190.0)),
        )
        for number in range(1, count + 1)
    ]


def database_is_empty() -> bool:
    """True when no account exists yet (the first run of a fresh installation)."""
    with read_session() as session:
        return session.scalar(select(User.id).limit(1)) is None


def seed_demo_clinic(
    *,
    patient_count: int = 12,
    sessions: int = 10,
    replicates: int = 2,
    workers: int = 1,
    report: Callable[[str], None] = lambda _message: None,
) -> tuple[DemoLogin, ...]:
    """Create the demo clinic, its accounts and its patients' measured visits.

    The photos of ``workers`` patients are measured at a time, each in its own process.
    """
    clinic = clinics.ensure_clinic(DEMO_CLINIC)
    operator = Actor.operator(clinic.id)
    actors = {}
    for login in DEMO_LOGINS[:2]:
        account = users.create_user(
            operator,
            role=login.role,
            email=login.email,
            password=login.password,
            display_name=f"Demo {login.who}",
        )
        actors[login.role] = Actor(account.id, login.role, clinic.id, email=account.email)
    clinician = actors[Role.CLINICIAN]
    clinics.update_clinic(
        actors[Role.ADMIN],
        advertised_success_rate_pct=DEMO_ADVERTISED_SUCCESS_PCT,
        dermatoscope_px_per_mm=PX_PER_MM,
    )
    first_day = date.today() - timedelta(days=7 * sessions)
    courses = []
    for demo in demo_patients(patient_count):
        plan = _plan_visits(demo, sessions, replicates, first_day)
        courses.append(_register_patient(clinician, demo, plan, first_day))
        report(f"patient {demo.code}: {len(plan)} visits recorded")
    map_in_waves(
        _photograph,
        [[(clinician, course) for course in courses]],
        workers=workers,
        initializer=db.configure,
        initargs=(db.configured_url(),),
        on_done=lambda course: report(
            f"patient {course.demo.code}: {course.photo_count} photos measured"
        ),
    )
    for login, course in zip(DEMO_LOGINS[2:], courses, strict=False):
        users.create_user(
            actors[Role.ADMIN],
            role=Role.PATIENT,
            email=login.email,
            password=login.password,
            display_name=f"Demo {login.who}",
            patient_id=course.patient_id,
        )
    return DEMO_LOGINS[: 2 + min(len(courses), 2)]


@dataclass(frozen=True)
class _PlannedVisit:
    visit: VisitInput
    # One per photo: the replicates are taken under slightly different conditions.
    photo_conditions: tuple[TrichoscopyConditions, ...]


@dataclass(frozen=True)
class _DemoCourse:
    demo: DemoPatient
    patient_id: int
    visits: tuple[tuple[int, _PlannedVisit], ...]  # (visit id, its plan), by session

    @property
    def photo_count(self) -> int:
        return sum(len(planned.photo_conditions) for _id, planned in self.visits)


def _plan_visits(
    demo: DemoPatient, sessions: int, replicates: int, first_day: date
) -> list[_PlannedVisit]:
    """Every visit's details and photo conditions, drawn from the patient's own seed."""
    rng = np.random.default_rng(demo.number)
    plan = []
    for session_number in range(sessions + 1):
        visit = VisitInput(
            session_number=session_number,
            visit_date=first_day + timedelta(days=7 * session_number),
            injections_given=None if session_number == 0 else int(rng.integers(30, 41)),
            side_effects=_side_effects(rng) if session_number else (),
        )
        photos_taken = replicates if session_number % REPLICATE_EVERY == 0 else 1
        conditions = tuple(
            random_conditions(rng, severity=PHOTO_SEVERITY) for _ in range(photos_taken)
        )
        plan.append(_PlannedVisit(visit, conditions))
    return plan


def _register_patient(
    clinician: Actor, demo: DemoPatient, plan: list[_PlannedVisit], first_day: date
) -> _DemoCourse:
    record = patients.register_patient(
        clinician,
        PatientInput(
            code=demo.code,
            name=f"Demo Patient {demo.number}",
            sex=("female", "male")[demo.number % 2],
            birth_year=1970 + demo.number * 2,
            condition=CONDITIONS[(demo.number // 2) % len(CONDITIONS)],
            consent_photography=True,
            # One patient declines, to show that outcomes leave them out.
            consent_outcome_statistics=demo.number != 12,
            contraindications=(
                frozenset({ContraindicationKind.DIABETES}) if demo.number == 7 else frozenset()
            ),
        ),
    )
    course = visits.start_course(
        clinician,
        record.id,
        CourseInput(
            planned_sessions=len(plan) - 1,
            interval_days=7,
            start_date=first_day,
            product=PRODUCTS[(demo.number // 2) % len(PRODUCTS)],
        ),
    )
    recorded = tuple(
        (visits.record_visit(clinician, course.id, planned.visit).id, planned) for planned in plan
    )
    return _DemoCourse(demo, record.id, recorded)


def _photograph(clinician: Actor, course: _DemoCourse) -> _DemoCourse:
    """Render each visit's phantom photos of the patient's scalp and add them to the visit."""
    demo = course.demo
    sessions = len(course.visits) - 1
    scene = make_trichoscopy_scene(
        seed=demo.number, density_per_cm2=demo.baseline_density, field_mm=FIELD_MM
    )
    for session_number, (visit_id, planned) in enumerate(course.visits):
        gain = demo.final_gain * session_number / sessions if sessions else 0.0
        grown = scene.with_hair_gain(gain, seed=demo.number)
        uploads = [
            PhotoUpload(
                data=_jpeg(
                    render_trichoscopy(
                        grown, px_per_mm=PX_PER_MM, size_px=FRAME_PX, conditions=conditions
                    )[0]
                ),
                view=PhotoView.TRICHOSCOPY,
                site=TARGET_SITE,
                filename=f"{demo.code}-s{session_number}-r{replicate}.jpg",
                px_per_mm=PX_PER_MM,
            )
            for replicate, conditions in enumerate(planned.photo_conditions)
        ]
        refused = [r for r in photos.add_photos(clinician, visit_id, uploads) if not r.photo]
        if refused:
            raise RuntimeError(f"demo photo refused: {refused[0].filename}: {refused[0].reason}")
    return course


def _side_effects(rng: np.random.Generator) -> tuple[SideEffectEntry, ...]:
    """Mostly mild pain or redness after a session, now and then something else."""
    effects = []
    if rng.random() < 0.4:
        effects.append(SideEffectEntry(SideEffectKind.PAIN, Severity.MILD))
    if rng.random() < 0.25:
        effects.append(SideEffectEntry(SideEffectKind.REDNESS, Severity.MILD))
    if rng.random() < 0.05:
        effects.append(SideEffectEntry(SideEffectKind.BRUISING, Severity.MODERATE))
    return tuple(effects)


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()
