"""Micro-wishes API (微心愿): riders post and confirm, claimers claim and fulfil, staff approve,
reject, confirm after the time-out or reopen; the public wall needs no log-in.

Posting takes an ``Idempotency-Key`` header: a retry with the same key gives the same wish.
"""

from __future__ import annotations

from datetime import datetime

from ninja import Field, File, Form, Header, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import is_console_user, require_role
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.schemas import ERRORS
from yizhan.people.api import AreaRef
from yizhan.points.api import IDEMPOTENCY_HEADER, idempotency_key
from yizhan.wishes import selectors, services
from yizhan.wishes.choices import WishStatus
from yizhan.wishes.models import Wish, WishClaim

router = Router(tags=["wishes"])
CONSOLE = tuple(CONSOLE_ROLES)
CLAIMERS = services.CLAIMER_ROLES


# --- schemas ---------------------------------------------------------------------------------


class WallWishOut(Schema):
    """What anyone may see of a wish: no name beyond a masked surname, no phone, no photo."""

    id: int
    community: AreaRef
    category: str
    category_label: str = Field(..., alias="get_category_display")
    text: str
    status: str
    status_label: str = Field(..., alias="get_status_display")
    rider: str = Field(..., alias="masked_name", description="The surname only, e.g. 王**")
    created_at: datetime


class WishClaimOut(Schema):
    id: int
    wish_id: int
    claimer: str
    status: str
    status_label: str = Field(..., alias="get_status_display")
    note: str
    photo_url: str | None = None
    created_at: datetime
    ended_at: datetime | None

    @staticmethod
    def resolve_claimer(obj: WishClaim) -> str:
        return obj.claimer.name or obj.claimer.username

    @staticmethod
    def resolve_photo_url(obj: WishClaim) -> str | None:
        return obj.photo.url if obj.photo else None


class WishOut(Schema):
    """A wish as its rider, its area's staff and its claimer see it."""

    id: int
    community: AreaRef
    area_code: str
    category: str
    category_label: str = Field(..., alias="get_category_display")
    text: str
    status: str
    status_label: str = Field(..., alias="get_status_display")
    rider: str | None = Field(None, description="The rider's name (to staff and the rider)")
    photo_url: str | None = Field(None, description="To the rider, staff and the claimer")
    rejection_reason: str
    claim: WishClaimOut | None = Field(None, alias="current_claim")
    created_at: datetime
    decided_at: datetime | None
    fulfilled_at: datetime | None
    confirm_due_at: datetime | None = Field(None, description="The rider confirms before this")
    timed_out_at: datetime | None
    confirmed_at: datetime | None
    points_status: str
    points_paid: int

    @staticmethod
    def resolve_rider(obj: Wish, context) -> str | None:
        if obj.rider_id is None:
            return None
        if _insider(obj, context["request"].user):
            return obj.rider.name or obj.rider.username
        return obj.masked_name

    @staticmethod
    def resolve_photo_url(obj: Wish, context) -> str | None:
        if not obj.photo or not _insider(obj, context["request"].user, claimer=True):
            return None
        return obj.photo.url


def _insider(wish: Wish, user, *, claimer: bool = False) -> bool:
    """The rider, staff (who only ever get wishes of their area here) and, for the photo, the
    claimer holding the wish; anyone else sees what the wall shows."""
    if wish.rider_id == user.pk or is_console_user(user):
        return True
    claim = wish.current_claim
    return claimer and claim is not None and claim.claimer_id == user.pk


class MyClaimOut(WishClaimOut):
    wish: WallWishOut


class WishRejectIn(Schema):
    reason: str = Field(..., max_length=1000)


class NoteIn(Schema):
    note: str = Field("", max_length=1000)


# --- helpers ---------------------------------------------------------------------------------


def _wish(request, wish_id: int) -> Wish:
    return selectors.wish_for_user(request.user, wish_id)


def _fresh(request, wish_id: int) -> Wish:
    return selectors.wish_for_user(request.user, wish_id)


# --- the public wall -------------------------------------------------------------------------


@router.get(
    "/wishes/wall",
    response={200: list[WallWishOut], **ERRORS},
    auth=None,
    summary="A community's wish wall: published, claimed and fulfilled wishes (no log-in)",
)
@paginate(YizhanPagination)
def wall(request, community: str):
    """``community`` is the 12-digit community code. The rider shows as a masked surname."""
    return selectors.wall(services.community_of(community))


# --- the rider -------------------------------------------------------------------------------


