"""``manage.py check_rollups [--area CODE]``: recount from the facts and compare with the rollups.

Exits 1 and prints the differences when they disagree (at most ``--show`` of them)."""

import sys

from django.core.management.base import BaseCommand

from yizhan.dashboards.services import check_rollups


class Command(BaseCommand):
    help = "Compare the dashboards' rollups with a fresh recount from the facts."

    def add_arguments(self, parser):
        parser.add_argument("--area", default="", help="only this area's subtree")
        parser.add_argument("--show", type=int, default=50, help="differences to print")

    def handle(self, *args, area: str = "", show: int = 50, **options):
        differences = check_rollups(area_code=area.strip())
        if not differences:
            self.stdout.write("rollups agree with a recount")
            return
        for difference in differences[:show]:
            self.stdout.write(str(difference))
        self.stderr.write(f"{len(differences)} rollup rows differ from a recount")
        sys.exit(1)
