"""Progress use cases: one patient's series and verdicts, and the clinic's outcomes.

The records are read in one short session into plain data; the computation
(:mod:`tracker.progress`, :mod:`tracker.outcomes`) runs after the session is closed.
A photo counts when it passed the quality gate or a clinician accepted it; its most
recent measurement is used. Every series is judged on the photos measured by the current
engine (:data:`tracker.analysis.ALGORITHM_VERSION`); the others are left out of its
verdicts (docs/verdict-rules.md, rule 28).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from models import (
    COURSES_OLDEST_FIRST,
    AuditAction,
    Clinic,
    CourseStatus,
    HairCondition,
    Measurement,
    Patient,
    Photo,
    Role,
    SideEffect,
    TreatmentCourse,
    Visit,
)
from tracker.analysis import ALGORITHM_VERSION
from tracker.measurement import GLOBAL_FIGURES, TRICHOSCOPY_FIGURES, View
from tracker.outcomes import (
    CHECKPOINT_SESSIONS,
    Checkpoint,
    CohortOutcome,
    MarkedEnd,
    PatientCourse,
    cohort_outcome,
)
from tracker.progress import (
    HEADLINE_MEASURE,
    PhotoFigures,
    Series,
    SiteProgress,
    Verdict,
    headline_series,
    progress_of_site,
    split_series,
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
    ALL_FIGURES,
    REGION_FIGURES,
    clinic_record,
    course_record,
    enum_as_text,
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
    # The figures on the site baseline's reference region; None when not registered.
    region_figures: Mapping[str, float | None] | None = None


@dataclass(frozen=True)
class PatientProgress:
    """One patient's course (the current one unless another was asked for): visits, counted
    photos and progress per view and site; ``courses`` lists all of theirs, oldest first."""

    patient: PatientRecord
    course: CourseRecord | None
    courses: tuple[CourseRecord, ...]
    visits: tuple[VisitSummary, ...]
    photos: tuple[CountedPhoto, ...]
    sites: tuple[SiteProgress, ...]
    # The counted photos per view and site, split by engine version; ``sites`` in order.
    series: tuple[Series, ...]

    @property
    def headline_site(self) -> SiteProgress | None:
        """Trichoscopy density if measured, else global coverage: what the clinic is judged on."""
        chosen = headline_series(self.series)
        if chosen is None:
            return None
        return next(s for s in self.sites if (s.view, s.site) == (chosen.view, chosen.site))


@dataclass(frozen=True)
class ClinicSummary:
    clinic: ClinicRecord
    patients: tuple[PatientProgress, ...]
    cohort: CohortOutcome


@dataclass(frozen=True)
class ClinicCohort:
    clinic: ClinicRecord
    cohort: CohortOutcome


def _load_progress(
    session: Session,
    clinic_id: int,
    patient_ids: Sequence[int] | None,
    *,
    with_name: bool,
    course_ids: set[int] | None = None,
) -> list[PatientProgress]:
    """The progress of the listed patients of a clinic (all with None), by patient code,
    over each one's current course or, given ``course_ids``, over those courses.

    Read as plain rows: loading every photo and measurement as ORM objects took seconds at
    clinic scale. A photo counts when usable (passed the gate or accepted) and not of a
    different spot; its most recent measurement is used.
    """
    scope = _patients_in_scope(clinic_id, patient_ids)
    patients = list(session.scalars(select(Patient).where(*scope).order_by(Patient.code)))
    courses_of: dict[int, list[TreatmentCourse]] = defaultdict(list)
    for course in session.scalars(
        select(TreatmentCourse)
        .join(Patient, Patient.id == TreatmentCourse.patient_id)
        .where(*scope)
        .order_by(*COURSES_OLDEST_FIRST)
    ):
        courses_of[course.patient_id].append(course)
    current_ids = (
        course_ids
        if course_ids is not None
        else {courses[-1].id for courses in courses_of.values()}
    )
    current = {
        course.patient_id: course
        for courses in courses_of.values()
        for course in courses
        if course.id in current_ids
    }
    effects: dict[int, list[str]] = defaultdict(list)
    for visit_id, kind in session.execute(
        _in_courses(
            select(SideEffect.visit_id, enum_as_text(SideEffect.kind)).join(
                Visit, Visit.id == SideEffect.visit_id
            ),
            clinic_id,
            patient_ids,
        )
    ).all():
        effects[visit_id].append(kind)
    visits: dict[int, list[VisitSummary]] = defaultdict(list)
    for visit_id, course_id, number, visit_date in session.execute(
        _in_courses(
            select(Visit.id, Visit.course_id, Visit.session_number, Visit.visit_date),
            clinic_id,
            patient_ids,
        ).order_by(Visit.course_id, Visit.session_number)
    ).all():
        if course_id in current_ids:
            visits[course_id].append(
                VisitSummary(number, visit_date, tuple(sorted(effects.get(visit_id, ()))))
            )
    photos = _counted_photo_rows(session, clinic_id, patient_ids, current_ids)
    progress = []
    for patient in patients:
        course = current.get(patient.id)
        counted = [
            CountedPhoto(
                photo_id=row.photo_id,
                sha256=row.sha256,
                extension=row.extension,
                measurement=MeasurementRecord(
                    patient_code=patient.code,
                    patient_name=patient.name if with_name else None,
                    session=row.session,
                    visit_date=row.visit_date,
                    view=row.view,
                    site=row.site,
                    replicate=row.replicate,
                    photo_id=row.photo_id,
                    algorithm_version=row.algorithm_version,
                    quality_ok=row.quality_ok,
                    measures=row.figures,
                ),
                region_figures=row.region_figures,
            )
            for row in (photos.get(course.id, []) if course else [])
        ]
        series = split_series([_figures(photo) for photo in counted], version=ALGORITHM_VERSION)
        progress.append(
            PatientProgress(
                patient=patient_record(patient),
                course=course_record(course) if course else None,
                courses=tuple(course_record(c) for c in courses_of.get(patient.id, [])),
                visits=tuple(visits.get(course.id, [])) if course else (),
                photos=tuple(counted),
                sites=tuple(progress_of_site(s) for s in series),
                series=series,
            )
        )
    return progress


@dataclass(frozen=True)
class _PhotoRow:
    photo_id: int
    sha256: str
    extension: str
    session: int
    visit_date: date
    view: View
    site: str
    replicate: int
    algorithm_version: str
    quality_ok: bool
    figures: dict[str, float | None]
    region_figures: dict[str, float | None] | None


def _counted_photo_rows(
    session: Session, clinic_id: int, patient_ids: Sequence[int] | None, course_ids: set[int]
) -> dict[int, list[_PhotoRow]]:
    """Per course, the counted photos with their latest measurement, in visit, view, site
    and replicate order."""
    figure_columns = [getattr(Measurement, name) for name in ALL_FIGURES]
    region_columns = [getattr(Measurement, f"region_{name}") for name in REGION_FIGURES]
    query = _counted_measurements(
        clinic_id,
        patient_ids,
        Photo.id,
        Photo.sha256,
        Photo.extension,
        Visit.course_id,
        Visit.session_number,
        Visit.visit_date,
        enum_as_text(Photo.view),
        Photo.site,
        Photo.replicate_index,
        Photo.quality_ok,
        Measurement.algorithm_version,
        *figure_columns,
        *region_columns,
    ).order_by(Measurement.id)
    latest: dict[int, tuple[int, _PhotoRow]] = {}
    for row in session.execute(query).all():
        photo_id, sha256, extension, course_id, number, visit_date, view, site, replicate = row[:9]
        if course_id not in course_ids:
            continue
        quality_ok, version = row[9], row[10]
        values = dict(zip(ALL_FIGURES, row[11 : 11 + len(ALL_FIGURES)], strict=True))
        region = dict(zip(REGION_FIGURES, row[11 + len(ALL_FIGURES) :], strict=True))
        names = GLOBAL_FIGURES if view == "global" else TRICHOSCOPY_FIGURES
        # Oldest measurement first: a re-analysis replaces the earlier figures.
        latest[photo_id] = (
            course_id,
            _PhotoRow(
                photo_id=photo_id,
                sha256=sha256,
                extension=extension,
                session=number,
                visit_date=visit_date,
                view=view,
                site=site,
                replicate=replicate,
                algorithm_version=version,
                quality_ok=quality_ok,
                figures={name: values[name] for name in names},
                region_figures=region if region["area_cm2"] is not None else None,
            ),
        )
    by_course: dict[int, list[_PhotoRow]] = defaultdict(list)
    for course_id, photo in latest.values():
        by_course[course_id].append(photo)
    for rows in by_course.values():
        rows.sort(key=lambda r: (r.session, r.view, r.site, r.replicate))
    return by_course


def _counted_measurements(clinic_id: int, patient_ids: Sequence[int] | None, *columns: Any) -> Any:
    """``columns`` of every measurement of the photos that count towards progress: usable
    (passed the quality gate or accepted) and not of a different spot."""
    return _in_courses(
        select(*columns)
        .select_from(Measurement)
        .join(Photo, Photo.id == Measurement.photo_id)
        .join(Visit, Visit.id == Photo.visit_id)
        .where(
            or_(Photo.quality_ok, Photo.accepted_despite_flags),
            or_(Photo.different_spot.is_(None), Photo.different_spot.is_(False)),
        ),
        clinic_id,
        patient_ids,
    )


def _figures(photo: CountedPhoto) -> PhotoFigures:
    record = photo.measurement
    return PhotoFigures(
        record.session,
        record.view,
        record.site,
        record.measures,
        photo.region_figures,
        record.algorithm_version,
    )


def get_patient_progress(
    actor: Actor, patient_id: int, *, course_id: int | None = None
) -> PatientProgress:
    """The patient's progress over their current course, or over the earlier course
    ``course_id``, for their clinic's staff or the patient themself."""
    with reading_session() as session:
        patient = patient_for(session, actor, patient_id, doing="view the progress of")
        (progress,) = _load_progress(
            session,
            patient.clinic_id,
            [patient.id],
            with_name=actor.role is Role.PATIENT,
            course_ids=None if course_id is None else {course_id},
        )
        if course_id is not None and progress.course is None:
            raise NotFound(f"Patient {patient.code} has no course with id {course_id}.")
        record_audit(
            session, actor, AuditAction.VIEW, "progress", patient.id, patient_id=patient.id
        )
    return progress


