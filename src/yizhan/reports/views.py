"""随手拍 pages: the rider's camera-first report form, "my reports" and a report's timeline; the
staff console (triage queue with a map, a report's record with the actions its state allows,
categories and settings); the department handler's cases.

Views are thin: gate the account type (``core.pages.page``), read through
``reports.selectors`` (the permission layer), write through ``reports.services``, and show a
refusal on the form (400, or the service's status) or as the error page with the service's
status. Every list is drawn on the server and works without JavaScript and without map tiles;
htmx adds the categories of the place and the open reports nearby to the report form, and "I
saw it too".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.areas.selectors import (
    areas_for_user,
    areas_in_scope,
    communities,
    grid_for_point,
    nearest_grid,
)
from yizhan.core import ratelimit
from yizhan.core.errors import ApplicationError, NotFound
from yizhan.core.geo import haversine_m, navigation_links
from yizhan.core.pages import back, error_page, form_error, is_htmx, page
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, can, get_for_user, is_console_user, scope_code
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.people.services import staff_set_on_duty
from yizhan.reports import forms, selectors, services
from yizhan.reports.choices import Flag, PhotoStage, PointsStatus, ReportStatus
from yizhan.reports.models import Category, Report

CONSOLE = tuple(CONSOLE_ROLES)
DUPLICATES_SHOWN = 5

ACTION_LABELS = {
    "submitted": gettext_lazy("Reported"),
    "flagged": gettext_lazy("Flagged for a person to look at"),
    "accepted": gettext_lazy("Accepted (立案)"),
    "rejected": gettext_lazy("Rejected"),
    "merged": gettext_lazy("Merged into another report"),
    "merged_in": gettext_lazy("Another report was merged in"),
    "dispatched": gettext_lazy("Dispatched (派遣)"),
    "redirected": gettext_lazy("Sent to another department"),
    "handled": gettext_lazy("Handled (处置)"),
    "verified": gettext_lazy("Checked on site: fixed (核查)"),
    "sent_back": gettext_lazy("Sent back for more work (返工)"),
    "closed": gettext_lazy("Closed (结案)"),
    "reopened": gettext_lazy("Reopened"),
    "acknowledged": gettext_lazy("Urgent alert taken"),
    "witnessed": gettext_lazy("Someone saw it too"),
    "points_held": gettext_lazy("Points held for review"),
    "points": gettext_lazy("Points"),
    "points_decided": gettext_lazy("Points decided"),
    "escalated": gettext_lazy("Escalated"),
}


def refusal(
    request: HttpRequest,
    form: Any,
    exc: ApplicationError,
    draw: Callable[[int], HttpResponse],
) -> HttpResponse:
    """A service refused a form: what the user may not do (401/403/404) and a transition the
    report's state does not allow (409) are the error page; anything the user can correct is
    shown on the form, with the service's status (400, or 409 for a conflict in the input)."""
    if exc.status in (401, 403, 404) or exc.code == "invalid_transition":
        return error_page(request, exc)
    form_error(form, exc)
    return draw(exc.status)


# --- words for numbers, flags and the timeline ---------------------------------------------------


def distance_text(metres: float) -> str:
    if metres < 1000:
        return _("%(n)s m") % {"n": round(metres)}
    return _("%(n)s km") % {"n": f"{metres / 1000:.1f}"}


def flag_labels(flags: Any) -> list[str]:
    labels = dict(Flag.choices)
    return [str(labels.get(flag, flag)) for flag in flags or []]


def _event_detail(event: Any) -> str:
    data = event.data or {}
    action = event.action
    if action == "dispatched" and data.get("department"):
        deadline = data.get("deadline")
        if deadline:
            try:
                when = timezone.localtime(datetime.fromisoformat(deadline))
                return _("To %(department)s, by %(deadline)s") % {
                    "department": data["department"],
                    "deadline": f"{when:%Y-%m-%d %H:%M}",
                }
            except ValueError:
                pass
        return _("To %(department)s") % {"department": data["department"]}
    if action == "redirected":
        return _("From %(from)s to %(to)s") % {"from": data.get("from", ""), "to": data.get("to")}
    if action == "merged" and data.get("into"):
        return _("Into #%(id)s") % {"id": data["into"]}
    if action == "merged_in" and data.get("from"):
        return _("#%(id)s") % {"id": data["from"]}
    if action in ("flagged", "points_held"):
        return "; ".join(flag_labels(data.get("flags")))
    if action == "escalated":
        if data.get("urgent"):
            return _("Nobody took the urgent alert in time: the street was told.")
        return (
            _("Overdue: the community was told.")
            if data.get("level") == 1
            else _("Still overdue: the street was told.")
        )
    if action == "points":
        return str(dict(PointsStatus.choices).get(data.get("status"), data.get("status", "")))
    if action == "points_decided":
        return _("Paid") if data.get("pay") else _("Not paid")
    return ""


