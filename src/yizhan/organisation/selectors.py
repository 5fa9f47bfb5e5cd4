"""Every read of the organisation pipeline a page or endpoint needs, through the permission layer,
and only for streets whose switch is on.

Admins get branches and counts per stage (``branches_for_user``, ``street_counts``); persons'
records come only through :func:`records_for_user`, which the policy limits to the staff of each
record's branch.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError, Forbidden, NotFound
from yizhan.core.permissions import Action, get_for_user, is_authenticated, restrict
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.organisation.choices import LIVE_STATUSES, STAGE_ORDER, RecordStatus, Stage
from yizhan.organisation.models import (
    Branch,
    BranchStaff,
    OrganisationSettings,
    PipelineRecord,
    StageEntry,
)
from yizhan.people.choices import RegistrationStatus
from yizhan.people.models import RiderProfile, User

#: The count keys: the five stages (records in the pipeline at that stage, and full members),
#: then the closed records.
COUNT_KEYS = (*STAGE_ORDER, "closed")


def _on(street_field: str) -> Exists:
    return Exists(
        OrganisationSettings.objects.filter(street_id=OuterRef(street_field), enabled=True)
    )


def _count_fields(prefix: str = "") -> dict[str, Count]:
    """Counts per stage of records (``prefix`` reaches them from the queried model). Distinct,
    as the branch list also joins the staff for the permission filter."""
    target = f"{prefix}pk"
    live = Q(**{f"{prefix}status__in": LIVE_STATUSES})
    fields = {
        f"n_{stage}": Count(target, distinct=True, filter=live & Q(**{f"{prefix}stage": stage}))
        for stage in STAGE_ORDER
    }
    closed = Q(**{f"{prefix}status": RecordStatus.CLOSED})
    fields["n_closed"] = Count(target, distinct=True, filter=closed)
    return fields


def counts_of(obj: Any) -> dict[str, int]:
    return {key: int(getattr(obj, f"n_{key}", 0) or 0) for key in COUNT_KEYS}


def count_rows(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(key, label, count) in order, for pages."""
    return [
        (key, Stage(key).label if key in STAGE_ORDER else RecordStatus.CLOSED.label, counts[key])
        for key in COUNT_KEYS
    ]


# --- streets and the switch ------------------------------------------------------------------


def managed_streets(user: Any) -> QuerySet[Area]:
    """The streets whose switch the user turns (their admins, the district's), with ``enabled``."""
    return (
        restrict(Area.objects.filter(level=AreaLevel.STREET), user, Action.CONFIGURE)
        .annotate(org_enabled=_on("pk"))
        .order_by("code")
    )


def managed_street(user: Any, code: Any) -> Area:
    """A street the user administers, by code (404 when no street has it, 403 when not theirs).
    The area tree is public, so naming a street reveals nothing."""
    street = Area.objects.filter(level=AreaLevel.STREET, code=str(code)[:32]).first()
    if street is None:
        raise NotFound(_("No street has this code."))
    found = managed_streets(user).filter(pk=street.pk).first()
    if found is None:
        raise Forbidden(
            _("Only the admins of %(street)s manage its organisation pipeline.")
            % {"street": street.name},
            code="not_street_admin",
        )
    return found


def street_counts(street: Area) -> dict[str, int]:
    """Counts per stage of a street's records (no person's data), in one query."""
    totals = PipelineRecord.objects.filter(street_code=street.code).aggregate(**_count_fields())
    return {key: int(totals[f"n_{key}"] or 0) for key in COUNT_KEYS}


# --- branches --------------------------------------------------------------------------------


