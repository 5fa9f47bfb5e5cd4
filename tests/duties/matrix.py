"""The duties app's rows of the permission matrices (see ``tests.matrix_parts``).

The objects, all in community A1 (``objects``): the rider holds the safety post (their pending
claim from ``matrix_objects`` approved) and the elderly-aid post; a pending patrol 3 hours ago,
a pending gift delivery, and a household's gift code issued by the community's staff.
"""

from datetime import timedelta

from django.utils import timezone

from tests.api.matrix_case import KEY, Case, _row
from tests.pages.matrix_case import ACT_IN_A1, CONSOLE, RIDER_ONLY, SEE_IN_A1, row
from tests.pages.matrix_case import Case as Page

D = "/api/v1/duties"
SEE_A1 = _row(401, 200, 404, 404, 200, 404, 200, 200)
ACT_A1 = _row(401, 403, 404, 404, 200, 404, 200, 200)
STAFF = _row(401, 403, 403, 403, 200, 200, 200, 200)
ISSUE_A1 = _row(401, 403, 403, 403, 201, 403, 201, 201)

API_CASES: dict = {
    "GET /duties": Case("GET", D, None, _row(401, *[200] * 7)),
    "POST /duties": Case(
        "POST", D,
        {
            "post_id": "{duty_post}", "kind": "patrol", "started_at": "{start}",
            "ended_at": "{end}", "place": "甲一社区北门", "crs": "gcj02",
            "lat": "40.095", "lng": "113.315",
        },
        _row(401, 201, 403, 403, 403, 403, 403, 403),
        headers=KEY, multipart=True, file_field="photo",
    ),
    "GET /duties/{id}": Case("GET", D + "/{duty}", None, SEE_A1),
    "POST /duties/{id}/verify": Case("POST", D + "/{duty}/verify", None, ACT_A1),
    "POST /duties/{id}/reject": Case(
        "POST", D + "/{duty}/reject", {"reason": "没有照片"}, ACT_A1
    ),
    "GET /duties/gift-codes": Case("GET", D + "/gift-codes", None, STAFF),
    "POST /duties/gift-codes": Case(
        "POST", D + "/gift-codes", {"community": "{duty_a1}", "household": "3-2-501 王奶奶"},
        ISSUE_A1,
    ),
    "POST /duties/confirm": Case(
        "POST", D + "/confirm", {"duty": "{gift_duty}", "code": "{gift_code}"},
        _row(200, 403, 200, 200, 200, 200, 200, 200),
    ),
}  # fmt: skip

PAGE_CASES: dict = {
    "duties mine": Page("GET", "duties:mine", (), None, RIDER_ONLY),
    "duties log GET": Page("GET", "duties:log", (), None, RIDER_ONLY),
    "duties log POST": Page(
        "POST", "duties:log", (),
        {
            "post": "{duty_post}", "kind": "patrol", "started_at": "{start_local}",
            "ended_at": "{end_local}", "place": "甲一社区北门",
            "idempotency_key": "page-matrix-key-01",
        },
        row("login", "go", "400", *["403"] * 5),
    ),
    "duties detail": Page(
        "GET", "duties:detail", ("duty",), None, row("login", "ok", "404", *["403"] * 5)
    ),
    "duties confirm GET": Page("GET", "duties:confirm", (), None, row(*["ok"] * 8)),
    "duties confirm POST": Page(
        "POST", "duties:confirm", (), {"duty": "{gift_duty}", "code": "{gift_code}"},
        row("ok", "403", *["ok"] * 6),
    ),
    "duties queue": Page("GET", "duties:queue", (), None, CONSOLE),
    "duties review": Page("GET", "duties:review", ("duty",), None, SEE_IN_A1),
    "duties verify": Page("POST", "duties:verify", ("duty",), {}, ACT_IN_A1),
    "duties reject": Page("POST", "duties:reject", ("duty",), {"reason": "时间不对"}, ACT_IN_A1),
    "duties gift codes GET": Page("GET", "duties:gift_codes", (), None, CONSOLE),
    "duties gift codes POST": Page(
        "POST", "duties:gift_codes", (), {"community": "{duty_a1_pk}", "household": "王奶奶"},
        row("login", "403", "403", "403", "go", "400", "go", "go"),
    ),
}  # fmt: skip


def objects(world) -> dict:
    from tests.duties.builders import code_for, gift, patrol

    duty = patrol(world, hours_ago=3, minutes=150)
    gift_duty = gift(world, hours_ago=1)
    _code, digits = code_for(world)
    end = timezone.localtime() - timedelta(hours=1, minutes=5)
    start = end - timedelta(hours=1)
    return {
        "duty": duty.pk,
        "gift_duty": gift_duty.pk,
        "gift_code": digits,
        "duty_post": world.post.pk,
        "duty_a1": world.community_a1.code,
        "duty_a1_pk": world.community_a1.pk,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "start_local": start.strftime("%Y-%m-%dT%H:%M"),
        "end_local": end.strftime("%Y-%m-%dT%H:%M"),
    }


def api_uses(case) -> bool:
    return case.path.startswith(D)


def api_ids(world, case) -> dict:
    return objects(world)


def page_uses(case) -> bool:
    return case.name.startswith("duties:")


def page_ids(world, case) -> dict:
    return objects(world)


def snapshot() -> tuple:
    from yizhan.duties.models import Duty, GiftCode

    return (
        sorted(Duty.objects.values_list("pk", "status", "points", "points_status", "reason")),
        sorted(GiftCode.objects.values_list("pk", "used_at", "duty_id")),
    )
