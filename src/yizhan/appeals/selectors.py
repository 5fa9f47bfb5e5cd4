"""Every read of appeals and joint meetings a page or endpoint needs, already scoped."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from yizhan.appeals.choices import (
    UNRESOLVED_STATUSES,
    AppealStatus,
    DecisionStatus,
    Difficulty,
    Topic,
)
from yizhan.appeals.models import AgendaItem, Appeal, AppealEvent, Decision, Delivery, Meeting
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError
from yizhan.core.home import Card, Item
from yizhan.core.permissions import Action, get_for_user, restrict
from yizhan.core.roles import Role


def _appeals() -> QuerySet:
    return Appeal.objects.select_related("rider", "body")


def appeals_for_user(user: Any, action: Action = Action.VIEW) -> QuerySet:
    """Appeals ``user`` may ``action``: their own (rider), their area's (staff), those routed to
    their body (handler)."""
    return restrict(_appeals(), user, action).order_by("-created_at", "-id")


def appeal_for_user(user: Any, pk: Any, action: Action = Action.VIEW) -> Appeal:
    return get_for_user(_appeals(), user, action, pk=pk)


def my_appeals(user: Any) -> QuerySet:
    return _appeals().filter(rider=user).order_by("-created_at", "-id")


def home_card(user: Any) -> Card | None:
    """The rider's home card: up to 3 of their appeals, answered ones awaiting their rating
    first, then the open ones with their status. One query."""
    to_rate = Q(status=AppealStatus.ANSWERED, rated_at__isnull=True)
    waiting = Q(status__in=[AppealStatus.SUBMITTED, AppealStatus.ROUTED, AppealStatus.REOPENED])
    appeals = list(
        restrict(Appeal.objects.all(), user)
        .filter(to_rate | waiting, rider=user)
        .annotate(home_first=Case(When(to_rate, then=Value(0)), default=Value(1)))
        .order_by("home_first", "-created_at", "-id")[:3]
    )
    items = [
        Item(
            Truncator(appeal.text).chars(30),
            reverse("appeals:detail", args=[appeal.pk]),
            _("Answered: please rate the answer")
            if appeal.can_rate()
            else appeal.get_status_display(),
        )
        for appeal in appeals
    ]
    return Card(_("My appeals"), items, reverse("appeals:mine")) if items else None


def body_appeals(user: Any) -> QuerySet:
    """A handler's appeals: routed to their body, the nearest deadline first."""
    if getattr(user, "role", None) != Role.HANDLER:
        return Appeal.objects.none()
    return appeals_for_user(user).order_by("status", "deadline_at", "id")


def filter_appeals(
    qs: QuerySet,
    *,
    status: str | None = None,
    difficulty: str | None = None,
    topic: str | None = None,
    overdue_only: bool = False,
    unresolved_only: bool = False,
) -> QuerySet:
    for value, choices, field in (
        (status, AppealStatus, "status"),
        (difficulty, Difficulty, "difficulty"),
        (topic, Topic, "topic"),
    ):
        if value and value not in choices.values:
            raise ApplicationError(
                _("%(value)s is not a valid %(field)s: use one of %(all)s.")
                % {"value": value[:20], "field": field, "all": ", ".join(choices.values)},
                code=f"invalid_{field}",
                field=field,
            )
    if status:
        qs = qs.filter(status=status)
    if difficulty:
        qs = qs.filter(difficulty=difficulty)
    if topic:
        qs = qs.filter(topic=topic)
    if overdue_only:
        qs = qs.filter(status=AppealStatus.ROUTED, deadline_at__lt=timezone.now())
    if unresolved_only:
        qs = qs.filter(status__in=UNRESOLVED_STATUSES)
    return qs


def timeline(appeal: Appeal) -> QuerySet:
    return (
        AppealEvent.objects.filter(appeal=appeal)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def deliveries_of(appeal: Appeal) -> QuerySet:
    return (
        Delivery.objects.filter(appeal=appeal)
        .select_related("recorded_by")
        .order_by("created_at", "id")
    )


# --- meetings ----------------------------------------------------------------------------------


def _meetings() -> QuerySet:
    return Meeting.objects.select_related("area")


def meetings_for_user(user: Any, action: Action = Action.VIEW) -> QuerySet:
    return restrict(_meetings(), user, action).order_by("-held_on", "-id")


def meeting_for_user(user: Any, pk: Any, action: Action = Action.VIEW) -> Meeting:
    return get_for_user(_meetings().prefetch_related("bodies", "riders"), user, action, pk=pk)


def agenda_of(meeting: Meeting) -> QuerySet:
    return (
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("appeal", "appeal__rider")
        .order_by("position", "id")
    )


def decisions_of(meeting: Meeting) -> QuerySet:
    return (
        Decision.objects.filter(meeting=meeting)
        .select_related("owner_body", "agenda_item")
        .order_by("due_on", "id")
    )


def decisions_for_user(
    user: Any, *, status: str | None = None, overdue_only: bool = False
) -> QuerySet:
    """Decisions to follow up: the user's area's, the earliest due first."""
    if status and status not in DecisionStatus.values:
        raise ApplicationError(
            _("%(value)s is not a status: use one of %(all)s.")
            % {"value": status[:20], "all": ", ".join(DecisionStatus.values)},
            code="invalid_status",
            field="status",
        )
    qs = restrict(Decision.objects.select_related("owner_body", "meeting", "meeting__area"), user)
    if status:
        qs = qs.filter(status=status)
    if overdue_only:
        qs = qs.filter(status=DecisionStatus.OPEN, due_on__lt=timezone.localdate())
    return qs.order_by("status", "due_on", "id")


def decision_for_user(user: Any, pk: Any, action: Action = Action.VIEW) -> Decision:
    return get_for_user(
        Decision.objects.select_related("owner_body", "meeting"), user, action, pk=pk
    )


def meeting_with_agenda() -> Prefetch:
    return Prefetch("agenda", queryset=AgendaItem.objects.order_by("position", "id"))


def areas_to_organise(user: Any) -> QuerySet:
    """The areas a console user may organise meetings for (their own and beneath)."""
    return restrict(Area.objects.exclude(level="grid"), user, Action.OPERATE).order_by("code")
