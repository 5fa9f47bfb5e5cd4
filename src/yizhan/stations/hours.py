"""Opening hours: a weekly schedule (or 24 hours) plus dated exceptions, and "open now?".

Stored on ``Station.hours`` as JSON, in local time (Asia/Shanghai, no daylight saving)::

    {}                                             hours not published (never "open now")
    {"always": true}                               24 hours, every day
    {"week": {"1": [["08:00", "20:00"]],           1 = Monday … 7 = Sunday; a day not listed
              "6": [["22:00", "02:00"]]},          is closed; an interval may run past
     "except": {"2026-10-01": [],                  midnight (22:00-02:00); "24:00" ends a day
                "2026-10-02": [["10:00", "16:00"]]}}  a date's own hours replace the week's

An exception replaces that date's intervals (``[]``: closed all day); an interval of the day
before that runs past midnight still spills into it. The same schedule has a text form, used by
the import and export and the forms: ``周一至周五 08:00-20:00；周六、周日 09:00-18:00``,
``每天 07:00-22:00``, ``24小时``, ``1-5 08:00-12:00,14:00-18:00`` (see :func:`parse_text`).

:func:`is_open` is what the nearby search calls for every candidate, so it touches only today
and yesterday; :func:`status_at` also says when the place next opens or closes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.core.errors import ApplicationError

TZ = ZoneInfo("Asia/Shanghai")
DAY = 1440  # minutes
MAX_INTERVALS_PER_DAY = 4
MAX_EXCEPTIONS = 60
#: How far ahead :func:`status_at` looks for the next opening.
HORIZON_DAYS = 8

Interval = tuple[int, int]  # minutes from 00:00; end <= start means it ends the next day

WEEKDAY_LABELS = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]
_ZH_DAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_hours", field="hours")


@dataclass(frozen=True)
class Hours:
    """A parsed schedule. ``known`` is False when no hours were published."""

    known: bool = False
    always: bool = False
    week: tuple[tuple[Interval, ...], ...] = ((),) * 7  # Monday first
    exceptions: dict[date, tuple[Interval, ...]] = field(default_factory=dict)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        if self.always:
            return ((0, DAY),)
        return self.week[day.weekday()]

    def to_json(self) -> dict:
        if not self.known:
            return {}
        data: dict[str, Any] = {}
        if self.always:
            data["always"] = True
        else:
            data["week"] = {
                str(i + 1): [[_hhmm(s), _hhmm(e, end=True)] for s, e in day]
                for i, day in enumerate(self.week)
                if day
            }
        if self.exceptions:
            data["except"] = {
                d.isoformat(): [[_hhmm(s), _hhmm(e, end=True)] for s, e in spans]
                for d, spans in sorted(self.exceptions.items())
            }
        return data

    def with_exception(self, day: date, spans: tuple[Interval, ...] | None) -> Hours:
        """A copy with ``day``'s exception set (``None`` removes it)."""
        exceptions = dict(self.exceptions)
        if spans is None:
            exceptions.pop(day, None)
        else:
            exceptions[day] = _check_day(list(spans))
        if len(exceptions) > MAX_EXCEPTIONS:
            raise _invalid(
                _("At most %(n)s dated exceptions can be kept: remove some first.")
                % {"n": MAX_EXCEPTIONS}
            )
        return Hours(
            known=self.known or spans is not None,
            always=self.always,
            week=self.week,
            exceptions=exceptions,
        )

    def without_exceptions_before(self, day: date) -> Hours:
        kept = {d: s for d, s in self.exceptions.items() if d >= day}
        return Hours(known=self.known, always=self.always, week=self.week, exceptions=kept)


NOT_SET = Hours()
ALWAYS = Hours(known=True, always=True)


# --- times -------------------------------------------------------------------------------------

_HHMM = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*$")


def _minutes(text: Any, *, end: bool = False) -> int:
    match = _HHMM.match(text) if isinstance(text, str) else None
    if match is None:
        raise _invalid(_("%(value)s is not a time: write it as 08:30.") % {"value": str(text)[:20]})
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        raise _invalid(_("%(value)s is not a time of day.") % {"value": text.strip()})
    return hours * 60 + minutes


