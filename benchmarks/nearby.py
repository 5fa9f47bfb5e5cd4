"""The nearby search (一刻钟服务圈) over 1,000,000 stations and caring corners, on SQLite and on
PostgreSQL, against PostGIS and a plain scan, and end to end over HTTP.

Run it (PostgreSQL and PostGIS are needed for the full set of figures)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/nearby.py

Without DATABASE_URL (or with a SQLite one) only the SQLite half runs and the PostgreSQL figures
are ``n/a``. The script measures each database in a child process of its own (Django is set up
once per process, for one database): SQLite in a file in a temporary directory, PostgreSQL in a
throw-away database ``yizhan_bench_nearby_<pid>`` on the server DATABASE_URL points at (the
database named in the URL is only used to create and drop it), dropped at the end, also after an
error. Both are migrated first (``migrate``). It never touches var/ or the demo database.

Why: a rider asks "what is near me, with charging" on a phone, and the answer must come back at
once on either database the project supports, with 186,000 union stations nationally and many
more caring corners. The selector searches with plain SQL over a covering index on the
grid cell (``station_nearby_idx``; see ``stations.selectors``): ids and distances sorted from
the index alone, the page's rows read by id, a 1 km circle first. This script shows what that
costs where stations are densest, against what a spatial index (PostGIS) and no index at all
cost on the same rows, and checks that every answer is exactly right. With
``BENCH_PROFILE=1`` it also times other ways to search, so a change to the search can be judged
on numbers.

What it measures, in one run:

1. **Data.** ``BENCH_STATIONS`` stations and caring corners around 64 Chinese cities (real
   centre coordinates; each city has a weight and a spread): 80% drawn from a normal
   distribution around a city centre (sigma 3–8 km), 20% uniformly over China's extent. Kinds
   (70% corners), services (each with its own probability: water 85%, rest 80%, phone
   charging 65%, e-bike charging 25%, legal advice 5% …) and opening hours (24 hours, every
   day, weekday and weekend schedules, split days, past midnight, a holiday exception, not
   published) are drawn at random from a fixed seed, so both databases get the same rows and
   ids. The rows are bulk-loaded into the table ``migrate`` created, not registered through
   the services (registration is not what is measured), but they are the rows the services
   write: every column, status ``open``, ``cell = core.geo.cell_of(lat, lng)`` on the point
   rounded to 7 decimals, the ``area_code`` and community of one real community (made with
   ``areas.services.area_create``), hours as ``stations.hours`` stores them. SQLite: one
   ``executemany`` with the secondary indexes dropped and rebuilt from their own definitions;
   PostgreSQL: ``COPY`` (psycopg ``cursor.copy``), the same index rebuild, then ``VACUUM
   ANALYZE``: the statistics for the planner, and the visibility map, without which an
   index-only scan still visits the table for every row (in production autovacuum keeps both
   up to date).
2. **The selector.** ``stations.selectors.nearby(nearby_query(…))`` in process: a 3 km radius
   (``BENCH_RADIUS_M``), one or two required services, the top 20, for ``BENCH_QUERIES``
   points drawn around the city centres like the data (so they land where stations are
   dense), after 50 warm-up queries. p50 / p99 / max. ``candidates`` is the median number of
   rows in the cells of the 3 km circle's box (what the previous design read whole); ``read``
   the median number in the cells the selector's statements list (the 1 km circle's, plus the
   3 km one's when the first did not hold the page); ``matches`` the median number that pass
   every condition (within the radius, services, open). ``one_statement`` is the share of
   queries answered by one statement. ``sql`` is the selector's own statements (captured
   through Django's execute wrapper) replayed alone through the database driver (what the
   database costs; the rest is Python).
3. **Exact cross-check.** For ``BENCH_CHECKS`` queries the selector's ids equal a brute force
   over every row (numpy to narrow, then ``core.geo.haversine_m``, sorted by distance and id);
   the parent also checks that SQLite and PostgreSQL return the same ids. Any difference is a
   violation.
4. **PostGIS** (PostgreSQL only). ``CREATE EXTENSION postgis`` in the throw-away database; when
   that fails the reason is printed and ``postgis_p50_ms=n/a``. Otherwise the table gets a
   ``geography(Point, 4326)`` column (filled by the same COPY) with a GiST index, and
   ``SELECT <the selector's columns> … WHERE ST_DWithin(geog, point, 3000) AND services_mask &
   m = m AND status = 'open' ORDER BY geog <-> point LIMIT 20`` is timed through psycopg
   (prepared after five runs, as psycopg does), p50 / p99. ``ST_DWithin`` measures on the
   spheroid by default (``postgis``); the sphere form (``use_spheroid => false``, the distance
   model of ``haversine_m`` and of ``<->``) is timed too (``postgis_sphere``) and is the one
   cross-checked: its ids must equal the selector's for ``BENCH_CHECKS`` queries, ties closer
   than 1 cm aside.
5. **The floor: a plain scan.** Every column of every row, the index forbidden (the previous
   selector's one 3 km statement with SQLite's ``NOT INDEXED``; PostgreSQL with
   ``enable_indexscan``/``enable_indexonlyscan``/``enable_bitmapscan`` off), for
   ``BENCH_SCANS`` queries; its rows must equal those of the selector's 3 km statement.
6. **HTTP.** gunicorn (``BENCH_HTTP_WORKERS`` sync workers) serves the app with the production
   settings (DEBUG off, a random SECRET_KEY, no SSL redirect; persistent connections on
   PostgreSQL, ``DB_CONN_MAX_AGE=600``) over the benchmark database; ``BENCH_HTTP_CLIENTS``
   threads with ``http.client`` connections ask for ``GET /api/v1/stations/nearby?lat=…&lng=…
   &radius=3000&services=…`` (random points, as above) and ``GET /api/v1/version`` (a trivial
   JSON endpoint of the same server) in alternating rounds of ``BENCH_HTTP_SECONDS``
   (``BENCH_HTTP_ROUNDS`` of each). Sync workers close the connection after every response, so
   the clients reconnect (keep-alive is used when the server allows it). ``http_ratio`` =
   nearby/s ÷ version/s. Measured on each database; the RESULT line's ``http_ratio`` is
   PostgreSQL's when it ran (the production database), SQLite's otherwise. The endpoint's first
   page for one query must equal the selector's answer.

Aims (issue 4; reported, not enforced): p50 ≤ 2 ms and p99 ≤ 10 ms on both databases, no
slower than PostGIS, http_ratio ≥ 0.8. The script exits 1 only on violations (a selector answer
that differs from the brute force, the scan, PostGIS or the other database, or an HTTP error).

Environment (defaults in brackets): BENCH_STATIONS [1000000], BENCH_QUERIES [2000],
BENCH_CHECKS [200], BENCH_SCANS [20], BENCH_RADIUS_M [3000], BENCH_SEED [4],
BENCH_DATABASES [sqlite,postgres] (postgres only when DATABASE_URL is PostgreSQL),
BENCH_HTTP [1] (0 skips it), BENCH_HTTP_WORKERS [2], BENCH_HTTP_CLIENTS [4],
BENCH_HTTP_SECONDS [5], BENCH_HTTP_ROUNDS [3], BENCH_PROFILE [0]: 1 adds, per database, a
cProfile of the selector and its stages, the plans of a query's two statements (1 km and 3 km;
on PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``, which shows ``Heap Fetches``), the timings of
other searches — the selector's 3 km statement alone, the same with the cells as an OR of
ranges, the previous selector's statement (every column of the cells' rows), on SQLite with a
256 MB page cache and mmap — each checked against the selector's statement, and of ``nearby()``
with a first stage of 500 m, 1, 1.5 and 2 km or none, checked against its answers; both
endpoints through Django's test client in process with a cProfile of the nearby requests; on
SQLite the HTTP rounds again with persistent connections.
BENCH_KEEP [0]: 1 keeps the databases for inspection (their names are printed).
"""

