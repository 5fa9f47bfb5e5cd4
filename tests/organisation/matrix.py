"""The organisation app's rows of the permission matrices (see ``tests.matrix_parts``).

Objects (``organisation_objects``), all in street A, whose switch is on: the branch 甲街道小哥党支部
at the street with A1's community staff (``world.community_staff``) on its staff, a second
branch at community A1 with nobody on it (to transfer to), the rider's record (an application of
400 days ago), the other rider (of A2, in the street) to record an application for, and the other
community's staff to add to the branch.

What the rows say: only the branch's staff see and work records — the other community's staff do
not see the branch at all (404); the street's and the district's admins manage the switch, the
branches and the staff, but a person's record is hidden from them too (404, or 403 on the branch
page they can see).
"""

from tests.api.matrix_case import Case as ApiCase
from tests.api.matrix_case import _row
from tests.pages.matrix_case import CONFIGURE_STREET, CONSOLE, row
from tests.pages.matrix_case import Case as PageCase
from yizhan.organisation.models import (
    Branch,
    BranchStaff,
    OrganisationSettings,
    PipelineRecord,
    StageEntry,
)

ADMINS = _row(401, 403, 403, 403, 403, 403, 200, 200)
STAFF_OF_BRANCH = _row(401, 403, 403, 403, 200, 404, 404, 404)
PAGE_ADMINS = row("login", "403", "403", "403", "403", "403", "ok", "ok")
MANAGE_STAFF = row("login", "403", "403", "403", "403", "404", "go", "go")
WORK_RECORD = row("login", "403", "403", "403", "go", "404", "404", "404")

API_CASES: dict = {
    "GET /organisation/streets/{code}": ApiCase(
        "GET", "/api/v1/organisation/streets/{org_street}", None, ADMINS
    ),
    "PUT /organisation/streets/{code}": ApiCase(
        "PUT", "/api/v1/organisation/streets/{org_street}", {"enabled": False}, ADMINS
    ),
    "GET /organisation/branches": ApiCase(
        "GET", "/api/v1/organisation/branches", None, _row(401, 403, 403, 403, 200, 200, 200, 200)
    ),
    "POST /organisation/branches": ApiCase(
        "POST", "/api/v1/organisation/branches", {"area": "{org_a2}", "name": "甲二社区党支部"},
        _row(401, 403, 403, 403, 403, 403, 201, 201),
    ),
    "GET /organisation/branches/{id}": ApiCase(
        "GET", "/api/v1/organisation/branches/{org_branch}", None,
        _row(401, 403, 403, 403, 200, 404, 200, 200),
    ),
    "POST /organisation/branches/{id}/staff": ApiCase(
        "POST", "/api/v1/organisation/branches/{org_branch}/staff",
        {"user_id": "{org_new_staff}"}, _row(401, 403, 403, 403, 403, 404, 201, 201),
    ),
    "DELETE /organisation/branches/{id}/staff/{user_id}": ApiCase(
        "DELETE", "/api/v1/organisation/branches/{org_branch}/staff/{org_staff}", None,
        _row(401, 403, 403, 403, 403, 404, 200, 200),
    ),
    "GET /organisation/records": ApiCase(
        "GET", "/api/v1/organisation/records", None, _row(401, 403, 403, 403, 200, 200, 200, 200)
    ),
    "POST /organisation/records": ApiCase(
        "POST", "/api/v1/organisation/records",
        {"branch_id": "{org_branch}", "rider_id": "{org_candidate}", "applied_on": "{org_today}"},
        _row(401, 403, 403, 403, 201, 404, 403, 403),
    ),
    "GET /organisation/records/{id}": ApiCase(
        "GET", "/api/v1/organisation/records/{org_record}", None, STAFF_OF_BRANCH
    ),
    "POST /organisation/records/{id}/advance": ApiCase(
        "POST", "/api/v1/organisation/records/{org_record}/advance",
        {"stage": "activist", "on": "{org_today}", "note": "支委会研究确定"}, STAFF_OF_BRANCH,
    ),
    "POST /organisation/records/{id}/close": ApiCase(
        "POST", "/api/v1/organisation/records/{org_record}/close",
        {"reason": "本人申请撤回", "on": "{org_today}"}, STAFF_OF_BRANCH,
    ),
    "POST /organisation/records/{id}/transfer": ApiCase(
        "POST", "/api/v1/organisation/records/{org_record}/transfer",
        {"branch_id": "{org_branch2}"}, STAFF_OF_BRANCH,
    ),
}  # fmt: skip

