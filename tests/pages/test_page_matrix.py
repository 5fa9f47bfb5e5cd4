"""Every page × every role of the matrix: allowed or denied, and a denial changes nothing.

Columns follow MATRIX_ROLES: anonymous, rider, other_rider, merchant, community_staff,
other_community_staff, street_admin, district_admin. The rider, the pending rider, the post,
the claim and the team all belong to community A1 (street A); so do the points and shop rows'
station, reward, awards, posting and reservation (``tests.world.shop_objects``), and the station
rows' station, corner (hosted by the merchant), checklist and photo (``tests.world.station_objects``
plus a photo and a holiday). Outcomes:

    ok     200                         go     302 after doing it
    login  302 to the log-in page      away   302 elsewhere, nothing done
    4xx    that status, nothing done
"""

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.api.helpers import client_for
from tests.api.test_permission_matrix import snapshot
from tests.matrix_parts import PARTS
from tests.pages.matrix_case import (
    ACT_IN_A1,
    ACT_STATION_A1,
    AT_STATION_A1,
    CONFIGURE_STREET,
    CONSOLE,
    MERCHANT_ACTS,
    MERCHANT_ONLY,
    RIDER_ONLY,
    RUN_STATION_A1,
    SEE_IN_A1,
    Case,
    row,
)
from tests.world import (
    MATRIX_ROLES,
    PASSWORD,
    matrix_objects,
    report_jpeg,
    report_objects,
    shop_objects,
    station_objects,
)

STATION_FORM = {
    "name": "甲一小哥驿站", "kind": "rider_station", "address": "甲一路 1 号", "lat": "40.095",
    "lng": "113.305", "crs": "wgs84", "services": ["rest", "water"], "hours": "每天 08:00-21:00",
    "status": "open", "contact_phone": "0352-1234567",
}  # fmt: skip

REGISTRATION = {
    "name": "新骑手",
    "phone": "13511112222",
    "password": PASSWORD,
    "community": "{a1_code}",
    "platform": "jd",
    "occupation": "courier",
    "vehicle": "e_bike",
    "work_lat": "40.095",
    "work_lng": "113.305",
    "consent": "on",
}

