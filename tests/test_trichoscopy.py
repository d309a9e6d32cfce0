"""The trichoscopy engine against phantoms with exact truth."""

from __future__ import annotations

import itertools
from dataclasses import replace

import cv2
import numpy as np
import pytest
from scipy import ndimage, special

from tracker.imaging.trichoscopy import (
    _hair_profiles,
    _join_crossings,
    _midpoint_inside,
    _own_blur_sigmas_px,
    _Segment,
    _small_holes,
    _width_from_ratio,
    caption_free_rows,
    draw_trichoscopy_overlay,
    drawn_mark_mask,
    graphic_line_mask,
    measure_trichoscopy,
    segment_hairs,
)
from tracker.measurement import TRICHOSCOPY_FIGURES
from tracker.phantoms import (
    FITZPATRICK_SKIN_RGB,
    PhantomHair,
    TrichoscopyConditions,
    TrichoscopyScene,
    make_trichoscopy_scene,
    render_trichoscopy,
    trichoscopy_benchmark_set,
)

PX_PER_MM = 100.0
SIZE_PX = (800, 600)  # frame covers x 1–9 mm, y 1–7 mm of a 10 × 8 mm field
CLEAN = TrichoscopyConditions(blur_sigma_px=0.6, noise_sigma=0.01, jpeg_quality=92)


def shaft(x_mm, y_mm, angle_deg, *, unit, width_um=70.0, length_mm=1.2):
    return PhantomHair(
        exit_mm=(x_mm, y_mm),
        direction_rad=float(np.radians(angle_deg)),
        length_mm=length_mm,
        width_um=width_um,
        rgb=(0.1, 0.08, 0.07),
        opacity=1.0,
        unit=unit,
    )


def scene_of(*hairs, **extra) -> TrichoscopyScene:
    units = max((h.unit for h in hairs), default=-1) + 1
    return TrichoscopyScene(
        field_mm=(10.0, 8.0),
        skin_rgb=FITZPATRICK_SKIN_RGB[3],
        hairs=hairs,
        openings_mm=tuple(next(h.exit_mm for h in hairs if h.unit == u) for u in range(units)),
        **extra,
    )


def twelve_units(rng):
    """(unit, x_mm, y_mm, angle_deg) of twelve follicular units 2 mm apart on a 4 × 3 grid
    inside the frame, each facing a random direction drawn from ``rng``."""
    for unit, (i, j) in enumerate(itertools.product(range(4), range(3))):
        yield unit, 1.5 + 2.0 * i, 1.6 + 2.0 * j, float(rng.uniform(0, 360))


def measure(scene, conditions=CLEAN, px_per_mm=PX_PER_MM):
    rgb, truth = render_trichoscopy(
        scene, px_per_mm=PX_PER_MM, size_px=SIZE_PX, conditions=conditions
    )
    return measure_trichoscopy(rgb, px_per_mm=px_per_mm), truth, rgb


@pytest.fixture(scope="module")
def phantom_runs():
    """Six phantoms across skin tones, hair colours and densities, mildly degraded."""
    runs = []
    settings = [(1, "dark", 80), (2, "brown", 160), (3, "blond", 120), (4, "dark", 220),
                (5, "dark", 140), (6, "dark", 60)]  # fmt: skip
    for index, (skin_tone, colour, density) in enumerate(settings):
        scene = make_trichoscopy_scene(
            seed=100 + index,
            density_per_cm2=density,
            vellus_fraction=0.2,
            skin_tone=skin_tone,
            hair_colour=colour,
        )
        runs.append(measure(scene))
    return runs


def test_figures_have_exactly_the_shared_names(phantom_runs):
    result, _, _ = phantom_runs[0]
    assert tuple(result.figures) == TRICHOSCOPY_FIGURES
    assert all(h.width_um is not None for h in result.hairs)
    assert len(result.widths_um) == sum(h.counted for h in result.hairs)


def test_counts_widths_and_vellus_within_tolerance(phantom_runs):
    found = np.array([r.figures["hair_count"] for r, _, _ in phantom_runs], float)
    true = np.array([t.hair_count for _, t, _ in phantom_runs], float)
    assert abs(found.sum() / true.sum() - 1) < 0.10
    assert np.all(np.abs(found / true - 1) < 0.25)
    widths = np.array([(r.figures["mean_width_um"], t.mean_width_um) for r, t, _ in phantom_runs])
    width_error = np.abs(widths[:, 0] / widths[:, 1] - 1)
    assert width_error.mean() < 0.15 and width_error.max() < 0.3
    vellus = np.array(
        [(r.figures["vellus_fraction"], t.vellus_fraction) for r, t, _ in phantom_runs]
    )
    assert np.mean(np.abs(vellus[:, 0] - vellus[:, 1])) < 0.1
    for result, truth, _ in phantom_runs:
        assert result.figures["area_cm2"] == pytest.approx(truth.area_cm2)


def test_single_shaft_width_is_measured_in_microns():
    for width_um in (45.0, 70.0, 110.0):
        result, _, _ = measure(scene_of(shaft(4.0, 4.0, 20, unit=0, width_um=width_um)))
        assert [h.counted for h in result.hairs] == [True]
        assert result.hairs[0].width_um == pytest.approx(width_um, rel=0.08)


def test_crossing_hairs_are_two_hairs():
    scene = scene_of(shaft(3.0, 3.0, 45, unit=0), shaft(3.0, 3.8, -45, unit=1))
    result, truth, _ = measure(scene)
    assert truth.hair_count == 2
    assert result.figures["hair_count"] == 2
    assert all(h.length_px > 100 for h in result.hairs)  # each traced through the crossing


@pytest.mark.parametrize("angle_deg", [70, 90])
@pytest.mark.parametrize("widths_um", [(40.0, 40.0), (40.0, 70.0), (70.0, 40.0)])
@pytest.mark.parametrize("blur_sigma_px", [0.6, 1.5])
def test_a_hair_broken_where_another_crosses_it_is_one_hair(angle_deg, widths_um, blur_sigma_px):
    # The valley cuts that part touching shafts also parted a through-going shaft from the
    # one crossing it, a pixel on each side, and the gap join, which needs the gap on the
    # mask, left its two pieces apart: 3-4 hairs for 2.
    direction = np.array([np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))])
    scene = scene_of(
        shaft(2.0, 4.0, 0, unit=0, length_mm=2.0, width_um=widths_um[0]),
        shaft(
            *(np.array([3.0, 4.0]) - 0.8 * direction),
            angle_deg,
            unit=1,
            length_mm=1.6,
            width_um=widths_um[1],
        ),
    )
    conditions = TrichoscopyConditions(
        blur_sigma_px=blur_sigma_px, noise_sigma=0.01, jpeg_quality=92
    )
    result, truth, _ = measure(scene, conditions)
    assert truth.hair_count == 2
    assert result.figures["hair_count"] == 2
    # Each runs through the crossing, end to end (160 and 200 px).
    assert all(np.hypot(*np.subtract(h.end_px, h.start_px)) > 140 for h in result.hairs)


@pytest.mark.parametrize("angle_deg", [30, 40])
@pytest.mark.parametrize("offset_mm", [0.0, 0.3, 0.6])
def test_hairs_crossing_at_a_shallow_angle_are_two_hairs(angle_deg, offset_mm):
    # At a shallow crossing the skeleton thins the overlap to a piece between two
    # junctions and breaks the shafts short of them: the pieces were counted apart (3-4).
    rise_mm = 0.6 * np.tan(np.radians(angle_deg))
    scene = scene_of(
        shaft(2.0, 4.0, 0, unit=0, length_mm=2.0),
        shaft(2.6 + offset_mm, 4.0 - rise_mm, angle_deg, unit=1, length_mm=1.5),
    )
    result, truth, _ = measure(scene)
    assert truth.hair_count == 2
    assert result.figures["hair_count"] == 2


