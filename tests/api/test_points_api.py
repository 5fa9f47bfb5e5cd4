"""Points and rewards through the API: flows, bad input (a readable 4xx, nothing written) and
list query counts that do not grow with the rows."""

from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.helpers import call, client_for
from tests.world import make_rider
from yizhan.core.models import AuditEntry, IdempotencyRecord
from yizhan.points.models import ManualAward, PointsSettings, Posting
from yizhan.points.selectors import balance_of
from yizhan.points.services import earning_rule_set, points_award, points_reconcile
from yizhan.rewards.models import Redemption, Stock
from yizhan.rewards.services import redemption_reserve, reward_create, stock_change
from yizhan.stations.services import station_create


def key(value: str) -> dict:
    return {"Idempotency-Key": value}


@pytest.fixture
def shop(world):
    """Street A pays 5 a verified report; stations in A1, A2 and street B; a 充电宝 (10 points,
    2 per rider) with 3 at the A1 station and 1 at the A2 one; the rider holds 20 points."""
    w = world
    earning_rule_set(street=w.street_a, activity="report_verified", points=5, actor=w.street_admin)
    w.station = station_create(
        name="甲一小哥驿站", kind="rider_station", community=w.community_a1, lat=40.095,
        lng=113.305, actor=w.community_staff,
    )  # fmt: skip
    w.station_a2 = station_create(
        name="甲二驿站", kind="rider_station", community=w.community_a2, lat=40.095, lng=113.33,
        actor=w.other_community_staff,
    )  # fmt: skip
    w.station_b = station_create(
        name="乙驿站", kind="rider_station", community=w.community_b1, lat=40.085, lng=113.31,
        actor=w.district_admin,
    )  # fmt: skip
    w.reward = reward_create(
        street=w.street_a, name="充电宝", cost=10, per_rider_limit=2, actor=w.street_admin
    )
    stock_change(
        reward=w.reward, station=w.station, change=3, reason="到货", actor=w.community_staff
    )
    stock_change(
        reward=w.reward, station=w.station_a2, change=1, reason="到货",
        actor=w.other_community_staff,
    )  # fmt: skip
    points_award(
        member=w.rider.user, amount=20, reason="巡查", evidence="照片", actor=w.community_staff,
        idempotency_key="api-seed-award",
    )  # fmt: skip
    return w


def stock(shop, station=None):
    row = Stock.objects.get(reward=shop.reward, station=station or shop.station)
    return (row.available, row.held, row.handed_out)


def state(shop):
    return (
        balance_of(shop.rider.user),
        stock(shop),
        stock(shop, shop.station_a2),
        sorted(Redemption.objects.values_list("pk", "status")),
        Posting.objects.count(),
        sorted(ManualAward.objects.values_list("pk", "status")),
        IdempotencyRecord.objects.count(),
        AuditEntry.objects.count(),
    )


def assert_refused(response, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code, body
    assert body["message"] and "Traceback" not in body["message"]


def award(client, member, amount, k, reason="帮扶", evidence="照片"):
    body = {"member_id": member.pk, "amount": amount, "reason": reason, "evidence": evidence}
    return call(client, "POST", "/api/v1/points/awards", body, headers=key(k))


# --- flows -----------------------------------------------------------------------------------


def test_a_small_award_is_paid_at_once_and_shows_in_my_points(shop):
    staff = client_for(shop.community_staff)
    response = award(staff, shop.rider.user, 5, "flow-small-award")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["amount"], body["paid"]) == ("approved", 5, 5)
    assert body["member"] == {"id": shop.rider.user.pk, "name": "王小明"}
    assert body["requested_by"] == body["decided_by"] == "staff_a1"

    rider = client_for(shop.rider.user)
    me = call(rider, "GET", "/api/v1/points/me").json()
    assert me["balance"] == 25
    assert me["expiring_soon"] is None
    assert me["street"] == {"code": shop.street_a.code, "name": "甲街道"}
    assert [(r["season_kind"], r["rank"], r["points"]) for r in me["ranks"]] == [
        ("month", 1, 25),
        ("quarter", 1, 25),
        ("year", 1, 25),
        ("all", 1, 25),
    ]
    history = call(rider, "GET", "/api/v1/points/me/history").json()
    assert [(h["kind"], h["amount"], h["reason"]) for h in history["items"]] == [
        ("award", 5, "帮扶"),
        ("award", 20, "巡查"),
    ]
    assert history["items"][0]["source_type"] == "points.manualaward"
    assert history["items"][0]["source_id"] == str(body["id"])


