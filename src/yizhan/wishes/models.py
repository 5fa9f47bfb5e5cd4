"""Micro-wishes (微心愿): a rider's small wish, approved by their community's staff, claimed by a
volunteer, merchant or staff member, fulfilled, and confirmed by the rider (or, after a time-out,
by staff).

A wish moves through an explicit workflow (``WishStatus``); each ``can_<transition>()``
predicate says whether a transition is allowed from the current state, the service checks it
under a row lock, changes the state and writes a :class:`WishEvent` (the timeline) and an audit
entry. Who holds a wish is a :class:`WishClaim`: one holding claim per wish at most (a partial
unique constraint backs the row lock), and the claim is what its claimer owns and sees.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.wishes.choices import (
    HOLDING_CLAIMS,
    OPEN_STATUSES,
    ClaimStatus,
    PointsStatus,
    WishCategory,
    WishStatus,
)


class Wish(TimeStampedModel):
    """One small wish a rider posted."""

    rider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rider"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="wishes",
    )
    community = models.ForeignKey(
        "areas.Area", verbose_name=_("community"), on_delete=models.PROTECT, related_name="wishes"
    )
    #: The rider's area when posting (their grid, or their community): staff there approve it.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    category = models.CharField(_("category"), max_length=20, choices=WishCategory.choices)
    text = models.CharField(_("wish"), max_length=300)
    photo = models.ImageField(_("photo"), upload_to="wishes/%Y/%m/", blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=WishStatus.choices,
        default=WishStatus.PENDING,
        db_index=True,
    )
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or rejected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    current_claim = models.ForeignKey(
        "wishes.WishClaim",
        verbose_name=_("claim"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    confirm_due_at = models.DateTimeField(_("confirm before"), null=True, blank=True)
    timed_out_at = models.DateTimeField(_("timed out at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    points_status = models.CharField(
        _("points"), max_length=12, choices=PointsStatus.choices, default=PointsStatus.NONE
    )
    points_paid = models.PositiveIntegerField(_("points paid"), default=0)

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area_code", "status"], name="wish_scope_status_idx"),
            models.Index(fields=["community", "status"], name="wish_wall_idx"),
            models.Index(fields=["rider", "status"], name="wish_rider_idx"),
            models.Index(fields=["status", "confirm_due_at"], name="wish_due_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.text[:20]}"

    # --- transitions (the services check these) ----------------------------------------------

    def can_decide(self) -> bool:
        return self.status == WishStatus.PENDING

    def can_withdraw(self) -> bool:
        return self.status in (WishStatus.PENDING, WishStatus.PUBLISHED)

    def can_claim(self) -> bool:
        return self.status == WishStatus.PUBLISHED

    def can_release(self) -> bool:
        return self.status == WishStatus.CLAIMED

    def can_fulfil(self) -> bool:
        return self.status == WishStatus.CLAIMED

    def can_rider_confirm(self) -> bool:
        return self.status in (WishStatus.FULFILLED, WishStatus.TIMED_OUT)

    def can_staff_confirm(self) -> bool:
        return self.status == WishStatus.TIMED_OUT

    def can_reopen(self) -> bool:
        return self.status == WishStatus.TIMED_OUT

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def masked_name(self) -> str:
        """What the public sees of the rider: the surname and two stars (王**), whatever the
        length of the name, so the wall says nothing more about who it is."""
        name = (self.rider.name if self.rider_id and self.rider else "") or ""
        return f"{name[:1]}**" if name else "**"


class WishClaim(models.Model):
    """Someone taking a wish on (认领): active, then released, fulfilled, confirmed or reopened."""

    wish = models.ForeignKey(Wish, on_delete=models.CASCADE, related_name="claims")
    claimer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimer"),
        on_delete=models.PROTECT,
        related_name="wish_claims",
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.ACTIVE
    )
    note = models.CharField(_("what was done"), max_length=300, blank=True)
    photo = models.ImageField(_("photo of the fulfilment"), upload_to="wishes/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wish claim")
        verbose_name_plural = _("wish claims")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["wish"],
                condition=Q(status__in=[str(s) for s in HOLDING_CLAIMS]),
                name="wish_one_holding_claim",
            )
        ]
        indexes = [models.Index(fields=["claimer", "status"], name="wish_claimer_idx")]

    def __str__(self) -> str:
        return f"#{self.wish_id} ← {self.claimer_id}"


class WishEvent(models.Model):
    """One line of a wish's timeline: a transition with who, when and why."""

    wish = models.ForeignKey(Wish, on_delete=models.CASCADE, related_name="events")
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
    note = models.CharField(_("note"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("wish event")
        verbose_name_plural = _("wish timeline")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.wish_id} {self.action}"
