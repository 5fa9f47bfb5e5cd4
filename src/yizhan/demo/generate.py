"""Draw the demo's riders from the fixed lists in ``data.py``: names, phones, work points, posts.

Pure Python, no database: :func:`build_plan` returns the same plan on every call (one seeded
``random.Random``, fixed lists, fixed order), and the loader writes it through the services.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import cache

from shapely.geometry import Point, shape

from yizhan.demo import data

#: Work points keep this far (degrees, about 7 m) inside their grid's edges.
EDGE_MARGIN = 0.00008
#: How far (degrees) a work point may lie from its spot.
JITTER_LNG, JITTER_LAT = 0.0004, 0.0003


@dataclass(frozen=True)
class RiderSpec:
    key: str
    name: str
    phone: str
    #: ``DEMO_PASSWORD`` for the showcase riders; None (registered from a paper form) otherwise.
    password: str | None
    community: str
    #: The grid the work point lies in (where 就近原则 will place the rider).
    grid: str
    lat: float
    lng: float
    address: str
    platform: str
    occupation: str
    vehicle: str
    status: str
    reason: str = ""
    #: Posts the rider holds (claimed and approved), in claim order.
    posts: tuple[str, ...] = ()
    #: Posts the rider has claimed and staff have not decided yet.
    pending_claims: tuple[str, ...] = ()


@dataclass(frozen=True)
class TeamPlan:
    spec: data.TeamSpec
    leader: str
    members: tuple[str, ...]  # rider keys, the leader first


@dataclass(frozen=True)
class DemoPlan:
    riders: tuple[RiderSpec, ...]
    teams: tuple[TeamPlan, ...]

    def rider(self, key: str) -> RiderSpec:
        return next(r for r in self.riders if r.key == key)


def _weighted(rng: random.Random, pairs) -> str:
    values = [value for value, _weight in pairs]
    weights = [weight for _value, weight in pairs]
    return rng.choices(values, weights=weights)[0]


class _Names:
    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng, self.taken = rng, set(taken)

    def __call__(self) -> str:
        rng = self.rng
        while True:
            surname = _weighted(rng, data.SURNAMES.items())
            female = rng.random() < data.FEMALE_SHARE
            last = rng.choice(data.GIVEN_FEMALE if female else data.GIVEN_MALE)
            given = (
                last
                if rng.random() < data.SINGLE_GIVEN_SHARE
                else rng.choice(data.GIVEN_FIRST) + last
            )
            name = surname + given
            if name not in self.taken:
                self.taken.add(name)
                return name


class _Phones:
    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng, self.taken = rng, set(taken)

    def __call__(self) -> str:
        while True:
            phone = self.rng.choice(data.PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.taken:
                self.taken.add(phone)
                return phone


@cache
def _inner(grid_code: str):
    grid = next(g for g in data.GRIDS if g.code == grid_code)
    return shape(grid.boundary).buffer(-EDGE_MARGIN)


def _work_place(rng: random.Random, grid_code: str) -> tuple[float, float, str]:
    """A work point near one of the grid's spots, inside the grid; and its address."""
    spot = rng.choice(data.SPOTS[grid_code])
    inner = _inner(grid_code)
    for _attempt in range(1000):
        lng = round(spot.lng + rng.uniform(-JITTER_LNG, JITTER_LNG), 6)
        lat = round(spot.lat + rng.uniform(-JITTER_LAT, JITTER_LAT), 6)
        if inner.contains(Point(lng, lat)):
            return lat, lng, spot.address.format(n=rng.randint(1, spot.top))
    raise ValueError(f"no work point found near {spot.address} in grid {grid_code}")


def _fixed_rider(fixed: data.FixedRider) -> RiderSpec:
    spot = data.SPOTS[fixed.grid][fixed.spot]
    return RiderSpec(
        key=fixed.key,
        name=fixed.name,
        phone=fixed.phone,
        password=data.DEMO_PASSWORD,
        community=fixed.community,
        grid=fixed.grid,
        lat=spot.lat,
        lng=spot.lng,
        address=spot.address.format(n=fixed.number),
        platform=fixed.platform,
        occupation=fixed.occupation,
        vehicle=fixed.vehicle,
        status=fixed.status,
        posts=fixed.posts,
        pending_claims=fixed.pending_claims,
    )


