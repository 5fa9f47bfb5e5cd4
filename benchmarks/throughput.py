"""Throughput for the capacity model: requests per second, and per server core, of a rider mix
and a staff mix of pages and API reads, and of report intakes with a 12-megapixel photo,
against gunicorn + PostgreSQL + Redis under the production settings, for 1 and for 2 sync
workers, against ``GET /api/v1/version`` (a trivial endpoint) served by the same setup.

Run it::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python benchmarks/throughput.py
    BENCH_QUICK=1 .venv/bin/python benchmarks/throughput.py      # about two minutes

The database: a throw-away ``yizhan_bench_tp_<pid>`` on the PostgreSQL server DATABASE_URL names
(default ``postgres://postgres@127.0.0.1:5432/postgres``; the database in the URL is only used
to create and drop it), migrated, dropped at the end, also after an error. Without a usable
PostgreSQL server it says so and prints ``RESULT throughput db=none skipped=1``. The cache:
Redis at ``REDIS_URL`` (default ``redis://127.0.0.1:6379/7``; the database is emptied before and
after the run, so give it one of its own), as production runs; without Redis the server falls
back to the local-memory cache and the RESULT line says ``cache=locmem``. Photos and the
access log go to a temporary directory, removed at the end. It never touches var/.

The world: ``_load_world.build_world`` (one street, four communities, eight stations, staff, a
department; ``BENCH_TP_RIDERS`` verified riders with 500 points each, written through the
services), then, also through the services, ``BENCH_TP_REPORTS`` reports a rider (a small real
JPEG each, ``_load_driver.jpeg``), of which a third accepted and a third dispatched by the
street's triage account, ``BENCH_TP_AWARDS`` manual awards a rider (so the points page has a
ledger to page through), and the dashboard rollups rebuilt (so the dashboard has numbers).
Riders use their bearer token on the API and a session (made with the session engine, as a
log-in would) on the pages; the staff account likewise.

The mixes (a request is a GET; its person and its kind are drawn at random, the weights below):

* rider: the home page ``/rider/`` (HTML) 15; nearby search ``/api/v1/stations/nearby`` (3 km,
  one service, around the rider's work place) 15 and the page ``/nearby/`` 10; the points
  balance ``/api/v1/points/me`` 10 and the points page ``/rider/points/`` (balance, ranks, the
  ledger) 10; my reports ``/api/v1/reports/mine`` 10 and ``/reports/mine/`` 5; one of my
  reports ``/api/v1/reports/<id>`` 15 and ``/reports/<id>/`` 10;
* staff (the street's triage account): the triage page ``/console/reports/`` 35, the triage
  queue ``/api/v1/reports/queue`` 35, the street's dashboard ``/console/dashboard/<street>/`` 30;
* version: ``/api/v1/version`` only (the baseline: routing, middleware, JSON, no database);
* intake: ``POST /api/v1/reports`` by a random rider, multipart, one 12-megapixel phone photo
  (``BENCH_TP_INTAKE_PHOTOS`` distinct 4000×3000 JPEGs of about 3 MB with a phone's EXIF, made
  with ``report_intake.make_photo``), a new idempotency key each time; 201 expected. The whole
  intake as a rider's phone meets it: parsing the upload, EXIF, decode, sizes, hashes, the
  face detection and blurring (``core.faces``), the rows and the files.

The server: ``gunicorn yizhan.config.wsgi`` with ``load.start_server`` (sync workers, 127.0.0.1,
a free port in 18000–18999, the access log on) under ``yizhan.config.settings.production``
(``load.production_env``: DEBUG off, a random SECRET_KEY, no SSL redirect on loopback,
persistent database connections) plus ``REDIS_URL`` and ``PROMETHEUS_MULTIPROC_DIR`` (an empty
directory, as docs/operations.md asks with several workers). For each worker count in
``BENCH_TP_WORKERS``: start, warm every worker on every kind, check that every kind answers 200,
then ``BENCH_TP_ROUNDS`` rounds of the three read mixes (order alternating: version, rider,
staff, then staff, rider, version …), ``BENCH_TP_SECONDS`` ÷ rounds each, with
``BENCH_TP_CLIENTS`` client threads (closed loop, no think time); then, after 2 s unmeasured
(each worker loads the face cascades on its first photo), the intake for
``BENCH_TP_INTAKE_SECONDS`` with ``BENCH_TP_INTAKE_CLIENTS`` clients. The latencies are those of
a saturated server (every client waits in the listen queue for a worker), not of a nominal
load. A client keeps its connection when the server allows it; gunicorn's sync workers close
it after every answer, so under them every request is a new TCP connection (on loopback), as
it is behind nginx without upstream keep-alive.

CPU: over each mix, the CPU time (utime + stime from ``/proc/<pid>/stat``) of the gunicorn
master and its workers (``server``), of the PostgreSQL backends connected to the benchmark
database (``db``, from ``pg_stat_activity``), of redis-server (the whole server, shared with
anyone else using it), of this process (``client``, ``os.times``), and of the machine
(``/proc/stat``; ``others`` = what none of these used). ``rps_per_core`` = answered requests ÷
server CPU seconds — requests per fully used core of the app tier, whatever else shared the
machine; ``…_with_db`` adds the database backends' CPU (an app node with its database on it).
Pooled over every worker count. The access log's time per request (``%(D)s``) against the
workers' CPU splits the workers' busy time into CPU and waiting (database, Redis, a CPU).

In process (before the server starts): each kind ``BENCH_TP_INPROCESS`` times through Django's
test client in this process: wall ms, this process's CPU ms, the database backend's CPU ms and
the number of SQL statements per request — where a request's time goes without HTTP.
``BENCH_PROFILE=1`` adds cProfile's top functions over the rider mix in process.

The RESULT line: ``rider_rps_1w``/``_2w`` (and staff, version) answered/s; ``*_rps_per_core``
pooled as above; ``rider_vs_version`` = rider ÷ version per core; ``p50_ms``/``p99_ms`` of the
rider mix and ``staff_p99_ms`` with the most workers; ``intake_per_s_1w``/``_2w`` intakes/s,
``intake_per_core`` intakes per server CPU second and ``intake_cpu_ms`` its inverse (OpenCV
runs its own threads: a single sync worker may use more than one core), ``intake_p50_ms``;
``client_cores`` = the client's CPU seconds per second in the rider mix with the most workers;
``load1`` at the start. Exits 1 only on errors (a non-2xx answer, a failed connection, a
world that could not be built); there is no target.

Environment (defaults in brackets; ``BENCH_QUICK=1`` changes those marked q): BENCH_TP_SECONDS
[20, q 6] per mix and worker count, BENCH_TP_ROUNDS [2], BENCH_TP_CLIENTS [8],
BENCH_TP_WORKERS [1,2], BENCH_TP_RIDERS [100, q 30], BENCH_TP_REPORTS [3, q 2] per rider,
BENCH_TP_AWARDS [6, q 3] per rider, BENCH_TP_INPROCESS [60, q 15] per kind,
BENCH_TP_INTAKE_SECONDS [30, q 8] per worker count (0 skips the intake),
BENCH_TP_INTAKE_CLIENTS [4], BENCH_TP_INTAKE_PHOTOS [4, q 2], BENCH_PROFILE [0],
BENCH_KEEP [0] (1 keeps the database and the directory), REDIS_URL, DATABASE_URL.
"""

