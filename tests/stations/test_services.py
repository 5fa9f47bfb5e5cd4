"""Writing the registry: create and update stations, who may change what, hours exceptions,
photos and the QR code. Every refusal leaves the station and the audit log as they were."""

import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.forms.models import model_to_dict
from PIL import Image

from tests.world import PASSWORD
from yizhan.core.errors import ApplicationError
from yizhan.core.geo import cell_of, haversine_m, wgs84_to_bd09, wgs84_to_gcj02
from yizhan.core.models import AuditEntry
from yizhan.core.permissions import Action, get_for_user
from yizhan.core.roles import Role
from yizhan.people.services import account_create
from yizhan.stations import services as s
from yizhan.stations.hours import parse_text
from yizhan.stations.models import Inspection, Station, StationPhoto

TZ_SHANGHAI = ZoneInfo("Asia/Shanghai")


def create(world, **changes) -> Station:
    values = dict(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=world.community_staff,
    )  # fmt: skip
    values.update(changes)
    return s.station_create(**values)


def snapshot(station: Station) -> dict:
    """Everything stored about the station, and how many audit entries there are."""
    row = Station.objects.get(pk=station.pk)
    values = model_to_dict(row)
    values.update(
        area_code=row.area_code, cell=row.cell, services_mask=row.services_mask,
        qr_version=row.qr_version, updated_at=row.updated_at,
    )  # fmt: skip
    return {"station": values, "audit": AuditEntry.objects.count()}


def refused(call, code=None, status=400, field=None) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call()
    error = caught.value
    assert error.status == status, (error.status, error.code, str(error))
    if code is not None:
        assert error.code == code
    if field is not None:
        assert error.field == field
    assert str(error.message).strip()
    return error


@pytest.fixture
def corner(world):
    return create(
        world, name="小店爱心角", kind="corner", lat=40.096, lng=113.315,
        merchant=world.merchant, host_name="小店", services=["water"], hours="24小时",
    )  # fmt: skip


# --- create ---------------------------------------------------------------------------------------


def test_create_stores_every_field(world):
    station = create(
        world, address="甲一路 1 号", services="rest、water，手机充电 Tyre inflation",
        hours="周一至周五 08:00-20:00", zones=["party", "休息", "Study"], host_name="甲一社区",
        contact_name="王主任", contact_phone="0352-1234567", description="有热水", ref="QY-001",
    )  # fmt: skip
    station.refresh_from_db()
    assert station.name == "甲一小哥驿站" and station.kind == "rider_station"
    assert station.community == world.community_a1 and station.grid == world.grid_a1_west
    assert station.area_code == world.grid_a1_west.code
    assert (station.lat, station.lng) == (40.095, 113.305)
    assert station.cell == cell_of(40.095, 113.305)
    assert s.service_codes(station.services_mask) == [
        "rest", "water", "phone_charging", "tyre_inflation"
    ]  # fmt: skip
    assert station.hours == {"week": {str(d): [["08:00", "20:00"]] for d in range(1, 6)}}
    assert station.zones == ["party", "rest", "study"]
    assert (station.contact_name, station.contact_phone) == ("王主任", "0352-1234567")
    assert station.ref == "QY-001" and station.status == "open" and station.qr_version == 1
    entry = AuditEntry.objects.get(action="station.created")
    assert entry.target_id == str(station.pk) and entry.actor == world.community_staff
    assert entry.data == {"name": "甲一小哥驿站"}
    assert entry.area_code == world.grid_a1_west.code


