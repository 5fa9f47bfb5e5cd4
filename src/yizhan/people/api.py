"""People API: tokens, my account, registration (社区报到), riders, posts, claims, teams."""

from __future__ import annotations

from datetime import date, datetime

from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import area_by_code
from yizhan.core import ratelimit
from yizhan.core.audit import history_for
from yizhan.core.errors import ApplicationError, Forbidden, Unauthenticated
from yizhan.core.pagination import YizhanPagination
from yizhan.core.permissions import Action, get_for_user, require, require_role, restrict
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.core.schemas import ERRORS, LIMITED, OkOut
from yizhan.people import security, selectors, services
from yizhan.people.choices import ConsentKind, ConsentSource, UnmaskReason
from yizhan.people.models import ApiToken, Post, PostClaim, RiderProfile, Team

router = Router(tags=["people"])
CONSOLE = tuple(CONSOLE_ROLES)


# --- schemas ---------------------------------------------------------------------------------


class AreaRef(Schema):
    code: str
    name: str


class TokenIn(Schema):
    username: str = Field(..., description="A phone number (riders) or a username (staff)")
    password: str
    name: str = Field("", description="A label for this client, e.g. the device")
    scope: str = Field("write", description="read (GET only) or write (every call)")
    ttl_days: int | None = Field(
        None, description="Days the token lives (default API_TOKEN_TTL_DAYS, at most the maximum)"
    )
    otp: str = Field(
        "",
        description="The two-factor code (6 digits, or a recovery code) for accounts that use it",
    )


class TokenOut(Schema):
    id: int
    token: str = Field(..., description="Shown once; send as `Authorization: Bearer <token>`")
    scope: str
    expires_at: datetime


