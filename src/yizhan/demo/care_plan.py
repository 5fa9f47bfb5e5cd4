"""清远街道's care and service history: events and the 夏送清凉 hand-out, duty logs, micro-wishes,
appeals with a joint meeting, and the year's 清远骑士.

The newspaper pages (design notes) tell the story: a 骑手节 with summer hand-outs (夏凉被, 小风扇,
冰袖 …), free clinics, anti-fraud talks, traffic-safety and skills training, jobs brought to the
community, visits in the cold; riders holding posts patrol, mediate and help the elderly and
children (30+ helped), deliver gifts; they post micro-wishes that volunteers and caring shops
fulfil; their appeals (诉求直通车) go to the bodies that answer them (工会, 人社, 司法所, 交警 …),
and the harder ones to a joint meeting (联席会议); the street names 15 "清远骑士".

Like ``points_plan`` this is pure Python: :func:`build_care_plan` returns the same plan on every
call (fixed lists, one seeded ``random.Random``). Moments are a share ``t`` of the ledger's
history window (``loader.moment``) for whatever pays points, so they fall in the load day's year,
or whole days back from the load day (``days_ago``) for what pays nothing or must be recent; each
item's steps follow at minutes after its moment (the loader draws them closer when they would
reach the load day).

Points: a rider's year total is the ledger's (``points_plan.ranking``). For the riders it ranks,
what the care history pays is part of that total (the staff's manual awards make up the rest, so
the 109 points of the leader and the top 15 stay as the newspaper tells); the other riders of
清远街道 earn it on top, always staying below the 15th place (as the reports do). The plan keeps
count of both with a purse per rider.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from functools import cache

from yizhan.demo import data
from yizhan.demo import points_plan as pp
from yizhan.demo import reports_plan as rp
from yizhan.demo.generate import build_plan

CARE_SEED = data.SEED + 617

#: What 清远街道's earning rules pay (``points_plan.RULES``).
_RULES = {rule.activity: rule for rule in pp.RULES[data.QINGYUAN]}
ATTENDANCE = _RULES["event_attendance"].points
HELP = _RULES["elderly_child_help"].points
GIFT = _RULES["gift_delivery"].points
HOUR = _RULES["duty_hour"].points
WISH = _RULES["wish_fulfilled"].points
#: Hours a rider may be paid in a week before the cap (``duty_hour``'s weekly cap) bites.
WEEK_UNITS = (_RULES["duty_hour"].weekly_cap or 10**6) // HOUR
#: No rider outside the top 15 may reach the 15th place's points.
POINTS_LIMIT = pp.TOP_15[-1] - 1
#: Acts of help verified (and paid); 助老服务员 are few, and their points are bounded.
HELP_ACTS_VERIFIED = 30


@dataclass(frozen=True)
class When:
    """A moment: share ``t`` of the history window (0 ≤ t < 1), or ``days_ago`` whole days before
    the load day; at ``hour:minute`` (Asia/Shanghai)."""

    t: float | None = None
    days_ago: int | None = None
    hour: int = 9
    minute: int = 0


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignupStep:
    rider: str
    action: str  # "signup", "cancel", "attend"
    after: int  # minutes after the event's announcement


@dataclass(frozen=True)
class Handout:
    """A hand-out at an event: its name and items in summer (May–September) and otherwise."""

    summer: str
    winter: str
    summer_items: tuple[tuple[str, int], ...]
    winter_items: tuple[tuple[str, int], ...]
    description: str
    restock: tuple[int, int]  # (item index, change) a second delivery added
    receipts: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]  # rider, (item index, qty)


@dataclass(frozen=True)
class EventPlan:
    key: str
    title: str
    kind: str
    description: str
    organiser: str  # area code: 清远街道 or one of its communities
    created_by: str  # account key
    station: str | None  # stations_plan key
    address: str
    capacity: int
    when: When  # announced
    starts_after: int  # minutes after the announcement
    minutes: int  # how long it lasts
    steps: tuple[SignupStep, ...]
    handout: Handout | None = None
    upcoming: bool = False
    audience: str = "riders"

    def outcome(self) -> dict[str, str]:
        """Each rider's final sign-up: confirmed, waiting or cancelled (checked in or not)."""
        confirmed: list[str] = []
        waiting: list[str] = []
        status: dict[str, str] = {}
        for step in self.steps:
            if step.action == "signup":
                if len(confirmed) < self.capacity:
                    confirmed.append(step.rider)
                    status[step.rider] = "confirmed"
                else:
                    waiting.append(step.rider)
                    status[step.rider] = "waiting"
            elif step.action == "cancel":
                if step.rider in confirmed:
                    confirmed.remove(step.rider)
                    if waiting:
                        promoted = waiting.pop(0)
                        confirmed.append(promoted)
                        status[promoted] = "confirmed"
                else:
                    waiting.remove(step.rider)
                status[step.rider] = "cancelled"
        return status

    def attendees(self) -> list[str]:
        return [s.rider for s in self.steps if s.action == "attend"]


