"""Coverage of global photos, measured against phantoms with exact truth."""

from dataclasses import replace
from functools import cache

import cv2
import numpy as np
import pytest

from tracker.imaging import coverage as engine
from tracker.imaging.coverage import (
    CircleRoi,
    RectRoi,
    deblur,
    draw_coverage_overlay,
    estimate_blur_px,
    measure_coverage,
    noise_limited_blur_px,
    parse_roi,
)
from tracker.phantoms import (
    GlobalConditions,
    global_reshoot_set,
    make_global_scene,
    next_visit_conditions,
    random_global_conditions,
    render_global,
)

SIZE_PX = (240, 320)
# Strands 2–5 px wide at this size, as in a 640-px photo with the default widths.
STRAND_WIDTH = (0.006, 0.016)
CLINIC_LIGHT = GlobalConditions(
    light_gradient=0.3,
    light_angle_deg=40.0,
    vignetting=0.15,
    exposure=0.9,
    white_balance=(1.06, 1.0, 0.93),
    blur_px=0.5,
    noise=2.0,
    jpeg_quality=90,
    rotation_deg=1.5,
)


@cache
def _scene(
    skin_tone: int, hair_colour: str, coverage: float, seed: int = 1, pattern: str = "vertex"
):
    return make_global_scene(
        seed=seed,
        coverage_target=coverage,
        skin_tone=skin_tone,
        hair_colour=hair_colour,
        pattern=pattern,
        strand_width=STRAND_WIDTH,
    )


@pytest.mark.parametrize(
    ("skin_tone", "hair_colour", "coverage"),
    [
        (1, "blond", 35.0),
        (1, "grey", 60.0),
        (3, "brown", 25.0),
        (6, "black", 70.0),
        (2, "red", 45.0),
    ],
)
def test_coverage_matches_truth_across_skin_and_hair(skin_tone, hair_colour, coverage):
    rgb, truth = render_global(
        _scene(skin_tone, hair_colour, coverage), size_px=SIZE_PX, conditions=CLINIC_LIGHT
    )
    result = measure_coverage(rgb)
    assert result.coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)
    # Not just the total: the pixels called hair are the hair.
    agreement = np.mean(result.hair_mask == truth.hair_mask)
    assert agreement > 0.95


def test_shine_on_the_scalp_is_not_hair():
    scene = _scene(2, "brown", 30.0)
    highlights = ((0.45, 0.45, 0.08, 0.35), (0.6, 0.6, 0.05, 0.3))
    dull, truth = render_global(scene, size_px=SIZE_PX, conditions=CLINIC_LIGHT)
    shiny, shiny_truth = render_global(
        scene, size_px=SIZE_PX, conditions=replace(CLINIC_LIGHT, shine=highlights)
    )
    assert not np.array_equal(dull, shiny)
    np.testing.assert_array_equal(truth.hair_fraction, shiny_truth.hair_fraction)
    dull_result, shiny_result = measure_coverage(dull), measure_coverage(shiny)
    assert shiny_result.coverage_pct == pytest.approx(truth.coverage_pct, abs=2.0)
    assert shiny_result.coverage_pct == pytest.approx(dull_result.coverage_pct, abs=1.0)


def test_shine_is_not_grey_hair_on_fair_skin():
    scene = _scene(1, "grey", 30.0, seed=2)
    highlights = ((0.4, 0.5, 0.08, 0.3),)
    rgb, truth = render_global(
        scene, size_px=SIZE_PX, conditions=replace(CLINIC_LIGHT, shine=highlights)
    )
    assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)


@pytest.mark.parametrize(
    "change",
    [
        {"white_balance": (1.2, 1.0, 0.8)},
        {"white_balance": (0.85, 1.0, 1.2)},
        {"exposure": 0.6},
        {"exposure": 1.3},
        {"light_gradient": 0.6, "light_angle_deg": 200.0},
    ],
)
def test_white_balance_exposure_and_light_do_not_change_coverage(change):
    scene = _scene(3, "black", 45.0)
    neutral = GlobalConditions(noise=1.0)
    rgb, truth = render_global(scene, size_px=SIZE_PX, conditions=neutral)
    changed, changed_truth = render_global(
        scene, size_px=SIZE_PX, conditions=replace(neutral, **change)
    )
    assert changed_truth.coverage_pct == truth.coverage_pct
    assert measure_coverage(changed).coverage_pct == pytest.approx(
        measure_coverage(rgb).coverage_pct, abs=0.5
    )


