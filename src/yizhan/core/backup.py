"""Backup and restore of the database, MEDIA_ROOT and the private folder of report originals in
one archive (``manage.py backup`` / ``manage.py restore``; docs/backup.md).

An archive is a tar file (optionally gzip-compressed) holding

- ``media/<path>``: every regular file under MEDIA_ROOT;
- ``private/<path>``: every regular file under the private root
  (``yizhan.reports.storage.private_root()``: PRIVATE_MEDIA_ROOT, else ``<MEDIA_ROOT>-private``),
  where the original report photos live;
- ``database.sqlite3`` (SQLite, made with sqlite3's online backup API) or ``database.pgdump``
  (PostgreSQL, ``pg_dump -Fc``);
- ``manifest.json``, written last: format version, creation time, Django version, engine, the
  applied migrations, rows and a content digest per model table, and the size and sha256 of
  every other member. A truncated archive therefore has no manifest and is refused.

The row counts and digests are taken from the same snapshot the dump is made from (the SQLite
copy itself; for PostgreSQL a REPEATABLE READ transaction whose snapshot pg_dump imports with
``--snapshot``), so they agree with the dump even while the server keeps writing.

A restore never writes into the target until everything has been checked: the members are
extracted and their sha256 compared, the database is restored into a scratch copy (a temporary
SQLite file; a scratch PostgreSQL database filled by ``pg_restore --single-transaction``) and
its migrations, row counts and digests compared with the manifest. Only then are media, the
private root and the database swapped in (a directory rename each; one SQLite backup-API
transaction, or two ``ALTER DATABASE … RENAME``). An archive made before the private root was
backed up (no ``private`` in its manifest) restores it as empty. Restoring across engines is not
supported.

With uploaded files in object storage (``S3_BUCKET``; ``yizhan.config.storage``) the ``media/``
members are the objects of the default storage (the bucket's root, less the originals' prefix)
and the ``private/`` members the originals (under ``S3_PRIVATE_PREFIX``), read and written
through Django's storage API, so the archive holds the same members whichever way the files are
kept, and restores into either. Objects cannot be swapped in by a rename: a restore uploads them
after every check has passed (and deletes them again if the database swap then fails). An object
store that already holds objects is refused without ``--force``; with it, objects of the
archive replace those of the same name (an object with the same content is left as it is) and
objects the archive does not hold are left where they are: nothing is moved aside, so keep
versioning switched on in the bucket to be able to go back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connections

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
PRIVATE_PREFIX = "private/"
NO_FILES = {"files": 0, "bytes": 0}
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINES = {
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.postgresql": "postgresql",
}
ARCHIVE_RE = re.compile(r"^yizhan-backup-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar(?:\.gz)?$")
_CHUNK = 1 << 20
# libpq connection options Django's OPTIONS may carry, and the environment variables the
# PostgreSQL command-line tools read them from (nothing secret goes on a command line).
_LIBPQ_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}

Log = Callable[[str], None]
#: Where an archive's files come from and go to: a folder, or an object storage.
Store = Path | Storage


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def _quiet(message: str) -> None:
    pass


# --------------------------------------------------------------------------------------------
# Where, which engine, which tables


def backup_dir() -> Path:
    """The directory archives go to: settings.BACKUP_DIR, else <VAR_DIR>/backups."""
    configured = getattr(settings, "BACKUP_DIR", None)
    if configured:
        return Path(configured)
    return Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "backups"


def file_roots(media_root: Path | None = None, private: Path | None = None) -> dict[str, Path]:
    """The folders an archive holds, by member prefix: MEDIA_ROOT and the private root of the
    report originals. Refused when one is inside the other (each is swapped as a whole)."""
    from yizhan.reports.storage import private_root

    media = Path(media_root or settings.MEDIA_ROOT)
    private = Path(private or private_root())
    a, b = media.resolve(), private.resolve()
    if a.is_relative_to(b) or b.is_relative_to(a):
        raise BackupError(
            f"MEDIA_ROOT ({media}) and the private folder of report originals ({private}) must "
            "be separate folders, neither inside the other: set PRIVATE_MEDIA_ROOT elsewhere."
        )
    return {MEDIA_PREFIX: media, PRIVATE_PREFIX: private}


def _object_storage(storage: Any) -> Storage | None:
    """``storage`` when it is not a folder on this machine (S3 …), else None."""
    return None if isinstance(storage, FileSystemStorage) else storage


def file_stores(media_root: Path | None = None, private: Path | None = None) -> dict[str, Store]:
    """Like :func:`file_roots`, with object storage where settings put the files there: the
    default storage for ``media/``, the originals' storage for ``private/``. A folder given as
    an argument wins (the tests restore into new folders)."""
    from yizhan.reports.storage import private_storage

    media_store = None if media_root else _object_storage(default_storage)
    private_store = None if private else _object_storage(private_storage())
    if media_store is None and private_store is None:
        return dict(file_roots(media_root, private))
    stores: dict[str, Store] = {
        MEDIA_PREFIX: media_store or Path(media_root or settings.MEDIA_ROOT),
        PRIVATE_PREFIX: private_store or Path(private or _private_root()),
    }
    if media_store is not None and private_store is not None:
        _skipped_folder(media_store, private_store)  # refuses the originals around the media
    return stores


def _private_root() -> Path:
    from yizhan.reports.storage import private_root

    return private_root()


def _bucket_place(storage: Any) -> tuple[tuple[str, str], str] | None:
    """(endpoint and bucket, key prefix) of an S3 storage; None for any other."""
    bucket = getattr(storage, "bucket_name", None)
    if not bucket:
        return None
    return (str(getattr(storage, "endpoint_url", "") or ""), bucket), (
        getattr(storage, "location", "") or ""
    ).strip("/")


def _skipped_folder(outer: Any, inner: Any) -> str | None:
    """The folder of ``outer`` that is ``inner``'s whole key space (the originals' prefix at
    the bucket's root, where the public files are), so a listing of ``outer`` leaves it out;
    None when they do not overlap. Refused when ``outer`` lies inside ``inner``."""
    a, b = _bucket_place(outer), _bucket_place(inner)
    if a is None or b is None or a[0] != b[0]:
        return None
    (_, outer_prefix), (_, inner_prefix) = a, b
    if outer_prefix == inner_prefix or (
        outer_prefix.startswith(inner_prefix + "/") or not inner_prefix
    ):
        raise BackupError(
            f"The public files (prefix {outer_prefix!r}) and the report originals (prefix "
            f"{inner_prefix!r}) must not share their place in bucket {a[0][1]!r}, nor lie in "
            "the originals' prefix: set S3_PRIVATE_PREFIX to a prefix of their own."
        )
    if not outer_prefix:
        return inner_prefix
    if inner_prefix.startswith(outer_prefix + "/"):
        return inner_prefix[len(outer_prefix) + 1 :]
    return None


def storage_files(storage: Storage, *, skip: str | None = None) -> Iterator[str]:
    """The name of every file in ``storage``, sorted by folder, leaving out the folder
    ``skip`` (see :func:`_skipped_folder`)."""

    def walk(folder: str) -> Iterator[str]:
        folders, files = storage.listdir(folder)
        for name in sorted(files):
            yield posixpath.join(folder, name) if folder else name
        for name in sorted(folders):
            path = posixpath.join(folder, name) if folder else name
            if path != skip:
                yield from walk(path)

    yield from walk("")


def _store_skip(stores: dict[str, Store], prefix: str) -> str | None:
    if prefix == MEDIA_PREFIX and not isinstance(stores[PRIVATE_PREFIX], Path):
        return _skipped_folder(stores[MEDIA_PREFIX], stores[PRIVATE_PREFIX])
    return None


def describe_store(store: Store) -> str:
    """Where a store is, for messages: the folder, or ``s3://bucket/prefix`` (with the
    endpoint when not AWS)."""
    if isinstance(store, Path):
        return str(store)
    place = _bucket_place(store)
    if place is None:
        return f"the object storage {type(store).__name__}"
    (endpoint, bucket), prefix = place
    where = f"s3://{bucket}/{prefix + '/' if prefix else ''}"
    return f"{where} at {endpoint}" if endpoint else where


Reader = Callable[[], tuple[bytes, float]]


def _store_files(store: Store, skip: str | None, now: float) -> Iterator[tuple[str, Reader]]:
    """Every file of a store as (posix relative name, a function returning its bytes and
    modification time, or raising FileNotFoundError when it was deleted since the listing)."""
    if isinstance(store, Path):
        for rel, path in _media_files(store):

            def read_file(path: Path = path) -> tuple[bytes, float]:
                return path.read_bytes(), path.stat().st_mtime

            yield rel, read_file
        return
    for name in storage_files(store, skip=skip):

        def read_object(name: str = name) -> tuple[bytes, float]:
            try:
                with store.open(name, "rb") as fh:
                    return fh.read(), now
            except Exception:
                if not store.exists(name):
                    raise FileNotFoundError(name) from None
                raise

        yield name, read_object


def database_settings(alias: str = "default") -> dict[str, Any]:
    try:
        return dict(connections.settings[alias])
    except KeyError as exc:
        raise BackupError(f"There is no database {alias!r} in settings.DATABASES.") from exc


def engine_of(db: dict[str, Any]) -> str:
    try:
        return ENGINES[db["ENGINE"]]
    except KeyError as exc:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {db['ENGINE']!r}.") from exc


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def model_tables() -> dict[str, dict[str, Any]]:
    """Every table a model of the project owns (with many-to-many tables): label → table,
    primary-key column and columns. The manifest keeps this list, so a restore checks the
    tables of the archive even when the code's models have changed since."""
    tables: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy or meta.db_table in seen:
            continue
        seen.add(meta.db_table)
        tables[meta.label] = {
            "table": meta.db_table,
            "pk": meta.pk.column,
            "columns": [f.column for f in meta.local_concrete_fields],
        }
    return dict(sorted(tables.items()))