# --- duties ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyPlan:
    key: str
    rider: str
    kind: str  # patrol, mediation, help, gift
    place: str
    note: str
    when: When  # the start
    minutes: int  # 0 for a single act
    outcome: str  # verified, pending, rejected, household (a gift confirmed with the code)
    decide_after: int = 0  # minutes after logging
    reason: str = ""
    household: str = ""

    def points(self) -> int:
        if self.outcome not in ("verified", "household"):
            return 0
        if self.kind == "help":
            return HELP
        if self.kind == "gift":
            return GIFT
        return units(self.minutes) * HOUR


def units(minutes: int) -> int:
    """Paid hours of a patrol or mediation (``duties.services.units_for``)."""
    hours = minutes // 60
    return 1 if hours == 0 and minutes >= 30 else hours


# --- wishes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WishPlan:
    key: str
    rider: str
    category: str
    text: str
    when: When  # posted
    outcome: str  # pending, rejected, withdrawn, published, claimed, fulfilled, confirmed
    claimer: str | None = None  # account key
    reason: str = ""  # a rejection's
    note: str = ""  # the claimer's note on fulfilling

    #: The steps each outcome takes, with their minutes after the post.
    STEPS = {
        "pending": (),
        "rejected": (("reject", 1500),),
        "withdrawn": (("approve", 1500), ("withdraw", 2900)),
        "published": (("approve", 1500),),
        "claimed": (("approve", 1500), ("claim", 2950)),
        "fulfilled": (("approve", 1500), ("claim", 2950), ("fulfil", 5800)),
        "confirmed": (("approve", 1500), ("claim", 2950), ("fulfil", 5800), ("confirm", 7300)),
    }

    def steps(self) -> tuple[tuple[str, int], ...]:
        return self.STEPS[self.outcome]

    def points(self) -> int:
        """What the claimer is paid: only a volunteer collects points."""
        return WISH if self.outcome == "confirmed" and self.claimer == "volunteer" else 0


# --- appeals and the joint meeting --------------------------------------------------------------


@dataclass(frozen=True)
class BodySpec:
    """A body appeals are routed to (a ``people.Department``), and its handler's account."""

    key: str
    name: str
    area_code: str
    created_by: str
    handler: data.AccountSpec


def _handler(key: str, username: str, name: str, area: str, by: str) -> data.AccountSpec:
    return data.AccountSpec(
        f"{key}_handler", username, name, "handler", area, created_by=by, department=key
    )


BODIES = [
    BodySpec(
        "gonghui",
        "清远街道总工会",
        data.QINGYUAN,
        "street_admin",
        _handler("gonghui", "gonghui-handler", "杨红梅", data.QINGYUAN, "street_admin"),
    ),
    BodySpec(
        "renshe",
        "平城区人力资源和社会保障局",
        data.DISTRICT.code,
        "district_admin",
        _handler("renshe", "renshe-handler", "任国庆", data.DISTRICT.code, "district_admin"),
    ),
    BodySpec(
        "sifasuo",
        "清远街道司法所",
        data.QINGYUAN,
        "street_admin",
        _handler("sifasuo", "sifasuo-handler", "薛振华", data.QINGYUAN, "street_admin"),
    ),
    BodySpec(
        "jiaojing",
        "平城区交警大队清远中队",
        data.DISTRICT.code,
        "district_admin",
        _handler("jiaojing", "jiaojing-handler", "牛建军", data.DISTRICT.code, "district_admin"),
    ),
]


@dataclass(frozen=True)
class AppealStep:
    kind: str  # route, answer, rate, deliver, close
    after: int  # minutes after the appeal (or after the meeting, with ``after_meeting``)
    body: str = ""  # route: a department key (data.DEPARTMENTS or BODIES)
    days: int = 0  # route: the deadline
    text: str = ""  # route note, answer, rating comment, delivery note, close note
    by: str = ""  # answer: "handler" (the body's) or "staff"
    stars: int = 0
    delivery: str = ""
    after_meeting: bool = False


@dataclass(frozen=True)
class AppealPlan:
    key: str
    rider: str
    difficulty: str
    topic: str
    text: str
    when: When
    steps: tuple[AppealStep, ...]
    anonymous: bool = False
    agenda: bool = False  # on the joint meeting's agenda

    def status(self) -> str:
        status = "submitted"
        for step in self.steps:
            if step.kind == "route":
                status = "routed"
            elif step.kind == "answer":
                status = "answered"
            elif step.kind == "rate":
                status = "closed" if step.stars >= 3 else "reopened"
            elif step.kind == "close":
                status = "closed"
        return status

    def overdue(self) -> bool:
        """Routed and still waiting past its deadline on the load day."""
        if self.status() != "routed":
            return False
        route = [s for s in self.steps if s.kind == "route"][-1]
        return self.when.days_ago is not None and route.days < self.when.days_ago - 1


