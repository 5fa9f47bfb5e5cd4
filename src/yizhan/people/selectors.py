"""Every read of people, posts and teams a page or endpoint needs, through the permission layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from yizhan.core import crypto
from yizhan.core.errors import NotFound
from yizhan.core.models import AuditEntry
from yizhan.core.permissions import Action, can, is_console_user, restrict
from yizhan.core.roles import CONSOLE_ROLES
from yizhan.people.choices import (
    ACTIVE_CLAIM_STATUSES,
    ClaimStatus,
    ConsentKind,
    RegistrationStatus,
)
from yizhan.people.models import (
    Consent,
    Post,
    PostClaim,
    RiderProfile,
    Team,
    TeamMembership,
    User,
)
from yizhan.people.notice import Notice, current_notice
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
            qs = qs.filter(user__phone_index__in=crypto.blind_indexes(phone))
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
    """The full phone for the rider themself; the mask for everyone else.

    Staff who need the full number ask for it with a reason (``services.rider_phone_unmask``),
    which is logged; no page or list shows it otherwise.
    """
    if getattr(viewer, "is_authenticated", False) and viewer.pk == rider.user_id:
        return rider.user.phone
    return rider.user.phone_masked


def may_unmask(viewer: Any, rider: RiderProfile) -> bool:
    """Whether ``viewer`` may ask for ``rider``'s full number (staff who may act on the rider)."""
    return is_console_user(viewer) and can(viewer, Action.OPERATE, rider)


def unmaskings_of(rider: RiderProfile) -> QuerySet[AuditEntry]:
    """When staff looked at the rider's full number, and why (newest first)."""
    return AuditEntry.objects.filter(
        action="unmask", target_type=RiderProfile._meta.label_lower, target_id=str(rider.pk)
    ).order_by("-created_at", "-id")


# --- consent ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentStatus:
    """Where an account stands with the privacy notice and the use of location.

    ``privacy``: ``current`` (agreed to the version in effect), ``outdated`` (agreed to an
    earlier version only), ``withdrawn`` (agreed once, withdrawn since) or ``none``.
    """

    notice: Notice
    privacy: str
    privacy_version: str | None
    privacy_given_at: Any
    location: bool
    location_given_at: Any

    @property
    def needs_consent(self) -> bool:
        return self.privacy != "current"


def consent_status(user: Any) -> ConsentStatus:
    notice = current_notice()
    rows = (
        list(Consent.objects.filter(user_id=getattr(user, "pk", None)).order_by("-given_at", "-id"))
        if getattr(user, "is_authenticated", False)
        else []
    )
    privacy = [c for c in rows if c.kind == ConsentKind.PRIVACY]
    open_privacy = [c for c in privacy if c.withdrawn_at is None]
    current = next((c for c in open_privacy if c.notice_version == notice.version), None)
    if current is not None:
        state, shown = "current", current
    elif open_privacy:
        state, shown = "outdated", open_privacy[0]
    elif privacy:
        state, shown = "withdrawn", None
    else:
        state, shown = "none", None
    location = next(
        (c for c in rows if c.kind == ConsentKind.LOCATION and c.withdrawn_at is None), None
    )
    return ConsentStatus(
        notice=notice,
        privacy=state,
        privacy_version=shown.notice_version if shown else None,
        privacy_given_at=shown.given_at if shown else None,
        location=location is not None,
        location_given_at=location.given_at if location else None,
    )


def consents_of(user: Any) -> QuerySet[Consent]:
    """The account's consent history, newest first."""
    return restrict(Consent.objects.all(), user).order_by("-given_at", "-id")


def may_use_location(user: Any) -> bool:
    """Whether the server may store this account's own position (with a report photo's GPS, a
    duty's point, a check-in): the location consent is in force. One indexed query.

    This is the rider's track, not a hazard's place: a report's location is where the hazard
    is and is kept either way.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    return Consent.objects.filter(
        user_id=user.pk, kind=ConsentKind.LOCATION, withdrawn_at__isnull=True
    ).exists()


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
