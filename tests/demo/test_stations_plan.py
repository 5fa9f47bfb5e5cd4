"""The demo's stations and caring corners as planned (pure Python): counts, places, services and
hours, and how visits are dated. What a load writes is tested in test_demo.py."""

import importlib
import re
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, shape

from yizhan.core.geo import haversine_m
from yizhan.demo import data
from yizhan.demo import stations_plan as sp
from yizhan.demo.generate import build_plan
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import FunctionalZone, StationKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATALOGUE = {
    code
    for code, _name, _name_en in importlib.import_module(
        "yizhan.stations.migrations.0003_cells_and_catalogue"
    ).CATALOGUE
}
COMMUNITY = {c.code: c for c in data.COMMUNITIES}


def places():
    return sp.all_places()


def test_nine_stations_and_137_corners_107_on_the_demonstration_street():
    corners = sp.build_corners().corners
    assert len(sp.STATIONS) == 9 and len(corners) == 137
    assert Counter(s.kind for s in sp.STATIONS) == {
        "rider_station": 3, "party_service": 3, "union_station": 3,
    }  # fmt: skip
    assert all(c.kind == "corner" for c in corners)
    on_street = [c for c in corners if c.on_street]
    assert len(on_street) == len(sp.build_corners().on_street) == 107
    # On the street means standing on it: within its width of the middle line, others well off.
    for corner in corners:
        distance = sp.distance_to_street_m(corner.lng, corner.lat)
        if corner.on_street:
            assert distance <= sp.STREET_WIDTH_M and corner.address.startswith("清远西街 ")
        else:
            assert distance > 3 * sp.STREET_WIDTH_M and "清远西街" not in corner.address
    # Both sides of the street, numbered from 清远门: odd on the south side, even on the north.
    assert sorted(c.number for c in on_street) == list(range(1, 108))
    middle = sp.DEMO_STREET.start[1]
    assert all((c.lat < middle) == (c.number % 2 == 1) for c in on_street)
    length = haversine_m(*sp.DEMO_STREET.start[::-1], *sp.DEMO_STREET.end[::-1])
    assert 700 < length < 1000
    assert len({s.key for s in places()}) == len({s.name for s in places()}) == 146


def test_every_point_lies_inside_its_community():
    for place in places():
        community = COMMUNITY[place.community]
        assert community.code.startswith(data.QINGYUAN), place.name
        assert shape(community.boundary).contains(Point(place.lng, place.lat)), place.name
        assert sp.inside(place.community, place.lng, place.lat)
    assert {s.community for s in places()} == {data.QYXJ, data.QYBY, data.XIGUAN}
    # No two places on the same spot (at least a few metres apart).
    points = sorted((p.lat, p.lng) for p in places())
    for (lat1, lng1), (lat2, lng2) in zip(points, points[1:], strict=False):
        assert (lat1, lng1) != (lat2, lng2)


def test_the_stations_are_built_to_the_standard_with_hours_services_and_zones():
    for station in sp.STATIONS:
        hours = hours_module.parse_text(station.hours)
        assert hours.known, station.name
        assert set(sp.STANDARD_SERVICES) <= set(station.services) <= CATALOGUE
        assert station.zones and set(station.zones) <= set(FunctionalZone.values)
        assert station.kind in StationKind.values
        assert station.created_by == data.COMMUNITY_STAFF[station.community]
        assert re.fullmatch(r"0352-\d{7}", station.contact_phone)
    always = [s.name for s in sp.STATIONS if hours_module.parse_text(s.hours).always]
    assert "清远西街小哥驿站" in always and len(always) >= 2


def test_the_xijie_station_has_charging_five_zones_and_is_open_at_noon_on_a_weekday():
    xijie = next(s for s in sp.STATIONS if s.key == sp.SHOP_STATION)
    assert xijie.name == "清远西街小哥驿站" and xijie.community == data.QYXJ
    assert {"phone_charging", "ebike_charging", "meal_heating", "rest", "water"} <= set(
        xijie.services
    )
    assert xijie.zones == ("party", "study", "work", "rest", "supply")
    hours = hours_module.parse_text(xijie.hours)
    for day in range(7, 14):  # a whole week: Monday 7 December 2026 to Sunday
        assert hours_module.is_open(hours, datetime(2026, 12, day, 12, 0, tzinfo=SHANGHAI))


def test_corners_offer_the_nine_services_of_the_street_in_shop_hours():
    corners = sp.build_corners().corners
    assert len(sp.STREET_SERVICES) == 9 and set(sp.STREET_SERVICES) <= CATALOGUE
    on_street = [c for c in corners if c.on_street]
    assert set().union(*(c.services for c in on_street)) == set(sp.STREET_SERVICES)
    for corner in corners:
        assert corner.services and set(corner.services) <= set(sp.STREET_SERVICES)
        assert "rest" in corner.services or "phone_charging" in corner.services
        assert corner.name == f"{corner.host_name}爱心角"
        assert corner.description.startswith("爱心角：")
        assert re.fullmatch(r"0352-\d{7}", corner.contact_phone)
        assert corner.created_by == data.COMMUNITY_STAFF[corner.community]
        hours = hours_module.parse_text(corner.hours)
        assert hours.known and hours_module.parse_text(hours_module.format_text(hours)) == hours
    kinds = Counter(c.category for c in corners)
    assert kinds.most_common(1)[0][0] == "restaurant" and len(kinds) >= 10
    hours = Counter(c.hours for c in corners)
    assert hours["24小时"] >= 2
    assert sum(n for text, n in hours.items() if "周日 休息" in text) >= 5
    phones = [p.contact_phone for p in places()]
    assert len(set(phones)) == len(phones)


