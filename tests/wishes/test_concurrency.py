"""Claims and confirmations racing on PostgreSQL: one claimer wins, points are paid once."""

import pytest

from tests.people.test_concurrency import run_together
from tests.wishes import builders as b
from tests.world import build_world
from yizhan.core.errors import ApplicationError
from yizhan.points.models import EarningRecord, Posting
from yizhan.wishes import services
from yizhan.wishes.choices import ClaimStatus, PointsStatus, WishStatus
from yizhan.wishes.models import Wish, WishClaim

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def outcome(result):
    if isinstance(result, WishClaim):
        return "ok"
    if isinstance(result, Wish):
        return "ok"
    if isinstance(result, ApplicationError):
        return result.status
    raise AssertionError(f"unexpected result: {result!r}")


def test_two_claimers_racing_for_one_wish_one_wins_the_other_gets_409():
    world = build_world()
    wish = b.published(world)
    volunteer = b.volunteer(world)
    results = run_together(
        lambda: services.wish_claim(wish=wish, actor=volunteer),
        lambda: services.wish_claim(wish=wish, actor=world.merchant),
    )
    assert sorted(map(outcome, results), key=str) == [409, "ok"]
    assert WishClaim.objects.filter(status=ClaimStatus.ACTIVE).count() == 1
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.CLAIMED


def test_five_claimers_at_once_leave_one_claim():
    world = build_world()
    wish = b.published(world)
    helpers = [b.volunteer(world, f"volunteer_{n:02d}") for n in range(5)]
    results = run_together(*[lambda h=h: services.wish_claim(wish=wish, actor=h) for h in helpers])
    assert sorted(map(outcome, results), key=str).count("ok") == 1
    assert WishClaim.objects.count() == 1


def test_rider_and_staff_confirming_at_once_pay_once():
    world = build_world()
    b.pay_rule(world, points=8)
    volunteer = b.volunteer(world)
    wish = b.timed_out(world, volunteer)
    results = run_together(
        lambda: services.wish_confirm(wish=wish, actor=world.rider.user),
        lambda: services.wish_confirm(wish=wish, actor=world.community_staff),
    )
    assert sorted(map(outcome, results), key=str) == [409, "ok"]
    wish.refresh_from_db()
    assert wish.status == WishStatus.CONFIRMED and wish.points_status == PointsStatus.PAID
    assert EarningRecord.objects.count() == 1 and Posting.objects.count() == 1