CASES = {
    "home": Case("GET", "home", (), None, row(*["ok"] * 8)),
    "login": Case("GET", "people:login", (), None, row("ok", *["away"] * 7)),
    "logout": Case("POST", "people:logout", (), {}, row(*["away"] * 8)),
    "language": Case("POST", "people:language", (), {"language": "en"}, row(*["away"] * 8)),
    # The installable app (core.pwa): the same for everyone, no one's data.
    "manifest": Case("GET", "manifest", (), None, row(*["ok"] * 8)),
    "service_worker": Case("GET", "service_worker", (), None, row(*["ok"] * 8)),
    "offline": Case("GET", "offline", (), None, row(*["ok"] * 8)),
    "outbox": Case("GET", "outbox", (), None, row(*["ok"] * 8)),
    "text_size": Case("POST", "text_size", (), {"size": "large"}, row(*["away"] * 8)),
    # Operations (core.ops): the same for everyone; /metrics answers the loopback (the test
    # client) or a bearer token (tests/core/test_ops.py).
    "healthz": Case("GET", "healthz", (), None, row(*["ok"] * 8)),
    "readyz": Case("GET", "readyz", (), None, row(*["ok"] * 8)),
    "metrics": Case("GET", "metrics", (), None, row(*["ok"] * 8)),
    "privacy": Case("GET", "people:privacy", (), None, row(*["ok"] * 8)),
    "register GET": Case("GET", "people:register", (), None, row("ok", *["away"] * 7)),
    "register POST": Case("POST", "people:register", (), REGISTRATION, row("go", *["away"] * 7)),
    "rider_home": Case("GET", "people:rider_home", (), None, RIDER_ONLY),
    "rider_resubmit": Case(
        "POST", "people:rider_resubmit", (), {}, row("login", "409", "409", *["403"] * 5)
    ),
    "rider_posts": Case("GET", "people:rider_posts", (), None, RIDER_ONLY),
    "rider_claim": Case(
        "POST", "people:rider_claim", ("post2",), {"note": "我来"},
        row("login", "go", "400", *["403"] * 5),
    ),
    "rider_withdraw": Case(
        "POST", "people:rider_withdraw", ("claim",), {}, row("login", "go", "404", *["403"] * 5)
    ),
    "rider_teams": Case("GET", "people:rider_teams", (), None, RIDER_ONLY),
    "rider_privacy": Case("GET", "people:rider_privacy", (), None, RIDER_ONLY),
    "rider_consent": Case(
        "POST", "people:rider_consent", (), {"kind": "location"},
        row("login", "go", "go", *["403"] * 5),
    ),
    "rider_consent_withdraw": Case(
        "POST", "people:rider_consent_withdraw", (), {"kind": "privacy"},
        row("login", "go", "go", *["403"] * 5),
    ),
    "console": Case("GET", "people:console", (), None, CONSOLE),
    "registrations": Case("GET", "people:registrations", (), None, CONSOLE),
    "riders": Case("GET", "people:riders", (), None, CONSOLE),
    "rider_detail": Case("GET", "people:rider_detail", ("rider",), None, SEE_IN_A1),
    "rider_verify": Case("POST", "people:rider_verify", ("pending",), {}, ACT_IN_A1),
    "rider_reject": Case(
        "POST", "people:rider_reject", ("pending",), {"reason": "资料不全"}, ACT_IN_A1
    ),
    "rider_move": Case("POST", "people:rider_move", ("rider",), {"grid": "{west}"}, ACT_IN_A1),
    # Shows the number (200) to staff who may act on the rider, for a logged reason.
    "rider_phone": Case(
        "POST", "people:rider_phone", ("rider",), {"reason": "contact", "note": "核实岗位"},
        row("login", "403", "403", "403", "ok", "404", "ok", "ok"),
    ),
    "claims": Case("GET", "people:claims", (), None, CONSOLE),
    "claim_approve": Case("POST", "people:claim_approve", ("claim",), {}, ACT_IN_A1),
    "claim_reject": Case("POST", "people:claim_reject", ("claim",), {"reason": ""}, ACT_IN_A1),
    "posts GET": Case("GET", "people:posts", (), None, CONSOLE),
    "posts POST": Case(
        "POST", "people:posts", (), {"community": "{a1}", "kind": "mediator", "capacity": "2"},
        row("login", "403", "403", "403", "go", "400", "go", "go"),
    ),
    "post_update": Case(
        "POST", "people:post_update", ("post",), {"capacity": "3", "is_open": "on"},
        row("login", "403", "403", "403", "go", "403", "go", "go"),
    ),
    "teams GET": Case("GET", "people:teams", (), None, CONSOLE),
    "teams POST": Case(
        "POST", "people:teams", (), {"name": "新队", "area": "{a1}"},
        row("login", "403", "403", "403", "go", "400", "go", "go"),
    ),
    "team_detail": Case("GET", "people:team_detail", ("team",), None, SEE_IN_A1),
    "team_add_member": Case(
        "POST", "people:team_add_member", ("team",), {"rider": "{extra}"}, ACT_IN_A1
    ),
    "team_remove_member": Case(
        "POST", "people:team_remove_member", ("team", "rider"), {}, ACT_IN_A1
    ),
    "team_leader": Case("POST", "people:team_leader", ("team",), {"rider": "{rider}"}, ACT_IN_A1),
    # Account security (people.security): two-factor pages for staff accounts; nobody in the
    # matrix has two-factor on, so a code is refused as "not set up" (409) and the verification
    # page sends them on; unlocking is an operation on an account of the area.
    "account_security GET": Case("GET", "people:account_security", (), None, CONSOLE),
    "account_security POST": Case(
        "POST", "people:account_security", (), {"code": "123456"},
        row("login", "403", "403", "403", "409", "409", "409", "409"),
    ),
    "two_factor_enrol GET": Case("GET", "people:two_factor_enrol", (), None, CONSOLE),
    "two_factor_enrol POST": Case(
        "POST", "people:two_factor_enrol", (), {"code": "123456"},
        row("login", "403", "403", "403", "409", "409", "409", "409"),
    ),
    "two_factor_verify GET": Case(
        "GET", "people:two_factor_verify", (), None, row("login", *["away"] * 7)
    ),
    "two_factor_verify POST": Case(
        "POST", "people:two_factor_verify", (), {"code": "123456"}, row("login", *["away"] * 7)
    ),
    "two_factor_disable": Case(
        "POST", "people:two_factor_disable", (), {"code": "123456"},
        row("login", "403", "403", "403", "409", "409", "409", "409"),
    ),
    "account_unlock": Case("POST", "people:account_unlock", ("rider_user",), {}, ACT_IN_A1),
    # --- points ---
    "rider_points": Case("GET", "points:rider_points", (), None, RIDER_ONLY),
    "leaderboard": Case("GET", "points:leaderboard", (), None, RIDER_ONLY),
    "ledger": Case("GET", "points:ledger", (), None, CONSOLE),
    "posting_reverse": Case(
        "POST", "points:posting_reverse", ("posting",),
        {"reason": "录错了", "idempotency_key": "page-reverse-0001"}, ACT_IN_A1,
    ),
    "award GET": Case("GET", "points:award", (), None, CONSOLE),
    "award POST": Case(
        "POST", "points:award", (),
        {"rider": "{rider}", "amount": "5", "reason": "帮扶", "evidence": "照片",
         "idempotency_key": "page-award-0001"},
        AT_STATION_A1,
    ),
    "approvals": Case("GET", "points:approvals", (), None, CONSOLE),
    "award_approve": Case("POST", "points:award_approve", ("award",), {}, ACT_IN_A1),
    "award_reject": Case(
        "POST", "points:award_reject", ("award",), {"note": "证据不足"}, ACT_IN_A1
    ),
    "rules GET": Case("GET", "points:rules", (), None, CONSOLE),
    "rules POST": Case(
        "POST", "points:rules", (),
        {"street": "{street_a}", "activity": "duty_hour", "points": "4", "is_active": "on"},
        CONFIGURE_STREET,
    ),
    "settings": Case(
        "POST", "points:settings", (),
        {"street": "{street_a}", "approval_threshold": "30", "expiry_enabled": "on",
         "expiry_month": "12", "expiry_day": "31"},
        CONFIGURE_STREET,
    ),
    "console_leaderboard": Case("GET", "points:console_leaderboard", (), None, CONSOLE),
    # --- the points shop ---
    "shop": Case("GET", "rewards:shop", (), None, RIDER_ONLY),
    "reserve": Case(
        "POST", "rewards:reserve", ("reward",),
        {"station": "{station}", "idempotency_key": "page-reserve-0001"},
        row("login", "go", "409", *["403"] * 5),  # the other rider has no points
    ),
    "redemptions": Case("GET", "rewards:redemptions", (), None, RIDER_ONLY),
    "cancel": Case(
        "POST", "rewards:cancel", ("redemption",), {}, row("login", "go", "404", *["403"] * 5)
    ),
    "catalogue GET": Case("GET", "rewards:catalogue", (), None, CONSOLE),
    "catalogue POST": Case(
        "POST", "rewards:catalogue", (),
        {"street": "{street_a}", "name": "雨衣", "cost": "15", "pickup_hours": "72"},
        CONFIGURE_STREET,
    ),
    "reward_detail GET": Case("GET", "rewards:reward_detail", ("reward",), None, CONSOLE),
    "reward_detail POST": Case(
        "POST", "rewards:reward_detail", ("reward",),
        {"cost": "12", "pickup_hours": "72", "is_active": "on"}, CONFIGURE_STREET,
    ),
    "stock_change": Case(
        "POST", "rewards:stock_change", ("reward",),
        {"station": "{station}", "change": "2", "reason": "补货"}, AT_STATION_A1,
    ),
    "window_create": Case(
        "POST", "rewards:window_create", (),
        {"street": "{street_a}", "name": "首次兑换", "top_n": "15", "season_kind": "month",
         "ranking_area": "{street_a_pk}", "opens_at": "2030-01-01T09:00",
         "closes_at": "2030-01-02T09:00"},
        CONFIGURE_STREET,
    ),
    "pickup GET": Case("GET", "rewards:pickup", (), None, CONSOLE),
    "pickup POST": Case(
        "POST", "rewards:pickup", (), {"station": "{station}", "code": "{code}"}, AT_STATION_A1
    ),
    # --- stations ---
    "nearby": Case("GET", "stations:nearby", (), None, row(*["ok"] * 8)),
    "station detail": Case("GET", "stations:detail", ("station",), None, row(*["ok"] * 8)),
    "check_in GET": Case(
        "GET", "stations:check_in", ("corner", "token"), None, row("login", *["ok"] * 7)
    ),
    "check_in POST": Case(
        "POST", "stations:check_in", ("corner", "token"), {"idempotency_key": "page-scan-0001"},
        row("login", "ok", "ok", *["403"] * 5),
    ),
    "station console_list": Case("GET", "stations:console_list", (), None, CONSOLE),
    "station create GET": Case("GET", "stations:create", (), None, CONSOLE),
    "station create POST": Case(
        "POST", "stations:create", (),
        {**STATION_FORM, "name": "甲一新驿站", "community": "{a1_code}", "lat": "40.0952",
         "lng": "113.3155"},
        AT_STATION_A1,
    ),
    "station import GET": Case("GET", "stations:import", (), None, CONSOLE),
    # A row in A1: another community's staff get the report with the row refused (400).
    "station import POST": Case(
        "POST", "stations:import", (), {"file": "{stations_csv}"},
        row("login", "403", "403", "403", "ok", "400", "ok", "ok"),
    ),
    "station import_template": Case("GET", "stations:import_template", (), None, CONSOLE),
    "station export": Case("GET", "stations:export", (), None, CONSOLE),
    "station edit GET": Case("GET", "stations:edit", ("station",), None, RUN_STATION_A1),
    "station edit POST": Case("POST", "stations:edit", ("station",), STATION_FORM, ACT_STATION_A1),
    "exception_add": Case(
        "POST", "stations:exception_add", ("station",), {"day": "{tomorrow}", "closed": "on"},
        ACT_STATION_A1,
    ),
    "exception_remove": Case(
        "POST", "stations:exception_remove", ("station",), {"day": "{holiday}"}, ACT_STATION_A1
    ),
    "photo_add": Case(
        "POST", "stations:photo_add", ("station",), {"photo": "{jpeg}", "caption": "门口"},
        ACT_STATION_A1,
    ),
    "photo_remove": Case(
        "POST", "stations:photo_remove", ("station", "photo"), {}, ACT_STATION_A1
    ),
    "station visits": Case("GET", "stations:visits", ("station",), None, RUN_STATION_A1),
    "station inspections": Case(
        "GET", "stations:inspections", ("station",), None, RUN_STATION_A1
    ),
    "inspect GET": Case("GET", "stations:inspect", ("station",), None, RUN_STATION_A1),
    "inspect POST": Case(
        "POST", "stations:inspect", ("station",),
        {"standard": "6+6", "inspected_on": "{today}", "item_{item}": "yes",
         "item_{item_2}": "no", "note": "复查"},
        ACT_STATION_A1,
    ),
    "qr": Case("GET", "stations:qr", ("station",), None, RUN_STATION_A1),
    "qr_rotate": Case("POST", "stations:qr_rotate", ("station",), {}, ACT_STATION_A1),
    "checklist GET": Case("GET", "stations:checklist", (), None, CONSOLE),
    "checklist POST": Case(
        "POST", "stations:checklist", (),
        {"street": "{street_a}", "standard": "6+6", "text": "有急救药箱"}, CONFIGURE_STREET,
    ),
    "checklist_item": Case(
        "POST", "stations:checklist_item", ("item",), {},
        row("login", "403", "403", "403", "404", "404", "go", "go"),
    ),
    "merchant_home": Case("GET", "stations:merchant_home", (), None, MERCHANT_ONLY),
    "merchant_station GET": Case(
        "GET", "stations:merchant_station", ("corner",), None, MERCHANT_ONLY
    ),
    "merchant_station POST": Case(
        "POST", "stations:merchant_station", ("corner",),
        {"status": "suspended", "status_note": "装修", "services": ["water"], "hours": "24小时"},
        MERCHANT_ACTS,
    ),
    "walk_in": Case(
        "POST", "stations:walk_in", ("corner",),
        {"people": "2", "note": "充电", "idempotency_key": "page-walk-in-0001"}, MERCHANT_ACTS,
    ),
    # --- reports (随手拍): tests.world.report_objects, all in street A ---
    "report GET": Case("GET", "reports:new", (), None, RIDER_ONLY),
    "report POST": Case(
        "POST", "reports:new", (),
        {"lat": "40.0972", "lng": "113.3172", "crs": "wgs84", "category": "{stairwell}",
         "description": "楼道堆物", "idempotency_key": "page-report-0001",
         "photos": "{report_photo}"},
        row("login", "go", "go", *["403"] * 5),
    ),
    "report categories": Case("GET", "reports:categories_for_place", (), None, RIDER_ONLY),
    "report duplicates": Case("GET", "reports:duplicates", (), None, RIDER_ONLY),
    "my reports": Case("GET", "reports:mine", (), None, RIDER_ONLY),
    # The rider's own report; staff are sent to their page of it, the others do not see it.
    "report detail": Case(
        "GET", "reports:detail", ("submitted",), None,
        row("login", "ok", "404", "404", "away", "404", "away", "away"),
    ),
    "report done": Case(
        "GET", "reports:done", ("submitted",), None, row("login", "ok", "404", *["403"] * 5)
    ),
    "report witness": Case(
        "POST", "reports:witness", ("submitted",), {},
        row("login", "409", "go", *["403"] * 5),  # the rider reported it themself
    ),
    "report reopen": Case(
        "POST", "reports:reopen", ("closed",), {"note": "又有积水", "photos": "{report_photo}"},
        row("login", "go", "404", *["403"] * 5),
    ),
    "triage": Case("GET", "reports:triage", (), None, CONSOLE),
    "duty": Case(
        "POST", "reports:duty", (), {"on_duty": "on"}, row("login", *["403"] * 3, *["go"] * 4)
    ),
    "report console_detail": Case("GET", "reports:console_detail", ("submitted",), None, SEE_IN_A1),
    "report accept": Case("POST", "reports:accept", ("submitted",), {"note": "属实"}, ACT_IN_A1),
    "report reject": Case(
        "POST", "reports:reject", ("submitted",), {"reason": "不属实"}, ACT_IN_A1
    ),
    "report merge": Case(
        "POST", "reports:merge", ("submitted",), {"into": "{dispatched}"}, ACT_IN_A1
    ),
    "report dispatch": Case(
        "POST", "reports:dispatch", ("submitted",), {"department": "{department}"}, ACT_IN_A1
    ),
    "report redirect": Case(
        "POST", "reports:redirect", ("dispatched",),
        {"department": "{department_2}", "note": "应由环卫处理"}, ACT_IN_A1,
    ),
    "report verify": Case(
        "POST", "reports:verify", ("handled",), {"passed": "yes", "note": "已核查"}, ACT_IN_A1
    ),
    "report close": Case("POST", "reports:close", ("verified",), {"note": "结案"}, ACT_IN_A1),
    "report staff_reopen": Case(
        "POST", "reports:staff_reopen", ("closed",),
        {"note": "又有积水", "photos": "{report_photo}"}, ACT_IN_A1,
    ),
    # No urgent report and no held points in the fixtures: the state refuses (409) whoever may act.
    "report acknowledge": Case(
        "POST", "reports:acknowledge", ("submitted",), {},
        row("login", "403", "403", "403", "409", "404", "409", "409"),
    ),
    "report points_decide": Case(
        "POST", "reports:points_decide", ("submitted",), {"pay": "yes", "note": "看过"},
        row("login", "403", "403", "403", "409", "404", "409", "409"),
    ),
    # The original of a photo (faces not blurred): staff who may act on the report; audited.
    "report photo original": Case(
        "GET", "reports:photo_original", ("submitted", "submitted_photo"), None, SEE_IN_A1
    ),
    "report categories GET": Case("GET", "reports:categories", (), None, CONSOLE),
    "report categories POST": Case(
        "POST", "reports:categories", (),
        {"street": "{street_a}", "code": "shared_bikes", "name": "共享单车乱停",
         "family": "street_order", "deadline_amount": "4", "deadline_unit": "working_hours",
         "ack_minutes": "10", "points": "2"},
        CONFIGURE_STREET,
    ),
    "report categories_seed": Case(
        "POST", "reports:categories_seed", (), {"street": "{street_a}"}, CONFIGURE_STREET
    ),
    "report category_edit GET": Case(
        "GET", "reports:category_edit", ("category",), None,
        row("login", "403", "403", "403", "403", "403", "ok", "ok"),
    ),
    "report category_edit POST": Case(
        "POST", "reports:category_edit", ("category",),
        {"name": "其他问题", "deadline_amount": "2", "deadline_unit": "working_days",
         "ack_minutes": "10", "points": "1", "is_active": "on"},
        CONFIGURE_STREET,
    ),
    "report settings GET": Case("GET", "reports:settings", (), None, CONSOLE),
    "report settings POST": Case(
        "POST", "reports:settings", (),
        {"street": "{street_a}", "duplicate_radius_m": "80", "duplicate_days": "30",
         "witness_share_percent": "50", "burst_reports": "5", "burst_minutes": "30",
         "max_photo_distance_m": "500", "max_photo_age_hours": "72"},
        CONFIGURE_STREET,
    ),
    # The department's pages: for handlers only (tests/pages/test_reports_pages.py has theirs).
    "cases": Case("GET", "reports:cases", (), None, row("login", *["403"] * 7)),
    "case_detail": Case(
        "GET", "reports:case_detail", ("dispatched",), None, row("login", *["403"] * 7)
    ),
    "case_handle": Case(
        "POST", "reports:case_handle", ("dispatched",),
        {"note": "已处理", "photos": "{report_photo}"}, row("login", *["403"] * 7),
    ),
    # --- the inbox (everyone signed in; a message is its recipient's only) ---
    "inbox": Case("GET", "notifications:inbox", (), None, row("login", *["ok"] * 7)),
    "inbox read": Case(
        "POST", "notifications:read", ("notification",), {}, row("login", "go", *["404"] * 6)
    ),
    "inbox read_all": Case("POST", "notifications:read_all", (), {}, row("login", *["go"] * 7)),
}  # fmt: skip
for _part in PARTS:
    CASES.update(_part.PAGE_CASES)


