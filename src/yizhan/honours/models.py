"""Honours (清远骑士 …): titles a street awards for a period, with a quota; nominations of riders
by staff from the record; approval by the street's (or the district's) admins; the honour roll.

A title's quota bounds both steps: nominations pending or approved never outnumber it (nominating
beyond it is refused), and approvals never do (approving beyond it is refused). Both counts are
taken under a lock on the title row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.honours.choices import NominationStatus


class Title(TimeStampedModel):
    """A title a street awards for one period (e.g. 清远骑士 2026), to at most ``quota`` riders."""

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    #: The street's code: its staff nominate, its admins (and the district's) approve.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=500, blank=True)
    period = models.CharField(_("period"), max_length=40, help_text=_("e.g. 2026"))
    starts_on = models.DateField(_("period starts"))
    ends_on = models.DateField(_("period ends"))
    quota = models.PositiveIntegerField(_("quota"), help_text=_("How many may hold it."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("honour title")
        verbose_name_plural = _("honour titles")
        ordering = ["area_code", "-starts_on", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name", "period"], name="honour_title_unique_per_period"
            ),
            models.CheckConstraint(condition=Q(quota__gt=0), name="honour_title_quota_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="honour_title_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.period}"


class Nomination(TimeStampedModel):
    """A rider put forward for a title, with the reason and the record at that moment."""

    title = models.ForeignKey(
        Title, verbose_name=_("title"), on_delete=models.PROTECT, related_name="nominations"
    )
    rider = models.ForeignKey(
        "people.RiderProfile",
        verbose_name=_("rider"),
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    #: The rider's area when nominated: staff of that area see it, the street's admins decide.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=NominationStatus.choices,
        default=NominationStatus.PENDING,
        db_index=True,
    )
    reason = models.CharField(_("reason"), max_length=500)
    #: The rider's record over the title's period when nominated (``selectors.record_of``).
    record = models.JSONField(_("record"), default=dict, blank=True)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("nominated by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
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
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One nomination per rider per title (and so per period); a rejection stands.
            models.UniqueConstraint(fields=["title", "rider"], name="honour_nomination_once"),
        ]
        indexes = [models.Index(fields=["title", "status"], name="honour_nomination_status_idx")]

    def __str__(self) -> str:
        return f"{self.rider} · {self.title}"

    def can_decide(self) -> bool:
        return self.status == NominationStatus.PENDING