from __future__ import annotations

import cProfile
import http.client
import io
import json
import math
import os
import platform
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.config.settings.test")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


STATIONS = env_int("BENCH_STATIONS", 1_000_000)
QUERIES = env_int("BENCH_QUERIES", 2000)
CHECKS = env_int("BENCH_CHECKS", 200)
SCANS = env_int("BENCH_SCANS", 20)
RADIUS_M = env_int("BENCH_RADIUS_M", 3000)
SEED = env_int("BENCH_SEED", 4)
DATABASES = [d.strip() for d in os.environ.get("BENCH_DATABASES", "sqlite,postgres").split(",")]
HTTP = os.environ.get("BENCH_HTTP", "1") == "1"
HTTP_WORKERS = env_int("BENCH_HTTP_WORKERS", 2)
HTTP_CLIENTS = env_int("BENCH_HTTP_CLIENTS", 4)
HTTP_SECONDS = env_int("BENCH_HTTP_SECONDS", 5)
HTTP_ROUNDS = env_int("BENCH_HTTP_ROUNDS", 3)
PROFILE = os.environ.get("BENCH_PROFILE", "0") == "1"
KEEP = os.environ.get("BENCH_KEEP", "0") == "1"
TOP = 20
WARMUP = 50
CLUSTERED = 0.80
P50_AIM_MS, P99_AIM_MS, HTTP_RATIO_AIM = 2.0, 10.0, 0.8
TABLE = "stations_station"
TIE_M = 0.01  # distances closer than this are a tie between two distance models

# (name, lat, lng, weight, sigma in km): city centres in WGS-84; the weight is how many of the
# clustered points it gets relative to the others, the sigma how far they spread.
CITIES = [
    ("北京", 39.9042, 116.4074, 6, 8), ("上海", 31.2304, 121.4737, 6, 8),
    ("广州", 23.1291, 113.2644, 5, 7), ("深圳", 22.5431, 114.0579, 5, 7),
    ("重庆", 29.5630, 106.5516, 4, 6), ("成都", 30.5728, 104.0668, 4, 6),
    ("天津", 39.0842, 117.2009, 3, 6), ("武汉", 30.5928, 114.3055, 3, 6),
    ("杭州", 30.2741, 120.1551, 3, 6), ("南京", 32.0603, 118.7969, 3, 5),
    ("西安", 34.3416, 108.9398, 3, 5), ("苏州", 31.2989, 120.5853, 2, 5),
    ("郑州", 34.7466, 113.6254, 2, 5), ("长沙", 28.2282, 112.9388, 2, 5),
    ("沈阳", 41.8057, 123.4315, 2, 5), ("青岛", 36.0671, 120.3826, 2, 5),
    ("大连", 38.9140, 121.6147, 2, 4), ("厦门", 24.4798, 118.0894, 2, 4),
    ("济南", 36.6512, 117.1201, 2, 4), ("哈尔滨", 45.8038, 126.5349, 2, 5),
    ("长春", 43.8171, 125.3235, 2, 4), ("昆明", 25.0389, 102.7183, 2, 4),
    ("南宁", 22.8170, 108.3665, 1, 4), ("福州", 26.0745, 119.2965, 1, 4),
    ("合肥", 31.8206, 117.2272, 2, 4), ("南昌", 28.6820, 115.8579, 1, 4),
    ("石家庄", 38.0428, 114.5149, 1, 4), ("太原", 37.8706, 112.5489, 1, 4),
    ("呼和浩特", 40.8424, 111.7490, 1, 3), ("兰州", 36.0611, 103.8343, 1, 3),
    ("西宁", 36.6171, 101.7782, 1, 3), ("银川", 38.4872, 106.2309, 1, 3),
    ("乌鲁木齐", 43.8256, 87.6168, 1, 4), ("拉萨", 29.6520, 91.1721, 1, 3),
    ("贵阳", 26.6470, 106.6302, 1, 4), ("海口", 20.0440, 110.1999, 1, 3),
    ("宁波", 29.8683, 121.5440, 2, 4), ("无锡", 31.4912, 120.3119, 1, 4),
    ("佛山", 23.0215, 113.1214, 2, 5), ("东莞", 23.0207, 113.7518, 2, 6),
    ("清远", 23.6820, 113.0560, 1, 3), ("大同", 40.0768, 113.3001, 1, 3),
    ("珠海", 22.2710, 113.5767, 1, 3), ("汕头", 23.3541, 116.6820, 1, 3),
    ("温州", 27.9943, 120.6994, 1, 4), ("徐州", 34.2058, 117.2844, 1, 4),
    ("常州", 31.8107, 119.9741, 1, 4), ("南通", 31.9802, 120.8943, 1, 3),
    ("烟台", 37.4638, 121.4479, 1, 3), ("潍坊", 36.7069, 119.1618, 1, 3),
    ("唐山", 39.6305, 118.1802, 1, 3), ("包头", 40.6574, 109.8403, 1, 3),
    ("洛阳", 34.6197, 112.4540, 1, 3), ("株洲", 27.8274, 113.1340, 1, 3),
    ("宜昌", 30.6919, 111.2865, 1, 3), ("襄阳", 32.0090, 112.1226, 1, 3),
    ("绵阳", 31.4675, 104.6796, 1, 3), ("柳州", 24.3264, 109.4281, 1, 3),
    ("桂林", 25.2736, 110.2900, 1, 3), ("泉州", 24.8741, 118.6757, 1, 4),
    ("金华", 29.0790, 119.6474, 1, 3), ("绍兴", 30.0023, 120.5810, 1, 3),
    ("惠州", 23.1115, 114.4152, 1, 4), ("中山", 22.5176, 113.3926, 1, 4),
]  # fmt: skip
CHINA = (18.2, 73.5, 53.5, 134.8)  # min lat, min lng, max lat, max lng

KINDS = [("corner", 0.70), ("rider_station", 0.15), ("party_service", 0.10),
         ("union_station", 0.05)]  # fmt: skip
# How likely a place offers each service of the catalogue (the codes migration 0003 seeds).
SERVICE_SHARE = {
    "rest": 0.80, "water": 0.85, "meal_heating": 0.40, "phone_charging": 0.65,
    "ebike_charging": 0.25, "tyre_inflation": 0.35, "toilet": 0.50, "wifi": 0.60,
    "first_aid": 0.45, "books": 0.20, "meeting_room": 0.08, "rain_gear": 0.30,
    "repairs": 0.20, "cooling_warmth": 0.50, "meals": 0.10, "legal_aid": 0.05,
}  # fmt: skip
# What a rider asks for (one service, sometimes two), and how often.
ASKED = [("phone_charging", 0.30), ("ebike_charging", 0.20), ("water", 0.15), ("toilet", 0.10),
         ("tyre_inflation", 0.10), ("meal_heating", 0.10), ("rest", 0.05)]  # fmt: skip
