from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "yizhan.appeals"
    label = "appeals"
    verbose_name = _("Appeals and joint meetings")

    def ready(self) -> None:
        from yizhan.appeals import models as m
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role

        view_operate = frozenset({Action.VIEW, Action.OPERATE})
        everything = frozenset(Action)
        # Appeals: the rider sees their own; staff and admins those beneath their area; a
        # body's handlers only the appeals routed to their body.
        register(
            m.Appeal,
            Policy(
                owner_field="rider",
                department_field="body",
                role_actions={
                    Role.STAFF: view_operate,
                    Role.ADMIN: everything,
                    Role.HANDLER: view_operate,
                },
            ),
        )
        for model in (m.AppealEvent, m.Delivery):
            register(
                model,
                Policy(
                    owner_field="appeal__rider",
                    department_field="appeal__body",
                    role_actions={
                        Role.STAFF: view_operate,
                        Role.ADMIN: everything,
                        Role.HANDLER: frozenset({Action.VIEW}),
                    },
                ),
            )
        # Joint meetings are run by the staff of the organising area and the admins above it.
        for model in (m.Meeting, m.AgendaItem, m.Decision):
            register(model, Policy())

        from yizhan.appeals.selectors import home_card
        from yizhan.core.home import register_card

        # The rider's home page shows this app's card (``core.home``).
        register_card("appeals", 40, home_card)

        from yizhan.appeals.services import appeals_escalate
        from yizhan.core.jobs import periodic

        # Overdue appeals go up: the body and the community at the deadline, then the street.
        periodic("appeals.escalate", 300, appeals_escalate)
