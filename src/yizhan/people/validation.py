"""Input rules shared by the forms, the API and the services."""

import re

from django.utils.translation import gettext as _

from yizhan.core.errors import ApplicationError

_PHONE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalise_phone_or_none(value: str) -> str | None:
    """A mainland mobile number as 11 digits, or None. Accepts +86/0086, spaces and dashes."""
    if not isinstance(value, str):
        return None
    digits = _SEPARATORS.sub("", value.strip())
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix) :]
            break
    return digits if _PHONE.match(digits) else None


def normalise_phone(value: str) -> str:
    phone = normalise_phone_or_none(value)
    if phone is None:
        raise ApplicationError(
            _("Please enter an 11-digit mainland mobile number, such as 13812341234."),
            code="invalid_phone",
            field="phone",
        )
    return phone


def check_point(lat, lng) -> tuple[float, float]:
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        raise ApplicationError(
            _("The location is not a valid point."), code="invalid_location", field="work_lat"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ApplicationError(
            _("The location is not a valid point."), code="invalid_location", field="work_lat"
        )
    return lat, lng
