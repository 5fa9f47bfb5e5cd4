"""Load the demo street through the services, step by step, in one transaction.

``load_demo()`` runs :data:`STEPS` in order; each step takes the :class:`DemoContext` (what the
earlier steps made, by key) and writes through the app services with a staff actor wherever the
service takes one, exactly as the console would. A later part of the demo (stations, points,
reports …) is one more step appended to :data:`STEPS`.

Everything happens inside one ``transaction.atomic``: an interrupted load leaves nothing behind.
The data are fixed (``data.py``, ``points_plan.py``) or drawn with a seeded random
(``generate.py``, ``points_plan.py``), so every load writes the same demo; only the timestamps,
the riders' internal usernames and the pickup codes (set by the services) differ.

The points history is dated over the months before the load day (within its year): each award
is made through ``points_award`` with the clock the services read (``timezone.now``) set to its
moment, as the ledger tests do, so postings, season scores and the audit log carry real dates.
The stations' visits (QR check-ins and walk-ins) and inspections are dated the same way, over
the months before the load day (``stations_plan``).

The 随手拍 reports (``reports_plan``) come last: the working calendar's holidays (set by the
platform operator through ``core.services.holiday_set``), 清远街道's categories with their
departments, and each report played through the reports services step by step, in the order of
their moments, with the clock set to each (deadlines are counted on that calendar). The
periodic escalation job runs each morning over the history and once at the load moment, so
overdue cases are escalated much as the scheduler would have done. The messages the history put in
people's inboxes stay there (those older than a day and a half read); they are not sent again
through the channels when the load commits.

The care and service history (``care_plan``) follows, each part played the same way (the clock
set to each moment, messages into the inboxes only): the events (``load_events``: the 骑手节 with
its 夏送清凉 hand-out and six more, sign-ups, a waiting list, staff confirming riders at the door,
and two events still to come), the duty logs (``load_duties``), the micro-wishes
(``load_wishes``), the appeals with their bodies and the joint meeting (``load_appeals``), and
the year's 清远骑士 (``load_honours``). Attendance, duties and wishes pay points through the
services; the ledger's totals already count them (``points_plan.build_points_plan``), so the
ranking stays as the newspaper tells. The first exchange (``load_redemptions``, at the load
moment) comes last, after the whole history it ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from unittest import mock

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from yizhan.appeals.choices import AppealStatus, DecisionStatus
from yizhan.appeals.models import AgendaItem, Appeal, Decision, Delivery, Meeting
from yizhan.appeals.services import (
    agenda_add,
    appeal_answer,
    appeal_close,
    appeal_raise,
    appeal_rate,
    appeal_route,
    decision_add,
    decision_follow_up,
    delivery_record,
    meeting_create,
    meeting_minutes,
)
from yizhan.areas.models import Area
from yizhan.areas.services import area_create
from yizhan.core.models import AuditEntry, Holiday
from yizhan.core.services import holiday_set
from yizhan.dashboards.demo import load_dashboards_demo
from yizhan.demo import care_plan as cp
from yizhan.demo import data
from yizhan.demo import points_plan as pp
from yizhan.demo import reports_plan as rp
from yizhan.demo import stations_plan as sp
from yizhan.demo.generate import DemoPlan, build_plan
from yizhan.duties.choices import KIND_POSTS, DutyStatus
from yizhan.duties.models import Duty
from yizhan.duties.services import (
    duty_confirm,
    duty_log,
    duty_reject,
    duty_verify,
    gift_code_issue,
)
from yizhan.events.choices import SignupStatus
from yizhan.events.models import Distribution, DistributionItem, Event, Receipt, Signup
from yizhan.events.services import (
    check_in_by_staff,
    distribution_create,
    event_create,
    item_restock,
    receipt_record,
    signup_cancel,
    signup_create,
)
from yizhan.honours.choices import NominationStatus
from yizhan.honours.models import Nomination, Title
from yizhan.honours.services import (
    nomination_approve,
    nomination_create,
    nomination_reject,
    title_create,
)
from yizhan.notifications import services as notification_services
from yizhan.notifications.models import Notification
from yizhan.notifications.services import notifications_read_all
from yizhan.organisation.demo import load_organisation_demo
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
    staff_set_on_duty,
    team_add_member,
    team_create,
)
from yizhan.points.choices import AccountKind, Activity, AwardStatus, PostingKind, SeasonKind
from yizhan.points.models import EarningRule, ManualAward, PointsAccount, Posting, SeasonScore
from yizhan.points.selectors import current_season, leaderboard
from yizhan.points.services import (
    earning_rule_set,
    points_award,
    points_reverse,
    points_settings_update,
)
from yizhan.reports.choices import OPEN_STATUSES, ReportStatus
from yizhan.reports.models import Category, Report, ReportPhoto, Witness
from yizhan.reports.services import (
    categories_seed,
    category_update,
    report_accept,
    report_acknowledge,
    report_close,
    report_dispatch,
    report_handle,
    report_merge,
    report_redirect,
    report_reject,
    report_reopen,
    report_submit,
    report_verify,
    report_witness,
    reports_escalate,
)
from yizhan.rewards.choices import RedemptionStatus
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock
from yizhan.rewards.services import (
    redemption_cancel,
    redemption_fulfil,
    redemption_reserve,
    reward_create,
    stock_change,
    window_create,
)
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import StationKind, StationStatus, VisitKind
from yizhan.stations.models import ChecklistItem, Inspection, Station, Visit
from yizhan.stations.services import (
    checklist_item_create,
    inspection_record,
    qr_token,
    station_create,
    station_exception_set,
    station_update,
    visit_check_in,
    visit_walk_in,
)
from yizhan.wishes.choices import WishStatus
from yizhan.wishes.models import Wish
from yizhan.wishes.services import (
    wish_approve,
    wish_claim,
    wish_confirm,
    wish_fulfil,
    wish_post,
    wish_reject,
    wish_withdraw,
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
    #: The moment the load started: the ledger history is dated before it.
    now: datetime = field(default_factory=timezone.now)
    points: pp.PointsPlan = field(default_factory=pp.build_points_plan)
    stations: dict[str, Station] = field(default_factory=dict)  # by StationSpec.key
    checklist: list[ChecklistItem] = field(default_factory=list)  # in sp.CHECKLIST order
    awards: dict[str, ManualAward] = field(default_factory=dict)  # by idempotency key
    rewards: dict[str, Reward] = field(default_factory=dict)  # by name
    window: PriorityWindow | None = None
    redemptions: dict[str, Redemption] = field(default_factory=dict)  # by idempotency key
    categories: dict[str, Category] = field(default_factory=dict)  # 清远街道's, by code
    reports: dict[str, Report] = field(default_factory=dict)  # by idempotency key
    care: cp.CarePlan = field(default_factory=cp.build_care_plan)
    events: dict[str, Event] = field(default_factory=dict)  # by EventPlan.key
    handouts: dict[str, Distribution] = field(default_factory=dict)  # by EventPlan.key
    duties: dict[str, Duty] = field(default_factory=dict)  # by idempotency key
    wishes: dict[str, Wish] = field(default_factory=dict)  # by idempotency key
    appeals: dict[str, Appeal] = field(default_factory=dict)  # by idempotency key
    meeting: Meeting | None = None
    titles: dict[str, Title] = field(default_factory=dict)  # by name
    nominations: dict[tuple[str, str], Nomination] = field(default_factory=dict)

    def staff_of(self, community_code: str) -> User:
        return self.accounts[data.COMMUNITY_STAFF[community_code]]

    def user_of(self, rider_key: str) -> User:
        """The rider's account as it is now (placed in its grid by the claims)."""
        return User.objects.get(pk=self.riders[rider_key].user_id)


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


