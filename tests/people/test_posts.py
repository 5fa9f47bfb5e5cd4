"""Posts: claim → approve (placement by 就近原则), capacity, double claims, withdrawals, moves."""

import pytest

from tests.world import make_rider
from yizhan.core.errors import ApplicationError
from yizhan.people.choices import ClaimStatus
from yizhan.people.models import Post, PostClaim
from yizhan.people.services import (
    post_claim,
    post_claim_approve,
    post_claim_reject,
    post_claim_withdraw,
    post_create,
    post_update,
    rider_move_grid,
)


def claim(rider, post):
    return post_claim(rider=rider, post=post, actor=rider.user)


def test_claim_approve_places_the_rider_in_the_grid_of_their_work_point(world):
    c = claim(world.rider, world.post)
    assert c.status == ClaimStatus.PENDING
    post_claim_approve(claim=c, actor=world.community_staff)
    world.rider.refresh_from_db()
    world.post.refresh_from_db()
    assert world.post.holders == 1
    assert world.rider.grid == world.grid_a1_east  # work point 113.315 is in the east half
    assert world.rider.area_code == world.grid_a1_east.code
    assert world.rider.user.__class__.objects.get(pk=world.rider.user_id).area_code == (
        world.grid_a1_east.code
    )


def test_claiming_the_same_post_twice_is_a_conflict(world):
    claim(world.rider, world.post)
    with pytest.raises(ApplicationError) as exc:
        claim(world.rider, world.post)
    assert (exc.value.status, exc.value.code) == (409, "already_claimed")
    assert PostClaim.objects.count() == 1


def test_a_full_post_refuses_claims_and_approvals(world):
    post = post_create(
        community=world.community_a1, kind="policy", capacity=1, actor=world.community_staff
    )
    second = make_rider(
        world.community_a1, "13600000009", "周全", lat=40.095, lng=113.305,
        verify_by=world.community_staff,
    )  # fmt: skip
    first_claim, second_claim = claim(world.rider, post), claim(second, post)
    post_claim_approve(claim=first_claim, actor=world.community_staff)
    with pytest.raises(ApplicationError) as exc:
        post_claim_approve(claim=second_claim, actor=world.community_staff)
    assert exc.value.code == "post_full"
    second_claim.refresh_from_db()
    assert second_claim.status == ClaimStatus.PENDING
    third = make_rider(
        world.community_a1, "13600000008", "吴用", lat=40.095, lng=113.305,
        verify_by=world.community_staff,
    )  # fmt: skip
    with pytest.raises(ApplicationError) as exc:
        claim(third, post)
    assert exc.value.code == "post_full"


def test_pending_rider_and_other_community_cannot_claim(world):
    with pytest.raises(ApplicationError) as exc:
        claim(world.pending_rider, world.post)
    assert exc.value.code == "not_verified"
    with pytest.raises(ApplicationError) as exc:
        claim(world.other_rider, world.post)
    assert exc.value.code == "other_community"
    with pytest.raises(ApplicationError) as exc:
        post_claim(rider=world.rider, post=world.post, actor=world.community_staff)
    assert exc.value.status == 403
    assert PostClaim.objects.count() == 0


def test_decided_claims_cannot_be_decided_again(world):
    c = claim(world.rider, world.post)
    post_claim_reject(claim=c, actor=world.community_staff, reason="名额已满")
    with pytest.raises(ApplicationError) as exc:
        post_claim_approve(claim=c, actor=world.community_staff)
    assert exc.value.status == 409
    # A rejected claim does not block a new one.
    assert claim(world.rider, world.post).status == ClaimStatus.PENDING


def test_other_community_staff_cannot_approve(world):
    c = claim(world.rider, world.post)
    with pytest.raises(ApplicationError) as exc:
        post_claim_approve(claim=c, actor=world.other_community_staff)
    assert exc.value.status == 403
    assert Post.objects.get(pk=world.post.pk).holders == 0


def test_withdrawing_a_held_post_frees_the_place(world):
    c = post_claim_approve(claim=claim(world.rider, world.post), actor=world.community_staff)
    post_claim_withdraw(claim=c, actor=world.rider.user)
    assert Post.objects.get(pk=world.post.pk).holders == 0
    with pytest.raises(ApplicationError):
        post_claim_withdraw(claim=c, actor=world.rider.user)


def test_post_configuration_rules(world):
    with pytest.raises(ApplicationError) as exc:
        post_create(community=world.community_a1, kind="safety", capacity=3,
                    actor=world.community_staff)  # fmt: skip
    assert exc.value.code == "post_exists"
    with pytest.raises(ApplicationError):
        post_create(community=world.community_a1, kind="mediator", capacity=0,
                    actor=world.community_staff)  # fmt: skip
    with pytest.raises(ApplicationError) as exc:
        post_create(community=world.community_a1, kind="mediator", capacity=2,
                    actor=world.other_community_staff)  # fmt: skip
    assert exc.value.status == 403
    post_claim_approve(claim=claim(world.rider, world.post), actor=world.community_staff)
    with pytest.raises(ApplicationError) as exc:
        post_update(post=world.post, actor=world.community_staff, capacity=0)
    post_update(post=world.post, actor=world.community_staff, capacity=5, is_open=False)
    assert Post.objects.get(pk=world.post.pk).capacity == 5


def test_staff_move_a_rider_to_another_grid(world):
    rider_move_grid(rider=world.rider, grid=world.grid_a1_west, actor=world.community_staff)
    world.rider.refresh_from_db()
    assert world.rider.grid == world.grid_a1_west
    with pytest.raises(ApplicationError) as exc:
        rider_move_grid(rider=world.rider, grid=world.grid_a2, actor=world.community_staff)
    assert exc.value.status == 403
    with pytest.raises(ApplicationError) as exc:
        rider_move_grid(rider=world.rider, grid=world.community_a1, actor=world.community_staff)
    assert exc.value.code == "not_a_grid"
    rider_move_grid(rider=world.rider, grid=world.grid_a2, actor=world.street_admin)
    world.rider.refresh_from_db()
    assert (world.rider.community, world.rider.area_code) == (
        world.community_a2,
        world.grid_a2.code,
    )
