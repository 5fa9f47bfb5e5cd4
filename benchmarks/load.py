"""Load and faults (issue 8): mixed rider and staff traffic against gunicorn + PostgreSQL, one
worker killed with SIGKILL in the middle, failed writes retried with their idempotency keys, and
afterwards every acknowledged write checked to be in the database exactly once and the points
ledger reconciled.

Run it::

    .venv/bin/python benchmarks/load.py                 # 300 s, the issue's five minutes
    .venv/bin/python benchmarks/load.py --duration 60   # a short run

The database: ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/yizhan_load``)
names it; it is dropped and created afresh, migrated, and dropped again at the end (``--keep``
keeps it). When the URL names the server's maintenance database (``postgres``, as
``make bench`` is usually run) the script uses ``yizhan_load`` on that server instead. Without
PostgreSQL (a SQLite URL, or no server answering) it says so and prints
``RESULT load db=none skipped=1``. Photos go to a temporary MEDIA_ROOT, removed at the end.

The world (``_load_world``): one street with four communities and grids, its staff, a
department with a handler, ``--riders`` riders registered and verified through the services,
eight stations, the standard report categories (5 points a verified report), three rewards with
stock at every station, one event; each rider starts with 500 points (one manual award). Every
client uses a bearer token issued by ``people.services.token_issue``.

The server: ``gunicorn yizhan.config.wsgi`` with ``--workers`` sync workers on 127.0.0.1 and a
free port, under ``yizhan.config.settings.production`` (DEBUG off, a random SECRET_KEY,
``SECURE_SSL_REDIRECT=0`` on loopback, persistent database connections ``DB_CONN_MAX_AGE=600``)
with the rate limits raised for the run (``RATE_LIMIT_REPORT_SUBMIT``, ``…_CHECK_IN``,
``…_REDEMPTION`` = 100000/1h: one account's phone would be limited long before a load test's
simulated riders are; the limits themselves are tested in tests/core).

The traffic (``_load_driver``): ``--clients`` rider threads and four staff threads, closed loop,
for ``--duration`` seconds. Riders (a random one of the thread's share each time) browse nearby
stations, their points, the rewards and events, their reports; file reports (a small real JPEG
made with Pillow, multipart), check in at stations (QR token) and reserve rewards. Staff: triage
(accept, dispatch to the department), the handler (handle, with an after photo), verification
(verify on site, which pays the reporter, and close), and manual awards of 1–10 points. Every
write carries an ``Idempotency-Key`` header.

The fault: at ``--kill-at`` seconds (default: half the duration) one of the master's worker
processes (read from ``/proc/<master>/task/<master>/children``) gets SIGKILL; gunicorn starts
another. The request it was serving fails on the client (connection reset or closed without an
answer); the client sends it again with the same key (at most 10 attempts, backoff 0.2 s
doubling to 4 s). Failures before a retry are counted as errors.

The checks (``_load_check``): per kind, every acknowledged write is in the database once (by its
key in the idempotency table and by the rows themselves), no row the run wrote is unaccounted
for, no workflow transition happened twice, the stock is conserved; then ``manage.py
reconcile`` (ledger and leaderboards) → ``reconciled=yes/no``.

The RESULT line: ``rps`` = answered requests (any status below 500, every attempt) per second;
``p50_ms``/``p99_ms`` over those answers; ``errors`` = failed attempts (no answer, 5xx, 429)
before their retries; ``lost``/``duplicated`` as above. It exits 1 when lost or duplicated is
above 0, the ledger does not reconcile or the stock is not conserved.

Options (or environment): --duration [300] (LOAD_DURATION), --riders [200], --clients [16]
rider threads, --workers [4], --kills [1] (LOAD_KILLS; spread evenly over the run),
--kill-at (one kill at that second), --no-kill, --preload (gunicorn --preload: workers are
forked from a master that has loaded the app), --keep.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yizhan_load"
MAINTENANCE = {"", "postgres", "template0", "template1"}
RAISED_LIMIT = "100000/1h"
#: worker pid, client port, microseconds the worker spent, status, request line
ACCESS = '%(p)s %({remote_port}e)s %(D)s %(s)s "%(r)s"'


def say(text: str = "") -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("LOAD_DURATION", 300))
    )
    parser.add_argument("--riders", type=int, default=int(os.environ.get("LOAD_RIDERS", 200)))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("LOAD_CLIENTS", 16)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("LOAD_WORKERS", 4)))
    parser.add_argument("--kill-at", type=float, default=None)
    parser.add_argument("--kills", type=int, default=int(os.environ.get("LOAD_KILLS", 1)))
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload")
    return parser.parse_args()


# --- the database ------------------------------------------------------------------------------


def load_database(url: str) -> tuple[str, str, str]:
    """(the load database's URL, its name, the maintenance URL), after dropping and creating it."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if name in MAINTENANCE:
        name = "yizhan_load"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name, admin_url


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(db_url: str, workdir: Path) -> dict[str, str]:
    """The environment of the server and of this process (the same keys: phone numbers are
    encrypted with a key derived from SECRET_KEY when the seed writes them)."""
    return {
        "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.production",
        "DATABASE_URL": db_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "YIZHAN_VAR_DIR": str(workdir / "var"),
        "MEDIA_ROOT": str(workdir / "media"),
        "STATIC_ROOT": str(workdir / "static"),
        "PRIVATE_MEDIA_ROOT": str(workdir / "media-private"),
        "RATE_LIMIT_REPORT_SUBMIT": RAISED_LIMIT,
        "RATE_LIMIT_CHECK_IN": RAISED_LIMIT,
        "RATE_LIMIT_REDEMPTION": RAISED_LIMIT,
    }


def start_server(port: int, workers: int, log: Path, preload: bool) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    out = log.open("ab")
    return subprocess.Popen(
        [str(gunicorn), "yizhan.config.wsgi:application", "--workers", str(workers),
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--timeout", "60", "--graceful-timeout", "10", *(["--preload"] if preload else []),
         "--access-logfile", str(log.with_name("access.log")), "--access-logformat", ACCESS],
        env=dict(os.environ), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip


def served_times(access_log: Path) -> dict[int, tuple[str, float]]:
    """client port → (worker pid, ms the worker spent), from gunicorn's access log (a port is
    reused over a long run: the last line wins, good enough for the slowest few)."""
    served = {}
    try:
        lines = access_log.read_text(errors="replace").splitlines()
    except OSError:
        return served
    for line in lines:
        parts = line.split(" ", 4)
        if len(parts) >= 4 and parts[1].isdigit() and parts[2].isdigit():
            served[int(parts[1])] = (parts[0].strip("<>"), int(parts[2]) / 1000)
    return served


def warm(port: int, workers: int) -> None:
    """Every worker loads the URLconf (and with it every app's API) on its first request: a few
    rounds of 4 × workers concurrent requests before the clock starts, so that no measured
    request pays for it (except those a respawned worker takes first: that is part of the
    fault)."""
    import http.client
    import threading

    def get() -> None:
        for _ in range(3):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("GET", "/api/v1/version")
                conn.getresponse().read()
                conn.close()
            except OSError:
                pass

    threads = [threading.Thread(target=get) for _ in range(4 * workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def wait_ready(port: int, server: subprocess.Popen, seconds: float = 120) -> bool:
    import http.client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/v1/version")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def workers_of(master: int) -> list[int]:
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _peer_ports(pid: int, server_port: int) -> set[int]:
    """The client ports of the connections worker ``pid`` holds open (accepted from
    ``server_port``): its socket inodes from /proc/<pid>/fd, their addresses from /proc/net/tcp."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return set()
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, inode = parts[1], parts[2], parts[9]
            if inode in inodes and int(local.rsplit(":", 1)[1], 16) == server_port:
                peer = int(remote.rsplit(":", 1)[1], 16)
                if peer:
                    ports.add(peer)
    return ports


@dataclass
class Kill:
    at: float  # seconds into the run
    pid: int = 0
    why: str = ""
    target: tuple[str, str] | None = None  # the write it was serving: (kind, key)
    wall: float = 0.0  # time.time() of the kill
    respawned: float | None = None  # when the master ran a full set of workers again
    before: set[int] = field(default_factory=set)


class Killer:
    """SIGKILL a worker at each of ``times`` (seconds into the run): one serving a write at
    that moment (its accepted connection's client port is a write the driver has on the wire;
    looked for during up to 5 s, else any worker); then notes when the master runs a
    replacement."""

    def __init__(self, master: int, times: list[float], workers: int, port: int, stats) -> None:
        self.master, self.workers, self.port, self.stats = master, workers, port, stats
        self.pending = sorted(times)
        self.kills: list[Kill] = []

    def _victim(self, kill: Kill) -> int | None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pids = workers_of(self.master)
            random.shuffle(pids)
            for pid in pids:
                for peer in _peer_ports(pid, self.port):
                    kind, key = self.stats.inflight.get(peer, ("", None))
                    if key is not None:
                        kill.target, kill.why = (kind, key), f"serving a write: {kind} {key}"
                        return pid
            time.sleep(0.01)
        pids = workers_of(self.master)
        kill.why = "no write seen on the wire: any worker"
        return random.choice(pids) if pids else None

    def tick(self, elapsed: float) -> None:
        for kill in self.kills:
            if kill.respawned is None:
                now = set(workers_of(self.master))
                if now - kill.before and len(now) >= self.workers:
                    kill.respawned = elapsed
                    say(
                        f"  {elapsed:6.1f} s: the master runs {len(now)} workers again "
                        f"(new: {sorted(now - kill.before)})"
                    )
        if self.pending and elapsed >= self.pending[0]:
            kill = Kill(at=elapsed)
            kill.before = set(workers_of(self.master))
            victim = self._victim(kill)
            if victim is None:
                return
            self.pending.pop(0)
            os.kill(victim, signal.SIGKILL)
            kill.pid, kill.wall, kill.at = victim, time.time(), elapsed
            self.kills.append(kill)
            say(f"  {elapsed:6.1f} s: SIGKILL to worker {victim} ({kill.why})")


def killed_write(kill: Kill, stats) -> str:
    """What became of the write the killed worker was serving."""
    from datetime import UTC, datetime

    from _load_check import SCOPES

    from yizhan.core.models import IdempotencyRecord

    kind, key = kill.target
    acks = [a for a in stats.acks if a.key == key]
    if not acks:
        gave_up = any(k == key for _kind, k in stats.gave_up)
        return f"{kind} {key}: not acknowledged" + (" (the client gave up)" if gave_up else "")
    ack = acks[0]
    text = f"{kind} acknowledged on attempt {ack.attempts} with id {ack.id} (HTTP {ack.status})"
    if ack.extra.get("by_state"):
        text += ", confirmed by the report's state after a 409"
    scope = SCOPES.get(kind)
    if scope:
        record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if record is not None:
            killed_at = datetime.fromtimestamp(kill.wall, tz=UTC)
            if record.created_at < killed_at:
                text += "; the killed attempt had committed, the retry replayed its result"
            else:
                text += "; the killed attempt was rolled back, the retry wrote it"
    return text


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        say(
            f"benchmarks/load.py needs PostgreSQL: DATABASE_URL=postgres://… (default "
            f"{DEFAULT_URL})"
        )
        say("RESULT load db=none skipped=1")
        return 0
    try:
        db_url, name, admin_url = load_database(url)
    except Exception as exc:  # no server, no permission: say so, as the other benchmarks do
        say(f"benchmarks/load.py: PostgreSQL at {urlsplit(url).netloc} is not usable: {exc}")
        say("RESULT load db=none skipped=1")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="yizhan_load_"))
    os.environ.update(production_env(db_url, workdir))
    say(f"database: {name} (dropped and created) on {urlsplit(url).hostname}:{urlsplit(url).port}")
    try:
        code, result = run(args, workdir)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            say(f"kept {name} and {workdir} (--keep): remove them yourself")
        else:
            drop_database(admin_url, name)
            shutil.rmtree(workdir, ignore_errors=True)
            say(f"dropped {name}")
    say(result)
    return code


def run(args: argparse.Namespace, workdir: Path) -> tuple[int, str]:
    import django

    django.setup()
    from _load_check import check_writes, orphan_files
    from _load_driver import (
        MAX_ATTEMPTS,
        RiderClient,
        StaffClient,
        Stats,
        run_clients,
    )
    from _load_world import build_world
    from django.core.management import call_command
    from django.db import connection, connections

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    migrated = time.perf_counter() - started
    started = time.perf_counter()
    world = build_world(args.riders)
    seeded = time.perf_counter() - started
    connections.close_all()
    load = os.getloadavg()
    say(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared), "
        f"load {load[0]:.1f}; PostgreSQL {version} (synchronous_commit={sync}); Python "
        f"{platform.python_version()}"
    )
    say(
        f"world: {len(world.riders)} verified riders, 4 staff, {len(world.stations)} stations, "
        f"{len(world.categories)} report categories, {len(world.rewards)} rewards; migrated in "
        f"{migrated:.1f} s, seeded through the services in {seeded:.1f} s"
    )

    port = free_port()
    log = workdir / "gunicorn.log"
    server = start_server(port, args.workers, log, args.preload)
    try:
        if not wait_ready(port, server):
            say(f"gunicorn did not answer: {log.read_text(errors='replace')[-2000:]}")
            return 1, "RESULT load error=server_did_not_start"
        warm(port, args.workers)
        preload = " (--preload)" if args.preload else ""
        say(
            f"server: gunicorn, {args.workers} sync workers{preload} (pids "
            f"{sorted(workers_of(server.pid))}), production settings, 127.0.0.1:{port}"
        )
        if args.no_kill:
            kill_times = []
        elif args.kill_at is not None:
            kill_times = [args.kill_at]
        else:
            kill_times = [args.duration * (i + 1) / (args.kills + 1) for i in range(args.kills)]
        say(
            f"traffic: {args.clients} rider clients over {len(world.riders)} riders + 4 staff "
            f"clients, closed loop, {args.duration:.0f} s; "
            + (
                "SIGKILL to a worker at " + ", ".join(f"{t:.0f} s" for t in kill_times)
                if kill_times
                else "no kill"
            )
        )
        stats, clock = Stats(), {"start": time.perf_counter()}
        photo_seq = itertools.count(1)
        rng = random.Random(88)
        clients = []
        for n in range(args.clients):
            share = world.riders[n :: args.clients]
            clients.append(
                RiderClient(port, stats, clock, world, share, random.Random(rng.random()),
                            photo_seq)
            )  # fmt: skip
        for role in ("triage", "handler", "verify", "award"):
            clients.append(
                StaffClient(port, stats, clock, world, role, random.Random(rng.random()),
                            photo_seq)
            )  # fmt: skip
        killer = Killer(server.pid, kill_times, args.workers, port, stats)
        elapsed = run_clients(clients, args.duration, clock, on_tick=killer.tick)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    # --- figures ---
    all_latencies = [x for values in stats.latencies.values() for x in values]
    answered = sum(stats.answered.values())
    rps = answered / elapsed if elapsed else 0.0
    p50, p99 = percentile(all_latencies, 0.5) * 1000, percentile(all_latencies, 0.99) * 1000
    errors = sum(stats.errors.values())
    http_5xx = sum(
        n for (_k, what), n in stats.errors.items() if what.isdigit() and int(what) >= 500
    )
    retries = sum(stats.retries.values())
    say(
        f"requests: {answered:,} answered in {elapsed:.1f} s = {rps:.1f}/s; p50 {p50:.0f} ms, "
        f"p99 {p99:.0f} ms, max {max(all_latencies, default=0) * 1000:.0f} ms"
    )
    say(f"  {'kind':15s} {'answered':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'errors':>6s} "
        f"{'retries':>7s} {'acked':>6s}")  # fmt: skip
    acked_by_kind: dict[str, int] = {}
    for ack in stats.acks:
        acked_by_kind[ack.kind] = acked_by_kind.get(ack.kind, 0) + 1
    errors_by_kind: dict[str, int] = {}
    for (kind, _what), n in stats.errors.items():
        errors_by_kind[kind] = errors_by_kind.get(kind, 0) + n
    for kind in sorted(stats.answered, key=lambda k: -stats.answered[k]):
        values = stats.latencies[kind]
        say(
            f"  {kind:15s} {stats.answered[kind]:8,d} {percentile(values, 0.5) * 1000:7.0f} "
            f"{percentile(values, 0.99) * 1000:7.0f} {errors_by_kind.get(kind, 0):6d} "
            f"{stats.retries[kind]:7d} {acked_by_kind.get(kind, '–')!s:>6s}"
        )
    served = served_times(workdir / "access.log")
    say(
        "slowest (client's time; the worker's own time from the access log): "
        + ", ".join(
            f"{kind} {ms * 1000:.0f} ms (sent at {t:.1f} s, {status}; "
            + (
                f"worker {served[port][0]}: {served[port][1]:.0f} ms)"
                if port in served
                else "not in the access log)"
            )
            for ms, t, kind, status, port in sorted(stats.slowest, reverse=True)
        )
    )
    if stats.errors:
        say(
            "errors before retry: "
            + ", ".join(f"{k} {w}: {n}" for (k, w), n in stats.errors.most_common())
        )
    for kill in killer.kills:
        near = [
            t for t, s in stats.timeline if kill.at <= t <= kill.at + 30 and (s == 0 or s >= 500)
        ]
        respawn = (
            f"; a replacement ran {kill.respawned - kill.at:.1f} s later"
            if kill.respawned is not None
            else ""
        )
        say(
            f"kill: worker {kill.pid} at {kill.at:.1f} s ({kill.why}){respawn}; failed attempts "
            f"ending in the next 30 s: {len(near)}"
        )
        if kill.target:
            say(f"  the write it was serving: {killed_write(kill, stats)}")
    say(
        f"retries: {retries} (writes answered on a retry: {sum(stats.replays.values())}; "
        f"transitions confirmed by the report's state after a 409: "
        f"{sum(stats.confirmed_by_state.values())}); gave up after {MAX_ATTEMPTS} attempts: "
        f"{len(stats.gave_up)}"
    )
    if stats.refused:
        say(
            "refused (expected 4xx, nothing written): "
            + ", ".join(f"{k} {c}: {n}" for (k, c), n in stats.refused.most_common())
        )
    if stats.unexpected:
        say(f"UNEXPECTED 4xx: {len(stats.unexpected)}; first: " + " | ".join(stats.unexpected[:5]))
    failures = clock.get("failures", [])
    if failures:
        say(f"DRIVER FAILURES: {len(failures)}; first: " + " | ".join(failures[:5]))

    # --- checks ---
    started = time.perf_counter()
    check = check_writes(stats, world.street_code)
    say(
        "acknowledged writes: "
        + ", ".join(f"{k} {n}" for k, n in sorted(check.acked.items()))
        + f" (total {sum(check.acked.values())})"
    )
    unacked = {k: n for k, n in check.unacked_written.items() if n}
    if unacked:
        say(f"  written but never acknowledged (the client gave up): {unacked}")
    say(
        f"lost: {check.total_lost} {dict(+check.lost) or ''}; duplicated: "
        f"{check.total_duplicated} {dict(+check.duplicated) or ''}"
    )
    for line in check.notes[:20]:
        say(f"  {line}")
    for line in check.stock_problems[:20]:
        say(f"  STOCK {line}")
    orphans, files = orphan_files(workdir)
    say(f"photo files: {files}, of which no row points at {orphans}")
    connections.close_all()
    reconcile = subprocess.run(
        [sys.executable, "manage.py", "reconcile"], cwd=ROOT, env=dict(os.environ),
        capture_output=True, text=True,
    )  # fmt: skip
    reconciled = reconcile.returncode == 0
    for line in (reconcile.stdout + reconcile.stderr).strip().splitlines()[:20]:
        say(f"  reconcile: {line}")
    say(f"checked in {time.perf_counter() - started:.1f} s")
    server_errors = log.read_text(errors="replace").count("Traceback")
    if server_errors:
        say(f"server log: {server_errors} tracebacks (see {log} with --keep)")

    failed = []
    if check.total_lost:
        failed.append(f"{check.total_lost} acknowledged writes lost")
    if check.total_duplicated:
        failed.append(f"{check.total_duplicated} writes duplicated")
    if not reconciled:
        failed.append("the ledger does not reconcile")
    if check.stock_problems:
        failed.append(f"{len(check.stock_problems)} stock rows not conserved")
    for miss in failed:
        say(f"FAILED: {miss}")
    result = (
        f"RESULT load rps={rps:.1f} p99_ms={p99:.0f} errors={errors} lost={check.total_lost} "
        f"duplicated={check.total_duplicated} reconciled={'yes' if reconciled else 'no'} "
        f"p50_ms={p50:.0f} http_5xx={http_5xx} retries={retries} gave_up={len(stats.gave_up)} "
        f"acked_writes={sum(check.acked.values())} kills={len(killer.kills)} "
        f"unexpected_4xx={len(stats.unexpected)} "
        f"stock={'bad' if check.stock_problems else 'ok'} "
        f"orphan_files={orphans} workers={args.workers} clients={args.clients + 4} "
        f"riders={len(world.riders)} duration_s={elapsed:.0f}"
    )
    return (1 if failed else 0), result


if __name__ == "__main__":
    sys.exit(main())
