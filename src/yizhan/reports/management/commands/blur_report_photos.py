"""Give every report photo stored without a face-blurred copy its copy (``core.faces``), and
move originals still under MEDIA_ROOT to private storage (``reports.storage``).

Run once after the migration that added the copies (``reports.0003``); running it again does
nothing for photos already done. ``--retry-failed`` tries the ones that failed again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yizhan.reports.services import report_photos_blur


class Command(BaseCommand):
    help = "Blur the faces of report photos that have no blurred copy yet (batched, repeatable)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many photos")
        parser.add_argument(
            "--retry-failed", action="store_true", help="Try the photos that failed before again"
        )

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1 or (options["limit"] is not None and options["limit"] < 1):
            raise CommandError("--batch-size and --limit must be at least 1")
        counts = report_photos_blur(
            batch_size=options["batch_size"],
            retry_failed=options["retry_failed"],
            limit=options["limit"],
        )
        self.stdout.write(
            f"blurred {counts['done']}, failed {counts['failed']} (hidden until retried), "
            f"skipped {counts['skipped']}"
        )