def test_a_gcj02_point_lands_on_its_wgs84_point(world):
    wgs = (40.0953117, 113.3071234)
    gcj = wgs84_to_gcj02(*wgs)
    assert haversine_m(*wgs, *gcj) > 100  # the offset is real
    station = create(world, lat=gcj[0], lng=gcj[1], crs="gcj02")
    assert haversine_m(station.lat, station.lng, *wgs) < 0.5
    bd = wgs84_to_bd09(*wgs)
    other = create(world, name="百度点", lat=str(bd[0]), lng=str(bd[1]), crs="bd09")
    assert haversine_m(other.lat, other.lng, *wgs) < 0.5
    assert other.cell == cell_of(other.lat, other.lng)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": ""}, None, "name"),
        ({"name": "x" * 101}, None, "name"),
        ({"kind": "shop"}, "invalid_kind", "kind"),
        ({"lat": 95}, None, None),
        ({"lat": "north"}, None, None),
        ({"crs": "mars"}, None, None),
        ({"lat": 40.085}, "outside_community", "lat"),
        ({"services": ["rest", "teleport"]}, "unknown_service", "services"),
        ({"hours": "周八 08:00-20:00"}, "invalid_hours", None),
        ({"zones": ["garden"]}, None, "zones"),
        ({"contact_phone": "call me"}, "invalid_phone", "contact_phone"),
        ({"ref": "has space"}, None, "ref"),
        ({"status": "closed"}, None, "status"),
        ({"community": None}, None, "community"),
        ({"address": "x" * 201}, None, "address"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(world, changes, code, field):
    before = (Station.objects.count(), AuditEntry.objects.count())
    if "community" in changes and changes["community"] is None:
        changes = {"community": world.street_a}
    refused(lambda: create(world, **changes), code=code, status=400, field=field)
    assert (Station.objects.count(), AuditEntry.objects.count()) == before


def test_the_host_must_be_a_merchant(world):
    before = Station.objects.count()
    refused(lambda: create(world, merchant=world.rider.user), code="not_a_merchant")
    assert Station.objects.count() == before


def test_a_reference_is_unique(world):
    create(world, ref="QY-001")
    before = (Station.objects.count(), AuditEntry.objects.count())
    refused(lambda: create(world, name="第二", ref="QY-001"), code="conflict", status=409)
    assert (Station.objects.count(), AuditEntry.objects.count()) == before
    other = create(world, name="第二", ref="QY-002")
    snap = snapshot(other)
    refused(lambda: s.station_update(station=other, actor=world.community_staff, ref="QY-001"),
            status=409, field="ref")  # fmt: skip
    assert snapshot(other) == snap
    # Blank references do not collide.
    create(world, name="三")
    create(world, name="四")


@pytest.mark.parametrize("who", ["rider", "merchant", "other_community_staff", "anonymous"])
def test_only_staff_of_the_area_create(world, who):
    from django.contrib.auth.models import AnonymousUser

    actor = world.account(who) or AnonymousUser()
    before = Station.objects.count()
    refused(lambda: create(world, actor=actor), status=401 if who == "anonymous" else 403)
    assert Station.objects.count() == before


def test_street_and_district_admins_create_beneath_them(world):
    assert create(world, actor=world.street_admin).community == world.community_a1
    assert create(world, name="区建", actor=world.district_admin).pk


# --- update ---------------------------------------------------------------------------------------


UPDATES = [
    ("name", "新名字", "name", "新名字"),
    ("kind", "union_station", "kind", "union_station"),
    ("address", "甲一路 2 号", "address", "甲一路 2 号"),
    ("zones", "党建、学习", "zones", ["party", "study"]),
    ("host_name", "甲一社区", "host_name", "甲一社区"),
    ("ref", "QY-9", "ref", "QY-9"),
    ("services", ["water", "wifi"], "services_mask", (1 << 1) | (1 << 7)),
    (
        "hours",
        "每天 07:00-22:00",
        "hours",
        {"week": {str(d): [["07:00", "22:00"]] for d in range(1, 8)}},
    ),
    ("hours", {"always": True}, "hours", {"always": True}),
    ("hours", parse_text("周一 08:00-09:00"), "hours", {"week": {"1": [["08:00", "09:00"]]}}),
    ("contact_name", "李", "contact_name", "李"),
    ("contact_phone", "13812341234", "contact_phone", "13812341234"),
    ("description", "有雨具", "description", "有雨具"),
    ("status", "suspended", "status", "suspended"),
    ("status_note", "装修中", "status_note", "装修中"),
]


@pytest.mark.parametrize(("field", "value", "column", "stored"), UPDATES)
def test_staff_update_each_field_with_an_audit_entry(world, field, value, column, stored):
    station = create(world, services=["rest"], hours="每天 08:00-20:00")
    old = getattr(Station.objects.get(pk=station.pk), column)
    updated = s.station_update(station=station, actor=world.community_staff, **{field: value})
    assert getattr(updated, column) == stored
    assert getattr(Station.objects.get(pk=station.pk), column) == stored
    entry = AuditEntry.objects.filter(action="station.updated").get()
    assert entry.actor == world.community_staff and entry.target_id == str(station.pk)
    assert entry.data == json.loads(json.dumps(
        {"changed": [column], "before": {column: old}, "after": {column: stored}}
    ))  # fmt: skip


def test_an_update_that_changes_nothing_writes_nothing(world):
    station = create(world, services=["rest"])
    snap = snapshot(station)
    s.station_update(station=station, actor=world.community_staff, name="甲一小哥驿站",
                     services="rest")  # fmt: skip
    assert snapshot(station) == snap


def test_moving_a_station_keeps_cell_grid_and_area_in_step(world):
    station = create(world)
    assert station.grid == world.grid_a1_west
    moved = s.station_update(
        station=station, actor=world.community_staff, location=(40.0962, 113.3155, "wgs84")
    )
    moved.refresh_from_db()
    assert (moved.lat, moved.lng) == (40.0962, 113.3155)
    assert moved.cell == cell_of(40.0962, 113.3155) != cell_of(40.095, 113.305)
    assert moved.grid == world.grid_a1_east and moved.area_code == world.grid_a1_east.code
    entry = AuditEntry.objects.get(action="station.updated")
    assert entry.data["changed"] == ["area_code", "cell", "grid", "lat", "lng"]
    assert entry.data["before"]["grid"] == world.grid_a1_west.pk
    assert entry.data["after"]["grid"] == world.grid_a1_east.pk
    # A point in GCJ-02, and one given without a system (WGS-84).
    gcj = wgs84_to_gcj02(40.0955, 113.3055)
    again = s.station_update(station=moved, actor=world.community_staff, location=(*gcj, "gcj02"))
    assert haversine_m(again.lat, again.lng, 40.0955, 113.3055) < 0.5
    assert again.cell == cell_of(again.lat, again.lng) and again.grid == world.grid_a1_west
    plain = s.station_update(
        station=again, actor=world.community_staff, location=(40.0951, 113.3051)
    )
    assert (plain.lat, plain.lng) == (40.0951, 113.3051)
    keyed = s.station_update(
        station=plain, actor=world.community_staff, location={"lat": 40.0952, "lng": 113.3052}
    )
    assert (keyed.lat, keyed.lng) == (40.0952, 113.3052)


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ((40.085, 113.305, "wgs84"), "outside_community"),
        ((40.095,), "invalid_location"),
        ("40.095,113.305", "invalid_location"),
        (None, "invalid_location"),
        ((40.095, 113.305, "mars"), None),
        ((91, 113.305, "wgs84"), None),
    ],
)
def test_a_bad_move_is_refused_and_changes_nothing(world, location, code):
    station = create(world)
    snap = snapshot(station)
    refused(
        lambda: s.station_update(station=station, actor=world.community_staff, location=location),
        code=code,
    )
    assert snapshot(station) == snap


