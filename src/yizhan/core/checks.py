"""System checks of the production profile (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.caches, deploy=True)
def shared_cache_and_queue(app_configs=None, **kwargs):
    """Several app processes need one cache (rate limits, lockouts, the station catalogue's
    token) and one task queue; the embedded defaults keep both inside each process."""
    problems = []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("LocMemCache"):
        problems.append(
            Warning(
                "The cache is in process memory: every worker keeps its own rate limits, "
                "log-in lockouts and catalogue copy.",
                hint="Set REDIS_URL (docs/deploy.md).",
                id="yizhan.W001",
            )
        )
    config = getattr(settings, "HUEY", {})
    if isinstance(config, dict) and config.get("immediate", True):
        problems.append(
            Warning(
                "No task queue: background work (notifications, periodic jobs) runs inside the "
                "web requests.",
                hint="Set TASK_QUEUE_URL or REDIS_URL and run the worker and the scheduler "
                "(docs/deploy.md).",
                id="yizhan.W002",
            )
        )
    return problems
