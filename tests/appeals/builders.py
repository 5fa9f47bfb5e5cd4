"""Appeal objects in street A: two bodies (工会 of street A, 司法所 of street B), a handler of
each, and appeals of the rider (community A1) and of the other rider (community A2)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from tests.world import PASSWORD, World
from yizhan.appeals import services
from yizhan.core.roles import Role
from yizhan.people.services import account_create, department_create

_keys = itertools.count(1)


def key() -> str:
    return f"appeal-key-{next(_keys):06d}"


def raise_appeal(rider_user, *, text="平台无故扣钱", anonymous=False, difficulty="rights"):
    return services.appeal_raise(
        rider=rider_user,
        difficulty=difficulty,
        topic="pay",
        text=text,
        anonymous=anonymous,
        idempotency_key=key(),
    )


def bodies(world: World) -> dict:
    union = department_create(name="工会", area=world.street_a, actor=world.street_admin)
    court = department_create(name="司法所", area=world.street_b, actor=world.district_admin)
    handler = account_create(
        username="union_h", name="工会李", role=Role.HANDLER, area=world.street_a,
        department=union, password=PASSWORD,
    )  # fmt: skip
    court_handler = account_create(
        username="court_h", name="司法王", role=Role.HANDLER, area=world.street_b,
        department=court, password=PASSWORD,
    )  # fmt: skip
    return {"union": union, "court": court, "handler": handler, "court_handler": court_handler}


def appeal_objects(world: World) -> dict:
    """``submitted`` (the rider's, anonymous), ``routed`` (to 工会), ``answered``, ``a2`` (the
    other rider's, submitted), a meeting of A1 with one agenda item and one open decision."""
    made = bodies(world)
    staff = world.community_staff
    rider = world.rider.user
    submitted = raise_appeal(rider, text="驿站没有热水", anonymous=True, difficulty="meal_rest")
    routed = services.appeal_route(
        appeal=raise_appeal(rider, text="事故后平台不赔"), actor=staff, body=made["union"], days=5
    )
    answered = services.appeal_route(
        appeal=raise_appeal(rider, text="社保断缴"), actor=staff, body=made["union"], days=5
    )
    answered = services.appeal_answer(appeal=answered, actor=made["handler"], text="已协调补缴")
    a2 = raise_appeal(world.other_rider.user, text="甲二社区没有休息点")
    meeting = services.meeting_create(
        actor=staff,
        area=world.community_a1,
        title="第一次联席会议",
        held_on=timezone.localdate(),
        place="甲一社区会议室",
        bodies=[made["union"]],
        riders=[rider],
    )
    item = services.agenda_add(meeting=meeting, actor=staff, appeal=routed)
    decision = services.decision_add(
        meeting=meeting,
        actor=staff,
        text="工会一周内约谈平台",
        owner_body=made["union"],
        due_on=timezone.localdate() + timedelta(days=7),
        agenda_item=item,
    )
    return {
        **made,
        "submitted": submitted,
        "routed": routed,
        "answered": answered,
        "a2": a2,
        "meeting": meeting,
        "item": item,
        "decision": decision,
    }
