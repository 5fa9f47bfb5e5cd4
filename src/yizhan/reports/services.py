"""Every write of 随手拍: categories and settings, intake, witnesses, the workflow, points, alerts
and escalation.

The workflow (GB/T 30428's 立案 → 派遣 → 处置 → 核查 → 结案)::

    submitted ──accept──► accepted ──dispatch──► dispatched ──handle──► handled
      │  └──────────dispatch──────────────────────▲  │ ▲ redirect         │
      ├─reject──► rejected                          │ └──── send back ─────┤ (返工)
      └─merge───► merged (a witness of the original) │                     verify
                                                     │                       ▼
                   accepted ◄──reopen (evidence)── closed ◄──close──── verified

Reject and merge are allowed from accepted too: a reopened report whose evidence does not hold,
or a duplicate noticed after 立案, needs a way out other than dispatch.

Each transition checks the actor through the permission layer and the report's ``can_*``
predicate under a row lock, changes the state, writes a :class:`ReportEvent` (the timeline) and
an audit entry, and tells the people concerned through the inbox after the commit. Points are
paid when staff verify the work (``points.services.points_earn``): the reporter the category's
value, each witness a share; a flagged report (same photo again, far from the photo's GPS, an old
photo, a burst) is held for a person to decide instead.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.areas.selectors import grid_for_point
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, Unauthenticated
from yizhan.core.faces import FaceResult, blur_faces
from yizhan.core.geo import (
    check_point,
    fine_cell_of,
    fine_cell_ranges,
    haversine_m,
    parse_crs,
    to_wgs84,
)
from yizhan.core.idempotency import run_once
from yizhan.core.images import ProcessedImage, hamming, hash_parts, process_image
from yizhan.core.permissions import Action, is_authenticated, require
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.validation import clean_text as _text
from yizhan.core.validation import whole_number as _whole
from yizhan.core.workcalendar import add_working_days, add_working_hours
from yizhan.notifications.services import notify
from yizhan.people.models import Department, User
from yizhan.people.selectors import console_staff_ids, may_use_location
from yizhan.points.choices import Activity
from yizhan.points.models import EarningRule
from yizhan.points.services import earning_rule_set, points_earn
from yizhan.reports import catalogue
from yizhan.reports.choices import (
    OPEN_STATUSES,
    BlurState,
    DeadlineUnit,
    Family,
    Flag,
    PhotoStage,
    PointsStatus,
    ReportStatus,
    Source,
)
from yizhan.reports.models import (
    Category,
    Report,
    ReportEvent,
    ReportPhoto,
    ReportSettings,
    Witness,
)

MAX_PHOTOS = 6
MAX_DESCRIPTION = 500
#: dHash distance at or below which two photos count as the same picture. The four 16-bit
#: parts make the look-up exact up to 3 (pigeonhole: 3 differing bits leave one part whole).
SAME_PHOTO_DISTANCE = 3
PHOTO_SIZES = {"display": 1600, "thumb": 400}
#: The hash of a picture of one flat colour (every bit 0, or every bit 1): no evidence of anything.
UNINFORMATIVE_HASHES = frozenset({0, -1})


# --- categories and settings -------------------------------------------------------------------


def _street(street: Any) -> Area:
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("Categories belong to a street."), field="street")
    return street


def _check_department(department: Any, area_code: str, *, field: str = "department") -> Any:
    if department is None:
        return None
    if not isinstance(department, Department) or not area_code.startswith(department.area_code):
        raise ApplicationError(
            _("That department does not work in this area."),
            code="department_out_of_scope",
            field=field,
        )
    return department


@transaction.atomic
def category_create(
    *,
    street: Any,
    code: str,
    name: str,
    family: str,
    actor: Any,
    name_en: str = "",
    description: str = "",
    department: Any = None,
    deadline_amount: int = 2,
    deadline_unit: str = DeadlineUnit.WORKING_DAYS,
    urgent: bool = False,
    ack_minutes: int = 10,
    points: int | None = None,
    sort_order: int = 0,
) -> Category:
    """A street's category; ``points`` sets the street's earning rule for it (0: pays nothing)."""
    street = _street(street)
    require(actor, Action.CONFIGURE, street)
    code = _text(code, field="code", limit=40, required=True).lower()
    if not code.replace("_", "").isalnum() or not code.isascii():
        raise ApplicationError(
            _("A code is lower-case letters, digits and _ (e.g. flying_wire)."), field="code"
        )
    if Category.objects.filter(street=street, code=code).exists():
        raise Conflict(_("This street already has a category %(code)s.") % {"code": code})
    if family not in Family.values:
        raise ApplicationError(_("Please choose a family."), field="family")
    if deadline_unit not in DeadlineUnit.values:
        raise ApplicationError(_("Please choose a unit for the deadline."), field="deadline_unit")
    category = Category.objects.create(
        street=street,
        area_code=street.code,
        code=code,
        name=_text(name, field="name", limit=40, required=True),
        name_en=_text(name_en, field="name_en", limit=60),
        family=family,
        description=_text(description, field="description", limit=300),
        department=_check_department(department, street.code),
        deadline_amount=_whole(deadline_amount, field="deadline_amount", low=1, high=365),
        deadline_unit=deadline_unit,
        urgent=bool(urgent),
        ack_minutes=_whole(ack_minutes, field="ack_minutes", low=1, high=1440),
        sort_order=_whole(sort_order, field="sort_order", low=0, high=32767),
    )
    _set_category_points(street, code, points, actor)
    log_action(actor=actor, action="report_category.created", target=category, data={"code": code})
    return category


def _set_category_points(street: Area, code: str, points: Any, actor: Any) -> None:
    """The category's own earning rule: None leaves the rules as they are (a new category then
    pays the street's rule for any report); 0 keeps a switched-off rule, so it pays nothing
    rather than the street's rule (see ``_category_pays``). The rule's caps are kept."""
    if points is None:
        return
    points = _whole(points, field="points", low=0, high=1000)
    rule = EarningRule.objects.filter(
        street=street, activity=Activity.REPORT_VERIFIED, category=code
    ).first()
    earning_rule_set(
        street=street,
        activity=Activity.REPORT_VERIFIED,
        category=code,
        points=max(1, points),
        is_active=bool(points),
        daily_cap=rule.daily_cap if rule else None,
        weekly_cap=rule.weekly_cap if rule else None,
        actor=actor,
    )


CATEGORY_FIELDS = {
    "name",
    "name_en",
    "description",
    "department",
    "deadline_amount",
    "deadline_unit",
    "urgent",
    "ack_minutes",
    "sort_order",
    "is_active",
    "points",
}


@transaction.atomic
def category_update(*, category: Category, actor: Any, **changes: Any) -> Category:
    unknown = sorted(set(changes) - CATEGORY_FIELDS)
    if unknown:
        raise ApplicationError(
            _("%(f)s cannot be changed here.") % {"f": ", ".join(unknown)}, field=unknown[0]
        )
    require(actor, Action.CONFIGURE, category.street)
    category = Category.objects.select_for_update().get(pk=category.pk)
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key in {"name", "name_en", "description"}:
            limit = {"name": 40, "name_en": 60}.get(key, 300)
            values[key] = _text(value, field=key, limit=limit, required=key == "name")
        elif key == "department":
            values[key] = _check_department(value, category.area_code)
        elif key == "deadline_amount":
            values[key] = _whole(value, field=key, low=1, high=365)
        elif key == "deadline_unit":
            if value not in DeadlineUnit.values:
                raise ApplicationError(_("Please choose a unit for the deadline."), field=key)
            values[key] = value
        elif key == "ack_minutes":
            values[key] = _whole(value, field=key, low=1, high=1440)
        elif key == "sort_order":
            values[key] = _whole(value, field=key, low=0, high=32767)
        elif key in {"urgent", "is_active"}:
            values[key] = bool(value)
    _set_category_points(category.street, category.code, changes.get("points"), actor)
    for key, value in values.items():
        setattr(category, key, value)
    if values:
        category.save(update_fields=[*values, "updated_at"])
    log_action(
        actor=actor,
        action="report_category.updated",
        target=category,
        data={k: getattr(v, "pk", v) for k, v in changes.items()},
    )
    return category


@transaction.atomic
def categories_seed(*, street: Any, actor: Any) -> list[Category]:
    """Give a street the standard categories (``catalogue.STANDARD``) it does not have yet."""
    street = _street(street)
    require(actor, Action.CONFIGURE, street)
    have = set(Category.objects.filter(street=street).values_list("code", flat=True))
    made = []
    for order, spec in enumerate(catalogue.STANDARD):
        if spec.code in have:
            continue
        made.append(
            category_create(
                street=street,
                code=spec.code,
                name=spec.name,
                name_en=spec.name_en,
                family=spec.family,
                description=spec.description,
                deadline_amount=spec.deadline_amount,
                deadline_unit=spec.deadline_unit,
                urgent=spec.urgent,
                ack_minutes=spec.ack_minutes,
                points=spec.points,
                sort_order=order,
                actor=actor,
            )
        )
    return made


def report_settings(street: Area) -> ReportSettings:
    """The street's settings; unsaved defaults when it has none."""
    found = ReportSettings.objects.filter(street=street).first()
    return found or ReportSettings(street=street, area_code=street.code)


