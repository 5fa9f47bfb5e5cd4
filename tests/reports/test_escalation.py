"""Deadlines escalate by themselves (the periodic job): the community at the deadline, the
street when as long again has passed; an urgent alert nobody took goes to the street."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.reports.builders import advance, jpeg, make_given, submit
from yizhan.core import jobs
from yizhan.notifications.models import Notification
from yizhan.reports import services as rs
from yizhan.reports.models import Report, ReportEvent

NOTHING = {"overdue_community": 0, "overdue_street": 0, "urgent_street": 0}


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_the_escalation_job_is_registered_every_minute():
    job = {j.name: j for j in jobs.jobs()}["reports.escalate"]
    assert job.every == 60 and job.run is rs.reports_escalate


def test_overdue_goes_to_the_community_at_the_deadline_then_to_the_street(g):
    report = advance(g, submit(g), "dispatched")
    deadline, span = report.deadline_at, report.deadline_at - report.dispatched_at
    assert rs.reports_escalate(now=deadline - timedelta(minutes=1)) == NOTHING
    counts = rs.reports_escalate(now=deadline + timedelta(minutes=1))
    assert counts == {**NOTHING, "overdue_community": 1}
    report.refresh_from_db()
    assert report.escalation == 1
    assert told("report_overdue") == {"staff_a1"}
    event = ReportEvent.objects.get(report=report, action="escalated")
    assert (event.data, event.public, event.actor) == ({"level": 1}, False, None)
    # Run again at once: nothing more.
    assert rs.reports_escalate(now=deadline + timedelta(minutes=2)) == NOTHING
    # As long again past the deadline: the street.
    counts = rs.reports_escalate(now=deadline + span + timedelta(minutes=1))
    assert counts == {**NOTHING, "overdue_street": 1}
    report.refresh_from_db()
    assert report.escalation == 2
    assert told("report_overdue") == {"staff_a1", "admin_a"}
    assert rs.reports_escalate(now=deadline + 10 * span) == NOTHING
    assert Notification.objects.filter(kind="report_overdue").count() == 2


def test_a_case_found_long_overdue_tells_the_street_and_the_community(g):
    report = advance(g, submit(g), "dispatched")
    span = report.deadline_at - report.dispatched_at
    counts = rs.reports_escalate(now=report.deadline_at + 3 * span)
    assert counts == {**NOTHING, "overdue_street": 1}
    assert told("report_overdue") == {"staff_a1", "admin_a"}


def test_handled_cases_do_not_escalate_and_a_send_back_starts_again(g):
    report = advance(g, submit(g), "handled")
    assert rs.reports_escalate(now=timezone.now() + timedelta(days=30)) == NOTHING
    back = rs.report_verify(report=report, actor=g.staff, passed=False, note="没修好")
    assert back.escalation == 0
    counts = rs.reports_escalate(now=back.deadline_at + timedelta(minutes=1))
    assert counts["overdue_community"] == 1


def test_a_redirect_restarts_the_clock(g):
    report = advance(g, submit(g), "dispatched")
    rs.reports_escalate(now=report.deadline_at + timedelta(minutes=1))
    moved = rs.report_redirect(report=report, actor=g.staff, department=g.sanitation, note="转环卫")
    assert moved.escalation == 0
    assert moved.deadline_at == rs.deadline_for(g.wire, moved.dispatched_at)
    assert moved.dispatched_at > report.dispatched_at


# --- urgent alerts nobody took --------------------------------------------------------------------


def test_an_urgent_alert_nobody_took_goes_to_the_street_once(g):
    report = submit(g, category=g.lost, description="老人走失")
    assert rs.reports_escalate(now=report.created_at + timedelta(minutes=4)) == NOTHING
    counts = rs.reports_escalate(now=report.created_at + timedelta(minutes=6))
    assert counts == {**NOTHING, "urgent_street": 1}
    alerts = Notification.objects.filter(kind="report_urgent", urgent=True)
    assert told("report_urgent") == {"staff_a1", "admin_a"}
    assert alerts.filter(recipient__username="admin_a").count() == 1
    assert rs.reports_escalate(now=report.created_at + timedelta(minutes=60)) == NOTHING
    report.refresh_from_db()
    assert report.escalation == 2
    assert ReportEvent.objects.get(report=report, action="escalated").data == {"urgent": True}


def test_an_acknowledged_alert_does_not_escalate(g):
    report = submit(g, category=g.lost, description="孩子走失")
    rs.report_acknowledge(report=report, actor=g.staff)
    assert rs.reports_escalate(now=report.created_at + timedelta(minutes=30)) == NOTHING


@pytest.mark.parametrize("how", ["accept", "dispatch"])
def test_accepting_or_dispatching_an_urgent_report_takes_its_alert(g, how):
    report = submit(g, category=g.lost, description="孩子走失")
    if how == "accept":
        taken = rs.report_accept(report=report, actor=g.staff)
    else:
        taken = rs.report_dispatch(report=report, actor=g.staff, department=g.city)
    assert taken.acknowledged_by == g.staff and taken.acknowledged_at is not None
    assert rs.reports_escalate(now=report.created_at + timedelta(minutes=30)) == NOTHING


def test_an_escalated_alert_that_is_then_dispatched_is_not_alerted_again(g):
    """Dispatch resets ``escalation``: the alert must not come back as one nobody took."""
    report = submit(g, category=g.lost, description="老人走失")
    rs.reports_escalate(now=report.created_at + timedelta(minutes=6))
    dispatched = rs.report_dispatch(report=report, actor=g.staff, department=g.city)
    before = Notification.objects.filter(kind="report_urgent").count()
    # Within the hour's deadline: nothing; after it, the overdue path (community first).
    assert rs.reports_escalate(now=dispatched.dispatched_at + timedelta(minutes=30)) == NOTHING
    counts = rs.reports_escalate(now=dispatched.deadline_at + timedelta(minutes=1))
    assert counts == {**NOTHING, "overdue_community": 1}
    assert Notification.objects.filter(kind="report_urgent").count() == before


def test_reports_that_left_the_workflow_do_not_escalate(g):
    report = submit(g, category=g.lost, description="老人走失")
    rs.report_reject(report=report, actor=g.staff, reason="已找到")
    done = advance(g, submit(g), "closed")
    Report.objects.filter(pk=done.pk).update(deadline_at=timezone.now() - timedelta(days=5))
    assert rs.reports_escalate(now=timezone.now() + timedelta(days=60)) == NOTHING
    assert rs.report_reopen(
        report=done, actor=g.rider, note="又有了", photos=[jpeg(5)]
    ).escalation == 0  # fmt: skip
