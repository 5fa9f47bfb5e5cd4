"""The points-shop pages as people use them: the rider reserves (a double tap reserves once),
sees the code and the QR code, staff hand it out by code, the rider sees it picked up; cancel;
the counter's messages; the staff catalogue, stock and priority windows; bad input; query
counts."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.helpers import client_for as any_client_for
from tests.world import make_rider
from yizhan.core.models import AuditEntry
from yizhan.points.models import Posting
from yizhan.points.selectors import balance_of
from yizhan.points.services import points_award
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock, StockChange
from yizhan.rewards.services import redemption_reserve, reward_create, stock_change, window_create
from yizhan.stations.services import station_create

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def client_for(user):
    """A signed-in client reading the pages in English (the source strings the tests quote)."""
    client = any_client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def shop(world):
    """A station in A1 and one in A2; a 充电宝 (10 points, 2 per rider) with 3 at the first
    station; the rider holds 25 points."""
    world.station = station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=world.community_staff,
    )  # fmt: skip
    world.station_a2 = station_create(
        name="甲二驿站", kind="rider_station", community=world.community_a2, lat=40.095,
        lng=113.33, actor=world.other_community_staff,
    )  # fmt: skip
    world.reward = reward_create(
        street=world.street_a, name="充电宝", cost=10, per_rider_limit=2,
        description="20000 mAh", actor=world.street_admin,
    )  # fmt: skip
    stock_change(
        reward=world.reward, station=world.station, change=3, reason="首批到货",
        actor=world.community_staff,
    )  # fmt: skip
    give(world, world.rider.user, 20, "seed-1")
    give(world, world.rider.user, 5, "seed-2")
    return world


def give(world, user, amount, key):
    return points_award(
        member=user, amount=amount, reason="服务", evidence="记录", actor=world.district_admin,
        idempotency_key=f"shop-page-{key}",
    )  # fmt: skip


def keys_on(html: str) -> list[str]:
    return re.findall(r'name="idempotency_key" value="([^"]+)"', html)


def shop_state(world):
    return (
        balance_of(world.rider.user),
        sorted(Stock.objects.values_list("pk", "available", "held", "handed_out")),
        sorted(Redemption.objects.values_list("pk", "status")),
        Posting.objects.count(),
        AuditEntry.objects.count(),
    )


def test_reserve_once_see_the_code_hand_out_and_see_it_picked_up(shop):
    rider = client_for(shop.rider.user)
    page = rider.get(reverse("rewards:shop"))
    html = page.content.decode()
    assert "充电宝" in html and "20000 mAh" in html and "甲一小哥驿站" in html
    assert "3 left" in html and "At most 2 per rider; you have 0." in html
    (key,) = keys_on(html)
    url = reverse("rewards:reserve", args=[shop.reward.pk])
    body = {"station": shop.station.pk, "idempotency_key": key}
    first = rider.post(url, body)
    assert first.status_code == 302 and first["Location"] == reverse("rewards:redemptions")
    second = rider.post(url, body)  # a double tap: the same hidden key
    assert second.status_code == 302
    redemption = Redemption.objects.get()
    assert balance_of(shop.rider.user) == 15
    assert Stock.objects.get().available == 2
    mine = rider.get(reverse("rewards:redemptions")).content.decode()
    assert redemption.pickup_code in mine and f"Show code {redemption.pickup_code}" in mine
    assert re.search(r'<svg viewBox="[^"]+" class="qr">', mine)  # drawn on the server
    assert "甲一小哥驿站" in mine and "Pick up before" in mine
    assert f"{timezone.localtime(redemption.expires_at):%Y-%m-%d %H:%M}" in mine
    staff = client_for(shop.community_staff)
    counter = staff.get(reverse("rewards:pickup")).content.decode()
    assert "充电宝" in counter and shop.rider.user.phone_masked in counter
    assert redemption.pickup_code not in counter  # the code is the rider's proof, never listed
    handed = staff.post(
        reverse("rewards:pickup"), {"station": shop.station.pk, "code": redemption.pickup_code}
    )
    assert handed.status_code == 302
    assert handed["Location"] == f"{reverse('rewards:pickup')}?station={shop.station.pk}"
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.FULFILLED
    assert (Stock.objects.get().held, Stock.objects.get().handed_out) == (0, 1)
    after = rider.get(reverse("rewards:redemptions")).content.decode()
    assert 'class="badge fulfilled"' in after and "Picked up" in after
    assert redemption.pickup_code not in after
    history = rider.get(reverse("points:rider_points")).content.decode()
    assert "Reserved: 充电宝" in history and "±0" in history  # the pickup spends what was held
    again = staff.post(
        reverse("rewards:pickup"), {"station": shop.station.pk, "code": redemption.pickup_code}
    )
    assert again.status_code == 409 and "already used" in again.content.decode()


def test_the_scanned_qr_text_works_at_the_counter(shop):
    redemption = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station, idempotency_key="qr-key-01"
    )
    response = client_for(shop.street_admin).post(
        reverse("rewards:pickup"), {"station": shop.station.pk, "code": redemption.qr_payload}
    )
    assert response.status_code == 302
    assert Redemption.objects.get().status == RedemptionStatus.FULFILLED


def test_the_rider_cancels_and_the_points_come_back(shop):
    redemption = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station, idempotency_key="cancel-01"
    )
    url = reverse("rewards:cancel", args=[redemption.pk])
    assert client_for(shop.other_rider.user).post(url).status_code == 404
    rider = client_for(shop.rider.user)
    response = rider.post(url, follow=True)
    assert response.status_code == 200 and "the points are back" in response.content.decode()
    assert balance_of(shop.rider.user) == 25 and Stock.objects.get().available == 3
    assert 'class="badge cancelled"' in response.content.decode()
    before = shop_state(shop)
    again = rider.post(url)
    assert again.status_code == 409 and "already closed" in again.content.decode()
    assert shop_state(shop) == before


def test_the_counter_says_which_code_is_wrong_and_changes_nothing(shop):
    stock_change(
        reward=shop.reward, station=shop.station_a2, change=1, reason="调拨",
        actor=shop.other_community_staff,
    )  # fmt: skip
    elsewhere = redemption_reserve(
        user=shop.rider.user,
        reward=shop.reward,
        station=shop.station_a2,
        idempotency_key="a2-key-1",
    )
    late = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station, idempotency_key="late-key-1"
    )
    Redemption.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    staff = client_for(shop.street_admin)
    url = reverse("rewards:pickup")
    unused = next(c for c in (f"{n:06d}" for n in range(1000)) if c != late.pickup_code)
    cases = [
        (elsewhere.pickup_code, 409, "for pickup at 甲二驿站, not here"),
        (late.pickup_code, 409, "ran out"),
        (unused, 404, "No reservation has this code here"),
        ("12345", 400, "6 digits"),
        ("", 400, ""),
    ]
    before = shop_state(shop)
    for code, status, message in cases:
        response = staff.post(url, {"station": shop.station.pk, "code": code})
        assert response.status_code == status, code
        assert response.context["form"].errors, code  # shown on the form
        assert message in response.content.decode(), code
    assert shop_state(shop) == before
    # A station that is not mine is not on offer.
    mine_only = client_for(shop.other_community_staff).post(
        url, {"station": shop.station.pk, "code": late.pickup_code}
    )
    assert mine_only.status_code == 400 and "station" in mine_only.context["form"].errors
    assert shop_state(shop) == before


def test_refused_reservations_are_error_pages_and_change_nothing(shop):
    rider = client_for(shop.rider.user)
    url = reverse("rewards:reserve", args=[shop.reward.pk])
    other_street = reward_create(
        street=shop.street_b, name="雨衣", cost=1, actor=shop.district_admin
    )
    before = shop_state(shop)
    out = rider.post(url, {"station": shop.station_a2.pk, "idempotency_key": "no-stock-01"})
    assert out.status_code == 409 and "has no 充电宝 left" in out.content.decode()
    no_key = rider.post(url, {"station": shop.station.pk, "idempotency_key": ""})
    assert no_key.status_code == 400
    bad_station = rider.post(url, {"station": "999999", "idempotency_key": "bad-station-1"})
    assert bad_station.status_code == 400
    poor = client_for(shop.other_rider.user).post(
        url, {"station": shop.station.pk, "idempotency_key": "poor-key-01"}
    )
    assert poor.status_code == 409 and "Not enough points" in poor.content.decode()
    assert shop_state(shop) == before
    # Another street's reward is not in my catalogue.
    foreign = rider.post(
        reverse("rewards:reserve", args=[other_street.pk]),
        {"station": shop.station.pk, "idempotency_key": "foreign-key-1"},
    )
    assert foreign.status_code == 404
    assert shop_state(shop) == before


def test_the_shop_says_why_a_reward_cannot_be_reserved(shop):
    rider = client_for(shop.rider.user)
    for key in ("limit-1", "limit-2"):
        redemption_reserve(
            user=shop.rider.user, reward=shop.reward, station=shop.station,
            idempotency_key=f"shop-{key}",
        )  # fmt: skip
    html = rider.get(reverse("rewards:shop")).content.decode()
    assert "You have reached the limit for this reward." in html and not keys_on(html)
    dear = reward_create(street=shop.street_a, name="头盔", cost=80, actor=shop.street_admin)
    stock_change(
        reward=dear, station=shop.station, change=1, reason="到货", actor=shop.street_admin
    )
    html = rider.get(reverse("rewards:shop")).content.decode()
    assert "You need 75 more points." in html
    later = reward_create(
        street=shop.street_a, name="水杯", cost=1, actor=shop.street_admin,
        available_from=timezone.now() + timedelta(days=2),
    )  # fmt: skip
    stock_change(
        reward=later, station=shop.station, change=1, reason="到货", actor=shop.street_admin
    )
    assert "On offer from" in rider.get(reverse("rewards:shop")).content.decode()


def test_the_pick_up_window_reads_in_days_when_it_is_whole_days(shop):
    rider = client_for(shop.rider.user)
    assert shop.reward.pickup_hours == 72
    html = rider.get(reverse("rewards:shop")).content.decode()
    assert "Pick up within 3 days of reserving." in html
    Reward.objects.filter(pk=shop.reward.pk).update(pickup_hours=36)
    html = rider.get(reverse("rewards:shop")).content.decode()
    assert "Pick up within 36 hours of reserving." in html
    Reward.objects.filter(pk=shop.reward.pk).update(pickup_hours=24)
    chinese = any_client_for(shop.rider.user)
    chinese.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    assert "预留后 1 天内领取。" in chinese.get(reverse("rewards:shop")).content.decode()


def test_a_priority_window_notice_says_whether_i_am_in(shop):
    give(shop, shop.other_rider.user, 20, "window-top-1")
    give(shop, shop.other_rider.user, 20, "window-top-2")  # 40 earned: first; the rider second
    now = timezone.now()
    window_create(
        street=shop.street_a, name="首次兑换", top_n=1, season_kind="month",
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
        actor=shop.street_admin,
    )  # fmt: skip
    mine = client_for(shop.rider.user).get(reverse("rewards:shop"))
    html = mine.content.decode()
    assert "首次兑换" in html and "open to the top 1 of 甲街道" in html
    assert "You are No. 2, so not yet" in html
    assert not keys_on(html)  # nothing to reserve until it closes
    refused = client_for(shop.rider.user).post(
        reverse("rewards:reserve", args=[shop.reward.pk]),
        {"station": shop.station.pk, "idempotency_key": "window-key-1"},
    )
    assert refused.status_code == 403 and "top 1" in refused.content.decode()
    top = client_for(shop.other_rider.user).get(reverse("rewards:shop")).content.decode()
    assert "You are in: No. 1." in top and len(keys_on(top)) == 1


def test_staff_add_a_reward_with_a_photo_stock_it_and_riders_see_it(shop, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = client_for(shop.street_admin)
    photo = SimpleUploadedFile("raincoat.png", PNG, content_type="image/png")
    response = admin.post(
        reverse("rewards:catalogue"),
        {
            "street": shop.street_a.code, "name": "雨衣", "description": "加厚", "cost": "15",
            "per_rider_limit": "1", "pickup_hours": "48", "photo": photo,
            "available_until": "2099-12-31T18:00",
        },
    )  # fmt: skip
    assert response.status_code == 302
    reward = Reward.objects.get(name="雨衣")
    assert response["Location"] == reverse("rewards:reward_detail", args=[reward.pk])
    assert reward.photo.name.startswith("rewards/") and (tmp_path / reward.photo.name).exists()
    assert timezone.localtime(reward.available_until).hour == 18  # Asia/Shanghai
    stocked = admin.post(
        reverse("rewards:stock_change", args=[reward.pk]),
        {"station": shop.station.pk, "change": "4", "reason": "到货"},
    )
    assert stocked.status_code == 302
    detail = admin.get(reverse("rewards:reward_detail", args=[reward.pk])).content.decode()
    assert "4 available · 0 reserved · 0 handed out" in detail and "到货" in detail
    html = client_for(shop.rider.user).get(reverse("rewards:shop")).content.decode()
    assert "雨衣" in html and reward.photo.url in html and "4 left" in html
    catalogue = client_for(shop.community_staff).get(reverse("rewards:catalogue"))
    text = catalogue.content.decode()
    assert "雨衣" in text and 'id="reward-form"' not in text  # community staff: read only


@pytest.mark.parametrize(
    "change, field, status",
    [
        ({"cost": "0"}, "cost", 400),
        ({"cost": "lots"}, "cost", 400),
        ({"name": ""}, "name", 400),
        ({"name": "充电宝"}, "name", 409),  # the catalogue already has it
        ({"pickup_hours": "0"}, "pickup_hours", 400),
        ({"per_rider_limit": "0"}, "per_rider_limit", 400),
        (
            {"available_from": "2030-02-01T00:00", "available_until": "2030-01-01T00:00"},
            "available_until",
            400,
        ),
        ({"available_from": "tomorrow"}, "available_from", 400),
        ({"photo": SimpleUploadedFile("x.png", b"not an image", "image/png")}, "photo", 400),
    ],
)
def test_bad_rewards_are_shown_on_the_form_and_change_nothing(shop, change, field, status):
    data = {"street": shop.street_a.code, "name": "雨衣", "cost": "15", "pickup_hours": "72"}
    data.update(change)
    before = (Reward.objects.count(), AuditEntry.objects.count())
    response = client_for(shop.street_admin).post(reverse("rewards:catalogue"), data)
    assert response.status_code == status
    assert field in response.context["reward_form"].errors
    assert (Reward.objects.count(), AuditEntry.objects.count()) == before


def test_edit_and_take_a_reward_off_the_shop(shop):
    admin = client_for(shop.street_admin)
    url = reverse("rewards:reward_detail", args=[shop.reward.pk])
    form = admin.get(url).context["edit_form"]
    assert form.initial["cost"] == 10 and form.initial["is_active"] is True
    bad = admin.post(url, {"cost": "0", "pickup_hours": "72", "is_active": "on"})
    assert bad.status_code == 400 and "cost" in bad.context["edit_form"].errors
    assert Reward.objects.get().cost == 10
    refused = client_for(shop.community_staff).post(url, {"cost": "12", "pickup_hours": "72"})
    assert refused.status_code == 403 and Reward.objects.get().is_active
    assert admin.post(url, {"cost": "12", "pickup_hours": "72"}).status_code == 302  # unticked
    reward = Reward.objects.get()
    assert (reward.cost, reward.is_active) == (12, False)
    assert "充电宝" not in client_for(shop.rider.user).get(reverse("rewards:shop")).content.decode()


def test_stock_removal_needs_a_reason_and_cannot_take_reserved_items(shop):
    redemption_reserve(
        user=shop.rider.user,
        reward=shop.reward,
        station=shop.station,
        idempotency_key="held-key-01",
    )
    staff = client_for(shop.community_staff)
    url = reverse("rewards:stock_change", args=[shop.reward.pk])
    before = (sorted(Stock.objects.values_list("available", "held")), StockChange.objects.count())
    too_many = staff.post(url, {"station": shop.station.pk, "change": "-3", "reason": "盘点"})
    assert too_many.status_code == 409 and "Only 2 items" in too_many.content.decode()
    no_reason = staff.post(url, {"station": shop.station.pk, "change": "-1", "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["stock_form"].errors
    zero = staff.post(url, {"station": shop.station.pk, "change": "0", "reason": "盘点"})
    assert zero.status_code == 400 and "change" in zero.context["stock_form"].errors
    assert (
        sorted(Stock.objects.values_list("available", "held")),
        StockChange.objects.count(),
    ) == before
    assert (
        staff.post(url, {"station": shop.station.pk, "change": "-2", "reason": "损坏"}).status_code
        == 302
    )
    assert Stock.objects.get(station=shop.station).available == 0


def test_open_a_priority_window_from_the_page(shop):
    admin = client_for(shop.street_admin)
    data = {
        "street": shop.street_a.code, "name": "首次兑换", "top_n": "15", "season_kind": "month",
        "ranking_area": shop.street_a.pk, "opens_at": "2030-01-01T09:00",
        "closes_at": "2030-01-03T09:00", "reward": shop.reward.pk,
    }  # fmt: skip
    assert admin.post(reverse("rewards:window_create"), data).status_code == 302
    window = PriorityWindow.objects.get()
    assert (window.top_n, window.season, window.reward) == (15, "m2030-01", shop.reward)
    catalogue = admin.get(reverse("rewards:catalogue")).content.decode()
    assert "首次兑换" in catalogue and "top 15 of 甲街道, 2030-01" in catalogue
    for change, field in [
        ({"closes_at": "2029-12-31T09:00"}, "closes_at"),
        ({"top_n": "0"}, "top_n"),
        ({"ranking_area": shop.community_b1.pk}, "ranking_area"),  # not in street A
        ({"season_kind": "decade"}, "season_kind"),
        ({"opens_at": ""}, "opens_at"),
    ]:
        response = admin.post(reverse("rewards:window_create"), {**data, **change})
        assert response.status_code == 400, change
        assert field in response.context["window_form"].errors, change
    assert PriorityWindow.objects.count() == 1
    staff = client_for(shop.community_staff).post(reverse("rewards:window_create"), data)
    assert staff.status_code == 403 and PriorityWindow.objects.count() == 1


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_shop_lists_query_counts_do_not_grow(shop):
    rider = client_for(shop.rider.user)
    admin = client_for(shop.street_admin)
    from yizhan.rewards.services import redemption_cancel

    redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station, idempotency_key="qc-held-0"
    )
    cancelled = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station, idempotency_key="qc-gone-0"
    )
    redemption_cancel(redemption=cancelled, actor=shop.rider.user)  # both lists have a row
    urls = [
        (rider, reverse("rewards:shop")),
        (rider, reverse("rewards:redemptions")),
        (admin, reverse("rewards:catalogue")),
        (admin, reverse("rewards:pickup")),
    ]
    few = [count_queries(client, url) for client, url in urls]
    for n in range(3):
        give(shop, shop.rider.user, 20, f"qc-rich-{n}")
    for i in range(6):
        reward = reward_create(
            street=shop.street_a, name=f"礼品{i}", cost=5, actor=shop.street_admin
        )
        for station in (shop.station, shop.station_a2):
            stock_change(
                reward=reward, station=station, change=2, reason="到货", actor=shop.street_admin
            )
        held = redemption_reserve(
            user=shop.rider.user, reward=reward, station=shop.station,
            idempotency_key=f"qc-held-{i + 1}",
        )  # fmt: skip
        if i % 2:
            done = redemption_reserve(
                user=shop.rider.user, reward=reward, station=shop.station_a2,
                idempotency_key=f"qc-done-{i + 1}",
            )  # fmt: skip
            from yizhan.rewards.services import redemption_fulfil

            redemption_fulfil(
                station=shop.station_a2, code=done.pickup_code, actor=shop.street_admin
            )
        assert held.status == RedemptionStatus.HELD
    assert [count_queries(client, url) for client, url in urls] == few


# --- rules the services keep (found as bugs while building these pages) ---------------------------


def test_service_refuses_a_reward_of_another_street(shop):
    """A rider of street B reserves street A's reward at street A's station: the points are
    held in street B's hold account while street A's stock is taken (the page refuses it with
    a 404; the service and the API do not)."""
    from yizhan.core.errors import ApplicationError

    outsider = make_rider(
        shop.community_b1, "13500009999", "周外街", lat=40.085, lng=113.31,
        verify_by=shop.district_admin,
    )  # fmt: skip
    give(shop, outsider.user, 20, "outsider")
    with pytest.raises(ApplicationError):
        redemption_reserve(
            user=outsider.user, reward=shop.reward, station=shop.station,
            idempotency_key="outsider-key-1",
        )  # fmt: skip


def test_a_settlement_does_not_change_what_the_rider_sees(shop):
    """A pickup moves points from the street's hold to its redemption account; the rider's
    balance does not change, yet ``signed_amount`` says -cost (the page shows ±0 instead)."""
    from yizhan.rewards.services import redemption_fulfil

    redemption = redemption_reserve(
        user=shop.rider.user, reward=shop.reward, station=shop.station, idempotency_key="settle-01"
    )
    redemption_fulfil(station=shop.station, code=redemption.pickup_code, actor=shop.street_admin)
    settle = Posting.objects.get(kind="settle")
    assert settle.signed_amount == 0
