"""Organisation pipeline API: a street's switch and counts per stage (its admins), branches and
their staff, and the records (the branch's staff only): open, advance, close, transfer.

Nothing here is public or for riders: every operation needs a console account. A street whose
switch is off answers 404 ``module_off`` (only its switch answers, to its admins).
"""

from datetime import date, datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from yizhan.areas.selectors import area_by_code
from yizhan.core.masking import mask_name
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import Action, get_for_user, require_role
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.core.schemas import ERRORS, OkOut
from yizhan.organisation import selectors, services
from yizhan.organisation.choices import RecordStatus, Stage
from yizhan.organisation.models import Branch, BranchStaff, PipelineRecord, StageEntry
from yizhan.people.api import AreaRef
from yizhan.people.models import User

router = Router(tags=["organisation"])
CONSOLE = tuple(CONSOLE_ROLES)


# --- schemas ---------------------------------------------------------------------------------


class OrgCounts(Schema):
    applicant: int
    activist: int
    candidate: int
    probationary: int
    full: int
    closed: int


class OrgStreetOut(Schema):
    street: AreaRef
    enabled: bool
    counts: OrgCounts | None = Field(None, description="Records per stage (none while off)")


class OrgSwitchIn(Schema):
    enabled: bool


class OrgBranchOut(Schema):
    id: int
    name: str
    street: AreaRef
    area: AreaRef
    staff_count: int = 0
    counts: OrgCounts

    @staticmethod
    def resolve_counts(obj: Branch) -> dict:
        return selectors.counts_of(obj)


class OrgBranchIn(Schema):
    area: str = Field(..., description="The street's code, or one of its communities' codes")
    name: str = Field(..., max_length=60)


class OrgStaffOut(Schema):
    user_id: int
    username: str
    name: str
    area: AreaRef | None = None
    added_at: datetime

    @staticmethod
    def resolve_username(obj: BranchStaff) -> str:
        return obj.user.username

    @staticmethod
    def resolve_name(obj: BranchStaff) -> str:
        return obj.user.name

    @staticmethod
    def resolve_area(obj: BranchStaff):
        return obj.user.area


class OrgBranchDetail(OrgBranchOut):
    staff: list[OrgStaffOut]


class OrgStaffIn(Schema):
    user_id: int


class OrgBranchRef(Schema):
    id: int
    name: str


class OrgRecordOut(Schema):
    id: int
    name: str = Field(..., description="The person's name, masked (王**)")
    community: AreaRef
    branch: OrgBranchRef
    stage: str
    stage_label: str = Field(..., alias="get_stage_display")
    status: str
    status_label: str = Field(..., alias="get_status_display")
    applied_on: date
    activist_on: date | None
    candidate_on: date | None
    probationary_on: date | None
    full_on: date | None
    closed_on: date | None
    close_reason: str
    updated_at: datetime

    @staticmethod
    def resolve_name(obj: PipelineRecord) -> str:
        return mask_name(obj.rider.user.name or obj.rider.user.username)

    @staticmethod
    def resolve_community(obj: PipelineRecord):
        return obj.rider.community


class OrgEntryOut(Schema):
    kind: str
    stage: str
    on: date
    branch: OrgBranchRef
    to_branch: OrgBranchRef | None = None
    note: str
    by: str | None = None
    created_at: datetime

    @staticmethod
    def resolve_by(obj: StageEntry) -> str | None:
        return (obj.actor.name or obj.actor.username) if obj.actor else None


class OrgRecordDetail(OrgRecordOut):
    rider_id: int
    full_name: str = Field(..., description="Shown to the branch's staff on the record only")
    history: list[OrgEntryOut]

    @staticmethod
    def resolve_full_name(obj: PipelineRecord) -> str:
        return obj.rider.user.name or obj.rider.user.username


class OrgRecordIn(Schema):
    branch_id: int
    rider_id: int
    applied_on: date = Field(..., description="The application's date (入党申请), not future")
    note: str = Field("", max_length=300)


class OrgAdvanceIn(Schema):
    stage: Stage = Field(..., description="The next stage (one step at a time)")
    on: date = Field(..., description="Not before the previous stage, not in the future")
    note: str = Field("", max_length=300)


class OrgCloseIn(Schema):
    reason: str = Field(..., max_length=300)
    on: date


class OrgTransferIn(Schema):
    branch_id: int = Field(..., description="A branch of the same street holding the person")
    note: str = Field("", max_length=300)


# --- helpers ---------------------------------------------------------------------------------


def _console(request) -> None:
    require_role(request.user, *CONSOLE)


def _street_out(street) -> dict:
    counts = selectors.street_counts(street) if street.org_enabled else None
    return {"street": street, "enabled": street.org_enabled, "counts": counts}


def _branch_detail(request, branch_id: int) -> Branch:
    branch = selectors.branches_for_user(request.user).get(pk=branch_id)
    branch.staff = list(selectors.staff_of(branch))
    return branch


def _detail(request, record: PipelineRecord) -> PipelineRecord:
    found = selectors.records_for_user(request.user).get(pk=record.pk)
    found.history = list(selectors.history_of(found, request.user))
    return found


def _record(request, record_id: int) -> PipelineRecord:
    _console(request)
    return selectors.record_for_user(request.user, record_id, Action.OPERATE)


# --- streets ---------------------------------------------------------------------------------


@router.get(
    "/organisation/streets/{code}",
    response={200: OrgStreetOut, **ERRORS},
    summary="A street's switch and its records per stage (the street's and district's admins)",
)
def street_get(request, code: str):
    _console(request)
    return _street_out(selectors.managed_street(request.user, code))


