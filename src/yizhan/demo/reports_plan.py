"""The demo's 随手拍 reports: categories and their departments, the working calendar's holidays,
and 100-odd reports by the riders of 清远街道 in every state of the workflow.

What the newspaper says (see the design notes): 清远西街社区's riders, as mobile grid workers,
filed more than a hundred reports of hazards they met on their rounds — clutter in stairwells,
e-bikes charged by a wire out of a window, blocked fire exits — and helped lost elderly people
home. Here each report is a story the loader plays through the services, with the clock set to
each step's moment: submitted (with a photo), accepted (立案) or rejected (with the reason),
merged into an earlier report of the same thing (its reporter becomes a witness), dispatched to a
department (派遣), handled with an "after" photo (处置), verified on site (核查, the points are
paid) and closed (结案); some are overdue and escalated, one was sent back (返工), one redirected
to another department, one reopened after it was closed, one is the same photo sent again (flagged
for staff), and one is an urgent 一老一小 alert — a lost elderly man a rider found at 清远门 —
acknowledged within minutes and handled.

**Points and the ranking.** A verified report pays its reporter the category's value and each
witness half of it (``points_earn`` by the street's rule for the category: ``categories_seed``
sets those rules from the catalogue). The ledger history (``points_plan``) is the ranking the
newspaper describes — the leader with 109 points, the 15 清远骑士 on top, admitted to the first
exchange — and its 随手拍 awards are the reports staff verified by hand before the platform
existed. So that this stays true, the reports verified through the platform (and their
witnesses) are those of riders outside the top 15, and none of those riders passes 39 points
(the 15th has 40): the ranking's top 15 and their scores are exactly the ledger's. The top 15
file reports too — the ones still in the workflow, rejected, or merged into reports still open
— so their points are yet to come (a community staff member who verifies the showcase rider's
handled report in the demo pays him the first of them).

Everything is pure Python and drawn with a seeded ``random.Random`` (like ``points_plan``).
Moments are either a share of the history window (``t``, ``hour``, ``minute``: the loader
places it with ``loader.moment``, as the ledger's awards) for reports that went through to
verification, or a number of minutes before the load (``ago``) for reports still open, whose
states depend on the load moment (a dispatched report is overdue when its deadline, counted in
working hours on the working calendar, has passed). Each report's later steps are minutes after
its submission. Photos are drawn with Pillow (:func:`photo_bytes`): small coloured scenes, a
different one for every report, with the report's label written on them.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cache

from shapely.geometry import Point, shape

from yizhan.demo import data
from yizhan.demo import points_plan as pp
from yizhan.demo.generate import EDGE_MARGIN, RiderSpec, build_plan
from yizhan.reports import catalogue

#: Seed of the reports (drawn apart from the riders, the ledger and the stations).
REPORTS_SEED = data.SEED + 311

#: No rider outside the top 15 may reach the 15th place's points through reports.
POINTS_LIMIT = pp.TOP_15[-1] - 1
#: What a witness gets of the category's value (``ReportSettings.witness_share_percent``'s
#: default, which the demo keeps).
WITNESS_SHARE = 50


# --- categories, departments, the working calendar ---------------------------------------------

#: The category's default department (a ``data.DEPARTMENTS`` key), set by the street admin after
#: ``categories_seed``. 清远北苑物业服务中心 works only in its community: staff send it cases by
#: hand (a redirect in the demo).
CATEGORY_DEPARTMENTS = {
    "elderly_child": "zongzhi",
    "flying_wire": "xiaofang",
    "fire_exit_blocked": "xiaofang",
    "stairwell_clutter": "xiaofang",
    "dangerous_structure": "chengjian",
    "bad_parking": "zhifadui",
    "street_vending": "zhifadui",
    "poor_sanitation": "huanwei",
    "exposed_garbage": "huanwei",
    "broken_facility": "chengjian",
    "illegal_posting": "zhifadui",
    "construction_nuisance": "chengguan",
    "road_collapse": "chengjian",
    "other": "zhifadui",
}
CATEGORIES = {spec.code: spec for spec in catalogue.STANDARD}
#: The handler account of each department.
HANDLERS = {a.department: a.key for a in data.ACCOUNTS if a.role == "handler"}


@dataclass(frozen=True)
class HolidaySpec:
    day: date
    name: str
    is_workday: bool = False


def _days(name: str, first: date, last: date, *, note: str = "") -> list[HolidaySpec]:
    return [
        HolidaySpec(date.fromordinal(n), name + note)
        for n in range(first.toordinal(), last.toordinal() + 1)
    ]


def _moved(name: str, *days: date) -> list[HolidaySpec]:
    return [HolidaySpec(day, f"{name}调休上班", is_workday=True) for day in days]


_STATUTORY_2027 = "（法定假日，调休安排待国务院公布）"

#: The national holidays of 2026 (国务院办公厅关于2026年部分节假日安排的通知, 4 November
#: 2025: days off, and the weekend days worked instead, 调休) and of 2027 as far as they are
#: known: the statutory days off (全国年节及纪念日放假办法, as amended in 2024: 元旦 1, 春节 4
#: from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3), on the dates of the 2027 lunar calendar.
#: The State Council publishes 2027's moved days in the autumn of 2026; an admin adds them in the
#: working calendar then.
HOLIDAYS: tuple[HolidaySpec, ...] = (
    *_days("元旦", date(2026, 1, 1), date(2026, 1, 3)),
    *_moved("元旦", date(2026, 1, 4)),
    *_days("春节", date(2026, 2, 15), date(2026, 2, 23)),
    *_moved("春节", date(2026, 2, 14), date(2026, 2, 28)),
    *_days("清明节", date(2026, 4, 4), date(2026, 4, 6)),
    *_days("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
    *_moved("劳动节", date(2026, 5, 9)),
    *_days("端午节", date(2026, 6, 19), date(2026, 6, 21)),
    *_days("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    *_days("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
    *_moved("国庆节", date(2026, 9, 20), date(2026, 10, 10)),
    *_days("元旦", date(2027, 1, 1), date(2027, 1, 1), note=_STATUTORY_2027),
    *_days("春节", date(2027, 2, 5), date(2027, 2, 8), note=_STATUTORY_2027),
    *_days("清明节", date(2027, 4, 5), date(2027, 4, 5), note=_STATUTORY_2027),
    *_days("劳动节", date(2027, 5, 1), date(2027, 5, 2), note=_STATUTORY_2027),
    *_days("端午节", date(2027, 6, 9), date(2027, 6, 9), note=_STATUTORY_2027),
    *_days("中秋节", date(2027, 9, 15), date(2027, 9, 15), note=_STATUTORY_2027),
    *_days("国庆节", date(2027, 10, 1), date(2027, 10, 3), note=_STATUTORY_2027),
)

#: Staff on duty (urgent alerts go to them first): the community staff of 清远西街社区 and the
#: grid worker of 清远门网格.
ON_DUTY = ("community_staff", "grid_worker")


# --- places ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compound:
    """A residential compound in a grid, where the indoor hazards are (building, unit, floor)."""

    name: str
    lng: float
    lat: float
    buildings: int
    units: int = 4
    floors: int = 6


COMPOUNDS = {
    data.QYXJ + "001": Compound("清远门家属院", 113.2860, 40.0950, 6, units=3),
    data.QYXJ + "002": Compound("西街南小区", 113.2810, 40.0925, 10),
    data.QYXJ + "003": Compound("清远西街北侧家属楼", 113.2815, 40.0948, 5, units=3, floors=5),
    data.QYBY + "001": Compound("清远北苑小区", 113.2805, 40.0974, 24, floors=7),
    data.XIGUAN + "001": Compound("西关南街小区", 113.2800, 40.0895, 12),
}

#: How likely a report falls in each of 清远街道's grids.
GRID_WEIGHTS = {
    data.QYXJ + "001": 3,
    data.QYXJ + "002": 4,
    data.QYXJ + "003": 2,
    data.QYBY + "001": 3,
    data.XIGUAN + "001": 2,
}
#: Reports point this far (degrees) around their compound or spot.
JITTER_LNG, JITTER_LAT = 0.0005, 0.0003
#: A duplicate stands this far (degrees, about 10 m) from the report it repeats.
DUPLICATE_JITTER = 0.00009


@cache
def _inner(grid_code: str):
    grid = next(g for g in data.GRIDS if g.code == grid_code)
    return shape(grid.boundary).buffer(-EDGE_MARGIN)


def inside(grid_code: str, lng: float, lat: float) -> bool:
    return _inner(grid_code).contains(Point(lng, lat))


def _near(rng: random.Random, grid: str, lng: float, lat: float, dx: float, dy: float):
    for _attempt in range(1000):
        x = round(lng + rng.uniform(-dx, dx), 6)
        y = round(lat + rng.uniform(-dy, dy), 6)
        if inside(grid, x, y):
            return y, x
    raise ValueError(f"no point found near {lng}, {lat} in grid {grid}")


# --- descriptions ------------------------------------------------------------------------------

#: Categories of hazards inside a building: the report gives building, unit and floor.
INDOOR = {"stairwell_clutter", "flying_wire"}
#: Categories at a building (building only).
AT_BUILDING = {"dangerous_structure", "fire_exit_blocked"}

#: What riders write, per category. ``{b}`` ``{u}`` ``{f}``: building, unit, floor.
DESCRIPTIONS = {
    "stairwell_clutter": [
        "{b}号楼{u}单元{f}层楼道杂物多，纸箱和旧家具堵了半边",
        "楼道堆放纸箱，{b}号楼{u}单元{f}层，有火灾隐患",
        "{b}号楼{u}单元自行车堵住出入口，老人进出不方便",
        "{b}号楼{u}单元一楼楼梯下堆满废品，味道很大",
        "{b}号楼{u}单元{f}层住户把鞋柜、花盆摆在楼道里，只能侧身过",
        "{b}号楼{u}单元{f}层楼道里堆着装修剩下的板材",
    ],
    "flying_wire": [
        "电动车飞线充电，{b}号楼{u}单元{f}层窗户垂下来一根电线",
        "{b}号楼{u}单元门口，有人从楼上拉插线板给电动车充电",
        "{b}号楼{u}单元{f}层楼道里推进去一辆电动车在充电",
        "{b}号楼楼下电动车飞线充电，线从{f}层拉下来，晚上还在充",
        "{b}号楼{u}单元电瓶拿到{f}层楼道里充电，插线板放在地上",
    ],
    "fire_exit_blocked": [
        "消防通道被私家车占用，{b}号楼前只剩一条窄缝",
        "{b}号楼东侧消防通道停满电动车，消防车进不来",
        "{b}号楼北边消防通道堆放建筑材料",
        "{b}号楼安全出口被锁住，门后还堆了杂物",
        "消防通道被私家车占用，已经停了好几天",
    ],
    "dangerous_structure": [
        "{b}号楼外墙瓷砖脱落，下面就是人行道",
        "{b}号楼阳台上的花盆摆在窗外，有高空坠物隐患",
        "{b}号楼旁边的围墙开裂倾斜，路过的人很多",
        "{b}号楼楼顶的广告架锈蚀松动，刮风时晃得厉害",
    ],
    "bad_parking": [
        "共享单车堆放在盲道上，挡住了路",
        "电动车乱停堵住人行道，行人只能走到机动车道上",
        "机动车占用非机动车道停车，骑手只能绕行",
        "路口转角停了好几辆车，遮挡视线，很危险",
        "商铺门前电动车乱停乱放，把店门都堵住了",
        "一辆私家车停在公交站台前，公交车进不了站",
    ],
    "street_vending": [
        "水果摊占道经营，摊位摆到了人行道中间",
        "早点摊占用人行道，桌椅摆了一大片",
        "商户店外摆放货架经营，行人通行困难",
        "流动摊贩在路口卖菜，早高峰把路口堵住了",
        "烧烤摊晚上占道经营，油烟很大",
    ],
    "poor_sanitation": [
        "路面油污严重，电动车经过容易滑倒",
        "垃圾桶满溢，周边散落垃圾，气味很大",
        "雨后路面积水一直没有排走，水深没过脚踝",
        "饭店门口泔水洒在路面上",
        "公厕很久没有打扫，地面湿滑",
    ],
    "exposed_garbage": [
        "路边堆放装修垃圾，已经好几天没人清运",
        "绿化带里扔了大量生活垃圾",
        "渣土堆在路边没有覆盖，一刮风就扬尘",
        "拆下来的旧沙发、床垫堆在垃圾站外面",
    ],
    "broken_facility": [
        "井盖松动，车辆经过哐哐响，晚上有人差点摔倒",
        "路灯不亮，晚上送餐看不清路",
        "人行道护栏断裂，有安全隐患",
        "小区健身器材损坏，螺丝都松脱了",
        "公交站座椅损坏，铁皮翘起来容易划伤人",
        "人行道地砖松动，下雨天一踩溅一身水",
    ],
    "illegal_posting": [
        "电线杆上贴满小广告",
        "单元门上被喷涂办证电话",
        "公交站牌被乱张贴，线路图都看不清了",
        "新刷的墙面上有人乱涂乱画",
    ],
    "construction_nuisance": [
        "工地夜间施工噪声大，居民反映晚上睡不着",
        "渣土车遗撒，路面全是泥土",
        "工地没有覆盖防尘网，刮风扬尘很大",
    ],
    "road_collapse": [
        "路面塌陷一个坑，约半米宽，已经有电动车掉进去",
        "自来水管破裂，路面一直往外冒水",
    ],
    "other": [
        "路口交通信号灯故障，一直闪黄灯",
        "小区门口道闸坏了，车辆进出排长队",
    ],
}

#: What the department writes when it reports the case handled.
HANDLED_NOTES = {
    "stairwell_clutter": "已联系物业和住户，楼道杂物已清理完毕，通道畅通",
    "flying_wire": "已拆除飞线，告知住户到小区充电桩充电，并张贴安全提示",
    "fire_exit_blocked": "已联系车主挪车、清理杂物，消防通道已畅通，增设禁停标识",
    "dangerous_structure": "已拉警戒线，松动部分已拆除，通知产权单位维修",
    "bad_parking": "已清理乱停车辆，现场恢复通行，对车主进行了劝导",
    "street_vending": "已劝导摊主入店经营，人行道已清理",
    "poor_sanitation": "已安排保洁员清扫冲洗，路面已恢复整洁",
    "exposed_garbage": "垃圾已全部清运，现场已清扫",
    "broken_facility": "已维修更换，设施恢复正常使用",
    "illegal_posting": "小广告已清除，墙面已清洗",
    "construction_nuisance": "已责令工地覆盖防尘网、夜间停止施工，渣土车已清洗路面",
    "road_collapse": "已设置围挡，塌陷处已回填，管线已抢修",
    "other": "已联系主管单位修复",
}
VERIFIED_NOTES = (
    "现场核实，已整改到位",
    "网格员现场查看，问题已解决",
    "回访上报人，确认已处理",
    "现场核实通过",
)
CLOSE_NOTES = ("结案", "已整改，结案", "核查通过，结案")
ACCEPT_NOTES = ("", "已立案，尽快派遣", "情况属实，立案")
#: Why staff turned reports down.
REJECT_REASONS = (
    "照片看不清问题所在，请靠近重新拍一张再上报",
    "现场核实：车辆已经驶离，问题已不存在",
    "该处属于铁路用地，不在本街道管辖范围，已告知上报人向铁路部门反映",
    "属于邻里之间的私人纠纷，建议通过社区调解员解决",
    "描述与照片不符，请补充具体位置后重新上报",
    "该处为经审批的临时施工，手续齐全，有围挡和公示",
)
SEND_BACK_NOTE = "现场核实：3层楼道仍有纸箱未清理，请继续处置"


# --- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing done to a report, ``after`` minutes after it was submitted.

    ``actor`` is an account key (``data.ACCOUNTS``) or ``rider:<key>``. Kinds: ``acknowledge``,
    ``accept``, ``reject``, ``dispatch`` and ``redirect`` (to ``department``), ``handle`` (with
    an after photo), ``verify`` (``passed`` or sent back), ``close``, ``reopen`` (with a photo),
    ``witness`` (a rider saw it too), ``duplicate`` (another rider files the same thing: ``dup``
    is its index in ``ReportPlan.duplicates``) and ``merge`` (staff merge that duplicate in).
    ``photo`` is the seed of the step's photo (0: none).
    """

    kind: str
    after: int
    actor: str
    note: str = ""
    department: str = ""
    passed: bool = True
    dup: int = -1
    photo: int = 0


