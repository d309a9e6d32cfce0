"""Coverage in global photos: the percent of the analysed region where hair dominates.

A pixel counts as hair when hair covers at least half of it. In linear light a pixel that
hair covers by a share ``f`` has the colour ``L·(f·hair + (1 − f)·scalp)``: ``L`` is the
slowly varying light, ``hair`` and ``scalp`` the two colours of this head under this
camera's white balance. The engine fits a two-class model to each photo (the two colours
under unit light, how much each class spreads around its colour, and the light) and calls
a pixel hair where its projection on Fisher's discriminant passes the half-and-half mix.
The spread holds each strand's own shade, noise, the colour JPEG blurs at strand edges
(for dark hair, the colour each class takes on from the other where JPEG shares chroma
across a strand's edge) and, where it would look like lighter hair, scalp shine; so the
projection leans on
whatever tells this head's hair from its scalp: brightness for dark hair, colour for grey
hair on tanned skin, both for blond on fair skin. Nothing in it is a typical hair or skin
colour.

The first split lies halfway across the sharp steps between neighbouring pixels, judged
against the steps around them (strand edges are sharp; light and shine change smoothly).
The light is a tilted plane with a radial fall-off, fitted robustly, times a gentle local
correction; beside dark hair the scalp's light is read from its colour's part across white,
which shine (added white) leaves alone. Which class is the hair comes from texture: hair is
strands, each its own shade, so across the hair the brightness varies from strand to
strand where bare scalp is smooth (sensor noise, white from pixel to pixel, is averaged
away first); where a class has hardly any inside (sparse thin strands), the hair is the
class made of long thin pieces.

Blur spreads each strand into the scalp beside it, and a blurred photo thresholded at the
half-and-half mix fills the narrow gaps between strands (σ = 1 px read about 2 points
high). The share is linear in the light, so the photo's blur is the share map's: it is read
off the edges where bare scalp meets full hair (the re-blur ratio of each edge's steepest
step). It is taken back, to second order, both from the share map (a lens blurs in linear
light) and from the photo's encoded values (JPEG and the camera soften edges there), and
the two shares are averaged; no further than keeps the bare scalp's pixel noise, which the
inverse amplifies, well short of the half mix.

The model works on a copy at a fixed working scale (``MODEL_LONG_SIDE_PX`` on the long
side, area-averaged in linear light; colours and light on every other pixel of it), so its
cost does not grow with megapixels; only the per-pixel share (a table look-up and a
weighted sum; twice for a blurred photo), taking the blur back (one 5 × 5 filter) and the
comparison run at full size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import cv2
import numpy as np
from scipy import ndimage

# The working copy the model is fitted on is no longer than this on its long side.
MODEL_LONG_SIDE_PX = 640
# Illumination is represented on a grid this long on its long side.
_ILLUMINATION_GRID = 32
_FIT_ROUNDS = 4
# The light is fitted robustly: pixels this far from it in log light get no weight.
_ROBUST_LOG_LIGHT = 0.7
_ROBUST_PASSES = 3
# Weight (relative to the mean cell) of the light surface where the local correction has
# few pixels to go by.
_LOCAL_PRIOR_WEIGHT = 0.1
# Spread added in every direction, relative to the colour difference, so that a class
# without noise (a clipped or synthetic one) leaves the discriminant well posed.
_SPREAD_FLOOR = 0.02
_REC709_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
_NEUTRAL = np.full(3, 1.0 / np.sqrt(3.0))
_REC601_LUMA = np.array([0.299, 0.587, 0.114])
# Share of the colour part of the hair–scalp difference that JPEG's half-resolution
# colour can miss at a strand edge (fitted on the seed-1 phantom set, not the reported one).
_CHROMA_BLUR = 0.1
# Dark hair (under this share of the scalp's brightness) gets final weights that allow for
# JPEG's chroma sharing at each class's own colour, counted this many times over (fitted
# on the fitting sets, not the reported one).
_DARK_HAIR_RATIO = 0.3
_CHROMA_SHARING_SCALE = 2.0
# Where one class is that dark against the other, the brighter one (the scalp, which shine
# lands on) implies the light from its colour's part across white, when that part is at
# least this share of its colour: shine adds white, so it leaves that part alone, where
# along the whole colour it read as light up to 1.75 times the real one around a large
# spot. Set, not fitted (a grey scalp has no such part to read); checked on the fitting
# sets.
_SHINE_FREE_MIN_CHROMA = 0.15
# The scalp's shine is judged by this quantile of how far its pixels lie above its colour.
_SHINE_QUANTILE = 0.99
# The first split lies halfway across the sharp steps between neighbours. Each step is
# sized against the mean level within _SHARP_STEP_LEVEL of the long side; sharp steps are
# at least _SHARP_STEP_SHARE of the largest within _SHARP_STEP_REACH of the long side, and
# _SHARP_STEP_NOISE times the lower-quartile step (or within the top _SHARP_STEP_QUANTILE).
# Fitted on the fitting sets (seeds 1-3, 1000, 2000, 2001, 3000), not the reported one.
_SHARP_STEP_SHARE = 0.5
_SHARP_STEP_REACH = 0.1
_SHARP_STEP_NOISE = 8.0
_SHARP_STEP_LEVEL = 0.02
_SHARP_STEP_QUANTILE = 0.98
# Texture names the hair when each class's inside holds at least this many pixels (and
# this share of the region).
_MIN_INSIDE_PX = 200
_MIN_INSIDE_SHARE = 0.002
# Texture compares each class's own mean over these two Gaussian sigmas (working pixels):
# about a strand's width, and wider than strands (fitted on the seed-1–3 phantom sets).
_TEXTURE_FINE_PX = 1.5
_TEXTURE_BROAD_PX = 6.0
# A fit whose smaller class holds less than this share of the region is kept only when no
# start gives another.
_MIN_CLASS_SHARE = 0.05
_ROWS_PER_CHUNK = 512
# The colours and the light are fitted on a strided working copy at most this long.
_FIT_LONG_SIDE_PX = 320
# Colours and spreads are taken from at most about this many pixels.
_STATISTICS_SAMPLE = 40_000
# The photo's blur is read off the strand edges of the full-resolution share map: the ratio
# of each edge's steepest step before and after a further blur of _REBLUR_PX gives its
# width (Zhuo and Sim's re-blur ratio, independent of the step's height). Only edges that
# run from scalp (share at most _EDGE_SCALP_SHARE) to hair (at least _EDGE_HAIR_SHARE)
# within _EDGE_REACH_PX either side count, since a strand thinner than the blur reads
# narrower than it is. The edges are read in the middle of the region, at most
# _BLUR_WINDOW_PX on a side (the whole of a 640-px photo; a million pixels of a 12-MP one),
# at most _BLUR_SAMPLE of them; fewer than _MIN_BLUR_EDGES leave the photo as it is.
_REBLUR_PX = 1.0
_EDGE_MIN_STEP = 0.08
_EDGE_REACH_PX = 3.0
_EDGE_SCALP_SHARE = 0.2
_EDGE_HAIR_SHARE = 0.8
_BLUR_WINDOW_PX = 1024
_BLUR_SAMPLE = 50_000
_MIN_BLUR_EDGES = 50
# A sharp strand edge of the phantoms reads _SHARP_EDGE_PX (the pixel's own width and the
# discrete gradient), and the edge width grows with the square of the optical blur at
# _EDGE_BLUR_GAIN of the rate a lone step would (strands of a few pixels). Fitted on the
# fitting sets' re-shot heads (seeds 1-3), not the reported one.
_SHARP_EDGE_PX = 0.62
_EDGE_BLUR_GAIN = 0.75
# Blur is taken back up to this sigma (px), and no further than keeps the scalp's pixel
# noise, amplified by the inverse, under _MAX_SHARPENED_NOISE (share units): amplified
# noise lifts bare scalp over the half mix, and a noisy photo read more hair the more it
# was sharpened.
_MAX_DEBLUR_PX = 1.5
_MAX_SHARPENED_NOISE = 0.1
# Pixels whose share, smoothed over this sigma (px), is under this level, away from any
# strand, are bare scalp for the noise.
_SCALP_NOISE_SMOOTHING_PX = 1.0
_SCALP_NOISE_SHARE = 0.25


def _srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Linear light of sRGB values ``srgb`` (0–1, any shape)."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


_SRGB_TO_LINEAR = _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)


def _linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """sRGB values (0–1) of linear light ``linear`` (any shape), clipped to 0–1."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


