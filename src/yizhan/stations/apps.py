from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "yizhan.stations"
    label = "stations"
    verbose_name = _("Stations")

    def ready(self) -> None:
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.stations import models as m

        view_operate = frozenset({Action.VIEW, Action.OPERATE})
        # Anyone may find a station; staff of its area run it, and the merchant who hosts a
        # caring corner keeps it up to date (services.MERCHANT_FIELDS says what they may change).
        register(
            m.Station,
            Policy(public_view=True, owner_field="merchant", owner_actions=view_operate),
        )
        register(m.StationPhoto, Policy(public_view=True, owner_field="station__merchant"))
        # The catalogue is public and platform-wide: only the operator (superuser) changes it.
        register(m.ServiceItem, Policy(area_field=None, public_view=True, role_actions={}))
        # A street's standard: its staff read it, its admins configure it.
        register(m.ChecklistItem, Policy())
        register(m.Inspection, Policy(owner_field="station__merchant"))
        register(m.InspectionResult, Policy(area_field="inspection__area_code"))
        # A rider sees their own check-ins; the host sees its corner's; staff their area's.
        register(m.Visit, Policy(owner_field="rider"))

        from yizhan.core.home import register_card
        from yizhan.stations.views import home_card

        # What matters now, on the rider's home page: the nearest open station.
        register_card("stations", 2, home_card)
