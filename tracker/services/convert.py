"""ORM rows to the frozen records the use cases return."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, type_coerce

import models
from models import ContraindicationKind
from tracker.measurement import GLOBAL_FIGURES, TRICHOSCOPY_FIGURES, QualityIssue
from tracker.services.records import (
    ClinicRecord,
    CourseRecord,
    MeasurementRecord,
    PatientRecord,
    PhotoRecord,
    SideEffectEntry,
    UserRecord,
    VisitRecord,
)

ALL_FIGURES: tuple[str, ...] = TRICHOSCOPY_FIGURES + GLOBAL_FIGURES


def enum_as_text(column: Any) -> Any:
    """An enum column read as its plain string value, to be mapped with a dict: SQLAlchemy's
    per-value enum processing dominates queries of thousands of rows."""
    return type_coerce(column, String)


def clinic_record(clinic: models.Clinic) -> ClinicRecord:
    return ClinicRecord(
        clinic.id, clinic.name, clinic.advertised_success_rate_pct, clinic.dermatoscope_px_per_mm
    )


def user_record(user: models.User) -> UserRecord:
    return UserRecord(
        id=user.id,
        clinic_id=user.clinic_id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        is_active=user.is_active,
        patient_id=user.patient_id,
        locked_until=user.locked_until,
    )


def contraindication_column(kind: ContraindicationKind) -> str:
    return f"contraindication_{kind.value}"


def patient_record(patient: models.Patient) -> PatientRecord:
    return PatientRecord(
        id=patient.id,
        clinic_id=patient.clinic_id,
        code=patient.code,
        name=patient.name,
        sex=patient.sex,
        birth_year=patient.birth_year,
        condition=patient.condition,
        stage_scale=patient.stage_scale,
        stage=patient.stage,
        consent_photography=patient.consent_photography,
        consent_outcome_statistics=patient.consent_outcome_statistics,
        contraindications=tuple(
            kind for kind in ContraindicationKind if getattr(patient, contraindication_column(kind))
        ),
        created_at=patient.created_at,
    )


def course_record(course: models.TreatmentCourse) -> CourseRecord:
    return CourseRecord(
        id=course.id,
        patient_id=course.patient_id,
        treatment=course.treatment,
        product=course.product,
        planned_sessions=course.planned_sessions,
        interval_days=course.interval_days,
        start_date=course.start_date,
        status=course.status,
    )


def visit_record(visit: models.Visit) -> VisitRecord:
    return VisitRecord(
        id=visit.id,
        course_id=visit.course_id,
        session_number=visit.session_number,
        visit_date=visit.visit_date,
        injections_given=visit.injections_given,
        side_effects=tuple(
            SideEffectEntry(effect.kind, effect.severity)
            for effect in sorted(visit.side_effects, key=lambda effect: effect.kind.value)
        ),
        notes=visit.notes,
        clinician_id=visit.clinician_id,
    )


def quality_issues(stored: list[dict[str, Any]]) -> tuple[QualityIssue, ...]:
    return tuple(QualityIssue(item["code"], item["message"], item.get("value")) for item in stored)


def measurement_record(measurement: models.Measurement) -> MeasurementRecord:
    return MeasurementRecord(
        id=measurement.id,
        photo_id=measurement.photo_id,
        algorithm_version=measurement.algorithm_version,
        px_per_mm=measurement.px_per_mm,
        px_per_mm_source=measurement.px_per_mm_source,
        vellus_threshold_um=measurement.vellus_threshold_um,
        quality_ok=measurement.quality_ok,
        quality_issues=quality_issues(measurement.quality_issues),
        figures=figures_of(measurement),
        widths_um=tuple(measurement.widths_um),
        overlay_sha256=measurement.overlay_sha256,
        created_at=measurement.created_at,
        region_figures=region_figures_of(measurement),
    )


def figures_of(measurement: models.Measurement) -> dict[str, Any]:
    """The figures of the photo's view (global photos have no trichoscopy figures)."""
    names = (
        GLOBAL_FIGURES if measurement.photo.view is models.PhotoView.GLOBAL else TRICHOSCOPY_FIGURES
    )
    return {name: getattr(measurement, name) for name in names}


REGION_FIGURES: tuple[str, ...] = (
    "area_cm2",
    "hair_count",
    "terminal_count",
    "density_per_cm2",
    "vellus_fraction",
    "mean_width_um",
)


def region_figures_of(measurement: models.Measurement) -> dict[str, Any] | None:
    """The figures counted on the baseline's reference region, under the figure names
    (None when the photo was not registered or had no pixel size)."""
    if measurement.region_area_cm2 is None:
        return None
    return {name: getattr(measurement, f"region_{name}") for name in REGION_FIGURES}


def photo_record(photo: models.Photo) -> PhotoRecord:
    return PhotoRecord(
        id=photo.id,
        visit_id=photo.visit_id,
        view=photo.view,
        site=photo.site,
        replicate_index=photo.replicate_index,
        sha256=photo.sha256,
        extension=photo.extension,
        byte_size=photo.byte_size,
        width_px=photo.width_px,
        height_px=photo.height_px,
        px_per_mm=photo.px_per_mm,
        px_per_mm_source=photo.px_per_mm_source,
        aruco_mm=photo.aruco_mm,
        original_filename=photo.original_filename,
        quality_ok=photo.quality_ok,
        quality_issues=quality_issues(photo.quality_issues),
        accepted_despite_flags=photo.accepted_despite_flags,
        created_at=photo.created_at,
        measurements=tuple(measurement_record(m) for m in photo.measurements),
        registered_to_id=photo.registered_to_id,
        registration_inliers=photo.registration_inliers,
        registration_coverage=photo.registration_coverage,
        different_spot=photo.different_spot,
    )
