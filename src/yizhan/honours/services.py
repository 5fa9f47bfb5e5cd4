"""Every write to honours: titles (a street's admins), nominations (staff of the rider's area,
from the record), and the decision on each (the street's or the district's admins).

The quota rule, under a lock on the title row so two people cannot both take the last place:

* nominating is refused (409 ``quota_full``) when the title's pending and approved nominations
  already fill its quota — a pending nomination holds a place until it is decided;
* approving is refused (409 ``quota_full``) when the approved ones already fill it (possible
  only after the quota was lowered below the pending ones).

A rider is nominated at most once per title (so per period); a rejection stands for that period.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, Unauthenticated
from yizhan.core.permissions import Action, can, is_authenticated, require
from yizhan.honours import selectors
from yizhan.honours.choices import COUNTED_STATUSES, NominationStatus
from yizhan.honours.models import Nomination, Title
from yizhan.notifications.services import notify
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import RiderProfile

MAX_QUOTA = 10_000
MAX_PERIOD_DAYS = 366 * 5


def _text(value: Any, *, field: str, max_length: int, required: bool, message: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > max_length:
        raise ApplicationError(message, code="invalid", field=field)
    return text


def _quota(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUOTA:
        raise ApplicationError(
            _("The quota is a whole number from 1 to %(n)s.") % {"n": MAX_QUOTA}, field="quota"
        )
    return value


def _period(year: Any, starts_on: Any, ends_on: Any, label: Any) -> tuple[date, date, str]:
    """A calendar year, or a date range; and the period's label (the year, or the range)."""
    label = label.strip() if isinstance(label, str) else ""
    if year not in (None, ""):
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            raise ApplicationError(_("Please give a year from 2000 to 2100."), field="year")
        if starts_on or ends_on:
            raise ApplicationError(
                _("Give either a year or a start and end date, not both."), field="year"
            )
        return date(year, 1, 1), date(year, 12, 31), (label or str(year))[:40]
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise ApplicationError(
            _("Please give the period: a year, or a start and an end date."), field="starts_on"
        )
    if ends_on < starts_on:
        raise ApplicationError(_("The period must end on or after its start."), field="ends_on")
    if (ends_on - starts_on).days > MAX_PERIOD_DAYS:
        raise ApplicationError(_("A period is at most five years long."), field="ends_on")
    return starts_on, ends_on, (label or f"{starts_on:%Y-%m-%d}–{ends_on:%Y-%m-%d}")[:40]


@transaction.atomic
def title_create(
    *,
    street: Any,
    name: Any,
    quota: Any,
    actor: Any,
    description: Any = "",
    year: Any = None,
    starts_on: Any = None,
    ends_on: Any = None,
    period: Any = "",
) -> Title:
    """Define a title of a street for a period (the street's admins and the district's)."""
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("A title belongs to a street."), field="street")
    require(actor, Action.CONFIGURE, street)
    name = _text(
        name, field="name", max_length=60, required=True,
        message=_("A title needs a name of at most 60 characters."),
    )  # fmt: skip
    description = _text(
        description, field="description", max_length=500, required=False,
        message=_("A description is at most 500 characters."),
    )  # fmt: skip
    quota = _quota(quota)
    starts_on, ends_on, label = _period(year, starts_on, ends_on, period)
    if Title.objects.filter(street=street, name=name, period=label).exists():
        raise Conflict(
            _("%(street)s already has the title %(name)s for %(period)s.")
            % {"street": street.name, "name": name, "period": label},
            code="duplicate_title",
            field="name",
        )
    title = Title.objects.create(
        street=street,
        area_code=street.code,
        name=name,
        description=description,
        period=label,
        starts_on=starts_on,
        ends_on=ends_on,
        quota=quota,
        created_by=actor,
    )
    log_action(
        actor=actor,
        action="honour.title_created",
        target=title,
        data={"period": label, "quota": quota},
    )
    return title


def _lock(title: Title) -> Title:
    return Title.objects.select_for_update().get(pk=title.pk)


def _approved(title: Title) -> int:
    return title.nominations.filter(status=NominationStatus.APPROVED).count()


@transaction.atomic
def title_update(*, title: Title, actor: Any, quota: Any = None, description: Any = None) -> Title:
    """Change a title's quota (never below the riders already approved) or description."""
    require(actor, Action.CONFIGURE, title)
    title = _lock(title)
    changes: dict[str, Any] = {}
    if quota is not None:
        quota = _quota(quota)
        approved = _approved(title)
        if quota < approved:
            raise Conflict(
                _("%(n)s riders already hold this title: the quota cannot be lower.")
                % {"n": approved},
                code="quota_below_approved",
                field="quota",
            )
        changes["quota"] = quota
    if description is not None:
        changes["description"] = _text(
            description, field="description", max_length=500, required=False,
            message=_("A description is at most 500 characters."),
        )  # fmt: skip
    for name, value in changes.items():
        setattr(title, name, value)
    title.save()
    log_action(actor=actor, action="honour.title_updated", target=title, data=changes)
    return title


