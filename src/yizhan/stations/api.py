"""Stations API (一刻钟服务圈): the nearby search, the registry of stations and caring corners,
their hours, photos and QR codes, the service catalogue, check-ins and walk-ins (people served),
and the street's checklist with its inspections.

Anyone may search and read stations; staff of a station's area run it, and the merchant who
hosts a caring corner keeps its services, hours, contact and status up to date. A check-in takes
an ``Idempotency-Key`` header: a retry with the same key gives the same visit.

``GET /stations/nearby`` is the hot path (benchmarks/nearby.py measures it against
``GET /version``). It reads its query string itself (``selectors.nearby_query`` checks every
parameter, for the page too), keeps each result's JSON ready-made in a per-process memo keyed by
the row's content, and writes the answer as text: no schema validation per request or per item.
``NearbyOut`` and ``NEARBY_PARAMETERS`` document the same shapes for the OpenAPI document.
"""

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from json.encoder import encode_basestring as _js
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Field, File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import area_by_code
from yizhan.core import ratelimit
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError
from yizhan.core.geo import from_wgs84, navigation_links, parse_crs
from yizhan.core.idempotency import check_key
from yizhan.core.masking import mask_name
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import (
    Action,
    can,
    get_for_user,
    is_authenticated,
    is_console_user,
    require_role,
    restrict,
    scope_code,
)
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.core.schemas import ERRORS, LIMITED, OkOut, file_download
from yizhan.people.api import AreaRef
from yizhan.stations import exchange, selectors, services
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import FunctionalZone, StationKind, StationStatus
from yizhan.stations.models import (
    ChecklistItem,
    Inspection,
    InspectionResult,
    ServiceItem,
    Station,
    StationPhoto,
    Visit,
)
from yizhan.stations.services import catalogue

router = Router(tags=["stations"])
CONSOLE = tuple(CONSOLE_ROLES)
#: The header of writes a phone may repeat, as in points and rewards (``points.api`` has the
#: same constant; stations sits below points, so it does not import it).
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Stands in for a station id while the detail URL is reversed once per request.
_URL_ID = 987654321


# --- schemas ---------------------------------------------------------------------------------


class ServiceRef(Schema):
    code: str
    name: str = Field(..., description="In the request's language")


class LinksOut(Schema):
    amap: str = Field(..., description="Amap (高德) marker, GCJ-02")
    baidu: str = Field(..., description="Baidu (百度) marker, BD-09")
    tencent: str = Field(..., description="Tencent (腾讯) marker, GCJ-02")


class OriginOut(Schema):
    lat: float
    lng: float
    crs: str


class NearbyItemOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    address: str
    lat: float = Field(..., description="In out_crs")
    lng: float = Field(..., description="In out_crs")
    crs: str = Field(..., description="The system lat and lng are written in")
    distance_m: int = Field(..., description="Straight-line distance from the origin, metres")
    is_open: bool = Field(..., description="Open now (by its published hours)")
    opens_at: datetime | None = Field(..., description="When closed: when it next opens")
    closes_at: datetime | None = Field(..., description="When open: when it next closes")
    hours_known: bool = Field(..., description="False when no hours were published")
    services: list[ServiceRef]
    contact_phone: str
    host_name: str
    links: LinksOut
    url: str | None = Field(..., description="The station's page")


class NearbyOut(Schema):
    items: list[NearbyItemOut]
    page: int
    page_size: int
    has_more: bool
    radius_m: int
    origin: OriginOut = Field(..., description="The search point, in out_crs")


class StationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    community: AreaRef
    grid: AreaRef | None
    address: str
    lat: float = Field(..., description="In out_crs (WGS-84 unless asked otherwise)")
    lng: float = Field(..., description="In out_crs (WGS-84 unless asked otherwise)")
    crs: str
    host_name: str
    contact_phone: str
    services: list[ServiceRef]
    is_open: bool
    url: str | None


class ZoneOut(Schema):
    code: str
    label: str


class WeekDayOut(Schema):
    day: str
    periods: str = Field(..., description="08:00-12:00, 14:00-18:00, or Closed")


class PhotoOut(Schema):
    id: int
    url: str
    thumbnail_url: str
    caption: str
    width: int
    height: int
    created_at: datetime


class VisitTotalsOut(Schema):
    since: date
    people: int = Field(..., description="People served (check-ins and walk-ins)")
    visits: int = Field(..., description="Check-ins and walk-in records")


class StationDetailOut(StationOut):
    ref: str | None = Field(..., description="Your own identifier (to those who edit)")
    contact_name: str
    description: str
    status_note: str
    zones: list[ZoneOut]
    hours: dict = Field(..., description="The opening hours, JSON form")
    hours_text: str = Field(..., description="The weekly hours, text form (周一至周五 08:00-20:00)")
    exceptions_text: str = Field(..., description="Dated exceptions (2026-10-01 休息)")
    hours_known: bool
    week: list[WeekDayOut]
    opens_at: datetime | None
    closes_at: datetime | None
    photos: list[PhotoOut]
    links: LinksOut
    may_edit: bool = Field(..., description="Whether the caller may change it")
    merchant: str | None = Field(..., description="Host merchant's username (to those who edit)")
    checkin_token: str | None = Field(
        ..., description="The token of the check-in QR code (to those who edit)"
    )
    visits_this_month: VisitTotalsOut | None = Field(
        ..., description="People served this month (to staff running it and its host)"
    )


