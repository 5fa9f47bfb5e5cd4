"""Every write to accounts, registrations, posts, teams and tokens.

Each service checks its actor through the permission layer, changes state inside one
transaction, and leaves an audit entry. A refused action raises ``ApplicationError`` (a 4xx).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.areas.selectors import nearest_grid
from yizhan.core import crypto, ratelimit
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden, Unauthenticated
from yizhan.core.permissions import Action, is_authenticated, require
from yizhan.core.roles import CONSOLE_ROLES, SCOPED_ROLES, Role
from yizhan.people.choices import (
    ClaimStatus,
    ConsentKind,
    ConsentSource,
    MemberRole,
    Occupation,
    Platform,
    PostKind,
    RegistrationStatus,
    UnmaskReason,
    Vehicle,
)
from yizhan.people.models import (
    ApiToken,
    Consent,
    Department,
    Post,
    PostClaim,
    RiderProfile,
    Team,
    TeamMembership,
    TokenScope,
    User,
)
from yizhan.people.notice import current_notice
from yizhan.people.validation import check_point, normalise_phone

# --- helpers ---------------------------------------------------------------------------------


def _check_choice(value: str, choices, field: str, label: str) -> str:
    if value not in choices.values:
        raise ApplicationError(
            _("Please choose a valid %(label)s.") % {"label": label},
            code="invalid_choice",
            field=field,
        )
    return value


def _check_name(name: str, *, field: str = "name", max_length: int = 50) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Please enter a name."), code="required", field=field)
    if len(name) > max_length:
        raise ApplicationError(
            _("The name is too long (at most %(n)s characters).") % {"n": max_length},
            code="too_long",
            field=field,
        )
    return name


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password or "", user)
    except ValidationError as exc:
        raise ApplicationError(
            " ".join(str(m) for m in exc.messages), code="weak_password", field="password"
        ) from None


def _check_community(community: Any) -> Area:
    if not isinstance(community, Area) or community.level != AreaLevel.COMMUNITY:
        raise ApplicationError(
            _("Please choose a community (社区) to register with."),
            code="not_a_community",
            field="community",
        )
    return community


def _phone_taken(phone: str, *, exclude: User | None = None) -> bool:
    qs = User.objects.filter(phone_index__in=crypto.blind_indexes(phone))
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.exists()


def _phone_conflict() -> Conflict:
    return Conflict(
        _("This phone number is already registered. Please log in instead."),
        code="phone_taken",
        field="phone",
    )


def _set_rider_area(rider: RiderProfile, *, community: Area, grid: Area | None) -> None:
    rider.community = community
    rider.grid = grid
    rider.area_code = grid.code if grid is not None else community.code
    User.objects.filter(pk=rider.user_id).update(area=grid or community, area_code=rider.area_code)


# --- accounts --------------------------------------------------------------------------------


@transaction.atomic
def account_create(
    *,
    username: str,
    name: str,
    role: str,
    password: str | None,
    area: Area | None = None,
    phone: str = "",
    department: Any = None,
    actor: Any = None,
    is_superuser: bool = False,
) -> User:
    """Create a staff, handler, admin, merchant or volunteer account (riders register)."""
    _check_choice(role, Role, "role", _("role"))
    if role in SCOPED_ROLES and area is None and not is_superuser:
        raise ApplicationError(
            _("Staff, handlers and administrators need an area to work in."), field="area"
        )
    if actor is not None and area is not None:
        require(actor, Action.CONFIGURE, area)
    if User.objects.filter(username=username).exists():
        raise Conflict(_("That username is taken."), code="username_taken", field="username")
    user = User(
        username=username,
        name=_check_name(name),
        role=role,
        area=area,
        area_code=area.code if area else "",
        department=department,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    if phone:
        phone = normalise_phone(phone)
        if _phone_taken(phone):
            raise _phone_conflict()
        user.set_phone(phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    log_action(actor=actor, action="account.created", target=user, data={"role": role})
    return user


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    codes = [code for code, _label in settings.LANGUAGES]
    if language not in codes:
        raise ApplicationError(_("That language is not available."), field="language")
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return user


@transaction.atomic
def department_create(*, name: str, area: Any, actor: Any) -> Department:
    """A 职能部门 (执法队, 环卫, 消防 …) working within an area; its handlers are accounts."""
    if not isinstance(area, Area):
        raise ApplicationError(_("Please choose an area for the department."), field="area")
    require(actor, Action.CONFIGURE, area)
    name = _check_name(name, max_length=100)
    if Department.objects.filter(area=area, name=name).exists():
        raise Conflict(
            _("A department with this name already exists here."), code="department_exists"
        )
    department = Department.objects.create(name=name, area=area)
    log_action(actor=actor, action="department.created", target=department, data={"name": name})
    return department


# --- registration (社区报到) ------------------------------------------------------------------


@transaction.atomic
def rider_register(
    *,
    name: str,
    phone: str,
    password: str | None,
    community: Any,
    platform: str,
    occupation: str,
    vehicle: str,
    work_lat: Any,
    work_lng: Any,
    work_address: str = "",
    consent: bool = False,
    location_consent: bool = False,
    consent_source: str = ConsentSource.REGISTRATION,
) -> RiderProfile:
    """A rider registers with a community; the community's staff then verify or reject.

    ``consent`` (to the current privacy notice) is required and recorded as a :class:`Consent`
    with the notice's version; ``location_consent`` is separate and optional.

    ``password`` may be None when the rider is registered on the rider's behalf from a paper
    form; they set a password later. Until then the account has an unusable password, so nobody
    can log in with it. A given password must pass the password validators.
    """
    name = _check_name(name)
    phone = normalise_phone(phone)
    community = _check_community(community)
    _check_choice(platform, Platform, "platform", _("delivery platform"))
    _check_choice(occupation, Occupation, "occupation", _("occupation"))
    _check_choice(vehicle, Vehicle, "vehicle", _("vehicle"))
    work_lat, work_lng = check_point(work_lat, work_lng)
    if not consent:
        raise ApplicationError(
            _("Please read and agree to the privacy notice to register."),
            code="consent_required",
            field="consent",
        )
    if _phone_taken(phone):
        raise _phone_conflict()
    user = User(
        username=f"rider-{secrets.token_hex(6)}",
        name=name,
        role=Role.RIDER,
        area=community,
        area_code=community.code,
    )
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    user.set_phone(phone)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent registration with the same phone won the race
        raise _phone_conflict() from None
    now = timezone.now()
    rider = RiderProfile.objects.create(
        user=user,
        platform=platform,
        occupation=occupation,
        vehicle=vehicle,
        work_lat=work_lat,
        work_lng=work_lng,
        work_address=(work_address or "").strip()[:200],
        community=community,
        area_code=community.code,
        consent_at=now,
    )
    version = current_notice().version
    source = consent_source if consent_source in ConsentSource.values else ConsentSource.API
    Consent.objects.create(
        user=user, kind=ConsentKind.PRIVACY, notice_version=version, given_at=now, source=source
    )
    if location_consent:
        Consent.objects.create(
            user=user,
            kind=ConsentKind.LOCATION,
            notice_version=version,
            given_at=now,
            source=source,
        )
    log_action(
        actor=user,
        action="rider.registered",
        target=rider,
        data={
            "community": community.code,
            "platform": platform,
            "notice": version,
            "location_consent": bool(location_consent),
        },
    )
    return rider


@transaction.atomic
def rider_resubmit(
    *, rider: RiderProfile, actor: Any, community: Area | None = None
) -> RiderProfile:
    """A rejected rider fixes their registration (perhaps another community) and tries again."""
    if actor.pk != rider.user_id:
        raise Forbidden(_("Only the rider can resubmit their registration."))
    rider = RiderProfile.objects.select_for_update().get(pk=rider.pk)
    if rider.status != RegistrationStatus.REJECTED:
        raise Conflict(_("Only a rejected registration can be resubmitted."), code="not_rejected")
    if community is not None:
        _check_community(community)
        _set_rider_area(rider, community=community, grid=None)
    rider.status = RegistrationStatus.PENDING
    rider.rejection_reason = ""
    rider.save()
    log_action(actor=actor, action="rider.resubmitted", target=rider)
    return rider


def _decide_registration(rider: RiderProfile, actor: Any, status: str, reason: str) -> RiderProfile:
    require(actor, Action.OPERATE, rider)
    locked = RiderProfile.objects.select_for_update().get(pk=rider.pk)
    if not locked.can_verify():
        raise Conflict(
            _("This registration has already been decided (%(status)s).")
            % {"status": locked.get_status_display()},
            code="already_decided",
        )
    locked.status = status
    locked.rejection_reason = reason
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def rider_verify(*, rider: RiderProfile, actor: Any) -> RiderProfile:
    rider = _decide_registration(rider, actor, RegistrationStatus.VERIFIED, "")
    log_action(actor=actor, action="rider.verified", target=rider)
    return rider


@transaction.atomic
def rider_reject(*, rider: RiderProfile, actor: Any, reason: str) -> RiderProfile:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            _("Please give the rider a reason for the rejection."), code="required", field="reason"
        )
    rider = _decide_registration(rider, actor, RegistrationStatus.REJECTED, reason[:200])
    log_action(actor=actor, action="rider.rejected", target=rider, data={"reason": reason[:200]})
    return rider


@transaction.atomic
def rider_move_grid(
    *, rider: RiderProfile, grid: Any, actor: Any, reason: str = ""
) -> RiderProfile:
    """Staff place a rider in another grid (of their own or another community they manage)."""
    if not isinstance(grid, Area) or grid.level != AreaLevel.GRID:
        raise ApplicationError(_("Please choose a grid."), code="not_a_grid", field="grid")
    require(actor, Action.OPERATE, rider)
    require(actor, Action.OPERATE, grid)
    rider = RiderProfile.objects.select_for_update().get(pk=rider.pk)
    if rider.status != RegistrationStatus.VERIFIED:
        raise Conflict(_("Only a verified rider can be placed in a grid."), code="not_verified")
    before = rider.grid.code if rider.grid_id else ""
    _set_rider_area(rider, community=grid.parent, grid=grid)
    rider.save()
    log_action(
        actor=actor,
        action="rider.moved",
        target=rider,
        data={"from": before, "to": grid.code, "reason": (reason or "")[:200]},
    )
    return rider


def _place_rider(rider: RiderProfile, actor: Any) -> None:
    """就近原则: a rider's first approved post places them in the grid they work in (or nearest)."""
    if rider.grid_id is not None:
        return
    grid = nearest_grid(rider.work_lat, rider.work_lng, community=rider.community)
    if grid is None:
        return
    _set_rider_area(rider, community=rider.community, grid=grid)
    rider.save()
    log_action(
        actor=actor,
        action="rider.placed",
        target=rider,
        data={"grid": grid.code, "rule": "nearest"},
    )


