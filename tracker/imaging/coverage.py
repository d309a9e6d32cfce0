"""Coverage in global photos: the percent of the analysed region where hair dominates.

A pixel counts as hair when hair covers at least half of it. In linear light a pixel that
hair covers by a share ``f`` has the colour ``L·(f·hair + (1 − f)·scalp) + k·white``: ``L``
is the slowly varying illumination, ``hair`` and ``scalp`` are the two colours of this head
under this camera's white balance, and ``k ≥ 0`` is specular shine (the colour of the
light, neutral after white balance). The engine fits that model to the photo and solves it
for ``f`` at every pixel, so lighting gradients, exposure, white balance, skin tone and
shine change the model, not the answer.

Which of the photo's two colour clusters is hair comes from typical skin and hair colours.
The model is fitted on a strided subsample (pixels stay unmixed, unlike a resized copy)
and the illumination lives on a coarse grid; only the per-pixel decision runs at full
size, on luma where hair and scalp differ in brightness, because JPEG stores colour at
half resolution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np
from skimage.filters import threshold_otsu

# The colour model is fitted on a subsample no longer than this on its long side.
MODEL_LONG_SIDE_PX = 512
# Illumination is estimated on a grid this long on its long side, smoothed over a tenth of
# the frame: light changes over the whole head, hair and skin change from pixel to pixel.
_ILLUMINATION_GRID = 32
_ILLUMINATION_SIGMA_CELLS = _ILLUMINATION_GRID / 10
_FIT_ROUNDS = 4
# Shine is only separated from hair when the hair–scalp colour difference is at least this
# far (sine of the angle) from neutral; grey hair on dark skin differs from it only in
# brightness, exactly like shine.
_MIN_CHROMATIC_CONTRAST = 0.25
_NEUTRAL = np.full(3, 1.0 / np.sqrt(3.0))
_REC709_LUMA = np.array([0.2126, 0.7152, 0.0722])
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)
# Hair and scalp this far apart in luma (8-bit levels) are told apart by luma alone.
_MIN_LUMA_CONTRAST = 24.0
_ROWS_PER_CHUNK = 256


def _srgb_to_linear_table() -> np.ndarray:
    srgb = np.arange(256) / 255.0
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(
        np.float32
    )


_SRGB_TO_LINEAR = _srgb_to_linear_table()
# Typical linear-RGB colours of scalp skin (Fitzpatrick I–VI) and of hair, used only to tell
# which of the two colour clusters of a photo is the hair.
_SKIN_PALETTE = _SRGB_TO_LINEAR[
    np.array(
        [
            (245, 215, 200),
            (225, 185, 160),
            (195, 150, 120),
            (160, 115, 85),
            (115, 80, 60),
            (75, 52, 40),
        ]
    )
]
# Log-colour distance added when the hair would be much lighter than the scalp yet
# coloured (blond on dark skin is rare; grey or white hair, saturation below the limit, is
# not; neither is blond on medium skin, about as light as the hair).
_UNUSUAL_HAIR_PENALTY = 0.1
_MUCH_LIGHTER = 1.5
_MAX_GREY_SATURATION = 0.35
# Pairings closer than this in cost are too close to call on colour.
_AMBIGUOUS_COST = 0.03
_HAIR_PALETTE = _SRGB_TO_LINEAR[
    np.array(
        [
            (25, 22, 20),  # black
            (60, 42, 30),  # dark brown
            (100, 70, 45),  # brown
            (140, 105, 70),  # light brown
            (205, 175, 125),  # blond
            (225, 215, 190),  # platinum
            (150, 75, 45),  # red
            (160, 158, 155),  # grey
            (215, 215, 210),  # white
        ]
    )
]


@dataclass(frozen=True)
class RectRoi:
    """A rectangle of pixels: columns ``x`` … ``x + width − 1``, rows ``y`` … ``y + height − 1``."""

    x: int
    y: int
    width: int
    height: int

    def mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """(H, W) bool of the pixels inside, for an image of ``shape`` (H, W, ...)."""
        region = np.zeros(shape[:2], bool)
        region[
            max(self.y, 0) : max(self.y + self.height, 0),
            max(self.x, 0) : max(self.x + self.width, 0),
        ] = True
        return region


@dataclass(frozen=True)
class CircleRoi:
    """A disc of pixels whose centres lie within ``radius`` of (``cx``, ``cy``), in pixels
    with pixel centres at integer coordinates."""

    cx: float
    cy: float
    radius: float

    def mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """(H, W) bool of the pixels inside, for an image of ``shape`` (H, W, ...)."""
        rows, cols = np.ogrid[0 : shape[0], 0 : shape[1]]
        return (cols - self.cx) ** 2 + (rows - self.cy) ** 2 <= self.radius**2


Roi = RectRoi | CircleRoi


def parse_roi(text: str) -> Roi:
    """``"x,y,w,h"`` as a :class:`RectRoi` or ``"cx,cy,r"`` as a :class:`CircleRoi`, in pixels."""
    parts = [part.strip() for part in text.split(",")]
    number = re.compile(r"^\d+(\.\d+)?$")
    if len(parts) not in (3, 4) or not all(number.match(part) for part in parts):
        raise ValueError(f"region of interest {text!r}: expected x,y,w,h or cx,cy,r in pixels")
    if len(parts) == 3:
        cx, cy, radius = (float(part) for part in parts)
        if radius <= 0:
            raise ValueError(f"region of interest {text!r}: the radius must be positive")
        return CircleRoi(cx, cy, radius)
    if not all(part.isdigit() for part in parts):
        raise ValueError(f"region of interest {text!r}: a rectangle is whole pixels")
    x, y, width, height = (int(part) for part in parts)
    if width <= 0 or height <= 0:
        raise ValueError(f"region of interest {text!r}: width and height must be positive")
    return RectRoi(x, y, width, height)


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of one global photo.

    ``hair_mask`` (H, W) bool marks the region pixels that hair dominates; ``region_mask``
    (H, W) bool the analysed region; ``coverage_pct`` is 100 · hair / region pixels.
    """

    coverage_pct: float
    hair_mask: np.ndarray
    region_mask: np.ndarray


