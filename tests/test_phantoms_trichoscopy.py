"""The trichoscopy phantom: exact truth for every rendered frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tracker.measurement import TRICHOSCOPY_FIGURES
from tracker.phantoms import (
    FITZPATRICK_SKIN_RGB,
    PhantomHair,
    TrichoscopyConditions,
    TrichoscopyScene,
    make_trichoscopy_scene,
    random_conditions,
    render_trichoscopy,
    trichoscopy_benchmark_set,
)

SKIN = FITZPATRICK_SKIN_RGB[2]
DARK = (0.1, 0.08, 0.07)


def hair(x_mm: float, y_mm: float, *, width_um: float = 60.0, unit: int = 0, angle: float = 0.0):
    return PhantomHair(
        exit_mm=(x_mm, y_mm),
        direction_rad=angle,
        length_mm=1.0,
        width_um=width_um,
        rgb=DARK,
        opacity=1.0,
        unit=unit,
    )


def scene_of(*hairs: PhantomHair, field_mm=(10.0, 8.0)) -> TrichoscopyScene:
    units = max((h.unit for h in hairs), default=-1) + 1
    return TrichoscopyScene(
        field_mm=field_mm,
        skin_rgb=SKIN,
        hairs=hairs,
        openings_mm=tuple(next(h.exit_mm for h in hairs if h.unit == u) for u in range(units)),
    )


def test_known_hairs_give_exact_truth():
    # Frame: 800×600 px at 100 px/mm centred on a 10×8 mm field -> x 1–9 mm, y 1–7 mm.
    scene = scene_of(
        hair(2.0, 2.0, unit=0),
        hair(2.0, 2.0, unit=0, angle=0.4, width_um=20.0),
        hair(5.0, 5.0, unit=1, width_um=90.0),
        hair(0.2, 4.0, unit=2),  # midpoint at x = 0.7 mm: outside the frame although visible
    )
    _, truth = render_trichoscopy(scene, px_per_mm=100.0, size_px=(800, 600))
    assert truth.hair_count == 3
    assert truth.vellus_count == 1
    assert truth.terminal_count == 2
    assert truth.follicular_units == 2
    assert truth.hairs_per_unit == pytest.approx(1.5)
    assert truth.area_cm2 == pytest.approx(0.08 * 0.06 * 100)
    assert truth.density_per_cm2 == pytest.approx(3 / 0.48)
    assert truth.mean_width_um == pytest.approx((60 + 20 + 90) / 3)
    assert set(truth.figures) == set(TRICHOSCOPY_FIGURES)
    # Each counted hair's shaft in frame pixels (the frame starts at x = y = 1 mm).
    assert truth.shafts_px[0] == pytest.approx((100.0, 100.0, 200.0, 100.0))
    assert truth.shafts_px[1][2:] == pytest.approx(
        (100 + 100 * math.cos(0.4), 100 + 100 * math.sin(0.4))
    )
    assert truth.units_of_hairs == (0, 0, 1)


@pytest.mark.parametrize(("midpoint_x_mm", "counted"), [(0.99, 0), (1.01, 1)])
def test_midpoint_rule_at_the_frame_edge(midpoint_x_mm, counted):
    scene = scene_of(hair(midpoint_x_mm - 0.5, 4.0))
    _, truth = render_trichoscopy(scene, px_per_mm=100.0, size_px=(800, 600))
    assert truth.hair_count == counted


def test_caption_band_is_outside_the_measured_area():
    scene = scene_of(hair(4.0, 1.05), hair(4.0, 5.0, unit=1))  # the first lies under a top bar
    conditions = TrichoscopyConditions(caption="top", caption_height_fraction=0.05)
    rgb, truth = render_trichoscopy(
        scene, px_per_mm=100.0, size_px=(800, 600), conditions=conditions
    )
    assert truth.hair_count == 1
    assert truth.area_cm2 == pytest.approx(8.0 * (6.0 - 0.3) / 100)
    band = rgb[:30]
    assert len(np.unique(band.reshape(-1, 3), axis=0)) == 2  # flat fill and glyphs only


def test_rendered_width_is_physical():
    """Anti-aliasing keeps the shaft's coverage summed across it equal to its width."""
    bare, _ = render_trichoscopy(scene_of(), px_per_mm=80.0, size_px=(800, 640))
    bare = bare.astype(float)
    for width_um in (15.0, 42.0, 100.0):
        scene = scene_of(hair(3.0, 4.013, width_um=width_um))
        rgb, _ = render_trichoscopy(scene, px_per_mm=80.0, size_px=(800, 640))
        coverage = (bare - rgb) / (bare - np.array(DARK) * 255)
        measured_px = coverage[:, 250:310].mean(axis=2).sum(axis=0).mean()
        assert measured_px == pytest.approx(width_um * 0.08, rel=0.05)


