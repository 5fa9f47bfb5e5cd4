"""The inbox as people use it: everyone signed in reads their messages (unread first, then the
newest), follows a message's link, marks one read (htmx answers the message drawn again and the
new count for the top bar) or all of them; the top bar shows the unread count on every page.
Someone else's message is not found, and nothing changes. The list's query count does not grow
with the messages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import client_for as any_client_for
from yizhan.notifications.models import Notification
from yizhan.notifications.services import notification_read, notify


def client_for(user):
    client = any_client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def html_of(response) -> str:
    return response.content.decode()


def titles(html: str) -> list[str]:
    heading = (
        r'data-testid="notification">\s*<h2>(?:<span[^>]*>[^<]*</span> )?(?:<a [^>]*>)?([^<]+)'
    )
    return [title.strip() for title in re.findall(heading, html)]


def badge(html: str) -> str | None:
    """The unread count in the top bar ('' when hidden, None when there is no inbox link)."""
    found = re.search(r'<span id="inbox-count" class="badge"( hidden)?>(\d+)', html)
    if found is None:
        return None
    return "" if found.group(1) else found.group(2)


@pytest.fixture
def inbox(world):
    """Three messages for the rider (the middle one read, the last urgent), one for the other
    rider."""
    user = world.rider.user
    made = []
    for title, url, urgent in (
        ("Your report #1 was accepted", "/reports/1/", False),
        ("Your report #1 is with 城管队", "/reports/1/", False),
        ("Help is on the way for #2", "", True),
    ):
        made += notify(recipients=[user], kind="report_status", title=title, url=url, urgent=urgent)
    notification_read(notification=made[1], user=user)
    notify(recipients=[world.other_rider.user], kind="report_status", title="Not yours")
    world.messages = made
    return world


def test_the_inbox_lists_unread_first_then_the_newest(inbox):
    response = client_for(inbox.rider.user).get(reverse("notifications:inbox"))
    assert response.status_code == 200
    html = html_of(response)
    assert titles(html) == [
        "Help is on the way for #2",
        "Your report #1 was accepted",
        "Your report #1 is with 城管队",
    ]
    assert "Not yours" not in html
    assert 'data-testid="unread">2 unread messages' in html
    assert badge(html) == "2"
    first = html.split('data-testid="notification"')[1]
    assert 'class="chip urgent">Urgent' in first and "Mark read" in first
    assert '<a href="/reports/1/">Your report #1 was accepted</a>' in html
    read = html.split('data-testid="notification"')[3]
    assert "Mark read" not in read and "· read" in read


def test_mark_one_read_with_htmx_and_without(inbox):
    client = client_for(inbox.rider.user)
    urgent, first = inbox.messages[2], inbox.messages[0]
    response = client.post(
        reverse("notifications:read", args=[urgent.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = html_of(response)
    assert f'<li id="n-{urgent.pk}"' in html and "Mark read" not in html
    assert 'hx-swap-oob="true">1<' in html  # the top bar's new count
    urgent.refresh_from_db()
    assert urgent.read_at is not None
    plain = client.post(
        reverse("notifications:read", args=[first.pk]),
        HTTP_REFERER="http://testserver/inbox/?page=1",
    )
    assert plain.status_code == 302 and plain["Location"] == "/inbox/?page=1"
    assert (
        Notification.objects.filter(recipient=inbox.rider.user, read_at__isnull=True).count() == 0
    )
    again = client.post(reverse("notifications:read", args=[first.pk]))  # already read: fine
    assert again.status_code == 302
    page = html_of(client.get(reverse("notifications:inbox")))
    assert badge(page) == "" and 'data-testid="unread">0 unread messages' in page


def test_mark_all_read(inbox):
    client = client_for(inbox.rider.user)
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:inbox")
    assert not Notification.objects.filter(recipient=inbox.rider.user, read_at__isnull=True)
    assert Notification.objects.get(recipient=inbox.other_rider.user).read_at is None
    assert "Mark all read" not in html_of(client.get(reverse("notifications:inbox")))


def test_someone_elses_message_is_not_found_and_stays_unread(inbox):
    theirs = Notification.objects.get(recipient=inbox.other_rider.user)
    for who in (inbox.rider.user, inbox.community_staff):
        response = client_for(who).post(reverse("notifications:read", args=[theirs.pk]))
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client_for(None).post(reverse("notifications:read", args=[theirs.pk])).status_code == 302
    assert (
        client_for(inbox.rider.user)
        .get(reverse("notifications:read", args=[theirs.pk]))
        .status_code
        == 405
    )


@pytest.mark.parametrize(
    "who", ["rider", "merchant", "community_staff", "street_admin", "district_admin"]
)
def test_everyone_signed_in_has_an_inbox_and_the_count_in_the_top_bar(inbox, who):
    user = inbox.account(who)
    notify(recipients=[user], kind="test", title="Hello")
    expected = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    html = html_of(client_for(user).get(reverse("notifications:inbox")))
    assert "Hello" in html
    assert badge(html) == str(expected)
    assert badge(html_of(client_for(user).get(reverse("home")))) == str(expected)


def test_visitors_are_sent_to_log_in(world):
    response = client_for(None).get(reverse("notifications:inbox"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert badge(html_of(client_for(None).get(reverse("home")))) is None


def test_the_inbox_query_count_does_not_grow_with_messages(inbox):
    client = client_for(inbox.rider.user)
    url = reverse("notifications:inbox")

    def count() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for i in range(25):
        notify(recipients=[inbox.rider.user], kind="test", title=f"Message {i}")
    assert count() == few
