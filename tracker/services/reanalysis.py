"""Re-measuring a clinic's stored photos with the current engine, after an upgrade.

A photo is *stale* when its latest measurement, the one progress and the exports show, is
not of :data:`tracker.analysis.ALGORITHM_VERSION`. Each photo goes through
:func:`tracker.services.photos.reanalyse_photo` (access check, ArUco marker looked for
again, registration to its site's baseline, quality verdict of the new measurement, audit
entries) in a transaction of its own, so an interrupted run loses nothing already saved
and a second run carries on where it stopped. The photos of baseline visits are
re-measured first, replicate by replicate (a photo's new verdict may make another the
site's baseline), so that the later photos are registered to baselines that are already
up to date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

import db
from models import Measurement, Patient, Photo, Role, TreatmentCourse, Visit
from tracker.analysis import ALGORITHM_VERSION
from tracker.batch import map_in_waves
from tracker.services import photos
from tracker.services.access import Actor, reading_session, require_role
from tracker.services.errors import ServiceError

Status = Literal["re-measured", "unchanged", "failed"]


@dataclass(frozen=True)
class StoredPhoto:
    """A photo to re-measure, as its latest measurement left it (``version`` None: never
    measured). ``current`` says whether the current engine already measured it with that
    threshold, so that re-measuring it adds nothing."""

    photo_id: int
    version: str | None
    vellus_threshold_um: float
    current: bool


@dataclass(frozen=True)
class ReanalysisPlan:
    """A clinic's photos to re-measure, in waves each started once the one before is done:
    the baseline visits' photos of replicate 0, of replicate 1, ..., then the later visits'
    photos, each wave in course, session, view, site and replicate order. A site's baseline
    photos are thus judged one after another, so each is registered to the baseline that
    the verdicts of those before it give."""

    waves: tuple[tuple[StoredPhoto, ...], ...]
    # Photos left alone because their latest measurement is of the current engine.
    up_to_date: int

    @property
    def photo_count(self) -> int:
        return sum(len(wave) for wave in self.waves)


@dataclass(frozen=True)
class ReanalysisOutcome:
    """What re-measuring one photo did; ``detail`` is the version change or the reason it
    failed, ``verdict_change`` how its quality verdict changed (None: it did not), for an
    administrator to review."""

    photo_id: int
    status: Status
    detail: str
    verdict_change: str | None = None


def plan_reanalysis(actor: Actor, *, every_photo: bool = False) -> ReanalysisPlan:
    """The clinic's stale photos (every photo with ``every_photo``), for its admins."""
    require_role(actor, Role.ADMIN, doing="re-analyse the clinic's photos")
    with reading_session() as session:
        rows = session.execute(
            select(
                Photo.id,
                Visit.session_number,
                Photo.replicate_index,
                Measurement.algorithm_version,
                Measurement.vellus_threshold_um,
            )
            .join(Visit, Visit.id == Photo.visit_id)
            .join(TreatmentCourse, TreatmentCourse.id == Visit.course_id)
            .join(Patient, Patient.id == TreatmentCourse.patient_id)
            .outerjoin(Measurement, Measurement.photo_id == Photo.id)
            .where(Patient.clinic_id == actor.clinic_id)
            .order_by(
                Visit.course_id,
                Visit.session_number,
                Photo.view,
                Photo.site,
                Photo.replicate_index,
                Measurement.id,
            )
        ).all()
    latest: dict[int, tuple[int, int, str | None, float | None]] = {}
    measured_now: set[tuple[int, float]] = set()
    for photo_id, session_number, replicate, version, threshold in rows:
        # Oldest measurement first: the last row of a photo is its latest measurement.
        latest[photo_id] = (session_number, replicate, version, threshold)
        if version == ALGORITHM_VERSION:
            measured_now.add((photo_id, threshold))
    baseline_visits: dict[int, list[StoredPhoto]] = {}
    later_visits: list[StoredPhoto] = []
    for photo_id, (session_number, replicate, version, threshold) in latest.items():
        if version == ALGORITHM_VERSION and not every_photo:
            continue
        threshold = photos.DEFAULT_VELLUS_THRESHOLD_UM if threshold is None else threshold
        stored = StoredPhoto(photo_id, version, threshold, (photo_id, threshold) in measured_now)
        if session_number == 0:
            baseline_visits.setdefault(replicate, []).append(stored)
        else:
            later_visits.append(stored)
    waves = [tuple(baseline_visits[replicate]) for replicate in sorted(baseline_visits)]
    return ReanalysisPlan(
        waves=(*waves, tuple(later_visits)),
        up_to_date=len(latest) - sum(len(wave) for wave in waves) - len(later_visits),
    )


def reanalyse_photos(
    actor: Actor,
    plan: ReanalysisPlan,
    *,
    workers: int = 1,
    on_done: Callable[[ReanalysisOutcome], object] = lambda _outcome: None,
) -> list[ReanalysisOutcome]:
    """Re-measure the plan's photos, ``workers`` processes at a time, each saved as soon as
    it is measured; ``on_done`` gets each outcome as it arrives. One photo that cannot be
    re-measured is a ``failed`` outcome with its reason and does not stop the others."""
    require_role(actor, Role.ADMIN, doing="re-analyse the clinic's photos")
    waves = [[(actor, photo) for photo in wave] for wave in plan.waves]
    done = map_in_waves(
        reanalyse_stored_photo,
        waves,
        workers=workers,
        initializer=db.configure,
        initargs=(db.configured_url(),),
        on_done=on_done,
    )
    return [outcome for wave in done for outcome in wave]


def reanalyse_stored_photo(actor: Actor, photo: StoredPhoto) -> ReanalysisOutcome:
    """Re-measure one photo of a plan (what each worker process runs)."""
    try:
        done = photos.reanalyse_photo(
            actor, photo.photo_id, vellus_threshold_um=photo.vellus_threshold_um
        )
    except OSError as error:
        return ReanalysisOutcome(
            photo.photo_id, "failed", f"cannot read the stored photo: {error.strerror or error}"
        )
    except (ServiceError, ValueError) as error:
        return ReanalysisOutcome(photo.photo_id, "failed", str(error))
    version = done.measurement.algorithm_version
    if photo.current:
        return ReanalysisOutcome(
            photo.photo_id, "unchanged", f"already measured by {version}", done.verdict_change
        )
    return ReanalysisOutcome(
        photo.photo_id,
        "re-measured",
        f"{photo.version or 'none'} -> {version}",
        done.verdict_change,
    )
