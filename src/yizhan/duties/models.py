"""Duty logs (值勤记录) of riders holding posts, and households' one-time gift codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.core.models import TimeStampedModel
from yizhan.duties.choices import TIMED_KINDS, DutyKind, DutyStatus, PointsStatus, VerifiedBy


class Duty(TimeStampedModel):
    """One duty a rider logged for a post they hold: pending → verified / rejected.

    A patrol or mediation has a start and an end (paid per hour); help and a gift delivery are
    single acts (``started_at == ended_at``, paid per act). ``area_code`` is the rider's scope
    (their grid once placed, else their community) when they logged it.
    """

    rider = models.ForeignKey(
        "people.RiderProfile",
        verbose_name=_("rider"),
        on_delete=models.CASCADE,
        related_name="duties",
    )
    post = models.ForeignKey(
        "people.Post", verbose_name=_("post"), on_delete=models.PROTECT, related_name="duties"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=DutyKind.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    minutes = models.PositiveIntegerField(pgettext_lazy("duration", "minutes"), default=0)
    place = models.CharField(_("place"), max_length=200)
    lat = models.FloatField(_("latitude (WGS-84)"), null=True, blank=True)
    lng = models.FloatField(_("longitude (WGS-84)"), null=True, blank=True)
    crs = models.CharField(_("coordinate system given"), max_length=8, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    photo = models.ImageField(_("photo"), upload_to="duties/%Y/%m/", blank=True)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="duties/%Y/%m/", blank=True)
    photo_width = models.PositiveIntegerField(_("photo width"), default=0)
    photo_height = models.PositiveIntegerField(_("photo height"), default=0)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DutyStatus.choices,
        default=DutyStatus.PENDING,
        db_index=True,
    )
    verified_by = models.CharField(
        _("verified by"), max_length=16, choices=VerifiedBy.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason for rejection"), max_length=200, blank=True)
    points_status = models.CharField(
        _("points"), max_length=16, choices=PointsStatus.choices, blank=True
    )
    points = models.PositiveIntegerField(_("points paid"), default=0)

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["area_code", "status"], name="duty_scope_status_idx"),
            models.Index(fields=["rider", "kind", "started_at"], name="duty_rider_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")), name="duty_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} · {self.rider}"

    @property
    def is_timed(self) -> bool:
        return self.kind in TIMED_KINDS

    def can_decide(self) -> bool:
        return self.status == DutyStatus.PENDING


class GiftCode(models.Model):
    """A one-time code staff give a household in advance of a gift delivery (送温暖).

    The household enters it, with the duty number the rider shows them, on the public
    confirmation page: the gift delivery is then verified (by the staff member who issued the
    code, on the household's word) and paid. Only a keyed hash of the 6 digits is stored; a code
    is good for 7 days and once.
    """

    community = models.ForeignKey(
        "areas.Area",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="gift_codes",
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    household = models.CharField(_("household"), max_length=100)
    code_hash = models.CharField(max_length=64, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    duty = models.OneToOneField(
        Duty,
        verbose_name=_("duty confirmed"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gift_code",
    )

    class Meta:
        verbose_name = _("gift confirmation code")
        verbose_name_plural = _("gift confirmation codes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area_code", "code_hash"], name="giftcode_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.household} · {self.community}"

    @property
    def is_open(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
