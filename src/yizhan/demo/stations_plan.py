"""The demo's stations and caring corners, its "6+6" checklist, inspections and visits.

The numbers follow the newspaper (see the design notes): 清远街道 built 9 小哥驿站 to its "6+6"
standard, with the five functional zones 党建、学习、工作、休息、补给, and 137 爱心角 in shops;
107 of those are on the demonstration street 清远西街 (清远西街服务示范一条街), where every shop
offers riders some of nine services (临时休息、手机充电、打气 …). A station the newspaper of
another street describes served 500-odd people a year; the visits here are of that order.

The demonstration street runs east–west through 清远西街社区 from 清远门 (the west gate of the old
town) westwards, about 830 m; the shops stand on both sides, numbered from the gate: odd numbers
on the south side, even on the north. The other 30 corners stand along the streets of the other
communities of 清远街道. Names, services, hours and phones are drawn from the lists here with a
seeded ``random.Random``; every point is checked to lie inside its community (WGS-84).

Like ``points_plan.py`` this is pure Python. Visits and inspections are dated in days before the
load day; the loader turns them into moments within each place's opening hours
(:func:`visit_moment`) and writes them with the services' clock set to that moment.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache

from shapely.geometry import Point, shape

from yizhan.core.geo import haversine_m
from yizhan.demo import data
from yizhan.demo.generate import build_plan
from yizhan.stations import hours as hours_module

#: Seed of the corners and visits (drawn apart from the riders and the ledger).
STATIONS_SEED = data.SEED + 137

#: How far back visits reach (days before the load day): as long as the ledger history, but not
#: cut at 1 January (a visit is not ranked by year; cutting would squeeze January's visits).
VISIT_DAYS = 120

#: Points keep this far (degrees, about 7 m) inside their community's edges.
EDGE_MARGIN = 0.00008
#: Metres per degree of latitude (core.geo's sphere), and of longitude at the demo's latitude.
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180
M_PER_DEG_LNG = M_PER_DEG_LAT * math.cos(math.radians(40.09))
#: Shop fronts stand this far (metres) from the middle of their street …
SIDE_OFFSET_M = 18
#: … so a corner within this many metres of the demonstration street's middle line is on it.
STREET_WIDTH_M = 30

STREET_NAME = "清远西街"
#: The nine services of the demonstration street (临时休息、手机充电、打气、饮水 …), as
#: catalogue codes (stations migration 0003).
STREET_SERVICES = (
    "rest",
    "water",
    "phone_charging",
    "tyre_inflation",
    "meal_heating",
    "toilet",
    "wifi",
    "first_aid",
    "rain_gear",
)
#: How a corner's description names them.
SERVICE_WORDS = {
    "rest": "临时休息",
    "water": "饮水",
    "phone_charging": "手机充电",
    "tyre_inflation": "打气",
    "meal_heating": "热饭",
    "toilet": "如厕",
    "wifi": "无线网络",
    "first_aid": "急救药箱",
    "rain_gear": "借雨具",
}


# --- stations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StationSpec:
    """A station or caring corner as the loader registers it (``station_create``)."""

    key: str
    name: str
    kind: str
    community: str
    lng: float
    lat: float
    address: str
    created_by: str  # account key: the community's staff
    services: tuple[str, ...] = ()
    hours: str = ""  # text form (stations.hours.parse_text)
    zones: tuple[str, ...] = ()
    host_name: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""
    #: The hosting merchant's account key (``data.ACCOUNTS`` or :class:`MerchantSpec`).
    merchant: str | None = None
    #: On the demonstration street 清远西街.
    on_street: bool = False
    category: str = ""
    #: The street number, for corners (their address is ``<street> <number> 号``).
    number: int = 0


ALL_ZONES = ("party", "study", "work", "rest", "supply")
#: What every station built to the "6+6" standard offers, besides its own extras.
STANDARD_SERVICES = ("rest", "water", "phone_charging", "meal_heating", "first_aid", "books")


def _station(
    key: str,
    name: str,
    kind: str,
    community: str,
    lng: float,
    lat: float,
    address: str,
    *,
    extra: tuple[str, ...],
    hours: str,
    zones: tuple[str, ...],
    host: str,
    contact: str,
    phone: str,
    description: str,
) -> StationSpec:
    return StationSpec(
        key,
        name,
        kind,
        community,
        lng,
        lat,
        address,
        created_by=data.COMMUNITY_STAFF[community],
        services=tuple(dict.fromkeys(STANDARD_SERVICES + extra)),
        hours=hours,
        zones=zones,
        host_name=host,
        contact_name=contact,
        contact_phone=phone,
        description=description,
    )


#: The nine stations: three 小哥驿站, three 党群服务站, three 工会驿站, in three communities.
STATIONS: list[StationSpec] = [
    _station(
        "xijie",
        "清远西街小哥驿站",
        "rider_station",
        data.QYXJ,
        113.2826,
        40.0952,
        "清远西街社区党群服务站一层（党建、学习、工作、休息、补给五大功能区）",
        extra=(
            "ebike_charging",
            "tyre_inflation",
            "toilet",
            "wifi",
            "meeting_room",
            "rain_gear",
            "repairs",
            "cooling_warmth",
            "legal_aid",
        ),  # fmt: skip
        hours="24小时",
        zones=ALL_ZONES,
        host="清远西街社区党群服务站",
        contact="张慧敏",
        phone="0352-2056117",
        description=(
            "清远西街小哥驿站党支部所在地，24 小时开放：休息区有沙发、空调和微波炉，补给区有"
            "饮水机、充电柜和打气筒，学习区有图书和政策资料，工作区可开会、办社保。积分超市"
            "在这里兑换奖品。"
        ),
    ),
    _station(
        "qingyuanmen",
        "清远门工会驿站",
        "union_station",
        data.QYXJ,
        113.2866,
        40.0925,
        "清远门瓮城南侧，清远门广场西南角",
        extra=("ebike_charging", "toilet", "wifi", "cooling_warmth", "rain_gear"),
        hours="每天 07:00-21:00",
        zones=("rest", "supply"),
        host="清远街道总工会",
        contact="冯建华",
        phone="0352-2056231",
        description="户外劳动者和小哥歇脚的地方：夏天纳凉、冬天取暖，可热饭、充电、喝热水。",
    ),
    _station(
        "xikou",
        "清远西街西口工会驿站",
        "union_station",
        data.QYXJ,
        113.2770,
        40.0926,
        "清远西街西口南侧",
        extra=("tyre_inflation", "cooling_warmth", "rain_gear"),
        hours="每天 06:30-20:30",
        zones=("rest", "supply"),
        host="清远街道总工会",
        contact="贾文斌",
        phone="0352-2056238",
        description="清远西街示范街西头的工会驿站：打气、充电、热饭、喝水，雨天可借雨衣。",
    ),
    _station(
        "beiyuan",
        "清远北苑小哥驿站",
        "rider_station",
        data.QYBY,
        113.2835,
        40.0971,
        "清远北苑小区南门东侧",
        extra=("ebike_charging", "tyre_inflation", "wifi", "rain_gear", "repairs", "toilet"),
        hours="每天 07:00-23:00",
        zones=("work", "rest", "supply"),
        host="清远北苑社区党支部",
        contact="高秀英",
        phone="0352-2057012",
        description="北苑小区南门旁的小哥驿站：电动车换电柜、打气筒和维修工具，晚上 11 点关门。",
    ),
    _station(
        "beiyuan_party",
        "清远北苑社区党群服务站",
        "party_service",
        data.QYBY,
        113.2800,
        40.0977,
        "清远北苑小区 3 号楼底商",
        extra=("toilet", "wifi", "meeting_room", "legal_aid"),
        hours="周一至周五 08:30-12:00,14:30-18:00；周六 09:00-12:00",
        zones=("party", "study", "work", "rest"),
        host="清远北苑社区党支部",
        contact="高秀英",
        phone="0352-2057018",
        description="社区党群服务站，小哥可在这里办社区报到、政策咨询和法律咨询。",
    ),
    _station(
        "weidu",
        "魏都大道小哥驿站",
        "rider_station",
        data.QYBY,
        113.2866,
        40.0975,
        "魏都大道与北苑路口西北角",
        extra=("ebike_charging", "tyre_inflation", "wifi", "cooling_warmth"),
        hours="24小时",
        zones=("rest", "supply"),
        host="清远北苑社区党支部",
        contact="高秀英",
        phone="0352-2057026",
        description="刷码进门的自助驿站，24 小时开放：换电柜、充电、热饭、饮水、打气。",
    ),
    _station(
        "xiguan",
        "西关社区党群服务站",
        "party_service",
        data.XIGUAN,
        113.2805,
        40.0895,
        "西关南街社区服务中心",
        extra=("toilet", "wifi", "meeting_room", "legal_aid", "cooling_warmth"),
        hours="周一至周五 08:30-12:00,14:30-18:00；周六、周日 09:00-17:00",
        zones=("party", "study", "work", "rest"),
        host="西关社区党委",
        contact="梁海燕",
        phone="0352-2058105",
        description="西关社区党群服务站，设小哥之家：休息、热饭、充电、阅读，周末也开门。",
    ),
    _station(
        "center",
        "清远街道新就业群体党群服务中心",
        "party_service",
        data.XIGUAN,
        113.2858,
        40.0908,
        "清远街道办事处一层（西关南街东段）",
        extra=("toilet", "wifi", "meeting_room", "legal_aid", "meals", "cooling_warmth"),
        hours="周一至周五 08:00-12:00,14:30-18:30；周六、周日 09:00-17:00",
        zones=ALL_ZONES,
        host="清远街道党工委",
        contact="王丽娟",
        phone="0352-2058001",
        description=(
            "街道的党群服务中心：联席会议、技能培训和义诊在这里举办，误了饭点的小哥可吃爱心餐，"
            "社保代办和法律咨询每周二、四有专人。"
        ),
    ),
    _station(
        "shichang",
        "西关菜市场工会驿站",
        "union_station",
        data.XIGUAN,
        113.2838,
        40.0901,
        "西关菜市场北门西侧",
        extra=("toilet", "cooling_warmth"),
        hours="每天 06:00-19:00",
        zones=("rest", "supply"),
        host="清远街道总工会",
        contact="梁海燕",
        phone="0352-2058126",
        description="菜市场门口的工会驿站，早上 6 点开门：歇脚、热饭、充电、喝水。",
    ),
]

#: Where the points shop hands rewards out (``points_plan.SHOP_STATION`` is this key).
SHOP_STATION = "xijie"


# --- caring corners: where they stand --------------------------------------------------------


@dataclass(frozen=True)
class Road:
    """A street whose shops host caring corners, numbered from ``start`` towards ``end``.

    Odd numbers stand on the left of that direction, even on the right; ``sides`` 1 means the
    left side only. ``first`` and ``step`` give the numbers: 1 and 2 when every shop of the
    street takes part (the demonstration street), wider steps elsewhere.
    """

    name: str
    community: str
    start: tuple[float, float]  # (lng, lat)
    end: tuple[float, float]
    count: int
    sides: int = 2
    first: tuple[int, int] = (1, 2)  # the first number on the left and on the right
    step: tuple[int, int] = (2, 2)  # the smallest and largest step between neighbours
    label: str = ""  # how addresses name the street, when not its name

    @property
    def address_name(self) -> str:
        return self.label or self.name


#: Its middle line is the edge between 西街南网格 and 西街北网格 (south and north of the street).
DEMO_STREET = Road(STREET_NAME, data.QYXJ, (113.2862, 40.0937), (113.2764, 40.0937), 107)

OTHER_ROADS = [
    Road(
        "魏都大道西侧",
        data.QYXJ,
        (113.2853, 40.0946),
        (113.2853, 40.0958),
        4,
        sides=1,
        first=(211, 0),
        step=(2, 6),
        label="魏都大道",
    ),
    Road("西关北巷", data.QYXJ, (113.2838, 40.0921), (113.2822, 40.0921), 2, first=(5, 8)),
    Road(
        "北苑路", data.QYBY, (113.2870, 40.0967), (113.2772, 40.0967), 10, first=(3, 6),
        step=(4, 10),
    ),
    Road(
        "西关南街", data.XIGUAN, (113.2872, 40.0889), (113.2768, 40.0889), 10, first=(7, 4),
        step=(4, 10),
    ),
    Road(
        "西关菜市场东侧",
        data.XIGUAN,
        (113.2850, 40.0896),
        (113.2850, 40.0906),
        4,
        first=(1, 2),
        step=(2, 4),
    ),
]  # fmt: skip


@cache
def _inner(community: str):
    area = next(a for a in data.COMMUNITIES if a.code == community)
    return shape(area.boundary).buffer(-EDGE_MARGIN)


def inside(community: str, lng: float, lat: float) -> bool:
    """Whether the point lies inside the community, at least ``EDGE_MARGIN`` from its edge."""
    return bool(_inner(community).contains(Point(lng, lat)))


def _layout(road: Road, rng: random.Random) -> list[tuple[int, float, float]]:
    """(number, lng, lat) of each shop along the road, by number."""
    (x0, y0), (x1, y1) = road.start, road.end
    dx, dy = (x1 - x0) * M_PER_DEG_LNG, (y1 - y0) * M_PER_DEG_LAT
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    left = (-uy, ux)  # metres east, north
    per_side = [math.ceil(road.count / road.sides), road.count // road.sides]
    if road.sides == 1:
        per_side = [road.count, 0]
    slots = []
    for side, count in enumerate(per_side):
        sign = 1 if side == 0 else -1
        number = road.first[side]
        for i in range(count):
            share = (i + 0.5 + rng.uniform(-0.3, 0.3)) / count
            offset = SIDE_OFFSET_M + rng.uniform(-2, 2)
            east = share * dx + sign * left[0] * offset
            north = share * dy + sign * left[1] * offset
            lng = round(x0 + east / M_PER_DEG_LNG, 6)
            lat = round(y0 + north / M_PER_DEG_LAT, 6)
            if not inside(road.community, lng, lat):
                raise ValueError(f"{road.name} {number} 号 lies outside its community")
            slots.append((number, lng, lat))
            low, high = road.step
            number += 2 * rng.randint(low // 2, high // 2)
    return sorted(slots)


def distance_to_street_m(lng: float, lat: float, road: Road = DEMO_STREET) -> float:
    """Metres from a point to the middle line of a (straight) road."""
    (x0, y0), (x1, y1) = road.start, road.end
    px, py = (lng - x0) * M_PER_DEG_LNG, (lat - y0) * M_PER_DEG_LAT
    dx, dy = (x1 - x0) * M_PER_DEG_LNG, (y1 - y0) * M_PER_DEG_LAT
    t = max(0.0, min(1.0, (px * dx + py * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - t * dx, py - t * dy)


def street_points(step_m: float = 10) -> list[tuple[float, float]]:
    """(lat, lng) every ``step_m`` metres along the demonstration street: its middle and the
    pavements in front of the shops on both sides."""
    (x0, y0), (x1, y1) = DEMO_STREET.start, DEMO_STREET.end
    length = haversine_m(y0, x0, y1, x1)
    steps = max(1, int(length // step_m))
    points = []
    for i in range(steps + 1):
        share = i / steps
        lng, lat = x0 + share * (x1 - x0), y0 + share * (y1 - y0)
        for north_m in (-SIDE_OFFSET_M + 3, 0, SIDE_OFFSET_M - 3):
            points.append((round(lat + north_m / M_PER_DEG_LAT, 7), round(lng, 7)))
    return points


# --- caring corners: who they are ----------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A kind of shop: how its names are made, what it offers riders, its usual hours."""

    key: str
    weight: int
    names: tuple[str, ...]  # patterns: {owner} 老王, {place} 古城, {lucky} 鑫源
    always: tuple[str, ...]
    maybe: tuple[tuple[str, float], ...]
    hours: tuple[tuple[str, int], ...]  # (text form, weight)
    contact: tuple[str, ...] = ("老板",)


