"""Dashboard pages: the console dashboard of an area (数据驾驶舱) with its period selector,
charts, map and downloads (Excel, the monthly brief), and a street's optional public page.

Views are thin: gate the account type (``core.pages.page``), let
``dashboards.selectors.dashboard_area`` decide whether the user may see the area (404 outside
their scope), read the numbers through ``dashboards.selectors`` (rollups only), and hand the
result to the templates as ``exports.Table`` values, the same tables the Excel file and the
PDF brief are made of.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import NotFound
from yizhan.core.masking import mask_name
from yizhan.core.pages import page
from yizhan.core.permissions import scope_code
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.dashboards import brief, exports, selectors
from yizhan.dashboards.forms import PeriodForm, period_from
from yizhan.dashboards.kpis import DashboardData, Metric, Period, PeriodError

CONSOLE = tuple(CONSOLE_ROLES)
#: Overdue reports per page of the dashboard's list.
OVERDUE_PER_PAGE = 20
#: Stations and corners drawn on the page's map (a district's registry can be far larger; the
#: map then says how many it left out, and the Excel file lists them all).
MAX_MAP_POINTS = 3000
#: Area codes grow by these lengths: district, street, community, grid.
CODE_LENGTHS = (6, 9, 12, 15)
PERIOD_PARAMS = ("kind", "anchor", "start", "end")


# --- helpers -----------------------------------------------------------------------------------


def _home_code(user: Any) -> str:
    """The area a console user's dashboard opens on: their scope; for an operator without one,
    the first district."""
    code = scope_code(user)
    if code:
        return code
    first = Area.objects.filter(level=AreaLevel.DISTRICT).order_by("code").values("code").first()
    if first is None:
        raise NotFound(_("There is no area yet: import the area tree first."))
    return first["code"]


def _trail(user: Any, area: Any) -> list[dict[str, str]]:
    """The breadcrumb from the user's scope root down to ``area`` (one query)."""
    root = len(scope_code(user)) or CODE_LENGTHS[0]
    codes = [area.code[:n] for n in CODE_LENGTHS if root <= n < len(area.code)]
    if not codes:
        return []
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    return [{"code": code, "name": names.get(code, code)} for code in codes]


def _period_query(period: Period) -> dict[str, str]:
    if period.kind == "custom":
        return {"kind": "custom", "start": period.start.isoformat(), "end": period.end.isoformat()}
    return {"kind": period.kind, "anchor": period.start.isoformat()}