@pytest.fixture
def ids(world):
    made = matrix_objects(world)
    return {
        "a1": world.community_a1.pk,
        "a1_code": world.community_a1.code,
        "west": world.grid_a1_west.pk,
        "rider": world.rider.pk,
        "rider_user": world.rider.user_id,
        "pending": world.pending_rider.pk,
        "post": world.post.pk,
        "post2": made["post2"].pk,
        "claim": made["claim"].pk,
        "team": made["team"].pk,
        "extra": made["extra"].pk,
    }


def shop_ids(world) -> dict:
    made = shop_objects(world)
    return {
        "street_a": world.street_a.code,
        "street_a_pk": world.street_a.pk,
        "station": made["station"].pk,
        "reward": made["reward"].pk,
        "award": made["pending_award"].pk,
        "posting": made["award_posting"].pk,
        "redemption": made["redemption"].pk,
        "code": made["redemption"].pickup_code,
    }


def station_ids(world) -> dict:
    """The station rows' objects, a holiday to remove and a photo to remove (files in a
    temporary MEDIA_ROOT); ``jpeg`` makes a fresh upload for each request."""
    from datetime import timedelta

    from django.utils import timezone

    from yizhan.stations import services

    made = station_objects(world)
    station, staff = made["station"], world.community_staff
    today = timezone.localdate()
    holiday = today + timedelta(days=5)
    services.station_exception_set(station=station, day=holiday, closed=True, actor=staff)
    photo = services.station_photo_add(station=station, upload=_jpeg(), actor=staff)
    return {
        "street_a": world.street_a.code,
        "station": station.pk,
        "corner": made["corner"].pk,
        "token": services.qr_token(made["corner"]),
        "item": made["checklist_item"].pk,
        "item_2": made["checklist_item_2"].pk,
        "photo": photo.pk,
        "today": today.isoformat(),
        "tomorrow": (today + timedelta(days=1)).isoformat(),
        "holiday": holiday.isoformat(),
        "jpeg": _jpeg,
        "stations_csv": _stations_csv,
    }


