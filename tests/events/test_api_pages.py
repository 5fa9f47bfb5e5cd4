"""The events API and pages: answers, refusals with a clear 4xx, and list query counts that do
not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import call, client_for
from tests.events.builders import attendance_rule, make_event, make_handout, new_rider
from yizhan.events import services
from yizhan.events.models import DistributionItem, Receipt, Signup

pytestmark = pytest.mark.django_db


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx)


@pytest.mark.parametrize(
    "who, url",
    [
        ("rider", "/api/v1/events"),
        ("community_staff", "/api/v1/events"),
        ("rider", "/api/v1/events/mine"),
        ("rider", "/events/"),
        ("rider", "/events/mine/"),
        ("community_staff", "/console/events/"),
    ],
)
def test_event_lists_do_not_grow_queries_with_rows(world, who, url):
    client = client_for(world.account(who))
    event = make_event(world, capacity=50)
    services.signup_create(event=event, user=world.rider.user)
    few = queries(client, url)
    for _ in range(4):
        services.signup_create(event=make_event(world), user=world.rider.user)
    assert queries(client, url) == few


def test_signups_and_receipts_lists_do_not_grow_queries(world):
    client = client_for(world.community_staff)
    event = make_event(world, capacity=50)
    handout = make_handout(world, items=[("夏凉被", 50)])
    item = handout.items.get()

    def grow(n):
        for _ in range(n):
            rider = new_rider(world)
            services.signup_create(event=event, user=rider)
            services.receipt_record(
                distribution=handout, rider=rider, items={item.pk: 1}, actor=world.community_staff
            )

    grow(1)
    urls = [f"/api/v1/events/{event.pk}/signups", f"/api/v1/handouts/{handout.pk}/receipts",
            f"/console/events/{event.pk}/", f"/console/events/handouts/{handout.pk}/",
            "/api/v1/handouts", "/console/events/handouts/"]  # fmt: skip
    before = [queries(client, u) for u in urls]
    grow(3)
    assert [queries(client, u) for u in urls] == before


def test_api_sign_up_wait_cancel_and_promote(world):
    event = make_event(world, capacity=1)
    rider, other = client_for(world.rider.user), client_for(world.other_rider.user)
    first = call(rider, "POST", f"/api/v1/events/{event.pk}/signup")
    assert first.status_code == 201 and first.json()["status"] == "confirmed"
    assert first.json()["code"] and first.json()["qr_payload"].startswith("YZE-")
    second = call(other, "POST", f"/api/v1/events/{event.pk}/signup")
    assert second.json()["status"] == "waiting"
    again = call(rider, "POST", f"/api/v1/events/{event.pk}/signup")
    assert again.status_code == 409 and again.json()["code"] == "already_signed_up"
    assert call(rider, "POST", f"/api/v1/events/{event.pk}/cancel").json()["status"] == "cancelled"
    listed = call(other, "GET", "/api/v1/events/mine").json()
    assert listed["items"][0]["status"] == "confirmed"


def test_api_check_in_by_qr_is_idempotent(world):
    attendance_rule(world, 10)
    event = make_event(world)
    client = client_for(world.rider.user)
    call(client, "POST", f"/api/v1/events/{event.pk}/signup")
    qr = call(client_for(world.community_staff), "GET", f"/api/v1/events/{event.pk}/qr").json()
    assert qr["url"].endswith(f"/events/{event.pk}/checkin/{qr['token']}/")
    body = {"token": qr["token"]}
    first = call(client, "POST", f"/api/v1/events/{event.pk}/checkin", body).json()
    second = call(client, "POST", f"/api/v1/events/{event.pk}/checkin", body).json()
    assert (first["already"], second["already"]) == (False, True)
    assert first["points_status"] == second["points_status"] == "paid"
    bad = call(client, "POST", f"/api/v1/events/{event.pk}/checkin", {"token": "old"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_qr"


def test_api_capacity_below_signups_is_a_409(world):
    event = make_event(world, capacity=2)
    services.signup_create(event=event, user=world.rider.user)
    services.signup_create(event=event, user=world.other_rider.user)
    staff = client_for(world.community_staff)
    response = call(staff, "PATCH", f"/api/v1/events/{event.pk}", {"capacity": 1})
    assert response.status_code == 409 and response.json()["code"] == "capacity_below_signups"
    assert call(staff, "PATCH", f"/api/v1/events/{event.pk}", {"title": None}).status_code in (
        400,
        422,
    )


def test_api_handout_receipts_totals_and_refusals(world):
    staff = client_for(world.community_staff)
    made = call(staff, "POST", "/api/v1/handouts", {
        "area": world.community_a1.code, "name": "夏送清凉",
        "items": [{"name": "夏凉被", "stock": 1}, {"name": "冰袖", "stock": 5}],
    })  # fmt: skip
    assert made.status_code == 201
    handout = made.json()
    quilt = next(i["id"] for i in handout["items"] if i["name"] == "夏凉被")
    url = f"/api/v1/handouts/{handout['id']}/receipts"
    ok = call(staff, "POST", url, {"phone": "13812341234", "items": {str(quilt): 1}})
    assert ok.status_code == 201 and ok.json()["lines"][0]["quantity"] == 1
    twice = call(staff, "POST", url, {"phone": "13812341234", "items": {str(quilt): 1}})
    assert twice.status_code == 409 and twice.json()["code"] == "already_received"
    empty = call(staff, "POST", url, {"phone": "13812345678", "items": {str(quilt): 1}})
    assert empty.status_code == 409 and empty.json()["code"] == "out_of_stock"
    nobody = call(staff, "POST", url, {"phone": "13111111111", "items": {str(quilt): 1}})
    assert nobody.status_code == 404
    detail = call(staff, "GET", f"/api/v1/handouts/{handout['id']}").json()
    assert detail["totals"] == {"items_handed_out": 1, "items_left": 5, "people_served": 1}
    negative = call(staff, "POST", "/api/v1/handouts", {
        "area": world.community_a1.code, "name": "x", "items": [{"name": "y", "stock": -1}],
    })  # fmt: skip
    assert negative.status_code == 400


# --- pages -------------------------------------------------------------------------------------


def test_rider_pages_render_and_sign_up(world):
    event = make_event(world, capacity=1)
    rider = client_for(world.rider.user)
    assert event.title in rider.get(reverse("events:list")).content.decode()
    page = rider.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Sign up" in page or "报名" in page
    assert rider.post(reverse("events:signup", args=[event.pk])).status_code == 302
    page = rider.get(reverse("events:detail", args=[event.pk])).content.decode()
    code = Signup.objects.get(event=event, user=world.rider.user).code
    assert code in page and "<svg" in page
    again = rider.post(reverse("events:signup", args=[event.pk]))
    assert again.status_code == 409 and b"<h1>" in again.content
    assert rider.get(reverse("events:mine")).status_code == 200


def test_qr_landing_page_checks_in_and_refuses_an_old_code(world):
    event = make_event(world)
    services.signup_create(event=event, user=world.rider.user)
    rider = client_for(world.rider.user)
    token = services.qr_token(event)
    url = reverse("events:check_in", args=[event.pk, token])
    assert rider.get(url).status_code == 200
    done = rider.post(url)
    assert done.status_code == 200
    assert Signup.objects.get(event=event, user=world.rider.user).checked_in_at is not None
    old = reverse("events:check_in", args=[event.pk, services.qr_token(event, 1)])
    assert rider.get(old).status_code == 400


def test_console_create_edit_door_and_errors(world):
    staff = client_for(world.community_staff)
    assert staff.get(reverse("events:create")).status_code == 200
    bad = staff.post(reverse("events:create"), {"organiser": world.community_a1.pk, "title": ""})
    assert bad.status_code == 400
    event = make_event(world, capacity=2)
    services.signup_create(event=event, user=world.rider.user)
    services.signup_create(event=event, user=world.other_rider.user)
    edit = staff.get(reverse("events:edit", args=[event.pk]))
    assert edit.status_code == 200
    form = {"title": event.title, "kind": event.kind, "audience": "riders",
            "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-01T11:00", "capacity": "1",
            "address": "甲一社区活动室", "lat": "40.1", "lng": "113.3"}  # fmt: skip
    refused = staff.post(reverse("events:edit", args=[event.pk]), form)
    assert refused.status_code == 409 and "2" in refused.content.decode()
    door = staff.get(reverse("events:door", args=[event.pk]))
    assert door.status_code == 200 and b"<svg" in door.content
    fragment = staff.get(reverse("events:door", args=[event.pk]), headers={"HX-Request": "true"})
    assert b"<html" not in fragment.content and b"<svg" in fragment.content
    unknown = staff.post(reverse("events:door", args=[event.pk]), {"code": "000000"})
    assert unknown.status_code in (400, 404)
    code = Signup.objects.get(event=event, user=world.rider.user).code
    assert staff.post(reverse("events:door", args=[event.pk]), {"code": code}).status_code == 302


def test_console_handout_pages(world):
    staff = client_for(world.community_staff)
    bad = staff.post(
        reverse("events:handouts"),
        {"area": world.community_a1.pk, "name": "夏送清凉", "items": "夏凉被 fifty"},
    )
    assert bad.status_code == 400
    made = staff.post(
        reverse("events:handouts"),
        {"area": world.community_a1.pk, "name": "夏送清凉", "items": "夏凉被: 1\n小风扇：2"},
    )
    assert made.status_code == 302
    item = DistributionItem.objects.get(name="夏凉被")
    url = reverse("events:receipt", args=[item.distribution_id])
    assert staff.post(url, {"phone": "13812341234", f"item_{item.pk}": "1"}).status_code == 302
    twice = staff.post(url, {"phone": "13812341234", f"item_{item.pk}": "1"})
    assert twice.status_code == 409
    out = staff.post(url, {"phone": "13812345678", f"item_{item.pk}": "1"})
    assert out.status_code == 409 and Receipt.objects.count() == 1
    page = staff.get(reverse("events:handout", args=[item.distribution_id])).content.decode()
    assert "王小明" in page
