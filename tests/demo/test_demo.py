"""The demo street: what a load holds, its geometry, determinism, idempotency and log-ins.

The demo is loaded once for the whole module (twice in fact: the first load is rolled back, to
compare two loads into an empty database) inside a transaction that is rolled back at the end;
each test runs in a savepoint within it.
"""

from collections import Counter
from dataclasses import dataclass
from io import StringIO
from itertools import combinations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from shapely.geometry import shape

from yizhan.areas.geometry import parse_boundary
from yizhan.areas.models import Area
from yizhan.areas.selectors import grid_for_point
from yizhan.core.models import AuditEntry
from yizhan.demo import data
from yizhan.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from yizhan.demo.generate import build_plan
from yizhan.demo.loader import DemoState, demo_counts, demo_state, load_demo
from yizhan.people.choices import ClaimStatus, MemberRole, PostKind, RegistrationStatus
from yizhan.people.models import Department, Post, PostClaim, RiderProfile, Team, User
from yizhan.people.validation import normalise_phone_or_none

DISTRICT = data.DISTRICT.code


def snapshot() -> dict:
    """Everything a load writes that should come out the same every time (no ids, no times)."""
    riders = RiderProfile.objects.select_related("user", "community", "grid")
    claims = PostClaim.objects.select_related("rider__user", "post")
    teams = Team.objects.select_related("leader__user").prefetch_related("memberships__rider__user")
    return {
        "areas": [
            (a.code, a.level, a.name, a.parent.code if a.parent else "", a.boundary, a.address)
            for a in Area.objects.select_related("parent").order_by("code")
        ],
        "accounts": sorted(
            (u.username, u.name, u.role, u.area_code, u.department.name if u.department else "")
            for u in User.objects.exclude(role="rider").select_related("department")
        ),
        "riders": sorted(
            (
                r.user.name,
                r.user.phone,
                r.platform,
                r.occupation,
                r.vehicle,
                r.work_lat,
                r.work_lng,
                r.work_address,
                r.status,
                r.rejection_reason,
                r.community.code,
                r.grid.code if r.grid else "",
                r.user.has_usable_password(),
            )
            for r in riders
        ),
        "posts": sorted(
            Post.objects.values_list("area_code", "kind", "capacity", "holders", "description")
        ),
        "claims": sorted(
            (c.rider.user.phone, c.post.area_code, c.post.kind, c.status) for c in claims
        ),
        "teams": sorted(
            (
                t.name,
                t.area_code,
                t.leader.user.phone,
                sorted((m.rider.user.phone, m.role) for m in t.memberships.all()),
            )
            for t in teams
        ),
        "audit": Counter(AuditEntry.objects.values_list("action", flat=True)),
    }


@dataclass
class Loaded:
    first: dict  # a load into an empty database, rolled back
    second: dict  # the load the tests look at


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        before = transaction.savepoint()
        load_demo()
        first = snapshot()
        transaction.savepoint_rollback(before)
        assert not Area.objects.exists() and not User.objects.exists()
        load_demo()
        yield Loaded(first=first, second=snapshot())
        transaction.set_rollback(True)


@pytest.fixture
def loaded(demo, db):
    return demo


def verified_riders():
    return RiderProfile.objects.filter(status=RegistrationStatus.VERIFIED).select_related(
        "user", "community", "grid"
    )


# --- what a load holds -----------------------------------------------------------------------


def test_the_area_tree(loaded):
    areas = Area.objects.filter(code__startswith=DISTRICT)
    district = areas.get(level="district")
    assert (district.code, district.name) == ("140213", "平城区")
    streets = {a.name: a for a in areas.filter(level="street")}
    assert set(streets) == {"清远街道", "永泰街道"}
    qingyuan_communities = areas.filter(level="community", parent=streets["清远街道"])
    assert "清远西街社区" in {c.name for c in qingyuan_communities}
    assert qingyuan_communities.count() >= 3
    assert areas.filter(level="community", parent=streets["永泰街道"]).count() >= 1
    assert areas.filter(level="grid").count() == 6
    for area in areas.exclude(level="district"):
        assert area.code[:-3] == area.parent.code and len(area.code) == len(area.parent.code) + 3
    for community in areas.filter(level="community"):
        assert community.children.count() >= 1, community.name


