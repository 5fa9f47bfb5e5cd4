"""Stations API: the nearby search, the registry, hours, photos, QR codes, the catalogue,
check-ins and walk-ins, the checklist and inspections. Who may call what is in
test_permission_matrix.py; here are the flows, the answers' contents and the bad input."""

import io
import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from PIL import Image

from tests.api.helpers import call, client_for
from tests.world import PASSWORD, station_objects
from yizhan.config.api import api
from yizhan.core.geo import haversine_m, wgs84_to_bd09, wgs84_to_gcj02
from yizhan.core.models import AuditEntry, IdempotencyRecord
from yizhan.core.roles import Role
from yizhan.people.services import account_create
from yizhan.stations import selectors
from yizhan.stations import services as s
from yizhan.stations.choices import StationKind
from yizhan.stations.models import (
    ChecklistItem,
    Inspection,
    ServiceItem,
    Station,
    StationPhoto,
    Visit,
)

TZ = ZoneInfo("Asia/Shanghai")
#: A Wednesday, 23:00 in Datong: the 08:00-22:00 station is closed, the 24-hour corner open.
LATE = datetime(2026, 6, 3, 23, 0, tzinfo=TZ)
NEARBY = "/api/v1/stations/nearby"
KEY = {"Idempotency-Key": "checkin-key-0001"}


@pytest.fixture
def made(world):
    return station_objects(world)


