"""Every write of 诉求直通车 and 联席会议.

The appeal workflow::

    submitted ──route──► routed ──answer──► answered ──rate ≥ 3──► closed
                          ▲  │ (re-route)      │
                          │  └─────────────────┼──rate ≤ 2──► reopened ──answer (staff)──► answered
                          └────────route───────────────────────┘
    close (staff, with a note): from any state but closed

Each transition checks the actor through the permission layer and the appeal's ``can_*``
predicate under a row lock, changes the state, writes an :class:`AppealEvent` and an audit entry,
and tells the people concerned through the inbox (rows written in the transaction; channels after
the commit). Nothing here pays points: there is no earning activity for appeals.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.appeals.choices import (
    AppealStatus,
    DecisionStatus,
    DeliveryKind,
    Difficulty,
    Topic,
)
from yizhan.appeals.models import AgendaItem, Appeal, AppealEvent, Decision, Delivery, Meeting
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.core.idempotency import run_once
from yizhan.core.permissions import Action, can, is_authenticated, require, require_role
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.validation import clean_text as _text
from yizhan.core.validation import whole_number as _whole
from yizhan.core.workcalendar import add_working_days
from yizhan.notifications.services import notify
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import Department, RiderProfile, User
from yizhan.people.selectors import console_staff_ids

MAX_TEXT = 1000
MAX_ANSWER = 2000
MAX_NOTE = 500
MAX_MINUTES = 10000
MAX_DEADLINE_DAYS = 90
DEFAULT_DEADLINE_DAYS = 7
#: The least time between telling the community and telling the street of an overdue appeal.
ONE_DAY = timedelta(days=1)


# --- input checks ------------------------------------------------------------------------------


def _choice(value: Any, choices: Any, *, field: str, label: str) -> str:
    if value not in choices.values:
        raise ApplicationError(
            _("Please choose a valid %(what)s.") % {"what": label},
            code="invalid_choice",
            field=field,
        )
    return value


def _date(value: Any, *, field: str) -> date:
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise ApplicationError(_("Please give a date."), code="invalid_date", field=field)
    return value


# --- people concerned --------------------------------------------------------------------------


def appeal_url(appeal: Appeal, *, side: str) -> str:
    names = {"rider": "appeals:detail", "staff": "appeals:console_detail", "body": "appeals:case"}
    try:
        return reverse(names[side], args=[appeal.pk])
    except Exception:  # the pages may not be mounted (a bare API deployment)
        return ""


def _tell_rider(appeal: Appeal, title: Any, body: Any = "") -> None:
    notify(
        recipients=[appeal.rider_id],
        kind="appeal_status",
        title=title,
        body=body,
        url=appeal_url(appeal, side="rider"),
        target=appeal,
    )


def _tell_body(appeal: Appeal, body: Department) -> None:
    handlers = User.objects.filter(is_active=True, role=Role.HANDLER, department=body).values_list(
        "pk", flat=True
    )
    notify(
        recipients=list(handlers),
        kind="appeal_routed",
        title=lambda: (
            _("New appeal #%(id)s: %(difficulty)s")
            % {"id": appeal.pk, "difficulty": appeal.get_difficulty_display()}
        ),
        body=lambda: (
            _("Answer by %(deadline)s. %(text)s")
            % {
                "deadline": timezone.localtime(appeal.deadline_at).strftime("%Y-%m-%d"),
                "text": appeal.text[:200],
            }
        ),
        url=appeal_url(appeal, side="body"),
        target=appeal,
    )


def _event(
    appeal: Appeal,
    *,
    action: str,
    actor: Any,
    before: str = "",
    note: str = "",
    data: dict | None = None,
) -> AppealEvent:
    event = AppealEvent.objects.create(
        appeal=appeal,
        area_code=appeal.area_code,
        action=action,
        from_status=before,
        to_status=appeal.status if before or action == "raised" else "",
        actor=actor if is_authenticated(actor) else None,
        note=note,
        data=data or {},
    )
    log_action(
        actor=actor,
        action=f"appeal.{action}",
        target=appeal,
        data={"from": before, "to": appeal.status, "note": note[:100], **(data or {})},
    )
    return event


def _staff_only(actor: Any) -> None:
    if not (actor.is_superuser or actor.role in CONSOLE_ROLES):
        raise Forbidden(_("Only community staff do this."), code="staff_only")


def _lock(appeal: Appeal, actor: Any, action: Action = Action.OPERATE) -> Appeal:
    require(actor, action, appeal)
    return (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("rider", "body")
        .get(pk=appeal.pk)
    )


def _refuse(appeal: Appeal, what: str) -> Conflict:
    return Conflict(
        _("This appeal is %(status)s: it cannot be %(what)s now.")
        % {"status": appeal.get_status_display(), "what": what},
        code="invalid_transition",
    )


# --- raising -----------------------------------------------------------------------------------


def _rider_profile(user: Any) -> RiderProfile:
    if not is_authenticated(user) or user.role != Role.RIDER:
        raise Forbidden(_("Only riders raise appeals."), code="riders_only")
    profile = RiderProfile.objects.filter(user=user).first()
    if profile is None or profile.status != RegistrationStatus.VERIFIED:
        raise Forbidden(
            _("Your registration must be verified by your community first."),
            code="not_verified",
        )
    return profile


def appeal_raise(
    *,
    rider: Any,
    difficulty: Any,
    topic: Any,
    text: Any,
    anonymous: bool = False,
    idempotency_key: str,
) -> Appeal:
    """A rider raises a need or grievance (a repeat with the same key gives the same appeal)."""
    profile = _rider_profile(rider)
    difficulty = _choice(difficulty, Difficulty, field="difficulty", label=_("difficulty"))
    topic = _choice(topic, Topic, field="topic", label=_("topic"))
    text = _text(
        text,
        field="text",
        limit=MAX_TEXT,
        required=True,
        message=_("Please say what your appeal is about."),
    )
    anonymous = bool(anonymous)

    def work() -> Appeal:
        appeal = Appeal.objects.create(
            rider=rider,
            area_code=profile.area_code,
            difficulty=difficulty,
            topic=topic,
            text=text,
            anonymous=anonymous,
        )
        _event(appeal, action="raised", actor=rider)
        return appeal

    with transaction.atomic():
        return run_once(
            scope="appeals.raise",
            key=idempotency_key,
            payload={
                "rider": rider.pk,
                "difficulty": difficulty,
                "topic": topic,
                "text": text,
                "anonymous": anonymous,
            },
            model=Appeal,
            work=work,
        )


# --- routing and answering ---------------------------------------------------------------------


def bodies_for(area_code: str):
    """The bodies an appeal of ``area_code`` may be routed to: those of its area or above."""
    prefixes = [area_code[:n] for n in (6, 9, 12, 15) if len(area_code) >= n]
    return (
        Department.objects.filter(area__code__in=prefixes)
        .select_related("area")
        .order_by("area__code", "name")
    )


@transaction.atomic
def appeal_route(
    *,
    appeal: Appeal,
    actor: Any,
    body: Any,
    days: Any = DEFAULT_DEADLINE_DAYS,
    note: Any = "",
) -> Appeal:
    """Route to the responsible body with a deadline in working days (the working calendar:
    weekends and public holidays do not count, moved working days do), again after a low rating.
    A new routing starts the escalation afresh."""
    appeal = _lock(appeal, actor)
    _staff_only(actor)
    if not appeal.can_route():
        raise _refuse(appeal, _("routed"))
    if (
        not isinstance(body, Department)
        or not bodies_for(appeal.area_code).filter(pk=body.pk).exists()
    ):
        raise ApplicationError(
            _("That body does not work in this appeal's area."),
            code="body_out_of_scope",
            field="body",
        )
    days = _whole(days, field="days", low=1, high=MAX_DEADLINE_DAYS)
    note = _text(note, field="note", limit=MAX_NOTE)
    now = timezone.now()
    before = appeal.status
    appeal.status, appeal.body, appeal.routed_by = AppealStatus.ROUTED, body, actor
    appeal.routed_at, appeal.deadline_at = now, add_working_days(now, days)
    appeal.escalation = 0
    appeal.save(
        update_fields=[
            "status",
            "body",
            "routed_by",
            "routed_at",
            "deadline_at",
            "escalation",
            "updated_at",
        ]
    )
    _event(
        appeal,
        action="routed",
        actor=actor,
        before=before,
        note=note,
        data={"body": body.name, "deadline": appeal.deadline_at.isoformat(), "days": days},
    )
    _tell_body(appeal, body)
    _tell_rider(
        appeal,
        lambda: _("Your appeal #%(id)s is with %(body)s") % {"id": appeal.pk, "body": body.name},
        lambda: (
            _("They answer by %(deadline)s.")
            % {"deadline": timezone.localtime(appeal.deadline_at).strftime("%Y-%m-%d")}
        ),
    )
    return appeal


def _may_answer(actor: Any, appeal: Appeal) -> None:
    if actor.is_superuser or actor.role in CONSOLE_ROLES:
        return
    if (
        actor.role == Role.HANDLER
        and appeal.body_id is not None
        and actor.department_id == appeal.body_id
    ):
        if appeal.status == AppealStatus.REOPENED:
            raise Conflict(
                _("The rider was not satisfied: this appeal is back with the staff."),
                code="reopened",
            )
        return
    raise Forbidden(
        _("Only the body the appeal was routed to (or staff) answers it."), code="not_your_body"
    )


@transaction.atomic
def appeal_answer(*, appeal: Appeal, actor: Any, text: Any) -> Appeal:
    """The body's handler (or staff) answers; the rider is told and may rate the answer."""
    appeal = _lock(appeal, actor)
    _may_answer(actor, appeal)
    if not appeal.can_answer():
        raise _refuse(appeal, _("answered"))
    text = _text(
        text, field="text", limit=MAX_ANSWER, required=True, message=_("Please write the answer.")
    )
    before = appeal.status
    appeal.status, appeal.answer = AppealStatus.ANSWERED, text
    appeal.answered_by, appeal.answered_at = actor, timezone.now()
    appeal.rating, appeal.rating_comment, appeal.rated_at = None, "", None
    appeal.save(
        update_fields=[
            "status",
            "answer",
            "answered_by",
            "answered_at",
            "rating",
            "rating_comment",
            "rated_at",
            "updated_at",
        ]
    )
    _event(appeal, action="answered", actor=actor, before=before, note=text)
    _tell_rider(
        appeal,
        lambda: _("Your appeal #%(id)s has an answer") % {"id": appeal.pk},
        text[:200],
    )
    return appeal


