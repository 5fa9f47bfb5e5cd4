"""Every read of the station registry a page or endpoint needs, already scoped.

The nearby search (一刻钟服务圈) is the hot path: :func:`nearby` answers "what is near me, open
now, with charging" with one SQL statement in the common case, on either database, through one
covering index (``station_nearby_idx``).

Why this design (benchmarks/nearby.py and docs/benchmarks.md have the figures): every station
stores the 0.01° grid cell it lies in (``core.geo.cell_of``: row-major, ``row * 100000 +
col``), and ``station_nearby_idx`` holds, per cell and status, the stations by latitude with
every other column the search filters and orders on (lng, services_mask, kind) and the id. The
statement lists the cells the search circle's box touches (``cell IN (…)``: 9 to 12 for 1 km,
about 50 for 3 km), seeks in each the open stations within the circle's latitude band, keeps
those that offer the services and kinds asked for and lie within a squared equirectangular
distance of the point, sorts only (id, distance) with the LIMIT — all from the index, without
touching the table — and then reads the page's rows by id. A larger radius is searched in two
stages: 1 km first, the full radius only when 1 km holds too few (exact: when enough places lie
within 1 km they are the nearest). Plain SQL that SQLite and PostgreSQL both run from the same
index, with no extension (PostGIS, SpatiaLite, R*Tree) and no in-memory copy that several worker
processes would have to keep fresh. Exact great-circle distances are computed in Python for the
rows returned only.
"""

from __future__ import annotations

import heapq
import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core.errors import ApplicationError, Forbidden
from yizhan.core.geo import (
    CRS,
    EARTH_RADIUS_M,
    cell_ranges,
    check_point,
    from_wgs84,
    haversine_m,
    navigation_links,
    parse_crs,
    to_wgs84,
)
from yizhan.core.permissions import Action, is_console_user, restrict, scope_code
from yizhan.core.roles import Role
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import MODE_RADIUS_M, NearbyMode, StationKind, StationStatus
from yizhan.stations.models import ChecklistItem, Inspection, Station, StationPhoto, Visit
from yizhan.stations.services import catalogue, services_mask

#: Metres per degree of latitude on the mean sphere (core.geo's radius).
M_PER_DEG = 6_371_008.8 * math.pi / 180
MAX_PAGE_SIZE = 50


# --- lists -------------------------------------------------------------------------------------


def stations_for_user(user: Any, action: Action = Action.VIEW) -> QuerySet:
    """Stations the user may ``action``: everyone sees every station; staff run those in their
    area, a merchant the corners they host."""
    return restrict(
        Station.objects.select_related("community", "grid", "merchant"), user, action
    ).order_by("area_code", "name", "pk")


def managed_stations(user: Any) -> QuerySet:
    """What the console lists for ``user``: the stations they may operate."""
    return stations_for_user(user, Action.OPERATE)


def hosted_by(user: Any) -> QuerySet:
    """The corners a merchant account hosts."""
    if getattr(user, "role", None) != Role.MERCHANT:
        return Station.objects.none()
    return Station.objects.filter(merchant=user).select_related("community").order_by("name")


def merchant_choices(user: Any, current: Any = None) -> QuerySet:
    """Merchant accounts a console user may make a corner's host: those placed beneath the
    user's area (every one for the operator), and the corner's current host."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    merchants = get_user_model().objects.filter(role=Role.MERCHANT, is_active=True)
    code = scope_code(user)
    if getattr(user, "is_superuser", False):
        allowed = Q()
    elif code:
        allowed = Q(area_code__startswith=code)
    else:
        allowed = Q(pk__in=[])
    if current is not None:
        allowed |= Q(pk=getattr(current, "pk", current))
    return merchants.filter(allowed).order_by("name", "pk")


def filter_stations(
    stations: QuerySet,
    *,
    q: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    community: str | None = None,
) -> QuerySet:
    """The console list's filters over an already scoped queryset (``community`` is a code)."""
    from django.db.models import Q

    if kind:
        stations = stations.filter(kind=kind)
    if status:
        stations = stations.filter(status=status)
    if community:
        stations = stations.filter(area_code__startswith=community)
    if q:
        stations = stations.filter(
            Q(name__icontains=q) | Q(address__icontains=q) | Q(host_name__icontains=q)
        )
    return stations