class StationIn(Schema):
    name: str = Field(..., max_length=100)
    kind: str = Field(..., description="rider_station, party_service, union_station or corner")
    community: str = Field(..., description="The 12-digit community code")
    lat: float
    lng: float
    crs: str = Field("wgs84", description="wgs84, gcj02 or bd09: the system lat/lng are in")
    address: str = ""
    services: list[str] = Field([], description="Service codes (GET /stations/services)")
    hours: dict | str | None = Field(
        None, description="JSON form or text form (周一至周五 08:00-20:00；周六 09:00-18:00)"
    )
    zones: list[str] = Field([], description="party, study, work, rest, supply")
    merchant: str | None = Field(None, description="The host merchant's username (a corner)")
    host_name: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""
    ref: str = Field("", description="Your own identifier, e.g. from a spreadsheet")
    status: str = Field("open", description="open or suspended")


class StationPatch(Schema):
    """Only the fields sent change. A host merchant may change services, hours, contact,
    description and status only."""

    name: str = None
    kind: str = None
    address: str = None
    lat: float = Field(None, description="With lng (and crs): move the station")
    lng: float = None
    crs: str = Field(None, description="The system lat/lng are in (default wgs84)")
    services: list[str] | None = Field(None, description="Service codes; replaces the list")
    hours: dict | str | None = Field(None, description="JSON form or text form; null clears")
    zones: list[str] | None = None
    merchant: str | None = Field(None, description="Host merchant's username; null clears")
    host_name: str = None
    contact_name: str = None
    contact_phone: str = None
    description: str = None
    status: str = Field(None, description="open or suspended")
    status_note: str = None
    ref: str = None


class ExceptionIn(Schema):
    day: str = Field(..., description="2026-10-01 (today or later)")
    closed: bool = False
    periods: list[list[str]] | str | None = Field(
        None, description='[["10:00", "16:00"]] or "10:00-16:00" (unless closed)'
    )


class QrOut(Schema):
    station_id: int
    qr_version: int
    checkin_token: str = Field(..., description="The new code's token; print the new code")


class CatalogueItemOut(Schema):
    code: str
    name: str = Field(..., description="Chinese name")
    name_en: str
    label: str = Field(..., description="In the request's language")
    is_active: bool


class ServiceItemIn(Schema):
    code: str = Field(..., description="2-32 lower-case letters, digits or _")
    name: str = Field(..., description="Chinese name")
    name_en: str
    sort_order: int = 0


class ServiceItemPatch(Schema):
    name: str = None
    name_en: str = None
    sort_order: int = None
    is_active: bool = None


class CheckInIn(Schema):
    token: str = Field(..., max_length=100, description="The token in the station's QR code")


class CheckInOut(Schema):
    id: int
    station_id: int
    day: date
    created_at: datetime
    already: bool = Field(..., description="Already checked in this period: nothing new counted")


class WalkInIn(Schema):
    people: int = Field(..., description="People served, 1 to 500")
    note: str = ""


class StationRef(Schema):
    id: int
    name: str


class VisitOut(Schema):
    id: int
    station_id: int
    kind: str
    kind_label: str
    people: int
    day: date
    note: str
    rider: str | None = Field(..., description="Who checked in (masked for hosts)")
    created_at: datetime


class MyVisitOut(Schema):
    id: int
    station: StationRef
    kind: str
    people: int
    day: date
    created_at: datetime


class ChecklistItemOut(Schema):
    id: int
    street: AreaRef
    standard: str
    text: str
    sort_order: int
    is_active: bool


class ChecklistItemIn(Schema):
    street: str = Field(..., description="The 9-digit street code")
    text: str
    standard: str = "6+6"
    sort_order: int = 0


class ChecklistItemPatch(Schema):
    is_active: bool = None
    sort_order: int = None


class InspectionIn(Schema):
    results: dict[str, bool] = Field(
        ..., description="Every active item of the standard: item id → passed"
    )
    note: str = ""
    notes: dict[str, str] = Field({}, description="Optional note per item id")
    inspected_on: date | None = Field(None, description="Default: today")
    standard: str = "6+6"


class InspectionResultOut(Schema):
    item_id: int
    text: str
    passed: bool
    note: str


class InspectionOut(Schema):
    id: int
    station_id: int
    inspected_on: date
    standard: str
    passed: int
    total: int
    note: str
    inspector: str | None
    results: list[InspectionResultOut]
    created_at: datetime


class ImportErrorOut(Schema):
    row: int = Field(..., description="The row's number as the spreadsheet shows it")
    column: str = Field(
        ..., description="The column's key (lat, services …); empty when the whole row is refused"
    )
    header: str = Field(..., description="The column's header in the sheet (纬度, 服务 …)")
    message: str


class ImportReportOut(Schema):
    format: str = Field(..., description="xlsx or csv, as read from the content")
    rows: int = Field(..., description="Rows with content read (the header not counted)")
    created: int = Field(..., description="Stations created (or, when not committed, would be)")
    updated: int = Field(..., description="Stations updated (or, when not committed, would be)")
    unchanged: int
    committed: bool = Field(..., description="Whether the good rows were written")
    dry_run: bool
    all_or_nothing: bool
    failed_rows: int
    ignored_columns: list[str] = Field(..., description="Headers the import does not know")
    errors: list[ImportErrorOut]


