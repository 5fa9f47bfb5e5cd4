"""Honours services: titles, nominations from the record, approval within the quota."""

from datetime import date

import pytest

from tests.honours.builders import (
    award,
    knight,
    nominate,
    second_a1_rider,
    street_b_admin,
    street_b_rider,
)
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.core.models import AuditEntry
from yizhan.honours import services
from yizhan.honours.choices import NominationStatus
from yizhan.honours.models import Nomination, Title
from yizhan.notifications.models import Notification

pytestmark = pytest.mark.django_db


def state():
    return (
        sorted(Title.objects.values_list("pk", "quota", "description")),
        sorted(Nomination.objects.values_list("pk", "status", "rejection_reason")),
        AuditEntry.objects.count(),
        Notification.objects.count(),
    )


# --- titles ----------------------------------------------------------------------------------


def test_a_street_admin_defines_a_title_for_a_year(world):
    title = knight(world, quota=15, year=2026)
    assert (title.name, title.period, title.quota) == ("清远骑士", "2026", 15)
    assert (title.starts_on, title.ends_on) == (date(2026, 1, 1), date(2026, 12, 31))
    assert title.area_code == world.street_a.code
    assert AuditEntry.objects.filter(action="honour.title_created").count() == 1


def test_a_title_for_a_date_range_is_labelled_by_it(world):
    title = services.title_create(
        street=world.street_a, name="暖心骑手", quota=3, actor=world.district_admin,
        starts_on=date(2026, 3, 1), ends_on=date(2026, 8, 31),
    )  # fmt: skip
    assert title.period == "2026-03-01–2026-08-31"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": " "}, "name"),
        ({"name": "骑" * 61}, "name"),
        ({"quota": 0}, "quota"),
        ({"quota": "5"}, "quota"),
        ({"quota": True}, "quota"),
        ({"year": None}, "starts_on"),
        ({"year": 1999}, "year"),
        ({"starts_on": date(2026, 1, 1), "ends_on": date(2026, 2, 1)}, "year"),
        ({"year": None, "starts_on": date(2026, 5, 1), "ends_on": date(2026, 4, 1)}, "ends_on"),
        ({"year": None, "starts_on": date(2020, 1, 1), "ends_on": date(2026, 1, 1)}, "ends_on"),
        ({"description": "长" * 501}, "description"),
    ],
)
def test_a_title_with_bad_input_is_refused(world, changes, field):
    kwargs = {"street": world.street_a, "name": "清远骑士", "quota": 5, "year": 2026,
              "actor": world.street_admin, **changes}  # fmt: skip
    before = state()
    with pytest.raises(ApplicationError) as exc:
        services.title_create(**kwargs)
    assert exc.value.status == 400 and exc.value.field == field
    assert state() == before


def test_a_title_belongs_to_a_street(world):
    with pytest.raises(ApplicationError) as exc:
        services.title_create(
            street=world.community_a1, name="x", quota=1, year=2026, actor=world.street_admin
        )
    assert exc.value.field == "street"


def test_the_same_title_twice_for_a_period_is_a_conflict(world):
    knight(world, year=2026)
    before = state()
    with pytest.raises(Conflict):
        knight(world, year=2026)
    assert state() == before
    knight(world, year=2027)  # another period is another title


@pytest.mark.parametrize("who", ["community_staff", "other_community_staff", "rider"])
def test_only_the_streets_admins_define_titles(world, who):
    with pytest.raises(Forbidden):
        services.title_create(
            street=world.street_a, name="x", quota=1, year=2026, actor=world.account(who)
        )
    assert not Title.objects.exists()


def test_another_streets_admin_may_not_define_a_title_here(world):
    with pytest.raises(Forbidden):
        services.title_create(
            street=world.street_a, name="x", quota=1, year=2026, actor=street_b_admin(world)
        )
    assert not Title.objects.exists()


