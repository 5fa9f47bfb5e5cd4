"""The S3_* environment variables and what they make of settings.STORAGES (read in a fresh
process, as a server starts): nothing without S3_BUCKET; with it the default storage and the
originals' storage in the bucket, static files left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from yizhan.config.storage import s3_storages

SHOW = """
import json
from django.conf import settings
def plain(value):
    return value if isinstance(value, (str, int, bool, type(None))) else repr(type(value))
print(json.dumps({
    alias: {"BACKEND": c["BACKEND"],
            "OPTIONS": {k: plain(v) for k, v in c.get("OPTIONS", {}).items()}}
    for alias, c in settings.STORAGES.items()
}))
"""


def storages_with(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("S3_")}
    result = subprocess.run(  # noqa: S603 - this Python
        [sys.executable, "-c", SHOW],
        env={**clean, "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.test", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_without_a_bucket_files_stay_on_the_local_disk():
    storages = storages_with()

    assert storages == {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {}},
        "staticfiles": storages["staticfiles"],
    }


def test_a_bucket_switches_the_default_and_the_originals_to_object_storage():
    before = storages_with()["staticfiles"]
    storages = storages_with(
        S3_BUCKET="yizhan-media",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        S3_REGION="cn-north-1",
        S3_ACCESS_KEY_ID="minio",
        S3_SECRET_ACCESS_KEY="minio-secret",
        S3_CUSTOM_DOMAIN="https://media.example.org/",
        S3_QUERYSTRING_AUTH="false",
        S3_PRIVATE_PREFIX="/originals/",
    )

    assert storages["staticfiles"] == before
    public, private = storages["default"], storages["private"]
    assert public["BACKEND"] == "storages.backends.s3.S3Storage"
    assert private["BACKEND"] == "yizhan.reports.storage_s3.PrivateS3Storage"
    shared = {
        "bucket_name": "yizhan-media",
        "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "cn-north-1",
        "access_key": "minio",
        "secret_key": "minio-secret",
        "file_overwrite": False,
    }
    assert public["OPTIONS"].items() >= shared.items()
    assert private["OPTIONS"].items() >= shared.items()
    assert public["OPTIONS"]["location"] == ""
    assert public["OPTIONS"]["querystring_auth"] is False
    assert public["OPTIONS"]["custom_domain"] == "media.example.org"
    assert public["OPTIONS"]["url_protocol"] == "https:"
    assert public["OPTIONS"]["default_acl"] is None
    assert private["OPTIONS"]["location"] == "originals"
    assert private["OPTIONS"]["querystring_auth"] is True
    assert private["OPTIONS"]["custom_domain"] is None
    assert private["OPTIONS"]["default_acl"] == "private"


def test_aws_itself_by_default_and_no_acl_when_told():
    storages = storages_with(S3_BUCKET="yizhan-media", S3_PRIVATE_ACL="")

    options = storages["default"]["OPTIONS"]
    assert options["endpoint_url"] is None and options["access_key"] is None
    assert options["querystring_auth"] is True and options["custom_domain"] is None
    assert storages["private"]["OPTIONS"]["location"] == "private"
    assert storages["private"]["OPTIONS"]["default_acl"] is None


def test_path_style_for_an_endpoint_and_short_timeouts():
    own = s3_storages(bucket="b", endpoint_url="http://127.0.0.1:9000")["default"]["OPTIONS"]
    aws = s3_storages(bucket="b")["default"]["OPTIONS"]

    assert own["client_config"].s3 == {"addressing_style": "path"}
    assert aws["client_config"].s3 == {"addressing_style": "auto"}
    assert own["client_config"].signature_version == "s3v4"
    assert own["client_config"].connect_timeout == 5
    assert own["client_config"].retries == {"max_attempts": 3, "mode": "standard"}
    assert (
        s3_storages(bucket="b", custom_domain="http://media.local:9000")["default"]["OPTIONS"][
            "url_protocol"
        ]
        == "http:"
    )


def test_the_originals_need_a_prefix_of_their_own():
    with pytest.raises(ValueError, match="S3_PRIVATE_PREFIX must not be empty"):
        s3_storages(bucket="b", private_prefix="/")
