from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "yizhan.events"
    label = "events"
    verbose_name = _("Events and hand-outs")

    def ready(self) -> None:
        from yizhan.core.permissions import Policy, register
        from yizhan.events import models as m

        # Events are announcements anyone signed in may read; the organiser area's staff and
        # the admins above run them.
        register(m.Event, Policy(public_view=True))
        # A rider sees their own sign-ups and receipts; the area's staff all of them.
        register(m.Signup, Policy(owner_field="user"))
        register(m.Distribution, Policy())
        register(m.DistributionItem, Policy())
        register(m.Receipt, Policy(owner_field="user"))
        register(m.ReceiptLine, Policy(owner_field="receipt__user"))

        from yizhan.core.home import register_card
        from yizhan.events.selectors import home_card

        # The rider's home page shows this app's card (``core.home``).
        register_card("events", 10, home_card)