CATEGORIES = [
    Category(
        "restaurant",
        30,
        (
            "{owner}刀削面馆", "{place}刀削面", "{owner}莜面馆", "{place}莜面馆", "{owner}羊杂馆",
            "{place}羊杂", "{owner}烧麦馆", "{owner}拉面馆", "{owner}饺子馆", "{place}黄糕馆",
            "{owner}家常菜", "{place}凉粉",
        ),
        ("rest", "water", "meal_heating"),
        (("phone_charging", 0.8), ("wifi", 0.5), ("toilet", 0.3)),
        (("每天 09:00-21:00", 3), ("每天 10:00-14:00,16:30-21:00", 2), ("每天 09:30-21:30", 2)),
        ("老板", "女士", "师傅"),
    ),
    Category(
        "breakfast",
        7,
        ("{owner}包子铺", "{place}早点", "{owner}豆浆油条", "{owner}馄饨"),
        ("rest", "water", "meal_heating"),
        (("phone_charging", 0.5),),
        (("每天 06:00-14:00", 2), ("每天 06:30-13:30", 1)),
        ("老板", "女士"),
    ),
    Category(
        "convenience",
        10,
        ("{lucky}便利店", "{place}便利店"),
        ("rest", "water", "phone_charging"),
        (("rain_gear", 0.6), ("wifi", 0.3), ("first_aid", 0.2)),
        (("24小时", 1), ("每天 07:00-23:00", 2)),
        ("店长", "老板"),
    ),
    Category(
        "supermarket",
        4,
        ("{lucky}超市", "{place}超市"),
        ("rest", "water"),
        (("phone_charging", 0.7), ("rain_gear", 0.5), ("toilet", 0.3)),
        (("每天 07:30-22:00", 1),),
        ("店长", "老板"),
    ),
    Category(
        "pharmacy",
        6,
        ("{lucky}大药房", "{place}药店"),
        ("rest", "water", "first_aid"),
        (("phone_charging", 0.5),),
        (
            ("每天 08:00-21:00", 2),
            ("每天 08:00-22:00", 1),
            ("周一至周六 08:00-21:00；周日 09:00-18:00", 1),
        ),
        ("店长", "药师"),
    ),
    Category(
        "barber",
        5,
        ("{lucky}理发店", "{owner}理发", "{lucky}美发"),
        ("rest", "water", "phone_charging"),
        (("wifi", 0.6),),
        (("每天 09:00-21:00", 2), ("周一至周六 09:00-20:30；周日 休息", 1)),
        ("师傅", "老板"),
    ),
    Category(
        "repair",
        6,
        ("{owner}修车铺", "{owner}电动车维修", "{lucky}车行"),
        ("rest", "water", "tyre_inflation"),
        (("phone_charging", 0.4),),
        (("每天 08:00-19:00", 1), ("周一至周六 08:00-18:30；周日 休息", 1)),
        ("师傅",),
    ),
    Category(
        "fruit",
        7,
        ("{lucky}水果店", "{place}鲜果"),
        ("rest", "water"),
        (("phone_charging", 0.5), ("rain_gear", 0.3)),
        (("每天 07:30-21:30", 1),),
        ("老板", "女士"),
    ),
    Category(
        "milktea",
        7,
        ("{lucky}奶茶", "{place}茶饮"),
        ("rest", "water", "phone_charging"),
        (("wifi", 0.7), ("toilet", 0.2)),
        (("每天 10:00-22:00", 1),),
        ("店长",),
    ),
    Category(
        "phone",
        5,
        ("{lucky}手机维修", "{lucky}通讯"),
        ("rest", "phone_charging", "wifi"),
        (("water", 0.7),),
        (("每天 09:00-21:00", 2), ("周一至周六 09:00-20:00；周日 休息", 1)),
        ("师傅", "老板"),
    ),
    Category(
        "hardware",
        2,
        ("{lucky}五金店", "{owner}五金"),
        ("rest", "tyre_inflation"),
        (("water", 0.6),),
        (("周一至周六 08:00-18:00；周日 休息", 1),),
        ("老板",),
    ),
    Category(
        "laundry",
        3,
        ("{lucky}干洗店",),
        ("rest", "water"),
        (("rain_gear", 0.4),),
        (("每天 08:30-20:00", 1),),
        ("女士", "店长"),
    ),
    Category(
        "tea",
        4,
        ("{lucky}烟酒茶行", "{place}茶庄"),
        ("rest", "water"),
        (("phone_charging", 0.5),),
        (("每天 08:00-21:00", 1),),
        ("老板",),
    ),
    Category(
        "bakery",
        4,
        ("{lucky}烘焙", "{place}面包房"),
        ("rest", "water"),
        (("phone_charging", 0.5), ("wifi", 0.4)),
        (("每天 08:00-21:30", 1),),
        ("店长",),
    ),
]  # fmt: skip
CATEGORY = {c.key: c for c in CATEGORIES}