SETTINGS_LIMITS = {
    "duplicate_radius_m": (5, 500),
    "duplicate_days": (1, 365),
    "witness_share_percent": (0, 100),
    "burst_reports": (2, 100),
    "burst_minutes": (1, 1440),
    "max_photo_distance_m": (50, 100_000),
    "max_photo_age_hours": (1, 24 * 365),
}


@transaction.atomic
def report_settings_update(*, street: Any, actor: Any, **changes: Any) -> ReportSettings:
    street = _street(street)
    require(actor, Action.CONFIGURE, street)
    unknown = sorted(set(changes) - set(SETTINGS_LIMITS))
    if unknown:
        raise ApplicationError(
            _("%(f)s cannot be changed here.") % {"f": ", ".join(unknown)}, field=unknown[0]
        )
    current, _created = ReportSettings.objects.select_for_update().get_or_create(
        street=street, defaults={"area_code": street.code}
    )
    for key, value in changes.items():
        low, high = SETTINGS_LIMITS[key]
        setattr(current, key, _whole(value, field=key, low=low, high=high))
    current.save()
    log_action(actor=actor, action="report_settings.updated", target=current, data=changes)
    return current


# --- intake ------------------------------------------------------------------------------------


def locate(lat: Any, lng: Any, crs: Any = "wgs84") -> tuple[float, float, Area]:
    """A WGS-84 point and the grid it falls in; a clear 400 outside every grid."""
    system = parse_crs(crs)
    lat, lng = check_point(lat, lng)
    lat, lng = to_wgs84(lat, lng, system)
    grid = grid_for_point(lat, lng)
    if grid is None:
        raise ApplicationError(
            _("This place is outside every grid we serve: move the pin to where the problem is."),
            code="outside_grids",
            field="lat",
        )
    return round(lat, 7), round(lng, 7), grid


def _photo_list(photos: Any, *, required: int, field: str = "photos") -> list:
    photos = list(photos or [])
    if len(photos) < required:
        raise ApplicationError(
            _("Please add at least one photo."), code="photo_required", field=field
        )
    if len(photos) > MAX_PHOTOS:
        raise ApplicationError(
            _("At most %(n)s photos, please.") % {"n": MAX_PHOTOS},
            code="too_many_photos",
            field=field,
        )
    return photos


@dataclass
class ReportImage(ProcessedImage):
    """A processed photo and its face-blurred copy (``faces.ok`` False: none, keep it hidden)."""

    faces: FaceResult | None = None
    #: Blurring is left to a task worker (``blur_in_background``).
    deferred: bool = False


def blur_in_background() -> bool:
    """Whether face blurring is left to the task workers (``REPORT_BLUR``: ``queue``,
    ``inline``, or ``auto``, the default: on the workers when there is a task queue).

    Blurring is most of an intake's cost (OpenCV's detector, about a CPU-second for a phone
    photo: docs/scaling.md); on the workers, the rider's request ends once the photo is
    stored, and the blurred copy follows within seconds. Until it exists the photo is hidden
    from everyone but permitted staff, as a photo whose blurring failed is."""
    mode = getattr(settings, "REPORT_BLUR", "auto")
    if mode == "auto":
        from yizhan.core.tasks import is_immediate

        return not is_immediate()
    return mode == "queue"


def _process(photos: Sequence[Any], field: str = "photos") -> list[ReportImage]:
    """Decode, strip and resize every photo, and (unless the workers will) blur the faces in a
    copy of it, before anything is written (a bad photo refuses all; a failed blurring only
    hides that photo)."""
    result = []
    defer = blur_in_background()
    for photo in photos:
        item = process_image(photo, sizes=PHOTO_SIZES, field=field)
        faces = None
        if not defer:
            faces = blur_faces(_bytes(item.files["display"]), thumb=_bytes(item.files["thumb"]))
        result.append(ReportImage(**vars(item), faces=faces, deferred=defer))
    return result


def _bytes(content: ContentFile) -> bytes:
    content.seek(0)
    data = content.read()
    content.seek(0)
    return data


class _Files:
    """Files written during a service call, deleted again if the call fails."""

    def __init__(self) -> None:
        self.saved: list[tuple[Any, str]] = []

    def save(self, field, name: str, content) -> None:
        field.save(name, content, save=False)
        self.saved.append((field.storage, field.name))

    def discard(self) -> None:
        for storage, name in self.saved:
            storage.delete(name)


#: The files written so far by the photo-storing service running in this context.
_WRITTEN: ContextVar[_Files | None] = ContextVar("reports_files_written", default=None)


def _cleans_files(service: Callable[..., Report]) -> Callable[..., Report]:
    """For a service that stores photos: when it fails after a file was written (a later step,
    the commit itself), the files go too, so a refused write leaves no orphan in MEDIA_ROOT.
    Put it outside ``transaction.atomic`` so a failed commit is covered."""

    @functools.wraps(service)
    def wrapper(*args: Any, **kwargs: Any) -> Report:
        files = _Files()
        token = _WRITTEN.set(files)
        try:
            result = service(*args, **kwargs)
        except BaseException:
            files.discard()
            raise
        finally:
            _WRITTEN.reset(token)
        outer = _WRITTEN.get()
        if outer is not None:  # called from another such service: its failure covers these
            outer.saved += files.saved
        return result

    return wrapper