def timeline_rows(report: Report, user: Any) -> list:
    """The report's timeline for ``user`` (the reporter sees the public lines only), each line
    with its words, its detail and its photos."""
    events = list(selectors.timeline(report, user))
    for event in events:
        event.label = ACTION_LABELS.get(event.action, event.action)
        event.detail = _event_detail(event)
        event.photo_list = list(event.photos.all())
    return events


def _photos_by_stage(events: list) -> dict[str, list]:
    stages: dict[str, list] = {}
    for event in events:
        for photo in event.photo_list:
            stages.setdefault(photo.stage, []).append(photo)
    return stages


def _marker(report: Report, *, staff: bool) -> dict[str, Any]:
    name = "reports:console_detail" if staff else "reports:detail"
    state = "overdue" if report.is_overdue else ("urgent" if report.urgent else report.status)
    return {
        "id": report.pk,
        "lat": report.lat,
        "lng": report.lng,
        "label": f"#{report.pk} {report.category.label}",
        "status": report.get_status_display(),
        "state": state,
        "url": reverse(name, args=[report.pk]),
    }


# --- the place of a report -----------------------------------------------------------------------


@dataclass
class Place:
    """Where the rider says it is: a WGS-84 point (or none), its community and street."""

    lat: float | None = None
    lng: float | None = None
    community: Area | None = None
    street: Area | None = None
    error: str = ""


def _places() -> list[Area]:
    """The communities a rider may choose without a location (those with a centre)."""
    return list(
        communities()
        .filter(center_lat__isnull=False, center_lng__isnull=False)
        .defer("boundary", "parent__boundary")
    )


def _own_community(user: Any, places: list[Area]) -> Area | None:
    code = getattr(user, "area_code", "") or ""
    return next((c for c in places if code and code.startswith(c.code)), None)


def _place(params: Any, places: list[Area], user: Any) -> Place:
    """The place from a form or a query: the point when given, else the chosen community,
    else the rider's own community (for the categories offered before anything is chosen)."""
    lat, lng = (params.get("lat") or "").strip(), (params.get("lng") or "").strip()
    if lat or lng:
        try:
            wlat, wlng, grid = services.locate(lat, lng, params.get("crs") or "wgs84")
        except ApplicationError as exc:
            return Place(error=str(exc.message))
        community = next((c for c in places if c.code == grid.code[:12]), None)
        street = community.parent if community else selectors.street_at(wlat, wlng)
        return Place(lat=wlat, lng=wlng, community=community, street=street)
    code = (params.get("community") or "").strip()
    community = next((c for c in places if c.code == code), None) if code else None
    if community is None:
        community = _own_community(user, places)
    return Place(community=community, street=community.parent if community else None)


def _community_point(community: Area) -> tuple[float, float]:
    """A point of the community inside one of its grids: its centre when a grid holds it,
    else the centre of its grid nearest to it."""
    lat, lng = community.center_lat, community.center_lng
    if grid_for_point(lat, lng, within=community) is not None:
        return lat, lng
    grid = nearest_grid(lat, lng, community=community)
    if grid is not None and grid.center_lat is not None and grid.center_lng is not None:
        return grid.center_lat, grid.center_lng
    return lat, lng


def _category(user: Any, pk: Any) -> Category | None:
    if not pk:
        return None
    try:
        return get_for_user(Category.objects.filter(is_active=True), user, pk=pk)
    except ApplicationError:
        return None


def _duplicates(user: Any, params: Any) -> list | None:
    """Open reports of the chosen category near the chosen point (None: not enough to look)."""
    category = _category(user, params.get("category"))
    lat, lng = (params.get("lat") or "").strip(), (params.get("lng") or "").strip()
    if category is None or not (lat and lng):
        return None
    try:
        wlat, wlng, _grid = services.locate(lat, lng, params.get("crs") or "wgs84")
    except ApplicationError:
        return None
    found = services.duplicates_near(category=category, lat=wlat, lng=wlng)[:DUPLICATES_SHOWN]
    reports = [report for report, _distance in found]
    if not reports:
        return reports
    prefetch_related_objects(reports, selectors.report_photos_prefetch())
    ids = [report.pk for report in reports]
    mine = set(selectors.my_reports(user).filter(pk__in=ids).values_list("pk", flat=True))
    seen = set(
        selectors.my_witnessed(user).filter(report_id__in=ids).values_list("report_id", flat=True)
    )
    for report, distance in found:
        report.category = category
        report.distance = distance_text(distance)
        report.mine = report.pk in mine
        report.witnessed = report.pk in seen
    return reports


