"""The duties API: logging (multipart, idempotent), lists, decisions, codes, confirmation."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.helpers import call, client_for
from tests.duties.builders import code_for, gift, hold, patrol, rules
from tests.world import report_jpeg
from yizhan.duties.models import Duty
from yizhan.points.selectors import balance_of

pytestmark = pytest.mark.django_db
D = "/api/v1/duties"


def _form(world, **kw):
    end = timezone.localtime() - timedelta(hours=1)
    data = {
        "post_id": world.post.pk,
        "kind": "patrol",
        "started_at": (end - timedelta(hours=2)).isoformat(),
        "ended_at": end.isoformat(),
        "place": "东门",
    }
    data.update(kw)
    return data


def test_log_and_repeat(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    hold(world, world.post)
    client = client_for(world.rider.user)
    headers = {"Idempotency-Key": "api-key-000001"}
    data = _form(world)
    first = client.post(D, data={**data, "photo": report_jpeg(2)}, headers=headers)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "pending" and body["minutes"] == 120 and body["photo_url"]
    again = client.post(D, data={**data, "photo": report_jpeg(2)}, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    dup = client.post(D, data=data, headers={"Idempotency-Key": "api-key-000002"})
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_duty"
    assert Duty.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"ended_at": "2020-01-01T00:00:00+08:00"}, 400, "end_before_start"),
        ({"place": ""}, 400, "required"),
        ({"kind": "dance"}, 400, "invalid"),
        ({"post_id": 999999}, 400, "invalid"),
    ],
)
def test_log_bad_input(world, change, status, code):
    hold(world, world.post)
    response = client_for(world.rider.user).post(
        D, data=_form(world, **change), headers={"Idempotency-Key": "api-key-000003"}
    )
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert Duty.objects.count() == 0


def test_log_without_key(world):
    hold(world, world.post)
    response = client_for(world.rider.user).post(D, data=_form(world))
    assert response.status_code == 400 and Duty.objects.count() == 0


def test_verify_twice_pays_once(world):
    rules(world, hour=5)
    duty = patrol(world, minutes=60)
    staff = client_for(world.community_staff)
    ok = call(staff, "POST", f"{D}/{duty.pk}/verify")
    assert ok.status_code == 200 and ok.json()["points"] == 5
    again = call(client_for(world.street_admin), "POST", f"{D}/{duty.pk}/verify")
    assert again.status_code == 409
    assert balance_of(world.rider.user) == 5


def test_reject_needs_reason(world):
    duty = patrol(world)
    staff = client_for(world.community_staff)
    assert call(staff, "POST", f"{D}/{duty.pk}/reject", {"reason": "  "}).status_code == 400
    done = call(staff, "POST", f"{D}/{duty.pk}/reject", {"reason": "不对"})
    assert done.status_code == 200 and done.json()["status"] == "rejected"


def test_code_issue_and_confirm(world):
    rules(world, gift=6)
    duty = gift(world)
    issued = call(
        client_for(world.community_staff),
        "POST",
        f"{D}/gift-codes",
        {"community": world.community_a1.code, "household": "王奶奶"},
    )
    assert issued.status_code == 201
    digits = issued.json()["code"]
    listed = call(client_for(world.community_staff), "GET", f"{D}/gift-codes").json()
    assert listed["count"] == 1 and listed["items"][0]["code"] is None
    anonymous = client_for(None)
    wrong = call(anonymous, "POST", f"{D}/confirm", {"duty": duty.pk, "code": "00000a"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_code"
    ok = call(anonymous, "POST", f"{D}/confirm", {"duty": duty.pk, "code": digits})
    assert ok.status_code == 200 and ok.json()["status"] == "verified"
    used = call(anonymous, "POST", f"{D}/confirm", {"duty": duty.pk, "code": digits})
    assert used.status_code == 400
    assert balance_of(world.rider.user) == 6


def test_lists_are_scoped(world):
    duty = patrol(world)
    other = call(client_for(world.other_community_staff), "GET", D).json()
    assert other["count"] == 0
    mine = call(client_for(world.rider.user), "GET", D).json()
    assert [d["id"] for d in mine["items"]] == [duty.pk]
    assert call(client_for(world.other_rider.user), "GET", D).json()["count"] == 0


def test_list_query_count_does_not_grow(world):
    hold(world, world.post)
    code_for(world)
    staff = client_for(world.community_staff)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert call(staff, "GET", f"{D}?page_size=100").status_code == 200
        return len(ctx)

    patrol(world, hours_ago=2, minutes=60)
    few = count()
    for i in range(5):
        patrol(world, hours_ago=4 + i * 2, minutes=60)
    assert count() == few
