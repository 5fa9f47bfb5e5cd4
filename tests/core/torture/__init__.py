"""The upload torture corpus: files an attacker (or a broken phone) sends instead of a photo.

Made here with Pillow and a few bytes of hand-written headers, never stored as binary blobs: the
generator is the documentation of what each file is. ``CORPUS`` maps a name to a function that
returns a fresh ``SimpleUploadedFile`` (an upload can be read only once). Every one of them must
be refused by every upload endpoint with a 4xx and a readable message, and leave no file and no
row behind (``tests/core/test_upload_torture.py``).

Run ``python -m tests.core.torture DIR`` to write the corpus to DIR (to try it by hand with curl).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def _jpeg(width: int = 64, height: int = 48, **params) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "JPEG", quality=90, **params)
    return out.getvalue()


def _png(width: int = 32, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_with(*chunks: bytes, width: int = 1, height: int = 1) -> bytes:
    """A PNG whose IHDR says ``width``×``height``, the given chunks, one tiny IDAT, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = height if width * height <= 4096 else 1  # a bomb's pixels are never read
    idat = zlib.compress((b"\x00" + b"\x00\x00\x00" * width) * rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + b"".join(chunks)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    """A real JPEG cut off in the middle of its picture data."""
    import random

    rng = random.Random(7)
    image = Image.frombytes("RGB", (256, 256), bytes(rng.randrange(256) for _ in range(256 * 768)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    data = out.getvalue()
    return data[: len(data) // 2]


def jpeg_zip_polyglot() -> bytes:
    """A JPEG that is also a ZIP archive (the archive appended after the picture's end)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return _jpeg() + archive.getvalue()


def png_html_polyglot() -> bytes:
    """A PNG that a browser sniffing the content would render as HTML (a script in a text
    chunk and after the end of the picture)."""
    html = b"<html><script>alert(document.cookie)</script></html>"
    data = _png()
    head, end = data[:33], data[33:]  # signature + IHDR, then the rest
    return head + _chunk(b"tEXt", b"Comment\x00" + html) + end + html


def png_dimension_bomb() -> bytes:
    """A small PNG whose header claims 100,000 × 100,000 pixels (a decompression bomb)."""
    return _png_with(width=100_000, height=100_000)


def png_just_over_limit() -> bytes:
    """A PNG whose header claims 9,000 × 9,000 = 81 megapixels (over IMAGE_MAX_PIXELS, under
    Pillow's own bomb limit twice over)."""
    return _png_with(width=9_000, height=9_000)


def gif_bomb() -> bytes:
    """A GIF with a 65,535 × 65,535 logical screen and a frame as large (GIF is not accepted, and
    its size alone is a bomb)."""
    header = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0)
    data = b"\x02\x02\x44\x01\x00"  # LZW minimum code size 2, one tiny sub-block
    return header + frame + data + b"\x3b"


def broken_heic() -> bytes:
    """An HEIC file: a correct ``ftyp`` box naming ``heic``, then garbage where the boxes go."""
    ftyp = b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    box = struct.pack(">I", 8 + len(ftyp) - 4) + ftyp
    return box + b"\x00\x00\x10\x00meta" + bytes(range(256)) * 16


def giant_exif_png() -> bytes:
    """A PNG with a 4 MB ``eXIf`` chunk (a camera writes at most 64 KB of EXIF)."""
    ifd = b"MM\x00*\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x0f\x00\x02\x00\x00\x00\x04ABC\x00"
    return _png_with(_chunk(b"eXIf", ifd + b"\x00" * (4 * 1024 * 1024)), width=8, height=8)


def giant_text_png() -> bytes:
    """A PNG with a compressed text chunk that inflates to 64 MB (a zTXt bomb)."""
    bomb = zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    return _png_with(_chunk(b"zTXt", b"Comment\x00\x00" + bomb), width=8, height=8)


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.domain)</script><rect width='10' height='10'/></svg>"
    )


def html_as_jpeg() -> bytes:
    """A web page with a .jpg name and an image/jpeg type (wrong extension and MIME)."""
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def pdf_as_png() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def only_a_jpeg_header() -> bytes:
    """The first 200 bytes of a JPEG: the headers and no picture."""
    return _jpeg()[:200]


#: name → (file name, content type, bytes). Every one must be refused with a 4xx.
FILES: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "zero_byte": ("empty.jpg", "image/jpeg", lambda: b""),
    "truncated_jpeg": ("cut.jpg", "image/jpeg", truncated_jpeg),
    "jpeg_header_only": ("header.jpg", "image/jpeg", only_a_jpeg_header),
    "jpeg_zip_polyglot": ("poly.jpg", "image/jpeg", jpeg_zip_polyglot),
    "png_html_polyglot": ("poly.png", "image/png", png_html_polyglot),
    "png_dimension_bomb": ("bomb.png", "image/png", png_dimension_bomb),
    "png_over_pixel_limit": ("big.png", "image/png", png_just_over_limit),
    "gif_bomb": ("bomb.gif", "image/gif", gif_bomb),
    "broken_heic": ("broken.heic", "image/heic", broken_heic),
    "giant_exif_png": ("exif.png", "image/png", giant_exif_png),
    "ztxt_bomb_png": ("text.png", "image/png", giant_text_png),
    "svg_with_script": ("evil.svg", "image/svg+xml", svg_with_script),
    "html_as_jpeg": ("page.jpg", "image/jpeg", html_as_jpeg),
    "pdf_as_png": ("doc.png", "image/png", pdf_as_png),
}


def upload(name: str) -> SimpleUploadedFile:
    filename, content_type, make = FILES[name]
    return SimpleUploadedFile(filename, make(), content_type=content_type)


CORPUS = sorted(FILES)


def write(directory: str) -> None:  # pragma: no cover - a tool for trying the corpus by hand
    from pathlib import Path

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (filename, _type, make) in FILES.items():
        (folder / f"{name}-{filename}").write_bytes(make())
