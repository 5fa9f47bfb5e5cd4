"""Rollups: every number against a hand count on a small world, the refresh job against a fresh
recount after random changes, the rebuild and check commands."""

from __future__ import annotations

import datetime as dt
import random
from io import StringIO

import pytest
from django.core.management import call_command

from tests.dashboards import rollup_world as rw
from yizhan.appeals.models import Appeal
from yizhan.core import jobs
from yizhan.dashboards.kpis import Period
from yizhan.dashboards.models import DayTotals, MonthTotals, RollupState
from yizhan.dashboards.selectors import dashboard, report_heat
from yizhan.dashboards.services import check_rollups, rebuild_rollups, rollups_refresh
from yizhan.events.models import Event, Signup
from yizhan.honours.models import Nomination, Title
from yizhan.people.models import PostClaim
from yizhan.reports.models import Report
from yizhan.wishes.models import Wish, WishClaim

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)
FEB = dt.date(2026, 2, 1)


def d(month: dt.date, day: int) -> dt.date:
    return month.replace(day=day)


@pytest.fixture
def facts(world):
    """A hand-countable March 2026 (and February) in street A."""
    w = world
    street = w.street_a
    fire = rw.category(street, "fire", "消防通道堵塞")
    clutter = rw.category(street, "clutter", "楼道堆物")
    west, east, a2 = w.grid_a1_west, w.grid_a1_east, w.grid_a2
    # March: 4 reports in A1 west, 1 in A1 east, 1 in A2; one in street B (not counted).
    rw.report(
        west,
        fire,
        rw.at(d(MARCH, 2)),
        status="closed",
        closed=rw.at(d(MARCH, 3)),
        deadline=rw.at(d(MARCH, 4)),
    )  # 24 h, on time
    rw.report(
        west,
        fire,
        rw.at(d(MARCH, 5)),
        status="closed",
        closed=rw.at(d(MARCH, 8)),
        deadline=rw.at(d(MARCH, 6)),
    )  # 72 h, late
    rw.report(
        west, clutter, rw.at(d(MARCH, 10)), status="dispatched", deadline=rw.at(d(MARCH, 12))
    )  # overdue now
    rw.report(west, clutter, rw.at(d(MARCH, 20)), status="rejected")
    rw.report(east, fire, rw.at(d(MARCH, 21)), status="submitted")
    rw.report(a2, clutter, rw.at(d(MARCH, 31), 23, 30), status="accepted")  # local 31 March
    rw.report(w.grid_b1, fire, rw.at(d(MARCH, 2)), status="submitted")
    # February: 2 reports, one closed in March (counts as closed in March).
    rw.report(
        west,
        fire,
        rw.at(d(FEB, 27)),
        status="closed",
        closed=rw.at(d(MARCH, 1), 12),
        deadline=rw.at(d(MARCH, 2)),
    )  # 50 h, on time
    rw.report(east, clutter, rw.at(d(FEB, 3)), status="submitted")
    # points: rider in A1 (grid west), other rider in A2
    rider, other = w.rider.user, w.other_rider.user
    a1_code, a2_code = w.rider.area_code, w.other_rider.area_code
    award = rw.posting("award", 30, rider, a1_code, street, rw.at(d(MARCH, 4)))
    rw.posting("award", 10, other, a2_code, street, rw.at(d(MARCH, 5)))
    rw.posting("award", 5, rider, a1_code, street, rw.at(d(FEB, 10)))
    rw.posting("reversal", 30, rider, a1_code, street, rw.at(d(MARCH, 6)), reverses=award)
    rw.posting("award", 20, rider, a1_code, street, rw.at(d(MARCH, 7)))
    rw.posting("hold", 8, rider, a1_code, street, rw.at(d(MARCH, 9)))
    rw.posting("settle", 8, rider, a1_code, street, rw.at(d(MARCH, 10)))
    # stations: 2 stations (1 suspended) + 3 corners in street A; 1 station in street B
    s1 = rw.station(west)
    rw.station(a2, status="suspended")
    for _ in range(3):
        rw.station(east, kind="corner")
    rw.station(w.grid_b1)
    rw.visit(s1, d(MARCH, 2), 3)
    rw.visit(s1, d(MARCH, 15), 2)
    rw.visit(s1, d(FEB, 15), 4)
    # wishes, appeals, events, honours, posts
    wish = Wish.objects.create(community=w.community_a1, area_code=w.rider.area_code,
                               rider=w.rider.user, category="other", text="想要一个头盔",
                               status="confirmed", confirmed_at=rw.at(d(MARCH, 12)))  # fmt: skip
    Wish.objects.filter(pk=wish.pk).update(created_at=rw.at(d(MARCH, 3)))
    claim = WishClaim.objects.create(wish=wish, claimer=w.merchant, area_code=wish.area_code)
    WishClaim.objects.filter(pk=claim.pk).update(created_at=rw.at(d(MARCH, 4)))
    appeal = Appeal.objects.create(rider=w.rider.user, area_code=w.rider.area_code,
                                   difficulty="rights", topic="pay", text="工资被拖欠",
                                   status="answered", answered_at=rw.at(d(MARCH, 8)))  # fmt: skip
    Appeal.objects.filter(pk=appeal.pk).update(created_at=rw.at(d(MARCH, 6)))  # 48 h
    event = Event.objects.create(title="骑手节", kind="rider_festival", organiser=street,
                                 area_code=street.code, lat=40.09, lng=113.3,
                                 starts_at=rw.at(d(MARCH, 18)), ends_at=rw.at(d(MARCH, 18), 12),
                                 capacity=50)  # fmt: skip
    Event.objects.create(title="取消了", kind="other", organiser=street, area_code=street.code,
                         lat=40.09, lng=113.3, starts_at=rw.at(d(MARCH, 19)),
                         ends_at=rw.at(d(MARCH, 19), 12), capacity=5,
                         cancelled_at=rw.at(d(MARCH, 1)))  # fmt: skip
    for user in (rider, other):
        Signup.objects.create(event=event, user=user, area_code=street.code, status="confirmed",
                              queued_at=rw.at(d(MARCH, 1)), code=f"{user.pk:06d}",
                              checked_in_at=rw.at(d(MARCH, 18), 9))  # fmt: skip
    PostClaim.objects.create(post=w.post, rider=w.rider, area_code=w.post.area_code,
                             status="approved")  # fmt: skip
    title = Title.objects.create(street=street, area_code=street.code, name="清远骑士",
                                 period="2026", starts_on=dt.date(2026, 1, 1),
                                 ends_on=dt.date(2026, 12, 31), quota=15)  # fmt: skip
    Nomination.objects.create(title=title, rider=w.rider, area_code=w.rider.area_code,
                              reason="好", status="approved",
                              decided_at=rw.at(d(MARCH, 20)))  # fmt: skip
    rebuild_rollups()
    return w


