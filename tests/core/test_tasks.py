"""Background tasks (core.tasks, Huey): after commit, with the request id, on a real Redis queue
when one is configured, inline when it is not or cannot be reached; the scheduler enqueues each
job once per slot however many schedulers run; a job runs under a lock and records its success;
the queue's depth and age and the jobs' last successes are on /metrics."""

import logging
import time

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from huey.storage import RedisStorage

from tests.conftest import run_next_task
from yizhan.core import jobs, tasks
from yizhan.core.ops import current_request_id, request_id_bound

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/5"

seen: list[tuple[str, str]] = []


@tasks.task("tests.record")
def record(word: str) -> None:
    seen.append((word, current_request_id()))


@pytest.fixture(autouse=True)
def fresh():
    seen.clear()
    cache.clear()
    yield
    cache.clear()


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI has one)")


def test_without_a_queue_a_task_runs_at_commit_with_the_request_id(
    django_capture_on_commit_callbacks,
):
    assert tasks.is_immediate()  # the tests' (and the embedded default's) configuration
    with request_id_bound("req-immediate-1"):
        with django_capture_on_commit_callbacks(execute=True):
            record.delay("hello")
            assert seen == []  # not before the commit
    assert seen == [("hello", "req-immediate-1")]


def test_a_rolled_back_transaction_queues_nothing(task_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        record.delay("never")
    assert task_queue.pending_count() == 0


def test_a_queued_task_waits_in_redis_and_runs_in_a_worker_under_the_request_id(
    task_queue, django_capture_on_commit_callbacks
):
    with request_id_bound("req-queued-1234"):
        with django_capture_on_commit_callbacks(execute=True):
            record.delay("later")
    assert seen == []
    assert tasks.queue_depth() == 1
    time.sleep(0.05)
    assert 0.04 < tasks.oldest_age() < 30
    run_next_task(task_queue)
    assert seen == [("later", "req-queued-1234")]
    assert tasks.queue_depth() == 0 and tasks.oldest_age() == 0


def test_a_task_queued_outside_a_request_gets_an_id_of_its_own(task_queue):
    record.enqueue_now("cron")
    run_next_task(task_queue)
    [(word, request_id)] = seen
    assert word == "cron" and request_id.startswith("task-")


def test_an_unreachable_queue_runs_the_task_inline_rather_than_losing_it(caplog):
    queue = tasks.huey()
    saved = (queue._immediate, queue.storage)
    queue._immediate = False
    queue.storage = RedisStorage(name="unreachable", url="redis://127.0.0.1:1/0")
    try:
        with caplog.at_level(logging.ERROR, logger="yizhan.tasks"):
            record.enqueue_now("inline")
    finally:
        queue._immediate, queue.storage = saved
    assert [word for word, _ in seen] == ["inline"]
    assert "could not be queued" in caplog.text


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(jobs, "_JOBS", {})
    calls: list[str] = []
    jobs.periodic("tests.minutely", 60, lambda: calls.append("minutely") or "one done")
    jobs.periodic("tests.hourly", 3600, lambda: calls.append("hourly"))
    return calls


def test_the_scheduler_enqueues_each_slot_once_however_many_schedulers_tick(registry, task_queue):
    now = 1_800_000_000.0  # a whole hour
    assert tasks.schedule_due(now) == ["tests.hourly", "tests.minutely"]
    assert tasks.schedule_due(now + 30) == []  # a second scheduler, the same slots
    assert tasks.schedule_due(now + 61) == ["tests.minutely"]
    assert task_queue.pending_count() == 3
    for _ in range(3):
        run_next_task(task_queue)
    assert sorted(registry) == ["hourly", "minutely", "minutely"]


def test_a_job_runs_under_a_lock_and_records_when_it_succeeded(registry):
    assert tasks.run_job_now("tests.minutely") == "one done"
    assert set(jobs.last_successes()) == {"tests.minutely"}
    assert time.time() - jobs.last_successes()["tests.minutely"] < 5
    cache.add("yizhan:jobs:lock:tests.hourly", "other-worker", 60)  # another worker has it
    assert tasks.run_job_now("tests.hourly") is None
    assert registry == ["minutely"]
    assert cache.get("yizhan:jobs:lock:tests.minutely") is None  # released after the run


def test_a_failing_job_records_no_success_and_releases_its_lock(monkeypatch):
    monkeypatch.setattr(jobs, "_JOBS", {})

    def broken():
        raise RuntimeError("boom")

    jobs.periodic("tests.broken", 60, broken)
    with pytest.raises(RuntimeError):
        tasks.run_job_now("tests.broken")
    assert jobs.last_successes() == {}
    assert cache.get("yizhan:jobs:lock:tests.broken") is None


def test_metrics_show_the_queue_and_the_jobs_last_successes(registry, task_queue):
    record.enqueue_now("waiting")
    tasks.run_job_now("tests.minutely")
    body = Client().get("/metrics").content.decode()
    assert "yizhan_task_queue_depth 1.0" in body
    assert "yizhan_task_queue_oldest_age_seconds" in body
    assert 'yizhan_job_last_success_timestamp_seconds{job="tests.minutely"}' in body


def test_readyz_reports_an_unreachable_queue():
    queue = tasks.huey()
    saved = (queue._immediate, queue.storage)
    queue._immediate = False
    queue.storage = RedisStorage(name="unreachable", url="redis://127.0.0.1:1/0")
    try:
        response = Client().get("/readyz")
    finally:
        queue._immediate, queue.storage = saved
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == {"ok": False, "error": "ConnectionError"}


def test_run_scheduler_refuses_without_a_queue(capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("run_scheduler", "--once")
    assert exit_.value.code == 2
    assert "run_jobs --loop" in capsys.readouterr().err


def test_run_scheduler_once_queues_the_due_jobs(registry, task_queue, capsys):
    call_command("run_scheduler", "--once")
    assert capsys.readouterr().out.split("\n")[:2] == [
        "queued tests.hourly",
        "queued tests.minutely",
    ]
    assert task_queue.pending_count() == 2


def test_notifications_are_delivered_by_the_queue(
    task_queue, world, django_capture_on_commit_callbacks
):
    from yizhan.notifications.models import Delivery
    from yizhan.notifications.services import notify

    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[world.rider.user], kind="test", title="你好")
    assert Delivery.objects.count() == 0  # waiting for a worker
    assert task_queue.pending_count() == 1
    run_next_task(task_queue)
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 1
