"""Quality gate: say what is wrong with a photo, and what to do about it.

The gate never changes a measurement: a photo that fails is still measured, but flagged, so
the person taking it can retake it and the reports can leave it out. Each check gives a
:class:`~tracker.measurement.QualityIssue` with a message for people and the value it
measured. The thresholds were set on the synthetic phantoms (clean ones pass, degraded ones
fail, see ``tests/test_quality.py``) and checked against real dermatoscope photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from skimage.data import lbp_frontal_face_cascade_filename
from skimage.feature import Cascade

from tracker.imaging.resample import shrink_to_long_side
from tracker.measurement import Quality, QualityIssue, View

# Image statistics are computed on a copy no longer than this on its long side; they are
# shares and ratios, so they do not depend on resolution, and the copy keeps them fast.
WORKING_LONG_SIDE_PX = 1024
# Sharpness is judged at a fixed physical scale when the pixel size is known: 10 µm a
# pixel resolves a 30 µm vellus hair over three pixels.
SHARPNESS_UM_PER_PX = 10.0

MIN_SHARPNESS = 0.18
# Exposure is judged on the scalp, as a photographer meters: the median of a close-up,
# which the skin fills, and of the brighter part of a global photo (split from the darker
# part by Otsu's threshold). Dense black hair makes most of a properly lit global photo
# dark (its median under 35 on 14 of the 100 global phantoms) but leaves the scalp between
# the strands at 52 or more.
MIN_SCALP_LUMINANCE = 35.0
# In a global photo the darker part is the hair: properly lit, even black hair stays at 21
# or more on those phantoms; 2–3 stops under, it sinks into black. A dim but clean
# close-up measures well, its thin shafts read against the skin, so close-ups are not
# judged on it.
MIN_HAIR_LUMINANCE = 15.0
# Black wider than this (pixels at the working scale) is a backdrop, a collar or a shadow
# beside the head, not hair lost between strands of scalp, and is left out of both parts:
# a properly lit head before a black cloth filling 20 % of the frame had its hair part
# read as the cloth (about 8) in 14 of 40 global phantoms.
BACKDROP_MIN_WIDTH_PX = 21
# A dim photo whose dark parts are crushed to black is underexposed when its noise is more
# than a tenth of the scalp's level: brightening it would show grain, not hair.
MIN_SIGNAL_TO_NOISE = 10.0
MIN_CRUSHED_SHARE = 0.03
MAX_CLIPPED_SHARE = 0.20
MAX_GLARE_SPOTS = 15
MAX_CAST_DISTANCE = 8.0
MAX_GREEN_SHARE = 0.20
MAX_FLAT_SHARE = 0.30
# Mean CIELAB chroma under which a picture counts as colourless (black on white).
MAX_COLOURLESS_CHROMA = 3.0

# Luminance (0–255) at or below which a pixel counts as black, and at or above which it
# counts as burnt out.
DARK_LEVEL = 20
CLIPPED_LEVEL = 250
# Specular highlights are near-white (bright, with channels within GLARE_MAX_SPREAD of each
# other), compact and small.
GLARE_LEVEL = 235
GLARE_MAX_SPREAD = 30
GLARE_MIN_SPOT_PX = 4
GLARE_MAX_SPOT_SHARE = 0.02
CAPTION_MAX_LUMINANCE = 110
CAPTION_MAX_SPREAD = 6
# Plants and water: CIELAB a* below this (green side) with chroma above GREEN_MIN_CHROMA.
GREEN_MAX_A_STAR = -8.0
GREEN_MIN_CHROMA = 15.0
# Faces are searched on a small copy: they are large when present, and the search is slow.
FACE_SEARCH_LONG_SIDE_PX = 256
# Overlapping detections a face needs; fewer let two hair stubs pass for a pair of eyes.
FACE_MIN_NEIGHBOURS = 6
FLAT_BLOCK_PX = 16
# A photographed page or screen shows rows of text; a scalp close-up shows at most a
# caption bar and a measurement label (up to 5 rows on the FDU photos).
MIN_TEXT_LINES = 8

# The lit field of a round-field dermatoscope is found on a copy this small: its black
# surround is large and smooth. Black border regions darker than SURROUND_LEVEL that leave
# a convex field of at least MIN_FIELD_SHARE of the frame are the surround; anything else
# (the crushed shadows of a dark photo are ragged) is not.
FIELD_SEARCH_LONG_SIDE_PX = 256
SURROUND_LEVEL = 20
MIN_FIELD_SHARE = 0.25
MIN_FIELD_SOLIDITY = 0.9
# A disc fills π/4 of its bounding box, one clipped by the frame's sides about 0.9; a frame
# cropped by black bands fills all of it.
ROUND_FIELD_MAX_BOX_SHARE = 0.95
# Text marks: dark against their surroundings (a box mean over TEXT_WINDOW_PX) by a share
# and by a number of grey levels, letter-sized, and chained into rows of at least
# TEXT_LINE_MIN_MARKS marks of similar height on a common centre line.
TEXT_WINDOW_PX = 31
TEXT_INK_CONTRAST = 0.25
TEXT_INK_MIN_LEVELS = 18
TEXT_MARK_HEIGHT_PX = (4, 48)
TEXT_LINE_MIN_MARKS = 4

# Mean colour (CIELAB a*, b*) a scalp photo may have without a colour cast: pale, tanned
# and dark skin, and the cool tint many dermatoscope lamps give (real clinical photos reach
# b* ≈ -19).
SKIN_A_RANGE = (-8.0, 30.0)
SKIN_B_RANGE = (-20.0, 35.0)


@dataclass(frozen=True)
class QualityMetrics:
    """The raw values the gate compares with its thresholds.

    ``sharpness``: ratio of the finest detail band to a coarser one (unitless, ≈0.3 sharp,
    under 0.2 blurred); ``median_luminance``: 0–255, of the lit field (the round field of a
    dermatoscope without its black surround, else the whole frame); ``scalp_luminance``:
    0–255, what exposure is judged on, the median of a close-up and, of a global photo, the
    median of the brighter part of the lit field split by Otsu's threshold;
    ``hair_luminance``: 0–255, the median of the darker part of a global photo (None for a
    close-up); black regions wider than ``BACKDROP_MIN_WIDTH_PX`` are left out of both
    parts; ``crushed_share``:
    share of the lit field at black (at most ``DARK_LEVEL``); ``noise_level``: standard
    deviation of the luminance noise in the lit field, in grey levels (0–255);
    ``clipped_share``: share of burnt-out pixels; ``glare_spots``: number of specular
    highlights; ``cast_distance``: CIELAB distance of the mean colour from the range of
    skin tones; ``green_share``: share of clearly green or cyan pixels; ``flat_share``:
    share of blocks of one exact colour (screens and documents have many, camera photos
    none); ``face_fraction``: width of the largest frontal face over the short side (0
    without one; ``None`` when not searched, which is for global photos, whose frontal
    views show the face on purpose, and for a dermatoscope's round field);
    ``mean_chroma``: mean CIELAB chroma of the pixels neither black nor burnt out;
    ``text_lines``: number of rows of dark text, which photographed pages and screens have
    many of (``None`` when not searched, which is for global photos).
    """

    sharpness: float
    median_luminance: float
    scalp_luminance: float
    hair_luminance: float | None
    crushed_share: float
    noise_level: float
    clipped_share: float
    glare_spots: int
    cast_distance: float
    green_share: float
    flat_share: float
    face_fraction: float | None
    mean_chroma: float
    text_lines: int | None


def assess_quality(rgb: np.ndarray, *, view: View, px_per_mm: float | None = None) -> Quality:
    """Check an (H, W, 3) uint8 RGB photo of the given ``view``.

    ``px_per_mm`` (pixels per millimetre), when known, sets the scale at which sharpness is
    judged on trichoscopy photos.
    """
    metrics = measure_quality(rgb, view=view, px_per_mm=px_per_mm)
    return Quality(issues=tuple(quality_issues(metrics, view=view)))


def measure_quality(
    rgb: np.ndarray, *, view: View, px_per_mm: float | None = None
) -> QualityMetrics:
    """The :class:`QualityMetrics` of an (H, W, 3) uint8 RGB photo."""
    # Sharpness needs only brightness, so the (larger) sharpness copy is grey.
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sharpness_gray = _resize(gray, _sharpness_scale(rgb.shape, view=view, px_per_mm=px_per_mm))
    small = shrink_to_long_side(rgb, WORKING_LONG_SIDE_PX)
    luminance = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    # OpenCV stores 8-bit a* and b* offset by 128.
    lit = (luminance > DARK_LEVEL) & (luminance < CLIPPED_LEVEL)
    a_star = lab[..., 1][lit] - 128.0
    b_star = lab[..., 2][lit] - 128.0
    chroma = np.hypot(a_star, b_star)
    field = lit_field(luminance)
    field_luminance = luminance[field]
    median_luminance = float(np.median(field_luminance))
    scalp_luminance, hair_luminance = median_luminance, None
    if view == "global":
        beside_backdrop = field & ~_backdrop(luminance)
        hair_luminance, scalp_luminance = _class_luminances(
            luminance[beside_backdrop] if beside_backdrop.any() else field_luminance
        )
    return QualityMetrics(
        sharpness=_sharpness(sharpness_gray.astype(np.float32)),
        median_luminance=median_luminance,
        scalp_luminance=scalp_luminance,
        hair_luminance=hair_luminance,
        crushed_share=float(np.mean(field_luminance <= DARK_LEVEL)),
        noise_level=_noise_level(luminance, field & lit),
        clipped_share=float(np.mean(luminance >= CLIPPED_LEVEL)),
        glare_spots=_glare_spots(small, luminance),
        cast_distance=_cast_distance(a_star, b_star),
        green_share=_green_share(a_star, chroma),
        flat_share=_flat_share(rgb),
        # Only a dermatoscope gives a round field, and its rim passes for a face's outline.
        face_fraction=(
            _face_fraction(luminance) if view == "trichoscopy" and not _is_round(field) else None
        ),
        mean_chroma=float(np.mean(chroma)) if chroma.size else 0.0,
        text_lines=_text_lines(luminance) if view == "trichoscopy" else None,
    )


def quality_issues(metrics: QualityMetrics, *, view: View) -> list[QualityIssue]:
    """The issues ``metrics`` amount to, in a fixed order, with advice for ``view``."""
    close_up = view == "trichoscopy"
    issues: list[QualityIssue] = []
    if metrics.sharpness < MIN_SHARPNESS:
        advice = (
            "hold the dermatoscope flat on the scalp and wait for it to focus"
            if close_up
            else "hold the camera still and focus on the scalp"
        )
        issues.append(
            QualityIssue("blur", f"The photo is blurred: {advice}.", round(metrics.sharpness, 3))
        )
    advice = (
        "switch on the dermatoscope's light and press it flat so no shadow falls in"
        if close_up
        else "add light or move nearer the lamp"
    )
    scalp = metrics.scalp_luminance
    signal_to_noise = scalp / max(metrics.noise_level, 0.1)
    if scalp < MIN_SCALP_LUMINANCE:
        issues.append(
            QualityIssue("underexposed", f"The photo is too dark: {advice}.", round(scalp, 1))
        )
    elif signal_to_noise < MIN_SIGNAL_TO_NOISE and metrics.crushed_share >= MIN_CRUSHED_SHARE:
        issues.append(
            QualityIssue(
                "underexposed",
                f"The photo is too dark: its shadows are lost in grain. {advice.capitalize()}.",
                round(signal_to_noise, 1),
            )
        )
    elif metrics.hair_luminance is not None and metrics.hair_luminance < MIN_HAIR_LUMINANCE:
        issues.append(
            QualityIssue(
                "underexposed",
                f"The photo is too dark: its hair is lost in black. {advice.capitalize()}.",
                round(metrics.hair_luminance, 1),
            )
        )
    if metrics.clipped_share > MAX_CLIPPED_SHARE:
        issues.append(
            QualityIssue(
                "overexposed",
                f"The photo is too bright ({metrics.clipped_share:.0%} burnt out): lower the "
                "light or the exposure.",
                round(metrics.clipped_share, 3),
            )
        )
    elif metrics.glare_spots > MAX_GLARE_SPOTS:
        advice = (
            "wipe the bubbles out of the immersion fluid or switch to polarised light"
            if close_up
            else "move the lamp to the side or switch off the flash"
        )
        issues.append(
            QualityIssue(
                "glare",
                f"{metrics.glare_spots} bright reflections: {advice}.",
                float(metrics.glare_spots),
            )
        )
    if metrics.cast_distance > MAX_CAST_DISTANCE:
        issues.append(
            QualityIssue(
                "colour_cast",
                "The colours are off (a strong tint): set the camera's white balance to "
                "daylight or auto and use the clinic's standard light.",
                round(metrics.cast_distance, 1),
            )
        )
    if close_up:
        not_scalp = _not_scalp_issue(metrics)
        if not_scalp is not None:
            issues.append(not_scalp)
    return issues


def _not_scalp_issue(metrics: QualityMetrics) -> QualityIssue | None:
    advice = "upload the dermatoscope photo of the scalp itself"
    burnt_out = metrics.clipped_share > MAX_CLIPPED_SHARE
    # Burnt-out areas are flat too; a white page differs from a burnt-out photo by having
    # no colour left at all.
    if metrics.flat_share > MAX_FLAT_SHARE and (
        not burnt_out or metrics.mean_chroma < MAX_COLOURLESS_CHROMA
    ):
        return QualityIssue(
            "not_scalp",
            "This does not look like a scalp close-up but like a screenshot or a document: "
            f"{advice}.",
            round(metrics.flat_share, 3),
        )
    if metrics.text_lines is not None and metrics.text_lines >= MIN_TEXT_LINES:
        return QualityIssue(
            "not_scalp",
            "This does not look like a scalp close-up but like a photo of a page or a screen "
            f"({metrics.text_lines} lines of text): {advice}.",
            float(metrics.text_lines),
        )
    if burnt_out or metrics.median_luminance < MIN_SCALP_LUMINANCE:
        return None  # too little of the picture is visible to say what it shows
    if metrics.face_fraction:
        return QualityIssue(
            "not_scalp",
            f"This does not look like a scalp close-up but shows a face: {advice}.",
            round(metrics.face_fraction, 3),
        )
    if metrics.green_share > MAX_GREEN_SHARE:
        return QualityIssue(
            "not_scalp",
            f"This does not look like a scalp close-up (it is largely green or cyan): {advice}.",
            round(metrics.green_share, 3),
        )
    return None


def _backdrop(luminance: np.ndarray) -> np.ndarray:
    """Where an (H, W) uint8 luminance photo is black (at most ``SURROUND_LEVEL``) over a
    disc of ``BACKDROP_MIN_WIDTH_PX`` or more: an (H, W) bool mask."""
    black = (luminance <= SURROUND_LEVEL).astype(np.uint8)
    disc = cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (BACKDROP_MIN_WIDTH_PX, BACKDROP_MIN_WIDTH_PX)
    )
    return cv2.morphologyEx(black, cv2.MORPH_OPEN, disc) > 0


def _class_luminances(values: np.ndarray) -> tuple[float, float]:
    """Medians of the darker and the brighter of the two classes Otsu's threshold splits
    the (N,) uint8 luminance ``values`` into (both the median of all of them when they are
    one level)."""
    threshold, _split = cv2.threshold(values.reshape(-1, 1), 0, 255, cv2.THRESH_OTSU)
    bright = values > threshold
    if bright.all() or not bright.any():
        median = float(np.median(values))
        return median, median
    return float(np.median(values[~bright])), float(np.median(values[bright]))


def lit_field(luminance: np.ndarray) -> np.ndarray:
    """Where an (H, W) uint8 luminance photo is lit: an (H, W) bool mask.

    A round-field dermatoscope leaves the frame black outside its disc; that surround,
    black regions on the border leaving a convex field, is taken out. Without one (or when
    what is left is ragged, as the crushed shadows of a dark photo are) the field is the
    whole frame.
    """
    small = shrink_to_long_side(luminance, FIELD_SEARCH_LONG_SIDE_PX)
    dark = (cv2.GaussianBlur(small, (0, 0), 2.0) <= SURROUND_LEVEL).astype(np.uint8)
    whole = np.ones(luminance.shape, dtype=bool)
    if not dark.any():
        return whole
    _count, labels = cv2.connectedComponents(dark, connectivity=4)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    field = ~np.isin(labels, edge[edge > 0])
    if field.all() or field.mean() < MIN_FIELD_SHARE:
        return whole
    hull = cv2.convexHull(cv2.findNonZero(field.astype(np.uint8)))
    if field.sum() < MIN_FIELD_SOLIDITY * cv2.contourArea(hull):
        return whole
    return cv2.resize(
        field.astype(np.uint8), luminance.shape[::-1], interpolation=cv2.INTER_NEAREST
    ).astype(bool)


def _is_round(field: np.ndarray) -> bool:
    """Whether an (H, W) bool lit field is a dermatoscope's disc, which leaves the corners
    of its bounding box dark, rather than the whole frame or a band across it."""
    rows = np.flatnonzero(field.any(axis=1))
    cols = np.flatnonzero(field.any(axis=0))
    if not len(rows):
        return False
    box = (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)
    return bool(field.sum() < ROUND_FIELD_MAX_BOX_SHARE * box)


def _noise_level(luminance: np.ndarray, mask: np.ndarray) -> float:
    """Standard deviation (grey levels) of the noise of an (H, W) uint8 luminance image
    over the (H, W) bool ``mask``.

    The median magnitude of a second-difference filter that cancels smooth shading
    (Immerkær's kernel, ±6σ for white noise): the median is not moved by the hairs' edges,
    which cover a small part of the field.
    """
    if not mask.any():
        return 0.0
    # Integer responses, so the median comes from a histogram instead of a sort.
    response = np.abs(cv2.filter2D(luminance, cv2.CV_16S, _NOISE_KERNEL))
    counts = np.bincount(response[mask])
    median = int(np.searchsorted(np.cumsum(counts), (mask.sum() + 1) / 2))
    return median / (6.0 * NORMAL_MAD)


# Median absolute value of a standard normal variable.
NORMAL_MAD = 0.6745
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def _text_lines(luminance: np.ndarray) -> int:
    """Number of rows of dark text in an (H, W) uint8 luminance image, searched at its
    size and at half of it (large print merges into blots at full size)."""
    half = cv2.resize(luminance, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return max(
        _text_rows(luminance, window_px=TEXT_WINDOW_PX),
        _text_rows(half, window_px=TEXT_WINDOW_PX // 2 + 1),
    )


def _text_rows(luminance: np.ndarray, *, window_px: int) -> int:
    """Rows of at least ``TEXT_LINE_MIN_MARKS`` letter- or word-like dark marks of similar
    height, side by side on a common centre line, spanning four heights or more."""
    level = luminance.astype(np.float32)
    mean = cv2.blur(level, (window_px, window_px))
    ink = (level < mean * (1.0 - TEXT_INK_CONTRAST)) & (level < mean - TEXT_INK_MIN_LEVELS)
    _count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(
        ink.astype(np.uint8), connectivity=8
    )
    left, top, width, height, area = stats[1:].T.astype(np.float64)
    low, high = TEXT_MARK_HEIGHT_PX
    # Letters and words are compact and fill a good part of their box; hairs are long
    # strokes, far taller or wider than thick, or thin diagonals.
    marks = (
        (height >= low)
        & (height <= high)
        & (area >= 0.15 * width * height)
        & (width <= 12 * height)
        & (height <= 4 * width)
    )
    left, top, width, height = left[marks], top[marks], width[marks], height[marks]
    if len(left) < TEXT_LINE_MIN_MARKS:
        return 0
    centre_y = top + height / 2
    # Pairs whose right and left ends (at mid-height) are close: i's right end, j's left.
    ends = cKDTree(np.column_stack([left + width, centre_y])).sparse_distance_matrix(
        cKDTree(np.column_stack([left, centre_y])), 1.3 * high, output_type="ndarray"
    )
    first, second = ends["i"], ends["j"]
    taller = np.maximum(height[first], height[second])
    gap = left[second] - (left[first] + width[first])
    # Neighbours in a row: similar height, centres level, a letter or word space apart.
    neighbours = (
        (first != second)
        & (np.minimum(height[first], height[second]) >= 0.5 * taller)
        & (np.abs(centre_y[first] - centre_y[second]) <= 0.3 * taller)
        & (gap >= -0.2 * taller)
        & (gap <= 1.2 * taller)
    )
    graph = coo_matrix(
        (np.ones(int(neighbours.sum())), (first[neighbours], second[neighbours])),
        shape=(len(left), len(left)),
    )
    _rows, row = connected_components(graph, directed=False)
    rows = np.flatnonzero(np.bincount(row) >= TEXT_LINE_MIN_MARKS)
    if not len(rows):
        return 0
    spans = ndimage.maximum(left + width, row, rows) - ndimage.minimum(left, row, rows)
    return int(np.sum(spans >= 4 * ndimage.median(height, row, rows)))


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _sharpness_scale(shape: tuple[int, ...], *, view: View, px_per_mm: float | None) -> float:
    """Zoom (at most 1) at which sharpness is judged for a photo of ``shape``."""
    fit = WORKING_LONG_SIDE_PX / max(shape[:2])
    if view == "trichoscopy" and px_per_mm is not None:
        # A physical scale, but never a tiny copy of a low-magnification photo.
        return min(1.0, max((1000.0 / SHARPNESS_UM_PER_PX) / px_per_mm, fit / 2))
    return min(1.0, fit)


def _sharpness(gray: np.ndarray) -> float:
    """Energy of detail finer than about one pixel over that of detail up to four pixels.

    Focus blur removes the finest band first, so the ratio falls with blur, and as a ratio
    it does not depend on contrast or brightness.
    """
    fine = gray - cv2.GaussianBlur(gray, (0, 0), 1.0)
    coarse = gray - cv2.GaussianBlur(gray, (0, 0), 4.0)
    coarse_energy = float(np.mean(coarse * coarse))
    if coarse_energy == 0.0:
        return 0.0
    return float(np.sqrt(np.mean(fine * fine) / coarse_energy))


def _glare_spots(small: np.ndarray, luminance: np.ndarray) -> int:
    """Number of specular highlights in an (H, W, 3) uint8 RGB image with its (H, W)
    luminance: small, compact, near-white spots (reflections off bubbles, sweat or gel) on
    a lit, coloured background."""
    red, green, blue = cv2.split(small)
    spread = cv2.subtract(cv2.max(cv2.max(red, green), blue), cv2.min(cv2.min(red, green), blue))
    bright = (luminance >= GLARE_LEVEL) & (spread <= GLARE_MAX_SPREAD)
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(
        bright.astype(np.uint8), connectivity=8
    )
    _left, _top, widths, heights, areas = stats[1:count].T
    candidates = (
        (areas >= GLARE_MIN_SPOT_PX)
        & (areas <= GLARE_MAX_SPOT_SHARE * bright.size)
        & (areas >= 0.5 * widths * heights)
        & (np.maximum(widths, heights) <= 2 * np.minimum(widths, heights))
    )
    spots = 0
    for left, top, width, height in stats[1:count][candidates, :4]:
        margin = max(width, height)
        window = np.s_[
            max(top - margin, 0) : top + height + margin,
            max(left - margin, 0) : left + width + margin,
        ]
        around = ~bright[window]
        # White glyphs on a device's grey caption bar look like spots; the bar around them
        # is dark and colourless, skin is neither.
        caption_like = (
            around.any()
            and np.median(luminance[window][around]) < CAPTION_MAX_LUMINANCE
            and np.median(spread[window][around]) <= CAPTION_MAX_SPREAD
        )
        spots += not caption_like
    return spots


def _cast_distance(a_star: np.ndarray, b_star: np.ndarray) -> float:
    if a_star.size == 0:
        return 0.0
    mean_a, mean_b = float(np.mean(a_star)), float(np.mean(b_star))
    off_a = max(SKIN_A_RANGE[0] - mean_a, 0.0, mean_a - SKIN_A_RANGE[1])
    off_b = max(SKIN_B_RANGE[0] - mean_b, 0.0, mean_b - SKIN_B_RANGE[1])
    return float(np.hypot(off_a, off_b))


def _green_share(a_star: np.ndarray, chroma: np.ndarray) -> float:
    """Share of clearly green or cyan pixels: plants and water, never skin or hair (a
    dermatoscope's cool light turns skin bluish or purple, which is not counted)."""
    if a_star.size == 0:
        return 0.0
    green = (a_star < GREEN_MAX_A_STAR) & (chroma > GREEN_MIN_CHROMA)
    return float(np.mean(green))


def _face_fraction(gray: np.ndarray) -> float:
    """Width of the largest frontal face in an (H, W) uint8 grey photo over its short side;
    faces narrower than a fifth of it are not searched (0.0 when none is found)."""
    gray = shrink_to_long_side(gray, FACE_SEARCH_LONG_SIDE_PX)
    short_side = min(gray.shape)
    faces = _face_detector().detect_multi_scale(
        img=gray.astype(np.float64) / 255.0,
        scale_factor=1.2,
        step_ratio=1,
        min_size=(short_side // 5, short_side // 5),
        max_size=(short_side, short_side),
        min_neighbor_number=FACE_MIN_NEIGHBOURS,
    )
    return max((face["width"] / short_side for face in faces), default=0.0)


@cache
def _face_detector() -> Cascade:
    # Loading the cascade takes longer than running it; it is read-only, so one per process.
    return Cascade(lbp_frontal_face_cascade_filename())


def _flat_share(rgb: np.ndarray) -> float:
    """Share of non-black 16×16 blocks in which every pixel has the same colour.

    Screens and documents are made of such blocks; a camera photo, even of smooth skin,
    has noise and texture in every block. Computed at full resolution (resampling would
    smooth texture into flatness) on every fourth row of blocks, plenty for a share.
    """
    block = FLAT_BLOCK_PX
    rows = rgb.shape[0] // block
    cols = rgb.shape[1] // block
    blocks = rgb[: rows * block, : cols * block].reshape(rows, block, cols, block, 3)[::4]
    first = blocks[:, :1, :, :1]
    lit = first.reshape(len(blocks), cols, 3).max(axis=-1) > DARK_LEVEL
    # A block whose first row already varies is not flat; only the rest (few in a photo)
    # need every pixel compared.
    flat = lit & np.all(blocks[:, 0] == first[:, 0], axis=(2, 3))
    candidates = np.nonzero(flat)
    flat[candidates] = np.all(
        blocks[candidates[0], :, candidates[1]] == first[candidates[0], :, candidates[1]],
        axis=(1, 2, 3),
    )
    lit_count = int(lit.sum())
    return float(flat.sum() / lit_count) if lit_count else 0.0
