"""Station pages: the nearby search (一刻钟服务圈) and a station's public page for everyone; the
QR check-in for riders; the staff console (registry, hours, photos, visits, inspections, QR
posters, the street checklist); the merchant's phone page for their caring corner.

Views are thin: gate the account type (``core.pages.page``), read through
``stations.selectors`` (the permission layer), write through ``stations.services``, and show a
refusal on the form (400, or the service's 409) or as the error page with the service's status.
The nearby list is drawn on the server from a GET form, so it works without JavaScript and
without map tiles; htmx refreshes just the list when it is there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.areas.selectors import areas_in_scope, communities
from yizhan.core import ratelimit
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError
from yizhan.core.geo import CRS, navigation_links
from yizhan.core.home import Card, Item
from yizhan.core.pages import error_page, form_error, is_htmx, page
from yizhan.core.pagination import page_of
from yizhan.core.permissions import (
    Action,
    can,
    get_for_user,
    is_authenticated,
    is_console_user,
    scope_code,
)
from yizhan.core.qr import qr_svg
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.stations import exchange, forms, selectors, services
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import FunctionalZone, NearbyMode, StationKind, StationStatus
from yizhan.stations.models import ChecklistItem, Station, StationPhoto

CONSOLE = tuple(CONSOLE_ROLES)
NEARBY_PAGE_SIZE = 20


def refusal(
    request: HttpRequest,
    form: Any,
    exc: ApplicationError,
    draw: Callable[[int], HttpResponse],
) -> HttpResponse:
    """A service refused a form: what the user may not do (403/404) is the error page; anything
    they can correct is shown on the form, with the service's status (400, 409)."""
    if exc.status in (401, 403, 404):
        return error_page(request, exc)
    form_error(form, exc)
    return draw(exc.status)


def month_start() -> date:
    return timezone.localdate().replace(day=1)


# --- words for numbers and times ---------------------------------------------------------------


def distance_text(metres: float) -> str:
    if metres < 1000:
        shown = int(round(metres / 10) * 10) if metres >= 100 else round(metres)
        return _("%(n)s m") % {"n": shown}
    return _("%(n)s km") % {"n": f"{metres / 1000:.1f}"}


def when_text(moment: datetime, now: datetime) -> str:
    """``22:00`` today, ``tomorrow 08:00``, else ``Monday 08:00`` (local time)."""
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return clock
    if local.date() == today + timedelta(days=1):
        return _("tomorrow %(time)s") % {"time": clock}
    day = hours_module.WEEKDAY_LABELS[local.weekday()]
    return _("%(day)s %(time)s") % {"day": day, "time": clock}


def status_words(status: hours_module.OpenStatus, now: datetime) -> tuple[str, str]:
    """(css class, words) for an open status: "Open now · closes at 22:00" …"""
    if not status.known:
        return "unknown", _("Hours not published")
    if status.is_open:
        if status.changes_at is None:
            return "open", _("Open now · 24 hours")
        return "open", _("Open now · closes at %(time)s") % {
            "time": when_text(status.changes_at, now)
        }
    if status.changes_at is None:
        return "closed", _("Closed")
    return "closed", _("Closed · opens at %(time)s") % {"time": when_text(status.changes_at, now)}


def home_card(user: Any) -> Card | None:
    """The rider's home card: the nearest station open now to their usual work area (the
    nearby search, one result), with a link to search around where they are. Two queries."""
    rider = getattr(user, "rider", None) if user.role == Role.RIDER else None
    if rider is None:
        return None
    query = selectors.nearby_query(
        lat=rider.work_lat, lng=rider.work_lng, open_now=True, page_size=1, out_crs=CRS.WGS84
    )
    found = selectors.nearby(query).items
    search = reverse("stations:nearby") + "?" + urlencode({"open": "1"})
    if not found:
        items = [Item(_("None open near your work area now: search around you"), search)]
    else:
        station = found[0]
        now = timezone.now()
        note = f"{distance_text(station.distance_m)} · {status_words(station.status, now)[1]}"
        items = [Item(station.name, reverse("stations:detail", args=[station.id]), note)]
    return Card(_("Nearest open station"), items, search)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def spans_text(spans: tuple) -> str:
    if not spans:
        return _("Closed")
    return ", ".join(f"{_clock(start)}–{_clock(end)}" for start, end in spans)


