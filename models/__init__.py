"""The clinic's records as typed SQLAlchemy 2.x models sharing one :class:`Base`."""

from models.base import Base
from models.enums import (
    GLOBAL_SITES,
    AuditAction,
    ContraindicationKind,
    CourseStatus,
    HairCondition,
    PhotoView,
    Role,
    Severity,
    SideEffectKind,
    StageScale,
)
from models.records import (
    COURSES_OLDEST_FIRST,
    AuditEvent,
    Clinic,
    Measurement,
    Patient,
    Photo,
    SideEffect,
    TreatmentCourse,
    User,
    Visit,
)

__all__ = [
    "COURSES_OLDEST_FIRST",
    "GLOBAL_SITES",
    "AuditAction",
    "AuditEvent",
    "Base",
    "Clinic",
    "ContraindicationKind",
    "CourseStatus",
    "HairCondition",
    "Measurement",
    "Patient",
    "Photo",
    "PhotoView",
    "Role",
    "Severity",
    "SideEffect",
    "SideEffectKind",
    "StageScale",
    "TreatmentCourse",
    "User",
    "Visit",
]