def patient_course(progress: PatientProgress) -> PatientCourse:
    """What the clinic outcomes need of one patient: verdicts as they stood at checkpoints."""
    series = headline_series(progress.series)
    course = progress.course
    return PatientCourse(
        code=progress.patient.code,
        condition=progress.patient.condition.value.replace("_", " "),
        treatment=_treatment_label(course.treatment, course.product) if course else NO_COURSE,
        consented=progress.patient.consent_outcome_statistics,
        planned_sessions=course.planned_sessions if course else 0,
        sessions_done=sum(1 for visit in progress.visits if visit.session >= 1),
        marked=_marked_end(course.status) if course else None,
        checkpoints=_checkpoints(series) if series else {},
        side_effects_by_session={
            visit.session: visit.side_effects for visit in progress.visits if visit.session >= 1
        },
    )


def _marked_end(status: CourseStatus) -> MarkedEnd | None:
    """How a clinician ended the course, for the outcomes; None while it runs."""
    return cast(MarkedEnd, status.value) if status.ended else None


def _checkpoints(series: Series) -> dict[int, Checkpoint]:
    """The headline verdict and change as they stood at the sessions the cohort reads: the
    checkpoint sessions and the latest one (judging every session took seconds per clinic)."""
    latest = max(photo.session for photo in (*series.judged, *series.others))
    at_session = series.progress_at_each_session(
        HEADLINE_MEASURE[series.view], sessions={*CHECKPOINT_SESSIONS, latest}
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
        patients = tuple(_load_progress(session, clinic.id, None, with_name=False))
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
    marked: MarkedEnd | None


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
            enum_as_text(TreatmentCourse.status),
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
        status,
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
                marked=_marked_end(CourseStatus(status)) if status is not None else None,
            ),
        )
    return [course for _order, course in latest.values()]


