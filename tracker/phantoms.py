"""Synthetic scalp photos with exact ground truth.

Two generators: trichoscopy close-ups (hairs of known count, width and colour, follicle
openings, bubbles, blur, lighting) and global photos (known coverage). Every image comes
with its truth, so accuracy and repeatability are measured, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
from scipy import ndimage

from tracker.measurement import TRICHOSCOPY_FIGURES

# --- Trichoscopy close-ups ---------------------------------------------------------------

HairColour = Literal["dark", "brown", "blond", "grey"]
HAIR_COLOURS: tuple[HairColour, ...] = ("dark", "brown", "blond", "grey")

# Approximate sRGB skin reflectance (0–1) for Fitzpatrick types I–VI.
FITZPATRICK_SKIN_RGB: dict[int, tuple[float, float, float]] = {
    1: (0.96, 0.84, 0.76),
    2: (0.91, 0.76, 0.65),
    3: (0.82, 0.65, 0.52),
    4: (0.68, 0.50, 0.37),
    5: (0.50, 0.34, 0.24),
    6: (0.33, 0.22, 0.16),
}
_HAIR_RGB: dict[str, tuple[float, float, float]] = {
    "dark": (0.10, 0.08, 0.07),
    "brown": (0.30, 0.20, 0.12),
    "blond": (0.72, 0.58, 0.36),
    "grey_pigmented": (0.25, 0.25, 0.25),
    "grey_white": (0.60, 0.60, 0.60),
}
# Share of units with 1, 2, 3 and 4 hairs: mean 1.99 hairs per unit.
_HAIRS_PER_UNIT_P = (0.35, 0.38, 0.20, 0.07)
TERMINAL_WIDTH_UM = (40.0, 120.0)
VELLUS_WIDTH_UM = (12.0, 28.0)


@dataclass(frozen=True)
class PhantomHair:
    """One hair shaft on a phantom scalp, in scene millimetres.

    The shaft starts at ``exit_mm`` (where it leaves its follicle opening, (x, y) with y
    pointing down) and runs ``length_mm`` along ``direction_rad``. ``rgb`` is its colour
    (0–1 sRGB) and ``opacity`` how much of the skin it hides (vellus hairs are paler).
    """

    exit_mm: tuple[float, float]
    direction_rad: float
    length_mm: float
    width_um: float
    rgb: tuple[float, float, float]
    opacity: float
    unit: int

    @property
    def tip_mm(self) -> tuple[float, float]:
        return (
            self.exit_mm[0] + self.length_mm * np.cos(self.direction_rad),
            self.exit_mm[1] + self.length_mm * np.sin(self.direction_rad),
        )

    @property
    def midpoint_mm(self) -> tuple[float, float]:
        tip = self.tip_mm
        return ((self.exit_mm[0] + tip[0]) / 2, (self.exit_mm[1] + tip[1]) / 2)


@dataclass(frozen=True)
class TrichoscopyScene:
    """A patch of scalp in millimetres, independent of how it is photographed.

    ``openings_mm[i]`` is the follicle opening of follicular unit ``i``; every hair names its
    unit. ``empty_follicles_mm`` are openings without a hair, ``yellow_dots_mm`` are
    (x, y, radius) sebum plugs, ``tattoo_mm`` an optional (x, y, radius) ink dot used to
    re-find the spot. Coordinates run over ``[0, field_mm[0]] × [0, field_mm[1]]``.
    """

    field_mm: tuple[float, float]
    skin_rgb: tuple[float, float, float]
    hairs: tuple[PhantomHair, ...]
    openings_mm: tuple[tuple[float, float], ...]
    empty_follicles_mm: tuple[tuple[float, float], ...] = ()
    yellow_dots_mm: tuple[tuple[float, float, float], ...] = ()
    tattoo_mm: tuple[float, float, float] | None = None
    hair_colour: HairColour = "dark"
    texture_seed: int = 0

    def with_hair_gain(self, fraction: float, *, seed: int) -> TrichoscopyScene:
        """The same scalp with ``round(fraction × hair count)`` new hairs.

        New hairs go into new follicular units (drawn like the originals) and, for a third
        of them, into existing units that have fewer than four hairs; every existing hair
        stays exactly where it was. A negative ``fraction`` removes that many hairs.
        """
        rng = np.random.default_rng(seed)
        change = round(fraction * len(self.hairs))
        if change < 0:
            keep = np.sort(rng.choice(len(self.hairs), len(self.hairs) + change, replace=False))
            return replace(self, hairs=tuple(self.hairs[i] for i in keep))
        hairs = list(self.hairs)
        openings = list(self.openings_mm)
        per_unit = np.bincount([h.unit for h in hairs], minlength=len(openings))
        reference = [h for h in hairs if h.width_um >= VELLUS_WIDTH_UM[1]] or hairs
        mean_direction = float(np.angle(np.mean([np.exp(1j * h.direction_rad) for h in hairs])))
        vellus_fraction = np.mean([h.width_um < 30.0 for h in hairs]) if hairs else 0.2
        added = 0
        while added < change:
            open_units = np.flatnonzero(per_unit < 4)
            if open_units.size and rng.random() < 1 / 3:
                unit = int(rng.choice(open_units))
            else:
                unit = len(openings)
                openings.append(_random_opening(rng, self.field_mm, openings))
                per_unit = np.append(per_unit, 0)
            sibling = next((h for h in hairs if h.unit == unit), None)
            direction = (
                sibling.direction_rad
                if sibling is not None
                else mean_direction + rng.normal(0.0, np.radians(25))
            )
            hairs.append(
                _random_hair(
                    rng,
                    exit_mm=openings[unit],
                    direction_rad=direction + rng.normal(0.0, np.radians(15)),
                    vellus=bool(rng.random() < vellus_fraction),
                    hair_colour=self.hair_colour,
                    skin_rgb=self.skin_rgb,
                    unit=unit,
                    lengths_mm=_length_range(reference),
                )
            )
            per_unit[unit] += 1
            added += 1
        return replace(self, hairs=tuple(hairs), openings_mm=tuple(openings))


def _length_range(hairs: list[PhantomHair]) -> tuple[float, float]:
    lengths = [h.length_mm for h in hairs]
    return (min(lengths), max(lengths)) if lengths else (0.5, 1.5)


def _random_opening(
    rng: np.random.Generator,
    field_mm: tuple[float, float],
    existing: list[tuple[float, float]],
    *,
    min_gap_mm: float = 0.25,
) -> tuple[float, float]:
    """A uniformly placed opening, re-drawn a few times to keep units apart."""
    points = np.asarray(existing, dtype=float).reshape(-1, 2)
    for _ in range(30):
        candidate = rng.uniform((0.0, 0.0), field_mm)
        if not len(points) or np.min(np.hypot(*(points - candidate).T)) >= min_gap_mm:
            break
    return (float(candidate[0]), float(candidate[1]))


def _random_hair(
    rng: np.random.Generator,
    *,
    exit_mm: tuple[float, float],
    direction_rad: float,
    vellus: bool,
    hair_colour: HairColour,
    skin_rgb: tuple[float, float, float],
    unit: int,
    lengths_mm: tuple[float, float],
) -> PhantomHair:
    if hair_colour == "grey":
        base = _HAIR_RGB["grey_pigmented" if rng.random() < 0.5 else "grey_white"]
    else:
        base = _HAIR_RGB[hair_colour]
    shade = rng.normal(1.0, 0.06)
    rgb = tuple(float(np.clip(c * shade, 0.0, 1.0)) for c in base)
    if vellus:
        width_um = rng.uniform(*VELLUS_WIDTH_UM)
        # Vellus hairs are hypopigmented: part of the skin shows through.
        opacity = rng.uniform(0.55, 0.8)
        length_mm = rng.uniform(0.5, 0.9) * lengths_mm[0] + rng.uniform(0.1, 0.3)
    else:
        width_um = float(np.clip(rng.normal(68.0, 16.0), *TERMINAL_WIDTH_UM))
        opacity = rng.uniform(0.92, 1.0)
        length_mm = rng.uniform(*lengths_mm)
    return PhantomHair(
        exit_mm=exit_mm,
        direction_rad=float(direction_rad),
        length_mm=float(length_mm),
        width_um=float(width_um),
        rgb=rgb,  # type: ignore[arg-type]
        opacity=float(opacity),
        unit=unit,
    )


def make_trichoscopy_scene(
    *,
    seed: int,
    density_per_cm2: float = 180.0,
    vellus_fraction: float = 0.15,
    field_mm: tuple[float, float] = (10.0, 8.0),
    skin_tone: int = 2,
    hair_colour: HairColour = "dark",
    lengths_mm: tuple[float, float] = (0.4, 1.2),
    empty_follicle_fraction: float = 0.08,
    yellow_dots_per_cm2: float = 10.0,
    tattoo: bool = False,
) -> TrichoscopyScene:
    """A random scalp patch with ``density_per_cm2`` hairs in follicular units.

    Units carry 1–4 hairs (mean ≈ 2) fanning out ±15° from a shared opening; directions
    follow one local flow ±25°. A share ``vellus_fraction`` of hairs are vellus
    (12–28 µm wide, short, pale); terminal hairs are 40–120 µm (mean ≈ 68 µm).
    ``skin_tone`` is the Fitzpatrick type 1–6. With ``tattoo`` an ink dot of 0.3 mm radius
    sits near the centre, away from hairs' openings.
    """
    if skin_tone not in FITZPATRICK_SKIN_RGB:
        raise ValueError(f"skin_tone must be a Fitzpatrick type 1–6, got {skin_tone}")
    if hair_colour not in HAIR_COLOURS:
        raise ValueError(f"hair_colour must be one of {HAIR_COLOURS}, got {hair_colour!r}")
    rng = np.random.default_rng(seed)
    skin_rgb = FITZPATRICK_SKIN_RGB[skin_tone]
    area_cm2 = field_mm[0] * field_mm[1] / 100.0
    target = round(density_per_cm2 * area_cm2)
    vellus = np.zeros(target, dtype=bool)
    vellus[: round(vellus_fraction * target)] = True
    rng.shuffle(vellus)
    flow_rad = rng.uniform(-np.pi, np.pi)
    tattoo_mm = None
    if tattoo:
        centre = np.asarray(field_mm) / 2 + rng.uniform(-0.5, 0.5, 2)
        tattoo_mm = (float(centre[0]), float(centre[1]), 0.3)
    openings: list[tuple[float, float]] = []
    hairs: list[PhantomHair] = []
    while len(hairs) < target:
        opening = _random_opening(rng, field_mm, openings)
        if tattoo_mm and np.hypot(opening[0] - tattoo_mm[0], opening[1] - tattoo_mm[1]) < 0.6:
            continue
        unit = len(openings)
        openings.append(opening)
        unit_direction = flow_rad + rng.normal(0.0, np.radians(25))
        n_hairs = min(int(rng.choice(4, p=_HAIRS_PER_UNIT_P)) + 1, target - len(hairs))
        for _ in range(n_hairs):
            hairs.append(
                _random_hair(
                    rng,
                    exit_mm=opening,
                    direction_rad=unit_direction + rng.normal(0.0, np.radians(15)),
                    vellus=bool(vellus[len(hairs)]),
                    hair_colour=hair_colour,
                    skin_rgb=skin_rgb,
                    unit=unit,
                    lengths_mm=lengths_mm,
                )
            )
    empty = [
        _random_opening(rng, field_mm, openings)
        for _ in range(round(empty_follicle_fraction * len(openings)))
    ]
    yellow = [
        (*_random_opening(rng, field_mm, openings), float(rng.uniform(0.05, 0.1)))
        for _ in range(round(yellow_dots_per_cm2 * area_cm2))
    ]
    return TrichoscopyScene(
        field_mm=field_mm,
        skin_rgb=skin_rgb,
        hairs=tuple(hairs),
        openings_mm=tuple(openings),
        empty_follicles_mm=tuple(empty),
        yellow_dots_mm=tuple(yellow),  # type: ignore[arg-type]
        tattoo_mm=tattoo_mm,
        hair_colour=hair_colour,
        texture_seed=seed,
    )


@dataclass(frozen=True)
class TrichoscopyConditions:
    """How one photo of a scene is taken.

    ``lighting_gradient`` is the fractional brightness change across the frame along
    ``lighting_angle_deg``; ``exposure`` scales brightness; ``white_balance`` scales R, G, B;
    ``blur_sigma_px`` is the optical blur and ``noise_sigma`` the sensor noise (0–1 scale)
    at the output resolution; ``jpeg_quality`` None keeps the frame lossless. ``bubbles`` is
    how many immersion-gel bubbles float over the skin; ``subskin_shadow`` (0–1) the
    strength of the bluish shadow of each shaft under the skin behind its opening;
    ``caption`` burns a caption bar of ``caption_height_fraction`` of the frame into the top
    or bottom. The pose rotates the dermatoscope by ``rotation_deg`` about the frame centre
    and shifts it by ``shift_mm`` (x, y). ``seed`` draws noise and bubbles.
    """

    lighting_gradient: float = 0.0
    lighting_angle_deg: float = 0.0
    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    blur_sigma_px: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int | None = None
    bubbles: int = 0
    subskin_shadow: float = 0.0
    caption: Literal["top", "bottom"] | None = None
    caption_height_fraction: float = 0.05
    rotation_deg: float = 0.0
    shift_mm: tuple[float, float] = (0.0, 0.0)
    seed: int = 0


@dataclass(frozen=True)
class TrichoscopyTruth:
    """Exact figures for one rendered frame (same names as ``TRICHOSCOPY_FIGURES``).

    A hair counts when its midpoint lies inside the measured area: the frame minus any
    caption bar. ``area_cm2`` is that area; ``vellus`` means narrower than
    ``vellus_threshold_um``. ``widths_um`` lists the counted hairs' widths and
    ``midpoints_px`` their midpoints as (x, y) pixels of the frame.
    """

    hair_count: int
    area_cm2: float
    density_per_cm2: float
    vellus_count: int
    terminal_count: int
    vellus_fraction: float
    mean_width_um: float | None
    follicular_units: int
    hairs_per_unit: float | None
    widths_um: tuple[float, ...]
    midpoints_px: tuple[tuple[float, float], ...]

    @property
    def figures(self) -> dict[str, float | int | None]:
        return {name: getattr(self, name) for name in TRICHOSCOPY_FIGURES}


def random_conditions(rng: np.random.Generator, *, severity: float = 0.5) -> TrichoscopyConditions:
    """Photo conditions drawn at random; ``severity`` 0 is a clean shot, 1 a poor one."""
    s = float(np.clip(severity, 0.0, 1.0))
    jpeg = None if rng.random() < 0.3 else int(rng.uniform(95 - 35 * s, 96))
    return TrichoscopyConditions(
        lighting_gradient=float(rng.uniform(0.0, 0.5 * s)),
        lighting_angle_deg=float(rng.uniform(0.0, 360.0)),
        exposure=float(rng.uniform(1 - 0.3 * s, 1 + 0.2 * s)),
        white_balance=tuple(float(g) for g in rng.uniform(1 - 0.15 * s, 1 + 0.15 * s, 3)),  # type: ignore[arg-type]
        blur_sigma_px=float(rng.uniform(0.3, 0.5 + 1.5 * s)),
        noise_sigma=float(rng.uniform(0.0, 0.035 * s)),
        jpeg_quality=jpeg,
        bubbles=int(rng.integers(0, 1 + round(4 * s))),
        subskin_shadow=float(rng.uniform(0.0, s)),
        caption=(None, None, None, "top", "bottom")[int(rng.integers(5))],
        rotation_deg=float(rng.uniform(-5.0, 5.0) * s),
        shift_mm=tuple(float(v) for v in rng.uniform(-0.3, 0.3, 2) * s),  # type: ignore[arg-type]
        seed=int(rng.integers(0, 2**31)),
    )


def _frame_transform(
    scene: TrichoscopyScene,
    *,
    px_per_mm: float,
    size_px: tuple[int, int],
    conditions: TrichoscopyConditions,
) -> tuple[np.ndarray, np.ndarray]:
    """(A, t) such that pixel (x, y) = A @ scene_mm + t."""
    angle = np.radians(conditions.rotation_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre_mm = np.asarray(scene.field_mm) / 2 + np.asarray(conditions.shift_mm)
    matrix = px_per_mm * rotation
    offset = np.asarray(size_px, dtype=float) / 2 - matrix @ centre_mm
    return matrix, offset


def _caption_rows(size_px: tuple[int, int], conditions: TrichoscopyConditions) -> slice | None:
    height = size_px[1]
    if conditions.caption is None:
        return None
    rows = max(1, round(conditions.caption_height_fraction * height))
    return slice(0, rows) if conditions.caption == "top" else slice(height - rows, height)


def _segment_frame(
    shape: tuple[int, int], start_px: np.ndarray, end_px: np.ndarray, margin_px: float
) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray, float] | None:
    """Window around a segment and, per pixel, its (along, across) offsets in pixels."""
    x0 = max(int(np.floor(min(start_px[0], end_px[0]) - margin_px)), 0)
    x1 = min(int(np.ceil(max(start_px[0], end_px[0]) + margin_px)) + 1, shape[1])
    y0 = max(int(np.floor(min(start_px[1], end_px[1]) - margin_px)), 0)
    y1 = min(int(np.ceil(max(start_px[1], end_px[1]) + margin_px)) + 1, shape[0])
    if x0 >= x1 or y0 >= y1:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(float)
    axis = end_px - start_px
    length = float(np.hypot(*axis))
    unit = axis / length if length > 0 else np.array([1.0, 0.0])
    rel_x, rel_y = xs - start_px[0], ys - start_px[1]
    along = rel_x * unit[0] + rel_y * unit[1]
    across = np.abs(-rel_x * unit[1] + rel_y * unit[0])
    return (slice(y0, y1), slice(x0, x1)), along, across, length


def _segment_coverage(
    shape: tuple[int, int], start_px: np.ndarray, end_px: np.ndarray, width_px: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """Area coverage (0–1) of each pixel by a straight shaft of ``width_px``.

    The coverage of a unit pixel by a band of width ``w`` at distance ``d`` from its axis is
    the overlap of [d − ½, d + ½] with [−w/2, w/2]: exact for axis-aligned shafts and
    area-preserving at any angle, so thin hairs keep their physical width on average.
    """
    frame = _segment_frame(shape, start_px, end_px, width_px / 2 + 1.5)
    if frame is None:
        return None
    window, along, across, length = frame
    # Clipped shafts end square; the half-pixel ramp along the axis anti-aliases the ends.
    along_cover = np.clip(np.minimum(along + 0.5, length + 0.5 - along), 0.0, 1.0)
    across_cover = np.clip(
        np.minimum(across + 0.5, width_px / 2) - np.maximum(across - 0.5, -width_px / 2),
        0.0,
        1.0,
    )
    return window, along_cover * across_cover


def _shadow_coverage(
    shape: tuple[int, int], start_px: np.ndarray, end_px: np.ndarray, sigma_px: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """A soft band (Gaussian across, fading along) from ``start_px`` towards ``end_px``."""
    frame = _segment_frame(shape, start_px, end_px, 3 * sigma_px)
    if frame is None:
        return None
    window, along, across, length = frame
    fade = np.clip(1 - along / max(length, 1.0), 0.0, 1.0) * np.clip(along / sigma_px + 1, 0, 1)
    return window, fade * np.exp(-0.5 * (across / sigma_px) ** 2)


def _disc_coverage(
    shape: tuple[int, int], centre_px: np.ndarray, radius_px: float, *, soft_px: float = 1.0
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    margin = radius_px + soft_px + 1
    x0, x1 = max(int(centre_px[0] - margin), 0), min(int(centre_px[0] + margin) + 1, shape[1])
    y0, y1 = max(int(centre_px[1] - margin), 0), min(int(centre_px[1] + margin) + 1, shape[0])
    if x0 >= x1 or y0 >= y1:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(float)
    distance = np.hypot(xs - centre_px[0], ys - centre_px[1])
    return (slice(y0, y1), slice(x0, x1)), np.clip((radius_px - distance) / soft_px + 0.5, 0, 1)


def _ring_coverage(
    shape: tuple[int, int], centre_px: np.ndarray, radius_px: float, width_px: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    region = _disc_coverage(shape, centre_px, radius_px + width_px, soft_px=1.0)
    if region is None:
        return None
    window, _ = region
    ys, xs = np.mgrid[window].astype(float)
    distance = np.abs(np.hypot(xs - centre_px[0], ys - centre_px[1]) - radius_px)
    return window, np.clip(width_px / 2 + 0.5 - distance, 0.0, 1.0)


def _blend(image: np.ndarray, region: tuple[tuple[slice, slice], np.ndarray] | None, rgb, alpha):
    if region is None:
        return
    window, coverage = region
    weight = (coverage * alpha)[..., None]
    image[window] = image[window] * (1 - weight) + np.asarray(rgb) * weight


def _multiply(image: np.ndarray, region, factor_rgb) -> None:
    if region is None:
        return
    window, coverage = region
    factor = 1 + coverage[..., None] * (np.asarray(factor_rgb) - 1)
    image[window] = image[window] * factor


def _skin_texture(shape: tuple[int, int], seed: int, px_per_mm: float) -> np.ndarray:
    """Multiplicative mottling (±4 %) with ~0.5 mm blobs and fine pores."""
    rng = np.random.default_rng(seed)
    coarse = ndimage.gaussian_filter(rng.normal(0, 1, shape), 0.5 * px_per_mm)
    coarse /= coarse.std() + 1e-9
    fine = ndimage.gaussian_filter(rng.normal(0, 1, shape), 0.03 * px_per_mm)
    fine /= fine.std() + 1e-9
    return 1 + 0.03 * coarse + 0.012 * fine


def render_trichoscopy(
    scene: TrichoscopyScene,
    *,
    px_per_mm: float,
    size_px: tuple[int, int] = (640, 480),
    conditions: TrichoscopyConditions = TrichoscopyConditions(),
) -> tuple[np.ndarray, TrichoscopyTruth]:
    """Photograph ``scene`` at ``px_per_mm`` into a (H, W, 3) uint8 RGB frame.

    ``size_px`` is (width, height). The frame is centred on the scene (moved by the pose in
    ``conditions``). Returns the frame and the exact truth for it.
    """
    width, height = size_px
    shape = (height, width)
    matrix, offset = _frame_transform(
        scene, px_per_mm=px_per_mm, size_px=size_px, conditions=conditions
    )

    def to_px(point_mm) -> np.ndarray:
        return matrix @ np.asarray(point_mm[:2], dtype=float) + offset

    rng = np.random.default_rng(conditions.seed)
    skin = np.asarray(scene.skin_rgb, dtype=float)
    image = np.empty((height, width, 3))
    image[:] = skin
    image *= _skin_texture(shape, scene.texture_seed, px_per_mm)[..., None]

    um_px = px_per_mm / 1000.0
    if conditions.subskin_shadow > 0:
        shadow_rgb = 1 - conditions.subskin_shadow * np.array([0.35, 0.28, 0.10])
        for hair in scene.hairs:
            back = hair.direction_rad + np.pi
            length_mm = 0.25 + 0.4 * hair.length_mm
            end_mm = np.asarray(hair.exit_mm) + length_mm * np.array([np.cos(back), np.sin(back)])
            sigma_px = (0.8 * hair.width_um + 30.0) * um_px
            region = _shadow_coverage(shape, to_px(hair.exit_mm), to_px(end_mm), sigma_px)
            _multiply(image, region, 1 - hair.opacity * (1 - shadow_rgb))
    for x, y, radius in scene.yellow_dots_mm:
        region = _disc_coverage(shape, to_px((x, y)), radius * px_per_mm, soft_px=3)
        _multiply(image, region, (1.06, 0.97, 0.62))
    for opening in (*scene.openings_mm, *scene.empty_follicles_mm):
        region = _disc_coverage(shape, to_px(opening), 0.04 * px_per_mm, soft_px=2)
        _multiply(image, region, (0.82, 0.76, 0.74))
    if scene.tattoo_mm is not None:
        region = _disc_coverage(
            shape, to_px(scene.tattoo_mm), scene.tattoo_mm[2] * px_per_mm, soft_px=4
        )
        _blend(image, region, (0.18, 0.22, 0.35), 0.85)
    for hair in scene.hairs:
        region = _segment_coverage(
            shape, to_px(hair.exit_mm), to_px(hair.tip_mm), hair.width_um * um_px
        )
        _blend(image, region, hair.rgb, hair.opacity)
    for _ in range(conditions.bubbles):
        centre = rng.uniform((0, 0), size_px)
        radius = rng.uniform(0.15, 0.6) * px_per_mm
        _multiply(image, _disc_coverage(shape, centre, radius, soft_px=2), (1.12, 1.12, 1.14))
        rim_width_px = max(1.5, 0.02 * px_per_mm)
        _multiply(image, _ring_coverage(shape, centre, radius, rim_width_px), (0.85, 0.86, 0.88))
        glint = _disc_coverage(shape, centre + radius * 0.4, radius * 0.15, soft_px=2)
        _blend(image, glint, (1.0, 1.0, 1.0), 0.8)

    if conditions.lighting_gradient:
        ys, xs = np.mgrid[0:height, 0:width]
        angle = np.radians(conditions.lighting_angle_deg)
        ramp = ((xs - width / 2) * np.cos(angle) + (ys - height / 2) * np.sin(angle)) / max(
            width, height
        )
        image *= (1 + conditions.lighting_gradient * ramp)[..., None]
    image *= conditions.exposure * np.asarray(conditions.white_balance)
    if conditions.blur_sigma_px > 0:
        image = ndimage.gaussian_filter(image, (conditions.blur_sigma_px,) * 2 + (0,))
    if conditions.noise_sigma > 0:
        image += rng.normal(0.0, conditions.noise_sigma, image.shape)
    caption = _caption_rows(size_px, conditions)
    if caption is not None:
        _burn_caption(image, caption, rng)
    frame = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    if conditions.jpeg_quality is not None:
        _, encoded = cv2.imencode(
            ".jpg", frame[..., ::-1], (cv2.IMWRITE_JPEG_QUALITY, conditions.jpeg_quality)
        )
        frame = np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])
    return frame, _frame_truth(scene, matrix, offset, size_px, caption, px_per_mm)


def _burn_caption(image: np.ndarray, rows: slice, rng: np.random.Generator) -> None:
    """A flat grey bar with white glyph-like blocks, like a dermatoscope's status line."""
    band = image[rows]
    band[:] = 0.27
    height = band.shape[0]
    x = 4
    while x < band.shape[1] - 10:
        glyph = int(rng.integers(3, 9))
        band[height // 4 : height - height // 4, x : x + glyph] = 0.95
        x += glyph + int(rng.integers(2, 12))


def _frame_truth(
    scene: TrichoscopyScene,
    matrix: np.ndarray,
    offset: np.ndarray,
    size_px: tuple[int, int],
    caption: slice | None,
    px_per_mm: float,
    vellus_threshold_um: float = 30.0,
) -> TrichoscopyTruth:
    width, height = size_px
    row_min, row_max = 0.0, float(height)
    if caption is not None:
        if caption.start == 0:
            row_min = float(caption.stop)
        else:
            row_max = float(caption.start)
    counted = []
    for hair in scene.hairs:
        x, y = matrix @ np.asarray(hair.midpoint_mm) + offset
        if 0 <= x < width and row_min <= y < row_max:
            counted.append((hair, (float(x), float(y))))
    widths = tuple(hair.width_um for hair, _ in counted)
    n = len(counted)
    vellus = sum(w < vellus_threshold_um for w in widths)
    units = len({hair.unit for hair, _ in counted})
    area_cm2 = width * (row_max - row_min) / px_per_mm**2 / 100.0
    return TrichoscopyTruth(
        hair_count=n,
        area_cm2=area_cm2,
        density_per_cm2=n / area_cm2,
        vellus_count=vellus,
        terminal_count=n - vellus,
        vellus_fraction=vellus / n if n else 0.0,
        mean_width_um=float(np.mean(widths)) if n else None,
        follicular_units=units,
        hairs_per_unit=n / units if units else None,
        widths_um=widths,
        midpoints_px=tuple(point for _, point in counted),
    )


@dataclass(frozen=True)
class TrichoscopyCase:
    """One frame of the benchmark set: a scene and how it is photographed."""

    name: str
    scene: TrichoscopyScene
    px_per_mm: float
    size_px: tuple[int, int]
    conditions: TrichoscopyConditions

    def render(self) -> tuple[np.ndarray, TrichoscopyTruth]:
        return render_trichoscopy(
            self.scene, px_per_mm=self.px_per_mm, size_px=self.size_px, conditions=self.conditions
        )


def trichoscopy_benchmark_set(
    *, count: int = 200, seed: int = 2024, size_px: tuple[int, int] = (800, 600)
) -> list[TrichoscopyCase]:
    """The fixed, seeded benchmark set.

    Cases span 40–300 hairs/cm², 5–45 % vellus, Fitzpatrick I–VI, dark, brown, blond and
    grey hair (blond and grey only on types I–III, brown up to IV: lighter shafts on darker
    skin have the skin's brightness or more, which the engine does not handle), 70–140
    px/mm, and conditions of
    severity 0–1 (blur, noise, JPEG, bubbles, shadows, captions, pose). Every fifth case
    carries a tattoo dot.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for index in range(count):
        px_per_mm = float(rng.uniform(70.0, 140.0))
        skin_tone = int(rng.integers(1, 7))
        colours = (
            HAIR_COLOURS if skin_tone <= 3 else ("dark", "brown") if skin_tone == 4 else ("dark",)
        )
        frame_mm = np.asarray(size_px) / px_per_mm
        scene = make_trichoscopy_scene(
            seed=int(rng.integers(0, 2**31)),
            density_per_cm2=float(rng.uniform(40.0, 300.0)),
            vellus_fraction=float(rng.uniform(0.05, 0.45)),
            field_mm=(float(frame_mm[0] + 5.0), float(frame_mm[1] + 5.0)),
            skin_tone=skin_tone,
            hair_colour=colours[int(rng.integers(len(colours)))],
            tattoo=index % 5 == 0,
        )
        conditions = random_conditions(rng, severity=float(rng.uniform(0.0, 1.0)))
        cases.append(TrichoscopyCase(f"tricho-{index:03d}", scene, px_per_mm, size_px, conditions))
    return cases


# --- Global photos -----------------------------------------------------------------------
