"""Every write to the inbox: notify people, mark messages read; deliveries after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from yizhan.core.errors import ApplicationError
from yizhan.core.permissions import Action, require
from yizhan.notifications.channels import channels, logger
from yizhan.notifications.models import Delivery, Notification

Text = str | Callable[[], Any]


def _render(text: Text) -> str:
    return str(text() if callable(text) else text)


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    title: Text,
    body: Text = "",
    url: str = "",
    target: models.Model | None = None,
    urgent: bool = False,
) -> list[Notification]:
    """Put a message in each recipient's inbox (once per person), then send it on.

    ``title`` and ``body`` are best given as functions (``lambda: _("…") % {…}``): they are then
    written in each recipient's own language (their account's setting, else the site's), not in
    the language of whoever caused the news. Plain strings are stored as they are.

    Call it inside the transaction that made the news: the inbox rows commit with it, and the
    channels (SMS, WeChat, the console) are tried only after the commit, so nobody is told of
    something that was rolled back.
    """
    ids = {getattr(r, "pk", r) for r in recipients if r is not None}
    if not ids:
        return []
    from yizhan.people.models import User

    languages = dict(User.objects.filter(pk__in=ids).values_list("pk", "language"))
    texts: dict[str, tuple[str, str]] = {}
    for language in set(languages.values()):
        with override(language or settings.LANGUAGE_CODE):
            texts[language] = (_render(title)[:120], _render(body)[:500])
    target_type = target._meta.label_lower if target is not None else ""
    target_id = str(target.pk) if target is not None else ""
    made = Notification.objects.bulk_create(
        Notification(
            recipient_id=pk,
            kind=kind[:40],
            title=texts[language][0],
            body=texts[language][1],
            url=url[:300],
            target_type=target_type,
            target_id=target_id,
            urgent=urgent,
        )
        for pk, language in sorted(languages.items())
        if texts[language][0]
    )
    ids = [n.pk for n in made if n.pk is not None]
    if ids:
        # After the commit, on the task queue (in process when there is none); robust:
        # whatever happens then, the request that made the news has succeeded and must say so.
        from yizhan.notifications.tasks import deliver_notifications

        deliver_notifications.delay(ids)
    return made


def deliver(ids: list[int]) -> None:
    """Send committed notifications through every channel; record each attempt."""
    notifications = list(Notification.objects.filter(pk__in=ids))
    try:
        in_use = channels()
    except Exception:  # a misconfigured channel list: the inbox still has every message
        logger.exception("notification channels could not be loaded")
        return
    rows = []
    for channel in in_use:
        for notification in notifications:
            if not channel.wants(notification):
                continue
            try:
                channel.send(notification)
            except Exception as exc:  # a channel's failure must not break the request
                logger.warning("channel %s failed for %s: %s", channel.name, notification.pk, exc)
                rows.append(
                    Delivery(
                        notification=notification,
                        channel=channel.name,
                        status=Delivery.Status.FAILED,
                        error=str(exc)[:300],
                    )
                )
            else:
                rows.append(
                    Delivery(
                        notification=notification,
                        channel=channel.name,
                        status=Delivery.Status.SENT,
                    )
                )
    Delivery.objects.bulk_create(rows)


@transaction.atomic
def notification_read(*, notification: Notification, user: Any) -> Notification:
    require(user, Action.OPERATE, notification)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notifications_read_all(*, user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        raise ApplicationError(_("Please log in first."), status=401, code="unauthenticated")
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
