"""Photos of a visit: intake, measurement on add, acceptance of flagged photos, re-analysis.

Heavy work (decoding, measuring, registering, writing files) happens before the short write
transaction; files are stored before the rows that name them commit. A trichoscopy photo is
registered to its site's baseline photo (the first photo of the baseline visit at that site
that passed the quality gate or was accepted; that photo gets the identity registration)
and its hairs are also counted on the baseline's reference region, the figures progress
uses. A photo of a different spot gets a quality issue and never counts towards progress.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

import models
from models import GLOBAL_SITES, AuditAction, PhotoView, Visit
from tracker.analysis import analyze_image
from tracker.imaging.calibration import implausible_px_per_mm
from tracker.imaging.intake import IntakeError, PreparedImage, prepare_image
from tracker.imaging.resample import shrink_to_long_side
from tracker.measurement import GLOBAL_FIGURES, TRICHOSCOPY_FIGURES, Measurement
from tracker.photostore import OVERLAY_EXTENSION, PhotoStore, default_store
from tracker.registration import (
    DIFFERENT_SPOT,
    Registration,
    different_spot_issue,
    draw_reference_box,
    identity_registration,
    measure_on_baseline,
    onto_baseline,
    register,
)
from tracker.services.access import (
    Actor,
    photo_for,
    reading_session,
    record_audit,
    require_staff,
    visit_for,
    writing_session,
)
from tracker.services.convert import REGION_FIGURES, measurement_record, photo_record
from tracker.services.errors import InvalidInput
from tracker.services.records import MeasurementRecord, PhotoAddResult, PhotoRecord, PhotoUpload

DEFAULT_VELLUS_THRESHOLD_UM = 30.0
OVERLAY_LONG_SIDE_PX = 2048
RegionFigures = dict[str, float | None]


@dataclass(frozen=True)
class _Measured:
    """A measured upload: its stored bytes and a photo row still without visit or replicate
    number. Pixel arrays are not kept (but for a site's baseline, to register the others
    to), so a batch of large photos is not held in memory. ``registered_to`` is the photo
    of this batch it was registered to (itself for a new baseline)."""

    filename: str
    stored_bytes: bytes
    photo: models.Photo
    registered_to: models.Photo | None = None


@dataclass(frozen=True)
class _Baseline:
    """A site's baseline photo: its stored row's id, or its row of this batch."""

    photo_id: int | None
    rgb: np.ndarray
    photo: models.Photo | None = None


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
        visit = visit_for(session, actor, visit_id, doing="add photos for")
        _check_photography_allowed(visit)
        baseline_visit = visit.session_number == 0
        stored_baselines = {
            site: _baseline_photo(session, visit.course_id, site)
            for site in {upload.site for upload in uploads if upload.view is PhotoView.TRICHOSCOPY}
        }
    store = default_store()
    baselines: dict[str, _Baseline] = {}
    results: list[PhotoAddResult | None] = []
    measured: list[_Measured] = []
    for upload in uploads:
        try:
            if problem := settings_problem(upload):
                raise InvalidInput(problem)
            prepared = prepare_image(upload.data)
        except (IntakeError, InvalidInput) as error:
            results.append(PhotoAddResult(upload.filename, "rejected", None, str(error)))
            continue
        item, measurement = _measure_and_store(store, upload, prepared, vellus_threshold_um)
        if upload.view is PhotoView.TRICHOSCOPY:
            baseline = baselines.get(upload.site)
            stored = stored_baselines.get(upload.site)
            if baseline is None and stored is not None:
                baseline = _Baseline(stored[0], _decode(store.read(stored[1], stored[2])))
                baselines[upload.site] = baseline
            if baseline is None and baseline_visit and item.photo.quality_ok:
                item = _registered(item, prepared.rgb, measurement, None)
                baselines[upload.site] = _Baseline(None, prepared.rgb, item.photo)
            elif baseline is not None:
                item = _registered(item, prepared.rgb, measurement, baseline)
        measured.append(item)
        results.append(None)
    saved = iter(_save_photos(actor, visit_id, measured))
    final = [result if result is not None else next(saved) for result in results]
    _restore_missing_files(store, measured)
    return final


def locate_on_baseline(
    rgb: np.ndarray, measurement: Measurement, *, baseline_rgb: np.ndarray | None
) -> tuple[Registration, RegionFigures | None]:
    """Register a measured trichoscopy photo to its site's baseline (None: it is the
    baseline) and count its hairs on the baseline's reference region (None: a different
    spot, or no pixel size to give an area)."""
    if measurement.px_per_mm is None or measurement.trichoscopy is None:
        registration = (
            identity_registration() if baseline_rgb is None else register(baseline_rgb, rgb)
        )
        return registration, None
    return measure_on_baseline(rgb, measurement.trichoscopy, baseline_rgb=baseline_rgb)


def _registered(
    item: _Measured, rgb: np.ndarray, measurement: Measurement, baseline: _Baseline | None
) -> _Measured:
    """``item`` registered to ``baseline`` (None: it is its site's new baseline)."""
    located = locate_on_baseline(
        rgb, measurement, baseline_rgb=None if baseline is None else baseline.rgb
    )
    _store_location(
        item.photo,
        item.photo.measurements[-1],
        located,
        registered_to_id=None if baseline is None else baseline.photo_id,
    )
    registered_to = item.photo if baseline is None else baseline.photo
    return _Measured(item.filename, item.stored_bytes, item.photo, registered_to)


def _store_location(
    photo: models.Photo,
    row: models.Measurement,
    located: tuple[Registration, RegionFigures | None],
    *,
    registered_to_id: int | None,
) -> None:
    """Store where the photo lies on its baseline, and its region figures on ``row``."""
    registration, region = located
    _set_registration(photo, registration)
    photo.registered_to_id = registered_to_id
    _set_region_figures(row, region)


def _set_registration(photo: models.Photo, registration: Registration) -> None:
    """Store the match figures; a different spot becomes a quality issue of the photo."""
    matrix = registration.matrix
    photo.registration_matrix = None if matrix is None else [list(map(float, r)) for r in matrix]
    photo.registration_inliers = registration.inliers
    photo.registration_coverage = registration.reference_coverage
    photo.different_spot = not registration.same_spot
    issues = [issue for issue in photo.quality_issues if issue["code"] != DIFFERENT_SPOT]
    if not registration.same_spot:
        issues.append(different_spot_issue(registration).to_json())
    photo.quality_issues = issues
    photo.quality_ok = not issues


def _set_region_figures(row: models.Measurement, region: RegionFigures | None) -> None:
    for name in REGION_FIGURES:
        setattr(row, f"region_{name}", None if region is None else _plain(region[name]))


def _baseline_photo(
    session: Session, course_id: int, site: str, *, judged_again: tuple[int, bool] | None = None
) -> tuple[int, str, str] | None:
    """The site's baseline photo (id, sha256, extension): the first photo of the baseline
    visit at ``site`` that passed the quality gate or was accepted. ``judged_again`` (photo
    id, whether it counts) stands for that photo's stored verdict: a re-analysis picks the
    baseline by the verdict the photo is about to get."""
    counts = or_(models.Photo.quality_ok, models.Photo.accepted_despite_flags)
    if judged_again is not None:
        counts = case((models.Photo.id == judged_again[0], judged_again[1]), else_=counts)
    row = session.execute(
        select(models.Photo.id, models.Photo.sha256, models.Photo.extension)
        .join(Visit, Visit.id == models.Photo.visit_id)
        .where(
            Visit.course_id == course_id,
            Visit.session_number == 0,
            models.Photo.view == PhotoView.TRICHOSCOPY,
            models.Photo.site == site,
            counts,
        )
        .order_by(models.Photo.replicate_index)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def accept_photo(actor: Actor, photo_id: int) -> PhotoRecord:
    """Let a photo with quality flags count anyway (a clinician's judgement, audited)."""
    require_staff(actor, doing="accept flagged photos")
    with writing_session() as session:
        photo = photo_for(session, actor, photo_id, doing="accept a photo of")
        if photo.different_spot:
            raise InvalidInput(
                "This photo is of a different spot than the baseline, so it cannot count "
                "towards progress: take it again at the same spot as the baseline."
            )
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


@dataclass(frozen=True)
class Reanalysed:
    """What re-analysing a photo did: the measurement it now uses, and how the photo's
    quality verdict changed (None: it did not), e.g. ``"now flagged: underexposed"``."""

    measurement: MeasurementRecord
    verdict_change: str | None


def reanalyse_photo(
    actor: Actor, photo_id: int, *, vellus_threshold_um: float = DEFAULT_VELLUS_THRESHOLD_UM
) -> Reanalysed:
    """Measure a stored photo again with the current engine; earlier results are kept.

    The ArUco marker given at upload is looked for again (the stored pixel size is the
    fallback), and a trichoscopy photo is registered again to its site's current baseline
    photo. When this algorithm version already measured the photo with this threshold,
    that measurement is used with its region figures brought up to date, and no
    measurement is added.

    The photo's quality verdict, which decides whether it counts, follows that
    measurement: its issues are the measurement's plus a ``different_spot`` issue when
    registration finds another spot. A clinician's acceptance of a flagged photo covers the
    issues the photo had when it was last judged: it stands while the new issues are among
    those, and is withdrawn (the photo goes back to review) when re-analysis raises an
    issue nobody has looked at. A changed verdict is audited as a change of the photo.

    The site's baseline is chosen by that new verdict: a baseline-visit photo that now
    counts ahead of the current baseline becomes the baseline (registered to itself), and
    one that no longer counts gives way to the next. Re-analysing a site's baseline-visit
    photos one after another, in replicate order, thus leaves them all registered to the
    baseline their new verdicts give (:func:`tracker.services.reanalysis.plan_reanalysis`).
    """
    require_staff(actor, doing="re-analyse photos")
    with reading_session() as session:
        photo = photo_for(session, actor, photo_id, doing="re-analyse a photo of")
        upload = PhotoUpload(
            data=b"",
            view=photo.view,
            site=photo.site,
            px_per_mm=photo.px_per_mm,
            aruco_mm=photo.aruco_mm,
        )
        sha256, extension = photo.sha256, photo.extension
        judged_before = _Verdict.of(photo)
        course_id = photo.visit.course_id
    store = default_store()
    rgb = _decode(store.read(sha256, extension))
    measurement = measure(rgb, upload, vellus_threshold_um)
    baseline = None
    if upload.view is PhotoView.TRICHOSCOPY:
        new_codes = [issue.code for issue in measurement.quality.issues]
        counts_now = not new_codes or judged_before.covers(new_codes)
        with reading_session() as session:
            baseline = _baseline_photo(
                session, course_id, upload.site, judged_again=(photo_id, counts_now)
            )
    located = None
    if baseline is not None:
        baseline_rgb = None if baseline[0] == photo_id else _decode(store.read(*baseline[1:]))
        located = locate_on_baseline(rgb, measurement, baseline_rgb=baseline_rgb)
    # Stored once nothing but the short transaction can fail, so that a failed re-analysis
    # leaves no overlay behind without a row.
    overlay_png = _overlay_png(measurement.overlay_rgb)
    overlay = store.put(overlay_png, OVERLAY_EXTENSION)
    with writing_session() as session:
        photo = photo_for(session, actor, photo_id, doing="re-analyse a photo of")
        row = next(
            (
                existing
                for existing in photo.measurements
                if existing.algorithm_version == measurement.algorithm_version
                and existing.vellus_threshold_um == vellus_threshold_um
            ),
            None,
        )
        added = row is None
        if row is None:
            row = _measurement_row(measurement, vellus_threshold_um, overlay.sha256)
            photo.measurements.append(row)
        before = _Verdict.of(photo)
        _judge_again(photo, row)
        if located is not None and baseline is not None:
            _store_location(photo, row, located, registered_to_id=baseline[0])
        verdict_change = _accept_again(photo, before)
        session.flush()
        patient_id = photo.visit.course.patient_id
        if added:
            record_audit(
                session,
                actor,
                AuditAction.CREATE,
                "measurement",
                row.id,
                patient_id=patient_id,
                detail=f"re-analysis with {measurement.algorithm_version}",
            )
        changes = []
        if not added and located is not None and baseline is not None:
            changes.append(f"registered again to baseline photo {baseline[0]}")
        if verdict_change is not None:
            changes.append(f"{verdict_change} after re-analysis with {row.algorithm_version}")
        if changes:
            record_audit(
                session,
                actor,
                AuditAction.CHANGE,
                "photo",
                photo.id,
                patient_id=patient_id,
                detail="; ".join(changes),
            )
        result = Reanalysed(measurement_record(row), verdict_change)
    # A concurrent deletion of another patient whose photo had the same overlay may have
    # removed the file between our write and our commit; the row now refers to it.
    store.put(overlay_png, OVERLAY_EXTENSION)
    return result


@dataclass(frozen=True)
class _Verdict:
    """A photo's quality verdict: its issue codes, and whether a clinician accepted them."""

    codes: tuple[str, ...]
    accepted: bool

    @classmethod
    def of(cls, photo: models.Photo) -> _Verdict:
        return cls(
            tuple(issue["code"] for issue in photo.quality_issues), photo.accepted_despite_flags
        )

    def covers(self, codes: Iterable[str]) -> bool:
        """Whether this verdict's acceptance still holds for a photo with ``codes``: it was
        accepted, and each code is among those accepted. Registration, not the clinician,
        decides about a different spot (accept_photo refuses it)."""
        return self.accepted and all(code in self.codes or code == DIFFERENT_SPOT for code in codes)


def _judge_again(photo: models.Photo, row: models.Measurement) -> None:
    """The photo's issues: the measurement's, and the different-spot issue registration
    set (replaced when the photo is registered again)."""
    spot = [issue for issue in photo.quality_issues if issue["code"] == DIFFERENT_SPOT]
    photo.quality_issues = [*row.quality_issues, *spot]
    photo.quality_ok = not photo.quality_issues


def _accept_again(photo: models.Photo, before: _Verdict) -> str | None:
    """Withdraw an acceptance that does not cover the photo's new issues; how the verdict
    changed (None: the same issues, the same acceptance)."""
    after = _Verdict.of(photo)
    withdrawn = before.accepted and not before.covers(after.codes)
    if withdrawn:
        photo.accepted_despite_flags = False
        photo.accepted_by_id = None
    if set(after.codes) == set(before.codes):
        return None
    change = "now passes" if not after.codes else "now flagged: " + ", ".join(after.codes)
    if before.codes and after.codes:
        change += f" (was: {', '.join(before.codes)})"
    return change + (", acceptance withdrawn" if withdrawn else "")


def _viewed_photo(session: Session, actor: Actor, photo_id: int) -> models.Photo:
    """The photo ``actor`` may view, its viewing audited."""
    photo = photo_for(session, actor, photo_id, doing="view a photo of")
    record_audit(
        session,
        actor,
        AuditAction.VIEW,
        "photo",
        photo.id,
        patient_id=photo.visit.course.patient_id,
    )
    return photo


def photo_file(actor: Actor, photo_id: int) -> tuple[bytes, str]:
    """The stored photo's bytes and extension (``jpg`` or ``png``), for display."""
    with reading_session() as session:
        photo = _viewed_photo(session, actor, photo_id)
        sha256, extension = photo.sha256, photo.extension
    return default_store().read(sha256, extension), extension


@dataclass(frozen=True)
class ShownPhoto:
    """A photo as a before/after view shows it: ``jpeg`` bytes; ``laid_on_baseline`` when
    a follow-up close-up was laid onto its site's baseline frame; ``reference_box`` when
    the patch counted at every visit is outlined on it."""

    jpeg: bytes
    laid_on_baseline: bool
    reference_box: bool


def photo_on_baseline(actor: Actor, photo_id: int, *, long_side_px: int) -> ShownPhoto:
    """The photo, at most ``long_side_px``, for a before/after view: a close-up registered
    to its site's baseline photo is laid onto the baseline's frame
    (:func:`tracker.registration.onto_baseline`), and it and the baseline show the patch
    counted at every visit; any other photo is shown as taken."""
    with reading_session() as session:
        photo = _viewed_photo(session, actor, photo_id)
        is_baseline = photo.registered_to_id == photo.id
        baseline = (
            session.get(models.Photo, photo.registered_to_id)
            if photo.registered_to_id is not None
            and photo.registration_matrix
            and not photo.different_spot
            else None
        )
        baseline_shape = None if baseline is None else (baseline.height_px, baseline.width_px)
        matrix, sha256, extension = photo.registration_matrix, photo.sha256, photo.extension
    rgb = _decode(default_store().read(sha256, extension))
    laid_on = baseline_shape is not None and not is_baseline
    shown = (
        onto_baseline(
            rgb, np.asarray(matrix), baseline_shape=baseline_shape, long_side_px=long_side_px
        )
        if laid_on
        else shrink_to_long_side(rgb, long_side_px)
    )
    if baseline_shape is not None:
        shown = draw_reference_box(shown, baseline_shape=baseline_shape)
    buffer = io.BytesIO()
    Image.fromarray(shown).save(buffer, format="JPEG", quality=90)
    return ShownPhoto(buffer.getvalue(), laid_on, baseline_shape is not None)


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
    """Run the measuring engine on one photo, with its overlay drawn at the stored size."""
    return analyze_image(
        rgb,
        view=upload.view.value,
        px_per_mm=upload.px_per_mm,
        aruco_mm=upload.aruco_mm,
        roi=upload.roi,
        vellus_threshold_um=vellus_threshold_um,
        overlay_long_side_px=OVERLAY_LONG_SIDE_PX,
    )


def _measure_and_store(
    store: PhotoStore, upload: PhotoUpload, prepared: PreparedImage, vellus_threshold_um: float
) -> tuple[_Measured, Measurement]:
    measurement = measure(prepared.rgb, upload, vellus_threshold_um)
    overlay = store.put(_overlay_png(measurement.overlay_rgb), OVERLAY_EXTENSION)
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
        aruco_mm=upload.aruco_mm,
        original_filename=upload.filename[:255],
        quality_ok=measurement.quality.ok,
        quality_issues=[issue.to_json() for issue in measurement.quality.issues],
        accepted_despite_flags=False,
        measurements=[_measurement_row(measurement, vellus_threshold_um, overlay.sha256)],
    )
    return _Measured(upload.filename, prepared.stored_bytes, photo), measurement


def _save_photos(actor: Actor, visit_id: int, measured: list[_Measured]) -> list[PhotoAddResult]:
    if not measured:
        return []
    with writing_session() as session:
        # Locking the visit serialises concurrent uploads to it (SQLite's BEGIN IMMEDIATE
        # already does), so replicate numbers are handed out once each.
        session.execute(select(Visit.id).where(Visit.id == visit_id).with_for_update())
        visit = visit_for(session, actor, visit_id, doing="add photos for")
        _check_photography_allowed(visit)
        stored = [_save_photo(session, visit, item) for item in measured]
        # Photos registered to a baseline of this batch name it once it has an id (a
        # baseline already stored under another upload's name is that stored photo).
        pairs = list(zip(measured, stored, strict=True))
        row_ids = {id(item.photo): (dup or item.photo).id for item, dup in pairs}
        for item, dup in pairs:
            if dup is None and item.registered_to is not None:
                item.photo.registered_to_id = row_ids[id(item.registered_to)]
        session.flush()
        results = [
            PhotoAddResult(item.filename, "added", photo_record(item.photo))
            if dup is None
            else PhotoAddResult(
                item.filename,
                "duplicate",
                photo_record(dup),
                f"the same photo is already stored for this visit as photo {dup.id}",
            )
            for item, dup in pairs
        ]
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


def _save_photo(session: Session, visit: Visit, item: _Measured) -> models.Photo | None:
    """Insert the item's photo row; if the same file is already stored for this visit,
    insert nothing and return that photo."""
    photo = item.photo
    existing = session.scalar(
        select(models.Photo).where(
            models.Photo.visit_id == visit.id, models.Photo.sha256 == photo.sha256
        )
    )
    if existing is not None:
        return existing
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
    return None


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


def settings_problem(upload: PhotoUpload) -> str | None:
    """Why ``upload``'s view, site or calibration cannot be right, or None (its file is
    judged on reading it)."""
    if upload.view is PhotoView.GLOBAL and upload.site not in GLOBAL_SITES:
        return f"A global photo's view is one of {', '.join(GLOBAL_SITES)}."
    if upload.view is PhotoView.TRICHOSCOPY and not upload.site.strip():
        return "A trichoscopy photo needs the name of its target site."
    return None if upload.px_per_mm is None else implausible_px_per_mm(upload.px_per_mm)


def _restore_missing_files(store: PhotoStore, measured: list[_Measured]) -> None:
    # A concurrent patient deletion may have removed a file with the same content
    # between our write and our commit; the rows now refer to it, so put it back.
    for item in measured:
        store.put(item.stored_bytes, item.photo.extension)


def _overlay_png(rgb: np.ndarray) -> bytes:
    """The overlay (H, W, 3) uint8 as the PNG the app shows, at most
    ``OVERLAY_LONG_SIDE_PX`` on its long side: a screen shows no more, and writing a
    12-megapixel PNG cost more CPU than measuring the photo."""
    shown = shrink_to_long_side(np.ascontiguousarray(rgb, dtype=np.uint8), OVERLAY_LONG_SIDE_PX)
    encoded, png = cv2.imencode(
        ".png", cv2.cvtColor(shown, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3]
    )
    if not encoded:  # an in-memory PNG of a valid array always encodes
        raise RuntimeError("the overlay could not be encoded as PNG")
    return png.tobytes()


def _decode(stored_bytes: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(stored_bytes)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
