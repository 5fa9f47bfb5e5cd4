from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "yizhan.reports"
    label = "reports"
    verbose_name = _("Reports (随手拍)")

    def ready(self) -> None:
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.core.roles import Role
        from yizhan.reports import models as m

        view_operate = frozenset({Action.VIEW, Action.OPERATE})
        everything = frozenset(Action)
        # Reports: the reporter sees their own; staff and admins those beneath their area; a
        # department's handlers only the cases sent to their department.
        report_roles = {
            Role.STAFF: view_operate,
            Role.ADMIN: everything,
            Role.HANDLER: view_operate,
        }
        register(
            m.Report,
            Policy(
                owner_field="reporter", department_field="department", role_actions=report_roles
            ),
        )
        for model in (m.ReportEvent, m.ReportPhoto):
            register(
                model,
                Policy(
                    owner_field="report__reporter",
                    department_field="report__department",
                    role_actions={
                        Role.STAFF: view_operate,
                        Role.ADMIN: everything,
                        Role.HANDLER: frozenset({Action.VIEW}),
                    },
                ),
            )
        register(m.Witness, Policy(owner_field="user"))
        # Categories are public (a rider picks one); street admins configure them.
        register(m.Category, Policy(public_view=True))
        register(m.ReportSettings, Policy())
        register(m.Open311Key, Policy())

        from yizhan.core.jobs import periodic
        from yizhan.reports.services import reports_escalate

        periodic("reports.escalate", 60, reports_escalate)

        from yizhan.reports.tasks import blur_pending

        periodic("reports.blur_pending", 300, blur_pending)

        from yizhan.core.home import register_card
        from yizhan.reports.selectors import home_card

        # The rider's home page shows this app's card (``core.home``).
        register_card("reports", 50, home_card)

        from yizhan.core.ops import register_gauge
        from yizhan.reports.selectors import overdue_count

        register_gauge(
            "yizhan_reports_overdue", "Dispatched reports past their deadline", overdue_count
        )
