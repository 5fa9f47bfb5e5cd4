"""The organisation pipeline (optional, per street): party branches (党支部) with their staff, and
one record per person moving through 入党申请 → 积极分子 → 发展对象 → 预备党员 → 正式党员.

Who sees what (``apps.py`` registers the policies):

* the module is off unless the street's switch (:class:`OrganisationSettings`) is on; while off
  the selectors show nothing of the street and the services refuse every write;
* a street's admins (and the district's) turn the switch, create branches and assign staff;
  they see counts per stage, never a person's record;
* a record is seen and worked only by the staff assigned to its branch (:class:`BranchStaff`) —
  not by other staff of the area, not by admins, not by riders (not even their own record).

A record carries no ``area_code`` on purpose: the audit entries written for it then carry none
either, so the back office's audit log (scoped by area) does not show them to the area's staff.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yizhan.core.models import TimeStampedModel
from yizhan.organisation.choices import (
    LIVE_STATUSES,
    STAGE_DATE_FIELD,
    STAGE_ORDER,
    EntryKind,
    RecordStatus,
    Stage,
    next_stage,
)


class OrganisationSettings(models.Model):
    """A street's switch: the pipeline exists for the street only while ``enabled``."""

    street = models.OneToOneField(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("organisation settings")
        verbose_name_plural = _("organisation settings")

    def __str__(self) -> str:
        return str(self.street)


class Branch(TimeStampedModel):
    """A party branch (党支部) of a street, belonging to the street or to one of its
    communities; it is responsible for the records of people in that area."""

    street = models.ForeignKey(
        "areas.Area", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    #: The branch's area (the street's or a community's code): its people, its admins.
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("party branch")
        verbose_name_plural = _("party branches")
        ordering = ["area_code", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="org_branch_name_per_street")
        ]

    def __str__(self) -> str:
        return self.name


class BranchStaff(models.Model):
    """A console user assigned to a branch: they see and work its records."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="staff_links"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    #: The branch's area code (its street's admins manage the assignment).
    area_code = models.CharField(_("area code"), max_length=32, db_index=True, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("branch staff")
        verbose_name_plural = _("branch staff")
        ordering = ["branch_id", "added_at", "id"]
        constraints = [
            # Also what lets the record policy join to the staff without duplicate rows.
            models.UniqueConstraint(fields=["branch", "user"], name="org_branch_staff_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.branch}"


class PipelineRecord(TimeStampedModel):
    """One person's way through the pipeline: the current stage, the date of each stage reached,
    the responsible branch. Stages advance one at a time, in order (:meth:`can_advance`)."""

    rider = models.ForeignKey(
        "people.RiderProfile",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="records"
    )
    #: The branch's street (the switch; the counts per stage). Not ``area_code``: see the module.
    street_code = models.CharField(_("street code"), max_length=32, db_index=True, editable=False)
    stage = models.CharField(
        _("stage"), max_length=16, choices=Stage.choices, default=Stage.APPLICANT, db_index=True
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RecordStatus.choices,
        default=RecordStatus.OPEN,
        db_index=True,
    )
    applied_on = models.DateField(_("application date"))
    activist_on = models.DateField(_("activist since"), null=True, blank=True)
    candidate_on = models.DateField(_("candidate since"), null=True, blank=True)
    probationary_on = models.DateField(_("probationary member since"), null=True, blank=True)
    full_on = models.DateField(_("full member since"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.CharField(_("reason for closing"), max_length=300, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("pipeline record")
        verbose_name_plural = _("pipeline records")
        ordering = ["-updated_at", "-id"]
        constraints = [
            # One live record per person: a closed one allows a new application later.
            models.UniqueConstraint(
                fields=["rider"],
                condition=Q(status__in=LIVE_STATUSES),
                name="org_record_one_live_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "stage"], name="org_record_branch_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.get_stage_display()}"

    def stage_date(self, stage: str):
        return getattr(self, STAGE_DATE_FIELD[stage])

    @property
    def last_date(self):
        """The date of the current stage (what the next step may not precede)."""
        return self.stage_date(self.stage)

    @property
    def next_stage(self) -> str | None:
        return next_stage(self.stage)

    def can_advance(self) -> bool:
        return self.status == RecordStatus.OPEN and self.next_stage is not None

    def can_close(self) -> bool:
        return self.status == RecordStatus.OPEN

    def can_transfer(self) -> bool:
        return self.status == RecordStatus.OPEN

    def dates(self) -> list[tuple[str, str, object]]:
        """(stage, label, date or None) for the five stages, in order."""
        return [(s, Stage(s).label, self.stage_date(s)) for s in STAGE_ORDER]


class StageEntry(models.Model):
    """The record's history, append-only: each opening, step, closing and transfer."""

    record = models.ForeignKey(
        PipelineRecord, verbose_name=_("record"), on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField(_("change"), max_length=12, choices=EntryKind.choices)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    on = models.DateField(_("date"))
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    #: For a transfer: the receiving branch (``branch`` is the one it left).
    to_branch = models.ForeignKey(
        Branch,
        verbose_name=_("to branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stage history entry")
        verbose_name_plural = _("stage history")
        ordering = ["record_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.on}"
