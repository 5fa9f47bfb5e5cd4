"""Photos from phones: check, decode at reduced scale, turn upright, strip, resize, re-encode.

Phones send 12-megapixel JPEGs (and PNG, WebP). Nothing a user uploaded is ever served as it
came: the pixels are decoded and written anew as JPEG with no metadata at all (EXIF, GPS, XMP,
ICC comments), so a photo cannot leak where or when it was taken, or carry a payload. JPEGs are
decoded with Pillow's ``draft`` (libjpeg scales in the DCT domain, a power-of-two reduction for
free), which is why intake costs about what a plain full-size decode costs, not several times it.

Refused, each with a clear message (``ApplicationError``, code ``invalid_image``): a file larger
than ``IMAGE_MAX_BYTES``, a file that is not a picture of an accepted format, a picture with
more than ``IMAGE_MAX_PIXELS`` pixels (a decompression bomb: the size is read from the header,
before any pixel is decoded), a truncated or corrupt one, a polyglot (a picture that is also
something else: a ZIP archive or a web page after its end or in its text, which a browser or an
unzip tool would find), and one whose EXIF is larger than any camera writes (``MAX_EXIF_BYTES``).
The upload torture corpus in ``tests/core/torture/`` holds one of each.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from yizhan.core.errors import ApplicationError

try:  # iPhone photos (HEIC): pillow-heif teaches Pillow to open them.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - the dependency is pinned; kept optional for tools
    HEIF = False

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO", "HEIF"}
_NOT_A_PHOTO = gettext_lazy(
    "This file is not a photo we can read: please send a JPEG, PNG, WebP or HEIC picture."
)


#: A JPEG's APP1 segment holds at most 64 KB, so no camera writes more EXIF than that.
MAX_EXIF_BYTES = 64 * 1024

_NOT_ONLY_A_PHOTO = gettext_lazy(
    "This file is not only a photo: it carries other content. Please send the photo itself."
)
#: Markup that makes a picture a web page when a browser sniffs it (nothing a camera writes:
#: XMP packets use ``<x:xmpmeta``/``<rdf:``). Long enough not to turn up in compressed pixels.
_MARKUP = re.compile(rb"<(?:script|html[\s>]|iframe|body[\s>]|svg[\s>]|\?php\s)|javascript:", re.I)
#: What may follow a picture's end without making it something else: a phone's own trailer
#: (Samsung's motion photo, padding) is fine; an archive or a document is not.
_FOREIGN = (b"PK\x03\x04", b"PK\x05\x06", b"%PDF", b"\x7fELF", b"Rar!", b"7z\xbc\xaf")
#: A JPEG marker inside scan data: 0xFF followed by anything but stuffing, a restart or a fill.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_image", field=field)


def _jpeg_end(data: bytes) -> int | None:
    """Where a JPEG's first picture ends (after EOI), walking its segments; None if unsure."""
    i, n = 2, len(data)
    while i + 2 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            return i + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if i + 4 > n:
            return None
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if marker == 0xDA:  # entropy-coded data runs to the next real marker
            found = _JPEG_MARKER.search(data, i)
            if found is None:
                return None
            i = found.start()
    return None


def _png_end(data: bytes) -> int | None:
    i, n = 8, len(data)
    while i + 12 <= n:
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i
    return None


def _end_of_picture(data: bytes, fmt: str) -> int | None:
    if fmt == "JPEG":  # an MPO's further pictures follow its first: not checked
        return _jpeg_end(data)
    if fmt == "PNG":
        return _png_end(data)
    if fmt == "WEBP" and len(data) >= 8:
        size = int.from_bytes(data[4:8], "little")
        return 8 + size + (size & 1)
    return None


def _is_polyglot(data: bytes, fmt: str) -> bool:
    """A picture that is also something else: markup anywhere, or an archive or a document
    after the picture's end."""
    if _MARKUP.search(data):
        return True
    end = _end_of_picture(data, fmt)
    if end is None or end >= len(data):
        return False
    trailing = data[end:]
    return any(signature in trailing for signature in _FOREIGN)


@dataclass
class ExifInfo:
    """What the photo's EXIF said, read before the metadata is thrown away."""

    taken_at: datetime | None = None
    lat: float | None = None  # WGS-84, as GPS receivers write it
    lng: float | None = None