REPORT_STREET = "440000001"  # street A of tests.world
REPORT_KEYS = {
    "submitted", "dispatched", "handled", "verified", "closed", "department", "department_2",
    "category", "stairwell", "notification", "report_photo", "submitted_photo",
}  # fmt: skip


def _uses_reports(case: Case) -> bool:
    """Whether a row acts on the report fixtures (building them costs a second a test)."""
    values = [*case.args, *(case.body or {}).values()]
    return any(v in REPORT_KEYS or (isinstance(v, str) and v[1:-1] in REPORT_KEYS) for v in values)


def report_ids(world) -> dict:
    """The report rows' objects (``tests.world.report_objects``: reports in every state, street
    A's standard categories, 城管队), a second department to redirect to, and one of the rider's
    messages (about their closed report); ``report_photo`` makes a fresh upload per request."""
    from yizhan.notifications.models import Notification
    from yizhan.people.services import department_create

    made = report_objects(world)
    second = department_create(name="环卫所", area=world.street_a, actor=world.street_admin)
    message = Notification.objects.filter(recipient=world.rider.user).order_by("pk").first()
    return {
        "street_a": world.street_a.code,
        **{key: made[key].pk for key in ("submitted", "dispatched", "handled", "verified")},
        "closed": made["closed"].pk,
        "department": made["department"].pk,
        "department_2": second.pk,
        "category": made["categories"]["other"].pk,
        "stairwell": made["categories"]["stairwell_clutter"].pk,
        "notification": message.pk,
        "report_photo": lambda: report_jpeg(77),
        "submitted_photo": made["submitted"].photos.get().pk,
    }


