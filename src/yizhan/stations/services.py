"""Every write to the station registry: stations, their services, hours, photos and QR codes,
the service catalogue, checklists and inspections, and visits (people served).

Staff of a station's area run it; the merchant who hosts a caring corner keeps its services,
hours, contact and status up to date (``MERCHANT_FIELDS``) and records walk-ins. Riders check in
by scanning the station's QR code, once per station per period.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, NamedTuple
from weakref import WeakSet

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.geometry import covers_point
from yizhan.areas.models import Area
from yizhan.areas.selectors import grid_for_point
from yizhan.core import crypto
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, Unauthenticated
from yizhan.core.geo import cell_of, check_point, to_wgs84
from yizhan.core.idempotency import run_once
from yizhan.core.images import process_image
from yizhan.core.permissions import Action, is_authenticated, require
from yizhan.core.roles import Role
from yizhan.core.validation import clean_text as _text
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import FunctionalZone, StationKind, StationStatus, VisitKind
from yizhan.stations.models import (
    MAX_SERVICE_BITS,
    ChecklistItem,
    Inspection,
    InspectionResult,
    ServiceItem,
    Station,
    StationPhoto,
    Visit,
)

#: What the hosting merchant may change on their own corner; staff may change everything.
MERCHANT_FIELDS = frozenset(
    {"services", "hours", "contact_name", "contact_phone", "description", "status", "status_note"}
)
ALL_FIELDS = MERCHANT_FIELDS | {
    "name",
    "kind",
    "address",
    "location",
    "zones",
    "merchant",
    "host_name",
    "ref",
}
MAX_PHOTOS = 12
MAX_WALK_IN = 500
_PHONE = re.compile(r"^[0-9+\-() ]{7,20}$")
_REF = re.compile(r"^[A-Za-z0-9._:/\-]{1,64}$")
_CATALOGUE_KEY = "stations:catalogue:v1"
#: Changes whenever the catalogue does: a committed change deletes it, and the next reader
#: makes a new one (reading the rows from the database). Each process keeps its own copy of
#: the rows and trusts it while this token is unchanged.
_CATALOGUE_TOKEN_KEY = "stations:catalogue:token"
#: How long the shared cache keeps the rows and the token, and a process its own copy, at
#: most: with the embedded per-process cache a change made by another worker process shows
#: within this; with Redis a change shows at once (at the next request).
_CATALOGUE_TTL = 60

#: The connections whose open transaction has changed the catalogue: until it ends, such a
#: connection reads the catalogue from the database (it sees its own change, the shared cache
#: does not) and never caches what it read (the change may still be rolled back). Nearly always
#: empty, so that a read need not look up its connection (a thread-local lookup, several µs).
_catalogue_changing: WeakSet = WeakSet()


class _CatalogueCopy(NamedTuple):
    token: str
    rows: tuple[tuple[str, int, str, str, bool], ...]
    taken: float  # time.monotonic()


#: This process's copy of the catalogue.
_catalogue_copy: _CatalogueCopy | None = None
#: Outside a request (commands, tasks, tests) the copy is checked against the token on every
#: read; within one, on the first read only (``_catalogue_request``): a nearby request reads
#: the catalogue for every result, and a cache read costs as much as the rest of the lookup.
_OUTSIDE_REQUEST = object()
_catalogue_checked: ContextVar[Any] = ContextVar(
    "stations_catalogue_checked", default=_OUTSIDE_REQUEST
)


def _catalogue_request(*, entering: bool, **_kwargs: Any) -> None:
    _catalogue_checked.set(None if entering else _OUTSIDE_REQUEST)


request_started.connect(
    partial(_catalogue_request, entering=True), weak=False, dispatch_uid="stations_catalogue_in"
)
request_finished.connect(
    partial(_catalogue_request, entering=False), weak=False, dispatch_uid="stations_catalogue_out"
)


# --- the service catalogue -------------------------------------------------------------------


def catalogue() -> tuple[tuple[str, int, str, str, bool], ...]:
    """(code, bit, name, name_en, active) of every catalogue entry, in display order; cached.

    Three levels: this process's copy (checked against a token in the shared cache at most
    once per request), the shared cache, the database. The transaction that changes the
    catalogue reads the database until it ends.
    """
    if _catalogue_changing:
        current = connections[DEFAULT_DB_ALIAS]
        if current in _catalogue_changing:
            if current.in_atomic_block:
                return _catalogue_rows()
            # The transaction that changed the catalogue has ended (committed or rolled back).
            _catalogue_changing.discard(current)
    checked = _catalogue_checked.get()
    copy = _catalogue_copy
    if copy is not None and checked is copy:
        return copy.rows
    copy = _catalogue_fresh()
    if checked is not _OUTSIDE_REQUEST:
        _catalogue_checked.set(copy)
    return copy.rows


def _catalogue_rows() -> tuple[tuple[str, int, str, str, bool], ...]:
    return tuple(
        ServiceItem.objects.order_by("sort_order", "bit").values_list(
            "code", "bit", "name", "name_en", "is_active"
        )
    )


def _catalogue_fresh() -> _CatalogueCopy:
    """This process's copy if the token says it is current, else a new one."""
    global _catalogue_copy
    token = cache.get(_CATALOGUE_TOKEN_KEY)
    copy = _catalogue_copy
    now = time.monotonic()
    if copy is not None and token == copy.token and now - copy.taken < _CATALOGUE_TTL:
        return copy
    rows = None if token is None else cache.get(_CATALOGUE_KEY)
    if rows is None:
        # No token (a change, an expiry, a cleared cache): the rows from the database, so
        # that no copy older than the token is ever filed under it.
        rows = _catalogue_rows()
        cache.set(_CATALOGUE_KEY, list(rows), _CATALOGUE_TTL)
        if token is None:
            token = secrets.token_hex(8)
            if not cache.add(_CATALOGUE_TOKEN_KEY, token, _CATALOGUE_TTL):
                token = cache.get(_CATALOGUE_TOKEN_KEY) or token  # another process's, just made
    copy = _CatalogueCopy(token, tuple(tuple(row) for row in rows), now)
    _catalogue_copy = copy
    return copy


