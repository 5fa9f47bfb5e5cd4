"""Opening hours: the text and JSON forms, "open now?" and "when does that change?".

Pure functions, no database. Times are local (Asia/Shanghai, no daylight saving since 1991).
2026-09-28 is a Monday.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from yizhan.core.errors import ApplicationError
from yizhan.stations import hours as h
from yizhan.stations.hours import ALWAYS, DAY, HORIZON_DAYS, NOT_SET, Hours

TZ = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def at(day: int, hh: int, mm: int = 0, ss: int = 0, *, month: int = 9) -> datetime:
    """A local instant in 2026 (September by default; the 28th is a Monday)."""
    return datetime(2026, month, day, hh, mm, ss, tzinfo=TZ)


def week(**days: list[tuple[int, int]]) -> Hours:
    """Hours(known) from mon=[(480, 1200)] … sun=[…]."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return Hours(known=True, week=tuple(tuple(days.get(n, ())) for n in names))


# --- the text form --------------------------------------------------------------------------------


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每天 07:00-22:00", {d: [(420, 1320)] for d in EVERY_DAY}),
        ("07:00-22:00", {d: [(420, 1320)] for d in EVERY_DAY}),
        ("工作日 08:00-12:00,14:00-18:00", {d: [(480, 720), (840, 1080)] for d in WEEKDAYS}),
        ("1-5 08:00-12:00，14:00-18:00", {d: [(480, 720), (840, 1080)] for d in WEEKDAYS}),
        ("Mon-Fri 08:00-20:00", {d: [(480, 1200)] for d in WEEKDAYS}),
        ("周六、周日 09:00-18:00", {"sat": [(540, 1080)], "sun": [(540, 1080)]}),
        ("周末 09:00~18:00", {"sat": [(540, 1080)], "sun": [(540, 1080)]}),
        ("周六至周一 10:00-16:00", {d: [(600, 960)] for d in ["sat", "sun", "mon"]}),
        ("星期三 10:00至16:00", {"wed": [(600, 960)]}),
        ("周一 22:00-次日02:00", {"mon": [(1320, 120)]}),
        ("周一 20:00-24:00", {"mon": [(1200, DAY)]}),
        ("周一 00:00-24:00", {"mon": [(0, DAY)]}),
        # Chinese full-width punctuation, as typed on a phone.
        ("周一至周五：08：00－20：00", {d: [(480, 1200)] for d in WEEKDAYS}),
        (
            "周一至周五 08:00～20:00；周六 09:00—12:00",
            {**{d: [(480, 1200)] for d in WEEKDAYS}, "sat": [(540, 720)]},
        ),
        ("０８：００-２０：００", {d: [(480, 1200)] for d in EVERY_DAY}),
        # A day named twice: the later clause wins.
        ("周一至周五 08:00-20:00；周三 休息", {d: [(480, 1200)] for d in WEEKDAYS if d != "wed"}),
        (
            "每天 08:00-20:00；周三 10:00-12:00",
            {**{d: [(480, 1200)] for d in EVERY_DAY}, "wed": [(600, 720)]},
        ),
        ("每天 08:00-20:00\n周日 不营业", {d: [(480, 1200)] for d in EVERY_DAY if d != "sun"}),
        # Several day groups in one clause, separated by a comma or a space.
        (
            "周一至周五 08:00-20:00，周六、周日 09:00-17:00",
            {**{d: [(480, 1200)] for d in WEEKDAYS}, "sat": [(540, 1020)], "sun": [(540, 1020)]},
        ),
        ("周一至五 08:00-20:00", {d: [(480, 1200)] for d in WEEKDAYS}),
        ("周六日 09:00-17:00", {"sat": [(540, 1020)], "sun": [(540, 1020)]}),
        ("周一至周五 24小时；周日 休息", {d: [(0, DAY)] for d in WEEKDAYS}),
        ("周一至周日 休息", {}),
        ("，08:00-20:00", {d: [(480, 1200)] for d in EVERY_DAY}),
        ("周一三五 08:00-12:00", {d: [(480, 720)] for d in ["mon", "wed", "fri"]}),
        ("周一至周五 08:00-12:00 和 14:00-18:00", {d: [(480, 720), (840, 1080)] for d in WEEKDAYS}),
        (
            "周一至周五 08:00-20:00 周六 09:00-12:00",
            {**{d: [(480, 1200)] for d in WEEKDAYS}, "sat": [(540, 720)]},
        ),
        ("周一至周五 08:00-20:00，周日休息", {d: [(480, 1200)] for d in WEEKDAYS}),
        ("8:00 to 20:00", {d: [(480, 1200)] for d in EVERY_DAY}),
        ("周一 8:00 至 20:00", {"mon": [(480, 1200)]}),
    ],
)
def test_text_forms(text, expected):
    assert h.parse_text(text) == week(**expected)