def test_a_large_award_waits_for_a_second_staff_member(shop):
    staff = client_for(shop.community_staff)
    response = award(staff, shop.rider.user, 50, "flow-large-award")
    assert response.status_code == 201
    award_id = response.json()["id"]
    assert (response.json()["status"], response.json()["paid"]) == ("pending", None)
    assert balance_of(shop.rider.user) == 20

    pending = call(client_for(shop.street_admin), "GET", "/api/v1/points/awards?status=pending")
    assert [a["id"] for a in pending.json()["items"]] == [award_id]
    before = state(shop)
    own = call(staff, "POST", f"/api/v1/points/awards/{award_id}/approve")
    assert_refused(own, 403, "own_award")
    assert state(shop) == before

    approved = call(
        client_for(shop.street_admin), "POST", f"/api/v1/points/awards/{award_id}/approve"
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "admin_a")
    assert balance_of(shop.rider.user) == 70
    before = state(shop)
    district = client_for(shop.district_admin)
    reject = f"/api/v1/points/awards/{award_id}/reject"
    for again in (
        district.post(reject, data="", content_type="application/json"),  # the note is optional
        call(district, "POST", reject, {"note": "晚了"}),
    ):
        assert_refused(again, 409, "already_decided")
    assert state(shop) == before


def test_a_turned_down_award_pays_nothing(shop):
    staff = client_for(shop.community_staff)
    award_id = award(staff, shop.rider.user, 30, "flow-reject-award").json()["id"]
    response = call(
        client_for(shop.street_admin), "POST", f"/api/v1/points/awards/{award_id}/reject",
        {"note": "证据不足"},
    )  # fmt: skip
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "证据不足")
    assert balance_of(shop.rider.user) == 20


def test_an_award_retried_with_its_key_pays_once(shop):
    staff = client_for(shop.community_staff)
    first = award(staff, shop.rider.user, 5, "flow-retry-award")
    again = award(staff, shop.rider.user, 5, "flow-retry-award")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert balance_of(shop.rider.user) == 25
    before = state(shop)
    other = award(staff, shop.rider.user, 6, "flow-retry-award")
    assert_refused(other, 409, "idempotency_key_reused")
    assert state(shop) == before


