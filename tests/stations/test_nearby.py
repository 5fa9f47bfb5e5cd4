"""The nearby search (一刻钟服务圈): exactly the open stations within the radius, nearest first
(ties by id), filtered and paged, in one SQL statement; checked against a brute-force scan.

Stations here are written straight to the table (with ``cell_of``, as the services do) so that
Hypothesis can lay out hundreds of them quickly; the services' own writes are tested elsewhere.
"""

import math
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yizhan.core.errors import ApplicationError
from yizhan.core.geo import CELL_DEG, EARTH_RADIUS_M, cell_of, haversine_m, wgs84_to_gcj02
from yizhan.stations import selectors as sel
from yizhan.stations.choices import StationKind, StationStatus
from yizhan.stations.hours import ALWAYS, is_open, parse_text
from yizhan.stations.models import Station
from yizhan.stations.services import services_mask

TZ = ZoneInfo("Asia/Shanghai")
DATONG = (40.0952, 113.2826)
NOON = datetime(2026, 9, 28, 12, tzinfo=TZ)  # a Monday
KINDS = list(StationKind.values)
REST, WATER, CHARGING = 1 << 0, 1 << 1, 1 << 3


def destination(lat: float, lng: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lat, lng) along ``bearing_deg`` on the search's sphere."""
    phi1, lam1, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = metres / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


@pytest.fixture
def community(world):
    """The community the stations belong to (written directly, its boundary is not checked)."""
    return world.community_a1


def put(community, lat, lng, *, name="站", mask=REST | WATER, kind="rider_station",
        status=StationStatus.OPEN, hours=None) -> Station:  # fmt: skip
    return Station.objects.create(
        name=name, kind=kind, community=community, area_code=community.code, lat=lat, lng=lng,
        cell=cell_of(lat, lng), services_mask=mask, status=status,
        hours=(hours if hours is not None else ALWAYS).to_json(),
    )  # fmt: skip


def query(lat, lng, radius, **kwargs) -> sel.NearbyQuery:
    kwargs.setdefault("at", NOON)
    return sel.NearbyQuery(lat=lat, lng=lng, radius_m=radius, **kwargs)


def ids(page) -> list[int]:
    return [item.id for item in page.items]


def brute_force(q: sel.NearbyQuery) -> list[tuple[float, int]]:
    """Every station, the exact rule: open for service, within the radius, every service
    asked for, of the kinds asked for, open at ``q.at`` if asked; nearest first, then by id."""
    found = []
    for station in Station.objects.all():
        distance = haversine_m(q.lat, q.lng, station.lat, station.lng)
        if (
            station.status == StationStatus.OPEN
            and distance <= q.radius_m
            and station.services_mask & q.mask == q.mask
            and (not q.kinds or station.kind in q.kinds)
            and (not q.open_now or is_open(station.opening_hours, q.at))
        ):
            found.append((distance, station.pk))
    return sorted(found)


# --- exact behaviour ------------------------------------------------------------------------------


def test_nearest_first_with_ties_by_id(community):
    lat, lng = DATONG
    far = put(community, *destination(lat, lng, 10, 900), name="远")
    near = put(community, *destination(lat, lng, 200, 100), name="近")
    twin_a = put(community, *destination(lat, lng, 90, 500), name="同点甲")
    twin_b = put(community, twin_a.lat, twin_a.lng, name="同点乙")
    middle = put(community, *destination(lat, lng, 300, 400), name="中")
    page = sel.nearby(query(lat, lng, 1000))
    assert ids(page) == [near.pk, middle.pk, twin_a.pk, twin_b.pk, far.pk]
    assert [round(item.distance_m) for item in page.items] == [100, 400, 500, 500, 900]
    assert page.has_more is False and page.page == 1


