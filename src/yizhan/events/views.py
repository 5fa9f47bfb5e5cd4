"""Event and hand-out pages: the rider's upcoming events, event page with sign-up / cancel and
attendance code, history and the QR check-in landing page; the staff console's events, the
create / edit form, sign-ups and attendance, the door screen with the rotating code, and the
hand-outs with receipts and totals.

Views are thin: gate the account type (``core.pages.page``), read through ``events.selectors``
(the permission layer), write through ``events.services``, and show a refusal on the form (400
or the service's 409) or as the error page with the service's status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.core import crypto
from yizhan.core.errors import ApplicationError, NotFound
from yizhan.core.pages import error_page, is_htmx, page, run_action
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, can, get_for_user
from yizhan.core.qr import qr_svg
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.events import forms, selectors, services
from yizhan.events.choices import SignupStatus
from yizhan.events.models import Distribution, Event, Signup
from yizhan.people.models import User
from yizhan.people.validation import normalise_phone_or_none
from yizhan.points.views import refusal

CONSOLE = tuple(CONSOLE_ROLES)


def _event(request: HttpRequest, event_id: int, action: Action = Action.VIEW) -> Event:
    return get_for_user(
        selectors.with_counts(Event.objects.all()), request.user, action, pk=event_id
    )


# --- the rider's pages -------------------------------------------------------------------------


@page(Role.RIDER)
def upcoming(request: HttpRequest) -> HttpResponse:
    events = page_of(selectors.upcoming_for_rider(request.user), request)
    mine = dict(
        Signup.objects.filter(user=request.user, event__in=list(events.object_list)).values_list(
            "event_id", "status"
        )
    )
    for event in events.object_list:
        event.my_status = mine.get(event.pk)
    return render(request, "events/list.html", {"page": events})


@page(Role.RIDER)
def mine(request: HttpRequest) -> HttpResponse:
    rows = page_of(selectors.my_signups(request.user), request)
    return render(request, "events/mine.html", {"page": rows, "now": timezone.now()})


@page(Role.RIDER)
def detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event(request, event_id)
    signup = selectors.my_signup(event, request.user)
    active = signup is not None and signup.status != SignupStatus.CANCELLED
    context = {
        "event": event,
        "signup": signup if active else None,
        "qr": qr_svg(signup.qr_payload)
        if active and signup.status == SignupStatus.CONFIRMED
        else "",
        "started": event.starts_at <= timezone.now(),
        "full": event.n_confirmed >= event.capacity,
    }
    return render(request, "events/detail.html", context)


@page(Role.RIDER)
@require_POST
def signup(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event(request, event_id)
    try:
        done = services.signup_create(event=event, user=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    if done.status == SignupStatus.CONFIRMED:
        messages.success(request, _("You are signed up for %(event)s.") % {"event": event})
    else:
        messages.info(
            request,
            _("%(event)s is full: you are on the waiting list and will be told if a place "
              "comes free.") % {"event": event},
        )  # fmt: skip
    return redirect("events:detail", event_id=event.pk)


@page(Role.RIDER)
@require_POST
def cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event(request, event_id)
    found = Signup.objects.filter(event=event, user=request.user).first()
    if found is None:
        return error_page(
            request, NotFound(_("You have not signed up for this event."), code="not_signed_up")
        )
    refused = run_action(
        request,
        lambda: services.signup_cancel(signup=found, actor=request.user),
        success=_("Your sign-up for %(event)s was cancelled.") % {"event": event},
    )
    return refused or redirect("events:detail", event_id=event.pk)


@page()
def check_in(request: HttpRequest, event_id: int, token: str) -> HttpResponse:
    """The page the event's QR code opens: an expired code or another event's is refused
    before any button; a rider checks in with one tap (a repeat gives the same answer)."""
    event = _event(request, event_id)
    services.qr_check(event=event, token=token)
    if request.method == "POST":
        try:
            done = services.check_in_by_qr(event=event, token=token, user=request.user)
        except ApplicationError as exc:
            return error_page(request, exc)
        return render(request, "events/checked_in.html", {"event": event, "signup": done})
    return render(
        request,
        "events/check_in.html",
        {"event": event, "is_rider": request.user.role == Role.RIDER},
    )


# --- the staff console: events -----------------------------------------------------------------


@page(*CONSOLE)
def console_list(request: HttpRequest) -> HttpResponse:
    events = page_of(selectors.events_to_run(request.user), request)
    return render(request, "events/console/list.html", {"page": events, "now": timezone.now()})


def _form_page(
    request: HttpRequest, form: Any, *, event: Event | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request, "events/console/form.html", {"form": form, "event": event}, status=status
    )


def _local_input(value: datetime) -> str:
    return f"{timezone.localtime(value):%Y-%m-%dT%H:%M}"


@page(*CONSOLE)
def create(request: HttpRequest) -> HttpResponse:
    user = request.user
    areas = selectors.organiser_areas(user)
    stations = selectors.venue_stations(user)
    form = forms.EventForm(request.POST or None, areas=areas, stations=stations)
    if request.method != "POST":
        return _form_page(request, form)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    try:
        event = services.event_create(actor=user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, lambda status: _form_page(request, form, status=status))
    messages.success(request, _("%(event)s was announced.") % {"event": event})
    return redirect("events:signups", event_id=event.pk)


@page(*CONSOLE)
def edit(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event(request, event_id, Action.OPERATE)
    stations = selectors.venue_stations(request.user)
    if request.method != "POST":
        initial = {
            name: getattr(event, name)
            for name in ("title", "kind", "description", "audience", "capacity", "address")
        }
        initial.update(
            station=event.station_id,
            lat=event.lat,
            lng=event.lng,
            starts_at=_local_input(event.starts_at),
            ends_at=_local_input(event.ends_at),
        )
        form = forms.EventFields(initial=initial, stations=stations)
        return _form_page(request, form, event=event)
    form = forms.EventFields(request.POST, stations=stations)

    def draw(status: int) -> HttpResponse:
        return _form_page(request, form, event=event, status=status)

    if not form.is_valid():
        return draw(400)
    changes = dict(form.cleaned_data)
    if changes["station"] is not None or not changes["address"]:
        changes.pop("lat")
        changes.pop("lng")
    try:
        event = services.event_update(event=event, actor=request.user, **changes)
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(event)s was saved.") % {"event": event})
    return redirect("events:signups", event_id=event.pk)


@page(*CONSOLE)
def signups(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event(request, event_id, Action.OPERATE)
    status = request.GET.get("status") or ""
    if status not in SignupStatus.values:
        status = ""
    return _signups_page(request, event, status=status)


def _signups_page(
    request: HttpRequest,
    event: Event,
    *,
    status: str = "",
    cancel_form: Any = None,
    http_status: int = 200,
) -> HttpResponse:
    rows = page_of(selectors.signups_of(event, request.user, status=status or None), request)
    return render(
        request,
        "events/console/signups.html",
        {
            "event": event,
            "page": rows,
            "status": status,
            "statuses": SignupStatus.choices,
            "query": f"status={status}" if status else "",
            "started": event.starts_at <= timezone.now(),
            "cancel_form": cancel_form or forms.CallOffForm(),
        },
        status=http_status,
    )


@page(*CONSOLE)
@require_POST
def call_off(request: HttpRequest, event_id: int) -> HttpResponse:
    """Staff call the event off before it starts; everyone signed up is told why."""
    event = _event(request, event_id, Action.OPERATE)
    form = forms.CallOffForm(request.POST)

    def draw(status: int) -> HttpResponse:
        return _signups_page(request, event, cancel_form=form, http_status=status)

    if not form.is_valid():
        return draw(400)
    try:
        event = services.event_cancel(
            event=event, reason=form.cleaned_data["reason"], actor=request.user
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request, _("%(event)s is called off; those signed up were told.") % {"event": event}
    )
    return redirect("events:signups", event_id=event.pk)


def _code_context(request: HttpRequest, event: Event) -> dict:
    window = services.qr_window()
    token = services.qr_token(event, window)
    url = request.build_absolute_uri(reverse("events:check_in", args=[event.pk, token]))
    return {
        "event": event,
        "svg": qr_svg(url),
        "url": url,
        "refresh": services.QR_SECONDS,
        "valid_until": datetime.fromtimestamp(
            (window + 1) * services.QR_SECONDS, tz=timezone.get_current_timezone()
        ),
    }


@page(*CONSOLE)
def door(request: HttpRequest, event_id: int) -> HttpResponse:
    """The check-in screen: the rotating code (htmx refreshes it) and a form for a rider's code
    or phone."""
    event = _event(request, event_id, Action.OPERATE)
    if request.method == "GET" and is_htmx(request):
        return render(request, "events/console/_code.html", _code_context(request, event))
    form = forms.AttendanceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                done = services.check_in_by_staff(
                    event=event, code=form.cleaned_data["code"], actor=request.user
                )
            except ApplicationError as exc:
                return refusal(
                    request,
                    form,
                    exc,
                    lambda s: render(
                        request,
                        "events/console/door.html",
                        {**_code_context(request, event), "form": form},
                        status=s,
                    ),
                )
            name = done.user.name or done.user.username
            if done.already:
                messages.info(request, _("%(name)s had already checked in.") % {"name": name})
            else:
                messages.success(request, _("%(name)s is checked in.") % {"name": name})
            return redirect("events:door", event_id=event.pk)
    context = {**_code_context(request, event), "form": form}
    return render(request, "events/console/door.html", context, status=status)


# --- the staff console: hand-outs --------------------------------------------------------------


def _handouts_page(request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
    rows = page_of(selectors.distributions_for(request.user), request)
    return render(
        request, "events/console/handouts.html", {"page": rows, "form": form}, status=status
    )


@page(*CONSOLE)
def handouts(request: HttpRequest) -> HttpResponse:
    areas = selectors.organiser_areas(request.user)
    form = forms.DistributionForm(request.POST or None, areas=areas)
    if request.method != "POST":
        return _handouts_page(request, form)
    if not form.is_valid():
        return _handouts_page(request, form, 400)
    try:
        distribution = services.distribution_create(actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return refusal(request, form, exc, lambda s: _handouts_page(request, form, s))
    messages.success(request, _("%(name)s was started.") % {"name": distribution})
    return redirect("events:handout", distribution_id=distribution.pk)


def _distribution(request: HttpRequest, distribution_id: int) -> Distribution:
    return get_for_user(
        Distribution.objects.select_related("area"),
        request.user,
        Action.OPERATE,
        pk=distribution_id,
    )


def _handout_page(
    request: HttpRequest,
    distribution: Distribution,
    *,
    receipt_form: Any = None,
    restock_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    items = list(selectors.items_of(distribution))
    context = {
        "distribution": distribution,
        "items": items,
        "totals": selectors.totals(distribution),
        "page": page_of(selectors.receipts_of(distribution, request.user), request),
        "receipt_form": receipt_form or forms.ReceiptForm(items=items),
        "restock_form": restock_form or forms.RestockForm(),
        "can_operate": can(request.user, Action.OPERATE, distribution),
    }
    return render(request, "events/console/handout.html", context, status=status)


@page(*CONSOLE)
def handout(request: HttpRequest, distribution_id: int) -> HttpResponse:
    return _handout_page(request, _distribution(request, distribution_id))


@page(*CONSOLE)
@require_POST
def receipt(request: HttpRequest, distribution_id: int) -> HttpResponse:
    distribution = _distribution(request, distribution_id)
    form = forms.ReceiptForm(request.POST, items=selectors.items_of(distribution))

    def draw(status: int) -> HttpResponse:
        return _handout_page(request, distribution, receipt_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    phone = normalise_phone_or_none(form.cleaned_data["phone"])
    rider = (
        User.objects.filter(
            phone_index__in=crypto.blind_indexes(phone), role=Role.RIDER, is_active=True
        ).first()
        if phone
        else None
    )
    if rider is None:
        form.add_error(
            "phone",
            _("Please enter an 11-digit mainland mobile number, such as 13812341234.")
            if phone is None
            else _("No rider has this phone number."),
        )
        return draw(400)
    try:
        services.receipt_record(
            distribution=distribution, rider=rider, items=form.quantities(), actor=request.user
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(
        request, _("Recorded: %(name)s received the items.") % {"name": rider.name or "—"}
    )
    return redirect("events:handout", distribution_id=distribution.pk)


@page(*CONSOLE)
@require_POST
def restock(request: HttpRequest, distribution_id: int) -> HttpResponse:
    distribution = _distribution(request, distribution_id)
    form = forms.RestockForm(request.POST)

    def draw(status: int) -> HttpResponse:
        return _handout_page(request, distribution, restock_form=form, status=status)

    if not form.is_valid():
        return draw(400)
    try:
        item = services.item_restock(
            distribution=distribution, actor=request.user, **form.cleaned_data
        )
    except ApplicationError as exc:
        return refusal(request, form, exc, draw)
    messages.success(request, _("%(item)s: %(n)s in stock.") % {"item": item.name, "n": item.stock})
    return redirect("events:handout", distribution_id=distribution.pk)