@dataclass(frozen=True)
class DecisionPlan:
    text: str
    due_days: int  # after the meeting
    owner_body: str = ""  # a department key
    owner_name: str = ""
    appeal: str = ""  # the agenda item's appeal key
    follow_up: str = ""
    done: bool = False
    follow_up_after: int = 0  # minutes after the meeting


@dataclass(frozen=True)
class MeetingPlan:
    title: str
    place: str
    when: When
    bodies: tuple[str, ...]
    riders: tuple[str, ...]
    extra_item: str
    minutes: str
    decisions: tuple[DecisionPlan, ...]


# --- honours -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationPlan:
    rider: str
    reason: str
    outcome: str  # approved, rejected, pending
    rejection: str = ""


@dataclass(frozen=True)
class TitlePlan:
    name: str
    description: str
    quota: int
    when: When  # created; nominations and decisions follow
    nominations: tuple[NominationPlan, ...]


@dataclass(frozen=True)
class CarePlan:
    events: tuple[EventPlan, ...]
    duties: tuple[DutyPlan, ...]
    wishes: tuple[WishPlan, ...]
    appeals: tuple[AppealPlan, ...]
    meeting: MeetingPlan
    titles: tuple[TitlePlan, ...]

    def points(self) -> Counter:
        """Points each rider is paid through the services (attendance and duties)."""
        paid: Counter = Counter()
        for event in self.events:
            if not event.upcoming:
                paid.update(dict.fromkeys(event.attendees(), ATTENDANCE))
        for duty in self.duties:
            if duty.points():
                paid[duty.rider] += duty.points()
        return paid

    def extra_points(self) -> int:
        """Points paid beyond the ledger's totals: to riders it does not rank, and to the
        volunteer for wishes."""
        totals = pp.ranking().totals
        riders = sum(v for k, v in self.points().items() if k not in totals)
        return riders + sum(w.points() for w in self.wishes)

    def helped(self) -> int:
        """Elderly people and children helped (verified help and gift deliveries)."""
        return sum(
            1
            for d in self.duties
            if d.kind in ("help", "gift") and d.outcome in ("verified", "household")
        )


# --- the fixed texts ---------------------------------------------------------------------------

#: Why staff turned a help log down.
DUPLICATE_HELP = "与前一条记录是同一次帮扶，已核实计分，请勿重复填报。"

#: How staff closed the appeal the joint meeting settled otherwise.
CLOSED_AFTER_MEETING = (
    "已在联席会议上通报，社区在居民群发出“理解小哥”倡议，小哥队开展文明骑行承诺。"
)

HELP_ACTS = [
    ("清远西街与魏都大道路口", "送餐途中遇到一位走失的老人，问清住址后护送回家，交给家属"),
    ("清远北苑小区", "帮独居的李奶奶代买降压药，送上六楼"),
    ("西关小学门口", "放学时一名小学生找不到家长，陪着等到家长赶来"),
    ("清远西街 23 号院", "帮腿脚不便的王大爷把米面扛上楼"),
    ("西关菜市场", "老人在菜市场摔倒，扶起后联系社区和家属"),
    ("清远门广场", "一名男孩和家人走散，带到驿站广播寻人，半小时后交还家长"),
    ("清远北苑小区 8 号楼", "为独居老人代缴水电费，教他用手机查余额"),
    ("清远西街东段", "雨天护送两名小学生过马路回家"),
    ("魏都大道西侧", "帮迷路的外地老人找到女儿家"),
    ("西关南街", "帮行动不便的张奶奶取快递、倒垃圾"),
    ("清远西街社区小哥驿站", "给来驿站歇脚的老人量血压，提醒按时吃药"),
    ("清远北苑小区南门", "深夜送餐时发现老人在楼下徘徊，陪同等到家属"),
]
GIFT_ACTS = [
    ("清远西街 17 号院", "把{gift}慰问品送到独居老人家中"),
    ("清远北苑小区 3 号楼", "为空巢老人送去米、面、油"),
    ("西关南街 56 号", "给困难家庭的孩子送去书包和文具"),
]
PATROLS = [
    ("清远西街示范街", "巡查楼道堆物、飞线充电，劝导电动车规范停放"),
    ("清远门广场", "游客高峰时段巡查，劝导乱停乱放"),
    ("清远北苑小区", "夜间巡查消防通道，发现一处堵塞已报物业"),
    ("西关菜市场周边", "巡查占道经营和电动车乱停，提醒商户整改"),
]
MEDIATIONS = [
    ("清远西街美食街", "调解商户与骑手因出餐慢发生的口角，双方握手言和"),
    ("清远北苑小区北门", "调解保安与骑手的进门纠纷，协调临时通行"),
    ("清远西街 8 号院", "协助社区调解邻里因电动车充电产生的矛盾"),
]


