"""Export use cases: CSV, FHIR R4 and PDF, for one patient or the whole clinic.

Names leave the system only in a patient's own export; clinic staff exports carry codes.
Every export is audited.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from models import AuditAction, Role
from tracker.reports.csv import write_measurements_csv
from tracker.reports.fhir import measurements_bundle
from tracker.reports.pdf import clinic_pdf, patient_pdf
from tracker.reports.records import MeasurementRecord, PatientReport, PhotoPair
from tracker.services.access import Actor, patient_for, reading_session, record_audit
from tracker.services.photos import photo_on_baseline
from tracker.services.progress import (
    CountedPhoto,
    PatientProgress,
    clinic_cohort,
    clinic_summary,
    get_patient_progress,
)

# Before/after photos in the PDF: sharp at 300 dpi in a half-page column.
PDF_PHOTO_PX = 1200


def _audit_export(actor: Actor, *, what: str, patient_id: int | None) -> None:
    with reading_session() as session:
        if patient_id is not None:
            patient_for(session, actor, patient_id, doing="export")
        record_audit(
            session,
            actor,
            AuditAction.EXPORT,
            "patient" if patient_id is not None else "clinic",
            patient_id if patient_id is not None else actor.clinic_id,
            patient_id=patient_id,
            detail=what,
        )


def _measurement_records(actor: Actor, patient_id: int | None) -> list[MeasurementRecord]:
    if patient_id is not None:
        patients: tuple[PatientProgress, ...] = (get_patient_progress(actor, patient_id),)
    else:
        patients = clinic_summary(actor).patients
    return [
        replace(photo.measurement, patch_measures=photo.region_figures)
        for patient in patients
        for photo in patient.photos
    ]


def export_csv(actor: Actor, *, patient_id: int | None) -> str:
    """Tidy CSV of measurements; a clinic-wide export needs a staff account."""
    records = _measurement_records(actor, patient_id)
    out = io.StringIO()
    write_measurements_csv(records, out, for_patient_themself=actor.role is Role.PATIENT)
    _audit_export(actor, what=f"csv, {len(records)} photos", patient_id=patient_id)
    return out.getvalue()


def export_fhir(actor: Actor, *, patient_id: int | None) -> dict[str, object]:
    """FHIR R4 collection Bundle with one Observation per measured value."""
    records = _measurement_records(actor, patient_id)
    bundle = measurements_bundle(records)
    _audit_export(actor, what=f"fhir, {len(records)} photos", patient_id=patient_id)
    return bundle


def _photo_pairs(actor: Actor, progress: PatientProgress) -> tuple[PhotoPair, ...]:
    """First replicate at the first and at the latest counted session of each view and site,
    the latest laid onto the baseline where it was registered to it."""
    by_site: dict[tuple[str, str], list[CountedPhoto]] = {}
    for photo in progress.photos:
        record = photo.measurement
        by_site.setdefault((record.view, record.site), []).append(photo)
    pairs = []
    for (view, site), photos in sorted(by_site.items()):
        ordered = sorted(photos, key=lambda p: (p.measurement.session, p.measurement.replicate))
        first = ordered[0]
        last_session = ordered[-1].measurement.session
        if last_session == first.measurement.session:
            continue
        last = next(p for p in ordered if p.measurement.session == last_session)
        before = photo_on_baseline(actor, first.photo_id, long_side_px=PDF_PHOTO_PX)
        after = photo_on_baseline(actor, last.photo_id, long_side_px=PDF_PHOTO_PX)
        pairs.append(
            PhotoPair(
                view=view,  # type: ignore[arg-type]
                site=site,
                baseline_session=first.measurement.session,
                baseline_image=before.jpeg,
                latest_session=last_session,
                latest_image=after.jpeg,
                latest_laid_on_baseline=after.laid_on_baseline,
                reference_box=before.reference_box,
            )
        )
    return tuple(pairs)


def export_patient_pdf(
    actor: Actor, patient_id: int, *, today: date, course_id: int | None = None
) -> bytes:
    """The patient's report over their current course, or over the earlier ``course_id``."""
    progress = get_patient_progress(actor, patient_id, course_id=course_id)
    course = progress.course
    report = PatientReport(
        patient_code=progress.patient.code,
        patient_name=progress.patient.name if actor.role is Role.PATIENT else None,
        condition=progress.patient.condition.value.replace("_", " "),
        treatment=(
            f"{course.treatment} {course.product}".strip() if course else "no treatment course"
        ),
        planned_sessions=course.planned_sessions if course else 0,
        sites=progress.sites,
        visits=progress.visits,
        photo_pairs=_photo_pairs(actor, progress),
    )
    pdf = patient_pdf(report, generated_on=today)
    _audit_export(actor, what="patient pdf", patient_id=patient_id)
    return pdf


def export_clinic_pdf(actor: Actor, *, today: date) -> bytes:
    outcomes = clinic_cohort(actor)
    pdf = clinic_pdf(outcomes.cohort, clinic_name=outcomes.clinic.name, generated_on=today)
    _audit_export(actor, what="clinic outcome pdf", patient_id=None)
    return pdf