# --- posts (岗位) ------------------------------------------------------------------------------


def _check_capacity(capacity: Any) -> int:
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        capacity = -1
    if not 1 <= capacity <= 1000:
        raise ApplicationError(
            _("Capacity must be a whole number from 1 to 1000."), field="capacity"
        )
    return capacity


@transaction.atomic
def post_create(
    *, community: Any, kind: str, capacity: Any, actor: Any, description: str = ""
) -> Post:
    community = _check_community(community)
    require(actor, Action.OPERATE, community)
    _check_choice(kind, PostKind, "kind", _("post"))
    capacity = _check_capacity(capacity)
    if Post.objects.filter(community=community, kind=kind).exists():
        raise Conflict(_("This community already has that post."), code="post_exists", field="kind")
    post = Post.objects.create(
        community=community, kind=kind, capacity=capacity, description=(description or "")[:300]
    )
    log_action(actor=actor, action="post.created", target=post, data={"capacity": capacity})
    return post


@transaction.atomic
def post_update(
    *, post: Post, actor: Any, capacity: Any = None, is_open: bool | None = None, description=None
) -> Post:
    require(actor, Action.CONFIGURE, post)
    post = Post.objects.select_for_update().get(pk=post.pk)
    changes: dict[str, Any] = {}
    if capacity is not None:
        capacity = _check_capacity(capacity)
        if capacity < post.holders:
            raise Conflict(
                _("%(n)s riders hold this post; capacity cannot go below that.")
                % {"n": post.holders},
                code="below_holders",
                field="capacity",
            )
        post.capacity = changes["capacity"] = capacity
    if is_open is not None:
        post.is_open = changes["is_open"] = bool(is_open)
    if description is not None:
        post.description = changes["description"] = str(description)[:300]
    post.save()
    log_action(actor=actor, action="post.updated", target=post, data=changes)
    return post


