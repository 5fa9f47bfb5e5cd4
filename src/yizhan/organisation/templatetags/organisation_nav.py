"""``{% organisation_nav as shown %}``: whether the console menu offers the organisation pipeline
to the signed-in user (``selectors.may_use``: no query for admins, one for staff), worked out
once per request."""

from django import template

from yizhan.organisation import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def organisation_nav(context) -> bool:
    request = context.get("request")
    if request is None:
        return False
    if not hasattr(request, "_organisation_nav"):
        request._organisation_nav = selectors.may_use(getattr(request, "user", None))
    return request._organisation_nav
