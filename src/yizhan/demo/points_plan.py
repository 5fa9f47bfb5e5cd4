"""The demo's points rules, ledger history and points shop (积分超市).

The story follows the newspaper (see the design notes): 清远街道 held its first points exchange
(首次积分兑换) at 清远西街社区小哥驿站 for the top 15 riders of its ranking; the leader had 109
points and took 洗衣液 and 湿巾; the prizes included 蓝牙耳机, 充电宝 and 旅行水壶. Here the
leader is the showcase rider 郭建峰, and the top 15 are the 15 "清远骑士" of the street's team.

A rider's total is what they earned this year from every source: the care history
(``care_plan``: events attended, duties verified) pays part of it through the services, and
staff's manual awards make up the rest, so the ranking stays as the newspaper tells.

Like ``generate.py`` this is pure Python: :func:`build_points_plan` draws who earned what, for
which act and when (as a share of the history window, mapped to dates by the loader relative to
the load day), with its own seeded ``random.Random``, so every load writes the same ledger.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from yizhan.demo import data, stations_plan
from yizhan.demo.generate import build_plan

#: Seed of the points plan (drawn apart from the riders, so the riders stay as they were).
POINTS_SEED = data.SEED + 109

#: How far back the ledger history reaches (days before the load day, within its year).
HISTORY_DAYS = 120


# --- stations ----------------------------------------------------------------------------------

#: Where the points shop hands rewards out: 清远西街小哥驿站 (``stations_plan`` holds the
#: stations and caring corners; the shop also stocks a little at its "xiguan" station).
SHOP_STATION = stations_plan.SHOP_STATION


# --- earning rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    activity: str
    points: int
    daily_cap: int | None = None
    weekly_cap: int | None = None


#: What each street pays. A staff award's amount is what staff give (one point per point
#: awarded); its rule only carries caps, and 清远街道 sets none.
RULES: dict[str, list[RuleSpec]] = {
    data.QINGYUAN: [
        RuleSpec("report_verified", 5, daily_cap=15),
        RuleSpec("event_attendance", 10),
        RuleSpec("duty_hour", 3, weekly_cap=30),
        RuleSpec("elderly_child_help", 10),
        RuleSpec("gift_delivery", 5),
        RuleSpec("wish_fulfilled", 5),
        RuleSpec("manual_award", 1),
    ],
    data.YONGTAI: [
        RuleSpec("report_verified", 5, daily_cap=10),
        RuleSpec("event_attendance", 10),
        RuleSpec("manual_award", 1),
    ],
}
#: Who sets each street's rules (its street admin).
RULE_SETTERS = {data.QINGYUAN: "street_admin", data.YONGTAI: "yongtai_admin"}
#: A staff award above this needs a second staff member (清远街道; 永泰街道 keeps the default).
APPROVAL_THRESHOLD = 30


# --- the ledger history --------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """A kind of act staff award points for by hand. ``{gift}`` is 送清凉 in summer, else 送温暖."""

    reason: str
    points: int
    evidence: str
    weight: int
    #: Weight for members of the 爱心骑手队 (一老一小), when it differs.
    aixin_weight: int | None = None
    #: An event held once, for everyone who attends: its share of the history window and hour.
    held_at: tuple[float, int, int] | None = None


ACTS = [
    Act("随手拍核实：楼道堆物已清理", 5, "随手拍照片，网格员现场核实", 1),
    Act("随手拍核实：飞线充电已整改", 5, "随手拍照片，网格员现场核实", 1),
    Act("随手拍核实 2 处：消防通道堵塞、电动车乱停乱放", 10, "随手拍照片，网格员现场核实", 2),
    Act("随手拍核实 2 处：占道经营、共享单车堆放", 10, "随手拍照片，网格员现场核实", 1),
    Act("随手拍核实 3 处：楼道堆物、飞线充电、井盖破损", 15, "随手拍照片，网格员现场核实", 2),
    Act("随手拍核实 3 处：消防通道堵塞、路灯不亮、垃圾满溢", 15, "随手拍照片，物业整改回执", 1),
    Act("巡查值守 1 小时（清远西街小哥驿站）", 3, "驿站值守签到记录", 1),
    Act("巡查值守 2 小时（清远西街示范街）", 6, "巡查签到记录和照片", 1),
    Act("巡查值守 2 小时（西关菜市场周边）", 6, "巡查签到记录和照片", 1),
    Act("巡查值守 4 小时（清远门广场）", 12, "巡查签到记录和照片", 2),
    Act("巡查值守 4 小时（魏都大道沿线）", 12, "巡查签到记录和照片", 1),
    Act("帮助走失老人回家", 10, "社区工作人员现场确认，家属致谢", 1, aixin_weight=3),
    Act("{gift}慰问品配送（4 户）", 20, "慰问品签收单", 2, aixin_weight=4),
    Act("微心愿：为独居老人代买药品", 5, "微心愿认领和确认记录", 1, aixin_weight=3),
    Act("微心愿：帮居民把快递送上楼", 5, "微心愿认领和确认记录", 1),
    Act("参加反诈宣传活动（清远西街小哥驿站）", 10, "活动签到表", 2, held_at=(0.12, 15, 0)),
    Act("参加交通安全培训", 10, "培训签到表", 2, held_at=(0.33, 9, 30)),
    Act("垃圾分类宣传（大西街一号小区）", 10, "活动签到表和照片", 2, held_at=(0.52, 8, 30)),
    Act(
        "志愿服务日：清远西街示范街环境整治（半天）",
        15,
        "活动签到表和照片",
        2,
        held_at=(0.78, 8, 0),
    ),
    Act("协助调解邻里纠纷", 5, "调解记录", 1),
]

#: Points earned this year by the top 15 of 清远街道 (the 15 清远骑士, the showcase rider first)
#: and by ten more riders; two ties. The window "首次积分兑换" admits the first 15.
TOP_15 = (109, 96, 88, 81, 75, 70, 70, 64, 58, 55, 52, 48, 45, 45, 40)
OTHERS = (36, 33, 30, 27, 25, 20, 18, 15, 10, 5)
LEADER_POINTS = TOP_15[0]
#: Three riders of 柳航里社区 (永泰街道) earn a little too.
YONGTAI_TOTALS = (25, 18, 12)

#: The large award the demo leaves for a second staff member to approve (above the threshold).
PENDING = Act(
    "深夜护送走失老人回家，并协助派出所联系家属",
    40,
    "平城区公安分局清远派出所出具的情况说明",
    0,
)
#: The award paid by mistake and reversed.
REVERSED = Act("随手拍核实：楼道堆物已清理", 5, "随手拍照片，网格员现场核实", 0)
REVERSAL_REASON = "重复上报：同一处楼道堆物已由他人上报并计分"


@dataclass(frozen=True)
class AwardPlan:
    """One manual award: to a rider, by the staff of their community, at share ``t`` of the
    history window (0 the oldest day, towards 1 yesterday) and ``hour:minute`` that day."""

    key: str  # idempotency key
    rider: str  # rider key
    act: Act
    t: float
    hour: int
    minute: int


@dataclass(frozen=True)
class ReversalPlan:
    award: str  # the key of the award it reverses
    reason: str
    t: float
    hour: int
    minute: int


@dataclass(frozen=True)
class PointsPlan:
    awards: tuple[AwardPlan, ...]  # paid at once (at or below the threshold)
    pending: AwardPlan  # above the threshold: waits for a second staff member
    reversal: ReversalPlan
    totals: dict[str, int]  # rider key → points earned (net), by rank in each street
    top15: tuple[str, ...]  # rider keys, by rank

    @property
    def leader(self) -> str:
        return self.top15[0]


# --- the shop ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RewardSpec:
    name: str
    cost: int
    description: str
    stock: int  # at the shop's station
    per_rider_limit: int | None = None


REWARDS = [
    RewardSpec("蓝牙耳机", 100, "无线蓝牙耳机，跑单接电话不用停车掏手机", 5, per_rider_limit=1),
    RewardSpec("充电宝", 60, "10000 毫安时充电宝，可上电动车", 10, per_rider_limit=1),
    RewardSpec("旅行水壶", 40, "不锈钢保温旅行水壶，600 毫升", 15, per_rider_limit=2),
    RewardSpec("洗衣液", 20, "洗衣液 2 千克装", 30),
    RewardSpec("湿巾", 10, "湿巾 80 抽，3 包装", 50),
]
#: Seven days to pick a reward up.
PICKUP_HOURS = 7 * 24
#: A little stock at the second station too (reward → items).
XIGUAN_STOCK = {"洗衣液": 10, "湿巾": 20}

WINDOW_NAME = "首次积分兑换"
WINDOW_TOP_N = 15
WINDOW_DAYS = 14


@dataclass(frozen=True)
class RedemptionPlan:
    key: str  # idempotency key
    rider: str  # rider key
    reward: str
    outcome: str  # fulfilled, held, cancelled


def redemption_plan(points: PointsPlan) -> list[RedemptionPlan]:
    """The leader takes 洗衣液 and 湿巾 (as in the newspaper) and reserves a 充电宝 to pick up;
    the second reserves a 旅行水壶 and cancels it."""
    leader, second = points.top15[0], points.top15[1]
    return [
        RedemptionPlan("demo-redeem-0001", leader, "洗衣液", "fulfilled"),
        RedemptionPlan("demo-redeem-0002", leader, "湿巾", "fulfilled"),
        RedemptionPlan("demo-redeem-0003", leader, "充电宝", "held"),
        RedemptionPlan("demo-redeem-0004", second, "旅行水壶", "cancelled"),
    ]


# --- drawing the plan ----------------------------------------------------------------------------


@cache
def _fillable(points: int) -> bool:
    """Whether ``points`` can be made of the acts' amounts (0 can)."""
    return points == 0 or any(a.points <= points and _fillable(points - a.points) for a in ACTS)


