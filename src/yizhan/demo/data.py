"""The fixed data of the demo street: areas and boundaries, staff, showcase riders, name lists.

The place and the programme are real (大同市平城区清远街道, its 清远西街社区 and the 56
riders who took governance posts there; see the newspaper pages in the design notes). The
numbers around them are not all official:

* ``140213`` is 平城区's GB/T 2260 code; ``140213055`` (清远街道) and ``140213050`` (永泰街道) are
  the streets' published statistical codes. Community and grid codes below them are sequence
  numbers (docs/areas.md), not official codes.
* 清远西街社区 and 柳航里社区 (永泰街道) are named in the newspaper; 清远北苑社区 and 西关社区 are
  illustrative.
* Boundaries are drawn, not surveyed: 清远街道 lies just outside 清远门, the west gate of the old
  town (about 40.09 N, 113.28 E); 柳航里 lies south of the old town. WGS-84, [lng, lat].

Everything random (rider names, phones, platforms, work points) is drawn from the lists here by
``generate.py`` with a seeded ``random.Random``, so every load produces the same demo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Seed of every random choice in the demo (骑士节, 17 July).
SEED = 20240717

#: The one password of the showcase accounts, and only in demo mode (``settings.DEMO_MODE``).
DEMO_PASSWORD = "yizhan-demo-2026"


# --- areas -----------------------------------------------------------------------------------


def rect(lng0: float, lat0: float, lng1: float, lat1: float) -> dict:
    """A rectangle as a GeoJSON Polygon (counter-clockwise, closed)."""
    return polygon([(lng0, lat0), (lng1, lat0), (lng1, lat1), (lng0, lat1)])


def polygon(corners: list[tuple[float, float]]) -> dict:
    """A GeoJSON Polygon from its corners ([lng, lat], counter-clockwise); closes the ring."""
    ring = [[lng, lat] for lng, lat in corners]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


@dataclass(frozen=True)
class AreaSpec:
    level: str
    code: str
    name: str
    boundary: dict | None = None
    address: str = ""


DISTRICT = AreaSpec("district", "140213", "平城区", address="山西省大同市平城区")

QINGYUAN = "140213055"  # 清远街道
YONGTAI = "140213050"  # 永泰街道
QYXJ = "140213055001"  # 清远西街社区
QYBY = "140213055002"  # 清远北苑社区
XIGUAN = "140213055003"  # 西关社区
LIUHANGLI = "140213050001"  # 柳航里社区

# 清远北苑 has a slanting north edge, so the street's outline is not a plain rectangle.
_BEIYUAN = polygon(
    [(113.2760, 40.0960), (113.2880, 40.0960), (113.2880, 40.0985), (113.2830, 40.0990),
     (113.2760, 40.0990)]
)  # fmt: skip
_LIUHANGLI = polygon(
    [(113.2925, 40.0790), (113.3000, 40.0790), (113.3000, 40.0832), (113.2918, 40.0828)]
)

STREETS = [
    AreaSpec(
        "street",
        QINGYUAN,
        "清远街道",
        polygon(
            [
                (113.2760, 40.0870),
                (113.2880, 40.0870),
                (113.2880, 40.0985),
                (113.2830, 40.0990),
                (113.2760, 40.0990),
            ]
        ),  # fmt: skip
        address="平城区清远街道办事处",
    ),
    # Only one of 永泰街道's communities is in the demo, so the street has no outline of its own.
    AreaSpec("street", YONGTAI, "永泰街道", address="平城区永泰街道办事处"),
]

COMMUNITIES = [
    AreaSpec(
        "community",
        QYXJ,
        "清远西街社区",
        rect(113.2760, 40.0915, 113.2880, 40.0960),
        address="清远西街社区党群服务站（小哥驿站）",
    ),
    AreaSpec("community", QYBY, "清远北苑社区", _BEIYUAN, address="清远北苑小区 3 号楼底商"),
    AreaSpec(
        "community",
        XIGUAN,
        "西关社区",
        rect(113.2760, 40.0870, 113.2880, 40.0915),
        address="西关南街社区服务中心",
    ),
    AreaSpec("community", LIUHANGLI, "柳航里社区", _LIUHANGLI, address="柳航里小区社区服务中心"),
]

# 清远西街社区 is cut into three grids that tile it; the middle one is L-shaped (concave), so its
# bounding box overlaps 西街北网格 and only the polygon test tells them apart. The other
# communities are one grid each.
GRIDS = [
    AreaSpec("grid", QYXJ + "001", "清远门网格", rect(113.2840, 40.0915, 113.2880, 40.0960)),
    AreaSpec(
        "grid",
        QYXJ + "002",
        "西街南网格",
        polygon(
            [
                (113.2760, 40.0915),
                (113.2840, 40.0915),
                (113.2840, 40.0937),
                (113.2795, 40.0937),
                (113.2795, 40.0960),
                (113.2760, 40.0960),
            ]
        ),  # fmt: skip
    ),
    AreaSpec("grid", QYXJ + "003", "西街北网格", rect(113.2795, 40.0937, 113.2840, 40.0960)),
    AreaSpec("grid", QYBY + "001", "北苑网格", _BEIYUAN),
    AreaSpec("grid", XIGUAN + "001", "西关网格", rect(113.2760, 40.0870, 113.2880, 40.0915)),
    AreaSpec("grid", LIUHANGLI + "001", "柳航里网格", _LIUHANGLI),
]

AREAS = [DISTRICT, *STREETS, *COMMUNITIES, *GRIDS]
AREA_NAMES = {a.code: a.name for a in AREAS}


@dataclass(frozen=True)
class Spot:
    """A place riders wait for orders: an address and its point.

    ``{n}`` in the address is a number drawn from 1 to ``top`` (a house or a building number).
    """

    address: str
    lng: float
    lat: float
    top: int = 160


#: Where riders work, per grid. Work points are drawn around these spots, inside the grid.
SPOTS: dict[str, list[Spot]] = {
    QYXJ + "001": [
        Spot("清远门（西城门）外广场", 113.2868, 40.0936),
        Spot("清远西街东段 {n} 号", 113.2852, 40.0931),
        Spot("魏都大道西侧 {n} 号", 113.2847, 40.0949),
        Spot("清远门瓮城南侧停车场", 113.2870, 40.0922),
    ],
    QYXJ + "002": [
        Spot("清远西街南侧 {n} 号", 113.2818, 40.0926),
        Spot("清远西街 {n} 号院", 113.2780, 40.0922, top=60),
        Spot("清远西街西段美食街", 113.2776, 40.0948),
        Spot("西关北巷 {n} 号", 113.2832, 40.0920, top=40),
    ],
    QYXJ + "003": [
        Spot("清远西街北侧 {n} 号", 113.2818, 40.0943),
        Spot("清远西街社区小哥驿站", 113.2826, 40.0952),
        Spot("清远西街 {n} 号商铺", 113.2806, 40.0953),
    ],
    QYBY + "001": [
        Spot("清远北苑小区 {n} 号楼", 113.2805, 40.0974, top=24),
        Spot("魏都大道与北苑路口", 113.2862, 40.0970),
        Spot("清远北苑小区南门", 113.2835, 40.0967),
    ],
    XIGUAN + "001": [
        Spot("西关南街 {n} 号", 113.2800, 40.0890),
        Spot("西关菜市场", 113.2845, 40.0898),
        Spot("西关小学门口", 113.2775, 40.0905),
    ],
    LIUHANGLI + "001": [
        Spot("柳航里小区 {n} 号楼", 113.2950, 40.0810, top=30),
        Spot("柳航里商业街 {n} 号", 113.2980, 40.0806, top=80),
    ],
}


# --- staff and other accounts ----------------------------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    """A staff, handler, admin, merchant or volunteer account.

    ``created_by`` is the key of the account that creates it (None: the platform operator's
    bootstrap, as ``createsuperuser`` would). Showcase accounts get ``DEMO_PASSWORD``; the others
    exist for their scope and have no usable password.
    """

    key: str
    username: str
    name: str
    role: str
    area_code: str
    created_by: str | None
    showcase: bool = False
    department: str | None = None


@dataclass(frozen=True)
class DepartmentSpec:
    key: str
    name: str
    area_code: str
    created_by: str


#: The departments reports are dispatched to (``reports_plan.CATEGORY_DEPARTMENTS`` says which
#: category goes where by default), each with one handler account below. 平城区城管执法队 works
#: district-wide; 清远北苑物业服务中心 only in its community, so staff send it cases by hand.
DEPARTMENTS = [
    DepartmentSpec("zhifadui", "清远街道综合行政执法队", QINGYUAN, created_by="street_admin"),
    DepartmentSpec("chengguan", "平城区城管执法队", DISTRICT.code, created_by="district_admin"),
    DepartmentSpec("huanwei", "清远街道环卫所", QINGYUAN, created_by="street_admin"),
    DepartmentSpec("xiaofang", "清远街道微型消防站", QINGYUAN, created_by="street_admin"),
    DepartmentSpec("chengjian", "清远街道城建办", QINGYUAN, created_by="street_admin"),
    DepartmentSpec("zongzhi", "清远街道综治中心", QINGYUAN, created_by="street_admin"),
    DepartmentSpec("wuye", "清远北苑物业服务中心", QYBY, created_by="street_admin"),
]

ACCOUNTS = [
    AccountSpec(
        key="district_admin",
        username="pingcheng-admin",
        name="李卫东",
        role="admin",
        area_code=DISTRICT.code,
        created_by=None,
        showcase=True,
    ),
    AccountSpec(
        key="street_admin",
        username="qingyuan-admin",
        name="王丽娟",
        role="admin",
        area_code=QINGYUAN,
        created_by="district_admin",
        showcase=True,
    ),
    AccountSpec(
        key="yongtai_admin",
        username="yongtai-admin",
        name="孙志刚",
        role="admin",
        area_code=YONGTAI,
        created_by="district_admin",
    ),
    AccountSpec(
        key="community_staff",
        username="qingyuanxijie-staff",
        name="张慧敏",
        role="staff",
        area_code=QYXJ,
        created_by="street_admin",
        showcase=True,
    ),
    AccountSpec(
        key="beiyuan_staff",
        username="beiyuan-staff",
        name="高秀英",
        role="staff",
        area_code=QYBY,
        created_by="street_admin",
    ),
    AccountSpec(
        key="xiguan_staff",
        username="xiguan-staff",
        name="梁海燕",
        role="staff",
        area_code=XIGUAN,
        created_by="street_admin",
    ),
    AccountSpec(
        key="liuhangli_staff",
        username="liuhangli-staff",
        name="田玉梅",
        role="staff",
        area_code=LIUHANGLI,
        created_by="yongtai_admin",
    ),
    AccountSpec(
        key="grid_worker",
        username="qingyuanmen-grid",
        name="赵鹏",
        role="staff",
        area_code=QYXJ + "001",
        created_by="street_admin",
        showcase=True,
    ),
    AccountSpec(
        key="handler",
        username="zhifadui-handler",
        name="刘强",
        role="handler",
        area_code=QINGYUAN,
        created_by="street_admin",
        showcase=True,
        department="zhifadui",
    ),
    # The other departments' handlers: they report cases handled in the demo's history.
    AccountSpec(
        key="chengguan_handler",
        username="chengguan-handler",
        name="马俊杰",
        role="handler",
        area_code=DISTRICT.code,
        created_by="district_admin",
        department="chengguan",
    ),
    AccountSpec(
        key="huanwei_handler",
        username="huanwei-handler",
        name="贾文斌",
        role="handler",
        area_code=QINGYUAN,
        created_by="street_admin",
        department="huanwei",
    ),
    AccountSpec(
        key="xiaofang_handler",
        username="xiaofang-handler",
        name="武志强",
        role="handler",
        area_code=QINGYUAN,
        created_by="street_admin",
        department="xiaofang",
    ),
    AccountSpec(
        key="chengjian_handler",
        username="chengjian-handler",
        name="冯建国",
        role="handler",
        area_code=QINGYUAN,
        created_by="street_admin",
        department="chengjian",
    ),
    AccountSpec(
        key="zongzhi_handler",
        username="zongzhi-handler",
        name="霍丽萍",
        role="handler",
        area_code=QINGYUAN,
        created_by="street_admin",
        department="zongzhi",
    ),
    AccountSpec(
        key="wuye_handler",
        username="beiyuan-wuye",
        name="康晓燕",
        role="handler",
        area_code=QYBY,
        created_by="street_admin",
        department="wuye",
    ),
    AccountSpec(
        key="merchant",
        username="daoxiaomian-shop",
        name="老刘刀削面馆",
        role="merchant",
        area_code=QYXJ,
        created_by="street_admin",
        showcase=True,
    ),
    AccountSpec(
        key="volunteer",
        username="volunteer-chen",
        name="陈晓雪",
        role="volunteer",
        area_code=QYXJ,
        created_by="street_admin",
        showcase=True,
    ),
]

#: The account whose presence (with the district) says the demo is loaded.
MARKER_USERNAME = ACCOUNTS[0].username

#: The platform operator, who keeps the national working calendar (``core.services.holiday_set``
#: takes only a superuser). Created at the bootstrap like ``createsuperuser`` would, with no area
#: and no usable password: nobody logs in with it; it only signs the calendar's audit entries.
OPERATOR = AccountSpec(
    key="operator",
    username="yizhan-operator",
    name="平台运维",
    role="admin",
    area_code="",
    created_by=None,
)

#: Which staff account verifies riders and approves claims in each community.
COMMUNITY_STAFF = {
    QYXJ: "community_staff",
    QYBY: "beiyuan_staff",
    XIGUAN: "xiguan_staff",
    LIUHANGLI: "liuhangli_staff",
}


# --- riders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedRider:
    """A rider whose details are fixed, because the demo's account list shows them."""

    key: str
    name: str
    phone: str
    community: str
    grid: str
    spot: int
    number: int
    platform: str
    occupation: str
    vehicle: str
    status: str
    posts: tuple[str, ...] = ()
    pending_claims: tuple[str, ...] = ()


