"""Staff see masks; the full number comes through an explicit, reasoned, logged request."""

import pytest
from django.urls import reverse

from tests.api.helpers import call, client_for
from yizhan.core.models import AuditEntry
from yizhan.people import services

REASON = {"reason": "contact", "note": "电话确认岗位安排"}


def unmaskings():
    return list(AuditEntry.objects.filter(action="unmask").values_list("actor_id", "data"))


def api_path(world):
    return f"/api/v1/riders/{world.rider.pk}/phone"


@pytest.mark.parametrize("who", ["community_staff", "street_admin", "district_admin"])
def test_api_unmask_returns_the_number_and_logs_who_whose_why(world, who):
    actor = world.account(who)
    response = call(client_for(actor), "POST", api_path(world), REASON)
    assert response.status_code == 200
    assert response.json() == {"rider_id": world.rider.pk, "phone": "13812341234"}
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action="unmask")
    assert entry.actor_id == actor.pk
    assert (entry.target_type, entry.target_id) == ("people.riderprofile", str(world.rider.pk))
    assert entry.area_code == world.rider.area_code and entry.created_at
    assert entry.data == {
        "field": "phone", "reason": "contact", "note": "电话确认岗位安排",
        "user": world.rider.user_id,
    }  # fmt: skip


@pytest.mark.parametrize(
    "who, status",
    [
        ("anonymous", 401),
        ("other_rider", 404),
        ("merchant", 404),
        ("other_community_staff", 404),
    ],
)
def test_api_unmask_denied_writes_nothing(world, who, status):
    response = call(client_for(world.account(who)), "POST", api_path(world), REASON)
    assert response.status_code == status
    assert "13812341234" not in response.content.decode()
    assert unmaskings() == []


def test_the_rider_own_number_is_not_an_unmasking(world):
    response = call(client_for(world.rider.user), "POST", api_path(world), REASON)
    assert response.status_code == 200 and response.json()["phone"] == "13812341234"
    assert unmaskings() == []


@pytest.mark.parametrize(
    "body, code",
    [
        ({"reason": "because", "note": "x"}, "reason_required"),
        ({"reason": "other", "note": "   "}, "note_required"),
    ],
)
def test_api_unmask_needs_a_reason(world, body, code):
    response = call(client_for(world.community_staff), "POST", api_path(world), body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert "13812341234" not in response.content.decode()
    assert unmaskings() == []


def test_api_unmask_missing_body_is_422(world):
    response = call(client_for(world.community_staff), "POST", api_path(world), {})
    assert response.status_code == 422 and unmaskings() == []


def test_page_shows_mask_and_the_form_then_the_number(world):
    staff = client_for(world.community_staff)
    detail = staff.get(reverse("people:rider_detail", args=[world.rider.pk])).content.decode()
    assert "138****1234" in detail and "13812341234" not in detail
    url = reverse("people:rider_phone", args=[world.rider.pk])
    assert f'hx-post="{url}"' in detail
    fragment = staff.post(url, REASON, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment["Cache-Control"] == "no-store"
    assert 'id="rider-phone"' in fragment.content.decode()
    assert "13812341234" in fragment.content.decode()
    plain = staff.post(url, {"reason": "verify", "note": "核对报到资料"})
    assert plain.status_code == 200 and "13812341234" in plain.content.decode()
    assert sorted(d["reason"] for _a, d in unmaskings()) == ["contact", "verify"]


def test_page_unmask_refusals(world):
    url = reverse("people:rider_phone", args=[world.rider.pk])
    missing = client_for(world.community_staff).post(url, {"reason": "contact"})
    assert missing.status_code == 400 and "13812341234" not in missing.content.decode()
    other = client_for(world.other_community_staff).post(url, REASON)
    assert other.status_code == 404
    rider = client_for(world.rider.user).post(url, REASON)
    assert rider.status_code == 403
    assert client_for(world.community_staff).get(url).status_code == 405
    assert unmaskings() == []


def test_street_admin_sees_the_form_other_staff_do_not_reach_the_page(world):
    detail = reverse("people:rider_detail", args=[world.rider.pk])
    page = client_for(world.street_admin).get(detail).content.decode()
    assert reverse("people:rider_phone", args=[world.rider.pk]) in page
    assert client_for(world.other_community_staff).get(detail).status_code == 404


def test_the_rider_sees_who_looked(world):
    services.rider_phone_unmask(rider=world.rider, actor=world.community_staff, **REASON)
    page = client_for(world.rider.user).get(reverse("people:rider_privacy")).content.decode()
    assert "电话确认岗位安排" in page and world.community_staff.name in page


def test_lists_show_only_masks(world):
    staff = client_for(world.community_staff)
    listed = staff.get("/api/v1/riders").json()
    assert {r["phone"] for r in listed["items"]} <= {
        "138****1234", "137****1111",
    }  # fmt: skip
    page = staff.get(reverse("people:riders")).content.decode()
    assert "13812341234" not in page