@pytest.mark.parametrize("angle_deg", [0, 30, 75])
def test_a_hair_ending_where_the_next_starts_is_not_joined_to_it(angle_deg):
    # Collinear pieces join across a gap only where the gap is shaft, not skin.
    direction = np.array([np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))])
    first, second = np.array([3.0, 3.5]), np.array([3.0, 3.5]) + 1.08 * direction
    scene = scene_of(
        shaft(*first, angle_deg, unit=0, length_mm=1.0),
        shaft(*second, angle_deg, unit=1, length_mm=1.0),
    )
    result, truth, _ = measure(scene)
    assert truth.hair_count == 2
    assert result.figures["hair_count"] == 2


def test_hairs_sharing_an_opening_are_split():
    scene = scene_of(
        shaft(3.0, 4.0, -20, unit=0), shaft(3.0, 4.0, 0, unit=0), shaft(3.0, 4.0, 20, unit=0),
        shaft(6.0, 3.0, 60, unit=1), shaft(6.0, 3.0, 120, unit=1),
    )  # fmt: skip
    result, _, _ = measure(scene)
    assert result.figures["hair_count"] == 5


def test_follicular_units_group_hairs_leaving_one_opening():
    scene = scene_of(
        shaft(2.5, 3.0, 60, unit=0), shaft(2.5, 3.0, 120, unit=0),
        shaft(6.0, 2.5, 70, unit=1), shaft(6.0, 2.5, 115, unit=1),
        shaft(4.5, 5.5, 10, unit=2),
    )  # fmt: skip
    result, truth, _ = measure(scene)
    assert truth.follicular_units == 3
    assert result.figures["hair_count"] == 5
    assert result.figures["follicular_units"] == 3
    assert result.figures["hairs_per_unit"] == pytest.approx(5 / 3)
    assert sorted(np.bincount([h.unit for h in result.hairs if h.counted])) == [1, 2, 2]
    assert len(result.unit_centres_px) == 3


def test_a_tip_touching_another_hairs_opening_is_not_of_its_unit():
    # The tip of a hair from elsewhere ends 0.11 mm from an opening, running off at 120
    # degrees from that opening's hair: two units. A fan of two hairs 30 degrees apart is one.
    scene = scene_of(
        shaft(3.0, 4.0, 0, unit=0),
        shaft(2.35, 2.86, 60, unit=1),
        shaft(7.0, 4.0, 80, unit=2), shaft(7.0, 4.0, 110, unit=2),
    )  # fmt: skip
    result, truth, _ = measure(scene)
    assert truth.follicular_units == 3
    assert result.figures["hair_count"] == 4
    assert result.figures["follicular_units"] == 3


def test_a_sibling_showing_only_where_it_parts_from_its_stem_is_counted():
    # Two shafts 13-20° apart leave each opening; they share a stem until they part, and
    # the shorter one's arm beyond the fork is shorter than the least hair length. The arm
    # points back to the stem's free end: one more hair of the same unit (4 hairs without).
    fans = [(2.5, 3.0, 0, 20, 80.0), (5.0, 5.0, 70, 13, 60.0), (7.0, 2.5, 160, 20, 80.0)]
    hairs = []
    for unit, (x_mm, y_mm, angle_deg, fan_deg, width_um) in enumerate(fans):
        hairs += [
            shaft(x_mm, y_mm, angle_deg, unit=unit, width_um=width_um, length_mm=0.4),
            shaft(x_mm, y_mm, angle_deg + fan_deg, unit=unit, width_um=width_um, length_mm=0.36),
        ]
    result, truth, _ = measure(scene_of(*hairs))
    assert truth.hair_count == 6 and truth.follicular_units == 3
    assert result.figures["hair_count"] == 6
    assert result.figures["follicular_units"] == 3


def runs_along(hair, truth, index: int, *, px_per_mm: float, share: float) -> bool:
    """Whether counted ``hair`` lies along ``truth``'s shaft ``index`` (within 15° of its
    line and half its width plus 3 px of it) for at least ``share`` of its length."""
    exit_px, tip_px = np.reshape(truth.shafts_px[index], (2, 2))
    length_px = np.hypot(*(tip_px - exit_px))
    along = (tip_px - exit_px) / length_px
    across = np.array([-along[1], along[0]])
    band_px = truth.widths_um[index] / 1000 * px_per_mm / 2 + 3
    ends = np.array([hair.start_px, hair.end_px]) - exit_px
    direction = (ends[1] - ends[0]) / max(np.hypot(*(ends[1] - ends[0])), 1e-9)
    return (
        hair.counted
        and abs(direction @ along) >= np.cos(np.radians(15))
        and bool(np.all(np.abs(ends @ across) <= band_px))
        and abs(np.diff(ends @ along)[0]) >= share * length_px
    )


@pytest.fixture(scope="module")
def benchmark_case_45():
    """Benchmark case 45 (dark hair at 110 px/mm, blur 1.1 px), its truth and its result."""
    case = trichoscopy_benchmark_set(count=46)[45]
    rgb, truth = case.render()
    return case, truth, measure_trichoscopy(rgb, px_per_mm=case.px_per_mm)


def test_a_shaft_hidden_in_its_units_dark_mass_is_traced_from_what_the_traces_leave(
    benchmark_case_45,
):
    # Three shafts fan tightly from one opening, and the skeleton of their shared dark
    # mass followed two of them. The third, 74 µm wide and 0.41 mm long, beside the middle
    # one for half its length, had no trace along it at all.
    case, truth, result = benchmark_case_45
    assert (
        sum(runs_along(h, truth, 3, px_per_mm=case.px_per_mm, share=0.5) for h in result.hairs) == 1
    )


def test_a_hair_starting_where_another_ends_off_its_line_is_not_joined_to_it(
    benchmark_case_45,
):
    # A 21 µm vellus shaft, 0.53 mm long, ends by the opening of a terminal shaft of
    # another unit that runs on 21° off its line. The skeleton broke between them and the
    # two pieces were joined across the gap as one hair along the terminal shaft: the
    # vellus shaft had no trace of its own.
    case, truth, result = benchmark_case_45
    vellus, terminal = 0, 9
    assert truth.units_of_hairs[vellus] != truth.units_of_hairs[terminal]
    for index in (vellus, terminal):
        assert (
            sum(
                runs_along(h, truth, index, px_per_mm=case.px_per_mm, share=0.3)
                for h in result.hairs
            )
            == 1
        )


