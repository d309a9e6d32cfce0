"""Quality gate, both ways: clean phantoms pass, each degradation fails with its own code."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data as skimage_data

from tracker.imaging.quality import (
    FLAT_BLOCK_PX,
    WORKING_LONG_SIDE_PX,
    _flat_share,
    _noise_level,
    assess_quality,
    lit_field,
    measure_quality,
)
from tracker.imaging.resample import shrink_to_long_side
from tracker.phantoms import (
    GlobalConditions,
    TrichoscopyConditions,
    make_global_scene,
    make_trichoscopy_scene,
    render_global,
    render_trichoscopy,
)

CLEAN = TrichoscopyConditions()
FDU_IMAGES = (
    Path(__file__).resolve().parents[2] / "shared/data/external/FDU_HairFollicleDataset/Images"
)


@cache
def _phantom(
    conditions: TrichoscopyConditions = CLEAN,
    *,
    px_per_mm: float = 100.0,
    skin_tone: int = 2,
    hair_colour: str = "dark",
    seed: int = 1,
) -> np.ndarray:
    size_px = (640, 480)
    field_mm = (size_px[0] / px_per_mm + 2.0, size_px[1] / px_per_mm + 2.0)
    scene = make_trichoscopy_scene(
        seed=seed,
        skin_tone=skin_tone,
        hair_colour=hair_colour,
        field_mm=field_mm,  # type: ignore[arg-type]
    )
    rgb, _truth = render_trichoscopy(
        scene, px_per_mm=px_per_mm, size_px=size_px, conditions=conditions
    )
    return rgb


def _codes(
    rgb: np.ndarray, *, view: str = "trichoscopy", px_per_mm: float | None = 100.0
) -> list[str]:
    return [issue.code for issue in assess_quality(rgb, view=view, px_per_mm=px_per_mm).issues]  # type: ignore[arg-type]


TYPICAL = TrichoscopyConditions(blur_sigma_px=0.6, noise_sigma=0.01, jpeg_quality=90)


@pytest.mark.parametrize(
    ("skin_tone", "hair_colour", "px_per_mm"),
    [
        (1, "dark", 70.0),
        (1, "grey", 140.0),
        (2, "blond", 100.0),
        (3, "brown", 140.0),
        (4, "dark", 70.0),
        (5, "brown", 100.0),
        (6, "dark", 140.0),
    ],
)
def test_clean_phantoms_pass_on_every_skin_tone(
    skin_tone: int, hair_colour: str, px_per_mm: float
) -> None:
    rgb = _phantom(TYPICAL, px_per_mm=px_per_mm, skin_tone=skin_tone, hair_colour=hair_colour)
    quality = assess_quality(rgb, view="trichoscopy", px_per_mm=px_per_mm)
    assert quality.ok, quality.issues
    assert quality.issues == ()


@pytest.mark.parametrize(
    "conditions",
    [
        TrichoscopyConditions(),
        TrichoscopyConditions(lighting_gradient=0.4, lighting_angle_deg=30.0, noise_sigma=0.02),
        TrichoscopyConditions(caption="top", jpeg_quality=80),
        TrichoscopyConditions(bubbles=2, subskin_shadow=0.6, exposure=0.8),
        TrichoscopyConditions(white_balance=(1.1, 1.0, 0.9), blur_sigma_px=0.8),
    ],
)
def test_ordinary_photo_conditions_pass(conditions: TrichoscopyConditions) -> None:
    assert _codes(_phantom(conditions)) == []


@pytest.mark.parametrize(
    ("conditions", "code", "advice"),
    [
        (TrichoscopyConditions(blur_sigma_px=2.0), "blur", "dermatoscope flat"),
        (TrichoscopyConditions(blur_sigma_px=4.0), "blur", "focus"),
        (TrichoscopyConditions(exposure=0.12), "underexposed", "light"),
        (TrichoscopyConditions(exposure=1.6), "overexposed", "lower the light"),
        (TrichoscopyConditions(white_balance=(0.6, 0.9, 1.5)), "colour_cast", "white balance"),
        (TrichoscopyConditions(white_balance=(0.8, 1.15, 0.8)), "colour_cast", "white balance"),
        (TrichoscopyConditions(bubbles=30), "glare", "bubbles"),
    ],
)
@pytest.mark.parametrize("px_per_mm", [70.0, 140.0])
def test_degraded_phantoms_fail_with_a_named_issue(
    conditions: TrichoscopyConditions, code: str, advice: str, px_per_mm: float
) -> None:
    quality = assess_quality(
        _phantom(conditions, px_per_mm=px_per_mm), view="trichoscopy", px_per_mm=px_per_mm
    )
    assert not quality.ok
    issue = next(issue for issue in quality.issues if issue.code == code)
    assert advice in issue.message
    assert issue.value is not None


def test_blur_grows_the_further_from_focus() -> None:
    sharp = _phantom()
    sharpness = [
        measure_quality(
            cv2.GaussianBlur(sharp, (0, 0), sigma) if sigma else sharp,
            view="trichoscopy",
            px_per_mm=100.0,
        ).sharpness
        for sigma in (0.0, 1.0, 2.0, 4.0)
    ]
    assert sharpness == sorted(sharpness, reverse=True)


def test_global_photos_get_camera_advice_not_dermatoscope_advice() -> None:
    blurred = cv2.GaussianBlur(_phantom(), (0, 0), 4.0)
    issue = assess_quality(blurred, view="global").issues[0]
    assert issue.code == "blur"
    assert "dermatoscope" not in issue.message


def _document() -> np.ndarray:
    page = np.full((1400, 1000, 3), 255, dtype=np.uint8)
    for y in range(120, 1300, 42):
        cv2.putText(
            page,
            "Consent to photography of the scalp",
            (60, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.9,
            (25, 25, 25),
            2,
        )
    return page


def _screenshot() -> np.ndarray:
    screen = np.full((1080, 1920, 3), (242, 242, 246), dtype=np.uint8)
    screen[:72] = (38, 62, 120)
    screen[72:, :280] = (225, 228, 235)
    screen[200:680, 500:1140] = _phantom()
    for y in range(860, 1040, 36):
        cv2.putText(
            screen,
            "Density 182 hairs/cm2",
            (520, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.8,
            (30, 30, 30),
            2,
        )
    return screen


def _face() -> np.ndarray:
    return cv2.resize(skimage_data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)


def _landscape() -> np.ndarray:
    rng = np.random.default_rng(5)
    height, width = 768, 1024
    sky = np.linspace((120, 170, 230), (200, 220, 245), height * 2 // 5)[:, None, :]
    image = np.empty((height, width, 3))
    image[: len(sky)] = sky
    image[len(sky) :] = (70, 135, 55)
    image[len(sky) :] *= (
        1
        + 0.25
        * cv2.GaussianBlur(rng.normal(0, 1, (height - len(sky), width)), (0, 0), 6)[..., None]
    )
    image += rng.normal(0, 4, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "picture", [_document, _screenshot, _face, _landscape], ids=lambda f: f.__name__[1:]
)
def test_pictures_that_are_not_a_scalp_close_up_are_named(picture) -> None:
    quality = assess_quality(picture(), view="trichoscopy")
    issue = next(issue for issue in quality.issues if issue.code == "not_scalp")
    assert issue.message.startswith("This does not look like a scalp close-up")
    assert "upload the dermatoscope photo" in issue.message


def test_a_face_is_expected_on_global_photos() -> None:
    assert "not_scalp" not in _codes(_face(), view="global", px_per_mm=None)


def test_underexposed_and_burnt_out_photos_are_not_called_something_else() -> None:
    for exposure in (0.12, 1.6):
        assert "not_scalp" not in _codes(_phantom(TrichoscopyConditions(exposure=exposure)))


@pytest.mark.real_data
def test_real_dermatoscope_photos_mostly_pass() -> None:
    files = sorted(FDU_IMAGES.glob("*.jpg"))[::25]
    if not files:
        pytest.skip(f"no real photos at {FDU_IMAGES}")
    failed = {}
    for path in files:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        # The FDU photos are about 380 px/mm (see the data set's README).
        codes = _codes(rgb, px_per_mm=380.0)
        if codes:
            failed[path.name] = codes
    assert not any("not_scalp" in codes for codes in failed.values()), failed
    assert len(failed) <= 0.1 * len(files), failed


def test_flat_share_needs_every_row_of_a_block_to_be_one_colour() -> None:
    rng = np.random.default_rng(2)
    block = FLAT_BLOCK_PX
    rgb = rng.integers(40, 200, (64 * block, 20 * block, 3), dtype=np.uint8)
    # Only every fourth row of blocks is sampled: 16 rows of 20 blocks.
    sampled_rows = range(0, 64, 4)
    for row in sampled_rows[:4]:  # 4 rows made flat: 80 of the 320 sampled blocks
        rgb[row * block : (row + 1) * block] = (90, 60, 50)
    for row in sampled_rows[4:8]:  # flat in their first pixel row only: not flat
        rgb[row * block] = (90, 60, 50)
    for row in sampled_rows[8:10]:  # black blocks are left out of the share
        rgb[row * block : (row + 1) * block] = 0
    assert _flat_share(rgb) == pytest.approx(80 / (320 - 40))


@pytest.mark.parametrize("shape", [(3000, 4000), (3001, 4003), (2200, 1300), (900, 700)])
def test_working_copy_is_an_area_average_of_the_working_size(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    # Detail a few working pixels wide: cropping an odd full-resolution row or column
    # before halving shifts the copy by under a quarter of a working pixel.
    noise = rng.normal(0, 1, (shape[0] // 24, shape[1] // 24, 3))
    texture = cv2.resize(noise, shape[::-1], interpolation=cv2.INTER_CUBIC)
    rgb = np.clip(128 + 40 * texture, 0, 255).astype(np.uint8)
    small = shrink_to_long_side(rgb, WORKING_LONG_SIDE_PX)
    scale = min(1.0, WORKING_LONG_SIDE_PX / max(shape))
    expected_size = (round(shape[1] * scale), round(shape[0] * scale))
    assert small.shape[1::-1] == expected_size
    area = cv2.resize(rgb, expected_size, interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - area.astype(int)).mean() < 1.0


# Words to set in type; the printed text itself does not matter.
_WORDS = (
    "scalp",
    "density",
    "hairs",
    "per",
    "square",
    "centimetre",
    "consent",
    "to",
    "the",
    "photography",
    "treatment",
    "session",
    "vellus",
    "terminal",
    "unit",
    "clinic",
    "report",
    "visit",
    "baseline",
    "week",
    "result",
    "of",
)


def _words(rng: np.random.Generator, count: int) -> str:
    return " ".join(rng.choice(_WORDS, count))


def _paper(size_px: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Off-white paper with a faint fibre texture, (width, height)."""
    width, height = size_px
    fibre = cv2.GaussianBlur(rng.normal(0.0, 3.0, (height, width)), (0, 0), 1.5)
    tone = np.array([246.0, 243.0, 236.0]) + rng.uniform(-8.0, 4.0, 3)
    return Image.fromarray(np.clip(tone + fibre[..., None], 0, 255).astype(np.uint8))


