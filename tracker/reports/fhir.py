"""FHIR R4 export: a collection Bundle with one Observation per measured value."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from tracker.progress import MEASURES
from tracker.reports.records import (
    EXPORTED_UNITS,
    REFERENCE_PATCH,
    MeasurementRecord,
    exported_values,
)

UCUM_SYSTEM = "http://unitsofmeasure.org"
MEASURE_SYSTEM = "urn:hair-tracker:measure"
PATIENT_CODE_SYSTEM = "urn:hair-tracker:patient-code"
# FHIR resource ids allow only these characters; other codes are referenced by identifier.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
LABELS = {"hair_count": "Hair count", **{name: spec.label for name, spec in MEASURES.items()}}


def patient_reference(patient_code: str) -> dict[str, object]:
    reference: dict[str, object] = {
        "identifier": {"system": PATIENT_CODE_SYSTEM, "value": patient_code}
    }
    if FHIR_ID.fullmatch(patient_code):
        reference["reference"] = f"Patient/{patient_code}"
    return reference


def observation(
    record: MeasurementRecord, *, counted_on: str, measure: str, value: float
) -> dict[str, object]:
    # Values on the reference patch: the patch of the baseline photo followed at every visit.
    patch = ", reference patch" if counted_on == REFERENCE_PATCH else ""
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "exam",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": MEASURE_SYSTEM, "code": measure, "display": LABELS[measure]}],
            "text": f"{LABELS[measure]} ({record.view}, {record.site}{patch})",
        },
        "subject": patient_reference(record.patient_code),
        "effectiveDateTime": record.visit_date.isoformat(),
        "valueQuantity": {
            "value": float(value),
            "unit": EXPORTED_UNITS[measure],
            "system": UCUM_SYSTEM,
            "code": EXPORTED_UNITS[measure],
        },
        "bodySite": {"text": f"scalp, {record.site}{patch}"},
        "method": {"text": f"{record.view} photo analysis {record.algorithm_version}"},
        "note": [{"text": f"session {record.session}, replicate {record.replicate}"}],
    }


def observation_uuid(record: MeasurementRecord, *, counted_on: str, measure: str) -> uuid.UUID:
    """Stable per photo, measure and what it was counted on, so a repeated export names the
    same Observation."""
    patch = f":{REFERENCE_PATCH}" if counted_on == REFERENCE_PATCH else ""
    name = f"{MEASURE_SYSTEM}:{record.photo_id}:{measure}{patch}"
    return uuid.uuid5(uuid.NAMESPACE_URL, name)


def measurements_bundle(records: Iterable[MeasurementRecord]) -> dict[str, object]:
    entries = [
        {
            "fullUrl": (
                f"urn:uuid:{observation_uuid(record, counted_on=counted_on, measure=measure)}"
            ),
            "resource": observation(record, counted_on=counted_on, measure=measure, value=value),
        }
        for record in records
        for counted_on, measure, value in exported_values(record)
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
