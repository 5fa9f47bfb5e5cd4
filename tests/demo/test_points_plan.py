"""The demo's points plan (pure Python) and how its history is dated relative to the load day."""

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from yizhan.demo import care_plan, data
from yizhan.demo import points_plan as pp
from yizhan.demo.generate import build_plan
from yizhan.demo.loader import history_start, moment

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_plan_is_the_same_on_every_build():
    assert pp.build_points_plan.__wrapped__() == pp.build_points_plan()


def test_each_rider_earns_their_total_in_acts_up_to_the_threshold():
    plan = pp.build_points_plan()
    earned = Counter()
    for award in plan.awards:
        earned[award.rider] += award.act.points
        assert award.act.points <= pp.APPROVAL_THRESHOLD
        assert 0 <= award.t < 1 and 8 <= award.hour <= 20
    reversed_award = next(a for a in plan.awards if a.key == plan.reversal.award)
    earned[reversed_award.rider] -= reversed_award.act.points
    # Attendance and duties (the care plan) pay part of the ranked riders' totals.
    care = care_plan.build_care_plan().points()
    earned.update({k: v for k, v in care.items() if k in plan.totals})
    assert +earned == +Counter(plan.totals)
    assert plan.reversal.t > reversed_award.t
    assert plan.pending.act.points > pp.APPROVAL_THRESHOLD
    assert plan.totals[plan.pending.rider] + plan.pending.act.points < pp.LEADER_POINTS
    assert len({a.key for a in plan.awards}) == len(plan.awards)


def test_the_top_15_are_the_knights_led_by_the_showcase_rider():
    plan = pp.build_points_plan()
    riders = build_plan()
    knights = next(t for t in riders.teams if t.spec.key == "qishi").members
    assert plan.leader == data.SHOWCASE_RIDER.key and set(plan.top15) == set(knights)
    assert [plan.totals[k] for k in plan.top15] == list(pp.TOP_15)
    qingyuan = [k for k in plan.totals if riders.rider(k).community.startswith(data.QINGYUAN)]
    assert len(qingyuan) == len(pp.TOP_15) + len(pp.OTHERS)
    assert riders.rider(plan.pending.rider).community == data.QYXJ


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "today, start",
    [
        (date(2026, 6, 15), date(2026, 2, 15)),  # 120 days back
        (date(2026, 3, 1), date(2026, 1, 1)),  # not before 1 January
        (date(2027, 1, 1), date(2027, 1, 1)),
    ],
)
def test_the_history_starts_at_most_120_days_back_within_the_year(today, start):
    assert history_start(today) == start


def test_moments_fall_on_whole_days_before_today():
    now = at(2026, 6, 15, 9, 30)
    assert moment(now, 0, 10, 5) == at(2026, 2, 15, 10, 5)
    assert moment(now, 0.5, 20, 0) == at(2026, 4, 16, 20, 0)
    assert moment(now, 0.999, 21, 30) == at(2026, 6, 14, 21, 30)  # yesterday evening
    early = at(2026, 1, 2, 7, 0)  # one whole day of the year so far
    assert moment(early, 0.97, 20, 59) == at(2026, 1, 1, 20, 59)


def test_on_new_years_day_the_history_fits_into_the_hours_since_midnight():
    now = at(2027, 1, 1, 8, 0)
    moments = [moment(now, t, 20, 0) for t in (0, 0.5, 0.995)]
    assert moments == sorted(moments)
    assert moments[0] == at(2027, 1, 1, 0, 0) and moments[1] == at(2027, 1, 1, 4, 0)
    assert all(m < now for m in moments)