def zone_labels(zones: Any) -> list[str]:
    labels = dict(FunctionalZone.choices)
    return [str(labels[z]) for z in zones or [] if z in labels]


def kind_label(kind: str) -> str:
    return str(dict(StationKind.choices).get(kind, kind))


# --- the nearby search (public) ----------------------------------------------------------------


def _community_of(user: Any, places: list[Area]) -> Area | None:
    """The community a signed-in account belongs to, if it is among ``places`` (no query)."""
    code = getattr(user, "area_code", "") if is_authenticated(user) else ""
    if not code:
        return None
    return next((c for c in places if code.startswith(c.code)), None)


def _search_point(request: HttpRequest, places: list[Area]) -> tuple[Any, Any, str, str, str]:
    """(lat, lng, crs, words for the place, community code) of the search, or Nones."""
    params = request.GET
    code = (params.get("community") or "").strip()
    if code:
        community = next((c for c in places if c.code == code), None)
        if community is None:
            raise ApplicationError(
                _("Please choose a community from the list."),
                code="unknown_community",
                field="community",
            )
        return community.center_lat, community.center_lng, CRS.WGS84, community.name, code
    lat, lng = params.get("lat", ""), params.get("lng", "")
    if lat.strip() or lng.strip():
        return lat, lng, params.get("crs") or CRS.WGS84, _("the place you chose"), ""
    if not params:
        # Nothing asked yet: start from the account's own community, if it has one.
        community = _community_of(request.user, places)
        if community is not None:
            return (
                community.center_lat,
                community.center_lng,
                CRS.WGS84,
                community.name,
                community.code,
            )
    return None, None, "", "", ""


def _page_link(request: HttpRequest, number: int) -> str:
    params = [(k, v) for k, values in request.GET.lists() if k != "page" for v in values]
    return "?" + urlencode([*params, ("page", str(number))])


@page(login=False)
def nearby(request: HttpRequest) -> HttpResponse:
    """Stations near a point: the browser's location, a tap on the map, or a community's centre."""
    params = request.GET
    # Boundaries can be large polygons: the page needs names and centres only.
    places = list(
        communities()
        .filter(center_lat__isnull=False, center_lng__isnull=False)
        .defer("boundary", "parent__boundary")
    )
    now = timezone.now()
    mode = params.get("mode") or NearbyMode.EBIKE
    context: dict[str, Any] = {
        "places": places,
        "modes": NearbyMode.choices,
        "mode": mode,
        "kinds": StationKind.choices,
        "chosen_kinds": params.getlist("kinds"),
        "services": selectors.active_services(),
        "chosen_services": params.getlist("services"),
        "open_now": params.get("open") == "1",
        "lat": params.get("lat", ""),
        "lng": params.get("lng", ""),
        "crs": params.get("crs", ""),
        "community": params.get("community", ""),
        "results": None,
    }
    status = 200
    try:
        lat, lng, crs, where, code = _search_point(request, places)
        context["community"] = code
        if lat is not None:
            query = selectors.nearby_query(
                lat=lat,
                lng=lng,
                crs=crs,
                mode=mode,
                services=params.getlist("services"),
                kinds=params.getlist("kinds"),
                open_now=context["open_now"],
                page=params.get("page") or 1,
                page_size=NEARBY_PAGE_SIZE,
                out_crs=CRS.WGS84,
            )
            found = selectors.nearby(query)
            for result in found.items:
                result.distance = distance_text(result.distance_m)
                result.state, result.state_text = status_words(result.status, now)
            context.update(
                results=found,
                where=where,
                radius=distance_text(query.radius_m),
                center={"lat": query.lat, "lng": query.lng, "radius": query.radius_m},
                markers=[
                    {
                        "id": r.id,
                        "name": r.name,
                        "lat": r.lat,
                        "lng": r.lng,
                        "open": r.state == "open",
                        "url": reverse("stations:detail", args=[r.id]),
                    }
                    for r in found.items
                ],
                previous_link=_page_link(request, found.page - 1) if found.page > 1 else "",
                next_link=_page_link(request, found.page + 1) if found.has_more else "",
            )
    except ApplicationError as exc:
        context["error"] = exc.message
        status = exc.status
    template = "stations/_nearby_results.html" if is_htmx(request) else "stations/nearby.html"
    return render(request, template, context, status=status)


