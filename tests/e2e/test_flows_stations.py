"""Flow: a rider on a phone finds the nearest station that is open now and charges phones,
and opens its navigation link in a map app (intercepted: the test never leaves the site)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.helpers import t, watched
from tests.world import station_objects
from yizhan.core.geo import wgs84_to_gcj02
from yizhan.stations import services as s

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The rider stands in community A1, beside its rider station (tests/world.py).
HERE = {"latitude": 40.0950, "longitude": 113.3060, "accuracy": 10}


def stations(world):
    """Around the rider, nearest first: a rest point without charging; street A's rider
    station (charging, but closed today); a charging station open 24 hours (the answer); the
    caring corner (charging, 24 hours, further away)."""
    found = station_objects(world)
    staff = world.community_staff
    s.station_exception_set(
        station=found["station"], day=timezone.localdate(), closed=True, actor=staff
    )
    rest = s.station_create(
        name="甲一休息点", kind="rider_station", community=world.community_a1, lat=40.0951,
        lng=113.3062, actor=staff, services=["rest", "water"], hours="24小时",
    )  # fmt: skip
    charging = s.station_create(
        name="甲一充电驿站", kind="rider_station", community=world.community_a1, lat=40.0945,
        lng=113.309, actor=staff, services=["rest", "phone_charging"], hours="24小时",
        address="甲一路 9 号",
    )  # fmt: skip
    return {**found, "rest": rest, "charging": charging}


def names(page):
    return page.locator("[data-testid=result] h3").all_inner_texts()


def test_a_rider_finds_the_nearest_open_charging_station_and_navigates(
    world, password, new_context, shot
):
    places = stations(world)
    rider = new_context(phone=True, permissions=["geolocation"], geolocation=HERE).new_page()
    problems = watched(rider, shot=shot)
    look = problems.look
    log_in(rider, "13812341234", password, expect=r"/rider/")

    # 1. The nearby page, searched around the phone's location.
    rider.goto("/nearby/")
    expect(rider.locator("h1")).to_have_text(t("Nearby stations (一刻钟服务圈)"))
    rider.get_by_role("button", name=t("Use my location")).click()
    results = rider.locator("[data-testid=result]")
    expect(results.first).to_contain_text("甲一休息点")
    assert float(rider.input_value("#nearby-lat")) == pytest.approx(HERE["latitude"])
    look(rider, "1-nearby-by-location")

    # 2. Only stations that charge phones: the closed rider station comes first.
    rider.get_by_text(t("Services and kinds")).click()
    rider.locator("input[name=services][value=phone_charging]").check()
    expect(results.first).to_contain_text(places["station"].name)
    expect(results.first.locator("p.state")).to_have_class(re.compile(r"\bclosed\b"))
    assert "甲一休息点" not in names(rider)
    look(rider, "2-nearby-charging")

    # 3. … and open now: the nearest is the 24-hour charging station, then the caring corner.
    rider.get_by_label(t("Open now")).check()
    expect(results.first).to_contain_text("甲一充电驿站")
    assert names(rider) == ["甲一充电驿站", places["corner"].name]
    best = rider.locator(f"#station-{places['charging'].pk}")
    expect(best.locator("p.state")).to_have_class(re.compile(r"\bopen\b"))
    expect(best.locator("ul.tags")).to_contain_text("手机充电")
    # The filters are in the address: the search can be shared or bookmarked.
    query = parse_qs(urlsplit(rider.url).query)
    assert query["services"] == ["phone_charging"] and query["open"] == ["1"]
    look(rider, "3-nearby-open-charging")

    # 4. Its navigation links open the three map apps at the station (GCJ-02 for Amap).
    g_lat, g_lng = wgs84_to_gcj02(40.0945, 113.309)
    amap = best.get_by_role("link", name=t("Amap"))
    baidu = best.get_by_role("link", name=t("Baidu"))
    tencent = best.get_by_role("link", name=t("Tencent"))
    assert baidu.get_attribute("href").startswith("https://api.map.baidu.com/marker?location=")
    assert tencent.get_attribute("href").startswith(
        "https://apis.map.qq.com/uri/v1/marker?marker=coord:"
    )
    opened = []

    def amap_app(route):
        opened.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>高德地图</h1>")

    rider.route("https://uri.amap.com/**", amap_app)
    amap.click()
    rider.wait_for_url(re.compile(r"^https://uri\.amap\.com/marker\?"))
    assert len(opened) == 1
    asked = parse_qs(urlsplit(opened[0]).query)
    lng, lat = (float(v) for v in asked["position"][0].split(","))
    assert lat == pytest.approx(g_lat, abs=1e-5) and lng == pytest.approx(g_lng, abs=1e-5)
    assert asked["name"] == ["甲一充电驿站"] and asked["coordinate"] == ["gaode"]
    look(rider, "4-amap-opened")

    # 5. Back on the list, the station's own page offers the same links.
    rider.go_back()
    rider.locator(f"#station-{places['charging'].pk} h3 a").click()
    rider.wait_for_url(re.compile(rf"/stations/{places['charging'].pk}/$"))
    expect(rider.locator("h1")).to_contain_text("甲一充电驿站")
    assert rider.get_by_role("link", name=t("Amap")).get_attribute("href") == (opened[0]), (
        "the station's page and the list point to the same place"
    )
    look(rider, "5-station-page")
    problems.check()
