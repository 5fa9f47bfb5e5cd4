"""The demo street: what a load holds (areas, people, stations, points, reports), its geometry,
determinism, idempotency and log-ins.

The demo is loaded once for the whole module (twice in fact: the first load is rolled back, to
compare two loads into an empty database) inside a transaction that is rolled back at the end;
each test runs in a savepoint within it.
"""

import json
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import StringIO
from itertools import combinations
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from shapely.geometry import Point, shape

from yizhan.appeals.models import AgendaItem, Appeal, Decision, Delivery, Meeting
from yizhan.areas.geometry import parse_boundary
from yizhan.areas.models import Area
from yizhan.areas.selectors import grid_for_point
from yizhan.core.errors import ApplicationError
from yizhan.core.geo import haversine_m, wgs84_to_gcj02
from yizhan.core.models import AuditEntry, Holiday
from yizhan.core.workcalendar import add_working_days
from yizhan.demo import care_plan as cp
from yizhan.demo import data
from yizhan.demo import points_plan as pp
from yizhan.demo import reports_plan as rp
from yizhan.demo import stations_plan as sp
from yizhan.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from yizhan.demo.generate import build_plan
from yizhan.demo.loader import DemoState, demo_counts, demo_state, history_start, load_demo
from yizhan.duties.models import Duty, GiftCode
from yizhan.events.models import Distribution, DistributionItem, Event, Receipt, Signup
from yizhan.events.services import signup_create
from yizhan.honours.models import Nomination, Title
from yizhan.honours.selectors import period_of, record_of
from yizhan.notifications.models import Notification
from yizhan.people.choices import ClaimStatus, MemberRole, PostKind, RegistrationStatus
from yizhan.people.models import Department, Post, PostClaim, RiderProfile, Team, User
from yizhan.people.validation import normalise_phone_or_none
from yizhan.points.checks import scores_check
from yizhan.points.choices import AwardStatus, PostingKind
from yizhan.points.models import (
    EarningRule,
    ManualAward,
    PointsAccount,
    PointsSettings,
    Posting,
    SeasonScore,
)
from yizhan.points.selectors import balance_of, current_season, leaderboard, rank_of
from yizhan.points.services import points_award_approve, points_reconcile
from yizhan.reports import catalogue
from yizhan.reports.models import Category, Report, ReportEvent, ReportPhoto, Witness
from yizhan.reports.selectors import (
    department_cases,
    my_reports,
    overdue,
    reports_for_user,
    timeline,
)
from yizhan.reports.services import deadline_for
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock
from yizhan.rewards.services import redemption_reserve
from yizhan.stations import hours as hours_module
from yizhan.stations.hours import format_text
from yizhan.stations.models import ChecklistItem, Inspection, InspectionResult, Station, Visit
from yizhan.stations.selectors import hosted_by, nearby, nearby_query, people_served
from yizhan.stations.services import service_codes, services_mask
from yizhan.wishes.models import Wish
from yizhan.wishes.services import wish_claim

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
        **points_snapshot(),
        **reports_snapshot(),
        **care_snapshot(),
    }


def points_snapshot() -> dict:
    """Stations, rules, the ledger, scores and the shop: no ids, times or pickup codes."""
    postings = Posting.objects.select_related("member__owner", "actor", "approved_by", "reverses")

    def username(user):  # riders' usernames are drawn by the service: their phone instead
        return (user.phone or user.username) if user else ""

    return {
        "postings": sorted(
            (
                p.kind,
                p.amount,
                p.member.owner.phone or p.member.owner.username,
                p.area_code,
                p.activity,
                re.sub(r"#\d+", "#", p.reason),  # a report's number (ids differ on PostgreSQL)
                p.evidence,
                username(p.actor),
                username(p.approved_by),
                p.reverses.reason if p.reverses else "",
            )
            for p in postings
        ),
        "balances": sorted(
            (a.owner.phone, a.balance)
            for a in PointsAccount.objects.filter(kind="member").select_related("owner")
        ),
        "scores": sorted(
            (s.season[0], s.area_code, s.member.owner.phone, s.points)
            for s in SeasonScore.objects.select_related("member__owner")
        ),
        "awards": sorted(
            ManualAward.objects.values_list("amount", "reason", "status", "area_code")
        ),
        "rewards": sorted(
            Reward.objects.values_list("name", "cost", "per_rider_limit", "area_code")
        ),
        "stock": sorted(
            Stock.objects.values_list(
                "reward__name", "station__name", "available", "held", "handed_out"
            )
        ),
        "windows": sorted(
            PriorityWindow.objects.values_list("name", "top_n", "season_kind", "ranking_area__code")
        ),
        "redemptions": sorted(
            (r.user.phone, r.reward.name, r.station.name, r.cost, r.status)
            for r in Redemption.objects.select_related("user", "reward", "station")
        ),
        **stations_snapshot(),
    }


def stations_snapshot() -> dict:
    """Stations and corners, the checklist, inspections and visits (visit days counted back
    from today, as the load dates them)."""
    today = timezone.localdate()
    visits = Visit.objects.select_related("station", "rider", "recorded_by")
    return {
        "stations": sorted(
            (
                s.name,
                s.kind,
                s.area_code,
                s.lat,
                s.lng,
                s.cell,
                s.address,
                s.services_mask,
                json.dumps(s.hours, sort_keys=True),
                s.zones,
                s.host_name,
                s.contact_name,
                s.contact_phone,
                s.description,
                s.status,
                s.status_note,
                s.merchant.username if s.merchant else "",
            )
            for s in Station.objects.select_related("merchant")
        ),  # fmt: skip
        "checklist": list(
            ChecklistItem.objects.order_by("sort_order").values_list(
                "area_code", "standard", "text", "sort_order"
            )
        ),
        "inspections": sorted(
            (
                i.station.name,
                i.inspector.username,
                (today - i.inspected_on).days,
                i.passed,
                i.total,
                i.note,
                sorted((r.item.text, r.passed, r.note) for r in i.results.all()),
            )
            for i in Inspection.objects.select_related("station", "inspector").prefetch_related(
                "results__item"
            )
        ),
        "visits": sorted(
            (
                v.station.name,
                v.kind,
                v.rider.phone if v.rider else "",
                v.people,
                (today - v.day).days,
                v.note,
                v.recorded_by.phone or v.recorded_by.username,
            )
            for v in visits
        ),
    }


