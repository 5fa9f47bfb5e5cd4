"""Dashboards (数据驾驶舱) over 10,000,000 reports, on SQLite and on PostgreSQL, against the naive
GROUP BY over the raw tables.

Run it::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python benchmarks/dashboard.py
    .venv/bin/python benchmarks/dashboard.py --reports 200000      # a quick run

Each database is measured in a child process of its own (Django is set up once per process):
SQLite in ``/tmp/yz_bench_dash.sqlite3`` (removed at the end), PostgreSQL in the throw-away
database ``yz_bench_dash`` on the server DATABASE_URL points at (created, dropped at the end).
Without a PostgreSQL DATABASE_URL the PostgreSQL half is skipped (``pg_p99_ms=n/a``).
``--only sqlite|pg`` runs one half. ``--keep`` keeps the databases, to measure again with
``--skip-load`` (and ``--skip-rebuild`` to keep the rollups as they are).

What it does, per database:

1. **Data**, generated in SQL (``generate_series`` on PostgreSQL, a recursive CTE on SQLite),
   deterministic (no ``random()``), so both databases hold the same rows: 30 districts × 10
   streets × 10 communities = 3,000 communities, one grid each; ``--reports`` reports (default
   10,000,000) over the two years before now, spread evenly over the grids, 12 categories;
   reports older than 30 days are closed (90 %, within 0–5 days, deadline 3 days) or rejected,
   the last 30 days hold every open status (a realistic overdue backlog); one rider per 50
   reports (users and rider profiles, 85 % verified); one posting per 2 reports (awards 70 %,
   holds 15 %, settles 15 %, on the riders' member accounts); 10 stations or caring corners
   per community and one visit per 2 reports. Secondary indexes are dropped during the load
   and rebuilt after it (then ``ANALYZE``).
2. **Rollups** built with the app's own path, ``dashboards.services.rebuild_rollups()``
   (timed, ``rebuild_s``), and the row counts of the rollup tables.
3. **Dashboard queries**: every selector the dashboard page calls — ``dashboard()`` (headline,
   breakdowns, trends, children, overdue first page, top riders, honours), ``map_points()``,
   ``report_heat()``, ``overdue_page(page=2)`` — for a street and a district, for a month and a
   year, ``--runs`` times each after two warm-ups; a *page* is one call of each, timed
   together. p50 / p99 per case; ``p99_ms`` is the worst case's page p99.
4. **Naive**: the same headline and breakdown numbers of the district for the year with GROUP
   BY over the raw tables (reports by status × category with close time and on-time counts,
   points by kind, visits), p50 over a few runs.

The final line is ``RESULT dashboard sqlite_p99_ms=… pg_p99_ms=… naive_pg_ms=… speedup=…``
(``speedup`` = naive_pg_ms / pg_p99_ms: the district-year naive GROUP BY against the worst
dashboard page, both on PostgreSQL). The aim (every page ≤ 100 ms p99 on both databases) is
reported; the script exits 1 only when a child fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = Path("/tmp/yz_bench_dash.sqlite3")
PG_NAME = "yz_bench_dash"
DISTRICTS, STREETS, COMMUNITIES = 30, 10, 10
C = DISTRICTS * STREETS * COMMUNITIES
STATIONS_PER_COMMUNITY = 10
DAYS = 730
AIM_MS = 100.0


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Child: one database
# --------------------------------------------------------------------------------------------


def _setup() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.config.settings.test")
    import django

    django.setup()


def _literal(field, vendor: str) -> str:
    """A SQL literal for a column the generator does not set."""
    from django.db.models import NOT_PROVIDED

    if field.null:
        return "NULL"
    default = field.default
    if default is not NOT_PROVIDED and not callable(default):
        value = default
    elif default is not NOT_PROVIDED:
        value = default()
    else:
        value = None
    kind = field.get_internal_type()
    if kind == "JSONField":
        return "'" + json.dumps(value if value is not None else {}) + "'"
    if kind == "BooleanField":
        truth = bool(value)
        return ("TRUE" if truth else "FALSE") if vendor == "postgresql" else str(int(truth))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int | float):
        return str(value)
    if kind in ("CharField", "TextField", "SlugField"):
        return "''"
    if "Integer" in kind or kind == "FloatField":
        return "0"
    raise ValueError(f"no literal for {field.model.__name__}.{field.name} ({kind})")


def _insert(model, n: int, values: dict[str, str], joins: str, vendor: str) -> None:
    """INSERT n generated rows into ``model``: ``values`` maps column → SQL over ``g.x``
    (1..n) and the joined tables; every other column gets its default."""
    from django.db import connection

    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        cols.append(connection.ops.quote_name(f.column))
        exprs.append(values[f.column] if f.column in values else _literal(f, vendor))
    table = model._meta.db_table
    select = f"SELECT {', '.join(exprs)} FROM g {joins}"
    batch = 2_000_000
    with connection.cursor() as cur:
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            if vendor == "postgresql":
                sql = (
                    f"WITH g AS (SELECT x FROM generate_series({lo + 1}, {hi}) AS x) "
                    f"INSERT INTO {table} ({', '.join(cols)}) {select}"
                )
            else:
                sql = (
                    f"WITH RECURSIVE g(x) AS (SELECT {lo + 1} UNION ALL SELECT x + 1 FROM g "
                    f"WHERE x < {hi}) INSERT INTO {table} ({', '.join(cols)}) {select}"
                )
            cur.execute(sql)
            log(f"  {table}: {hi:,} / {n:,}")


def _secondary_indexes(tables: list[str], vendor: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute(
                "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [tables],
            )
            rows = cur.fetchall()
            for _, name in rows:
                cur.execute(f'DROP INDEX "{name}"')
        else:
            marks = ",".join("?" * len(tables))
            cur.execute(
                f"SELECT sql, name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})",
                tables,
            )
            rows = cur.fetchall()
            for _, name in rows:
                cur.execute(f'DROP INDEX "{name}"')
    return [sql for sql, _ in rows]


def _ts(vendor: str, seconds_expr: str) -> str:
    """A timestamp ``seconds_expr`` seconds before the load moment, in the database's form."""
    if vendor == "postgresql":
        return f"(TIMESTAMPTZ '{NOW}' - ({seconds_expr}) * INTERVAL '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', '{NOW}', '-' || ({seconds_expr}) || ' seconds')"


