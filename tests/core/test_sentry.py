"""Optional error reporting (core.sentry): with SENTRY_DSN set, a failing job's error reaches a
Sentry-compatible endpoint, and nothing personal goes with it."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from yizhan.core.sentry import scrub

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django, sentry_sdk
django.setup()
from yizhan.core import jobs
from yizhan.core.ops import request_id_bound

def failing_job():
    phone = "13935210056"  # a local variable that must not travel
    raise RuntimeError("the escalation failed")

jobs._JOBS.clear()
jobs.periodic("tests.failing", 60, failing_job)
with request_id_bound("req-sentry-0001"):
    jobs.run_due(force=True)
sentry_sdk.flush(5)
"""


class Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        Receiver.bodies.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_a_failing_job_is_reported_without_personal_data():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.bodies.clear()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="yizhan.config.settings.test",
        SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/42",
        SENTRY_ENVIRONMENT="ci",
        PYTHONPATH=str(ROOT / "src"),
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, timeout=60
        )
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    sent = b"\n".join(Receiver.bodies).decode()
    assert "the escalation failed" in sent and "RuntimeError" in sent
    assert '"environment":"ci"' in sent.replace(" ", "")
    assert "req-sentry-0001" in sent  # the request id, to find the rest in our own logs
    assert "13935210056" not in sent


def test_scrub_keeps_the_path_and_drops_what_is_personal():
    event = {
        "request": {
            "url": "https://yizhan.example/riders/",
            "method": "POST",
            "query_string": "phone=13935210056",
            "data": {"phone": "13935210056"},
            "cookies": {"sessionid": "secret"},
            "headers": {
                "User-Agent": "phone",
                "Cookie": "sessionid=secret",
                "X-Real-IP": "1.2.3.4",
            },
        },
        "user": {"id": 7, "ip_address": "1.2.3.4"},
        "exception": {"values": [{"stacktrace": {"frames": [{"vars": {"phone": "139"}}]}}]},
        "breadcrumbs": {"values": [{"category": "query", "data": {"params": ["139"]}}]},
    }
    cleaned = json.dumps(scrub(event))
    assert "yizhan.example/riders/" in cleaned and "User-Agent" in cleaned
    for personal in ("13935210056", "secret", "1.2.3.4", '"139"', "ip_address"):
        assert personal not in cleaned
