from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationConfig(AppConfig):
    name = "yizhan.organisation"
    label = "organisation"
    verbose_name = _("Organisation pipeline")

    def ready(self) -> None:
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role
        from yizhan.organisation import models as m

        admins = {Role.ADMIN: frozenset(Action)}
        # The switch, the branches and their staff: the street's admins (and the district's).
        register(m.OrganisationSettings, Policy(role_actions=admins))
        # A branch is also seen by its own staff (to work its records), not by other staff.
        register(
            m.Branch,
            Policy(owner_field="staff_links__user", owner_many=True, role_actions=admins),
        )
        register(m.BranchStaff, Policy(owner_field="user", role_actions=admins))
        # Persons' records: the branch's staff only. No role sees them by area, admins neither
        # (they see counts per stage); ``BranchStaff`` is unique per (branch, user), so the join
        # gives no duplicate rows.
        staff_work = frozenset({Action.VIEW, Action.OPERATE})
        register(
            m.PipelineRecord,
            Policy(
                area_field=None,
                owner_field="branch__staff_links__user",
                owner_actions=staff_work,
                role_actions={},
            ),
        )
        register(
            m.StageEntry,
            Policy(
                area_field=None, owner_field="record__branch__staff_links__user", role_actions={}
            ),
        )