def test_the_host_merchant_changes_only_merchant_fields(world, corner):
    merchant = world.merchant
    s.station_update(
        station=corner, actor=merchant, services=["water", "phone_charging"],
        hours="每天 09:00-21:00", contact_name="店主", contact_phone="13800001111",
        description="免费打气", status="suspended", status_note="店休",
    )  # fmt: skip
    corner.refresh_from_db()
    assert s.service_codes(corner.services_mask) == ["water", "phone_charging"]
    assert corner.hours["week"]["1"] == [["09:00", "21:00"]]
    assert (corner.contact_name, corner.status, corner.status_note) == ("店主", "suspended", "店休")
    entry = AuditEntry.objects.get(action="station.updated")
    assert entry.actor == merchant
    assert entry.data["changed"] == [
        "contact_name", "contact_phone", "description", "hours", "services_mask", "status",
        "status_note",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "改名"),
        ("kind", "rider_station"),
        ("address", "别处"),
        ("zones", ["rest"]),
        ("host_name", "别家"),
        ("ref", "X-1"),
        ("location", (40.0961, 113.3151, "wgs84")),
        ("merchant", None),
    ],
)
def test_the_merchant_may_not_change_other_fields(world, corner, field, value):
    snap = snapshot(corner)
    error = refused(
        lambda: s.station_update(
            station=corner, actor=world.merchant, description="也改这个", **{field: value}
        ),
        status=403,
    )
    assert field in str(error.message)
    assert snapshot(corner) == snap


