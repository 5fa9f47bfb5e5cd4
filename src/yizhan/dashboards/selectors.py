"""Every read the dashboards need, already scoped. Returns the values of ``kpis.py``.

Request-time reads touch the rollup tables (``models.py``) plus a few bounded index look-ups:
the area and its children (``areas.Area``), the overdue reports (dispatched and past their
deadline: a range of ``report_due_idx`` = (status, deadline_at), as large as the overdue
backlog, not the table), the points app's season scores for the top riders (its rank index),
the approved honours (at most 50), and, for the map only, the stations of the area. No request
scans a fact table or groups facts.

How a period is read: up to 92 days from the daily rows (one row per area and day with
activity); longer periods from the monthly rows for whole months plus the daily rows of the
partial months at either end. Breakdowns are kept per month only, so for a week or a custom
range they cover the whole months the period touches (``DashboardData.breakdowns_cover``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.areas.models import Area
from yizhan.core.errors import NotFound
from yizhan.core.masking import mask_name
from yizhan.core.permissions import require_role, scope_code
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.dashboards import kpis
from yizhan.dashboards.kpis import (
    AreaInfo,
    Breakdown,
    BreakdownRow,
    ChildRow,
    DashboardData,
    HeatCell,
    HonourRow,
    MapPoint,
    Metric,
    OverduePage,
    OverdueRow,
    Period,
    Series,
    TopRider,
)
from yizhan.dashboards.models import (
    TOTAL_FIELDS,
    CoverageTarget,
    CurrentCount,
    DayTotals,
    MonthBreakdown,
    MonthHeat,
    MonthTotals,
    RollupState,
)
from yizhan.dashboards.rollups import HEAT_STEP, code_range, prefixes

OVERDUE_FIRST_PAGE = 10
TOP_RIDERS = 10
HONOURS_SHOWN = 50
DAY_GRAIN_MAX = 92


# --------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------


def dashboard_area(*, user: Any, code: Any) -> Area:
    """The ``areas.Area`` with ``code`` if ``user`` may see its dashboard.

    Console users (staff, admins; superusers) whose scope contains the area. Raises
    ``Unauthenticated`` (401) for anonymous, ``Forbidden`` (403) for a non-console account,
    ``NotFound`` (404, the same message whether it does not exist or lies outside the scope).
    """
    require_role(user, *CONSOLE_ROLES)
    if isinstance(code, Area):
        code = code.code
    code = str(code or "").strip()
    scope = scope_code(user)
    if not code or (not user.is_superuser and (not scope or not code.startswith(scope))):
        raise NotFound(_("Not found, or you may not see it."))
    area = Area.objects.select_related("parent").filter(code=code).first()
    if area is None:
        raise NotFound(_("Not found, or you may not see it."))
    return area


def _public_area(area: Any) -> Area:
    if isinstance(area, Area):
        return area
    found = Area.objects.filter(code=str(area or "").strip()).first()
    if found is None:
        raise NotFound(_("Not found, or you may not see it."))
    return found


# --------------------------------------------------------------------------------------------
# Reading totals over a period
# --------------------------------------------------------------------------------------------


def _full_months(period: Period) -> list[dt.date]:
    """First days of the months lying wholly inside ``period``."""
    out = []
    for month in period.months():
        last = kpis._month_end(month.year, month.month)
        if month >= period.start and last <= period.end:
            out.append(month)
    return out


def _partial_days(period: Period, full: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Day ranges of ``period`` outside its whole months (at most two)."""
    if not full:
        return [(period.start, period.end)]
    ranges = []
    if period.start < full[0]:
        ranges.append((period.start, full[0] - dt.timedelta(days=1)))
    after = kpis._add_months(full[-1], 1)
    if after <= period.end:
        ranges.append((after, period.end))
    return ranges


def _day_q(ranges: list[tuple[dt.date, dt.date]]) -> Q:
    q = Q(pk__in=[])
    for lo, hi in ranges:
        q |= Q(day__gte=lo, day__lte=hi)
    return q


class _Sums:
    """Totals of one area over one period, plus trend buckets."""

    def __init__(self) -> None:
        self.values = [0] * len(TOTAL_FIELDS)
        self.buckets: dict[dt.date, list[int]] = defaultdict(lambda: [0] * len(TOTAL_FIELDS))

    def add(self, bucket: dt.date, values) -> None:
        target = self.buckets[bucket]
        for i, v in enumerate(values):
            self.values[i] += v
            target[i] += v

    def __getitem__(self, name: str) -> int:
        return self.values[TOTAL_FIELDS.index(name)]


