"""The dashboards' contract: plain values, no database access.

``selectors.dashboard()`` and friends return these; pages, charts, the map, Excel, the PDF brief,
the API and the public page read them. Field names here are stable: fields may be added, never
renamed or removed.

Conventions
-----------
* Every ``label`` / ``title`` is a lazy translatable string (``gettext_lazy``) when it names a
  concept (a metric, a status, a platform); when it names a *record* (a category the street
  configured, an area, a station, a title) it is that record's own text (a plain ``str``,
  usually Chinese), because data is not translated.
* Numbers are ``int`` for counts and points, ``float`` for rates and durations, and ``None``
  when there is nothing to measure (an on-time rate of a period in which nothing was due). Show
  ``None`` as "—", never as 0.
* Rates (``unit == "percent"``) are stored as percentages (``87.5`` means 87.5 %), rounded to
  one decimal. Durations are in hours (``unit == "hours"``), rounded to one decimal.
* Dates are ``datetime.date`` in Asia/Shanghai; a period's ``end`` is inclusive.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yizhan.core.errors import ApplicationError

Number = int | float
Label = str | Promise

# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------

PERIOD_KINDS = ("week", "month", "quarter", "year", "custom")
PERIOD_KIND_LABELS: dict[str, Label] = {
    "week": _("Week"),
    "month": _("Month"),
    "quarter": _("Quarter"),
    "year": _("Year"),
    "custom": _("Custom"),
}
#: The longest period anyone may ask for (a custom range, in days). Three years and a leap day.
MAX_PERIOD_DAYS = 3 * 366
#: The earliest date a period may touch; nothing in the programme is older.
MIN_DATE = dt.date(2000, 1, 1)
#: How far into the future a period may reach (days after today), e.g. the rest of this year.
MAX_FUTURE_DAYS = 366


class PeriodError(ApplicationError):
    """A period the user asked for cannot be shown (400, code ``invalid_period``)."""

    code = "invalid_period"


def _today() -> dt.date:
    return timezone.localdate()


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A span of whole days, ``start`` to ``end`` inclusive.

    ``kind`` says how it was chosen: ``week`` (Monday to Sunday), ``month``, ``quarter``,
    ``year`` (calendar ones) or ``custom`` (any range up to :data:`MAX_PERIOD_DAYS`).
    Build one with :meth:`parse` from user input, or :meth:`containing` from a date.
    """

    kind: str
    start: dt.date
    end: dt.date

    # -- derived ---------------------------------------------------------------------------
    @property
    def days(self) -> int:
        """Number of days in the period (end inclusive)."""
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        """A short stable key: ``2026-W14``, ``2026-04``, ``2026-Q2``, ``2026``,
        ``2026-04-03..2026-05-01``. Good for file names and cache keys."""
        if self.kind == "week":
            year, week, _day = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.start.year}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """Human text for headings, e.g. ``2026-04`` or ``2026-04-03 – 2026-05-01``."""
        if self.kind == "custom" or self.kind == "week":
            return f"{self.start.isoformat()} – {self.end.isoformat()}"
        return self.key

    @property
    def trend_grain(self) -> str:
        """The bucket of the trend series for this period: ``day`` up to 92 days, else
        ``month``. ``Series.points`` dates are the first day of each bucket."""
        return "day" if self.days <= 92 else "month"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Aware datetimes ``[start 00:00, day after end 00:00)`` in the current time zone."""
        tz = timezone.get_current_timezone()
        lo = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return lo, hi

    def previous(self) -> Period:
        """The period just before, of the same kind: last week, last month, last quarter,
        last year; for a custom range, the same number of days ending the day before."""
        if self.kind == "week":
            return Period("week", self.start - dt.timedelta(days=7), self.start - dt.timedelta(1))
        if self.kind == "month":
            first = _add_months(self.start, -1)
            return Period("month", first, _month_end(first.year, first.month))
        if self.kind == "quarter":
            first = _add_months(self.start, -3)
            last = _add_months(self.start, 0) - dt.timedelta(days=1)
            return Period("quarter", first, last)
        if self.kind == "year":
            return Period(
                "year", dt.date(self.start.year - 1, 1, 1), dt.date(self.start.year - 1, 12, 31)
            )
        end = self.start - dt.timedelta(days=1)
        return Period("custom", end - dt.timedelta(days=self.days - 1), end)

    def months(self) -> list[dt.date]:
        """First days of the calendar months the period touches."""
        out = []
        month = self.start.replace(day=1)
        while month <= self.end:
            out.append(month)
            month = _add_months(month, 1)
        return out

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def containing(cls, kind: str, day: dt.date) -> Period:
        """The week / month / quarter / year that contains ``day``."""
        if kind == "week":
            start = day - dt.timedelta(days=day.weekday())
            return cls("week", start, start + dt.timedelta(days=6))
        if kind == "month":
            return cls("month", day.replace(day=1), _month_end(day.year, day.month))
        if kind == "quarter":
            first_month = (day.month - 1) // 3 * 3 + 1
            start = dt.date(day.year, first_month, 1)
            return cls("quarter", start, _add_months(start, 3) - dt.timedelta(days=1))
        if kind == "year":
            return cls("year", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
        raise PeriodError(_("Choose a week, month, quarter or year."), field="kind")

    @classmethod
    def parse(
        cls,
        kind: Any = "month",
        *,
        anchor: Any = None,
        start: Any = None,
        end: Any = None,
        today: dt.date | None = None,
    ) -> Period:
        """A period from what a person typed or a query string carried.

        * ``kind`` is one of :data:`PERIOD_KINDS` (empty means ``month``);
        * for week/month/quarter/year, ``anchor`` is any date inside it (``2026-04-15``) or,
          for convenience, ``2026-04`` (month), ``2026-Q2`` (quarter), ``2026`` (year),
          ``2026-W15`` (ISO week); empty means today;
        * for ``custom``, ``start`` and ``end`` (``YYYY-MM-DD``, end inclusive) are required.

        Raises :class:`PeriodError` (a 400 ``ApplicationError``) with a readable message for an
        unknown kind, a malformed date, an end before the start, a range longer than
        :data:`MAX_PERIOD_DAYS` days, or dates before :data:`MIN_DATE` or more than
        :data:`MAX_FUTURE_DAYS` days ahead.
        """
        today = today or _today()
        kind = (str(kind).strip().lower() if kind is not None else "") or "month"
        if kind not in PERIOD_KINDS:
            raise PeriodError(
                _("Unknown period. Choose week, month, quarter, year or custom."), field="kind"
            )
        if kind == "custom":
            if not start or not end:
                raise PeriodError(
                    _("A custom period needs both a start and an end date."),
                    field="start" if not start else "end",
                )
            first = _parse_date(start, field="start")
            last = _parse_date(end, field="end")
            if last < first:
                raise PeriodError(_("The end date is before the start date."), field="end")
            period = cls("custom", first, last)
        else:
            period = cls.containing(kind, _parse_anchor(kind, anchor, today))
        if period.days > MAX_PERIOD_DAYS:
            raise PeriodError(
                _("A period may be at most three years long."), field="end", code="period_too_long"
            )
        if period.start < MIN_DATE or period.end > today + dt.timedelta(days=MAX_FUTURE_DAYS):
            raise PeriodError(
                _("Choose dates between 2000-01-01 and one year from today."),
                field="start" if period.start < MIN_DATE else "end",
                code="period_out_of_range",
            )
        return period


_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_WEEK = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")


def _parse_date(value: Any, *, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if _DATE.match(text):
        try:
            year, month, day = (int(part) for part in text.split("-"))
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise PeriodError(
        _("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text[:20]},
        field=field,
    )


def _parse_anchor(kind: str, value: Any, today: dt.date) -> dt.date:
    if value is None or (isinstance(value, str) and not value.strip()):
        return today
    if isinstance(value, dt.date | dt.datetime):
        return _parse_date(value, field="anchor")
    text = str(value).strip()
    try:
        if match := _MONTH.match(text):
            return dt.date(int(match[1]), int(match[2]), 1)
        if match := _QUARTER.match(text):
            return dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
        if match := _YEAR.match(text):
            return dt.date(int(match[1]), 1, 1)
        if match := _WEEK.match(text):
            return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        pass
    else:
        return _parse_date(text, field="anchor")
    raise PeriodError(
        _("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text[:20]},
        field="anchor",
    )


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

#: Units a metric may carry. ``count`` people/things, ``points`` ledger points, ``percent``
#: 0–100, ``hours`` a duration.
UNITS = ("count", "points", "percent", "hours")


@dataclass(frozen=True)
class Metric:
    """One headline number with its value in the previous period.

    ``key``       stable machine name (see :data:`METRICS` for every key and its meaning);
    ``label``     lazy translated name for people;
    ``value``     the number for the chosen period (or "now" for stock numbers such as
                  stations; those have ``previous`` = the value at the end of the previous
                  period when known, else None);
    ``previous``  the same number for ``DashboardData.previous_period`` (None: not comparable);
    ``unit``      one of :data:`UNITS`;
    ``target``    an optional goal (coverage target), same unit; None when none is set.
    """

    key: str
    label: Label
    value: Number | None
    previous: Number | None = None
    unit: str = "count"
    target: Number | None = None

    @property
    def change(self) -> Number | None:
        """``value - previous`` (None when either is None). For percentages this is the
        change in percentage points."""
        if self.value is None or self.previous is None:
            return None
        diff = self.value - self.previous
        return round(diff, 1) if isinstance(diff, float) else diff

    @property
    def ratio(self) -> float | None:
        """Relative change ``value / previous - 1`` as a fraction (0.25 = +25 %); None when
        there is no previous value or it is 0."""
        if self.value is None or not self.previous:
            return None
        return self.value / self.previous - 1

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat`` (also ``flat`` when not comparable)."""
        change = self.change
        if not change:
            return "flat"
        return "up" if change > 0 else "down"


