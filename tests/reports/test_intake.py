"""Intake (report_submit): everything checked and every photo decoded before anything is written;
EXIF read first, then stripped; a retry with the same key gives the first report; flags for
staff; urgent alerts; and a refusal — at any step — leaves no row and no file."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from tests.reports.builders import (
    A1_EAST,
    A1_WEST,
    B1,
    encode,
    exif,
    jpeg,
    key,
    make_given,
    media_files,
    picture,
    submit,
    upload,
)
from yizhan.core.errors import ApplicationError, Conflict, Unauthenticated
from yizhan.core.geo import fine_cell_of, wgs84_to_gcj02
from yizhan.core.models import IdempotencyRecord
from yizhan.core.roles import Role
from yizhan.notifications.models import Notification
from yizhan.people.services import account_create, staff_set_on_duty
from yizhan.reports import services as rs
from yizhan.reports.choices import Flag, PhotoStage, ReportStatus, Source
from yizhan.reports.models import Report, ReportEvent, ReportPhoto

CHINA = timezone.get_fixed_timezone(8 * 60)


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


def nothing_written(g):
    assert not Report.objects.exists()
    assert not ReportPhoto.objects.exists()
    assert not ReportEvent.objects.exists()
    assert not IdempotencyRecord.objects.filter(scope="reports.submit").exists()
    assert not Notification.objects.exists()
    assert media_files(g.media) == []


def test_without_location_consent_the_photos_gps_is_not_kept(g):
    """Where the photo was taken is the reporter's own position: without their location consent
    it is not stored, though the intake still compares it with the hazard's place (a flag)."""
    far = jpeg(seed=3, exif_data=exif(taken=timezone.now(), lat=A1_WEST[0] + 0.02,
                                      lng=A1_WEST[1]))  # fmt: skip
    report = submit(g, photos=[far])
    assert (report.photo_lat, report.photo_lng) == (None, None)
    assert report.photo_taken_at is not None
    assert Flag.FAR_FROM_PHOTO in report.flags


def test_a_report_is_filed_with_its_place_photos_and_what_exif_said(g):
    from yizhan.people.services import consent_give

    consent_give(user=g.rider, actor=g.rider, kind="location")
    taken = timezone.now().astimezone(CHINA).replace(microsecond=0) - timedelta(hours=2)
    photo = jpeg(
        seed=1, exif_data=exif(taken=taken, lat=A1_WEST[0] + 0.0005, lng=A1_WEST[1] + 0.0005)
    )
    report = submit(
        g, photos=[photo, jpeg(2)], address="甲一路 8 号", building="3号楼", unit="2单元",
        floor="5层", description="  楼道里飞线充电  ",
    )  # fmt: skip
    assert report.status == ReportStatus.SUBMITTED and report.source == Source.APP
    assert (report.lat, report.lng) == A1_WEST
    assert report.grid == g.world.grid_a1_west and report.community == g.world.community_a1
    assert report.area_code == g.world.grid_a1_west.code
    assert report.fine_cell == fine_cell_of(*A1_WEST) and report.input_crs == "wgs84"
    assert (report.building, report.unit, report.floor) == ("3号楼", "2单元", "5层")
    assert report.description == "楼道里飞线充电" and report.address == "甲一路 8 号"
    assert report.photo_taken_at == taken
    assert report.photo_lat == pytest.approx(A1_WEST[0] + 0.0005, abs=1e-6)
    assert report.photo_lng == pytest.approx(A1_WEST[1] + 0.0005, abs=1e-6)
    assert report.flags == [] and not report.urgent
    photos = list(report.photos.order_by("id"))
    assert [p.stage for p in photos] == [PhotoStage.REPORT] * 2
    assert all(p.uploaded_by == g.rider and p.area_code == report.area_code for p in photos)
    assert photos[0].event == ReportEvent.objects.get(report=report, action="submitted")
    assert len(media_files(g.media)) == 8  # originals and blurred copies
    # Stored without any metadata, and hashed in four parts.
    with photos[0].image.open("rb") as stored:
        data = stored.read()
    assert b"Exif" not in data[:4096] and b"PhoneMaker" not in data
    assert len(Image.open(io.BytesIO(data)).getexif()) == 0
    parts = [(photos[0].phash >> s) & 0xFFFF for s in (48, 32, 16, 0)]
    assert [photos[0].ph0, photos[0].ph1, photos[0].ph2, photos[0].ph3] == parts
    assert (photos[0].width, photos[0].height) == (240, 180)


