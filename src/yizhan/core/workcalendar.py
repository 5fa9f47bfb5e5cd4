"""The working calendar (Asia/Shanghai): deadlines in working hours and working days.

GB/T 30428 time limits are set in 工作时 (working hours) and 工作日 (working days). A working
day is Monday to Friday unless :class:`core.models.Holiday` says otherwise: a public holiday is a
day off, and a weekend day the State Council moves work onto (调休) is a working day. Working
hours are the periods of ``settings.WORKDAY_PERIODS`` (default 09:00-12:00 and 13:30-17:30, 7
hours). A working day counts as that many working hours, so "1 working day" from Monday 10:00
ends Tuesday 10:00 (from Monday 09:00 it ends Monday 17:30: a deadline falls at the end of a
period, never at the start of the next), and "4 working hours" from Friday 16:00 ends Monday
11:30.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

TZ = ZoneInfo("Asia/Shanghai")
#: How far ahead a deadline may fall (a guard against a calendar with no working day at all).
MAX_DAYS = 400


@lru_cache(maxsize=4)
def _periods(spec: str) -> tuple[tuple[int, int], ...]:
    periods = []
    for part in spec.split(","):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", part)
        if match is None:
            raise ValueError(f"WORKDAY_PERIODS: cannot read {part!r}")
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if not 0 <= start < end <= 1440:
            raise ValueError(f"WORKDAY_PERIODS: {part!r} is not a period of a day")
        periods.append((start, end))
    periods.sort()
    return tuple(periods)


def work_periods() -> tuple[tuple[int, int], ...]:
    """The working periods of a working day, in minutes from midnight."""
    return _periods(settings.WORKDAY_PERIODS)


def minutes_per_day() -> int:
    return sum(end - start for start, end in work_periods())


class Calendar:
    """Working days between two dates, with the holiday table read once."""

    def __init__(self, first: date, last: date) -> None:
        from yizhan.core.models import Holiday

        self.overrides = dict(
            Holiday.objects.filter(date__gte=first, date__lte=last).values_list(
                "date", "is_workday"
            )
        )

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() < 5


def _local(moment: datetime) -> datetime:
    return moment.astimezone(TZ)


def add_working_minutes(start: datetime, minutes: int) -> datetime:
    """The moment ``minutes`` of working time after ``start`` (aware, in local time)."""
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    local = _local(start)
    calendar = Calendar(local.date() - timedelta(days=1), local.date() + timedelta(days=MAX_DAYS))
    periods = work_periods()
    day = local.date()
    now = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60e6
    remaining = float(minutes)
    for _ in range(MAX_DAYS):
        if calendar.is_workday(day):
            for begin, end in periods:
                if now >= end:
                    continue
                begin = max(begin, now)
                if remaining <= end - begin:
                    return datetime.combine(day, time(0), tzinfo=TZ) + timedelta(
                        minutes=begin + remaining
                    )
                remaining -= end - begin
                now = end
        day += timedelta(days=1)
        now = 0.0
    raise ValueError("no working time within the calendar's range")


def add_working_hours(start: datetime, hours: float) -> datetime:
    return add_working_minutes(start, round(hours * 60))


def add_working_days(start: datetime, days: float) -> datetime:
    return add_working_minutes(start, round(days * minutes_per_day()))


def working_minutes_between(start: datetime, end: datetime) -> int:
    """Working minutes from ``start`` to ``end`` (0 when ``end`` is not later)."""
    if end <= start:
        return 0
    first, last = _local(start), _local(end)
    calendar = Calendar(first.date(), last.date())
    periods = work_periods()
    total = 0.0
    day = first.date()
    while day <= last.date():
        if calendar.is_workday(day):
            midnight = datetime.combine(day, time(0), tzinfo=TZ)
            for begin, stop in periods:
                lo = max(midnight + timedelta(minutes=begin), first)
                hi = min(midnight + timedelta(minutes=stop), last)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return round(total)
