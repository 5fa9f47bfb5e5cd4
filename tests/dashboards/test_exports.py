"""The dashboard's tables to Excel: Chinese headers, number and date cells, a frozen header row,
one sheet per table; built from a ``DashboardData`` made by hand (``sample_data``), so these
tests hold whatever the rollups contain."""

import datetime as dt
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import trans_real
from openpyxl import load_workbook

from yizhan.dashboards import exports
from yizhan.dashboards.kpis import (
    BREAKDOWNS,
    CHILD_METRICS,
    METRICS,
    TRENDS,
    AreaInfo,
    Breakdown,
    BreakdownRow,
    ChildRow,
    DashboardData,
    HonourRow,
    MapPoint,
    Metric,
    OverdueRow,
    Period,
    Series,
    TopRider,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
I18N = Path("/work/i18n")


@pytest.fixture(autouse=True)
def chinese_catalogue():
    """Until the new msgids are merged into the catalogue, lend them from the JSON files the
    dashboards' helpers wrote (``/work/i18n/dashboards*.json``); once merged this adds nothing."""
    catalogue = trans_real.translation("zh-hans")._catalog
    added = []
    for path in sorted(I18N.glob("dashboards*.json")) if I18N.exists() else []:
        for key, value in json.loads(path.read_text("utf-8")).items():
            if key not in catalogue:
                catalogue[key] = value
                added.append(key)
    yield
    for key in added:
        catalogue._catalogs[0].pop(key, None)


def sample_data(*, empty: bool = False, children: int = 2, month: str = "2026-04") -> DashboardData:
    """A street's dashboard for a month, every field filled (or an empty month)."""
    period = Period.parse("month", anchor=month, today=dt.date(2026, 11, 1))
    previous = period.previous()
    zero = 0 if empty else None

    def value(key: str, n: int):
        return 0 if empty and METRICS[key][2] == "flow" else n

    units = {key: unit for key, (_label, unit, _kind) in METRICS.items()}
    headline = []
    for position, (key, (label, unit, _kind)) in enumerate(METRICS.items()):
        number = value(key, 10 + position)
        if unit == "percent":
            number = None if empty else 87.5
        if unit == "hours":
            number = None if empty else 30.2
        previous_value = (zero if zero is not None else 8 + position) if unit == "count" else None
        headline.append(
            Metric(
                key=key,
                label=label,
                value=number,
                previous=previous_value,
                unit=unit,
                target=80.0 if key == "coverage" else None,
            )
        )
    headline[0] = Metric("stations", METRICS["stations"][0], 9, 8, "count")
    headline[1] = Metric("corners", METRICS["corners"][0], 137, 130, "count")
    breakdowns = {}
    for key, (title, unit, kind) in BREAKDOWNS.items():
        rows = [
            BreakdownRow("a", "乱停乱放", 0 if empty else 5, None if kind == "stock" else 3),
            BreakdownRow("b", "飞线充电", 0 if empty else 2, None if kind == "stock" else 4),
        ]
        breakdowns[key] = Breakdown(key, title, rows, unit)
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    trends = {
        key: Series(
            key, title, [(day, 0 if empty else (i % 4)) for i, day in enumerate(days)], unit, "day"
        )
        for key, (title, unit) in TRENDS.items()
    }
    child_rows = [
        ChildRow(
            area_code=f"44000000100{i + 1}",
            name=f"甲{'一二三四五六七八九'[i % 9]}社区",
            metrics={k: (87.5 if units[k] == "percent" else i + 3) for k in CHILD_METRICS},
            level="community",
        )
        for i in range(children)
    ]
    deadline = dt.datetime(2026, 4, 20, 17, 30, tzinfo=SHANGHAI)
    overdue = (
        []
        if empty
        else [
            OverdueRow(
                report_id=41,
                category="消防通道堵塞",
                status="dispatched",
                status_label="已派遣",
                area_code="440000001001",
                area_name="甲一社区",
                address="和平路12号",
                department="消防",
                deadline_at=deadline,
                overdue_hours=52.5,
                escalation=1,
            )
        ]
    )
    return DashboardData(
        area=AreaInfo("440000001", "甲街道", "street", "测试区 / 甲街道", "440000"),
        period=period,
        previous_period=previous,
        generated_at=dt.datetime(2026, 5, 1, 8, 0, tzinfo=SHANGHAI),
        headline=headline,
        breakdowns=breakdowns,
        trends=trends,
        children=child_rows,
        overdue=overdue,
        overdue_count=len(overdue),
        top_riders=[] if empty else [TopRider(1, "王*明", "甲一社区", 109, 7)],
        honours=[]
        if empty
        else [HonourRow("清远骑士", "2026", "王*明", "甲一社区", dt.date(2026, 4, 2))],
    )


def label(key: str) -> str:
    """A headline metric's label as the sheet shows it (the data layer's msgid, translated)."""
    return str(METRICS[key][0])


def sample_points() -> list[MapPoint]:
    return [
        MapPoint(1, "rider_station", "小哥驿站", "清远驿站", 40.0951, 113.3012, "open", "4400"),
        MapPoint(2, "corner", "爱心角", "便民超市", 40.0962, 113.3051, "open", "4400"),
    ]


def workbook(data=None, **kwargs):
    tables = exports.dashboard_tables(data or sample_data(), **kwargs)
    return load_workbook(io.BytesIO(exports.workbook_bytes(tables, title="甲街道"))), tables


def test_every_table_is_a_sheet_with_chinese_headers_and_a_frozen_header_row():
    book, tables = workbook(points=sample_points())
    assert len(book.sheetnames) == len(tables) == len(set(book.sheetnames))
    headline = book["主要指标"]
    assert [c.value for c in headline[1]] == ["指标", "本期", "上期", "变化", "变化率", "目标"]
    assert headline.freeze_panes == "A2"
    assert headline["A2"].value == "驿站" and headline["B2"].value == 9
    assert headline["B2"].data_type == "n" and headline["B2"].number_format == "#,##0"
    assert headline["C3"].value == 130 and headline["D3"].value == 7
    assert headline["E3"].value == pytest.approx(137 / 130 - 1)
    assert headline["E3"].number_format == "+0.0%;-0.0%;0.0%"
    coverage = next(
        row for row in headline.iter_rows(min_row=2) if row[0].value == label("coverage")
    )
    assert coverage[1].value == 87.5 and coverage[1].number_format == '0.0"%"'
    assert coverage[5].value == 80.0


def test_dates_are_date_cells_and_numbers_number_cells():
    book, _tables = workbook(points=sample_points())
    trend = book[book.sheetnames[1]]
    assert trend["A1"].value == "日期"
    assert trend["A2"].is_date and trend["A2"].value == dt.datetime(2026, 4, 1)
    assert trend["A2"].number_format == "yyyy-mm-dd"
    assert trend.max_row == 31  # a header and the 30 days of April
    overdue = book["超期未办结的上报"]
    assert overdue["A2"].value == 41 and overdue["A2"].data_type == "n"
    assert overdue["G2"].is_date and overdue["G2"].value == dt.datetime(2026, 4, 20, 17, 30)
    assert overdue["H2"].value == 52.5 and overdue["E2"].value == "和平路12号"
    honours = book["荣誉"]
    assert honours["E2"].is_date and honours["E2"].value == dt.datetime(2026, 4, 2)
    stations = book["驿站和爱心角"]
    assert stations["D2"].value == pytest.approx(40.0951) and stations["D2"].data_type == "n"


def test_nothing_to_measure_is_an_empty_cell_not_zero():
    book, _tables = workbook(sample_data(empty=True))
    headline = book["主要指标"]
    close = next(
        row for row in headline.iter_rows(min_row=2) if row[0].value == label("close_hours")
    )
    assert close[1].value is None
    reports = next(row for row in headline.iter_rows(min_row=2) if row[0].value == label("reports"))
    assert reports[1].value == 0 and reports[1].data_type == "n"


def test_sheet_names_are_valid_and_unique_even_for_long_titles():
    table = exports.Table("x", "一/二:三*四?五[六]七" * 5, [exports.Column("列")], [["a"]])
    again = exports.Table("y", table.title, [exports.Column("列")], [["b"]])
    book = load_workbook(io.BytesIO(exports.workbook_bytes([table, again])))
    assert len(book.sheetnames) == 2
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in book.sheetnames)


def test_text_a_spreadsheet_cannot_hold_is_cleaned():
    table = exports.Table("x", "t", [exports.Column("列")], [["坏\x00字\x1f符"]])
    book = load_workbook(io.BytesIO(exports.workbook_bytes([table])))
    assert book.active["A2"].value == "坏字符"


def test_format_value_shows_none_as_a_dash():
    assert exports.format_value(None, "count") == "—"
    assert exports.format_value(1234, "count") == "1,234"
    assert exports.format_value(87.5, "percent") == "87.5%"
    assert exports.format_value(0.25, "ratio") == "+25.0%"