def checklist_streets(user: Any) -> list:
    """The streets whose station checklist a console user works with: the streets beneath their
    area, or else the street their community (or grid) lies in."""
    from yizhan.areas.choices import AreaLevel
    from yizhan.areas.models import Area

    if not is_console_user(user):
        return []
    streets = Area.objects.filter(level=AreaLevel.STREET).order_by("code")
    if user.is_superuser:
        return list(streets)
    code = scope_code(user)
    if not code:
        return []
    beneath = list(streets.filter(code__startswith=code))
    # Codes are hierarchical (6 digits, then 3 a level): the street above is one of the prefixes.
    above = [code[:n] for n in range(6, len(code) + 1, 3)]
    return beneath or list(streets.filter(code__in=above))


def service_labels(mask: int) -> list[tuple[str, str]]:
    """(code, label in the current language) of the services in ``mask``, in catalogue order."""
    english = (translation_language() or "").startswith("en")
    return [
        (code, name_en if english else name)
        for code, bit, name, name_en, _active in catalogue()
        if mask >> bit & 1
    ]


def active_services() -> list[tuple[str, str]]:
    english = (translation_language() or "").startswith("en")
    return [
        (code, name_en if english else name)
        for code, _bit, name, name_en, active in catalogue()
        if active
    ]


def translation_language() -> str:
    from django.utils.translation import get_language

    return get_language() or ""


def photos_of(station: Station) -> QuerySet:
    return StationPhoto.objects.filter(station=station).order_by("created_at", "id")


def checklist_of(street: Any, standard: str | None = None) -> QuerySet:
    qs = ChecklistItem.objects.filter(street=street, is_active=True)
    if standard:
        qs = qs.filter(standard=standard)
    return qs.order_by("standard", "sort_order", "id")


def checklist_for_user(
    user: Any, street: Any, *, standard: str | None = None, include_inactive: bool = False
) -> QuerySet:
    """A street's checklist for the console staff who inspect there: those working within the
    street (its communities and grids) or above it (district). Others get a 403."""
    code = scope_code(user)
    within = bool(code) and (code.startswith(street.code) or street.code.startswith(code))
    if not is_console_user(user) or not (user.is_superuser or within):
        raise Forbidden(_("This street's checklist is for its own staff."))
    qs = ChecklistItem.objects.filter(street=street).select_related("street")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if standard:
        qs = qs.filter(standard=standard)
    return qs.order_by("standard", "sort_order", "id")


def inspections_of(station: Station) -> QuerySet:
    return (
        Inspection.objects.filter(station=station)
        .select_related("inspector")
        .order_by("-inspected_on", "-id")
    )


def visits_of(station: Station) -> QuerySet:
    return (
        Visit.objects.filter(station=station)
        .select_related("rider", "recorded_by")
        .order_by("-created_at", "-id")
    )


def people_served(stations: QuerySet, *, since: Any = None, until: Any = None) -> dict[int, int]:
    """People served per station (check-ins + walk-ins) between two local dates (inclusive)."""
    qs = Visit.objects.filter(station__in=stations)
    if since is not None:
        qs = qs.filter(day__gte=since)
    if until is not None:
        qs = qs.filter(day__lte=until)
    return dict(qs.values_list("station").annotate(n=Sum("people")).values_list("station", "n"))


def visit_totals(station: Station, *, since: Any = None) -> dict[str, int]:
    qs = Visit.objects.filter(station=station)
    if since is not None:
        qs = qs.filter(day__gte=since)
    totals = qs.aggregate(people=Sum("people"), visits=Count("id"))
    return {"people": totals["people"] or 0, "visits": totals["visits"] or 0}


