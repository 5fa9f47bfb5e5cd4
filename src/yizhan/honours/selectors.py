"""Every read of honours a page or endpoint needs, through the permission layer; and the
rider's record over a period, from which staff nominate.

The record (``record_of`` / ``with_record``) counts what exists today:

* ``points``: points earned in the period — the member's award postings (``points.Posting``
  of kind ``award``) made in it, less the reversals of awards made in it;
* ``reports``: the rider's hazard reports verified in the period (``reports.Report`` with the
  rider as reporter, status verified or closed, verified — or else closed — in the period).

Events attended and duties verified will be two more columns (``events``, ``duties``) when the
``events`` and ``duties`` apps land: add a subquery for each in :func:`with_record` and a key in
:data:`RECORD_KEYS`; nothing else changes (pages and the API show every key of the record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core.home import Card, Item
from yizhan.core.permissions import Action, restrict
from yizhan.honours.choices import COUNTED_STATUSES, NominationStatus
from yizhan.honours.models import Nomination, Title
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import RiderProfile
from yizhan.points.choices import PostingKind
from yizhan.points.models import Posting
from yizhan.reports.choices import ReportStatus
from yizhan.reports.models import Report

#: The columns of a record, in the order pages show them.
RECORD_KEYS = ("points", "reports")


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.starts_on, time.min))

    @property
    def end(self) -> datetime:
        """The first moment after the period (local midnight after ``ends_on``)."""
        return timezone.make_aware(datetime.combine(self.ends_on + timedelta(days=1), time.min))


def period_of(title: Title) -> Period:
    return Period(title.starts_on, title.ends_on)


def _count(qs: QuerySet, field: str, aggregate) -> Coalesce:
    return Coalesce(
        Subquery(
            qs.order_by().values(field).annotate(total=aggregate).values("total")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def with_record(riders: QuerySet[RiderProfile], period: Period) -> QuerySet[RiderProfile]:
    """Annotate each rider with their record over ``period`` (one query, however many rows)."""
    in_period = Q(created_at__gte=period.start, created_at__lt=period.end)
    awards = Posting.objects.filter(in_period, member__owner=OuterRef("user_id"))
    earned = _count(awards.filter(kind=PostingKind.AWARD), "member", Sum("amount"))
    reversed_ = _count(
        awards.filter(kind=PostingKind.REVERSAL, reverses__kind=PostingKind.AWARD),
        "member",
        Sum("amount"),
    )
    verified = Report.objects.filter(
        reporter=OuterRef("user_id"),
        status__in=(ReportStatus.VERIFIED, ReportStatus.CLOSED),
    ).filter(
        Q(verified_at__gte=period.start, verified_at__lt=period.end)
        | Q(
            verified_at__isnull=True,
            closed_at__gte=period.start,
            closed_at__lt=period.end,
        )
    )
    return riders.annotate(
        record_points=earned - reversed_,
        record_reports=_count(verified, "reporter", Count("id")),
    )


def record_dict(rider: Any) -> dict[str, int]:
    """The record of a rider annotated by :func:`with_record`."""
    return {key: int(getattr(rider, f"record_{key}", 0) or 0) for key in RECORD_KEYS}


def record_of(riders: Any, period: Period) -> dict[int, dict[str, int]]:
    """Rider id → record over the period, for riders (a queryset or an iterable of profiles)."""
    ids = [r.pk for r in riders] if not isinstance(riders, QuerySet) else None
    qs = riders if ids is None else RiderProfile.objects.filter(pk__in=ids)
    return {rider.pk: record_dict(rider) for rider in with_record(qs, period)}


# --- titles ----------------------------------------------------------------------------------


def titles(*, street_code: str | None = None) -> QuerySet[Title]:
    """Titles (public), each with how many places are taken and how many are approved."""
    qs = Title.objects.select_related("street").annotate(
        taken=Count("nominations", filter=Q(nominations__status__in=COUNTED_STATUSES)),
        approved=Count("nominations", filter=Q(nominations__status=NominationStatus.APPROVED)),
    )
    if street_code:
        qs = qs.filter(area_code=street_code)
    return qs.order_by("area_code", "-starts_on", "name", "id")


# --- nominations -----------------------------------------------------------------------------


def _nominations() -> QuerySet[Nomination]:
    return Nomination.objects.select_related(
        "title__street", "rider__user", "rider__community", "nominated_by", "decided_by"
    )


def nominations_for_user(
    user: Any, *, title: Title | None = None, status: str | None = None
) -> QuerySet[Nomination]:
    qs = restrict(_nominations(), user)
    if title is not None:
        qs = qs.filter(title=title)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def pending_approvals(user: Any) -> QuerySet[Nomination]:
    """Pending nominations the user may decide: titles of the streets they administer."""
    decidable = restrict(Title.objects.all(), user, Action.CONFIGURE).values("pk")
    return (
        restrict(_nominations(), user)
        .filter(status=NominationStatus.PENDING, title__in=decidable)
        .order_by("title__area_code", "title_id", "created_at", "id")
    )


def candidates(user: Any, title: Title, *, q: str = "") -> QuerySet[RiderProfile]:
    """Verified riders of the title's street that the user may nominate, with their record over
    the title's period, best record first."""
    qs = (
        restrict(RiderProfile.objects.all(), user, Action.OPERATE)
        .filter(status=RegistrationStatus.VERIFIED, area_code__startswith=title.area_code)
        .select_related("user", "community")
    )
    q = (q or "").strip()
    if q:
        qs = qs.filter(user__name__icontains=q)
    return with_record(qs, period_of(title)).order_by(
        "-record_points", "-record_reports", "user__name", "id"
    )


def nominated_on(title: Title, riders: list[RiderProfile]) -> dict[int, Nomination]:
    """Rider id → their nomination for the title, for the riders of one page."""
    rows = Nomination.objects.filter(title=title, rider__in=riders)
    return {n.rider_id: n for n in rows}


# --- the honour roll and the rider's own -----------------------------------------------------


def honour_roll(*, street_code: str | None = None) -> QuerySet[Nomination]:
    """Approved honours (public): title, rider's name and community only."""
    qs = Nomination.objects.filter(status=NominationStatus.APPROVED).select_related(
        "title__street", "rider__user", "rider__community"
    )
    if street_code:
        qs = qs.filter(title__area_code=street_code)
    return qs.order_by("title__area_code", "-title__starts_on", "title__name", "title_id",
                       "decided_at", "id")  # fmt: skip


def my_honours(user: Any) -> QuerySet[Nomination]:
    """The rider's approved honours."""
    return (
        restrict(_nominations(), user)
        .filter(rider__user=user, status=NominationStatus.APPROVED)
        .order_by("-title__starts_on", "-decided_at", "-id")
    )


def home_card(user: Any) -> Card | None:
    """The rider's home card: the honours they hold for the current period (up to 3). One
    query."""
    today = timezone.localdate()
    held = list(my_honours(user).filter(title__starts_on__lte=today, title__ends_on__gte=today)[:3])
    items = [
        Item(f"{n.title.name} · {n.title.period}", reverse("honours:mine"), n.title.street.name)
        for n in held
    ]
    return Card(_("My honours"), items, reverse("honours:mine")) if items else None