def _qs(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def metric_card(metric: Metric) -> dict[str, Any]:
    """A headline number as the page shows it, with its comparison (↑ / ↓ and %)."""
    kind = exports._unit_kind(metric.unit)
    change, ratio = metric.change, metric.ratio
    if change is None:
        compared = ""
    elif metric.unit == "percent":
        compared = _("%(sign)s%(n).1f points") % {"sign": "+" if change > 0 else "", "n": change}
    elif ratio is not None:
        compared = f"{ratio * 100:+.1f}%"
    else:
        compared = exports.format_value(change, kind)
        compared = ("+" if change > 0 else "") + compared
    return {
        "key": metric.key,
        "label": metric.label,
        "value": exports.format_value(metric.value, kind),
        "previous": exports.format_value(metric.previous, kind),
        "direction": metric.direction,
        "arrow": {"up": "↑", "down": "↓"}.get(metric.direction, ""),
        "compared": compared,
        "comparable": change is not None,
        "target": exports.format_value(metric.target, kind) if metric.target is not None else "",
        "unit": metric.unit,
    }


def _stored_briefs(code: str) -> list[str]:
    """The months (``yyyy-mm``) whose brief the scheduled job stored for this area."""
    return brief.stored_months(code)


def _map_context(points: list, heat: list) -> dict[str, Any]:
    shown = points[:MAX_MAP_POINTS]
    return {
        "map_points": [
            {
                "lat": p.lat,
                "lng": p.lng,
                "kind": p.kind,
                "label": str(p.kind_label),
                "name": p.name,
                "status": p.status,
            }
            for p in shown
        ],
        "map_left_out": max(0, len(points) - len(shown)),
        "map_heat": [[round(c.lat, 6), round(c.lng, 6), c.weight] for c in heat],
        "map_counts": {
            "corners": sum(1 for p in points if p.kind == "corner"),
            "stations": sum(1 for p in points if p.kind != "corner"),
            "reports": sum(c.weight for c in heat),
            "cells": len(heat),
        },
    }


def _overdue_pages(request: HttpRequest, result: Any, base: dict[str, str]) -> dict[str, Any]:
    number, pages = result.page, result.pages
    return {
        "number": number,
        "pages": pages,
        "count": result.count,
        "previous": _qs({**base, "opage": number - 1}) if number > 1 else "",
        "next": _qs({**base, "opage": number + 1}) if number < pages else "",
    }


def _page_number(request: HttpRequest, name: str) -> int:
    try:
        return max(1, min(int(request.GET.get(name, 1)), 10_000))
    except (TypeError, ValueError):
        return 1


# --- the console dashboard -------------------------------------------------------------------


def _render(
    request: HttpRequest,
    area: Any,
    form: PeriodForm,
    period: Period | None,
    *,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "area": area,
        "trail": _trail(user, area),
        "form": form,
        "period": period,
        "briefs": _stored_briefs(area.code),
        "last_month": (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime(
            "%Y-%m"
        ),
    }
    if period is None:
        return render(request, "dashboards/dashboard.html", context, status=status)
    data: DashboardData = selectors.dashboard(user=user, area=area, period=period)
    base = _period_query(period)
    overdue = selectors.overdue_page(
        user=user, area=area, page=_page_number(request, "opage"), size=OVERDUE_PER_PAGE
    )
    tables = exports.dashboard_tables(data, overdue=overdue.rows, overdue_count=overdue.count)
    points = selectors.map_points(user=user, area=area)
    heat = selectors.report_heat(user=user, area=area, period=period)
    previous = _period_query(data.previous_period)
    children = next((t for t in tables if t.key == "children"), None)
    context.update(
        data=data,
        cards=[metric_card(m) for m in data.headline],
        tables={t.key: t for t in tables},
        trend_tables=[t for t in tables if t.group == "trends"],
        breakdown_tables=[t for t in tables if t.group == "breakdowns"],
        children=children,
        children_rows=list(zip(children.codes or [], children.display(), strict=False))
        if children
        else [],
        overdue_table=next(t for t in tables if t.key == "overdue"),
        overdue_rows=overdue.rows,
        overdue_pages=_overdue_pages(request, overdue, base),
        riders_table=next(t for t in tables if t.key == "top-riders"),
        honours_table=next(t for t in tables if t.key == "honours"),
        query=_qs(base),
        previous_query=_qs(previous),
        period_kind_label=dict(form.fields["kind"].choices).get(period.kind, period.kind),
        **_map_context(points, heat),
    )
    return render(request, "dashboards/dashboard.html", context, status=status)


@page(*CONSOLE)
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard of the user's own area."""
    return dashboard(request, _home_code(request.user))


@page(*CONSOLE)
def dashboard(request: HttpRequest, area_code: str) -> HttpResponse:
    area = selectors.dashboard_area(user=request.user, code=area_code)
    form, period = period_from(request.GET)
    if period is None:
        return _render(request, area, form, None, status=400)
    return _render(request, area, form, period)


# --- downloads ---------------------------------------------------------------------------------


def _refused(request: HttpRequest, area: Any, form: PeriodForm) -> HttpResponse:
    return _render(request, area, form, None, status=400)


@page(*CONSOLE)
def export_xlsx(request: HttpRequest, area_code: str) -> HttpResponse:
    """Every table of the dashboard for the chosen period, one sheet each."""
    area = selectors.dashboard_area(user=request.user, code=area_code)
    form, period = period_from(request.GET)
    if period is None:
        return _refused(request, area, form)
    data = workbook_for(user=request.user, area=area, period=period)
    return exports.download(
        data,
        content_type=exports.XLSX_CONTENT_TYPE,
        name=exports.filename(area.code, period.key, "xlsx"),
    )


def log_export(*, user: Any, area: Any, what: str, **data: Any) -> None:
    """Every download is an export in the audit log (docs/oversight.md)."""
    log_action(
        actor=user, action="export", target=area, area_code=area.code, data={"what": what, **data}
    )


def workbook_for(*, user: Any, area: Any, period: Period) -> bytes:
    """The .xlsx of one dashboard (the page and the API share it); logged as an export."""
    data = selectors.dashboard(user=user, area=area, period=period)
    overdue = selectors.overdue_page(user=user, area=area, page=1, size=exports.MAX_OVERDUE_ROWS)
    points = selectors.map_points(user=user, area=area)[: exports.MAX_POINT_ROWS]
    tables = exports.dashboard_tables(
        data, overdue=overdue.rows, overdue_count=overdue.count, points=points
    )
    workbook = exports.workbook_bytes(
        tables,
        title=f"{data.area.full_name or data.area.name} {data.period.label}",
        subtitle=str(_("Dashboard")),
    )
    log_export(user=user, area=area, what="dashboard", format="xlsx", period=period.key)
    return workbook


def month_from(value: Any) -> dt.date:
    """``2026-04`` (or any date in the month) → its first day; empty means last month. A bad
    value is a 400 naming the field ``month``."""
    if value in (None, ""):
        return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    try:
        return Period.parse("month", anchor=value).start
    except PeriodError as exc:
        exc.field = "month"
        raise


@page(*CONSOLE)
def brief_pdf(request: HttpRequest, area_code: str) -> HttpResponse:
    """The monthly brief of the area for ``?month=yyyy-mm`` (default: last month), made now."""
    area = selectors.dashboard_area(user=request.user, code=area_code)
    month = month_from(request.GET.get("month"))
    pdf = brief.brief_pdf(area=area, month=month)
    log_export(user=request.user, area=area, what="brief", format="pdf", month=f"{month:%Y-%m}")
    return exports.download(
        pdf, content_type="application/pdf", name=brief.filename(area.code, month)
    )


@page(*CONSOLE)
def stored_brief(request: HttpRequest, area_code: str, month: str) -> HttpResponse:
    """A brief the scheduled job stored (``briefs/<area>/<yyyy-mm>.pdf`` in the private
    storage, ``brief.brief_storage``), streamed from there: on disk or in object storage."""
    area = selectors.dashboard_area(user=request.user, code=area_code)
    stored = brief.open_stored(area.code, month)
    if stored is None:
        raise NotFound(_("No brief is stored for this month."))
    try:
        log_export(user=request.user, area=area, what="brief", format="pdf", month=month)
        response = FileResponse(
            stored, as_attachment=True, filename=f"{month}.pdf", content_type="application/pdf"
        )
        response["Cache-Control"] = "private, no-store"  # as the brief made on demand
        return response
    except BaseException:
        stored.close()
        raise


# --- the public page of a street --------------------------------------------------------------


def public_streets() -> set[str]:
    """The streets whose public page is switched on (``DASHBOARD_PUBLIC_STREETS``; off by
    default). To become a field of the street (see REQUESTS-dashboards.md)."""
    return {str(code) for code in getattr(settings, "DASHBOARD_PUBLIC_STREETS", []) or []}


@page(login=False)
def public(request: HttpRequest, street_code: str) -> HttpResponse:
    """A street's public numbers and honour roll: aggregates and masked names only."""
    from yizhan.honours.selectors import honour_roll

    street = None
    if street_code in public_streets():
        street = Area.objects.filter(level=AreaLevel.STREET, code=street_code).first()
    if street is None:
        raise NotFound(_("This street has no public dashboard."))
    metrics = selectors.public_headline(street=street)
    roll = list(honour_roll(street_code=street.code)[:30])
    for row in roll:
        row.display_name = mask_name(row.rider.user.name or "")
    return render(
        request,
        "dashboards/public.html",
        {
            "street": street,
            "cards": [metric_card(m) for m in metrics],
            "roll": roll,
            "year": timezone.localdate().year,
        },
    )