@pytest.fixture
def anon():
    return client_for(None)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def fresh_catalogue():
    """The catalogue is cached per process: start and end each test that changes it clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def late(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: LATE)
    return LATE


@pytest.fixture
def operator(db):
    return account_create(
        username="operator", name="平台", role=Role.ADMIN, password=PASSWORD, is_superuser=True
    )


def add(world, name, lat, lng, **kw):
    kw.setdefault("kind", "rider_station")
    return s.station_create(
        name=name, community=world.community_a1, lat=lat, lng=lng,
        actor=world.community_staff, **kw,
    )  # fmt: skip


def jpeg(width=80, height=60) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def files_in(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def refused(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def station_row(pk: int) -> tuple:
    return tuple(
        Station.objects.filter(pk=pk).values_list(
            "name", "kind", "lat", "lng", "cell", "services_mask", "hours", "status",
            "qr_version", "contact_phone", "merchant_id", "area_code", "address", "zones",
        ).get()
    )  # fmt: skip


def nearby(client, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"{NEARBY}?{query}")


# --- nearby: results -----------------------------------------------------------------------------


def test_nearby_sorted_by_distance_with_everything_a_rider_needs(world, made, anon):
    far = add(world, "远处驿站", 40.099, 113.318, services=["rest"], hours="24小时")
    response = nearby(anon, lat=40.0951, lng=113.3051, radius=3000)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    ids = [item["id"] for item in body["items"]]
    assert ids == [made["station"].pk, made["corner"].pk, far.pk, made["other_station"].pk]
    distances = [item["distance_m"] for item in body["items"]]
    assert distances == sorted(distances) and all(isinstance(d, int) for d in distances)
    assert distances[1] == round(haversine_m(40.0951, 113.3051, 40.096, 113.315))
    assert (body["page"], body["page_size"], body["has_more"], body["radius_m"]) == (
        1, 20, False, 3000,
    )  # fmt: skip
    assert body["origin"] == {"lat": 40.0951, "lng": 113.3051, "crs": "wgs84"}
    first = body["items"][0]
    assert {k: first[k] for k in ("name", "kind", "address", "lat", "lng", "crs")} == {
        "name": "甲一小哥驿站", "kind": "rider_station", "address": "甲一路 1 号",
        "lat": 40.095, "lng": 113.305, "crs": "wgs84",
    }  # fmt: skip
    assert first["kind_label"] and first["contact_phone"] == "0352-1234567"
    assert [x["code"] for x in first["services"]] == ["rest", "water", "phone_charging"]
    assert [x["name"] for x in first["services"]] == ["休息", "饮水", "手机充电"]
    assert set(first["links"]) == {"amap", "baidu", "tencent"}
    assert first["hours_known"] is True
    corner = body["items"][1]
    assert corner["host_name"] == "小店"
    assert corner["url"] in (None, f"/stations/{made['corner'].pk}/")
    assert set(first) == set(api.get_openapi_schema()["components"]["schemas"]["NearbyItemOut"][
        "properties"
    ])  # fmt: skip


def test_nearby_the_radius_and_the_modes(world, made, anon):
    # The A2 station is 2.1 km east of the A1 station: out of a walk, in an e-bike ride.
    walk = nearby(anon, lat=40.095, lng=113.305, mode="walk").json()
    ebike = nearby(anon, lat=40.095, lng=113.305, mode="ebike").json()
    small = nearby(anon, lat=40.095, lng=113.305, radius=500).json()
    assert walk["radius_m"] == 1000 and ebike["radius_m"] == 3000
    assert made["other_station"].pk not in [i["id"] for i in walk["items"]]
    assert made["other_station"].pk in [i["id"] for i in ebike["items"]]
    assert [i["id"] for i in small["items"]] == [made["station"].pk]
    assert nearby(anon, lat=40.095, lng=113.305).json()["radius_m"] == 3000


def test_nearby_services_are_all_required(world, made, anon):
    both = nearby(anon, lat=40.095, lng=113.305, services="water,phone_charging").json()
    assert [i["id"] for i in both["items"]] == [made["station"].pk, made["corner"].pk]
    tyre = nearby(anon, lat=40.095, lng=113.305, services="water,tyre_inflation").json()
    assert [i["id"] for i in tyre["items"]] == [made["corner"].pk]
    # Chinese names are accepted too, as a spreadsheet or a search box might send them.
    rest = nearby(anon, lat=40.095, lng=113.305, services="休息").json()
    assert [i["id"] for i in rest["items"]] == [made["station"].pk, made["other_station"].pk]


def test_nearby_kinds(world, made, anon):
    corners = nearby(anon, lat=40.095, lng=113.305, kinds="corner").json()
    assert [i["id"] for i in corners["items"]] == [made["corner"].pk]
    both = nearby(anon, lat=40.095, lng=113.305, kinds="corner,rider_station").json()
    assert len(both["items"]) == 3


def test_nearby_suspended_stations_are_not_offered(world, made, anon):
    s.station_update(station=made["corner"], actor=world.merchant, status="suspended")
    ids = [i["id"] for i in nearby(anon, lat=40.095, lng=113.305).json()["items"]]
    assert made["corner"].pk not in ids and made["station"].pk in ids


def test_nearby_open_now_at_a_fixed_time(world, made, anon, late):
    unpublished = add(world, "未公布时间", 40.0952, 113.3052)
    everything = nearby(anon, lat=40.095, lng=113.305).json()["items"]
    by_id = {i["id"]: i for i in everything}
    station = by_id[made["station"].pk]
    assert station["is_open"] is False and station["closes_at"] is None
    assert station["opens_at"] == "2026-06-04T08:00:00+08:00"
    corner = by_id[made["corner"].pk]
    assert corner["is_open"] is True and corner["opens_at"] is None
    assert corner["closes_at"] is None  # 24 hours: it never closes
    dark = by_id[unpublished.pk]
    assert (dark["is_open"], dark["hours_known"], dark["opens_at"], dark["closes_at"]) == (
        False, False, None, None,
    )  # fmt: skip
    open_now = nearby(anon, lat=40.095, lng=113.305, open_now="true").json()["items"]
    assert [i["id"] for i in open_now] == [made["corner"].pk, made["other_station"].pk]


def test_nearby_open_now_in_the_day_says_when_it_closes(world, made, anon, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 6, 3, 9, 30, tzinfo=TZ))
    items = nearby(anon, lat=40.095, lng=113.305, open_now=1, kinds="rider_station").json()
    first = items["items"][0]
    assert first["id"] == made["station"].pk and first["is_open"] is True
    assert first["closes_at"] == "2026-06-03T22:00:00+08:00" and first["opens_at"] is None


def test_nearby_from_a_gcj02_point_finds_the_same_station(world, made, anon):
    g_lat, g_lng = wgs84_to_gcj02(40.095, 113.305)
    # Read as WGS-84 the Amap numbers are hundreds of metres off: a 50 m search finds nothing.
    assert nearby(anon, lat=g_lat, lng=g_lng, radius=50).json()["items"] == []
    body = nearby(anon, lat=g_lat, lng=g_lng, crs="gcj02", radius=50).json()
    assert [i["id"] for i in body["items"]] == [made["station"].pk]
    item = body["items"][0]
    assert item["distance_m"] == 0
    # Coordinates come back in the system asked in (by default, the input's).
    assert item["crs"] == "gcj02" and body["origin"]["crs"] == "gcj02"
    assert abs(item["lat"] - g_lat) < 1e-6 and abs(item["lng"] - g_lng) < 1e-6
    assert abs(body["origin"]["lat"] - g_lat) < 1e-6
    baidu = nearby(anon, lat=g_lat, lng=g_lng, crs="gcj02", radius=50, out_crs="bd09").json()
    b_lat, b_lng = wgs84_to_bd09(40.095, 113.305)
    assert baidu["items"][0]["crs"] == "bd09"
    assert abs(baidu["items"][0]["lat"] - b_lat) < 1e-6
    assert abs(baidu["items"][0]["lng"] - b_lng) < 1e-6
    wgs = nearby(anon, lat=g_lat, lng=g_lng, crs="gcj02", radius=50, out_crs="wgs84").json()
    assert (wgs["items"][0]["lat"], wgs["items"][0]["lng"]) == (40.095, 113.305)


def test_nearby_navigation_links_are_in_each_apps_system(world, made, anon):
    item = nearby(anon, lat=40.095, lng=113.305, radius=100).json()["items"][0]
    g_lat, g_lng = wgs84_to_gcj02(40.095, 113.305)
    amap = re.search(r"position=([\d.]+),([\d.]+)", item["links"]["amap"])
    assert (float(amap[1]), float(amap[2])) == (round(g_lng, 6), round(g_lat, 6))
    assert "coordinate=gaode" in item["links"]["amap"]
    b_lat, b_lng = wgs84_to_bd09(40.095, 113.305)
    baidu = re.search(r"location=([\d.]+),([\d.]+)", item["links"]["baidu"])
    assert (float(baidu[1]), float(baidu[2])) == (round(b_lat, 6), round(b_lng, 6))
    tencent = re.search(r"coord:([\d.]+),([\d.]+)", item["links"]["tencent"])
    assert (float(tencent[1]), float(tencent[2])) == (round(g_lat, 6), round(g_lng, 6))
    # The same links whatever system the coordinates are returned in.
    gcj = nearby(anon, lat=40.095, lng=113.305, radius=100, out_crs="gcj02").json()["items"][0]
    assert gcj["links"] == item["links"]


@pytest.mark.parametrize(
    ("name", "address", "crs", "language"),
    [
        ('引号"与\\反斜杠', "换行\n制表\t\u2028末尾", "wgs84", "zh-hans"),
        ("</script>&<>'", "", "bd09", "en"),
        ("\x00\x1f控制", "𝔘nicode ☕", "gcj02", "zh-hans"),
    ],
)
def test_nearby_items_are_the_json_of_their_fields(db, name, address, crs, language):
    """The endpoint writes each result's JSON by hand: it reads back as the fields."""
    from yizhan.core.geo import from_wgs84, navigation_links
    from yizhan.stations import api as stations_api

    with translation.override(language):
        key = (7, name, "corner", address, 40.0951234, 113.3051234, 0b1011, "0352-1", "店",
               crs, language, 0, f"/stations/{stations_api._URL_ID}/")  # fmt: skip
        head, tail = stations_api._nearby_parts.__wrapped__(key)
        item = json.loads("{" + head + "," + tail + "}")
        lat, lng = from_wgs84(40.0951234, 113.3051234, crs)
        assert item == {
            "id": 7, "name": name, "kind": "corner",
            "kind_label": str(StationKind.CORNER.label), "address": address,
            "lat": round(lat, 7), "lng": round(lng, 7), "crs": crs,
            "services": [{"code": code, "name": label}
                         for code, label in selectors.service_labels(0b1011)],
            "contact_phone": "0352-1", "host_name": "店",
            "links": navigation_links(40.0951234, 113.3051234, name, address),
            "url": "/stations/7/",
        }  # fmt: skip
        assert json.loads("{" + stations_api._nearby_parts.__wrapped__(
            key[:-1] + (None,))[1] + "}")["url"] is None  # fmt: skip


def test_nearby_reflects_a_change_at_once(world, made, anon):
    before = nearby(anon, lat=40.095, lng=113.305, radius=100).json()["items"][0]
    s.station_update(
        station=made["station"], actor=world.community_staff, name="甲一驿站（新）",
        services=["rest"], contact_phone="0352-7777777",
    )  # fmt: skip
    after = nearby(anon, lat=40.095, lng=113.305, radius=100).json()["items"][0]
    assert before["name"] == "甲一小哥驿站" and after["name"] == "甲一驿站（新）"
    assert [x["code"] for x in after["services"]] == ["rest"]
    assert after["contact_phone"] == "0352-7777777"
    assert "%E6%96%B0" in after["links"]["amap"]  # 新, in the link's name


