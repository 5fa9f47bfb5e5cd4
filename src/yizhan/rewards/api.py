"""Rewards API (积分超市): the catalogue and its stock, priority windows, reservations with a
pickup code, pickup at the station, cancellation; the street's staff run the catalogue.

A reservation takes an ``Idempotency-Key`` header: a retry with the same key gives the same
reservation (and charges once); the same key with another body is a 409.
"""

from datetime import datetime

from django.db.models import Prefetch, Q
from django.utils import timezone
from ninja import Field, Header, Router, Schema, Status
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import area_by_code
from yizhan.core import ratelimit
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import Action, get_for_user, is_console_user, require_role, restrict
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.core.schemas import ERRORS, LIMITED
from yizhan.points.api import (
    IDEMPOTENCY_HEADER,
    AreaRef,
    SeasonKindIn,
    aware,
    idempotency_key,
)
from yizhan.rewards import services
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock
from yizhan.stations.api import StationRef
from yizhan.stations.models import Station

router = Router(tags=["rewards"])
CONSOLE = tuple(CONSOLE_ROLES)


# --- schemas ---------------------------------------------------------------------------------


class StockOut(Schema):
    station_id: int
    station_name: str = Field(..., alias="station.name")
    available: int


class RewardOut(Schema):
    id: int
    street: AreaRef
    name: str
    description: str
    cost: int = Field(..., description="Points")
    per_rider_limit: int | None = Field(..., description="Empty: no limit")
    available_from: datetime | None
    available_until: datetime | None
    pickup_hours: int
    is_active: bool
    photo_url: str | None = None
    stock: list[StockOut] = Field(..., description="What each station has for pickup")

    @staticmethod
    def resolve_photo_url(obj: Reward) -> str | None:
        return obj.photo.url if obj.photo else None


class RewardIn(Schema):
    street: str = Field(..., description="The 9-digit street code")
    name: str = Field(..., max_length=100)
    cost: int = Field(..., description="Points")
    description: str = Field("", max_length=300)
    per_rider_limit: int | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    pickup_hours: int = 72


class RewardPatch(Schema):
    """Only the fields sent change; ``null`` clears a limit or a date."""

    description: str = Field(None, max_length=300)
    cost: int = None
    per_rider_limit: int | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    pickup_hours: int = None
    is_active: bool = None


class StockIn(Schema):
    station_id: int
    change: int = Field(..., description="Items to add; below zero, to remove (not reserved)")
    reason: str = Field(..., max_length=200)


class StockRowOut(Schema):
    reward_id: int
    station_id: int
    station_name: str = Field(..., alias="station.name")
    available: int
    held: int = Field(..., description="Reserved, awaiting pickup")
    handed_out: int


class WindowOut(Schema):
    id: int
    street: AreaRef
    name: str
    reward_id: int | None = Field(..., description="Empty: every reward of the street")
    reward_name: str | None = None
    top_n: int
    season_kind: str
    season: str
    ranking_area: AreaRef
    opens_at: datetime
    closes_at: datetime
    is_open: bool = False

    @staticmethod
    def resolve_reward_name(obj: PriorityWindow) -> str | None:
        return obj.reward.name if obj.reward_id else None

    @staticmethod
    def resolve_is_open(obj: PriorityWindow) -> bool:
        return obj.opens_at <= timezone.now() < obj.closes_at


class WindowIn(Schema):
    street: str = Field(..., description="The 9-digit street code")
    name: str = Field(..., max_length=100)
    top_n: int = Field(..., description="Open to the top N of the ranking")
    season_kind: SeasonKindIn
    season: str | None = Field(
        None, max_length=16, description="Default: the season the window opens in"
    )
    ranking_area: str | None = Field(None, description="Rank within this area (default: street)")
    reward_id: int | None = Field(None, description="Empty: every reward of the street")
    opens_at: datetime
    closes_at: datetime


class ReserveIn(Schema):
    station_id: int = Field(..., description="Where to pick it up")


class RewardRef(Schema):
    id: int
    name: str