def _read_totals(where: Q, periods: list[Period], *, key: str = "area_code") -> dict:
    """Sums per (row key, period index) with trend buckets. Two queries at most: the whole
    months of all periods from the monthly rows, the rest from the daily rows."""
    sums: dict[tuple[str, int], _Sums] = defaultdict(_Sums)
    plans = []
    months: set[dt.date] = set()
    ranges: list[tuple[dt.date, dt.date]] = []
    for period in periods:
        full = _full_months(period) if period.days > DAY_GRAIN_MAX else []
        parts = _partial_days(period, full)
        plans.append((period, set(full), parts))
        months.update(full)
        ranges += parts
    if months:
        rows = MonthTotals.objects.filter(where, month__in=sorted(months)).values_list(
            key, "month", *TOTAL_FIELDS
        )
        for code, month, *values in rows:
            for index, (_period, full, _parts) in enumerate(plans):
                if month in full:
                    sums[(code, index)].add(month, values)
    if ranges:
        rows = DayTotals.objects.filter(where, _day_q(ranges)).values_list(
            key, "day", *TOTAL_FIELDS
        )
        for code, day, *values in rows:
            for index, (period, _full, parts) in enumerate(plans):
                if any(lo <= day <= hi for lo, hi in parts):
                    bucket = day if period.trend_grain == "day" else day.replace(day=1)
                    sums[(code, index)].add(bucket, values)
    return sums


def _ratio(part: int, whole: int, scale: float = 100.0) -> float | None:
    return round(part * scale / whole, 1) if whole else None


def _hours(seconds: int, count: int) -> float | None:
    return round(seconds / count / 3600, 1) if count else None


def _flow_values(s: _Sums) -> dict[str, kpis.Number | None]:
    return {
        "riders_new": s["riders_new"],
        "reports": s["reports"],
        "reports_closed": s["reports_closed"],
        "close_hours": _hours(s["close_seconds"], s["reports_closed"]),
        "on_time_rate": _ratio(s["closed_on_time"], s["closed_due"]),
        "points_issued": s["points_issued"],
        "points_redeemed": s["points_redeemed"],
        "rewards_exchanged": s["rewards_exchanged"],
        "wishes_posted": s["wishes_posted"],
        "wishes_claimed": s["wishes_claimed"],
        "wishes_fulfilled": s["wishes_fulfilled"],
        "appeals": s["appeals"],
        "appeals_answered": s["appeals_answered"],
        "answer_hours": _hours(s["answer_seconds"], s["appeals_answered"]),
        "events_held": s["events_held"],
        "attendance": s["attendance"],
        "visits": s["visits"],
    }


def _stock_values(counts: dict[tuple[str, str], int], level: str) -> dict[str, Any]:
    def dim(name: str) -> dict[str, int]:
        return {k: v for (d, k), v in counts.items() if d == name}

    kinds = dim("stations_by_kind")
    riders = dim("riders_by_status")
    communities, grids = dim("coverage_communities"), dim("coverage_grids")
    unit = grids if level in ("community", "grid") and grids.get("units") else communities
    return {
        "stations": sum(v for k, v in kinds.items() if k != "corner"),
        "corners": kinds.get("corner", 0),
        "coverage": _ratio(unit.get("covered", 0), unit.get("units", 0)),
        "riders_registered": sum(riders.values()),
        "riders_verified": riders.get("verified", 0),
        "riders_with_posts": counts.get(("riders_with_posts", ""), 0),
        "honours": sum(dim("honours_by_title").values()),
    }


def _outstanding(code: str, ends: list[dt.date]) -> list[int]:
    """Points in members' accounts at the end of each date in ``ends`` (two queries)."""
    firsts = [end.replace(day=1) for end in ends]
    months = MonthTotals.objects.filter(area_code=code, month__lt=max(firsts)).aggregate(
        **{f"m{i}": Sum("points_net", filter=Q(month__lt=f)) for i, f in enumerate(firsts)}
    )
    days = DayTotals.objects.filter(
        area_code=code, day__gte=min(firsts), day__lte=max(ends)
    ).aggregate(
        **{
            f"d{i}": Sum("points_net", filter=Q(day__gte=f, day__lte=e))
            for i, (f, e) in enumerate(zip(firsts, ends, strict=True))
        }
    )
    return [(months[f"m{i}"] or 0) + (days[f"d{i}"] or 0) for i in range(len(ends))]


