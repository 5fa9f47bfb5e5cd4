from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "yizhan.rewards"
    label = "rewards"
    verbose_name = _("Rewards shop")

    def ready(self) -> None:
        from yizhan.core.permissions import Policy, register
        from yizhan.rewards import models as m

        # The catalogue, what each station has and the windows are public; staff of the
        # street (catalogue, windows) or of the station (stock, pickups) run them.
        register(m.Reward, Policy(public_view=True))
        register(m.Stock, Policy(public_view=True))
        register(m.PriorityWindow, Policy(public_view=True))
        register(m.StockChange, Policy(area_field="stock__area_code"))
        # A rider sees their own redemptions; staff those for pickup at stations in their area.
        register(m.Redemption, Policy(owner_field="user"))

        from yizhan.core.jobs import periodic
        from yizhan.rewards.services import redemptions_expire

        # Reservations not picked up in time give their points and items back.
        periodic("rewards.expire_redemptions", 300, redemptions_expire)