@transaction.atomic
def appeal_rate(*, appeal: Appeal, actor: Any, stars: Any, comment: Any = "") -> Appeal:
    """The rider rates the answer 1–5: 3 or more closes the appeal, 2 or less reopens it."""
    if not is_authenticated(actor) or appeal.rider_id != actor.pk:
        raise Forbidden(_("Only the rider who raised the appeal rates its answer."))
    appeal = _lock(appeal, actor, Action.VIEW)
    if not appeal.can_rate():
        if appeal.rated_at is not None and appeal.status in (
            AppealStatus.CLOSED,
            AppealStatus.REOPENED,
        ):
            raise Conflict(_("You have already rated this answer."), code="already_rated")
        raise Conflict(_("There is no answer to rate yet."), code="not_answered")
    stars = _whole(stars, field="stars", low=1, high=5)
    comment = _text(comment, field="comment", limit=MAX_NOTE)
    now = timezone.now()
    before = appeal.status
    appeal.rating, appeal.rating_comment, appeal.rated_at = stars, comment, now
    if stars <= 2:
        appeal.status = AppealStatus.REOPENED
        appeal.reopen_count += 1
    else:
        appeal.status, appeal.closed_at = AppealStatus.CLOSED, now
    appeal.save(
        update_fields=[
            "rating",
            "rating_comment",
            "rated_at",
            "status",
            "reopen_count",
            "closed_at",
            "updated_at",
        ]
    )
    _event(appeal, action="rated", actor=actor, before=before, note=comment, data={"stars": stars})
    if appeal.status == AppealStatus.REOPENED:
        staff = User.objects.filter(
            is_active=True,
            role__in=CONSOLE_ROLES,
            area_code__in=[appeal.area_code, appeal.area_code[:12]],
        ).values_list("pk", flat=True)
        notify(
            recipients=list(staff),
            kind="appeal_reopened",
            title=lambda: (
                _("Appeal #%(id)s reopened: the answer was rated %(stars)s/5")
                % {"id": appeal.pk, "stars": stars}
            ),
            body=comment[:200],
            url=appeal_url(appeal, side="staff"),
            target=appeal,
        )
    else:
        _tell_rider(appeal, lambda: _("Your appeal #%(id)s is closed") % {"id": appeal.pk})
    return appeal


