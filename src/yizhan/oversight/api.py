"""The oversight API: the staff review queue (flagged things that would pay points) and its
decisions; the audit log's search and export (administrators). docs/oversight.md."""

from datetime import date, datetime
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import area_by_code
from yizhan.core.errors import ApplicationError
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import require_role
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.schemas import ERRORS, file_download
from yizhan.oversight import selectors, services
from yizhan.points import selectors as points_selectors
from yizhan.points import services as points_services

router = Router(tags=["oversight"])

CONSOLE = tuple(CONSOLE_ROLES)


class ReviewFlagOut(Schema):
    code: str
    label: str


class ReviewItemOut(Schema):
    kind: str = Field(..., description="report (a report's points) or award (a manual award)")
    id: int
    area_code: str
    held_at: datetime
    flags: list[ReviewFlagOut]
    title: str
    person: str = Field(..., description="Who would be paid")
    person_phone: str = Field(..., description="Masked")
    amount: int | None = Field(None, description="Points of an award (a report's: by rule)")
    asked_by: str = Field(..., description="Who asked for an award")
    evidence: dict[str, Any]
    detail_url: str


class ReviewDecisionIn(Schema):
    decision: str = Field(..., description="release (pay) or reject (no pay)")
    reason: str = Field(..., description="Why; kept in the audit log (at most 200 characters)")


class ReviewDecisionOut(Schema):
    kind: str
    id: int
    decision: str
    status: str = Field(..., description="The item's points status after the decision")


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor: str
    action: str
    target_type: str
    target_id: str
    area_code: str
    data: dict[str, Any]


class AuditQuery(Schema):
    actor: str | None = Field(None, description="An account id, a username or part of a name")
    action: str | None = Field(None, description="An action, or its start (report.)")
    target_type: str | None = Field(None, description="e.g. reports.report")
    target_id: str | None = None
    area: str | None = Field(None, description="An area code: entries of it and beneath it")
    date_from: str | None = Field(None, description="First day (YYYY-MM-DD, local), included")
    date_to: str | None = Field(None, description="Last day (YYYY-MM-DD, local), included")
    q: str | None = Field(None, description="Free text in the details")

    def filters(self) -> dict[str, Any]:
        data = self.dict()
        for name in ("date_from", "date_to"):
            data[name] = day(data[name], field=name)
        return data