@dataclass(frozen=True)
class Duplicate:
    """Another rider's report of the same thing, filed while the first was open."""

    key: str
    reporter: str
    lat: float
    lng: float
    description: str
    #: The seed of its photo: the first report's own when it is the same photo sent again.
    photo: int


@dataclass(frozen=True)
class ReportPlan:
    key: str  # the idempotency key
    reporter: str  # rider key
    category: str
    grid: str
    lat: float
    lng: float
    address: str
    building: str
    unit: str
    floor: str
    description: str
    photo: int  # seed of the report's photo
    outcome: str
    steps: tuple[Step, ...]
    duplicates: tuple[Duplicate, ...] = ()
    #: Submitted at share ``t`` of the history window, at ``hour:minute`` (``loader.moment``) …
    t: float | None = None
    hour: int = 0
    minute: int = 0
    #: … or this many minutes before the load.
    ago: int | None = None

    @property
    def community(self) -> str:
        return self.grid[:12]

    @property
    def status(self) -> str:
        """The report's status once its steps are done."""
        return STATUS[self.outcome]

    def payees(self) -> dict[str, int]:
        """Whom the first passing verification pays, and how much: the reporter the category's
        value, then each witness (added or merged in before it) a share."""
        verify = next((s for s in self.steps if s.kind == "verify" and s.passed), None)
        if verify is None:
            return {}
        points = CATEGORIES[self.category].points
        paid = {self.reporter: points}
        for step in self.steps:
            if step.after >= verify.after:
                break
            who = None
            if step.kind == "witness":
                who = step.actor.removeprefix("rider:")
            elif step.kind == "merge":
                who = self.duplicates[step.dup].reporter
            if who is not None and who not in paid:
                paid[who] = witness_points(self.category)
        return paid