SHOWCASE_RIDER = FixedRider(
    "showcase_rider",
    "郭建峰",
    "13935210056",
    QYXJ,
    QYXJ + "001",
    spot=1,
    number=18,
    platform="meituan",
    occupation="food_delivery",
    vehicle="e_bike",
    status="verified",
    posts=("grid_worker",),
    pending_claims=("elderly_aid",),
)
SHOWCASE_PENDING = FixedRider(
    "showcase_pending",
    "闫晓东",
    "13935210099",
    QYXJ,
    QYXJ + "003",
    spot=0,
    number=42,
    platform="eleme",
    occupation="food_delivery",
    vehicle="e_motorbike",
    status="pending",
)


@dataclass(frozen=True)
class CommunityPlan:
    """How many riders a community has in each state, and its posts' capacities."""

    verified: int
    pending: int
    capacities: dict[str, int]
    #: Riders (besides a fixed one) who claim one more post, left pending for staff to approve.
    pending_claims: int = 0
    #: The grids its riders work in, drawn uniformly (a code twice is twice as likely).
    grids: tuple[str, ...] = field(default_factory=tuple)


#: 56 verified riders in 清远街道 (30 + 10 + 16: the seeds' "56 小哥 took governance posts") and 8
#: in 永泰街道's 柳航里社区, 64 in all. Each community offers all six posts; capacities
#: leave one free place per post, so every pending claim can be approved.
PLAN: dict[str, CommunityPlan] = {
    QYXJ: CommunityPlan(
        verified=30,
        pending=2,
        capacities={
            "grid_worker": 10,
            "civility": 7,
            "safety": 8,
            "mediator": 4,
            "elderly_aid": 7,
            "policy": 6,
        },
        pending_claims=3,
        grids=(QYXJ + "001", QYXJ + "002", QYXJ + "002", QYXJ + "003"),
    ),
    QYBY: CommunityPlan(
        verified=10,
        pending=1,
        capacities={
            "grid_worker": 4,
            "civility": 3,
            "safety": 3,
            "mediator": 2,
            "elderly_aid": 3,
            "policy": 2,
        },
        pending_claims=1,
        grids=(QYBY + "001",),
    ),
    XIGUAN: CommunityPlan(
        verified=16,
        pending=0,
        capacities={
            "grid_worker": 6,
            "civility": 4,
            "safety": 5,
            "mediator": 2,
            "elderly_aid": 3,
            "policy": 3,
        },
        grids=(XIGUAN + "001",),
    ),
    LIUHANGLI: CommunityPlan(
        verified=8,
        pending=1,
        capacities={
            "grid_worker": 3,
            "civility": 3,
            "safety": 3,
            "mediator": 2,
            "elderly_aid": 2,
            "policy": 2,
        },
        grids=(LIUHANGLI + "001",),
    ),
}

