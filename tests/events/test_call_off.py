"""Staff call an event off before it starts: everyone signed up or waiting is told why, and
nobody can sign up, check in or change it afterwards."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import call, client_for
from tests.events.builders import make_event, new_rider
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.core.models import AuditEntry
from yizhan.events import services
from yizhan.events.models import Event, Signup
from yizhan.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _signed_up(world):
    event = make_event(world, capacity=1, starts_in=timedelta(days=2))
    confirmed = services.signup_create(event=event, user=world.rider.user)
    waiting = services.signup_create(event=event, user=new_rider(world))
    return event, confirmed, waiting


def test_calling_off_tells_everyone_signed_up_or_waiting(world):
    event, confirmed, waiting = _signed_up(world)
    services.event_cancel(event=event, reason="暴雨红色预警", actor=world.community_staff)

    event.refresh_from_db()
    assert event.cancelled_at is not None
    assert event.cancel_reason == "暴雨红色预警"
    told = set(
        Notification.objects.filter(kind="event.cancelled").values_list("recipient_id", flat=True)
    )
    assert told == {confirmed.user_id, waiting.user_id}
    # The sign-ups are the record of who meant to come: unchanged.
    assert set(Signup.objects.filter(event=event).values_list("status", flat=True)) == {
        "confirmed",
        "waiting",
    }
    assert AuditEntry.objects.filter(action="event.cancelled").count() == 1


def test_nothing_works_on_an_event_called_off(world):
    event, confirmed, _ = _signed_up(world)
    services.event_cancel(event=event, reason="场地检修", actor=world.community_staff)
    before = list(Signup.objects.values_list("pk", "status", "checked_in_at"))

    with pytest.raises(Conflict) as signup:
        services.signup_create(event=event, user=new_rider(world))
    assert signup.value.code == "event_called_off"
    assert "场地检修" in str(signup.value.message)
    with pytest.raises(Conflict):
        services.event_update(event=event, actor=world.community_staff, capacity=9)
    with pytest.raises(Conflict):
        services.check_in_by_staff(event=event, code=confirmed.code, actor=world.community_staff)
    with pytest.raises(Conflict) as again:
        services.event_cancel(event=event, reason="再次", actor=world.community_staff)
    assert again.value.code == "event_called_off"
    assert list(Signup.objects.values_list("pk", "status", "checked_in_at")) == before
    assert Event.objects.get(pk=event.pk).capacity == 1


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 301])
def test_a_reason_is_required_and_bounded(world, reason):
    event, _, _ = _signed_up(world)
    with pytest.raises(ApplicationError) as exc:
        services.event_cancel(event=event, reason=reason, actor=world.community_staff)
    assert exc.value.field == "reason"
    assert Event.objects.get(pk=event.pk).cancelled_at is None
    assert not Notification.objects.filter(kind="event.cancelled").exists()


def test_an_event_that_has_started_cannot_be_called_off(world):
    event = make_event(world, starts_in=timedelta(minutes=30))
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    event.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        services.event_cancel(event=event, reason="太晚了", actor=world.community_staff)
    assert exc.value.code == "event_started"
    assert Event.objects.get(pk=event.pk).cancelled_at is None


def test_staff_of_another_community_may_not(world):
    event, _, _ = _signed_up(world)
    with pytest.raises(Forbidden):
        services.event_cancel(event=event, reason="无权", actor=world.other_community_staff)
    assert Event.objects.get(pk=event.pk).cancelled_at is None


def test_riders_no_longer_see_it_among_upcoming_but_see_why_on_its_page(world):
    event, _, _ = _signed_up(world)
    rider = client_for(world.rider.user)
    assert event.pk in [e["id"] for e in call(rider, "GET", "/api/v1/events").json()["items"]]

    staff = client_for(world.community_staff)
    response = call(staff, "POST", f"/api/v1/events/{event.pk}/call-off", {"reason": "暴雨预警"})
    assert response.status_code == 200, response.content
    assert response.json()["cancel_reason"] == "暴雨预警"
    assert response.json()["cancelled_at"]

    assert event.pk not in [e["id"] for e in call(rider, "GET", "/api/v1/events").json()["items"]]
    page = rider.get(reverse("events:detail", args=[event.pk]))
    assert page.status_code == 200
    assert "暴雨预警" in page.content.decode()
    assert reverse("events:signup", args=[event.pk]) not in page.content.decode()


def test_the_console_form_shows_a_missing_reason_and_calls_off_with_one(world):
    event, _, _ = _signed_up(world)
    staff = client_for(world.community_staff)
    url = reverse("events:call_off", args=[event.pk])
    empty = staff.post(url, {"reason": ""})
    assert empty.status_code == 400
    assert Event.objects.get(pk=event.pk).cancelled_at is None

    done = staff.post(url, {"reason": "场地检修"})
    assert done.status_code == 302
    assert Event.objects.get(pk=event.pk).cancel_reason == "场地检修"
    shown = staff.get(reverse("events:signups", args=[event.pk])).content.decode()
    assert "场地检修" in shown
    assert url not in shown  # the form is gone
