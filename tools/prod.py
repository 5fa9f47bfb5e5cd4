"""The production profile on this machine (``make prod``), and the harness its tests use.

Brings up the whole stack the way docs/deploy.md runs it on servers, with this machine's
PostgreSQL and Redis and a local S3 stand-in:

- PostgreSQL: the database ``yizhan_prod`` (created; dropped and created again unless --keep);
- Redis: the cache and rate limits in database 1, the task queue in database 2 (both flushed
  on a fresh start);
- object storage: ``moto_server`` (an S3-compatible server, in memory) with the bucket
  ``yizhan-media``, unless S3_ENDPOINT_URL names a real one;
- migrations, ``collectstatic`` (hashed, compressed, served by WhiteNoise), the demo street;
- gunicorn with 4 workers (production settings), 2 Huey task workers, 1 scheduler.

Every process's output is shown with its name; Ctrl-C (or SIGTERM) stops them all, and when
one of them dies the others are stopped too and the exit status is 1.

    .venv/bin/python tools/prod.py [--port 8000] [--workers 4] [--task-workers 2] [--keep]
                                   [--no-demo]

Environment: DATABASE_URL, REDIS_URL, TASK_QUEUE_URL, S3_ENDPOINT_URL … override the local
defaults (docs/deploy.md lists them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable

S3_KEY, S3_SECRET = "yizhan-local", "yizhan-local-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(what: str, ready, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it was ready")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready after {timeout:.0f} s")


def http_status(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@dataclass
class Stack:
    """One production profile: its settings, its services, its processes."""

    port: int = 8000
    workers: int = 4
    task_workers: int = 2
    database_url: str = "postgres://postgres@127.0.0.1:5432/yizhan_prod"
    redis_url: str = "redis://127.0.0.1:6379/1"
    queue_url: str = "redis://127.0.0.1:6379/2"
    s3_endpoint: str = ""  # empty: start moto_server on s3_port
    s3_port: int = 9100
    bucket: str = "yizhan-media"
    var_dir: Path = ROOT / "var" / "prod"
    keep: bool = False
    demo: bool = True
    quiet: bool = False  # tests: the processes' output goes to log files only
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs(self) -> Path:
        return self.var_dir / "logs"

    # --- configuration --------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        secret_file = self.var_dir / "secret_key"
        if not secret_file.exists():
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_urlsafe(64))
            secret_file.chmod(0o600)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PYTEST", "PROMETHEUS_")) and k != "DEBUG"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="yizhan.config.settings.production",
            SECRET_KEY=secret_file.read_text().strip(),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # Served over plain HTTP on the loopback, with no proxy in front: no redirect to
            # HTTPS, the client's own address for the rate limits. (Browsers treat localhost
            # as secure, so the Secure cookies still work.)
            SECURE_SSL_REDIRECT="0",
            YIZHAN_TRUSTED_PROXY_HOPS="0",
            YIZHAN_VAR_DIR=str(self.var_dir),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            TASK_QUEUE_URL=self.queue_url,
            S3_BUCKET=self.bucket,
            S3_ENDPOINT_URL=self.s3_endpoint or f"http://127.0.0.1:{self.s3_port}",
            S3_REGION=os.environ.get("S3_REGION", "us-east-1"),
            S3_ACCESS_KEY_ID=os.environ.get("S3_ACCESS_KEY_ID", S3_KEY),
            S3_SECRET_ACCESS_KEY=os.environ.get("S3_SECRET_ACCESS_KEY", S3_SECRET),
            DASHBOARD_PUBLIC_STREETS="140213055",
            PYTHONUNBUFFERED="1",
        )
        if self.demo:
            env["YIZHAN_DEMO"] = "1"
        env.update(self.extra_env)
        return env

    # --- the services ---------------------------------------------------------------------

    def _admin(self):
        """A connection to the server's ``postgres`` database, and the profile's database name."""
        import psycopg

        parts = urlsplit(self.database_url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        return psycopg.connect(admin, autocommit=True), parts.path.lstrip("/")

    def _database(self) -> None:
        conn, name = self._admin()
        with conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and not self.keep:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self) -> None:
        conn, name = self._admin()
        with conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _redis(self) -> None:
        import redis

        for url in dict.fromkeys([self.redis_url, self.queue_url]):
            client = redis.Redis.from_url(url, socket_connect_timeout=3)
            client.ping()
            if not self.keep:
                client.flushdb()

    def _object_storage(self) -> None:
        if not self.s3_endpoint:
            self.spawn(
                "s3", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)]
            )
        s3 = self.s3()
        _wait(
            "the S3 stand-in", lambda: s3.list_buckets() is not None, 30, self.processes.get("s3")
        )
        if not any(b["Name"] == self.bucket for b in s3.list_buckets().get("Buckets", [])):
            s3.create_bucket(Bucket=self.bucket)

    def s3(self):
        import boto3

        env = self.env()
        return boto3.client(
            "s3",
            endpoint_url=env["S3_ENDPOINT_URL"],
            region_name=env["S3_REGION"],
            aws_access_key_id=env["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
        )

    # --- processes ------------------------------------------------------------------------

    def manage(self, *args: str, check: bool = True, env: dict | None = None) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env={**self.env(), **(env or {})},
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        threading.Thread(target=self._pump, args=(name, process, log), daemon=True).start()
        return process

    def _pump(self, name: str, process: subprocess.Popen, log) -> None:
        width = 10
        for line in iter(process.stdout.readline, b""):
            log.write(line)
            log.flush()
            if not self.quiet:
                text = line.decode("utf-8", "replace").rstrip()
                print(f"{name:<{width}} | {text}", flush=True)
        log.close()

    def start(self) -> Stack:
        self.started_at = time.time()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.say(f"PostgreSQL {self.database_url} ({'kept' if self.keep else 'fresh'})")
        self._database()
        self.say(f"Redis: cache {self.redis_url}, task queue {self.queue_url}")
        self._redis()
        self.say("object storage: " + (self.s3_endpoint or f"moto_server on :{self.s3_port}"))
        self._object_storage()
        self.say("migrate, collectstatic" + (", the demo street" if self.demo else ""))
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")
        if self.demo:
            self.manage("demo")
        metrics = self.var_dir / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        self.spawn(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
            ],
            env={"PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        )
        for number in range(1, self.task_workers + 1):
            self.spawn(f"worker{number}", [PYTHON, "manage.py", "run_huey"])
        self.spawn("scheduler", [PYTHON, "manage.py", "run_scheduler"])
        _wait(
            "the app",
            lambda: http_status(f"{self.url}/readyz") == 200,
            90,
            self.processes["web"],
        )
        return self

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"== {text}", flush=True)

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--task-workers", type=int, default=2, help="Huey worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the database and Redis")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo street")
    args = parser.parse_args()
    stack = Stack(
        port=args.port,
        workers=args.workers,
        task_workers=args.task_workers,
        keep=args.keep,
        demo=not args.no_demo,
        database_url=os.environ.get("DATABASE_URL", Stack.database_url),
        redis_url=os.environ.get("REDIS_URL", Stack.redis_url),
        queue_url=os.environ.get("TASK_QUEUE_URL", Stack.queue_url),
        s3_endpoint=os.environ.get("S3_ENDPOINT_URL", ""),
        bucket=os.environ.get("S3_BUCKET", Stack.bucket),
    )
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        stack.start()
    except Exception as exc:  # noqa: BLE001 - say what failed, stop what started
        print(f"error: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print(
        f"\n== Yizhan (production profile) on {stack.url}/ — also http://localhost:{stack.port}/\n"
        f"   {args.workers} web workers, {args.task_workers} task workers, 1 scheduler; "
        f"/readyz, /metrics; logs in {stack.logs}\n   Ctrl-C stops everything.\n",
        flush=True,
    )
    status = 0
    while not stopping.wait(1):
        if stack.dead():
            print(f"error: {', '.join(stack.dead())} stopped; stopping the rest", file=sys.stderr)
            status = 1
            break
    stack.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