def load_merchants(ctx: DemoContext) -> None:
    """Accounts for a few shops of 清远西街 that keep their caring corner up to date themselves
    (no password: the demo's merchant log-in is the showcase account)."""
    for spec in sp.build_corners().merchants:
        ctx.accounts[spec.key] = account_create(
            username=spec.username,
            name=spec.name,
            role="merchant",
            area=ctx.areas[spec.community],
            password=None,
            actor=ctx.accounts[spec.created_by],
        )


def load_stations(ctx: DemoContext) -> None:
    """The 9 stations and the 137 caring corners (107 along 清远西街), registered by their
    community's staff with their services, hours and hosts."""
    for spec in sp.all_places():
        ctx.stations[spec.key] = station_create(
            name=spec.name,
            kind=spec.kind,
            community=ctx.areas[spec.community],
            lat=spec.lat,
            lng=spec.lng,
            address=spec.address,
            services=spec.services,
            hours=spec.hours,
            zones=list(spec.zones),
            merchant=ctx.accounts[spec.merchant] if spec.merchant else None,
            host_name=spec.host_name,
            contact_name=spec.contact_name,
            contact_phone=spec.contact_phone,
            description=spec.description,
            actor=ctx.accounts[spec.created_by],
        )


def load_points_rules(ctx: DemoContext) -> None:
    """Each street's earning rules, and 清远街道's threshold for a second approval."""
    for street_code, rules in pp.RULES.items():
        actor = ctx.accounts[pp.RULE_SETTERS[street_code]]
        for rule in rules:
            earning_rule_set(
                street=ctx.areas[street_code],
                activity=rule.activity,
                points=rule.points,
                daily_cap=rule.daily_cap,
                weekly_cap=rule.weekly_cap,
                actor=actor,
            )
    points_settings_update(
        street=ctx.areas[data.QINGYUAN],
        approval_threshold=pp.APPROVAL_THRESHOLD,
        actor=ctx.accounts["street_admin"],
    )


def history_start(today: date) -> date:
    """The first day of the ledger history: ``HISTORY_DAYS`` back, but not before 1 January
    (so every point counts in this year's ranking)."""
    return max(date(today.year, 1, 1), today - timedelta(days=pp.HISTORY_DAYS))


def moment(now: datetime, t: float, hour: int, minute: int) -> datetime:
    """The moment at share ``t`` (0 ≤ t < 1) of the history before ``now``: on the day that
    share falls on, at ``hour:minute`` (Asia/Shanghai), always before today. On 1 January
    there are no whole days yet, so the share is taken of the hours since midnight."""
    today = timezone.localdate(now)
    start = history_start(today)
    days = (today - start).days
    if days >= 1:
        day = start + timedelta(days=int(t * days))
        return timezone.make_aware(datetime.combine(day, time(hour, minute)))
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    return midnight + (now - midnight) * t


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    """The services (and ``auto_now`` fields) read ``timezone.now``: set it to ``at``."""
    with mock.patch.object(timezone, "now", lambda: at):
        yield


def _gift(reason: str, at: datetime) -> str:
    season = "送清凉" if 5 <= timezone.localtime(at).month <= 9 else "送温暖"
    return reason.format(gift=season)


def load_ledger(ctx: DemoContext) -> None:
    """The months before the load day, in order: community staff award riders by hand for
    verified acts (随手拍, 巡查值守, 一老一小 …); one award paid twice by mistake is reversed;
    yesterday 清远西街社区's staff asked for a large award that waits for a second approval."""
    plan = ctx.points
    community = {r.key: r.community for r in ctx.plan.riders}
    users: dict[str, User] = {}

    def award(item: pp.AwardPlan, at: datetime) -> None:
        if item.rider not in users:
            users[item.rider] = ctx.user_of(item.rider)
        with _clock(at):
            ctx.awards[item.key] = points_award(
                member=users[item.rider],
                amount=item.act.points,
                reason=_gift(item.act.reason, at),
                evidence=item.act.evidence,
                actor=ctx.staff_of(community[item.rider]),
                idempotency_key=item.key,
            )

    def reverse(item: pp.ReversalPlan, at: datetime) -> None:
        original = ctx.awards[item.award]
        with _clock(at):
            points_reverse(
                posting=original.earning.posting,
                reason=item.reason,
                actor=original.requested_by,
                idempotency_key=f"demo-reverse-{item.award}",
            )

    events: list[tuple[datetime, int, Callable[[datetime], None]]] = []
    for number, item in enumerate([*plan.awards, plan.pending]):
        at = moment(ctx.now, item.t, item.hour, item.minute)
        events.append((at, number, lambda at, item=item: award(item, at)))
    item = plan.reversal
    at = moment(ctx.now, item.t, item.hour, item.minute)
    events.append((at, len(events), lambda at, item=item: reverse(item, at)))
    for at, _number, run in sorted(events, key=lambda event: event[:2]):
        run(at)