def test_reserve_retry_pickup_and_cancel(shop):
    rider = client_for(shop.rider.user)
    path = f"/api/v1/rewards/{shop.reward.pk}/reserve"
    body = {"station_id": shop.station.pk}
    first = call(rider, "POST", path, body, headers=key("flow-reserve-0001"))
    assert first.status_code == 201
    made = first.json()
    assert made["reward"] == {"id": shop.reward.pk, "name": "充电宝"}
    assert made["station"] == {"id": shop.station.pk, "name": "甲一小哥驿站"}
    assert (made["cost"], made["status"]) == (10, "held")
    assert len(made["pickup_code"]) == 6 and made["pickup_code"].isdigit()
    assert made["qr_payload"] == f"YZR-{made['id']}-{made['pickup_code']}"

    # The phone lost the answer and tries again: the same reservation, charged once.
    again = call(rider, "POST", path, body, headers=key("flow-reserve-0001"))
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["pickup_code"]) == (made["id"], made["pickup_code"])
    assert balance_of(shop.rider.user) == 10 and stock(shop) == (2, 1, 0)
    before = state(shop)
    other = call(
        rider, "POST", path, {"station_id": shop.station_a2.pk}, headers=key("flow-reserve-0001")
    )
    assert_refused(other, 409, "idempotency_key_reused")
    assert state(shop) == before

    # Staff see the reservation for pickup at their station, but never its code.
    staff = client_for(shop.community_staff)
    listed = call(staff, "GET", "/api/v1/rewards/redemptions?status=held").json()["items"]
    assert [(r["id"], r["rider"], r["pickup_code"], r["qr_payload"]) for r in listed] == [
        (made["id"], "王小明", None, None)
    ]
    mine = call(rider, "GET", "/api/v1/rewards/redemptions").json()["items"]
    assert [r["pickup_code"] for r in mine] == [made["pickup_code"]]

    done = call(
        staff, "POST", "/api/v1/rewards/pickup",
        {"station_id": shop.station.pk, "code": made["pickup_code"]},
    )  # fmt: skip
    assert done.status_code == 200
    assert (done.json()["id"], done.json()["status"]) == (made["id"], "fulfilled")
    assert done.json()["pickup_code"] is None
    assert balance_of(shop.rider.user) == 10 and stock(shop) == (2, 0, 1)
    used = call(
        staff, "POST", "/api/v1/rewards/pickup",
        {"station_id": shop.station.pk, "code": made["qr_payload"]},
    )  # fmt: skip
    assert_refused(used, 409, "code_used")

    # A second reservation, cancelled by the rider: the points and the item come back.
    second = call(rider, "POST", path, body, headers=key("flow-reserve-0002")).json()
    assert balance_of(shop.rider.user) == 0 and stock(shop) == (1, 1, 1)
    cancelled = call(rider, "POST", f"/api/v1/rewards/redemptions/{second['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert balance_of(shop.rider.user) == 10 and stock(shop) == (2, 0, 1)
    twice = call(rider, "POST", f"/api/v1/rewards/redemptions/{second['id']}/cancel")
    assert_refused(twice, 409, "already_closed")
    assert points_reconcile().ok


def test_history_shows_what_the_member_sees(shop):
    rider = client_for(shop.rider.user)
    path = f"/api/v1/rewards/{shop.reward.pk}/reserve"
    first = call(rider, "POST", path, {"station_id": shop.station.pk}, headers=key("hist-k-0001"))
    second = call(rider, "POST", path, {"station_id": shop.station.pk}, headers=key("hist-k-0002"))
    call(rider, "POST", f"/api/v1/rewards/redemptions/{second.json()['id']}/cancel")
    history = call(rider, "GET", "/api/v1/points/me/history").json()["items"]
    assert [(h["kind"], h["amount"], h["reverses_id"]) for h in history] == [
        ("release", 10, None),
        ("hold", -10, None),
        ("hold", -10, None),
        ("award", 20, None),
    ]
    assert history[1]["reason"] == "Reserved: 充电宝" or history[1]["reason"].endswith("充电宝")
    assert history[0]["source_type"] == "rewards.redemption"
    assert history[0]["source_id"] == str(second.json()["id"])
    assert first.json()["status"] == "held"
    assert sum(h["amount"] for h in history) == balance_of(shop.rider.user) == 10


def test_staff_reverse_an_award_once(shop):
    posting = Posting.objects.get(kind="award", reason="巡查")
    staff = client_for(shop.community_staff)
    path = f"/api/v1/points/postings/{posting.pk}/reverse"
    response = call(staff, "POST", path, {"reason": "重复发放"}, headers=key("reverse-k-0001"))
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["amount"], body["signed_amount"]) == ("reversal", 20, -20)
    assert (body["reverses_id"], body["actor"], body["reason"]) == (
        posting.pk,
        "staff_a1",
        "重复发放",
    )
    assert balance_of(shop.rider.user) == 0
    replay = call(staff, "POST", path, {"reason": "重复发放"}, headers=key("reverse-k-0001"))
    assert (replay.status_code, replay.json()["id"]) == (201, body["id"])
    before = state(shop)
    twice = call(staff, "POST", path, {"reason": "重复发放"}, headers=key("reverse-k-0002"))
    assert_refused(twice, 409, "not_reversible")
    assert state(shop) == before
    ledger = call(staff, "GET", "/api/v1/points/postings?q=王小明").json()["items"]
    assert [(p["kind"], p["reversed_by_id"]) for p in ledger] == [
        ("reversal", None),
        ("award", body["id"]),
    ]
    assert call(staff, "GET", "/api/v1/points/postings?kind=reversal").json()["count"] == 1
    by_phone = call(staff, "GET", "/api/v1/points/postings?q=13812341234").json()
    assert by_phone["count"] == 2
    assert call(staff, "GET", "/api/v1/points/postings?q=13812345678").json()["count"] == 0
    assert call(staff, "GET", "/api/v1/points/postings?since=2999-01-01").json()["count"] == 0


def test_leaderboard_order_and_names(shop):
    third = make_rider(
        shop.community_a1, "13600000011", "孙三", lat=40.095, lng=113.305,
        verify_by=shop.community_staff,
    )  # fmt: skip
    points_award(
        member=third.user, amount=15, reason="服务", evidence="记录", actor=shop.community_staff,
        idempotency_key="board-k-01",
    )  # fmt: skip
    points_award(
        member=shop.other_rider.user, amount=20, reason="服务", evidence="记录",
        actor=shop.other_community_staff, idempotency_key="board-k-02",
    )  # fmt: skip
    street = shop.street_a.code
    path = f"/api/v1/points/leaderboard?season_kind=month&area={street}"

    def rows(user, extra=""):
        body = call(client_for(user), "GET", path + extra).json()
        return [(r["rank"], r["name"], r["points"], r["is_me"]) for r in body["items"]]

    # 王小明 reached 20 before 李大力: ties go to who got there first.
    assert rows(shop.rider.user) == [
        (1, "王小明", 20, True),
        (2, "李**", 20, False),
        (3, "孙*", 15, False),
    ]
    assert rows(shop.street_admin) == [
        (1, "王小明", 20, False),
        (2, "李大力", 20, False),
        (3, "孙三", 15, False),
    ]
    # Community A1's staff see their own riders in full, the other community's masked.
    assert [r[1] for r in rows(shop.community_staff)] == ["王小明", "李**", "孙三"]
    assert rows(shop.rider.user, "&page_size=1&page=3") == [(3, "孙*", 15, False)]
    a1 = call(
        client_for(shop.rider.user), "GET",
        f"/api/v1/points/leaderboard?season_kind=all&area={shop.community_a1.code}",
    ).json()  # fmt: skip
    assert (a1["count"], [r["rank"] for r in a1["items"]]) == (2, [1, 2])
    default = call(client_for(third.user), "GET", "/api/v1/points/leaderboard").json()
    assert default["count"] == 3  # my street this month

    me = call(
        client_for(third.user), "GET",
        f"/api/v1/points/leaderboard/me?season_kind=year&area={street}",
    ).json()  # fmt: skip
    assert (me["rank"], me["points"], me["area"]["code"]) == (3, 15, street)
    assert me["season"].startswith("y")
    nobody = call(client_for(shop.merchant), "GET", f"/api/v1/points/leaderboard/me?area={street}")
    assert (nobody.json()["rank"], nobody.json()["points"]) == (None, 0)
    last_year = call(
        client_for(third.user), "GET",
        f"/api/v1/points/leaderboard?season_kind=year&season=y2001&area={street}",
    ).json()  # fmt: skip
    assert last_year["count"] == 0


