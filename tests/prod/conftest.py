"""The production profile under test: the whole stack of tools/prod.py (gunicorn with 4
workers, 2 Huey workers, the scheduler, PostgreSQL, Redis, an S3 stand-in), started once for
this folder.

These tests take a few minutes (migrations, the demo street, collectstatic) and need
PostgreSQL and Redis on this machine, so they run when asked: ``YIZHAN_PROD=1`` (CI's
``prod-smoke`` step, or ``make prod-test``); otherwise they are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from prod import Stack, free_port  # noqa: E402

WANTED = os.environ.get("YIZHAN_PROD") == "1"


def pytest_collection_modifyitems(config, items):
    if WANTED:
        return
    skip = pytest.mark.skip(
        reason="the production profile runs with YIZHAN_PROD=1 (make prod-test)"
    )
    for item in items:
        if "tests/prod/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    stack = Stack(
        port=free_port(),
        s3_port=free_port(),
        database_url=f"postgres://postgres@127.0.0.1:5432/yizhan_prodtest_{tag}",
        redis_url=os.environ.get("YIZHAN_PROD_REDIS", "redis://127.0.0.1:6379/13"),
        queue_url=os.environ.get("YIZHAN_PROD_QUEUE", "redis://127.0.0.1:6379/14"),
        var_dir=tmp_path_factory.mktemp("prod"),
        quiet=True,
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        stack.drop_database()
        for log in sorted(stack.logs.glob("*.log")):
            # What each process said, for the CI log when something failed.
            tail = log.read_text(errors="replace").splitlines()[-15:]
            sys.stdout.write(f"\n--- {log.name} (last lines)\n" + "\n".join(tail) + "\n")


class Api:
    """JSON over HTTP against the stack, as a phone or a console would call it."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base, token

    def call(self, method, path, payload=None, *, body=None, content_type=None, headers=None):
        data = body
        if payload is not None:
            data, content_type = json.dumps(payload).encode(), "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw, got = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            status, raw, got = exc.code, exc.read(), dict(exc.headers)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return status, parsed, got

    def ok(self, method, path, payload=None, expect=(200, 201), **kwargs):
        status, data, _ = self.call(method, path, payload, **kwargs)
        assert status in expect, f"{method} {path}: {status} {data}"
        return data


def log_in(stack, username: str, password: str = "yizhan-demo-2026") -> Api:
    api = Api(stack.url)
    data = api.ok(
        "POST",
        "/api/v1/auth/token",
        {"username": username, "password": password, "name": "prod-test"},
    )
    return Api(stack.url, data["token"])


def operator_token(stack) -> Api:
    """A token of a platform operator made on the server (an operator logs in with a second
    factor, which a test cannot type)."""
    code = (
        "from yizhan.people.models import User; from yizhan.people.services import token_issue;"
        "u = User.objects.filter(is_superuser=True).first() or "
        "User.objects.create_superuser('prod-operator', password=None);"
        "print(token_issue(user=u, name='prod-test', scope='write', expires_at=None)[1])"
    )
    return Api(stack.url, stack.manage("shell", "-c", code).strip().splitlines()[-1])
