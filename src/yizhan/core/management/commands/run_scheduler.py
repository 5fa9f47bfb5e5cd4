"""The scheduler of the production profile: enqueues each periodic job when it is due."""

from django.core.management.base import BaseCommand

from yizhan.core import jobs, tasks


class Command(BaseCommand):
    help = (
        "Enqueue the periodic jobs (core.jobs) on the task queue when they are due; the "
        "workers (manage.py run_huey) run them. Safe to run twice: a job's slot is claimed "
        "once in the shared cache."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between ticks")
        parser.add_argument("--once", action="store_true", help="one tick, then exit")

    def handle(self, *args, **options):
        if tasks.is_immediate():
            self.stderr.write(
                "No task queue is configured (TASK_QUEUE_URL or REDIS_URL): the jobs would run "
                "in this process. Use `manage.py run_jobs --loop` for that."
            )
            raise SystemExit(2)
        if options["once"]:
            for name in tasks.schedule_due():
                self.stdout.write(f"queued {name}")
            return
        self.stdout.write(
            f"scheduling {len(jobs.jobs())} periodic jobs every {options['interval']:g} s; "
            "Ctrl-C stops"
        )
        tasks.schedule_loop(interval=options["interval"])
