"""Closed vocabularies of the records, stored as their string values."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    PATIENT = "patient"


class HairCondition(StrEnum):
    ANDROGENETIC_ALOPECIA = "androgenetic_alopecia"
    ALOPECIA_AREATA = "alopecia_areata"
    TELOGEN_EFFLUVIUM = "telogen_effluvium"
    OTHER = "other"


class StageScale(StrEnum):
    NORWOOD_HAMILTON = "norwood_hamilton"
    LUDWIG = "ludwig"


class ContraindicationKind(StrEnum):
    """Screened at intake; the names match the ``Patient.contraindication_*`` columns."""

    PREGNANCY = "pregnancy"
    DIABETES = "diabetes"
    CANCER = "cancer"
    CLOTTING_DISORDER = "clotting_disorder"
    PARALYSIS_HISTORY = "paralysis_history"


class CourseStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"

    @property
    def ended(self) -> bool:
        """Marked completed or stopped: over, however many sessions were done."""
        return self in (CourseStatus.COMPLETED, CourseStatus.STOPPED)


class SideEffectKind(StrEnum):
    PAIN = "pain"
    BURNING = "burning"
    ITCHING = "itching"
    REDNESS = "redness"
    SWELLING = "swelling"
    BRUISING = "bruising"
    INJECTION_SITE_BUMPS = "injection_site_bumps"
    RASH = "rash"
    NAUSEA = "nausea"
    SENSITIVITY = "sensitivity"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class PhotoView(StrEnum):
    TRICHOSCOPY = "trichoscopy"
    GLOBAL = "global"


# A global photo names one of the standard head views; a trichoscopy photo names its target
# site freely (e.g. "vertex tattoo dot"), so only the global sites form a closed list.
GLOBAL_SITES: tuple[str, ...] = ("vertex", "frontal", "midline", "temporal")


class AuditAction(StrEnum):
    VIEW = "view"
    CREATE = "create"
    CHANGE = "change"
    EXPORT = "export"
    DELETE = "delete"
    DENIED = "denied"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
