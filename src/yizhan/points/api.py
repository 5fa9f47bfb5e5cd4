"""Points API: my balance and history, staff awards (maker-checker), the ledger and its
reversals, season leaderboards, a street's earning rules and points settings.

Writes that a phone may repeat (awards, reversals) take an ``Idempotency-Key`` header; the
services make each key take effect once (``core.idempotency``).
"""

import re
from datetime import date, datetime
from typing import Any, Literal

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema, Status
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.areas.selectors import area_by_code
from yizhan.core.errors import ApplicationError
from yizhan.core.idempotency import check_key
from yizhan.core.masking import mask_name
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import (
    Action,
    get_for_user,
    is_console_user,
    require_role,
    restrict,
    scope_code,
)
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.core.schemas import ERRORS
from yizhan.people.api import AreaRef
from yizhan.people.models import User
from yizhan.points import selectors, services
from yizhan.points.choices import SeasonKind
from yizhan.points.models import ManualAward, Posting, SeasonScore

router = Router(tags=["points"])
CONSOLE = tuple(CONSOLE_ROLES)

#: The ``Idempotency-Key`` header of writes a client may repeat (8–100 letters, digits, ``._:-``).
IDEMPOTENCY_HEADER = "Idempotency-Key"

SeasonKindIn = Literal["month", "quarter", "year", "all"]

_SEASON_FORMS = {
    SeasonKind.MONTH: re.compile(r"^m\d{4}-(0[1-9]|1[0-2])$"),
    SeasonKind.QUARTER: re.compile(r"^q\d{4}-[1-4]$"),
    SeasonKind.YEAR: re.compile(r"^y\d{4}$"),
    SeasonKind.ALL: re.compile(r"^all$"),
}


# --- schemas ---------------------------------------------------------------------------------


class MemberRef(Schema):
    id: int = Field(..., description="The member's user id")
    name: str


class ExpiringOut(Schema):
    points: int
    on: date = Field(..., description="They expire at the end of this day")


class SeasonRankOut(Schema):
    season_kind: str
    season: str = Field(..., description="m2026-11, q2026-4, y2026 or all")
    rank: int | None = Field(..., description="Empty when no points were earned there")
    points: int = Field(..., description="Points earned in the season within the area")


class MyPointsOut(Schema):
    balance: int
    expiring_soon: ExpiringOut | None
    street: AreaRef | None
    ranks: list[SeasonRankOut] = Field(..., description="My rank in my street, per season")


class MyPostingOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    amount: int = Field(..., alias="signed_amount", description="Positive in, negative out")
    reason: str
    activity: str
    source_type: str
    source_id: str
    created_at: datetime
    reverses_id: int | None


def _name_of(user: Any) -> str | None:
    return (user.name or user.username) if user is not None else None


def _member_of(account: Any) -> dict | None:
    owner = account.owner if account is not None else None
    return {"id": owner.pk, "name": _name_of(owner)} if owner is not None else None


class PostingOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    amount: int = Field(..., description="Always positive; see signed_amount")
    signed_amount: int = Field(..., description="As the member sees it: positive in")
    member: MemberRef | None
    area_code: str
    activity: str
    reason: str
    source_type: str
    source_id: str
    evidence: str
    actor: str | None
    approved_by: str | None
    reverses_id: int | None
    reversed_by_id: int | None = None
    created_at: datetime

    @staticmethod
    def resolve_member(obj: Posting) -> dict | None:
        return _member_of(obj.member)

    @staticmethod
    def resolve_actor(obj: Posting) -> str | None:
        return _name_of(obj.actor)

    @staticmethod
    def resolve_approved_by(obj: Posting) -> str | None:
        return _name_of(obj.approved_by)

    @staticmethod
    def resolve_reversed_by_id(obj: Posting) -> int | None:
        reversal = getattr(obj, "reversed_by", None)
        return reversal.pk if reversal is not None else None


class AwardIn(Schema):
    member_id: int = Field(..., description="The user id of the rider (or volunteer)")
    amount: int = Field(..., description="Points, a whole number from 1")
    reason: str = Field(..., max_length=200)
    evidence: str = Field(..., max_length=500, description="What shows it: a photo, a record")


