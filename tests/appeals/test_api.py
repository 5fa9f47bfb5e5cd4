"""The appeals API: the whole way through, refusals as {code, message, detail}, anonymity,
query counts that do not grow with the page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.helpers import call, client_for
from tests.appeals.builders import raise_appeal
from yizhan.appeals import services
from yizhan.appeals.models import Appeal, Decision, Meeting

pytestmark = pytest.mark.django_db
KEY = {"Idempotency-Key": "api-appeal-0001"}


def test_raise_route_answer_rate(world, body):
    rider = client_for(world.rider.user)
    body_in = {"difficulty": "rights", "topic": "injury", "text": "送餐摔伤", "anonymous": True}
    made = call(rider, "POST", "/api/v1/appeals", body_in, headers=KEY)
    assert made.status_code == 201, made.content
    again = call(rider, "POST", "/api/v1/appeals", body_in, headers=KEY)
    assert again.json()["id"] == made.json()["id"] and Appeal.objects.count() == 1
    pk = made.json()["id"]
    assert made.json()["rider"] == "王小明"

    staff = client_for(world.community_staff)
    listed = call(staff, "GET", "/api/v1/appeals?difficulty=rights").json()
    assert listed["count"] == 1 and listed["items"][0]["rider"] != "王小明"
    bodies = call(staff, "GET", f"/api/v1/appeals/{pk}/bodies").json()
    assert [b["name"] for b in bodies["items"]] == ["工会"]

    out = call(
        staff, "POST", f"/api/v1/appeals/{pk}/route", {"body_id": body["court"].pk, "days": 3}
    )
    assert out.status_code == 400 and out.json()["code"] == "body_out_of_scope"
    out = call(staff, "POST", f"/api/v1/appeals/{pk}/route", {"body_id": body["union"].pk})
    assert out.status_code == 200 and out.json()["status"] == "routed"

    handler = client_for(body["handler"])
    seen = call(handler, "GET", f"/api/v1/appeals/{pk}").json()
    assert seen["rider"] == "王小明"  # the body handling it sees the name
    other = client_for(body["court_handler"])
    assert call(other, "POST", f"/api/v1/appeals/{pk}/answer", {"text": "x"}).status_code == 404
    out = call(handler, "POST", f"/api/v1/appeals/{pk}/answer", {"text": "已联系工伤认定"})
    assert out.status_code == 200 and out.json()["answer"] == "已联系工伤认定"

    out = call(rider, "POST", f"/api/v1/appeals/{pk}/rate", {"stars": 7})
    assert out.status_code == 400
    out = call(rider, "POST", f"/api/v1/appeals/{pk}/rate", {"stars": 2, "comment": "太慢"})
    assert out.json()["status"] == "reopened"
    out = call(rider, "POST", f"/api/v1/appeals/{pk}/rate", {"stars": 5})
    assert out.status_code == 409 and out.json()["code"] == "already_rated"
    out = call(
        staff, "POST", f"/api/v1/appeals/{pk}/deliveries", {"kind": "rights", "note": "援助"}
    )
    assert out.status_code == 201 and out.json()["kind_label"]
    detail = call(rider, "GET", f"/api/v1/appeals/{pk}").json()
    assert [e["action"] for e in detail["events"]] == [
        "raised", "routed", "answered", "rated", "delivered",
    ]  # fmt: skip
    assert len(detail["deliveries"]) == 1


def test_bad_input_is_a_clear_4xx(world):
    rider = client_for(world.rider.user)
    no_key = call(
        rider, "POST", "/api/v1/appeals", {"difficulty": "x", "topic": "pay", "text": "a"}
    )
    assert no_key.status_code == 400
    empty = call(
        rider, "POST", "/api/v1/appeals",
        {"difficulty": "rights", "topic": "pay", "text": " "}, headers=KEY,
    )  # fmt: skip
    assert empty.status_code == 400 and empty.json()["detail"] == {"field": "text"}
    long = call(
        rider, "POST", "/api/v1/appeals",
        {"difficulty": "rights", "topic": "pay", "text": "长" * 1001}, headers=KEY,
    )  # fmt: skip
    assert long.status_code == 400 and long.json()["code"] == "too_long"
    staff = client_for(world.community_staff)
    assert call(staff, "GET", "/api/v1/appeals?status=lost").status_code == 400
    assert call(staff, "GET", "/api/v1/meetings/decisions?status=x").status_code == 400
    assert Appeal.objects.count() == 0


def test_meetings_agenda_decisions_follow_up(world, made):
    staff = client_for(world.community_staff)
    out = call(
        staff, "POST", "/api/v1/meetings",
        {"title": "二次会议", "held_on": str(timezone.localdate()), "place": "驿站",
         "area": world.community_a1.code, "body_ids": [made["union"].pk],
         "rider_ids": [world.rider.user.pk]},
    )  # fmt: skip
    assert out.status_code == 201, out.content
    meeting = out.json()
    assert meeting["bodies"] == [{"id": made["union"].pk, "name": "工会"}]
    mid = meeting["id"]
    out = call(staff, "POST", f"/api/v1/meetings/{mid}/agenda", {"appeal_id": made["a2"].pk})
    assert out.status_code == 400 and out.json()["code"] == "appeal_out_of_scope"
    out = call(staff, "POST", f"/api/v1/meetings/{mid}/agenda", {"appeal_id": made["routed"].pk})
    assert out.status_code == 201 and out.json()["appeal_id"] == made["routed"].pk
    out = call(
        staff, "POST", f"/api/v1/meetings/{mid}/decisions", {"text": "约谈", "due_on": "2099-01-01"}
    )
    assert out.status_code == 400 and out.json()["code"] == "owner_required"
    out = call(
        staff, "POST", f"/api/v1/meetings/{mid}/decisions", {"text": "约谈", "owner_name": "张"}
    )
    assert out.status_code == 400 and out.json()["code"] == "due_required"
    out = call(
        staff, "POST", f"/api/v1/meetings/{mid}/decisions",
        {"text": "约谈", "owner_body_id": made["union"].pk, "due_on": "2099-01-01"},
    )  # fmt: skip
    assert out.status_code == 201 and out.json()["owner"] == "工会"
    out = call(staff, "PUT", f"/api/v1/meetings/{mid}/minutes", {"minutes": ""})
    assert out.status_code == 400
    out = call(staff, "PUT", f"/api/v1/meetings/{mid}/minutes", {"minutes": "纪要"})
    assert out.json()["minutes"] == "纪要" and len(out.json()["agenda"]) == 1
    Decision.objects.filter(pk=made["decision"].pk).update(
        due_on=timezone.localdate() - timedelta(days=1)
    )
    overdue = call(staff, "GET", "/api/v1/meetings/decisions?overdue=true").json()
    assert [d["id"] for d in overdue["items"]] == [made["decision"].pk]
    assert overdue["items"][0]["is_overdue"] is True
    out = call(
        staff, "POST", f"/api/v1/meetings/decisions/{made['decision'].pk}/follow-up",
        {"note": "完成", "done": True},
    )  # fmt: skip
    assert out.json()["status"] == "done"
    assert Meeting.objects.count() == 2


def _count(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_queries_do_not_grow_with_rows(world, body):
    staff = client_for(world.community_staff)
    for n in range(2):
        services.appeal_route(
            appeal=raise_appeal(world.rider.user, text=f"诉求{n}"),
            actor=world.community_staff,
            body=body["union"],
        )
    few = _count(staff, "/api/v1/appeals")
    decisions_few = _count(staff, "/api/v1/meetings/decisions")
    meetings_few = _count(staff, "/api/v1/meetings")
    for n in range(6):
        appeal = raise_appeal(world.rider.user, text=f"更多{n}", anonymous=n % 2 == 0)
        services.appeal_route(appeal=appeal, actor=world.community_staff, body=body["union"])
        meeting = services.meeting_create(
            actor=world.community_staff, area=world.community_a1, title=f"会{n}",
            held_on=timezone.localdate(), place="驿站",
        )  # fmt: skip
        services.decision_add(
            meeting=meeting, actor=world.community_staff, text="事", owner_name="张",
            due_on=timezone.localdate(),
        )  # fmt: skip
    assert _count(staff, "/api/v1/appeals") == few
    assert _count(staff, "/api/v1/meetings/decisions") == decisions_few
    assert _count(staff, "/api/v1/meetings") == meetings_few
