"""Reports API (随手拍): the categories a place offers, the duplicates shown before submit,
intake with photos, the scoped lists (mine, the staff's triage queue, a department's cases,
overdue), one report with its timeline, and every transition of the workflow.

Who sees what is the permission layer's: a rider sees their own reports, staff those of their
area, a department's handler only the cases sent to their department. Refused transitions are
409 ``invalid_transition`` from the services; bad input is a 400 naming the field, with nothing
written (no row, no photo file).

``POST /reports`` takes an ``Idempotency-Key`` header: a retry with the same key and the same
content returns the first report, again with 201 (the answer to the first request, replayed);
the same key with different content is 409 ``idempotency_key_reused``.

The reporter's identity: their name and masked phone go to staff of the report's area (the full
phone only to the reporter; staff ask ``POST /riders/{id}/phone`` with a reason, which is logged);
a department handler sees a masked name and no phone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import area_by_code
from yizhan.core import ratelimit
from yizhan.core.errors import ApplicationError, Forbidden, NotFound
from yizhan.core.geo import check_point, parse_crs, to_wgs84
from yizhan.core.idempotency import check_key
from yizhan.core.masking import mask_name
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import (
    Action,
    can,
    get_for_user,
    require_role,
    restrict,
    scope_code,
)
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.schemas import ERRORS, LIMITED
from yizhan.people.api import AreaRef
from yizhan.people.selectors import phone_for
from yizhan.people.services import staff_set_on_duty
from yizhan.reports import selectors, services
from yizhan.reports.choices import PhotoStage, PointsStatus, ReportStatus
from yizhan.reports.models import Category, Report, ReportEvent, ReportPhoto

router = Router(tags=["reports"])
CONSOLE = tuple(CONSOLE_ROLES)
#: The header of writes a phone may repeat (as in points, rewards and stations).
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: How much of a description the duplicates list shows.
PREVIEW = 80


# --- schemas ---------------------------------------------------------------------------------


class DepartmentRef(Schema):
    id: int
    name: str


class ReportCategoryRef(Schema):
    id: int
    code: str
    name: str = Field(..., description="In the request's language")
    urgent: bool


class ReportCategoryOut(Schema):
    id: int
    street: AreaRef
    code: str
    name: str = Field(..., description="Chinese name")
    name_en: str
    label: str = Field(..., description="In the request's language")
    family: str
    family_label: str
    description: str
    department: DepartmentRef | None = Field(..., description="Where dispatch sends it by default")
    deadline_amount: int
    deadline_unit: str = Field(..., description="working_hours, working_days or hours")
    urgent: bool = Field(..., description="Alerts the on-duty staff at once (一老一小)")
    ack_minutes: int = Field(..., description="Urgent: minutes to acknowledge before escalation")
    sort_order: int
    is_active: bool
    points: int = Field(..., description="Points a verified report pays its reporter (0: none)")


class ReportCategoryIn(Schema):
    street: str = Field(..., description="The 9-digit street code")
    code: str = Field(..., description="Lower-case letters, digits and _ (e.g. flying_wire)")
    name: str = Field(..., description="Chinese name")
    family: str = Field(..., description="GB/T 30428 family: housing_safety, street_order …")
    name_en: str = ""
    description: str = ""
    department_id: int | None = Field(None, description="Default department (of the street)")
    deadline_amount: int = 2
    deadline_unit: str = Field("working_days", description="working_hours, working_days, hours")
    urgent: bool = False
    ack_minutes: int = 10
    points: int | None = Field(None, description="Points a verified report pays (none: 0)")
    sort_order: int = 0


class ReportCategoryPatch(Schema):
    """Only the fields sent change."""

    name: str = None
    name_en: str = None
    description: str = None
    department_id: int | None = Field(None, description="null: no default department")
    deadline_amount: int = None
    deadline_unit: str = None
    urgent: bool = None
    ack_minutes: int = None
    sort_order: int = None
    is_active: bool = None
    points: int = Field(None, description="0 stops paying for the category")


class ReportStreetIn(Schema):
    street: str = Field(..., description="The 9-digit street code")


class CategorySeedOut(Schema):
    created: int = Field(..., description="Categories added (the street had none of these)")
    items: list[ReportCategoryOut]


class ReportSettingsOut(Schema):
    street: AreaRef
    duplicate_radius_m: int = Field(..., description="Duplicates: how near (metres)")
    duplicate_days: int = Field(..., description="Duplicates: how recent (days)")
    witness_share_percent: int = Field(..., description="What a witness earns, % of the points")
    burst_reports: int = Field(..., description="Reports by one person that make a burst …")
    burst_minutes: int = Field(..., description="… within this many minutes")
    max_photo_distance_m: int = Field(..., description="Farther from the photo's GPS: flagged")
    max_photo_age_hours: int = Field(..., description="An older photo is flagged")


class ReportSettingsPatch(Schema):
    duplicate_radius_m: int = None
    duplicate_days: int = None
    witness_share_percent: int = None
    burst_reports: int = None
    burst_minutes: int = None
    max_photo_distance_m: int = None
    max_photo_age_hours: int = None


class ReportDuplicateOut(Schema):
    id: int
    category: ReportCategoryRef
    status: str
    status_label: str
    distance_m: int = Field(..., description="From the point asked about, metres")
    created_at: datetime
    description: str = Field(..., description=f"The first {PREVIEW} characters")
    witnesses: int
    thumbnail_url: str | None
    mine: bool = Field(..., description="The caller filed it")
    witnessed: bool = Field(..., description="The caller is already a witness")


class ReporterOut(Schema):
    name: str
    phone: str | None = Field(..., description="Masked unless the caller may see it whole")


class ReportPhotoOut(Schema):
    id: int
    stage: str = Field(..., description="report, handled, verified or reopened")
    stage_label: str
    url: str | None = Field(
        ..., description="The photo with faces blurred; null while it has no such copy (hidden)"
    )
    thumbnail_url: str | None = Field(..., description="Its thumbnail, faces blurred; or null")
    faces_blurred: int | None = Field(..., description="Faces found and blurred; null: not yet")
    width: int
    height: int
    created_at: datetime


class ReportEventOut(Schema):
    id: int
    action: str = Field(..., description="submitted, accepted, dispatched, handled …")
    from_status: str
    to_status: str
    actor: str | None = Field(..., description="Who (a reporter's name masked for handlers)")
    note: str
    data: dict
    public: bool = Field(..., description="Shown to the reporter (false: staff only)")
    photos: list[int] = Field(..., description="Ids of the photos sent with it")
    created_at: datetime


class ReportOut(Schema):
    id: int
    category: ReportCategoryRef
    status: str
    status_label: str
    urgent: bool
    overdue: bool = Field(..., description="Dispatched and past its deadline")
    description: str
    address: str
    lat: float = Field(..., description="WGS-84")
    lng: float = Field(..., description="WGS-84")
    community: AreaRef
    grid: AreaRef
    department: DepartmentRef | None
    deadline_at: datetime | None
    witnesses: int
    points_status: str = Field(..., description="none, paid, held or declined")
    reporter: ReporterOut | None
    flags: list[str] = Field(..., description="Why points wait for a person (staff only)")
    thumbnail_url: str | None = Field(..., description="The first photo, small")
    created_at: datetime
    updated_at: datetime


class ReportDetailOut(ReportOut):
    building: str
    unit: str
    floor: str
    input_crs: str = Field(..., description="The system the reporter's point was given in")
    source: str = Field(..., description="app, staff or open311")
    merged_into: int | None
    rejection_reason: str
    accepted_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    escalation: int = Field(..., description="0; 1 the community was told; 2 the street")
    acknowledged_at: datetime | None
    reopen_count: int
    photo_taken_at: datetime | None = Field(..., description="From the first photo's EXIF")
    captured_at: datetime | None = Field(
        None, description="When the phone made it, for a report kept offline and sent later"
    )
    photos: list[ReportPhotoOut]
    timeline: list[ReportEventOut]
    actions: list[str] = Field(..., description="What the caller may do to it now")


class ReportNoteIn(Schema):
    note: str = ""


class ReportRejectIn(Schema):
    reason: str = Field(..., description="Told to the reporter")


class ReportMergeIn(Schema):
    into: int = Field(..., description="The open report of the same category it repeats")
    note: str = ""


class ReportDispatchIn(Schema):
    department_id: int | None = Field(None, description="Default: the category's department")
    deadline: datetime | None = Field(None, description="Default: by the category's deadline")
    note: str = ""


class ReportRedirectIn(Schema):
    department_id: int
    note: str = Field(..., description="Why it goes elsewhere")


class PointsDecisionIn(Schema):
    pay: bool = Field(..., description="Pay the held points after all, or decline them")
    note: str


class ReportWitnessOut(Schema):
    report_id: int
    witnesses: int = Field(..., description="Witnesses of the report now")
    created_at: datetime = Field(..., description="When the caller became a witness")


class StaffDutyIn(Schema):
    on_duty: bool


class StaffDutyOut(Schema):
    on_duty: bool


# --- helpers ---------------------------------------------------------------------------------


class _Mapped:
    """A queryset (or list) whose slice comes out mapped through ``fn`` (for the paginator)."""

    def __init__(self, rows, fn: Callable[[Any], dict]) -> None:
        self.rows, self.fn = rows, fn

    def count(self) -> int:
        return self.rows.count() if isinstance(self.rows, QuerySet) else len(self.rows)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        return [self.fn(row) for row in self.rows[index]]


def _staff_side(user: Any) -> bool:
    return user.is_superuser or user.role in CONSOLE_ROLES


def _category_ref(category: Category) -> dict:
    return {
        "id": category.pk,
        "code": category.code,
        "name": category.label,
        "urgent": category.urgent,
    }


def _category(category: Category, points: dict[str, int]) -> dict:
    return {
        "id": category.pk,
        "street": category.street,
        "code": category.code,
        "name": category.name,
        "name_en": category.name_en,
        "label": category.label,
        "family": category.family,
        "family_label": category.get_family_display(),
        "description": category.description,
        "department": category.department,
        "deadline_amount": category.deadline_amount,
        "deadline_unit": category.deadline_unit,
        "urgent": category.urgent,
        "ack_minutes": category.ack_minutes,
        "sort_order": category.sort_order,
        "is_active": category.is_active,
        "points": selectors.points_paid(points, category.code),
    }


def _one_category(category_id: int) -> Category:
    return Category.objects.select_related("street", "department").get(pk=category_id)


def _category_out(category_id: int) -> dict:
    category = _one_category(category_id)
    return _category(category, selectors.category_points(category.street))


def _point(lat: Any, lng: Any, crs: Any) -> tuple[float, float]:
    """A request's point in WGS-84 (``crs`` names the system it was given in)."""
    system = parse_crs(crs)
    lat, lng = check_point(lat, lng)
    return to_wgs84(lat, lng, system)


