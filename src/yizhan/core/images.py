"""Photos from phones: check, decode at reduced scale, turn upright, strip, resize, re-encode.

Phones send 12-megapixel JPEGs (and PNG, WebP). Nothing a user uploaded is ever served as it
came: the pixels are decoded and written anew as JPEG with no metadata at all (EXIF, GPS, XMP,
ICC comments), so a photo cannot leak where or when it was taken, or carry a payload. JPEGs are
decoded with Pillow's ``draft`` (libjpeg scales in the DCT domain, a power-of-two reduction for
free), which is why intake costs about what a plain full-size decode costs, not several times it.

Refused, each with a clear message (``ApplicationError``, code ``invalid_image``): a file larger
than ``IMAGE_MAX_BYTES``, a file that is not a picture of an accepted format, a picture with
more than ``IMAGE_MAX_PIXELS`` pixels (a decompression bomb: the size is read from the header,
before any pixel is decoded), and a truncated or corrupt one.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from yizhan.core.errors import ApplicationError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_image", field=field)


@dataclass
class ProcessedImage:
    """The re-encoded sizes (``{"display": ContentFile, "thumb": ContentFile}``) and the display
    size's dimensions."""

    files: dict[str, ContentFile]
    width: int
    height: int
    source_format: str


def _read(upload, *, field: str) -> bytes:
    limit = settings.IMAGE_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _refuse(
            _("The photo is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {"size": round(size / 1_048_576, 1), "limit": limit // 1_048_576},
            field,
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > limit:
        raise _refuse(
            _("The photo is too large; the limit is %(limit)s MB.") % {"limit": limit // 1_048_576},
            field,
        )
    if not data:
        raise _refuse(_("The photo is empty."), field)
    return data


def open_checked(data: bytes, *, field: str = "photo") -> Image.Image:
    """Open ``data`` lazily (header only) and refuse what is not an accepted, sane picture."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse(
            _("This file is not a photo we can read: please send a JPEG, PNG or WebP picture."),
            field,
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("The picture is too large to process."), field) from None
    if image.format not in ACCEPTED_FORMATS:
        raise _refuse(
            _("This file is not a photo we can read: please send a JPEG, PNG or WebP picture."),
            field,
        )
    width, height = image.size
    if width < 1 or height < 1 or width * height > settings.IMAGE_MAX_PIXELS:
        raise _refuse(_("The picture is too large to process."), field)
    return image


def process_image(
    upload,
    *,
    sizes: dict[str, int] | None = None,
    field: str = "photo",
    quality: int = 82,
) -> ProcessedImage:
    """Re-encode an uploaded photo at each size (longest side, pixels), metadata stripped."""
    sizes = sizes or {"display": 1600, "thumb": 400}
    data = _read(upload, field=field)
    image = open_checked(data, field=field)
    source_format = image.format
    largest = max(sizes.values())
    try:
        if image.format in {"JPEG", "MPO"}:
            # Ask libjpeg for the smallest power-of-two reduction still >= the largest size.
            # exif_transpose may swap the sides, so the request is square.
            image.draft("RGB", (largest, largest))
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode not in ("RGB", "L"):
            background = Image.new("RGB", image.size, (255, 255, 255))
            rgba = image.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        elif image.mode == "L":
            image = image.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refuse(
            _("The photo is damaged or incomplete: please take it again."), field
        ) from None
    files: dict[str, ContentFile] = {}
    width = height = 0
    for name, side in sorted(sizes.items(), key=lambda item: -item[1]):
        copy = image.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
        # Pillow's JPEG writer copies a source's ``comment`` from ``info`` by itself: forget all.
        copy.info = {}
        out = io.BytesIO()
        # No exif=, icc_profile= or comment: nothing of the original's metadata is written.
        copy.save(out, "JPEG", quality=quality, optimize=False, progressive=True)
        files[name] = ContentFile(out.getvalue(), name=f"{name}.jpg")
        if side == largest:
            width, height = copy.size
    return ProcessedImage(files=files, width=width, height=height, source_format=source_format)
