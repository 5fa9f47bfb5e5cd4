"""The points shop under concurrent requests, on PostgreSQL: stock and points are never
oversold, a key takes effect once, and the ledger still reconciles.

Each test starts real threads, each with its own database connection, and releases them
together with a barrier (``run_together``) so their transactions overlap.
"""

import pytest
from django.db.models import Sum

from tests.people.test_concurrency import run_together
from tests.world import make_rider
from yizhan.core.errors import ApplicationError
from yizhan.core.models import IdempotencyRecord
from yizhan.points.choices import PostingKind
from yizhan.points.models import Posting
from yizhan.points.selectors import balance_of
from yizhan.points.services import points_award, points_reconcile
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import Redemption, Stock, StockChange
from yizhan.rewards.services import (
    redemption_cancel,
    redemption_fulfil,
    redemption_reserve,
    reward_create,
    stock_change,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def reserve(user, reward, station, key):
    return lambda: redemption_reserve(
        user=user, reward=reward, station=station, idempotency_key=key
    )


def stock_of(reward, station):
    row = Stock.objects.get(reward=reward, station=station)
    stocked = StockChange.objects.filter(stock=row).aggregate(n=Sum("change"))["n"]
    assert stocked == row.available + row.held + row.handed_out  # conserved
    return row.available, row.held, row.handed_out


def codes(results):
    """What each thread got: 'ok' for a redemption, else the error's code; anything else
    (a deadlock, a 500) fails the test."""
    out = []
    for result in results:
        if isinstance(result, Redemption):
            out.append("ok")
        elif isinstance(result, ApplicationError):
            out.append(result.code)
        else:
            raise AssertionError(f"unexpected result: {result!r}")
    return out


def give(world, user, amount, key):
    points_award(
        member=user, amount=amount, reason="开业", evidence="名单",
        actor=world.community_staff, idempotency_key=key,
    )  # fmt: skip


def test_fifty_riders_racing_for_the_last_three_items_get_exactly_three(shop):
    # One item was reserved and picked up before, so the street's hold account exists; then a
    # restock leaves exactly three on the shelf.
    first = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station,
        idempotency_key="race-warmup-1",
    )  # fmt: skip
    redemption_fulfil(station=shop.station, code=first.pickup_code, actor=shop.community_staff)
    stock_change(
        reward=shop.reward, station=shop.station, change=1, reason="补货",
        actor=shop.community_staff,
    )  # fmt: skip
    assert stock_of(shop.reward, shop.station) == (3, 0, 1)
    riders = []
    for i in range(50):
        rider = make_rider(
            shop.community_a1, f"1370000{i:04d}", f"骑手{i}", lat=40.095, lng=113.305,
            verify_by=shop.community_staff,
        )  # fmt: skip
        give(shop, rider.user, 10, f"race-seed-{i:04d}")  # exactly one item's worth
        riders.append(rider.user)
    results = run_together(
        *(reserve(u, shop.reward, shop.station, f"race-key-{i:04d}") for i, u in enumerate(riders))
    )
    got = codes(results)
    assert got.count("ok") == 3
    assert got.count("out_of_stock") == 47
    refusal = next(r for r in results if isinstance(r, ApplicationError))
    assert refusal.status == 409 and "充电宝" in str(refusal)
    assert stock_of(shop.reward, shop.station) == (0, 3, 1)
    winners = {r.user_id for r in results if isinstance(r, Redemption)}
    assert len(winners) == 3
    for user in riders:
        assert balance_of(user) == (0 if user.pk in winners else 10)
    held = Redemption.objects.filter(status=RedemptionStatus.HELD)
    assert set(held.values_list("user", flat=True)) == winners
    assert Posting.objects.filter(kind=PostingKind.HOLD).count() == 4  # warm-up + 3
    # Only the winners' keys were kept; the refused ones can be tried again.
    assert IdempotencyRecord.objects.filter(scope="rewards.reserve").count() == 4
    assert points_reconcile().ok


