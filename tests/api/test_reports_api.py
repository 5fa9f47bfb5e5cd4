"""Reports API (随手拍): categories and settings, duplicates, intake with photos, the scoped
lists, one report with its timeline, every transition, the handler's view and staff duty. Who
may call what is in test_permission_matrix.py (which has no handler column: the handler's checks
are here); here are the flows, the answers' contents and the bad input of issue 5."""

import io
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from tests.api.helpers import call, client_for
from tests.world import PASSWORD, report_jpeg, report_objects
from yizhan.config.api import api
from yizhan.core.geo import fine_cell_of, wgs84_to_gcj02
from yizhan.core.models import IdempotencyRecord
from yizhan.core.roles import Role
from yizhan.notifications.models import Notification
from yizhan.people.services import account_create, department_create
from yizhan.points.selectors import balance_of
from yizhan.reports import services as r
from yizhan.reports.models import Category, Report, ReportEvent, ReportPhoto, Witness

REPORTS = "/api/v1/reports"


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def made(world, media):
    return report_objects(world)


@pytest.fixture
def staff(world):
    return client_for(world.community_staff)


@pytest.fixture
def rider(world):
    return client_for(world.rider.user)


def files_in(root) -> list[str]:
    """Every file under MEDIA_ROOT and the private folder of the originals beside it."""
    found = []
    for folder, prefix in ((Path(root), ""), (Path(f"{root}-private"), "private:")):
        found += [f"{prefix}{p.relative_to(folder)}" for p in folder.rglob("*") if p.is_file()]
    return sorted(found)


