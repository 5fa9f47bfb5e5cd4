"""``{% unread_count as n %}``: the signed-in user's unread messages, for the top bar (one
query; none for a visitor)."""

from django import template

from yizhan.notifications import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    request = context.get("request")
    return selectors.unread_count(getattr(request, "user", None))
