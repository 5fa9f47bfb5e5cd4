"""Retention: personal data Yizhan no longer needs is removed after configurable periods.

Each job counts (and, unless ``dry_run``, removes) what is past its period, in batches of
``YIZHAN_RETENTION_BATCH`` rows, each batch in its own transaction; files are deleted after
their batch commits. Every job is safe to run twice and from two processes at once (a row
already handled is no longer selected). A period of 0 (or less) turns its job off.

=================================  =======  ======================================================
setting (environment variable)     default  what goes
=================================  =======  ======================================================
YIZHAN_RETENTION_REJECTED_DAYS     180      registrations rejected that long ago and not
                                            resubmitted: the account is anonymised (a tombstone,
                                            as when a rider deletes their account)
YIZHAN_RETENTION_PHOTO_DAYS        90       original report photos (and their original
                                            thumbnails), that long after the report was closed,
                                            where the face-blurred copy exists; the blurred copy
                                            stays and is what every page shows
YIZHAN_RETENTION_IDEMPOTENCY_DAYS  30       idempotency keys (a phone retries within minutes)
YIZHAN_RETENTION_NOTIFICATION_DAYS 365      inbox messages (read or not) older than that
YIZHAN_RETENTION_TOKEN_DAYS        90       API tokens that expired or were revoked that long ago
                                            (only their hashes are stored, but nothing needs them)
(none)                                      expired log-in sessions (database sessions only)
YIZHAN_RETENTION_BATCH             500      rows per batch
=================================  =======  ======================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

DEFAULTS = {
    "YIZHAN_RETENTION_REJECTED_DAYS": 180,
    "YIZHAN_RETENTION_PHOTO_DAYS": 90,
    "YIZHAN_RETENTION_IDEMPOTENCY_DAYS": 30,
    "YIZHAN_RETENTION_NOTIFICATION_DAYS": 365,
    "YIZHAN_RETENTION_TOKEN_DAYS": 90,
    "YIZHAN_RETENTION_BATCH": 500,
}


def setting(name: str) -> int:
    """A retention setting as a whole number (a bad value falls back to the default)."""
    try:
        return int(getattr(settings, name, DEFAULTS[name]))
    except (TypeError, ValueError):
        return DEFAULTS[name]


def _batch() -> int:
    return max(1, setting("YIZHAN_RETENTION_BATCH"))


def _cutoff(name: str, now: Any) -> Any:
    days = setting(name)
    return None if days <= 0 else now - timedelta(days=days)


def _in_batches(
    ids_query: Callable[[], list[int]], work: Callable[[list[int]], tuple[int, list]]
) -> int:
    """Take ids from ``ids_query`` a batch at a time and ``work`` them until none are left.

    ``work`` runs in a transaction and returns (rows handled, (storage, name) of the files to
    delete after the commit);
    a batch that handles nothing ends the loop (so a row that cannot be handled cannot spin)."""
    total = 0
    while True:
        ids = ids_query()
        if not ids:
            return total
        with transaction.atomic():
            done, files = work(ids)
        if files:
            from yizhan.privacy.photos import delete_files

            delete_files(files)
        total += done
        if done == 0 or len(ids) < _batch():
            return total


# --- the jobs ----------------------------------------------------------------------------------


def rejected_registrations(*, dry_run: bool = False, now: Any = None) -> int:
    """Anonymise riders whose registration was rejected long ago and never resubmitted."""
    from yizhan.people.choices import RegistrationStatus
    from yizhan.people.models import RiderProfile
    from yizhan.privacy.services import TOMBSTONE_PREFIX, erase

    cutoff = _cutoff("YIZHAN_RETENTION_REJECTED_DAYS", now or timezone.now())
    if cutoff is None:
        return 0
    due = (
        RiderProfile.objects.filter(status=RegistrationStatus.REJECTED, decided_at__lt=cutoff)
        .exclude(user__username__startswith=TOMBSTONE_PREFIX)
        .order_by("pk")
    )
    if dry_run:
        return due.count()

    def work(ids: list[int]) -> tuple[int, list]:
        done = 0
        for profile in RiderProfile.objects.filter(pk__in=ids).select_related("user"):
            if not erase(user=profile.user, actor=None, reason="rejected_registration").already:
                done += 1
        return done, []

    return _in_batches(lambda: list(due.values_list("pk", flat=True)[: _batch()]), work)


def original_photos(*, dry_run: bool = False, now: Any = None) -> int:
    """Remove the originals of report photos long after the report closed, where the blurred
    copy is there to show instead (``privacy.photos``); counts photos."""
    from yizhan.privacy import photos
    from yizhan.reports.models import ReportPhoto

    cutoff = _cutoff("YIZHAN_RETENTION_PHOTO_DAYS", now or timezone.now())
    if cutoff is None:
        return 0
    names = {f.name for f in ReportPhoto._meta.concrete_fields}
    if not set(photos.DERIVATIVE_FIELDS) <= names:
        return 0  # no derivatives in this schema: every original is still what is shown
    due = (
        ReportPhoto.objects.filter(report__closed_at__isnull=False, report__closed_at__lt=cutoff)
        .exclude(image="")
        .exclude(public_image="")
        .order_by("pk")
    )
    if dry_run:
        return sum(1 for photo in due.iterator() if photos.has_original(photo))

    def work(ids: list[int]) -> tuple[int, list]:
        done, files = 0, []
        for photo in ReportPhoto.objects.select_for_update().filter(pk__in=ids):
            removed = photos.original_remove(photo)
            if removed:
                done += 1
                files += removed
        return done, files

    return _in_batches(lambda: list(due.values_list("pk", flat=True)[: _batch()]), work)


def _delete_older(model: Any, due_when: Q, *, dry_run: bool) -> int:
    due = model.objects.filter(due_when).order_by("pk")
    if dry_run:
        return due.count()

    def work(ids: list[int]) -> tuple[int, list]:
        return model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0), []

    return _in_batches(lambda: list(due.values_list("pk", flat=True)[: _batch()]), work)


def idempotency_records(*, dry_run: bool = False, now: Any = None) -> int:
    from yizhan.core.models import IdempotencyRecord

    cutoff = _cutoff("YIZHAN_RETENTION_IDEMPOTENCY_DAYS", now or timezone.now())
    if cutoff is None:
        return 0
    return _delete_older(IdempotencyRecord, Q(created_at__lt=cutoff), dry_run=dry_run)


def notifications(*, dry_run: bool = False, now: Any = None) -> int:
    from yizhan.notifications.models import Notification

    cutoff = _cutoff("YIZHAN_RETENTION_NOTIFICATION_DAYS", now or timezone.now())
    if cutoff is None:
        return 0
    return _delete_older(Notification, Q(created_at__lt=cutoff), dry_run=dry_run)


def api_tokens(*, dry_run: bool = False, now: Any = None) -> int:
    from yizhan.people.models import ApiToken

    cutoff = _cutoff("YIZHAN_RETENTION_TOKEN_DAYS", now or timezone.now())
    if cutoff is None:
        return 0
    due_when = Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
    return _delete_older(ApiToken, due_when, dry_run=dry_run)


def sessions(*, dry_run: bool = False, now: Any = None) -> int:
    """Expired log-in sessions (database sessions only; a cache or cookie store expires its own)."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    from django.contrib.sessions.models import Session

    return _delete_older(Session, Q(expire_date__lt=now or timezone.now()), dry_run=dry_run)


