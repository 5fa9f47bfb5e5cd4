"""Checks the services share for the plain values a form or an API call hands them."""

from typing import Any

from django.utils.translation import gettext as _

from yizhan.core.errors import ApplicationError


def clean_text(
    value: Any,
    *,
    field: str,
    limit: int,
    required: bool = False,
    message: Any = None,
    missing_code: str = "invalid",
) -> str:
    """The text stripped; refused when it is not text, missing but required (``message``, or
    "This field is required."; code ``missing_code``), or longer than ``limit`` characters
    (code ``too_long``)."""
    if value is not None and not isinstance(value, str):
        raise ApplicationError(_("Please enter text."), field=field)
    text = (value or "").strip()
    if required and not text:
        raise ApplicationError(
            message or _("This field is required."), code=missing_code, field=field
        )
    if len(text) > limit:
        raise ApplicationError(
            _("At most %(n)s characters, please.") % {"n": limit}, code="too_long", field=field
        )
    return text


def whole_number(value: Any, *, field: str, low: int, high: int) -> int:
    """An int (not a bool) from ``low`` to ``high``, both included."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApplicationError(
            _("Please give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
            field=field,
        )
    return value