# --- helpers ---------------------------------------------------------------------------------


def _stations():
    return Station.objects.select_related("community", "grid", "merchant")


def _station(request, station_id: int, action: Action = Action.VIEW) -> Station:
    return get_for_user(_stations(), request.user, action, pk=station_id)


def _url_template() -> str | None:
    """The station page's URL with a stand-in id, or None while the page does not exist."""
    return _reversed(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())


@lru_cache(maxsize=8)
def _reversed(_root: str, urlconf: str | None, _prefix: str) -> str | None:
    try:
        return reverse("stations:detail", urlconf=urlconf, args=[_URL_ID])
    except NoReverseMatch:
        return None


def _url(template: str | None, station_id: int) -> str | None:
    return template.replace(str(_URL_ID), str(station_id)) if template else None


def _out_crs(value: str | None):
    return parse_crs(value) if value else parse_crs("wgs84")


def _point(station: Station, crs) -> tuple[float, float]:
    lat, lng = from_wgs84(station.lat, station.lng, crs)
    return round(lat, 7), round(lng, 7)


def _service_names() -> dict[int, tuple[str, str]]:
    """bit → (code, name in the request's language), in catalogue order (do not change it:
    it is shared)."""
    return _names_of(catalogue(), selectors.translation_language().startswith("en"))


@lru_cache(maxsize=8)
def _names_of(rows: tuple, english: bool) -> dict[int, tuple[str, str]]:
    return {bit: (code, name_en if english else name) for code, bit, name, name_en, _a in rows}


def _services(mask: int, names: dict[int, tuple[str, str]]) -> list[dict]:
    return [{"code": code, "name": name} for bit, (code, name) in names.items() if mask >> bit & 1]


def _summary(station: Station, crs, url_template: str | None, at: datetime, names: dict) -> dict:
    lat, lng = _point(station, crs)
    return {
        "id": station.pk,
        "name": station.name,
        "kind": station.kind,
        "kind_label": station.get_kind_display(),
        "status": station.status,
        "status_label": station.get_status_display(),
        "community": station.community,
        "grid": station.grid,
        "address": station.address,
        "lat": lat,
        "lng": lng,
        "crs": str(crs),
        "host_name": station.host_name,
        "contact_phone": station.contact_phone,
        "services": _services(station.services_mask, names),
        "is_open": station.is_open_now(at),
        "url": _url(url_template, station.pk),
    }


def _month_start() -> date:
    return timezone.localdate().replace(day=1)


def _detail(request, station: Station, crs=None) -> dict:
    crs = crs or parse_crs("wgs84")
    now = timezone.now()
    hours = station.opening_hours
    status = selectors.open_status(station, now)
    may_edit = is_authenticated(request.user) and can(request.user, Action.OPERATE, station)
    zone_labels = dict(FunctionalZone.choices)
    data = _summary(station, crs, _url_template(), now, _service_names())
    data.update(
        ref=station.ref if may_edit else None,
        contact_name=station.contact_name,
        description=station.description,
        status_note=station.status_note,
        zones=[{"code": z, "label": str(zone_labels.get(z, z))} for z in station.zones],
        hours=hours.to_json(),
        hours_text=hours_module.format_text(hours),
        exceptions_text=hours_module.format_exceptions(hours),
        hours_known=hours.known,
        week=[{"day": d, "periods": p} for d, p in hours_module.week_table(hours)],
        is_open=status.is_open,
        opens_at=None if status.is_open else status.changes_at,
        closes_at=status.changes_at if status.is_open else None,
        photos=[_photo(p) for p in selectors.photos_of(station)],
        links=navigation_links(station.lat, station.lng, station.name, station.address),
        may_edit=may_edit,
        merchant=station.merchant.username if may_edit and station.merchant_id else None,
        checkin_token=services.qr_token(station) if may_edit else None,
        visits_this_month=None,
    )
    if may_edit:
        since = _month_start()
        data["visits_this_month"] = {"since": since, **selectors.visit_totals(station, since=since)}
    return data


def _photo(photo: StationPhoto) -> dict:
    return {
        "id": photo.pk,
        "url": photo.image.url,
        "thumbnail_url": photo.thumbnail.url,
        "caption": photo.caption,
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at,
    }


def _fresh_detail(request, station: Station) -> dict:
    return _detail(request, _one(station.pk))


def _one(station_id: int) -> Station:
    # Re-read after a write, unscoped: the caller was just allowed to change it.
    return _stations().get(pk=station_id)


def _merchant(request, username: str | None, current=None):
    if username is None:
        return None
    text = username.strip() if isinstance(username, str) else ""
    found = (
        selectors.merchant_choices(request.user, current).filter(username=text).first()
        if text
        else None
    )
    if found is None:
        raise ApplicationError(
            _("No merchant account you may choose has the username %(name)s.")
            % {"name": text[:40]},
            code="unknown_merchant",
            field="merchant",
        )
    return found


