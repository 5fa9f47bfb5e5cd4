"""The reports' background tasks: blurring the faces in newly stored photos."""

from yizhan.core.tasks import task
from yizhan.reports import services


@task("reports.blur_photos", retries=2, retry_delay=30)
def blur_report_photos(photo_ids: list[int]) -> dict[str, int]:
    """Give each photo its face-blurred copy (a repeat skips the ones that have it)."""
    counts = {"done": 0, "failed": 0, "skipped": 0}
    for photo_id in photo_ids:
        counts[services.report_photo_blur(photo_id=photo_id)] += 1
    return counts


def blur_pending() -> dict[str, int]:
    """The periodic safety net: photos still waiting after a few minutes (a task lost with a
    flushed queue, a worker killed mid-way) are blurred here."""
    return services.report_photos_blur(limit=100, older_than_seconds=300)