class RedemptionOut(Schema):
    id: int
    reward: RewardRef
    station: StationRef
    rider: str | None = Field(None, description="Who reserved it")
    cost: int
    status: str
    status_label: str = Field(..., alias="get_status_display")
    pickup_code: str | None = Field(None, description="Shown to the rider who reserved only")
    qr_payload: str | None = Field(None, description="Shown to the rider who reserved only")
    expires_at: datetime = Field(..., description="Pick up before")
    created_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_rider(obj: Redemption) -> str | None:
        return (obj.user.name or obj.user.username) if obj.user_id else None

    @staticmethod
    def resolve_pickup_code(obj: Redemption, context) -> str | None:
        return obj.pickup_code if obj.user_id == context["request"].user.pk else None

    @staticmethod
    def resolve_qr_payload(obj: Redemption, context) -> str | None:
        return obj.qr_payload if obj.user_id == context["request"].user.pk else None


class PickupIn(Schema):
    station_id: int
    code: str = Field(..., max_length=40, description="The 6 digits, or the scanned QR text")


# --- helpers ---------------------------------------------------------------------------------


def _catalogue():
    return Reward.objects.select_related("street").prefetch_related(
        Prefetch(
            "stock",
            queryset=Stock.objects.select_related("station").order_by(
                "station__area_code", "station__name", "pk"
            ),
        )
    )


def _reward(request, reward_id: int, action: Action = Action.VIEW) -> Reward:
    return get_for_user(_catalogue(), request.user, action, pk=reward_id)


def _station(request, station_id: int) -> Station:
    return get_for_user(Station, request.user, pk=station_id)


def _redemptions():
    return Redemption.objects.select_related("reward", "station", "user")


def _one(qs, pk: int):
    return qs.get(pk=pk)


# --- the catalogue ---------------------------------------------------------------------------


@router.get(
    "/rewards",
    response={200: list[RewardOut], **ERRORS},
    auth=None,
    summary="The catalogue of the points shop, with the stock at each station",
)
@paginate(YizhanPagination)
def reward_list(request, street: str | None = None):
    qs = _catalogue()
    if street:
        qs = qs.filter(street=area_by_code(street, level=AreaLevel.STREET, field="street"))
    if is_console_user(request.user):
        # Staff also see what is off offer in the streets they run.
        mine = restrict(Reward.objects.all(), request.user, Action.OPERATE).values("pk")
        qs = qs.filter(Q(is_active=True) | Q(pk__in=mine))
    else:
        qs = qs.filter(is_active=True)
    return qs.order_by("area_code", "cost", "name", "pk")


@router.post("/rewards", response={201: RewardOut, **ERRORS}, summary="Add a reward")
def reward_create(request, payload: RewardIn):
    require_role(request.user, *CONSOLE)
    street = area_by_code(payload.street, level=AreaLevel.STREET, field="street")
    reward = services.reward_create(
        street=street,
        name=payload.name,
        cost=payload.cost,
        actor=request.user,
        description=payload.description,
        per_rider_limit=payload.per_rider_limit,
        available_from=aware(payload.available_from),
        available_until=aware(payload.available_until),
        pickup_hours=payload.pickup_hours,
    )
    return Status(201, _one(_catalogue(), reward.pk))


# --- priority windows ------------------------------------------------------------------------


@router.get(
    "/rewards/windows",
    response={200: list[WindowOut], **ERRORS},
    auth=None,
    summary="Priority windows open now or coming (the shop first for the top N)",
)
@paginate(YizhanPagination)
def window_list(request, street: str | None = None):
    qs = PriorityWindow.objects.filter(closes_at__gt=timezone.now()).select_related(
        "street", "reward", "ranking_area"
    )
    if street:
        qs = qs.filter(street=area_by_code(street, level=AreaLevel.STREET, field="street"))
    return qs.order_by("opens_at", "pk")