def test_the_radius_cut_is_exact(community):
    lat, lng = DATONG
    inside = [put(community, *destination(lat, lng, b, 2999), name=f"in{b}") for b in (0, 90, 225)]
    outside = [
        put(community, *destination(lat, lng, b, 3001), name=f"out{b}") for b in (0, 90, 225)
    ]
    edge = put(community, *destination(lat, lng, 45, 2999.99), name="edge")
    page = sel.nearby(query(lat, lng, 3000, page_size=50))
    assert set(ids(page)) == {s.pk for s in inside} | {edge.pk}
    assert not set(ids(page)) & {s.pk for s in outside}
    assert all(item.distance_m <= 3000 for item in page.items)


def test_services_are_all_of(community):
    lat, lng = DATONG
    both = put(community, *destination(lat, lng, 0, 100), mask=REST | WATER | CHARGING)
    rest_only = put(community, *destination(lat, lng, 0, 200), mask=REST)
    charging_only = put(community, *destination(lat, lng, 0, 300), mask=CHARGING)
    none = put(community, *destination(lat, lng, 0, 400), mask=0)
    assert ids(sel.nearby(query(lat, lng, 1000, mask=REST | CHARGING))) == [both.pk]
    assert ids(sel.nearby(query(lat, lng, 1000, mask=REST))) == [both.pk, rest_only.pk]
    assert ids(sel.nearby(query(lat, lng, 1000, mask=CHARGING))) == [both.pk, charging_only.pk]
    assert ids(sel.nearby(query(lat, lng, 1000))) == [both.pk, rest_only.pk, charging_only.pk,
                                                     none.pk]  # fmt: skip


def test_a_service_on_the_highest_bit(community):
    lat, lng = DATONG
    top = 1 << 62
    high = put(community, *destination(lat, lng, 0, 100), mask=top | REST)
    put(community, *destination(lat, lng, 0, 50), mask=REST)
    assert ids(sel.nearby(query(lat, lng, 1000, mask=top))) == [high.pk]
    assert ids(sel.nearby(query(lat, lng, 1000, mask=top | REST))) == [high.pk]
    assert sel.nearby(query(lat, lng, 1000, mask=top)).items[0].services_mask == top | REST


def test_kinds_and_suspended(community):
    lat, lng = DATONG
    corner = put(community, *destination(lat, lng, 0, 100), kind="corner")
    station = put(community, *destination(lat, lng, 0, 200), kind="rider_station")
    union = put(community, *destination(lat, lng, 0, 300), kind="union_station")
    put(community, *destination(lat, lng, 0, 50), status=StationStatus.SUSPENDED)
    assert ids(sel.nearby(query(lat, lng, 1000))) == [corner.pk, station.pk, union.pk]
    assert ids(sel.nearby(query(lat, lng, 1000, kinds=("corner",)))) == [corner.pk]
    assert ids(sel.nearby(query(lat, lng, 1000, kinds=("union_station", "corner")))) == [
        corner.pk, union.pk
    ]  # fmt: skip


def test_open_now_at_a_fixed_time(community):
    lat, lng = DATONG
    day = put(community, *destination(lat, lng, 0, 100), hours=parse_text("每天 08:00-20:00"))
    night = put(community, *destination(lat, lng, 0, 200), hours=parse_text("每天 22:00-02:00"))
    always = put(community, *destination(lat, lng, 0, 300), hours=ALWAYS)
    unknown = put(community, *destination(lat, lng, 0, 400), hours=parse_text(""))
    at = lambda hh: datetime(2026, 9, 28, hh, tzinfo=TZ)  # noqa: E731
    assert ids(sel.nearby(query(lat, lng, 1000, open_now=True, at=at(12)))) == [day.pk, always.pk]
    assert ids(sel.nearby(query(lat, lng, 1000, open_now=True, at=at(1)))) == [night.pk, always.pk]
    assert ids(sel.nearby(query(lat, lng, 1000, at=at(1)))) == [
        day.pk, night.pk, always.pk, unknown.pk
    ]  # fmt: skip
    page = sel.nearby(query(lat, lng, 1000, at=at(12)))
    assert [item.is_open for item in page.items] == [True, False, True, False]
    assert page.items[0].status.changes_at == at(20)
    assert page.items[1].status.changes_at == at(22)
    assert page.items[3].status.known is False


