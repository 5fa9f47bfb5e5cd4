"""Events API (活动): the events near me, sign-up / waiting list / cancel, QR check-in, staff
check-in by code or phone, sign-ups and attendance; welfare hand-outs (福利发放) with items,
receipts and totals."""

from datetime import datetime
from typing import Literal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from yizhan.areas.selectors import area_by_code
from yizhan.core import crypto
from yizhan.core.errors import ApplicationError, NotFound
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import (
    Action,
    get_for_user,
    is_console_user,
    require_role,
)
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.schemas import ERRORS
from yizhan.events import selectors, services
from yizhan.events.choices import Audience, EventKind
from yizhan.events.models import Distribution, Event, Receipt, Signup
from yizhan.people.api import AreaRef
from yizhan.people.models import User
from yizhan.people.validation import normalise_phone_or_none
from yizhan.points.api import aware
from yizhan.stations.models import Station

router = Router(tags=["events"])
CONSOLE = tuple(CONSOLE_ROLES)

KindIn = Literal[tuple(EventKind.values)]  # type: ignore[valid-type]
AudienceIn = Literal[tuple(Audience.values)]  # type: ignore[valid-type]


# --- schemas ---------------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    title: str
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    description: str
    organiser: AreaRef
    station_id: int | None
    venue: str
    address: str
    lat: float
    lng: float
    starts_at: datetime
    ends_at: datetime
    capacity: int
    audience: str
    signed_up: int = Field(0, description="Places taken")
    waiting: int = Field(0, description="On the waiting list")
    attended: int = Field(0, description="Checked in")
    cancelled_at: datetime | None = Field(None, description="When it was called off, if it was")
    cancel_reason: str = Field("", description="Why it was called off")

    @staticmethod
    def resolve_signed_up(obj: Event) -> int:
        return getattr(obj, "n_confirmed", 0)

    @staticmethod
    def resolve_waiting(obj: Event) -> int:
        return getattr(obj, "n_waiting", 0)

    @staticmethod
    def resolve_attended(obj: Event) -> int:
        return getattr(obj, "n_attended", 0)


class EventIn(Schema):
    organiser: str = Field(..., description="The street or community code")
    title: str = Field(..., max_length=100)
    kind: KindIn
    description: str = Field("", max_length=1000)
    audience: AudienceIn = "riders"
    station_id: int | None = Field(None, description="A station as the venue …")
    address: str = Field("", max_length=200, description="… or an address with a location")
    lat: float | None = None
    lng: float | None = None
    starts_at: datetime
    ends_at: datetime
    capacity: int


class CallOffIn(Schema):
    reason: str = Field(..., max_length=300, description="Told to everyone signed up")


class EventPatch(Schema):
    title: str = Field(None, max_length=100)
    kind: KindIn = None
    description: str = Field(None, max_length=1000)
    audience: AudienceIn = None
    station_id: int | None = None
    address: str = Field(None, max_length=200)
    lat: float = None
    lng: float = None
    starts_at: datetime = None
    ends_at: datetime = None
    capacity: int = None


class EventRef(Schema):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime


class SignupOut(Schema):
    id: int
    event: EventRef
    rider: str = ""
    status: str
    status_label: str = Field(..., alias="get_status_display")
    queued_at: datetime
    checked_in_at: datetime | None
    check_in_method: str
    points_status: str
    code: str | None = Field(None, description="The rider's attendance code (the rider only)")
    qr_payload: str | None = Field(None, description="The text of the rider's QR (rider only)")
    already: bool = Field(False, description="Check-in: the rider had already checked in")

    @staticmethod
    def resolve_rider(obj: Signup) -> str:
        return obj.user.name or obj.user.username

    @staticmethod
    def resolve_code(obj: Signup, context) -> str | None:
        return obj.code if obj.user_id == context["request"].user.pk else None

    @staticmethod
    def resolve_qr_payload(obj: Signup, context) -> str | None:
        return obj.qr_payload if obj.user_id == context["request"].user.pk else None

    @staticmethod
    def resolve_already(obj: Signup) -> bool:
        return bool(getattr(obj, "already", False))


