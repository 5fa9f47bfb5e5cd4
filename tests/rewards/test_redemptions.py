"""The points shop: reserve → pick up, cancel, time out, and every refusal changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from yizhan.core.errors import ApplicationError
from yizhan.points.models import Posting
from yizhan.points.selectors import balance_of
from yizhan.points.services import points_reconcile
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import Redemption, Stock
from yizhan.rewards.services import (
    redemption_cancel,
    redemption_fulfil,
    redemption_reserve,
    redemptions_expire,
    reward_update,
    stock_change,
    window_create,
)


def reserve(shop, key, user=None, station=None, reward=None):
    return redemption_reserve(
        user=user or shop.rider.user,
        reward=reward or shop.reward,
        station=station or shop.station,
        idempotency_key=key,
    )


def stock(shop):
    row = Stock.objects.get(reward=shop.reward, station=shop.station)
    return (row.available, row.held, row.handed_out)


def state(shop):
    return (
        balance_of(shop.rider.user),
        stock(shop),
        Redemption.objects.count(),
        Posting.objects.count(),
    )


def test_reserve_holds_points_and_stock_and_pickup_spends_them(shop):
    redemption = reserve(shop, "reserve-key-1")
    assert redemption.status == RedemptionStatus.HELD
    assert len(redemption.pickup_code) == 6 and redemption.pickup_code.isdigit()
    assert balance_of(shop.rider.user) == 10
    assert stock(shop) == (2, 1, 0)
    done = redemption_fulfil(
        station=shop.station, code=redemption.pickup_code, actor=shop.community_staff
    )
    assert done.status == RedemptionStatus.FULFILLED and done.closed_by == shop.community_staff
    assert stock(shop) == (2, 0, 1)
    assert balance_of(shop.rider.user) == 10
    assert points_reconcile().ok
    with pytest.raises(ApplicationError) as exc:
        redemption_fulfil(
            station=shop.station, code=redemption.pickup_code, actor=shop.community_staff
        )
    assert exc.value.code == "code_used"


def test_the_qr_payload_works_like_the_code(shop):
    redemption = reserve(shop, "reserve-key-qr")
    done = redemption_fulfil(
        station=shop.station, code=redemption.qr_payload, actor=shop.community_staff
    )
    assert done.status == RedemptionStatus.FULFILLED


def test_a_retry_with_the_same_key_reserves_once(shop):
    first = reserve(shop, "reserve-retry-1")
    again = reserve(shop, "reserve-retry-1")
    assert again.pk == first.pk
    assert balance_of(shop.rider.user) == 10 and stock(shop) == (2, 1, 0)
    before = state(shop)
    with pytest.raises(ApplicationError) as exc:
        reserve(shop, "reserve-retry-1", station=shop.station_a2)
    assert exc.value.code == "idempotency_key_reused"
    assert state(shop) == before


def test_cancel_and_timeout_give_points_and_stock_back(shop):
    first = reserve(shop, "reserve-cancel-1")
    redemption_cancel(redemption=first, actor=shop.rider.user)
    assert balance_of(shop.rider.user) == 20 and stock(shop) == (3, 0, 0)
    second = reserve(shop, "reserve-timeout-1")
    assert redemptions_expire(now=second.expires_at - timedelta(seconds=1)) == 0
    assert redemptions_expire(now=second.expires_at) == 1
    assert redemptions_expire(now=second.expires_at) == 0
    second.refresh_from_db()
    assert second.status == RedemptionStatus.EXPIRED
    assert balance_of(shop.rider.user) == 20 and stock(shop) == (3, 0, 0)
    with pytest.raises(ApplicationError) as exc:
        redemption_cancel(redemption=second, actor=shop.rider.user)
    assert exc.value.code == "already_closed"
    assert points_reconcile().ok


def test_an_expired_code_is_refused_at_the_counter(shop, monkeypatch):
    redemption = reserve(shop, "reserve-late-1")
    Redemption.objects.filter(pk=redemption.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    before = state(shop)
    with pytest.raises(ApplicationError) as exc:
        redemption_fulfil(
            station=shop.station, code=redemption.pickup_code, actor=shop.community_staff
        )
    assert exc.value.code == "code_expired"
    assert state(shop) == before


def test_refusals_change_nothing(shop):
    before = state(shop)
    for key, kwargs, code in [
        ("other-street", {"station": shop.station_b}, "other_street"),
        ("out-of-stock", {"station": shop.station_a2}, "out_of_stock"),
    ]:
        with pytest.raises(ApplicationError) as exc:
            reserve(shop, key, **kwargs)
        assert exc.value.code == code, key
        assert state(shop) == before, key
    # Per-rider limit of 2: the third is refused.
    reserve(shop, "limit-key-1")
    reserve(shop, "limit-key-2")
    before = state(shop)
    with pytest.raises(ApplicationError) as exc:
        reserve(shop, "limit-key-3")
    assert exc.value.code == "limit_reached"
    assert state(shop) == before


def test_not_enough_points_or_not_on_offer(shop):
    reward_update(reward=shop.reward, actor=shop.street_admin, cost=25)
    before = state(shop)
    with pytest.raises(ApplicationError) as exc:
        reserve(shop, "too-dear-key")
    assert exc.value.code == "insufficient_points" and state(shop) == before
    reward_update(reward=shop.reward, actor=shop.street_admin, cost=5, is_active=False)
    with pytest.raises(ApplicationError) as exc:
        reserve(shop, "inactive-key")
    assert exc.value.code == "unavailable" and state(shop) == before
    reward_update(
        reward=shop.reward, actor=shop.street_admin, is_active=True,
        available_from=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(ApplicationError) as exc:
        reserve(shop, "not-yet-key")
    assert exc.value.code == "not_yet_available" and state(shop) == before


def test_codes_from_another_station_and_unknown_codes(shop):
    stock_change(
        reward=shop.reward, station=shop.station_a2, change=1, reason="调拨",
        actor=shop.other_community_staff,
    )  # fmt: skip
    redemption = reserve(shop, "a2-reserve", station=shop.station_a2)
    with pytest.raises(ApplicationError) as exc:
        redemption_fulfil(
            station=shop.station, code=redemption.pickup_code, actor=shop.community_staff
        )
    assert exc.value.code == "other_station"
    for bad in ("12345", "abcdef", "", None, "YZR-1-1234"):
        with pytest.raises(ApplicationError) as exc:
            redemption_fulfil(station=shop.station, code=bad, actor=shop.community_staff)
        assert exc.value.code == "invalid_code"
    with pytest.raises(ApplicationError) as exc:
        redemption_fulfil(
            station=shop.station_a2, code=redemption.pickup_code, actor=shop.community_staff
        )
    assert exc.value.status == 403  # staff of another community cannot hand out there
    assert Redemption.objects.get(pk=redemption.pk).status == RedemptionStatus.HELD


def test_stock_cannot_go_below_what_is_reserved(shop):
    reserve(shop, "stock-guard-1")
    with pytest.raises(ApplicationError) as exc:
        stock_change(
            reward=shop.reward, station=shop.station, change=-3, reason="盘点",
            actor=shop.community_staff,
        )  # fmt: skip
    assert exc.value.code == "not_enough_stock" and stock(shop) == (2, 1, 0)


def test_a_priority_window_admits_only_the_top_n(shop):
    from yizhan.points.services import points_award

    # The other rider of street A earns more: they are first, our rider second.
    points_award(
        member=shop.other_rider.user, amount=20, reason="调解", evidence="记录",
        actor=shop.other_community_staff, idempotency_key="window-seed",
    )  # fmt: skip
    points_award(
        member=shop.other_rider.user, amount=5, reason="调解", evidence="记录",
        actor=shop.other_community_staff, idempotency_key="window-seed-2",
    )  # fmt: skip
    window_create(
        street=shop.street_a, name="首次兑换", top_n=1, season_kind="month",
        opens_at=shop.now - timedelta(hours=1), closes_at=shop.now + timedelta(days=1),
        actor=shop.street_admin,
    )  # fmt: skip
    before = state(shop)
    with pytest.raises(ApplicationError) as exc:
        reserve(shop, "window-key-1")
    assert (exc.value.status, exc.value.code) == (403, "priority_window")
    assert state(shop) == before
    window_create(
        street=shop.street_a, name="前两名", top_n=2, season_kind="month",
        opens_at=shop.now - timedelta(hours=1), closes_at=shop.now + timedelta(days=1),
        actor=shop.street_admin,
    )  # fmt: skip
    assert reserve(shop, "window-key-2").status == RedemptionStatus.HELD