#: What each post asks of its holders (shown with the post).
POST_DUTIES = {
    "grid_worker": "跑单途中留意网格内的安全隐患和民情，随手拍上报",
    "civility": "劝导文明停车、文明出行，参与创城志愿服务",
    "safety": "巡查楼道堆物、飞线充电、消防通道堵塞等隐患",
    "mediator": "协助社区调解邻里、商户与骑手之间的小纠纷",
    "elderly_aid": "为独居老人代买代送，留意走失的老人和儿童（一老一小）",
    "policy": "向小哥和居民宣传社保、反诈、交通安全等政策",
}

#: How often a post is chosen as a rider's first post (流动网格员 is the most common).
POST_WEIGHTS = {
    "grid_worker": 4,
    "safety": 3,
    "civility": 3,
    "elderly_aid": 2,
    "policy": 2,
    "mediator": 1,
}
#: Share of verified riders who hold a second post.
SECOND_POST_SHARE = 0.2

#: The rider who registered with the wrong community: rejected, with the reason staff gave.
REJECTED = {
    "community": QYXJ,
    "grid": LIUHANGLI + "001",  # where they actually work
    "reason": "工作区域在永泰街道柳航里一带，不在本社区，请到柳航里社区报到。",
}


@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    area_code: str
    created_by: str
    description: str
    size: int
    #: A fixed leader (rider key), else the first member drawn.
    leader: str | None = None
    #: Riders who are always members (not leading), the others are drawn.
    includes: tuple[str, ...] = ()


