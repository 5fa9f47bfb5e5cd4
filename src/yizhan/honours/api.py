"""Honours API: titles (a street's admins define them), the nomination screen (candidate riders
with their record), nominations, approval or rejection, and the public honour roll.
"""

from datetime import date, datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import area_by_code
from yizhan.core.masking import mask_name
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import Action, get_for_user, is_console_user, require_role
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.core.schemas import ERRORS
from yizhan.honours import selectors, services
from yizhan.honours.models import Nomination, Title
from yizhan.people.api import AreaRef
from yizhan.people.models import RiderProfile

router = Router(tags=["honours"])
CONSOLE = tuple(CONSOLE_ROLES)


# --- schemas ---------------------------------------------------------------------------------


class TitleOut(Schema):
    id: int
    street: AreaRef
    name: str
    description: str
    period: str
    starts_on: date
    ends_on: date
    quota: int
    taken: int = Field(0, description="Nominations pending or approved")
    approved: int = Field(0, description="Riders holding it")


class TitleIn(Schema):
    street: str = Field(..., description="The 9-digit street code")
    name: str = Field(..., max_length=60)
    description: str = Field("", max_length=500)
    quota: int = Field(..., description="How many riders may hold it for the period")
    year: int | None = Field(None, description="A calendar year; or give starts_on and ends_on")
    starts_on: date | None = None
    ends_on: date | None = None
    period: str = Field("", max_length=40, description="Label (default: the year or the range)")


class TitlePatch(Schema):
    quota: int = Field(None, description="Never below the riders already approved")
    description: str = Field(None, max_length=500)


class Record(Schema):
    points: int = Field(..., description="Points earned in the title's period")
    reports: int = Field(..., description="Hazard reports verified in the period")


class CandidateOut(Schema):
    rider_id: int
    name: str
    community: AreaRef
    record: Record
    nomination_id: int | None = None
    nomination_status: str | None = None


class TitleRef(Schema):
    id: int
    name: str
    period: str


class RiderRef(Schema):
    id: int
    name: str
    community: AreaRef


class NominationOut(Schema):
    id: int
    title: TitleRef
    rider: RiderRef
    status: str
    status_label: str = Field(..., alias="get_status_display")
    reason: str
    record: dict
    nominated_by: str | None = None
    created_at: datetime
    decided_at: datetime | None
    rejection_reason: str

    @staticmethod
    def resolve_rider(obj: Nomination) -> dict:
        return {"id": obj.rider_id, "name": _name(obj.rider), "community": obj.rider.community}

    @staticmethod
    def resolve_nominated_by(obj: Nomination) -> str | None:
        user = obj.nominated_by
        return (user.name or user.username) if user is not None else None


class NominationIn(Schema):
    title_id: int
    rider_id: int
    reason: str = Field(..., max_length=500)


class NominationRejectIn(Schema):
    reason: str = Field(..., max_length=300)


class RollOut(Schema):
    title_id: int
    title: str
    period: str
    street: AreaRef
    name: str = Field(..., description="The rider's name, masked (王**)")
    community: str

    @staticmethod
    def resolve_title(obj: Nomination) -> str:
        return obj.title.name

    @staticmethod
    def resolve_period(obj: Nomination) -> str:
        return obj.title.period

    @staticmethod
    def resolve_street(obj: Nomination) -> AreaRef:
        return obj.title.street

    @staticmethod
    def resolve_name(obj: Nomination) -> str:
        return mask_name(_name(obj.rider))

    @staticmethod
    def resolve_community(obj: Nomination) -> str:
        return obj.rider.community.name


def _name(rider: RiderProfile) -> str:
    return rider.user.name or rider.user.username


def _title(request, title_id: int, action: Action = Action.VIEW) -> Title:
    return get_for_user(selectors.titles(), request.user, action, pk=title_id)


def _street(code: str | None):
    return area_by_code(code, level=AreaLevel.STREET, field="street") if code else None


# --- titles ----------------------------------------------------------------------------------


@router.get(
    "/honours/titles",
    response={200: list[TitleOut], **ERRORS},
    auth=None,
    summary="Honour titles (public), with places taken and approved",
)
@paginate(YizhanPagination)
def title_list(request, street: str | None = None):
    found = _street(street)
    return selectors.titles(street_code=found.code if found else None)