class AwardOut(Schema):
    id: int
    member: MemberRef | None
    area_code: str
    amount: int
    reason: str
    evidence: str
    status: str
    status_label: str = Field(..., alias="get_status_display")
    paid: int | None = Field(None, description="Points paid (a cap may pay less); empty: none")
    requested_by: str
    decided_by: str | None
    decision_note: str
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_member(obj: ManualAward) -> dict | None:
        return _member_of(obj.member)

    @staticmethod
    def resolve_paid(obj: ManualAward) -> int | None:
        return obj.earning.paid if obj.earning_id else None

    @staticmethod
    def resolve_requested_by(obj: ManualAward) -> str:
        return _name_of(obj.requested_by) or ""

    @staticmethod
    def resolve_decided_by(obj: ManualAward) -> str | None:
        return _name_of(obj.decided_by)


class AwardRejectIn(Schema):
    note: str = Field("", max_length=200)


class ReverseIn(Schema):
    reason: str = Field(..., max_length=200)


class BoardRowOut(Schema):
    rank: int
    name: str = Field(..., description="Masked for riders, except their own")
    points: int
    is_me: bool

    @staticmethod
    def resolve_name(obj: SeasonScore, context) -> str:
        owner = obj.member.owner
        if owner is None:
            return ""
        viewer = context["request"].user
        name = _name_of(owner) or ""
        if owner.pk == viewer.pk or viewer.is_superuser:
            return name
        # Console users see full names of the members beneath their own area.
        if (
            is_console_user(viewer)
            and scope_code(viewer)
            and (owner.area_code or "").startswith(scope_code(viewer))
        ):
            return name
        return mask_name(name)

    @staticmethod
    def resolve_is_me(obj: SeasonScore, context) -> bool:
        owner_id = obj.member.owner_id
        return owner_id is not None and owner_id == context["request"].user.pk


class MyBoardOut(SeasonRankOut):
    area: AreaRef


class RuleOut(Schema):
    id: int
    street: str = Field(..., alias="area_code")
    activity: str
    activity_label: str = Field(..., alias="get_activity_display")
    category: str
    points: int
    daily_cap: int | None
    weekly_cap: int | None
    is_active: bool


class RuleIn(Schema):
    street: str = Field(..., description="The 9-digit street code")
    activity: str = Field(
        ...,
        description="report_verified, event_attendance, duty_hour, elderly_child_help, "
        "gift_delivery, wish_fulfilled, manual_award",
    )
    category: str = Field("", max_length=64, description="Report category code; '' = any")
    points: int
    daily_cap: int | None = None
    weekly_cap: int | None = None
    is_active: bool = True


class SettingsOut(Schema):
    street: str = Field(..., alias="area_code")
    approval_threshold: int = Field(..., description="Manual awards above need a 2nd approval")
    expiry_enabled: bool
    expiry_month: int
    expiry_day: int


class SettingsPatch(Schema):
    approval_threshold: int | None = None
    expiry_enabled: bool | None = None
    expiry_month: int | None = None
    expiry_day: int | None = None


# --- helpers ---------------------------------------------------------------------------------


def aware(value: datetime | None) -> datetime | None:
    """A datetime from the client; one without a UTC offset is read as local time (Shanghai)."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def idempotency_key(value: str | None) -> str:
    """The request's key, or 400 ``invalid_idempotency_key`` when missing or malformed."""
    return check_key(value)


def _street_of(user: Any) -> Area | None:
    try:
        return services.street_of(user)
    except ApplicationError:
        return None


def _season(kind: str, season: str | None) -> str:
    if not season:
        return selectors.current_season(kind)
    if not _SEASON_FORMS[SeasonKind(kind)].match(season):
        raise ApplicationError(
            _("%(season)s is not a season of that kind (e.g. m2026-11, q2026-4, y2026, all).")
            % {"season": season[:16]},
            code="invalid_season",
            field="season",
        )
    return season


def _board_area(user: Any, code: str | None) -> Area:
    if code:
        return area_by_code(code, field="area")
    own = getattr(user, "area_code", "") or ""
    if own:
        return area_by_code(own[:9], field="area")
    raise ApplicationError(
        _("Please choose the area of the leaderboard."), code="area_required", field="area"
    )


