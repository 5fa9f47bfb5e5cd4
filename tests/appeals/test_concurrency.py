"""Appeals under concurrent requests, on PostgreSQL: a double-tapped rating counts once, two
staff routing the same appeal at once route it once, the same key raises one appeal."""

import pytest

from tests.people.test_concurrency import run_together
from yizhan.appeals import services
from yizhan.appeals.models import Appeal, AppealEvent
from yizhan.core.errors import ApplicationError

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def outcomes(results):
    out = []
    for result in results:
        if isinstance(result, Appeal):
            out.append("ok")
        elif isinstance(result, ApplicationError):
            out.append(result.code)
        else:
            raise AssertionError(f"unexpected result: {result!r}")
    return sorted(out)


def test_two_ratings_at_once_count_once(world, made):
    appeal, rider = made["answered"], world.rider.user
    results = run_together(
        lambda: services.appeal_rate(appeal=appeal, actor=rider, stars=5),
        lambda: services.appeal_rate(appeal=appeal, actor=rider, stars=1),
    )
    assert outcomes(results) == ["already_rated", "ok"]
    assert AppealEvent.objects.filter(appeal=appeal, action="rated").count() == 1


def test_two_staff_routing_at_once_leave_one_route_each_in_order(world, made):
    appeal = made["submitted"]
    results = run_together(
        lambda: services.appeal_route(
            appeal=appeal, actor=world.community_staff, body=made["union"], days=3
        ),
        lambda: services.appeal_route(
            appeal=appeal, actor=world.street_admin, body=made["union"], days=5
        ),
    )
    # Routing again while it waits is allowed (another body, a new deadline): both succeed,
    # one after the other, and the timeline has both.
    assert outcomes(results) == ["ok", "ok"]
    assert AppealEvent.objects.filter(appeal=appeal, action="routed").count() == 2


def test_the_same_key_raises_one_appeal(world):
    def raise_it():
        return services.appeal_raise(
            rider=world.rider.user, difficulty="rights", topic="pay", text="欠薪",
            idempotency_key="race-appeal-0001",
        )  # fmt: skip

    results = run_together(raise_it, raise_it, raise_it)
    assert outcomes(results) == ["ok", "ok", "ok"]
    assert len({r.pk for r in results}) == 1
    assert Appeal.objects.count() == 1