@dataclass(frozen=True)
class RetentionJob:
    name: str
    setting: str  # '' when it has none
    run: Callable[..., int]
    what: str


JOBS: tuple[RetentionJob, ...] = (
    RetentionJob(
        "rejected_registrations", "YIZHAN_RETENTION_REJECTED_DAYS", rejected_registrations,
        "rejected registrations (anonymised)",
    ),
    RetentionJob(
        "original_photos", "YIZHAN_RETENTION_PHOTO_DAYS", original_photos,
        "original report photos of closed reports (derivative kept)",
    ),
    RetentionJob(
        "idempotency_records", "YIZHAN_RETENTION_IDEMPOTENCY_DAYS", idempotency_records,
        "idempotency keys",
    ),
    RetentionJob(
        "notifications", "YIZHAN_RETENTION_NOTIFICATION_DAYS", notifications, "inbox messages"
    ),
    RetentionJob(
        "api_tokens", "YIZHAN_RETENTION_TOKEN_DAYS", api_tokens, "expired or revoked API tokens"
    ),
    RetentionJob("sessions", "", sessions, "expired log-in sessions"),
)  # fmt: skip


def run_all(*, dry_run: bool = False, now: Any = None) -> dict[str, int]:
    """Every retention job once; what each removed (or would remove)."""
    now = now or timezone.now()
    return {job.name: job.run(dry_run=dry_run, now=now) for job in JOBS}