@pytest.mark.parametrize("blur_px", [0.0, 0.5, 1.0])
def test_blur_is_read_from_the_strand_edges(blur_px):
    _, truth = render_global(_scene(3, "black", 45.0), size_px=SIZE_PX, conditions=CLINIC_LIGHT)
    share = truth.hair_fraction.astype(np.float32)
    if blur_px:
        share = cv2.GaussianBlur(share, (0, 0), blur_px)
    noisy = share + np.random.default_rng(0).normal(0.0, 0.01, share.shape).astype(np.float32)
    assert estimate_blur_px(noisy, np.ones(share.shape, bool)) == pytest.approx(blur_px, abs=0.2)


def test_a_photo_without_strand_edges_reads_no_blur():
    flat = np.full(SIZE_PX, 0.3, np.float32)
    assert estimate_blur_px(flat, np.ones(SIZE_PX, bool)) == 0.0


@pytest.mark.parametrize("noise_levels", [0.5, 5.0, 12.0])
def test_the_inverse_keeps_the_scalp_noise_it_amplifies_small(noise_levels):
    # A flat dark scalp whose hair share is its encoded value: the share's noise is the
    # photo's, in share units.
    rng = np.random.default_rng(1)
    levels = np.clip(np.round(40 + rng.normal(0.0, noise_levels, SIZE_PX)), 0, 255)
    photo = np.repeat(levels.astype(np.uint8)[..., None], 3, axis=2)
    blur_px = noise_limited_blur_px(levels.astype(np.float32) / 255, np.ones(SIZE_PX, bool))
    assert 0.0 <= blur_px <= engine._MAX_DEBLUR_PX
    sharpened = deblur(photo, blur_px=blur_px)[..., 0] / 255
    assert sharpened.std() <= 1.1 * engine._MAX_SHARPENED_NOISE
    if noise_levels == 0.5:
        assert blur_px == engine._MAX_DEBLUR_PX


@pytest.mark.parametrize(
    ("skin_tone", "hair_colour", "coverage"), [(3, "brown", 25.0), (4, "black", 50.0)]
)
def test_a_noisy_blurred_photo_is_not_sharpened_into_hair(skin_tone, hair_colour, coverage):
    # Sharpened to the full blur, the noise of this photo lifted bare scalp over the half
    # mix: 2.2-2.8 points too much hair.
    photo, truth = render_global(
        _scene(skin_tone, hair_colour, coverage),
        size_px=(480, 640),
        conditions=replace(CLINIC_LIGHT, blur_px=1.0, noise=10.0, jpeg_quality=80),
    )
    assert measure_coverage(photo).coverage_pct == pytest.approx(truth.coverage_pct, abs=1.5)


def test_the_blur_is_taken_back_alike_in_row_chunks(monkeypatch):
    rgb, _ = render_global(_scene(3, "black", 45.0), size_px=SIZE_PX, conditions=CLINIC_LIGHT)
    whole_frame = measure_coverage(rgb).hair_mask
    monkeypatch.setattr(engine, "_ROWS_PER_CHUNK", 7)
    np.testing.assert_array_equal(measure_coverage(rgb).hair_mask, whole_frame)


@pytest.mark.parametrize(
    ("skin_tone", "hair_colour", "coverage"),
    [(3, "black", 45.0), (2, "brown", 60.0), (1, "grey", 60.0), (6, "black", 70.0)],
)
def test_blur_does_not_fill_the_gaps_between_strands(skin_tone, hair_colour, coverage):
    # Thresholding a blurred photo at the half-and-half mix fills gaps narrower than the
    # blur: without taking the blur back, sigma 1 px read 1.7-2.2 points more than a sharp
    # shot of the same head.
    scene = _scene(skin_tone, hair_colour, coverage)
    sharp, truth = render_global(
        scene, size_px=SIZE_PX, conditions=replace(CLINIC_LIGHT, blur_px=0.0)
    )
    blurred, blurred_truth = render_global(
        scene, size_px=SIZE_PX, conditions=replace(CLINIC_LIGHT, blur_px=1.0)
    )
    assert blurred_truth.coverage_pct == truth.coverage_pct
    assert measure_coverage(blurred).coverage_pct == pytest.approx(
        measure_coverage(sharp).coverage_pct, abs=1.0
    )


