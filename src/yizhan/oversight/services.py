"""Writes of the oversight app: a decision on a queue item, and the record of an export.

A decision goes through the service of the app that owns the item
(``reports.services.report_points_decide``, ``points.services.points_award_review``): they lock
the row, check the actor's permission, pay or not, and write the audit entry. Deciding an item
that is no longer held is refused (409 ``already_decided``), so a double click pays once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, NotFound
from yizhan.core.models import AuditEntry
from yizhan.core.permissions import Action, get_for_user, is_authenticated, scope_code
from yizhan.core.validation import clean_text
from yizhan.oversight.selectors import Kind
from yizhan.points import services as points_services
from yizhan.points.models import ManualAward
from yizhan.reports import services as report_services
from yizhan.reports.models import Report

RELEASE, REJECT = "release", "reject"
DECISIONS = (RELEASE, REJECT)
#: An .xlsx is built in memory: at most this many rows (CSV streams without a bound).
MAX_XLSX_ROWS = 50_000
#: The export's columns, in Chinese (the file goes to Chinese offices whatever the UI language).
HEADERS = ["时间", "操作人", "操作人账号", "操作", "对象类型", "对象编号", "区域代码", "详情"]
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def review_decide(*, kind: Any, item_id: Any, actor: Any, decision: Any, reason: Any) -> Any:
    """Release (pay) or reject (no pay) one held item, with a reason. Returns the item's row."""
    if decision not in DECISIONS:
        raise ApplicationError(
            _("Please choose release or reject."), code="invalid_decision", field="decision"
        )
    reason = clean_text(
        reason,
        field="reason",
        limit=200,
        required=True,
        message=_("Please give the reason for your decision."),
    )
    release = decision == RELEASE
    if kind == Kind.REPORT:
        report = get_for_user(Report.objects.all(), actor, Action.OPERATE, pk=item_id)
        try:
            return report_services.report_points_decide(
                report=report, actor=actor, pay=release, note=reason
            )
        except Conflict as exc:
            if exc.code == "points_not_held":
                raise Conflict(
                    _("This item has already been decided."), code="already_decided"
                ) from None
            raise
    if kind == Kind.AWARD:
        award = get_for_user(ManualAward.objects.all(), actor, Action.OPERATE, pk=item_id)
        return points_services.points_award_review(
            award=award, actor=actor, release=release, note=reason
        )
    raise NotFound(_("Not found, or you may not see it."))


# --- the audit log's export --------------------------------------------------------------------


def _cell(value: Any) -> str:
    """Text for a spreadsheet cell; a leading = + - @ is quoted so no formula runs."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _row(entry: AuditEntry) -> list[str]:
    import json

    actor = entry.actor
    return [
        _cell(timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S")),
        _cell((actor.name or actor.username) if actor else ""),
        _cell(actor.username if actor else ""),
        _cell(entry.action),
        _cell(entry.target_type),
        _cell(entry.target_id),
        _cell(entry.area_code),
        _cell(json.dumps(entry.data, ensure_ascii=False, sort_keys=True) if entry.data else ""),
    ]


def _csv_chunks(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # a BOM: Excel then reads the Chinese as UTF-8
    writer.writerow(HEADERS)
    for entry in entries.iterator(chunk_size=2000):
        writer.writerow(_row(entry))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx(entries: QuerySet[AuditEntry]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审计日志")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGH", (20, 14, 16, 28, 22, 12, 18, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for entry in entries.iterator(chunk_size=2000):
        sheet.append([_strip_illegal(v) for v in _row(entry)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _strip_illegal(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _export_target(actor: Any) -> Any:
    """What the export entry points at: the area the account works in, else the account."""
    code = scope_code(actor)
    area = Area.objects.filter(code=code).first() if code else None
    return area or actor


@transaction.atomic
def audit_export(
    *, actor: Any, entries: QuerySet[AuditEntry], fmt: Any, filters: dict[str, Any]
) -> tuple[Any, str, str]:
    """The entries as a CSV (streamed: an iterator of text) or an .xlsx (bytes, at most
    ``MAX_XLSX_ROWS``), with its content type and file name. The export itself is logged
    (action ``export``) with the filters and the number of rows."""
    if fmt not in ("csv", "xlsx"):
        raise ApplicationError(
            _("Please choose csv or xlsx."), code="invalid_format", field="format"
        )
    if not is_authenticated(actor):  # the callers gate first; a service never trusts them
        raise NotFound(_("Not found, or you may not see it."))
    rows = entries.count()
    if fmt == "xlsx" and rows > MAX_XLSX_ROWS:
        raise ApplicationError(
            _(
                "%(n)s entries are too many for one Excel file (at most %(max)s): narrow the "
                "search, or export as CSV."
            )
            % {"n": rows, "max": MAX_XLSX_ROWS},
            code="too_many_rows",
            field="format",
        )
    log_action(
        actor=actor,
        action="export",
        target=_export_target(actor),
        area_code=scope_code(actor),
        data={
            "what": "audit_log",
            "format": fmt,
            "rows": rows,
            **{k: str(v) for k, v in filters.items() if v not in (None, "")},
        },
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"audit-{scope_code(actor) or 'all'}-{stamp}.{fmt}"
    if fmt == "csv":
        return _csv_chunks(entries), CSV_CONTENT_TYPE, name
    return _xlsx(entries), XLSX_CONTENT_TYPE, name