@dataclass(frozen=True)
class BreakdownRow:
    """One bar / slice / table row of a breakdown: ``key`` (a choice value, a category code,
    an area code), ``label`` (its name), ``value`` in the period and ``previous`` in the
    previous period (None when the breakdown is a stock, e.g. stations by kind)."""

    key: str
    label: Label
    value: Number | None
    previous: Number | None = None


@dataclass(frozen=True)
class Breakdown:
    """A number split by one dimension: ``key`` (see :data:`BREAKDOWNS`), ``title``, ``unit``
    and its ``rows`` in display order (choices in their declared order; categories and grids
    by value, largest first). Rows with zero in both periods are kept for choices (so the
    table always shows every status) and dropped for open-ended dimensions (categories,
    grids)."""

    key: str
    title: Label
    rows: list[BreakdownRow] = field(default_factory=list)
    unit: str = "count"

    @property
    def total(self) -> Number:
        return sum(row.value or 0 for row in self.rows)


@dataclass(frozen=True)
class Series:
    """A trend line: ``points`` is a list of ``(bucket start date, value)`` covering the whole
    period without gaps (zero where nothing happened), bucket as ``grain`` (``day`` or
    ``month``, see :attr:`Period.trend_grain`)."""

    key: str
    title: Label
    points: list[tuple[dt.date, Number]] = field(default_factory=list)
    unit: str = "count"
    grain: str = "day"


