"""Settings: production refuses unsafe values; SQLite runs in WAL with IMMEDIATE writes."""

import os
import secrets
import subprocess
import sys

import pytest
from django.db import connection

SAFE = {"SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "yizhan.example.org", "DEBUG": "0"}
#: What the test run itself puts in the environment, not a deployment's: the browser tests set
#: DJANGO_ALLOW_ASYNC_UNSAFE in this process (tests/e2e/conftest.py), which the deploy check
#: rightly refuses in production.
HARNESS = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def load_production(**env):
    full = {
        **{k: v for k, v in os.environ.items() if k not in {*HARNESS, *SAFE}},
        "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.production",
        **env,
    }
    code = "import django; django.setup(); print('started')"
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60
    )


def test_production_starts_with_safe_settings():
    result = load_production(**SAFE)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_production_passes_the_deploy_check_and_trusts_one_proxy(tmp_path):
    """``manage.py check --deploy`` has nothing to say about the production settings (issue 8),
    and the rate limits read the client's address behind the one proxy production runs behind."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DEBUG", "YIZHAN_TRUSTED_PROXY_HOPS", *HARNESS}
        },
        "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.production",
        "YIZHAN_VAR_DIR": str(tmp_path),
        **SAFE,
        "SECRET_KEY": secrets.token_urlsafe(64),  # the check wants a varied key
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    manage = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(manage, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # Without Redis, each process would keep its own rate limits and run the tasks itself.
    without = {k: v for k, v in env.items() if k not in ("REDIS_URL", "TASK_QUEUE_URL")}
    result = subprocess.run(manage, env=without, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "yizhan.W001" in result.stderr and "yizhan.W002" in result.stderr
    code = "import django; django.setup(); from django.conf import settings;"
    code += "print(settings.YIZHAN_TRUSTED_PROXY_HOPS)"
    hops = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert hops.stdout.strip() == "1", hops.stderr


def test_production_serves_static_files_and_keeps_database_connections():
    env = {**SAFE, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"}
    env.pop("DB_CONN_MAX_AGE", None)
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.MIDDLEWARE[s.MIDDLEWARE.index('django.middleware.security.SecurityMiddleware')+1]);"
        "print(s.STORAGES['staticfiles']['BACKEND']); print(s.DATABASES['default']['CONN_MAX_AGE'])"
    )
    full = {
        **{k: v for k, v in os.environ.items() if k not in {*HARNESS, *SAFE, "DB_CONN_MAX_AGE"}},
        "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.production",
        **env,
    }
    result = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True)
    assert result.stdout.split() == [
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "60",
    ], result.stderr


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "yizhan-insecure-development-key-change-me"}, "SECRET_KEY must be set"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list"),
    ],
)
def test_production_refuses_unsafe_settings(change, complaint):
    result = load_production(**{**SAFE, **change})
    assert result.returncode != 0
    assert complaint in result.stderr


@pytest.mark.django_db
def test_sqlite_uses_wal_and_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
        cursor.execute("PRAGMA busy_timeout")
        timeout = cursor.fetchone()[0]
    # The test database is in memory, where SQLite reports "memory"; a file database is WAL.
    assert mode in {"wal", "memory"}
    assert timeout == 20000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_file_database_is_in_wal_mode(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "wal", result.stderr


def test_defaults(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