TEAMS = [
    TeamSpec(
        "aixin",
        "爱心骑手队",
        QYXJ,
        created_by="community_staff",
        description="聚焦“一老一小”：帮走失的老人和儿童回家，为独居老人代买代送、上门探望。",
        size=12,
        leader=SHOWCASE_RIDER.key,
    ),
    TeamSpec(
        "qishi",
        "清远骑士志愿服务队",
        QINGYUAN,
        created_by="street_admin",
        description="由获评“清远骑士”的小哥组成，参与文明创建、平安建设和文旅服务。",
        size=15,
        # The showcase rider is one of the 清远骑士 (the points plan ranks them first).
        includes=(SHOWCASE_RIDER.key,),
    ),
]


# --- the lists random riders are drawn from --------------------------------------------------

#: Surnames common in northern Shanxi, with rough weights.
SURNAMES = {
    "王": 9, "李": 8, "张": 8, "刘": 7, "赵": 5, "杨": 4, "郭": 5, "高": 4, "武": 3, "贾": 3,
    "闫": 3, "梁": 3, "韩": 3, "任": 3, "薛": 2, "乔": 2, "白": 2, "田": 2, "孙": 3, "马": 3,
    "霍": 2, "牛": 2, "郝": 2, "冯": 2, "段": 2, "吕": 2, "侯": 2, "史": 2, "胡": 2, "康": 1,
    "申": 1, "耿": 1, "樊": 1, "秦": 1, "温": 1, "安": 1, "尹": 1, "常": 2, "宋": 2, "陈": 3,
}  # fmt: skip
GIVEN_FIRST = "志建文晓永国海振宏俊子天佳嘉雨泽浩明鑫春利保"
GIVEN_MALE = "伟强磊军勇杰涛斌超亮鹏飞峰刚辉波健龙浩宇凯旭东林平锋瑞新兵华成"
GIVEN_FEMALE = "丽娟敏静芳燕霞婷雪琳慧娜晶红艳玲洁欣"
#: Share of riders who are women (most riders are men).
FEMALE_SHARE = 0.08
#: Share of given names with one character (张伟) rather than two (张志伟).
SINGLE_GIVEN_SHARE = 0.4

#: Mobile prefixes (the first three digits); the remaining eight are drawn.
PHONE_PREFIXES = (
    "134 135 136 137 138 139 150 151 152 155 157 158 159 176 177 178 180 181 182 183 185 186 "
    "187 188 189 198 199"
).split()

_SCOOTERS = [("e_bike", 70), ("e_motorbike", 25), ("motorbike", 5)]
#: (platform, weight, [(occupation, weight)], [(vehicle, weight)])
PLATFORMS = [
    ("meituan", 34, [("food_delivery", 1)], _SCOOTERS),
    ("eleme", 24, [("food_delivery", 1)], _SCOOTERS),
    ("sf", 9, [("courier", 1)], [("tricycle", 50), ("e_bike", 40), ("van", 10)]),
    ("jd", 9, [("courier", 1)], [("tricycle", 55), ("e_bike", 35), ("van", 10)]),
    ("dada", 8, [("courier", 6), ("food_delivery", 4)], [("e_bike", 1)]),
    ("shansong", 4, [("courier", 1)], [("e_bike", 80), ("e_motorbike", 20)]),
    ("huolala", 5, [("freight", 1)], [("van", 1)]),
    ("didi", 7, [("ride_hailing", 1)], [("car", 1)]),
]  # fmt: skip