def day(value: str | None, *, field: str) -> date | None:
    if not value:
        return None
    try:
        parsed = parse_date(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ApplicationError(
            _("Please give a date as YYYY-MM-DD."), code="invalid_date", field=field
        )
    return parsed


def check_queue_filters(kind: str | None, flag: str | None) -> None:
    if kind and kind not in selectors.KINDS:
        raise ApplicationError(_("Unknown kind: report or award."), field="kind")
    if flag and flag not in selectors.FLAG_LABELS:
        raise ApplicationError(_("Unknown flag."), field="flag")


def require_admin(user: Any) -> None:
    """The audit log is for administrators (and the platform operator)."""
    require_role(user, Role.ADMIN)


@router.get(
    "/oversight/queue",
    response={200: list[ReviewItemOut], **ERRORS},
    summary="The review queue: flagged report points and held awards of my area (staff)",
)
@paginate(YizhanPagination)
def queue(
    request,
    kind: str | None = Query(None, description="report or award"),
    flag: str | None = Query(None, description="A flag code, e.g. same_photo, award_large"),
    area: str | None = Query(None, description="An area code: items of it and beneath it"),
):
    """Oldest first. Nothing listed here has paid: each waits for release or reject."""
    require_role(request.user, *CONSOLE)
    check_queue_filters(kind, flag)
    return selectors.review_queue(request.user, kind=kind, flag=flag, area=area)


@router.post(
    "/oversight/queue/{kind}/{item_id}/decide",
    response={200: ReviewDecisionOut, **ERRORS},
    summary="Release (pay) or reject (no pay) a held item, with a reason (staff)",
)
def decide(request, kind: str, item_id: int, payload: ReviewDecisionIn):
    """Through the owning app's service; audited. An item already decided gives 409
    (``already_decided``): a repeated click pays once."""
    require_role(request.user, *CONSOLE)
    row = services.review_decide(
        kind=kind,
        item_id=item_id,
        actor=request.user,
        decision=payload.decision,
        reason=payload.reason,
    )
    status = getattr(row, "points_status", None) or row.status
    return {"kind": kind, "id": row.pk, "decision": payload.decision, "status": status}


class ReviewRulesOut(Schema):
    street: str = Field(..., alias="area_code")
    review_repeat_count: int = Field(
        ..., description="Hold the n-th award by one staff member to one person (0 = off)"
    )
    review_window_hours: int = Field(..., description="The repeat rule's window, in hours")
    review_large_amount: int = Field(..., description="Hold awards of this many points or more")
    review_new_member_days: int = Field(
        ..., description="Hold awards to people registered fewer days ago than this (0 = off)"
    )
    review_burst_count: int = Field(
        ..., description="Hold the n-th award by one staff member in the window (0 = off)"
    )
    review_burst_minutes: int = Field(..., description="The burst rule's window, in minutes")


class ReviewRulesPatch(Schema):
    review_repeat_count: int | None = None
    review_window_hours: int | None = None
    review_large_amount: int | None = None
    review_new_member_days: int | None = None
    review_burst_count: int | None = None
    review_burst_minutes: int | None = None


@router.get(
    "/oversight/rules",
    response={200: ReviewRulesOut, **ERRORS},
    summary="A street's review rules for manual awards (staff)",
)
def rules_get(request, street: str):
    """0 means the rule is off (the default). Not public: a rule known is a rule dodged."""
    require_role(request.user, *CONSOLE)
    area = area_by_code(street, level=AreaLevel.STREET, field="street")
    return points_selectors.settings_of(area)


@router.patch(
    "/oversight/rules",
    response={200: ReviewRulesOut, **ERRORS},
    summary="Change a street's review rules for manual awards (street admins)",
)
def rules_update(request, street: str, payload: ReviewRulesPatch):
    """Only the values given change; 0 turns a rule off. Logged as ``points.settings_changed``."""
    require_role(request.user, *CONSOLE)
    area = area_by_code(street, level=AreaLevel.STREET, field="street")
    return points_services.points_settings_update(street=area, actor=request.user, **payload.dict())


def _entry(entry) -> dict:
    actor = entry.actor
    return {
        "id": entry.pk,
        "created_at": entry.created_at,
        "actor_id": entry.actor_id,
        "actor": (actor.name or actor.username) if actor else "",
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "area_code": entry.area_code,
        "data": entry.data,
    }


class _Entries:
    """The entries as the paginator wants them (one count, one page query)."""

    def __init__(self, qs) -> None:
        self.qs = qs

    def __len__(self) -> int:
        return self.qs.count()

    def __getitem__(self, item: slice) -> list[dict]:
        return [_entry(e) for e in self.qs[item]]


@router.get(
    "/oversight/audit",
    response={200: list[AuditEntryOut], **ERRORS},
    summary="Search the audit log of my area and below (administrators)",
)
@paginate(YizhanPagination)
def audit(request, filters: Query[AuditQuery]):
    """Newest first."""
    require_admin(request.user)
    return _Entries(selectors.audit_entries(request.user, **filters.filters()))


@router.get(
    "/oversight/audit/export",
    response={200: None, **ERRORS},
    summary="Export the audit log search as CSV (streamed) or .xlsx (administrators)",
    openapi_extra=file_download(
        "audit-<area>-<time>.csv", services.CSV_CONTENT_TYPE, services.XLSX_CONTENT_TYPE
    ),
)
def audit_export(
    request,
    filters: Query[AuditQuery],
    fmt: str = Query("csv", alias="format", description="csv (default) or xlsx"),
):
    """The same filters as the search; Chinese column headers. The export is itself logged
    (action ``export``). An .xlsx holds at most 50,000 rows (more: 400, use CSV)."""
    require_admin(request.user)
    return export_response(request.user, filters.filters(), fmt)


def export_response(user: Any, filters: dict[str, Any], fmt: Any) -> HttpResponse:
    entries = selectors.audit_entries(user, **filters)
    content, content_type, name = services.audit_export(
        actor=user, entries=entries, fmt=fmt, filters=filters
    )
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