#: Places and lucky words shop names are made of (大同: 云冈石窟, 华严寺, 鼓楼, 御河, 文瀛湖).
PLACES = "清远 古城 云冈 华严 鼓楼 平城 西街 城西 塞北 晋北 御河 文瀛 浑源 雁北 北魏 西门".split()
LUCKY = (
    "鑫源 福满 和顺 兴隆 惠民 益民 家家乐 好运来 顺发 恒信 金鼎 聚福 万家 佳佳 乐购 康宁 同心 "
    "德顺 瑞丰 润泽 一品 百味 悦来 宏达 永盛 天天 鸿运 新世纪 利民 安康 喜洋洋 金太阳"
).split()
#: Local numbers of Datong (0352) start with these digits in the demo; the rest are drawn.
LANDLINE_PREFIXES = ("20", "21", "25", "27", "50", "52", "55", "60", "61", "79", "80", "82")

#: The showcase merchant's corner: 老刘刀削面馆 at the food-street end of 清远西街's west part.
MERCHANT_NUMBER = 94
MERCHANT_SERVICES = ("rest", "water", "meal_heating", "phone_charging", "wifi")
MERCHANT_HOURS = "每天 09:30-21:00"
#: Shops on the demonstration street that keep their corner up to date themselves: the first
#: shop of each of these kinds gets a merchant account (no password; the demo's merchant is the
#: showcase account).
MERCHANT_CATEGORIES = ("convenience", "repair", "pharmacy", "milktea", "barber", "fruit")