def test_fifty_six_verified_riders_each_holding_an_approved_post(loaded):
    riders = list(verified_riders())
    assert len(riders) == 56
    approved = Counter(
        PostClaim.objects.filter(status=ClaimStatus.APPROVED).values_list("rider_id", flat=True)
    )
    assert all(approved[r.pk] >= 1 for r in riders)
    assert all(r.grid is not None and r.grid.parent_id == r.community_id for r in riders)
    kinds = set(
        PostClaim.objects.filter(status=ClaimStatus.APPROVED).values_list("post__kind", flat=True)
    )
    assert kinds == set(PostKind.values)


def test_pending_and_rejected_registrations(loaded):
    pending = RiderProfile.objects.filter(status=RegistrationStatus.PENDING)
    assert 3 <= pending.count() <= 5
    assert not pending.filter(grid__isnull=False).exists()
    rejected = RiderProfile.objects.get(status=RegistrationStatus.REJECTED)
    assert rejected.rejection_reason == data.REJECTED["reason"]
    assert rejected.decided_by.username == "qingyuanxijie-staff"


def test_posts_fit_their_capacity_and_pending_claims_can_be_approved(loaded):
    posts = Post.objects.filter(area_code__startswith=DISTRICT)
    assert posts.count() == 6 * len(data.COMMUNITIES)
    for post in posts:
        approved = post.claims.filter(status=ClaimStatus.APPROVED).count()
        pending = post.claims.filter(status=ClaimStatus.PENDING).count()
        assert post.holders == approved
        assert approved + pending <= post.capacity, post
    pending = PostClaim.objects.filter(status=ClaimStatus.PENDING)
    assert 3 <= pending.count() <= 6
    assert all(c.rider.status == RegistrationStatus.VERIFIED for c in pending)


def test_teams_with_leaders(loaded):
    aixin = Team.objects.get(name="爱心骑手队")
    assert aixin.leader.user.name == data.SHOWCASE_RIDER.name
    assert aixin.memberships.count() >= 5
    assert aixin.memberships.get(role=MemberRole.LEADER).rider == aixin.leader
    qishi = Team.objects.get(name="清远骑士志愿服务队")
    assert qishi.area_code == data.QINGYUAN
    assert qishi.memberships.count() == 15
    assert qishi.leader is not None
    for team in (aixin, qishi):
        for membership in team.memberships.select_related("rider"):
            assert membership.rider.status == RegistrationStatus.VERIFIED
            assert membership.rider.area_code.startswith(team.area_code)


def test_staff_at_every_level(loaded):
    def accounts(role, level):
        return User.objects.filter(role=role, area__level=level)

    assert accounts("admin", "district").get().area_code == DISTRICT
    assert set(accounts("admin", "street").values_list("area_code", flat=True)) == {
        s.code for s in data.STREETS
    }
    assert set(accounts("staff", "community").values_list("area_code", flat=True)) == {
        c.code for c in data.COMMUNITIES
    }
    assert accounts("staff", "grid").exists()
    handler = User.objects.get(role="handler")
    assert isinstance(handler.department, Department)
    assert handler.department.area_code == handler.area_code == data.QINGYUAN
    assert User.objects.filter(role="merchant").count() == 1
    assert User.objects.filter(role="volunteer").count() == 1


def test_riders_look_real(loaded):
    riders = list(RiderProfile.objects.select_related("user"))
    names = [r.user.name for r in riders]
    phones = [r.user.phone for r in riders]
    assert len(set(names)) == len(names)
    assert all(2 <= len(n) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)
    assert len(set(phones)) == len(phones)
    assert all(normalise_phone_or_none(p) == p for p in phones)
    assert len({r.platform for r in riders}) >= 5
    assert {"meituan", "eleme"} <= {r.platform for r in riders}
    assert all(r.work_address for r in riders)


# --- geometry --------------------------------------------------------------------------------