_LINEAR_TABLE = np.ascontiguousarray(np.repeat(_SRGB_TO_LINEAR[None, :, None], 3, axis=2))


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
    """The fitted two-class model of one photo.

    ``hair_linear`` and ``scalp_linear`` (3,) are linear-RGB colours under unit light;
    ``weights`` (3,) the discriminant direction, scaled so that ``weights · (hair − scalp)
    = 1``; ``illumination`` (gh, gw) float32 the relative light on a coarse grid over the
    analysed box.
    """

    hair_linear: np.ndarray
    scalp_linear: np.ndarray
    weights: np.ndarray
    illumination: np.ndarray

    def share(self, linear: np.ndarray, illumination: np.ndarray) -> np.ndarray:
        """Hair share (...) of pixels ``linear`` (..., 3) lit by ``illumination`` (...)."""
        weights = self.weights.astype(np.float32)
        return (linear @ weights) / illumination - np.float32(self.weights @ self.scalp_linear)

    def full_resolution_share(self, rgb: np.ndarray, illumination: np.ndarray) -> np.ndarray:
        """(...) float32 hair share of the pixels of ``rgb`` (..., 3) uint8 sRGB, lit by
        ``illumination`` (...). A table look-up and a weighted sum per pixel, so that it can
        run at full resolution."""
        tables = (_SRGB_TO_LINEAR[None, :] * self.weights[:, None]).astype(np.float32)
        # One channel at a time into a single sum: a third of the memory traffic of a
        # three-channel float image.
        channels = cv2.split(np.ascontiguousarray(rgb))
        projection = cv2.LUT(channels[0], tables[0])
        for channel, table in zip(channels[1:], tables[1:], strict=True):
            projection += cv2.LUT(channel, table)
        projection /= illumination
        projection -= np.float32(self.weights @ self.scalp_linear)
        return projection


