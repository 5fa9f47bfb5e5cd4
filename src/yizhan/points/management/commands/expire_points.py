"""``manage.py expire_points [--today YYYY-MM-DD]``: post the points expiries that are due.

Only streets that turned expiry on are touched (``PointsSettings.expiry_enabled``). The work is
``points.services.points_expire_due``: each member's unspent points of a year expire once, under
their own key, so running it again (or twice a day) posts nothing more.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yizhan.points.services import points_expire_due


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("--today must be a date written YYYY-MM-DD (for example 2027-01-01), not %(value)r.")
            % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Expire the points whose expiry date has passed, in the streets that turned expiry on. "
        "Safe to run again: each member's points of a year expire once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today",
            metavar="YYYY-MM-DD",
            help="Expire as if today were this day (default: today in Asia/Shanghai).",
        )

    def handle(self, *args, **options):
        today = parse_day(options["today"]) if options.get("today") else None
        run = points_expire_due(today=today)
        for posting in run.postings:
            self.stdout.write(
                _("%(member)s: %(points)s points expired (%(reason)s)")
                % {"member": posting.member, "points": posting.amount, "reason": posting.reason}
            )
        total = sum(p.amount for p in run.postings)
        n = len(run.postings)
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Checked %(checked)s accounts with points; %(n)s expiry posted, "
                    "%(total)s points in all.",
                    "Checked %(checked)s accounts with points; %(n)s expiries posted, "
                    "%(total)s points in all.",
                    n,
                )
                % {"checked": run.checked, "n": n, "total": total}
            )
        )