def test_the_soft_band_of_a_shadow_under_the_skin_is_not_a_thin_shaft():
    # Benchmark case 106 (a strong shadow under the skin, blur 1.8 px, hardly any noise):
    # the thin pass traced the ridges of the soft bands the shafts' shadows leave behind
    # their openings, and read them as vellus shafts: six lay away from every hair.
    case = trichoscopy_benchmark_set(count=107)[106]
    rgb, truth = case.render()
    result = measure_trichoscopy(rgb, px_per_mm=case.px_per_mm)
    shafts = np.asarray(truth.shafts_px, dtype=float)
    height, width = rgb.shape[:2]
    margin_px = 0.2 * case.px_per_mm

    def distance_to_shafts(point: np.ndarray) -> float:
        starts, lines = shafts[:, :2], shafts[:, 2:] - shafts[:, :2]
        t = np.clip(np.einsum("nk,nk->n", point - starts, lines) / (lines**2).sum(axis=1), 0, 1)
        return float(np.min(np.hypot(*(point - (starts + t[:, None] * lines)).T)))

    off_every_hair = [
        hair
        for hair in result.hairs
        if hair.counted
        and hair.vellus
        and margin_px
        <= (middle := (np.add(hair.start_px, hair.end_px)) / 2)[0]
        <= width - margin_px
        and margin_px <= middle[1] <= height - margin_px
        and distance_to_shafts(middle) >= 0.1 * case.px_per_mm
    ]
    assert off_every_hair == []


def test_caption_bubbles_tattoo_and_skin_marks_are_not_hair():
    scene = make_trichoscopy_scene(seed=9, density_per_cm2=0, tattoo=True, yellow_dots_per_cm2=40)
    conditions = TrichoscopyConditions(
        bubbles=4, caption="bottom", subskin_shadow=0.8, noise_sigma=0.01, seed=3
    )
    result, _, rgb = measure(scene, conditions)
    assert result.figures["hair_count"] == 0
    assert result.analysed_rows[1] <= rgb.shape[0] - 30
    assert result.figures["area_cm2"] == pytest.approx(8.0 * 5.7 / 100, rel=0.01)


def test_caption_band_is_detected_at_top_and_bottom_only_when_present():
    scene = make_trichoscopy_scene(seed=2, density_per_cm2=120)
    for caption, expected in ((None, (0, 600)), ("top", (30, 600)), ("bottom", (0, 570))):
        # The 30-row band is found and a few rows beyond it dropped for JPEG ringing.
        rgb, _ = render_trichoscopy(
            scene,
            px_per_mm=PX_PER_MM,
            size_px=SIZE_PX,
            conditions=TrichoscopyConditions(caption=caption, jpeg_quality=85),
        )
        first, stop = caption_free_rows(rgb)
        assert expected[0] <= first <= expected[0] + 6
        assert expected[1] - 6 <= stop <= expected[1]


def test_plain_strip_below_pale_neutral_skin_is_a_caption_band():
    # Pale bluish-grey skin (as on the FDU photos) is nearly neutral, so its rows passed
    # the band's share floor too and a plain 32-row strip at the bottom was kept as scalp.
    scene = replace(make_trichoscopy_scene(seed=2, density_per_cm2=120), skin_rgb=(0.8, 0.8, 0.84))
    rgb, _ = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=SIZE_PX, conditions=CLEAN)
    assert caption_free_rows(rgb) == (0, 600)
    strip = rgb.copy()
    strip[-32:] = 220
    first, stop = caption_free_rows(strip)
    assert first == 0
    assert 600 - 32 - 8 <= stop <= 600 - 32


def test_caption_band_may_start_up_to_the_ninth_row():
    rng = np.random.default_rng(4)
    skin = rng.normal((200, 150, 130), 12, (600, 800, 3)).clip(0, 255).astype(np.uint8)
    for band_start, expected_first in ((8, 45), (9, 0)):
        rgb = skin.copy()
        rgb[band_start:40] = 60  # the flat grey fill behind a caption, to row 39
        rgb[band_start + 10 : band_start + 20, 100:400:7] = 255  # its text
        assert caption_free_rows(rgb) == (expected_first, 600)


def test_without_calibration_counts_remain_and_physical_figures_are_none(phantom_runs):
    calibrated, _, rgb = phantom_runs[1]
    result = measure_trichoscopy(rgb, px_per_mm=None)
    for name in ("area_cm2", "density_per_cm2", "mean_width_um", "vellus_count",
                 "terminal_count", "vellus_fraction"):  # fmt: skip
        assert result.figures[name] is None
    assert result.widths_um == ()
    assert all(h.vellus is None and h.width_um is None for h in result.hairs)
    assert result.figures["hair_count"] == pytest.approx(calibrated.figures["hair_count"], rel=0.2)
    assert result.figures["follicular_units"] > 0


def test_white_balance_and_exposure_do_not_change_density():
    scene = make_trichoscopy_scene(seed=21, density_per_cm2=180, vellus_fraction=0.15)
    densities = []
    for exposure, balance in (
        (1.0, (1.0, 1.0, 1.0)),
        (0.8, (1.1, 1.0, 0.88)),
        (1.15, (0.9, 1.0, 1.1)),
    ):
        conditions = TrichoscopyConditions(
            exposure=exposure, white_balance=balance, blur_sigma_px=0.6, noise_sigma=0.01
        )
        result, _, _ = measure(scene, conditions)
        densities.append(result.figures["density_per_cm2"])
    assert max(densities) / min(densities) - 1 < 0.05


def test_vellus_threshold_is_a_setting(phantom_runs):
    _, _, rgb = phantom_runs[0]
    default = measure_trichoscopy(rgb, px_per_mm=PX_PER_MM)
    wider = measure_trichoscopy(rgb, px_per_mm=PX_PER_MM, vellus_threshold_um=40.0)
    assert wider.figures["hair_count"] == default.figures["hair_count"]
    assert wider.figures["vellus_count"] >= default.figures["vellus_count"]
    assert all(h.vellus == (h.width_um < 40.0) for h in wider.hairs)


def test_exclude_mask_removes_area_and_hairs():
    scene = scene_of(shaft(2.0, 3.0, 0, unit=0), shaft(6.0, 5.0, 0, unit=1))
    rgb, _ = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=SIZE_PX, conditions=CLEAN)
    exclude = np.zeros(rgb.shape[:2], bool)
    exclude[:, 400:] = True
    result = measure_trichoscopy(rgb, px_per_mm=PX_PER_MM, exclude_mask=exclude)
    assert result.figures["hair_count"] == 1
    assert result.figures["area_cm2"] == pytest.approx(0.24)


def test_a_burned_in_scale_bar_is_not_hair():
    # A dermatoscope's scale bar, an L of 2-pixel dark lines, at 380 px/mm (as on 46 of the
    # FDU photos): its arms were traced as two hairs. The fine vellus shaft is exactly
    # vertical and 15 µm (5.7 px) wide: a hair, not a drawn line.
    px_per_mm = 380.0
    scene = scene_of(
        shaft(4.3, 3.5, 30, unit=0, length_mm=0.8),
        shaft(5.3, 3.4, 110, unit=1, length_mm=0.8),
        shaft(5.6, 3.5, 90, unit=2, width_um=15.0, length_mm=1.0),
    )
    rgb, truth = render_trichoscopy(scene, px_per_mm=px_per_mm, size_px=SIZE_PX, conditions=CLEAN)
    barred = rgb.copy()
    barred[200:560, 40:42] = 50
    barred[558:560, 40:420] = 50
    lines = graphic_line_mask(barred, px_per_mm=px_per_mm)
    assert lines[200:560, 40:42].all() and lines[558:560, 40:420].all()
    assert not graphic_line_mask(rgb, px_per_mm=px_per_mm).any()
    for photo in (rgb, barred):
        assert measure_trichoscopy(photo, px_per_mm=px_per_mm).figures["hair_count"] == 3
    assert truth.hair_count == 3