def table_stats(cursor, engine: str, table: str, columns: list[str]) -> tuple[int, str]:
    """Rows in ``table`` and an order-independent digest of their content.

    Each row is read as text the database itself renders (SQLite ``quote()``, PostgreSQL
    ``::text`` in a session set to UTC and ISO dates), hashed, and the hashes are added modulo
    2**256, so the digest does not depend on the order rows come back in."""
    if engine == "sqlite":
        exprs = [f"quote({_quote(c)})" for c in columns]
    else:
        exprs = [f"{_quote(c)}::text" for c in columns]
    cursor.execute(f"SELECT {', '.join(exprs)} FROM {_quote(table)}")  # noqa: S608
    total, rows = 0, 0
    while batch := cursor.fetchmany(2000):
        for row in batch:
            total += int.from_bytes(hashlib.sha256(repr(tuple(row)).encode()).digest(), "big")
            rows += 1
    return rows, f"{total % (1 << 256):064x}"


def table_ids(cursor, table: str, pk: str) -> list:
    """The primary keys of a table, sorted (tests compare them)."""
    cursor.execute(f"SELECT {_quote(pk)} FROM {_quote(table)}")  # noqa: S608
    return sorted(row[0] for row in cursor.fetchall())


def _session_setup(cursor, engine: str) -> None:
    if engine == "postgresql":
        cursor.execute(
            "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
            " SET extra_float_digits = 1; SET bytea_output = 'hex'"
        )


