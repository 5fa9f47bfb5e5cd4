"""Import and export of the station registry: Excel (.xlsx) and CSV, one documented set of columns.

The columns (:data:`COLUMNS`, documented in ``docs/stations-import.md``) have Chinese headers,
because the people who fill the sheets in are Chinese staff; English aliases are accepted on
import. An export is written in exactly the import's format, so it re-imports cleanly (and
re-importing an unchanged export changes nothing: every row counts as "unchanged").

An import never writes a model itself: each row goes through ``station_create`` (no reference,
or a new one) or ``station_update`` (a reference that exists, or ``#<id>``: a station without a
reference is exported with its number written that way, so that it re-imports as itself rather
than as a copy), inside one transaction with a savepoint per row, so the services' checks,
permission rules and audit entries hold exactly as they do for the pages and the API. A row
the services refuse becomes a :class:`RowError` (row number, column, message); all-or-nothing
(the default) then rolls every row back, and the report still lists every bad row, so one pass
finds them all.

The reading is defensive because the file comes from a person's desktop: the content decides
the format (an ``.xlsx`` is a zip holding ``xl/workbook.xml``; CSV is text in UTF-8, with or
without a BOM, or GB18030, what Excel on a Chinese Windows saves), anything else is refused as
``invalid_file``, and size, rows and the unpacked size of a workbook are capped.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError, Forbidden, Unauthenticated
from yizhan.core.geo import CRS, parse_crs
from yizhan.core.permissions import Action, is_authenticated, restrict
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import FunctionalZone, StationKind, StationStatus
from yizhan.stations.models import Station
from yizhan.stations.services import catalogue, service_codes, services_mask, station_create
from yizhan.stations.services import station_update as _station_update

#: The largest file accepted (bytes).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: The most stations one file may hold (rows with content, the header not counted).
MAX_ROWS = 20_000
#: An .xlsx is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Columns read from a sheet at most (any further to the right are not read).
MAX_COLUMNS = 100
#: How many rows with content may stand above the header (a title, a note).
_HEADER_SEARCH_ROWS = 5

FORMATS = ("xlsx", "csv")
SHEET_TITLE = "驿站"
NOTES_TITLE = "说明"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

#: Kinds, statuses and zones as written in a sheet (data, in Chinese; codes are accepted too).
KIND_NAMES: dict[str, str] = {
    StationKind.RIDER_STATION: "小哥驿站",
    StationKind.PARTY_SERVICE: "党群服务站",
    StationKind.UNION_STATION: "工会驿站",
    StationKind.CORNER: "爱心角",
}
STATUS_NAMES: dict[str, str] = {StationStatus.OPEN: "开放", StationStatus.SUSPENDED: "暂停"}
ZONE_NAMES: dict[str, str] = {
    FunctionalZone.PARTY: "党建",
    FunctionalZone.STUDY: "学习",
    FunctionalZone.WORK: "工作",
    FunctionalZone.REST: "休息",
    FunctionalZone.SUPPLY: "补给",
}
_STATUS_WORDS = {
    **{name: code for code, name in STATUS_NAMES.items()},
    "开放服务": StationStatus.OPEN,
    "正常": StationStatus.OPEN,
    "暂停服务": StationStatus.SUSPENDED,
}
#: Separators of a list in one cell: 、 , ， ; ； or a new line.
_LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
#: A plain decimal number: digits, an optional point and more digits, an optional sign.
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_CODE = re.compile(r"^\d{12}$")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")
#: What Excel would take for the start of a formula in a CSV cell (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters an .xlsx cannot hold (openpyxl refuses them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    """One documented column: its key (the service's field name), Chinese header and notes."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    width: int = 12
    text: bool = True  # written as text (codes and phone numbers must not become numbers)
    note: str = ""  # the explanation on the template's 说明 sheet (Chinese, like the headers)


COLUMNS: tuple[Column, ...] = (
    Column(
        "ref",
        "外部编号",
        ("ref", "reference", "编号"),
        width=14,
        note="您自己的编号（字母、数字或 . _ : / -，最多 64 个字符）。留空则新建站点；"
        "与已有站点相同则更新该站点。同一文件内不能重复。#加数字（如 #125）指系统内编号为"
        "该数字的站点：导出时没有外部编号的站点写作这样，再导入时更新该站点。",
    ),
    Column("name", "名称", ("name", "站点名称"), True, 26, note="必填，最多 100 个字符。"),
    Column(
        "kind",
        "类型",
        ("kind", "type"),
        True,
        12,
        note="必填：小哥驿站、党群服务站、工会驿站或爱心角（也可写代码 rider_station、"
        "party_service、union_station、corner）。",
    ),
    Column(
        "community",
        "社区代码",
        ("community", "community_code"),
        True,
        16,
        note="必填：站点所在社区的 12 位代码（如 140213055001）。请把这一列设为文本格式，"
        "以免 Excel 把代码变成科学计数法。只能导入您有权管理的社区。",
    ),
    Column("address", "地址", ("address",), width=30, note="最多 200 个字符。"),
    Column(
        "lat",
        "纬度",
        ("lat", "latitude"),
        True,
        12,
        text=False,
        note="必填：十进制度数，如 40.0925（-90 至 90）。位置须在所填社区内。",
    ),
    Column(
        "lng",
        "经度",
        ("lng", "lon", "longitude"),
        True,
        12,
        text=False,
        note="必填：十进制度数，如 113.278（-180 至 180）。",
    ),
    Column(
        "crs",
        "坐标系",
        ("crs", "coordinate_system"),
        width=9,
        note="经纬度所用的坐标系：wgs84（GPS、天地图，默认）、gcj02（高德、腾讯）或 bd09"
        "（百度）。导出时一律为 wgs84。",
    ),
    Column(
        "services",
        "服务",
        ("services",),
        width=30,
        note="服务名称或代码，用 、 或 , 分隔，如 休息、饮水、手机充电。可用的服务见下表。",
    ),
    Column(
        "hours",
        "营业时间",
        ("hours", "opening_hours"),
        width=36,
        note="如 周一至周五 08:00-20:00；周六、周日 09:00-18:00，或 每天 07:00-22:00，"
        "或 24小时。一天可有多个时段：08:00-12:00,14:00-18:00；周日 休息。留空表示未公布。",
    ),
    Column(
        "exceptions",
        "特殊日期",
        ("exceptions", "special_days"),
        width=30,
        note="节假日等特殊日期，用 ； 分隔：2026-10-01 休息；2026-10-02 10:00-16:00。",
    ),
    Column(
        "zones",
        "功能区",
        ("zones",),
        width=18,
        note="党建、学习、工作、休息、补给中的若干项，用 、 分隔。",
    ),
    Column("host_name", "承办单位", ("host_name", "host"), width=18, note="承办的单位或商户。"),
    Column("contact_name", "联系人", ("contact_name", "contact"), width=10),
    Column(
        "contact_phone",
        "联系电话",
        ("contact_phone", "phone"),
        width=15,
        note="公开的服务电话，如 0352-1234567 或 13812341234。",
    ),
    Column("description", "简介", ("description",), width=30, note="最多 500 个字符。"),
    Column(
        "status",
        "状态",
        ("status",),
        width=8,
        note="开放或暂停（也可写 open、suspended）。新建时留空为开放；更新时留空则不变。",
    ),
)
COLUMN_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
REQUIRED = tuple(c.key for c in COLUMNS if c.required)


def _norm_header(value: Any) -> str:
    text = "" if value is None else str(value)
    return re.sub(r"[\s\u3000*＊:：]+", "", text).lower()


_HEADER_KEYS: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.key, *_column.aliases):
        _HEADER_KEYS[_norm_header(_name)] = _column.key


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A row the import refused: its number as the spreadsheet shows it, the column, why."""

    row_number: int
    column: str  # a column key ('' when the row as a whole is refused)
    message: str

    @property
    def header(self) -> str:
        column = COLUMN_BY_KEY.get(self.column)
        return column.header if column else ""


@dataclass
class ImportReport:
    """What an import did (or, when nothing was written, would have done) row by row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0  # rows with content read (the header not counted)
    fmt: str = ""
    dry_run: bool = False
    all_or_nothing: bool = True
    committed: bool = False  # whether the good rows were written
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def failed_rows(self) -> int:
        return len({e.row_number for e in self.errors})


