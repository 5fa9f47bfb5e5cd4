"""``manage.py retention``: run the retention jobs now (``--dry-run``: only count).

The same jobs run by themselves as periodic jobs (``privacy.retention.*`` in ``run_jobs``); this
command is for an operator who wants to see what would go, or to catch up at once.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yizhan.privacy.retention import JOBS, setting


class Command(BaseCommand):
    help = (
        "Remove personal data past its retention period (rejected registrations, original "
        "report photos, idempotency keys, old inbox messages, dead API tokens, expired "
        "sessions). --dry-run shows what would go and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; change nothing."
        )
        parser.add_argument(
            "--only",
            action="append",
            choices=[job.name for job in JOBS],
            help="Run only this job (may be repeated).",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        chosen = [job for job in JOBS if not options["only"] or job.name in options["only"]]
        if not chosen:  # pragma: no cover - argparse refuses unknown names
            raise CommandError("No such job.")
        verb = "would remove" if dry_run else "removed"
        total = 0
        for job in chosen:
            count = job.run(dry_run=dry_run)
            total += count
            period = ""
            if job.setting:
                days = setting(job.setting)
                period = f" ({job.setting}={days})" if days > 0 else f" ({job.setting}: off)"
            self.stdout.write(f"{job.name}: {verb} {count} {job.what}{period}")
        note = " (dry run: nothing changed)" if dry_run else ""
        self.stdout.write(f"total: {verb} {total}{note}")
