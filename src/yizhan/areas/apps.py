from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "yizhan.areas"
    label = "areas"
    verbose_name = _("Areas")

    def ready(self) -> None:
        from yizhan.areas.models import Area
        from yizhan.core.permissions import Policy, register

        # The tree itself is public (a rider picks a community to register with); only admins
        # change boundaries, and only beneath their own area.
        register(Area, Policy(area_field="code", public_view=True))
