"""FHIR R4 export: a collection Bundle with one Observation per measured value."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from tracker.progress import MEASURES
from tracker.reports.records import EXPORTED_UNITS, MeasurementRecord

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


def observation(record: MeasurementRecord, *, measure: str, value: float) -> dict[str, object]:
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
            "text": f"{LABELS[measure]} ({record.view}, {record.site})",
        },
        "subject": patient_reference(record.patient_code),
        "effectiveDateTime": record.visit_date.isoformat(),
        "valueQuantity": {
            "value": float(value),
            "unit": EXPORTED_UNITS[measure],
            "system": UCUM_SYSTEM,
            "code": EXPORTED_UNITS[measure],
        },
        "bodySite": {"text": f"scalp, {record.site}"},
        "method": {"text": f"{record.view} photo analysis {record.algorithm_version}"},
        "note": [{"text": f"session {record.session}, replicate {record.replicate}"}],
    }


def observation_uuid(record: MeasurementRecord, *, measure: str) -> uuid.UUID:
    """Stable per photo and measure, so a repeated export names the same Observation."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{MEASURE_SYSTEM}:{record.photo_id}:{measure}")


def measurements_bundle(records: Iterable[MeasurementRecord]) -> dict[str, object]:
    entries = [
        {
            "fullUrl": f"urn:uuid:{observation_uuid(record, measure=measure)}",
            "resource": observation(record, measure=measure, value=float(value)),
        }
        for record in records
        for measure in EXPORTED_UNITS
        if (value := record.measures.get(measure)) is not None
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
