"""Every API operation × every role of the matrix: allowed or denied, and denied changes nothing.

Columns follow MATRIX_ROLES: anonymous, rider, other_rider, merchant, community_staff,
other_community_staff, street_admin, district_admin. The rider, the pending rider, the post,
the claim and the team all belong to community A1 (street A); so do the points and rewards
rows' station, awards, posting and reservation (``tests.world.shop_objects``).
"""

import json
import re

import pytest

from tests.api.helpers import call, client_for
from tests.api.matrix_case import KEY, Case, _row
from tests.matrix_parts import PARTS
from tests.stations.exchange_helpers import csv_file
from tests.stations.exchange_helpers import row as sheet_row
from tests.world import (
    MATRIX_ROLES,
    PASSWORD,
    matrix_objects,
    report_objects,
    shop_objects,
    station_objects,
)
from yizhan.config.api import api
from yizhan.core.models import AuditEntry, Holiday, IdempotencyRecord
from yizhan.notifications.models import Notification
from yizhan.people.models import (
    ApiToken,
    Consent,
    Post,
    PostClaim,
    RiderProfile,
    Team,
    TeamMembership,
    User,
)
from yizhan.people.services import department_create, token_issue
from yizhan.points.models import (
    EarningRule,
    ManualAward,
    PointsAccount,
    PointsSettings,
    Posting,
    SeasonScore,
)
from yizhan.reports import services as report_services
from yizhan.reports.models import (
    Category,
    Report,
    ReportEvent,
    ReportPhoto,
    ReportSettings,
    Witness,
)
from yizhan.rewards.models import PriorityWindow, Redemption, Reward, Stock, StockChange
from yizhan.stations import services as station_services
from yizhan.stations.models import (
    ChecklistItem,
    Inspection,
    ServiceItem,
    Station,
    StationPhoto,
    Visit,
)