class EventCheckInIn(Schema):
    token: str = Field(..., max_length=100, description="The code from the event's QR link")


class AttendanceIn(Schema):
    code: str = Field(..., max_length=40, description="6 digits, the QR text, or a phone")


class EventQrOut(Schema):
    token: str
    url: str
    valid_until: datetime


class ItemIn(Schema):
    name: str = Field(..., max_length=50)
    stock: int


class ItemOut(Schema):
    id: int
    name: str
    stock: int
    handed_out: int


class DistributionOut(Schema):
    id: int
    name: str
    description: str
    area: AreaRef
    created_at: datetime
    people_served: int = 0

    @staticmethod
    def resolve_people_served(obj: Distribution) -> int:
        return getattr(obj, "n_people", 0)


class DistributionIn(Schema):
    area: str = Field(..., description="The code of the area running it")
    name: str = Field(..., max_length=100)
    description: str = Field("", max_length=500)
    items: list[ItemIn]


class TotalsOut(Schema):
    items_handed_out: int
    items_left: int
    people_served: int


class DistributionDetailOut(DistributionOut):
    items: list[ItemOut]
    totals: TotalsOut


class RestockIn(Schema):
    name: str = Field(..., max_length=50)
    change: int = Field(..., description="Items to add; below zero, to take away")


class LineOut(Schema):
    item_id: int
    item: str = Field(..., alias="item.name")
    quantity: int


class ReceiptIn(Schema):
    phone: str | None = Field(None, max_length=20, description="The rider's phone …")
    rider_id: int | None = Field(None, description="… or their account id")
    items: dict[int, int] = Field(..., description="Item id → how many")


class ReceiptOut(Schema):
    id: int
    rider_id: int = Field(..., alias="user_id")
    rider: str
    created_at: datetime
    lines: list[LineOut]

    @staticmethod
    def resolve_rider(obj: Receipt) -> str:
        return obj.user.name or obj.user.username


# --- helpers ---------------------------------------------------------------------------------


def _event(request, event_id: int, action: Action = Action.VIEW) -> Event:
    return get_for_user(
        selectors.with_counts(Event.objects.all()), request.user, action, pk=event_id
    )


def _station(request, station_id: int | None) -> Station | None:
    if station_id is None:
        return None
    return get_for_user(Station, request.user, pk=station_id)


def _signup(pk: int) -> Signup:
    return Signup.objects.select_related("event", "user").get(pk=pk)


def _distribution(request, distribution_id: int) -> Distribution:
    return get_for_user(
        Distribution.objects.select_related("area"),
        request.user,
        Action.OPERATE,
        pk=distribution_id,
    )


def _detail(distribution: Distribution) -> dict:
    totals = selectors.totals(distribution)
    return {
        "id": distribution.pk,
        "name": distribution.name,
        "description": distribution.description,
        "area": distribution.area,
        "created_at": distribution.created_at,
        "people_served": totals["people_served"],
        "items": list(selectors.items_of(distribution)),
        "totals": totals,
    }


# --- events ----------------------------------------------------------------------------------


@router.get(
    "/events",
    response={200: list[EventOut], **ERRORS},
    summary="Events: upcoming near me (rider, soonest first) or those I run (staff)",
)
@paginate(YizhanPagination)
def event_list(request):
    if is_console_user(request.user):
        return selectors.events_to_run(request.user)
    require_role(request.user, Role.RIDER)
    return selectors.upcoming_for_rider(request.user)


@router.post("/events", response={201: EventOut, **ERRORS}, summary="Announce an event")
def event_create(request, payload: EventIn):
    require_role(request.user, *CONSOLE)
    organiser = area_by_code(payload.organiser, field="organiser")
    event = services.event_create(
        organiser=organiser,
        title=payload.title,
        kind=payload.kind,
        description=payload.description,
        audience=payload.audience,
        station=_station(request, payload.station_id),
        address=payload.address,
        lat=payload.lat,
        lng=payload.lng,
        starts_at=aware(payload.starts_at),
        ends_at=aware(payload.ends_at),
        capacity=payload.capacity,
        actor=request.user,
    )
    return Status(201, _event(request, event.pk))


