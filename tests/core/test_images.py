"""core.images: what a phone uploads is decoded, turned upright, stripped and re-encoded.

Pure functions, no database. The pictures are made here with Pillow: a 12-megapixel JPEG with
EXIF (GPS included), an orientation tag, an XMP packet and a comment, as a phone writes them.
"""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, ImageDraw

from yizhan.core.errors import ApplicationError
from yizhan.core.images import open_checked, process_image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude='
    b'"40,5.712N"/></rdf:RDF></x:xmpmeta>'
)


def photo(width: int, height: int) -> Image.Image:
    """A picture whose top-left corner is red and the rest a blue-green gradient with noise,
    so orientation can be read back from the pixels."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    image = Image.merge("RGB", (Image.new("L", (width, height), 30), gradient, noise))
    ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=(255, 0, 0))
    return image


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:05:01 08:30:00"  # DateTime
    exif[GPS_IFD] = {1: "N", 2: (40.0, 5.0, 42.7), 3: "E", 4: (113.0, 18.0, 1.0)}
    return exif


def jpeg_bytes(image: Image.Image, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **params)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def assert_clean_jpeg(content: bytes, max_side: int) -> Image.Image:
    """The output is a JPEG with no metadata of any kind, within ``max_side``."""
    image = Image.open(io.BytesIO(content))
    assert image.format == "JPEG"
    assert max(image.size) <= max_side
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(GPS_IFD) == {}
    assert not {"exif", "xmp", "comment", "icc_profile", "photoshop"} & set(image.info)
    assert b"Exif" not in content[:4096] and b"xmpmeta" not in content and b"GPS" not in content
    assert b"PhoneMaker" not in content and b"secret" not in content
    image.load()
    return image


def is_red(pixel) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and g < 90 and b < 90


def red_corner(image: Image.Image) -> str:
    """Which corner of the picture is red."""
    w, h = image.size
    corners = {
        "top-left": (w // 16, h // 16),
        "top-right": (w - 1 - w // 16, h // 16),
        "bottom-left": (w // 16, h - 1 - h // 16),
        "bottom-right": (w - 1 - w // 16, h - 1 - h // 16),
    }
    red = [name for name, xy in corners.items() if is_red(image.getpixel(xy))]
    assert len(red) == 1, red
    return red[0]


@pytest.fixture(scope="module")
def phone_jpeg() -> bytes:
    """A 12-megapixel (4000×3000) JPEG as a phone writes it, held sideways (orientation 6:
    turn 90° clockwise to view), with GPS in EXIF and XMP and a comment."""
    return jpeg_bytes(photo(4000, 3000), exif=exif_with_gps(6), xmp=XMP, comment=b"secret place")


def test_a_phone_photo_comes_out_upright_and_without_any_metadata(phone_jpeg):
    # Given a 12-MP JPEG whose EXIF says "rotate 90° clockwise", with GPS in EXIF and XMP
    source = Image.open(io.BytesIO(phone_jpeg))
    assert source.getexif()[ORIENTATION] == 6 and source.getexif().get_ifd(GPS_IFD)
    assert "xmp" in source.info and source.info.get("comment") == b"secret place"
    # When it is processed
    result = process_image(upload(phone_jpeg), sizes={"display": 1600, "thumb": 400})
    # Then both sizes are clean JPEGs, upright: the sensor's top-left red corner is now top-right
    display = assert_clean_jpeg(result.files["display"].read(), 1600)
    thumb = assert_clean_jpeg(result.files["thumb"].read(), 400)
    assert display.size == (1200, 1600) and (result.width, result.height) == (1200, 1600)
    assert thumb.size == (300, 400)
    assert red_corner(display) == "top-right" and red_corner(thumb) == "top-right"
    assert result.source_format == "JPEG"
    assert result.files["display"].name == "display.jpg"


@pytest.mark.parametrize(
    ("orientation", "size", "corner"),
    [
        (1, (400, 300), "top-left"),
        (2, (400, 300), "top-right"),
        (3, (400, 300), "bottom-right"),
        (6, (300, 400), "top-right"),
        (8, (300, 400), "bottom-left"),
    ],
)
def test_every_orientation_is_turned_upright(orientation, size, corner):
    data = jpeg_bytes(photo(800, 600), exif=exif_with_gps(orientation))
    result = process_image(upload(data), sizes={"only": 400})
    image = assert_clean_jpeg(result.files["only"].read(), 400)
    assert image.size == size
    assert red_corner(image) == corner


def test_a_small_photo_is_not_enlarged():
    result = process_image(upload(jpeg_bytes(photo(320, 240))))
    display = assert_clean_jpeg(result.files["display"].read(), 1600)
    assert display.size == (320, 240) == (result.width, result.height)


def test_png_with_transparency_lands_on_white():
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 149, 99), fill=(255, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    result = process_image(upload(out.getvalue(), "a.png", "image/png"), sizes={"display": 300})
    display = assert_clean_jpeg(result.files["display"].read(), 300)
    assert display.size == (300, 200) and display.mode == "RGB"
    assert display.getpixel((250, 150)) >= (250, 250, 250)  # transparent → white
    assert red_corner(display) == "top-left"
    assert result.source_format == "PNG"


@pytest.mark.parametrize("mode", ["P", "L", "LA", "1", "CMYK"])
def test_other_picture_modes(mode):
    image = photo(200, 100).convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    out = io.BytesIO()
    image.save(out, fmt)
    result = process_image(upload(out.getvalue(), "a.png"), sizes={"display": 200})
    display = assert_clean_jpeg(result.files["display"].read(), 200)
    assert display.size == (200, 100) and display.mode == "RGB"


def test_webp_with_exif():
    out = io.BytesIO()
    photo(1000, 500).save(out, "WEBP", exif=exif_with_gps(3), quality=80)
    result = process_image(upload(out.getvalue(), "a.webp", "image/webp"), sizes={"d": 500})
    display = assert_clean_jpeg(result.files["d"].read(), 500)
    assert display.size == (500, 250)
    assert red_corner(display) == "bottom-right"  # orientation 3: turned half way round
    assert result.source_format == "WEBP"


# --- refused --------------------------------------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width`` × ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def refused(data, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        process_image(data, **kwargs)
    error = caught.value
    assert error.code == "invalid_image" and error.status == 400
    assert error.field == kwargs.get("field", "photo")
    assert str(error.message).strip()
    return error


def test_refuses_a_text_file():
    error = refused(upload(b"just some text, not a picture\n" * 10, "notes.jpg"))
    assert "JPEG, PNG, WebP or HEIC" in str(error.message)


def test_refuses_a_truncated_jpeg(phone_jpeg):
    small = jpeg_bytes(photo(800, 600))
    error = refused(upload(small[: len(small) // 2]))
    assert "damaged" in str(error.message)


def test_refuses_a_decompression_bomb_from_its_header():
    data = png_claiming(100_000, 100_000)
    assert len(data) < 200
    error = refused(upload(data, "bomb.png", "image/png"))
    assert "too large" in str(error.message)
    # Below Pillow's own limit but above ours: refused before any pixel is decoded.
    with override_settings(IMAGE_MAX_PIXELS=1_000_000):
        refused(upload(png_claiming(2000, 1000), "big.png"))
    with pytest.raises(ApplicationError):
        open_checked(png_claiming(0, 10))


def test_refuses_a_file_over_the_size_limit():
    data = jpeg_bytes(photo(400, 300))
    with override_settings(IMAGE_MAX_BYTES=len(data) - 1):
        error = refused(upload(data))
        assert "too large" in str(error.message)
        # Also when the upload does not say its size (a plain stream).
        refused(io.BytesIO(data))
        refused(data, field="image")
    with override_settings(IMAGE_MAX_BYTES=len(data)):
        assert process_image(upload(data)).width == 400


def test_refuses_an_empty_file():
    error = refused(upload(b""))
    assert "empty" in str(error.message)
    refused(b"")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_refuses_other_formats(fmt):
    out = io.BytesIO()
    photo(50, 50).save(out, fmt)
    refused(upload(out.getvalue(), "a.img"))