CASES = {
    "GET /version": Case("GET", "/api/v1/version", None, _row(*[200] * 8)),
    "GET /areas": Case("GET", "/api/v1/areas", None, _row(*[200] * 8)),
    "GET /areas/locate": Case(
        "GET", "/api/v1/areas/locate?lat=40.095&lng=113.315", None, _row(*[200] * 8)
    ),
    "GET /areas/{code}": Case("GET", "/api/v1/areas/{a1}", None, _row(*[200] * 8)),
    "POST /auth/token": Case(
        "POST", "/api/v1/auth/token", {"username": "13812341234", "password": PASSWORD},
        _row(*[201] * 8),
    ),
    "GET /auth/tokens": Case("GET", "/api/v1/auth/tokens", None, _row(401, *[200] * 7)),
    "DELETE /auth/tokens/{id}": Case(
        "DELETE", "/api/v1/auth/tokens/{token}", None, _row(401, 200, 404, 404, 404, 404, 404, 404)
    ),
    "GET /me": Case("GET", "/api/v1/me", None, _row(401, *[200] * 7)),
    "PUT /me/language": Case(
        "PUT", "/api/v1/me/language", {"language": "en"}, _row(401, *[200] * 7)
    ),
    "GET /me/consents": Case(
        "GET", "/api/v1/me/consents", None, _row(401, 200, 200, *[403] * 5)
    ),
    "GET /me/consents/history": Case(
        "GET", "/api/v1/me/consents/history", None, _row(401, 200, 200, *[403] * 5)
    ),
    "POST /me/consents": Case(
        "POST", "/api/v1/me/consents", {"kind": "location"}, _row(401, 200, 200, *[403] * 5)
    ),
    "POST /me/consents/withdraw": Case(
        "POST", "/api/v1/me/consents/withdraw", {"kind": "privacy"},
        _row(401, 200, 200, *[403] * 5),
    ),
    "POST /riders/register": Case(
        "POST", "/api/v1/riders/register",
        {"name": "新骑手", "phone": "13511112222", "password": PASSWORD, "community": "{a1}",
         "platform": "jd", "occupation": "courier", "vehicle": "e_bike", "work_lat": 40.095,
         "work_lng": 113.305, "consent": True},
        _row(*[201] * 8),
    ),
    "GET /riders/me": Case(
        "GET", "/api/v1/riders/me", None, _row(401, 200, 200, 404, 404, 404, 404, 404)
    ),
    "POST /riders/me/resubmit": Case(
        "POST", "/api/v1/riders/me/resubmit", None, _row(401, 409, 409, 404, 404, 404, 404, 404)
    ),
    "GET /riders": Case(
        "GET", "/api/v1/riders", None, _row(401, 403, 403, 403, 200, 200, 200, 200)
    ),
    "GET /riders/{id}": Case(
        "GET", "/api/v1/riders/{rider}", None, _row(401, 200, 404, 404, 200, 404, 200, 200)
    ),
    "GET /riders/{id}/history": Case(
        "GET", "/api/v1/riders/{rider}/history", None,
        _row(401, 403, 403, 403, 200, 404, 200, 200),
    ),
    "POST /riders/{id}/verify": Case(
        "POST", "/api/v1/riders/{pending}/verify", None,
        _row(401, 404, 404, 404, 200, 404, 200, 200),
    ),
    "POST /riders/{id}/reject": Case(
        "POST", "/api/v1/riders/{pending}/reject", {"reason": "资料不全"},
        _row(401, 404, 404, 404, 200, 404, 200, 200),
    ),
    # The rider gets their own number (not an unmasking); staff who may act on them, for a
    # logged reason.
    "POST /riders/{id}/phone": Case(
        "POST", "/api/v1/riders/{rider}/phone", {"reason": "contact", "note": "核实岗位"},
        _row(401, 200, 404, 404, 200, 404, 200, 200),
    ),
    "POST /riders/{id}/move": Case(
        "POST", "/api/v1/riders/{rider}/move", {"grid": "{west}"},
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "GET /posts": Case("GET", "/api/v1/posts", None, _row(*[200] * 8)),
    "POST /posts": Case(
        "POST", "/api/v1/posts", {"community": "{a1}", "kind": "mediator", "capacity": 2},
        _row(401, 403, 403, 403, 201, 403, 201, 201),
    ),
    "PATCH /posts/{id}": Case(
        "PATCH", "/api/v1/posts/{post}", {"capacity": 3},
        _row(401, 403, 403, 403, 200, 403, 200, 200),
    ),
    "POST /posts/{id}/claim": Case(
        "POST", "/api/v1/posts/{post2}/claim", {"note": ""},
        _row(401, 201, 400, 404, 404, 404, 404, 404),
    ),
    "GET /claims": Case("GET", "/api/v1/claims", None, _row(401, *[200] * 7)),
    "POST /claims/{id}/approve": Case(
        "POST", "/api/v1/claims/{claim}/approve", None,
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "POST /claims/{id}/reject": Case(
        "POST", "/api/v1/claims/{claim}/reject", {"reason": ""},
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "POST /claims/{id}/withdraw": Case(
        "POST", "/api/v1/claims/{claim}/withdraw", None,
        _row(401, 200, 404, 404, 403, 404, 403, 403),
    ),
    "GET /teams": Case("GET", "/api/v1/teams", None, _row(401, *[200] * 7)),
    "POST /teams": Case(
        "POST", "/api/v1/teams", {"name": "新队", "area": "{a1}"},
        _row(401, 403, 403, 403, 201, 403, 201, 201),
    ),
    "GET /teams/{id}": Case(
        "GET", "/api/v1/teams/{team}", None, _row(401, 200, 404, 404, 200, 404, 200, 200)
    ),
    "POST /teams/{id}/members": Case(
        "POST", "/api/v1/teams/{team}/members", {"rider_id": "{extra}"},
        _row(401, 403, 404, 404, 201, 404, 201, 201),
    ),
    "DELETE /teams/{id}/members/{rider_id}": Case(
        "DELETE", "/api/v1/teams/{team}/members/{rider}", None,
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "PUT /teams/{id}/leader": Case(
        "PUT", "/api/v1/teams/{team}/leader", {"rider_id": "{rider}"},
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    # --- points ---
    "GET /points/me": Case("GET", "/api/v1/points/me", None, _row(401, *[200] * 7)),
    "GET /points/me/history": Case(
        "GET", "/api/v1/points/me/history", None, _row(401, *[200] * 7)
    ),
    "POST /points/awards": Case(
        "POST", "/api/v1/points/awards",
        {"member_id": "{rider_user}", "amount": 5, "reason": "帮扶", "evidence": "照片"},
        _row(401, 403, 403, 403, 201, 404, 201, 201), KEY,
    ),
    "GET /points/awards": Case(
        "GET", "/api/v1/points/awards?status=pending", None,
        _row(401, 403, 403, 403, 200, 200, 200, 200),
    ),
    "POST /points/awards/{id}/approve": Case(
        "POST", "/api/v1/points/awards/{award}/approve", None,
        _row(401, 403, 403, 403, 200, 404, 200, 200),
    ),
    "POST /points/awards/{id}/reject": Case(
        "POST", "/api/v1/points/awards/{award}/reject", {"note": "证据不足"},
        _row(401, 403, 403, 403, 200, 404, 200, 200),
    ),
    "GET /points/postings": Case(
        "GET", "/api/v1/points/postings", None, _row(401, 403, 403, 403, 200, 200, 200, 200)
    ),
    "POST /points/postings/{id}/reverse": Case(
        "POST", "/api/v1/points/postings/{posting}/reverse", {"reason": "重复发放"},
        _row(401, 403, 403, 403, 201, 404, 201, 201), KEY,
    ),
    "GET /points/leaderboard": Case(
        "GET", "/api/v1/points/leaderboard?season_kind=month&area={street_a}", None,
        _row(401, *[200] * 7),
    ),
    "GET /points/leaderboard/me": Case(
        "GET", "/api/v1/points/leaderboard/me?season_kind=year&area={street_a}", None,
        _row(401, *[200] * 7),
    ),
    "GET /points/rules": Case(
        "GET", "/api/v1/points/rules?street={street_a}", None, _row(*[200] * 8)
    ),
    "PUT /points/rules": Case(
        "PUT", "/api/v1/points/rules",
        {"street": "{street_a}", "activity": "duty_hour", "points": 3, "weekly_cap": 30},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    "GET /points/settings": Case(
        "GET", "/api/v1/points/settings?street={street_a}", None, _row(*[200] * 8)
    ),
    "PATCH /points/settings": Case(
        "PATCH", "/api/v1/points/settings?street={street_a}", {"approval_threshold": 30},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    # --- rewards ---
    "GET /rewards": Case("GET", "/api/v1/rewards", None, _row(*[200] * 8)),
    "POST /rewards": Case(
        "POST", "/api/v1/rewards", {"street": "{street_a}", "name": "雨衣", "cost": 8},
        _row(401, 403, 403, 403, 403, 403, 201, 201),
    ),
    "PATCH /rewards/{id}": Case(
        "PATCH", "/api/v1/rewards/{reward}", {"cost": 12},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    "POST /rewards/{id}/stock": Case(
        "POST", "/api/v1/rewards/{reward}/stock",
        {"station_id": "{station}", "change": 2, "reason": "补货"},
        _row(401, 403, 403, 403, 200, 403, 200, 200),
    ),
    "GET /rewards/windows": Case("GET", "/api/v1/rewards/windows", None, _row(*[200] * 8)),
    "POST /rewards/windows": Case(
        "POST", "/api/v1/rewards/windows",
        {"street": "{street_a}", "name": "首次兑换", "top_n": 15, "season_kind": "month",
         "opens_at": "2026-12-01T09:00:00+08:00", "closes_at": "2026-12-02T09:00:00+08:00"},
        _row(401, 403, 403, 403, 403, 403, 201, 201),
    ),
    "POST /rewards/{id}/reserve": Case(
        "POST", "/api/v1/rewards/{reward}/reserve", {"station_id": "{station}"},
        _row(401, 201, 409, 400, 409, 409, 409, 400), KEY,
    ),
    "GET /rewards/redemptions": Case(
        "GET", "/api/v1/rewards/redemptions?status=held", None, _row(401, *[200] * 7)
    ),
    "POST /rewards/redemptions/{id}/cancel": Case(
        "POST", "/api/v1/rewards/redemptions/{redemption}/cancel", None,
        _row(401, 200, 404, 404, 200, 404, 200, 200),
    ),
    "POST /rewards/pickup": Case(
        "POST", "/api/v1/rewards/pickup", {"station_id": "{station}", "code": "{code}"},
        _row(401, 403, 403, 403, 200, 403, 200, 200),
    ),
    # --- stations ---
    "GET /stations/nearby": Case(
        "GET", "/api/v1/stations/nearby?lat=40.095&lng=113.305&services=water", None,
        _row(*[200] * 8),
    ),
    "GET /stations/services": Case("GET", "/api/v1/stations/services", None, _row(*[200] * 8)),
    "POST /stations/services": Case(
        "POST", "/api/v1/stations/services",
        {"code": "umbrella", "name": "借伞", "name_en": "Umbrella lending"},
        _row(401, *[403] * 7),
    ),
    "PATCH /stations/services/{code}": Case(
        "PATCH", "/api/v1/stations/services/water", {"name_en": "Water"}, _row(401, *[403] * 7)
    ),
    "GET /stations/checklist": Case(
        "GET", "/api/v1/stations/checklist?street={street_a}", None,
        _row(401, 403, 403, 403, 200, 200, 200, 200),
    ),
    "POST /stations/checklist": Case(
        "POST", "/api/v1/stations/checklist", {"street": "{street_a}", "text": "有急救药箱"},
        _row(401, 403, 403, 403, 403, 403, 201, 201),
    ),
    "PATCH /stations/checklist/{id}": Case(
        "PATCH", "/api/v1/stations/checklist/{item}", {"sort_order": 5},
        _row(401, 403, 403, 403, 404, 404, 200, 200),
    ),
    "GET /stations/visits/mine": Case(
        "GET", "/api/v1/stations/visits/mine", None, _row(401, *[200] * 7)
    ),
    "GET /stations": Case("GET", "/api/v1/stations?kind=corner", None, _row(*[200] * 8)),
    "POST /stations": Case(
        "POST", "/api/v1/stations",
        {"name": "新爱心角", "kind": "corner", "community": "{a1}", "lat": 40.097, "lng": 113.31,
         "services": ["water"], "hours": "每天 09:00-21:00"},
        _row(401, 403, 403, 403, 201, 403, 201, 201),
    ),
    "GET /stations/export": Case(
        "GET", "/api/v1/stations/export?format=csv&community={a1}", None,
        _row(401, 403, 403, 403, 200, 200, 200, 200), download=True,
    ),
    "GET /stations/import-template": Case(
        "GET", "/api/v1/stations/import-template?format=xlsx", None,
        _row(401, 403, 403, 403, 200, 200, 200, 200), download=True,
    ),
    # A row in A1: another community's staff get the report with the row refused (400).
    "POST /stations/import": Case(
        "POST", "/api/v1/stations/import", {"keep_good_rows": "false"},
        _row(401, 403, 403, 403, 200, 400, 200, 200), multipart=True, upload="stations_csv",
    ),
    "GET /stations/{id}": Case("GET", "/api/v1/stations/{station}", None, _row(*[200] * 8)),
    "PATCH /stations/{id}": Case(
        "PATCH", "/api/v1/stations/{corner}", {"hours": "每天 07:00-23:00"},
        _row(401, 403, 403, 200, 200, 403, 200, 200),
    ),
    "POST /stations/{id}/exceptions": Case(
        "POST", "/api/v1/stations/{corner}/exceptions", {"day": "2099-10-01", "closed": True},
        _row(401, 403, 403, 200, 200, 403, 200, 200),
    ),
    "DELETE /stations/{id}/exceptions/{day}": Case(
        "DELETE", "/api/v1/stations/{corner}/exceptions/2099-10-02", None,
        _row(401, 403, 403, 200, 200, 403, 200, 200),
    ),
    "POST /stations/{id}/photos": Case(
        "POST", "/api/v1/stations/{corner}/photos", {"caption": "门口"},
        _row(401, 403, 403, 201, 201, 403, 201, 201), multipart=True,
    ),
    "DELETE /stations/{id}/photos/{photo_id}": Case(
        "DELETE", "/api/v1/stations/{corner}/photos/{photo}", None,
        _row(401, 403, 403, 200, 200, 403, 200, 200),
    ),
    "POST /stations/{id}/qr/rotate": Case(
        "POST", "/api/v1/stations/{corner}/qr/rotate", None,
        _row(401, 403, 403, 403, 200, 403, 200, 200),
    ),
    "POST /stations/{id}/checkin": Case(
        "POST", "/api/v1/stations/{station}/checkin", {"token": "{qr}"},
        _row(401, 200, 201, 403, 403, 403, 403, 403), KEY,
    ),
    "POST /stations/{id}/walk-ins": Case(
        "POST", "/api/v1/stations/{corner}/walk-ins", {"people": 2, "note": "充电"},
        _row(401, 403, 403, 201, 201, 403, 201, 201),
    ),
    "GET /stations/{id}/visits": Case(
        "GET", "/api/v1/stations/{corner}/visits", None,
        _row(401, 403, 403, 200, 200, 403, 200, 200),
    ),
    "POST /stations/{id}/inspections": Case(
        "POST", "/api/v1/stations/{corner}/inspections",
        {"results": {"{item}": True, "{item2}": False}, "note": "饮水机待修"},
        _row(401, 403, 403, 403, 201, 403, 201, 201),
    ),
    "GET /stations/{id}/inspections": Case(
        "GET", "/api/v1/stations/{station}/inspections", None,
        _row(401, 403, 403, 403, 200, 403, 200, 200),
    ),
    # --- reports (tests.world.report_objects: ``submitted`` is the rider's, in A1; the
    # dispatched, handled and verified ones another A1 rider's; ``closed`` the rider's) ---
    "GET /reports/categories": Case(
        "GET", "/api/v1/reports/categories?street={street_a}", None, _row(*[200] * 8)
    ),
    "POST /reports/categories": Case(
        "POST", "/api/v1/reports/categories",
        {"street": "{street_a}", "code": "dog_mess", "name": "犬只粪便",
         "family": "city_appearance", "points": 2},
        _row(401, 403, 403, 403, 403, 403, 201, 201),
    ),
    "POST /reports/categories/seed": Case(
        "POST", "/api/v1/reports/categories/seed", {"street": "{street_a}"},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    "PATCH /reports/categories/{id}": Case(
        "PATCH", "/api/v1/reports/categories/{category}", {"deadline_amount": 3, "points": 4},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    "GET /reports/settings": Case(
        "GET", "/api/v1/reports/settings?street={street_a}", None,
        _row(401, 403, 403, 403, 200, 200, 200, 200),
    ),
    "PATCH /reports/settings": Case(
        "PATCH", "/api/v1/reports/settings?street={street_a}", {"duplicate_radius_m": 80},
        _row(401, 403, 403, 403, 403, 403, 200, 200),
    ),
    "GET /reports/duplicates": Case(
        "GET", "/api/v1/reports/duplicates?category={category}&lat=40.095&lng=113.315", None,
        _row(401, *[200] * 7),
    ),
    "POST /reports": Case(
        "POST", "/api/v1/reports",
        {"category": "{category}", "lat": "40.0951", "lng": "113.3149", "description": "飞线充电"},
        _row(401, *[201] * 7), KEY, multipart=True, file_field="photos",
    ),
    "GET /reports": Case("GET", "/api/v1/reports?status=submitted", None, _row(401, *[200] * 7)),
    "GET /reports/mine": Case("GET", "/api/v1/reports/mine", None, _row(401, *[200] * 7)),
    "GET /reports/queue": Case(
        "GET", "/api/v1/reports/queue", None, _row(401, 403, 403, 403, 200, 200, 200, 200)
    ),
    "GET /reports/cases": Case(
        "GET", "/api/v1/reports/cases", None, _row(401, 403, 403, 403, 200, 200, 200, 200)
    ),
    "GET /reports/overdue": Case(
        "GET", "/api/v1/reports/overdue", None, _row(401, 403, 403, 403, 200, 200, 200, 200)
    ),
    "GET /reports/{id}": Case(
        "GET", "/api/v1/reports/{submitted}", None, _row(401, 200, 404, 404, 200, 404, 200, 200)
    ),
    "GET /reports/{id}/departments": Case(
        "GET", "/api/v1/reports/{submitted}/departments", None,
        _row(401, 403, 403, 403, 200, 404, 200, 200),
    ),
    "POST /reports/{id}/accept": Case(
        "POST", "/api/v1/reports/{submitted}/accept", {"note": "属实"},
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "POST /reports/{id}/reject": Case(
        "POST", "/api/v1/reports/{submitted}/reject", {"reason": "不属实"},
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "POST /reports/{id}/merge": Case(
        "POST", "/api/v1/reports/{submitted}/merge", {"into": "{dispatched}", "note": "同一处"},
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "POST /reports/{id}/dispatch": Case(
        "POST", "/api/v1/reports/{submitted}/dispatch", {"department_id": "{department}"},
        _row(401, 403, 404, 404, 200, 404, 200, 200),
    ),
    "POST /reports/{id}/redirect": Case(
        "POST", "/api/v1/reports/{dispatched}/redirect",
        {"department_id": "{department2}", "note": "属住建"},
        _row(401, 404, 404, 404, 200, 404, 200, 200),
    ),
    "POST /reports/{id}/handle": Case(
        "POST", "/api/v1/reports/{dispatched}/handle", {"note": "已清理"},
        _row(401, 404, 404, 404, 200, 404, 200, 200), multipart=True, file_field="photos",
    ),
    "POST /reports/{id}/verify": Case(
        "POST", "/api/v1/reports/{handled}/verify", {"passed": "true", "note": "已核实"},
        _row(401, 404, 404, 404, 200, 404, 200, 200), multipart=True, file_field="photos",
    ),
    "POST /reports/{id}/close": Case(
        "POST", "/api/v1/reports/{verified}/close", {"note": "结案"},
        _row(401, 404, 404, 404, 200, 404, 200, 200),
    ),
    "POST /reports/{id}/reopen": Case(
        "POST", "/api/v1/reports/{closed}/reopen", {"note": "又积水了"},
        _row(401, 200, 404, 404, 200, 404, 200, 200), multipart=True, file_field="photos",
    ),
    # Not urgent: those allowed get 409 nothing_to_acknowledge (test_reports_api has the 200).
    "POST /reports/{id}/acknowledge": Case(
        "POST", "/api/v1/reports/{submitted}/acknowledge", None,
        _row(401, 403, 404, 404, 409, 404, 409, 409),
    ),
    "POST /reports/{id}/witness": Case(
        "POST", "/api/v1/reports/{submitted}/witness", None, _row(401, 409, *[200] * 6)
    ),
    # Nothing held: those allowed get 409 points_not_held (test_reports_api has the 200).
    "POST /reports/{id}/points": Case(
        "POST", "/api/v1/reports/{submitted}/points", {"pay": True, "note": "核实"},
        _row(401, 403, 404, 404, 409, 404, 409, 409),
    ),
    "POST /staff/duty": Case(
        "POST", "/api/v1/staff/duty", {"on_duty": True},
        _row(401, 403, 403, 403, 200, 200, 200, 200),
    ),
    # --- notifications ---
    "GET /notifications": Case("GET", "/api/v1/notifications", None, _row(401, *[200] * 7)),
    "GET /notifications/unread-count": Case(
        "GET", "/api/v1/notifications/unread-count", None, _row(401, *[200] * 7)
    ),
    "POST /notifications/read-all": Case(
        "POST", "/api/v1/notifications/read-all", None, _row(401, *[200] * 7)
    ),
    "POST /notifications/{id}/read": Case(
        "POST", "/api/v1/notifications/{notification}/read", None,
        _row(401, 200, *[404] * 6),
    ),
}  # fmt: skip
for _part in PARTS:
    CASES.update(_part.API_CASES)


@pytest.fixture
def ids(world):
    made = matrix_objects(world)
    token, _raw = token_issue(user=world.rider.user)
    return {
        "a1": world.community_a1.code,
        "west": world.grid_a1_west.code,
        "rider": world.rider.pk,
        "pending": world.pending_rider.pk,
        "post": world.post.pk,
        "post2": made["post2"].pk,
        "claim": made["claim"].pk,
        "team": made["team"].pk,
        "extra": made["extra"].pk,
        "token": token.pk,
    }


def shop_ids(world) -> dict:
    made = shop_objects(world)
    return {
        "street_a": world.street_a.code,
        "rider_user": world.rider.user.pk,
        "station": made["station"].pk,
        "reward": made["reward"].pk,
        "award": made["pending_award"].pk,
        "posting": made["award_posting"].pk,
        "redemption": made["redemption"].pk,
        "code": made["redemption"].pickup_code,
    }


def station_ids(world) -> dict:
    """``station_objects`` plus a dated exception (2099-10-02) and a photo on the corner."""
    made = station_objects(world)
    corner = made["corner"]
    station_services.station_exception_set(
        station=corner, day="2099-10-02", closed=True, actor=world.community_staff
    )
    photo = station_services.station_photo_add(
        station=corner, upload=_jpeg(), actor=world.community_staff
    )
    return {
        "a1": world.community_a1.code,
        "street_a": world.street_a.code,
        "station": made["station"].pk,
        "corner": corner.pk,
        "qr": station_services.qr_token(made["station"]),
        "item": made["checklist_item"].pk,
        "item2": made["checklist_item_2"].pk,
        "photo": photo.pk,
    }


def _jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def _stations_csv():
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = csv_file([sheet_row(ref="MATRIX-1", name="矩阵驿站")])
    return SimpleUploadedFile("stations.csv", data, content_type="text/csv")


UPLOADS = {"jpeg": _jpeg, "stations_csv": _stations_csv}

#: Placeholders that need ``report_objects`` (the rest of the report rows need only categories).
REPORT_OBJECTS = (
    "submitted", "dispatched", "handled", "verified", "closed", "department", "department2",
    "notification",
)  # fmt: skip


def report_ids(world, case: Case) -> dict:
    """Street A's categories; and, when the case acts on one, ``report_objects`` plus a second
    department of street A (住建办) and the rider's first notification."""
    text = case.path + json.dumps(case.body, ensure_ascii=False)
    ids = {"street_a": world.street_a.code}
    if not any(f"{{{name}}}" in text for name in REPORT_OBJECTS):
        if "{category}" in text or "/reports/categories" in case.path:
            made = report_services.categories_seed(street=world.street_a, actor=world.street_admin)
            ids["category"] = next(c.pk for c in made if c.code == "flying_wire")
        return ids
    made = report_objects(world)
    department2 = department_create(name="住建办", area=world.street_a, actor=world.street_admin)
    notification = Notification.objects.filter(recipient=world.rider.user).order_by("id").first()
    return {
        **ids,
        "category": made["categories"]["flying_wire"].pk,
        "department": made["department"].pk,
        "department2": department2.pk,
        "notification": notification.pk,
        **{name: made[name].pk for name in REPORT_OBJECTS[:5]},
    }


def _needs_shop(case: Case) -> bool:
    return case.path.startswith(("/api/v1/points", "/api/v1/rewards"))


def _needs_stations(case: Case) -> bool:
    return case.path.startswith("/api/v1/stations")


def _needs_reports(case: Case) -> bool:
    return case.path.startswith(("/api/v1/reports", "/api/v1/notifications"))


def _fill(value, ids):
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids)
    if isinstance(value, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def snapshot():
    return (
        AuditEntry.objects.count(),
        sorted(RiderProfile.objects.values_list("pk", "status", "area_code")),
        sorted(Post.objects.values_list("pk", "capacity", "holders")),
        sorted(PostClaim.objects.values_list("pk", "status")),
        Team.objects.count(),
        sorted(TeamMembership.objects.values_list("pk", "role")),
        sorted(ApiToken.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True)),
        sorted(User.objects.values_list("pk", "locked_until", "two_factor_enabled")),
        sorted(Consent.objects.values_list("pk", "kind", "notice_version", "withdrawn_at")),
        IdempotencyRecord.objects.count(),
        sorted(PointsAccount.objects.values_list("pk", "balance")),
        Posting.objects.count(),
        sorted(SeasonScore.objects.values_list("pk", "points")),
        sorted(ManualAward.objects.values_list("pk", "status")),
        sorted(EarningRule.objects.values_list("pk", "points", "daily_cap", "weekly_cap")),
        sorted(PointsSettings.objects.values_list("pk", "approval_threshold", "expiry_enabled")),
        sorted(Reward.objects.values_list("pk", "cost", "is_active")),
        sorted(Stock.objects.values_list("pk", "available", "held", "handed_out")),
        StockChange.objects.count(),
        PriorityWindow.objects.count(),
        sorted(Redemption.objects.values_list("pk", "status")),
        sorted(
            Station.objects.values_list(
                "pk",
                "name",
                "lat",
                "lng",
                "services_mask",
                "hours",
                "status",
                "qr_version",
                "contact_phone",
                "merchant_id",
            )
        ),  # fmt: skip
        StationPhoto.objects.count(),
        Visit.objects.count(),
        Inspection.objects.count(),
        sorted(ChecklistItem.objects.values_list("pk", "text", "sort_order", "is_active")),
        sorted(
            ServiceItem.objects.values_list(
                "pk", "code", "name", "name_en", "sort_order", "is_active"
            )
        ),  # fmt: skip
        sorted(
            Report.objects.values_list(
                "pk",
                "status",
                "department_id",
                "points_status",
                "witnesses",
                "merged_into_id",
                "acknowledged_at",
            )
        ),
        ReportEvent.objects.count(),
        ReportPhoto.objects.count(),
        Witness.objects.count(),
        sorted(
            Category.objects.values_list(
                "pk",
                "code",
                "name",
                "department_id",
                "deadline_amount",
                "deadline_unit",
                "urgent",
                "is_active",
            )
        ),
        sorted(
            ReportSettings.objects.values_list(
                "pk", "duplicate_radius_m", "duplicate_days", "witness_share_percent"
            )
        ),  # fmt: skip
        Notification.objects.count(),
        sorted(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True)),
        Holiday.objects.count(),
        sorted(User.objects.filter(on_duty=True).values_list("pk", flat=True)),
        *(part.snapshot() for part in PARTS),
    )


@pytest.mark.parametrize("role_index, role", list(enumerate(MATRIX_ROLES)))
@pytest.mark.parametrize("name", list(CASES))
def test_matrix(world, ids, name, role_index, role, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    case = CASES[name]
    expected = int(case.expect.split()[role_index])
    if _needs_shop(case):
        ids = {**ids, **shop_ids(world)}
    if _needs_stations(case):
        ids = {**ids, **station_ids(world)}
    if _needs_reports(case):
        ids = {**ids, **report_ids(world, case)}
    for part in PARTS:
        if part.api_uses(case):
            ids = {**ids, **part.api_ids(world, case)}
    client = client_for(world.account(role))
    before = snapshot()
    if case.multipart:
        response = client.post(
            _fill(case.path, ids),
            data={**_fill(case.body, ids), case.file_field: UPLOADS[case.upload]()},
            headers=case.headers,
        )
    else:
        response = call(
            client, case.method, _fill(case.path, ids), _fill(case.body, ids), headers=case.headers
        )
    assert response.status_code == expected, (name, role, response.content[:300])
    if case.download and expected == 200:
        assert response["Content-Disposition"].startswith('attachment; filename="')
        return
    body = response.json()
    if expected >= 400:
        assert set(body) == {"code", "message", "detail"} and body["message"]
        assert snapshot() == before, f"{name} denied for {role} but changed something"


def test_matrix_covers_every_operation():
    schema = api.get_openapi_schema()
    operations = {
        _shape(f"{method.upper()} {path.removeprefix('/api/v1')}")
        for path, item in schema["paths"].items()
        for method in item
    }
    assert operations == {_shape(name) for name in CASES}


def _shape(operation: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", operation)