def _catalogue_changed() -> None:
    current = connections[DEFAULT_DB_ALIAS]
    _catalogue_changing.add(current)

    def committed() -> None:
        global _catalogue_copy
        _catalogue_changing.discard(current)
        cache.delete_many([_CATALOGUE_KEY, _CATALOGUE_TOKEN_KEY])
        _catalogue_copy = None

    transaction.on_commit(committed)


def services_mask(codes: Iterable[Any] | str | None, *, field: str = "services") -> int:
    """The bit set of service codes (a list, or text separated by , 、 ; or spaces).

    Names in Chinese or English are accepted too, so a spreadsheet can say 手机充电.
    """
    if codes is None:
        return 0
    by_name = _bits_by_name(catalogue())
    if isinstance(codes, str):
        codes = _service_words(codes, by_name)
    elif isinstance(codes, dict) or not isinstance(codes, Iterable):
        codes = [codes]
    mask = 0
    for code in codes:
        text = code.strip() if isinstance(code, str) else None
        bit = by_name.get(text.lower() if text is not None and text.isascii() else text)
        if text is None or bit is None:
            raise ApplicationError(
                _("%(value)s is not a service of the catalogue.") % {"value": str(code)[:40]},
                code="unknown_service",
                field=field,
            )
        mask |= 1 << bit
    return mask


@lru_cache(maxsize=4)
def _bits_by_name(rows: tuple[tuple[str, int, str, str, bool], ...]) -> dict[str, int]:
    """Code and names (Chinese, and lower-case) → bit of the active services, per catalogue
    (read only: the dict is shared)."""
    by_name: dict[str, int] = {}
    for code, bit, name, name_en, active in rows:
        if active:
            for key in (code, name, name.lower(), name_en.lower()):
                by_name[key] = bit
    return by_name


def _service_words(text: str, by_name: dict[str, int]) -> list[str]:
    """Split text at punctuation and spaces, keeping names with spaces whole (Tyre inflation)."""
    words: list[str] = []
    for part in re.split(r"[,，、;；/]+", text):
        pieces = part.split()
        start = 0
        while start < len(pieces):
            end = next(
                (
                    end
                    for end in range(len(pieces), start, -1)
                    if " ".join(pieces[start:end]).lower() in by_name
                ),
                start + 1,
            )
            words.append(" ".join(pieces[start:end]))
            start = end
    return words


def service_codes(mask: int) -> list[str]:
    return [code for code, bit, *_rest in catalogue() if mask >> bit & 1]


def _require_operator(actor: Any) -> None:
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if not actor.is_superuser:
        raise Forbidden(_("Only the platform operator changes the service catalogue."))