@transaction.atomic
def nomination_create(*, title: Title, rider: Any, reason: Any, actor: Any) -> Nomination:
    """Staff put a verified rider of their area forward for a title, with a reason.

    Refused: a rider outside the actor's area (403) or the title's street (400), not verified
    (400); the same rider twice for the title (409); the quota already filled by pending and
    approved nominations (409).
    """
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if not isinstance(title, Title):
        raise ApplicationError(_("Please choose a title."), field="title")
    if not isinstance(rider, RiderProfile):
        raise ApplicationError(_("Please choose a rider."), field="rider")
    if not can(actor, Action.OPERATE, rider):
        raise Forbidden(_("You may nominate only riders of your own area."), code="other_area")
    if not rider.area_code.startswith(title.area_code):
        raise ApplicationError(
            _("%(rider)s does not belong to %(street)s, which awards this title.")
            % {"rider": rider, "street": title.street.name},
            code="other_street",
            field="rider",
        )
    if rider.status != RegistrationStatus.VERIFIED:
        raise ApplicationError(
            _("%(rider)s is not a verified rider.") % {"rider": rider},
            code="not_verified",
            field="rider",
        )
    reason = _text(
        reason, field="reason", max_length=500, required=True,
        message=_("Please give the reason for the nomination (at most 500 characters)."),
    )  # fmt: skip
    title = _lock(title)
    if Nomination.objects.filter(title=title, rider=rider).exists():
        raise Conflict(
            _("%(rider)s is already nominated for %(title)s.") % {"rider": rider, "title": title},
            code="already_nominated",
            field="rider",
        )
    taken = title.nominations.filter(status__in=COUNTED_STATUSES).count()
    if taken >= title.quota:
        raise Conflict(
            _(
                "%(title)s may go to %(n)s riders and %(taken)s are already nominated or "
                "approved: no place is left."
            )
            % {"title": title, "n": title.quota, "taken": taken},
            code="quota_full",
        )
    record = selectors.record_of([rider], selectors.period_of(title)).get(rider.pk, {})
    nomination = Nomination.objects.create(
        title=title,
        rider=rider,
        area_code=rider.area_code,
        reason=reason,
        record=record,
        nominated_by=actor,
    )
    log_action(
        actor=actor,
        action="honour.nominated",
        target=nomination,
        data={"title": title.pk, "reason": reason, "record": record},
    )
    return nomination


def _decidable(nomination: Nomination, actor: Any) -> Nomination:
    """Check the actor administers the title's street; lock the title, then the nomination."""
    require(actor, Action.VIEW, nomination)
    if not can(actor, Action.CONFIGURE, nomination.title):
        raise Forbidden(
            _("Only the admins of %(street)s decide on its honours.")
            % {"street": nomination.title.street.name},
            code="not_street_admin",
        )
    _lock(nomination.title)
    nomination = (
        Nomination.objects.select_for_update()
        .select_related("title__street", "rider__user")
        .get(pk=nomination.pk)
    )
    if not nomination.can_decide():
        raise Conflict(
            _("This nomination was already decided (%(status)s).")
            % {"status": nomination.get_status_display()},
            code="already_decided",
        )
    return nomination


@transaction.atomic
def nomination_approve(*, nomination: Nomination, actor: Any) -> Nomination:
    """A street (or district) admin approves: the rider holds the title, and is told."""
    nomination = _decidable(nomination, actor)
    title = nomination.title
    approved = _approved(title)
    if approved >= title.quota:
        raise Conflict(
            _("%(title)s may go to %(n)s riders and %(n)s already hold it.")
            % {"title": title, "n": title.quota},
            code="quota_full",
        )
    if nomination.rider.status != RegistrationStatus.VERIFIED:
        raise Conflict(
            _("%(rider)s is no longer a verified rider.") % {"rider": nomination.rider},
            code="not_verified",
        )
    nomination.status = NominationStatus.APPROVED
    nomination.decided_by = actor
    nomination.decided_at = timezone.now()
    nomination.save()
    log_action(actor=actor, action="honour.approved", target=nomination)
    name, period = title.name, title.period
    notify(
        recipients=[nomination.rider.user_id],
        kind="honour_approved",
        title=lambda: (
            _("You were named %(title)s (%(period)s)") % {"title": name, "period": period}
        ),
        body=lambda: (
            _("Congratulations! Your name is on the honour roll of %(street)s.")
            % {"street": title.street.name}
        ),
        url=reverse("honours:mine"),
        target=nomination,
    )
    return nomination


@transaction.atomic
def nomination_reject(*, nomination: Nomination, actor: Any, reason: Any) -> Nomination:
    """A street (or district) admin turns a nomination down, with a reason; the place frees."""
    reason = _text(
        reason, field="reason", max_length=300, required=True,
        message=_("Please give the reason for the rejection (at most 300 characters)."),
    )  # fmt: skip
    nomination = _decidable(nomination, actor)
    nomination.status = NominationStatus.REJECTED
    nomination.rejection_reason = reason
    nomination.decided_by = actor
    nomination.decided_at = timezone.now()
    nomination.save()
    log_action(actor=actor, action="honour.rejected", target=nomination, data={"reason": reason})
    return nomination
