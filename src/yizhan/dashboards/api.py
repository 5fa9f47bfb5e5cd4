"""Dashboards API: an area's dashboard for a period, its overdue list, the map's stations and
report heat, the Excel export and the monthly brief; and a street's public numbers.

Console accounts only (staff, admins beneath their scope; ``selectors.dashboard_area``
decides: 404 outside the scope), except the public numbers of a street that switched its
public page on. Periods: ``kind`` (week, month, quarter, year, custom) with ``anchor`` (a date
inside it, or 2026-04, 2026-Q2, 2026, 2026-W15), or ``start`` and ``end`` for a custom range;
a bad period is a 400 ``invalid_period`` naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import NotFound
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import require_role
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.core.schemas import ERRORS, file_download
from yizhan.dashboards import brief, exports, selectors, views
from yizhan.dashboards.kpis import DashboardData, Metric, Period

router = Router(tags=["dashboards"])
CONSOLE = tuple(CONSOLE_ROLES)


# --- schemas ---------------------------------------------------------------------------------


class PeriodQuery(Schema):
    kind: str = Field("month", description="week, month (default), quarter, year or custom")
    anchor: str | None = Field(
        None, description="A date inside the period, or 2026-04, 2026-Q2, 2026, 2026-W15"
    )
    start: str | None = Field(None, description="custom: the first day (YYYY-MM-DD)")
    end: str | None = Field(None, description="custom: the last day, inclusive")

    def period(self) -> Period:
        return Period.parse(self.kind, anchor=self.anchor, start=self.start, end=self.end)


class PeriodOut(Schema):
    kind: str
    start: dt.date
    end: dt.date
    key: str = Field(..., description="2026-04, 2026-Q2, 2026-W15, 2026 or start..end")
    label: str


class DashboardAreaOut(Schema):
    code: str
    name: str
    level: str
    full_name: str
    parent_code: str


class MetricOut(Schema):
    key: str
    label: str
    value: float | int | None = Field(..., description="None: nothing to measure (not 0)")
    previous: float | int | None
    change: float | int | None
    ratio: float | None = Field(..., description="value / previous − 1 (0.25 = +25 %)")
    direction: str = Field(..., description="up, down or flat")
    unit: str = Field(..., description="count, points, percent (87.5 = 87.5 %) or hours")
    target: float | int | None


class BreakdownRowOut(Schema):
    key: str
    label: str
    value: float | int | None
    previous: float | int | None


class BreakdownOut(Schema):
    key: str
    title: str
    unit: str
    rows: list[BreakdownRowOut]


class PointOut(Schema):
    date: dt.date = Field(..., description="The first day of the bucket (a day or a month)")
    value: float | int


class SeriesOut(Schema):
    key: str
    title: str
    unit: str
    grain: str = Field(..., description="day or month")
    points: list[PointOut]


class ChildOut(Schema):
    area_code: str
    name: str
    level: str
    metrics: dict[str, float | int | None]


class OverdueOut(Schema):
    report_id: int
    category: str
    status: str
    status_label: str
    area_code: str
    area_name: str
    address: str
    department: str
    deadline_at: dt.datetime
    overdue_hours: float
    escalation: int


class TopRiderOut(Schema):
    rank: int
    name: str = Field(..., description="Masked (王*明)")
    community: str
    points: int


class HonourOut(Schema):
    title: str
    period: str
    name: str = Field(..., description="Masked, as on the public honour roll")
    community: str
    awarded_on: dt.date | None


class DashboardOut(Schema):
    area: DashboardAreaOut
    period: PeriodOut
    previous_period: PeriodOut
    generated_at: dt.datetime
    fresh_as_of: dt.datetime | None = Field(
        ..., description="When the rollups were brought up to date"
    )
    is_empty: bool = Field(..., description="Nothing happened in the period")
    headline: list[MetricOut]
    breakdowns: dict[str, BreakdownOut]
    trends: dict[str, SeriesOut]
    children: list[ChildOut]
    overdue: list[OverdueOut] = Field(..., description="The first 10; see /overdue for all")
    overdue_count: int
    top_riders: list[TopRiderOut]
    honours: list[HonourOut]


class MapPointOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    lat: float = Field(..., description="WGS-84")
    lng: float = Field(..., description="WGS-84")
    status: str
    area_code: str


class HeatCellOut(Schema):
    lat: float = Field(..., description="WGS-84, the cell's centre")
    lng: float
    weight: int = Field(..., description="Reports submitted in the period in this cell")


class PublicOut(Schema):
    street: DashboardAreaOut
    year: int
    headline: list[MetricOut]


# --- helpers ---------------------------------------------------------------------------------


def _period(period: Period) -> dict:
    return {
        "kind": period.kind,
        "start": period.start,
        "end": period.end,
        "key": period.key,
        "label": period.label,
    }


def _metric(metric: Metric) -> dict:
    return {
        "key": metric.key,
        "label": str(metric.label),
        "value": metric.value,
        "previous": metric.previous,
        "change": metric.change,
        "ratio": metric.ratio,
        "direction": metric.direction,
        "unit": metric.unit,
        "target": metric.target,
    }


def _area_info(info: Any) -> dict:
    return {
        "code": info.code,
        "name": info.name,
        "level": info.level,
        "full_name": info.full_name,
        "parent_code": info.parent_code,
    }


def _overdue(row: Any) -> dict:
    return {
        "report_id": row.report_id,
        "category": row.category,
        "status": row.status,
        "status_label": str(row.status_label),
        "area_code": row.area_code,
        "area_name": row.area_name,
        "address": row.address,
        "department": row.department,
        "deadline_at": row.deadline_at,
        "overdue_hours": row.overdue_hours,
        "escalation": row.escalation,
    }


def serialize(data: DashboardData) -> dict:
    """A ``DashboardData`` as plain JSON-ready values (lazy labels become text)."""
    return {
        "area": _area_info(data.area),
        "period": _period(data.period),
        "previous_period": _period(data.previous_period),
        "generated_at": data.generated_at,
        "fresh_as_of": data.fresh_as_of,
        "is_empty": data.is_empty,
        "headline": [_metric(m) for m in data.headline],
        "breakdowns": {
            key: {
                "key": b.key,
                "title": str(b.title),
                "unit": b.unit,
                "rows": [
                    {"key": r.key, "label": str(r.label), "value": r.value, "previous": r.previous}
                    for r in b.rows
                ],
            }
            for key, b in data.breakdowns.items()
        },
        "trends": {
            key: {
                "key": s.key,
                "title": str(s.title),
                "unit": s.unit,
                "grain": s.grain,
                "points": [{"date": day, "value": value} for day, value in s.points],
            }
            for key, s in data.trends.items()
        },
        "children": [
            {"area_code": c.area_code, "name": c.name, "level": c.level, "metrics": c.metrics}
            for c in data.children
        ],
        "overdue": [_overdue(row) for row in data.overdue],
        "overdue_count": data.overdue_count,
        "top_riders": [
            {"rank": r.rank, "name": r.name, "community": r.community, "points": r.points}
            for r in data.top_riders
        ],
        "honours": [
            {
                "title": h.title,
                "period": h.period,
                "name": h.name,
                "community": h.community,
                "awarded_on": h.awarded_on,
            }
            for h in data.honours
        ],
    }


def _area(request, area_code: str) -> Any:
    require_role(request.user, *CONSOLE)
    return selectors.dashboard_area(user=request.user, code=area_code)


class _Overdue:
    """The overdue list for the paginator: each slice is one bounded page look-up."""

    def __init__(self, user: Any, area: Any) -> None:
        self.user, self.area = user, area
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = selectors.overdue_page(
                user=self.user, area=self.area, page=1, size=1
            ).count
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict]:
        start, stop = item.start or 0, item.stop or 0
        size = max(1, stop - start)
        result = selectors.overdue_page(
            user=self.user, area=self.area, page=start // size + 1, size=size
        )
        return [_overdue(row) for row in result.rows]


# --- endpoints -------------------------------------------------------------------------------


@router.get(
    "/dashboards/public/{street_code}",
    response={200: PublicOut, **ERRORS},
    auth=None,
    summary="A street's public numbers this year (only streets that switched it on)",
)
def public_headline(request, street_code: str):
    """Aggregate counts only, nothing about a person; 404 when the street has no public page."""
    street = None
    if street_code in views.public_streets():
        street = Area.objects.filter(level=AreaLevel.STREET, code=street_code).first()
    if street is None:
        raise NotFound(_("This street has no public dashboard."))
    metrics = selectors.public_headline(street=street)
    return {
        "street": {
            "code": street.code,
            "name": street.name,
            "level": street.level,
            "full_name": street.name,
            "parent_code": street.code[:6],
        },
        "year": timezone.localdate().year,
        "headline": [_metric(m) for m in metrics],
    }


@router.get(
    "/dashboards/{area_code}",
    response={200: DashboardOut, **ERRORS},
    summary="An area's dashboard for a period, compared with the previous one (staff)",
)
def dashboard(request, area_code: str, period: Query[PeriodQuery]):
    area = _area(request, area_code)
    data = selectors.dashboard(user=request.user, area=area, period=period.period())
    return serialize(data)


@router.get(
    "/dashboards/{area_code}/overdue",
    response={200: list[OverdueOut], **ERRORS},
    summary="Open reports past their deadline beneath the area, most overdue first (staff)",
)
@paginate(YizhanPagination)
def overdue(request, area_code: str):
    return _Overdue(request.user, _area(request, area_code))


@router.get(
    "/dashboards/{area_code}/map",
    response={200: list[MapPointOut], **ERRORS},
    summary="Stations and caring corners beneath the area for the map, WGS-84 (staff)",
)
def map_points(request, area_code: str):
    area = _area(request, area_code)
    return [
        {**p.__dict__, "kind_label": str(p.kind_label)}
        for p in selectors.map_points(user=request.user, area=area)
    ]


@router.get(
    "/dashboards/{area_code}/heat",
    response={200: list[HeatCellOut], **ERRORS},
    summary="Reports submitted in the period per map cell: the heat layer (staff)",
)
def heat(request, area_code: str, period: Query[PeriodQuery]):
    area = _area(request, area_code)
    cells = selectors.report_heat(user=request.user, area=area, period=period.period())
    return [{"lat": c.lat, "lng": c.lng, "weight": c.weight} for c in cells]


@router.get(
    "/dashboards/{area_code}/export",
    response={200: None, **ERRORS},
    summary="Every table of the dashboard for a period as one Excel file (staff)",
    openapi_extra=file_download("dashboard-<area>-<period>.xlsx", exports.XLSX_CONTENT_TYPE),
)
def export(request, area_code: str, period: Query[PeriodQuery]):
    """One sheet per table, Chinese headers, number and date cells, the header row frozen.
    The size does not grow with the period (the numbers come from rollups; the overdue list is
    capped at 5,000 rows); a period longer than three years is refused (400)."""
    area = _area(request, area_code)
    chosen = period.period()
    data = views.workbook_for(user=request.user, area=area, period=chosen)
    return exports.download(
        data,
        content_type=exports.XLSX_CONTENT_TYPE,
        name=exports.filename(area.code, chosen.key, "xlsx"),
    )


@router.get(
    "/dashboards/{area_code}/brief",
    response={200: None, **ERRORS},
    summary="The monthly brief of the area as PDF (staff)",
    openapi_extra=file_download("brief-<area>-<yyyy-mm>.pdf", "application/pdf"),
)
def monthly_brief(
    request,
    area_code: str,
    month: str | None = Query(None, description="2026-04 (default: last month)"),
):
    """Cover, headline numbers, charts, top riders, overdue hazards, appeals; a month with no
    data gives a brief that says so."""
    area = _area(request, area_code)
    first = views.month_from(month)
    pdf = brief.brief_pdf(area=area, month=first)
    views.log_export(
        user=request.user, area=area, what="brief", format="pdf", month=f"{first:%Y-%m}"
    )
    return exports.download(
        pdf, content_type="application/pdf", name=brief.filename(area.code, first)
    )
