"""The demo's reports plan (pure Python): what it holds, how it keeps the ranking true, its
photos, its holidays, and how the loader dates its steps relative to the load moment."""

import io
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from yizhan.core.geo import haversine_m
from yizhan.core.images import dhash, dhash_rotations, hamming
from yizhan.demo import data
from yizhan.demo import points_plan as pp
from yizhan.demo import reports_plan as rp
from yizhan.demo.generate import build_plan
from yizhan.demo.loader import report_times
from yizhan.reports import catalogue
from yizhan.reports.choices import ReportStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = {
    "acknowledge",
    "accept",
    "reject",
    "dispatch",
    "redirect",
    "handle",
    "verify",
    "close",
    "reopen",
    "witness",
    "duplicate",
    "merge",
}


@pytest.fixture(scope="module")
def plan():
    return rp.build_reports_plan()


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def test_the_plan_is_the_same_on_every_build(plan):
    assert rp.build_reports_plan.__wrapped__() == plan


def test_over_a_hundred_reports_in_every_state_category_and_grid(plan):
    assert plan.rows() >= 100
    statuses = plan.statuses()
    assert set(statuses) == set(ReportStatus.values)
    assert statuses["merged"] >= 5 and statuses["rejected"] >= 5 and statuses["closed"] >= 30
    assert {r.category for r in plan.reports} == {c.code for c in catalogue.STANDARD}
    assert {r.grid for r in plan.reports} == set(rp.GRID_WEIGHTS)
    assert sum(r.outcome == "late" for r in plan.reports) >= 5
    assert [r.outcome for r in plan.reports].count("alert") == 1
    for outcome in ("sent_back", "redirected", "reopened"):
        assert [r.outcome for r in plan.reports].count(outcome) == 1
    # Riders of 清远街道, each in their own community.
    riders = {r.key: r for r in build_plan().riders}
    for report in plan.reports:
        people = [report.reporter, *(d.reporter for d in report.duplicates)]
        for key in people:
            rider = riders[key]
            assert rider.status == "verified" and rider.community == report.community
    keys = [r.key for r in plan.reports] + [d.key for r in plan.reports for d in r.duplicates]
    assert len(set(keys)) == len(keys)


def test_each_report_lies_in_its_grid_and_describes_what_riders_meet(plan):
    for report in plan.reports:
        assert rp.inside(report.grid, report.lng, report.lat), report.key
        assert 0 < len(report.description) <= 500 and "{" not in report.description
        if report.category in rp.INDOOR:
            assert report.building and report.unit and report.floor, report.key
            assert report.building in report.address
        for dup in report.duplicates:
            assert haversine_m(report.lat, report.lng, dup.lat, dup.lng) <= 30
            assert rp.inside(report.grid, dup.lng, dup.lat)
            assert "{" not in dup.description
    texts = {r.description for r in plan.reports}
    assert any("楼道堆放纸箱" in t for t in texts) and any("飞线充电" in t for t in texts)
    assert any("消防通道被私家车占用" in t for t in texts)


def test_the_steps_are_known_ordered_and_by_the_right_people(plan):
    staff = set(data.COMMUNITY_STAFF.values()) | {"grid_worker"}
    for report in plan.reports:
        afters = [s.after for s in report.steps]
        assert afters == sorted(afters) and all(a > 0 for a in afters), report.key
        department = ""
        for step in report.steps:
            assert step.kind in KINDS
            if step.kind in ("dispatch", "redirect"):
                department = step.department
                assert department in rp.HANDLERS
            if step.kind == "handle":
                assert step.actor == rp.HANDLERS[department] and step.photo
            if step.kind in ("accept", "reject", "dispatch", "redirect", "verify", "close"):
                assert step.actor in staff, (report.key, step)
            if step.kind == "reject":
                assert step.note
        if report.ago is not None:  # all of it before the load moment
            assert report.t is None and all(a < report.ago for a in afters), report.key
        else:
            assert 0 <= report.t < 1
        assert report.status == rp.STATUS[report.outcome]


def test_reports_that_pay_keep_the_ledgers_ranking(plan):
    """The top 15 get nothing through reports; nobody else reaches the 15th place's points."""
    points = pp.build_points_plan()
    earned = plan.points()
    assert earned and not set(earned) & set(points.top15)
    for rider, amount in earned.items():
        assert points.totals.get(rider, 0) + amount <= rp.POINTS_LIMIT < pp.TOP_15[-1], rider
    pending = points.pending
    assert points.totals[pending.rider] + earned[pending.rider] + pending.act.points < 109
    # Only reports that reached a passing verification pay; each in this year (t-dated).
    for report in plan.reports:
        if report.payees():
            assert report.t is not None and report.outcome in rp.PAID
        else:
            assert report.outcome not in rp.PAID


def test_the_showcase_rider_has_reports_in_several_states(plan):
    mine = [r for r in plan.reports if r.reporter == data.SHOWCASE_RIDER.key]
    assert {r.status for r in mine} >= {"submitted", "dispatched", "handled", "rejected"}
    assert any(d.reporter == data.SHOWCASE_RIDER.key for r in plan.reports for d in r.duplicates)
    assert rp.cases_waiting("zhifadui") >= 2