def _coverage_target(code: str) -> int | None:
    targets = dict(
        CoverageTarget.objects.filter(area_code__in=prefixes(code)).values_list(
            "area_code", "percent"
        )
    )
    for prefix in reversed(prefixes(code)):
        if prefix in targets:
            return targets[prefix]
    return None


# --------------------------------------------------------------------------------------------
# Breakdowns
# --------------------------------------------------------------------------------------------


def _choices() -> dict[str, Any]:
    from yizhan.appeals.choices import AppealStatus, Difficulty
    from yizhan.events.choices import EventKind
    from yizhan.people.choices import Occupation, Platform, RegistrationStatus
    from yizhan.reports.choices import ReportStatus
    from yizhan.stations.choices import StationKind, StationStatus
    from yizhan.wishes.choices import WishStatus

    return {
        "stations_by_kind": StationKind,
        "stations_by_status": StationStatus,
        "riders_by_platform": Platform,
        "riders_by_occupation": Occupation,
        "riders_by_status": RegistrationStatus,
        "reports_by_status": ReportStatus,
        "appeals_by_difficulty": Difficulty,
        "appeals_by_status": AppealStatus,
        "wishes_by_status": WishStatus,
        "events_by_kind": EventKind,
    }


def _cover(period: Period) -> Period:
    """The whole months a period touches (what a breakdown of it covers)."""
    first = period.start.replace(day=1)
    return Period("custom", first, kpis._month_end(period.end.year, period.end.month))


def _breakdowns(
    area: Area, period: Period, previous: Period, stocks: dict[tuple[str, str], int]
) -> tuple[dict[str, Breakdown], Period | None]:
    from yizhan.reports.models import Category

    cover, cover_prev = _cover(period), _cover(previous)
    cur_months, prev_months = set(cover.months()), set(cover_prev.months())
    flows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = MonthBreakdown.objects.filter(
        area_code=area.code, month__gte=cover_prev.start, month__lte=cover.end
    ).values_list("month", "dim", "key", "value")
    for month, dim, key, value in rows:
        if month in cur_months:
            flows[(dim, key)][0] += value
        if month in prev_months:
            flows[(dim, key)][1] += value
    # reports by grid: the grids' own monthly rows
    grid_rows = MonthTotals.objects.filter(
        code_range("area_code", area.code),
        level="grid",
        month__gte=cover_prev.start,
        month__lte=cover.end,
    ).values_list("area_code", "month", "reports")
    for code, month, value in grid_rows:
        if month in cur_months:
            flows[("reports_by_grid", code)][0] += value
        if month in prev_months:
            flows[("reports_by_grid", code)][1] += value
    category_ids = [int(k) for (d, k) in flows if d == "reports_by_category" and k.isdigit()]
    categories = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "name"))
    grid_codes = [k for (d, k) in flows if d == "reports_by_grid"]
    grids = dict(Area.objects.filter(code__in=grid_codes).values_list("code", "name"))

    choices = _choices()
    out: dict[str, Breakdown] = {}
    for key, (title, unit, kind) in kpis.BREAKDOWNS.items():
        values: list[BreakdownRow] = []
        if kind == "stock":
            enum = choices[key]
            for value, label in enum.choices:
                values.append(BreakdownRow(value, label, stocks.get((key, value), 0), None))
        elif key in choices:
            enum = choices[key]
            for value, label in enum.choices:
                cur, prev = flows.get((key, value), (0, 0))
                values.append(BreakdownRow(value, label, cur, prev))
        else:
            names = categories if key == "reports_by_category" else grids
            found = [(k, v) for (d, k), v in flows.items() if d == key and (v[0] or v[1])]
            found.sort(key=lambda item: (-item[1][0], -item[1][1], item[0]))
            for k, (cur, prev) in found:
                label = names.get(int(k) if k.isdigit() and key == "reports_by_category" else k)
                values.append(BreakdownRow(k, label or k, cur, prev))
        out[key] = Breakdown(key, title, values, unit)
    widened = cover if (cover.start, cover.end) != (period.start, period.end) else None
    return out, widened