from __future__ import annotations

import cProfile
import http.client
import io
import os
import platform
import pstats
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load_driver import Stats, jpeg, multipart, run_clients  # noqa: E402
from load import (  # noqa: E402
    drop_database,
    load_database,
    percentile,
    production_env,
    say,
    start_server,
    wait_ready,
    warm,
    workers_of,
)

QUICK = os.environ.get("BENCH_QUICK", "0") == "1"


def env_int(name: str, default: int, quick: int | None = None) -> int:
    return int(os.environ.get(name, quick if (QUICK and quick is not None) else default))


SECONDS = float(os.environ.get("BENCH_TP_SECONDS", 6 if QUICK else 20))
ROUNDS = env_int("BENCH_TP_ROUNDS", 2)
CLIENTS = env_int("BENCH_TP_CLIENTS", 8)
WORKERS = [int(w) for w in os.environ.get("BENCH_TP_WORKERS", "1,2").split(",") if w.strip()]
RIDERS = env_int("BENCH_TP_RIDERS", 100, 30)
REPORTS = env_int("BENCH_TP_REPORTS", 3, 2)
AWARDS = env_int("BENCH_TP_AWARDS", 6, 3)
INPROCESS = env_int("BENCH_TP_INPROCESS", 60, 15)
INTAKE_SECONDS = float(os.environ.get("BENCH_TP_INTAKE_SECONDS", 8 if QUICK else 30))
INTAKE_CLIENTS = env_int("BENCH_TP_INTAKE_CLIENTS", 4)
INTAKE_PHOTOS = env_int("BENCH_TP_INTAKE_PHOTOS", 4, 2)
PROFILE = os.environ.get("BENCH_PROFILE", "0") == "1"
KEEP = os.environ.get("BENCH_KEEP", "0") == "1"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
PORTS = range(18000, 19000)
TICK = os.sysconf("SC_CLK_TCK")