def _input_category(request, category_id: Any, *, field: str = "category") -> Category:
    """A category named by request input (categories are public): a 400 naming the field."""
    found = (
        restrict(Category.objects.select_related("street", "department"), request.user)
        .filter(pk=category_id)
        .first()
        if isinstance(category_id, int)
        else None
    )
    if found is None:
        raise ApplicationError(_("Please choose a category."), code="invalid_category", field=field)
    return found


def _department(area_code: str, department_id: int | None, *, field: str = "department_id"):
    """A department that works where ``area_code`` is (its area or above), or a 400."""
    if department_id is None:
        return None
    found = selectors.departments_above(area_code).filter(pk=department_id).first()
    if found is None:
        raise ApplicationError(
            _("That department does not work in this area."),
            code="department_out_of_scope",
            field=field,
        )
    return found


def _report(request, report_id: int, action: Action = Action.VIEW) -> Report:
    return selectors.report_for_user(request.user, report_id, action)


def _person(viewer: Any, person: Any) -> str | None:
    """A name in a report's timeline: staff and handlers by name; a rider (the reporter, a
    witness) masked for handlers."""
    if person is None:
        return None
    name = person.name or person.username
    if person.role in CONSOLE_ROLES or person.role == Role.HANDLER or person.is_superuser:
        return name
    if viewer.pk == person.pk or _staff_side(viewer):
        return name
    return mask_name(name)