def test_a_drawn_red_circle_is_painted_over_and_a_red_brown_hair_is_kept():
    # Measuring software draws circles in red onto the photo (84 of the FDU photos): where
    # this one crosses the three shafts its arcs were counted as three more hairs. The
    # auburn shaft is reddish too, but of a hair's hue.
    px_per_mm = 380.0
    auburn = replace(shaft(5.6, 4.3, 200, unit=2, length_mm=0.6), rgb=(0.45, 0.2, 0.1))
    scene = scene_of(
        shaft(4.3, 3.5, 30, unit=0, length_mm=0.8),
        shaft(5.3, 3.4, 110, unit=1, length_mm=0.8),
        auburn,
    )
    rgb, truth = render_trichoscopy(scene, px_per_mm=px_per_mm, size_px=SIZE_PX, conditions=CLEAN)
    circled = rgb.copy()
    cv2.circle(circled, (150, 700), 520, (225, 35, 40), 2, cv2.LINE_AA)
    stroke = np.any(circled != rgb, axis=2) & (circled[..., 1] < 90)
    marks = drawn_mark_mask(circled, px_per_mm=px_per_mm)
    # Over the auburn shaft the stroke is no more saturated than what lies beside it.
    assert marks[stroke].mean() > 0.9
    assert not drawn_mark_mask(rgb, px_per_mm=px_per_mm).any()
    for photo in (rgb, circled):
        assert measure_trichoscopy(photo, px_per_mm=px_per_mm).figures["hair_count"] == 3
    assert truth.hair_count == 3


def test_hair_mask_covers_the_shafts():
    scene = scene_of(shaft(3.0, 4.0, 10, unit=0, width_um=90.0))
    rgb, _ = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=SIZE_PX, conditions=CLEAN)
    mask = segment_hairs(rgb, px_per_mm=PX_PER_MM)
    assert mask.shape == rgb.shape[:2]
    expected_area_px = 1.2 * 0.09 * PX_PER_MM**2
    assert mask.sum() == pytest.approx(expected_area_px, rel=0.35)


def test_overlay_marks_terminal_and_vellus_hairs_in_different_colours():
    scene = scene_of(shaft(3.0, 3.0, 0, unit=0, width_um=80.0),
                     shaft(3.0, 5.0, 0, unit=1, width_um=22.0, length_mm=0.8))  # fmt: skip
    rgb, _ = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=SIZE_PX, conditions=CLEAN)
    result = measure_trichoscopy(rgb, px_per_mm=PX_PER_MM)
    assert sorted(h.vellus for h in result.hairs) == [False, True]
    overlay = draw_trichoscopy_overlay(rgb, result)
    assert overlay.shape == rgb.shape and overlay.dtype == np.uint8
    midpoints = [
        (round((h.start_px[1] + h.end_px[1]) / 2), round((h.start_px[0] + h.end_px[0]) / 2))
        for h in result.hairs
    ]
    colours = {tuple(overlay[row, column]) for row, column in midpoints}
    assert len(colours) == 2
    assert not np.array_equal(overlay, rgb)


def test_rejects_non_rgb_input():
    with pytest.raises(ValueError, match="RGB"):
        measure_trichoscopy(np.zeros((10, 10), np.uint8), px_per_mm=100.0)


def test_white_shafts_on_fair_skin_are_counted():
    # A white shaft on type II skin is bluer than the skin, like the shadow of a shaft under
    # it; only the shadow is a broad band, so the shaft must still be seen.
    white = [
        shaft(1.5 + 1.0 * i, 2.0 + 0.4 * (i % 3), 60.0 + 10 * i, unit=i, width_um=70.0)
        for i in range(7)
    ]
    hairs = tuple(replace(h, rgb=(0.6, 0.6, 0.6)) for h in white)
    scene = TrichoscopyScene(
        field_mm=(10.0, 8.0),
        skin_rgb=FITZPATRICK_SKIN_RGB[2],
        hairs=hairs,
        openings_mm=tuple(h.exit_mm for h in hairs),
        hair_colour="grey",
    )
    result, truth, _ = measure(scene)
    assert result.figures["hair_count"] == truth.hair_count == 7
    assert result.figures["mean_width_um"] == pytest.approx(70.0, rel=0.15)


def test_blond_hair_on_type_iii_skin_is_counted():
    # Blond shafts differ from this skin mostly in blue; read in red and green only, they
    # were lost under the mottling (the engine before the hair-colour contrast found 18 %
    # too few here, the current one 6.5 %).
    found, true = 0, 0
    for seed in range(3):
        scene = make_trichoscopy_scene(
            seed=300 + seed, density_per_cm2=150, vellus_fraction=0.2, skin_tone=3,
            hair_colour="blond",
        )  # fmt: skip
        result, truth, _ = measure(scene)
        found += result.figures["hair_count"]
        true += truth.hair_count
    assert abs(found / true - 1) < 0.11


def test_faint_blond_shafts_beside_dark_openings_are_counted():
    # Benchmark cases 13 and 170: blond hair on type III skin, where the photo's darkest
    # contrast is its follicle openings and the shadow under the skin, not its shafts.
    # Seeded at 0.45 of that contrast, the faint shafts seeded nothing: 157 hairs for 171.
    cases = trichoscopy_benchmark_set(count=171)
    found, true = 0, 0
    for case in (cases[13], cases[170]):
        assert case.scene.hair_colour == "blond"
        rgb, truth = case.render()
        found += measure_trichoscopy(rgb, px_per_mm=case.px_per_mm).figures["hair_count"]
        true += truth.hair_count
    assert true == 171
    assert 0.95 * true <= found <= 1.05 * true


def test_yellow_dots_are_not_blond_hair():
    # On a blond photo the contrast follows the hair colour, which is yellowish like sebum
    # dots; the dots, no darker than the skin in red and green, must still not count.
    hairs = tuple(
        replace(shaft(1.5 + 1.2 * i, 2.0 + 0.5 * (i % 3), 40.0 + 15 * i, unit=i),
                rgb=(0.72, 0.58, 0.36))
        for i in range(6)
    )  # fmt: skip
    dots = tuple((1.0 + 1.1 * i, 5.5 + 0.6 * (i % 2), 0.09) for i in range(8))
    scene = TrichoscopyScene(
        field_mm=(10.0, 8.0),
        skin_rgb=FITZPATRICK_SKIN_RGB[3],
        hairs=hairs,
        openings_mm=tuple(h.exit_mm for h in hairs),
        yellow_dots_mm=dots,
        hair_colour="blond",
    )
    result, truth, _ = measure(scene)
    assert result.figures["hair_count"] == truth.hair_count == 6


def test_pale_blond_shafts_yellow_against_the_skin_are_counted():
    # Benchmark case 149: blond hair on type III skin. The palest shafts are hardly darker
    # than the skin in red and green, and the shaft contrast, capped by that darkness so
    # that sebum dots stay out, read them no stronger than the skin's mottling: 66 hairs
    # for 71. They are yellow against the skin, as the photo's traced hairs are.
    case = trichoscopy_benchmark_set(count=150)[149]
    rgb, truth = case.render()
    assert case.scene.hair_colour == "blond"
    assert truth.hair_count == 71
    found = measure_trichoscopy(rgb, px_per_mm=case.px_per_mm).figures["hair_count"]
    assert abs(found - truth.hair_count) <= 2


