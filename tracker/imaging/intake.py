"""Photo intake: decode uploaded bytes into an upright RGB image and metadata-free bytes.

Every photo the tracker measures or stores passes through :func:`prepare_image`. It decodes
JPEG, PNG, TIFF and phone HEIC/HEIF, applies the EXIF orientation exactly once, converts
any pixel format to 8-bit RGB and re-encodes the pixels alone, so no EXIF, GPS, XMP or
embedded profile reaches the store. The returned ``rgb`` is the decode of ``stored_bytes``:
measuring the stored file later gives the same numbers.

An upright sRGB JPEG (most camera and dermatoscope files) is not re-compressed: its
metadata segments are cut out of the file and the compressed pixels kept as they are, so
the stored photo loses no quality, intake costs about one decode, and storing the stored
file again gives the very same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000
MIN_SHORT_SIDE_PX = 640
JPEG_QUALITY = 95

# Formats whose pixels already went through lossy compression: storing them as PNG would
# only inflate the file, so they are re-encoded as high-quality JPEG.
LOSSY_FORMATS = frozenset({"JPEG", "MPO", "HEIF", "WEBP"})
# MPO is a JPEG carrying extra images (depth or gain maps); its first frame is the photo.
FIRST_FRAME_FORMATS = frozenset({"MPO"})
EXIF_ORIENTATION_TAG = 0x0112
# What turns the pixels of each EXIF orientation upright, as Pillow's exif_transpose does
# (these only move pixels, so the result is the same to the bit).
_TURNS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda rgb: cv2.flip(rgb, 1),
    3: lambda rgb: cv2.rotate(rgb, cv2.ROTATE_180),
    4: lambda rgb: cv2.flip(rgb, 0),
    5: cv2.transpose,
    6: lambda rgb: cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE),
    7: lambda rgb: cv2.flip(cv2.transpose(rgb), -1),
    8: lambda rgb: cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE),
}

# JPEG markers (the byte after 0xFF) that the stripped copy of a JPEG keeps: quantisation
# and Huffman tables, restart interval, and the frame types both Pillow and OpenCV decode
# (baseline, extended and progressive Huffman).
_JPEG_TABLES = frozenset({0xDB, 0xC4, 0xDD})
_JPEG_DECODABLE_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_SOS, _JPEG_EOI, _JPEG_APP0, _JPEG_APP14, _JPEG_COM = 0xDA, 0xD9, 0xE0, 0xEE, 0xFE
# A JFIF header without density or thumbnail: it tells decoders the pixels are YCbCr.
_BARE_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
# Inside compressed data 0xFF is followed by 0x00 (stuffing) or a restart marker; anything
# else starts the next segment.
_JPEG_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")


class IntakeError(ValueError):
    """A file that cannot be measured; ``code`` names the reason, ``message`` explains it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PreparedImage:
    """An accepted photo.

    ``rgb`` is (height, width, 3) uint8, upright, and equals the decode of ``stored_bytes``;
    ``extension`` is ``"jpg"`` or ``"png"`` (the stored encoding); ``sha256`` is the hex
    digest of ``stored_bytes``; ``source_format`` is the uploaded format as Pillow names it.
    """

    rgb: np.ndarray = field(repr=False, compare=False)
    stored_bytes: bytes = field(repr=False)
    extension: str
    sha256: str
    width: int
    height: int
    source_format: str


def prepare_image(data: bytes) -> PreparedImage:
    """Decode, orient and check one uploaded photo, and make its metadata-free stored bytes
    (the upload's own compressed data for an upright sRGB JPEG, else a re-encode).

    Raises :class:`IntakeError` with code ``not_an_image``, ``truncated``, ``too_large``
    (over 50 megapixels, checked from the header before decoding), ``too_small`` (short
    side under 640 px), ``animated`` or ``multi_page``.
    """
    image, source_format = _open_checked(data)
    stripped = _stripped_jpeg(data) if _is_srgb_jpeg(image, source_format) else None
    decoded = None if stripped is None else _decode_jpeg(stripped, size=image.size)
    if stripped is not None and decoded is not None:
        orientation = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
        if orientation not in _TURNS:
            return _prepared(decoded, stripped, extension="jpg", source_format=source_format)
        return _re_encoded(Image.fromarray(_TURNS[orientation](decoded)), source_format)
    _load(image)
    upright = _to_rgb8(ImageOps.exif_transpose(image))
    if source_format in LOSSY_FORMATS:
        return _re_encoded(_bare(upright), source_format)
    pixels = np.asarray(upright, dtype=np.uint8)
    stored_bytes = _encode(Image.fromarray(pixels), lossy=False)
    return _prepared(pixels, stored_bytes, extension="png", source_format=source_format)