def test_the_quota_never_goes_below_the_riders_approved(world):
    title = knight(world, quota=2)
    extra = second_a1_rider(world)
    for rider in (world.rider, extra):
        services.nomination_approve(
            nomination=nominate(world, title, rider), actor=world.street_admin
        )
    before = state()
    with pytest.raises(Conflict) as exc:
        services.title_update(title=title, quota=1, actor=world.street_admin)
    assert exc.value.code == "quota_below_approved"
    with pytest.raises(Forbidden):
        services.title_update(title=title, quota=5, actor=world.community_staff)
    assert state() == before
    services.title_update(title=title, quota=3, description="新说明", actor=world.street_admin)
    title.refresh_from_db()
    assert (title.quota, title.description) == (3, "新说明")


# --- nominations -----------------------------------------------------------------------------


def test_staff_nominate_a_rider_of_their_area_with_the_record_of_the_period(world):
    title = knight(world)
    award(world, world.rider.user, 12, "honours-award-1")
    award(world, world.rider.user, 8, "honours-award-2")
    nomination = nominate(world, title)
    assert nomination.status == NominationStatus.PENDING
    assert nomination.record == {"points": 20, "reports": 0}
    assert nomination.area_code == world.rider.area_code
    assert nomination.nominated_by == world.community_staff
    entry = AuditEntry.objects.get(action="honour.nominated")
    assert entry.data["reason"] == "巡查发现隐患十余处"


def test_street_admins_nominate_too(world):
    title = knight(world)
    nomination = nominate(world, title, world.other_rider, actor=world.street_admin)
    assert nomination.rider == world.other_rider


def test_a_rider_outside_your_area_is_refused(world):
    title = knight(world)
    before = state()
    with pytest.raises(Forbidden) as exc:
        nominate(world, title, world.rider, actor=world.other_community_staff)
    assert exc.value.code == "other_area"
    assert state() == before


def test_a_rider_of_another_street_is_refused(world):
    title = knight(world)
    rider_b = street_b_rider(world)
    before = state()
    with pytest.raises(ApplicationError) as exc:
        nominate(world, title, rider_b, actor=world.district_admin)
    assert (exc.value.status, exc.value.code) == (400, "other_street")
    assert state() == before


def test_a_rider_not_verified_is_refused(world):
    title = knight(world)
    before = state()
    with pytest.raises(ApplicationError) as exc:
        nominate(world, title, world.pending_rider)
    assert (exc.value.status, exc.value.code) == (400, "not_verified")
    assert state() == before


@pytest.mark.parametrize("reason", ["", "   ", "长" * 501, None])
def test_a_nomination_needs_a_reason(world, reason):
    title = knight(world)
    before = state()
    with pytest.raises(ApplicationError) as exc:
        nominate(world, title, reason=reason)
    assert exc.value.field == "reason"
    assert state() == before


def test_riders_and_merchants_do_not_nominate(world):
    title = knight(world)
    for who in ("rider", "other_rider", "merchant"):
        with pytest.raises(Forbidden):
            nominate(world, title, actor=world.account(who))
    assert not Nomination.objects.exists()


def test_the_same_rider_twice_for_the_same_title_is_a_conflict(world):
    title = knight(world, quota=5)
    nominate(world, title)
    before = state()
    with pytest.raises(Conflict) as exc:
        nominate(world, title, actor=world.street_admin, reason="再次提名")
    assert exc.value.code == "already_nominated"
    assert state() == before


def test_a_rejection_stands_for_the_period(world):
    title = knight(world, quota=5)
    services.nomination_reject(
        nomination=nominate(world, title), actor=world.street_admin, reason="材料不足"
    )
    with pytest.raises(Conflict):
        nominate(world, title)
    nominate(world, knight(world, year=2030))  # the next period is a new title


def test_nominating_beyond_the_quota_counts_pending_and_approved(world):
    title = knight(world, quota=2)
    extra = second_a1_rider(world)
    third = second_a1_rider(world, "13600000066", "吴三")
    services.nomination_approve(nomination=nominate(world, title), actor=world.street_admin)
    nominate(world, title, extra)
    before = state()
    with pytest.raises(Conflict) as exc:
        nominate(world, title, third)
    assert exc.value.code == "quota_full"
    assert state() == before