RIDER_MIX = (
    ("home_page", 15),
    ("nearby_api", 15),
    ("nearby_page", 10),
    ("points_api", 10),
    ("points_page", 10),
    ("mine_api", 10),
    ("mine_page", 5),
    ("report_api", 15),
    ("report_page", 10),
)
STAFF_MIX = (("triage_page", 35), ("queue_api", 35), ("dashboard_page", 30))
VERSION_MIX = (("version", 1),)
MIXES = {"version": VERSION_MIX, "rider": RIDER_MIX, "staff": STAFF_MIX}
#: A request path → its kind (for the access log): the first pattern that matches.
KIND_OF_PATH = (
    (re.compile(r"^/api/v1/version"), "version"),
    (re.compile(r"^/api/v1/reports$"), "intake"),
    (re.compile(r"^/rider/points/"), "points_page"),
    (re.compile(r"^/rider/"), "home_page"),
    (re.compile(r"^/api/v1/stations/nearby"), "nearby_api"),
    (re.compile(r"^/nearby/"), "nearby_page"),
    (re.compile(r"^/api/v1/points/me"), "points_api"),
    (re.compile(r"^/api/v1/reports/mine"), "mine_api"),
    (re.compile(r"^/reports/mine/"), "mine_page"),
    (re.compile(r"^/api/v1/reports/queue"), "queue_api"),
    (re.compile(r"^/api/v1/reports/\d+"), "report_api"),
    (re.compile(r"^/reports/\d+/"), "report_page"),
    (re.compile(r"^/console/reports/"), "triage_page"),
    (re.compile(r"^/console/dashboard/"), "dashboard_page"),
)

#: kind → the requests a person may send of it: (path, headers)
Requests = dict[str, list[tuple[str, dict[str, str]]]]


# --- the world ---------------------------------------------------------------------------------


def session_for(user) -> str:
    """A session as ``django.contrib.auth.login`` leaves it, saved by the session engine."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def seed(world) -> dict[str, int]:
    """Reports, their first steps, manual awards and the rollups, through the services."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yizhan.dashboards.services import rebuild_rollups
    from yizhan.people.models import User
    from yizhan.points.services import points_award
    from yizhan.reports.models import Category
    from yizhan.reports.services import report_accept, report_dispatch, report_submit

    rng = random.Random(17)
    triage = User.objects.get(username="load_triage")
    admin = User.objects.get(username="load_admin")
    categories = list(Category.objects.filter(pk__in=world.categories))
    counts = Counter()
    world.report_ids = defaultdict(list)
    photo = 0
    for rider in world.riders:
        user = User.objects.get(pk=rider.user_id)
        lng0, lat0, lng1, lat1 = world.boxes[rider.community]
        for n in range(REPORTS):
            photo += 1
            lat = min(max(rider.home[0] + rng.uniform(-0.002, 0.002), lat0 + 1e-4), lat1 - 1e-4)
            lng = min(max(rider.home[1] + rng.uniform(-0.002, 0.002), lng0 + 1e-4), lng1 - 1e-4)
            report = report_submit(
                reporter=user, category=rng.choice(categories), lat=f"{lat:.6f}",
                lng=f"{lng:.6f}", description=f"吞吐压测随手拍 {rider.user_id}-{n}",
                idempotency_key=f"tp-report-{rider.user_id}-{n}", address="压测路 8 号",
                photos=[SimpleUploadedFile("photo.jpg", jpeg(100_000 + photo), "image/jpeg")],
            )  # fmt: skip
            counts["reports"] += 1
            world.report_ids[rider.user_id].append(report.pk)
            step = photo % 3
            if step >= 1:
                report = report_accept(report=report, actor=triage, note="立案")
                counts["accepted"] += 1
            if step == 2:
                report_dispatch(
                    report=report, actor=triage, department=_department(world), note="请处理"
                )
                counts["dispatched"] += 1
        for n in range(AWARDS):
            points_award(
                member=user, amount=rng.randint(1, 10), reason="吞吐压测奖励",
                evidence="种子数据", actor=admin,
                idempotency_key=f"tp-award-{rider.user_id}-{n}",
            )  # fmt: skip
            counts["awards"] += 1
    counts["rollup_rows"] = rebuild_rollups()
    return counts


def _department(world):
    from yizhan.people.models import Department

    return Department.objects.get(pk=world.department_id)