def _events(rng: random.Random, purse: _Purse, riders: dict) -> list[EventPlan]:
    qishi = list(pp.ranking().top15)
    specs = [
        # (key, title, kind, organiser, by, station, t, hour, capacity, signups, cancels, absent,
        #  minutes, description)
        (
            "festival", "清远街道“骑手节”暨夏送清凉活动", "rider_festival", data.QINGYUAN,
            "street_admin", "xijie", 0.05, 15, 40, 30, 2, 2, 180,
            "致敬城市“摆渡人”：文艺表演、趣味骑行、“清远骑士”风采展示，现场发放清凉物资。",
        ),
        (
            "clinic", "小哥驿站义诊：量血压、测血糖、颈腰椎理疗", "free_clinic", data.QYXJ,
            "community_staff", "xijie", 0.18, 9, 20, 12, 1, 1, 150,
            "平城区中医医院医生到驿站坐诊，跑单间隙就能看。",
        ),
        (
            "antifraud", "反诈宣传进驿站：刷单返利、冒充客服骗局揭秘", "anti_fraud", data.QYBY,
            "beiyuan_staff", "beiyuan", 0.3, 14, 15, 8, 0, 1, 90,
            "清远派出所民警讲解常见骗局，教大家下载国家反诈中心 App。",
        ),
        (
            "traffic", "交通安全培训：不闯红灯、不逆行、不超速", "traffic_safety", data.QINGYUAN,
            "street_admin", "center", 0.45, 9, 12, 15, 1, 1, 120,
            "交警清远中队讲解电动车通行规则和事故处理，现场发放反光背心。",
        ),
        (
            "skills", "技能培训：电动车维修和应急救护", "skills", data.QINGYUAN,
            "street_admin", "center", 0.6, 14, 25, 14, 1, 1, 150,
            "学会补胎、换刹车片；红十字会老师教心肺复苏和止血包扎。",
        ),
        (
            "jobs", "送岗进社区：快递、物流、家政岗位招聘会", "jobs", data.XIGUAN,
            "xiguan_staff", "xiguan", 0.72, 10, 30, 6, 0, 0, 180,
            "二十余家企业带来岗位，人社局现场讲解灵活就业参保。",
        ),
        (
            "visit", "冬季慰问：为坚守岗位的小哥送上暖心包", "care_visit", data.QINGYUAN,
            "street_admin", "xijie", 0.9, 11, 30, 16, 1, 1, 120,
            "街道和工会走进驿站，慰问一线骑手，送上手套、护膝和热姜茶。",
        ),
    ]  # fmt: skip
    events = []
    for spec in specs:
        (key, title, kind, organiser, by, station, t, hour, capacity, n, cancels, absent,
         minutes, description) = spec  # fmt: skip
        eligible = sorted(
            k
            for k, r in riders.items()
            if r.community.startswith(organiser) and r.community.startswith(data.QINGYUAN)
        )
        must = []
        if key == "festival":  # the 清远骑士 and the showcase rider come to the festival
            must = [k for k in qishi if k in eligible][:10]
        rest = [k for k in eligible if k not in must]
        rng.shuffle(rest)
        rest.sort(key=lambda k: not purse.can(k, ATTENDANCE))  # those who may be paid first
        order = must + rest[: n - len(must)]
        steps = [SignupStep(k, "signup", 60 + 37 * i) for i, k in enumerate(order)]
        plan = EventPlan(key, title, kind, description, organiser, by, station, "", capacity,
                         When(t=t, hour=hour), 3 * 1440, minutes, tuple(steps))  # fmt: skip
        confirmed = [k for k, s in plan.outcome().items() if s == "confirmed"]
        leaving = rng.sample([k for k in confirmed if k not in must], cancels)
        steps += [SignupStep(k, "cancel", 2 * 1440 + 45 * i) for i, k in enumerate(leaving)]
        plan = replace(plan, steps=tuple(steps))
        confirmed = [k for k, s in plan.outcome().items() if s == "confirmed"]
        away = set(rng.sample([k for k in confirmed if k not in must], absent))
        attend = [k for k in confirmed if k not in away and purse.take(k, ATTENDANCE)]
        steps += [
            SignupStep(k, "attend", plan.starts_after - 20 + 2 * i) for i, k in enumerate(attend)
        ]
        handout = _handout(rng, attend, riders) if key == "festival" else None
        events.append(replace(plan, steps=tuple(steps), handout=handout))
    # Coming up: riders can sign up now (the showcase rider has not yet).
    upcoming = [
        (
            "dayofservice", "志愿服务日：清远西街示范街环境整治", "volunteering", data.QYXJ,
            "community_staff", "xijie", 20, 5, 9, 150,
            "清理小广告、规整共享单车、劝导文明停车，参加的小哥计活动积分。",
        ),
        (
            "antifraud2", "反诈宣传进驿站（第二期）：年底谨防“退款”“中奖”骗局", "anti_fraud",
            data.QINGYUAN, "street_admin", "center", 30, 12, 15, 90,
            "年底网购多，民警讲解冒充客服退款、虚假中奖等骗局。",
        ),
    ]  # fmt: skip
    showcase = data.SHOWCASE_RIDER.key
    for key, title, kind, organiser, by, station, capacity, ahead, hour, minutes, text in upcoming:
        eligible = sorted(
            k for k, r in riders.items() if r.community.startswith(organiser) and k != showcase
        )
        chosen = rng.sample(eligible, min(6, capacity - 4))
        steps = tuple(SignupStep(k, "signup", 90 + 53 * i) for i, k in enumerate(chosen))
        when = When(days_ago=3, hour=10)
        starts_after = (3 + ahead) * 1440 + (hour - 10) * 60
        events.append(
            EventPlan(
                key,
                title,
                kind,
                text,
                organiser,
                by,
                station,
                "",
                capacity,
                when,
                starts_after,
                minutes,
                steps,
                upcoming=True,
            )  # fmt: skip
        )
    return events