def test_a_rejection_frees_its_place(world):
    title = knight(world, quota=1)
    extra = second_a1_rider(world)
    services.nomination_reject(
        nomination=nominate(world, title), actor=world.street_admin, reason="材料不足"
    )
    assert nominate(world, title, extra).status == NominationStatus.PENDING


# --- decisions -------------------------------------------------------------------------------


def test_a_street_admin_approves_and_the_rider_is_told(world):
    title = knight(world, year=2026)
    nomination = nominate(world, title)
    done = services.nomination_approve(nomination=nomination, actor=world.street_admin)
    assert done.status == NominationStatus.APPROVED
    assert done.decided_by == world.street_admin and done.decided_at is not None
    message = Notification.objects.get(recipient=world.rider.user, kind="honour_approved")
    assert "清远骑士" in message.title and "2026" in message.title
    assert message.url == "/honours/mine/"
    assert AuditEntry.objects.filter(action="honour.approved").count() == 1


def test_the_district_admin_may_approve(world):
    nomination = nominate(world, knight(world))
    services.nomination_approve(nomination=nomination, actor=world.district_admin)
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.APPROVED


@pytest.mark.parametrize("who", ["community_staff", "other_community_staff", "rider"])
def test_staff_and_riders_do_not_approve(world, who):
    nomination = nominate(world, knight(world))
    before = state()
    with pytest.raises(Forbidden):
        services.nomination_approve(nomination=nomination, actor=world.account(who))
    with pytest.raises(Forbidden):
        services.nomination_reject(nomination=nomination, actor=world.account(who), reason="否")
    assert state() == before


def test_approving_outside_your_street_is_refused(world):
    nomination = nominate(world, knight(world))
    admin_b = street_b_admin(world)
    before = state()
    with pytest.raises(Forbidden):
        services.nomination_approve(nomination=nomination, actor=admin_b)
    assert state() == before


def test_a_decision_is_made_once(world):
    nomination = nominate(world, knight(world))
    services.nomination_approve(nomination=nomination, actor=world.street_admin)
    before = state()
    with pytest.raises(Conflict) as exc:
        services.nomination_approve(nomination=nomination, actor=world.district_admin)
    assert exc.value.code == "already_decided"
    with pytest.raises(Conflict):
        services.nomination_reject(nomination=nomination, actor=world.street_admin, reason="否")
    assert state() == before
    assert Notification.objects.filter(kind="honour_approved").count() == 1


def test_approving_beyond_the_quota_is_refused(world):
    title = knight(world, quota=2)
    extra = second_a1_rider(world)
    first, second = nominate(world, title), nominate(world, title, extra)
    # The street lowers the quota while two are pending: only one more may be approved.
    services.title_update(title=title, quota=1, actor=world.street_admin)
    services.nomination_approve(nomination=first, actor=world.street_admin)
    before = state()
    with pytest.raises(Conflict) as exc:
        services.nomination_approve(nomination=second, actor=world.street_admin)
    assert exc.value.code == "quota_full" and exc.value.status == 409
    assert state() == before


def test_a_rejection_needs_a_reason(world):
    nomination = nominate(world, knight(world))
    before = state()
    for reason in ("", "  ", None, "长" * 301):
        with pytest.raises(ApplicationError) as exc:
            services.nomination_reject(
                nomination=nomination, actor=world.street_admin, reason=reason
            )
        assert exc.value.field == "reason"
    assert state() == before
    done = services.nomination_reject(
        nomination=nomination, actor=world.street_admin, reason="贡献记录不足"
    )
    assert (done.status, done.rejection_reason) == (NominationStatus.REJECTED, "贡献记录不足")
    assert not Notification.objects.filter(kind="honour_approved").exists()
