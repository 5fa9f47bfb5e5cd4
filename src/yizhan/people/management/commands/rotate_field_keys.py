"""Re-encrypt every encrypted field and recompute every blind index under the current key.

Set ``FIELD_ENCRYPTION_KEY`` to the new key and ``FIELD_ENCRYPTION_OLD_KEYS`` to the old one,
deploy, run this; when ``--check`` reports nothing left on an old key, drop the old key.
"""

from django.core.management.base import BaseCommand, CommandError

from yizhan.people.rotation import FIELDS, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt encrypted fields and recompute blind indexes with FIELD_ENCRYPTION_KEY, in "
        "batches; safe to interrupt and run again. --check only counts rows left on an old key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; report rows still on an old key (exit status 1 if any).",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, check: bool = False, batch_size: int = 500, verbosity: int = 1, **kw):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(report, last_pk):
            if verbosity >= 2:
                self.stdout.write(f"  {report.label}: {report.rows} rows read (up to id {last_pk})")

        left = unreadable = 0
        for spec in FIELDS:
            report = rotate(spec, check=check, batch_size=batch_size, progress=progress)
            if check:
                line = (
                    f"{report.label}: rows={report.rows} current={report.current} "
                    f"old_key={report.old} unreadable={len(report.unreadable)}"
                )
            else:
                line = (
                    f"{report.label}: rows={report.rows} already_current={report.current} "
                    f"rotated={report.rotated} changed_meanwhile={report.skipped} "
                    f"unreadable={len(report.unreadable)}"
                )
            self.stdout.write(line)
            if report.unreadable:
                shown = ", ".join(str(pk) for pk in report.unreadable[:50])
                more = " …" if len(report.unreadable) > 50 else ""
                self.stderr.write(
                    f"  {report.label}: no configured key opens the rows with id {shown}{more}"
                )
            left += report.old if check else 0
            unreadable += len(report.unreadable)
        if check and (left or unreadable):
            raise CommandError(
                f"{left} rows still use an old key and {unreadable} cannot be read: "
                "keep the old key(s) in FIELD_ENCRYPTION_OLD_KEYS"
                + (" and run rotate_field_keys." if left else ".")
            )
        if check:
            self.stdout.write(self.style.SUCCESS("Every row uses the current key."))
        else:
            self.stdout.write(self.style.SUCCESS("Done."))