@transaction.atomic
def service_item_create(
    *, code: str, name: str, name_en: str, actor: Any, sort_order: int = 0
) -> ServiceItem:
    """Add a service to the catalogue; it takes the next free bit (at most 63 services)."""
    _require_operator(actor)
    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,31}", code):
        raise ApplicationError(
            _("A code is 2 to 32 lower-case letters, digits or _, starting with a letter."),
            field="code",
        )
    name, name_en = (name or "").strip(), (name_en or "").strip()
    if not name or len(name) > 40 or not name_en or len(name_en) > 60:
        raise ApplicationError(_("Give the service a Chinese and an English name."), field="name")
    if ServiceItem.objects.filter(code=code).exists():
        raise Conflict(_("The catalogue already has the code %(code)s.") % {"code": code})
    # Serialise bit allocation: lock the catalogue rows (PostgreSQL; SQLite has one writer).
    list(ServiceItem.objects.select_for_update().values_list("pk"))
    bit = (ServiceItem.objects.aggregate(m=Max("bit"))["m"] or -1) + 1
    if bit >= MAX_SERVICE_BITS:
        raise ApplicationError(
            _("The catalogue is full (%(n)s services).") % {"n": MAX_SERVICE_BITS}
        )
    item = ServiceItem.objects.create(
        code=code, name=name, name_en=name_en, bit=bit, sort_order=_order(sort_order)
    )
    log_action(actor=actor, action="service_item.created", target=item, data={"code": code})
    _catalogue_changed()
    return item


@transaction.atomic
def service_item_update(
    *,
    item: ServiceItem,
    actor: Any,
    name: str | None = None,
    name_en: str | None = None,
    sort_order: int | None = None,
    is_active: bool | None = None,
) -> ServiceItem:
    _require_operator(actor)
    changes: dict[str, Any] = {}
    if name is not None:
        if not name.strip() or len(name.strip()) > 40:
            raise ApplicationError(_("Give the service a Chinese name."), field="name")
        changes["name"] = name.strip()
    if name_en is not None:
        if not name_en.strip() or len(name_en.strip()) > 60:
            raise ApplicationError(_("Give the service an English name."), field="name_en")
        changes["name_en"] = name_en.strip()
    if sort_order is not None:
        changes["sort_order"] = _order(sort_order)
    if is_active is not None:
        changes["is_active"] = bool(is_active)
    if not changes:
        return item
    for name_, value in changes.items():
        setattr(item, name_, value)
    item.save(update_fields=list(changes))
    log_action(actor=actor, action="service_item.updated", target=item, data=changes)
    _catalogue_changed()
    return item


# --- checks ------------------------------------------------------------------------------------


