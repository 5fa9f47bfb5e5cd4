"""Restore an archive written by ``manage.py backup`` (docs/backup.md)."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yizhan.core import backup


class Command(BaseCommand):
    # A backup or restore must not depend on the system checks (nor wait for them to import
    # every URL and API module).
    requires_system_checks: list[str] = []

    help = (
        "Restore the database, MEDIA_ROOT and the private folder of report originals from an "
        "archive of manage.py backup, after checking every checksum and restoring into a scratch "
        "copy first. --list shows the manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument(
            "--list", action="store_true", help="show the manifest and check the checksums only"
        )
        parser.add_argument("--json", action="store_true", help="with --list: the manifest as JSON")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="restore into a scratch copy and check it, change nothing",
        )
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore even into a non-empty database, MEDIA_ROOT or private folder "
            "(kept beside it) or bucket (objects of the same name replaced, others left)",
        )

    def handle(self, *args, **options):
        archive = options["archive"]
        log = self.stdout.write if options["verbosity"] >= 1 else (lambda message: None)
        try:
            if options["list"]:
                manifest = backup.archive_verify(archive)
                if options["json"]:
                    self.stdout.write(json.dumps(manifest, indent=1, ensure_ascii=False))
                else:
                    self.stdout.write(f"archive:    {archive}")
                    for line in backup.manifest_summary(manifest):
                        self.stdout.write(line)
                    self.stdout.write(f"checksums:  all {len(manifest['members'])} members match")
                return
            if not options["dry_run"] and not options["yes"]:
                self._confirm(archive, options["database"])
            result = backup.backup_restore(
                archive,
                alias=options["database"],
                force=options["force"],
                dry_run=options["dry_run"],
                log=log,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        for kept in result.kept:
            log(f"What was there before is kept at {kept}; delete it when you are satisfied.")

    def _confirm(self, archive: Path, alias: str) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "A restore replaces the database, MEDIA_ROOT and the private folder of report "
                "originals: pass --yes to confirm "
                "(or run it in a terminal to be asked)."
            )
        manifest = backup.read_manifest(archive) if archive.is_file() else None
        when = manifest["created_at"] if manifest else "?"
        answer = input(
            f"Restore {archive} (made {when}) into the database {alias!r}, MEDIA_ROOT and the "
            "private folder of report originals, replacing what is there? Type 'yes' to go on: "
        )
        if answer.strip().lower() != "yes":
            raise CommandError("Restore cancelled.")
