"""Illumination normalisation: the skin background estimate."""

from __future__ import annotations

import numpy as np

from tracker.imaging.normalize import skin_background


def _lit_skin_with_shafts() -> np.ndarray:
    """(300, 400, 3) uint8: noisy skin under a left-to-right light gradient, dark shafts."""
    rng = np.random.default_rng(7)
    light = np.linspace(0.6, 1.0, 400)[None, :, None]
    skin = rng.normal((210, 160, 140), 6, (300, 400, 3)) * light
    skin[:, 100:104] *= 0.3
    skin[150:153, :] *= 0.3
    return skin.clip(0, 255).astype(np.uint8)


def test_8_bit_and_float_pixels_give_the_same_background_to_the_bit():
    rgb = _lit_skin_with_shafts()
    options = {"hair_width_px": 9.0, "smoothing_px": 20.0}
    np.testing.assert_array_equal(
        skin_background(rgb, **options), skin_background(rgb.astype(np.float32), **options)
    )
