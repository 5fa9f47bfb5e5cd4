"""Honours API: titles, the nomination screen, nominations and decisions, the honour roll."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import call, client_for
from tests.honours.builders import award, knight, nominate, second_a1_rider
from tests.world import make_rider
from yizhan.honours import services
from yizhan.honours.models import Nomination

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_title_and_anyone_lists_it(world):
    admin = client_for(world.street_admin)
    made = call(
        admin, "POST", "/api/v1/honours/titles",
        {"street": world.street_a.code, "name": "清远骑士", "quota": 15, "year": 2026},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["period"], body["starts_on"], body["quota"], body["taken"]) == (
        "2026", "2026-01-01", 15, 0,
    )  # fmt: skip
    listed = call(client_for(None), "GET", f"/api/v1/honours/titles?street={world.street_a.code}")
    assert [t["name"] for t in listed.json()["items"]] == ["清远骑士"]


@pytest.mark.parametrize(
    "body, status",
    [
        ({"quota": 0, "year": 2026}, 400),
        ({"quota": 3}, 400),
        ({"quota": 3, "year": 2026, "street": "440000001001"}, 400),
        ({"quota": 3, "year": 2026, "street": "999"}, 400),
        ({"quota": "many", "year": 2026}, 422),
        ({"quota": 3, "starts_on": "2026-05-01", "ends_on": "2026-04-01"}, 400),
    ],
)
def test_bad_titles_are_refused_with_a_message(world, body, status):
    payload = {"street": world.street_a.code, "name": "清远骑士", **body}
    response = call(client_for(world.street_admin), "POST", "/api/v1/honours/titles", payload)
    assert response.status_code == status
    assert response.json()["message"]


def test_the_nomination_screen_shows_the_record_and_keeps_its_queries(world):
    title = knight(world, quota=10)
    award(world, world.rider.user, 18, "honours-api-award")
    staff = client_for(world.community_staff)
    url = f"/api/v1/honours/titles/{title.pk}/candidates"
    first = call(staff, "GET", url).json()
    assert first["items"][0]["name"] == "王小明"
    assert first["items"][0]["record"] == {"points": 18, "reports": 0}
    assert first["items"][0]["nomination_status"] is None
    assert world.pending_rider.pk not in [i["rider_id"] for i in first["items"]]
    with CaptureQueriesContext(connection) as few:
        call(staff, "GET", url)
    for n in range(6):
        rider = second_a1_rider(world, f"1360000020{n}", f"骑手{n}")
        nominate(world, title, rider)
    with CaptureQueriesContext(connection) as many:
        body = call(staff, "GET", url).json()
    assert body["count"] == 7
    assert len(many) == len(few)
    other = call(client_for(world.other_community_staff), "GET", url).json()
    assert [i["rider_id"] for i in other["items"]] == [world.other_rider.pk]  # A2's only


def test_nominate_approve_and_the_roll(world):
    title = knight(world, quota=1)
    staff, admin = client_for(world.community_staff), client_for(world.street_admin)
    made = call(
        staff, "POST", "/api/v1/honours/nominations",
        {"title_id": title.pk, "rider_id": world.rider.pk, "reason": "巡查隐患"},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    nomination_id = made.json()["id"]
    again = call(
        staff, "POST", "/api/v1/honours/nominations",
        {"title_id": title.pk, "rider_id": world.rider.pk, "reason": "再次"},
    )  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "already_nominated"
    extra = second_a1_rider(world)
    full = call(
        staff, "POST", "/api/v1/honours/nominations",
        {"title_id": title.pk, "rider_id": extra.pk, "reason": "救助"},
    )  # fmt: skip
    assert full.status_code == 409 and full.json()["code"] == "quota_full"
    pending = call(admin, "GET", "/api/v1/honours/nominations?pending_mine=true").json()
    assert [n["id"] for n in pending["items"]] == [nomination_id]
    # The rider sees no pending nomination, only honours.
    rider = client_for(world.rider.user)
    assert call(rider, "GET", "/api/v1/honours/nominations").json()["count"] == 0
    done = call(admin, "POST", f"/api/v1/honours/nominations/{nomination_id}/approve")
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert call(rider, "GET", "/api/v1/honours/nominations").json()["count"] == 1
    roll = call(client_for(None), "GET", "/api/v1/honours/roll").json()
    assert roll["items"] == [
        {
            "title_id": title.pk,
            "title": "清远骑士",
            "period": title.period,
            "street": {"code": world.street_a.code, "name": world.street_a.name},
            "name": "王**",
            "community": "甲一社区",
        }
    ]
    assert "1381234" not in str(roll)


def test_a_rejection_needs_a_reason(world):
    nomination = nominate(world, knight(world))
    admin = client_for(world.street_admin)
    url = f"/api/v1/honours/nominations/{nomination.pk}/reject"
    assert call(admin, "POST", url, {"reason": " "}).status_code == 400
    assert call(admin, "POST", url, {}).status_code == 422
    done = call(admin, "POST", url, {"reason": "材料不足"})
    assert done.json()["rejection_reason"] == "材料不足"


def test_lists_keep_their_query_count(world):
    title = knight(world, quota=20)
    nominate(world, title)
    anyone, staff = client_for(None), client_for(world.community_staff)
    services.nomination_approve(nomination=Nomination.objects.get(), actor=world.street_admin)
    paths = ["/api/v1/honours/roll", "/api/v1/honours/nominations", "/api/v1/honours/titles"]
    few = {}
    for path in paths:
        with CaptureQueriesContext(connection) as queries:
            assert call(staff if "nominations" in path else anyone, "GET", path).status_code == 200
        few[path] = len(queries)
    for n in range(5):
        rider = make_rider(
            world.community_a1, f"1350000030{n}", f"荣{n}", lat=40.095, lng=113.305,
            verify_by=world.community_staff,
        )  # fmt: skip
        services.nomination_approve(
            nomination=nominate(world, title, rider), actor=world.street_admin
        )
        knight(world, year=2000 + n)
    for path in paths:
        with CaptureQueriesContext(connection) as queries:
            body = call(staff if "nominations" in path else anyone, "GET", path).json()
        assert body["count"] > 1
        assert len(queries) == few[path], path
