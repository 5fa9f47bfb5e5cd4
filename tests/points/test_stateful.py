"""The ledger and the shop as a state machine, checked against a plain-Python model.

Hypothesis drives random sequences of awards (paid at once, or pending a second approval, then
approved, turned down or self-approved), earnings under a daily cap that changes, reservations
by any rider of any reward at any station, cancellations, pickups (by code or QR, at the right
or the wrong station), hold timeouts, restocks, reversals (of awards and expiries, and twice),
expiry runs, and retries of earlier requests with the same key (the same payload: the same
object back, nothing changed; another payload: 409, nothing changed). Every refusal must leave
the database exactly as it was. After every step the invariants of docs/points.md hold against
the database *and* the model: two legs per posting summing to zero, cached balance = sum of
entries = the model's, nothing negative, stock conserved, one idempotency record per key used,
season scores and their buckets agree, and ``points_reconcile()`` is clean. On PostgreSQL each
step also fires the deferred balance triggers (``SET CONSTRAINTS ALL IMMEDIATE``).

The small world is built once per test; each example runs in a savepoint that is rolled back,
with the clock fixed in the middle of a day (so the daily cap is deterministic).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.world import PASSWORD, World, build_world, make_rider
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry, IdempotencyRecord
from yizhan.core.roles import Role
from yizhan.people.services import account_create
from yizhan.points.checks import scores_check
from yizhan.points.choices import AccountKind, AwardStatus, PostingKind
from yizhan.points.models import (
    EarningRecord,
    Entry,
    ManualAward,
    PointsAccount,
    Posting,
    ScoreBucket,
    SeasonScore,
)
from yizhan.points.services import (
    earning_rule_set,
    points_award,
    points_award_approve,
    points_award_reject,
    points_earn,
    points_expire_due,
    points_reconcile,
    points_reverse,
    points_settings_update,
)
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import Redemption, Reward, Stock, StockChange
from yizhan.rewards.services import (
    redemption_cancel,
    redemption_fulfil,
    redemption_reserve,
    redemptions_expire,
    reward_create,
    stock_change,
)
from yizhan.stations.services import station_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)  # a Monday morning; steps add seconds
FAR_AHEAD = date(2031, 1, 1)  # every point earned in 2026 has expired by then
EARN_POINTS = 5  # street A pays this per verified report; street B has no rule
THRESHOLD = 20  # the default second-approval threshold
SEED = 2 * THRESHOLD  # each rider starts with two awards paid at once


@dataclass
class Shop:
    world: World
    admins: list  # two district admins: one asks, the other approves
    riders: list  # users: rider (street A), other_rider (street A), rider_b (street B)
    stations: list
    rewards: list


def build_shop() -> Shop:
    """The test world plus a second district admin, a rider in street B, three stations, four
    rewards (two in each street; 毛巾 has no stock until restocked) and their stock, all
    through the services."""
    world = build_world()
    admin = world.district_admin
    second = account_create(
        username="admin_d2", name="admin_d2", role=Role.ADMIN, area=world.district,
        password=PASSWORD,
    )  # fmt: skip
    rider_b = make_rider(
        world.community_b1, "13600000099", "钱乙", lat=40.085, lng=113.31, verify_by=admin
    )
    earning_rule_set(
        street=world.street_a, activity="report_verified", points=EARN_POINTS, actor=admin
    )
    stations = [
        station_create(
            name="甲一驿站", kind="rider_station", community=world.community_a1, lat=40.095,
            lng=113.305, actor=admin,
        ),
        station_create(
            name="甲二驿站", kind="rider_station", community=world.community_a2, lat=40.095,
            lng=113.33, actor=admin,
        ),
        station_create(
            name="乙驿站", kind="rider_station", community=world.community_b1, lat=40.085,
            lng=113.31, actor=admin,
        ),
    ]  # fmt: skip
    rewards = [
        reward_create(
            street=world.street_a, name="充电宝", cost=10, per_rider_limit=2, pickup_hours=24,
            actor=admin,
        ),
        reward_create(street=world.street_a, name="雨衣", cost=25, pickup_hours=72, actor=admin),
        reward_create(street=world.street_b, name="水杯", cost=5, pickup_hours=48, actor=admin),
        reward_create(street=world.street_b, name="毛巾", cost=8, pickup_hours=1, actor=admin),
    ]  # fmt: skip
    for reward, station, n in [
        (rewards[0], stations[0], 3),
        (rewards[0], stations[1], 1),
        (rewards[1], stations[0], 2),
        (rewards[2], stations[2], 2),
    ]:
        stock_change(reward=reward, station=station, change=n, reason="首批到货", actor=admin)
    riders = [world.rider.user, world.other_rider.user, rider_b.user]
    for i, rider in enumerate(riders):  # SEED points each to start with
        for j in range(SEED // THRESHOLD):
            points_award(
                member=rider, amount=THRESHOLD, reason="开业", evidence="名单", actor=admin,
                idempotency_key=f"seed-award-{i}-{j}",
            )  # fmt: skip
    return Shop(
        world=world,
        admins=[admin, second],
        riders=riders,
        stations=stations,
        rewards=rewards,
    )


def street_code(obj: Any) -> str:
    return obj.area_code[:9]


def snapshot() -> tuple:
    """Everything a refused or repeated request must leave as it was."""
    return (
        list(Posting.objects.order_by("pk").values_list("pk", flat=True)),
        Entry.objects.count(),
        sorted(PointsAccount.objects.values_list("pk", "kind", "balance")),
        sorted(Stock.objects.values_list("pk", "available", "held", "handed_out")),
        StockChange.objects.count(),
        sorted(Redemption.objects.values_list("pk", "status")),
        sorted(ManualAward.objects.values_list("pk", "status")),
        EarningRecord.objects.count(),
        sorted(IdempotencyRecord.objects.values_list("scope", "key", "result_id")),
        sorted(SeasonScore.objects.values_list("season", "area_code", "member", "points")),
        sorted(ScoreBucket.objects.values_list("season", "area_code", "points", "members")),
        AuditEntry.objects.count(),
    )


@dataclass
class Held:
    """The model's view of a redemption."""

    user: Any
    reward: Reward
    station: Any
    cost: int
    code: str
    qr: str
    expires_at: datetime
    status: str = RedemptionStatus.HELD