def _jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, format="JPEG")
    return SimpleUploadedFile("door.jpg", buffer.getvalue(), content_type="image/jpeg")


def _stations_csv():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.stations.exchange_helpers import csv_file
    from tests.stations.exchange_helpers import row as sheet_row

    data = csv_file([sheet_row(ref="PAGE-1", name="页面驿站")])
    return SimpleUploadedFile("stations.csv", data, content_type="text/csv")


def fill(body, ids):
    """Placeholders in values (and in keys, ``item_{item}``); a callable id makes the value."""
    if body is None:
        return None

    def value(v):
        if not (isinstance(v, str) and v[1:-1] in ids):
            return v
        found = ids[v[1:-1]]
        return found() if callable(found) else str(found)

    return {k.format(**ids) if "{" in k else k: value(v) for k, v in body.items()}


def check(response, outcome: str):
    status = response.status_code
    if outcome == "ok":
        assert status == 200
    elif outcome in ("go", "away"):
        assert status == 302
        assert "/login/" not in response["Location"]
    elif outcome == "login":
        assert status == 302
        assert response["Location"].startswith(reverse("people:login"))
    else:
        assert status == int(outcome)
        assert b"<h1>" in response.content  # a page with a message, not a bare error


@pytest.mark.parametrize("role_index, role", list(enumerate(MATRIX_ROLES)))
@pytest.mark.parametrize("name", list(CASES))
def test_page_matrix(world, ids, name, role_index, role, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # photos uploaded by the station rows
    case = CASES[name]
    outcome = case.expect.split()[role_index]
    if case.name.startswith(("points:", "rewards:")):
        ids = {**ids, **shop_ids(world)}
    if case.name.startswith("stations:"):
        ids = {**ids, **station_ids(world)}
    if case.name.startswith(("reports:", "notifications:")):
        ids = {**ids, **(report_ids(world) if _uses_reports(case) else {"street_a": REPORT_STREET})}
    for part in PARTS:
        if part.page_uses(case):
            ids = {**ids, **part.page_ids(world, case)}
    client = client_for(world.account(role))
    url = reverse(case.name, args=[ids[a] for a in case.args])
    before = snapshot()
    if case.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, fill(case.body, ids))
    check(response, outcome)
    if outcome not in ("ok", "go"):
        assert snapshot() == before, f"{name} denied for {role} but changed something"