def _reporter(viewer: Any, report: Report, *, whole_phone: bool = False) -> dict | None:
    """Name and phone of the reporter: for the reporter and the staff of the area (masked; the
    full phone in the detail only for the reporter, as ``phone_for`` says); a masked name for
    handlers."""
    person = report.reporter
    if person is None:
        return None
    name = person.name or person.username
    if viewer.pk == person.pk or _staff_side(viewer):
        phone = person.phone_masked or None
        if whole_phone:
            rider = getattr(person, "rider", None)
            if rider is not None:
                phone = phone_for(viewer, rider) or None
            elif viewer.pk == person.pk:
                phone = person.phone or None
        return {"name": name, "phone": phone}
    return {"name": mask_name(name), "phone": None}


def _thumbnail(report: Report) -> str | None:
    photos = getattr(report, "report_photos", None)
    if photos is None:
        photos = list(selectors.photos_of(report).filter(stage=PhotoStage.REPORT)[:1])
    return (photos[0].public_thumbnail_url or None) if photos else None


def _summary(viewer: Any, report: Report) -> dict:
    return {
        "id": report.pk,
        "category": _category_ref(report.category),
        "status": report.status,
        "status_label": report.get_status_display(),
        "urgent": report.urgent,
        "overdue": report.is_overdue,
        "description": report.description,
        "address": report.address,
        "lat": report.lat,
        "lng": report.lng,
        "community": report.community,
        "grid": report.grid,
        "department": report.department,
        "deadline_at": report.deadline_at,
        "witnesses": report.witnesses,
        "points_status": report.points_status,
        "reporter": _reporter(viewer, report),
        "flags": list(report.flags) if _staff_side(viewer) else [],
        "thumbnail_url": _thumbnail(report),
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }


