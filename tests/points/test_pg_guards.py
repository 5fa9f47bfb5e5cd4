"""The ledger's guards below the ORM, on PostgreSQL (migration points 0002 and the CHECKs).

Raw SQL goes past every service: the triggers and constraints must still refuse to change or
delete an entry or a posting, to make a member's balance negative, or to commit a posting whose
entries are not exactly two legs summing to zero; and deleting a staff account that acted on a
posting must still work (the one change the append-only trigger lets through: actor → NULL).
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.world import PASSWORD
from yizhan.core.roles import Role
from yizhan.people.models import User
from yizhan.people.services import account_create
from yizhan.points.choices import AccountKind, PostingKind
from yizhan.points.models import Entry, PointsAccount, Posting
from yizhan.points.services import (
    member_account,
    points_award,
    points_award_approve,
    points_earn,
    points_reconcile,
    system_account,
)

pytestmark = pytest.mark.postgres


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def refused(statement, params=()):
    """The statement raises IntegrityError; its savepoint rolls back, the test goes on."""
    with pytest.raises(IntegrityError) as exc:
        with transaction.atomic():
            sql(statement, params)
    return str(exc.value)


def check_deferred_now():
    """Run the deferred balance triggers of this transaction now, instead of at commit."""
    sql("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def paid(rules):
    """A verified report paid to the rider by community staff: one posting, two entries."""
    record = points_earn(
        member=rules.rider.user, activity="report_verified", reason="楼道堆物已清理",
        actor=rules.community_staff, idempotency_key="guard-earn-1",
    )  # fmt: skip
    rules.posting = record.posting
    return rules


def row(table, pk):
    return sql(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed table names


ENTRY_STATEMENTS = [
    "UPDATE points_entry SET amount = amount + 1 WHERE posting_id = %s",
    "UPDATE points_entry SET created_at = now() WHERE posting_id = %s",
    "DELETE FROM points_entry WHERE posting_id = %s",
]
POSTING_STATEMENTS = [
    "UPDATE points_posting SET amount = amount + 1 WHERE id = %s",
    "UPDATE points_posting SET reason = 'edited' WHERE id = %s",
    "UPDATE points_posting SET actor_id = NULL, reason = 'edited' WHERE id = %s",
    "DELETE FROM points_posting WHERE id = %s",
]


def ledger_rows(pk):
    return (
        row("points_posting", pk),
        sql("SELECT * FROM points_entry WHERE posting_id = %s ORDER BY id", [pk]),
    )


@pytest.mark.parametrize("statement", ENTRY_STATEMENTS + POSTING_STATEMENTS)
def test_entries_and_postings_cannot_be_changed_or_deleted(paid, statement):
    pk = paid.posting.pk
    before = ledger_rows(pk)
    message = refused(statement, [pk])
    assert "append-only" in message
    assert ledger_rows(pk) == before


def test_a_posting_cannot_be_given_to_another_actor(paid):
    """Only the way to NULL is open (the actor's account deleted), not to another person."""
    pk = paid.posting.pk
    refused("UPDATE points_posting SET actor_id = %s WHERE id = %s", [paid.street_admin.pk, pk])
    refused(
        "UPDATE points_posting SET approved_by_id = %s WHERE id = %s", [paid.street_admin.pk, pk]
    )
    assert Posting.objects.get(pk=pk).actor_id == paid.community_staff.pk


def test_a_member_balance_cannot_go_below_zero(paid):
    account = member_account(paid.rider.user)
    message = refused("UPDATE points_pointsaccount SET balance = -1 WHERE id = %s", [account.pk])
    assert "points_account_balance_rule" in message
    refused("UPDATE points_pointsaccount SET balance = balance - 6 WHERE id = %s", [account.pk])
    # A system account has no cached balance at all.
    issuance = system_account(paid.street_a, AccountKind.ISSUANCE)
    refused("UPDATE points_pointsaccount SET balance = 0 WHERE id = %s", [issuance.pk])
    account.refresh_from_db()
    assert account.balance == 5
    assert points_reconcile().ok


def test_a_member_balance_cannot_be_null(paid):
    """NULL would pass a plain ``balance >= 0`` CHECK, and a later ``balance + n`` would
    stay NULL: the points would vanish from the cache."""
    account = member_account(paid.rider.user)
    refused("UPDATE points_pointsaccount SET balance = NULL WHERE id = %s", [account.pk])


def insert_posting(world, amount, legs, key):
    """A posting of ``amount`` from issuance to the rider, with the given entry amounts."""
    member = member_account(world.rider.user)
    issuance = system_account(world.street_a, AccountKind.ISSUANCE)
    now = timezone.now()
    [(pk,)] = sql(
        """
        INSERT INTO points_posting (kind, amount, debit_id, credit_id, member_id, street_id,
            area_code, activity, reason, source_type, source_id, evidence, idempotency_key,
            created_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, '', 'raw', '', '', '', %s, %s)
        RETURNING id
        """,
        [PostingKind.AWARD, amount, issuance.pk, member.pk, member.pk, world.street_a.pk,
         world.rider.user.area_code, key, now],
    )  # fmt: skip
    for leg in legs:
        account = issuance if leg < 0 else member
        sql(
            "INSERT INTO points_entry (posting_id, account_id, amount, created_at) "
            "VALUES (%s, %s, %s, %s)",
            [pk, account.pk, leg, now],
        )
    return pk


@pytest.mark.parametrize(
    "amount, legs",
    [
        (5, []),  # no entries at all
        (5, [5]),  # one leg
        (5, [-5]),
        (5, [-5, 4]),  # two legs that do not sum to zero
        (5, [-3, 3]),  # balanced, but not the posting's amount
        (5, [-5, 3, 2]),  # three legs
        (5, [-5, 5, -5, 5]),  # four legs
    ],
)
def test_an_unbalanced_posting_is_refused_at_commit(paid, amount, legs):
    postings = Posting.objects.count()
    with pytest.raises(IntegrityError) as exc:
        with transaction.atomic():
            insert_posting(paid, amount, legs, "raw-unbalanced")
            check_deferred_now()
    assert "does not balance" in str(exc.value)
    assert Posting.objects.count() == postings


def test_a_balanced_posting_inserted_by_hand_passes(paid):
    with transaction.atomic():
        pk = insert_posting(paid, 7, [-7, 7], "raw-balanced")
        check_deferred_now()
    assert sorted(Entry.objects.filter(posting_id=pk).values_list("amount", flat=True)) == [-7, 7]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_balance_check_runs_at_a_real_commit(rules):
    """Without SET CONSTRAINTS: the posting and its one leg are in, then COMMIT refuses."""
    with transaction.atomic():
        points_award(
            member=rules.rider.user, amount=5, reason="开业", evidence="名单",
            actor=rules.community_staff, idempotency_key="guard-commit-1",
        )  # fmt: skip
    postings = Posting.objects.count()
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            insert_posting(rules, 5, [5], "raw-commit")
    assert Posting.objects.count() == postings
    assert not Posting.objects.filter(idempotency_key="raw-commit").exists()
    assert points_reconcile().ok


def test_deleting_staff_who_acted_on_postings_keeps_the_postings(paid):
    """The delete sets actor / approved_by to NULL, which the trigger lets through."""
    maker = account_create(
        username="staff_gone", name="离职员工", role=Role.STAFF, area=paid.community_a1,
        password=PASSWORD,
    )  # fmt: skip
    checker = account_create(
        username="admin_gone", name="离职管理员", role=Role.ADMIN, area=paid.street_a,
        password=PASSWORD,
    )  # fmt: skip
    earned = points_earn(
        member=paid.rider.user, activity="report_verified", reason="再次清理", actor=maker,
        idempotency_key="guard-earn-2",
    ).posting  # fmt: skip
    large = points_award(
        member=paid.rider.user, amount=50, reason="见义勇为", evidence="证明",
        actor=paid.street_admin, idempotency_key="guard-award-1",
    )  # fmt: skip
    approved = points_award_approve(award=large, actor=checker).earning.posting
    before = {
        p.pk: (p.amount, p.kind, p.reason) for p in Posting.objects.filter(pk__in=[earned.pk])
    }
    maker.delete()
    checker.delete()
    assert not User.objects.filter(username__in=["staff_gone", "admin_gone"]).exists()
    earned.refresh_from_db()
    approved.refresh_from_db()
    assert earned.actor_id is None and approved.approved_by_id is None
    assert approved.actor_id == paid.street_admin.pk  # untouched
    assert {earned.pk: (earned.amount, earned.kind, earned.reason)} == before
    check_deferred_now()
    assert points_reconcile().ok
    assert PointsAccount.objects.get(owner=paid.rider.user).balance == 60
