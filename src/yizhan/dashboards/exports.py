"""The dashboard as tables, and every table to one Excel workbook.

:func:`dashboard_tables` turns a ``kpis.DashboardData`` into :class:`Table` values. The page
draws each one as an HTML table (the chart beside it reads its numbers from that very table, so
chart and table never disagree), the Excel export writes one sheet per table, and the monthly
brief prints them: one list of tables, three outputs.

The workbook is written with openpyxl in ``write_only`` mode (rows go out as they come, memory
stays flat), numbers as number cells with a number format, dates and times as date cells, the
header row frozen. The dashboard itself is bounded (its numbers come from the rollups; the
overdue list is capped at :data:`MAX_OVERDUE_ROWS`, the map's stations at :data:`MAX_POINT_ROWS`)
so an export of any period the period selector allows (up to three years) is the same small
size; a longer period is refused by ``kpis.Period.parse`` with a message before anything runs.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import pgettext, pgettext_lazy

from yizhan.dashboards.kpis import (
    BREAKDOWNS,
    CHILD_METRICS,
    METRICS,
    Breakdown,
    DashboardData,
    MapPoint,
    Metric,
    OverdueRow,
    Series,
)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The overdue list in a download: the most overdue first, at most this many (the page pages).
MAX_OVERDUE_ROWS = 5000
#: Stations and corners listed in a download (a district's whole registry fits).
MAX_POINT_ROWS = 20000

#: Kinds of cell. ``text``; ``count`` and ``points`` whole numbers; ``percent`` a percentage
#: stored as 87.5; ``hours`` a duration; ``ratio`` a change as a fraction (0.25 = +25 %);
#: ``coord`` a latitude or longitude; ``date`` and ``datetime``.
KINDS = ("text", "count", "points", "percent", "hours", "ratio", "coord", "date", "datetime")
NUMERIC = frozenset({"count", "points", "percent", "hours", "ratio", "coord"})

#: Excel number formats per kind.
NUMBER_FORMATS = {
    "count": "#,##0",
    "points": "#,##0",
    "percent": '0.0"%"',
    "hours": "0.0",
    "ratio": "+0.0%;-0.0%;0.0%",
    "coord": "0.000000",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}

#: Which trend series share a chart (same unit, read together); others get their own.
TREND_GROUPS: tuple[tuple[str, ...], ...] = (
    ("reports", "reports_closed"),
    ("points_issued", "points_redeemed"),
    ("visits",),
    ("riders_new",),
)
TREND_GROUP_TITLES = {
    ("reports", "reports_closed"): pgettext_lazy("dashboard", "Reports submitted and closed"),
    ("points_issued", "points_redeemed"): pgettext_lazy("dashboard", "Points issued and redeemed"),
}
#: Breakdowns drawn as a pie (a stock split into a few parts); the others as bars.
PIE_BREAKDOWNS = frozenset({"stations_by_kind", "riders_by_platform", "riders_by_status"})
#: The child-area columns the comparison chart draws (the table has them all).
CHILD_CHART = ("reports", "reports_closed", "overdue")


@dataclass(frozen=True)
class Column:
    label: Any
    kind: str = "text"
    #: Whether the chart draws this column as a series (numeric columns only).
    chart: bool = False
    width: int = 0  # Excel width in characters (0: from the kind)


@dataclass
class Table:
    """One table of the dashboard: ``key`` (stable, also the HTML id), ``title``, ``columns``,
    ``rows`` (lists of values in the columns' kinds; ``None`` shows as "—" / an empty cell),
    ``chart`` (``line``, ``bar``, ``hbar``, ``pie`` or "" for none) and ``note``."""

    key: str
    title: Any
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    chart: str = ""
    note: Any = ""
    group: str = ""  # which part of the page: headline, trends, breakdowns, …
    #: The headline table only: each row's unit, which decides its value cells' kind.
    row_kinds: list[str] | None = None
    #: The column that names a row in the chart (a rank is not a name).
    label_column: int = 0
    #: The children table: each row's area code (links to that area's dashboard).
    codes: list[str] | None = None

    @property
    def sheet_title(self) -> str:
        """An Excel sheet name: at most 31 characters, none of ``[]:*?/\\``."""
        text = str(self.title)
        for bad in "[]:*?/\\":
            text = text.replace(bad, " ")
        return text[:31] or self.key[:31]

    def display(self) -> list[list[Cell]]:
        """The rows as the page shows them: text, the raw number for the chart, the kind."""
        out = []
        for index, row in enumerate(self.rows):
            cells = []
            for value, column in zip(row, self.columns, strict=False):
                kind = row_kind(self, index, column)
                raw = value if kind in NUMERIC and isinstance(value, int | float) else None
                cells.append(Cell(format_value(value, kind), raw, kind, column.label))
            out.append(cells)
        return out

    @property
    def series_columns(self) -> list[int]:
        return [i for i, column in enumerate(self.columns) if column.chart]


@dataclass(frozen=True)
class Cell:
    text: str
    raw: int | float | None
    kind: str
    label: Any = ""

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


def format_value(value: Any, kind: str) -> str:
    """A value as text for the page and the PDF: ``None`` is "—" (nothing to measure, not 0)."""
    if value is None:
        return "—"
    if kind in {"count", "points"} and isinstance(value, int | float):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if kind == "percent" and isinstance(value, int | float):
        return f"{value:.1f}%"
    if kind == "hours" and isinstance(value, int | float):
        return f"{value:,.1f}"
    if kind == "ratio" and isinstance(value, int | float):
        return f"{value * 100:+.1f}%"
    if kind == "coord" and isinstance(value, int | float):
        return f"{value:.6f}"
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- from the dashboard to tables -----------------------------------------------------------


def _unit_kind(unit: str) -> str:
    return unit if unit in NUMBER_FORMATS else "count"


def headline_table(metrics: Sequence[Metric], *, key: str = "headline") -> Table:
    columns = [
        Column(pgettext("dashboard", "Measure"), width=20),
        Column(pgettext("dashboard", "This period"), "count"),
        Column(pgettext("dashboard", "Previous period"), "count"),
        Column(pgettext("dashboard", "Change"), "count"),
        Column(pgettext("dashboard", "Change (%)"), "ratio"),
        Column(pgettext("dashboard", "Target"), "count"),
    ]
    table = Table(
        key, pgettext("dashboard", "Headline numbers"), columns, group="headline", row_kinds=[]
    )
    for metric in metrics:
        table.rows.append(
            [
                metric.label,
                metric.value,
                metric.previous,
                metric.change,
                metric.ratio,
                metric.target,
            ]
        )
        table.row_kinds.append(_unit_kind(metric.unit))
    return table


def row_kind(table: Table, row_index: int, column: Column) -> str:
    """A cell's kind: the column's, except in the headline table, where a row's unit decides
    the kind of its value columns (a percentage row stays a percentage)."""
    if table.row_kinds and column.kind == "count":
        return table.row_kinds[row_index]
    return column.kind


def trend_tables(trends: dict[str, Series]) -> list[Table]:
    groups = [g for g in TREND_GROUPS if all(k in trends for k in g)]
    grouped = {k for g in groups for k in g}
    groups += [(k,) for k in trends if k not in grouped]
    tables = []
    for group in groups:
        series = [trends[k] for k in group]
        first = series[0]
        label = (
            pgettext("dashboard", "Month")
            if first.grain == "month"
            else pgettext("dashboard", "Day")
        )
        kind = _unit_kind(first.unit)
        columns = [Column(label, "date", width=12)] + [
            Column(s.title, kind, chart=True) for s in series
        ]
        title = TREND_GROUP_TITLES.get(group) or first.title
        table = Table(f"trend-{'-'.join(group)}", title, columns, chart="line", group="trends")
        by_day: dict[dt.date, list[Any]] = {}
        for position, item in enumerate(series):
            for day, value in item.points:
                by_day.setdefault(day, [None] * len(series))[position] = value
        table.rows = [[day, *values] for day, values in sorted(by_day.items())]
        tables.append(table)
    return tables


def breakdown_table(breakdown: Breakdown) -> Table:
    kind = _unit_kind(breakdown.unit)
    has_previous = any(row.previous is not None for row in breakdown.rows)
    columns = [
        Column(pgettext("dashboard", "Item"), width=18),
        Column(pgettext("dashboard", "This period"), kind, chart=True),
    ]
    if has_previous:
        columns.append(Column(pgettext("dashboard", "Previous period"), kind, chart=True))
    chart = "pie" if breakdown.key in PIE_BREAKDOWNS and not has_previous else "bar"
    if len(breakdown.rows) > 8 and chart == "bar":
        chart = "hbar"  # long category names read better down the side
    table = Table(f"breakdown-{breakdown.key}", breakdown.title, columns, chart=chart)
    table.group = "breakdowns"
    for row in breakdown.rows:
        values = [row.label, row.value] + ([row.previous] if has_previous else [])
        table.rows.append(values)
    return table


def children_table(data: DashboardData) -> Table:
    columns = [Column(pgettext("dashboard", "Area"), width=16)]
    for key in CHILD_METRICS:
        label, unit, _flow = METRICS[key]
        columns.append(Column(label, _unit_kind(unit), chart=key in CHILD_CHART))
    table = Table(
        "children", pgettext("dashboard", "Side by side"), columns, chart="hbar", group="children"
    )
    for child in data.children:
        table.rows.append([child.name] + [child.metrics.get(key) for key in CHILD_METRICS])
    table.codes = [child.area_code for child in data.children]
    return table


def overdue_table(rows: Sequence[OverdueRow], *, count: int | None = None) -> Table:
    columns = [
        Column(pgettext("dashboard", "Report"), "count", width=8),
        Column(pgettext("dashboard", "Category"), width=16),
        Column(pgettext("dashboard", "Status"), width=10),
        Column(pgettext("dashboard", "Area"), width=14),
        Column(pgettext("dashboard", "Address"), width=28),
        Column(pgettext("dashboard", "Department"), width=14),
        Column(pgettext("dashboard", "Deadline"), "datetime", width=17),
        Column(pgettext("dashboard", "Hours overdue"), "hours"),
        Column(pgettext("dashboard", "Escalation"), "count"),
    ]
    table = Table("overdue", pgettext("dashboard", "Overdue reports"), columns, group="overdue")
    for row in rows:
        table.rows.append(
            [
                row.report_id,
                row.category,
                row.status_label,
                row.area_name,
                row.address,
                row.department,
                row.deadline_at,
                row.overdue_hours,
                row.escalation,
            ]
        )
    if count is not None and count > len(rows):
        table.note = pgettext("dashboard", "The %(shown)s most overdue of %(count)s.") % {
            "shown": len(rows),
            "count": count,
        }
    return table


def top_riders_table(data: DashboardData) -> Table:
    columns = [
        Column(pgettext("dashboard", "Rank"), "count", width=6),
        Column(pgettext("dashboard", "Name"), width=10),
        Column(pgettext("dashboard", "Community"), width=16),
        Column(pgettext("dashboard", "Points earned"), "points", chart=True),
    ]
    table = Table(
        "top-riders",
        pgettext("dashboard", "Top riders"),
        columns,
        chart="hbar",
        group="people",
        label_column=1,
    )
    for rider in data.top_riders:
        table.rows.append([rider.rank, rider.name, rider.community, rider.points])
    return table


def honours_table(data: DashboardData) -> Table:
    columns = [
        Column(pgettext("dashboard", "Title"), width=12),
        Column(pgettext("dashboard", "Period"), width=10),
        Column(pgettext("dashboard", "Name"), width=10),
        Column(pgettext("dashboard", "Community"), width=16),
        Column(pgettext("dashboard", "Awarded on"), "date", width=12),
    ]
    table = Table("honours", pgettext("dashboard", "Honours"), columns, group="people")
    for row in data.honours:
        table.rows.append([row.title, row.period, row.name, row.community, row.awarded_on])
    return table


def points_table(points: Sequence[MapPoint]) -> Table:
    columns = [
        Column(pgettext("dashboard", "Name"), width=24),
        Column(pgettext("dashboard", "Kind"), width=12),
        Column(pgettext("dashboard", "Status"), width=10),
        Column(pgettext("dashboard", "Latitude (WGS-84)"), "coord", width=12),
        Column(pgettext("dashboard", "Longitude (WGS-84)"), "coord", width=12),
    ]
    table = Table("stations", pgettext("dashboard", "Stations and corners"), columns, group="map")
    for point in points:
        table.rows.append(
            [point.name, point.kind_label, point.status, round(point.lat, 6), round(point.lng, 6)]
        )
    return table


def dashboard_tables(
    data: DashboardData,
    *,
    overdue: Sequence[OverdueRow] | None = None,
    overdue_count: int | None = None,
    points: Sequence[MapPoint] | None = None,
) -> list[Table]:
    """Every table of the dashboard in page order. ``overdue`` replaces the first page the
    dashboard carries (the download lists more); ``points`` adds the stations' table."""
    tables = [headline_table(data.headline)]
    tables += trend_tables(data.trends)
    tables += [breakdown_table(data.breakdowns[k]) for k in BREAKDOWNS if k in data.breakdowns]
    tables += [
        breakdown_table(b) for k, b in data.breakdowns.items() if k not in BREAKDOWNS
    ]  # keys added later still show
    if data.children:
        tables.append(children_table(data))
    tables.append(
        overdue_table(
            data.overdue if overdue is None else overdue,
            count=data.overdue_count if overdue_count is None else overdue_count,
        )
    )
    tables.append(top_riders_table(data))
    tables.append(honours_table(data))
    if points is not None:
        tables.append(points_table(points))
    return tables


# --- Excel ------------------------------------------------------------------------------------


def _excel_value(value: Any, kind: str) -> Any:
    """What goes in the cell: numbers stay numbers, aware datetimes become local naive ones
    (Excel has no time zones; the dashboard's zone is Asia/Shanghai), lazy text becomes
    text, and characters an .xlsx cannot hold are dropped."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.date | bool):
        return value
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "".join(ch for ch in text if ch >= " " or ch in "\t\n")


def _width(column: Column) -> int:
    if column.width:
        return column.width
    text = str(column.label)
    # A CJK character is about two Latin ones wide.
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return max(10, min(30, shown + 2))


def workbook_bytes(tables: Sequence[Table], *, title: str = "", subtitle: str = "") -> bytes:
    """All ``tables`` in one .xlsx, one sheet each (write-only: streamed row by row)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook(write_only=True)
    workbook.properties.title = title[:200] or None
    workbook.properties.subject = subtitle[:200] or None
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF1F4")
    used: set[str] = set()
    for table in tables:
        name = table.sheet_title
        base, n = name, 2
        while name in used:  # sheet names must be unique
            suffix = f" {n}"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name)
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns, start=1):
            letter = _letter(index)
            sheet.column_dimensions[letter].width = _width(column)
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=str(column.label))
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            header.append(cell)
        sheet.append(header)
        for row_index, row in enumerate(table.rows):
            cells = []
            for value, column in zip(row, table.columns, strict=False):
                kind = row_kind(table, row_index, column)
                cell = WriteOnlyCell(sheet, value=_excel_value(value, kind))
                if value is not None and kind in NUMBER_FORMATS:
                    cell.number_format = NUMBER_FORMATS[kind]
                cells.append(cell)
            sheet.append(cells)
        if table.note:
            sheet.append([])
            sheet.append([str(table.note)])
    if not tables:
        workbook.create_sheet(pgettext("dashboard", "Empty"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def filename(area_code: str, period_key: str, ext: str) -> str:
    """A download's file name (ASCII, so every browser keeps it): ``dashboard-<area>-<period>``."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in period_key)
    return f"dashboard-{area_code}-{safe}.{ext}"


def download(data: bytes, *, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
