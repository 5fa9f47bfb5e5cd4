"""Every read of people, posts and teams a page or endpoint needs, through the permission layer."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from yizhan.core import crypto
from yizhan.core.errors import NotFound
from yizhan.core.permissions import Action, may_see_personal, restrict
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.people.choices import ACTIVE_CLAIM_STATUSES, ClaimStatus, RegistrationStatus
from yizhan.people.models import Post, PostClaim, RiderProfile, Team, TeamMembership, User
from yizhan.people.validation import normalise_phone_or_none


def console_staff_ids(*codes: str, beneath: bool = False, on_duty_only: bool = False) -> list[int]:
    """Active console accounts (staff and admins) whose area is one of ``codes`` — or lies
    beneath one of them, with ``beneath`` — for notifications. Empty codes are ignored."""
    codes = tuple(c for c in codes if c)
    if not codes:
        return []
    where = Q()
    for code in codes:
        where |= Q(area_code__startswith=code) if beneath else Q(area_code=code)
    qs = User.objects.filter(where, is_active=True, role__in=CONSOLE_ROLES)
    if on_duty_only:
        qs = qs.filter(on_duty=True)
    return list(qs.values_list("pk", flat=True))


def rider_of(user: Any) -> RiderProfile:
    """The signed-in account's own rider profile, or 404."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_not_registered())
    try:
        return RiderProfile.objects.select_related("community__parent", "grid", "user").get(
            user=user
        )
    except RiderProfile.DoesNotExist:
        raise NotFound(_not_registered()) from None


def _not_registered():
    from django.utils.translation import gettext as _

    return _("You have not registered as a rider yet.")


def riders_for_user(
    user: Any,
    *,
    status: str | None = None,
    area_code: str | None = None,
    platform: str | None = None,
    post_kind: str | None = None,
    q: str | None = None,
    action: Action = Action.VIEW,
) -> QuerySet[RiderProfile]:
    """Riders the user may see, filtered as the staff console asks.

    ``q`` matches a name, a full phone number (through the blind index) or the last four digits.
    """
    qs = restrict(RiderProfile.objects.all(), user, action).select_related(
        "user", "community", "grid"
    )
    if status:
        qs = qs.filter(status=status)
    if area_code:
        qs = qs.filter(area_code__startswith=area_code)
    if platform:
        qs = qs.filter(platform=platform)
    if post_kind:
        qs = qs.filter(
            Exists(
                PostClaim.objects.filter(
                    rider=OuterRef("pk"), post__kind=post_kind, status=ClaimStatus.APPROVED
                )
            )
        )
    q = (q or "").strip()
    if q:
        phone = normalise_phone_or_none(q)
        if phone:
            qs = qs.filter(user__phone_index=crypto.blind_index(phone))
        elif q.isdigit() and len(q) == 4:
            qs = qs.filter(user__phone_masked__endswith=q)
        else:
            qs = qs.filter(user__name__icontains=q)
    return qs.prefetch_related(
        Prefetch(
            "claims",
            queryset=PostClaim.objects.filter(status=ClaimStatus.APPROVED).select_related("post"),
            to_attr="held_claims",
        )
    ).order_by("-created_at", "-id")


def pending_registrations(user: Any) -> QuerySet[RiderProfile]:
    return riders_for_user(user, status=RegistrationStatus.PENDING, action=Action.OPERATE).order_by(
        "created_at", "id"
    )


def phone_for(viewer: Any, rider: RiderProfile) -> str:
    """The full phone for the rider and their community's staff; the mask for everyone else."""
    if may_see_personal(viewer, owner_id=rider.user_id, community_code=rider.community.code):
        return rider.user.phone
    return rider.user.phone_masked


def posts_for_rider(rider: RiderProfile) -> list[tuple[Post, PostClaim | None]]:
    """The posts of the rider's community, each with the rider's active claim on it (if any)."""
    posts = Post.objects.filter(community_id=rider.community_id).order_by("kind")
    claims = {
        c.post_id: c
        for c in PostClaim.objects.filter(rider=rider, status__in=ACTIVE_CLAIM_STATUSES)
    }
    return [(post, claims.get(post.pk)) for post in posts]


def posts_for_user(
    user: Any, *, community_code: str | None = None, action: Action = Action.VIEW
) -> QuerySet[Post]:
    qs = restrict(Post.objects.all(), user, action).select_related("community__parent")
    if community_code:
        qs = qs.filter(area_code__startswith=community_code)
    return qs.order_by("area_code", "kind")


def claims_for_user(
    user: Any, *, status: str | None = None, action: Action = Action.VIEW
) -> QuerySet[PostClaim]:
    qs = restrict(PostClaim.objects.all(), user, action).select_related(
        "post__community", "rider__user", "rider__community"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def claims_of_rider(rider: RiderProfile) -> QuerySet[PostClaim]:
    """A rider's own claims, newest first: active ones and the decided history."""
    return (
        PostClaim.objects.filter(rider=rider)
        .select_related("post", "decided_by")
        .order_by("-created_at", "-id")
    )


def console_summary(user: Any) -> dict[str, int]:
    """The numbers on the console's front page, beneath the user's area."""
    riders = restrict(RiderProfile.objects.all(), user, Action.OPERATE)
    return {
        "pending_registrations": riders.filter(status=RegistrationStatus.PENDING).count(),
        "verified_riders": riders.filter(status=RegistrationStatus.VERIFIED).count(),
        "pending_claims": restrict(PostClaim.objects.all(), user, Action.OPERATE)
        .filter(status=ClaimStatus.PENDING)
        .count(),
        "teams": restrict(Team.objects.all(), user, Action.OPERATE).count(),
    }


def team_candidates(user: Any, team: Team) -> QuerySet[RiderProfile]:
    """Verified riders within the team's area whom the user may act on and who are not in it."""
    return (
        riders_for_user(user, status=RegistrationStatus.VERIFIED, action=Action.OPERATE)
        .filter(area_code__startswith=team.area_code)
        .exclude(memberships__team=team)
        .order_by("user__name", "id")
    )


def teams_for_user(user: Any, action: Action = Action.VIEW) -> QuerySet[Team]:
    return (
        restrict(Team.objects.all(), user, action)
        .select_related("area", "leader__user")
        .order_by("area_code", "name")
    )


def team_members(team: Team) -> QuerySet[TeamMembership]:
    return (
        TeamMembership.objects.filter(team=team)
        .select_related("rider__user", "rider__grid")
        .order_by("-role", "joined_at", "id")
    )


def teams_of_rider(rider: RiderProfile) -> QuerySet[Team]:
    return (
        Team.objects.filter(memberships__rider=rider)
        .select_related("area", "leader__user")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=TeamMembership.objects.select_related("rider__user").order_by(
                    "-role", "joined_at"
                ),
            )
        )
    )