def reports_snapshot() -> dict:
    """Categories, holidays and reports with their timelines, photos, witnesses and messages:
    no ids, file names or times (days counted back from today instead)."""
    today = timezone.localdate()

    def days(moment):
        return (today - timezone.localtime(moment).date()).days if moment else None

    reports = Report.objects.select_related(
        "reporter", "category", "grid", "department", "merged_into", "acknowledged_by"
    )
    events = ReportEvent.objects.select_related("report", "actor")
    return {
        "categories": sorted(
            Category.objects.values_list(
                "area_code",
                "code",
                "name",
                "department__name",
                "deadline_amount",
                "deadline_unit",
                "urgent",
                "ack_minutes",
                "sort_order",
            )
        ),  # fmt: skip
        "holidays": sorted(Holiday.objects.values_list("date", "is_workday", "name")),
        "reports": sorted(
            (
                r.reporter.phone,
                r.category.code,
                r.status,
                r.urgent,
                r.lat,
                r.lng,
                r.grid.code,
                r.address,
                r.building,
                r.unit,
                r.floor,
                r.description,
                tuple(r.flags),
                r.department.name if r.department else "",
                r.merged_into.description if r.merged_into else "",
                r.witnesses,
                r.rejection_reason,
                r.escalation,
                r.points_status,
                r.reopen_count,
                r.acknowledged_by.username if r.acknowledged_by else "",
                days(r.created_at),
                days(r.deadline_at),
                days(r.closed_at),
            )
            for r in reports
        ),  # fmt: skip
        "events": sorted(
            (
                e.report.description,
                e.action,
                e.from_status,
                e.to_status,
                e.note,
                e.public,
                (e.actor.phone or e.actor.username) if e.actor else "",
                days(e.created_at),
            )
            for e in events
        ),  # fmt: skip
        "photos": sorted(
            ReportPhoto.objects.values_list(
                "report__description", "stage", "phash", "width", "height"
            )
        ),
        "witnesses": sorted(
            (w.report.description, w.user.phone, w.points_status, w.via_id is not None)
            for w in Witness.objects.select_related("report", "user")
        ),
        "notifications": Counter(
            (kind, urgent, read_at is None)
            for kind, urgent, read_at in Notification.objects.values_list(
                "kind", "urgent", "read_at"
            )
        ),
    }


def care_snapshot() -> dict:
    """Events, hand-outs, duties, wishes, appeals, the meeting and honours: no ids, codes or
    times (days counted back from today instead)."""
    today = timezone.localdate()

    def days(moment):
        return (today - timezone.localtime(moment).date()).days if moment else None

    def who(user):
        return (user.phone or user.username) if user else ""

    signups = Signup.objects.select_related("event", "user", "checked_in_by")
    receipts = Receipt.objects.select_related("distribution", "user").prefetch_related(
        "lines__item"
    )
    duties = Duty.objects.select_related("rider__user", "post", "decided_by")
    wishes = Wish.objects.select_related("rider", "decided_by", "confirmed_by").prefetch_related(
        "claims__claimer"
    )
    appeals = Appeal.objects.select_related("rider", "body", "routed_by", "answered_by")
    return {
        "events": sorted(
            (
                e.title,
                e.kind,
                e.area_code,
                e.station.name if e.station else "",
                e.capacity,
                e.audience,
                who(e.created_by),
                days(e.starts_at),
                days(e.ends_at),
            )
            for e in Event.objects.select_related("station", "created_by")
        ),  # fmt: skip
        "signups": sorted(
            (
                s.event.title,
                who(s.user),
                s.status,
                s.checked_in_at is not None,
                s.check_in_method,
                who(s.checked_in_by),
                s.points_status,
            )
            for s in signups
        ),  # fmt: skip
        "handout_items": sorted(
            DistributionItem.objects.values_list(
                "distribution__name", "name", "stock", "handed_out"
            )
        ),
        "receipts": sorted(
            (
                r.distribution.name,
                who(r.user),
                sorted((ln.item.name, ln.quantity) for ln in r.lines.all()),
            )
            for r in receipts
        ),  # fmt: skip
        "duties": sorted(
            (
                who(d.rider.user),
                d.post.kind,
                d.kind,
                d.place,
                d.note,
                d.minutes,
                d.status,
                d.verified_by,
                who(d.decided_by),
                d.points,
                d.points_status,
                d.reason,
                days(d.started_at),
            )
            for d in duties
        ),  # fmt: skip
        "wishes": sorted(
            (
                who(w.rider),
                w.category,
                w.text,
                w.status,
                w.points_status,
                w.points_paid,
                who(w.decided_by),
                who(w.confirmed_by),
                w.rejection_reason,
                sorted((who(c.claimer), c.status, c.note) for c in w.claims.all()),
            )
            for w in wishes
        ),  # fmt: skip
        "appeals": sorted(
            (
                who(a.rider),
                a.difficulty,
                a.topic,
                a.text,
                a.anonymous,
                a.status,
                a.body.name if a.body else "",
                who(a.routed_by),
                who(a.answered_by),
                a.answer,
                a.rating,
                a.rating_comment,
                a.reopen_count,
                days(a.deadline_at),
            )
            for a in appeals
        ),  # fmt: skip
        "deliveries": sorted(Delivery.objects.values_list("appeal__text", "kind", "note")),
        "meetings": sorted(
            (
                m.title,
                m.place,
                m.area_code,
                (today - m.held_on).days,
                m.minutes,
                sorted(m.bodies.values_list("name", flat=True)),
                sorted(who(u) for u in m.riders.all()),
            )
            for m in Meeting.objects.all()
        ),  # fmt: skip
        "agenda": sorted(
            AgendaItem.objects.values_list("meeting__title", "position", "appeal__text", "text")
        ),
        "decisions": sorted(
            (
                d.text,
                d.owner,
                d.status,
                (d.due_on - today).days,
                d.follow_up,
                d.agenda_item.appeal.text if d.agenda_item and d.agenda_item.appeal else "",
            )
            for d in Decision.objects.select_related("agenda_item__appeal", "owner_body")
        ),  # fmt: skip
        "titles": sorted(
            Title.objects.values_list("name", "area_code", "period", "quota", "description")
        ),
        "nominations": sorted(
            (
                n.title.name,
                who(n.rider.user),
                n.status,
                n.reason,
                n.rejection_reason,
                json.dumps(n.record, sort_keys=True),
                who(n.nominated_by),
                who(n.decided_by),
            )
            for n in Nomination.objects.select_related(
                "title", "rider__user", "nominated_by", "decided_by"
            )
        ),  # fmt: skip
    }


