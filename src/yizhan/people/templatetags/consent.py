"""``{% consent_needed as needed %}``: whether the signed-in rider must agree to the privacy
notice in effect (a new version, or consent withdrawn), worked out once per request (one query)."""

from django import template

from yizhan.core.roles import Role
from yizhan.people import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_needed(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False) or user.role != Role.RIDER:
        return False
    if not hasattr(request, "_consent_needed"):
        request._consent_needed = selectors.consent_status(user).needs_consent
    return request._consent_needed