def test_nearby_answers_in_english(world, made):
    client = client_for(None)
    body = client.get(
        f"{NEARBY}?lat=40.095&lng=113.305&radius=100", headers={"accept-language": "en"}
    ).json()
    item = body["items"][0]
    assert [x["name"] for x in item["services"]] == ["Rest", "Drinking water", "Phone charging"]


def test_nearby_pages(world, made, anon):
    for i in range(5):
        add(world, f"驿站{i}", 40.0955 + i * 0.0005, 113.306)
    first = nearby(anon, lat=40.095, lng=113.305, page_size=3).json()
    second = nearby(anon, lat=40.095, lng=113.305, page_size=3, page=2).json()
    third = nearby(anon, lat=40.095, lng=113.305, page_size=3, page=3).json()
    assert first["has_more"] is True and second["has_more"] is True
    assert third["has_more"] is False and len(third["items"]) == 2
    ids = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert len(ids) == len(set(ids)) == 8
    distances = [i["distance_m"] for page in (first, second, third) for i in page["items"]]
    assert distances == sorted(distances)
    beyond = nearby(anon, lat=40.095, lng=113.305, page_size=3, page=9).json()
    assert beyond["items"] == [] and beyond["has_more"] is False


def test_nearby_query_count_does_not_grow_with_the_page_size(world, made, anon):
    for i in range(32):
        add(world, f"驿站{i}", 40.0905 + (i % 8) * 0.001, 113.301 + (i // 8) * 0.004,
            services=["water", "rest"], hours="每天 08:00-22:00")  # fmt: skip
    nearby(anon, lat=40.095, lng=113.305, services="water")  # the catalogue is cached once
    counts = {}
    for size in (1, 50):
        for radius in (1000, 3000):
            with CaptureQueriesContext(connection) as queries:
                body = nearby(anon, lat=40.095, lng=113.305, services="water", page_size=size,
                              radius=radius).json()  # fmt: skip
            counts[size, radius] = len(queries)
            assert len(body["items"]) == min(size, 34)
    # One statement, or two when the radius is above 1 km and the 1 km circle holds fewer
    # places than the page and one more (34 places: not for 50 a page).
    assert counts == {(1, 1000): 1, (1, 3000): 1, (50, 1000): 1, (50, 3000): 2}


# --- nearby: bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, code",
    [
        ({"lat": 91, "lng": 113.305}, "invalid_location"),
        ({"lat": -90.5, "lng": 113.305}, "invalid_location"),
        ({"lat": 40.095, "lng": "abc"}, "invalid_location"),
        ({"lat": "nan", "lng": 113.305}, "invalid_location"),
        ({"lng": 113.305}, "invalid_location"),
        ({"lat": 40.095, "lng": 181}, "invalid_location"),
        ({"lat": 40.095, "lng": 113.305, "crs": "xyz"}, "invalid_crs"),
        ({"lat": 40.095, "lng": 113.305, "out_crs": "mercator"}, "invalid_crs"),
        ({"lat": 40.095, "lng": 113.305, "radius": 0}, "invalid_radius"),
        ({"lat": 40.095, "lng": 113.305, "radius": -5}, "invalid_radius"),
        ({"lat": 40.095, "lng": 113.305, "radius": 20_001}, "invalid_radius"),
        ({"lat": 40.095, "lng": 113.305, "radius": "far"}, "invalid_radius"),
        ({"lat": 40.095, "lng": 113.305, "mode": "car"}, "invalid_mode"),
        ({"lat": 40.095, "lng": 113.305, "services": "water,teleport"}, "unknown_service"),
        ({"lat": 40.095, "lng": 113.305, "kinds": "corner,castle"}, "invalid_kind"),
        ({"lat": 40.095, "lng": 113.305, "page_size": 51}, "invalid_page_size"),
        ({"lat": 40.095, "lng": 113.305, "page_size": 0}, "invalid_page_size"),
        ({"lat": 40.095, "lng": 113.305, "page": 0}, "invalid_page"),
        ({"lat": 40.095, "lng": 113.305, "open_now": "maybe"}, "invalid_open_now"),
    ],
)
def test_nearby_bad_input_is_a_clear_400(world, made, anon, params, code):
    body = refused(nearby(anon, **params), 400, code)
    assert body["detail"]["field"]


def test_nearby_radius_limit_follows_the_setting(world, made, anon, settings):
    settings.NEARBY_MAX_RADIUS_M = 5000
    refused(nearby(anon, lat=40.095, lng=113.305, radius=5001), 400, "invalid_radius")
    assert nearby(anon, lat=40.095, lng=113.305, radius=5000).status_code == 200


def test_nearby_documents_its_parameters():
    operation = api.get_openapi_schema()["paths"]["/api/v1/stations/nearby"]["get"]
    names = {p["name"]: p for p in operation["parameters"]}
    assert set(names) == {
        "lat", "lng", "crs", "radius", "mode", "services", "kinds", "open_now", "page",
        "page_size", "out_crs",
    }  # fmt: skip
    assert names["lat"]["required"] and names["lng"]["required"]
    assert names["page_size"]["schema"]["maximum"] == 50
    responses = {str(code): answer for code, answer in operation["responses"].items()}
    assert "NearbyOut" in str(responses["200"])


# --- the registry: list and detail ---------------------------------------------------------------


def test_list_filters(world, made, anon):
    def ids(query=""):
        response = anon.get(f"/api/v1/stations{query}")
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["items"]]

    assert sorted(ids()) == sorted([made["station"].pk, made["corner"].pk,
                                    made["other_station"].pk])  # fmt: skip
    assert ids(f"?community={world.community_a2.code}") == [made["other_station"].pk]
    assert ids("?kind=corner") == [made["corner"].pk]
    assert ids("?q=小店") == [made["corner"].pk]
    assert ids("?q=甲一路") == [made["station"].pk]
    s.station_update(station=made["corner"], actor=world.merchant, status="suspended")
    assert ids("?status=suspended") == [made["corner"].pk]
    body = anon.get("/api/v1/stations?kind=corner&out_crs=gcj02").json()
    item = body["items"][0]
    assert body["count"] == 1 and item["crs"] == "gcj02"
    g_lat, g_lng = wgs84_to_gcj02(40.096, 113.315)
    assert abs(item["lat"] - g_lat) < 1e-6 and abs(item["lng"] - g_lng) < 1e-6
    assert item["community"] == {"code": world.community_a1.code, "name": "甲一社区"}
    assert item["status"] == "suspended" and item["is_open"] is False
    assert "merchant" not in item and "checkin_token" not in item


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("?kind=castle", 400, "invalid_kind"),
        ("?status=closed", 400, "invalid_status"),
        ("?community=999", 400, "unknown_area"),
        ("?community=440000001", 400, "not_a_community"),
        ("?out_crs=xyz", 400, "invalid_crs"),
        ("?page_size=101", 422, "invalid"),
    ],
)
def test_list_bad_filters(world, made, anon, query, status, code):
    refused(anon.get(f"/api/v1/stations{query}"), status, code)