@dataclass
class Loaded:
    first: dict  # a load into an empty database, rolled back
    second: dict  # the load the tests look at


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")  # the reports' photos
    with (
        django_db_blocker.unblock(),
        override_settings(DEMO_MODE=True, MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        before = transaction.savepoint()
        start = timezone.now()
        with clock_running_from(start):
            load_demo()
            first = snapshot()
        transaction.savepoint_rollback(before)
        assert not Area.objects.exists() and not User.objects.exists()
        with clock_running_from(start):
            load_demo()
            second = snapshot()
        yield Loaded(first=first, second=second)
        transaction.set_rollback(True)


@contextmanager
def clock_running_from(start):
    """``timezone.now`` runs on from ``start``: both loads begin at the same moment. The demo
    places much relative to the load moment (a report filed 150 minutes ago, an escalation run
    at the load): two loads a minute apart could otherwise put one of them either side of
    midnight and count its days differently."""
    real = timezone.now
    began = real()
    with mock.patch.object(timezone, "now", lambda: start + (real() - began)):
        yield


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


def test_fifty_six_verified_riders_of_qingyuan_each_holding_an_approved_post(loaded):
    riders = list(verified_riders())
    # The seeds' 56 in 清远街道 (140213055), and 8 more in 永泰街道's 柳航里社区.
    assert sum(r.area_code.startswith("140213055") for r in riders) == 56
    assert len(riders) == 64
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
    handler = User.objects.get(username="zhifadui-handler")
    assert isinstance(handler.department, Department)
    assert handler.department.area_code == handler.area_code == data.QINGYUAN
    # One handler for each department, working where the department works.
    handlers = User.objects.filter(role="handler").select_related("department")
    assert {h.department.name for h in handlers} == {d.name for d in data.DEPARTMENTS} | {
        b.name for b in cp.BODIES
    }
    assert all(h.area_code == h.department.area_code for h in handlers)
    # The showcase merchant and the shops of 清远西街 that keep their own corner up to date.
    assert User.objects.filter(role="merchant").count() == 1 + len(sp.build_corners().merchants)
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
    assert len(loaded.second["riders"]) == 69  # 64 verified, 4 pending, 1 rejected


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
    assert len(riders) == 69 - 2
    for user in riders[:5]:
        assert authenticate(username=user.phone, password=DEMO_PASSWORD) is None
        assert authenticate(username=user.phone, password="") is None


# --- stations, points and the shop ------------------------------------------------------------


def year_board():
    return list(leaderboard(season=current_season("year"), area_code=data.QINGYUAN))


def test_nine_stations_and_137_caring_corners_in_qingyuan(loaded):
    places = list(Station.objects.select_related("community", "grid"))
    stations = {s.name: s for s in places if s.kind != "corner"}
    corners = [s for s in places if s.kind == "corner"]
    assert len(stations) == 9 and len(corners) == 137
    assert Counter(s.kind for s in stations.values()) == {
        "rider_station": 3, "party_service": 3, "union_station": 3,
    }  # fmt: skip
    assert all(s.area_code.startswith(data.QINGYUAN) for s in places)
    on_street = [c for c in corners if sp.distance_to_street_m(c.lng, c.lat) <= sp.STREET_WIDTH_M]
    assert len(on_street) == 107
    assert all(c.address.startswith("清远西街 ") for c in on_street)
    assert all(c.community.code == data.QYXJ for c in on_street)
    assert not any(c.address.startswith("清远西街") for c in corners if c not in on_street)
    assert len({c.name for c in corners}) == 137
    xijie = stations["清远西街小哥驿站"]
    assert (xijie.kind, xijie.community.name) == ("rider_station", "清远西街社区")


def test_every_place_lies_in_its_community_and_grid(loaded):
    communities = {
        a.pk: shape(parse_boundary(a.boundary)) for a in Area.objects.filter(level="community")
    }
    for station in Station.objects.select_related("grid"):
        assert communities[station.community_id].contains(Point(station.lng, station.lat))
        grid = grid_for_point(station.lat, station.lng)
        assert grid == station.grid is not None, station.name
        assert grid.parent_id == station.community_id, station.name
        assert station.area_code == grid.code


def test_every_station_has_hours_services_and_a_contact(loaded):
    for station in Station.objects.all():
        assert station.opening_hours.known, station.name
        assert station.services_mask, station.name
        assert station.contact_phone.startswith("0352-") and len(station.contact_phone) == 12
        assert station.address and station.host_name, station.name
    corners = Station.objects.filter(kind="corner")
    hours = Counter(format_text(c.opening_hours) for c in corners)
    assert hours["24小时"] >= 2
    assert any(c.opening_hours.week[6] == () for c in corners)  # some close on Sundays
    street = set(sp.STREET_SERVICES)
    assert all(set(service_codes(c.services_mask)) <= street for c in corners)
    assert len({c.contact_phone for c in Station.objects.all()}) == 146


def noon_next_wednesday():
    today = timezone.localdate()
    day = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def test_the_xijie_station_is_open_around_the_clock_with_charging(loaded):
    xijie = Station.objects.get(name="清远西街小哥驿站")
    assert xijie.has_services(services_mask(["phone_charging", "ebike_charging"]))
    assert xijie.is_open_now(noon_next_wednesday())
    assert format_text(xijie.opening_hours) == "24小时"
    assert xijie.zones == ["party", "study", "work", "rest", "supply"]
    assert len(service_codes(xijie.services_mask)) >= 12


def test_from_anywhere_on_the_demonstration_street_an_open_station_with_charging_is_near(
    loaded,
):
    """The issue's "done when": a rider anywhere on 清远西街 finds the nearest open place with
    phone charging within 500 m, and its Amap link lands on the station (GCJ-02)."""
    places = {s.pk: s for s in Station.objects.all()}
    noon = noon_next_wednesday()
    charging = services_mask(["phone_charging"])
    points = sp.street_points(10)
    assert len(points) > 200
    for lat, lng in points:
        for kinds in (None, "rider_station,party_service,union_station"):
            q = nearby_query(
                lat=lat, lng=lng, services="phone_charging", open_now=True, radius=500, kinds=kinds
            )
            q.at = noon
            found = nearby(q).items
            assert found, (lat, lng, kinds)
            first = found[0]
            station = places[first.id]
            assert first.distance_m <= 500 and first.is_open
            assert station.has_services(charging) and station.is_open_now(noon)
            g_lat, g_lng = wgs84_to_gcj02(station.lat, station.lng)
            assert f"position={g_lng:.6f},{g_lat:.6f}&" in first.links["amap"]
            assert haversine_m(station.lat, station.lng, g_lat, g_lng) > 100  # shifted
    # A phone on Amap sends GCJ-02: the same place comes first.
    lat, lng = points[len(points) // 2]
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    wgs = nearby(nearby_query(lat=lat, lng=lng, services="phone_charging", radius=500))
    gcj = nearby(
        nearby_query(lat=g_lat, lng=g_lng, crs="gcj02", services="phone_charging", radius=500)
    )
    assert wgs.items[0].id == gcj.items[0].id


def test_the_merchant_showcase_hosts_its_corner(loaded):
    merchant = authenticate(username="daoxiaomian-shop", password=DEMO_PASSWORD)
    corner = hosted_by(merchant).get()
    assert corner.name == "老刘刀削面馆爱心角" and corner.kind == "corner"
    assert sp.distance_to_street_m(corner.lng, corner.lat) <= sp.STREET_WIDTH_M
    assert corner.visits.filter(kind="walk_in", recorded_by=merchant).exists()
    for user in User.objects.filter(role="merchant"):
        assert hosted_by(user).count() == 1, user.username


def test_the_six_plus_six_checklist_and_an_inspection_of_every_station(loaded):
    items = list(ChecklistItem.objects.filter(area_code=data.QINGYUAN, standard="6+6"))
    assert [i.text for i in items] == list(sp.CHECKLIST) and len(items) == 12
    stations = Station.objects.exclude(kind="corner")
    inspections = Inspection.objects.select_related("station", "inspector")
    assert {i.station_id for i in inspections} == {s.pk for s in stations}
    assert all(i.total == 12 and i.results.count() == 12 for i in inspections)
    assert sum(i.passed == i.total for i in inspections) >= 6
    assert all(i.passed >= 11 for i in inspections)
    for inspection in inspections:
        assert inspection.inspector.role == "staff"
        assert inspection.inspector.area_code == inspection.station.community.code
        assert inspection.inspected_on < timezone.localdate()
        assert timezone.localtime(inspection.created_at).date() == inspection.inspected_on
    failed = InspectionResult.objects.filter(passed=False)
    assert failed.exists() and all(r.note for r in failed)


def test_visits_over_the_months_before_today(loaded):
    today = timezone.localdate()
    visits = Visit.objects.select_related("station", "rider")
    scans = visits.filter(kind="scan")
    assert scans.count() >= 200 and visits.filter(kind="walk_in").count() >= 100
    assert all(v.rider.role == "rider" and v.rider.rider.status == "verified" for v in scans)
    days = {v.day for v in visits}
    assert max(days) < today and min(days) >= today - timedelta(days=sp.VISIT_DAYS + 7)
    assert len(days) >= 60
    for visit in visits:  # each within the place's hours, on the day it counts for
        at = timezone.localtime(visit.created_at)
        assert at.date() == visit.day
        assert hours_module.is_open(visit.station.opening_hours, at), visit
    served = people_served(Station.objects.all(), since=today - timedelta(days=sp.VISIT_DAYS))
    xijie = Station.objects.get(name="清远西街小哥驿站")
    # The seeds: one station served 500-odd people a year; 清远西街小哥驿站 is the busiest.
    assert 120 <= served[xijie.pk] <= 300
    assert served[xijie.pk] == max(served.values())
    assert 600 <= sum(served.values()) <= 1500
    # The showcase rider is a regular at 清远西街小哥驿站.
    rider = User.objects.get(name=data.SHOWCASE_RIDER.name)
    assert scans.filter(rider=rider, station=xijie).count() >= 5


def test_changes_since_closed_days_ahead_and_a_suspended_corner(loaded):
    suspended = Station.objects.get(status="suspended")
    assert suspended.kind == "corner" and suspended.status_note
    assert sp.distance_to_street_m(suspended.lng, suspended.lat) > sp.STREET_WIDTH_M
    q = nearby_query(lat=suspended.lat, lng=suspended.lng, radius=50)
    assert suspended.pk not in {s.id for s in nearby(q).items}
    closed = [s for s in Station.objects.filter(kind="corner") if s.opening_hours.exceptions]
    assert len(closed) == 2
    for station in closed:
        ((day, spans),) = station.opening_hours.exceptions.items()
        assert day > timezone.localdate() and spans == ()
        assert not station.is_open_now(timezone.make_aware(datetime.combine(day, time(12))))


def test_earning_rules_and_the_threshold(loaded):
    qingyuan = dict(
        EarningRule.objects.filter(area_code=data.QINGYUAN, category="").values_list(
            "activity", "points"
        )
    )
    assert qingyuan == {
        "report_verified": 5, "event_attendance": 10, "duty_hour": 3, "elderly_child_help": 10,
        "gift_delivery": 5, "wish_fulfilled": 5, "manual_award": 1,
    }  # fmt: skip
    rules = EarningRule.objects.filter(area_code=data.QINGYUAN, category="")
    assert rules.get(activity="report_verified").daily_cap is not None
    assert rules.get(activity="duty_hour").weekly_cap is not None
    manual = rules.get(activity="manual_award")
    assert (manual.daily_cap, manual.weekly_cap) == (None, None)
    assert 0 < EarningRule.objects.filter(area_code=data.YONGTAI).count() < rules.count()
    assert PointsSettings.objects.get(area_code=data.QINGYUAN).approval_threshold == 30


def test_the_top_rider_of_qingyuan_this_year_holds_109_points(loaded):
    board = year_board()
    top = board[0]
    assert (top.member.owner.name, top.points) == (data.SHOWCASE_RIDER.name, 109)
    assert top.points == pp.LEADER_POINTS
    assert len(board) >= 16
    assert [s.points for s in board][:15] == list(pp.TOP_15)
    ties = Counter(s.points for s in board)
    assert any(n >= 2 for n in ties.values()), "no tie on the board"
    # Everyone on it is a verified rider of 清远街道 (or the volunteer, paid for wishes).
    for score in board:
        if score.member.owner.role == "volunteer":
            assert score.member.owner.username == "volunteer-chen"
            continue
        rider = score.member.owner.rider
        assert rider.status == RegistrationStatus.VERIFIED
        assert rider.area_code.startswith(data.QINGYUAN)
    # The whole history lies in this year, so the year's board is the all-time board.
    assert [(s.member_id, s.points) for s in board] == [
        (s.member_id, s.points) for s in leaderboard(season="all", area_code=data.QINGYUAN)
    ]


def test_the_top_15_are_the_qingyuan_knights(loaded):
    knights = set(
        Team.objects.get(name="清远骑士志愿服务队").memberships.values_list(
            "rider__user_id", flat=True
        )
    )
    assert {s.member.owner_id for s in year_board()[:15]} == knights


def test_the_ledger_history_is_dated_over_the_months_before_today(loaded):
    today = timezone.localdate()
    awards = Posting.objects.filter(kind=PostingKind.AWARD, activity="manual_award")
    days = {timezone.localtime(p.created_at).date() for p in awards}
    start = history_start(today)
    assert all(start <= day <= today for day in days)
    if (today - start).days >= 30:
        assert len(days) >= 30 and min(days) < today - timedelta(days=20)
        assert max(days) < today
    assert all(timezone.localtime(p.created_at).year == today.year for p in awards)
    assert timezone.now.__module__ == "django.utils.timezone"  # the clock is put back
    # Each award's scores count in the month it was earned.
    posting = awards.filter(member__owner__name=data.SHOWCASE_RIDER.name).earliest("created_at")
    month = SeasonScore.objects.get(
        member=posting.member,
        area_code=data.QINGYUAN,
        season=current_season("month", posting.created_at),
    )
    assert month.points >= posting.amount
    audit = AuditEntry.objects.filter(action="points.award_requested")
    assert {timezone.localtime(a.created_at).date() for a in audit} == days | {
        timezone.localtime(ManualAward.objects.get(status="pending").created_at).date()
    }


def test_a_reversal_and_the_awards_by_community_staff(loaded):
    reversal = Posting.objects.get(kind=PostingKind.REVERSAL)
    assert reversal.reverses.kind == PostingKind.AWARD
    assert reversal.reason == pp.REVERSAL_REASON
    assert reversal.created_at > reversal.reverses.created_at
    assert reversal.actor.role == "staff"
    for award in ManualAward.objects.select_related("requested_by", "member__owner"):
        staff = award.requested_by
        assert staff.role == "staff" and award.member.owner.area_code.startswith(staff.area_code)


def test_the_large_award_waits_for_a_second_staff_member(loaded):
    award = ManualAward.objects.select_related("member__owner", "requested_by").get(
        status=AwardStatus.PENDING
    )
    assert award.amount == pp.PENDING.points > pp.APPROVAL_THRESHOLD
    assert award.requested_by.username == "qingyuanxijie-staff"
    member = award.member
    before = member.balance
    with pytest.raises(ApplicationError) as exc:
        points_award_approve(award=award, actor=award.requested_by)
    assert exc.value.code == "own_award"
    # The street admin (a showcase account) approves it in the back office.
    admin_user = authenticate(username="qingyuan-admin", password=DEMO_PASSWORD)
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:points_manualaward_changelist"),
        {"action": "approve", "_selected_action": [award.pk]},
    )
    assert response.status_code == 302
    award.refresh_from_db()
    member.refresh_from_db()
    assert award.status == AwardStatus.APPROVED and award.decided_by == admin_user
    assert member.balance == before + pp.PENDING.points
    assert year_board()[0].points == 109  # the approval does not change the leader
    assert points_reconcile().ok and scores_check().ok


def test_the_shop_catalogue_and_stock_at_the_station(loaded):
    rewards = {r.name: r for r in Reward.objects.all()}
    assert {name: r.cost for name, r in rewards.items()} == {
        "蓝牙耳机": 100, "充电宝": 60, "旅行水壶": 40, "洗衣液": 20, "湿巾": 10,
    }  # fmt: skip
    assert rewards["蓝牙耳机"].per_rider_limit == rewards["充电宝"].per_rider_limit == 1
    assert all(r.area_code == data.QINGYUAN for r in rewards.values())
    shop = Station.objects.get(name="清远西街小哥驿站")
    stock = {s.reward.name: s for s in Stock.objects.filter(station=shop).select_related("reward")}
    assert set(stock) == set(rewards)
    for row in Stock.objects.all():
        stocked = sum(row.changes.values_list("change", flat=True))
        assert stocked == row.available + row.held + row.handed_out > 0
    assert (stock["洗衣液"].handed_out, stock["湿巾"].handed_out) == (1, 1)
    assert (stock["充电宝"].held, stock["充电宝"].available) == (1, 9)
    assert (stock["旅行水壶"].available, stock["旅行水壶"].held) == (15, 0)


def test_the_first_exchange_window_admits_exactly_the_top_15(loaded):
    window = PriorityWindow.objects.select_related("ranking_area").get()
    now = timezone.now()
    assert window.name == "首次积分兑换" and window.reward is None
    assert (window.top_n, window.season_kind) == (15, "year")
    assert window.season == current_season("year") and window.ranking_area.code == data.QINGYUAN
    assert window.opens_at <= now < window.closes_at
    assert window.closes_at - window.opens_at == timedelta(days=14)
    board = year_board()
    admitted = []
    for place, score in enumerate(board, start=1):
        assert rank_of(score.member, season=window.season, area_code=data.QINGYUAN) == place
        if place <= window.top_n:
            admitted.append(score.member.owner_id)
    assert len(admitted) == 15
    shop = Station.objects.get(name="清远西街小哥驿站")
    wipes = Reward.objects.get(name="湿巾")
    fifteenth, sixteenth = board[14].member.owner, board[15].member.owner
    assert board[15].points >= wipes.cost  # could afford it, but is not in the top 15
    with pytest.raises(ApplicationError) as exc:
        redemption_reserve(user=sixteenth, reward=wipes, station=shop, idempotency_key="demo-t-16")
    assert (exc.value.code, exc.value.status) == ("priority_window", 403)
    held = redemption_reserve(
        user=fifteenth, reward=wipes, station=shop, idempotency_key="demo-t-15"
    )
    assert held.status == RedemptionStatus.HELD


def test_the_leader_has_redeemed_and_has_a_code_to_show(loaded):
    leader = User.objects.get(name=data.SHOWCASE_RIDER.name)
    mine = Redemption.objects.filter(user=leader).select_related("reward", "station")
    assert sorted((r.reward.name, r.status) for r in mine) == [
        ("充电宝", "held"), ("洗衣液", "fulfilled"), ("湿巾", "fulfilled"),
    ]  # fmt: skip
    held = mine.get(status="held")
    assert held.station.name == "清远西街小哥驿站" and len(held.pickup_code) == 6
    assert held.expires_at > timezone.now() + timedelta(days=6)
    assert balance_of(leader) == 109 - 20 - 10 - 60
    cancelled = Redemption.objects.get(status="cancelled")
    assert cancelled.user.name == year_board()[1].member.owner.name
    assert cancelled.reward.name == "旅行水壶"
    assert Redemption.objects.count() == 4


def test_the_books_reconcile_after_the_load(loaded):
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert points_reconcile().ok
    assert scores_check().ok


def test_the_demo_counts_and_summary(loaded):
    counts = demo_counts()
    assert counts["stations"] == 9 and counts["rewards"] == 5 and counts["windows"] == 1
    assert (counts["corners"], counts["corners_on_street"], counts["corners_suspended"]) == (
        137, 107, 1,
    )  # fmt: skip
    assert (counts["checklist_items"], counts["inspections"]) == (12, 9)
    assert counts["check_ins"] >= 200 and counts["walk_ins"] >= 100
    assert counts["people_served"] == Visit.objects.aggregate(n=Sum("people"))["n"]
    assert counts["awards_pending"] == 1 and counts["riders_with_points"] >= 25
    assert (
        counts["redemptions_fulfilled"],
        counts["redemptions_held"],
        counts["redemptions_cancelled"],
    ) == (2, 1, 1)
    reports_paid = sum(rp.build_reports_plan().points().values())
    assert counts["report_points"] == reports_paid
    care = cp.build_care_plan()
    assert counts["points_awarded"] == (
        sum(pp.TOP_15) + sum(pp.OTHERS) + sum(pp.YONGTAI_TOTALS) + reports_paid
        + care.extra_points()
    )  # fmt: skip
    assert counts["reports"] == rp.build_reports_plan().rows() >= 100
    assert counts["report_categories"] == 14
    assert counts["departments"] == len(data.DEPARTMENTS) + len(cp.BODIES)
    assert counts["reports_overdue"] == counts["reports_escalated"] >= 1
    assert counts["holidays"] == len(rp.HOLIDAYS)
    out = StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()
    assert f"{data.SHOWCASE_RIDER.name}，109 分" in text
    assert "9 个驿站 stations · 137 个爱心角 caring corners（示范街 107 家" in text
    assert f"共服务 {counts['people_served']} 人次 people served" in text
    assert f"随手拍 reports: {counts['reports']} 条" in text
    assert f"随手拍共奖励 {reports_paid} 分" in text


def test_the_points_and_shop_back_office_lists_are_flat(loaded):
    """Every changelist of the two apps, as the district admin, in a bounded number of queries
    (50 rows a page of postings, entries, scores …)."""
    client = Client()
    client.force_login(User.objects.get(username="pingcheng-admin"))
    for model in admin.site._registry:
        if model._meta.app_label not in ("points", "rewards"):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert len(queries) <= 16, (url, len(queries))
    posting = Posting.objects.filter(kind=PostingKind.AWARD).first()
    response = client.get(reverse("admin:points_posting_change", args=[posting.pk]))
    assert response.status_code == 200
    assert response.content.decode().count(str(posting.amount)) >= 2  # both legs shown inline


# --- reports ---------------------------------------------------------------------------------


def qingyuan_reports():
    return Report.objects.filter(area_code__startswith=data.QINGYUAN).select_related(
        "reporter", "category", "grid", "community", "department"
    )


def test_the_standard_categories_each_with_its_department_and_points(loaded):
    categories = {c.code: c for c in Category.objects.select_related("department")}
    assert set(categories) == {spec.code for spec in catalogue.STANDARD}
    names = {d.key: d.name for d in data.DEPARTMENTS}
    for code, key in rp.CATEGORY_DEPARTMENTS.items():
        assert categories[code].department.name == names[key]
        assert categories[code].area_code == data.QINGYUAN
    rules = dict(
        EarningRule.objects.filter(area_code=data.QINGYUAN, activity="report_verified")
        .exclude(category="")
        .values_list("category", "points")
    )
    assert rules == {spec.code: spec.points for spec in catalogue.STANDARD}
    assert categories["elderly_child"].urgent


def test_the_national_holidays_in_the_working_calendar(loaded):
    assert Holiday.objects.count() == len(rp.HOLIDAYS)
    assert not Holiday.objects.get(date=date(2026, 10, 1)).is_workday
    assert Holiday.objects.get(date=date(2026, 10, 10)).is_workday  # 调休
    # A working day from the eve of 国庆 ends after the golden week.
    eve = timezone.make_aware(datetime(2026, 9, 30, 10, 0))
    assert timezone.localtime(add_working_days(eve, 1)) == timezone.make_aware(
        datetime(2026, 10, 8, 10, 0)
    )
    # Set by the platform operator, who cannot log in.
    operator = User.objects.get(username=data.OPERATOR.username)
    assert operator.is_superuser and not operator.has_usable_password()
    entries = AuditEntry.objects.filter(action="holiday.set")
    assert entries.count() == len(rp.HOLIDAYS) and {e.actor_id for e in entries} == {operator.pk}


def test_over_a_hundred_reports_in_every_state(loaded):
    plan = rp.build_reports_plan()
    reports = list(qingyuan_reports())
    assert len(reports) == Report.objects.count() == plan.rows() >= 100
    assert Counter(r.status for r in reports) == plan.statuses()
    assert {r.category.code for r in reports} == {spec.code for spec in catalogue.STANDARD}
    assert {r.grid.code for r in reports} == set(rp.GRID_WEIGHTS)
    for report in reports:
        assert report.reporter.rider.status == RegistrationStatus.VERIFIED
        assert report.reporter.rider.community_id == report.community_id
        assert grid_for_point(report.lat, report.lng) == report.grid
        assert report.created_at < timezone.now()
    rejected = [r for r in reports if r.status == "rejected"]
    assert rejected and all(r.rejection_reason for r in rejected)
    indoor = [r for r in reports if r.category.code in rp.INDOOR]
    assert indoor and all(r.building and r.unit and r.floor for r in indoor)


def test_each_report_has_its_own_photo_and_handled_ones_an_after_photo(loaded, settings):
    photos = ReportPhoto.objects.select_related("report")
    report_stage = photos.filter(stage="report")
    assert report_stage.count() == Report.objects.count()
    assert Counter(p.report_id for p in report_stage).most_common(1)[0][1] == 1
    for photo in photos:
        assert photo.image.storage.exists(photo.image.name), photo.image.name
        assert photo.thumbnail.storage.exists(photo.thumbnail.name)
        assert photo.width == 640 and photo.height == 480
    handled = Report.objects.filter(handled_at__isnull=False)
    assert handled.exists()
    for report in handled:
        assert report.photos.filter(stage="handled").exists(), report.pk
    # Only the copy the plan sends twice is flagged as the same photo.
    flagged = Report.objects.exclude(flags=[])
    assert [r.flags for r in flagged] == [["same_photo"]]
    assert flagged.get().status == "submitted"


def test_the_timelines_are_dated_in_order_before_today(loaded):
    today = timezone.localdate()
    start = history_start(today)
    long_history = (today - start).days >= 30
    for report in Report.objects.prefetch_related("events"):
        events = list(report.events.all())
        assert events[0].action == "submitted"
        times = [e.created_at for e in events]
        assert times == sorted(times) and times[-1] <= timezone.now()
        for event in events:
            if event.action == "verified":
                # Points are paid at verification: this year, before the load day.
                local = timezone.localtime(event.created_at)
                assert local.year == today.year
                if (today - start).days >= 1:
                    assert local.date() < today
    if long_history:
        days = {timezone.localtime(r.created_at).date() for r in Report.objects.all()}
        assert len(days) >= 40 and min(days) < today - timedelta(days=30)
    merged = Report.objects.filter(status="merged").select_related("merged_into")
    assert merged.count() >= 5
    for report in merged:
        assert report.merged_into.created_at < report.created_at
        assert report.merged_into.category_id == report.category_id
        assert (
            haversine_m(report.lat, report.lng, report.merged_into.lat, report.merged_into.lng)
            <= 50
        )


def test_overdue_cases_are_escalated_and_the_others_are_on_time(loaded):
    now = timezone.now()
    dispatched = Report.objects.filter(status="dispatched").select_related("category")
    late = [r for r in dispatched if r.deadline_at < now]
    plan = rp.build_reports_plan()
    assert len(late) == sum(r.outcome == "late" for r in plan.reports) >= 5
    for report in dispatched:
        # Deadlines come from the category and the working calendar.
        assert report.deadline_at == deadline_for(report.category, report.dispatched_at)
        escalated = report.events.filter(action="escalated")
        if report in late:
            assert report.is_overdue and report.escalation >= 1 and escalated.exists()
            assert not escalated.filter(public=True).exists()
        else:
            assert report.escalation == 0 and not escalated.exists()
    # The street's staff see them in their overdue list.
    admin_user = User.objects.get(username="qingyuan-admin")
    assert set(overdue(admin_user)) == set(late)


def test_merged_duplicates_made_witnesses_who_were_paid_a_share(loaded):
    originals = Report.objects.filter(merged__isnull=False).distinct()
    assert originals.count() >= 5
    for original in originals:
        assert original.witnesses == original.witness_rows.count()
        for witness in original.witness_rows.all():
            paid = Posting.objects.filter(
                activity="report_verified", member__owner=witness.user, source_id=str(original.pk)
            )
            if original.status in ("verified", "closed"):
                assert witness.points_status == "paid"
                assert paid.get().amount == rp.witness_points(original.category.code)
            else:
                assert witness.points_status == "none" and not paid.exists()
    assert Witness.objects.filter(via__isnull=True).exists()  # "I saw it too"


def test_the_urgent_alert_was_acknowledged_at_once_and_handled(loaded):
    alert = Report.objects.select_related("category", "acknowledged_by").get(
        category__code="elderly_child"
    )
    assert alert.urgent and alert.status == "closed" and alert.points_status == "paid"
    assert alert.acknowledged_by.username == "qingyuanxijie-staff"
    assert alert.acknowledged_by.on_duty
    assert alert.acknowledged_at - alert.created_at < timedelta(minutes=alert.category.ack_minutes)
    assert alert.escalation == 0
    assert [e.action for e in alert.events.exclude(action="points")] == [
        "submitted", "acknowledged", "dispatched", "handled", "verified", "closed",
    ]  # fmt: skip
    assert alert.department.name == "清远街道综治中心"
    assert alert.photos.filter(stage="handled").exists()
    told = Notification.objects.filter(
        kind="report_urgent", target_id=str(alert.pk), urgent=True
    ).values_list("recipient__username", flat=True)
    assert "qingyuanxijie-staff" in told


def test_report_points_keep_the_ranking_the_ledger_tells(loaded):
    plan = rp.build_reports_plan()
    phones = {r.key: r.phone for r in build_plan().riders}
    paid = Counter()
    for posting in Posting.objects.filter(activity="report_verified").select_related(
        "member__owner"
    ):
        paid[posting.member.owner.phone] += posting.amount
    assert paid == Counter({phones[k]: v for k, v in plan.points().items()})
    knights = {phones[k] for k in pp.build_points_plan().top15}
    assert not knights & set(paid)
    board = year_board()
    assert [s.points for s in board][:15] == list(pp.TOP_15)
    assert all(s.points < pp.TOP_15[-1] for s in board[15:])
    # Each paid once, even the report that was sent back and the one reopened.
    paid_reports = Report.objects.filter(points_status="paid")
    assert paid_reports.count() == sum(1 for r in plan.reports if r.payees())
    for report in paid_reports:
        assert (
            Posting.objects.filter(
                activity="report_verified", source_id=str(report.pk), member__owner=report.reporter
            ).count()
            == 1
        )


def test_sent_back_redirected_and_reopened(loaded):
    sent_back = ReportEvent.objects.get(action="sent_back").report
    assert sent_back.status == "closed"
    assert sent_back.events.filter(action="handled").count() == 2
    redirected = ReportEvent.objects.select_related("report__department").get(action="redirected")
    assert redirected.report.department.name == "清远北苑物业服务中心"
    assert redirected.data == {"from": "清远街道微型消防站", "to": "清远北苑物业服务中心"}
    reopened = Report.objects.get(reopen_count=1)
    assert reopened.status == "accepted" and reopened.photos.filter(stage="reopened").exists()
    assert reopened.events.get(action="reopened").actor == reopened.reporter


def test_the_department_handler_sees_only_the_departments_cases(loaded):
    handler = authenticate(username="zhifadui-handler", password=DEMO_PASSWORD)
    cases = list(department_cases(handler))
    assert cases and all(r.department_id == handler.department_id for r in cases)
    visible = reports_for_user(handler)
    assert set(visible) == set(Report.objects.filter(department=handler.department))
    waiting = [r for r in cases if r.status == "dispatched"]
    assert len(waiting) == rp.cases_waiting("zhifadui")
    assert any(r.is_overdue for r in waiting)


def test_the_showcase_rider_follows_his_reports(loaded):
    rider = authenticate(username=data.SHOWCASE_RIDER.phone, password=DEMO_PASSWORD)
    mine = list(my_reports(rider))
    assert {r.status for r in mine} >= {"submitted", "dispatched", "handled", "rejected", "merged"}
    assert not Posting.objects.filter(activity="report_verified", member__owner=rider).exists()
    # He was told of every change, and sees only the public lines of the timeline.
    told = Notification.objects.filter(recipient=rider, kind="report_status")
    assert told.count() >= len(mine)
    assert told.filter(read_at__isnull=False).exists()
    for report in mine:
        lines = list(timeline(report, rider))
        assert lines and all(e.public for e in lines)


# --- care and service: events, duties, wishes, appeals, honours ----------------------------------


def test_the_care_counts_as_the_issue_states(loaded):
    counts = demo_counts()
    assert (counts["events_held"], counts["events_upcoming"]) == (7, 2)
    assert counts["handouts"] == 1 and counts["handout_receipts"] >= 10
    assert counts["signups_waiting"] >= 1 and counts["signups_cancelled"] >= 3
    assert counts["attended"] == sum(len(e.attendees()) for e in cp.build_care_plan().events)
    assert counts["helped"] >= 30
    assert counts["duties_rejected"] == 1 and counts["duties_pending"] >= 3
    assert counts["duties_verified"] > 3 * counts["duties_pending"]
    for state in ("pending", "rejected", "withdrawn", "published", "claimed", "fulfilled"):
        assert counts[f"wishes_{state}"] >= 1, state
    assert counts["wishes_confirmed"] >= 3
    assert counts["appeals_closed"] >= 5 and counts["appeals_overdue"] >= 1
    assert counts["appeals_submitted"] == 1 and counts["deliveries"] >= 4
    assert (counts["meetings"], counts["decisions_done"]) == (1, 1)
    assert counts["decisions_open"] >= 1
    assert (counts["titles"], counts["honours"], counts["nominations_pending"]) == (2, 15, 2)
    text = StringIO()
    call_command("demo", stdout=text)
    assert f"活动 events: {counts['events_held']} 场已举办 held" in text.getvalue()
    assert f"帮助一老一小 {counts['helped']} 人次" in text.getvalue()


def test_the_rider_festival_and_its_summer_hand_out(loaded):
    festival = Event.objects.get(kind="rider_festival")
    assert festival.ends_at < timezone.now()
    handout = Distribution.objects.get()
    summer = 5 <= timezone.localtime(festival.starts_at).month <= 9
    items = set(handout.items.values_list("name", flat=True))
    if summer:
        assert "夏送清凉" in handout.name and {"夏凉被", "小风扇", "冰袖"} <= items
    receipts = Receipt.objects.filter(distribution=handout)
    riders = list(receipts.values_list("user_id", flat=True))
    assert len(riders) == len(set(riders))  # nobody twice
    attended = set(
        Signup.objects.filter(event=festival, checked_in_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    assert set(riders) <= attended
    for item in DistributionItem.objects.filter(distribution=handout):
        assert item.stock >= 0
        assert item.handed_out == sum(item.lines.values_list("quantity", flat=True))


def test_care_points_arrived_exactly_once(loaded):
    activities = (
        "event_attendance", "duty_hour", "elderly_child_help", "gift_delivery", "wish_fulfilled"
    )  # fmt: skip
    postings = Posting.objects.filter(kind=PostingKind.AWARD, activity__in=activities)
    sources = Counter(postings.values_list("source_type", "source_id", "member_id"))
    assert sources and max(sources.values()) == 1
    attended = Signup.objects.filter(checked_in_at__isnull=False)
    assert attended.count() == postings.filter(activity="event_attendance").count()
    assert not attended.exclude(points_status="paid").exists()
    paid = Duty.objects.filter(points_status="paid")
    assert (
        paid.count()
        == postings.exclude(activity__in=("event_attendance", "wish_fulfilled")).count()
    )
    assert not Duty.objects.filter(status="verified").exclude(points_status="paid").exists()
    wishes = Wish.objects.filter(points_status="paid")
    assert wishes.count() == postings.filter(activity="wish_fulfilled").count() >= 1
    assert sum(p.amount for p in postings) == sum(cp.build_care_plan().points().values()) + sum(
        w.points() for w in cp.build_care_plan().wishes
    )


def test_duties_dated_before_their_log_and_one_confirmed_by_the_household(loaded):
    now = timezone.now()
    for duty in Duty.objects.all():
        assert duty.started_at <= duty.ended_at <= duty.created_at < now
        if duty.decided_at:
            assert duty.created_at < duty.decided_at < now
    household = Duty.objects.get(verified_by="household")
    assert household.kind == "gift" and household.points_status == "paid"
    assert GiftCode.objects.get(duty=household).used_at is not None
    rejected = Duty.objects.get(status="rejected")
    assert rejected.reason == cp.DUPLICATE_HELP and rejected.points == 0


def test_the_qingyuan_knights_are_the_riders_with_the_best_record(loaded):
    title = Title.objects.get(name="清远骑士")
    approved = title.nominations.filter(status="approved").select_related("rider")
    assert title.quota == approved.count() == 15
    assert title.nominations.filter(status="rejected").count() == 1
    board = year_board()
    assert {n.rider.user_id for n in approved} == {s.member.owner_id for s in board[:15]}
    knights_team = set(
        Team.objects.get(name="清远骑士志愿服务队").memberships.values_list("rider_id", flat=True)
    )
    assert {n.rider_id for n in approved} == knights_team
    qingyuan = RiderProfile.objects.filter(
        area_code__startswith=data.QINGYUAN, status=RegistrationStatus.VERIFIED
    )
    record = record_of(qingyuan, period_of(title))
    best = sorted(record, key=lambda pk: -record[pk]["points"])[:15]
    assert {record[pk]["points"] for pk in best} == {record[n.rider_id]["points"] for n in approved}


def test_the_joint_meeting_with_its_agenda_and_decisions(loaded):
    meeting = Meeting.objects.get()
    assert meeting.held_on < timezone.localdate() and meeting.minutes
    assert meeting.bodies.count() == len(cp.build_care_plan().meeting.bodies)
    assert meeting.agenda.filter(appeal__isnull=False).count() >= 2
    assert meeting.agenda.filter(appeal__isnull=True).count() == 1
    decisions = Decision.objects.filter(meeting=meeting)
    assert decisions.filter(status="done").count() == 1
    assert all(d.owner for d in decisions)
    overdue_appeals = [a for a in Appeal.objects.filter(status="routed") if a.is_overdue]
    assert overdue_appeals
    anonymous = Appeal.objects.get(anonymous=True)
    assert anonymous.rider_label(User.objects.get(username="qingyuan-admin")) != (
        anonymous.rider.name
    )


def test_the_showcase_rider_can_sign_up_and_the_volunteer_claim_a_wish(loaded):
    rider = User.objects.get(name=data.SHOWCASE_RIDER.name)
    coming = Event.objects.filter(starts_at__gt=timezone.now(), area_code=data.QYXJ).get()
    assert signup_create(event=coming, user=rider).status == "confirmed"
    volunteer = User.objects.get(username="volunteer-chen")
    wish = Wish.objects.filter(status="published").order_by("pk").first()
    claim = wish_claim(wish=wish, actor=volunteer)
    assert claim.claimer == volunteer
    assert Nomination.objects.filter(rider__user=rider, status="approved").exists()