def test_a_non_member_gets_zeros_not_errors(shop):
    merchant = client_for(shop.merchant)
    me = call(merchant, "GET", "/api/v1/points/me").json()
    assert (me["balance"], me["expiring_soon"], me["street"]) == (0, None, None)
    assert {r["rank"] for r in me["ranks"]} == {None}
    assert call(merchant, "GET", "/api/v1/points/me/history").json()["count"] == 0
    assert call(merchant, "GET", "/api/v1/rewards/redemptions").json()["count"] == 0
    other = call(client_for(shop.other_rider.user), "GET", "/api/v1/points/me").json()
    assert other["balance"] == 0 and other["street"]["code"] == shop.street_a.code


def test_rules_and_settings(shop):
    admin = client_for(shop.street_admin)
    street = shop.street_a.code
    response = call(
        admin, "PUT", "/api/v1/points/rules",
        {"street": street, "activity": "duty_hour", "points": 3, "weekly_cap": 30},
    )  # fmt: skip
    assert response.status_code == 200
    assert (response.json()["points"], response.json()["weekly_cap"]) == (3, 30)
    changed = call(
        admin, "PUT", "/api/v1/points/rules",
        {"street": street, "activity": "duty_hour", "points": 4, "is_active": False},
    )  # fmt: skip
    assert changed.json()["id"] == response.json()["id"]
    rules = call(client_for(None), "GET", f"/api/v1/points/rules?street={street}").json()
    assert [(r["activity"], r["points"], r["is_active"]) for r in rules["items"]] == [
        ("duty_hour", 4, False),
        ("report_verified", 5, True),
    ]

    settings_path = f"/api/v1/points/settings?street={street}"
    shown = call(client_for(None), "GET", settings_path)
    assert shown.json() == {
        "street": street,
        "approval_threshold": 20,
        "expiry_enabled": False,
        "expiry_month": 12,
        "expiry_day": 31,
    }
    before = PointsSettings.objects.count()
    street_b = call(client_for(None), "GET", f"/api/v1/points/settings?street={shop.street_b.code}")
    assert street_b.json()["approval_threshold"] == 20
    assert PointsSettings.objects.count() == before  # reading the defaults writes nothing
    patched = call(
        admin, "PATCH", settings_path, {"approval_threshold": 60, "expiry_enabled": True}
    )
    assert patched.status_code == 200
    assert (patched.json()["approval_threshold"], patched.json()["expiry_enabled"]) == (60, True)
    staff = client_for(shop.community_staff)
    assert award(staff, shop.rider.user, 50, "rules-award-01").json()["status"] == "approved"
    me = call(client_for(shop.rider.user), "GET", "/api/v1/points/me").json()
    assert me["expiring_soon"]["points"] == 70
    assert me["expiring_soon"]["on"].endswith("-12-31")


