"""Duties under concurrent requests, on PostgreSQL: two staff verifying at once pay once; two
overlapping logs with different keys give one duty and one 409; a code confirmed twice at once
is used once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.duties.builders import code_for, gift, hold, patrol, rules
from tests.people.test_concurrency import run_together
from tests.world import build_world
from yizhan.core.errors import ApplicationError, Conflict
from yizhan.duties import services
from yizhan.duties.models import Duty
from yizhan.points.models import EarningRecord
from yizhan.points.selectors import balance_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_staff_verifying_at_once_pay_once():
    world = build_world()
    rules(world, hour=5)
    duty = patrol(world, minutes=60)
    results = run_together(
        lambda: services.duty_verify(duty=duty, actor=world.community_staff),
        lambda: services.duty_verify(duty=duty, actor=world.street_admin),
    )
    assert sum(isinstance(r, Duty) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert balance_of(world.rider.user) == 5 and EarningRecord.objects.count() == 1


def test_overlapping_logs_at_once_give_one_duty():
    world = build_world()
    hold(world, world.post)
    end = timezone.now() - timedelta(hours=1)

    def log(key):
        return lambda: services.duty_log(
            actor=world.rider.user, post=world.post, kind="patrol",
            started_at=end - timedelta(hours=1), ended_at=end, place="东门",
            idempotency_key=key,
        )  # fmt: skip

    results = run_together(log("race-key-000001"), log("race-key-000002"))
    assert sum(isinstance(r, Duty) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert Duty.objects.count() == 1


def test_a_code_confirmed_twice_at_once_is_used_once():
    world = build_world()
    rules(world, gift=6)
    first, second = gift(world, hours_ago=1), gift(world, hours_ago=2)
    _code, digits = code_for(world)
    results = run_together(
        lambda: services.duty_confirm(duty_id=first.pk, code=digits),
        lambda: services.duty_confirm(duty_id=second.pk, code=digits),
    )
    assert sum(isinstance(r, Duty) for r in results) == 1
    assert sum(isinstance(r, ApplicationError) for r in results) == 1
    assert balance_of(world.rider.user) == 6
