"""Pixel size of a photo: from the device's known value or an ArUco marker in the frame.

Density (hairs/cm²) and shaft width (µm) need pixels per millimetre. A clinic either sets it
per dermatoscope (its magnification fixes the field of view) or sticks a printed ArUco
marker of known side length on the scalp; the marker then also has to be kept out of hair
detection, so its polygon and an exclusion mask come with the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from tracker.imaging.resample import shrink_to_long_side

# 4×4-bit markers have the largest cells for a given printed size, so they stay readable
# when a few millimetres wide under a dermatoscope.
DEFAULT_ARUCO_DICTIONARY = cv2.aruco.DICT_4X4_50
# Detection runs on a copy no longer than this on its long side (speed); corners are then
# refined on the full-resolution image, so accuracy does not suffer.
DETECTION_LONG_SIDE_PX = 1600

PxPerMmSource = Literal["device", "aruco"]
# Dermatoscopes and phone attachments photograph 20-200× fields: tens to a few thousand
# pixels per mm. A device setting outside that is a typo (a mm value, an extra zero).
PLAUSIBLE_PX_PER_MM = (10.0, 5000.0)


def implausible_px_per_mm(px_per_mm: float) -> str | None:
    """Why a device setting of ``px_per_mm`` cannot be right, or None when it can."""
    low, high = PLAUSIBLE_PX_PER_MM
    if low <= px_per_mm <= high:
        return None
    return (
        f"A dermatoscope's pixels per mm lie between {low:g} and {high:g}; "
        f"{px_per_mm:g} is not a plausible setting."
    )


@dataclass(frozen=True)
class MarkerDetection:
    """One detected ArUco marker.

    ``corners_xy`` is (4, 2) float64 in full-image pixel coordinates (x, y), clockwise from
    the marker's own top-left corner; ``side_px`` is the mean length of its four sides.
    """

    marker_id: int
    corners_xy: np.ndarray = field(repr=False, compare=False)
    side_px: float


@dataclass(frozen=True)
class Calibration:
    """The pixel size of one photo, where it came from, and what to keep out of measuring.

    ``px_per_mm`` is ``None`` when neither a device value nor a marker was available.
    ``exclude_mask`` is an (H, W) bool array, True over the marker and its white margin, or
    ``None`` without a marker. ``notes`` explain a missing or fallen-back calibration.
    """

    px_per_mm: float | None
    source: PxPerMmSource | None
    marker: MarkerDetection | None = None
    exclude_mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    notes: tuple[str, ...] = ()


def detect_marker(
    rgb: np.ndarray, *, dictionary: int = DEFAULT_ARUCO_DICTIONARY
) -> MarkerDetection | None:
    """Find the largest ArUco marker of ``dictionary`` in an (H, W, 3) uint8 RGB image.

    Returns ``None`` when there is none.
    """
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = shrink_to_long_side(gray, DETECTION_LONG_SIDE_PX)
    # Per axis (x, y): each side of the copy is rounded to whole pixels on its own.
    scale_xy = np.array([small.shape[1] / gray.shape[1], small.shape[0] / gray.shape[0]])
    detector = cv2.aruco.ArucoDetector(
        cv2.aruco.getPredefinedDictionary(dictionary), cv2.aruco.DetectorParameters()
    )
    corners, ids, _rejected = detector.detectMarkers(small)
    if ids is None or len(corners) == 0:
        return None
    # cv2 places a corner on the centre of the outermost marker pixel; in the resized image
    # pixel centres sit at (i + 0.5) / scale - 0.5 in the full one.
    candidates = [(c.reshape(4, 2) + 0.5) / scale_xy - 0.5 for c in corners]
    best = max(range(len(candidates)), key=lambda i: _mean_side_px(candidates[i]))
    corners_xy = _refine_corners(gray, candidates[best])
    return MarkerDetection(
        marker_id=int(np.asarray(ids).ravel()[best]),
        corners_xy=corners_xy,
        side_px=_mean_side_px(corners_xy),
    )


def marker_exclusion_mask(
    shape: tuple[int, ...], corners_xy: np.ndarray, *, margin_fraction: float = 0.25
) -> np.ndarray:
    """An (H, W) bool mask covering the marker polygon grown by ``margin_fraction`` of its
    size on every side, so the printed white border around the marker is excluded too."""
    centre = corners_xy.mean(axis=0)
    grown = centre + (corners_xy - centre) * (1.0 + 2.0 * margin_fraction)
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], 1)
    return mask.astype(bool)


def calibrate(
    rgb: np.ndarray,
    *,
    px_per_mm: float | None = None,
    aruco_mm: float | None = None,
    dictionary: int = DEFAULT_ARUCO_DICTIONARY,
) -> Calibration:
    """Pixel size of an (H, W, 3) uint8 photo.

    A marker of side ``aruco_mm`` millimetres found in the frame wins, because it measures
    this very photo; the device value ``px_per_mm`` is the fallback. Without either the
    result is uncalibrated and says why in ``notes``.
    """
    if px_per_mm is not None and not (np.isfinite(px_per_mm) and px_per_mm > 0):
        raise ValueError(f"px_per_mm must be a positive number, got {px_per_mm}")
    if aruco_mm is not None and not (np.isfinite(aruco_mm) and aruco_mm > 0):
        raise ValueError(f"aruco_mm must be a positive number, got {aruco_mm}")
    notes: tuple[str, ...] = ()
    if aruco_mm is not None:
        marker = detect_marker(rgb, dictionary=dictionary)
        if marker is not None:
            return Calibration(
                px_per_mm=marker.side_px / aruco_mm,
                source="aruco",
                marker=marker,
                exclude_mask=marker_exclusion_mask(rgb.shape, marker.corners_xy),
            )
        notes = ("No ArUco marker was found in the photo.",)
    if px_per_mm is not None:
        return Calibration(
            px_per_mm=float(px_per_mm),
            source="device",
            notes=(*notes, "Using the device's pixel size instead.") if notes else (),
        )
    return Calibration(
        px_per_mm=None,
        source=None,
        notes=(
            *notes,
            "Uncalibrated: hairs are counted but density per cm² and widths in µm need the "
            "pixel size. Set the dermatoscope's px/mm or put an ArUco marker in the frame.",
        ),
    )


def _refine_corners(gray: np.ndarray, corners_xy: np.ndarray) -> np.ndarray:
    side_px = _mean_side_px(corners_xy)
    # The search window must stay inside one marker cell (a sixth of the side for 4×4
    # markers with their black border) or it locks onto inner cell corners.
    half_window = int(np.clip(side_px / 16.0, 2, 15))
    refined = cv2.cornerSubPix(
        gray,
        corners_xy.astype(np.float32).reshape(-1, 1, 2),
        (half_window, half_window),
        (-1, -1),
        (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 0.01),
    )
    return refined.reshape(4, 2).astype(np.float64)


def _mean_side_px(corners_xy: np.ndarray) -> float:
    return float(np.linalg.norm(corners_xy - np.roll(corners_xy, -1, axis=0), axis=1).mean())
