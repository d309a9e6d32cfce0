"""Photo intake: decode uploaded bytes into an upright RGB image and metadata-free bytes.

Every photo the tracker measures or stores passes through :func:`prepare_image`. It decodes
JPEG, PNG, TIFF and phone HEIC/HEIF, applies the EXIF orientation exactly once, converts
any pixel format to 8-bit RGB and re-encodes the pixels alone, so no EXIF, GPS, XMP or
embedded profile reaches the store. The returned ``rgb`` is the decode of ``stored_bytes``:
measuring the stored file later gives the same numbers.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field

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
    """Decode, orient, check and re-encode one uploaded photo.

    Raises :class:`IntakeError` with code ``not_an_image``, ``truncated``, ``too_large``
    (over 50 megapixels, checked from the header before decoding), ``too_small`` (short
    side under 640 px), ``animated`` or ``multi_page``.
    """
    image, source_format = _open_checked(data)
    # Rebuilding the image from bare pixels leaves every metadata block (EXIF, GPS, XMP,
    # ICC, text chunks) behind, whatever the encoder would otherwise copy over.
    pixels = np.asarray(_to_rgb8(ImageOps.exif_transpose(image)), dtype=np.uint8)
    lossy = source_format in LOSSY_FORMATS
    stored_bytes = _encode(Image.fromarray(pixels), lossy=lossy)
    # A JPEG round trip changes pixels, so measure what was stored, not what was uploaded.
    rgb = _decode_stored(stored_bytes) if lossy else pixels
    height, width = rgb.shape[:2]
    return PreparedImage(
        rgb=rgb,
        stored_bytes=stored_bytes,
        extension="jpg" if lossy else "png",
        sha256=hashlib.sha256(stored_bytes).hexdigest(),
        width=width,
        height=height,
        source_format=source_format,
    )


def _open_checked(data: bytes) -> tuple[Image.Image, str]:
    """Open ``data``, check its header limits, then decode the pixels."""
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
    _load(image)
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


def _encode(image: Image.Image, *, lossy: bool) -> bytes:
    buffer = io.BytesIO()
    if lossy:
        # 4:4:4 chroma keeps one-pixel-wide hairs sharp in colour as well as in brightness.
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    else:
        image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _decode_stored(stored_bytes: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(stored_bytes)) as stored:
        return np.asarray(stored.convert("RGB"), dtype=np.uint8)