def _store_photos(
    report: Report,
    processed: list[ProcessedImage],
    *,
    stage: str,
    actor: Any,
    event: ReportEvent | None,
    files: _Files,
) -> list[ReportPhoto]:
    rows = []
    for index, item in enumerate(processed):
        parts = hash_parts(item.phash)
        photo = ReportPhoto(
            report=report,
            event=event,
            area_code=report.area_code,
            stage=stage,
            width=item.width,
            height=item.height,
            phash=item.phash,
            ph0=parts[0],
            ph1=parts[1],
            ph2=parts[2],
            ph3=parts[3],
            uploaded_by=actor if is_authenticated(actor) else None,
        )
        stem = f"r{report.pk}-{stage}-{index}"
        files.save(photo.image, f"{stem}.jpg", item.files["display"])
        files.save(photo.thumbnail, f"{stem}-t.jpg", item.files["thumb"])
        if not getattr(item, "deferred", False):
            _store_blurred(photo, getattr(item, "faces", None), files)
        rows.append(photo)
    created = ReportPhoto.objects.bulk_create(rows)
    pending = [photo.pk for photo in created if photo.blur_state == BlurState.PENDING]
    if pending:
        from yizhan.reports.tasks import blur_report_photos

        blur_report_photos.delay(pending)  # after the commit, on a worker
    return created


def _store_blurred(photo: ReportPhoto, faces: FaceResult | None, files: _Files) -> None:
    """Write the face-blurred copy under a random name (its URL is public: nothing in it may
    be guessed from another), or mark the photo failed: hidden from all but permitted staff."""
    if faces is None or not faces.ok or faces.display is None or faces.thumb is None:
        photo.blur_state, photo.faces = BlurState.FAILED, None
        return
    name = secrets.token_hex(16)
    files.save(photo.public_image, f"{name}.jpg", ContentFile(faces.display))
    files.save(photo.public_thumbnail, f"{name}-t.jpg", ContentFile(faces.thumb))
    photo.blur_state, photo.faces = BlurState.DONE, faces.faces


def same_photos(
    rotations: Sequence[int], *, exclude_report: int | None = None
) -> list[ReportPhoto]:
    """Earlier report photos that are the same picture as one whose hash at each quarter turn
    is ``rotations``, closest first: up to 16 indexed equality probes, then the exact distance.

    Every probed row is checked (a cut-off could drop the true match when a part is common). A
    picture of one flat colour hashes to 0 (or all ones) and says nothing: it matches nothing.
    """
    rotations = [value for value in rotations if value not in UNINFORMATIVE_HASHES]
    if not rotations:
        return []
    query = Q()
    for value in rotations:
        p = hash_parts(value)
        query |= Q(ph0=p[0]) | Q(ph1=p[1]) | Q(ph2=p[2]) | Q(ph3=p[3])
    candidates = ReportPhoto.objects.filter(query, stage=PhotoStage.REPORT)
    if exclude_report is not None:
        candidates = candidates.exclude(report_id=exclude_report)
    close = {}
    for pk, phash in candidates.values_list("pk", "phash").iterator(chunk_size=2000):
        distance = min(hamming(phash, value) for value in rotations)
        if distance <= SAME_PHOTO_DISTANCE:
            close[pk] = distance
    photos = ReportPhoto.objects.in_bulk(list(close))
    return [photos[pk] for pk in sorted(close, key=lambda pk: (close[pk], pk))]


def _flags(
    *,
    settings_: ReportSettings,
    reporter: Any,
    lat: float,
    lng: float,
    processed: list[ProcessedImage],
    now: datetime,
    source: str = Source.APP,
) -> tuple[list[str], dict]:
    flags: list[str] = []
    detail: dict[str, Any] = {}
    exif = processed[0].exif if processed else None
    if exif is not None and exif.lat is not None:
        distance = haversine_m(lat, lng, exif.lat, exif.lng)
        detail["photo_distance_m"] = round(distance)
        if distance > settings_.max_photo_distance_m:
            flags.append(Flag.FAR_FROM_PHOTO)
    if exif is not None and exif.taken_at is not None:
        age = now - exif.taken_at
        detail["photo_age_hours"] = round(age.total_seconds() / 3600, 1)
        if age > timedelta(hours=settings_.max_photo_age_hours):
            flags.append(Flag.OLD_PHOTO)
    same: list[int] = []
    for item in processed:
        for photo in same_photos(item.phash_rotations or [item.phash]):
            if photo.report_id not in same:
                same.append(photo.report_id)
    if same:
        flags.append(Flag.SAME_PHOTO)
        detail["same_photo_reports"] = same[:10]
    # An Open311 client (a hotline's system) files for many people: many requests are normal.
    if is_authenticated(reporter) and source != Source.OPEN311:
        since = now - timedelta(minutes=settings_.burst_minutes)
        recent = Report.objects.filter(reporter=reporter, created_at__gte=since).count()
        if recent + 1 >= settings_.burst_reports:
            flags.append(Flag.BURST)
            detail["recent_reports"] = recent + 1
    return flags, detail


def _event(
    report: Report,
    *,
    action: str,
    actor: Any,
    before: str = "",
    note: str = "",
    data: dict | None = None,
    public: bool = True,
) -> ReportEvent:
    event = ReportEvent.objects.create(
        report=report,
        area_code=report.area_code,
        action=action,
        from_status=before,
        to_status=report.status if before or action == "submitted" else "",
        actor=actor if is_authenticated(actor) else None,
        note=note,
        data=data or {},
        public=public,
    )
    log_action(
        actor=actor,
        action=f"report.{action}",
        target=report,
        data={"from": before, "to": report.status, "note": note[:100], **(data or {})},
    )
    return event


def report_url(report: Report, *, staff: bool) -> str:
    name = "reports:console_detail" if staff else "reports:detail"
    try:
        return reverse(name, args=[report.pk])
    except Exception:  # the pages may not be mounted (e.g. a bare API deployment)
        return ""


def _tell_reporter(report: Report, title: Any, body: Any = "") -> None:
    if report.reporter_id is None:
        return
    notify(
        recipients=[report.reporter_id],
        kind="report_status",
        title=title,
        body=body,
        url=report_url(report, staff=False),
        target=report,
    )


def _alert_on_duty(report: Report) -> None:
    """An urgent report: the on-duty staff of its grid and community at once (all of them when
    nobody there is on duty)."""
    codes = (report.grid.code, report.community.code)
    recipients = console_staff_ids(*codes, on_duty_only=True) or console_staff_ids(*codes)
    notify(
        recipients=recipients,
        kind="report_urgent",
        title=lambda: _("Urgent: %(category)s") % {"category": report.category.name},
        body=lambda: (
            _("%(where)s. %(text)s")
            % {"where": report.address or report.grid.name, "text": report.description[:200]}
        ),
        url=report_url(report, staff=True),
        target=report,
        urgent=True,
    )


#: A phone's clock may run this far ahead of ours.
CLOCK_SKEW = timedelta(minutes=10)


def _plausible_capture(captured_at: datetime | None, now: datetime) -> datetime | None:
    if not isinstance(captured_at, datetime) or timezone.is_naive(captured_at):
        return None
    oldest = now - timedelta(hours=settings.REPORT_CAPTURED_MAX_AGE_HOURS)
    if not oldest <= captured_at <= now + CLOCK_SKEW:
        return None
    return min(captured_at, now)


