"""Photos in object storage (S3_BUCKET): a rider's report photo sent through the API lands in the
bucket twice — the face-blurred copy at its public key, the original under the private prefix —
and nothing on the local disk; the API links the copy with a presigned URL of the endpoint; the
original has no URL and reaches permitted staff only through ``reports:photo_original``;
retention and removals delete the objects; station and duty photos go to the bucket too; the
``blur_report_photos`` backfill reads and writes there."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from storages.backends.s3 import S3Storage

from tests.api.helpers import client_for
from tests.reports.builders import jpeg
from tests.storage.conftest import S3
from tests.world import report_objects
from yizhan.core.models import AuditEntry
from yizhan.duties import services as duties
from yizhan.privacy import retention
from yizhan.reports import services as rs
from yizhan.reports.choices import BlurState
from yizhan.reports.models import ReportPhoto
from yizhan.reports.storage import NO_URL, PrivateStorage, private_storage
from yizhan.reports.storage_s3 import PrivateS3Storage
from yizhan.stations import services as stations
from yizhan.stations.models import StationPhoto

pytestmark = pytest.mark.django_db

ASTRONAUT = (Path(__file__).parents[1] / "reports" / "fixtures" / "astronaut.jpg").read_bytes()
REPORTS = "/api/v1/reports"


@pytest.fixture
def categories(world):
    return {c.code: c for c in rs.categories_seed(street=world.street_a, actor=world.street_admin)}


def submit_astronaut(world, categories):
    """The rider reports through the API with a real photo (a face in it)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("astronaut.jpg", ASTRONAUT, content_type="image/jpeg")
    response = client_for(world.rider.user).post(
        REPORTS,
        data={
            "category": categories["stairwell_clutter"].pk,
            "lat": 40.095,
            "lng": 113.315,
            "description": "楼道里堆满了纸箱",
            "photos": [photo],
        },
        headers={"Idempotency-Key": "s3-submit-0001"},
    )
    assert response.status_code == 201, response.content[:400]
    return response.json()


def test_a_report_photo_sent_through_the_api_lands_in_the_bucket(world, categories, s3: S3):
    body = submit_astronaut(world, categories)

    photo = ReportPhoto.objects.get(pk=body["photos"][0]["id"])
    assert photo.blur_state == BlurState.DONE and photo.faces == 1
    keys = s3.objects()
    # The blurred copy at its public key (the bucket's root), the original under the prefix.
    assert photo.public_image.name.startswith("reports/public/")
    assert photo.image.name.startswith("reports/") and "public" not in photo.image.name
    assert set(keys) == {
        photo.public_image.name,
        photo.public_thumbnail.name,
        f"private/{photo.image.name}",
        f"private/{photo.thumbnail.name}",
    }
    original = s3.body(f"private/{photo.image.name}")
    blurred = s3.body(photo.public_image.name)
    assert original[:2] == blurred[:2] == b"\xff\xd8" and original != blurred
    # Nothing on the local disk: neither MEDIA_ROOT nor the private folder beside it.
    assert s3.local_files() == []
    # The originals are uploaded with a private ACL: no grant to anyone but the owner.
    grants = s3.client.get_object_acl(Bucket=s3.bucket, Key=f"private/{photo.image.name}")
    assert [g["Permission"] for g in grants["Grants"]] == ["FULL_CONTROL"]
    assert "URI" not in grants["Grants"][0]["Grantee"]


def test_the_api_links_the_copy_with_a_presigned_url_of_the_endpoint(world, categories, s3: S3):
    body = submit_astronaut(world, categories)
    photo = ReportPhoto.objects.get(pk=body["photos"][0]["id"])

    shown = body["photos"][0]
    url = urlsplit(shown["url"])

    assert f"{url.scheme}://{url.netloc}" == s3.endpoint
    assert url.path == f"/{s3.bucket}/{photo.public_image.name}"
    query = parse_qs(url.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Signature"]
    assert urlsplit(shown["thumbnail_url"]).path == f"/{s3.bucket}/{photo.public_thumbnail.name}"
    # The link works: the endpoint hands out the blurred copy, not the original.
    with urlopen(shown["url"], timeout=5) as answer:  # noqa: S310 - the loopback
        assert answer.read() == s3.body(photo.public_image.name)
    assert photo.image.name not in str(body)


def test_the_original_has_no_url_and_lives_under_the_private_prefix(s3: S3):
    storage = private_storage()

    assert isinstance(storage, PrivateS3Storage) and storage.location == "private"
    assert storage.default_acl == "private" and storage.bucket_name == s3.bucket
    with pytest.raises(ValueError, match="no URL"):
        storage.url("reports/2026/01/r1-report-1.jpg")
    assert str(NO_URL).startswith("report originals have no URL")


def test_the_storages_follow_the_settings(s3: S3, settings):
    assert isinstance(private_storage(), PrivateS3Storage)
    assert isinstance(default_storage, S3Storage)

    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": settings.STORAGES["staticfiles"],
    }

    assert isinstance(private_storage(), PrivateStorage)
    assert private_storage().location == str(Path(f"{s3.media}-private").resolve())
    assert default_storage.url("x.jpg") == "/media/x.jpg"


def test_permitted_staff_get_the_original_streamed_from_the_bucket(world, categories, s3: S3):
    body = submit_astronaut(world, categories)
    photo = ReportPhoto.objects.get(pk=body["photos"][0]["id"])
    url = reverse("reports:photo_original", args=[photo.report_id, photo.pk])

    response = client_for(world.community_staff).get(url)

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == s3.body(f"private/{photo.image.name}")
    assert AuditEntry.objects.filter(action="view_original").count() == 1
    # The reporter sees the copy only; nothing is recorded for the refusal.
    assert client_for(world.rider.user).get(url).status_code == 403
    assert AuditEntry.objects.filter(action="view_original").count() == 1


