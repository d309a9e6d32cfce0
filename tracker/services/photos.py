"""Photos of a visit: intake, measurement on add, acceptance of flagged photos, re-analysis.

Heavy work (decoding, measuring, writing files) happens before the short write
transaction; files are stored before the rows that name them commit.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import models
from models import GLOBAL_SITES, AuditAction, PhotoView, Visit
from tracker.analysis import analyze_image
from tracker.imaging.intake import IntakeError, PreparedImage, prepare_image
from tracker.measurement import GLOBAL_FIGURES, TRICHOSCOPY_FIGURES, Measurement
from tracker.photostore import OVERLAY_EXTENSION, PhotoStore, default_store
from tracker.services.access import (
    Actor,
    photo_for,
    reading_session,
    record_audit,
    require_staff,
    visit_for,
    writing_session,
)
from tracker.services.convert import measurement_record, photo_record
from tracker.services.errors import InvalidInput
from tracker.services.records import MeasurementRecord, PhotoAddResult, PhotoRecord, PhotoUpload

DEFAULT_VELLUS_THRESHOLD_UM = 30.0


@dataclass(frozen=True)
class _Measured:
    """A measured upload: its stored bytes and a photo row still without visit or replicate
    number. Pixel arrays are not kept, so a batch of large photos is not held in memory."""

    filename: str
    stored_bytes: bytes
    photo: models.Photo


def add_photos(
    actor: Actor,
    visit_id: int,
    uploads: Sequence[PhotoUpload],
    *,
    vellus_threshold_um: float = DEFAULT_VELLUS_THRESHOLD_UM,
) -> list[PhotoAddResult]:
    """Measure and store photos of one visit; one result per upload, in order.

    A file that cannot be read is ``rejected`` with the reason and does not stop the others;
    a file already stored for this visit is a ``duplicate``; several photos of one view and
    site become replicates 0, 1, 2, ... Photos that fail the quality gate are stored with
    their flags and count once a clinician accepts them (:func:`accept_photo`).
    """
    require_staff(actor, doing="add photos")
    with reading_session() as session:
        _check_photography_allowed(visit_for(session, actor, visit_id, doing="add photos for"))
    store = default_store()
    results: list[PhotoAddResult | None] = []
    measured: list[_Measured] = []
    for upload in uploads:
        try:
            _check_view_and_site(upload)
            prepared = prepare_image(upload.data)
        except (IntakeError, InvalidInput) as error:
            results.append(PhotoAddResult(upload.filename, "rejected", None, str(error)))
            continue
        measured.append(_measure_and_store(store, upload, prepared, vellus_threshold_um))
        results.append(None)
    saved = iter(_save_photos(actor, visit_id, measured))
    final = [result if result is not None else next(saved) for result in results]
    _restore_missing_files(store, measured)
    return final


def accept_photo(actor: Actor, photo_id: int) -> PhotoRecord:
    """Let a photo with quality flags count anyway (a clinician's judgement, audited)."""
    require_staff(actor, doing="accept flagged photos")
    with writing_session() as session:
        photo = photo_for(session, actor, photo_id, doing="accept a photo of")
        if photo.quality_ok:
            raise InvalidInput("This photo passed the quality checks; there is nothing to accept.")
        photo.accepted_despite_flags = True
        photo.accepted_by_id = actor.user_id
        record_audit(
            session,
            actor,
            AuditAction.CHANGE,
            "photo",
            photo.id,
            patient_id=photo.visit.course.patient_id,
            detail="accepted despite quality flags: "
            + ", ".join(issue["code"] for issue in photo.quality_issues),
        )
        return photo_record(photo)


def reanalyse_photo(
    actor: Actor, photo_id: int, *, vellus_threshold_um: float = DEFAULT_VELLUS_THRESHOLD_UM
) -> MeasurementRecord:
    """Measure a stored photo again with the current engine; earlier results are kept.

    When this algorithm version already measured the photo with this threshold, that
    measurement is returned and nothing is added.
    """
    require_staff(actor, doing="re-analyse photos")
    with reading_session() as session:
        photo = photo_for(session, actor, photo_id, doing="re-analyse a photo of")
        upload = PhotoUpload(data=b"", view=photo.view, site=photo.site, px_per_mm=photo.px_per_mm)
        sha256, extension = photo.sha256, photo.extension
    store = default_store()
    measurement = measure(_decode(store.read(sha256, extension)), upload, vellus_threshold_um)
    overlay = store.put(_png(measurement.overlay_rgb), OVERLAY_EXTENSION)
    with writing_session() as session:
        photo = photo_for(session, actor, photo_id, doing="re-analyse a photo of")
        for existing in photo.measurements:
            if (
                existing.algorithm_version == measurement.algorithm_version
                and existing.vellus_threshold_um == vellus_threshold_um
            ):
                return measurement_record(existing)
        row = _measurement_row(measurement, vellus_threshold_um, overlay.sha256)
        photo.measurements.append(row)
        session.flush()
        record_audit(
            session,
            actor,
            AuditAction.CREATE,
            "measurement",
            row.id,
            patient_id=photo.visit.course.patient_id,
            detail=f"re-analysis with {measurement.algorithm_version}",
        )
        return measurement_record(row)


def photo_file(actor: Actor, photo_id: int) -> tuple[bytes, str]:
    """The stored photo's bytes and extension (``jpg`` or ``png``), for display."""
    with reading_session() as session:
        photo = photo_for(session, actor, photo_id, doing="view a photo of")
        record_audit(
            session,
            actor,
            AuditAction.VIEW,
            "photo",
            photo.id,
            patient_id=photo.visit.course.patient_id,
        )
        sha256, extension = photo.sha256, photo.extension
    return default_store().read(sha256, extension), extension


def overlay_file(actor: Actor, measurement_id: int) -> bytes:
    """The PNG overlay showing what a measurement detected."""
    with reading_session() as session:
        measurement = session.get(models.Measurement, measurement_id)
        if measurement is None or measurement.overlay_sha256 is None:
            raise InvalidInput(f"Measurement {measurement_id} has no overlay.")
        photo = photo_for(session, actor, measurement.photo_id, doing="view a photo of")
        record_audit(
            session,
            actor,
            AuditAction.VIEW,
            "overlay",
            measurement.id,
            patient_id=photo.visit.course.patient_id,
        )
        sha256 = measurement.overlay_sha256
    return default_store().read(sha256, OVERLAY_EXTENSION)


def measure(rgb: np.ndarray, upload: PhotoUpload, vellus_threshold_um: float) -> Measurement:
    """Run the measuring engine on one photo."""
    return analyze_image(
        rgb,
        view=upload.view.value,
        px_per_mm=upload.px_per_mm,
        aruco_mm=upload.aruco_mm,
        roi=upload.roi,
        vellus_threshold_um=vellus_threshold_um,
    )


def _measure_and_store(
    store: PhotoStore, upload: PhotoUpload, prepared: PreparedImage, vellus_threshold_um: float
) -> _Measured:
    measurement = measure(prepared.rgb, upload, vellus_threshold_um)
    overlay = store.put(_png(measurement.overlay_rgb), OVERLAY_EXTENSION)
    store.put(prepared.stored_bytes, prepared.extension)
    photo = models.Photo(
        view=upload.view,
        site=upload.site,
        sha256=prepared.sha256,
        extension=prepared.extension,
        byte_size=len(prepared.stored_bytes),
        width_px=prepared.width,
        height_px=prepared.height,
        px_per_mm=measurement.px_per_mm,
        px_per_mm_source=measurement.px_per_mm_source,
        original_filename=upload.filename[:255],
        quality_ok=measurement.quality.ok,
        quality_issues=[issue.to_json() for issue in measurement.quality.issues],
        accepted_despite_flags=False,
        measurements=[_measurement_row(measurement, vellus_threshold_um, overlay.sha256)],
    )
    return _Measured(upload.filename, prepared.stored_bytes, photo)


def _save_photos(actor: Actor, visit_id: int, measured: list[_Measured]) -> list[PhotoAddResult]:
    if not measured:
        return []
    with writing_session() as session:
        # Locking the visit serialises concurrent uploads to it (SQLite's BEGIN IMMEDIATE
        # already does), so replicate numbers are handed out once each.
        session.execute(select(Visit.id).where(Visit.id == visit_id).with_for_update())
        visit = visit_for(session, actor, visit_id, doing="add photos for")
        _check_photography_allowed(visit)
        results = []
        for item in measured:
            results.append(_save_photo(session, visit, item))
        added = [result.photo.id for result in results if result.status == "added" and result.photo]
        if added:
            record_audit(
                session,
                actor,
                AuditAction.CREATE,
                "photo",
                visit.id,
                patient_id=visit.course.patient_id,
                detail=f"{len(added)} photo(s) added to visit {visit.id}: {added}",
            )
        return results


def _save_photo(session: Session, visit: Visit, item: _Measured) -> PhotoAddResult:
    photo = item.photo
    existing = session.scalar(
        select(models.Photo).where(
            models.Photo.visit_id == visit.id, models.Photo.sha256 == photo.sha256
        )
    )
    if existing is not None:
        return PhotoAddResult(
            item.filename,
            "duplicate",
            photo_record(existing),
            f"the same photo is already stored for this visit as photo {existing.id}",
        )
    last_replicate = session.scalar(
        select(func.max(models.Photo.replicate_index)).where(
            models.Photo.visit_id == visit.id,
            models.Photo.view == photo.view,
            models.Photo.site == photo.site,
        )
    )
    photo.visit_id = visit.id
    photo.replicate_index = 0 if last_replicate is None else last_replicate + 1
    session.add(photo)
    session.flush()
    return PhotoAddResult(item.filename, "added", photo_record(photo))


def _measurement_row(
    measurement: Measurement, vellus_threshold_um: float, overlay_sha256: str
) -> models.Measurement:
    return models.Measurement(
        algorithm_version=measurement.algorithm_version,
        px_per_mm=measurement.px_per_mm,
        px_per_mm_source=measurement.px_per_mm_source,
        vellus_threshold_um=vellus_threshold_um,
        quality_ok=measurement.quality.ok,
        quality_issues=[issue.to_json() for issue in measurement.quality.issues],
        widths_um=[float(width) for width in measurement.widths_um],
        overlay_sha256=overlay_sha256,
        **{
            name: _plain(measurement.figures.get(name))
            for name in TRICHOSCOPY_FIGURES + GLOBAL_FIGURES
        },
    )


def _plain(value: object) -> float | int | None:
    """numpy scalars to Python numbers (drivers reject numpy types)."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return float(value)  # type: ignore[arg-type]


def _check_photography_allowed(visit: Visit) -> None:
    if not visit.course.patient.consent_photography:
        raise InvalidInput(
            "The patient has not consented to photography; record the consent first."
        )


def _check_view_and_site(upload: PhotoUpload) -> None:
    if upload.view is PhotoView.GLOBAL and upload.site not in GLOBAL_SITES:
        raise InvalidInput(f"A global photo's view is one of {', '.join(GLOBAL_SITES)}.")
    if upload.view is PhotoView.TRICHOSCOPY and not upload.site.strip():
        raise InvalidInput("A trichoscopy photo needs the name of its target site.")


def _restore_missing_files(store: PhotoStore, measured: list[_Measured]) -> None:
    # A concurrent patient deletion may have removed a file with the same content
    # between our write and our commit; the rows now refer to it, so put it back.
    for item in measured:
        store.put(item.stored_bytes, item.photo.extension)


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), mode="RGB").save(
        buffer, format="PNG", compress_level=6
    )
    return buffer.getvalue()


def _decode(stored_bytes: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(stored_bytes)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
