"""Leaderboards: seasons, areas, ties to who got there first, and rank without a full count."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.world import make_rider
from yizhan.points.models import PointsAccount, ScoreBucket, SeasonScore
from yizhan.points.selectors import leaderboard, rank_of
from yizhan.points.services import points_award, points_reverse

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(monkeypatch):
    """Set the time awards are made at."""

    def set_to(*args):
        moment = datetime(*args, tzinfo=SHANGHAI)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_to


def give(world, rider, amount, key):
    staff = world.community_staff if rider.community == world.community_a1 else None
    staff = staff or world.district_admin
    return points_award(
        member=rider.user, amount=amount, reason="服务", evidence="记录", actor=staff,
        idempotency_key=key,
    )  # fmt: skip


def names(season, area_code):
    return [s.member.owner.name for s in leaderboard(season=season, area_code=area_code)]


def account(rider):
    return PointsAccount.objects.get(owner=rider.user)


def test_ties_go_to_whoever_reached_the_score_first(rules, clock):
    w = rules
    third = make_rider(
        w.community_a1, "13600000011", "孙三", lat=40.095, lng=113.305,
        verify_by=w.community_staff,
    )  # fmt: skip
    clock(2026, 11, 2, 9, 0)
    give(w, w.rider, 10, "tie-k-01")
    clock(2026, 11, 2, 10, 0)
    give(w, third, 10, "tie-k-02")
    clock(2026, 11, 3, 9, 0)
    give(w, w.other_rider, 15, "tie-k-03")
    street = w.street_a.code
    assert names("m2026-11", street) == ["李大力", "王小明", "孙三"]
    assert [rank_of(account(r), season="m2026-11", area_code=street) for r in
            (w.other_rider, w.rider, third)] == [1, 2, 3]  # fmt: skip
    # 孙三 reaches 15 later than 李大力: still behind; then passes with 20.
    clock(2026, 11, 4, 9, 0)
    give(w, third, 5, "tie-k-04")
    assert names("m2026-11", street) == ["李大力", "孙三", "王小明"]
    clock(2026, 11, 5, 9, 0)
    give(w, third, 5, "tie-k-05")
    assert names("m2026-11", street) == ["孙三", "李大力", "王小明"]
    assert rank_of(account(third), season="m2026-11", area_code=street) == 1
    # Per community: 李大力 is in A2, so A1's board has the other two.
    assert names("m2026-11", w.community_a1.code) == ["孙三", "王小明"]
    assert rank_of(account(w.other_rider), season="m2026-11", area_code=w.community_a1.code) is None


def test_seasons_count_points_when_they_were_earned(rules, clock):
    w = rules
    clock(2026, 9, 30, 23, 0)  # Asia/Shanghai: still September, Q3
    give(w, w.rider, 10, "season-k-1")
    clock(2026, 10, 1, 0, 30)
    give(w, w.other_rider, 7, "season-k-2")
    street = w.street_a.code
    assert names("m2026-09", street) == ["王小明"]
    assert names("m2026-10", street) == ["李大力"]
    assert names("q2026-3", street) == ["王小明"]
    assert names("q2026-4", street) == ["李大力"]
    assert names("y2026", street) == ["王小明", "李大力"]
    assert names("all", street) == ["王小明", "李大力"]
    assert names("all", w.district.code) == ["王小明", "李大力"]


def test_a_reversal_takes_the_points_off_the_season_it_was_earned_in(rules, clock):
    w = rules
    clock(2026, 10, 5, 9, 0)
    award = give(w, w.rider, 10, "rev-season-1")
    clock(2026, 11, 5, 9, 0)
    give(w, w.other_rider, 4, "rev-season-2")
    points_reverse(
        posting=award.earning.posting, actor=w.community_staff, reason="错发",
        idempotency_key="rev-season-3",
    )  # fmt: skip
    assert names("m2026-10", w.street_a.code) == []
    assert names("y2026", w.street_a.code) == ["李大力"]
    assert not ScoreBucket.objects.filter(season="m2026-10", members__gt=0).exists()


def test_buckets_equal_a_fresh_count(rules, clock):
    w = rules
    clock(2026, 11, 1, 8, 0)
    for i, amount in enumerate([3, 5, 3, 8, 5, 3]):
        rider = w.rider if i % 2 == 0 else w.other_rider
        give(w, rider, amount, f"bucket-k-{i}")
    fresh: dict = {}
    for season, area, points in SeasonScore.objects.filter(points__gt=0).values_list(
        "season", "area_code", "points"
    ):
        fresh[(season, area, points)] = fresh.get((season, area, points), 0) + 1
    kept = {
        (b.season, b.area_code, b.points): b.members
        for b in ScoreBucket.objects.filter(members__gt=0)
    }
    assert kept == fresh


def test_rank_takes_the_same_queries_however_many_are_above(rules, clock):
    w = rules
    clock(2026, 11, 1, 8, 0)
    give(w, w.rider, 1, "rank-q-0")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            rank_of(account(w.rider), season="all", area_code=w.street_a.code)
        return len(captured)

    few = queries()
    for i in range(8):
        rider = make_rider(
            w.community_a1, f"1360000{i:04d}", f"骑手{i}", lat=40.095, lng=113.305,
            verify_by=w.community_staff,
        )  # fmt: skip
        give(w, rider, 10 + i, f"rank-q-{i + 1}")
    assert queries() == few
    assert rank_of(account(w.rider), season="all", area_code=w.street_a.code) == 9