@dataclass(frozen=True, eq=False)
class HairScalpModel:
    """The fitted colour model of one photo.

    ``hair_linear`` and ``scalp_linear`` (3,) are linear-RGB colours under unit
    illumination; ``illumination`` (gh, gw) float32 is the relative illumination on a
    coarse grid over the analysed box.
    """

    hair_linear: np.ndarray
    scalp_linear: np.ndarray
    illumination: np.ndarray

    def solve(self, linear: np.ndarray, illumination: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hair share ``f`` and shine ``k`` per pixel of ``linear`` (..., 3) lit by
        ``illumination`` (...), both float32 arrays of shape (...)."""
        difference = self.hair_linear - self.scalp_linear
        plain = difference / (difference @ difference)
        neutral_part = (difference @ _NEUTRAL) * _NEUTRAL
        if np.linalg.norm(difference - neutral_part) >= _MIN_CHROMATIC_CONTRAST * np.linalg.norm(
            difference
        ):
            joint = np.linalg.pinv(np.stack([difference, _NEUTRAL], axis=1))
        else:
            joint = np.stack([plain, np.zeros(3)])
        weights = np.stack([plain, joint[0], joint[1]], axis=1).astype(np.float32)
        offsets = (self.scalp_linear @ weights).astype(np.float32)
        projected = (linear @ weights) / illumination[..., None] - offsets
        share_plain, share_joint, shine = projected[..., 0], projected[..., 1], projected[..., 2]
        # Shine only ever adds light; where the fit finds none, the plain projection is the
        # better-conditioned answer.
        return np.where(shine > 0, share_joint, share_plain), np.maximum(shine, 0)

    def hair_mask(self, rgb: np.ndarray, illumination: np.ndarray) -> np.ndarray:
        """(...) bool: the pixels of ``rgb`` (..., 3) uint8 sRGB, lit by ``illumination``
        (...), that hair covers at least half of.

        JPEG keeps brightness at full resolution but colour at half, so when hair and scalp
        differ enough in brightness (Rec. 601 luma, as JPEG stores it) the decision is the
        pixel's luma against the luma of the half-and-half mix; the full colour solve then
        only vetoes shine on the scalp that is as bright as lighter hair.
        """
        hair_luma, scalp_luma = _luma_levels(self.hair_linear), _luma_levels(self.scalp_linear)
        if abs(hair_luma - scalp_luma) < _MIN_LUMA_CONTRAST:
            return self.solve(_SRGB_TO_LINEAR[rgb], illumination)[0] >= 0.5
        # Luma of the half-and-half mix as a function of the light, tabulated: the light
        # varies smoothly, and a power per pixel would dominate the run time.
        light_levels = np.linspace(illumination.min(), illumination.max(), 64)
        mix = (self.hair_linear + self.scalp_linear) / 2
        midpoint = np.interp(illumination, light_levels, _luma_levels(light_levels[:, None] * mix))
        luma = rgb @ _LUMA_WEIGHTS
        if hair_luma < scalp_luma:
            return luma < midpoint
        share, shine = self.solve(_SRGB_TO_LINEAR[rgb], illumination)
        contrast = float(np.linalg.norm(self.hair_linear - self.scalp_linear))
        return (luma > midpoint) & ~((share < 0.5) & (shine > 0.1 * contrast))


def _luma_levels(linear: np.ndarray) -> np.ndarray:
    """Rec. 601 luma (0–255) of linear-RGB colours (..., 3)."""
    linear = np.clip(linear, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return (255.0 * srgb) @ _LUMA_WEIGHTS


def _smooth_on_grid(
    values: np.ndarray, weights: np.ndarray, grid_shape: tuple[int, int]
) -> np.ndarray:
    """Weighted local mean of ``values`` (h, w) with ``weights`` (h, w) on a coarse grid
    (gh, gw), smoothed over a tenth of the frame; empty cells borrow from the whole frame."""
    size = (grid_shape[1], grid_shape[0])
    numerator = cv2.resize(
        (values * weights).astype(np.float32), size, interpolation=cv2.INTER_AREA
    )
    denominator = cv2.resize(weights.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    numerator = cv2.GaussianBlur(
        numerator, (0, 0), _ILLUMINATION_SIGMA_CELLS, borderType=cv2.BORDER_REFLECT
    )
    denominator = cv2.GaussianBlur(
        denominator, (0, 0), _ILLUMINATION_SIGMA_CELLS, borderType=cv2.BORDER_REFLECT
    )
    prior_weight = 1e-3 * denominator.mean()
    prior = numerator.mean() / denominator.mean()
    return (numerator + prior_weight * prior) / (denominator + prior_weight)


def _upsample(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _palette_distance(
    first: np.ndarray, second: np.ndarray, first_palette: np.ndarray, second_palette: np.ndarray
) -> float:
    """How far linear colours ``first`` and ``second`` (3,) are from the nearest pair of
    palette colours (P, 3), in log light after the best common exposure."""
    first_log, second_log = np.log(first + 1e-4), np.log(second + 1e-4)
    residual = np.concatenate(
        np.broadcast_arrays(
            (first_log - np.log(first_palette + 1e-4))[:, None, :],
            (second_log - np.log(second_palette + 1e-4))[None, :, :],
        ),
        axis=2,
    )
    exposure = residual.mean(axis=2, keepdims=True)
    return float(((residual - exposure) ** 2).sum(axis=2).min())


def _hair_first(first_pixels: np.ndarray, second_pixels: np.ndarray) -> bool:
    """Whether ``first_pixels`` (M, 3) rather than ``second_pixels`` (N, 3), linear RGB,
    are the hair. The hair is the side whose colour, as hair over the other side's colour
    as skin, lies nearer to typical colours; hair much lighter than its scalp is common
    when it is grey or white, otherwise it has to fit better. When the colours cannot
    tell, the hair is the side with more texture."""
    first, second = np.median(first_pixels, axis=0), np.median(second_pixels, axis=0)

    def cost(hair: np.ndarray, skin: np.ndarray) -> float:
        saturation = 1.0 - hair.min() / max(hair.max(), 1e-6)
        much_lighter = hair @ _REC709_LUMA > _MUCH_LIGHTER * (skin @ _REC709_LUMA)
        unusual = much_lighter and saturation > _MAX_GREY_SATURATION
        return (
            _palette_distance(hair, skin, _HAIR_PALETTE, _SKIN_PALETTE)
            + _UNUSUAL_HAIR_PENALTY * unusual
        )

    def strand_texture(pixels: np.ndarray) -> float:
        luma = _luma_levels(pixels)
        return float(np.median(np.abs(luma - np.median(luma))))

    margin = cost(second, first) - cost(first, second)
    if abs(margin) < _AMBIGUOUS_COST:
        # Blond hair on fair skin and white hair on medium skin can share two colours;
        # then hair is the side that varies from strand to strand, skin is even.
        margin = strand_texture(first_pixels) - strand_texture(second_pixels)
    return margin > 0


def _initial_split(linear: np.ndarray) -> np.ndarray:
    """(M,) bool first guess of which of the pixels (M, 3) are hair: the two sides of an
    Otsu split along the main colour axis, named by :func:`_hair_first`."""
    centred = linear - linear.mean(axis=0)
    axis = np.linalg.svd(centred[:: max(1, len(centred) // 20_000)], full_matrices=False)[2][0]
    projection = centred @ axis
    side = projection > threshold_otsu(projection)
    if side.all() or not side.any():
        raise ValueError("the photo does not separate into hair and scalp")
    # The far half of each side stands for its colour; the near half is mostly edge mixes.
    upper = linear[projection >= np.median(projection[side])]
    lower = linear[projection <= np.median(projection[~side])]
    return side if _hair_first(upper, lower) else ~side


def _fit_illumination(
    pixels: np.ndarray,
    region: np.ndarray,
    share: np.ndarray,
    shine: np.ndarray,
    model: HairScalpModel,
    grid_shape: tuple[int, int],
) -> np.ndarray:
    """(gh, gw) illumination: each pixel of ``pixels`` (M, 3) (the ``region`` pixels) is its
    class colour times the local light; a local weighted least-squares fit of that factor.
    Shiny scalp is left out."""
    contrast = float(np.linalg.norm(model.hair_linear - model.scalp_linear))
    is_hair = share >= 0.5
    endmember = np.where(is_hair[:, None], model.hair_linear, model.scalp_linear)
    # Clear pixels count far more than edge mixes, which would pull the light towards the
    # other class. A mean weighted this way stays local: where the light was misjudged
    # and no pixel looks clear, the clearest ones still decide.
    clarity = np.clip(np.abs(2.0 * share - 1.0), 0.0, 1.0) ** 4
    used = is_hair | (shine <= 0.1 * contrast)
    numerator = np.zeros(region.shape, np.float32)
    weight = np.zeros(region.shape, np.float32)
    numerator[region] = np.where(used, clarity * (pixels * endmember).sum(axis=1), 0.0)
    weight[region] = np.where(used, clarity * (endmember * endmember).sum(axis=1), 0.0)
    return _smooth_on_grid(numerator / np.maximum(weight, 1e-12), weight, grid_shape)


def _refine_model(
    pixels: np.ndarray, region: np.ndarray, illumination: np.ndarray
) -> tuple[HairScalpModel, np.ndarray] | None:
    """Alternate between the colours, the light and the hair shares of ``pixels`` (M, 3)
    (the ``region`` pixels), starting from ``illumination`` (gh, gw). Returns the model
    and the shares, or None when a class runs out of pixels."""
    is_hair = _initial_split(pixels / _upsample(illumination, region.shape)[region][:, None])
    share = is_hair.astype(np.float32)
    shine = np.zeros_like(share)
    contrast = np.inf
    model = None
    for round_ in range(_FIT_ROUNDS):
        if round_ > 0:
            illumination = _fit_illumination(
                pixels, region, share, shine, model, illumination.shape
            )
        normalised = pixels / _upsample(illumination, region.shape)[region][:, None]
        # The far half of each class gives its colour: thin or blurred strands leave few
        # pure pixels, and mixed ones would pull the two colours together and move the
        # half-way point. Shiny scalp is left out.
        is_hair = share >= 0.5
        pure_hair = is_hair & (share >= np.median(share[is_hair])) if is_hair.any() else is_hair
        plain_scalp = ~is_hair & (shine <= 0.1 * contrast)
        pure_scalp = (
            plain_scalp & (share <= np.median(share[plain_scalp]))
            if plain_scalp.any()
            else plain_scalp
        )
        if pure_hair.sum() < 10 or pure_scalp.sum() < 10:
            return None
        model = HairScalpModel(
            hair_linear=np.median(normalised[pure_hair], axis=0),
            scalp_linear=np.median(normalised[pure_scalp], axis=0),
            illumination=illumination.astype(np.float32),
        )
        contrast = float(np.linalg.norm(model.hair_linear - model.scalp_linear))
        share, shine = model.solve(pixels, _upsample(model.illumination, region.shape)[region])
    return model, share


def fit_hair_scalp_model(linear: np.ndarray, region: np.ndarray) -> HairScalpModel:
    """Fit the hair/scalp colour model to ``linear`` (h, w, 3) float32 linear RGB, using the
    pixels of ``region`` (h, w) bool.

    The fit starts twice: from even light, and from the local mean brightness. Either can
    mislead (a bare forehead below a hairline looks brightly lit to the second; a strong
    light gradient over blond hair on fair skin splits the first by light), so the fit
    whose pixels are most clearly hair or scalp is kept.
    """
    height, width = region.shape
    cells = _ILLUMINATION_GRID / max(height, width)
    grid_shape = (max(2, round(height * cells)), max(2, round(width * cells)))
    luma = linear @ _REC709_LUMA.astype(np.float32)
    local_mean = _smooth_on_grid(luma, region, grid_shape)
    pixels = linear[region]
    fits = [
        fit
        for start in (np.ones(grid_shape, np.float32), local_mean / local_mean.mean())
        if (fit := _refine_model(pixels, region, start)) is not None
    ]
    if not fits:
        raise ValueError("the photo does not separate into hair and scalp")

    def ambiguity(share: np.ndarray) -> float:
        return float(np.mean(np.clip(np.minimum(np.abs(share), np.abs(1.0 - share)), 0.0, 0.5)))

    model, share = min(fits, key=lambda fit: ambiguity(fit[1]))
    # Both starts name the classes from a rough first split; the fitted ones are clearer.
    lit = pixels / _upsample(model.illumination, region.shape)[region][:, None]
    scalp, hair = lit[share <= 0.25], lit[share >= 0.75]
    if len(scalp) and len(hair) and _hair_first(scalp, hair):
        return HairScalpModel(
            hair_linear=model.scalp_linear,
            scalp_linear=model.hair_linear,
            illumination=model.illumination,
        )
    return model


def measure_coverage(
    rgb: np.ndarray, *, roi: Roi | None = None, model_long_side_px: int = MODEL_LONG_SIDE_PX
) -> CoverageResult:
    """Coverage of an (H, W, 3) uint8 sRGB global photo within ``roi`` (whole frame if None).

    The colour model is fitted on a subsample at most ``model_long_side_px`` long (every
    n-th pixel); every pixel of the region is then classified at full resolution.
    """
    shape = rgb.shape[:2]
    region = np.ones(shape, bool) if roi is None else roi.mask(shape)
    rows, cols = np.nonzero(region.any(axis=1))[0], np.nonzero(region.any(axis=0))[0]
    if rows.size == 0:
        raise ValueError("the region of interest lies outside the photo")
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    crop, crop_region = rgb[box], region[box]
    stride = max(1, -(-max(crop_region.shape) // model_long_side_px))
    model = fit_hair_scalp_model(
        _SRGB_TO_LINEAR[crop[::stride, ::stride]], crop_region[::stride, ::stride]
    )
    illumination = _upsample(model.illumination, crop_region.shape)
    hair = np.zeros(crop_region.shape, bool)
    for start in range(0, crop_region.shape[0], _ROWS_PER_CHUNK):
        chunk = slice(start, start + _ROWS_PER_CHUNK)
        hair[chunk] = model.hair_mask(crop[chunk], illumination[chunk])
    hair &= crop_region
    hair_mask = np.zeros(shape, bool)
    hair_mask[box] = hair
    coverage_pct = 100.0 * np.count_nonzero(hair) / np.count_nonzero(crop_region)
    return CoverageResult(coverage_pct=float(coverage_pct), hair_mask=hair_mask, region_mask=region)


def draw_coverage_overlay(rgb: np.ndarray, result: CoverageResult) -> np.ndarray:
    """(H, W, 3) uint8: the photo with hair tinted cyan, the outside of the region dimmed
    and the region outlined in yellow."""
    overlay = rgb.astype(np.float32)
    overlay[~result.region_mask] *= 0.5
    overlay[result.hair_mask] = 0.5 * overlay[result.hair_mask] + 0.5 * np.array(
        [0.0, 210.0, 255.0]
    )
    thickness = max(1, round(max(rgb.shape[:2]) / 400))
    kernel = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
    region = result.region_mask.astype(np.uint8)
    outline = (region > 0) & (
        cv2.erode(region, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) == 0
    )
    overlay[outline] = (255.0, 220.0, 0.0)
    return np.round(overlay).astype(np.uint8)