@pytest.mark.parametrize("blur_sigma_px", [0.6, 1.0])
def test_white_shafts_fanning_from_openings_on_type_iii_skin_are_counted(blur_sigma_px):
    # On type III skin a white shaft is hardly darker than the skin: where it leaves an
    # opening beside a pigmented grey shaft and another white one, the darkness passes
    # found 18-20 of these 36 shafts; the white-shaft pass finds the rest by colour. (The
    # count reads 38-40: a few white shafts are traced in two pieces, as before.)
    rng = np.random.default_rng(5)
    hairs = []
    for unit, x_mm, y_mm, angle_deg in twelve_units(rng):
        for position, spread_deg in enumerate((-18.0, 0.0, 18.0)):
            hair = shaft(x_mm, y_mm, angle_deg + spread_deg, unit=unit,
                         width_um=float(rng.uniform(60, 100)), length_mm=0.8)  # fmt: skip
            grey = 0.25 if position == 1 else float(rng.uniform(0.6, 0.68))
            hairs.append(replace(hair, rgb=(grey, grey, grey)))
    scene = replace(scene_of(*hairs), hair_colour="grey")
    conditions = TrichoscopyConditions(
        blur_sigma_px=blur_sigma_px, noise_sigma=0.012, jpeg_quality=85
    )
    result, truth, _ = measure(scene, conditions)
    assert truth.hair_count == 36
    assert 0.9 * truth.hair_count <= result.figures["hair_count"] <= 1.12 * truth.hair_count


def test_pale_blue_strokes_burned_into_the_photo_are_not_white_shafts():
    # Bluer than the skin and little darker, like a white shaft, but saturated: without
    # the colour tests the white-shaft pass counted these 16 strokes as 16 more hairs.
    # Measured as thin as they are drawn (25-32 µm), the thin-shaft pass took 9 of them for
    # vellus shafts until it tested their hue (THIN_MAX_BLUE_OVER_RED).
    scene = scene_of(*(shaft(1.5 + 1.2 * i, 2.0, 70.0 + 10 * i, unit=i) for i in range(6)))
    rgb, truth = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=SIZE_PX, conditions=CLEAN)
    rgb = rgb.copy()
    for stroke in range(8):
        x = 120 + 70 * stroke
        cv2.line(rgb, (x, 480), (x + 12, 540), (150, 165, 230), 2)
        cv2.line(rgb, (x + 30, 480), (x + 30, 540), (150, 165, 230), 2)
    found = measure_trichoscopy(rgb, px_per_mm=PX_PER_MM).figures["hair_count"]
    assert truth.hair_count == 6
    assert found <= truth.hair_count + 2


@pytest.mark.xfail(
    reason="known limit: a strong shadow under the skin (0.5-1.0) still adds 1-2 traces "
    "behind two isolated hairs; the engine before the blue-excess change added 0-5",
    strict=True,
)
def test_shadow_under_the_skin_is_not_hair():
    scene = scene_of(shaft(3.0, 3.0, 30.0, unit=0), shaft(6.0, 5.0, 120.0, unit=1))
    result, truth, _ = measure(scene, replace(CLEAN, subskin_shadow=1.0))
    assert result.figures["hair_count"] == truth.hair_count == 2


@pytest.mark.parametrize(("index", "tolerance"), [(9, 9), (47, 2)])
def test_a_trace_as_wide_as_several_shafts_adds_one_hair(index, tolerance):
    # Benchmark case 9 (blond fans at 117 px/mm): three pieces about 0.17 mm long where
    # the shafts of a fan overlap read four shafts wide each, and counted so the photo
    # had 52 hairs for 36. Case 47 (grey hair at 119 px/mm): one trace reading three
    # shafts wide where a fan's shafts overlap gave 22 hairs for 19. Such a trace's arms
    # are traced on their own; on the phantoms a trace two or more shafts wide held 0.9
    # hair on average.
    case = trichoscopy_benchmark_set(count=index + 1)[index]
    rgb, truth = case.render()
    result = measure_trichoscopy(rgb, px_per_mm=case.px_per_mm)
    assert abs(result.figures["hair_count"] - truth.hair_count) <= tolerance


def test_hairs_hidden_by_others_are_estimated_from_the_untraced_hair():
    # Where hair crowds the photo, more hairs lie under or merged with another shaft and
    # no trace shows them; the mask there holds more hair than the traces account for.
    # Counting traces only, the denser half of the first 20 benchmark photos (by true
    # density) read 5.3 % low on average, the sparser half 0.2 %; counting some traces as
    # two touching shafts (2026.12.29), 3.3 % low and 3.2 % high.
    cases = trichoscopy_benchmark_set(count=20)
    density, error = [], []
    for case in cases:
        rgb, truth = case.render()
        found = measure_trichoscopy(rgb, px_per_mm=case.px_per_mm).figures["hair_count"]
        density.append(truth.hair_count / truth.area_cm2)
        error.append(100 * (found - truth.hair_count) / truth.hair_count)
    denser = np.asarray(density) > np.median(density)
    error = np.asarray(error)
    assert abs(error[denser].mean()) <= 1.5
    assert abs(error[~denser].mean()) <= 3.0


def test_a_wide_trace_far_fainter_than_the_shafts_is_not_hair():
    # Benchmark case 54 (dark hair at 140 px/mm, shadow under the skin 0.82): the shadow
    # beside and behind the shafts traced as wide, faint pieces, one of them read as two
    # touching shafts, and the photo counted 38 hairs for 31. A shaft as wide as a
    # terminal one is about as dark as the photo's shafts.
    case = trichoscopy_benchmark_set(count=55)[54]
    rgb, truth = case.render()
    assert truth.hair_count == 31
    result = measure_trichoscopy(rgb, px_per_mm=case.px_per_mm)
    assert abs(sum(h.counted for h in result.hairs) - truth.hair_count) <= 2


def test_pale_thin_vellus_shafts_are_found_by_the_thin_shaft_pass():
    # Twelve blond vellus shafts 16 µm wide (60 % opaque) among twelve blond terminal ones:
    # the terminal shafts set the first pass's thresholds, under which the vellus shafts
    # fall (it found 7 of them and 20 hairs); the thin-shaft ridge pass finds the rest.
    rng = np.random.default_rng(3)
    blond = (0.72, 0.58, 0.36)
    hairs = []
    for index, (i, j) in enumerate(itertools.product(range(4), range(3))):
        x_mm, y_mm = 1.6 + 1.9 * i, 1.7 + 2.0 * j
        vellus = replace(
            shaft(
                x_mm, y_mm, float(rng.uniform(0, 180)), unit=2 * index, width_um=16.0, length_mm=0.5
            ),
            rgb=blond,
            opacity=0.6,
        )
        terminal = replace(
            shaft(
                x_mm + 0.9,
                y_mm + 0.9,
                float(rng.uniform(0, 180)),
                unit=2 * index + 1,
                length_mm=0.8,
            ),
            rgb=blond,
        )
        hairs += [vellus, terminal]  # fmt: skip
    conditions = TrichoscopyConditions(blur_sigma_px=0.5, noise_sigma=0.005, jpeg_quality=92)
    result, truth, _ = measure(scene_of(*hairs), conditions)
    assert truth.hair_count == 24 and truth.vellus_count == 12
    assert result.figures["vellus_count"] >= 10
    assert abs(result.figures["hair_count"] - truth.hair_count) <= 2