@pytest.mark.parametrize("text", ["24小时", "24 小时", "全天", "24/7", "always", "24 hours"])
def test_twenty_four_hours(text):
    assert h.parse_text(text) == ALWAYS
    assert h.format_text(ALWAYS) == "24小时"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_text_is_not_published(text):
    assert h.parse_text(text) == NOT_SET
    assert h.format_text(NOT_SET) == ""


@pytest.mark.parametrize(
    "text",
    [
        "周一至周五 08:00-20:00",
        "周一至周五 08:00-20:00；周六、周日 09:00-18:00",
        "每天 07:00-22:00",
        "周一 22:00-02:00",
        "周一至周三 08:00-12:00,14:00-18:00；周五 00:00-24:00；周日 20:00-24:00",
        "周二、周三 09:00-11:00；周五 09:00-11:00；周六 22:00-00:00",
        "24小时",
        "周一至周日 休息",
    ],
)
def test_canonical_text_round_trips_exactly(text):
    assert h.format_text(h.parse_text(text)) == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("周一至周五 8:00-20:00", "周一至周五 08:00-20:00"),
        ("工作日 8:00～20:00；周末 9：00-18：00", "周一至周五 08:00-20:00；周六、周日 09:00-18:00"),
        ("1-7 07:00-22:00", "每天 07:00-22:00"),
        ("周一、周二、周三 10:00-11:00", "周一至周三 10:00-11:00"),
    ],
)
def test_free_text_formats_to_a_stable_canonical_form(text, canonical):
    first = h.format_text(h.parse_text(text))
    assert first == canonical
    assert h.format_text(h.parse_text(first)) == first


# --- random weekly schedules ----------------------------------------------------------------------


@st.composite
def day_spans(draw) -> tuple[tuple[int, int], ...]:
    """0–4 sorted, disjoint periods of one day; the last may run past midnight."""
    n = draw(st.integers(0, h.MAX_INTERVALS_PER_DAY))
    if n == 0:
        return ()
    points = sorted(draw(st.sets(st.integers(0, DAY), min_size=2 * n, max_size=2 * n)))
    spans = [(points[2 * i], points[2 * i + 1]) for i in range(n)]
    if draw(st.booleans()):
        start, _end = spans[-1]
        if start < DAY:
            spans[-1] = (start, draw(st.integers(0, start - 1)) if start > 0 else 0)
            assume(spans[-1][0] != spans[-1][1])
    return tuple(spans)


@st.composite
def schedules(draw, *, exceptions: bool = False) -> Hours:
    if draw(st.integers(0, 9)) == 0:
        base = ALWAYS
    else:
        base = Hours(known=True, week=tuple(draw(day_spans()) for _ in range(7)))
    if exceptions:
        for day in draw(st.sets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=5)):
            base = base.with_exception(day, draw(day_spans()))
    return base


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(TZ)
)


@settings(max_examples=300, deadline=None)
@given(schedules())
def test_text_round_trip_for_random_weeks(hours):
    text = h.format_text(hours)
    assert h.parse_text(text) == hours
    assert h.format_text(h.parse_text(text)) == text


@settings(max_examples=300, deadline=None)
@given(schedules(exceptions=True))
def test_json_round_trip_for_random_schedules(hours):
    data = hours.to_json()
    assert h.parse_json(data) == hours
    assert h.from_column(data) == hours


@settings(max_examples=500, deadline=None)
@given(schedules(exceptions=True), instants)
def test_is_open_agrees_with_status_at(hours, when):
    status = h.status_at(hours, when)
    assert status.is_open == h.is_open(hours, when)
    assert status.known
    if status.changes_at is not None:
        # It changes exactly then, not before.
        assert status.changes_at > when
        assert h.is_open(hours, status.changes_at) != status.is_open
        assert h.is_open(hours, status.changes_at - timedelta(seconds=1)) == status.is_open
        middle = when + (status.changes_at - when) / 2
        assert h.is_open(hours, middle) == status.is_open


@settings(max_examples=200, deadline=None)
@given(schedules(exceptions=True), instants)
def test_status_is_the_same_in_any_time_zone(hours, when):
    assert h.status_at(hours, when.astimezone(UTC)) == h.status_at(hours, when)
    assert h.is_open(hours, when.astimezone(UTC)) == h.is_open(hours, when)