def test_an_original_gone_from_the_bucket_is_a_404(world, categories, s3: S3):
    body = submit_astronaut(world, categories)
    photo = ReportPhoto.objects.get(pk=body["photos"][0]["id"])
    s3.client.delete_object(Bucket=s3.bucket, Key=f"private/{photo.image.name}")

    response = client_for(world.community_staff).get(
        reverse("reports:photo_original", args=[photo.report_id, photo.pk])
    )

    assert response.status_code == 404
    assert AuditEntry.objects.filter(action="view_original").count() == 0


def test_retention_deletes_the_originals_from_the_bucket_and_keeps_the_copies(
    world, s3: S3, django_capture_on_commit_callbacks
):
    made = report_objects(world)
    closed = made["closed"]
    photos = list(ReportPhoto.objects.filter(report=closed))
    assert len(photos) == 2
    originals = {f"private/{p.image.name}" for p in photos} | {
        f"private/{p.thumbnail.name}" for p in photos
    }
    copies = {p.public_image.name for p in photos} | {p.public_thumbnail.name for p in photos}
    before = s3.objects()
    assert originals | copies <= set(before)

    with django_capture_on_commit_callbacks(execute=True):
        removed = retention.original_photos(now=closed.closed_at + timedelta(days=91))

    assert removed == 2
    after = s3.objects()
    assert set(after) == set(before) - originals
    assert copies <= set(after)
    for photo in ReportPhoto.objects.filter(report=closed):
        assert photo.image.name == "" and photo.public_url
    assert s3.local_files() == []


def test_a_single_original_is_removed_from_the_bucket(
    world, categories, s3: S3, django_capture_on_commit_callbacks
):
    body = submit_astronaut(world, categories)
    photo = ReportPhoto.objects.get(pk=body["photos"][0]["id"])

    with django_capture_on_commit_callbacks(execute=True):
        assert rs.report_photo_original_remove(photo_id=photo.pk) is True

    assert set(s3.objects()) == {photo.public_image.name, photo.public_thumbnail.name}


def test_station_photos_go_to_the_bucket_under_names_of_their_own_and_removal_deletes_them(
    world, s3: S3, django_capture_on_commit_callbacks
):
    station = stations.station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=world.community_staff,
    )  # fmt: skip
    first = stations.station_photo_add(station=station, upload=jpeg(1), actor=world.community_staff)
    second = stations.station_photo_add(
        station=station, upload=jpeg(2), actor=world.community_staff
    )

    names = {first.image.name, first.thumbnail.name, second.image.name, second.thumbnail.name}
    # Both photos of the station are named s<id>.jpg: the second gets a suffix, never
    # overwrites the first (file_overwrite is off).
    assert len(names) == 4 and set(s3.objects()) == names
    assert all(name.startswith("stations/") for name in names)
    assert s3.body(first.image.name) != s3.body(second.image.name)

    with django_capture_on_commit_callbacks(execute=True):
        stations.station_photo_remove(photo=first, actor=world.community_staff)

    assert set(s3.objects()) == {second.image.name, second.thumbnail.name}
    assert StationPhoto.objects.get().pk == second.pk
    assert s3.local_files() == []


def test_a_duty_photo_goes_to_the_bucket(world, s3: S3):
    from tests.duties.builders import hold, key

    hold(world, world.post)
    now = timezone.now()
    duty = duties.duty_log(
        actor=world.rider.user, post=world.post, kind="patrol", place="东门",
        started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1),
        photo=jpeg(3), idempotency_key=key(),
    )  # fmt: skip

    assert set(s3.objects()) == {duty.photo.name, duty.thumbnail.name}
    assert duty.photo.name.startswith("duties/")
    assert urlsplit(duty.photo.url).path == f"/{s3.bucket}/{duty.photo.name}"
    assert s3.local_files() == []


def test_the_backfill_moves_an_old_original_to_the_prefix_and_stores_its_blurred_copy(
    world, categories, s3: S3
):
    body = submit_astronaut(world, categories)
    photo = ReportPhoto.objects.get(pk=body["photos"][0]["id"])
    # As a photo stored before originals were private: the original at the public root, no
    # copy yet.
    original = s3.body(f"private/{photo.image.name}")
    for name in (photo.image.name, photo.thumbnail.name):
        default_storage.save(name, ContentFile(s3.body(f"private/{name}")))
        private_storage().delete(name)
    for name in (photo.public_image.name, photo.public_thumbnail.name):
        default_storage.delete(name)
    ReportPhoto.objects.filter(pk=photo.pk).update(
        public_image="", public_thumbnail="", blur_state=BlurState.PENDING, faces=None
    )
    assert set(s3.objects()) == {photo.image.name, photo.thumbnail.name}

    out = io.StringIO()
    call_command("blur_report_photos", stdout=out)

    assert out.getvalue().startswith("blurred 1, failed 0")

    photo.refresh_from_db()
    assert photo.blur_state == BlurState.DONE and photo.faces == 1
    assert set(s3.objects()) == {
        f"private/{photo.image.name}",
        f"private/{photo.thumbnail.name}",
        photo.public_image.name,
        photo.public_thumbnail.name,
    }
    assert s3.body(f"private/{photo.image.name}") == original
