"""The appeals app's rows of the permission matrices (see ``tests.matrix_parts``).

Every object is in street A (``tests.appeals.builders.appeal_objects``): the rider's appeals of
community A1 (``submitted``, ``routed`` and ``answered``, routed to the street's 工会), a joint
meeting of A1 with one agenda item and one open decision.
"""

from tests.api.matrix_case import KEY, _row
from tests.api.matrix_case import Case as ApiCase
from tests.pages.matrix_case import ACT_IN_A1, CONSOLE, RIDER_ONLY, SEE_IN_A1, row
from tests.pages.matrix_case import Case as PageCase
from yizhan.appeals.models import AgendaItem, Appeal, AppealEvent, Decision, Delivery, Meeting

# Objects of community A1: its staff and the admins above act; other riders and other
# community's staff do not see them; the rider who raised it sees but may not act.
_STAFF_ACT = _row(401, 403, 404, 404, 200, 404, 200, 200)
_STAFF_MAKE = _row(401, 403, 404, 404, 201, 404, 201, 201)
_MEETING = _row(401, 404, 404, 404, 200, 404, 200, 200)
_MEETING_MAKE = _row(401, 404, 404, 404, 201, 404, 201, 201)
_CONSOLE_LIST = _row(401, 403, 403, 403, 200, 200, 200, 200)

API_CASES: dict = {
    "POST /appeals": ApiCase(
        "POST", "/api/v1/appeals",
        {"difficulty": "rights", "topic": "pay", "text": "平台扣款", "anonymous": True},
        _row(401, 201, 201, 403, 403, 403, 403, 403), KEY,
    ),
    "GET /appeals": ApiCase("GET", "/api/v1/appeals", None, _row(401, *[200] * 7)),
    "GET /appeals/{appeal_id}": ApiCase(
        "GET", "/api/v1/appeals/{routed}", None, _row(401, 200, 404, 404, 200, 404, 200, 200)
    ),
    "GET /appeals/{appeal_id}/bodies": ApiCase(
        "GET", "/api/v1/appeals/{submitted}/bodies", None,
        _row(401, 403, 403, 403, 200, 404, 200, 200),
    ),
    "POST /appeals/{appeal_id}/route": ApiCase(
        "POST", "/api/v1/appeals/{submitted}/route", {"body_id": "{union}", "days": 5},
        _STAFF_ACT,
    ),
    "POST /appeals/{appeal_id}/answer": ApiCase(
        "POST", "/api/v1/appeals/{routed}/answer", {"text": "已协调"}, _STAFF_ACT
    ),
    "POST /appeals/{appeal_id}/rate": ApiCase(
        "POST", "/api/v1/appeals/{answered}/rate", {"stars": 4, "comment": "满意"},
        _row(401, 200, 404, 404, 403, 404, 403, 403),
    ),
    "POST /appeals/{appeal_id}/close": ApiCase(
        "POST", "/api/v1/appeals/{routed}/close", {"note": "已解决"}, _STAFF_ACT
    ),
    "POST /appeals/{appeal_id}/deliveries": ApiCase(
        "POST", "/api/v1/appeals/{routed}/deliveries", {"kind": "rights", "note": "法律援助"},
        _row(401, 403, 404, 404, 201, 404, 201, 201),
    ),
    "GET /meetings": ApiCase("GET", "/api/v1/meetings", None, _CONSOLE_LIST),
    "POST /meetings": ApiCase(
        "POST", "/api/v1/meetings",
        {"title": "联席会议", "held_on": "2099-06-01", "place": "会议室", "area": "{a1}"},
        _row(401, 403, 403, 403, 201, 403, 201, 201),
    ),
    "GET /meetings/decisions": ApiCase(
        "GET", "/api/v1/meetings/decisions?overdue=true", None, _CONSOLE_LIST
    ),
    "POST /meetings/decisions/{decision_id}/follow-up": ApiCase(
        "POST", "/api/v1/meetings/decisions/{decision}/follow-up",
        {"note": "已约谈", "done": True}, _MEETING,
    ),
    "GET /meetings/{meeting_id}": ApiCase("GET", "/api/v1/meetings/{meeting}", None, _MEETING),
    "POST /meetings/{meeting_id}/agenda": ApiCase(
        "POST", "/api/v1/meetings/{meeting}/agenda", {"text": "驿站冬季供暖"}, _MEETING_MAKE
    ),
    "PUT /meetings/{meeting_id}/participants": ApiCase(
        "PUT", "/api/v1/meetings/{meeting}/participants", {"body_ids": ["{union}"]}, _MEETING
    ),
    "PUT /meetings/{meeting_id}/minutes": ApiCase(
        "PUT", "/api/v1/meetings/{meeting}/minutes", {"minutes": "纪要"}, _MEETING
    ),
    "POST /meetings/{meeting_id}/decisions": ApiCase(
        "POST", "/api/v1/meetings/{meeting}/decisions",
        {"text": "落实休息点", "owner_name": "张主任", "due_on": "2099-07-01"}, _MEETING_MAKE,
    ),
}  # fmt: skip

_RIDER_GO = row("login", "go", "go", "403", "403", "403", "403", "403")
_HANDLER_ONLY = row("login", *["403"] * 7)