# --------------------------------------------------------------------------------------------
# Overdue, top riders, honours
# --------------------------------------------------------------------------------------------


def _overdue_qs(code: str):
    from yizhan.reports.choices import ReportStatus
    from yizhan.reports.models import Report

    return Report.objects.filter(
        code_range("area_code", code),
        status=ReportStatus.DISPATCHED,
        deadline_at__lt=timezone.now(),
    )


def _overdue_rows(qs, now: dt.datetime) -> list[OverdueRow]:
    """The rows of one ordered, sliced page of ``qs``: its ids first (the index alone), then
    those reports with their names. One statement joining first would make PostgreSQL hash
    the whole area table before the LIMIT (3 ms at 10 M reports instead of 0.5)."""
    from yizhan.reports.choices import ReportStatus
    from yizhan.reports.models import Report

    labels = dict(ReportStatus.choices)
    ids = list(qs.values_list("pk", flat=True))
    found = Report.objects.select_related("category", "department", "community", "grid").in_bulk(
        ids
    )
    rows = []
    for r in (found[pk] for pk in ids if pk in found):
        place = r.grid or r.community
        rows.append(
            OverdueRow(
                report_id=r.pk,
                category=r.category.name if r.category_id else "",
                status=r.status,
                status_label=labels.get(r.status, r.status),
                area_code=r.area_code,
                area_name=place.name if place else "",
                address=r.address,
                department=r.department.name if r.department_id else "",
                deadline_at=r.deadline_at,
                overdue_hours=round(max(0.0, (now - r.deadline_at).total_seconds() / 3600), 1),
                escalation=r.escalation,
                submitted_at=r.created_at,
            )
        )
    return rows


def _overdue_counts(code: str, child_len: int) -> dict[str, int]:
    """Overdue reports now, per child code prefix (one grouped query over the backlog)."""
    return dict(
        _overdue_qs(code)
        .annotate(_c=Substr("area_code", 1, child_len))
        .values("_c")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("_c", "n")
    )


def _season_for(period: Period) -> str:
    if period.kind == "quarter":
        return f"q{period.start.year}-{(period.start.month - 1) // 3 + 1}"
    if period.kind == "year":
        return f"y{period.start.year}"
    return f"m{period.end.year}-{period.end.month:02d}"


def _top_riders(code: str, period: Period) -> list[TopRider]:
    from yizhan.points.selectors import leaderboard

    scores = leaderboard(season=_season_for(period), area_code=code).select_related(
        "member__owner__rider__community"
    )[:TOP_RIDERS]
    out, rank, last = [], 0, None
    for position, score in enumerate(scores, start=1):
        if score.points != last:
            rank, last = position, score.points
        owner = score.member.owner
        rider = getattr(owner, "rider", None) if owner else None
        out.append(
            TopRider(
                rank=rank,
                name=mask_name(owner.name or owner.username) if owner else "",
                community=rider.community.name if rider and rider.community_id else "",
                points=int(score.points),
                user_id=owner.pk if owner else None,
            )
        )
    return out


def _honours(code: str) -> list[HonourRow]:
    from yizhan.honours.choices import NominationStatus
    from yizhan.honours.models import Nomination

    qs = (
        Nomination.objects.filter(code_range("area_code", code), status=NominationStatus.APPROVED)
        .select_related("title", "rider__user", "rider__community")
        .order_by("-decided_at", "-id")[:HONOURS_SHOWN]
    )
    return [
        HonourRow(
            title=n.title.name,
            period=n.title.period,
            name=mask_name(n.rider.user.name or n.rider.user.username),
            community=n.rider.community.name if n.rider.community_id else "",
            awarded_on=timezone.localdate(n.decided_at) if n.decided_at else None,
        )
        for n in qs
    ]


# --------------------------------------------------------------------------------------------
# The dashboard
# --------------------------------------------------------------------------------------------


def _info(area: Area) -> AreaInfo:
    return AreaInfo(
        code=area.code,
        name=area.name,
        level=area.level,
        full_name=area.name,
        parent_code=area.parent.code if area.parent_id and area.parent else "",
    )


def _series(sums: _Sums, period: Period) -> dict[str, Series]:
    grain = period.trend_grain
    if grain == "day":
        buckets = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    else:
        buckets = period.months()
    out = {}
    for key, (title, unit) in kpis.TRENDS.items():
        index = TOTAL_FIELDS.index(key)
        points = [(b, sums.buckets[b][index] if b in sums.buckets else 0) for b in buckets]
        out[key] = Series(key, title, points, unit, grain)
    return out


