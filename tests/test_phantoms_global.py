"""The global-photo phantom: its truth is exact for the frame it renders."""

from dataclasses import replace

import numpy as np
import pytest

from tracker.imaging.coverage import CircleRoi, RectRoi
from tracker.phantoms import (
    GLOBAL_BENCHMARK_HEADS,
    GlobalConditions,
    GlobalScene,
    global_benchmark_set,
    global_reshoot_set,
    make_global_scene,
    next_visit_conditions,
    random_global_conditions,
    render_global,
)

HEIGHT, WIDTH = 100, 200
HAIR_LINEAR = np.array([0.01, 0.02, 0.03])


def _to_scene(x_px: float, y_px: float) -> tuple[float, float]:
    """Scene coordinates (frame widths) of an output pixel position, un-posed frame."""
    return (x_px + 0.5) / WIDTH, (y_px + 0.5 - HEIGHT / 2) / WIDTH + 0.5


def _one_strand_scene(*, x_px: tuple[float, float], y_px: float, width_px: float) -> GlobalScene:
    """A bare scalp with one straight horizontal strand between ``x_px`` at row ``y_px``."""
    path = np.array([_to_scene(x, y_px) for x in np.linspace(*x_px, 7)])
    empty = make_global_scene(seed=0, coverage_target=0.0, skin_tone=2)
    return replace(
        empty,
        paths=path[None],
        widths=np.array([width_px / WIDTH]),
        colours_linear=HAIR_LINEAR[None],
    )


def test_single_strand_covers_exactly_its_width_times_length():
    # Edges on pixel boundaries: rows 49–51 and columns 20–79 are fully covered.
    scene = _one_strand_scene(x_px=(19.5, 79.5), y_px=50.0, width_px=3.0)
    _, truth = render_global(scene, size_px=(HEIGHT, WIDTH))
    expected = np.zeros((HEIGHT, WIDTH), np.float32)
    expected[49:52, 20:80] = 1.0
    np.testing.assert_array_equal(truth.hair_fraction, expected)
    assert truth.coverage_pct == pytest.approx(100.0 * 3 * 60 / (HEIGHT * WIDTH))


def test_partly_covered_pixels_count_when_at_least_half_covered():
    # A 2.5-px strand covers two of the three subsample rows of its edge rows.
    scene = _one_strand_scene(x_px=(19.5, 79.5), y_px=50.0, width_px=2.5)
    _, truth = render_global(scene, size_px=(HEIGHT, WIDTH), supersample=3)
    np.testing.assert_allclose(truth.hair_fraction[[49, 51], 20:80], 2 / 3)
    np.testing.assert_allclose(truth.hair_fraction[50, 20:80], 1.0)
    assert truth.hair_fraction[48].max() == 0.0
    assert truth.coverage_pct == pytest.approx(100.0 * 3 * 60 / (HEIGHT * WIDTH))

    thin = _one_strand_scene(x_px=(19.5, 79.5), y_px=50.0, width_px=0.6)
    _, thin_truth = render_global(thin, size_px=(HEIGHT, WIDTH), supersample=3)
    # 0.6 px centred on row 50 covers one subsample row in three: a third, not counted.
    np.testing.assert_allclose(thin_truth.hair_fraction[50, 20:80], 1 / 3)
    assert thin_truth.coverage_pct == 0.0


def test_rendered_colour_is_the_linear_mix_given_by_the_truth():
    scene = _one_strand_scene(x_px=(19.5, 79.5), y_px=50.0, width_px=2.5)
    rgb, truth = render_global(scene, size_px=(HEIGHT, WIDTH))
    srgb = rgb / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    f = truth.hair_fraction[..., None]
    expected = f * HAIR_LINEAR + (1 - f) * scene.skin_linear
    # One 8-bit step at the skin's brightness is at most ~0.4 % in linear light.
    np.testing.assert_allclose(linear, expected, atol=0.004)


def test_roi_restricts_the_counted_region():
    scene = _one_strand_scene(x_px=(19.5, 79.5), y_px=50.0, width_px=3.0)
    _, on_strand = render_global(scene, size_px=(HEIGHT, WIDTH), roi=RectRoi(30, 49, 20, 3))
    assert on_strand.coverage_pct == 100.0
    assert on_strand.region_mask.sum() == 60

    _, half = render_global(scene, size_px=(HEIGHT, WIDTH), roi=RectRoi(70, 44, 20, 15))
    # Columns 70–79 of 70–89 and rows 49–51 of 44–58: 10·3 of 20·15 pixels.
    assert half.coverage_pct == pytest.approx(100.0 * 30 / 300)

    circle = CircleRoi(cx=50.0, cy=50.0, radius=10.0)
    _, in_circle = render_global(scene, size_px=(HEIGHT, WIDTH), roi=circle)
    region = circle.mask((HEIGHT, WIDTH))
    hair_in_circle = np.count_nonzero(region[49:52, 20:80])
    assert in_circle.coverage_pct == pytest.approx(100.0 * hair_in_circle / region.sum())
    np.testing.assert_array_equal(in_circle.region_mask, region)

    _, away = render_global(scene, size_px=(HEIGHT, WIDTH), roi=CircleRoi(150.0, 20.0, 8.0))
    assert away.coverage_pct == 0.0


