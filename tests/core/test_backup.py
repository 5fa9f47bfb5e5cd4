"""manage.py backup / restore (yizhan.core.backup): a small world with media files and original
report photos (in the private root) is backed up, restored into an empty database (SQLite: a new
file; PostgreSQL: a database created for the test), a new MEDIA_ROOT and a new private root, and
compared row by row and byte by byte; bad archives and non-empty targets are refused with
nothing changed."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import sqlite3
import tarfile
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

from tests.world import build_world, report_objects, shop_objects
from yizhan.core import backup
from yizhan.people.models import User
from yizhan.reports.models import Report
from yizhan.reports.storage import private_root

# pg_dump cannot see rows of an open test transaction, and sqlite3's backup API waits forever
# on one: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TARGET = "backup_target"


def engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The private root follows MEDIA_ROOT: <tmp>/media-private, and after the tests move
    # MEDIA_ROOT to <tmp>/restored-media, <tmp>/restored-media-private.
    settings.PRIVATE_MEDIA_ROOT = ""
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def small_world(media):
    """The test world with shop objects and reports (their originals land in the private root,
    the face-blurred copies in MEDIA_ROOT), plus a file no model points at, in a sub-folder."""
    world = build_world()
    shop_objects(world)
    report_objects(world)
    extra = media / "exports" / "2026" / "notes.bin"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(bytes(range(256)) * 13 + b"\x00end")
    return world


@pytest.fixture
def target(tmp_path):
    """A database alias ``backup_target`` pointing at an empty database of the same engine:
    a new SQLite file, or a fresh PostgreSQL database (dropped afterwards)."""
    source = dict(connection.settings_dict)
    config = {**source, "TEST": {}}
    if engine() == "sqlite":
        config["NAME"] = str(tmp_path / "restored" / "yizhan.sqlite3")
    else:
        config["NAME"] = f"{source['NAME']}_r{secrets.token_hex(3)}"[:63]
        with backup._pg_admin(source) as admin:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}" TEMPLATE template0')
    with mock.patch.dict(connections.settings, {TARGET: config}):
        yield config
        with contextlib.suppress(AttributeError):
            del connections[TARGET]
    if engine() == "postgresql":
        with backup._pg_admin(source) as admin:
            for row in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [config["NAME"].replace("_", r"\_") + "%"],
            ).fetchall():
                admin.execute(f'DROP DATABASE "{row[0]}" WITH (FORCE)')


@contextlib.contextmanager
def raw_cursor(config: dict):
    """A DB-API cursor outside Django's connection handling (the target alias is not one
    pytest-django lets a test use)."""
    if engine() == "sqlite":
        conn = sqlite3.connect(config["NAME"])
        try:
            yield conn.cursor()
        finally:
            conn.close()
    else:
        conn = backup._pg_connect(config)
        try:
            with conn.cursor() as cursor:
                backup._session_setup(cursor, "postgresql")
                yield cursor
        finally:
            conn.close()


def source_cursor():
    if engine() == "sqlite":
        connection.ensure_connection()
        return contextlib.closing(connection.connection.cursor())
    return raw_cursor(connection.settings_dict)


def rows_of_every_model(cursor) -> dict:
    """model label → (sorted primary keys, (rows, content digest))."""
    return {
        label: (
            backup.table_ids(cursor, info["table"], info["pk"]),
            backup.table_stats(cursor, engine(), info["table"], info["columns"]),
        )
        for label, info in backup.model_tables().items()
    }


def files_under(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def private_member(archive: Path) -> str:
    """The name of an original photo in the archive (``private/reports/<y>/<m>/r…jpg``)."""
    members = backup.read_manifest(archive)["members"]
    return next(name for name in sorted(members) if name.startswith("private/reports/"))


def make_backup(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "backups"
    call_command("backup", "--output", str(out), *extra, verbosity=0)
    (archive,) = backup.list_archives(out)
    return archive


def restore(archive: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), "--database", TARGET, *args, stdout=out)
    return out.getvalue()


def rewrite_archive(archive: Path, change) -> Path:
    """A copy of ``archive`` with ``change(name, data) -> data`` applied to every member
    (None leaves the member out)."""
    copy = archive.with_name("changed-" + archive.name)
    with tarfile.open(archive) as src, tarfile.open(copy, "w") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return copy


# --- the round trip ----------------------------------------------------------------------------


def test_restore_into_an_empty_database_gives_every_row_and_media_file_back(
    small_world, media, target, tmp_path, settings
):
    with source_cursor() as cursor:
        before = rows_of_every_model(cursor)
    media_before = files_under(media)
    assert private_root() == tmp_path / "media-private"
    private_before = files_under(private_root())
    originals = [
        name for name in private_before if name.startswith("reports/") and name.endswith(".jpg")
    ]
    assert Report.objects.count() == 6 and len(media_before) >= 1 and len(originals) >= 6
    archive = make_backup(tmp_path)

    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    output = restore(archive, "--yes")

    assert "match the manifest" in output
    with raw_cursor(target) as cursor:
        after = rows_of_every_model(cursor)
    assert after == before
    assert sum(rows for _, (rows, _) in after.values()) > 100
    assert files_under(Path(settings.MEDIA_ROOT)) == media_before
    assert private_root() == tmp_path / "restored-media-private"
    assert files_under(private_root()) == private_before
    # Nothing left behind: no staging folders, no copies of a previous (empty) target.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    if engine() == "sqlite":
        assert sorted(p.name for p in Path(target["NAME"]).parent.iterdir()) == ["yizhan.sqlite3"]


def test_the_manifest_holds_migrations_row_counts_and_checksums(small_world, media, tmp_path):
    archive = make_backup(tmp_path, "--gzip")
    assert archive.name.endswith(".tar.gz")
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    manifest = backup.read_manifest(archive)

    assert manifest["format"] == backup.FORMAT_VERSION
    assert manifest["engine"] == engine()
    assert manifest["created_at"].endswith("Z")
    latest = {}
    for migration in MigrationRecorder.Migration.objects.order_by("id"):
        latest[migration.app] = migration.name
    assert manifest["migrations"]["latest"] == latest
    assert manifest["models"]["people.User"]["rows"] == User.objects.count()
    assert manifest["models"]["reports.Report"]["rows"] == 6
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert names[-1] == "manifest.json"
        assert set(names) - {"manifest.json"} == set(manifest["members"])
        notes = tar.extractfile("media/exports/2026/notes.bin").read()
    assert manifest["members"]["media/exports/2026/notes.bin"]["sha256"] == (
        __import__("hashlib").sha256(notes).hexdigest()
    )
    assert manifest["media"]["files"] == len(files_under(media))
    private = files_under(private_root())
    assert manifest["private"] == {
        "files": len(private),
        "bytes": sum(len(data) for data in private.values()),
    }
    assert {name for name in manifest["members"] if name.startswith("private/")} == {
        "private/" + rel for rel in private
    }


def test_keep_deletes_all_but_the_newest_archives(media, tmp_path):
    build_world()
    out = tmp_path / "backups"
    stale = out / "yizhan-backup-20200101T000000Z.tar"
    out.mkdir()
    stale.write_bytes(b"old")
    other = out / "notes.txt"
    other.write_text("not an archive")

    call_command("backup", "--output", str(out), verbosity=0)
    call_command("backup", "--output", str(out), "--keep", "2", verbosity=0)
    call_command("backup", "--output", str(out), "--gzip", "--keep", "2", verbosity=0)

    kept = backup.list_archives(out)
    assert len(kept) == 2 and not stale.exists() and other.exists()
    assert kept[-1].name.endswith(".tar.gz")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("backup", "--output", str(out), "--keep", "0", verbosity=0)


# --- listing and dry run -----------------------------------------------------------------------


def test_list_shows_the_manifest_and_checks_the_checksums(small_world, tmp_path):
    archive = make_backup(tmp_path)
    out = io.StringIO()

    call_command("restore", str(archive), "--list", stdout=out)

    text = out.getvalue()
    manifest = backup.read_manifest(archive)
    assert f"created at: {manifest['created_at']}" in text
    assert f"engine:     {engine()}" in text
    assert f"private:    {manifest['private']['files']} files" in text
    assert "  reports.Report: 6" in text
    assert f"  people: {manifest['migrations']['latest']['people']}" in text
    assert f"checksums:  all {len(manifest['members'])} members match" in text
    out = io.StringIO()
    call_command("restore", str(archive), "--list", "--json", stdout=out)
    assert json.loads(out.getvalue()) == manifest


def test_dry_run_restores_into_a_scratch_copy_and_changes_nothing(
    small_world, target, tmp_path, settings
):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")

    output = restore(archive, "--dry-run")

    assert "matches the manifest" in output and "nothing was changed" in output
    assert not Path(settings.MEDIA_ROOT).exists() and not private_root().exists()
    assert backup._target_is_empty(engine(), target)[0]


# --- refusals ----------------------------------------------------------------------------------


def test_a_restore_without_yes_is_refused(small_world, target, tmp_path, settings):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")

    with pytest.raises(CommandError, match="pass --yes"):
        restore(archive)

    assert backup._target_is_empty(engine(), target)[0]


def test_a_non_empty_target_is_refused_without_force(small_world, target, tmp_path, settings):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    restore(archive, "--yes")
    (Path(settings.MEDIA_ROOT) / "late.txt").write_text("written after the restore")

    with pytest.raises(CommandError, match="not empty.*--force"):
        restore(archive, "--yes")
    assert (Path(settings.MEDIA_ROOT) / "late.txt").exists()

    output = restore(archive, "--yes", "--force")

    assert not (Path(settings.MEDIA_ROOT) / "late.txt").exists()
    kept = [
        line.split(" at ")[1].split(";")[0] for line in output.splitlines() if "kept at" in line
    ]
    assert len(kept) == 3  # the database, MEDIA_ROOT and the private root
    assert any(Path(k).is_dir() and (Path(k) / "late.txt").exists() for k in kept)
    assert any(Path(k).name.startswith("restored-media-private.pre-restore-") for k in kept)


def test_a_non_empty_private_root_alone_makes_the_target_non_empty(
    small_world, target, tmp_path, settings
):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    stray = private_root() / "reports" / "stray.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"an original nobody backed up")

    with pytest.raises(CommandError, match="restored-media-private holds files.*--force"):
        restore(archive, "--yes")

    assert stray.exists() and not Path(settings.MEDIA_ROOT).exists()
    assert backup._target_is_empty(engine(), target)[0]


def test_a_failed_database_swap_puts_media_and_the_private_root_back(
    small_world, target, tmp_path, settings
):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    restore(archive, "--yes")
    (Path(settings.MEDIA_ROOT) / "late.txt").write_text("written after the restore")
    (private_root() / "late.jpg").write_bytes(b"a later original")
    media_before, private_before = (
        files_under(Path(settings.MEDIA_ROOT)),
        files_under(private_root()),
    )

    swap = "_sqlite_swap" if engine() == "sqlite" else "_pg_swap"
    with (
        mock.patch.object(backup, swap, side_effect=backup.BackupError("swap failed")),
        pytest.raises(CommandError, match="swap failed"),
    ):
        restore(archive, "--yes", "--force")

    assert files_under(Path(settings.MEDIA_ROOT)) == media_before
    assert files_under(private_root()) == private_before
    assert sorted(p.name for p in tmp_path.iterdir() if "pre-restore" in p.name) == []
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_archive_without_a_private_section_restores_an_empty_private_root(
    small_world, target, tmp_path, settings
):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")

    def drop_private(name, data):
        # An archive made before the private root was backed up.
        if name.startswith("private/"):
            return None
        if name == "manifest.json":
            manifest = json.loads(data)
            del manifest["private"]
            manifest["members"] = {
                k: v for k, v in manifest["members"].items() if not k.startswith("private/")
            }
            return json.dumps(manifest).encode()
        return data

    old = rewrite_archive(archive, drop_private)
    listing = io.StringIO()
    call_command("restore", str(old), "--list", stdout=listing)
    assert "private:    0 files, 0 bytes" in listing.getvalue()

    output = restore(old, "--yes")

    assert "0 private files" in output
    assert private_root().is_dir() and files_under(private_root()) == {}
    assert files_under(Path(settings.MEDIA_ROOT)) == files_under(tmp_path / "media")


def test_a_tampered_archive_is_refused_and_nothing_is_restored(
    small_world, target, tmp_path, settings
):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")

    def flip(name, data):
        if name == "media/exports/2026/notes.bin":
            return data[:-1] + b"!"
        return data

    tampered = rewrite_archive(archive, flip)
    with pytest.raises(CommandError, match="'media/exports/2026/notes.bin' does not match its"):
        restore(tampered, "--yes")
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(tampered), "--list", stdout=io.StringIO())

    def add(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            del manifest["members"]["media/exports/2026/notes.bin"]
            return json.dumps(manifest).encode()
        return data

    with pytest.raises(CommandError, match="which its manifest does not list"):
        restore(rewrite_archive(archive, add), "--yes")

    assert not Path(settings.MEDIA_ROOT).exists() and not private_root().exists()
    assert backup._target_is_empty(engine(), target)[0]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_tampered_private_member_is_refused_and_nothing_is_restored(
    small_world, target, tmp_path, settings
):
    archive = make_backup(tmp_path)
    original = private_member(archive)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")

    def flip(name, data):
        return data[:-1] + bytes([data[-1] ^ 1]) if name == original else data

    tampered = rewrite_archive(archive, flip)
    with pytest.raises(CommandError, match=f"'{original}' does not match its checksum"):
        restore(tampered, "--yes")
    with pytest.raises(CommandError, match=f"'{original}' does not match its checksum"):
        call_command("restore", str(tampered), "--list", stdout=io.StringIO())

    assert not Path(settings.MEDIA_ROOT).exists() and not private_root().exists()
    assert backup._target_is_empty(engine(), target)[0]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_truncated_missing_or_foreign_archive_is_refused(small_world, target, tmp_path, settings):
    archive = make_backup(tmp_path)
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    gz = make_backup(tmp_path / "gz", "--gzip")
    truncated_gz = tmp_path / "truncated.tar.gz"
    truncated_gz.write_bytes(gz.read_bytes()[:-100])
    junk = tmp_path / "junk.tar"
    junk.write_bytes(os.urandom(4000))

    with pytest.raises(CommandError, match="truncated.tar is truncated or damaged"):
        restore(truncated, "--yes")
    # Cut just before the manifest, the last member.
    headless = rewrite_archive(
        archive, lambda name, data: None if name == "manifest.json" else data
    )
    with pytest.raises(CommandError, match="has no manifest.json: it is truncated"):
        restore(headless, "--yes")
    with pytest.raises(CommandError, match="truncated or damaged"):
        restore(truncated_gz, "--yes")
    with pytest.raises(CommandError, match="truncated or damaged"):
        restore(junk, "--yes")
    with pytest.raises(CommandError, match="There is no archive at"):
        restore(tmp_path / "nowhere.tar", "--yes")

    assert not Path(settings.MEDIA_ROOT).exists()
    assert backup._target_is_empty(engine(), target)[0]


def test_an_archive_of_the_other_engine_is_refused(small_world, target, tmp_path, settings):
    archive = make_backup(tmp_path)
    other = "sqlite" if engine() == "postgresql" else "postgresql"

    def relabel(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["engine"] = other
            manifest["members"][backup.DB_MEMBER[other]] = manifest["members"].pop(
                backup.DB_MEMBER[engine()]
            )
            return json.dumps(manifest).encode()
        return data

    with pytest.raises(CommandError, match="across engines is not supported"):
        restore(rewrite_archive(archive, relabel), "--yes")
    assert backup._target_is_empty(engine(), target)[0]


# --- online ------------------------------------------------------------------------------------


def test_a_sqlite_backup_is_consistent_while_another_connection_writes(
    small_world, target, tmp_path, settings
):
    if engine() != "sqlite":
        pytest.skip("SQLite's online backup API")
    # Given a file database in WAL mode (the world, restored into the target file) …
    seed = make_backup(tmp_path / "seed")
    settings.MEDIA_ROOT = str(tmp_path / "restored-media")
    restore(seed, "--yes")
    path = target["NAME"]
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchall()
    stop, written, errors = threading.Event(), [0], []

    def writer():
        conn = sqlite3.connect(path, timeout=20, isolation_level=None)
        try:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO django_session (session_key, session_data, expire_date)"
                    " VALUES (?, 'x', '2030-01-01 00:00:00')",
                    [secrets.token_hex(16)],
                )
                written[0] += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    # … when it is backed up while another connection keeps inserting sessions,
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 20:
            time.sleep(0.01)
        at_start = written[0]
        out = tmp_path / "online"
        call_command("backup", "--database", TARGET, "--output", str(out), verbosity=0)
        at_end = written[0]
    finally:
        stop.set()
        thread.join()

    # then the writes went on, and the archive is one consistent moment: its counts and
    # digests match its own dump (the dry run restores and compares them).
    assert errors == [] and at_end > at_start
    (archive,) = backup.list_archives(out)
    sessions = backup.read_manifest(archive)["models"]["sessions.Session"]["rows"]
    assert at_start <= sessions <= at_end
    assert "matches the manifest" in restore(archive, "--dry-run")


def test_archives_made_in_the_same_second_sort_in_the_order_they_were_made(tmp_path):
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, 2, 30, tzinfo=UTC)
    made = []
    for compress in (False, True, False):
        path = backup._archive_name(tmp_path, now, compress)
        path.write_bytes(b"")
        made.append(path.name)

    assert made == [
        "yizhan-backup-20261203T023000Z.tar",
        "yizhan-backup-20261203T023000Z-2.tar.gz",
        "yizhan-backup-20261203T023000Z-3.tar",
    ]
    assert [p.name for p in backup.list_archives(tmp_path)] == made


def test_archives_are_never_written_where_the_web_server_serves_files(media, tmp_path):
    with pytest.raises(CommandError, match="inside MEDIA_ROOT"):
        call_command("backup", "--output", str(media / "backups"), verbosity=0)
    assert not (media / "backups").exists()
    with pytest.raises(CommandError, match="inside the private folder"):
        call_command("backup", "--output", str(private_root() / "backups"), verbosity=0)
    assert not (private_root() / "backups").exists()


def test_media_root_and_private_root_must_not_nest(media, tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = str(media / "private")
    with pytest.raises(CommandError, match="neither inside the other"):
        call_command("backup", "--output", str(tmp_path / "backups"), verbosity=0)