def _photo(photo: ReportPhoto) -> dict:
    return {
        "id": photo.pk,
        "stage": photo.stage,
        "stage_label": photo.get_stage_display(),
        # Everyone sees the copy with faces blurred; staff open originals in the console.
        "url": photo.public_url or None,
        "thumbnail_url": photo.public_thumbnail_url or None,
        "faces_blurred": photo.faces if photo.has_blurred_derivative else None,
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at,
    }


def _event(viewer: Any, event: ReportEvent) -> dict:
    return {
        "id": event.pk,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": _person(viewer, event.actor),
        "note": event.note,
        "data": event.data or {},
        "public": event.public,
        "photos": [photo.pk for photo in event.photos.all()],
        "created_at": event.created_at,
    }


def _actions(user: Any, report: Report) -> list[str]:
    """The transitions the caller may make now (what a client shows as buttons)."""
    found = []
    if _staff_side(user) and can(user, Action.OPERATE, report):
        checks = {
            "accept": report.can_accept(),
            "reject": report.can_reject(),
            "merge": report.can_merge(),
            "dispatch": report.can_dispatch(),
            "redirect": report.can_redirect(),
            "handle": report.can_handle(),
            "verify": report.can_verify(),
            "close": report.can_close(),
            "reopen": report.can_reopen(),
            "acknowledge": report.can_acknowledge(),
            "points": report.points_status == PointsStatus.HELD,
        }
        found = [name for name, allowed in checks.items() if allowed]
    elif user.role == Role.HANDLER and user.department_id == report.department_id:
        found = ["handle"] if report.can_handle() else []
    elif report.reporter_id == user.pk and report.can_reopen():
        found = ["reopen"]
    return found


def _detail(request, report: Report) -> dict:
    user = request.user
    events = list(selectors.timeline(report, user))
    shown = {event.pk for event in events}
    photos = [
        photo
        for photo in selectors.photos_of(report)
        if photo.event_id is None or photo.event_id in shown
    ]
    report.report_photos = [p for p in photos if p.stage == PhotoStage.REPORT]
    data = _summary(user, report)
    data.update(
        reporter=_reporter(user, report, whole_phone=True),
        building=report.building,
        unit=report.unit,
        floor=report.floor,
        input_crs=report.input_crs,
        source=report.source,
        merged_into=report.merged_into_id,
        rejection_reason=report.rejection_reason,
        accepted_at=report.accepted_at,
        dispatched_at=report.dispatched_at,
        handled_at=report.handled_at,
        verified_at=report.verified_at,
        closed_at=report.closed_at,
        escalation=report.escalation,
        acknowledged_at=report.acknowledged_at,
        reopen_count=report.reopen_count,
        photo_taken_at=report.photo_taken_at,
        captured_at=report.captured_at,
        photos=[_photo(photo) for photo in photos],
        timeline=[_event(user, event) for event in events],
        actions=_actions(user, report),
    )
    return data


def _fresh(request, report_id: int) -> dict:
    """The report after a write, read again as the caller sees it."""
    return _detail(request, _report(request, report_id))


def _street(street: str | None) -> Any:
    return area_by_code(street, level=AreaLevel.STREET, field="street")


def _list(request, qs: QuerySet):
    user = request.user
    # One query for the page's photos, whatever the page size.
    return _Mapped(selectors.with_report_photos(qs), lambda report: _summary(user, report))


