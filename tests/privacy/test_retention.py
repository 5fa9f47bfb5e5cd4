"""Retention: what is past its period goes (files on disk too), in batches, counted; a second
run removes nothing; a dry run changes nothing; periods come from settings; the jobs are
registered as periodic jobs."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from tests.world import make_rider, report_objects
from yizhan.core import jobs
from yizhan.core.models import IdempotencyRecord
from yizhan.notifications.models import Notification
from yizhan.notifications.services import notify
from yizhan.people.models import ApiToken, RiderProfile, User
from yizhan.people.services import rider_reject, token_issue
from yizhan.privacy import retention
from yizhan.reports.models import ReportPhoto


def _files(photo) -> dict:
    return {
        name: getattr(photo, name).path
        for name in ("image", "thumbnail", "public_image", "public_thumbnail")
        if getattr(photo, name)
    }


@pytest.fixture
def closed_photos(world, media, settings):
    settings.YIZHAN_RETENTION_BATCH = 2  # several batches even for a few photos
    made = report_objects(world)
    closed = made["closed"]
    photos = list(ReportPhoto.objects.filter(report=closed).order_by("pk"))
    assert len(photos) >= 2 and all(p.has_blurred_derivative for p in photos)
    return made, closed, photos


def test_original_photos_go_after_the_period_and_the_blurred_copies_stay(world, closed_photos):
    made, closed, photos = closed_photos
    files = {p.pk: _files(p) for p in photos}
    assert all(os.path.exists(path) for f in files.values() for path in f.values())
    open_report_photos = list(ReportPhoto.objects.filter(report=made["submitted"]))
    day_before = closed.closed_at + timedelta(days=89)
    assert retention.original_photos(now=day_before) == 0  # not yet

    removed = retention.original_photos(now=closed.closed_at + timedelta(days=91))

    assert removed == len(photos)
    for photo in ReportPhoto.objects.filter(pk__in=[p.pk for p in photos]):
        assert (photo.image.name, photo.thumbnail.name) == ("", "")
        assert photo.public_url  # what everyone sees is still there
        assert not os.path.exists(files[photo.pk]["image"])
        assert not os.path.exists(files[photo.pk]["thumbnail"])
        assert os.path.exists(files[photo.pk]["public_image"])
        assert os.path.exists(files[photo.pk]["public_thumbnail"])
    # The photos of a report still open keep their originals.
    for photo in open_report_photos:
        assert os.path.exists(photo.image.path)
    # Idempotent: nothing left to remove.
    assert retention.original_photos(now=closed.closed_at + timedelta(days=200)) == 0


def test_a_photo_without_a_blurred_copy_keeps_its_original(world, closed_photos):
    _made, closed, photos = closed_photos
    ReportPhoto.objects.filter(pk=photos[0].pk).update(blur_state="failed", public_image="")
    assert retention.original_photos(now=closed.closed_at + timedelta(days=91)) == len(photos) - 1
    assert os.path.exists(ReportPhoto.objects.get(pk=photos[0].pk).image.path)


def _everything_due(world):
    """One of each kind past its period (as seen 400 days from now)."""
    rejected = make_rider(world.community_a1, "13700000021", "被拒", lat=40.095, lng=113.305)
    rider_reject(rider=rejected, actor=world.community_staff, reason="信息不实")
    IdempotencyRecord.objects.create(scope="test", key="old-key-0001", fingerprint="x")
    notify(recipients=[world.rider.user], kind="test", title="旧消息")
    token, _raw = token_issue(user=world.rider.user, expires_at=timezone.now() + timedelta(days=1))
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(60)
    store.create()
    return rejected, token


def _counts():
    return (
        IdempotencyRecord.objects.count(), Notification.objects.count(),
        ApiToken.objects.count(), Session.objects.count(),
        sorted(User.objects.values_list("pk", "username", "name", "phone_index")),
        sorted(RiderProfile.objects.values_list("pk", "work_address", "status")),
    )  # fmt: skip


def test_every_job_removes_what_is_past_its_period(world):
    rejected, token = _everything_due(world)
    later = timezone.now() + timedelta(days=400)
    rejected_phone = rejected.user.phone

    result = retention.run_all(now=later)

    assert result["rejected_registrations"] == 1
    assert result["idempotency_records"] >= 1
    assert result["notifications"] >= 1
    assert result["api_tokens"] == 1 and not ApiToken.objects.filter(pk=token.pk).exists()
    assert result["sessions"] >= 1
    gone = User.objects.get(pk=rejected.user_id)
    assert gone.username.startswith("deleted-") and gone.phone_index is None
    assert not gone.is_active and gone.name == ""
    # The verified riders are untouched; the rejected phone may register again.
    assert User.objects.get(pk=world.rider.user_id).is_active
    make_rider(world.community_a1, rejected_phone, "重新报到", lat=40.095, lng=113.305)
    # A second run finds nothing.
    again = retention.run_all(now=later)
    assert again["rejected_registrations"] == 0 and again["api_tokens"] == 0


def test_recent_records_stay(world):
    _everything_due(world)
    before = _counts()
    result = retention.run_all()
    assert result["rejected_registrations"] == 0 and result["idempotency_records"] == 0
    assert result["notifications"] == 0 and result["api_tokens"] == 0
    assert _counts() == before


def test_a_period_of_zero_turns_a_job_off(world, settings):
    _everything_due(world)
    settings.YIZHAN_RETENTION_REJECTED_DAYS = 0
    settings.YIZHAN_RETENTION_NOTIFICATION_DAYS = "0"
    later = timezone.now() + timedelta(days=400)
    assert retention.rejected_registrations(now=later) == 0
    assert retention.notifications(now=later) == 0
    settings.YIZHAN_RETENTION_REJECTED_DAYS = 1000
    assert retention.rejected_registrations(now=later) == 0
    settings.YIZHAN_RETENTION_REJECTED_DAYS = 300
    assert retention.rejected_registrations(dry_run=True, now=later) == 1


def test_the_dry_run_shows_what_would_go_and_changes_nothing(world, closed_photos, monkeypatch):
    _made, closed, photos = closed_photos
    _everything_due(world)
    later = closed.closed_at + timedelta(days=400)
    monkeypatch.setattr(timezone, "now", lambda: later)
    files = [path for p in photos for path in _files(p).values()]
    before = _counts()
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)

    text = out.getvalue()
    assert f"original_photos: would remove {len(photos)} " in text
    assert "rejected_registrations: would remove 1 " in text
    assert "dry run: nothing changed" in text
    assert _counts() == before
    assert all(os.path.exists(path) for path in files)
    # The real run removes what the dry run counted.
    out = io.StringIO()
    call_command("retention", "--only", "original_photos", stdout=out)
    assert f"original_photos: removed {len(photos)} " in out.getvalue()


def test_the_jobs_are_periodic_jobs():
    names = {job.name for job in jobs.jobs()}
    assert {f"privacy.retention.{job.name}" for job in retention.JOBS} <= names
