"""Clinics, accounts, patients, courses, visits, photos, measurements and the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UtcDateTime, enum_column, utc_now
from models.enums import (
    AuditAction,
    CourseStatus,
    HairCondition,
    PhotoView,
    Role,
    Severity,
    SideEffectKind,
    StageScale,
)


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # What the clinic claims (e.g. "90 % success"), kept to compare with what is measured.
    advertised_success_rate_pct: Mapped[float | None] = mapped_column(Float)
    # The clinic's dermatoscope profile: its pixels per mm, offered for close-ups of a
    # patient who has none yet.
    dermatoscope_px_per_mm: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    __table_args__ = (
        CheckConstraint(
            "advertised_success_rate_pct IS NULL OR "
            "(advertised_success_rate_pct >= 0 AND advertised_success_rate_pct <= 100)",
            name="success_rate_pct",
        ),
        CheckConstraint(
            "dermatoscope_px_per_mm IS NULL OR dermatoscope_px_per_mm > 0",
            name="dermatoscope_px_per_mm",
        ),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A patient account sees exactly this one patient record; other roles have none.
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    clinic: Mapped[Clinic] = relationship()

    __table_args__ = (
        CheckConstraint(
            "(role = 'patient' AND patient_id IS NOT NULL) "
            "OR (role <> 'patient' AND patient_id IS NULL)",
            name="patient_account_has_patient",
        ),
    )


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(16))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    condition: Mapped[HairCondition] = mapped_column(enum_column(HairCondition, "condition"))
    stage_scale: Mapped[StageScale | None] = mapped_column(enum_column(StageScale, "stage_scale"))
    stage: Mapped[str | None] = mapped_column(String(16))
    consent_photography: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_outcome_statistics: Mapped[bool] = mapped_column(Boolean, default=False)
    # Positive screens are kept and shown as warnings; they never block the record.
    contraindication_pregnancy: Mapped[bool] = mapped_column(Boolean, default=False)
    contraindication_diabetes: Mapped[bool] = mapped_column(Boolean, default=False)
    contraindication_cancer: Mapped[bool] = mapped_column(Boolean, default=False)
    contraindication_clotting_disorder: Mapped[bool] = mapped_column(Boolean, default=False)
    contraindication_paralysis_history: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    courses: Mapped[list[TreatmentCourse]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("clinic_id", "code"),
        CheckConstraint("sex IN ('female', 'male', 'other')", name="sex"),
    )


class TreatmentCourse(Base):
    __tablename__ = "treatment_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    treatment: Mapped[str] = mapped_column(String(100), default="mesotherapy")
    product: Mapped[str] = mapped_column(String(200), default="")
    planned_sessions: Mapped[int] = mapped_column(Integer)
    interval_days: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    status: Mapped[CourseStatus] = mapped_column(enum_column(CourseStatus, "course_status"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    patient: Mapped[Patient] = relationship(back_populates="courses")
    visits: Mapped[list[Visit]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Visit.session_number",
    )

    __table_args__ = (
        CheckConstraint("planned_sessions > 0", name="planned_sessions"),
        CheckConstraint("interval_days > 0", name="interval_days"),
    )


# A patient's courses in this order end with the current one: the latest start date, and
# of two started the same day the later record.
COURSES_OLDEST_FIRST = (TreatmentCourse.start_date, TreatmentCourse.id)


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("treatment_courses.id", ondelete="CASCADE"))
    # 0 is the baseline visit before the first injection.
    session_number: Mapped[int] = mapped_column(Integer)
    visit_date: Mapped[date] = mapped_column(Date)
    injections_given: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    course: Mapped[TreatmentCourse] = relationship(back_populates="visits")
    side_effects: Mapped[list[SideEffect]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", passive_deletes=True
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("course_id", "session_number"),
        CheckConstraint("session_number >= 0", name="session_number"),
        CheckConstraint("injections_given IS NULL OR injections_given >= 0", name="injections"),
    )


class SideEffect(Base):
    __tablename__ = "side_effects"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    kind: Mapped[SideEffectKind] = mapped_column(enum_column(SideEffectKind, "side_effect_kind"))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))

    visit: Mapped[Visit] = relationship(back_populates="side_effects")

    __table_args__ = (UniqueConstraint("visit_id", "kind"),)


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    view: Mapped[PhotoView] = mapped_column(enum_column(PhotoView, "photo_view"))
    # For global photos one of models.enums.GLOBAL_SITES; for trichoscopy the target site.
    site: Mapped[str] = mapped_column(String(100))
    # Several photos of the same view and site at one visit are replicates 0, 1, 2, ...
    replicate_index: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    extension: Mapped[str] = mapped_column(String(8))
    byte_size: Mapped[int] = mapped_column(Integer)
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    px_per_mm: Mapped[float | None] = mapped_column(Float)
    px_per_mm_source: Mapped[str | None] = mapped_column(String(32))
    # Side of the ArUco marker the upload said is in the frame, so a re-analysis looks for it
    # again (and keeps it out of hair detection); null when none was given.
    aruco_mm: Mapped[float | None] = mapped_column(Float)
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    quality_ok: Mapped[bool] = mapped_column(Boolean)
    quality_issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    accepted_despite_flags: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Registration to the site's baseline photo (trichoscopy; tracker.registration). All
    # null when the photo was not registered: a global photo, or no baseline photo yet.
    # The baseline photo itself is registered to itself (identity, 0 inliers).
    registered_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("photos.id", ondelete="SET NULL")
    )
    # Photo pixels -> baseline pixels, a 2 x 3 similarity matrix; null when none was found.
    registration_matrix: Mapped[list[list[float]] | None] = mapped_column(JSON)
    registration_inliers: Mapped[int | None] = mapped_column(Integer)
    # Share of the baseline's reference region that this photo covers.
    registration_coverage: Mapped[float | None] = mapped_column(Float)
    # A different spot never counts towards progress, even when accepted despite flags.
    different_spot: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    visit: Mapped[Visit] = relationship(back_populates="photos")
    measurements: Mapped[list[Measurement]] = relationship(
        back_populates="photo",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Measurement.id",
    )

    __table_args__ = (
        UniqueConstraint("visit_id", "view", "site", "replicate_index"),
        # The same file twice at one visit is one photo, not two replicates.
        UniqueConstraint("visit_id", "sha256"),
        CheckConstraint("replicate_index >= 0", name="replicate_index"),
    )


class Measurement(Base):
    """The figures of one photo by one algorithm version; re-analysis adds a row."""

    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    algorithm_version: Mapped[str] = mapped_column(String(64))
    px_per_mm: Mapped[float | None] = mapped_column(Float)
    px_per_mm_source: Mapped[str | None] = mapped_column(String(32))
    vellus_threshold_um: Mapped[float] = mapped_column(Float)
    quality_ok: Mapped[bool] = mapped_column(Boolean)
    quality_issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # One column per figure of tracker.measurement.TRICHOSCOPY_FIGURES and GLOBAL_FIGURES.
    area_cm2: Mapped[float | None] = mapped_column(Float)
    hair_count: Mapped[int | None] = mapped_column(Integer)
    density_per_cm2: Mapped[float | None] = mapped_column(Float)
    terminal_count: Mapped[int | None] = mapped_column(Integer)
    vellus_count: Mapped[int | None] = mapped_column(Integer)
    vellus_fraction: Mapped[float | None] = mapped_column(Float)
    mean_width_um: Mapped[float | None] = mapped_column(Float)
    follicular_units: Mapped[int | None] = mapped_column(Integer)
    hairs_per_unit: Mapped[float | None] = mapped_column(Float)
    coverage_pct: Mapped[float | None] = mapped_column(Float)
    # The figures progress uses: the same measurement counted on the baseline's reference
    # region (tracker.registration.figures_in_region); null when the photo is not registered.
    region_area_cm2: Mapped[float | None] = mapped_column(Float)
    region_hair_count: Mapped[int | None] = mapped_column(Integer)
    region_terminal_count: Mapped[int | None] = mapped_column(Integer)
    region_density_per_cm2: Mapped[float | None] = mapped_column(Float)
    region_vellus_fraction: Mapped[float | None] = mapped_column(Float)
    region_mean_width_um: Mapped[float | None] = mapped_column(Float)
    widths_um: Mapped[list[float]] = mapped_column(JSON, default=list)
    overlay_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    photo: Mapped[Photo] = relationship(back_populates="measurements")

    __table_args__ = (UniqueConstraint("photo_id", "algorithm_version", "vellus_threshold_um"),)


class AuditEvent(Base):
    """Who viewed, created, changed, exported or deleted what, and when.

    Subjects are plain ids without foreign keys: the trail outlives deleted patients.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, "audit_action"))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    clinic_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_audit_events_patient_id_at", "patient_id", "at"),
        Index("ix_audit_events_clinic_id_at", "clinic_id", "at"),
    )