# --- nearby --------------------------------------------------------------------------------------


@dataclass
class NearbyQuery:
    """A checked nearby request: a WGS-84 point, a radius and the filters."""

    lat: float
    lng: float
    radius_m: int
    mask: int = 0
    kinds: tuple[str, ...] = ()
    open_now: bool = False
    page: int = 1
    page_size: int = 20
    crs: CRS = CRS.WGS84  # what the caller wants coordinates back in
    at: datetime | None = None


def nearby_query(
    *,
    lat: Any,
    lng: Any,
    crs: Any = "wgs84",
    radius: Any = None,
    mode: Any = None,
    services: Any = None,
    kinds: Any = None,
    open_now: bool = False,
    page: Any = 1,
    page_size: Any = 20,
    out_crs: Any = None,
) -> NearbyQuery:
    """Check a nearby request's raw input (API or page); a clear 400 for anything wrong."""
    system = parse_crs(crs)
    lat, lng = check_point(lat, lng)
    lat, lng = to_wgs84(lat, lng, system)
    if mode not in (None, ""):
        if mode not in NearbyMode.values:
            raise ApplicationError(
                _("%(value)s is not a mode: use walk or ebike.") % {"value": str(mode)[:20]},
                code="invalid_mode",
                field="mode",
            )
        radius_m = MODE_RADIUS_M[NearbyMode(mode)]
    elif radius in (None, ""):
        radius_m = MODE_RADIUS_M[NearbyMode.EBIKE]
    else:
        radius_m = _whole(radius, field="radius", low=1, high=settings.NEARBY_MAX_RADIUS_M)
    kind_list: list[str] = []
    if kinds:
        if isinstance(kinds, str):
            kinds = [k for k in kinds.replace("，", ",").split(",") if k.strip()]
        for kind in kinds:
            if kind not in StationKind.values:
                raise ApplicationError(
                    _("%(value)s is not a kind of station.") % {"value": str(kind)[:20]},
                    code="invalid_kind",
                    field="kinds",
                )
            kind_list.append(kind)
    return NearbyQuery(
        lat=lat,
        lng=lng,
        radius_m=radius_m,
        mask=services_mask(services),
        kinds=tuple(dict.fromkeys(kind_list)),
        open_now=bool(open_now),
        page=_whole(page, field="page", low=1, high=10_000),
        page_size=_whole(page_size, field="page_size", low=1, high=MAX_PAGE_SIZE),
        crs=parse_crs(out_crs) if out_crs not in (None, "") else system,
    )