def load_shop(ctx: DemoContext) -> None:
    """清远街道's 积分超市: the catalogue, stock at 清远西街小哥驿站 (and a little at 西关), and
    the window "首次积分兑换", open from the load day for two weeks to the top 15 of the year."""
    street = ctx.areas[data.QINGYUAN]
    admin = ctx.accounts["street_admin"]
    shop = ctx.stations[pp.SHOP_STATION]
    for spec in pp.REWARDS:
        reward = reward_create(
            street=street,
            name=spec.name,
            cost=spec.cost,
            description=spec.description,
            per_rider_limit=spec.per_rider_limit,
            pickup_hours=pp.PICKUP_HOURS,
            actor=admin,
        )
        ctx.rewards[spec.name] = reward
        stock_change(
            reward=reward,
            station=shop,
            change=spec.stock,
            reason="首批奖品到货",
            actor=ctx.staff_of(shop.community.code),
        )
    xiguan = ctx.stations.get("xiguan")
    if xiguan is not None:
        for name, items in pp.XIGUAN_STOCK.items():
            stock_change(
                reward=ctx.rewards[name],
                station=xiguan,
                change=items,
                reason="从清远西街小哥驿站调拨",
                actor=ctx.staff_of(xiguan.community.code),
            )
    opens = timezone.make_aware(datetime.combine(timezone.localdate(ctx.now), time.min))
    ctx.window = window_create(
        street=street,
        name=pp.WINDOW_NAME,
        top_n=pp.WINDOW_TOP_N,
        season_kind=SeasonKind.YEAR,
        opens_at=opens,
        closes_at=opens + timedelta(days=pp.WINDOW_DAYS),
        actor=admin,
    )


def load_redemptions(ctx: DemoContext) -> None:
    """The first exchange has begun: the leader picked up 洗衣液 and 湿巾 and reserved a 充电宝
    (a pickup code to show); the second reserved a 旅行水壶 and cancelled it."""
    shop = ctx.stations[pp.SHOP_STATION]
    staff = ctx.staff_of(shop.community.code)
    for item in pp.redemption_plan(ctx.points):
        user = ctx.user_of(item.rider)
        redemption = redemption_reserve(
            user=user, reward=ctx.rewards[item.reward], station=shop, idempotency_key=item.key
        )
        if item.outcome == RedemptionStatus.FULFILLED:
            redemption = redemption_fulfil(station=shop, code=redemption.qr_payload, actor=staff)
        elif item.outcome == RedemptionStatus.CANCELLED:
            redemption = redemption_cancel(redemption=redemption, actor=user)
        ctx.redemptions[item.key] = redemption


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def load_checklist(ctx: DemoContext) -> None:
    """清远街道's "6+6" standard for its stations: six facilities and six services."""
    street = ctx.areas[data.QINGYUAN]
    for order, text in enumerate(sp.CHECKLIST, start=1):
        ctx.checklist.append(
            checklist_item_create(
                street=street,
                text=text,
                standard=sp.STANDARD,
                sort_order=order,
                actor=ctx.accounts["street_admin"],
            )
        )


def load_inspections(ctx: DemoContext) -> None:
    """Each station inspected once against the "6+6" standard by its community's staff, in the
    weeks before the load day; three fall short on one item each."""
    today = timezone.localdate(ctx.now)
    for number, plan in enumerate(sp.INSPECTIONS):
        station = ctx.stations[plan.station]
        failed = dict(plan.failed)
        day = today - timedelta(days=plan.days_back)
        with _clock(_local(day, 9 + number % 3, 30)):
            inspection_record(
                station=station,
                results={item.pk: i not in failed for i, item in enumerate(ctx.checklist)},
                standard=sp.STANDARD,
                inspected_on=day,
                note=plan.note,
                notes={ctx.checklist[i].pk: note for i, note in failed.items()},
                actor=ctx.staff_of(station.community.code),
            )


def load_visits(ctx: DemoContext) -> None:
    """People served over the months before the load day, in order: riders scan the stations'
    and corners' QR codes (once a day per place), and staff and host merchants record walk-ins,
    each within the place's opening hours."""
    today = timezone.localdate(ctx.now)
    specs = {spec.key: spec for spec in sp.all_places()}
    hours = {key: hours_module.parse_text(spec.hours) for key, spec in specs.items()}
    tokens: dict[str, str] = {}
    users: dict[str, User] = {}
    planned = [
        (sp.visit_moment(hours[v.station], today, v.days_back, v.u), number, v)
        for number, v in enumerate(sp.build_activity().visits)
    ]
    for at, _number, visit in sorted(planned, key=lambda item: item[:2]):
        station = ctx.stations[visit.station]
        with _clock(at):
            if visit.rider is not None:
                if visit.rider not in users:
                    users[visit.rider] = ctx.user_of(visit.rider)
                if visit.station not in tokens:
                    tokens[visit.station] = qr_token(station)
                visit_check_in(
                    station=station,
                    token=tokens[visit.station],
                    user=users[visit.rider],
                    idempotency_key=visit.key,
                )
            else:
                visit_walk_in(
                    station=station,
                    people=visit.people,
                    note=visit.note,
                    actor=ctx.accounts[visit.recorded_by],
                    idempotency_key=visit.key,
                )


def load_station_changes(ctx: DemoContext) -> None:
    """What hosts and staff changed since: two shops close for a day in the coming week (their
    merchants set it), and one corner off the demonstration street is closed for renovation."""
    today = timezone.localdate(ctx.now)
    activity = sp.build_activity()
    hosts = {spec.key: spec.merchant for spec in sp.all_places()}
    for plan in activity.exceptions:
        ctx.stations[plan.station] = station_exception_set(
            station=ctx.stations[plan.station],
            day=today + timedelta(days=plan.days_ahead),
            closed=True,
            actor=ctx.accounts[hosts[plan.station]],
        )
    for plan in activity.suspensions:
        station = ctx.stations[plan.station]
        ctx.stations[plan.station] = station_update(
            station=station,
            status=StationStatus.SUSPENDED,
            status_note=plan.note,
            actor=ctx.staff_of(station.community.code),
        )


def load_holidays(ctx: DemoContext) -> None:
    """The national holidays of 2026 and 2027 in the working calendar (deadlines skip them),
    set by the platform operator (a bootstrap account without a password, as the calendar is
    the operator's). Dates the calendar has already are left as they are."""
    spec = data.OPERATOR
    operator = account_create(
        username=spec.username,
        name=spec.name,
        role=spec.role,
        password=None,
        is_superuser=True,
    )
    ctx.accounts[spec.key] = operator
    have = set(Holiday.objects.values_list("date", flat=True))
    for holiday in rp.HOLIDAYS:
        if holiday.day not in have:
            holiday_set(
                day=holiday.day, is_workday=holiday.is_workday, name=holiday.name, actor=operator
            )


