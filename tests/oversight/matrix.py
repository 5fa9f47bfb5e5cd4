"""The oversight app's rows of the permission matrices (see ``tests.matrix_parts``).

Objects (``oversight_objects``): street A holds manual awards of 30 points or more for review;
a second staff member of A1 (``staff_a1_rev``) awarded the rider 40, so the award waits in the
review queue (held, nothing paid). Staff of A1 and the admins above decide it (release pays it);
the other community's staff do not see it (404); riders and merchants are turned away (403).
The audit log is for administrators only. What a denied request must not change (the award's
status, the ledger, the audit log) is in the main matrices' snapshots already.
"""

from tests.api.matrix_case import Case as ApiCase
from tests.api.matrix_case import _row
from tests.pages.matrix_case import ACT_IN_A1, CONSOLE, row
from tests.pages.matrix_case import Case as PageCase

STAFF = _row(401, 403, 403, 403, 200, 200, 200, 200)
DECIDE_A1 = _row(401, 403, 403, 403, 200, 404, 200, 200)
ADMINS = _row(401, 403, 403, 403, 403, 403, 200, 200)
ADMIN_PAGES = row("login", "403", "403", "403", "403", "403", "ok", "ok")
DECISION = {"decision": "release", "reason": "核实无误，准予发放"}

API_CASES: dict = {
    "GET /oversight/queue": ApiCase("GET", "/api/v1/oversight/queue", None, STAFF),
    "POST /oversight/queue/{kind}/{item_id}/decide": ApiCase(
        "POST", "/api/v1/oversight/queue/award/{ov_award}/decide", DECISION, DECIDE_A1
    ),
    "GET /oversight/rules": ApiCase("GET", "/api/v1/oversight/rules?street=440000001", None, STAFF),
    "PATCH /oversight/rules": ApiCase(
        "PATCH", "/api/v1/oversight/rules?street=440000001", {"review_repeat_count": 3},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    "GET /oversight/audit": ApiCase("GET", "/api/v1/oversight/audit?action=points.", None, ADMINS),
    "GET /oversight/audit/export": ApiCase(
        "GET", "/api/v1/oversight/audit/export?format=xlsx", None, ADMINS, download=True
    ),
}  # fmt: skip

PAGE_CASES: dict = {
    "oversight queue": PageCase("GET", "oversight:queue", (), None, CONSOLE),
    "oversight decide": PageCase(
        "POST", "oversight:decide", ("ov_kind", "ov_award"), DECISION, ACT_IN_A1
    ),
    "oversight audit": PageCase("GET", "oversight:audit", (), None, ADMIN_PAGES),
    "oversight audit_export": PageCase("GET", "oversight:audit_export", (), None, ADMIN_PAGES),
}  # fmt: skip


def oversight_objects(world) -> dict:
    from yizhan.core.roles import Role
    from yizhan.people.services import account_create
    from yizhan.points.services import points_award, points_settings_update

    points_settings_update(street=world.street_a, actor=world.street_admin, review_large_amount=30)
    asker = account_create(
        username="staff_a1_rev", name="审核甲", role=Role.STAFF, area=world.community_a1,
        password="Yizhan-test-2026",
    )  # fmt: skip
    award = points_award(
        member=world.rider.user, amount=40, reason="救助老人", evidence="视频",
        actor=asker, idempotency_key="matrix-held-award",
    )  # fmt: skip
    assert award.status == "held"
    return {"ov_kind": "award", "ov_award": award.pk}


def api_uses(case) -> bool:
    return case.path.startswith("/api/v1/oversight/queue/")


def api_ids(world, case) -> dict:
    return oversight_objects(world)


def page_uses(case) -> bool:
    return case.name == "oversight:decide"


def page_ids(world, case) -> dict:
    return oversight_objects(world)


def snapshot() -> tuple:
    return ()
