"""The working calendar: working periods with a lunch break, weekends, public holidays off and
weekend days moved into work (调休), deadlines in working hours and days, and working minutes
between two moments."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yizhan.core.models import Holiday
from yizhan.core.workcalendar import (
    TZ,
    Calendar,
    add_working_days,
    add_working_hours,
    add_working_minutes,
    minutes_per_day,
    work_periods,
    working_minutes_between,
)


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=TZ)


MON, TUE, FRI, SAT, NEXT_MON = "2026-06-01", "2026-06-02", "2026-06-05", "2026-06-06", "2026-06-08"


def test_a_working_day_is_seven_hours_with_a_lunch_break():
    assert work_periods() == ((9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60 + 30))
    assert minutes_per_day() == 420


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "hours", "end"),
    [
        (at(MON, "10:00"), 1, at(MON, "11:00")),
        (at(MON, "09:00"), 3, at(MON, "12:00")),  # ends at the start of lunch, not after it
        (at(MON, "10:00"), 4, at(MON, "15:30")),  # over lunch
        (at(MON, "12:30"), 1, at(MON, "14:30")),  # started during lunch
        (at(MON, "07:00"), 1, at(MON, "10:00")),  # before work
        (at(MON, "18:00"), 1, at(TUE, "10:00")),  # after work
        (at(FRI, "16:00"), 4, at(NEXT_MON, "11:30")),  # over the weekend
        (at(SAT, "10:00"), 1, at(NEXT_MON, "10:00")),
        (at(MON, "10:00"), 0, at(MON, "10:00")),
    ],
)
def test_working_hours(start, hours, end):
    assert add_working_hours(start, hours) == end


@pytest.mark.django_db
def test_working_days_count_as_seven_hours_each():
    assert add_working_days(at(MON, "10:00"), 1) == at(TUE, "10:00")
    assert add_working_days(at(FRI, "10:00"), 1) == at(NEXT_MON, "10:00")
    assert add_working_days(at(MON, "10:00"), 5) == at(NEXT_MON, "10:00")
    assert add_working_days(at(MON, "10:00"), 0.5) == at(MON, "15:00")


@pytest.mark.django_db
def test_a_holiday_is_a_day_off():
    Holiday.objects.create(date=date(2026, 6, 8), name="端午节")
    assert add_working_hours(at(FRI, "16:00"), 4) == at("2026-06-09", "11:30")
    assert not Calendar(date(2026, 6, 8), date(2026, 6, 8)).is_workday(date(2026, 6, 8))


@pytest.mark.django_db
def test_a_moved_working_saturday_is_worked():
    Holiday.objects.create(date=date(2026, 6, 6), is_workday=True, name="调休上班")
    assert add_working_hours(at(FRI, "16:00"), 4) == at(SAT, "11:30")
    assert Calendar(date(2026, 6, 6), date(2026, 6, 7)).is_workday(date(2026, 6, 6))


@pytest.fixture
def national_day_2025(db):
    """国庆中秋 2025: 1–8 October off; Sunday 28 September and Saturday 11 October worked."""
    for day in range(1, 9):
        Holiday.objects.create(date=date(2025, 10, day), name="国庆节、中秋节")
    Holiday.objects.create(date=date(2025, 9, 28), is_workday=True, name="调休")
    Holiday.objects.create(date=date(2025, 10, 11), is_workday=True, name="调休")


def test_working_days_across_the_national_day_week(national_day_2025):
    assert add_working_days(at("2025-09-30", "10:00"), 1) == at("2025-10-09", "10:00")
    assert add_working_days(at("2025-09-26", "10:00"), 1) == at("2025-09-28", "10:00")
    assert add_working_days(at("2025-09-26", "10:00"), 3) == at("2025-09-30", "10:00")
    assert add_working_days(at("2025-10-09", "10:00"), 2) == at("2025-10-11", "10:00")
    assert add_working_hours(at("2025-09-30", "16:00"), 2) == at("2025-10-09", "09:30")
    # Five working days from the Friday before: Sun 28, Mon 29, Tue 30, Thu 9, Fri 10.
    assert add_working_days(at("2025-09-26", "10:00"), 5) == at("2025-10-10", "10:00")


def test_working_minutes_between_across_the_holiday(national_day_2025):
    assert working_minutes_between(at("2025-09-30", "17:00"), at("2025-10-09", "09:30")) == 60
    assert working_minutes_between(at("2025-09-26", "10:00"), at("2025-10-10", "10:00")) == 5 * 420


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (at(MON, "10:00"), at(TUE, "10:00"), 420),
        (at(MON, "11:00"), at(MON, "14:00"), 90),  # lunch does not count
        (at(FRI, "17:00"), at(NEXT_MON, "09:30"), 60),  # nor the weekend
        (at(MON, "12:10"), at(MON, "13:20"), 0),
        (at(MON, "10:00"), at(MON, "10:00"), 0),
        (at(TUE, "10:00"), at(MON, "10:00"), 0),  # end before start
    ],
)
def test_working_minutes_between(start, end, minutes):
    assert working_minutes_between(start, end) == minutes


@pytest.mark.django_db
def test_any_time_zone_in_local_time_out():
    start_utc = at(MON, "10:00").astimezone(UTC)
    end = add_working_hours(start_utc, 1)
    assert end == at(MON, "11:00") and end.tzinfo == TZ


@pytest.mark.django_db
def test_other_working_hours_from_the_settings(settings):
    settings.WORKDAY_PERIODS = "08:00-12:00, 14:00-18:00"
    assert minutes_per_day() == 480
    # A whole day from the start of work ends when that day's work ends (not next morning).
    assert add_working_days(at(MON, "08:00"), 1) == at(MON, "18:00")
    assert add_working_days(at(MON, "09:00"), 1) == at(TUE, "09:00")
    assert add_working_hours(at(MON, "11:00"), 2) == at(MON, "15:00")
    for bad in ("9-17", "17:00-09:00", "09:00-25:00"):
        settings.WORKDAY_PERIODS = bad
        with pytest.raises(ValueError, match="WORKDAY_PERIODS"):
            work_periods()


@pytest.mark.django_db
def test_negative_time_is_refused():
    with pytest.raises(ValueError):
        add_working_minutes(at(MON, "10:00"), -1)


MOMENTS = st.datetimes(min_value=datetime(2025, 9, 20), max_value=datetime(2025, 10, 20)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=TZ)
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=MOMENTS, minutes=st.integers(0, 5000), more=st.integers(0, 2000))
def test_adding_then_measuring_gives_back_the_minutes(national_day_2025, start, minutes, more):
    end = add_working_minutes(start, minutes)
    assert end >= start
    assert working_minutes_between(start, end) == minutes
    assert add_working_minutes(start, minutes + more) >= end
    # A deadline never falls in lunch, at night, or on a day off (except when nothing is left).
    if minutes:
        local = end.astimezone(TZ)
        minute = local.hour * 60 + local.minute
        assert any(begin < minute <= stop for begin, stop in work_periods())
        assert Calendar(local.date(), local.date()).is_workday(local.date())
    assert end - start < timedelta(days=60)
