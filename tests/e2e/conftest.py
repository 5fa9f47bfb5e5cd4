"""End-to-end tests: the pages driven in a real headless Chromium with Playwright.

They run against pytest-django's live server (a thread serving this test's database, static
files included), each from a fresh browser context, so cookies, the service worker and
IndexedDB start empty. Rider flows use a phone's viewport (360 × 640, touch, Chinese);
staff flows a desktop's.

Chromium is Debian's (``/usr/bin/chromium``; ``YIZHAN_CHROMIUM`` names another). Without one,
every test here is skipped, and the run says so loudly in its header and at its end;
``.ci/run`` installs Chromium and sets ``YIZHAN_E2E_REQUIRED=1``, under which a missing browser
fails the run instead, so CI always runs them.

Each test saves screenshots of its key screens under ``var/e2e/<test name>/`` (``shot``).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "e2e"
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

# Playwright's sync API runs an event loop in this thread: Django would refuse the ORM calls
# the tests make around the browser (the live server itself runs in its own thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.e2e.chromium import CHROMIUM, SKIP_REASON  # noqa: E402

if CHROMIUM:
    from playwright.sync_api import sync_playwright


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    if os.environ.get("YIZHAN_E2E_REQUIRED") == "1":  # CI: a skip would hide the gap
        raise pytest.UsageError(SKIP_REASON.replace("SKIPPED", "REQUIRED (YIZHAN_E2E_REQUIRED=1)"))
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(skip)


class InFlight:
    """Requests the live server is still answering. A closed browser context stops asking, but
    the server's threads may still be working (a service worker caching the shell, say) and
    they share the test's database connection: the test's teardown must not flush and restore
    the database under them, or the next test starts with half of it.

    Only the live server's requests count, by the thread answering each: the test client's
    (``SERVER_NAME`` "testserver", in the tests this process ran before) may never send
    ``request_finished`` (a streamed response nobody read), and a count that never came back to
    zero made every browser test wait out the whole time-out."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.lock = threading.Lock()

    def started(self, environ=None, **_kwargs) -> None:
        if environ is not None and environ.get("SERVER_NAME") == "testserver":
            return
        with self.lock:
            self.threads.add(threading.get_ident())

    def finished(self, **_kwargs) -> None:
        with self.lock:
            self.threads.discard(threading.get_ident())

    def wait_idle(self, timeout: float = 15.0) -> None:
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline and quiet < 10:
            with self.lock:
                busy = bool(self.threads)
            quiet = 0 if busy else quiet + 1
            time.sleep(0.05)


IN_FLIGHT = InFlight()
request_started.connect(IN_FLIGHT.started, dispatch_uid="e2e-in-flight-start")
request_finished.connect(IN_FLIGHT.finished, dispatch_uid="e2e-in-flight-end")


@pytest.fixture(scope="session")
def browser(django_db_setup):
    from django.db import connections

    # While Playwright's event loop runs, asgiref hands this thread other connection objects:
    # give them the contents serialised at set-up, or serialized_rollback restores nothing
    # (and every test after the first starts without the rows the migrations seed).
    serialized = {
        alias: getattr(connections[alias], "_test_serialized_contents", None)
        for alias in connections
    }
    with sync_playwright() as p:
        for alias, contents in serialized.items():
            if contents is not None:
                connections[alias]._test_serialized_contents = contents
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser, live_server, *, phone: bool, **extra):
    options = {
        "base_url": live_server.url,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "viewport": PHONE if phone else DESKTOP,
        **extra,
    }
    if phone:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def new_context(browser, live_server):
    """``new_context(phone=True, **options)``: a fresh browser context (closed at the end)."""
    made = []

    def make(*, phone: bool = True, **extra):
        context = _context(browser, live_server, phone=phone, **extra)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
    IN_FLIGHT.wait_idle()


@pytest.fixture
def phone(new_context):
    """A fresh page in a phone-sized browser (the rider's)."""
    return new_context(phone=True).new_page()


@pytest.fixture
def desktop(new_context):
    """A fresh page in a desktop-sized browser (staff)."""
    return new_context(phone=False).new_page()


@pytest.fixture
def shot(request):
    """``shot(page, "name")`` saves a full-page screenshot under var/e2e/<test>/name.png."""
    folder = SHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    if folder.exists():
        shutil.rmtree(folder)

    def save(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def log_in(page, username: str, password: str, *, expect: str | None = None) -> None:
    """Log in through the log-in page, as a person would."""
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form.card button[type=submit]")
    page.wait_for_load_state()
    if expect:
        page.wait_for_url(re.compile(expect))
