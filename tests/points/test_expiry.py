"""Expiry: off by default; when on, a year's unspent points expire after it, oldest first."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from yizhan.points.choices import PostingKind
from yizhan.points.models import Posting
from yizhan.points.selectors import balance_of, expiring_soon
from yizhan.points.services import (
    points_award,
    points_expire_due,
    points_hold,
    points_reconcile,
    points_settings_update,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def at(monkeypatch):
    def set_to(*args):
        moment = datetime(*args, tzinfo=SHANGHAI)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def give(world, amount, key):
    points_award(
        member=world.rider.user, amount=amount, reason="服务", evidence="记录",
        actor=world.community_staff, idempotency_key=key,
    )  # fmt: skip


def test_nothing_expires_unless_the_street_turns_it_on(rules, at):
    at(2025, 6, 1, 9)
    give(rules, 10, "exp-off-1")
    assert points_expire_due(today=date(2030, 1, 1)).postings == []
    assert balance_of(rules.rider.user) == 10
    assert expiring_soon(rules.rider.user) is None


def test_unspent_points_expire_oldest_first(rules, at):
    points_settings_update(
        street=rules.street_a, actor=rules.street_admin, expiry_enabled=True, expiry_month=3,
        expiry_day=31,
    )  # fmt: skip
    at(2025, 6, 1, 9)
    give(rules, 10, "exp-on-1")
    at(2026, 2, 1, 9)
    give(rules, 8, "exp-on-2")
    # Spending 6 uses 2025's points first: 4 of them are left to expire on 2026-03-31.
    points_hold(user=rules.rider.user, amount=6, reason="湿巾", key="hold:exp", actor=None)
    soon = expiring_soon(rules.rider.user, today=date(2026, 3, 1))
    assert (soon.points, soon.on) == (4, date(2026, 3, 31))
    assert points_expire_due(today=date(2026, 3, 31)).postings == []  # the day itself counts
    run = points_expire_due(today=date(2026, 4, 1))
    assert [p.amount for p in run.postings] == [4]
    assert run.postings[0].kind == PostingKind.EXPIRY
    assert balance_of(rules.rider.user) == 8
    assert points_expire_due(today=date(2026, 4, 2)).postings == []  # once only
    soon = expiring_soon(rules.rider.user, today=date(2026, 4, 2))
    assert (soon.points, soon.on) == (8, date(2027, 3, 31))
    run = points_expire_due(today=date(2027, 4, 1))
    assert [p.amount for p in run.postings] == [8]
    assert balance_of(rules.rider.user) == 0
    assert Posting.objects.filter(kind=PostingKind.EXPIRY).count() == 2
    assert points_reconcile().ok