@transaction.atomic
def post_claim(*, rider: RiderProfile, post: Post, actor: Any, note: str = "") -> PostClaim:
    """A verified rider claims a post in their community; staff approve it later."""
    if actor is None or actor.pk != rider.user_id:
        raise Forbidden(_("Riders claim posts for themselves."))
    if not rider.can_claim_posts():
        raise Conflict(
            _("Your registration must be verified before you can claim a post."),
            code="not_verified",
        )
    if post.community_id != rider.community_id:
        raise ApplicationError(
            _("You can only claim posts in the community you registered with."),
            code="other_community",
            field="post",
        )
    post = Post.objects.select_for_update().get(pk=post.pk)
    if not post.is_open:
        raise Conflict(_("This post is not taking claims."), code="post_closed")
    if post.is_full:
        raise Conflict(_("This post is full."), code="post_full")
    if PostClaim.objects.filter(
        post=post, rider=rider, status__in=["pending", "approved"]
    ).exists():
        raise Conflict(_("You have already claimed this post."), code="already_claimed")
    try:
        with transaction.atomic():
            claim = PostClaim.objects.create(
                post=post, rider=rider, area_code=post.area_code, note=(note or "")[:200]
            )
    except IntegrityError:
        raise Conflict(_("You have already claimed this post."), code="already_claimed") from None
    log_action(actor=actor, action="post.claimed", target=claim, data={"post": post.kind})
    return claim


