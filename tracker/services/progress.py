"""Progress use cases: one patient's series and verdicts, and the clinic's outcomes.

The records are read in one short session into plain data; the computation
(:mod:`tracker.progress`, :mod:`tracker.outcomes`) runs after the session is closed.
A photo counts when it passed the quality gate or a clinician accepted it; its most
recent measurement is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import AuditAction, Clinic, Patient, Photo, Role, TreatmentCourse, Visit
from tracker.outcomes import Checkpoint, CohortOutcome, PatientCourse, cohort_outcome
from tracker.progress import (
    HEADLINE_MEASURE,
    MEASURES,
    PhotoFigures,
    SiteProgress,
    progress_at_each_session,
    site_progress,
    values_by_session,
)
from tracker.reports.records import MeasurementRecord, VisitSummary
from tracker.services.access import (
    Actor,
    patient_for,
    reading_session,
    record_audit,
    require_staff,
)
from tracker.services.convert import clinic_record, course_record, figures_of, patient_record
from tracker.services.errors import NotFound
from tracker.services.records import ClinicRecord, CourseRecord, PatientRecord


@dataclass(frozen=True)
class CountedPhoto:
    """A photo that counts towards progress, with its latest measurement."""

    photo_id: int
    sha256: str
    extension: str
    measurement: MeasurementRecord


@dataclass(frozen=True)
class PatientProgress:
    """One patient's current course: visits, counted photos and progress per view and site."""

    patient: PatientRecord
    course: CourseRecord | None
    visits: tuple[VisitSummary, ...]
    photos: tuple[CountedPhoto, ...]
    sites: tuple[SiteProgress, ...]

    @property
    def headline_site(self) -> SiteProgress | None:
        """Trichoscopy density if measured, else global coverage: what the clinic is judged on."""
        ordered = sorted(self.sites, key=lambda s: (s.view != "trichoscopy", s.site))
        return next((site for site in ordered if site.headline.points), None)


@dataclass(frozen=True)
class ClinicSummary:
    clinic: ClinicRecord
    patients: tuple[PatientProgress, ...]
    cohort: CohortOutcome


def _load_patients(session: Session, patient_ids: Sequence[int]) -> list[Patient]:
    return list(
        session.scalars(
            select(Patient)
            .where(Patient.id.in_(patient_ids))
            .order_by(Patient.code)
            .options(
                selectinload(Patient.courses)
                .selectinload(TreatmentCourse.visits)
                .selectinload(Visit.side_effects),
                selectinload(Patient.courses)
                .selectinload(TreatmentCourse.visits)
                .selectinload(Visit.photos)
                .selectinload(Photo.measurements),
            )
        )
    )


def _current_course(patient: Patient) -> TreatmentCourse | None:
    courses = sorted(patient.courses, key=lambda course: (course.start_date, course.id))
    return courses[-1] if courses else None


def _patient_progress(patient: Patient, *, with_name: bool) -> PatientProgress:
    """Plain data of one loaded patient (call inside the session)."""
    course = _current_course(patient)
    visits = sorted(course.visits, key=lambda v: v.session_number) if course else []
    photos: list[CountedPhoto] = []
    for visit in visits:
        for photo in sorted(visit.photos, key=lambda p: (p.view.value, p.site, p.replicate_index)):
            if not (photo.quality_ok or photo.accepted_despite_flags) or not photo.measurements:
                continue
            latest = photo.measurements[-1]
            photos.append(
                CountedPhoto(
                    photo_id=photo.id,
                    sha256=photo.sha256,
                    extension=photo.extension,
                    measurement=MeasurementRecord(
                        patient_code=patient.code,
                        patient_name=patient.name if with_name else None,
                        session=visit.session_number,
                        visit_date=visit.visit_date,
                        view=photo.view.value,  # type: ignore[arg-type]
                        site=photo.site,
                        replicate=photo.replicate_index,
                        photo_id=photo.id,
                        algorithm_version=latest.algorithm_version,
                        quality_ok=photo.quality_ok,
                        measures=figures_of(latest),
                    ),
                )
            )
    return PatientProgress(
        patient=patient_record(patient),
        course=course_record(course) if course else None,
        visits=tuple(
            VisitSummary(
                session=visit.session_number,
                visit_date=visit.visit_date,
                side_effects=tuple(sorted(effect.kind.value for effect in visit.side_effects)),
            )
            for visit in visits
        ),
        photos=tuple(photos),
        sites=site_progress([_figures(photo.measurement) for photo in photos]),
    )


def _figures(record: MeasurementRecord) -> PhotoFigures:
    return PhotoFigures(record.session, record.view, record.site, record.measures)


def get_patient_progress(actor: Actor, patient_id: int) -> PatientProgress:
    """The patient's progress, for their clinic's staff or the patient themself."""
    with reading_session() as session:
        patient = patient_for(session, actor, patient_id, doing="view the progress of")
        (loaded,) = _load_patients(session, [patient.id])
        progress = _patient_progress(loaded, with_name=actor.role is Role.PATIENT)
        record_audit(
            session, actor, AuditAction.VIEW, "progress", patient.id, patient_id=patient.id
        )
    return progress


def patient_course(progress: PatientProgress) -> PatientCourse:
    """What the clinic outcomes need of one patient: verdicts as they stood at each session."""
    checkpoints: dict[int, Checkpoint] = {}
    site = progress.headline_site
    if site is not None:
        measure = HEADLINE_MEASURE[site.view]
        series = [
            _figures(photo.measurement)
            for photo in progress.photos
            if (photo.measurement.view, photo.measurement.site) == (site.view, site.site)
        ]
        at_session = progress_at_each_session(
            values_by_session(series, measure=measure), spec=MEASURES[measure]
        )
        for session, judged in at_session.items():
            latest = judged.points[-1] if judged.points else None
            checkpoints[session] = Checkpoint(
                session=session,
                verdict=judged.verdict,
                change_pct=latest.change_pct if latest and judged.precision else None,
            )
    course = progress.course
    done = sum(1 for visit in progress.visits if visit.session >= 1)
    return PatientCourse(
        code=progress.patient.code,
        condition=progress.patient.condition.value.replace("_", " "),
        treatment=_treatment_label(course),
        consented=progress.patient.consent_outcome_statistics,
        planned_sessions=course.planned_sessions if course else 0,
        sessions_done=done,
        checkpoints=checkpoints,
        side_effects_by_session={
            visit.session: visit.side_effects for visit in progress.visits if visit.session >= 1
        },
    )


def _treatment_label(course: CourseRecord | None) -> str:
    if course is None:
        return "no course"
    return f"{course.treatment} ({course.product})" if course.product else course.treatment


def clinic_summary(actor: Actor) -> ClinicSummary:
    """Every patient's progress and the outcomes over those who consented (staff only)."""
    require_staff(actor, doing="view clinic outcomes")
    with reading_session() as session:
        clinic = session.get(Clinic, actor.clinic_id)
        if clinic is None:
            raise NotFound("Your clinic no longer exists.")
        ids = list(session.scalars(select(Patient.id).where(Patient.clinic_id == clinic.id)))
        patients = tuple(
            _patient_progress(patient, with_name=False) for patient in _load_patients(session, ids)
        )
        record_audit(session, actor, AuditAction.VIEW, "clinic_outcomes", clinic.id)
        clinic_data = clinic_record(clinic)
    cohort = cohort_outcome(
        [patient_course(p) for p in patients],
        advertised_success_pct=clinic_data.advertised_success_rate_pct,
    )
    return ClinicSummary(clinic=clinic_data, patients=patients, cohort=cohort)
