"""Photos added through the services are measured by the real engine, and reproducibly;
trichoscopy photos are registered to their site's baseline photo."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pytest
from PIL import Image

from models import HairCondition, PhotoView
from tests.conftest import ClinicStaff
from tests.test_calibration import paste_marker
from tracker.analysis import ALGORITHM_VERSION, analyze_image
from tracker.imaging.intake import prepare_image
from tracker.phantoms import (
    TrichoscopyConditions,
    TrichoscopyScene,
    make_trichoscopy_scene,
    render_trichoscopy,
)
from tracker.services import patients, photos, visits
from tracker.services.errors import InvalidInput
from tracker.services.progress import get_patient_progress
from tracker.services.records import CourseInput, PatientInput, PhotoUpload, VisitInput

PX_PER_MM = 80.0


# The database side of adding photos runs on both backends elsewhere; the engine is slow
# enough on a shared machine that this check runs once.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_add_photo_stores_the_engines_figures(clinic: ClinicStaff) -> None:
    scene = make_trichoscopy_scene(seed=3, density_per_cm2=180.0)
    rgb, truth = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=(640, 640))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    patient = patients.register_patient(
        clinic.clinician,
        PatientInput(
            "P1", "Name", "female", HairCondition.ANDROGENETIC_ALOPECIA, consent_photography=True
        ),
    )
    course = visits.start_course(clinic.clinician, patient.id, CourseInput(4, 7, date(2026, 1, 5)))
    visit = visits.record_visit(clinic.clinician, course.id, VisitInput(0, date(2026, 1, 5)))

    (result,) = photos.add_photos(
        clinic.clinician,
        visit.id,
        [PhotoUpload(buffer.getvalue(), PhotoView.TRICHOSCOPY, "vertex", px_per_mm=PX_PER_MM)],
    )

    assert result.status == "added" and result.photo is not None
    (measurement,) = result.photo.measurements
    assert measurement.algorithm_version == ALGORITHM_VERSION
    expected = analyze_image(
        prepare_image(buffer.getvalue()).rgb, view="trichoscopy", px_per_mm=PX_PER_MM
    )
    assert measurement.figures == expected.figures
    assert measurement.widths_um == expected.widths_um
    # A plausibility check only; the engine's accuracy is measured by its own tests.
    assert 0.5 * truth.hair_count <= measurement.figures["hair_count"] <= 1.5 * truth.hair_count
    assert result.photo.quality_ok == expected.quality.ok
    # Re-analysis by the same engine version finds the stored result and adds nothing.
    again = photos.reanalyse_photo(clinic.clinician, result.photo.id)
    assert again.measurement.id == measurement.id and again.verdict_change is None


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def _course_with_visits(clinic: ClinicStaff, sessions: int) -> list[int]:
    patient = patients.register_patient(
        clinic.clinician,
        PatientInput(
            "P2", "Name", "male", HairCondition.ANDROGENETIC_ALOPECIA, consent_photography=True
        ),
    )
    course = visits.start_course(clinic.clinician, patient.id, CourseInput(4, 7, date(2026, 1, 5)))
    return [
        visits.record_visit(clinic.clinician, course.id, VisitInput(n, date(2026, 1, 5 + 7 * n))).id
        for n in range(sessions)
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_follow_up_photos_are_registered_to_the_sites_baseline(clinic: ClinicStaff) -> None:
    field_mm = 640 / PX_PER_MM + 3.0
    scene = make_trichoscopy_scene(seed=5, density_per_cm2=160.0, field_mm=(field_mm, field_mm))
    elsewhere = make_trichoscopy_scene(seed=6, density_per_cm2=160.0, field_mm=(field_mm, field_mm))

    def shot(of: TrichoscopyScene, **pose: object) -> PhotoUpload:
        rgb, _truth = render_trichoscopy(
            of, px_per_mm=PX_PER_MM, size_px=(640, 640), conditions=TrichoscopyConditions(**pose)
        )
        return PhotoUpload(_png(rgb), PhotoView.TRICHOSCOPY, "vertex", px_per_mm=PX_PER_MM)

    baseline_visit, follow_up_visit = _course_with_visits(clinic, 2)
    baseline, replicate = photos.add_photos(
        clinic.clinician, baseline_visit, [shot(scene), shot(scene, shift_mm=(0.1, 0.0))]
    )
    same, other = photos.add_photos(
        clinic.clinician,
        follow_up_visit,
        [shot(scene, shift_mm=(0.4, -0.3), rotation_deg=3.0, exposure=0.9), shot(elsewhere)],
    )

    assert baseline.photo is not None and replicate.photo is not None
    assert same.photo is not None and other.photo is not None
    # The baseline is registered to itself; every other photo of the site to it.
    assert baseline.photo.registered_to_id == baseline.photo.id
    assert (baseline.photo.registration_coverage, baseline.photo.different_spot) == (1.0, False)
    for photo in (replicate.photo, same.photo, other.photo):
        assert photo.registered_to_id == baseline.photo.id
    assert same.photo.different_spot is False and same.photo.usable
    assert same.photo.registration_inliers is not None and same.photo.registration_inliers >= 25
    # Progress counts on the same patch of scalp: the baseline frame's central region.
    region = {p.id: p.latest_measurement.region_figures for p in (baseline.photo, same.photo)}
    expected_cm2 = (640 * 0.7 / PX_PER_MM) ** 2 / 100
    for figures in region.values():
        assert figures is not None
        assert figures["area_cm2"] == pytest.approx(expected_cm2, rel=0.02)

    # Before/after views show the follow-up laid onto the baseline's frame: the same hairs
    # in the same place, closer to the baseline than the photo as taken.
    def shown(photo_id: int) -> tuple[np.ndarray, tuple[bool, bool]]:
        view = photos.photo_on_baseline(clinic.clinician, photo_id, long_side_px=320)
        image = np.asarray(Image.open(io.BytesIO(view.jpeg)).convert("L"), float)
        return image, (view.laid_on_baseline, view.reference_box)

    baseline_shown, baseline_flags = shown(baseline.photo.id)
    same_shown, same_flags = shown(same.photo.id)
    other_shown, other_flags = shown(other.photo.id)
    # The baseline and the follow-up show the counted patch; the photo elsewhere neither.
    laid_on_and_boxed = (baseline_flags, same_flags, other_flags)
    assert laid_on_and_boxed == ((False, True), (True, True), (False, False))
    box_edge = baseline_shown[48:272, 48]  # the box's left side: 15 % in from 320 px
    assert np.abs(box_edge - 255).max() < 40 and np.median(other_shown[48:272, 48]) < 230
    assert baseline_shown.shape == same_shown.shape == (320, 320)
    as_taken = np.asarray(
        Image.open(io.BytesIO(photos.photo_file(clinic.clinician, same.photo.id)[0]))
        .convert("L")
        .resize((320, 320), Image.Resampling.BOX),
        float,
    )
    centre = (slice(60, 260), slice(60, 260))

    def agreement(image: np.ndarray) -> float:  # the follow-up was shot darker: correlation
        return float(np.corrcoef(image[centre].ravel(), baseline_shown[centre].ravel())[0, 1])

    assert agreement(same_shown) > 0.9
    assert agreement(as_taken) < 0.5

    assert other.photo.different_spot is True
    assert not other.photo.usable
    (issue,) = other.photo.quality_issues
    assert issue.code == "different_spot"
    assert issue.message.endswith("use the same spot as the baseline.")
    assert other.photo.latest_measurement.region_figures is None
    with pytest.raises(InvalidInput, match="same spot as the baseline"):
        photos.accept_photo(clinic.clinician, other.photo.id)
    progress = get_patient_progress(clinic.clinician, patient_id_of(clinic, "P2"))
    assert {p.photo_id for p in progress.photos} == {
        baseline.photo.id,
        replicate.photo.id,
        same.photo.id,
    }
    (site,) = progress.sites
    assert site.registered
    assert site.headline.points[-1].mean == pytest.approx(
        region[same.photo.id]["density_per_cm2"]  # type: ignore[index]
    )


def patient_id_of(clinic: ClinicStaff, code: str) -> int:
    return patients.find_patient_by_code(clinic.clinician, code).id


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_reanalysis_looks_for_the_aruco_marker_again(clinic: ClinicStaff) -> None:
    rgb, _truth = render_trichoscopy(
        make_trichoscopy_scene(seed=3, density_per_cm2=180.0),
        px_per_mm=PX_PER_MM,
        size_px=(640, 640),
    )
    with_marker, _corners = paste_marker(
        rgb, side_px=2.0 * PX_PER_MM, angle_deg=20.0, centre_xy=(480.0, 480.0)
    )
    (visit,) = _course_with_visits(clinic, 1)
    (added,) = photos.add_photos(
        clinic.clinician,
        visit,
        [PhotoUpload(_png(with_marker), PhotoView.TRICHOSCOPY, "vertex", aruco_mm=2.0)],
    )
    assert added.photo is not None
    first = added.photo.latest_measurement
    assert first is not None and first.px_per_mm_source == "aruco"

    # A new threshold makes a new measurement, measured afresh.
    again = photos.reanalyse_photo(
        clinic.clinician, added.photo.id, vellus_threshold_um=35.0
    ).measurement

    assert again.id != first.id
    assert again.px_per_mm_source == "aruco"
    assert again.px_per_mm == pytest.approx(first.px_per_mm)
    # The marker is kept out of the measured area again.
    assert again.figures["area_cm2"] == pytest.approx(first.figures["area_cm2"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_photo_added_before_its_baseline_is_registered_on_reanalysis(
    clinic: ClinicStaff,
) -> None:
    field_mm = 640 / PX_PER_MM + 3.0
    scene = make_trichoscopy_scene(seed=8, density_per_cm2=170.0, field_mm=(field_mm, field_mm))

    def upload(**pose: object) -> PhotoUpload:
        rgb, _truth = render_trichoscopy(
            scene, px_per_mm=PX_PER_MM, size_px=(640, 640), conditions=TrichoscopyConditions(**pose)
        )
        return PhotoUpload(_png(rgb), PhotoView.TRICHOSCOPY, "vertex", px_per_mm=PX_PER_MM)

    baseline_visit, follow_up_visit = _course_with_visits(clinic, 2)
    (early,) = photos.add_photos(clinic.clinician, follow_up_visit, [upload(shift_mm=(0.3, 0.2))])
    assert early.photo is not None
    assert (early.photo.registered_to_id, early.photo.different_spot) == (None, None)
    assert early.photo.latest_measurement.region_figures is None
    (baseline,) = photos.add_photos(clinic.clinician, baseline_visit, [upload()])
    assert baseline.photo is not None

    again = photos.reanalyse_photo(clinic.clinician, early.photo.id).measurement

    # The same engine version: the measurement is kept, its region figures filled in.
    assert again.id == early.photo.latest_measurement.id
    assert again.region_figures is not None
    progress = get_patient_progress(clinic.clinician, patient_id_of(clinic, "P2"))
    (site,) = progress.sites
    assert site.registered
    (photo,) = [
        p
        for p in patients.patient_file(clinic.clinician, patient_id_of(clinic, "P2"))
        .courses[-1]
        .visits[-1]
        .photos
    ]
    assert photo.registered_to_id == baseline.photo.id and photo.different_spot is False


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_large_photos_overlay_is_stored_at_screen_size(
    clinic: ClinicStaff, quick_measure: None
) -> None:
    (visit_id,) = _course_with_visits(clinic, 1)
    rgb = np.random.default_rng(5).integers(60, 200, (2400, 3200, 3), dtype=np.uint8)

    (result,) = photos.add_photos(
        clinic.clinician,
        visit_id,
        [PhotoUpload(_png(rgb), PhotoView.TRICHOSCOPY, "vertex", px_per_mm=PX_PER_MM)],
    )

    assert result.photo is not None
    (measurement,) = result.photo.measurements
    overlay = Image.open(io.BytesIO(photos.overlay_file(clinic.clinician, measurement.id)))
    assert overlay.format == "PNG"
    assert overlay.size == (photos.OVERLAY_LONG_SIDE_PX, 1536)
