"""The wishes app's rows of the permission matrices (see ``tests.matrix_parts``).

The objects (``wish_objects``), all in community A1: the rider's pending wish and their wish
fulfilled by a volunteer of A1; a second A1 rider's published wish, their wish claimed by the
volunteer, and their wish that timed out. Street A pays 8 points a fulfilled wish.
"""

from tests.api.matrix_case import KEY, _row
from tests.api.matrix_case import Case as ApiCase
from tests.pages.matrix_case import ACT_IN_A1, CONSOLE, RIDER_ONLY, SEE_IN_A1, row
from tests.pages.matrix_case import Case as PageCase
from tests.wishes import builders as b
from yizhan.wishes.models import Wish, WishClaim, WishEvent

W = "/api/v1/wishes"
#: Riders and the anonymous are turned away; claimers in reach act (other community's staff
#: do not reach A1's wishes).
CLAIM = _row(401, 403, 403, 200, 200, 404, 200, 200)
#: The volunteer's claim: others who can see the wish are not its claimer (403).
CLAIMERS_ONLY = _row(401, 403, 403, 403, 403, 404, 403, 403)
STAFF_OF_A1 = _row(401, 403, 404, 404, 200, 404, 200, 200)

API_CASES: dict = {
    "GET /wishes/wall": ApiCase("GET", W + "/wall?community={a1}", None, _row(*[200] * 8)),
    "POST /wishes": ApiCase(
        "POST", W, {"category": "daily_needs", "text": "想要一个保温杯"},
        _row(401, 201, 201, 403, 403, 403, 403, 403), headers=KEY, multipart=True,
        file_field="photo",
    ),
    "GET /wishes/mine": ApiCase("GET", W + "/mine", None, _row(401, 200, 200, *[403] * 5)),
    "GET /wishes/claimable": ApiCase(
        "GET", W + "/claimable", None, _row(401, 403, 403, *[200] * 5)
    ),
    "GET /wishes/claims": ApiCase("GET", W + "/claims", None, _row(401, 403, 403, *[200] * 5)),
    "GET /wishes": ApiCase("GET", W + "?status=pending", None, _row(401, *[403] * 3, *[200] * 4)),
    "GET /wishes/{id}": ApiCase(
        "GET", W + "/{pending}", None, _row(401, 200, 404, 404, 200, 404, 200, 200)
    ),
    "POST /wishes/{id}/approve": ApiCase(
        "POST", W + "/{pending}/approve", None, _row(401, 403, *STAFF_OF_A1.split()[2:])
    ),
    "POST /wishes/{id}/reject": ApiCase(
        "POST", W + "/{pending}/reject", {"reason": "不是微心愿"},
        _row(401, 403, *STAFF_OF_A1.split()[2:]),
    ),
    "POST /wishes/{id}/withdraw": ApiCase(
        "POST", W + "/{pending}/withdraw", None, _row(401, 200, 404, 404, 403, 404, 403, 403)
    ),
    "POST /wishes/{id}/claim": ApiCase("POST", W + "/{published}/claim", None, CLAIM),
    "POST /wishes/{id}/release": ApiCase(
        "POST", W + "/{claimed}/release", None, CLAIMERS_ONLY
    ),
    "POST /wishes/{id}/fulfil": ApiCase(
        "POST", W + "/{claimed}/fulfil", {"note": "送到了"}, CLAIMERS_ONLY, multipart=True,
        file_field="photo",
    ),
    # The rider confirms; staff only after the time-out (409 before it).
    "POST /wishes/{id}/confirm": ApiCase(
        "POST", W + "/{fulfilled}/confirm", None,
        _row(401, 200, 404, 403, 409, 404, 409, 409),
    ),
    "POST /wishes/{id}/reopen": ApiCase(
        "POST", W + "/{timed_out}/reopen", {"note": "没收到"},
        _row(401, 404, 404, 403, 200, 404, 200, 200),
    ),
    # Nothing waits: those allowed get 409 points_not_held (test_api has the 200).
    "POST /wishes/{id}/points": ApiCase(
        "POST", W + "/{fulfilled}/points", None, _row(401, 403, 404, 403, 409, 404, 409, 409)
    ),
}  # fmt: skip


