"""Objects the duties tests act on, all in community A1 (street A) unless said otherwise."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from yizhan.duties import services
from yizhan.people.choices import ClaimStatus
from yizhan.people.models import PostClaim
from yizhan.people.services import post_claim, post_claim_approve, post_create
from yizhan.points.choices import Activity
from yizhan.points.services import earning_rule_set

_keys = itertools.count(1)


def key() -> str:
    return f"duty-test-{next(_keys):06d}"


def hold(world, post, rider=None):
    """The rider holds ``post`` (an approved claim)."""
    rider = rider or world.rider
    claim = PostClaim.objects.filter(
        rider=rider, post=post, status__in=[ClaimStatus.PENDING, ClaimStatus.APPROVED]
    ).first()
    if claim is None:
        claim = post_claim(rider=rider, post=post, actor=rider.user)
    if claim.status == ClaimStatus.PENDING:
        post_claim_approve(claim=claim, actor=world.community_staff)
    return post


def aid_post(world):
    """The 助老服务员 post of A1."""
    from yizhan.people.models import Post

    post = Post.objects.filter(community=world.community_a1, kind="elderly_aid").first()
    return post or post_create(
        community=world.community_a1, kind="elderly_aid", capacity=5, actor=world.community_staff
    )


def rules(world, *, hour=5, help_=8, gift=6, daily_cap=None):
    for activity, points in (
        (Activity.DUTY_HOUR, hour),
        (Activity.ELDERLY_CHILD_HELP, help_),
        (Activity.GIFT_DELIVERY, gift),
    ):
        earning_rule_set(
            street=world.street_a,
            activity=activity,
            points=points,
            actor=world.street_admin,
            daily_cap=daily_cap,
        )


def patrol(world, *, hours_ago=3, minutes=150, **extra):
    """A pending patrol of the rider on the safety post (held)."""
    hold(world, world.post)
    end = timezone.now() - timedelta(hours=hours_ago)
    return services.duty_log(
        actor=world.rider.user,
        post=world.post,
        kind="patrol",
        started_at=end - timedelta(minutes=minutes),
        ended_at=end,
        place=extra.pop("place", "甲一社区东门"),
        idempotency_key=extra.pop("idempotency_key", key()),
        **extra,
    )


def gift(world, *, hours_ago=1, **extra):
    """A pending gift delivery of the rider on the elderly-aid post (held)."""
    post = hold(world, aid_post(world))
    return services.duty_log(
        actor=world.rider.user,
        post=post,
        kind="gift",
        started_at=timezone.now() - timedelta(hours=hours_ago),
        place=extra.pop("place", "3号楼2单元501"),
        idempotency_key=extra.pop("idempotency_key", key()),
        **extra,
    )


def code_for(world, household="王奶奶家", actor=None):
    code, digits = services.gift_code_issue(
        community=world.community_a1, household=household, actor=actor or world.community_staff
    )
    return code, digits