@_cleans_files
def report_submit(
    *,
    reporter: Any,
    category: Any,
    lat: Any,
    lng: Any,
    description: Any,
    idempotency_key: str,
    photos: Iterable[Any] = (),
    crs: Any = "wgs84",
    address: Any = "",
    building: Any = "",
    unit: Any = "",
    floor: Any = "",
    source: str = Source.APP,
    captured_at: datetime | None = None,
) -> Report:
    """File a report (随手拍): up to six photos, a place, a category, a short text.

    ``captured_at`` is when the phone made it (a report kept offline arrives later): kept as
    said when it lies within ``REPORT_CAPTURED_MAX_AGE_HOURS`` before now and not in the future
    beyond a few minutes of clock skew, dropped otherwise (the phone's clock is no authority).

    Everything is checked and every photo decoded before anything is written; a retry with the
    same key returns the first report; a refusal leaves no row and no file behind.
    """
    if not is_authenticated(reporter):
        raise Unauthenticated(_("Please log in first."))
    if source not in Source.values:
        raise ApplicationError(_("Unknown source."), field="source")
    if not isinstance(category, Category) or not category.is_active:
        raise ApplicationError(
            _("Please choose a category."), code="invalid_category", field="category"
        )
    lat, lng, grid = locate(lat, lng, crs)
    community = grid.parent
    street = community.parent
    if category.street_id != street.pk:
        raise ApplicationError(
            _("%(category)s is not a category of %(street)s, where this place is.")
            % {"category": category.name, "street": street.name},
            code="category_elsewhere",
            field="category",
        )
    description = _text(
        description,
        field="description",
        limit=MAX_DESCRIPTION,
        required=True,
        message=_("Please say in a few words what is wrong."),
    )
    place = {
        "address": _text(address, field="address", limit=200),
        "building": _text(building, field="building", limit=40),
        "unit": _text(unit, field="unit", limit=20),
        "floor": _text(floor, field="floor", limit=20),
    }
    photos = _photo_list(photos, required=0 if source == Source.OPEN311 else 1)
    payload = {
        "reporter": reporter.pk,  # another account's repeat of the key is refused, not answered
        "category": category.pk,
        "lat": lat,
        "lng": lng,
        "description": description,
        **place,
        "photos": [getattr(p, "size", None) for p in photos],
    }

    # Decoded before the transaction: on SQLite a write transaction holds the one write lock
    # from its start, and decoding photos is the slow part of a submission.
    processed = _process(photos)

    def work() -> Report:
        now = timezone.now()
        flags, flag_detail = _flags(
            settings_=report_settings(street),
            reporter=reporter,
            lat=lat,
            lng=lng,
            processed=processed,
            now=now,
            source=source,
        )
        exif = processed[0].exif if processed else None
        # Where the photo was taken is the reporter's own position: kept only with their
        # location consent (docs/privacy.md). The check above compared it with the hazard's
        # place in memory; only its outcome (a flag) stays either way.
        keep_gps = exif is not None and may_use_location(reporter)
        report = Report.objects.create(
            reporter=reporter,
            source=source,
            category=category,
            urgent=category.urgent,
            lat=lat,
            lng=lng,
            fine_cell=fine_cell_of(lat, lng),
            input_crs=str(parse_crs(crs)),
            community=community,
            grid=grid,
            area_code=grid.code,
            description=description,
            photo_taken_at=exif.taken_at if exif else None,
            photo_lat=exif.lat if keep_gps else None,
            photo_lng=exif.lng if keep_gps else None,
            captured_at=_plausible_capture(captured_at, now),
            flags=flags,
            **place,
        )
        event = _event(report, action="submitted", actor=reporter, data={"source": source})
        if flags:
            _event(
                report,
                action="flagged",
                actor=None,
                data={"flags": flags, **flag_detail},
                public=False,
            )
        _save_photos(report, processed, stage=PhotoStage.REPORT, actor=reporter, event=event)
        if report.urgent:
            _alert_on_duty(report)
        return report

    return run_once(
        scope="reports.submit", key=idempotency_key, payload=payload, model=Report, work=work
    )


def duplicates_near(
    *, category: Category, lat: float, lng: float, exclude: int | None = None
) -> list[tuple[Report, float]]:
    """Open reports of the category within the street's radius and window, nearest first."""
    settings_ = report_settings(category.street)
    radius = settings_.duplicate_radius_m
    since = timezone.now() - timedelta(days=settings_.duplicate_days)
    cells = Q()
    for low, high in fine_cell_ranges(lat, lng, radius):
        cells |= Q(fine_cell__range=(low, high))
    qs = Report.objects.filter(
        cells, category=category, status__in=OPEN_STATUSES, created_at__gte=since
    ).only("id", "lat", "lng", "status", "created_at", "description", "witnesses", "category_id")
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    found = []
    for report in qs[:200]:
        distance = haversine_m(lat, lng, report.lat, report.lng)
        if distance <= radius:
            found.append((report, distance))
    found.sort(key=lambda item: (item[1], item[0].pk))
    return found


@transaction.atomic
def report_witness(*, report: Report, user: Any) -> Witness:
    """ "I saw it too": a rider adds themselves to an open report instead of filing it again."""
    if not is_authenticated(user):
        raise Unauthenticated(_("Please log in first."))
    report = Report.objects.select_for_update().get(pk=report.pk)
    if not report.can_witness():
        raise Conflict(
            _("This report is no longer open: file a new one if the problem is still there."),
            code="report_not_open",
        )
    if report.reporter_id == user.pk:
        raise Conflict(_("You reported this yourself."), code="own_report")
    witness, created = Witness.objects.get_or_create(
        report=report, user=user, defaults={"area_code": report.area_code}
    )
    if created:
        Report.objects.filter(pk=report.pk).update(witnesses=F("witnesses") + 1)
        report.witnesses += 1
        _event(report, action="witnessed", actor=user, public=False)
    return witness


# --- the workflow ------------------------------------------------------------------------------


def _lock(report: Report, actor: Any, action: Action = Action.OPERATE) -> Report:
    require(actor, action, report)
    # ``of=self``: PostgreSQL cannot lock the nullable side of the outer join to the department.
    return (
        Report.objects.select_for_update(of=("self",))
        .select_related("category", "grid", "community", "department")
        .get(pk=report.pk)
    )


def _refuse(report: Report, what: str) -> Conflict:
    return Conflict(
        _("This report is %(status)s: it cannot be %(what)s now.")
        % {"status": report.get_status_display(), "what": what},
        code="invalid_transition",
    )


def _take_alert(report: Report, actor: Any) -> list[str]:
    """Staff who accept or dispatch an urgent report have taken its alert: the acknowledgement
    clock stops (else a dispatch, which resets ``escalation``, would be escalated again as an
    alert nobody took). The fields changed, for ``update_fields``."""
    if not report.urgent or report.acknowledged_at is not None:
        return []
    report.acknowledged_at, report.acknowledged_by = timezone.now(), actor
    return ["acknowledged_at", "acknowledged_by"]


def _staff_only(actor: Any) -> None:
    if not (actor.is_superuser or actor.role in CONSOLE_ROLES):
        raise Forbidden(_("Only community staff do this."), code="staff_only")