def _visit(visit: Visit, viewer) -> dict:
    rider = None
    if visit.rider_id:
        name = visit.rider.name or visit.rider.username
        rider = name if is_console_user(viewer) else mask_name(name)
    return {
        "id": visit.pk,
        "station_id": visit.station_id,
        "kind": visit.kind,
        "kind_label": visit.get_kind_display(),
        "people": visit.people,
        "day": visit.day,
        "note": visit.note,
        "rider": rider,
        "created_at": visit.created_at,
    }


def _inspections(station: Station):
    return selectors.inspections_of(station).prefetch_related(
        # Prefetch keeps the list's query count independent of the page size.
        _results_prefetch()
    )


def _results_prefetch():
    return Prefetch(
        "results",
        queryset=InspectionResult.objects.select_related("item").order_by(
            "item__sort_order", "item_id"
        ),
    )


def _inspection(inspection: Inspection) -> dict:
    inspector = inspection.inspector
    return {
        "id": inspection.pk,
        "station_id": inspection.station_id,
        "inspected_on": inspection.inspected_on,
        "standard": inspection.standard,
        "passed": inspection.passed,
        "total": inspection.total,
        "note": inspection.note,
        "inspector": (inspector.name or inspector.username) if inspector else None,
        "results": [
            {"item_id": r.item_id, "text": r.item.text, "passed": r.passed, "note": r.note}
            for r in inspection.results.all()
        ],
        "created_at": inspection.created_at,
    }


def _street_of_user(request, code: str | None):
    if code:
        return area_by_code(code, level=AreaLevel.STREET, field="street")
    scope = scope_code(request.user)
    if len(scope) >= 9:
        return area_by_code(scope[:9], level=AreaLevel.STREET, field="street")
    raise ApplicationError(
        _("Name the street (its 9-digit code)."), code="street_required", field="street"
    )


def _list_filters(
    *, community: str | None, kind: str | None, status: str | None, q: str | None
) -> dict[str, str | None]:
    """The list's filters, checked (a 400 naming the bad one), for ``selectors.filter_stations``."""
    if community:
        community = area_by_code(community, level=AreaLevel.COMMUNITY, field="community").code
    if kind and kind not in StationKind.values:
        raise ApplicationError(
            _("%(value)s is not a kind of station.") % {"value": kind[:20]},
            code="invalid_kind",
            field="kind",
        )
    if status and status not in StationStatus.values:
        raise ApplicationError(
            _("%(value)s is not a status: use open or suspended.") % {"value": status[:20]},
            code="invalid_status",
            field="status",
        )
    return {
        "community": community or None,
        "kind": kind or None,
        "status": status or None,
        "q": (q or "").strip()[:100] or None,
    }


class _Mapped:
    """A queryset whose slice comes out mapped through ``fn`` (what the paginator returns)."""

    def __init__(self, qs, fn) -> None:
        self.qs, self.fn = qs, fn

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        return [self.fn(obj) for obj in self.qs[index]]


# --- nearby (the hot path) -------------------------------------------------------------------


def _query_param(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "in": "query",
        "name": name,
        "required": required,
        "schema": schema,
        "description": description,
    }


