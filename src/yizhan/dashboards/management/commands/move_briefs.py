"""``manage.py move_briefs``: move the monthly briefs an earlier version stored under
``MEDIA_ROOT/briefs/`` (public there, and on one machine only) into the private storage
(``dashboards.brief.move_media_briefs``). Run it once on every machine that ran the job; safe to
run again."""

from django.core.management.base import BaseCommand

from yizhan.dashboards.brief import move_media_briefs


class Command(BaseCommand):
    help = "Move stored monthly briefs from MEDIA_ROOT/briefs into the private storage."

    def handle(self, *args, **options):
        moved, known = move_media_briefs()
        self.stdout.write(
            f"{moved} briefs moved to the private storage, "
            f"{known} already there (local copy removed)"
        )
