"""Object storage (S3) against moto_server, a local S3 stand-in started once per test session (and
per xdist worker) on a free port of the loopback. Each test gets a bucket of its own, and the
``s3`` fixture switches STORAGES to it the way S3_BUCKET does (``yizhan.config.storage``).

Without moto_server (not installed, or it does not answer) the tests are skipped, saying why;
with ``YIZHAN_S3_REQUIRED=1`` (CI) they fail instead. ``YIZHAN_MOTO_SERVER`` names another
executable (default: the one beside this Python, else on PATH)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from yizhan.config.storage import s3_storages

KEY, SECRET, REGION = "yizhan-test-key", "yizhan-test-secret", "us-east-1"
START_SECONDS = 30


def _unavailable(reason: str) -> None:
    reason = f"S3 tests need moto_server: {reason}"
    if os.environ.get("YIZHAN_S3_REQUIRED") == "1":
        pytest.fail(f"{reason} (YIZHAN_S3_REQUIRED=1)", pytrace=False)
    pytest.skip(f"{reason} (set YIZHAN_S3_REQUIRED=1 to make this a failure)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - the loopback
            return True
    except urllib.error.HTTPError:
        return True  # it answered, with an error: it is up
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> str:
    """The URL of a moto_server of this session; stopped at its end."""
    server = os.environ.get("YIZHAN_MOTO_SERVER") or (
        shutil.which("moto_server", path=str(Path(sys.executable).parent))
        or shutil.which("moto_server")
    )
    if not server or not shutil.which(server):
        _unavailable(f"{server or 'moto_server'} is not installed (pip install 'moto[server]')")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    endpoint = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own virtualenv's script
            [server, "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(f"{endpoint}/moto-api/"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-800:]
                _unavailable(
                    f"it did not answer on {endpoint} within {START_SECONDS} s "
                    f"(exit code {process.poll()}): {tail}"
                )
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3_client(s3_endpoint):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name=REGION,
    )


@pytest.fixture
def bucket(s3_client) -> str:
    name = f"yizhan-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for key in list(objects(s3_client, name)):
        s3_client.delete_object(Bucket=name, Key=key)
    s3_client.delete_bucket(Bucket=name)


def objects(client, bucket: str, prefix: str = "") -> dict[str, int]:
    """Every object of ``bucket`` (under ``prefix``) as key → size, by list_objects_v2."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update({item["Key"]: item["Size"] for item in page.get("Contents", ())})
    return found


def body(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def storages_for(bucket: str, endpoint: str, base: dict, **options: Any) -> dict:
    """settings.STORAGES as S3_BUCKET=``bucket`` and S3_ENDPOINT_URL=``endpoint`` make it."""
    built = s3_storages(
        bucket=bucket, endpoint_url=endpoint, region=REGION, access_key=KEY, secret_key=SECRET,
        **options,
    )  # fmt: skip
    return {**base, **built}


@dataclass
class S3:
    endpoint: str
    bucket: str
    client: Any
    media: Path  # MEDIA_ROOT: nothing may be written there while S3 is on

    def objects(self, prefix: str = "") -> dict[str, int]:
        return objects(self.client, self.bucket, prefix)

    def body(self, key: str) -> bytes:
        return body(self.client, self.bucket, key)

    def local_files(self) -> list[str]:
        """Files on the local disk under MEDIA_ROOT and the private folder beside it."""
        found = []
        for folder in (self.media, Path(f"{self.media}-private")):
            found += [str(p) for p in folder.rglob("*") if p.is_file()]
        return found


@pytest.fixture
def s3(settings, tmp_path, s3_endpoint, bucket, s3_client) -> S3:
    """Uploaded files go to ``bucket`` for the test (STORAGES as S3_BUCKET sets it)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PRIVATE_MEDIA_ROOT = ""
    settings.STORAGES = storages_for(bucket, s3_endpoint, settings.STORAGES)
    return S3(endpoint=s3_endpoint, bucket=bucket, client=s3_client, media=tmp_path / "media")