def _re_encoded(upright: Image.Image, source_format: str) -> PreparedImage:
    """``upright`` (RGB, without ``info``) stored as JPEG; a JPEG round trip changes
    pixels, so what is measured is the decode of what was stored."""
    stored_bytes = _encode(upright, lossy=True)
    rgb = _decode_jpeg(stored_bytes, size=upright.size)
    if rgb is None:  # our own encoder's output always decodes
        raise RuntimeError("the re-encoded JPEG does not decode")
    return _prepared(rgb, stored_bytes, extension="jpg", source_format=source_format)


def _prepared(
    rgb: np.ndarray, stored_bytes: bytes, *, extension: str, source_format: str
) -> PreparedImage:
    height, width = rgb.shape[:2]
    return PreparedImage(
        rgb=rgb,
        stored_bytes=stored_bytes,
        extension=extension,
        sha256=hashlib.sha256(stored_bytes).hexdigest(),
        width=width,
        height=height,
        source_format=source_format,
    )


def _open_checked(data: bytes) -> tuple[Image.Image, str]:
    """Open ``data`` and check its header limits; only HEIF pixels are decoded here."""
    if pillow_heif.is_supported(data):
        return _open_heif(data)
    try:
        # Pillow warns (and past twice its limit raises) about huge images while reading the
        # header; our own, lower limit below gives the user the message instead.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_large() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        raise IntakeError(
            "not_an_image", "The file is not a photo in a supported format (JPEG, PNG, TIFF, HEIC)."
        ) from error
    source_format = image.format or "unknown"
    _check_size(*image.size)
    try:
        frames = getattr(image, "n_frames", 1)  # counting frames reads the whole file
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise _truncated() from error
    if frames > 1 and source_format not in FIRST_FRAME_FORMATS:
        if getattr(image, "is_animated", False) and source_format != "TIFF":
            raise IntakeError(
                "animated", "The file is an animation; upload a single still photo instead."
            )
        raise IntakeError(
            "multi_page", f"The file holds {frames} pages; upload each photo as its own file."
        )
    return image, source_format


def _open_heif(data: bytes) -> tuple[Image.Image, str]:
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data))
    except (ValueError, RuntimeError, OSError) as error:
        raise _truncated() from error
    _check_size(*heif.size)
    if len(heif) > 1:
        raise IntakeError(
            "multi_page", f"The file holds {len(heif)} images; upload each photo as its own file."
        )
    try:
        # libheif applies the file's rotation while decoding and resets the EXIF
        # orientation to 1, so the later exif_transpose leaves the pixels alone.
        image = heif.to_pillow()
    except (ValueError, RuntimeError, OSError) as error:
        raise _truncated() from error
    return image, "HEIF"


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise _too_large(width * height)
    if min(width, height) < MIN_SHORT_SIDE_PX:
        raise IntakeError(
            "too_small",
            f"The photo is {width}×{height} px; it needs at least {MIN_SHORT_SIDE_PX} px on "
            "its short side. Upload the original from the camera, not a preview.",
        )


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise _truncated() from error


def _too_large(pixels: int | None = None) -> IntakeError:
    size = f"{pixels / 1e6:.0f} megapixels" if pixels else "too many pixels"
    return IntakeError(
        "too_large",
        f"The photo has {size}; the limit is {MAX_PIXELS // 1_000_000} megapixels. "
        "Export it at a lower resolution.",
    )


def _truncated() -> IntakeError:
    return IntakeError(
        "truncated", "The file is damaged or incomplete; upload it again from the original."
    )


