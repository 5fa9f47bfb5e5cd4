"""Periodic jobs: deadline escalation, expiry, timeouts … run by ``manage.py run_jobs``.

An app registers a job in its ``AppConfig.ready`` with :func:`periodic`; ``run_jobs`` runs every
job that is due once (``--loop`` keeps running, checking every few seconds), each in its own
try/except so one failing job does not stop the others. Jobs are written to be safe to run twice
and from several processes at once (they lock the rows they change), so a production scheduler
may call them however it likes. In the embedded default (``make demo``) the same loop runs in a
daemon thread of the web process (``YIZHAN_JOBS_INPROCESS``), so deadlines escalate by
themselves with nothing else started.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import close_old_connections

logger = logging.getLogger("yizhan.jobs")


@dataclass
class Job:
    name: str
    every: int  # seconds
    run: Callable[[], object]
    #: When it last ran (``time.monotonic``); None: not yet in this process.
    last: float | None = None


_JOBS: dict[str, Job] = {}


def periodic(name: str, every: int, run: Callable[[], object]) -> None:
    """Register ``run`` to be called every ``every`` seconds under ``name``."""
    _JOBS[name] = Job(name=name, every=every, run=run)


def jobs() -> list[Job]:
    return sorted(_JOBS.values(), key=lambda job: job.name)


def get(name: str) -> Job:
    return _JOBS[name]


_LAST_SUCCESS_KEY = "yizhan:jobs:last:{name}"


def run_one(job: Job) -> object:
    """Run a job now and, when it does not raise, record when it succeeded (in the shared
    cache, so /metrics in any process can say when each job last ran)."""
    result = job.run()
    cache.set(_LAST_SUCCESS_KEY.format(name=job.name), time.time(), None)
    return result


def last_successes() -> dict[str, float]:
    """Job name → when it last succeeded (Unix time), for the jobs that have."""
    keys = {_LAST_SUCCESS_KEY.format(name=job.name): job.name for job in jobs()}
    return {keys[key]: float(value) for key, value in cache.get_many(list(keys)).items()}


def run_due(*, force: bool = False, now: float | None = None) -> dict[str, object]:
    """Run the jobs that are due (all of them with ``force``); their results by name."""
    now = time.monotonic() if now is None else now
    results: dict[str, object] = {}
    for job in jobs():
        if not force and job.last is not None and now - job.last < job.every:
            continue
        job.last = now
        close_old_connections()
        try:
            results[job.name] = run_one(job)
        except Exception:  # one failing job must not stop the others
            logger.exception("job %s failed", job.name)
            results[job.name] = "failed"
        finally:
            close_old_connections()
    return results


def loop(*, interval: float = 5.0, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        results = run_due()
        for name, result in results.items():
            if result:
                logger.info("job %s: %s", name, result)
        stop.wait(interval)


_started = False


def start_in_process() -> None:
    """Start the loop in a daemon thread once per process (the embedded default)."""
    global _started
    if _started:
        return
    _started = True
    thread = threading.Thread(target=loop, name="yizhan-jobs", daemon=True)
    thread.start()
    logger.info("periodic jobs run in this process (%s)", ", ".join(j.name for j in jobs()))
