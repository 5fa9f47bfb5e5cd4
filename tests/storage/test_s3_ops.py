"""Operations with object storage: /readyz writes and deletes its probe in the bucket (and says
"not ready" when the endpoint does not answer), and the Content-Security-Policy lets pages show
photos linked at the endpoint or at S3_CUSTOM_DOMAIN."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from tests.storage.conftest import S3, _free_port, storages_for

pytestmark = pytest.mark.django_db


def img_src(response) -> list[str]:
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return directives["img-src"].split()


def test_readyz_is_ready_with_the_bucket_and_leaves_no_probe_behind(s3: S3):
    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"]["ok"] is True
    assert s3.objects() == {}
    assert s3.local_files() == []


def test_readyz_is_503_when_the_endpoint_does_not_answer(s3: S3, settings):
    # Nothing listens there (the port was free a moment ago).
    dead = f"http://127.0.0.1:{_free_port()}"
    settings.STORAGES = storages_for(s3.bucket, dead, settings.STORAGES)

    started = time.monotonic()
    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["storage"] == {"ok": False, "error": "EndpointConnectionError"}
    assert body["checks"]["database"]["ok"] is True
    assert dead not in response.content.decode()
    # Short timeouts and few retries: a load balancer hears it in seconds.
    assert time.monotonic() - started < 20


def test_the_policy_lets_pages_show_photos_from_the_endpoint(s3: S3):
    response = Client().get("/nearby/")

    assert response.status_code == 200
    assert img_src(response)[:3] == ["'self'", "data:", "blob:"]
    assert s3.endpoint in img_src(response)
    # Nothing else is loosened.
    assert "connect-src 'self';" in response["Content-Security-Policy"]


def test_the_policy_names_the_custom_domain_instead_of_the_endpoint(s3: S3, settings):
    settings.STORAGES = storages_for(
        s3.bucket, s3.endpoint, settings.STORAGES, custom_domain="media.example.org"
    )

    sources = img_src(Client().get("/nearby/"))

    assert "https://media.example.org" in sources and s3.endpoint not in sources


def test_the_policy_adds_nothing_for_files_on_this_site(db):
    assert img_src(Client().get("/nearby/")) == ["'self'", "data:", "blob:"]