def test_the_alert_is_acknowledged_within_minutes_and_handled(plan):
    (alert,) = [r for r in plan.reports if r.outcome == "alert"]
    assert alert.category == "elderly_child" and alert.status == "closed"
    kinds = [s.kind for s in alert.steps]
    assert kinds == ["acknowledge", "dispatch", "handle", "verify", "close"]
    ack = rp.CATEGORIES["elderly_child"].ack_minutes
    assert alert.steps[0].after < ack
    aixin = next(t for t in build_plan().teams if t.spec.key == "aixin").members
    assert alert.reporter in aixin
    for report in plan.reports:  # every urgent report is taken at once
        if rp.CATEGORIES[report.category].urgent and report.outcome != "rejected":
            assert report.steps[0].kind == "acknowledge" and report.steps[0].after < ack


def test_every_photo_is_a_different_picture_but_the_one_sent_twice(plan):
    """The intake flags a photo within a dHash distance of 3 of an earlier one (any rotation):
    the drawn photos must be far apart, except the copy the plan means to be flagged."""
    hashes = {}
    for report in plan.reports:
        items = [(report.key, rp.report_photo(report))]
        items += [(d.key, rp.report_photo(report, d)) for d in report.duplicates]
        for key, content in items:
            image = Image.open(io.BytesIO(content))
            assert image.size == rp.PHOTO_SIZE and image.format == "JPEG"
            assert len(content) < 120_000
            hashes[key] = (dhash(image), dhash_rotations(image))
    copies = [(r.key, d.key) for r in plan.reports for d in r.duplicates if d.photo == r.photo]
    assert len(copies) == 1
    keys = list(hashes)
    close = set()
    for i, a in enumerate(keys):
        for b in keys[:i]:
            if min(hamming(hashes[b][0], h) for h in hashes[a][1]) <= 3:
                close.add(tuple(sorted((a, b))))
    assert close == {tuple(sorted(copies[0]))}
    after = [rp.step_photo(r, s) for r in plan.reports for s in r.steps if s.photo]
    assert len(set(after)) == len(after)


def test_the_2026_holidays_follow_the_state_councils_notice():
    days = {h.day: h for h in rp.HOLIDAYS}
    assert len(days) == len(rp.HOLIDAYS)
    in_2026 = [h for h in rp.HOLIDAYS if h.day.year == 2026]
    assert sum(not h.is_workday for h in in_2026) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    moved = sorted(h.day for h in in_2026 if h.is_workday)
    assert moved == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
        date(2026, 9, 20), date(2026, 10, 10),
    ]  # fmt: skip
    assert all(day.weekday() >= 5 for day in moved)
    assert days[date(2026, 2, 17)].name == "春节" and days[date(2026, 10, 7)].name == "国庆节"
    in_2027 = [h for h in rp.HOLIDAYS if h.day.year == 2027]
    assert len(in_2027) == 13 and not any(h.is_workday for h in in_2027)
    assert days[date(2027, 2, 5)].name.startswith("春节")  # 除夕 2027
    assert all(len(h.name) <= 50 for h in rp.HOLIDAYS)


def test_every_category_has_a_department_of_the_street():
    departments = {d.key: d for d in data.DEPARTMENTS}
    assert set(rp.CATEGORY_DEPARTMENTS) == {c.code for c in catalogue.STANDARD}
    for key in rp.CATEGORY_DEPARTMENTS.values():
        assert data.QINGYUAN.startswith(departments[key].area_code)
    assert set(rp.HANDLERS) == set(departments)


# --- the moments ----------------------------------------------------------------------------


def test_steps_of_a_report_in_the_window_fall_before_the_load_day(plan):
    now = at(2026, 12, 2, 11, 30)
    midnight = at(2026, 12, 2)
    for report in plan.reports:
        start, *times = report_times(now, report)
        assert [start, *times] == sorted([start, *times])
        if report.t is not None:
            assert at(2026, 8, 4) <= start and all(t < midnight for t in times), report.key
        else:
            assert start == now - timedelta(minutes=report.ago)
            assert all(t < now for t in times)


def test_late_cases_were_dispatched_weeks_before_the_load(plan):
    now = at(2026, 12, 2, 11, 30)
    for report in plan.reports:
        if report.outcome == "late":
            _start, *times = report_times(now, report)
            dispatched = times[[s.kind for s in report.steps].index("dispatch")]
            assert now - dispatched > timedelta(days=rp.LATE_DAYS[0] - 1)


@pytest.mark.parametrize("now", [at(2027, 1, 1, 8, 0), at(2027, 1, 2, 7, 0)])
def test_early_in_january_the_history_is_squeezed_into_the_year(plan, now):
    for report in plan.reports:
        if report.t is None:
            continue
        start, *times = report_times(now, report)
        assert start.year == 2027 and all(start <= t < now for t in times), report.key
        assert times == sorted(times)
        if now.day == 2:
            assert all(t < at(2027, 1, 2) for t in times)


def test_the_photos_are_the_same_on_every_draw(plan):
    report = plan.reports[0]
    assert rp.report_photo(report) == rp.report_photo(report)
    assert Counter(len(r.duplicates) for r in plan.reports)[0] < len(plan.reports)