class TokenInfo(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class MeOut(Schema):
    id: int
    name: str
    role: str
    phone: str
    area: AreaRef | None
    language: str
    is_rider: bool
    consent_required: bool = Field(
        False,
        description="A rider who has not agreed to the privacy notice in effect (a new version, "
        "or consent withdrawn): show GET /me/consents and ask them to agree",
    )


class LanguageIn(Schema):
    language: str = Field(..., description="zh-hans or en")


class RegisterIn(Schema):
    name: str = Field(..., max_length=50)
    phone: str = Field(..., description="11-digit mainland mobile number; +86 accepted")
    password: str
    community: str = Field(..., description="The 12-digit code of the community (社区)")
    platform: str = Field(..., description="meituan, eleme, sf, jd, dada, shansong, huolala, …")
    occupation: str = Field(..., description="food_delivery, courier, ride_hailing, freight, other")
    vehicle: str = Field(..., description="e_bike, e_motorbike, motorbike, tricycle, car, …")
    work_lat: float = Field(..., description="Usual work area, WGS-84 latitude")
    work_lng: float = Field(..., description="Usual work area, WGS-84 longitude")
    work_address: str = Field("", max_length=200)
    consent: bool = Field(
        False, description="The rider agreed to the privacy notice in effect (GET /me/consents)"
    )
    location_consent: bool = Field(
        False, description="Separate and optional: the rider agrees that their location is used"
    )


class PostRef(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")


class RiderOut(Schema):
    id: int
    name: str = Field(..., alias="user.name")
    phone: str
    platform: str
    occupation: str
    vehicle: str
    work_lat: float
    work_lng: float
    work_address: str
    community: AreaRef
    grid: AreaRef | None
    status: str
    rejection_reason: str
    created_at: datetime
    decided_at: datetime | None
    posts: list[PostRef]

    @staticmethod
    def resolve_phone(obj: RiderProfile, context) -> str:
        return selectors.phone_for(context["request"].user, obj)

    @staticmethod
    def resolve_posts(obj: RiderProfile) -> list:
        held = getattr(obj, "held_claims", None)
        if held is None:
            held = obj.claims.filter(status="approved").select_related("post")
        return [c.post for c in held]


class UnmaskIn(Schema):
    reason: str = Field(..., description=f"One of: {', '.join(UnmaskReason.values)}")
    note: str = Field(..., max_length=200, description="Why, in a few words (logged)")


class PhoneOut(Schema):
    rider_id: int
    phone: str


class NoticeOut(Schema):
    version: str
    effective: date
    url: str = Field(..., description="The notice as a page (Simplified Chinese or English)")
    changes: str = Field(..., description="What changed from the version before")


class ConsentStatusOut(Schema):
    notice: NoticeOut
    privacy: str = Field(..., description="current, outdated, withdrawn or none")
    privacy_version: str | None
    privacy_given_at: datetime | None
    location: bool = Field(..., description="Whether the location consent is in force")
    location_given_at: datetime | None
    needs_consent: bool = Field(..., description="Ask the rider to agree to the notice in effect")


class ConsentIn(Schema):
    kind: str = Field(..., description=f"One of: {', '.join(ConsentKind.values)}")


class ConsentOut(Schema):
    id: int
    kind: str
    notice_version: str
    given_at: datetime
    withdrawn_at: datetime | None
    source: str


class RejectIn(Schema):
    reason: str = Field(..., max_length=200)


class MoveIn(Schema):
    grid: str = Field(..., description="The 15-digit code of the grid")
    reason: str = Field("", max_length=200)


class PostOut(Schema):
    id: int
    community: AreaRef
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    description: str
    capacity: int
    holders: int
    is_open: bool


class PostIn(Schema):
    community: str = Field(..., description="The 12-digit community code")
    kind: str = Field(
        ..., description="grid_worker, civility, safety, mediator, elderly_aid, policy"
    )
    capacity: int
    description: str = Field("", max_length=300)


class PostPatch(Schema):
    capacity: int | None = None
    is_open: bool | None = None
    description: str | None = Field(None, max_length=300)


class ClaimIn(Schema):
    note: str = Field("", max_length=200)


class ClaimOut(Schema):
    id: int
    post: PostRef
    rider_id: int
    rider_name: str = Field(..., alias="rider.user.name")
    status: str
    note: str
    reason: str
    created_at: datetime
    decided_at: datetime | None


class ClaimRejectIn(Schema):
    reason: str = Field("", max_length=200)


class MemberOut(Schema):
    rider_id: int
    name: str = Field(..., alias="rider.user.name")
    role: str
    joined_at: datetime


class TeamOut(Schema):
    id: int
    name: str
    area: AreaRef
    description: str
    leader_id: int | None
    leader_name: str | None = None

    @staticmethod
    def resolve_leader_name(obj: Team) -> str | None:
        return obj.leader.user.name if obj.leader_id else None


class TeamDetailOut(TeamOut):
    members: list[MemberOut]

    @staticmethod
    def resolve_members(obj: Team) -> list:
        return list(selectors.team_members(obj))


class TeamIn(Schema):
    name: str = Field(..., max_length=100)
    area: str = Field(..., description="Code of the area the team belongs to")
    description: str = Field("", max_length=300)


class MemberIn(Schema):
    rider_id: int
    leader: bool = False


class LeaderIn(Schema):
    rider_id: int


class HistoryOut(Schema):
    action: str
    actor: str | None
    created_at: datetime
    data: dict

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None


# --- helpers ---------------------------------------------------------------------------------


def _rider(request, rider_id: int, action: Action = Action.VIEW) -> RiderProfile:
    return get_for_user(
        RiderProfile.objects.select_related("user", "community", "grid"),
        request.user,
        action,
        pk=rider_id,
    )


# --- tokens and my account -------------------------------------------------------------------


@router.post(
    "/auth/token",
    response={201: TokenOut, **LIMITED},
    auth=None,
    summary="Log in and get an API token (failed log-ins lock the account for a while)",
)
def token_create(request, payload: TokenIn):
    user = security.login_authenticate(
        request=request, username=payload.username, password=payload.password
    )
    if security.two_factor_needed(user):
        if not user.two_factor_enabled:
            raise Forbidden(
                _("Your account must set up two-factor log-in on the web site first."),
                code="two_factor_required",
            )
        if not payload.otp:
            raise Unauthenticated(
                _("Please send your two-factor code (otp) too."), code="otp_required"
            )
        security.two_factor_verify(user=user, code=payload.otp)
    expires_at = security.token_expiry(payload.ttl_days)
    token, raw = services.token_issue(
        user=user, name=payload.name, scope=payload.scope, expires_at=expires_at
    )
    return Status(
        201, {"id": token.pk, "token": raw, "scope": token.scope, "expires_at": token.expires_at}
    )


@router.get("/auth/tokens", response={200: list[TokenInfo], **ERRORS}, summary="My API tokens")
@paginate(YizhanPagination)
def token_list(request):
    return restrict(ApiToken.objects.all(), request.user).order_by("-created_at")


@router.delete(
    "/auth/tokens/{token_id}", response={200: OkOut, **ERRORS}, summary="Revoke one of my tokens"
)
def token_delete(request, token_id: int):
    token = get_for_user(ApiToken, request.user, Action.OPERATE, pk=token_id)
    services.token_revoke(token=token, actor=request.user)
    return {"ok": True}


def _me(user) -> dict:
    is_rider = user.role == Role.RIDER
    return {
        "consent_required": is_rider and selectors.consent_status(user).needs_consent,
        "id": user.pk,
        "name": user.name,
        "role": user.role,
        "phone": user.phone,
        "area": user.area,
        "language": user.language,
        "is_rider": hasattr(user, "rider"),
    }


@router.get("/me", response={200: MeOut, **ERRORS}, summary="My account")
def me(request):
    return _me(request.user)


@router.put("/me/language", response={200: MeOut, **ERRORS}, summary="Set my language")
def me_language(request, payload: LanguageIn):
    services.user_set_language(user=request.user, language=payload.language)
    return _me(request.user)


# --- consent (隐私与授权) -----------------------------------------------------------------------


def _consent_out(request, user) -> dict:
    status = selectors.consent_status(user)
    notice = status.notice
    return {
        "notice": {
            "version": notice.version,
            "effective": notice.effective,
            "url": request.build_absolute_uri(
                f"{reverse('people:privacy')}?version={notice.version}"
            ),
            "changes": str(notice.changes),
        },
        "privacy": status.privacy,
        "privacy_version": status.privacy_version,
        "privacy_given_at": status.privacy_given_at,
        "location": status.location,
        "location_given_at": status.location_given_at,
        "needs_consent": status.needs_consent,
    }


@router.get(
    "/me/consents",
    response={200: ConsentStatusOut, **ERRORS},
    summary="The privacy notice in effect and my consents (riders)",
)
def consent_get(request):
    require_role(request.user, Role.RIDER)
    return _consent_out(request, request.user)


@router.get(
    "/me/consents/history",
    response={200: list[ConsentOut], **ERRORS},
    summary="Every consent I gave or withdrew, newest first (riders)",
)
@paginate(YizhanPagination)
def consent_history(request):
    require_role(request.user, Role.RIDER)
    return selectors.consents_of(request.user)


@router.post(
    "/me/consents",
    response={200: ConsentStatusOut, **ERRORS},
    summary="Agree to the privacy notice in effect, or to the use of my location (riders)",
)
def consent_give(request, payload: ConsentIn):
    require_role(request.user, Role.RIDER)
    services.consent_give(
        user=request.user, actor=request.user, kind=payload.kind, source=ConsentSource.API
    )
    return _consent_out(request, request.user)


@router.post(
    "/me/consents/withdraw",
    response={200: ConsentStatusOut, **ERRORS},
    summary="Withdraw my consent to the notice (ends the location consent too) or to location",
)
def consent_withdraw(request, payload: ConsentIn):
    require_role(request.user, Role.RIDER)
    services.consent_withdraw(
        user=request.user, actor=request.user, kind=payload.kind, source=ConsentSource.API
    )
    return _consent_out(request, request.user)


# --- registration ------------------------------------------------------------------------------


@router.post(
    "/riders/register",
    response={201: RiderOut, **LIMITED},
    auth=None,
    summary="Register as a rider with a community (社区报到)",
)
def rider_register(request, payload: RegisterIn):
    ratelimit.hit_request("register", request, user=False, ip=True)
    community = area_by_code(payload.community, level=AreaLevel.COMMUNITY, field="community")
    rider = services.rider_register(
        name=payload.name,
        phone=payload.phone,
        password=payload.password,
        community=community,
        platform=payload.platform,
        occupation=payload.occupation,
        vehicle=payload.vehicle,
        work_lat=payload.work_lat,
        work_lng=payload.work_lng,
        work_address=payload.work_address,
        consent=payload.consent,
        location_consent=payload.location_consent,
        consent_source=ConsentSource.API,
    )
    request.user = rider.user  # the new rider may see their own full phone in the answer
    return Status(201, rider)


@router.get("/riders/me", response={200: RiderOut, **ERRORS}, summary="My rider profile")
def rider_me(request):
    return selectors.rider_of(request.user)


@router.post(
    "/riders/me/resubmit",
    response={200: RiderOut, **ERRORS},
    summary="Resubmit my rejected registration",
)
def rider_me_resubmit(request, community: str | None = None):
    rider = selectors.rider_of(request.user)
    area = (
        area_by_code(community, level=AreaLevel.COMMUNITY, field="community") if community else None
    )
    return services.rider_resubmit(rider=rider, actor=request.user, community=area)


@router.get(
    "/riders",
    response={200: list[RiderOut], **ERRORS},
    summary="Riders in my area (filter by status, area, platform, post; search name or phone)",
)
@paginate(YizhanPagination)
def rider_list(
    request,
    status: str | None = None,
    area: str | None = None,
    platform: str | None = None,
    post: str | None = None,
    q: str | None = None,
):
    require_role(request.user, *CONSOLE)
    return selectors.riders_for_user(
        request.user, status=status, area_code=area, platform=platform, post_kind=post, q=q
    )


@router.get("/riders/{rider_id}", response={200: RiderOut, **ERRORS}, summary="One rider")
def rider_get(request, rider_id: int):
    return _rider(request, rider_id)


@router.get(
    "/riders/{rider_id}/history",
    response={200: list[HistoryOut], **ERRORS},
    summary="Who did what to this registration, and when",
)
@paginate(YizhanPagination)
def rider_history(request, rider_id: int):
    require_role(request.user, *CONSOLE)
    return history_for(_rider(request, rider_id))


@router.post(
    "/riders/{rider_id}/verify", response={200: RiderOut, **ERRORS}, summary="Verify a registration"
)
def rider_verify(request, rider_id: int):
    rider = _rider(request, rider_id, Action.OPERATE)
    return services.rider_verify(rider=rider, actor=request.user)


@router.post(
    "/riders/{rider_id}/reject",
    response={200: RiderOut, **ERRORS},
    summary="Reject a registration with a reason",
)
def rider_reject(request, rider_id: int, payload: RejectIn):
    rider = _rider(request, rider_id, Action.OPERATE)
    return services.rider_reject(rider=rider, actor=request.user, reason=payload.reason)


@router.post(
    "/riders/{rider_id}/phone",
    response={200: PhoneOut, **LIMITED},
    summary="Show a rider's full phone number, for a reason (logged as an unmasking)",
)
def rider_phone(request, rider_id: int, payload: UnmaskIn):
    rider = _rider(request, rider_id)
    phone = services.rider_phone_unmask(
        rider=rider, actor=request.user, reason=payload.reason, note=payload.note
    )
    answer = JsonResponse({"rider_id": rider.pk, "phone": phone})
    answer["Cache-Control"] = "no-store"  # no proxy or browser cache keeps the number
    return answer


@router.post(
    "/riders/{rider_id}/move", response={200: RiderOut, **ERRORS}, summary="Move a rider to a grid"
)
def rider_move(request, rider_id: int, payload: MoveIn):
    rider = _rider(request, rider_id, Action.OPERATE)
    grid = area_by_code(payload.grid, level=AreaLevel.GRID, field="grid")
    return services.rider_move_grid(
        rider=rider, grid=grid, actor=request.user, reason=payload.reason
    )


# --- posts and claims ------------------------------------------------------------------------


@router.get(
    "/posts",
    response={200: list[PostOut], **ERRORS},
    auth=None,
    summary="Posts (岗位) offered by communities",
)
@paginate(YizhanPagination)
def post_list(request, community: str | None = None):
    return selectors.posts_for_user(request.user, community_code=community)


@router.post("/posts", response={201: PostOut, **ERRORS}, summary="Create a post in a community")
def post_create(request, payload: PostIn):
    require_role(request.user, *CONSOLE)
    community = area_by_code(payload.community, level=AreaLevel.COMMUNITY, field="community")
    post = services.post_create(
        community=community,
        kind=payload.kind,
        capacity=payload.capacity,
        description=payload.description,
        actor=request.user,
    )
    return Status(201, post)


@router.patch("/posts/{post_id}", response={200: PostOut, **ERRORS}, summary="Change a post")
def post_update(request, post_id: int, payload: PostPatch):
    post = get_for_user(Post.objects.select_related("community"), request.user, pk=post_id)
    return services.post_update(
        post=post,
        actor=request.user,
        capacity=payload.capacity,
        is_open=payload.is_open,
        description=payload.description,
    )


@router.post(
    "/posts/{post_id}/claim", response={201: ClaimOut, **ERRORS}, summary="Claim a post (rider)"
)
def post_claim(request, post_id: int, payload: ClaimIn | None = None):
    rider = selectors.rider_of(request.user)
    post = get_for_user(Post, request.user, pk=post_id)
    claim = services.post_claim(
        rider=rider, post=post, actor=request.user, note=payload.note if payload else ""
    )
    return Status(201, claim)


def _claim(request, claim_id: int, action: Action = Action.VIEW) -> PostClaim:
    return get_for_user(
        PostClaim.objects.select_related("post", "rider__user"), request.user, action, pk=claim_id
    )


@router.get(
    "/claims",
    response={200: list[ClaimOut], **ERRORS},
    summary="Post claims: my own (rider) or those in my area (staff)",
)
@paginate(YizhanPagination)
def claim_list(request, status: str | None = None):
    return selectors.claims_for_user(request.user, status=status)


@router.post(
    "/claims/{claim_id}/approve", response={200: ClaimOut, **ERRORS}, summary="Approve a claim"
)
def claim_approve(request, claim_id: int):
    claim = _claim(request, claim_id, Action.OPERATE)
    return services.post_claim_approve(claim=claim, actor=request.user)


@router.post(
    "/claims/{claim_id}/reject", response={200: ClaimOut, **ERRORS}, summary="Reject a claim"
)
def claim_reject(request, claim_id: int, payload: ClaimRejectIn):
    claim = _claim(request, claim_id, Action.OPERATE)
    return services.post_claim_reject(claim=claim, actor=request.user, reason=payload.reason)


@router.post(
    "/claims/{claim_id}/withdraw",
    response={200: ClaimOut, **ERRORS},
    summary="Withdraw my claim or give up my post",
)
def claim_withdraw(request, claim_id: int):
    claim = _claim(request, claim_id)
    return services.post_claim_withdraw(claim=claim, actor=request.user)


# --- teams -----------------------------------------------------------------------------------


def _team(request, team_id: int) -> Team:
    return get_for_user(
        Team.objects.select_related("area", "leader__user"), request.user, pk=team_id
    )


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, summary="Teams I may see")
@paginate(YizhanPagination)
def team_list(request):
    return selectors.teams_for_user(request.user)


@router.post("/teams", response={201: TeamDetailOut, **ERRORS}, summary="Create a team")
def team_create(request, payload: TeamIn):
    require_role(request.user, *CONSOLE)
    area = area_by_code(payload.area, level="", field="area")
    team = services.team_create(
        name=payload.name, area=area, description=payload.description, actor=request.user
    )
    return Status(201, team)


@router.get("/teams/{team_id}", response={200: TeamDetailOut, **ERRORS}, summary="One team")
def team_get(request, team_id: int):
    return _team(request, team_id)


@router.post(
    "/teams/{team_id}/members", response={201: TeamDetailOut, **ERRORS}, summary="Add a member"
)
def team_add(request, team_id: int, payload: MemberIn):
    team = _team(request, team_id)
    require(request.user, Action.CONFIGURE, team)
    rider = _rider(request, payload.rider_id, Action.OPERATE)
    services.team_add_member(team=team, rider=rider, actor=request.user, leader=payload.leader)
    return Status(201, _team(request, team_id))


@router.delete(
    "/teams/{team_id}/members/{rider_id}",
    response={200: TeamDetailOut, **ERRORS},
    summary="Remove a member",
)
def team_remove(request, team_id: int, rider_id: int):
    team = _team(request, team_id)
    membership = team.memberships.filter(rider_id=rider_id).select_related("team").first()
    if membership is None:
        raise ApplicationError(_("The rider is not in this team."), code="not_member", status=404)
    services.team_remove_member(membership=membership, actor=request.user)
    return _team(request, team_id)


@router.put(
    "/teams/{team_id}/leader", response={200: TeamDetailOut, **ERRORS}, summary="Set leader"
)
def team_leader(request, team_id: int, payload: LeaderIn):
    team = _team(request, team_id)
    require(request.user, Action.CONFIGURE, team)
    rider = _rider(request, payload.rider_id)
    services.team_set_leader(team=team, rider=rider, actor=request.user)
    return _team(request, team_id)
