"""``manage.py import_stations FILE --as USERNAME [--keep-good-rows] [--dry-run]``.

Reads an .xlsx or CSV file of stations (the columns of docs/stations-import.md) and imports it
through ``stations.exchange.import_stations`` as the named account, so every row is checked
against what that account may operate, exactly as in the back office. A progress bar goes to
stderr, then one line per refused row; the exit status is 1 when any row was refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yizhan.core.errors import ApplicationError
from yizhan.stations.exchange import ImportReport, import_stations


class ProgressBar:
    """``[#####.....]  512/2000`` on one line of ``stream``, redrawn at most ten times a second
    (and for the last row); nothing more is needed to watch a long import."""

    width = 30

    def __init__(self, write: Callable[[str], Any], *, interval: float = 0.1) -> None:
        self.write = write
        self.interval = interval
        self.last = float("-inf")
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.interval:
            return
        self.last = now
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        self.write(f"\r[{bar}] {done}/{total}")
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            self.write("\n")
            self.drawn = False


def error_lines(report: ImportReport) -> list[str]:
    lines = []
    for error in report.errors:
        if error.header:
            lines.append(
                _("row %(row)s, %(column)s: %(message)s")
                % {"row": error.row_number, "column": error.header, "message": error.message}
            )
        else:
            lines.append(
                _("row %(row)s: %(message)s") % {"row": error.row_number, "message": error.message}
            )
    return lines


class Command(BaseCommand):
    # Plain strings, as in Django's own commands: they are read when the module is imported.
    help = (
        "Import stations and caring corners from an .xlsx or CSV file as a user (whose "
        "permissions apply to every row); all or nothing unless --keep-good-rows. See "
        "docs/stations-import.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="the username of the account the import runs as",
        )
        parser.add_argument(
            "--keep-good-rows",
            action="store_true",
            help="write the rows without errors even when other rows have some",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report, without writing anything",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File %(path)s does not exist.") % {"path": path})
        actor = self._account(options["username"])
        bar = ProgressBar(self._progress)
        try:
            report = import_stations(
                path,
                actor=actor,
                all_or_nothing=not options["keep_good_rows"],
                dry_run=options["dry_run"],
                progress=bar,
            )
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        finally:
            bar.finish()

        for line in error_lines(report):
            self.stderr.write(line)
        counts = {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
        if report.ignored_columns:
            self.stderr.write(
                _("Columns ignored (not documented): %(columns)s")
                % {"columns": "、".join(report.ignored_columns)}
            )
        if report.dry_run:
            summary = _(
                "Dry run, nothing was written: %(created)s would be created, %(updated)s "
                "updated, %(unchanged)s unchanged."
            )
        elif report.committed:
            summary = _(
                "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged."
            )
        else:
            summary = _("Nothing was written.")
        if report.ok:
            self.stdout.write(self.style.SUCCESS(summary % counts))
            return
        if report.committed or report.dry_run:
            self.stdout.write(summary % counts)
        raise CommandError(
            ngettext(
                "%(n)s row has errors (see above).",
                "%(n)s rows have errors (see above).",
                report.failed_rows,
            )
            % {"n": report.failed_rows}
            + ("" if report.committed or report.dry_run else " " + summary % counts)
        )

    def _progress(self, text: str) -> None:
        # Plain (not the error colour), no line ending added, and shown at once.
        self.stderr.write(text, style_func=str, ending="")
        self.stderr.flush()

    def _account(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No account has the username %(name)s.") % {"name": username})
        if not user.is_active:
            raise CommandError(_("The account %(name)s is disabled.") % {"name": username})
        return user