def load_report_categories(ctx: DemoContext) -> None:
    """清远街道's report categories: the standard catalogue (with what each pays), then each
    given its default department by the street admin."""
    street = ctx.areas[data.QINGYUAN]
    admin = ctx.accounts["street_admin"]
    categories_seed(street=street, actor=admin)
    for category in Category.objects.filter(street=street):
        ctx.categories[category.code] = category
    for code, department in rp.CATEGORY_DEPARTMENTS.items():
        ctx.categories[code] = category_update(
            category=ctx.categories[code], department=ctx.departments[department], actor=admin
        )


def report_times(now: datetime, plan: rp.ReportPlan) -> list[datetime]:
    """When the report was submitted, then when each of its steps happened.

    A report at a share of the history window starts at ``moment`` and its steps follow at their
    minutes; when the last would fall on the load day (or later), the steps are drawn closer
    together, in proportion, so that all of them fall before it (before the load moment on 1
    January) — verification pays points, and the ledger's history lies before the load day. A
    report ``ago`` minutes back starts then; its steps are all before the load moment.
    """
    offsets = [step.after for step in plan.steps]
    if plan.ago is not None:
        start = now - timedelta(minutes=plan.ago)
        return [start] + [start + timedelta(minutes=m) for m in offsets]
    start = moment(now, plan.t, plan.hour, plan.minute)
    today = timezone.localdate(now)
    if (today - history_start(today)).days >= 1:
        bound = timezone.make_aware(datetime.combine(today, time.min))
    else:
        bound = now
    last = max(offsets, default=0)
    scale = 1.0
    if last and start + timedelta(minutes=last) >= bound:
        scale = (bound - start - timedelta(minutes=1)) / timedelta(minutes=last)
    return [start] + [start + timedelta(minutes=m * scale) for m in offsets]


class _HistoryInbox:
    """``transaction`` as the notifications service sees it while the history is played: its
    messages go into the inbox, but are not handed to the channels (SMS, the console …) when the
    load commits — they were news back then, not now."""

    def __getattr__(self, name: str):
        return getattr(transaction, name)

    @staticmethod
    def on_commit(func, using=None, robust=False) -> None:
        return None


def _upload(content: bytes) -> ContentFile:
    return ContentFile(content, name="photo.jpg")


def load_reports(ctx: DemoContext) -> None:
    """The reports, played through the services in the order of their moments (see
    ``reports_plan``): submitted with a photo by riders, triaged, dispatched and verified by
    staff, handled by the departments with an after photo; the escalation job each morning."""
    users: dict[str, User] = {}

    def person(key: str) -> User:
        if key.startswith("rider:"):
            rider = key.removeprefix("rider:")
            if rider not in users:
                users[rider] = ctx.user_of(rider)
            return users[rider]
        return ctx.accounts[key]

    def submit(plan: rp.ReportPlan, dup: rp.Duplicate | None = None) -> None:
        item = dup or plan
        report = report_submit(
            reporter=person(f"rider:{item.reporter}"),
            category=ctx.categories[plan.category],
            lat=item.lat,
            lng=item.lng,
            description=item.description,
            idempotency_key=item.key,
            photos=[_upload(rp.report_photo(plan, dup))],
            address=plan.address,
            building=plan.building,
            unit=plan.unit,
            floor=plan.floor,
        )
        ctx.reports[item.key] = report

    def act(plan: rp.ReportPlan, step: rp.Step) -> None:
        report = ctx.reports[plan.key]
        actor = person(step.actor)
        photos = [_upload(rp.step_photo(plan, step))] if step.photo else []
        department = ctx.departments[step.department] if step.department else None
        if step.kind == "duplicate":
            submit(plan, plan.duplicates[step.dup])
        elif step.kind == "merge":
            dup = ctx.reports[plan.duplicates[step.dup].key]
            report_merge(report=dup, into=report, actor=actor, note="同一处问题，合并处理")
        elif step.kind == "witness":
            report_witness(report=report, user=actor)
        elif step.kind == "acknowledge":
            report_acknowledge(report=report, actor=actor)
        elif step.kind == "accept":
            report_accept(report=report, actor=actor, note=step.note)
        elif step.kind == "reject":
            report_reject(report=report, actor=actor, reason=step.note)
        elif step.kind == "dispatch":
            report_dispatch(report=report, actor=actor, department=department, note=step.note)
        elif step.kind == "redirect":
            report_redirect(report=report, actor=actor, department=department, note=step.note)
        elif step.kind == "handle":
            report_handle(report=report, actor=actor, note=step.note, photos=photos)
        elif step.kind == "verify":
            report_verify(
                report=report, actor=actor, passed=step.passed, note=step.note, photos=photos
            )
        elif step.kind == "close":
            report_close(report=report, actor=actor, note=step.note)
        elif step.kind == "reopen":
            report_reopen(report=report, actor=actor, note=step.note, photos=photos)
        else:  # pragma: no cover - the plan's own test keeps the kinds known
            raise ValueError(f"unknown step {step.kind}")

    def escalate(at: datetime) -> None:
        reports_escalate(now=at)

    def read_inboxes(at: datetime) -> None:
        unread = Notification.objects.filter(read_at__isnull=True)
        for user in User.objects.filter(pk__in=unread.values("recipient_id")).order_by("pk"):
            notifications_read_all(user=user)

    events: list[tuple[datetime, int, Callable[[datetime], None]]] = []

    def add(at: datetime, run: Callable[[datetime], None]) -> None:
        events.append((at, len(events), run))

    plans = rp.build_reports_plan().reports
    for plan in plans:
        start, *times = report_times(ctx.now, plan)
        add(start, lambda at, plan=plan: submit(plan))
        for step, at in zip(plan.steps, times, strict=True):
            add(at, lambda at, plan=plan, step=step: act(plan, step))
    # The scheduler (every minute in production): each morning over the history, and at the
    # load moment. A case late in the afternoon is escalated the next morning.
    first = timezone.localdate(min(at for at, _n, _run in events))
    today = timezone.localdate(ctx.now)
    for days in range((today - first).days + 1):
        at = _local(first + timedelta(days=days), 8, 30)
        if at < ctx.now:
            add(at, escalate)
    add(ctx.now, escalate)
    add(ctx.now - timedelta(hours=36), read_inboxes)

    with mock.patch.object(notification_services, "transaction", _HistoryInbox()):
        start = min(at for at, _n, _run in events)
        with _clock(start):
            for key in rp.ON_DUTY:
                staff_set_on_duty(user=ctx.accounts[key], on_duty=True)
        for at, _number, run in sorted(events, key=lambda event: event[:2]):
            with _clock(at):
                run(at)
    for key in ctx.reports:
        ctx.reports[key].refresh_from_db()


