"""Every write to the organisation pipeline.

* The switch (``organisation_set``), branches (``branch_create``) and their staff
  (``branch_staff_add`` / ``branch_staff_remove``): the street's admins and the district's.
* Records (``record_open``, ``record_advance``, ``record_close``, ``record_transfer``): the staff
  assigned to the record's branch, and nobody else (admins included).

While a street's switch is off every service refuses with 404 ``module_off`` and writes nothing.
A record's stages advance one step at a time, in order, each dated no earlier than the stage
before it and never in the future; a probationary member becomes a full member no earlier than
one year after (the probation of the Party Constitution, art. 7). Every change writes an audit
entry and an append-only :class:`StageEntry`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound, Unauthenticated
from yizhan.core.permissions import Action, is_authenticated, require, scope_code
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.core.validation import clean_text
from yizhan.organisation.choices import STAGE_DATE_FIELD, EntryKind, RecordStatus, Stage
from yizhan.organisation.models import (
    Branch,
    BranchStaff,
    OrganisationSettings,
    PipelineRecord,
    StageEntry,
)
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import RiderProfile, User

# --- the switch ------------------------------------------------------------------------------


def is_enabled(street_code: str) -> bool:
    return OrganisationSettings.objects.filter(area_code=street_code[:9], enabled=True).exists()


def require_enabled(street_code: str, street_name: str = "") -> None:
    """Refuse (404 ``module_off``) unless the street runs the pipeline."""
    if not is_enabled(street_code):
        raise NotFound(
            _("The organisation pipeline is not in use in %(street)s.")
            % {"street": street_name or street_code[:9]},
            code="module_off",
        )


@transaction.atomic
def organisation_set(*, street: Any, enabled: Any, actor: Any) -> OrganisationSettings:
    """Turn the pipeline on or off for a street (its admins and the district's). Turning it off
    hides the branches and records and refuses every change; nothing is deleted."""
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(
            _("The pipeline is switched on or off for a street."), field="street"
        )
    if not isinstance(enabled, bool):
        raise ApplicationError(_("Please say whether the pipeline is on or off."), field="enabled")
    require(actor, Action.CONFIGURE, street)
    found, _created = OrganisationSettings.objects.get_or_create(
        street=street, defaults={"area_code": street.code}
    )
    found = OrganisationSettings.objects.select_for_update().get(pk=found.pk)
    if found.enabled != enabled:
        found.enabled = enabled
        found.changed_by = actor
        found.save()
        log_action(
            actor=actor,
            action="organisation.enabled" if enabled else "organisation.disabled",
            target=found,
        )
    return found


# --- branches and their staff ----------------------------------------------------------------


@transaction.atomic
def branch_create(*, area: Any, name: Any, actor: Any) -> Branch:
    """A branch of a street, at the street or one of its communities (the street's admins)."""
    if not isinstance(area, Area) or area.level not in (AreaLevel.STREET, AreaLevel.COMMUNITY):
        raise ApplicationError(
            _("A branch belongs to a street or to one of its communities."), field="area"
        )
    street = area if area.level == AreaLevel.STREET else area.parent
    require(actor, Action.CONFIGURE, street)
    require_enabled(street.code, street.name)
    name = clean_text(
        name, field="name", limit=60, required=True, message=_("Please give the branch a name.")
    )
    if Branch.objects.filter(street=street, name=name).exists():
        raise Conflict(
            _("%(street)s already has a branch called %(name)s.")
            % {"street": street.name, "name": name},
            code="duplicate_branch",
            field="name",
        )
    branch = Branch.objects.create(
        street=street, area=area, area_code=area.code, name=name, created_by=actor
    )
    log_action(actor=actor, action="organisation.branch_created", target=branch,
               data={"name": name, "area": area.code})  # fmt: skip
    return branch


def may_serve(user: Any, branch: Branch) -> bool:
    """Whether ``user`` may be on the branch's staff: an active console account whose area lies
    on the branch's line of the tree within its street — the branch's area or beneath it (its
    community's staff, grid workers), or above it up to the street (the street's staff)."""
    code = scope_code(user)
    return (
        is_authenticated(user)
        and not user.is_superuser
        and user.role in CONSOLE_ROLES
        and bool(code)
        and code.startswith(branch.street.code)
        and (code.startswith(branch.area_code) or branch.area_code.startswith(code))
    )


def _manage(branch: Any, actor: Any) -> Branch:
    if not isinstance(branch, Branch):
        raise ApplicationError(_("Please choose a branch."), field="branch")
    require(actor, Action.CONFIGURE, branch)
    require_enabled(branch.street.code, branch.street.name)
    return branch


@transaction.atomic
def branch_staff_add(*, branch: Any, user: Any, actor: Any) -> BranchStaff:
    """Assign a console user of the branch's area to its staff (the street's admins)."""
    branch = _manage(branch, actor)
    if not isinstance(user, User) or not may_serve(user, branch):
        raise ApplicationError(
            _("Only console users of %(area)s may serve on this branch's staff.")
            % {"area": branch.area.name},
            code="not_eligible",
            field="user",
        )
    if BranchStaff.objects.filter(branch=branch, user=user).exists():
        raise Conflict(
            _("%(user)s is already on the staff of %(branch)s.") % {"user": user, "branch": branch},
            code="already_staff",
            field="user",
        )
    link = BranchStaff.objects.create(
        branch=branch, user=user, area_code=branch.area_code, added_by=actor
    )
    log_action(actor=actor, action="organisation.staff_added", target=branch,
               data={"user": user.pk})  # fmt: skip
    return link


@transaction.atomic
def branch_staff_remove(*, branch: Any, user: Any, actor: Any) -> None:
    """Take a user off a branch's staff: they no longer see its records."""
    branch = _manage(branch, actor)
    deleted, _rows = BranchStaff.objects.filter(
        branch=branch, user_id=getattr(user, "pk", None)
    ).delete()
    if not deleted:
        raise NotFound(
            _("%(user)s is not on the staff of %(branch)s.") % {"user": user, "branch": branch},
            code="not_branch_staff",
        )
    log_action(actor=actor, action="organisation.staff_removed", target=branch,
               data={"user": user.pk})  # fmt: skip


# --- records ---------------------------------------------------------------------------------


def is_branch_staff(user: Any, branch: Branch) -> bool:
    return is_authenticated(user) and BranchStaff.objects.filter(branch=branch, user=user).exists()


def require_branch_staff(actor: Any, branch: Branch) -> None:
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if not is_branch_staff(actor, branch):
        raise Forbidden(
            _("Only the staff of %(branch)s see and work its records.") % {"branch": branch},
            code="not_branch_staff",
        )


def _day(value: Any, *, field: str, not_before: date | None = None) -> date:
    """A date, not in the future, not before ``not_before`` (the previous stage's date)."""
    if not isinstance(value, date):
        raise ApplicationError(_("Please give the date."), field=field)
    if value > timezone.localdate():
        raise ApplicationError(
            _("The date %(date)s is in the future.") % {"date": value.isoformat()},
            code="future_date",
            field=field,
        )
    if not_before is not None and value < not_before:
        raise ApplicationError(
            _("The date may not be before the previous stage's date, %(date)s.")
            % {"date": not_before.isoformat()},
            code="before_previous",
            field=field,
        )
    return value


def one_year_after(day: date) -> date:
    """The same day a year later (29 February: 1 March)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def _entry(
    record: PipelineRecord,
    kind: str,
    on: date,
    actor: Any,
    *,
    note: str = "",
    branch: Branch | None = None,
    to_branch: Branch | None = None,
) -> StageEntry:
    return StageEntry.objects.create(
        record=record, kind=kind, stage=record.stage, on=on, branch=branch or record.branch,
        to_branch=to_branch, note=note, actor=actor,
    )  # fmt: skip


def _note(value: Any) -> str:
    return clean_text(value, field="note", limit=300)


@transaction.atomic
def record_open(
    *, branch: Any, rider: Any, applied_on: Any, actor: Any, note: Any = ""
) -> PipelineRecord:
    """Record a person's application (入党申请) with its date, under a branch.

    Refused: the street's switch off (404), an actor not on the branch's staff (403), a person
    who is not a verified rider of the branch's area (400), a date in the future (400), a person
    who already has a record in the pipeline or is a full member (409).
    """
    if not isinstance(branch, Branch):
        raise ApplicationError(_("Please choose a branch."), field="branch")
    require_enabled(branch.street.code, branch.street.name)
    require_branch_staff(actor, branch)
    if not isinstance(rider, RiderProfile):
        raise ApplicationError(_("Please choose a person."), field="rider")
    if not rider.area_code.startswith(branch.area_code):
        raise ApplicationError(
            _("This person does not belong to %(area)s, the area of %(branch)s.")
            % {"area": branch.area.name, "branch": branch},
            code="outside_branch_area",
            field="rider",
        )
    if rider.status != RegistrationStatus.VERIFIED:
        raise ApplicationError(
            _("Only verified riders can be recorded."), code="not_verified", field="rider"
        )
    applied_on = _day(applied_on, field="applied_on")
    note = _note(note)
    # Serialise applications of the same person; the partial unique index is the last word.
    RiderProfile.objects.select_for_update().filter(pk=rider.pk).first()
    duplicate = Conflict(
        _("This person already has a record in the pipeline (or is a full member)."),
        code="already_in_pipeline",
        field="rider",
    )
    if PipelineRecord.objects.filter(
        rider=rider, status__in=(RecordStatus.OPEN, RecordStatus.ADMITTED)
    ).exists():
        raise duplicate
    try:
        with transaction.atomic():
            record = PipelineRecord.objects.create(
                rider=rider,
                branch=branch,
                street_code=branch.street.code,
                applied_on=applied_on,
                opened_by=actor,
            )
    except IntegrityError:
        raise duplicate from None
    _entry(record, EntryKind.OPENED, applied_on, actor, note=note)
    log_action(actor=actor, action="organisation.record_opened", target=record,
               data={"branch": branch.pk, "applied_on": applied_on.isoformat()})  # fmt: skip
    return record


def _workable(record: Any, actor: Any) -> PipelineRecord:
    """Lock the record, then check the switch and that the actor is on its branch's staff."""
    if not isinstance(record, PipelineRecord):
        raise ApplicationError(_("Please choose a record."), field="record")
    record = (
        PipelineRecord.objects.select_for_update(of=("self",))
        .select_related("branch__street", "branch__area")
        .get(pk=record.pk)
    )
    require_enabled(record.street_code, record.branch.street.name)
    require_branch_staff(actor, record.branch)
    return record


def _not_open(record: PipelineRecord) -> Conflict:
    return Conflict(
        _("This record is %(status)s: it no longer changes.")
        % {"status": record.get_status_display()},
        code="not_open",
    )


@transaction.atomic
def record_advance(
    *, record: Any, stage: Any, on: Any, actor: Any, note: Any = ""
) -> PipelineRecord:
    """Move a record one stage on, to ``stage`` (which must be the next one), dated ``on``."""
    record = _workable(record, actor)
    if stage not in Stage.values:
        raise ApplicationError(_("Please choose a stage."), field="stage")
    if not record.can_advance():
        raise _not_open(record)
    expected = record.next_stage
    if stage != expected:
        raise Conflict(
            _("The record is at the stage %(current)s: the next stage is %(next)s, not %(asked)s.")
            % {
                "current": record.get_stage_display(),
                "next": Stage(expected).label,
                "asked": Stage(stage).label,
            },
            code="out_of_order",
            field="stage",
        )
    on = _day(on, field="on", not_before=record.last_date)
    if stage == Stage.FULL:
        earliest = one_year_after(record.probationary_on)
        if on < earliest:
            raise ApplicationError(
                _(
                    "A probationary member becomes a full member after a probation of one "
                    "year: not before %(date)s."
                )
                % {"date": earliest.isoformat()},
                code="probation",
                field="on",
            )
    note = _note(note)
    previous = record.stage
    setattr(record, STAGE_DATE_FIELD[stage], on)
    record.stage = stage
    if stage == Stage.FULL:
        record.status = RecordStatus.ADMITTED
    record.save()
    _entry(record, EntryKind.ADVANCED, on, actor, note=note)
    log_action(actor=actor, action="organisation.record_advanced", target=record,
               data={"from": previous, "to": stage, "on": on.isoformat()})  # fmt: skip
    return record


@transaction.atomic
def record_close(*, record: Any, reason: Any, on: Any, actor: Any) -> PipelineRecord:
    """Close a record (withdrawn, not admitted …) with a reason and a date."""
    record = _workable(record, actor)
    if not record.can_close():
        raise _not_open(record)
    reason = clean_text(
        reason, field="reason", limit=300, required=True,
        message=_("Please give the reason for closing the record."),
    )  # fmt: skip
    on = _day(on, field="on", not_before=record.last_date)
    record.status = RecordStatus.CLOSED
    record.closed_on = on
    record.close_reason = reason
    record.save()
    _entry(record, EntryKind.CLOSED, on, actor, note=reason)
    log_action(actor=actor, action="organisation.record_closed", target=record,
               data={"stage": record.stage, "on": on.isoformat(), "reason": reason})  # fmt: skip
    return record


@transaction.atomic
def record_transfer(*, record: Any, to_branch: Any, actor: Any, note: Any = "") -> PipelineRecord:
    """Hand a record over to another branch of the same street whose area holds the person.

    The sending branch's staff transfer (they lose sight of it); the receiving branch's staff
    see it at once. Across streets a record is not transferred: it is closed in one street and
    opened in the other (each street runs its own pipeline, with its own switch and admins).
    """
    record = _workable(record, actor)
    if not record.can_transfer():
        raise _not_open(record)
    if not isinstance(to_branch, Branch):
        raise ApplicationError(_("Please choose the receiving branch."), field="branch")
    if to_branch.pk == record.branch_id:
        raise ApplicationError(
            _("The record is already with %(branch)s.") % {"branch": to_branch},
            code="same_branch",
            field="branch",
        )
    if to_branch.street_id != record.branch.street_id:
        raise ApplicationError(
            _("A record moves only between branches of the same street."),
            code="other_street",
            field="branch",
        )
    if not record.rider.area_code.startswith(to_branch.area_code):
        raise ApplicationError(
            _("This person does not belong to %(area)s, the area of %(branch)s.")
            % {"area": to_branch.area.name, "branch": to_branch},
            code="outside_branch_area",
            field="branch",
        )
    note = _note(note)
    sender = record.branch
    record.branch = to_branch
    record.save()
    _entry(record, EntryKind.TRANSFERRED, timezone.localdate(), actor, note=note,
           branch=sender, to_branch=to_branch)  # fmt: skip
    log_action(actor=actor, action="organisation.record_transferred", target=record,
               data={"from": sender.pk, "to": to_branch.pk})  # fmt: skip
    return record
