"""Intake: every accepted format, every rejection, orientation and metadata stripping."""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
import zlib

import cv2
import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageCms, ImageOps

from tracker.imaging.intake import JPEG_QUALITY, IntakeError, prepare_image

EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825
RED = (230, 20, 20)


def _photo(width: int = 900, height: int = 700, *, seed: int = 0) -> np.ndarray:
    """A textured (height, width, 3) uint8 picture with a red square in its top-left corner."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    rgb[:] = (190, 150, 130)
    rgb += rng.integers(0, 20, rgb.shape, dtype=np.uint8)
    rgb[:100, :100] = RED
    return rgb


def _encode(rgb: np.ndarray, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=format, **options)
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` pixels, with a token data chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _is_red(pixel: np.ndarray) -> bool:
    return bool(pixel[0] > 180 and pixel[1] < 80 and pixel[2] < 80)


def _rejection(data: bytes) -> IntakeError:
    with pytest.raises(IntakeError) as caught:
        prepare_image(data)
    assert caught.value.message == str(caught.value)
    assert len(caught.value.message) > 20
    return caught.value


def test_png_is_kept_lossless_and_exact() -> None:
    rgb = _photo()
    prepared = prepare_image(_encode(rgb, "PNG"))
    assert prepared.extension == "png"
    assert prepared.source_format == "PNG"
    assert (prepared.width, prepared.height) == (900, 700)
    np.testing.assert_array_equal(prepared.rgb, rgb)


def test_jpeg_is_stored_as_jpeg_and_rgb_is_the_decode_of_the_stored_bytes() -> None:
    prepared = prepare_image(_encode(_photo(), "JPEG", quality=90))
    assert prepared.extension == "jpg"
    assert prepared.stored_bytes[:2] == b"\xff\xd8"
    stored = np.asarray(Image.open(io.BytesIO(prepared.stored_bytes)).convert("RGB"))
    np.testing.assert_array_equal(prepared.rgb, stored)
    assert prepared.rgb.dtype == np.uint8
    assert prepared.rgb.shape == (700, 900, 3)


def test_identical_input_gives_identical_sha256_of_the_stored_bytes() -> None:
    data = _encode(_photo(), "JPEG", quality=90)
    first, second = prepare_image(data), prepare_image(data)
    assert first.sha256 == second.sha256
    assert first.sha256 == hashlib.sha256(first.stored_bytes).hexdigest()
    other = prepare_image(_encode(_photo(seed=1), "JPEG", quality=90))
    assert other.sha256 != first.sha256


def test_exif_orientation_is_applied_once_and_exif_and_gps_are_stripped() -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # the camera was turned: rotate 90° clockwise to view
    exif.get_ifd(EXIF_GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0)})
    data = _encode(_photo(), "JPEG", quality=95, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(EXIF_GPS_IFD)

    prepared = prepare_image(data)

    assert (prepared.width, prepared.height) == (700, 900)
    assert _is_red(prepared.rgb[20, -20])  # top-left corner turned to the top-right
    assert not _is_red(prepared.rgb[20, 20])
    stored = Image.open(io.BytesIO(prepared.stored_bytes))
    assert len(stored.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(stored.info)
    assert b"Exif" not in prepared.stored_bytes


def test_phone_heic_is_decoded_upright() -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    heif = pillow_heif.from_pillow(Image.fromarray(_photo()))
    buffer = io.BytesIO()
    heif.save(buffer, quality=95, exif=exif.tobytes())

    prepared = prepare_image(buffer.getvalue())

    assert prepared.source_format == "HEIF"
    assert prepared.extension == "jpg"
    assert (prepared.width, prepared.height) == (700, 900)
    assert _is_red(prepared.rgb[20, -20])
    assert not _is_red(prepared.rgb[20, 20])
    assert len(Image.open(io.BytesIO(prepared.stored_bytes)).getexif()) == 0


def test_tiff_is_accepted() -> None:
    prepared = prepare_image(_encode(_photo(), "TIFF"))
    assert prepared.source_format == "TIFF"
    assert prepared.extension == "png"
    np.testing.assert_array_equal(prepared.rgb, _photo())


def test_greyscale_16_bit_is_scaled_to_8_bit_rgb() -> None:
    wide = np.full((700, 900), 65535, dtype=np.uint16)
    wide[:, 450:] = 32896  # 128.5 × 256
    prepared = prepare_image(_encode(wide, "PNG"))
    assert prepared.rgb.shape == (700, 900, 3)
    assert prepared.rgb[0, 0].tolist() == [255, 255, 255]
    assert prepared.rgb[0, -1].tolist() == [128, 128, 128]


@pytest.mark.parametrize("extension", [".png", ".tiff"])
def test_16_bit_colour_is_scaled_to_8_bit(extension: str) -> None:
    wide = np.empty((700, 900, 3), dtype=np.uint16)
    wide[:] = (65535, 32896, 2560)
    _ok, encoded = cv2.imencode(extension, wide[..., ::-1])  # OpenCV writes BGR
    prepared = prepare_image(encoded.tobytes())
    assert prepared.rgb[0, 0].tolist() == [255, 128, 10]


def test_rgba_becomes_rgb() -> None:
    rgba = np.dstack([_photo(), np.full((700, 900), 200, dtype=np.uint8)])
    prepared = prepare_image(_encode(rgba, "PNG"))
    np.testing.assert_array_equal(prepared.rgb, _photo())


def test_embedded_colour_profile_is_applied_and_not_stored() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_photo(), "PNG", icc_profile=srgb)
    assert Image.open(io.BytesIO(data)).info.get("icc_profile")

    prepared = prepare_image(data)

    assert "icc_profile" not in Image.open(io.BytesIO(prepared.stored_bytes)).info
    difference = np.abs(prepared.rgb.astype(int) - _photo().astype(int))
    assert difference.max() <= 2


def test_text_file_is_not_an_image() -> None:
    assert _rejection(b"patient: 42\nnotes: scalp photo attached\n").code == "not_an_image"


def test_empty_file_is_not_an_image() -> None:
    assert _rejection(b"").code == "not_an_image"


def test_truncated_jpeg_is_rejected() -> None:
    data = _encode(_photo(), "JPEG", quality=90)
    assert _rejection(data[: len(data) // 2]).code == "truncated"


def test_51_megapixel_header_is_rejected_before_decoding() -> None:
    error = _rejection(_png_header_only(10_000, 5_100))
    assert error.code == "too_large"
    assert "51 megapixels" in error.message


def test_decompression_bomb_is_rejected_without_pillow_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _rejection(_png_header_only(12_000, 8_000)).code == "too_large"
        assert _rejection(_png_header_only(20_000, 20_000)).code == "too_large"
    assert caught == []


def test_image_under_640_px_on_the_short_side_is_rejected() -> None:
    error = _rejection(_encode(_photo(900, 600), "PNG"))
    assert error.code == "too_small"
    assert "900×600" in error.message


def test_animated_gif_is_rejected() -> None:
    frames = [Image.fromarray(_photo(seed=seed)) for seed in range(2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    assert _rejection(buffer.getvalue()).code == "animated"


def test_multi_page_tiff_is_rejected() -> None:
    pages = [Image.fromarray(_photo(seed=seed)) for seed in range(3)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    error = _rejection(buffer.getvalue())
    assert error.code == "multi_page"
    assert "3 pages" in error.message


def _pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_upright_jpeg_keeps_its_compressed_pixels_and_loses_every_metadata_block() -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 1
    exif.get_ifd(EXIF_GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>patient 42</rdf:RDF></x:xmpmeta>'
    data = _encode(_photo(), "JPEG", quality=85, exif=exif.tobytes(), xmp=xmp, comment="id 42")
    data += b"vendor trailer after the end of the image"

    prepared = prepare_image(data)

    assert prepared.extension == "jpg"
    np.testing.assert_array_equal(prepared.rgb, _pillow_decode(data))
    np.testing.assert_array_equal(prepared.rgb, _pillow_decode(prepared.stored_bytes))
    for secret in (b"Exif", b"xmpmeta", b"id 42", b"trailer"):
        assert secret not in prepared.stored_bytes
    stored = Image.open(io.BytesIO(prepared.stored_bytes))
    assert len(stored.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(stored.info)
    # Storing the stored file again changes nothing, so a re-analysis measures the same pixels.
    assert prepare_image(prepared.stored_bytes).stored_bytes == prepared.stored_bytes


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 90, "subsampling": 2},
        {"quality": 90, "subsampling": 1},
        {"quality": 75, "progressive": True},
        {"quality": 95, "subsampling": 0, "restart_marker_rows": 2},
    ],
    ids=["4:2:0", "4:2:2", "progressive", "restart-markers"],
)
def test_rgb_is_what_pillow_decodes_from_the_stored_jpeg(options: dict[str, object]) -> None:
    data = _encode(_photo(seed=3), "JPEG", **options)
    prepared = prepare_image(data)
    np.testing.assert_array_equal(prepared.rgb, _pillow_decode(prepared.stored_bytes))
    np.testing.assert_array_equal(prepared.rgb, _pillow_decode(data))


def test_rotated_jpeg_with_a_comment_is_re_encoded_without_it() -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 3
    data = _encode(_photo(), "JPEG", quality=90, exif=exif.tobytes(), comment="id 42")

    prepared = prepare_image(data)

    assert _is_red(prepared.rgb[-20, -20])  # turned by 180°
    assert b"id 42" not in prepared.stored_bytes
    assert "comment" not in Image.open(io.BytesIO(prepared.stored_bytes)).info
    np.testing.assert_array_equal(prepared.rgb, _pillow_decode(prepared.stored_bytes))


def test_jpeg_with_a_colour_profile_is_converted_and_stored_without_it() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_photo(), "JPEG", quality=95, icc_profile=srgb)

    prepared = prepare_image(data)

    assert "icc_profile" not in Image.open(io.BytesIO(prepared.stored_bytes)).info
    np.testing.assert_array_equal(prepared.rgb, _pillow_decode(prepared.stored_bytes))


def test_jpeg_cut_inside_its_metadata_is_rejected_as_truncated() -> None:
    exif = Image.Exif()
    exif.get_ifd(EXIF_GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0)})
    data = _encode(_photo(), "JPEG", quality=90, exif=exif.tobytes())
    assert _rejection(data[: len(data) - 200]).code == "truncated"


@pytest.mark.parametrize("orientation", range(2, 9))
def test_each_exif_orientation_is_turned_exactly_as_pillow_turns_it(orientation: int) -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    data = _encode(_photo(901, 701), "JPEG", quality=90, exif=exif.tobytes())
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    expected = _encode(np.asarray(upright), "JPEG", quality=JPEG_QUALITY, subsampling=0)

    prepared = prepare_image(data)

    assert prepared.stored_bytes == expected
    np.testing.assert_array_equal(prepared.rgb, _pillow_decode(expected))
