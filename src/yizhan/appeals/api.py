"""Appeals API (诉求直通车) and joint meetings (联席会议).

Riders raise appeals (send an ``Idempotency-Key`` header: a retry gives the same appeal) and rate
answers; staff route them to a responsible body with a deadline, answer, record the four
deliveries and close; a body's handlers see and answer the appeals routed to their body. Staff
run joint meetings: participants, agenda, minutes, decisions and their follow-up.

An anonymous appeal shows the rider's name only to the rider and to the body handling it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema, Status
from ninja.pagination import paginate

from yizhan.appeals import selectors, services
from yizhan.appeals.models import Appeal, Decision, Meeting
from yizhan.areas.selectors import area_by_code
from yizhan.core.errors import ApplicationError
from yizhan.core.idempotency import check_key
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import Action, require_role
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.schemas import ERRORS
from yizhan.people.api import AreaRef
from yizhan.people.models import Department, User

router = Router(tags=["appeals"])
CONSOLE = tuple(CONSOLE_ROLES)
IDEMPOTENCY_HEADER = "Idempotency-Key"


# --- schemas ---------------------------------------------------------------------------------


class BodyRef(Schema):
    id: int
    name: str


class AppealIn(Schema):
    difficulty: str = Field(
        ..., description="meal_rest, skills, understanding or rights (the four difficulties)"
    )
    topic: str = Field(
        ...,
        description="labour_dispute, traffic_accident, social_insurance, injury, housing, pay, "
        "other",
    )
    text: str = Field(..., description="What it is about (at most 1000 characters)")
    anonymous: bool = Field(False, description="Only the body handling it sees my name")


class AppealOut(Schema):
    id: int
    difficulty: str
    difficulty_label: str = Field(..., alias="get_difficulty_display")
    topic: str
    topic_label: str = Field(..., alias="get_topic_display")
    text: str
    anonymous: bool
    rider: str = Field(..., description="The rider's name, or 'Anonymous'")
    status: str
    status_label: str = Field(..., alias="get_status_display")
    body: BodyRef | None = Field(..., description="The responsible body it is routed to")
    deadline_at: datetime | None
    is_overdue: bool
    answer: str
    answered_at: datetime | None
    rating: int | None
    rating_comment: str
    created_at: datetime

    @staticmethod
    def resolve_rider(obj: Appeal, context) -> str:
        return obj.rider_label(context["request"].user)


class AppealEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor: str | None = None
    note: str
    created_at: datetime

    @staticmethod
    def resolve_actor(obj, context) -> str | None:
        actor = obj.actor
        if actor is None:
            return None
        if actor.role == Role.RIDER:
            return None  # the rider: their name is on the appeal (or hidden there)
        return actor.name or actor.username


class DeliveryOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    note: str
    created_at: datetime


class AppealDetailOut(AppealOut):
    events: list[AppealEventOut]
    deliveries: list[DeliveryOut]


class RouteIn(Schema):
    body_id: int = Field(..., description="A body of the appeal's area or above it")
    days: int = Field(
        7, description="Deadline: working days from now (1-90; weekends and holidays do not count)"
    )
    note: str = ""


class AnswerIn(Schema):
    text: str


class RateIn(Schema):
    stars: int = Field(..., description="1-5; 2 or less reopens the appeal for staff")
    comment: str = ""


class CloseIn(Schema):
    note: str


class DeliveryIn(Schema):
    kind: str = Field(..., description="warmth, skills, care or rights (the four deliveries)")
    note: str


class MeetingIn(Schema):
    title: str
    held_on: date
    place: str
    area: str = Field(..., description="The organising area's code (yours or beneath it)")
    body_ids: list[int] = Field([], description="Bodies taking part")
    rider_ids: list[int] = Field([], description="Rider representatives (accounts)")


class ParticipantsIn(Schema):
    body_ids: list[int] = Field([], description="Bodies taking part")
    rider_ids: list[int] = Field([], description="Rider representatives (accounts)")


class AgendaIn(Schema):
    appeal_id: int | None = Field(None, description="An unresolved appeal of the meeting's area")
    text: str = ""


class AgendaOut(Schema):
    id: int
    position: int
    appeal_id: int | None
    appeal: str | None = Field(None, description="The appeal's difficulty and text")
    text: str

    @staticmethod
    def resolve_appeal(obj) -> str | None:
        if obj.appeal_id is None:
            return None
        return f"#{obj.appeal_id} {obj.appeal.get_difficulty_display()}: {obj.appeal.text[:100]}"


class MinutesIn(Schema):
    minutes: str


class DecisionIn(Schema):
    text: str
    due_on: date | None = None
    owner_body_id: int | None = None
    owner_name: str = ""
    agenda_item_id: int | None = None


class DecisionOut(Schema):
    id: int
    meeting_id: int
    text: str
    owner: str
    owner_body: BodyRef | None
    due_on: date
    status: str
    status_label: str = Field(..., alias="get_status_display")
    is_overdue: bool
    follow_up: str
    followed_up_at: datetime | None
    done_at: datetime | None


class FollowUpIn(Schema):
    note: str
    done: bool = False


class MeetingOut(Schema):
    id: int
    title: str
    held_on: date
    place: str
    area: AreaRef


class PersonRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.name or obj.username


class MeetingDetailOut(MeetingOut):
    minutes: str
    bodies: list[BodyRef]
    riders: list[PersonRef]
    agenda: list[AgendaOut]
    decisions: list[DecisionOut]


# --- helpers ---------------------------------------------------------------------------------


def _appeal(request, appeal_id: int, action: Action = Action.VIEW) -> Appeal:
    return selectors.appeal_for_user(request.user, appeal_id, action)


class _DetailView:
    """An appeal with its events and deliveries as the detail schema reads them."""

    def __init__(self, appeal: Appeal) -> None:
        self._appeal = appeal
        self.events = list(selectors.timeline(appeal))
        self.deliveries = list(selectors.deliveries_of(appeal))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._appeal, name)


def _fresh(request, appeal_id: int) -> _DetailView:
    return _DetailView(_appeal(request, appeal_id))


def _body(appeal: Appeal, body_id: int) -> Department:
    found = services.bodies_for(appeal.area_code).filter(pk=body_id).first()
    if found is None:
        raise ApplicationError(
            _("That body does not work in this appeal's area."),
            code="body_out_of_scope",
            field="body_id",
        )
    return found


def _meeting(request, meeting_id: int, action: Action = Action.VIEW) -> Meeting:
    return selectors.meeting_for_user(request.user, meeting_id, action)


def _meeting_out(request, meeting_id: int) -> Meeting:
    meeting = _meeting(request, meeting_id)
    meeting.agenda_list = list(selectors.agenda_of(meeting))
    meeting.decision_list = list(selectors.decisions_of(meeting))
    return _MeetingView(meeting)


class _MeetingView:
    def __init__(self, meeting: Meeting) -> None:
        self._meeting = meeting
        self.bodies = list(meeting.bodies.all())
        self.riders = list(meeting.riders.all())
        self.agenda = meeting.agenda_list
        self.decisions = meeting.decision_list

    def __getattr__(self, name: str) -> Any:
        return getattr(self._meeting, name)


# --- appeals ---------------------------------------------------------------------------------


@router.post(
    "/appeals",
    response={201: AppealDetailOut, **ERRORS},
    summary="Raise an appeal (riders; send an Idempotency-Key header)",
)
def appeal_raise(
    request, payload: AppealIn, key: str | None = Header(None, alias=IDEMPOTENCY_HEADER)
):
    require_role(request.user, Role.RIDER)
    appeal = services.appeal_raise(
        rider=request.user,
        difficulty=payload.difficulty,
        topic=payload.topic,
        text=payload.text,
        anonymous=payload.anonymous,
        idempotency_key=check_key(key),
    )
    return Status(201, _fresh(request, appeal.pk))


@router.get(
    "/appeals",
    response={200: list[AppealOut], **ERRORS},
    summary="Appeals I may see: my own (riders), my area's (staff), my body's (handlers)",
)
@paginate(YizhanPagination)
def appeal_list(
    request,
    status: str | None = None,
    difficulty: str | None = None,
    topic: str | None = None,
    overdue: bool = False,
):
    """Latest first; ``overdue`` keeps the routed ones past their deadline."""
    return selectors.filter_appeals(
        selectors.appeals_for_user(request.user),
        status=status,
        difficulty=difficulty,
        topic=topic,
        overdue_only=overdue,
    )


@router.get(
    "/appeals/{appeal_id}",
    response={200: AppealDetailOut, **ERRORS},
    summary="An appeal with its timeline and the deliveries given",
)
def appeal_detail(request, appeal_id: int):
    return _fresh(request, appeal_id)


@router.get(
    "/appeals/{appeal_id}/bodies",
    response={200: list[BodyRef], **ERRORS},
    summary="The bodies an appeal may be routed to: of its area or above (staff)",
)
@paginate(YizhanPagination)
def appeal_bodies(request, appeal_id: int):
    require_role(request.user, *CONSOLE)
    return services.bodies_for(_appeal(request, appeal_id, Action.OPERATE).area_code)


@router.post(
    "/appeals/{appeal_id}/route",
    response={200: AppealDetailOut, **ERRORS},
    summary="Route an appeal to the responsible body with a deadline in working days (staff)",
)
def appeal_route(request, appeal_id: int, payload: RouteIn):
    appeal = _appeal(request, appeal_id, Action.OPERATE)
    require_role(request.user, *CONSOLE)
    services.appeal_route(
        appeal=appeal,
        actor=request.user,
        body=_body(appeal, payload.body_id),
        days=payload.days,
        note=payload.note,
    )
    return _fresh(request, appeal_id)


@router.post(
    "/appeals/{appeal_id}/answer",
    response={200: AppealDetailOut, **ERRORS},
    summary="Answer an appeal (the body it is routed to, or staff)",
)
def appeal_answer(request, appeal_id: int, payload: AnswerIn):
    appeal = _appeal(request, appeal_id)
    services.appeal_answer(appeal=appeal, actor=request.user, text=payload.text)
    return _fresh(request, appeal_id)


@router.post(
    "/appeals/{appeal_id}/rate",
    response={200: AppealDetailOut, **ERRORS},
    summary="Rate the answer 1-5 (the rider; 2 or less reopens it for staff)",
)
def appeal_rate(request, appeal_id: int, payload: RateIn):
    appeal = _appeal(request, appeal_id)
    services.appeal_rate(
        appeal=appeal, actor=request.user, stars=payload.stars, comment=payload.comment
    )
    return _fresh(request, appeal_id)


@router.post(
    "/appeals/{appeal_id}/close",
    response={200: AppealDetailOut, **ERRORS},
    summary="Close an appeal, telling the rider why (staff)",
)
def appeal_close(request, appeal_id: int, payload: CloseIn):
    appeal = _appeal(request, appeal_id)
    services.appeal_close(appeal=appeal, actor=request.user, note=payload.note)
    return _fresh(request, appeal_id)


@router.post(
    "/appeals/{appeal_id}/deliveries",
    response={201: DeliveryOut, **ERRORS},
    summary="Record a delivery given for an appeal (四送: warmth, skills, care, rights; staff)",
)
def delivery_record(request, appeal_id: int, payload: DeliveryIn):
    appeal = _appeal(request, appeal_id)
    delivery = services.delivery_record(
        appeal=appeal, actor=request.user, kind=payload.kind, note=payload.note
    )
    return Status(201, delivery)


# --- joint meetings --------------------------------------------------------------------------


@router.get(
    "/meetings",
    response={200: list[MeetingOut], **ERRORS},
    summary="Joint meetings of my area, the latest first (staff)",
)
@paginate(YizhanPagination)
def meeting_list(request):
    require_role(request.user, *CONSOLE)
    return selectors.meetings_for_user(request.user)


@router.post(
    "/meetings",
    response={201: MeetingDetailOut, **ERRORS},
    summary="Call a joint meeting: date, place, organiser area, bodies and rider representatives",
)
def meeting_create(request, payload: MeetingIn):
    require_role(request.user, *CONSOLE)
    area = area_by_code(payload.area, field="area")
    bodies, riders = _participants(payload)
    meeting = services.meeting_create(
        actor=request.user,
        area=area,
        title=payload.title,
        held_on=payload.held_on,
        place=payload.place,
        bodies=bodies,
        riders=riders,
    )
    return Status(201, _meeting_out(request, meeting.pk))


@router.get(
    "/meetings/decisions",
    response={200: list[DecisionOut], **ERRORS},
    summary="Meeting decisions to follow up, the earliest due first (staff)",
)
@paginate(YizhanPagination)
def decision_list(request, status: str | None = None, overdue: bool = False):
    require_role(request.user, *CONSOLE)
    return selectors.decisions_for_user(request.user, status=status, overdue_only=overdue)


@router.post(
    "/meetings/decisions/{decision_id}/follow-up",
    response={200: DecisionOut, **ERRORS},
    summary="Follow up a decision with a note; done marks it done (staff)",
)
def decision_follow_up(request, decision_id: int, payload: FollowUpIn):
    decision = selectors.decision_for_user(request.user, decision_id)
    services.decision_follow_up(
        decision=decision, actor=request.user, note=payload.note, done=payload.done
    )
    return selectors.decision_for_user(request.user, decision_id)


@router.get(
    "/meetings/{meeting_id}",
    response={200: MeetingDetailOut, **ERRORS},
    summary="A joint meeting: participants, agenda, minutes and decisions (staff)",
)
def meeting_detail(request, meeting_id: int):
    return _meeting_out(request, meeting_id)


@router.post(
    "/meetings/{meeting_id}/agenda",
    response={201: AgendaOut, **ERRORS},
    summary="Add an agenda item: an unresolved appeal of the meeting's area, or free text",
)
def agenda_add(request, meeting_id: int, payload: AgendaIn):
    meeting = _meeting(request, meeting_id, Action.OPERATE)
    appeal = None
    if payload.appeal_id is not None:
        appeal = Appeal.objects.filter(
            pk__in=selectors.appeals_for_user(request.user).values("pk"), pk=payload.appeal_id
        ).first()
        if appeal is None:
            raise ApplicationError(
                _("That appeal is not of this meeting's area."),
                code="appeal_out_of_scope",
                field="appeal_id",
            )
    item = services.agenda_add(
        meeting=meeting, actor=request.user, appeal=appeal, text=payload.text
    )
    return Status(201, selectors.agenda_of(meeting).get(pk=item.pk))


def _participants(payload: Any) -> tuple[list[Department], list[User]]:
    bodies = list(Department.objects.filter(pk__in=payload.body_ids))
    if len(bodies) != len(set(payload.body_ids)):
        raise ApplicationError(_("No body has one of those ids."), field="body_ids")
    riders = list(User.objects.filter(pk__in=payload.rider_ids))
    if len(riders) != len(set(payload.rider_ids)):
        raise ApplicationError(_("No rider has one of those ids."), field="rider_ids")
    return bodies, riders


@router.put(
    "/meetings/{meeting_id}/participants",
    response={200: MeetingDetailOut, **ERRORS},
    summary="Change who takes part: the bodies and the rider representatives (staff)",
)
def meeting_participants(request, meeting_id: int, payload: ParticipantsIn):
    meeting = _meeting(request, meeting_id, Action.OPERATE)
    bodies, riders = _participants(payload)
    services.meeting_participants(meeting=meeting, actor=request.user, bodies=bodies, riders=riders)
    return _meeting_out(request, meeting_id)


@router.put(
    "/meetings/{meeting_id}/minutes",
    response={200: MeetingDetailOut, **ERRORS},
    summary="Write the meeting's minutes (staff)",
)
def meeting_minutes(request, meeting_id: int, payload: MinutesIn):
    meeting = _meeting(request, meeting_id, Action.OPERATE)
    services.meeting_minutes(meeting=meeting, actor=request.user, minutes=payload.minutes)
    return _meeting_out(request, meeting_id)


@router.post(
    "/meetings/{meeting_id}/decisions",
    response={201: DecisionOut, **ERRORS},
    summary="Record a decision with an owner (a body or a person) and a due date (staff)",
)
def decision_add(request, meeting_id: int, payload: DecisionIn):
    meeting = _meeting(request, meeting_id, Action.OPERATE)
    owner_body = None
    if payload.owner_body_id is not None:
        owner_body = (
            services.meeting_bodies(meeting.area_code).filter(pk=payload.owner_body_id).first()
        )
        if owner_body is None:
            raise ApplicationError(
                _("That body does not work in this meeting's area."),
                code="body_out_of_scope",
                field="owner_body_id",
            )
    item = None
    if payload.agenda_item_id is not None:
        item = selectors.agenda_of(meeting).filter(pk=payload.agenda_item_id).first()
        if item is None:
            raise ApplicationError(
                _("That item is not on this meeting's agenda."), field="agenda_item_id"
            )
    decision = services.decision_add(
        meeting=meeting,
        actor=request.user,
        text=payload.text,
        due_on=payload.due_on,
        owner_body=owner_body,
        owner_name=payload.owner_name,
        agenda_item=item,
    )
    return Status(201, Decision.objects.select_related("owner_body").get(pk=decision.pk))