def test_blur_on_a_jpeg_photo_does_not_fill_the_gaps_between_strands():
    # JPEG softens strand edges in the encoded values, where the inverse taken in linear
    # light alone left this head 1.3 points higher blurred than sharp.
    scene = _scene(3, "brown", 35.0)
    jpeg = replace(CLINIC_LIGHT, jpeg_quality=85)
    sharp, _ = render_global(scene, size_px=SIZE_PX, conditions=replace(jpeg, blur_px=0.0))
    blurred, _ = render_global(scene, size_px=SIZE_PX, conditions=replace(jpeg, blur_px=1.0))
    assert measure_coverage(blurred).coverage_pct == pytest.approx(
        measure_coverage(sharp).coverage_pct, abs=1.0
    )


def test_roi_restricts_the_measurement():
    scene = _scene(2, "black", 40.0)
    roi = RectRoi(x=40, y=30, width=200, height=150)
    rgb, truth = render_global(scene, size_px=SIZE_PX, conditions=CLINIC_LIGHT, roi=roi)
    result = measure_coverage(rgb, roi=roi)
    np.testing.assert_array_equal(result.region_mask, roi.mask(rgb.shape))
    assert not result.hair_mask[~result.region_mask].any()
    assert result.coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)
    # The rectangle is measured exactly as the same crop would be.
    crop = measure_coverage(rgb[30:180, 40:240])
    assert result.coverage_pct == crop.coverage_pct

    circle = CircleRoi(cx=160.0, cy=120.0, radius=90.0)
    _, circle_truth = render_global(scene, size_px=SIZE_PX, conditions=CLINIC_LIGHT, roi=circle)
    circle_result = measure_coverage(rgb, roi=circle)
    assert circle_result.region_mask.sum() == circle.mask(rgb.shape).sum()
    assert circle_result.coverage_pct == pytest.approx(circle_truth.coverage_pct, abs=2.5)


def test_roi_outside_the_photo_is_an_error():
    rgb = np.full((50, 60, 3), 128, np.uint8)
    with pytest.raises(ValueError, match="outside"):
        measure_coverage(rgb, roi=RectRoi(100, 100, 10, 10))


def test_a_photo_without_hair_and_scalp_colours_is_an_error():
    with pytest.raises(ValueError, match="separate"):
        measure_coverage(np.full((60, 80, 3), 150, np.uint8))


def test_roi_masks():
    assert RectRoi(5, 2, 10, 4).mask((10, 12)).sum() == 7 * 4  # clipped at column 11
    disc = CircleRoi(10.0, 10.0, 3.0).mask((30, 30))
    rows, cols = np.nonzero(disc)
    assert disc.sum() == 29  # integer points within radius 3
    assert ((rows - 10) ** 2 + (cols - 10) ** 2 <= 9).all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10,20,30,40", RectRoi(10, 20, 30, 40)),
        (" 0, 0 ,5,6", RectRoi(0, 0, 5, 6)),
        ("50,60,25", CircleRoi(50.0, 60.0, 25.0)),
        ("50.5,60,12.5", CircleRoi(50.5, 60.0, 12.5)),
    ],
)
def test_parse_roi(text, expected):
    assert parse_roi(text) == expected


@pytest.mark.parametrize(
    "text", ["", "1,2", "1,2,3,4,5", "a,b,c,d", "10,20,0,5", "1.5,2,3,4", "-1,2,3,4", "5,5,0"]
)
def test_parse_roi_rejects_nonsense(text):
    with pytest.raises(ValueError):
        parse_roi(text)


def test_model_fitted_on_a_subsample_gives_the_full_size_answer():
    scene = _scene(2, "brown", 50.0)
    rgb, _ = render_global(scene, size_px=(480, 640), conditions=CLINIC_LIGHT)
    subsampled = measure_coverage(rgb, model_long_side_px=160)
    full = measure_coverage(rgb, model_long_side_px=640)
    assert subsampled.coverage_pct == pytest.approx(full.coverage_pct, abs=0.3)