PAGE_CASES: dict = {
    "my appeals": PageCase("GET", "appeals:mine", (), None, RIDER_ONLY),
    "appeal form": PageCase("GET", "appeals:new", (), None, RIDER_ONLY),
    "appeal raise": PageCase(
        "POST",
        "appeals:new",
        (),
        {
            "difficulty": "rights",
            "topic": "pay",
            "text": "平台扣款",
            "idempotency_key": "page-key-0001",
        },
        _RIDER_GO,
    ),
    # The rider's own appeal; staff are sent to their page of it, the others do not see it.
    "appeal detail": PageCase(
        "GET",
        "appeals:detail",
        ("routed",),
        None,
        row("login", "ok", "404", "404", "away", "404", "away", "away"),
    ),
    "appeal rate": PageCase(
        "POST",
        "appeals:rate",
        ("answered",),
        {"stars": "4", "comment": "满意"},
        row("login", "go", "404", "403", "403", "403", "403", "403"),
    ),
    # The body's pages are for department handlers (not in the matrix's roles).
    "body appeals": PageCase("GET", "appeals:cases", (), None, _HANDLER_ONLY),
    "body appeal": PageCase("GET", "appeals:case", ("routed",), None, _HANDLER_ONLY),
    "body answer": PageCase(
        "POST", "appeals:case_answer", ("routed",), {"text": "已协调"}, _HANDLER_ONLY
    ),
    "appeal queue": PageCase("GET", "appeals:queue", (), None, CONSOLE),
    "appeal console detail": PageCase(
        "GET", "appeals:console_detail", ("routed",), None, SEE_IN_A1
    ),
    "appeal route": PageCase(
        "POST", "appeals:route", ("submitted",), {"body": "{union}", "days": "5"}, ACT_IN_A1
    ),
    "appeal answer": PageCase("POST", "appeals:answer", ("routed",), {"text": "已协调"}, ACT_IN_A1),
    "appeal deliver": PageCase(
        "POST", "appeals:deliver", ("routed",), {"kind": "care", "note": "送药"}, ACT_IN_A1
    ),
    "appeal close": PageCase("POST", "appeals:close", ("routed",), {"note": "已解决"}, ACT_IN_A1),
    "meetings": PageCase("GET", "appeals:meetings", (), None, CONSOLE),
    "meeting form": PageCase("GET", "appeals:meeting_new", (), None, CONSOLE),
    # Another community's staff are not offered A1 as the organiser: a form error.
    "meeting create": PageCase(
        "POST",
        "appeals:meeting_new",
        (),
        {"title": "联席会议", "held_on": "2099-06-01", "place": "会议室", "area": "{a1_area}"},
        row("login", "403", "403", "403", "go", "400", "go", "go"),
    ),
    "meeting detail": PageCase("GET", "appeals:meeting_detail", ("meeting",), None, SEE_IN_A1),
    "meeting agenda": PageCase(
        "POST", "appeals:agenda_add", ("meeting",), {"text": "驿站冬季供暖"}, ACT_IN_A1
    ),
    "meeting participants": PageCase(
        "POST", "appeals:participants", ("meeting",), {"bodies": "{union}"}, ACT_IN_A1
    ),
    "meeting minutes": PageCase(
        "POST", "appeals:minutes", ("meeting",), {"minutes": "纪要"}, ACT_IN_A1
    ),
    "meeting decision": PageCase(
        "POST",
        "appeals:decision_add",
        ("meeting",),
        {"text": "落实休息点", "owner_name": "张主任", "due_on": "2099-07-01"},
        ACT_IN_A1,
    ),
    "decisions": PageCase("GET", "appeals:decisions", (), None, CONSOLE),
    "decision follow-up": PageCase(
        "POST", "appeals:follow_up", ("decision",), {"note": "已约谈", "done": "on"}, ACT_IN_A1
    ),
}


def _objects(world) -> dict:
    from tests.appeals.builders import appeal_objects

    made = appeal_objects(world)
    return {
        "a1": world.community_a1.code,
        "a1_area": world.community_a1.pk,
        "union": made["union"].pk,
        "court": made["court"].pk,
        **{
            name: made[name].pk
            for name in ("submitted", "routed", "answered", "a2", "meeting", "item", "decision")
        },
    }


def api_uses(case) -> bool:
    return case.path.startswith(("/api/v1/appeals", "/api/v1/meetings"))


def api_ids(world, case) -> dict:
    return _objects(world)


def page_uses(case) -> bool:
    return case.name.startswith("appeals:")


def page_ids(world, case) -> dict:
    return _objects(world)


def snapshot() -> tuple:
    return (
        sorted(
            Appeal.objects.values_list(
                "pk", "status", "body_id", "deadline_at", "answer", "rating", "closed_at"
            )
        ),
        AppealEvent.objects.count(),
        Delivery.objects.count(),
        sorted(Meeting.objects.values_list("pk", "title", "minutes")),
        sorted(Meeting.bodies.through.objects.values_list("meeting_id", "department_id")),
        sorted(Meeting.riders.through.objects.values_list("meeting_id", "user_id")),
        AgendaItem.objects.count(),
        sorted(Decision.objects.values_list("pk", "status", "follow_up")),
    )