def _printed_page(rng: np.random.Generator, *, font_px: int) -> np.ndarray:
    """An A4 page at 150 dpi: a title and a paragraph of left-aligned lines."""
    page = _paper((1240, 1754), rng)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=font_px)
    draw.text((120, 120), _words(rng, 4).title(), fill=(20, 20, 20), font=font)
    for y in range(120 + 3 * font_px, 1754 - 120 - font_px, round(1.45 * font_px)):
        draw.text((120, y), _words(rng, 40), fill=(30, 30, 35), font=font)
    return np.asarray(page)[:, :1120]


def _ui_screenshot(rng: np.random.Generator) -> np.ndarray:
    """The product's own page: a title bar, a menu, a scalp photo and its figures."""
    screen = Image.new("RGB", (1920, 1080), (242, 242, 246))
    draw = ImageDraw.Draw(screen)
    font = ImageFont.load_default(size=20)
    draw.rectangle((0, 0, 1920, 72), fill=(38, 62, 120))
    draw.text((24, 24), "Hair tracker   Patients   Reports", fill=(255, 255, 255), font=font)
    draw.rectangle((0, 72, 280, 1080), fill=(225, 228, 235))
    for row in range(12):
        draw.text((24, 100 + 48 * row), _words(rng, 2).title(), fill=(30, 30, 30), font=font)
    screen.paste(Image.fromarray(_phantom()), (340, 110))
    for row in range(14):
        y = 120 + 40 * row
        draw.text((1040, y), f"{_words(rng, 2)}: {row * 17 + 40}", fill=(30, 30, 30), font=font)
        draw.line((1040, y + 30, 1880, y + 30), fill=(200, 200, 205))
    return np.asarray(screen)


