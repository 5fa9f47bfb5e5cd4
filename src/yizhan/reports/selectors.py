"""Every read of 随手拍 a page or endpoint needs, already scoped by the permission layer."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import NotFound
from yizhan.core.home import Card, Item
from yizhan.core.permissions import Action, get_for_user, restrict
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.people.models import Department
from yizhan.points.choices import Activity
from yizhan.points.selectors import rules_of
from yizhan.reports.choices import OPEN_STATUSES, BlurState, PhotoStage, ReportStatus
from yizhan.reports.models import Category, Report, ReportEvent, ReportPhoto, Witness


def _reports() -> QuerySet:
    return Report.objects.select_related(
        "category", "grid", "community", "department", "reporter", "merged_into"
    )


def reports_for_user(user: Any, action: Action = Action.VIEW) -> QuerySet:
    """Reports ``user`` may ``action``: their own (rider), their area's (staff), their
    department's cases (handler)."""
    return restrict(_reports(), user, action).order_by("-created_at", "-id")


def report_for_user(user: Any, pk: Any, action: Action = Action.VIEW) -> Report:
    return get_for_user(_reports(), user, action, pk=pk)


def my_reports(user: Any) -> QuerySet:
    return _reports().filter(reporter=user).order_by("-created_at", "-id")


def home_card(user: Any) -> Card | None:
    """The rider's home card: their newest open reports (up to 3) with their status. One
    query."""
    reports = list(
        restrict(Report.objects.select_related("category"), user)
        .filter(reporter=user, status__in=OPEN_STATUSES)
        .order_by("-created_at", "-id")[:3]
    )

    def note(report: Report) -> str:
        day = dateformat.format(timezone.localtime(report.created_at), "Y-m-d")
        return f"{day} · {report.get_status_display()}"

    items = [
        Item(report.category.label, reverse("reports:detail", args=[report.pk]), note(report))
        for report in reports
    ]
    return Card(_("My reports"), items, reverse("reports:mine")) if items else None


def my_witnessed(user: Any) -> QuerySet:
    return (
        restrict(Witness.objects.select_related("report", "report__category"), user)
        .filter(user=user)
        .order_by("-created_at")
    )


def triage_queue(user: Any) -> QuerySet:
    """What staff must look at: submitted reports of their area, urgent first, oldest first."""
    return (
        reports_for_user(user, Action.OPERATE)
        .filter(status=ReportStatus.SUBMITTED)
        .order_by("-urgent", "created_at", "id")
    )


def department_cases(user: Any) -> QuerySet:
    """A handler's open cases, the nearest deadline first."""
    return (
        reports_for_user(user, Action.OPERATE)
        .filter(status=ReportStatus.DISPATCHED)
        .order_by("deadline_at", "id")
    )


def overdue(user: Any) -> QuerySet:
    return (
        reports_for_user(user)
        .filter(status=ReportStatus.DISPATCHED, deadline_at__lt=timezone.now())
        .order_by("deadline_at", "id")
    )


def overdue_count() -> int:
    """Overdue reports across the platform, for the operators' metrics (``core.ops``): one
    count on the (status, deadline_at) index; no user, so no area scope."""
    return Report.objects.filter(
        status=ReportStatus.DISPATCHED, deadline_at__lt=timezone.now()
    ).count()


def filter_reports(
    qs: QuerySet,
    *,
    status: str | None = None,
    category: str | None = None,
    area: str | None = None,
    department: int | None = None,
    overdue_only: bool = False,
    urgent_only: bool = False,
    flagged_only: bool = False,
    q: str | None = None,
) -> QuerySet:
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category__code=category)
    if area:
        qs = qs.filter(area_code__startswith=area)
    if department:
        qs = qs.filter(department_id=department)
    if overdue_only:
        qs = qs.filter(status=ReportStatus.DISPATCHED, deadline_at__lt=timezone.now())
    if urgent_only:
        qs = qs.filter(urgent=True)
    if flagged_only:
        qs = qs.exclude(flags=[])
    if q:
        qs = qs.filter(Q(description__icontains=q) | Q(address__icontains=q))
    return qs


