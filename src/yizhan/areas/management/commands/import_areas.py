"""``manage.py import_areas FILE.geojson [--dry-run]``: load the area tree from GeoJSON.

The command only reads the file; checking and writing is ``areas.services.areas_import``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yizhan.areas.services import areas_import


def read_collection(path: Path) -> Any:
    """The parsed JSON of ``path`` (UTF-8, with or without a BOM); CommandError if it is not."""
    if path.is_dir():
        raise CommandError(_("%(path)s is a directory, not a file.") % {"path": path})
    if not path.exists():
        raise CommandError(_("File %(path)s does not exist.") % {"path": path})
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror or exc}
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(
            _(
                "%(path)s is not UTF-8 text (byte %(position)s cannot be read). Save it as "
                "UTF-8 (a file saved as GBK must be converted first)."
            )
            % {"path": path, "position": exc.start}
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("%(path)s is not valid JSON: %(reason)s (line %(line)s, column %(column)s).")
            % {"path": path, "reason": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from exc
    except (ValueError, RecursionError) as exc:
        # A number with thousands of digits, or arrays nested thousands deep.
        raise CommandError(
            _("%(path)s is not valid JSON: %(reason)s") % {"path": path, "reason": exc}
        ) from exc


class Command(BaseCommand):
    # Plain strings, as in Django's own commands: they are read when the module is imported.
    help = (
        "Import areas (districts, streets, communities, grids) from a GeoJSON FeatureCollection, "
        "all or nothing. See docs/areas.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the GeoJSON file (UTF-8)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and report what would change, without writing anything",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        collection = read_collection(Path(options["file"]))
        dry_run = options["dry_run"]
        result = areas_import(collection=collection, dry_run=dry_run)

        if not result.ok:
            for row, code, message in result.errors:
                if row == 0:
                    line = message
                elif code:
                    line = _("row %(row)s (%(code)s): %(message)s") % {
                        "row": row,
                        "code": code,
                        "message": message,
                    }
                else:
                    line = _("row %(row)s: %(message)s") % {"row": row, "message": message}
                self.stderr.write(line)
            rows = len({row for row, _code, _message in result.errors if row})
            if rows:
                raise CommandError(
                    ngettext(
                        "%(n)s row has errors; nothing was written.",
                        "%(n)s rows have errors; nothing was written.",
                        rows,
                    )
                    % {"n": rows}
                )
            raise CommandError(_("Nothing was written."))

        if dry_run:
            self.stdout.write(
                _(
                    "Dry run, nothing was written: %(created)s would be created, "
                    "%(updated)s updated."
                )
                % {"created": result.created, "updated": result.updated}
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Imported: %(created)s created, %(updated)s updated.")
                    % {"created": result.created, "updated": result.updated}
                )
            )
