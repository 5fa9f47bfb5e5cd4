"""Computing rollup rows from the facts, and storing them.

The unit of work is a *subtree*: :func:`compute` reads the facts beneath an area code (one
GROUP BY per fact source through the ``area_code`` index, never the whole table unless asked
to) and returns every rollup row of that area and of every node beneath it; :func:`store`
replaces those rows. An ancestor of a recomputed subtree is then re-derived from its
children's stored rows plus the facts that carry the ancestor's own code
(:func:`rederive`), so a change in one community touches only that community's facts.

Definitions (docs/dashboards.md has the table):

* day buckets are local days (Asia/Shanghai), month buckets local calendar months;
* a report counts as *submitted* on ``created_at``, *closed* on ``closed_at`` (status closed
  now), *on time* when ``closed_at <= deadline_at``; breakdowns count the reports submitted in
  the month by their status and category now;
* points: *issued* = award postings − reversals of awards, *redeemed* = settle postings (points
  spent on rewards picked up), *net* = the change of members' balances (award, release and
  reversed expiry in; hold, expiry and reversed award out);
* coverage: a community (or grid) is covered when at least one open station or caring corner
  lies in it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Floor, Substr, TruncDate, TruncMonth
from django.utils import timezone

from yizhan.areas.models import Area
from yizhan.dashboards.models import (
    TOTAL_FIELDS,
    CurrentCount,
    DayTotals,
    MonthBreakdown,
    MonthHeat,
    MonthTotals,
)

CODE_LENGTHS = (6, 9, 12, 15)
LEVEL_OF = {6: "district", 9: "street", 12: "community", 15: "grid"}
#: Heat cells are HEAT_STEP degrees on a side (≈ 250 m north–south in Datong).
HEAT_STEP = 0.0025
INDEX = {name: i for i, name in enumerate(TOTAL_FIELDS)}
BATCH = 5000


def level_of(code: str) -> str:
    return LEVEL_OF.get(len(code), "")


def parent_of(code: str) -> str:
    return code[:-3] if len(code) > 6 else ""


def prefixes(code: str, min_len: int = 0) -> list[str]:
    """The codes of the node ``code`` and its ancestors, down to ``min_len`` characters."""
    return [code[:n] for n in CODE_LENGTHS if min_len <= n <= len(code)]


def code_range(field_name: str, root: str) -> Q:
    """``field`` lies beneath ``root`` (or is it): a range on the index, portable.

    ``LIKE 'x%'`` does not use an index on SQLite (Django adds ``ESCAPE``), so this compares
    with the next code of the same length instead: for digit strings every code starting with
    ``root`` sorts in ``[root, next)`` under any collation.
    """
    if not root:
        return Q()
    if root.isdigit() and set(root) != {"9"}:
        upper = str(int(root) + 1).zfill(len(root))
        return Q(**{f"{field_name}__gte": root, f"{field_name}__lt": upper})
    return Q(**{f"{field_name}__startswith": root})


def scope(field_name: str, root: str, exact: bool) -> Q:
    if exact:
        return Q(**{field_name: root})
    return code_range(field_name, root) & ~Q(**{field_name: ""})


@dataclass
class Result:
    """Rollup rows of a set of nodes, keyed as the tables' unique constraints."""

    days: dict[tuple[str, dt.date], list[int]] = field(default_factory=dict)
    breakdowns: dict[tuple[str, dt.date, str, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    current: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    heat: dict[tuple[str, dt.date, int, int], int] = field(default_factory=lambda: defaultdict(int))

    def add_day(self, node: str, day: dt.date, name: str, amount: int) -> None:
        if not amount:
            return
        row = self.days.get((node, day))
        if row is None:
            row = self.days[(node, day)] = [0] * len(TOTAL_FIELDS)
        row[INDEX[name]] += int(amount)

    def months(self) -> dict[tuple[str, dt.date], list[int]]:
        out: dict[tuple[str, dt.date], list[int]] = {}
        for (node, day), values in self.days.items():
            key = (node, day.replace(day=1))
            row = out.get(key)
            if row is None:
                out[key] = list(values)
            else:
                for i, v in enumerate(values):
                    row[i] += v
        return out


def _fixed_offset() -> int | None:
    """The current time zone's UTC offset in seconds when it has had no change since 2000
    (Asia/Shanghai: +8 h since 1991), else None."""
    tz = timezone.get_current_timezone()
    probes = [dt.datetime(year, month, 15, tzinfo=dt.UTC) for year in (2000, 2013, 2026)
              for month in (1, 7)]  # fmt: skip
    offsets = {p.astimezone(tz).utcoffset() for p in probes}
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


class _ShiftedDate(Func):
    """SQLite: ``date(col, '+N seconds')`` (or the month's first day), done by SQLite itself.
    Django's ``TruncDate`` calls a Python function per row there (≈ 100 µs a row on a busy
    machine: minutes for a rebuild of millions)."""

    output_field = DateField()

    def __init__(self, expression, *, seconds: int, month: bool) -> None:
        self.seconds, self.month = seconds, month
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        inner, params = compiler.compile(self.source_expressions[0])
        fmt = "%Y-%m-01" if self.month else "%Y-%m-%d"
        # Both as parameters: a literal % in the SQL breaks Django's debug query logging.
        return (
            f"strftime(%s, {inner}, %s)",
            [fmt, *params, f"{self.seconds:+d} seconds"],
        )


def local_day(field_name: str, *, month: bool = False):
    """The local day (or month) of a datetime column, computed by the database."""
    from django.db import connection

    offset = _fixed_offset()
    if connection.vendor == "sqlite" and offset is not None:
        return _ShiftedDate(F(field_name), seconds=offset, month=month)
    if month:
        return TruncMonth(field_name, output_field=DateField())
    return TruncDate(field_name)


def _seconds(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    return int(value) // 1_000_000  # microseconds, as some backends return a duration sum


def _day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def compute(root: str, *, exact: bool = False) -> Result:
    """Every rollup row for ``root`` and its descendants from the facts beneath it.

    With ``exact``, only the facts whose own area code *is* ``root`` count, and only ``root``'s
    rows come out (an ancestor's own contribution, see :func:`rederive`). ``root=''`` means
    everything (used by tests; the rebuild goes district by district to bound memory).
    """
    from yizhan.appeals.models import Appeal
    from yizhan.events.models import Event, Signup
    from yizhan.honours.choices import NominationStatus
    from yizhan.honours.models import Nomination
    from yizhan.people.choices import ClaimStatus, RegistrationStatus
    from yizhan.people.models import PostClaim, RiderProfile
    from yizhan.points.choices import PostingKind
    from yizhan.points.models import Posting
    from yizhan.reports.choices import ReportStatus
    from yizhan.reports.models import Report
    from yizhan.rewards.choices import RedemptionStatus
    from yizhan.rewards.models import Redemption
    from yizhan.stations.choices import StationStatus
    from yizhan.stations.models import Station, Visit
    from yizhan.wishes.choices import WishStatus
    from yizhan.wishes.models import Wish, WishClaim

    result = Result()
    min_len = len(root)

    def nodes(code: str) -> list[str]:
        if exact:
            return [root] if code == root else []
        return prefixes(code, min_len)

    def day_rows(qs, when: str, values: dict, area: str = "area_code") -> None:
        rows = (
            qs.annotate(_d=local_day(when))
            .values(area, "_d")
            .order_by()
            .annotate(**values)
            .values_list(area, "_d", *values.keys())
        )
        names = list(values.keys())
        for code, day, *amounts in rows:
            targets = nodes(code)
            if not targets or day is None:
                continue
            day = _day(day)
            for name, amount in zip(names, amounts, strict=True):
                amount = _seconds(amount) if name.endswith("_seconds") else (amount or 0)
                for node in targets:
                    result.add_day(node, day, name, amount)

    def month_rows(qs, when: str, dim: str, key_field: str, area: str = "area_code") -> None:
        rows = (
            qs.annotate(_m=local_day(when, month=True))
            .values(area, "_m", key_field)
            .order_by()
            .annotate(_n=Count("pk"))
            .values_list(area, "_m", key_field, "_n")
        )
        for code, month, key, n in rows:
            if month is None:
                continue
            month = _day(month)
            for node in nodes(code):
                result.breakdowns[(node, month, dim, str(key))] += n

    def current_rows(qs, dim: str, key_field: str | None, area: str = "area_code", n=None):
        fields = [area] + ([key_field] if key_field else [])
        rows = (
            qs.values(*fields).order_by().annotate(_n=n or Count("pk")).values_list(*fields, "_n")
        )
        for row in rows:
            code, key, count = (row[0], "", row[1]) if not key_field else row
            for node in nodes(code):
                result.current[(node, dim, str(key))] += count

    # -- reports ------------------------------------------------------------------------------
    reports = Report.objects.filter(scope("area_code", root, exact))
    day_rows(reports, "created_at", {"reports": Count("pk")})
    closed = reports.filter(status=ReportStatus.CLOSED, closed_at__isnull=False)
    day_rows(
        closed,
        "closed_at",
        {
            "reports_closed": Count("pk"),
            "close_seconds": Sum(
                ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
            ),
            "closed_on_time": Count(
                "pk", filter=Q(deadline_at__isnull=False, closed_at__lte=F("deadline_at"))
            ),
            "closed_due": Count("pk", filter=Q(deadline_at__isnull=False)),
        },
    )
    month_rows(reports, "created_at", "reports_by_status", "status")
    month_rows(reports, "created_at", "reports_by_category", "category_id")
    if not exact and len(root) <= 9:
        result.heat = compute_heat(root)

    # -- riders, posts -------------------------------------------------------------------------
    riders = RiderProfile.objects.filter(scope("area_code", root, exact))
    day_rows(riders, "created_at", {"riders_new": Count("pk")})
    current_rows(riders, "riders_by_status", "status")
    verified = riders.filter(status=RegistrationStatus.VERIFIED)
    current_rows(verified, "riders_by_platform", "platform")
    current_rows(verified, "riders_by_occupation", "occupation")
    holding = PostClaim.objects.filter(
        scope("rider__area_code", root, exact), status=ClaimStatus.APPROVED
    )
    current_rows(
        holding, "riders_with_posts", None, area="rider__area_code", n=Count("rider", distinct=True)
    )

    # -- points, rewards ---------------------------------------------------------------------
    postings = Posting.objects.filter(scope("area_code", root, exact))
    award, reversal = PostingKind.AWARD, PostingKind.REVERSAL
    rev_award = Q(kind=reversal, reverses__kind=award)
    rev_expiry = Q(kind=reversal, reverses__kind=PostingKind.EXPIRY)

    def signed(condition: Q, sign: int) -> When:
        return When(condition, then=F("amount") * Value(sign))

    day_rows(
        postings,
        "created_at",
        {
            "points_issued": Sum(
                Case(
                    signed(Q(kind=award), 1),
                    signed(rev_award, -1),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
            "points_redeemed": Sum(
                Case(
                    signed(Q(kind=PostingKind.SETTLE), 1),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
            "points_net": Sum(
                Case(
                    signed(Q(kind=award), 1),
                    signed(Q(kind=PostingKind.RELEASE), 1),
                    signed(rev_expiry, 1),
                    signed(Q(kind=PostingKind.HOLD), -1),
                    signed(Q(kind=PostingKind.EXPIRY), -1),
                    signed(rev_award, -1),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
        },
    )
    exchanged = Redemption.objects.filter(
        scope("area_code", root, exact),
        status=RedemptionStatus.FULFILLED,
        closed_at__isnull=False,
    )
    day_rows(exchanged, "closed_at", {"rewards_exchanged": Count("pk")})

    # -- wishes -------------------------------------------------------------------------------
    wishes = Wish.objects.filter(scope("area_code", root, exact))
    day_rows(wishes, "created_at", {"wishes_posted": Count("pk")})
    day_rows(
        wishes.filter(status=WishStatus.CONFIRMED, confirmed_at__isnull=False),
        "confirmed_at",
        {"wishes_fulfilled": Count("pk")},
    )
    month_rows(wishes, "created_at", "wishes_by_status", "status")
    claims = WishClaim.objects.filter(scope("area_code", root, exact))
    day_rows(claims, "created_at", {"wishes_claimed": Count("pk")})

    # -- appeals -----------------------------------------------------------------------------
    appeals = Appeal.objects.filter(scope("area_code", root, exact))
    day_rows(appeals, "created_at", {"appeals": Count("pk")})
    day_rows(
        appeals.filter(answered_at__isnull=False),
        "answered_at",
        {
            "appeals_answered": Count("pk"),
            "answer_seconds": Sum(
                ExpressionWrapper(F("answered_at") - F("created_at"), output_field=DurationField())
            ),
        },
    )
    month_rows(appeals, "created_at", "appeals_by_difficulty", "difficulty")
    month_rows(appeals, "created_at", "appeals_by_status", "status")

    # -- events ------------------------------------------------------------------------------
    events = Event.objects.filter(scope("area_code", root, exact), cancelled_at__isnull=True)
    day_rows(events, "starts_at", {"events_held": Count("pk")})
    month_rows(events, "starts_at", "events_by_kind", "kind")
    attended = Signup.objects.filter(
        scope("event__area_code", root, exact), checked_in_at__isnull=False
    )
    day_rows(attended, "checked_in_at", {"attendance": Count("pk")}, area="event__area_code")

    # -- stations, visits, coverage --------------------------------------------------------------
    stations = Station.objects.filter(scope("area_code", root, exact))
    current_rows(stations, "stations_by_kind", "kind")
    current_rows(stations, "stations_by_status", "status")
    visits = (
        Visit.objects.filter(scope("area_code", root, exact))
        .values("area_code", "day")
        .order_by()
        .annotate(n=Sum("people"))
        .values_list("area_code", "day", "n")
    )
    for code, day, n in visits:
        for node in nodes(code):
            result.add_day(node, day, "visits", n or 0)

    open_codes = set(
        stations.filter(status=StationStatus.OPEN).values_list("area_code", flat=True).distinct()
    )
    units = Area.objects.filter(scope("code", root, exact), level__in=("community", "grid"))
    for code in units.values_list("code", flat=True):
        covered = any(c.startswith(code) for c in open_codes)
        dim = "coverage_communities" if len(code) == 12 else "coverage_grids"
        for node in nodes(code):
            result.current[(node, dim, "units")] += 1
            result.current[(node, dim, "covered")] += int(covered)

    # -- honours -----------------------------------------------------------------------------
    honours = Nomination.objects.filter(
        scope("area_code", root, exact), status=NominationStatus.APPROVED
    )
    current_rows(honours, "honours_by_title", "title_id")
    return result


def compute_heat(root: str) -> dict[tuple[str, dt.date, int, int], int]:
    """Reports per month and heat cell, keyed by the *street* of the report (or the report's
    own code when it sits above a street): a street-month holds at most the cells covering
    the street, whatever the number of reports; a community's or grid's heat is its street's
    cells within its bounding box (``selectors.report_heat``)."""
    from yizhan.reports.models import Report

    cells = (
        Report.objects.filter(scope("area_code", root, False))
        .annotate(
            _s=Substr("area_code", 1, 9),
            _m=local_day("created_at", month=True),
            _a=Floor(F("lat") / HEAT_STEP),
            _b=Floor(F("lng") / HEAT_STEP),
        )
        .values("_s", "_m", "_a", "_b")
        .order_by()
        .annotate(_n=Count("pk"))
        .values_list("_s", "_m", "_a", "_b", "_n")
    )
    heat: dict = defaultdict(int)
    for code, month, a, b, n in cells:
        heat[(code, _day(month), int(a), int(b))] += n
    return heat


# --------------------------------------------------------------------------------------------
# Storing
# --------------------------------------------------------------------------------------------


def _node(code: str) -> tuple[str, str, str]:
    return (code, level_of(code), parent_of(code))


NODE = ("area_code", "level", "parent_code")


def _bulk(model, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """Insert plain tuples fast: COPY on PostgreSQL, ``executemany`` elsewhere (the ORM's
    ``bulk_create`` spends ~100 µs a row building objects, too slow for millions)."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _delete(root: str, *, exact: bool) -> None:
    where = Q(area_code=root) if exact else code_range("area_code", root)
    for model in (DayTotals, MonthTotals, MonthBreakdown, CurrentCount):
        model.objects.filter(where)._raw_delete(model.objects.db)
    if not exact and len(root) <= 9:
        MonthHeat.objects.filter(where)._raw_delete(MonthHeat.objects.db)


def write(result: Result, *, root: str, exact: bool = False) -> int:
    """Replace the stored rows of ``root`` (and, unless ``exact``, of its whole subtree) with
    ``result``, in one transaction. Returns the number of rows written."""
    with transaction.atomic():
        _delete(root, exact=exact)
        n = _bulk(
            DayTotals,
            (*NODE, "day", *TOTAL_FIELDS),
            ((*_node(c), _iso(d), *v) for (c, d), v in result.days.items()),
        )
        n += _bulk(
            MonthTotals,
            (*NODE, "month", *TOTAL_FIELDS),
            ((*_node(c), _iso(m), *v) for (c, m), v in result.months().items()),
        )
        n += _bulk(
            MonthBreakdown,
            (*NODE, "month", "dim", "key", "value"),
            (
                (*_node(c), _iso(m), dim, key, value)
                for (c, m, dim, key), value in result.breakdowns.items()
                if value
            ),
        )
        n += _bulk(
            CurrentCount,
            (*NODE, "dim", "key", "value"),
            (
                (*_node(c), dim, key, value)
                for (c, dim, key), value in result.current.items()
                if value or dim.startswith("coverage")
            ),
        )
        if not exact and len(root) <= 9:
            n += _bulk(
                MonthHeat,
                ("area_code", "month", "cell_lat", "cell_lng", "value"),
                ((c, _iso(m), a, b, v) for (c, m, a, b), v in result.heat.items()),
            )
    return n


def rederive(code: str) -> int:
    """Recompute the rows of node ``code`` from its children's stored rows plus the facts that
    carry ``code`` itself (e.g. an event organised by the street). Children must be current."""
    own = compute(code, exact=True)
    for row in DayTotals.objects.filter(parent_code=code).values_list("day", *TOTAL_FIELDS):
        day, values = row[0], row[1:]
        for name, value in zip(TOTAL_FIELDS, values, strict=True):
            own.add_day(code, day, name, value)
    for month, dim, key, value in MonthBreakdown.objects.filter(parent_code=code).values_list(
        "month", "dim", "key", "value"
    ):
        own.breakdowns[(code, month, dim, key)] += value
    for dim, key, value in CurrentCount.objects.filter(parent_code=code).values_list(
        "dim", "key", "value"
    ):
        own.current[(code, dim, key)] += value
    written = write(own, root=code, exact=True)
    if len(code) == 9:  # a street keeps the heat of its whole subtree
        heat = compute_heat(code)
        with transaction.atomic():
            MonthHeat.objects.filter(area_code=code)._raw_delete(MonthHeat.objects.db)
            written += _bulk(
                MonthHeat,
                ("area_code", "month", "cell_lat", "cell_lng", "value"),
                ((c, _iso(m), a, b, v) for (c, m, a, b), v in heat.items()),
            )
    return written


def refresh(root: str) -> int:
    """Recompute ``root``'s subtree from the facts (no ancestors)."""
    return write(compute(root), root=root)


def refresh_with_ancestors(roots: Iterable[str]) -> int:
    """Recompute each subtree in ``roots``, then every ancestor of them once, deepest first."""
    roots = sorted(set(roots), key=lambda c: (len(c), c))
    kept: list[str] = []
    for code in roots:  # a root beneath another root is covered by it
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    written = 0
    ancestors: set[str] = set()
    for code in kept:
        written += refresh(code)
        ancestors.update(prefixes(parent_of(code)))
    for code in sorted(ancestors, key=len, reverse=True):
        written += rederive(code)
    return written


def top_codes() -> list[str]:
    """The roots a full rebuild walks: every district (areas without a parent)."""
    codes = set(Area.objects.filter(parent__isnull=True).values_list("code", flat=True))
    return sorted(codes)
