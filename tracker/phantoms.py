"""Synthetic scalp photos with exact ground truth.

Two generators: trichoscopy close-ups (hairs of known count, width and colour, follicle
openings, bubbles, blur, lighting) and global photos (known coverage). Every image comes
with its truth, so accuracy and repeatability are measured, not assumed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
from scipy import ndimage

from tracker.imaging.coverage import Roi
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
            siblings = [h.direction_rad for h in hairs if h.unit == unit]
            if siblings:
                # Join the fan on one side, 12–25° beyond the outermost sibling.
                side = 1 if rng.random() < 0.5 else -1
                outer = max(siblings) if side > 0 else min(siblings)
                direction = outer + side * np.radians(rng.uniform(12.0, 25.0))
            else:
                direction = mean_direction + rng.normal(0.0, np.radians(25))
            hairs.append(
                _random_hair(
                    rng,
                    exit_mm=openings[unit],
                    direction_rad=direction,
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
    rgb = tuple(min(max(float(c * shade), 0.0), 1.0) for c in base)
    if vellus:
        width_um = rng.uniform(*VELLUS_WIDTH_UM)
        # Vellus hairs are hypopigmented: part of the skin shows through.
        opacity = rng.uniform(0.55, 0.8)
        length_mm = rng.uniform(0.5, 0.9) * lengths_mm[0] + rng.uniform(0.1, 0.3)
    else:
        width_um = min(
            max(float(rng.normal(68.0, 16.0)), TERMINAL_WIDTH_UM[0]), TERMINAL_WIDTH_UM[1]
        )
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


# Hair lengths of the phantom scenes (mm): short, as clipped for a phototrichogram.
HAIR_LENGTHS_MM = (0.4, 1.2)


def make_trichoscopy_scene(
    *,
    seed: int,
    density_per_cm2: float = 180.0,
    vellus_fraction: float = 0.15,
    field_mm: tuple[float, float] = (10.0, 8.0),
    skin_tone: int = 2,
    hair_colour: HairColour = "dark",
    lengths_mm: tuple[float, float] = HAIR_LENGTHS_MM,
    empty_follicle_fraction: float = 0.08,
    yellow_dots_per_cm2: float = 10.0,
    tattoo: bool = False,
) -> TrichoscopyScene:
    """A random scalp patch with ``density_per_cm2`` hairs in follicular units.

    Units carry 1–4 hairs (mean ≈ 2) fanning out 12–25° apart from a shared opening;
    directions follow one local flow ±25°. A share ``vellus_fraction`` of hairs are vellus
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
        # Hairs of a unit fan out from the shared opening, 12–25° apart.
        fan_rad = np.radians(rng.uniform(12.0, 25.0))
        for position in range(n_hairs):
            hairs.append(
                _random_hair(
                    rng,
                    exit_mm=opening,
                    direction_rad=unit_direction
                    + (position - (n_hairs - 1) / 2) * fan_rad
                    + rng.normal(0.0, np.radians(3)),
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
    ``midpoints_px`` their midpoints as (x, y) pixels of the frame, ``shafts_px`` each
    one's shaft from skin exit to tip as (x0, y0, x1, y1) pixels and ``units_of_hairs``
    the index of its follicular unit in the scene.
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
    shafts_px: tuple[tuple[float, float, float, float], ...]
    units_of_hairs: tuple[int, ...]

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
    return frame, _frame_truth(scene, to_px, size_px, caption, px_per_mm)


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
    to_px: Callable[[Sequence[float]], np.ndarray],
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
        x, y = (float(v) for v in to_px(hair.midpoint_mm))
        if 0 <= x < width and row_min <= y < row_max:
            counted.append((hair, (x, y)))
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
        shafts_px=tuple(
            tuple(float(v) for end in (hair.exit_mm, hair.tip_mm) for v in to_px(end))
            for hair, _ in counted
        ),
        units_of_hairs=tuple(hair.unit for hair, _ in counted),
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


TRICHOSCOPY_BENCHMARK_SEED = 2024


def trichoscopy_benchmark_set(
    *,
    count: int = 200,
    seed: int = TRICHOSCOPY_BENCHMARK_SEED,
    size_px: tuple[int, int] = (800, 600),
    lengths_mm: tuple[float, float] = HAIR_LENGTHS_MM,
) -> list[TrichoscopyCase]:
    """The fixed, seeded benchmark set.

    Cases span 40–300 hairs/cm², 5–45 % vellus, Fitzpatrick I–VI, dark, brown, blond and
    grey hair (blond and grey only on types I–III, brown up to IV: lighter shafts on darker
    skin have the skin's brightness or more, which the engine does not handle), 70–140
    px/mm, and conditions of
    severity 0–1 (blur, noise, JPEG, bubbles, shadows, captions, pose). Every fifth case
    carries a tattoo dot. ``lengths_mm`` is the scenes' range of hair lengths (see
    ``make_trichoscopy_scene``); another range keeps every other draw, so the same scenes
    grow longer or shorter hair.
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
            lengths_mm=lengths_mm,
            tattoo=index % 5 == 0,
        )
        conditions = random_conditions(rng, severity=float(rng.uniform(0.0, 1.0)))
        cases.append(TrichoscopyCase(f"tricho-{index:03d}", scene, px_per_mm, size_px, conditions))
    return cases


# --- Global photos -----------------------------------------------------------------------

GlobalHairColour = Literal["black", "brown", "blond", "grey", "red"]
GLOBAL_HAIR_COLOURS: tuple[GlobalHairColour, ...] = ("black", "brown", "blond", "grey", "red")
ThinningPattern = Literal["vertex", "part", "frontal", "diffuse"]
THINNING_PATTERNS: tuple[ThinningPattern, ...] = ("vertex", "part", "frontal", "diffuse")

# Approximate sRGB (0–255) of scalp skin for Fitzpatrick types I–VI, and of hair seen as
# strands in a global photo.
_GLOBAL_SKIN_SRGB: dict[int, tuple[float, float, float]] = {
    1: (236.0, 205.0, 190.0),
    2: (225.0, 185.0, 160.0),
    3: (200.0, 155.0, 125.0),
    4: (165.0, 120.0, 90.0),
    5: (120.0, 82.0, 60.0),
    6: (82.0, 56.0, 44.0),
}
_GLOBAL_HAIR_SRGB: dict[str, tuple[float, float, float]] = {
    "black": (30.0, 25.0, 22.0),
    "brown": (85.0, 60.0, 40.0),
    "blond": (200.0, 170.0, 115.0),
    "grey": (165.0, 162.0, 156.0),
    "red": (150.0, 72.0, 40.0),
}
# Strands are rooted anywhere in this square (frame widths), wider than any posed frame.
_GLOBAL_ROOT_EXTENT = (-0.2, 1.2)
_GLOBAL_STRAND_POINTS = 7
# Coverage while generating is judged on this canonical frame (height, width) at pixel centres.
_GLOBAL_REFERENCE_SIZE_PX = (480, 640)


def _srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB values in 0–1 to linear light (IEC 61966-2-1)."""
    srgb = np.asarray(srgb, dtype=np.float64)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light in 0–1 to sRGB values in 0–1 (clipped)."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


@dataclass(frozen=True, eq=False)
class GlobalScene:
    """A head seen in a standardized global view: hair strands lying over the scalp.

    Coordinates are in frame widths: the un-posed camera frame spans x in [0, 1] and is
    centred on y = 0.5 (y grows downwards). ``paths`` (N, K, 2) are strand centre lines as
    (x, y) points, ``widths`` (N,) their widths and ``colours_linear`` (N, 3) their
    linear-RGB colours, drawn in order (later strands lie on top). ``skin_linear`` (3,) is
    the scalp's linear-RGB colour. ``coverage_target`` (percent) is what the strands were
    generated for; the exact coverage of a photo comes from :func:`render_global`.
    """

    paths: np.ndarray
    widths: np.ndarray
    colours_linear: np.ndarray
    skin_linear: np.ndarray
    skin_tone: int
    hair_colour: GlobalHairColour
    pattern: ThinningPattern
    pattern_centre: tuple[float, float]
    strand_width: tuple[float, float]
    coverage_target: float
    seed: int

    def with_coverage_gain(self, points: float, *, seed: int) -> GlobalScene:
        """The same head after regrowth: new strands, rooted mostly where it was thinning,
        raise the canonical-frame coverage by about ``points`` percentage points."""
        rng = np.random.default_rng([self.seed, seed, 7])
        start = 100.0 * np.mean(_reference_canvas(self.paths, self.widths) > 0)
        return _grow_scene(self, rng, target_pct=start + points, regrowth=True)


@dataclass(frozen=True)
class GlobalConditions:
    """How one global photo is taken. Neutral values reproduce the scene as it is.

    ``light_gradient`` is the relative brightness change across the frame along
    ``light_angle_deg``; ``vignetting`` the relative darkening at the frame corners;
    ``exposure`` a linear gain; ``white_balance`` per-channel (r, g, b) gains. ``shine``
    lists scalp specular highlights as (x, y, radius, strength) in frame widths and linear
    light; hair hides the shine it covers. ``blur_px`` is a Gaussian sigma, ``noise``
    a Gaussian sigma in 8-bit levels, ``jpeg_quality`` None for no compression. The pose
    (``rotation_deg``, ``scale``, ``shift``) moves the head in the frame.
    """

    light_gradient: float = 0.0
    light_angle_deg: float = 0.0
    vignetting: float = 0.0
    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    shine: tuple[tuple[float, float, float, float], ...] = ()
    blur_px: float = 0.0
    noise: float = 0.0
    jpeg_quality: int | None = None
    rotation_deg: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True, eq=False)
class GlobalTruth:
    """What a rendered global photo really shows.

    ``hair_fraction`` (H, W) float is the supersampled share of each pixel that hair
    covers; ``region_mask`` (H, W) bool the analysed region; ``coverage_pct`` the percent of
    region pixels with ``hair_fraction`` ≥ 0.5.
    """

    coverage_pct: float
    hair_fraction: np.ndarray
    region_mask: np.ndarray

    @property
    def hair_mask(self) -> np.ndarray:
        """(H, W) bool: region pixels that hair dominates."""
        return (self.hair_fraction >= 0.5) & self.region_mask


def _root_weight(
    pattern: ThinningPattern, centre: tuple[float, float], xy: np.ndarray
) -> np.ndarray:
    """Relative root density (0–1) at points (M, 2): where the pattern thins the hair."""
    cx, cy = centre
    x, y = xy[:, 0], xy[:, 1]
    if pattern == "vertex":
        return np.clip((np.hypot(x - cx, y - cy) - 0.08) / 0.25, 0.05, 1.0)
    if pattern == "part":
        return np.clip((np.abs(x - cx - 0.05 * (y - cy)) - 0.01) / 0.08, 0.0, 1.0)
    if pattern == "frontal":
        hairline = cy + 0.1 - 0.5 * (x - cx) ** 2
        return np.clip((hairline - y) / 0.1, 0.0, 1.0)
    return np.ones_like(x)


def _flow_angle(
    pattern: ThinningPattern, centre: tuple[float, float], xy: np.ndarray
) -> np.ndarray:
    """Direction (radians, image axes) hair is combed in at points (M, 2)."""
    cx, cy = centre
    x, y = xy[:, 0], xy[:, 1]
    if pattern == "vertex":
        return np.arctan2(y - cy, x - cx) + np.deg2rad(65.0)
    if pattern == "part":
        return np.where(x > cx + 0.05 * (y - cy), np.deg2rad(30.0), np.deg2rad(150.0))
    if pattern == "frontal":
        return np.full_like(x, -np.pi / 2)
    return np.full_like(x, np.deg2rad(80.0))


def _new_strands(
    rng: np.random.Generator,
    count: int,
    scene_like: GlobalScene,
    *,
    regrowth: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` random strands: paths (count, K, 2), widths (count,), colours (count, 3)."""
    lo, hi = _GLOBAL_ROOT_EXTENT
    roots = np.empty((0, 2))
    while len(roots) < count:
        candidates = rng.uniform(lo, hi, size=(4 * count, 2))
        weight = _root_weight(scene_like.pattern, scene_like.pattern_centre, candidates)
        # Regrowth fills the thin areas: keep roots where the pattern thinned the hair.
        keep_p = 1.0 - 0.9 * weight if regrowth else weight
        roots = np.vstack([roots, candidates[rng.uniform(size=len(candidates)) < keep_p]])
    roots = roots[:count]
    lengths = rng.uniform(0.06, 0.16, size=count)
    step = lengths / (_GLOBAL_STRAND_POINTS - 1)
    turn = rng.normal(0.0, 2.5, size=count)  # radians per frame width of length
    angle = _flow_angle(scene_like.pattern, scene_like.pattern_centre, roots)
    angle = angle + rng.normal(0.0, 0.3, size=count)
    paths = np.empty((count, _GLOBAL_STRAND_POINTS, 2))
    paths[:, 0] = roots
    for k in range(1, _GLOBAL_STRAND_POINTS):
        flow = _flow_angle(scene_like.pattern, scene_like.pattern_centre, paths[:, k - 1])
        # Follow the combing direction a little while keeping the strand's own curl.
        angle = angle + turn * step + 0.15 * np.angle(np.exp(1j * (flow - angle)))
        paths[:, k] = paths[:, k - 1] + step[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    w_lo, w_hi = scene_like.strand_width
    widths = np.exp(rng.uniform(np.log(w_lo), np.log(w_hi), size=count))
    base = _srgb_to_linear(np.array(_GLOBAL_HAIR_SRGB[scene_like.hair_colour]) / 255.0)
    brightness = np.exp(rng.normal(0.0, 0.12, size=(count, 1)))
    tint = np.exp(rng.normal(0.0, 0.03, size=(count, 3)))
    colours = np.clip(base * brightness * tint, 0.0, 1.0)
    return paths, widths, colours


def _view_matrix(size_px: tuple[int, int], conditions: GlobalConditions) -> np.ndarray:
    """(2, 3) affine map from scene coordinates (frame widths) to output pixel coordinates
    (x, y) with pixel centres at integers."""
    height, width = size_px
    theta = np.deg2rad(conditions.rotation_deg)
    rot = conditions.scale * np.array(
        [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    )
    centre = np.array([0.5, 0.5])
    offset = centre + np.asarray(conditions.shift) - rot @ centre
    to_px = width * np.hstack([rot, offset[:, None]])
    to_px[:, 2] += np.array([width / 2, height / 2]) - width * centre - 0.5
    return to_px


def _ribbon(path_px: np.ndarray, width_px: float) -> np.ndarray:
    """Outline (2K, 2) of a strand of ``width_px`` around its centre line (K, 2)."""
    tangent = np.gradient(path_px, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1) * (width_px / 2)
    return np.vstack([path_px + normal, (path_px - normal)[::-1]])


def _fill_strands(
    canvas: np.ndarray,
    paths: np.ndarray,
    widths: np.ndarray,
    matrix: np.ndarray,
    supersample: int,
    first_label: int = 1,
) -> None:
    """Paint strands in order onto ``canvas`` (H·s, W·s) int32, strand i as ``first_label + i``."""
    # Output pixel centre u maps to subsample coordinate (u + 0.5)·s − 0.5.
    points = (paths @ matrix[:, :2].T + matrix[:, 2] + 0.5) * supersample - 0.5
    # OpenCV fills the boundary pixels of a polygon too; shrinking the outline by half a
    # subsample makes the fill the set of subsample centres inside the strand.
    widths_ss = widths * np.hypot(*matrix[:, 0]) * supersample - 1.0
    span = np.array([canvas.shape[1], canvas.shape[0]])
    for index, (path, width_ss) in enumerate(zip(points, widths_ss, strict=True)):
        if (
            width_ss <= 0
            or (path.max(0) < -width_ss).any()
            or (path.min(0) > span + width_ss).any()
        ):
            continue
        ends = path[[0, -1]] + np.array([[1.0], [-1.0]]) * 0.5 * _unit(
            path[[1, -1]] - path[[0, -2]]
        )
        shrunk = np.vstack([ends[0], path[1:-1], ends[1]])
        outline = np.round(_ribbon(shrunk, width_ss) * 16.0).astype(np.int32)  # 4 fractional bits
        cv2.fillPoly(canvas, [outline], first_label + index, lineType=cv2.LINE_8, shift=4)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean over non-overlapping ``factor``×``factor`` blocks of an (H·f, W·f, ...) array."""
    h, w = image.shape[0] // factor, image.shape[1] // factor
    return image.reshape(h, factor, w, factor, *image.shape[2:]).mean(axis=(1, 3))


def _reference_canvas(paths: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The strands painted on the canonical reference frame, one sample per pixel."""
    canvas = np.zeros(_GLOBAL_REFERENCE_SIZE_PX, np.int32)
    _fill_strands(
        canvas, paths, widths, _view_matrix(_GLOBAL_REFERENCE_SIZE_PX, GlobalConditions()), 1
    )
    return canvas


def _grow_scene(
    scene: GlobalScene, rng: np.random.Generator, *, target_pct: float, regrowth: bool
) -> GlobalScene:
    """Add strands to ``scene`` in batches until the reference coverage reaches the target."""
    canvas = _reference_canvas(scene.paths, scene.widths)
    matrix = _view_matrix(_GLOBAL_REFERENCE_SIZE_PX, GlobalConditions())
    paths, widths, colours = [scene.paths], [scene.widths], [scene.colours_linear]
    while 100.0 * np.mean(canvas > 0) < target_pct and sum(map(len, widths)) < 40_000:
        new_paths, new_widths, new_colours = _new_strands(rng, 100, scene, regrowth=regrowth)
        _fill_strands(canvas, new_paths, new_widths, matrix, 1)
        paths.append(new_paths)
        widths.append(new_widths)
        colours.append(new_colours)
    return replace(
        scene,
        paths=np.concatenate(paths),
        widths=np.concatenate(widths),
        colours_linear=np.concatenate(colours),
        coverage_target=target_pct,
    )


def make_global_scene(
    *,
    seed: int,
    coverage_target: float,
    skin_tone: int = 2,
    hair_colour: GlobalHairColour = "brown",
    pattern: ThinningPattern = "vertex",
    strand_width: tuple[float, float] = (0.003, 0.008),
) -> GlobalScene:
    """A random head whose canonical frame has about ``coverage_target`` percent coverage.

    ``skin_tone`` is the Fitzpatrick type 1–6; ``strand_width`` the range of strand widths
    in frame widths (strands are locks of a few hairs; 0.003 is 2 px in a 640-px photo).
    """
    if skin_tone not in _GLOBAL_SKIN_SRGB:
        raise ValueError(f"skin_tone must be a Fitzpatrick type 1–6, got {skin_tone}")
    if hair_colour not in GLOBAL_HAIR_COLOURS:
        raise ValueError(f"hair_colour must be one of {GLOBAL_HAIR_COLOURS}, got {hair_colour!r}")
    if pattern not in THINNING_PATTERNS:
        raise ValueError(f"pattern must be one of {THINNING_PATTERNS}, got {pattern!r}")
    rng = np.random.default_rng([seed, 11])
    centre = (0.5 + rng.uniform(-0.08, 0.08), 0.5 + rng.uniform(-0.08, 0.08))
    empty = GlobalScene(
        paths=np.empty((0, _GLOBAL_STRAND_POINTS, 2)),
        widths=np.empty(0),
        colours_linear=np.empty((0, 3)),
        skin_linear=_srgb_to_linear(np.array(_GLOBAL_SKIN_SRGB[skin_tone]) / 255.0),
        skin_tone=skin_tone,
        hair_colour=hair_colour,
        pattern=pattern,
        pattern_centre=centre,
        strand_width=strand_width,
        coverage_target=coverage_target,
        seed=seed,
    )
    return _grow_scene(empty, rng, target_pct=coverage_target, regrowth=False)


def render_global(
    scene: GlobalScene,
    *,
    size_px: tuple[int, int] = (480, 640),
    conditions: GlobalConditions = GlobalConditions(),
    roi: Roi | None = None,
    supersample: int = 3,
) -> tuple[np.ndarray, GlobalTruth]:
    """Photograph ``scene`` at ``size_px`` (height, width) under ``conditions``.

    Returns the (H, W, 3) uint8 sRGB photo and its truth. Each pixel's colour is the mean of
    ``supersample``² subsamples in linear light, and ``hair_fraction`` is the share of those
    subsamples that hair covers, so the truth is exact for this frame (an odd
    ``supersample`` leaves no pixel exactly half covered). The region is ``roi``
    or the whole frame.
    """
    height, width = size_px
    matrix = _view_matrix(size_px, conditions)
    index = np.zeros((height * supersample, width * supersample), np.int32)
    _fill_strands(index, scene.paths, scene.widths, matrix, supersample)
    palette = np.vstack([scene.skin_linear, scene.colours_linear]).astype(np.float32)
    albedo = _block_mean(palette[index], supersample)
    hair_fraction = _block_mean((index > 0).astype(np.float32), supersample)
    region = np.ones(size_px, bool) if roi is None else roi.mask(size_px)

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    # Light and shine are fixed to the camera, in frame widths about the frame centre.
    u, v = (xx - (width - 1) / 2) / width, (yy - (height - 1) / 2) / width
    theta = np.deg2rad(conditions.light_angle_deg)
    light = 1.0 + conditions.light_gradient * (u * np.cos(theta) + v * np.sin(theta))
    corner_r2 = 0.25 + (height / width / 2) ** 2
    light *= 1.0 - conditions.vignetting * (u**2 + v**2) / corner_r2
    shine = np.zeros(size_px)
    for sx, sy, radius, strength in conditions.shine:
        shine += strength * np.exp(-((u - sx + 0.5) ** 2 + (v - sy + 0.5) ** 2) / (2 * radius**2))
    linear = light[..., None] * albedo + (shine * (1.0 - hair_fraction))[..., None]
    linear = linear * conditions.exposure * np.asarray(conditions.white_balance)
    if conditions.blur_px > 0:
        linear = cv2.GaussianBlur(linear, (0, 0), conditions.blur_px)
    srgb = _linear_to_srgb(linear) * 255.0
    if conditions.noise > 0:
        noise_rng = np.random.default_rng([scene.seed, hash(conditions) % 2**32, 13])
        srgb = srgb + noise_rng.normal(0.0, conditions.noise, srgb.shape)
    rgb = np.clip(np.round(srgb), 0, 255).astype(np.uint8)
    if conditions.jpeg_quality is not None:
        _, encoded = cv2.imencode(
            ".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, conditions.jpeg_quality]
        )
        rgb = np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])
    truth = GlobalTruth(
        coverage_pct=float(100.0 * np.mean(hair_fraction[region] >= 0.5)),
        hair_fraction=hair_fraction,
        region_mask=region,
    )
    return rgb, truth


def random_global_conditions(rng: np.random.Generator, *, shine: bool) -> GlobalConditions:
    """Plausible clinic conditions: uneven light, exposure and white-balance error, mild
    blur, sensor noise, JPEG, a small pose error and, if ``shine``, scalp highlights."""
    highlights = tuple(
        (
            rng.uniform(0.2, 0.8),
            rng.uniform(0.25, 0.75),
            rng.uniform(0.03, 0.1),
            rng.uniform(0.1, 0.35),
        )
        for _ in range(rng.integers(1, 4) if shine else 0)
    )
    return GlobalConditions(
        light_gradient=rng.uniform(0.0, 0.5),
        light_angle_deg=rng.uniform(0.0, 360.0),
        vignetting=rng.uniform(0.0, 0.3),
        exposure=float(np.exp(rng.uniform(-0.35, 0.25))),
        white_balance=tuple(np.exp(rng.normal(0.0, 0.08, 3) * np.array([1.0, 0.3, 1.0]))),
        shine=highlights,
        blur_px=rng.uniform(0.0, 0.8),
        noise=rng.uniform(0.5, 3.0),
        jpeg_quality=int(rng.integers(80, 96)),
        rotation_deg=rng.uniform(-3.0, 3.0),
        scale=rng.uniform(0.97, 1.03),
        shift=(rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02)),
    )


def next_visit_conditions(conditions: GlobalConditions, *, seed: int) -> GlobalConditions:
    """The same head re-shot at a later visit: the light, white balance, focus and pose
    change a little; the shine (a property of the scalp under that light) moves with them."""
    rng = np.random.default_rng([seed, 17])
    return replace(
        conditions,
        light_gradient=float(np.clip(conditions.light_gradient + rng.normal(0.0, 0.1), 0.0, 0.6)),
        light_angle_deg=conditions.light_angle_deg + rng.normal(0.0, 30.0),
        exposure=conditions.exposure * float(np.exp(rng.normal(0.0, 0.12))),
        white_balance=tuple(
            np.asarray(conditions.white_balance) * np.exp(rng.normal(0.0, 0.05, 3))
        ),
        shine=tuple(
            (
                x + rng.normal(0.0, 0.03),
                y + rng.normal(0.0, 0.03),
                r,
                s * float(np.exp(rng.normal(0.0, 0.2))),
            )
            for x, y, r, s in conditions.shine
        ),
        blur_px=float(np.clip(conditions.blur_px + rng.normal(0.0, 0.3), 0.0, 1.2)),
        rotation_deg=conditions.rotation_deg + rng.normal(0.0, 1.5),
        scale=conditions.scale * float(np.exp(rng.normal(0.0, 0.015))),
        shift=(
            conditions.shift[0] + rng.normal(0.0, 0.01),
            conditions.shift[1] + rng.normal(0.0, 0.01),
        ),
    )


# (Fitzpatrick skin type, hair colour) of the benchmark heads: every skin tone, with the
# hair colours that are common on it.
GLOBAL_BENCHMARK_HEADS: tuple[tuple[int, GlobalHairColour], ...] = (
    (1, "blond"),
    (2, "black"),
    (3, "brown"),
    (4, "black"),
    (5, "black"),
    (6, "black"),
    (1, "grey"),
    (2, "brown"),
    (3, "black"),
    (4, "grey"),
    (5, "grey"),
    (6, "grey"),
    (1, "red"),
    (2, "blond"),
    (3, "grey"),
    (4, "brown"),
    (1, "brown"),
    (2, "grey"),
    (3, "blond"),
    (1, "black"),
    (2, "red"),
)


@dataclass(frozen=True, eq=False)
class GlobalCase:
    """One benchmark photo with what it really shows."""

    name: str
    rgb: np.ndarray
    truth: GlobalTruth
    scene: GlobalScene
    conditions: GlobalConditions


def random_global_case(
    rng: np.random.Generator,
    *,
    name: str,
    skin_tone: int,
    hair_colour: str,
    pattern: str,
    coverage_target: float,
    shine: bool,
    size_px: tuple[int, int] = (480, 640),
) -> GlobalCase:
    """One global photo of a new scene drawn from ``rng``, under random conditions
    (with scalp shine if ``shine``); ``coverage_target`` in %, ``size_px`` (h, w)."""
    scene = make_global_scene(
        seed=int(rng.integers(2**31)),
        coverage_target=coverage_target,
        skin_tone=skin_tone,
        hair_colour=hair_colour,
        pattern=pattern,
    )
    conditions = random_global_conditions(rng, shine=shine)
    rgb, truth = render_global(scene, size_px=size_px, conditions=conditions)
    return GlobalCase(name=name, rgb=rgb, truth=truth, scene=scene, conditions=conditions)


def global_benchmark_set(
    *, seed: int = 0, count: int = 100, size_px: tuple[int, int] = (480, 640)
) -> Iterator[GlobalCase]:
    """A seeded set of global photos: coverage targets spread evenly over 10–90 %, every
    skin tone with the hair colours common on it (blond and grey on fair skin included),
    every thinning pattern, and scalp shine on every other photo. Yields the cases one at a
    time."""
    for i in range(count):
        skin_tone, hair_colour = GLOBAL_BENCHMARK_HEADS[i % len(GLOBAL_BENCHMARK_HEADS)]
        pattern = THINNING_PATTERNS[i % len(THINNING_PATTERNS)]
        coverage_target = 10.0 + 80.0 * ((i * 0.6180339887 + seed * 0.1) % 1.0)
        yield random_global_case(
            np.random.default_rng([seed, i, 19]),
            name=f"global-{i:03d}-skin{skin_tone}-{hair_colour}-{pattern}-{coverage_target:.0f}",
            skin_tone=skin_tone,
            hair_colour=hair_colour,
            pattern=pattern,
            coverage_target=coverage_target,
            shine=i % 2 == 0,
            size_px=size_px,
        )


def global_reshoot_set(
    *,
    seed: int = 0,
    count: int = 12,
    visits: int = 6,
    heads: Sequence[tuple[int, str]] = GLOBAL_BENCHMARK_HEADS,
    size_px: tuple[int, int] = (480, 640),
) -> Iterator[list[GlobalCase]]:
    """``count`` seeded heads (skin tone and hair colour taken in turn from ``heads``,
    coverage 20–80 %, shine on every other head), each photographed at ``visits`` visits
    under the changes of light, white balance, blur and pose of :func:`next_visit_conditions`.
    Yields each head's visits as a list."""
    for index in range(count):
        rng = np.random.default_rng([seed, index, 23])
        skin_tone, hair_colour = heads[index % len(heads)]
        scene = make_global_scene(
            seed=int(rng.integers(2**31)),
            coverage_target=float(rng.uniform(20.0, 80.0)),
            skin_tone=skin_tone,
            hair_colour=hair_colour,
        )
        baseline = random_global_conditions(rng, shine=index % 2 == 0)
        cases = []
        for visit in range(visits):
            conditions = baseline if visit == 0 else next_visit_conditions(baseline, seed=visit)
            rgb, truth = render_global(scene, size_px=size_px, conditions=conditions)
            name = f"head-{index:02d}-skin{skin_tone}-{hair_colour}-visit{visit}"
            cases.append(
                GlobalCase(name=name, rgb=rgb, truth=truth, scene=scene, conditions=conditions)
            )
        yield cases
