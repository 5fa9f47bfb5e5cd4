"""Points for verified reports: the reporter the category's value, witnesses a share, once —
however often the report is reopened and verified again; flagged reports and reporters outside
the verifier's area are held for a person to decide."""

import pytest

from tests.reports.builders import A2, advance, jpeg, make_given, state, submit
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.points.models import EarningRecord, Posting
from yizhan.points.selectors import balance_of
from yizhan.points.services import earning_rule_set
from yizhan.reports import services as rs
from yizhan.reports.choices import Flag, PointsStatus, Source
from yizhan.reports.models import Report, ReportEvent, Witness


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def paid(user) -> int:
    return balance_of(user)


def test_a_verified_report_pays_its_reporter_the_category_value_once(g):
    report = advance(g, submit(g), "verified")
    assert report.points_status == PointsStatus.PAID
    assert paid(g.rider) == 5
    record = EarningRecord.objects.get()
    assert (record.category, record.source_type, record.source_id) == (
        "flying_wire", "reports.report", str(report.pk),
    )  # fmt: skip
    assert ReportEvent.objects.get(report=report, action="points").data == {"status": "paid"}
    # Closed, reopened, handled and verified again: still paid once.
    report = advance(g, report, "closed")
    report = rs.report_reopen(report=report, actor=g.rider, note="又有了", photos=[jpeg(70)])
    report = advance(g, report, "verified")
    assert paid(g.rider) == 5
    assert EarningRecord.objects.count() == 1 and Posting.objects.count() == 1


def test_the_idempotency_key_holds_even_if_the_status_were_reset(g):
    """Belt and braces: were ``points_status`` ever reset, the key still pays once."""
    report = advance(g, submit(g), "verified")
    Report.objects.filter(pk=report.pk).update(points_status=PointsStatus.NONE)
    report.refresh_from_db()
    rs._pay_points(report, g.staff)
    assert paid(g.rider) == 5
    assert EarningRecord.objects.count() == 1


def test_witnesses_get_the_street_share(g):
    world = g.world
    report = submit(g)
    rs.report_witness(report=report, user=g.other_rider)  # A2: outside A1 staff's scope
    rs.report_witness(report=report, user=world.pending_rider.user)
    duplicate = submit(g, reporter=_extra_rider(g))
    rs.report_merge(report=duplicate, into=report, actor=g.staff)
    advance(g, report, "verified")
    # 50 % of 5, rounded down: 2 each; the A2 rider is held (the A1 staff may not pay them).
    statuses = dict(Witness.objects.filter(report=report).values_list("user", "points_status"))
    assert statuses == {
        g.other_rider.pk: PointsStatus.HELD,
        world.pending_rider.user.pk: PointsStatus.PAID,
        duplicate.reporter_id: PointsStatus.PAID,
    }
    assert paid(world.pending_rider.user) == 2 and paid(duplicate.reporter) == 2
    assert paid(g.other_rider) == 0
    assert paid(g.rider) == 5
    # The merged report itself pays its reporter nothing more (they were paid as a witness).
    assert Report.objects.get(pk=duplicate.pk).points_status == PointsStatus.NONE


def _extra_rider(g):
    from tests.world import make_rider

    return make_rider(
        g.world.community_a1, "13600000099", "钱多多", lat=40.095, lng=113.305,
        verify_by=g.staff,
    ).user  # fmt: skip


@pytest.mark.parametrize(("share", "each"), [(0, 0), (10, 1), (100, 5)])
def test_the_witness_share_is_configurable(g, share, each):
    rs.report_settings_update(
        street=g.world.street_a, actor=g.world.street_admin, witness_share_percent=share
    )
    report = submit(g)
    rs.report_witness(report=report, user=g.world.pending_rider.user)
    advance(g, report, "verified")
    assert paid(g.world.pending_rider.user) == each
    expected = PointsStatus.NONE if share == 0 else PointsStatus.PAID
    assert Witness.objects.get().points_status == expected


def test_rejected_and_merged_reports_pay_nothing(g):
    rejected = rs.report_reject(report=submit(g), actor=g.staff, reason="不属实")
    merged = rs.report_merge(report=submit(g, reporter=g.other_rider), into=submit(g),
                             actor=g.staff)  # fmt: skip
    assert paid(g.rider) == paid(g.other_rider) == 0
    assert {rejected.points_status, merged.points_status} == {PointsStatus.NONE}
    assert not EarningRecord.objects.exists()


def test_the_daily_cap_applies(g):
    earning_rule_set(
        street=g.world.street_a, activity="report_verified", category="flying_wire", points=5,
        daily_cap=8, actor=g.world.street_admin,
    )  # fmt: skip
    for _ in range(3):
        advance(g, submit(g), "verified")
    assert paid(g.rider) == 8
    assert sorted(EarningRecord.objects.values_list("paid", "capped")) == [(0, 5), (3, 2), (5, 0)]


def test_a_category_set_to_zero_pays_nothing_even_with_a_street_wide_rule(g):
    earning_rule_set(
        street=g.world.street_a, activity="report_verified", points=4, actor=g.world.street_admin
    )
    rs.category_update(category=g.clutter, actor=g.world.street_admin, points=0)
    free = advance(g, submit(g, category=g.clutter), "verified")
    assert free.points_status == PointsStatus.NONE and paid(g.rider) == 0
    # A category without a rule of its own pays the street's rule for every report.
    other = rs.category_create(
        street=g.world.street_a, code="other", name="其他", family="other",
        actor=g.world.street_admin,
    )  # fmt: skip
    advance(g, submit(g, category=other), "verified")
    assert paid(g.rider) == 4
    # Created with points=0: pays nothing either.
    zero = rs.category_create(
        street=g.world.street_a, code="graffiti", name="乱涂写", family="advertising",
        points=0, actor=g.world.street_admin,
    )  # fmt: skip
    advance(g, submit(g, category=zero), "verified")
    assert paid(g.rider) == 4