def values(data) -> dict:
    return {m.key: m.value for m in data.headline}


def previous(data) -> dict:
    return {m.key: m.previous for m in data.headline}


def test_every_headline_number_of_a_month_against_a_hand_count(facts):
    data = dashboard(user=facts.street_admin, area=facts.street_a,
                     period=Period.parse("month", anchor="2026-03"))  # fmt: skip
    v = values(data)
    assert v["reports"] == 6
    assert v["reports_closed"] == 3  # two of March's, one of February's
    assert v["close_hours"] == round((24 + 72 + 50) / 3, 1)
    assert v["on_time_rate"] == round(2 / 3 * 100, 1)
    assert v["overdue"] == 1 == data.overdue_count == len(data.overdue)
    assert v["points_issued"] == 30 + 10 - 30 + 20
    assert v["points_redeemed"] == 8
    assert v["points_outstanding"] == 5 + 30 + 10 - 30 + 20 - 8
    assert v["stations"] == 2 and v["corners"] == 3
    assert v["visits"] == 5
    assert (v["wishes_posted"], v["wishes_claimed"], v["wishes_fulfilled"]) == (1, 1, 1)
    assert (v["appeals"], v["appeals_answered"], v["answer_hours"]) == (1, 1, 48.0)
    assert (v["events_held"], v["attendance"]) == (1, 2)
    assert v["riders_registered"] == 3 and v["riders_verified"] == 2
    assert v["riders_with_posts"] == 1
    assert v["honours"] == 1 and [h.title for h in data.honours] == ["清远骑士"]
    # coverage: A1 and A2 each have an open station or corner? A2's only station is suspended
    assert v["coverage"] == 50.0
    p = previous(data)
    assert p["reports"] == 2 and p["points_issued"] == 5 and p["visits"] == 4
    assert p["points_outstanding"] == 5
    assert data.metric("reports").change == 4


