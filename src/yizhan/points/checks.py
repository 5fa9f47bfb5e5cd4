"""Read-only checks of the leaderboards against the ledger (``manage.py reconcile``).

Season scores and score buckets are kept incrementally, in each award's transaction
(``services._score``). Here both are recounted from scratch and compared:

* a :class:`~yizhan.points.models.SeasonScore` row must equal the points of the ``award``
  postings earned in its season within its area by its member, less the ``reversal`` postings of
  such awards (a reversal counts in the season and area of the award it reverses);
* a :class:`~yizhan.points.models.ScoreBucket` row must equal the number of season scores of its
  season and area that hold exactly its points, and a
  :class:`~yizhan.points.models.TieBucket` row the number of those that reached it on its day.

A row holding 0 (a score reversed to nothing, an emptied bucket) is the same as no row. The
ledger is read grouped by member, area and month of earning (one row per member and month, not
per posting), and the months are spread to their quarter, year and all time here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from yizhan.points.choices import PostingKind, SeasonKind
from yizhan.points.models import Posting, ScoreBucket, SeasonScore, TieBucket
from yizhan.points.seasons import area_levels, season_key

#: (season, area code, member account id, stored points, recounted points)
ScoreDrift = tuple[str, str, int, int, int]
#: (season, area code, points, stored members, recounted members)
BucketDrift = tuple[str, str, int, int, int]


@dataclass
class ScoreCheck:
    scores: int = 0  # season score rows read
    buckets: int = 0  # score bucket rows read
    score_drift: list[ScoreDrift] = field(default_factory=list)
    bucket_drift: list[BucketDrift] = field(default_factory=list)
    #: (season, area code, points, day, stored members, recounted members)
    tie_drift: list[tuple] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.score_drift or self.bucket_drift or self.tie_drift)


def _spread(totals: Counter, member: int, area_code: str, month: datetime, points: int) -> None:
    for kind in SeasonKind.values:
        season = season_key(kind, month)
        for area in area_levels(area_code):
            totals[(season, area, member)] += points


def recount_scores() -> Counter:
    """Points earned per (season, area code, member account), from the postings alone."""
    tz = timezone.get_current_timezone()
    totals: Counter = Counter()
    awards = (
        Posting.objects.filter(kind=PostingKind.AWARD)
        .annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values_list("member", "area_code", "month")
        .annotate(points=Sum("amount"))
        .order_by()
    )
    for member, area_code, month, points in awards.iterator():
        _spread(totals, member, area_code, month, points)
    reversals = (
        Posting.objects.filter(kind=PostingKind.REVERSAL, reverses__kind=PostingKind.AWARD)
        .annotate(month=TruncMonth("reverses__created_at", tzinfo=tz))
        .values_list("member", "reverses__area_code", "month")
        .annotate(points=Sum("amount"))
        .order_by()
    )
    for member, area_code, month, points in reversals.iterator():
        _spread(totals, member, area_code, month, -points)
    return totals


def scores_check() -> ScoreCheck:
    """Compare every season score with a recount from the ledger, and every score bucket with
    a recount of the season scores. Reads only; the lists are sorted."""
    result = ScoreCheck()
    expected = recount_scores()
    rows = SeasonScore.objects.values_list("season", "area_code", "member", "points").order_by()
    for season, area_code, member, points in rows.iterator():
        result.scores += 1
        recounted = max(0, expected.pop((season, area_code, member), 0))
        if points != recounted:
            result.score_drift.append((season, area_code, member, points, recounted))
    for (season, area_code, member), points in expected.items():
        if points > 0:  # earned, but no row holds it
            result.score_drift.append((season, area_code, member, 0, points))
    result.score_drift.sort()

    counted = Counter(
        {
            (season, area_code, points): members
            for season, area_code, points, members in SeasonScore.objects.filter(points__gt=0)
            .values_list("season", "area_code", "points")
            .annotate(members=Count("id"))
            .order_by()
        }
    )
    buckets = ScoreBucket.objects.values_list("season", "area_code", "points", "members")
    for season, area_code, points, members in buckets.order_by().iterator():
        result.buckets += 1
        recounted = counted.pop((season, area_code, points), 0)
        if members != recounted:
            result.bucket_drift.append((season, area_code, points, members, recounted))
    for (season, area_code, points), members in counted.items():
        result.bucket_drift.append((season, area_code, points, 0, members))
    result.bucket_drift.sort()

    tz = timezone.get_current_timezone()
    ties = Counter(
        {
            (season, area_code, points, day): members
            for season, area_code, points, day, members in SeasonScore.objects.filter(points__gt=0)
            .annotate(day=TruncDate("reached_at", tzinfo=tz))
            .values_list("season", "area_code", "points", "day")
            .annotate(members=Count("id"))
            .order_by()
        }
    )
    stored = TieBucket.objects.values_list("season", "area_code", "points", "day", "members")
    for season, area_code, points, day, members in stored.order_by().iterator():
        result.buckets += 1
        recounted = ties.pop((season, area_code, points, day), 0)
        if members != recounted:
            result.tie_drift.append((season, area_code, points, day, members, recounted))
    for (season, area_code, points, day), members in ties.items():
        result.tie_drift.append((season, area_code, points, day, 0, members))
    result.tie_drift.sort()
    return result
