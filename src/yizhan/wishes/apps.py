from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WishesConfig(AppConfig):
    name = "yizhan.wishes"
    label = "wishes"
    verbose_name = _("Micro-wishes")

    def ready(self) -> None:
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role
        from yizhan.wishes import models as m

        view_operate = frozenset({Action.VIEW, Action.OPERATE})
        roles = {Role.STAFF: view_operate, Role.ADMIN: frozenset(Action)}
        # A rider sees their own wishes; staff and admins those beneath their area. The public
        # wall (published wishes, masked) is read by status in ``selectors.wall``.
        register(m.Wish, Policy(owner_field="rider", role_actions=roles))
        # A claim is its claimer's (they act on it: release, fulfil); staff see their area's.
        register(
            m.WishClaim,
            Policy(owner_field="claimer", owner_actions=view_operate, role_actions=roles),
        )
        register(m.WishEvent, Policy(owner_field="wish__rider", role_actions=roles))

        from yizhan.core.jobs import periodic
        from yizhan.wishes.services import wishes_time_out

        # Fulfilled wishes the rider did not confirm in time go to the community's staff.
        periodic("wishes.time_out", 3600, wishes_time_out)

        from yizhan.core.home import register_card
        from yizhan.wishes.selectors import home_card

        # The rider's home page shows this app's card (``core.home``).
        register_card("wishes", 30, home_card)
