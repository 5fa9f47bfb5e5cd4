"""Every write of events and hand-outs.

Events: staff of the organiser area create and edit them; a rider signs up (a place, or the
waiting list when full) and cancels before the start, which promotes the first waiting rider
(notified); the rider checks in by scanning the event's rotating QR code, or staff confirm them
by their attendance code or phone; attendance points are paid once through ``points_earn``.
Capacity is decided under a row lock on the event, so two riders cannot take the last place.

Hand-outs: staff of an area create a distribution with items and stock and record who received
what; stock moves by conditional ``F()`` updates (never below zero) and a rider receives one
distribution at most once (a unique constraint, answered with a 409).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core import crypto
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound, Unauthenticated
from yizhan.core.permissions import Action, is_authenticated, require
from yizhan.core.roles import Role
from yizhan.core.validation import clean_text
from yizhan.core.validation import whole_number as _whole
from yizhan.events.choices import (
    Audience,
    CheckInMethod,
    EventKind,
    PointsStatus,
    SignupStatus,
)
from yizhan.events.models import (
    Distribution,
    DistributionItem,
    Event,
    Receipt,
    ReceiptLine,
    Signup,
)
from yizhan.notifications.services import notify
from yizhan.people.models import User
from yizhan.people.validation import normalise_phone_or_none
from yizhan.points.choices import Activity
from yizhan.points.services import points_earn
from yizhan.stations.models import Station

#: How long one QR code lasts; the previous one is still accepted (a slow scan).
QR_SECONDS = settings.EVENT_QR_SECONDS
#: Check-in opens this long before the start and closes at the end.
CHECK_IN_EARLY = timedelta(hours=1)
MAX_CAPACITY = 10_000
MAX_ITEM_STOCK = 100_000
_CODE = re.compile(r"^\d{6}$")
_QR = re.compile(r"^YZE-(\d+)-(\d{6})$")


def _text(value: Any, *, field: str, limit: int, required: bool = False, label: str = "") -> str:
    message = _("Please fill in the %(field)s.") % {"field": label or field}
    return clean_text(value, field=field, limit=limit, required=required, message=message)


def _local(when: datetime) -> str:
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M}"


# --- events ------------------------------------------------------------------------------------


def _check_organiser(organiser: Any) -> Area:
    if not isinstance(organiser, Area) or organiser.level not in (
        AreaLevel.STREET,
        AreaLevel.COMMUNITY,
    ):
        raise ApplicationError(
            _("An event is organised by a street or a community."), field="organiser"
        )
    return organiser


def _venue(
    organiser: Area, station: Any, address: Any, lat: Any, lng: Any
) -> tuple[Station | None, str, float, float]:
    """A station of the organiser's area, or an address with a location on the map."""
    address = _text(address, field="address", limit=200)
    if station is not None:
        if not isinstance(station, Station) or not station.area_code.startswith(organiser.code[:9]):
            raise ApplicationError(
                _("Please choose a station of the organiser's street."), field="station"
            )
        return station, address, station.lat, station.lng
    if not address:
        raise ApplicationError(
            _("Please choose a station or give the address of the venue."), field="address"
        )
    ok = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in (lat, lng)
    )
    if not ok or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ApplicationError(_("Please mark the venue on the map."), field="lat")
    return None, address, float(lat), float(lng)


def _times(starts_at: Any, ends_at: Any) -> None:
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise ApplicationError(_("Please give when the event starts and ends."), field="starts_at")
    if ends_at <= starts_at:
        raise ApplicationError(_("The end must come after the start."), field="ends_at")
    if ends_at - starts_at > timedelta(days=14):
        raise ApplicationError(_("An event lasts at most 14 days."), field="ends_at")


