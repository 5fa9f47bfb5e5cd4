"""A small, fully built area tree with one account per role of the permission matrix.

    440000 district (测试区)
      440000001 street A
        440000001001 community A1   grids …001 (west half), …002 (east half)
        440000001002 community A2   grid  …001
      440000002 street B
        440000002001 community B1   grid  …001

Coordinates are a 0.01° lattice near (40.09, 113.30); all writes go through the services.
"""

from __future__ import annotations

from dataclasses import dataclass

from yizhan.areas.models import Area
from yizhan.areas.services import area_create
from yizhan.core.roles import Role
from yizhan.people.models import Post, RiderProfile, User
from yizhan.people.services import (
    account_create,
    post_claim,
    post_create,
    rider_register,
    rider_verify,
    team_add_member,
    team_create,
)

PASSWORD = "Yizhan-test-2026"


def square(lng0: float, lat0: float, lng1: float, lat1: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]],
    }


@dataclass
class World:
    district: Area
    street_a: Area
    street_b: Area
    community_a1: Area
    community_a2: Area
    community_b1: Area
    grid_a1_west: Area
    grid_a1_east: Area
    grid_a2: Area
    grid_b1: Area
    rider: RiderProfile
    other_rider: RiderProfile
    pending_rider: RiderProfile
    merchant: User
    community_staff: User
    other_community_staff: User
    street_admin: User
    district_admin: User
    post: Post

    def account(self, who: str) -> User | None:
        """The account for a matrix role name ('anonymous' gives None)."""
        if who == "anonymous":
            return None
        if who in {"rider", "other_rider", "pending_rider"}:
            return getattr(self, who).user
        return getattr(self, who)


MATRIX_ROLES = [
    "anonymous",
    "rider",
    "other_rider",
    "merchant",
    "community_staff",
    "other_community_staff",
    "street_admin",
    "district_admin",
]


def make_rider(community: Area, phone: str, name: str, *, lat: float, lng: float, verify_by=None):
    rider = rider_register(
        name=name,
        phone=phone,
        password=PASSWORD,
        community=community,
        platform="meituan",
        occupation="food_delivery",
        vehicle="e_bike",
        work_lat=lat,
        work_lng=lng,
        consent=True,
    )
    if verify_by is not None:
        rider = rider_verify(rider=rider, actor=verify_by)
    return rider


def build_world() -> World:
    district = area_create(level="district", code="440000", name="测试区")
    street_a = area_create(level="street", code="440000001", name="甲街道", parent=district)
    street_b = area_create(level="street", code="440000002", name="乙街道", parent=district)
    a1 = area_create(
        level="community",
        code="440000001001",
        name="甲一社区",
        parent=street_a,
        boundary=square(113.30, 40.09, 113.32, 40.10),
    )
    a2 = area_create(
        level="community",
        code="440000001002",
        name="甲二社区",
        parent=street_a,
        boundary=square(113.32, 40.09, 113.34, 40.10),
    )
    b1 = area_create(
        level="community",
        code="440000002001",
        name="乙一社区",
        parent=street_b,
        boundary=square(113.30, 40.08, 113.32, 40.09),
    )
    grid_west = area_create(
        level="grid",
        code="440000001001001",
        name="甲一西网格",
        parent=a1,
        boundary=square(113.30, 40.09, 113.31, 40.10),
    )
    grid_east = area_create(
        level="grid",
        code="440000001001002",
        name="甲一东网格",
        parent=a1,
        boundary=square(113.31, 40.09, 113.32, 40.10),
    )
    grid_a2 = area_create(
        level="grid",
        code="440000001002001",
        name="甲二网格",
        parent=a2,
        boundary=square(113.32, 40.09, 113.34, 40.10),
    )
    grid_b1 = area_create(
        level="grid",
        code="440000002001001",
        name="乙一网格",
        parent=b1,
        boundary=square(113.30, 40.08, 113.32, 40.09),
    )

    def staff(username, role, area, phone=""):
        return account_create(
            username=username, name=username, role=role, area=area, password=PASSWORD, phone=phone
        )

    community_staff = staff("staff_a1", Role.STAFF, a1, "13900000001")
    other_community_staff = staff("staff_a2", Role.STAFF, a2)
    street_admin = staff("admin_a", Role.ADMIN, street_a)
    district_admin = staff("admin_d", Role.ADMIN, district)
    merchant = account_create(
        username="merchant", name="小店", role=Role.MERCHANT, password=PASSWORD
    )
    rider = make_rider(
        a1, "13812341234", "王小明", lat=40.095, lng=113.315, verify_by=community_staff
    )
    other_rider = make_rider(
        a2, "13812345678", "李大力", lat=40.095, lng=113.33, verify_by=other_community_staff
    )
    pending = make_rider(a1, "13700001111", "赵待审", lat=40.095, lng=113.305)
    post = post_create(community=a1, kind="safety", capacity=2, actor=community_staff)
    return World(
        district=district,
        street_a=street_a,
        street_b=street_b,
        community_a1=a1,
        community_a2=a2,
        community_b1=b1,
        grid_a1_west=grid_west,
        grid_a1_east=grid_east,
        grid_a2=grid_a2,
        grid_b1=grid_b1,
        rider=rider,
        other_rider=other_rider,
        pending_rider=pending,
        merchant=merchant,
        community_staff=community_staff,
        other_community_staff=other_community_staff,
        street_admin=street_admin,
        district_admin=district_admin,
        post=post,
    )