# --- exact expectations ---------------------------------------------------------------------------


def test_weekday_hours_open_and_close_on_the_minute():
    hours = h.parse_text("周一至周五 8:00-20:00")
    assert not h.is_open(hours, at(28, 7, 59, 59))  # Monday
    assert h.is_open(hours, at(28, 8, 0))
    assert h.is_open(hours, at(28, 19, 59, 59))
    assert not h.is_open(hours, at(28, 20, 0))
    assert not h.is_open(hours, at(27, 12))  # Sunday
    assert h.status_at(hours, at(28, 12)) == h.OpenStatus(True, at(28, 20))
    # Friday evening: next opening is Monday morning.
    assert h.status_at(hours, datetime(2026, 10, 2, 21, tzinfo=TZ)) == h.OpenStatus(
        False, datetime(2026, 10, 5, 8, tzinfo=TZ)
    )


def test_an_overnight_period_is_open_after_midnight_the_next_day():
    hours = h.parse_text("周一 22:00-02:00")
    assert not h.is_open(hours, at(28, 21, 59))
    assert h.is_open(hours, at(28, 23))
    assert h.is_open(hours, at(29, 1))  # Tuesday 01:00, from Monday's period
    assert h.is_open(hours, at(29, 1, 59, 59))
    assert not h.is_open(hours, at(29, 2))
    assert not h.is_open(hours, at(29, 22, 30))  # Tuesday has no period of its own
    assert h.status_at(hours, at(28, 23)) == h.OpenStatus(True, at(29, 2))
    assert h.status_at(hours, at(29, 1)) == h.OpenStatus(True, at(29, 2))
    assert h.status_at(hours, at(29, 3)) == h.OpenStatus(
        False, datetime(2026, 10, 5, 22, tzinfo=TZ)
    )


def test_twenty_four_hundred_ends_the_day_and_joins_the_next_morning():
    hours = h.parse_text("周一 20:00-24:00；周二 00:00-02:00")
    assert h.is_open(hours, at(28, 23, 59, 59))
    assert h.is_open(hours, at(29, 0, 0))
    assert not h.is_open(hours, at(29, 2))
    # One stretch: it closes on Tuesday at 02:00, not at midnight.
    assert h.status_at(hours, at(28, 21)) == h.OpenStatus(True, at(29, 2))
    alone = h.parse_text("周一 20:00-24:00")
    assert not h.is_open(alone, at(29, 0, 0))
    assert h.status_at(alone, at(28, 21)) == h.OpenStatus(True, at(29, 0))


def test_a_holiday_closed_and_special_hours():
    hours = h.parse_text("每天 08:00-20:00")
    hours = hours.with_exception(date(2026, 10, 1), ())
    hours = hours.with_exception(date(2026, 10, 2), ((600, 960),))
    assert h.is_open(hours, datetime(2026, 9, 30, 10, tzinfo=TZ))
    assert not h.is_open(hours, datetime(2026, 10, 1, 10, tzinfo=TZ))
    assert not h.is_open(hours, datetime(2026, 10, 2, 9, tzinfo=TZ))
    assert h.is_open(hours, datetime(2026, 10, 2, 11, tzinfo=TZ))
    assert not h.is_open(hours, datetime(2026, 10, 2, 17, tzinfo=TZ))
    assert h.is_open(hours, datetime(2026, 10, 3, 19, tzinfo=TZ))
    # From the evening before the holiday, the next opening skips it.
    assert h.status_at(hours, datetime(2026, 9, 30, 21, tzinfo=TZ)) == h.OpenStatus(
        False, datetime(2026, 10, 2, 10, tzinfo=TZ)
    )
    assert h.status_at(hours, datetime(2026, 10, 2, 11, tzinfo=TZ)) == h.OpenStatus(
        True, datetime(2026, 10, 2, 16, tzinfo=TZ)
    )
    assert h.format_exceptions(hours) == "2026-10-01 休息；2026-10-02 10:00-16:00"
    assert h.parse_json(hours.to_json()) == hours
    assert hours.to_json() == {
        "week": {str(d): [["08:00", "20:00"]] for d in range(1, 8)},
        "except": {"2026-10-01": [], "2026-10-02": [["10:00", "16:00"]]},
    }