@dataclass(frozen=True)
class ChildRow:
    """One child area side by side with its siblings ("which community is behind").

    ``area_code``, ``name`` and ``level`` of the child; ``metrics`` maps a key of
    :data:`CHILD_METRICS` to its number in the period (same units as the headline metric of
    that key; None when not measurable). For a grid dashboard the list is empty.
    """

    area_code: str
    name: str
    metrics: dict[str, Number | None]
    level: str = ""


@dataclass(frozen=True)
class OverdueRow:
    """An open report past its deadline (``deadline_at`` < now), most overdue first.

    ``report_id`` (link with ``reports:staff_detail`` / the API), ``category`` (its name),
    ``status`` (value) and ``status_label``, ``area_code`` (community or grid), ``area_name``,
    ``address`` (the report's own text, not personal), ``department`` (name or ""),
    ``deadline_at`` (aware datetime), ``overdue_hours`` (float, ≥ 0), ``escalation`` (level).
    """

    report_id: int
    category: str
    status: str
    status_label: Label
    area_code: str
    area_name: str
    address: str
    department: str
    deadline_at: dt.datetime
    overdue_hours: float
    escalation: int = 0
    submitted_at: dt.datetime | None = None


@dataclass(frozen=True)
class OverduePage:
    """One page of :class:`OverdueRow` (``page`` from 1) with the total ``count``."""

    rows: list[OverdueRow]
    count: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size)) if self.size else 1