def _hhmm(minutes: int, *, end: bool = False) -> str:
    if end and minutes == DAY:
        return "24:00"
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_day(spans: list[Interval]) -> tuple[Interval, ...]:
    if len(spans) > MAX_INTERVALS_PER_DAY:
        raise _invalid(
            _("A day can have at most %(n)s opening periods.") % {"n": MAX_INTERVALS_PER_DAY}
        )
    for start, end in spans:
        if start == end:
            raise _invalid(_("An opening period must start and end at different times."))
    ordered = sorted(spans)
    for (s1, e1), (s2, _e2) in zip(ordered, ordered[1:], strict=False):
        same_day_end = e1 if e1 > s1 else DAY
        if s2 < same_day_end:
            raise _invalid(
                _("The opening periods %(a)s and %(b)s overlap.")
                % {"a": f"{_hhmm(s1)}-{_hhmm(e1, end=True)}", "b": _hhmm(s2)}
            )
    overnight = [s for s, e in ordered if e < s]
    if overnight and overnight[-1] != ordered[-1][0]:
        raise _invalid(_("Only the last opening period of a day can run past midnight."))
    return tuple(ordered)


def _spans(value: Any) -> tuple[Interval, ...]:
    if not isinstance(value, list):
        raise _invalid(_("Opening periods must be a list of [start, end] pairs."))
    spans = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise _invalid(_("Opening periods must be a list of [start, end] pairs."))
        start, end = _minutes(item[0]), _minutes(item[1], end=True)
        spans.append((start, end))
    return _check_day(spans)


# --- JSON --------------------------------------------------------------------------------------


def parse_json(data: Any) -> Hours:
    """A schedule from its JSON form (API input, the stored column); a clear 400 if malformed."""
    if data in (None, {}):
        return NOT_SET
    if not isinstance(data, dict):
        raise _invalid(_("Opening hours must be an object with 'always' or 'week'."))
    unknown = set(data) - {"always", "week", "except"}
    if unknown:
        raise _invalid(
            _("Unknown part of the opening hours: %(name)s.") % {"name": sorted(unknown)[0][:20]}
        )
    always = data.get("always", False)
    if not isinstance(always, bool):
        raise _invalid(_("'always' must be true or false."))
    week_data = data.get("week")
    if always and week_data:
        raise _invalid(_("Give either 24-hour opening or a weekly schedule, not both."))
    week: list[tuple[Interval, ...]] = [()] * 7
    if week_data is not None:
        if isinstance(week_data, list):
            if len(week_data) != 7:
                raise _invalid(_("A weekly schedule has seven days, Monday first."))
            week_data = {str(i + 1): v for i, v in enumerate(week_data)}
        if not isinstance(week_data, dict):
            raise _invalid(_("A weekly schedule maps days 1 (Monday) to 7 (Sunday) to periods."))
        for key, value in week_data.items():
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)  # a Python caller's {1: [...]}; JSON keys are text
            if key not in {"1", "2", "3", "4", "5", "6", "7"}:
                raise _invalid(
                    _("%(day)s is not a day: use 1 (Monday) to 7 (Sunday).")
                    % {"day": str(key)[:10]}
                )
            week[int(key) - 1] = _spans(value)
    elif not always:
        raise _invalid(_("Opening hours must be an object with 'always' or 'week'."))
    exceptions = _parse_exceptions_json(data.get("except", {}))
    return Hours(known=True, always=always, week=tuple(week), exceptions=exceptions)


def _parse_exceptions_json(value: Any) -> dict[date, tuple[Interval, ...]]:
    if not isinstance(value, dict):
        raise _invalid(_("Exceptions must map dates (2026-10-01) to opening periods."))
    if len(value) > MAX_EXCEPTIONS:
        raise _invalid(
            _("At most %(n)s dated exceptions can be kept: remove some first.")
            % {"n": MAX_EXCEPTIONS}
        )
    result = {}
    for key, spans in value.items():
        result[parse_date(key)] = _spans(spans)
    return result


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    # 2026-10-01, and as a spreadsheet may write it: 2026-10-1, 2026/10/01, 2026年10月1日.
    match = _DATE.match(unicodedata.normalize("NFKC", str(value)).strip())
    try:
        if match is None:
            raise ValueError
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _invalid(
            _("%(value)s is not a date: write it as 2026-10-01.") % {"value": str(value)[:20]}
        ) from None