def test_the_night_before_a_closed_holiday_still_spills_into_it():
    hours = h.parse_text("每天 22:00-02:00").with_exception(date(2026, 10, 1), ())
    assert h.is_open(hours, datetime(2026, 10, 1, 1, tzinfo=TZ))  # Sept 30's night
    assert not h.is_open(hours, datetime(2026, 10, 1, 23, tzinfo=TZ))
    assert h.status_at(hours, datetime(2026, 10, 1, 1, tzinfo=TZ)) == h.OpenStatus(
        True, datetime(2026, 10, 1, 2, tzinfo=TZ)
    )
    assert h.status_at(hours, datetime(2026, 10, 1, 3, tzinfo=TZ)) == h.OpenStatus(
        False, datetime(2026, 10, 2, 22, tzinfo=TZ)
    )


def test_exception_text_round_trip():
    hours = h.parse_exceptions_text(ALWAYS, "2026-10-01 休息；2026-10-02 10:00-16:00")
    assert hours.exceptions == {date(2026, 10, 1): (), date(2026, 10, 2): ((600, 960),)}
    assert h.format_exceptions(hours) == "2026-10-01 休息；2026-10-02 10:00-16:00"
    assert h.parse_exceptions_text(ALWAYS, h.format_exceptions(hours)) == hours
    assert h.parse_exceptions_text(hours, "") == hours


def test_the_horizon_of_the_next_change():
    now = at(28, 12)
    assert h.status_at(ALWAYS, now) == h.OpenStatus(True, None)
    closed_week = week()
    assert h.status_at(closed_week, now) == h.OpenStatus(False, None)
    inside = closed_week.with_exception(date(2026, 10, 5), ((600, 720),))
    assert h.status_at(inside, now) == h.OpenStatus(False, datetime(2026, 10, 5, 10, tzinfo=TZ))
    last_day = (now + timedelta(days=HORIZON_DAYS)).date()
    edge = closed_week.with_exception(last_day, ((600, 720),))
    assert h.status_at(edge, now).changes_at == datetime.combine(
        last_day, datetime.min.time(), tzinfo=TZ
    ) + timedelta(hours=10)
    beyond = closed_week.with_exception(last_day + timedelta(days=1), ((600, 720),))
    assert h.status_at(beyond, now) == h.OpenStatus(False, None)
    # 24 hours with a holiday closed further away than the horizon: open, no known change.
    far = ALWAYS.with_exception((now + timedelta(days=HORIZON_DAYS + 2)).date(), ())
    assert h.status_at(far, now) == h.OpenStatus(True, None)
    near = ALWAYS.with_exception(date(2026, 10, 1), ())
    assert h.status_at(near, now) == h.OpenStatus(True, datetime(2026, 10, 1, tzinfo=TZ))


def test_hours_not_published_are_never_open():
    assert not h.is_open(NOT_SET, at(28, 12))
    assert h.status_at(NOT_SET, at(28, 12)) == h.OpenStatus(False, None, known=False)
    assert NOT_SET.to_json() == {}
    assert h.parse_json({}) == NOT_SET and h.parse_json(None) == NOT_SET


def test_week_table():
    rows = h.week_table(h.parse_text("周一至周五 08:00-12:00,14:00-18:00"))
    # In the site's default language (简体中文).
    assert [label for label, _periods in rows] == ["周" + d for d in "一二三四五六日"]
    assert [periods for _label, periods in rows] == ["08:00-12:00, 14:00-18:00"] * 5 + [
        "已关闭",
        "已关闭",
    ]
    assert [periods for _label, periods in h.week_table(ALWAYS)] == ["24 小时"] * 7


def test_json_forms():
    assert h.parse_json({"always": True}) == ALWAYS
    listed = h.parse_json({"week": [[["08:00", "20:00"]], [], [], [], [], [], []]})
    assert listed == week(mon=[(480, 1200)])
    assert h.parse_json({"week": {1: [["08:00", "20:00"]]}}) == week(mon=[(480, 1200)])
    assert h.parse_json({"week": {}}) == week()


def test_exceptions_are_capped():
    hours = ALWAYS
    for i in range(h.MAX_EXCEPTIONS):
        hours = hours.with_exception(date(2026, 1, 1) + timedelta(days=i), ())
    with pytest.raises(ApplicationError) as caught:
        hours.with_exception(date(2027, 1, 1), ())
    assert caught.value.code == "invalid_hours"
    assert len(hours.without_exceptions_before(date(2026, 2, 1)).exceptions) == 60 - 31