PAGE_CASES: dict = {
    "organisation index": PageCase("GET", "organisation:index", (), None, CONSOLE),
    "organisation street": PageCase("GET", "organisation:street", ("org_street",), None,
                                    PAGE_ADMINS),
    "organisation switch": PageCase(
        "POST", "organisation:switch", ("org_street",), {"enabled": "0"}, CONFIGURE_STREET
    ),
    "organisation branch_create": PageCase(
        "POST", "organisation:branch_create", ("org_street",),
        {"name": "甲二社区党支部", "area": "{org_a2_pk}"}, CONFIGURE_STREET,
    ),
    "organisation staff_add": PageCase(
        "POST", "organisation:staff_add", ("org_branch",), {"user": "{org_new_staff}"},
        MANAGE_STAFF,
    ),
    "organisation staff_remove": PageCase(
        "POST", "organisation:staff_remove", ("org_branch", "org_staff"), {}, MANAGE_STAFF
    ),
    "organisation branch": PageCase(
        "GET", "organisation:branch", ("org_branch",), None,
        row("login", "403", "403", "403", "ok", "404", "403", "403"),
    ),
    "organisation record_open": PageCase(
        "POST", "organisation:record_open", ("org_branch",),
        {"rider": "{org_candidate}", "applied_on": "{org_today}", "note": ""},
        row("login", "403", "403", "403", "go", "404", "403", "403"),
    ),
    "organisation record": PageCase(
        "GET", "organisation:record", ("org_record",), None,
        row("login", "403", "403", "403", "ok", "404", "404", "404"),
    ),
    "organisation advance": PageCase(
        "POST", "organisation:advance", ("org_record",),
        {"stage": "activist", "on": "{org_today}", "note": ""}, WORK_RECORD,
    ),
    "organisation close": PageCase(
        "POST", "organisation:close", ("org_record",),
        {"reason": "本人申请撤回", "on": "{org_today}"}, WORK_RECORD,
    ),
    "organisation transfer": PageCase(
        "POST", "organisation:transfer", ("org_record",), {"branch": "{org_branch2}", "note": ""},
        WORK_RECORD,
    ),
}  # fmt: skip


def organisation_objects(world) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from yizhan.organisation import services

    admin, staff = world.street_admin, world.community_staff
    services.organisation_set(street=world.street_a, enabled=True, actor=admin)
    branch = services.branch_create(area=world.street_a, name="甲街道小哥党支部", actor=admin)
    services.branch_staff_add(branch=branch, user=staff, actor=admin)
    branch2 = services.branch_create(area=world.community_a1, name="甲一社区党支部", actor=admin)
    today = timezone.localdate()
    record = services.record_open(
        branch=branch, rider=world.rider, applied_on=today - timedelta(days=400), actor=staff
    )
    return {
        "org_street": world.street_a.code,
        "org_a2": world.community_a2.code,
        "org_a2_pk": world.community_a2.pk,
        "org_branch": branch.pk,
        "org_branch2": branch2.pk,
        "org_staff": staff.pk,
        "org_new_staff": world.other_community_staff.pk,
        "org_record": record.pk,
        "org_candidate": world.other_rider.pk,
        "org_today": today.isoformat(),
    }


def api_uses(case) -> bool:
    return case.path.startswith("/api/v1/organisation")


def api_ids(world, case) -> dict:
    return organisation_objects(world)


def page_uses(case) -> bool:
    return case.name.startswith("organisation:")


def page_ids(world, case) -> dict:
    return organisation_objects(world)


def snapshot() -> tuple:
    return (
        sorted(OrganisationSettings.objects.values_list("pk", "enabled")),
        sorted(Branch.objects.values_list("pk", "name", "area_code")),
        sorted(BranchStaff.objects.values_list("pk", "branch_id", "user_id")),
        sorted(
            PipelineRecord.objects.values_list(
                "pk", "branch_id", "stage", "status", "activist_on", "closed_on"
            )
        ),  # fmt: skip
        StageEntry.objects.count(),
    )
