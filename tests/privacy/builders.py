"""A rider with some of every kind of record, all made through the services (community A1)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from tests.events.builders import make_event, make_handout
from tests.world import World, matrix_objects, report_objects, shop_objects
from yizhan.appeals.services import appeal_raise
from yizhan.events import services as events
from yizhan.notifications.services import notify
from yizhan.points.services import points_award
from yizhan.stations import services as stations
from yizhan.wishes.services import wish_post

_keys = itertools.count(1)


def key(prefix: str = "privacy") -> str:
    return f"{prefix}-{next(_keys):06d}"


def more_records(world: World, made: dict, n: int = 1) -> None:
    """``n`` more of the kinds a rider can have many of: ledger entries, appeals, event
    sign-ups, station visits, inbox messages (and their audit entries)."""
    user = world.rider.user
    for _i in range(n):
        points_award(
            member=user, amount=3, reason="巡查", evidence="照片", actor=world.community_staff,
            idempotency_key=key("award"),
        )  # fmt: skip
        appeal_raise(
            rider=user, difficulty="rights", topic="pay", text="平台无故扣钱", anonymous=False,
            idempotency_key=key("appeal"),
        )  # fmt: skip
        event = make_event(world, capacity=5, starts_in=timedelta(days=3))
        events.signup_create(event=event, user=user)
        notify(recipients=[user], kind="test", title="测试消息", body="内容")
    made.setdefault("events", []).append(event)


def rich_rider(world: World) -> dict:
    """The rider of ``world`` with a claim, a team, reports with photos (set MEDIA_ROOT first),
    points and a reservation, a wish, an appeal, an event sign-up, a hand-out, a station visit,
    messages and a consent; returns what was made."""
    made = {**matrix_objects(world), **shop_objects(world), **report_objects(world)}
    user = world.rider.user
    made["wish"] = wish_post(
        rider=user, category="daily_needs", text="想要一个新头盔", idempotency_key=key("wish")
    )
    handout = make_handout(world)
    item = handout.items.first()
    made["receipt"] = events.receipt_record(
        distribution=handout, rider=user, items={item.pk: 1}, actor=world.community_staff
    )
    station = made["station"]
    made["visit"] = stations.visit_check_in(
        station=station, token=stations.qr_token(station), user=user,
        idempotency_key=key("visit"),
    )  # fmt: skip
    more_records(world, made, 1)
    made["now"] = timezone.now()
    return made
