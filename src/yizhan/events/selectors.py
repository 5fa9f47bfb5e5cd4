"""Every read of events and hand-outs a page or endpoint needs, through the permission layer."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.home import Card, Item
from yizhan.core.permissions import Action, restrict, scope_code
from yizhan.events.choices import Audience, SignupStatus
from yizhan.events.models import Distribution, DistributionItem, Event, Receipt, Signup
from yizhan.stations.models import Station

_CONFIRMED = Q(signups__status=SignupStatus.CONFIRMED)
_WAITING = Q(signups__status=SignupStatus.WAITING)
_ATTENDED = Q(signups__checked_in_at__isnull=False)


def with_counts(qs: QuerySet[Event]) -> QuerySet[Event]:
    """Events with how many signed up, wait and attended (one query for a page of them)."""
    return qs.select_related("organiser", "station").annotate(
        n_confirmed=Count("signups", filter=_CONFIRMED),
        n_waiting=Count("signups", filter=_WAITING),
        n_attended=Count("signups", filter=_ATTENDED),
    )


def _prefixes(code: str) -> list[str]:
    """A rider's area and every area above it (district, street, community)."""
    return [code[:n] for n in (6, 9, 12, 15) if len(code) >= n]


def upcoming_for_rider(user: Any) -> QuerySet[Event]:
    """Events organised by the rider's community or street (or above) not over yet, soonest
    first."""
    now = timezone.now()
    return with_counts(
        restrict(Event.objects.all(), user).filter(
            area_code__in=_prefixes(user.area_code or ""), ends_at__gt=now, cancelled_at=None
        )
    ).order_by("starts_at", "id")


def home_card(user: Any) -> Card | None:
    """The rider's home card: their next (up to 3) events signed up or waited for, soonest
    first; without any, the next event near them open for sign-up. One or two queries."""
    now = timezone.now()

    def when(event: Event) -> str:
        return dateformat.format(timezone.localtime(event.starts_at), "Y-m-d H:i")

    signups = list(
        restrict(Signup.objects.all(), user)
        .filter(
            user=user,
            status__in=[SignupStatus.CONFIRMED, SignupStatus.WAITING],
            event__ends_at__gt=now,
        )
        .select_related("event")
        .order_by("event__starts_at", "event_id")[:3]
    )
    if signups:
        items = [
            Item(
                s.event.title,
                reverse("events:detail", args=[s.event_id]),
                f"{when(s.event)} · "
                + str(_("Called off") if s.event.cancelled_at else s.get_status_display()),
            )
            for s in signups
        ]
        return Card(_("My events"), items, reverse("events:mine"))
    event = (
        restrict(Event.objects.all(), user)
        .filter(area_code__in=_prefixes(user.area_code or ""), starts_at__gt=now, cancelled_at=None)
        .exclude(audience=Audience.RESIDENTS)
        .select_related("station")
        .order_by("starts_at", "id")
        .first()
    )
    if event is None:
        return None
    note = " · ".join(part for part in (when(event), event.venue) if part)
    item = Item(event.title, reverse("events:detail", args=[event.pk]), note)
    return Card(_("Events near me"), [item], reverse("events:list"))


def events_to_run(user: Any) -> QuerySet[Event]:
    """Events the user may manage (staff of the organiser area and the admins above)."""
    return with_counts(restrict(Event.objects.all(), user, Action.OPERATE)).order_by(
        "-starts_at", "-id"
    )


def my_signups(user: Any) -> QuerySet[Signup]:
    return (
        restrict(Signup.objects.all(), user)
        .filter(user=user)
        .select_related("event", "event__station")
        .order_by("-event__starts_at", "-id")
    )


def signups_of(event: Event, user: Any, *, status: str | None = None) -> QuerySet[Signup]:
    rows = (
        restrict(Signup.objects.all(), user, Action.OPERATE)
        .filter(event=event)
        .select_related("user")
    )
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("status", "queued_at", "id")


def my_signup(event: Event, user: Any) -> Signup | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Signup.objects.filter(event=event, user=user).first()


def organiser_areas(user: Any) -> QuerySet[Area]:
    """Streets and communities the user may organise events for (or run hand-outs in)."""
    code = scope_code(user)
    areas = Area.objects.filter(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY])
    if getattr(user, "is_superuser", False):
        return areas.order_by("code")
    if not code:
        return areas.none()
    return restrict(areas, user, Action.OPERATE).order_by("code")


def venue_stations(user: Any) -> QuerySet[Station]:
    """Stations of the streets the user looks after."""
    code = scope_code(user)
    stations = Station.objects.all()
    if not getattr(user, "is_superuser", False):
        stations = stations.filter(area_code__startswith=code[:9]) if code else stations.none()
    return stations.order_by("area_code", "name")


# --- hand-outs ---------------------------------------------------------------------------------


def distributions_for(user: Any) -> QuerySet[Distribution]:
    """Hand-outs the user may run, with their totals (items handed out, people served)."""
    return (
        restrict(Distribution.objects.all(), user, Action.OPERATE)
        .select_related("area")
        .annotate(
            n_people=Count("receipts", distinct=True),
        )
        .order_by("-created_at", "-id")
    )


def totals(distribution: Distribution) -> dict:
    items = DistributionItem.objects.filter(distribution=distribution)
    agg = items.aggregate(handed_out=Sum("handed_out"), left=Sum("stock"))
    return {
        "items_handed_out": agg["handed_out"] or 0,
        "items_left": agg["left"] or 0,
        "people_served": Receipt.objects.filter(distribution=distribution).count(),
    }


def items_of(distribution: Distribution) -> QuerySet[DistributionItem]:
    return DistributionItem.objects.filter(distribution=distribution).order_by("id")


def receipts_of(distribution: Distribution, user: Any) -> QuerySet[Receipt]:
    return (
        restrict(Receipt.objects.all(), user, Action.OPERATE)
        .filter(distribution=distribution)
        .select_related("user", "recorded_by")
        .prefetch_related("lines__item")
        .order_by("-created_at", "-id")
    )


def riders_to_serve(user: Any) -> QuerySet:
    """Riders the user may hand items to (through the people layer)."""
    from yizhan.people.models import User

    return restrict(User.objects.filter(role="rider", is_active=True), user, Action.OPERATE)
