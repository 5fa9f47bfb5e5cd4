"""The demo's showcase accounts: one per role, all with ``DEMO_PASSWORD``.

``DEMO_ACCOUNTS`` is static (it needs no database), so a page can show it in demo mode::

    from yizhan.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

Staff log in with their username, riders with their phone number. Only ``manage.py demo``
(which refuses outside demo mode) gives these accounts their password.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from yizhan.demo import data
from yizhan.demo import points_plan as pp
from yizhan.demo import reports_plan as rp
from yizhan.demo import stations_plan as sp
from yizhan.demo.data import DEMO_PASSWORD

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "DemoAccount", "accounts_table"]


@dataclass(frozen=True)
class DemoAccount:
    key: str
    role_zh: str
    role_en: str
    #: What to type in the log-in form: the username (staff) or the phone number (riders).
    login: str
    name: str
    area: str
    try_zh: str
    try_en: str
    password: str = DEMO_PASSWORD

    @property
    def role_label(self) -> str:
        return f"{self.role_zh} {self.role_en}"

    @property
    def is_rider(self) -> bool:
        return self.login.isdigit()


_ACCOUNT = {a.key: a for a in data.ACCOUNTS}
_DEPARTMENT = {d.key: d for d in data.DEPARTMENTS}
_GRID_WORKER_AREA = data.AREA_NAMES[_ACCOUNT["grid_worker"].area_code]
_SHOP = next(s for s in sp.STATIONS if s.key == pp.SHOP_STATION).name
_CORNER = next((c for c in sp.build_corners().corners if c.merchant == "merchant"), None)
_REQUESTER = _ACCOUNT["community_staff"].name
_HANDLER_CASES = rp.cases_waiting(_ACCOUNT["handler"].department)
_SHOWCASE_REPORTS = sum(
    1 + sum(d.reporter == data.SHOWCASE_RIDER.key for d in r.duplicates)
    if r.reporter == data.SHOWCASE_RIDER.key
    else sum(d.reporter == data.SHOWCASE_RIDER.key for d in r.duplicates)
    for r in rp.build_reports_plan().reports
)


def _staff(key: str, role_zh: str, role_en: str, try_zh: str, try_en: str, area: str = ""):
    spec = _ACCOUNT[key]
    if not spec.showcase:
        raise ValueError(f"{key} is not a showcase account: it has no demo password")
    return DemoAccount(
        key=key,
        role_zh=role_zh,
        role_en=role_en,
        login=spec.username,
        name=spec.name,
        area=area or data.AREA_NAMES[spec.area_code],
        try_zh=try_zh,
        try_en=try_en,
    )


def _rider(fixed: data.FixedRider, role_zh: str, role_en: str, try_zh: str, try_en: str):
    return DemoAccount(
        key=fixed.key,
        role_zh=role_zh,
        role_en=role_en,
        login=fixed.phone,
        name=fixed.name,
        area=data.AREA_NAMES[fixed.community],
        try_zh=try_zh,
        try_en=try_en,
    )


DEMO_ACCOUNTS: list[DemoAccount] = [
    _staff(
        "district_admin",
        "区委社会工作部",
        "District admin",
        "看全区：两个街道的小哥、岗位、服务队和积分",
        "See the whole district: both streets' riders, posts, teams and points",
    ),
    _staff(
        "street_admin",
        "街道管理员",
        "Street admin",
        f"看清远街道三个社区和清远骑士志愿服务队；审批{_REQUESTER}提交的 {pp.PENDING.points} 分"
        f"大额奖励；管理积分规则、积分超市和「{pp.WINDOW_NAME}」；随手拍的分类、派遣部门，"
        "看超期案件和全街道的随手拍地图；审批“优秀流动网格员”提名，跟进联席会议决定",
        f"Qingyuan street's three communities and its 清远骑士 team; approve the "
        f"{pp.PENDING.points}-point award {_REQUESTER} asked for; earning rules, the points shop "
        f"and the window 「{pp.WINDOW_NAME}」; report categories and their departments, overdue "
        "cases and the street's map of reports; decide the 优秀流动网格员 nominations and "
        "follow up the joint meeting's decisions",
    ),
    _staff(
        "community_staff",
        "社区工作者",
        "Community staff",
        f"审核待报到的小哥，审批岗位认领，管理爱心骑手队；给小哥奖励积分（超过 "
        f"{pp.APPROVAL_THRESHOLD} 分需另一位工作人员审批）；在{_SHOP}凭取货码发放奖品；"
        "随手拍：受理待分拣的上报（有一条是同一张照片重复上报）、派遣、核查、合并重复；"
        "值班中，一老一小告警先到你这里",
        f"Verify pending riders, approve post claims, run the 爱心骑手队; award points (above "
        f"{pp.APPROVAL_THRESHOLD} another staff member approves); hand out rewards at {_SHOP} "
        "against the rider's pickup code; reports: triage the new ones (one is the same photo "
        "sent again), dispatch, verify on site, merge duplicates; on duty, so urgent 一老一小 "
        "alerts come to you first",
    ),
    _staff(
        "grid_worker",
        "网格员",
        "Grid worker",
        f"只看{_GRID_WORKER_AREA}里的小哥和他们的积分，核查本网格的随手拍",
        f"Sees only the riders placed in {_GRID_WORKER_AREA}, and their points; checks the "
        "grid's reports on site",
        area=f"{data.AREA_NAMES[data.QYXJ]} {_GRID_WORKER_AREA}",
    ),
    _staff(
        "handler",
        "职能部门",
        "Department handler",
        f"只看派给执法队的案件：{_HANDLER_CASES} 件待处置，有的已超期；处置后上传照片",
        f"Sees only the cases sent to the department: {_HANDLER_CASES} to handle, some overdue; "
        "report one handled with an after photo",
        area=_DEPARTMENT[_ACCOUNT["handler"].department].name,
    ),
    _staff(
        "merchant",
        "爱心商户",
        "Caring merchant",
        (
            f"在手机上打开 /merchant/，维护{_CORNER.name}的服务、营业时间和营业状态"
            if _CORNER
            else "在手机上打开 /merchant/，维护店里爱心角的服务、营业时间和状态"
        ),
        (
            f"Keeps its caring corner ({_CORNER.name}) up to date on /merchant/ from a phone: "
            "services, opening hours and status"
            if _CORNER
            else "Keeps its caring corner up to date on /merchant/ from a phone"
        ),
    ),
    _staff(
        "volunteer",
        "志愿者",
        "Volunteer",
        "认领微心愿墙上待认领的小哥心愿（/wishes/claim/），把已认领的心愿标记为已实现",
        "Claims a rider's micro-wish waiting on the wall (/wishes/claim/) and marks the ones "
        "already claimed as fulfilled",
    ),
    _rider(
        data.SHOWCASE_RIDER,
        "小哥",
        "Rider",
        f"清远街道今年积分第一（{pp.LEADER_POINTS} 分），看积分明细和排名；已兑换洗衣液和湿巾，"
        f"充电宝待领取（出示取货码）；流动网格员，爱心骑手队队长，助老服务员认领待审批；"
        f"随手拍了 {_SHOWCASE_REPORTS} 条，看进度和时间线，再拍一条；报名即将举行的志愿服务日"
        "（/events/），在“我的荣誉”里看“清远骑士”称号",
        f"Tops 清远街道's ranking this year ({pp.LEADER_POINTS} points): see the points and the "
        "shop; picked up 洗衣液 and 湿巾, has a 充电宝 to pick up (show the pickup code); holds a "
        f"post, leads the 爱心骑手队, has a claim awaiting approval; filed {_SHOWCASE_REPORTS} "
        "reports: follow them on their timelines, or file another; sign up for the coming "
        "volunteer day (/events/) and see the 清远骑士 title under my honours",
    ),
    _rider(
        data.SHOWCASE_PENDING,
        "待审核小哥",
        "Pending rider",
        "刚到社区报到，等社区工作者审核",
        "Just registered; waiting for community staff to verify",
    ),
]


# --- the table the command prints ------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def accounts_table(accounts: list[DemoAccount] | None = None) -> str:
    """The showcase accounts as a plain-text table (CJK characters count two columns)."""
    accounts = DEMO_ACCOUNTS if accounts is None else accounts
    header = ["角色 Role", "登录 Log-in", "密码 Password", "姓名 Name", "区域 Area"]
    rows = [[a.role_label, a.login, a.password, a.name, a.area] for a in accounts]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(cell, w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    role_width = max(_width(a.role_zh) for a in accounts)
    tries = [
        f"  {_pad(a.role_zh, role_width)}  {a.try_zh}\n  {' ' * role_width}  {a.try_en}"
        for a in accounts
    ]
    return "\n".join(
        [
            line(header),
            rule,
            *(line(row) for row in rows),
            "",
            "可以试试 What to try:",
            *tries,
            "",
            "工作人员用用户名登录，小哥用手机号登录。",
            "Staff log in with their username, riders with their phone number.",
        ]
    )