def requests_of(world) -> tuple[list[Requests], list[Requests], list[Requests]]:
    """(riders, staff, version): per person, kind → the requests of that kind it sends."""
    from django.conf import settings

    from yizhan.people.models import User

    cookie_name = settings.SESSION_COOKIE_NAME
    language = {"Accept-Language": "zh-CN,zh;q=0.9"}
    riders = []
    for rider in world.riders:
        api = {**language, "Authorization": f"Bearer {rider.token}", "Accept": "application/json"}
        session = session_for(User.objects.get(pk=rider.user_id))
        page = {**language, "Cookie": f"{cookie_name}={session}"}
        lat, lng = rider.home
        near = urlencode({"lat": lat, "lng": lng, "radius": 3000, "services": "water"})
        ids = world.report_ids[rider.user_id]
        riders.append(
            {
                "home_page": [("/rider/", page)],
                "nearby_api": [(f"/api/v1/stations/nearby?{near}", api)],
                "nearby_page": [(f"/nearby/?{urlencode({'lat': lat, 'lng': lng})}", page)],
                "points_api": [("/api/v1/points/me", api)],
                "points_page": [("/rider/points/", page)],
                "mine_api": [("/api/v1/reports/mine", api)],
                "mine_page": [("/reports/mine/", page)],
                "report_api": [(f"/api/v1/reports/{i}", api) for i in ids],
                "report_page": [(f"/reports/{i}/", page) for i in ids],
            }
        )
    triage = User.objects.get(username="load_triage")
    api = {**language, "Authorization": f"Bearer {world.staff_tokens['triage']}"}
    page = {**language, "Cookie": f"{cookie_name}={session_for(triage)}"}
    staff = [
        {
            "triage_page": [("/console/reports/", page)],
            "queue_api": [("/api/v1/reports/queue?page_size=20", api)],
            "dashboard_page": [(f"/console/dashboard/{world.street_code}/", page)],
        }
    ]
    version = [{"version": [("/api/v1/version", language)]}]
    return riders, staff, version


# --- CPU ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (every core)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICK


def redis_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "redis-server":
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


@dataclass
class Snapshot:
    wall: float
    client: float
    machine: float
    server: dict[int, float]
    db: dict[int, float]
    redis: dict[int, float]


class Meter:
    """CPU seconds of each party between two snapshots."""

    def __init__(self, admin_url: str, database: str) -> None:
        import psycopg

        self.admin = psycopg.connect(admin_url, autocommit=True)
        self.database = database
        self.redis = redis_pids()
        self.master = 0

    def backends(self) -> list[int]:
        rows = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
        ).fetchall()
        return [r[0] for r in rows]

    def snapshot(self) -> Snapshot:
        def read(pids):
            return {p: c for p in pids if (c := cpu_seconds(p)) is not None}

        times = os.times()
        return Snapshot(
            wall=time.perf_counter(),
            client=times.user + times.system,
            machine=machine_busy(),
            server=read([self.master, *workers_of(self.master)]) if self.master else {},
            db=read(self.backends()),
            redis=read(self.redis),
        )

    @staticmethod
    def between(a: Snapshot, b: Snapshot) -> dict[str, float]:
        def delta(x: dict[int, float], y: dict[int, float]) -> float:
            return sum(v - x.get(p, 0.0) for p, v in y.items())

        used = {
            "wall": b.wall - a.wall,
            "server": delta(a.server, b.server),
            "db": delta(a.db, b.db),
            "redis": delta(a.redis, b.redis),
            "client": b.client - a.client,
            "machine": b.machine - a.machine,
        }
        known = used["server"] + used["db"] + used["redis"] + used["client"]
        used["others"] = max(0.0, used["machine"] - known)
        return used

    def close(self) -> None:
        self.admin.close()


# --- the clients -------------------------------------------------------------------------------


class MixClient:
    """One closed-loop client: a random person of its share, a random kind by weight, GET."""

    def __init__(self, port: int, stats: Stats, people: list[Requests], mix, seed: int) -> None:
        self.port, self.stats, self.people = port, stats, people
        self.kinds = [k for k, _w in mix]
        self.weights = [w for _k, w in mix]
        self.rng = random.Random(seed)
        self.stop = threading.Event()  # run_clients hands every client the same one
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def step(self) -> None:
        person = self.rng.choice(self.people)
        kind = self.rng.choices(self.kinds, self.weights)[0]
        path, headers = self.rng.choice(person[kind])
        self.send(kind, "GET", path, headers)

    def send(self, kind: str, method: str, path: str, headers: dict, body: bytes = b"") -> None:
        started = time.perf_counter()
        status, what = None, ""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.reconnects += 1
            self.conn.request(method, path, body=body or None, headers=headers)
            response = self.conn.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as exc:
            what = type(exc).__name__
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        elapsed = time.perf_counter() - started
        with self.stats.lock:
            if status is not None and 200 <= status < 300:
                self.stats.answered[kind] += 1
                self.stats.latencies[kind].append(elapsed)
            else:
                self.stats.errors[(kind, what or str(status))] += 1
                if len(self.stats.unexpected) < 5:
                    self.stats.unexpected.append(f"{kind} {path}: {what or status}")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class IntakeClient(MixClient):
    """Files reports through ``POST /api/v1/reports``, each with one 12-megapixel photo."""

    def __init__(self, port, stats, world, photos: list[bytes], seed: int) -> None:
        super().__init__(port, stats, [], (("intake", 1),), seed)
        self.world, self.photos = world, photos

    def step(self) -> None:
        rider = self.rng.choice(self.world.riders)
        lng0, lat0, lng1, lat1 = self.world.boxes[rider.community]
        lat = min(max(rider.home[0] + self.rng.uniform(-0.002, 0.002), lat0 + 1e-4), lat1 - 1e-4)
        lng = min(max(rider.home[1] + self.rng.uniform(-0.002, 0.002), lng0 + 1e-4), lng1 - 1e-4)
        key = f"tp-intake-{self.rng.getrandbits(64):016x}"
        body, content_type = multipart(
            {
                "category": str(self.rng.choice(self.world.categories)),
                "lat": f"{lat:.6f}",
                "lng": f"{lng:.6f}",
                "description": "3号楼2单元4层楼道堆放纸箱，堵住了半边通道",
                "address": "压测路 8 号",
            },
            [("photos", "IMG_0001.JPG", self.rng.choice(self.photos))],
        )
        headers = {
            "Authorization": f"Bearer {rider.token}",
            "Idempotency-Key": key,
            "Content-Type": content_type,
            "Accept-Language": "zh-CN,zh;q=0.9",
        }
        self.send("intake", "POST", "/api/v1/reports", headers, body)


