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
    assert "JPEG、PNG、WebP 或 HEIC" in str(error.message)  # 简体中文, the default


def test_refuses_a_truncated_jpeg(phone_jpeg):
    small = jpeg_bytes(photo(800, 600))
    error = refused(upload(small[: len(small) // 2]))
    assert "已损坏" in str(error.message)


def test_refuses_a_decompression_bomb_from_its_header():
    data = png_claiming(100_000, 100_000)
    assert len(data) < 200
    error = refused(upload(data, "bomb.png", "image/png"))
    assert "太大" in str(error.message)
    # Below Pillow's own limit but above ours: refused before any pixel is decoded.
    with override_settings(IMAGE_MAX_PIXELS=1_000_000):
        refused(upload(png_claiming(2000, 1000), "big.png"))
    with pytest.raises(ApplicationError):
        open_checked(png_claiming(0, 10))


def test_refuses_a_file_over_the_size_limit():
    data = jpeg_bytes(photo(400, 300))
    with override_settings(IMAGE_MAX_BYTES=len(data) - 1):
        error = refused(upload(data))
        assert "太大" in str(error.message)
        # Also when the upload does not say its size (a plain stream).
        refused(io.BytesIO(data))
        refused(data, field="image")
    with override_settings(IMAGE_MAX_BYTES=len(data)):
        assert process_image(upload(data)).width == 400


def test_refuses_an_empty_file():
    error = refused(upload(b""))
    assert "为空" in str(error.message)
    refused(b"")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_refuses_other_formats(fmt):
    out = io.BytesIO()
    photo(50, 50).save(out, fmt)
    refused(upload(out.getvalue(), "a.img"))


def test_a_30000_by_30000_png_header_is_refused_before_decoding():
    data = png_claiming(30_000, 30_000)
    assert len(data) < 200
    error = refused(upload(data, "huge.png", "image/png"))
    assert "太大" in str(error.message)
    # Between Pillow's warning and its error (10,000²): refused all the same.
    refused(upload(png_claiming(10_000, 10_000), "big.png", "image/png"))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to claim ``width`` × ``height``."""
    data = bytearray(jpeg_bytes(photo(64, 48)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_a_30000_by_30000_jpeg_header_is_refused_before_decoding():
    data = jpeg_claiming(30_000, 30_000)
    assert Image.open(io.BytesIO(jpeg_claiming(300, 200))).size == (300, 200)  # the patch works
    error = refused(upload(data, "huge.jpg"))
    assert "太大" in str(error.message)


# --- EXIF read before it is stripped --------------------------------------------------------------

EXIF_IFD = 0x8769


def exif_of(**tags) -> Image.Exif:
    exif = Image.Exif()
    sub = {}
    if "taken" in tags:
        sub[0x9003] = tags["taken"]
    if "offset" in tags:
        sub[0x9011] = tags["offset"]
    if sub:
        exif[EXIF_IFD] = sub
    if "modified" in tags:
        exif[0x0132] = tags["modified"]
    if "gps" in tags:
        exif[GPS_IFD] = tags["gps"]
    return exif


def exif_read(exif: Image.Exif):
    return process_image(upload(jpeg_bytes(photo(80, 60), exif=exif)), sizes={"d": 80}).exif


def test_capture_time_with_its_offset_or_as_china_time():
    from datetime import datetime, timedelta, timezone

    info = exif_read(exif_of(taken="2026:05:01 08:30:00", offset="+09:00"))
    assert info.taken_at == datetime(2026, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=9)))
    china = timezone(timedelta(hours=8))
    info = exif_read(exif_of(taken="2026:05:01 08:30:00"))
    assert info.taken_at == datetime(2026, 5, 1, 8, 30, tzinfo=china)
    info = exif_read(exif_of(modified="2026:05:02 10:00:00"))  # no original: DateTime
    assert info.taken_at == datetime(2026, 5, 2, 10, 0, tzinfo=china)
    for garbage in ("0000:00:00 00:00:00", "yesterday", "   "):
        assert exif_read(exif_of(taken=garbage)).taken_at is None
    assert exif_read(Image.Exif()).taken_at is None


def test_gps_position_south_and_west_negative_and_no_fix_ignored():
    info = exif_read(exif_of(gps={1: "N", 2: (40.0, 5.0, 42.0), 3: "E", 4: (113.0, 18.0, 0.0)}))
    assert (round(info.lat, 6), round(info.lng, 6)) == (40.095, 113.3)
    info = exif_read(exif_of(gps={1: "S", 2: (33.0, 52.0, 0.0), 3: "W", 4: (151.0, 12.0, 0.0)}))
    assert info.lat == pytest.approx(-33.866667) and info.lng == pytest.approx(-151.2)
    zero = exif_read(exif_of(gps={1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}))
    assert (zero.lat, zero.lng) == (None, None)
    wild = exif_read(exif_of(gps={1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)}))
    assert (wild.lat, wild.lng) == (None, None)
    half = exif_read(exif_of(gps={1: "N", 2: (40.0, 5.0, 42.0)}))
    assert (half.lat, half.lng) == (None, None)


def test_the_phone_photo_exif_is_read_and_not_written(phone_jpeg):
    from datetime import datetime, timedelta, timezone

    result = process_image(upload(phone_jpeg), sizes={"thumb": 400})
    assert result.exif.taken_at == datetime(2026, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))
    assert result.exif.lat == pytest.approx(40 + 5 / 60 + 42.7 / 3600)
    assert result.exif.lng == pytest.approx(113 + 18 / 60 + 1 / 3600)
    assert_clean_jpeg(result.files["thumb"].read(), 400)


# --- perceptual hash ------------------------------------------------------------------------------


def smooth(seed: int, size=(240, 180)) -> Image.Image:
    import random

    rnd = random.Random(seed)
    small = Image.new("RGB", (12, 9))
    small.putdata([tuple(rnd.randrange(256) for _ in range(3)) for _ in range(108)])
    return small.resize(size, Image.Resampling.BILINEAR)


def test_dhash_survives_recompression_and_resizing_and_tells_pictures_apart():
    from yizhan.core.images import dhash, hamming

    image = smooth(1)
    out = io.BytesIO()
    image.resize((160, 120)).save(out, "JPEG", quality=50)
    again = Image.open(out)
    assert hamming(dhash(image), dhash(again)) <= 3
    assert hamming(dhash(image), dhash(smooth(2))) > 3
    value = dhash(image)
    assert -(1 << 63) <= value < (1 << 63)  # fits a signed bigint
    assert hamming(value, value) == 0 and hamming(0, -1) == 64


def test_the_rotations_are_the_hashes_of_the_turned_picture():
    from yizhan.core.images import dhash, dhash_rotations, hamming

    image = smooth(3)
    rotations = dhash_rotations(image)
    assert rotations[0] == dhash(image) and len(set(rotations)) == 4
    for index, turn in enumerate((0, 90, 180, 270)):
        assert hamming(rotations[index], dhash(image.rotate(turn, expand=True))) == 0
    # A photo sent again sideways: one of its rotations is the first photo's hash.
    sideways = process_image(upload(jpeg_bytes(image.rotate(90, expand=True))), sizes={"t": 400})
    upright = process_image(upload(jpeg_bytes(image)), sizes={"t": 400})
    assert min(hamming(upright.phash, r) for r in sideways.phash_rotations) <= 3
    assert hamming(upright.phash, sideways.phash) > 3


def test_hash_parts_split_the_unsigned_hash_in_four():
    from yizhan.core.images import hash_parts

    assert hash_parts(0x0123456789ABCDEF) == (0x0123, 0x4567, 0x89AB, 0xCDEF)
    assert hash_parts(-1) == (0xFFFF,) * 4


# --- HEIC (iPhone) --------------------------------------------------------------------------------


def heic_bytes(image: Image.Image, exif: Image.Exif | None = None) -> bytes:
    pytest.importorskip("pillow_heif")
    out = io.BytesIO()
    params = {"quality": 80}
    if exif is not None:
        params["exif"] = exif.tobytes()
    image.save(out, "HEIF", **params)
    return out.getvalue()


def test_an_iphone_heic_is_accepted_turned_upright_and_stripped():
    exif = exif_with_gps(6)
    exif[EXIF_IFD] = {0x9003: "2026:05:01 08:30:00", 0x9011: "+08:00"}
    data = heic_bytes(photo(400, 300), exif)
    source = Image.open(io.BytesIO(data))
    assert source.format == "HEIF" and source.getexif().get_ifd(GPS_IFD)
    result = process_image(upload(data, "IMG_0001.HEIC", "image/heic"), sizes={"d": 400})
    assert result.source_format == "HEIF"
    display = assert_clean_jpeg(result.files["d"].read(), 400)
    assert display.size == (300, 400)
    assert red_corner(display) == "top-right"
    assert result.exif.lat == pytest.approx(40 + 5 / 60 + 42.7 / 3600)
    assert result.exif.taken_at is not None and result.exif.taken_at.hour == 8


def test_a_truncated_heic_is_refused():
    data = heic_bytes(photo(200, 150))
    refused(upload(data[: len(data) // 2], "IMG_0002.HEIC", "image/heic"))