def _order(value: Any) -> int:
    """A position in a list: a whole number from 0 (the column is a small unsigned integer)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32767:
        raise ApplicationError(
            _("The order must be a whole number from 0 to 32767."), field="sort_order"
        )
    return value


def _kind(kind: Any) -> str:
    if kind not in StationKind.values:
        raise ApplicationError(
            _("Please choose a valid kind of station."), code="invalid_kind", field="kind"
        )
    return kind


def _status(status: Any) -> str:
    if status not in StationStatus.values:
        raise ApplicationError(_("Please choose a valid status."), field="status")
    return status


def _zones(zones: Any) -> list[str]:
    if zones is None:
        return []
    if isinstance(zones, str):
        zones = [z for z in re.split(r"[,，、;；/\s]+", zones) if z]
    if not isinstance(zones, list | tuple):
        raise ApplicationError(_("Functional zones must be a list."), field="zones")
    names = _zone_names()
    result = []
    for zone in zones:
        value = names.get(zone.strip().lower()) if isinstance(zone, str) else None
        if value is None:
            raise ApplicationError(
                _("%(value)s is not a functional zone.") % {"value": str(zone)[:20]},
                field="zones",
            )
        if value not in result:
            result.append(value)
    return result


def _zone_names() -> dict[str, str]:
    """Every way to name a zone, in any language: party, Party building, 党建, 党建区, and the
    label of the current language."""
    from django.utils import translation

    names: dict[str, str] = {}
    for value, label in FunctionalZone.choices:
        with translation.override(None):
            msgid = str(label)  # "Party building (党建)"
        english, _sep, chinese = msgid.partition(" (")
        chinese = chinese.rstrip(")")
        for name in (value, english, english.split(" ")[0], chinese, f"{chinese}区", str(label)):
            names[name.lower()] = value
    return names


def _phone(value: Any) -> str:
    text = _text(value, field="contact_phone", limit=20)
    if text and (not _PHONE.match(text) or sum(c.isdigit() for c in text) < 7):
        raise ApplicationError(
            _("Please enter a phone number such as 0352-1234567 or 13812341234."),
            code="invalid_phone",
            field="contact_phone",
        )
    return text


def _ref(value: Any) -> str:
    text = _text(value, field="ref", limit=64)
    if text and not _REF.match(text):
        raise ApplicationError(
            _("A reference is up to 64 letters, digits or . _ : / -"), field="ref"
        )
    return text


def _hours(value: Any) -> dict:
    """Hours as stored JSON, from an ``Hours``, its JSON form or its text form."""
    if isinstance(value, hours_module.Hours):
        return value.to_json()
    if isinstance(value, str):
        return hours_module.parse_text(value).to_json()
    return hours_module.parse_json(value).to_json()


def _merchant(value: Any) -> Any:
    if value is None:
        return None
    if getattr(value, "role", None) != Role.MERCHANT:
        raise ApplicationError(
            _("The host must be a merchant account."), code="not_a_merchant", field="merchant"
        )
    return value


def place(community: Any, lat: Any, lng: Any, crs: Any = "wgs84") -> tuple[float, float, Any]:
    """A point (in ``crs``) as WGS-84 inside ``community``, and the grid it falls in."""
    if not isinstance(community, Area) or community.level != AreaLevel.COMMUNITY:
        raise ApplicationError(_("Please choose a community."), field="community")
    lat, lng = check_point(lat, lng)
    lat, lng = to_wgs84(lat, lng, crs)
    lat, lng = round(lat, 7), round(lng, 7)
    if community.boundary and not covers_point(community, lat, lng):
        raise ApplicationError(
            _("The location is outside %(community)s: check the point or the community.")
            % {"community": community.name},
            code="outside_community",
            field="lat",
        )
    return lat, lng, grid_for_point(lat, lng, within=community)


def _check_unique_ref(ref: str, exclude: int | None = None) -> None:
    if ref and Station.objects.filter(ref=ref).exclude(pk=exclude).exists():
        raise Conflict(
            _("Another station already has the reference %(ref)s.") % {"ref": ref}, field="ref"
        )


@contextmanager
def _ref_kept_unique(ref: str) -> Iterator[None]:
    """Two writers giving one new reference at once pass the check above together; the unique
    index then refuses the second, which is the same 409, not a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        if ref and Station.objects.filter(ref=ref).exists():
            raise Conflict(
                _("Another station already has the reference %(ref)s.") % {"ref": ref},
                field="ref",
            ) from None
        raise


# --- stations ----------------------------------------------------------------------------------


@transaction.atomic
def station_create(
    *,
    name: str,
    kind: str,
    community: Any,
    lat: Any,
    lng: Any,
    actor: Any,
    address: str = "",
    crs: Any = "wgs84",
    services: Iterable[str] | str | None = None,
    hours: Any = None,
    zones: Any = None,
    merchant: Any = None,
    host_name: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    description: str = "",
    ref: str = "",
    status: str = StationStatus.OPEN,
) -> Station:
    """A station in a community; its grid follows from its location (given in ``crs``)."""
    if not isinstance(community, Area) or community.level != AreaLevel.COMMUNITY:
        raise ApplicationError(_("Please choose a community."), field="community")
    require(actor, Action.OPERATE, community)
    name = _text(
        name,
        field="name",
        limit=100,
        required=True,
        message=_("A station needs a name of at most 100 characters."),
    )
    lat, lng, grid = place(community, lat, lng, crs)
    ref = _ref(ref)
    _check_unique_ref(ref)
    station = Station(
        ref=ref,
        name=name,
        kind=_kind(kind),
        community=community,
        grid=grid,
        area_code=grid.code if grid else community.code,
        address=_text(address, field="address", limit=200),
        lat=lat,
        lng=lng,
        cell=cell_of(lat, lng),
        status=_status(status),
        merchant=_merchant(merchant),
        host_name=_text(host_name, field="host_name", limit=100),
        contact_name=_text(contact_name, field="contact_name", limit=50),
        contact_phone=_phone(contact_phone),
        description=_text(description, field="description", limit=500),
        services_mask=services_mask(services),
        zones=_zones(zones),
        hours=_hours(hours),
    )
    with _ref_kept_unique(ref):
        station.save(force_insert=True)
    log_action(actor=actor, action="station.created", target=station, data={"name": name})
    return station


def _may_change(actor: Any, station: Station, fields: set[str]) -> None:
    require(actor, Action.OPERATE, station)
    if actor.is_superuser or actor.role != Role.MERCHANT:
        return
    beyond = sorted(fields - MERCHANT_FIELDS)
    if beyond:
        raise Forbidden(
            _("A host merchant can change services, hours, contact and status only (not %(f)s).")
            % {"f": ", ".join(beyond)}
        )


