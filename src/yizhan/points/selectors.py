"""Every read of the ledger a page or endpoint needs, through the permission layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from yizhan.core import crypto
from yizhan.core.errors import ApplicationError
from yizhan.core.permissions import Action, restrict
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


def expiring_soon(user: Any, *, today: date | None = None) -> Expiring | None:
    """The next points to expire for the member, when their street has expiry on."""
    account = account_of(user)
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
            qs = qs.filter(member__owner__phone_index=crypto.blind_index(phone))
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
        .order_by("-points", "reached_at", "member_id")
    )


def rank_of(member: PointsAccount | None, *, season: str, area_code: str) -> int | None:
    """The member's place on a leaderboard, or None when they have no points there.

    Never a count over everyone: the members ahead are those with a higher score (the sum of
    the score buckets above, one row per distinct score), plus those who reached the same score
    on an earlier day (the sum of the tie buckets of the days before), plus those who reached
    it earlier on the same day (a short index range).
    """
    if member is None:
        return None
    mine = (
        SeasonScore.objects.filter(season=season, area_code=area_code, member=member)
        .values("points", "reached_at")
        .first()
    )
    if mine is None or mine["points"] <= 0:
        return None
    points, reached = mine["points"], mine["reached_at"]
    board = {"season": season, "area_code": area_code}
    above = ScoreBucket.objects.filter(**board, points__gt=points).aggregate(n=Sum("members"))
    day = timezone.localtime(reached).date()
    days_before = TieBucket.objects.filter(**board, points=points, day__lt=day).aggregate(
        n=Sum("members")
    )
    start = timezone.make_aware(datetime.combine(day, time.min))
    same_day = (
        SeasonScore.objects.filter(**board, points=points, reached_at__gte=start)
        .filter(Q(reached_at__lt=reached) | Q(reached_at=reached, member_id__lt=member.pk))
        .count()
    )
    return (above["n"] or 0) + (days_before["n"] or 0) + same_day + 1
