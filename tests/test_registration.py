from __future__ import annotations

import cv2
import numpy as np
import pytest

from tracker.imaging.trichoscopy import (
    HIDDEN_HAIRS_PER_UNTRACED_SHARE,
    TracedHair,
    TrichoscopyResult,
)
from tracker.registration import (
    figures_in_region,
    identity_registration,
    onto_baseline,
    reference_region,
    region_in_photo,
    register,
)

FIELD_PX = 1000
CROP = slice(200, 800)


def hairy_field(seed: int) -> np.ndarray:
    """A wide skin-coloured field of dark curved strokes, larger than one photo."""
    rng = np.random.default_rng(seed)
    field = np.full((FIELD_PX, FIELD_PX, 3), (200, 160, 140), np.uint8)
    for _ in range(300):
        x, y = rng.uniform(0, FIELD_PX, 2)
        angle, length = rng.uniform(0, np.pi), rng.uniform(30, 150)
        end = (x + length * np.cos(angle), y + length * np.sin(angle))
        bend = (end[0] + rng.normal(0, 15), end[1] + 0.3 * length)
        points = np.array([(x, y), end, bend], np.int32)
        cv2.polylines(field, [points], False, (40, 30, 25), int(rng.integers(2, 6)), cv2.LINE_AA)
    noisy = cv2.GaussianBlur(field, (3, 3), 0) + rng.normal(0, 4, field.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def moved_photo(field: np.ndarray, *, degrees: float, shift_px: tuple[float, float]):
    """The photo after turning the field about its centre and shifting it; and that map."""
    field_map = cv2.getRotationMatrix2D((FIELD_PX / 2, FIELD_PX / 2), degrees, 1.0)
    field_map[:, 2] += shift_px
    moved = cv2.warpAffine(field, field_map, (FIELD_PX, FIELD_PX))[CROP, CROP]
    # Dimmer and warmer light at the follow-up visit.
    relit = moved.astype(float) * (0.8, 0.75, 0.7) + 12
    return np.clip(relit, 0, 255).astype(np.uint8), field_map


def test_recovers_a_known_rotation_and_shift() -> None:
    field = hairy_field(1)
    baseline = field[CROP, CROP]
    photo, field_map = moved_photo(field, degrees=4.0, shift_px=(25.0, -18.0))
    registration = register(baseline, photo)
    assert registration.same_spot, registration.reason
    assert registration.matrix is not None
    angle = np.degrees(np.arctan2(registration.matrix[1, 0], registration.matrix[0, 0]))
    assert angle == pytest.approx(4.0, abs=0.2)
    # A baseline pixel b sits at field_map(b + 200) − 200 in the photo; mapping back gives b.
    baseline_points = np.array([[100.0, 100.0], [300.0, 450.0], [500.0, 200.0]])
    homogeneous = np.c_[baseline_points + 200, np.ones(3)]
    photo_points = homogeneous @ field_map.T - 200
    recovered = np.c_[photo_points, np.ones(3)] @ registration.matrix.T
    np.testing.assert_allclose(recovered, baseline_points, atol=1.5)
    assert registration.reference_coverage == 1.0


def test_a_moved_photo_laid_onto_the_baseline_shows_the_same_patch_in_the_same_place() -> None:
    field = hairy_field(1)
    baseline = field[CROP, CROP]
    photo, field_map = moved_photo(field, degrees=4.0, shift_px=(25.0, -18.0))
    # Photo pixel p is field pixel field_map⁻¹(p + 200), baseline pixel that minus 200.
    to_field = cv2.invertAffineTransform(field_map)
    matrix = to_field.copy()
    matrix[:, 2] += to_field[:, :2] @ [200.0, 200.0] - 200.0

    shown = onto_baseline(photo, matrix, baseline_shape=baseline.shape[:2], long_side_px=300)
    assert shown.shape == (300, 300, 3)
    expected = cv2.resize(baseline, (300, 300), interpolation=cv2.INTER_AREA).astype(float)
    expected = expected * (0.8, 0.75, 0.7) + 12  # the follow-up's light
    centre = slice(60, 240)
    darkness = 255 - expected[centre, centre].mean(axis=2)
    error = np.abs(shown[centre, centre].astype(float) - expected[centre, centre]).mean(axis=2)
    assert error.mean() < 0.1 * darkness.mean()
    # Unmoved, the hairs would lie elsewhere: the error is many times larger.
    unmoved = cv2.resize(photo, (300, 300), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(unmoved - expected)[centre, centre].mean() > 3 * error.mean()
    # Where the photo does not reach (a pixel clear of its edge), the frame is grey.
    footprint = cv2.warpAffine(
        np.ones(photo.shape[:2], np.uint8), matrix * [[1, 1, 0.5], [1, 1, 0.5]], (300, 300)
    )
    outside = cv2.dilate(footprint, np.ones((3, 3), np.uint8)) == 0
    assert outside.sum() > 1000
    assert (shown[outside] == 128).all()


def test_large_photos_are_matched_on_a_reduced_copy_but_mapped_in_full_pixels() -> None:
    field = hairy_field(1)
    baseline = field[CROP, CROP]
    photo, _ = moved_photo(field, degrees=4.0, shift_px=(25.0, -18.0))
    small = register(baseline, photo)

    def enlarged(rgb: np.ndarray) -> np.ndarray:
        return cv2.resize(rgb, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)

    large = register(enlarged(baseline), enlarged(photo))

    assert large.same_spot, large.reason
    assert small.matrix is not None and large.matrix is not None
    # Rotation and scale are the same; the shift is 2.5 × as many pixels.
    np.testing.assert_allclose(large.matrix[:, :2], small.matrix[:, :2], atol=0.01)
    np.testing.assert_allclose(large.matrix[:, 2], 2.5 * small.matrix[:, 2], atol=4.0)


def test_reference_region_is_found_again_in_the_moved_photo() -> None:
    field = hairy_field(1)
    baseline = field[CROP, CROP]
    photo, _ = moved_photo(field, degrees=-3.0, shift_px=(-30.0, 20.0))
    registration = register(baseline, photo)
    mask = region_in_photo(
        registration, baseline_shape=baseline.shape[:2], photo_shape=photo.shape[:2]
    )
    # A rigid move keeps the area; the region was chosen to stay inside the photo.
    assert mask.sum() == pytest.approx(reference_region(baseline.shape[:2]).sum(), rel=0.02)
    # Its centre moved with the photo's shift (the field turned about the photo's centre).
    rows, cols = np.nonzero(mask)
    assert (cols.mean(), rows.mean()) == pytest.approx((300 - 30, 300 + 20), abs=2)

    def darkness(rgb: np.ndarray, region: np.ndarray) -> float:
        return float(255.0 - rgb[region].mean())

    # The same strokes fall inside the region in both photos (the photo is only relit).
    relit_baseline = np.clip(baseline.astype(float) * (0.8, 0.75, 0.7) + 12, 0, 255)
    assert darkness(photo, mask) == pytest.approx(
        darkness(relit_baseline, reference_region(baseline.shape[:2])), abs=1.0
    )


def test_baseline_to_itself_is_the_whole_reference_region() -> None:
    shape = (600, 600)
    mask = region_in_photo(identity_registration(), baseline_shape=shape, photo_shape=shape)
    assert np.array_equal(mask, reference_region(shape))
    assert mask.mean() == pytest.approx(0.7**2)


def test_a_different_spot_is_flagged() -> None:
    baseline = hairy_field(1)[CROP, CROP]
    elsewhere = hairy_field(2)[CROP, CROP]
    registration = register(baseline, elsewhere)
    assert not registration.same_spot
    assert registration.reason is not None and registration.reason.startswith("different spot")
    with pytest.raises(ValueError, match="different spot"):
        region_in_photo(registration, baseline_shape=(600, 600), photo_shape=(600, 600))


def test_a_photo_missing_part_of_the_reference_region_is_flagged() -> None:
    field = hairy_field(1)
    baseline = field[CROP, CROP]
    # Shifted by 250 px: the photo holds only x ≥ 250 of the baseline frame, 260 of the
    # reference region's 420 columns (90–510).
    photo, _ = moved_photo(field, degrees=0.0, shift_px=(-250.0, 0.0))
    registration = register(baseline, photo)
    assert registration.matrix is not None  # the shared part still matches...
    assert registration.reference_coverage == pytest.approx(260 / 420, abs=0.01)
    assert not registration.same_spot  # ...but the region cannot be measured on it
    assert "reference region" in str(registration.reason)


def traced(x: float, y: float, *, width_um: float, counted: bool = True) -> TracedHair:
    """A 20 px horizontal trace with its midpoint at (x, y)."""
    return TracedHair(
        start_px=(x - 10, y),
        end_px=(x + 10, y),
        length_px=20.0,
        width_px=3.0,
        width_um=width_um,
        vellus=width_um < 30.0,
        unit=0,
        counted=counted,
    )


def region_result(untraced_share: float) -> TrichoscopyResult:
    hairs = (
        traced(30, 30, width_um=60),
        traced(35, 55, width_um=60),
        traced(65, 40, width_um=20),  # reaches past the edge; its midpoint is inside
        traced(75, 40, width_um=80),  # midpoint outside
        traced(40, 50, width_um=70, counted=False),  # the engine did not count it
    )
    return TrichoscopyResult(
        figures={},
        widths_um=(),
        hairs=hairs,
        unit_centres_px=(),
        analysed_rows=(0, 100),
        px_per_mm=50.0,
        untraced_share=untraced_share,
        long_length_mm=0.4,
    )


def region_of_1_mm2() -> np.ndarray:
    region = np.zeros((100, 100), dtype=bool)
    region[20:70, 20:70] = True  # 2500 px at 50 px/mm = 1 mm² = 0.01 cm²
    return region


def test_figures_in_region_count_hairs_by_their_midpoint() -> None:
    figures = figures_in_region(region_result(0.0), region_of_1_mm2(), px_per_mm=50.0)
    assert figures["area_cm2"] == pytest.approx(0.01)
    assert figures["hair_count"] == 3
    assert figures["density_per_cm2"] == pytest.approx(300.0)
    assert figures["terminal_count"] == 2
    assert figures["vellus_fraction"] == pytest.approx(1 / 3)
    assert figures["mean_width_um"] == pytest.approx((60 + 60 + 20) / 3)


def test_figures_in_region_add_the_hairs_hidden_by_the_photos_untraced_hair() -> None:
    # Untraced hair in the photo hides a third more hairs than the three traced here.
    untraced_share = 1 / (3 * HIDDEN_HAIRS_PER_UNTRACED_SHARE)
    figures = figures_in_region(region_result(untraced_share), region_of_1_mm2(), px_per_mm=50.0)
    assert figures["hair_count"] == 4
    assert figures["density_per_cm2"] == pytest.approx(400.0)
    assert figures["terminal_count"] == 3
    assert figures["vellus_fraction"] == pytest.approx(1 / 3)
