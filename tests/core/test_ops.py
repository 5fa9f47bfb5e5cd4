"""Operations (core.ops): liveness, readiness, metrics, request ids in responses and logs."""

import json
import logging

import pytest
from django.test import Client

from tests.api.helpers import client_for
from yizhan.core import ops


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_healthz_answers_without_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_checks_the_database_the_cache_the_storage_and_the_queue(db, tmp_path):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "storage", "queue", "static"}
    assert all(check["ok"] for check in body["checks"].values())
    assert not list((tmp_path / "media" / "readyz").glob("*"))  # the probe file is gone


def test_readyz_is_503_naming_what_failed_without_its_message(db, monkeypatch, caplog):
    def broken():
        raise ConnectionError("redis://secret-host:6379 refused")

    monkeypatch.setitem(ops.CHECKS, "cache", broken)
    with caplog.at_level(logging.WARNING, logger="yizhan.ops"):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] and "secret-host" not in response.content.decode()


def test_metrics_count_requests_by_route_not_by_path(world):
    series = (
        'yizhan_request_seconds_count{method="GET",route="api/v1/reports/<report_id>",status="4xx"}'
    )

    def count(text: str) -> float:  # the histograms live in the process: compare, not absolute
        found = [line for line in text.splitlines() if line.startswith(series)]
        return float(found[0].split()[-1]) if found else 0.0

    before = count(Client().get("/metrics").content.decode())
    client = client_for(world.community_staff)
    for pk in (1, 2, 3):
        client.get(f"/api/v1/reports/{pk}")
    text = Client().get("/metrics").content.decode()
    assert count(text) == before + 3
    assert "/reports/1" not in text and "/reports/2" not in text
    assert "yizhan_reports_overdue 0.0" in text
    assert "yizhan_notification_deliveries_failed 0.0" in text


def test_metrics_need_the_token_when_one_is_set(db, settings):
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    assert Client().get("/metrics").status_code == 403
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = Client().get(
        "/metrics", headers={"Authorization": "Bearer s3cret-token-for-prometheus"}
    )
    assert right.status_code == 200 and b"yizhan_request_seconds" in right.content


def test_metrics_from_elsewhere_without_a_token_are_refused(db):
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")
    assert response.status_code == 403


def test_every_response_carries_a_request_id(db):
    fresh = Client().get("/healthz")["X-Request-ID"]
    assert len(fresh) == 32
    given = Client().get("/healthz", headers={"X-Request-ID": "lb-7f3a9c2e-0001"})
    assert given["X-Request-ID"] == "lb-7f3a9c2e-0001"
    forged = Client().get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert (
        forged["X-Request-ID"] != "<script>alert(1)</script>" and len(forged["X-Request-ID"]) == 32
    )


def test_log_lines_carry_the_request_id_as_json():
    record = logging.LogRecord("yizhan.x", logging.WARNING, __file__, 1, "上报 %s", ("#7",), None)
    ops.RequestIdFilter().filter(record)
    line = json.loads(ops.JsonFormatter().format(record))
    assert line["message"] == "上报 #7" and line["level"] == "WARNING"
    assert line["request_id"] == "-" and line["logger"] == "yizhan.x"
    token = ops._request_id.set("req-12345678")
    try:
        record = logging.LogRecord("yizhan.x", logging.INFO, __file__, 1, "m", (), None)
        ops.RequestIdFilter().filter(record)
        assert json.loads(ops.JsonFormatter().format(record))["request_id"] == "req-12345678"
    finally:
        ops._request_id.reset(token)


def test_behind_the_proxy_metrics_see_the_client_not_the_proxy(db, settings):
    """nginx on the same host makes every request come from the loopback: /metrics must judge
    the client's address as the rate limits do (core.ratelimit.client_ip)."""
    settings.YIZHAN_TRUSTED_PROXY_HOPS = 1
    outside = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert outside.get("/metrics").status_code == 403
    local = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert local.get("/metrics").status_code == 200


def test_readyz_is_503_while_the_hashed_static_files_are_not_collected(db, settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path / "static")  # nothing collected there
    # (Django's setting_changed signal makes the lazy staticfiles_storage take the new one.)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["static"] == {"ok": False, "error": "FileNotFoundError"}