@router.post(
    "/wishes",
    response={201: WishOut, **ERRORS},
    summary="Post a wish (rider; multipart; send an Idempotency-Key header)",
)
def wish_post(
    request,
    category: Form[str],
    text: Form[str] = "",
    photo: File[UploadedFile] = None,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    """Multipart: ``category`` (daily_needs, school_supplies, child_education, health, other),
    ``text`` (up to 300 characters) and an optional ``photo``. It waits for the community's
    staff to approve it. A rider has at most 3 open wishes (409 beyond)."""
    require_role(request.user, Role.RIDER)
    key = idempotency_key(key)
    wish = services.wish_post(
        rider=request.user, category=category, text=text, photo=photo, idempotency_key=key
    )
    return Status(201, _fresh(request, wish.pk))


@router.get(
    "/wishes/mine",
    response={200: list[WishOut], **ERRORS},
    summary="My wishes, with their status (rider)",
)
@paginate(YizhanPagination)
def my_wishes(request, status: str | None = None):
    require_role(request.user, Role.RIDER)
    return selectors.filter_wishes(selectors.my_wishes(request.user), status=status)


# --- claimers --------------------------------------------------------------------------------


@router.get(
    "/wishes/claimable",
    response={200: list[WallWishOut], **ERRORS},
    summary="Published wishes in my reach, to claim (volunteers, merchants, staff)",
)
@paginate(YizhanPagination)
def claimable(request, community: str | None = None):
    require_role(request.user, *CLAIMERS)
    qs = selectors.claimable(request.user)
    if community:
        qs = qs.filter(community__code=community)
    return qs.order_by("created_at", "id")


@router.get(
    "/wishes/claims",
    response={200: list[MyClaimOut], **ERRORS},
    summary="The wishes I claimed, and how each ended (volunteers, merchants, staff)",
)
@paginate(YizhanPagination)
def my_claims(request, status: str | None = None):
    require_role(request.user, *CLAIMERS)
    qs = selectors.my_claims(request.user)
    return qs.filter(status=status) if status else qs


# --- staff -----------------------------------------------------------------------------------


@router.get(
    "/wishes",
    response={200: list[WishOut], **ERRORS},
    summary="Wishes in my area, with their status (staff; status=pending is the queue)",
)
@paginate(YizhanPagination)
def wish_list(request, status: str | None = None, area: str | None = None):
    """``status`` filters (pending: the approval queue; timed_out: the time-outs); ``area`` is
    an area code (everything beneath it)."""
    require_role(request.user, *CONSOLE)
    qs = selectors.filter_wishes(selectors.wishes_for_user(request.user), status=status, area=area)
    if status == WishStatus.PENDING:
        qs = qs.order_by("created_at", "id")
    return qs


# --- one wish --------------------------------------------------------------------------------


@router.get("/wishes/{wish_id}", response={200: WishOut, **ERRORS}, summary="One wish")
def wish_detail(request, wish_id: int):
    return _wish(request, wish_id)


@router.post(
    "/wishes/{wish_id}/approve",
    response={200: WishOut, **ERRORS},
    summary="Publish a pending wish on the wall (staff of its area)",
)
def wish_approve(request, wish_id: int):
    wish = _wish(request, wish_id)
    services.wish_approve(wish=wish, actor=request.user)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/reject",
    response={200: WishOut, **ERRORS},
    summary="Turn a pending wish down, with a reason for the rider (staff of its area)",
)
def wish_reject(request, wish_id: int, payload: WishRejectIn):
    wish = _wish(request, wish_id)
    services.wish_reject(wish=wish, actor=request.user, reason=payload.reason)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/withdraw",
    response={200: WishOut, **ERRORS},
    summary="Take back a wish nobody has claimed (its rider)",
)
def wish_withdraw(request, wish_id: int):
    wish = _wish(request, wish_id)
    services.wish_withdraw(wish=wish, actor=request.user)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/claim",
    response={200: WishOut, **ERRORS},
    summary="Claim a published wish (volunteers, merchants, staff; one claimer: else 409)",
)
def wish_claim(request, wish_id: int):
    require_role(request.user, *CLAIMERS)
    wish = _wish(request, wish_id)
    services.wish_claim(wish=wish, actor=request.user)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/release",
    response={200: WishOut, **ERRORS},
    summary="Give a claimed wish back before fulfilling it (its claimer)",
)
def wish_release(request, wish_id: int):
    require_role(request.user, *CLAIMERS)
    wish = _wish(request, wish_id)
    services.wish_release(wish=wish, actor=request.user)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/fulfil",
    response={200: WishOut, **ERRORS},
    summary="Mark a claimed wish fulfilled, with an optional note and photo (its claimer)",
)
def wish_fulfil(request, wish_id: int, note: Form[str] = "", photo: File[UploadedFile] = None):
    """Multipart: ``note`` (up to 300 characters) and an optional ``photo``."""
    require_role(request.user, *CLAIMERS)
    wish = _wish(request, wish_id)
    services.wish_fulfil(wish=wish, actor=request.user, note=note, photo=photo)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/confirm",
    response={200: WishOut, **ERRORS},
    summary="Confirm a fulfilment (its rider; staff of its area after the time-out)",
)
def wish_confirm(request, wish_id: int):
    """A confirmation pays the claimer, when they collect points (riders and volunteers)."""
    wish = _wish(request, wish_id)
    services.wish_confirm(wish=wish, actor=request.user)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/reopen",
    response={200: WishOut, **ERRORS},
    summary="Publish a timed-out wish again: the fulfilment did not happen (staff)",
)
def wish_reopen(request, wish_id: int, payload: NoteIn):
    wish = _wish(request, wish_id)
    services.wish_reopen(wish=wish, actor=request.user, note=payload.note)
    return _fresh(request, wish_id)


@router.post(
    "/wishes/{wish_id}/points",
    response={200: WishOut, **ERRORS},
    summary="Pay the points a confirmation left waiting (staff who may pay the claimer)",
)
def wish_points_pay(request, wish_id: int):
    wish = _wish(request, wish_id)
    services.wish_points_pay(wish=wish, actor=request.user)
    return _fresh(request, wish_id)
