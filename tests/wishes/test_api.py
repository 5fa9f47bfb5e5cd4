"""The wishes API: posting, the wall, claiming, fulfilling, confirming, points; lists paginated
with a query count that does not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import call, client_for
from tests.wishes import builders as b
from yizhan.points.models import Posting
from yizhan.wishes.models import Wish

pytestmark = pytest.mark.django_db
W = "/api/v1/wishes"


def post(client, data, key="api-key-00001", photo=None):
    body = dict(data)
    if photo is not None:
        body["photo"] = photo
    return client.post(W, data=body, headers={"Idempotency-Key": key} if key else {})


def test_post_a_wish_with_a_photo_and_repeat_it(world):
    client = client_for(world.rider.user)
    first = post(client, {"category": "school_supplies", "text": "一个书包"}, photo=b.jpeg())
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "pending" and body["rider"] == "王小明"
    assert body["photo_url"].startswith("/media/wishes/")
    again = post(client, {"category": "school_supplies", "text": "一个书包"})
    assert again.status_code in (201, 409)
    assert Wish.objects.count() == 1


@pytest.mark.parametrize(
    "data, key, status, field",
    [
        ({"category": "health", "text": ""}, "api-key-00002", 400, "text"),
        ({"category": "health", "text": "长" * 301}, "api-key-00003", 400, "text"),
        ({"category": "toys", "text": "玩具"}, "api-key-00004", 400, "category"),
        ({"category": "health", "text": "药"}, None, 400, "idempotency_key"),
    ],
)
def test_post_refusals(world, data, key, status, field):
    response = post(client_for(world.rider.user), data, key=key)
    assert response.status_code == status
    assert response.json()["detail"] == {"field": field}
    assert Wish.objects.count() == 0


def test_post_beyond_the_open_limit_is_409(world):
    for n in range(3):
        b.post(world, text=f"愿望{n}")
    response = post(client_for(world.rider.user), {"category": "other", "text": "第四"})
    assert response.status_code == 409 and response.json()["code"] == "too_many_open_wishes"


def test_the_wall_hides_who_and_shows_only_public_wishes(world, volunteer):
    b.post(world, text="还在审核")
    b.published(world, text="已发布", photo=b.jpeg())
    b.claimed(world, volunteer, text="已认领")
    response = call(client_for(None), "GET", f"{W}/wall?community={world.community_a1.code}")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["text"] for i in items} == {"已发布", "已认领"}
    for item in items:
        assert item["rider"] == "王**"
        assert not {"photo_url", "phone", "rider_id", "claim"} & set(item)
    assert b"13812341234" not in response.content and "小明" not in response.content.decode()
    assert call(client_for(None), "GET", f"{W}/wall?community=999").status_code == 404


def test_claim_then_a_second_claimer_gets_409(world, volunteer):
    wish = b.published(world)
    first = call(client_for(volunteer), "POST", f"{W}/{wish.pk}/claim")
    assert first.status_code == 200 and first.json()["status"] == "claimed"
    second = call(client_for(world.merchant), "POST", f"{W}/{wish.pk}/claim")
    assert second.status_code == 409 and second.json()["code"] == "already_claimed"
    assert call(client_for(world.rider.user), "POST", f"{W}/{wish.pk}/claim").status_code == 403


def test_the_claimer_sees_the_photo_others_do_not(world, volunteer):
    wish = b.published(world, photo=b.jpeg())
    before = call(client_for(world.merchant), "GET", f"{W}/{wish.pk}").json()
    assert before["photo_url"] is None and before["rider"] == "王**"
    call(client_for(volunteer), "POST", f"{W}/{wish.pk}/claim")
    mine = call(client_for(volunteer), "GET", f"{W}/{wish.pk}").json()
    assert mine["photo_url"] and mine["rider"] == "王**"


def test_fulfil_confirm_and_points_once(world, volunteer):
    b.pay_rule(world, points=6)
    wish = b.claimed(world, volunteer)
    client = client_for(volunteer)
    done = client.post(f"{W}/{wish.pk}/fulfil", data={"note": "送到了", "photo": b.jpeg()})
    assert done.status_code == 200 and done.json()["status"] == "fulfilled"
    staff = call(client_for(world.community_staff), "POST", f"{W}/{wish.pk}/confirm")
    assert staff.status_code == 409 and staff.json()["code"] == "rider_confirms_first"
    rider = client_for(world.rider.user)
    confirmed = call(rider, "POST", f"{W}/{wish.pk}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["points_status"] == "paid" and confirmed.json()["points_paid"] == 6
    assert call(rider, "POST", f"{W}/{wish.pk}/confirm").status_code == 409
    assert Posting.objects.count() == 1


def test_staff_pay_held_points(world):
    b.pay_rule(world)
    elsewhere = b.volunteer(world, "volunteer_a2", area=world.community_a2)
    wish = b.fulfilled(world, elsewhere)
    call(client_for(world.rider.user), "POST", f"{W}/{wish.pk}/confirm")
    assert Wish.objects.get(pk=wish.pk).points_status == "held"
    refused = call(client_for(world.community_staff), "POST", f"{W}/{wish.pk}/points")
    assert refused.status_code == 403
    paid = call(client_for(world.street_admin), "POST", f"{W}/{wish.pk}/points")
    assert paid.status_code == 200 and paid.json()["points_status"] == "paid"


def test_reject_without_reason_is_400(world):
    wish = b.post(world)
    response = call(
        client_for(world.community_staff), "POST", f"{W}/{wish.pk}/reject", {"reason": ""}
    )
    assert response.status_code == 400 and response.json()["detail"] == {"field": "reason"}


def test_staff_list_filters_and_scopes(world):
    b.post(world)
    b.published(world, text="二")
    staff = call(client_for(world.community_staff), "GET", f"{W}?status=pending").json()
    assert staff["count"] == 1
    other = call(client_for(world.other_community_staff), "GET", W).json()
    assert other["count"] == 0


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _fill(world, helper, start, n):
    riders = [b.second_rider(world, f"1360000{i:04d}", f"钱{i}") for i in range(start, start + n)]
    for rider in riders:
        b.claimed(world, helper, rider)
        b.published(world, rider, text="二")
        b.post(world, rider, text="三")


@pytest.mark.parametrize(
    "who, url",
    [
        ("anonymous", W + "/wall?community={a1}"),
        ("staff", W),
        ("helper", W + "/claimable"),
        ("helper", W + "/claims"),
        ("rider", W + "/mine"),
    ],
)
def test_list_query_counts_do_not_grow(world, volunteer, who, url):
    accounts = {
        "anonymous": None,
        "staff": world.community_staff,
        "helper": volunteer,
        "rider": world.rider.user,
    }
    client = client_for(accounts[who])
    url = url.format(a1=world.community_a1.code)
    b.claimed(world, volunteer)
    _fill(world, volunteer, 0, 1)
    few = _queries(client, url)
    b.published(world, text="再一个")
    _fill(world, volunteer, 1, 3)
    assert _queries(client, url) == few


@pytest.mark.parametrize("wish_id", ["-12703393539190151275232624640", "9223372036854775808"])
def test_an_id_beyond_any_integer_is_a_400(world, wish_id):
    """Found by the fuzzer: a path id too large for the database was a 500 for staff. Every
    integer beyond 64 bits is now refused before the database sees it, on either database."""
    response = client_for(world.community_staff).get(f"/api/v1/wishes/{wish_id}")
    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] == "out_of_range"
