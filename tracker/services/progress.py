"""Progress use cases: one patient's series and verdicts, and the clinic's outcomes.

The records are read in one short session into plain data; the computation
(:mod:`tracker.progress`, :mod:`tracker.outcomes`) runs after the session is closed.
A photo counts when it passed the quality gate or a clinician accepted it; its most
recent measurement is used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from models import (
    AuditAction,
    Clinic,
    HairCondition,
    Measurement,
    Patient,
    Photo,
    Role,
    SideEffect,
    TreatmentCourse,
    Visit,
)
from tracker.measurement import View
from tracker.outcomes import (
    CHECKPOINT_SESSIONS,
    Checkpoint,
    CohortOutcome,
    PatientCourse,
    cohort_outcome,
)
from tracker.progress import (
    HEADLINE_MEASURE,
    MEASURES,
    PhotoFigures,
    SiteProgress,
    Verdict,
    measure_progress,
    progress_at_each_session,
    site_progress,
    values_by_session,
)
from tracker.reports.records import MeasurementRecord, VisitSummary
from tracker.services.access import (
    Actor,
    deny,
    patient_for,
    reading_session,
    record_audit,
    require_staff,
)
from tracker.services.convert import (
    clinic_record,
    course_record,
    enum_as_text,
    figures_of,
    patient_record,
)
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


@dataclass(frozen=True)
class ClinicCohort:
    clinic: ClinicRecord
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
    """What the clinic outcomes need of one patient: verdicts as they stood at checkpoints."""
    site = progress.headline_site
    checkpoints: dict[int, Checkpoint] = {}
    if site is not None:
        series = [
            _figures(photo.measurement)
            for photo in progress.photos
            if (photo.measurement.view, photo.measurement.site) == (site.view, site.site)
        ]
        checkpoints = _checkpoints(
            site.view, values_by_session(series, measure=HEADLINE_MEASURE[site.view])
        )
    course = progress.course
    return PatientCourse(
        code=progress.patient.code,
        condition=progress.patient.condition.value.replace("_", " "),
        treatment=_treatment_label(course.treatment, course.product) if course else NO_COURSE,
        consented=progress.patient.consent_outcome_statistics,
        planned_sessions=course.planned_sessions if course else 0,
        sessions_done=sum(1 for visit in progress.visits if visit.session >= 1),
        checkpoints=checkpoints,
        side_effects_by_session={
            visit.session: visit.side_effects for visit in progress.visits if visit.session >= 1
        },
    )


def _checkpoints(view: View, values: Mapping[int, Sequence[float | None]]) -> dict[int, Checkpoint]:
    """The headline verdict and change as they stood at the sessions the cohort reads: the
    checkpoint sessions and the latest one (judging every session took seconds per clinic)."""
    at_session = progress_at_each_session(
        values,
        spec=MEASURES[HEADLINE_MEASURE[view]],
        sessions={*CHECKPOINT_SESSIONS, max(values)},
    )
    checkpoints = {}
    for session, judged in at_session.items():
        latest = judged.points[-1] if judged.points else None
        checkpoints[session] = Checkpoint(
            session=session,
            verdict=judged.verdict,
            change_pct=latest.change_pct if latest and judged.precision else None,
        )
    return checkpoints


NO_COURSE = "no course"


def _treatment_label(treatment: str, product: str) -> str:
    return f"{treatment} ({product})" if product else treatment


def clinic_summary(actor: Actor) -> ClinicSummary:
    """Every patient's progress and the outcomes over those who consented (staff only).

    For the CLI summary and the exports, which need every measure of every patient; a page
    that shows only the cohort uses :func:`clinic_cohort`.
    """
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


# The cohort and the patient list need only the headline series of each patient's current
# course. They read plain columns of just those figures: loading every photo and
# measurement as ORM objects, and judging every measure, took seconds at clinic scale.


@dataclass(frozen=True)
class _CurrentCourse:
    patient_id: int
    code: str
    condition: HairCondition
    consented: bool
    course_id: int | None
    treatment: str
    planned_sessions: int


@dataclass(frozen=True)
class _HeadlineSeries:
    view: View
    values: dict[int, list[float | None]]


def _patients_in_scope(
    clinic_id: int, patient_ids: Sequence[int] | None
) -> list[ColumnElement[bool]]:
    scope: list[ColumnElement[bool]] = [Patient.clinic_id == clinic_id]
    if patient_ids is not None:
        scope.append(Patient.id.in_(patient_ids))
    return scope


def _current_courses(
    session: Session, clinic_id: int, patient_ids: Sequence[int] | None = None
) -> list[_CurrentCourse]:
    """Each patient's latest course (by start date), ordered by patient code."""
    conditions = {member.value: member for member in HairCondition}
    rows = session.execute(
        select(
            Patient.id,
            Patient.code,
            enum_as_text(Patient.condition),
            Patient.consent_outcome_statistics,
            TreatmentCourse.id,
            TreatmentCourse.treatment,
            TreatmentCourse.product,
            TreatmentCourse.planned_sessions,
            TreatmentCourse.start_date,
        )
        .outerjoin(TreatmentCourse, TreatmentCourse.patient_id == Patient.id)
        .where(*_patients_in_scope(clinic_id, patient_ids))
        .order_by(Patient.code, Patient.id)
    ).all()
    latest: dict[int, tuple[tuple[date, int], _CurrentCourse]] = {}
    for (
        patient_id,
        code,
        condition,
        consented,
        course_id,
        treatment,
        product,
        planned,
        start,
    ) in rows:
        order = (start, course_id) if course_id is not None else (date.min, 0)
        if patient_id in latest and latest[patient_id][0] >= order:
            continue
        latest[patient_id] = (
            order,
            _CurrentCourse(
                patient_id=patient_id,
                code=code,
                condition=conditions[condition],
                consented=consented,
                course_id=course_id,
                treatment=_treatment_label(treatment, product) if course_id else NO_COURSE,
                planned_sessions=planned if course_id else 0,
            ),
        )
    return [course for _order, course in latest.values()]