def _lock_pending_claim(claim: PostClaim, actor: Any) -> PostClaim:
    require(actor, Action.OPERATE, claim)
    claim = PostClaim.objects.select_for_update().select_related("post", "rider").get(pk=claim.pk)
    if not claim.can_decide():
        raise Conflict(
            _("This claim has already been decided (%(status)s).")
            % {"status": claim.get_status_display()},
            code="already_decided",
        )
    return claim


@transaction.atomic
def post_claim_approve(*, claim: PostClaim, actor: Any) -> PostClaim:
    claim = _lock_pending_claim(claim, actor)
    taken = Post.objects.filter(pk=claim.post_id, holders__lt=F("capacity")).update(
        holders=F("holders") + 1
    )
    if not taken:
        raise Conflict(_("This post is full."), code="post_full")
    claim.status = ClaimStatus.APPROVED
    claim.decided_by = actor
    claim.decided_at = timezone.now()
    claim.save()
    log_action(actor=actor, action="post.claim_approved", target=claim)
    _place_rider(RiderProfile.objects.select_for_update().get(pk=claim.rider_id), actor)
    return claim


@transaction.atomic
def post_claim_reject(*, claim: PostClaim, actor: Any, reason: str = "") -> PostClaim:
    claim = _lock_pending_claim(claim, actor)
    claim.status = ClaimStatus.REJECTED
    claim.reason = (reason or "").strip()[:200]
    claim.decided_by = actor
    claim.decided_at = timezone.now()
    claim.save()
    log_action(
        actor=actor, action="post.claim_rejected", target=claim, data={"reason": claim.reason}
    )
    return claim


@transaction.atomic
def post_claim_withdraw(*, claim: PostClaim, actor: Any) -> PostClaim:
    """The rider gives up a claim (pending) or a post they hold (approved)."""
    if actor is None or actor.pk != claim.rider.user_id:
        raise Forbidden(_("Only the rider can withdraw their claim."))
    claim = PostClaim.objects.select_for_update().get(pk=claim.pk)
    if not claim.can_withdraw():
        raise Conflict(_("This claim is already closed."), code="already_closed")
    if claim.status == ClaimStatus.APPROVED:
        Post.objects.filter(pk=claim.post_id, holders__gt=0).update(holders=F("holders") - 1)
    claim.status = ClaimStatus.WITHDRAWN
    claim.save()
    log_action(actor=actor, action="post.claim_withdrawn", target=claim)
    return claim


# --- teams (服务队) ---------------------------------------------------------------------------


@transaction.atomic
def team_create(*, name: str, area: Any, actor: Any, description: str = "") -> Team:
    if not isinstance(area, Area):
        raise ApplicationError(_("Please choose an area for the team."), field="area")
    require(actor, Action.OPERATE, area)
    name = _check_name(name, max_length=100)
    if Team.objects.filter(area=area, name=name).exists():
        raise Conflict(_("A team with this name already exists here."), code="team_exists")
    team = Team.objects.create(name=name, area=area, description=(description or "")[:300])
    log_action(actor=actor, action="team.created", target=team, data={"name": name})
    return team