def _filters(**values: Any) -> dict:
    status = values.get("status")
    if status and status not in ReportStatus.values:
        raise ApplicationError(
            _("%(value)s is not a status: use one of %(all)s.")
            % {"value": status[:20], "all": ", ".join(ReportStatus.values)},
            code="invalid_status",
            field="status",
        )
    q = (values.get("q") or "").strip()[:100]
    return {
        "status": status or None,
        "category": (values.get("category") or "").strip()[:40] or None,
        "area": (values.get("area") or "").strip()[:32] or None,
        "department": values.get("department"),
        "overdue_only": bool(values.get("overdue")),
        "urgent_only": bool(values.get("urgent")),
        "flagged_only": bool(values.get("flagged")),
        "q": q or None,
    }


# --- categories and settings -----------------------------------------------------------------


@router.get(
    "/reports/categories",
    response={200: list[ReportCategoryOut], **ERRORS},
    auth=None,
    summary="The report categories offered at a place: by street code, or by a point",
)
@paginate(YizhanPagination)
def category_list(
    request,
    street: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    crs: str | None = None,
    include_inactive: bool = False,
):
    """Give ``street`` (9 digits), or ``lat`` and ``lng`` (with ``crs``: wgs84, gcj02, bd09)
    for the street whose grid holds the point; 400 ``outside_grids`` when none does."""
    if street:
        area = _street(street)
    elif lat is not None or lng is not None:
        area = selectors.street_at(*_point(lat, lng, crs))
        if area is None:
            raise ApplicationError(
                _("This place is outside every grid we serve: move the pin to where it is."),
                code="outside_grids",
                field="lat",
            )
    else:
        raise ApplicationError(
            _("Name the street (its 9-digit code), or give lat and lng."),
            code="street_required",
            field="street",
        )
    points = selectors.category_points(area)
    qs = selectors.categories_for(area, active_only=not include_inactive).select_related("street")
    return _Mapped(qs, lambda category: _category(category, points))


@router.post(
    "/reports/categories",
    response={201: ReportCategoryOut, **ERRORS},
    summary="Add a report category to a street (street admins)",
)
def category_create(request, payload: ReportCategoryIn):
    require_role(request.user, *CONSOLE)
    street = _street(payload.street)
    category = services.category_create(
        street=street,
        code=payload.code,
        name=payload.name,
        family=payload.family,
        actor=request.user,
        name_en=payload.name_en,
        description=payload.description,
        department=_department(street.code, payload.department_id),
        deadline_amount=payload.deadline_amount,
        deadline_unit=payload.deadline_unit,
        urgent=payload.urgent,
        ack_minutes=payload.ack_minutes,
        points=payload.points,
        sort_order=payload.sort_order,
    )
    return Status(201, _category_out(category.pk))


@router.post(
    "/reports/categories/seed",
    response={200: CategorySeedOut, **ERRORS},
    summary="Give a street the standard categories it lacks (GB/T 30428; street admins)",
)
def category_seed(request, payload: ReportStreetIn):
    require_role(request.user, *CONSOLE)
    street = _street(payload.street)
    made = services.categories_seed(street=street, actor=request.user)
    points = selectors.category_points(street)
    ids = [category.pk for category in made]
    rows = selectors.categories_for(street, active_only=False).filter(pk__in=ids)
    return {
        "created": len(made),
        "items": [_category(category, points) for category in rows.select_related("street")],
    }


@router.patch(
    "/reports/categories/{category_id}",
    response={200: ReportCategoryOut, **ERRORS},
    summary="Change a report category: department, deadline, points, in use (street admins)",
)
def category_update(request, category_id: int, payload: ReportCategoryPatch):
    category = get_for_user(
        Category.objects.select_related("street", "department"),
        request.user,
        Action.CONFIGURE,
        pk=category_id,
    )
    changes = payload.dict(exclude_unset=True)
    if "department_id" in changes:
        changes["department"] = _department(category.area_code, changes.pop("department_id"))
    if changes:
        services.category_update(category=category, actor=request.user, **changes)
    return _category_out(category.pk)


def _may_read_settings(user: Any, street) -> None:
    """Console accounts of the street, or above it (the thresholds are anti-cheating rules:
    not for riders)."""
    require_role(user, *CONSOLE)
    code = scope_code(user)
    if user.is_superuser or code.startswith(street.code) or street.code.startswith(code or "-"):
        return
    raise Forbidden(_("You do not have permission to do this."))


