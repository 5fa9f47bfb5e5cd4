"""``manage.py reconcile`` and ``manage.py expire_points``: thin commands over the services.

The drift cases break the books below the services with raw SQL, as a bug or a hand edit
would: a member's cached balance (no trigger guards accounts, on SQLite or PostgreSQL), a season
score, a score bucket. ``reconcile`` must fail and name what is wrong.
"""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from yizhan.points.checks import scores_check
from yizhan.points.choices import PostingKind
from yizhan.points.models import Entry, PointsAccount, Posting, ScoreBucket, SeasonScore
from yizhan.points.selectors import balance_of
from yizhan.points.services import (
    points_award,
    points_earn,
    points_reverse,
    points_settings_update,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def at(monkeypatch):
    """Set the time the services see."""

    def set_to(*args):
        moment = datetime(*args, tzinfo=SHANGHAI)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_to


def run(*args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out)
    return out.getvalue()


def fails(*args) -> str:
    with translation.override("en"), pytest.raises(CommandError) as exc:
        call_command(*args, stdout=StringIO())
    return str(exc.value)


def give(world, amount, key, rider=None):
    rider = rider or world.rider
    staff = world.community_staff if rider == world.rider else world.street_admin
    return points_award(
        member=rider.user, amount=amount, reason="巡查值守", evidence="值守签到表",
        actor=staff, idempotency_key=key,
    )  # fmt: skip


@pytest.fixture
def ledger(rules, at):
    """Awards across a month, a quarter and a year boundary (in Asia/Shanghai: 1 October 07:00
    is still 30 September in UTC), an earning, and one reversal."""
    w = rules
    at(2026, 9, 30, 20, 0)
    give(w, 10, "cmd-award-01")
    at(2026, 10, 1, 7, 0)
    give(w, 8, "cmd-award-02")
    give(w, 6, "cmd-award-03", rider=w.other_rider)
    at(2026, 12, 31, 23, 30)
    second = give(w, 5, "cmd-award-04", rider=w.other_rider)
    at(2027, 1, 2, 9, 0)
    points_earn(
        member=w.rider.user, activity="report_verified", reason="楼道堆物", actor=w.community_staff,
        idempotency_key="cmd-earn-01",
    )  # fmt: skip
    points_reverse(
        posting=second.earning.posting, actor=w.street_admin, reason="重复计分",
        idempotency_key="cmd-reverse-01",
    )  # fmt: skip
    return w


def raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- reconcile -----------------------------------------------------------------------------------


def test_reconcile_passes_on_an_empty_ledger(db):
    out = run("reconcile")
    assert "Checked 0 accounts and 0 postings; all entries sum to 0." in out
    assert "reconciles" in out


def test_reconcile_checks_the_books_and_the_scores(ledger):
    assert scores_check().ok
    out = run("reconcile")
    postings = Posting.objects.count()
    accounts = PointsAccount.objects.count()
    assert f"Checked {accounts} accounts and {postings} postings; all entries sum to 0." in out
    scores = SeasonScore.objects.count()
    assert f"Checked {scores} season scores" in out
    assert "The points ledger reconciles." in out
    # The scores land in the season of the moment in Asia/Shanghai, and the reversal takes its
    # points off the season of the award it reverses.
    mine = PointsAccount.objects.get(owner=ledger.rider.user)
    street = ledger.street_a.code
    held = dict(
        SeasonScore.objects.filter(member=mine, area_code=street).values_list("season", "points")
    )
    assert held == {"m2026-09": 10, "m2026-10": 8, "q2026-3": 10, "q2026-4": 8, "y2026": 18,
                    "m2027-01": 5, "q2027-1": 5, "y2027": 5, "all": 23}  # fmt: skip
    other = PointsAccount.objects.get(owner=ledger.other_rider.user)
    assert SeasonScore.objects.get(member=other, area_code=street, season="m2026-12").points == 0


def test_a_drifted_balance_fails_naming_the_account(ledger):
    account = PointsAccount.objects.get(owner=ledger.rider.user)
    raw("UPDATE points_pointsaccount SET balance = balance + 7 WHERE id = %s", [account.pk])
    assert balance_of(ledger.rider.user) == 30
    message = fails("reconcile")
    assert "does not reconcile: 1 problem." in message
    assert f"Balance drift on account #{account.pk} (王小明)" in message
    assert "cached balance 30, entries sum to 23" in message


def test_a_drifted_season_score_and_bucket_fail(ledger):
    account = PointsAccount.objects.get(owner=ledger.rider.user)
    raw(
        "UPDATE points_seasonscore SET points = points + 1 "
        "WHERE member_id = %s AND season = %s AND area_code = %s",
        [account.pk, "y2026", ledger.street_a.code],
    )
    message = fails("reconcile")
    assert (
        f"Season score y2026 in area {ledger.street_a.code} of account #{account.pk} (王小明) "
        "holds 19; the ledger says 18."
    ) in message
    # The bucket still counts the member at 18, and nobody at 19 any more in the recount.
    assert f"Score bucket y2026 in area {ledger.street_a.code} at 18 points counts 1" in message
    assert f"Score bucket y2026 in area {ledger.street_a.code} at 19 points counts 0" in message
    # So do the tie buckets of the day the member reached 18.
    assert f"Tie bucket y2026 in area {ledger.street_a.code} at 18 points on " in message
    assert "5 problems" in message


def test_a_lost_season_score_is_a_drift(ledger):
    account = PointsAccount.objects.get(owner=ledger.rider.user)
    raw(
        "DELETE FROM points_seasonscore WHERE member_id = %s AND season = %s",
        [account.pk, "all"],
    )
    check = scores_check()
    assert ("all", ledger.street_a.code, account.pk, 0, 23) in check.score_drift
    assert "the ledger says 23" in fails("reconcile")


def test_a_drifted_bucket_alone_fails(ledger):
    raw("UPDATE points_scorebucket SET members = members + 2 WHERE season = %s", ["all"])
    buckets = ScoreBucket.objects.filter(season="all").count()
    message = fails("reconcile")
    assert f"{buckets} problems" in message
    assert "Season score" not in message


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="PostgreSQL refuses an unbalanced posting at commit (tests/points/test_pg_guards.py)",
)
def test_an_unbalanced_posting_and_a_negative_system_account_fail(ledger):
    posting = Posting.objects.filter(kind=PostingKind.AWARD).order_by("pk").first()
    # A third leg taking 4 points from the street's hold account, which has none.
    hold = PointsAccount.objects.create(kind="hold", street=ledger.street_a)
    Entry.objects.create(posting=posting, account=hold, amount=-4, created_at=posting.created_at)
    message = fails("reconcile")
    assert "All entries sum to -4, not 0" in message
    with translation.override("en"):
        assert f"Posting #{posting.pk} ({posting}) does not balance: 3 entries" in message
    assert "3 entries summing to -4" in message
    assert f"account #{hold.pk} (甲街道 · Held for pickup) is past its floor" in message
    assert "3 problems" in message


