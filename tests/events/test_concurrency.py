"""Events and hand-outs under concurrent requests, on PostgreSQL: the last place and the last
item are taken exactly once, and a rider receives a hand-out once."""

import pytest

from tests.events.builders import make_event, make_handout, new_rider
from tests.people.test_concurrency import run_together
from tests.world import build_world
from yizhan.core.errors import ApplicationError
from yizhan.events import services
from yizhan.events.models import DistributionItem, Receipt, Signup

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_riders_racing_for_the_last_places_fill_them_exactly():
    world = build_world()
    event = make_event(world, capacity=3)
    riders = [new_rider(world) for _ in range(8)]
    results = run_together(
        *[lambda u=u: services.signup_create(event=event, user=u) for u in riders]
    )
    assert all(isinstance(r, Signup) for r in results), results
    assert Signup.objects.filter(event=event, status="confirmed").count() == 3
    assert Signup.objects.filter(event=event, status="waiting").count() == 5


def test_two_counters_recording_the_same_rider_record_once():
    world = build_world()
    handout = make_handout(world, items=[("夏凉被", 10)])
    item = handout.items.get()
    record = lambda: services.receipt_record(  # noqa: E731
        distribution=handout, rider=world.rider.user, items={item.pk: 1},
        actor=world.community_staff,
    )  # fmt: skip
    results = run_together(*[record] * 4)
    codes = sorted(r.code if isinstance(r, ApplicationError) else "ok" for r in results)
    assert codes == ["already_received"] * 3 + ["ok"]
    assert Receipt.objects.count() == 1
    assert DistributionItem.objects.get(pk=item.pk).stock == 9


def test_the_last_items_go_to_exactly_that_many_riders():
    world = build_world()
    handout = make_handout(world, items=[("小风扇", 2)])
    item = handout.items.get()
    riders = [new_rider(world) for _ in range(6)]
    results = run_together(*[
        lambda u=u: services.receipt_record(
            distribution=handout, rider=u, items={item.pk: 1}, actor=world.community_staff
        )
        for u in riders
    ])  # fmt: skip
    codes = sorted(r.code if isinstance(r, ApplicationError) else "ok" for r in results)
    assert codes == ["ok", "ok"] + ["out_of_stock"] * 4
    assert DistributionItem.objects.get(pk=item.pk).stock == 0
