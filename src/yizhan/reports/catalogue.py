"""The standard report categories a street starts from (``services.categories_seed``).

GB/T 30428 families (市容环境, 街面秩序, 宣传广告, 施工管理, 公用设施, 房屋安全, 突发事件) plus
what riders meet most often (飞线充电, 消防通道堵塞, 楼道堆物, 乱停乱放, 占道经营, 卫生不达标,
设施损坏) and the urgent 一老一小 alert. Deadlines follow the standard's local examples
(太原, 济源: 4 working hours to 3 working days; an emergency within hours, around the clock).
Each street changes them to its own rules afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from yizhan.reports.choices import DeadlineUnit, Family


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    name_en: str
    family: str
    deadline_amount: int
    deadline_unit: str
    points: int
    urgent: bool = False
    ack_minutes: int = 10
    description: str = ""


WH, WD, H = DeadlineUnit.WORKING_HOURS, DeadlineUnit.WORKING_DAYS, DeadlineUnit.HOURS

STANDARD: list[CategorySpec] = [
    CategorySpec(
        "elderly_child", "一老一小走失求助", "Lost elderly person or child", Family.CARE, 1, H, 10,
        urgent=True, ack_minutes=5,
        description="发现走失老人或儿童、需要紧急帮助的老人小孩，立即上报，值班人员马上响应",
    ),
    CategorySpec(
        "flying_wire", "飞线充电", "Charging by a wire from a window", Family.HOUSING_SAFETY, 1,
        WD, 5, description="电动车从楼上窗户拉线充电、楼道内充电",
    ),
    CategorySpec(
        "fire_exit_blocked", "消防通道堵塞", "Blocked fire exit", Family.HOUSING_SAFETY, 4, WH, 5,
        description="消防通道、安全出口被车辆或杂物堵塞",
    ),
    CategorySpec(
        "stairwell_clutter", "楼道堆物", "Clutter in a stairwell", Family.HOUSING_SAFETY, 2, WD,
        3, description="楼道、单元门口堆放杂物、自行车",
    ),
    CategorySpec(
        "dangerous_structure", "危墙危房", "Dangerous wall or building", Family.HOUSING_SAFETY, 4,
        WH, 5, description="墙体开裂、外立面脱落、高空坠物隐患",
    ),
    CategorySpec(
        "bad_parking", "乱停乱放", "Bad parking", Family.STREET_ORDER, 4, WH, 2,
        description="机动车、非机动车乱停乱放，占用盲道、人行道",
    ),
    CategorySpec(
        "street_vending", "占道经营", "Trading on the pavement", Family.STREET_ORDER, 1, WD, 2,
        description="店外经营、流动摊贩占道",
    ),
    CategorySpec(
        "poor_sanitation", "卫生不达标", "Poor sanitation", Family.CITY_APPEARANCE, 1, WD, 2,
        description="路面脏污、积水、垃圾桶满溢",
    ),
    CategorySpec(
        "exposed_garbage", "暴露垃圾", "Exposed rubbish", Family.CITY_APPEARANCE, 1, WD, 2,
        description="垃圾、渣土、建筑垃圾暴露堆放",
    ),
    CategorySpec(
        "broken_facility", "设施损坏", "Broken facility", Family.PUBLIC_FACILITIES, 3, WD, 3,
        description="井盖、路灯、护栏、座椅、健身器材损坏",
    ),
    CategorySpec(
        "illegal_posting", "乱张贴乱涂写", "Illegal posters and graffiti", Family.ADVERTISING, 2,
        WD, 1, description="小广告、乱张贴、乱涂写",
    ),
    CategorySpec(
        "construction_nuisance", "施工扬尘噪声", "Construction dust or noise", Family.CONSTRUCTION,
        1, WD, 2, description="工地扬尘、夜间施工噪声、渣土车遗撒",
    ),
    CategorySpec(
        "road_collapse", "路面塌陷管线破裂", "Road collapse or burst pipe", Family.EMERGENCY, 2, H,
        5, urgent=True, ack_minutes=10, description="路面塌陷、管线爆裂、积水内涝",
    ),
    CategorySpec("other", "其他", "Other", Family.OTHER, 3, WD, 1, description="其他问题"),
]  # fmt: skip
