"""API flows, bad input (4xx with a readable message, nothing written) and the OpenAPI document."""

import json

import pytest
from django.test import Client

from tests.api.helpers import call, client_for
from tests.world import PASSWORD, make_rider
from yizhan.config.api import api
from yizhan.people.models import RiderProfile, User

REGISTRATION = {
    "name": "新骑手",
    "phone": "13511112222",
    "password": PASSWORD,
    "platform": "jd",
    "occupation": "courier",
    "vehicle": "e_bike",
    "work_lat": 40.095,
    "work_lng": 113.305,
    "consent": True,
}


def register(client, **change):
    return call(client, "POST", "/api/v1/riders/register", {**REGISTRATION, **change})


def test_register_verify_claim_approve_through_the_api(world):
    anonymous = Client()
    response = register(anonymous, community=world.community_a1.code)
    assert response.status_code == 201
    rider_id = response.json()["id"]
    assert response.json()["phone"] == "13511112222"  # the rider sees their own number

    token = call(
        anonymous, "POST", "/api/v1/auth/token", {"username": "13511112222", "password": PASSWORD}
    ).json()["token"]
    rider_client = Client(headers={"authorization": f"Bearer {token}"})
    me = call(rider_client, "GET", "/api/v1/riders/me").json()
    assert me["status"] == "pending"

    staff = client_for(world.community_staff)
    assert call(staff, "POST", f"/api/v1/riders/{rider_id}/verify").status_code == 200
    again = call(staff, "POST", f"/api/v1/riders/{rider_id}/verify")
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"

    claim = call(rider_client, "POST", f"/api/v1/posts/{world.post.pk}/claim", {"note": "我来"})
    assert claim.status_code == 201
    twice = call(rider_client, "POST", f"/api/v1/posts/{world.post.pk}/claim", {"note": ""})
    assert (twice.status_code, twice.json()["code"]) == (409, "already_claimed")
    approved = call(staff, "POST", f"/api/v1/claims/{claim.json()['id']}/approve")
    assert approved.json()["status"] == "approved"
    me = call(rider_client, "GET", "/api/v1/riders/me").json()
    assert me["grid"]["code"] == world.grid_a1_west.code
    assert [p["kind"] for p in me["posts"]] == ["safety"]
    history = call(staff, "GET", f"/api/v1/riders/{rider_id}/history").json()
    assert {h["action"] for h in history["items"]} >= {
        "rider.registered",
        "rider.verified",
        "rider.placed",
    }


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"phone": "1234"}, 400, "invalid_phone"),
        ({"phone": "13812341234"}, 409, "phone_taken"),
        ({"community": "999999999999"}, 400, "unknown_area"),
        ({"community": "440000001"}, 400, "not_a_community"),
        ({"community": "440000001001001"}, 400, "not_a_community"),
        ({"consent": False}, 400, "consent_required"),
        ({"work_lat": "north"}, 422, "invalid"),
        ({"platform": None}, 422, "invalid"),
        ({"name": "名" * 51}, 422, "invalid"),
    ],
)
def test_bad_registrations_get_a_readable_4xx_and_write_nothing(world, change, status, code):
    before = (User.objects.count(), RiderProfile.objects.count())
    response = register(Client(), **{"community": world.community_a1.code, **change})
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["message"] and "Traceback" not in body["message"]
    assert (User.objects.count(), RiderProfile.objects.count()) == before


def test_messages_are_chinese_by_default_and_english_on_request(world):
    zh = register(Client(), community=world.community_a1.code, phone="1")
    en = register(
        Client(headers={"accept-language": "en"}), community=world.community_a1.code, phone="1"
    )
    assert en.json()["message"].startswith("Please enter an 11-digit")
    assert zh.json()["message"] != en.json()["message"]


