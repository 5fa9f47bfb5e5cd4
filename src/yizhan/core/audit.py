"""Write the audit log. Services call :func:`log_action` inside their transaction."""

from typing import Any

from django.db import models

from yizhan.core.models import AuditEntry


def log_action(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    area_code: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor_id=actor_id,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        area_code=area_code or getattr(target, "area_code", "") or "",
        data=data or {},
    )


def history_for(target: models.Model):
    return AuditEntry.objects.filter(
        target_type=target._meta.label_lower, target_id=str(target.pk)
    ).select_related("actor")