# --- the rider's pages ---------------------------------------------------------------------------


def _form_initial(params: Any, places: list[Area], user: Any) -> dict[str, Any]:
    keys = ("lat", "lng", "crs", "community", "category", "description", "address")
    initial = {k: params.get(k) for k in (*keys, "building", "unit", "floor") if params.get(k)}
    initial.setdefault("crs", "wgs84")
    if not initial.get("lat") and not initial.get("community"):
        own = _own_community(user, places)
        if own is not None:
            initial["community"] = own.code
    initial["idempotency_key"] = forms.new_key()
    return initial


def _report_page(
    request: HttpRequest, form: forms.ReportForm, place: Place, places: list, status: int = 200
) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    context = {
        "form": form,
        "place": place,
        "places": places,
        "centres": {c.code: [c.center_lat, c.center_lng] for c in places},
        "duplicates": _duplicates(request.user, params),
        "max_photos": services.MAX_PHOTOS,
        "photos_lost": request.method == "POST" and bool(request.FILES),
    }
    return render(request, "reports/report_form.html", context, status=status)


@page(Role.RIDER)
def report_new(request: HttpRequest) -> HttpResponse:
    """The camera-first report form (随手拍)."""
    user = request.user
    places = _places()
    if request.method != "POST":
        place = _place(request.GET, places, user)
        categories = list(selectors.categories_for(place.street)) if place.street else []
        form = forms.ReportForm(
            initial=_form_initial(request.GET, places, user),
            categories=categories,
            communities=places,
        )
        return _report_page(request, form, place, places)
    place = _place(request.POST, places, user)
    categories = list(selectors.categories_for(place.street)) if place.street else []
    form = forms.ReportForm(request.POST, request.FILES, categories=categories, communities=places)

    def draw(status: int) -> HttpResponse:
        # Nothing was written: the corrected form gets a fresh key.
        form.data = form.data.copy()
        form.data["idempotency_key"] = forms.new_key()
        return _report_page(request, form, place, places, status)

    if not form.is_valid():
        return draw(400)
    data = form.cleaned_data
    if data["lat"] is not None:
        lat, lng, crs = data["lat"], data["lng"], data["crs"] or "wgs84"
    else:
        community = next(c for c in places if c.code == data["community"])
        (lat, lng), crs = _community_point(community), "wgs84"
    try:
        ratelimit.hit_request(
            "report_submit", request, replay=("reports.submit", data["idempotency_key"])
        )
        report = services.report_submit(
            reporter=user,
            category=data["category"],
            lat=lat,
            lng=lng,
            crs=crs,
            description=data["description"],
            idempotency_key=data["idempotency_key"],
            photos=data["photos"],
            address=data["address"],
            building=data["building"],
            unit=data["unit"],
            floor=data["floor"],
            captured_at=data["captured_at"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    return redirect("reports:done", report_id=report.pk)


@page(Role.RIDER)
def report_categories(request: HttpRequest) -> HttpResponse:
    """htmx: the category list for the place (the point, else the community)."""
    places = _places()
    place = _place(request.GET, places, request.user)
    categories = list(selectors.categories_for(place.street)) if place.street else []
    chosen = request.GET.get("category") or ""
    form = forms.ReportForm(
        initial={"category": chosen} if chosen in {str(c.pk) for c in categories} else {},
        categories=categories,
        communities=[],
    )
    return render(
        request,
        "reports/_categories.html",
        {"form": form, "place": place},
        status=400 if place.error else 200,
    )


@page(Role.RIDER)
def report_duplicates(request: HttpRequest) -> HttpResponse:
    """htmx: open reports of the chosen category near the chosen point, before filing."""
    return render(
        request,
        "reports/_duplicates.html",
        {"duplicates": _duplicates(request.user, request.GET)},
    )


@page(Role.RIDER)
@require_POST
def witness(request: HttpRequest, report_id: int) -> HttpResponse:
    """ "I saw it too": add yourself to an open report instead of filing it again."""
    report = selectors.report_to_witness(report_id)
    try:
        services.report_witness(report=report, user=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    if is_htmx(request):
        return render(request, "reports/_witnessed.html", {"report": report})
    messages.success(
        request,
        _("Thank you: you are counted as a witness of #%(id)s. No need to report it again.")
        % {"id": report.pk},
    )
    return redirect(f"{reverse('reports:mine')}?show=witnessed")


@page(Role.RIDER)
def report_done(request: HttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_for_user(request.user, report_id)
    if report.reporter_id != request.user.pk:
        raise NotFound(_("Not found, or you may not see it."))
    return render(request, "reports/done.html", {"report": report})


@page(Role.RIDER)
def mine(request: HttpRequest) -> HttpResponse:
    """My reports (status chips), or the reports I said I saw too."""
    user = request.user
    show = "witnessed" if request.GET.get("show") == "witnessed" else "reports"
    if show == "witnessed":
        listed = page_of(selectors.my_witnessed(user), request)
    else:
        listed = page_of(selectors.with_report_photos(selectors.my_reports(user)), request)
    return render(
        request,
        "reports/mine.html",
        {"page": listed, "show": show, "query": "show=witnessed" if show == "witnessed" else ""},
    )


def _rider_page(
    request: HttpRequest,
    report: Report,
    *,
    reopen_form: forms.ReopenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    events = timeline_rows(report, request.user)
    context = {
        "report": report,
        "events": events,
        "photos": _photos_by_stage(events).get(PhotoStage.REPORT, []),
        "reopen_form": (reopen_form or forms.ReopenForm()) if report.can_reopen() else None,
    }
    return render(request, "reports/detail.html", context, status=status)


@page()
def detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """A report as its reporter sees it; staff and handlers are sent to their own page of it."""
    user = request.user
    report = selectors.report_for_user(user, report_id)
    if report.reporter_id != user.pk:
        if is_console_user(user):
            return redirect("reports:console_detail", report_id=report.pk)
        if user.role == Role.HANDLER:
            return redirect("reports:case_detail", report_id=report.pk)
    return _rider_page(request, report)


@page(Role.RIDER)
@require_POST
def reopen(request: HttpRequest, report_id: int) -> HttpResponse:
    """The reporter reopens a closed report with a photo showing the problem is still there."""
    user = request.user
    report = selectors.report_for_user(user, report_id)
    form = forms.ReopenForm(request.POST, request.FILES)

    def draw(status: int) -> HttpResponse:
        return _rider_page(request, report, reopen_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        services.report_reopen(
            report=report,
            actor=user,
            note=form.cleaned_data["note"],
            photos=form.cleaned_data["photos"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request, _("#%(id)s is open again: staff will look at it.") % {"id": report.pk}
    )
    return redirect("reports:detail", report_id=report.pk)


# --- the staff console ---------------------------------------------------------------------------


def _streets_in_scope(user: Any) -> list[Area]:
    """The streets of the user's area: their own (community staff), or those beneath it."""
    streets = areas_for_user(user, level=AreaLevel.STREET).defer("boundary", "parent__boundary")
    if user.is_superuser:
        return list(streets)
    code = scope_code(user)
    if not code:
        return []
    return [s for s in streets if s.code.startswith(code) or code.startswith(s.code)]


def _category_choices(streets: list[Area]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for street in streets:
        for category in selectors.categories_for(street, active_only=False):
            seen.setdefault(category.code, category.label)
    return list(seen.items())


def _triage_reports(user: Any, chosen: dict[str, Any]) -> Any:
    status = chosen["status"]
    if status == "" and not chosen["overdue"]:
        qs = selectors.triage_queue(user)
    else:
        qs = selectors.reports_for_user(user, Action.OPERATE)
        if status == "open":
            qs = qs.filter(status__in=selectors.open_statuses())
        elif status in ReportStatus.values:
            qs = selectors.filter_reports(qs, status=status)
        if chosen["overdue"]:
            qs = qs.order_by("deadline_at", "id")
    return selectors.filter_reports(
        qs,
        category=chosen["category"] or None,
        area=chosen["area"] or None,
        overdue_only=chosen["overdue"],
        urgent_only=chosen["urgent"],
        flagged_only=chosen["flagged"],
        q=chosen["q"] or None,
    )


@page(*CONSOLE)
def triage(request: HttpRequest) -> HttpResponse:
    """The triage queue (submitted, urgent first, oldest first) or any list the filters ask
    for, with a map of the listed reports."""
    user = request.user
    places = list(
        areas_in_scope(user, levels=(AreaLevel.COMMUNITY,)).defer("boundary", "parent__boundary")
    )
    filters = forms.TriageFilterForm(
        request.GET or None,
        categories=_category_choices(_streets_in_scope(user)),
        communities=places,
    )
    chosen = filters.filters()
    listed = page_of(selectors.with_report_photos(_triage_reports(user, chosen)), request)
    listed.object_list = list(listed.object_list)
    for report in listed.object_list:
        report.flag_text = flag_labels(report.flags)
    query = urlencode({k: v for k, v in chosen.items() if v not in ("", False)})
    return render(
        request,
        "reports/console/triage.html",
        {
            "page": listed,
            "filters": filters,
            "query": query,
            "markers": [_marker(r, staff=True) for r in listed.object_list],
            "on_duty": user.on_duty,
            "triage_view": chosen["status"] == "" and not chosen["overdue"],
        },
    )


@page(*CONSOLE)
@require_POST
def duty(request: HttpRequest) -> HttpResponse:
    """Start or end my duty: urgent alerts go to the staff on duty first."""
    form = forms.DutyForm(request.POST)
    form.is_valid()
    on_duty = bool(form.cleaned_data.get("on_duty"))
    try:
        staff_set_on_duty(user=request.user, on_duty=on_duty)
    except ApplicationError as exc:
        return error_page(request, exc)
    if on_duty:
        messages.success(request, _("You are on duty: urgent alerts come to you first."))
    else:
        messages.success(request, _("You are off duty."))
    return back(request, reverse("reports:triage"))


def _exif_check(report: Report) -> dict[str, Any]:
    """What the first photo's EXIF said, against the report (before the metadata was removed)."""
    check: dict[str, Any] = {"taken_at": report.photo_taken_at}
    if report.photo_lat is not None and report.photo_lng is not None:
        check["distance"] = distance_text(
            haversine_m(report.lat, report.lng, report.photo_lat, report.photo_lng)
        )
        check["lat"], check["lng"] = report.photo_lat, report.photo_lng
    if report.photo_taken_at is not None:
        hours = (report.created_at - report.photo_taken_at).total_seconds() / 3600
        check["age_hours"] = round(hours, 1)
    return check


def _action_forms(report: Report) -> dict[str, Any]:
    """The forms of the transitions the report's state allows now."""
    actions: dict[str, Any] = {}
    if report.can_acknowledge():
        actions["acknowledge"] = forms.AcknowledgeForm()
    if report.can_accept():
        actions["accept"] = forms.AcceptForm()
    if report.can_dispatch():
        actions["dispatch"] = forms.DispatchForm(
            departments=selectors.departments_for(report),
            initial={"department": report.category.department_id},
        )
    if report.can_redirect():
        actions["redirect"] = forms.RedirectForm(
            departments=selectors.departments_for(report).exclude(pk=report.department_id)
        )
    if report.can_verify():
        actions["verify"] = forms.VerifyForm()
    if report.can_close():
        actions["close"] = forms.CloseForm()
    if report.can_reopen():
        actions["staff_reopen"] = forms.StaffReopenForm()
    if report.points_status == PointsStatus.HELD:
        actions["points_decide"] = forms.PointsDecisionForm()
    if report.can_merge():
        actions["merge"] = forms.MergeForm()
    if report.can_reject():
        actions["reject"] = forms.RejectForm()
    return actions


def _console_page(
    request: HttpRequest,
    report: Report,
    *,
    overrides: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    events = timeline_rows(report, user)
    operate = can(user, Action.OPERATE, report)
    actions = {**_action_forms(report), **(overrides or {})} if operate else {}
    for name, form in actions.items():
        # Several forms share field names (note, reason …): ids unique to the page, so each
        # label points at its own field.
        form.auto_id = f"id_{name}_%s"
    duplicates = []
    if operate and report.can_merge():
        found = services.duplicates_near(
            category=report.category, lat=report.lat, lng=report.lng, exclude=report.pk
        )[:10]
        duplicates = [r for r, _d in found]
        prefetch_related_objects(duplicates, selectors.report_photos_prefetch())
        for shown, (_r, distance) in zip(duplicates, found, strict=True):
            shown.distance = distance_text(distance)
            shown.category = report.category
    flagged = next((e for e in reversed(events) if e.action == "flagged"), None)
    markers = [_marker(report, staff=True)] + [
        {**_marker(r, staff=True), "state": "duplicate"} for r in duplicates
    ]
    context = {
        "report": report,
        "events": events,
        "photos": _photos_by_stage(events),
        # The "原图" links: staff who may act on the report see its originals (audited).
        "originals": operate,
        "actions": actions,
        "duplicates": duplicates,
        "witnesses": list(selectors.witnesses_of(report, user)),
        "merged_in": list(selectors.reports_for_user(user).filter(merged_into=report)),
        "flags": flag_labels(report.flags),
        "same_photo_reports": (flagged.data or {}).get("same_photo_reports", []) if flagged else [],
        "exif": _exif_check(report),
        "markers": markers,
        "links": navigation_links(report.lat, report.lng, f"#{report.pk}", report.address),
    }
    return render(request, "reports/console/detail.html", context, status=status)


_GONE = gettext_lazy(
    "The original of this photo is no longer kept; the copy with faces blurred is."
)


@page(*CONSOLE)
def photo_original(request: HttpRequest, report_id: int, photo_id: int) -> HttpResponse:
    """A report photo as it was taken (faces not blurred), for staff who may act on the report
    (its area's staff and admins); every opening is audited. Anyone else: 404 (not theirs to
    see at all) or 403 (they see the report, not its originals), and nothing is recorded."""
    photo = selectors.photo_original_for_user(request.user, report_id, photo_id)
    if not photo.image.name:
        raise NotFound(_GONE)
    try:
        original = photo.image.storage.open(photo.image.name, "rb")
    except (FileNotFoundError, ValueError):
        raise NotFound(_GONE) from None
    services.report_photo_original_viewed(photo=photo, actor=request.user)
    response = FileResponse(original, content_type="image/jpeg")
    # Not kept by the browser or a proxy: each look is a request, and each request is recorded.
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="report-{report_id}-{photo.pk}.jpg"'
    return response


@page(*CONSOLE, Role.HANDLER)
def console_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """A report's full record for staff (the link in their notifications). A department
    handler following the same link is sent to the case page."""
    user = request.user
    if user.role == Role.HANDLER and not user.is_superuser:
        return redirect("reports:case_detail", report_id=report_id)
    report = selectors.report_for_user(user, report_id)
    return _console_page(request, report)


def _act(
    request: HttpRequest,
    report_id: int,
    name: str,
    make_form: Callable[[Report], Any],
    call: Callable[[Report, dict[str, Any]], Any],
    success: str,
) -> HttpResponse:
    """One console action: the report (404 unseen, 403 not mine to act on), its form (400 on
    the page), the service (its refusal on the form, or the error page), then back to it."""
    user = request.user
    report = selectors.report_for_user(user, report_id, Action.OPERATE)
    form = make_form(report)

    def draw(status: int) -> HttpResponse:
        return _console_page(request, report, overrides={name: form}, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        call(report, form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, success % {"id": report.pk})
    return redirect("reports:console_detail", report_id=report.pk)


@page(*CONSOLE)
@require_POST
def accept(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "accept",
        lambda r: forms.AcceptForm(request.POST),
        lambda r, d: services.report_accept(report=r, actor=request.user, note=d["note"]),
        _("#%(id)s was accepted."),
    )


@page(*CONSOLE)
@require_POST
def reject(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "reject",
        lambda r: forms.RejectForm(request.POST),
        lambda r, d: services.report_reject(report=r, actor=request.user, reason=d["reason"]),
        _("#%(id)s was rejected; the reporter sees the reason."),
    )


@page(*CONSOLE)
@require_POST
def merge(request: HttpRequest, report_id: int) -> HttpResponse:
    user = request.user

    def call(report: Report, data: dict[str, Any]) -> Any:
        try:
            into = selectors.report_for_user(user, data["into"], Action.OPERATE)
        except NotFound:
            raise ApplicationError(
                _("There is no report #%(id)s in your area.") % {"id": data["into"]},
                field="into",
            ) from None
        return services.report_merge(report=report, into=into, actor=user, note=data["note"])

    return _act(
        request,
        report_id,
        "merge",
        lambda r: forms.MergeForm(request.POST),
        call,
        _("#%(id)s was merged; its reporter counts as a witness."),
    )


@page(*CONSOLE)
@require_POST
def dispatch(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "dispatch",
        lambda r: forms.DispatchForm(request.POST, departments=selectors.departments_for(r)),
        lambda r, d: services.report_dispatch(
            report=r,
            actor=request.user,
            department=d["department"],
            deadline=d["deadline"],
            note=d["note"],
        ),
        _("#%(id)s was dispatched."),
    )


@page(*CONSOLE)
@require_POST
def redirect_case(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "redirect",
        lambda r: forms.RedirectForm(
            request.POST,
            departments=selectors.departments_for(r).exclude(pk=r.department_id),
        ),
        lambda r, d: services.report_redirect(
            report=r, actor=request.user, department=d["department"], note=d["note"]
        ),
        _("#%(id)s was sent to another department."),
    )


@page(*CONSOLE)
@require_POST
def verify(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "verify",
        lambda r: forms.VerifyForm(request.POST, request.FILES),
        lambda r, d: services.report_verify(
            report=r, actor=request.user, passed=d["passed"], note=d["note"], photos=d["photos"]
        ),
        _("#%(id)s: the check on site was recorded."),
    )


@page(*CONSOLE)
@require_POST
def close(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "close",
        lambda r: forms.CloseForm(request.POST),
        lambda r, d: services.report_close(report=r, actor=request.user, note=d["note"]),
        _("#%(id)s was closed."),
    )


@page(*CONSOLE)
@require_POST
def staff_reopen(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "staff_reopen",
        lambda r: forms.StaffReopenForm(request.POST, request.FILES),
        lambda r, d: services.report_reopen(
            report=r, actor=request.user, note=d["note"], photos=d["photos"]
        ),
        _("#%(id)s is open again."),
    )


@page(*CONSOLE)
@require_POST
def acknowledge(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "acknowledge",
        lambda r: forms.AcknowledgeForm(request.POST),
        lambda r, d: services.report_acknowledge(report=r, actor=request.user),
        _("You have taken the alert #%(id)s: the reporter is told help is on the way."),
    )


@page(*CONSOLE)
@require_POST
def points_decide(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(
        request,
        report_id,
        "points_decide",
        lambda r: forms.PointsDecisionForm(request.POST),
        lambda r, d: services.report_points_decide(
            report=r, actor=request.user, pay=d["pay"], note=d["note"]
        ),
        _("The points of #%(id)s were decided."),
    )


# --- categories and settings ---------------------------------------------------------------------


def _chosen_street(streets: list[Area], code: Any) -> Area | None:
    return next((s for s in streets if s.code == code), streets[0] if streets else None)


def _categories_page(
    request: HttpRequest,
    streets: list[Area],
    street: Area | None,
    *,
    form: forms.CategoryCreateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {"streets": streets, "street": street}
    if street is not None:
        configure = can(user, Action.CONFIGURE, street)
        points = selectors.category_points(street)
        listed = list(selectors.categories_for(street, active_only=False))
        for category in listed:
            category.points = selectors.points_paid(points, category.code)
        context.update(
            categories=listed,
            can_configure=configure,
            form=form
            or forms.CategoryCreateForm(
                departments=selectors.departments_above(street.code),
                initial={"street": street.code},
            ),
        )
    return render(request, "reports/console/categories.html", context, status=status)


@page(*CONSOLE)
def categories(request: HttpRequest) -> HttpResponse:
    """A street's categories: everyone on the console sees them, its admins add and edit."""
    user = request.user
    streets = _streets_in_scope(user)
    if request.method != "POST":
        return _categories_page(
            request, streets, _chosen_street(streets, request.GET.get("street"))
        )
    street = next((s for s in streets if s.code == request.POST.get("street")), None)
    if street is None:
        return error_page(
            request, ApplicationError(_("Please choose a street you look after."), field="street")
        )
    form = forms.CategoryCreateForm(
        request.POST, departments=selectors.departments_above(street.code)
    )

    def draw(status: int) -> HttpResponse:
        return _categories_page(request, streets, street, form=form, status=status)

    if not form.is_valid():
        return draw(400)
    data = form.cleaned_data
    try:
        category = services.category_create(
            street=street,
            actor=user,
            code=data["code"],
            name=data["name"],
            name_en=data["name_en"],
            family=data["family"],
            description=data["description"],
            department=data["department"],
            deadline_amount=data["deadline_amount"],
            deadline_unit=data["deadline_unit"],
            urgent=data["urgent"],
            ack_minutes=data["ack_minutes"],
            points=data["points"],  # empty: the street's rule for any report applies
            sort_order=data["sort_order"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(name)s was added.") % {"name": category.name})
    return redirect(f"{reverse('reports:categories')}?{urlencode({'street': street.code})}")


@page(*CONSOLE)
@require_POST
def categories_seed(request: HttpRequest) -> HttpResponse:
    """Give the street the standard categories it does not have yet."""
    streets = _streets_in_scope(request.user)
    form = forms.SeedForm(request.POST)
    form.is_valid()
    street = next((s for s in streets if s.code == form.cleaned_data.get("street")), None)
    if street is None:
        return error_page(
            request, ApplicationError(_("Please choose a street you look after."), field="street")
        )
    try:
        made = services.categories_seed(street=street, actor=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    if made:
        messages.success(request, _("%(n)s standard categories were added.") % {"n": len(made)})
    else:
        messages.info(request, _("The street already has every standard category."))
    return redirect(f"{reverse('reports:categories')}?{urlencode({'street': street.code})}")


def _category_initial(category: Category, points: int | None) -> dict[str, Any]:
    return {
        "name": category.name,
        "name_en": category.name_en,
        "description": category.description,
        "department": category.department_id,
        "deadline_amount": category.deadline_amount,
        "deadline_unit": category.deadline_unit,
        "urgent": category.urgent,
        "ack_minutes": category.ack_minutes,
        "points": points,
        "sort_order": category.sort_order,
        "is_active": category.is_active,
    }


@page(*CONSOLE)
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    """Edit a category (its street's admins): department, deadline, points, urgency."""
    user = request.user
    category = get_for_user(
        Category.objects.select_related("street", "department"),
        user,
        Action.CONFIGURE,
        pk=category_id,
    )
    departments = selectors.departments_above(category.area_code)
    # The category's own rule (None: it has none, the street's rule applies).
    points = selectors.category_points(category.street).get(category.code)
    if request.method != "POST":
        form = forms.CategoryEditForm(
            initial=_category_initial(category, points), departments=departments
        )
    else:
        form = forms.CategoryEditForm(request.POST, departments=departments)

    def draw(status: int) -> HttpResponse:
        return render(
            request,
            "reports/console/category_edit.html",
            {"category": category, "form": form},
            status=status,
        )

    if request.method != "POST":
        return draw(200)
    if not form.is_valid():
        return draw(400)
    changes = dict(form.cleaned_data)
    if changes.get("points") is None or changes["points"] == points:
        changes.pop("points", None)  # empty or unchanged: leave the earning rules as they are
    try:
        category = services.category_update(category=category, actor=user, **changes)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(name)s was saved.") % {"name": category.name})
    return redirect(
        f"{reverse('reports:categories')}?{urlencode({'street': category.street.code})}"
    )


@page(*CONSOLE)
def report_settings(request: HttpRequest) -> HttpResponse:
    """A street's settings for reports: duplicates, witnesses' share, the anti-cheating flags."""
    user = request.user
    streets = _streets_in_scope(user)
    if request.method == "POST":
        street = next((s for s in streets if s.code == request.POST.get("street")), None)
        if street is None:
            return error_page(
                request,
                ApplicationError(_("Please choose a street you look after."), field="street"),
            )
        form = forms.SettingsForm(request.POST)
    else:
        street = _chosen_street(streets, request.GET.get("street"))
        form = None
        if street is not None:
            current = services.report_settings(street)
            initial = {name: getattr(current, name) for name in services.SETTINGS_LIMITS}
            form = forms.SettingsForm(initial={"street": street.code, **initial})

    def draw(status: int) -> HttpResponse:
        return render(
            request,
            "reports/console/settings.html",
            {
                "streets": streets,
                "street": street,
                "form": form,
                "can_configure": street is not None and can(user, Action.CONFIGURE, street),
            },
            status=status,
        )

    if request.method != "POST":
        return draw(200)
    if not form.is_valid():
        return draw(400)
    try:
        services.report_settings_update(street=street, actor=user, **form.changes())
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("The settings of %(street)s were saved.") % {"street": street.name})
    return redirect(f"{reverse('reports:settings')}?{urlencode({'street': street.code})}")


# --- the department's pages (mobile first) -------------------------------------------------------


@page(Role.HANDLER)
def cases(request: HttpRequest) -> HttpResponse:
    """My department's open cases, the nearest deadline first (overdue ones stand out)."""
    listed = page_of(
        selectors.with_report_photos(selectors.department_cases(request.user)), request
    )
    return render(request, "reports/cases.html", {"page": listed, "now": timezone.now()})


def _case_page(
    request: HttpRequest,
    report: Report,
    *,
    form: forms.HandleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    events = timeline_rows(report, request.user)
    context = {
        "report": report,
        "events": events,
        "photos": _photos_by_stage(events).get(PhotoStage.REPORT, []),
        "form": (form or forms.HandleForm()) if report.can_handle() else None,
        "markers": [_marker(report, staff=True)],
        "links": navigation_links(report.lat, report.lng, f"#{report.pk}", report.address),
    }
    return render(request, "reports/case.html", context, status=status)


@page(Role.HANDLER)
def case_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_for_user(request.user, report_id)
    return _case_page(request, report)


@page(Role.HANDLER)
@require_POST
def case_handle(request: HttpRequest, report_id: int) -> HttpResponse:
    """处置: the department reports the case handled, with an "after" photo."""
    user = request.user
    report = selectors.report_for_user(user, report_id, Action.OPERATE)
    form = forms.HandleForm(request.POST, request.FILES)

    def draw(status: int) -> HttpResponse:
        return _case_page(request, report, form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        services.report_handle(
            report=report,
            actor=user,
            note=form.cleaned_data["note"],
            photos=form.cleaned_data["photos"],
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request, _("#%(id)s is reported handled: staff will check it on site.") % {"id": report.pk}
    )
    return redirect("reports:cases")
