"""``{% outbox_strings %}``: the outbox's messages (static/yizhan/outbox.js), translated, as a
JSON block the script reads (the Content-Security-Policy allows no inline script)."""

from django import template
from django.utils.html import json_script
from django.utils.translation import gettext as _

register = template.Library()


def strings() -> dict[str, str]:
    return {
        "report": _("Report"),
        "checkin": _("Check-in"),
        "station": _("Station"),
        "made": _("Made on this phone"),
        "photos": _("%(n)s photos"),
        "state_waiting": _("Waiting for a connection: it is sent by itself."),
        "state_sending": _("Sending …"),
        "state_login": _("You were logged out: log in again and it is sent."),
        "state_attention": _("Not accepted: see why below, then change it or delete it."),
        "state_other": _("Made by another account on this phone."),
        "other": _(
            "It is sent only when the account that made it is logged in here: log in as that "
            "account, or delete it."
        ),
        "offline": _("No connection yet."),
        "busy": _("The server is busy: it is tried again in a minute."),
        "login": _("Your session ended while you were offline."),
        "refused": _("The server did not accept it."),
        "sent": _("Sent from the outbox: %(n)s."),
        "send_now": _("Send now"),
        "edit": _("Change and send again"),
        "delete": _("Delete"),
        "log_in": _("Log in"),
        "confirm_delete": _("Delete it from this phone? It has not been sent."),
        "kept": _(
            "Saved on this phone: it is sent by itself when the connection returns, and only once."
        ),
        "kept_login": _(
            "Your session has ended. The report is saved on this phone: log in again and it is "
            "sent."
        ),
        "photo_too_large": _(
            "This photo is too large to send: take it again, or choose a smaller one."
        ),
    }


@register.simple_tag
def outbox_strings() -> str:
    return json_script(strings(), "outbox-i18n")
