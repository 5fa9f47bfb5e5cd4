"""manage.py backup / restore with the files in object storage: the archive holds the bucket's
public objects as ``media/…`` and the originals under the private prefix as ``private/…`` (read
through the storage API), and a restore into an empty database and an empty bucket gives every
row and every object back, byte for byte. A bucket that holds objects is refused without
--force; with it, the archive's objects are written and the others left as they are. An archive
of object storage restores into folders too (the members are the same)."""

from __future__ import annotations

import io
import tarfile
import uuid
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.core import test_backup as core
from tests.storage.conftest import S3, objects, storages_for
from tests.world import build_world, report_objects
from yizhan.core import backup

# pg_dump cannot see rows of an open test transaction, and sqlite3's backup API waits forever
# on one: these tests commit (as tests/core/test_backup.py).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The restore target of tests/core/test_backup.py: a new SQLite file or PostgreSQL database.
target = core.target
TARGET, engine, raw_cursor = core.TARGET, core.engine, core.raw_cursor
rows_of_every_model, source_cursor = core.rows_of_every_model, core.source_cursor

NOTES = bytes(range(256)) * 7 + b"end"


@pytest.fixture
def photos(s3: S3):
    """The test world with reports (originals under private/, blurred copies at the root of the
    bucket) and an object no model points at."""
    world = build_world()
    report_objects(world)
    default_storage.save("exports/2026/notes.bin", ContentFile(NOTES))
    return world


@pytest.fixture
def empty_bucket(s3: S3):
    name = f"yizhan-{uuid.uuid4().hex[:16]}"
    s3.client.create_bucket(Bucket=name)
    yield name
    for key in objects(s3.client, name):
        s3.client.delete_object(Bucket=name, Key=key)
    s3.client.delete_bucket(Bucket=name)


def bucket_contents(s3: S3, bucket: str) -> dict[str, bytes]:
    return {
        key: s3.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in objects(s3.client, bucket)
    }


def make_backup(tmp_path: Path) -> tuple[Path, str]:
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "backups"), stdout=out)
    (archive,) = backup.list_archives(tmp_path / "backups")
    return archive, out.getvalue()


def restore(archive: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), "--database", TARGET, *args, stdout=out)
    return out.getvalue()


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.name != "manifest.json"}


def test_the_archive_holds_the_bucket(photos, s3: S3, tmp_path):
    in_bucket = bucket_contents(s3, s3.bucket)
    assert any(k.startswith("private/reports/") for k in in_bucket)
    assert any(k.startswith("reports/public/") for k in in_bucket)

    archive, output = make_backup(tmp_path)

    held = members(archive)
    expected = {
        (key if key.startswith("private/") else f"media/{key}"): data
        for key, data in in_bucket.items()
    }
    assert {k: v for k, v in held.items() if k.startswith(("media/", "private/"))} == expected
    assert held["media/exports/2026/notes.bin"] == NOTES
    manifest = backup.read_manifest(archive)
    assert manifest["private"]["files"] == sum(k.startswith("private/") for k in in_bucket)
    assert manifest["media"]["files"] == sum(not k.startswith("private/") for k in in_bucket)
    assert manifest["object_storage"] == {
        "media": f"s3://{s3.bucket}/ at {s3.endpoint}",
        "private": f"s3://{s3.bucket}/private/ at {s3.endpoint}",
    }
    assert f"Adding media files from s3://{s3.bucket}/ at {s3.endpoint}" in output
    assert f"The private files were read from object storage: s3://{s3.bucket}/private/" in output
    # Nothing was read from or written to the local disk's media folders.
    assert s3.local_files() == []
    listing = io.StringIO()
    call_command("restore", str(archive), "--list", stdout=listing)
    assert f"private from: s3://{s3.bucket}/private/" in listing.getvalue()


def test_restore_into_an_empty_database_and_an_empty_bucket_gives_everything_back(
    photos, s3: S3, target, tmp_path, settings, empty_bucket
):
    with source_cursor() as cursor:
        rows_before = rows_of_every_model(cursor)
    objects_before = bucket_contents(s3, s3.bucket)
    archive, _ = make_backup(tmp_path)
    settings.STORAGES = storages_for(empty_bucket, s3.endpoint, settings.STORAGES)

    output = restore(archive, "--yes")

    assert "match the manifest" in output
    assert f"s3://{empty_bucket}/private/ at {s3.endpoint}: wrote" in output
    with raw_cursor(target) as cursor:
        assert rows_of_every_model(cursor) == rows_before
    assert bucket_contents(s3, empty_bucket) == objects_before
    assert s3.local_files() == []

    # Again: the bucket is not empty now.
    with pytest.raises(CommandError, match=f"s3://{empty_bucket}/ at .* holds files.*--force"):
        restore(archive, "--yes")

    # With --force: the archive's objects are there already (left as they are), a later
    # object stays, a changed one is put back.
    s3.client.put_object(Bucket=empty_bucket, Key="late/upload.jpg", Body=b"after the backup")
    s3.client.put_object(Bucket=empty_bucket, Key="exports/2026/notes.bin", Body=b"changed")
    output = restore(archive, "--yes", "--force")

    total = len(objects_before)
    assert f"{empty_bucket}/ at {s3.endpoint}: wrote 1 objects (1 replaced" in output
    assert "1 objects not in the archive were left as they are" in output
    assert f"{total - 1 - sum(k.startswith('private/') for k in objects_before)} were there" in (
        output
    )
    after = bucket_contents(s3, empty_bucket)
    assert after == {**objects_before, "late/upload.jpg": b"after the backup"}


def test_a_failed_database_swap_takes_the_written_objects_away_again(
    photos, s3: S3, target, tmp_path, settings, empty_bucket
):
    archive, _ = make_backup(tmp_path)
    settings.STORAGES = storages_for(empty_bucket, s3.endpoint, settings.STORAGES)

    swap = "_sqlite_swap" if engine() == "sqlite" else "_pg_swap"
    with (
        mock.patch.object(backup, swap, side_effect=backup.BackupError("swap failed")),
        pytest.raises(CommandError, match="swap failed"),
    ):
        restore(archive, "--yes")

    assert bucket_contents(s3, empty_bucket) == {}
    assert backup._target_is_empty(engine(), target)[0]


def test_an_archive_of_the_bucket_restores_into_folders(photos, s3: S3, target, tmp_path, settings):
    objects_before = bucket_contents(s3, s3.bucket)
    archive, _ = make_backup(tmp_path)
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": settings.STORAGES["staticfiles"],
    }
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")

    restore(archive, "--yes")

    media, private = tmp_path / "restored-media", tmp_path / "restored-media-private"
    on_disk = {
        **{
            p.relative_to(media).as_posix(): p.read_bytes() for p in media.rglob("*") if p.is_file()
        },
        **{
            "private/" + p.relative_to(private).as_posix(): p.read_bytes()
            for p in private.rglob("*")
            if p.is_file()
        },
    }
    assert on_disk == objects_before


def test_originals_sharing_the_public_prefix_are_refused(s3: S3, settings, tmp_path):
    build_world()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "location": "private"},
        },
    }

    with pytest.raises(CommandError, match="S3_PRIVATE_PREFIX to a prefix of their own"):
        call_command("backup", "--output", str(tmp_path / "backups"), verbosity=0)
