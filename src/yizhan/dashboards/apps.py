from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "yizhan.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        from yizhan.core.jobs import periodic
        from yizhan.core.permissions import Policy, register
        from yizhan.dashboards import models as m
        from yizhan.dashboards.services import REFRESH_EVERY, rollups_refresh

        # A coverage target is seen by the staff beneath it and set by admins (configure).
        register(m.CoverageTarget, Policy())
        # The rollups follow the facts within about a minute (see services.py for why a job).
        periodic("dashboards.rollups_refresh", REFRESH_EVERY, rollups_refresh)

        from yizhan.dashboards.brief import monthly_briefs

        # Last month's brief for every street, written in the first days of a month (idempotent).
        periodic("dashboards.monthly_briefs", 3600, monthly_briefs)
