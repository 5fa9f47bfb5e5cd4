"""Writes of what every app shares: the working calendar (holidays and moved working days).

The calendar is national (the State Council publishes it once a year), so only the platform
operator keeps it. Deadlines already set are not moved when a date changes: a deadline is fixed
when a case is dispatched, from the calendar as it stood then.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Forbidden, NotFound, Unauthenticated
from yizhan.core.models import Holiday
from yizhan.core.permissions import is_authenticated

#: Years the calendar accepts (a typo such as 0226 for 2026 is refused, not stored).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _operator(actor: Any) -> None:
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if not actor.is_superuser:
        raise Forbidden(
            _("Only the platform operator keeps the working calendar."), code="operator_only"
        )


def _day(value: Any) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ApplicationError(_("Please give a date."), code="invalid_date", field="day")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ApplicationError(
            _("Please give a date between %(first)s and %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
            code="invalid_date",
            field="day",
        )
    return value


@transaction.atomic
def holiday_set(*, day: Any, is_workday: bool, name: Any, actor: Any) -> Holiday:
    """Mark ``day`` as a day off (a public holiday) or, with ``is_workday``, as a weekend day
    worked (调休). Setting a date again changes it."""
    _operator(actor)
    day = _day(day)
    if name is not None and not isinstance(name, str):
        raise ApplicationError(_("Please enter text."), field="name")
    name = (name or "").strip()
    if len(name) > 50:
        raise ApplicationError(
            _("At most %(n)s characters, please.") % {"n": 50}, code="too_long", field="name"
        )
    holiday, created = Holiday.objects.select_for_update().get_or_create(
        date=day, defaults={"is_workday": bool(is_workday), "name": name}
    )
    before = {"is_workday": holiday.is_workday, "name": holiday.name}
    if not created:
        holiday.is_workday, holiday.name = bool(is_workday), name
        holiday.save(update_fields=["is_workday", "name"])
    log_action(
        actor=actor,
        action="holiday.set",
        target=holiday,
        data={
            "date": day.isoformat(),
            "is_workday": holiday.is_workday,
            "name": name,
            **({} if created else {"before": before}),
        },
    )
    return holiday


@transaction.atomic
def holiday_remove(*, day: Any, actor: Any) -> None:
    """The date is an ordinary weekday or weekend day again."""
    _operator(actor)
    day = _day(day)
    holiday = Holiday.objects.select_for_update().filter(date=day).first()
    if holiday is None:
        raise NotFound(
            _("%(day)s is not in the working calendar.") % {"day": day.isoformat()},
            code="holiday_not_found",
        )
    log_action(
        actor=actor,
        action="holiday.removed",
        target=holiday,
        data={"date": day.isoformat(), "is_workday": holiday.is_workday, "name": holiday.name},
    )
    holiday.delete()
