"""Turning an uploaded file into safe images: decode with Pillow, refuse anything that is
not a whole JPEG, PNG or WebP of a sane size, re-encode (no EXIF, no GPS, nothing
appended), in a few widths. Pure: bytes in, bytes out."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024  # an upload's size
MAX_PIXELS = 40_000_000  # width x height a file may declare (a 8,000 x 5,000 photo)
WIDTHS = (480, 960, 1600)  # stored widths (never larger than the original)
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
QUALITY = 85
_TOO_MANY_PIXELS = (
    f"The image declares more than {MAX_PIXELS // 1_000_000} million pixels: export a smaller one."
)


class Refused(ValueError):
    """An upload that is not an image we store, with a message for the editor."""


@dataclass(frozen=True)
class Rendition:
    """One stored width of an image."""

    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Prepared:
    """A checked, re-encoded image: its name stem (a content hash), format and widths."""

    stem: str
    extension: str
    content_type: str
    width: int
    height: int
    renditions: tuple[Rendition, ...]


def prepare(data: bytes) -> Prepared:
    """Check and re-encode an upload; :class:`Refused` says why it is not taken."""
    if not data:
        raise Refused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise Refused(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    image = _decode(data)
    extension, content_type = FORMATS[image.format or ""]
    image = ImageOps.exif_transpose(image)  # upright, as the camera meant it
    keep_alpha = extension != "jpg" and image.mode in ("RGBA", "LA", "P")
    image = image.convert("RGBA" if keep_alpha else "RGB")
    widths = sorted({w for w in WIDTHS if w < image.width} | {min(image.width, WIDTHS[-1])})
    renditions = tuple(_encode(image, width, extension) for width in widths)
    stem = hashlib.sha256(renditions[-1].data).hexdigest()[:20]
    return Prepared(stem, extension, content_type, image.width, image.height, renditions)


def _decode(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                kind = image.format or "not one of them"
                raise Refused(f"Only JPEG, PNG and WebP images are taken (this is {kind}).")
            if image.width * image.height > MAX_PIXELS:
                raise Refused(_TOO_MANY_PIXELS)
            if getattr(image, "n_frames", 1) > 1:
                raise Refused("Animated images are not taken: upload a still image.")
            image.load()  # decodes every byte: a truncated file fails here
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(_TOO_MANY_PIXELS) from None
    except UnidentifiedImageError:
        raise Refused("This file is not an image we can take (JPEG, PNG or WebP).") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise Refused("The image is damaged or incomplete; export it again.") from None
    return image


def _encode(image: Image.Image, width: int, extension: str) -> Rendition:
    height = max(1, round(image.height * width / image.width))
    resized = image if width == image.width else image.resize((width, height), Image.LANCZOS)
    out = io.BytesIO()
    if extension == "jpg":
        resized.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    elif extension == "png":
        resized.save(out, "PNG", optimize=True)
    else:
        resized.save(out, "WEBP", quality=QUALITY, method=4)
    return Rendition(width, height, out.getvalue())
