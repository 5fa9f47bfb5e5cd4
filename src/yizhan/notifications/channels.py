"""Channels beyond the inbox: SMS, WeChat template messages … behind one interface.

A channel is a class with a ``name`` and ``send(notification) -> None`` that raises on failure.
``settings.NOTIFICATION_CHANNELS`` lists the dotted paths of those in use; every notification
goes to the inbox and then, after the transaction commits, to each channel, and each attempt is
recorded as a :class:`~yizhan.notifications.models.Delivery` (sent or failed, with the error).
Development uses :class:`ConsoleChannel`, which writes the message to the log. A real SMS or
WeChat channel subclasses :class:`Channel` with the provider's client; only urgent messages
should go out by SMS (``urgent_only``).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("yizhan.notifications")


class Channel:
    name = "channel"
    #: True: only urgent notifications go out this way (SMS costs money and attention).
    urgent_only = False

    def wants(self, notification) -> bool:
        return notification.urgent or not self.urgent_only

    def send(self, notification) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleChannel(Channel):
    """Writes every notification to the log: the development stand-in for SMS and WeChat."""

    name = "console"

    def send(self, notification) -> None:
        logger.info(
            "notify %s [%s]%s %s — %s %s",
            notification.recipient_id,
            notification.kind,
            " URGENT" if notification.urgent else "",
            notification.title,
            notification.body,
            notification.url,
        )


@lru_cache(maxsize=1)
def _load(paths: tuple[str, ...]) -> tuple[Channel, ...]:
    return tuple(import_string(path)() for path in paths)


def channels() -> tuple[Channel, ...]:
    return _load(tuple(settings.NOTIFICATION_CHANNELS))