@transaction.atomic
def report_accept(*, report: Report, actor: Any, note: Any = "") -> Report:
    """立案: the report describes a real problem that is ours to solve."""
    report = _lock(report, actor)
    _staff_only(actor)
    if not report.can_accept():
        raise _refuse(report, _("accepted"))
    before = report.status
    report.status, report.accepted_at = ReportStatus.ACCEPTED, timezone.now()
    report.save(update_fields=["status", "accepted_at", "updated_at", *_take_alert(report, actor)])
    _event(
        report,
        action="accepted",
        actor=actor,
        before=before,
        note=_text(note, field="note", limit=500),
    )
    _tell_reporter(report, lambda: _("Your report #%(id)s was accepted") % {"id": report.pk})
    return report


@transaction.atomic
def report_reject(*, report: Report, actor: Any, reason: Any) -> Report:
    report = _lock(report, actor)
    _staff_only(actor)
    reason = _text(
        reason,
        field="reason",
        limit=300,
        required=True,
        message=_("Please tell the reporter why it is rejected."),
    )
    if not report.can_reject():
        raise _refuse(report, _("rejected"))
    before = report.status
    report.status, report.rejection_reason = ReportStatus.REJECTED, reason
    report.closed_at = timezone.now()
    report.save(update_fields=["status", "rejection_reason", "closed_at", "updated_at"])
    _event(report, action="rejected", actor=actor, before=before, note=reason)
    _tell_reporter(
        report, lambda: _("Your report #%(id)s was not accepted") % {"id": report.pk}, reason
    )
    return report


@transaction.atomic
def report_merge(*, report: Report, into: Report, actor: Any, note: Any = "") -> Report:
    """The report shows what another one does: it points at the original, its reporter (and
    witnesses) become the original's witnesses."""
    require(actor, Action.OPERATE, report)
    _staff_only(actor)
    if not isinstance(into, Report):
        raise ApplicationError(_("Choose the report to merge into."), field="into")
    if into.pk == report.pk:
        raise ApplicationError(_("A report cannot be merged into itself."), field="into")
    # Both rows are locked in id order, so two merges of one pair in opposite directions wait
    # for each other (the second is then refused) instead of deadlocking.
    locked = {r.pk: _lock(r, actor) for r in sorted((report, into), key=lambda r: r.pk)}
    report, original = locked[report.pk], locked[into.pk]
    if not report.can_merge():
        raise _refuse(report, _("merged"))
    if not original.is_open or original.status == ReportStatus.MERGED:
        raise Conflict(
            _("Merge into an open report (#%(id)s is %(status)s).")
            % {"id": original.pk, "status": original.get_status_display()},
            code="merge_target_closed",
        )
    if original.category_id != report.category_id:
        raise ApplicationError(
            _("Only reports of the same category can be merged."),
            code="merge_other_category",
            field="into",
        )
    before = report.status
    report.status, report.merged_into, report.closed_at = (
        ReportStatus.MERGED,
        original,
        timezone.now(),
    )
    report.save(update_fields=["status", "merged_into", "closed_at", "updated_at"])
    people = []
    if report.reporter_id and report.reporter_id != original.reporter_id:
        people.append((report.reporter_id, report))
    people += [
        (user_id, None)
        for user_id in Witness.objects.filter(report=report).values_list("user_id", flat=True)
        if user_id != original.reporter_id
    ]
    added = 0
    for user_id, via in people:
        _w, created = Witness.objects.get_or_create(
            report=original, user_id=user_id, defaults={"area_code": original.area_code, "via": via}
        )
        added += created
    if added:
        Report.objects.filter(pk=original.pk).update(witnesses=F("witnesses") + added)
    note = _text(note, field="note", limit=500)
    _event(
        report, action="merged", actor=actor, before=before, note=note, data={"into": original.pk}
    )
    _event(original, action="merged_in", actor=actor, data={"from": report.pk}, public=False)
    _tell_reporter(
        report,
        lambda: (
            _("Your report #%(id)s was merged into #%(into)s")
            % {"id": report.pk, "into": original.pk}
        ),
        lambda: _("Someone reported the same problem first; you are counted as a witness."),
    )
    return report


def deadline_for(category: Category, start: datetime) -> datetime:
    if category.deadline_unit == DeadlineUnit.WORKING_HOURS:
        return add_working_hours(start, category.deadline_amount)
    if category.deadline_unit == DeadlineUnit.WORKING_DAYS:
        return add_working_days(start, category.deadline_amount)
    return start + timedelta(hours=category.deadline_amount)


def _deadline(value: Any, category: Category, now: datetime) -> datetime:
    if value in (None, ""):
        return deadline_for(category, now)
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ApplicationError(
            _("Give the deadline as a date and time."), code="invalid_deadline", field="deadline"
        )
    if value <= now or value > now + timedelta(days=366):
        raise ApplicationError(
            _("The deadline must be in the future, within a year."),
            code="invalid_deadline",
            field="deadline",
        )
    return value


def _tell_department(report: Report, department: Department) -> None:
    handlers = User.objects.filter(
        is_active=True, role=Role.HANDLER, department=department
    ).values_list("pk", flat=True)
    notify(
        recipients=list(handlers),
        kind="report_dispatched",
        title=lambda: (
            _("New case #%(id)s: %(category)s") % {"id": report.pk, "category": report.category}
        ),
        body=lambda: (
            _("Deadline %(deadline)s. %(text)s")
            % {
                "deadline": timezone.localtime(report.deadline_at).strftime("%Y-%m-%d %H:%M"),
                "text": report.description[:200],
            }
        ),
        url=report_url(report, staff=True),
        target=report,
        urgent=report.urgent,
    )


@transaction.atomic
def report_dispatch(
    *,
    report: Report,
    actor: Any,
    department: Any = None,
    deadline: Any = None,
    note: Any = "",
) -> Report:
    """派遣: to a department (the category's default when none is given), with a deadline."""
    report = _lock(report, actor)
    _staff_only(actor)
    if not report.can_dispatch():
        raise _refuse(report, _("dispatched"))
    department = department if department is not None else report.category.department
    if department is None:
        raise ApplicationError(
            _("Choose the department that should handle it."),
            code="department_required",
            field="department",
        )
    _check_department(department, report.area_code)
    now = timezone.now()
    before = report.status
    report.status, report.department = ReportStatus.DISPATCHED, department
    report.accepted_at = report.accepted_at or now
    report.dispatched_at, report.deadline_at = now, _deadline(deadline, report.category, now)
    report.escalation = 0
    report.save(
        update_fields=[
            "status",
            "department",
            "accepted_at",
            "dispatched_at",
            "deadline_at",
            "escalation",
            "updated_at",
            *_take_alert(report, actor),
        ]
    )
    _event(
        report,
        action="dispatched",
        actor=actor,
        before=before,
        note=_text(note, field="note", limit=500),
        data={"department": department.name, "deadline": report.deadline_at.isoformat()},
    )
    _tell_department(report, department)
    _tell_reporter(
        report,
        lambda: (
            _("Your report #%(id)s is with %(department)s")
            % {"id": report.pk, "department": department}
        ),
    )
    return report