SECOND_SERVICE = 0.3
# Opening hours in their text form (parsed and stored as stations.hours does), and how often.
HOURS = [
    ("24小时", 0.25), ("每天 07:00-22:00", 0.20),
    ("周一至周五 08:00-20:00；周六、周日 09:00-18:00", 0.18),
    ("周一至周五 08:30-12:00,14:00-18:00", 0.10), ("每天 09:00-21:00", 0.10),
    ("周一至周六 10:00-22:00", 0.05), ("每天 18:00-02:00", 0.03),
    ("holiday", 0.05), ("", 0.04),
]  # fmt: skip
ZONES = [[], ["rest", "supply"], ["party", "study", "work", "rest", "supply"], ["rest"]]
SHOPS = ["便利店", "餐馆", "药店", "电动车行", "超市", "快递站", "银行网点", "加油站"]
ROADS = ["人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "东风路"]


def say(text: str = "") -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


# --- the data ----------------------------------------------------------------------------------


#: The columns of stations_station, in the order station_rows() yields them.
COLUMNS = [
    "id", "created_at", "updated_at", "ref", "name", "kind", "community_id", "grid_id",
    "area_code", "address", "lat", "lng", "cell", "status", "merchant_id", "host_name",
    "contact_name", "contact_phone", "description", "services_mask", "zones", "hours",
    "qr_version", "status_note",
]  # fmt: skip


def station_rows(
    n: int, bits: dict[str, int], community_id: int, area_code: str, now, *, geog: bool = False
) -> Iterator[tuple]:
    """``n`` rows as tuples in COLUMNS order (plus the PostGIS point when ``geog``), the same
    for a seed whatever the database; ``now`` as the database takes it."""
    import numpy as np
    from django.utils.timezone import localdate

    from yizhan.core.geo import cell_of
    from yizhan.stations import hours as hours_module

    rng = np.random.default_rng(SEED)
    weights = np.array([c[3] for c in CITIES], dtype=float)
    city = rng.choice(len(CITIES), size=n, p=weights / weights.sum())
    clat = np.array([c[1] for c in CITIES])[city]
    clng = np.array([c[2] for c in CITIES])[city]
    sigma = np.array([c[4] for c in CITIES], dtype=float)[city]
    lat = clat + rng.normal(size=n) * sigma / 111.195
    lng = clng + rng.normal(size=n) * sigma / (111.195 * np.cos(np.radians(clat)))
    spread = rng.random(n) >= CLUSTERED
    lat = np.where(spread, rng.uniform(CHINA[0], CHINA[2], n), lat)
    lng = np.where(spread, rng.uniform(CHINA[1], CHINA[3], n), lng)
    kinds = [k for k, _ in KINDS]
    kind = rng.choice(len(kinds), size=n, p=[p for _, p in KINDS])
    mask = np.zeros(n, dtype=np.int64)
    for code, share in SERVICE_SHARE.items():
        mask |= (rng.random(n) < share).astype(np.int64) << bits[code]
    hours_json = []
    for text, _share in HOURS:
        if text == "holiday":
            base = hours_module.parse_text("周一至周五 08:00-20:00；周六 09:00-17:00")
            parsed = base.with_exception(localdate().replace(month=10, day=1), ())
        else:
            parsed = hours_module.parse_text(text)
        hours_json.append(json.dumps(parsed.to_json()))
    hours = rng.choice(len(HOURS), size=n, p=[p for _, p in HOURS])
    zones = rng.integers(0, len(ZONES), size=n)
    numbers = rng.integers(1, 999, size=n)
    phones = rng.integers(0, 100_000_000, size=n)
    zone_json = [json.dumps(z) for z in ZONES]
    for i in range(n):
        y, x = round(float(lat[i]), 7), round(float(lng[i]), 7)
        where = "郊野" if spread[i] else CITIES[city[i]][0]
        k = kinds[kind[i]]
        corner = k == "corner"
        shop = SHOPS[i % len(SHOPS)]
        row = (
            i + 1,  # id
            now,  # created_at
            now,  # updated_at
            "",  # ref
            f"{where}{shop}爱心角{i + 1}" if corner else f"{where}小哥驿站{i + 1}",  # name
            k,  # kind
            community_id,
            None,  # grid_id
            area_code,
            f"{where}{ROADS[i % len(ROADS)]}{numbers[i]}号",  # address
            y,  # lat
            x,  # lng
            cell_of(y, x),  # cell
            "open",  # status
            None,  # merchant_id
            f"{where}{shop}" if corner else "",  # host_name
            "",  # contact_name
            f"139{phones[i]:08d}" if i % 2 else "",  # contact_phone
            "",  # description
            int(mask[i]),  # services_mask
            zone_json[0 if corner else zones[i]],  # zones
            hours_json[hours[i]],  # hours
            1,  # qr_version
            "",  # status_note
        )
        yield (*row, f"SRID=4326;POINT({x!r} {y!r})") if geog else row


@dataclass
class Query:
    lat: float
    lng: float
    services: list[str]


def query_points(count: int, seed: int) -> list[Query]:
    """Points around the city centres, spread like the stations, with the services asked."""
    rng = random.Random(seed)
    weights = [c[3] for c in CITIES]
    codes, shares = [a for a, _ in ASKED], [p for _, p in ASKED]
    queries = []
    for _ in range(count):
        _name, clat, clng, _w, sigma = rng.choices(CITIES, weights)[0]
        lat = clat + rng.gauss(0, sigma) / 111.195
        lng = clng + rng.gauss(0, sigma) / (111.195 * math.cos(math.radians(clat)))
        wanted = [rng.choices(codes, shares)[0]]
        if rng.random() < SECOND_SERVICE:
            other = rng.choices(codes, shares)[0]
            if other not in wanted:
                wanted.append(other)
        queries.append(Query(round(lat, 6), round(lng, 6), wanted))
    return queries


# --- the parent: one child per database, then the summary -------------------------------------


def bench_database(url: str) -> tuple[str, str]:
    """Create yizhan_bench_nearby_<pid> on the server of ``url``; return (its URL, its name)."""
    import psycopg

    name = f"yizhan_bench_nearby_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_child(db: str, url: str, workdir: Path) -> dict | None:
    out = workdir / f"{db}.json"
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="yizhan.config.settings.test")
    env["YIZHAN_VAR_DIR"] = str(workdir / "var")
    code = subprocess.call(
        [sys.executable, str(Path(__file__).resolve()), "--measure", db, str(out)],
        env=env,
        cwd=ROOT,
    )
    if code != 0 or not out.exists():
        say(f"{db}: the measuring process failed (exit {code})")
        return None
    return json.loads(out.read_text())