@dataclass(frozen=True)
class MerchantSpec:
    """A merchant account for a shop hosting a corner, created by the street admin."""

    key: str
    username: str
    name: str
    community: str
    created_by: str = "street_admin"


class _Names:
    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng, self.taken = rng, set(taken)
        self.surnames = list(data.SURNAMES)
        self.weights = list(data.SURNAMES.values())

    def surname(self) -> str:
        return self.rng.choices(self.surnames, weights=self.weights)[0]

    def __call__(self, category: Category) -> tuple[str, str]:
        """A new shop name of the category, and its owner's surname."""
        rng = self.rng
        for _attempt in range(1000):
            surname = self.surname()
            owner = rng.choice(["老" + surname, surname + "记", "小" + surname])
            name = rng.choice(category.names).format(
                owner=owner, place=rng.choice(PLACES), lucky=rng.choice(LUCKY)
            )
            if name not in self.taken:
                self.taken.add(name)
                return name, surname
        raise ValueError(f"no new {category.key} name")


class _Phones:
    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng, self.taken = rng, set(taken)

    def __call__(self) -> str:
        while True:
            phone = f"0352-{self.rng.choice(LANDLINE_PREFIXES)}{self.rng.randrange(10**5):05d}"
            if phone not in self.taken:
                self.taken.add(phone)
                return phone


