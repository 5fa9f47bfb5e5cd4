"""The ledger under concurrent requests, on PostgreSQL: a key pays once, a decision is made
once, caps hold, a posting is reversed once, expiry and spending do not both take the same
points, and everything still reconciles.

Each test starts real threads, each with its own database connection, and releases them
together with a barrier (``run_together``) so their transactions overlap.
"""

import threading
import time
from collections import Counter
from datetime import date

import pytest
from django.db import connection, transaction

from tests.people.test_concurrency import run_together
from tests.world import make_rider
from yizhan.core.errors import ApplicationError
from yizhan.core.models import IdempotencyRecord
from yizhan.points.choices import AwardStatus, PostingKind
from yizhan.points.models import EarningRecord, ManualAward, Posting, ScoreBucket, SeasonScore
from yizhan.points.selectors import balance_of
from yizhan.points.services import (
    points_award,
    points_award_approve,
    points_earn,
    points_expire_due,
    points_hold,
    points_reconcile,
    points_reverse,
    points_settings_update,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def award(world, amount, key, actor=None):
    return lambda: points_award(
        member=world.rider.user, amount=amount, reason="帮助走失老人回家", evidence="感谢信",
        actor=actor or world.community_staff, idempotency_key=key,
    )  # fmt: skip


def earn(world, key):
    return lambda: points_earn(
        member=world.rider.user, activity="report_verified", reason="楼道堆物已清理",
        actor=world.community_staff, idempotency_key=key,
    )  # fmt: skip


def errors(results):
    """The error codes the threads got; anything but a result or an ApplicationError fails."""
    for result in results:
        assert not isinstance(result, Exception) or isinstance(result, ApplicationError), result
    return sorted(r.code for r in results if isinstance(r, ApplicationError))


@pytest.mark.parametrize("amount", [15, 50], ids=["paid-at-once", "pending"])
def test_the_same_award_key_from_eight_threads_takes_effect_once(rules, amount):
    results = run_together(*(award(rules, amount, "award-8x") for _ in range(8)))
    assert errors(results) == []
    assert len({r.pk for r in results}) == 1
    assert ManualAward.objects.count() == 1
    assert IdempotencyRecord.objects.filter(scope="points.award", key="award-8x").count() == 1
    if amount <= 20:
        assert results[0].status == AwardStatus.APPROVED
        assert balance_of(rules.rider.user) == amount  # paid once
        assert Posting.objects.filter(kind=PostingKind.AWARD).count() == 1
    else:
        assert results[0].status == AwardStatus.PENDING
        assert balance_of(rules.rider.user) == 0 and not Posting.objects.exists()
    assert points_reconcile().ok


def test_the_same_earning_key_from_eight_threads_pays_once(rules):
    results = run_together(*(earn(rules, "earn-key-8x") for _ in range(8)))
    assert errors(results) == []
    assert len({r.pk for r in results}) == 1
    assert EarningRecord.objects.count() == 1
    assert balance_of(rules.rider.user) == 5
    assert points_reconcile().ok


def test_earnings_racing_past_the_daily_cap_pay_only_up_to_it(rules):
    """5 points a report, 10 a day: eight reports verified at once pay two of them."""
    results = run_together(*(earn(rules, f"cap-race-{i}") for i in range(8)))
    assert errors(results) == []
    assert sorted(r.paid for r in results) == [0] * 6 + [5, 5]
    assert sum(r.capped for r in results) == 30
    assert balance_of(rules.rider.user) == 10
    assert Posting.objects.filter(kind=PostingKind.AWARD).count() == 2
    assert points_reconcile().ok


def test_two_staff_approving_one_large_award_at_once_pay_it_once(rules):
    large = award(rules, 50, "approve-race-1")()
    results = run_together(
        lambda: points_award_approve(award=large, actor=rules.street_admin),
        lambda: points_award_approve(award=large, actor=rules.district_admin),
    )
    assert errors(results) == ["already_decided"]
    assert balance_of(rules.rider.user) == 50
    assert Posting.objects.filter(kind=PostingKind.AWARD).count() == 1
    assert points_reconcile().ok


def run_past_a_lock(account, *jobs):
    """Run the jobs in their own threads while this thread holds ``account``'s row lock;
    release it only once every job waits on a lock, so all of them have made their checks
    before any of them writes (a fixed interleaving, not a lucky one)."""
    results: list = [None] * len(jobs)

    def worker(index, job):
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM points_pointsaccount WHERE id = %s FOR UPDATE", [account.pk])
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while True:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= len(jobs):
                break
            assert time.monotonic() < deadline, "the jobs never reached the lock"
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("spare", [20, 0], ids=["balance-covers-both", "balance-covers-one"])
def test_two_reversals_of_one_posting_at_once_reverse_it_once(rules, spare):
    """Both staff tap "reverse" on the same 5-point earning; the rider holds ``spare`` more.
    Both have passed every check made before the member's lock when the lock is released: the
    second must still find the posting reversed (not a shortage of points, when ``spare`` is
    0: the answer the service gave while it checked before locking)."""
    if spare:
        award(rules, spare, "reverse-race-spare")()
    posting = earn(rules, "reverse-race-earn")().posting

    def reverse(key):
        return lambda: points_reverse(
            posting=posting, actor=rules.community_staff, reason="重复上报", idempotency_key=key
        )

    results = run_past_a_lock(posting.member, reverse("reverse-race-1"), reverse("reverse-race-2"))
    assert Posting.objects.filter(kind=PostingKind.REVERSAL).count() == 1
    assert balance_of(rules.rider.user) == spare
    assert points_reconcile().ok
    assert errors(results) == ["not_reversible"]


def test_two_expiry_runs_at_once_expire_once(rules):
    points_settings_update(street=rules.street_a, actor=rules.street_admin, expiry_enabled=True)
    award(rules, 20, "expiry-twice-seed")()
    far = date(2031, 1, 1)
    results = run_together(*(lambda: points_expire_due(today=far) for _ in range(4)))
    assert errors(results) == []
    assert sorted(len(r.postings) for r in results) == [0, 0, 0, 1]
    assert Posting.objects.filter(kind=PostingKind.EXPIRY).count() == 1
    assert balance_of(rules.rider.user) == 0
    assert points_reconcile().ok


def test_eight_riders_earning_the_same_score_at_once_keep_the_buckets_right(rules):
    """Every award moves 16 season scores and their buckets; eight riders reaching the same
    score at once all update (and first create) the same bucket rows."""
    riders = [
        make_rider(
            rules.community_a1, f"1360000{i:04d}", f"同分{i}", lat=40.095, lng=113.305,
            verify_by=rules.community_staff,
        ).user
        for i in range(8)
    ]  # fmt: skip
    results = run_together(
        *(
            lambda u=u, i=i: points_earn(
                member=u, activity="report_verified", reason="楼道堆物已清理",
                actor=rules.community_staff, idempotency_key=f"bucket-race-{i}",
            )
            for i, u in enumerate(riders)
        )
    )  # fmt: skip
    assert errors(results) == []
    held = Counter(
        SeasonScore.objects.filter(points__gt=0).values_list("season", "area_code", "points")
    )
    buckets = Counter(
        {
            (s, a, p): n
            for s, a, p, n in ScoreBucket.objects.values_list(
                "season", "area_code", "points", "members"
            )
            if n
        }
    )
    assert buckets == held
    assert buckets[("all", rules.district.code, 5)] == 8
    assert points_reconcile().ok


def test_expiry_and_spending_at_once_never_take_the_same_points(rules):
    """The rider holds 20 earned this year; an expiry run (far ahead) and a 15-point hold race.
    Either the hold goes first and 5 expire, or all 20 expire and the hold is refused."""
    points_settings_update(street=rules.street_a, actor=rules.street_admin, expiry_enabled=True)
    award(rules, 20, "expiry-race-seed")()

    @transaction.atomic
    def hold():
        return points_hold(
            user=rules.rider.user, amount=15, reason="充电宝", key="hold:expiry-race", actor=None
        )

    results = run_together(lambda: points_expire_due(today=date(2031, 1, 1)), hold)
    expired = [p.amount for p in results[0].postings]
    if isinstance(results[1], ApplicationError):
        assert results[1].code == "insufficient_points" and expired == [20]
    else:
        assert results[1].kind == PostingKind.HOLD and expired == [5]
    assert balance_of(rules.rider.user) == 0
    assert points_reconcile().ok