def from_column(data: Any) -> Hours:
    """The stored column, trusted (written only by services); never raises on old data."""
    try:
        return parse_json(data)
    except ApplicationError:
        return NOT_SET


# --- text --------------------------------------------------------------------------------------

_ALWAYS_WORDS = re.compile(r"^(24\s*小时|24\s*h|24/7|全天候?|全天24小时|always|24 hours)$", re.I)
_TIME_RANGE = re.compile(
    r"(?<!\d)(\d{1,2}[:：]\d{2})\s*(?:[-~–—‐‑−〜至到]|to)\s*(?:次日)?\s*(\d{1,2}[:：]\d{2})",
    re.I,
)
#: What may stand between two periods of the same days, or before the first (``和``: "and").
_BETWEEN = re.compile(r"^[,，、/和及&\s]*$")
#: A clause's closing words for a whole day: ``周一至周五 24小时``.
_WHOLE_DAY = re.compile(r"(24\s*小时|24\s*h(?:ours)?|全天)\s*$", re.I)
_CLOSED_WORDS = re.compile(r"(休息|闭馆|关闭|不营业|closed)", re.I)
_DAY_WORDS = [
    (re.compile(r"每天|每日|天天|全周|daily|every\s*day", re.I), "1-7"),
    (re.compile(r"工作日|weekdays?", re.I), "1-5"),
    (re.compile(r"周末|双休日|weekends?", re.I), "6-7"),
]
_ZH_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7, "七": 7}
_EN_DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_DAY_TOKEN = re.compile(
    r"^(?:(?:周|星期|礼拜)?([一二三四五六日天七])|([1-7])|(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?)$",
    re.I,
)


def _day(token: str) -> int:
    match = _DAY_TOKEN.match(token.strip())
    if match is None:
        raise _invalid(
            _("%(value)s is not a day of the week: write 周一 … 周日 or 1 … 7.")
            % {"value": token[:20]}
        )
    if match[1]:
        return _ZH_NUM[match[1]]
    if match[2]:
        return int(match[2])
    return _EN_DAYS[match[3].lower()[:3]]


def _days(spec: str) -> list[int]:
    spec = spec.strip().strip(",，、/&:：").strip()
    if not spec:
        return list(range(1, 8))
    for pattern, replacement in _DAY_WORDS:
        spec = pattern.sub(replacement, spec)
    spec = re.sub(r"\s*([至到~\-–—])\s*", r"\1", spec)
    # 周六日, 周六周日, 周一三五: one day after another with nothing between.
    spec = re.sub(r"(?<=[一二三四五六日天七])(?=(?:周|星期|礼拜)?[一二三四五六日天七])", ",", spec)
    days: list[int] = []
    for part in re.split(r"[,，、/和及&\s]+", spec):
        if not part:
            continue
        bounds = re.split(r"[至到~\-–—]", part)
        if len(bounds) == 1:
            days.append(_day(bounds[0]))
        elif len(bounds) == 2:
            first, last = _day(bounds[0]), _day(bounds[1])
            day = first
            while True:  # a range may wrap: 周六至周一
                days.append(day)
                if day == last:
                    break
                day = day % 7 + 1
        else:
            raise _invalid(_("%(value)s is not a day of the week.") % {"value": part[:20]})
    if not days:  # only words such as 和: the periods would silently apply to no day
        raise _invalid(_("%(value)s is not a day of the week.") % {"value": spec[:20]})
    return days


