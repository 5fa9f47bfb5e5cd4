"""Duties API (值勤): a rider logs a duty for a post they hold (multipart, with an optional
photo, and an ``Idempotency-Key`` header), sees their own; staff see their area's queue and
verify or reject; staff issue a household's gift code; a household confirms a gift delivery
with it (no log-in).
"""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import area_by_code
from yizhan.core.errors import ApplicationError
from yizhan.core.idempotency import check_key
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import Action, require_role
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.schemas import ERRORS
from yizhan.duties import selectors, services
from yizhan.duties.models import Duty, GiftCode
from yizhan.people.models import Post
from yizhan.points.api import IDEMPOTENCY_HEADER, aware

router = Router(tags=["duties"])
CONSOLE = tuple(CONSOLE_ROLES)


# --- schemas ---------------------------------------------------------------------------------


class DutyOut(Schema):
    id: int
    rider: str
    post_id: int
    post: str
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    started_at: datetime
    ended_at: datetime
    minutes: int
    place: str
    lat: float | None = Field(None, description="WGS-84")
    lng: float | None = Field(None, description="WGS-84")
    note: str
    photo_url: str | None = None
    thumbnail_url: str | None = None
    photo_width: int
    photo_height: int
    status: str
    status_label: str = Field(..., alias="get_status_display")
    verified_by: str = Field(..., description="staff, household, or empty")
    reason: str = Field(..., description="Why it was rejected")
    decided_at: datetime | None
    points_status: str
    points: int
    created_at: datetime

    @staticmethod
    def resolve_rider(obj: Duty) -> str:
        user = obj.rider.user
        return user.name or user.username

    @staticmethod
    def resolve_post(obj: Duty) -> str:
        return str(obj.post)

    @staticmethod
    def resolve_photo_url(obj: Duty) -> str | None:
        return obj.photo.url if obj.photo else None

    @staticmethod
    def resolve_thumbnail_url(obj: Duty) -> str | None:
        return obj.thumbnail.url if obj.thumbnail else None


class DutyRejectIn(Schema):
    reason: str = Field(..., max_length=200)


class ConfirmIn(Schema):
    duty: int = Field(..., description="The duty number the rider shows")
    code: str = Field(..., max_length=20, description="The household's 6 digits")


class ConfirmOut(Schema):
    duty: int
    status: str
    ok: bool = True


class GiftCodeIn(Schema):
    community: str = Field(..., description="The 12-digit community code")
    household: str = Field(..., max_length=100, description="Who receives the gift")


class GiftCodeOut(Schema):
    id: int
    community: str
    household: str
    issued_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    duty_id: int | None
    code: str | None = Field(None, description="The 6 digits: in the answer to issuing only")

    @staticmethod
    def resolve_community(obj: GiftCode) -> str:
        return obj.community.name

    @staticmethod
    def resolve_issued_by(obj: GiftCode) -> str:
        return obj.issued_by.name or obj.issued_by.username

    @staticmethod
    def resolve_code(obj: GiftCode) -> str | None:
        return getattr(obj, "digits", None)


def _fresh(pk: int) -> Duty:
    return selectors._duties().get(pk=pk)


# --- the rider's and the staff's lists ---------------------------------------------------------


@router.get(
    "/duties",
    response={200: list[DutyOut], **ERRORS},
    summary="Duties I may see: my own (riders), my area's (staff)",
)
@paginate(YizhanPagination)
def duty_list(request, status: str | None = None):
    return selectors.duties_for(request.user, status=status)


@router.post(
    "/duties",
    response={201: DutyOut, **ERRORS},
    summary="Log a duty for a post I hold (multipart; send an Idempotency-Key header)",
)
def duty_log(
    request,
    post_id: Form[int],
    kind: Form[str],
    started_at: Form[datetime],
    place: Form[str],
    ended_at: Form[datetime] = None,
    lat: Form[float] = None,
    lng: Form[float] = None,
    crs: Form[str] = "wgs84",
    note: Form[str] = "",
    photo: File[UploadedFile] = None,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    """``kind``: patrol, mediation (a start and an end, at most 12 hours), help or gift (a
    single time in ``started_at``). ``lat``/``lng`` in ``crs`` (wgs84, gcj02, bd09) are
    optional; so are ``note`` and one ``photo``. A retry with the same key gives the first duty
    (201 again); the same kind at an overlapping time is a 409."""
    require_role(request.user, Role.RIDER)
    key = check_key(key)
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        raise ApplicationError(_("Please choose one of your posts."), field="post")
    duty = services.duty_log(
        actor=request.user,
        post=post,
        kind=kind,
        started_at=aware(started_at),
        ended_at=aware(ended_at),
        place=place,
        lat=lat,
        lng=lng,
        crs=crs,
        note=note,
        photo=photo,
        idempotency_key=key,
    )
    return Status(201, _fresh(duty.pk))


# --- gift codes and the household's confirmation -----------------------------------------------


@router.get(
    "/duties/gift-codes",
    response={200: list[GiftCodeOut], **ERRORS},
    summary="Gift codes issued in my area (staff; the digits are never shown again)",
)
@paginate(YizhanPagination)
def gift_code_list(request):
    require_role(request.user, *CONSOLE)
    return selectors.gift_codes_for(request.user)


@router.post(
    "/duties/gift-codes",
    response={201: GiftCodeOut, **ERRORS},
    summary="Issue a household a one-time code to confirm a gift delivery (7 days)",
)
def gift_code_issue(request, payload: GiftCodeIn):
    require_role(request.user, *CONSOLE)
    community = area_by_code(payload.community, level=AreaLevel.COMMUNITY, field="community")
    code, digits = services.gift_code_issue(
        community=community, household=payload.household, actor=request.user
    )
    code = selectors.gift_codes_for(request.user).get(pk=code.pk)
    code.digits = digits
    return Status(201, code)


@router.post(
    "/duties/confirm",
    response={200: ConfirmOut, **ERRORS},
    auth=None,
    summary="A household confirms a gift delivery with its code (no log-in)",
)
def duty_confirm(request, payload: ConfirmIn):
    duty = services.duty_confirm(duty_id=payload.duty, code=payload.code, actor=request.user)
    return {"duty": duty.pk, "status": duty.status}


# --- one duty ----------------------------------------------------------------------------------


@router.get("/duties/{duty_id}", response={200: DutyOut, **ERRORS}, summary="One duty")
def duty_detail(request, duty_id: int):
    return selectors.duty_for(request.user, duty_id)


@router.post(
    "/duties/{duty_id}/verify",
    response={200: DutyOut, **ERRORS},
    summary="Verify a duty (staff of the rider's area): it is paid once",
)
def duty_verify(request, duty_id: int):
    duty = selectors.duty_for(request.user, duty_id, Action.OPERATE)
    services.duty_verify(duty=duty, actor=request.user)
    return _fresh(duty.pk)


@router.post(
    "/duties/{duty_id}/reject",
    response={200: DutyOut, **ERRORS},
    summary="Reject a duty with a reason the rider sees (staff of the rider's area)",
)
def duty_reject(request, duty_id: int, payload: DutyRejectIn):
    duty = selectors.duty_for(request.user, duty_id, Action.OPERATE)
    services.duty_reject(duty=duty, actor=request.user, reason=payload.reason)
    return _fresh(duty.pk)