@router.get(
    "/reports/settings",
    response={200: ReportSettingsOut, **ERRORS},
    summary="A street's report settings: duplicate radius and window, witness share, flags",
)
def settings_get(request, street: str):
    area = _street(street)
    _may_read_settings(request.user, area)
    return services.report_settings(area)


@router.patch(
    "/reports/settings",
    response={200: ReportSettingsOut, **ERRORS},
    summary="Change a street's report settings (street admins)",
)
def settings_update(request, street: str, payload: ReportSettingsPatch):
    require_role(request.user, *CONSOLE)
    area = _street(street)
    changes = payload.dict(exclude_unset=True)
    return services.report_settings_update(street=area, actor=request.user, **changes)


# --- before submit: duplicates -----------------------------------------------------------------


@router.get(
    "/reports/duplicates",
    response={200: list[ReportDuplicateOut], **ERRORS},
    summary="Open reports of a category near a point, before filing (add yourself instead)",
)
@paginate(YizhanPagination)
def duplicate_list(request, category: int, lat: float, lng: float, crs: str | None = None):
    """Within the street's duplicate radius and window, nearest first. No reporter identity:
    ``mine`` says the caller filed it, ``witnessed`` that they already added themselves
    (``POST /reports/{id}/witness``)."""
    found = _input_category(request, category)
    point = _point(lat, lng, crs)
    near = services.duplicates_near(category=found, lat=point[0], lng=point[1])
    reports = [report for report, _distance in near]
    prefetch_related_objects(reports, selectors.report_photos_prefetch())
    ids = [report.pk for report in reports]
    mine = set(selectors.my_reports(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    witnessed = set(
        selectors.my_witnessed(request.user)
        .filter(report_id__in=ids)
        .values_list("report_id", flat=True)
    )
    return [
        {
            "id": report.pk,
            "category": _category_ref(found),
            "status": report.status,
            "status_label": report.get_status_display(),
            "distance_m": round(distance),
            "created_at": report.created_at,
            "description": report.description[:PREVIEW],
            "witnesses": report.witnesses,
            "thumbnail_url": _thumbnail(report),
            "mine": report.pk in mine,
            "witnessed": report.pk in witnessed,
        }
        for report, distance in near
    ]


# --- intake ----------------------------------------------------------------------------------


@router.post(
    "/reports",
    response={201: ReportDetailOut, **LIMITED},
    summary="File a report (随手拍): 1-6 photos, a place, a category, a few words (multipart)",
)
def report_submit(
    request,
    category: Form[int],
    lat: Form[float],
    lng: Form[float],
    description: Form[str] = "",
    crs: Form[str] = "wgs84",
    address: Form[str] = "",
    building: Form[str] = "",
    unit: Form[str] = "",
    floor: Form[str] = "",
    photos: File[list[UploadedFile]] = None,
    captured_at: Form[datetime | None] = None,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    """Multipart form: ``photos`` repeated (JPEG, PNG, WebP or HEIC; up to 6), ``category``
    (an id from ``GET /reports/categories``), ``lat``/``lng`` in ``crs``, ``description`` (up to
    500 characters), and ``address``, ``building``, ``unit``, ``floor`` for indoor hazards;
    ``captured_at`` (ISO 8601 with a zone) when an app kept the report offline and sends it
    later (informational: kept if within ``REPORT_CAPTURED_MAX_AGE_HOURS``). The
    ``Idempotency-Key`` header is required; a retry with it returns the first report (201
    again). Each refusal is a 400 naming the field, and nothing is written."""
    key = check_key(key)
    ratelimit.hit_request("report_submit", request, replay=("reports.submit", key))
    report = services.report_submit(
        reporter=request.user,
        category=_input_category(request, category),
        lat=lat,
        lng=lng,
        crs=crs,
        description=description,
        address=address,
        building=building,
        unit=unit,
        floor=floor,
        photos=photos or [],
        idempotency_key=key,
        captured_at=captured_at,
    )
    return Status(201, _fresh(request, report.pk))


# --- lists -----------------------------------------------------------------------------------


@router.get(
    "/reports",
    response={200: list[ReportOut], **ERRORS},
    summary="Reports I may see: my own (riders), my area's (staff), my department's (handlers)",
)
@paginate(YizhanPagination)
def report_list(
    request,
    status: str | None = None,
    category: str | None = None,
    area: str | None = None,
    department: int | None = None,
    overdue: bool = False,
    urgent: bool = False,
    flagged: bool = False,
    q: str | None = None,
):
    """Latest first. ``category`` is a category code, ``area`` an area code (everything
    beneath it), ``q`` searches the description and address."""
    filters = _filters(
        status=status,
        category=category,
        area=area,
        department=department,
        overdue=overdue,
        urgent=urgent,
        flagged=flagged,
        q=q,
    )
    return _list(
        request, selectors.filter_reports(selectors.reports_for_user(request.user), **filters)
    )


@router.get(
    "/reports/mine",
    response={200: list[ReportOut], **ERRORS},
    summary="The reports I filed, latest first, with their status",
)
@paginate(YizhanPagination)
def report_mine(request, status: str | None = None):
    filters = _filters(status=status)
    return _list(request, selectors.filter_reports(selectors.my_reports(request.user), **filters))


@router.get(
    "/reports/queue",
    response={200: list[ReportOut], **ERRORS},
    summary="Triage queue: submitted reports of my area, urgent first, then oldest (staff)",
)
@paginate(YizhanPagination)
def report_queue(request, category: str | None = None, area: str | None = None):
    require_role(request.user, *CONSOLE)
    filters = _filters(category=category, area=area)
    return _list(request, selectors.filter_reports(selectors.triage_queue(request.user), **filters))


@router.get(
    "/reports/cases",
    response={200: list[ReportOut], **ERRORS},
    summary="Dispatched cases, nearest deadline first: my department's (handlers), my area's",
)
@paginate(YizhanPagination)
def report_cases(request, department: int | None = None, overdue: bool = False):
    require_role(request.user, Role.HANDLER, *CONSOLE)
    filters = _filters(department=department, overdue=overdue)
    return _list(
        request, selectors.filter_reports(selectors.department_cases(request.user), **filters)
    )


@router.get(
    "/reports/overdue",
    response={200: list[ReportOut], **ERRORS},
    summary="Dispatched reports past their deadline, the longest overdue first (staff, handlers)",
)
@paginate(YizhanPagination)
def report_overdue(request, area: str | None = None, department: int | None = None):
    require_role(request.user, Role.HANDLER, *CONSOLE)
    filters = _filters(area=area, department=department)
    return _list(request, selectors.filter_reports(selectors.overdue(request.user), **filters))


# --- one report ------------------------------------------------------------------------------
# After the fixed paths above.


@router.get(
    "/reports/{report_id}",
    response={200: ReportDetailOut, **ERRORS},
    summary="A report: photos by stage, the timeline, and what I may do to it now",
)
def report_detail(request, report_id: int):
    """The reporter sees the public timeline; staff and handlers every event."""
    return _detail(request, _report(request, report_id))


@router.get(
    "/reports/{report_id}/departments",
    response={200: list[DepartmentRef], **ERRORS},
    summary="The departments a report may be dispatched to (staff)",
)
@paginate(YizhanPagination)
def report_departments(request, report_id: int):
    require_role(request.user, *CONSOLE)
    return selectors.departments_for(_report(request, report_id, Action.OPERATE))


@router.post(
    "/reports/{report_id}/accept",
    response={200: ReportDetailOut, **ERRORS},
    summary="Accept a submitted report (立案; staff)",
)
def report_accept(request, report_id: int, payload: ReportNoteIn = None):
    report = _report(request, report_id)
    services.report_accept(report=report, actor=request.user, note=payload.note if payload else "")
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/reject",
    response={200: ReportDetailOut, **ERRORS},
    summary="Reject a report, telling the reporter why (staff)",
)
def report_reject(request, report_id: int, payload: ReportRejectIn):
    report = _report(request, report_id)
    services.report_reject(report=report, actor=request.user, reason=payload.reason)
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/merge",
    response={200: ReportDetailOut, **ERRORS},
    summary="Merge a report into an open one of the same category (its reporter becomes a witness)",
)
def report_merge(request, report_id: int, payload: ReportMergeIn):
    # OPERATE first: whoever may not merge it hears so before anything about ``into``.
    report = _report(request, report_id, Action.OPERATE)
    try:
        into = _report(request, payload.into)
    except NotFound:
        raise ApplicationError(
            _("Report #%(id)s is not one you may merge into.") % {"id": payload.into},
            code="unknown_report",
            field="into",
        ) from None
    services.report_merge(report=report, into=into, actor=request.user, note=payload.note)
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/dispatch",
    response={200: ReportDetailOut, **ERRORS},
    summary="Dispatch to a department with a deadline (派遣; staff)",
)
def report_dispatch(request, report_id: int, payload: ReportDispatchIn):
    """Without ``department_id`` the category's default department; without ``deadline`` the
    category's (working hours or days from now, by the working calendar)."""
    report = _report(request, report_id)
    services.report_dispatch(
        report=report,
        actor=request.user,
        department=_department(report.area_code, payload.department_id),
        deadline=payload.deadline,
        note=payload.note,
    )
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/redirect",
    response={200: ReportDetailOut, **ERRORS},
    summary="Send a dispatched case to another department, with a new deadline (staff)",
)
def report_redirect(request, report_id: int, payload: ReportRedirectIn):
    report = _report(request, report_id)
    services.report_redirect(
        report=report,
        actor=request.user,
        department=_department(report.area_code, payload.department_id),
        note=payload.note,
    )
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/handle",
    response={200: ReportDetailOut, **ERRORS},
    summary="Report a case handled, with an after photo (处置; the department, multipart)",
)
def report_handle(
    request,
    report_id: int,
    note: Form[str] = "",
    photos: File[list[UploadedFile]] = None,
):
    """Multipart: ``note`` (what was done) and ``photos`` (1-6, the after photos)."""
    report = _report(request, report_id)
    services.report_handle(report=report, actor=request.user, note=note, photos=photos or [])
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/verify",
    response={200: ReportDetailOut, **ERRORS},
    summary="Check on site (核查): passed pays the points; not passed sends it back (staff)",
)
def report_verify(
    request,
    report_id: int,
    passed: Form[bool],
    note: Form[str] = "",
    photos: File[list[UploadedFile]] = None,
):
    """Multipart: ``passed`` (true or false), ``note`` (required when not passed: what is
    still to do) and optional ``photos`` from the site."""
    report = _report(request, report_id)
    services.report_verify(
        report=report, actor=request.user, passed=passed, note=note, photos=photos or []
    )
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/close",
    response={200: ReportDetailOut, **ERRORS},
    summary="Close a verified report (结案; staff)",
)
def report_close(request, report_id: int, payload: ReportNoteIn = None):
    report = _report(request, report_id)
    services.report_close(report=report, actor=request.user, note=payload.note if payload else "")
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/reopen",
    response={200: ReportDetailOut, **ERRORS},
    summary="Reopen a closed report with evidence it is still there (its reporter, or staff)",
)
def report_reopen(
    request,
    report_id: int,
    note: Form[str] = "",
    photos: File[list[UploadedFile]] = None,
):
    """Multipart: ``note`` (what is still wrong) and ``photos`` (1-6)."""
    report = _report(request, report_id)
    services.report_reopen(report=report, actor=request.user, note=note, photos=photos or [])
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/acknowledge",
    response={200: ReportDetailOut, **ERRORS},
    summary="Take an urgent alert (一老一小): stops its escalation (on-duty staff)",
)
def report_acknowledge(request, report_id: int):
    report = _report(request, report_id)
    services.report_acknowledge(report=report, actor=request.user)
    return _fresh(request, report_id)