def _assign_posts(
    rng: random.Random, plan: data.CommunityPlan, riders: list[RiderSpec]
) -> list[RiderSpec]:
    """Give each verified rider one post (some two) and a few a pending claim, within capacity.

    One place of every post is kept back for pending claims, so approving any of them fits.
    """
    free = {kind: capacity - 1 for kind, capacity in plan.capacities.items()}
    reserve = dict.fromkeys(plan.capacities, 1)
    posts: dict[str, list[str]] = {r.key: list(r.posts) for r in riders}
    pending: dict[str, list[str]] = {r.key: list(r.pending_claims) for r in riders}
    for rider in riders:
        for kind in rider.posts:
            free[kind] -= 1
        for kind in rider.pending_claims:
            reserve[kind] -= 1
    drawn = [r for r in riders if not r.posts]
    for rider in drawn:
        kind = _weighted(rng, [(k, w) for k, w in data.POST_WEIGHTS.items() if free[k] > 0])
        posts[rider.key].append(kind)
        free[kind] -= 1
    for rider in drawn:
        if rng.random() < data.SECOND_POST_SHARE:
            options = [
                (k, w)
                for k, w in data.POST_WEIGHTS.items()
                if free[k] > 0 and k not in posts[rider.key]
            ]
            if options:
                kind = _weighted(rng, options)
                posts[rider.key].append(kind)
                free[kind] -= 1
    for rider in rng.sample(drawn, plan.pending_claims):
        options = sorted(k for k in reserve if reserve[k] > 0 and k not in posts[rider.key])
        kind = rng.choice(options)
        pending[rider.key].append(kind)
        reserve[kind] -= 1
    return [
        replace(rider, posts=tuple(posts[rider.key]), pending_claims=tuple(pending[rider.key]))
        for rider in riders
    ]


@cache
def build_plan() -> DemoPlan:
    """Every rider and team of the demo, the same on every call."""
    rng = random.Random(data.SEED)
    fixed = [data.SHOWCASE_RIDER, data.SHOWCASE_PENDING]
    names = _Names(rng, {f.name for f in fixed})
    phones = _Phones(rng, {f.phone for f in fixed})

    def drawn(key: str, community: str, grid: str, status: str, reason: str = "") -> RiderSpec:
        name, phone = names(), phones()
        platform, _weight, occupations, vehicles = rng.choices(
            data.PLATFORMS, weights=[p[1] for p in data.PLATFORMS]
        )[0]
        lat, lng, address = _work_place(rng, grid)
        return RiderSpec(
            key=key,
            name=name,
            phone=phone,
            password=None,
            community=community,
            grid=grid,
            lat=lat,
            lng=lng,
            address=address,
            platform=platform,
            occupation=_weighted(rng, occupations),
            vehicle=_weighted(rng, vehicles),
            status=status,
            reason=reason,
        )

    riders: list[RiderSpec] = []
    number = 0
    for community, plan in data.PLAN.items():
        mine_fixed = [_fixed_rider(f) for f in fixed if f.community == community]
        verified = [r for r in mine_fixed if r.status == "verified"]
        while len(verified) < plan.verified:
            number += 1
            verified.append(drawn(f"r{number:02d}", community, rng.choice(plan.grids), "verified"))
        riders += _assign_posts(rng, plan, verified)
        if community == data.REJECTED["community"]:
            number += 1
            riders.append(
                drawn(
                    f"r{number:02d}",
                    community,
                    data.REJECTED["grid"],
                    "rejected",
                    reason=data.REJECTED["reason"],
                )
            )
        pending = [r for r in mine_fixed if r.status == "pending"]
        while len(pending) < plan.pending:
            number += 1
            pending.insert(0, drawn(f"r{number:02d}", community, rng.choice(plan.grids), "pending"))
        riders += pending

    teams = []
    for spec in data.TEAMS:
        candidates = sorted(
            r.key
            for r in riders
            if r.status == "verified" and r.community.startswith(spec.area_code)
        )
        for key in spec.includes:
            candidates.remove(key)
        if spec.leader is not None:
            candidates.remove(spec.leader)
            members = [spec.leader, *rng.sample(candidates, spec.size - 1)]
        else:
            drawn_ = rng.sample(candidates, spec.size - len(spec.includes))
            members = [*drawn_[:1], *spec.includes, *drawn_[1:]]
        teams.append(TeamPlan(spec=spec, leader=members[0], members=tuple(members)))
    return DemoPlan(riders=tuple(riders), teams=tuple(teams))