@transaction.atomic
def team_add_member(
    *, team: Team, rider: RiderProfile, actor: Any, leader: bool = False
) -> TeamMembership:
    require(actor, Action.CONFIGURE, team)
    require(actor, Action.OPERATE, rider)
    if rider.status != RegistrationStatus.VERIFIED:
        raise Conflict(_("Only verified riders can join a team."), code="not_verified")
    if not rider.area_code.startswith(team.area_code):
        raise ApplicationError(
            _("The rider does not work within this team's area."), code="outside_area"
        )
    if TeamMembership.objects.filter(team=team, rider=rider).exists():
        raise Conflict(_("The rider is already in this team."), code="already_member")
    membership = TeamMembership.objects.create(team=team, rider=rider, area_code=team.area_code)
    log_action(actor=actor, action="team.member_added", target=team, data={"rider": rider.pk})
    if leader:
        team_set_leader(team=team, rider=rider, actor=actor)
        membership.refresh_from_db()
    return membership


@transaction.atomic
def team_remove_member(*, membership: TeamMembership, actor: Any) -> None:
    team = membership.team
    require(actor, Action.CONFIGURE, team)
    if team.leader_id == membership.rider_id:
        Team.objects.filter(pk=team.pk).update(leader=None)
    log_action(
        actor=actor, action="team.member_removed", target=team, data={"rider": membership.rider_id}
    )
    membership.delete()


@transaction.atomic
def team_set_leader(*, team: Team, rider: RiderProfile, actor: Any) -> Team:
    require(actor, Action.CONFIGURE, team)
    team = Team.objects.select_for_update().get(pk=team.pk)
    if not TeamMembership.objects.filter(team=team, rider=rider).exists():
        raise ApplicationError(_("The leader must be a member of the team."), code="not_member")
    TeamMembership.objects.filter(team=team).update(role=MemberRole.MEMBER)
    TeamMembership.objects.filter(team=team, rider=rider).update(role=MemberRole.LEADER)
    team.leader = rider
    team.save()
    log_action(actor=actor, action="team.leader_set", target=team, data={"rider": rider.pk})
    return team


