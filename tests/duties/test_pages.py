"""The duties pages: the rider logs and follows duties, staff verify, households confirm."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import client_for
from tests.duties.builders import code_for, gift, hold, patrol, rules
from yizhan.duties.models import Duty
from yizhan.points.selectors import balance_of

pytestmark = pytest.mark.django_db


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _body(world, **kw):
    end = timezone.now() - timedelta(hours=1)
    body = {
        "post": world.post.pk,
        "kind": "patrol",
        "started_at": _local(end - timedelta(hours=2)),
        "ended_at": _local(end),
        "place": "东门",
        "idempotency_key": "page-key-0000001",
    }
    body.update(kw)
    return body


def test_rider_logs_a_duty(world):
    hold(world, world.post)
    client = client_for(world.rider.user)
    assert client.get(reverse("duties:log")).status_code == 200
    response = client.post(reverse("duties:log"), _body(world))
    assert response.status_code == 302
    duty = Duty.objects.get()
    assert response["Location"] == reverse("duties:detail", args=[duty.pk])
    page = client.get(reverse("duties:mine"))
    assert page.status_code == 200 and f"#{duty.pk}".encode() in page.content


def test_log_errors_are_shown(world):
    hold(world, world.post)
    client = client_for(world.rider.user)
    end = timezone.now() - timedelta(hours=1)
    response = client.post(
        reverse("duties:log"),
        _body(world, started_at=_local(end), ended_at=_local(end - timedelta(hours=1))),
    )
    assert response.status_code == 400
    assert (
        "The end must be after the start." in response.content.decode()
        or response.context["form"].errors
    )
    too_long = client.post(
        reverse("duties:log"),
        _body(world, started_at=_local(end - timedelta(hours=13)), ended_at=_local(end)),
    )
    assert too_long.status_code == 400
    assert Duty.objects.count() == 0


def test_duplicate_is_409_on_the_form(world):
    duty = patrol(world)
    client = client_for(world.rider.user)
    response = client.post(
        reverse("duties:log"),
        _body(world, started_at=_local(duty.started_at), ended_at=_local(duty.ended_at)),
    )
    assert response.status_code == 409 and Duty.objects.count() == 1


def test_staff_verify_and_reject(world):
    rules(world, hour=5)
    first = patrol(world, hours_ago=6, minutes=60)
    second = patrol(world, hours_ago=2, minutes=60)
    staff = client_for(world.community_staff)
    queue = staff.get(reverse("duties:queue"))
    assert queue.status_code == 200 and f"#{first.pk}".encode() in queue.content
    assert staff.get(reverse("duties:review", args=[first.pk])).status_code == 200
    assert staff.post(reverse("duties:verify", args=[first.pk])).status_code == 302
    assert staff.post(reverse("duties:verify", args=[first.pk])).status_code == 409
    assert balance_of(world.rider.user) == 5
    assert staff.post(reverse("duties:reject", args=[second.pk]), {"reason": ""}).status_code == 400
    assert (
        staff.post(reverse("duties:reject", args=[second.pk]), {"reason": "不对"}).status_code
        == 302
    )
    second.refresh_from_db()
    assert second.status == "rejected"


def test_household_confirms_on_the_page(world):
    rules(world, gift=6)
    duty = gift(world)
    staff = client_for(world.community_staff)
    issued = staff.post(
        reverse("duties:gift_codes"),
        {"community": world.community_a1.pk, "household": "王奶奶"},
        follow=True,
    )
    assert issued.status_code == 200
    text = [str(m) for m in issued.context["messages"]][0]
    digits = re.search(r"(?<!\d)\d{6}(?!\d)", text).group(0)
    anonymous = client_for(None)
    assert anonymous.get(reverse("duties:confirm")).status_code == 200
    bad = anonymous.post(reverse("duties:confirm"), {"duty": duty.pk, "code": "123"})
    assert bad.status_code == 400
    ok = anonymous.post(reverse("duties:confirm"), {"duty": duty.pk, "code": digits})
    assert ok.status_code == 200 and ok.context["done"].pk == duty.pk
    assert balance_of(world.rider.user) == 6
    again = anonymous.post(reverse("duties:confirm"), {"duty": duty.pk, "code": digits})
    assert again.status_code == 400


def test_queue_query_count_does_not_grow(world):
    staff = client_for(world.community_staff)
    patrol(world, hours_ago=2, minutes=60)
    code_for(world)

    def count(name):
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(reverse(name)).status_code == 200
        return len(ctx)

    few = count("duties:queue"), count("duties:gift_codes")
    for i in range(4):
        patrol(world, hours_ago=4 + i * 2, minutes=60)
        code_for(world, household=f"户{i}")
    assert (count("duties:queue"), count("duties:gift_codes")) == few