# --- a station's public page ------------------------------------------------------------------


def _manage_url(user: Any, station: Station) -> str:
    if is_console_user(user) and can(user, Action.OPERATE, station):
        return reverse("stations:edit", args=[station.pk])
    if is_authenticated(user) and station.merchant_id == user.pk and user.role == Role.MERCHANT:
        return reverse("stations:merchant_station", args=[station.pk])
    return ""


def _hours_context(station: Station, now: datetime) -> dict[str, Any]:
    hours = station.opening_hours
    today = timezone.localtime(now).date()
    state, state_text = status_words(selectors.open_status(station, now), now)
    return {
        "hours_known": hours.known,
        "week": hours_module.week_table(hours) if hours.known else [],
        "exceptions": [
            (day, spans_text(spans))
            for day, spans in sorted(hours.exceptions.items())
            if day >= today
        ],
        "state": state,
        "state_text": state_text,
    }


@page(login=False)
def detail(request: HttpRequest, station_id: int) -> HttpResponse:
    user = request.user
    station = get_for_user(selectors.stations_for_user(user), user, pk=station_id)
    now = timezone.now()
    context = {
        "station": station,
        "kind": kind_label(station.kind),
        "services": selectors.service_labels(station.services_mask),
        "zones": zone_labels(station.zones),
        "photos": selectors.photos_of(station),
        "links": navigation_links(station.lat, station.lng, station.name, station.address),
        "manage_url": _manage_url(user, station),
        "suspended": station.status != StationStatus.OPEN,
        **_hours_context(station, now),
    }
    return render(request, "stations/detail.html", context)


# --- the QR check-in (riders) ------------------------------------------------------------------


@page()
def check_in(request: HttpRequest, station_id: int, token: str) -> HttpResponse:
    """The page a station's QR code opens: a forged or replaced code, or a suspended station,
    is refused before any button; a rider checks in with one tap (once per period)."""
    user = request.user
    station = get_for_user(selectors.stations_for_user(user), user, pk=station_id)
    services.qr_check(station=station, token=token)
    is_rider = user.role == Role.RIDER
    if request.method == "POST":
        form = forms.CheckInForm(request.POST)
        if not form.is_valid():
            if form.has_error("scanned_at"):
                message = _("The time of the scan is not a date and time.")
                return error_page(request, ApplicationError(message, field="scanned_at"))
            return error_page(
                request,
                ApplicationError(
                    _("The page was incomplete: scan the code again."), field="idempotency_key"
                ),
            )
        try:
            ratelimit.hit_request(
                "check_in",
                request,
                replay=("stations.check_in", form.cleaned_data["idempotency_key"]),
            )
            visit = services.visit_check_in(
                station=station,
                token=token,
                user=user,
                idempotency_key=form.cleaned_data["idempotency_key"],
                scanned_at=form.cleaned_data["scanned_at"],
            )
        except ApplicationError as exc:
            return error_page(request, exc)
        context = {
            "station": station,
            "visit": visit,
            # A replayed request (the same page sent twice) is the first check-in itself.
            "already": getattr(visit, "already", False),
            "links": navigation_links(station.lat, station.lng, station.name, station.address),
        }
        return render(request, "stations/checked_in.html", context)
    context = {
        "station": station,
        "kind": kind_label(station.kind),
        "is_rider": is_rider,
        "form": forms.CheckInForm(initial={"idempotency_key": forms.new_key()}),
        "services": selectors.service_labels(station.services_mask),
    }
    return render(request, "stations/check_in.html", context)


# --- the staff console -------------------------------------------------------------------------


