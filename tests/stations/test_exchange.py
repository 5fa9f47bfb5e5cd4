"""The station import and export (``stations.exchange``), with real .xlsx and CSV files.

Given a world (community A1's staff import into A1; A2 is out of their scope), when a file is
imported, then the report says exactly which rows were created, updated or left unchanged and
which were refused (row number, column, message); a refused import leaves the registry and the
audit log as they were.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import translation
from openpyxl import load_workbook
from PIL import Image

from tests.stations.exchange_helpers import (
    HEADER,
    KEYS,
    csv_file,
    registry,
    row,
    snapshot,
    stations,
    xlsx,
)
from yizhan.core.errors import ApplicationError, Unauthenticated
from yizhan.core.geo import wgs84_to_gcj02
from yizhan.core.models import AuditEntry
from yizhan.stations import exchange
from yizhan.stations.exchange import (
    COLUMNS,
    RowError,
    export_stations,
    import_stations,
    template_file,
)
from yizhan.stations.models import Station


@pytest.fixture(autouse=True)
def english():
    """Messages are translated (Chinese by default); these tests read the English msgids."""
    with translation.override("en"):
        yield


def errors_of(report) -> list[tuple[int, str]]:
    return [(e.row_number, e.column) for e in report.errors]


# --- round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_into_an_empty_registry_reproduces_every_field(world, fmt):
    with transaction.atomic():
        registry(world)
        data = export_stations(Station.objects.order_by("ref"), fmt)
        before = stations()
        transaction.set_rollback(True)
    assert Station.objects.count() == 0

    report = import_stations(data, actor=world.street_admin)

    assert report.ok and report.committed
    assert (report.fmt, report.rows, report.created, report.updated, report.unchanged) == (
        fmt, 3, 3, 0, 0,
    )  # fmt: skip
    assert stations() == before


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_importing_an_export_again_changes_nothing(world, fmt):
    registry(world)
    data = export_stations(Station.objects.all(), fmt)
    before = snapshot()

    report = import_stations(data, actor=world.street_admin)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 3, [])
    assert snapshot() == before  # not even an audit entry


def test_an_edited_export_updates_by_reference(world):
    made = registry(world)
    workbook = load_workbook(io.BytesIO(export_stations(Station.objects.order_by("ref"), "xlsx")))
    sheet = workbook.active
    assert sheet["A2"].value == "A1-001"
    sheet.cell(row=2, column=KEYS.index("name") + 1, value="甲一小哥驿站（新址）")
    sheet.cell(row=2, column=KEYS.index("status") + 1, value="开放")
    sheet.cell(row=3, column=KEYS.index("services") + 1, value="")  # clears the services
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = import_stations(buffer.getvalue(), actor=world.street_admin)

    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    first = Station.objects.get(pk=made["first"].pk)
    assert (first.name, first.status) == ("甲一小哥驿站（新址）", "open")
    assert first.hours == made["first"].hours  # a column left as it was stays as it was
    assert Station.objects.get(pk=made["corner"].pk).services_mask == 0
    entry = AuditEntry.objects.filter(action="station.updated", target_id=str(first.pk)).last()
    assert entry.actor == world.street_admin
    assert entry.data["after"]["name"] == "甲一小哥驿站（新址）"


# --- stations without a reference ---------------------------------------------------------------


def no_ref_stations(world) -> tuple[Station, Station]:
    """Two stations registered on the console, without a reference: one in A1, one in A2."""
    mine = exchange.station_create(
        name="无编号驿站", kind="rider_station", community=world.community_a1, lat=40.0952,
        lng=113.3061, actor=world.community_staff, services=["rest"], hours="24小时",
    )  # fmt: skip
    theirs = exchange.station_create(
        name="别处驿站", kind="corner", community=world.community_a2, lat=40.095, lng=113.33,
        actor=world.other_community_staff,
    )  # fmt: skip
    return mine, theirs


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_station_without_a_reference_is_exported_by_number_and_reimports_as_itself(world, fmt):
    made = registry(world)
    mine, _theirs = no_ref_stations(world)
    data = export_stations(Station.objects.filter(area_code__startswith="440000001001"), fmt)
    sheet = read(data, fmt)
    assert sorted(r[0] for r in sheet[1:]) == [f"#{mine.pk}", "A1-001", "A1-002"]
    before = snapshot()

    report = import_stations(data, actor=world.community_staff)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 3, [])
    assert snapshot() == before  # no copy of the station without a reference
    assert Station.objects.get(pk=mine.pk).ref == ""  # and it still has none
    assert made["first"].pk != mine.pk


def test_an_edited_row_with_a_number_updates_that_station(world):
    mine, _theirs = no_ref_stations(world)
    data = xlsx([row(ref=f"#{mine.pk}", name="无编号驿站（新址）", services="饮水")])

    report = import_stations(data, actor=world.community_staff)

    assert (report.created, report.updated, report.errors) == (0, 1, [])
    mine.refresh_from_db()
    assert (mine.name, mine.ref, exchange.service_codes(mine.services_mask)) == (
        "无编号驿站（新址）", "", ["water"],
    )  # fmt: skip
    assert Station.objects.count() == 2
    entry = AuditEntry.objects.filter(action="station.updated", target_id=str(mine.pk)).get()
    assert entry.actor == world.community_staff


def test_a_number_the_importer_may_not_operate_is_a_row_error(world):
    mine, theirs = no_ref_stations(world)
    data = xlsx([row(name="好一"), row(ref=f"#{theirs.pk}", community="440000001002",
                                         lng=113.33, name="改别人的")])  # fmt: skip
    before = snapshot()

    report = import_stations(data, actor=world.community_staff)

    assert errors_of(report) == [(3, "ref")]
    assert report.errors[0].message == f"You may not change the station #{theirs.pk}."
    assert snapshot() == before
    # With the rows kept that can be, the other community's station is still not touched.
    report = import_stations(data, actor=world.community_staff, all_or_nothing=False)
    assert (report.created, report.updated, errors_of(report)) == (1, 0, [(3, "ref")])
    assert Station.objects.get(pk=theirs.pk).name == "别处驿站"
    # The street's admin runs both communities: the same row updates it.
    report = import_stations(xlsx([row(ref=f"#{theirs.pk}", community="440000001002",
                                       lng=113.33, name="改别人的", kind="爱心角")]),
                             actor=world.street_admin)  # fmt: skip
    assert (report.updated, report.errors) == (1, [])
    assert Station.objects.get(pk=theirs.pk).name == "改别人的"


@pytest.mark.parametrize("ref", ["#999999", "#", "#12a", "# 12"])
def test_a_number_that_names_no_station_is_a_row_error(world, ref):
    no_ref_stations(world)
    before = snapshot()
    report = import_stations(xlsx([row(ref=ref)]), actor=world.community_staff)
    assert errors_of(report) == [(2, "ref")]
    assert "leave the reference empty" in report.errors[0].message
    assert snapshot() == before


def test_a_station_by_number_and_by_reference_in_one_file(world):
    made = registry(world)
    first = made["first"]
    data = xlsx([row(ref="A1-001", name="甲"), row(ref=f"#{first.pk}", name="乙")])
    before = snapshot()
    report = import_stations(data, actor=world.street_admin)
    assert errors_of(report) == [(3, "ref")]
    assert report.errors[0].message == f"This station (#{first.pk}) is also on row 2."
    assert snapshot() == before


def test_an_export_by_number_into_an_empty_registry_says_how_to_add_them(world):
    with transaction.atomic():
        mine, _theirs = no_ref_stations(world)
        data = export_stations(Station.objects.filter(pk=mine.pk), "csv")
        transaction.set_rollback(True)
    report = import_stations(data, actor=world.community_staff)
    assert errors_of(report) == [(2, "ref")] and Station.objects.count() == 0


def read(data: bytes, fmt: str) -> list[list]:
    if fmt == "xlsx":
        return [[c.value for c in r] for r in load_workbook(io.BytesIO(data)).active.iter_rows()]
    return [line.split(",") for line in data.decode("utf-8-sig").splitlines()]


def test_export_format(world):
    made = registry(world)
    data = export_stations(Station.objects.order_by("ref"), "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active

    assert [c.value for c in sheet[1]] == HEADER
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 20  # 名称 is sized for names
    first = [c.value for c in sheet[2]]
    assert dict(zip(KEYS, first, strict=True)) == {
        "ref": "A1-001",
        "name": "甲一小哥驿站",
        "kind": "小哥驿站",
        "community": "440000001001",
        "address": "甲一路 1 号",
        "lat": 40.0951234,
        "lng": 113.3052345,
        "crs": "wgs84",
        "services": "休息、饮水、手机充电、电动车充电换电",
        "hours": "周一至周五 08:00-20:00；周六、周日 09:00-12:00,14:00-18:00",
        "exceptions": exchange.hours_module.format_exceptions(made["first"].opening_hours),
        "zones": "党建、休息、补给",
        "host_name": "甲一社区党委",
        "contact_name": "李四",
        "contact_phone": "0352-7654321",
        "description": "休息、饮水、充电",
        "status": "暂停",
    }
    # Numbers are numbers; codes are text (Excel must not turn them into 4.4E+11).
    assert isinstance(sheet.cell(row=2, column=6).value, float)
    assert sheet.cell(row=2, column=4).data_type == "s"
    # A name starting with "=" is text, not a formula.
    corner = sheet.cell(row=3, column=2)
    assert (corner.value, corner.data_type) == ("=小店爱心角", "s")


def test_csv_export_has_a_bom_and_guards_formulas(world):
    registry(world)
    data = export_stations(Station.objects.order_by("ref"), "csv")

    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(HEADER)
    assert len(lines) == 4
    assert ",'=小店爱心角," in lines[2]  # Excel shows it, does not run it
    assert ",'+86 13812341234," in lines[2]
    assert ",40.096,113.315," in lines[2]


def test_export_of_nothing_is_just_the_header(db):
    sheet = load_workbook(io.BytesIO(export_stations(Station.objects.none(), "xlsx"))).active
    assert [[c.value for c in r] for r in sheet.iter_rows()] == [HEADER]


def test_unknown_export_format(db):
    with pytest.raises(ApplicationError) as exc:
        export_stations(Station.objects.none(), "pdf")
    assert exc.value.code == "invalid_format"


# --- the template --------------------------------------------------------------------------------


def test_xlsx_template_has_the_columns_an_example_and_the_notes(world):
    data = template_file("xlsx", community=world.community_a1)
    workbook = load_workbook(io.BytesIO(data))

    assert workbook.sheetnames == ["驿站", "说明"]
    sheet = workbook["驿站"]
    assert [c.value for c in sheet[1]] == HEADER
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 2
    example = dict(zip(KEYS, [c.value for c in sheet[2]], strict=True))
    assert example["community"] == "440000001001"
    notes = "\n".join(
        " ".join(str(v) for v in r if v is not None)
        for r in workbook["说明"].iter_rows(values_only=True)
    )
    for column in COLUMNS:
        assert column.header in notes
    for name in (
        "小哥驿站",
        "党群服务站",
        "工会驿站",
        "爱心角",
        "手机充电",
        "电动车充电换电",
        "打气",
    ):
        assert name in notes
    kinds = [v for v in sheet.data_validations.dataValidation if "小哥驿站" in v.formula1]
    assert len(kinds) == 1


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_templates_example_row_imports(world, fmt):
    data = template_file(fmt, community=world.community_a1)
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")

    report = import_stations(data, actor=world.community_staff)

    assert (report.created, report.errors) == (1, [])
    station = Station.objects.get(ref="QY-0001")
    assert (station.name, station.kind, station.community) == (
        "清远西街小哥驿站", "rider_station", world.community_a1,
    )  # fmt: skip
    assert station.opening_hours.week[5] == ((9 * 60, 18 * 60),)
    assert station.zones == ["rest", "supply"]


def test_the_default_template_points_at_the_demo_street(db):
    sheet = load_workbook(io.BytesIO(template_file("xlsx"))).active
    example = dict(zip(KEYS, [c.value for c in sheet[2]], strict=True))
    assert (example["community"], example["lat"], example["lng"]) == (
        "140213055001", 40.0925, 113.278,
    )  # fmt: skip


# --- reading files -------------------------------------------------------------------------------


def test_csv_in_gb18030_as_excel_saves_it_on_chinese_windows(world):
    data = csv_file([row(name="甲一驿站（国标编码）")], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    report = import_stations(data, actor=world.community_staff)

    assert (report.fmt, report.created) == ("csv", 1)
    assert Station.objects.get().name == "甲一驿站（国标编码）"


def test_csv_without_a_bom_and_with_tabs(world):
    text = "\r\n".join(["\t".join(HEADER), "\t".join(str(v) for v in row(name="制表符"))])
    report = import_stations(text.encode("utf-8"), actor=world.community_staff)
    assert (report.created, report.errors) == (1, [])
    assert Station.objects.get().name == "制表符"


def test_unicode_text_as_excel_saves_it(world):
    text = "\r\n".join(["\t".join(HEADER), "\t".join(str(v) for v in row(name="统一码"))])
    report = import_stations(text.encode("utf-16"), actor=world.community_staff)
    assert (report.created, report.errors) == (1, [])
    assert Station.objects.get().name == "统一码"


def test_the_docs_list_every_column():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "stations-import.md").read_text()
    for column in COLUMNS:
        mark = "✓" if column.required else ""
        assert f"| {column.header} | `{column.key}` | {mark} |".replace("|  |", "| |") in docs


def test_english_headers_and_only_the_required_columns(world):
    data = xlsx(
        [["甲一驿站", "rider_station", "440000001001", "40.095", "113.305", "随便写"]],
        header=["Name", "kind", "COMMUNITY", "latitude", " lng* ", "备注"],
    )
    report = import_stations(data, actor=world.community_staff)
    assert (report.created, report.errors, report.ignored_columns) == (1, [], ["备注"])
    station = Station.objects.get()
    assert (station.status, station.services_mask, station.hours) == ("open", 0, {})


def test_numbers_typed_as_numbers_in_excel(world):
    data = xlsx([row(community=440000001001, ref=1001, contact_phone=13812341234)])
    report = import_stations(data, actor=world.community_staff)
    assert report.errors == []
    station = Station.objects.get()
    assert (station.ref, station.contact_phone) == ("1001", "13812341234")


def test_points_in_gcj02_are_stored_in_wgs84(world):
    lat, lng = wgs84_to_gcj02(40.095, 113.305)
    report = import_stations(
        xlsx([row(lat=lat, lng=lng, crs="gcj02")]), actor=world.community_staff
    )
    assert report.errors == []
    station = Station.objects.get()
    assert station.lat == pytest.approx(40.095, abs=1e-6)
    assert station.lng == pytest.approx(113.305, abs=1e-6)


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(world):
    data = xlsx([row(name="一"), [None] * len(KEYS), ["", " "], row(name="二", lat="abc")])
    report = import_stations(data, actor=world.community_staff, all_or_nothing=False)
    assert report.rows == 2
    assert errors_of(report) == [(5, "lat")]
    assert [s.name for s in Station.objects.all()] == ["一"]


def test_a_title_row_above_the_header_is_fine(world):
    data = xlsx([[], HEADER, row()], header=["甲一社区驿站登记表（2026 年）"])
    report = import_stations(data, actor=world.community_staff)
    assert (report.created, report.errors) == (1, [])


def test_progress_is_reported_row_by_row(world):
    calls = []
    import_stations(
        xlsx([row(name=f"站{i}") for i in range(3)]),
        actor=world.community_staff,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


# --- bad rows ------------------------------------------------------------------------------------

BAD_ROWS = {
    "latitude not a number": ({"lat": "40.1N"}, "lat", "must be a decimal number"),
    "latitude with a comma": ({"lat": "40,095"}, "lat", "must be a decimal number"),
    "latitude NaN": ({"lat": "nan"}, "lat", "must be a decimal number"),
    "latitude missing": ({"lat": None}, "lat", "纬度 is required"),
    "latitude true": ({"lat": True}, "lat", "must be a decimal number"),
    "latitude out of range": ({"lat": 95}, "lat", "between -90 and 90"),
    "longitude out of range": ({"lng": "200"}, "lng", "between -180 and 180"),
    "point outside the community": ({"lat": 40.085}, "lat", "outside 甲一社区"),
    "unknown coordinate system": ({"crs": "mars"}, "crs", "Unknown coordinate system"),
    "unknown service": ({"services": "休息、飞行"}, "services", "飞行 is not a service"),
    "bad hours": ({"hours": "周八 08:00-20:00"}, "hours", "not a day of the week"),
    "hours out of the day": ({"hours": "每天 08:00-25:00"}, "hours", "not a time of day"),
    "bad exception": ({"exceptions": "2026-13-01 休息"}, "exceptions", "not a date"),
    "unknown community": ({"community": "440000009999"}, "community", "No community has"),
    "a street's code": ({"community": "440000001"}, "community", "has 12 digits"),
    "Excel's scientific notation": ({"community": "4.4E+11"}, "community", "turned into a number"),
    "a grid's code": ({"community": "440000001001001"}, "community", "has 12 digits"),
    "out-of-scope community": (
        {"community": "440000001002", "lng": 113.33}, "community", "do not have permission",
    ),
    "missing name": ({"name": ""}, "name", "名称 is required"),
    "name too long": ({"name": "驿" * 101}, "name", "100 characters"),
    "unknown kind": ({"kind": "飞船"}, "kind", "not a kind of station"),
    "unknown status": ({"status": "关门"}, "status", "not a status"),
    "unknown zone": ({"zones": "厨房"}, "zones", "not a functional zone"),
    "bad phone": ({"contact_phone": "call me"}, "contact_phone", "phone number"),
    "bad reference": ({"ref": "甲 1"}, "ref", "reference"),
}  # fmt: skip


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_row_is_reported_and_nothing_is_written(world, case, fmt):
    values, column, message = BAD_ROWS[case]
    if fmt == "csv" and values.get("lat") is True:
        pytest.skip("CSV has no booleans")
    rows = [row(name="好的一行"), row(**values)]
    data = xlsx(rows) if fmt == "xlsx" else csv_file(rows)
    before = snapshot()

    report = import_stations(data, actor=world.community_staff)

    assert errors_of(report) == [(3, column)]
    assert message in report.errors[0].message
    assert report.errors[0].header == exchange.COLUMN_BY_KEY[column].header
    assert not report.ok and not report.committed
    assert report.created == 1  # the good row was valid; it was rolled back with the rest
    assert snapshot() == before


def test_every_problem_of_a_row_is_listed(world):
    data = xlsx([row(lat="北纬40度", services="飞行", kind="", hours="周八 9:00-10:00")])
    report = import_stations(data, actor=world.community_staff)
    assert sorted(errors_of(report)) == [(2, "hours"), (2, "kind"), (2, "lat"), (2, "services")]


def test_duplicate_reference_in_the_file(world):
    data = xlsx([row(ref="X-1"), row(ref="X-2"), row(ref="X-1", name="又一个")])
    before = snapshot()
    report = import_stations(data, actor=world.community_staff)
    assert errors_of(report) == [(4, "ref")]
    assert report.errors[0].message == "The reference X-1 is also on row 2."
    assert snapshot() == before


def test_an_import_cannot_move_a_station_to_another_community(world):
    registry(world)
    data = xlsx([row(ref="A1-001", community="440000001002", lng=113.33)])
    before = snapshot()
    report = import_stations(data, actor=world.street_admin)
    assert errors_of(report) == [(2, "community")]
    assert "cannot move it" in report.errors[0].message
    assert snapshot() == before


def test_staff_cannot_update_another_communitys_station(world):
    registry(world)
    data = xlsx([row(ref="A2-001", community="440000001002", lng=113.33, name="改名")])
    before = snapshot()
    report = import_stations(data, actor=world.community_staff)
    assert errors_of(report) == [(2, "community")]
    assert snapshot() == before


def test_a_merchant_cannot_import(world):
    report = import_stations(xlsx([row()]), actor=world.merchant)
    assert errors_of(report) == [(2, "community")]
    assert Station.objects.count() == 0


def test_anonymous_cannot_import(db):
    with pytest.raises(Unauthenticated):
        import_stations(xlsx([row()]), actor=None)


# --- all or nothing, keep the good rows, dry run -------------------------------------------------

MIXED = [
    row(name="好一"),
    row(name="坏一", lat="x"),
    row(name="好二", ref="G-2"),
    row(name="坏二", community="440000001002", lng=113.33),
    row(name="好三", services="手机充电,Wi-Fi, water"),
]


def test_all_or_nothing_leaves_the_registry_unchanged(world):
    made = registry(world)
    before = snapshot()
    count = Station.objects.count()

    report = import_stations(
        xlsx([*MIXED, row(ref="A1-001", name="改名")]), actor=world.community_staff
    )

    assert errors_of(report) == [(3, "lat"), (5, "community")]
    assert (report.created, report.updated, report.committed) == (3, 1, False)
    assert Station.objects.count() == count
    assert snapshot() == before
    assert Station.objects.get(pk=made["first"].pk).name == "甲一小哥驿站"


def test_keep_good_rows_keeps_exactly_the_good_ones(world):
    report = import_stations(xlsx(MIXED), actor=world.community_staff, all_or_nothing=False)

    assert errors_of(report) == [(3, "lat"), (5, "community")]
    assert (report.created, report.committed) == (3, True)
    assert sorted(Station.objects.values_list("name", flat=True)) == ["好一", "好三", "好二"]
    third = Station.objects.get(name="好三")
    assert exchange.service_codes(third.services_mask) == ["water", "phone_charging", "wifi"]
    assert AuditEntry.objects.filter(action="station.created").count() == 3


def test_dry_run_checks_everything_and_writes_nothing(world):
    before = snapshot()
    good = import_stations(xlsx(MIXED[::2]), actor=world.community_staff, dry_run=True)
    bad = import_stations(xlsx(MIXED), actor=world.community_staff, dry_run=True)

    assert (good.ok, good.created, good.committed, good.dry_run) == (True, 3, False, True)
    assert errors_of(bad) == [(3, "lat"), (5, "community")]
    assert snapshot() == before


# --- files that are not spreadsheets -------------------------------------------------------------


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def damaged_xlsx() -> bytes:
    return xlsx([row()])[:2000]


def xlsx_without_sheets() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<not-a-workbook/>")
    return buffer.getvalue()


NOT_SPREADSHEETS = {
    "png": (png, "PNG"),
    "random bytes": (lambda: random.Random(4).randbytes(4096), "not a spreadsheet"),
    "docx": (docx, "Word"),
    "zip": (lambda: b"PK\x03\x04" + bytes(100), "damaged zip"),
    "damaged xlsx": (damaged_xlsx, ""),
    "broken workbook": (xlsx_without_sheets, "could not be read"),
    "xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ".xls"),
    "pdf": (lambda: b"%PDF-1.7\n" + bytes(100), "PDF"),
    "empty": (lambda: b"", "empty"),
    "blank": (lambda: b"\r\n  \r\n", "empty"),
    "binary text": (lambda: "名称,类型\x00\x01".encode(), "not a spreadsheet"),
}


@pytest.mark.parametrize("case", list(NOT_SPREADSHEETS))
def test_not_a_spreadsheet(world, case):
    make, message = NOT_SPREADSHEETS[case]
    with pytest.raises(ApplicationError) as exc:
        import_stations(make(), actor=world.community_staff)
    assert exc.value.code == "invalid_file"
    assert exc.value.status == 400
    assert message in str(exc.value.message)
    assert Station.objects.count() == 0


def test_the_format_given_must_match_the_content(world):
    with pytest.raises(ApplicationError) as exc:
        import_stations(xlsx([row()]), actor=world.community_staff, fmt="csv")
    assert exc.value.code == "invalid_file"
    with pytest.raises(ApplicationError) as exc:
        import_stations(xlsx([row()]), actor=world.community_staff, fmt="ods")
    assert exc.value.code == "invalid_format"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_missing_columns_are_named(world, fmt):
    header = [h for h in HEADER if h not in ("纬度", "经度")]
    rows = [[v for k, v in zip(KEYS, row(), strict=True) if k not in ("lat", "lng")]]
    data = xlsx(rows, header) if fmt == "xlsx" else csv_file(rows, header)
    with pytest.raises(ApplicationError) as exc:
        import_stations(data, actor=world.community_staff)
    assert exc.value.code == "missing_columns"
    assert "纬度、经度" in str(exc.value.message)
    assert exc.value.detail == {"missing": ["纬度", "经度"]}


def test_a_text_file_is_missing_every_column(world):
    with pytest.raises(ApplicationError) as exc:
        import_stations("这不是表格\n只是一段文字".encode(), actor=world.community_staff)
    assert exc.value.code == "missing_columns"


def test_a_column_named_twice(world):
    with pytest.raises(ApplicationError) as exc:
        import_stations(xlsx([], [*HEADER, "name"]), actor=world.community_staff)
    assert exc.value.code == "duplicate_column"


def test_a_header_without_stations_imports_nothing(world):
    report = import_stations(xlsx([]), actor=world.community_staff)
    assert (report.ok, report.rows, report.created, report.committed) == (True, 0, 0, True)


def test_too_many_rows(world, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_ROWS", 2)
    with pytest.raises(ApplicationError) as exc:
        import_stations(xlsx([row(name=str(i)) for i in range(3)]), actor=world.community_staff)
    assert exc.value.code == "too_many_rows"
    assert "more than 2 stations" in str(exc.value.message)
    assert Station.objects.count() == 0


def test_too_large_a_file(world, monkeypatch):
    data = xlsx([row()])
    monkeypatch.setattr(exchange, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(ApplicationError) as exc:
        import_stations(io.BytesIO(data), actor=world.community_staff)
    assert exc.value.code == "invalid_file"
    assert "larger than" in str(exc.value.message)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(world, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ApplicationError) as exc:
        import_stations(xlsx([row()]), actor=world.community_staff)
    assert "unpacks to more than" in str(exc.value.message)


def test_a_file_on_disk_and_an_open_file(world, tmp_path):
    path = tmp_path / "stations.xlsx"
    path.write_bytes(xlsx([row(name="路径")]))
    assert import_stations(path, actor=world.community_staff).created == 1
    with path.open("rb") as handle:
        report = import_stations(handle, actor=world.community_staff)
    assert report.errors == [] and report.created == 1  # no reference: a second station
    assert Station.objects.filter(name="路径").count() == 2


def test_row_error_is_a_plain_record():
    error = RowError(7, "lat", "bad")
    assert (error.row_number, error.column, error.message, error.header) == (
        7,
        "lat",
        "bad",
        "纬度",
    )
    assert RowError(7, "", "bad").header == ""