def _handout(rng: random.Random, attend: list[str], riders: dict) -> Handout:
    items = 4
    receipts = []
    for k in attend:
        picked = sorted(rng.sample(range(items), rng.choice((1, 2, 2, 3))))
        receipts.append((k, tuple((i, 1) for i in picked)))
    return Handout(
        summer="夏送清凉·骑手节慰问品",
        winter="冬送温暖·骑手节慰问品",
        summer_items=(("夏凉被", 20), ("小风扇", 25), ("冰袖", 30), ("藿香正气水", 40)),
        winter_items=(("护膝", 20), ("防风手套", 25), ("暖宝宝", 30), ("保温杯", 40)),
        description="街道工会联合爱心企业捐赠，每位到场小哥按需领取。",
        restock=(2, 20),
        receipts=tuple(receipts),
    )


class _Purse:
    """How many points the care history may still pay each rider (see the module doc)."""

    def __init__(self, riders: dict) -> None:
        ranked = pp.ranking()
        reports = rp.build_reports_plan().points()
        self.ranked = ranked.totals
        self.room = {
            k: ranked.totals[k] if k in ranked.totals else POINTS_LIMIT - reports.get(k, 0)
            for k in riders
        }

    def can(self, rider: str, points: int) -> bool:
        left = self.room.get(rider, 0) - points
        return left >= 0 and (rider not in self.ranked or pp._fillable(left))

    def take(self, rider: str, points: int) -> bool:
        if not self.can(rider, points):
            return False
        self.room[rider] -= points
        return True

    def draw(self, rng: random.Random, pool: list[str], points: int) -> str:
        """One of ``pool`` who may still be paid ``points`` (and is now)."""
        options = [k for k in pool if self.can(k, points)]
        if not options:
            raise ValueError(f"nobody left to pay {points} points")
        rider = rng.choice(options)
        self.take(rider, points)
        return rider


def _duties(rng: random.Random, purse: _Purse, riders: dict) -> list[DutyPlan]:
    def holders(post: str) -> list[str]:
        return sorted(k for k, r in riders.items() if post in r.posts)

    aid, safety, mediators = holders("elderly_aid"), holders("safety"), holders("mediator")
    duties: list[DutyPlan] = []

    def add(rider, kind, place, note, when, minutes, outcome, **more):
        key = f"demo-duty-{len(duties) + 1:03d}"
        duties.append(DutyPlan(key, rider, kind, place, note, when, minutes, outcome, **more))

    # 30 acts of help verified (a day or two after), 3 waiting, 1 turned down.
    for number in range(HELP_ACTS_VERIFIED):
        place, note = HELP_ACTS[number % len(HELP_ACTS)]
        rider = purse.draw(rng, aid, HELP)
        t = round(0.03 + 0.9 * number / HELP_ACTS_VERIFIED + rng.random() * 0.02, 6)
        when = When(t=t, hour=rng.randint(8, 20), minute=rng.randrange(60))
        add(rider, "help", place, note, when, 0, "verified", decide_after=rng.randint(600, 2800))
    for days, (place, note) in zip((1, 2, 2), HELP_ACTS[3:6], strict=True):
        add(rng.choice(aid), "help", place, note, When(days_ago=days, hour=17), 0, "pending")
    rejected_for = duties[5]
    add(
        rejected_for.rider, "help", rejected_for.place, rejected_for.note,
        When(t=rejected_for.when.t, hour=rejected_for.when.hour,
             minute=(rejected_for.when.minute + 2) % 60),
        0, "rejected", decide_after=700, reason=DUPLICATE_HELP,
    )  # fmt: skip
    # Gift deliveries: verified by staff, one confirmed by the household's code, one waiting.
    for number, t in enumerate((0.22, 0.5, 0.86, 0.93)):
        place, note = GIFT_ACTS[number % len(GIFT_ACTS)]
        rider = purse.draw(rng, aid, GIFT)
        outcome = "household" if number == 3 else "verified"
        add(
            rider, "gift", place, note, When(t=t, hour=10, minute=30), 0, outcome,
            decide_after=180, household="清远西街 17 号院 赵奶奶家" if number == 3 else "",
        )  # fmt: skip
    add(rng.choice(aid), "gift", *GIFT_ACTS[1], When(days_ago=1, hour=15), 0, "pending")
    # Patrols and mediations: a couple of hours, verified, one waiting.
    for number in range(12):
        place, note = PATROLS[number % len(PATROLS)]
        minutes = rng.choice((90, 120, 120, 150, 180))
        rider = purse.draw(rng, safety, units(minutes) * HOUR)
        t = round(0.05 + 0.85 * number / 12, 6)
        add(rider, "patrol", place, note, When(t=t, hour=rng.choice((9, 14, 19))), minutes,
            "verified", decide_after=1300)  # fmt: skip
    add(rng.choice(safety), "patrol", *PATROLS[0], When(days_ago=1, hour=9), 120, "pending")
    for number, (place, note) in enumerate(MEDIATIONS):
        minutes = 60 + 30 * number
        rider = purse.draw(rng, mediators, units(minutes) * HOUR)
        t = round(0.2 + 0.3 * number, 6)
        add(rider, "mediation", place, note, When(t=t, hour=13), minutes, "verified",
            decide_after=1500)  # fmt: skip
    return duties


