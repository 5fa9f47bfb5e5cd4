"""Background tasks on Huey: a queue in Redis, worker processes, and a scheduler for the jobs.

Why Huey (docs/deploy.md has the longer answer): it is one small, well-kept library with no
dependency beyond the Redis client we already have; its Django integration gives the worker
command (``manage.py run_huey``); it runs tasks *immediately*, in process and in memory, when
no queue is configured, so the embedded default and the tests need no Redis and behave the same;
and the queue is a plain Redis list whose depth and oldest entry are one command each to read,
which is what the metrics need. Celery would bring a broker abstraction, a beat process with its
own schedule store and a much larger surface for the same few tasks; RQ forks a process per task.

Three pieces:

- :func:`task` declares a task. ``some_task.delay(…)`` enqueues it when the current transaction
  commits (never for work that was rolled back), carrying the request id and the time it was
  enqueued, so the worker's log lines name the request that caused them and the metrics can say
  how long the oldest task has waited. When the queue cannot be reached the task runs inline
  rather than being lost.
- :func:`run_job` is the task that runs one periodic job of ``core.jobs`` (escalation, expiry,
  retention …) under a lock in the cache, so two workers never run the same job at once, and
  records when it last succeeded (``yizhan_job_last_success_timestamp_seconds``).
- :func:`schedule_due` is the scheduler's tick (``manage.py run_scheduler``): each job is due
  once per slot of its period, and the slot is claimed with an atomic ``add`` in the shared
  cache, so a second scheduler (for failover) enqueues nothing twice.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import close_old_connections, connection, transaction

from yizhan.core import jobs
from yizhan.core.ops import current_request_id, register_gauge, request_id_bound

logger = logging.getLogger("yizhan.tasks")

_LOCK_KEY = "yizhan:jobs:lock:{name}"
_SLOT_KEY = "yizhan:jobs:slot:{name}:{slot}"


def huey():
    """The configured Huey (``settings.HUEY``), built by huey's Django integration."""
    from huey.contrib.djhuey import HUEY

    return HUEY


def is_immediate() -> bool:
    return bool(huey().immediate)


class Task:
    """A declared task: ``delay`` after commit, ``run`` now in this process."""

    def __init__(self, fn: Callable[..., Any], wrapper: Any) -> None:
        self.fn = fn
        self.wrapper = wrapper
        self.name = wrapper.name
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def signature(self, *args: Any, **kwargs: Any):
        meta = {"request_id": current_request_id(), "enqueued_at": time.time()}
        return self.wrapper.s(*args, _meta=meta, **kwargs)

    def enqueue_now(self, *args: Any, **kwargs: Any) -> None:
        """Put it on the queue now (or run it, when the queue is immediate or unreachable)."""
        try:
            huey().enqueue(self.signature(*args, **kwargs))
        except Exception:  # Redis down: do the work here rather than lose it
            logger.exception("task %s could not be queued; running it inline", self.name)
            self.fn(*args, **kwargs)

    def delay(self, *args: Any, **kwargs: Any) -> None:
        """Enqueue after the current transaction commits (at once outside a transaction)."""
        transaction.on_commit(lambda: self.enqueue_now(*args, **kwargs), robust=True)


def task(name: str, *, retries: int = 0, retry_delay: int = 30) -> Callable[[Callable], Task]:
    """Declare ``fn`` as a task named ``name`` (names are the queue's contract: keep them)."""

    def decorator(fn: Callable[..., Any]) -> Task:
        def run(*args: Any, _meta: dict | None = None, **kwargs: Any) -> Any:
            meta = _meta or {}
            immediate = is_immediate()
            request_id = meta.get("request_id") or "-"
            if request_id == "-" and not immediate:
                request_id = f"task-{uuid.uuid4().hex[:12]}"
            # A worker starts and ends each task with a usable connection, as Django does for a
            # request; never in the middle of a transaction (a task run inside one, as tests do).
            tidy = not immediate and not connection.in_atomic_block
            with request_id_bound(request_id):
                if tidy:
                    close_old_connections()
                try:
                    return fn(*args, **kwargs)
                finally:
                    if tidy:
                        close_old_connections()

        run.__name__ = fn.__name__
        wrapper = huey().task(name=name, retries=retries, retry_delay=retry_delay)(run)
        return Task(fn, wrapper)

    return decorator


# --- periodic jobs -----------------------------------------------------------------------------


def run_job_now(name: str) -> object:
    """Run one job under its lock and record its success; None when another holds the lock."""
    job = jobs.get(name)
    lock = _LOCK_KEY.format(name=name)
    # The lock expires by itself, so a worker killed in the middle does not block the job.
    if not cache.add(lock, current_request_id(), timeout=max(job.every, 300)):
        logger.info("job %s is running elsewhere; skipped", name)
        return None
    try:
        return jobs.run_one(job)
    finally:
        cache.delete(lock)


@task("yizhan.run_job")
def run_job(name: str) -> object:
    result = run_job_now(name)
    if result:
        logger.info("job %s: %s", name, result)
    return result


def schedule_due(now: float | None = None) -> list[str]:
    """Enqueue every job whose current slot nobody has claimed yet; the names enqueued."""
    now = time.time() if now is None else now
    queued = []
    for job in jobs.jobs():
        slot = int(now // job.every)
        key = _SLOT_KEY.format(name=job.name, slot=slot)
        if cache.add(key, 1, timeout=job.every + 60):
            run_job.enqueue_now(job.name)
            queued.append(job.name)
    return queued


def schedule_loop(*, interval: float = 10.0, stop=None) -> None:
    import threading

    stop = stop or threading.Event()
    logger.info("scheduler: %s", ", ".join(f"{j.name}/{j.every}s" for j in jobs.jobs()))
    while not stop.is_set():
        try:
            queued = schedule_due()
        except Exception:  # the cache or the queue is down: say so, try again
            logger.exception("scheduler tick failed")
        else:
            if queued:
                logger.info("scheduled %s", ", ".join(queued))
        stop.wait(interval)


# --- metrics -----------------------------------------------------------------------------------


def queue_depth() -> float:
    if is_immediate():
        return 0
    return float(huey().pending_count())


def oldest_age() -> float:
    """Seconds the oldest waiting task has waited (0 when none waits)."""
    if is_immediate():
        return 0
    queue = huey()
    storage = queue.storage
    # RedisStorage pushes on the left and workers pop on the right: the oldest is at -1.
    data = storage.conn.lindex(storage.queue_key, -1)
    if data is None:
        return 0
    try:
        # The raw message: its task need not be imported in this process.
        meta = (queue.serializer.deserialize(data).kwargs or {}).get("_meta") or {}
    except Exception:  # an entry from another version: no age rather than a failed scrape
        return 0
    enqueued = meta.get("enqueued_at")
    return max(0.0, time.time() - enqueued) if enqueued else 0


def last_successes() -> dict[str, float]:
    return jobs.last_successes()


def check_queue() -> None:
    """readyz: the queue answers (nothing to check when tasks run in process)."""
    if not is_immediate():
        huey().pending_count()


def register_metrics() -> None:
    register_gauge("yizhan_task_queue_depth", "Tasks waiting in the queue", queue_depth)
    register_gauge(
        "yizhan_task_queue_oldest_age_seconds",
        "Seconds the oldest waiting task has been in the queue",
        oldest_age,
    )
    register_gauge(
        "yizhan_job_last_success_timestamp_seconds",
        "When each periodic job last finished without an error (Unix time)",
        last_successes,
        label="job",
    )