def test_garbage_bodies_and_ids_never_give_500(world):
    client = client_for(world.community_staff)
    assert client.post(
        "/api/v1/riders/register", data="{not json", content_type="application/json"
    ).status_code in (400, 422)
    assert (
        client.post(
            "/api/v1/riders/register", data=json.dumps([1, 2]), content_type="application/json"
        ).status_code
        == 422
    )
    assert client.get("/api/v1/riders/abc").status_code == 422
    assert client.get("/api/v1/riders/99999999").status_code == 404
    assert client.get("/api/v1/riders?page=0").status_code == 422
    assert client.get("/api/v1/riders?page_size=1000").status_code == 422
    assert client.get("/api/v1/areas/locate?lat=100&lng=1").status_code == 400
    assert client.get("/api/v1/areas/locate?lat=nan&lng=1").status_code in (400, 422)
    assert (
        client.post(
            f"/api/v1/riders/{world.pending_rider.pk}/move",
            data=json.dumps({"grid": world.grid_a1_west.code}),
            content_type="application/json",
        ).status_code
        == 409
    )  # pending riders are not placed


def test_staff_search_by_name_full_phone_and_last_four(world):
    client = client_for(world.community_staff)

    def names(query):
        items = client.get("/api/v1/riders", {"q": query}).json()["items"]
        return sorted(item["name"] for item in items)

    assert names("王小明") == ["王小明"]
    assert names("138-1234-1234") == ["王小明"]
    assert names("1234") == ["王小明"]
    assert names("13812345678") == []  # another community's rider
    pending = client.get("/api/v1/riders", {"status": "pending"}).json()
    assert [r["name"] for r in pending["items"]] == ["赵待审"]


def test_phone_is_masked_for_staff_and_full_for_the_rider(world):
    # The full number reaches staff only through POST /riders/{id}/phone, with a reason, logged
    # (tests/people/test_unmask.py).
    path = f"/api/v1/riders/{world.rider.pk}"
    assert client_for(world.community_staff).get(path).json()["phone"] == "138****1234"
    assert client_for(world.street_admin).get(path).json()["phone"] == "138****1234"
    assert client_for(world.rider.user).get(path).json()["phone"] == "13812341234"


def test_rider_list_query_count_does_not_grow_with_page_size(world, django_assert_num_queries):
    for i in range(25):
        make_rider(
            world.community_a1, f"1350000{i:04d}", f"骑手{i}", lat=40.095, lng=113.305,
            verify_by=world.community_staff,
        )  # fmt: skip
    client = client_for(world.community_staff)
    client.get("/api/v1/riders", {"page_size": 2})  # warm the session
    with django_assert_num_queries(5) as small:
        client.get("/api/v1/riders", {"page_size": 2})
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/api/v1/riders", {"page_size": 25})
    assert len(response.json()["items"]) == 25


def test_revoked_and_unknown_tokens_are_refused(world):
    response = call(
        Client(), "POST", "/api/v1/auth/token", {"username": "staff_a1", "password": "nope"}
    )
    assert response.status_code == 401
    token = call(
        Client(), "POST", "/api/v1/auth/token", {"username": "staff_a1", "password": PASSWORD}
    ).json()
    client = Client(headers={"authorization": f"Bearer {token['token']}"})
    assert client.get("/api/v1/me").json()["role"] == "staff"
    assert client.delete(f"/api/v1/auth/tokens/{token['id']}").status_code == 200
    assert client.get("/api/v1/me").status_code == 401
    assert Client(headers={"authorization": "Bearer yz_nothing"}).get("/api/v1/me").status_code == (
        401
    )


def test_openapi_document_builds_with_summaries_and_errors(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = api.get_openapi_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            declared = {str(code) for code in operation["responses"]}
            assert {"400", "401", "403", "404", "422"} <= declared, f"{method} {path}"
    assert client.get("/api/v1/docs").status_code == 200


def test_no_two_api_schemas_share_a_name():
    """OpenAPI components are keyed by class name: a second schema with the same name silently
    replaces the first in the document. Every schema of every router has its own name (or is the
    very same class, imported)."""
    import importlib
    import inspect

    from ninja import Schema

    seen: dict[str, type] = {}
    for app in ("areas", "people", "points", "rewards", "stations", "reports", "notifications"):
        module = importlib.import_module(f"yizhan.{app}.api")
        for value in vars(module).values():
            if not (inspect.isclass(value) and issubclass(value, Schema) and value is not Schema):
                continue
            if value.__module__ != module.__name__:
                continue  # imported from another router: the same class
            other = seen.setdefault(value.__name__, value)
            assert other is value, f"{value.__name__} in {module.__name__} and {other.__module__}"