def timeline(report: Report, user: Any) -> QuerySet:
    """The report's events with their photos; the reporter sees the public ones only."""
    events = ReportEvent.objects.filter(report=report).select_related("actor")
    staff_side = user.is_superuser or user.role in CONSOLE_ROLES or user.role == Role.HANDLER
    if not staff_side:
        events = events.filter(public=True)
    return events.prefetch_related(
        Prefetch("photos", queryset=ReportPhoto.objects.order_by("id"))
    ).order_by("created_at", "id")


def photos_of(report: Report) -> QuerySet:
    return ReportPhoto.objects.filter(report=report).order_by("created_at", "id")


def photo_original_for_user(user: Any, report_id: Any, photo_id: Any) -> ReportPhoto:
    """A photo whose original ``user`` may open: they may operate on it (the staff and admins
    of its area, the operator). Not visible: NotFound; visible only (the reporter, the
    department): Forbidden."""
    return get_for_user(
        ReportPhoto.objects.filter(report_id=report_id).select_related("report"),
        user,
        Action.OPERATE,
        pk=photo_id,
    )


def photos_with_derivative() -> QuerySet:
    """Report photos whose face-blurred copy is stored (``ReportPhoto.has_blurred_derivative``
    for one row): retention may remove these photos' originals and nothing else."""
    return ReportPhoto.objects.filter(blur_state=BlurState.DONE).exclude(public_image="")


def categories_for(street: Area, *, active_only: bool = True) -> QuerySet:
    qs = Category.objects.filter(street=street).select_related("department")
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("sort_order", "code")


def street_at(lat: float, lng: float) -> Area | None:
    """The street whose grid holds the point (for offering its categories), or None."""
    from yizhan.areas.selectors import grid_for_point

    grid = grid_for_point(lat, lng)
    return grid.parent.parent if grid is not None else None


def departments_for(report: Report) -> QuerySet:
    """The departments a report may be dispatched to: those of its area or above it."""
    return departments_above(report.area_code)


def departments_above(code: str) -> QuerySet:
    """The departments working in the area ``code`` or above it (a category's default)."""
    prefixes = [code[:n] for n in (6, 9, 12, 15) if len(code) >= n]
    return (
        Department.objects.filter(area__code__in=prefixes)
        .select_related("area")
        .order_by("area__code", "name")
    )


def report_to_witness(pk: Any) -> Report:
    """A report anyone signed in may add themselves to ("I saw it too") when it is open, as
    ``services.duplicates_near`` offers it; 404 when there is none (the service refuses a
    report that is no longer open)."""
    try:
        return Report.objects.select_related("category").get(pk=int(pk))
    except (Report.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("There is no such report.")) from None


def witnesses_of(report: Report, user: Any) -> QuerySet:
    return (
        restrict(Witness.objects.filter(report=report), user)
        .select_related("user", "via")
        .order_by("created_at")
    )


def report_photos_prefetch() -> Prefetch:
    """The reporter's photos of each report as ``report_photos`` (one query for a list)."""
    return Prefetch(
        "photos",
        queryset=ReportPhoto.objects.filter(stage=PhotoStage.REPORT).order_by("id"),
        to_attr="report_photos",
    )


def with_report_photos(qs: QuerySet) -> QuerySet:
    return qs.prefetch_related(report_photos_prefetch())


def streets_of(user: Any) -> QuerySet:
    """The streets a console user may configure categories for."""
    return restrict(Area.objects.filter(level=AreaLevel.STREET), user, Action.CONFIGURE).order_by(
        "code"
    )


def open_statuses() -> tuple[str, ...]:
    return tuple(OPEN_STATUSES)


def category_points(street: Any) -> dict[str, int | None]:
    """category code → the points of the category's own earning rule in ``street`` (0 when
    switched off: it pays nothing), with ``""`` → the street's rule for any verified report.
    One query; ``points_paid`` reads it."""
    rules = rules_of(street).filter(activity=Activity.REPORT_VERIFIED)
    return {rule.category: rule.points if rule.is_active else 0 for rule in rules}


def points_paid(points: dict[str, int | None], code: str) -> int:
    """What a verified report of category ``code`` pays: its own rule, else the street's."""
    return points.get(code, points.get("", 0)) or 0