@transaction.atomic
def appeal_close(*, appeal: Appeal, actor: Any, note: Any) -> Appeal:
    """Staff close an appeal (settled otherwise, or no rating comes), saying why."""
    appeal = _lock(appeal, actor)
    _staff_only(actor)
    if not appeal.can_close():
        raise _refuse(appeal, _("closed"))
    note = _text(
        note,
        field="note",
        limit=MAX_NOTE,
        required=True,
        message=_("Please tell the rider why it is closed."),
    )
    before = appeal.status
    appeal.status, appeal.closed_at = AppealStatus.CLOSED, timezone.now()
    appeal.save(update_fields=["status", "closed_at", "updated_at"])
    _event(appeal, action="closed", actor=actor, before=before, note=note)
    _tell_rider(appeal, lambda: _("Your appeal #%(id)s is closed") % {"id": appeal.pk}, note)
    return appeal


@transaction.atomic
def delivery_record(*, appeal: Appeal, actor: Any, kind: Any, note: Any) -> Delivery:
    """Record one of the four deliveries (四送) given for an appeal."""
    appeal = _lock(appeal, actor)
    _staff_only(actor)
    if not appeal.can_deliver():
        raise _refuse(appeal, _("given a delivery"))
    kind = _choice(kind, DeliveryKind, field="kind", label=_("delivery"))
    note = _text(
        note, field="note", limit=MAX_NOTE, required=True, message=_("Please say what was given.")
    )
    delivery = Delivery.objects.create(
        appeal=appeal, area_code=appeal.area_code, kind=kind, note=note, recorded_by=actor
    )
    _event(appeal, action="delivered", actor=actor, note=note, data={"kind": kind})
    return delivery


