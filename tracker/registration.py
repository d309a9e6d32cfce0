"""Align a trichoscopy photo to the baseline photo of the same site.

ORB features, ratio-tested matches and a RANSAC similarity transform (rotation, shift,
uniform scale). Progress is measured on one fixed central region of the baseline frame, the
*reference region*: it is mapped into every photo of the site and the photo is measured
on it, so each visit counts the same patch of scalp. A photo that does not cover
the whole reference region, or whose transform is not supported by enough matched
features, is a *different spot* and is not trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tracker.imaging.trichoscopy import TrichoscopyResult, hair_figures
from tracker.measurement import QualityIssue

ORB_FEATURES = 3000
# Features are found on copies no larger than this: the skin and shaft texture that ORB
# matches is coarser than a 12-MP dermatoscope pixel, and matching there is 4–5× slower.
REGISTRATION_MAX_SIDE_PX = 1024
# Lowe's ratio test: a match must be clearly better than the second best.
MATCH_RATIO = 0.8
RANSAC_REPROJECTION_PX = 3.0
MIN_INLIERS = 25
# Dermatoscope magnification is fixed per device; a larger scale change means a bad match.
MAX_SCALE_CHANGE = 0.15
# Inset on each side of the baseline frame: larger than the usual relocation error so the
# reference region stays inside every photo of the same spot.
REFERENCE_MARGIN_FRACTION = 0.15
# Measuring a partly covered region would count missing scalp as bald; allow edge pixels.
MIN_REFERENCE_COVERAGE = 0.99
DIFFERENT_SPOT = "different_spot"
# What progress reads of the hairs on the baseline's reference region.
REGION_FIGURES = (
    "area_cm2",
    "hair_count",
    "density_per_cm2",
    "terminal_count",
    "vellus_fraction",
    "mean_width_um",
)


@dataclass(frozen=True)
class Registration:
    """How a photo maps onto the baseline frame (``matrix``: photo px -> baseline px)."""

    matrix: np.ndarray | None
    inliers: int
    reference_coverage: float
    reason: str | None

    @property
    def same_spot(self) -> bool:
        return self.reason is None


IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def identity_registration() -> Registration:
    """The baseline photo's registration to itself."""
    return Registration(matrix=IDENTITY.copy(), inliers=0, reference_coverage=1.0, reason=None)


def _working_scale(shape: tuple[int, ...]) -> float:
    return min(1.0, REGISTRATION_MAX_SIDE_PX / max(shape[:2]))


def _features(rgb: np.ndarray) -> tuple[list[cv2.KeyPoint], np.ndarray | None]:
    """ORB features of ``rgb``, found on its working-scale copy (keypoints in that copy)."""
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    scale = _working_scale(rgb.shape)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    # Local contrast equalisation so lighting and white-balance changes keep the same corners.
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)
    keypoints, descriptors = cv2.ORB_create(nfeatures=ORB_FEATURES).detectAndCompute(gray, None)
    return list(keypoints), descriptors


