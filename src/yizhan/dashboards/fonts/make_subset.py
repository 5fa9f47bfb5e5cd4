"""Regenerate ``wqy-microhei-subset.ttf``, the CJK font the monthly brief (PDF) embeds.

Source: WenQuanYi Micro Hei 0.2.0-beta (Debian package ``fonts-wqy-microhei``; Apache-2.0 or
GPL-3+ with the font exception, see ``LICENSE-wqy-microhei.txt``). It is TrueType with ``glyf``
outlines, which reportlab can embed (it cannot embed CFF/OTF outlines).

The subset keeps ASCII, Latin-1, general punctuation, CJK symbols and punctuation, full-width
forms, every character of GB 2312 (its 6,763 hanzi and its symbol rows), and every other CJK
character found in the project's Chinese catalogue, the demo data and the dashboards code, so
that names like 䴔 never fall out. Run it from the repository root, with fontTools installed
(it is not a runtime dependency)::

    cd /tmp && apt-get download fonts-wqy-microhei && dpkg-deb -x fonts-wqy-microhei_*.deb wqy
    python -m venv /tmp/ftenv && /tmp/ftenv/bin/pip install fonttools
    /tmp/ftenv/bin/python src/yizhan/dashboards/fonts/make_subset.py \
        /tmp/wqy/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]  # the repository root
OUT = HERE / "wqy-microhei-subset.ttf"

#: Text files whose Chinese characters the brief may print.
SCANNED = [
    "src/yizhan/locale/zh_Hans/LC_MESSAGES/django.po",
    "src/yizhan/demo",
    "src/yizhan/dashboards",
    "src/yizhan/areas",
    "seeds",
]


def gb2312() -> set[int]:
    chars: set[int] = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                text = bytes([row, cell]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            chars.update(ord(c) for c in text)
    return chars


def scanned() -> set[int]:
    chars: set[int] = set()
    for name in SCANNED:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.exists() else []
        for file in files:
            if not file.is_file() or file.suffix not in {".po", ".py", ".html", ".json", ".md"}:
                continue
            text = file.read_text("utf-8", errors="ignore")
            chars.update(ord(c) for c in text if ord(c) >= 0x2E80)
    return chars


def codepoints() -> set[int]:
    keep = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    keep |= set(range(0x2000, 0x2070))  # general punctuation: — ‘ ’ “ ” … ‰
    keep |= set(range(0x2190, 0x2200))  # arrows: ↑ ↓ → (the brief's comparisons)
    keep |= set(range(0x3000, 0x3040))  # CJK symbols and punctuation: 、。《》「」【】
    keep |= set(range(0xFF00, 0xFFF0))  # full-width forms: ，：；（）！？
    keep |= {0x00B7, 0x2116, 0x2103, 0x00D7, 0x00F7, 0x2022, 0x25CF, 0x25A0, 0x2605}
    return keep | gb2312() | scanned()


def main(source: str) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=0)  # 0: Micro Hei; 1: Micro Hei Mono
    if "glyf" not in font:
        raise SystemExit("the source font has no glyf table (CFF outlines cannot be embedded)")
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # smaller; the PDF viewer rasterises at print resolution anyway
    options.drop_tables += ["DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints()))
    subsetter.subset(font)
    font.save(OUT)
    print(f"{OUT.name}: {len(font.getGlyphOrder())} glyphs, {OUT.stat().st_size:,} bytes")  # noqa: T201 (a command-line script)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