def database_state(cursor, engine: str, tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Applied migrations and per-table rows and digests, read through ``cursor``."""
    _session_setup(cursor, engine)
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    applied = [[app, name] for app, name in cursor.fetchall()]
    latest: dict[str, str] = {}
    for app, name in applied:
        latest[app] = name
    models = {}
    for label, info in tables.items():
        rows, digest = table_stats(cursor, engine, info["table"], info["columns"])
        models[label] = {**info, "rows": rows, "digest": digest}
    return {
        "migrations": {"latest": dict(sorted(latest.items())), "applied": applied},
        "models": models,
    }


def compare_state(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """What differs between the manifest's database state and a restored one (empty: equal)."""
    problems = []
    if expected["migrations"]["applied"] != found["migrations"]["applied"]:
        problems.append(
            "the applied migrations differ from the manifest's "
            f"(latest there {expected['migrations']['latest']}, "
            f"restored {found['migrations']['latest']})"
        )
    for label, info in expected["models"].items():
        got = found["models"].get(label)
        if got is None:
            problems.append(f"{label}: table {info['table']} is missing")
        elif got["rows"] != info["rows"]:
            problems.append(f"{label}: {got['rows']} rows, the manifest says {info['rows']}")
        elif got["digest"] != info["digest"]:
            problems.append(f"{label}: the rows' content differs from the manifest's digest")
    return problems


# --------------------------------------------------------------------------------------------
# SQLite


def _sqlite_connect(name: str, **kwargs) -> sqlite3.Connection:
    return sqlite3.connect(str(name), uri=str(name).startswith("file:"), timeout=20, **kwargs)


def _sqlite_snapshot(alias: str, dest: Path) -> None:
    """Copy the live database into ``dest`` with sqlite3's online backup API.

    One step (all pages at once) under one read transaction: in WAL mode writers go on while it
    runs, and the copy is the database as of one moment."""
    wrapper = connections[alias]
    name = str(wrapper.settings_dict["NAME"])
    own = None
    if _sqlite_is_memory(name):
        # Only this process's connection reaches an in-memory database (the tests').
        if wrapper.in_atomic_block:
            raise BackupError("A backup cannot run inside a transaction of its own process.")
        wrapper.ensure_connection()
        source = wrapper.connection
    else:
        if not Path(name).is_file():
            raise BackupError(f"There is no SQLite database at {name}.")
        source = own = _sqlite_connect(name)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
        # A self-contained file: no -wal beside it.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        if own is not None:
            own.close()


def _sqlite_state(path: Path, tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    conn = _sqlite_connect(str(path))
    try:
        return database_state(conn.cursor(), "sqlite", tables)
    finally:
        conn.close()


def _sqlite_table_count(conn: sqlite3.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()[0]


def _sqlite_is_memory(name: str) -> bool:
    return name == ":memory:" or "mode=memory" in name


# --------------------------------------------------------------------------------------------
# PostgreSQL


def pg_env(db: dict[str, Any], dbname: str | None = None) -> dict[str, str]:
    """The environment for pg_dump / pg_restore: connection parameters and the password as
    PG* variables, never on the command line (where ``ps`` would show them)."""
    env = dict(os.environ)
    for key, var in {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER"}.items():
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    env["PGDATABASE"] = dbname or db["NAME"]
    for option, var in _LIBPQ_ENV.items():
        value = (db.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            env[var] = str(value)
    return env


def _pg_connect(db: dict[str, Any], dbname: str | None = None, autocommit: bool = False):
    import psycopg

    params: dict[str, Any] = {"dbname": dbname or db["NAME"], "autocommit": autocommit}
    for key, param in {
        "HOST": "host",
        "PORT": "port",
        "USER": "user",
        "PASSWORD": "password",
    }.items():
        if db.get(key):
            params[param] = str(db[key])
    for option in _LIBPQ_ENV:
        value = (db.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            params[option] = value
    try:
        return psycopg.connect(**params)
    except psycopg.OperationalError as exc:
        raise BackupError(
            f"Cannot connect to PostgreSQL database {params['dbname']!r}: {exc}"
        ) from exc


@contextlib.contextmanager
def _pg_admin(db: dict[str, Any]) -> Iterator[Any]:
    """An autocommit connection to a maintenance database (postgres, else template1)."""
    try:
        conn = _pg_connect(db, "postgres", autocommit=True)
    except BackupError:
        conn = _pg_connect(db, "template1", autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH. Install the PostgreSQL client tools of the server's major "
            "version (e.g. apt-get install postgresql-client-15)."
        )
    return path


def pg_tool_major(name: str) -> int:
    out = subprocess.run(
        [pg_tool(name), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise BackupError(f"Cannot read the version of {name} from {out!r}.")
    return int(match.group(1))


def _pg_check_versions(conn, tool: str) -> dict[str, Any]:
    server = conn.info.server_version // 10000
    client = pg_tool_major(tool)
    if client < server:
        raise BackupError(
            f"{tool} is version {client} but the server is PostgreSQL {server}: {tool} must be "
            f"at least the server's major version. Install postgresql-client-{server}."
        )
    return {"server": server, tool: client}


def _run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


def _pg_dump(db: dict[str, Any], dest: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """pg_dump -Fc of the database, and its state read in the snapshot pg_dump dumps."""
    conn = _pg_connect(db)
    try:
        versions = _pg_check_versions(conn, "pg_dump")
        with conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            # pg_dump imports the snapshot, so the dump and the counts below see one moment.
            _run_tool(
                [pg_tool("pg_dump"), "-Fc", f"--snapshot={snapshot}", "--no-password",
                 "-f", str(dest)],
                pg_env(db),
                "pg_dump",
            )  # fmt: skip
            state = database_state(cursor, "postgresql", model_tables())
        conn.rollback()
    finally:
        conn.close()
    return state, versions


def _pg_table_count(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
            """
        )
        return cursor.fetchone()[0]


def _pg_database_exists(admin, name: str) -> dict[str, Any] | None:
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database"
            " WHERE datname = %s",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else {"encoding": row[0], "collate": row[1], "ctype": row[2]}


def _pg_other_sessions(admin, name: str) -> int:
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        return cursor.fetchone()[0]


def _pg_scratch_name(target: str, tag: str) -> str:
    suffix = f"_{tag}_{secrets.token_hex(4)}"
    return target[: 63 - len(suffix)] + suffix


# --------------------------------------------------------------------------------------------
# Backup


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    removed: list[Path] = field(default_factory=list)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _archive_name(directory: Path, now: datetime, compress: bool) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    ext = ".tar.gz" if compress else ".tar"
    # Two backups in one second get -2, -3 … whatever their compression, so the names sort in
    # the order the archives were made (list_archives, --keep).
    base, n = f"yizhan-backup-{stamp}", 1
    while any((directory / f"{base}{e}").exists() for e in (".tar", ".tar.gz")):
        n += 1
        base = f"yizhan-backup-{stamp}-{n}"
    return directory / f"{base}{ext}"


def list_archives(directory: Path) -> list[Path]:
    """The archives in ``directory``, oldest first (by the time in their names)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = ARCHIVE_RE.match(path.name)
        if match and path.is_file():
            found.append(((match.group(1), int(match.group(2) or 1)), path))
    return [path for _, path in sorted(found)]


def prune_archives(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives in ``directory``; return what was deleted."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    old = list_archives(directory)[:-keep]
    for path in old:
        path.unlink()
    return old


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Regular files under ``root`` as (posix relative path, path), sorted; symbolic links
    are not followed."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def backup_create(
    *,
    alias: str = "default",
    output: Path | None = None,
    compress: bool = False,
    keep: int | None = None,
    log: Log = _quiet,
) -> BackupResult:
    """Write one archive of the database ``alias`` and MEDIA_ROOT into ``output``.

    The archive is written under a temporary name in the same directory and renamed when
    complete, so a crash never leaves a file that looks like a finished archive."""
    db = database_settings(alias)
    engine = engine_of(db)
    if keep is not None and keep < 1:
        raise BackupError("--keep must be at least 1.")
    directory = Path(output) if output else backup_dir()
    roots = file_stores()
    for served in ("MEDIA_ROOT", "STATIC_ROOT"):
        root = getattr(settings, served, None)
        if root and directory.resolve().is_relative_to(Path(root).resolve()):
            # The web server hands out everything there: archives of personal data must not be.
            raise BackupError(
                f"The backup directory {directory} is inside {served} ({root}), which the web "
                "server serves to anyone. Choose another (--output or BACKUP_DIR)."
            )
    private = roots[PRIVATE_PREFIX]
    if isinstance(private, Path) and directory.resolve().is_relative_to(private.resolve()):
        # Each backup would hold the ones before it, and a restore moves them aside.
        raise BackupError(
            f"The backup directory {directory} is inside the private folder of report originals "
            f"({private}), which is backed up itself. Choose another "
            "(--output or BACKUP_DIR)."
        )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    final = _archive_name(directory, now, compress)
    staging = Path(tempfile.mkdtemp(prefix=".yizhan-backup-", dir=directory))
    partial = directory / f".{final.name}.partial"
    try:
        dump = staging / DB_MEMBER[engine]
        log(f"Dumping the {engine} database {db['NAME']} …")
        tools: dict[str, Any] = {}
        if engine == "sqlite":
            _sqlite_snapshot(alias, dump)
            state = _sqlite_state(dump, model_tables())
        else:
            state, tools = _pg_dump(db, dump)
        members: dict[str, dict[str, Any]] = {}
        totals = {prefix: {"files": 0, "bytes": 0} for prefix in roots}
        # Archives hold personal information: readable by their owner only.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz" if compress else "w") as tar:
                info = tar.gettarinfo(str(dump), arcname=dump.name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                members[dump.name] = {"size": info.size, "sha256": _sha256_file(dump)}
                with open(dump, "rb") as fh:
                    tar.addfile(info, fh)
                for prefix, root in roots.items():
                    log(f"Adding {prefix.rstrip('/')} files from {describe_store(root)} …")
                    skip = _store_skip(roots, prefix)
                    for rel, read in _store_files(root, skip, now.timestamp()):
                        # Read once: the bytes hashed are the bytes stored, even if the file
                        # changes meanwhile.
                        try:
                            data, mtime = read()
                        except FileNotFoundError:
                            continue  # deleted since the walk saw it
                        name = prefix + rel
                        info = tarfile.TarInfo(name)
                        info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
                        tar.addfile(info, _BytesReader(data))
                        members[name] = {
                            "size": len(data),
                            "sha256": hashlib.sha256(data).hexdigest(),
                        }
                        totals[prefix]["files"] += 1
                        totals[prefix]["bytes"] += len(data)
                manifest = {
                    "format": FORMAT_VERSION,
                    "created_at": now.isoformat().replace("+00:00", "Z"),
                    "django": django.get_version(),
                    "engine": engine,
                    "database": {"name": Path(str(db["NAME"])).name, **tools},
                    "migrations": state["migrations"],
                    "models": state["models"],
                    "media": totals[MEDIA_PREFIX],
                    "private": totals[PRIVATE_PREFIX],
                    "members": members,
                }
                objects = {
                    prefix.rstrip("/"): describe_store(root)
                    for prefix, root in roots.items()
                    if not isinstance(root, Path)
                }
                if objects:
                    # Where the files were read from (object storage), for the record.
                    manifest["object_storage"] = objects
                data = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
                tar.addfile(info, _BytesReader(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, final)
        _fsync_dir(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    removed = prune_archives(directory, keep) if keep else []
    return BackupResult(path=final, manifest=manifest, removed=removed)


class _BytesReader:
    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._pos + size
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk


# --------------------------------------------------------------------------------------------
# Reading and checking an archive


_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError)


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"There is no archive at {path}.")
    try:
        with tarfile.open(path, mode="r:*") as tar:
            yield tar
    except BackupError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise BackupError(
            f"{path} is truncated or damaged, or not a Yizhan backup ({exc.__class__.__name__}:"
            f" {exc})."
        ) from exc


def _read_manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError(
            f"{path} has no {MANIFEST}: it is truncated or not a Yizhan backup."
        ) from None
    fh = tar.extractfile(member)
    try:
        manifest = json.loads(fh.read())
    except ValueError as exc:
        raise BackupError(f"The manifest of {path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has manifest format "
            f"{manifest.get('format') if isinstance(manifest, dict) else '?'};"
            f" this code reads format {FORMAT_VERSION}."
        )
    for key in ("engine", "members", "models", "migrations", "created_at"):
        if key not in manifest:
            raise BackupError(f"The manifest of {path} has no {key!r}.")
    if (
        manifest["engine"] not in DB_MEMBER
        or DB_MEMBER[manifest["engine"]] not in manifest["members"]
    ):
        raise BackupError(f"The manifest of {path} names no database dump it can restore.")
    return manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an archive (its members are not checked; see :func:`archive_verify`)."""
    with _open_archive(path) as tar:
        return _read_manifest(tar, Path(path))


def _safe_member_name(name: str, prefix: str) -> str:
    rel = name[len(prefix) :]
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in rel:
        raise BackupError(f"The archive holds an unsafe path {name!r}.")
    return rel


def _extract(
    path: Path,
    *,
    db_dest: Path | None,
    media_dest: Path | None,
    private_dest: Path | None = None,
    log: Log = _quiet,
) -> dict[str, Any]:
    """Read every member, compare its size and sha256 with the manifest, and (when a
    destination is given) write the database dump, the media files and the private files
    there."""
    path = Path(path)
    with _open_archive(path) as tar:
        manifest = _read_manifest(tar, path)
        expected = manifest["members"]
        seen: set[str] = set()
        for member in tar:
            name = member.name
            if name == MANIFEST:
                continue
            if name not in expected:
                raise BackupError(f"{path} holds {name!r}, which its manifest does not list.")
            if not member.isfile():
                raise BackupError(f"{path}: {name!r} is not a regular file.")
            if name in seen:
                raise BackupError(f"{path} holds {name!r} twice.")
            seen.add(name)
            dest = None
            if name == DB_MEMBER[manifest["engine"]]:
                dest = db_dest
            for prefix, folder in ((MEDIA_PREFIX, media_dest), (PRIVATE_PREFIX, private_dest)):
                if name.startswith(prefix):
                    rel = _safe_member_name(name, prefix)
                    if folder is not None:
                        dest = folder / rel
                        dest.parent.mkdir(parents=True, exist_ok=True)
            digest, size = hashlib.sha256(), 0
            source = tar.extractfile(member)
            out = open(dest, "wb") if dest is not None else None  # noqa: SIM115
            try:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    if out is not None:
                        out.write(chunk)
            finally:
                if out is not None:
                    out.close()
            if size != expected[name]["size"] or digest.hexdigest() != expected[name]["sha256"]:
                raise BackupError(
                    f"{path}: {name!r} does not match its checksum in the manifest: the archive "
                    "has been changed or damaged. Nothing was restored."
                )
        missing = sorted(set(expected) - seen)
        if missing:
            raise BackupError(
                f"{path} lacks {len(missing)} member(s) its manifest lists, e.g. {missing[0]!r}."
            )
    log(f"All {len(expected)} members match their checksums.")
    return manifest


def archive_verify(path: Path, *, log: Log = _quiet) -> dict[str, Any]:
    """Check every member of an archive against its manifest; return the manifest."""
    return _extract(path, db_dest=None, media_dest=None, log=log)


def manifest_summary(manifest: dict[str, Any]) -> list[str]:
    """Lines describing an archive's manifest, for ``restore --list``."""
    models = manifest["models"]
    private = manifest.get("private", NO_FILES)
    lines = [
        f"format:     {manifest['format']}",
        f"created at: {manifest['created_at']}",
        f"Django:     {manifest.get('django', '?')}",
        f"engine:     {manifest['engine']}",
        f"database:   {manifest.get('database', {}).get('name', '?')}",
        f"media:      {manifest['media']['files']} files, {manifest['media']['bytes']} bytes",
        f"private:    {private['files']} files, {private['bytes']} bytes (report originals)",
        *(f"{what} from: {where}" for what, where in manifest.get("object_storage", {}).items()),
        f"rows:       {sum(m['rows'] for m in models.values())} in {len(models)} tables",
        "latest migrations:",
    ]
    lines += [f"  {app}: {name}" for app, name in manifest["migrations"]["latest"].items()]
    lines.append("rows per model:")
    lines += [f"  {label}: {info['rows']}" for label, info in models.items() if info["rows"]]
    empty = [label for label, info in models.items() if not info["rows"]]
    if empty:
        lines.append(f"  ({len(empty)} more models with no rows)")
    return lines


# --------------------------------------------------------------------------------------------
# Restore


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    dry_run: bool
    kept: list[str] = field(default_factory=list)


def _media_is_empty(root: Path) -> bool:
    return next(_media_files(root), None) is None and not (
        root.is_dir() and any(p.is_symlink() for p in root.rglob("*"))
    )


def _store_is_empty(store: Store, skip: str | None) -> bool:
    if isinstance(store, Path):
        return _media_is_empty(store)
    return next(storage_files(store, skip=skip), None) is None


@dataclass
class _Upload:
    """What a restore wrote into an object storage (to report it, or to undo it)."""

    storage: Storage
    created: list[str] = field(default_factory=list)
    same: int = 0
    replaced: int = 0


def _upload(stage: Path, done: _Upload) -> None:
    """Write every file under ``stage`` into ``done.storage`` under the same name, recording
    each in ``done`` as it goes: an object of that name with the same content is left as it
    is, one with other content replaced."""
    storage = done.storage
    for rel, path in _media_files(stage):
        data = path.read_bytes()
        if storage.exists(rel):
            with storage.open(rel, "rb") as fh:
                if fh.read() == data:
                    done.same += 1
                    continue
            storage.delete(rel)
            done.replaced += 1
        else:
            done.created.append(rel)
        with open(path, "rb") as fh:
            saved = storage.save(rel, File(fh, name=rel))
        if saved != rel:  # written meanwhile by someone else: keep theirs, refuse ours
            storage.delete(saved)
            raise BackupError(
                f"{describe_store(storage)}: {rel} appeared while the restore wrote it."
            )


def _undo_upload(done: _Upload) -> None:
    for name in done.created:
        with contextlib.suppress(Exception):
            done.storage.delete(name)


def _target_is_empty(engine: str, db: dict[str, Any]) -> tuple[bool, str]:
    name = str(db["NAME"])
    if engine == "sqlite":
        if not _sqlite_is_memory(name) and not Path(name).exists():
            return True, ""
        conn = _sqlite_connect(name)
        try:
            tables = _sqlite_table_count(conn)
        finally:
            conn.close()
    else:
        with _pg_admin(db) as admin:
            if _pg_database_exists(admin, name) is None:
                return True, ""
        conn = _pg_connect(db, autocommit=True)
        try:
            tables = _pg_table_count(conn)
        finally:
            conn.close()
    return tables == 0, f"the database {name} has {tables} tables"


def _verify_restored(state: dict[str, Any], manifest: dict[str, Any], where: str) -> None:
    problems = compare_state(manifest, state)
    if problems:
        raise BackupError(
            f"The restored database ({where}) does not match the manifest: "
            + "; ".join(problems[:5])
            + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            + ". The target was not changed."
        )


def _check_upload(
    manifest: dict[str, Any], prefix: str, store: Storage, skip: str | None, done: _Upload, log: Log
) -> None:
    """Every file of the archive under ``prefix`` is in the object storage now; say what was
    written and what was there already."""
    wanted = {name[len(prefix) :] for name in manifest["members"] if name.startswith(prefix)}
    present = set(storage_files(store, skip=skip))
    missing = sorted(wanted - present)
    if missing:
        raise BackupError(
            f"{describe_store(store)} lacks {len(missing)} of the archive's files after the "
            f"restore, e.g. {missing[0]!r}."
        )
    log(
        f"{describe_store(store)}: wrote {len(done.created) + done.replaced} objects "
        f"({done.replaced} replaced an object of the same name), {done.same} were there with the "
        f"same content; {len(present - wanted)} objects not in the archive were left as they are."
    )


def backup_restore(
    path: Path,
    *,
    alias: str = "default",
    media_root: Path | None = None,
    private_root: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    log: Log = _quiet,
) -> RestoreResult:
    """Restore an archive into the database ``alias``, MEDIA_ROOT and the private root of the
    report originals (see the module text).

    Refuses a non-empty target (database, MEDIA_ROOT or private root) unless ``force``; with
    ``force`` what was there is kept beside it (``<name>.pre-restore-<time>``) and its path
    reported. ``dry_run`` does every step up to
    the swap — extraction, checksums, the scratch restore and its checks — and changes nothing.
    """
    path = Path(path)
    db = database_settings(alias)
    engine = engine_of(db)
    manifest = read_manifest(path)
    if manifest["engine"] != engine:
        raise BackupError(
            f"{path} is a {manifest['engine']} backup and the database {alias!r} is {engine}: "
            "restoring across engines is not supported. Restore it into a "
            f"{manifest['engine']} database (and move data between engines with dumpdata/"
            "loaddata if you must)."
        )
    # Archives made before the private root was backed up have no "private": restored empty.
    expected_files = {
        MEDIA_PREFIX: manifest.get("media", NO_FILES)["files"],
        PRIVATE_PREFIX: manifest.get("private", NO_FILES)["files"],
    }
    roots = file_stores(media_root, private_root)
    skips = {prefix: _store_skip(roots, prefix) for prefix in roots}
    if not dry_run:
        empty_db, what = _target_is_empty(engine, db)
        empty_dirs = {
            prefix: _store_is_empty(root, skips[prefix]) for prefix, root in roots.items()
        }
        if not force and not (empty_db and all(empty_dirs.values())):
            reasons = ([what] if not empty_db else []) + [
                f"{describe_store(roots[prefix])} holds files"
                for prefix, empty in empty_dirs.items()
                if not empty
            ]
            raise BackupError(
                "The target is not empty (" + "; ".join(reasons) + "). A restore replaces "
                "everything in it; pass --force to do so (what is there is kept beside it)."
            )
    else:
        empty_db, empty_dirs = True, dict.fromkeys(roots, True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = RestoreResult(manifest=manifest, dry_run=dry_run)

    stages: dict[str, Path] = {}
    for prefix, root in roots.items():
        if not isinstance(root, Path):
            # Object storage: extracted here, uploaded in the swap.
            stages[prefix] = Path(tempfile.mkdtemp(prefix="yizhan-restore-objects-"))
            continue
        # Staged beside the folder, so the swap is a rename on one file system.
        root.parent.mkdir(parents=True, exist_ok=True)
        stages[prefix] = Path(tempfile.mkdtemp(prefix=f".{root.name}-restore-", dir=root.parent))
    db_name = str(db["NAME"])
    if engine == "sqlite" and not _sqlite_is_memory(db_name):
        Path(db_name).parent.mkdir(parents=True, exist_ok=True)
        db_stage_dir = Path(tempfile.mkdtemp(prefix=".restore-", dir=Path(db_name).parent))
    else:
        db_stage_dir = Path(tempfile.mkdtemp(prefix="yizhan-restore-"))
    dump = db_stage_dir / DB_MEMBER[engine]
    scratch_db: str | None = None
    # (folder, what was there before and is kept, or None) for every folder already swapped.
    swapped: list[tuple[Path, Path | None]] = []
    uploads: dict[str, _Upload] = {}
    try:
        log(f"Reading {path} and checking every member …")
        _extract(
            path,
            db_dest=dump,
            media_dest=stages[MEDIA_PREFIX],
            private_dest=stages[PRIVATE_PREFIX],
            log=log,
        )
        # 1. The database into a scratch copy, checked against the manifest.
        if engine == "sqlite":
            conn = _sqlite_connect(str(dump))
            try:
                check = conn.execute("PRAGMA integrity_check").fetchone()[0]
                if check != "ok":
                    raise BackupError(
                        f"The database in {path} fails SQLite's integrity check: {check}"
                    )
                state = database_state(conn.cursor(), "sqlite", manifest["models"])
            finally:
                conn.close()
            _verify_restored(state, manifest, "scratch copy")
        else:
            scratch_db = _pg_restore_scratch(db, dump, log)
            conn = _pg_connect(db, scratch_db)
            try:
                with conn.cursor() as cursor:
                    state = database_state(cursor, "postgresql", manifest["models"])
            finally:
                conn.close()
            _verify_restored(state, manifest, f"scratch database {scratch_db}")
        log("The restored database matches the manifest (migrations, rows, content).")
        if dry_run:
            log("Dry run: nothing was changed.")
            return result

        # 2. The swap: media and the private root first (a rename each, undone if anything
        # after them fails), then the database in one step.
        connections[alias].close()
        try:
            for prefix, root in roots.items():
                if not isinstance(root, Path):
                    log(f"Writing the {prefix.rstrip('/')} files to {describe_store(root)} …")
                    uploads[prefix] = _Upload(storage=root)
                    _upload(stages[prefix], uploads[prefix])
                    continue
                old = None
                if root.exists():
                    if empty_dirs[prefix]:
                        shutil.rmtree(root)
                    else:
                        old = root.with_name(f"{root.name}.pre-restore-{stamp}")
                        root.rename(old)
                swapped.append((root, old))
                stages[prefix].rename(root)
            if engine == "sqlite":
                kept = _sqlite_swap(db_name, dump, keep_old=not empty_db, stamp=stamp)
            else:
                kept = _pg_swap(db, scratch_db, keep_old=not empty_db, stamp=stamp)
                scratch_db = None
        except Exception:
            for root, old in reversed(swapped):
                shutil.rmtree(root, ignore_errors=True)
                if old is not None:
                    old.rename(root)
            for done in uploads.values():
                # Objects written new go again; replaced ones are only in the bucket's versions.
                _undo_upload(done)
            raise
        result.kept += [str(old) for _, old in swapped if old is not None]
        if kept:
            result.kept.append(kept)
        # 3. Check the target itself.
        if engine == "sqlite":
            conn = _sqlite_connect(db_name)
            try:
                final = database_state(conn.cursor(), "sqlite", manifest["models"])
            finally:
                conn.close()
        else:
            conn = _pg_connect(db)
            try:
                with conn.cursor() as cursor:
                    final = database_state(cursor, "postgresql", manifest["models"])
            finally:
                conn.close()
        problems = compare_state(manifest, final)
        if problems:
            raise BackupError("After the swap the database differs: " + "; ".join(problems))
        for prefix, root in roots.items():
            if not isinstance(root, Path):
                _check_upload(manifest, prefix, root, skips[prefix], uploads[prefix], log)
                continue
            restored = sum(1 for _ in _media_files(root))
            if restored != expected_files[prefix]:
                raise BackupError(
                    f"{root} holds {restored} files, the manifest {expected_files[prefix]}."
                )
        log(
            f"Restored {sum(m['rows'] for m in manifest['models'].values())} rows, "
            f"{expected_files[MEDIA_PREFIX]} media files and {expected_files[PRIVATE_PREFIX]} "
            "private files; migrations and row counts match the manifest."
        )
        return result
    finally:
        for stage in stages.values():
            shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(db_stage_dir, ignore_errors=True)
        if scratch_db is not None:
            with _pg_admin(db) as admin, contextlib.suppress(Exception):
                admin.execute(f"DROP DATABASE IF EXISTS {_quote(scratch_db)}")


def _sqlite_swap(name: str, restored: Path, *, keep_old: bool, stamp: str) -> str | None:
    """Copy the checked scratch file into the target in one backup-API transaction (which also
    handles the target's WAL); with ``keep_old``, first copy the target aside."""
    kept = None
    target = _sqlite_connect(name)
    try:
        if keep_old and not _sqlite_is_memory(name):
            kept = f"{name}.pre-restore-{stamp}"
            aside = sqlite3.connect(kept)
            try:
                target.backup(aside)
                aside.execute("PRAGMA journal_mode=DELETE")
            finally:
                aside.close()
        source = sqlite3.connect(restored)
        try:
            source.backup(target)
        finally:
            source.close()
    finally:
        target.close()
    return kept


def _pg_restore_scratch(db: dict[str, Any], dump: Path, log: Log) -> str:
    """Create a scratch database and pg_restore the dump into it in one transaction."""
    target = str(db["NAME"])
    scratch = _pg_scratch_name(target, "restore")
    with _pg_admin(db) as admin:
        _pg_check_versions(admin, "pg_restore")
        like = _pg_database_exists(admin, target)
        options = " TEMPLATE template0"
        if like:
            options += (
                f" ENCODING '{like['encoding']}' LC_COLLATE '{like['collate']}'"
                f" LC_CTYPE '{like['ctype']}'"
            )
        else:
            options += " ENCODING 'UTF8'"
        try:
            admin.execute(f"CREATE DATABASE {_quote(scratch)}{options}")
        except Exception as exc:
            raise BackupError(
                f"Cannot create the scratch database {scratch} ({exc}). The restore needs the "
                "CREATEDB privilege: ALTER ROLE <user> CREATEDB."
            ) from exc
    log(f"pg_restore into the scratch database {scratch} (one transaction) …")
    try:
        _run_tool(
            [pg_tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner",
             "--no-privileges", "--no-password", "-d", scratch, str(dump)],
            pg_env(db, scratch),
            "pg_restore",
        )  # fmt: skip
    except BackupError:
        with _pg_admin(db) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {_quote(scratch)}")
        raise
    return scratch


def _pg_swap(db: dict[str, Any], scratch: str, *, keep_old: bool, stamp: str) -> str | None:
    """Rename the target aside (dropping it if it was empty) and the scratch into its place."""
    target = str(db["NAME"])
    kept = None
    with _pg_admin(db) as admin:
        exists = _pg_database_exists(admin, target) is not None
        if exists:
            others = _pg_other_sessions(admin, target)
            if others:
                raise BackupError(
                    f"{others} other session(s) are connected to {target}: stop the app, its job "
                    "runner and any psql sessions, then run the restore again."
                )
        with admin.transaction():
            if exists:
                kept = _pg_scratch_name(target, f"pre_restore_{stamp.lower()}")
                admin.execute(f"ALTER DATABASE {_quote(target)} RENAME TO {_quote(kept)}")
            admin.execute(f"ALTER DATABASE {_quote(scratch)} RENAME TO {_quote(target)}")
        if exists and not keep_old:
            admin.execute(f"DROP DATABASE {_quote(kept)}")
            kept = None
    return kept