def _photograph(flat: np.ndarray, rng: np.random.Generator, *, zoom: float) -> np.ndarray:
    """A phone photo of a flat picture: tilted and in perspective on a desk, lit unevenly,
    tinted, a little out of focus, noisy and JPEG-compressed; 1600 × 1200."""
    height, width = flat.shape[:2]
    out_w, out_h = 1600, 1200
    scale = min(out_w / width, out_h / height) * zoom
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    placed = (corners - [width / 2, height / 2]) * scale
    placed += rng.uniform(-0.05, 0.05, placed.shape) * out_h
    angle = np.radians(rng.uniform(-6.0, 6.0))
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    placed = (placed @ turn.T + [out_w / 2, out_h / 2]).astype(np.float32)
    warp = cv2.getPerspectiveTransform(corners, placed)
    photo = cv2.warpPerspective(flat, warp, (out_w, out_h), borderValue=(90, 70, 55))
    ys, xs = np.mgrid[0:out_h, 0:out_w] / out_w
    light = 0.9 + 0.3 * (xs - 0.5) - 0.2 * ((xs - 0.5) ** 2 + (ys - 0.4) ** 2)
    photo = photo * light[..., None] * rng.uniform(0.88, 1.12, 3)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.2) + rng.normal(0.0, 3.0, photo.shape)
    return _jpeg(np.clip(photo, 0, 255).astype(np.uint8), quality=75)


