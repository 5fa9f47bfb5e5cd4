from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yizhan.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from yizhan.core import checks, jobs, tasks  # noqa: F401 - checks registers itself
        from yizhan.core.models import AuditEntry, Holiday
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role

        # The audit log is read by staff and admins beneath their area; nobody edits it.
        register(
            AuditEntry,
            Policy(
                role_actions={
                    Role.STAFF: frozenset({Action.VIEW}),
                    Role.ADMIN: frozenset({Action.VIEW}),
                }
            ),
        )
        # The working calendar is national: everyone reads it, the operator keeps it.
        register(Holiday, Policy(area_field=None, public_view=True, role_actions={}))
        tasks.register_metrics()
        self._start_jobs(jobs)

    @staticmethod
    def _start_jobs(jobs) -> None:
        """In the embedded default the web process runs the periodic jobs itself."""
        import os
        import sys

        from django.conf import settings

        if not settings.JOBS_INPROCESS:
            return
        # Only in the server process (not in the autoreloader's watcher or other commands).
        serving = len(sys.argv) > 1 and sys.argv[1] == "runserver"
        if serving and os.environ.get("RUN_MAIN") == "true" or serving and "--noreload" in sys.argv:
            jobs.start_in_process()