def test_a_merchant_may_not_touch_a_corner_they_do_not_host(world, corner):
    other = account_create(username="m2", name="别家", role=Role.MERCHANT, password=PASSWORD)
    snap = snapshot(corner)
    refused(lambda: s.station_update(station=corner, actor=other, description="x"), status=403)
    assert snapshot(corner) == snap


def test_staff_of_another_community_through_the_permission_layer(world, corner):
    staff = world.other_community_staff
    # Stations are public: another community's staff see it (no 404) but may not run it (403).
    assert get_for_user(Station, staff, pk=corner.pk) == corner
    refused(lambda: get_for_user(Station, staff, Action.OPERATE, pk=corner.pk), status=403)
    snap = snapshot(corner)
    refused(lambda: s.station_update(station=corner, actor=staff, description="x"), status=403)
    assert snapshot(corner) == snap
    # An inspection is not public: for them it does not exist (404).
    item = s.checklist_item_create(street=world.street_a, text="有座椅", actor=world.street_admin)
    inspection = s.inspection_record(
        station=corner, results={item.pk: True}, actor=world.community_staff
    )
    refused(lambda: get_for_user(Inspection, staff, pk=inspection.pk), code="not_found", status=404)
    assert get_for_user(Inspection, world.community_staff, pk=inspection.pk) == inspection


def test_the_merchant_host_can_be_set_and_cleared_by_staff(world):
    station = create(world, kind="corner")
    s.station_update(station=station, actor=world.community_staff, merchant=world.merchant)
    station.refresh_from_db()
    assert station.merchant == world.merchant
    entry = AuditEntry.objects.get(action="station.updated")
    assert entry.data == {
        "changed": ["merchant"], "before": {"merchant": None},
        "after": {"merchant": world.merchant.pk},
    }  # fmt: skip
    s.station_update(station=station, actor=world.community_staff, merchant=None)
    station.refresh_from_db()
    assert station.merchant is None


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"colour": "red"}, 400),
        ({"qr_version": 5}, 400),
        ({"services": "teleport"}, 400),
        ({"services": 5}, 400),
        ({"services": [["rest"]]}, 400),
        ({"hours": "周一 25:00-26:00"}, 400),
        ({"hours": ["周一 08:00-20:00"]}, 400),
        ({"zones": {"a": 1}}, 400),
        ({"merchant": "merchant"}, 400),
        ({"name": 5}, 400),
    ],
)
def test_update_refuses_bad_values_and_changes_nothing(world, corner, changes, status):
    snap = snapshot(corner)
    refused(lambda: s.station_update(station=corner, actor=world.community_staff, **changes),
            status=status)  # fmt: skip
    assert snapshot(corner) == snap


@pytest.mark.parametrize(
    ("zones", "expected"),
    [
        ("党建,学习；工作 休息/补给", ["party", "study", "work", "rest", "supply"]),
        (["党建区", "休息区"], ["party", "rest"]),
        (["Party building", "REST", "study"], ["party", "rest", "study"]),
        (["rest", "休息"], ["rest"]),
        ([], []),
        (None, []),
    ],
)
def test_zones_in_codes_english_and_chinese(zones, expected):
    assert s._zones(zones) == expected


def test_zones_do_not_depend_on_the_language():
    from django.utils import translation

    for language in ["en", "zh-hans"]:
        with translation.override(language):
            assert s._zones(["党建", "Party", "party"]) == ["party"]


# --- the service catalogue in masks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        ("rest, water", ["rest", "water"]),
        ("饮水、手机充电", ["water", "phone_charging"]),
        (["Drinking water", "PHONE_CHARGING", " rest "], ["rest", "water", "phone_charging"]),
        ("Wi-Fi；无线网络", ["wifi"]),
        ((), []),
        (None, []),
        ("", []),
    ],
)
def test_services_mask_takes_codes_and_names(db, value, codes):
    assert s.service_codes(s.services_mask(value)) == codes