# --- joint meetings ----------------------------------------------------------------------------


def meeting_bodies(area_code: str):
    """Bodies that may take part in a meeting of ``area_code``: those above it or within it."""
    prefixes = [area_code[:n] for n in (6, 9, 12, 15) if len(area_code) >= n]
    return (
        Department.objects.filter(Q(area__code__in=prefixes) | Q(area_code__startswith=area_code))
        .select_related("area")
        .order_by("area__code", "name")
    )


def meeting_riders(area_code: str):
    """Rider representatives: verified riders of the meeting's area."""
    return User.objects.filter(
        role=Role.RIDER,
        is_active=True,
        area_code__startswith=area_code,
        rider__status=RegistrationStatus.VERIFIED,
    ).order_by("name", "pk")


def _participants(area_code: str, bodies: Any, riders: Any) -> tuple[list, list]:
    """Bodies working in the area or above it, and verified riders of the area; else refused."""
    bodies, riders = list(bodies or []), list(riders or [])
    allowed_bodies = set(meeting_bodies(area_code).values_list("pk", flat=True))
    if any(not isinstance(b, Department) or b.pk not in allowed_bodies for b in bodies):
        raise ApplicationError(
            _("A body taking part must work in this area or above it."),
            code="body_out_of_scope",
            field="bodies",
        )
    allowed_riders = set(
        meeting_riders(area_code)
        .filter(pk__in=[getattr(r, "pk", None) for r in riders])
        .values_list("pk", flat=True)
    )
    if any(getattr(r, "pk", None) not in allowed_riders for r in riders):
        raise ApplicationError(
            _("Rider representatives must be verified riders of this area."),
            code="rider_out_of_scope",
            field="riders",
        )
    return bodies, riders


