"""Rules of the points and rewards services found while building the API (each was a bug):
nobody awards themselves, a pickup does not change the rider's balance twice, a window's
season matches its kind, settings belong to a street, and reading writes nothing."""

import pytest

from tests.api.helpers import call, client_for
from tests.world import make_rider
from yizhan.core.errors import ApplicationError
from yizhan.points.models import PointsSettings, Posting
from yizhan.points.selectors import balance_of, history_of
from yizhan.points.services import (
    earning_rule_set,
    points_award,
    points_earn,
    points_settings_update,
)
from yizhan.rewards.services import (
    redemption_fulfil,
    redemption_reserve,
    reward_create,
    stock_change,
    window_create,
)
from yizhan.stations.services import station_create


def test_staff_cannot_award_points_to_themselves(world):
    staff = client_for(world.community_staff)
    body = {
        "member_id": world.community_staff.pk,
        "amount": 20,
        "reason": "值班",
        "evidence": "自述",
    }
    response = call(
        staff, "POST", "/api/v1/points/awards", body, headers={"Idempotency-Key": "self-award-01"}
    )
    # Today: 201, status "approved", decided_by the same person — below the threshold the
    # maker is also the checker. Staff accounts are not members (docs/points.md: "one per
    # rider or volunteer"), and nobody should approve their own points.
    assert response.status_code == 403
    assert balance_of(world.community_staff) == 0


def test_a_members_history_adds_up_to_their_balance_after_a_pickup(world):
    earning_rule_set(
        street=world.street_a, activity="duty_hour", points=5, actor=world.street_admin
    )
    station = station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=world.community_staff,
    )  # fmt: skip
    reward = reward_create(street=world.street_a, name="雨衣", cost=10, actor=world.street_admin)
    stock_change(reward=reward, station=station, change=1, reason="到货", actor=world.street_admin)
    points_award(
        member=world.rider.user, amount=20, reason="巡查", evidence="照片",
        actor=world.community_staff, idempotency_key="finding-seed-1",
    )  # fmt: skip
    held = redemption_reserve(
        user=world.rider.user, reward=reward, station=station, idempotency_key="finding-res-1"
    )
    redemption_fulfil(station=station, code=held.pickup_code, actor=world.community_staff)
    amounts = {p.kind: p.signed_amount for p in history_of(world.rider.user)}
    # The hold took the 10 points from the member; the pickup moves them from the street's hold
    # account to its redemption account, neither of which is the member's: the member sees
    # 20 - 10 = 10, but the history reads +20, -10, -10.
    assert balance_of(world.rider.user) == 10
    assert sum(p.signed_amount for p in history_of(world.rider.user)) == 10
    assert amounts["settle"] == 0


@pytest.mark.parametrize("season", ["bogus", "y2026", "m2026-13"])
def test_a_window_season_must_match_its_kind(world, season):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    # A month window keyed "y2026" ranks by the year; "bogus" admits nobody, so the shop is
    # closed to everyone for the window's length.
    with pytest.raises(ApplicationError) as exc:
        window_create(
            street=world.street_a, name="首兑", top_n=5, season_kind="month", season=season,
            opens_at=now, closes_at=now + timedelta(days=1), actor=world.street_admin,
        )  # fmt: skip
    assert exc.value.status == 400


def test_points_settings_belong_to_a_street(world):
    before = PointsSettings.objects.count()
    with pytest.raises(ApplicationError):
        points_settings_update(
            street=world.community_a1, actor=world.street_admin, approval_threshold=50
        )
    assert PointsSettings.objects.count() == before


def test_reading_my_points_writes_nothing(world):
    # A street-B rider paid by an earning rule: no award, so no settings row exists yet.
    earning_rule_set(
        street=world.street_b, activity="duty_hour", points=5, actor=world.district_admin
    )
    rider = make_rider(
        world.community_b1, "13600000088", "周八", lat=40.085, lng=113.31,
        verify_by=world.district_admin,
    )  # fmt: skip
    points_earn(
        member=rider.user, activity="duty_hour", reason="值班", actor=world.district_admin,
        idempotency_key="finding-earn-1",
    )  # fmt: skip
    before = (PointsSettings.objects.count(), Posting.objects.count())
    response = call(client_for(rider.user), "GET", "/api/v1/points/me")
    assert response.status_code == 200 and response.json()["balance"] == 5
    # expiring_soon() calls services.points_settings(), which opens the street's settings
    # row when there is none: a GET that writes (and, on a read-only replica, fails).
    assert (PointsSettings.objects.count(), Posting.objects.count()) == before