def test_a_wedge_of_shafts_cut_by_the_frame_border_counts_as_one_hair():
    # The same scalp (one of the benchmark's re-shot scenes) under five small pose changes.
    # A unit whose opening lies at the frame's edge shows only the wedge where its shafts
    # overlap; read as 2-3 side-by-side shafts, it put the count 6 over the truth in one
    # pose and 2 under in another. The count now reads 1 over to 4 under: hair by hair,
    # the misses are siblings merged in one trace (1-3 a pose) and hairs cut by the
    # border (0-2). Until 2026.12.20 a vellus shaft of a three-shaft fan, read as two
    # shafts, hid one of those misses in four of the poses.
    scene = make_trichoscopy_scene(
        seed=1009, density_per_cm2=93, vellus_fraction=0.31, field_mm=(12.0, 10.0), skin_tone=2
    )
    poses = [(-0.25, (-0.04, 0.01)), (-0.33, (-0.13, 0.05)), (-1.78, (0.14, -0.06)),
             (-2.18, (-0.05, 0.08)), (-0.37, (0.0, -0.11))]  # fmt: skip
    errors = []
    for seed, (rotation_deg, shift_mm) in enumerate(poses):
        conditions = TrichoscopyConditions(
            blur_sigma_px=1.0,
            noise_sigma=0.01,
            jpeg_quality=90,
            rotation_deg=rotation_deg,
            shift_mm=shift_mm,
            seed=seed,
        )
        result, truth, _ = measure(scene, conditions)
        errors.append(result.figures["hair_count"] - truth.hair_count)
    assert max(abs(error) for error in errors) <= 4


def test_a_cut_hair_counts_when_whole_hairs_are_at_most_twice_its_visible_part():
    # Whole hairs 100 px long: a cut hair showing 60 px has its midpoint inside, one
    # showing 40 px does not.
    whole = [
        (np.array([300.0, 100.0 + 20 * i]), np.array([400.0, 100.0 + 20 * i])) for i in range(9)
    ]
    cut = [
        (np.array([0.0, 50.0]), np.array([60.0, 50.0])),
        (np.array([0.0, 70.0]), np.array([40.0, 70.0])),
    ]
    counted = _midpoint_inside(
        whole + cut, [100.0] * 9 + [60.0, 40.0], [False] * 9 + [True, True], frame_px=(1000, 1000)
    )
    assert counted == [True] * 9 + [True, False]


def test_a_cut_vellus_hair_is_judged_by_the_lengths_of_whole_vellus_hairs():
    # Whole terminal hairs 300 px long, whole vellus hairs 60 px. Two cut vellus hairs show
    # 40 px (their midpoints are inside), a cut terminal hair shows 100 px (its midpoint is
    # not). Judged by all whole hairs together, the terminal one counted and neither
    # vellus hair did.
    terminal = [
        (np.array([300.0, 100.0 + 20 * i]), np.array([600.0, 100.0 + 20 * i])) for i in range(9)
    ]
    vellus = [
        (np.array([700.0, 100.0 + 20 * i]), np.array([760.0, 100.0 + 20 * i])) for i in range(6)
    ]
    cut = [
        (np.array([0.0, 500.0]), np.array([40.0, 500.0])),
        (np.array([0.0, 520.0]), np.array([40.0, 520.0])),
        (np.array([0.0, 540.0]), np.array([100.0, 540.0])),
    ]
    counted = _midpoint_inside(
        terminal + vellus + cut,
        [300.0] * 9 + [60.0] * 6 + [40.0, 40.0, 100.0],
        [False] * 15 + [True] * 3,
        frame_px=(1000, 1000),
        is_vellus=[False] * 9 + [True] * 6 + [True, True, False],
    )
    assert counted == [True] * 15 + [True, True, False]


def test_hairs_cut_by_the_frame_border_are_counted_by_their_midpoint_among_long_and_short():
    # Rows of horizontal shafts, half of them 0.5-1 mm long and half 2-3.5 mm, placed at
    # random across the frame's left and right borders. Whole hairs are mostly the short
    # ones: a cut hair counted when it showed half the median whole length put the count
    # 13 over 86 (a long hair showing 0.4 mm of its 3 mm counted).
    found = true = 0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        hairs = []
        for row in range(21):
            for first_mm, last_mm in ((-1.5, 4.9), (5.1, 11.5)):
                short = rng.random() < 0.5
                length_mm = float(rng.uniform(0.5, 1.0) if short else rng.uniform(2.0, 3.5))
                start_mm = float(rng.uniform(first_mm, last_mm - length_mm))
                hairs.append(
                    shaft(start_mm, 1.15 + 0.28 * row, 0.0, unit=len(hairs), length_mm=length_mm)
                )
        result, truth, _ = measure(scene_of(*hairs))
        found += result.figures["hair_count"]
        true += truth.hair_count
    assert true == 86
    assert abs(found - true) <= 4


def test_a_vellus_shaft_between_the_terminal_shafts_of_its_unit_is_found():
    # Twelve units of two terminal shafts 16° either side of a pale vellus one. Near the
    # opening the vellus shaft lies inside the terminal shafts' trace and, beyond it, on
    # their flanks, where the thin-shaft pass found none of the 12 (22 hairs in all);
    # with the traced shafts' own contrast taken away first, it finds 9 (31 hairs).
    rng = np.random.default_rng(5)
    hairs = []
    for unit, x_mm, y_mm, angle_deg in twelve_units(rng):
        vellus = shaft(x_mm, y_mm, angle_deg, unit=unit, width_um=18.0, length_mm=0.45)
        hairs += [
            shaft(x_mm, y_mm, angle_deg - 16, unit=unit, length_mm=1.0),
            replace(vellus, opacity=0.7),
            shaft(x_mm, y_mm, angle_deg + 16, unit=unit, length_mm=1.0),
        ]
    conditions = TrichoscopyConditions(blur_sigma_px=0.9, noise_sigma=0.01, jpeg_quality=92)
    result, truth, _ = measure(scene_of(*hairs), conditions)
    assert truth.hair_count == 36 and truth.vellus_count == 12
    assert result.figures["vellus_count"] >= 8
    assert 30 <= result.figures["hair_count"] <= 36


def test_a_short_vellus_shaft_leaving_the_opening_of_a_terminal_one_is_found():
    # Twelve units of an 80 µm terminal shaft and a 0.35 mm vellus one 16° beside it. The
    # vellus shaft spends its first 0.2 mm in the clearance band around the terminal
    # shaft's trace, and the rest was too short to keep: 3 of the 12 were found (14 hairs
    # in all). A ridge that shows outside the band may reach into it.
    rng = np.random.default_rng(5)
    hairs = []
    for unit, x_mm, y_mm, angle_deg in twelve_units(rng):
        vellus = shaft(x_mm, y_mm, angle_deg + 16, unit=unit, width_um=20.0, length_mm=0.35)
        hairs += [
            shaft(x_mm, y_mm, angle_deg, unit=unit, width_um=80.0, length_mm=1.0),
            replace(vellus, opacity=0.7),
        ]
    conditions = TrichoscopyConditions(blur_sigma_px=0.8, noise_sigma=0.01, jpeg_quality=92)
    result, truth, _ = measure(scene_of(*hairs), conditions)
    assert truth.hair_count == 24 and truth.vellus_count == 12
    assert result.figures["vellus_count"] >= 6
    assert 18 <= result.figures["hair_count"] <= 24