def parse_text(text: Any) -> Hours:
    """A weekly schedule from its text form (import, forms). Empty text: not published.

    Clauses are separated by ``;`` ``；`` or new lines; each is a day spec (``周一至周五``,
    ``周六、周日``, ``每天``, ``工作日``, ``1-5``, ``Mon-Fri``; empty means every day) and one or
    more periods ``08:00-12:00,14:00-18:00``; ``24小时`` alone is 24-hour opening; ``周日 休息``
    closes a day. A day named twice takes the later clause.
    """
    if text is None:
        return NOT_SET
    if not isinstance(text, str):
        raise _invalid(_("Opening hours must be text such as 周一至周五 08:00-20:00."))
    # Full-width digits and punctuation (０８：００－２０：００，；～) as typed on a phone.
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return NOT_SET
    if _ALWAYS_WORDS.match(text):
        return ALWAYS
    week: list[tuple[Interval, ...]] = [()] * 7
    for clause in re.split(r"[;；\n]+", text):
        clause = clause.strip()
        if clause:
            _read_clause(clause, week)
    return Hours(known=True, week=tuple(week))


def _read_clause(clause: str, week: list[tuple[Interval, ...]]) -> None:
    """One clause: day spec, periods, and maybe more day specs and periods after them
    (``周一至周五 08:00-20:00，周六 09:00-12:00``); ``周日 休息`` closes days."""
    found = list(_TIME_RANGE.finditer(clause))
    if not found:
        closed = _CLOSED_WORDS.search(clause)
        if closed is not None:
            for day in _days(clause[: closed.start()]):
                week[day - 1] = ()
            return
        whole = _WHOLE_DAY.search(clause)
        if whole is not None:
            for day in _days(clause[: whole.start()]):
                week[day - 1] = ((0, DAY),)
            return
        raise _invalid(
            _("No opening period in %(value)s: write it as 周一至周五 08:00-20:00.")
            % {"value": clause[:40]}
        )
    groups: list[tuple[str, list[Interval]]] = [(clause[: found[0].start()], [])]
    for previous, match in zip([None, *found], found, strict=False):
        between = clause[previous.end() : match.start()] if previous is not None else ""
        if not _BETWEEN.match(between):
            groups.append((between, []))  # text between two periods names the next days
        groups[-1][1].append((_minutes(match[1]), _minutes(match[2], end=True)))
    for spec, spans in groups:
        checked = _check_day(spans)
        for day in _days(spec):
            week[day - 1] = checked
    tail = clause[found[-1].end() :]
    if not _BETWEEN.match(tail):
        tail = tail.strip().lstrip(",，、")
        if _TIME_RANGE.search(tail) is None and _CLOSED_WORDS.search(tail) is None:
            raise _invalid(
                _("Could not read %(value)s in the opening hours.") % {"value": tail[:20]}
            )
        _read_clause(tail, week)


def _zh_group(days: list[int]) -> str:
    if len(days) == 7:
        return "每天"
    if len(days) >= 3:
        return f"{_ZH_DAYS[days[0]]}至{_ZH_DAYS[days[-1]]}"
    return "、".join(_ZH_DAYS[d] for d in days)


def _spans_text(spans: tuple[Interval, ...]) -> str:
    return ",".join(f"{_hhmm(s)}-{_hhmm(e, end=True)}" for s, e in spans)


def format_text(hours: Hours) -> str:
    """The text form of the weekly part (the inverse of :func:`parse_text`)."""
    if not hours.known:
        return ""
    if hours.always:
        return "24小时"
    groups: list[tuple[list[int], tuple[Interval, ...]]] = []
    for day, spans in enumerate(hours.week):
        if not spans:
            continue
        if groups and groups[-1][1] == spans and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))
    if not groups:
        return "周一至周日 休息"
    return "；".join(f"{_zh_group(days)} {_spans_text(spans)}" for days, spans in groups)


def format_exceptions(hours: Hours) -> str:
    """Dated exceptions as text: ``2026-10-01 休息；2026-10-02 10:00-16:00``."""
    return "；".join(
        f"{d.isoformat()} {_spans_text(spans) if spans else '休息'}"
        for d, spans in sorted(hours.exceptions.items())
    )


