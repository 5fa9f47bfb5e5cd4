"""Welfare hand-outs: items and stock, one receipt per rider, stock never below zero, totals."""

import pytest

from tests.events.builders import make_handout, new_rider
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from yizhan.events import selectors, services
from yizhan.events.models import DistributionItem, Receipt, ReceiptLine

pytestmark = pytest.mark.django_db


def state():
    return (
        sorted(DistributionItem.objects.values_list("pk", "stock", "handed_out")),
        Receipt.objects.count(),
        ReceiptLine.objects.count(),
    )


def items(handout):
    return {i.name: i for i in DistributionItem.objects.filter(distribution=handout)}


def test_record_who_received_what_and_the_totals(world):
    handout = make_handout(world)
    quilt, fan = items(handout)["夏凉被"], items(handout)["小风扇"]
    services.receipt_record(
        distribution=handout, rider=world.rider.user, items={quilt.pk: 1, fan.pk: 1},
        actor=world.community_staff,
    )  # fmt: skip
    services.receipt_record(
        distribution=handout, rider=world.other_rider.user, items={quilt.pk: 1},
        actor=world.street_admin,
    )  # fmt: skip
    assert selectors.totals(handout) == {
        "items_handed_out": 3, "items_left": 0, "people_served": 2,
    }  # fmt: skip


def test_the_same_rider_cannot_receive_twice(world):
    handout = make_handout(world)
    quilt = items(handout)["夏凉被"]
    services.receipt_record(
        distribution=handout, rider=world.rider.user, items={quilt.pk: 1},
        actor=world.community_staff,
    )  # fmt: skip
    before = state()
    with pytest.raises(Conflict) as info:
        services.receipt_record(
            distribution=handout, rider=world.rider.user, items={quilt.pk: 1},
            actor=world.community_staff,
        )  # fmt: skip
    assert info.value.code == "already_received" and info.value.status == 409
    assert state() == before


def test_out_of_stock_is_refused_and_nothing_is_written(world):
    handout = make_handout(world)
    quilt, fan = items(handout)["夏凉被"], items(handout)["小风扇"]
    before = state()
    with pytest.raises(Conflict) as info:
        services.receipt_record(
            distribution=handout, rider=world.rider.user, items={quilt.pk: 1, fan.pk: 2},
            actor=world.community_staff,
        )  # fmt: skip
    assert info.value.code == "out_of_stock"
    assert state() == before  # the quilt taken first was put back with the rollback


@pytest.mark.parametrize(
    "given",
    [{}, {"x": 1}, {999999: 1}, "quilt", {True: 1}],
)
def test_bad_items_are_refused(world, given):
    handout = make_handout(world)
    before = state()
    with pytest.raises(ApplicationError) as info:
        services.receipt_record(
            distribution=handout, rider=world.rider.user, items=given, actor=world.community_staff
        )
    assert info.value.status == 400 and state() == before


def test_items_of_another_handout_and_zero_quantities_are_refused(world):
    handout = make_handout(world)
    other = make_handout(world)
    theirs = items(other)["夏凉被"]
    with pytest.raises(ApplicationError):
        services.receipt_record(
            distribution=handout, rider=world.rider.user, items={theirs.pk: 1},
            actor=world.community_staff,
        )  # fmt: skip
    with pytest.raises(ApplicationError):
        services.receipt_record(
            distribution=handout, rider=world.rider.user,
            items={items(handout)["夏凉被"].pk: 0}, actor=world.community_staff,
        )  # fmt: skip
    assert Receipt.objects.count() == 0


def test_only_riders_receive_and_only_the_areas_staff_record(world):
    handout = make_handout(world)
    quilt = items(handout)["夏凉被"]
    with pytest.raises(ApplicationError):
        services.receipt_record(
            distribution=handout, rider=world.community_staff, items={quilt.pk: 1},
            actor=world.community_staff,
        )  # fmt: skip
    with pytest.raises(Forbidden):
        services.receipt_record(
            distribution=handout, rider=world.rider.user, items={quilt.pk: 1},
            actor=world.other_community_staff,
        )  # fmt: skip
    assert Receipt.objects.count() == 0


@pytest.mark.parametrize(
    "given",
    [[], [("夏凉被", -1)], [("", 3)], [("夏凉被", 1), ("夏凉被", 2)], [("x",)], "夏凉被"],
)
def test_bad_handouts_are_refused(world, given):
    with pytest.raises(ApplicationError) as info:
        make_handout(world, items=given)
    assert info.value.field == "items"


def test_restock_adds_items_and_never_goes_below_zero(world):
    handout = make_handout(world)
    staff = world.community_staff
    assert (
        services.item_restock(distribution=handout, name="冰袖", change=5, actor=staff).stock == 5
    )
    assert (
        services.item_restock(distribution=handout, name="冰袖", change=-2, actor=staff).stock == 3
    )
    before = state()
    with pytest.raises(Conflict):
        services.item_restock(distribution=handout, name="冰袖", change=-4, actor=staff)
    with pytest.raises(NotFound):
        services.item_restock(distribution=handout, name="雨衣", change=-1, actor=staff)
    with pytest.raises(ApplicationError):
        services.item_restock(distribution=handout, name="冰袖", change=0, actor=staff)
    assert state() == before


def test_a_street_handout_serves_riders_of_every_community(world):
    handout = make_handout(world, area=world.street_a, actor=world.street_admin)
    rider = new_rider(world, world.community_a2)
    services.receipt_record(
        distribution=handout, rider=rider, items={items(handout)["夏凉被"].pk: 1},
        actor=world.street_admin,
    )  # fmt: skip
    assert selectors.totals(handout)["people_served"] == 1
