"""``manage.py reconcile``: check the points ledger and the leaderboards; fail on any drift.

Reads only. The ledger check is ``points.services.points_reconcile`` (every member's cached
balance against the sum of their entries, every posting's two legs, the system accounts'
floors, the grand total); the leaderboard check is ``points.checks.scores_check`` (season scores
against a recount of the postings, score buckets against a recount of the scores).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yizhan.points.checks import scores_check
from yizhan.points.models import Entry, PointsAccount, Posting
from yizhan.points.services import points_reconcile


def _accounts(pks) -> dict[int, PointsAccount]:
    return PointsAccount.objects.select_related("owner", "street").in_bulk(list(pks))


def _account_label(account: PointsAccount | None, pk: int) -> str:
    """``account #12 (郭建峰)`` for a member, ``account #3 (清远街道 · Issuance)`` for a street's
    system account."""
    if account is None:
        return _("account #%(id)s") % {"id": pk}
    return _("account #%(id)s (%(name)s)") % {"id": pk, "name": account}


class Command(BaseCommand):
    help = (
        "Check the points ledger (cached balances against entries, balanced postings, system "
        "accounts, total 0) and the leaderboards (season scores and score buckets against a "
        "recount). Reads only; exits with an error when anything is wrong."
    )

    def handle(self, *args, **options):
        ledger = points_reconcile()
        scores = scores_check()
        problems = self._ledger_problems(ledger) + self._score_problems(scores)

        self.stdout.write(
            _(
                "Checked %(accounts)s accounts and %(postings)s postings; all entries sum to "
                "%(total)s."
            )
            % {"accounts": ledger.accounts, "postings": ledger.postings, "total": ledger.total}
        )
        self.stdout.write(
            _("Checked %(scores)s season scores and %(buckets)s score buckets against a recount.")
            % {"scores": scores.scores, "buckets": scores.buckets}
        )
        if problems:
            n = len(problems)
            raise CommandError(
                ngettext(
                    "The points ledger does not reconcile: %(n)s problem.",
                    "The points ledger does not reconcile: %(n)s problems.",
                    n,
                )
                % {"n": n}
                + "\n"
                + "\n".join(problems)
            )
        self.stdout.write(self.style.SUCCESS(_("The points ledger reconciles.")))

    def _ledger_problems(self, ledger) -> list[str]:
        problems = []
        if ledger.total != 0:
            problems.append(
                _("All entries sum to %(total)s, not 0: points were created or lost.")
                % {"total": ledger.total}
            )
        accounts = _accounts({pk for pk, _c, _s in ledger.drift} | set(ledger.negative))
        for pk, cached, summed in ledger.drift:
            problems.append(
                _(
                    "Balance drift on %(account)s: cached balance %(cached)s, entries sum to "
                    "%(summed)s."
                )
                % {
                    "account": _account_label(accounts.get(pk), pk),
                    "cached": cached,
                    "summed": summed,
                }
            )
        if ledger.negative:
            sums = dict(
                Entry.objects.filter(account__in=ledger.negative)
                .values("account")
                .annotate(total=Sum("amount"))
                .values_list("account", "total")
            )
            for pk in ledger.negative:
                problems.append(
                    _("%(account)s is past its floor: its entries sum to %(summed)s.")
                    % {"account": _account_label(accounts.get(pk), pk), "summed": sums.get(pk, 0)}
                )
        if ledger.unbalanced:
            legs = {
                row["posting"]: row
                for row in Entry.objects.filter(posting__in=ledger.unbalanced)
                .values("posting")
                .annotate(total=Sum("amount"), legs=Count("id"))
            }
            postings = Posting.objects.in_bulk(ledger.unbalanced)
            for pk in sorted(set(ledger.unbalanced)):
                row = legs.get(pk, {"total": 0, "legs": 0})
                posting = postings.get(pk)
                problems.append(
                    _(
                        "Posting #%(id)s (%(posting)s) does not balance: %(legs)s entries "
                        "summing to %(total)s."
                    )
                    % {
                        "id": pk,
                        "posting": posting if posting is not None else "?",
                        "legs": row["legs"],
                        "total": row["total"],
                    }
                )
        return problems

    def _score_problems(self, scores) -> list[str]:
        problems = []
        accounts = _accounts({member for _s, _a, member, _p, _r in scores.score_drift})
        for season, area_code, member, stored, recounted in scores.score_drift:
            problems.append(
                _(
                    "Season score %(season)s in area %(area)s of %(account)s holds %(stored)s; "
                    "the ledger says %(recounted)s."
                )
                % {
                    "season": season,
                    "area": area_code,
                    "account": _account_label(accounts.get(member), member),
                    "stored": stored,
                    "recounted": recounted,
                }
            )
        for season, area_code, points, stored, recounted in scores.bucket_drift:
            problems.append(
                _(
                    "Score bucket %(season)s in area %(area)s at %(points)s points counts "
                    "%(stored)s members; the season scores say %(recounted)s."
                )
                % {
                    "season": season,
                    "area": area_code,
                    "points": points,
                    "stored": stored,
                    "recounted": recounted,
                }
            )
        for season, area_code, points, day, stored, recounted in scores.tie_drift:
            problems.append(
                _(
                    "Tie bucket %(season)s in area %(area)s at %(points)s points on %(day)s "
                    "counts %(stored)s members; the season scores say %(recounted)s."
                )
                % {
                    "season": season,
                    "area": area_code,
                    "points": points,
                    "day": day,
                    "stored": stored,
                    "recounted": recounted,
                }
            )
        return problems