@transaction.atomic
def report_redirect(*, report: Report, actor: Any, department: Any, note: Any) -> Report:
    """A dispatched case went to the wrong department: send it to another (new deadline)."""
    report = _lock(report, actor)
    _staff_only(actor)
    if not report.can_redirect():
        raise _refuse(report, _("sent to another department"))
    if not isinstance(department, Department) or department.pk == report.department_id:
        raise ApplicationError(_("Choose another department."), field="department")
    _check_department(department, report.area_code)
    note = _text(note, field="note", limit=500, required=True)
    now = timezone.now()
    previous = report.department
    report.department, report.dispatched_at = department, now
    report.deadline_at, report.escalation = deadline_for(report.category, now), 0
    report.save(
        update_fields=["department", "dispatched_at", "deadline_at", "escalation", "updated_at"]
    )
    _event(
        report,
        action="redirected",
        actor=actor,
        note=note,
        data={"from": previous.name if previous else "", "to": department.name},
    )
    _tell_department(report, department)
    return report


def _may_handle(actor: Any, report: Report) -> None:
    if actor.is_superuser or actor.role in CONSOLE_ROLES:
        return
    if actor.role == Role.HANDLER and actor.department_id == report.department_id:
        return
    raise Forbidden(_("Only the department the case was sent to reports it handled."))


@_cleans_files
@transaction.atomic
def report_handle(*, report: Report, actor: Any, note: Any, photos: Iterable[Any]) -> Report:
    """处置: the department fixed it and shows it with an "after" photo."""
    report = _lock(report, actor)
    _may_handle(actor, report)
    if not report.can_handle():
        raise _refuse(report, _("reported as handled"))
    note = _text(
        note, field="note", limit=500, required=True, message=_("Please say what was done.")
    )
    processed = _process(_photo_list(photos, required=1))
    before = report.status
    report.status, report.handled_at = ReportStatus.HANDLED, timezone.now()
    report.save(update_fields=["status", "handled_at", "updated_at"])
    event = _event(report, action="handled", actor=actor, before=before, note=note)
    _save_photos(report, processed, stage=PhotoStage.HANDLED, actor=actor, event=event)
    notify(
        recipients=console_staff_ids(report.grid.code, report.community.code),
        kind="report_handled",
        title=lambda: _("#%(id)s handled: please check on site") % {"id": report.pk},
        body=note[:200],
        url=report_url(report, staff=True),
        target=report,
    )
    _tell_reporter(
        report, lambda: _("Your report #%(id)s has been handled") % {"id": report.pk}, note
    )
    return report


def _save_photos(report, processed, *, stage, actor, event) -> None:
    files = _Files()
    try:
        _store_photos(report, processed, stage=stage, actor=actor, event=event, files=files)
    except BaseException:
        files.discard()
        raise
    service = _WRITTEN.get()
    if service is not None:  # a later failure of the service removes them too
        service.saved += files.saved


@_cleans_files
@transaction.atomic
def report_verify(
    *,
    report: Report,
    actor: Any,
    passed: bool,
    note: Any = "",
    photos: Iterable[Any] = (),
) -> Report:
    """核查: staff checked on site. Passed: verified, and the points are paid (or held when the
    report is flagged). Not passed: back to the department (返工) with a new deadline."""
    report = _lock(report, actor)
    _staff_only(actor)
    if not report.can_verify():
        raise _refuse(report, _("verified"))
    note = _text(note, field="note", limit=500, required=not passed)
    processed = _process(_photo_list(photos, required=0))
    now = timezone.now()
    before = report.status
    if passed:
        report.status, report.verified_at = ReportStatus.VERIFIED, now
        report.save(update_fields=["status", "verified_at", "updated_at"])
        event = _event(report, action="verified", actor=actor, before=before, note=note)
        _pay_points(report, actor)
        _tell_reporter(
            report, lambda: _("Your report #%(id)s was checked: fixed") % {"id": report.pk}
        )
    else:
        report.status, report.handled_at = ReportStatus.DISPATCHED, None
        report.dispatched_at = now
        report.deadline_at, report.escalation = deadline_for(report.category, now), 0
        report.save(
            update_fields=[
                "status",
                "handled_at",
                "dispatched_at",
                "deadline_at",
                "escalation",
                "updated_at",
            ]
        )
        event = _event(report, action="sent_back", actor=actor, before=before, note=note)
        if report.department_id:
            _tell_department(report, report.department)
    _save_photos(report, processed, stage=PhotoStage.VERIFIED, actor=actor, event=event)
    return report


@transaction.atomic
def report_close(*, report: Report, actor: Any, note: Any = "") -> Report:
    """结案."""
    report = _lock(report, actor)
    _staff_only(actor)
    if not report.can_close():
        raise _refuse(report, _("closed"))
    before = report.status
    report.status, report.closed_at = ReportStatus.CLOSED, timezone.now()
    report.save(update_fields=["status", "closed_at", "updated_at"])
    _event(
        report,
        action="closed",
        actor=actor,
        before=before,
        note=_text(note, field="note", limit=500),
    )
    _tell_reporter(
        report, lambda: _("Your report #%(id)s is closed. Thank you!") % {"id": report.pk}
    )
    return report


@_cleans_files
@transaction.atomic
def report_reopen(*, report: Report, actor: Any, note: Any, photos: Iterable[Any]) -> Report:
    """A closed report comes back, with evidence (a photo) that the problem is still there: by
    staff, or by the rider who reported it."""
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    own = report.reporter_id == actor.pk
    report = _lock(report, actor, Action.VIEW if own else Action.OPERATE)
    if not own:
        _staff_only(actor)
    if not report.can_reopen():
        raise _refuse(report, _("reopened"))
    note = _text(
        note, field="note", limit=500, required=True, message=_("Please say what is still wrong.")
    )
    processed = _process(_photo_list(photos, required=1))
    before = report.status
    report.status, report.closed_at, report.verified_at = ReportStatus.ACCEPTED, None, None
    report.handled_at, report.deadline_at, report.escalation = None, None, 0
    report.reopen_count += 1
    report.save(
        update_fields=[
            "status",
            "closed_at",
            "verified_at",
            "handled_at",
            "deadline_at",
            "escalation",
            "reopen_count",
            "updated_at",
        ]
    )
    event = _event(report, action="reopened", actor=actor, before=before, note=note)
    _save_photos(report, processed, stage=PhotoStage.REOPENED, actor=actor, event=event)
    notify(
        recipients=console_staff_ids(report.grid.code, report.community.code),
        kind="report_reopened",
        title=lambda: _("#%(id)s reopened") % {"id": report.pk},
        body=note[:200],
        url=report_url(report, staff=True),
        target=report,
    )
    return report


@transaction.atomic
def report_acknowledge(*, report: Report, actor: Any) -> Report:
    """An on-duty staff member takes an urgent alert: the escalation clock stops."""
    report = _lock(report, actor)
    _staff_only(actor)
    if not report.can_acknowledge():
        raise Conflict(_("There is no alert to acknowledge."), code="nothing_to_acknowledge")
    report.acknowledged_at, report.acknowledged_by = timezone.now(), actor
    report.save(update_fields=["acknowledged_at", "acknowledged_by", "updated_at"])
    _event(report, action="acknowledged", actor=actor, public=False)
    _tell_reporter(
        report,
        lambda: _("Help is on the way for #%(id)s") % {"id": report.pk},
        lambda: _("%(name)s has taken your alert.") % {"name": actor.name or actor.username},
    )
    return report


