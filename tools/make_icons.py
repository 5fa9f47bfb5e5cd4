"""Draws the app icons of the web app manifest (run once; the PNGs are committed).

    .venv/bin/python tools/make_icons.py

The glyph 驿 in white on the brand red, from the WenQuanYi Micro Hei subset the dashboards'
PDF briefs use. "any" icons are rounded squares; the "maskable" one fills the square and keeps
the glyph inside the safe zone (the middle 80 %), since a launcher cuts it to its own shape.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1] / "src" / "yizhan"
HERE = ROOT / "core" / "static" / "yizhan" / "icons"
FONT = ROOT / "dashboards" / "fonts" / "wqy-microhei-subset.ttf"
BRAND = (180, 35, 24, 255)


def icon(size: int, *, maskable: bool) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, size, size), fill=BRAND)
        glyph = int(size * 0.5)
    else:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.22, fill=BRAND)
        glyph = int(size * 0.62)
    font = ImageFont.truetype(str(FONT), glyph)
    draw.text((size / 2, size / 2), "驿", font=font, fill="white", anchor="mm")
    return image


if __name__ == "__main__":
    for size in (192, 512):
        icon(size, maskable=False).save(HERE / f"icon-{size}.png", optimize=True)
    icon(512, maskable=True).save(HERE / "icon-maskable-512.png", optimize=True)
    icon(180, maskable=True).convert("RGB").save(HERE / "apple-touch-icon.png", optimize=True)
