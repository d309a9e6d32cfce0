"""CSV export: one tidy row per measured value of one photo, over the whole photo
(``counted_on`` ``whole_photo``) or over the patch progress follows (``reference_patch``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from tracker.reports.records import EXPORTED_UNITS, MeasurementRecord, exported_values

COLUMNS: tuple[str, ...] = (
    "patient_code",
    "session",
    "visit_date",
    "view",
    "site",
    "replicate",
    "photo_id",
    "measure",
    "counted_on",
    "value",
    "unit",
    "algorithm_version",
    "quality_ok",
)


def write_measurements_csv(
    records: Iterable[MeasurementRecord], out: TextIO, *, for_patient_themself: bool
) -> int:
    """Write the rows and return how many; names appear only in a patient's own export."""
    columns = ("patient_name", *COLUMNS) if for_patient_themself else COLUMNS
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    rows = 0
    for record in records:
        for counted_on, measure, value in exported_values(record):
            row = {
                "patient_code": record.patient_code,
                "session": record.session,
                "visit_date": record.visit_date.isoformat(),
                "view": record.view,
                "site": record.site,
                "replicate": record.replicate,
                "photo_id": record.photo_id,
                "measure": measure,
                "counted_on": counted_on,
                "value": repr(value),
                "unit": EXPORTED_UNITS[measure],
                "algorithm_version": record.algorithm_version,
                "quality_ok": str(record.quality_ok).lower(),
            }
            if for_patient_themself:
                row["patient_name"] = record.patient_name or ""
            writer.writerow(row)
            rows += 1
    return rows