def matrix_objects(world: World) -> dict:
    """What the permission matrices act on, all in community A1: a second post, the rider's
    pending claim on the first, a team holding the rider, and another verified rider to add."""
    post2 = post_create(
        community=world.community_a1, kind="civility", capacity=3, actor=world.community_staff
    )
    claim = post_claim(rider=world.rider, post=world.post, actor=world.rider.user)
    team = team_create(name="爱心骑手队", area=world.community_a1, actor=world.community_staff)
    team_add_member(team=team, rider=world.rider, actor=world.community_staff)
    extra = make_rider(
        world.community_a1, "13600000077", "郑义", lat=40.095, lng=113.305,
        verify_by=world.community_staff,
    )  # fmt: skip
    return {"post2": post2, "claim": claim, "team": team, "extra": extra}


def shop_objects(world: World) -> dict:
    """What the points and rewards matrices act on, in community A1 of street A.

    Street A pays 5 a verified report; a station in A1 holds 3 of a 充电宝 (10 points, 2 per
    rider); the rider earned 20 + 5 points (community staff awarded both; the 5 is the posting
    to reverse) and holds one reservation for pickup at the station (10 points held). A second
    A1 staff member asked for a large award of 50 to the rider, awaiting a second approval.
    """
    from datetime import timedelta

    from django.utils import timezone

    from yizhan.points.services import earning_rule_set, points_award
    from yizhan.rewards.services import (
        redemption_reserve,
        reward_create,
        stock_change,
        window_create,
    )
    from yizhan.stations.services import station_create

    staff = world.community_staff
    earning_rule_set(
        street=world.street_a, activity="report_verified", points=5, actor=world.street_admin
    )
    station = station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=staff,
    )  # fmt: skip
    reward = reward_create(
        street=world.street_a, name="充电宝", cost=10, per_rider_limit=2, actor=world.street_admin
    )
    stock_change(reward=reward, station=station, change=3, reason="首批到货", actor=staff)
    points_award(
        member=world.rider.user, amount=20, reason="巡查", evidence="照片", actor=staff,
        idempotency_key="matrix-seed-award",
    )  # fmt: skip
    small = points_award(
        member=world.rider.user, amount=5, reason="劝导", evidence="照片", actor=staff,
        idempotency_key="matrix-small-award",
    )  # fmt: skip
    second_staff = account_create(
        username="staff_a1_b", name="钱二", role=Role.STAFF, area=world.community_a1,
        password=PASSWORD,
    )  # fmt: skip
    pending = points_award(
        member=world.rider.user, amount=50, reason="救助老人", evidence="视频",
        actor=second_staff, idempotency_key="matrix-large-award",
    )  # fmt: skip
    redemption = redemption_reserve(
        user=world.rider.user, reward=reward, station=station, idempotency_key="matrix-reserve"
    )
    now = timezone.now()
    window = window_create(
        street=world.street_a, name="下月首兑", top_n=15, season_kind="month",
        opens_at=now + timedelta(days=40), closes_at=now + timedelta(days=41),
        actor=world.street_admin,
    )  # fmt: skip
    return {
        "station": station,
        "reward": reward,
        "award_posting": small.earning.posting,
        "pending_award": pending,
        "redemption": redemption,
        "window": window,
        "second_staff": second_staff,
    }


def station_objects(world: World) -> dict:
    """What the station matrices act on, in street A.

    A rider station in A1 (rest, water, phone charging; 08:00–22:00 every day), a caring corner
    in A1 hosted by ``world.merchant`` (24 hours), a station in A2 run by the other community's
    staff, street A's "6+6" checklist of two items, one inspection of the A1 station, and the
    rider's check-in there.
    """
    from yizhan.stations import services as s

    staff = world.community_staff
    station = s.station_create(
        name="甲一小哥驿站", kind="rider_station", community=world.community_a1, lat=40.095,
        lng=113.305, actor=staff, services=["rest", "water", "phone_charging"],
        hours="每天 08:00-22:00", address="甲一路 1 号", contact_phone="0352-1234567",
    )  # fmt: skip
    corner = s.station_create(
        name="小店爱心角", kind="corner", community=world.community_a1, lat=40.096,
        lng=113.315, actor=staff, merchant=world.merchant, host_name="小店",
        services=["water", "phone_charging", "tyre_inflation"], hours="24小时",
    )  # fmt: skip
    other = s.station_create(
        name="甲二小哥驿站", kind="rider_station", community=world.community_a2, lat=40.095,
        lng=113.33, actor=world.other_community_staff, services=["rest"], hours="24小时",
    )  # fmt: skip
    seats = s.checklist_item_create(
        street=world.street_a, text="有休息座椅", actor=world.street_admin
    )
    water = s.checklist_item_create(
        street=world.street_a, text="有饮水设施", actor=world.street_admin
    )
    inspection = s.inspection_record(
        station=station, results={seats.pk: True, water.pk: False}, actor=staff
    )
    visit = s.visit_check_in(
        station=station, token=s.qr_token(station), user=world.rider.user,
        idempotency_key="matrix-visit-1",
    )  # fmt: skip
    return {
        "station": station,
        "corner": corner,
        "other_station": other,
        "checklist_item": seats,
        "checklist_item_2": water,
        "inspection": inspection,
        "visit": visit,
    }