@transaction.atomic
def event_create(
    *,
    organiser: Any,
    title: Any,
    kind: Any,
    starts_at: Any,
    ends_at: Any,
    capacity: Any,
    actor: Any,
    description: Any = "",
    audience: Any = Audience.RIDERS,
    station: Any = None,
    address: Any = "",
    lat: Any = None,
    lng: Any = None,
) -> Event:
    """Staff of a street or community (or the admins above) announce an event."""
    organiser = _check_organiser(organiser)
    require(actor, Action.OPERATE, organiser)
    title = _text(title, field="title", limit=100, required=True, label=_("title"))
    if kind not in EventKind.values:
        raise ApplicationError(_("Please choose a kind of event."), field="kind")
    if audience not in Audience.values:
        raise ApplicationError(_("Please choose who the event is for."), field="audience")
    _times(starts_at, ends_at)
    if ends_at <= timezone.now():
        raise ApplicationError(_("The event would be over already."), field="ends_at")
    station, address, lat, lng = _venue(organiser, station, address, lat, lng)
    event = Event.objects.create(
        title=title,
        kind=kind,
        description=_text(description, field="description", limit=1000),
        organiser=organiser,
        area_code=organiser.code,
        station=station,
        address=address,
        lat=lat,
        lng=lng,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=_whole(capacity, field="capacity", low=1, high=MAX_CAPACITY),
        audience=audience,
        created_by=actor,
    )
    log_action(actor=actor, action="event.created", target=event, data={"capacity": event.capacity})
    return event


_EDITABLE = {
    "title", "kind", "description", "audience", "starts_at", "ends_at", "capacity", "station",
    "address", "lat", "lng",
}  # fmt: skip


def _lock(event: Event) -> Event:
    return Event.objects.select_for_update().get(pk=event.pk)


def _confirmed(event: Event) -> int:
    return Signup.objects.filter(event=event, status=SignupStatus.CONFIRMED).count()