@dataclass
class Call:
    """A request that succeeded, to be repeated: ``again`` is the same, ``changed`` is the same
    key with another payload."""

    again: Any
    changed: Any
    pk: int


class LedgerMachine(RuleBasedStateMachine):
    shop: ClassVar[Shop]

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.clock = START
        self.patch = mock.patch.object(timezone, "now", lambda: self.clock)
        self.patch.start()
        shop = self.shop
        self.keys = itertools.count()
        self.records_before = set(IdempotencyRecord.objects.values_list("scope", "key"))
        # The model.
        self.balance = {u.pk: SEED for u in shop.riders}  # the invariant checks the database
        self.score = dict(self.balance)
        self.paid_today = {u.pk: 0 for u in shop.riders}
        self.cap: int | None = None
        self.expiry_on = {street_code(shop.world.street_a): False, "440000002": False}
        self.expired: set[int] = set()
        self.stock = {
            (s.reward_id, s.station_id): [s.available, s.held, s.handed_out, s.available]
            for s in Stock.objects.all()
        }
        self.redemptions: dict[int, Held] = {}
        self.pending: dict[int, tuple[Any, int, Any]] = {}  # award pk → (user, amount, asker)
        self.reversible: dict[int, tuple[Any, int, str]] = {  # posting → (user, amount, kind)
            p.pk: (p.member.owner, p.amount, p.kind)
            for p in Posting.objects.select_related("member__owner")
        }
        self.reversed: set[int] = set()
        self.calls: dict[tuple[str, str], Call] = {}

    def teardown(self) -> None:
        self.patch.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.clock += timedelta(seconds=10)

    def key(self, what: str) -> str:
        return f"{what}-{next(self.keys):06d}"

    def refused(self, code: str, call, *, status: int | None = None) -> None:
        """``call`` must raise an ApplicationError with ``code`` and change nothing."""
        before = snapshot()
        with pytest.raises(ApplicationError) as exc:
            call()
        assert exc.value.code == code, (exc.value.code, str(exc.value))
        if status is not None:
            assert exc.value.status == status
        assert snapshot() == before

    def pick(self, items, i: int):
        items = sorted(items)
        return items[i % len(items)]

    def award_paid(self, user, amount: int, posting_id: int) -> None:
        self.balance[user.pk] += amount
        self.score[user.pk] += amount
        self.reversible[posting_id] = (user, amount, PostingKind.AWARD)

    # --- earning ----------------------------------------------------------------------------

    @rule(who=st.integers(0, 2), units=st.integers(1, 4))
    def earn(self, who, units):
        self.tick()
        user, actor = self.shop.riders[who], self.shop.admins[0]
        key = self.key("earn")

        def call(units=units, user=user):
            return points_earn(
                member=user, activity="report_verified", units=units, reason="楼道堆物已清理",
                actor=actor, idempotency_key=key,
            )  # fmt: skip

        if street_code(user) != "440000001":
            self.refused("no_rule", call)
            return
        requested = EARN_POINTS * units
        paid = requested
        if self.cap is not None:
            paid = min(paid, max(0, self.cap - self.paid_today[user.pk]))
        record = call()
        assert (record.requested, record.paid, record.capped) == (requested, paid, requested - paid)
        assert (record.posting_id is None) == (paid == 0)
        self.paid_today[user.pk] += paid
        if paid:
            self.award_paid(user, paid, record.posting_id)
        other = self.shop.riders[(who + 1) % 2]
        self.calls[("points.earn", key)] = Call(
            again=call, changed=lambda: call(units=units + 1) if who % 2 else call(user=other),
            pk=record.pk,
        )  # fmt: skip

    @rule(cap=st.none() | st.integers(1, 30))
    def set_daily_cap(self, cap):
        self.tick()
        earning_rule_set(
            street=self.shop.world.street_a, activity="report_verified", points=EARN_POINTS,
            daily_cap=cap, actor=self.shop.admins[0],
        )  # fmt: skip
        self.cap = cap

    # --- manual awards ----------------------------------------------------------------------

    @rule(who=st.integers(0, 2), amount=st.integers(1, 40), asker=st.integers(0, 1))
    def award(self, who, amount, asker):
        self.tick()
        user, actor = self.shop.riders[who], self.shop.admins[asker]
        key = self.key("award")

        def call(amount=amount):
            return points_award(
                member=user, amount=amount, reason="帮助走失老人回家", evidence="感谢信",
                actor=actor, idempotency_key=key,
            )  # fmt: skip

        award = call()
        if amount <= THRESHOLD:
            assert award.status == AwardStatus.APPROVED
            self.award_paid(user, amount, award.earning.posting_id)
        else:
            assert award.status == AwardStatus.PENDING
            self.pending[award.pk] = (user, amount, actor)
        self.calls[("points.award", key)] = Call(
            again=call, changed=lambda: call(amount=amount % 40 + 1), pk=award.pk
        )

    @precondition(lambda self: self.pending)
    @rule(i=st.integers(0, 99), own=st.booleans())
    def approve(self, i, own):
        self.tick()
        pk = self.pick(self.pending, i)
        user, amount, asker = self.pending[pk]
        award = ManualAward.objects.get(pk=pk)
        if own:
            self.refused("own_award", lambda: points_award_approve(award=award, actor=asker))
            return
        other = next(a for a in self.shop.admins if a.pk != asker.pk)
        done = points_award_approve(award=award, actor=other)
        assert done.status == AwardStatus.APPROVED
        assert done.earning.posting.approved_by_id == other.pk
        del self.pending[pk]
        self.award_paid(user, amount, done.earning.posting_id)

    @precondition(lambda self: self.pending)
    @rule(i=st.integers(0, 99))
    def reject(self, i):
        self.tick()
        pk = self.pick(self.pending, i)
        award = points_award_reject(
            award=ManualAward.objects.get(pk=pk), actor=self.shop.admins[0], note="证据不足"
        )
        assert award.status == AwardStatus.REJECTED
        del self.pending[pk]

    # --- reversal ---------------------------------------------------------------------------

    @precondition(lambda self: self.reversible)
    @rule(i=st.integers(0, 99))
    def reverse(self, i):
        self.tick()
        pk = self.pick(self.reversible, i)
        user, amount, kind = self.reversible[pk]
        key = self.key("reverse")
        posting = Posting.objects.get(pk=pk)

        def call(reason="重复上报"):
            return points_reverse(
                posting=posting, actor=self.shop.admins[1], reason=reason, idempotency_key=key
            )

        if kind == PostingKind.AWARD and self.balance[user.pk] < amount:
            self.refused("insufficient_points", call)  # already spent: nothing to take back
            return
        reversal = call()
        assert (reversal.kind, reversal.reverses_id, reversal.amount) == (
            PostingKind.REVERSAL,
            pk,
            amount,
        )
        if kind == PostingKind.AWARD:
            self.balance[user.pk] -= amount
            self.score[user.pk] -= amount
        else:
            self.balance[user.pk] += amount
        del self.reversible[pk]
        self.reversed.add(pk)
        self.calls[("points.reverse", key)] = Call(
            again=call, changed=lambda: call(reason="另一个理由"), pk=reversal.pk
        )

    @precondition(lambda self: self.reversed)
    @rule(i=st.integers(0, 99))
    def reverse_again(self, i):
        self.tick()
        posting = Posting.objects.get(pk=self.pick(self.reversed, i))
        self.refused(
            "not_reversible",
            lambda: points_reverse(
                posting=posting, actor=self.shop.admins[0], reason="再冲一次",
                idempotency_key=self.key("reverse"),
            ),
        )  # fmt: skip

    # --- expiry -----------------------------------------------------------------------------

    @rule(street=st.sampled_from(["440000001", "440000002"]), on=st.booleans())
    def switch_expiry(self, street, on):
        self.tick()
        world = self.shop.world
        area = world.street_a if street == world.street_a.code else world.street_b
        points_settings_update(street=area, actor=self.shop.admins[0], expiry_enabled=on)
        self.expiry_on[street] = on

    @rule()
    def expire(self):
        self.tick()
        run = points_expire_due(today=FAR_AHEAD)
        expected = Counter()
        for user in self.shop.riders:
            due = self.expiry_on[street_code(user)] and user.pk not in self.expired
            if due and self.balance[user.pk] > 0:
                expected[user.pk] = self.balance[user.pk]
        got = Counter()
        for posting in run.postings:
            got[posting.member.owner_id] += posting.amount
        assert got == expected
        assert all(p.kind == PostingKind.EXPIRY for p in run.postings)
        for posting in run.postings:
            user = next(u for u in self.shop.riders if u.pk == posting.member.owner_id)
            self.balance[user.pk] = 0
            self.expired.add(user.pk)
            self.reversible[posting.pk] = (user, posting.amount, PostingKind.EXPIRY)

    # --- the shop ---------------------------------------------------------------------------

    @rule(
        reward=st.integers(0, 3), station=st.integers(0, 2), change=st.sampled_from([-2, -1, 1, 3])
    )
    def restock(self, reward, station, change):
        self.tick()
        reward, station = self.shop.rewards[reward], self.shop.stations[station]

        def call():
            return stock_change(
                reward=reward, station=station, change=change, reason="盘点",
                actor=self.shop.admins[0],
            )  # fmt: skip

        if street_code(station) != reward.area_code:
            self.refused("other_street", call)
            return
        row = self.stock.get((reward.pk, station.pk), [0, 0, 0, 0])
        if row[0] + change < 0:
            self.refused("not_enough_stock", call)
            return
        call()
        row[0] += change
        row[3] += change
        self.stock[(reward.pk, station.pk)] = row

    @rule(who=st.integers(0, 2), reward=st.integers(0, 3), station=st.integers(0, 9))
    def reserve(self, who, reward, station):
        """Mostly at a station of the reward's street (``station`` 1–9), now and then at
        one in another street (0); any rider, of the reward's street or not."""
        self.tick()
        user, reward = self.shop.riders[who], self.shop.rewards[reward]
        same = [s for s in self.shop.stations if street_code(s) == reward.area_code]
        other = [s for s in self.shop.stations if street_code(s) != reward.area_code]
        station = same[station % len(same)] if station else other[who % len(other)]
        key = self.key("reserve")
        # The changed request: the same key for the street's other reward.
        sibling = next(
            r for r in self.shop.rewards if r.area_code == reward.area_code and r.pk != reward.pk
        )

        def call(reward=reward):
            return redemption_reserve(
                user=user, reward=reward, station=station, idempotency_key=key
            )

        row = self.stock.get((reward.pk, station.pk))
        taken = sum(
            1
            for r in self.redemptions.values()
            if r.user.pk == user.pk
            and r.reward.pk == reward.pk
            and r.status in (RedemptionStatus.HELD, RedemptionStatus.FULFILLED)
        )
        if street_code(station) != reward.area_code or street_code(user) != reward.area_code:
            self.refused("other_street", call)  # a station, or a rider, of another street
        elif reward.per_rider_limit is not None and taken >= reward.per_rider_limit:
            self.refused("limit_reached", call)
        elif row is None or row[0] < 1:
            self.refused("out_of_stock", call)
        elif self.balance[user.pk] < reward.cost:
            self.refused("insufficient_points", call)
        else:
            redemption = call()
            expires = self.clock + timedelta(hours=reward.pickup_hours)
            assert (redemption.status, redemption.cost, redemption.expires_at) == (
                RedemptionStatus.HELD,
                reward.cost,
                expires,
            )
            self.balance[user.pk] -= reward.cost
            row[0] -= 1
            row[1] += 1
            self.redemptions[redemption.pk] = Held(
                user=user, reward=reward, station=station, cost=reward.cost,
                code=redemption.pickup_code, qr=redemption.qr_payload, expires_at=expires,
            )  # fmt: skip
            self.calls[("rewards.reserve", key)] = Call(
                again=call, changed=lambda: call(reward=sibling), pk=redemption.pk
            )

    def release(self, pk: int, status: str) -> None:
        held = self.redemptions[pk]
        held.status = status
        self.balance[held.user.pk] += held.cost
        row = self.stock[(held.reward.pk, held.station.pk)]
        row[0] += 1
        row[1] -= 1

    @precondition(lambda self: self.redemptions)
    @rule(i=st.integers(0, 99), by_staff=st.booleans())
    def cancel(self, i, by_staff):
        self.tick()
        pk = self.pick(self.redemptions, i)
        held = self.redemptions[pk]
        actor = self.shop.admins[0] if by_staff else held.user

        def call():
            return redemption_cancel(redemption=Redemption.objects.get(pk=pk), actor=actor)

        if held.status != RedemptionStatus.HELD:
            self.refused("already_closed", call)
            return
        assert call().status == RedemptionStatus.CANCELLED
        self.release(pk, RedemptionStatus.CANCELLED)

    @precondition(lambda self: self.redemptions)
    @rule(i=st.integers(0, 99), qr=st.booleans(), elsewhere=st.booleans())
    def fulfil(self, i, qr, elsewhere):
        self.tick()
        pk = self.pick(self.redemptions, i)
        held = self.redemptions[pk]
        station = held.station
        if elsewhere:
            station = next(s for s in self.shop.stations if s.pk != held.station.pk)

        def call():
            return redemption_fulfil(
                station=station, code=held.qr if qr else held.code, actor=self.shop.admins[1]
            )

        if held.status != RedemptionStatus.HELD:
            self.refused("unknown_code" if elsewhere else "code_used", call)
        elif elsewhere:
            self.refused("other_station", call)
        elif held.expires_at <= self.clock:
            self.refused("code_expired", call)
        else:
            assert call().status == RedemptionStatus.FULFILLED
            held.status = RedemptionStatus.FULFILLED
            row = self.stock[(held.reward.pk, held.station.pk)]
            row[1] -= 1
            row[2] += 1

    @precondition(
        lambda self: any(r.status == RedemptionStatus.HELD for r in self.redemptions.values())
    )
    @rule(i=st.integers(0, 99), offset=st.sampled_from([-1, 0, 1, 3600 * 100]))
    def time_out(self, i, offset):
        self.tick()
        held = {pk for pk, r in self.redemptions.items() if r.status == RedemptionStatus.HELD}
        now = self.redemptions[self.pick(held, i)].expires_at + timedelta(seconds=offset)
        due = sorted(pk for pk in held if self.redemptions[pk].expires_at <= now)
        assert redemptions_expire(now=now) == len(due)
        for pk in due:
            self.release(pk, RedemptionStatus.EXPIRED)

    # --- retries ----------------------------------------------------------------------------

    @precondition(lambda self: self.calls)
    @rule(i=st.integers(0, 999))
    def retry_same_key(self, i):
        self.tick()
        call = self.calls[self.pick(self.calls, i)]
        before = snapshot()
        assert call.again().pk == call.pk
        assert snapshot() == before

    @precondition(lambda self: self.calls)
    @rule(i=st.integers(0, 999))
    def retry_with_another_payload(self, i):
        self.tick()
        call = self.calls[self.pick(self.calls, i)]
        self.refused("idempotency_key_reused", call.changed, status=409)

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def ledger_holds(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fire the deferred balance triggers now
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Every posting has two entries summing to zero, every cached balance equals the sum
        # of its entries, no system account is below its floor, all entries sum to zero.
        report = points_reconcile()
        assert not report.unbalanced and not report.drift and not report.negative, report
        assert report.ok and report.total == 0, report
        # The cached balances are the model's; a street's hold account holds exactly what its
        # riders' open reservations cost.
        sums = dict(
            Entry.objects.values("account").annotate(s=Sum("amount")).values_list("account", "s")
        )
        balances, holds = {}, {}
        for pk, kind, owner, street, balance in PointsAccount.objects.values_list(
            "pk", "kind", "owner", "street__code", "balance"
        ):
            if kind == AccountKind.MEMBER:
                balances[owner] = balance
                assert balance == sums.get(pk, 0) >= 0
            elif kind == AccountKind.HOLD:
                holds[street] = sums.get(pk, 0)
        assert balances == self.balance
        expected_holds = Counter()
        for r in self.redemptions.values():
            if r.status == RedemptionStatus.HELD:
                expected_holds[street_code(r.user)] += r.cost
        assert {k: v for k, v in holds.items() if v} == dict(+expected_holds)
        # Stock is conserved, row by row, and is what the model says.
        changes = dict(
            StockChange.objects.values("stock").annotate(s=Sum("change")).values_list("stock", "s")
        )
        rows = {}
        for pk, reward, station, *counts in Stock.objects.values_list(
            "pk", "reward", "station", "available", "held", "handed_out"
        ):
            assert min(counts) >= 0 and sum(counts) == changes.get(pk, 0)
            rows[(reward, station)] = [*counts, changes.get(pk, 0)]
        assert rows == self.stock
        statuses = dict(Redemption.objects.values_list("pk", "status"))
        assert statuses == {pk: r.status for pk, r in self.redemptions.items()}
        # One idempotency record per key that took effect, pointing at its result; a refused
        # request leaves none.
        records = {
            (scope, key): result
            for scope, key, result in IdempotencyRecord.objects.values_list(
                "scope", "key", "result_id"
            )
            if (scope, key) not in self.records_before
        }
        assert records == {k: str(call.pk) for k, call in self.calls.items()}
        # Season scores: the all-time score at district level is what was earned net of
        # reversals; each bucket counts exactly the members holding that score.
        district = self.shop.world.district.code
        held_scores, all_time = Counter(), {}
        for season, area, owner, points in SeasonScore.objects.values_list(
            "season", "area_code", "member__owner", "points"
        ):
            assert points >= 0
            if points:
                held_scores[(season, area, points)] += 1
            if (season, area) == ("all", district):
                all_time[owner] = points
        assert {u.pk: all_time.get(u.pk, 0) for u in self.shop.riders} == self.score
        buckets = Counter()
        for season, area, points, n in ScoreBucket.objects.values_list(
            "season", "area_code", "points", "members"
        ):
            if n:
                buckets[(season, area, points)] = n
        assert buckets == held_scores
        assert scores_check().ok  # scores against the postings, tie buckets against the scores


@pytest.mark.django_db
def test_the_ledger_against_its_model():
    with mock.patch.object(timezone, "now", lambda: START - timedelta(hours=1)):
        LedgerMachine.shop = build_shop()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
