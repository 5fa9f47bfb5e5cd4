"""Operations: is it alive, is it ready, how is it doing, and which request was that.

- ``GET /healthz``: the process answers (no database, no cache): for a supervisor's liveness
  check. Always 200 while the process serves.
- ``GET /readyz``: the database answers a query, the cache keeps and returns a value, the
  storage accepts and deletes a file, the task queue answers (when tasks are queued, not run in
  process), the static files' manifest is there (when names are hashed): 200 with each check's
  time, else 503 naming what failed (the error's kind only, never its message): for a load
  balancer's readiness check.
- ``GET /metrics``: Prometheus text. Request latency by route (the URL pattern, not the path,
  so ids do not make new series), method and status class; and, read when scraped, overdue
  reports, failed notification deliveries, the task queue's depth and its oldest task's age,
  and when each periodic job last succeeded (``core.tasks``). With ``METRICS_TOKEN`` set, a
  scrape must send ``Authorization: Bearer <token>``; without it, only the loopback (and DEBUG)
  may read it. Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty
  directory per start): every worker writes its samples there and a scrape adds them up.
- **Request ids**: :class:`RequestIdMiddleware` gives every request an id (the caller's
  ``X-Request-ID`` when it is a sane token, else a new one), returns it in the response's
  ``X-Request-ID`` and puts it on every log record (``%(request_id)s``); ``LOG_FORMAT=json``
  writes one JSON object per line (:class:`JsonFormatter`). A task carries the id of the
  request that queued it into the worker (``core.tasks``).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from yizhan.core.ratelimit import client_ip

logger = logging.getLogger("yizhan.ops")

# --- request ids -------------------------------------------------------------------------------

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def current_request_id() -> str:
    """The id of the request being served in this context (``-`` outside one)."""
    return _request_id.get()


@contextlib.contextmanager
def request_id_bound(request_id: str):
    """Log lines inside carry ``request_id`` (a task runs under the id of the request that
    queued it)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    """First in the chain: every request gets an id, every response and log line carries it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        started = time.perf_counter()
        with request_id_bound(request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        _observe(request, response, time.perf_counter() - started)
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request id, and
    the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


# --- metrics -----------------------------------------------------------------------------------

REQUEST_SECONDS = Histogram(
    "yizhan_request_seconds",
    "Time to answer a request, by URL pattern, method and status class",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _observe(request: HttpRequest, response: HttpResponse, seconds: float) -> None:
    match = getattr(request, "resolver_match", None)
    route = match.route if match is not None and match.route else "unmatched"
    method = (
        request.method if request.method in {"GET", "POST", "PUT", "PATCH", "DELETE"} else "other"
    )
    REQUEST_SECONDS.labels(
        route=route[:120], method=method, status=f"{response.status_code // 100}xx"
    ).observe(seconds)


#: Figures read from the database when Prometheus scrapes, registered by the apps that own them
#: (core knows no app above it): name → (help, function, label name or None).
_GAUGES: dict[str, tuple[str, Callable[[], Any], str | None]] = {}


def register_gauge(
    name: str, help_text: str, read: Callable[[], Any], *, label: str | None = None
) -> None:
    """Register (or replace) a gauge read at scrape time; ``read`` must be one cheap query and
    returns a number, or with ``label`` a dict of label value → number."""
    _GAUGES[name] = (help_text, read, label)


class DomainCollector:
    """The registered gauges, each read once per scrape."""

    def collect(self):
        for name, (help_text, read, label) in sorted(_GAUGES.items()):
            if label is None:
                yield GaugeMetricFamily(name, help_text, value=read())
                continue
            family = GaugeMetricFamily(name, help_text, labels=[label])
            for value, number in sorted(read().items()):
                family.add_metric([value], number)
            yield family


def _exposition() -> bytes:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    body = generate_latest(registry)
    domain = CollectorRegistry()
    domain.register(DomainCollector())
    return body + generate_latest(domain)


def _may_scrape(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return constant_time_compare(given, token)
    # The client's address as the rate limits see it (behind the trusted proxies), not the
    # proxy's own, which is the loopback when nginx runs on the same host.
    return settings.DEBUG or client_ip(request) in {"127.0.0.1", "::1"}


# --- the views ---------------------------------------------------------------------------------


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key, value = f"yizhan:readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 30)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return what it was given")
    finally:
        cache.delete(key)


def _check_storage() -> None:
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)


def _check_static() -> None:
    # With hashed static files (production), a release whose `collectstatic` did not run
    # would answer every page with a 500: not ready until the manifest is there.
    from django.contrib.staticfiles.storage import staticfiles_storage

    if getattr(staticfiles_storage, "manifest_name", None) and not getattr(
        staticfiles_storage, "hashed_files", None
    ):
        raise FileNotFoundError("no static files manifest: run collectstatic")


def _check_queue() -> None:
    from yizhan.core.tasks import check_queue

    check_queue()


CHECKS = {
    "database": _check_database,
    "cache": _check_cache,
    "storage": _check_storage,
    "queue": _check_queue,
    "static": _check_static,
}


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    results, ready = {}, True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            ready = False
            results[name] = {"ok": False, "error": type(exc).__name__}
            logger.warning("readyz: %s failed: %s", name, type(exc).__name__)
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": results},
        status=200 if ready else 503,
    )


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_LATEST)