def _in_courses(query: Any, clinic_id: int, patient_ids: Sequence[int] | None) -> Any:
    # A sub-select of the courses in scope rather than a join into every row: the join made
    # the clinic outcome query several times slower.
    return query.where(
        Visit.course_id.in_(
            select(TreatmentCourse.id)
            .join(Patient, Patient.id == TreatmentCourse.patient_id)
            .where(*_patients_in_scope(clinic_id, patient_ids))
        )
    )


def _headline_series(
    session: Session, clinic_id: int, patient_ids: Sequence[int] | None = None
) -> dict[int, Series]:
    """The headline series of each course (:func:`tracker.progress.headline_series`), from
    the latest measurement of every counted photo, read as just the headline figures."""
    query = _counted_measurements(
        clinic_id,
        patient_ids,
        Photo.id,
        Visit.course_id,
        Visit.session_number,
        enum_as_text(Photo.view),
        Photo.site,
        Measurement.algorithm_version,
        Measurement.density_per_cm2,
        Measurement.coverage_pct,
        Measurement.region_area_cm2,
        Measurement.region_density_per_cm2,
    ).order_by(Visit.course_id, Visit.session_number, Photo.replicate_index, Measurement.id)
    latest: dict[int, tuple[int, PhotoFigures]] = {}
    for row in session.execute(query).all():
        photo_id, course_id, number, view, site, version, density, coverage, area, region = row
        # Oldest measurement first: a re-analysis replaces the earlier figure.
        latest[photo_id] = (
            course_id,
            PhotoFigures(
                number,
                view,
                site,
                {"density_per_cm2": density}
                if view == "trichoscopy"
                else {"coverage_pct": coverage},
                {"density_per_cm2": region} if area else None,
                version,
            ),
        )
    by_course: dict[int, list[PhotoFigures]] = defaultdict(list)
    for course_id, photo in latest.values():
        by_course[course_id].append(photo)
    headline = {}
    for course_id, photos in by_course.items():
        chosen = headline_series(split_series(photos, version=ALGORITHM_VERSION))
        if chosen is not None:
            headline[course_id] = chosen
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
                marked=course.marked,
                checkpoints=_checkpoints(series) if series else {},
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
        measure = HEADLINE_MEASURE[series.view] if series else ""
        verdicts[course.patient_id] = (
            series.progress((measure,))[measure].verdict if series else "insufficient data"
        )
    return verdicts
