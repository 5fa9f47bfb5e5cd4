"""The events app's rows of the permission matrices (see ``tests.matrix_parts``).

The objects, all in community A1 (``objects``): a training starting in 30 minutes with 5
places, the rider signed up (confirmed), and a hand-out 夏送清凉 with 2 quilts.
"""

from datetime import timedelta

from django.utils import timezone

from tests.api.matrix_case import Case, _row
from tests.pages.matrix_case import (
    ACT_IN_A1,
    ACT_STATION_A1,
    CONSOLE,
    RIDER_ONLY,
    RUN_STATION_A1,
    SEE_IN_A1,
    row,
)
from tests.pages.matrix_case import Case as Page

E = "/api/v1/events"
H = "/api/v1/handouts"
STAFF_OF_A1 = _row(401, 403, 403, 403, 200, 403, 200, 200)  # events are public: 403
HANDOUT_A1 = _row(401, 403, 403, 403, 200, 404, 200, 200)  # hand-outs are not: 404
CREATE_IN_A1 = _row(401, 403, 403, 403, 201, 403, 201, 201)
RIDERS = _row(401, 200, 200, 403, 403, 403, 403, 403)

API_CASES: dict = {
    "GET /events": Case("GET", E, None, _row(401, 200, 200, 403, 200, 200, 200, 200)),
    "POST /events": Case(
        "POST", E,
        {"organiser": "{a1_code}", "title": "反诈宣传", "kind": "anti_fraud", "address": "活动室",
         "lat": 40.095, "lng": 113.305, "starts_at": "{start}", "ends_at": "{end}",
         "capacity": 20},
        CREATE_IN_A1,
    ),
    "GET /events/mine": Case("GET", f"{E}/mine", None, RIDERS),
    "GET /events/{id}": Case(
        "GET", f"{E}/{{event}}", None, _row(401, 200, 200, 403, 200, 200, 200, 200)
    ),
    "PATCH /events/{id}": Case("PATCH", f"{E}/{{event}}", {"capacity": 6}, STAFF_OF_A1),
    "POST /events/{id}/call-off": Case(
        "POST", f"{E}/{{event}}/call-off", {"reason": "暴雨预警"}, STAFF_OF_A1
    ),
    "POST /events/{id}/signup": Case(
        "POST", f"{E}/{{event}}/signup", None, _row(401, 409, 201, 403, 403, 403, 403, 403)
    ),
    "POST /events/{id}/cancel": Case(
        "POST", f"{E}/{{event}}/cancel", None, _row(401, 200, 404, 403, 403, 403, 403, 403)
    ),
    "POST /events/{id}/checkin": Case(
        "POST", f"{E}/{{event}}/checkin", {"token": "{token}"},
        _row(401, 200, 409, 403, 403, 403, 403, 403),
    ),
    "GET /events/{id}/qr": Case("GET", f"{E}/{{event}}/qr", None, STAFF_OF_A1),
    "POST /events/{id}/attendance": Case(
        "POST", f"{E}/{{event}}/attendance", {"code": "{rider_code}"}, STAFF_OF_A1
    ),
    "GET /events/{id}/signups": Case("GET", f"{E}/{{event}}/signups", None, STAFF_OF_A1),
    "GET /handouts": Case("GET", H, None, _row(401, 403, 403, 403, 200, 200, 200, 200)),
    "POST /handouts": Case(
        "POST", H,
        {"area": "{a1_code}", "name": "冬送温暖", "items": [{"name": "手套", "stock": 10}]},
        CREATE_IN_A1,
    ),
    "GET /handouts/{id}": Case("GET", f"{H}/{{handout}}", None, HANDOUT_A1),
    "POST /handouts/{id}/items": Case(
        "POST", f"{H}/{{handout}}/items", {"name": "冰袖", "change": 5}, HANDOUT_A1
    ),
    "GET /handouts/{id}/receipts": Case("GET", f"{H}/{{handout}}/receipts", None, HANDOUT_A1),
    "POST /handouts/{id}/receipts": Case(
        "POST", f"{H}/{{handout}}/receipts", {"phone": "13812341234", "items": {"{item}": 1}},
        _row(401, 403, 403, 403, 201, 404, 201, 201),
    ),
}  # fmt: skip