def _weighted(rng: random.Random, pairs) -> str:
    return rng.choices([v for v, _w in pairs], weights=[w for _v, w in pairs])[0]


def describe(services: tuple[str, ...]) -> str:
    return f"爱心角：{'、'.join(SERVICE_WORDS[s] for s in services)}。小哥进店说一声就行。"


@dataclass(frozen=True)
class CornersPlan:
    corners: tuple[StationSpec, ...]
    merchants: tuple[MerchantSpec, ...]

    @property
    def on_street(self) -> tuple[StationSpec, ...]:
        return tuple(c for c in self.corners if c.on_street)


def _merchant_account() -> data.AccountSpec | None:
    return next((a for a in data.ACCOUNTS if a.key == "merchant"), None)


@cache
def build_corners() -> CornersPlan:
    """The 137 caring corners (107 on 清远西街) and the merchant accounts of a few; the same on
    every call."""
    rng = random.Random(STATIONS_SEED)
    showcase = _merchant_account()
    names = _Names(rng, {s.name for s in STATIONS} | ({showcase.name} if showcase else set()))
    phones = _Phones(rng, {s.contact_phone for s in STATIONS})
    corners: list[StationSpec] = []
    merchants: list[MerchantSpec] = []
    for road in [DEMO_STREET, *OTHER_ROADS]:
        on_street = road is DEMO_STREET
        for number, lng, lat in _layout(road, rng):
            address = f"{road.address_name} {number} 号"
            common = dict(
                kind="corner",
                community=road.community,
                lng=lng,
                lat=lat,
                created_by=data.COMMUNITY_STAFF[road.community],
                contact_phone=phones(),
                on_street=on_street,
                number=number,
            )
            if on_street and number == MERCHANT_NUMBER and showcase is not None:
                corners.append(
                    StationSpec(
                        key="laoliu",
                        name=f"{showcase.name}爱心角",
                        address=f"{address}（西段美食街口）",
                        services=MERCHANT_SERVICES,
                        hours=MERCHANT_HOURS,
                        host_name=showcase.name,
                        contact_name="刘师傅",
                        description=describe(MERCHANT_SERVICES),
                        merchant=showcase.key,
                        category="restaurant",
                        **common,
                    )
                )
                continue
            category = CATEGORY[_weighted(rng, [(c.key, c.weight) for c in CATEGORIES])]
            shop, surname = names(category)
            services = set(category.always)
            services |= {code for code, share in category.maybe if rng.random() < share}
            ordered = tuple(s for s in STREET_SERVICES if s in services)
            corners.append(
                StationSpec(
                    key=f"c{len(corners) + 1:03d}",
                    name=f"{shop}爱心角",
                    address=address,
                    services=ordered,
                    hours=_weighted(rng, category.hours),
                    host_name=shop,
                    contact_name=surname + rng.choice(category.contact),
                    description=describe(ordered),
                    category=category.key,
                    **common,
                )
            )
    # The first shop of each kind in MERCHANT_CATEGORIES keeps its corner up to date itself.
    for kind in MERCHANT_CATEGORIES:
        index, corner = next(
            (i, c)
            for i, c in enumerate(corners)
            if c.on_street and c.category == kind and c.merchant is None
        )
        merchant = MerchantSpec(
            key=f"merchant-{corner.number}",
            username=f"xijie-shop-{corner.number}",
            name=corner.host_name,
            community=corner.community,
        )
        merchants.append(merchant)
        corners[index] = replace(corner, merchant=merchant.key)
    return CornersPlan(corners=tuple(corners), merchants=tuple(merchants))