@transaction.atomic
def meeting_create(
    *,
    actor: Any,
    area: Any,
    title: Any,
    held_on: Any,
    place: Any,
    bodies: Any = (),
    riders: Any = (),
) -> Meeting:
    """A joint meeting organised by ``area`` (the actor's area or beneath it)."""
    require_role(actor, *CONSOLE_ROLES)
    if not isinstance(area, Area):
        raise ApplicationError(_("Please choose the organising area."), field="area")
    if not can(actor, Action.OPERATE, area):
        raise Forbidden(_("You may organise meetings only in your own area."), field="area")
    title = _text(title, field="title", limit=100, required=True)
    place = _text(place, field="place", limit=200, required=True)
    held_on = _date(held_on, field="held_on")
    bodies, riders = _participants(area.code, bodies, riders)
    meeting = Meeting.objects.create(
        title=title,
        held_on=held_on,
        place=place,
        area=area,
        area_code=area.code,
        created_by=actor,
    )
    meeting.bodies.set(bodies)
    meeting.riders.set(riders)
    log_action(
        actor=actor,
        action="meeting.created",
        target=meeting,
        data={
            "title": title,
            "held_on": held_on.isoformat(),
            "bodies": [b.pk for b in bodies],
            "riders": [r.pk for r in riders],
        },
    )
    return meeting


def _lock_meeting(meeting: Meeting, actor: Any) -> Meeting:
    require(actor, Action.OPERATE, meeting)
    _staff_only(actor)
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


@transaction.atomic
def meeting_participants(*, meeting: Meeting, actor: Any, bodies: Any, riders: Any) -> Meeting:
    """Change who takes part (bodies and rider representatives), e.g. a body added before the
    meeting or a representative replaced; the audit entry keeps who was added and removed."""
    meeting = _lock_meeting(meeting, actor)
    bodies, riders = _participants(meeting.area_code, bodies, riders)
    before_bodies = set(meeting.bodies.values_list("pk", flat=True))
    before_riders = set(meeting.riders.values_list("pk", flat=True))
    after_bodies, after_riders = {b.pk for b in bodies}, {r.pk for r in riders}
    meeting.bodies.set(bodies)
    meeting.riders.set(riders)
    meeting.save(update_fields=["updated_at"])
    log_action(
        actor=actor,
        action="meeting.participants",
        target=meeting,
        data={
            "bodies_added": sorted(after_bodies - before_bodies),
            "bodies_removed": sorted(before_bodies - after_bodies),
            "riders_added": sorted(after_riders - before_riders),
            "riders_removed": sorted(before_riders - after_riders),
        },
    )
    return meeting