def parse_exceptions_text(hours: Hours, text: Any) -> Hours:
    """Add the dated exceptions written as :func:`format_exceptions` does to ``hours``."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return hours
    if not isinstance(text, str):
        raise _invalid(_("Exceptions must be text such as 2026-10-01 休息."))
    for clause in re.split(r"[;\n]+", unicodedata.normalize("NFKC", text)):
        clause = clause.strip()
        if not clause:
            continue
        split = re.match(r"^(\S+?)(?:\s+|:\s*)(.*)$", clause)  # 2026-10-01 休息, 2026-10-01：休息
        head, rest = split.groups() if split else (clause, "")
        day = parse_date(head)
        if not rest.strip():
            raise _invalid(_("Write an exception as 2026-10-01 休息 or 2026-10-02 10:00-16:00."))
        hours = hours.with_exception(day, parse_periods(rest))
    return hours


def parse_periods(value: Any) -> tuple[Interval, ...]:
    """One day's periods, as text (``08:00-12:00,14:00-18:00``; ``休息``: closed; ``24小时``:
    the whole day) or as JSON (``[["08:00", "12:00"]]``, or ``["08:00-12:00"]``)."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str):
        return _spans(list(value) if isinstance(value, tuple) else value)
    text = unicodedata.normalize("NFKC", value).strip()
    if _CLOSED_WORDS.fullmatch(text):
        return ()
    if _ALWAYS_WORDS.fullmatch(text) or _WHOLE_DAY.fullmatch(text):
        return ((0, DAY),)
    found = list(_TIME_RANGE.finditer(text))
    if not found or not _BETWEEN.match(_TIME_RANGE.sub(" ", text)):
        raise _invalid(_("Write the periods as 08:00-12:00,14:00-18:00 (or 休息 for closed)."))
    return _check_day([(_minutes(m[1]), _minutes(m[2], end=True)) for m in found])


def week_table(hours: Hours) -> list[tuple[str, str]]:
    """(day label, periods) for each day, Monday first, in the current language."""
    if hours.always:
        return [(str(label), _("24 hours")) for label in WEEKDAY_LABELS]
    return [
        (str(label), _spans_text(spans).replace(",", ", ") if spans else _("Closed"))
        for label, spans in zip(WEEKDAY_LABELS, hours.week, strict=True)
    ]


# --- open or closed ----------------------------------------------------------------------------


def is_open(hours: Hours, at: datetime) -> bool:
    """Whether the place is open at ``at`` (today's and yesterday's periods only)."""
    if not hours.known:
        return False
    local = at.astimezone(TZ)
    today = local.date()
    minute = local.hour * 60 + local.minute + local.second / 60
    for start, end in hours.intervals_on(today):
        if start <= minute < (end if end > start else DAY):
            return True
    for start, end in hours.intervals_on(today - timedelta(days=1)):
        if end < start and minute < end:
            return True
    return False


@dataclass(frozen=True)
class OpenStatus:
    """Open now or not, and when that changes (``None``: not within the next week)."""

    is_open: bool
    changes_at: datetime | None
    known: bool = True


def status_at(hours: Hours, at: datetime) -> OpenStatus:
    if not hours.known:
        return OpenStatus(False, None, known=False)
    local = at.astimezone(TZ)
    today = local.date()
    midnight = datetime.combine(today, time(0), tzinfo=TZ)
    now = (local - midnight).total_seconds() / 60
    spans: list[list[float]] = []
    for offset in range(-1, HORIZON_DAYS + 1):
        base = offset * DAY
        for start, end in hours.intervals_on(today + timedelta(days=offset)):
            stop = end if end > start else end + DAY
            spans.append([base + start, base + stop])
    spans.sort()
    merged: list[list[float]] = []
    for span in spans:
        if merged and span[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span[1])
        else:
            merged.append(span)
    horizon = (HORIZON_DAYS + 1) * DAY
    for start, end in merged:
        if start <= now < end:
            closes = None if end >= horizon else midnight + timedelta(minutes=end)
            return OpenStatus(True, closes)
        if start > now:
            return OpenStatus(False, midnight + timedelta(minutes=start))
    return OpenStatus(False, None)