def test_open_now_through_timezone_now(community, monkeypatch):
    from django.utils import timezone

    lat, lng = DATONG
    day = put(community, *destination(lat, lng, 0, 100), hours=parse_text("每天 08:00-20:00"))
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 9, 28, 21, tzinfo=TZ))
    assert ids(sel.nearby(query(lat, lng, 1000, open_now=True, at=None))) == []
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 9, 28, 9, tzinfo=TZ))
    assert ids(sel.nearby(query(lat, lng, 1000, open_now=True, at=None))) == [day.pk]


def test_open_now_when_most_near_ones_are_closed(community):
    """ "Open now" reads more rows than a page; when the closed ones fill them, it reads on."""
    lat, lng = DATONG
    closed = parse_text("周一 06:00-07:00")
    for i in range(60):
        put(community, *destination(lat, lng, i * 6, 100 + i), hours=closed, name=f"闭{i}")
    open_ = [put(community, *destination(lat, lng, 7, 900 + i), name=f"开{i}") for i in range(3)]
    page = sel.nearby(query(lat, lng, 1000, open_now=True, page_size=2))
    assert ids(page) == [open_[0].pk, open_[1].pk] and page.has_more is True
    page2 = sel.nearby(query(lat, lng, 1000, open_now=True, page_size=2, page=2))
    assert ids(page2) == [open_[2].pk] and page2.has_more is False


def test_pages_are_disjoint_and_complete(community):
    lat, lng = DATONG
    for i in range(23):
        put(community, *destination(lat, lng, i * 37 % 360, 50 + i * 97 % 2900), name=f"s{i}")
    expected = [pk for _d, pk in brute_force(query(lat, lng, 3000))]
    assert len(expected) == 23
    for size in (1, 4, 5, 23, 50):
        seen, page_no = [], 1
        while True:
            page = sel.nearby(query(lat, lng, 3000, page=page_no, page_size=size))
            seen += ids(page)
            if not page.has_more:
                break
            assert len(page.items) == size
            page_no += 1
        assert seen == expected, size
    assert ids(sel.nearby(query(lat, lng, 3000, page=9, page_size=5))) == []


def test_statements_per_search(community):
    """One statement when the radius is at most the first stage's, or when the first stage
    holds the page and one more row; two when it does not; whatever the page size."""
    lat, lng = DATONG
    for i in range(30):  # 30 to 1,567 m: 19 within the first stage's 1,000 m
        put(community, *destination(lat, lng, i * 12, 30 + i * 53), name=f"s{i}")
    assert sel.FIRST_STAGE_M == 1000
    expected = {1: 1, 5: 1, 18: 1, 19: 2, 20: 2, 50: 2}  # 19 + 1 > 19 within 1 km
    for size, statements in expected.items():
        for open_now in (False, True):
            for radius, count in ((3000, statements), (1000, 1)):
                with CaptureQueriesContext(connection) as queries:
                    page = sel.nearby(query(lat, lng, radius, page_size=size, open_now=open_now))
                    # Reading what the page shows needs no more queries (the catalogue is
                    # cached).
                    [(item.is_open, item.status, item.links, item.point) for item in page.items]
                assert len(queries) == count, (size, open_now, radius)
                assert ids(page) == [pk for _d, pk in brute_force(query(lat, lng, radius))][:size]