# --- care and service: events, duties, wishes, appeals, honours ------------------------------


def _care_at(now: datetime, when: cp.When) -> datetime:
    """A care item's moment: a share of the history window, or whole days back."""
    if when.t is not None:
        return moment(now, when.t, when.hour, when.minute)
    day = timezone.localdate(now) - timedelta(days=when.days_ago or 0)
    return _local(day, when.hour, when.minute)


def care_times(now: datetime, when: cp.When, offsets: list[int]) -> list[datetime]:
    """The moments ``offsets`` minutes after the item's moment; drawn closer together (in
    proportion) when the last would reach the load day (for a dated share of the history,
    whose points belong before it) or the load moment (see ``report_times``)."""
    start = _care_at(now, when)
    today = timezone.localdate(now)
    if when.t is not None and (today - history_start(today)).days >= 1:
        bound = _local(today, 0)
    else:
        bound = now
    last = max(offsets, default=0)
    scale = 1.0
    if last > 0 and start + timedelta(minutes=last) >= bound:
        scale = (bound - start - timedelta(minutes=1)) / timedelta(minutes=last)
    return [start + timedelta(minutes=m * scale) for m in offsets]


Timeline = list[tuple[datetime, int, Callable[[], object]]]


def _play(timeline: Timeline) -> None:
    """Run each action with the clock at its moment, in order; the messages go to the inboxes
    only (see ``_HistoryInbox``)."""
    with mock.patch.object(notification_services, "transaction", _HistoryInbox()):
        for at, _number, run in sorted(timeline, key=lambda item: item[:2]):
            with _clock(at):
                run()


def _users(ctx: DemoContext) -> Callable[[str], User]:
    cache: dict[str, User] = {}

    def user(rider: str) -> User:
        if rider not in cache:
            cache[rider] = ctx.user_of(rider)
        return cache[rider]

    return user


def _rider_staff(ctx: DemoContext, rider: str) -> User:
    return ctx.staff_of(ctx.plan.rider(rider).community)


def load_events(ctx: DemoContext) -> None:
    """Seven events over the months before the load day (the 骑手节 with its hand-out first),
    with sign-ups, cancellations, a waiting list and staff confirming riders at the door
    (attendance points paid once by the services); two upcoming ones riders can sign up for."""
    user = _users(ctx)
    timeline: Timeline = []

    def add(at: datetime, run: Callable[[], object]) -> None:
        timeline.append((at, len(timeline), run))

    signups: dict[tuple[str, str], Signup] = {}

    for plan in ctx.care.events:
        actor = ctx.accounts[plan.created_by]
        steps = list(plan.steps)
        offsets = [0, *(s.after for s in steps), plan.starts_after, plan.starts_after + 1]
        if plan.upcoming:
            start = _care_at(ctx.now, plan.when)
            times = [start + timedelta(minutes=m) for m in offsets]
        else:
            offsets[-1] = plan.starts_after + plan.minutes
            handout = plan.handout
            extra = []
            if handout is not None:
                extra = [plan.starts_after + 30, plan.starts_after + 40]
                extra += [plan.starts_after + 60 + 2 * i for i in range(len(handout.receipts))]
            times = care_times(ctx.now, plan.when, offsets + extra)
        starts_at, ends_at = times[len(steps) + 1], times[len(steps) + 2]
        if plan.upcoming:
            ends_at = starts_at + timedelta(minutes=plan.minutes)

        def create(plan=plan, actor=actor, starts_at=starts_at, ends_at=ends_at) -> None:
            ctx.events[plan.key] = event_create(
                organiser=ctx.areas[plan.organiser],
                title=plan.title,
                kind=plan.kind,
                starts_at=starts_at,
                ends_at=ends_at,
                capacity=plan.capacity,
                description=plan.description,
                audience=plan.audience,
                station=ctx.stations[plan.station] if plan.station else None,
                address=plan.address,
                actor=actor,
            )

        add(times[0], create)
        for step, at in zip(steps, times[1 : len(steps) + 1], strict=True):

            def act(plan=plan, step=step, actor=actor) -> None:
                event = ctx.events[plan.key]
                if step.action == "signup":
                    signups[(plan.key, step.rider)] = signup_create(
                        event=event, user=user(step.rider)
                    )
                elif step.action == "cancel":
                    signup_cancel(signup=signups[(plan.key, step.rider)], actor=user(step.rider))
                else:
                    signup = Signup.objects.get(event=event, user=user(step.rider))
                    check_in_by_staff(event=event, code=signup.code, actor=actor)

            add(at, act)
        if not plan.upcoming and plan.handout is not None:
            _handout_steps(ctx, plan, actor, times[len(steps) + 3 :], add, user)
    _play(timeline)


def _handout_steps(ctx, plan, actor, times, add, user) -> None:
    handout = plan.handout
    start = ctx.events.get(plan.key)
    del start
    items: dict[str, DistributionItem] = {}

    def season(at: datetime) -> bool:
        return 5 <= timezone.localtime(at).month <= 9

    summer = season(times[0])
    names = handout.summer_items if summer else handout.winter_items

    def create() -> None:
        distribution = distribution_create(
            area=ctx.areas[plan.organiser],
            name=handout.summer if summer else handout.winter,
            items=list(names),
            description=handout.description,
            actor=actor,
        )
        ctx.handouts[plan.key] = distribution
        for item in distribution.items.all():
            items[item.name] = item

    def restock() -> None:
        index, change = handout.restock
        item_restock(
            distribution=ctx.handouts[plan.key],
            name=names[index][0],
            change=change,
            actor=actor,
        )

    add(times[0], create)
    add(times[1], restock)
    for (rider, lines), at in zip(handout.receipts, times[2:], strict=True):

        def receive(rider=rider, lines=lines) -> None:
            receipt_record(
                distribution=ctx.handouts[plan.key],
                rider=user(rider),
                items={items[names[i][0]]: quantity for i, quantity in lines},
                actor=actor,
            )

        add(at, receive)