def main() -> int:
    if len(sys.argv) >= 4 and sys.argv[1] == "--measure":
        return measure(sys.argv[2], Path(sys.argv[3]))
    url = os.environ.get("DATABASE_URL", "")
    has_pg = url.startswith(("postgres://", "postgresql://"))
    load = os.getloadavg()
    say(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load "
        f"{load[0]:.1f}; Python {platform.python_version()}; {STATIONS:,} stations, "
        f"{QUERIES:,} queries of {RADIUS_M} m, top {TOP}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="yizhan_bench_nearby_"))
    figures: dict[str, dict | None] = {}
    failed = False
    try:
        if "sqlite" in DATABASES:
            sqlite_url = f"sqlite:///{workdir / 'nearby.sqlite3'}"
            say(f"== SQLite: {workdir / 'nearby.sqlite3'} (throw-away)")
            figures["sqlite"] = run_child("sqlite", sqlite_url, workdir)
            failed |= figures["sqlite"] is None
        if "postgres" in DATABASES and has_pg:
            bench_url, name = bench_database(url)
            host = urlsplit(url)
            say(f"== PostgreSQL: {name} (throw-away) on {host.hostname}:{host.port}")
            try:
                figures["postgres"] = run_child("postgres", bench_url, workdir)
                failed |= figures["postgres"] is None
            finally:
                if KEEP:
                    say(f"kept {name} (BENCH_KEEP=1): drop it yourself")
                else:
                    drop_database(url, name)
                    say(f"dropped {name}")
        elif "postgres" in DATABASES:
            say("== PostgreSQL: skipped (DATABASE_URL is not a PostgreSQL URL); to include it:")
            say("  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench")
    finally:
        if KEEP:
            say(f"kept {workdir} (BENCH_KEEP=1)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return summarise(figures, failed)


def summarise(figures: dict[str, dict | None], failed: bool) -> int:
    lite, pg = figures.get("sqlite"), figures.get("postgres")
    problems: list[str] = []
    for data in (lite, pg):
        if data:
            problems += [f"{data['db']}: {p}" for p in data["problems"]]
    if lite and pg:
        differ = [
            i for i, (a, b) in enumerate(zip(lite["answers"], pg["answers"], strict=True)) if a != b
        ]
        say(
            f"SQLite and PostgreSQL: {len(lite['answers']) - len(differ)} of "
            f"{len(lite['answers'])} answers identical"
        )
        problems += [f"query {i}: SQLite and PostgreSQL answers differ" for i in differ[:20]]
    if failed:
        problems.append("a measuring process failed")

    def get(data: dict | None, key: str) -> float | None:
        return data.get(key) if data else None

    http_from = pg if pg and pg.get("http_ratio") is not None else lite
    http_ratio = get(http_from, "http_ratio")
    lines = [
        ("SQLite", lite),
        ("PostgreSQL", pg),
    ]
    for label, data in lines:
        if not data:
            continue
        for key, aim in (("p50_ms", P50_AIM_MS), ("p99_ms", P99_AIM_MS)):
            if data[key] > aim:
                say(f"AIM MISSED: {label} {key.replace('_ms', '')} {data[key]:.2f} ms > {aim} ms")
    if pg and pg.get("postgis_p50_ms") is not None and pg["p50_ms"] > pg["postgis_p50_ms"]:
        say(
            f"AIM MISSED: PostgreSQL p50 {pg['p50_ms']:.2f} ms is slower than PostGIS "
            f"{pg['postgis_p50_ms']:.2f} ms"
        )
    for label, data in lines:
        if data and data.get("http_ratio") is not None and data["http_ratio"] < HTTP_RATIO_AIM:
            say(f"AIM MISSED: http_ratio {data['http_ratio']:.2f} on {label} < {HTTP_RATIO_AIM}")
    for problem in problems[:40]:
        say(f"VIOLATION {problem}")
    candidates = get(pg, "candidates") or get(lite, "candidates")
    matches = get(pg, "matches") or get(lite, "matches")
    result = (
        f"RESULT nearby sqlite_p50_ms={fmt(get(lite, 'p50_ms'))} "
        f"sqlite_p99_ms={fmt(get(lite, 'p99_ms'))} pg_p50_ms={fmt(get(pg, 'p50_ms'))} "
        f"pg_p99_ms={fmt(get(pg, 'p99_ms'))} postgis_p50_ms={fmt(get(pg, 'postgis_p50_ms'))} "
        f"http_ratio={fmt(http_ratio)} n={STATIONS} queries={QUERIES} "
        f"postgis_p99_ms={fmt(get(pg, 'postgis_p99_ms'))} "
        f"postgis_sphere_p50_ms={fmt(get(pg, 'postgis_sphere_p50_ms'))} "
        f"sqlite_sql_p50_ms={fmt(get(lite, 'sql_p50_ms'))} "
        f"pg_sql_p50_ms={fmt(get(pg, 'sql_p50_ms'))} "
        f"sqlite_scan_p50_ms={fmt(get(lite, 'scan_p50_ms'), 1)} "
        f"pg_scan_p50_ms={fmt(get(pg, 'scan_p50_ms'), 1)} "
        f"candidates={fmt(candidates, 0)} read={fmt(get(pg, 'read') or get(lite, 'read'), 0)} "
        f"matches={fmt(matches, 0)} "
        f"one_statement={fmt(get(pg, 'one_statement') or get(lite, 'one_statement'))} "
        f"http_db={'postgres' if http_from is pg and pg else 'sqlite'} "
        f"nearby_per_s={fmt(get(http_from, 'nearby_per_s'), 0)} "
        f"version_per_s={fmt(get(http_from, 'version_per_s'), 0)} "
        f"sqlite_http_ratio={fmt(get(lite, 'http_ratio'))} violations={len(problems)}"
    )
    say(result)
    return 1 if problems else 0


# --- the child: one database -------------------------------------------------------------------


def measure(db: str, out: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if db == "sqlite":
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            version = f"PostgreSQL {server} (shared_buffers={cursor.fetchone()[0]})"
    say(f"{db}: {version}; Django {django.get_version()}; load {os.getloadavg()[0]:.1f}")
    figures: dict = {"db": db, "problems": []}
    postgis = load_data(db, figures)
    queries = query_points(QUERIES + WARMUP, SEED + 1)
    time_selector(db, queries, figures)
    check_exact(queries[WARMUP : WARMUP + CHECKS], figures)
    time_scan(db, queries[WARMUP : WARMUP + SCANS], figures)
    if db == "postgres":
        if postgis:
            time_postgis(queries, figures)
        else:
            figures.update(postgis_p50_ms=None, postgis_p99_ms=None, postgis_sphere_p50_ms=None)
    if HTTP:
        time_http(db, figures)
    if PROFILE:
        profile(db, queries, figures)
    connection.close()
    out.write_text(json.dumps(figures))
    return 0


def load_data(db: str, figures: dict) -> bool:
    """Bulk-load the stations; on PostgreSQL also try PostGIS. True when PostGIS is there."""
    from django.db import connection
    from django.utils import timezone

    from yizhan.areas.services import area_create
    from yizhan.stations.models import Station
    from yizhan.stations.services import catalogue

    started = time.perf_counter()
    district = area_create(level="district", code="110105", name="基准区")
    street = area_create(level="street", code="110105001", name="基准街道", parent=district)
    # One community whose boundary is China's extent, so every point lies inside it as the
    # services require.
    lat0, lng0, lat1, lng1 = CHINA
    ring = [[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]
    community = area_create(
        level="community", code="110105001001", name="基准社区", parent=street,
        boundary={"type": "Polygon", "coordinates": [ring]},
    )  # fmt: skip
    bits = {code: bit for code, bit, *_rest in catalogue()}
    missing = sorted(set(SERVICE_SHARE) - set(bits))
    if missing:
        raise SystemExit(f"the catalogue has no {', '.join(missing)}: update SERVICE_SHARE")
    model_columns = {f.column for f in Station._meta.concrete_fields}
    if set(COLUMNS) != model_columns:
        raise SystemExit(
            f"the Station table has changed (missing here: "
            f"{sorted(model_columns - set(COLUMNS))}; extra: {sorted(set(COLUMNS) - model_columns)}"
            "): update COLUMNS and station_rows()"
        )
    now = timezone.now()
    postgis = False
    if db == "sqlite":
        now = connection.ops.adapt_datetimefield_value(now)
        load_sqlite(station_rows(STATIONS, bits, community.pk, community.code, now))
    else:
        postgis = try_postgis()
        rows = station_rows(STATIONS, bits, community.pk, community.code, now, geog=postgis)
        load_postgres(rows, postgis)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(DISTINCT cell) FROM {TABLE}")
        count, cells = cursor.fetchone()
    if db == "sqlite":
        size = (Path(connection.settings_dict["NAME"]).stat().st_size) / 2**20
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_total_relation_size('{TABLE}')")
            size = cursor.fetchone()[0] / 2**20
    say(
        f"{db}: {count:,} stations in {cells:,} cells, {size:,.0f} MB with indexes; generated "
        f"and loaded in {time.perf_counter() - started:.1f} s"
    )
    return postgis


def load_sqlite(rows: Iterator[tuple]) -> None:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    indexes = raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        [TABLE],
    ).fetchall()
    marks = ", ".join("?" * len(COLUMNS))
    raw.execute("BEGIN")
    for name, _sql in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    raw.executemany(f'INSERT INTO "{TABLE}" ({", ".join(COLUMNS)}) VALUES ({marks})', rows)
    for _name, definition in indexes:
        raw.execute(definition)
    raw.execute("COMMIT")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def try_postgis() -> bool:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cursor.execute("SELECT postgis_lib_version()")
            say(f"postgres: PostGIS {cursor.fetchone()[0]}")
        return True
    except Exception as exc:  # noqa: BLE001 - any reason is reported and the run goes on
        reason = str(exc).strip().splitlines()[0]
        say(f"postgres: no PostGIS ({reason}); postgis_p50_ms=n/a")
        say("  (Debian: apt-get install postgresql-15-postgis-3 gives it)")
        return False


def load_postgres(rows: Iterator[tuple], postgis: bool) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if postgis:
            cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN geog geography(Point, 4326)")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
            [TABLE],
        )
        plain = cursor.fetchall()
        for index, _definition in plain:
            cursor.execute(f'DROP INDEX "{index}"')
        # The rows are correct by construction (one real community): skip the per-row
        # foreign-key triggers, as the ledger benchmark does.
        cursor.execute("SET LOCAL session_replication_role = replica")
        names = COLUMNS + (["geog"] if postgis else [])
        with cursor.cursor.copy(f"COPY {TABLE} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("SET LOCAL session_replication_role = origin")
        for _index, definition in plain:
            cursor.execute(definition)
        if postgis:
            cursor.execute(f"CREATE INDEX bench_station_geog ON {TABLE} USING gist (geog)")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), (SELECT max(id) FROM {TABLE}))"
        )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")