# --- points ------------------------------------------------------------------------------------


def _earn(report: Report, member: Any, actor: Any, *, key: str, share: int = 100) -> str:
    """Pay one person for a verified report; the resulting points status."""
    try:
        points_earn(
            member=member,
            activity=Activity.REPORT_VERIFIED,
            reason=_("Report #%(id)s verified: %(category)s")
            % {"id": report.pk, "category": report.category.name},
            actor=actor,
            idempotency_key=key,
            category=report.category.code,
            source=report,
            share_percent=share,
        )
    except Forbidden as exc:
        # Staff who filed a report and verify it themselves: not a member, nothing to hold.
        if exc.code == "own_points":
            return PointsStatus.NONE
        return PointsStatus.HELD
    except ApplicationError as exc:
        if exc.code in ("no_rule", "not_a_member"):
            return PointsStatus.NONE
        raise
    return PointsStatus.PAID


def _pay_points(report: Report, actor: Any) -> None:
    if report.source == Source.OPEN311 or report.points_status == PointsStatus.PAID:
        # An Open311 request's "reporter" is the client's account, not a person: nothing to pay
        # it (and nothing to hold for review), but the riders who witnessed it are paid. A
        # report verified again after a reopen: the reporter was paid the first time;
        # witnesses who joined while it was open again are paid now.
        if _category_pays(report.category):
            _pay_witnesses(report, actor)
        return
    if report.points_status != PointsStatus.NONE or report.reporter is None:
        return
    if report.flags:
        report.points_status = PointsStatus.HELD
        report.save(update_fields=["points_status", "updated_at"])
        _event(
            report, action="points_held", actor=actor, data={"flags": report.flags}, public=False
        )
        return
    _pay_all(report, actor)


def _pay_witnesses(report: Report, actor: Any) -> None:
    """The street's share to each witness not paid yet (a key per witness: once each)."""
    share = report_settings(report.category.street).witness_share_percent
    if not share:
        return
    for witness in Witness.objects.filter(report=report, points_status=PointsStatus.NONE):
        witness.points_status = _earn(
            report,
            witness.user,
            actor,
            key=f"report-{report.pk}-witness-{witness.user_id}",
            share=share,
        )
        witness.save(update_fields=["points_status"])


def _category_pays(category: Category) -> bool:
    """False when the category's own earning rule is switched off (points 0): then it pays
    nothing, rather than falling back to the street's rule for every report."""
    return not EarningRule.objects.filter(
        street_id=category.street_id,
        activity=Activity.REPORT_VERIFIED,
        category=category.code,
        is_active=False,
    ).exists()


def _pay_all(report: Report, actor: Any) -> None:
    if not _category_pays(report.category):
        report.points_status = PointsStatus.NONE
        report.save(update_fields=["points_status", "updated_at"])
        _event(report, action="points", actor=actor, data={"status": "none"}, public=False)
        return
    status = _earn(report, report.reporter, actor, key=f"report-{report.pk}-reporter")
    if status == PointsStatus.HELD:
        report.flags = [*report.flags, Flag.OUTSIDE_SCOPE]
    report.points_status = status
    report.save(update_fields=["points_status", "flags", "updated_at"])
    _pay_witnesses(report, actor)
    _event(
        report, action="points", actor=actor, data={"status": report.points_status}, public=False
    )


@transaction.atomic
def report_points_decide(*, report: Report, actor: Any, pay: bool, note: Any) -> Report:
    """A person looks at a flagged report's points: pay them after all, or not."""
    report = _lock(report, actor)
    _staff_only(actor)
    if report.points_status != PointsStatus.HELD:
        raise Conflict(_("These points are not waiting for a decision."), code="points_not_held")
    note = _text(note, field="note", limit=300, required=True)
    if pay:
        report.flags = [f for f in report.flags if f != Flag.OUTSIDE_SCOPE]
        _pay_all(report, actor)
        report.refresh_from_db(fields=["points_status"])
        if report.points_status == PointsStatus.HELD:
            raise Forbidden(
                _("You may not pay this reporter: ask an admin of their area."),
                code="points_out_of_scope",
            )
    else:
        report.points_status = PointsStatus.DECLINED
        report.save(update_fields=["points_status", "updated_at"])
    _event(report, action="points_decided", actor=actor, note=note, data={"pay": pay}, public=False)
    return report


# --- escalation --------------------------------------------------------------------------------


def reports_escalate(*, now: datetime | None = None) -> dict[str, int]:
    """Run by the scheduler: overdue cases go up (community, then street), and urgent alerts
    nobody acknowledged go to the street. Each report escalates at most once per level."""
    now = now or timezone.now()
    counts = {"overdue_community": 0, "overdue_street": 0, "urgent_street": 0}
    overdue = Report.objects.filter(
        status=ReportStatus.DISPATCHED, deadline_at__lt=now, escalation__lt=2
    ).order_by("escalation", "deadline_at", "pk")  # a backlog: the ones nobody was told of first
    overdue = overdue.values_list("pk", flat=True)
    for pk in list(overdue[:1000]):
        with transaction.atomic():
            report = (
                Report.objects.select_for_update(of=("self",))
                .select_related("category", "grid", "community", "community__parent", "department")
                .get(pk=pk)
            )
            if report.status != ReportStatus.DISPATCHED or report.escalation >= 2:
                continue
            # Level 1 at the deadline; level 2 when as long again has passed.
            span = report.deadline_at - (report.dispatched_at or report.deadline_at)
            level = 2 if now >= report.deadline_at + max(span, timedelta(hours=1)) else 1
            if level <= report.escalation:
                continue
            skipped = report.escalation == 0 and level == 2  # the job did not run for a while
            report.escalation = level
            report.save(update_fields=["escalation", "updated_at"])
            _event(report, action="escalated", actor=None, data={"level": level}, public=False)
            codes = (report.community.code,) if level == 1 else (report.community.parent.code,)
            if skipped:  # the community was never told: it is told with the street
                codes = (report.community.parent.code, report.community.code)
            notify(
                recipients=console_staff_ids(*codes),
                kind="report_overdue",
                title=lambda report=report: (
                    _("Overdue: #%(id)s %(category)s (%(department)s)")
                    % {
                        "id": report.pk,
                        "category": report.category,
                        "department": report.department or "",
                    }
                ),
                url=report_url(report, staff=True),
                target=report,
            )
            counts["overdue_community" if level == 1 else "overdue_street"] += 1
    waiting = (
        Report.objects.filter(
            urgent=True,
            acknowledged_at__isnull=True,
            escalation=0,
            status__in=OPEN_STATUSES,
        )
        .select_related("category")
        .order_by("created_at", "pk")
    )  # the longest waiting first
    for report in list(waiting[:1000]):
        if report.created_at + timedelta(minutes=report.category.ack_minutes) > now:
            continue
        with transaction.atomic():
            report = (
                Report.objects.select_for_update(of=("self",))
                .select_related("category", "community", "community__parent")
                .get(pk=report.pk)
            )
            if report.acknowledged_at is not None or report.escalation:
                continue
            report.escalation = 2
            report.save(update_fields=["escalation", "updated_at"])
            _event(report, action="escalated", actor=None, data={"urgent": True}, public=False)
            notify(
                recipients=console_staff_ids(report.community.parent.code, report.community.code),
                kind="report_urgent",
                title=lambda report=report: (
                    _("Nobody has taken an urgent alert: #%(id)s %(category)s")
                    % {"id": report.pk, "category": report.category}
                ),
                url=report_url(report, staff=True),
                target=report,
                urgent=True,
            )
            counts["urgent_street"] += 1
    return counts


