"""The review queue: every flagged thing that would pay points waits for a person.

For each flag kind — the five report flags and the four award rules — the item pays nothing
when it is flagged, shows in the queue (filtered by its flag), pays exactly once when a person
releases it (a second click is refused and pays nothing more), and pays nothing when rejected.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import call, client_for
from tests.reports.builders import advance, exif, jpeg, make_given, submit
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from yizhan.core.models import AuditEntry
from yizhan.core.roles import Role
from yizhan.oversight import selectors
from yizhan.oversight.services import review_decide
from yizhan.people.services import account_create
from yizhan.points.choices import AwardFlag, AwardStatus
from yizhan.points.models import ManualAward, Posting
from yizhan.points.selectors import balance_of
from yizhan.points.services import points_award, points_settings_update
from yizhan.reports import services as rs
from yizhan.reports.choices import Flag, PointsStatus
from yizhan.reports.models import Report

CHINA = timezone.get_fixed_timezone(8 * 60)


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def queue_keys(user, **filters) -> list[tuple[str, int]]:
    queue = selectors.review_queue(user, **filters)
    return [(item.kind, item.id) for item in queue[0 : len(queue)]]


# --- reports -------------------------------------------------------------------------------------


def same_photo(g) -> Report:
    advance(g, submit(g, seed=4242), "verified")  # the first is paid (5)
    return submit(g, seed=4242)


def far_from_photo(g) -> Report:
    return submit(g, photos=[jpeg(11, exif_data=exif(lat=40.2, lng=113.5))])


def old_photo(g) -> Report:
    taken = timezone.now().astimezone(CHINA).replace(microsecond=0) - timedelta(days=5)
    return submit(g, photos=[jpeg(12, exif_data=exif(taken=taken))])


def burst(g) -> Report:
    rs.report_settings_update(street=g.world.street_a, actor=g.world.street_admin, burst_reports=2)
    submit(g)  # the first of two within the window: not flagged
    return submit(g)


def reporter_elsewhere(g) -> Report:
    return submit(g, reporter=g.other_rider)  # an A2 rider in A1: A1's staff may not pay


REPORT_FLAGS = {
    Flag.SAME_PHOTO: (same_photo, 5),
    Flag.FAR_FROM_PHOTO: (far_from_photo, 0),
    Flag.OLD_PHOTO: (old_photo, 0),
    Flag.BURST: (burst, 0),
    Flag.OUTSIDE_SCOPE: (reporter_elsewhere, 0),
}


@pytest.mark.parametrize("flag", list(REPORT_FLAGS))
def test_a_flagged_report_pays_nothing_until_a_person_releases_it(g, flag):
    make, paid_before = REPORT_FLAGS[flag]
    report = advance(g, make(g), "verified")
    reporter = report.reporter
    assert flag in report.flags and report.points_status == PointsStatus.HELD
    assert balance_of(reporter) == paid_before  # nothing paid for this one
    assert not Posting.objects.filter(source_id=str(report.pk), source_type="reports.report")
    # In the queue of the street admin, found by its flag and kind; not by another flag.
    admin = g.world.street_admin
    assert ("report", report.pk) in queue_keys(admin, flag=flag)
    assert ("report", report.pk) in queue_keys(admin, kind="report")
    assert ("report", report.pk) not in queue_keys(admin, kind="award")
    other = next(f for f in Flag.values if f != flag)
    assert ("report", report.pk) not in queue_keys(admin, flag=other) or other in report.flags
    # Released by a person: paid once; the second click is refused and pays nothing more.
    review_decide(kind="report", item_id=report.pk, actor=admin, decision="release", reason="核实")
    assert balance_of(reporter) == paid_before + 5
    with pytest.raises(Conflict) as caught:
        review_decide(kind="report", item_id=report.pk, actor=admin, decision="release", reason="x")
    assert caught.value.code == "already_decided"
    assert balance_of(reporter) == paid_before + 5
    assert ("report", report.pk) not in queue_keys(admin)
    entry = AuditEntry.objects.filter(action="report.points_decided", target_id=str(report.pk))
    assert entry.get().actor == admin


@pytest.mark.parametrize("flag", list(REPORT_FLAGS))
def test_a_flagged_report_rejected_pays_nothing(g, flag):
    make, paid_before = REPORT_FLAGS[flag]
    report = advance(g, make(g), "verified")
    admin = g.world.street_admin
    review_decide(kind="report", item_id=report.pk, actor=admin, decision="reject", reason="重复")
    report.refresh_from_db()
    assert report.points_status == PointsStatus.DECLINED
    assert balance_of(report.reporter) == paid_before
    with pytest.raises(Conflict):
        review_decide(kind="report", item_id=report.pk, actor=admin, decision="release", reason="x")
    assert balance_of(report.reporter) == paid_before


def test_a_report_is_in_the_queue_only_once_verified_and_held(g):
    flagged = submit(g, seed=77)
    again = submit(g, seed=77)
    assert again.flags == [Flag.SAME_PHOTO]
    assert queue_keys(g.staff) == []  # flagged but not verified: nothing would pay yet
    again = advance(g, again, "verified")
    assert queue_keys(g.staff) == [("report", again.pk)]
    assert flagged.points_status == PointsStatus.NONE


# --- awards --------------------------------------------------------------------------------------


@pytest.fixture
def asker(world):
    """A second staff member of A1: asks for awards the community staff then decide."""
    return account_create(
        username="staff_a1_ask", name="钱二", role=Role.STAFF, area=world.community_a1,
        password="Yizhan-test-2026",
    )  # fmt: skip


_n = iter(range(10_000))


def award(world, actor, amount=5, member=None):
    return points_award(
        member=member or world.rider.user, amount=amount, reason="巡查", evidence="照片",
        actor=actor, idempotency_key=f"q-award-{next(_n):05d}",
    )  # fmt: skip


def review(world, **rules):
    points_settings_update(street=world.street_a, actor=world.street_admin, **rules)


def repeat(world, asker):
    review(world, review_repeat_count=3, review_window_hours=24)
    assert award(world, asker).status == AwardStatus.APPROVED
    assert award(world, asker).status == AwardStatus.APPROVED
    return award(world, asker), 10


def large(world, asker):
    review(world, review_large_amount=15)
    assert award(world, asker, amount=14).status == AwardStatus.APPROVED
    return award(world, asker, amount=15), 14


def new_member(world, asker):
    review(world, review_new_member_days=7)
    return award(world, asker), 0  # the world's rider registered just now


def burst_awards(world, asker):
    review(world, review_burst_count=3, review_burst_minutes=60)
    assert award(world, asker, member=world.rider.user).status == AwardStatus.APPROVED
    from tests.world import make_rider

    extra = make_rider(
        world.community_a1, "13600000066", "周五", lat=40.095, lng=113.305,
        verify_by=world.community_staff,
    )  # fmt: skip
    assert award(world, asker, member=extra.user).status == AwardStatus.APPROVED
    return award(world, asker), 5


AWARD_FLAGS = {
    AwardFlag.REPEAT: repeat,
    AwardFlag.LARGE: large,
    AwardFlag.NEW_MEMBER: new_member,
    AwardFlag.BURST: burst_awards,
}


@pytest.mark.parametrize("flag", list(AWARD_FLAGS))
def test_a_flagged_award_pays_nothing_until_a_person_releases_it(world, asker, flag):
    held, paid_before = AWARD_FLAGS[flag](world, asker)
    rider = world.rider.user
    assert held.status == AwardStatus.HELD and flag in held.flags
    assert held.earning is None and balance_of(rider) == paid_before
    assert AuditEntry.objects.filter(action="points.award_held", target_id=str(held.pk)).exists()
    staff = world.community_staff
    assert ("award", held.pk) in queue_keys(staff, flag=flag)
    assert ("award", held.pk) not in queue_keys(staff, kind="report")
    # The one who asked may not decide it; a rider may not; nothing changes.
    for who, error in ((asker, Forbidden), (rider, NotFound)):
        with pytest.raises(error):
            review_decide(kind="award", item_id=held.pk, actor=who, decision="release", reason="x")
    assert ManualAward.objects.get(pk=held.pk).status == AwardStatus.HELD
    assert balance_of(rider) == paid_before
    # Another staff member releases it: paid once, whatever the clicks.
    review_decide(kind="award", item_id=held.pk, actor=staff, decision="release", reason="属实")
    assert balance_of(rider) == paid_before + held.amount
    with pytest.raises(Conflict):
        review_decide(kind="award", item_id=held.pk, actor=staff, decision="release", reason="再")
    assert balance_of(rider) == paid_before + held.amount
    decided = ManualAward.objects.get(pk=held.pk)
    assert decided.status == AwardStatus.APPROVED and decided.decided_by == staff
    assert decided.decision_note == "属实"
    assert decided.earning.posting.approved_by == staff
    assert AuditEntry.objects.filter(action="points.award_released", actor=staff).count() == 1


@pytest.mark.parametrize("flag", list(AWARD_FLAGS))
def test_a_flagged_award_rejected_pays_nothing(world, asker, flag):
    held, paid_before = AWARD_FLAGS[flag](world, asker)
    staff = world.community_staff
    review_decide(kind="award", item_id=held.pk, actor=staff, decision="reject", reason="不实")
    assert ManualAward.objects.get(pk=held.pk).status == AwardStatus.REJECTED
    assert balance_of(world.rider.user) == paid_before
    with pytest.raises(Conflict):
        review_decide(kind="award", item_id=held.pk, actor=staff, decision="release", reason="x")
    assert balance_of(world.rider.user) == paid_before


def test_the_rules_are_off_until_a_street_turns_them_on(world, asker):
    for _ in range(5):
        assert award(world, asker, amount=20).status == AwardStatus.APPROVED
    assert queue_keys(world.street_admin) == []


def test_a_held_award_is_not_approved_through_the_second_approval_page(world, asker):
    from yizhan.points.services import points_award_approve

    review(world, review_large_amount=10)
    held = award(world, asker, amount=30)
    assert held.status == AwardStatus.HELD
    with pytest.raises(Conflict):
        points_award_approve(award=held, actor=world.community_staff)
    assert balance_of(world.rider.user) == 0


def test_the_review_rules_are_checked(world):
    with pytest.raises(ApplicationError) as caught:
        review(world, review_burst_minutes=0)
    assert caught.value.field == "review_burst_minutes"
    with pytest.raises(ApplicationError):
        review(world, review_large_amount=-1)
    with pytest.raises(Forbidden):
        points_settings_update(
            street=world.street_a, actor=world.community_staff, review_large_amount=5
        )
    entry = AuditEntry.objects.filter(action="points.settings_changed")
    assert not entry.exists()
    review(world, review_large_amount=50)
    assert entry.get().data["review_large_amount"] == 50


# --- scope, pages, API ---------------------------------------------------------------------------


def held_award(world, asker):
    review(world, review_large_amount=10)
    return award(world, asker, amount=12)


def test_staff_see_their_area_only(g, asker):
    world = g.world
    report = advance(g, same_photo(g), "verified")
    held = held_award(world, asker)
    both = {("report", report.pk), ("award", held.pk)}
    assert set(queue_keys(world.community_staff)) == both
    assert set(queue_keys(world.district_admin)) == both
    assert queue_keys(world.other_community_staff) == []
    assert set(queue_keys(world.street_admin, area=world.community_a1.code)) == both
    assert queue_keys(world.street_admin, area=world.community_a2.code) == []
    assert queue_keys(world.rider.user) == []
    with pytest.raises(NotFound):
        review_decide(
            kind="award", item_id=held.pk, actor=world.other_community_staff,
            decision="release", reason="x",
        )  # fmt: skip
    with pytest.raises(NotFound):
        review_decide(kind="other", item_id=held.pk, actor=world.street_admin, decision="release",
                      reason="x")  # fmt: skip


def test_a_decision_needs_a_reason_and_a_known_decision(world, asker):
    held = held_award(world, asker)
    staff = world.community_staff
    for decision, reason, field in (("release", "", "reason"), ("pay", "ok", "decision"),
                                    ("release", "长" * 201, "reason")):  # fmt: skip
        with pytest.raises(ApplicationError) as caught:
            review_decide(
                kind="award", item_id=held.pk, actor=staff, decision=decision, reason=reason
            )
        assert caught.value.field == field
    assert ManualAward.objects.get(pk=held.pk).status == AwardStatus.HELD


def test_the_api_lists_filters_and_decides(g, asker):
    world = g.world
    report = advance(g, same_photo(g), "verified")
    held = held_award(world, asker)
    client = client_for(world.community_staff)
    body = client.get("/api/v1/oversight/queue").json()
    assert body["count"] == 2
    assert [(i["kind"], i["id"]) for i in body["items"]] == [
        ("report", report.pk), ("award", held.pk)
    ]  # fmt: skip
    item = body["items"][1]
    assert item["flags"] == [{"code": "award_large", "label": str(AwardFlag.LARGE.label)}]
    assert item["amount"] == 12 and item["evidence"]["large_from"] == 10
    assert item["person_phone"] == "138****1234"
    first = body["items"][0]
    assert first["evidence"]["same_photo_reports"] and first["detail_url"]
    only = client.get("/api/v1/oversight/queue?flag=same_photo").json()
    assert [i["id"] for i in only["items"]] == [report.pk]
    assert client.get("/api/v1/oversight/queue?kind=award").json()["count"] == 1
    assert client.get("/api/v1/oversight/queue?flag=nope").status_code == 400
    assert client.get("/api/v1/oversight/queue?kind=nope").status_code == 400
    url = f"/api/v1/oversight/queue/award/{held.pk}/decide"
    missing = call(client, "POST", url, {"decision": "release", "reason": " "})
    assert missing.status_code == 400 and missing.json()["detail"] == {"field": "reason"}
    done = call(client, "POST", url, {"decision": "release", "reason": "属实"})
    assert done.status_code == 200
    assert done.json() == {"kind": "award", "id": held.pk, "decision": "release",
                           "status": "approved"}  # fmt: skip
    twice = call(client, "POST", url, {"decision": "release", "reason": "属实"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_decided"
    assert balance_of(world.rider.user) == 5 + 12
    url = f"/api/v1/oversight/queue/report/{report.pk}/decide"
    rejected = call(client, "POST", url, {"decision": "reject", "reason": "照片重复"})
    assert rejected.json()["status"] == "declined"
    assert client.get("/api/v1/oversight/queue").json()["count"] == 0


def test_the_queue_costs_the_same_queries_for_any_page_size(g, asker):
    world = g.world
    review(world, review_large_amount=10)
    advance(g, submit(g, seed=900), "verified")  # paid; the next three are the same photo
    for _ in range(3):
        advance(g, submit(g, seed=900), "verified")
    for _ in range(6):
        award(world, asker, amount=12)
    client = client_for(world.community_staff)

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(f"/api/v1/oversight/queue?page_size={size}").json()
            assert len(body["items"]) == min(size, 9)
        return len(ctx.captured_queries)

    # Oldest first: three reports, then six awards; 4 and 9 hold both kinds, 1 only reports.
    assert queries(1) <= queries(4) == queries(9)
    with CaptureQueriesContext(connection) as nine:
        page = client.get(reverse("oversight:queue"))
    assert page.content.decode().count('data-testid="review-row"') == 9
    for _ in range(6):
        award(world, asker, amount=12)
    with CaptureQueriesContext(connection) as fifteen:
        page = client.get(reverse("oversight:queue"))
    assert page.content.decode().count('data-testid="review-row"') == 15
    assert len(nine.captured_queries) == len(fifteen.captured_queries)


def test_the_page_lists_and_decides(g, asker):
    world = g.world
    report = advance(g, same_photo(g), "verified")
    held = held_award(world, asker)
    client = client_for(world.community_staff)
    page = client.get(reverse("oversight:queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="review-report-{report.pk}"' in html and f'id="review-award-{held.pk}"' in html
    filtered = client.get(reverse("oversight:queue") + "?kind=award").content.decode()
    assert f'id="review-report-{report.pk}"' not in filtered
    # The one who asked sees no buttons on their own award.
    own = client_for(asker).get(reverse("oversight:queue")).content.decode()
    assert "another staff member decides" in own or "另一位工作人员" in own
    url = reverse("oversight:decide", args=["award", held.pk])
    assert client.post(url, {"decision": "release"}).status_code == 400
    done = client.post(url, {"decision": "release", "reason": "属实"})
    assert done.status_code == 302
    again = client.post(
        url, {"decision": "release", "reason": "属实"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 409
    assert balance_of(world.rider.user) == 5 + 12
    fragment = client.post(
        reverse("oversight:decide", args=["report", report.pk]),
        {"decision": "reject", "reason": "照片重复"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200 and b'role="status"' in fragment.content
    assert client_for(world.rider.user).get(reverse("oversight:queue")).status_code == 403


def test_the_menu_shows_the_queue_to_staff_and_the_log_to_admins(world):
    staff = client_for(world.community_staff).get(reverse("oversight:queue")).content.decode()
    assert reverse("oversight:queue") in staff and reverse("oversight:audit") not in staff
    admin = client_for(world.street_admin).get(reverse("oversight:queue")).content.decode()
    assert reverse("oversight:audit") in admin


def test_nothing_is_paid_by_a_denied_role(g, asker):
    world = g.world
    held = held_award(world, asker)
    report = advance(g, same_photo(g), "verified")
    before = (Posting.objects.count(), AuditEntry.objects.count())
    for who in (world.rider.user, world.other_rider.user, world.merchant):
        client = client_for(who)
        for kind, pk in (("award", held.pk), ("report", report.pk)):
            response = call(
                client, "POST", f"/api/v1/oversight/queue/{kind}/{pk}/decide",
                {"decision": "release", "reason": "x"},
            )  # fmt: skip
            assert response.status_code == 403
    assert (Posting.objects.count(), AuditEntry.objects.count()) == before
    assert ManualAward.objects.get(pk=held.pk).status == AwardStatus.HELD
    assert Report.objects.get(pk=report.pk).points_status == PointsStatus.HELD
