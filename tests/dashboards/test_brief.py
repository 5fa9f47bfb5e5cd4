"""The monthly brief: a PDF whose Chinese text is really there (extracted with pypdf), an honest
empty brief for a month with no data, and the scheduled job storing last month's briefs."""

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.dashboards.test_exports import chinese_catalogue, sample_data  # noqa: F401
from yizhan.dashboards import brief


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_the_brief_embeds_the_cjk_font_and_its_chinese_text_extracts():
    pdf = brief.render_brief(sample_data())
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("WenQuanYiMicroHei" in f for f in fonts), fonts
    text = text_of(pdf)
    for expected in ("月度简报", "测试区 / 甲街道", "2026年4月", "主要指标", "王*明", "甲一社区",
                     "消防通道堵塞", "和平路12号", "超期隐患", "诉求", "骑手积分排行"):  # fmt: skip
        assert expected in text, expected
    assert "109" in text and "137" in text


def test_a_month_with_no_data_is_an_honest_empty_brief():
    data = sample_data(empty=True)
    assert data.is_empty
    text = text_of(brief.render_brief(data))
    assert "本月没有数据" in text
    assert "没有超期的上报" in text


def test_the_font_subset_is_small_and_covers_gb2312():
    from reportlab.pdfbase.ttfonts import TTFontFile

    assert brief.FONT_FILE.stat().st_size < 4_000_000
    cmap = TTFontFile(str(brief.FONT_FILE)).charToGlyph
    gb2312 = {bytes([row, cell]).decode("gb2312") for row in (0xB0, 0xD7, 0xF7)
              for cell in range(0xA1, 0xFA)}  # fmt: skip
    assert all(ord(ch) in cmap for ch in "清远骑士驿站爱心角随手拍诉求直通车，。（）、↑↓")
    assert all(ord(ch) in cmap for ch in gb2312)


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_stored_briefs_are_listed_newest_first_and_paths_are_never_built_from_input(media):
    folder = media / "briefs" / "440000001"
    folder.mkdir(parents=True)
    for name in ("2026-03.pdf", "2026-04.pdf", "notes.txt", ".brief-x.tmp"):
        (folder / name).write_bytes(b"%PDF")
    assert brief.stored_months("440000001") == ["2026-04", "2026-03"]
    assert brief.stored_months("../etc") == []
    assert brief.stored_path("440000001", "../../x") is None
    assert brief.stored_path("44/../1", "2026-04") is None
    assert brief.stored_path("440000001", "2026-04") == folder / "2026-04.pdf"


def test_write_atomic_leaves_no_temporary_file(media):
    target = media / "briefs" / "440000001" / "2026-04.pdf"
    brief.write_atomic(target, b"%PDF-1.4 brief")
    assert target.read_bytes() == b"%PDF-1.4 brief"
    assert os.listdir(target.parent) == ["2026-04.pdf"]


def test_last_month():
    assert brief.last_month(dt.date(2026, 1, 3)) == dt.date(2025, 12, 1)
    assert brief.last_month(dt.date(2026, 5, 31)) == dt.date(2026, 4, 1)


def _fake_brief(calls):
    def make(*, area, month):
        calls.append((area.code, month))
        return b"%PDF-1.4 " + area.code.encode()

    return make


@pytest.mark.django_db
def test_the_job_stores_last_months_brief_of_every_street_once(world, media, monkeypatch):
    calls = []
    monkeypatch.setattr(brief, "brief_pdf", _fake_brief(calls))
    assert brief.monthly_briefs(today=dt.date(2026, 5, 9)) == ""  # not in the first days
    assert calls == []
    done = brief.monthly_briefs(today=dt.date(2026, 5, 2))
    assert done == "2 monthly briefs stored for 2026-04"
    assert sorted(calls) == [("440000001", dt.date(2026, 4, 1)), ("440000002", dt.date(2026, 4, 1))]
    assert (media / "briefs" / "440000001" / "2026-04.pdf").read_bytes() == b"%PDF-1.4 440000001"
    assert brief.monthly_briefs(today=dt.date(2026, 5, 3)) == ""  # already there: kept
    assert len(calls) == 2


@pytest.mark.django_db
def test_one_street_failing_does_not_stop_the_others(world, media, monkeypatch):
    def make(*, area, month):
        if area.code == "440000001":
            raise RuntimeError("boom")
        return b"%PDF"

    monkeypatch.setattr(brief, "brief_pdf", make)
    assert brief.monthly_briefs(today=dt.date(2026, 5, 1)) == (
        "1 monthly briefs stored for 2026-04, 1 failed"
    )
    assert not (media / "briefs" / "440000001").exists() or not any(
        Path(media / "briefs" / "440000001").iterdir()
    )
    assert (media / "briefs" / "440000002" / "2026-04.pdf").exists()
