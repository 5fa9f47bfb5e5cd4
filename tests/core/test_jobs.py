"""Periodic jobs: each runs when its interval has passed, a failing one does not stop the
others, ``run_jobs`` runs them from the command line, and the in-process loop starts once."""

import threading

import pytest
from django.core.management import call_command

from yizhan.core import jobs

# run_due closes stale connections around each job: that touches the database layer.
pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test (the apps' own jobs are left alone)."""
    monkeypatch.setattr(jobs, "_JOBS", {})
    return jobs._JOBS


def counter(name: str, calls: list):
    def run():
        calls.append(name)
        return f"{name} ok"

    return run


def test_a_job_runs_when_its_interval_has_passed(registry):
    calls: list[str] = []
    jobs.periodic("fast", 10, counter("fast", calls))
    jobs.periodic("slow", 60, counter("slow", calls))
    assert [j.name for j in jobs.jobs()] == ["fast", "slow"]
    assert jobs.run_due(now=1000.0) == {"fast": "fast ok", "slow": "slow ok"}
    assert jobs.run_due(now=1009.0) == {}
    assert jobs.run_due(now=1010.0) == {"fast": "fast ok"}
    assert jobs.run_due(now=1059.0) == {"fast": "fast ok"}
    assert jobs.run_due(now=1060.0) == {"slow": "slow ok"}  # fast ran a second ago
    assert calls == ["fast", "slow", "fast", "fast", "slow"]
    # --all runs every job now, due or not.
    assert set(jobs.run_due(force=True, now=1061.0)) == {"fast", "slow"}


def test_a_first_run_at_time_zero_still_counts(registry):
    calls: list[str] = []
    jobs.periodic("tick", 10, counter("tick", calls))
    jobs.run_due(now=0.0)
    assert jobs.run_due(now=5.0) == {}
    assert calls == ["tick"]


def test_a_failing_job_does_not_stop_the_others(registry, caplog):
    calls: list[str] = []

    def broken():
        raise RuntimeError("boom")

    jobs.periodic("a_first", 60, counter("a_first", calls))
    jobs.periodic("b_broken", 60, broken)
    jobs.periodic("c_last", 60, counter("c_last", calls))
    with caplog.at_level("ERROR", logger="yizhan.jobs"):
        results = jobs.run_due(now=100.0)
    assert results == {"a_first": "a_first ok", "b_broken": "failed", "c_last": "c_last ok"}
    assert calls == ["a_first", "c_last"]
    assert "job b_broken failed" in caplog.text and "boom" in caplog.text
    # It is tried again at its next interval, not at once.
    assert jobs.run_due(now=101.0) == {}
    assert jobs.run_due(now=160.0)["b_broken"] == "failed"


def test_registering_again_replaces(registry):
    jobs.periodic("x", 60, lambda: 1)
    jobs.periodic("x", 30, lambda: 2)
    assert [(j.name, j.every) for j in jobs.jobs()] == [("x", 30)]
    assert jobs.run_due(now=1.0) == {"x": 2}


def test_the_loop_runs_until_stopped(registry):
    stop = threading.Event()
    calls: list[str] = []

    def second_run_stops():
        calls.append("run")
        if len(calls) == 2:
            stop.set()
        return None

    jobs.periodic("loop", 0, second_run_stops)
    jobs.loop(interval=0, stop=stop)
    assert calls == ["run", "run"]


def test_the_in_process_loop_starts_once(registry, monkeypatch):
    started: list[str] = []

    class FakeThread:
        def __init__(self, target, name, daemon):
            assert daemon and name == "yizhan-jobs" and target is jobs.loop
            started.append(name)

        def start(self):
            pass

    monkeypatch.setattr(jobs, "_started", False)
    monkeypatch.setattr(jobs.threading, "Thread", FakeThread)
    jobs.start_in_process()
    jobs.start_in_process()
    assert started == ["yizhan-jobs"]


def test_the_apps_register_their_jobs():
    names = {j.name for j in jobs.jobs()}
    assert "reports.escalate" in names


def test_run_jobs_command_runs_every_job_with_all(registry, capsys):
    calls: list[str] = []
    jobs.periodic("one", 60, counter("one", calls))
    jobs.periodic("two", 60, counter("two", calls))
    call_command("run_jobs", "--all")
    out = capsys.readouterr().out
    assert out.splitlines() == ["one: one ok", "two: two ok"]
    call_command("run_jobs")  # just ran: nothing due
    assert calls == ["one", "two"]
