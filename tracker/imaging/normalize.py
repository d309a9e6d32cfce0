"""Illumination and white-balance normalisation of scalp close-ups.

Dividing each channel by a smooth estimate of the bare skin behind the hairs removes
lighting gradients, exposure and white balance at once and turns every skin tone into
the same neutral 1.0, so thresholds downstream can be fixed fractions of the skin.
"""

from __future__ import annotations

import cv2
import numpy as np


def skin_background(rgb: np.ndarray, *, hair_width_px: float, smoothing_px: float) -> np.ndarray:
    """Smooth per-channel estimate of the skin a dark shaft hides.

    ``rgb`` is an (H, W, 3) 8-bit-range image (uint8 or float). A grey closing with a disc
    wider than ``hair_width_px`` lifts dark shafts to the level of the skin beside them; a
    median and a Gaussian of ``smoothing_px`` then keep only the slow lighting and
    skin-colour variation.
    Returns (H, W, 3) float32, strictly positive.
    """
    image = np.asarray(rgb)
    if image.dtype != np.uint8:
        image = image.astype(np.float32, copy=False)
    diameter = max(3, int(np.ceil(hair_width_px)) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))
    # Smoothing a small copy costs the same at any resolution; the result is smooth anyway.
    shrink = max(1.0, smoothing_px / 4.0)
    height, width = image.shape[:2]
    small_size = (max(1, round(width / shrink)), max(1, round(height / shrink)))
    # A closing only picks values, so on 8-bit pixels it gives the float result exactly, in
    # a quarter of the time; the area average then needs floats.
    closed = cv2.morphologyEx(image, cv2.MORPH_CLOSE, disc).astype(np.float32, copy=False)
    small = cv2.resize(closed, small_size, interpolation=cv2.INTER_AREA)
    # A median over about twice the smoothing length ignores bright blobs (gel bubbles,
    # glare) that the closing keeps; it needs 8-bit input for kernels wider than 5.
    median_px = 2 * round(smoothing_px / shrink) + 1
    small = cv2.medianBlur(np.clip(small, 0, 255).astype(np.uint8), median_px).astype(np.float32)
    small = cv2.GaussianBlur(small, (0, 0), smoothing_px / shrink, borderType=cv2.BORDER_REFLECT)
    background = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.maximum(background.reshape(image.shape), 1e-3)


def normalize_illumination(
    rgb: np.ndarray, *, hair_width_px: float, smoothing_px: float
) -> np.ndarray:
    """``rgb`` divided by its :func:`skin_background`: skin ≈ 1.0 in every channel.

    Returns (H, W, 3) float32; dark shafts fall below 1, bubbles and glare rise above.
    """
    background = skin_background(rgb, hair_width_px=hair_width_px, smoothing_px=smoothing_px)
    return np.asarray(rgb, dtype=np.float32) / background