PAGE_CASES: dict = {
    "events list": Page("GET", "events:list", (), None, RIDER_ONLY),
    "events mine": Page("GET", "events:mine", (), None, RIDER_ONLY),
    "events detail": Page("GET", "events:detail", ("event",), None, RIDER_ONLY),
    "events signup": Page(
        "POST", "events:signup", ("event",), {},
        row("login", "409", "go", "403", "403", "403", "403", "403"),
    ),
    "events cancel": Page(
        "POST", "events:cancel", ("event",), {},
        row("login", "go", "404", "403", "403", "403", "403", "403"),
    ),
    "events check_in": Page(
        "GET", "events:check_in", ("event", "token"), None, row("login", *["ok"] * 7)
    ),
    "events console_list": Page("GET", "events:console_list", (), None, CONSOLE),
    "events create": Page(
        "POST", "events:create", (),
        {"organiser": "{a1}", "title": "义诊", "kind": "free_clinic", "audience": "everyone",
         "starts_at": "{start_local}", "ends_at": "{end_local}", "capacity": "30",
         "address": "甲一社区卫生站", "lat": "40.095", "lng": "113.305"},
        row("login", "403", "403", "403", "go", "400", "go", "go"),
    ),
    "events signups": Page("GET", "events:signups", ("event",), None, RUN_STATION_A1),
    "events edit": Page("GET", "events:edit", ("event",), None, RUN_STATION_A1),
    "events call_off": Page(
        "POST", "events:call_off", ("event",), {"reason": "暴雨预警"}, ACT_STATION_A1
    ),
    "events door": Page(
        "POST", "events:door", ("event",), {"code": "{rider_code}"}, ACT_STATION_A1
    ),
    "events handouts": Page("GET", "events:handouts", (), None, CONSOLE),
    "events handout": Page("GET", "events:handout", ("handout",), None, SEE_IN_A1),
    "events receipt": Page(
        "POST", "events:receipt", ("handout",), {"phone": "13812341234", "item_{item}": "1"},
        ACT_IN_A1,
    ),
    "events restock": Page(
        "POST", "events:restock", ("handout",), {"name": "冰袖", "change": "5"}, ACT_IN_A1
    ),
}  # fmt: skip


def objects(world) -> dict:
    from yizhan.events import services

    start = timezone.now() + timedelta(minutes=30)
    event = services.event_create(
        organiser=world.community_a1, title="交通安全培训", kind="traffic_safety",
        starts_at=start, ends_at=start + timedelta(hours=2), capacity=5,
        actor=world.community_staff, address="甲一社区活动室", lat=40.095, lng=113.305,
    )  # fmt: skip
    signup = services.signup_create(event=event, user=world.rider.user)
    handout = services.distribution_create(
        area=world.community_a1, name="夏送清凉", items=[("夏凉被", 2)],
        actor=world.community_staff,
    )  # fmt: skip
    later = timezone.localtime() + timedelta(days=3)
    return {
        "event": event.pk,
        "token": services.qr_token(event),
        "rider_code": signup.code,
        "handout": handout.pk,
        "item": handout.items.get().pk,
        "a1_code": world.community_a1.code,
        "a1": world.community_a1.pk,
        "start": later.isoformat(),
        "end": (later + timedelta(hours=2)).isoformat(),
        "start_local": f"{later:%Y-%m-%dT%H:%M}",
        "end_local": f"{later + timedelta(hours=2):%Y-%m-%dT%H:%M}",
    }


def api_uses(case) -> bool:
    return case.path.startswith((E, H))


def api_ids(world, case) -> dict:
    return objects(world)


def page_uses(case) -> bool:
    return case.name.startswith("events:")


def page_ids(world, case) -> dict:
    return objects(world)


def snapshot() -> tuple:
    from yizhan.events.models import (
        Distribution,
        DistributionItem,
        Event,
        Receipt,
        ReceiptLine,
        Signup,
    )

    return (
        sorted(Event.objects.values_list("pk", "capacity", "title", "starts_at", "cancelled_at")),
        sorted(Signup.objects.values_list("pk", "status", "checked_in_at", "points_status")),
        Distribution.objects.count(),
        sorted(DistributionItem.objects.values_list("pk", "stock", "handed_out")),
        Receipt.objects.count(),
        ReceiptLine.objects.count(),
    )