def test_breakdowns_children_and_trends_of_a_month(facts):
    data = dashboard(user=facts.street_admin, area=facts.street_a,
                     period=Period.parse("month", anchor="2026-03"))  # fmt: skip
    status = {r.key: (r.value, r.previous) for r in data.breakdowns["reports_by_status"].rows}
    assert status["closed"] == (2, 1) and status["dispatched"] == (1, 0)
    assert status["rejected"] == (1, 0) and status["submitted"] == (1, 1)
    assert status["accepted"] == (1, 0)
    category = {r.label: r.value for r in data.breakdowns["reports_by_category"].rows}
    assert category == {"消防通道堵塞": 3, "楼道堆物": 3}
    grid = {r.key: r.value for r in data.breakdowns["reports_by_grid"].rows}
    assert grid == {facts.grid_a1_west.code: 4, facts.grid_a1_east.code: 1,
                    facts.grid_a2.code: 1}  # fmt: skip
    kinds = {r.key: r.value for r in data.breakdowns["stations_by_kind"].rows}
    assert kinds["rider_station"] == 2 and kinds["corner"] == 3
    assert {r.key: r.value for r in data.breakdowns["appeals_by_difficulty"].rows}["rights"] == 1
    assert data.breakdowns_cover is None
    children = {c.area_code: c.metrics for c in data.children}
    assert children[facts.community_a1.code]["reports"] == 5
    assert children[facts.community_a2.code]["reports"] == 1
    assert children[facts.community_a1.code]["overdue"] == 1
    assert children[facts.community_a1.code]["stations"] == 1
    assert children[facts.community_a2.code]["corners"] == 0
    trend = dict(data.trends["reports"].points)
    assert len(trend) == 31 and trend[d(MARCH, 2)] == 1 and trend[d(MARCH, 31)] == 1
    assert sum(trend.values()) == 6
    assert data.trends["visits"].grain == "day"


def test_a_year_mixes_whole_months_and_days_and_a_week_widens_breakdowns(facts):
    year = dashboard(user=facts.district_admin, area=facts.district,
                     period=Period.parse("year", anchor="2026"))  # fmt: skip
    assert year.metric("reports").value == 6 + 1 + 2
    trend = dict(year.trends["reports"].points)
    assert trend[MARCH] == 7 and trend[FEB] == 2 and year.trends["reports"].grain == "month"
    custom = Period.parse("custom", start="2026-02-20", end="2026-06-10")
    data = dashboard(user=facts.district_admin, area=facts.district, period=custom)
    assert data.metric("reports").value == 7 + 1  # February 27 and all of March
    week = Period.parse("week", anchor="2026-03-04")  # Mon 2 – Sun 8 March
    data = dashboard(user=facts.street_admin, area=facts.street_a, period=week)
    assert data.metric("reports").value == 2
    assert data.breakdowns_cover == Period("custom", MARCH, dt.date(2026, 3, 31))
    assert sum(r.value for r in data.breakdowns["reports_by_status"].rows) == 6


def test_the_heat_layer_counts_reports(facts):
    cells = report_heat(user=facts.street_admin, area=facts.street_a,
                        period=Period.parse("month", anchor="2026-03"))  # fmt: skip
    assert sum(c.weight for c in cells) == 6
    west = report_heat(user=facts.street_admin, area=facts.grid_a1_west,
                       period=Period.parse("month", anchor="2026-03"))  # fmt: skip
    assert sum(c.weight for c in west) == 6  # the builder puts every report at one point in it
    a2 = report_heat(user=facts.street_admin, area=facts.grid_a2,
                     period=Period.parse("month", anchor="2026-03"))  # fmt: skip
    assert a2 == []  # the street's cells outside the grid's box are left out


