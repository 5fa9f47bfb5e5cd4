"""Every read of the ledger a page or endpoint needs, through the permission layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core import crypto
from yizhan.core.errors import ApplicationError
from yizhan.core.home import Card, Item
from yizhan.core.permissions import Action, restrict
from yizhan.core.roles import Role
from yizhan.people.validation import normalise_phone_or_none
from yizhan.points.choices import AccountKind, AwardStatus
from yizhan.points.models import (
    EarningRule,
    ManualAward,
    PointsAccount,
    PointsSettings,
    Posting,
    ScoreBucket,
    SeasonScore,
    TieBucket,
)
from yizhan.points.seasons import season_key
from yizhan.points.services import expiry_date, street_of, unspent_earned_by_year


def account_of(user: Any) -> PointsAccount | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return PointsAccount.objects.filter(kind=AccountKind.MEMBER, owner=user).first()


def balance_of(user: Any) -> int:
    account = account_of(user)
    return account.balance if account is not None else 0


def history_of(user: Any) -> QuerySet[Posting]:
    """The member's own postings, newest first (what earned or spent each, and why)."""
    account = account_of(user)
    if account is None:
        return Posting.objects.none()
    return (
        Posting.objects.filter(member=account)
        .select_related("actor", "reverses")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class Expiring:
    points: int
    on: date


def expiring_soon(
    user: Any, *, today: date | None = None, account: PointsAccount | None = None
) -> Expiring | None:
    """The next points to expire for the member, when their street has expiry on (``account``:
    the member's account when the caller has already read it)."""
    account = account if account is not None else account_of(user)
    if account is None or not account.balance:
        return None
    try:
        street = street_of(user)
    except ApplicationError:  # no street, no expiry
        return None
    settings = PointsSettings.objects.filter(street=street).first()  # a read never creates it
    if settings is None or not settings.expiry_enabled:
        return None
    today = today or timezone.localdate()
    for year, points in sorted(unspent_earned_by_year(account).items()):
        on = expiry_date(settings, year)
        if points > 0 and on >= today:
            return Expiring(points=points, on=on)
    return None


def postings_for_user(
    user: Any,
    *,
    kind: str | None = None,
    activity: str | None = None,
    q: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Posting]:
    """The ledger as staff search it: postings beneath their area, filtered."""
    qs = restrict(Posting.objects.all(), user, Action.VIEW).select_related(
        "member__owner", "actor", "approved_by", "reverses"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if activity:
        qs = qs.filter(activity=activity)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    q = (q or "").strip()
    if q:
        phone = normalise_phone_or_none(q)
        if phone:
            qs = qs.filter(member__owner__phone_index__in=crypto.blind_indexes(phone))
        else:
            qs = qs.filter(Q(member__owner__name__icontains=q) | Q(reason__icontains=q))
    return qs.order_by("-created_at", "-id")


def pending_awards(user: Any) -> QuerySet[ManualAward]:
    return (
        restrict(ManualAward.objects.all(), user, Action.OPERATE)
        .filter(status=AwardStatus.PENDING)
        .select_related("member__owner", "requested_by")
        .order_by("created_at", "id")
    )


def rules_of(street) -> QuerySet[EarningRule]:
    return EarningRule.objects.filter(street=street).order_by("activity", "category")


# --- leaderboards ------------------------------------------------------------------------------


def current_season(kind: str, when: datetime | None = None) -> str:
    return season_key(kind, when or timezone.now())


def leaderboard(*, season: str, area_code: str) -> QuerySet[SeasonScore]:
    """Members by points earned in the season within the area; ties to who got there first."""
    return (
        SeasonScore.objects.filter(season=season, area_code=area_code, points__gt=0)
        .select_related("member__owner")
        .order_by("-points", "reached_day", "reached_at", "member_id")
    )


_RANK_SQL = """
SELECT
    COALESCE((SELECT SUM(b.members) FROM {buckets} b
              WHERE b.season = s.season AND b.area_code = s.area_code
                AND b.points > s.points), 0)
  + COALESCE((SELECT SUM(t.members) FROM {ties} t
              WHERE t.season = s.season AND t.area_code = s.area_code
                AND t.points = s.points AND t.day < s.reached_day), 0)
  + (SELECT COUNT(*) FROM {scores} o
     WHERE o.season = s.season AND o.area_code = s.area_code AND o.points = s.points
       AND o.reached_day = s.reached_day AND o.reached_at <= s.reached_at
       AND (o.reached_at < s.reached_at
            OR (o.reached_at = s.reached_at AND o.member_id < s.member_id)))
  + 1
FROM {scores} s
WHERE s.season = %s AND s.area_code = %s AND s.member_id = %s AND s.points > 0
"""


def rank_of(member: PointsAccount | None, *, season: str, area_code: str) -> int | None:
    """The member's place on a leaderboard, or None when they have no points there.

    One statement, never a count over everyone: the members ahead are those with a higher score
    (the sum of the score buckets above, one row per distinct score), plus those who reached the
    same score on an earlier day (the sum of the tie buckets of the days before), plus those who
    reached it earlier on the same day (a short range of the rank index). Plain SQL: the ORM
    takes several times longer to compile the three subqueries than the database to run them.
    """
    if member is None:
        return None
    sql = _RANK_SQL.format(
        scores=SeasonScore._meta.db_table,
        buckets=ScoreBucket._meta.db_table,
        ties=TieBucket._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [season, area_code, member.pk])
        row = cursor.fetchone()
    return int(row[0]) if row is not None else None


def settings_of(street: Any) -> PointsSettings:
    """A street's points settings for reading: its row, or the defaults unsaved (a street that
    never changed them gets no row written by being looked at; ``services.points_settings``
    creates one for a write)."""
    found = PointsSettings.objects.filter(street=street).first()
    return found or PointsSettings(street=street, area_code=street.code)


def home_card(user: Any) -> Card | None:
    """The rider's home card: their balance (and points about to expire). One or two queries."""
    if getattr(user, "role", None) != Role.RIDER:
        return None
    account = account_of(user)  # read once for the balance and the expiry
    balance = account.balance if account is not None else 0
    note = ""
    expiring = expiring_soon(user, account=account) if balance else None
    if expiring is not None:
        note = _("%(points)s expire on %(date)s") % {
            "points": expiring.points,
            "date": expiring.on.isoformat(),
        }
    items = [
        Item(_("%(n)s points") % {"n": balance}, reverse("points:rider_points"), note),
        Item(_("Spend them in the points shop"), reverse("rewards:shop")),
    ]
    return Card(_("My points"), items)