WISHES = [
    ("school_supplies", "女儿今年上一年级，想给她买一个新书包和一套文具。"),
    ("health", "家里老人血压高，想要一台电子血压计，方便每天量。"),
    ("daily_needs", "冬天跑单手冻得握不住车把，想要一副防风保暖手套。"),
    ("child_education", "孩子想要几本课外读物，最好是科普类的。"),
    ("daily_needs", "想要一个保温饭盒，中午在驿站热饭吃。"),
    ("health", "母亲眼睛花了，想配一副老花镜。"),
    ("daily_needs", "常年骑车腰不好，想要一个护腰。"),
    ("school_supplies", "儿子学校要上美术课，想要一盒水彩笔和画本。"),
    ("child_education", "希望有志愿者周末帮孩子辅导一下数学作业。"),
    ("daily_needs", "想给电动车换一个挡风被，冬天跑单太冷。"),
    ("other", "想借一笔钱周转，下个月还。"),
    ("daily_needs", "想要一件反光背心，夜里送餐更安全。"),
    ("health", "想要一个小药箱，放些创可贴和感冒药。"),
]
#: outcome, claimer, when
WISH_FATES = [
    ("confirmed", "volunteer", When(t=0.15, hour=20)),
    ("confirmed", "merchant", When(t=0.35, hour=21)),
    ("confirmed", "volunteer", When(t=0.55, hour=19)),
    ("confirmed", "community_staff", When(t=0.7, hour=20)),
    ("confirmed", "volunteer", When(t=0.8, hour=18)),
    ("fulfilled", "merchant", When(days_ago=6, hour=20)),
    ("claimed", "volunteer", When(days_ago=5, hour=21)),
    ("claimed", "merchant", When(days_ago=4, hour=20)),
    ("published", None, When(days_ago=4, hour=19)),
    ("rejected", None, When(days_ago=9, hour=20)),
    ("published", None, When(days_ago=3, hour=21)),
    ("pending", None, When(days_ago=1, hour=20)),
    ("withdrawn", None, When(days_ago=8, hour=12)),
]
WISH_NOTES = {
    "volunteer": "已送到驿站，小哥下班时领取，祝孩子学习进步！",
    "merchant": "店里备好了，小哥来吃面时顺便拿走了。",
    "community_staff": "社区联系爱心企业捐赠，已送到家中。",
}


def _wishes(rng: random.Random, riders: dict) -> list[WishPlan]:
    qyxj = sorted(k for k, r in riders.items() if r.community == data.QYXJ)
    street = sorted(riders)
    rng.shuffle(qyxj)
    rng.shuffle(street)
    wishes = []
    used: set[str] = set()
    for number, ((category, text), (outcome, claimer, when)) in enumerate(
        zip(WISHES, WISH_FATES, strict=True)
    ):
        # The volunteer's and the community staff's wishes are 清远西街社区's (they pay there).
        pool = qyxj if claimer in ("volunteer", "community_staff") else street
        rider = next(k for k in pool if k not in used)
        used.add(rider)
        reason = "微心愿面向生活、学习和健康方面的小心愿，借款不在此列；可到社区咨询困难帮扶。"
        wishes.append(
            WishPlan(
                f"demo-wish-{number + 1:02d}",
                rider,
                category,
                text,
                when,
                outcome,
                claimer,
                reason=reason if outcome == "rejected" else "",
                note=WISH_NOTES.get(claimer or "", ""),
            )
        )
    return wishes