@router.post(
    "/honours/titles",
    response={201: TitleOut, **ERRORS},
    summary="Define a title of a street for a period, with a quota (street admins)",
)
def title_create(request, payload: TitleIn):
    require_role(request.user, *CONSOLE)
    title = services.title_create(
        street=area_by_code(payload.street, level=AreaLevel.STREET, field="street"),
        name=payload.name,
        quota=payload.quota,
        actor=request.user,
        description=payload.description,
        year=payload.year,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        period=payload.period,
    )
    return Status(201, selectors.titles().get(pk=title.pk))


@router.get(
    "/honours/roll",
    response={200: list[RollOut], **ERRORS},
    auth=None,
    summary="The honour roll (public): approved honours, masked names, community and title",
)
@paginate(YizhanPagination)
def roll(request, street: str | None = None):
    found = _street(street)
    return selectors.honour_roll(street_code=found.code if found else None)


@router.patch(
    "/honours/titles/{title_id}",
    response={200: TitleOut, **ERRORS},
    summary="Change a title's quota or description (street admins)",
)
def title_update(request, title_id: int, payload: TitlePatch):
    require_role(request.user, *CONSOLE)
    title = _title(request, title_id, Action.CONFIGURE)
    services.title_update(title=title, actor=request.user, **payload.dict(exclude_unset=True))
    return selectors.titles().get(pk=title.pk)


@router.get(
    "/honours/titles/{title_id}/candidates",
    response={200: list[CandidateOut], **ERRORS},
    summary="The nomination screen: verified riders of my area with their record in the period",
)
@paginate(YizhanPagination)
def candidates(request, title_id: int, q: str | None = None):
    require_role(request.user, *CONSOLE)
    title = _title(request, title_id)
    return _Candidates(selectors.candidates(request.user, title, q=q or ""), title)


class _Candidates:
    """The candidates' queryset, sliced by the paginator; each page learns its nominations in
    one more query."""

    def __init__(self, qs, title: Title) -> None:
        self.qs, self.title = qs, title

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        riders = list(self.qs[item])
        nominated = selectors.nominated_on(self.title, riders)
        rows = []
        for rider in riders:
            nomination = nominated.get(rider.pk)
            rows.append(
                {
                    "rider_id": rider.pk,
                    "name": _name(rider),
                    "community": rider.community,
                    "record": selectors.record_dict(rider),
                    "nomination_id": nomination.pk if nomination else None,
                    "nomination_status": nomination.status if nomination else None,
                }
            )
        return rows


# --- nominations -----------------------------------------------------------------------------


@router.get(
    "/honours/nominations",
    response={200: list[NominationOut], **ERRORS},
    summary="Nominations: those of my area (staff), or my own honours (rider)",
)
@paginate(YizhanPagination)
def nomination_list(
    request, title_id: int | None = None, status: str | None = None, pending_mine: bool = False
):
    user = request.user
    if not is_console_user(user):
        return selectors.my_honours(user)
    if pending_mine:
        return selectors.pending_approvals(user)
    title = _title(request, title_id) if title_id is not None else None
    return selectors.nominations_for_user(user, title=title, status=status)


@router.post(
    "/honours/nominations",
    response={201: NominationOut, **ERRORS},
    summary="Nominate a verified rider of my area for a title, with a reason",
)
def nomination_create(request, payload: NominationIn):
    require_role(request.user, *CONSOLE)
    title = _title(request, payload.title_id)
    rider = get_for_user(RiderProfile, request.user, pk=payload.rider_id)
    nomination = services.nomination_create(
        title=title, rider=rider, reason=payload.reason, actor=request.user
    )
    return Status(201, selectors.nominations_for_user(request.user).get(pk=nomination.pk))


def _nomination(request, nomination_id: int) -> Nomination:
    require_role(request.user, *CONSOLE)
    return get_for_user(
        selectors.nominations_for_user(request.user), request.user, pk=nomination_id
    )


@router.post(
    "/honours/nominations/{nomination_id}/approve",
    response={200: NominationOut, **ERRORS},
    summary="Approve a nomination (street or district admins; never beyond the quota)",
)
def nomination_approve(request, nomination_id: int):
    nomination = _nomination(request, nomination_id)
    services.nomination_approve(nomination=nomination, actor=request.user)
    return selectors.nominations_for_user(request.user).get(pk=nomination.pk)


@router.post(
    "/honours/nominations/{nomination_id}/reject",
    response={200: NominationOut, **ERRORS},
    summary="Reject a nomination with a reason (street or district admins)",
)
def nomination_reject(request, nomination_id: int, payload: NominationRejectIn):
    nomination = _nomination(request, nomination_id)
    services.nomination_reject(nomination=nomination, actor=request.user, reason=payload.reason)
    return selectors.nominations_for_user(request.user).get(pk=nomination.pk)