def test_rendering_is_deterministic_and_conditions_change_it():
    scene = make_trichoscopy_scene(seed=3, density_per_cm2=150, field_mm=(8.0, 6.0))
    conditions = TrichoscopyConditions(blur_sigma_px=1.0, noise_sigma=0.02, bubbles=2, seed=9)
    first, truth = render_trichoscopy(
        scene, px_per_mm=90, size_px=(400, 300), conditions=conditions
    )
    again, truth_again = render_trichoscopy(
        scene, px_per_mm=90, size_px=(400, 300), conditions=conditions
    )
    assert np.array_equal(first, again)
    assert truth == truth_again
    assert first.shape == (300, 400, 3) and first.dtype == np.uint8
    brighter, same_truth = render_trichoscopy(
        scene, px_per_mm=90, size_px=(400, 300), conditions=TrichoscopyConditions(exposure=1.2)
    )
    assert brighter.mean() > first.mean()
    assert same_truth.hair_count == truth.hair_count


def test_scene_has_requested_density_vellus_share_and_units():
    scene = make_trichoscopy_scene(
        seed=1, density_per_cm2=220, vellus_fraction=0.3, field_mm=(20.0, 20.0)
    )
    widths = np.array([h.width_um for h in scene.hairs])
    assert len(scene.hairs) == round(220 * 4.0)
    assert np.mean(widths < 30) == pytest.approx(0.3, abs=0.002)
    assert widths[widths < 30].max() < 30 and widths[widths >= 30].min() >= 40
    assert widths.max() <= 120
    per_unit = np.bincount([h.unit for h in scene.hairs])
    assert per_unit.min() >= 1 and per_unit.max() <= 4
    assert per_unit.mean() == pytest.approx(2.0, abs=0.15)
    for h in scene.hairs:
        assert h.exit_mm == scene.openings_mm[h.unit]


def test_hair_gain_adds_exactly_the_fraction_and_keeps_old_hairs():
    scene = make_trichoscopy_scene(seed=4, density_per_cm2=200, field_mm=(10.0, 8.0))
    grown = scene.with_hair_gain(0.03, seed=1)
    assert len(grown.hairs) == len(scene.hairs) + round(0.03 * len(scene.hairs))
    assert grown.hairs[: len(scene.hairs)] == scene.hairs
    assert np.bincount([h.unit for h in grown.hairs]).max() <= 4
    shrunk = scene.with_hair_gain(-0.1, seed=1)
    assert len(shrunk.hairs) == len(scene.hairs) - round(0.1 * len(scene.hairs))
    assert set(shrunk.hairs) <= set(scene.hairs)
    assert scene.with_hair_gain(0.03, seed=1) == grown


def test_invalid_scene_parameters_are_refused():
    with pytest.raises(ValueError, match="Fitzpatrick"):
        make_trichoscopy_scene(seed=0, skin_tone=7)
    with pytest.raises(ValueError, match="hair_colour"):
        make_trichoscopy_scene(seed=0, hair_colour="red")  # type: ignore[arg-type]


def test_random_conditions_scale_with_severity():
    rng = np.random.default_rng(0)
    clean = [random_conditions(rng, severity=0.0) for _ in range(20)]
    harsh = [random_conditions(rng, severity=1.0) for _ in range(20)]
    assert all(c.noise_sigma == 0 and c.bubbles == 0 and c.rotation_deg == 0 for c in clean)
    assert max(c.blur_sigma_px for c in harsh) > max(c.blur_sigma_px for c in clean)
    assert any(c.bubbles > 0 for c in harsh)


def test_benchmark_set_is_fixed_and_spans_the_targets():
    cases = trichoscopy_benchmark_set()
    assert len(cases) >= 200
    assert trichoscopy_benchmark_set(count=8) == cases[:8]
    densities = [len(c.scene.hairs) / (math.prod(c.scene.field_mm) / 100) for c in cases]
    assert min(densities) < 60 and max(densities) > 270
    vellus = [np.mean([h.width_um < 30 for h in c.scene.hairs]) for c in cases]
    assert min(vellus) < 0.1 and max(vellus) > 0.4
    assert {c.scene.skin_rgb for c in cases} == set(FITZPATRICK_SKIN_RGB.values())
    assert {c.scene.hair_colour for c in cases} == {"dark", "brown", "blond", "grey"}
    scales = [c.px_per_mm for c in cases]
    assert min(scales) < 75 and max(scales) > 135
    assert any(c.conditions.jpeg_quality for c in cases)
    assert any(c.conditions.bubbles for c in cases)
    assert any(c.scene.tattoo_mm for c in cases)
    assert any(c.conditions.caption for c in cases)


def test_benchmark_set_with_long_hair_keeps_its_scenes():
    short = trichoscopy_benchmark_set(count=6)
    long = trichoscopy_benchmark_set(count=6, lengths_mm=(1.5, 3.0))
    for default, longer in zip(short, long, strict=True):
        assert (longer.px_per_mm, longer.conditions) == (default.px_per_mm, default.conditions)
        assert (longer.scene.skin_rgb, longer.scene.hair_colour) == (
            default.scene.skin_rgb,
            default.scene.hair_colour,
        )
        assert len(longer.scene.hairs) == len(default.scene.hairs)
        terminal = [h.length_mm for h in longer.scene.hairs if h.width_um >= 30]
        assert min(terminal) >= 1.5 and max(terminal) <= 3.0