def _appeals(rng: random.Random, riders: dict) -> list[AppealPlan]:
    def route(body, days, after=240, text="", **more):
        return AppealStep("route", after, body=body, days=days, text=text, **more)

    def answer(text, after, by="handler", **more):
        return AppealStep("answer", after, text=text, by=by, **more)

    def rate(stars, text, after, **more):
        return AppealStep("rate", after, stars=stars, text=text, **more)

    def deliver(kind, text, after, **more):
        return AppealStep("deliver", after, delivery=kind, text=text, **more)

    specs = [
        (
            "meal_rest", "other", "西街驿站晚上十点就关门了，夜班小哥没地方热饭、歇脚。",
            When(days_ago=70, hour=22), False, False,
            (
                route("gonghui", 10),
                answer("已与社区商定：清远西街小哥驿站改为 24 小时开放，"
                       "增设微波炉和饮水机。", 4000),
                deliver("warmth", "驿站增设微波炉、饮水机，冬季提供热姜茶。", 4300),
                rate(5, "现在半夜也能进去歇会儿，谢谢！", 5000),
            ),
        ),
        (
            "skills", "other", "想考电工证转行，不知道哪里有免费的培训？",
            When(days_ago=62, hour=15), False, False,
            (
                route("renshe", 15),
                answer("区职业技能培训中心每季度开设电工培训，"
                       "持灵活就业登记可免费参加，已为您报名。", 9000),
                deliver("skills", "报名区职业技能培训中心电工培训班（免费）。", 9200),
                rate(4, "已经报上名了。", 10000),
            ),
        ),
        (
            "rights", "labour_dispute", "站点以差评为由扣了我三天的工资，申诉也没人理。",
            When(days_ago=55, hour=11), False, False,
            (
                route("sifasuo", 10),
                answer("经了解，扣款依据站点内部规定，建议您与站点协商。", 6000),
                rate(2, "协商过了，站长不理，希望有人出面。", 7000),
                answer("司法所和工会约谈了站点负责人，站点已退还扣款并修改了罚款规定。",
                       11000, by="staff"),
                deliver("rights", "司法所提供法律咨询，工会陪同约谈站点。", 11100),
                rate(4, "钱退回来了，谢谢司法所和工会。", 12000),
            ),
        ),
        (
            "rights", "traffic_accident", "在清远门路口和私家车剐蹭，对方不肯走保险。",
            When(days_ago=48, hour=18), False, False,
            (
                route("jiaojing", 7),
                answer("已调取路口监控认定责任，对方负主要责任，已督促其走保险理赔。", 3000),
                deliver("rights", "交警中队出具事故认定书，协助理赔。", 3100),
                rate(5, "处理得很快。", 4500),
            ),
        ),
        (
            "rights", "social_insurance", "灵活就业人员怎么交养老和医疗保险？每月要交多少？",
            When(days_ago=40, hour=14), False, False,
            (
                route("renshe", 10),
                answer("灵活就业人员可在“民生山西”App 登记参保，"
                       "缴费基数可自选档次，详见附件说明。", 2500),
                deliver("rights", "发放灵活就业参保指南，驿站现场讲解。", 2600),
                rate(5, "明白了，已经交上了。", 4000),
            ),
        ),
        (
            "rights", "injury", "送餐时雨天路滑摔伤了腿，平台说我们不算工伤，医药费只能自己出。",
            When(days_ago=30, hour=20), True, True,
            (route("renshe", 7, text="涉及新就业形态职业伤害保障，请人社局答复"),),
        ),
        (
            "understanding", "other",
            "清远北苑小区保安不让电动车进门，送餐要走很远，还常被投诉超时。",
            When(days_ago=26, hour=12), False, True,
            (
                route("zongzhi", 14),
                answer("联席会议后已协调物业：北门设外卖临时停车点，骑手登记后可进小区送餐。", 1800,
                       by="staff", after_meeting=True),
                deliver("care", "协调物业设置外卖临时停车点。", 1900, after_meeting=True),
            ),
        ),
        (
            "meal_rest", "housing", "外地来的骑手多，附近房租贵，有没有便宜的人才公寓或宿舍？",
            When(days_ago=24, hour=16), False, True,
            (route("renshe", 7),),
        ),
        (
            "rights", "pay", "平台单价又降了，想了解我们有没有最低收入保障。",
            When(days_ago=20, hour=13), False, False,
            (
                route("gonghui", 10),
                answer("工会已就派单规则和计件单价与平台区域负责人座谈，并开展集体协商。", 6000),
                rate(3, "希望有结果了再告诉我们。", 8000),
            ),
        ),
        (
            "understanding", "other",
            "有居民说我们骑车太快，其实是赶时间，希望社区帮忙和居民沟通。",
            When(days_ago=18, hour=10), False, False,
            (
                route("zongzhi", 10),
                AppealStep("close", 1400, text=CLOSED_AFTER_MEETING,
                           after_meeting=True),
            ),
        ),
        (
            "meal_rest", "other", "冬天在外面等单太冷，希望多开几个能进去暖和的爱心角。",
            When(days_ago=3, hour=19), False, False,
            (route("gonghui", 10),),
        ),
        (
            "skills", "other", "想学用手机拍短视频、做直播，有没有这方面的培训？",
            When(days_ago=1, hour=21), False, False,
            (),
        ),
    ]  # fmt: skip
    qingyuan = sorted(riders)
    rng.shuffle(qingyuan)
    appeals = []
    for number, (difficulty, topic, text, when, anonymous, agenda, steps) in enumerate(specs):
        appeals.append(
            AppealPlan(
                f"demo-appeal-{number + 1:02d}",
                qingyuan[number],
                difficulty,
                topic,
                text,
                when,
                steps,
                anonymous=anonymous,
                agenda=agenda,
            )
        )
    return appeals