# --- Open311 keys ------------------------------------------------------------------------------


@transaction.atomic
def open311_key_issue(*, street: Any, name: Any, actor: Any) -> tuple[Any, str]:
    """An API key for an Open311 client of a street; the raw key is returned once, never stored.

    Each key gets its own account, under which the client's requests are filed: a merchant
    account (a role that collects no points), with no area, no phone and an unusable password,
    so nobody can log in with it; revoking the key deactivates it.
    """
    import secrets

    from yizhan.people.services import account_create, token_hash
    from yizhan.reports.models import Open311Key

    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("Open311 keys are issued per street."), field="street")
    require(actor, Action.CONFIGURE, street)
    name = _text(name, field="name", limit=100, required=True)
    raw = "o311_" + secrets.token_urlsafe(32)
    account = account_create(
        username=f"open311-{secrets.token_hex(8)}",
        name=f"Open311 {name}"[:50],
        role=Role.MERCHANT,
        password=None,
        actor=actor,
    )
    key = Open311Key.objects.create(
        street=street,
        area_code=street.code,
        name=name,
        prefix=raw[:12],
        key_hash=token_hash(raw),
        created_by=actor,
        account=account,
    )
    log_action(actor=actor, action="open311_key.issued", target=key, data={"name": name})
    return key, raw


@transaction.atomic
def open311_key_revoke(*, key: Any, actor: Any) -> Any:
    """Stop a key (and its account) at once; the requests it filed stay."""
    from yizhan.reports.models import Open311Key

    require(actor, Action.CONFIGURE, key)
    now = timezone.now()
    revoked = Open311Key.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
    if not revoked:
        raise Conflict(_("This key was revoked already."), code="key_revoked")
    if key.account_id:
        User.objects.filter(pk=key.account_id).update(is_active=False)
    log_action(actor=actor, action="open311_key.revoked", target=key)
    key.refresh_from_db()
    return key


# --- face blurring of photos stored before it existed (the backfill) ---------------------------

logger = logging.getLogger(__name__)


def _privatise(field: Any) -> bool:
    """Move an original still under MEDIA_ROOT (where it was written before originals became
    private) to private storage, under the same name; True when the original is there now.
    Safe to repeat: a copy left behind by an interrupted move is removed on the next run."""
    name = field.name
    if not name:
        return False
    private = field.storage
    if not private.exists(name) and default_storage.exists(name):
        with default_storage.open(name, "rb") as source:
            saved = private.save(name, ContentFile(source.read()))
        if saved != name:  # pragma: no cover - the private folder had no such name
            private.delete(saved)
            return False
    if private.exists(name) and default_storage.exists(name):
        default_storage.delete(name)
    return private.exists(name)


def report_photo_blur(*, photo_id: int, retry_failed: bool = False) -> str:
    """Give one stored photo its face-blurred copy (``manage.py blur_report_photos``).

    Moves the originals out of MEDIA_ROOT first (photos stored before originals were private),
    reads the original, blurs the faces (``core.faces``) and stores the copy under a random name.
    Returns ``done``, ``failed`` (blurring failed or the original is gone: the photo stays
    hidden), or ``skipped`` (it already has its copy; a failed one unless ``retry_failed``).
    Repeating it changes nothing.
    """
    photo = ReportPhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        return "skipped"
    have_original = _privatise(photo.image)
    have_thumb = _privatise(photo.thumbnail)
    wanted = {BlurState.PENDING} | ({BlurState.FAILED} if retry_failed else set())
    if photo.blur_state not in wanted:
        return "skipped"
    faces = None
    if have_original:
        with photo.image.open("rb") as source:
            display = source.read()
        thumb = None
        if have_thumb:
            with photo.thumbnail.open("rb") as source:
                thumb = source.read()
        faces = blur_faces(display, thumb=thumb)
    files = _Files()
    try:
        with transaction.atomic():
            row = ReportPhoto.objects.select_for_update().filter(pk=photo_id).first()
            if row is None or row.blur_state not in wanted:
                files.discard()
                return "skipped"
            _store_blurred(row, faces, files)
            row.save(update_fields=["public_image", "public_thumbnail", "blur_state", "faces"])
    except BaseException:
        files.discard()
        raise
    if row.blur_state == BlurState.FAILED:
        logger.warning(
            "report photo %s: no blurred copy (original present: %s)", photo_id, have_original
        )
        return "failed"
    return "done"


def report_photos_blur(
    *,
    batch_size: int = 200,
    retry_failed: bool = False,
    limit: int | None = None,
    older_than_seconds: int | None = None,
) -> dict[str, int]:
    """Blur every photo without its copy, in batches of ``batch_size`` ids (by id, so a run
    stopped halfway resumes where it was); the counts of each outcome. ``older_than_seconds``
    leaves alone the photos stored since (their own task is on its way)."""
    states = [BlurState.PENDING] + ([BlurState.FAILED] if retry_failed else [])
    waiting = ReportPhoto.objects.filter(blur_state__in=states)
    if older_than_seconds is not None:
        cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
        waiting = waiting.filter(created_at__lt=cutoff)
    counts = {"done": 0, "failed": 0, "skipped": 0}
    last = 0
    seen = 0
    while limit is None or seen < limit:
        size = batch_size if limit is None else min(batch_size, limit - seen)
        ids = list(waiting.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            break
        for pk in ids:
            counts[report_photo_blur(photo_id=pk, retry_failed=retry_failed)] += 1
        last = ids[-1]
        seen += len(ids)
    return counts


def report_photo_original_viewed(*, photo: ReportPhoto, actor: Any) -> None:
    """Record that ``actor`` opened the original (faces not blurred) of a report photo. The
    caller has checked they may (``selectors.photo_original_for_user``)."""
    log_action(
        actor=actor,
        action="view_original",
        target=photo,
        area_code=photo.area_code,
        data={"report": photo.report_id, "stage": photo.stage, "faces": photo.faces},
    )


def report_photo_original_remove(*, photo_id: int) -> bool:
    """Delete a photo's original (display size and thumbnail) when its face-blurred copy is
    stored, for retention (``privacy``); True when there was one to remove.

    The row is cleared under a lock (``image`` and ``thumbnail`` become empty: the console's
    "原图" link then says the original is no longer kept) and the files go from private storage
    after the commit, so a rollback never leaves a row pointing at nothing. A photo without its
    copy keeps its original. Repeating it does nothing.
    """
    with transaction.atomic():
        photo = ReportPhoto.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None or not photo.has_blurred_derivative:
            return False
        names = [name for name in (photo.image.name, photo.thumbnail.name) if name]
        if not names:
            return False
        storage = photo.image.storage
        ReportPhoto.objects.filter(pk=photo.pk).update(image="", thumbnail="")

        def delete() -> None:
            for name in names:
                storage.delete(name)

        transaction.on_commit(delete)
    return True