@transaction.atomic
def station_update(*, station: Station, actor: Any, **changes: Any) -> Station:
    """Change some of a station's fields (``ALL_FIELDS``; ``location`` is ``(lat, lng, crs)``).

    Locking the row makes two editors apply in turn; the audit entry lists old and new values.
    """
    unknown = sorted(set(changes) - ALL_FIELDS)
    if unknown:
        raise ApplicationError(
            _("%(f)s cannot be changed here.") % {"f": ", ".join(unknown)}, field=unknown[0]
        )
    _may_change(actor, station, set(changes))
    station = Station.objects.select_for_update().select_related("community").get(pk=station.pk)
    values: dict[str, Any] = {}
    for name_, value in changes.items():
        if name_ == "name":
            values["name"] = _text(value, field="name", limit=100, required=True)
        elif name_ == "kind":
            values["kind"] = _kind(value)
        elif name_ in {"address", "host_name", "contact_name", "description", "status_note"}:
            limit = {"address": 200, "host_name": 100, "contact_name": 50}.get(name_, 500)
            limit = 200 if name_ == "status_note" else limit
            values[name_] = _text(value, field=name_, limit=limit)
        elif name_ == "contact_phone":
            values[name_] = _phone(value)
        elif name_ == "status":
            values[name_] = _status(value)
        elif name_ == "services":
            values["services_mask"] = services_mask(value)
        elif name_ == "hours":
            values["hours"] = _hours(value)
        elif name_ == "zones":
            values["zones"] = _zones(value)
        elif name_ == "merchant":
            values["merchant"] = _merchant(value)
        elif name_ == "ref":
            values["ref"] = _ref(value)
            _check_unique_ref(values["ref"], exclude=station.pk)
        elif name_ == "location":
            lat, lng, grid = place(station.community, *_location(value))
            values.update(
                lat=lat,
                lng=lng,
                cell=cell_of(lat, lng),
                grid=grid,
                area_code=grid.code if grid else station.community.code,
            )
    before = {}
    for name_, value in values.items():
        old = getattr(station, name_)
        if old != value:
            before[name_] = old
            setattr(station, name_, value)
    if not before:
        return station
    with _ref_kept_unique(values.get("ref", "")):
        station.save(update_fields=[*before, "updated_at"])
    log_action(
        actor=actor,
        action="station.updated",
        target=station,
        data={
            "changed": sorted(before),
            "before": {k: _plain(v) for k, v in before.items()},
            "after": {k: _plain(getattr(station, k)) for k in before},
        },
    )
    return station


def _location(value: Any) -> tuple[Any, Any, Any]:
    """``(lat, lng)``, ``(lat, lng, crs)`` or ``{"lat", "lng", "crs"}`` as (lat, lng, crs)."""
    if isinstance(value, dict):
        value = (value.get("lat"), value.get("lng"), value.get("crs") or "wgs84")
    if isinstance(value, list | tuple) and len(value) in (2, 3):
        return (value[0], value[1], value[2] if len(value) == 3 else "wgs84")
    raise ApplicationError(
        _("Give the location as latitude and longitude."), code="invalid_location", field="location"
    )


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    return value


@transaction.atomic
def station_exception_set(
    *, station: Station, day: Any, actor: Any, periods: Any = None, closed: bool = False
) -> Station:
    """Special hours (or closed) on one date, e.g. a holiday. Past exceptions are dropped."""
    _may_change(actor, station, {"hours"})
    station = Station.objects.select_for_update().get(pk=station.pk)
    day = hours_module.parse_date(day)
    today = timezone.localdate()
    if day < today:
        raise ApplicationError(
            _("The date has passed: give today or a later date."), code="date_passed", field="day"
        )
    if closed:
        spans: tuple = ()
    elif periods in (None, "", [], ()):
        raise ApplicationError(
            _("Give the opening periods of that day (08:00-12:00) or mark it closed."),
            code="invalid_hours",
            field="periods",
        )
    else:
        # "08:00-12:00,14:00-18:00", [["08:00", "12:00"]], ["08:00-12:00"]; "休息": closed.
        spans = hours_module.parse_periods(periods)
    current = station.opening_hours.without_exceptions_before(today)
    station.hours = current.with_exception(day, spans).to_json()
    station.save(update_fields=["hours", "updated_at"])
    log_action(
        actor=actor,
        action="station.exception_set",
        target=station,
        data={"day": day.isoformat(), "closed": not spans, "periods": station.hours},
    )
    return station