def _meeting(rng: random.Random) -> MeetingPlan:
    top = pp.ranking().top15
    return MeetingPlan(
        title="清远街道新就业群体诉求联席会议",
        place="清远西街社区党群服务站（小哥驿站）二楼会议室",
        when=When(days_ago=14, hour=14, minute=30),
        bodies=("gonghui", "renshe", "sifasuo", "jiaojing", "zongzhi"),
        riders=(top[0], top[1], top[2]),
        extra_item="电动车夜间充电安全：驿站增设充电柜的可行性",
        minutes=(
            "街道党工委牵头，工会、人社、司法所、交警中队、综治中心和三名骑手代表参会。"
            "逐项研究了送餐摔伤的职业伤害保障、小区进门难、骑手住房三项诉求，"
            "以及驿站充电柜建设，形成四项决定，明确责任单位和完成时限。"
        ),
        decisions=(
            DecisionPlan(
                "人社局为送餐摔伤的骑手开通职业伤害保障咨询专窗，一周内给出答复。",
                7,
                owner_body="renshe",
                appeal="demo-appeal-06",
                follow_up="专窗已开通，已电话联系骑手本人并指导申报。",
                done=True,
                follow_up_after=5 * 1440,
            ),
            DecisionPlan(
                "综治中心协调清远北苑物业在北门设外卖临时停车点，骑手登记后可进小区。",
                10,
                owner_body="zongzhi",
                appeal="demo-appeal-07",
                follow_up="停车点已划线，登记制度物业正在制定。",
                follow_up_after=2 * 1440,
            ),
            DecisionPlan(
                "摸排骑手住房需求，争取人才公寓房源。",
                45,
                owner_body="renshe",
                appeal="demo-appeal-08",
            ),
            DecisionPlan(
                "在清远西街小哥驿站试点增设换电充电柜。",
                30,
                owner_name="王丽娟（街道办）",
            ),
        ),
    )


KNIGHT_REASONS = [
    "跑单途中随手拍上报隐患，带头参加巡查值守",
    "热心帮助独居老人，多次护送走失老人回家",
    "骑手节、志愿服务日等活动积极参加，带动身边小哥",
    "担任流动网格员，熟悉每条街巷，协助社区排查隐患",
    "参与邻里纠纷调解，在小哥中威信高",
]


def _titles(rng: random.Random, riders: dict) -> list[TitlePlan]:
    ranked = pp.ranking()
    knights = [
        NominationPlan(
            k, f"今年积分 {ranked.totals[k]} 分，{rng.choice(KNIGHT_REASONS)}。", "approved"
        )
        for k in ranked.top15
    ]
    best_other = max(
        (k for k in ranked.totals if k not in ranked.top15 and k in riders),
        key=lambda k: (ranked.totals[k], k),
    )
    turned_down = NominationPlan(
        best_other,
        "积极参加社区活动，随手拍上报多处隐患。",
        "rejected",
        rejection="本年度有一次闯红灯记录，按评选办法暂不参评。",
    )
    grid_workers = sorted(
        k for k, r in riders.items() if "grid_worker" in r.posts and k not in ranked.top15
    )
    pending = [
        NominationPlan(k, "担任流动网格员，今年随手拍上报隐患多处，均已核实整改。", "pending")
        for k in rng.sample(grid_workers, 2)
    ]
    return [
        TitlePlan(
            "清远骑士",
            "清远街道年度表彰：在文明创建、平安建设和“一老一小”服务中表现突出的小哥。",
            15,
            When(days_ago=10, hour=9),
            (turned_down, *knights),
        ),
        TitlePlan(
            "优秀流动网格员",
            "清远街道年度表彰：跑单途中发现并上报隐患最多、整改效果最好的流动网格员。",
            5,
            When(days_ago=6, hour=9),
            tuple(pending),
        ),
    ]


@cache
def build_care_plan() -> CarePlan:
    """The care and service history of 清远街道; the same on every call."""
    rng = random.Random(CARE_SEED)
    riders = {
        r.key: r
        for r in build_plan().riders
        if r.status == "verified" and r.community.startswith(data.QINGYUAN)
    }
    purse = _Purse(riders)
    duties = _duties(rng, purse, riders)  # help first: its holders are few
    events = _events(rng, purse, riders)
    return CarePlan(
        events=tuple(events),
        duties=tuple(duties),
        wishes=tuple(_wishes(rng, riders)),
        appeals=tuple(_appeals(rng, riders)),
        meeting=_meeting(rng),
        titles=tuple(_titles(rng, riders)),
    )