@dataclass
class ProcessedImage:
    """The re-encoded sizes (``{"display": ContentFile, "thumb": ContentFile}``), the display
    size's dimensions, the EXIF read first, and the perceptual hash of the upright picture."""

    files: dict[str, ContentFile]
    width: int
    height: int
    source_format: str
    exif: ExifInfo = field(default_factory=ExifInfo)
    phash: int = 0
    #: The hash of the picture turned by 0, 90, 180 and 270 degrees (``phash`` first).
    phash_rotations: list[int] = field(default_factory=list)


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
            _NOT_A_PHOTO,
            field,
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("The picture is too large to process."), field) from None
    if image.format not in ACCEPTED_FORMATS:
        raise _refuse(
            _NOT_A_PHOTO,
            field,
        )
    width, height = image.size
    if width < 1 or height < 1 or width * height > settings.IMAGE_MAX_PIXELS:
        raise _refuse(_("The picture is too large to process."), field)
    exif = image.info.get("exif")
    if isinstance(exif, bytes | bytearray) and len(exif) > MAX_EXIF_BYTES:
        raise _refuse(
            _("The photo's metadata is too large: please send the photo as the camera took it."),
            field,
        )
    if _is_polyglot(data, image.format):
        raise _refuse(_NOT_ONLY_A_PHOTO, field)
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
    exif = read_exif(image)
    largest = max(sizes.values())
    orientation = _orientation(image)
    try:
        if image.format in {"JPEG", "MPO"}:
            # Ask libjpeg for the smallest power-of-two reduction whose long side is still at
            # least the largest size (the request keeps the aspect ratio, or draft would fall
            # back to full size for any photo that is not square).
            width, height = image.size
            scale = largest / max(width, height)
            if scale < 1:
                image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()
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
    copy = image
    upright = image
    for name, side in sorted(sizes.items(), key=lambda item: -item[1]):
        # Each size is made from the one before (largest first): cheaper than from the source;
        # it is turned upright only once small (a turn of the full picture costs more).
        copy = copy.copy()
        # Bilinear with a box pre-reduction (reducing_gap) is antialiased and, for the small
        # factors left after draft, indistinguishable from Lanczos at a third of the cost.
        copy.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        upright = _turn(copy, orientation)
        # Pillow's JPEG writer copies a source's ``comment`` from ``info`` by itself: forget all.
        upright.info = {}
        out = io.BytesIO()
        # No exif=, icc_profile= or comment: nothing of the original's metadata is written.
        # Baseline, not progressive: a progressive encode costs four times as much here.
        upright.save(out, "JPEG", quality=quality, optimize=False, progressive=False)
        files[name] = ContentFile(out.getvalue(), name=f"{name}.jpg")
        if side == largest:
            width, height = upright.size
    return ProcessedImage(
        files=files,
        width=width,
        height=height,
        source_format=source_format,
        exif=exif,
        # The smallest size, upright: the hash needs only 9×8 pixels.
        phash=dhash(upright),
        phash_rotations=dhash_rotations(upright),
    )


_TURNS = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 = upright), as ``ImageOps.exif_transpose`` reads it."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF: take the picture as it is
        return 1
    return value if value in _TURNS else 1


def _turn(image: Image.Image, orientation: int) -> Image.Image:
    for method in _TURNS.get(orientation, ()):
        image = image.transpose(method)
    return image


# --- EXIF --------------------------------------------------------------------------------------

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_DATETIME = 0x0132
_CHINA = timezone(timedelta(hours=8))


def _rational(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return float("nan")


def _gps_degrees(parts, ref) -> float | None:
    try:
        d, m, sec = (_rational(x) for x in parts)
    except (TypeError, ValueError):
        return None
    value = d + m / 60 + sec / 3600
    if value != value:  # NaN
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    return -value if str(ref).strip().upper() in ("S", "W") else value


def read_exif(image: Image.Image) -> ExifInfo:
    """Capture time and GPS position from EXIF, when present and sane; never raises.

    A capture time without a time-zone offset is read as China time (what a phone set to
    Beijing time writes).
    """
    info = ExifInfo()
    try:
        exif = image.getexif()
    except Exception:  # malformed EXIF must not refuse an otherwise good photo
        return info
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        text = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
        if isinstance(text, str) and text.strip():
            moment = datetime.strptime(text.strip()[:19], "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
            offset = sub.get(_OFFSET_TIME_ORIGINAL)
            tz = _CHINA
            if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
                sign = 1 if offset[0] == "+" else -1
                tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
            info.taken_at = moment.replace(tzinfo=tz)
    except (ValueError, TypeError, KeyError, AttributeError):
        info.taken_at = None
    try:
        gps = exif.get_ifd(_GPS_IFD)
        lat = _gps_degrees(gps.get(2), gps.get(1, "N")) if gps.get(2) else None
        lng = _gps_degrees(gps.get(4), gps.get(3, "E")) if gps.get(4) else None
        if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
            if not (lat == 0 and lng == 0):  # "no fix" written as zeros
                info.lat, info.lng = lat, lng
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return info


# --- perceptual hash ---------------------------------------------------------------------------


def _signed(value: int) -> int:
    """A 64-bit hash as a signed integer, so it fits a database bigint."""
    return value - (1 << 64) if value >= 1 << 63 else value


def dhash(image: Image.Image) -> int:
    """The 64-bit difference hash of a picture (signed): robust to scaling and re-encoding.

    Grey 9×8, then one bit per horizontally adjacent pair: is the left one brighter?
    """
    small = image.convert("L").resize((9, 8), Image.Resampling.BILINEAR)
    pixels = small.tobytes()  # one byte per pixel, row by row
    value = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            value = (value << 1) | (1 if left > right else 0)
    return _signed(value)


def dhash_rotations(image: Image.Image) -> list[int]:
    """The hash of the picture turned by 0, 90, 180 and 270 degrees (a photo sent again sideways
    is still the same photo)."""
    return [
        dhash(image if turn == 0 else image.rotate(turn, expand=True)) for turn in (0, 90, 180, 270)
    ]


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def hash_parts(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit parts of a 64-bit hash (for the multi-index near-duplicate look-up)."""
    unsigned = value & ((1 << 64) - 1)
    return tuple((unsigned >> shift) & 0xFFFF for shift in (48, 32, 16, 0))
