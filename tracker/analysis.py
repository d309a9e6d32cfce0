"""The measuring pipeline: one photo in, one :class:`~tracker.measurement.Measurement` out.

Calibration (device value or ArUco marker), the quality gate and the view's measurement
run on the same pixels; the quality gate only flags, it never changes a figure.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from tracker.imaging.calibration import calibrate
from tracker.imaging.coverage import (
    CoverageResult,
    RectRoi,
    Roi,
    draw_coverage_overlay,
    measure_coverage,
)
from tracker.imaging.intake import prepare_image
from tracker.imaging.quality import assess_quality
from tracker.imaging.resample import shrink_to_long_side
from tracker.imaging.trichoscopy import (
    TrichoscopyResult,
    count_issues,
    draw_trichoscopy_overlay,
    measure_trichoscopy,
)
from tracker.measurement import VIEWS, Measurement, Quality, View

# Stored with every measurement; change it whenever a change to the engine can move a
# figure, so old and new numbers are never compared unknowingly.
ALGORITHM_VERSION = "2026.12.31"

MARKER_OUTLINE_RGB = (255, 0, 255)


def analyze_image(
    rgb: np.ndarray,
    *,
    view: View,
    px_per_mm: float | None = None,
    aruco_mm: float | None = None,
    roi: Roi | tuple[int, int, int, int] | None = None,
    vellus_threshold_um: float = 30.0,
    overlay: bool = True,
    overlay_long_side_px: int | None = None,
) -> Measurement:
    """Measure an (H, W, 3) uint8 RGB photo of ``view`` (``"trichoscopy"`` or ``"global"``).

    ``px_per_mm`` is the device's pixel size; ``aruco_mm`` the side in millimetres of an
    ArUco marker in the frame, which wins over the device value when it is found and is
    kept out of hair detection. ``roi`` restricts the measured area (a coverage ``Roi`` or
    an (x, y, width, height) pixel rectangle). ``vellus_threshold_um``: hairs narrower
    than this are vellus.

    ``overlay``: draw ``Measurement.overlay_rgb`` (else it is None), the photo shrunk to
    at most ``overlay_long_side_px`` on its long side (None: at the photo's size). The
    figures do not depend on either; drawing a 12-megapixel overlay costs more than a
    tenth of the measuring.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    # OpenCV refuses views with negative or odd strides (a flipped or cropped array).
    rgb = np.ascontiguousarray(rgb)
    region = RectRoi(*roi) if isinstance(roi, tuple) else roi
    inside = None if region is None else region.mask(rgb.shape)
    if inside is not None and not inside.any():
        raise ValueError(
            f"the region of interest {region} lies outside the {rgb.shape[1]}×{rgb.shape[0]} photo"
        )
    calibration = calibrate(rgb, px_per_mm=px_per_mm, aruco_mm=aruco_mm)
    quality = assess_quality(rgb, view=view, px_per_mm=calibration.px_per_mm)
    if view == "global":
        coverage = measure_coverage(rgb, roi=region)
        return Measurement(
            view=view,
            px_per_mm=calibration.px_per_mm,
            px_per_mm_source=calibration.source,
            algorithm_version=ALGORITHM_VERSION,
            quality=quality,
            figures={"coverage_pct": coverage.coverage_pct},
            overlay_rgb=(
                _coverage_overlay(rgb, coverage, long_side_px=overlay_long_side_px)
                if overlay
                else None
            ),
        )
    exclude_mask = calibration.exclude_mask
    if inside is not None:
        exclude_mask = ~inside if exclude_mask is None else exclude_mask | ~inside
    result = measure_trichoscopy(
        rgb,
        px_per_mm=calibration.px_per_mm,
        vellus_threshold_um=vellus_threshold_um,
        exclude_mask=exclude_mask,
    )
    quality = Quality(issues=(*quality.issues, *count_issues(result)))
    drawn = None
    if overlay:
        marker_xy = None if calibration.marker is None else calibration.marker.corners_xy
        drawn = _trichoscopy_overlay(
            rgb, result, marker_corners_xy=marker_xy, long_side_px=overlay_long_side_px
        )
    return Measurement(
        view=view,
        px_per_mm=calibration.px_per_mm,
        px_per_mm_source=calibration.source,
        algorithm_version=ALGORITHM_VERSION,
        quality=quality,
        figures=dict(result.figures),
        overlay_rgb=drawn,
        widths_um=result.widths_um,
        notes=calibration.notes,
        trichoscopy=result,
    )


def analyze_file(
    path: str | Path,
    *,
    view: View,
    px_per_mm: float | None = None,
    aruco_mm: float | None = None,
    roi: Roi | tuple[int, int, int, int] | None = None,
    vellus_threshold_um: float = 30.0,
    overlay: bool = True,
    overlay_long_side_px: int | None = None,
) -> Measurement:
    """Read, check and measure one photo file exactly as an upload would be.

    The pixels measured are those intake would store (:func:`prepare_image`), so the
    figures match a later re-analysis of the stored photo. The options are those of
    :func:`analyze_image`. Raises :class:`~tracker.imaging.intake.IntakeError` for a file
    that is not a usable photo and ``OSError`` for one that cannot be read.
    """
    prepared = prepare_image(Path(path).read_bytes())
    return analyze_image(
        prepared.rgb,
        view=view,
        px_per_mm=px_per_mm,
        aruco_mm=aruco_mm,
        roi=roi,
        vellus_threshold_um=vellus_threshold_um,
        overlay=overlay,
        overlay_long_side_px=overlay_long_side_px,
    )


def _coverage_overlay(
    rgb: np.ndarray, coverage: CoverageResult, *, long_side_px: int | None
) -> np.ndarray:
    """The coverage overlay of ``rgb``, at most ``long_side_px`` long (None: full size)."""
    shown = rgb if long_side_px is None else shrink_to_long_side(rgb, long_side_px)
    if shown is not rgb:
        coverage = replace(
            coverage,
            hair_mask=_shrunk_mask(coverage.hair_mask, max(shown.shape[:2])),
            region_mask=_shrunk_mask(coverage.region_mask, max(shown.shape[:2])),
        )
    return draw_coverage_overlay(shown, coverage)


def _trichoscopy_overlay(
    rgb: np.ndarray,
    result: TrichoscopyResult,
    *,
    marker_corners_xy: np.ndarray | None,
    long_side_px: int | None,
) -> np.ndarray:
    """The trichoscopy overlay of ``rgb``, with the calibration marker's outline (corners
    (4, 2) in photo pixels) if any, at most ``long_side_px`` long (None: full size)."""
    shown = rgb if long_side_px is None else shrink_to_long_side(rgb, long_side_px)
    scale = shown.shape[1] / rgb.shape[1]
    overlay = draw_trichoscopy_overlay(shown, result, scale=scale)
    if marker_corners_xy is not None:
        _draw_outline(overlay, marker_corners_xy * scale)
    return overlay


def _shrunk_mask(mask: np.ndarray, long_side_px: int) -> np.ndarray:
    """(H, W) bool ``mask`` shrunk as the photo is (:func:`shrink_to_long_side`): a pixel
    is set where most of the pixels it stands for were."""
    return shrink_to_long_side(np.ascontiguousarray(mask).view(np.uint8), long_side_px) > 0


def _draw_outline(overlay: np.ndarray, corners_xy: np.ndarray) -> None:
    """Draw the calibration marker's outline on ``overlay`` (H, W, 3) uint8, in place: the
    overlay is a fresh array, and a copy of 12 megapixels costs more than the drawing."""
    thickness = max(2, round(max(overlay.shape[:2]) / 500))
    cv2.polylines(
        overlay,
        [np.round(corners_xy).astype(np.int32)],
        isClosed=True,
        color=MARKER_OUTLINE_RGB,
        thickness=thickness,
    )