def load_duties(ctx: DemoContext) -> None:
    """Duty logs by riders holding posts: patrols, mediations, 30 acts of help to the elderly
    and children and gift deliveries, each logged just after it; staff verify most a day or so
    later (paid once), one is turned down, a few wait; one gift is confirmed by the household
    with the code staff gave it."""
    user = _users(ctx)
    timeline: Timeline = []
    codes: dict[str, str] = {}

    def add(at: datetime, run: Callable[[], object]) -> None:
        timeline.append((at, len(timeline), run))

    for plan in ctx.care.duties:
        log_after = plan.minutes + 20
        offsets = [0, plan.minutes, log_after]
        if plan.outcome != "pending":
            offsets.append(log_after + plan.decide_after)
        times = care_times(ctx.now, plan.when, offsets)
        spec = ctx.plan.rider(plan.rider)
        staff = ctx.staff_of(spec.community)
        post = ctx.posts[(spec.community, KIND_POSTS[plan.kind])]

        def log(plan=plan, post=post, start=times[0], end=times[1]) -> None:
            ctx.duties[plan.key] = duty_log(
                actor=user(plan.rider),
                post=post,
                kind=plan.kind,
                started_at=start,
                ended_at=end if plan.minutes else None,
                place=plan.place,
                note=_gift(plan.note, start),
                idempotency_key=plan.key,
            )

        if plan.outcome == "household":

            def issue(plan=plan, spec=spec, staff=staff) -> None:
                _code, codes[plan.key] = gift_code_issue(
                    community=ctx.areas[spec.community], household=plan.household, actor=staff
                )

            add(times[0] - timedelta(hours=20), issue)
        add(times[2], log)
        if plan.outcome == "pending":
            continue

        def decide(plan=plan, staff=staff) -> None:
            duty = ctx.duties[plan.key]
            if plan.outcome == "verified":
                ctx.duties[plan.key] = duty_verify(duty=duty, actor=staff)
            elif plan.outcome == "rejected":
                ctx.duties[plan.key] = duty_reject(duty=duty, actor=staff, reason=plan.reason)
            else:
                ctx.duties[plan.key] = duty_confirm(duty_id=duty.pk, code=codes[plan.key])

        add(times[3], decide)
    _play(timeline)


def load_wishes(ctx: DemoContext) -> None:
    """Micro-wishes in every state: posted by riders, approved (one turned down) by their
    community's staff, claimed and fulfilled by the volunteer, the caring noodle shop or staff,
    confirmed by the rider (the volunteer is paid); some wait on the wall to be claimed."""
    user = _users(ctx)
    timeline: Timeline = []

    def add(at: datetime, run: Callable[[], object]) -> None:
        timeline.append((at, len(timeline), run))

    for plan in ctx.care.wishes:
        steps = plan.steps()
        times = care_times(ctx.now, plan.when, [0, *(after for _kind, after in steps)])
        staff = _rider_staff(ctx, plan.rider)

        def post(plan=plan) -> None:
            ctx.wishes[plan.key] = wish_post(
                rider=user(plan.rider),
                category=plan.category,
                text=plan.text,
                idempotency_key=plan.key,
            )

        add(times[0], post)
        for (kind, _after), at in zip(steps, times[1:], strict=True):

            def act(plan=plan, kind=kind, staff=staff) -> None:
                wish = Wish.objects.get(pk=ctx.wishes[plan.key].pk)
                claimer = ctx.accounts[plan.claimer] if plan.claimer else None
                if kind == "approve":
                    wish = wish_approve(wish=wish, actor=staff)
                elif kind == "reject":
                    wish = wish_reject(wish=wish, actor=staff, reason=plan.reason)
                elif kind == "withdraw":
                    wish = wish_withdraw(wish=wish, actor=user(plan.rider))
                elif kind == "claim":
                    wish_claim(wish=wish, actor=claimer)
                elif kind == "fulfil":
                    wish = wish_fulfil(wish=wish, actor=claimer, note=plan.note)
                else:
                    wish = wish_confirm(wish=wish, actor=user(plan.rider), note="收到了，谢谢！")
                ctx.wishes[plan.key] = wish

            add(at, act)
    _play(timeline)


def _handler_of(department: str) -> str:
    """The account key of a department's handler (``data.ACCOUNTS`` or ``care_plan.BODIES``)."""
    specs = [*data.ACCOUNTS, *(body.handler for body in cp.BODIES)]
    return next(s.key for s in specs if s.department == department)


def load_appeals(ctx: DemoContext) -> None:
    """诉求直通车: the bodies appeals go to (工会, 人社, 司法所, 交警, with a handler each), then
    riders' appeals across the four difficulties routed by their community's staff, answered by
    the bodies, rated (one low, answered again), with the four deliveries; the harder ones on
    the agenda of a joint meeting (联席会议) with minutes and decisions followed up."""
    for body in cp.BODIES:
        ctx.departments[body.key] = department_create(
            name=body.name, area=ctx.areas[body.area_code], actor=ctx.accounts[body.created_by]
        )
        spec = body.handler
        ctx.accounts[spec.key] = account_create(
            username=spec.username,
            name=spec.name,
            role=spec.role,
            area=ctx.areas[spec.area_code],
            password=None,
            department=ctx.departments[body.key],
            actor=ctx.accounts[spec.created_by],
        )
    user = _users(ctx)
    timeline: Timeline = []

    def add(at: datetime, run: Callable[[], object]) -> None:
        timeline.append((at, len(timeline), run))

    meeting = ctx.care.meeting
    held = _care_at(ctx.now, meeting.when)
    for plan in ctx.care.appeals:
        before = [s for s in plan.steps if not s.after_meeting]
        times = care_times(ctx.now, plan.when, [0, *(s.after for s in before)])
        times += [held + timedelta(minutes=s.after) for s in plan.steps if s.after_meeting]
        staff = _rider_staff(ctx, plan.rider)

        def raise_(plan=plan) -> None:
            ctx.appeals[plan.key] = appeal_raise(
                rider=user(plan.rider),
                difficulty=plan.difficulty,
                topic=plan.topic,
                text=plan.text,
                anonymous=plan.anonymous,
                idempotency_key=plan.key,
            )

        add(times[0], raise_)
        routed: list[str] = []
        for step, at in zip(plan.steps, times[1:], strict=True):
            if step.kind == "route":
                routed.append(step.body)

            def act(plan=plan, step=step, staff=staff, body=routed[-1] if routed else "") -> None:
                appeal = Appeal.objects.get(pk=ctx.appeals[plan.key].pk)
                if step.kind == "route":
                    appeal = appeal_route(
                        appeal=appeal,
                        actor=staff,
                        body=ctx.departments[step.body],
                        days=step.days,
                        note=step.text,
                    )
                elif step.kind == "answer":
                    by = ctx.accounts[_handler_of(body)] if step.by == "handler" else staff
                    appeal = appeal_answer(appeal=appeal, actor=by, text=step.text)
                elif step.kind == "rate":
                    appeal = appeal_rate(
                        appeal=appeal, actor=user(plan.rider), stars=step.stars, comment=step.text
                    )
                elif step.kind == "deliver":
                    delivery_record(appeal=appeal, actor=staff, kind=step.delivery, note=step.text)
                else:
                    appeal = appeal_close(appeal=appeal, actor=staff, note=step.text)
                ctx.appeals[plan.key] = appeal

            add(at, act)
    _meeting_steps(ctx, meeting, held, add, user)
    _play(timeline)