@transaction.atomic
def agenda_add(*, meeting: Meeting, actor: Any, appeal: Any = None, text: Any = "") -> AgendaItem:
    """Put an unresolved appeal of the meeting's area, or a free-text item, on the agenda."""
    meeting = _lock_meeting(meeting, actor)
    text = _text(text, field="text", limit=MAX_NOTE)
    if appeal is None and not text:
        raise ApplicationError(
            _("Choose an appeal or write the item."), code="empty_item", field="text"
        )
    if appeal is not None:
        if not isinstance(appeal, Appeal) or not appeal.area_code.startswith(meeting.area_code):
            raise ApplicationError(
                _("That appeal is not of this meeting's area."),
                code="appeal_out_of_scope",
                field="appeal",
            )
        appeal = Appeal.objects.select_for_update(of=("self",)).get(pk=appeal.pk)
        if not appeal.is_unresolved:
            raise ApplicationError(
                _("Only unresolved appeals go on the agenda."),
                code="appeal_resolved",
                field="appeal",
            )
        if AgendaItem.objects.filter(meeting=meeting, appeal=appeal).exists():
            raise Conflict(
                _("That appeal is already on this meeting's agenda."),
                code="already_on_agenda",
                field="appeal",
            )
    last = AgendaItem.objects.filter(meeting=meeting).aggregate(n=Max("position"))["n"]
    item = AgendaItem.objects.create(
        meeting=meeting,
        area_code=meeting.area_code,
        appeal=appeal,
        text=text,
        position=(last or 0) + 1,
    )
    log_action(
        actor=actor,
        action="meeting.agenda_added",
        target=meeting,
        data={"item": item.pk, "appeal": appeal.pk if appeal else None, "text": text[:100]},
    )
    if appeal is not None:
        _event(
            appeal,
            action="on_agenda",
            actor=actor,
            note=text,
            data={"meeting": meeting.pk, "held_on": meeting.held_on.isoformat()},
        )
    return item


@transaction.atomic
def meeting_minutes(*, meeting: Meeting, actor: Any, minutes: Any) -> Meeting:
    meeting = _lock_meeting(meeting, actor)
    minutes = _text(
        minutes,
        field="minutes",
        limit=MAX_MINUTES,
        required=True,
        message=_("Please write the minutes."),
    )
    meeting.minutes = minutes
    meeting.save(update_fields=["minutes", "updated_at"])
    log_action(actor=actor, action="meeting.minutes", target=meeting, data={"length": len(minutes)})
    return meeting


@transaction.atomic
def decision_add(
    *,
    meeting: Meeting,
    actor: Any,
    text: Any,
    due_on: Any,
    owner_body: Any = None,
    owner_name: Any = "",
    agenda_item: Any = None,
) -> Decision:
    """A decision with an owner (a body, or a person's name) and a due date; both required."""
    meeting = _lock_meeting(meeting, actor)
    text = _text(
        text, field="text", limit=MAX_NOTE, required=True, message=_("Please write the decision.")
    )
    owner_name = _text(owner_name, field="owner_name", limit=100)
    if owner_body is None and not owner_name:
        raise ApplicationError(
            _("A decision needs an owner: a body or a person's name."),
            code="owner_required",
            field="owner_name",
        )
    if owner_body is not None and (
        not isinstance(owner_body, Department)
        or not meeting_bodies(meeting.area_code).filter(pk=owner_body.pk).exists()
    ):
        raise ApplicationError(
            _("That body does not work in this meeting's area."),
            code="body_out_of_scope",
            field="owner_body",
        )
    if due_on in (None, ""):
        raise ApplicationError(
            _("A decision needs a due date."), code="due_required", field="due_on"
        )
    due_on = _date(due_on, field="due_on")
    if due_on < meeting.held_on:
        raise ApplicationError(
            _("The due date cannot be before the meeting."), code="invalid_date", field="due_on"
        )
    if agenda_item is not None and (
        not isinstance(agenda_item, AgendaItem) or agenda_item.meeting_id != meeting.pk
    ):
        raise ApplicationError(_("That item is not on this meeting's agenda."), field="agenda_item")
    decision = Decision.objects.create(
        meeting=meeting,
        area_code=meeting.area_code,
        agenda_item=agenda_item,
        text=text,
        owner_body=owner_body,
        owner_name=owner_name if owner_body is None else "",
        due_on=due_on,
    )
    log_action(
        actor=actor,
        action="meeting.decision_added",
        target=decision,
        data={"meeting": meeting.pk, "due_on": due_on.isoformat(), "owner": decision.owner},
    )
    return decision