@router.post(
    "/reports/{report_id}/witness",
    response={200: ReportWitnessOut, **ERRORS},
    summary='"I saw it too": add myself as a witness of an open report',
)
def report_witness(request, report_id: int):
    """For a report found by ``GET /reports/duplicates``; doing it twice changes nothing.
    409 ``own_report`` for your own, ``report_not_open`` when it is no longer open."""
    witness = services.report_witness(
        report=selectors.report_to_witness(report_id), user=request.user
    )
    return {
        "report_id": witness.report_id,
        "witnesses": witness.report.witnesses,
        "created_at": witness.created_at,
    }


@router.post(
    "/reports/{report_id}/points",
    response={200: ReportDetailOut, **ERRORS},
    summary="Decide a flagged report's held points: pay them after all, or not (staff)",
)
def report_points(request, report_id: int, payload: PointsDecisionIn):
    report = _report(request, report_id)
    services.report_points_decide(
        report=report, actor=request.user, pay=payload.pay, note=payload.note
    )
    return _fresh(request, report_id)


# --- staff duty ------------------------------------------------------------------------------


@router.post(
    "/staff/duty",
    response={200: StaffDutyOut, **ERRORS},
    summary="Start or end my duty: urgent alerts go to the staff on duty first (staff)",
)
def staff_duty(request, payload: StaffDutyIn):
    user = staff_set_on_duty(user=request.user, on_duty=payload.on_duty)
    return {"on_duty": user.on_duty}