# --- API tokens ------------------------------------------------------------------------------


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_issue(
    *,
    user: User,
    name: str = "",
    scope: str = TokenScope.WRITE,
    expires_at: Any = None,
) -> tuple[ApiToken, str]:
    """A new bearer token; the raw value is returned once and never stored.

    ``scope`` is ``read`` (GET only) or ``write`` (everything the account may do);
    ``expires_at`` defaults to ``API_TOKEN_TTL_DAYS`` from now."""
    _check_choice(scope, TokenScope, "scope", _("scope"))
    raw = "yz_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=(name or "")[:100],
        scope=scope,
        prefix=raw[:8],
        key_hash=token_hash(raw),
        expires_at=expires_at or timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    log_action(
        actor=user,
        action="token.issued",
        target=token,
        area_code=user.area_code,
        data={"scope": scope, "expires_at": token.expires_at.isoformat()},
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    require(actor, Action.OPERATE, token)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    log_action(actor=actor, action="token.revoked", target=token, area_code=actor.area_code)
    token.refresh_from_db()
    return token


def token_lookup(raw: str) -> ApiToken | None:
    """The live token with this raw value (not revoked, not expired, active account), or None."""
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_authenticate(raw: str) -> User | None:
    token = token_lookup(raw)
    return token.user if token is not None else None


@transaction.atomic
def staff_set_on_duty(*, user: Any, on_duty: bool) -> Any:
    """A staff member starts or ends their duty (urgent alerts go to those on duty first)."""
    if not is_authenticated(user):
        raise Unauthenticated(_("Please log in first."))
    if user.role not in CONSOLE_ROLES:
        raise Forbidden(_("Only staff go on duty."), code="not_staff")
    on_duty = bool(on_duty)
    if user.on_duty != on_duty:
        User.objects.filter(pk=user.pk).update(on_duty=on_duty)
        user.on_duty = on_duty
        log_action(actor=user, action="staff.on_duty" if on_duty else "staff.off_duty", target=user)
    return user


# --- consent (PIPL) ------------------------------------------------------------------------------


def _consent_owner(user: Any, actor: Any) -> User:
    if not is_authenticated(actor):
        raise Unauthenticated(_("Please log in first."))
    if actor.pk != user.pk:
        raise Forbidden(_("Only the account holder can give or withdraw their consent."))
    return User.objects.select_for_update().get(pk=user.pk)  # one change at a time per account


@transaction.atomic
def consent_give(*, user: Any, actor: Any, kind: str, source: str = ConsentSource.PAGE) -> Consent:
    """Agree to the current privacy notice, or to the use of location (which needs the first).

    Giving again what is already in force changes nothing and returns the row in force.
    """
    _check_choice(kind, ConsentKind, "kind", _("consent"))
    _consent_owner(user, actor)
    version = current_notice().version
    open_rows = Consent.objects.filter(user=user, withdrawn_at__isnull=True)
    if (
        kind == ConsentKind.LOCATION
        and not open_rows.filter(kind=ConsentKind.PRIVACY, notice_version=version).exists()
    ):
        raise Conflict(
            _("Please agree to the current privacy notice first."),
            code="privacy_consent_required",
            field="kind",
        )
    if kind == ConsentKind.LOCATION:
        # One location consent in force, whatever version it was given under.
        existing = open_rows.filter(kind=kind).first()
    else:
        existing = open_rows.filter(kind=kind, notice_version=version).first()
    if existing is not None:
        return existing
    now = timezone.now()
    consent = Consent.objects.create(
        user=user,
        kind=kind,
        notice_version=version,
        given_at=now,
        source=source if source in ConsentSource.values else ConsentSource.PAGE,
    )
    if kind == ConsentKind.PRIVACY:
        # consent_at: when the privacy consent in force was given.
        RiderProfile.objects.filter(user=user).update(consent_at=now)
    log_action(
        actor=actor,
        action="consent.given",
        target=user,
        area_code=user.area_code,
        data={"kind": kind, "version": version, "source": consent.source, "consent": consent.pk},
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *, user: Any, actor: Any, kind: str, source: str = ConsentSource.PAGE
) -> list[str]:
    """Withdraw consent of one kind (every version in force). Withdrawing the privacy consent
    withdraws the location consent too (it rests on it). Returns the kinds withdrawn; nothing
    in force is not an error (a repeated tap changes nothing)."""
    _check_choice(kind, ConsentKind, "kind", _("consent"))
    _consent_owner(user, actor)
    kinds = [ConsentKind.PRIVACY, ConsentKind.LOCATION] if kind == ConsentKind.PRIVACY else [kind]
    now = timezone.now()
    withdrawn: list[str] = []
    for each in kinds:
        rows = Consent.objects.filter(user=user, kind=each, withdrawn_at__isnull=True)
        versions = sorted(rows.values_list("notice_version", flat=True))
        if rows.update(withdrawn_at=now):
            withdrawn.append(str(each))
            log_action(
                actor=actor,
                action="consent.withdrawn",
                target=user,
                area_code=user.area_code,
                data={"kind": str(each), "versions": versions, "source": source},
            )
    return withdrawn


# --- unmasking a phone number ---------------------------------------------------------------------


def _check_unmask_reason(reason: Any, note: Any) -> tuple[str, str]:
    reason = reason if isinstance(reason, str) else ""
    if reason not in UnmaskReason.values:
        raise ApplicationError(
            _("Please choose why you need the full number."), code="reason_required", field="reason"
        )
    note = (note if isinstance(note, str) else "").strip()
    if not note:
        raise ApplicationError(
            _("Please say in a few words why you need the full number."),
            code="note_required",
            field="note",
        )
    if len(note) > 200:
        raise ApplicationError(
            _("The explanation is too long (at most %(n)s characters).") % {"n": 200},
            code="too_long",
            field="note",
        )
    return reason, note


@transaction.atomic
def rider_phone_unmask(*, rider: RiderProfile, actor: Any, reason: Any, note: Any) -> str:
    """A rider's full phone number for staff who may act on the rider (their area's staff and
    the admins above), with a reason, written to the audit log as ``unmask`` (who: the actor,
    whose: the rider, when: the entry's time, why: reason and note).

    The rider asking for their own number gets it with no reason and no log entry: that is not
    an unmasking.
    """
    if is_authenticated(actor) and actor.pk == rider.user_id:
        return rider.user.phone
    require(actor, Action.OPERATE, rider)
    reason, note = _check_unmask_reason(reason, note)
    ratelimit.hit("unmask", f"user:{actor.pk}")
    phone = rider.user.phone
    if not phone:
        raise Conflict(
            _("This number cannot be read (no number, or it was stored with a key no longer set)."),
            code="phone_unavailable",
        )
    log_action(
        actor=actor,
        action="unmask",
        target=rider,
        data={"field": "phone", "reason": reason, "note": note, "user": rider.user_id},
    )
    return phone
