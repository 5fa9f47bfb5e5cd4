"""Appeals (诉求直通车) and joint meetings (联席会议).

A rider raises an appeal (a need or a grievance, one of the four difficulties and a topic);
staff of the rider's community or street route it to the body that answers it (a
``people.Department``: 工会, 人社, 司法所, 交警 …) with a deadline in days; the body's handler (or
staff) answers; the rider rates the answer, and a low rating (≤ 2) reopens it for staff. The
services given are recorded as the four deliveries (四送). Unresolved appeals can go on the agenda
of a joint meeting, whose decisions have an owner and a due date and are followed up until done.

Each transition has a ``can_<transition>()`` predicate here; the services check it under a row
lock and write an :class:`AppealEvent` (the timeline) and an audit entry.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.appeals.choices import (
    UNRESOLVED_STATUSES,
    AppealStatus,
    DecisionStatus,
    DeliveryKind,
    Difficulty,
    Topic,
)
from yizhan.core.models import TimeStampedModel
from yizhan.core.roles import Role


class Appeal(TimeStampedModel):
    """One need or grievance a rider raised, and its way to an answer."""

    rider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rider"),
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    #: The rider's grid (or community) when they raised it: the permission layer's scope.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    difficulty = models.CharField(_("difficulty"), max_length=16, choices=Difficulty.choices)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    text = models.CharField(_("what it is about"), max_length=1000)
    anonymous = models.BooleanField(
        _("anonymous"),
        default=False,
        help_text=_("Only the body handling it sees the rider's name."),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppealStatus.choices,
        default=AppealStatus.SUBMITTED,
        db_index=True,
    )
    body = models.ForeignKey(
        "people.Department",
        verbose_name=_("responsible body"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("routed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    #: 0 on time; 1: the body and the community's staff were reminded at the deadline; 2: the
    #: street's staff were told when as long again had passed (``appeals_escalate``).
    escalation = models.PositiveSmallIntegerField(_("escalation"), default=0)
    answer = models.CharField(_("answer"), max_length=2000, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment on the answer"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area_code", "status"], name="appeal_scope_status_idx"),
            models.Index(fields=["rider", "-created_at"], name="appeal_rider_idx"),
            models.Index(fields=["status", "deadline_at"], name="appeal_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="appeal_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(status="routed") | Q(body__isnull=False),
                name="appeal_routed_has_body",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_difficulty_display()}"

    # --- transitions (the services check these) ----------------------------------------------

    def can_route(self) -> bool:
        """To a body (again, after a low rating; or to another body while it waits)."""
        return self.status in (AppealStatus.SUBMITTED, AppealStatus.ROUTED, AppealStatus.REOPENED)

    def can_answer(self) -> bool:
        return self.status in (AppealStatus.ROUTED, AppealStatus.REOPENED)

    def can_rate(self) -> bool:
        return self.status == AppealStatus.ANSWERED and self.rated_at is None

    def can_close(self) -> bool:
        return self.status != AppealStatus.CLOSED

    def can_deliver(self) -> bool:
        return self.status != AppealStatus.SUBMITTED

    @property
    def is_unresolved(self) -> bool:
        return self.status in UNRESOLVED_STATUSES

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == AppealStatus.ROUTED
            and self.deadline_at is not None
            and self.deadline_at < timezone.now()
        )

    def name_visible_to(self, user: Any) -> bool:
        """The rider's name: always to the rider; when anonymous, only to the body handling it
        (its handlers, and the staff member who routed or answered it); else to anyone who may
        see the appeal."""
        if not self.anonymous:
            return True
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.pk == self.rider_id or user.pk in (self.routed_by_id, self.answered_by_id):
            return True
        return (
            user.role == Role.HANDLER
            and self.body_id is not None
            and user.department_id == self.body_id
        )

    def rider_label(self, user: Any) -> str:
        if self.name_visible_to(user):
            return self.rider.name or self.rider.username
        return str(_("Anonymous"))


class AppealEvent(models.Model):
    """One line of an appeal's timeline: who did what, when, with what note."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    action = models.CharField(_("action"), max_length=24)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=2000, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal timeline")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.appeal_id} {self.action}"


class Delivery(models.Model):
    """One of the four deliveries (四送) given for an appeal, with a note of what was given."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="deliveries")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    kind = models.CharField(_("delivery"), max_length=12, choices=DeliveryKind.choices)
    note = models.CharField(_("what was given"), max_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery (四送)")
        verbose_name_plural = _("deliveries (四送)")
        ordering = ["appeal", "created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.appeal_id} {self.get_kind_display()}"


class Meeting(TimeStampedModel):
    """A joint meeting (联席会议) organised by an area: who takes part, the agenda, the minutes."""

    title = models.CharField(_("title"), max_length=100)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    bodies = models.ManyToManyField(
        "people.Department", verbose_name=_("bodies taking part"), blank=True, related_name="+"
    )
    riders = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rider representatives"),
        blank=True,
        related_name="+",
    )
    minutes = models.TextField(
        pgettext_lazy("meeting record", "minutes"), max_length=10000, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("joint meeting")
        verbose_name_plural = _("joint meetings")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["area_code", "-held_on"], name="meeting_scope_idx")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


class AgendaItem(models.Model):
    """One item on a meeting's agenda: an unresolved appeal of its area, or free text."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    appeal = models.ForeignKey(
        Appeal,
        verbose_name=_("appeal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agenda_items",
    )
    text = models.CharField(_("item"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "appeal"],
                condition=Q(appeal__isnull=False),
                name="agenda_appeal_once",
            ),
            models.CheckConstraint(
                condition=Q(appeal__isnull=False) | ~Q(text=""), name="agenda_item_has_content"
            ),
        ]

    def __str__(self) -> str:
        return self.text or f"#{self.appeal_id}"


class Decision(TimeStampedModel):
    """A decision of a meeting: what, who owns it (a body or a person) and by when; followed up
    until done."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    agenda_item = models.ForeignKey(
        AgendaItem,
        verbose_name=_("agenda item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    text = models.CharField(_("decision"), max_length=500)
    owner_body = models.ForeignKey(
        "people.Department",
        verbose_name=_("owner (body)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner_name = models.CharField(_("owner (person)"), max_length=100, blank=True)
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=DecisionStatus.choices,
        default=DecisionStatus.OPEN,
        db_index=True,
    )
    follow_up = models.CharField(_("latest follow-up"), max_length=500, blank=True)
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["area_code", "status", "due_on"], name="decision_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_body__isnull=False) | ~Q(owner_name=""),
                name="decision_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def owner(self) -> str:
        return self.owner_body.name if self.owner_body_id else self.owner_name

    def can_follow_up(self) -> bool:
        return self.status == DecisionStatus.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.status == DecisionStatus.OPEN and self.due_on < timezone.localdate()
