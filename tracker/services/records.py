"""What the use cases take and return: frozen dataclasses, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from models import (
    ContraindicationKind,
    CourseStatus,
    HairCondition,
    PhotoView,
    Role,
    Severity,
    SideEffectKind,
    StageScale,
)
from tracker.measurement import Figure, QualityIssue


@dataclass(frozen=True)
class ClinicRecord:
    id: int
    name: str
    advertised_success_rate_pct: float | None
    # The clinic's dermatoscope profile, offered for a patient's first close-ups.
    dermatoscope_px_per_mm: float | None


@dataclass(frozen=True)
class UserRecord:
    id: int
    clinic_id: int
    email: str
    display_name: str
    role: Role
    is_active: bool
    patient_id: int | None
    locked_until: datetime | None


@dataclass(frozen=True)
class PatientInput:
    code: str
    name: str
    sex: str
    condition: HairCondition
    birth_year: int | None = None
    stage_scale: StageScale | None = None
    stage: str | None = None
    consent_photography: bool = False
    consent_outcome_statistics: bool = False
    contraindications: frozenset[ContraindicationKind] = frozenset()


@dataclass(frozen=True)
class PatientRecord:
    id: int
    clinic_id: int
    code: str
    name: str
    sex: str
    birth_year: int | None
    condition: HairCondition
    stage_scale: StageScale | None
    stage: str | None
    consent_photography: bool
    consent_outcome_statistics: bool
    contraindications: tuple[ContraindicationKind, ...]
    created_at: datetime

    @property
    def contraindication_warnings(self) -> tuple[str, ...]:
        """One sentence per positive intake screen, to show wherever the patient is shown."""
        return tuple(
            f"Positive contraindication screen: {kind.value.replace('_', ' ')}."
            for kind in self.contraindications
        )


@dataclass(frozen=True)
class PatientSummary:
    patient: PatientRecord
    course_count: int
    visit_count: int
    last_visit_date: date | None


@dataclass(frozen=True)
class CourseInput:
    planned_sessions: int
    interval_days: int
    start_date: date
    product: str = ""
    treatment: str = "mesotherapy"
    status: CourseStatus = CourseStatus.ACTIVE


@dataclass(frozen=True)
class CourseRecord:
    id: int
    patient_id: int
    treatment: str
    product: str
    planned_sessions: int
    interval_days: int
    start_date: date
    status: CourseStatus


@dataclass(frozen=True)
class SideEffectEntry:
    kind: SideEffectKind
    severity: Severity


@dataclass(frozen=True)
class VisitInput:
    session_number: int
    visit_date: date
    injections_given: int | None = None
    side_effects: tuple[SideEffectEntry, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class VisitRecord:
    id: int
    course_id: int
    session_number: int
    visit_date: date
    injections_given: int | None
    side_effects: tuple[SideEffectEntry, ...]
    notes: str
    clinician_id: int | None


@dataclass(frozen=True)
class PhotoUpload:
    """One file to add to a visit.

    ``site`` is one of ``models.GLOBAL_SITES`` for global photos, the target site's name
    for trichoscopy. The pixel size comes from ``px_per_mm`` (a device setting) or from an
    ArUco marker of side ``aruco_mm`` in the frame.
    """

    data: bytes = field(repr=False)
    view: PhotoView
    site: str
    filename: str = ""
    px_per_mm: float | None = None
    aruco_mm: float | None = None
    roi: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class MeasurementRecord:
    id: int
    photo_id: int
    algorithm_version: str
    px_per_mm: float | None
    px_per_mm_source: str | None
    vellus_threshold_um: float
    quality_ok: bool
    quality_issues: tuple[QualityIssue, ...]
    figures: dict[str, Figure]
    widths_um: tuple[float, ...]
    overlay_sha256: str | None
    created_at: datetime
    # The figures on the site baseline's reference region (what progress uses), or None
    # when the photo is not registered.
    region_figures: dict[str, Figure] | None = None


@dataclass(frozen=True)
class PhotoRecord:
    id: int
    visit_id: int
    view: PhotoView
    site: str
    replicate_index: int
    sha256: str
    extension: str
    byte_size: int
    width_px: int
    height_px: int
    px_per_mm: float | None
    px_per_mm_source: str | None
    # The ArUco marker side the upload gave; None when it gave none.
    aruco_mm: float | None
    original_filename: str
    quality_ok: bool
    quality_issues: tuple[QualityIssue, ...]
    accepted_despite_flags: bool
    created_at: datetime
    measurements: tuple[MeasurementRecord, ...]
    # Registration to the site's baseline photo; all None when not registered.
    registered_to_id: int | None = None
    registration_inliers: int | None = None
    registration_coverage: float | None = None
    different_spot: bool | None = None

    @property
    def usable(self) -> bool:
        """Counts in progress and outcomes: passed the quality gate or accepted anyway, and
        not of a different spot than the baseline."""
        return (self.quality_ok or self.accepted_despite_flags) and not self.different_spot

    @property
    def latest_measurement(self) -> MeasurementRecord | None:
        return self.measurements[-1] if self.measurements else None


@dataclass(frozen=True)
class PhotoAddResult:
    """What became of one uploaded file: ``added``, ``duplicate`` or ``rejected``."""

    filename: str
    status: str
    photo: PhotoRecord | None
    reason: str = ""


@dataclass(frozen=True)
class VisitFile:
    visit: VisitRecord
    photos: tuple[PhotoRecord, ...]


@dataclass(frozen=True)
class CourseFile:
    course: CourseRecord
    visits: tuple[VisitFile, ...]


# The target site a close-up form offers before the patient has any close-up.
DEFAULT_CLOSE_UP_SITE = "vertex target"


@dataclass(frozen=True)
class CloseUpSettings:
    """The target site and calibration a close-up (trichoscopy) photo was uploaded with:
    ``px_per_mm`` the device setting given, ``aruco_mm`` the marker side given."""

    site: str
    px_per_mm: float | None
    aruco_mm: float | None


@dataclass(frozen=True)
class PatientFile:
    """Everything recorded about one patient: courses, visits, photos, measurements."""

    patient: PatientRecord
    courses: tuple[CourseFile, ...]

    def close_up_settings(self, *, clinic_px_per_mm: float | None) -> CloseUpSettings:
        """What the next close-ups are most likely taken with: what the patient's most
        recently added close-up was uploaded with (the same spot, the same dermatoscope),
        the clinic's dermatoscope profile ``clinic_px_per_mm`` where that gave no device
        setting, and ``DEFAULT_CLOSE_UP_SITE`` for a first one."""
        close_ups = [
            photo
            for course in self.courses
            for visit in course.visits
            for photo in visit.photos
            if photo.view is PhotoView.TRICHOSCOPY
        ]
        if not close_ups:
            return CloseUpSettings(DEFAULT_CLOSE_UP_SITE, clinic_px_per_mm, None)
        last = max(close_ups, key=lambda photo: (photo.created_at, photo.id))
        return CloseUpSettings(
            site=last.site,
            px_per_mm=(last.px_per_mm if last.px_per_mm_source == "device" else None)
            or clinic_px_per_mm,
            aruco_mm=last.aruco_mm,
        )


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor_user_id: int | None
    actor_role: str
    action: str
    entity: str
    entity_id: int | None
    patient_id: int | None
    detail: str


@dataclass(frozen=True)
class DeletionReport:
    patient_id: int
    code: str
    photos_deleted: int
    files_removed: int