def test_scene_reaches_its_coverage_target_and_gains_what_is_asked():
    scene = make_global_scene(seed=3, coverage_target=40.0, skin_tone=4, hair_colour="black")
    _, truth = render_global(scene)
    assert truth.coverage_pct == pytest.approx(40.0, abs=5.0)

    grown = scene.with_coverage_gain(8.0, seed=1)
    np.testing.assert_array_equal(grown.paths[: len(scene.paths)], scene.paths)
    _, grown_truth = render_global(grown)
    assert grown_truth.coverage_pct - truth.coverage_pct == pytest.approx(8.0, abs=2.0)


def test_invalid_scene_parameters_are_refused():
    with pytest.raises(ValueError, match="Fitzpatrick"):
        make_global_scene(seed=0, coverage_target=50.0, skin_tone=0)
    with pytest.raises(ValueError, match="hair_colour"):
        make_global_scene(seed=0, coverage_target=50.0, hair_colour="dark")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pattern"):
        make_global_scene(seed=0, coverage_target=50.0, pattern="crown")  # type: ignore[arg-type]


def test_next_visit_changes_the_shot_not_the_head():
    rng = np.random.default_rng(5)
    conditions = random_global_conditions(rng, shine=True)
    revisit = next_visit_conditions(conditions, seed=1)
    assert revisit != conditions
    assert revisit == next_visit_conditions(conditions, seed=1)
    assert abs(revisit.rotation_deg - conditions.rotation_deg) < 10.0
    assert revisit.noise == conditions.noise
    assert len(revisit.shine) == len(conditions.shine)

    scene = make_global_scene(seed=2, coverage_target=30.0, strand_width=(0.006, 0.016))
    first, first_truth = render_global(scene, size_px=(120, 160), conditions=conditions)
    second, second_truth = render_global(scene, size_px=(120, 160), conditions=revisit)
    assert not np.array_equal(first, second)
    # A small pose change moves a little hair in or out of the frame.
    assert second_truth.coverage_pct == pytest.approx(first_truth.coverage_pct, abs=3.0)


def test_neutral_conditions_change_nothing_and_pose_moves_the_truth():
    scene = make_global_scene(seed=4, coverage_target=30.0, strand_width=(0.006, 0.016))
    rgb, truth = render_global(scene, size_px=(120, 160))
    again, _ = render_global(scene, size_px=(120, 160), conditions=GlobalConditions())
    np.testing.assert_array_equal(rgb, again)
    _, shifted = render_global(
        scene, size_px=(120, 160), conditions=GlobalConditions(shift=(0.1, 0.0))
    )
    # Shifting the head right by 16 px moves the truth with it.
    np.testing.assert_array_equal(shifted.hair_fraction[:, 40:140], truth.hair_fraction[:, 24:124])


def test_benchmark_set_spans_skin_tones_and_hair_and_is_seeded():
    assert {skin for skin, _ in GLOBAL_BENCHMARK_HEADS} == {1, 2, 3, 4, 5, 6}
    assert {(1, "blond"), (1, "grey")} <= set(GLOBAL_BENCHMARK_HEADS)
    assert {"black", "grey", "blond"} <= {hair for _, hair in GLOBAL_BENCHMARK_HEADS}
    first = list(global_benchmark_set(count=2, size_px=(120, 160)))
    second = list(global_benchmark_set(count=2, size_px=(120, 160)))
    assert [case.name for case in first] == [case.name for case in second]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.rgb, b.rgb)
        assert a.truth.coverage_pct == b.truth.coverage_pct
    assert first[0].conditions.shine and not first[1].conditions.shine


def test_reshoot_set_shoots_each_head_again_under_changed_conditions():
    heads = ((5, "black"), (2, "blond"))
    first = list(global_reshoot_set(seed=3, count=3, visits=3, heads=heads, size_px=(120, 160)))
    again = list(global_reshoot_set(seed=3, count=3, visits=3, heads=heads, size_px=(120, 160)))
    assert [len(visits) for visits in first] == [3, 3, 3]
    assert [(v[0].scene.skin_tone, v[0].scene.hair_colour) for v in first] == [*heads, heads[0]]
    for visits, repeated in zip(first, again, strict=True):
        assert len({id(case.scene) for case in visits}) == 1
        assert len({case.conditions for case in visits}) == 3
        for case, same in zip(visits, repeated, strict=True):
            np.testing.assert_array_equal(case.rgb, same.rgb)
    assert first[0][0].conditions.shine and not first[1][0].conditions.shine