@pytest.mark.parametrize("value", ["teleport", ["rest", 5], [["rest"]], 5, [None], {"rest": 1}])
def test_services_mask_refuses_unknown(db, value):
    refused(lambda: s.services_mask(value), code="unknown_service", field="services")


# --- hours exceptions -----------------------------------------------------------------------------


def test_exceptions_set_and_removed(world, corner, monkeypatch):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    monkeypatch.setattr(
        timezone, "now", lambda: datetime(2026, 9, 28, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    station = s.station_exception_set(station=corner, day="2026-10-01", closed=True,
                                      actor=world.merchant)  # fmt: skip
    assert station.hours == {"always": True, "except": {"2026-10-01": []}}
    s.station_exception_set(station=corner, day=date(2026, 10, 2), periods="10:00-16:00",
                            actor=world.community_staff)  # fmt: skip
    s.station_exception_set(station=corner, day="2026-10-03",
                            periods=[["09:00", "12:00"], ["14:00", "18:00"]],
                            actor=world.community_staff)  # fmt: skip
    s.station_exception_set(station=corner, day="2026-10-04", periods=["09:00-12:00"],
                            actor=world.community_staff)  # fmt: skip
    s.station_exception_set(station=corner, day="2026-10-05", periods="休息",
                            actor=world.community_staff)  # fmt: skip
    corner.refresh_from_db()
    assert corner.hours["except"] == {
        "2026-10-01": [],
        "2026-10-02": [["10:00", "16:00"]],
        "2026-10-03": [["09:00", "12:00"], ["14:00", "18:00"]],
        "2026-10-04": [["09:00", "12:00"]],
        "2026-10-05": [],
    }
    entries = AuditEntry.objects.filter(action="station.exception_set").order_by("id")
    assert [e.data["day"] for e in entries] == [f"2026-10-0{d}" for d in range(1, 6)]
    assert [e.data["closed"] for e in entries] == [True, False, False, False, True]
    s.station_exception_remove(station=corner, day="2026-10-01", actor=world.merchant)
    corner.refresh_from_db()
    assert "2026-10-01" not in corner.hours["except"]
    assert AuditEntry.objects.filter(action="station.exception_removed").count() == 1
    # Past exceptions are dropped when a new one is set.
    monkeypatch.setattr(
        timezone, "now", lambda: datetime(2026, 10, 4, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    s.station_exception_set(station=corner, day="2026-10-10", closed=True,
                            actor=world.community_staff)  # fmt: skip
    corner.refresh_from_db()
    assert corner.hours["except"] == {
        "2026-10-04": [["09:00", "12:00"]], "2026-10-05": [], "2026-10-10": []
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"day": "2020-01-01", "closed": True}, "date_passed", 400),
        ({"day": "someday", "closed": True}, "invalid_hours", 400),
        ({"day": "2099-10-01"}, "invalid_hours", 400),
        ({"day": "2099-10-01", "periods": ""}, "invalid_hours", 400),
        ({"day": "2099-10-01", "periods": []}, "invalid_hours", 400),
        ({"day": "2099-10-01", "periods": "周三 08:00-12:00"}, "invalid_hours", 400),
        ({"day": "2099-10-01", "periods": "08:00-12:00,11:00-13:00"}, "invalid_hours", 400),
        ({"day": "2099-10-01", "periods": [["08:00"]]}, "invalid_hours", 400),
        ({"day": "2099-10-01", "periods": {"a": 1}}, "invalid_hours", 400),
    ],
)
def test_bad_exceptions_change_nothing(world, corner, kwargs, code, status):
    snap = snapshot(corner)
    refused(lambda: s.station_exception_set(station=corner, actor=world.merchant, **kwargs),
            code=code, status=status)  # fmt: skip
    assert snapshot(corner) == snap


def test_removing_a_missing_exception_is_a_404(world, corner):
    snap = snapshot(corner)
    refused(lambda: s.station_exception_remove(station=corner, day="2099-01-01",
                                               actor=world.merchant),
            code="no_exception", status=404)  # fmt: skip
    assert snapshot(corner) == snap


def test_exceptions_refused_for_others(world, corner):
    snap = snapshot(corner)
    refused(lambda: s.station_exception_set(station=corner, day="2099-10-01", closed=True,
                                            actor=world.rider.user), status=403)  # fmt: skip
    assert snapshot(corner) == snap


# --- the QR code ----------------------------------------------------------------------------------


def test_rotating_the_qr_code_voids_the_old_one(world, corner):
    old = s.qr_token(corner)
    assert len(old) == 20 and s.qr_token(Station.objects.get(pk=corner.pk)) == old
    station = s.station_qr_rotate(station=corner, actor=world.community_staff)
    assert station.qr_version == 2 and s.qr_token(station) != old
    assert AuditEntry.objects.get(action="station.qr_rotated").data == {"v": 2}
    snap = snapshot(corner)
    refused(lambda: s.station_qr_rotate(station=corner, actor=world.merchant), status=403)
    refused(lambda: s.station_qr_rotate(station=corner, actor=world.other_community_staff),
            status=403)  # fmt: skip
    assert snapshot(corner) == snap


# --- photos ---------------------------------------------------------------------------------------


def jpeg(width=800, height=600) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


def files_in(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_photos_added_and_removed_with_their_files(world, corner, media,
                                                   django_capture_on_commit_callbacks):  # fmt: skip
    photo = s.station_photo_add(station=corner, upload=jpeg(), actor=world.merchant, caption="门口")
    assert (photo.width, photo.height, photo.caption) == (800, 600, "门口")
    assert photo.area_code == corner.area_code and photo.uploaded_by == world.merchant
    assert len(files_in(media)) == 2
    assert AuditEntry.objects.get(action="station.photo_added").data == {"photo": photo.pk}
    photo_id = photo.pk
    with django_capture_on_commit_callbacks(execute=True):
        s.station_photo_remove(photo=photo, actor=world.community_staff)
    assert files_in(media) == [] and StationPhoto.objects.count() == 0
    assert AuditEntry.objects.get(action="station.photo_removed").data == {"photo": photo_id}


def test_a_photo_whose_row_fails_leaves_no_files(world, corner, media, monkeypatch):
    def broken(self, *args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(StationPhoto, "save", broken)
    with pytest.raises(IntegrityError):
        s.station_photo_add(station=corner, upload=jpeg(), actor=world.merchant)
    assert files_in(media) == []
    monkeypatch.undo()
    # The thumbnail cannot be written: the display size already written goes too.
    from django.core.files.storage import FileSystemStorage

    original = FileSystemStorage._save

    def second_write_fails(self, name, content):
        if "thumb" in name:
            raise OSError("disk full")
        return original(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", second_write_fails)
    with pytest.raises(OSError):
        s.station_photo_add(station=corner, upload=jpeg(), actor=world.merchant)
    assert files_in(media) == [] and StationPhoto.objects.count() == 0


def test_photos_are_capped_and_checked(world, corner, media):
    for _ in range(s.MAX_PHOTOS):
        s.station_photo_add(station=corner, upload=jpeg(40, 30), actor=world.community_staff)
    before = (StationPhoto.objects.count(), files_in(media), AuditEntry.objects.count())
    refused(lambda: s.station_photo_add(station=corner, upload=jpeg(), actor=world.merchant),
            code="too_many_photos")  # fmt: skip
    assert (StationPhoto.objects.count(), files_in(media), AuditEntry.objects.count()) == before
    StationPhoto.objects.filter(pk=StationPhoto.objects.first().pk).delete()
    bad = SimpleUploadedFile("x.jpg", b"not a photo", content_type="image/jpeg")
    before = (StationPhoto.objects.count(), files_in(media))
    refused(lambda: s.station_photo_add(station=corner, upload=bad, actor=world.merchant),
            code="invalid_image")  # fmt: skip
    refused(lambda: s.station_photo_add(station=corner, upload=jpeg(), actor=world.rider.user),
            status=403)  # fmt: skip
    assert (StationPhoto.objects.count(), files_in(media)) == before