def test_a_place_given_in_gcj02_is_stored_in_wgs84(g):
    lat, lng = wgs84_to_gcj02(*A1_EAST)
    report = submit(g, at=(lat, lng), crs="gcj02")
    assert report.lat == pytest.approx(A1_EAST[0], abs=1e-6)
    assert report.lng == pytest.approx(A1_EAST[1], abs=1e-6)
    assert report.grid == g.world.grid_a1_east and report.input_crs == "gcj02"


def test_the_same_key_again_gives_the_first_report_and_no_second_photo(g):
    first = submit(g, idempotency_key="phone-retry-0001", seed=11)
    files = media_files(g.media)
    again = submit(g, idempotency_key="phone-retry-0001", seed=11)
    assert again.pk == first.pk
    assert Report.objects.count() == 1 and ReportPhoto.objects.count() == 1
    assert media_files(g.media) == files
    # The same key with another request: 409, nothing written.
    with pytest.raises(Conflict) as caught:
        submit(g, idempotency_key="phone-retry-0001", seed=11, description="另一件事")
    assert caught.value.code == "idempotency_key_reused"
    assert Report.objects.count() == 1 and media_files(g.media) == files


def test_open311_requests_need_no_photo_but_riders_do(g):
    report = submit(g, photos=[], source=Source.OPEN311)
    assert report.source == Source.OPEN311 and not report.photos.exists()
    assert report.photo_taken_at is None and report.flags == []
    with pytest.raises(ApplicationError) as caught:
        submit(g, photos=[])
    assert caught.value.code == "photo_required"


def test_a_png_named_jpg_and_a_heic_from_an_iphone_are_accepted(g):
    pillow_heif = pytest.importorskip("pillow_heif")
    png = upload(encode(picture(5), "PNG"), "IMG_0001.jpg")
    heif = pillow_heif.from_pillow(picture(6))
    out = io.BytesIO()
    heif.save(out, quality=80)
    report = submit(g, photos=[png, upload(out.getvalue(), "IMG_0002.HEIC")])
    assert report.photos.count() == 2
    for photo in report.photos.all():
        with photo.image.open("rb") as stored:
            assert Image.open(stored).format == "JPEG"


# --- refused: nothing written ---------------------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


TRUNCATED = encode(picture(9, (400, 300)), quality=90)[:2000]

REFUSALS = {
    "no category": ({"category": None}, "invalid_category"),
    "outside every grid": ({"at": (41.5, 115.5)}, "outside_grids"),
    "latitude out of range": ({"at": (95.0, 113.3)}, None),
    "unknown coordinate system": ({"crs": "mars"}, None),
    "empty description": ({"description": "   "}, None),
    "5,000 characters": ({"description": "长" * 5000}, "too_long"),
    "501 characters": ({"description": "长" * 501}, "too_long"),
    "no photo": ({"photos": []}, "photo_required"),
    "seven photos": ({"photos": "seven"}, "too_many_photos"),
    "a text file": ({"photos": [upload(b"not a picture at all\n" * 20, "a.jpg")]}, "invalid_image"),
    "a truncated jpeg": ({"photos": [upload(TRUNCATED)]}, "invalid_image"),
    "30,000 x 30,000": ({"photos": [upload(png_claiming(30_000, 30_000), "big.png")]},
                        "invalid_image"),
    "a good photo then a bad one": ({"photos": "good-then-bad"}, "invalid_image"),
    "a bad idempotency key": ({"idempotency_key": "x"}, "invalid_idempotency_key"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSALS))
def test_bad_input_is_a_clear_400_and_writes_nothing(g, case):
    changes, code = REFUSALS[case]
    changes = dict(changes)
    if changes.get("photos") == "seven":
        changes["photos"] = [jpeg(i) for i in range(7)]
    elif changes.get("photos") == "good-then-bad":
        changes["photos"] = [jpeg(1), jpeg(2), upload(TRUNCATED)]
    if "category" in changes:
        with pytest.raises(ApplicationError) as caught:
            rs.report_submit(
                reporter=g.rider, category=None, lat=A1_WEST[0], lng=A1_WEST[1],
                description="x", photos=[jpeg(1)], idempotency_key=key(),
            )  # fmt: skip
    else:
        with pytest.raises(ApplicationError) as caught:
            submit(g, **changes)
    error = caught.value
    assert error.status == 400
    if code is not None:
        assert error.code == code
    assert str(error.message).strip()
    nothing_written(g)


