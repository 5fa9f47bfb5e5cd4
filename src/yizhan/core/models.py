"""What every app shares: a timestamped base model and the append-only audit log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or remove an audit entry."""


class AuditQuerySet(models.QuerySet):
    """Append-only: rows are inserted, never updated or deleted (docs/oversight.md).

    The one update allowed is the one the database makes when an account is deleted
    (``actor`` → NULL, ``on_delete=SET_NULL``): the entry stays, without pointing at a person.
    PostgreSQL enforces the same rule with a trigger (core migration 0005).
    """

    def update(self, **kwargs):
        if set(kwargs) <= {"actor", "actor_id"} and all(v is None for v in kwargs.values()):
            return super().update(**kwargs)
        raise AuditLogIsAppendOnly("audit entries are never changed")

    def delete(self):
        raise AuditLogIsAppendOnly("audit entries are never deleted")

    delete.queryset_only = True

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditLogIsAppendOnly("audit entries are never changed")


class AuditEntry(models.Model):
    """One row per state change: who did what to which object, when, and why. Never edited:
    ``save`` on an existing row and ``delete`` raise (``AuditLogIsAppendOnly``)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.CharField(_("object id"), max_length=64)
    area_code = models.CharField(_("area code"), max_length=32, blank=True, db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit entries are never deleted")


class IdempotencyRecord(models.Model):
    """One key a client sent with a write it may repeat (award, redemption, check-in …).

    The row is written first, in the same transaction as the work, so a concurrent repeat of
    the same key waits on the unique index and then finds the finished result. ``fingerprint``
    is a hash of the request's payload: the same key with another payload is refused (409).
    """

    scope = models.CharField(_("operation"), max_length=64)
    key = models.CharField(_("idempotency key"), max_length=100)
    fingerprint = models.CharField(max_length=64)
    result_type = models.CharField(max_length=64, blank=True)
    result_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class Holiday(models.Model):
    """A date the working calendar treats differently from its weekday: a public holiday (a day
    off) or a weekend day moved into work (调休, ``is_workday``). See ``core.workcalendar``."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(
        _("working day"), default=False, help_text=_("Ticked: a weekend day worked (调休).")
    )
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("holiday or moved working day")
        verbose_name_plural = _("working calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("working day") if self.is_workday else _("day off")
        return f"{self.date} {self.name} ({kind})"