# --- the selector ------------------------------------------------------------------------------


def run_selector(q: Query):
    from yizhan.stations.selectors import nearby, nearby_query

    return nearby(
        nearby_query(lat=q.lat, lng=q.lng, radius=RADIUS_M, services=q.services, page_size=TOP)
    )


def sql_limit() -> int:
    """The LIMIT the selector puts on its statement for a first page of TOP."""
    from yizhan.stations import selectors

    return TOP + 1 + getattr(selectors, "_SPARE_ROWS", 0)


def nearby_q(q: Query):
    from yizhan.stations.selectors import nearby_query

    return nearby_query(lat=q.lat, lng=q.lng, radius=RADIUS_M, services=q.services, page_size=TOP)


def selector_statements(q: Query) -> list[tuple[str, list]]:
    """The statements ``nearby()`` runs for ``q``, with their parameters, as Django sends them
    to the driver (captured through an execute wrapper)."""
    from django.db import connection

    captured: list[tuple[str, list]] = []

    def wrapper(execute, sql, params, many, context):
        captured.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        run_selector(q)
    return captured


def time_selector(db: str, queries: list[Query], figures: dict) -> None:
    from dataclasses import replace

    from django.db import connection
    from django.utils import timezone

    from yizhan.core.geo import cell_ranges
    from yizhan.stations import selectors
    from yizhan.stations.selectors import _search_sql

    for q in queries[:WARMUP]:
        run_selector(q)
    timings, answers = [], []
    for q in queries[WARMUP:]:
        start = time.perf_counter()
        page = run_selector(q)
        timings.append((time.perf_counter() - start) * 1000)
        answers.append([s.id for s in page.items])
    figures["p50_ms"], figures["p99_ms"] = percentile(timings, 0.5), percentile(timings, 0.99)
    figures["answers"] = answers[:CHECKS]
    found = [len(a) for a in answers]
    # The statements alone, through the driver: what the database costs.
    sql_timings, counts = [], []
    raw = raw_cursor(db)
    for q in queries[WARMUP:]:
        statements = selector_statements(q)
        counts.append(len(statements))
        start = time.perf_counter()
        for sql, params in statements:
            raw.execute(to_driver(db, sql), params)
            raw.fetchall()
        sql_timings.append((time.perf_counter() - start) * 1000)
    figures["sql_p50_ms"] = percentile(sql_timings, 0.5)
    figures["sql_p99_ms"] = percentile(sql_timings, 0.99)
    figures["one_statement"] = sum(c == 1 for c in counts) / len(counts)
    spread = {n: counts.count(n) for n in sorted(set(counts))}
    # Rows: in the cells of the 3 km circle's box (what the previous design read), in the cells
    # the selector's statements list (its first stage's, and the full radius's when that is
    # searched too), and those that pass every condition.
    candidates, read, matches = [], [], []
    stage = selectors.FIRST_STAGE_M

    def rows_in(cursor, lat: float, lng: float, radius: float) -> int:
        ranges = cell_ranges(lat, lng, radius)
        where = " OR ".join("cell BETWEEN %s AND %s" for _ in ranges)
        cursor.execute(
            f"SELECT count(*) FROM {TABLE} WHERE {where}", [x for r in ranges for x in r]
        )
        return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        for q in queries[WARMUP : WARMUP + CHECKS]:
            nq = nearby_q(q)
            full = rows_in(cursor, q.lat, q.lng, RADIUS_M)
            candidates.append(full)
            first = replace(nq, radius_m=stage)
            staged = RADIUS_M > stage and selectors._nearest(
                first, timezone.now(), TOP + 1, first_stage=True
            )
            read.append(rows_in(cursor, q.lat, q.lng, stage) + (0 if staged else full))
            sql, params = _search_sql(nq, None)
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS found", params)
            matches.append(cursor.fetchone()[0])
    figures["candidates"] = statistics.median(candidates)
    figures["read"] = statistics.median(read)
    figures["matches"] = statistics.median(matches)
    say(
        f"{db}: nearby(): p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, max "
        f"{max(timings):.2f} ms, mean {statistics.fmean(timings):.2f} ms over {len(timings):,} "
        f"queries ({sum(f == TOP for f in found) / len(found):.0%} found {TOP}); its SQL alone "
        f"p50 {figures['sql_p50_ms']:.2f} ms, p99 {figures['sql_p99_ms']:.2f} ms"
    )
    say(
        f"{db}:   statements per query: "
        + ", ".join(f"{n}: {k / len(counts):.1%}" for n, k in spread.items())
        + f" (1: the {stage} m first stage held the top {TOP} and one more)"
    )
    say(
        f"{db}:   per query (median of {len(candidates)}): {figures['candidates']:.0f} rows in "
        f"the cells of the {RADIUS_M} m box, {figures['read']:.0f} in the cells the statements "
        f"list, {figures['matches']:.0f} within {RADIUS_M} m with the services (p90 "
        f"{percentile(candidates, 0.9):.0f}, {percentile(read, 0.9):.0f} and "
        f"{percentile(matches, 0.9):.0f})"
    )


def raw_cursor(db: str):
    """A cursor of the driver itself on Django's connection (no Django wrapper)."""
    from django.db import connection

    connection.ensure_connection()
    return connection.connection.cursor()


def to_driver(db: str, sql: str) -> str:
    return sql.replace("%s", "?") if db == "sqlite" else sql


# --- the exact cross-check ---------------------------------------------------------------------


#: The brute force's copy of the table (one per process), shared with the PostGIS check.
EVERYTHING: list = []


class Everything:
    """Every open station's id, point and services, for the brute force."""

    def __init__(self) -> None:
        import numpy as np
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, lat, lng, services_mask FROM {TABLE} WHERE status = 'open' ORDER BY id"
            )
            rows = cursor.fetchall()
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.lat = np.array([r[1] for r in rows])
        self.lng = np.array([r[2] for r in rows])
        self.mask = np.array([r[3] for r in rows], dtype=np.int64)
        self.where = {int(pk): i for i, pk in enumerate(self.ids)}

    def distance(self, pk: int, lat: float, lng: float) -> float:
        from yizhan.core.geo import haversine_m

        i = self.where[pk]
        return haversine_m(lat, lng, float(self.lat[i]), float(self.lng[i]))

    def nearest(self, lat: float, lng: float, mask: int, radius: float) -> list[tuple[float, int]]:
        """Every match within ``radius``, as (distance, id), nearest first."""
        import numpy as np

        from yizhan.core.geo import haversine_m

        # Narrow with a generous flat-earth distance, then the exact function on the few.
        dy = (self.lat - lat) * 111_195.0
        dx = (self.lng - lng) * 111_195.0 * math.cos(math.radians(lat))
        near = np.nonzero((dx * dx + dy * dy <= (radius * 1.05 + 100) ** 2)
                          & ((self.mask & mask) == mask))[0]  # fmt: skip
        found = []
        for i in near:
            d = haversine_m(lat, lng, float(self.lat[i]), float(self.lng[i]))
            if d <= radius:
                found.append((d, int(self.ids[i])))
        found.sort()
        return found