def _in_courses(query: Any, clinic_id: int, patient_ids: Sequence[int] | None) -> Any:
    # A sub-select of the courses in scope rather than a join into every row: the join made
    # the clinic outcome query several times slower (see clinic_data).
    return query.where(
        Visit.course_id.in_(
            select(TreatmentCourse.id)
            .join(Patient, Patient.id == TreatmentCourse.patient_id)
            .where(*_patients_in_scope(clinic_id, patient_ids))
        )
    )


def _headline_series(
    session: Session, clinic_id: int, patient_ids: Sequence[int] | None = None
) -> dict[int, _HeadlineSeries]:
    """The headline series of each course: trichoscopy density at the first measured site,
    else global coverage, from the latest measurement of every counted photo."""
    query = _in_courses(
        select(
            Photo.id,
            Visit.course_id,
            Visit.session_number,
            enum_as_text(Photo.view),
            Photo.site,
            Measurement.density_per_cm2,
            Measurement.coverage_pct,
        )
        .select_from(Measurement)
        .join(Photo, Photo.id == Measurement.photo_id)
        .join(Visit, Visit.id == Photo.visit_id)
        .where(or_(Photo.quality_ok, Photo.accepted_despite_flags)),
        clinic_id,
        patient_ids,
    ).order_by(Visit.course_id, Visit.session_number, Photo.replicate_index, Measurement.id)
    latest: dict[int, tuple[int, int, str, str, float | None]] = {}
    for photo_id, course_id, session_number, view, site, density, coverage in session.execute(
        query
    ).all():
        # Oldest measurement first: a re-analysis replaces the earlier figure.
        latest[photo_id] = (
            course_id,
            session_number,
            view,
            site,
            density if view == "trichoscopy" else coverage,
        )
    sites: dict[int, dict[tuple[bool, str], _HeadlineSeries]] = defaultdict(dict)
    for course_id, session_number, view, site, value in latest.values():
        series = sites[course_id].setdefault(
            (view != "trichoscopy", site), _HeadlineSeries(view, {})
        )
        series.values.setdefault(session_number, []).append(None if value is None else float(value))
    headline = {}
    for course_id, by_site in sites.items():
        measured = [
            series
            for _key, series in sorted(by_site.items())
            if any(value is not None for values in series.values.values() for value in values)
        ]
        if measured:
            headline[course_id] = measured[0]
    return headline


