"""Honours under concurrent requests, on PostgreSQL: the quota holds when staff race for the
last place, and when two admins approve at once."""

import pytest

from tests.honours.builders import knight, second_a1_rider
from tests.people.test_concurrency import run_together
from yizhan.core.errors import Conflict
from yizhan.honours.choices import NominationStatus
from yizhan.honours.models import Nomination
from yizhan.honours.services import nomination_approve, nomination_create, title_update

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_staff_racing_for_the_last_place_take_it_once(world):
    title = knight(world, quota=1)
    riders = [world.rider] + [
        second_a1_rider(world, f"1360000050{n}", f"骑手{n}") for n in range(4)
    ]
    results = run_together(
        *[
            (lambda r=r: nomination_create(
                title=title, rider=r, reason="巡查", actor=world.community_staff
            ))
            for r in riders
        ]
    )  # fmt: skip
    made = [r for r in results if isinstance(r, Nomination)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == 4, results
    assert Nomination.objects.count() == 1


def test_two_admins_approving_at_once_stay_within_the_quota(world):
    title = knight(world, quota=2)
    extra = second_a1_rider(world)
    first = nomination_create(
        title=title, rider=world.rider, reason="巡查", actor=world.street_admin
    )
    second = nomination_create(title=title, rider=extra, reason="救助", actor=world.street_admin)
    title_update(title=title, quota=1, actor=world.street_admin)
    results = run_together(
        lambda: nomination_approve(nomination=first, actor=world.street_admin),
        lambda: nomination_approve(nomination=second, actor=world.district_admin),
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Nomination"], results
    assert Nomination.objects.filter(status=NominationStatus.APPROVED).count() == 1
