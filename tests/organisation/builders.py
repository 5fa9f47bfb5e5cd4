"""Builders for the organisation tests (all writes through the services)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.world import PASSWORD, make_rider
from yizhan.core.roles import Role
from yizhan.organisation import services
from yizhan.people.services import account_create


def days_ago(n: int):
    return timezone.localdate() - timedelta(days=n)


def enable(world, street=None):
    return services.organisation_set(
        street=street or world.street_a, enabled=True, actor=world.street_admin
    )


def street_branch(world, *, staff=None, name="甲街道小哥党支部"):
    """Street A's branch at the street, with A1's community staff on it (street A enabled)."""
    enable(world)
    branch = services.branch_create(area=world.street_a, name=name, actor=world.street_admin)
    services.branch_staff_add(
        branch=branch, user=staff or world.community_staff, actor=world.street_admin
    )
    return branch


def community_branch(world, *, community=None, staff=None, name="甲一社区党支部"):
    branch = services.branch_create(
        area=community or world.community_a1, name=name, actor=world.street_admin
    )
    if staff is not None:
        services.branch_staff_add(branch=branch, user=staff, actor=world.street_admin)
    return branch


def open_record(world, branch, rider=None, *, applied=400, actor=None):
    return services.record_open(
        branch=branch, rider=rider or world.rider, applied_on=days_ago(applied),
        actor=actor or world.community_staff, note="递交入党申请书",
    )  # fmt: skip


def advance_to(record, stage, actor, *, days=None):
    """Advance step by step up to ``stage``, each ``days`` ago (a list, one per step)."""
    from yizhan.organisation.choices import STAGE_ORDER

    steps = STAGE_ORDER[STAGE_ORDER.index(record.stage) + 1 : STAGE_ORDER.index(stage) + 1]
    for step, ago in zip(steps, days or [300, 200, 100, 0][-len(steps) :], strict=True):
        record = services.record_advance(record=record, stage=step, on=days_ago(ago), actor=actor)
    return record


def street_b_rider(world):
    return make_rider(
        world.community_b1, "13600000099", "周乙", lat=40.085, lng=113.31,
        verify_by=world.district_admin,
    )  # fmt: skip


def a1_rider(world, phone="13600000077", name="郑义"):
    return make_rider(
        world.community_a1, phone, name, lat=40.095, lng=113.305, verify_by=world.community_staff
    )


def second_a1_staff(world):
    return account_create(
        username="staff_a1_b", name="钱二", role=Role.STAFF, area=world.community_a1,
        password=PASSWORD,
    )  # fmt: skip
