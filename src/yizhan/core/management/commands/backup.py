"""Back up the database, MEDIA_ROOT and the private report originals into one archive
(docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yizhan.core import backup


class Command(BaseCommand):
    # A backup or restore must not depend on the system checks (nor wait for them to import
    # every URL and API module).
    requires_system_checks: list[str] = []

    help = (
        "Write the database (SQLite online backup or pg_dump -Fc), MEDIA_ROOT and the private "
        "folder of report originals (PRIVATE_MEDIA_ROOT) — with S3_BUCKET set, the bucket's "
        "objects instead — with a manifest, into one archive in --output or settings.BACKUP_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help="directory for the archive (default: BACKUP_DIR)"
        )
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--gzip", action="store_true", help="compress the archive (.tar.gz)")
        parser.add_argument(
            "--keep", type=int, help="afterwards delete all but the newest N archives there"
        )

    def handle(self, *args, **options):
        log = self.stdout.write if options["verbosity"] >= 1 else (lambda message: None)
        try:
            result = backup.backup_create(
                alias=options["database"],
                output=options["output"],
                compress=options["gzip"],
                keep=options["keep"],
                log=log,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        rows = sum(m["rows"] for m in manifest["models"].values())
        log(
            f"Wrote {result.path} ({result.path.stat().st_size} bytes: {rows} rows in "
            f"{len(manifest['models'])} tables, {manifest['media']['files']} media files, "
            f"{manifest['private']['files']} private files)."
        )
        for what, where in manifest.get("object_storage", {}).items():
            log(f"The {what} files were read from object storage: {where}.")
        for path in result.removed:
            log(f"Removed the older archive {path}.")