def _local_mean_on_grid(
    values: np.ndarray,
    weights: np.ndarray,
    grid_shape: tuple[int, int],
    *,
    prior: float | None = None,
) -> np.ndarray:
    """Weighted local mean of ``values`` (h, w) with ``weights`` (h, w) on a coarse grid
    (gh, gw), smoothed over a tenth of the frame; empty cells take ``prior`` (by default
    the mean over the whole frame)."""
    size = (grid_shape[1], grid_shape[0])
    numerator = cv2.resize(
        (values * weights).astype(np.float32), size, interpolation=cv2.INTER_AREA
    )
    denominator = cv2.resize(weights.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    sigma = max(grid_shape) / 10
    numerator = cv2.GaussianBlur(numerator, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    denominator = cv2.GaussianBlur(denominator, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    prior_weight = (1e-3 if prior is None else _LOCAL_PRIOR_WEIGHT) * denominator.mean()
    if prior is None:
        prior = float(numerator.mean() / max(float(denominator.mean()), 1e-12))
    return (numerator + prior_weight * prior) / (denominator + prior_weight)


def _smooth_on_grid(
    values: np.ndarray, weights: np.ndarray, grid_shape: tuple[int, int]
) -> np.ndarray:
    """(gh, gw) weighted least-squares fit of a tilted plane with a radial fall-off to
    ``values`` (h, w) with ``weights`` (h, w), evaluated on a coarse grid over the frame.

    That is how light over a head photo mostly varies (towards the lamp, and darker
    towards the frame's edges); a shine spot or a patch of one class named as the other
    cannot bend such a surface towards itself, and a corner with hardly any scalp in
    view cannot make it run away.
    """
    size = (grid_shape[1], grid_shape[0])
    numerator = cv2.resize(
        (values * weights).astype(np.float32), size, interpolation=cv2.INTER_AREA
    )
    denominator = cv2.resize(weights.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    rows, cols = np.mgrid[0 : grid_shape[0], 0 : grid_shape[1]].astype(np.float64)
    scale = max(grid_shape) / 2
    y, x = (rows - (grid_shape[0] - 1) / 2) / scale, (cols - (grid_shape[1] - 1) / 2) / scale
    basis = np.stack([np.ones_like(x), x, y, x * x + y * y], axis=-1).reshape(-1, 4)
    weight = denominator.reshape(-1).astype(np.float64)
    value = numerator.reshape(-1) / np.maximum(weight, 1e-12)
    root = np.sqrt(weight / max(weight.max(), 1e-12))
    if np.count_nonzero(root) < 4:
        mean = float(numerator.sum() / max(float(denominator.sum()), 1e-12))
        return np.full(grid_shape, mean, np.float32)
    coefficients = np.linalg.lstsq(basis * root[:, None], value * root, rcond=None)[0]
    if coefficients[3] > 0:
        # Light falls off towards the edges, never the other way: without a fall-off.
        coefficients = np.linalg.lstsq(basis[:, :3] * root[:, None], value * root, rcond=None)[0]
        coefficients = np.append(coefficients, 0.0)
    surface = (basis @ coefficients).reshape(grid_shape)
    # Light is positive; a surface bent below a tenth of its mean far out is clamped.
    floor = 0.1 * max(float(np.average(value, weights=weight)), 1e-6)
    return np.maximum(surface, floor).astype(np.float32)


def _upsample(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _initial_split(
    normalised: np.ndarray, region: np.ndarray, grid_shape: tuple[int, int]
) -> np.ndarray:
    """(M,) bool first split of the ``region`` (h, w) pixels of ``normalised`` (h, w, 3)
    into two classes (which one is the hair is decided later).

    Strand edges are sharp, while light and shine change smoothly, so the colour direction
    of the sharpest steps between neighbouring pixels is the hair–scalp direction, and
    halfway across those steps lies the split. Sharp is judged against the steps around
    (within ``_SHARP_STEP_REACH`` of the frame): under a shine spot a strand's edge steps
    from hair to shiny scalp, several times the step to the scalp beside the spot, and a
    split set by the largest steps alone would part shiny scalp from everything else.
    """
    height, width = region.shape
    projection = (normalised @ _step_axis(normalised, region).astype(np.float32)).astype(np.float32)
    # Each pixel keeps the larger of its steps to the pixel below and to the right.
    step_down, step_across = np.zeros((2, height, width), np.float32)
    middle_down, middle_across = np.zeros((2, height, width), np.float32)
    step_down[:-1] = np.abs(projection[1:] - projection[:-1]) * (region[1:] & region[:-1])
    step_across[:, :-1] = np.abs(projection[:, 1:] - projection[:, :-1]) * (
        region[:, 1:] & region[:, :-1]
    )
    middle_down[:-1] = (projection[1:] + projection[:-1]) / 2
    middle_across[:, :-1] = (projection[:, 1:] + projection[:, :-1]) / 2
    step = np.maximum(step_down, step_across)
    middle = np.where(step_down >= step_across, middle_down, middle_across)
    # Steps are judged for their size against the level around them: hair on dimly lit
    # scalp steps as far, for its level, as hair on a shine spot does.
    level_sigma = _SHARP_STEP_LEVEL * max(height, width)
    level = cv2.GaussianBlur(np.abs(projection), (0, 0), level_sigma)
    step /= np.maximum(level, 1e-6)
    steps = step[step > 0]
    if steps.size == 0:
        raise ValueError("the photo does not separate into hair and scalp")
    reach_px = max(3, round(_SHARP_STEP_REACH * max(height, width)) | 1)
    around = cv2.dilate(step, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach_px, reach_px)))
    # Sensor noise alone makes steps too: a sharp one stands well clear of the typical step
    # (or, where strands are everywhere and the typical step is a strand's, is among the
    # largest of the frame).
    floor = min(
        _SHARP_STEP_NOISE * float(np.quantile(steps, 0.25)),
        float(np.quantile(steps, _SHARP_STEP_QUANTILE)),
    )
    sharp = (step >= _SHARP_STEP_SHARE * around) & (step >= floor)
    split = _local_mean_on_grid(
        middle, sharp.astype(np.float32), grid_shape, prior=float(np.median(middle[sharp]))
    )
    side = projection[region] > _upsample(split, region.shape)[region]
    if side.all() or not side.any():
        raise ValueError("the photo does not separate into hair and scalp")
    return side


def _step_axis(normalised: np.ndarray, region: np.ndarray) -> np.ndarray:
    """(3,) unit colour direction of the steps between neighbouring ``region`` (h, w)
    pixels of ``normalised`` (h, w, 3): their principal axis."""
    down = region[:-1, :] & region[1:, :]
    across = region[:, :-1] & region[:, 1:]
    before = np.concatenate([normalised[:-1, :][down], normalised[:, :-1][across]])
    after = np.concatenate([normalised[1:, :][down], normalised[:, 1:][across]])
    sample = slice(None, None, max(1, len(before) // _STATISTICS_SAMPLE))
    return np.linalg.svd(after[sample] - before[sample], full_matrices=False)[2][0]


def _robust_spread(pixels: np.ndarray) -> np.ndarray:
    """(3, 3) covariance of the pixels (M, 3) without their most outlying tenth (shine
    spots, a stray strand of the other class)."""
    covariance = np.cov(pixels.T)
    centred = pixels - np.median(pixels, axis=0)
    distance = np.einsum("ij,jk,ik->i", centred, np.linalg.pinv(covariance), centred)
    return np.cov(pixels[distance <= np.quantile(distance, 0.9)].T)


def _chroma_sharing_error(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """(3,) linear-light change of a pixel of colour ``own`` (3,) whose JPEG chroma is half
    that of a neighbour of colour ``other`` (3,): JPEG keeps luma per pixel but chroma per
    2×2 block, in encoded levels."""
    own_encoded = _linear_to_srgb(own)
    step = _linear_to_srgb(other) - own_encoded
    chroma_step = 0.5 * (step - float(step @ _REC601_LUMA))
    return _srgb_to_linear(np.clip(own_encoded + chroma_step, 0.0, 1.0)) - own


def _edge_colour_blur(first_colour: np.ndarray, second_colour: np.ndarray) -> np.ndarray:
    """(3,) how far JPEG can move a strand edge's colour between classes of colours
    ``first_colour`` and ``second_colour`` (3,): JPEG keeps colour at half the resolution
    of brightness, so the colour part of the difference (what the brightness JPEG stores
    does not carry) is off by up to about half itself; ``_CHROMA_BLUR`` of it counts."""
    difference = first_colour - second_colour
    middle = np.clip((first_colour + second_colour) / 2, 1e-4, 1.0)
    # Direction of JPEG's luma in linear light at the half-and-half mix.
    luma = _REC601_LUMA * np.where(middle <= 0.0031308, 12.92, 0.4396 * middle ** (-1 / 2.4 * 1.4))
    luma /= np.linalg.norm(luma)
    return _CHROMA_BLUR * (difference - (difference @ luma) * luma)


def _discriminant(
    first_pixels: np.ndarray,
    second_pixels: np.ndarray,
    first_colour: np.ndarray,
    second_colour: np.ndarray,
    nuisances: tuple[np.ndarray, ...],
) -> np.ndarray:
    """(3,) Fisher's discriminant of two classes of pixels (M, 3) and (N, 3) with colours
    ``first_colour`` and ``second_colour`` (3,), scaled so that ``weights · (first −
    second) = 1``; each of ``nuisances`` (3,) adds spread along itself (its length is its
    SD): what JPEG does to colour, shine."""
    difference = first_colour - second_colour
    spread = _robust_spread(first_pixels) + _robust_spread(second_pixels)
    spread += (_SPREAD_FLOOR * float(np.linalg.norm(difference))) ** 2 * np.eye(3)
    for nuisance in nuisances:
        spread += np.outer(nuisance, nuisance)
    weights = np.linalg.solve(spread, difference)
    return weights / (weights @ difference)


def _pure_pixels(first: np.ndarray, share: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(M,) bool masks of the far half of the ``first`` class and of the other one, by the
    ``share`` of the first class (each whole class when it is None): thin or blurred
    strands leave few pure pixels, and mixes would pull the two colours together."""
    if share is None:
        return first, ~first
    pure_first = first & (share >= np.median(share[first])) if first.any() else first
    pure_second = ~first & (share <= np.median(share[~first])) if (~first).any() else ~first
    return pure_first, pure_second


def _two_class_model(
    normalised: np.ndarray, first: np.ndarray, share: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Colours of the ``first`` class and of the other one (medians of their pure pixels)
    and their discriminant weights, from pixels ``normalised`` (M, 3) under unit light; or
    None when a class has too few pixels."""
    sample = slice(None, None, max(1, len(normalised) // _STATISTICS_SAMPLE))
    normalised, first = normalised[sample], first[sample]
    pure_first, pure_second = _pure_pixels(first, None if share is None else share[sample])
    if pure_first.sum() < 10 or pure_second.sum() < 10:
        return None
    first_colour = np.median(normalised[pure_first], axis=0)
    second_colour = np.median(normalised[pure_second], axis=0)
    weights = _discriminant(
        normalised[pure_first],
        normalised[pure_second],
        first_colour,
        second_colour,
        (_edge_colour_blur(first_colour, second_colour),),
    )
    return first_colour, second_colour, weights


def _final_weights(model: HairScalpModel, normalised: np.ndarray, share: np.ndarray) -> np.ndarray:
    """The model's weights once the hair is known, from pixels ``normalised`` (M, 3)
    under unit light and their hair ``share`` (M,).

    Dark hair: the scalp's shine spreads it in brightness, so the weights lean on colour,
    and JPEG's chroma sharing then makes scalp beside a strand look like hair (3–4 points
    of coverage on shiny heads). The weights allow for that sharing at each class's own
    colour. (In the fit itself this model misled the choice between starts, and on light
    hair, where colour is the main cue, it cost too much of it.)

    Lighter hair: shine only ever adds (neutral) light to the scalp; where that raises
    the hair share, the shine seen on this photo's scalp counts as scalp spread, so colour
    rather than brightness tells the classes apart as far as it can; elsewhere shine only
    pushes the scalp further from the hair.
    """
    hair_level, scalp_level = model.hair_linear @ _NEUTRAL, model.scalp_linear @ _NEUTRAL
    dark_hair = hair_level < _DARK_HAIR_RATIO * scalp_level
    if not dark_hair and model.weights @ _NEUTRAL <= 0:
        return model.weights
    sample = slice(None, None, max(1, len(normalised) // _STATISTICS_SAMPLE))
    normalised, share = normalised[sample], share[sample]
    hair = share >= 0.5
    pure_hair, pure_scalp = _pure_pixels(hair, share)
    if dark_hair:
        sharing = [
            _CHROMA_SHARING_SCALE * _chroma_sharing_error(own, other)
            for own, other in (
                (model.hair_linear, model.scalp_linear),
                (model.scalp_linear, model.hair_linear),
            )
        ]
        return _discriminant(
            normalised[pure_hair],
            normalised[pure_scalp],
            model.hair_linear,
            model.scalp_linear,
            tuple(sharing),
        )
    # Edge mixes of the lighter hair lie above the scalp colour too: the excess is what
    # is left once each pixel's own mix of hair is taken out.
    mix = np.clip(share[~hair], 0.0, None)[:, None] * (model.hair_linear - model.scalp_linear)
    excess = (normalised[~hair] - model.scalp_linear - mix) @ _NEUTRAL
    shine_sd = float(np.quantile(np.maximum(excess, 0.0), _SHINE_QUANTILE))
    return _discriminant(
        normalised[pure_hair],
        normalised[pure_scalp],
        model.hair_linear,
        model.scalp_linear,
        (_edge_colour_blur(model.hair_linear, model.scalp_linear), shine_sd * _NEUTRAL),
    )


def _fit_illumination(
    pixels: np.ndarray,
    region: np.ndarray,
    share: np.ndarray,
    first_colour: np.ndarray,
    second_colour: np.ndarray,
    previous: np.ndarray,
) -> np.ndarray:
    """(gh, gw) illumination: each pixel of ``pixels`` (M, 3) (the ``region`` pixels) is a
    class colour times the local light; a weighted least-squares fit of that factor, robust
    to pixels the two colours do not explain (shine, a stray highlight).

    Each pixel takes the class whose colour implies a light nearer the ``previous`` (gh, gw)
    estimate: where the light was misjudged, shares are misjudged with it, and a scalp
    pixel read as hair would imply a light many times too bright and keep it so. Beside
    dark hair the scalp's light is read across white, which shine does not reach.
    """
    reference = np.log(_upsample(previous, region.shape)[region])
    levels = (first_colour @ _NEUTRAL, second_colour @ _NEUTRAL)
    shine_free = min(levels) < _DARK_HAIR_RATIO * max(levels)
    implied, distance, norms = [], [], []
    for colour, level in zip((first_colour, second_colour), levels, strict=True):
        norm = float(colour @ colour)
        across_white = colour - level * _NEUTRAL
        if (
            shine_free
            and level == max(levels)
            and np.linalg.norm(across_white) >= _SHINE_FREE_MIN_CHROMA * np.sqrt(norm)
        ):
            reading = across_white / (colour @ across_white)
        else:
            reading = colour / norm
        light = np.maximum(pixels @ reading.astype(np.float32), 1e-6)
        implied.append(light)
        distance.append(np.abs(np.log(light) - reference))
        norms.append(norm)
    is_first = distance[0] <= distance[1]
    light = np.zeros(region.shape, np.float32)
    light[region] = np.where(is_first, implied[0], implied[1])
    norm = np.where(is_first, norms[0], norms[1]).astype(np.float32)
    # Clear pixels count far more than edge mixes, which would pull the light towards the
    # other class.
    clarity = np.clip(np.abs(2.0 * share - 1.0), 0.0, 1.0) ** 4
    weight = np.zeros(region.shape, np.float32)
    grid = previous
    for _ in range(_ROBUST_PASSES + 1):
        # Tukey's biweight on the log ratio to the light so far: shine, and pixels the
        # two colours do not explain, stop pulling the light their way.
        surface = _upsample(grid, region.shape)
        ratio = np.log(light[region] / surface[region])
        robust = np.square(np.clip(1.0 - np.square(ratio / _ROBUST_LOG_LIGHT), 0.0, None))
        weight[region] = clarity * robust * norm
        if _ < _ROBUST_PASSES:
            grid = _smooth_on_grid(light, weight, previous.shape)
    # What the surface misses of the real light is followed locally, as a factor on it
    # that stays 1 where hardly any pixel tells.
    return grid * _local_mean_on_grid(light / surface, weight, previous.shape, prior=1.0)


def _refine(
    linear: np.ndarray, region: np.ndarray, illumination: np.ndarray
) -> tuple[HairScalpModel, np.ndarray] | None:
    """Alternate between the two classes' colours and spread, the light and the shares of
    ``pixels`` (M, 3) (the ``region`` pixels), starting from ``illumination`` (gh, gw).
    Returns a model with the first class as "hair" and its shares, or None when a class
    runs out of pixels."""
    pixels = linear[region]
    light_image = _upsample(illumination, region.shape)
    first = _initial_split(linear / light_image[..., None], region, illumination.shape)
    light = light_image[region][:, None]
    share = None
    model = None
    for round_ in range(_FIT_ROUNDS):
        if round_ > 0:
            illumination = _fit_illumination(
                pixels, region, share, model.hair_linear, model.scalp_linear, illumination
            )
            light = _upsample(illumination, region.shape)[region][:, None]
        normalised = pixels / light
        fitted = _two_class_model(normalised, first, share)
        if fitted is None:
            return None
        model = HairScalpModel(*fitted, illumination=illumination.astype(np.float32))
        share = model.share(pixels, light[:, 0])
        first = share >= 0.5
    return model, share


def _texture(image: np.ndarray, mask: np.ndarray) -> tuple[float, int]:
    """Mean strand-scale shade variation of ``image`` (h, w) float32 inside ``mask`` (h, w)
    bool, away from its edges (where the other class would add its contrast), and the
    number of pixels it is taken over.

    Each inside pixel is the mask's own mean over ``_TEXTURE_FINE_PX`` (which averages
    sensor noise, white from pixel to pixel, away but keeps a strand's shade, a few pixels
    wide) compared with the mask's own mean over ``_TEXTURE_BROAD_PX`` (wider than strands,
    narrower than light and shine change). Noise on dark skin, strong in log light, so
    counts for little, and scalp that shows only through narrow gaps is still judged.
    """
    inside = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8))
    count = int(np.count_nonzero(inside))
    if count == 0:
        return 0.0, 0
    weight = inside.astype(np.float32)
    means = [
        cv2.GaussianBlur(image * weight, (0, 0), sigma)
        / np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma), 1e-6)
        for sigma in (_TEXTURE_FINE_PX, _TEXTURE_BROAD_PX)
    ]
    return float(np.abs(means[0] - means[1])[inside > 0].mean()), count


def _thin_and_long(mask: np.ndarray) -> float:
    """How much of ``mask`` (h, w) bool is long thin pieces: the share that survives an
    opening by some line of ``_LINE_PX`` minus the share that survives one by a disc
    wider than a strand."""
    pixels = mask.astype(np.uint8)
    total = max(int(pixels.sum()), 1)
    along_lines = np.zeros_like(pixels)
    for kernel in _LINE_KERNELS:
        along_lines |= cv2.morphologyEx(pixels, cv2.MORPH_OPEN, kernel)
    disc = cv2.morphologyEx(pixels, cv2.MORPH_OPEN, _DISC_KERNEL)
    return (int(along_lines.sum()) - int(disc.sum())) / total


def _line_kernels(length: int) -> tuple[np.ndarray, ...]:
    kernels = []
    centre = length // 2
    for angle in np.deg2rad(np.arange(0.0, 180.0, 180.0 / 8)):
        kernel = np.zeros((length, length), np.uint8)
        dx, dy = centre * np.cos(angle), centre * np.sin(angle)
        ends = np.round([centre - dx, centre - dy, centre + dx, centre + dy]).astype(int)
        cv2.line(kernel, (ends[0], ends[1]), (ends[2], ends[3]), 1, 1)
        kernels.append(kernel)
    return tuple(kernels)


# Strands are a few pixels wide and tens long at the working scale.
_LINE_KERNELS = _line_kernels(15)
_DISC_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


def _hair_likeness(linear: np.ndarray, region: np.ndarray, hair: np.ndarray) -> float:
    """How well the ``hair`` (h, w) bool pixels of ``region`` in ``linear`` (h, w, 3) look
    like hair and the rest like scalp: positive when they do, negative when the other
    class looks more like hair.

    Hair is strands, each its own shade, so across the hair the brightness varies from
    strand to strand where bare scalp is smooth. Texture is the log ratio of the two
    insides' texture, judged both in log light, where a strand's shade is a fixed step
    whatever its brightness, and in encoded 8-bit levels, where sensor noise is about even.
    Where either class has hardly any inside (sparse thin strands), it is how much more of
    the hair than of the scalp is long thin pieces instead.
    """
    luma = linear @ _REC709_LUMA
    scalp = region & ~hair
    hair = region & hair
    enough = max(_MIN_INSIDE_PX, _MIN_INSIDE_SHARE * int(region.sum()))
    texture = 0.0
    for image in (np.log(luma + 1e-3), 255.0 * _linear_to_srgb(luma).astype(np.float32)):
        hair_texture, hair_count = _texture(image, hair)
        scalp_texture, scalp_count = _texture(image, scalp)
        if min(hair_count, scalp_count) < enough or min(hair_texture, scalp_texture) <= 0:
            return _thin_and_long(hair) - _thin_and_long(scalp)
        texture += float(np.log(hair_texture / scalp_texture))
    return texture


def fit_hair_scalp_model(linear: np.ndarray, region: np.ndarray) -> HairScalpModel:
    """Fit the two-class model to ``linear`` (h, w, 3) float32 linear RGB, using the
    pixels of ``region`` (h, w) bool.

    The fit starts twice: from even light, and from the local mean brightness. Either can
    mislead (a bare forehead below a hairline looks brightly lit to the second; a strong
    light gradient over blond hair on fair skin splits the first by light), so the fit
    whose pixels are most clearly one class or the other is kept, unless it leaves one
    class a sliver (a highlight split off); then texture names the hair.
    """
    height, width = region.shape
    cells = _ILLUMINATION_GRID / max(height, width)
    grid_shape = (max(2, round(height * cells)), max(2, round(width * cells)))
    # The colours and the light are fitted on a strided copy: plenty of pixels for them.
    stride = max(1, -(-max(height, width) // _FIT_LONG_SIDE_PX))
    sparse, sparse_region = linear[::stride, ::stride], region[::stride, ::stride]
    local_mean = _smooth_on_grid(sparse @ _REC709_LUMA, sparse_region, grid_shape)
    fits = [
        fit
        for start in (np.ones(grid_shape, np.float32), local_mean / local_mean.mean())
        if (fit := _refine(sparse, sparse_region, start)) is not None
    ]
    if not fits:
        raise ValueError("the photo does not separate into hair and scalp")

    def ambiguity(share: np.ndarray) -> float:
        return float(np.mean(np.clip(np.minimum(np.abs(share), np.abs(1.0 - share)), 0.0, 0.5)))

    def is_split(share: np.ndarray) -> bool:
        return min(np.mean(share >= 0.5), np.mean(share < 0.5)) >= _MIN_CLASS_SHARE

    # A start that ends with one class holding a sliver of the pixels has split off a
    # highlight (or a patch of odd light) rather than the hair, however clearly.
    splits = [fit for fit in fits if is_split(fit[1])] or fits
    model = min(splits, key=lambda fit: ambiguity(fit[1]))[0]
    # Either class may be the hair: the one that looks most like hair (and leaves the other
    # looking like scalp) is named so. Both namings are judged on the fitted split itself,
    # the same pixels; the final weights each naming would get move its edges, and a
    # few dim hair pixels counted as scalp can make the scalp look the rougher.
    light = _upsample(model.illumination, region.shape)
    if _hair_likeness(linear, region, model.share(linear, light) >= 0.5) < 0:
        model = HairScalpModel(
            hair_linear=model.scalp_linear,
            scalp_linear=model.hair_linear,
            weights=-model.weights,
            illumination=model.illumination,
        )
    pixels = linear[region]
    normalised = pixels / light[region][:, None]
    share = model.share(pixels, light[region])
    return replace(model, weights=_final_weights(model, normalised, share))


def _central_gradient(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x and y central differences of ``image`` (H, W) float32 and their magnitude."""
    dx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=1, scale=0.5)
    dy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=1, scale=0.5)
    return dx, dy, cv2.magnitude(dx, dy)


def _middle(image: np.ndarray) -> np.ndarray:
    """The middle of ``image``, at most ``_BLUR_WINDOW_PX`` on a side."""
    return image[
        tuple(
            slice(max(0, (size - _BLUR_WINDOW_PX) // 2), (size + _BLUR_WINDOW_PX) // 2)
            for size in image.shape[:2]
        )
    ]


def estimate_blur_px(share: np.ndarray, region: np.ndarray) -> float:
    """Gaussian sigma (px) of the optical blur of a photo, from its hair share map.

    ``share`` (H, W) float32 is the per-pixel hair share (0 scalp, 1 hair), ``region``
    (H, W) bool the analysed pixels. At most ``_MAX_DEBLUR_PX``; 0.0 where too few strand
    edges run from bare scalp to full hair to tell.
    """
    share, region = _middle(share), _middle(region)
    dx, dy, step = _central_gradient(share)
    reblurred_step = _central_gradient(cv2.GaussianBlur(share, (0, 0), _REBLUR_PX))[2]
    reach = int(np.ceil(_EDGE_REACH_PX)) + 1
    inner = cv2.erode(region.astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8)) > 0
    peaks = inner & (step > _EDGE_MIN_STEP) & (step >= cv2.dilate(step, np.ones((3, 3))))
    ys, xs = np.nonzero(peaks)
    every = max(1, ys.size // _BLUR_SAMPLE)
    ys, xs = ys[::every], xs[::every]
    along_x, along_y = dx[ys, xs] / step[ys, xs], dy[ys, xs] / step[ys, xs]
    scalp_side = ndimage.map_coordinates(
        share, (ys - _EDGE_REACH_PX * along_y, xs - _EDGE_REACH_PX * along_x), order=1
    )
    hair_side = ndimage.map_coordinates(
        share, (ys + _EDGE_REACH_PX * along_y, xs + _EDGE_REACH_PX * along_x), order=1
    )
    full = (scalp_side <= _EDGE_SCALP_SHARE) & (hair_side >= _EDGE_HAIR_SHARE)
    ratio = step[ys[full], xs[full]] / np.maximum(reblurred_step[ys[full], xs[full]], 1e-6)
    ratio = ratio[ratio > 1.001]
    if ratio.size < _MIN_BLUR_EDGES:
        return 0.0
    edge_px = float(np.median(_REBLUR_PX / np.sqrt(ratio**2 - 1.0)))
    excess = max(edge_px**2 - _SHARP_EDGE_PX**2, 0.0) / _EDGE_BLUR_GAIN
    return float(min(np.sqrt(excess), _MAX_DEBLUR_PX))


def noise_limited_blur_px(share: np.ndarray, region: np.ndarray) -> float:
    """The largest blur sigma (px) that :func:`deblur` may take back from the photo whose
    hair share is ``share`` (H, W) float32, within ``region`` (H, W) bool, before it
    amplifies the pixel noise of the bare scalp beyond ``_MAX_SHARPENED_NOISE`` (share
    units; over a pixel's noise the share is linear in the encoded values too)."""
    share, region = _middle(share), _middle(region)
    smooth = cv2.GaussianBlur(share, (0, 0), _SCALP_NOISE_SMOOTHING_PX)
    scalp = cv2.erode(
        (region & (smooth < _SCALP_NOISE_SHARE)).astype(np.uint8), np.ones((5, 5), np.uint8)
    )
    laplacian = cv2.Laplacian(share, cv2.CV_32F, ksize=1)[scalp > 0]
    if laplacian.size == 0:
        return 0.0
    # A 4-neighbour Laplacian of white noise has sqrt(20) times its deviation.
    noise = 1.4826 * float(np.median(np.abs(laplacian))) / np.sqrt(20.0)
    allowed = _DEBLUR_SIGMAS_PX[_DEBLUR_NOISE_GAINS * noise <= _MAX_SHARPENED_NOISE]
    return float(allowed.max()) if allowed.size else 0.0


_LAPLACIAN_KERNEL = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)


def _deblur_kernel(blur_px: float) -> np.ndarray:
    """(5, 5) float32 kernel of ``1 − kΔ + (kΔ)²/2``, ``k = σ²/2``, for sigma ``blur_px``."""
    k = blur_px**2 / 2
    laplacian = np.pad(_LAPLACIAN_KERNEL, 1)
    laplacian_squared = cv2.filter2D(
        laplacian, -1, _LAPLACIAN_KERNEL, borderType=cv2.BORDER_CONSTANT
    )
    identity = np.zeros((5, 5), np.float32)
    identity[2, 2] = 1.0
    return identity - np.float32(k) * laplacian + np.float32(k**2 / 2) * laplacian_squared


def deblur(image: np.ndarray, *, blur_px: float) -> np.ndarray:
    """``image`` with a Gaussian blur of sigma ``blur_px`` taken back: an (H, W) float32
    share map (a lens blurs in linear light, and the share is linear in the light) or an
    (H, W, 3) uint8 sRGB photo (JPEG and the camera's processing soften strand edges in
    the encoded values, where a softened dark strand grows past its linear half mix).

    The inverse of the blur to second order, ``1 − kΔ + (kΔ)²/2`` with ``k = σ²/2``, as
    one 5 × 5 filter: thresholding a blurred share at the half-and-half mix fills the
    narrow gaps between strands.
    """
    if blur_px <= 0:
        return image
    return cv2.filter2D(image, -1, _deblur_kernel(blur_px), borderType=cv2.BORDER_REFLECT)


# How many times the inverse amplifies white noise, on a grid of sigmas.
_DEBLUR_SIGMAS_PX = np.linspace(0.0, _MAX_DEBLUR_PX, 31)
_DEBLUR_NOISE_GAINS = np.array([np.linalg.norm(_deblur_kernel(s)) for s in _DEBLUR_SIGMAS_PX])


def measure_coverage(
    rgb: np.ndarray, *, roi: Roi | None = None, model_long_side_px: int = MODEL_LONG_SIDE_PX
) -> CoverageResult:
    """Coverage of an (H, W, 3) uint8 sRGB global photo within ``roi`` (whole frame if None).

    The model is fitted on a copy at most ``model_long_side_px`` long (area-averaged in
    linear light); every pixel of the region is then classified at full resolution.
    """
    shape = rgb.shape[:2]
    region = np.ones(shape, bool) if roi is None else roi.mask(shape)
    rows, cols = np.nonzero(region.any(axis=1))[0], np.nonzero(region.any(axis=0))[0]
    if rows.size == 0:
        raise ValueError("the region of interest lies outside the photo")
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    crop, crop_region = rgb[box], region[box]
    long_side = max(crop_region.shape)
    if long_side > model_long_side_px:
        # Every k-th pixel down to about twice the working size, then an area average in
        # linear light: the cost stays that of a small image whatever the megapixels.
        step = max(1, long_side // (2 * model_long_side_px))
        scale = model_long_side_px / long_side
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        linear = cv2.LUT(np.ascontiguousarray(crop[::step, ::step]), _LINEAR_TABLE)
        work = cv2.resize(linear, size, interpolation=cv2.INTER_AREA)
        region_share = crop_region[::step, ::step].astype(np.float32)
        work_region = cv2.resize(region_share, size, interpolation=cv2.INTER_AREA) >= 0.5
    else:
        work = cv2.LUT(np.ascontiguousarray(crop), _LINEAR_TABLE)
        work_region = crop_region
    model = fit_hair_scalp_model(work, work_region)
    illumination = _upsample(model.illumination, crop_region.shape)
    share = np.empty(crop_region.shape, np.float32)
    for start in range(0, crop_region.shape[0], _ROWS_PER_CHUNK):
        chunk = slice(start, start + _ROWS_PER_CHUNK)
        share[chunk] = model.full_resolution_share(crop[chunk], illumination[chunk])
    blur_px = estimate_blur_px(share, crop_region)
    if blur_px > 0:
        blur_px = min(blur_px, noise_limited_blur_px(share, crop_region))
    if blur_px == 0:
        hair = share >= 0.5
    else:
        hair = np.empty(crop_region.shape, bool)
        # A lens blurs in linear light, JPEG and the camera in the encoded values, and a
        # photo does not tell which softened its edges: the blur is taken back in each and
        # the two shares are averaged. On the fitting sets' heads blurred by 1 px, taken
        # back in light alone, JPEG photos (quality 88) read 1.0 points more than the
        # sharp shot (up to 2.7); in the encoded values alone, photos without JPEG read
        # 1.4 less (up to 2.7); averaged, +0.25 and -0.39.
        # In chunks too, each with the two rows either side that the 5 × 5 inverse
        # reaches, so a 12-MP photo never holds more than one full-size float image.
        for start in range(0, crop_region.shape[0], _ROWS_PER_CHUNK):
            chunk = slice(start, start + _ROWS_PER_CHUNK)
            halo = slice(max(start - 2, 0), start + _ROWS_PER_CHUNK + 2)
            inside = slice(start - halo.start, start - halo.start + hair[chunk].shape[0])
            in_light = deblur(share[halo], blur_px=blur_px)[inside]
            encoded = deblur(crop[halo], blur_px=blur_px)[inside]
            in_encoding = model.full_resolution_share(encoded, illumination[chunk])
            hair[chunk] = in_light + in_encoding >= 1.0
    hair &= crop_region
    hair_mask = np.zeros(shape, bool)
    hair_mask[box] = hair
    coverage_pct = 100.0 * np.count_nonzero(hair) / np.count_nonzero(crop_region)
    return CoverageResult(coverage_pct=float(coverage_pct), hair_mask=hair_mask, region_mask=region)


_HAIR_TINT_RGB = (0, 210, 255)
_REGION_OUTLINE_RGB = (255, 220, 0)


def draw_coverage_overlay(rgb: np.ndarray, result: CoverageResult) -> np.ndarray:
    """(H, W, 3) uint8: the photo with hair tinted cyan, the outside of the region dimmed
    and the region outlined in yellow.

    Whole-frame uint8 shifts and OpenCV masked copies: float copies and boolean indexing
    of a 12-megapixel photo cost more than measuring it."""
    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    inside = np.ascontiguousarray(result.region_mask).view(np.uint8)
    overlay = cv2.copyTo(image, inside, image >> 1)
    # Half the pixel plus half the tint colour; both halves are at most 127, so no overflow.
    tinted = (overlay >> 1) + np.array(_HAIR_TINT_RGB, dtype=np.uint8) // 2
    overlay = cv2.copyTo(tinted, np.ascontiguousarray(result.hair_mask).view(np.uint8), overlay)
    thickness = max(1, round(max(image.shape[:2]) / 400))
    kernel = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
    region = result.region_mask.astype(np.uint8)
    outline = (region > 0) & (
        cv2.erode(region, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) == 0
    )
    overlay[outline] = _REGION_OUTLINE_RGB
    return overlay