def test_a_report_by_staff_pays_nobody(g):
    from yizhan.reports.choices import Source

    report = submit(g, reporter=g.staff, source=Source.STAFF)
    report = advance(g, report, "verified")
    assert report.points_status == PointsStatus.NONE
    assert report.flags == []


# --- held for a person ---------------------------------------------------------------------------


def test_a_flagged_report_is_held_then_paid_or_declined_by_a_person(g):
    photo = jpeg(seed=4242)
    first = advance(g, submit(g, photos=[photo]), "verified")
    again = submit(g, photos=[jpeg(seed=4242)])
    assert again.flags == [Flag.SAME_PHOTO]
    again = advance(g, again, "verified")
    assert again.points_status == PointsStatus.HELD
    assert paid(g.rider) == 5  # only the first
    held = ReportEvent.objects.get(report=again, action="points_held")
    assert held.data == {"flags": ["same_photo"]} and held.public is False
    # Deciding needs a note; a rider may not decide; nothing changes when refused.
    for call, error in (
        (lambda: rs.report_points_decide(report=again, actor=g.staff, pay=True, note=""),
         ApplicationError),
        (lambda: rs.report_points_decide(report=again, actor=g.rider, pay=True, note="x"),
         Forbidden),
        (lambda: rs.report_points_decide(report=first, actor=g.staff, pay=True, note="x"),
         Conflict),
    ):  # fmt: skip
        before = state(again)
        with pytest.raises(error):
            call()
        assert state(again) == before
    decided = rs.report_points_decide(report=again, actor=g.staff, pay=True, note="不同角度")
    assert decided.points_status == PointsStatus.PAID and paid(g.rider) == 10
    with pytest.raises(Conflict):
        rs.report_points_decide(report=again, actor=g.staff, pay=True, note="再付一次")
    assert paid(g.rider) == 10
    # Declining another held one: nothing paid, and it stays decided.
    third = advance(g, submit(g, photos=[jpeg(seed=4242)]), "verified")
    declined = rs.report_points_decide(report=third, actor=g.staff, pay=False, note="重复照片")
    assert declined.points_status == PointsStatus.DECLINED and paid(g.rider) == 10
    assert ReportEvent.objects.get(report=third, action="points_decided").data == {"pay": False}


def test_a_reporter_from_elsewhere_is_held_until_an_admin_of_their_area_decides(g):
    """A2's rider reports in A1: A1's staff may not pay an A2 rider (points_earn says 403)."""
    report = advance(g, submit(g, reporter=g.other_rider), "verified")
    assert report.points_status == PointsStatus.HELD
    assert report.flags == [Flag.OUTSIDE_SCOPE]
    assert paid(g.other_rider) == 0
    # A1 staff deciding "pay" again: refused (403), and nothing changed, not even the flags.
    before = state(report)
    with pytest.raises(Forbidden) as caught:
        rs.report_points_decide(report=report, actor=g.staff, pay=True, note="应付")
    assert caught.value.code == "points_out_of_scope"
    assert state(report) == before
    # The street admin (A1 and A2 are both theirs) pays; the flag goes.
    decided = rs.report_points_decide(
        report=report, actor=g.world.street_admin, pay=True, note="核实无误"
    )
    assert decided.points_status == PointsStatus.PAID and decided.flags == []
    assert paid(g.other_rider) == 5


def test_reporting_in_ones_own_area_is_not_held(g):
    a2_staff = g.world.other_community_staff
    report = rs.report_dispatch(
        report=submit(g, reporter=g.other_rider, at=A2), actor=a2_staff, department=g.city
    )
    report = rs.report_handle(report=report, actor=g.handler, note="已拆", photos=[jpeg(81)])
    verified = rs.report_verify(report=report, actor=a2_staff, passed=True)
    assert verified.points_status == PointsStatus.PAID and paid(g.other_rider) == 5


def test_a_witness_who_joined_after_a_reopen_is_paid_when_it_is_verified_again(g):
    report = submit(g)
    rs.report_witness(report=report, user=g.world.pending_rider.user)
    report = advance(g, report, "closed")
    report = rs.report_reopen(report=report, actor=g.rider, note="又拉线了", photos=[jpeg(90)])
    rs.report_witness(report=report, user=g.other_rider)
    rs.report_settings_update(
        street=g.world.street_a, actor=g.world.street_admin, witness_share_percent=100
    )
    rs.report_verify(report=advance(g, report, "handled"), actor=g.world.street_admin, passed=True)
    assert paid(g.rider) == 5  # once
    assert paid(g.world.pending_rider.user) == 2  # once, at the first share
    assert paid(g.other_rider) == 5  # the newcomer, at today's share
    assert set(Witness.objects.values_list("points_status", flat=True)) == {PointsStatus.PAID}
    assert EarningRecord.objects.count() == 3


def test_an_open311_request_pays_its_witnesses_but_not_its_client(g):
    witness = g.world.pending_rider.user
    report = submit(g, photos=[], source=Source.OPEN311)
    rs.report_witness(report=report, user=witness)
    report = advance(g, report, "verified")
    assert report.points_status == PointsStatus.NONE and paid(g.rider) == 0
    assert Witness.objects.get(report=report, user=witness).points_status == PointsStatus.PAID
    assert paid(witness) == 2  # the street's 50 % share of 5
