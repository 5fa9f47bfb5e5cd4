"""Notifications API: my inbox (status changes of my reports, new cases, urgent alerts …), the
unread count for the badge, and marking messages read. An inbox is personal: nobody else's
messages are visible, not even to staff (another person's message is 404)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import Action, get_for_user
from yizhan.core.schemas import ERRORS
from yizhan.notifications import selectors, services
from yizhan.notifications.models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(..., description="report_status, report_dispatched, report_urgent …")
    title: str
    body: str
    url: str = Field(..., description="The page to open (may be empty)")
    target_type: str = Field(..., description="What it is about, e.g. reports.report")
    target_id: str
    urgent: bool
    created_at: datetime
    read_at: datetime | None
    read: bool


class NotificationUnreadOut(Schema):
    count: int


class NotificationsReadAllOut(Schema):
    marked: int = Field(..., description="Messages that were unread and are now read")


def _out(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "target_type": notification.target_type,
        "target_id": notification.target_id,
        "urgent": notification.urgent,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
        "read": notification.read_at is not None,
    }


class _Mapped:
    """The inbox's queryset, its slice mapped to the output shape (for the paginator)."""

    def __init__(self, qs) -> None:
        self.qs = qs

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        return [_out(n) for n in self.qs[index]]


@router.get(
    "/notifications",
    response={200: list[NotificationOut], **ERRORS},
    summary="My inbox, latest first (unread=true: only the unread)",
)
@paginate(YizhanPagination)
def notification_list(request, unread: bool = False):
    return _Mapped(selectors.inbox(request.user, unread_only=unread))


@router.get(
    "/notifications/unread-count",
    response={200: NotificationUnreadOut, **ERRORS},
    summary="How many of my messages are unread (the badge)",
)
def notification_unread_count(request):
    return {"count": selectors.unread_count(request.user)}


@router.post(
    "/notifications/read-all",
    response={200: NotificationsReadAllOut, **ERRORS},
    summary="Mark all my messages read",
)
def notification_read_all(request):
    return {"marked": services.notifications_read_all(user=request.user)}


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    summary="Mark one of my messages read (again: no change)",
)
def notification_read(request, notification_id: int):
    notification = get_for_user(
        Notification.objects.all(), request.user, Action.OPERATE, pk=notification_id
    )
    return _out(services.notification_read(notification=notification, user=request.user))
