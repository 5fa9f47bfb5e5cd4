"""``manage.py expire_redemptions``: release the reservations whose pickup time has passed.

The work is ``rewards.services.redemptions_expire``: each overdue reservation gives its points
back to the rider and its item back to the station's stock, once; run it as often as you like
(every few minutes from cron or a scheduler).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from yizhan.rewards.services import redemptions_expire


class Command(BaseCommand):
    help = (
        "Release every reward reservation that was not picked up in time: its points go back "
        "to the rider and its item back to stock. Safe to run again."
    )

    def handle(self, *args, **options):
        released = redemptions_expire()
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "%(n)s overdue reservation released.",
                    "%(n)s overdue reservations released.",
                    released,
                )
                % {"n": released}
            )
        )