def _whole(value: Any, *, field: str, low: int, high: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number != int(number):
        raise ApplicationError(
            _("%(field)s must be a whole number from %(low)s to %(high)s.")
            % {"field": field, "low": low, "high": high},
            code=f"invalid_{field}",
            field=field,
        )
    number = int(number)
    if not low <= number <= high:
        raise ApplicationError(
            _("%(field)s must be a whole number from %(low)s to %(high)s.")
            % {"field": field, "low": low, "high": high},
            code=f"invalid_{field}",
            field=field,
        )
    return number


@dataclass
class NearbyStation:
    """One result: the columns the search read, its exact distance, and derived views."""

    id: int
    name: str
    kind: str
    address: str
    lat: float
    lng: float
    services_mask: int
    hours_json: Any
    contact_phone: str
    host_name: str
    distance_m: float
    at: datetime
    crs: CRS = CRS.WGS84
    _open: bool | None = field(default=None, repr=False)

    @cached_property
    def hours(self) -> hours_module.Hours:
        data = self.hours_json
        if not isinstance(data, str):
            data = json.dumps(data, sort_keys=True)
        return _parsed_hours(data)

    @property
    def is_open(self) -> bool:
        if self._open is None:
            self._open = hours_module.is_open(self.hours, self.at)
        return self._open

    @cached_property
    def status(self) -> hours_module.OpenStatus:
        return hours_module.status_at(self.hours, self.at)

    @cached_property
    def services(self) -> list[tuple[str, str]]:
        return service_labels(self.services_mask)

    @cached_property
    def links(self) -> dict[str, str]:
        return navigation_links(self.lat, self.lng, self.name, self.address)

    @property
    def kind_label(self) -> str:
        return str(StationKind(self.kind).label)

    @cached_property
    def point(self) -> tuple[float, float]:
        """The location in the caller's coordinate system."""
        return from_wgs84(self.lat, self.lng, self.crs)


@lru_cache(maxsize=4096)
def _parsed_hours(text: str) -> hours_module.Hours:
    """Hours from the column's JSON text, parsed once per distinct schedule: "open now" tests
    every candidate, and most places share a few schedules. (``Hours`` is never changed in
    place: its ``with_…`` methods return copies.)"""
    return hours_module.from_column(json.loads(text) if text else {})


@dataclass
class NearbyPage:
    items: list[NearbyStation]
    page: int
    page_size: int
    has_more: bool
    query: NearbyQuery


_COLUMNS = (
    "id",
    "name",
    "kind",
    "address",
    "lat",
    "lng",
    "services_mask",
    "hours",
    "contact_phone",
    "host_name",
)


#: Rows read beyond a page: they show whether a row not read could still be nearer (``nearby``).
_SPARE_ROWS = 4

#: The first search circle (metres) when the radius asked for is larger. Where places are
#: dense it holds the page already, and then its nearest rows are the nearest of all (every
#: place outside it is farther than every place inside); a 1 km circle reads about a ninth of
#: the rows of a 3 km one. When it holds fewer rows than wanted, the full radius is searched.
FIRST_STAGE_M = 1000

#: How much wider (degrees, about 1 cm) the latitude band of a search is than its distance cut.
_BAND_PAD_DEG = 1e-7

#: The most cells a statement lists (``cell IN (…)``: one short index range each); a larger box
#: (a radius above about 18 km in China's far north, above the 20 km maximum elsewhere) names
#: its rows of cells as ranges instead (``cell BETWEEN a AND b``): the same rows, read less
#: directly (PostgreSQL then scans the table's pages through a bitmap).
MAX_LISTED_CELLS = 2000


def _slack(q: NearbyQuery) -> float:
    """How much larger, relatively, the flat distance the SQL orders by can be than the exact
    one, for points within the search radius: ``flat <= exact * (1 + slack)``. It comes from
    using the query's cos(latitude) for the whole circle; the worst case measured is about 40%
    of this bound (0.006% at 3 km in Datong)."""
    reach = q.radius_m * 1.01 / EARTH_RADIUS_M  # radians
    lat = min(abs(q.lat) + math.degrees(reach), 89.0)
    return math.tan(math.radians(lat)) * reach / 2 + reach * reach + 1e-9


def _search_sql(
    q: NearbyQuery, limit: int | None, reach_m: float | None = None
) -> tuple[str, list[Any]]:
    """The search statement for ``q``'s circle and filters: rows of ``_COLUMNS`` and the flat
    distance ``d2``, nearest first (then by id), at most ``limit``.

    "Ids first": the inner SELECT needs only columns of ``station_nearby_idx`` (cell, status,
    lat, lng, services_mask, kind, id), so it reads that index alone (PostgreSQL: an
    index-only scan; SQLite: a covering index), seeking each cell's open stations within the
    circle's latitude band, and sorts just ids and distances; the outer one joins the
    ``limit`` rows kept back to the table by id for what a result shows. ``reach_m`` (exact
    metres) narrows the cut below the radius.
    """
    cos_lat = max(math.cos(math.radians(q.lat)), 1e-6)
    radius_deg = q.radius_m / M_PER_DEG
    slack = _slack(q)
    cut_deg = radius_deg * max(1.01, 1 + slack)
    if reach_m is not None:
        cut_deg = min(cut_deg, (reach_m * (1 + slack) + 1e-6) / M_PER_DEG)
    d2_params: list[Any] = [q.lat, q.lat, q.lng, q.lng, cos_lat * cos_lat]
    vendor = connection.vendor
    ranges = cell_ranges(q.lat, q.lng, q.radius_m)
    cell_params: list[Any]
    if sum(last - first + 1 for first, last in ranges) <= MAX_LISTED_CELLS:
        # Every cell by number: PostgreSQL reads a list (= ANY) from the index alone, where an
        # OR of ranges always becomes a bitmap scan of the table's pages. There the list is one
        # array parameter (the same statement text whatever the circle, which psycopg parses
        # once); SQLite has no arrays and binds each cell.
        cells = [cell for first, last in ranges for cell in range(first, last + 1)]
        if vendor == "postgresql":
            shape, cell_params = -1, [cells]
        else:
            shape, cell_params = len(cells), cells
    else:
        shape, cell_params = -2 * len(ranges), [bound for pair in ranges for bound in pair]
    sql = _statement(vendor, shape, bool(q.mask), len(q.kinds), limit is not None)
    # The latitude band the distance cut allows (d2 <= cut² implies it), a hair wider so that
    # rounding never makes it the stricter test: the index seeks it within each cell.
    band = cut_deg + _BAND_PAD_DEG
    params = [*d2_params, *cell_params, StationStatus.OPEN, q.lat - band, q.lat + band]
    if q.mask:
        params += [q.mask, q.mask]
    params += [*q.kinds, *d2_params, cut_deg**2]
    if limit is not None:
        params.append(limit)
    return sql, params


@lru_cache(maxsize=512)
def _statement(vendor: str, cells: int, masked: bool, kinds: int, limited: bool) -> str:
    """The text of ``_search_sql``'s statement (its parameters vary, the text seldom): cells
    is how many are listed (``cell IN``), -1 for one array (``= ANY``), or -2 × the number of
    ranges (``BETWEEN``)."""
    table = connection.ops.quote_name(Station._meta.db_table)
    if cells == -1:
        where = ["cell = ANY(%s::bigint[])"]
    elif cells >= 0:
        where = ["cell IN (" + ", ".join(["%s"] * cells) + ")"]
    else:
        where = ["(" + " OR ".join(["cell BETWEEN %s AND %s"] * (-cells // 2)) + ")"]
    where.append("status = %s")
    where.append("lat BETWEEN %s AND %s")
    if masked:
        where.append("(services_mask & %s) = %s")
    if kinds:
        where.append("kind IN (" + ", ".join(["%s"] * kinds) + ")")
    # The squared equirectangular distance, in degrees of latitude: exact enough to order by
    # and to cut at the radius (with 1% to spare; the exact test follows in Python).
    d2 = "((lat - %s) * (lat - %s) + (lng - %s) * (lng - %s) * %s)"
    where.append(f"{d2} <= %s")
    inner = f"SELECT id, {d2} AS d2 FROM {table} WHERE {' AND '.join(where)} ORDER BY d2, id"
    if limited:
        inner += " LIMIT %s"
    columns = ", ".join(f"s.{column}" for column in _COLUMNS)
    return (
        f"SELECT {columns}, near.d2 FROM ({inner}) AS near "
        f"JOIN {table} AS s ON s.id = near.id ORDER BY near.d2, near.id"
    )


def _rows(q: NearbyQuery, limit: int | None, reach_m: float | None = None) -> list[tuple]:
    sql, params = _search_sql(q, limit, reach_m)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def nearby(q: NearbyQuery) -> NearbyPage:
    """Open stations within ``q.radius_m`` of the point, nearest first, filtered and paged.

    When the radius is larger than ``FIRST_STAGE_M``, that circle is searched first; if it
    holds the rows the page needs (and one more, which says whether there is a next page),
    they are the answer, else the full radius is searched. Each search is one SQL statement,
    and a second, bounded one in the rare cases that "open now" discards most of the rows
    read, or that the rows beyond the page lie within centimetres of its last one (the SQL
    orders by a flat distance, the page by the exact one: a row not read could be nearer by
    the exact distance only if its flat distance is within ``_slack`` of it). So a search
    costs one statement where places are dense, two where the first circle is too sparse,
    and at most three (a first stage that answers, or a full radius, may need its bounded
    second statement; a first stage that does not answer never does).
    """
    at = q.at or timezone.now()
    wanted = q.page * q.page_size + 1  # one more than the page: is there a next page?
    found = None
    if q.radius_m > FIRST_STAGE_M:
        found = _nearest(replace(q, radius_m=FIRST_STAGE_M), at, wanted, first_stage=True)
    if found is None:
        found = _nearest(q, at, wanted)
    start = (q.page - 1) * q.page_size
    items = found[start : start + q.page_size]
    return NearbyPage(
        items=items,
        page=q.page,
        page_size=q.page_size,
        has_more=len(found) > start + q.page_size,
        query=q,
    )


def _nearest(
    q: NearbyQuery, at: datetime, wanted: int, *, first_stage: bool = False
) -> list[NearbyStation] | None:
    """The first ``wanted`` results within ``q.radius_m`` (fewer if there are fewer), by exact
    distance, then id. For a ``first_stage``, None when the circle holds fewer than ``wanted``:
    a place outside it could then be among them."""
    limit = wanted + _SPARE_ROWS if not q.open_now else wanted * 4 + 20
    rows = _rows(q, limit)
    found = _matches(q, rows, at, wanted)
    if first_stage and len(found) < wanted:
        return None
    if len(rows) == limit:
        # Every row not read has a flat distance >= the last row's: it is surely farther than
        # ``horizon`` (the farthest result needed) unless that flat distance is within slack.
        horizon = found[wanted - 1].distance_m if len(found) >= wanted else q.radius_m
        if horizon * (1 + _slack(q)) >= math.sqrt(rows[-1][10]) * M_PER_DEG:
            found = _matches(q, _rows(q, None, reach_m=horizon), at, wanted)
    return found


def _matches(q: NearbyQuery, rows: list[tuple], at: datetime, wanted: int) -> list[NearbyStation]:
    """The first ``wanted`` rows within the radius (and open, if asked) by the exact distance,
    then id: the SQL's flat order can differ from it by centimetres.

    Rows come in flat order, so every row after the current one is at least its flat distance
    / (1 + slack) away: a row already measured that is nearer than that is next for sure. The
    exact distance is computed for a few rows beyond the last one needed, not for all.
    """
    slack = 1 + _slack(q)
    waiting: list[tuple[float, int, tuple]] = []  # measured, not yet surely next; a heap
    found: list[NearbyStation] = []

    def take(distance: float, row: tuple) -> bool:
        result = NearbyStation(*row[:10], distance_m=distance, at=at, crs=q.crs)
        if not q.open_now or result.is_open:
            found.append(result)
        return len(found) >= wanted

    for row in rows:
        floor = math.sqrt(row[10]) * M_PER_DEG / slack
        while waiting and waiting[0][0] < floor:
            distance, _id, ready = heapq.heappop(waiting)
            if take(distance, ready):
                return found
        distance = haversine_m(q.lat, q.lng, row[4], row[5])
        if distance <= q.radius_m:
            heapq.heappush(waiting, (distance, row[0], row))
    while waiting:
        distance, _id, ready = heapq.heappop(waiting)
        if take(distance, ready):
            break
    return found


def open_status(station: Station, at: datetime | None = None) -> hours_module.OpenStatus:
    """Open now (status and hours), and when that changes."""
    if station.status != StationStatus.OPEN:
        return hours_module.OpenStatus(False, None, known=True)
    return hours_module.status_at(station.opening_hours, at or timezone.now())
