from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yizhan.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from yizhan.core.models import AuditEntry
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role

        # The audit log is read by staff and admins beneath their area; nobody edits it.
        register(
            AuditEntry,
            Policy(
                role_actions={
                    Role.STAFF: frozenset({Action.VIEW}),
                    Role.ADMIN: frozenset({Action.VIEW}),
                }
            ),
        )