def test_staff_run_the_catalogue(shop):
    admin = client_for(shop.street_admin)
    street = shop.street_a.code
    created = call(
        admin, "POST", "/api/v1/rewards",
        {"street": street, "name": "雨衣", "cost": 8, "per_rider_limit": 1,
         "available_from": "2026-01-01T00:00:00", "available_until": "2099-01-01T00:00:00+08:00"},
    )  # fmt: skip
    assert created.status_code == 201
    reward = created.json()
    assert (reward["name"], reward["cost"], reward["stock"], reward["photo_url"]) == (
        "雨衣", 8, [], None
    )  # fmt: skip
    # Without an offset a time is read as Shanghai time.
    assert reward["available_from"] == "2025-12-31T16:00:00Z"
    stocked = call(
        client_for(shop.community_staff), "POST", f"/api/v1/rewards/{reward['id']}/stock",
        {"station_id": shop.station.pk, "change": 4, "reason": "到货"},
    )  # fmt: skip
    assert stocked.status_code == 200
    assert (stocked.json()["available"], stocked.json()["held"]) == (4, 0)
    off = call(admin, "PATCH", f"/api/v1/rewards/{reward['id']}", {"is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert off.json()["per_rider_limit"] == 1  # not sent, not changed

    def names(user):
        items = call(client_for(user), "GET", f"/api/v1/rewards?street={street}").json()["items"]
        return [
            (r["name"], [(s["station_name"], s["available"]) for s in r["stock"]]) for r in items
        ]

    assert names(None) == [("充电宝", [("甲一小哥驿站", 3), ("甲二驿站", 1)])]
    assert names(shop.rider.user) == names(None)
    assert names(shop.street_admin) == [
        ("雨衣", [("甲一小哥驿站", 4)]),
        ("充电宝", [("甲一小哥驿站", 3), ("甲二驿站", 1)]),
    ]
    assert (
        call(client_for(None), "GET", f"/api/v1/rewards?street={shop.street_b.code}").json()[
            "count"
        ]
        == 0
    )
    cleared = call(admin, "PATCH", f"/api/v1/rewards/{reward['id']}", {"per_rider_limit": None})
    assert cleared.json()["per_rider_limit"] is None
    assert (
        call(admin, "PATCH", f"/api/v1/rewards/{reward['id']}", {"cost": None}).status_code == 422
    )


def test_priority_windows(shop):
    admin = client_for(shop.street_admin)
    body = {
        "street": shop.street_a.code, "name": "首次兑换", "top_n": 1, "season_kind": "all",
        "opens_at": "2020-01-01T00:00:00+08:00", "closes_at": "2099-01-01T00:00:00+08:00",
        "reward_id": shop.reward.pk,
    }  # fmt: skip
    created = call(admin, "POST", "/api/v1/rewards/windows", body)
    assert created.status_code == 201
    window = created.json()
    assert (window["season"], window["is_open"], window["reward_name"]) == ("all", True, "充电宝")
    assert window["ranking_area"]["code"] == shop.street_a.code
    listed = call(client_for(None), "GET", "/api/v1/rewards/windows").json()["items"]
    assert [w["id"] for w in listed] == [window["id"]]
    # The top 1 of the street is our rider: they may reserve, the other rider may not.
    points_award(
        member=shop.other_rider.user, amount=10, reason="服务", evidence="记录",
        actor=shop.other_community_staff, idempotency_key="window-api-seed",
    )  # fmt: skip
    path = f"/api/v1/rewards/{shop.reward.pk}/reserve"
    other = client_for(shop.other_rider.user)
    before = state(shop)
    refused = call(other, "POST", path, {"station_id": shop.station_a2.pk}, headers=key("w-k-0001"))
    assert_refused(refused, 403, "priority_window")
    assert state(shop) == before
    rider = client_for(shop.rider.user)
    ok = call(rider, "POST", path, {"station_id": shop.station.pk}, headers=key("w-k-0002"))
    assert ok.status_code == 201


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", [None, "", "short", "has space in it", "x" * 101, "键键键键键键键键"]
)
def test_a_missing_or_malformed_key_is_a_400_and_writes_nothing(shop, header):
    headers = {"Idempotency-Key": header} if header is not None else None
    before = state(shop)
    staff = client_for(shop.community_staff)
    rider = client_for(shop.rider.user)
    posting = Posting.objects.get(kind="award")
    for client, path, body in [
        (
            staff, "/api/v1/points/awards",
            {"member_id": shop.rider.user.pk, "amount": 5, "reason": "帮扶", "evidence": "照片"},
        ),
        (staff, f"/api/v1/points/postings/{posting.pk}/reverse", {"reason": "错发"}),
        (rider, f"/api/v1/rewards/{shop.reward.pk}/reserve", {"station_id": shop.station.pk}),
    ]:  # fmt: skip
        response = call(client, "POST", path, body, headers=headers)
        assert_refused(response, 400, "invalid_idempotency_key")
        assert response.json()["detail"] == {"field": "idempotency_key"}
    assert state(shop) == before


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"amount": 0}, 400, "invalid_amount"),
        ({"amount": -5}, 400, "invalid_amount"),
        ({"amount": 10_001}, 400, "invalid_amount"),
        ({"amount": 2.5}, 422, "invalid"),
        ({"amount": "many"}, 422, "invalid"),
        ({"reason": ""}, 400, "required"),
        ({"reason": "   "}, 400, "required"),
        ({"reason": None}, 422, "invalid"),
        ({"evidence": ""}, 400, "required"),
        ({"reason": "长" * 201}, 422, "invalid"),
        ({"member_id": 99_999_999}, 404, "not_found"),
        ({"member_id": "abc"}, 422, "invalid"),
    ],
)
def test_bad_awards_are_refused_and_write_nothing(shop, change, status, code):
    body = {"member_id": shop.rider.user.pk, "amount": 5, "reason": "帮扶", "evidence": "照片"}
    before = state(shop)
    response = call(
        client_for(shop.community_staff), "POST", "/api/v1/points/awards", {**body, **change},
        headers=key("bad-award-key"),
    )  # fmt: skip
    assert_refused(response, status, code)
    assert state(shop) == before