def test_the_first_stage_answers_only_when_it_holds_enough(community):
    """The 1 km circle's nearest rows are the answer only when it holds the page and one more:
    a place just outside it is never left out, nor one just inside it wrongly taken."""
    lat, lng = DATONG
    inside = [put(community, *destination(lat, lng, b, m), name=f"in{m}")
              for b, m in ((10, 100), (120, 500), (250, 999.99))]  # fmt: skip
    outside = put(community, *destination(lat, lng, 80, 1000.01), name="out")
    with CaptureQueriesContext(connection) as queries:
        page = sel.nearby(query(lat, lng, 3000, page_size=2))
    assert ids(page) == [inside[0].pk, inside[1].pk] and page.has_more and len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        page = sel.nearby(query(lat, lng, 3000, page_size=3))
    assert ids(page) == [s.pk for s in inside] and page.has_more and len(queries) == 2
    page = sel.nearby(query(lat, lng, 3000, page_size=2, page=2))
    assert ids(page) == [inside[2].pk, outside.pk] and not page.has_more


def test_the_search_reads_the_covering_index_alone(community):
    """The inner SELECT needs only the index's columns, and seeks each cell's open stations in
    the circle's latitude band; the table is read by id for the page.
    (On PostgreSQL a handful of rows is read by a sequential scan; with that and bitmap scans
    off, the plan shows the statement can run from the index alone.)"""
    put(community, *DATONG)
    sql, params = sel._search_sql(query(*DATONG, 3000, mask=REST, kinds=("corner",)), 25)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
            index = (
                "USING COVERING INDEX station_nearby_idx (cell=? AND status=? AND lat>? AND lat<?)"
            )
            assert index in plan, plan
            assert "USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " / ".join(row[0].strip() for row in cursor.fetchall())
            assert "Index Only Scan using station_nearby_idx" in plan, plan
            condition = next(line for line in plan.split(" / ") if line.startswith("Index Cond"))
            assert "(lat >= " in condition and "(lat <= " in condition, plan
            assert "Index Scan using stations_station_pkey" in plan, plan


@pytest.mark.parametrize("boundary", ["row", "column", "corner"])
def test_across_cell_boundaries(community, boundary):
    # A query point a few metres from a cell edge: stations on both sides.
    base_lat = round(40.09 / CELL_DEG) * CELL_DEG
    base_lng = round(113.30 / CELL_DEG) * CELL_DEG
    q_lat = base_lat + (0.00002 if boundary in ("row", "corner") else 0.004)
    q_lng = base_lng + (0.00002 if boundary in ("column", "corner") else 0.004)
    stations = [
        put(community, *destination(q_lat, q_lng, bearing, metres), name=f"{bearing}-{metres}")
        for bearing in range(0, 360, 30)
        for metres in (5, 600, 1100, 1190, 2500)
    ]
    cells = {s.cell for s in stations}
    assert len(cells) >= 4
    q = query(q_lat, q_lng, 1200, page_size=50)
    expected = [pk for _d, pk in brute_force(q)]
    assert ids(sel.nearby(q)) == expected and len(expected) == 48


def test_close_calls_at_the_page_edge_follow_the_exact_distance(community):
    """The SQL orders by an equirectangular distance; a page must still hold the nearest by
    the exact one when two stations differ by centimetres on different bearings."""
    lat, lng = 40.0, 113.3
    north_east = put(community, *destination(lat, lng, 45, 2000.00), name="东北")
    south_east_1 = put(community, *destination(lat, lng, 135, 2000.02), name="东南一")
    south_east_2 = put(community, *destination(lat, lng, 135, 2000.03), name="东南二")
    cos2 = math.cos(math.radians(lat)) ** 2

    def flat(s):  # what the SQL orders by
        return (s.lat - lat) ** 2 + (s.lng - lng) ** 2 * cos2

    # The trap: by the flat distance both south-east stations come first.
    assert flat(south_east_2) < flat(north_east) and flat(south_east_1) < flat(north_east)
    assert ids(sel.nearby(query(lat, lng, 3000, page_size=1))) == [north_east.pk]
    assert ids(sel.nearby(query(lat, lng, 3000, page_size=1, page=2))) == [south_east_1.pk]
    assert ids(sel.nearby(query(lat, lng, 3000, page_size=2))) == [north_east.pk, south_east_1.pk]


