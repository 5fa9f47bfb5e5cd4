"""The monthly brief: a PDF whose Chinese text is really there (extracted with pypdf), an honest
empty brief for a month with no data, and the scheduled job storing last month's briefs."""

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
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
    """MEDIA_ROOT in a temporary folder; the private storage (where briefs go) beside it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = ""
    return tmp_path / "media"


@pytest.fixture
def private(media):
    """The private folder the briefs are stored in (``<MEDIA_ROOT>-private``)."""
    return media.with_name("media-private")


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_stored_briefs_are_listed_newest_first_and_names_are_never_built_from_input(private):
    folder = private / "briefs" / "440000001"
    folder.mkdir(parents=True)
    for name in ("2026-03.pdf", "2026-04.pdf", "notes.txt", ".brief-x.tmp", "2026-4.pdf"):
        (folder / name).write_bytes(b"%PDF")
    assert brief.stored_months("440000001") == ["2026-04", "2026-03"]
    assert brief.stored_months("440000009") == []  # no folder at all
    assert brief.stored_months("../etc") == []
    assert brief.stored_name("440000001", "../../x") is None
    assert brief.stored_name("44/../1", "2026-04") is None
    assert brief.stored_name("440000001\n", "2026-04") is None
    assert brief.stored_name("440000001", "2026-04\n") is None
    assert brief.stored_name("440000001", "2026-04") == "briefs/440000001/2026-04.pdf"
    assert brief.open_stored("440000001", "../../x") is None
    assert brief.open_stored("440000001", "2026-02") is None
    with brief.open_stored("440000001", "2026-04") as stored:
        assert stored.read() == b"%PDF"
    with pytest.raises(ValueError):
        brief.store_brief("../etc", "2026-04", b"%PDF")


def test_a_brief_is_stored_in_the_private_storage_whole_and_not_under_media_root(media, private):
    assert brief.store_brief("440000001", "2026-04", b"%PDF-1.4 brief") == (
        "briefs/440000001/2026-04.pdf"
    )
    # Renamed into place: no temporary file is left beside it, nothing is under MEDIA_ROOT.
    assert files_under(private) == ["briefs/440000001/2026-04.pdf"]
    assert (private / "briefs" / "440000001" / "2026-04.pdf").read_bytes() == b"%PDF-1.4 brief"
    assert not media.exists() or files_under(media) == []
    # Storing the month again replaces it whole (the job never does: it keeps an existing one).
    brief.store_brief("440000001", "2026-04", b"%PDF-1.4 again")
    assert files_under(private) == ["briefs/440000001/2026-04.pdf"]
    with brief.open_stored("440000001", "2026-04") as stored:
        assert stored.read() == b"%PDF-1.4 again"
    brief.delete_stored("440000001", "2026-04")
    assert brief.stored_months("440000001") == []


def test_write_atomic_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "briefs" / "440000001" / "2026-04.pdf"
    brief.write_atomic(target, b"%PDF-1.4 brief", mode=0o640)
    assert target.read_bytes() == b"%PDF-1.4 brief"
    assert os.listdir(target.parent) == ["2026-04.pdf"]
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "briefs" / "440000001" / "2026-04.pdf"

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        brief.write_atomic(target, b"%PDF-1.4 brief")
    assert os.listdir(target.parent) == []


def test_briefs_under_media_root_are_moved_to_the_private_storage(media, private):
    old = media / "briefs" / "440000001"
    old.mkdir(parents=True)
    (old / "2026-03.pdf").write_bytes(b"%PDF-1.4 old March")
    (old / "2026-04.pdf").write_bytes(b"%PDF-1.4 old April")
    (old / "notes.txt").write_bytes(b"not a brief")
    (media / "briefs" / "440000002").mkdir()
    (media / "briefs" / "440000002" / "2026-04.pdf").write_bytes(b"%PDF-1.4 old B")
    brief.store_brief("440000001", "2026-04", b"%PDF-1.4 stored April")
    out = io.StringIO()
    call_command("move_briefs", stdout=out)
    assert out.getvalue().strip() == (
        "2 briefs moved to the private storage, 1 already there (local copy removed)"
    )
    assert files_under(private) == [
        "briefs/440000001/2026-03.pdf",
        "briefs/440000001/2026-04.pdf",
        "briefs/440000002/2026-04.pdf",
    ]
    with brief.open_stored("440000001", "2026-04") as stored:  # the stored one was kept
        assert stored.read() == b"%PDF-1.4 stored April"
    with brief.open_stored("440000001", "2026-03") as stored:
        assert stored.read() == b"%PDF-1.4 old March"
    assert files_under(media) == ["briefs/440000001/notes.txt"]  # not a brief: left alone
    assert not (media / "briefs" / "440000002").exists()
    assert brief.move_media_briefs() == (0, 0)  # again: nothing to do


def test_last_month():
    assert brief.last_month(dt.date(2026, 1, 3)) == dt.date(2025, 12, 1)
    assert brief.last_month(dt.date(2026, 5, 31)) == dt.date(2026, 4, 1)


def _fake_brief(calls):
    def make(*, area, month):
        calls.append((area.code, month))
        return b"%PDF-1.4 " + area.code.encode()

    return make


@pytest.mark.django_db
def test_the_job_stores_last_months_brief_of_every_street_once(world, media, private, monkeypatch):
    calls = []
    monkeypatch.setattr(brief, "brief_pdf", _fake_brief(calls))
    assert brief.monthly_briefs(today=dt.date(2026, 5, 9)) == ""  # not in the first days
    assert calls == []
    done = brief.monthly_briefs(today=dt.date(2026, 5, 2))
    assert done == "2 monthly briefs stored for 2026-04"
    assert sorted(calls) == [("440000001", dt.date(2026, 4, 1)), ("440000002", dt.date(2026, 4, 1))]
    assert files_under(private) == ["briefs/440000001/2026-04.pdf", "briefs/440000002/2026-04.pdf"]
    assert (private / "briefs" / "440000001" / "2026-04.pdf").read_bytes() == b"%PDF-1.4 440000001"
    assert not media.exists() or files_under(media) == []
    assert brief.stored_months("440000001") == ["2026-04"]
    assert brief.monthly_briefs(today=dt.date(2026, 5, 3)) == ""  # already there: kept
    assert len(calls) == 2
    # A missing month is made again on the next run of the first days (or with force).
    brief.delete_stored("440000002", "2026-04")
    assert brief.monthly_briefs(today=dt.date(2026, 5, 20), force=True) == (
        "1 monthly briefs stored for 2026-04"
    )
    assert calls[-1] == ("440000002", dt.date(2026, 4, 1))


@pytest.mark.django_db
def test_one_street_failing_does_not_stop_the_others(world, media, private, monkeypatch):
    def make(*, area, month):
        if area.code == "440000001":
            raise RuntimeError("boom")
        return b"%PDF"

    monkeypatch.setattr(brief, "brief_pdf", make)
    assert brief.monthly_briefs(today=dt.date(2026, 5, 1)) == (
        "1 monthly briefs stored for 2026-04, 1 failed"
    )
    assert files_under(private) == ["briefs/440000002/2026-04.pdf"]