def test_a_missing_reason_is_named(shop):
    body = {"member_id": shop.rider.user.pk, "amount": 5, "evidence": "照片"}
    response = call(
        client_for(shop.community_staff), "POST", "/api/v1/points/awards", body,
        headers=key("no-reason-key"),
    )  # fmt: skip
    assert_refused(response, 422, "invalid")
    assert [d["field"] for d in response.json()["detail"]] == ["reason"]


def test_reserve_refusals_write_nothing(shop):
    rider = client_for(shop.rider.user)
    path = f"/api/v1/rewards/{shop.reward.pk}/reserve"
    call(rider, "POST", path, {"station_id": shop.station.pk}, headers=key("ok-reserve-1"))
    call(rider, "POST", path, {"station_id": shop.station.pk}, headers=key("ok-reserve-2"))
    assert balance_of(shop.rider.user) == 0
    before = state(shop)
    cases = [
        (shop.reward.pk, {"station_id": shop.station_a2.pk}, 409, "limit_reached"),
        (shop.reward.pk, {"station_id": 99_999_999}, 404, "not_found"),
        (shop.reward.pk, {"station_id": shop.station_b.pk}, 400, "other_street"),
        (shop.reward.pk, {"station_id": "abc"}, 422, "invalid"),
        (shop.reward.pk, {}, 422, "invalid"),
        (99_999_999, {"station_id": shop.station.pk}, 404, "not_found"),
    ]
    for n, (reward_id, body, status, code) in enumerate(cases):
        response = call(
            rider, "POST", f"/api/v1/rewards/{reward_id}/reserve", body,
            headers=key(f"bad-reserve-{n}"),
        )  # fmt: skip
        assert_refused(response, status, code)
        assert state(shop) == before, body
    assert call(rider, "POST", "/api/v1/rewards/abc/reserve", {}).status_code == 422


def test_reserving_beyond_the_balance_is_refused(shop):
    dear = reward_create(street=shop.street_a, name="电动车头盔", cost=30, actor=shop.street_admin)
    stock_change(
        reward=dear, station=shop.station, change=1, reason="到货", actor=shop.community_staff
    )
    before = (state(shop), Stock.objects.get(reward=dear).available)
    response = call(
        client_for(shop.rider.user), "POST", f"/api/v1/rewards/{dear.pk}/reserve",
        {"station_id": shop.station.pk}, headers=key("too-dear-0001"),
    )  # fmt: skip
    assert_refused(response, 409, "insufficient_points")
    assert "30" in response.json()["message"]
    assert (state(shop), Stock.objects.get(reward=dear).available) == before


def test_pickup_refusals(shop):
    a2 = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station_a2,
        idempotency_key="pickup-a2-0001",
    )  # fmt: skip
    staff = client_for(shop.community_staff)
    before = state(shop)
    for body, status, code in [
        ({"station_id": shop.station.pk, "code": a2.pickup_code}, 409, "other_station"),
        ({"station_id": shop.station.pk, "code": "12345"}, 400, "invalid_code"),
        ({"station_id": shop.station.pk, "code": "abcdef"}, 400, "invalid_code"),
        ({"station_id": shop.station.pk, "code": 123456}, 422, "invalid"),
        ({"station_id": shop.station_a2.pk, "code": a2.pickup_code}, 403, "forbidden"),
        ({"station_id": 99_999_999, "code": a2.pickup_code}, 404, "not_found"),
    ]:
        response = call(staff, "POST", "/api/v1/rewards/pickup", body)
        assert_refused(response, status, code)
        assert state(shop) == before, body
    free = f"{(int(a2.pickup_code) + 1) % 1_000_000:06d}"
    response = call(
        staff, "POST", "/api/v1/rewards/pickup", {"station_id": shop.station.pk, "code": free}
    )
    assert_refused(response, 404, "unknown_code")


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/api/v1/points/leaderboard?season_kind=week", 422, "invalid"),
        ("/api/v1/points/leaderboard?season_kind=month&season=y2026", 400, "invalid_season"),
        ("/api/v1/points/leaderboard?season_kind=month&season=m2026-13", 400, "invalid_season"),
        ("/api/v1/points/leaderboard?area=999", 400, "unknown_area"),
        ("/api/v1/points/leaderboard/me?season_kind=all&season=y2026", 400, "invalid_season"),
        ("/api/v1/points/leaderboard?page_size=1000", 422, "invalid"),
        ("/api/v1/points/postings?since=yesterday", 422, "invalid"),
        ("/api/v1/points/rules", 422, "invalid"),
        ("/api/v1/points/rules?street=440000001001", 400, "not_a_street"),
        ("/api/v1/points/settings?street=nope", 400, "unknown_area"),
        ("/api/v1/rewards?street=440000", 400, "not_a_street"),
        ("/api/v1/rewards/windows?street=1", 400, "unknown_area"),
    ],
)
def test_bad_queries_are_4xx(shop, path, status, code):
    assert_refused(call(client_for(shop.street_admin), "GET", path), status, code)