def _jpeg(rgb: np.ndarray, *, quality: int) -> np.ndarray:
    _, encoded = cv2.imencode(".jpg", rgb[..., ::-1], (cv2.IMWRITE_JPEG_QUALITY, quality))
    return np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])


@pytest.mark.parametrize(
    ("picture", "zoom"),
    [("page", 1.0), ("page", 2.2), ("screen", 1.0)],
    ids=["page", "page-close", "screen"],
)
def test_a_photographed_page_or_screen_is_not_a_scalp_close_up(picture: str, zoom: float):
    # Photographed: no block of one exact colour is left, so only the rows of text tell.
    rng = np.random.default_rng(7)
    flat = _printed_page(rng, font_px=28) if picture == "page" else _ui_screenshot(rng)
    photo = _photograph(flat, rng, zoom=zoom)
    metrics = measure_quality(photo, view="trichoscopy")
    assert metrics.flat_share < 0.05
    issue = next(
        i for i in assess_quality(photo, view="trichoscopy").issues if i.code == "not_scalp"
    )
    assert "page or a screen" in issue.message
    assert issue.value == metrics.text_lines


def _round_field(rgb: np.ndarray, *, diameter: float) -> np.ndarray:
    """A round-field dermatoscope's frame: black (sensor noise) outside a centred disc of
    ``diameter`` × the short side, the disc darkening towards its rim."""
    height, width = rgb.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    radius = np.hypot(xs - width / 2, ys - height / 2) / (diameter * min(height, width) / 2)
    light = np.clip((1.0 - radius) / 0.02, 0.0, 1.0) * (1.0 - 0.35 * radius**4)
    noise = np.random.default_rng(0).normal(3.0, 1.5, rgb.shape)
    return np.clip(rgb * light[..., None] + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("diameter", [0.8, 1.0, 1.25])
def test_a_round_field_is_measured_without_its_black_surround(diameter: float):
    rgb = _round_field(_phantom(TYPICAL, px_per_mm=100.0), diameter=diameter)
    field = lit_field(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    height, width = field.shape
    assert field[height // 2, width // 2]
    assert not field[0, 0]
    disc = np.pi * (diameter * height / 2) ** 2
    # The disc clipped by the frame at the largest diameter.
    assert 0.9 * min(disc, 0.9 * field.size) <= field.sum() <= 1.05 * disc
    assert _codes(rgb) == []


def test_a_dark_photo_is_not_taken_for_a_round_field():
    # Dark skin in a dim photo: most of the frame is black, in ragged shapes.
    dark = _phantom(TrichoscopyConditions(exposure=0.12), skin_tone=5)
    assert lit_field(cv2.cvtColor(dark, cv2.COLOR_RGB2GRAY)).all()
    assert "underexposed" in _codes(dark)


def test_noise_level_is_the_noise_not_the_shading_or_the_hairs():
    rng = np.random.default_rng(4)
    shading = np.linspace(60.0, 200.0, 800)[None, :].repeat(600, axis=0)
    for sigma in (1.0, 3.0, 8.0):
        noisy = np.clip(shading + rng.normal(0.0, sigma, shading.shape), 0, 255)
        level = _noise_level(np.round(noisy).astype(np.uint8), np.ones(shading.shape, bool))
        assert level == pytest.approx(sigma, rel=0.1)
    clean = cv2.cvtColor(_phantom(), cv2.COLOR_RGB2GRAY)
    assert _noise_level(clean, np.ones(clean.shape, bool)) < 1.0


@pytest.mark.parametrize(("exposure", "skin_tone"), [(0.3, 2), (0.2, 1), (0.4, 4)])
def test_a_dim_photo_with_shadows_lost_in_grain_is_underexposed(exposure: float, skin_tone: int):
    conditions = TrichoscopyConditions(exposure=exposure, noise_sigma=0.04, blur_sigma_px=0.6)
    rgb = _phantom(conditions, skin_tone=skin_tone)
    metrics = measure_quality(rgb, view="trichoscopy", px_per_mm=100.0)
    # Bright enough for the median rule alone, which let these through.
    assert metrics.median_luminance >= 35
    issue = next(
        i for i in assess_quality(rgb, view="trichoscopy").issues if i.code == "underexposed"
    )
    assert "grain" in issue.message
    assert issue.value == pytest.approx(metrics.median_luminance / metrics.noise_level, abs=0.1)
    # The same photo in a round field.
    assert "underexposed" in _codes(_round_field(rgb, diameter=0.95))


def test_a_dim_but_clean_photo_is_not_underexposed():
    rgb = _phantom(TrichoscopyConditions(exposure=0.4, noise_sigma=0.01), skin_tone=2)
    assert "underexposed" not in _codes(rgb)


@pytest.mark.real_data
@pytest.mark.parametrize(
    "stem",
    # Two photos with a measurement label (four rows of text) burned in beside the caption
    # bar, and one whose round-field copy once passed for a face.
    ["220128_B568_1", "220303_A201_1", "220119_A849_4"],
)
def test_real_photos_with_labels_or_in_a_round_field_pass(stem: str) -> None:
    path = FDU_IMAGES / f"{stem}.jpg"
    if not path.exists():
        pytest.skip(f"no real photo at {path}")
    rgb = np.asarray(Image.open(path).convert("RGB"))
    assert _codes(rgb, px_per_mm=380.0) == []
    assert _codes(_round_field(rgb, diameter=1.0), px_per_mm=380.0) == []


def _dense_black_hair(skin_tone: int, *, stops_under: float = 0.0) -> np.ndarray:
    """A global photo of a head with about 80 % black hair, properly lit or ``stops_under``
    stops darker (linear light)."""
    scene = make_global_scene(
        seed=7, coverage_target=80.0, skin_tone=skin_tone, hair_colour="black", pattern="diffuse"
    )
    conditions = GlobalConditions(
        light_gradient=0.2, vignetting=0.2, exposure=2.0**-stops_under, noise=1.5, jpeg_quality=90
    )
    rgb, _truth = render_global(scene, conditions=conditions)
    return rgb


@pytest.mark.parametrize("skin_tone", [1, 2, 3, 4])
def test_dense_black_hair_in_a_properly_lit_global_photo_is_not_underexposed(skin_tone: int):
    rgb = _dense_black_hair(skin_tone)
    # Most of the frame is black hair: the median alone called this too dark.
    assert measure_quality(rgb, view="global").median_luminance < 35
    assert _codes(rgb, view="global", px_per_mm=None) == []


@pytest.mark.parametrize("skin_tone", [1, 2, 3, 4])
@pytest.mark.parametrize("stops_under", [2.0, 3.0])
def test_the_same_global_photo_stops_under_is_underexposed(skin_tone: int, stops_under: float):
    rgb = _dense_black_hair(skin_tone, stops_under=stops_under)
    (issue,) = assess_quality(rgb, view="global").issues
    assert issue.code == "underexposed"
    assert "add light" in issue.message.lower() and "dermatoscope" not in issue.message


def _before_black_cloth(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` with a black cloth (level about 8) on both sides, a fifth of the frame."""
    cloth = np.random.default_rng(0).normal(8.0, 2.0, rgb.shape).clip(0, 255).astype(np.uint8)
    side = rgb.shape[1] // 10
    framed = rgb.copy()
    framed[:, :side], framed[:, -side:] = cloth[:, :side], cloth[:, -side:]
    return framed


@pytest.mark.parametrize("skin_tone", [1, 2, 4])
def test_a_black_backdrop_beside_a_properly_lit_head_is_not_underexposure(skin_tone: int):
    scene = make_global_scene(
        seed=3, coverage_target=40.0, skin_tone=skin_tone, hair_colour="grey", pattern="frontal"
    )
    rgb, _truth = render_global(scene, conditions=GlobalConditions(noise=1.5, jpeg_quality=90))
    # The hair's level used to be read off the cloth, and the photo called too dark.
    assert _codes(_before_black_cloth(rgb), view="global", px_per_mm=None) == []
    too_dark = _before_black_cloth(_dense_black_hair(skin_tone, stops_under=2.0))
    assert _codes(too_dark, view="global", px_per_mm=None) == ["underexposed"]
