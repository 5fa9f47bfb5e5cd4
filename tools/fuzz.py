"""``make fuzz``: schemathesis against the live API, authenticated as several roles.

What it does, in one run:

1. **A throw-away database with the demo street.** By default a SQLite file in a temporary
   directory (which also holds MEDIA_ROOT); with ``--database-url postgres://…/yz_fuzz`` a
   PostgreSQL database, dropped and created anew (its name must contain ``fuzz``, so a real
   database is never dropped by mistake). ``manage.py migrate`` and ``manage.py demo`` run with
   the demo-mode setting, as ``make demo`` does. ``--template DIR`` keeps a migrated demo
   SQLite database in DIR and starts from a copy of it next time (the demo takes minutes);
   ``migrate`` still runs on the copy, so new migrations are applied.
2. **A live server**: gunicorn (two sync workers) on a free loopback port, DEBUG off, the dev
   settings with demo mode on. Its log is kept in the temporary directory and its 500
   tracebacks are printed at the end.
3. **The roles.** Anonymous, then the demo's showcase accounts, lowest privilege first (the
   fuzzer writes: a street admin who rejects a rider early would leave the rider's own run
   with nothing but 401s): a verified rider, the merchant of the points shop, a handler (an
   executive department), community staff, a street admin. Each logs in through
   ``POST /api/v1/auth/token`` (password ``yizhan-demo-2026``) and is fuzzed with its bearer
   token.
4. **schemathesis** (``st run``) for every operation in ``/api/v1/openapi.json``, once per
   role, phases examples, coverage and fuzzing, a fixed ``--seed`` (the same run twice sends
   the same requests to the same starting data), ``--max-examples`` from ``FUZZ_EXAMPLES``.
   Checks: ``not_a_server_error`` (no 5xx), ``status_code_conformance`` (every status the API
   answers is declared), ``content_type_conformance`` and ``response_schema_conformance``
   (every body matches its declared schema). Operations that revoke the caller's own
   credentials are left out for the signed-in roles (they would turn the rest of the run into
   401s): ``DELETE /auth/tokens/{token_id}``. ``--exclude REGEX`` (repeatable, or
   ``FUZZ_EXCLUDE``, comma-separated) leaves out more paths.
5. **The summary**, from schemathesis's NDJSON event stream: every request sent (``calls``),
   every response with a 5xx status (``server_errors``), every test case with a failed
   conformance check (``schema_failures``), then the failing operations per role, and a last
   line::

       RESULT fuzz operations=202 calls=41234 server_errors=0 schema_failures=0

   The exit status is 1 when ``server_errors`` or ``schema_failures`` is not 0.

Environment (each also an option; the option wins):

- ``FUZZ_EXAMPLES`` examples per operation and role in the fuzzing phase (default 25; CI: 5)
- ``FUZZ_SEED`` the seed (default 20260808)
- ``FUZZ_ROLES`` comma-separated subset of the roles below
- ``FUZZ_EXCLUDE`` comma-separated path regexes to leave out
- ``FUZZ_DATABASE_URL`` a PostgreSQL URL (default: SQLite in a temporary directory)
- ``FUZZ_TEMPLATE`` a directory to keep a migrated demo SQLite database in
- ``FUZZ_SETTINGS`` the Django settings module of the server (default the dev settings)

Run it::

    make fuzz                         # everything, FUZZ_EXAMPLES=25
    FUZZ_EXAMPLES=5 make fuzz         # CI's budget
    .venv/bin/python tools/fuzz.py --roles anonymous,rider --exclude '^/api/v1/dashboards'
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PASSWORD = "yizhan-demo-2026"
API = "/api/v1"

#: role → the showcase account's login (riders log in with their phone number). The order is the
#: order of the runs: lowest privilege first.
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "rider": "13935210056",
    "merchant": "daoxiaomian-shop",
    "handler": "zhifadui-handler",
    "community_staff": "qingyuanxijie-staff",
    "street_admin": "qingyuan-admin",
}

#: Operations that would revoke the caller's own credentials: left out for signed-in roles.
SELF_REVOKING = [r"^/api/v1/auth/tokens/\{token_id\}$"]

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
CONFORMANCE = set(CHECKS) - {"not_a_server_error"}


def say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


@dataclass
class Tally:
    calls: int = 0
    server_errors: int = 0
    schema_failures: int = 0
    operations: set[str] = field(default_factory=set)
    #: (role, operation) → Counter of what failed there
    failing: dict[tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    #: (role, operation, what) → one curl line to reproduce it
    examples: dict[tuple[str, str, str], str] = field(default_factory=dict)


# --- the database and the server ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_postgres(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    if "fuzz" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'fuzz'")
    admin = url[: url.rindex("/") + 1] + "postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


def _media_dirs(template: Path, env: dict[str, str]) -> list[tuple[Path, Path]]:
    """(in the template, in use) for the photos: MEDIA_ROOT and the private originals beside it."""
    media = Path(env["MEDIA_ROOT"])
    return [(template / "media", media), (template / "media-private", Path(f"{media}-private"))]


def prepare_database(env: dict[str, str], var_dir: Path, template: Path | None) -> None:
    db_url = env.get("DATABASE_URL", "")
    if db_url.startswith("postgres"):
        say(f"== fresh PostgreSQL database {urlsplit(db_url).path.lstrip('/')}")
        recreate_postgres(db_url)
    elif template and (template / "yizhan.sqlite3").exists():
        say(f"== copying the demo database from {template}")
        shutil.copy2(template / "yizhan.sqlite3", var_dir / "yizhan.sqlite3")
        for kept, media in _media_dirs(template, env):  # the demo's photos (if the template has)
            if kept.is_dir():
                shutil.copytree(kept, media, dirs_exist_ok=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        return
    say("== migrate and load the demo (a few minutes)")
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "demo")
    if template and not db_url.startswith("postgres"):
        template.mkdir(parents=True, exist_ok=True)
        shutil.copy2(var_dir / "yizhan.sqlite3", template / "yizhan.sqlite3")
        for kept, media in _media_dirs(template, env):
            if media.is_dir():
                shutil.copytree(media, kept, dirs_exist_ok=True)


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [
        str(VENV_BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "120",
        # The fuzzer's query strings run to many kilobytes: let them reach the application
        # (gunicorn would answer 414 itself, a status the API does not declare; in production
        # the server in front limits the length of a request line).
        "--limit-request-line",
        "0",
        "yizhan.config.wsgi",
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        if server.poll() is not None:
            raise SystemExit(f"the server stopped at once; see {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}{API}/version", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"the server did not answer within a minute; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def log_in(base: str, login: str) -> str:
    body = json.dumps({"username": login, "password": PASSWORD, "name": "fuzz"}).encode()
    request = urllib.request.Request(
        f"{base}{API}/auth/token",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["token"]
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{login} could not log in: {exc.code} {exc.read()[:300]!r}") from None


# --- schemathesis ---------------------------------------------------------------------------


def run_schemathesis(
    *,
    base: str,
    role: str,
    token: str | None,
    examples: int,
    seed: int,
    exclude: list[str],
    workers: int,
    out_dir: Path,
) -> Path:
    events = out_dir / f"{role}.ndjson"
    command = [
        str(VENV_BIN / "schemathesis"),
        "run",
        f"{base}{API}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--workers",
        str(workers),
        "--request-timeout",
        "60",
        "--suppress-health-check",
        "all",
        "--no-shrink",
        "--continue-on-failure",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(events),
        "--output-truncate",
        "true",
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    for pattern in exclude + (SELF_REVOKING if token else []):
        command += ["--exclude-path-regex", pattern]
    with (out_dir / f"{role}.txt").open("w") as text:
        # Its exit status says whether it found something: the tally below decides.
        subprocess.run(command, cwd=out_dir, stdout=text, stderr=subprocess.STDOUT, check=False)
    return events


def tally_events(events: Path, role: str, tally: Tally) -> None:
    if not events.exists():
        text = events.with_suffix(".txt")
        raise SystemExit(f"schemathesis wrote no events for {role}: see {text}")
    for line in events.open():
        event = json.loads(line)
        (kind, payload) = next(iter(event.items()))
        if kind != "ScenarioFinished":
            continue
        recorder = payload["recorder"]
        label = recorder.get("label", "?")
        interactions = recorder.get("interactions") or {}
        if interactions:
            tally.operations.add(label)
        for case_id, interaction in interactions.items():
            response = interaction.get("response") or {}
            status = response.get("status_code")
            tally.calls += 1
            if status is not None and status >= 500:
                tally.server_errors += 1
                tally.failing[(role, label)][f"{status}"] += 1
                tally.examples.setdefault((role, label, f"{status}"), _curl(recorder, case_id))
        for case_id, checks in (recorder.get("checks") or {}).items():
            failed = {c["name"] for c in checks if c.get("status") == "failure"}
            conformance = failed & CONFORMANCE
            if conformance:
                tally.schema_failures += 1
                for name in conformance:
                    tally.failing[(role, label)][name] += 1
                    tally.examples.setdefault((role, label, name), _curl(recorder, case_id))


def _curl(recorder: dict, case_id: str) -> str:
    request = ((recorder.get("interactions") or {}).get(case_id) or {}).get("request") or {}
    body = request.get("body")
    text = f"{request.get('method', '?')} {request.get('uri', '?')}"
    if body:
        text += f" body={str(body)[:200]}"
    return text


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", 25)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 20260808)))
    parser.add_argument("--roles", default=os.environ.get("FUZZ_ROLES", ",".join(ROLES)))
    parser.add_argument(
        "--exclude",
        action="append",
        default=[p for p in os.environ.get("FUZZ_EXCLUDE", "").split(",") if p],
        help="a path regex to leave out (repeatable)",
    )
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL", ""))
    parser.add_argument("--template", default=os.environ.get("FUZZ_TEMPLATE", ""))
    parser.add_argument(
        "--settings", default=os.environ.get("FUZZ_SETTINGS", "yizhan.config.settings.dev")
    )
    parser.add_argument("--workers", type=int, default=1, help="schemathesis workers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        parser.error(f"unknown roles {unknown}; known: {', '.join(ROLES)}")
    for pattern in args.exclude:
        re.compile(pattern)

    work = Path(tempfile.mkdtemp(prefix="yizhan-fuzz-"))
    var_dir = work / "var"
    var_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": args.settings,
        "YIZHAN_DEMO": "1",
        "DEBUG": "0",
        "YIZHAN_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "YIZHAN_JOBS_INPROCESS": "0",
        "PYTHONHASHSEED": "0",
    }
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    started = time.monotonic()
    server = None
    try:
        prepare_database(env, var_dir, Path(args.template) if args.template else None)
        port = free_port()
        log = work / "server.log"
        server = start_server(env, port, log)
        base = f"http://127.0.0.1:{port}"
        say(f"== server on {base} (log {log})")
        tally = Tally()
        for role in roles:
            login = ROLES[role]
            token = log_in(base, login) if login else None
            t0 = time.monotonic()
            before = (tally.calls, tally.server_errors, tally.schema_failures)
            events = run_schemathesis(
                base=base,
                role=role,
                token=token,
                examples=args.examples,
                seed=args.seed,
                exclude=args.exclude,
                workers=args.workers,
                out_dir=work,
            )
            tally_events(events, role, tally)
            say(
                f"== {role}: calls={tally.calls - before[0]} "
                f"server_errors={tally.server_errors - before[1]} "
                f"schema_failures={tally.schema_failures - before[2]} "
                f"({time.monotonic() - t0:.0f}s; {work / (role + '.txt')})"
            )
    finally:
        if server is not None:
            stop_server(server)
    for (role, label), counts in sorted(tally.failing.items()):
        say(f"FAIL {role:16} {label}: " + ", ".join(f"{k}×{v}" for k, v in counts.items()))
        for what in counts:
            say(f"     e.g. {tally.examples.get((role, label, what), '')}")
    tracebacks = _tracebacks(work / "server.log")
    if tracebacks:
        say(f"== {len(tracebacks)} distinct server tracebacks (last lines):")
        for last in tracebacks:
            say(f"   {last}")
    say(f"== {time.monotonic() - started:.0f}s; files in {work}")
    say(
        f"RESULT fuzz operations={len(tally.operations)} calls={tally.calls} "
        f"server_errors={tally.server_errors} schema_failures={tally.schema_failures}"
    )
    clean = tally.server_errors == 0 and tally.schema_failures == 0
    if clean and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if clean else 1


def _tracebacks(log: Path) -> list[str]:
    """The distinct last lines of the tracebacks in the server's log (the exception)."""
    if not log.exists():
        return []
    seen: dict[str, None] = {}
    lines = log.read_text(errors="replace").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            end = index + 1
            while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
                end += 1
            if end < len(lines):
                seen[lines[end][:200]] = None
    return list(seen)


if __name__ == "__main__":
    sys.exit(main())