def _plus(vendor: str, ts: str, seconds_expr: str) -> str:
    if vendor == "postgresql":
        return f"({ts} + ({seconds_expr}) * INTERVAL '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', {ts}, '+' || ({seconds_expr}) || ' seconds')"


NOW = ""


def load(n_reports: int) -> dict:
    global NOW
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from yizhan.areas.models import Area
    from yizhan.people.models import RiderProfile, User
    from yizhan.points.models import Entry, PointsAccount, Posting
    from yizhan.reports.models import Category, Report
    from yizhan.stations.models import Station, Visit

    vendor = connection.vendor
    now = timezone.now().replace(microsecond=0)
    NOW = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") + (
        "+00" if vendor == "postgresql" else ""
    )
    started = time.perf_counter()
    with transaction.atomic():
        areas = []
        for d in range(DISTRICTS):
            dcode = f"{110100 + d:06d}"
            areas.append(Area(level="district", code=dcode, name=f"区{d}"))
        Area.objects.bulk_create(areas)
        by_code = {a.code: a for a in Area.objects.all()}
        streets = [
            Area(level="street", code=f"{d}{s + 1:03d}", name=f"街道{d}-{s}", parent=by_code[d])
            for d in sorted(by_code)
            for s in range(STREETS)
        ]
        Area.objects.bulk_create(streets)
        by_code = {a.code: a for a in Area.objects.filter(level="street")}
        comms = [
            Area(level="community", code=f"{s}{c + 1:03d}", name=f"社区{s}-{c}", parent=by_code[s])
            for s in sorted(by_code)
            for c in range(COMMUNITIES)
        ]
        Area.objects.bulk_create(comms)
        comm_rows = list(Area.objects.filter(level="community").order_by("code"))
        grids = [
            Area(level="grid", code=f"{a.code}001", name=f"网格{a.code}", parent=a)
            for a in comm_rows
        ]
        Area.objects.bulk_create(grids)
        grid_of = {g.parent_id: g for g in Area.objects.filter(level="grid")}
        street0 = Area.objects.filter(level="street").order_by("code").first()
        cats = Category.objects.bulk_create(
            Category(street=street0, area_code=street0.code, code=f"c{i}", name=f"类别{i}",
                     family="other") for i in range(12)
        )  # fmt: skip
        cat0 = min(c.pk for c in cats)
        with connection.cursor() as cur:
            cur.execute(
                "CREATE TABLE bench_comm (i integer PRIMARY KEY, id bigint, code varchar(32), "
                "grid_id bigint, grid_code varchar(32), street_id bigint, lat double precision, "
                "lng double precision)"
            )
            rows = []
            for i, a in enumerate(comm_rows):
                g = grid_of[a.pk]
                rows.append(
                    (i, a.pk, a.code, g.pk, g.code, a.parent_id, 30 + (i // 60) * 0.05,
                     100 + (i % 60) * 0.05)
                )  # fmt: skip
            cur.executemany("INSERT INTO bench_comm VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", rows)
        system = PointsAccount.objects.create(kind="issuance", street=street0, balance=None)
        hold = PointsAccount.objects.create(kind="hold", street=street0, balance=None)
        spent = PointsAccount.objects.create(kind="redemption", street=street0, balance=None)

    tables = [m._meta.db_table for m in (Report, User, RiderProfile, PointsAccount, Posting,
                                         Entry, Station, Visit)]  # fmt: skip
    with transaction.atomic():
        indexes = _secondary_indexes(tables, vendor)
        if vendor == "postgresql":
            # The ledger's guards check each posting's two legs at commit, one query per row;
            # the generated postings balance by construction (checked below instead).
            with connection.cursor() as cur:
                cur.execute("ALTER TABLE points_posting DISABLE TRIGGER USER")
                cur.execute("ALTER TABLE points_entry DISABLE TRIGGER USER")
    n_riders = max(C, n_reports // 50)
    n_postings = n_reports // 2
    n_visits = n_reports // 2
    n_stations = C * STATIONS_PER_COMMUNITY
    user0 = 1_000_000
    acct0 = 1_000_000
    station0 = 1_000_000
    join = f"JOIN bench_comm c ON c.i = (g.x % {C})"
    span = DAYS * 86400
    age = f"((g.x * 2654435761) % {span})"
    created = _ts(vendor, age)
    recent = f"({age} < {30 * 86400})"
    r = "(((g.x * 2246822519) % 1000003) % 1000)"
    true, false = ("TRUE", "FALSE") if vendor == "postgresql" else ("1", "0")
    with transaction.atomic():
        log("generating riders")
        _insert(User, n_riders, {
            "id": f"{user0} + g.x", "password": "'!'", "username": "'b' || g.x",
            "name": "'骑手' || g.x", "role": "'rider'", "area_code": "c.grid_code",
            "is_active": true, "is_staff": false, "is_superuser": false,
            "date_joined": created, "language": "'zh-hans'",
        }, join, vendor)  # fmt: skip
        _insert(RiderProfile, n_riders, {
            "id": "g.x", "created_at": created, "updated_at": created, "user_id": f"{user0} + g.x",
            "platform": "CASE g.x % 4 WHEN 0 THEN 'meituan' WHEN 1 THEN 'eleme' WHEN 2 THEN 'sf' "
                        "ELSE 'jd' END",
            "occupation": "CASE g.x % 3 WHEN 0 THEN 'food_delivery' WHEN 1 THEN 'courier' "
                          "ELSE 'ride_hailing' END",
            "vehicle": "'e_bike'", "work_lat": "c.lat", "work_lng": "c.lng",
            "community_id": "c.id", "grid_id": "c.grid_id", "area_code": "c.grid_code",
            "status": f"CASE WHEN {r} < 850 THEN 'verified' WHEN {r} < 950 THEN 'pending' "
                      "ELSE 'rejected' END",
            "consent_at": created,
        }, join, vendor)  # fmt: skip
        _insert(PointsAccount, n_riders, {
            "id": f"{acct0} + g.x", "kind": "'member'", "owner_id": f"{user0} + g.x",
            "balance": "0", "created_at": created,
        }, join, vendor)  # fmt: skip
        log("generating reports")
        status = (
            f"CASE WHEN {recent} THEN (CASE g.x % 5 WHEN 0 THEN 'submitted' WHEN 1 THEN "
            "'accepted' WHEN 2 THEN 'dispatched' WHEN 3 THEN 'handled' ELSE 'closed' END) "
            f"WHEN {r} < 900 THEN 'closed' ELSE 'rejected' END"
        )
        closed = f"({status}) = 'closed'"
        _insert(Report, n_reports, {
            "id": "g.x", "created_at": created, "updated_at": created, "source": "'app'",
            "category_id": f"{cat0} + g.x % 12", "status": status,
            "lat": "c.lat + (g.x % 17) * 0.0006", "lng": "c.lng + (g.x % 13) * 0.0008",
            "fine_cell": "0", "input_crs": "'wgs84'", "community_id": "c.id",
            "grid_id": "c.grid_id", "area_code": "c.grid_code", "description": "'bench'",
            "deadline_at": f"CASE WHEN ({status}) IN ('dispatched', 'handled', 'closed') THEN "
                           f"{_plus(vendor, created, 3 * 86400)} END",
            "closed_at": f"CASE WHEN {closed} THEN "
                         f"{_plus(vendor, created, f'(g.x * 13) % {5 * 86400}')} END",
        }, join, vendor)  # fmt: skip
        log("generating postings")
        kind = f"CASE WHEN {r} < 700 THEN 'award' WHEN {r} < 850 THEN 'hold' ELSE 'settle' END"
        member = f"{acct0} + 1 + ((g.x - 1) % {n_riders})"
        rider_join = f"JOIN bench_comm c ON c.i = (((g.x - 1) % {n_riders}) + 1) % {C}"
        _insert(Posting, n_postings, {
            "id": "g.x", "kind": kind, "amount": "1 + g.x % 10",
            "debit_id": f"CASE WHEN {r} < 700 THEN {system.pk} WHEN {r} < 850 THEN {member} "
                        f"ELSE {hold.pk} END",
            "credit_id": f"CASE WHEN {r} < 700 THEN {member} WHEN {r} < 850 THEN {hold.pk} "
                         f"ELSE {spent.pk} END",
            "member_id": member, "street_id": "c.street_id", "area_code": "c.grid_code",
            "reason": "'bench'", "idempotency_key": "'b' || g.x", "created_at": created,
        }, rider_join, vendor)  # fmt: skip
        with connection.cursor() as cur:
            for side, sign in (("debit_id", "-"), ("credit_id", "")):
                cur.execute(
                    "INSERT INTO points_entry (posting_id, account_id, amount, created_at) "
                    f"SELECT id, {side}, {sign}amount, created_at FROM points_posting"
                )
        log("generating stations and visits")
        _insert(Station, n_stations, {
            "id": f"{station0} + g.x", "created_at": created, "updated_at": created,
            "ref": "'B' || g.x", "name": "'驿站' || g.x",
            "kind": "CASE WHEN g.x % 5 = 0 THEN 'rider_station' ELSE 'corner' END",
            "community_id": "c.id", "grid_id": "c.grid_id", "area_code": "c.grid_code",
            "lat": "c.lat + (g.x % 17) * 0.0006", "lng": "c.lng + (g.x % 13) * 0.0008",
            "status": "CASE WHEN g.x % 20 = 0 THEN 'suspended' ELSE 'open' END",
        }, join, vendor)  # fmt: skip
        if vendor == "postgresql":
            day = f"CAST(({created} AT TIME ZONE 'Asia/Shanghai') AS date)"
        else:
            day = f"date({created}, '+8 hours')"
        _insert(Visit, n_visits, {
            "id": "g.x", "station_id": f"{station0} + 1 + ((g.x - 1) % {n_stations})",
            "area_code": "c.grid_code", "kind": "'walk_in'", "people": "1 + g.x % 3",
            "day": day, "created_at": created,
        }, f"JOIN bench_comm c ON c.i = (((g.x - 1) % {n_stations}) + 1) % {C}",
           vendor)  # fmt: skip
    log("rebuilding indexes")  # after the commit: PostgreSQL checks the deferred FKs first
    with transaction.atomic(), connection.cursor() as cur:
        for sql in indexes:
            cur.execute(sql)
        if vendor == "postgresql":
            cur.execute("ALTER TABLE points_posting ENABLE TRIGGER USER")
            cur.execute("ALTER TABLE points_entry ENABLE TRIGGER USER")
        cur.execute(
            "SELECT COUNT(*) FROM (SELECT posting_id FROM points_entry GROUP BY posting_id "
            "HAVING SUM(amount) <> 0 OR COUNT(*) <> 2) AS bad"
        )
        assert cur.fetchone()[0] == 0, "generated postings do not balance"
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"load_s": round(time.perf_counter() - started, 1)}


def measure(runs: int, *, rebuild: bool = True) -> dict:
    from django.db import connection, reset_queries
    from django.utils import timezone

    from yizhan.dashboards import models as dm
    from yizhan.dashboards.kpis import Period
    from yizhan.dashboards.selectors import dashboard, map_points, overdue_page, report_heat
    from yizhan.dashboards.services import rebuild_rollups
    from yizhan.people.models import User

    out: dict = {}
    if rebuild:
        started = time.perf_counter()
        rebuild_rollups()
        out["rebuild_s"] = round(time.perf_counter() - started, 1)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    out["rows"] = {
        m.__name__: m.objects.count()
        for m in (dm.DayTotals, dm.MonthTotals, dm.MonthBreakdown, dm.CurrentCount, dm.MonthHeat)
    }
    log("rollups", out)
    boss = User(username="bench", role="admin", is_superuser=True, is_active=True)
    today = timezone.localdate()
    last_month = today.replace(day=1) - __import__("datetime").timedelta(days=1)
    periods = {
        "month": Period.containing("month", last_month),
        "year": Period.containing("year", last_month),
    }
    areas = {"street": "110105003", "district": "110105"}
    cases = {}
    worst = 0.0
    for area_name, code in areas.items():
        for period_name, period in periods.items():
            times = []
            for i in range(runs + 2):
                t0 = time.perf_counter()
                data = dashboard(user=boss, area=code, period=period)
                map_points(user=boss, area=code)
                report_heat(user=boss, area=code, period=period)
                overdue_page(user=boss, area=code, page=2, size=20)
                took = (time.perf_counter() - t0) * 1000
                if i >= 2:
                    times.append(took)
            times.sort()
            p50 = statistics.median(times)
            p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
            cases[f"{area_name}_{period_name}"] = {
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "reports": data.metric("reports").value,
                "children": len(data.children),
            }
            worst = max(worst, p99)
            log(area_name, period_name, cases[f"{area_name}_{period_name}"])
    out["cases"] = cases
    out["p99_ms"] = round(worst, 1)
    # the naive way: the district's year straight from the facts
    year = periods["year"]
    lo, hi = year.bounds()
    d = areas["district"]
    upper = str(int(d) + 1)
    naive_sql = [
        (
            "SELECT status, category_id, COUNT(*), SUM(CASE WHEN closed_at <= deadline_at THEN 1 "
            "ELSE 0 END) FROM reports_report WHERE area_code >= %s AND area_code < %s AND "
            "created_at >= %s AND created_at < %s GROUP BY status, category_id"
        ),
        (
            "SELECT kind, SUM(amount) FROM points_posting WHERE area_code >= %s AND area_code < %s"
            " AND created_at >= %s AND created_at < %s GROUP BY kind"
        ),
        (
            "SELECT SUBSTR(area_code, 1, 9), SUM(people) FROM stations_visit WHERE area_code >= %s"
            " AND area_code < %s AND created_at >= %s AND created_at < %s "
            "GROUP BY SUBSTR(area_code, 1, 9)"
        ),
    ]
    naive = []
    for _ in range(3):
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            for sql in naive_sql:
                cur.execute(sql, [d, upper, lo, hi])
                cur.fetchall()
        naive.append((time.perf_counter() - t0) * 1000)
    out["naive_ms"] = round(statistics.median(naive), 1)
    reset_queries()
    return out


def child(args) -> int:
    _setup()
    from django.core.management import call_command

    result: dict = {}
    if not args.skip_load:
        call_command("migrate", verbosity=0)
        result.update(load(args.reports))
        log("loaded", result)
    result.update(measure(args.runs, rebuild=not args.skip_rebuild))
    print("CHILD " + json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def run_child(db_url: str, args) -> dict | None:
    env = dict(
        os.environ, DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="yizhan.config.settings.test"
    )
    cmd = [sys.executable, __file__, "--child", "--reports", str(args.reports), "--runs",
           str(args.runs)] + (["--skip-load"] if args.skip_load else []) + (
               ["--skip-rebuild"] if args.skip_rebuild else [])  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        log(f"child for {db_url} failed ({proc.returncode})")
        return None
    for line in proc.stdout.splitlines():
        if line.startswith("CHILD "):
            return json.loads(line[6:])
    return None


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reports", type=int, default=int(os.environ.get("BENCH_REPORTS", 10_000_000))
    )
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 30)))
    parser.add_argument("--only", choices=("sqlite", "pg"), default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args)

    results: dict[str, dict | None] = {}
    failed = False
    if args.only in (None, "sqlite"):
        if not args.skip_load:
            for suffix in ("", "-wal", "-shm"):
                Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
        log(f"SQLite: {SQLITE_PATH}")
        results["sqlite"] = run_child(f"sqlite:///{SQLITE_PATH}", args)
        failed |= results["sqlite"] is None
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
    url = os.environ.get("DATABASE_URL", "")
    if args.only in (None, "pg") and url.startswith("postgres"):
        parsed = urlparse(url)
        admin_url = url
        bench_url = parsed._replace(path=f"/{PG_NAME}").geturl()
        if not args.skip_load:
            pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{PG_NAME}"')
            pg_admin(admin_url, f'CREATE DATABASE "{PG_NAME}"')
        try:
            log(f"PostgreSQL: {PG_NAME}")
            results["pg"] = run_child(bench_url, args)
            failed |= results["pg"] is None
        finally:
            if not args.keep:
                pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{PG_NAME}"')
    for name, result in results.items():
        log(name, json.dumps(result, ensure_ascii=False, indent=1))

    def get(name: str, key: str):
        result = results.get(name)
        return result.get(key) if result else None

    sqlite_p99, pg_p99, naive_pg = (
        get("sqlite", "p99_ms"),
        get("pg", "p99_ms"),
        get("pg", "naive_ms"),
    )
    speedup = round(naive_pg / pg_p99, 1) if naive_pg and pg_p99 else "n/a"
    for name, p99 in (("sqlite", sqlite_p99), ("pg", pg_p99)):
        if p99 is not None and p99 > AIM_MS:
            log(f"aim missed: {name} dashboard page p99 {p99} ms > {AIM_MS} ms")

    def fmt(value) -> str:
        return "n/a" if value is None else str(value)

    print(
        f"reports={args.reports} sqlite_rebuild_s={fmt(get('sqlite', 'rebuild_s'))} "
        f"pg_rebuild_s={fmt(get('pg', 'rebuild_s'))} "
        f"naive_sqlite_ms={fmt(get('sqlite', 'naive_ms'))}"
    )
    print(
        f"RESULT dashboard sqlite_p99_ms={fmt(sqlite_p99)} pg_p99_ms={fmt(pg_p99)} "
        f"naive_pg_ms={fmt(naive_pg)} speedup={speedup}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
