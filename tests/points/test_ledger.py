"""The ledger through its services: earning, caps, keys, maker-checker, reversal, reconcile."""

import pytest

from yizhan.core.errors import ApplicationError
from yizhan.points.choices import AwardStatus, PostingKind
from yizhan.points.models import EarningRecord, Entry, ManualAward, PointsAccount, Posting
from yizhan.points.selectors import balance_of, history_of
from yizhan.points.services import (
    earning_rule_set,
    points_award,
    points_award_approve,
    points_award_reject,
    points_earn,
    points_reconcile,
    points_reverse,
)


def earn(world, key, activity="report_verified", units=1, member=None):
    return points_earn(
        member=member or world.rider.user,
        activity=activity,
        units=units,
        reason="楼道堆物已清理",
        actor=world.community_staff,
        idempotency_key=key,
    )


def ledger_state():
    return (
        Posting.objects.count(),
        Entry.objects.count(),
        sorted(PointsAccount.objects.values_list("pk", "balance")),
        EarningRecord.objects.count(),
    )


def test_an_earning_is_a_balanced_posting_and_the_balance_follows(rules):
    record = earn(rules, "key-00000001")
    assert (record.requested, record.paid, record.capped) == (5, 5, 0)
    assert balance_of(rules.rider.user) == 5
    posting = record.posting
    assert posting.kind == PostingKind.AWARD and posting.amount == 5
    assert sorted(posting.entries.values_list("amount", flat=True)) == [-5, 5]
    assert posting.idempotency_key == "earn:key-00000001"
    assert posting.area_code == rules.rider.area_code
    assert [p.pk for p in history_of(rules.rider.user)] == [posting.pk]
    report = points_reconcile()
    assert report.ok and report.total == 0


def test_what_exceeds_the_daily_cap_is_recorded_as_capped_not_paid(rules):
    first, second, third = (earn(rules, f"cap-key-{i:04d}") for i in range(3))
    assert [r.paid for r in (first, second, third)] == [5, 5, 0]
    assert (third.capped, third.posting) == (5, None)
    multi = earn(rules, "cap-key-9999", activity="duty_hour", units=11)
    assert (multi.requested, multi.paid, multi.capped) == (33, 30, 3)
    assert balance_of(rules.rider.user) == 40


def test_the_same_key_counts_once_and_a_changed_payload_is_refused(rules):
    first = earn(rules, "retry-key-1")
    again = earn(rules, "retry-key-1")
    assert again.pk == first.pk
    assert balance_of(rules.rider.user) == 5
    before = ledger_state()
    with pytest.raises(ApplicationError) as exc:
        earn(rules, "retry-key-1", units=2)
    assert (exc.value.status, exc.value.code) == (409, "idempotency_key_reused")
    assert ledger_state() == before


@pytest.mark.parametrize(
    "change, code",
    [
        ({"activity": "nonsense"}, "invalid"),
        ({"units": 0}, "invalid_amount"),
        ({"units": -3}, "invalid_amount"),
        ({"key": "short"}, "invalid_idempotency_key"),
    ],
)
def test_bad_earnings_are_refused_and_write_nothing(rules, change, code):
    before = ledger_state()
    with pytest.raises(ApplicationError) as exc:
        earn(rules, change.pop("key", "bad-input-key"), **change)
    assert exc.value.code == code and exc.value.status == 400
    assert ledger_state() == before


def test_an_activity_without_a_rule_pays_nothing(rules):
    with pytest.raises(ApplicationError) as exc:
        earn(rules, "no-rule-key", activity="gift_delivery")
    assert exc.value.code == "no_rule"
    assert balance_of(rules.rider.user) == 0


def test_other_community_staff_and_riders_cannot_award(rules):
    before = ledger_state()
    for actor in (rules.other_community_staff, rules.rider.user, rules.merchant):
        with pytest.raises(ApplicationError) as exc:
            points_earn(
                member=rules.rider.user, activity="report_verified", reason="x", actor=actor,
                idempotency_key="forbidden-key",
            )  # fmt: skip
        assert exc.value.status == 403
    assert ledger_state() == before


def award(world, amount, key, actor=None, **change):
    data = {"reason": "帮助走失老人回家", "evidence": "派出所出具的感谢信"}
    data.update(change)
    return points_award(
        member=world.rider.user,
        amount=amount,
        actor=actor or world.community_staff,
        idempotency_key=key,
        **data,
    )