@transaction.atomic
def station_exception_remove(*, station: Station, day: Any, actor: Any) -> Station:
    _may_change(actor, station, {"hours"})
    station = Station.objects.select_for_update().get(pk=station.pk)
    day = hours_module.parse_date(day)
    hours = station.opening_hours
    if day not in hours.exceptions:
        raise ApplicationError(
            _("There are no special hours on %(day)s.") % {"day": day.isoformat()},
            code="no_exception",
            status=404,
            field="day",
        )
    station.hours = hours.with_exception(day, None).to_json()
    station.save(update_fields=["hours", "updated_at"])
    log_action(
        actor=actor, action="station.exception_removed", target=station, data={"day": str(day)}
    )
    return station


@transaction.atomic
def station_photo_add(
    *, station: Station, upload: Any, actor: Any, caption: str = ""
) -> StationPhoto:
    """A photo of the station, stripped of metadata and resized (``core.images``)."""
    _may_change(actor, station, {"description"})
    caption = _text(caption, field="caption", limit=100)
    Station.objects.select_for_update().filter(pk=station.pk).first()
    if StationPhoto.objects.filter(station=station).count() >= MAX_PHOTOS:
        raise ApplicationError(
            _("A station can show at most %(n)s photos: remove one first.") % {"n": MAX_PHOTOS},
            code="too_many_photos",
            field="photo",
        )
    processed = process_image(upload, sizes={"display": 1600, "thumb": 400})
    photo = StationPhoto(
        station=station,
        area_code=station.area_code,
        caption=caption,
        width=processed.width,
        height=processed.height,
        uploaded_by=actor,
    )
    try:
        photo.image.save(f"s{station.pk}.jpg", processed.files["display"], save=False)
        photo.thumbnail.save(f"s{station.pk}-thumb.jpg", processed.files["thumb"], save=False)
        with transaction.atomic():
            photo.save()
            log_action(
                actor=actor, action="station.photo_added", target=station, data={"photo": photo.pk}
            )
    except BaseException:
        # Files are not transactional: do not leave them behind when the row is not written
        # (nor the first file when writing the second failed).
        for stored in (photo.image, photo.thumbnail):
            if stored.name:
                stored.storage.delete(stored.name)
        raise
    return photo


@transaction.atomic
def station_photo_remove(*, photo: StationPhoto, actor: Any) -> None:
    station = photo.station
    _may_change(actor, station, {"description"})
    names = [photo.image.name, photo.thumbnail.name]
    storage = photo.image.storage
    photo_id = photo.pk
    photo.delete()
    log_action(
        actor=actor, action="station.photo_removed", target=station, data={"photo": photo_id}
    )
    transaction.on_commit(lambda: [storage.delete(name) for name in names])


# --- the check-in QR code ----------------------------------------------------------------------