@router.post(
    "/rewards/windows",
    response={201: WindowOut, **ERRORS},
    summary="Open (some of) the shop first to the top N of a season's ranking",
)
def window_create(request, payload: WindowIn):
    require_role(request.user, *CONSOLE)
    street = area_by_code(payload.street, level=AreaLevel.STREET, field="street")
    ranking_area = (
        area_by_code(payload.ranking_area, field="ranking_area") if payload.ranking_area else None
    )
    reward = _reward(request, payload.reward_id) if payload.reward_id is not None else None
    window = services.window_create(
        street=street,
        name=payload.name,
        top_n=payload.top_n,
        season_kind=payload.season_kind,
        opens_at=aware(payload.opens_at),
        closes_at=aware(payload.closes_at),
        actor=request.user,
        reward=reward,
        ranking_area=ranking_area,
        season=payload.season,
    )
    return Status(201, window)


# --- redemptions -----------------------------------------------------------------------------


@router.get(
    "/rewards/redemptions",
    response={200: list[RedemptionOut], **ERRORS},
    summary="Reservations: my own (rider) or those for pickup in my area (staff)",
)
@paginate(YizhanPagination)
def redemption_list(request, status: str | None = None, station_id: int | None = None):
    qs = restrict(_redemptions(), request.user)
    if status:
        qs = qs.filter(status=status)
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    return qs.order_by("-created_at", "-id")


@router.post(
    "/rewards/redemptions/{redemption_id}/cancel",
    response={200: RedemptionOut, **ERRORS},
    summary="Cancel a reservation: the points and the item go back",
)
def redemption_cancel(request, redemption_id: int):
    redemption = get_for_user(_redemptions(), request.user, pk=redemption_id)
    services.redemption_cancel(redemption=redemption, actor=request.user)
    return _one(_redemptions(), redemption.pk)


@router.post(
    "/rewards/pickup",
    response={200: RedemptionOut, **ERRORS},
    summary="Hand a reward over at the station against the rider's code or QR",
)
def pickup(request, payload: PickupIn):
    require_role(request.user, *CONSOLE)
    station = _station(request, payload.station_id)
    redemption = services.redemption_fulfil(station=station, code=payload.code, actor=request.user)
    return _one(_redemptions(), redemption.pk)


# --- one reward ------------------------------------------------------------------------------
# After the fixed paths above: Django tries the URL patterns in order, and "/rewards/{reward_id}"
# would otherwise take "/rewards/windows" and "/rewards/pickup".


@router.patch(
    "/rewards/{reward_id}", response={200: RewardOut, **ERRORS}, summary="Change a reward"
)
def reward_update(request, reward_id: int, payload: RewardPatch):
    require_role(request.user, *CONSOLE)
    reward = _reward(request, reward_id, Action.OPERATE)
    changes = payload.dict(exclude_unset=True)
    for name in ("available_from", "available_until"):
        if name in changes:
            changes[name] = aware(changes[name])
    services.reward_update(reward=reward, actor=request.user, **changes)
    return _one(_catalogue(), reward.pk)


@router.post(
    "/rewards/{reward_id}/stock",
    response={200: StockRowOut, **ERRORS},
    summary="Restock a reward at a station (or, below zero, take items away)",
)
def stock_update(request, reward_id: int, payload: StockIn):
    require_role(request.user, *CONSOLE)
    reward = _reward(request, reward_id)
    station = _station(request, payload.station_id)
    stock = services.stock_change(
        reward=reward,
        station=station,
        change=payload.change,
        reason=payload.reason,
        actor=request.user,
    )
    return stock


@router.post(
    "/rewards/{reward_id}/reserve",
    response={201: RedemptionOut, **LIMITED},
    summary="Reserve a reward for pickup at a station (send an Idempotency-Key header)",
)
def reserve(
    request,
    reward_id: int,
    payload: ReserveIn,
    key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
):
    key = idempotency_key(key)
    ratelimit.hit_request("redemption", request, replay=("rewards.reserve", key))
    reward = _reward(request, reward_id)
    station = _station(request, payload.station_id)
    redemption = services.redemption_reserve(
        user=request.user, reward=reward, station=station, idempotency_key=key
    )
    return Status(201, _one(_redemptions(), redemption.pk))
