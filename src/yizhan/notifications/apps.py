from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "yizhan.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from yizhan.core.permissions import Action, Policy, register
        from yizhan.notifications import models as m

        # An inbox is personal: only its owner reads it and marks it read.
        mine = frozenset({Action.VIEW, Action.OPERATE})
        register(
            m.Notification,
            Policy(area_field=None, owner_field="recipient", owner_actions=mine, role_actions={}),
        )
        register(
            m.Delivery,
            Policy(area_field=None, owner_field="notification__recipient", role_actions={}),
        )

        from yizhan.core.ops import register_gauge

        register_gauge(
            "yizhan_notification_deliveries_failed",
            "Notification deliveries that failed (kept until the retention job removes them)",
            lambda: m.Delivery.objects.filter(status=m.Delivery.Status.FAILED).count(),
        )
