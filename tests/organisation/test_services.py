"""The organisation services: the switch, branches and staff, and the rules of a record's way
through the pipeline. Every refusal is a 4xx and leaves nothing changed."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.organisation.builders import (
    a1_rider,
    advance_to,
    community_branch,
    days_ago,
    enable,
    open_record,
    second_a1_staff,
    street_b_rider,
    street_branch,
)
from tests.organisation.matrix import snapshot
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry
from yizhan.organisation import selectors, services
from yizhan.organisation.models import PipelineRecord, StageEntry


def refused(call, status: int, code: str | None = None) -> ApplicationError:
    """Run ``call``: it must be refused with ``status`` (and ``code``), changing nothing."""
    before = (snapshot(), AuditEntry.objects.count())
    with pytest.raises(ApplicationError) as caught:
        call()
    assert caught.value.status == status, caught.value.message
    if code:
        assert caught.value.code == code
    assert (snapshot(), AuditEntry.objects.count()) == before
    return caught.value


# --- the switch ------------------------------------------------------------------------------


def test_the_module_is_off_until_a_street_admin_turns_it_on(world):
    assert not services.is_enabled(world.street_a.code)
    refused(
        lambda: services.branch_create(area=world.street_a, name="支部", actor=world.street_admin),
        404,
        "module_off",
    )
    settings = enable(world)
    assert settings.enabled and services.is_enabled(world.street_a.code)
    assert not services.is_enabled(world.street_b.code)
    actions = AuditEntry.objects.filter(action="organisation.enabled")
    assert actions.get().actor == world.street_admin


def test_only_the_streets_admins_turn_the_switch(world):
    for actor in (world.community_staff, world.rider.user, None):
        refused(
            lambda actor=actor: services.organisation_set(
                street=world.street_a, enabled=True, actor=actor
            ),
            401 if actor is None else 403,
        )
    services.organisation_set(street=world.street_a, enabled=True, actor=world.district_admin)
    assert services.is_enabled(world.street_a.code)


def test_turning_it_off_hides_everything_and_refuses_every_change(world):
    branch = street_branch(world)
    record = open_record(world, branch)
    services.organisation_set(street=world.street_a, enabled=False, actor=world.street_admin)
    staff = world.community_staff
    assert not selectors.records_for_user(staff).exists()
    assert not selectors.branches_for_user(world.street_admin).exists()
    assert not selectors.may_use(staff)
    refused(lambda: advance_to(record, "activist", staff, days=[10]), 404, "module_off")
    refused(
        lambda: services.record_close(record=record, reason="撤回", on=days_ago(1), actor=staff),
        404,
    )
    refused(lambda: open_record(world, branch, world.other_rider), 404)
    refused(
        lambda: services.branch_staff_add(
            branch=branch, user=world.other_community_staff, actor=world.street_admin
        ),
        404,
    )
    # Turned on again: everything is where it was.
    enable(world)
    assert list(selectors.records_for_user(staff)) == [record]


# --- branches and staff ----------------------------------------------------------------------


def test_a_branch_belongs_to_the_street_or_one_of_its_communities(world):
    enable(world)
    refused(
        lambda: services.branch_create(
            area=world.grid_a1_west, name="网格支部", actor=world.street_admin
        ),
        400,
    )
    branch = community_branch(world)
    assert (branch.street, branch.area_code) == (world.street_a, world.community_a1.code)
    refused(
        lambda: services.branch_create(
            area=world.community_a2, name="甲一社区党支部", actor=world.street_admin
        ),
        409,
        "duplicate_branch",
    )
    refused(
        lambda: services.branch_create(
            area=world.community_a1, name="其他", actor=world.community_staff
        ),
        403,
    )


def test_branch_staff_are_console_users_on_the_branchs_line_of_the_tree(world):
    enable(world)
    branch = community_branch(world)
    admin = world.street_admin
    # A2's staff, a rider, the district's admin (above the street) and street B's people may
    # not serve on A1's branch.
    for user in (world.other_community_staff, world.rider.user, world.district_admin):
        refused(
            lambda user=user: services.branch_staff_add(branch=branch, user=user, actor=admin),
            400,
            "not_eligible",
        )
    services.branch_staff_add(branch=branch, user=world.community_staff, actor=admin)
    services.branch_staff_add(branch=branch, user=admin, actor=admin)  # the street's level
    refused(
        lambda: services.branch_staff_add(branch=branch, user=world.community_staff, actor=admin),
        409,
        "already_staff",
    )
    second = second_a1_staff(world)
    refused(
        lambda: services.branch_staff_add(branch=branch, user=second, actor=world.community_staff),
        403,
    )
    services.branch_staff_remove(branch=branch, user=world.community_staff, actor=admin)
    refused(
        lambda: services.branch_staff_remove(
            branch=branch, user=world.community_staff, actor=admin
        ),
        404,
        "not_branch_staff",
    )
    assert [link.user for link in selectors.staff_of(branch)] == [admin]


# --- records: who ----------------------------------------------------------------------------


def test_only_the_branchs_staff_see_and_work_its_records(world):
    branch = street_branch(world)
    record = open_record(world, branch)
    assert list(selectors.records_for_user(world.community_staff)) == [record]
    for user in (
        world.other_community_staff, world.street_admin, world.district_admin, world.rider.user,
        world.merchant, None,
    ):  # fmt: skip
        assert not selectors.records_for_user(user).exists()
    for actor, status in ((world.other_community_staff, 403), (world.street_admin, 403)):
        refused(lambda actor=actor: advance_to(record, "activist", actor, days=[1]), status)
        refused(lambda actor=actor: open_record(world, branch, world.other_rider, actor=actor),
                status, "not_branch_staff")  # fmt: skip
    # Admins see counts per stage, not persons.
    assert selectors.street_counts(world.street_a)["applicant"] == 1


def test_taken_off_the_staff_one_no_longer_sees_the_records(world):
    branch = street_branch(world)
    open_record(world, branch)
    services.branch_staff_remove(
        branch=branch, user=world.community_staff, actor=world.street_admin
    )
    assert not selectors.records_for_user(world.community_staff).exists()
    assert not selectors.may_use(world.community_staff)


# --- records: the rules ----------------------------------------------------------------------


def test_a_record_goes_through_the_stages_in_order_with_its_history(world):
    branch = street_branch(world)
    staff = world.community_staff
    record = open_record(world, branch, applied=800)
    record = advance_to(record, "full", staff, days=[700, 600, 500, 100])
    assert record.stage == "full" and record.status == "admitted"
    assert [d for _s, _l, d in record.dates()] == [days_ago(n) for n in (800, 700, 600, 500, 100)]
    entries = list(StageEntry.objects.filter(record=record).order_by("id"))
    assert [(e.kind, e.stage, e.on) for e in entries] == [
        ("opened", "applicant", days_ago(800)),
        ("advanced", "activist", days_ago(700)),
        ("advanced", "candidate", days_ago(600)),
        ("advanced", "probationary", days_ago(500)),
        ("advanced", "full", days_ago(100)),
    ]
    audit = AuditEntry.objects.filter(target_type="organisation.pipelinerecord")
    assert audit.count() == 5
    # The record's audit entries carry no area: the area's staff do not see them in the back
    # office's audit log.
    assert set(audit.values_list("area_code", flat=True)) == {""}
    refused(lambda: services.record_close(record=record, reason="x", on=days_ago(0), actor=staff),
            409, "not_open")  # fmt: skip


def test_stages_advance_one_step_at_a_time(world):
    branch = street_branch(world)
    staff = world.community_staff
    record = open_record(world, branch)
    error = refused(
        lambda: services.record_advance(
            record=record, stage="candidate", on=days_ago(1), actor=staff
        ),
        409,
        "out_of_order",
    )
    assert "积极分子" in str(error.message) or "Activist" in str(error.message)
    refused(
        lambda: services.record_advance(record=record, stage="applicant", on=days_ago(1),
                                        actor=staff),
        409, "out_of_order",
    )  # fmt: skip
    refused(
        lambda: services.record_advance(record=record, stage="leader", on=days_ago(1), actor=staff),
        400,
    )


def test_a_stage_is_dated_not_before_the_previous_one_nor_in_the_future(world):
    branch = street_branch(world)
    staff = world.community_staff
    record = open_record(world, branch, applied=100)

    def step(on):
        return lambda: services.record_advance(record=record, stage="activist", on=on, actor=staff)

    refused(step(days_ago(101)), 400, "before_previous")
    refused(step(timezone.localdate() + timedelta(days=1)), 400, "future_date")
    refused(step("2026-01-01"), 400)
    refused(lambda: open_record(world, branch, world.other_rider, applied=-1), 400, "future_date")
    record = services.record_advance(record=record, stage="activist", on=days_ago(100),
                                     actor=staff)  # fmt: skip
    assert record.activist_on == days_ago(100)  # the same day as the application is fine


def test_a_probationary_member_becomes_a_full_member_after_a_year(world):
    branch = street_branch(world)
    staff = world.community_staff
    record = advance_to(open_record(world, branch, applied=900), "probationary", staff,
                        days=[800, 700, 364])  # fmt: skip
    error = refused(
        lambda: services.record_advance(record=record, stage="full", on=days_ago(0), actor=staff),
        400,
        "probation",
    )
    assert services.one_year_after(days_ago(364)).isoformat() in str(error.message)
    assert services.one_year_after(date(2024, 2, 29)) == date(2025, 3, 1)


def test_a_person_outside_the_branchs_area_is_refused(world):
    enable(world)
    branch = community_branch(world, staff=world.community_staff)
    refused(lambda: open_record(world, branch, world.other_rider), 400, "outside_branch_area")
    elsewhere = street_b_rider(world)
    refused(lambda: open_record(world, branch, elsewhere), 400, "outside_branch_area")
    refused(lambda: open_record(world, branch, world.pending_rider), 400, "not_verified")


def test_one_live_record_per_person(world):
    branch = street_branch(world)
    staff = world.community_staff
    record = open_record(world, branch)
    other = community_branch(world, staff=staff)
    refused(lambda: open_record(world, other), 409, "already_in_pipeline")
    services.record_close(record=record, reason="本人申请撤回", on=days_ago(0), actor=staff)
    again = open_record(world, other, applied=0)  # closed: a new application may follow
    assert PipelineRecord.objects.filter(rider=world.rider).count() == 2
    assert again.status == "open"


def test_closing_needs_a_reason_and_a_date_not_before_the_stage(world):
    branch = street_branch(world)
    staff = world.community_staff
    record = open_record(world, branch, applied=50)

    def close(reason, on):
        return lambda: services.record_close(record=record, reason=reason, on=on, actor=staff)

    refused(close("  ", days_ago(1)), 400)
    refused(close("撤回", days_ago(51)), 400, "before_previous")
    record = services.record_close(record=record, reason="未被接收", on=days_ago(1), actor=staff)
    assert (record.status, record.closed_on, record.close_reason) == ("closed", days_ago(1),
                                                                     "未被接收")  # fmt: skip
    refused(lambda: advance_to(record, "activist", staff, days=[0]), 409, "not_open")
    assert selectors.street_counts(world.street_a)["closed"] == 1


def test_a_record_is_handed_over_within_the_street(world):
    branch = street_branch(world)
    staff = world.community_staff
    record = open_record(world, branch)
    receiver_staff = second_a1_staff(world)
    a1 = community_branch(world, staff=receiver_staff)
    a2 = community_branch(world, community=world.community_a2, name="甲二社区党支部")
    refused(lambda: services.record_transfer(record=record, to_branch=branch, actor=staff),
            400, "same_branch")  # fmt: skip
    refused(lambda: services.record_transfer(record=record, to_branch=a2, actor=staff),
            400, "outside_branch_area")  # fmt: skip
    refused(lambda: services.record_transfer(record=record, to_branch=a1, actor=receiver_staff),
            403, "not_branch_staff")  # fmt: skip
    admin_b = world.district_admin
    services.organisation_set(street=world.street_b, enabled=True, actor=admin_b)
    b1 = services.branch_create(area=world.community_b1, name="乙一社区党支部", actor=admin_b)
    refused(lambda: services.record_transfer(record=record, to_branch=b1, actor=staff),
            400, "other_street")  # fmt: skip
    record = services.record_transfer(record=record, to_branch=a1, actor=staff, note="属地管理")
    assert record.branch == a1
    assert list(selectors.records_for_user(receiver_staff)) == [record]
    assert not selectors.records_for_user(staff).exists()  # not on A1's branch's staff
    entry = StageEntry.objects.filter(record=record, kind="transferred").get()
    assert (entry.branch, entry.to_branch, entry.note) == (branch, a1, "属地管理")


def test_may_use_shows_the_menu_to_admins_and_branch_staff_only(world, django_assert_num_queries):
    street_branch(world)
    rider = world.rider.user
    with django_assert_num_queries(0):
        assert selectors.may_use(world.street_admin)
        assert not selectors.may_use(rider)
        assert not selectors.may_use(None)
    with django_assert_num_queries(1):
        assert selectors.may_use(world.community_staff)
    with django_assert_num_queries(1):
        assert not selectors.may_use(world.other_community_staff)


def test_a_rider_of_a1_is_a_candidate_of_the_street_branch_until_recorded(world):
    branch = street_branch(world)
    extra = a1_rider(world)
    assert set(selectors.candidates(branch)) == {world.rider, world.other_rider, extra}
    open_record(world, branch)
    assert world.rider not in set(selectors.candidates(branch))