@pytest.mark.parametrize("two_rewards", [False, True], ids=["same-reward", "two-rewards"])
def test_two_reservations_the_balance_covers_once_one_wins(shop, two_rewards):
    """The rider holds 20; each reservation costs 15 (one reward twice, or two rewards at two
    stations, so only the balance is shared)."""
    dear = reward_create(street=shop.street_a, name="雨衣", cost=15, actor=shop.street_admin)
    other = dear
    if two_rewards:
        other = reward_create(street=shop.street_a, name="头盔", cost=15, actor=shop.street_admin)
    for reward, station in {(dear, shop.station), (other, shop.station_a2)}:
        stock_change(
            reward=reward, station=station, change=5, reason="到货", actor=shop.street_admin
        )
    user = shop.rider.user
    results = run_together(
        reserve(user, dear, shop.station, "double-spend-1"),
        reserve(user, other, shop.station_a2, "double-spend-2"),
    )
    assert sorted(codes(results)) == ["insufficient_points", "ok"]
    assert balance_of(user) == 5
    won = next(r for r in results if isinstance(r, Redemption))
    lost_station = shop.station_a2 if won.station_id == shop.station.pk else shop.station
    lost_reward = other if won.reward_id == dear.pk else dear
    assert stock_of(won.reward, won.station) == (4, 1, 0)
    if two_rewards:
        assert stock_of(lost_reward, lost_station) == (5, 0, 0)
    assert Redemption.objects.count() == 1
    assert points_reconcile().ok


def test_the_same_reservation_retried_from_eight_threads_is_made_once(shop):
    user = shop.rider.user
    results = run_together(
        *(reserve(user, shop.reward, shop.station, "one-key-8x") for _ in "x" * 8)
    )
    assert codes(results) == ["ok"] * 8
    assert len({r.pk for r in results}) == 1
    assert Redemption.objects.count() == 1
    assert balance_of(user) == 10  # charged once
    assert stock_of(shop.reward, shop.station) == (2, 1, 0)
    assert Posting.objects.filter(kind=PostingKind.HOLD).count() == 1
    assert IdempotencyRecord.objects.filter(scope="rewards.reserve", key="one-key-8x").count() == 1
    assert points_reconcile().ok


def test_four_taps_past_the_per_rider_limit_reserve_only_up_to_it(shop):
    """充电宝 allows 2 per rider; the rider has points for 4 and taps four times at once."""
    user = shop.rider.user
    give(shop, user, 20, "limit-race-seed")
    results = run_together(
        *(reserve(user, shop.reward, shop.station, f"limit-race-{i}") for i in range(4))
    )
    assert sorted(codes(results)) == ["limit_reached", "limit_reached", "ok", "ok"]
    assert balance_of(user) == 20
    assert stock_of(shop.reward, shop.station) == (1, 2, 0)
    assert points_reconcile().ok


def test_a_cancel_and_a_pickup_at_once_close_the_reservation_once(shop):
    redemption = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station,
        idempotency_key="close-race-1",
    )  # fmt: skip
    results = run_together(
        lambda: redemption_cancel(redemption=redemption, actor=shop.rider.user),
        lambda: redemption_fulfil(
            station=shop.station, code=redemption.pickup_code, actor=shop.community_staff
        ),
    )
    got = codes(results)
    assert got.count("ok") == 1
    assert set(got) - {"ok"} <= {"already_closed", "code_used"}
    redemption.refresh_from_db()
    if redemption.status == RedemptionStatus.CANCELLED:
        assert balance_of(shop.rider.user) == 20
        assert stock_of(shop.reward, shop.station) == (3, 0, 0)
    else:
        assert redemption.status == RedemptionStatus.FULFILLED
        assert balance_of(shop.rider.user) == 10
        assert stock_of(shop.reward, shop.station) == (2, 0, 1)
    closing = Posting.objects.filter(kind__in=[PostingKind.SETTLE, PostingKind.RELEASE])
    assert closing.count() == 1
    assert points_reconcile().ok
