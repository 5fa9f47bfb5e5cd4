from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "yizhan.points"
    label = "points"
    verbose_name = _("Points")

    def ready(self) -> None:
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role
        from yizhan.points import models as m

        staff_view = {Role.STAFF: frozenset({Action.VIEW}), Role.ADMIN: frozenset(Action)}
        # A member sees their own account and postings; staff those of members beneath their
        # area (an account by where its owner belongs now, a posting by where it was earned).
        register(m.PointsAccount, Policy(area_field="owner__area_code", owner_field="owner"))
        register(m.Posting, Policy(owner_field="member__owner"))
        register(m.Entry, Policy(area_field="posting__area_code", owner_field="account__owner"))
        register(m.EarningRecord, Policy(owner_field="member__owner"))
        register(m.ManualAward, Policy())
        # What earns points is public; street admins set it.
        register(m.EarningRule, Policy(public_view=True, role_actions=staff_view))
        register(m.PointsSettings, Policy(public_view=True, role_actions=staff_view))
        # The leaderboards as stored, for the back office: staff and admins see (only see) the
        # rows of areas beneath theirs; pages read boards through the selectors.
        view_only = {Role.STAFF: frozenset({Action.VIEW}), Role.ADMIN: frozenset({Action.VIEW})}
        register(m.SeasonScore, Policy(area_field="area_code", role_actions=view_only))
        register(m.ScoreBucket, Policy(area_field="area_code", role_actions=view_only))
        register(m.TieBucket, Policy(area_field="area_code", role_actions=view_only))

        from yizhan.core.jobs import periodic
        from yizhan.points.services import points_expire_due

        # Points past their street's expiry date expire (a no-op where expiry is off).
        periodic("points.expire", 3600, points_expire_due)

        from yizhan.core.home import register_card
        from yizhan.points.selectors import home_card

        # What matters now, on the rider's home page: the balance.
        register_card("points", 1, home_card)