def _managed(request: HttpRequest, station_id: int) -> Station:
    """A station the console user may operate (404 unseen, 403 another area's)."""
    return get_for_user(
        selectors.stations_for_user(request.user), request.user, Action.OPERATE, pk=station_id
    )


def _console_filters(request: HttpRequest) -> tuple[forms.FilterForm, dict[str, str | None]]:
    """The console list's filter form and the filters chosen (the export applies the same)."""
    places = list(
        areas_in_scope(request.user, levels=(AreaLevel.COMMUNITY,)).defer(
            "boundary", "parent__boundary"
        )
    )
    filters = forms.FilterForm(request.GET or None, communities=places)
    return filters, filters.filters()


@page(*CONSOLE)
def console_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    filters, chosen = _console_filters(request)
    stations = selectors.filter_stations(selectors.managed_stations(user), **chosen)
    listed = page_of(stations, request)
    listed.object_list = list(listed.object_list)
    served = selectors.people_served(
        [s.pk for s in listed.object_list], since=month_start(), until=timezone.localdate()
    )
    for station in listed.object_list:
        station.served = served.get(station.pk, 0)
        station.kind_text = kind_label(station.kind)
    query = urlencode({k: v for k, v in chosen.items() if v})
    return render(
        request,
        "stations/console/list.html",
        {"page": listed, "filters": filters, "query": query, "month": month_start()},
    )


def _form_kwargs(user: Any, station: Station | None = None) -> dict[str, Any]:
    return {
        "services": selectors.active_services(),
        "merchants": selectors.merchant_choices(user, station.merchant_id if station else None),
    }


def _centres(places: Any) -> dict[str, list[float]]:
    return {
        c.code: [c.center_lat, c.center_lng]
        for c in places
        if c.center_lat is not None and c.center_lng is not None
    }