def qr_token(station: Station, *, key: bytes | None = None) -> str:
    """The signature in the station's check-in link: forged or voided codes do not match."""
    key = key or crypto.derive_key(b"station-qr")
    digest = hmac.new(key, f"{station.pk}:{station.qr_version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode()


def _qr_matches(station: Station, token: Any) -> bool:
    """``token`` is the station's code under the current field key or a key being rotated out
    (a poster printed before a key rotation keeps working until the old key is dropped)."""
    if not isinstance(token, str):
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters (a mangled link may carry them).
    given = token.encode()
    return any(
        hmac.compare_digest(given, qr_token(station, key=key).encode())
        for key in crypto.derive_keys(b"station-qr")
    )


@transaction.atomic
def station_qr_rotate(*, station: Station, actor: Any) -> Station:
    """Void every printed code of the station (e.g. a poster was copied); print the new one."""
    require(actor, Action.OPERATE, station)
    if actor.role == Role.MERCHANT and not actor.is_superuser:
        raise Forbidden(_("Only staff can replace a station's QR code."))
    Station.objects.filter(pk=station.pk).update(qr_version=F("qr_version") + 1)
    station.refresh_from_db(fields=["qr_version"])
    log_action(
        actor=actor, action="station.qr_rotated", target=station, data={"v": station.qr_version}
    )
    return station


# --- visits ------------------------------------------------------------------------------------


def visit_period(at: datetime) -> int:
    """The number of the check-in period ``at`` falls in, counted in local time."""
    hours = max(1, settings.STATION_VISIT_PERIOD_HOURS)
    local = timezone.localtime(at)
    # Seconds since 1970-01-01 00:00 *local* time, so a 24-hour period is a local day.
    local_seconds = local.timestamp() + local.utcoffset().total_seconds()
    return math.floor(local_seconds / (hours * 3600))


def qr_check(*, station: Station, token: Any) -> None:
    """Raise unless ``token`` is the station's current code and check-ins are open there
    (the scan page calls it before it shows a button; :func:`visit_check_in` calls it too)."""
    if not _qr_matches(station, token):
        raise ApplicationError(
            _("This QR code is not valid (it may have been replaced): scan the one on display."),
            code="invalid_qr",
            field="token",
        )
    if station.status != StationStatus.OPEN:
        raise Conflict(
            _("%(name)s is suspended at the moment: check-ins are closed.") % {"name": station},
            code="station_suspended",
        )


def visit_check_in(
    *,
    station: Station,
    token: Any,
    user: Any,
    idempotency_key: str,
    scanned_at: datetime | None = None,
) -> Visit:
    """A rider scanned the station's code: one visit per rider, station and period.

    Returns the visit; ``visit.already`` is True when the rider had already checked in this
    period (a second scan finds the first visit, nothing new is counted).

    ``scanned_at`` is when the phone scanned the code, for a check-in kept offline and sent
    later: the visit counts for that time's period and day when it arrives within
    ``STATION_OFFLINE_CHECK_IN_HOURS``; later it is refused (400). A time ahead of ours (a
    phone's clock) counts as now.
    """
    if not is_authenticated(user):
        raise Unauthenticated(_("Please log in first."))
    if user.role != Role.RIDER:
        raise Forbidden(_("Only riders check in at a station."), code="not_a_rider")
    qr_check(station=station, token=token)
    if scanned_at is not None:
        oldest = timezone.now() - timedelta(hours=settings.STATION_OFFLINE_CHECK_IN_HOURS)
        if timezone.is_naive(scanned_at) or scanned_at < oldest:
            raise ApplicationError(
                _(
                    "This check-in was scanned more than %(hours)s hours ago and no longer "
                    "counts: scan the code again when you are at the station."
                )
                % {"hours": settings.STATION_OFFLINE_CHECK_IN_HOURS},
                code="check_in_too_old",
                field="scanned_at",
            )

    def work() -> Visit:
        now = timezone.now()
        if scanned_at is not None:
            now = min(now, scanned_at)
        period = visit_period(now)
        try:
            with transaction.atomic():
                visit = Visit.objects.create(
                    station=station,
                    area_code=station.area_code,
                    kind=VisitKind.SCAN,
                    rider=user,
                    people=1,
                    period=period,
                    day=timezone.localdate(now),
                    recorded_by=user,
                )
        except IntegrityError:
            visit = Visit.objects.get(
                station=station, rider=user, period=period, kind=VisitKind.SCAN
            )
            visit.already = True
            return visit
        visit.already = False
        return visit

    visit = run_once(
        scope="stations.check_in",
        key=idempotency_key,
        payload={"station": station.pk, "user": user.pk},
        model=Visit,
        work=work,
    )
    if not hasattr(visit, "already"):
        # A replayed request (the same key again) gets the visit read back from the database:
        # this request counted nothing new, so for it the rider had already checked in.
        visit.already = True
    return visit


def visit_walk_in(
    *,
    station: Station,
    people: Any,
    actor: Any,
    note: str = "",
    idempotency_key: str | None = None,
) -> Visit:
    """The host (or staff) records people served who did not scan, e.g. 3 riders charging."""
    _may_change(actor, station, {"description"})
    if isinstance(people, bool) or not isinstance(people, int) or not 1 <= people <= MAX_WALK_IN:
        raise ApplicationError(
            _("Please give a whole number from 1 to %(n)s.") % {"n": MAX_WALK_IN}, field="people"
        )
    note = _text(note, field="note", limit=200)

    def work() -> Visit:
        now = timezone.now()
        visit = Visit.objects.create(
            station=station,
            area_code=station.area_code,
            kind=VisitKind.WALK_IN,
            people=people,
            day=timezone.localdate(now),
            note=note,
            recorded_by=actor,
        )
        log_action(actor=actor, action="station.walk_in", target=station, data={"people": people})
        return visit

    if idempotency_key is None:
        with transaction.atomic():
            return work()
    return run_once(
        scope="stations.walk_in",
        key=idempotency_key,
        payload={"station": station.pk, "people": people, "note": note},
        model=Visit,
        work=work,
    )


# --- checklist and inspections ---------------------------------------------------------------


@transaction.atomic
def checklist_item_create(
    *, street: Any, text: str, actor: Any, standard: str = "6+6", sort_order: int = 0
) -> ChecklistItem:
    """An item of a street's station standard (admins of the street configure it)."""
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("Please choose a street."), field="street")
    require(actor, Action.CONFIGURE, street)
    text = _text(text, field="text", limit=200, required=True)
    standard = _text(standard, field="standard", limit=50, required=True)
    if ChecklistItem.objects.filter(street=street, standard=standard, text=text).exists():
        raise Conflict(_("The checklist already has this item."), field="text")
    item = ChecklistItem.objects.create(
        street=street,
        area_code=street.code,
        standard=standard,
        text=text,
        sort_order=_order(sort_order),
    )
    log_action(actor=actor, action="checklist.item_created", target=item, data={"text": text})
    return item