def test_a_small_manual_award_is_paid_at_once(rules):
    small = award(rules, 20, "manual-small")
    assert small.status == AwardStatus.APPROVED and small.decided_by == rules.community_staff
    assert balance_of(rules.rider.user) == 20
    assert small.earning.posting.evidence == "派出所出具的感谢信"


def test_a_large_award_needs_a_second_staff_member(rules):
    large = award(rules, 50, "manual-large")
    assert large.status == AwardStatus.PENDING and balance_of(rules.rider.user) == 0
    with pytest.raises(ApplicationError) as exc:
        points_award_approve(award=large, actor=rules.community_staff)
    assert (exc.value.status, exc.value.code) == (403, "own_award")
    assert balance_of(rules.rider.user) == 0
    approved = points_award_approve(award=large, actor=rules.street_admin)
    assert approved.status == AwardStatus.APPROVED
    assert approved.earning.posting.approved_by == rules.street_admin
    assert balance_of(rules.rider.user) == 50
    with pytest.raises(ApplicationError) as exc:
        points_award_approve(award=large, actor=rules.district_admin)
    assert exc.value.code == "already_decided"
    assert balance_of(rules.rider.user) == 50


def test_a_large_award_can_be_turned_down(rules):
    large = award(rules, 50, "manual-large-2")
    points_award_reject(award=large, actor=rules.street_admin, note="证据不足")
    assert ManualAward.objects.get(pk=large.pk).status == AwardStatus.REJECTED
    assert balance_of(rules.rider.user) == 0


@pytest.mark.parametrize(
    "amount, change, field",
    [
        (0, {}, "amount"),
        (-5, {}, "amount"),
        ("10", {}, "amount"),
        (10, {"reason": " "}, "reason"),
        (10, {"evidence": ""}, "evidence"),
    ],
)
def test_bad_manual_awards_are_refused(rules, amount, change, field):
    before = ledger_state()
    with pytest.raises(ApplicationError) as exc:
        award(rules, amount, "manual-bad", **change)
    assert exc.value.field == field and exc.value.status == 400
    assert ledger_state() == before and not ManualAward.objects.exists()


def test_a_reversal_swaps_the_legs_once_and_keeps_the_original(rules):
    record = earn(rules, "to-reverse-1")
    reversal = points_reverse(
        posting=record.posting, actor=rules.community_staff, reason="重复上报",
        idempotency_key="reverse-key-1",
    )  # fmt: skip
    assert reversal.kind == PostingKind.REVERSAL and reversal.reverses == record.posting
    assert balance_of(rules.rider.user) == 0
    assert Posting.objects.filter(pk=record.posting.pk).exists()
    with pytest.raises(ApplicationError) as exc:
        points_reverse(
            posting=record.posting, actor=rules.community_staff, reason="again",
            idempotency_key="reverse-key-2",
        )  # fmt: skip
    assert exc.value.code == "not_reversible"
    assert points_reconcile().ok


def test_spent_points_cannot_be_reversed(rules):
    from yizhan.points.services import points_hold

    record = earn(rules, "spend-then-reverse")
    points_hold(user=rules.rider.user, amount=5, reason="充电宝", key="hold:x", actor=None)
    with pytest.raises(ApplicationError) as exc:
        points_reverse(
            posting=record.posting, actor=rules.community_staff, reason="x",
            idempotency_key="reverse-spent",
        )  # fmt: skip
    assert exc.value.code == "insufficient_points"
    assert balance_of(rules.rider.user) == 0
    assert points_reconcile().ok


def test_a_category_rule_without_caps_counts_against_the_activitys_daily_cap(rules):
    # Given the general rule caps verified reports at 10 a day, and 飞线充电 pays 8 uncapped
    earning_rule_set(
        street=rules.street_a, activity="report_verified", category="flying_wire", points=8,
        actor=rules.street_admin,
    )  # fmt: skip

    def flying(key):
        return points_earn(
            member=rules.rider.user, activity="report_verified", category="flying_wire",
            reason="飞线充电已拆除", actor=rules.community_staff, idempotency_key=key,
        )  # fmt: skip

    # When two such reports are paid the same day
    first, second = flying("cap-cat-1"), flying("cap-cat-2")
    # Then the category's value is used, but the day's cap of the activity holds: 8 + 2
    assert (first.requested, first.paid) == (8, 8)
    assert (second.requested, second.paid, second.capped) == (8, 2, 6)