def test_every_rider_works_inside_their_grid(loaded):
    for rider in verified_riders():
        assert grid_for_point(rider.work_lat, rider.work_lng) == rider.grid, rider.user.name
    for rider in RiderProfile.objects.exclude(status=RegistrationStatus.VERIFIED):
        assert grid_for_point(rider.work_lat, rider.work_lng) is not None


def test_boundaries_are_valid_and_grids_tile_their_communities(loaded):
    areas = Area.objects.filter(code__startswith=DISTRICT).exclude(boundary=None)
    shapes = {a.code: shape(parse_boundary(a.boundary)) for a in areas}
    assert all(s.is_valid and s.area > 0 for s in shapes.values())
    for level in ("community", "grid"):
        codes = [a.code for a in areas if a.level == level]
        for a, b in combinations(codes, 2):
            assert shapes[a].intersection(shapes[b]).area < 1e-12, (a, b)
    for community in areas.filter(level="community"):
        grids = [shapes[g.code] for g in community.children.all()]
        outline = shapes[community.code].buffer(1e-9)
        assert all(outline.covers(g) for g in grids)
        assert sum(g.area for g in grids) == pytest.approx(shapes[community.code].area)
        street = community.parent
        if street.code in shapes:
            assert shapes[street.code].buffer(1e-9).covers(shapes[community.code])
    grids = [shapes[a.code] for a in areas if a.level == "grid"]
    assert any(g.convex_hull.area > g.area * 1.01 for g in grids), "no concave grid"
    for s in shapes.values():  # around the real place, and [lng, lat]
        assert 113.2 < s.centroid.x < 113.4 and 40.0 < s.centroid.y < 40.2


# --- determinism and idempotency -------------------------------------------------------------


def test_two_loads_into_empty_databases_write_the_same_demo(loaded):
    assert loaded.first == loaded.second
    assert len(loaded.second["riders"]) == 61


def test_the_plan_is_the_same_on_every_build():
    assert build_plan.__wrapped__() == build_plan.__wrapped__() == build_plan()


def test_a_second_run_changes_nothing_and_prints_the_accounts(loaded):
    assert demo_state() == DemoState.LOADED
    before = (demo_counts(), AuditEntry.objects.count(), User.objects.count())
    out = StringIO()
    call_command("demo", stdout=out)
    assert (demo_counts(), AuditEntry.objects.count(), User.objects.count()) == before
    assert snapshot() == loaded.second
    text = out.getvalue()
    assert "already loaded" in text
    for account in DEMO_ACCOUNTS:
        assert account.login in text and account.name in text
    assert DEMO_PASSWORD in text


# --- accounts --------------------------------------------------------------------------------


def test_showcase_accounts_log_in_with_the_demo_password(loaded):
    assert len({a.role_en for a in DEMO_ACCOUNTS}) == len(DEMO_ACCOUNTS) == 9
    for account in DEMO_ACCOUNTS:
        user = authenticate(username=account.login, password=DEMO_PASSWORD)
        assert user is not None, account.login
        assert user.name == account.name
    rider = User.objects.get(name=data.SHOWCASE_RIDER.name).rider
    assert rider.status == RegistrationStatus.VERIFIED
    assert rider.claims.filter(status=ClaimStatus.APPROVED).exists()
    assert rider.memberships.filter(team__name="爱心骑手队").exists()
    pending = User.objects.get(name=data.SHOWCASE_PENDING.name).rider
    assert pending.status == RegistrationStatus.PENDING


def test_the_other_accounts_have_no_usable_password(loaded):
    showcase = {a.login for a in DEMO_ACCOUNTS}
    others = [
        u
        for u in User.objects.all()
        if u.username not in showcase and (u.phone not in showcase if u.phone else True)
    ]
    assert len(others) == User.objects.count() - len(DEMO_ACCOUNTS)
    assert not any(u.has_usable_password() for u in others)
    riders = [u for u in others if u.role == "rider"]
    assert len(riders) == 61 - 2
    for user in riders[:5]:
        assert authenticate(username=user.phone, password=DEMO_PASSWORD) is None
        assert authenticate(username=user.phone, password="") is None
