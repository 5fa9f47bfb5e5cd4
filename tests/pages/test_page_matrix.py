"""Every page × every role of the matrix: allowed or denied, and a denial changes nothing.

Columns follow MATRIX_ROLES: anonymous, rider, other_rider, merchant, community_staff,
other_community_staff, street_admin, district_admin. The rider, the pending rider, the post,
the claim and the team all belong to community A1 (street A); so do the points and shop rows'
station, reward, awards, posting and reservation (``tests.world.shop_objects``). Outcomes:

    ok     200                         go     302 after doing it
    login  302 to the log-in page      away   302 elsewhere, nothing done
    4xx    that status, nothing done
"""

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.api.helpers import client_for
from tests.api.test_permission_matrix import snapshot
from tests.world import MATRIX_ROLES, PASSWORD, matrix_objects, shop_objects


@dataclass
class Case:
    method: str
    name: str  # URL name
    args: tuple  # placeholders for reverse()
    body: object
    expect: str  # one outcome per MATRIX_ROLES column


def row(*outcomes: str) -> str:
    return " ".join(outcomes)


RIDER_ONLY = row("login", "ok", "ok", "403", "403", "403", "403", "403")
CONSOLE = row("login", "403", "403", "403", "ok", "ok", "ok", "ok")
# Staff of community A1 and the admins above it may act; other community's staff see nothing.
ACT_IN_A1 = row("login", "403", "403", "403", "go", "404", "go", "go")
SEE_IN_A1 = row("login", "403", "403", "403", "ok", "404", "ok", "ok")
# The street's catalogue, rules and windows: its admins (and the district's) change them.
CONFIGURE_STREET = row("login", "403", "403", "403", "403", "403", "go", "go")
# A station of A1: its staff and the admins above act; other community's staff are not offered it.
AT_STATION_A1 = row("login", "403", "403", "403", "go", "400", "go", "go")

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
    "console": Case("GET", "people:console", (), None, CONSOLE),
    "registrations": Case("GET", "people:registrations", (), None, CONSOLE),
    "riders": Case("GET", "people:riders", (), None, CONSOLE),
    "rider_detail": Case("GET", "people:rider_detail", ("rider",), None, SEE_IN_A1),
    "rider_verify": Case("POST", "people:rider_verify", ("pending",), {}, ACT_IN_A1),
    "rider_reject": Case(
        "POST", "people:rider_reject", ("pending",), {"reason": "资料不全"}, ACT_IN_A1
    ),
    "rider_move": Case("POST", "people:rider_move", ("rider",), {"grid": "{west}"}, ACT_IN_A1),
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
}  # fmt: skip


@pytest.fixture
def ids(world):
    made = matrix_objects(world)
    return {
        "a1": world.community_a1.pk,
        "a1_code": world.community_a1.code,
        "west": world.grid_a1_west.pk,
        "rider": world.rider.pk,
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


def fill(body, ids):
    if body is None:
        return None
    return {
        k: (str(ids[v[1:-1]]) if isinstance(v, str) and v[1:-1] in ids else v)
        for k, v in body.items()
    }


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
def test_page_matrix(world, ids, name, role_index, role):
    case = CASES[name]
    outcome = case.expect.split()[role_index]
    if case.name.startswith(("points:", "rewards:")):
        ids = {**ids, **shop_ids(world)}
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
            if pattern.namespace in ("admin", "api"):
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