def test_a_fact_at_the_street_itself_counts_for_the_street_not_its_communities(facts):
    data = dashboard(user=facts.street_admin, area=facts.community_a1,
                     period=Period.parse("month", anchor="2026-03"))  # fmt: skip
    assert data.metric("events_held").value == 0
    street = dashboard(user=facts.street_admin, area=facts.street_a,
                       period=Period.parse("month", anchor="2026-03"))  # fmt: skip
    assert street.metric("events_held").value == 1


# --- the refresh job against a recount ---------------------------------------------------------


def _random_change(rng: random.Random, w, cats) -> None:
    grids = [w.grid_a1_west, w.grid_a1_east, w.grid_a2, w.grid_b1]
    when = rw.at(dt.date(2026, rng.randint(1, 4), rng.randint(1, 28)), rng.randint(0, 23))
    choice = rng.randrange(6)
    reports = list(Report.objects.order_by("pk"))
    if choice == 0 or not reports:
        rw.report(rng.choice(grids), rng.choice(cats), when)
    elif choice == 1:  # close a report (or reopen one that was closed)
        r = rng.choice(reports)
        if r.status == "closed":
            r.status, r.closed_at = "accepted", None
        else:
            r.status, r.closed_at = "closed", max(when, r.created_at)
            r.deadline_at = r.created_at + dt.timedelta(hours=rng.randint(1, 100))
        r.save()
        rw.touch(r)
    elif choice == 2:
        r = rng.choice(reports)
        r.status = rng.choice(["rejected", "dispatched", "handled"])
        r.save()
        rw.touch(r)
    elif choice == 3:
        rider = rng.choice([w.rider, w.other_rider])
        rw.posting(rng.choice(["award", "hold", "expiry"]), rng.randint(1, 9), rider.user,
                   rider.area_code, w.street_a, when)  # fmt: skip
    elif choice == 4:
        station = rw.station(rng.choice(grids), kind=rng.choice(["corner", "rider_station"]))
        rw.visit(station, when.date(), rng.randint(1, 4))
    else:
        r = rng.choice(reports)
        r.delete()  # (a test-only change) the recount must drop it everywhere
        rw.touch(w.street_a, area_code=r.area_code)


@pytest.mark.parametrize("seed", range(5))
def test_after_random_changes_and_a_refresh_the_rollups_equal_a_recount(world, seed):
    rng = random.Random(seed)
    cats = [rw.category(world.street_a, "a", "甲"), rw.category(world.street_b, "b", "乙")]
    rebuild_rollups()
    for _round in range(4):
        for _ in range(rng.randint(1, 8)):
            _random_change(rng, world, cats)
        result = rollups_refresh()
        assert result.get("subtrees", 0) >= 1
        assert check_rollups() == []


def test_the_first_refresh_builds_everything_and_an_idle_one_does_nothing(facts):
    RollupState.objects.all().delete()
    MonthTotals.objects.all().delete()
    assert rollups_refresh()["subtrees"] == -1
    assert check_rollups() == []
    assert rollups_refresh() == {}


def test_the_job_is_registered():
    assert "dashboards.rollups_refresh" in {job.name for job in jobs.jobs()}


# --- commands ------------------------------------------------------------------------------------


def test_check_rollups_fails_with_a_diff_when_a_row_was_tampered_with(facts):
    out, err = StringIO(), StringIO()
    call_command("check_rollups", stdout=out, stderr=err)
    assert "agree" in out.getvalue()
    DayTotals.objects.filter(area_code=facts.street_a.code, day=d(MARCH, 2)).update(reports=99)
    with pytest.raises(SystemExit) as exit_:
        call_command("check_rollups", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert "day ('440000001', datetime.date(2026, 3, 2))" in out.getvalue()
    assert "differ" in err.getvalue()
    call_command("rebuild_rollups", "--area", facts.community_a1.code, stdout=StringIO())
    assert check_rollups() == []


def test_rebuild_rollups_writes_every_table(facts):
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "rollups rebuilt" in out.getvalue()
    assert MonthTotals.objects.filter(area_code=facts.district.code, month=MARCH).get().reports == 7