def _points_in(account: Any, area_code: str, seasons: list[str]) -> dict[str, int]:
    if account is None:
        return {}
    return dict(
        SeasonScore.objects.filter(
            member=account, area_code=area_code, season__in=seasons
        ).values_list("season", "points")
    )


def _award(request, award_id: int) -> ManualAward:
    return get_for_user(
        ManualAward.objects.select_related(
            "member__owner", "requested_by", "decided_by", "earning"
        ),
        request.user,
        Action.OPERATE,
        pk=award_id,
    )


def _postings(qs: QuerySet[Posting]) -> QuerySet[Posting]:
    return qs.select_related("member__owner", "actor", "approved_by", "reversed_by")


# --- my points -------------------------------------------------------------------------------


@router.get("/points/me", response={200: MyPointsOut, **ERRORS}, summary="My points")
def points_me(request):
    user = request.user
    account = selectors.account_of(user)
    street = _street_of(user)
    expiring = selectors.expiring_soon(user)
    ranks = []
    seasons = {kind: selectors.current_season(kind) for kind in SeasonKind.values}
    points = _points_in(account, street.code, list(seasons.values())) if street else {}
    for kind, season in seasons.items():
        rank = selectors.rank_of(account, season=season, area_code=street.code) if street else None
        ranks.append(
            {"season_kind": kind, "season": season, "rank": rank, "points": points.get(season, 0)}
        )
    return {
        "balance": account.balance if account is not None else 0,
        "expiring_soon": (
            {"points": expiring.points, "on": expiring.on} if expiring is not None else None
        ),
        "street": street,
        "ranks": ranks,
    }


@router.get(
    "/points/me/history",
    response={200: list[MyPostingOut], **ERRORS},
    summary="My points history: what earned or spent each, and why",
)
@paginate(YizhanPagination)
def points_me_history(request):
    return selectors.history_of(request.user)


# --- manual awards (maker-checker) -----------------------------------------------------------