def check_exact(queries: list[Query], figures: dict) -> None:
    started = time.perf_counter()
    everything = Everything()
    bad = 0
    for n, (q, ids) in enumerate(zip(queries, figures["answers"], strict=False)):
        mask = nearby_q(q).mask
        expected = [pk for _d, pk in everything.nearest(q.lat, q.lng, mask, RADIUS_M)[:TOP]]
        if ids != expected:
            bad += 1
            figures["problems"].append(
                f"query {n} ({q.lat}, {q.lng}, {'+'.join(q.services)}): selector {ids[:5]}… "
                f"brute force {expected[:5]}…"
            )
    say(
        f"{figures['db']}: exact cross-check: {len(queries) - bad} of {len(queries)} answers "
        f"equal the brute force over every row ({time.perf_counter() - started:.1f} s)"
    )
    EVERYTHING.append(everything)


# --- the plain scan ----------------------------------------------------------------------------


def time_scan(db: str, queries: list[Query], figures: dict) -> None:
    """The floor: every column of every row, no index (the previous selector's statement, one
    3 km search, with the index forbidden); its rows must equal the selector's 3 km
    statement's."""
    from django.db import connection, transaction

    from yizhan.stations.selectors import _search_sql

    timings, bad = [], 0
    for q in queries:
        sql, params = _search_sql(nearby_q(q), sql_limit())
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            indexed = [r[0] for r in cursor.fetchall()]
        plain, plain_params = variant_sql("previous", nearby_q(q), db)
        if db == "sqlite":
            scan_sql = plain.replace(f"FROM {TABLE}", f"FROM {TABLE} NOT INDEXED", 1)
            start = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(scan_sql, plain_params)
                scanned = [r[0] for r in cursor.fetchall()]
        else:
            start = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                cursor.execute("SET LOCAL enable_indexonlyscan = off")
                cursor.execute(plain, plain_params)
                scanned = [r[0] for r in cursor.fetchall()]
        timings.append((time.perf_counter() - start) * 1000)
        if scanned != indexed:
            bad += 1
            figures["problems"].append(f"scan and index differ at ({q.lat}, {q.lng})")
    figures["scan_p50_ms"] = percentile(timings, 0.5)
    say(
        f"{db}: plain scan (every row, no index): p50 {figures['scan_p50_ms']:.1f} ms, "
        f"max {max(timings):.1f} ms over {len(timings)} queries "
        f"({figures['scan_p50_ms'] / figures['p50_ms']:.0f}× the selector's p50); "
        f"{len(timings) - bad} of {len(timings)} answers equal the indexed ones"
    )


# --- PostGIS -----------------------------------------------------------------------------------

POSTGIS_SQL = """
SELECT id, name, kind, address, lat, lng, services_mask, hours, contact_phone, host_name,
       ST_Distance(geog, ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)::geography, false)
FROM stations_station
WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)::geography,
                 %(radius)s{sphere})
  AND services_mask & %(mask)s = %(mask)s AND status = 'open'
ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)::geography
LIMIT %(top)s
"""


def time_postgis(queries: list[Query], figures: dict) -> None:
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    conn = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"],
        host=settings["HOST"], port=settings["PORT"], autocommit=True,
    )  # fmt: skip
    everything = EVERYTHING[0]
    results = {}
    for label, sphere in (("spheroid", ""), ("sphere", ", false")):
        sql = POSTGIS_SQL.format(sphere=sphere)
        params = [
            {"lat": q.lat, "lng": q.lng, "radius": RADIUS_M, "mask": nearby_q(q).mask, "top": TOP}
            for q in queries
        ]
        with conn.cursor() as cursor:
            for p in params[:WARMUP]:
                cursor.execute(sql, p)
                cursor.fetchall()
            timings, answers = [], []
            for p in params[WARMUP:]:
                start = time.perf_counter()
                cursor.execute(sql, p)
                rows = cursor.fetchall()
                timings.append((time.perf_counter() - start) * 1000)
                answers.append([r[0] for r in rows])
            cursor.execute("EXPLAIN " + sql, params[WARMUP])
            plan = " / ".join(r[0].strip() for r in cursor.fetchall()[:3])
        results[label] = (percentile(timings, 0.5), percentile(timings, 0.99), answers, plan)
    # For a like-for-like figure: the selector's own statements through this connection
    # (server-side parameters, prepared after five runs, as the PostGIS statement is).
    timings = []
    with conn.cursor() as cursor:
        for n, q in enumerate(queries):
            statements = selector_statements(q)
            start = time.perf_counter()
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
            if n >= WARMUP:
                timings.append((time.perf_counter() - start) * 1000)
    figures["sql_prepared_p50_ms"] = percentile(timings, 0.5)
    figures["sql_prepared_p99_ms"] = percentile(timings, 0.99)
    conn.close()
    figures["postgis_p50_ms"], figures["postgis_p99_ms"] = results["spheroid"][:2]
    figures["postgis_sphere_p50_ms"] = results["sphere"][0]
    figures["postgis_sphere_p99_ms"] = results["sphere"][1]
    # The sphere form against the selector: the same ids, ties within 1 cm aside.
    bad, ties, differ_spheroid = 0, 0, 0
    checked = list(zip(queries[WARMUP:], figures["answers"], strict=False))
    for n, (q, ours) in enumerate(checked):
        theirs = results["sphere"][2][n]
        if ours != theirs:
            if same_up_to_ties(ours, theirs, q, everything):
                ties += 1
            else:
                bad += 1
                figures["problems"].append(
                    f"PostGIS and the selector differ at ({q.lat}, {q.lng}): {ours[:5]}… "
                    f"{theirs[:5]}…"
                )
        if results["spheroid"][2][n] != ours:
            differ_spheroid += 1
    say(
        f"postgres: PostGIS ST_DWithin + KNN on a GiST index, through psycopg: p50 "
        f"{figures['postgis_p50_ms']:.2f} ms, p99 {figures['postgis_p99_ms']:.2f} ms "
        f"(spheroid, the default); sphere: p50 {figures['postgis_sphere_p50_ms']:.2f} ms, p99 "
        f"{figures['postgis_sphere_p99_ms']:.2f} ms"
    )
    say(
        f"postgres:   the selector's statements through the same connection (prepared too): p50 "
        f"{figures['sql_prepared_p50_ms']:.2f} ms, p99 {figures['sql_prepared_p99_ms']:.2f} ms"
    )
    say(f"postgres:   plan: {results['sphere'][3]}")
    say(
        f"postgres:   cross-check (sphere): {len(checked) - bad - ties} of {len(checked)} "
        f"answers identical, {ties} equal up to ties closer than {TIE_M * 100:.0f} cm, {bad} "
        f"differ; the spheroid form differs in {differ_spheroid} (another distance model: "
        f"the ellipsoid moves points near 3 km by metres)"
    )


def same_up_to_ties(ours: list[int], theirs: list[int], q: Query, everything) -> bool:
    """Two answers that differ only where distances are within TIE_M (the order of equals, or
    a point on the circle or at the 20th place)."""
    a = sorted(everything.distance(pk, q.lat, q.lng) for pk in ours)
    b = sorted(everything.distance(pk, q.lat, q.lng) for pk in theirs)
    if len(a) == len(b):
        return all(abs(x - y) <= TIE_M for x, y in zip(a, b, strict=True))
    longer = a if len(a) > len(b) else b
    return all(abs(d - RADIUS_M) <= TIE_M for d in longer[min(len(a), len(b)) :])