def _named_patterns(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            # The API and Open311 answer JSON/XML, not pages: their own tests hold them.
            if pattern.namespace in ("admin", "api", "open311"):
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


def test_matrix_covers_every_page():
    names = set(_named_patterns(get_resolver().url_patterns)) - {"set_language"}
    assert names == {case.name for case in CASES.values()}


# --- the back office -----------------------------------------------------------------------------

ADMIN_ROLES = row("login", "login", "login", "login", "ok", "ok", "ok", "ok")


def _changelists():
    return sorted(
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in admin.site._registry
    )


@pytest.mark.parametrize("role_index, role", list(enumerate(MATRIX_ROLES)))
@pytest.mark.parametrize("url", ["/admin/", *_changelists()])
def test_admin_matrix(world, url, role_index, role):
    outcome = ADMIN_ROLES.split()[role_index]
    response = client_for(world.account(role)).get(url)
    if outcome == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(
    "role, visible",
    [
        ("community_staff", True),
        ("other_community_staff", False),
        ("street_admin", True),
        ("district_admin", True),
    ],
)
def test_admin_rows_are_scoped(world, role, visible):
    client = client_for(world.account(role))
    listing = client.get(reverse("admin:people_riderprofile_changelist"))
    assert (world.rider.user.name in listing.content.decode()) is visible
    detail = client.get(
        reverse("admin:people_riderprofile_change", args=[world.rider.pk]), follow=False
    )
    assert detail.status_code == (200 if visible else 302)


def test_admin_allows_no_direct_writes(world):
    client = client_for(world.district_admin)
    add = client.get(reverse("admin:people_riderprofile_add"))
    assert add.status_code == 403
    delete = client.post(
        reverse("admin:people_riderprofile_delete", args=[world.rider.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403


def _admin_patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _admin_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif pattern.name:
            yield pattern.name, prefix + str(pattern.pattern)


def _admin_urls() -> list[str]:
    """Every URL the admin serves (not only the changelists): the index and app indexes, each
    model's add / change / delete / history, password change, jsi18n, autocomplete, view on
    site; path parameters filled with 1 and app labels with each registered app."""
    labels = sorted({m._meta.app_label for m in admin.site._registry})
    urls = set()
    for name, route in _admin_patterns(admin.site.get_urls()):
        if name in ("login", "logout"):
            continue
        if "app_label" in route:
            urls.update(reverse(f"admin:{name}", kwargs={"app_label": a}) for a in labels)
            continue
        kwargs = {k: 1 for k in re.findall(r"<(?:\w+:)?(\w+)>", route)}
        urls.add(reverse(f"admin:{name}", kwargs=kwargs))
    return sorted(urls)


@pytest.mark.parametrize("role", ["anonymous", "rider", "merchant"])
def test_every_admin_url_needs_staff(world, role):
    """Closes a gap: the admin matrix above walks the index and the changelists; every other
    admin URL must turn away a visitor who is not staff just the same (to the admin's login)."""
    client = client_for(world.account(role))
    for url in _admin_urls():
        response = client.get(url)
        assert response.status_code in (302, 403), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url