@router.put(
    "/organisation/streets/{code}",
    response={200: OrgStreetOut, **ERRORS},
    summary="Turn the organisation pipeline on or off for a street (its admins)",
)
def street_set(request, code: str, payload: OrgSwitchIn):
    _console(request)
    street = selectors.managed_street(request.user, code)
    services.organisation_set(street=street, enabled=payload.enabled, actor=request.user)
    return _street_out(selectors.managed_street(request.user, code))


# --- branches --------------------------------------------------------------------------------


@router.get(
    "/organisation/branches",
    response={200: list[OrgBranchOut], **ERRORS},
    summary="Branches I administer or serve on (enabled streets), with counts per stage",
)
@paginate(YizhanPagination)
def branch_list(request, street: str | None = None):
    _console(request)
    qs = selectors.branches_for_user(request.user)
    return qs.filter(street__code=street) if street else qs


@router.post(
    "/organisation/branches",
    response={201: OrgBranchDetail, **ERRORS},
    summary="Create a branch at a street or one of its communities (the street's admins)",
)
def branch_create(request, payload: OrgBranchIn):
    _console(request)
    area = area_by_code(payload.area, field="area")
    branch = services.branch_create(area=area, name=payload.name, actor=request.user)
    return Status(201, _branch_detail(request, branch.pk))


@router.get(
    "/organisation/branches/{branch_id}",
    response={200: OrgBranchDetail, **ERRORS},
    summary="A branch with its staff (the street's admins, the branch's staff)",
)
def branch_get(request, branch_id: int):
    _console(request)
    branch = selectors.branch_for_user(request.user, branch_id)
    return _branch_detail(request, branch.pk)


@router.post(
    "/organisation/branches/{branch_id}/staff",
    response={201: OrgBranchDetail, **ERRORS},
    summary="Assign a console user of the branch's area to its staff (the street's admins)",
)
def staff_add(request, branch_id: int, payload: OrgStaffIn):
    _console(request)
    branch = selectors.branch_for_user(request.user, branch_id, Action.CONFIGURE)
    # Whether the user may serve is the service's question (400 with the reason).
    user = User.objects.filter(pk=payload.user_id, is_active=True).first()
    services.branch_staff_add(branch=branch, user=user, actor=request.user)
    return Status(201, _branch_detail(request, branch.pk))


@router.delete(
    "/organisation/branches/{branch_id}/staff/{user_id}",
    response={200: OkOut, **ERRORS},
    summary="Take a user off a branch's staff (the street's admins)",
)
def staff_remove(request, branch_id: int, user_id: int):
    _console(request)
    branch = selectors.branch_for_user(request.user, branch_id, Action.CONFIGURE)
    link = get_for_user(
        BranchStaff.objects.filter(branch=branch).select_related("user"),
        request.user,
        user_id=user_id,
    )
    services.branch_staff_remove(branch=branch, user=link.user, actor=request.user)
    return {"ok": True}


# --- records ---------------------------------------------------------------------------------


@router.get(
    "/organisation/records",
    response={200: list[OrgRecordOut], **ERRORS},
    summary="Records of the branches I serve on (names masked), by branch, stage and status",
)
@paginate(YizhanPagination)
def record_list(
    request,
    branch_id: int | None = None,
    stage: Stage | None = None,
    status: RecordStatus | None = None,
):
    _console(request)
    branch = selectors.branch_for_user(request.user, branch_id) if branch_id else None
    return selectors.records_for_user(request.user, branch=branch, stage=stage, status=status)


@router.post(
    "/organisation/records",
    response={201: OrgRecordDetail, **ERRORS},
    summary="Record a person's application (入党申请) under a branch (its staff)",
)
def record_open(request, payload: OrgRecordIn):
    _console(request)
    branch = selectors.branch_for_user(request.user, payload.branch_id)
    services.require_branch_staff(request.user, branch)
    rider = selectors.rider_for_branch(branch, payload.rider_id)
    record = services.record_open(
        branch=branch,
        rider=rider,
        applied_on=payload.applied_on,
        note=payload.note,
        actor=request.user,
    )
    return Status(201, _detail(request, record))


@router.get(
    "/organisation/records/{record_id}",
    response={200: OrgRecordDetail, **ERRORS},
    summary="A record with its dated history (the branch's staff)",
)
def record_get(request, record_id: int):
    _console(request)
    return _detail(request, selectors.record_for_user(request.user, record_id))


@router.post(
    "/organisation/records/{record_id}/advance",
    response={200: OrgRecordDetail, **ERRORS},
    summary="Advance a record to the next stage, dated (one step, in order)",
)
def record_advance(request, record_id: int, payload: OrgAdvanceIn):
    record = _record(request, record_id)
    services.record_advance(
        record=record,
        stage=payload.stage.value,
        on=payload.on,
        note=payload.note,
        actor=request.user,
    )
    return _detail(request, record)


@router.post(
    "/organisation/records/{record_id}/close",
    response={200: OrgRecordDetail, **ERRORS},
    summary="Close a record (withdrawn, not admitted …) with a reason and a date",
)
def record_close(request, record_id: int, payload: OrgCloseIn):
    record = _record(request, record_id)
    services.record_close(record=record, reason=payload.reason, on=payload.on, actor=request.user)
    return _detail(request, record)


@router.post(
    "/organisation/records/{record_id}/transfer",
    response={200: OkOut, **ERRORS},
    summary="Hand a record over to another branch of the same street",
)
def record_transfer(request, record_id: int, payload: OrgTransferIn):
    record = _record(request, record_id)
    target = Branch.objects.filter(pk=payload.branch_id).select_related("area").first()
    services.record_transfer(record=record, to_branch=target, note=payload.note, actor=request.user)
    return {"ok": True}
