"""Fast shrinking of large photos for statistics and searches run on a reduced copy."""

from __future__ import annotations

import cv2
import numpy as np


def shrink_to_long_side(image: np.ndarray, long_side_px: int) -> np.ndarray:
    """An (H, W) or (H, W, C) uint8 ``image`` shrunk to ``long_side_px`` on its long side
    (unchanged when it is no longer), for statistics and searches that do not need the
    exact pixels of one area resize.

    While both sides are even and at least twice the target, exact 2×2 means halve it;
    a bilinear resize then does the rest when that is no more than halving (every pixel
    still contributes), else an area resize. That is nearly one area resize at a fraction
    of its cost (OpenCV has a fast path for integer factors only), though a little
    smoother.
    """
    height, width = image.shape[:2]
    scale = long_side_px / max(height, width)
    if scale >= 1.0:
        return image
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    while (
        width % 2 == 0 and height % 2 == 0 and width // 2 >= target[0] and height // 2 >= target[1]
    ):
        height, width = height // 2, width // 2
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    if (width, height) == target:
        return image
    rest = target[0] / width
    return cv2.resize(
        image, target, interpolation=cv2.INTER_LINEAR if rest >= 0.5 else cv2.INTER_AREA
    )
