"""``manage.py rebuild_rollups [--area CODE]``: recompute the dashboards' rollups from the facts."""

import time

from django.core.management.base import BaseCommand

from yizhan.dashboards.services import rebuild_rollups


class Command(BaseCommand):
    help = "Recompute the dashboards' rollup tables from the facts (all, or one area's subtree)."

    def add_arguments(self, parser):
        parser.add_argument("--area", default="", help="only this area's subtree (and above)")

    def handle(self, *args, area: str = "", **options):
        started = time.perf_counter()
        rows = rebuild_rollups(area_code=area.strip())
        took = time.perf_counter() - started
        self.stdout.write(f"rollups rebuilt: {rows} rows in {took:.1f} s")