def all_places() -> list[StationSpec]:
    """The 9 stations, then the 137 corners, in the order the loader registers them."""
    return [*STATIONS, *build_corners().corners]


# --- the "6+6" standard and inspections ----------------------------------------------------------

STANDARD = "6+6"
#: 清远街道's standard: six facilities and six services (in this order on the checklist).
FACILITIES = (
    "有固定场所和统一标识",
    "有休息桌椅和空调、取暖设施",
    "有饮水设备",
    "有手机充电设施",
    "有急救药箱和常用药品",
    "有图书阅读角",
)
SERVICES = (
    "提供热饭服务",
    "提供政策咨询和社保代办",
    "提供法律咨询和维权服务",
    "提供技能培训和就业信息",
    "开展党建学习和志愿服务活动",
    "有专人管理和服务台账",
)
CHECKLIST = FACILITIES + SERVICES


@dataclass(frozen=True)
class InspectionPlan:
    """An inspection by the staff of the station's community, ``days_back`` before the load day;
    every item passes except ``failed`` (checklist index → note)."""

    station: str
    days_back: int
    note: str = ""
    failed: tuple[tuple[int, str], ...] = ()


INSPECTIONS = [
    InspectionPlan("xijie", 21, "五大功能区齐全，台账规范，作为全街道示范驿站。"),
    InspectionPlan("qingyuanmen", 24, "设施完好。"),
    InspectionPlan(
        "xikou",
        24,
        "急救药箱药品待补齐，已通知街道总工会。",
        failed=((4, "创可贴、碘伏已过期"),),
    ),
    InspectionPlan("beiyuan", 30, "换电柜运行正常。"),
    InspectionPlan(
        "beiyuan_party",
        30,
        "法律咨询需与街道司法所对接排班。",
        failed=((8, "本月尚未安排律师值班"),),
    ),
    InspectionPlan("weidu", 31, "自助驿站，门禁和监控正常。"),
    InspectionPlan("xiguan", 38, "设施完好，周末开放。"),
    InspectionPlan("center", 38, "各项服务齐全。"),
    InspectionPlan(
        "shichang",
        45,
        "饮水机滤芯已更换。",
        failed=((2, "饮水机滤芯到期未换，检查当天已更换"),),
    ),
]