def test_results_carry_what_the_list_shows(community):
    lat, lng = DATONG
    station = put(community, *destination(lat, lng, 0, 100), name="清远西街小哥驿站",
                  mask=REST | CHARGING, hours=parse_text("每天 08:00-20:00"))  # fmt: skip
    q = sel.nearby_query(lat=lat, lng=lng, radius=500, out_crs="gcj02")
    q.at = NOON
    item = sel.nearby(q).items[0]
    assert item.id == station.pk and item.name == "清远西街小哥驿站"
    assert [code for code, _label in item.services] == ["rest", "phone_charging"]
    assert item.is_open and item.status.changes_at == datetime(2026, 9, 28, 20, tzinfo=TZ)
    assert item.point == pytest.approx(wgs84_to_gcj02(station.lat, station.lng), abs=1e-9)
    assert set(item.links) == {"amap", "baidu", "tencent"}
    assert item.kind_label


# --- against a brute-force scan -------------------------------------------------------------------


station_specs = st.lists(
    st.tuples(
        st.floats(-0.04, 0.04),  # latitude offset from the query's cell corner
        st.floats(-0.05, 0.05),  # longitude offset
        st.sampled_from([0, REST, WATER, REST | WATER, REST | WATER | CHARGING]),
        st.sampled_from(KINDS),
        st.sampled_from([StationStatus.OPEN] * 4 + [StationStatus.SUSPENDED]),
        st.sampled_from(["24小时", "每天 08:00-20:00", "周一 22:00-02:00", ""]),
        st.booleans(),  # a twin at the previous station's point
    ),
    max_size=45,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=station_specs,
    q_lat=st.floats(-0.003, 0.003),
    q_lng=st.floats(-0.003, 0.003),
    radius=st.integers(1, 6000),
    mask=st.sampled_from([0, REST, REST | WATER, CHARGING]),
    kinds=st.sampled_from([(), ("corner",), ("rider_station", "union_station")]),
    open_now=st.booleans(),
    page=st.integers(1, 4),
    page_size=st.integers(1, 8),
    hour=st.integers(0, 23),
    spread=st.sampled_from([1.0, 1.0, 0.15]),
    first_stage=st.one_of(st.just(1000), st.integers(1, 6000)),
    listed=st.sampled_from([2000, 2000, 3]),
)
def test_nearby_is_the_brute_force_scan(
    community, specs, q_lat, q_lng, radius, mask, kinds, open_now, page, page_size, hour,
    spread, first_stage, listed,
):  # fmt: skip
    """Also with the first stage at any radius, and the stations packed within about 1 km
    (``spread``), so that the first stage answers alone or falls through to the full radius
    in every kind of layout; and with the cells named as ranges (``listed``)."""
    Station.objects.all().delete()
    base_lat, base_lng = 40.09, 113.30  # a cell corner: the query sits across four cells
    previous = None
    for dlat, dlng, smask, kind, status, hours, twin in specs:
        lat, lng = (
            previous if twin and previous else (base_lat + dlat * spread, base_lng + dlng * spread)
        )
        put(community, lat, lng, mask=smask, kind=kind, status=status, hours=parse_text(hours))
        previous = (lat, lng)
    at = datetime(2026, 9, 29, hour, 30, tzinfo=TZ)
    q = query(base_lat + q_lat, base_lng + q_lng, radius, mask=mask, kinds=kinds,
              open_now=open_now, page=page, page_size=page_size, at=at)  # fmt: skip
    expected = brute_force(q)
    start = (page - 1) * page_size
    with (
        mock.patch.object(sel, "FIRST_STAGE_M", first_stage),
        mock.patch.object(sel, "MAX_LISTED_CELLS", listed),
    ):
        result = sel.nearby(q)
    assert ids(result) == [pk for _d, pk in expected[start : start + page_size]]
    assert [item.distance_m for item in result.items] == [
        d for d, _pk in expected[start : start + page_size]
    ]
    assert result.has_more == (len(expected) > start + page_size)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first_stage=st.integers(50, 3000),
    places=st.lists(
        st.tuples(
            st.floats(0, 360),  # bearing
            st.floats(0, 1.6),  # distance, in first stages
            st.sampled_from([REST, REST | WATER, CHARGING]),
            st.sampled_from(["24小时", "24小时", "每天 08:00-20:00", ""]),
            st.booleans(),  # a twin at the previous place's point
        ),
        min_size=1,
        max_size=40,
    ),
    beyond=st.floats(1.01, 3),  # the radius, in first stages
    mask=st.sampled_from([0, REST, CHARGING]),
    open_now=st.booleans(),
    page=st.integers(1, 3),
    page_size=st.integers(1, 6),
    hour=st.integers(0, 23),
)
def test_the_staged_search_is_the_brute_force_scan(
    community, first_stage, places, beyond, mask, open_now, page, page_size, hour
):
    """Places on both sides of the first stage's circle, a radius beyond it: the first stage
    answers alone exactly when it holds the page and one more, and is never wrong."""
    Station.objects.all().delete()
    lat, lng = 40.1, 113.3
    previous = None
    for bearing, share, smask, hours, twin in places:
        point = (
            previous if twin and previous else destination(lat, lng, bearing, share * first_stage)
        )
        put(community, *point, mask=smask, hours=parse_text(hours))
        previous = point
    at = datetime(2026, 9, 29, hour, 30, tzinfo=TZ)
    radius = first_stage + max(1, round(first_stage * (beyond - 1)))
    q = query(lat, lng, radius, mask=mask, open_now=open_now, page=page, page_size=page_size,
              at=at)  # fmt: skip
    expected = brute_force(q)
    start = (page - 1) * page_size
    with (
        mock.patch.object(sel, "FIRST_STAGE_M", first_stage),
        CaptureQueriesContext(connection) as queries,
    ):
        result = sel.nearby(q)
    assert ids(result) == [pk for _d, pk in expected[start : start + page_size]]
    assert [item.distance_m for item in result.items] == [
        d for d, _pk in expected[start : start + page_size]
    ]
    assert result.has_more == (len(expected) > start + page_size)
    held = sum(d <= first_stage for d, _pk in expected) > start + page_size
    assert len(queries) <= (2 if held else 3)
    if not held:
        assert len(queries) >= 2