def _to_rgb8(image: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB; an embedded colour profile is converted to sRGB."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # Pillow's own conversion clips 16-bit values at 255 instead of scaling them.
        wide = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
        image = Image.fromarray((wide >> 8).astype(np.uint8))
    elif image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        scale = 255.0 if values.max(initial=0.0) <= 1.0 else 1.0
        image = Image.fromarray(np.clip(values * scale, 0, 255).astype(np.uint8))
    icc_profile = image.info.get("icc_profile")
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            return ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile is treated as sRGB, as browsers do
    return image.convert("RGB")


def _bare(image: Image.Image) -> Image.Image:
    """The pixels of ``image`` in a new image without ``info``: encoders copy some of it
    (a JPEG comment, a PNG's colour profile) into the file."""
    bare = Image.new(image.mode, image.size)
    bare.paste(image)
    return bare


def _encode(image: Image.Image, *, lossy: bool) -> bytes:
    buffer = io.BytesIO()
    if lossy:
        # 4:4:4 chroma keeps one-pixel-wide hairs sharp in colour as well as in brightness.
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    else:
        image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _decode_jpeg(data: bytes, *, size: tuple[int, int]) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB pixels of JPEG ``data`` as Pillow decodes them, or ``None``
    unless they decode to ``size`` (width, height).

    OpenCV and Pillow share libjpeg-turbo, so the pixels are the same (a test checks);
    OpenCV decodes straight into an array, which Pillow can only give through a copy that
    costs as much as the decode.
    """
    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    rgb = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if rgb is None or rgb.shape[1::-1] != size:
        return None
    return rgb


def _is_srgb_jpeg(image: Image.Image, source_format: str) -> bool:
    """Whether a JPEG's decoded pixels need no conversion: no colour profile to apply,
    colour (not CMYK or grey)."""
    return source_format == "JPEG" and image.mode == "RGB" and not image.info.get("icc_profile")


def _stripped_jpeg(data: bytes) -> bytes | None:
    """JPEG ``data`` rebuilt from the segments that make its pixels, or ``None`` for a
    file whose structure this does not follow (it then takes the decode and re-encode path,
    which also names any damage).

    Kept: tables, frame header, scans and an Adobe segment (it says whether the pixels
    are RGB or YCbCr). A JFIF header becomes a bare one. Dropped: every other application
    segment (EXIF, GPS, XMP, ICC, MPF, maker notes, thumbnails), comments, and anything
    after the end of the image.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    kept = [b"\xff\xd8"]
    position, frame_seen, scan_seen, jfif_kept = 2, False, False, False
    while True:
        if position >= len(data) or data[position] != 0xFF:
            return None
        while position < len(data) and data[position] == 0xFF:  # fill bytes
            position += 1
        marker = data[position] if position < len(data) else None
        if marker == _JPEG_EOI:
            return b"".join([*kept, b"\xff\xd9"]) if scan_seen else None
        if marker is None or position + 3 > len(data):
            return None
        length = int.from_bytes(data[position + 1 : position + 3], "big")
        end = position + 1 + length
        if length < 2 or end > len(data):
            return None
        segment = b"\xff" + data[position:end]
        payload = data[position + 3 : end]
        position = end
        if marker in _JPEG_FRAMES:
            if marker not in _JPEG_DECODABLE_FRAMES or frame_seen:
                return None
            frame_seen = True
            kept.append(segment)
        elif marker in _JPEG_TABLES:
            kept.append(segment)
        elif marker == _JPEG_SOS:
            scan_end = _JPEG_SCAN_END.search(data, position)
            if not frame_seen or scan_end is None:
                return None
            kept += [segment, data[position : scan_end.start()]]
            position, scan_seen = scan_end.start(), True
        elif marker == _JPEG_APP0:
            if payload.startswith(b"JFIF\x00") and not jfif_kept:
                kept.append(_BARE_JFIF)
                jfif_kept = True
        elif marker == _JPEG_APP14 and payload.startswith(b"Adobe"):
            kept.append(segment)
        elif not (_JPEG_APP0 <= marker <= 0xEF or marker == _JPEG_COM):
            return None  # a segment type this copy would not know to keep or drop