def _meeting_steps(ctx, meeting: cp.MeetingPlan, held: datetime, add, user) -> None:
    admin = ctx.accounts["street_admin"]
    agenda: dict[str, AgendaItem] = {}
    decisions: list[Decision] = []

    def create() -> None:
        ctx.meeting = meeting_create(
            actor=admin,
            area=ctx.areas[data.QINGYUAN],
            title=meeting.title,
            held_on=timezone.localdate(held),
            place=meeting.place,
            bodies=[ctx.departments[key] for key in meeting.bodies],
            riders=[user(key) for key in meeting.riders],
        )

    add(held, create)
    on_agenda = [plan for plan in ctx.care.appeals if plan.agenda]
    for number, plan in enumerate(on_agenda):

        def item(plan=plan) -> None:
            appeal = Appeal.objects.get(pk=ctx.appeals[plan.key].pk)
            agenda[plan.key] = agenda_add(meeting=ctx.meeting, actor=admin, appeal=appeal)

        add(held + timedelta(minutes=5 + number), item)
    add(
        held + timedelta(minutes=10),
        lambda: agenda_add(meeting=ctx.meeting, actor=admin, text=meeting.extra_item),
    )
    add(
        held + timedelta(minutes=150),
        lambda: meeting_minutes(meeting=ctx.meeting, actor=admin, minutes=meeting.minutes),
    )
    for number, plan in enumerate(meeting.decisions):

        def decide(plan=plan) -> None:
            decisions.append(
                decision_add(
                    meeting=ctx.meeting,
                    actor=admin,
                    text=plan.text,
                    due_on=timezone.localdate(held) + timedelta(days=plan.due_days),
                    owner_body=ctx.departments[plan.owner_body] if plan.owner_body else None,
                    owner_name=plan.owner_name,
                    agenda_item=agenda.get(plan.appeal),
                )
            )

        add(held + timedelta(minutes=155 + number), decide)
        if plan.follow_up:

            def follow(number=number, plan=plan) -> None:
                decision_follow_up(
                    decision=decisions[number], actor=admin, note=plan.follow_up, done=plan.done
                )

            add(held + timedelta(minutes=plan.follow_up_after), follow)


def load_honours(ctx: DemoContext) -> None:
    """The year's titles of 清远街道: 清远骑士 (quota 15) go to the 15 riders with the best record,
    nominated by their community's staff and approved by the street admin (one nomination was
    turned down first); two nominations for 优秀流动网格员 wait for the street admin."""
    admin = ctx.accounts["street_admin"]
    year = timezone.localdate(ctx.now).year
    timeline: Timeline = []

    def add(at: datetime, run: Callable[[], object]) -> None:
        timeline.append((at, len(timeline), run))

    for plan in ctx.care.titles:
        start = _care_at(ctx.now, plan.when)

        def create(plan=plan) -> None:
            ctx.titles[plan.name] = title_create(
                street=ctx.areas[data.QINGYUAN],
                name=plan.name,
                quota=plan.quota,
                description=plan.description,
                year=year,
                actor=admin,
            )

        add(start, create)
        for number, nomination in enumerate(plan.nominations):
            staff = _rider_staff(ctx, nomination.rider)
            at = start + timedelta(minutes=60 + 7 * number)

            def nominate(plan=plan, nomination=nomination, staff=staff) -> None:
                ctx.nominations[(plan.name, nomination.rider)] = nomination_create(
                    title=ctx.titles[plan.name],
                    rider=ctx.riders[nomination.rider],
                    reason=nomination.reason,
                    actor=staff,
                )

            add(at, nominate)
            if nomination.outcome == "pending":
                continue
            decided = at + timedelta(minutes=5 if nomination.outcome == "rejected" else 1440)

            def decide(plan=plan, nomination=nomination) -> None:
                found = ctx.nominations[(plan.name, nomination.rider)]
                if nomination.outcome == "approved":
                    nomination_approve(nomination=found, actor=admin)
                else:
                    nomination_reject(nomination=found, actor=admin, reason=nomination.rejection)

            add(decided, decide)
    _play(timeline)


Step = Callable[[DemoContext], None]

#: The demo, in order. Append a step to extend it (reports, events …).


def load_organisation(ctx: DemoContext) -> None:
    """清远街道's party-membership pipeline: the module on, 清远街道小哥党支部 with 张慧敏 on
    its staff, eight riders at every stage (and one closed)."""
    load_organisation_demo(today=timezone.localdate(ctx.now))


def load_dashboards(ctx: DemoContext) -> None:
    """The dashboards' rollups, rebuilt from every fact the steps above wrote (back-dated)."""
    load_dashboards_demo()


STEPS: list[Step] = [
    load_district,
    load_areas,
    load_accounts,
    load_posts,
    load_riders,
    load_claims,
    load_teams,
    load_merchants,
    load_stations,
    load_points_rules,
    load_ledger,
    load_shop,
    load_checklist,
    load_inspections,
    load_visits,
    load_station_changes,
    load_holidays,
    load_report_categories,
    load_reports,
    load_events,
    load_duties,
    load_wishes,
    load_appeals,
    load_honours,
    load_organisation,
    # The first exchange (at the load moment) comes after the whole history it ranks.
    load_redemptions,
    # Last: the dashboards' rollups are built from everything above.
    load_dashboards,
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
    ctx = DemoContext(plan=build_plan(), now=timezone.now())
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
        **_points_counts(code),
        **_stations_counts(code),
        **_reports_counts(code),
        **_care_counts(code),
    }


