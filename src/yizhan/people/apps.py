from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "yizhan.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role
        from yizhan.people import models as m

        everything = frozenset(Action)
        staff_configures = {Role.STAFF: everything, Role.ADMIN: everything}
        register(m.User, Policy(owner_field="id"))
        register(m.Department, Policy())
        # A rider sees their own profile; only staff of the area act on it.
        register(m.RiderProfile, Policy(owner_field="user"))
        # Posts are public (a rider browses what their community offers); community staff
        # configure them.
        register(m.Post, Policy(public_view=True, role_actions=staff_configures))
        register(m.PostClaim, Policy(owner_field="rider__user"))
        register(
            m.Team,
            Policy(
                owner_field="memberships__rider__user",
                owner_many=True,
                role_actions=staff_configures,
            ),
        )
        register(m.TeamMembership, Policy(owner_field="rider__user", role_actions=staff_configures))
        own_only = Policy(
            area_field=None,
            owner_field="user",
            owner_actions=frozenset({Action.VIEW, Action.OPERATE}),
            role_actions={},
        )
        register(m.TwoFactorDevice, own_only)
        # Consents: the account's own; staff read them only through a rider they may see.
        register(m.Consent, own_only)
        register(m.RecoveryCode, own_only)
        register(
            m.ApiToken,
            Policy(
                area_field=None,
                owner_field="user",
                owner_actions=frozenset({Action.VIEW, Action.OPERATE}),
                role_actions={},
            ),
        )