def _children(
    area: Area,
    period: Period,
    stocks: dict[str, dict[tuple[str, str], int]],
    overdue: dict[str, int],
) -> list[ChildRow]:
    kids = list(
        Area.objects.filter(parent=area).order_by("code").values_list("code", "name", "level")
    )
    if not kids:
        return []
    sums = _read_totals(Q(parent_code=area.code), [period])
    rows = []
    for code, name, level in kids:
        s = sums.get((code, 0)) or _Sums()
        values: dict[str, Any] = {**_flow_values(s), **_stock_values(stocks.get(code, {}), level)}
        values["overdue"] = overdue.get(code, 0)
        rows.append(
            ChildRow(
                area_code=code,
                name=name,
                level=level,
                metrics={k: values.get(k) for k in kpis.CHILD_METRICS},
            )
        )
    return rows


def _build(area: Area, period: Period, *, children: bool = True, people: bool = True):
    previous = period.previous()
    now = timezone.now()
    code = area.code
    sums = _read_totals(Q(area_code=code), [period, previous])
    cur, prev = sums.get((code, 0)) or _Sums(), sums.get((code, 1)) or _Sums()
    flow_cur, flow_prev = _flow_values(cur), _flow_values(prev)

    stocks: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for node, dim, key, value in CurrentCount.objects.filter(
        Q(area_code=code) | Q(parent_code=code)
    ).values_list("area_code", "dim", "key", "value"):
        stocks[node][(dim, key)] = value
    stock = _stock_values(stocks.get(code, {}), area.level)

    outstanding = _outstanding(code, [period.end, previous.end])
    child_len = min(len(code) + 3, 15)
    overdue = _overdue_counts(code, child_len)
    overdue_total = sum(overdue.values())
    target = _coverage_target(code)

    values = {**flow_cur, **stock, "overdue": overdue_total, "points_outstanding": outstanding[0]}
    previous_values = {**flow_prev, "points_outstanding": outstanding[1]}
    headline = []
    for key, (label, unit, _kind) in kpis.METRICS.items():
        headline.append(
            Metric(
                key=key,
                label=label,
                value=values.get(key),
                previous=previous_values.get(key),
                unit=unit,
                target=target if key == "coverage" else None,
            )
        )
    breakdowns, widened = _breakdowns(area, period, previous, stocks.get(code, {}))
    overdue_rows = (
        _overdue_rows(_overdue_qs(code).order_by("deadline_at", "id")[:OVERDUE_FIRST_PAGE], now)
        if people
        else []
    )
    state = RollupState.objects.filter(name="default").values_list("refreshed_at", flat=True)
    return DashboardData(
        area=_info(area),
        period=period,
        previous_period=previous,
        generated_at=now,
        headline=headline,
        breakdowns=breakdowns,
        trends=_series(cur, period),
        children=_children(area, period, stocks, overdue) if children else [],
        overdue=overdue_rows,
        top_riders=_top_riders(code, period) if people else [],
        honours=_honours(code) if people else [],
        overdue_count=overdue_total,
        fresh_as_of=next(iter(state), None),
        breakdowns_cover=widened,
        top_riders_season=_season_for(period),
    )


def dashboard(*, user: Any, area: Any, period: Period) -> DashboardData:
    """The whole dashboard of ``area`` (an ``Area`` or its code) for ``period``.

    Permission as :func:`dashboard_area`. A fixed number of queries (15; up to 19 when the
    period has partial months) whatever the data volume or the number of child areas.
    """
    return _build(dashboard_area(user=user, code=area), period)


def overdue_page(*, user: Any, area: Any, page: Any = 1, size: Any = 20) -> OverduePage:
    """Open reports past their deadline beneath ``area``, most overdue first, one page
    (``page`` from 1, ``size`` 1–100; out-of-range values are clamped). A bounded index
    look-up on ``Report`` (status, deadline_at)."""
    found = dashboard_area(user=user, code=area)
    try:
        page = max(1, int(page))
    except (TypeError, ValueError):
        page = 1
    try:
        size = min(100, max(1, int(size)))
    except (TypeError, ValueError):
        size = 20
    qs = _overdue_qs(found.code)
    count = qs.count()
    rows = _overdue_rows(
        qs.order_by("deadline_at", "id")[(page - 1) * size : page * size], timezone.now()
    )
    return OverduePage(rows=rows, count=count, page=page, size=size)


