"""Reads for the review queue and the audit log (docs/oversight.md).

The review queue is one list over the things that would pay points and wait for a person:
reports whose points are held (``reports.Report.points_status == "held"``) and manual awards held
by a review rule (``points.ManualAward.status == "held"``). Both lists are narrowed by the
permission layer and merged by one ``UNION`` in the database, so a page costs the same few
queries however long the queue or the page is: a count, the page's keys, then one query per
kind for the page's rows (and one for the reports' flag details).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import CharField, F, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.core.models import AuditEntry
from yizhan.core.permissions import Action, is_console_user, restrict
from yizhan.points.choices import AwardFlag, AwardStatus
from yizhan.points.models import ManualAward
from yizhan.reports.choices import Flag, PointsStatus
from yizhan.reports.models import Report, ReportEvent


class Kind:
    REPORT = "report"
    AWARD = "award"


KIND_CHOICES = [
    (Kind.REPORT, gettext_lazy("Report points")),
    (Kind.AWARD, gettext_lazy("Manual award")),
]
KINDS = tuple(code for code, _label in KIND_CHOICES)
#: Every flag an item of the queue can carry: code → label.
FLAG_LABELS: dict[str, Any] = {
    **{code: label for code, label in Flag.choices},
    **{code: label for code, label in AwardFlag.choices},
}
#: What each piece of evidence is, for the page (the API gives the keys).
EVIDENCE_LABELS: dict[str, Any] = {
    "category": gettext_lazy("Category"),
    "description": gettext_lazy("Description"),
    "status": gettext_lazy("Status"),
    "submitted_at": gettext_lazy("Submitted"),
    "verified_at": gettext_lazy("Verified"),
    "photo_distance_m": gettext_lazy("Photo taken this far from the report (m)"),
    "photo_age_hours": gettext_lazy("Photo taken this long before (hours)"),
    "same_photo_reports": gettext_lazy("Reports with the same photo"),
    "recent_reports": gettext_lazy("Reports by this person in the burst window"),
    "reason": gettext_lazy("Reason"),
    "evidence": gettext_lazy("Evidence"),
    "repeat_awards": gettext_lazy("Awards by this staff member to this person in the window"),
    "repeat_window_hours": gettext_lazy("Repeat window (hours)"),
    "large_from": gettext_lazy("Held from (points)"),
    "member_age_days": gettext_lazy("Registered (days ago)"),
    "burst_awards": gettext_lazy("Awards by this staff member in the window"),
    "burst_minutes": gettext_lazy("Burst window (minutes)"),
}
_REPORT_FLAGS = set(Flag.values)
_AWARD_FLAGS = set(AwardFlag.values)


def _has_flag(queryset: QuerySet, flag: str) -> QuerySet:
    """Rows whose JSON list ``flags`` holds ``flag``: a text match on the list's JSON, quotes
    included (works the same on SQLite and PostgreSQL; ``award_burst`` is not ``burst``)."""
    return queryset.annotate(flags_text=Cast("flags", TextField())).filter(
        flags_text__contains=json.dumps(flag)
    )


def held_reports(user: Any) -> QuerySet[Report]:
    return restrict(Report.objects.all(), user, Action.VIEW).filter(points_status=PointsStatus.HELD)


def held_awards(user: Any) -> QuerySet[ManualAward]:
    return restrict(ManualAward.objects.all(), user, Action.VIEW).filter(status=AwardStatus.HELD)


@dataclass
class ReviewItem:
    """One row of the queue, with what a person needs to decide it."""

    kind: str
    id: int
    area_code: str
    held_at: datetime
    flags: list[dict[str, str]]
    title: str
    person: str
    person_phone: str
    amount: int | None
    asked_by: str
    evidence: dict[str, Any] = field(default_factory=dict)
    detail_url: str = ""
    obj: Any = None

    def evidence_rows(self) -> list[tuple[str, Any]]:
        """(label, value) for the page."""
        rows = []
        for key, value in self.evidence.items():
            if isinstance(value, list):
                value = ", ".join(f"#{v}" for v in value)
            rows.append((str(EVIDENCE_LABELS.get(key, key)), value))
        return rows


def _flags(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": code, "label": str(FLAG_LABELS.get(code, code))} for code in codes]


def _report_item(report: Report) -> ReviewItem:
    from django.urls import NoReverseMatch, reverse

    evidence: dict[str, Any] = {
        "category": report.category.name,
        "description": report.description,
        "status": report.get_status_display(),
        "submitted_at": timezone.localtime(report.created_at).strftime("%Y-%m-%d %H:%M"),
    }
    if report.verified_at:
        evidence["verified_at"] = timezone.localtime(report.verified_at).strftime("%Y-%m-%d %H:%M")
    flagged = report.flagged_events[-1].data if report.flagged_events else {}
    for key in ("photo_distance_m", "photo_age_hours", "same_photo_reports", "recent_reports"):
        if key in flagged:
            evidence[key] = flagged[key]
    try:
        url = reverse("reports:console_detail", args=[report.pk])
    except NoReverseMatch:  # the pages may not be mounted
        url = ""
    reporter = report.reporter
    return ReviewItem(
        kind=Kind.REPORT,
        id=report.pk,
        area_code=report.area_code,
        held_at=report.verified_at or report.created_at,
        flags=_flags(list(report.flags)),
        title=_("Report #%(id)s: %(category)s")
        % {"id": report.pk, "category": report.category.name},
        person=(reporter.name or reporter.username) if reporter else "",
        person_phone=reporter.phone_masked if reporter else "",
        amount=None,
        asked_by="",
        evidence=evidence,
        detail_url=url,
        obj=report,
    )


def _award_item(award: ManualAward) -> ReviewItem:
    owner = award.member.owner
    asker = award.requested_by
    return ReviewItem(
        kind=Kind.AWARD,
        id=award.pk,
        area_code=award.area_code,
        held_at=award.created_at,
        flags=_flags(list(award.flags)),
        title=_("Award of %(n)s points: %(reason)s") % {"n": award.amount, "reason": award.reason},
        person=(owner.name or owner.username) if owner else _("(deleted account)"),
        person_phone=owner.phone_masked if owner else "",
        amount=award.amount,
        asked_by=asker.name or asker.username,
        evidence={"reason": award.reason, "evidence": award.evidence, **award.flag_detail},
        obj=award,
    )


class ReviewQueue:
    """The merged, ordered queue as a lazy sequence: ``len()`` is one ``COUNT``, a slice is
    one query for its keys plus one per kind for the rows (paginators take it as it is)."""

    def __init__(self, keys: QuerySet) -> None:
        self._keys = keys
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._keys.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice | int) -> list[ReviewItem] | ReviewItem:
        if isinstance(index, int):
            return self[index : index + 1][0]
        rows = list(self._keys[index])
        report_ids = [pk for kind, pk, *_rest in rows if kind == Kind.REPORT]
        award_ids = [pk for kind, pk, *_rest in rows if kind == Kind.AWARD]
        reports = {}
        if report_ids:
            flagged = ReportEvent.objects.filter(action="flagged").order_by("id")
            reports = (
                Report.objects.select_related("category", "reporter")
                .prefetch_related(Prefetch("events", flagged, to_attr="flagged_events"))
                .in_bulk(report_ids)
            )
        awards = {}
        if award_ids:
            awards = ManualAward.objects.select_related("member__owner", "requested_by").in_bulk(
                award_ids
            )
        items = []
        for kind, pk, *_rest in rows:
            if kind == Kind.REPORT and pk in reports:
                items.append(_report_item(reports[pk]))
            elif kind == Kind.AWARD and pk in awards:
                items.append(_award_item(awards[pk]))
        return items


def review_queue(
    user: Any, *, kind: str | None = None, flag: str | None = None, area: str | None = None
) -> ReviewQueue:
    """Everything flagged that waits for ``user``'s area, oldest first (first come, first
    decided). ``kind`` is ``report`` or ``award``, ``flag`` a flag code, ``area`` an area code
    (everything beneath it). Unknown values give an empty queue (the API checks them first);
    so does an account that is not a console account."""
    parts = []
    if not is_console_user(user):  # a rider may see their own report, not its review
        return ReviewQueue(Report.objects.none().values_list("pk"))
    if kind in (None, "", Kind.REPORT) and (not flag or flag in _REPORT_FLAGS):
        reports = held_reports(user)
        if flag:
            reports = _has_flag(reports, flag)
        if area:
            reports = reports.filter(area_code__startswith=area)
        parts.append(
            reports.annotate(
                kind=Value(Kind.REPORT, output_field=CharField()),
                held_at=Coalesce("verified_at", "created_at"),
            )
            .order_by()
            .values_list("kind", "pk", "area_code", "held_at")
        )
    if kind in (None, "", Kind.AWARD) and (not flag or flag in _AWARD_FLAGS):
        awards = held_awards(user)
        if flag:
            awards = _has_flag(awards, flag)
        if area:
            awards = awards.filter(area_code__startswith=area)
        parts.append(
            awards.annotate(
                kind=Value(Kind.AWARD, output_field=CharField()),
                held_at=F("created_at"),
            )
            .order_by()
            .values_list("kind", "pk", "area_code", "held_at")
        )
    if not parts:
        return ReviewQueue(Report.objects.none().values_list("pk"))
    keys = parts[0] if len(parts) == 1 else parts[0].union(parts[1], all=True)
    return ReviewQueue(keys.order_by("held_at", "kind", "pk"))


# --- the audit log ---------------------------------------------------------------------------


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(
    user: Any,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    area: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str | None = None,
) -> QuerySet[AuditEntry]:
    """The audit entries ``user`` may read (their area and below), newest first, filtered.

    ``actor`` is an account id, or a username / a name (part of it); ``action`` matches from
    the start (``report.`` finds every report action); ``area`` is an area code (everything
    beneath it); the dates are local days, both included; ``q`` is free text in the details.
    """
    qs = restrict(AuditEntry.objects.all(), user, Action.VIEW)
    if actor:
        actor = actor.strip()
        if actor.isdigit():
            qs = qs.filter(actor_id=int(actor))
        else:
            qs = qs.filter(Q(actor__username__iexact=actor) | Q(actor__name__icontains=actor))
    if action:
        qs = qs.filter(action__startswith=action.strip())
    if target_type:
        qs = qs.filter(target_type=target_type.strip().lower())
    if target_id:
        qs = qs.filter(target_id=target_id.strip())
    if area:
        qs = qs.filter(area_code__startswith=area.strip())
    if date_from:
        qs = qs.filter(created_at__gte=_local_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_local_start(date_to + timedelta(days=1)))
    if q:
        q = q.strip()
        # SQLite keeps JSON with non-ASCII characters escaped (\u4e2d); PostgreSQL as they are.
        escaped = json.dumps(q)[1:-1]
        qs = qs.annotate(details=Cast("data", TextField())).filter(
            Q(details__icontains=q) | Q(details__icontains=escaped)
        )
    return qs.select_related("actor").order_by("-created_at", "-id")