# --- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "周八 08:00-20:00",
        "周一 25:00-26:00",
        "周一 08:60-09:00",
        "周一 24:00-02:00",
        "周一 08:00-08:00",
        "周一 08:00-12:00,11:00-13:00",
        "周一 22:00-02:00,23:00-23:30",
        "周一 08:00-09:00,10:00-11:00,12:00-13:00,14:00-15:00,16:00-17:00",
        "周一 营业",
        "hello",
        "周一 08:00-20:00 xyz",
        "08:00-20:00 周一",
        "周一 120:00-13:00",
        "周一至 08:00-20:00",
        "周一至周三至周五 08:00-20:00",
        "8点-20点",
        "和 08:00-20:00",
    ],
)
def test_malformed_text_is_a_clear_invalid_hours(text):
    with pytest.raises(ApplicationError) as caught:
        h.parse_text(text)
    assert caught.value.code == "invalid_hours"
    assert caught.value.status == 400
    assert str(caught.value.message).strip()


@pytest.mark.parametrize("value", [123, ["周一 08:00-20:00"], {"week": {}}])
def test_text_that_is_not_text(value):
    with pytest.raises(ApplicationError) as caught:
        h.parse_text(value)
    assert caught.value.code == "invalid_hours"


@pytest.mark.parametrize(
    "data",
    [
        [],
        "周一 08:00-20:00",
        {"week": "x"},
        {"week": {"8": []}},
        {"week": {"0": []}},
        {"week": {True: []}},
        {"always": "yes"},
        {"always": True, "week": {"1": [["08:00", "20:00"]]}},
        {"foo": 1},
        {"except": {"2026-10-01": []}},
        {"week": {"1": [["08:00"]]}},
        {"week": {"1": "08:00-20:00"}},
        {"week": {"1": [[8, 20]]}},
        {"week": {"1": [["08:00", "24:01"]]}},
        {"week": [[]] * 6},
        {"week": {}, "except": []},
        {"week": {}, "except": {"2026-13-01": []}},
        {"week": {}, "except": {"someday": []}},
        {
            "week": {},
            "except": {f"2026-01-{d:02d}": [] for d in range(1, 32)}
            | {f"2026-02-{d:02d}": [] for d in range(1, 29)}
            | {f"2026-03-{d:02d}": [] for d in range(1, 3)},
        },
    ],
)
def test_malformed_json_is_a_clear_invalid_hours(data):
    with pytest.raises(ApplicationError) as caught:
        h.parse_json(data)
    assert caught.value.code == "invalid_hours"
    assert caught.value.status == 400
    assert str(caught.value.message).strip()
    # The stored column never raises: bad old data reads as "not published".
    assert h.from_column(data) == NOT_SET


@pytest.mark.parametrize(
    "text",
    ["2026-10-01", "2026-10-01 xyz", "someday 休息", "2026-10-01 08:00-09:00,08:30-10:00", 5],
)
def test_malformed_exception_text(text):
    with pytest.raises(ApplicationError) as caught:
        h.parse_exceptions_text(ALWAYS, text)
    assert caught.value.code == "invalid_hours"


@pytest.mark.parametrize("value", ["2026-10-1", "2026/10/01", "2026年10月1日", date(2026, 10, 1)])
def test_dates_in_common_forms(value):
    assert h.parse_date(value) == date(2026, 10, 1)


@pytest.mark.parametrize("value", ["2026-02-30", "tomorrow", "", None])
def test_bad_dates(value):
    with pytest.raises(ApplicationError) as caught:
        h.parse_date(value)
    assert caught.value.code == "invalid_hours"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("08:00-12:00,14:00-18:00", ((480, 720), (840, 1080))),
        ("08：00－12：00，14：00－18：00", ((480, 720), (840, 1080))),
        ([["14:00", "18:00"], ["08:00", "12:00"]], ((480, 720), (840, 1080))),
        (["08:00-12:00", "14:00-18:00"], ((480, 720), (840, 1080))),
        ((("08:00", "12:00"),), ((480, 720),)),
        ("22:00-次日02:00", ((1320, 120),)),
        ("休息", ()),
        ([], ()),
        ("24小时", ((0, DAY),)),
    ],
)
def test_one_days_periods(value, expected):
    assert h.parse_periods(value) == expected


@pytest.mark.parametrize(
    "value", ["", "周一 08:00-12:00", "08:00-12:00 xyz", "08:00-12:00,11:00-13:00", None, 5, {}]
)
def test_bad_periods(value):
    with pytest.raises(ApplicationError) as caught:
        h.parse_periods(value)
    assert caught.value.code == "invalid_hours"


def test_exception_text_in_other_spellings():
    hours = h.parse_exceptions_text(
        ALWAYS, "2026-10-1：休息；2026/10/02 10：00－16：00\n2026年10月3日 24小时"
    )
    assert hours.exceptions == {
        date(2026, 10, 1): (),
        date(2026, 10, 2): ((600, 960),),
        date(2026, 10, 3): ((0, DAY),),
    }
