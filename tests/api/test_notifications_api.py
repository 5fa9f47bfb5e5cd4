"""Notifications API: my inbox, the unread count, marking read. An inbox is personal: another
person's message is 404, even to staff. Who may call what is also in test_permission_matrix.py."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import call, client_for
from tests.world import report_objects
from yizhan.notifications.models import Notification
from yizhan.notifications.services import notify

INBOX = "/api/v1/notifications"


@pytest.fixture
def made(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return report_objects(world)


def read_flags(user) -> list[tuple[int, bool]]:
    return sorted(
        (pk, read_at is not None)
        for pk, read_at in Notification.objects.filter(recipient=user).values_list("pk", "read_at")
    )


def test_my_inbox_latest_first_with_the_unread_count(world, made):
    user = world.rider.user
    client = client_for(user)
    body = client.get(INBOX).json()
    mine = list(Notification.objects.filter(recipient=user).order_by("-created_at", "-id"))
    assert body["count"] == len(mine) >= 4
    assert [item["id"] for item in body["items"]] == [n.pk for n in mine]
    first = body["items"][0]
    assert first["kind"] == "report_status" and first["read"] is False
    assert first["target_type"] == "reports.report"
    assert first["target_id"] == str(made["closed"].pk)
    assert client.get(f"{INBOX}/unread-count").json() == {"count": len(mine)}


def test_read_one_then_all(world, made):
    user = world.rider.user
    client = client_for(user)
    message = Notification.objects.filter(recipient=user).order_by("id").first()
    total = Notification.objects.filter(recipient=user).count()
    response = client.post(f"{INBOX}/{message.pk}/read")
    assert response.status_code == 200
    assert response.json()["read"] is True and response.json()["read_at"]
    first_read_at = response.json()["read_at"]
    # Again: no change (the first time it was read stays).
    assert client.post(f"{INBOX}/{message.pk}/read").json()["read_at"] == first_read_at
    assert client.get(f"{INBOX}/unread-count").json() == {"count": total - 1}
    unread = client.get(INBOX, {"unread": True}).json()
    assert unread["count"] == total - 1
    assert message.pk not in [item["id"] for item in unread["items"]]
    assert client.post(f"{INBOX}/read-all").json() == {"marked": total - 1}
    assert client.post(f"{INBOX}/read-all").json() == {"marked": 0}
    assert client.get(f"{INBOX}/unread-count").json() == {"count": 0}
    assert client.get(INBOX, {"unread": True}).json()["count"] == 0
    assert all(read for _pk, read in read_flags(user))


def test_nobody_reads_another_persons_inbox(world, made):
    rider = world.rider.user
    message = Notification.objects.filter(recipient=rider).first()
    before = read_flags(rider)
    for who in (world.other_rider.user, world.community_staff, world.street_admin):
        client = client_for(who)
        response = client.post(f"{INBOX}/{message.pk}/read")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert message.pk not in [item["id"] for item in client.get(INBOX).json()["items"]]
        client.post(f"{INBOX}/read-all")  # marks only their own
    assert read_flags(rider) == before
    assert client_for(None).get(INBOX).status_code == 401
    assert client_for(None).get(f"{INBOX}/unread-count").status_code == 401
    assert call(client_for(None), "POST", f"{INBOX}/read-all").status_code == 401
    assert client_for(world.rider.user).post(f"{INBOX}/999999/read").status_code == 404


def test_the_handler_is_told_of_new_cases(world, made):
    body = client_for(made["handler"]).get(INBOX, {"page_size": 50}).json()
    kinds = {item["kind"] for item in body["items"]}
    assert kinds == {"report_dispatched"}
    assert body["count"] == 4  # four cases were sent to 城管队


def test_inbox_query_count_does_not_grow_with_the_page_size(world):
    user = world.rider.user
    for i in range(35):
        notify(recipients=[user], kind="test", title=f"消息 {i}", body="内容")
    client = client_for(user)
    client.get(f"{INBOX}?page_size=1")  # warm the session
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"{INBOX}?page_size={size}").json()
        counts.append(len(queries))
        assert len(body["items"]) == min(size, 35)
    assert counts[0] == counts[1]