def test_a_merchant_without_an_area_must_name_the_leaderboard(shop):
    response = call(client_for(shop.merchant), "GET", "/api/v1/points/leaderboard")
    assert_refused(response, 400, "area_required")


@pytest.mark.parametrize(
    "method, path, body, status, code",
    [
        ("PUT", "/api/v1/points/rules", {"street": "440000001", "activity": "nap", "points": 3},
         400, "invalid"),
        ("PUT", "/api/v1/points/rules", {"street": "440000001", "activity": "duty_hour",
         "points": 0}, 400, "invalid_amount"),
        ("PUT", "/api/v1/points/rules", {"street": "440000001001", "activity": "duty_hour",
         "points": 3}, 400, "not_a_street"),
        ("PATCH", "/api/v1/points/settings?street=440000001", {"expiry_month": 13}, 400,
         "invalid"),
        ("PATCH", "/api/v1/points/settings?street=440000001", {"approval_threshold": 0}, 400,
         "invalid_amount"),
        ("PATCH", "/api/v1/points/settings?street=440000001001", {"approval_threshold": 5},
         400, "not_a_street"),
        ("POST", "/api/v1/rewards", {"street": "440000001", "name": "", "cost": 8}, 400,
         "invalid"),
        ("POST", "/api/v1/rewards", {"street": "440000001", "name": "充电宝", "cost": 8}, 409,
         "conflict"),
        ("POST", "/api/v1/rewards", {"street": "440000001", "name": "伞", "cost": 0}, 400,
         "invalid"),
        ("POST", "/api/v1/rewards", {"street": "440000001", "name": "伞", "cost": 5,
         "available_from": "2026-02-01T00:00:00", "available_until": "2026-01-01T00:00:00"},
         400, "invalid"),
        ("POST", "/api/v1/rewards", {"street": "440000001", "name": "伞", "cost": 5,
         "available_from": "someday"}, 422, "invalid"),
        ("POST", "/api/v1/rewards/windows", {"street": "440000001", "name": "窗", "top_n": 0,
         "season_kind": "month", "opens_at": "2026-12-01T00:00:00",
         "closes_at": "2026-12-02T00:00:00"}, 400, "invalid"),
        ("POST", "/api/v1/rewards/windows", {"street": "440000001", "name": "窗", "top_n": 5,
         "season_kind": "month", "opens_at": "2026-12-02T00:00:00",
         "closes_at": "2026-12-01T00:00:00+08:00"}, 400, "invalid"),
        ("POST", "/api/v1/rewards/windows", {"street": "440000001", "name": "窗", "top_n": 5,
         "season_kind": "month", "opens_at": "2026-12-01T00:00:00",
         "closes_at": "2026-12-02T00:00:00", "ranking_area": "440000002"}, 400, "invalid"),
        ("POST", "/api/v1/rewards/windows", {"street": "440000001", "name": "窗", "top_n": 5,
         "season_kind": "month", "opens_at": "2026-12-01T00:00:00",
         "closes_at": "2026-12-02T00:00:00", "reward_id": 99999999}, 404, "not_found"),
    ],
)  # fmt: skip
def test_bad_configuration_is_refused_and_writes_nothing(shop, method, path, body, status, code):
    from yizhan.points.models import EarningRule
    from yizhan.rewards.models import PriorityWindow, Reward

    def everything():
        return (
            state(shop),
            sorted(EarningRule.objects.values_list("pk", "points", "is_active")),
            PointsSettings.objects.count(),
            sorted(Reward.objects.values_list("pk", "cost")),
            PriorityWindow.objects.count(),
        )

    before = everything()
    response = call(client_for(shop.street_admin), method, path, body)
    assert_refused(response, status, code)
    assert everything() == before


def test_bad_stock_changes(shop):
    staff = client_for(shop.community_staff)
    path = f"/api/v1/rewards/{shop.reward.pk}/stock"
    before = state(shop)
    for body, status, code in [
        ({"station_id": shop.station.pk, "change": 0, "reason": "盘点"}, 400, "invalid"),
        ({"station_id": shop.station.pk, "change": -4, "reason": "盘点"}, 409, "not_enough_stock"),
        ({"station_id": shop.station.pk, "change": 2, "reason": " "}, 400, "invalid"),
        ({"station_id": shop.station_b.pk, "change": 2, "reason": "调拨"}, 400, "other_street"),
        ({"station_id": shop.station.pk, "change": "lots", "reason": "盘点"}, 422, "invalid"),
    ]:
        assert_refused(call(staff, "POST", path, body), status, code)
        assert state(shop) == before, body