class _Rollback(Exception):
    """Raised at the end of an import that must not be kept (dry run, or all-or-nothing)."""


# --- reading a file ----------------------------------------------------------------------------


def _invalid_file(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_file", field="file")


def _read_bytes(file: Any) -> bytes:
    """The file's bytes (``file`` is bytes, a path, or an open or uploaded file), size-capped."""
    too_big = _invalid_file(
        _("The file is larger than %(mb)s MB: split it into several files.")
        % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
    )
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    elif isinstance(file, str | Path):
        path = Path(file)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise too_big
            data = path.read_bytes()
        except OSError as exc:
            raise _invalid_file(
                _("Cannot read %(path)s: %(reason)s")
                % {"path": path, "reason": exc.strerror or exc}
            ) from exc
    elif hasattr(file, "read"):
        size = getattr(file, "size", None)
        if isinstance(size, int) and size > MAX_FILE_BYTES:
            raise too_big
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise TypeError(f"cannot read a spreadsheet from {type(file).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise too_big
    if not data.strip():
        raise _invalid_file(_("The file is empty."))
    return data


_NOT_A_SPREADSHEET = {
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"%PDF": "PDF",
}


def _not_a_spreadsheet(kind: str | None = None) -> ApplicationError:
    if kind:
        return _invalid_file(
            _(
                "This is not a spreadsheet (it looks like a %(kind)s file): upload an Excel "
                "workbook (.xlsx) or a CSV file."
            )
            % {"kind": kind}
        )
    return _invalid_file(
        _("This is not a spreadsheet: upload an Excel workbook (.xlsx) or a CSV file.")
    )


def detect_format(data: bytes) -> str:
    """``"xlsx"`` or ``"csv"`` from the content; ``invalid_file`` for anything else."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _invalid_file(
            _(
                "This is an old Excel 97-2003 workbook (.xls) or another Office file: open it "
                "in Excel and save it as an Excel workbook (.xlsx) or CSV."
            )
        )
    for magic, kind in _NOT_A_SPREADSHEET.items():
        if data.startswith(magic):
            raise _not_a_spreadsheet(kind)
    _decode(data)  # raises unless it is text
    return "csv"


def _decode(data: bytes) -> str:
    """CSV text: UTF-8 (with or without a BOM), UTF-16 with a BOM (Excel's "Unicode text") or
    GB18030; control characters are refused."""
    encodings = ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ()
    for encoding in (*encodings, "utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        text = text.lstrip("\ufeff")
        if _ILLEGAL_XML.search(text) or "\x7f" in text:
            break  # binary data that happened to decode
        return text
    raise _not_a_spreadsheet()


def _workbook_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of the workbook's station sheet."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _invalid_file(
            _("The file is a damaged zip archive, not a readable Excel workbook.")
        ) from exc
    if "xl/workbook.xml" not in names:
        kind = "Word" if "word/document.xml" in names else None
        kind = kind or ("PowerPoint" if "ppt/presentation.xml" in names else None)
        raise _not_a_spreadsheet(kind or "zip")
    if unpacked > MAX_UNPACKED_BYTES:
        raise _invalid_file(
            _("The workbook unpacks to more than %(mb)s MB: split it into several files.")
            % {"mb": MAX_UNPACKED_BYTES // (1024 * 1024)}
        )
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on a malformed workbook
        raise _invalid_file(
            _("The workbook could not be read (%(reason)s): open it in Excel and save it again.")
            % {"reason": type(exc).__name__}
        ) from exc
    try:
        sheets = [ws for ws in workbook.worksheets if ws.title != NOTES_TITLE]
        if not sheets:
            raise _invalid_file(_("The workbook has no sheet of stations."))
        try:
            for number, values in enumerate(
                sheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
            ):
                yield number, list(values)
        except ApplicationError:
            raise
        except Exception as exc:
            raise _invalid_file(
                _(
                    "The workbook could not be read (%(reason)s): open it in Excel and save it "
                    "again."
                )
                % {"reason": type(exc).__name__}
            ) from exc
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, values in enumerate(reader, start=1):
            yield number, [_unguard(v) for v in values[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise _invalid_file(
            _("Line %(line)s of the CSV file cannot be read: %(reason)s")
            % {"line": reader.line_num, "reason": exc}
        ) from exc


def _unguard(value: str) -> str:
    """Undo the export's guard against formulas: ``'=…`` back to ``=…``."""
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class _Sheet:
    """A sheet read into memory: the column key of each position, and the rows with content."""

    columns: list[str | None]
    rows: list[tuple[int, list[Any]]]
    ignored: list[str]


def _known(values: list[Any]) -> int:
    return sum(1 for v in values if _norm_header(v) in _HEADER_KEYS)


def _find_header(iterator: Iterator[tuple[int, list[Any]]]) -> list[Any]:
    """The header row: the first row naming two columns or more among the first few rows with
    content (a sheet may have a title above it), else the first row with content."""
    first: list[Any] | None = None
    for seen, (_number, values) in enumerate(
        (item for item in iterator if not all(_blank(v) for v in item[1])), start=1
    ):
        if first is None:
            first = values
        if _known(values) >= 2:
            return values
        if seen >= _HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise _invalid_file(_("The file has no header row and no stations."))
    return first


def _read_sheet(rows: Iterable[tuple[int, list[Any]]]) -> _Sheet:
    iterator = iter(rows)
    header = _find_header(iterator)
    columns: list[str | None] = []
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for value in header:
        text = "" if value is None else str(value).strip()
        key = _HEADER_KEYS.get(_norm_header(text))
        if key is not None and key in seen:
            raise ApplicationError(
                _("The column %(column)s appears twice (%(first)s and %(second)s).")
                % {"column": COLUMN_BY_KEY[key].header, "first": seen[key], "second": text},
                code="duplicate_column",
                field="file",
            )
        if key is not None:
            seen[key] = text
        elif text:
            ignored.append(text)
        columns.append(key)
    missing = [COLUMN_BY_KEY[k].header for k in REQUIRED if k not in seen]
    if missing:
        raise ApplicationError(
            ngettext(
                "The file lacks the required column %(columns)s (the header row must name it).",
                "The file lacks the required columns %(columns)s (the header row must name them).",
                len(missing),
            )
            % {"columns": "、".join(missing)},
            code="missing_columns",
            field="file",
            detail={"missing": missing},
        )
    body: list[tuple[int, list[Any]]] = []
    for number, values in iterator:
        if all(_blank(v) for v in values):
            continue
        if len(body) >= MAX_ROWS:
            raise ApplicationError(
                _("The file has more than %(n)s stations: split it into several files.")
                % {"n": f"{MAX_ROWS:,}"},
                code="too_many_rows",
                field="file",
            )
        body.append((number, values))
    return _Sheet(columns=columns, rows=body, ignored=ignored)


def read_rows(data: bytes, fmt: str | None = None) -> tuple[str, _Sheet]:
    """The format and the parsed sheet of ``data`` (checks only the file, not the rows)."""
    detected = detect_format(data)
    if fmt is not None:
        if fmt not in FORMATS:
            raise ApplicationError(
                _("Unknown format %(fmt)s: use xlsx or csv.") % {"fmt": str(fmt)[:10]},
                code="invalid_format",
                field="format",
            )
        if fmt != detected:
            raise _invalid_file(
                _("The file is not a %(expected)s file (its content is %(found)s).")
                % {"expected": fmt.upper(), "found": detected.upper()}
            )
    rows = _workbook_rows(data) if detected == "xlsx" else _csv_rows(data)
    return detected, _read_sheet(rows)


# --- reading one row ---------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ``.0``, dates as 2026-10-01."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).replace("\ufeff", "").strip()


def _coordinate(value: Any, *, key: str, low: float, high: float) -> float:
    header = COLUMN_BY_KEY[key].header
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and _DECIMAL.match(value.strip()):
        number = float(value.strip())
    if _blank(value):
        raise ApplicationError(_("%(column)s is required.") % {"column": header}, field=key)
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise ApplicationError(
            _("%(column)s must be a decimal number such as %(example)s, not %(value)s.")
            % {
                "column": header,
                "example": "40.0925" if key == "lat" else "113.278",
                "value": _cell_text(value)[:30],
            },
            code="invalid_location",
            field=key,
        )
    if not low <= number <= high:
        raise ApplicationError(
            _("%(column)s must be between %(low)s and %(high)s, not %(value)s.")
            % {"column": header, "low": int(low), "high": int(high), "value": _cell_text(value)},
            code="invalid_location",
            field=key,
        )
    return number


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def _kind(text: str) -> str:
    value = text.strip()
    by_name = {name: code for code, name in KIND_NAMES.items()}
    kind = by_name.get(value) or (value.lower() if value.lower() in StationKind.values else None)
    if kind is None:
        raise ApplicationError(
            _("%(value)s is not a kind of station: write one of %(kinds)s.")
            % {"value": value[:30] or '""', "kinds": "、".join(KIND_NAMES.values())},
            code="invalid_kind",
            field="kind",
        )
    return kind


def _status(text: str) -> str:
    value = text.strip()
    status = _STATUS_WORDS.get(value) or (
        value.lower() if value.lower() in StationStatus.values else None
    )
    if status is None:
        raise ApplicationError(
            _("%(value)s is not a status: write 开放 or 暂停.") % {"value": value[:30]},
            field="status",
        )
    return status


def _zones(text: str) -> list[str]:
    by_name = {name: code for code, name in ZONE_NAMES.items()}
    zones: list[str] = []
    for part in _split(text):
        zone = by_name.get(part) or (
            part.lower() if part.lower() in FunctionalZone.values else None
        )
        if zone is None:
            raise ApplicationError(
                _("%(value)s is not a functional zone: write %(zones)s.")
                % {"value": part[:20], "zones": "、".join(ZONE_NAMES.values())},
                field="zones",
            )
        if zone not in zones:
            zones.append(zone)
    return zones


def _services(text: str) -> list[str]:
    mask = 0
    for part in _split(text):
        mask |= services_mask([part])  # raises unknown_service on the "services" field
    return service_codes(mask)


class _Communities:
    """Community look-ups by code, cached for the length of one import."""

    def __init__(self) -> None:
        self._cache: dict[str, Area | None] = {}

    def get(self, value: Any) -> Area:
        code = _cell_text(value)
        if not code:
            raise ApplicationError(
                _("%(column)s is required.") % {"column": COLUMN_BY_KEY["community"].header},
                field="community",
            )
        if _SCIENTIFIC.match(code):
            raise ApplicationError(
                _(
                    "%(value)s is a community code that Excel turned into a number: format the "
                    "column as text and type the 12 digits again."
                )
                % {"value": code[:20]},
                code="unknown_area",
                field="community",
            )
        if not _CODE.match(code):
            raise ApplicationError(
                _("%(value)s is not a community code: a community code has 12 digits.")
                % {"value": code[:20]},
                code="unknown_area",
                field="community",
            )
        if code not in self._cache:
            self._cache[code] = Area.objects.filter(code=code).first()
        area = self._cache[code]
        if area is None:
            raise ApplicationError(
                _("No community has the code %(code)s.") % {"code": code},
                code="unknown_area",
                field="community",
            )
        if area.level != AreaLevel.COMMUNITY:
            raise ApplicationError(
                _("%(code)s is %(name)s, not a community.") % {"code": code, "name": area.name},
                code="not_a_community",
                field="community",
            )
        return area


@dataclass
class _Row:
    """One row, parsed into what the services take; ``errors`` holds every column's problem."""

    number: int
    present: set[str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def check(self, key: str, parse: Callable[[], Any]) -> None:
        try:
            self.values[key] = parse()
        except ApplicationError as exc:
            self.errors.append((_column_of(exc, default=key), str(exc.message)))


def _column_of(exc: ApplicationError, *, default: str = "") -> str:
    if exc.field in COLUMN_BY_KEY:
        return exc.field
    if isinstance(exc, Forbidden | Unauthenticated):
        return "community"  # permission follows the community a station belongs to
    if exc.field == "location":
        return "lat"
    return default


def _required(key: str) -> str:
    return _("%(column)s is required.") % {"column": COLUMN_BY_KEY[key].header}


def _parse_row(number: int, cells: dict[str, Any], communities: _Communities) -> _Row:
    row = _Row(number=number, present=set(cells))
    text = {key: _cell_text(value) for key, value in cells.items()}
    row.check("ref", lambda: text.get("ref", ""))
    if not text.get("name"):
        row.errors.append(("name", _required("name")))
    else:
        row.values["name"] = text["name"]
    if not text.get("kind"):
        row.errors.append(("kind", _required("kind")))
    else:
        row.check("kind", lambda: _kind(text["kind"]))
    row.check("community", lambda: communities.get(cells.get("community")))
    row.check("lat", lambda: _coordinate(cells.get("lat"), key="lat", low=-90, high=90))
    row.check("lng", lambda: _coordinate(cells.get("lng"), key="lng", low=-180, high=180))
    row.check("crs", lambda: parse_crs(text.get("crs", "")))
    if "services" in cells:
        row.check("services", lambda: _services(text["services"]))
    if "hours" in cells:
        row.check("hours", lambda: hours_module.parse_text(text["hours"]))
    if "exceptions" in cells:
        row.check("exceptions", lambda: _exceptions(text["exceptions"]))
    if "zones" in cells:
        row.check("zones", lambda: _zones(text["zones"]))
    for key in ("address", "host_name", "contact_name", "contact_phone", "description"):
        if key in cells:
            row.values[key] = text[key]
    if text.get("status"):
        row.check("status", lambda: _status(text["status"]))
    return row


def _exceptions(text: str) -> dict:
    """Dated exceptions alone (merged with the weekly hours later); errors on this column."""
    try:
        return dict(hours_module.parse_exceptions_text(hours_module.NOT_SET, text).exceptions)
    except ApplicationError as exc:
        exc.field = "exceptions"
        raise


def _hours(row: _Row, current: hours_module.Hours) -> hours_module.Hours | None:
    """The row's hours: its weekly hours and exceptions, each kept from ``current`` when the
    sheet has no such column. ``None`` when the sheet has neither column."""
    if "hours" not in row.present and "exceptions" not in row.present:
        return None
    weekly = row.values["hours"] if "hours" in row.present else current
    exceptions = row.values["exceptions"] if "exceptions" in row.present else current.exceptions
    return replace(weekly, exceptions=dict(exceptions), known=weekly.known or bool(exceptions))


# --- writing -----------------------------------------------------------------------------------

#: What a station's row can change; an update that changes none of it counts as "unchanged".
_COMPARED = (
    "name", "kind", "address", "lat", "lng", "grid_id", "area_code", "status", "host_name",
    "contact_name", "contact_phone", "description", "services_mask", "zones", "hours",
)  # fmt: skip
#: Optional columns passed to the services as they are (when the sheet has the column).
_PASSED = (
    "address", "services", "zones", "host_name", "contact_name", "contact_phone", "description",
    "status",
)  # fmt: skip


def _state(station: Station) -> tuple:
    return tuple(getattr(station, name) for name in _COMPARED)


def _create(row: _Row, actor: Any) -> Station:
    v = row.values
    hours = _hours(row, hours_module.NOT_SET)
    kwargs: dict[str, Any] = {key: v[key] for key in _PASSED if key in v}
    return station_create(
        name=v["name"],
        kind=v["kind"],
        community=v["community"],
        lat=v["lat"],
        lng=v["lng"],
        crs=v["crs"],
        ref=v["ref"],
        hours=hours,
        actor=actor,
        **kwargs,
    )


def _update(row: _Row, station: Station, actor: Any) -> bool:
    """Apply the row to ``station``; whether anything changed."""
    v = row.values
    if station.community_id != v["community"].pk:
        raise ApplicationError(
            _(
                "The station %(ref)s is registered in %(community)s (%(code)s); an import cannot "
                "move it to another community."
            )
            % {
                "ref": station.ref or f"#{station.pk}",
                "community": station.community.name,
                "code": station.community.code,
            },
            code="community_changed",
            field="community",
        )
    changes: dict[str, Any] = {
        "name": v["name"],
        "kind": v["kind"],
        "location": (v["lat"], v["lng"], v["crs"]),
    }
    changes.update((key, v[key]) for key in _PASSED if key in v)
    hours = _hours(row, station.opening_hours)
    if hours is not None:
        changes["hours"] = hours
    before = _state(station)
    updated = _station_update(station=station, actor=actor, **changes)
    return _state(updated) != before


def import_stations(
    file: Any,
    *,
    actor: Any,
    fmt: str | None = None,
    all_or_nothing: bool = True,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import stations from an .xlsx or CSV file (bytes, a path or an open file) as ``actor``.

    Each row creates a station (no reference, or an unknown one) or updates the station with
    its reference, through the services. A refused row is a :class:`RowError`; with
    ``all_or_nothing`` any refused row rolls every row back. ``dry_run`` checks every row the
    same way and rolls back. A file that is not a spreadsheet, lacks required columns or is too
    large raises ``ApplicationError`` before any row is read.
    """
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    data = _read_bytes(file)
    detected, sheet = read_rows(data, fmt)
    report = ImportReport(
        fmt=detected,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        ignored_columns=sheet.ignored,
        rows=len(sheet.rows),
    )
    total = len(sheet.rows)
    communities = _Communities()
    refs_seen: dict[str, int] = {}
    stations_seen: dict[int, int] = {}
    try:
        with transaction.atomic():
            existing = _stations_by_ref(sheet, actor)
            for done, (number, values) in enumerate(sheet.rows, start=1):
                cells = {
                    key: values[i] if i < len(values) else None
                    for i, key in enumerate(sheet.columns)
                    if key is not None
                }
                row = _parse_row(number, cells, communities)
                ref = row.values.get("ref", "")
                station = None
                if ref:
                    if ref in refs_seen:
                        row.errors.append(
                            (
                                "ref",
                                _("The reference %(ref)s is also on row %(row)s.")
                                % {"ref": ref, "row": refs_seen[ref]},
                            )
                        )
                    else:
                        refs_seen[ref] = number
                    station = _station_for(row, ref, existing)
                if station is not None and not row.errors:
                    # The same station by its reference on one row and by #id on another.
                    if station.pk in stations_seen:
                        row.errors.append(
                            (
                                "ref",
                                _("This station (%(ref)s) is also on row %(row)s.")
                                % {"ref": f"#{station.pk}", "row": stations_seen[station.pk]},
                            )
                        )
                    else:
                        stations_seen[station.pk] = number
                outcome = _apply(row, station, actor)
                if outcome is None:
                    report.errors.extend(RowError(number, col, msg) for col, msg in row.errors)
                else:
                    setattr(report, outcome, getattr(report, outcome) + 1)
                if progress is not None:
                    progress(done, total)
            if dry_run or (all_or_nothing and report.errors):
                raise _Rollback
            report.committed = True
    except _Rollback:
        report.committed = False
    return report


#: A reference that names a station by its number (``#125``): what an export writes for a
#: station without a reference of its own. References cannot contain ``#`` (``services._REF``).
_ID_REF = re.compile(r"^#(\d{1,18})$")
#: Stations found by ``#<id>`` that the actor may not operate (``_stations_by_ref``).
_NOT_YOURS = object()


def _stations_by_ref(sheet: _Sheet, actor: Any) -> dict[str, Any]:
    """The stations the sheet's references name: by reference, and by ``#<id>`` — the latter
    only among the stations ``actor`` may operate (the others map to ``_NOT_YOURS``)."""
    if "ref" not in sheet.columns:
        return {}
    position = sheet.columns.index("ref")
    refs = sorted(
        {
            _cell_text(values[position])
            for _n, values in sheet.rows
            if position < len(values) and _cell_text(values[position])
        }
    )
    ids = {int(m[1]): ref for ref in refs if (m := _ID_REF.match(ref))}
    refs = [ref for ref in refs if not ref.startswith("#")]
    found: dict[str, Any] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        for station in Station.objects.filter(ref__in=chunk).select_related("community"):
            found[station.ref] = station
    numbers = sorted(ids)
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        allowed = restrict(Station.objects.filter(pk__in=chunk), actor, Action.OPERATE)
        for station in allowed.select_related("community"):
            found[ids[station.pk]] = station
        for pk in (
            Station.objects.filter(pk__in=chunk)
            .exclude(pk__in=allowed.values("pk"))
            .values_list("pk", flat=True)
        ):
            found[ids[pk]] = _NOT_YOURS
    return found


def _station_for(row: _Row, ref: str, existing: dict[str, Any]) -> Station | None:
    """The station a row's reference names (None: a new one), or None with a row error for a
    ``#<id>`` that names no station, or one the actor may not operate."""
    station = existing.get(ref)
    if not ref.startswith("#"):
        return station
    if station is _NOT_YOURS:
        row.errors.append(("ref", _("You may not change the station %(ref)s.") % {"ref": ref}))
    elif station is None:
        row.errors.append(
            (
                "ref",
                _(
                    "There is no station %(ref)s (# and a number name a station by its "
                    "number, as an export writes it): leave the reference empty to add it as "
                    "a new station."
                )
                % {"ref": ref},
            )
        )
    else:
        return station
    return None


def _apply(row: _Row, station: Station | None, actor: Any) -> str | None:
    """Write one row in its own savepoint: "created", "updated", "unchanged", or None (refused,
    the reasons in ``row.errors``)."""
    if row.errors:
        return None
    try:
        with transaction.atomic():
            if station is None:
                _create(row, actor)
                return "created"
            return "updated" if _update(row, station, actor) else "unchanged"
    except ApplicationError as exc:
        row.errors.append((_column_of(exc), str(exc.message)))
    except (IntegrityError, DataError):
        # A constraint the services did not foresee (e.g. another import took the reference
        # meanwhile): the row is refused, the savepoint undid it, the import goes on.
        row.errors.append(("", _("The database refused this row; check it and try again.")))
    return None


# --- writing files -----------------------------------------------------------------------------


def _service_names(mask: int) -> str:
    return "、".join(
        name for _code, bit, name, _en, active in catalogue() if active and mask >> bit & 1
    )


def station_row(station: Station) -> list[Any]:
    """The values of one station in :data:`COLUMNS` order (numbers as numbers)."""
    hours = station.opening_hours
    values = {
        # Without a reference of its own, the station's number: it re-imports as itself.
        "ref": station.ref or f"#{station.pk}",
        "name": station.name,
        "kind": KIND_NAMES.get(station.kind, station.kind),
        "community": station.community.code,
        "address": station.address,
        "lat": station.lat,
        "lng": station.lng,
        "crs": CRS.WGS84.value,
        "services": _service_names(station.services_mask),
        "hours": hours_module.format_text(hours),
        "exceptions": hours_module.format_exceptions(hours),
        "zones": "、".join(ZONE_NAMES.get(z, z) for z in station.zones or []),
        "host_name": station.host_name,
        "contact_name": station.contact_name,
        "contact_phone": station.contact_phone,
        "description": station.description,
        "status": STATUS_NAMES.get(station.status, station.status),
    }
    return [values[c.key] for c in COLUMNS]


def _csv_bytes(rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for row in rows:
        writer.writerow(
            [_csv_cell(value, column) for value, column in zip(row, COLUMNS, strict=True)]
        )
    # The BOM makes Excel read the file as UTF-8 (without it, Chinese turns into mojibake).
    return buffer.getvalue().encode("utf-8-sig")


def _csv_cell(value: Any, column: Column) -> str:
    if isinstance(value, float):
        return repr(value)
    text = "" if value is None else str(value)
    if column.text and text.startswith(_FORMULA_START):
        return "'" + text  # Excel would run it as a formula; the import strips the quote
    return text


def _header_cells(ws: Any) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    cells = []
    for column in COLUMNS:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = Font(bold=True, color="C00000" if column.required else None)
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        cell.alignment = Alignment(vertical="center")
        cells.append(cell)
    return cells


def _data_cells(ws: Any, row: list[Any]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value, column in zip(row, COLUMNS, strict=True):
        if isinstance(value, str):
            value = _ILLEGAL_XML.sub("", value)
        cell = WriteOnlyCell(ws, value=value if value != "" else None)
        if column.text:
            cell.number_format = "@"
            if isinstance(value, str) and value:
                cell.data_type = "s"  # never a formula, whatever it starts with
        cells.append(cell)
    return cells


def _size_columns(ws: Any) -> None:
    from openpyxl.utils import get_column_letter

    for index, column in enumerate(COLUMNS, start=1):
        dimension = ws.column_dimensions[get_column_letter(index)]
        dimension.width = max(column.width, 2 * len(column.header) + 2)
        if column.text:
            dimension.number_format = "@"


def _xlsx_bytes(rows: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)  # streams: an export of 100,000 rows stays small
    ws = workbook.create_sheet(SHEET_TITLE)
    ws.freeze_panes = "A2"
    _size_columns(ws)
    ws.append(_header_cells(ws))
    for row in rows:
        ws.append(_data_cells(ws, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _check_fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ApplicationError(
            _("Unknown format %(fmt)s: use xlsx or csv.") % {"fmt": str(fmt)[:10]},
            code="invalid_format",
            field="format",
        )
    return fmt


def export_stations(stations: QuerySet, fmt: str = "xlsx") -> bytes:
    """The stations as an .xlsx or CSV file in the import's columns; it re-imports cleanly.

    The caller passes the stations already scoped to what the user may see. Coordinates are
    WGS-84 (the 坐标系 column says so); services list the active catalogue entries.
    """
    _check_fmt(fmt)
    rows = (station_row(s) for s in stations.select_related("community").iterator(chunk_size=2000))
    return _xlsx_bytes(rows) if fmt == "xlsx" else _csv_bytes(rows)


#: The template's example row where no community is given: 清远西街社区 of the demo street.
EXAMPLE_COMMUNITY = ("140213055001", 40.0925, 113.278)


def example_row(community: Area | None = None) -> list[Any]:
    """One filled-in row for the template, in ``community`` (at its centre) when given."""
    if community is not None and community.center_lat is not None:
        code, lat, lng = community.code, community.center_lat, community.center_lng
        lat, lng = round(lat, 6), round(lng, 6)
    else:
        code, lat, lng = EXAMPLE_COMMUNITY
    values = {
        "ref": "QY-0001",
        "name": "清远西街小哥驿站",
        "kind": KIND_NAMES[StationKind.RIDER_STATION],
        "community": code,
        "address": "清远西街 18 号",
        "lat": lat,
        "lng": lng,
        "crs": CRS.WGS84.value,
        "services": "、".join(
            name
            for c, _bit, name, _en, active in catalogue()
            if active and c in {"rest", "water", "phone_charging", "meal_heating"}
        ),
        "hours": "周一至周五 08:00-20:00；周六、周日 09:00-18:00",
        "exceptions": "",
        "zones": "、".join([ZONE_NAMES[FunctionalZone.REST], ZONE_NAMES[FunctionalZone.SUPPLY]]),
        "host_name": "清远西街社区",
        "contact_name": "张三",
        "contact_phone": "0352-1234567",
        "description": "为快递员、外卖骑手提供休息、饮水、充电等服务。",
        "status": STATUS_NAMES[StationStatus.OPEN],
    }
    return [values[c.key] for c in COLUMNS]


def _notes_rows() -> list[list[str]]:
    rows = [["列名", "英文名", "必填", "说明"]]
    for column in COLUMNS:
        rows.append([column.header, column.key, "是" if column.required else "", column.note])
    rows.append([])
    rows.append(["类型", "代码"])
    rows.extend([name, code] for code, name in KIND_NAMES.items())
    rows.append([])
    rows.append(["服务", "代码", "英文名"])
    rows.extend([name, code, en] for code, _bit, name, en, active in catalogue() if active)
    rows.append([])
    rows.append(["功能区", "代码"])
    rows.extend([name, code] for code, name in ZONE_NAMES.items())
    rows.append([])
    rows.append(["状态", "代码"])
    rows.extend([name, code] for code, name in STATUS_NAMES.items())
    rows.append([])
    rows.append([f"每个文件最多 {MAX_ROWS:,} 行、{MAX_FILE_BYTES // 2**20} MB。"])
    return rows


def template_file(fmt: str = "xlsx", *, community: Area | None = None) -> bytes:
    """An empty sheet to fill in: the header row and one example row (in ``community`` when
    given); the .xlsx also has a sheet 说明 explaining each column and listing the valid kinds,
    services, zones and statuses, and drop-down lists for the kind, system and status."""
    _check_fmt(fmt)
    example = example_row(community)
    if fmt == "csv":
        return _csv_bytes([example])
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    ws = workbook.active
    ws.title = SHEET_TITLE
    ws.freeze_panes = "A2"
    _size_columns(ws)
    ws.append([c.header for c in COLUMNS])
    for cell, column in zip(ws[1], COLUMNS, strict=True):
        cell.font = Font(bold=True, color="C00000" if column.required else None)
    ws.append(example)
    for cell, column in zip(ws[2], COLUMNS, strict=True):
        if column.text and isinstance(cell.value, str):
            cell.data_type = "s"
            cell.number_format = "@"
    choices = {
        "kind": list(KIND_NAMES.values()),
        "crs": [c.value for c in CRS],
        "status": list(STATUS_NAMES.values()),
    }
    for key, values in choices.items():
        letter = get_column_letter([c.key for c in COLUMNS].index(key) + 1)
        validation = DataValidation(
            type="list", formula1='"' + ",".join(values) + '"', allow_blank=True
        )
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        ws.add_data_validation(validation)
    notes = workbook.create_sheet(NOTES_TITLE)
    for row in _notes_rows():
        notes.append(row)
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 16
    notes.column_dimensions["C"].width = 16
    notes.column_dimensions["D"].width = 90
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for row in notes.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(fmt: str, *, template: bool = False) -> str:
    """A download's file name (ASCII, so every browser keeps it)."""
    stem = "stations-template" if template else f"stations-{timezone.localdate().isoformat()}"
    return f"{stem}.{fmt}"


def template_for(user: Any, fmt: str = "xlsx") -> bytes:
    """The template for ``user``: its example row lies in the first community (by code) that
    the user may operate, so the template re-imports as it is; the demo street's otherwise."""
    _check_fmt(fmt)
    community = (
        restrict(Area.objects.filter(level=AreaLevel.COMMUNITY), user, Action.OPERATE)
        .defer("boundary")
        .order_by("code")
        .first()
    )
    return template_file(fmt, community=community)


def download_response(data: bytes, fmt: str, name: str) -> HttpResponse:
    """``data`` as a file download (an export or a template) named ``name``."""
    content_type = XLSX_CONTENT_TYPE if fmt == "xlsx" else CSV_CONTENT_TYPE
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