@transaction.atomic
def decision_follow_up(
    *, decision: Decision, actor: Any, note: Any, done: bool = False
) -> Decision:
    """Note progress on a decision; ``done`` marks it done."""
    require(actor, Action.OPERATE, decision)
    _staff_only(actor)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if not decision.can_follow_up():
        raise Conflict(_("This decision is already done."), code="decision_done")
    note = _text(
        note, field="note", limit=MAX_NOTE, required=True, message=_("Please write a note.")
    )
    now = timezone.now()
    decision.follow_up, decision.followed_up_at = note, now
    fields = ["follow_up", "followed_up_at", "updated_at"]
    if done:
        decision.status, decision.done_at = DecisionStatus.DONE, now
        fields += ["status", "done_at"]
    decision.save(update_fields=fields)
    log_action(
        actor=actor,
        action="meeting.decision_done" if done else "meeting.decision_followed_up",
        target=decision,
        data={"note": note[:100]},
    )
    return decision


# --- escalation --------------------------------------------------------------------------------


def appeals_escalate(*, now: Any = None) -> dict[str, int]:
    """Run by the scheduler: an appeal still with its body after the deadline goes up.

    Level 1 at the deadline: the body's handlers are reminded and the staff of the rider's
    community told. Level 2 when as long again has passed (at least a day): the street's staff
    are told. Each level once per routing (routing again starts afresh); a job that did not run
    for a while tells both levels at once. Safe to run twice and from several processes (the
    row is locked and re-checked)."""
    now = now or timezone.now()
    counts = {"reminded": 0, "street": 0}
    due = (
        Appeal.objects.filter(status=AppealStatus.ROUTED, deadline_at__lt=now, escalation__lt=2)
        .order_by("escalation", "deadline_at", "pk")
        .values_list("pk", flat=True)
    )
    for pk in list(due[:1000]):
        with transaction.atomic():
            appeal = (
                Appeal.objects.select_for_update(of=("self",)).select_related("body").get(pk=pk)
            )
            if appeal.status != AppealStatus.ROUTED or appeal.escalation >= 2:
                continue
            span = max(appeal.deadline_at - (appeal.routed_at or appeal.deadline_at), ONE_DAY)
            level = 2 if now >= appeal.deadline_at + span else 1
            if level <= appeal.escalation:
                continue
            first = appeal.escalation == 0
            appeal.escalation = level
            appeal.save(update_fields=["escalation", "updated_at"])
            _event(appeal, action="escalated", actor=None, data={"level": level})
            community, street = appeal.area_code[:12], appeal.area_code[:9]

            def title(appeal: Appeal = appeal) -> str:  # in each recipient's language
                return _("Overdue appeal #%(id)s: %(difficulty)s (%(body)s)") % {
                    "id": appeal.pk,
                    "difficulty": appeal.get_difficulty_display(),
                    "body": appeal.body.name if appeal.body else "",
                }

            if first:
                handlers = User.objects.filter(
                    is_active=True, role=Role.HANDLER, department=appeal.body_id
                ).values_list("pk", flat=True)
                notify(
                    recipients=list(handlers),
                    kind="appeal_overdue",
                    title=title,
                    url=appeal_url(appeal, side="body"),
                    target=appeal,
                )
                notify(
                    recipients=console_staff_ids(community),
                    kind="appeal_overdue",
                    title=title,
                    url=appeal_url(appeal, side="staff"),
                    target=appeal,
                )
                counts["reminded"] += 1
            if level == 2:
                notify(
                    recipients=console_staff_ids(street),
                    kind="appeal_overdue",
                    title=title,
                    url=appeal_url(appeal, side="staff"),
                    target=appeal,
                )
                counts["street"] += 1
    return counts
