"""Flow: a rider with points reserves a reward in the points shop on a phone; at the station,
staff hand it out by the rider's pickup code at the console's pickup counter; both sides see
it picked up and the points spent."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.helpers import t, watched
from yizhan.points.selectors import balance_of
from yizhan.points.services import points_award
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import Redemption
from yizhan.rewards.services import reward_create, stock_change
from yizhan.stations.services import station_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

COST = 12


def shop(world):
    """Street A's shop: a power bank (12 points) in stock at the A1 rider station; the rider
    earned 30 points (two awards by community staff)."""
    staff = world.community_staff
    station = station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=staff, address="甲一路 1 号",
    )  # fmt: skip
    reward = reward_create(
        street=world.street_a, name="充电宝", cost=COST, per_rider_limit=2,
        description="10000 毫安，可借可还", actor=world.street_admin,
    )  # fmt: skip
    stock_change(reward=reward, station=station, change=3, reason="首批到货", actor=staff)
    for amount, key in ((20, "e2e-award-1"), (10, "e2e-award-2")):
        points_award(
            member=world.rider.user, amount=amount, reason="文明劝导", evidence="照片",
            actor=staff, idempotency_key=key,
        )  # fmt: skip
    assert balance_of(world.rider.user) == 30
    return station, reward


def test_a_rider_redeems_a_reward_and_staff_hand_it_out_by_code(world, password, new_context, shot):
    station, reward = shop(world)
    rider = new_context(phone=True).new_page()
    staff = new_context(phone=False).new_page()
    problems = watched(rider, staff, shot=shot)
    look = problems.look

    # 1. The rider's shop: 30 points, the power bank in stock at the station.
    log_in(rider, "13812341234", password, expect=r"/rider/")
    rider.goto("/rider/shop/")
    balance = rider.locator("[data-testid=balance]")
    expect(balance).to_have_text("30")
    card = rider.locator(f"#reward-{reward.pk}")
    expect(card.locator(".reward-name")).to_contain_text("充电宝")
    expect(card.locator("ul.stock li")).to_contain_text(station.name)
    look(rider, "1-shop")

    # 2. Reserve it at the station: a pickup code and a QR code to show there.
    card.get_by_role("button", name=t("Reserve here")).click()
    rider.wait_for_url(re.compile(r"/rider/redemptions/$"))
    redemption = Redemption.objects.get(user=world.rider.user, reward=reward)
    assert redemption.status == RedemptionStatus.HELD
    held = rider.locator(f"#redemption-{redemption.pk}")
    code = held.locator("[data-testid=pickup-code]")
    expect(code).to_have_text(redemption.pickup_code)
    expect(held.locator(".qr-wrap svg")).to_have_count(1)
    expect(rider.locator("ul.messages")).to_contain_text(redemption.pickup_code)
    look(rider, "2-reserved")
    pickup_code = code.inner_text().strip()
    assert re.fullmatch(r"\d{6}", pickup_code)
    # The points are held: the shop shows what is left to spend.
    rider.get_by_role("link", name=t("Shop"), exact=True).last.click()
    expect(balance).to_have_text(str(30 - COST))

    # 3. At the station, staff hand it out by the code the rider shows.
    log_in(staff, "staff_a1", password, expect=r"/console/")
    staff.get_by_role("link", name=t("Shop"), exact=True).first.click()
    staff.get_by_role("link", name=t("Pickup counter")).click()
    staff.wait_for_url(re.compile(r"/console/shop/pickup/"))
    waiting = staff.locator("table.list tbody tr", has_text="充电宝")
    expect(waiting).to_contain_text(world.rider.user.name)
    expect(staff.get_by_label(t("Station"))).to_have_value(str(station.pk))
    staff.get_by_label(t("Pickup code")).fill(pickup_code)
    look(staff, "3-pickup-counter")
    staff.get_by_role("button", name=t("Hand out")).click()
    messages = staff.locator("ul.messages")
    expect(messages).to_contain_text("充电宝")
    expect(messages).to_contain_text(world.rider.user.name)
    expect(waiting).to_have_count(0)
    expect(staff.locator("main")).to_contain_text(t("Nothing is waiting for pickup."))
    look(staff, "4-handed-out")
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.FULFILLED

    # The same code a second time is refused: it has been used.
    staff.get_by_label(t("Pickup code")).fill(pickup_code)
    staff.get_by_role("button", name=t("Hand out")).click()
    expect(staff.locator("main form .errorlist")).to_be_visible()
    look(staff, "5-code-used")

    # 4. The rider's side: picked up, points spent.
    rider.goto("/rider/redemptions/")
    expect(rider.locator(f"#redemption-{redemption.pk}")).to_have_count(0)
    earlier = rider.locator("table.list tbody tr", has_text="充电宝")
    expect(earlier.locator(".badge")).to_have_text(str(RedemptionStatus.FULFILLED.label))
    expect(earlier).to_contain_text(t("points spent"))
    look(rider, "6-rider-redemptions")
    rider.goto("/rider/points/")
    expect(rider.locator("[data-testid=balance]")).to_have_text(str(30 - COST))
    look(rider, "7-rider-points")
    assert balance_of(world.rider.user) == 30 - COST
    problems.check()
