"""The inbox and the channels: a message per person, channels tried only after the commit, each
attempt recorded, a failing channel never breaking the request; only the owner reads a message."""

import pytest
from django.db import transaction

from yizhan.core.errors import ApplicationError, Forbidden, NotFound
from yizhan.core.permissions import get_for_user
from yizhan.notifications import selectors as sel
from yizhan.notifications.channels import Channel, ConsoleChannel, channels
from yizhan.notifications.models import Delivery, Notification
from yizhan.notifications.services import (
    deliver,
    notification_read,
    notifications_read_all,
    notify,
)

SENT: list[tuple[str, int]] = []


class Recording(Channel):
    name = "recording"

    def send(self, notification) -> None:
        SENT.append((self.name, notification.pk))


class SmsOnlyUrgent(Recording):
    name = "sms"
    urgent_only = True


class Broken(Channel):
    name = "broken"

    def send(self, notification) -> None:
        raise ConnectionError("gateway timed out after 5 s")


HERE = "tests.notifications.test_services"


@pytest.fixture(autouse=True)
def _recorded(settings):
    SENT.clear()
    settings.NOTIFICATION_CHANNELS = [f"{HERE}.Recording"]
    yield
    SENT.clear()


def test_one_message_per_person_with_its_target(world, django_capture_on_commit_callbacks):
    rider, staff = world.rider.user, world.community_staff
    with django_capture_on_commit_callbacks(execute=True):
        made = notify(
            recipients=[rider, rider.pk, staff, None], kind="report_status", title="标题" * 100,
            body="正文" * 400, url="/r/1/", target=world.post,
        )  # fmt: skip
    assert len(made) == 2
    rows = Notification.objects.order_by("recipient_id")
    assert {n.recipient for n in rows} == {rider, staff}
    first = rows[0]
    assert (len(first.title), len(first.body), first.url) == (120, 500, "/r/1/")
    assert (first.target_type, first.target_id) == ("people.post", str(world.post.pk))
    assert sorted(SENT) == sorted(("recording", n.pk) for n in made)
    assert Delivery.objects.filter(status="sent", channel="recording").count() == 2


def test_nobody_or_no_title_sends_nothing(world):
    assert notify(recipients=[], kind="x", title="t") == []
    assert notify(recipients=[world.rider.user], kind="x", title="") == []
    assert not Notification.objects.exists()


def test_channels_wait_for_the_commit_and_a_rollback_sends_nothing(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            notify(recipients=[world.rider.user], kind="x", title="不会发出")
            transaction.set_rollback(True)
    assert callbacks == [] and SENT == []
    assert not Notification.objects.exists() and not Delivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[world.rider.user], kind="x", title="提交后发出")
        assert SENT == [] and not Delivery.objects.exists()  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(SENT) == 1 and Delivery.objects.get().status == "sent"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_real_commit_the_channel_runs_after_it():
    from tests.world import build_world

    world = build_world()
    with transaction.atomic():
        notify(recipients=[world.rider.user], kind="x", title="真提交")
        assert SENT == []
    assert len(SENT) == 1
    assert Delivery.objects.get().status == "sent"


def test_a_failing_channel_is_recorded_and_the_others_still_send(
    world, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_CHANNELS = [f"{HERE}.Broken", f"{HERE}.Recording"]
    with django_capture_on_commit_callbacks(execute=True):
        (made,) = notify(recipients=[world.rider.user], kind="x", title="短信失败")
    failed = Delivery.objects.get(channel="broken")
    assert (failed.status, failed.error) == ("failed", "gateway timed out after 5 s")
    assert Delivery.objects.get(channel="recording").status == "sent"
    assert SENT == [("recording", made.pk)]


def test_even_a_crash_in_delivery_does_not_break_the_request(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    """The delivery runs after the commit; were it to crash (the database gone away while it
    records attempts), the request that made the news has still succeeded."""

    def crash(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Delivery.objects, "bulk_create", crash)
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[world.rider.user], kind="x", title="照常")
    assert Notification.objects.count() == 1 and len(SENT) == 1


def test_channels_that_cannot_be_loaded_leave_the_inbox_working(
    world, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_CHANNELS = ["yizhan.notifications.channels.NoSuchChannel"]
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[world.rider.user], kind="x", title="仍在收件箱")
    assert Notification.objects.count() == 1 and not Delivery.objects.exists()


def test_an_urgent_only_channel_gets_only_urgent_messages(
    world, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_CHANNELS = [f"{HERE}.SmsOnlyUrgent", f"{HERE}.Recording"]
    with django_capture_on_commit_callbacks(execute=True):
        (plain,) = notify(recipients=[world.rider.user], kind="x", title="普通")
        (urgent,) = notify(recipients=[world.rider.user], kind="x", title="紧急", urgent=True)
    assert sorted(SENT) == sorted(
        [("recording", plain.pk), ("recording", urgent.pk), ("sms", urgent.pk)]
    )


def test_the_console_channel_logs(world, settings, caplog):
    settings.NOTIFICATION_CHANNELS = ["yizhan.notifications.channels.ConsoleChannel"]
    assert [type(c) for c in channels()] == [ConsoleChannel]
    (made,) = notify(recipients=[world.rider.user], kind="report_status", title="已受理")
    with caplog.at_level("INFO", logger="yizhan.notifications"):
        deliver([made.pk])
    assert "已受理" in caplog.text
    assert Delivery.objects.get().channel == "console"


# --- reading ------------------------------------------------------------------------------------


def test_only_the_owner_reads_a_message(world):
    rider, other = world.rider.user, world.other_rider.user
    (message,) = notify(recipients=[rider], kind="x", title="给你的")
    notify(recipients=[other], kind="x", title="给别人的")
    assert [n.title for n in sel.inbox(rider)] == ["给你的"]
    assert sel.unread_count(rider) == 1
    for stranger in (other, world.community_staff, world.street_admin):
        with pytest.raises(Forbidden):
            notification_read(notification=message, user=stranger)
        with pytest.raises(NotFound):
            get_for_user(Notification, stranger, pk=message.pk)
    message.refresh_from_db()
    assert message.read_at is None
    read = notification_read(notification=message, user=rider)
    first_read = read.read_at
    assert first_read is not None
    assert notification_read(notification=message, user=rider).read_at == first_read
    assert sel.unread_count(rider) == 0
    assert list(sel.inbox(rider, unread_only=True)) == []


def test_read_all_marks_only_ones_own(world):
    rider, other = world.rider.user, world.other_rider.user
    for i in range(3):
        notify(recipients=[rider, other], kind="x", title=f"第{i}条")
    assert notifications_read_all(user=rider) == 3
    assert notifications_read_all(user=rider) == 0
    assert sel.unread_count(other) == 3
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ApplicationError) as caught:
        notifications_read_all(user=AnonymousUser())
    assert caught.value.status == 401
    assert sel.unread_count(AnonymousUser()) == 0
    assert list(sel.inbox(AnonymousUser())) == []