# --- visits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitPlan:
    """A rider's check-in (``rider`` set) or walk-ins the host records (``recorded_by`` set),
    ``days_back`` before the load day at share ``u`` of that day's opening hours."""

    key: str  # idempotency key
    station: str  # StationSpec.key
    days_back: int
    u: float
    rider: str | None = None
    people: int = 1
    recorded_by: str | None = None  # account key (staff) or MerchantSpec key
    note: str = ""


@dataclass(frozen=True)
class ExceptionPlan:
    """A host closes its corner on a day after the load day (``days_ahead``)."""

    station: str
    days_ahead: int


@dataclass(frozen=True)
class SuspensionPlan:
    station: str
    note: str


@dataclass(frozen=True)
class ActivityPlan:
    visits: tuple[VisitPlan, ...]
    exceptions: tuple[ExceptionPlan, ...]
    suspensions: tuple[SuspensionPlan, ...] = field(default=())


#: Riders check in within this many metres of where they work (corners) …
CORNER_RADIUS_M = 300
#: … and how many times in the window (the showcase rider is a regular).
CHECK_INS = (2, 10)
SHOWCASE_CHECK_INS = 14
#: Share of a rider's check-ins at their nearest station (the rest at corners near work).
AT_STATION = 0.65
#: People a station's staff record as walk-ins at a time, and how many days apart.
STATION_WALK_INS = {"xijie": (6, 14)}
DEFAULT_WALK_INS = (2, 6)
WALK_IN_GAP_DAYS = (7, 13)
CORNER_WALK_IN_GAP_DAYS = (8, 16)
STATION_NOTES = (
    "午间 {n} 位小哥在驿站休息、热饭",
    "{n} 位小哥来驿站充电、喝水",
    "雨天 {n} 位小哥来驿站避雨",
    "晚高峰后 {n} 位小哥来歇脚",
    "{n} 位快递员在驿站休息、给电动车充电",
)
CORNER_VERBS = {
    "rest": "歇脚",
    "water": "喝水",
    "phone_charging": "充电",
    "meal_heating": "热饭",
    "tyre_inflation": "打气",
    "first_aid": "处理擦伤",
    "rain_gear": "借雨伞",
}


#: A corner off the demonstration street is closed for renovation: still registered, not found
#: by the nearby search (the fifth on 北苑路).
SUSPENDED_AT = ("北苑路", 4)
SUSPENDED_NOTE = "店面装修，暂停服务，预计下月恢复"


def suspension(corners: CornersPlan) -> SuspensionPlan:
    road, index = SUSPENDED_AT
    corner = [c for c in corners.corners if c.address.startswith(road + " ")][index]
    return SuspensionPlan(corner.key, SUSPENDED_NOTE)


def _nearest(places: list[StationSpec], lat: float, lng: float) -> list[tuple[float, str]]:
    return sorted((haversine_m(lat, lng, p.lat, p.lng), p.key) for p in places)


