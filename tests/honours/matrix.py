"""The honours app's rows of the permission matrices (see ``tests.matrix_parts``).

Objects (``honour_objects``), all in street A: the title 清远骑士 (quota 3), the rider's pending
nomination, an approved one of a second A1 rider (on the honour roll), and a third verified A1
rider to nominate.
"""

from tests.api.matrix_case import Case as ApiCase
from tests.api.matrix_case import _row
from tests.pages.matrix_case import CONFIGURE_STREET, CONSOLE, RIDER_ONLY, row
from tests.pages.matrix_case import Case as PageCase
from tests.world import make_rider
from yizhan.honours.models import Nomination, Title

# Admins of street A (and the district) decide; A1's staff see the nomination but may not.
DECIDE_A1 = row("login", "403", "403", "403", "403", "404", "go", "go")
PUBLIC = row(*["ok"] * 8)

API_CASES: dict = {
    "GET /honours/titles": ApiCase("GET", "/api/v1/honours/titles", None, _row(*[200] * 8)),
    "POST /honours/titles": ApiCase(
        "POST", "/api/v1/honours/titles",
        {"street": "{honour_street}", "name": "暖心骑手", "quota": 3, "year": 2026},
        _row(401, 403, 403, 403, 403, 403, 201, 201),
    ),
    "GET /honours/roll": ApiCase("GET", "/api/v1/honours/roll", None, _row(*[200] * 8)),
    "PATCH /honours/titles/{id}": ApiCase(
        "PATCH", "/api/v1/honours/titles/{honour_title}", {"quota": 4},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    "GET /honours/titles/{id}/candidates": ApiCase(
        "GET", "/api/v1/honours/titles/{honour_title}/candidates", None,
        _row(401, 403, 403, 403, 200, 200, 200, 200),
    ),
    "GET /honours/nominations": ApiCase(
        "GET", "/api/v1/honours/nominations", None, _row(401, *[200] * 7)
    ),
    "POST /honours/nominations": ApiCase(
        "POST", "/api/v1/honours/nominations",
        {"title_id": "{honour_title}", "rider_id": "{honour_candidate}", "reason": "劝导乱停"},
        _row(401, 403, 403, 403, 201, 404, 201, 201),
    ),
    "POST /honours/nominations/{id}/approve": ApiCase(
        "POST", "/api/v1/honours/nominations/{honour_nomination}/approve", None,
        _row(401, 403, 403, 403, 403, 404, 200, 200),
    ),
    "POST /honours/nominations/{id}/reject": ApiCase(
        "POST", "/api/v1/honours/nominations/{honour_nomination}/reject", {"reason": "材料不足"},
        _row(401, 403, 403, 403, 403, 404, 200, 200),
    ),
}  # fmt: skip

PAGE_CASES: dict = {
    "honours roll_index": PageCase("GET", "honours:roll_index", (), None, PUBLIC),
    "honours roll": PageCase("GET", "honours:roll", ("honour_street",), None, PUBLIC),
    "honours mine": PageCase("GET", "honours:mine", (), None, RIDER_ONLY),
    "honours titles GET": PageCase("GET", "honours:titles", (), None, CONSOLE),
    "honours titles POST": PageCase(
        "POST", "honours:titles", (),
        {"street": "{honour_street}", "name": "暖心骑手", "quota": "3", "year": "2026"},
        CONFIGURE_STREET,
    ),
    "honours approvals": PageCase("GET", "honours:approvals", (), None, CONSOLE),
    "honours title": PageCase("GET", "honours:title", ("honour_title",), None, CONSOLE),
    "honours nominate": PageCase(
        "POST", "honours:nominate", ("honour_title",),
        {"rider": "{honour_candidate}", "reason": "劝导乱停"},
        row("login", "403", "403", "403", "go", "400", "go", "go"),
    ),
    "honours approve": PageCase(
        "POST", "honours:approve", ("honour_nomination",), {}, DECIDE_A1
    ),
    "honours reject": PageCase(
        "POST", "honours:reject", ("honour_nomination",), {"reason": "材料不足"}, DECIDE_A1
    ),
}  # fmt: skip


def honour_objects(world) -> dict:
    from yizhan.honours.services import nomination_approve, nomination_create, title_create

    staff = world.community_staff
    title = title_create(
        street=world.street_a, name="清远骑士", quota=3, year=2026, actor=world.street_admin
    )
    pending = nomination_create(title=title, rider=world.rider, reason="巡查", actor=staff)
    holder = make_rider(
        world.community_a1, "13600000171", "钱荣", lat=40.095, lng=113.305, verify_by=staff
    )
    approved = nomination_create(title=title, rider=holder, reason="救助老人", actor=staff)
    nomination_approve(nomination=approved, actor=world.street_admin)
    candidate = make_rider(
        world.community_a1, "13600000172", "孙候", lat=40.095, lng=113.305, verify_by=staff
    )
    return {
        "honour_street": world.street_a.code,
        "honour_title": title.pk,
        "honour_nomination": pending.pk,
        "honour_candidate": candidate.pk,
    }


def api_uses(case) -> bool:
    return case.path.startswith("/api/v1/honours")


def api_ids(world, case) -> dict:
    return honour_objects(world)


def page_uses(case) -> bool:
    return case.name.startswith("honours:")


def page_ids(world, case) -> dict:
    return honour_objects(world)


def snapshot() -> tuple:
    return (
        sorted(Title.objects.values_list("pk", "name", "period", "quota", "description")),
        sorted(
            Nomination.objects.values_list(
                "pk", "title_id", "rider_id", "status", "rejection_reason", "decided_by_id"
            )
        ),  # fmt: skip
    )