def test_a_category_of_another_street_or_switched_off_is_refused(g):
    with pytest.raises(ApplicationError) as caught:
        submit(g, category=g.elsewhere)
    assert caught.value.code == "category_elsewhere"
    assert g.world.street_a.name in str(caught.value.message)  # where the place is
    with pytest.raises(ApplicationError) as caught:
        submit(g, category=g.wire, at=B1)  # street B's place, street A's category
    assert caught.value.code == "category_elsewhere"
    rs.category_update(category=g.clutter, actor=g.world.street_admin, is_active=False)
    g.clutter.refresh_from_db()
    with pytest.raises(ApplicationError) as caught:
        submit(g, category=g.clutter)
    assert caught.value.code == "invalid_category"
    nothing_written(g)


def test_anonymous_is_401(g):
    with pytest.raises(Unauthenticated):
        rs.report_submit(
            reporter=None, category=g.wire, lat=A1_WEST[0], lng=A1_WEST[1], description="x",
            photos=[jpeg(1)], idempotency_key=key(),
        )  # fmt: skip
    nothing_written(g)


def test_a_failure_after_the_photos_were_stored_leaves_no_file(g, monkeypatch):
    def broken(report):
        raise RuntimeError("the alert could not be written")

    monkeypatch.setattr(rs, "_alert_on_duty", broken)
    with pytest.raises(RuntimeError):
        submit(g, category=g.lost, idempotency_key="lost-child-0001", photos=[jpeg(1), jpeg(2)])
    nothing_written(g)
    # The key was released with the rollback: the phone's retry goes through.
    monkeypatch.undo()
    report = submit(g, category=g.lost, idempotency_key="lost-child-0001", photos=[jpeg(3)])
    assert report.photos.count() == 1 and len(media_files(g.media)) == 4