@router.get(
    "/events/mine",
    response={200: list[SignupOut], **ERRORS},
    summary="My sign-ups and attendance, latest event first",
)
@paginate(YizhanPagination)
def my_signups(request):
    require_role(request.user, Role.RIDER)
    return selectors.my_signups(request.user).select_related("user")


@router.get("/events/{event_id}", response={200: EventOut, **ERRORS}, summary="One event")
def event_detail(request, event_id: int):
    require_role(request.user, Role.RIDER, *CONSOLE)
    return _event(request, event_id)


@router.patch(
    "/events/{event_id}",
    response={200: EventOut, **ERRORS},
    summary="Change an event (the capacity not below those signed up)",
)
def event_update(request, event_id: int, payload: EventPatch):
    require_role(request.user, *CONSOLE)
    event = _event(request, event_id, Action.OPERATE)
    changes = payload.dict(exclude_unset=True)
    if "station_id" in changes:
        changes["station"] = _station(request, changes.pop("station_id"))
    for name in ("starts_at", "ends_at"):
        if name in changes:
            if changes[name] is None:
                raise ApplicationError(_required(), field=name)
            changes[name] = aware(changes[name])
    for name, value in list(changes.items()):
        if value is None and name not in ("station",):
            raise ApplicationError(_required(), field=name)
    services.event_update(event=event, actor=request.user, **changes)
    return _event(request, event.pk)


@router.post(
    "/events/{event_id}/call-off",
    response={200: EventOut, **ERRORS},
    summary="Call an event off before it starts (everyone signed up is told why)",
)
def event_call_off(request, event_id: int, payload: CallOffIn):
    require_role(request.user, *CONSOLE)
    event = _event(request, event_id, Action.OPERATE)
    services.event_cancel(event=event, reason=payload.reason, actor=request.user)
    return _event(request, event.pk)


def _required() -> str:
    return _("This field cannot be empty.")


@router.post(
    "/events/{event_id}/signup",
    response={201: SignupOut, **ERRORS},
    summary="Sign up (a place, or the waiting list when full)",
)
def signup(request, event_id: int):
    require_role(request.user, Role.RIDER)
    event = _event(request, event_id)
    done = services.signup_create(event=event, user=request.user)
    return Status(201, _signup(done.pk))


@router.post(
    "/events/{event_id}/cancel",
    response={200: SignupOut, **ERRORS},
    summary="Cancel my sign-up before the start (the first waiting rider moves up)",
)
def cancel(request, event_id: int):
    require_role(request.user, Role.RIDER)
    event = _event(request, event_id)
    mine = Signup.objects.filter(event=event, user=request.user).first()
    if mine is None:
        raise NotFound(_not_signed_up(), code="not_signed_up")
    services.signup_cancel(signup=mine, actor=request.user)
    return _signup(mine.pk)


def _not_signed_up() -> str:
    return _("You have not signed up for this event.")


@router.post(
    "/events/{event_id}/checkin",
    response={200: SignupOut, **ERRORS},
    summary="Check in with the code of the event's QR (the same answer when repeated)",
)
def check_in(request, event_id: int, payload: EventCheckInIn):
    require_role(request.user, Role.RIDER)
    event = _event(request, event_id)
    done = services.check_in_by_qr(event=event, token=payload.token, user=request.user)
    out = _signup(done.pk)
    out.already = done.already
    return out


@router.get(
    "/events/{event_id}/qr",
    response={200: EventQrOut, **ERRORS},
    summary="The event's check-in code now (it changes every few minutes)",
)
def qr(request, event_id: int):
    require_role(request.user, *CONSOLE)
    event = _event(request, event_id, Action.OPERATE)
    window = services.qr_window()
    token = services.qr_token(event, window)
    url = request.build_absolute_uri(reverse("events:check_in", args=[event.pk, token]))
    until = datetime.fromtimestamp(
        (window + 1) * services.QR_SECONDS, tz=timezone.get_current_timezone()
    )
    return {"token": token, "url": url, "valid_until": until}


