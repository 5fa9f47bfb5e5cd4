"""Builders for the honours tests (all writes through the services)."""

from __future__ import annotations

from tests.world import PASSWORD, make_rider
from yizhan.core.roles import Role
from yizhan.honours.services import nomination_create, title_create
from yizhan.people.services import account_create
from yizhan.points.services import points_award


def knight(world, *, quota: int = 2, year: int | None = None, name: str = "清远骑士"):
    """Street A's title for the current year (or ``year``), by the street's admin."""
    from django.utils import timezone

    return title_create(
        street=world.street_a, name=name, quota=quota, actor=world.street_admin,
        description="表彰参与基层治理的优秀骑手", year=year or timezone.localdate().year,
    )  # fmt: skip


def second_a1_rider(world, phone: str = "13600000077", name: str = "郑义"):
    return make_rider(
        world.community_a1, phone, name, lat=40.095, lng=113.305, verify_by=world.community_staff
    )


def street_b_rider(world):
    return make_rider(
        world.community_b1, "13600000099", "周乙", lat=40.085, lng=113.31,
        verify_by=world.district_admin,
    )  # fmt: skip


def street_b_admin(world):
    return account_create(
        username="admin_b", name="admin_b", role=Role.ADMIN, area=world.street_b,
        password=PASSWORD,
    )  # fmt: skip


def nominate(world, title, rider=None, *, actor=None, reason="巡查发现隐患十余处"):
    return nomination_create(
        title=title, rider=rider or world.rider, reason=reason,
        actor=actor or world.community_staff,
    )  # fmt: skip


def award(world, user, amount: int, key: str):
    return points_award(
        member=user, amount=amount, reason="巡查", evidence="照片",
        actor=world.community_staff, idempotency_key=key,
    )  # fmt: skip