@dataclass(frozen=True)
class TopRider:
    """A rider on the period's points ranking for the area.

    ``rank`` (1-based, ties share a rank), ``name`` masked (张*三 — dashboards never show full
    names or phones), ``community`` (name), ``points`` earned in the period (credits to the
    rider minus reversals; spending does not lower it).
    """

    rank: int
    name: str
    community: str
    points: int
    user_id: int | None = None


@dataclass(frozen=True)
class HonourRow:
    """An awarded honour: ``title`` (e.g. 清远骑士), ``period`` of the title (its own text,
    e.g. 2026), ``name`` as the public honour roll shows it (masked), ``community``,
    ``awarded_on`` (date of approval)."""

    title: str
    period: str
    name: str
    community: str
    awarded_on: dt.date | None = None


@dataclass(frozen=True)
class MapPoint:
    """A station or caring corner on the map (WGS-84; convert at the edge).

    ``id``, ``kind`` (a ``StationKind`` value; ``corner`` for caring corners), ``kind_label``,
    ``name``, ``lat``, ``lng``, ``status`` (``open`` / ``suspended``), ``area_code``.
    """

    id: int
    kind: str
    kind_label: Label
    name: str
    lat: float
    lng: float
    status: str
    area_code: str


@dataclass(frozen=True)
class HeatCell:
    """A cell of the report heat layer: centre ``lat``/``lng`` (WGS-84) and ``weight`` (the
    number of reports submitted in the period in that cell, about 100 m across)."""

    lat: float
    lng: float
    weight: int


@dataclass(frozen=True)
class AreaInfo:
    """The area a dashboard is about: ``code``, ``name``, ``level`` (district / street /
    community / grid), ``full_name`` (district / street / …) and ``parent_code`` ('' at the
    top)."""

    code: str
    name: str
    level: str
    full_name: str = ""
    parent_code: str = ""


@dataclass(frozen=True)
class DashboardData:
    """Everything one dashboard page shows.

    ``area``            :class:`AreaInfo`;
    ``period``          the chosen :class:`Period`; ``previous_period`` its predecessor;
    ``generated_at``    when the numbers were read (aware datetime);
    ``fresh_as_of``     when the rollups were last brought up to date (aware; None: never);
                        numbers may lag facts by up to one job interval;
    ``headline``        the headline :class:`Metric` list in display order (keys of
                        :data:`METRICS`, all of them, always in that order);
    ``breakdowns``      :class:`Breakdown` by key of :data:`BREAKDOWNS` (all keys present);
    ``trends``          :class:`Series` by key of :data:`TRENDS` (all keys present);
    ``children``        :class:`ChildRow` per child area (empty for a grid);
    ``overdue``         the first page (10 rows) of :class:`OverdueRow`, most overdue first;
    ``overdue_count``   how many open reports are overdue now;
    ``top_riders``      the period's top 10 :class:`TopRider`;
    ``honours``         :class:`HonourRow` awarded beneath the area (all time, newest first,
                        at most 50);
    ``breakdowns_cover`` / ``top_riders_season``: see below.
    """

    area: AreaInfo
    period: Period
    previous_period: Period
    generated_at: dt.datetime
    headline: list[Metric]
    breakdowns: dict[str, Breakdown]
    trends: dict[str, Series]
    children: list[ChildRow]
    overdue: list[OverdueRow]
    top_riders: list[TopRider]
    honours: list[HonourRow]
    overdue_count: int = 0
    fresh_as_of: dt.datetime | None = None
    #: Breakdowns are kept per month: for a week or custom period they cover the whole
    #: months it touches, and this says which (None when they match ``period`` exactly).
    breakdowns_cover: Period | None = None
    #: The points season ``top_riders`` ranks (``m2026-04``, ``q2026-2``, ``y2026``): a week or
    #: custom period shows the month its last day falls in.
    top_riders_season: str = ""

    def metric(self, key: str) -> Metric:
        """The headline metric ``key`` (KeyError when unknown)."""
        for item in self.headline:
            if item.key == key:
                return item
        raise KeyError(key)

    @property
    def is_empty(self) -> bool:
        """True when the period has no activity at all (an honest empty brief)."""
        flows = [m for m in self.headline if METRICS.get(m.key, ("", "", "stock"))[2] == "flow"]
        return all(not m.value for m in flows)