def map_points(*, user: Any, area: Any) -> list[MapPoint]:
    """Stations and caring corners beneath ``area`` (all statuses) for the map: one index
    range on ``Station.area_code`` (the stations of one area, not a scan)."""
    from yizhan.stations.choices import StationKind
    from yizhan.stations.models import Station

    found = dashboard_area(user=user, code=area)
    labels = dict(StationKind.choices)
    rows = (
        Station.objects.filter(code_range("area_code", found.code))
        .order_by("area_code", "id")
        .values_list("id", "kind", "name", "lat", "lng", "status", "area_code")
    )
    return [
        MapPoint(id=i, kind=k, kind_label=labels.get(k, k), name=n, lat=la, lng=lo, status=s,
                 area_code=c)
        for i, k, n, la, lo, s, c in rows
    ]  # fmt: skip


def report_heat(*, user: Any, area: Any, period: Period) -> list[HeatCell]:
    """The report heat layer: reports submitted beneath ``area`` per ≈ 250 m cell, over the
    whole months ``period`` touches (heat is kept per street and month; a community or grid
    gets its street's cells within its bounding box, which may include a neighbour's cells
    along a slanting edge)."""
    found = dashboard_area(user=user, code=area)
    cover = _cover(period)
    where = Q(month__gte=cover.start, month__lte=cover.end)
    if len(found.code) == 9:
        where &= Q(area_code=found.code)
    elif len(found.code) == 6:
        # Equality on the street codes, not a range: SQLite would otherwise walk the (month,
        # area_code) index through the whole country's cells (120 ms at 10 M reports, not 2).
        streets = list(Area.objects.filter(parent__code=found.code).values_list("code", flat=True))
        where &= Q(area_code__in=[found.code, *streets])
    elif len(found.code) < 6:
        where &= code_range("area_code", found.code)
    else:  # heat is kept per street: its cells within the community's or grid's box
        where &= Q(area_code=found.code[:9])
        if None not in (found.min_lat, found.max_lat, found.min_lng, found.max_lng):
            where &= Q(
                cell_lat__gte=math.floor(found.min_lat / HEAT_STEP),
                cell_lat__lte=math.floor(found.max_lat / HEAT_STEP),
                cell_lng__gte=math.floor(found.min_lng / HEAT_STEP),
                cell_lng__lte=math.floor(found.max_lng / HEAT_STEP),
            )
    rows = (
        MonthHeat.objects.filter(where)
        .values("cell_lat", "cell_lng")
        .order_by()
        .annotate(n=Sum("value"))
        .values_list("cell_lat", "cell_lng", "n")
    )
    return [
        HeatCell(lat=round((a + 0.5) * HEAT_STEP, 6), lng=round((b + 0.5) * HEAT_STEP, 6), weight=n)
        for a, b, n in rows
    ]


def child_rows(*, user: Any, area: Any, period: Period) -> list[ChildRow]:
    """The child areas of ``area`` side by side (``kpis.ChildRow``; empty for a grid)."""
    found = dashboard_area(user=user, code=area)
    stocks: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for node, dim, key, value in CurrentCount.objects.filter(parent_code=found.code).values_list(
        "area_code", "dim", "key", "value"
    ):
        stocks[node][(dim, key)] = value
    overdue = _overdue_counts(found.code, min(len(found.code) + 3, 15))
    return _children(found, period, stocks, overdue)


def public_headline(*, street: Any) -> list[Metric]:
    """A street's public numbers (``kpis.PUBLIC_METRICS``, this year so far): aggregates only,
    no personal data, no permission needed. ``street`` is an Area or a code."""
    area = _public_area(street)
    data = _build(area, Period.containing("year", timezone.localdate()), children=False,
                  people=False)  # fmt: skip
    return [m for m in data.headline if m.key in kpis.PUBLIC_METRICS]


def brief_data(*, area: Any, month: dt.date) -> DashboardData:
    """The dashboard of ``area`` for the calendar month containing ``month``, for the monthly
    brief (the scheduled job has no user; the caller checks permissions when a person asks).
    A month with no data gives an honest empty ``DashboardData`` (``is_empty``)."""
    return _build(_public_area(area), Period.containing("month", month))
