from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "yizhan.privacy"
    label = "privacy"
    verbose_name = _("Personal information")

    def ready(self) -> None:
        from functools import partial

        from yizhan.core.jobs import periodic
        from yizhan.privacy.retention import JOBS

        # Retention: each job removes what is past its period (privacy.retention), batched and
        # safe to repeat; every few hours is plenty for periods counted in days.
        for job in JOBS:
            periodic(f"privacy.retention.{job.name}", 6 * 3600, partial(job.run))
