"""Reads of the inbox, always one person's own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yizhan.core.permissions import restrict
from yizhan.notifications.models import Notification


def inbox(user: Any, *, unread_only: bool = False) -> QuerySet:
    qs = restrict(Notification.objects.all(), user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