def test_a_vellus_shaft_leaving_a_fan_of_blond_shafts_is_found():
    # Three scalps of twelve units: two blond terminal shafts 8° apart and a blond vellus
    # shaft 20° from the first, under a subskin shadow. The thin-shaft test read the
    # vellus shaft's flank on the terminal shafts beside it as the edge of a wide shaft
    # and dropped it: 11 of the 36 were found (104 hairs of 108).
    blond = (0.72, 0.58, 0.36)
    found = counted = 0
    for seed in (0, 1, 4):
        rng = np.random.default_rng(seed)
        hairs = []
        for unit, x_mm, y_mm, angle_deg in twelve_units(rng):
            hairs += [
                shaft(x_mm, y_mm, angle_deg, unit=unit, width_um=70.0, length_mm=1.0),
                shaft(x_mm, y_mm, angle_deg + 8, unit=unit, width_um=70.0, length_mm=0.8),
                shaft(x_mm, y_mm, angle_deg + 20, unit=unit, width_um=20.0, length_mm=0.5),
            ]
        hairs = [replace(h, rgb=blond, opacity=0.95 if h.width_um > 30 else 0.65) for h in hairs]
        scene = replace(scene_of(*hairs), skin_rgb=FITZPATRICK_SKIN_RGB[3], hair_colour="blond")
        conditions = TrichoscopyConditions(
            blur_sigma_px=0.9, noise_sigma=0.008, jpeg_quality=88, subskin_shadow=0.4
        )
        result, truth, _ = measure(scene, conditions)
        assert truth.hair_count == 36 and truth.vellus_count == 12
        found += result.figures["vellus_count"]
        counted += result.figures["hair_count"]
    assert found >= 15
    assert 100 <= counted <= 116


@pytest.mark.parametrize("blur_sigma_px", [0.8, 1.0])
def test_vellus_shafts_narrower_than_the_blur_are_measured_as_vellus(blur_sigma_px):
    # Twelve 20 µm vellus shafts (70 % opaque) beside twelve 60 µm terminal ones. The width
    # profiles are cut at a share of their peak; a model of the uncut profile took a blurred
    # thin shaft for a sharp one twice as wide (5 of the 12 classed vellus at 1 px blur,
    # reading 29-36 µm) and read the terminal shafts about 10 % thin.
    rng = np.random.default_rng(5)
    hairs = []
    for index, (i, j) in enumerate(itertools.product(range(4), range(3))):
        x_mm, y_mm = 1.6 + 1.9 * i, 1.7 + 2.0 * j
        angles = rng.uniform(0, 180, 2)
        vellus = shaft(x_mm, y_mm, angles[0], unit=2 * index, width_um=20.0, length_mm=0.6)
        hairs += [
            replace(vellus, opacity=0.7),
            shaft(x_mm + 0.9, y_mm + 0.9, angles[1], unit=2 * index + 1, width_um=60.0,
                  length_mm=0.9),
        ]  # fmt: skip
    conditions = TrichoscopyConditions(
        blur_sigma_px=blur_sigma_px, noise_sigma=0.005, jpeg_quality=92
    )
    result, truth, _ = measure(scene_of(*hairs), conditions)
    # Two terminal shafts run off the frame with their midpoints outside it.
    assert truth.vellus_count == 12 and truth.hair_count == 22
    assert abs(result.figures["hair_count"] - truth.hair_count) <= 1
    assert result.figures["vellus_count"] == 12
    terminal = [h.width_um for h in result.hairs if not h.vellus]
    assert np.median(terminal) == pytest.approx(60.0, rel=0.07)


@pytest.mark.parametrize(
    "blur_sigma_px",
    [
        0.6,
        0.8,
        1.0,
        pytest.param(
            1.2,
            marks=pytest.mark.xfail(
                reason="known limit: below the blur a line's profile hardly tells its width "
                "from the blur; the blur then reads about 10 % low and 2 of 24 read vellus",
                strict=True,
            ),
        ),
    ],
)
def test_a_scalp_of_vellus_shafts_only_reads_them_as_vellus(blur_sigma_px):
    # Twelve units of two 20 µm vellus shafts (70 % opaque) 30° apart and no terminal
    # shaft: the photo's blur then comes from the thin shafts' own profiles. Sampled a
    # pixel apart with linear interpolation, those read the blur low and the widths with
    # it: 24, 17 and 0 of the 24 vellus at 0.6, 0.8 and 1 px.
    rng = np.random.default_rng(3)
    hairs = []
    for unit, x_mm, y_mm, angle_deg in twelve_units(rng):
        for spread_deg in (0.0, 30.0):
            vellus = shaft(x_mm, y_mm, angle_deg + spread_deg, unit=unit, width_um=20.0,
                           length_mm=0.5)  # fmt: skip
            hairs.append(replace(vellus, opacity=0.7))
    conditions = TrichoscopyConditions(
        blur_sigma_px=blur_sigma_px, noise_sigma=0.005, jpeg_quality=92
    )
    result, truth, _ = measure(scene_of(*hairs), conditions)
    assert truth.hair_count == truth.vellus_count == 24
    assert result.figures["hair_count"] == 24
    assert result.figures["vellus_count"] >= 22


def test_a_hair_traced_through_a_junction_is_as_wide_as_its_thinnest_piece():
    # A vellus arm (1.5 px) joined at a junction to the stem it shares with a terminal
    # shaft (6 px, longer): the pooled profiles read the stem's width.
    contrast = np.zeros((100, 120), np.float32)
    contrast[47:53, 10:60] = 0.8
    contrast[49, 60:100] = 0.6
    contrast[50, 60:100] = 0.3
    contrast = cv2.GaussianBlur(contrast, (0, 0), 0.8)
    stem = _Segment(np.array([10.0, 49.5]), np.array([60.0, 49.5]), -1, 1)
    arm = _Segment(np.array([60.0, 49.5]), np.array([100.0, 49.5]), 1, -1)
    joined = _hair_profiles(contrast, [[stem, arm]], px_per_mm=80.0)
    alone = _hair_profiles(contrast, [[arm], [stem]], px_per_mm=80.0)
    assert joined.ratio[0] == pytest.approx(alone.ratio[0])
    assert joined.ratio[0] < 0.6 * alone.ratio[1]


def blurred_line(width_px, sigma_px, angle_rad, offset_px, size_px=64):
    """(size, size) float32 contrast of a shaft ``width_px`` wide blurred by a Gaussian of
    ``sigma_px``, through the image's centre at ``angle_rad``, moved ``offset_px`` down."""
    y, x = np.mgrid[0:size_px, 0:size_px].astype(float) - size_px / 2
    across = -x * np.sin(angle_rad) + (y - offset_px) * np.cos(angle_rad)
    edge = np.sqrt(2) * sigma_px
    blurred = special.erf((across + width_px / 2) / edge) - special.erf(
        (across - width_px / 2) / edge
    )
    return (blurred / 2).astype(np.float32)


@pytest.mark.parametrize("width_px", [1.6, 3.2, 5.0, 8.0])
@pytest.mark.parametrize("sigma_px", [0.6, 1.0])
def test_a_shafts_profile_reads_its_blur_and_width_wherever_its_trace_falls(width_px, sigma_px):
    # The trace runs on whole pixels, up to half a pixel off the shaft's centre, at any
    # angle. Sampled a pixel apart with linear interpolation and the moment taken about
    # the trace, a 3.2 px shaft under 0.6 px of blur read a blur of 0.2-1.4 px, and a
    # 1.6 px one under 1 px a width of 1.2-2.7 px.
    sigmas, widths = [], []
    for angle_rad, offset_px in itertools.product((0.0, 0.3, 0.7), (0.0, 0.25, 0.5)):
        contrast = blurred_line(width_px, sigma_px, angle_rad, offset_px)
        along = 20 * np.array([np.cos(angle_rad), np.sin(angle_rad)])
        trace = _Segment(np.round(32 - along), np.round(32 + along), -1, -1)
        profiles = _hair_profiles(contrast, [[trace]], px_per_mm=80.0)
        sigmas.append(_own_blur_sigmas_px(profiles.ratio, profiles.moment)[0])
        widths.append(_width_from_ratio(profiles.ratio, sigma_px)[0])
    assert 0.9 * width_px <= min(widths) and max(widths) <= 1.25 * width_px
    if width_px >= 3.0:  # a thinner line's profile hardly tells its width from the blur
        assert 0.8 * sigma_px <= min(sigmas) and max(sigmas) <= 1.35 * sigma_px