def test_list_query_count_does_not_grow_with_the_page_size(world, made, anon):
    for i in range(30):
        add(world, f"驿站{i}", 40.091 + i * 0.0002, 113.302, services=["water"])
    anon.get("/api/v1/stations?page_size=1")
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            body = anon.get(f"/api/v1/stations?page_size={size}").json()
        counts.append(len(queries))
        assert len(body["items"]) == min(size, 33)
    assert counts[0] == counts[1]


def test_detail_for_anyone(world, made, anon, late):
    corner = made["corner"]
    s.station_update(station=corner, actor=world.community_staff, zones=["rest", "supply"],
                     hours="周一至周五 09:00-21:00；周六、周日 10:00-18:00")  # fmt: skip
    s.station_exception_set(station=corner, day=date(2026, 10, 1), closed=True,
                            actor=world.merchant)  # fmt: skip
    body = anon.get(f"/api/v1/stations/{corner.pk}").json()
    assert body["name"] == "小店爱心角" and body["kind"] == "corner"
    assert body["hours"] == {
        "week": {str(d): [["09:00", "21:00"]] for d in range(1, 6)}
        | {"6": [["10:00", "18:00"]], "7": [["10:00", "18:00"]]},
        "except": {"2026-10-01": []},
    }
    assert body["hours_text"] == "周一至周五 09:00-21:00；周六、周日 10:00-18:00"
    assert body["exceptions_text"] == "2026-10-01 休息"
    assert [d["periods"] for d in body["week"]] == ["09:00-21:00"] * 5 + ["10:00-18:00"] * 2
    assert body["is_open"] is False and body["opens_at"] == "2026-06-04T09:00:00+08:00"
    assert body["closes_at"] is None and body["hours_known"] is True
    assert body["zones"][0]["code"] == "rest" and body["zones"][0]["label"]
    assert [x["code"] for x in body["services"]] == ["water", "phone_charging", "tyre_inflation"]
    assert body["community"]["code"] == world.community_a1.code
    assert body["grid"]["code"] == world.grid_a1_east.code
    assert body["photos"] == [] and set(body["links"]) == {"amap", "baidu", "tencent"}
    # What only the people running it see.
    assert body["may_edit"] is False and body["merchant"] is None
    assert body["checkin_token"] is None and body["visits_this_month"] is None
    assert body["ref"] is None


def test_detail_visit_totals_only_for_those_running_it(world, made):
    station = made["station"]
    s.visit_walk_in(station=station, people=3, actor=world.community_staff)
    path = f"/api/v1/stations/{station.pk}"
    seen = {}
    for who in ("anonymous", "rider", "merchant", "other_community_staff", "community_staff",
                "street_admin"):  # fmt: skip
        body = client_for(world.account(who)).get(path).json()
        seen[who] = body["visits_this_month"]
    assert seen["anonymous"] is seen["rider"] is seen["merchant"] is None
    assert seen["other_community_staff"] is None
    month = timezone.localdate().replace(day=1).isoformat()
    assert seen["community_staff"] == {"since": month, "people": 4, "visits": 2}
    assert seen["street_admin"] == seen["community_staff"]
    host = client_for(world.merchant).get(f"/api/v1/stations/{made['corner'].pk}").json()
    assert host["visits_this_month"] == {"since": month, "people": 0, "visits": 0}
    assert host["may_edit"] is True and host["merchant"] == "merchant"
    assert host["checkin_token"] == s.qr_token(made["corner"])


def test_detail_of_nothing_is_404(world, made, anon):
    refused(anon.get("/api/v1/stations/999999"), 404, "not_found")


# --- the registry: create and change -------------------------------------------------------------


def test_staff_create_a_corner_from_amap_coordinates(world, made):
    host = account_create(username="shop_a1", name="面馆", role=Role.MERCHANT, password=PASSWORD,
                          area=world.community_a1)  # fmt: skip
    g_lat, g_lng = wgs84_to_gcj02(40.0975, 113.3125)
    response = call(client_for(world.community_staff), "POST", "/api/v1/stations", {
        "name": "面馆爱心角", "kind": "corner", "community": world.community_a1.code,
        "lat": g_lat, "lng": g_lng, "crs": "gcj02", "address": "甲一路 9 号",
        "services": ["water", "meal_heating"], "hours": {"always": True},
        "zones": ["rest"], "merchant": "shop_a1", "host_name": "面馆",
        "contact_phone": "0352-5550000", "ref": "QY-C-001",
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    station = Station.objects.get(pk=body["id"])
    assert abs(station.lat - 40.0975) < 1e-6 and abs(station.lng - 113.3125) < 1e-6
    assert station.grid == world.grid_a1_east and station.merchant == host
    assert station.ref == "QY-C-001" and s.service_codes(station.services_mask) == [
        "water", "meal_heating",
    ]  # fmt: skip
    assert body["hours"] == {"always": True} and body["hours_text"] == "24小时"
    assert body["lat"] == 40.0975 and body["crs"] == "wgs84"
    assert body["merchant"] == "shop_a1" and body["may_edit"] is True
    assert body["ref"] == "QY-C-001"
    assert AuditEntry.objects.filter(action="station.created", target_id=str(station.pk)).exists()


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"community": "999999999999"}, 400, "unknown_area"),
        ({"community": "440000001"}, 400, "not_a_community"),
        ({"lat": 40.085}, 400, "outside_community"),
        ({"lat": 91}, 400, "invalid_location"),
        ({"lat": "abc"}, 422, "invalid"),
        ({"crs": "xyz"}, 400, "invalid_crs"),
        ({"kind": "castle"}, 400, "invalid_kind"),
        ({"services": ["water", "teleport"]}, 400, "unknown_service"),
        ({"hours": {"week": {"8": [["08:00", "20:00"]]}}}, 400, "invalid_hours"),
        ({"hours": "周八 25:00-26:00"}, 400, "invalid_hours"),
        ({"merchant": "nobody"}, 400, "unknown_merchant"),
        ({"merchant": "merchant"}, 400, "unknown_merchant"),  # not placed beneath A1
        ({"contact_phone": "call me"}, 400, "invalid_phone"),
        ({"name": ""}, 400, None),
    ],
)
def test_create_refusals_change_nothing(world, made, change, status, code):
    body = {"name": "新驿站", "kind": "rider_station", "community": world.community_a1.code,
            "lat": 40.095, "lng": 113.31, **change}  # fmt: skip
    before = (Station.objects.count(), AuditEntry.objects.count())
    refused(call(client_for(world.community_staff), "POST", "/api/v1/stations", body), status, code)
    assert (Station.objects.count(), AuditEntry.objects.count()) == before