def _staff_count() -> Coalesce:
    rows = (
        BranchStaff.objects.filter(branch=OuterRef("pk"))
        .order_by()
        .values("branch")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def branches_for_user(user: Any, *, street: Area | None = None) -> QuerySet[Branch]:
    """Branches of enabled streets the user sees (admins: those of their area; staff: those they
    serve), each with its counts per stage and how many staff it has (one query)."""
    qs = restrict(Branch.objects.all(), user).filter(_on("street_id"))
    if street is not None:
        qs = qs.filter(street=street)
    return (
        qs.select_related("street", "area")
        .annotate(
            staff_count=_staff_count(),
            **_count_fields("records__"),
        )
        .order_by("area_code", "name", "id")
    )


def branch_for_user(user: Any, branch_id: Any, action: Action = Action.VIEW) -> Branch:
    """One branch by request input, of an enabled street (404 otherwise)."""
    live = Branch.objects.filter(_on("street_id")).select_related("street", "area")
    return get_for_user(live, user, action, pk=branch_id)


def branch_counts(branch: Branch) -> dict[str, int]:
    """Counts per stage of one branch's records (one query)."""
    totals = PipelineRecord.objects.filter(branch=branch).aggregate(**_count_fields())
    return {key: int(totals[f"n_{key}"] or 0) for key in COUNT_KEYS}


def served_branches(user: Any) -> QuerySet[Branch]:
    """The branches (of enabled streets) the user is on the staff of."""
    if not is_authenticated(user):
        return Branch.objects.none()
    return (
        Branch.objects.filter(staff_links__user=user)
        .filter(_on("street_id"))
        .select_related("street", "area")
        .order_by("area_code", "name", "id")
    )


def staff_of(branch: Branch) -> QuerySet[BranchStaff]:
    return BranchStaff.objects.filter(branch=branch).select_related("user", "user__area")


def staff_candidates(branch: Branch) -> QuerySet[User]:
    """Console users who may join the branch's staff (``services.may_serve``), not yet on it."""
    code = branch.area_code
    above = [code[:n] for n in range(9, len(code) + 1, 3)]  # the street … the branch's area
    return (
        User.objects.filter(is_active=True, is_superuser=False, role__in=CONSOLE_ROLES)
        .filter(Q(area_code__startswith=code) | Q(area_code__in=above))
        .exclude(pk__in=BranchStaff.objects.filter(branch=branch).values("user_id"))
        .select_related("area")
        .order_by("area_code", "username")
    )


def transfer_targets(record: PipelineRecord) -> QuerySet[Branch]:
    """Other branches of the record's street whose area holds the person."""
    code = record.rider.area_code
    above = [code[:n] for n in range(9, len(code) + 1, 3)]
    return (
        Branch.objects.filter(street_id=record.branch.street_id, area_code__in=above)
        .exclude(pk=record.branch_id)
        .select_related("area")
        .order_by("area_code", "name")
    )


# --- records ---------------------------------------------------------------------------------


def _records() -> QuerySet[PipelineRecord]:
    return PipelineRecord.objects.select_related(
        "rider__user", "rider__community", "branch__street", "branch__area"
    )


def records_for_user(
    user: Any,
    *,
    branch: Branch | None = None,
    stage: str | None = None,
    status: str | None = None,
) -> QuerySet[PipelineRecord]:
    """Records of enabled streets the user may see: those of the branches they serve."""
    qs = restrict(_records(), user).filter(_on("branch__street_id"))
    if branch is not None:
        qs = qs.filter(branch=branch)
    if stage:
        qs = qs.filter(stage=stage)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-updated_at", "-id")


def record_for_user(user: Any, record_id: Any, action: Action = Action.VIEW) -> PipelineRecord:
    return get_for_user(records_for_user(user), user, action, pk=record_id)


def history_of(record: PipelineRecord, user: Any) -> QuerySet[StageEntry]:
    return (
        restrict(StageEntry.objects.filter(record=record), user)
        .select_related("branch", "to_branch", "actor")
        .order_by("created_at", "id")
    )


def candidates(branch: Branch) -> QuerySet[RiderProfile]:
    """Verified riders of the branch's area without a live record (to open one for)."""
    live = PipelineRecord.objects.filter(status__in=LIVE_STATUSES).values("rider_id")
    return (
        RiderProfile.objects.filter(
            status=RegistrationStatus.VERIFIED, area_code__startswith=branch.area_code
        )
        .exclude(pk__in=live)
        .select_related("user", "community")
        .order_by("community__code", "user__name", "pk")
    )


def rider_for_branch(branch: Branch, rider_id: Any) -> RiderProfile:
    """The person a record is opened for, by request input: only riders of the branch's area
    are looked at, so an id outside it reveals nothing (400)."""
    found = (
        RiderProfile.objects.filter(area_code__startswith=branch.area_code, pk=rider_id).first()
        if isinstance(rider_id, int)
        else None
    )
    if found is None:
        raise ApplicationError(
            _("Please choose a verified rider of %(area)s.") % {"area": branch.area.name},
            code="outside_branch_area",
            field="rider",
        )
    return found


# --- the console menu ------------------------------------------------------------------------


def may_use(user: Any) -> bool:
    """Whether the console menu shows the pipeline: admins always (they turn the switch), staff
    when they serve a branch of an enabled street (one query)."""
    if not is_authenticated(user):
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if user.role != Role.STAFF:
        return False
    return served_branches(user).exists()