def test_a_faint_trace_through_the_skin_between_shafts_is_no_hair():
    # A re-shot of the benchmark's fourth re-shot scene: where two shafts meet at the frame
    # border, the skeleton bridged the skin between them with a trace as wide as the gap
    # and a twentieth as dark as the shafts, which then counted as 15 touching shafts
    # (90 hairs for 72).
    scene = make_trichoscopy_scene(
        seed=1003,
        density_per_cm2=166.25536908013248,
        vellus_fraction=0.22840546114648358,
        field_mm=(12.0, 10.0),
        skin_tone=3,
    )
    conditions = TrichoscopyConditions(
        lighting_gradient=0.07457093196269486,
        lighting_angle_deg=67.50120036814796,
        exposure=0.9984695364348884,
        white_balance=(0.907797168206609, 1.0180775735669705, 0.9332022306094434),
        blur_sigma_px=0.9100863377105783,
        noise_sigma=0.01,
        jpeg_quality=90,
        rotation_deg=-2.8735478733366535,
        shift_mm=(-0.05682894088404153, 0.13150238605938416),
        seed=542816602,
    )
    result, truth, _ = measure(scene, conditions)
    assert result.figures["hair_count"] == pytest.approx(truth.hair_count, rel=0.08)


@pytest.mark.parametrize("bend_deg", [10, 20])
def test_pieces_bending_at_a_junction_of_three_ends_are_two_hairs(bend_deg):
    # A hair ending on another's shaft where a third starts: the two long pieces meet
    # within MAX_BEND_DEG but are not one straight shaft. A short piece's direction is set
    # by a few skeleton pixels and it still continues the long one.
    centre = np.array([100.0, 100.0])

    def arm(angle_deg, length):
        direction = np.array([np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))])
        return _Segment(centre + length * direction, centre, -1, 1)

    crossing = [arm(0, 80), arm(180, 80)]
    bent = _join_crossings([*crossing, arm(90, 80), arm(270 + bend_deg, 80)], tolerance_px=2.4)
    assert sorted(len(group) for group in bent) == [1, 1, 2]
    short = _join_crossings([*crossing, arm(90, 80), arm(270 + bend_deg, 3)], tolerance_px=2.4)
    assert sorted(len(group) for group in short) == [2, 2]


@pytest.mark.parametrize("offset_px", [0.0, 40.0])
def test_pieces_far_apart_at_one_junction_are_not_one_hair(offset_px):
    # Chained bridges can merge junctions far apart into one (a web of noise ridges did,
    # and the thin pass read specks of it as a 3.3 mm shaft): ends pointing at each other
    # there meet only within the span of one junction.
    span_px = 24.0

    def piece(start, end):
        return _Segment(np.array(start), np.array(end), -1, 1)

    near = [piece((0.0, 0.0), (50.0, 0.0)), piece((120.0, 0.0), (70.0, 0.0))]
    far = [piece((0.0, 0.0), (50.0, 0.0)), piece((200.0, offset_px), (150.0, offset_px))]
    assert len(_join_crossings(near, max_junction_span_px=span_px)) == 1
    assert len(_join_crossings(far, max_junction_span_px=span_px)) == 2
    assert len(_join_crossings(far)) == 1


@pytest.mark.parametrize("seed", range(4))
def test_small_holes_are_the_enclosed_background_under_the_area(seed):
    # Reference: SciPy's hole filling (background not 4-connected to the frame's edge),
    # each hole sized by its own 4-connected label.
    # Blobs of smoothed noise: holes of 1 to over 1000 px, and background reaching the edge.
    field = ndimage.gaussian_filter(np.random.default_rng(seed).random((120, 160)), 2.0)
    mask = field > np.quantile(field, 0.45)
    holes = ndimage.binary_fill_holes(mask) & ~mask
    labels, _ = ndimage.label(holes)
    sizes = np.bincount(labels.ravel())
    for max_area_px in (2, 30, 200, 10_000):
        expected = ((sizes < max_area_px) & (np.arange(sizes.size) > 0))[labels]
        np.testing.assert_array_equal(_small_holes(mask, max_area_px=max_area_px), expected)


def test_a_coarser_photo_of_the_same_scalps_counts_the_same_hairs():
    # Measured at its own 64 px/mm, below the working scale, these scalps read 18 hairs
    # apart from 100 px/mm in all; brought up to the working scale, 5.
    apart = 0
    for seed in range(6):
        scene = make_trichoscopy_scene(
            seed=50 + seed,
            density_per_cm2=180,
            vellus_fraction=0.25,
            field_mm=(10.0, 8.0),
            skin_tone=2 + seed % 3,
        )
        counts = []
        for px_per_mm in (64.0, 100.0):
            conditions = TrichoscopyConditions(
                blur_sigma_px=0.007 * px_per_mm, noise_sigma=0.01, seed=seed
            )
            size_px = (round(7.0 * px_per_mm), round(5.5 * px_per_mm))
            rgb, _ = render_trichoscopy(
                scene, px_per_mm=px_per_mm, size_px=size_px, conditions=conditions
            )
            counts.append(measure_trichoscopy(rgb, px_per_mm=px_per_mm).figures["hair_count"])
        apart += abs(counts[0] - counts[1])
    assert apart <= 9


@pytest.mark.parametrize(("width_um", "blur_sigma_px"), [(50.0, 0.6), (60.0, 1.2)])
def test_white_shafts_among_pigmented_grey_ones_are_measured_terminal(width_um, blur_sigma_px):
    # A white shaft is paler than the photo's pigmented shafts: measured as its contrast
    # integral over theirs, the six white shafts here read 26-30 µm (vellus) at 50 µm and
    # 33-36 µm at 60 µm (on the phantom set, grey scalps' vellus fraction read +0.066 too
    # high). Their own sharp-edged profiles tell their width.
    hairs = []
    for index in range(12):
        hair = shaft(1.5 + 0.6 * index, 2.0 + 2.5 * (index % 2), 70.0 + 4 * index, unit=index,
                     width_um=width_um, length_mm=1.0)  # fmt: skip
        hairs.append(replace(hair, rgb=(0.6, 0.6, 0.6) if index % 2 else (0.25, 0.25, 0.25)))
    scene = replace(scene_of(*hairs), skin_rgb=FITZPATRICK_SKIN_RGB[2], hair_colour="grey")
    conditions = TrichoscopyConditions(
        blur_sigma_px=blur_sigma_px, noise_sigma=0.005, jpeg_quality=92
    )
    result, truth, _ = measure(scene, conditions)
    assert result.figures["hair_count"] == truth.hair_count == 12
    assert result.figures["vellus_count"] == 0
    assert result.figures["mean_width_um"] == pytest.approx(width_um, rel=0.1)