def test_the_host_keeps_the_corner_up_to_date(world, made):
    corner = made["corner"]
    client = client_for(world.merchant)
    path = f"/api/v1/stations/{corner.pk}"
    body = call(client, "PATCH", path, {
        "services": ["water", "ebike_charging"], "hours": "每天 07:00-23:00",
        "contact_phone": "13812340000", "status": "suspended", "status_note": "装修",
    }).json()  # fmt: skip
    assert [x["code"] for x in body["services"]] == ["water", "ebike_charging"]
    assert body["hours_text"] == "每天 07:00-23:00" and body["status"] == "suspended"
    assert body["contact_phone"] == "13812340000" and body["status_note"] == "装修"
    assert body["name"] == "小店爱心角" and body["host_name"] == "小店"  # not sent, unchanged
    # Hours as JSON work as well as text; null clears them.
    json_hours = {"week": {"1": [["10:00", "14:00"], ["17:00", "21:00"]]}}
    assert call(client, "PATCH", path, {"hours": json_hours}).json()["hours"] == json_hours
    cleared = call(client, "PATCH", path, {"hours": None}).json()
    assert cleared["hours"] == {} and cleared["hours_known"] is False
    before = station_row(corner.pk)
    refused(call(client, "PATCH", path, {"name": "我的店"}), 403, "forbidden")
    refused(call(client, "PATCH", path, {"lat": 40.0961, "lng": 113.3151}), 403, "forbidden")
    assert station_row(corner.pk) == before


def test_staff_move_a_station_and_change_its_host(world, made):
    station = made["station"]
    host = account_create(username="shop_a1", name="面馆", role=Role.MERCHANT, password=PASSWORD,
                          area=world.community_a1)  # fmt: skip
    g_lat, g_lng = wgs84_to_gcj02(40.096, 113.312)
    client = client_for(world.community_staff)
    path = f"/api/v1/stations/{station.pk}"
    change = {"lat": g_lat, "lng": g_lng, "crs": "gcj02", "merchant": "shop_a1", "zones": ["party"]}
    body = call(client, "PATCH", path, change).json()
    station.refresh_from_db()
    assert abs(station.lat - 40.096) < 1e-6 and abs(station.lng - 113.312) < 1e-6
    assert station.grid == world.grid_a1_east and station.area_code == world.grid_a1_east.code
    assert station.merchant == host and body["merchant"] == "shop_a1"
    assert [z["code"] for z in body["zones"]] == ["party"]
    found = nearby(client_for(None), lat=40.096, lng=113.312, radius=20).json()["items"]
    assert [i["id"] for i in found] == [station.pk]
    assert call(client, "PATCH", path, {"merchant": None}).json()["merchant"] is None


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"hours": {"week": {"1": [["08:00", "20:00"]], "9": []}}}, 400, "invalid_hours"),
        ({"hours": {"week": {"1": [["08:00", "12:00"], ["11:00", "14:00"]]}}}, 400,
         "invalid_hours"),
        ({"hours": {"always": "yes"}}, 400, "invalid_hours"),
        ({"hours": {"opening": "always"}}, 400, "invalid_hours"),
        ({"hours": "周一至周五 8点到晚上"}, 400, "invalid_hours"),
        ({"hours": "周一 25:00-26:00"}, 400, "invalid_hours"),
        ({"hours": 24}, 422, "invalid"),
        ({"services": ["teleport"]}, 400, "unknown_service"),
        ({"status": "closed"}, 400, None),
        ({"lat": 40.095}, 400, "invalid_location"),
        ({"lat": 40.095, "lng": 113.305, "crs": "xyz"}, 400, "invalid_crs"),
        ({"lat": 40.085, "lng": 113.305}, 400, "outside_community"),
        ({"zones": ["kitchen"]}, 400, None),
        ({"kind": "castle"}, 400, "invalid_kind"),
        ({"merchant": "nobody"}, 400, "unknown_merchant"),
    ],
)  # fmt: skip
def test_malformed_changes_are_refused_and_change_nothing(world, made, change, status, code):
    station = made["station"]
    before = (station_row(station.pk), AuditEntry.objects.count())
    response = call(
        client_for(world.community_staff), "PATCH", f"/api/v1/stations/{station.pk}", change
    )
    refused(response, status, code)
    assert (station_row(station.pk), AuditEntry.objects.count()) == before


def test_a_body_that_is_not_json_is_a_400(world, made):
    client = client_for(world.community_staff)
    response = client.patch(
        f"/api/v1/stations/{made['station'].pk}", data="{hours:", content_type="application/json"
    )
    refused(response, 400, "invalid_body")


# --- hours exceptions ----------------------------------------------------------------------------


def test_exceptions_set_and_removed(world, made):
    corner = made["corner"]
    client = client_for(world.merchant)
    path = f"/api/v1/stations/{corner.pk}/exceptions"
    day = timezone.localdate() + timedelta(days=3)
    body = call(client, "POST", path, {"day": day.isoformat(), "closed": True}).json()
    assert body["hours"]["except"] == {day.isoformat(): []}
    assert body["exceptions_text"] == f"{day.isoformat()} 休息"
    later = day + timedelta(days=1)
    body = call(client, "POST", path,
                {"day": later.isoformat(), "periods": [["10:00", "16:00"]]}).json()  # fmt: skip
    assert body["hours"]["except"][later.isoformat()] == [["10:00", "16:00"]]
    body = call(client, "POST", path, {"day": later.isoformat(), "periods": "09:00-12:00"}).json()
    assert body["hours"]["except"][later.isoformat()] == [["09:00", "12:00"]]
    removed = call(client, "DELETE", f"{path}/{day.isoformat()}").json()
    assert list(removed["hours"]["except"]) == [later.isoformat()]
    assert removed["hours"]["always"] is True


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"day": "2020-01-01", "closed": True}, "date_passed"),
        ({"day": "next tuesday", "closed": True}, "invalid_hours"),
        ({"day": "2099-02-30", "closed": True}, "invalid_hours"),
        ({"day": "2099-10-01"}, "invalid_hours"),
        ({"day": "2099-10-01", "periods": "all day long"}, "invalid_hours"),
        ({"day": "2099-10-01", "periods": [["16:00", "16:00"]]}, "invalid_hours"),
    ],
)
def test_bad_exceptions_change_nothing(world, made, payload, code):
    corner = made["corner"]
    before = station_row(corner.pk)
    response = call(client_for(world.merchant), "POST",
                    f"/api/v1/stations/{corner.pk}/exceptions", payload)  # fmt: skip
    refused(response, 400, code)
    assert station_row(corner.pk) == before


