"""The workflow: submitted → accepted | rejected | merged → dispatched → handled → verified →
closed, with send-back and reopen; each transition checked (state and actor), written to the
timeline, and refused ones change nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.reports.builders import (
    A1_EAST,
    A2,
    advance,
    jpeg,
    make_given,
    media_files,
    state,
    submit,
    upload,
)
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound, Unauthenticated
from yizhan.core.permissions import Action
from yizhan.notifications.models import Notification
from yizhan.reports import selectors as sel
from yizhan.reports import services as rs
from yizhan.reports.choices import PhotoStage, ReportStatus
from yizhan.reports.models import Report, ReportEvent, Witness
from yizhan.reports.services import deadline_for


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


S = ReportStatus
PREDICATES = ["accept", "reject", "merge", "dispatch", "redirect", "handle", "verify", "close"]
ALLOWED = {
    S.SUBMITTED: {"accept", "reject", "merge", "dispatch"},
    S.ACCEPTED: {"reject", "merge", "dispatch"},
    S.REJECTED: set(),
    S.MERGED: set(),
    S.DISPATCHED: {"redirect", "handle"},
    S.HANDLED: {"verify"},
    S.VERIFIED: {"close"},
    S.CLOSED: {"reopen"},
}


@pytest.mark.parametrize("status", list(S))
def test_each_state_allows_exactly_its_transitions(status):
    report = Report(status=status)
    allowed = {name for name in [*PREDICATES, "reopen"] if getattr(report, f"can_{name}")()}
    assert allowed == ALLOWED[status]
    assert report.is_open == (status in {S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.HANDLED})
    assert report.can_witness() == report.is_open


def test_the_whole_path_is_on_the_timeline_with_who_and_when(g):
    report = submit(g)
    report = advance(g, report, "closed")
    events = list(ReportEvent.objects.filter(report=report).order_by("id"))
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in events] == [
        ("submitted", "", "submitted", g.rider),
        ("accepted", "submitted", "accepted", g.staff),
        ("dispatched", "accepted", "dispatched", g.staff),
        ("handled", "dispatched", "handled", g.handler),
        ("verified", "handled", "verified", g.staff),
        ("points", "", "", g.staff),
        ("closed", "verified", "closed", g.staff),
    ]
    assert [e.public for e in events] == [True, True, True, True, True, False, True]
    report.refresh_from_db()
    assert report.department == g.city
    assert report.accepted_at <= report.dispatched_at <= report.handled_at
    assert report.handled_at <= report.verified_at <= report.closed_at
    assert report.deadline_at == deadline_for(g.wire, report.dispatched_at)
    # The after photo hangs on the "handled" event.
    handled = events[3]
    assert list(handled.photos.values_list("stage", flat=True)) == [PhotoStage.HANDLED]
    # The reporter heard of every change of status, in order.
    titles = list(
        Notification.objects.filter(recipient=g.rider, kind="report_status")
        .order_by("id")
        .values_list("title", flat=True)
    )
    assert len(titles) == 5
    assert "accepted" in titles[0] or str(report.pk) in titles[0]
    # The department's handler was told of the case; the community staff of the handling.
    assert Notification.objects.filter(recipient=g.handler, kind="report_dispatched").count() == 1
    assert Notification.objects.filter(recipient=g.staff, kind="report_handled").count() == 1
    assert not Notification.objects.filter(recipient=g.other_handler).exists()


def test_dispatch_straight_from_submitted_sets_accepted_at_and_uses_the_default_department(g):
    report = rs.report_dispatch(report=submit(g), actor=g.staff)
    assert report.status == S.DISPATCHED and report.department == g.city
    assert report.accepted_at == report.dispatched_at
    assert report.escalation == 0


# --- refused transitions -------------------------------------------------------------------------


def refused_without_change(g, report, call, error=Conflict, code=None):
    before = state(report, g.media)
    with pytest.raises(error) as caught:
        call()
    if code is not None:
        assert caught.value.code == code
    assert str(caught.value.message).strip()
    assert state(report, g.media) == before
    return caught.value


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("dispatched", "accept"),
        ("handled", "dispatch"),
        ("submitted", "handle"),
        ("dispatched", "verify"),
        ("handled", "close"),
        ("verified", "reopen"),
        ("closed", "reject"),
        ("dispatched", "merge"),
        ("accepted", "redirect"),
        ("closed", "accept"),
    ],
)
def test_a_transition_from_the_wrong_state_is_a_409_and_changes_nothing(g, status, action):
    report = submit(g)
    if status != "submitted":
        report = advance(g, report, status)
    other = submit(g, at=A1_EAST)
    calls = {
        "accept": lambda: rs.report_accept(report=report, actor=g.staff),
        "dispatch": lambda: rs.report_dispatch(report=report, actor=g.staff),
        "handle": lambda: rs.report_handle(
            report=report, actor=g.staff, note="done", photos=[jpeg(900)]
        ),
        "verify": lambda: rs.report_verify(report=report, actor=g.staff, passed=True),
        "close": lambda: rs.report_close(report=report, actor=g.staff),
        "reopen": lambda: rs.report_reopen(
            report=report, actor=g.rider, note="又拉线了", photos=[jpeg(901)]
        ),
        "reject": lambda: rs.report_reject(report=report, actor=g.staff, reason="不属实"),
        "merge": lambda: rs.report_merge(report=report, into=other, actor=g.staff),
        "redirect": lambda: rs.report_redirect(
            report=report, actor=g.staff, department=g.sanitation, note="转环卫"
        ),
    }
    error = refused_without_change(g, report, calls[action], Conflict, "invalid_transition")
    assert error.status == 409


def test_reject_needs_a_reason_and_works_from_accepted(g):
    report = submit(g)
    refused_without_change(
        g, report, lambda: rs.report_reject(report=report, actor=g.staff, reason="  "),
        ApplicationError, "invalid",
    )  # fmt: skip
    report = rs.report_accept(report=report, actor=g.staff)
    report = rs.report_reject(report=report, actor=g.staff, reason="非本街道管辖")
    assert (report.status, report.rejection_reason) == (S.REJECTED, "非本街道管辖")
    assert report.closed_at is not None
    event = ReportEvent.objects.get(report=report, action="rejected")
    assert (event.from_status, event.note) == ("accepted", "非本街道管辖")
    told = Notification.objects.filter(recipient=g.rider).latest("id")
    assert told.body == "非本街道管辖"


# --- who may act ---------------------------------------------------------------------------------


def test_other_community_staff_get_403_from_services_and_404_from_selectors(g):
    report = submit(g)
    stranger = g.world.other_community_staff
    for call in (
        lambda: rs.report_accept(report=report, actor=stranger),
        lambda: rs.report_reject(report=report, actor=stranger, reason="x"),
        lambda: rs.report_dispatch(report=report, actor=stranger, department=g.city),
    ):
        error = refused_without_change(g, report, call, Forbidden)
        assert error.status == 403
    with pytest.raises(NotFound):
        sel.report_for_user(stranger, report.pk)
    assert not sel.reports_for_user(stranger).filter(pk=report.pk).exists()
    assert not sel.triage_queue(stranger).exists()
    # Street and district admins above it may.
    assert sel.report_for_user(g.world.street_admin, report.pk, Action.OPERATE) == report
    assert rs.report_accept(report=report, actor=g.world.district_admin).status == S.ACCEPTED


@pytest.mark.parametrize("who", ["rider", "other_rider", "merchant", "handler", "anonymous"])
def test_riders_merchants_and_handlers_cannot_triage(g, who):
    report = submit(g)
    actor = {"handler": g.handler, "anonymous": None}.get(who) or g.world.account(who)
    error = Unauthenticated if actor is None else Forbidden
    refused_without_change(g, report, lambda: rs.report_accept(report=report, actor=actor), error)
    refused_without_change(g, report, lambda: rs.report_dispatch(report=report, actor=actor), error)


def test_only_the_department_sent_to_reports_it_handled(g):
    report = advance(g, submit(g), "dispatched")
    for actor in (g.other_handler, g.rider, g.world.other_community_staff):
        refused_without_change(
            g, report,
            lambda actor=actor: rs.report_handle(
                report=report, actor=actor, note="已处理", photos=[jpeg(777)]
            ),
            Forbidden,
        )  # fmt: skip
    assert len(media_files(g.media)) == 4  # the report's photo and thumbnail, each with its copy
    # A handler may not verify their own work, nor close it.
    handled = rs.report_handle(report=report, actor=g.handler, note="已处理", photos=[jpeg(778)])
    refused_without_change(
        g, handled, lambda: rs.report_verify(report=handled, actor=g.handler, passed=True),
        Forbidden, "staff_only",
    )  # fmt: skip
    # The handler sees the case among their department's cases; the other department does not.
    assert not sel.department_cases(g.handler).exists()  # handled: no longer waiting
    assert sel.report_for_user(g.handler, report.pk) == report
    with pytest.raises(NotFound):
        sel.report_for_user(g.other_handler, report.pk)


def test_handle_without_an_after_photo_or_note_is_refused_and_leaves_no_file(g):
    report = advance(g, submit(g), "dispatched")
    refused_without_change(
        g, report, lambda: rs.report_handle(report=report, actor=g.handler, note="x", photos=[]),
        ApplicationError, "photo_required",
    )  # fmt: skip
    refused_without_change(
        g, report,
        lambda: rs.report_handle(report=report, actor=g.handler, note="", photos=[jpeg(5)]),
        ApplicationError,
    )  # fmt: skip
    refused_without_change(
        g, report,
        lambda: rs.report_handle(
            report=report, actor=g.handler, note="ok",
            photos=[jpeg(6), upload(b"not a jpeg", "b.jpg")],
        ),
        ApplicationError, "invalid_image",
    )  # fmt: skip


# --- dispatch and redirect -----------------------------------------------------------------------


def test_dispatch_checks_the_department_and_the_deadline(g):
    report = submit(g, category=g.clutter)  # no default department
    refused_without_change(
        g, report, lambda: rs.report_dispatch(report=report, actor=g.staff),
        ApplicationError, "department_required",
    )  # fmt: skip
    from yizhan.people.services import department_create

    elsewhere = department_create(
        name="乙街城管", area=g.world.street_b, actor=g.world.district_admin
    )
    refused_without_change(
        g, report, lambda: rs.report_dispatch(report=report, actor=g.staff, department=elsewhere),
        ApplicationError, "department_out_of_scope",
    )  # fmt: skip
    now = timezone.now()
    for bad in (now - timedelta(minutes=1), now + timedelta(days=400), now.replace(tzinfo=None)):
        refused_without_change(
            g, report,
            lambda bad=bad: rs.report_dispatch(
                report=report, actor=g.staff, department=g.sanitation, deadline=bad
            ),
            ApplicationError, "invalid_deadline",
        )  # fmt: skip
    when = now + timedelta(days=3)
    report = rs.report_dispatch(
        report=report, actor=g.staff, department=g.sanitation, deadline=when, note="请尽快"
    )
    assert (report.department, report.deadline_at) == (g.sanitation, when)
    assert Notification.objects.filter(recipient=g.other_handler).count() == 1
    assert not Notification.objects.filter(recipient=g.handler).exists()


def test_a_department_of_another_community_is_out_of_scope(g):
    report = submit(g, at=A2)  # community A2; 环卫所 works in A1
    refused_without_change(
        g, report,
        lambda: rs.report_dispatch(report=report, actor=g.world.street_admin,
                                   department=g.sanitation),
        ApplicationError, "department_out_of_scope",
    )  # fmt: skip
    assert list(sel.departments_for(report)) == [g.city]


def test_redirect_gives_the_new_department_a_new_deadline(g):
    report = advance(g, submit(g), "dispatched")
    Report.objects.filter(pk=report.pk).update(escalation=1)
    refused_without_change(
        g, report,
        lambda: rs.report_redirect(report=report, actor=g.staff, department=g.city, note="x"),
        ApplicationError,
    )  # fmt: skip
    refused_without_change(
        g, report,
        lambda: rs.report_redirect(
            report=report, actor=g.staff, department=g.sanitation, note=""
        ),
        ApplicationError,
    )  # fmt: skip
    moved = rs.report_redirect(
        report=report, actor=g.staff, department=g.sanitation, note="属环卫职责"
    )
    assert (moved.status, moved.department, moved.escalation) == (S.DISPATCHED, g.sanitation, 0)
    assert moved.deadline_at == deadline_for(g.wire, moved.dispatched_at)
    event = ReportEvent.objects.get(report=report, action="redirected")
    assert event.data == {"from": "城管执法队", "to": "环卫所"}
    # The case moved: the first department no longer sees it, the second does.
    assert not sel.department_cases(g.handler).exists()
    assert list(sel.department_cases(g.other_handler)) == [moved]


# --- verify, send back, close, reopen ------------------------------------------------------------


def test_a_failed_check_sends_the_case_back_with_a_fresh_deadline(g):
    report = advance(g, submit(g), "handled")
    Report.objects.filter(pk=report.pk).update(
        escalation=2, deadline_at=timezone.now() - timedelta(days=1)
    )
    refused_without_change(
        g, report, lambda: rs.report_verify(report=report, actor=g.staff, passed=False),
        ApplicationError,
    )  # a send-back needs a note  # fmt: skip
    back = rs.report_verify(
        report=report, actor=g.staff, passed=False, note="仍有飞线", photos=[jpeg(31)]
    )
    assert (back.status, back.handled_at, back.escalation) == (S.DISPATCHED, None, 0)
    assert back.deadline_at == deadline_for(g.wire, back.dispatched_at)
    assert back.deadline_at > timezone.now()
    assert back.verified_at is None and back.points_status == "none"
    event = ReportEvent.objects.get(report=report, action="sent_back")
    assert (event.from_status, event.to_status, event.note) == ("handled", "dispatched", "仍有飞线")
    assert list(event.photos.values_list("stage", flat=True)) == [PhotoStage.VERIFIED]
    assert Notification.objects.filter(recipient=g.handler, kind="report_dispatched").count() == 2
    # The department handles it again, and this time it passes.
    report = advance(g, back, "verified")
    assert report.points_status == "paid"


def test_reopen_by_the_reporter_clears_the_finished_work(g):
    report = advance(g, submit(g), "closed")
    Report.objects.filter(pk=report.pk).update(escalation=2)
    # Not by another rider, and not without a photo or a note.
    refused_without_change(
        g, report,
        lambda: rs.report_reopen(
            report=report, actor=g.other_rider, note="还在", photos=[jpeg(41)]
        ),
        Forbidden,
    )  # fmt: skip
    refused_without_change(
        g, report, lambda: rs.report_reopen(report=report, actor=g.rider, note="还在", photos=[]),
        ApplicationError, "photo_required",
    )  # fmt: skip
    refused_without_change(
        g, report,
        lambda: rs.report_reopen(report=report, actor=g.rider, note="", photos=[jpeg(4)]),
        ApplicationError,
    )  # fmt: skip
    again = rs.report_reopen(report=report, actor=g.rider, note="又拉线了", photos=[jpeg(42)])
    assert again.status == S.ACCEPTED and again.reopen_count == 1
    assert (again.closed_at, again.verified_at, again.handled_at, again.deadline_at) == (
        None, None, None, None,
    )  # fmt: skip
    assert again.escalation == 0
    assert again.points_status == "paid"  # what was paid stays paid (and is not paid again)
    event = ReportEvent.objects.get(report=report, action="reopened")
    assert (event.actor, event.from_status, event.to_status) == (g.rider, "closed", "accepted")
    assert list(event.photos.values_list("stage", flat=True)) == [PhotoStage.REOPENED]
    assert Notification.objects.filter(recipient=g.staff, kind="report_reopened").count() == 1
    # Staff may reopen too; the round goes on.
    closed = advance(g, again, "closed")
    assert (
        rs.report_reopen(
            report=closed, actor=g.staff, note="复查发现", photos=[jpeg(43)]
        ).reopen_count
        == 2
    )


# --- merge ---------------------------------------------------------------------------------------


def test_merge_makes_the_reporter_and_witnesses_witnesses_of_the_original(g):
    world = g.world
    original = submit(g)
    duplicate = submit(g, reporter=g.other_rider)
    rs.report_witness(report=duplicate, user=world.pending_rider.user)
    rs.report_witness(report=duplicate, user=g.rider)  # the original's own reporter
    rs.report_witness(report=original, user=world.pending_rider.user)  # already a witness there
    merged = rs.report_merge(report=duplicate, into=original, actor=g.staff, note="同一处")
    assert (merged.status, merged.merged_into) == (S.MERGED, original)
    assert merged.closed_at is not None
    original.refresh_from_db()
    rows = {(w.user, w.via_id) for w in Witness.objects.filter(report=original)}
    assert rows == {(world.pending_rider.user, None), (g.other_rider, duplicate.pk)}
    assert original.witnesses == 2
    assert ReportEvent.objects.get(report=original, action="merged_in").data == {
        "from": duplicate.pk
    }
    told = Notification.objects.filter(recipient=g.other_rider).latest("id")
    assert f"#{original.pk}" in told.title


def test_merge_refusals_change_nothing(g):
    first = submit(g)
    second = submit(g, reporter=g.other_rider)
    third = submit(g, at=A1_EAST)
    clutter = submit(g, category=g.clutter)
    refused_without_change(
        g, first, lambda: rs.report_merge(report=first, into=first, actor=g.staff),
        ApplicationError,
    )  # fmt: skip
    refused_without_change(
        g, first, lambda: rs.report_merge(report=first, into=clutter, actor=g.staff),
        ApplicationError, "merge_other_category",
    )  # fmt: skip
    # Into a report that was itself merged: refused (merge into the one it points at).
    rs.report_merge(report=second, into=third, actor=g.staff)
    error = refused_without_change(
        g, first, lambda: rs.report_merge(report=first, into=second, actor=g.staff),
        Conflict, "merge_target_closed",
    )  # fmt: skip
    assert f"#{second.pk}" in str(error.message)
    # Into a closed one: refused.
    done = advance(g, submit(g, at=A1_EAST), "closed")
    refused_without_change(
        g, first, lambda: rs.report_merge(report=first, into=done, actor=g.staff),
        Conflict, "merge_target_closed",
    )  # fmt: skip
    # By staff who may not touch the target.
    far = submit(g, at=A2)
    refused_without_change(
        g, first, lambda: rs.report_merge(report=first, into=far, actor=g.staff), Forbidden
    )
    # A merged report cannot be merged again.
    refused_without_change(
        g, second, lambda: rs.report_merge(report=second, into=first, actor=g.staff),
        Conflict, "invalid_transition",
    )  # fmt: skip


def test_merging_a_report_that_others_were_merged_into_carries_its_witnesses_along(g):
    world = g.world
    a = submit(g)
    b = submit(g, reporter=g.other_rider)
    c = submit(g, reporter=world.pending_rider.user)
    rs.report_merge(report=c, into=b, actor=g.staff)
    rs.report_merge(report=b, into=a, actor=g.staff)
    assert set(Witness.objects.filter(report=a).values_list("user", flat=True)) == {
        g.other_rider.pk, world.pending_rider.user.pk,
    }  # fmt: skip
    a.refresh_from_db()
    assert a.witnesses == 2
    assert Report.objects.get(pk=c.pk).merged_into_id == b.pk  # the chain is kept


# --- witnesses and acknowledging -----------------------------------------------------------------


def test_witness_once_on_an_open_report_not_ones_own(g):
    report = submit(g)
    refused_without_change(
        g, report, lambda: rs.report_witness(report=report, user=g.rider), Conflict, "own_report"
    )
    refused_without_change(
        g, report, lambda: rs.report_witness(report=report, user=None), Unauthenticated
    )
    first = rs.report_witness(report=report, user=g.other_rider)
    again = rs.report_witness(report=report, user=g.other_rider)
    assert first.pk == again.pk
    report.refresh_from_db()
    assert report.witnesses == 1
    assert ReportEvent.objects.filter(report=report, action="witnessed").count() == 1
    assert [w.report for w in sel.my_witnessed(g.other_rider)] == [report]
    rs.report_reject(report=report, actor=g.staff, reason="误报")
    refused_without_change(
        g, report, lambda: rs.report_witness(report=report, user=g.world.pending_rider.user),
        Conflict, "report_not_open",
    )  # fmt: skip


def test_acknowledge_only_an_open_urgent_alert_once(g):
    urgent = submit(g, category=g.lost, description="一位老人迷路")
    plain = submit(g)
    refused_without_change(
        g, plain, lambda: rs.report_acknowledge(report=plain, actor=g.staff),
        Conflict, "nothing_to_acknowledge",
    )  # fmt: skip
    refused_without_change(
        g, urgent, lambda: rs.report_acknowledge(report=urgent, actor=g.rider), Forbidden
    )
    taken = rs.report_acknowledge(report=urgent, actor=g.staff)
    assert taken.acknowledged_by == g.staff and taken.acknowledged_at is not None
    refused_without_change(
        g, urgent, lambda: rs.report_acknowledge(report=urgent, actor=g.world.street_admin),
        Conflict, "nothing_to_acknowledge",
    )  # fmt: skip
    told = Notification.objects.filter(recipient=g.rider).latest("id")
    assert g.staff.name in told.body


# --- what each person sees -----------------------------------------------------------------------


def test_queues_and_timeline_are_scoped(g):
    plain = submit(g)
    urgent = submit(g, category=g.lost, description="孩子走失")
    dispatched = advance(g, submit(g), "dispatched")
    assert list(sel.triage_queue(g.staff)) == [urgent, plain]  # urgent first, then oldest
    assert list(sel.triage_queue(g.handler)) == []
    assert list(sel.department_cases(g.handler)) == [dispatched]
    assert list(sel.department_cases(g.other_handler)) == []
    assert set(sel.my_reports(g.rider)) == {plain, urgent, dispatched}
    assert list(sel.my_reports(g.other_rider)) == []
    with pytest.raises(NotFound):
        sel.report_for_user(g.other_rider, plain.pk)
    # The timeline: the reporter sees the public lines, staff and handlers everything.
    Report.objects.filter(pk=dispatched.pk).update(deadline_at=timezone.now() - timedelta(hours=1))
    rs.reports_escalate()
    staff_lines = [e.action for e in sel.timeline(dispatched, g.staff)]
    rider_lines = [e.action for e in sel.timeline(dispatched, g.rider)]
    assert staff_lines == ["submitted", "accepted", "dispatched", "escalated"]
    assert rider_lines == ["submitted", "accepted", "dispatched"]
    assert [e.action for e in sel.timeline(dispatched, g.handler)] == staff_lines
    assert list(sel.overdue(g.staff)) == [dispatched]
    assert list(sel.overdue(g.rider)) == [dispatched]  # their own
    assert list(sel.overdue(g.world.other_community_staff)) == []
    qs = sel.reports_for_user(g.staff)
    assert list(sel.filter_reports(qs, overdue_only=True)) == [dispatched]
    assert list(sel.filter_reports(qs, urgent_only=True)) == [urgent]
    assert set(sel.filter_reports(qs, category="flying_wire")) == {plain, dispatched}
    assert list(sel.filter_reports(qs, department=g.city.pk)) == [dispatched]
    assert list(sel.filter_reports(qs, q="走失")) == [urgent]
    assert list(sel.filter_reports(qs, flagged_only=True)) == []
    Report.objects.filter(pk=plain.pk).update(flags=["burst"])
    assert list(sel.filter_reports(qs, flagged_only=True)) == [plain]