@router.post(
    "/points/awards",
    response={201: AwardOut, **ERRORS},
    summary="Award points by hand (above the street's threshold it waits for a 2nd approval)",
)
def award_create(
    request,
    payload: AwardIn,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    require_role(request.user, *CONSOLE)
    key = idempotency_key(key)
    member = get_for_user(User, request.user, Action.OPERATE, pk=payload.member_id)
    award = services.points_award(
        member=member,
        amount=payload.amount,
        reason=payload.reason,
        evidence=payload.evidence,
        actor=request.user,
        idempotency_key=key,
    )
    return Status(201, award)


@router.get(
    "/points/awards",
    response={200: list[AwardOut], **ERRORS},
    summary="Manual awards in my area (filter by status: pending, approved, rejected)",
)
@paginate(YizhanPagination)
def award_list(request, status: str | None = None):
    require_role(request.user, *CONSOLE)
    qs = restrict(ManualAward.objects.all(), request.user).select_related(
        "member__owner", "requested_by", "decided_by", "earning"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


@router.post(
    "/points/awards/{award_id}/approve",
    response={200: AwardOut, **ERRORS},
    summary="Approve a pending award (a second staff member, not the one who asked)",
)
def award_approve(request, award_id: int):
    require_role(request.user, *CONSOLE)
    award = _award(request, award_id)
    return services.points_award_approve(award=award, actor=request.user)


@router.post(
    "/points/awards/{award_id}/reject",
    response={200: AwardOut, **ERRORS},
    summary="Turn down a pending award",
)
def award_reject(request, award_id: int, payload: AwardRejectIn | None = None):
    require_role(request.user, *CONSOLE)
    award = _award(request, award_id)
    note = payload.note if payload is not None else ""
    return services.points_award_reject(award=award, actor=request.user, note=note)


# --- the ledger ------------------------------------------------------------------------------


@router.get(
    "/points/postings",
    response={200: list[PostingOut], **ERRORS},
    summary="Search the ledger of my area (kind, activity, name or phone, dates)",
)
@paginate(YizhanPagination)
def posting_list(
    request,
    kind: str | None = None,
    activity: str | None = None,
    q: str | None = None,
    since: date | None = None,
    until: date | None = None,
):
    require_role(request.user, *CONSOLE)
    return _postings(
        selectors.postings_for_user(
            request.user, kind=kind, activity=activity, q=q, since=since, until=until
        )
    )


@router.post(
    "/points/postings/{posting_id}/reverse",
    response={201: PostingOut, **ERRORS},
    summary="Correct an award or an expiry by reversing it (the original stays)",
)
def posting_reverse(
    request,
    posting_id: int,
    payload: ReverseIn,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    require_role(request.user, *CONSOLE)
    key = idempotency_key(key)
    posting = get_for_user(Posting, request.user, Action.OPERATE, pk=posting_id)
    reversal = services.points_reverse(
        posting=posting, actor=request.user, reason=payload.reason, idempotency_key=key
    )
    return Status(201, _postings(Posting.objects.filter(pk=reversal.pk)).get())


# --- leaderboards ----------------------------------------------------------------------------


@router.get(
    "/points/leaderboard",
    response={200: list[BoardRowOut], **ERRORS},
    summary="Leaderboard: points earned in a season within an area (default: my street)",
)
@paginate(YizhanPagination)
def leaderboard(
    request,
    season_kind: SeasonKindIn = "month",
    season: str | None = None,
    area: str | None = None,
):
    board_area = _board_area(request.user, area)
    key = _season(season_kind, season)
    return selectors.leaderboard(season=key, area_code=board_area.code).annotate(
        rank=Window(
            RowNumber(),
            order_by=[F("points").desc(), F("reached_at").asc(), F("member_id").asc()],
        )
    )


@router.get(
    "/points/leaderboard/me",
    response={200: MyBoardOut, **ERRORS},
    summary="My place on a leaderboard (rank empty when I have no points there)",
)
def leaderboard_me(
    request,
    season_kind: SeasonKindIn = "month",
    season: str | None = None,
    area: str | None = None,
):
    board_area = _board_area(request.user, area)
    key = _season(season_kind, season)
    account = selectors.account_of(request.user)
    return {
        "season_kind": season_kind,
        "season": key,
        "area": board_area,
        "rank": selectors.rank_of(account, season=key, area_code=board_area.code),
        "points": _points_in(account, board_area.code, [key]).get(key, 0),
    }


# --- earning rules and settings --------------------------------------------------------------


@router.get(
    "/points/rules",
    response={200: list[RuleOut], **ERRORS},
    auth=None,
    summary="What each activity earns in a street, and its caps",
)
@paginate(YizhanPagination)
def rule_list(request, street: str):
    return selectors.rules_of(area_by_code(street, level=AreaLevel.STREET, field="street"))


@router.put(
    "/points/rules",
    response={200: RuleOut, **ERRORS},
    summary="Set what an activity earns in a street (street admins)",
)
def rule_set(request, payload: RuleIn):
    require_role(request.user, *CONSOLE)
    street = area_by_code(payload.street, level=AreaLevel.STREET, field="street")
    return services.earning_rule_set(
        street=street,
        activity=payload.activity,
        points=payload.points,
        actor=request.user,
        category=payload.category,
        daily_cap=payload.daily_cap,
        weekly_cap=payload.weekly_cap,
        is_active=payload.is_active,
    )


@router.get(
    "/points/settings",
    response={200: SettingsOut, **ERRORS},
    auth=None,
    summary="A street's points settings: second-approval threshold, expiry",
)
def settings_get(request, street: str):
    area = area_by_code(street, level=AreaLevel.STREET, field="street")
    return selectors.settings_of(area)


@router.patch(
    "/points/settings",
    response={200: SettingsOut, **ERRORS},
    summary="Change a street's points settings (street admins)",
)
def settings_update(request, street: str, payload: SettingsPatch):
    require_role(request.user, *CONSOLE)
    area = area_by_code(street, level=AreaLevel.STREET, field="street")
    return services.points_settings_update(
        street=area,
        actor=request.user,
        approval_threshold=payload.approval_threshold,
        expiry_enabled=payload.expiry_enabled,
        expiry_month=payload.expiry_month,
        expiry_day=payload.expiry_day,
    )