def test_removing_an_exception_that_is_not_there_is_a_404(world, made):
    path = f"/api/v1/stations/{made['corner'].pk}/exceptions/2099-01-01"
    refused(call(client_for(world.merchant), "DELETE", path), 404, "no_exception")


# --- photos --------------------------------------------------------------------------------------


def test_photos_added_shown_and_removed(world, made, media, django_capture_on_commit_callbacks):
    corner = made["corner"]
    client = client_for(world.merchant)
    response = client.post(
        f"/api/v1/stations/{corner.pk}/photos", data={"file": jpeg(), "caption": "门口"}
    )
    assert response.status_code == 201, response.content
    photo = response.json()
    assert (photo["caption"], photo["width"], photo["height"]) == ("门口", 80, 60)
    assert photo["url"].startswith("/media/stations/") and photo["thumbnail_url"]
    assert len(files_in(media)) == 2
    detail = client_for(None).get(f"/api/v1/stations/{corner.pk}").json()
    assert [p["id"] for p in detail["photos"]] == [photo["id"]]
    # A photo is removed under its own station only.
    other = f"/api/v1/stations/{made['station'].pk}/photos/{photo['id']}"
    refused(call(client_for(world.community_staff), "DELETE", other), 404)
    with django_capture_on_commit_callbacks(execute=True):
        gone = call(client, "DELETE", f"/api/v1/stations/{corner.pk}/photos/{photo['id']}")
    assert gone.json() == {"ok": True}
    assert StationPhoto.objects.count() == 0 and files_in(media) == []


