from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "yizhan.stations"
    label = "stations"
    verbose_name = _("Stations")

    def ready(self) -> None:
        from yizhan.core.permissions import Policy, register
        from yizhan.stations.models import Station

        # Anyone may find a station; staff of its area run it.
        register(Station, Policy(public_view=True))