@router.post(
    "/events/{event_id}/attendance",
    response={200: SignupOut, **ERRORS},
    summary="Staff confirm a rider's attendance by code, QR text or phone",
)
def attendance(request, event_id: int, payload: AttendanceIn):
    require_role(request.user, *CONSOLE)
    event = _event(request, event_id, Action.OPERATE)
    done = services.check_in_by_staff(event=event, code=payload.code, actor=request.user)
    out = _signup(done.pk)
    out.already = done.already
    return out


@router.get(
    "/events/{event_id}/signups",
    response={200: list[SignupOut], **ERRORS},
    summary="Sign-ups, waiting list and attendance of an event (staff)",
)
@paginate(YizhanPagination)
def signups(request, event_id: int, status: str | None = None):
    require_role(request.user, *CONSOLE)
    event = _event(request, event_id, Action.OPERATE)
    return selectors.signups_of(event, request.user, status=status).select_related("event")


# --- hand-outs -------------------------------------------------------------------------------


@router.get(
    "/handouts",
    response={200: list[DistributionOut], **ERRORS},
    summary="Welfare hand-outs of my area, with people served",
)
@paginate(YizhanPagination)
def handout_list(request):
    require_role(request.user, *CONSOLE)
    return selectors.distributions_for(request.user)


@router.post(
    "/handouts",
    response={201: DistributionDetailOut, **ERRORS},
    summary="Start a hand-out with its items and stock",
)
def handout_create(request, payload: DistributionIn):
    require_role(request.user, *CONSOLE)
    area = area_by_code(payload.area, field="area")
    distribution = services.distribution_create(
        area=area,
        name=payload.name,
        description=payload.description,
        items=[(i.name, i.stock) for i in payload.items],
        actor=request.user,
    )
    return Status(201, _detail(distribution))


@router.get(
    "/handouts/{distribution_id}",
    response={200: DistributionDetailOut, **ERRORS},
    summary="A hand-out: items, stock and totals",
)
def handout_detail(request, distribution_id: int):
    require_role(request.user, *CONSOLE)
    return _detail(_distribution(request, distribution_id))


@router.post(
    "/handouts/{distribution_id}/items",
    response={200: ItemOut, **ERRORS},
    summary="Add an item or change its stock (never below zero)",
)
def handout_restock(request, distribution_id: int, payload: RestockIn):
    require_role(request.user, *CONSOLE)
    distribution = _distribution(request, distribution_id)
    return services.item_restock(
        distribution=distribution, name=payload.name, change=payload.change, actor=request.user
    )


def _rider(request, phone: str | None, rider_id: int | None) -> User:
    if phone:
        normal = normalise_phone_or_none(phone)
        if normal is None:
            raise ApplicationError(
                _("Please enter an 11-digit mainland mobile number, such as 13812341234."),
                code="invalid_phone",
                field="phone",
            )
        user = User.objects.filter(
            phone_index__in=crypto.blind_indexes(normal), role=Role.RIDER, is_active=True
        ).first()
        if user is None:
            raise NotFound(_("No rider has this phone number."), field="phone")
        return user
    if rider_id is not None:
        return get_for_user(selectors.riders_to_serve(request.user), request.user, pk=rider_id)
    raise ApplicationError(_("Please give the rider's phone."), field="phone")


@router.get(
    "/handouts/{distribution_id}/receipts",
    response={200: list[ReceiptOut], **ERRORS},
    summary="Who received what",
)
@paginate(YizhanPagination)
def receipt_list(request, distribution_id: int):
    require_role(request.user, *CONSOLE)
    return selectors.receipts_of(_distribution(request, distribution_id), request.user)


@router.post(
    "/handouts/{distribution_id}/receipts",
    response={201: ReceiptOut, **ERRORS},
    summary="Record what a rider received (once per rider; stock never below zero)",
)
def receipt_create(request, distribution_id: int, payload: ReceiptIn):
    require_role(request.user, *CONSOLE)
    distribution = _distribution(request, distribution_id)
    rider = _rider(request, payload.phone, payload.rider_id)
    receipt = services.receipt_record(
        distribution=distribution, rider=rider, items=payload.items, actor=request.user
    )
    return Status(
        201,
        Receipt.objects.select_related("user").prefetch_related("lines__item").get(pk=receipt.pk),
    )