def wish_objects(world) -> dict:
    b.pay_rule(world, points=8)
    helper = b.volunteer(world)
    second = b.second_rider(world)
    # The time-out first: it times out every fulfilment due by then.
    timed_out = b.timed_out(world, helper, second, text="想要一箱牛奶")
    return {
        "a1": world.community_a1.code,
        "timed_out": timed_out.pk,
        "pending": b.post(world).pk,
        "fulfilled": b.fulfilled(world, helper, text="想要一个暖手宝").pk,
        "published": b.published(world, second, text="想要一本新华字典").pk,
        "claimed": b.claimed(world, helper, second, text="孩子想要一个书包").pk,
    }


def api_uses(case) -> bool:
    return case.path.startswith(W)


def api_ids(world, case) -> dict:
    return wish_objects(world)


PAGE_CASES: dict = {
    "wishes wall": PageCase("GET", "wishes:wall", (), None, row(*["ok"] * 8)),
    "wishes wall community": PageCase(
        "GET", "wishes:wall_community", ("a1",), None, row(*["ok"] * 8)
    ),
    "wishes mine": PageCase("GET", "wishes:mine", (), None, RIDER_ONLY),
    "wishes new GET": PageCase("GET", "wishes:new", (), None, RIDER_ONLY),
    "wishes new POST": PageCase(
        "POST", "wishes:new", (),
        {"category": "health", "text": "想要一个血压计", "idempotency_key": "{key}"},
        row("login", "go", "go", *["403"] * 5),
    ),
    "wishes detail": PageCase(
        "GET", "wishes:detail", ("pending",), None,
        row("login", "ok", "404", "404", "ok", "404", "ok", "ok"),
    ),
    "wishes withdraw": PageCase(
        "POST", "wishes:withdraw", ("pending",), {},
        row("login", "go", "404", "403", "403", "403", "403", "403"),
    ),
    "wishes confirm": PageCase(
        "POST", "wishes:confirm", ("fulfilled",), {},
        row("login", "go", "404", "403", "403", "403", "403", "403"),
    ),
    "wishes browse": PageCase(
        "GET", "wishes:browse", (), None, row("login", "403", "403", *["ok"] * 5)
    ),
    "wishes claims": PageCase(
        "GET", "wishes:claims", (), None, row("login", "403", "403", *["ok"] * 5)
    ),
    "wishes claim": PageCase(
        "POST", "wishes:claim", ("published",), {},
        row("login", "403", "403", "go", "go", "404", "go", "go"),
    ),
    "wishes release": PageCase(
        "POST", "wishes:release", ("claimed",), {},
        row("login", "403", "403", "403", "403", "404", "403", "403"),
    ),
    "wishes fulfil GET": PageCase(
        "GET", "wishes:fulfil", ("claimed",), None,
        row("login", "403", "403", "403", "403", "404", "403", "403"),
    ),
    "wishes fulfil POST": PageCase(
        "POST", "wishes:fulfil", ("claimed",), {"note": "送到了"},
        row("login", "403", "403", "403", "403", "404", "403", "403"),
    ),
    "wishes console": PageCase("GET", "wishes:console", (), None, CONSOLE),
    "wishes console_detail": PageCase(
        "GET", "wishes:console_detail", ("pending",), None, SEE_IN_A1
    ),
    "wishes approve": PageCase("POST", "wishes:approve", ("pending",), {"note": ""}, ACT_IN_A1),
    "wishes reject": PageCase(
        "POST", "wishes:reject", ("pending",), {"reason": "不是微心愿"}, ACT_IN_A1
    ),
    "wishes staff_confirm": PageCase(
        "POST", "wishes:staff_confirm", ("timed_out",), {"note": ""}, ACT_IN_A1
    ),
    "wishes reopen": PageCase(
        "POST", "wishes:reopen", ("timed_out",), {"note": "没收到"}, ACT_IN_A1
    ),
    "wishes points": PageCase(
        "POST", "wishes:points", ("fulfilled",), {},
        row("login", "403", "403", "403", "409", "404", "409", "409"),
    ),
}  # fmt: skip


def page_uses(case) -> bool:
    return case.name.startswith("wishes:")


def page_ids(world, case) -> dict:
    return {**wish_objects(world), "key": b.key}


def snapshot() -> tuple:
    return (
        sorted(
            Wish.objects.values_list("pk", "status", "current_claim_id", "points_status", "text")
        ),
        sorted(WishClaim.objects.values_list("pk", "status", "note")),
        WishEvent.objects.count(),
    )