# --- the request's input --------------------------------------------------------------------------


def test_a_request_is_checked_and_converted(db):
    gcj = wgs84_to_gcj02(*DATONG)
    q = sel.nearby_query(lat=str(gcj[0]), lng=str(gcj[1]), crs="gcj02", radius="2500",
                         services="rest，饮水", kinds="corner,rider_station", open_now=True,
                         page="2", page_size=10)  # fmt: skip
    assert haversine_m(q.lat, q.lng, *DATONG) < 0.5
    assert q.radius_m == 2500 and q.mask == services_mask(["rest", "water"])
    assert q.kinds == ("corner", "rider_station") and q.open_now
    assert (q.page, q.page_size, q.crs) == (2, 10, "gcj02")
    assert sel.nearby_query(lat=40, lng=113, mode="walk").radius_m == 1000
    assert sel.nearby_query(lat=40, lng=113).radius_m == 3000
    assert sel.nearby_query(lat=40, lng=113, out_crs="bd09").crs == "bd09"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"lat": 91}, None),
        ({"lat": "north"}, None),
        ({"lng": float("nan")}, None),
        ({"crs": "mars"}, None),
        ({"radius": 0}, "invalid_radius"),
        ({"radius": -5}, "invalid_radius"),
        ({"radius": 20_001}, "invalid_radius"),
        ({"radius": "far"}, "invalid_radius"),
        ({"radius": 1.5}, "invalid_radius"),
        ({"radius": True}, "invalid_radius"),
        ({"mode": "car"}, "invalid_mode"),
        ({"services": "teleport"}, "unknown_service"),
        ({"kinds": "shop"}, "invalid_kind"),
        ({"page": 0}, "invalid_page"),
        ({"page_size": 51}, "invalid_page_size"),
        ({"page_size": "ten"}, "invalid_page_size"),
        ({"out_crs": "utm"}, None),
    ],
)
def test_bad_requests_are_clear_400s(db, kwargs, code):
    values = {"lat": DATONG[0], "lng": DATONG[1], **kwargs}
    with pytest.raises(ApplicationError) as caught:
        sel.nearby_query(**values)
    assert caught.value.status == 400
    if code is not None:
        assert caught.value.code == code
    assert str(caught.value.message).strip()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ring=st.lists(st.tuples(st.floats(0, 360), st.integers(0, 5)), min_size=1, max_size=25),
    radius_of_ring=st.integers(50, 2900),
    page_size=st.integers(1, 5),
    page=st.integers(1, 3),
)
def test_stations_on_a_ring_centimetres_apart(community, ring, radius_of_ring, page_size, page):
    """Stations at nearly the same distance on every bearing: where the flat order and the
    exact one disagree most often."""
    Station.objects.all().delete()
    lat, lng = 40.1, 113.3
    for bearing, centimetres in ring:
        put(community, *destination(lat, lng, bearing, radius_of_ring + centimetres / 100))
    q = query(lat, lng, 3000, page=page, page_size=page_size)
    expected = brute_force(q)
    start = (page - 1) * page_size
    with CaptureQueriesContext(connection) as queries:
        result = sel.nearby(q)
    assert ids(result) == [pk for _d, pk in expected[start : start + page_size]]
    assert result.has_more == (len(expected) > start + page_size)
    # A close call costs one more statement, in the first stage when it answers, else in the
    # full radius after it.
    held = sum(d <= sel.FIRST_STAGE_M for d, _pk in expected) > start + page_size
    assert len(queries) <= (2 if held else 3)