def _care_counts(code: str) -> dict[str, int]:
    now = timezone.now()
    events = Event.objects.filter(area_code__startswith=code)
    signups = Signup.objects.filter(area_code__startswith=code)
    duties = Duty.objects.filter(area_code__startswith=code)
    wishes = Wish.objects.filter(area_code__startswith=code)
    appeals = Appeal.objects.filter(area_code__startswith=code)
    decisions = Decision.objects.filter(area_code__startswith=code)
    nominations = Nomination.objects.filter(area_code__startswith=code)
    items = DistributionItem.objects.filter(area_code__startswith=code)

    def by_status(qs) -> dict[str, int]:
        return dict(qs.order_by().values_list("status").annotate(n=Count("id")))

    duty_states, wish_states = by_status(duties), by_status(wishes)
    appeal_states = by_status(appeals)
    return {
        "events_held": events.filter(ends_at__lte=now).count(),
        "events_upcoming": events.filter(starts_at__gt=now).count(),
        "signups": signups.count(),
        "signups_waiting": signups.filter(status=SignupStatus.WAITING).count(),
        "signups_cancelled": signups.filter(status=SignupStatus.CANCELLED).count(),
        "attended": signups.filter(checked_in_at__isnull=False).count(),
        "handouts": Distribution.objects.filter(area_code__startswith=code).count(),
        "handout_receipts": Receipt.objects.filter(area_code__startswith=code).count(),
        "handout_items": items.aggregate(n=Sum("handed_out"))["n"] or 0,
        "duties": duties.count(),
        **{f"duties_{status}": duty_states.get(status, 0) for status in DutyStatus.values},
        "helped": duties.filter(kind__in=("help", "gift"), status=DutyStatus.VERIFIED).count(),
        "wishes": wishes.count(),
        **{f"wishes_{status}": wish_states.get(status, 0) for status in WishStatus.values},
        "appeals": appeals.count(),
        **{f"appeals_{status}": appeal_states.get(status, 0) for status in AppealStatus.values},
        "appeals_overdue": appeals.filter(status=AppealStatus.ROUTED, deadline_at__lt=now).count(),
        "deliveries": Delivery.objects.filter(area_code__startswith=code).count(),
        "meetings": Meeting.objects.filter(area_code__startswith=code).count(),
        "decisions_done": decisions.filter(status=DecisionStatus.DONE).count(),
        "decisions_open": decisions.filter(status=DecisionStatus.OPEN).count(),
        "titles": Title.objects.filter(area_code__startswith=code).count(),
        "honours": nominations.filter(status=NominationStatus.APPROVED).count(),
        "nominations_pending": nominations.filter(status=NominationStatus.PENDING).count(),
    }


def _reports_counts(code: str) -> dict[str, int]:
    reports = Report.objects.filter(area_code__startswith=code)
    by_status = dict(
        reports.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    dispatched = reports.filter(status=ReportStatus.DISPATCHED)
    paid = Posting.objects.filter(
        area_code__startswith=code, kind=PostingKind.AWARD, activity=Activity.REPORT_VERIFIED
    )
    return {
        "report_categories": Category.objects.filter(area_code__startswith=code).count(),
        "reports": reports.count(),
        **{f"reports_{status}": by_status.get(status, 0) for status in ReportStatus.values},
        "reports_open": reports.filter(status__in=OPEN_STATUSES).count(),
        "reports_overdue": dispatched.filter(deadline_at__lt=timezone.now()).count(),
        "reports_escalated": dispatched.filter(escalation__gt=0).count(),
        "reports_urgent": reports.filter(urgent=True).count(),
        "witnesses": Witness.objects.filter(area_code__startswith=code).count(),
        "report_photos": ReportPhoto.objects.filter(area_code__startswith=code).count(),
        "report_points": paid.aggregate(n=Sum("amount"))["n"] or 0,
        "holidays": Holiday.objects.filter(date__year__in=(2026, 2027)).count(),
    }


def _stations_counts(code: str) -> dict[str, int]:
    stations = Station.objects.filter(area_code__startswith=code)
    corners = stations.filter(kind=StationKind.CORNER)
    visits = Visit.objects.filter(area_code__startswith=code)
    on_street = [
        point
        for point in corners.values_list("lng", "lat")
        if sp.distance_to_street_m(*point) <= sp.STREET_WIDTH_M
    ]
    return {
        "stations": stations.exclude(kind=StationKind.CORNER).count(),
        "corners": corners.count(),
        "corners_on_street": len(on_street),
        "corners_suspended": corners.filter(status=StationStatus.SUSPENDED).count(),
        "checklist_items": ChecklistItem.objects.filter(area_code__startswith=code).count(),
        "inspections": Inspection.objects.filter(area_code__startswith=code).count(),
        "check_ins": visits.filter(kind=VisitKind.SCAN).count(),
        "walk_ins": visits.filter(kind=VisitKind.WALK_IN).count(),
        "people_served": visits.aggregate(n=Sum("people"))["n"] or 0,
    }


def _points_counts(code: str) -> dict[str, int]:
    postings = Posting.objects.filter(area_code__startswith=code)
    awarded = postings.filter(kind=PostingKind.AWARD).aggregate(n=Sum("amount"))["n"] or 0
    reversed_ = postings.filter(kind=PostingKind.REVERSAL, reverses__kind=PostingKind.AWARD)
    stock = Stock.objects.filter(area_code__startswith=code).aggregate(n=Sum("available"))
    redemptions = Redemption.objects.filter(area_code__startswith=code)
    return {
        "earning_rules": EarningRule.objects.filter(area_code__startswith=code).count(),
        "postings": postings.count(),
        "points_awarded": awarded - (reversed_.aggregate(n=Sum("amount"))["n"] or 0),
        "riders_with_points": SeasonScore.objects.filter(
            season="all", area_code=code, points__gt=0
        ).count(),
        "points_held_by_riders": PointsAccount.objects.filter(
            kind=AccountKind.MEMBER, owner__area_code__startswith=code
        ).aggregate(n=Sum("balance"))["n"]
        or 0,
        "awards_pending": ManualAward.objects.filter(
            area_code__startswith=code, status=AwardStatus.PENDING
        ).count(),
        "rewards": Reward.objects.filter(area_code__startswith=code).count(),
        "stock_available": stock["n"] or 0,
        "windows": PriorityWindow.objects.filter(area_code__startswith=code).count(),
        "redemptions_fulfilled": redemptions.filter(status=RedemptionStatus.FULFILLED).count(),
        "redemptions_held": redemptions.filter(status=RedemptionStatus.HELD).count(),
        "redemptions_cancelled": redemptions.filter(status=RedemptionStatus.CANCELLED).count(),
    }


def demo_leader() -> SeasonScore | None:
    """The top of 清远街道's ranking for this year (what the window "首次积分兑换" ranks by)."""
    return leaderboard(season=current_season(SeasonKind.YEAR), area_code=data.QINGYUAN).first()
