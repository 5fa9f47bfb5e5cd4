"""Reports under concurrent requests, on PostgreSQL: a phone's retries file one report with one
set of photos, two staff acting on one report at once get one change and one 409, points are
paid once, and opposite merges neither deadlock nor both happen.

Each test starts real threads, each with its own connection, released together by a barrier.
"""

import pytest

from tests.people.test_concurrency import run_together
from tests.reports.builders import (
    A1_WEST,
    advance,
    encode,
    make_given,
    media_files,
    picture,
    submit,
    upload,
)
from yizhan.core.errors import Conflict
from yizhan.core.models import IdempotencyRecord
from yizhan.points.models import EarningRecord, Posting
from yizhan.points.selectors import balance_of
from yizhan.reports import services as rs
from yizhan.reports.choices import ReportStatus
from yizhan.reports.models import Report, ReportEvent, ReportPhoto, Witness

pytestmark = [
    pytest.mark.postgres,
    # Serialised rollback brings back the rows the migrations seed (the service catalogue).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def only(results, kind):
    """Each result is a ``kind`` or a Conflict (anything else — a deadlock, a 500 — fails)."""
    for result in results:
        if not isinstance(result, kind | Conflict):
            raise AssertionError(f"unexpected result: {result!r}")
    return [r for r in results if isinstance(r, kind)], [
        r for r in results if isinstance(r, Conflict)
    ]


def test_eight_retries_of_one_submission_file_one_report_with_one_set_of_photos(g):
    photos = [encode(picture(1)), encode(picture(2))]

    def attempt():
        return rs.report_submit(
            reporter=g.rider, category=g.wire, lat=A1_WEST[0], lng=A1_WEST[1],
            description="楼道飞线充电", photos=[upload(p) for p in photos],
            idempotency_key="phone-race-00000001",
        )  # fmt: skip

    results = run_together(*([attempt] * 8))
    made, refused = only(results, Report)
    assert refused == [] and len(made) == 8
    report = Report.objects.get()
    assert {r.pk for r in made} == {report.pk}
    assert ReportPhoto.objects.filter(report=report).count() == 2
    assert len(media_files(g.media)) == 8  # 2 photos, 2 thumbnails, their copies: no orphans
    assert ReportEvent.objects.filter(report=report, action="submitted").count() == 1
    assert IdempotencyRecord.objects.filter(scope="reports.submit").count() == 1
    assert report.flags == []  # a retry is not "the same photo again"


def test_two_staff_dispatching_one_report_at_once_dispatch_it_once(g):
    report = submit(g)
    results = run_together(
        lambda: rs.report_dispatch(report=report, actor=g.staff, department=g.city),
        lambda: rs.report_dispatch(
            report=report, actor=g.world.street_admin, department=g.sanitation
        ),
    )
    made, refused = only(results, Report)
    assert len(made) == 1 and len(refused) == 1
    assert (refused[0].status, refused[0].code) == (409, "invalid_transition")
    report.refresh_from_db()
    assert report.status == ReportStatus.DISPATCHED and report.department == made[0].department
    assert ReportEvent.objects.filter(report=report, action="dispatched").count() == 1


def test_two_staff_verifying_at_once_pay_the_points_once(g):
    report = submit(g)
    rs.report_witness(report=report, user=g.world.pending_rider.user)
    report = advance(g, report, "handled")
    results = run_together(
        lambda: rs.report_verify(report=report, actor=g.staff, passed=True),
        lambda: rs.report_verify(report=report, actor=g.world.street_admin, passed=True),
    )
    made, refused = only(results, Report)
    assert len(made) == 1 and len(refused) == 1
    assert balance_of(g.rider) == 5 and balance_of(g.world.pending_rider.user) == 2
    assert EarningRecord.objects.count() == 2 and Posting.objects.count() == 2
    assert Witness.objects.get().points_status == "paid"
    assert ReportEvent.objects.filter(report=report, action="verified").count() == 1


def test_opposite_merges_at_once_do_not_deadlock_and_only_one_happens(g):
    first = submit(g)
    second = submit(g, reporter=g.other_rider)
    for _ in range(3):  # a deadlock needs the timing: try a few times
        results = run_together(
            lambda: rs.report_merge(report=first, into=second, actor=g.staff),
            lambda: rs.report_merge(report=second, into=first, actor=g.world.street_admin),
        )
        made, refused = only(results, Report)
        assert len(made) == 1 and len(refused) == 1, results
        statuses = sorted(Report.objects.values_list("status", flat=True))
        assert statuses == ["merged", "submitted"]
        Report.objects.update(status="submitted", merged_into=None, closed_at=None)
        Witness.objects.all().delete()
        Report.objects.update(witnesses=0)


def test_eight_riders_witnessing_at_once_count_eight(g):
    from tests.world import make_rider

    report = submit(g)
    riders = [
        make_rider(g.world.community_a1, f"1360000{i:04d}", f"骑手{i}", lat=40.095,
                   lng=113.305, verify_by=g.staff).user
        for i in range(8)
    ]  # fmt: skip
    results = run_together(
        *(lambda user=user: rs.report_witness(report=report, user=user) for user in riders)
    )
    assert all(isinstance(r, Witness) for r in results), results
    report.refresh_from_db()
    assert report.witnesses == 8 == Witness.objects.filter(report=report).count()


def test_two_schedulers_escalating_at_once_escalate_once(g):
    report = advance(g, submit(g), "dispatched")
    later = report.deadline_at.replace(microsecond=0)
    from datetime import timedelta

    results = run_together(
        lambda: rs.reports_escalate(now=later + timedelta(minutes=1)),
        lambda: rs.reports_escalate(now=later + timedelta(minutes=1)),
    )
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["overdue_community"] for r in results) == 1
    assert ReportEvent.objects.filter(report=report, action="escalated").count() == 1