def _acts_for(rng: random.Random, total: int, aixin: bool) -> list[Act]:
    """Acts that add up to ``total``: drawn by weight, the larger acts more often (staff
    award a morning's patrol or a month's reports at once), each event at most once, always
    leaving a sum that the remaining acts can still make."""
    acts: list[Act] = []
    left = total
    while left:
        options = [
            a
            for a in ACTS
            if a.points <= left
            and _fillable(left - a.points)
            and not (a.held_at and a in acts)  # an event is attended once
        ]
        weights = [
            ((a.aixin_weight or a.weight) if aixin else a.weight) * a.points for a in options
        ]
        act = rng.choices(options, weights=weights)[0]
        acts.append(act)
        left -= act.points
    return acts


def _when(rng: random.Random) -> tuple[float, int, int]:
    return round(rng.random() * 0.97, 6), rng.randint(8, 20), rng.randrange(60)


@dataclass(frozen=True)
class Ranking:
    """Who earns what this year (before it is cut into acts): the totals the ledger tells."""

    totals: dict[str, int]  # rider key → points earned (net), by rank in each street
    top15: tuple[str, ...]  # rider keys, by rank
    pending_to: str  # the rider the large award waits for
    reversed_for: str  # the rider paid twice by mistake
    state: tuple  # the random generator's state after the draw (the acts are drawn on)


