from datetime import timedelta

import pytest
from django.utils import timezone

from tests.points.conftest import rules  # noqa: F401 - the street's earning rules
from yizhan.points.services import points_award
from yizhan.rewards.services import reward_create, stock_change
from yizhan.stations.services import station_create


@pytest.fixture
def shop(rules):  # noqa: F811
    """A station in community A1, one in A2 and one in street B; a 充电宝 (10 points, 2 per
    rider) with 3 in stock at the first; the rider holds 20 points."""
    world = rules
    world.station = station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=world.community_staff,
    )  # fmt: skip
    world.station_a2 = station_create(
        name="甲二驿站", kind="rider_station", community=world.community_a2, lat=40.095,
        lng=113.33, actor=world.other_community_staff,
    )  # fmt: skip
    world.station_b = station_create(
        name="乙驿站", kind="rider_station", community=world.community_b1, lat=40.085,
        lng=113.31, actor=world.district_admin,
    )  # fmt: skip
    world.reward = reward_create(
        street=world.street_a, name="充电宝", cost=10, per_rider_limit=2,
        actor=world.street_admin,
    )  # fmt: skip
    stock_change(
        reward=world.reward, station=world.station, change=3, reason="首批到货",
        actor=world.community_staff,
    )  # fmt: skip
    points_award(
        member=world.rider.user, amount=20, reason="巡查", evidence="照片",
        actor=world.community_staff, idempotency_key="shop-seed-award",
    )  # fmt: skip
    world.now = timezone.now()
    world.later = world.now + timedelta(days=30)
    return world