def test_garbage_never_gives_500(shop):
    staff = client_for(shop.street_admin)
    for method, path in [
        ("POST", "/api/v1/points/awards"),
        ("PUT", "/api/v1/points/rules"),
        ("POST", "/api/v1/rewards"),
        ("POST", "/api/v1/rewards/windows"),
        ("POST", "/api/v1/rewards/pickup"),
        ("POST", f"/api/v1/rewards/{shop.reward.pk}/stock"),
    ]:
        for data in ("{not json", "[1, 2]", '"text"', "null"):
            response = getattr(staff, method.lower())(
                path, data=data, content_type="application/json", headers=key("garbage-0001")
            )
            assert response.status_code in (400, 422), (method, path, data)
            assert set(response.json()) == {"code", "message", "detail"}
    assert staff.post("/api/v1/points/awards/abc/approve").status_code == 422
    assert staff.post("/api/v1/points/awards/99999999/approve").status_code == 404
    assert (
        staff.patch("/api/v1/rewards/abc", data="{}", content_type="application/json").status_code
        == 422
    )
    assert staff.post("/api/v1/rewards/redemptions/99999999/cancel").status_code == 404


# --- query counts ----------------------------------------------------------------------------


def _count(client, path, **params):
    path, _, query = path.partition("?")
    params = {**dict(parse_qsl(query)), **params}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200, response.content[:300]
    return len(queries.captured_queries), response.json()


@pytest.fixture
def crowd(shop):
    """Twelve more riders in A1, each awarded twice and holding a reservation."""
    stock_change(
        reward=shop.reward,
        station=shop.station,
        change=20,
        reason="补货",
        actor=shop.community_staff,
    )
    for i in range(12):
        rider = make_rider(
            shop.community_a1, f"1350000{i:04d}", f"骑手{i}", lat=40.095, lng=113.305,
            verify_by=shop.community_staff,
        )  # fmt: skip
        for n in range(2):
            points_award(
                member=rider.user, amount=5 + i, reason="服务", evidence="记录",
                actor=shop.community_staff, idempotency_key=f"crowd-{i}-{n}",
            )  # fmt: skip
        points_award(
            member=rider.user, amount=40, reason="救助", evidence="视频",
            actor=shop.community_staff, idempotency_key=f"crowd-pending-{i}",
        )  # fmt: skip
        redemption_reserve(
            user=rider.user, reward=shop.reward, station=shop.station,
            idempotency_key=f"crowd-reserve-{i}",
        )  # fmt: skip
    for i in range(6):
        reward_create(street=shop.street_a, name=f"奖品{i}", cost=5 + i, actor=shop.street_admin)
        stock_change(
            reward=shop.reward, station=shop.station_a2, change=1, reason="补货",
            actor=shop.other_community_staff,
        )  # fmt: skip
    return shop


@pytest.mark.parametrize(
    "who, path, pinned",
    [
        ("community_staff", "/api/v1/points/postings", 4),
        ("community_staff", "/api/v1/points/awards", 4),
        ("community_staff", "/api/v1/rewards/redemptions", 4),
        ("rider", "/api/v1/points/leaderboard", 5),  # + the rider's street
        ("anonymous", "/api/v1/rewards", 3),
        ("anonymous", "/api/v1/points/rules?street=440000001", 3),
        ("anonymous", "/api/v1/rewards/windows", 2),
    ],
)
def test_list_query_counts_do_not_grow_with_the_rows(crowd, who, path, pinned):
    client = client_for(crowd.account(who))
    _count(client, path, page_size=2)  # warm the session
    small, first = _count(client, path, page_size=2)
    large, every = _count(client, path, page_size=100)
    assert small == large == pinned, (small, large)
    assert len(every["items"]) == every["count"]
    assert every["count"] >= min(first["count"], 3)


def test_my_history_query_count_does_not_grow(crowd):
    rider = client_for(crowd.rider.user)
    path = f"/api/v1/rewards/{crowd.reward.pk}/reserve"
    for n in range(2):
        made = call(
            rider, "POST", path, {"station_id": crowd.station.pk}, headers=key(f"h-n-{n:04d}")
        )
        call(rider, "POST", f"/api/v1/rewards/redemptions/{made.json()['id']}/cancel")
    _count(rider, "/api/v1/points/me/history", page_size=1)
    small, _ = _count(rider, "/api/v1/points/me/history", page_size=1)
    large, every = _count(rider, "/api/v1/points/me/history", page_size=100)
    assert small == large == 5, (small, large)
    assert every["count"] == 5
