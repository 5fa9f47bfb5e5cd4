"""Stations under concurrent requests, on PostgreSQL: a rider counts once a period however many
scans arrive together, a key takes effect once, and two editors both get their change.

Each test starts real threads, each with its own database connection, and releases them
together with a barrier (``run_together``) so their transactions overlap.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.people.test_concurrency import run_together
from tests.world import PASSWORD, build_world
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry, IdempotencyRecord
from yizhan.people.services import account_create
from yizhan.stations import services as s
from yizhan.stations.models import ServiceItem, Station, StationPhoto, Visit

pytestmark = [
    pytest.mark.postgres,
    # Serialised rollback brings back the service catalogue the migrations seed.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world_station():
    world = build_world()
    world.station = s.station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=world.community_staff, hours="每天 08:00-20:00",
    )  # fmt: skip
    return world


def visits(results):
    """Every thread got a visit (anything else, a deadlock or a 500, fails the test)."""
    for result in results:
        if not isinstance(result, Visit):
            raise AssertionError(f"unexpected result: {result!r}")
    return results


def test_eight_scans_with_different_keys_count_once(world_station):
    world, station = world_station, world_station.station
    token = s.qr_token(station)
    results = visits(
        run_together(
            *(
                lambda i=i: s.visit_check_in(
                    station=station,
                    token=token,
                    user=world.rider.user,
                    idempotency_key=f"race-scan-{i:04d}",
                )  # fmt: skip
                for i in range(8)
            )
        )
    )
    assert Visit.objects.filter(station=station).count() == 1
    assert {r.pk for r in results} == {Visit.objects.get().pk}
    assert sorted(r.already for r in results) == [False] + [True] * 7
    assert IdempotencyRecord.objects.filter(scope="stations.check_in").count() == 8


def test_eight_repeats_of_one_key_get_the_one_visit(world_station):
    world, station = world_station, world_station.station
    token = s.qr_token(station)
    results = visits(
        run_together(
            *(
                lambda: s.visit_check_in(
                    station=station,
                    token=token,
                    user=world.rider.user,
                    idempotency_key="race-same-key",
                )  # fmt: skip
                for _ in range(8)
            )
        )
    )
    assert Visit.objects.count() == 1
    assert {r.pk for r in results} == {Visit.objects.get().pk}
    assert sorted(r.already for r in results) == [False] + [True] * 7
    assert IdempotencyRecord.objects.filter(scope="stations.check_in").count() == 1


def test_two_staff_editing_one_station_both_get_their_change(world_station):
    world, station = world_station, world_station.station
    results = run_together(
        lambda: s.station_update(station=station, actor=world.community_staff, name="新名字"),
        lambda: s.station_update(station=station, actor=world.street_admin, description="有热水"),
    )
    assert all(isinstance(r, Station) for r in results), results
    station.refresh_from_db()
    assert (station.name, station.description) == ("新名字", "有热水")
    entries = AuditEntry.objects.filter(action="station.updated", target_id=str(station.pk))
    assert sorted(e.data["changed"][0] for e in entries) == ["description", "name"]
    assert {e.actor for e in entries} == {world.community_staff, world.street_admin}


def test_two_editors_setting_exceptions_on_one_json_column_keep_both(world_station):
    """The hours column is read, changed and written back: the row lock keeps both."""
    world, station = world_station, world_station.station
    results = run_together(
        *(
            lambda day=day, actor=actor: s.station_exception_set(
                station=station, day=f"2099-10-0{day}", closed=True, actor=actor
            )
            for day, actor in [
                (1, world.community_staff),
                (2, world.street_admin),
                (3, world.district_admin),
                (4, world.community_staff),
            ]
        )  # fmt: skip
    )
    assert all(isinstance(r, Station) for r in results), results
    station.refresh_from_db()
    assert sorted(station.hours["except"]) == [f"2099-10-0{d}" for d in range(1, 5)]
    assert AuditEntry.objects.filter(action="station.exception_set").count() == 4


def test_the_last_photo_place_is_taken_once(world_station, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    world, station = world_station, world_station.station

    def jpeg():
        out = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 50, 50)).save(out, "JPEG")
        return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")

    for _ in range(s.MAX_PHOTOS - 1):
        s.station_photo_add(station=station, upload=jpeg(), actor=world.community_staff)
    results = run_together(
        *(
            lambda: s.station_photo_add(station=station, upload=jpeg(), actor=world.community_staff)
            for _ in range(4)
        )
    )
    added = [r for r in results if isinstance(r, StationPhoto)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(added) == 1 and [r.code for r in refused] == ["too_many_photos"] * 3, results
    assert StationPhoto.objects.filter(station=station).count() == s.MAX_PHOTOS
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 2 * s.MAX_PHOTOS  # the refused ones left no files behind


@pytest.fixture
def fresh_cache():
    """The cache outlives the flushed database: drop the catalogue before and after."""
    from django.core.cache import cache

    cache.delete("stations:catalogue:v1")
    yield
    cache.delete("stations:catalogue:v1")


def test_two_new_services_at_once_get_two_bits(fresh_cache):
    operator = account_create(
        username="operator", name="平台", role="admin", password=PASSWORD, is_superuser=True
    )
    seeded = ServiceItem.objects.count()
    results = run_together(
        lambda: s.service_item_create(code="shade", name="遮阳", name_en="Shade", actor=operator),
        lambda: s.service_item_create(
            code="umbrella", name="借伞", name_en="Umbrella", actor=operator
        ),  # fmt: skip
    )
    assert all(isinstance(r, ServiceItem) for r in results), results
    assert sorted(r.bit for r in results) == [seeded, seeded + 1]
    assert s.services_mask("shade umbrella") == (1 << seeded) | (1 << (seeded + 1))


def test_two_stations_taking_one_new_reference_at_once_one_wins():
    world = build_world()

    def create(name, actor):
        return lambda: s.station_create(
            name=name, kind="corner", community=world.community_a1, lat=40.095, lng=113.305,
            actor=actor, ref="QY-RACE-1",
        )  # fmt: skip

    results = run_together(create("甲", world.community_staff), create("乙", world.street_admin))
    made = [r for r in results if isinstance(r, Station)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert (refused[0].status, refused[0].field) == (409, "ref")
    assert Station.objects.filter(ref="QY-RACE-1").count() == 1
    assert AuditEntry.objects.filter(action="station.created").count() == 1
