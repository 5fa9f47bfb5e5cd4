"""The world ``benchmarks/load.py`` drives: one street, written through the services.

One district, one street (``LOAD_STREET``) with four communities side by side near
(40.09, 113.30), each one grid; the street's staff (three staff accounts at the street for the
console, one street admin who configures), a department 城管队 with one handler; ``riders``
riders registered and verified through ``people.services`` (no password: they use API tokens
issued here, so no Argon2 hash per rider is spent on seeding); two stations per community;
the standard report categories, paying 5 points a verified report; three rewards with stock at
every station; one upcoming event. Every rider starts with 500 points from one manual award
(the street's approval threshold is raised for it, as a street admin may).

Every API client gets a bearer token from ``people.services.token_issue`` (scope write).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

LOAD_STREET = "440900001"
START_POINTS = 500
COMMUNITIES = 4
STATIONS_PER_COMMUNITY = 2
LAT0, LAT1 = 40.090, 40.100
LNG0, LNG_STEP = 113.300, 0.020


@dataclass
class Rider:
    user_id: int
    token: str
    community: int  # index into World.boxes
    home: tuple[float, float]  # the work point it registered with


@dataclass
class World:
    street_code: str
    department_id: int
    staff_tokens: dict[str, str]  # "triage", "verify", "award", "handler"
    riders: list[Rider]
    stations: list[tuple[int, str, float, float]]  # (id, QR token, lat, lng)
    rewards: list[tuple[int, int]]  # (id, cost)
    categories: list[int]
    event_id: int
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)


def _square(lng0: float, lat0: float, lng1: float, lat1: float) -> dict:
    ring = [[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_world(riders: int, *, seed: int = 8) -> World:
    from django.utils import timezone

    from yizhan.areas.services import area_create
    from yizhan.core.roles import Role
    from yizhan.events.services import event_create
    from yizhan.people.services import (
        account_create,
        department_create,
        rider_register,
        rider_verify,
        token_issue,
    )
    from yizhan.points.services import earning_rule_set, points_award, points_settings_update
    from yizhan.reports.services import categories_seed
    from yizhan.rewards.services import reward_create, stock_change
    from yizhan.stations.services import qr_token, station_create

    rng = random.Random(seed)
    district = area_create(level="district", code=LOAD_STREET[:6], name="压测区")
    street = area_create(level="street", code=LOAD_STREET, name="压测街道", parent=district)
    admin = account_create(
        username="load_admin", name="街道管理员", role=Role.ADMIN, area=street, password=None
    )
    communities, boxes = [], []
    for i in range(COMMUNITIES):
        box = (LNG0 + LNG_STEP * i, LAT0, LNG0 + LNG_STEP * (i + 1), LAT1)
        community = area_create(
            level="community", code=f"{LOAD_STREET}{i + 1:03d}", name=f"压测{i + 1}社区",
            parent=street, boundary=_square(*box),
        )  # fmt: skip
        area_create(
            level="grid", code=f"{community.code}001", name=f"压测{i + 1}网格",
            parent=community, boundary=_square(*box),
        )  # fmt: skip
        communities.append(community)
        boxes.append(box)

    def staff(username: str, name: str, role: str = Role.STAFF, **extra):
        return account_create(
            username=username, name=name, role=role, area=street, password=None, **extra
        )

    triage, verifier, awarder = (
        staff("load_triage", "分拨员"),
        staff("load_verify", "核查员"),
        (staff("load_award", "积分员")),
    )
    department = department_create(name="城管队", area=street, actor=admin)
    handler = staff("load_handler", "城管张", Role.HANDLER, department=department)

    categories = [c.pk for c in categories_seed(street=street, actor=admin)]
    earning_rule_set(street=street, activity="report_verified", points=5, actor=admin)
    points_settings_update(street=street, actor=admin, approval_threshold=START_POINTS)

    stations = []
    for i, community in enumerate(communities):
        lng0, lat0, lng1, lat1 = boxes[i]
        for j in range(STATIONS_PER_COMMUNITY):
            lat = round(lat0 + (lat1 - lat0) * (0.3 + 0.4 * j), 6)
            lng = round(lng0 + (lng1 - lng0) * (0.3 + 0.4 * j), 6)
            station = station_create(
                name=f"压测驿站{i + 1}-{j + 1}", kind="rider_station", community=community,
                lat=lat, lng=lng, actor=admin, services=["rest", "water", "phone_charging"],
                hours="24小时",
            )  # fmt: skip
            stations.append((station.pk, qr_token(station), lat, lng))

    from yizhan.stations.models import Station

    rewards = []
    for name, cost, stock in (("矿泉水", 5, 400), ("充电宝", 30, 60), ("雨衣", 20, 100)):
        reward = reward_create(street=street, name=name, cost=cost, actor=admin)
        for station_id, *_rest in stations:
            stock_change(
                reward=reward, station=Station.objects.get(pk=station_id), change=stock,
                reason="备货", actor=admin,
            )  # fmt: skip
        rewards.append((reward.pk, cost))

    now = timezone.now()
    event = event_create(
        organiser=street, title="骑手节", kind="rider_festival", capacity=300,
        starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=7, hours=3),
        actor=admin, description="压测活动", station=Station.objects.get(pk=stations[0][0]),
    )  # fmt: skip

    people = []
    for n in range(riders):
        i = n % COMMUNITIES
        lng0, lat0, lng1, lat1 = boxes[i]
        home = (
            round(rng.uniform(lat0 + 0.001, lat1 - 0.001), 6),
            round(rng.uniform(lng0 + 0.001, lng1 - 0.001), 6),
        )
        profile = rider_register(
            name=f"骑手{n + 1}", phone=f"139{n:08d}", password=None, community=communities[i],
            platform="meituan", occupation="food_delivery", vehicle="e_bike",
            work_lat=home[0], work_lng=home[1], consent=True,
        )  # fmt: skip
        profile = rider_verify(rider=profile, actor=triage)
        points_award(
            member=profile.user, amount=START_POINTS, reason="压测初始积分", evidence="种子数据",
            actor=admin, idempotency_key=f"load-seed-{profile.user_id}",
        )  # fmt: skip
        _token, raw = token_issue(user=profile.user, name="load")
        people.append(Rider(profile.user_id, raw, i, home))

    tokens = {
        role: token_issue(user=user, name="load")[1]
        for role, user in (
            ("triage", triage), ("verify", verifier), ("award", awarder), ("handler", handler)
        )
    }  # fmt: skip
    return World(
        street_code=street.code,
        department_id=department.pk,
        staff_tokens=tokens,
        riders=people,
        stations=stations,
        rewards=rewards,
        categories=categories,
        event_id=event.pk,
        boxes=boxes,
    )