def test_a_file_that_is_not_a_photo_is_refused(world, made, media):
    path = f"/api/v1/stations/{made['corner'].pk}/photos"
    bad = SimpleUploadedFile("p.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    before = (StationPhoto.objects.count(), AuditEntry.objects.count())
    refused(client_for(world.merchant).post(path, data={"file": bad}), 400, "invalid_image")
    refused(client_for(world.merchant).post(path, data={"caption": "x"}), 422, "invalid")
    assert (StationPhoto.objects.count(), AuditEntry.objects.count()) == before
    assert files_in(media) == []


def test_a_photo_too_large_is_refused(world, made, media, settings):
    settings.IMAGE_MAX_BYTES = 1000
    path = f"/api/v1/stations/{made['corner'].pk}/photos"
    big = jpeg(400, 300)
    assert big.size > 1000
    refused(client_for(world.merchant).post(path, data={"file": big}), 400, "invalid_image")
    assert StationPhoto.objects.count() == 0 and files_in(media) == []


# --- QR codes and check-ins ----------------------------------------------------------------------


def checkin(client, station, token, key="checkin-key-0001"):
    headers = {"Idempotency-Key": key} if key else None
    return call(client, "POST", f"/api/v1/stations/{station.pk}/checkin", {"token": token},
                headers=headers)  # fmt: skip


def test_check_in_once_per_period(world, made):
    station = made["corner"]
    rider = client_for(world.rider.user)
    first = checkin(rider, station, s.qr_token(station))
    assert first.status_code == 201, first.content
    visit = first.json()
    assert visit["station_id"] == station.pk and visit["already"] is False
    assert visit["day"] == timezone.localdate().isoformat()
    # The same request again (a retry): the same visit, nothing new counted.
    replay = checkin(rider, station, s.qr_token(station))
    assert replay.status_code == 200 and replay.json()["id"] == visit["id"]
    assert replay.json()["already"] is True
    # A second scan later the same day, with a new key: the first visit, nothing new.
    again = checkin(rider, station, s.qr_token(station), key="checkin-key-0002")
    assert again.status_code == 200 and again.json() == {**visit, "already": True}
    assert Visit.objects.filter(station=station).count() == 1
    mine = rider.get("/api/v1/stations/visits/mine").json()
    assert [(v["id"], v["station"]["name"]) for v in mine["items"]][0] == (
        visit["id"],
        "小店爱心角",
    )


def test_check_in_refusals(world, made):
    station, corner = made["station"], made["corner"]
    rider = client_for(world.other_rider.user)
    before = (Visit.objects.count(), IdempotencyRecord.objects.count(), AuditEntry.objects.count())
    refused(checkin(rider, corner, "forged-token-AAAAAAAA"), 400, "invalid_qr")
    refused(checkin(rider, corner, s.qr_token(station)), 400, "invalid_qr")  # another station's
    refused(checkin(rider, corner, s.qr_token(corner), key=None), 400, "invalid_idempotency_key")
    refused(checkin(rider, corner, s.qr_token(corner), key="short"), 400, "invalid_idempotency_key")
    refused(checkin(client_for(world.merchant), corner, s.qr_token(corner)), 403, "not_a_rider")
    refused(checkin(client_for(world.community_staff), corner, s.qr_token(corner)), 403)
    refused(checkin(client_for(None), corner, s.qr_token(corner)), 401)
    refused(call(rider, "POST", "/api/v1/stations/999999/checkin", {"token": "x"},
                 headers=KEY), 404)  # fmt: skip
    s.station_update(station=corner, actor=world.merchant, status="suspended")
    before = (Visit.objects.count(), IdempotencyRecord.objects.count(), AuditEntry.objects.count())
    refused(checkin(rider, corner, s.qr_token(corner)), 409, "station_suspended")
    assert (
        Visit.objects.count(), IdempotencyRecord.objects.count(), AuditEntry.objects.count()
    ) == before  # fmt: skip


def test_check_in_key_reused_for_another_request(world, made):
    rider = client_for(world.other_rider.user)
    station, corner = made["station"], made["corner"]
    assert checkin(rider, corner, s.qr_token(corner)).status_code == 201
    before = Visit.objects.count()
    refused(checkin(rider, station, s.qr_token(station)), 409, "idempotency_key_reused")
    assert Visit.objects.count() == before


def test_rotating_the_qr_code_voids_the_printed_one(world, made):
    corner = made["corner"]
    old = s.qr_token(corner)
    response = call(client_for(world.community_staff), "POST",
                    f"/api/v1/stations/{corner.pk}/qr/rotate")  # fmt: skip
    body = response.json()
    assert response.status_code == 200 and body["qr_version"] == 2
    assert body["checkin_token"] != old and body["station_id"] == corner.pk
    rider = client_for(world.rider.user)
    refused(checkin(rider, corner, old), 400, "invalid_qr")
    assert checkin(rider, corner, body["checkin_token"], key="checkin-key-0003").status_code == 201
    # The host may not replace it (staff print the codes).
    before = station_row(corner.pk)
    refused(call(client_for(world.merchant), "POST", f"/api/v1/stations/{corner.pk}/qr/rotate"),
            403)  # fmt: skip
    assert station_row(corner.pk) == before


# --- walk-ins and visits -------------------------------------------------------------------------


def test_walk_ins_by_the_host(world, made):
    corner = made["corner"]
    client = client_for(world.merchant)
    path = f"/api/v1/stations/{corner.pk}/walk-ins"
    response = call(client, "POST", path, {"people": 3, "note": "充电"})
    assert response.status_code == 201, response.content
    visit = response.json()
    assert (visit["kind"], visit["people"], visit["note"], visit["rider"]) == (
        "walk_in", 3, "充电", None,
    )  # fmt: skip
    headers = {"Idempotency-Key": "walk-in-key-0001"}
    first = call(client, "POST", path, {"people": 2}, headers=headers).json()
    second = call(client, "POST", path, {"people": 2}, headers=headers).json()
    assert first["id"] == second["id"]
    refused(call(client, "POST", path, {"people": 5}, headers=headers), 409,
            "idempotency_key_reused")  # fmt: skip
    assert Visit.objects.filter(station=corner).count() == 2


@pytest.mark.parametrize(
    "payload, status",
    [({"people": 0}, 400), ({"people": 501}, 400), ({"people": -2}, 400),
     ({"people": "many"}, 422), ({"people": 2, "note": "x" * 201}, 400)],
)  # fmt: skip
def test_bad_walk_ins_change_nothing(world, made, payload, status):
    before = (Visit.objects.count(), AuditEntry.objects.count())
    response = call(client_for(world.merchant), "POST",
                    f"/api/v1/stations/{made['corner'].pk}/walk-ins", payload)  # fmt: skip
    refused(response, status)
    assert (Visit.objects.count(), AuditEntry.objects.count()) == before


def test_visits_of_a_station(world, made):
    corner = made["corner"]
    s.visit_check_in(station=corner, token=s.qr_token(corner), user=world.rider.user,
                     idempotency_key="visit-list-0001")  # fmt: skip
    s.visit_walk_in(station=corner, people=4, actor=world.merchant, note="避雨")
    staff = client_for(world.community_staff).get(f"/api/v1/stations/{corner.pk}/visits").json()
    assert staff["count"] == 2
    assert [v["kind"] for v in staff["items"]] == ["walk_in", "scan"]
    assert staff["items"][1]["rider"] == "王小明"
    host = client_for(world.merchant).get(f"/api/v1/stations/{corner.pk}/visits").json()
    assert host["items"][1]["rider"] == "王**"  # the host sees a masked name
    today = timezone.localdate()
    ranged = (
        client_for(world.community_staff)
        .get(f"/api/v1/stations/{corner.pk}/visits?day_from={today + timedelta(days=1)}")
        .json()
    )
    assert ranged["count"] == 0


def test_my_visits_are_mine_only(world, made):
    corner = made["corner"]
    s.visit_check_in(station=corner, token=s.qr_token(corner), user=world.other_rider.user,
                     idempotency_key="visit-mine-0001")  # fmt: skip
    mine = client_for(world.rider.user).get("/api/v1/stations/visits/mine").json()
    assert [v["station"]["id"] for v in mine["items"]] == [made["station"].pk]
    other = client_for(world.other_rider.user).get("/api/v1/stations/visits/mine").json()
    assert [v["station"]["id"] for v in other["items"]] == [corner.pk]
    staff = client_for(world.community_staff).get("/api/v1/stations/visits/mine").json()
    assert staff["items"] == [] and staff["count"] == 0


def test_visit_list_query_count_does_not_grow_with_the_page_size(world, made):
    corner = made["corner"]
    for i in range(30):
        s.visit_walk_in(station=corner, people=1 + i % 3, actor=world.merchant)
    client = client_for(world.community_staff)
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/api/v1/stations/{corner.pk}/visits?page_size={size}")
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the service catalogue -----------------------------------------------------------------------


def test_the_catalogue(world, anon, fresh_catalogue):
    items = anon.get("/api/v1/stations/services").json()
    assert len(items) == 16 and items[0] == {
        "code": "rest", "name": "休息", "name_en": "Rest", "label": "休息", "is_active": True,
    }  # fmt: skip
    english = anon.get("/api/v1/stations/services", headers={"accept-language": "en"}).json()
    assert english[3]["label"] == "Phone charging"


def test_the_operator_extends_the_catalogue(world, operator, fresh_catalogue,
                                            django_capture_on_commit_callbacks):  # fmt: skip
    client = client_for(operator)
    with django_capture_on_commit_callbacks(execute=True):
        created = call(client, "POST", "/api/v1/stations/services",
                       {"code": "umbrella", "name": "借伞", "name_en": "Umbrella lending",
                        "sort_order": 30})  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["code"] == "umbrella"
    codes = [i["code"] for i in client_for(None).get("/api/v1/stations/services").json()]
    assert codes[-1] == "umbrella"
    with django_capture_on_commit_callbacks(execute=True):
        patched = call(client, "PATCH", "/api/v1/stations/services/umbrella",
                       {"name": "共享雨伞", "is_active": False})  # fmt: skip
    assert patched.json()["name"] == "共享雨伞" and patched.json()["is_active"] is False
    listed = client_for(None).get("/api/v1/stations/services").json()
    assert "umbrella" not in [i["code"] for i in listed]
    every = client_for(None).get("/api/v1/stations/services?include_inactive=true").json()
    assert "umbrella" in [i["code"] for i in every]


@pytest.mark.parametrize(
    "payload, status",
    [({"code": "rest", "name": "休息", "name_en": "Rest"}, 409),
     ({"code": "Umbrella!", "name": "借伞", "name_en": "Umbrella"}, 400),
     ({"code": "umbrella", "name": "", "name_en": "Umbrella"}, 400),
     ({"code": "umbrella"}, 422)],
)  # fmt: skip
def test_bad_catalogue_entries(world, operator, fresh_catalogue, payload, status):
    before = sorted(ServiceItem.objects.values_list("code", "name"))
    refused(call(client_for(operator), "POST", "/api/v1/stations/services", payload), status)
    assert sorted(ServiceItem.objects.values_list("code", "name")) == before


def test_only_the_operator_changes_the_catalogue(world, made, operator, fresh_catalogue):
    before = sorted(ServiceItem.objects.values_list("code", "name", "name_en", "is_active"))
    admin = client_for(world.district_admin)
    refused(call(admin, "PATCH", "/api/v1/stations/services/water", {"name": "水"}), 403)
    refused(call(admin, "POST", "/api/v1/stations/services",
                 {"code": "umbrella", "name": "借伞", "name_en": "Umbrella"}), 403)  # fmt: skip
    refused(call(client_for(operator), "PATCH", "/api/v1/stations/services/nothing",
                 {"name": "无"}), 404)  # fmt: skip
    assert sorted(ServiceItem.objects.values_list("code", "name", "name_en", "is_active")) == (
        before
    )


# --- the checklist and inspections ---------------------------------------------------------------


def test_the_checklist_for_the_streets_staff(world, made):
    staff = client_for(world.community_staff)
    mine = staff.get("/api/v1/stations/checklist").json()  # defaults to my street
    assert [i["text"] for i in mine["items"]] == ["有休息座椅", "有饮水设施"]
    assert mine["items"][0]["street"] == {"code": world.street_a.code, "name": "甲街道"}
    named = staff.get(f"/api/v1/stations/checklist?street={world.street_a.code}").json()
    assert named == mine
    refused(staff.get(f"/api/v1/stations/checklist?street={world.street_b.code}"), 403)
    refused(staff.get("/api/v1/stations/checklist?street=440000001001"), 400, "not_a_street")
    district = client_for(world.district_admin)
    refused(district.get("/api/v1/stations/checklist"), 400, "street_required")
    assert (
        district.get(f"/api/v1/stations/checklist?street={world.street_a.code}").json()["count"]
        == 2
    )


def test_the_street_admin_keeps_the_checklist(world, made):
    admin = client_for(world.street_admin)
    new = {"street": world.street_a.code, "text": "有急救药箱", "sort_order": 3}
    created = call(admin, "POST", "/api/v1/stations/checklist", new)
    assert created.status_code == 201, created.content
    item = created.json()
    assert (item["text"], item["standard"], item["is_active"]) == ("有急救药箱", "6+6", True)
    refused(call(admin, "POST", "/api/v1/stations/checklist",
                 {"street": world.street_a.code, "text": "有急救药箱"}), 409)  # fmt: skip
    retired = call(admin, "PATCH", f"/api/v1/stations/checklist/{item['id']}",
                   {"is_active": False}).json()  # fmt: skip
    assert retired["is_active"] is False
    active = admin.get("/api/v1/stations/checklist").json()
    assert "有急救药箱" not in [i["text"] for i in active["items"]]
    every = admin.get("/api/v1/stations/checklist?include_inactive=true").json()
    assert "有急救药箱" in [i["text"] for i in every["items"]]
    before = sorted(ChecklistItem.objects.values_list("pk", "text", "is_active", "sort_order"))
    staff = client_for(world.community_staff)
    refused(call(staff, "POST", "/api/v1/stations/checklist",
                 {"street": world.street_a.code, "text": "有雨具"}), 403)  # fmt: skip
    refused(call(admin, "POST", "/api/v1/stations/checklist",
                 {"street": world.street_b.code, "text": "有雨具"}), 403)  # fmt: skip
    refused(call(admin, "POST", "/api/v1/stations/checklist",
                 {"street": world.street_a.code, "text": ""}), 400)  # fmt: skip
    assert sorted(ChecklistItem.objects.values_list("pk", "text", "is_active", "sort_order")) == (
        before
    )


def test_inspections_recorded_and_listed(world, made):
    station = made["station"]
    seats, water = made["checklist_item"], made["checklist_item_2"]
    client = client_for(world.community_staff)
    path = f"/api/v1/stations/{station.pk}/inspections"
    day = timezone.localdate() - timedelta(days=2)
    response = call(client, "POST", path, {
        "results": {str(seats.pk): True, str(water.pk): True}, "note": "已修好",
        "notes": {str(water.pk): "新饮水机"}, "inspected_on": day.isoformat(),
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["passed"], body["total"], body["inspected_on"]) == (2, 2, day.isoformat())
    assert body["inspector"] == "staff_a1" and body["note"] == "已修好"
    assert [(r["text"], r["passed"], r["note"]) for r in body["results"]] == [
        ("有休息座椅", True, ""), ("有饮水设施", True, "新饮水机"),
    ]  # fmt: skip
    listed = client.get(path).json()
    assert listed["count"] == 2
    # Latest inspection date first: today's (made with the world), then this one.
    assert [(i["passed"], i["inspected_on"]) for i in listed["items"]] == [
        (1, timezone.localdate().isoformat()), (2, day.isoformat()),
    ]  # fmt: skip
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            client.get(f"{path}?page_size={size}")
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "results, extra, code",
    [
        ("only_seats", {}, "incomplete_inspection"),
        ("unknown_item", {}, None),
        ("all", {"inspected_on": "2099-01-01"}, None),
        ("all", {"standard": "9+9"}, "no_checklist"),
    ],
)
def test_bad_inspections_change_nothing(world, made, results, extra, code):
    seats, water = made["checklist_item"], made["checklist_item_2"]
    given = {
        "only_seats": {str(seats.pk): True},
        "unknown_item": {str(seats.pk): True, str(water.pk): True, "999999": True},
        "all": {str(seats.pk): True, str(water.pk): False},
    }[results]
    before = (Inspection.objects.count(), AuditEntry.objects.count())
    response = call(client_for(world.community_staff), "POST",
                    f"/api/v1/stations/{made['station'].pk}/inspections",
                    {"results": given, **extra})  # fmt: skip
    refused(response, 400, code)
    assert (Inspection.objects.count(), AuditEntry.objects.count()) == before


def test_the_host_sees_its_corners_inspections_but_does_not_inspect(world, made):
    corner = made["corner"]
    seats, water = made["checklist_item"], made["checklist_item_2"]
    s.inspection_record(station=corner, results={seats.pk: True, water.pk: True},
                        actor=world.community_staff)  # fmt: skip
    host = client_for(world.merchant)
    assert host.get(f"/api/v1/stations/{corner.pk}/inspections").json()["count"] == 1
    before = Inspection.objects.count()
    refused(call(host, "POST", f"/api/v1/stations/{corner.pk}/inspections",
                 {"results": {str(seats.pk): True, str(water.pk): True}}), 403)  # fmt: skip
    assert Inspection.objects.count() == before


# --- the OpenAPI document ------------------------------------------------------------------------


def test_every_stations_operation_is_documented():
    schema = api.get_openapi_schema()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/stations")
        for method, operation in item.items()
    ]
    assert len(operations) == 25  # with export, the import template and the import
    for path, method, operation in operations:
        assert operation.get("summary"), f"{method} {path}"
        assert operation["tags"] == ["stations"]
        declared = {str(code) for code in operation["responses"]}
        assert {"400", "401", "403", "404", "409", "422"} <= declared, f"{method} {path}"
    upload = schema["paths"]["/api/v1/stations/{station_id}/photos"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