def test_overlay_tints_hair_and_outlines_the_region():
    scene = _scene(2, "black", 40.0)
    rgb, _ = render_global(scene, size_px=SIZE_PX, conditions=CLINIC_LIGHT)
    roi = RectRoi(40, 30, 200, 150)
    result = measure_coverage(rgb, roi=roi)
    overlay = draw_coverage_overlay(rgb, result)
    assert overlay.shape == rgb.shape and overlay.dtype == np.uint8
    np.testing.assert_array_equal(overlay[30, 40:240], np.tile([255, 220, 0], (200, 1)))
    inside = np.zeros_like(result.region_mask)
    inside[35:175, 45:235] = True
    hair, scalp = result.hair_mask & inside, ~result.hair_mask & inside
    # Hair turns cyan: its blue rises well above the photo's; scalp keeps its colour.
    assert (overlay[hair][:, 2].astype(int) - rgb[hair][:, 2] > 60).mean() > 0.9
    np.testing.assert_array_equal(overlay[scalp], rgb[scalp])
    assert (overlay[0:20, 0:30] <= rgb[0:20, 0:30] // 2 + 1).all()


@pytest.mark.parametrize(
    ("skin_tone", "coverage"),
    [
        (2, 25.0),
        (3, 40.0),
        pytest.param(
            3,
            70.0,
            marks=pytest.mark.xfail(
                strict=True,
                reason="known limit: dense blond on type III skin is under-counted "
                "(about 46 % measured for 72 %): the two colours barely differ and the "
                "scalp shows only through small gaps",
            ),
        ),
    ],
)
def test_blond_hair_on_fair_and_medium_skin(skin_tone, coverage):
    # Blond hair and type II–III skin differ by less than 24 luma levels: brightness alone
    # cannot tell them apart, colour at half resolution fattens strands, and the two
    # colours are easily swapped.
    rgb, truth = render_global(
        _scene(skin_tone, "blond", coverage), size_px=SIZE_PX, conditions=CLINIC_LIGHT
    )
    result = measure_coverage(rgb)
    assert result.coverage_pct == pytest.approx(truth.coverage_pct, abs=2.0)
    # Strand edges are uncertain at this contrast, so fewer pixels agree than for the
    # pairs above; the errors on either side of an edge largely cancel in the total.
    assert np.mean(result.hair_mask == truth.hair_mask) > 0.85


@pytest.mark.parametrize(
    ("skin_tone", "dye_srgb"),
    [(2, (40.0, 80.0, 150.0)), (5, (200.0, 120.0, 190.0)), (1, (70.0, 140.0, 60.0))],
)
def test_hair_is_named_by_its_texture_whatever_its_colour(skin_tone, dye_srgb):
    # Dyed blue, pink or green: no typical hair colour to go by, only that hair is strands
    # of varying shade over smooth scalp.
    scene = _scene(skin_tone, "brown", 40.0)
    brown = scene.colours_linear.mean(axis=0)
    dye = (np.asarray(dye_srgb) / 255.0) ** 2.2
    dyed = replace(scene, colours_linear=np.clip(scene.colours_linear / brown * dye, 0.0, 1.0))
    rgb, truth = render_global(dyed, size_px=SIZE_PX, conditions=CLINIC_LIGHT)
    assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)


def test_blond_on_type_one_skin_keeps_its_coverage_when_re_shot():
    scene = make_global_scene(
        seed=5,
        coverage_target=55.0,
        skin_tone=1,
        hair_colour="blond",
        strand_width=STRAND_WIDTH,
    )
    baseline = random_global_conditions(np.random.default_rng(4), shine=True)
    for visit in range(4):
        conditions = baseline if visit == 0 else next_visit_conditions(baseline, seed=visit)
        rgb, truth = render_global(scene, size_px=SIZE_PX, conditions=conditions)
        assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)


def test_grey_on_type_six_skin_is_named_hair_at_every_re_shoot():
    # Light, white balance and blur change between visits; the noise of the dark skin
    # must not win the naming at any of them (a swap reads about 28 % for 72 %), and with
    # no shine on the photo the light edges of the strands must not pass for shine (taken
    # as shine they made the weights read 4–5 points low).
    scene = make_global_scene(
        seed=6, coverage_target=72.0, skin_tone=6, hair_colour="grey", strand_width=STRAND_WIDTH
    )
    baseline = random_global_conditions(np.random.default_rng(6), shine=False)
    for visit in range(6):
        conditions = baseline if visit == 0 else next_visit_conditions(baseline, seed=visit)
        rgb, truth = render_global(scene, size_px=SIZE_PX, conditions=conditions)
        assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)