def refused(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def submit(client, category, *, key="submit-key-0001", photos=None, **fields):
    data = {
        "category": category.pk if isinstance(category, Category) else category,
        "lat": 40.095,
        "lng": 113.315,
        "description": "楼道里堆满了纸箱",
        **fields,
    }
    data["photos"] = [report_jpeg(900)] if photos is None else photos
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(REPORTS, data=data, headers=headers)


def post(client, report, action, body=None):
    """A JSON POST; without ``body`` an empty request (no body at all)."""
    path = f"{REPORTS}/{report.pk}/{action}"
    if body is None:
        return client.generic("POST", path)
    return call(client, "POST", path, body)


def post_form(client, report, action, data):
    return client.post(f"{REPORTS}/{report.pk}/{action}", data=data)


def png(size=(80, 60), *, name="photo.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def png_claiming(width: int, height: int):
    """A tiny PNG whose header says it is ``width`` × ``height`` (a decompression bomb)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile("bomb.jpg", data, content_type="image/jpeg")


def upload(data: bytes, name="photo.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def state() -> tuple:
    return (
        sorted(
            Report.objects.values_list(
                "pk", "status", "department_id", "points_status", "witnesses", "merged_into_id"
            )
        ),
        ReportEvent.objects.count(),
        ReportPhoto.objects.count(),
        Witness.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def second_department(world):
    """Another department of street A (住建办) with its own handler."""
    department = department_create(name="住建办", area=world.street_a, actor=world.street_admin)
    handler = account_create(
        username="handler_b", name="住建李", role=Role.HANDLER, area=world.street_a,
        department=department, password=PASSWORD,
    )  # fmt: skip
    return department, handler


# --- categories and settings -----------------------------------------------------------------


def test_categories_of_a_street_by_code_or_by_point(world, made, anon_client):
    body = anon_client.get(
        f"{REPORTS}/categories", {"street": world.street_a.code, "page_size": 50}
    ).json()
    assert body["count"] == 14
    codes = [c["code"] for c in body["items"]]
    assert codes[0] == "elderly_child" and "flying_wire" in codes
    first = body["items"][0]
    assert first["urgent"] is True and first["points"] == 10
    assert first["street"] == {"code": world.street_a.code, "name": "甲街道"}
    assert first["deadline_unit"] == "hours" and first["family"] == "care"
    by_point = anon_client.get(
        f"{REPORTS}/categories", {"lat": 40.095, "lng": 113.315, "page_size": 50}
    ).json()
    assert [c["code"] for c in by_point["items"]] == codes
    lat, lng = wgs84_to_gcj02(40.095, 113.315)
    gcj = anon_client.get(
        f"{REPORTS}/categories", {"lat": lat, "lng": lng, "crs": "gcj02", "page_size": 50}
    ).json()
    assert gcj["count"] == 14
    # Street B has none yet.
    assert anon_client.get(
        f"{REPORTS}/categories", {"street": world.street_b.code}
    ).json()["count"] == 0  # fmt: skip


@pytest.mark.parametrize(
    "query, code",
    [
        ({}, "street_required"),
        ({"street": "999999999"}, "unknown_area"),
        ({"street": "440000001001"}, "not_a_street"),
        ({"lat": 41.5, "lng": 113.315}, "outside_grids"),
        ({"lat": 40.095, "lng": 113.315, "crs": "mars"}, "invalid_crs"),
        ({"lat": 95, "lng": 113.315}, "invalid_location"),
    ],
)
def test_categories_bad_place(world, made, anon_client, query, code):
    refused(anon_client.get(f"{REPORTS}/categories", query), 400, code)


@pytest.fixture
def anon_client():
    return client_for(None)


def test_street_admin_creates_and_changes_a_category(world, made):
    admin = client_for(world.street_admin)
    department = made["department"]
    response = call(
        admin, "POST", f"{REPORTS}/categories",
        {"street": world.street_a.code, "code": "dog_mess", "name": "犬只粪便",
         "family": "city_appearance", "department_id": department.pk, "deadline_amount": 8,
         "deadline_unit": "working_hours", "points": 4},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["department"] == {"id": department.pk, "name": "城管队"}
    assert body["points"] == 4 and body["deadline_amount"] == 8 and body["is_active"] is True
    changed = call(
        admin, "PATCH", f"{REPORTS}/categories/{body['id']}",
        {"points": 0, "is_active": False, "department_id": None, "ack_minutes": 15},
    ).json()  # fmt: skip
    assert changed["points"] == 0 and changed["is_active"] is False
    assert changed["department"] is None and changed["ack_minutes"] == 15
    listed = (
        client_for(None)
        .get(f"{REPORTS}/categories", {"street": world.street_a.code, "page_size": 50})
        .json()
    )
    assert "dog_mess" not in [c["code"] for c in listed["items"]]
    everything = (
        client_for(None)
        .get(
            f"{REPORTS}/categories",
            {"street": world.street_a.code, "page_size": 50, "include_inactive": True},
        )
        .json()
    )
    assert "dog_mess" in [c["code"] for c in everything["items"]]


def test_category_bad_input_changes_nothing(world, made):
    admin = client_for(world.street_admin)
    elsewhere = department_create(name="乙城管", area=world.street_b, actor=world.district_admin)
    before = sorted(Category.objects.values_list("pk", "code", "department_id", "is_active"))
    base = {"street": world.street_a.code, "code": "new_one", "name": "新类", "family": "other"}
    for body, status, code in [
        ({**base, "department_id": elsewhere.pk}, 400, "department_out_of_scope"),
        ({**base, "code": "flying_wire"}, 409, "conflict"),
        ({**base, "code": "Bad Code"}, 400, "invalid"),
        ({**base, "family": "weather"}, 400, "invalid"),
        ({**base, "deadline_unit": "weeks"}, 400, "invalid"),
        ({**base, "deadline_amount": 0}, 400, "invalid"),
        ({**base, "street": world.community_a1.code}, 400, "not_a_street"),
    ]:
        refused(call(admin, "POST", f"{REPORTS}/categories", body), status, code)
    category = made["categories"]["flying_wire"]
    for body, code in [
        ({"department_id": elsewhere.pk}, "department_out_of_scope"),
        ({"name": " "}, "invalid"),
        ({"deadline_amount": 999}, "invalid"),
    ]:
        refused(call(admin, "PATCH", f"{REPORTS}/categories/{category.pk}", body), 400, code)
    refused(call(admin, "PATCH", f"{REPORTS}/categories/{category.pk}", {"name": None}), 422)
    refused(
        call(client_for(world.community_staff), "PATCH",
             f"{REPORTS}/categories/{category.pk}", {"urgent": True}),
        403,
    )  # fmt: skip
    assert sorted(Category.objects.values_list("pk", "code", "department_id", "is_active")) == (
        before
    )


def test_seed_adds_only_what_is_missing(world, made):
    admin = client_for(world.district_admin)
    again = call(admin, "POST", f"{REPORTS}/categories/seed", {"street": world.street_a.code})
    assert again.status_code == 200 and again.json() == {"created": 0, "items": []}
    fresh = call(admin, "POST", f"{REPORTS}/categories/seed", {"street": world.street_b.code})
    body = fresh.json()
    assert body["created"] == 14 and body["items"][0]["code"] == "elderly_child"
    assert all(item["street"]["code"] == world.street_b.code for item in body["items"])
    refused(
        call(client_for(world.street_admin), "POST", f"{REPORTS}/categories/seed",
             {"street": world.street_b.code}),
        403,
    )  # fmt: skip


def test_settings_read_by_staff_changed_by_admins(world, made, staff):
    path = f"{REPORTS}/settings?street={world.street_a.code}"
    body = staff.get(path).json()
    assert body["duplicate_radius_m"] == 50 and body["witness_share_percent"] == 50
    assert body["street"]["code"] == world.street_a.code
    admin = client_for(world.street_admin)
    changed = call(admin, "PATCH", path, {"duplicate_radius_m": 80, "burst_reports": 10})
    assert changed.status_code == 200
    assert changed.json()["duplicate_radius_m"] == 80 and changed.json()["burst_reports"] == 10
    refused(call(admin, "PATCH", path, {"duplicate_radius_m": 5000}), 400, "invalid")
    refused(call(admin, "PATCH", path, {"duplicate_days": None}), 422, "invalid")
    refused(call(staff, "PATCH", path, {"duplicate_radius_m": 60}), 403)
    refused(client_for(world.rider.user).get(path), 403)
    # Staff of another street may not read them.
    other = account_create(
        username="staff_b1", name="乙一", role=Role.STAFF, area=world.community_b1,
        password=PASSWORD,
    )  # fmt: skip
    refused(client_for(other).get(path), 403)
    assert staff.get(path).json()["duplicate_radius_m"] == 80


# --- duplicates ------------------------------------------------------------------------------


def test_duplicates_before_submit_show_no_reporter(world, made):
    submitted = made["submitted"]
    category = made["categories"]["stairwell_clutter"]
    other = client_for(world.other_rider.user)
    query = {"category": category.pk, "lat": 40.0952, "lng": 113.315}
    body = other.get(f"{REPORTS}/duplicates", query).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == submitted.pk and 20 <= item["distance_m"] <= 25
    assert item["status"] == "submitted" and item["witnesses"] == 0
    assert item["mine"] is False and item["witnessed"] is False
    assert item["thumbnail_url"].startswith("/media/reports/")
    assert set(item) == {
        "id", "category", "status", "status_label", "distance_m", "created_at", "description",
        "witnesses", "thumbnail_url", "mine", "witnessed",
    }  # fmt: skip
    assert item["category"]["code"] == "stairwell_clutter"
    # The rider's own; and after "I saw it too" the other rider is a witness.
    assert (
        client_for(world.rider.user).get(f"{REPORTS}/duplicates", query).json()["items"][0]["mine"]
    )
    assert post(other, submitted, "witness").status_code == 200
    again = other.get(f"{REPORTS}/duplicates", query).json()["items"][0]
    assert again["witnessed"] is True and again["witnesses"] == 1
    # Far away, or another category: nothing.
    assert other.get(
        f"{REPORTS}/duplicates", {**query, "lat": 40.099}
    ).json()["count"] == 0  # fmt: skip
    flying = made["categories"]["flying_wire"]
    assert other.get(
        f"{REPORTS}/duplicates", {**query, "category": flying.pk}
    ).json()["count"] == 0  # fmt: skip


def test_duplicates_truncate_the_description(world, made):
    category = made["categories"]["flying_wire"]
    r.report_submit(
        reporter=world.other_rider.user, category=category, lat=40.097, lng=113.316,
        description="电" * 300, idempotency_key="dup-long-0001", photos=[report_jpeg(77)],
    )  # fmt: skip
    body = (
        client_for(world.rider.user)
        .get(f"{REPORTS}/duplicates", {"category": category.pk, "lat": 40.097, "lng": 113.316})
        .json()
    )
    assert body["items"][0]["description"] == "电" * 80


def test_duplicates_bad_input(world, made):
    client = client_for(world.rider.user)
    place = {"lat": 40.095, "lng": 113.315}
    path = f"{REPORTS}/duplicates"
    refused(client.get(path, {"category": 999999, **place}), 400, "invalid_category")
    category = made["categories"]["flying_wire"].pk
    refused(client.get(path, {"category": category, **place, "crs": "x"}), 400, "invalid_crs")
    refused(client.get(f"{REPORTS}/duplicates", {"category": category}), 422, "invalid")
    refused(client_for(None).get(path, {"category": category, **place}), 401)


# --- intake ----------------------------------------------------------------------------------


def test_submit_with_photos_and_replay(world, made, rider, media):
    category = made["categories"]["flying_wire"]
    before = Report.objects.count()
    response = submit(
        rider, category, photos=[report_jpeg(901), png()], building="5号楼", unit="2单元",
        floor="3", address="甲一路 8 号",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted" and body["category"]["code"] == "flying_wire"
    assert body["grid"]["code"] == world.grid_a1_east.code
    assert body["community"]["code"] == world.community_a1.code
    assert (body["building"], body["unit"], body["floor"]) == ("5号楼", "2单元", "3")
    assert [p["stage"] for p in body["photos"]] == ["report", "report"]
    assert body["thumbnail_url"] == body["photos"][0]["thumbnail_url"]
    assert body["reporter"] == {"name": "王小明", "phone": "13812341234"}
    assert body["timeline"][0]["action"] == "submitted"
    assert body["timeline"][0]["photos"] == [p["id"] for p in body["photos"]]
    assert body["actions"] == []
    before_files = files_in(media)
    assert len([name for name in before_files if f"r{body['id']}-" in name]) == 4
    # The same request again (a phone retrying): the same report, 201 again, nothing new.
    again = submit(
        rider, category, photos=[report_jpeg(901), png()], building="5号楼", unit="2单元",
        floor="3", address="甲一路 8 号",
    )  # fmt: skip
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Report.objects.count() == before + 1
    assert files_in(media) == before_files
    # The same key with other content is refused.
    refused(submit(rider, category, description="别的事"), 409, "idempotency_key_reused")
    assert Report.objects.count() == before + 1


def test_a_png_named_jpg_is_accepted_as_png(world, made, rider):
    response = submit(rider, made["categories"]["flying_wire"], photos=[png(name="x.jpg")])
    assert response.status_code == 201, response.content
    photo = ReportPhoto.objects.get(pk=response.json()["photos"][0]["id"])
    assert photo.image.name.endswith(".jpg") and (photo.width, photo.height) == (80, 60)


def _jpeg_bytes(seed=950) -> bytes:
    return report_jpeg(seed, size=(320, 240)).read()


BAD_INTAKE = {
    "no idempotency key": (dict(key=None), 400, "invalid_idempotency_key"),
    "empty description": (dict(description="  "), 400, "invalid"),
    "5,000-character description": (dict(description="堆" * 5000), 400, "too_long"),
    "outside every grid": (dict(lat=41.5), 400, "outside_grids"),
    "unknown coordinate system": (dict(crs="mars"), 400, "invalid_crs"),
    "not a number": (dict(lat="north"), 422, "invalid"),
    "no photo": (dict(photos=[]), 400, "photo_required"),
    "7 photos": ("seven", 400, "too_many_photos"),
    "truncated JPEG": ("truncated", 400, "invalid_image"),
    "text named .jpg": ("text", 400, "invalid_image"),
    "30,000 × 30,000 PNG": ("bomb", 400, "invalid_image"),
    "good photo then a bad one": ("good_then_bad", 400, "invalid_image"),
    "unknown category": (dict(category=999999), 400, "invalid_category"),
    "category of another street": ("street_b", 400, "category_elsewhere"),
    "inactive category": ("inactive", 400, "invalid_category"),
    "address too long": (dict(address="路" * 201), 400, "too_long"),
}


@pytest.mark.parametrize("case", list(BAD_INTAKE))
def test_bad_intake_is_refused_and_writes_nothing(world, made, rider, media, case):
    given, status, code = BAD_INTAKE[case]
    category = made["categories"]["flying_wire"]
    fields = {}
    if isinstance(given, dict):
        fields = dict(given)
        category = fields.pop("category", category)
    elif given == "seven":
        fields["photos"] = [report_jpeg(960 + i) for i in range(7)]
    elif given == "truncated":
        data = _jpeg_bytes()
        fields["photos"] = [upload(data[: len(data) // 2])]
    elif given == "text":
        fields["photos"] = [upload("这不是照片，只是一段文字。".encode() * 20)]
    elif given == "bomb":
        fields["photos"] = [png_claiming(30_000, 30_000)]
    elif given == "good_then_bad":
        fields["photos"] = [report_jpeg(970), upload(b"GIF89a not really")]
    elif given == "street_b":
        seeded = r.categories_seed(street=world.street_b, actor=world.district_admin)
        category = seeded[1]
    elif given == "inactive":
        r.category_update(category=category, actor=world.street_admin, is_active=False)
    before, media_before = state(), files_in(media)
    response = submit(rider, category, **fields)
    refused(response, status, code)
    assert state() == before
    assert files_in(media) == media_before


def test_after_a_refusal_the_same_key_may_be_used_again(world, made, rider):
    category = made["categories"]["flying_wire"]
    refused(submit(rider, category, description=""), 400)
    assert submit(rider, category).status_code == 201


# --- the life cycle --------------------------------------------------------------------------


def test_full_life_cycle_through_the_api(world, made, rider, staff, media):
    handler = client_for(made["handler"])
    department = made["department"]
    category = made["categories"]["stairwell_clutter"]
    user = world.rider.user
    response = submit(rider, category, lat=40.0975, lng=113.3125, photos=[report_jpeg(1001)])
    assert response.status_code == 201, response.content
    report = Report.objects.get(pk=response.json()["id"])
    # Triage: staff see it in the queue, accept it, dispatch it.
    queue = staff.get(f"{REPORTS}/queue", {"page_size": 50}).json()
    assert report.pk in [item["id"] for item in queue["items"]]
    accepted = post(staff, report, "accept", {"note": "属实"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert "dispatch" in accepted.json()["actions"]
    departments = staff.get(f"{REPORTS}/{report.pk}/departments").json()
    assert [d["name"] for d in departments["items"]] == ["城管队"]
    dispatched = post(
        staff, report, "dispatch", {"department_id": department.pk, "note": "请两日内清理"}
    ).json()
    assert dispatched["status"] == "dispatched"
    assert dispatched["department"] == {"id": department.pk, "name": "城管队"}
    assert dispatched["deadline_at"] and dispatched["overdue"] is False
    # The department sees the case and handles it with an after photo.
    cases = handler.get(f"{REPORTS}/cases", {"page_size": 50}).json()
    assert report.pk in [item["id"] for item in cases["items"]]
    seen = handler.get(f"{REPORTS}/{report.pk}").json()
    assert seen["actions"] == ["handle"]
    handled = post_form(
        handler, report, "handle",
        {"note": "已清理干净", "photos": [report_jpeg(1002, name="after.jpg")]},
    )  # fmt: skip
    assert handled.status_code == 200, handled.content
    assert [p["stage"] for p in handled.json()["photos"]] == ["report", "handled"]
    # Staff check on site: the points arrive, once.
    balance = balance_of(user)
    verified = post_form(staff, report, "verify", {"passed": "true", "note": "已核实"})
    assert verified.status_code == 200, verified.content
    assert verified.json()["status"] == "verified"
    assert verified.json()["points_status"] == "paid"
    assert balance_of(user) == balance + 3  # 楼道堆物 pays 3
    refused(post_form(staff, report, "verify", {"passed": "true"}), 409, "invalid_transition")
    assert balance_of(user) == balance + 3
    closed = post(staff, report, "close", {"note": "结案"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    # The reporter sees their report, with the public timeline only, and reopens it.
    mine = rider.get(f"{REPORTS}/{report.pk}").json()
    assert mine["actions"] == ["reopen"]
    actions = [e["action"] for e in mine["timeline"]]
    assert actions == ["submitted", "accepted", "dispatched", "handled", "verified", "closed"]
    assert all(e["public"] for e in mine["timeline"])
    staff_view = staff.get(f"{REPORTS}/{report.pk}").json()
    assert "points" in [e["action"] for e in staff_view["timeline"]]
    reopened = post_form(
        rider, report, "reopen",
        {"note": "又堆上了", "photos": [report_jpeg(1003, name="again.jpg")]},
    )  # fmt: skip
    assert reopened.status_code == 200, reopened.content
    body = reopened.json()
    assert body["status"] == "accepted" and body["reopen_count"] == 1
    assert [p["stage"] for p in body["photos"]] == ["report", "handled", "reopened"]
    # Back through the department and the check: the points are not paid twice.
    post(staff, report, "dispatch", {"department_id": department.pk})
    post_form(handler, report, "handle", {"note": "再次清理", "photos": [report_jpeg(1004)]})
    assert post_form(staff, report, "verify", {"passed": "true"}).json()["status"] == "verified"
    assert balance_of(user) == balance + 3
    # The reporter was told at each step.
    kinds = list(
        Notification.objects.filter(recipient=user, target_id=str(report.pk)).values_list(
            "kind", flat=True
        )
    )
    assert kinds.count("report_status") >= 5
    assert Notification.objects.filter(
        recipient=made["handler"], kind="report_dispatched", target_id=str(report.pk)
    ).exists()


def test_transitions_refused_change_nothing(world, made, staff):
    closed, submitted = made["closed"], made["submitted"]
    elsewhere = department_create(name="乙城管", area=world.street_b, actor=world.district_admin)
    cases = [
        (post(staff, closed, "accept"), 409, "invalid_transition"),
        (post(staff, closed, "dispatch", {"department_id": made["department"].pk}), 409,
         "invalid_transition"),
        (post(staff, submitted, "dispatch", {"department_id": elsewhere.pk}), 400,
         "department_out_of_scope"),
        (post(staff, submitted, "dispatch", {}), 400, "department_required"),
        (post(staff, submitted, "dispatch", {"department_id": made["department"].pk,
                                             "deadline": "2020-01-01T08:00:00+08:00"}), 400,
         "invalid_deadline"),
        (post(staff, submitted, "reject", {"reason": " "}), 400, "invalid"),
        (post(staff, submitted, "reject", {}), 422, "invalid"),
        (post(staff, submitted, "merge", {"into": submitted.pk}), 400, "invalid"),
        (post(staff, submitted, "merge", {"into": made["handled"].pk}), 400,
         "merge_other_category"),
        (post(staff, submitted, "merge", {"into": made["a2_report"].pk}), 400, "unknown_report"),
        (post(staff, submitted, "merge", {"into": 999999}), 400, "unknown_report"),
        (post(staff, made["dispatched"], "redirect", {"department_id": made["department"].pk,
                                                     "note": "转"}), 400, "invalid"),
        (post_form(staff, made["handled"], "verify", {"passed": "false"}), 400, "invalid"),
        (post_form(staff, closed, "reopen", {"note": "还在"}), 400, "photo_required"),
        (post(staff, submitted, "acknowledge"), 409, "nothing_to_acknowledge"),
        (post(staff, submitted, "points", {"pay": True, "note": "补发"}), 409, "points_not_held"),
        (post(client_for(world.rider.user), submitted, "accept"), 403, None),
        (post(client_for(world.rider.user), closed, "close"), 403, None),
        (post(client_for(world.other_community_staff), submitted, "accept"), 404, "not_found"),
        (staff.generic("POST", f"{REPORTS}/999999/accept"), 404, "not_found"),
    ]  # fmt: skip
    before = state()
    for response, status, code in cases:
        refused(response, status, code)
    assert state() == before


def test_a_transition_refused_by_the_rules_is_409_and_writes_nothing(world, made, staff, media):
    before, files = state(), files_in(media)
    response = post_form(
        staff, made["closed"], "verify", {"passed": "true", "photos": [report_jpeg(1101)]}
    )
    refused(response, 409, "invalid_transition")
    assert state() == before and files_in(media) == files


def test_reject_merge_and_redirect(world, made, staff):
    submitted, dispatched = made["submitted"], made["dispatched"]
    merged = post(staff, submitted, "merge", {"into": dispatched.pk, "note": "同一处"}).json()
    assert merged["status"] == "merged" and merged["merged_into"] == dispatched.pk
    assert Report.objects.get(pk=dispatched.pk).witnesses == 1
    assert Witness.objects.filter(report=dispatched, user=world.rider.user).exists()
    # The rider sees theirs merged, with the public timeline.
    mine = client_for(world.rider.user).get(f"{REPORTS}/{submitted.pk}").json()
    assert mine["status"] == "merged" and mine["timeline"][-1]["action"] == "merged"
    department, _handler = second_department(world)
    redirected = post(
        staff, dispatched, "redirect", {"department_id": department.pk, "note": "属住建"}
    ).json()
    assert redirected["department"]["name"] == "住建办"
    assert redirected["timeline"][-1]["data"] == {"from": "城管队", "to": "住建办"}
    rejected = post(staff, made["a2_report"], "reject", {"reason": "不在辖区"})
    refused(rejected, 404)  # A1 staff do not see community A2's reports
    admin = client_for(world.street_admin)
    body = post(admin, made["a2_report"], "reject", {"reason": "已有人处理"}).json()
    assert body["status"] == "rejected" and body["rejection_reason"] == "已有人处理"


def test_verify_not_passed_sends_the_case_back(world, made, staff, media):
    handled = made["handled"]
    response = post_form(
        staff, handled, "verify",
        {"passed": "false", "note": "还没清完", "photos": [report_jpeg(1201)]},
    )  # fmt: skip
    body = response.json()
    assert response.status_code == 200 and body["status"] == "dispatched"
    assert body["timeline"][-1]["action"] == "sent_back"
    assert body["photos"][-1]["stage"] == "verified"


def test_urgent_alert_is_acknowledged_by_staff(world, made, staff):
    category = made["categories"]["elderly_child"]
    response = submit(client_for(world.other_rider.user), category, key="urgent-key-0001",
                      description="一位老人迷路了", photos=[report_jpeg(1301)])  # fmt: skip
    assert response.status_code == 201 and response.json()["urgent"] is True
    report = Report.objects.get(pk=response.json()["id"])
    queue = staff.get(f"{REPORTS}/queue").json()["items"]
    assert queue[0]["id"] == report.pk  # urgent first
    assert "acknowledge" in staff.get(f"{REPORTS}/{report.pk}").json()["actions"]
    taken = post(staff, report, "acknowledge")
    assert taken.status_code == 200 and taken.json()["acknowledged_at"]
    refused(post(staff, report, "acknowledge"), 409, "nothing_to_acknowledge")
    assert "acknowledge" not in taken.json()["actions"]


def test_witness(world, made):
    submitted = made["submitted"]
    other = client_for(world.other_rider.user)
    first = post(other, submitted, "witness")
    assert first.status_code == 200 and first.json()["witnesses"] == 1
    again = post(other, submitted, "witness").json()
    assert again["witnesses"] == 1 and again["created_at"] == first.json()["created_at"]
    before = state()
    refused(post(client_for(world.rider.user), submitted, "witness"), 409, "own_report")
    refused(post(other, made["closed"], "witness"), 409, "report_not_open")
    refused(call(other, "POST", f"{REPORTS}/999999/witness"), 404)
    refused(post(client_for(None), submitted, "witness"), 401)
    assert state() == before
    # The witness does not see the report itself.
    refused(other.get(f"{REPORTS}/{submitted.pk}"), 404)


def test_held_points_are_decided_by_staff(world, made, staff):
    user = world.rider.user
    category = made["categories"]["flying_wire"]
    # The same picture as the rider's first report: flagged, so the points wait for a person.
    response = submit(client_for(user), category, photos=[report_jpeg(1)], lat=40.0991,
                      lng=113.3111)  # fmt: skip
    report = Report.objects.get(pk=response.json()["id"])
    assert staff.get(f"{REPORTS}/{report.pk}").json()["flags"] == ["same_photo"]
    assert client_for(user).get(f"{REPORTS}/{report.pk}").json()["flags"] == []
    flagged = staff.get(REPORTS, {"flagged": True}).json()
    assert [item["id"] for item in flagged["items"]] == [report.pk]
    post(staff, report, "dispatch", {"department_id": made["department"].pk})
    post_form(client_for(made["handler"]), report, "handle",
              {"note": "已拆除", "photos": [report_jpeg(1401)]})  # fmt: skip
    balance = balance_of(user)
    verified = post_form(staff, report, "verify", {"passed": "true"}).json()
    assert verified["points_status"] == "held" and verified["actions"] == ["close", "points"]
    assert balance_of(user) == balance
    refused(post(staff, report, "points", {"pay": True, "note": ""}), 400)
    paid = post(staff, report, "points", {"pay": True, "note": "核实为新问题"}).json()
    assert paid["points_status"] == "paid" and balance_of(user) == balance + 5
    refused(post(staff, report, "points", {"pay": True, "note": "再发"}), 409, "points_not_held")


# --- who sees what ---------------------------------------------------------------------------


def test_the_handler_sees_only_their_departments_cases(world, made, media):
    handler = client_for(made["handler"])
    ours = {made["dispatched"].pk, made["handled"].pk, made["verified"].pk, made["closed"].pk}
    listed = handler.get(REPORTS, {"page_size": 50}).json()
    assert {item["id"] for item in listed["items"]} == ours
    cases = handler.get(f"{REPORTS}/cases").json()
    assert [item["id"] for item in cases["items"]] == [made["dispatched"].pk]
    detail = handler.get(f"{REPORTS}/{made['dispatched'].pk}").json()
    assert detail["reporter"] == {"name": "孙*", "phone": None}
    assert detail["timeline"][0]["actor"] == "孙*"
    refused(handler.get(f"{REPORTS}/{made['submitted'].pk}"), 404)
    before = state()
    refused(post(handler, made["dispatched"], "accept"), 403, "staff_only")
    refused(post(handler, made["dispatched"], "dispatch", {}), 403, "staff_only")
    refused(post(handler, made["submitted"], "accept"), 404)
    refused(post(handler, made["handled"], "verify"), 422)
    refused(post_form(handler, made["handled"], "verify", {"passed": "true"}), 403, "staff_only")
    refused(post(handler, made["dispatched"], "redirect",
                 {"department_id": made["department"].pk, "note": "x"}), 403)  # fmt: skip
    refused(handler.get(f"{REPORTS}/queue"), 403)
    refused(handler.get(f"{REPORTS}/{made['dispatched'].pk}/departments"), 403)
    # Another department's handler: nothing of ours, not even by id.
    _department, other_handler = second_department(world)
    other = client_for(other_handler)
    assert other.get(REPORTS).json()["count"] == 0
    assert other.get(f"{REPORTS}/cases").json()["count"] == 0
    refused(other.get(f"{REPORTS}/{made['dispatched'].pk}"), 404)
    refused(
        post_form(other, made["dispatched"], "handle",
                  {"note": "已处理", "photos": [report_jpeg(1501)]}),
        404,
    )  # fmt: skip
    assert state() == before


def test_reporter_identity_by_viewer(world, made):
    submitted = made["submitted"]
    own_staff = client_for(world.community_staff).get(f"{REPORTS}/{submitted.pk}").json()
    # Staff see the mask; the full number only through POST /riders/{id}/phone (logged).
    assert own_staff["reporter"] == {"name": "王小明", "phone": "138****1234"}
    admin = client_for(world.street_admin).get(f"{REPORTS}/{submitted.pk}").json()
    assert admin["reporter"] == {"name": "王小明", "phone": "138****1234"}
    listed = client_for(world.community_staff).get(REPORTS, {"page_size": 50}).json()
    row = next(item for item in listed["items"] if item["id"] == submitted.pk)
    assert row["reporter"] == {"name": "王小明", "phone": "138****1234"}
    mine = client_for(world.rider.user).get(f"{REPORTS}/{submitted.pk}").json()
    assert mine["reporter"]["name"] == "王小明"
    refused(client_for(world.other_rider.user).get(f"{REPORTS}/{submitted.pk}"), 404)
    refused(client_for(world.merchant).get(f"{REPORTS}/{submitted.pk}"), 404)


def test_lists_and_filters(world, made, staff, rider):
    mine = rider.get(f"{REPORTS}/mine").json()
    assert [item["id"] for item in mine["items"]] == [made["closed"].pk, made["submitted"].pk]
    assert rider.get(f"{REPORTS}/mine", {"status": "closed"}).json()["count"] == 1
    assert [item["id"] for item in rider.get(REPORTS).json()["items"]] == [
        made["closed"].pk, made["submitted"].pk,
    ]  # fmt: skip
    a1 = staff.get(REPORTS, {"page_size": 50}).json()
    assert made["a2_report"].pk not in [item["id"] for item in a1["items"]]
    assert a1["count"] == 5
    admin = client_for(world.street_admin)
    assert admin.get(REPORTS).json()["count"] == 6
    by_area = admin.get(REPORTS, {"area": world.community_a2.code}).json()
    assert [item["id"] for item in by_area["items"]] == [made["a2_report"].pk]
    by_category = admin.get(REPORTS, {"category": "stairwell_clutter"}).json()
    assert by_category["count"] == 2
    assert admin.get(REPORTS, {"q": "路灯"}).json()["items"][0]["id"] == made["a2_report"].pk
    assert admin.get(REPORTS, {"status": "dispatched"}).json()["count"] == 1
    assert admin.get(REPORTS, {"department": made["department"].pk}).json()["count"] == 4
    refused(admin.get(REPORTS, {"status": "lost"}), 400, "invalid_status")
    queue = admin.get(f"{REPORTS}/queue").json()
    assert [item["id"] for item in queue["items"]] == [made["submitted"].pk, made["a2_report"].pk]
    assert [i["id"] for i in staff.get(f"{REPORTS}/queue").json()["items"]] == [
        made["submitted"].pk
    ]
    refused(rider.get(f"{REPORTS}/queue"), 403)
    refused(rider.get(f"{REPORTS}/cases"), 403)
    refused(rider.get(f"{REPORTS}/overdue"), 403)
    refused(client_for(None).get(REPORTS), 401)


def test_overdue_cases(world, made, staff):
    dispatched = made["dispatched"]
    assert staff.get(f"{REPORTS}/overdue").json()["count"] == 0
    Report.objects.filter(pk=dispatched.pk).update(deadline_at=timezone.now() - timedelta(hours=2))
    body = staff.get(f"{REPORTS}/overdue").json()
    assert [item["id"] for item in body["items"]] == [dispatched.pk]
    assert body["items"][0]["overdue"] is True
    assert staff.get(REPORTS, {"overdue": True}).json()["count"] == 1
    handler = client_for(made["handler"])
    assert [i["id"] for i in handler.get(f"{REPORTS}/overdue").json()["items"]] == [dispatched.pk]
    assert handler.get(f"{REPORTS}/cases", {"overdue": True}).json()["count"] == 1


def test_the_reporter_sees_photos_of_every_stage(world, made, rider):
    closed = rider.get(f"{REPORTS}/{made['closed'].pk}").json()
    assert [p["stage"] for p in closed["photos"]] == ["report", "handled"]
    assert all(p["url"].startswith("/media/reports/") for p in closed["photos"])
    assert [e["action"] for e in closed["timeline"]] == [
        "submitted", "dispatched", "handled", "verified", "closed",
    ]  # fmt: skip
    assert closed["points_status"] == "paid"
    assert closed["timeline"][1]["actor"] == "staff_a1"


# --- staff duty ------------------------------------------------------------------------------


def test_staff_go_on_and_off_duty(world):
    staff = client_for(world.community_staff)
    response = call(staff, "POST", "/api/v1/staff/duty", {"on_duty": True})
    assert response.status_code == 200 and response.json() == {"on_duty": True}
    world.community_staff.refresh_from_db()
    assert world.community_staff.on_duty is True
    assert call(staff, "POST", "/api/v1/staff/duty", {"on_duty": False}).json() == {
        "on_duty": False
    }
    refused(call(client_for(world.rider.user), "POST", "/api/v1/staff/duty", {"on_duty": True}),
            403, "not_staff")  # fmt: skip
    refused(call(client_for(None), "POST", "/api/v1/staff/duty", {"on_duty": True}), 401)


# --- query counts ----------------------------------------------------------------------------


def _bulk_reports(world, made, n=32):
    """``n`` dispatched, overdue reports of the rider in A1, each with a photo (rows only)."""
    category = made["categories"]["bad_parking"]
    past = timezone.now() - timedelta(hours=1)
    rows = [
        Report(
            reporter=world.rider.user, source="app", category=category, status="dispatched",
            lat=40.091 + i * 0.0002, lng=113.302, fine_cell=fine_cell_of(40.091 + i * 0.0002,
            113.302), input_crs="wgs84", community=world.community_a1, grid=world.grid_a1_west,
            area_code=world.grid_a1_west.code, description=f"乱停车 {i}",
            department=made["department"], deadline_at=past, flags=["burst"] if i % 2 else [],
        )
        for i in range(n)
    ]  # fmt: skip
    reports = Report.objects.bulk_create(rows)
    ReportPhoto.objects.bulk_create(
        ReportPhoto(
            report=report, area_code=report.area_code, stage="report",
            image=f"reports/bulk/{report.pk}.jpg", thumbnail=f"reports/bulk/{report.pk}-t.jpg",
        )
        for report in reports
    )  # fmt: skip
    return reports


@pytest.mark.parametrize(
    "who, path",
    [
        ("community_staff", REPORTS),
        ("community_staff", f"{REPORTS}/overdue"),
        ("community_staff", f"{REPORTS}/cases"),
        ("street_admin", f"{REPORTS}/queue"),
        ("rider", f"{REPORTS}/mine"),
        ("rider", REPORTS),
        ("handler", f"{REPORTS}/cases"),
        ("handler", REPORTS),
    ],
)
def test_list_query_count_does_not_grow_with_the_page_size(world, made, who, path):
    _bulk_reports(world, made)
    if path.endswith("/queue"):
        Report.objects.filter(description__startswith="乱停车").update(status="submitted")
    user = made["handler"] if who == "handler" else world.account(who)
    client = client_for(user)
    client.get(f"{path}?page_size=1")  # warm the session
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"{path}?page_size={size}").json()
        counts.append(len(queries))
        assert len(body["items"]) == min(size, body["count"]) and body["count"] >= 30
    assert counts[0] == counts[1], counts


# --- the OpenAPI document --------------------------------------------------------------------


def test_openapi_builds_with_summaries_and_errors(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    schema = api.get_openapi_schema()
    ours = {
        path: item
        for path, item in schema["paths"].items()
        if path.startswith(("/api/v1/reports", "/api/v1/notifications", "/api/v1/staff"))
    }
    assert len(ours) >= 25
    for path, item in ours.items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            declared = {str(code) for code in operation["responses"]}
            assert {"400", "401", "403", "404", "409", "422"} <= declared, f"{method} {path}"
    body = schema["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    header = [
        p for p in schema["paths"]["/api/v1/reports"]["post"]["parameters"] if p["in"] == "header"
    ]
    assert header[0]["name"] == "Idempotency-Key"


def test_our_schema_names_are_unique_in_the_openapi_document():
    """Components are keyed by class name: a second ``PhotoOut`` would silently replace the
    stations' one in the document."""
    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    where: dict[str, set[str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("yizhan."):
            where.setdefault(cls.__name__, set()).add(cls.__module__)
    ours = {"yizhan.reports.api", "yizhan.notifications.api"}
    clashes = {name: mods for name, mods in where.items() if len(mods) > 1 and mods & ours}
    assert clashes == {}


def test_an_app_says_when_a_report_kept_offline_was_made(world, made, rider, media):
    from datetime import timedelta

    from django.utils import timezone

    category = made["categories"]["flying_wire"]
    made_at = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    response = submit(rider, category, key="offline-api-0001", captured_at=made_at.isoformat())
    assert response.status_code == 201, response.content
    assert response.json()["captured_at"].startswith(made_at.strftime("%Y-%m-%dT"))
    assert Report.objects.get(pk=response.json()["id"]).captured_at == made_at
    # Not a time: a 422 naming the field, nothing written.
    before = Report.objects.count()
    bad = submit(rider, category, key="offline-api-0002", captured_at="last tuesday")
    assert bad.status_code == 422 and "captured_at" in bad.json()["message"]
    assert Report.objects.count() == before
