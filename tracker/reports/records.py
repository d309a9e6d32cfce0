"""Plain data the exports are built from; the export service fills these from the records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from tracker.measurement import View
from tracker.progress import SiteProgress

# UCUM codes (https://ucum.org) of the exported figures; also the CSV unit column.
EXPORTED_UNITS: dict[str, str] = {
    "hair_count": "1",
    "density_per_cm2": "/cm2",
    "terminal_density_per_cm2": "/cm2",
    "mean_width_um": "um",
    "vellus_fraction": "1",
    "coverage_pct": "%",
}


@dataclass(frozen=True)
class MeasurementRecord:
    """The figures of one measured photo, with who, when and where.

    ``patient_name`` is set only when the export is for the patient themself.
    """

    patient_code: str
    patient_name: str | None
    session: int
    visit_date: date
    view: View
    site: str
    replicate: int
    photo_id: int
    algorithm_version: str
    quality_ok: bool
    measures: Mapping[str, float | None]
    # The figures counted on the patch of the baseline frame that progress follows; None
    # when the photo was not placed on its baseline (a global photo, no calibration).
    patch_measures: Mapping[str, float | None] | None = None


WHOLE_PHOTO = "whole_photo"
REFERENCE_PATCH = "reference_patch"


def exported_values(record: MeasurementRecord) -> list[tuple[str, str, float]]:
    """(counted on, measure, value) of each exported value of one photo: the whole photo's
    figures of ``EXPORTED_UNITS``, then those counted on the reference patch."""
    parts = [(WHOLE_PHOTO, record.measures)]
    if record.patch_measures is not None:
        parts.append((REFERENCE_PATCH, record.patch_measures))
    return [
        (counted_on, measure, float(value))
        for counted_on, measures in parts
        for measure in EXPORTED_UNITS
        if (value := measures.get(measure)) is not None
    ]


@dataclass(frozen=True)
class PhotoPair:
    """The first and latest accepted photo of one view and site, as encoded image bytes."""

    view: View
    site: str
    baseline_session: int
    baseline_image: bytes
    latest_session: int
    latest_image: bytes
    # The latest photo is turned, shifted and scaled onto the baseline photo's frame.
    latest_laid_on_baseline: bool = False
    # The patch of scalp counted at every visit is outlined on the photos.
    reference_box: bool = False


@dataclass(frozen=True)
class VisitSummary:
    session: int
    visit_date: date
    side_effects: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientReport:
    patient_code: str
    patient_name: str | None
    condition: str
    treatment: str
    planned_sessions: int
    sites: tuple[SiteProgress, ...]
    visits: tuple[VisitSummary, ...]
    photo_pairs: tuple[PhotoPair, ...] = field(default=())