@cache
def ranking() -> Ranking:
    """The year's totals per rider; the same on every call."""
    rng = random.Random(POINTS_SEED)
    riders = build_plan()
    qishi = next(t for t in riders.teams if t.spec.key == "qishi")
    leader = data.SHOWCASE_RIDER.key
    if leader not in qishi.members:
        raise ValueError("the showcase rider is not one of the 清远骑士")
    knights = [k for k in qishi.members if k != leader]
    rng.shuffle(knights)
    top15 = (leader, *knights)
    verified = sorted(
        r.key
        for r in riders.riders
        if r.status == "verified" and r.community.startswith(data.QINGYUAN) and r.key not in top15
    )
    others = rng.sample(verified, len(OTHERS))
    yongtai = rng.sample(
        sorted(
            r.key
            for r in riders.riders
            if r.status == "verified" and r.community.startswith(data.YONGTAI)
        ),
        len(YONGTAI_TOTALS),
    )
    totals = dict(zip(top15, TOP_15, strict=True))
    totals |= dict(zip(others, OTHERS, strict=True))
    totals |= dict(zip(yongtai, YONGTAI_TOTALS, strict=True))

    # The pending award goes to the best-placed rider of 清远西街社区 outside the top 15 (whom
    # it would not lift past the leader); the reversal to the next one.
    qyxj = [k for k in others if riders.rider(k).community == data.QYXJ]
    pending_to, reversed_for = qyxj[0], qyxj[1]
    if totals[pending_to] + PENDING.points >= LEADER_POINTS:
        raise ValueError("the pending award would lift its rider past the leader")
    return Ranking(totals, top15, pending_to, reversed_for, rng.getstate())


@cache
def build_points_plan() -> PointsPlan:
    """Who earned what and when; the same on every call.

    A rider's total counts what the care history (``care_plan``: events attended, duties
    verified) paid them through the services; staff's manual awards make up the rest."""
    from yizhan.demo import care_plan  # it reads the ranking above

    ranked = ranking()
    rng = random.Random()
    rng.setstate(ranked.state)
    riders = build_plan()
    aixin = set(next(t for t in riders.teams if t.spec.key == "aixin").members)
    care = care_plan.build_care_plan().points()
    awards: list[AwardPlan] = []
    for key, total in ranked.totals.items():
        for act in _acts_for(rng, total - care.get(key, 0), aixin=key in aixin):
            when = act.held_at or _when(rng)
            awards.append(AwardPlan(f"demo-award-{len(awards) + 1:04d}", key, act, *when))
    reversed_award = AwardPlan("demo-award-dup1", ranked.reversed_for, REVERSED, 0.6, 10, 12)
    awards.append(reversed_award)
    return PointsPlan(
        awards=tuple(awards),
        pending=AwardPlan("demo-award-big1", ranked.pending_to, PENDING, 0.995, 21, 30),
        reversal=ReversalPlan("demo-award-dup1", REVERSAL_REASON, 0.68, 9, 5),
        totals=ranked.totals,
        top15=ranked.top15,
    )