_TEXT = {"type": "string"}
#: The nearby search's parameters, declared by hand: the endpoint reads them itself (see below).
NEARBY_PARAMETERS = [
    _query_param("lat", {"type": "number"}, "Latitude of the search point", required=True),
    _query_param("lng", {"type": "number"}, "Longitude of the search point", required=True),
    _query_param(
        "crs",
        {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
        "The system lat and lng are written in (gcj02: Amap, Tencent; bd09: Baidu)",
    ),
    _query_param(
        "radius",
        {"type": "integer", "minimum": 1},
        "Search radius in metres, up to the NEARBY_MAX_RADIUS_M setting (20 km unless changed); "
        "without it, mode decides",
    ),
    _query_param(
        "mode",
        {"type": "string", "enum": ["walk", "ebike"]},
        "Instead of a radius: 15 minutes on foot (1 km) or by e-bike (3 km, the default)",
    ),
    _query_param(
        "services", _TEXT, "Service codes, comma-separated: a station must offer all of them"
    ),
    _query_param(
        "kinds",
        _TEXT,
        "Kinds, comma-separated: rider_station, party_service, union_station or corner",
    ),
    _query_param(
        "open_now", {"type": "boolean", "default": False}, "Only places open at this moment"
    ),
    _query_param("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number, from 1"),
    _query_param(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": selectors.MAX_PAGE_SIZE, "default": 20},
        "Results per page",
    ),
    _query_param(
        "out_crs",
        {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
        "The system of the coordinates returned (default: crs)",
    ),
]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(value: str | None, *, field: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ApplicationError(
        _("%(field)s must be true or false.") % {"field": field},
        code=f"invalid_{field}",
        field=field,
    )


@router.get(
    "/stations/nearby",
    response={200: NearbyOut, **ERRORS},
    auth=None,
    summary="Stations and caring corners near a point, nearest first (一刻钟服务圈)",
    openapi_extra={"parameters": NEARBY_PARAMETERS},
)
def nearby(request):
    """Open stations within the radius, filtered, nearest first, with distance, open status and
    map links. Every bad parameter is a 400 naming it.

    The parameters are read from the query string here and checked by
    ``selectors.nearby_query`` (which the page uses too) rather than by a ninja schema: it
    checks every one of them anyway, and this is the hottest endpoint.
    """
    get = request.GET.get
    q = selectors.nearby_query(
        lat=get("lat"),
        lng=get("lng"),
        crs=get("crs"),
        radius=get("radius"),
        mode=get("mode"),
        services=get("services"),
        kinds=get("kinds"),
        open_now=_flag(get("open_now"), field="open_now"),
        page=get("page") or 1,
        page_size=get("page_size") or 20,
        out_crs=get("out_crs"),
    )
    result = selectors.nearby(q)
    # Everything about a result but its distance and open status is memoised by the row's
    # content (and the language, catalogue and output system), as ready-made JSON: a second
    # search near the same place does no conversions, link building or encoding for it.
    context = (
        str(q.crs),
        translation.get_language() or "",
        hash(catalogue()),
        _url_template(),
    )
    items = []
    minute = None
    for s in result.items:
        if minute is None:
            minute = int(s.at.timestamp() // 60)
        hours_key = s.hours_json if isinstance(s.hours_json, str) else _dumps(s.hours_json)
        head, tail = _nearby_parts(
            (s.id, s.name, s.kind, s.address, s.lat, s.lng, s.services_mask, s.contact_phone,
             s.host_name, *context)
        )  # fmt: skip
        opening = _opening_part(hours_key, minute)
        items.append(f'{{{head},"distance_m":{round(s.distance_m)},{opening},{tail}}}')
    o_lat, o_lng = from_wgs84(q.lat, q.lng, q.crs)
    origin = {"lat": round(o_lat, 7), "lng": round(o_lng, 7), "crs": str(q.crs)}
    rest = {
        "page": result.page,
        "page_size": result.page_size,
        "has_more": result.has_more,
        "radius_m": q.radius_m,
        "origin": origin,
    }
    body = f'{{"items":[{",".join(items)}],{_dumps(rest)[1:]}'
    return HttpResponse(body.encode(), content_type="application/json; charset=utf-8")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@lru_cache(maxsize=4096)
def _nearby_parts(key: tuple) -> tuple[str, str]:
    """The JSON of a result's fields before and after its distance and open status.

    Written out by hand rather than through ``json.dumps`` (this runs for every result the
    memo has not seen, which under load is most of them): strings through the json module's
    own escaping (``encode_basestring``, as ``ensure_ascii=False`` does), numbers as
    ``json.dumps`` writes them (``repr``); ``test_stations_api`` checks it against
    ``json.loads``."""
    sid, name, kind, address, lat, lng, mask, phone, host, crs, language, _cat, template = key
    p_lat, p_lng = from_wgs84(lat, lng, crs)
    names = _names_of(catalogue(), language.startswith("en"))
    services = ",".join(
        f'{{"code":{_js(code)},"name":{_js(label)}}}'
        for bit, (code, label) in names.items()
        if mask >> bit & 1
    )
    links = navigation_links(lat, lng, name, address)
    url = _url(template, sid)
    head = (
        f'"id":{int(sid)!r},"name":{_js(name)},"kind":{_js(kind)},'
        f'"kind_label":{_js(_kind_label(kind, language))},"address":{_js(address)},'
        f'"lat":{float(round(p_lat, 7))!r},"lng":{float(round(p_lng, 7))!r},"crs":{_js(crs)}'
    )
    tail = (
        f'"services":[{services}],"contact_phone":{_js(phone)},"host_name":{_js(host)},'
        f'"links":{{"amap":{_js(links["amap"])},"baidu":{_js(links["baidu"])},'
        f'"tencent":{_js(links["tencent"])}}},"url":{"null" if url is None else _js(url)}'
    )
    return head, tail


@lru_cache(maxsize=64)
def _kind_label(kind: str, _language: str) -> str:
    """A kind's label in the request's language (the language is part of the memo's key)."""
    return str(StationKind(kind).label)


def _fragment(data: dict) -> str:
    # Keys in the order written: a fragment is spliced into a larger object.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))[1:-1]


@lru_cache(maxsize=4096)
def _opening_part(hours_key: str, minute: int) -> str:
    """The open-status fields for hours at a minute. Opening periods start and end on whole
    minutes, so the status (and when it changes) is the same all through the minute."""
    hours = hours_module.from_column(json.loads(hours_key) if hours_key else {})
    status = hours_module.status_at(hours, datetime.fromtimestamp(minute * 60, tz=UTC))
    changes = status.changes_at.isoformat() if status.changes_at is not None else None
    return _fragment(
        {
            "is_open": status.is_open,
            "opens_at": None if status.is_open else changes,
            "closes_at": changes if status.is_open else None,
            "hours_known": status.known,
        }
    )


# --- the service catalogue -------------------------------------------------------------------


@router.get(
    "/stations/services",
    response={200: list[CatalogueItemOut], **ERRORS},
    auth=None,
    summary="The service catalogue (what a station can offer), in display order",
)
def catalogue_list(request, include_inactive: bool = False):
    english = selectors.translation_language().startswith("en")
    return [
        {
            "code": code,
            "name": name,
            "name_en": name_en,
            "label": name_en if english else name,
            "is_active": active,
        }
        for code, _bit, name, name_en, active in catalogue()
        if active or include_inactive
    ]


def _catalogue_item(item: ServiceItem) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "label": item.label,
        "is_active": item.is_active,
    }


@router.post(
    "/stations/services",
    response={201: CatalogueItemOut, **ERRORS},
    summary="Add a service to the catalogue (platform operator)",
)
def catalogue_create(request, payload: ServiceItemIn):
    item = services.service_item_create(
        code=payload.code,
        name=payload.name,
        name_en=payload.name_en,
        sort_order=payload.sort_order,
        actor=request.user,
    )
    return Status(201, _catalogue_item(item))


@router.patch(
    "/stations/services/{code}",
    response={200: CatalogueItemOut, **ERRORS},
    summary="Rename, reorder or retire a service (platform operator)",
)
def catalogue_update(request, code: str, payload: ServiceItemPatch):
    item = get_for_user(ServiceItem, request.user, code=code)
    item = services.service_item_update(
        item=item, actor=request.user, **payload.dict(exclude_unset=True)
    )
    return _catalogue_item(item)


# --- the checklist ---------------------------------------------------------------------------


@router.get(
    "/stations/checklist",
    response={200: list[ChecklistItemOut], **ERRORS},
    summary="A street's station standard (e.g. 6+6): the items inspections check",
)
@paginate(YizhanPagination)
def checklist_list(
    request,
    street: str | None = None,
    standard: str | None = None,
    include_inactive: bool = False,
):
    """``street`` defaults to the street the caller works in."""
    require_role(request.user, *CONSOLE)
    return selectors.checklist_for_user(
        request.user,
        _street_of_user(request, street),
        standard=standard,
        include_inactive=include_inactive,
    )


@router.post(
    "/stations/checklist",
    response={201: ChecklistItemOut, **ERRORS},
    summary="Add an item to a street's standard (the street's admins)",
)
def checklist_create(request, payload: ChecklistItemIn):
    require_role(request.user, *CONSOLE)
    street = area_by_code(payload.street, level=AreaLevel.STREET, field="street")
    item = services.checklist_item_create(
        street=street,
        text=payload.text,
        standard=payload.standard,
        sort_order=payload.sort_order,
        actor=request.user,
    )
    return Status(201, item)


@router.patch(
    "/stations/checklist/{item_id}",
    response={200: ChecklistItemOut, **ERRORS},
    summary="Retire, restore or reorder a checklist item (the street's admins)",
)
def checklist_update(request, item_id: int, payload: ChecklistItemPatch):
    require_role(request.user, *CONSOLE)
    item = get_for_user(
        ChecklistItem.objects.select_related("street"), request.user, Action.CONFIGURE, pk=item_id
    )
    return services.checklist_item_update(
        item=item, actor=request.user, **payload.dict(exclude_unset=True)
    )


# --- my check-ins ----------------------------------------------------------------------------


@router.get(
    "/stations/visits/mine",
    response={200: list[MyVisitOut], **ERRORS},
    summary="My check-ins at stations, latest first",
)
@paginate(YizhanPagination)
def my_visits(request):
    return (
        restrict(Visit.objects.select_related("station"), request.user)
        .filter(rider=request.user)
        .order_by("-created_at", "-id")
    )


# --- the registry ----------------------------------------------------------------------------


@router.get(
    "/stations",
    response={200: list[StationOut], **ERRORS},
    auth=None,
    summary="Stations and caring corners, by community, kind, status or name",
)
@paginate(YizhanPagination)
def station_list(
    request,
    community: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    q: str | None = None,
    out_crs: str | None = None,
):
    """``q`` searches names, addresses and hosts; ``out_crs`` (default wgs84) is the system of
    the coordinates returned."""
    crs = _out_crs(out_crs)
    qs = selectors.filter_stations(
        selectors.stations_for_user(request.user),
        **_list_filters(community=community, kind=kind, status=status, q=q),
    )
    template, now, names = _url_template(), timezone.now(), _service_names()
    return _Mapped(qs, lambda station: _summary(station, crs, template, now, names))


@router.post(
    "/stations",
    response={201: StationDetailOut, **ERRORS},
    summary="Register a station or caring corner (staff of its community)",
)
def station_create(request, payload: StationIn):
    require_role(request.user, *CONSOLE)
    community = area_by_code(payload.community, level=AreaLevel.COMMUNITY, field="community")
    station = services.station_create(
        name=payload.name,
        kind=payload.kind,
        community=community,
        lat=payload.lat,
        lng=payload.lng,
        crs=payload.crs,
        actor=request.user,
        address=payload.address,
        services=payload.services,
        hours=payload.hours,
        zones=payload.zones,
        merchant=_merchant(request, payload.merchant),
        host_name=payload.host_name,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        description=payload.description,
        ref=payload.ref,
        status=payload.status,
    )
    return Status(201, _fresh_detail(request, station))


# --- import and export (docs/stations-import.md) ---------------------------------------------


@router.get(
    "/stations/export",
    response={200: None, **ERRORS},
    summary="Download the stations you run as .xlsx or CSV, in the import's columns (staff)",
    openapi_extra=file_download(
        "stations-….xlsx (or .csv)",
        exchange.XLSX_CONTENT_TYPE,
        exchange.CSV_CONTENT_TYPE,
        description="The spreadsheet",
    ),
)
def station_export(
    request,
    fmt: str = Query("xlsx", alias="format", description="xlsx (default) or csv"),
    community: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    q: str | None = None,
):
    """The stations the caller may operate, with the filters of ``GET /stations``; the file
    re-imports cleanly (``POST /stations/import``), coordinates in WGS-84."""
    require_role(request.user, *CONSOLE)
    stations = selectors.filter_stations(
        selectors.managed_stations(request.user),
        **_list_filters(community=community, kind=kind, status=status, q=q),
    )
    data = exchange.export_stations(stations, fmt)  # an unknown format: 400 invalid_format
    log_action(
        actor=request.user, action="export", target=request.user,
        area_code=scope_code(request.user),
        data={"what": "stations", "format": fmt, "community": community or "", "q": q or ""},
    )  # fmt: skip
    return exchange.download_response(data, fmt, exchange.filename(fmt))


@router.get(
    "/stations/import-template",
    response={200: None, **ERRORS},
    summary="Download an empty import sheet with one example row (staff)",
    openapi_extra=file_download(
        "stations-….xlsx (or .csv)",
        exchange.XLSX_CONTENT_TYPE,
        exchange.CSV_CONTENT_TYPE,
        description="The template",
    ),
)
def station_import_template(
    request, fmt: str = Query("xlsx", alias="format", description="xlsx (default) or csv")
):
    """The header row and one example row in a community the caller may import into; the
    .xlsx also has a 说明 sheet explaining each column and drop-down lists."""
    require_role(request.user, *CONSOLE)
    data = exchange.template_for(request.user, fmt)
    return exchange.download_response(data, fmt, exchange.filename(fmt, template=True))


def _report(report: exchange.ImportReport) -> dict:
    return {
        "format": report.fmt,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "committed": report.committed,
        "dry_run": report.dry_run,
        "all_or_nothing": report.all_or_nothing,
        "failed_rows": report.failed_rows,
        "ignored_columns": report.ignored_columns,
        "errors": [
            {"row": e.row_number, "column": e.column, "header": e.header, "message": e.message}
            for e in report.errors
        ],
    }


@router.post(
    "/stations/import",
    response={200: ImportReportOut, **ERRORS},
    summary="Import stations from .xlsx or CSV (multipart: file, keep_good_rows, dry_run; staff)",
)
def station_import(
    request,
    file: File[UploadedFile],
    keep_good_rows: Form[bool] = False,
    dry_run: Form[bool] = False,
):
    """Each row creates a station, or updates the one with its 外部编号 (reference), as the
    caller: only in communities the caller may operate. All or nothing unless
    ``keep_good_rows``; ``dry_run`` checks every row and writes nothing.

    200 with the report when the rows were written (with ``keep_good_rows``, the refused ones
    are listed) or a dry run found no error; 400 ``invalid_rows`` with the same report in
    ``detail`` when rows were refused and nothing was written; 400 ``invalid_file``,
    ``missing_columns`` (and the other file codes) when the file cannot be read."""
    require_role(request.user, *CONSOLE)
    report = exchange.import_stations(
        file, actor=request.user, all_or_nothing=not keep_good_rows, dry_run=dry_run
    )
    body = _report(report)
    if report.errors and not report.committed:
        raise ApplicationError(
            ngettext(
                "%(n)s row has errors, so nothing was written: correct it and import the file "
                "again.",
                "%(n)s rows have errors, so nothing was written: correct them and import the "
                "file again.",
                report.failed_rows,
            )
            % {"n": report.failed_rows},
            code="invalid_rows",
            field="file",
            detail=body,
        )
    return body


# --- one station -----------------------------------------------------------------------------
# After the fixed paths above: Django tries the URL patterns in order.


@router.get(
    "/stations/{station_id}",
    response={200: StationDetailOut, **ERRORS},
    auth=None,
    summary="A station: hours, open now, services, zones, photos, map links",
)
def station_detail(request, station_id: int, out_crs: str | None = None):
    """People served this month is shown to the staff who run it and to its host merchant."""
    return _detail(request, _station(request, station_id), _out_crs(out_crs))


@router.patch(
    "/stations/{station_id}",
    response={200: StationDetailOut, **ERRORS},
    summary="Change a station (staff of its area, or the host merchant of a corner)",
)
def station_update(request, station_id: int, payload: StationPatch):
    station = _station(request, station_id, Action.OPERATE)
    changes = payload.dict(exclude_unset=True)
    lat, lng, crs = changes.pop("lat", None), changes.pop("lng", None), changes.pop("crs", None)
    if lat is not None or lng is not None or crs is not None:
        if lat is None or lng is None:
            raise ApplicationError(
                _("Give both lat and lng to move the station."),
                code="invalid_location",
                field="lat" if lat is None else "lng",
            )
        changes["location"] = (lat, lng, crs or "wgs84")
    if "merchant" in changes:
        changes["merchant"] = _merchant(request, changes["merchant"], station.merchant)
    if changes:
        services.station_update(station=station, actor=request.user, **changes)
    return _fresh_detail(request, station)


@router.post(
    "/stations/{station_id}/exceptions",
    response={200: StationDetailOut, **ERRORS},
    summary="Special hours, or closed, on one date (e.g. a holiday)",
)
def exception_set(request, station_id: int, payload: ExceptionIn):
    station = _station(request, station_id, Action.OPERATE)
    services.station_exception_set(
        station=station,
        day=payload.day,
        closed=payload.closed,
        periods=payload.periods,
        actor=request.user,
    )
    return _fresh_detail(request, station)


@router.delete(
    "/stations/{station_id}/exceptions/{day}",
    response={200: StationDetailOut, **ERRORS},
    summary="Remove a date's special hours",
)
def exception_remove(request, station_id: int, day: str):
    station = _station(request, station_id, Action.OPERATE)
    services.station_exception_remove(station=station, day=day, actor=request.user)
    return _fresh_detail(request, station)


@router.post(
    "/stations/{station_id}/photos",
    response={201: PhotoOut, **ERRORS},
    summary="Add a photo (multipart: file, caption); it is re-encoded without metadata",
)
def photo_add(request, station_id: int, file: File[UploadedFile], caption: Form[str] = ""):
    station = _station(request, station_id, Action.OPERATE)
    photo = services.station_photo_add(
        station=station, upload=file, caption=caption, actor=request.user
    )
    return Status(201, _photo(photo))


@router.delete(
    "/stations/{station_id}/photos/{photo_id}",
    response={200: OkOut, **ERRORS},
    summary="Remove a photo",
)
def photo_remove(request, station_id: int, photo_id: int):
    station = _station(request, station_id, Action.OPERATE)
    photo = get_for_user(
        StationPhoto.objects.filter(station=station).select_related("station"),
        request.user,
        pk=photo_id,
    )
    services.station_photo_remove(photo=photo, actor=request.user)
    return {"ok": True}


@router.post(
    "/stations/{station_id}/qr/rotate",
    response={200: QrOut, **ERRORS},
    summary="Replace the check-in QR code: every printed code stops working (staff)",
)
def qr_rotate(request, station_id: int):
    station = _station(request, station_id, Action.OPERATE)
    station = services.station_qr_rotate(station=station, actor=request.user)
    return {
        "station_id": station.pk,
        "qr_version": station.qr_version,
        "checkin_token": services.qr_token(station),
    }


@router.post(
    "/stations/{station_id}/checkin",
    response={200: CheckInOut, 201: CheckInOut, **LIMITED},
    summary="Check in at a station by its QR code (riders; send an Idempotency-Key header)",
)
def check_in(
    request,
    station_id: int,
    payload: CheckInIn,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    """201 for a new visit; 200 when the rider already checked in there this period (or the
    request is a retry), with ``already`` true: nothing new is counted."""
    key = check_key(key)
    ratelimit.hit_request("check_in", request, replay=("stations.check_in", key))
    station = _station(request, station_id)
    visit = services.visit_check_in(
        station=station, token=payload.token, user=request.user, idempotency_key=key
    )
    # A replayed key finds the first visit without the flag: nothing new was counted.
    already = getattr(visit, "already", True)
    body = {
        "id": visit.pk,
        "station_id": visit.station_id,
        "day": visit.day,
        "created_at": visit.created_at,
        "already": already,
    }
    return Status(200 if already else 201, body)


@router.post(
    "/stations/{station_id}/walk-ins",
    response={201: VisitOut, **ERRORS},
    summary="Record people served who did not scan (host merchant or staff)",
)
def walk_in(
    request,
    station_id: int,
    payload: WalkInIn,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    """An ``Idempotency-Key`` header is optional; with one, a retry records nothing twice."""
    station = _station(request, station_id, Action.OPERATE)
    visit = services.visit_walk_in(
        station=station,
        people=payload.people,
        note=payload.note,
        actor=request.user,
        idempotency_key=check_key(key) if key is not None else None,
    )
    visit = selectors.visits_of(station).get(pk=visit.pk)
    return Status(201, _visit(visit, request.user))


@router.get(
    "/stations/{station_id}/visits",
    response={200: list[VisitOut], **ERRORS},
    summary="People served at a station: check-ins and walk-ins, latest first",
)
@paginate(YizhanPagination)
def visit_list(request, station_id: int, day_from: date | None = None, day_to: date | None = None):
    station = _station(request, station_id, Action.OPERATE)
    qs = selectors.visits_of(station)
    if day_from is not None:
        qs = qs.filter(day__gte=day_from)
    if day_to is not None:
        qs = qs.filter(day__lte=day_to)
    return _Mapped(qs, lambda v: _visit(v, request.user))


@router.post(
    "/stations/{station_id}/inspections",
    response={201: InspectionOut, **ERRORS},
    summary="Record an inspection against the street's checklist (staff)",
)
def inspection_create(request, station_id: int, payload: InspectionIn):
    station = _station(request, station_id, Action.OPERATE)
    inspection = services.inspection_record(
        station=station,
        results=payload.results,
        notes=payload.notes,
        note=payload.note,
        inspected_on=payload.inspected_on,
        standard=payload.standard,
        actor=request.user,
    )
    return Status(201, _inspection(_inspections(station).get(pk=inspection.pk)))


@router.get(
    "/stations/{station_id}/inspections",
    response={200: list[InspectionOut], **ERRORS},
    summary="A station's inspections, latest first (staff; a host sees its corner's)",
)
@paginate(YizhanPagination)
def inspection_list(request, station_id: int):
    station = _station(request, station_id, Action.OPERATE)
    return _Mapped(restrict(_inspections(station), request.user), _inspection)