def test_a_failure_while_storing_the_second_photo_leaves_no_file(g, monkeypatch):
    real = ReportPhoto.objects.bulk_create

    def broken(rows, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ReportPhoto.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        submit(g, photos=[jpeg(1), jpeg(2)])
    nothing_written(g)
    monkeypatch.setattr(ReportPhoto.objects, "bulk_create", real)


def test_a_failed_handle_after_its_photo_was_stored_leaves_no_file(g, monkeypatch):
    from tests.reports.builders import advance, state

    report = advance(g, submit(g), "dispatched")
    before = state(report, g.media)

    def broken(**kwargs):
        raise RuntimeError("inbox down")

    monkeypatch.setattr(rs, "notify", broken)
    with pytest.raises(RuntimeError):
        rs.report_handle(report=report, actor=g.handler, note="已拆", photos=[jpeg(50)])
    assert state(report, g.media) == before


# --- flags ----------------------------------------------------------------------------------------


def flagged_event(report):
    return ReportEvent.objects.filter(report=report, action="flagged").first()


def test_a_photo_taken_far_from_the_report_is_flagged(g):
    far = jpeg(1, exif_data=exif(lat=40.2, lng=113.5))
    report = submit(g, photos=[far])
    assert report.flags == [Flag.FAR_FROM_PHOTO]
    event = flagged_event(report)
    assert event.public is False and event.actor is None
    assert event.data["flags"] == ["far_from_photo"]
    assert event.data["photo_distance_m"] > 20_000
    near = submit(g, photos=[jpeg(2, exif_data=exif(lat=A1_WEST[0] + 0.001, lng=A1_WEST[1]))])
    assert near.flags == [] and flagged_event(near) is None


def test_the_distance_limit_is_the_streets_setting(g):
    rs.report_settings_update(
        street=g.world.street_a, actor=g.world.street_admin, max_photo_distance_m=50
    )
    photo = jpeg(1, exif_data=exif(lat=A1_WEST[0] + 0.001, lng=A1_WEST[1]))  # ~111 m
    assert submit(g, photos=[photo]).flags == [Flag.FAR_FROM_PHOTO]


def test_an_old_photo_is_flagged_a_recent_one_not(g):
    now = timezone.now().astimezone(CHINA).replace(microsecond=0)
    old = submit(g, photos=[jpeg(1, exif_data=exif(taken=now - timedelta(hours=73)))])
    assert old.flags == [Flag.OLD_PHOTO]
    assert flagged_event(old).data["photo_age_hours"] == pytest.approx(73, abs=0.1)
    recent = submit(g, photos=[jpeg(2, exif_data=exif(taken=now - timedelta(hours=71)))])
    assert recent.flags == []


def test_the_fifth_report_within_half_an_hour_is_a_burst(g):
    reports = [submit(g) for _ in range(5)]
    assert [r.flags for r in reports] == [[], [], [], [], [Flag.BURST]]
    assert flagged_event(reports[-1]).data["recent_reports"] == 5
    # Another rider is not affected.
    assert submit(g, reporter=g.other_rider).flags == []


def test_the_same_photo_again_is_flagged_also_turned_or_resized(g):
    rs.report_settings_update(street=g.world.street_a, actor=g.world.street_admin, burst_reports=99)
    first = submit(g, seed=100)
    original = picture(100)
    variants = {
        "same": original,
        "turned 90": original.rotate(90, expand=True),
        "turned 180": original.rotate(180),
        "turned 270": original.rotate(270, expand=True),
        "smaller and recompressed": original.resize((200, 150)),
    }
    for name, image in variants.items():
        data = encode(image, quality=60 if "smaller" in name else 90)
        report = submit(g, reporter=g.other_rider, photos=[upload(data)], at=A1_EAST)
        assert report.flags == [Flag.SAME_PHOTO], name
        assert flagged_event(report).data["same_photo_reports"][0] == first.pk, name
    different = submit(g, reporter=g.other_rider, seed=101, at=A1_EAST)
    assert different.flags == []


def test_several_flags_at_once(g):
    old_far = exif(taken=timezone.now() - timedelta(days=30), lat=40.3, lng=113.6)
    report = submit(g, photos=[jpeg(1, exif_data=old_far)])
    assert report.flags == [Flag.FAR_FROM_PHOTO, Flag.OLD_PHOTO]


# --- urgent alerts --------------------------------------------------------------------------------


@pytest.fixture
def more_staff(g):
    world = g.world
    grid_worker = account_create(
        username="grid_west", name="网格员", role=Role.STAFF, area=world.grid_a1_west,
        password="x-Yizhan-2026",
    )  # fmt: skip
    second = account_create(
        username="staff_a1_2", name="钱二", role=Role.STAFF, area=world.community_a1,
        password="x-Yizhan-2026",
    )  # fmt: skip
    east_worker = account_create(
        username="grid_east", name="东网格员", role=Role.STAFF, area=world.grid_a1_east,
        password="x-Yizhan-2026",
    )  # fmt: skip
    return grid_worker, second, east_worker


def urgent_recipients():
    return set(
        Notification.objects.filter(kind="report_urgent", urgent=True).values_list(
            "recipient__username", flat=True
        )
    )


def test_an_urgent_report_alerts_the_on_duty_staff_of_its_grid_and_community(g, more_staff):
    grid_worker, second, east_worker = more_staff
    staff_set_on_duty(user=grid_worker, on_duty=True)
    staff_set_on_duty(user=g.staff, on_duty=True)
    staff_set_on_duty(user=east_worker, on_duty=True)  # another grid: not theirs
    report = submit(g, category=g.lost, description="一位老人在路口徘徊")
    assert report.urgent
    assert urgent_recipients() == {"grid_west", "staff_a1"}


def test_with_nobody_on_duty_every_staff_member_of_grid_and_community_is_alerted(g, more_staff):
    submit(g, category=g.lost, description="孩子找不到家")
    assert urgent_recipients() == {"grid_west", "staff_a1", "staff_a1_2"}


def test_a_plain_report_alerts_nobody(g, more_staff):
    submit(g)
    assert not Notification.objects.filter(kind="report_urgent").exists()


def test_an_open311_client_filing_many_requests_is_not_a_burst(g):
    reports = [submit(g, photos=[], source=Source.OPEN311) for _ in range(6)]
    assert [r.flags for r in reports] == [[]] * 6


def test_another_account_repeating_a_key_is_refused_not_answered(g):
    first = submit(g, idempotency_key="shared-key-0001", seed=12)
    with pytest.raises(Conflict) as caught:
        submit(g, reporter=g.other_rider, idempotency_key="shared-key-0001", seed=12)
    assert caught.value.code == "idempotency_key_reused"
    assert list(Report.objects.values_list("pk", flat=True)) == [first.pk]
