"""``manage.py export_stations FILE [--community CODE] [--format xlsx|csv]``.

Writes the registry (or the stations beneath one area) in the import's columns, so the file
can be edited and imported again. The format follows the file's extension unless given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yizhan.areas.models import Area
from yizhan.stations.exchange import FORMATS, export_stations
from yizhan.stations.models import Station


class Command(BaseCommand):
    help = (
        "Export stations and caring corners to an .xlsx or CSV file in the import's columns "
        "(docs/stations-import.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="where to write (.xlsx or .csv)")
        parser.add_argument(
            "--community",
            help="only the stations beneath this area code (a community, street or district)",
        )
        parser.add_argument(
            "--format", choices=FORMATS, help="xlsx or csv (default: from the file's extension)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = options["format"] or path.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            fmt = "xlsx"
        stations = Station.objects.order_by("area_code", "name", "pk")
        code = options["community"]
        if code:
            if not Area.objects.filter(code=code).exists():
                raise CommandError(_("No area has the code %(code)s.") % {"code": code})
            stations = stations.filter(area_code__startswith=code)
        if path.is_dir():
            raise CommandError(_("%(path)s is a directory, not a file.") % {"path": path})
        count = stations.count()
        data = export_stations(stations, fmt)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(reason)s")
                % {"path": path, "reason": exc.strerror or exc}
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Exported %(n)s stations to %(path)s.") % {"n": count, "path": path}
            )
        )