# --- expire_points -------------------------------------------------------------------------------


def test_expire_points_posts_what_is_due_once(rules, at):
    points_settings_update(
        street=rules.street_a, actor=rules.street_admin, expiry_enabled=True, expiry_month=3,
        expiry_day=31,
    )  # fmt: skip
    at(2025, 6, 1, 9)
    give(rules, 10, "exp-cmd-01")
    at(2026, 2, 1, 9)
    give(rules, 8, "exp-cmd-02")
    out = run("expire_points", "--today", "2026-03-31")
    assert "0 expiries posted" in out
    out = run("expire_points", "--today", "2026-04-01")
    assert "王小明: 10 points expired (Points earned in 2025 expired.)" in out
    assert "1 expiry posted, 10 points in all" in out
    assert balance_of(rules.rider.user) == 8
    assert "0 expiries posted" in run("expire_points", "--today", "2026-04-01")
    assert "reconciles" in run("reconcile")


def test_expire_points_without_a_date_uses_today(rules):
    give(rules, 10, "exp-cmd-today")
    out = run("expire_points")
    assert "0 expiries posted" in out and balance_of(rules.rider.user) == 10


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "01/04/2026", "2026-4-1x"])
def test_expire_points_refuses_a_bad_date(db, value):
    assert "YYYY-MM-DD" in fails("expire_points", "--today", value)