def reference_box(baseline_shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The fixed central region of the baseline frame on which progress is measured, as
    (left, top, right, bottom) px of the (height, width) ``baseline_shape``, right and
    bottom exclusive."""
    height, width = baseline_shape
    dy, dx = round(height * REFERENCE_MARGIN_FRACTION), round(width * REFERENCE_MARGIN_FRACTION)
    return dx, dy, width - dx, height - dy


def reference_region(baseline_shape: tuple[int, int]) -> np.ndarray:
    """:func:`reference_box` as an (H, W) bool mask of the baseline frame."""
    left, top, right, bottom = reference_box(baseline_shape)
    region = np.zeros(baseline_shape, dtype=bool)
    region[top:bottom, left:right] = True
    return region


def draw_reference_box(shown: np.ndarray, *, baseline_shape: tuple[int, int]) -> np.ndarray:
    """A copy of ``shown`` (h, w, 3) uint8, the baseline frame of ``baseline_shape`` (H, W)
    at any size, with :func:`reference_box` outlined: white, edged in black to stand out
    on any scalp."""
    scale = shown.shape[1] / baseline_shape[1]
    left, top, right, bottom = (round(scale * v) for v in reference_box(baseline_shape))
    outlined = np.ascontiguousarray(shown).copy()
    thickness = max(1, round(shown.shape[1] / 400))
    for colour, width in (((0, 0, 0), 3 * thickness), ((255, 255, 255), thickness)):
        cv2.rectangle(outlined, (left, top), (right - 1, bottom - 1), colour, width)
    return outlined


def reference_coverage(
    matrix: np.ndarray, *, photo_shape: tuple[int, int], baseline_shape: tuple[int, int]
) -> float:
    """Share of the baseline's reference region that the aligned photo covers."""
    footprint = cv2.warpAffine(
        np.ones(photo_shape, dtype=np.uint8),
        matrix,
        (baseline_shape[1], baseline_shape[0]),
        flags=cv2.INTER_NEAREST,
    )
    return float(footprint[reference_region(baseline_shape)].mean())


def register(baseline_rgb: np.ndarray, photo_rgb: np.ndarray) -> Registration:
    """Find the similarity transform from ``photo_rgb`` to ``baseline_rgb``, or say why not."""
    baseline_points, baseline_descriptors = _features(baseline_rgb)
    photo_points, photo_descriptors = _features(photo_rgb)
    if baseline_descriptors is None or photo_descriptors is None:
        return Registration(None, 0, 0.0, "different spot: no features to match")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(photo_descriptors, baseline_descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < MATCH_RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return Registration(None, len(good), 0.0, "different spot: too few matching features")
    # Back to full-resolution pixels, so the matrix maps photo pixels to baseline pixels.
    photo_scale, baseline_scale = (
        _working_scale(photo_rgb.shape),
        _working_scale(baseline_rgb.shape),
    )
    source = np.float32([photo_points[m.queryIdx].pt for m in good]) / photo_scale
    target = np.float32([baseline_points[m.trainIdx].pt for m in good]) / baseline_scale
    matrix, inlier_mask = cv2.estimateAffinePartial2D(
        source,
        target,
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_REPROJECTION_PX / baseline_scale,
    )
    inliers = int(inlier_mask.sum()) if inlier_mask is not None else 0
    if matrix is None or inliers < MIN_INLIERS:
        return Registration(None, inliers, 0.0, "different spot: matches do not agree")
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if abs(scale - 1.0) > MAX_SCALE_CHANGE:
        return Registration(matrix, inliers, 0.0, f"different spot: implausible scale {scale:.2f}")
    coverage = reference_coverage(
        matrix, photo_shape=photo_rgb.shape[:2], baseline_shape=baseline_rgb.shape[:2]
    )
    if coverage < MIN_REFERENCE_COVERAGE:
        return Registration(
            matrix,
            inliers,
            coverage,
            f"different spot: covers only {100 * coverage:.0f} % of the reference region",
        )
    return Registration(matrix, inliers, coverage, None)


def region_in_photo(
    registration: Registration, *, baseline_shape: tuple[int, int], photo_shape: tuple[int, int]
) -> np.ndarray:
    """The baseline's reference region in the photo's own pixels (a boolean mask).

    The photo is measured in its own pixels on this mask rather than resampled into the
    baseline frame, since resampling would blur the shaft edges that widths come from.
    """
    if registration.matrix is None or not registration.same_spot:
        raise ValueError(f"cannot place the reference region: {registration.reason}")
    mask = cv2.warpAffine(
        reference_region(baseline_shape).astype(np.uint8),
        cv2.invertAffineTransform(registration.matrix),
        (photo_shape[1], photo_shape[0]),
        flags=cv2.INTER_NEAREST,
    )
    return mask.astype(bool)


def onto_baseline(
    photo_rgb: np.ndarray,
    matrix: np.ndarray,
    *,
    baseline_shape: tuple[int, int],
    long_side_px: int,
) -> np.ndarray:
    """``photo_rgb`` (H, W, 3) uint8 turned, shifted and scaled by ``matrix`` (2, 3; photo
    px -> baseline px) onto the baseline frame of ``baseline_shape`` (height, width),
    shrunk to at most ``long_side_px`` on its long side; where the photo does not reach is
    mid-grey. Shown beside the baseline, the same patch of scalp lies in the same place.

    The photo is shrunk before the warp, by area, so that thin shafts do not alias.
    """
    height, width = baseline_shape
    scale = min(1.0, long_side_px / max(height, width))
    shrunk = cv2.resize(
        np.ascontiguousarray(photo_rgb), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
    )
    shrunk_matrix = np.asarray(matrix, dtype=float).copy()
    shrunk_matrix[:, 2] *= scale
    return cv2.warpAffine(
        shrunk,
        shrunk_matrix,
        (max(1, round(width * scale)), max(1, round(height * scale))),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(128, 128, 128),
    )


def measure_on_baseline(
    photo_rgb: np.ndarray, result: TrichoscopyResult, *, baseline_rgb: np.ndarray | None
) -> tuple[Registration, dict[str, float | None] | None]:
    """Register a measured trichoscopy photo to its site's baseline photo and count its
    hairs on the baseline's reference region (what intake and the verdict benchmark do).

    ``baseline_rgb`` None means the photo *is* the site's baseline: identity registration.
    Returns the registration and the region figures (None for a different spot).
    """
    if baseline_rgb is None:
        registration, baseline_shape = identity_registration(), photo_rgb.shape[:2]
    else:
        registration, baseline_shape = register(baseline_rgb, photo_rgb), baseline_rgb.shape[:2]
    figures = reference_region_figures(
        result, registration, baseline_shape=baseline_shape, photo_shape=photo_rgb.shape[:2]
    )
    return registration, figures


def different_spot_issue(registration: Registration) -> QualityIssue:
    """The quality issue shown for a photo that is not of the baseline's spot."""
    reason = registration.reason or "different spot"
    return QualityIssue(
        DIFFERENT_SPOT,
        f"{reason[0].upper()}{reason[1:]}: use the same spot as the baseline.",
        registration.reference_coverage,
    )


def reference_region_figures(
    result: TrichoscopyResult,
    registration: Registration,
    *,
    baseline_shape: tuple[int, int],
    photo_shape: tuple[int, int],
) -> dict[str, float | None] | None:
    """The figures progress uses: ``result``'s hairs counted on the baseline's reference
    region. None for a different spot, or without a pixel size (no area to divide by)."""
    if not registration.same_spot or result.px_per_mm is None:
        return None
    region = region_in_photo(registration, baseline_shape=baseline_shape, photo_shape=photo_shape)
    return figures_in_region(result, region, px_per_mm=result.px_per_mm)


def figures_in_region(
    result: TrichoscopyResult, region: np.ndarray, *, px_per_mm: float
) -> dict[str, float | None]:
    """Figures of the hairs whose midpoint lies in ``region`` (a mask in photo pixels).

    The engine segments the whole photo, so a hair crossing the region's edge is traced
    whole and then counted by its midpoint, like the engine counts at the frame border. The
    hairs no trace shows are estimated from the whole photo's untraced hair.
    """
    height, width = region.shape
    inside = []
    for hair in result.hairs:
        x = round((hair.start_px[0] + hair.end_px[0]) / 2)
        y = round((hair.start_px[1] + hair.end_px[1]) / 2)
        if hair.counted and 0 <= x < width and 0 <= y < height and region[y, x]:
            inside.append(hair)
    area_cm2 = float(region.sum()) / px_per_mm**2 / 100.0
    figures = hair_figures(inside, area_cm2=area_cm2, untraced_share=result.untraced_share)
    return {name: figures[name] for name in REGION_FIGURES}