@settings(max_examples=500, deadline=None)
@given(
    lat=st.floats(18, 54),
    radius=st.integers(1, 20_000),
    bearing=st.floats(0, 360),
    share=st.floats(0, 1.01),
)
def test_the_flat_distance_stays_within_its_slack(lat, radius, bearing, share):
    q = query(lat, 113.0, radius)
    point = destination(lat, 113.0, bearing, radius * share)
    exact = haversine_m(lat, 113.0, *point)
    cos2 = math.cos(math.radians(lat)) ** 2
    flat = math.sqrt((point[0] - lat) ** 2 + (point[1] - 113.0) ** 2 * cos2) * sel.M_PER_DEG
    assert flat <= exact * (1 + sel._slack(q)) + 1e-6
    assert exact <= flat * (1 + sel._slack(q)) + 1e-6


def test_a_close_call_costs_one_bounded_second_query(community, monkeypatch):
    lat, lng = 40.0, 113.3
    put(community, *destination(lat, lng, 45, 2000.00))
    for i in range(6):
        put(community, *destination(lat, lng, 135, 2000.02 + i / 100))
    far = put(community, *destination(lat, lng, 0, 2900))
    with CaptureQueriesContext(connection) as queries:
        page = sel.nearby(query(lat, lng, 3000, page_size=1))
    # The first stage (1 km) finds nothing; the full radius, then its bounded second read.
    assert len(queries) == 3 and len(page.items) == 1
    monkeypatch.setattr(sel, "FIRST_STAGE_M", 3000)
    with CaptureQueriesContext(connection) as queries:
        assert ids(sel.nearby(query(lat, lng, 3000, page_size=1))) == ids(page)
    assert len(queries) == 2
    # The second read stops just beyond the page's farthest row: the one at 2,900 m is not read.
    with connection.cursor() as cursor:
        sql, params = sel._search_sql(query(lat, lng, 3000), None, reach_m=2000.03)
        cursor.execute(sql, params)
        read = [row[0] for row in cursor.fetchall()]
    assert len(read) == 7 and far.pk not in read