def report_jpeg(seed: int = 0, *, name: str = "photo.jpg", size: tuple[int, int] = (96, 72)):
    """A small JPEG upload whose perceptual hash depends on ``seed`` (a 9×8 pattern of random
    greys, scaled up): different seeds are different pictures, the same seed the same one."""
    import io
    import random

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    rng = random.Random(seed)
    small = Image.new("L", (9, 8))
    small.putdata([rng.randrange(256) for _ in range(72)])
    out = io.BytesIO()
    small.resize(size, Image.Resampling.NEAREST).convert("RGB").save(out, "JPEG", quality=90)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def report_objects(world: World) -> dict:
    """What the report tests act on, in street A (set ``settings.MEDIA_ROOT`` to a temporary
    folder first: the photos are written there).

    Street A has the standard categories (seeded by its admin, each paying its points) and a
    department 城管队 with one handler (``handler_a``). Reports, each with its own photo:

    - ``submitted``: the rider's 楼道堆物 in A1 (east grid), awaiting triage;
    - ``dispatched``: a second A1 rider's 楼道堆物 in A1 (west grid, 800 m away), sent to 城管队;
    - ``handled``: the second rider's 乱停乱放, handled by 城管队 with an after photo;
    - ``verified``: the second rider's 设施损坏, handled and checked on site (points paid);
    - ``closed``: the rider's 卫生不达标, the whole way to closed (points paid);
    - ``a2_report``: the other rider's 设施损坏 in community A2, awaiting triage.

    The rider files two, so a test may file two more before the burst flag (five in 30 min).
    """
    from yizhan.people.services import department_create
    from yizhan.reports import services as r

    admin, staff = world.street_admin, world.community_staff
    categories = {c.code: c for c in r.categories_seed(street=world.street_a, actor=admin)}
    department = department_create(name="城管队", area=world.street_a, actor=admin)
    handler = account_create(
        username="handler_a", name="城管张", role=Role.HANDLER, area=world.street_a,
        department=department, password=PASSWORD, phone="13900000009",
    )  # fmt: skip
    second = make_rider(
        world.community_a1, "13600000088", "孙三", lat=40.094, lng=113.305, verify_by=staff
    )

    def submit(reporter, code, lat, lng, seed, text):
        return r.report_submit(
            reporter=reporter, category=categories[code], lat=lat, lng=lng, description=text,
            idempotency_key=f"world-report-{seed:04d}", photos=[report_jpeg(seed)],
            address="甲一路", building="3号楼",
        )  # fmt: skip

    def handle(report, seed):
        report = r.report_dispatch(report=report, actor=staff, department=department, note="请处理")
        after = report_jpeg(seed, name="after.jpg")
        return r.report_handle(report=report, actor=handler, note="已处理", photos=[after])

    submitted = submit(world.rider.user, "stairwell_clutter", 40.095, 113.315, 1, "楼道堆满纸箱")
    dispatched = submit(second.user, "stairwell_clutter", 40.094, 113.305, 2, "单元门口堆自行车")
    dispatched = r.report_dispatch(
        report=dispatched, actor=staff, department=department, note="请处理"
    )
    handled = handle(submit(second.user, "bad_parking", 40.096, 113.312, 3, "汽车占用盲道"), 103)
    verified = handle(submit(second.user, "broken_facility", 40.092, 113.308, 4, "井盖破损"), 104)
    verified = r.report_verify(report=verified, actor=staff, passed=True, note="现场核查通过")
    closed = submit(world.rider.user, "poor_sanitation", 40.093, 113.318, 5, "路面积水")
    closed = handle(closed, 105)
    closed = r.report_verify(report=closed, actor=staff, passed=True, note="现场核查通过")
    closed = r.report_close(report=closed, actor=staff, note="结案")
    a2_report = submit(world.other_rider.user, "broken_facility", 40.095, 113.33, 6, "路灯不亮")
    return {
        "categories": categories,
        "department": department,
        "handler": handler,
        "second_rider": second,
        "submitted": submitted,
        "dispatched": dispatched,
        "handled": handled,
        "verified": verified,
        "closed": closed,
        "a2_report": a2_report,
    }