@page(*CONSOLE)
def create(request: HttpRequest) -> HttpResponse:
    user = request.user
    places = areas_in_scope(user, levels=(AreaLevel.COMMUNITY,)).defer(
        "boundary", "parent__boundary"
    )
    form = forms.StationCreateForm(
        request.POST or None,
        communities=places,
        initial={"crs": CRS.WGS84.value, "status": StationStatus.OPEN},
        **_form_kwargs(user),
    )

    def draw(status: int) -> HttpResponse:
        return render(
            request,
            "stations/console/create.html",
            {"form": form, "centres": _centres(places)},
            status=status,
        )

    if request.method != "POST":
        return draw(200)
    if not form.is_valid():
        return draw(400)
    data = form.cleaned_data
    try:
        station = services.station_create(
            actor=user,
            name=data["name"],
            kind=data["kind"],
            community=data["community"],
            lat=data["lat"],
            lng=data["lng"],
            crs=data["crs"],
            address=data["address"],
            services=data["services"],
            hours=data["hours"],
            zones=data["zones"],
            merchant=data["merchant"],
            host_name=data["host_name"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            description=data["description"],
            status=data["status"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(name)s was added.") % {"name": station.name})
    return redirect("stations:edit", station_id=station.pk)


def _with_exceptions(week: hours_module.Hours, current: hours_module.Hours) -> hours_module.Hours:
    """The new weekly schedule keeping the station's dated exceptions (those still to come);
    withdrawing the hours altogether withdraws them too."""
    if not week.known:
        return week
    kept = current.without_exceptions_before(timezone.localdate()).exceptions
    return hours_module.Hours(known=True, always=week.always, week=week.week, exceptions=kept)


def _station_initial(station: Station) -> dict[str, Any]:
    return {
        "name": station.name,
        "kind": station.kind,
        "address": station.address,
        "lat": station.lat,
        "lng": station.lng,
        "crs": CRS.WGS84.value,
        "host_name": station.host_name,
        "merchant": station.merchant_id,
        "contact_name": station.contact_name,
        "contact_phone": station.contact_phone,
        "description": station.description,
        "zones": station.zones,
        "services": services.service_codes(station.services_mask),
        "hours": hours_module.format_text(station.opening_hours),
        "status": station.status,
        "status_note": station.status_note,
    }


def _edit_page(
    request: HttpRequest,
    station: Station,
    *,
    form: forms.StationEditForm | None = None,
    exception_form: forms.ExceptionForm | None = None,
    photo_form: forms.PhotoForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    now = timezone.now()
    context = {
        "station": station,
        "form": form
        or forms.StationEditForm(initial=_station_initial(station), **_form_kwargs(user, station)),
        "exception_form": exception_form or forms.ExceptionForm(),
        "photo_form": photo_form or forms.PhotoForm(),
        "photos": selectors.photos_of(station),
        "max_photos": services.MAX_PHOTOS,
        "month": selectors.visit_totals(station, since=month_start()),
        "tab": "edit",
        **_hours_context(station, now),
    }
    return render(request, "stations/console/edit.html", context, status=status)


@page(*CONSOLE)
def edit(request: HttpRequest, station_id: int) -> HttpResponse:
    user = request.user
    station = _managed(request, station_id)
    if request.method != "POST":
        return _edit_page(request, station)
    form = forms.StationEditForm(request.POST, **_form_kwargs(user, station))

    def draw(status: int) -> HttpResponse:
        return _edit_page(request, station, form=form, status=status)

    if not form.is_valid():
        return draw(400)
    data = form.cleaned_data
    changes: dict[str, Any] = {
        name: data[name]
        for name in (
            "name",
            "kind",
            "address",
            "host_name",
            "merchant",
            "contact_name",
            "contact_phone",
            "description",
            "zones",
            "services",
            "status",
            "status_note",
        )
    }
    changes["hours"] = _with_exceptions(data["hours"], station.opening_hours)
    moved = data["crs"] != CRS.WGS84 or (round(data["lat"], 7), round(data["lng"], 7)) != (
        station.lat,
        station.lng,
    )
    if moved:
        changes["location"] = (data["lat"], data["lng"], data["crs"])
    try:
        station = services.station_update(station=station, actor=user, **changes)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(name)s was saved.") % {"name": station.name})
    return redirect("stations:edit", station_id=station.pk)


@page(*CONSOLE)
@require_POST
def exception_add(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed(request, station_id)
    form = forms.ExceptionForm(request.POST)

    def draw(status: int) -> HttpResponse:
        return _edit_page(request, station, exception_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    data = form.cleaned_data
    try:
        services.station_exception_set(
            station=station,
            day=data["day"],
            closed=data["closed"],
            periods=data["periods"],
            actor=request.user,
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request, _("Special hours on %(day)s were saved.") % {"day": data["day"].isoformat()}
    )
    return redirect(reverse("stations:edit", args=[station.pk]) + "#hours")


@page(*CONSOLE)
@require_POST
def exception_remove(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed(request, station_id)
    form = forms.ExceptionRemoveForm(request.POST)
    if not form.is_valid():
        return error_page(
            request, ApplicationError(_("Which date? Try again from the list."), field="day")
        )
    day = form.cleaned_data["day"]
    try:
        services.station_exception_remove(station=station, day=day, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    messages.success(
        request, _("The special hours on %(day)s were removed.") % {"day": day.isoformat()}
    )
    return redirect(reverse("stations:edit", args=[station.pk]) + "#hours")


@page(*CONSOLE)
@require_POST
def photo_add(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed(request, station_id)
    form = forms.PhotoForm(request.POST, request.FILES)

    def draw(status: int) -> HttpResponse:
        return _edit_page(request, station, photo_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        services.station_photo_add(
            station=station,
            upload=form.cleaned_data["photo"],
            caption=form.cleaned_data["caption"],
            actor=request.user,
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("The photo was added."))
    return redirect(reverse("stations:edit", args=[station.pk]) + "#photos")


@page(*CONSOLE)
@require_POST
def photo_remove(request: HttpRequest, station_id: int, photo_id: int) -> HttpResponse:
    station = _managed(request, station_id)
    photo = get_for_user(
        StationPhoto.objects.filter(station=station).select_related("station"),
        request.user,
        Action.OPERATE,
        pk=photo_id,
    )
    try:
        services.station_photo_remove(photo=photo, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    messages.success(request, _("The photo was removed."))
    return redirect(reverse("stations:edit", args=[station.pk]) + "#photos")


@page(*CONSOLE)
def visits(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed(request, station_id)
    listed = page_of(selectors.visits_of(station), request)
    return render(
        request,
        "stations/console/visits.html",
        {
            "station": station,
            "page": listed,
            "month": selectors.visit_totals(station, since=month_start()),
            "tab": "visits",
        },
    )


@page(*CONSOLE)
def inspections(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed(request, station_id)
    listed = page_of(selectors.inspections_of(station).prefetch_related("results__item"), request)
    return render(
        request,
        "stations/console/inspections.html",
        {"station": station, "page": listed, "tab": "inspections"},
    )


@page(*CONSOLE)
def inspect(request: HttpRequest, station_id: int) -> HttpResponse:
    """Record an inspection against the street's checklist: each item passed or not."""
    user = request.user
    station = _managed(request, station_id)
    street = services.street_of_station(station)
    items = list(selectors.checklist_of(street))
    standards = list(dict.fromkeys(item.standard for item in items))
    wanted = request.POST.get("standard") or request.GET.get("standard")
    if wanted and wanted not in standards:
        return error_page(
            request,
            ApplicationError(
                _("%(street)s has no checklist called %(standard)s.")
                % {"street": street.name, "standard": wanted[:50]},
                field="standard",
            ),
        )
    standard = wanted or ("6+6" if "6+6" in standards else next(iter(standards), ""))
    chosen = [item for item in items if item.standard == standard]
    form = forms.InspectionForm(
        request.POST or None, items=chosen, initial={"inspected_on": timezone.localdate()}
    )

    def draw(status: int) -> HttpResponse:
        return render(
            request,
            "stations/console/inspect.html",
            {
                "station": station,
                "street": street,
                "form": form,
                "standard": standard,
                "standards": standards,
                "can_configure": can(user, Action.CONFIGURE, street),
                "tab": "inspect",
            },
            status=status,
        )

    if request.method != "POST":
        return draw(200)
    if not chosen:
        return error_page(
            request,
            ApplicationError(
                _("%(street)s has no checklist yet: its administrators add the items first.")
                % {"street": street.name},
                code="no_checklist",
            ),
        )
    if not form.is_valid():
        return draw(400)
    answers, notes = form.results()
    try:
        inspection = services.inspection_record(
            station=station,
            results=answers,
            notes=notes,
            standard=standard,
            inspected_on=form.cleaned_data["inspected_on"],
            note=form.cleaned_data["note"],
            actor=user,
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request,
        _("Inspection recorded: %(passed)s of %(total)s items passed.")
        % {"passed": inspection.passed, "total": inspection.total},
    )
    return redirect("stations:inspections", station_id=station.pk)


@page(*CONSOLE)
def qr(request: HttpRequest, station_id: int) -> HttpResponse:
    """The printable A5 poster with the station's check-in QR code."""
    station = _managed(request, station_id)
    url = request.build_absolute_uri(
        reverse("stations:check_in", args=[station.pk, services.qr_token(station)])
    )
    return render(
        request,
        "stations/console/qr.html",
        {"station": station, "svg": qr_svg(url), "url": url, "tab": "qr"},
    )


@page(*CONSOLE)
@require_POST
def qr_rotate(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _managed(request, station_id)
    try:
        services.station_qr_rotate(station=station, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    messages.success(
        request,
        _("A new QR code was made. Print it and replace the poster: the old code no longer works."),
    )
    return redirect("stations:qr", station_id=station.pk)


def _checklist_page(
    request: HttpRequest,
    streets: list[Area],
    street: Area | None,
    *,
    form: forms.ChecklistItemForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {"streets": streets, "street": street}
    if street is not None:
        configure = can(user, Action.CONFIGURE, street)
        items = selectors.checklist_for_user(user, street, include_inactive=configure)
        context.update(
            items=page_of(items, request, per_page=100),
            can_configure=configure,
            form=form
            or forms.ChecklistItemForm(
                streets=Area.objects.filter(pk=street.pk),
                initial={"street": street.code, "standard": "6+6"},
            ),
            query=urlencode({"street": street.code}),
        )
    return render(request, "stations/console/checklist.html", context, status=status)


@page(*CONSOLE)
def checklist(request: HttpRequest) -> HttpResponse:
    """A street's station standard (e.g. "6+6"): its admins add items and take them out of use."""
    user = request.user
    streets = selectors.checklist_streets(user)
    if request.method != "POST":
        wanted = request.GET.get("street")
        street = next((s for s in streets if s.code == wanted), streets[0] if streets else None)
        return _checklist_page(request, streets, street)
    form = forms.ChecklistItemForm(
        request.POST, streets=Area.objects.filter(pk__in=[s.pk for s in streets])
    )
    posted = next((s for s in streets if s.code == request.POST.get("street")), None)

    def draw(status: int) -> HttpResponse:
        return _checklist_page(request, streets, posted, form=form, status=status)

    if not form.is_valid() or posted is None:
        if posted is None:
            return error_page(
                request,
                ApplicationError(_("Please choose a street you look after."), field="street"),
            )
        return draw(400)
    data = form.cleaned_data
    try:
        item = services.checklist_item_create(
            street=data["street"],
            text=data["text"],
            standard=data["standard"],
            sort_order=data["sort_order"],
            actor=user,
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(item)s was added to the checklist.") % {"item": item.text})
    return redirect(f"{reverse('stations:checklist')}?{urlencode({'street': posted.code})}")


@page(*CONSOLE)
@require_POST
def checklist_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_for_user(
        ChecklistItem.objects.select_related("street"), request.user, Action.CONFIGURE, pk=item_id
    )
    form = forms.ChecklistToggleForm(request.POST)
    form.is_valid()
    active = bool(form.cleaned_data.get("is_active"))
    try:
        services.checklist_item_update(item=item, is_active=active, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    if active:
        messages.success(request, _("%(item)s is in use again.") % {"item": item.text})
    else:
        messages.success(
            request, _("%(item)s is no longer checked on inspections.") % {"item": item.text}
        )
    return redirect(f"{reverse('stations:checklist')}?{urlencode({'street': item.street.code})}")


# --- import and export (docs/stations-import.md) -----------------------------------------------


@page(*CONSOLE)
def station_import(request: HttpRequest) -> HttpResponse:
    """Upload an .xlsx or CSV file: every row checked as the signed-in user, the report row by
    row. Rows refused with nothing written (all or nothing, or a dry run) answer 400."""
    form = forms.StationImportForm(request.POST or None, request.FILES or None)
    report = None

    def draw(status: int) -> HttpResponse:
        return render(
            request,
            "stations/console/import.html",
            {
                "form": form,
                "report": report,
                "columns": exchange.COLUMNS,
                "max_rows": f"{exchange.MAX_ROWS:,}",
            },
            status=status,
        )

    if request.method != "POST":
        return draw(200)
    if not form.is_valid():
        return draw(400)
    try:
        report = exchange.import_stations(
            form.cleaned_data["file"],
            actor=request.user,
            all_or_nothing=not form.cleaned_data["keep_good_rows"],
            dry_run=form.cleaned_data["dry_run"],
        )
    except ApplicationError as exc:  # a file that cannot be read: the reason on the form
        return refusal(request, form, exc, draw)
    return draw(400 if report.errors and not report.committed else 200)


@page(*CONSOLE)
def station_export(request: HttpRequest) -> HttpResponse:
    """The stations the console list shows (its filters applied) as ``?format=xlsx`` or csv."""
    _filters, chosen = _console_filters(request)
    stations = selectors.filter_stations(selectors.managed_stations(request.user), **chosen)
    fmt = request.GET.get("format") or "xlsx"
    data = exchange.export_stations(stations, fmt)  # an unknown format: a 400 page
    log_action(
        actor=request.user, action="export", target=request.user,
        area_code=scope_code(request.user),
        data={"what": "stations", "format": fmt, **{k: str(v) for k, v in chosen.items() if v}},
    )  # fmt: skip
    return exchange.download_response(data, fmt, exchange.filename(fmt))


@page(*CONSOLE)
def import_template(request: HttpRequest) -> HttpResponse:
    """The template (``?format=xlsx`` or csv), its example row in a community of the user's."""
    fmt = request.GET.get("format") or "xlsx"
    data = exchange.template_for(request.user, fmt)
    return exchange.download_response(data, fmt, exchange.filename(fmt, template=True))


# --- the merchant's pages (mobile first) -------------------------------------------------------


@page(Role.MERCHANT)
def merchant_home(request: HttpRequest) -> HttpResponse:
    listed = page_of(selectors.hosted_by(request.user), request)
    listed.object_list = list(listed.object_list)
    served = selectors.people_served(
        [s.pk for s in listed.object_list], since=month_start(), until=timezone.localdate()
    )
    now = timezone.now()
    for station in listed.object_list:
        station.served = served.get(station.pk, 0)
        station.kind_text = kind_label(station.kind)
        station.state, station.state_text = status_words(selectors.open_status(station, now), now)
    return render(request, "stations/merchant/home.html", {"page": listed})


def _hosted(request: HttpRequest, station_id: int) -> Station:
    return get_for_user(
        selectors.hosted_by(request.user), request.user, Action.OPERATE, pk=station_id
    )


def _merchant_page(
    request: HttpRequest,
    station: Station,
    *,
    form: forms.MerchantStationForm | None = None,
    walk_in_form: forms.WalkInForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    if form is None:
        form = forms.MerchantStationForm(
            initial={
                "status": station.status,
                "status_note": station.status_note,
                "services": services.service_codes(station.services_mask),
                "hours": hours_module.format_text(station.opening_hours),
                "contact_name": station.contact_name,
                "contact_phone": station.contact_phone,
            },
            services=selectors.active_services(),
        )
    if walk_in_form is None:
        walk_in_form = forms.WalkInForm(initial={"people": 1, "idempotency_key": forms.new_key()})
    context = {
        "station": station,
        "form": form,
        "walk_in_form": walk_in_form,
        "month": selectors.visit_totals(station, since=month_start()),
        "recent": selectors.visits_of(station)[:5],
        **_hours_context(station, now),
    }
    return render(request, "stations/merchant/station.html", context, status=status)


@page(Role.MERCHANT)
def merchant_station(request: HttpRequest, station_id: int) -> HttpResponse:
    """The host's phone page: services, hours, contact and open / suspended, and walk-ins."""
    station = _hosted(request, station_id)
    if request.method != "POST":
        return _merchant_page(request, station)
    form = forms.MerchantStationForm(request.POST, services=selectors.active_services())

    def draw(status: int) -> HttpResponse:
        return _merchant_page(request, station, form=form, status=status)

    if not form.is_valid():
        return draw(400)
    data = form.cleaned_data
    try:
        station = services.station_update(
            station=station,
            actor=request.user,
            services=data["services"],
            hours=_with_exceptions(data["hours"], station.opening_hours),
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            status=data["status"],
            status_note=data["status_note"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("Saved: riders see the new details now."))
    return redirect("stations:merchant_station", station_id=station.pk)


@page(Role.MERCHANT)
@require_POST
def walk_in(request: HttpRequest, station_id: int) -> HttpResponse:
    station = _hosted(request, station_id)
    form = forms.WalkInForm(request.POST)

    def draw(status: int) -> HttpResponse:
        # A refused walk-in wrote nothing: the corrected form gets a fresh key.
        form.data = form.data.copy()
        form.data["idempotency_key"] = forms.new_key()
        return _merchant_page(request, station, walk_in_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        visit = services.visit_walk_in(
            station=station,
            people=form.cleaned_data["people"],
            note=form.cleaned_data["note"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            actor=request.user,
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request,
        _("Recorded: %(n)s people served. Thank you for looking after riders.")
        % {"n": visit.people},
    )
    return redirect("stations:merchant_station", station_id=station.pk)
