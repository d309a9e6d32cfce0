"""Calibration: px/mm from a device value or from an ArUco marker pasted at a known scale."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tracker.imaging.calibration import DEFAULT_ARUCO_DICTIONARY, calibrate, detect_marker
from tracker.phantoms import TrichoscopyConditions, make_trichoscopy_scene, render_trichoscopy

MARKER_CELLS = 6  # a 4×4-bit marker is 6 cells wide with its black border


def paste_marker(
    rgb: np.ndarray,
    *,
    side_px: float,
    angle_deg: float,
    centre_xy: tuple[float, float],
    marker_id: int = 7,
) -> tuple[np.ndarray, np.ndarray]:
    """``rgb`` with an ArUco marker (and a one-cell white margin) of ``side_px`` pixels,
    turned by ``angle_deg`` about ``centre_xy``; also the (4, 2) true corners (x, y)."""
    cell_px = 100
    marker = cv2.aruco.generateImageMarker(
        cv2.aruco.getPredefinedDictionary(DEFAULT_ARUCO_DICTIONARY),
        marker_id,
        MARKER_CELLS * cell_px,
    )
    sticker = np.pad(marker, cell_px, constant_values=255)
    centre = np.array(sticker.shape[::-1], dtype=float) / 2
    matrix = cv2.getRotationMatrix2D(tuple(centre), angle_deg, side_px / (MARKER_CELLS * cell_px))
    matrix[:, 2] += np.asarray(centre_xy) - centre
    height, width = rgb.shape[:2]
    grey = cv2.warpAffine(sticker, matrix, (width, height), flags=cv2.INTER_AREA)
    inside = cv2.warpAffine(np.ones_like(sticker), matrix, (width, height), flags=cv2.INTER_NEAREST)
    pasted = rgb.copy()
    pasted[inside > 0] = grey[inside > 0, None]
    # The marker's corners in the sticker's pixel-edge coordinates, moved like the pixels.
    corners = (
        np.array(
            [
                [cell_px, cell_px],
                [cell_px * 7, cell_px],
                [cell_px * 7, cell_px * 7],
                [cell_px, cell_px * 7],
            ],
            dtype=float,
        )
        - 0.5
    )
    return pasted, corners @ matrix[:, :2].T + matrix[:, 2]


@pytest.fixture(scope="module")
def scalp() -> np.ndarray:
    scene = make_trichoscopy_scene(seed=3, field_mm=(10.0, 8.0))
    rgb, _truth = render_trichoscopy(
        scene,
        px_per_mm=100.0,
        size_px=(960, 720),
        conditions=TrichoscopyConditions(noise_sigma=0.01),
    )
    return rgb


@pytest.mark.parametrize(
    ("marker_mm", "angle_deg", "centre_xy"),
    [(2.0, 23.0, (480.0, 360.0)), (1.5, -67.0, (250.0, 220.0)), (3.0, 141.0, (600.0, 400.0))],
)
def test_marker_gives_px_per_mm_within_one_percent(
    scalp: np.ndarray, marker_mm: float, angle_deg: float, centre_xy: tuple[float, float]
) -> None:
    true_px_per_mm = 100.0
    rgb, corners = paste_marker(
        scalp, side_px=marker_mm * true_px_per_mm, angle_deg=angle_deg, centre_xy=centre_xy
    )

    calibration = calibrate(rgb, aruco_mm=marker_mm)

    assert calibration.source == "aruco"
    assert calibration.px_per_mm == pytest.approx(true_px_per_mm, rel=0.01)
    assert calibration.marker is not None
    assert calibration.marker.marker_id == 7
    # Same corners in any cyclic order: each detected corner is near a true one.
    distances = np.linalg.norm(calibration.marker.corners_xy[:, None] - corners[None], axis=2)
    assert distances.min(axis=1).max() < 2.0
    assert calibration.notes == ()


def test_exclusion_mask_covers_the_marker_and_its_margin_only(scalp: np.ndarray) -> None:
    rgb, corners = paste_marker(scalp, side_px=200.0, angle_deg=30.0, centre_xy=(480.0, 360.0))
    calibration = calibrate(rgb, aruco_mm=2.0)
    mask = calibration.exclude_mask
    assert mask is not None and mask.shape == rgb.shape[:2] and mask.dtype == bool
    for x, y in corners:
        assert mask[round(y), round(x)]
    assert mask[360, 480]
    marker_area = 200.0**2
    assert 1.5 * marker_area < mask.sum() < 3.0 * marker_area
    assert not mask[0, 0] and not mask[-1, -1]


def test_large_photo_is_detected_on_a_reduced_copy_and_refined_at_full_size() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(150, 190, (1800, 2400, 3), dtype=np.uint8)
    pasted, _corners = paste_marker(rgb, side_px=603.7, angle_deg=12.0, centre_xy=(900.0, 1000.0))
    marker = detect_marker(pasted)
    assert marker is not None
    assert marker.side_px == pytest.approx(603.7, rel=0.005)


def test_device_value_is_used_without_a_marker(scalp: np.ndarray) -> None:
    calibration = calibrate(scalp, px_per_mm=95.0)
    assert (calibration.px_per_mm, calibration.source) == (95.0, "device")
    assert calibration.exclude_mask is None
    assert calibration.notes == ()


def test_missing_marker_falls_back_to_the_device_value_and_says_so(scalp: np.ndarray) -> None:
    calibration = calibrate(scalp, px_per_mm=95.0, aruco_mm=2.0)
    assert (calibration.px_per_mm, calibration.source) == (95.0, "device")
    assert any("No ArUco marker" in note for note in calibration.notes)


def test_marker_wins_over_the_device_value(scalp: np.ndarray) -> None:
    rgb, _corners = paste_marker(scalp, side_px=200.0, angle_deg=10.0, centre_xy=(480.0, 360.0))
    calibration = calibrate(rgb, px_per_mm=50.0, aruco_mm=2.0)
    assert calibration.source == "aruco"
    assert calibration.px_per_mm == pytest.approx(100.0, rel=0.01)


def test_without_calibration_the_result_says_what_is_missing(scalp: np.ndarray) -> None:
    for calibration in (calibrate(scalp), calibrate(scalp, aruco_mm=2.0)):
        assert calibration.px_per_mm is None and calibration.source is None
        assert any("Uncalibrated" in note for note in calibration.notes)


@pytest.mark.parametrize("bad", [0.0, -3.0, float("nan"), float("inf")])
def test_nonsense_sizes_are_refused(scalp: np.ndarray, bad: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        calibrate(scalp, px_per_mm=bad)
    with pytest.raises(ValueError, match="positive"):
        calibrate(scalp, aruco_mm=bad)