@cache
def build_activity() -> ActivityPlan:
    """Check-ins, walk-ins, a few closed days ahead and a corner closed for renovation."""
    rng = random.Random(STATIONS_SEED + 1)
    corners = build_corners()
    visits: list[VisitPlan] = []

    def key() -> str:
        return f"demo-visit-{len(visits) + 1:04d}"

    riders = [
        r
        for r in build_plan().riders
        if r.status == "verified" and r.community.startswith(data.QINGYUAN)
    ]
    suspended = suspension(corners)
    open_corners = [c for c in corners.corners if c.key != suspended.station]
    for rider in riders:
        showcase = rider.key == data.SHOWCASE_RIDER.key
        # The showcase rider drops in where the shop is (and where the 爱心骑手队 meets).
        home = SHOP_STATION if showcase else _nearest(STATIONS, rider.lat, rider.lng)[0][1]
        near = [k for d, k in _nearest(open_corners, rider.lat, rider.lng) if d <= CORNER_RADIUS_M]
        near = near[:5]
        count = SHOWCASE_CHECK_INS if showcase else rng.randint(*CHECK_INS)
        seen: set[tuple[str, int]] = set()
        for _i in range(count):
            place = home if (rng.random() < AT_STATION or not near) else rng.choice(near)
            days_back = rng.randint(1, VISIT_DAYS)
            if (place, days_back) in seen:
                continue  # once a day per place
            seen.add((place, days_back))
            visits.append(
                VisitPlan(key(), place, days_back, round(rng.random(), 6), rider=rider.key)
            )
    for station in STATIONS:
        people = STATION_WALK_INS.get(station.key, DEFAULT_WALK_INS)
        days_back = rng.randint(1, WALK_IN_GAP_DAYS[0])
        while days_back <= VISIT_DAYS:
            n = rng.randint(*people)
            visits.append(
                VisitPlan(
                    key(),
                    station.key,
                    days_back,
                    round(rng.random(), 6),
                    people=n,
                    recorded_by=station.created_by,
                    note=rng.choice(STATION_NOTES).format(n=n),
                )
            )
            days_back += rng.randint(*WALK_IN_GAP_DAYS)
    hosted = [c for c in corners.corners if c.merchant is not None]
    for corner in hosted:
        verbs = [CORNER_VERBS[s] for s in corner.services if s in CORNER_VERBS]
        days_back = rng.randint(1, CORNER_WALK_IN_GAP_DAYS[0])
        while days_back <= VISIT_DAYS:
            n = rng.choice((1, 1, 2, 2, 3))
            what = "、".join(rng.sample(verbs, min(2, len(verbs))))
            visits.append(
                VisitPlan(
                    key(),
                    corner.key,
                    days_back,
                    round(rng.random(), 6),
                    people=n,
                    recorded_by=corner.merchant,
                    note=f"{n} 位小哥进店{what}",
                )
            )
            days_back += rng.randint(*CORNER_WALK_IN_GAP_DAYS)
    exceptions = tuple(
        ExceptionPlan(corner.key, days_ahead)
        for corner, days_ahead in zip(
            [c for c in hosted if c.merchant != "merchant"][:2], (2, 5), strict=False
        )
    )
    return ActivityPlan(visits=tuple(visits), exceptions=exceptions, suspensions=(suspended,))


# --- when a visit happened -----------------------------------------------------------------------

#: Riders' working day: visits fall within it (and within the place's hours).
RIDER_DAY = (7 * 60, 22 * 60 + 30)


def open_minutes(hours: hours_module.Hours, day: date) -> list[tuple[int, int]]:
    """The minutes of ``day`` (from midnight) the place is open within the riders' day."""
    spans = []
    for start, end in hours.intervals_on(day):
        end = end if end > start else hours_module.DAY  # the part before midnight
        low, high = max(start, RIDER_DAY[0]), min(end, RIDER_DAY[1])
        if high - low >= 15:
            spans.append((low, high))
    return spans


def visit_moment(hours: hours_module.Hours, today: date, days_back: int, u: float) -> datetime:
    """The moment ``days_back`` days before ``today`` at share ``u`` (0 ≤ u < 1) of the place's
    open minutes that day (Asia/Shanghai); a day it is closed moves the visit a day earlier."""
    for back in range(days_back, days_back + 8):
        day = today - timedelta(days=back)
        spans = open_minutes(hours, day)
        if spans:
            break
    else:
        raise ValueError("the place is never open")
    left = int(u * sum(high - low for low, high in spans))
    for low, high in spans:
        if left < high - low:
            minute = low + left
            break
        left -= high - low
    else:  # u rounded up to 1
        minute = spans[-1][1] - 1
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=hours_module.TZ)