@dataclass
class Tally:
    """One mix at one worker count, over its rounds."""

    stats: Stats = field(default_factory=Stats)
    used: Counter = field(default_factory=Counter)
    served_us: Counter = field(default_factory=Counter)  # kind → µs the workers spent
    served_n: Counter = field(default_factory=Counter)
    connections: int = 0

    @property
    def answered(self) -> int:
        return sum(self.stats.answered.values())

    @property
    def errors(self) -> int:
        return sum(self.stats.errors.values())

    @property
    def rps(self) -> float:
        return self.answered / self.used["wall"] if self.used["wall"] else 0.0

    def latencies(self) -> list[float]:
        return [x for values in self.stats.latencies.values() for x in values]


def kind_of(path: str) -> str:
    for pattern, kind in KIND_OF_PATH:
        if pattern.match(path):
            return kind
    return "other"


def read_access(log: Path, offset: int, tally: Tally) -> int:
    """Add the workers' time per kind from the access log past ``offset``; the new offset."""
    try:
        with log.open("rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return offset
    for line in data.decode(errors="replace").splitlines():
        parts = line.split(" ", 4)
        if len(parts) == 5 and parts[2].isdigit():
            request = parts[4].strip('"').split(" ")
            if len(request) >= 2:
                kind = kind_of(request[1])
                tally.served_us[kind] += int(parts[2])
                tally.served_n[kind] += 1
    return offset + len(data)


def run_mix(port: int, people: list[Requests], mix, seconds: float, meter: Meter, tally: Tally,
            access: Path, offset: int, seed: int) -> int:  # fmt: skip
    if mix == "intake":
        world, photos = people
        clients = [
            IntakeClient(port, tally.stats, world, photos, seed * 1000 + n)
            for n in range(INTAKE_CLIENTS)
        ]
    else:
        clients = []
        for n in range(CLIENTS):
            share = people[n::CLIENTS] or people
            clients.append(MixClient(port, tally.stats, share, mix, seed * 1000 + n))
    before = meter.snapshot()
    clock: dict = {}
    run_clients(clients, seconds, clock)
    after = meter.snapshot()
    for client in clients:
        client.close()
        tally.connections += client.reconnects
    tally.used.update(Meter.between(before, after))
    for failure in clock.get("failures", []):
        tally.stats.unexpected.append(f"driver: {failure}")
    return read_access(access, offset, tally)


def check_kinds(port: int, groups: dict[str, list[Requests]]) -> list[str]:
    """Every kind of every mix once: the status and size; problems as text."""
    problems = []
    for name, people in groups.items():
        seen = []
        for kind in people[0]:
            path, headers = people[0][kind][0]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                seen.append(f"{kind} {response.status} {len(body) / 1024:.1f} kB")
                if response.status != 200:
                    location = response.getheader("Location") or ""
                    problems.append(f"{kind} {path}: {response.status} {location} {body[:200]!r}")
            except (OSError, http.client.HTTPException) as exc:
                problems.append(f"{kind} {path}: {type(exc).__name__}")
            finally:
                conn.close()
        say(f"  {name}: " + ", ".join(seen))
    return problems


# --- in process --------------------------------------------------------------------------------


def in_process(groups: dict[str, list[Requests]]) -> dict[str, dict[str, float]]:
    """Each kind through Django's test client here: wall, CPU (this process and the database
    backend) and SQL statements per request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    rng = random.Random(5)
    costs: dict[str, dict[str, float]] = {}
    for people in groups.values():
        for kind in people[0]:
            sample = [rng.choice(rng.choice(people)[kind]) for _ in range(INPROCESS + 5)]
            for path, headers in sample[:5]:  # warm
                client.get(path, headers=headers)
            statuses = Counter()
            db0, cpu0, wall0 = cpu_seconds(backend) or 0.0, time.process_time(), time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                for path, headers in sample[5:]:
                    statuses[client.get(path, headers=headers).status_code] += 1
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            db = (cpu_seconds(backend) or 0.0) - db0
            n = len(sample) - 5
            costs[kind] = {
                "wall_ms": wall / n * 1000,
                "cpu_ms": cpu / n * 1000,
                "db_ms": db / n * 1000,
                "queries": len(queries.captured_queries) / n,
                "ok": statuses[200] == n,
            }
    return costs


def profile_riders(riders: list[Requests]) -> None:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(9)
    kinds, weights = [k for k, _w in RIDER_MIX], [w for _k, w in RIDER_MIX]
    sample = []
    for _ in range(max(100, INPROCESS * 4)):
        person = rng.choice(riders)
        sample.append(rng.choice(person[rng.choices(kinds, weights)[0]]))
    profiler = cProfile.Profile()
    profiler.enable()
    for path, headers in sample:
        client.get(path, headers=headers)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(18)
        say(f"profile of {len(sample)} rider-mix requests in process, by {order}:")
        for line in out.getvalue().splitlines():
            if re.match(r"\s+\d", line):
                say("    " + line.strip()[:160])


# --- main --------------------------------------------------------------------------------------


def free_port() -> int:
    """A free port in 18000–18999 (others serve on 5000–5999 and 8000–8100)."""
    start = 18000 + os.getpid() % len(PORTS)
    for n in range(len(PORTS)):
        port = PORTS[(start - PORTS.start + n) % len(PORTS)]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18000–18999")


def redis_usable(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


def main() -> int:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        url = DEFAULT_URL
    parts = urlsplit(url)
    target = urlunsplit(parts._replace(path=f"/yizhan_bench_tp_{os.getpid()}"))
    try:
        db_url, name, admin_url = load_database(target)
    except Exception as exc:  # no server, no permission: say so, as the other benchmarks do
        say(f"benchmarks/throughput.py: PostgreSQL at {parts.netloc} is not usable: {exc}")
        say("RESULT throughput db=none skipped=1")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="yizhan_bench_tp_"))
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    cache = "redis" if redis_usable(redis_url) else "locmem"
    os.environ.update(production_env(db_url, workdir))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "prometheus")
    (workdir / "prometheus").mkdir()
    # Tasks (notifications of the seed's reports) run at commit: no task worker is started.
    os.environ["TASKS_IMMEDIATE"] = "1"
    if cache == "redis":
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
        say(f"Redis at {redis_url} does not answer: the local-memory cache instead")
    say(f"database: {name} (created) on {parts.hostname}:{parts.port}; cache: {cache}")
    code, result = 1, "RESULT throughput error=setup"
    try:
        code, result = run(admin_url, name, workdir, cache)
    finally:
        from django.db import connections

        connections.close_all()
        if cache == "redis":
            try:
                from django.core.cache import cache as django_cache

                django_cache.clear()
            except Exception as exc:
                say(f"could not empty the Redis database: {exc}")
        if KEEP:
            say(f"kept {name} and {workdir} (BENCH_KEEP=1): remove them yourself")
        else:
            drop_database(admin_url, name)
            shutil.rmtree(workdir, ignore_errors=True)
            say(f"dropped {name}")
    say(result)
    return code


def run(admin_url: str, name: str, workdir: Path, cache: str) -> tuple[int, str]:
    import logging

    import django

    django.setup()
    # The task runner logs every task at INFO, whatever LOG_LEVEL says: the seed runs hundreds.
    logging.getLogger("huey").setLevel(logging.WARNING)
    from _load_world import build_world
    from django.core.cache import cache as django_cache
    from django.core.management import call_command
    from django.db import connection, connections

    load1 = os.getloadavg()[0]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if cache == "redis":
        django_cache.clear()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    migrated = time.perf_counter() - started
    started = time.perf_counter()
    # As a deployment does: the production settings serve static files from a manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    collected = time.perf_counter() - started
    started = time.perf_counter()
    world = build_world(RIDERS)
    built = time.perf_counter() - started
    started = time.perf_counter()
    counts = seed(world)
    seeded = time.perf_counter() - started
    riders, staff, version_people = requests_of(world)
    groups = {"version": version_people, "rider": riders, "staff": staff}
    say(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared), "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; PostgreSQL {version}; "
        f"Python {platform.python_version()}"
    )
    say(
        f"world: {len(world.riders)} riders, {counts['reports']} reports ({counts['accepted']} "
        f"accepted, {counts['dispatched']} of them dispatched), {counts['awards']} manual "
        f"awards, {counts['rollup_rows']} rollup rows; migrated in {migrated:.1f} s, static "
        f"files collected in {collected:.1f} s, world built in {built:.1f} s, seeded in "
        f"{seeded:.1f} s"
    )

    costs = in_process(groups)
    say(
        f"in process (Django's test client, {INPROCESS} requests a kind; db = the PostgreSQL "
        "backend's CPU):"
    )
    say(f"  {'kind':15s} {'wall ms':>8s} {'cpu ms':>7s} {'db ms':>6s} {'queries':>7s}")
    for kind, c in costs.items():
        say(
            f"  {kind:15s} {c['wall_ms']:8.2f} {c['cpu_ms']:7.2f} {c['db_ms']:6.2f} "
            f"{c['queries']:7.1f}" + ("" if c["ok"] else "  (not every answer was 200)")
        )
    if PROFILE:
        profile_riders(riders)
    connections.close_all()

    intake = None
    if INTAKE_SECONDS > 0:
        from datetime import timedelta

        from django.utils import timezone
        from report_intake import make_photo

        started = time.perf_counter()
        taken = timezone.now() - timedelta(minutes=30)
        photos = [make_photo(1000 + n, taken) for n in range(INTAKE_PHOTOS)]
        intake = (world, photos)
        say(
            f"intake photos: {len(photos)} of 4000×3000 with a phone's EXIF "
            f"(report_intake.make_photo), {sum(map(len, photos)) / len(photos) / 1e6:.1f} MB "
            f"each; made in {time.perf_counter() - started:.1f} s"
        )
    meter = Meter(admin_url, name)
    tallies: dict[tuple[str, int], Tally] = {}
    problems: list[str] = []
    try:
        for workers in WORKERS:
            problems += serve(workers, groups, intake, meter, tallies, workdir)
    finally:
        meter.close()
    return report(tallies, problems, costs, load1, cache)


def serve(workers: int, groups, intake, meter: Meter, tallies, workdir: Path) -> list[str]:
    port = free_port()
    log = workdir / f"gunicorn_{workers}w.log"
    access = log.with_name("access.log")
    server = start_server(port, workers, log, preload=False)
    meter.master = server.pid
    try:
        if not wait_ready(port, server):
            say(f"gunicorn did not answer: {log.read_text(errors='replace')[-2000:]}")
            return [f"{workers} workers: gunicorn did not start"]
        warm(port, workers)
        say(
            f"server: gunicorn, {workers} sync worker(s) (pids {sorted(workers_of(server.pid))}), "
            f"production settings, 127.0.0.1:{port}; answers:"
        )
        problems = check_kinds(port, groups)
        if problems:
            tail = log.read_text(errors="replace").splitlines()[-40:] if log.exists() else []
            say("server log, last lines:\n" + "\n".join(f"    {line[:300]}" for line in tail))
            return [f"{workers} workers: {p}" for p in problems]
        for name, people in groups.items():  # every worker on every kind, and the backends
            run_mix(port, people, MIXES[name], 1.5, meter, Tally(), access, 0, seed=99)
        offset = access.stat().st_size if access.exists() else 0
        order = list(groups)
        for n in range(ROUNDS):
            for name in order if n % 2 == 0 else order[::-1]:
                tally = tallies.setdefault((name, workers), Tally())
                offset = run_mix(
                    port, groups[name], MIXES[name], SECONDS / ROUNDS, meter, tally, access,
                    offset, seed=n * 10 + workers,
                )  # fmt: skip
        for name in groups:
            say(line_of(name, workers, tallies[(name, workers)]))
        if intake is not None:
            # Each worker loads the face cascades on its first photo: not measured.
            run_mix(port, intake, "intake", 2.0, meter, Tally(), access, 0, seed=98)
            offset = access.stat().st_size if access.exists() else 0
            tally = tallies.setdefault(("intake", workers), Tally())
            run_mix(
                port, intake, "intake", INTAKE_SECONDS, meter, tally, access, offset,
                seed=50 + workers,
            )  # fmt: skip
            say(line_of("intake", workers, tally))
        return []
    finally:
        meter.master = 0
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_errors = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
        if server_errors:
            say(f"server log: {server_errors} tracebacks ({log})")


def line_of(name: str, workers: int, t: Tally) -> str:
    u, lat = t.used, t.latencies()
    wall = u["wall"] or 1.0
    served_s = sum(t.served_us.values()) / 1e6
    on_cpu = u["server"] / served_s if served_s else 0.0
    return (
        f"  {name:7s} {workers}w: {t.answered:6d} answered in {wall:4.1f} s = {t.rps:6.1f}/s, "
        f"p50 {percentile(lat, 0.5) * 1000:5.1f} ms, p99 {percentile(lat, 0.99) * 1000:5.1f} ms; "
        f"cores: server {u['server'] / wall:.2f}, db {u['db'] / wall:.2f}, redis "
        f"{u['redis'] / wall:.2f}, client {u['client'] / wall:.2f}, others "
        f"{u['others'] / wall:.2f} (machine {u['machine'] / wall:.2f}); "
        f"{t.rps / (u['server'] / wall) if u['server'] else 0:.0f}/s per server core; "
        f"workers on CPU {on_cpu:.0%} of their busy time; {t.connections} connections; "
        f"{t.errors} errors"
    )


def pooled(tallies, name: str, with_db: bool = False) -> float:
    answered = cpu = 0.0
    for (mix, _w), t in tallies.items():
        if mix == name:
            answered += t.answered
            cpu += t.used["server"] + (t.used["db"] if with_db else 0.0)
    return answered / cpu if cpu else 0.0


def report(tallies, problems, costs, load1: float, cache: str) -> tuple[int, str]:
    most = max(WORKERS)
    say(
        "per kind, rider and staff mixes with the most workers (client's latency; the worker's "
        "own time from the access log):"
    )
    say(f"  {'kind':15s} {'answered':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'worker ms':>9s}")
    for name in ("rider", "staff", "intake"):
        t = tallies.get((name, most))
        if t is None:
            continue
        for kind in sorted(t.stats.answered, key=lambda k: -t.stats.answered[k]):
            values = t.stats.latencies[kind]
            served = t.served_us[kind] / t.served_n[kind] / 1000 if t.served_n[kind] else 0.0
            say(
                f"  {kind:15s} {t.stats.answered[kind]:8d} {percentile(values, 0.5) * 1000:7.1f} "
                f"{percentile(values, 0.99) * 1000:7.1f} {served:9.2f}"
            )
    errors = 0
    for (name, workers), t in sorted(tallies.items()):
        errors += t.errors
        if t.errors:
            problems.append(
                f"{name} {workers}w: {t.errors} errors: "
                + ", ".join(f"{k} {w}: {n}" for (k, w), n in t.stats.errors.most_common(5))
                + (f" (first: {' | '.join(t.stats.unexpected[:3])})" if t.stats.unexpected else "")
            )
    not_ok = [kind for kind, c in costs.items() if not c["ok"]]
    if not_ok:
        problems.append("in process, not every answer was 200: " + ", ".join(not_ok))
    names = [*MIXES, *(["intake"] if any(m == "intake" for m, _w in tallies) else [])]
    per_core = {n: pooled(tallies, n) for n in names}
    with_db = {n: pooled(tallies, n, with_db=True) for n in names}
    say(
        "per server core (pooled over "
        + ", ".join(f"{w} worker{'s' if w > 1 else ''}" for w in WORKERS)
        + "): "
        + ", ".join(
            f"{n} {per_core[n]:.{2 if n == 'intake' else 0}f}/s ("
            f"{1000 / per_core[n] if per_core[n] else 0:.2f} CPU ms a request; "
            f"{with_db[n]:.{2 if n == 'intake' else 0}f}/s with the database's CPU)"
            for n in names
        )
    )
    for p in problems:
        say(f"ERROR: {p}")

    def rps(name: str, workers: int) -> str:
        t = tallies.get((name, workers))
        return (f"{t.rps:.2f}" if t.rps < 10 else f"{t.rps:.1f}") if t else "n/a"

    rider = tallies.get(("rider", most))
    staff = tallies.get(("staff", most))
    lat = rider.latencies() if rider else []
    staff_lat = staff.latencies() if staff else []
    client_cores = rider.used["client"] / rider.used["wall"] if rider and rider.used["wall"] else 0
    keys = [f"{n}_rps_{w}w={rps(n, w)}" for n in ("rider", "staff", "version") for w in WORKERS]
    intake = tallies.get(("intake", most))
    if "intake" in per_core:
        keys += [f"intake_per_s_{w}w={rps('intake', w)}" for w in WORKERS]
        keys += [
            f"intake_per_core={per_core['intake']:.2f}",
            f"intake_cpu_ms={1000 / per_core['intake'] if per_core['intake'] else 0:.0f}",
            f"intake_p50_ms={percentile(intake.latencies(), 0.5) * 1000 if intake else 0:.0f}",
        ]
    ratio = per_core["rider"] / per_core["version"] if per_core["version"] else 0.0
    result = (
        "RESULT throughput "
        + " ".join(keys)
        + f" rider_rps_per_core={per_core['rider']:.0f} staff_rps_per_core={per_core['staff']:.0f}"
        f" version_rps_per_core={per_core['version']:.0f}"
        f" rider_vs_version={ratio:.2f}"
        f" rider_rps_per_core_with_db={with_db['rider']:.0f}"
        f" staff_rps_per_core_with_db={with_db['staff']:.0f}"
        f" p50_ms={percentile(lat, 0.5) * 1000:.1f} p99_ms={percentile(lat, 0.99) * 1000:.1f}"
        f" staff_p99_ms={percentile(staff_lat, 0.99) * 1000:.1f}"
        f" client_cores={client_cores:.2f} errors={errors} clients={CLIENTS}"
        f" seconds={SECONDS:.0f} riders={RIDERS} cache={cache} load1={load1:.2f}"
    )  # fmt: skip
    return (1 if problems else 0), result


if __name__ == "__main__":
    sys.exit(main())