def test_the_showcase_merchant_and_a_few_shops_host_their_own_corner():
    plan = sp.build_corners()
    hosted = {c.merchant: c for c in plan.corners if c.merchant}
    assert hosted["merchant"].name == "老刘刀削面馆爱心角"
    assert hosted["merchant"].on_street
    assert set(hosted) == {"merchant"} | {m.key for m in plan.merchants}
    assert len(plan.merchants) == len(sp.MERCHANT_CATEGORIES)
    usernames = {a.username for a in data.ACCOUNTS}
    for merchant in plan.merchants:
        corner = hosted[merchant.key]
        assert corner.on_street and merchant.name == corner.host_name
        assert merchant.username == f"xijie-shop-{corner.number}"
        assert merchant.username not in usernames


def test_the_plans_are_the_same_on_every_build():
    assert sp.build_corners.__wrapped__() == sp.build_corners()
    assert sp.build_activity.__wrapped__() == sp.build_activity()


def test_the_checklist_is_six_facilities_and_six_services_and_inspections_mostly_pass():
    assert len(sp.FACILITIES) == len(sp.SERVICES) == 6 and len(set(sp.CHECKLIST)) == 12
    assert [i.station for i in sp.INSPECTIONS] == [s.key for s in sp.STATIONS]
    failing = [i for i in sp.INSPECTIONS if i.failed]
    assert 1 <= len(failing) <= 3
    for inspection in sp.INSPECTIONS:
        assert all(0 <= index < 12 and note for index, note in inspection.failed)
        assert 1 <= inspection.days_back <= 365


def test_visits_are_check_ins_by_verified_riders_and_walk_ins_by_hosts():
    activity = sp.build_activity()
    riders = {r.key: r for r in build_plan().riders}
    places_by_key = {p.key: p for p in places()}
    keys = [v.key for v in activity.visits]
    assert len(set(keys)) == len(keys)
    scans = [v for v in activity.visits if v.rider]
    walk_ins = [v for v in activity.visits if not v.rider]
    assert len(scans) >= 200 and len(walk_ins) >= 100
    assert len({(v.rider, v.station, v.days_back) for v in scans}) == len(scans)
    for visit in scans:
        rider = riders[visit.rider]
        assert rider.status == "verified" and rider.community.startswith(data.QINGYUAN)
        assert visit.people == 1 and visit.recorded_by is None
    for visit in walk_ins:
        place = places_by_key[visit.station]
        host = place.merchant if place.kind == "corner" else place.created_by
        assert visit.recorded_by == host and 1 <= visit.people <= 20 and visit.note
    for visit in activity.visits:
        assert 1 <= visit.days_back <= sp.VISIT_DAYS and 0 <= visit.u < 1
    served = Counter()
    for visit in activity.visits:
        served[visit.station] += visit.people
    assert served.most_common(1)[0][0] == sp.SHOP_STATION
    # 500-odd people a year at the busiest station: the window is a third of a year.
    assert 500 <= served[sp.SHOP_STATION] * 365 / sp.VISIT_DAYS <= 800
    suspended = {s.station for s in activity.suspensions}
    assert len(suspended) == 1 and not places_by_key[next(iter(suspended))].on_street
    assert not any(v.station in suspended for v in scans)
    for plan in activity.exceptions:
        assert places_by_key[plan.station].merchant and plan.days_ahead >= 1


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text, days_back, u, expected",
    [
        ("24小时", 1, 0, at(2026, 12, 9, 7, 0)),  # riders' day starts at 07:00
        ("24小时", 1, 0.5, at(2026, 12, 9, 14, 45)),
        ("每天 10:00-14:00,16:30-21:00", 2, 0.4, at(2026, 12, 8, 13, 24)),  # 204 of 510 minutes
        ("每天 10:00-14:00,16:30-21:00", 2, 0.5, at(2026, 12, 8, 16, 45)),  # 255 = 240 + 15
        # 10 December 2026 is a Thursday: three days back is Monday, four back is Sunday.
        ("周一至周六 08:00-18:30；周日 休息", 3, 0, at(2026, 12, 7, 8, 0)),
        ("周一至周六 08:00-18:30；周日 休息", 4, 0, at(2026, 12, 5, 8, 0)),  # Sunday → Saturday
        ("每天 06:00-14:00", 1, 0.999, at(2026, 12, 9, 13, 59)),
        ("每天 20:00-02:00", 1, 0, at(2026, 12, 9, 20, 0)),  # before midnight only
    ],
)
def test_a_visit_falls_within_the_places_hours_and_the_riders_day(text, days_back, u, expected):
    hours = hours_module.parse_text(text)
    moment = sp.visit_moment(hours, date(2026, 12, 10), days_back, u)
    assert moment == expected
    assert hours_module.is_open(hours, moment)


def test_every_planned_visit_lands_on_an_open_moment_before_the_load_day():
    hours = {p.key: hours_module.parse_text(p.hours) for p in places()}
    for today in (date(2026, 12, 10), date(2027, 1, 1)):
        for visit in sp.build_activity().visits:
            moment = sp.visit_moment(hours[visit.station], today, visit.days_back, visit.u)
            assert moment.date() < today
            assert hours_module.is_open(hours[visit.station], moment)
            assert sp.RIDER_DAY[0] <= moment.hour * 60 + moment.minute < sp.RIDER_DAY[1]


def test_street_points_cover_the_street_and_its_pavements():
    points = sp.street_points(10)
    assert all(sp.distance_to_street_m(lng, lat) <= sp.SIDE_OFFSET_M for lat, lng in points)
    lngs = sorted({lng for _lat, lng in points})
    assert lngs[0] == pytest.approx(sp.DEMO_STREET.end[0])
    assert lngs[-1] == pytest.approx(sp.DEMO_STREET.start[0])
    assert all(sp.inside(data.QYXJ, lng, lat) for lat, lng in points)
