from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutiesConfig(AppConfig):
    name = "yizhan.duties"
    label = "duties"
    verbose_name = _("Duties")

    def ready(self) -> None:
        from yizhan.core.permissions import Policy, register
        from yizhan.duties import models as m

        # A rider sees their own duties; staff of the rider's area (and admins above) see and
        # verify them.
        register(m.Duty, Policy(owner_field="rider__user"))
        # Gift codes are the community staff's: nobody else sees them.
        register(m.GiftCode, Policy())

        from yizhan.core.home import register_card
        from yizhan.duties.selectors import home_card

        # The rider's home page shows this app's card (``core.home``).
        register_card("duties", 20, home_card)