@transaction.atomic
def event_update(*, event: Event, actor: Any, **changes: Any) -> Event:
    """Change an event. The capacity may not drop below the riders already signed up; when it
    grows, riders waiting are moved up (and told)."""
    require(actor, Action.OPERATE, event)
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ApplicationError(
            _("These cannot be changed: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    event = _lock(event)
    _not_called_off(event)
    old = {name: getattr(event, name) for name in ("capacity", "starts_at", "ends_at")}
    if "title" in changes:
        event.title = _text(changes["title"], field="title", limit=100, required=True)
    if "kind" in changes:
        if changes["kind"] not in EventKind.values:
            raise ApplicationError(_("Please choose a kind of event."), field="kind")
        event.kind = changes["kind"]
    if "audience" in changes:
        if changes["audience"] not in Audience.values:
            raise ApplicationError(_("Please choose who the event is for."), field="audience")
        event.audience = changes["audience"]
    if "description" in changes:
        event.description = _text(changes["description"], field="description", limit=1000)
    if "starts_at" in changes or "ends_at" in changes:
        starts = changes.get("starts_at", event.starts_at)
        ends = changes.get("ends_at", event.ends_at)
        _times(starts, ends)
        event.starts_at, event.ends_at = starts, ends
    if {"station", "address", "lat", "lng"} & set(changes):
        station = changes.get("station", event.station if event.station_id else None)
        event.station, event.address, event.lat, event.lng = _venue(
            event.organiser,
            station,
            changes.get("address", event.address),
            changes.get("lat", event.lat),
            changes.get("lng", event.lng),
        )
    if "capacity" in changes:
        capacity = _whole(changes["capacity"], field="capacity", low=1, high=MAX_CAPACITY)
        taken = _confirmed(event)
        if capacity < taken:
            raise Conflict(
                _("%(n)s riders have already signed up: the capacity cannot be less.")
                % {"n": taken},
                code="capacity_below_signups",
                field="capacity",
            )
        event.capacity = capacity
    event.save()
    if event.capacity > old["capacity"]:
        _promote(event, actor=actor)
    log_action(
        actor=actor,
        action="event.updated",
        target=event,
        data={"changed": sorted(changes), "capacity": [old["capacity"], event.capacity]},
    )
    return event


def _not_called_off(event: Event) -> None:
    if event.cancelled_at is not None:
        raise Conflict(
            _("%(event)s was called off: %(reason)s")
            % {"event": event, "reason": event.cancel_reason},
            code="event_called_off",
        )


@transaction.atomic
def event_cancel(*, event: Event, reason: Any, actor: Any) -> Event:
    """Call an event off before it starts. Everyone signed up or waiting is told why; their
    sign-ups stay as they were (the record of who meant to come), but nobody can sign up,
    check in or change the event any more. Refused once it has started or when already off."""
    require(actor, Action.OPERATE, event)
    why = _text(reason, field="reason", limit=300, required=True, label=_("Why it is called off"))
    event = _lock(event)
    _not_called_off(event)
    if event.starts_at <= timezone.now():
        raise Conflict(
            _("%(event)s has already started: it can no longer be called off.") % {"event": event},
            code="event_started",
            field="reason",
        )
    event.cancelled_at = timezone.now()
    event.cancel_reason = why
    event.save(update_fields=["cancelled_at", "cancel_reason", "updated_at"])
    log_action(actor=actor, action="event.cancelled", target=event, data={"reason": why})
    told = list(
        Signup.objects.filter(
            event=event, status__in=[SignupStatus.CONFIRMED, SignupStatus.WAITING]
        ).values_list("user_id", flat=True)
    )
    if told:
        title, starts = event.title, _local(event.starts_at)
        notify(
            recipients=told,
            kind="event.cancelled",
            title=lambda: (
                _("%(event)s (%(when)s) is called off: %(reason)s")
                % {"event": title, "when": starts, "reason": why}
            ),
            url=reverse("events:detail", args=[event.pk]),
            target=event,
        )
    return event


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _promote(event: Event, *, actor: Any) -> list[Signup]:
    """Fill free places from the waiting list, first come first served (event row locked)."""
    free = event.capacity - _confirmed(event)
    if free <= 0:
        return []
    promoted = list(
        Signup.objects.filter(event=event, status=SignupStatus.WAITING).order_by("queued_at", "id")[
            :free
        ]
    )
    for signup in promoted:
        signup.status = SignupStatus.CONFIRMED
        signup.save(update_fields=["status"])
        log_action(actor=actor, action="event.signup_promoted", target=signup)
    if promoted:
        url = reverse("events:detail", args=[event.pk])
        title = event.title
        starts = _local(event.starts_at)
        notify(
            recipients=[s.user_id for s in promoted],
            kind="event.promoted",
            title=lambda: (
                _("A place came free: you are signed up for %(event)s (%(when)s).")
                % {"event": title, "when": starts}
            ),
            url=url,
            target=event,
        )
    return promoted


@transaction.atomic
def signup_create(*, event: Event, user: Any) -> Signup:
    """A rider signs up: a place while there is one, else the waiting list (not an error).

    Refused: not a rider, an event for residents, an event that has started or ended, a rider
    already signed up or waiting.
    """
    if not is_authenticated(user):
        raise Unauthenticated(_("Please log in first."))
    if user.role != Role.RIDER:
        raise Forbidden(_("Only riders sign up for events here."), code="not_a_rider")
    event = _lock(event)
    _not_called_off(event)
    if event.audience == Audience.RESIDENTS:
        raise ApplicationError(
            _("This event is for residents; riders do not sign up for it."), code="not_for_riders"
        )
    now = timezone.now()
    if event.starts_at <= now:
        raise ApplicationError(
            _("%(event)s has already started: sign-up is closed.") % {"event": event},
            code="event_started",
        )
    existing = Signup.objects.filter(event=event, user=user).first()
    if existing is not None and existing.status != SignupStatus.CANCELLED:
        raise Conflict(
            _("You are already signed up (%(status)s).")
            % {"status": existing.get_status_display()},
            code="already_signed_up",
        )
    status = SignupStatus.CONFIRMED if _confirmed(event) < event.capacity else SignupStatus.WAITING
    if existing is None:
        signup = Signup.objects.create(
            event=event,
            user=user,
            area_code=event.area_code,
            status=status,
            queued_at=now,
            code=_new_code(),
        )
    else:
        signup = existing
        signup.status = status
        signup.queued_at = now
        signup.cancelled_at = None
        signup.save(update_fields=["status", "queued_at", "cancelled_at"])
    log_action(actor=user, action=f"event.signup_{status}", target=signup)
    return signup


@transaction.atomic
def signup_cancel(*, signup: Signup, actor: Any) -> Signup:
    """The rider (or the event's staff) cancels before the start; the first waiting rider
    takes the place and is told."""
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if actor.pk != signup.user_id:
        require(actor, Action.OPERATE, signup)
    event = _lock(signup.event)
    signup = Signup.objects.select_for_update().get(pk=signup.pk)
    if not signup.can_cancel():
        raise Conflict(
            _("This sign-up cannot be cancelled (%(status)s).")
            % {"status": _("checked in") if signup.checked_in_at else signup.get_status_display()},
            code="cannot_cancel",
        )
    if event.starts_at <= timezone.now():
        raise ApplicationError(
            _("%(event)s has already started: it is too late to cancel.") % {"event": event},
            code="event_started",
        )
    was_confirmed = signup.status == SignupStatus.CONFIRMED
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = timezone.now()
    signup.save(update_fields=["status", "cancelled_at"])
    log_action(actor=actor, action="event.signup_cancelled", target=signup)
    if was_confirmed:
        _promote(event, actor=actor)
    signup.event = event
    return signup


# --- the rotating QR code ----------------------------------------------------------------------


def qr_window(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // QR_SECONDS)


def qr_token(event: Event, window: int | None = None) -> str:
    """The code in the event's check-in link for one time window (HMAC of event and window)."""
    window = qr_window() if window is None else window
    key = crypto.derive_key(b"event-qr")
    digest = hmac.new(key, f"{event.pk}:{window}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def qr_check(*, event: Event, token: Any) -> None:
    """Raise unless ``token`` is the event's current code or the one just before it."""
    now = qr_window()
    given = token.encode() if isinstance(token, str) else b""
    if not any(hmac.compare_digest(given, qr_token(event, w).encode()) for w in (now, now - 1)):
        raise ApplicationError(
            _("This code has expired or is for another event: scan the code on display now."),
            code="invalid_qr",
            field="token",
        )


def _check_in_open(event: Event, now: datetime) -> None:
    _not_called_off(event)
    if now < event.starts_at - CHECK_IN_EARLY:
        raise Conflict(
            _("Check-in opens one hour before the start (%(when)s).")
            % {"when": _local(event.starts_at)},
            code="check_in_not_open",
        )
    if now >= event.ends_at:
        raise Conflict(_("%(event)s is over.") % {"event": event}, code="event_over")


def _pay(signup: Signup, actor: Any) -> str:
    """Attendance points, once (the key is the sign-up's): the resulting points status."""
    try:
        points_earn(
            member=signup.user,
            activity=Activity.EVENT_ATTENDANCE,
            reason=_("Attended: %(event)s") % {"event": signup.event.title},
            actor=actor,
            idempotency_key=f"event-{signup.event_id}-attend-{signup.user_id}",
            source=signup,
        )
    except (Forbidden, Unauthenticated):
        # The one who confirmed it may not pay this rider (e.g. the event's creator, for a
        # rider of another community): staff above can confirm it and pay.
        return PointsStatus.HELD
    except ApplicationError as exc:
        if exc.code in ("no_rule", "not_a_member", "no_street"):
            return PointsStatus.NONE
        raise
    return PointsStatus.PAID


def _attend(signup: Signup, *, method: str, actor: Any, payer: Any) -> Signup:
    """Mark the (locked) sign-up attended and pay; a repeat pays nothing more."""
    signup.already = signup.checked_in_at is not None
    if not signup.already:
        signup.checked_in_at = timezone.now()
        signup.check_in_method = method
        signup.checked_in_by = actor if method == CheckInMethod.STAFF else None
        log_action(actor=actor, action="event.checked_in", target=signup, data={"by": method})
    if signup.points_status != PointsStatus.PAID:
        status = _pay(signup, payer)
        # "No rule" stays "none" so a later confirmation may still pay once a rule exists.
        signup.points_status = status
    signup.save(
        update_fields=["checked_in_at", "check_in_method", "checked_in_by", "points_status"]
    )
    return signup


def _signup_to_attend(signup: Signup | None, event: Event) -> Signup:
    if signup is None or signup.status == SignupStatus.CANCELLED:
        raise Conflict(
            _("There is no sign-up for %(event)s: sign up first.") % {"event": event},
            code="not_signed_up",
        )
    if signup.status == SignupStatus.WAITING:
        raise Conflict(
            _("This rider is still on the waiting list of %(event)s.") % {"event": event},
            code="on_waiting_list",
        )
    return signup


@transaction.atomic
def check_in_by_qr(*, event: Event, token: Any, user: Any) -> Signup:
    """A rider scanned the event's code at the venue. Idempotent: a second scan gives the same
    answer (``signup.already`` is True) and pays nothing more."""
    if not is_authenticated(user):
        raise Unauthenticated(_("Please log in first."))
    if user.role != Role.RIDER:
        raise Forbidden(_("Only riders check in at an event."), code="not_a_rider")
    qr_check(event=event, token=token)
    _check_in_open(event, timezone.now())
    found = Signup.objects.select_for_update().filter(event=event, user=user).first()
    signup = _signup_to_attend(found, event)
    signup.event = event
    # The code on display stands for the staff running the door: the event's creator pays.
    return _attend(signup, method=CheckInMethod.QR, actor=user, payer=event.created_by)


def find_signup(*, event: Event, code: Any) -> Signup:
    """The sign-up a typed code, a scanned ``YZE-<id>-<code>`` or a phone number names."""
    text = code.strip() if isinstance(code, str) else ""
    match = _QR.match(text)
    if match:
        found = Signup.objects.filter(pk=int(match.group(1)), code=match.group(2)).first()
        if found is not None and found.event_id != event.pk:
            raise Conflict(
                _("This code is for another event (%(event)s).") % {"event": found.event},
                code="other_event",
                field="code",
            )
    elif _CODE.match(text):
        found = Signup.objects.filter(event=event, code=text).first()
    else:
        phone = normalise_phone_or_none(text)
        if phone is None:
            raise ApplicationError(
                _("Give the rider's 6-digit code, the text of their QR code, or their phone."),
                code="invalid_code",
                field="code",
            )
        user = User.objects.filter(phone_index__in=crypto.blind_indexes(phone)).first()
        found = Signup.objects.filter(event=event, user=user).first() if user else None
    if found is None:
        raise NotFound(
            _("Nobody signed up for this event with that code or phone."),
            code="unknown_code",
            field="code",
        )
    return found


@transaction.atomic
def check_in_by_staff(*, event: Event, code: Any, actor: Any) -> Signup:
    """Staff at the door confirm a rider by code or phone (again: pays points still held)."""
    require(actor, Action.OPERATE, event)
    _check_in_open(event, timezone.now())
    found = find_signup(event=event, code=code)
    signup = Signup.objects.select_for_update().select_related("user").get(pk=found.pk)
    signup = _signup_to_attend(signup, event)
    signup.event = event
    return _attend(signup, method=CheckInMethod.STAFF, actor=actor, payer=actor)


# --- hand-outs ---------------------------------------------------------------------------------


def _items(items: Any) -> list[tuple[str, int]]:
    if not isinstance(items, list | tuple) or not items:
        raise ApplicationError(_("A hand-out needs at least one item."), field="items")
    seen: set[str] = set()
    result = []
    for entry in items:
        name, stock = entry if isinstance(entry, tuple | list) and len(entry) == 2 else ("", None)
        name = _text(name, field="items", limit=50, required=True, label=_("item"))
        if name in seen:
            raise ApplicationError(_("%(item)s is listed twice.") % {"item": name}, field="items")
        seen.add(name)
        result.append((name, _whole(stock, field="items", low=0, high=MAX_ITEM_STOCK)))
    return result


@transaction.atomic
def distribution_create(
    *, area: Any, name: Any, items: Any, actor: Any, description: Any = ""
) -> Distribution:
    """Staff of an area start a hand-out with its items and stock."""
    if not isinstance(area, Area):
        raise ApplicationError(_("Please choose the area of the hand-out."), field="area")
    require(actor, Action.OPERATE, area)
    name = _text(name, field="name", limit=100, required=True, label=_("name"))
    items = _items(items)
    distribution = Distribution.objects.create(
        name=name,
        description=_text(description, field="description", limit=500),
        area=area,
        area_code=area.code,
        created_by=actor,
    )
    DistributionItem.objects.bulk_create(
        DistributionItem(distribution=distribution, area_code=area.code, name=n, stock=s)
        for n, s in items
    )
    log_action(
        actor=actor,
        action="handout.created",
        target=distribution,
        data={"items": {n: s for n, s in items}},
    )
    return distribution


@transaction.atomic
def item_restock(
    *, distribution: Distribution, name: Any, change: Any, actor: Any
) -> DistributionItem:
    """Add an item, or add to (below zero: take from) an item's stock; never below zero."""
    require(actor, Action.OPERATE, distribution)
    name = _text(name, field="name", limit=50, required=True, label=_("item"))
    change = _whole(change, field="change", low=-MAX_ITEM_STOCK, high=MAX_ITEM_STOCK)
    if change == 0:
        raise ApplicationError(_("Please give a number other than 0."), field="change")
    item = DistributionItem.objects.filter(distribution=distribution, name=name).first()
    if item is None:
        if change < 0:
            raise NotFound(_("The hand-out has no item %(item)s.") % {"item": name}, field="name")
        item = DistributionItem.objects.create(
            distribution=distribution, area_code=distribution.area_code, name=name, stock=change
        )
    elif not DistributionItem.objects.filter(pk=item.pk, stock__gte=-change).update(
        stock=F("stock") + change
    ):
        raise Conflict(
            _("Only %(n)s of %(item)s are left.") % {"n": item.stock, "item": name},
            code="not_enough_stock",
            field="change",
        )
    item.refresh_from_db()
    log_action(
        actor=actor,
        action="handout.restocked",
        target=distribution,
        data={"item": name, "change": change},
    )
    return item


@transaction.atomic
def receipt_record(*, distribution: Distribution, rider: Any, items: Any, actor: Any) -> Receipt:
    """Staff hand a rider items of a hand-out: stock goes down, the receipt is written.

    ``items`` maps an item (or its id) to a quantity. Refused: a rider who already received
    this hand-out (409), an item out of stock (409), an item of another hand-out (400).
    """
    require(actor, Action.OPERATE, distribution)
    if not isinstance(rider, User) or rider.role != Role.RIDER:
        raise ApplicationError(_("Please choose a rider."), field="rider")
    if not isinstance(items, dict) or not items:
        raise ApplicationError(_("Please give at least one item and how many."), field="items")
    wanted: dict[int, int] = {}
    for key, quantity in items.items():
        item_id = key.pk if isinstance(key, DistributionItem) else key
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            raise ApplicationError(_("Please choose items of this hand-out."), field="items")
        wanted[item_id] = _whole(quantity, field="items", low=1, high=1000)
    known = {
        i.pk: i
        for i in DistributionItem.objects.filter(distribution=distribution, pk__in=list(wanted))
    }
    if set(wanted) - set(known):
        raise ApplicationError(_("Please choose items of this hand-out."), field="items")
    if Receipt.objects.filter(distribution=distribution, user=rider).exists():
        raise _already(rider, distribution)
    try:
        with transaction.atomic():
            receipt = Receipt.objects.create(
                distribution=distribution,
                user=rider,
                area_code=distribution.area_code,
                recorded_by=actor,
            )
    except IntegrityError:  # a second device recorded the same rider a moment ago
        raise _already(rider, distribution) from None
    for item_id in sorted(wanted):  # a fixed order, so two counters never deadlock
        quantity = wanted[item_id]
        if not DistributionItem.objects.filter(pk=item_id, stock__gte=quantity).update(
            stock=F("stock") - quantity, handed_out=F("handed_out") + quantity
        ):
            item = DistributionItem.objects.get(pk=item_id)
            raise Conflict(
                _("%(item)s is out of stock (%(n)s left).") % {"item": item.name, "n": item.stock},
                code="out_of_stock",
                field="items",
            )
        ReceiptLine.objects.create(
            receipt=receipt, item_id=item_id, area_code=distribution.area_code, quantity=quantity
        )
    log_action(
        actor=actor,
        action="handout.received",
        target=receipt,
        data={"rider": rider.pk, "items": {known[i].name: q for i, q in wanted.items()}},
    )
    return receipt


def _already(rider: Any, distribution: Distribution) -> Conflict:
    return Conflict(
        _("%(name)s has already received %(handout)s.")
        % {"name": rider.name or rider.username, "handout": distribution},
        code="already_received",
        field="rider",
    )