def _done_sessions(session: Session, clinic_id: int) -> dict[int, dict[int, tuple[str, ...]]]:
    """Per course, the side effects recorded after each treatment session (session ≥ 1)."""
    effects: dict[int, list[str]] = defaultdict(list)
    effect_query = _in_courses(
        select(SideEffect.visit_id, enum_as_text(SideEffect.kind)).join(
            Visit, Visit.id == SideEffect.visit_id
        ),
        clinic_id,
        None,
    )
    for visit_id, kind in session.execute(effect_query).all():
        effects[visit_id].append(kind)
    visit_query = _in_courses(
        select(Visit.id, Visit.course_id, Visit.session_number).where(Visit.session_number >= 1),
        clinic_id,
        None,
    ).order_by(Visit.course_id, Visit.session_number)
    done: dict[int, dict[int, tuple[str, ...]]] = defaultdict(dict)
    for visit_id, course_id, session_number in session.execute(visit_query).all():
        done[course_id][session_number] = tuple(sorted(effects.get(visit_id, ())))
    return done


def clinic_cohort(actor: Actor) -> ClinicCohort:
    """The outcomes over the patients who consented, from their headline series (staff only).

    Gives the same cohort as :func:`clinic_summary` without every patient's full progress.
    """
    require_staff(actor, doing="view clinic outcomes")
    with reading_session() as session:
        clinic = session.get(Clinic, actor.clinic_id)
        if clinic is None:
            raise NotFound("Your clinic no longer exists.")
        courses = _current_courses(session, clinic.id)
        headline = _headline_series(session, clinic.id)
        done = _done_sessions(session, clinic.id)
        record_audit(session, actor, AuditAction.VIEW, "clinic_outcomes", clinic.id)
        clinic_data = clinic_record(clinic)
    patient_courses = []
    for course in courses:
        series = headline.get(course.course_id) if course.course_id is not None else None
        sessions = done.get(course.course_id, {}) if course.course_id is not None else {}
        patient_courses.append(
            PatientCourse(
                code=course.code,
                condition=course.condition.value.replace("_", " "),
                treatment=course.treatment,
                consented=course.consented,
                planned_sessions=course.planned_sessions,
                sessions_done=len(sessions),
                checkpoints=_checkpoints(series.view, series.values) if series else {},
                side_effects_by_session=sessions,
            )
        )
    cohort = cohort_outcome(
        patient_courses, advertised_success_pct=clinic_data.advertised_success_rate_pct
    )
    return ClinicCohort(clinic=clinic_data, cohort=cohort)


def latest_verdicts(actor: Actor, patient_ids: Sequence[int]) -> dict[int, Verdict]:
    """Each listed patient's current headline verdict (staff of their clinic; one audit event)."""
    require_staff(actor, doing="view the progress of patients")
    with reading_session() as session:
        courses = _current_courses(session, actor.clinic_id, patient_ids)
        outside = set(patient_ids) - {course.patient_id for course in courses}
        if outside:
            elsewhere = session.scalar(select(func.min(Patient.id)).where(Patient.id.in_(outside)))
            if elsewhere is None:
                raise NotFound(f"There is no patient with id {min(outside)}.")
            raise deny(
                actor,
                "You may not view the progress of a patient of another clinic.",
                "patient",
                elsewhere,
                patient_id=elsewhere,
            )
        headline = _headline_series(session, actor.clinic_id, patient_ids)
        record_audit(
            session,
            actor,
            AuditAction.VIEW,
            "progress",
            detail="latest verdicts of patients " + ", ".join(map(str, sorted(patient_ids))),
        )
    verdicts: dict[int, Verdict] = {}
    for course in courses:
        series = headline.get(course.course_id) if course.course_id is not None else None
        verdicts[course.patient_id] = (
            measure_progress(series.values, spec=MEASURES[HEADLINE_MEASURE[series.view]]).verdict
            if series
            else "insufficient data"
        )
    return verdicts
