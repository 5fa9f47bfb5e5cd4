"""Two people at once, on PostgreSQL: the row locks and constraints hold, nothing is lost.

Each test starts real threads, each with its own database connection, and releases them
together with a barrier so their transactions overlap.
"""

import threading

import pytest
from django.db import connection

from tests.world import PASSWORD, build_world, make_rider
from yizhan.core.errors import ApplicationError
from yizhan.core.models import AuditEntry
from yizhan.people.models import PostClaim, RiderProfile, User
from yizhan.people.services import (
    post_claim,
    post_claim_approve,
    post_create,
    rider_register,
    rider_verify,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def run_together(*jobs):
    """Run each job in its own thread and connection; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_staff_approving_the_last_place_fill_it_once():
    world = build_world()
    post = post_create(
        community=world.community_a1, kind="mediator", capacity=1, actor=world.community_staff
    )
    second = make_rider(
        world.community_a1, "13600000088", "孙二", lat=40.095, lng=113.305,
        verify_by=world.community_staff,
    )  # fmt: skip
    claims = [
        post_claim(rider=world.rider, post=post, actor=world.rider.user),
        post_claim(rider=second, post=post, actor=second.user),
    ]
    results = run_together(
        lambda: post_claim_approve(claim=claims[0], actor=world.community_staff),
        lambda: post_claim_approve(claim=claims[1], actor=world.street_admin),
    )
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "post_full"
    post.refresh_from_db()
    assert post.holders == 1
    assert PostClaim.objects.filter(post=post, status="approved").count() == 1


def test_the_same_phone_registering_twice_at_once_makes_one_account():
    world = build_world()

    def register():
        return rider_register(
            name="并发",
            phone="13588889999",
            password=PASSWORD,
            community=world.community_a1,
            platform="meituan",
            occupation="food_delivery",
            vehicle="e_bike",
            work_lat=40.095,
            work_lng=113.305,
            consent=True,
        )

    results = run_together(register, register)
    made = [r for r in results if isinstance(r, RiderProfile)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(made) == 1 and len(refused) == 1
    assert refused[0].code == "phone_taken"
    assert User.objects.filter(name="并发").count() == 1


def test_verifying_twice_at_once_decides_once():
    world = build_world()
    pending = world.pending_rider
    results = run_together(
        lambda: rider_verify(rider=pending, actor=world.community_staff),
        lambda: rider_verify(rider=pending, actor=world.street_admin),
    )
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "already_decided"
    verified = AuditEntry.objects.filter(action="rider.verified", target_id=str(pending.pk))
    assert verified.count() == 1