# --- HTTP --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, port: int, log: Path, persistent: bool) -> subprocess.Popen:
    from django.db import connection

    env = dict(os.environ)
    settings = "yizhan.config.settings.production"
    if db == "sqlite" and persistent:
        # base.py keeps no SQLite connection between requests; this variant does.
        module = log.with_name(f"bench_persistent_{os.getpid()}.py")
        module.write_text(
            "from yizhan.config.settings.production import *  # noqa: F403\n"
            "DATABASES['default']['CONN_MAX_AGE'] = 600  # noqa: F405\n"
        )
        env["PYTHONPATH"] = str(module.parent)
        settings = module.stem
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="600",  # PostgreSQL; base.py sets 0 for SQLite whatever it says
    )
    if db == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [str(gunicorn), "yizhan.config.wsgi:application", "--workers", str(HTTP_WORKERS),
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--error-logfile", str(log)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def nearby_path(q: Query) -> str:
    query = {"lat": q.lat, "lng": q.lng, "radius": RADIUS_M, "services": ",".join(q.services)}
    return "/api/v1/stations/nearby?" + urlencode(query)


def drive(port: int, paths: list[str], seconds: float) -> tuple[int, float, int, list[str]]:
    """HTTP_CLIENTS threads GET ``paths`` round robin for ``seconds``; (done, elapsed, errors)."""
    clock: dict = {}

    def start() -> None:
        clock["start"] = time.perf_counter()
        clock["deadline"] = clock["start"] + seconds

    barrier = threading.Barrier(HTTP_CLIENTS, action=start)
    lock = threading.Lock()
    totals = {"done": 0, "errors": 0, "samples": []}

    def worker(offset: int) -> None:
        done = errors = 0
        samples: list[str] = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = offset * 7919
        barrier.wait()
        while time.perf_counter() < clock["deadline"]:
            path = paths[i % len(paths)]
            i += 1
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status == 200:
                    done += 1
                else:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(f"{response.status} {path}: {body[:200]!r}")
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException) as exc:
                errors += 1
                if len(samples) < 3:
                    samples.append(f"{type(exc).__name__} {path}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            totals["done"] += done
            totals["errors"] += errors
            totals["samples"] += samples

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(HTTP_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - clock["start"]
    return totals["done"], elapsed, totals["errors"], totals["samples"]


def time_http(db: str, figures: dict) -> None:
    figures.update(http_ratio=None, nearby_per_s=None, version_per_s=None)
    found = http_rounds(db, figures, persistent=False)
    if found:
        nearby_per_s, version_per_s, errors = found
        figures.update(
            http_ratio=nearby_per_s / version_per_s,
            nearby_per_s=nearby_per_s,
            version_per_s=version_per_s,
        )
        say(
            f"{db}: HTTP (gunicorn, {HTTP_WORKERS} sync workers, production settings; "
            f"{HTTP_CLIENTS} clients, {HTTP_ROUNDS} × {HTTP_SECONDS} s each, alternating): "
            f"nearby {nearby_per_s:.0f}/s, version {version_per_s:.0f}/s, ratio "
            f"{figures['http_ratio']:.2f}; {errors} errors"
        )


def http_rounds(db: str, figures: dict, *, persistent: bool) -> tuple[float, float, int] | None:
    """Serve the app with gunicorn and drive both endpoints: (nearby/s, version/s, errors)."""
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"yizhan_bench_nearby_gunicorn_{os.getpid()}.log"
    server = start_server(db, port, log, persistent)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _body = get(port, "/api/v1/version")
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                say(f"{db}: HTTP skipped: gunicorn did not answer (see {log})")
                return None
            time.sleep(0.2)
        queries = query_points(2000, SEED + 2)
        paths = [nearby_path(q) for q in queries]
        status, body = get(port, paths[0])
        if status != 200:
            say(
                f"{db}: HTTP skipped: GET /api/v1/stations/nearby answered {status} "
                f"({body[:160]!r}); http_ratio=n/a"
            )
            return None
        check_http_answer(queries[0], body, figures)
        for _ in range(3):  # warm every worker on both endpoints
            drive(port, ["/api/v1/version"], 0.5)
            drive(port, paths, 0.5)
        rounds = {"version": [0, 0.0, 0], "nearby": [0, 0.0, 0]}
        for n in range(HTTP_ROUNDS):
            order = ("version", "nearby") if n % 2 == 0 else ("nearby", "version")
            for name in order:
                done, elapsed, errors, samples = drive(
                    port, ["/api/v1/version"] if name == "version" else paths, HTTP_SECONDS
                )
                total = rounds[name]
                total[0] += done
                total[1] += elapsed
                total[2] += errors
                for sample in samples:
                    figures["problems"].append(f"HTTP error: {sample}")
        errors = rounds["version"][2] + rounds["nearby"][2]
        if errors and not any(p.startswith("HTTP error") for p in figures["problems"]):
            figures["problems"].append(f"{errors} HTTP errors")
        return (
            rounds["nearby"][0] / rounds["nearby"][1],
            rounds["version"][0] / rounds["version"][1],
            errors,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if not figures["problems"]:
            log.unlink(missing_ok=True)
        log.with_name(f"bench_persistent_{os.getpid()}.py").unlink(missing_ok=True)


def check_http_answer(q: Query, body: bytes, figures: dict) -> None:
    """The endpoint's first page has the selector's ids for the same query."""
    data = json.loads(body)
    items = data.get("items", data.get("results")) if isinstance(data, dict) else data
    ids = [item.get("id") for item in items or []] if isinstance(items, list) else None
    expected = [s.id for s in run_selector(q).items]
    if ids is None:
        say(f"{figures['db']}: HTTP answer not compared (no items list in {list(data)[:6]})")
    elif ids[: len(expected)] != expected[: len(ids)]:
        figures["problems"].append(f"HTTP answer {ids[:5]}… differs from the selector's")


# --- profile -----------------------------------------------------------------------------------


def profile(db: str, queries: list[Query], figures: dict) -> None:
    """Where the selector's time goes, the query plans, and other ways to search, each timed."""
    from dataclasses import replace

    from yizhan.stations import selectors

    sample = queries[WARMUP : WARMUP + 300]
    profiler = cProfile.Profile()
    profiler.enable()
    for q in sample:
        run_selector(q)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
    say(f"{db}: profile of {len(sample)} nearby() calls, top functions by own time:")
    for line in out.getvalue().splitlines():
        if re.match(r"\s+\d", line):
            say("    " + line.strip()[:150])
    # The stages one by one: checking the request, the search (SQL and exact distances).
    stages: dict[str, list[float]] = {"nearby_query": [], "nearby": []}
    for q in sample:
        t0 = time.perf_counter()
        nq = nearby_q(q)
        t1 = time.perf_counter()
        selectors.nearby(nq)
        t2 = time.perf_counter()
        stages["nearby_query"].append((t1 - t0) * 1000)
        stages["nearby"].append((t2 - t1) * 1000)
    say(
        f"{db}: stages (p50 ms): "
        + ", ".join(f"{k} {percentile(v, 0.5):.3f}" for k, v in stages.items())
    )
    # The plans of a middle query's statements (the first stage, and the full radius).
    middle = nearby_q(sample[len(sample) // 2])
    for radius in (selectors.FIRST_STAGE_M, RADIUS_M):
        explain(db, *selectors._search_sql(replace(middle, radius_m=radius), sql_limit()))
    variants(db, sample, figures)
    if HTTP:
        profile_requests(db, sample)
    if HTTP and db == "sqlite":
        found = http_rounds(db, figures, persistent=True)
        if found:
            say(
                f"{db}: HTTP with persistent SQLite connections (CONN_MAX_AGE=600 in a settings "
                f"module over production's): nearby {found[0]:.0f}/s, version {found[1]:.0f}/s, "
                f"ratio {found[0] / found[1]:.2f} (against {figures['http_ratio']:.2f} "
                "reconnecting every request)"
            )


def profile_requests(db: str, sample: list[Query]) -> None:
    """Both endpoints through Django's test client in this process: what a request costs on
    the server without the network, and where a nearby request's time goes."""
    from django.db import connection
    from django.test import Client

    # As served by gunicorn here: persistent connections on PostgreSQL, none on SQLite.
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 600 if db == "postgres" else 0
    client = Client(HTTP_HOST="127.0.0.1")
    paths = [nearby_path(q) for q in sample]
    timings: dict[str, list[float]] = {"version": [], "nearby": []}
    for _ in range(2):
        for name in timings:
            timings[name].clear()
            for path in paths:
                path = "/api/v1/version" if name == "version" else path
                start = time.perf_counter()
                response = client.get(path)
                timings[name].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.content[:200])
    say(
        f"{db}: requests in process (Django test client, {len(paths)} each, the second "
        f"pass): version p50 {percentile(timings['version'], 0.5):.2f} ms, nearby p50 "
        f"{percentile(timings['nearby'], 0.5):.2f} ms (ratio of means "
        f"{statistics.fmean(timings['version']) / statistics.fmean(timings['nearby']):.2f})"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for path in paths:
        client.get(path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
        r"yizhan|ninja/operation|django/(core/handlers|middleware|contrib/sessions|db/backends)",
        22,
    )
    say(f"{db}: profile of {len(paths)} nearby requests in process, by cumulative time:")
    for line in out.getvalue().splitlines():
        if re.match(r"\s+\d", line):
            say("    " + line.strip()[:150])


def variant_sql(name: str, q, db: str) -> tuple[str, list]:
    """The search for ``q`` (one statement, the full radius) written another way; every
    variant returns the selector's columns (id first) nearest first, so its ids can be
    compared with the selector's statement's.

    - ``previous``: the selector before issue 4's benchmark (every column of every row in the
      cells, an OR of cell ranges, sorted whole): what the index-only design replaced;
    - ``or ids``: ids first, like the selector, but the cells as an OR of ranges.
    """
    from yizhan.core.geo import cell_ranges
    from yizhan.stations.selectors import _COLUMNS, M_PER_DEG, _search_sql

    if name == "selector":
        return _search_sql(q, sql_limit())
    cos_lat = max(math.cos(math.radians(q.lat)), 1e-6)
    d2 = "((lat - %s) * (lat - %s) + (lng - %s) * (lng - %s) * %s)"
    d2p = [q.lat, q.lat, q.lng, q.lng, cos_lat * cos_lat]
    cond = f"status = %s AND (services_mask & %s) = %s AND {d2} <= %s"
    condp = ["open", q.mask, q.mask, *d2p, (q.radius_m / M_PER_DEG * 1.01) ** 2]
    ranges = cell_ranges(q.lat, q.lng, q.radius_m)
    where = "(" + " OR ".join("cell BETWEEN %s AND %s" for _ in ranges) + ")"
    where_p = [x for pair in ranges for x in pair]
    if name == "previous":
        return (
            f"SELECT {', '.join(_COLUMNS)}, {d2} AS d2 FROM {TABLE} WHERE {where} AND {cond} "
            "ORDER BY d2, id LIMIT %s",
            [*d2p, *where_p, *condp, sql_limit()],
        )
    if name == "or ids":
        columns = ", ".join(f"s.{c}" for c in _COLUMNS)
        return (
            f"SELECT {columns}, near.d2 FROM (SELECT id, {d2} AS d2 FROM {TABLE} WHERE {where} "
            f"AND {cond} ORDER BY d2, id LIMIT %s) AS near JOIN {TABLE} AS s ON s.id = near.id "
            "ORDER BY near.d2, near.id",
            [
                *d2p,
                *where_p,
                *condp,
                sql_limit(),
            ],
        )
    raise ValueError(name)


def variants(db: str, sample: list[Query], figures: dict) -> None:
    """Other ways to search, timed on the same queries: single statements through the driver
    (ids compared with the selector's 3 km statement), and ``nearby()`` itself with other
    first stages (ids compared with its answers)."""
    from unittest import mock

    from yizhan.stations import selectors

    raw = raw_cursor(db)

    def run(name: str, label: str) -> list[list[int]]:
        timings, answers = [], []
        for q in sample[:50]:  # warm
            sql, params = variant_sql(name, nearby_q(q), db)
            raw.execute(to_driver(db, sql), params)
            raw.fetchall()
        for q in sample:
            sql, params = variant_sql(name, nearby_q(q), db)
            start = time.perf_counter()
            raw.execute(to_driver(db, sql), params)
            rows = raw.fetchall()
            timings.append((time.perf_counter() - start) * 1000)
            answers.append([r[0] for r in rows])
        say(
            f"{db}:   {label:58s} p50 {percentile(timings, 0.5):6.2f} ms, p99 "
            f"{percentile(timings, 0.99):6.2f} ms"
        )
        if name != "selector":
            differ = sum(1 for a, b in zip(base, answers, strict=True) if a != b)
            if differ:
                say(f"{db}:     {differ} answers differ from the selector's statement")
                figures["problems"].append(f"variant {name}: {differ} answers differ")
        return answers

    say(
        f"{db}: other searches ({len(sample)} queries; single statements through the driver, "
        f"ids compared with the selector's {RADIUS_M} m statement):"
    )
    base = run("selector", f"the selector's statement, {RADIUS_M} m at once (no first stage)")
    run("or ids", "the same, cells as an OR of ranges")
    run("previous", "the previous selector: every column, OR of ranges")
    if db == "sqlite":
        raw.execute("PRAGMA cache_size = -262144")
        raw.execute("PRAGMA mmap_size = 1073741824")
        run("selector", "the selector's statement, cache 256 MB + mmap 1 GB")
        raw.execute("PRAGMA cache_size = -2000")
        raw.execute("PRAGMA mmap_size = 0")
    say(f"{db}:   nearby() with another first stage (answers compared with the selector's):")
    expected = [[s.id for s in run_selector(q).items] for q in sample]
    for stage in (500, 1000, 1500, 2000, RADIUS_M):
        with mock.patch.object(selectors, "FIRST_STAGE_M", stage):
            for q in sample[:50]:
                run_selector(q)
            timings, differ, one = [], 0, 0
            for q, ids in zip(sample, expected, strict=True):
                start = time.perf_counter()
                page = run_selector(q)
                timings.append((time.perf_counter() - start) * 1000)
                differ += [s.id for s in page.items] != ids
            for q in sample[:100]:
                one += len(selector_statements(q)) == 1
        label = "none" if stage >= RADIUS_M else f"{stage} m"
        say(
            f"{db}:   first stage {label:8s} p50 {percentile(timings, 0.5):6.2f} ms, p99 "
            f"{percentile(timings, 0.99):6.2f} ms; {one}% of queries in one statement"
            + (f"; {differ} answers differ" if differ else "")
        )
        if differ:
            figures["problems"].append(f"first stage {stage} m: {differ} answers differ")


def explain(db: str, sql: str, params: list) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if db == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [r[-1] for r in cursor.fetchall()]
        else:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [r[0] for r in cursor.fetchall()]
    listed = next((p for p in params if isinstance(p, list)), None)  # PostgreSQL: one array
    cells = len(listed) if listed else len(re.findall(r"%s", sql[: sql.find(" AND status")])) - 5
    say(f"{db}: plan of the statement for one query ({cells} cells listed):")
    for line in plan:
        say("    " + line[:160])


if __name__ == "__main__":
    sys.exit(main())
