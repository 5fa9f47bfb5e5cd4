"""The notifications' background task: sending committed messages through the channels."""

from yizhan.core.tasks import task
from yizhan.notifications import services


@task("notifications.deliver")
def deliver_notifications(ids: list[int]) -> None:
    # No retries: every attempt is recorded per channel (Delivery), failures included, and a
    # retry would send the channels that did succeed a second time.
    services.deliver(ids)