@transaction.atomic
def checklist_item_update(
    *, item: ChecklistItem, actor: Any, is_active: bool | None = None, sort_order: int | None = None
) -> ChecklistItem:
    require(actor, Action.CONFIGURE, item.street)
    changes = {}
    if is_active is not None:
        changes["is_active"] = bool(is_active)
    if sort_order is not None:
        changes["sort_order"] = _order(sort_order)
    for name_, value in changes.items():
        setattr(item, name_, value)
    if changes:
        item.save(update_fields=list(changes))
        log_action(actor=actor, action="checklist.item_updated", target=item, data=changes)
    return item


def _inspection_day(value: Any) -> date:
    """A date (a date-time counts by its local day; text as 2026-05-01)."""
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    try:
        return hours_module.parse_date(value)
    except ApplicationError:
        raise ApplicationError(
            _("%(value)s is not a date: write it as 2026-10-01.") % {"value": str(value)[:20]},
            field="inspected_on",
        ) from None


def street_of_station(station: Station) -> Area:
    community = station.community
    return community.parent


@transaction.atomic
def inspection_record(
    *,
    station: Station,
    results: dict[Any, Any],
    actor: Any,
    standard: str = "6+6",
    inspected_on: date | None = None,
    note: str = "",
    notes: dict[Any, str] | None = None,
) -> Inspection:
    """Record an inspection: every active item of the street's standard, passed or not."""
    require(actor, Action.OPERATE, station)
    if actor.role == Role.MERCHANT and not actor.is_superuser:
        raise Forbidden(_("Only staff inspect stations."))
    street = street_of_station(station)
    items = {
        item.pk: item
        for item in ChecklistItem.objects.filter(street=street, standard=standard, is_active=True)
    }
    if not items:
        raise ApplicationError(
            _("%(street)s has no checklist for the standard %(standard)s yet.")
            % {"street": street.name, "standard": standard},
            code="no_checklist",
            field="standard",
        )
    if not isinstance(results, dict):
        raise ApplicationError(_("Results must map checklist items to passed or not."))
    given: dict[int, bool] = {}
    for key, value in results.items():
        try:
            item_id = -1 if isinstance(key, bool | float) else int(key)
        except (TypeError, ValueError):
            item_id = -1
        if item_id not in items:
            raise ApplicationError(
                _("%(item)s is not an item of this checklist.") % {"item": str(key)[:20]},
                field="results",
            )
        if not isinstance(value, bool):
            raise ApplicationError(_("Each item is passed (true) or not (false)."), field="results")
        given[item_id] = value
    missing = [items[pk].text for pk in items if pk not in given]
    if missing:
        raise ApplicationError(
            _("Every item needs an answer; missing: %(items)s.") % {"items": "；".join(missing)},
            code="incomplete_inspection",
            field="results",
        )
    today = timezone.localdate()
    inspected_on = _inspection_day(inspected_on) if inspected_on is not None else today
    if inspected_on > today or inspected_on < today - timedelta(days=366):
        raise ApplicationError(
            _("The inspection date must be within the past year."), field="inspected_on"
        )
    notes = notes or {}
    if not isinstance(notes, dict):
        raise ApplicationError(_("Notes must map checklist items to text."), field="notes")
    inspection = Inspection.objects.create(
        station=station,
        area_code=station.area_code,
        inspector=actor,
        inspected_on=inspected_on,
        standard=standard,
        passed=sum(given.values()),
        total=len(given),
        note=_text(note, field="note", limit=500),
    )
    InspectionResult.objects.bulk_create(
        InspectionResult(
            inspection=inspection,
            item_id=pk,
            passed=passed,
            note=_text(notes.get(pk, notes.get(str(pk), "")), field="notes", limit=200),
        )
        for pk, passed in given.items()
    )
    log_action(
        actor=actor,
        action="station.inspected",
        target=station,
        data={"inspection": inspection.pk, "passed": inspection.passed, "total": inspection.total},
    )
    return inspection