@pytest.mark.parametrize(("seed", "shine"), [(3, ()), (4, ()), (4, ((0.4, 0.5, 0.06, 0.3),))])
def test_dense_grey_hair_on_type_six_skin_is_named_hair(seed, shine):
    # The scalp shows only through narrow gaps, and in log light the noise on dark skin
    # is as rough as the strands pixel to pixel: only the strand-to-strand shade tells.
    scene = _scene(6, "grey", 78.0, seed=seed, pattern="diffuse")
    conditions = replace(CLINIC_LIGHT, noise=3.0, shine=shine)
    rgb, truth = render_global(scene, size_px=SIZE_PX, conditions=conditions)
    assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)


@pytest.mark.parametrize("seed", [2, 3])
def test_strong_shine_is_not_split_off_as_a_class_of_its_own(seed):
    # Highlights far brighter than the scalp: a fit that puts them alone in one class and
    # hair and scalp together in the other is very clear-cut, but it is not the hair.
    scene = _scene(4, "brown", 55.0, seed=seed)
    highlights = ((0.45, 0.45, 0.08, 0.35), (0.6, 0.6, 0.05, 0.3))
    rgb, truth = render_global(
        scene, size_px=SIZE_PX, conditions=replace(CLINIC_LIGHT, shine=highlights)
    )
    assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=2.5)


@pytest.mark.parametrize(("skin_tone", "coverage"), [(5, 15.0), (5, 35.0), (6, 15.0), (6, 35.0)])
def test_strong_shine_on_dark_skin_does_not_set_the_split(skin_tone, coverage):
    # On a shine spot a black strand's edge steps up to shiny scalp several times as far as
    # beside it, so a split set by the frame's largest steps parted shiny scalp from hair
    # and scalp together (79-89 % read for 17.5-35.6 %). The shine still leaves 2-5 points
    # of excess at the edges of the spots, where the scalp is only a little shiny.
    scene = _scene(skin_tone, "black", coverage)
    highlights = ((0.6, 0.4, 0.1, 0.35), (0.3, 0.65, 0.07, 0.3))
    rgb, truth = render_global(
        scene, size_px=SIZE_PX, conditions=replace(CLINIC_LIGHT, shine=highlights)
    )
    assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=6.0)


@pytest.mark.parametrize(("seed", "coverage"), [(1, 55.0), (1, 70.0), (2, 55.0), (2, 70.0)])
def test_a_large_shine_spot_does_not_light_the_scalp_around_it(seed, coverage):
    # Shine adds white to the scalp. Read along the scalp's whole colour it passed for light
    # up to 1.75 times the real one around the spot, and the scalp between strands there,
    # divided by that light, read as black hair: 5.6-21.6 points too much.
    spots = ((0.5, 0.55, 0.07, 0.32), (0.53, 0.56, 0.10, 0.15), (0.53, 0.3, 0.05, 0.23))
    rgb, truth = render_global(
        _scene(5, "black", coverage, seed=seed),
        size_px=SIZE_PX,
        conditions=replace(CLINIC_LIGHT, shine=spots),
    )
    assert measure_coverage(rgb).coverage_pct == pytest.approx(truth.coverage_pct, abs=5.0)


def test_jpeg_colour_sharing_beside_strands_under_shine_is_not_hair():
    # Shine spreads the scalp in brightness, so the weights lean on colour; JPEG stores
    # colour per 2×2 pixels, and scalp beside a black strand then took on enough of its
    # colour to read as hair: 2.8–4.1 points too much on these shiny heads.
    shiny_heads = list(global_reshoot_set(seed=4000, count=3, visits=2, heads=((5, "black"),)))
    for visits in shiny_heads[::2]:
        assert visits[0].conditions.shine
        for case in visits:
            measured = measure_coverage(case.rgb).coverage_pct
            assert measured == pytest.approx(case.truth.coverage_pct, abs=1.5)
