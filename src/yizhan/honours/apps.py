from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HonoursConfig(AppConfig):
    name = "yizhan.honours"
    label = "honours"
    verbose_name = _("Honours")

    def ready(self) -> None:
        from yizhan.core.permissions import Policy, register
        from yizhan.honours import models as m

        # Titles are public (the honour roll names them); the street's staff nominate
        # (operate), its admins and the district's create titles and decide (configure).
        register(m.Title, Policy(public_view=True))
        # A nomination: staff of the rider's area see it; the rider sees their own.
        register(m.Nomination, Policy(owner_field="rider__user"))

        from yizhan.core.home import register_card
        from yizhan.honours.selectors import home_card

        # The rider's home page shows this app's card (``core.home``).
        register_card("honours", 60, home_card)
