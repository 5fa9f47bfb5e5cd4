"""Load the demo street through the services, step by step, in one transaction.

``load_demo()`` runs :data:`STEPS` in order; each step takes the :class:`DemoContext` (what the
earlier steps made, by key) and writes through the app services with a staff actor wherever the
service takes one, exactly as the console would. A later part of the demo (stations, points,
reports …) is one more step appended to :data:`STEPS`.

Everything happens inside one ``transaction.atomic``: an interrupted load leaves nothing behind.
The data are fixed (``data.py``) or drawn with a seeded random (``generate.py``), so every load
writes the same demo; only the timestamps and the riders' internal usernames (set by the
services) differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import transaction

from yizhan.areas.models import Area
from yizhan.areas.services import area_create
from yizhan.core.models import AuditEntry
from yizhan.demo import data
from yizhan.demo.generate import DemoPlan, build_plan
from yizhan.people.choices import ClaimStatus, RegistrationStatus
from yizhan.people.models import Department, Post, PostClaim, RiderProfile, Team, User
from yizhan.people.services import (
    account_create,
    department_create,
    post_claim,
    post_claim_approve,
    post_create,
    rider_register,
    rider_reject,
    rider_verify,
    team_add_member,
    team_create,
)


class DemoModeOff(Exception):
    """Raised when the demo is loaded without ``settings.DEMO_MODE``: its passwords are public."""


class DemoState(StrEnum):
    ABSENT = "absent"  # nothing of the demo in the database
    LOADED = "loaded"  # the demo is there
    CONFLICT = "conflict"  # part of it, or other data under the demo's codes


@dataclass
class DemoContext:
    """What the steps have made so far, by key, for the next steps to use."""

    plan: DemoPlan
    areas: dict[str, Area] = field(default_factory=dict)  # by code
    accounts: dict[str, User] = field(default_factory=dict)  # by AccountSpec.key
    departments: dict[str, Department] = field(default_factory=dict)
    posts: dict[tuple[str, str], Post] = field(default_factory=dict)  # (community, kind)
    riders: dict[str, RiderProfile] = field(default_factory=dict)  # by RiderSpec.key
    teams: dict[str, Team] = field(default_factory=dict)

    def staff_of(self, community_code: str) -> User:
        return self.accounts[data.COMMUNITY_STAFF[community_code]]


def _password(spec: data.AccountSpec) -> str | None:
    return data.DEMO_PASSWORD if spec.showcase else None


# --- steps -----------------------------------------------------------------------------------


def load_district(ctx: DemoContext) -> None:
    """The district and its administrator: the platform operator's bootstrap (no actor)."""
    spec = data.DISTRICT
    district = area_create(level=spec.level, code=spec.code, name=spec.name, address=spec.address)
    ctx.areas[spec.code] = district
    admin = next(a for a in data.ACCOUNTS if a.created_by is None)
    ctx.accounts[admin.key] = account_create(
        username=admin.username,
        name=admin.name,
        role=admin.role,
        area=district,
        password=_password(admin),
    )


def load_areas(ctx: DemoContext) -> None:
    """Streets, communities and grids, drawn by the district administrator."""
    actor = ctx.accounts["district_admin"]
    for spec in [*data.STREETS, *data.COMMUNITIES, *data.GRIDS]:
        ctx.areas[spec.code] = area_create(
            level=spec.level,
            code=spec.code,
            name=spec.name,
            parent=ctx.areas[spec.code[:-3]],
            boundary=spec.boundary,
            address=spec.address,
            actor=actor,
        )


def load_accounts(ctx: DemoContext) -> None:
    """Street admins, community staff, a grid worker, a department and its handler, a merchant
    and a volunteer, each created by the administrator above them."""
    departments = {d.key: d for d in data.DEPARTMENTS}
    for spec in data.ACCOUNTS:
        if spec.created_by is None:
            continue
        if spec.department and spec.department not in ctx.departments:
            department = departments[spec.department]
            ctx.departments[department.key] = department_create(
                name=department.name,
                area=ctx.areas[department.area_code],
                actor=ctx.accounts[department.created_by],
            )
        ctx.accounts[spec.key] = account_create(
            username=spec.username,
            name=spec.name,
            role=spec.role,
            area=ctx.areas[spec.area_code],
            password=_password(spec),
            department=ctx.departments[spec.department] if spec.department else None,
            actor=ctx.accounts[spec.created_by],
        )


def load_posts(ctx: DemoContext) -> None:
    """The six governance posts in every community, created by its staff."""
    for community, plan in data.PLAN.items():
        for kind, capacity in plan.capacities.items():
            ctx.posts[(community, kind)] = post_create(
                community=ctx.areas[community],
                kind=kind,
                capacity=capacity,
                description=data.POST_DUTIES[kind],
                actor=ctx.staff_of(community),
            )