# --------------------------------------------------------------------------------------------
# The catalogue of keys (the presentation iterates these; labels for tables and charts)
# --------------------------------------------------------------------------------------------

#: Headline metrics in display order: key → (label, unit, "stock" | "flow").
#: ``stock`` numbers describe the state at the end of the period (how many stations exist);
#: ``flow`` numbers count what happened within the period.
METRICS: dict[str, tuple[Label, str, str]] = {
    "stations": (_("Stations"), "count", "stock"),
    "corners": (_("Caring corners"), "count", "stock"),
    "coverage": (_("Station coverage"), "percent", "stock"),
    "riders_registered": (_("Riders registered"), "count", "stock"),
    "riders_verified": (_("Riders verified"), "count", "stock"),
    "riders_with_posts": (_("Riders holding posts"), "count", "stock"),
    "riders_new": (_("New registrations"), "count", "flow"),
    "reports": (_("Reports submitted"), "count", "flow"),
    "reports_closed": (_("Reports closed"), "count", "flow"),
    "close_hours": (_("Average time to close"), "hours", "flow"),
    "on_time_rate": (_("Closed on time"), "percent", "flow"),
    "overdue": (_("Overdue now"), "count", "stock"),
    "points_issued": (_("Points issued"), "points", "flow"),
    "points_redeemed": (_("Points redeemed"), "points", "flow"),
    "points_outstanding": (_("Points outstanding"), "points", "stock"),
    "rewards_exchanged": (_("Rewards exchanged"), "count", "flow"),
    "wishes_posted": (_("Wishes posted"), "count", "flow"),
    "wishes_claimed": (_("Wishes claimed"), "count", "flow"),
    "wishes_fulfilled": (_("Wishes fulfilled"), "count", "flow"),
    "appeals": (_("Appeals raised"), "count", "flow"),
    "appeals_answered": (_("Appeals answered"), "count", "flow"),
    "answer_hours": (_("Average time to answer"), "hours", "flow"),
    "events_held": (_("Events held"), "count", "flow"),
    "attendance": (_("Attendance"), "count", "flow"),
    "visits": (_("People served at stations"), "count", "flow"),
    "honours": (_("Honours awarded"), "count", "stock"),
}

#: Breakdowns: key → (title, unit, "stock" | "flow").
BREAKDOWNS: dict[str, tuple[Label, str, str]] = {
    "stations_by_kind": (_("Stations and corners by kind"), "count", "stock"),
    "stations_by_status": (_("Stations and corners by status"), "count", "stock"),
    "riders_by_platform": (_("Riders by platform"), "count", "stock"),
    "riders_by_occupation": (_("Riders by occupation"), "count", "stock"),
    "riders_by_status": (_("Riders by registration status"), "count", "stock"),
    "reports_by_status": (_("Reports by status"), "count", "flow"),
    "reports_by_category": (_("Reports by category"), "count", "flow"),
    "reports_by_grid": (_("Reports by grid"), "count", "flow"),
    "appeals_by_difficulty": (_("Appeals by difficulty"), "count", "flow"),
    "appeals_by_status": (_("Appeals by status"), "count", "flow"),
    "wishes_by_status": (_("Wishes by status"), "count", "flow"),
    "events_by_kind": (_("Events by kind"), "count", "flow"),
}

#: Trend series: key → (title, unit).
TRENDS: dict[str, tuple[Label, str]] = {
    "reports": (_("Reports submitted"), "count"),
    "reports_closed": (_("Reports closed"), "count"),
    "points_issued": (_("Points issued"), "points"),
    "points_redeemed": (_("Points redeemed"), "points"),
    "visits": (_("People served at stations"), "count"),
    "riders_new": (_("New registrations"), "count"),
}

#: The columns of the child-area table (subset of :data:`METRICS`, same meaning and units).
CHILD_METRICS: tuple[str, ...] = (
    "stations",
    "corners",
    "riders_verified",
    "riders_with_posts",
    "reports",
    "reports_closed",
    "on_time_rate",
    "overdue",
    "points_issued",
    "visits",
)

#: Metrics shown on a street's public page: aggregate counts only, nothing about a person.
PUBLIC_METRICS: tuple[str, ...] = (
    "stations",
    "corners",
    "riders_with_posts",
    "reports_closed",
    "visits",
    "honours",
)
