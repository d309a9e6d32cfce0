"""Import a clinic's photo archive laid out as ``ARCHIVE/<patient code>/<session>/<photos>``.

Session folders are numbered (0 = baseline). Several photos in one session folder are
replicates. An optional ``visit.json`` in a session folder may give ``date``
(YYYY-MM-DD), ``view`` (trichoscopy or global), ``px_per_mm`` and ``site``. Importing
again adds nothing: patients, visits and photos already present are found, not copied.
A file or folder that cannot be imported is reported with the reason and the rest goes on.

Patients missing from the clinic are registered from their code (name = code, condition
"other", consent to photography recorded because the clinic holds their photos, no consent
to outcome statistics); a clinician completes the record afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from models import CourseStatus, HairCondition, PhotoView
from tracker.services import patients, photos, visits
from tracker.services.access import Actor
from tracker.services.errors import InvalidInput, NotFound, ServiceError
from tracker.services.records import CourseInput, PatientInput, PhotoUpload, VisitInput

VISIT_FILE = "visit.json"
DEFAULT_SITES = {PhotoView.TRICHOSCOPY: "target area", PhotoView.GLOBAL: "vertex"}
IMPORTED_COURSE_INTERVAL_DAYS = 7


@dataclass
class ImportReport:
    """Counts, and what was skipped: (path inside the archive, reason)."""

    archive: Path
    patients_created: int = 0
    visits_created: int = 0
    photos_added: int = 0
    photos_already_present: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append((self.name(path), reason))

    def name(self, path: Path) -> str:
        return path.relative_to(self.archive).as_posix()


@dataclass(frozen=True)
class _SessionSettings:
    visit_date: date
    view: PhotoView
    px_per_mm: float | None
    site: str


def import_archive(
    actor: Actor,
    archive: Path,
    *,
    view: PhotoView,
    px_per_mm: float | None = None,
) -> ImportReport:
    """Import every patient folder of ``archive`` into the actor's clinic."""
    if not archive.is_dir():
        raise NotFound(f"{archive} is not a directory.")
    report = ImportReport(archive)
    for patient_dir in _children(archive):
        if not patient_dir.is_dir():
            report.skip(patient_dir, "not a patient folder")
            continue
        try:
            _import_patient(actor, patient_dir, view, px_per_mm, report)
        except ServiceError as error:
            report.skip(patient_dir, str(error))
    return report


def _import_patient(
    actor: Actor,
    patient_dir: Path,
    default_view: PhotoView,
    default_px_per_mm: float | None,
    report: ImportReport,
) -> None:
    sessions: list[tuple[int, Path, _SessionSettings]] = []
    for session_dir in _children(patient_dir):
        if not session_dir.is_dir() or not session_dir.name.isdigit():
            report.skip(session_dir, "not a session folder (its name must be a number)")
            continue
        try:
            settings = _session_settings(session_dir, default_view, default_px_per_mm)
        except ValueError as error:
            report.skip(session_dir, f"bad {VISIT_FILE}: {error}")
            continue
        sessions.append((int(session_dir.name), session_dir, settings))
    if not sessions:
        return
    sessions.sort(key=lambda item: item[0])
    patient_id = _find_or_register(actor, patient_dir.name, report)
    course_id = _find_or_start_course(actor, patient_id, sessions)
    for number, session_dir, settings in sessions:
        visit = visits.find_visit(actor, course_id, number)
        if visit is None:
            try:
                visit = visits.record_visit(
                    actor,
                    course_id,
                    VisitInput(session_number=number, visit_date=settings.visit_date),
                )
            except InvalidInput as refusal:
                report.skip(session_dir, str(refusal))
                continue
            report.visits_created += 1
        uploads = []
        for photo_path in _children(session_dir):
            if photo_path.name == VISIT_FILE or not photo_path.is_file():
                continue
            try:
                data = photo_path.read_bytes()
            except OSError as error:
                report.skip(photo_path, f"unreadable: {error.strerror}")
                continue
            uploads.append(
                PhotoUpload(
                    data=data,
                    view=settings.view,
                    site=settings.site,
                    filename=report.name(photo_path),
                    px_per_mm=settings.px_per_mm,
                )
            )
        for result in photos.add_photos(actor, visit.id, uploads):
            if result.status == "added":
                report.photos_added += 1
            elif result.status == "duplicate":
                report.photos_already_present += 1
            else:
                report.skip(report.archive / result.filename, result.reason)


def _find_or_register(actor: Actor, code: str, report: ImportReport) -> int:
    try:
        return patients.find_patient_by_code(actor, code).id
    except NotFound:
        pass
    patient = patients.register_patient(
        actor,
        PatientInput(
            code=code,
            name=code,
            sex="other",
            condition=HairCondition.OTHER,
            consent_photography=True,
        ),
    )
    report.patients_created += 1
    return patient.id


def _find_or_start_course(
    actor: Actor, patient_id: int, sessions: list[tuple[int, Path, _SessionSettings]]
) -> int:
    courses = visits.list_courses(actor, patient_id)
    if courses:
        return courses[-1].id
    course = visits.start_course(
        actor,
        patient_id,
        CourseInput(
            planned_sessions=max(1, max(number for number, _, _ in sessions)),
            interval_days=IMPORTED_COURSE_INTERVAL_DAYS,
            start_date=min(settings.visit_date for _, _, settings in sessions),
            product="imported from archive",
            status=CourseStatus.ACTIVE,
        ),
    )
    return course.id


def _session_settings(
    session_dir: Path, default_view: PhotoView, default_px_per_mm: float | None
) -> _SessionSettings:
    values: dict[str, object] = {}
    visit_file = session_dir / VISIT_FILE
    if visit_file.is_file():
        try:
            loaded = json.loads(visit_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"not readable JSON ({error})") from error
        if not isinstance(loaded, dict):
            raise ValueError("expected an object with date, view, px_per_mm or site")
        values = loaded
    view = PhotoView(str(values.get("view", default_view.value)))
    px_per_mm = values.get("px_per_mm", default_px_per_mm)
    if px_per_mm is not None and (not isinstance(px_per_mm, int | float) or px_per_mm <= 0):
        raise ValueError(f"px_per_mm must be a positive number, not {px_per_mm!r}")
    visit_date = (
        date.fromisoformat(str(values["date"])) if "date" in values else _folder_date(session_dir)
    )
    site = str(values.get("site", DEFAULT_SITES[view]))
    return _SessionSettings(visit_date, view, float(px_per_mm) if px_per_mm else None, site)


def _folder_date(session_dir: Path) -> date:
    """Without a date in visit.json, the oldest modification date of the folder's files."""
    times = [path.stat().st_mtime for path in session_dir.iterdir() if path.is_file()]
    return datetime.fromtimestamp(min(times, default=session_dir.stat().st_mtime)).date()


def _children(directory: Path) -> list[Path]:
    return sorted(path for path in directory.iterdir() if not path.name.startswith("."))