def load_riders(ctx: DemoContext) -> None:
    """社区报到: every rider registers; community staff verify most and reject one."""
    for spec in ctx.plan.riders:
        rider = rider_register(
            name=spec.name,
            phone=spec.phone,
            password=spec.password,
            community=ctx.areas[spec.community],
            platform=spec.platform,
            occupation=spec.occupation,
            vehicle=spec.vehicle,
            work_lat=spec.lat,
            work_lng=spec.lng,
            work_address=spec.address,
            consent=True,
        )
        staff = ctx.staff_of(spec.community)
        if spec.status == RegistrationStatus.VERIFIED:
            rider = rider_verify(rider=rider, actor=staff)
        elif spec.status == RegistrationStatus.REJECTED:
            rider = rider_reject(rider=rider, actor=staff, reason=spec.reason)
        ctx.riders[spec.key] = rider


def load_claims(ctx: DemoContext) -> None:
    """Riders claim posts; staff approve the held ones (就近原则 places the rider in their grid)
    and leave the pending ones for the demo's staff to decide."""
    for spec in ctx.plan.riders:
        rider = ctx.riders[spec.key]
        staff = ctx.staff_of(spec.community)
        for kind in spec.posts:
            claim = post_claim(
                rider=rider, post=ctx.posts[(spec.community, kind)], actor=rider.user
            )
            post_claim_approve(claim=claim, actor=staff)
        for kind in spec.pending_claims:
            post_claim(rider=rider, post=ctx.posts[(spec.community, kind)], actor=rider.user)
        if spec.posts:
            rider.refresh_from_db()  # now placed in a grid


def load_teams(ctx: DemoContext) -> None:
    """爱心骑手队 and 清远骑士志愿服务队, with their leaders."""
    for team_plan in ctx.plan.teams:
        spec = team_plan.spec
        actor = ctx.accounts[spec.created_by]
        team = team_create(
            name=spec.name,
            area=ctx.areas[spec.area_code],
            description=spec.description,
            actor=actor,
        )
        for key in team_plan.members:
            team_add_member(
                team=team, rider=ctx.riders[key], actor=actor, leader=key == team_plan.leader
            )
        team.refresh_from_db()
        ctx.teams[spec.key] = team


Step = Callable[[DemoContext], None]

#: The demo, in order. Append a step to extend it (stations, points, reports …).
STEPS: list[Step] = [
    load_district,
    load_areas,
    load_accounts,
    load_posts,
    load_riders,
    load_claims,
    load_teams,
]


# --- entry points ----------------------------------------------------------------------------


def demo_state() -> DemoState:
    """Whether the demo is in the database: its district and its district admin both exist."""
    has_district = Area.objects.filter(code=data.DISTRICT.code).exists()
    has_marker = User.objects.filter(username=data.MARKER_USERNAME).exists()
    if has_district and has_marker:
        return DemoState.LOADED
    if has_district or has_marker:
        return DemoState.CONFLICT
    return DemoState.ABSENT


@transaction.atomic
def load_demo() -> DemoContext:
    """Write the whole demo, all or nothing. Only in demo mode (its passwords are public).

    Raises ``DemoModeOff`` outside demo mode and ``ApplicationError`` when a service refuses
    (say, a demo phone number is already registered); either way nothing is written.
    """
    if not settings.DEMO_MODE:
        raise DemoModeOff("The demo is loaded only in demo mode (YIZHAN_DEMO=1).")
    ctx = DemoContext(plan=build_plan())
    for step in STEPS:
        step(ctx)
    return ctx


def demo_counts() -> dict[str, int]:
    """What the demo holds, counted in the database (beneath the demo's district)."""
    code = data.DISTRICT.code
    areas = Area.objects.filter(code__startswith=code)
    riders = RiderProfile.objects.filter(area_code__startswith=code)
    claims = PostClaim.objects.filter(area_code__startswith=code)
    return {
        "districts": areas.filter(level="district").count(),
        "streets": areas.filter(level="street").count(),
        "communities": areas.filter(level="community").count(),
        "grids": areas.filter(level="grid").count(),
        "riders_verified": riders.filter(status=RegistrationStatus.VERIFIED).count(),
        "riders_pending": riders.filter(status=RegistrationStatus.PENDING).count(),
        "riders_rejected": riders.filter(status=RegistrationStatus.REJECTED).count(),
        "posts": Post.objects.filter(area_code__startswith=code).count(),
        "claims_approved": claims.filter(status=ClaimStatus.APPROVED).count(),
        "claims_pending": claims.filter(status=ClaimStatus.PENDING).count(),
        "teams": Team.objects.filter(area_code__startswith=code).count(),
        "departments": Department.objects.filter(area_code__startswith=code).count(),
        "accounts": User.objects.filter(area_code__startswith=code).exclude(role="rider").count(),
        "audit_entries": AuditEntry.objects.filter(area_code__startswith=code).count(),
    }