def witness_points(category: str) -> int:
    return max(1, CATEGORIES[category].points * WITNESS_SHARE // 100)


@dataclass(frozen=True)
class ReportsPlan:
    reports: tuple[ReportPlan, ...]

    def points(self) -> Counter:
        """Points each rider earns through reports (as reporter and as witness)."""
        total: Counter = Counter()
        for report in self.reports:
            total.update(report.payees())
        return total

    def rows(self) -> int:
        """Report rows the plan writes: each report and each duplicate."""
        return sum(1 + len(r.duplicates) for r in self.reports)

    def statuses(self) -> Counter:
        """Report rows by their final status (duplicates merged, or left in triage)."""
        counts: Counter = Counter(r.status for r in self.reports)
        for report in self.reports:
            merged = {s.dup for s in report.steps if s.kind == "merge"}
            for number, _dup in enumerate(report.duplicates):
                counts["merged" if number in merged else "submitted"] += 1
        return counts

    def photos(self) -> int:
        """Photos the plan uploads: one a report, one a duplicate, and the steps' photos."""
        steps = sum(1 for r in self.reports for s in r.steps if s.photo)
        return self.rows() + steps


#: How many drawn reports end in each state (besides the fixed stories of ``_stories``).
OUTCOMES = {
    "closed": 44,  # verified and closed, points paid
    "verified": 5,  # verified, not closed yet, points paid
    "handled": 8,  # the department reported back; waiting for the on-site check
    "dispatched": 6,  # with a department, within the deadline
    "late": 9,  # with a department, past the deadline (escalated)
    "accepted": 6,  # 立案, not dispatched yet
    "submitted": 8,  # waiting for triage
    "rejected": 8,
}
#: How many reports of each outcome get a duplicate merged in, and a rider as a witness.
DUPLICATED = {"closed": 5, "verified": 1, "handled": 1, "late": 1, "accepted": 1}
WITNESSED = {"closed": 4, "dispatched": 1, "late": 1}
#: The final status of each outcome.
STATUS = {
    "closed": "closed",
    "verified": "verified",
    "handled": "handled",
    "dispatched": "dispatched",
    "late": "dispatched",
    "accepted": "accepted",
    "submitted": "submitted",
    "rejected": "rejected",
    "alert": "closed",
    "sent_back": "closed",
    "redirected": "closed",
    "reopened": "accepted",
}
#: Outcomes whose verification pays (submitted at a share of the history window, in this year).
PAID = {"closed", "verified", "alert", "sent_back", "redirected", "reopened"}
#: The categories riders meet most, by weight (the urgent 一老一小 is the one fixed alert).
CATEGORY_WEIGHTS = {
    "stairwell_clutter": 14,
    "flying_wire": 12,
    "fire_exit_blocked": 12,
    "bad_parking": 12,
    "street_vending": 9,
    "broken_facility": 9,
    "poor_sanitation": 8,
    "exposed_garbage": 7,
    "illegal_posting": 6,
    "construction_nuisance": 4,
    "dangerous_structure": 4,
    "road_collapse": 2,
    "other": 2,
}


def deadline_floor_minutes(category: str) -> int:
    """Real minutes the category's deadline takes at the least (a working hour takes at least
    an hour, a working day 7.5 of them): a case dispatched less long ago is never overdue."""
    spec = CATEGORIES[category]
    if spec.deadline_unit == "working_days":
        return spec.deadline_amount * 450
    return spec.deadline_amount * 60


#: Days before the load a late case was dispatched: past any deadline of the catalogue (3
#: working days) whatever the calendar (the longest run of days off, 春节 2026, is nine days).
LATE_DAYS = (18, 45)


class _Riders:
    """Who reports: riders of the report's community. Reports that pay go to riders outside
    the top 15 with room left under ``POINTS_LIMIT``; the others more often to the top 15 (the
    most active riders)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        riders = build_plan()
        points = pp.ranking()
        self.top = set(points.top15)
        self.by_key = {r.key: r for r in riders.riders}
        self.verified: dict[str, list[RiderSpec]] = {}
        for rider in riders.riders:
            if rider.status == "verified" and rider.community.startswith(data.QINGYUAN):
                self.verified.setdefault(rider.community, []).append(rider)
        self.room = {
            key: POINTS_LIMIT - points.totals.get(key, 0)
            for key in self.by_key
            if key not in self.top
        }

    def grid_of(self, key: str) -> str:
        return self.by_key[key].grid

    def pay(self, key: str, points: int) -> None:
        if key in self.top or self.room[key] < points:
            raise ValueError(f"{key} may not be paid {points} more points for reports")
        self.room[key] -= points

    def payee(self, grid: str, points: int, exclude: tuple[str, ...] = ()) -> str:
        options = [
            r
            for r in self.verified[grid[:12]]
            if r.key not in self.top and r.key not in exclude and self.room[r.key] >= points
        ]
        if not options:
            raise ValueError(f"nobody in {grid[:12]} can be paid {points} more points")
        weights = [3 if r.grid == grid else 1 for r in options]
        chosen = self.rng.choices(options, weights=weights)[0].key
        self.pay(chosen, points)
        return chosen

    def anyone(self, grid: str, exclude: tuple[str, ...] = ()) -> str:
        options = [r for r in self.verified[grid[:12]] if r.key not in exclude]
        weights = [(3 if r.key in self.top else 1) * (2 if r.grid == grid else 1) for r in options]
        return self.rng.choices(options, weights=weights)[0].key


def _staff(grid: str) -> str:
    return data.COMMUNITY_STAFF[grid[:12]]


_GRID_WORKER = next(a for a in data.ACCOUNTS if a.key == "grid_worker")


def _verifier(grid: str, payees: tuple[str, ...], riders: _Riders) -> str:
    """The grid worker checks on site in 清远门网格 when everyone to be paid is placed there (his
    scope: he could not pay anyone else); otherwise the community's staff."""
    if grid == _GRID_WORKER.area_code and all(riders.grid_of(k) == grid for k in payees):
        return _GRID_WORKER.key
    return _staff(grid)


def _numbers(place: dict) -> dict:
    """Building, unit and floor of a place as numbers (for a description template)."""

    def number(text: str) -> int:
        digits = "".join(ch for ch in text if ch.isdigit())
        return int(digits) if digits else 1

    return {"b": number(place["building"]), "u": number(place["unit"]), "f": number(place["floor"])}


def _place(rng: random.Random, category: str, grid: str) -> dict:
    """Where the report is and what the rider wrote: in a compound (building, unit, floor) for
    hazards inside or at a building, else near one of the grid's spots."""
    if category in INDOOR or category in AT_BUILDING:
        compound = COMPOUNDS[grid]
        template = rng.choice(DESCRIPTIONS[category])
        b = rng.randint(1, compound.buildings)
        u = rng.randint(1, compound.units)
        f = rng.randint(2, compound.floors) if "{f}" in template else 1
        lat, lng = _near(rng, grid, compound.lng, compound.lat, JITTER_LNG / 2, JITTER_LAT / 2)
        indoor = category in INDOOR
        return {
            "lat": lat,
            "lng": lng,
            "address": f"{compound.name}{b}号楼",
            "building": f"{b}号楼",
            "unit": f"{u}单元" if indoor else "",
            "floor": f"{f}层" if indoor else "",
            "description": template.format(b=b, u=u, f=f),
        }
    spot = rng.choice(data.SPOTS[grid])
    lat, lng = _near(rng, grid, spot.lng, spot.lat, JITTER_LNG, JITTER_LAT)
    return {
        "lat": lat,
        "lng": lng,
        "address": spot.address.format(n=rng.randint(1, spot.top)),
        "building": "",
        "unit": "",
        "floor": "",
        "description": rng.choice(DESCRIPTIONS[category]),
    }


def _replace(item, **changes):
    values = {name: getattr(item, name) for name in item.__dataclass_fields__}
    values.update(changes)
    return type(item)(**values)


class _Builder:
    """Draws the reports one by one, with one seeded random."""

    def __init__(self) -> None:
        self.rng = random.Random(REPORTS_SEED)
        self.riders = _Riders(self.rng)
        self.reports: list[ReportPlan] = []
        self.seeds = 0

    def photo(self) -> int:
        self.seeds += 1
        return self.seeds

    def chain(self, outcome: str, category: str, grid: str, ago: int | None) -> list[Step]:
        """The steps after submission that lead to ``outcome`` (staff of the report's community
        triage and verify; the category's department handles)."""
        rng = self.rng
        staff = _staff(grid)
        steps: list[Step] = []
        if CATEGORIES[category].urgent:  # the on-duty staff take an urgent report at once
            steps.append(Step("acknowledge", rng.randint(2, 4), staff))
        if outcome == "submitted":
            return steps
        if outcome in ("accepted", "rejected"):  # within the minutes since it was filed
            after = min(rng.randint(15, 600), ago - 10)
            if outcome == "accepted":
                return [*steps, Step("accept", after, staff, rng.choice(ACCEPT_NOTES))]
            return [*steps, Step("reject", after, staff, rng.choice(REJECT_REASONS))]
        department = CATEGORY_DEPARTMENTS[category]
        if outcome == "dispatched":
            # Dispatched recently enough that its deadline cannot have passed.
            limit = min(deadline_floor_minutes(category) - 5, 20 * 60, ago - 10)
            dispatched = ago - rng.randint(5, max(6, limit))
        else:
            dispatched = rng.randint(20, 270)
        if rng.random() < 0.5 and dispatched > 12:
            accepted = rng.randint(max(6, dispatched // 3), dispatched - 1)
            steps.append(Step("accept", accepted, staff, rng.choice(ACCEPT_NOTES)))
        steps.append(Step("dispatch", dispatched, staff, department=department))
        if outcome in ("dispatched", "late"):
            return steps
        # Most are handled within the deadline, some late (the periodic job escalates them).
        floor = deadline_floor_minutes(category)
        if rng.random() < 0.8:
            handled = dispatched + rng.randint(30, max(31, floor - 30))
        else:
            handled = dispatched + rng.randint(floor * 2, floor * 4)
        if outcome == "handled":  # and still waiting for the check
            handled = max(dispatched + 10, min(handled, ago - rng.randint(60, 24 * 60)))
        steps.append(
            Step(
                "handle",
                handled,
                HANDLERS[department],
                HANDLED_NOTES[category],
                photo=self.photo(),
            )
        )
        if outcome == "handled":
            return steps
        verified = handled + rng.randint(60, 26 * 60)
        steps.append(Step("verify", verified, staff, rng.choice(VERIFIED_NOTES)))
        if outcome == "verified":
            return steps
        closed = verified + rng.randint(10, 24 * 60)
        return [*steps, Step("close", closed, staff, rng.choice(CLOSE_NOTES))]

    def when(self, outcome: str, category: str) -> tuple[float | None, int | None]:
        """A share of the history window for reports that pay (their points fall in this
        year), else minutes before the load."""
        rng = self.rng
        if outcome in PAID:
            return round(rng.uniform(0.0, 0.86 if outcome == "closed" else 0.95), 6), None
        if outcome == "late":
            return None, rng.randint(*LATE_DAYS) * 1440 + rng.randint(-600, 600)
        if outcome == "handled":
            return None, rng.randint(2 * 1440, 9 * 1440)
        if outcome == "submitted":
            return None, rng.randint(20, 3 * 1440)
        if outcome == "dispatched":
            return None, rng.randint(60, 3 * 1440)
        return None, rng.randint(3 * 60, 30 * 1440)  # accepted, rejected

    def add(
        self,
        outcome: str,
        category: str,
        grid: str,
        *,
        reporter: str | None = None,
        place: dict | None = None,
        steps: list[Step] | None = None,
        t: float | None = None,
        hour: int | None = None,
        ago: int | None = None,
    ) -> int:
        rng = self.rng
        points = CATEGORIES[category].points
        if reporter is None:
            pays = outcome in PAID
            reporter = self.riders.payee(grid, points) if pays else self.riders.anyone(grid)
        elif outcome in PAID:
            self.riders.pay(reporter, points)
        place = place or _place(rng, category, grid)
        if t is None and ago is None:
            t, ago = self.when(outcome, category)
        chain = steps if steps is not None else self.chain(outcome, category, grid, ago)
        staff = _staff(grid)
        self.reports.append(
            ReportPlan(
                key=f"demo-report-{len(self.reports) + 1:04d}",
                reporter=reporter,
                category=category,
                grid=grid,
                photo=self.photo(),
                outcome=outcome,
                steps=tuple(s if s.actor else _replace(s, actor=staff) for s in chain),
                t=t,
                hour=(hour if hour is not None else rng.randint(7, 20)) if t is not None else 0,
                minute=rng.randrange(60) if t is not None else 0,
                ago=ago,
                **place,
            )
        )
        return len(self.reports) - 1

    def open_until(self, plan: ReportPlan) -> int:
        """Minutes after submission while the report is open to witnesses and merges."""
        for step in plan.steps:
            if step.kind in ("verify", "reject"):
                return step.after
        if plan.ago is not None:
            return plan.ago - 5
        return (plan.steps[-1].after if plan.steps else 0) + 120

    def people(self, plan: ReportPlan) -> tuple[str, ...]:
        """The reporter, the duplicates' reporters and the witnesses."""
        people = [plan.reporter, *(d.reporter for d in plan.duplicates)]
        people += [s.actor.removeprefix("rider:") for s in plan.steps if s.kind == "witness"]
        return tuple(people)

    def duplicate(self, index: int, *, same_photo: bool = False, by: str = "") -> None:
        """Another rider files the report's problem again, about 10 m away, while it is open;
        staff merge it in (unless it is the same photo sent again: it waits in triage with its
        flag)."""
        rng = self.rng
        plan = self.reports[index]
        share = witness_points(plan.category)
        exclude = self.people(plan)
        if by:
            reporter = by
        elif plan.payees():
            reporter = self.riders.payee(plan.grid, share, exclude=exclude)
        else:
            reporter = self.riders.anyone(plan.grid, exclude=exclude)
        lat, lng = _near(rng, plan.grid, plan.lng, plan.lat, DUPLICATE_JITTER, DUPLICATE_JITTER)
        template = rng.choice(DESCRIPTIONS[plan.category])
        number = len(plan.duplicates)
        dup = Duplicate(
            key=f"{plan.key}-dup{number + 1}",
            reporter=reporter,
            lat=lat,
            lng=lng,
            description=plan.description
            if same_photo
            else template.format(**_numbers(plan.__dict__)),
            photo=plan.photo if same_photo else self.photo(),
        )
        open_until = self.open_until(plan)
        filed = max(5, int(open_until * rng.uniform(0.1, 0.4)))
        steps = [*plan.steps, Step("duplicate", filed, f"rider:{reporter}", dup=number)]
        if not same_photo:
            merged = filed + max(2, int((open_until - filed) * rng.uniform(0.2, 0.6)))
            steps.append(Step("merge", merged, _staff(plan.grid), dup=number))
        steps.sort(key=lambda s: s.after)
        self.reports[index] = _replace(plan, steps=tuple(steps), duplicates=(*plan.duplicates, dup))

    def witness(self, index: int) -> None:
        """A rider passing by adds themselves to the report ("I saw it too")."""
        plan = self.reports[index]
        share = witness_points(plan.category)
        exclude = self.people(plan)
        if plan.payees():
            who = self.riders.payee(plan.grid, share, exclude=exclude)
        else:
            who = self.riders.anyone(plan.grid, exclude=exclude)
        at = max(3, int(self.open_until(plan) * self.rng.uniform(0.05, 0.7)))
        steps = sorted([*plan.steps, Step("witness", at, f"rider:{who}")], key=lambda s: s.after)
        self.reports[index] = _replace(plan, steps=tuple(steps))

    def set_verifiers(self) -> None:
        """Who checks on site (grid worker or community staff) depends on who is paid."""
        for index, plan in enumerate(self.reports):
            payees = tuple(plan.payees())
            if payees:
                verifier = _verifier(plan.grid, payees, self.riders)
                steps = tuple(
                    _replace(s, actor=verifier) if s.kind == "verify" else s for s in plan.steps
                )
                self.reports[index] = _replace(plan, steps=steps)


def _stories(b: _Builder) -> None:
    """The fixed reports the demo's accounts point at."""
    riders = b.riders
    gate = data.QYXJ + "001"
    spots = data.SPOTS[gate]
    xiaofang = HANDLERS["xiaofang"]

    def at_spot(n: int, description: str, number: int = 1, dlat: float = 0.0) -> dict:
        spot = spots[n]
        return {
            "lat": round(spot.lat + dlat, 6),
            "lng": spot.lng,
            "address": spot.address.format(n=number),
            "building": "",
            "unit": "",
            "floor": "",
            "description": description,
        }

    # 一老一小: a rider of the 爱心骑手队 finds a lost elderly man at 清远门 one cold evening.
    aixin = next(t for t in build_plan().teams if t.spec.key == "aixin").members
    finder = next(
        k for k in aixin if k not in riders.top and riders.by_key[k].community == data.QYXJ
    )
    staff = "community_staff"
    b.add(
        "alert",
        "elderly_child",
        gate,
        reporter=finder,
        place=at_spot(
            0,
            "清远门广场有一位七十多岁的老大爷，穿灰色棉袄，说不清家住哪里。天冷了，我先陪他"
            "在驿站里等着",
        ),
        steps=[
            Step("acknowledge", 3, staff),
            Step("dispatch", 6, staff, "请综治中心联系派出所，帮老人查找家属", "zongzhi"),
            Step(
                "handle",
                75,
                HANDLERS["zongzhi"],
                "经清远派出所协助联系到家属，老人家住清远北苑，已由儿子接回家",
                photo=b.photo(),
            ),
            Step("verify", 150, staff, "电话回访家属，老人已安全到家"),
            Step("close", 20 * 60, staff, "一老一小求助处置完毕，结案"),
        ],
        t=0.74,
        hour=18,
    )

    # 返工: a stairwell in 清远北苑 cleared only half; sent back, then done properly.
    beiyuan = data.QYBY + "001"
    b.add(
        "sent_back",
        "stairwell_clutter",
        beiyuan,
        steps=[
            Step("accept", 40, ""),
            Step("dispatch", 55, "", department="xiaofang"),
            Step("handle", 26 * 60, xiaofang, HANDLED_NOTES["stairwell_clutter"], photo=b.photo()),
            Step("verify", 30 * 60, "", SEND_BACK_NOTE, passed=False, photo=b.photo()),
            Step("handle", 48 * 60, xiaofang, "已全部清理，并请物业每周巡查", photo=b.photo()),
            Step("verify", 52 * 60, "", "复查通过，楼道已清理干净"),
            Step("close", 53 * 60, "", "返工后整改到位，结案"),
        ],
        t=0.41,
        hour=10,
    )

    # Redirected: charging by a wire in 清远北苑 is for the property manager to stop.
    b.add(
        "redirected",
        "flying_wire",
        beiyuan,
        steps=[
            Step("dispatch", 30, "", department="xiaofang"),
            Step(
                "redirect",
                3 * 60,
                "",
                "小区内飞线充电由物业劝导拆除，转清远北苑物业服务中心处置",
                department="wuye",
            ),
            Step(
                "handle", 22 * 60, HANDLERS["wuye"], HANDLED_NOTES["flying_wire"], photo=b.photo()
            ),
            Step("verify", 27 * 60, "", VERIFIED_NOTES[0]),
            Step("close", 28 * 60, "", CLOSE_NOTES[1]),
        ],
        t=0.55,
        hour=20,
    )

    # Reopened: closed, and four days later the boxes were back (the reporter shows them).
    index = b.add(
        "reopened",
        "stairwell_clutter",
        data.QYXJ + "002",
        steps=[
            Step("dispatch", 45, "", department="xiaofang"),
            Step("handle", 20 * 60, xiaofang, HANDLED_NOTES["stairwell_clutter"], photo=b.photo()),
            Step("verify", 25 * 60, "", VERIFIED_NOTES[1]),
            Step("close", 26 * 60, "", CLOSE_NOTES[0]),
        ],
        t=0.9,
        hour=9,
    )
    plan = b.reports[index]
    reopen = Step(
        "reopen",
        4 * 1440,
        f"rider:{plan.reporter}",
        "结案没几天，楼道里又堆满了纸箱，问题反复出现",
        photo=b.photo(),
    )
    b.reports[index] = _replace(plan, steps=(*plan.steps, reopen))

    # The showcase rider's own: one just filed, one overdue with the 执法队, one handled and
    # waiting for the check, one turned down.
    you = data.SHOWCASE_RIDER.key
    b.add(
        "submitted",
        "fire_exit_blocked",
        gate,
        reporter=you,
        place=at_spot(3, "清远门瓮城南侧停车场的消防通道被两辆私家车占用，已经停了一上午"),
        steps=[],
        ago=150,
    )
    b.add(
        "late",
        "bad_parking",
        gate,
        reporter=you,
        place=at_spot(1, "清远西街东段共享单车堆放在盲道上，占了半条人行道", 27, dlat=0.0002),
        steps=[
            Step("accept", 35, staff),
            Step("dispatch", 50, staff, department="zhifadui"),
        ],
        ago=21 * 1440 + 300,
    )
    compound = COMPOUNDS[gate]
    b.add(
        "handled",
        "stairwell_clutter",
        gate,
        reporter=you,
        place={
            "lat": compound.lat,
            "lng": compound.lng,
            "address": f"{compound.name}2号楼",
            "building": "2号楼",
            "unit": "1单元",
            "floor": "4层",
            "description": "2号楼1单元4层楼道杂物多，旧沙发和纸箱把楼梯堵了一半",
        },
        steps=[
            Step("accept", 25, staff),
            Step("dispatch", 40, staff, department="xiaofang"),
            Step("handle", 22 * 60, xiaofang, HANDLED_NOTES["stairwell_clutter"], photo=b.photo()),
        ],
        ago=3 * 1440 + 200,
    )
    b.add(
        "rejected",
        "other",
        gate,
        reporter=you,
        place=at_spot(2, "魏都大道路口交通信号灯故障，一直闪黄灯", 8),
        steps=[
            Step(
                "reject",
                50,
                staff,
                "交通信号灯由平城区交警大队管理，已电话转告交警大队，请留意路口安全",
            )
        ],
        ago=9 * 1440 + 400,
    )


@cache
def build_reports_plan() -> ReportsPlan:
    """Every report of the demo, the same on every call."""
    b = _Builder()
    _stories(b)
    stories = len(b.reports)
    rng = b.rng
    outcomes = [outcome for outcome, n in OUTCOMES.items() for _ in range(n)]
    rng.shuffle(outcomes)
    codes = list(CATEGORY_WEIGHTS)  # every category at least once
    categories = codes + rng.choices(
        codes, weights=list(CATEGORY_WEIGHTS.values()), k=len(outcomes) - len(codes)
    )
    rng.shuffle(categories)
    grids = list(GRID_WEIGHTS)
    for outcome, category in zip(outcomes, categories, strict=True):
        b.add(outcome, category, rng.choices(grids, weights=list(GRID_WEIGHTS.values()))[0])

    def drawn(*outcomes: str, community: str = "") -> list[int]:
        return [
            i
            for i, r in enumerate(b.reports)
            if i >= stories and r.outcome in outcomes and r.community.startswith(community)
        ]

    for outcome, count in DUPLICATED.items():
        for index in rng.sample(drawn(outcome), count):
            b.duplicate(index)
    for outcome, count in WITNESSED.items():
        for index in rng.sample(drawn(outcome), count):
            b.witness(index)
    # The showcase rider saw what someone had already reported: merged in, he is a witness.
    showcase = data.SHOWCASE_RIDER.key
    seen = next(
        i
        for i in drawn("late", "accepted", community=data.QYXJ)
        if b.reports[i].reporter != showcase
    )
    b.duplicate(seen, by=showcase)
    # The same photo again: a rider sends a copy of an open report's photo.
    copied = next(i for i in drawn("handled", "accepted") if i != seen)
    b.duplicate(copied, same_photo=True)
    b.set_verifiers()
    return ReportsPlan(reports=tuple(b.reports))


# --- photos ------------------------------------------------------------------------------------

#: The size of the drawn photos: small, so the load stays quick (the services keep them as they
#: are: the display size is larger).
PHOTO_SIZE = (640, 480)
#: Wall, ground and object colours for each category's scenes.
PALETTES = {
    "stairwell_clutter": ((214, 206, 190), (120, 110, 100), (150, 110, 70)),
    "flying_wire": ((200, 200, 205), (90, 95, 100), (30, 30, 30)),
    "fire_exit_blocked": ((190, 60, 50), (110, 110, 110), (40, 70, 140)),
    "dangerous_structure": ((180, 170, 160), (100, 100, 95), (140, 130, 120)),
    "bad_parking": ((150, 190, 220), (95, 95, 100), (230, 200, 40)),
    "street_vending": ((170, 200, 230), (120, 115, 110), (220, 90, 60)),
    "poor_sanitation": ((160, 190, 210), (80, 85, 80), (60, 120, 60)),
    "exposed_garbage": ((165, 195, 215), (115, 100, 85), (90, 80, 70)),
    "broken_facility": ((140, 170, 200), (85, 85, 90), (200, 200, 200)),
    "illegal_posting": ((210, 200, 180), (130, 125, 120), (240, 240, 240)),
    "construction_nuisance": ((200, 190, 160), (150, 130, 100), (240, 160, 30)),
    "road_collapse": ((150, 180, 200), (70, 70, 75), (30, 25, 20)),
    "other": ((160, 185, 210), (100, 100, 100), (230, 60, 60)),
    "elderly_child": ((120, 140, 170), (90, 90, 95), (110, 110, 120)),
}


def photo_bytes(seed: int, category: str, label: str, *, after: bool = False) -> bytes:
    """A small JPEG: a scene in the category's colours — a wall with windows, the ground, and
    objects placed by ``seed`` (fewer and tidier after handling) — with ``label`` written on it.
    Different seeds give pictures whose perceptual hashes differ widely (the intake flags the
    same photo sent twice, so every report needs its own)."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(REPORTS_SEED * 1000 + seed)
    width, height = PHOTO_SIZE
    wall, ground, thing = PALETTES[category]

    def shade(colour: tuple[int, int, int], spread: int = 40) -> tuple[int, int, int]:
        return tuple(max(0, min(255, c + rng.randint(-spread, spread))) for c in colour)

    image = Image.new("RGB", PHOTO_SIZE, shade(wall))
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(height // 2, height * 3 // 4)
    # The wall: bands of light and shade, and rows of windows at random places.
    for _band in range(rng.randint(3, 6)):
        x0 = rng.randint(0, width - 40)
        draw.rectangle((x0, 0, x0 + rng.randint(30, 220), horizon), fill=shade(wall, 70))
    for _window in range(rng.randint(4, 12)):
        x, y = rng.randint(0, width - 60), rng.randint(10, max(11, horizon - 70))
        w, h = rng.randint(30, 80), rng.randint(30, 60)
        draw.rectangle((x, y, x + w, y + h), fill=shade((60, 70, 90), 30), outline=(230, 230, 230))
    draw.rectangle((0, horizon, width, height), fill=shade(ground))
    # The objects of the report (boxes, bikes, stalls …), or what is left after handling.
    for _thing in range(rng.randint(1, 3) if after else rng.randint(5, 12)):
        x, y = rng.randint(0, width - 40), rng.randint(horizon - 120, height - 40)
        w, h = rng.randint(30, 160), rng.randint(20, 120)
        if rng.random() < 0.4:
            draw.ellipse((x, y, x + w, y + w // 2 + 10), fill=shade(thing), outline=(20, 20, 20))
        else:
            draw.rectangle((x, y, x + w, y + h), fill=shade(thing), outline=(20, 20, 20))
    if category == "flying_wire" and not after:
        x = rng.randint(40, width - 40)
        draw.line(
            (x, rng.randint(20, 120), rng.randint(0, width), height - 30), fill=(0, 0, 0), width=3
        )
    if after:
        draw.ellipse((width - 90, 20, width - 20, 90), outline=(40, 160, 60), width=6)
    font = ImageFont.load_default(size=22)
    draw.rectangle((0, height - 34, width, height), fill=(20, 20, 20))
    draw.text((10, height - 30), label, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def department_of(plan: ReportPlan) -> str:
    """The department the report is with once its steps are done ('' if none)."""
    department = ""
    for step in plan.steps:
        if step.kind in ("dispatch", "redirect"):
            department = step.department
    return department


def cases_waiting(department: str) -> int:
    """Cases with ``department`` at the end of the history, waiting to be handled."""
    return sum(
        1
        for plan in build_reports_plan().reports
        if plan.status == "dispatched" and department_of(plan) == department
    )


def report_photo(plan: ReportPlan, dup: Duplicate | None = None) -> bytes:
    """The photo a report (or one of its duplicates) is filed with, labelled with the report's
    number; a duplicate that is the same photo again gets the very same bytes."""
    number = plan.key.removeprefix("demo-report-")
    label = f"#{number}  {plan.category}"
    if dup is not None and dup.photo != plan.photo:
        label = f"#{number} ({dup.key.rsplit('-', 1)[-1]})  {plan.category}"
    return photo_bytes(dup.photo if dup else plan.photo, plan.category, label)


def step_photo(plan: ReportPlan, step: Step) -> bytes:
    """The photo of a step: after handling, of the on-site check, or the evidence to reopen."""
    label = f"#{plan.key.removeprefix('demo-report-')}  {step.kind}"
    return photo_bytes(step.photo, plan.category, label, after=step.kind != "reopen")
