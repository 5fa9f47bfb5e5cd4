import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from tests.e2e.chromium import CHROMIUM, SKIP_REASON
from tests.world import PASSWORD, build_world


def pytest_report_header(config):
    if CHROMIUM:
        return f"e2e: Chromium at {CHROMIUM}"
    return f"!!! {SKIP_REASON} !!!"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not CHROMIUM:
        terminalreporter.write_sep("!", SKIP_REASON, red=True, bold=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: cached rows (the station catalogue …) of an
    earlier test's database must not leak into the next one."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language: a request answered in English
    leaves English active in the thread, and the next test on that worker must not inherit it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def password():
    return PASSWORD


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only against PostgreSQL (CI's second pass).

    Every transactional test restores the migrated rows (serialized_rollback): mixing the two
    kinds on one worker breaks the next restoring test, because a plain transactional test's
    flush re-creates content types under new ids and restoring id 1 then collides with them."""
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(skip)
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: use django_db(transaction=True, serialized_rollback=True)"
            )


@pytest.fixture
def task_queue():
    """The project's Huey on a real Redis queue of the test's own (as in production: tasks wait
    for a worker; ``run_next_task`` plays the worker). Skipped without Redis on this machine."""
    import uuid

    import redis
    from huey.storage import RedisStorage

    from yizhan.core import tasks

    url = "redis://127.0.0.1:6379/5"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI has one)")
    queue = tasks.huey()
    saved = (queue._immediate, queue.storage)
    queue._immediate = False
    queue.storage = RedisStorage(name=f"yizhan-test-{uuid.uuid4().hex[:8]}", url=url)
    yield queue
    queue.storage.flush_all()
    queue._immediate, queue.storage = saved


def run_next_task(queue) -> None:
    """What a worker does with the next message on ``queue``."""
    message = queue.dequeue()
    assert message is not None, "the queue is empty"
    queue.execute(message)
