"""Events (活动): sign-up with a waiting list, check-in by a rotating QR code or by staff,
attendance points; and welfare hand-outs (福利发放): items with stock, and who received what.

Capacity is enforced under a row lock on the event (``select_for_update``); stock only moves by
conditional ``F()`` updates, and a check constraint keeps it from going below zero. A rider
receives one distribution at most once (a unique constraint).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.events.choices import (
    Audience,
    CheckInMethod,
    EventKind,
    PointsStatus,
    SignupStatus,
)


class Event(TimeStampedModel):
    """An activity organised by a street or a community; its staff and the admins above run it."""

    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    description = models.CharField(_("description"), max_length=1000, blank=True)
    organiser = models.ForeignKey(
        "areas.Area", verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="+"
    )
    #: The organiser's code: its staff and the admins above manage the event.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("capacity"))
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.RIDERS
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: Called off by its staff before it started (the riders signed up were told why).
    cancelled_at = models.DateTimeField(_("called off at"), null=True, blank=True)
    cancel_reason = models.CharField(_("why it was called off"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="event_capacity_positive"),
        ]
        indexes = [models.Index(fields=["area_code", "starts_at"], name="event_area_start_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def venue(self) -> str:
        if self.station_id:
            return self.station.name
        return self.address


class Signup(models.Model):
    """A rider's place at an event (or on its waiting list), and their attendance.

    One row per rider and event: signing up again after a cancellation reuses it (at the end of
    the queue).
    """

    event = models.ForeignKey(
        Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="signups"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rider"),
        on_delete=models.PROTECT,
        related_name="event_signups",
    )
    #: The event's code: its staff see and confirm the sign-up.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=SignupStatus.choices, db_index=True
    )
    #: When the rider (last) joined: the waiting list is served in this order.
    queued_at = models.DateTimeField(_("signed up at"))
    #: Shown to the rider as a QR code; staff scan or type it at the door.
    code = models.CharField(_("attendance code"), max_length=6)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_method = models.CharField(
        _("check-in"), max_length=8, choices=CheckInMethod.choices, blank=True
    )
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    points_status = models.CharField(
        _("points"), max_length=8, choices=PointsStatus.choices, default=PointsStatus.NONE
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["queued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="signup_once_per_event"),
            models.CheckConstraint(
                condition=Q(checked_in_at__isnull=True) | Q(status="confirmed"),
                name="signup_checked_in_is_confirmed",
            ),
        ]
        indexes = [models.Index(fields=["event", "status", "queued_at"], name="signup_queue_idx")]

    def __str__(self) -> str:
        return f"{self.event} · {self.user}"

    @property
    def qr_payload(self) -> str:
        return f"YZE-{self.pk}-{self.code}"

    def can_cancel(self) -> bool:
        return self.status != SignupStatus.CANCELLED and self.checked_in_at is None


class Distribution(TimeStampedModel):
    """A welfare hand-out (e.g. 夏送清凉) run by an area's staff."""

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("hand-out")
        verbose_name_plural = _("hand-outs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class DistributionItem(models.Model):
    """One item of a hand-out (夏凉被, 小风扇 …) and its stock left."""

    distribution = models.ForeignKey(
        Distribution, verbose_name=_("hand-out"), on_delete=models.PROTECT, related_name="items"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    name = models.CharField(_("item"), max_length=50)
    stock = models.IntegerField(_("in stock"))
    handed_out = models.PositiveIntegerField(_("handed out"), default=0)

    class Meta:
        verbose_name = _("hand-out item")
        verbose_name_plural = _("hand-out items")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["distribution", "name"], name="handout_item_unique"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="handout_stock_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name


class Receipt(models.Model):
    """A rider received (some items of) a hand-out. At most once per rider and hand-out."""

    distribution = models.ForeignKey(
        Distribution, verbose_name=_("hand-out"), on_delete=models.PROTECT, related_name="receipts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rider"),
        on_delete=models.PROTECT,
        related_name="handout_receipts",
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["distribution", "user"], name="receipt_once_per_rider")
        ]

    def __str__(self) -> str:
        return f"{self.distribution} · {self.user}"


class ReceiptLine(models.Model):
    """What was in one receipt: an item and how many."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(DistributionItem, on_delete=models.PROTECT, related_name="lines")
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        constraints = [
            models.UniqueConstraint(fields=["receipt", "item"], name="receipt_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="receipt_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item} × {self.quantity}"
