"""Run the periodic jobs (escalation, expiry, timeouts): once, or in a loop."""

from django.core.management.base import BaseCommand

from yizhan.core import jobs


class Command(BaseCommand):
    help = "Run the periodic jobs that are due (--all: every job now; --loop: keep running)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="run every job now")
        parser.add_argument("--loop", action="store_true", help="keep running")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between checks")

    def handle(self, *args, **options):
        if options["loop"]:
            self.stdout.write("running periodic jobs; Ctrl-C stops")
            jobs.loop(interval=options["interval"])
            return
        for name, result in jobs.run_due(force=options["all"]).items():
            self.stdout.write(f"{name}: {result}")
